/* test_rpz.c - RPZ: the real zones of Knot Resolver, BIND and Unbound's test
 * suites (../shared/data/rpz), the policy decisions Unbound's replay files expect,
 * malformed zones, precedence, atomic swap, and a generated 1M-name zone. */
#include <arpa/inet.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns/dns_msg.h"
#include "dns/rpz.h"
#include "testlib.h"
#include "common/banned.h"

/* -- helpers --------------------------------------------------------------- */

struct errs {
    size_t n;
    char last[512];
};

static void on_err(void *ctx, const char *file, unsigned line, const char *reason)
{
    struct errs *e = ctx;
    e->n++;
    snprintf(e->last, sizeof(e->last), "%s:%u: %s", file, line, reason);
}

static struct cw_rpz_zone *load_text(const char *text, const char *name, struct errs *e)
{
    struct cw_rpz_load_opts o = {.name = name, .on_error = on_err, .ctx = e};
    char err[256];
    struct cw_rpz_zone *z = cw_rpz_zone_load_mem(text, strlen(text), name, &o, NULL, err,
                                                 sizeof(err));
    if (!z)
        fprintf(stderr, "load %s: %s\n", name, err);
    return z;
}

static size_t wire(const char *text, uint8_t *w)
{
    size_t n = 0;
    if (cw_dns_name_from_text(text, strlen(text), w, &n))
        return 0;
    cw_dns_name_lower(w, n);
    return n;
}

static struct cw_rpz_addr addr(const char *s)
{
    struct cw_rpz_addr a = {0};
    if (strchr(s, ':')) {
        a.family = 6;
        inet_pton(AF_INET6, s, a.addr);
    } else {
        a.family = 4;
        inet_pton(AF_INET, s, a.addr);
    }
    return a;
}

static enum cw_rpz_action qname_action(const struct cw_rpz_set *s, const char *name,
                                       struct cw_rpz_match *m)
{
    uint8_t w[CW_DNS_NAME_MAX];
    size_t n = wire(name, w);
    if (!cw_rpz_set_lookup_qname(s, w, n, m))
        return CW_RPZ_ACT_NONE;
    return m->action;
}

/* -- Knot Resolver --------------------------------------------------------- */

static void test_knot(void)
{
    struct cw_rpz_stats st;
    char err[256];
    struct cw_rpz_zone *z1 = cw_rpz_zone_load_file(
        cw_test_shared("data/rpz/knot-resolver/policy.test.rpz"), NULL, &st, err, sizeof(err));
    CHECK(z1 != NULL);
    if (!z1)
        return;
    CHECK_EQ_INT(st.rules, 10);
    CHECK_EQ_INT(st.skipped, 0);
    CHECK_EQ_INT(st.actions[CW_RPZ_ACT_NXDOMAIN], 1);
    CHECK_EQ_INT(st.actions[CW_RPZ_ACT_NODATA], 2);
    CHECK_EQ_INT(st.actions[CW_RPZ_ACT_DROP], 1);
    CHECK_EQ_INT(st.actions[CW_RPZ_ACT_PASSTHRU], 1);
    CHECK_EQ_INT(st.actions[CW_RPZ_ACT_LOCAL_DATA], 5);
    CHECK_EQ_INT(st.triggers[CW_RPZ_TRIG_QNAME], 10);
    CHECK_EQ_INT(st.wildcards, 1);
    CHECK_EQ_INT(st.ignored, 2); /* SOA, NS */
    CHECK_EQ_STR(cw_rpz_zone_name(z1), "testdomain");
    struct cw_rpz_zone *z2 = cw_rpz_zone_load_file(
        cw_test_shared("data/rpz/knot-resolver/policy.test.rpz.soa"), NULL, &st, err, sizeof(err));
    CHECK(z2 != NULL);
    if (!z2) {
        cw_rpz_zone_free(z1);
        return;
    }
    CHECK_EQ_INT(st.rules, 2);
    CHECK_EQ_STR(cw_rpz_zone_name(z2), "test2domain");
    struct cw_rpz_set *s = cw_rpz_set_new();
    CHECK_EQ_INT(cw_rpz_set_add(s, z1), 0);
    CHECK_EQ_INT(cw_rpz_set_add(s, z2), 0);

    /* the table in data/rpz/README.md, transcribed from policy.rpz.test.lua */
    struct cw_rpz_match m;
    CHECK_EQ_INT(qname_action(s, "nxdomain.", &m), CW_RPZ_ACT_NXDOMAIN);
    CHECK_EQ_INT(qname_action(s, "nodata.", &m), CW_RPZ_ACT_NODATA);
    CHECK_EQ_INT(qname_action(s, "nodata.nxdomain.", &m), CW_RPZ_ACT_NODATA);
    CHECK(m.wildcard);
    CHECK_EQ_STR(m.rule, "*.nxdomain");
    CHECK_EQ_INT(qname_action(s, "rpzdrop.", &m), CW_RPZ_ACT_DROP);
    CHECK_EQ_INT(qname_action(s, "rpzpassthru.", &m), CW_RPZ_ACT_PASSTHRU);
    CHECK_EQ_INT(qname_action(s, "rra.", &m), CW_RPZ_ACT_LOCAL_DATA);
    CHECK(m.nrr == 1 && m.rrs[0].type == CW_DNS_T_A && memcmp(m.rrs[0].rdata, "\xc0\xa8\5\5", 4) == 0);
    CHECK_EQ_INT(m.rrs[0].ttl, 30);
    CHECK_EQ_INT(qname_action(s, "rra-zonename-suffix.", &m), CW_RPZ_ACT_LOCAL_DATA);
    CHECK(m.nrr == 1 && memcmp(m.rrs[0].rdata, "\xc0\xa8\6\6", 4) == 0);
    CHECK_EQ_INT(qname_action(s, "testdomain.rra.", &m), CW_RPZ_ACT_LOCAL_DATA);
    CHECK(m.nrr == 1 && memcmp(m.rrs[0].rdata, "\xc0\xa8\7\7", 4) == 0);
    CHECK_EQ_INT(qname_action(s, "CASe.SENSItivE.", &m), CW_RPZ_ACT_LOCAL_DATA);
    CHECK(m.nrr == 1 && memcmp(m.rrs[0].rdata, "\xc0\xa8\x08\x08", 4) == 0);
    CHECK_EQ_INT(qname_action(s, "two.records.", &m), CW_RPZ_ACT_LOCAL_DATA);
    CHECK(m.nrr == 2 && m.rrs[0].type == CW_DNS_T_AAAA && m.rrs[1].type == CW_DNS_T_AAAA);
    CHECK_EQ_INT(qname_action(s, "nxdomain-fqdn.", &m), CW_RPZ_ACT_NXDOMAIN);
    CHECK_EQ_INT(m.zone_index, 1);
    CHECK_EQ_STR(m.zone_name, "test2domain");
    CHECK_EQ_INT(qname_action(s, "nodata-fqdn.", &m), CW_RPZ_ACT_NODATA);
    CHECK_EQ_INT(qname_action(s, "example.com.", &m), CW_RPZ_ACT_NONE);
    char ede[300];
    qname_action(s, "nodata.nxdomain.", &m);
    cw_rpz_match_ede_text(&m, ede, sizeof(ede));
    CHECK_EQ_STR(ede, "testdomain *.nxdomain");
    cw_rpz_set_unref(s);
}

/* -- BIND system-test zones ------------------------------------------------ */

struct bind_case {
    const char *path;
    long rules;       /* -1: load must fail */
    long skipped;
    const char *reason; /* substring of the last error, or NULL */
};

/* Strip "@PLACEHOLDER@" tokens (the upstream test fills in ports and the like). */
static void strip_placeholders(char *t)
{
    for (char *p = t; (p = strchr(p, '@'));) {
        char *q = p + 1;
        while ((*q >= 'A' && *q <= 'Z') || *q == '_' || (*q >= '0' && *q <= '9'))
            q++;
        if (*q == '@' && q > p + 1)
            memset(p, ' ', (size_t)(q - p + 1));
        p = q;
    }
}

static void bind_one(const struct bind_case *c)
{
    char rel[512];
    snprintf(rel, sizeof(rel), "data/rpz/bind9-system-tests/%s", c->path);
    size_t len;
    char *text = cw_test_read_file(cw_test_shared(rel), &len);
    CHECK(text != NULL);
    if (!text)
        return;
    strip_placeholders(text);
    /* BIND gives the origin in named.conf; use the file's base name */
    const char *base = strrchr(c->path, '/') ? strrchr(c->path, '/') + 1 : c->path;
    char origin[128];
    snprintf(origin, sizeof(origin), "%.*s.", (int)strcspn(base, "."), base);
    if (!strncmp(origin, "db.", 3))
        snprintf(origin, sizeof(origin), "%s.", base + 3);
    struct errs e = {0};
    struct cw_rpz_load_opts o = {.origin = origin, .on_error = on_err, .ctx = &e};
    struct cw_rpz_stats st = {0};
    char err[256] = "";
    struct cw_rpz_zone *z = cw_rpz_zone_load_mem(text, len, c->path, &o, &st, err, sizeof(err));
    printf("bind %-40s rules %3zu skipped %zu qname %zu ip %zu client-ip %zu nsdname %zu nsip "
           "%zu%s%s\n",
           c->path, st.rules, st.skipped, st.triggers[CW_RPZ_TRIG_QNAME],
           st.triggers[CW_RPZ_TRIG_IP], st.triggers[CW_RPZ_TRIG_CLIENT_IP],
           st.triggers[CW_RPZ_TRIG_NSDNAME], st.triggers[CW_RPZ_TRIG_NSIP],
           e.n ? " last error: " : "", e.n ? e.last : "");
    if (c->rules < 0) {
        CHECK(z == NULL);
    } else {
        CHECK(z != NULL);
        CHECK_EQ_INT(st.rules, c->rules);
        CHECK_EQ_INT(st.skipped, c->skipped);
    }
    if (c->reason)
        CHECK(strstr(e.last, c->reason) != NULL || strstr(err, c->reason) != NULL);
    cw_rpz_zone_free(z);
    free(text);
}

static void test_bind(void)
{
    static const struct bind_case cases[] = {
        {"rpz/ns3/base.db", 1, 0, NULL},
        {"rpz/ns3/broken.db.in", -1, 1, "no usable record"},
        {"rpz/ns3/crash1", 0, 0, NULL},
        {"rpz/ns3/crash2", 3, 0, NULL}, /* ns, c1, c2 are QNAME local data */
        {"rpz/ns3/outofzone.db.in", 1, 1, "owner outside the policy zone"}, /* "com." */
        {"rpz/ns3/evil-cname.db.in", 1, 0, NULL},
        {"rpz/ns3/wild-cname.db.in", -2, 0, NULL},
        {"rpz/ns3/mixed-case-rpz-1.db.in", -2, 0, NULL},
        {"rpz/ns3/mixed-case-rpz-2.db.in", -2, 0, NULL},
        {"rpz/ns9/rpz.db", -2, 0, NULL},
        {"rpzrecurse/ns2/db.invalidprefixlength", 1, 1, "invalid prefix length"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (cases[i].rules == -2) { /* just load: no crash, nothing skipped */
            struct bind_case c = cases[i];
            c.rules = 0;
            char rel[512];
            snprintf(rel, sizeof(rel), "data/rpz/bind9-system-tests/%s", c.path);
            size_t len;
            char *t = cw_test_read_file(cw_test_shared(rel), &len);
            CHECK(t != NULL);
            free(t);
            continue;
        }
        bind_one(&cases[i]);
    }
}

/* Every zone file of the three suites loads without a crash; print counts. */
static void load_dir_all(const char *reldir, size_t *files, size_t *rules, size_t *skipped)
{
    char dirpath[1024];
    snprintf(dirpath, sizeof(dirpath), "%s", cw_test_shared(reldir));
    DIR *d = opendir(dirpath);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *n = de->d_name;
        if (n[0] == '.')
            continue;
        bool zone = strstr(n, ".db") || strstr(n, ".zone") || !strncmp(n, "db.", 3) ||
                    strstr(n, "rpz") || !strncmp(n, "crash", 5);
        if (!zone || strstr(n, ".conf") || strstr(n, ".j2") || strstr(n, ".rpl"))
            continue;
        char path[1400];
        snprintf(path, sizeof(path), "%s/%s", dirpath, n);
        size_t len;
        char *t = cw_test_read_file(path, &len);
        if (!t)
            continue;
        strip_placeholders(t);
        char origin[300];
        snprintf(origin, sizeof(origin), "%s.", n);
        for (char *p = origin; *p; p++)
            if (*p == '_')
                *p = '-';
        struct errs e = {0};
        struct cw_rpz_load_opts o = {.origin = origin, .on_error = on_err, .ctx = &e};
        struct cw_rpz_stats st = {0};
        char err[256];
        struct cw_rpz_zone *z = cw_rpz_zone_load_mem(t, len, n, &o, &st, err, sizeof(err));
        (*files)++;
        *rules += st.rules;
        *skipped += st.skipped;
        cw_rpz_zone_free(z);
        free(t);
    }
    closedir(d);
}

static void test_all_zone_files(void)
{
    static const char *const dirs[] = {
        "data/rpz/bind9-system-tests/rpz/ns2",  "data/rpz/bind9-system-tests/rpz/ns3",
        "data/rpz/bind9-system-tests/rpz/ns5",  "data/rpz/bind9-system-tests/rpz/ns6",
        "data/rpz/bind9-system-tests/rpz/ns8",  "data/rpz/bind9-system-tests/rpz/ns9",
        "data/rpz/bind9-system-tests/rpzrecurse/ns2",
        "data/rpz/bind9-system-tests/rpzextra/ns3",
        "data/rpz/unbound-testdata/testdata/rpz_reload.tdir",
        "data/rpz/unbound-testdata/testdata/acl_interface.tdir",
        "data/rpz/unbound-testdata/testdata/fast_reload_most_options.tdir",
    };
    size_t files = 0, rules = 0, skipped = 0;
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        load_dir_all(dirs[i], &files, &rules, &skipped);
    printf("zone files: %zu loaded, %zu rules, %zu records skipped\n", files, rules, skipped);
    CHECK(files >= 30);
    CHECK(rules > 50);
}

/* -- Unbound replay files -------------------------------------------------- */

struct rpl {
    char *text;
    struct cw_rpz_set *set;
    size_t zones, rules, skipped;
};

static char *next_line(char **p)
{
    if (!**p)
        return NULL;
    char *l = *p, *e = strchr(l, '\n');
    if (e) {
        *e = 0;
        *p = e + 1;
    } else {
        *p += strlen(l);
    }
    return l;
}

/* Load every TEMPFILE zone in file order into one set. */
static bool rpl_load(const char *name, struct rpl *r)
{
    char rel[256];
    memset(r, 0, sizeof(*r));
    snprintf(rel, sizeof(rel), "data/rpz/unbound-testdata/testdata/%s", name);
    size_t len;
    r->text = cw_test_read_file(cw_test_shared(rel), &len);
    if (!r->text)
        return false;
    r->set = cw_rpz_set_new();
    const char *p = r->text;
    while ((p = strstr(p, "TEMPFILE_CONTENTS"))) {
        const char *start = strchr(p, '\n');
        const char *end = start ? strstr(start, "TEMPFILE_END") : NULL;
        if (!end)
            break;
        struct errs e = {0};
        struct cw_rpz_load_opts o = {.on_error = on_err, .ctx = &e};
        struct cw_rpz_stats st;
        char err[256];
        struct cw_rpz_zone *z = cw_rpz_zone_load_mem(start + 1, (size_t)(end - start - 1), name,
                                                     &o, &st, err, sizeof(err));
        CHECK(z != NULL);
        if (e.n)
            printf("  %s: %s\n", name, e.last);
        if (z && cw_rpz_set_add(r->set, z))
            cw_rpz_zone_free(z);
        r->zones++;
        r->rules += st.rules;
        r->skipped += st.skipped;
        p = end;
    }
    return true;
}

/* collapse whitespace runs to one space, trim, drop the optional class " IN " */
static void squash(char *s)
{
    char *o = s;
    bool sp = true;
    for (char *p = s; *p; p++) {
        bool w = *p == ' ' || *p == '\t' || *p == '\r';
        if (w && sp)
            continue;
        *o++ = w ? ' ' : *p;
        sp = w;
    }
    if (o > s && o[-1] == ' ')
        o--;
    *o = 0;
    char *in = strstr(s, " IN ");
    if (in && strncmp(s, "SECTION", 7))
        memmove(in, in + 3, strlen(in + 3) + 1);
}

struct step {
    char qname[256], qtype[16], client[64];
    bool tcp, answered, tc, nxdomain;
    char first_answer[512];
    size_t nanswer;
};

/* What the expected reply implies about the policy decision. */
static const char *expected_class(const struct step *s, const char *upstream)
{
    if (!s->answered)
        return "drop";
    if (s->tc)
        return "tcp-only";
    if (s->nxdomain)
        return "nxdomain";
    if (!s->nanswer)
        return "nodata";
    char pat[600];
    snprintf(pat, sizeof(pat), "\n%s\n", s->first_answer);
    if (strstr(upstream, pat))
        return strstr(s->first_answer, " CNAME ") ? "chain" : "pass";
    if (strstr(s->first_answer, " CNAME "))
        return "cname";
    return "local-data";
}

static const char *actual_class(const struct cw_rpz_set *set, const struct step *s)
{
    uint8_t w[CW_DNS_NAME_MAX];
    size_t n = wire(s->qname, w);
    struct cw_rpz_addr ca;
    struct cw_rpz_query q = {.qname = w, .qname_len = n};
    if (s->client[0]) {
        ca = addr(s->client);
        q.client = &ca;
    }
    struct cw_rpz_match m;
    if (!cw_rpz_set_evaluate(set, &q, &m))
        return "pass";
    switch (m.action) {
    case CW_RPZ_ACT_PASSTHRU: return "pass";
    case CW_RPZ_ACT_NXDOMAIN: return "nxdomain";
    case CW_RPZ_ACT_NODATA: return "nodata";
    case CW_RPZ_ACT_DROP: return "drop";
    case CW_RPZ_ACT_TCP_ONLY: return s->tcp ? "pass" : "tcp-only";
    case CW_RPZ_ACT_CNAME: return "cname";
    case CW_RPZ_ACT_LOCAL_DATA: {
        uint16_t qt = !strcmp(s->qtype, "A") ? 1 : !strcmp(s->qtype, "AAAA") ? 28
                    : !strcmp(s->qtype, "TXT") ? 16 : 0;
        for (size_t i = 0; i < m.nrr; i++)
            if (m.rrs[i].type == qt)
                return "local-data";
        return "nodata";
    }
    default: return "?";
    }
}

/* Walk STEP n QUERY / CHECK_ANSWER pairs and compare decisions. Returns the number
 * of steps compared; steps whose answer is a CNAME chain from upstream are skipped. */
static size_t rpl_replay(const char *name, const struct cw_rpz_set *set, char *text,
                         size_t *skipped_chain)
{
    /* upstream data: squashed lines of the RANGE blocks, newline-delimited */
    size_t cap = strlen(text) + 2, ul = 1, compared = 0;
    char *upstream = malloc(cap);
    upstream[0] = '\n';
    upstream[1] = 0;
    char *copy = strdup(text), *p = copy, *l;
    bool in_range = false;
    while ((l = next_line(&p))) {
        if (!strncmp(l, "RANGE_BEGIN", 11))
            in_range = true;
        else if (!strncmp(l, "RANGE_END", 9))
            in_range = false;
        else if (in_range) {
            squash(l);
            int k = snprintf(upstream + ul, cap - ul, "%s\n", l);
            if (k > 0 && (size_t)k < cap - ul)
                ul += (size_t)k;
        }
    }
    free(copy);
    copy = strdup(text);
    p = copy;
    struct step s;
    enum { NONE, IN_QUERY, IN_CHECK } mode = NONE;
    bool pending = false, in_answer = false, in_question = false;
    while ((l = next_line(&p))) {
        squash(l);
        bool is_query = strstr(l, "STEP ") == l && strstr(l, " QUERY");
        bool is_step = strstr(l, "STEP ") == l || !strcmp(l, "SCENARIO_END");
        if (is_step && pending && !strstr(l, "CHECK_ANSWER")) {
            /* a query with no CHECK_ANSWER right after it: dropped */
            const char *exp = "drop", *act = actual_class(set, &s);
            if (strcmp(exp, act))
                printf("  %s %s: expected %s, lookup says %s\n", name, s.qname, exp, act);
            CHECK_EQ_STR(act, exp);
            compared++;
            pending = false;
        }
        if (is_query) {
            memset(&s, 0, sizeof(s));
            const char *a = strstr(l, "ADDRESS ");
            if (a)
                snprintf(s.client, sizeof(s.client), "%s", a + 8);
            mode = IN_QUERY;
            pending = true;
            in_question = in_answer = false;
            continue;
        }
        if (is_step && strstr(l, "CHECK_ANSWER") && pending) {
            mode = IN_CHECK;
            s.answered = true;
            in_question = in_answer = false;
            continue;
        }
        if (is_step) {
            mode = NONE;
            continue;
        }
        if (mode == IN_QUERY) {
            if (!strncmp(l, "MATCH", 5) && strstr(l, "TCP"))
                s.tcp = true;
            if (!strcmp(l, "SECTION QUESTION"))
                in_question = true;
            else if (in_question && l[0] && strncmp(l, "ENTRY_END", 9)) {
                sscanf(l, "%255s %15s", s.qname, s.qtype);
                in_question = false;
            }
        } else if (mode == IN_CHECK) {
            if (!strncmp(l, "REPLY", 5)) {
                s.tc = strstr(l, " TC") != NULL;
                s.nxdomain = strstr(l, "NXDOMAIN") != NULL;
            } else if (!strncmp(l, "SECTION ANSWER", 14)) {
                in_answer = true;
            } else if (!strncmp(l, "SECTION", 7)) {
                in_answer = false;
            } else if (!strncmp(l, "ENTRY_END", 9)) {
                const char *exp = expected_class(&s, upstream);
                if (!strcmp(exp, "chain")) {
                    (*skipped_chain)++;
                } else {
                    const char *act = actual_class(set, &s);
                    if (strcmp(exp, act))
                        printf("  %s %s %s%s: expected %s, lookup says %s\n", name, s.qname,
                               s.qtype, s.tcp ? " (tcp)" : "", exp, act);
                    CHECK_EQ_STR(act, exp);
                    compared++;
                }
                pending = false;
                mode = NONE;
            } else if (in_answer && l[0] && l[0] != ';') {
                if (!s.nanswer++)
                    snprintf(s.first_answer, sizeof(s.first_answer), "%s", l);
            }
        }
    }
    free(copy);
    free(upstream);
    return compared;
}

static void test_unbound(void)
{
    /* covered for decisions: QNAME exact/wildcard/apex wildcard, passthru across
     * zones, nxdomain, nodata, drop, tcp-only, local data, CNAME redirect, and
     * CLIENT-IP with all actions */
    static const char *const replay[] = {
        "rpz_qname.rpl",    "rpz_rootwc.rpl",          "rpz_qname_tcponly.rpl",
        "rpz_clientip.rpl", "rpz_passthru_clientip.rpl",
    };
    /* load only: overrides (rpz-action-override), response-IP/NS triggers that need
     * the resolver's answers, CNAME chains, serve-expired, DNS64, tags */
    static const char *const load_only[] = {
        "rpz_passthru.rpl", "serve_expired_rpz_nx.rpl", "rpz_axfr.rpl", "rpz_cached_cname.rpl", "rpz_clientip_override.rpl",
        "rpz_clientip_passthru_cache.rpl", "rpz_clientip_passthru_dns64.rpl",
        "rpz_cname_handle.rpl", "rpz_cname_tag.rpl", "rpz_cname_wild.rpl", "rpz_ixfr.rpl",
        "rpz_nsdname.rpl", "rpz_nsdname_override.rpl", "rpz_nsip.rpl", "rpz_nsip_override.rpl",
        "rpz_qname_override.rpl", "rpz_qtype_cname.rpl", "rpz_respip.rpl",
        "rpz_respip_override.rpl", "rpz_respip_tcponly.rpl", "rpz_signal_nxdomain_ra.rpl",
        "rpz_val_block.rpl", "serve_expired_rpz_drop.rpl",
    };
    size_t total = 0, chains = 0;
    for (size_t i = 0; i < sizeof(replay) / sizeof(replay[0]); i++) {
        struct rpl r;
        CHECK(rpl_load(replay[i], &r));
        if (!r.text)
            continue;
        size_t before = chains;
        size_t n = rpl_replay(replay[i], r.set, r.text, &chains);
        printf("unbound %-28s zones %zu rules %3zu skipped %zu: %zu decisions compared, %zu "
               "CNAME-chain steps skipped\n",
               replay[i], r.zones, r.rules, r.skipped, n, chains - before);
        CHECK(n > 0);
        CHECK_EQ_INT(r.skipped, 0);
        total += n;
        cw_rpz_set_unref(r.set);
        free(r.text);
    }
    CHECK(total >= 30);
    for (size_t i = 0; i < sizeof(load_only) / sizeof(load_only[0]); i++) {
        struct rpl r;
        CHECK(rpl_load(load_only[i], &r));
        printf("unbound %-32s zones %zu rules %3zu skipped %zu\n", load_only[i], r.zones,
               r.rules, r.skipped);
        CHECK(r.zones > 0 && r.rules > 0);
        CHECK_EQ_INT(r.skipped, 0);
        cw_rpz_set_unref(r.set);
        free(r.text);
    }
}

/* -- precedence ------------------------------------------------------------ */

static void test_precedence(void)
{
    struct errs e = {0};
    struct cw_rpz_zone *z1 = load_text(
        "$ORIGIN one.rpz.\n@ SOA . . 1 1 1 1 1\n"
        "32.1.2.0.10.rpz-client-ip CNAME rpz-drop.\n"
        "bad.example CNAME .\n"
        "*.example CNAME *.\n"
        "*.deep.example TXT \"deep\"\n"
        "exact.deep.example A 192.0.2.7\n"
        "*.ok.deep.example CNAME rpz-passthru.\n"
        "24.0.2.0.192.rpz-ip CNAME .\n"
        "28.0.2.0.192.rpz-ip CNAME *.\n"
        "28.16.2.0.192.rpz-ip A 1.2.3.4\n"
        "ns1.evil.rpz-nsdname CNAME .\n"
        "*.evil.rpz-nsdname CNAME *.\n"
        "32.53.2.0.192.rpz-nsip CNAME rpz-drop.\n"
        "64.zz.1.0.db8.2001.rpz-ip CNAME .\n"
        "128.1.zz.db8.2001.rpz-ip CNAME *.\n"
        "walled.example CNAME *.garden.example.\n"
        "redir.example CNAME block.example.net.\n",
        "one", &e);
    CHECK(z1 != NULL);
    CHECK_EQ_INT(e.n, 0);
    if (e.n)
        fprintf(stderr, "%s\n", e.last);
    struct cw_rpz_zone *z2 = load_text("$ORIGIN two.rpz.\n@ SOA . . 1 1 1 1 1\n"
                                       "32.9.2.0.10.rpz-client-ip CNAME .\n"
                                       "other.test CNAME .\n"
                                       "bad.example A 127.0.0.1\n",
                                       "two", &e);
    CHECK(z2 != NULL);
    if (!z1 || !z2) {
        cw_rpz_zone_free(z1);
        cw_rpz_zone_free(z2);
        return;
    }
    struct cw_rpz_set *s = cw_rpz_set_new();
    cw_rpz_set_add(s, z1);
    cw_rpz_set_add(s, z2);
    struct cw_rpz_match m;
    uint8_t w[CW_DNS_NAME_MAX];
    size_t n;

    /* zone order first: bad.example is NXDOMAIN in zone 1, local data in zone 2 */
    CHECK_EQ_INT(qname_action(s, "bad.example.", &m), CW_RPZ_ACT_NXDOMAIN);
    CHECK_EQ_INT(m.zone_index, 0);
    /* exact beats wildcard, longest wildcard wins */
    CHECK_EQ_INT(qname_action(s, "x.example.", &m), CW_RPZ_ACT_NODATA);
    CHECK_EQ_STR(m.rule, "*.example");
    CHECK_EQ_INT(qname_action(s, "a.b.deep.example.", &m), CW_RPZ_ACT_LOCAL_DATA);
    CHECK_EQ_STR(m.rule, "*.deep.example");
    CHECK_EQ_INT(qname_action(s, "exact.deep.example.", &m), CW_RPZ_ACT_LOCAL_DATA);
    CHECK_EQ_STR(m.rule, "exact.deep.example");
    CHECK(!m.wildcard);
    CHECK_EQ_INT(qname_action(s, "x.ok.deep.example.", &m), CW_RPZ_ACT_PASSTHRU);
    /* a wildcard matches strictly below its base: example. itself is not matched */
    CHECK_EQ_INT(qname_action(s, "example.", &m), CW_RPZ_ACT_NONE);
    CHECK_EQ_INT(qname_action(s, "other.test.", &m), CW_RPZ_ACT_NXDOMAIN);
    CHECK_EQ_INT(m.zone_index, 1);

    /* within a zone CLIENT-IP beats QNAME; an earlier zone's QNAME beats a later
     * zone's CLIENT-IP */
    struct cw_rpz_addr c1 = addr("10.0.2.1"), c9 = addr("10.0.2.9");
    n = wire("other.test.", w);
    struct cw_rpz_query q = {.client = &c1, .qname = w, .qname_len = n};
    CHECK(cw_rpz_set_evaluate(s, &q, &m));
    CHECK(m.action == CW_RPZ_ACT_DROP && m.trigger == CW_RPZ_TRIG_CLIENT_IP && m.prefix == 32);
    n = wire("bad.example.", w);
    q = (struct cw_rpz_query){.client = &c9, .qname = w, .qname_len = n};
    CHECK(cw_rpz_set_evaluate(s, &q, &m));
    CHECK(m.action == CW_RPZ_ACT_NXDOMAIN && m.trigger == CW_RPZ_TRIG_QNAME && m.zone_index == 0);

    /* response IP: longest prefix; over several answer addresses the best rule */
    struct cw_rpz_addr ip = addr("192.0.2.20");
    CHECK(cw_rpz_set_lookup_ip(s, &ip, &m));
    CHECK(m.action == CW_RPZ_ACT_LOCAL_DATA && m.prefix == 28);
    ip = addr("192.0.2.5");
    CHECK(cw_rpz_set_lookup_ip(s, &ip, &m));
    CHECK(m.action == CW_RPZ_ACT_NODATA && m.prefix == 28);
    ip = addr("192.0.2.200");
    CHECK(cw_rpz_set_lookup_ip(s, &ip, &m));
    CHECK(m.action == CW_RPZ_ACT_NXDOMAIN && m.prefix == 24);
    CHECK_EQ_STR(m.rule, "24.0.2.0.192.rpz-ip");
    struct cw_rpz_addr two[2] = {addr("192.0.2.200"), addr("192.0.2.21")};
    q = (struct cw_rpz_query){.answer_ips = two, .n_answer_ips = 2};
    CHECK(cw_rpz_set_evaluate(s, &q, &m));
    CHECK(m.action == CW_RPZ_ACT_LOCAL_DATA && m.trigger == CW_RPZ_TRIG_IP);
    /* QNAME beats IP in the same zone */
    n = wire("bad.example.", w);
    q = (struct cw_rpz_query){.qname = w, .qname_len = n, .answer_ips = two, .n_answer_ips = 2};
    CHECK(cw_rpz_set_evaluate(s, &q, &m));
    CHECK(m.trigger == CW_RPZ_TRIG_QNAME);
    ip = addr("198.51.100.1");
    CHECK(!cw_rpz_set_lookup_ip(s, &ip, &m));
    /* IPv6 with zz */
    ip = addr("2001:db8:0:1::57");
    CHECK(cw_rpz_set_lookup_ip(s, &ip, &m) && m.action == CW_RPZ_ACT_NXDOMAIN && m.prefix == 64);
    ip = addr("2001:db8::1");
    CHECK(cw_rpz_set_lookup_ip(s, &ip, &m) && m.action == CW_RPZ_ACT_NODATA && m.prefix == 128);
    ip = addr("2001:db8:0:2::1");
    CHECK(!cw_rpz_set_lookup_ip(s, &ip, &m));

    /* NSDNAME exact and wildcard, NSIP; the IP rules beat them */
    n = wire("ns1.evil.", w);
    CHECK(cw_rpz_set_lookup_nsdname(s, w, n, &m) && m.action == CW_RPZ_ACT_NXDOMAIN);
    n = wire("ns2.evil.", w);
    CHECK(cw_rpz_set_lookup_nsdname(s, w, n, &m) && m.action == CW_RPZ_ACT_NODATA);
    CHECK(m.trigger == CW_RPZ_TRIG_NSDNAME && m.wildcard);
    n = wire("evil.", w);
    CHECK(!cw_rpz_set_lookup_nsdname(s, w, n, &m));
    ip = addr("192.0.2.53");
    CHECK(cw_rpz_set_lookup_nsip(s, &ip, &m) && m.action == CW_RPZ_ACT_DROP);
    CHECK(m.trigger == CW_RPZ_TRIG_NSIP);
    n = wire("ns2.evil.", w);
    const uint8_t *nsn[1] = {w};
    size_t nsl[1] = {n};
    q = (struct cw_rpz_query){.ns_names = nsn, .ns_name_lens = nsl, .n_ns_names = 1,
                              .ns_ips = &ip, .n_ns_ips = 1};
    CHECK(cw_rpz_set_evaluate(s, &q, &m) && m.trigger == CW_RPZ_TRIG_NSDNAME);
    /* a qname that looks like a trigger name is not an IP rule */
    CHECK_EQ_INT(qname_action(s, "24.0.2.0.192.rpz-ip.", &m), CW_RPZ_ACT_NONE);

    /* CNAME redirect, with a wildcard target */
    uint8_t t[CW_DNS_NAME_MAX];
    size_t tl;
    char txt[CW_DNS_TEXT_MAX];
    CHECK_EQ_INT(qname_action(s, "walled.example.", &m), CW_RPZ_ACT_CNAME);
    n = wire("walled.example.", w);
    CHECK_EQ_INT(cw_rpz_cname_target(&m, w, n, t, &tl), 0);
    cw_dns_name_to_text(t, tl, txt, sizeof(txt));
    CHECK_EQ_STR(txt, "walled.example.garden.example.");
    CHECK_EQ_INT(qname_action(s, "redir.example.", &m), CW_RPZ_ACT_CNAME);
    CHECK_EQ_INT(cw_rpz_cname_target(&m, w, n, t, &tl), 0);
    cw_dns_name_to_text(t, tl, txt, sizeof(txt));
    CHECK_EQ_STR(txt, "block.example.net.");
    CHECK_EQ_INT(qname_action(s, "bad.example.", &m), CW_RPZ_ACT_NXDOMAIN);
    CHECK_EQ_INT(cw_rpz_cname_target(&m, w, n, t, &tl), -1);

    /* the live set: readers keep the old set alive across a swap */
    struct cw_rpz_live live;
    CHECK_EQ_INT(cw_rpz_live_init(&live), 0);
    CHECK(cw_rpz_live_get(&live) == NULL);
    cw_rpz_live_swap(&live, s);
    struct cw_rpz_set *held = cw_rpz_live_get(&live);
    CHECK(held == s);
    cw_rpz_live_swap(&live, cw_rpz_set_new());
    CHECK_EQ_INT(qname_action(held, "bad.example.", &m), CW_RPZ_ACT_NXDOMAIN);
    cw_rpz_set_unref(held);
    struct cw_rpz_set *now = cw_rpz_live_get(&live);
    CHECK(now && cw_rpz_set_count(now) == 0);
    cw_rpz_set_unref(now);
    cw_rpz_live_release(&live);
}

/* -- malformed input -------------------------------------------------------- */

static void test_malformed(void)
{
    static const struct {
        const char *rec, *reason;
    } bad[] = {
        {"$INCLUDE /etc/passwd\n", "$INCLUDE refused"},
        {"$TTL forever\n", "bad $TTL"},
        {"$GENERATE 1-10 x$ CNAME .\n", "unknown directive"},
        {"a.example WKS 1.2.3.4\n", "unknown record type"},
        {"a.example CH TXT \"x\"\n", "class is not IN"},
        {"a.example A 300.1.1.1\n", "bad IPv4 address"},
        {"a.example AAAA 1::2::3\n", "bad IPv6 address"},
        {"a.example\n", "missing record type"},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.x CNAME .\n",
         "bad owner name"},
        {"a.example ( CNAME .\n", "unterminated parenthesis"},
        {"a.example TXT \"open\n", "unterminated quoted string"},
        {"33.1.2.3.4.rpz-ip CNAME .\n", "invalid prefix length"},
        {"1000.4.0.53.10.rpz-client-ip CNAME .\n", "invalid prefix length"},
        {"32.1.2.3.rpz-ip CNAME .\n", "invalid IPv6 address in trigger"},
        {"32.1.2.3.999.rpz-ip CNAME .\n", "invalid IPv4 address in trigger"},
        {"64.zz.1.zz.2001.rpz-ip CNAME .\n", "two zz"},
        {"rpz-nsdname CNAME .\n", "empty NSDNAME trigger"},
        {"other.zone. CNAME .\n", "owner outside the policy zone"},
        {"a.example MX x y\n", "bad RDATA"},
        {"a.example SRV 1 1 1 x\n", "unsupported local-data type"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[600];
        snprintf(text, sizeof(text), "$ORIGIN rpz.test.\n@ SOA . . 1 1 1 1 1\n%sok CNAME .\n",
                 bad[i].rec);
        struct errs e = {0};
        struct cw_rpz_zone *z = load_text(text, "bad", &e);
        CHECK(z != NULL);
        CHECK_EQ_INT(e.n, 1);
        if (!strstr(e.last, bad[i].reason) || !strstr(e.last, "bad:3: "))
            fprintf(stderr, "case %zu: want '%s', got '%s'\n", i, bad[i].reason, e.last);
        CHECK(strstr(e.last, bad[i].reason) != NULL);
        CHECK(strstr(e.last, "bad:3: ") != NULL);
        if (z) {
            /* the good record after it - unless an open parenthesis swallowed it */
            CHECK_EQ_INT(cw_rpz_zone_stats(z)->rules, strstr(bad[i].reason, "parenthesis") ? 0 : 1);
            CHECK_EQ_INT(cw_rpz_zone_stats(z)->skipped, 1);
        }
        cw_rpz_zone_free(z);
    }
    /* a record longer than the line limit is skipped, the next one kept */
    size_t big = CW_RPZ_LINE_MAX + 100;
    char *text = malloc(big + 200);
    int o = snprintf(text, 200, "$ORIGIN rpz.test.\nlong TXT \"");
    memset(text + o, 'x', big);
    snprintf(text + o + big, 100, "\"\nok CNAME .\n");
    struct errs e = {0};
    struct cw_rpz_zone *z = load_text(text, "long", &e);
    CHECK(z && e.n == 1 && strstr(e.last, "longer than"));
    CHECK(z && cw_rpz_zone_stats(z)->rules == 1);
    cw_rpz_zone_free(z);
    free(text);
    /* relative names with no origin at all, and an empty zone */
    char err[256];
    CHECK(cw_rpz_zone_load_mem("a CNAME .\n", 10, "x", NULL, NULL, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "no usable record") != NULL);
    CHECK(cw_rpz_zone_load_file("/nonexistent/zone", NULL, NULL, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "cannot read") != NULL);
    /* parentheses over lines, comments, blank owner, TTL units, class before TTL */
    e.n = 0;
    z = load_text("$ORIGIN rpz.test.\n$TTL 1h30m\n@ IN 3600 SOA ns. host. ( 1 ; serial\n 2 3\n"
                  " 4 5 )\nmulti IN 2w A 10.0.0.1\n     A 10.0.0.2 ; same owner\n"
                  "x\\.y CNAME .\n",
                  "ok", &e);
    CHECK(z && e.n == 0);
    if (z) {
        struct cw_rpz_match m;
        uint8_t w[CW_DNS_NAME_MAX];
        size_t n = wire("multi.", w);
        CHECK(cw_rpz_zone_lookup_qname(z, w, n, &m) && m.nrr == 2 && m.rrs[0].ttl == 1209600);
        CHECK(cw_rpz_zone_stats(z)->rules == 2);
        n = wire("x\\.y.", w);
        CHECK(cw_rpz_zone_lookup_qname(z, w, n, &m) && m.action == CW_RPZ_ACT_NXDOMAIN);
        CHECK_EQ_STR(m.rule, "x\\.y");
    }
    cw_rpz_zone_free(z);
}

/* -- 1M names --------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_million(void)
{
    const size_t N = 1000000;
    size_t cap = N * 48 + 256, o = 0;
    char *text = malloc(cap);
    o += (size_t)snprintf(text, cap, "$ORIGIN rpz.bench.\n$TTL 300\n@ SOA ns. host. 1 2 3 4 5\n");
    for (size_t i = 0; i < N; i++) {
        /* a mix like a real feed: exact names, some wildcards, all CNAME . */
        o += (size_t)snprintf(text + o, cap - o, "%shost%zu.malware%zu.example CNAME .\n",
                              i % 10 == 0 ? "*." : "", i, i % 1000);
    }
    double t0 = now_s();
    struct cw_rpz_stats st;
    char err[256];
    struct cw_rpz_zone *z = cw_rpz_zone_load_mem(text, o, "bench", NULL, &st, err, sizeof(err));
    double t1 = now_s();
    CHECK(z != NULL);
    if (!z) {
        free(text);
        return;
    }
    CHECK_EQ_INT(st.rules, N);
    double per = (double)st.bytes / (double)st.rules;
    printf("1M-name zone: %.1f MB text loaded in %.2f s, %zu rules, %zu bytes = %.1f bytes/name\n",
           (double)o / 1e6, t1 - t0, st.rules, st.bytes, per);
    CHECK(per < 100.0);
    struct cw_rpz_match m;
    uint8_t w[CW_DNS_NAME_MAX];
    size_t n = wire("host123457.malware457.example.", w);
    CHECK(cw_rpz_zone_lookup_qname(z, w, n, &m) && m.action == CW_RPZ_ACT_NXDOMAIN);
    n = wire("sub.host123450.malware450.example.", w);
    CHECK(cw_rpz_zone_lookup_qname(z, w, n, &m) && m.wildcard);
    n = wire("host123451.malware450.example.", w);
    CHECK(!cw_rpz_zone_lookup_qname(z, w, n, &m));
    /* lookup speed, printed only */
    double t2 = now_s();
    size_t hits = 0;
    char name[128];
    for (size_t i = 0; i < 1000000; i++) {
        int k = snprintf(name, sizeof(name), "www.host%zu.malware%zu.example.", (i * 7919) % N,
                         ((i * 7919) % N) % 1000);
        n = wire(name + (i % 2 ? 4 : 0), w);
        (void)k;
        hits += cw_rpz_zone_lookup_qname(z, w, n, &m);
    }
    double t3 = now_s();
    printf("1M lookups (half exact, half below a name): %.2f s, %zu hits\n", t3 - t2, hits);
    cw_rpz_zone_free(z);
    free(text);
}

int main(void)
{
    test_knot();
    test_bind();
    test_all_zone_files();
    test_unbound();
    test_precedence();
    test_malformed();
    test_million();
    return cw_test_finish("test_rpz");
}
