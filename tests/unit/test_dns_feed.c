/* test_dns_feed.c - the indicator feed's policy (src/dns/dnsd_feedzone.c): answer
 * parsing, and base + overlay + tombs against a brute-force oracle. The oracle keeps
 * the live rules as text and decides by the documented semantics (exact name, then
 * the most specific wildcard name; then the longest address prefix, smallest network)
 * with plain string and bit comparisons - no keys, zones or hashes. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "dns/dns_msg.h"
#include "dns/dnsd_feedzone.h"
#include "testlib.h"
#include "common/banned.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse(const char *json, struct cw_feed_msg *m)
{
    char err[200];
    int rc = cw_feed_parse(json, strlen(json), m, err, sizeof(err));
    if (rc)
        fprintf(stderr, "parse: %s\n", err);
    return rc;
}

/* Evaluate a name (text) and/or one address (text) against a snapshot; returns
 * the matched indicator ("-" for none) in out. */
static const char *lookup(const struct cw_feed_snap *s, const char *name, const char *ip,
                          char *out, size_t cap)
{
    uint8_t w[CW_DNS_NAME_MAX];
    size_t wl = 0;
    struct cw_rpz_addr a;
    memset(&a, 0, sizeof(a));
    struct cw_rpz_query q = {0};
    if (name) {
        if (cw_dns_name_from_text(name, strlen(name), w, &wl))
            return "bad name";
        cw_dns_name_lower(w, wl);
        q.qname = w;
        q.qname_len = wl;
    }
    if (ip) {
        a.family = strchr(ip, ':') ? 6 : 4;
        inet_pton(a.family == 4 ? AF_INET : AF_INET6, ip, a.addr);
        q.answer_ips = &a;
        q.n_answer_ips = 1;
    }
    struct cw_rpz_match m;
    if (!cw_feed_snap_evaluate(s, &q, &m))
        snprintf(out, cap, "-");
    else
        snprintf(out, cap, "%.100s/%s", m.rule, cw_rpz_action_name(m.action));
    return out;
}

static void test_parse(void)
{
    struct cw_feed_msg m;
    const char *doc =
        "{\"zone\":\"crosswatch-indicators\",\"serial\":7,\"full\":true,\"rules\":["
        "{\"op\":\"add\",\"trigger\":\"qname\",\"name\":\"Evil.Example\",\"wildcard\":true,"
        "\"action\":\"nxdomain\",\"indicator\":\"ioc:123\"},"
        "{\"op\":\"add\",\"trigger\":\"ip\",\"name\":\"192.0.2.77/24\",\"action\":\"nxdomain\","
        "\"indicator\":\"ioc:124\"},"
        "{\"op\":\"add\",\"trigger\":\"qname\",\"name\":\"x.test\",\"action\":\"cname:a.b\"},"
        "{\"op\":\"add\",\"trigger\":\"ip\",\"name\":\"192.0.2.0/0\"},"
        "{\"op\":\"zap\",\"trigger\":\"qname\",\"name\":\"y.test\"},"
        "{\"op\":\"add\",\"trigger\":\"qname\",\"name\":\"host.example\",\"indicator\":\"a b\"},"
        "{\"op\":\"add\",\"trigger\":\"nsdname\",\"name\":\"ns.example\"},"
        "{\"op\":\"add\",\"trigger\":\"qname\",\"name\":\"Host.Example.\",\"wildcard\":false,"
        "\"indicator\":\"ioc:125\"}]}";
    CHECK_EQ_INT(parse(doc, &m), 0);
    CHECK_EQ_INT(m.serial, 7);
    CHECK(m.full);
    CHECK_EQ_STR(m.zone, "crosswatch-indicators");
    CHECK_EQ_INT(m.n, 3);
    CHECK_EQ_INT(m.bad, 5);
    CHECK_EQ_STR(m.bad_reason, "rule 2: unsupported action");
    struct cw_feed_state *st = cw_feed_state_new(NULL, 0);
    CHECK_EQ_INT(cw_feed_state_apply(st, &m), 0);
    cw_feed_msg_release(&m);
    struct cw_feed_snap *s = cw_feed_state_snapshot(st);
    char o[200];
    CHECK_EQ_STR(lookup(s, "evil.example", NULL, o, sizeof(o)), "ioc:123/nxdomain");
    CHECK_EQ_STR(lookup(s, "a.b.EVIL.example", NULL, o, sizeof(o)), "ioc:123/nxdomain");
    CHECK_EQ_STR(lookup(s, "notevil.example", NULL, o, sizeof(o)), "-");
    CHECK_EQ_STR(lookup(s, "host.example", NULL, o, sizeof(o)), "ioc:125/nxdomain");
    CHECK_EQ_STR(lookup(s, "a.host.example", NULL, o, sizeof(o)), "-");
    CHECK_EQ_STR(lookup(s, "ok.test", "192.0.2.200", o, sizeof(o)), "ioc:124/nxdomain");
    CHECK_EQ_STR(lookup(s, "ok.test", "192.0.3.1", o, sizeof(o)), "-");
    CHECK_EQ_INT(cw_feed_snap_rules(s), 3);
    CHECK_EQ_INT(cw_feed_snap_ip_rules(s), 1);
    cw_feed_snap_unref(s);
    cw_feed_state_free(st);

    static const struct {
        const char *doc, *err;
    } bad[] = {
        {"", "invalid JSON"},
        {"[]", "no \"serial\" (a number >= 0)"},
        {"{\"serial\":-1,\"rules\":[]}", "no \"serial\" (a number >= 0)"},
        {"{\"serial\":1}", "no \"rules\" array"},
        {"{\"serial\":1,\"rules\":{}}", "no \"rules\" array"},
        {"{\"serial\":1,\"rules\":[],\"full\":1}", "\"full\" is not a boolean"},
        {"{\"serial\":1,\"rules\":[],\"since\":\"x\"}", "\"since\" is not a number >= 0"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char err[200] = "";
        CHECK_EQ_INT(cw_feed_parse(bad[i].doc, strlen(bad[i].doc), &m, err, sizeof(err)), -1);
        cw_feed_msg_release(&m);
        if (strncmp(err, bad[i].err, strlen(bad[i].err)) != 0)
            fprintf(stderr, "doc %zu: got '%s'\n", i, err);
        CHECK(strncmp(err, bad[i].err, strlen(bad[i].err)) == 0);
    }
}

/* -- the oracle ------------------------------------------------------------------- */

#define NNAMES 40
#define NNETS 24

struct orule {
    bool live;
    char tag[32];
    int action; /* enum cw_rpz_action */
};

static char names[NNAMES][64];
static char nets[NNETS][64];  /* "a.b.c.d/p" or "v6/p" */
static struct orule oq[NNAMES][2]; /* [name][wildcard] */
static struct orule oi[NNETS];

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static void make_universe(void)
{
    static const char *const lab[] = {"a", "b", "cc"};
    size_t k = 0;
    snprintf(names[k++], 64, "t");
    snprintf(names[k++], 64, "u");
    for (int i = 0; i < 3; i++)
        snprintf(names[k++], 64, "%s.t", lab[i]);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            snprintf(names[k++], 64, "%s.%s.t", lab[i], lab[j]);
    while (k < NNAMES) {
        snprintf(names[k], 64, "%s.%s.%s.%s", lab[rnd(3)], lab[rnd(3)], lab[rnd(3)],
                 rnd(2) ? "t" : "u");
        bool dup = false;
        for (size_t i = 0; i < k; i++)
            dup |= strcmp(names[i], names[k]) == 0;
        if (!dup)
            k++;
    }
    static const char *const n4[] = {"10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.3/32",
                                     "10.1.2.128/25", "10.2.0.0/16", "10.1.3.0/24",
                                     "10.128.0.0/9", "192.0.2.0/24", "192.0.2.1/32",
                                     "192.0.2.0/28", "172.16.0.0/12"};
    static const char *const n6[] = {"2001:db8::/32", "2001:db8:1::/48", "2001:db8:1::1/128",
                                     "2001:db8:1:2::/64", "2001:db8:2::/48", "fd00::/8",
                                     "2001:db8::/33", "2001:db8:8000::/33", "fd00:1::/32",
                                     "2001:db8:1::/64", "2001:db8:1::/49", "2001:db8:1:8000::/49"};
    for (size_t i = 0; i < 12; i++) {
        snprintf(nets[i], 64, "%s", n4[i]);
        snprintf(nets[12 + i], 64, "%s", n6[i]);
    }
}

/* name is equal to or below suffix (text, lower-case, no trailing dot) */
static bool below(const char *name, const char *suffix)
{
    size_t n = strlen(name), s = strlen(suffix);
    if (n == s)
        return strcmp(name, suffix) == 0;
    return n > s && name[n - s - 1] == '.' && strcmp(name + n - s, suffix) == 0;
}

static bool in_net(const char *net, const char *ip)
{
    char host[64];
    const char *slash = strchr(net, '/');
    memcpy(host, net, (size_t)(slash - net));
    host[slash - net] = 0;
    int p = atoi(slash + 1);
    uint8_t a[16] = {0}, b[16] = {0};
    int fam = strchr(host, ':') ? AF_INET6 : AF_INET;
    if ((strchr(ip, ':') ? AF_INET6 : AF_INET) != fam)
        return false;
    inet_pton(fam, host, a);
    inet_pton(fam, ip, b);
    for (int i = 0; i < p; i++)
        if (((a[i / 8] ^ b[i / 8]) >> (7 - i % 8)) & 1)
            return false;
    return true;
}

static void net_bytes(const char *net, uint8_t out[16])
{
    char host[64];
    const char *slash = strchr(net, '/');
    memcpy(host, net, (size_t)(slash - net));
    host[slash - net] = 0;
    memset(out, 0, 16);
    inet_pton(strchr(host, ':') ? AF_INET6 : AF_INET, host, out);
    int p = atoi(slash + 1);
    for (int i = p; i < 128; i++)
        out[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
}

static const char *oracle(const char *name, const char *ip, char *out, size_t cap)
{
    snprintf(out, cap, "-");
    int best = -1, bw = 0;
    size_t best_len = 0;
    for (int i = 0; i < NNAMES; i++) {
        if (oq[i][0].live && strcmp(names[i], name) == 0) {
            best = i;
            bw = 0;
            break;
        }
        if (oq[i][1].live && below(name, names[i]) && strlen(names[i]) >= best_len) {
            best = i;
            bw = 1;
            best_len = strlen(names[i]);
        }
    }
    if (best >= 0) {
        snprintf(out, cap, "%s/%s", oq[best][bw].tag, cw_rpz_action_name(oq[best][bw].action));
        return out;
    }
    int bn = -1, bp = -1;
    uint8_t bb[16];
    for (int i = 0; ip && i < NNETS; i++) {
        if (!oi[i].live || !in_net(nets[i], ip))
            continue;
        int p = atoi(strchr(nets[i], '/') + 1);
        uint8_t nb[16];
        net_bytes(nets[i], nb);
        if (p > bp || (p == bp && memcmp(nb, bb, 16) < 0)) {
            bn = i;
            bp = p;
            memcpy(bb, nb, 16);
        }
    }
    if (bn >= 0)
        snprintf(out, cap, "%s/%s", oi[bn].tag, cw_rpz_action_name(oi[bn].action));
    return out;
}

static const char *const acts[] = {"nxdomain", "nodata", "drop"};
static const int actv[] = {CW_RPZ_ACT_NXDOMAIN, CW_RPZ_ACT_NODATA, CW_RPZ_ACT_DROP};

/* A random change as JSON; the oracle follows it. */
static void random_rule(struct cw_buf *b, unsigned serial, bool allow_del)
{
    bool del = allow_del && rnd(3) == 0;
    char tag[32];
    snprintf(tag, sizeof(tag), "ioc:%u", serial * 100 + rnd(100));
    unsigned a = rnd(3);
    struct orule *o;
    if (rnd(3)) {
        unsigned i = rnd(NNAMES), w = rnd(2);
        cw_buf_addf(b, "{\"op\":\"%s\",\"trigger\":\"qname\",\"name\":\"%s\",\"wildcard\":%s,"
                       "\"action\":\"%s\",\"indicator\":\"%s\"}",
                    del ? "del" : "add", names[i], w ? "true" : "false", acts[a], tag);
        o = &oq[i][w];
    } else {
        unsigned i = rnd(NNETS);
        cw_buf_addf(b, "{\"op\":\"%s\",\"trigger\":\"ip\",\"name\":\"%s\",\"action\":\"%s\","
                       "\"indicator\":\"%s\"}",
                    del ? "del" : "add", nets[i], acts[a], tag);
        o = &oi[i];
    }
    o->live = !del;
    snprintf(o->tag, sizeof(o->tag), "%s", tag);
    o->action = actv[a];
}

static size_t oracle_rules(void)
{
    size_t n = 0;
    for (int i = 0; i < NNAMES; i++)
        n += oq[i][0].live + oq[i][1].live;
    for (int i = 0; i < NNETS; i++)
        n += oi[i].live;
    return n;
}

static void compare(const struct cw_feed_snap *s, const char *when, unsigned *mismatches)
{
    static const char *const extra[] = {"zz.t", "x.a.b.cc.t", "a.a.a.a.a.t", "v", "t.u"};
    static const char *const ips[] = {"10.1.2.3", "10.1.2.200", "10.1.3.9", "10.200.0.1",
                                      "10.2.9.9", "192.0.2.1", "192.0.2.5", "192.0.2.99",
                                      "172.20.1.1", "11.0.0.1", "2001:db8:1::1",
                                      "2001:db8:1:2::5", "2001:db8:1:ffff::1", "2001:db8:9::1",
                                      "2001:db8:8000::1", "fd00:1::9", "fd12::1", "2001:dead::1"};
    char a[128], b[128], q[96];
    for (int i = 0; i < NNAMES + 5 + NNAMES; i++) {
        const char *name = i < NNAMES ? names[i] : i < NNAMES + 5 ? extra[i - NNAMES] : q;
        if (i >= NNAMES + 5)
            snprintf(q, sizeof(q), "x.%s", names[i - NNAMES - 5]);
        const char *ip = ips[rnd(sizeof(ips) / sizeof(ips[0]))];
        lookup(s, name, ip, a, sizeof(a));
        oracle(name, ip, b, sizeof(b));
        if (strcmp(a, b)) {
            if ((*mismatches)++ < 10)
                fprintf(stderr, "%s: %s %s: feed %s, oracle %s\n", when, name, ip, a, b);
        }
    }
    CHECK_EQ_INT(cw_feed_snap_rules(s), oracle_rules());
}

static void test_oracle(void)
{
    make_universe();
    memset(oq, 0, sizeof(oq));
    memset(oi, 0, sizeof(oi));
    struct cw_feed_state *st = cw_feed_state_new(NULL, 7); /* merges often */
    unsigned mismatches = 0, merges = 0, fulls = 0;
    struct cw_buf b;
    cw_buf_init(&b);
    for (unsigned serial = 1; serial <= 3000; serial++) {
        cw_buf_clear(&b);
        bool full = serial == 1 || rnd(150) == 0;
        if (full) {
            memset(oq, 0, sizeof(oq));
            memset(oi, 0, sizeof(oi));
            fulls++;
        }
        cw_buf_addf(&b, "{\"serial\":%u,\"full\":%s,\"rules\":[", serial, full ? "true" : "false");
        unsigned n = full ? 5 + rnd(30) : 1 + rnd(4);
        for (unsigned i = 0; i < n; i++) {
            if (i)
                cw_buf_addc(&b, ',');
            random_rule(&b, serial, !full);
        }
        cw_buf_adds(&b, "]}");
        struct cw_feed_msg m;
        char err[200];
        if (cw_feed_parse(b.data, b.len, &m, err, sizeof(err)) || m.bad) {
            CHECK(!"a generated answer parses");
            cw_feed_msg_release(&m);
            break;
        }
        CHECK_EQ_INT(cw_feed_state_apply(st, &m), 0);
        cw_feed_msg_release(&m);
        struct cw_feed_snap *s = cw_feed_state_snapshot(st);
        compare(s, "after apply", &mismatches);
        cw_feed_snap_unref(s);
        if (cw_feed_state_should_merge(st)) {
            CHECK_EQ_INT(cw_feed_state_merge(st), 0);
            CHECK_EQ_INT(cw_feed_state_pending(st), 0);
            merges++;
            s = cw_feed_state_snapshot(st);
            compare(s, "after merge", &mismatches);
            cw_feed_snap_unref(s);
        }
        if (serial % 97 == 0) { /* the saved form gives the same policy */
            struct cw_buf saved;
            cw_buf_init(&saved);
            CHECK_EQ_INT(cw_feed_state_write(st, &saved), 0);
            struct cw_feed_state *st2 = cw_feed_state_new(NULL, 0);
            CHECK_EQ_INT(cw_feed_parse(saved.data, saved.len, &m, err, sizeof(err)), 0);
            CHECK_EQ_INT(m.bad, 0);
            CHECK(m.full);
            CHECK_EQ_INT(m.serial, serial);
            CHECK_EQ_INT(cw_feed_state_apply(st2, &m), 0);
            cw_feed_msg_release(&m);
            s = cw_feed_state_snapshot(st2);
            compare(s, "after reload", &mismatches);
            cw_feed_snap_unref(s);
            cw_feed_state_free(st2);
            cw_buf_release(&saved);
        }
    }
    cw_buf_release(&b);
    printf("oracle: 3000 answers (%u full), %u merges, %u mismatches\n", fulls, merges, mismatches);
    CHECK_EQ_INT(mismatches, 0);
    CHECK(merges > 10);
    cw_feed_state_free(st);
}

/* Cost of one published change on a big base: overlay vs rebuilding the zone. */
static void test_scale(void)
{
    /* CW_FEED_SCALE=1000000 for the docs/performance.md figure (default 200k: ASan) */
    const char *env = getenv("CW_FEED_SCALE");
    const unsigned N = env && atoi(env) > 0 ? (unsigned)atoi(env) : 200000;
    struct cw_buf b;
    cw_buf_init(&b);
    cw_buf_adds(&b, "{\"serial\":1,\"full\":true,\"rules\":[");
    for (unsigned i = 0; i < N; i++)
        cw_buf_addf(&b, "%s{\"op\":\"add\",\"trigger\":\"qname\",\"name\":\"h%u.m%u.example\","
                        "\"wildcard\":%s,\"action\":\"nxdomain\",\"indicator\":\"ioc:%u\"}",
                    i ? "," : "", i, i % 1000, i % 2 ? "true" : "false", i);
    cw_buf_adds(&b, "]}");
    struct cw_feed_msg m;
    char err[200];
    double t0 = now_s();
    CHECK_EQ_INT(cw_feed_parse(b.data, b.len, &m, err, sizeof(err)), 0);
    double t1 = now_s();
    struct cw_feed_state *st = cw_feed_state_new(NULL, 0);
    CHECK_EQ_INT(cw_feed_state_apply(st, &m), 0);
    double t2 = now_s();
    cw_feed_msg_release(&m);
    /* 100 single-rule changes, each published as a snapshot */
    double worst = 0, total = 0;
    for (unsigned k = 0; k < 100; k++) {
        cw_buf_clear(&b);
        cw_buf_addf(&b, "{\"serial\":%u,\"full\":false,\"rules\":[{\"op\":\"%s\",\"trigger\":"
                        "\"qname\",\"name\":\"h%u.m%u.example\",\"wildcard\":%s,\"indicator\":"
                        "\"ioc:new%u\"}]}",
                    k + 2, k % 3 == 0 ? "del" : "add", k * 7, (k * 7) % 1000,
                    (k * 7) % 2 ? "true" : "false", k);
        double a = now_s();
        CHECK_EQ_INT(cw_feed_parse(b.data, b.len, &m, err, sizeof(err)), 0);
        CHECK_EQ_INT(cw_feed_state_apply(st, &m), 0);
        cw_feed_msg_release(&m);
        double d = now_s() - a;
        total += d;
        if (d > worst)
            worst = d;
    }
    double t3 = now_s();
    CHECK_EQ_INT(cw_feed_state_merge(st), 0);
    double t4 = now_s();
    struct cw_feed_snap *s = cw_feed_state_snapshot(st);
    char o[200];
    CHECK_EQ_STR(lookup(s, "h7.m7.example", NULL, o, sizeof(o)), "ioc:new1/nxdomain");
    CHECK_EQ_STR(lookup(s, "x.h7.m7.example", NULL, o, sizeof(o)), "ioc:new1/nxdomain");
    CHECK_EQ_STR(lookup(s, "h0.m0.example", NULL, o, sizeof(o)), "-"); /* k=0 deleted it */
    CHECK_EQ_STR(lookup(s, "h2.m2.example", NULL, o, sizeof(o)), "ioc:2/nxdomain");
    CHECK_EQ_STR(lookup(s, "a.h3.m3.example", NULL, o, sizeof(o)), "ioc:3/nxdomain");
    cw_feed_snap_unref(s);
    printf("scale: %u rules: parse %.3f s, full build %.3f s; one change applied and "
           "published: mean %.3f ms, worst %.3f ms; merge %.3f s\n",
           N, t1 - t0, t2 - t1, total * 10, worst * 1000, t4 - t3);
    cw_feed_state_free(st);
    cw_buf_release(&b);
}

int main(void)
{
    test_parse();
    test_oracle();
    test_scale();
    return cw_test_finish("test_dns_feed");
}
