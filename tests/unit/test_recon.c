/* test_recon.c - scanner ranges (MISP warninglists) and scanner user agents.
 *
 * Hand-written lists check parsing, normalisation, merging and errors; the real
 * warninglists in ../shared/data/misp/warninglists and the real access logs in
 * ../shared/data/weblogs check the result on the data crosswatch ships with. Every
 * range answer on the real data is also compared with a brute-force oracle (each
 * entry tested with cw_ip_in_net from noise.c, no intervals involved). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/json.h"
#include "triage/noise.h"
#include "triage/recon.h"
#include "testlib.h"

static struct cw_ip ip(const char *s)
{
    struct cw_ip a;
    if (cw_ip_parse(&a, s, strlen(s)) < 0) {
        fprintf(stderr, "bad test address %s\n", s);
        abort();
    }
    return a;
}

static const char *m(const struct cw_recon *r, const char *addr)
{
    struct cw_ip a = ip(addr);
    return cw_recon_match_ip(r, &a);
}

static int add(struct cw_recon *r, const char *name, const char *json, char *err, size_t el)
{
    return cw_recon_add_warninglist(r, name, json, strlen(json), err, el);
}

#define CHECK_NULL(x) CHECK((x) == NULL)

/* -- hand-written lists ------------------------------------------------------- */

static void test_parse_and_normalise(void)
{
    char err[256];
    struct cw_recon *r = cw_recon_new();
    CHECK_EQ_INT(add(r, "a",
                     "{\"name\":\"x\",\"type\":\"cidr\",\"list\":["
                     "\"192.0.2.77/24\", \"2001:db8::1234/64\", \"198.51.100.9\","
                     "\" 203.0.113.130/25 \", \"2001:db8:ffff::1\", \"192.0.2.1\\/32\"],"
                     "\"matching_attributes\":[\"ip-src\"]}",
                     err, sizeof(err)),
                 0);
    CHECK_EQ_INT(cw_recon_finish(r), 0);
    struct cw_recon_stats st;
    cw_recon_stats(r, &st);
    CHECK_EQ_INT(st.lists, 1);
    CHECK_EQ_INT(st.ranges_v4, 3); /* 192.0.2.0/24 (holds 192.0.2.1), .9, 203.0.113.128/25 */
    CHECK_EQ_INT(st.ranges_v6, 2);
    CHECK_EQ_INT(st.user_agents, 0);
    /* host bits cleared: 192.0.2.77/24 is the whole /24 */
    CHECK_EQ_STR(m(r, "192.0.2.0"), "a");
    CHECK_EQ_STR(m(r, "192.0.2.255"), "a");
    CHECK_NULL(m(r, "192.0.1.255"));
    CHECK_NULL(m(r, "192.0.3.0"));
    /* no prefix: one host */
    CHECK_EQ_STR(m(r, "198.51.100.9"), "a");
    CHECK_NULL(m(r, "198.51.100.8"));
    CHECK_NULL(m(r, "198.51.100.10"));
    /* blanks trimmed, host bits of a /25 */
    CHECK_EQ_STR(m(r, "203.0.113.128"), "a");
    CHECK_EQ_STR(m(r, "203.0.113.255"), "a");
    CHECK_NULL(m(r, "203.0.113.127"));
    /* IPv6 /64 with host bits set */
    CHECK_EQ_STR(m(r, "2001:db8::"), "a");
    CHECK_EQ_STR(m(r, "2001:db8::ffff:ffff:ffff:ffff"), "a");
    CHECK_NULL(m(r, "2001:db8:0:1::"));
    CHECK_NULL(m(r, "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff"));
    CHECK_EQ_STR(m(r, "2001:db8:ffff::1"), "a");
    CHECK_NULL(m(r, "2001:db8:ffff::2"));
    CHECK_NULL(m(r, "2001:db8:ffff::"));
    /* an IPv4-mapped IPv6 address is looked up as IPv4; an IPv4 range is not an
     * IPv6 range otherwise */
    CHECK_EQ_STR(m(r, "::ffff:192.0.2.200"), "a");
    CHECK_NULL(m(r, "::192.0.2.200"));
    struct cw_ip none = {0};
    CHECK_NULL(cw_recon_match_ip(r, &none));
    CHECK_NULL(cw_recon_match_ip(r, NULL));
    cw_recon_free(r);
}

static void test_extremes(void)
{
    char err[256];
    struct cw_recon *r = cw_recon_new();
    CHECK_EQ_INT(add(r, "all", "{\"type\":\"cidr\",\"list\":[\"1.2.3.4/0\",\"::1/0\"]}", err,
                     sizeof(err)),
                 0);
    cw_recon_finish(r);
    CHECK_EQ_STR(m(r, "0.0.0.0"), "all");
    CHECK_EQ_STR(m(r, "255.255.255.255"), "all");
    CHECK_EQ_STR(m(r, "::"), "all");
    CHECK_EQ_STR(m(r, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), "all");
    cw_recon_free(r);

    /* ranges at the very top and bottom, and prefixes around the 64-bit split */
    r = cw_recon_new();
    CHECK_EQ_INT(add(r, "edge",
                     "{\"type\":\"cidr\",\"list\":[\"255.255.255.255\",\"0.0.0.0/31\","
                     "\"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128\",\"::/127\","
                     "\"2001:db8:1:2:8000::/65\",\"2001:db8:5:1::/63\"]}",
                     err, sizeof(err)),
                 0);
    cw_recon_finish(r);
    CHECK_EQ_STR(m(r, "255.255.255.255"), "edge");
    CHECK_NULL(m(r, "255.255.255.254"));
    CHECK_EQ_STR(m(r, "0.0.0.1"), "edge");
    CHECK_NULL(m(r, "0.0.0.2"));
    CHECK_EQ_STR(m(r, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), "edge");
    CHECK_NULL(m(r, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"));
    CHECK_EQ_STR(m(r, "::1"), "edge");
    CHECK_NULL(m(r, "::2"));
    CHECK_EQ_STR(m(r, "2001:db8:1:2:8000::"), "edge");
    CHECK_EQ_STR(m(r, "2001:db8:1:2:ffff:ffff:ffff:ffff"), "edge");
    CHECK_NULL(m(r, "2001:db8:1:2:7fff:ffff:ffff:ffff"));
    CHECK_EQ_STR(m(r, "2001:db8:5::"), "edge"); /* /63: host bit 63 of :5:1:: cleared */
    CHECK_EQ_STR(m(r, "2001:db8:5:1:ffff:ffff:ffff:ffff"), "edge");
    CHECK_NULL(m(r, "2001:db8:5:2::"));
    CHECK_NULL(m(r, "2001:db8:4:ffff:ffff:ffff:ffff:ffff"));
    cw_recon_free(r);
}

static void test_merge_and_names(void)
{
    char err[256];
    struct cw_recon *r = cw_recon_new();
    /* b overlaps a and runs past it; c is inside a; d touches b */
    CHECK_EQ_INT(add(r, "a", "{\"type\":\"cidr\",\"list\":[\"10.0.0.0/16\"]}", err, sizeof(err)),
                 0);
    CHECK_EQ_INT(add(r, "b",
                     "{\"type\":\"cidr\",\"list\":[\"10.0.128.0/17\",\"10.1.0.0/16\","
                     "\"10.1.0.0/24\"]}",
                     err, sizeof(err)),
                 0);
    CHECK_EQ_INT(add(r, "c", "{\"type\":\"cidr\",\"list\":[\"10.0.5.0/24\"]}", err, sizeof(err)),
                 0);
    CHECK_EQ_INT(add(r, "d", "{\"type\":\"cidr\",\"list\":[\"10.2.0.0/16\",\"10.9.0.0/16\"]}",
                     err, sizeof(err)),
                 0);
    /* the same name again adds to that list */
    CHECK_EQ_INT(add(r, "a", "{\"type\":\"cidr\",\"list\":[\"10.3.0.0/16\"]}", err, sizeof(err)),
                 0);
    cw_recon_finish(r);
    struct cw_recon_stats st;
    cw_recon_stats(r, &st);
    CHECK_EQ_INT(st.lists, 4); /* distinct names */
    CHECK_EQ_INT(st.ranges_v4, 2); /* 10.0.0.0-10.3.255.255 and 10.9.0.0/16 */
    CHECK_EQ_INT(st.ranges_v6, 0);
    CHECK_EQ_STR(m(r, "10.0.0.0"), "a");
    CHECK_EQ_STR(m(r, "10.0.5.5"), "a"); /* in a and c: a, the range that starts first */
    CHECK_EQ_STR(m(r, "10.0.200.1"), "a"); /* in a and b */
    CHECK_EQ_STR(m(r, "10.1.0.0"), "b");
    CHECK_EQ_STR(m(r, "10.1.255.255"), "b");
    CHECK_EQ_STR(m(r, "10.2.0.0"), "d");
    CHECK_EQ_STR(m(r, "10.3.7.7"), "a");
    CHECK_NULL(m(r, "10.4.0.0"));
    CHECK_NULL(m(r, "10.8.255.255"));
    CHECK_EQ_STR(m(r, "10.9.255.255"), "d");
    CHECK_NULL(m(r, "10.10.0.0"));
    /* finish twice gives the same answers; adding after finish and finishing again works */
    CHECK_EQ_INT(cw_recon_finish(r), 0);
    CHECK_EQ_STR(m(r, "10.2.0.0"), "d");
    CHECK_EQ_INT(add(r, "e", "{\"type\":\"cidr\",\"list\":[\"10.4.0.0/15\"]}", err, sizeof(err)),
                 0);
    CHECK_EQ_INT(cw_recon_finish(r), 0);
    cw_recon_stats(r, &st);
    CHECK_EQ_INT(st.ranges_v4, 2);
    CHECK_EQ_STR(m(r, "10.5.1.1"), "e");
    cw_recon_free(r);
}

static void test_other_types_and_errors(void)
{
    char err[256];
    struct cw_recon *r = cw_recon_new();
    CHECK_EQ_INT(add(r, "ok", "{\"type\":\"cidr\",\"list\":[\"192.0.2.0/24\"]}", err, sizeof(err)),
                 0);
    /* another type: ignored (1), nothing added */
    CHECK_EQ_INT(add(r, "str", "{\"type\":\"string\",\"list\":[\"198.51.100.1\"]}", err,
                     sizeof(err)),
                 1);
    CHECK(strstr(err, "str") && strstr(err, "\"string\""));
    CHECK_EQ_INT(add(r, "host", "{\"type\":\"hostname\",\"list\":[\"example.com\"]}", err,
                     sizeof(err)),
                 1);
    /* valid JSON but not a warninglist: ignored */
    CHECK_EQ_INT(add(r, "arr", "[\"198.51.100.1\"]", err, sizeof(err)), 1);
    CHECK(strstr(err, "not a warninglist") != NULL);
    CHECK_EQ_INT(add(r, "nolist", "{\"type\":\"cidr\"}", err, sizeof(err)), 1);
    CHECK(strstr(err, "\"list\"") != NULL);
    CHECK_EQ_INT(add(r, "notype", "{\"list\":[]}", err, sizeof(err)), 1);
    /* malformed: error naming the list and the reason */
    static const struct {
        const char *json, *want;
    } bad[] = {
        {"{", "truncated JSON"},
        {"", "empty JSON"},
        {"{\"type\":\"cidr\",\"list\":[]} {}", "trailing data"},
        {"{\"type\":\"cidr\",\"list\":[]} x", "invalid JSON"},
        {"{\"type\":5,\"list\":[]}", "\"type\" is not a string"},
        {"{\"type\":\"cidr\",\"list\":\"198.51.100.0/24\"}", "\"list\" is not an array"},
        {"{\"type\":\"cidr\",\"list\":[\"198.51.100.1\",5]}", "list[1] is not a string"},
        {"{\"type\":\"cidr\",\"list\":[{\"ip\":\"1.2.3.4\"}]}", "list[0] is not a string"},
        /* malformed JSON that jsmn alone accepts: refused by the JSON layer's grammar check */
        {"{\"type\":\"cidr\",\"list\":[\"192.0.2.0/24\":\"x\"]}", "invalid JSON"},
        {"{\"list\":[],\"type\":\"cidr\":\"x\"}", "invalid JSON"},
        {"{\"type\":\"cidr\",\"list\":[\"300.1.1.1\"]}", "list[0] \"300.1.1.1\" is not an IP"},
        {"{\"type\":\"cidr\",\"list\":[\"1.2.3.4/33\"]}", "not an IP address or CIDR"},
        {"{\"type\":\"cidr\",\"list\":[\"1.2.3.4/\"]}", "not an IP address or CIDR"},
        {"{\"type\":\"cidr\",\"list\":[\"1.2.3.4/-1\"]}", "not an IP address or CIDR"},
        {"{\"type\":\"cidr\",\"list\":[\"1.2.3.4/0032\"]}", "not an IP address or CIDR"},
        {"{\"type\":\"cidr\",\"list\":[\"::/129\"]}", "not an IP address or CIDR"},
        {"{\"type\":\"cidr\",\"list\":[\"1.2.3.4/8/8\"]}", "not an IP address or CIDR"},
        {"{\"type\":\"cidr\",\"list\":[\"\"]}", "not an IP address or CIDR"},
        {"{\"type\":\"cidr\",\"list\":[\"example.com\"]}", "not an IP address or CIDR"},
        {"{\"type\":\"cidr\",\"list\":[\"\\ud800\"]}", "list[0] \"???\" is not an IP"},
        {"{\"type\":\"cidr\",\"list\":[\"1.2.3.4\\n\"]}", "list[0] \"1.2.3.4?\" is not an IP"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        int rc = add(r, "badlist", bad[i].json, err, sizeof(err));
        CHECK_EQ_INT(rc, -1);
        if (strncmp(err, "badlist: ", 9) != 0 || !strstr(err, bad[i].want)) {
            fprintf(stderr, "case %zu: err \"%s\", want \"%s\"\n", i, err, bad[i].want);
            CHECK(0);
        }
    }
    /* a list that fails half-way leaves nothing behind */
    CHECK_EQ_INT(add(r, "half", "{\"type\":\"cidr\",\"list\":[\"203.0.113.0/24\",\"x\"]}", err,
                     sizeof(err)),
                 -1);
    cw_recon_finish(r);
    struct cw_recon_stats st;
    cw_recon_stats(r, &st);
    CHECK_EQ_INT(st.lists, 1);
    CHECK_EQ_INT(st.ranges_v4, 1);
    CHECK_NULL(m(r, "203.0.113.1"));
    CHECK_NULL(m(r, "198.51.100.1"));
    CHECK_EQ_STR(m(r, "192.0.2.1"), "ok");
    cw_recon_free(r);
    /* nothing loaded at all */
    r = cw_recon_new();
    cw_recon_finish(r);
    CHECK_NULL(m(r, "192.0.2.1"));
    CHECK_NULL(m(r, "::1"));
    CHECK_NULL(cw_recon_match_ua(r, "zgrab", 5));
    cw_recon_free(r);
    CHECK_NULL(m(NULL, "192.0.2.1"));
}

/* -- loader on a temporary directory ------------------------------------------ */

static char tmpdir[256];

static void put(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    mkdir(path, 0700); /* one level is enough here */
    *slash = '/';
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    fputs(text, f);
    fclose(f);
}

static void rm_rf(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

static void test_loader(void)
{
    char err[512];
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/cw_test_recon.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        CHECK(0);
        return;
    }
    char lists[300];
    snprintf(lists, sizeof(lists), "%s/wl", tmpdir);
    mkdir(lists, 0700);
    put("wl/zeta-scanning/list.json", "{\"type\":\"cidr\",\"list\":[\"192.0.2.0/24\"]}");
    put("wl/alpha-scanner/list.json",
        "{\"type\":\"cidr\",\"list\":[\"192.0.2.128/25\",\"2001:db8::/32\"]}");
    /* a scanner-named list of another type: skipped with a warning */
    put("wl/names-scanning/list.json", "{\"type\":\"string\",\"list\":[\"zgrab\"]}");
    /* a cidr list whose name does not say scanner: not used */
    put("wl/cloud-ips/list.json", "{\"type\":\"cidr\",\"list\":[\"198.51.100.0/24\"]}");
    put("wl/readme-scanning.txt", "a file, not a list directory");
    put("ua.txt", "# comment\n\n  zgrab  \r\nNmap Scripting Engine\r\n\t# indented comment\n"
                  "sqlmap\nMASSCAN");
    char ua[300];
    snprintf(ua, sizeof(ua), "%s/ua.txt", tmpdir);

    struct cw_recon *r = cw_recon_load(lists, ua, err, sizeof(err));
    CHECK(r != NULL);
    if (!r) {
        fprintf(stderr, "load: %s\n", err);
    } else {
        struct cw_recon_stats st;
        cw_recon_stats(r, &st);
        CHECK_EQ_INT(st.lists, 2);
        CHECK_EQ_INT(st.ranges_v4, 1);
        CHECK_EQ_INT(st.ranges_v6, 1);
        CHECK_EQ_INT(st.user_agents, 4);
        /* directories load in name order: alpha-scanner first, and zeta's /24
         * starts first, so it keeps its name over alpha's /25 */
        CHECK_EQ_STR(m(r, "192.0.2.200"), "zeta-scanning");
        CHECK_EQ_STR(m(r, "2001:db8:1::1"), "alpha-scanner");
        CHECK_NULL(m(r, "198.51.100.1"));
        const char *u = "Mozilla/5.0 zgrab/0.x";
        CHECK_EQ_STR(cw_recon_match_ua(r, u, strlen(u)), "zgrab");
        u = "masscan/1.3 (https://github.com/robertdavidgraham/masscan)";
        CHECK_EQ_STR(cw_recon_match_ua(r, u, strlen(u)), "masscan");
        u = "Mozilla/5.0 (compatible; nmap scripting ENGINE; https://nmap.org/book/nse.html)";
        CHECK_EQ_STR(cw_recon_match_ua(r, u, strlen(u)), "nmap scripting engine");
        /* only the first n bytes count */
        CHECK_NULL(cw_recon_match_ua(r, "sqlmap", 5));
        CHECK_EQ_STR(cw_recon_match_ua(r, "xsqlmapx", 7), "sqlmap");
        CHECK_NULL(cw_recon_match_ua(r, "", 0));
        CHECK_NULL(cw_recon_match_ua(r, "Mozilla/5.0 (X11; Linux x86_64)", 31));
        /* several patterns occur: the first in the file wins, wherever it is */
        u = "sqlmap masscan zgrab";
        CHECK_EQ_STR(cw_recon_match_ua(r, u, strlen(u)), "zgrab");
        u = "MASSCAN sqlmap";
        CHECK_EQ_STR(cw_recon_match_ua(r, u, strlen(u)), "sqlmap");
        u = "zgra";
        CHECK_NULL(cw_recon_match_ua(r, u, strlen(u)));
        cw_recon_free(r);
    }

    /* either path may be NULL */
    r = cw_recon_load(NULL, NULL, err, sizeof(err));
    CHECK(r != NULL);
    cw_recon_free(r);

    /* errors name the file */
    r = cw_recon_load(lists, "/nonexistent/ua.txt", err, sizeof(err));
    CHECK(r == NULL && strstr(err, "/nonexistent/ua.txt") != NULL);
    r = cw_recon_load("/nonexistent/wl", NULL, err, sizeof(err));
    CHECK(r == NULL && strstr(err, "/nonexistent/wl") != NULL);
    put("ua2.txt", "zgrab\nab\n");
    snprintf(ua, sizeof(ua), "%s/ua2.txt", tmpdir);
    r = cw_recon_load(NULL, ua, err, sizeof(err));
    CHECK(r == NULL && strstr(err, "ua2.txt:2: pattern of 2 bytes") != NULL);

    put("wl/broken-scanning/list.json", "{\"type\":\"cidr\",\"list\":[\"192.0.2.0/24\",}");
    r = cw_recon_load(lists, NULL, err, sizeof(err));
    CHECK(r == NULL && strstr(err, "broken-scanning/list.json: invalid JSON") != NULL);
    fprintf(stderr, "(expected) %s\n", err);
    put("wl/broken-scanning/list.json", "{\"type\":\"cidr\",\"list\":[\"192.0.2.0/24\",7]}");
    r = cw_recon_load(lists, NULL, err, sizeof(err));
    CHECK(r == NULL && strstr(err, "broken-scanning/list.json: list[1] is not a string"));
    fprintf(stderr, "(expected) %s\n", err);
    char path[600];
    snprintf(path, sizeof(path), "%s/broken-scanning/list.json", lists);
    unlink(path);
    r = cw_recon_load(lists, NULL, err, sizeof(err));
    CHECK(r == NULL && strstr(err, "broken-scanning/list.json: No such file") != NULL);
    fprintf(stderr, "(expected) %s\n", err);
    rm_rf(tmpdir);
}

/* -- the real warninglists ---------------------------------------------------- */

struct entry {
    struct cw_ip net;
    unsigned prefix;
    const char *list;
};

static struct entry *entries;
static size_t nentries;

/* Read every scanner list's entries on its own (cw_json + cw_ip_parse + a prefix),
 * for the brute-force oracle. */
static void read_entries(const char *dir, char names[][64], size_t nnames)
{
    for (size_t i = 0; i < nnames; i++) {
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s/list.json", dir, names[i]);
        size_t len;
        char *buf = cw_test_read_file(path, &len);
        if (!buf) {
            CHECK(0);
            continue;
        }
        size_t maxtok = len / 2 + 2;
        jsmntok_t *toks = malloc(maxtok * sizeof(*toks));
        struct cw_json j;
        const char *why;
        CHECK_EQ_INT(cw_json_parse(&j, buf, len, toks, (int)maxtok, &why), 0);
        int li = cw_json_get(&j, 0, "list");
        for (int k = li + 1; k < cw_json_next(&j, li); k = cw_json_next(&j, k)) {
            const char *s = buf + j.tok[k].start;
            size_t n = (size_t)(j.tok[k].end - j.tok[k].start);
            const char *sl = memchr(s, '/', n);
            entries = realloc(entries, (nentries + 1) * sizeof(*entries));
            struct entry *e = &entries[nentries++];
            CHECK_EQ_INT(cw_ip_parse(&e->net, s, sl ? (size_t)(sl - s) : n), 0);
            e->prefix = sl ? (unsigned)atoi(sl + 1) : (e->net.family == 4 ? 32 : 128);
            e->list = names[i];
        }
        free(toks);
        free(buf);
    }
}

static int oracle_contains(const char *list, const struct cw_ip *a)
{
    for (size_t i = 0; i < nentries; i++)
        if ((!list || strcmp(entries[i].list, list) == 0) &&
            cw_ip_in_net(a, &entries[i].net, entries[i].prefix))
            return 1;
    return 0;
}

/* first or last address of net/prefix, then step by delta (-1, 0, +1) */
static struct cw_ip edge(const struct entry *e, int last, int delta)
{
    struct cw_ip a = e->net;
    unsigned bytes = a.family == 4 ? 4 : 16;
    for (unsigned b = 0; b < bytes; b++) {
        unsigned bit0 = b * 8;
        uint8_t host = 0;
        for (unsigned k = 0; k < 8; k++)
            if (bit0 + k >= e->prefix)
                host |= (uint8_t)(0x80 >> k);
        a.a[b] = last ? (uint8_t)(a.a[b] | host) : (uint8_t)(a.a[b] & ~host);
    }
    if (delta > 0) {
        for (int b = (int)bytes - 1; b >= 0 && ++a.a[b] == 0; b--)
            ;
    } else if (delta < 0) {
        for (int b = (int)bytes - 1; b >= 0 && a.a[b]-- == 0; b--)
            ;
    }
    return a;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static char ua_path[4096];

static void test_real_lists(void)
{
    char dir[4096], err[512];
    snprintf(dir, sizeof(dir), "%s", cw_test_shared("data/misp/warninglists"));
    const char *src = getenv("CW_SOURCE_DIR");
    snprintf(ua_path, sizeof(ua_path), "%s/rules/scanner-user-agents.txt", src ? src : ".");
    uint64_t t0 = now_ns();
    struct cw_recon *r = cw_recon_load(dir, ua_path, err, sizeof(err));
    uint64_t t1 = now_ns();
    CHECK(r != NULL);
    if (!r) {
        fprintf(stderr, "load: %s\n", err);
        return;
    }
    fprintf(stderr, "loaded real warninglists and UA file in %.1f ms\n", (t1 - t0) / 1e6);
    struct cw_recon_stats st;
    cw_recon_stats(r, &st);
    /* Measured independently with Python (ipaddress): 32 subdirectories whose name
     * contains "scanning" or "scanner", all of type "cidr", 3992 entries (3974 IPv4,
     * 18 IPv6). ipaddress.collapse_addresses() gives 3710 IPv4 and 10 IPv6 CIDR
     * blocks; merging blocks that touch into intervals gives 3422 and 9, the union
     * this module counts. (The IPv4 union holds 10149 addresses.) */
    CHECK_EQ_INT(st.lists, 32);
    CHECK_EQ_INT(st.ranges_v4, 3422);
    CHECK_EQ_INT(st.ranges_v6, 9);
    /* grep -cvE '^[[:space:]]*(#|$)' rules/scanner-user-agents.txt */
    CHECK_EQ_INT(st.user_agents, 59);

    /* Addresses just inside and outside real ranges; the expected lists were
     * read off the list.json files and confirmed with Python's ipaddress. */
    static const struct {
        const char *addr, *list;
    } probes[] = {
        {"162.142.125.0", "censys-scanning"},       /* 162.142.125.0/24 */
        {"162.142.125.255", "censys-scanning"},
        {"162.142.124.255", NULL},
        {"162.142.126.0", NULL},
        {"185.142.236.33", NULL},                   /* shodan-scanning 185.142.236.34/31 */
        {"185.142.236.34", "shodan-scanning"},
        {"185.142.236.35", "shodan-scanning"},
        {"185.142.236.36", "shodan-scanning"},      /* and .36/32 next to it */
        {"185.142.236.37", NULL},
        {"185.194.93.129", NULL},                   /* circl-ssh-scanning, no prefix */
        {"185.194.93.130", "circl-ssh-scanning"},
        {"185.194.93.131", NULL},
        {"185.194.94.169", NULL},                   /* circl-security-scanning .170-.179 */
        {"185.194.94.170", "circl-security-scanning"},
        {"185.194.94.179", "circl-security-scanning"},
        {"185.194.94.180", NULL},
        {"51.254.49.95", NULL},                     /* onyphe-scanner 51.254.49.96/28 */
        {"51.254.49.96", "onyphe-scanner"},
        {"51.254.49.111", "onyphe-scanner"},
        {"51.254.49.112", NULL},
        {"2602:80d:1002:ffff:ffff:ffff:ffff:ffff", NULL}, /* censys 2602:80d:1003::/112 */
        {"2602:80d:1003::", "censys-scanning"},
        {"2602:80d:1003::ffff", "censys-scanning"},
        {"2602:80d:1003::1:0", NULL},
        {"2a00:5980:93::12f", NULL},                /* circl-ssh-scanning, no prefix */
        {"2a00:5980:93::130", "circl-ssh-scanning"},
        {"2a00:5980:93::131", NULL},
        {"2a14:f0ff:ffff:ffff:ffff:ffff:ffff:ffff", NULL}, /* onyphe 2a14:f100::/29 */
        {"2a14:f100::", "onyphe-scanner"},
        {"2a14:f107:ffff:ffff:ffff:ffff:ffff:ffff", "onyphe-scanner"},
        {"2a14:f108::", NULL},
        {"2001:41d0:33a:a00::3ff", NULL},           /* onyphe 2001:41d0:33a:a00::400/124 */
        {"2001:41d0:33a:a00::400", "onyphe-scanner"},
        {"2001:41d0:33a:a00::40f", "onyphe-scanner"},
        {"2001:41d0:33a:a00::410", NULL},
        {"::ffff:162.142.125.7", "censys-scanning"},
        {"0.0.0.0", NULL},
        {"255.255.255.255", NULL},
        {"::", NULL},
        {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL},
        {"8.8.8.8", NULL},
        {"192.168.1.1", NULL},
    };
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        const char *got = m(r, probes[i].addr);
        if (probes[i].list ? (!got || strcmp(got, probes[i].list) != 0) : got != NULL) {
            fprintf(stderr, "%s: got %s, want %s\n", probes[i].addr, got ? got : "NULL",
                    probes[i].list ? probes[i].list : "NULL");
            CHECK(0);
        } else {
            CHECK(1);
        }
    }
    /* 71.6.135.131 is in both shodan-nt-scanning and shodan-scanning: either name
     * is right, and it must be one of them */
    const char *both = m(r, "71.6.135.131");
    CHECK(both && (strcmp(both, "shodan-scanning") == 0 || strcmp(both, "shodan-nt-scanning") == 0));

    /* Brute-force oracle: the first and last address of every entry, and the
     * addresses just outside it, against a scan of all entries. */
    char names[64][64];
    size_t nnames = 0;
    DIR *dd = opendir(dir);
    struct dirent *de;
    while (dd && (de = readdir(dd)) != NULL && nnames < 64)
        if ((strstr(de->d_name, "scanning") || strstr(de->d_name, "scanner")) &&
            strlen(de->d_name) < 64)
            memcpy(names[nnames++], de->d_name, strlen(de->d_name) + 1);
    if (dd)
        closedir(dd);
    qsort(names, nnames, sizeof(names[0]), cmp_name);
    CHECK_EQ_INT(nnames, 32);
    read_entries(dir, names, nnames);
    CHECK_EQ_INT(nentries, 3992);
    size_t checked = 0, wrong = 0, inside = 0;
    for (size_t i = 0; i < nentries; i++) {
        for (int last = 0; last < 2; last++) {
            for (int d = -1; d <= 1; d++) {
                if ((last && d < 0) || (!last && d > 0))
                    continue; /* inside the range, covered by the other edge */
                struct cw_ip a = edge(&entries[i], last, d);
                const char *got = cw_recon_match_ip(r, &a);
                int want = oracle_contains(NULL, &a);
                checked++;
                inside += want;
                if ((got != NULL) != want || (got && !oracle_contains(got, &a))) {
                    char buf[64];
                    cw_ip_format(&a, buf);
                    if (wrong++ < 10)
                        fprintf(stderr, "oracle: %s got %s, want %s\n", buf,
                                got ? got : "NULL", want ? "a list" : "NULL");
                }
            }
        }
    }
    CHECK_EQ_INT(wrong, 0);
    CHECK_EQ_INT(checked, 4 * 3992);
    fprintf(stderr, "oracle: %zu probes, %zu inside, %zu wrong\n", checked, inside, wrong);

    /* Lookup cost: 1M pseudo-random addresses, half of them near real ranges so
     * that the search does not always stop at an empty gap. */
    enum { N = 1000000 };
    struct cw_ip *q = malloc(N * sizeof(*q));
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (size_t i = 0; i < N; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        uint32_t v = (uint32_t)(x >> 32);
        memset(&q[i], 0, sizeof(q[i]));
        if (i % 4 == 3) { /* IPv6 */
            q[i] = entries[v % nentries].net.family == 6 ? entries[v % nentries].net
                                                         : ip("2a14:f100::");
            q[i].a[15] ^= (uint8_t)v;
            q[i].a[8] ^= (uint8_t)(v >> 8);
        } else if (i % 2) { /* near a real range */
            q[i] = entries[v % nentries].net;
            if (q[i].family == 6)
                q[i] = ip("162.142.125.0");
            q[i].a[3] ^= (uint8_t)(x >> 20);
        } else {
            q[i].family = 4;
            memcpy(q[i].a, &v, 4);
        }
    }
    size_t hits = 0;
    t0 = now_ns();
    for (size_t i = 0; i < N; i++)
        hits += cw_recon_match_ip(r, &q[i]) != NULL;
    t1 = now_ns();
    fprintf(stderr, "match_ip: %.1f ns per lookup over %d addresses (%zu hits)\n",
            (double)(t1 - t0) / N, N, hits);
    CHECK(hits > 0);
    free(q);
    free(entries);
    entries = NULL;
    nentries = 0;
    cw_recon_free(r);
}

/* -- the UA file on real logs -------------------------------------------------- */

/* User agent of an access-log line: the last "..." field. The ocatak logs wrap
 * each line in one more pair of quotes, dropped first. */
static int line_ua(const char *s, size_t n, const char **ua, size_t *un)
{
    while (n && (s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    if (n >= 2 && s[n - 1] == '"' && s[n - 2] == '"')
        n--;
    if (n < 2 || s[n - 1] != '"')
        return 0;
    size_t i = n - 1;
    while (i > 0 && s[i - 1] != '"')
        i--;
    if (i == 0)
        return 0;
    *ua = s + i;
    *un = n - 1 - i;
    return 1;
}

struct ua_count {
    size_t lines, hits, distinct, distinct_hits;
};

static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static struct ua_count count_log(const struct cw_recon *r, const char *rel, int verbose)
{
    struct ua_count c = {0, 0, 0, 0};
    size_t len;
    char *buf = cw_test_read_file(cw_test_shared(rel), &len);
    CHECK(buf != NULL);
    if (!buf)
        return c;
    char **seen = NULL;
    size_t nseen = 0;
    const char *p = buf, *end = buf + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        const char *ua;
        size_t un;
        if (line_ua(p, (size_t)(e - p), &ua, &un)) {
            c.lines++;
            if (cw_recon_match_ua(r, ua, un))
                c.hits++;
            seen = realloc(seen, (nseen + 1) * sizeof(char *));
            seen[nseen++] = strndup(ua, un);
        }
        p = nl ? nl + 1 : end;
    }
    qsort(seen, nseen, sizeof(char *), cmp_strp);
    for (size_t i = 0; i < nseen; i++) {
        if (i && strcmp(seen[i], seen[i - 1]) == 0)
            continue;
        c.distinct++;
        const char *hit = cw_recon_match_ua(r, seen[i], strlen(seen[i]));
        if (hit) {
            c.distinct_hits++;
            if (verbose)
                fprintf(stderr, "  %s: \"%s\" matches \"%s\"\n", rel, seen[i], hit);
        }
    }
    for (size_t i = 0; i < nseen; i++)
        free(seen[i]);
    free(seen);
    free(buf);
    return c;
}

static void test_real_user_agents(void)
{
    char err[512];
    struct cw_recon *r = cw_recon_load(NULL, ua_path, err, sizeof(err));
    CHECK(r != NULL);
    if (!r) {
        fprintf(stderr, "load: %s\n", err);
        return;
    }
    /* Counts measured with a Python re-implementation (last quoted field, substring
     * test on lower-cased strings). */
    /* w3af lab log: 3926 requests say "w3af.org"; the other 70 are the operator's
     * Firefox (two versions), which must not match. */
    struct ua_count c = count_log(r, "data/weblogs/ocatak-apache-http-logs/w3af.txt", 1);
    CHECK_EQ_INT(c.lines, 3996);
    CHECK_EQ_INT(c.hits, 3926);
    CHECK_EQ_INT(c.distinct, 3);
    CHECK_EQ_INT(c.distinct_hits, 1);
    /* Acunetix lab log: Acunetix sent a spoofed Chrome 41 user agent (6536 lines)
     * which no substring can tell from a browser; the two lines that match are w3af
     * requests ("...; Trident/4.0; w3af.sf.net)") in the same lab. */
    c = count_log(r, "data/weblogs/ocatak-apache-http-logs/acunetix.txt", 1);
    CHECK_EQ_INT(c.lines, 6539);
    CHECK_EQ_INT(c.hits, 2);
    CHECK_EQ_INT(c.distinct_hits, 1);
    /* Netsparker lab log: one spoofed Chrome user agent on every line: no match */
    c = count_log(r, "data/weblogs/ocatak-apache-http-logs/netsparker.txt", 1);
    CHECK_EQ_INT(c.lines, 7314);
    CHECK_EQ_INT(c.hits, 0);
    /* fail2ban apache-badbots: every labelled line ("match": true) is the
     * trackback spam bot "TrackBack/1.02" */
    c = count_log(r, "data/weblogs/fail2ban-testlogs/apache-badbots", 1);
    CHECK_EQ_INT(c.lines, 4);
    CHECK_EQ_INT(c.hits, 4);
    /* elastic-apache_logs.log: 9999 lines with a user agent, 558 distinct. None
     * matches: the bots in it are search engines (Googlebot, bingbot, Baiduspider,
     * YandexBot, Sogou, Exabot, MJ12bot, AhrefsBot, archive.org_bot ...), feed
     * readers (Feedfetcher-Google, FeedBurner, Tiny Tiny RSS, UniversalFeedParser,
     * Feedly ...), link checkers (Xenu, portscout, eZ Publish Link Validator) and
     * generic clients (curl, Wget, python-requests, Python-urllib, libwww-perl,
     * Ruby, Indy Library, HTTP_Request2), none of which is a scanner by its user
     * agent; the probes in this log (wp-admin, FCKeditor) come with browser user
     * agents. */
    c = count_log(r, "data/weblogs/elastic-apache_logs.log", 1);
    CHECK_EQ_INT(c.lines, 9999);
    CHECK_EQ_INT(c.distinct, 558);
    CHECK_EQ_INT(c.distinct_hits, 0);
    CHECK_EQ_INT(c.hits, 0);
    /* basjes: 27 distinct browser user agents of registration/login bots: none */
    c = count_log(r, "data/weblogs/basjes-hackers-access.log", 1);
    CHECK_EQ_INT(c.lines, 3456);
    CHECK_EQ_INT(c.distinct, 27);
    CHECK_EQ_INT(c.hits, 0);

    /* well-known scanner user agents (from the tools' sources and documentation) */
    static const struct {
        const char *ua, *want;
    } known[] = {
        {"Mozilla/5.0 zgrab/0.x", "zgrab"},
        {"masscan/1.3 (https://github.com/robertdavidgraham/masscan)", "masscan"},
        {"Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
         "nmap scripting engine"},
        {"Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000562)", "nikto"},
        {"sqlmap/1.7.2#stable (https://sqlmap.org)", "sqlmap"},
        {"Mozilla/5.0 (Windows NT 10.0) Nuclei - Open-source project "
         "(github.com/projectdiscovery/nuclei)",
         "projectdiscovery"},
        {"WPScan v3.8.22 (https://wpscan.com/wordpress-security-scanner)", "wpscan"},
        {"DirBuster-1.0-RC1 (http://www.owasp.org/index.php/Category:OWASP_DirBuster_Project)",
         "dirbuster"},
        {"gobuster/3.6", "gobuster"},
        {"Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)",
         "censysinspect"},
        {"Expanse, a Palo Alto Networks company, searches across the global IPv4 space "
         "multiple times per day to identify customers' presences on the Internet.",
         "expanse, a palo alto networks company"},
        {"l9explore/1.2.2", "l9explore"},
        {"Mozilla/5.0 [en] (X11, U; OpenVAS-VT 22.4.1)", "openvas"},
        {"Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0) (Nessus)", "nessus"},
        {"Fuzz Faster U Fool v2.1.0-dev", "fuzz faster u fool"},
        {"Mozilla/5.0 Jorgee", "jorgee"},
        {"python-requests/2.31.0", NULL},
        {"curl/8.5.0", NULL},
        {"Go-http-client/1.1", NULL},
        {"Wget/1.21.4", NULL},
        {"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", NULL},
        {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/120.0.0.0 Safari/537.36",
         NULL},
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        const char *got = cw_recon_match_ua(r, known[i].ua, strlen(known[i].ua));
        if (known[i].want ? (!got || strcmp(got, known[i].want) != 0) : got != NULL) {
            fprintf(stderr, "UA \"%s\": got %s, want %s\n", known[i].ua, got ? got : "NULL",
                    known[i].want ? known[i].want : "NULL");
            CHECK(0);
        } else {
            CHECK(1);
        }
    }

    /* The index against a naive search: patterns read from the file here, user
     * agents built from pieces of patterns, random case and filler bytes. */
    {
        size_t flen;
        char *f = cw_test_read_file(ua_path, &flen);
        char *pats[512];
        size_t np = 0;
        for (char *line = f, *save = NULL; f && (line = strtok_r(line, "\n", &save)); line = NULL) {
            while (*line == ' ' || *line == '\t')
                line++;
            size_t ln = strlen(line);
            while (ln && (line[ln - 1] == ' ' || line[ln - 1] == '\t' || line[ln - 1] == '\r'))
                line[--ln] = '\0';
            if (ln && line[0] != '#' && np < 512)
                pats[np++] = line;
        }
        CHECK_EQ_INT(np, 59);
        uint64_t x = 12345;
        size_t agree = 0, hits = 0;
        for (int t = 0; t < 20000; t++) {
            char u[256];
            size_t un = 0;
            x = x * 6364136223846793005u + 1442695040888963407u;
            int parts = 1 + (int)((x >> 60) & 3);
            for (int k = 0; k < parts && np; k++) {
                x = x * 6364136223846793005u + 1442695040888963407u;
                const char *pp = pats[(x >> 33) % np];
                size_t pl = strlen(pp), from = (x >> 20) % pl, cnt = 1 + (x >> 8) % pl;
                if ((x >> 7) & 1) { /* the whole pattern, half of the time */
                    from = 0;
                    cnt = pl;
                }
                if (from + cnt > pl)
                    cnt = pl - from;
                for (size_t q = 0; q < cnt && un < sizeof(u) - 2; q++) {
                    char ch = pp[from + q];
                    if ((x >> (q % 40)) & 1)
                        ch = (char)(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
                    u[un++] = ch;
                }
                if ((x >> 50) & 1)
                    u[un++] = ' ';
            }
            const char *got = cw_recon_match_ua(r, u, un);
            const char *want = NULL;
            for (size_t k = 0; k < np && !want; k++) {
                size_t pl = strlen(pats[k]);
                for (size_t q = 0; q + pl <= un && !want; q++)
                    if (strncasecmp(u + q, pats[k], pl) == 0)
                        want = pats[k];
            }
            if ((got == NULL) == (want == NULL) && (!got || strcasecmp(got, want) == 0))
                agree++;
            else if (agree + 10 > (size_t)t)
                fprintf(stderr, "UA \"%.*s\": got %s, want %s\n", (int)un, u,
                        got ? got : "NULL", want ? want : "NULL");
            hits += want != NULL;
        }
        CHECK_EQ_INT(agree, 20000);
        CHECK(hits > 5000);
        fprintf(stderr, "match_ua vs naive: %zu agree, %zu with a match\n", agree, hits);
        free(f);
    }

    /* cost per user agent over the elastic log's lines (nearly all miss, the
     * worst case: every pattern is tried) */
    size_t len;
    char *buf = cw_test_read_file(cw_test_shared("data/weblogs/elastic-apache_logs.log"), &len);
    if (buf) {
        size_t n = 0, hits = 0;
        uint64_t t0 = now_ns();
        for (int rep = 0; rep < 5; rep++) {
            const char *p = buf, *end = buf + len;
            while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                const char *e = nl ? nl : end, *ua;
                size_t un;
                if (line_ua(p, (size_t)(e - p), &ua, &un)) {
                    n++;
                    hits += cw_recon_match_ua(r, ua, un) != NULL;
                }
                p = nl ? nl + 1 : end;
            }
        }
        uint64_t t1 = now_ns();
        fprintf(stderr, "match_ua: %.1f ns per user agent over %zu (%zu hits)\n",
                (double)(t1 - t0) / (double)n, n, hits);
        free(buf);
    }
    cw_recon_free(r);
}

int main(void)
{
    test_parse_and_normalise();
    test_extremes();
    test_merge_and_names();
    test_other_types_and_errors();
    test_loader();
    test_real_lists();
    test_real_user_agents();
    return cw_test_finish("test_recon");
}
