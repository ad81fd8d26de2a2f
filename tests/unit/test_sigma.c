/* test_sigma.c - the Sigma engine against the Sigma repository and unit cases. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "detect/sigma_rule.h"
#include "detect/sigma_ruleset.h"
#include "detect/sigma_yaml.h"
#include "formats/format.h"
#include "formats/json_docs.h"
#include "testlib.h"

/* Measured on the shared snapshot (SOURCE_COMMIT of ../shared/data/sigma): 3,754
 * rule files, 3,752 supported (99.95%); the 2 skipped use the `expand`
 * placeholder modifier, which needs per-site values. */
#define MEASURED_SUPPORTED 3752

static char fieldmap[4096];

static void init_rs(struct sigma_ruleset *rs)
{
    char err[256];
    int rc = sigma_ruleset_init(rs, fieldmap, err, sizeof(err));
    if (rc)
        fprintf(stderr, "fieldmap: %s\n", err);
    CHECK(rc == 0);
}

/* Parse records of format fmt from text (JSON documents are split into lines). */
static void parse_records(struct cw_batch *b, const char *fmt, const char *text, size_t n,
                          struct cw_buf *lines)
{
    struct cw_parse_ctx ctx = {1, 1, 0};
    const struct cw_format *f = cw_format_find(fmt);
    CHECK(f != NULL);
    if (!strcmp(fmt, "winevent-json")) {
        CHECK(cw_json_docs_to_lines(text, n, lines) >= 0);
        text = lines->data;
        n = lines->len;
    }
    cw_format_parse_body(f, b, &ctx, text, n, CW_MAX_LINE_DEFAULT, NULL);
}

/* Number of records of b on which rule id fires. */
static int count_hits(const struct sigma_ruleset *rs, const char *id, const struct cw_batch *b)
{
    const struct sigma_entry *e = sigma_ruleset_find(rs, id);
    struct sigma_evalctx *c = sigma_evalctx_new();
    int hits = 0;
    if (!e || !c) {
        sigma_evalctx_free(c);
        return -1;
    }
    for (uint32_t i = 0; i < b->n; i++) {
        sigma_evalctx_reset(c, &b->recs[i]);
        hits += sigma_logsource_admits(&e->ls, &b->recs[i]) && sigma_eval_rule(&e->rule, c, NULL);
    }
    sigma_evalctx_free(c);
    return hits;
}

/* One rule from text + records in format fmt: how many records fire. */
static int fire(const char *rule, const char *fmt, const char *recs)
{
    struct sigma_ruleset rs;
    struct cw_batch b;
    struct cw_buf lines = CW_BUF_INIT;
    init_rs(&rs);
    int rc = sigma_ruleset_add(&rs, "inline.yml", rule, strlen(rule));
    if (rc != 0) {
        fprintf(stderr, "rule skipped: line %u: %s\n", rs.rep[rs.nrep - 1].line,
                rs.rep[rs.nrep - 1].reason);
        sigma_ruleset_release(&rs);
        return -1;
    }
    cw_batch_init(&b);
    parse_records(&b, fmt, recs, strlen(recs), &lines);
    int hits = count_hits(&rs, rs.rules[0].rule.id, &b);
    cw_batch_release(&b);
    cw_buf_release(&lines);
    sigma_ruleset_release(&rs);
    return hits;
}

/* Reason a rule text is skipped with, or NULL when it loads. Static buffer. */
static const char *skip_reason(const char *rule, size_t n, uint32_t *line)
{
    static char why[256];
    struct sigma_ruleset rs;
    init_rs(&rs);
    int rc = sigma_ruleset_add(&rs, "inline.yml", rule, n);
    const char *r = NULL;
    if (rc == 1) {
        snprintf(why, sizeof(why), "%s", rs.rep[rs.nrep - 1].reason);
        *line = rs.rep[rs.nrep - 1].line;
        r = why;
    }
    sigma_ruleset_release(&rs);
    return r;
}

#define HDR "title: t\nid: 11111111-2222-3333-4444-555555555555\nlevel: high\n"
#define WEB "logsource:\n  category: webserver\n"
#define WIN "logsource:\n  category: process_creation\n  product: windows\n"

static const char *proc_event(const char *cmd, char *buf, size_t n)
{
    snprintf(buf, n,
             "{\"Event\":{\"System\":{\"Provider\":{\"#attributes\":{\"Name\":\"Microsoft-Windows-"
             "Sysmon\"}},\"EventID\":1,\"TimeCreated\":{\"#attributes\":{\"SystemTime\":\"2025-01-"
             "01T00:00:00Z\"}},\"Channel\":\"Microsoft-Windows-Sysmon/Operational\",\"Computer\":"
             "\"pc1\"},\"EventData\":{\"Image\":\"C:\\\\Windows\\\\System32\\\\cmd.exe\","
             "\"CommandLine\":\"%s\",\"ProcessId\":42,\"Company\":\"Microsoft\"}}}\n",
             cmd);
    return buf;
}

static void test_modifiers(void)
{
    char ev[2048];
    const char *acc = "10.1.2.3 - - [01/Jan/2025:00:00:00 +0000] \"GET /a/../../etc/passwd?x=1 "
                      "HTTP/1.1\" 404 12 \"-\" \"curl/8.0\"\n";
    CHECK_EQ_INT(fire(HDR WEB "detection:\n  s:\n    cs-uri-stem|contains: '/etc/passwd'\n"
                              "  condition: s\n", "combined", acc), 1);
    CHECK_EQ_INT(fire(HDR WEB "detection:\n  s:\n    cs-uri-stem|startswith: '/A/'\n"
                              "  condition: s\n", "combined", acc), 1);
    CHECK_EQ_INT(fire(HDR WEB "detection:\n  s:\n    cs-uri-stem|startswith|cased: '/A/'\n"
                              "  condition: s\n", "combined", acc), 0);
    CHECK_EQ_INT(fire(HDR WEB "detection:\n  s:\n    cs-uri-stem|endswith: 'passwd'\n"
                              "    sc-status: 404\n  condition: s\n", "combined", acc), 1);
    CHECK_EQ_INT(fire(HDR WEB "detection:\n  s:\n    cs-uri-stem: '/a/*/etc/pass?d'\n"
                              "  condition: s\n", "combined", acc), 1);
    CHECK_EQ_INT(fire(HDR WEB "detection:\n  s:\n    cs-uri-stem: '/a/\\*'\n"
                              "  condition: s\n", "combined", acc), 0);
    CHECK_EQ_INT(fire(HDR WEB "detection:\n  s:\n    cs-uri: '*passwd?x=1'\n"
                              "  condition: s\n", "combined", acc), 1);
    CHECK_EQ_INT(fire(HDR WEB "detection:\n  s:\n    cs-uri-stem|contains|all:\n      - etc\n"
                              "      - nothere\n  condition: s\n", "combined", acc), 0);
    CHECK_EQ_INT(fire(HDR WEB "detection:\n  s:\n    cs-uri-stem|contains|all:\n      - etc\n"
                              "      - passwd\n  condition: s\n", "combined", acc), 1);
    CHECK_EQ_INT(fire(HDR WEB "detection:\n  s:\n    cs-uri-stem|re: '^/a/(\\.\\./)+etc'\n"
                              "  condition: s\n", "combined", acc), 1);
    CHECK_EQ_INT(fire(HDR WEB "detection:\n  s:\n    cs-uri-stem|re: '^/A/'\n"
                              "  condition: s\n", "combined", acc), 0);
    CHECK_EQ_INT(fire(HDR WEB "detection:\n  s:\n    cs-uri-stem|re|i: '^/A/'\n"
                              "  condition: s\n", "combined", acc), 1);
    CHECK_EQ_INT(fire(HDR WEB "detection:\n  s:\n    c-ip|cidr: '10.0.0.0/8'\n"
                              "  condition: s\n", "combined", acc), 1);
    CHECK_EQ_INT(fire(HDR WEB "detection:\n  s:\n    c-ip|cidr: '10.2.0.0/16'\n"
                              "  condition: s\n", "combined", acc), 0);
    CHECK_EQ_INT(fire(HDR WEB "detection:\n  s:\n    sc-status|gte: 400\n    sc-status|lt: 405\n"
                              "  condition: s\n", "combined", acc), 1);
    CHECK_EQ_INT(fire(HDR WEB "detection:\n  s:\n    sc-status|gt: 404\n"
                              "  condition: s\n", "combined", acc), 0);
    CHECK_EQ_INT(fire(HDR WEB "detection:\n  s:\n    cs-referer|exists: true\n"
                              "  condition: s\n", "combined", acc), 0);
    CHECK_EQ_INT(fire(HDR WEB "detection:\n  s:\n    cs-user-agent|exists: true\n"
                              "  condition: s\n", "combined", acc), 1);
    CHECK_EQ_INT(fire(HDR WEB "detection:\n  s:\n    cs-referer: null\n"
                              "  condition: s\n", "combined", acc), 1);
    CHECK_EQ_INT(fire(HDR WEB "detection:\n  keywords:\n    - 'curl/8'\n"
                              "  condition: keywords\n", "combined", acc), 1);
    CHECK_EQ_INT(fire(HDR WEB "detection:\n  keywords:\n    - 'wget'\n"
                              "  condition: not keywords\n", "combined", acc), 1);
    /* windash, base64offset, wide, fieldref on Windows events */
    CHECK_EQ_INT(fire(HDR WIN "detection:\n  s:\n    CommandLine|windash|contains: ' -enc '\n"
                              "  condition: s\n", "winevent-json",
                      proc_event("powershell /enc AAAA", ev, sizeof(ev))), 1);
    CHECK_EQ_INT(fire(HDR WIN "detection:\n  s:\n    CommandLine|windash|contains: ' -enc '\n"
                              "  condition: s\n", "winevent-json",
                      proc_event("powershell \xe2\x80\x93" "enc AAAA", ev, sizeof(ev))), 1);
    /* "IEX (New" base64 at offset 0: SUVYIChOZXc= ; embedded in a longer blob */
    CHECK_EQ_INT(fire(HDR WIN "detection:\n  s:\n    CommandLine|base64offset|contains: 'IEX (New'\n"
                              "  condition: s\n", "winevent-json",
                      proc_event("powershell -e xSUVYIChOZXcgT2JqZWN0", ev, sizeof(ev))), 1);
    CHECK_EQ_INT(fire(HDR WIN "detection:\n  s:\n    CommandLine|base64|contains: 'IEX (New'\n"
                              "  condition: s\n", "winevent-json",
                      proc_event("powershell -e SUVYIChOZXc=", ev, sizeof(ev))), 1);
    /* wide|base64offset: UTF-16LE "IEX" = SQBFAFgA */
    CHECK_EQ_INT(fire(HDR WIN "detection:\n  s:\n    CommandLine|wide|base64offset|contains: 'IEX'\n"
                              "  condition: s\n", "winevent-json",
                      proc_event("powershell -e SQBFAFgAIAA=", ev, sizeof(ev))), 1);
    CHECK_EQ_INT(fire(HDR WIN "detection:\n  s:\n    Image|fieldref|endswith: OriginalFileName\n"
                              "  condition: s\n", "winevent-json",
                      proc_event("x", ev, sizeof(ev))), 0);
    CHECK_EQ_INT(fire(HDR WIN "detection:\n  s:\n    Company: microsoft\n    ProcessId|lt: 43\n"
                              "  condition: s\n", "winevent-json",
                      proc_event("x", ev, sizeof(ev))), 1);
    CHECK_EQ_INT(fire(HDR WIN "detection:\n  s:\n    Company|cased: microsoft\n"
                              "  condition: s\n", "winevent-json",
                      proc_event("x", ev, sizeof(ev))), 0);
}

static void test_conditions(void)
{
    const char *acc = "1.2.3.4 - - [01/Jan/2025:00:00:00 +0000] \"GET /x HTTP/1.1\" 200 1 \"-\" "
                      "\"ua\"\n";
#define SELS "detection:\n  sel_a:\n    cs-method: GET\n  sel_b:\n    cs-uri-stem: /x\n" \
             "  filter_c:\n    sc-status: 500\n  _hidden:\n    sc-status: 200\n"
    CHECK_EQ_INT(fire(HDR WEB SELS "  condition: sel_a and sel_b and not filter_c\n", "combined",
                      acc), 1);
    CHECK_EQ_INT(fire(HDR WEB SELS "  condition: all of sel_* and not 1 of filter_*\n",
                      "combined", acc), 1);
    CHECK_EQ_INT(fire(HDR WEB SELS "  condition: all of them\n", "combined", acc), 0);
    CHECK_EQ_INT(fire(HDR WEB SELS "  condition: 1 of them\n", "combined", acc), 1);
    CHECK_EQ_INT(fire(HDR WEB SELS "  condition: filter_c or (sel_a and not (sel_b))\n",
                      "combined", acc), 0);
    CHECK_EQ_INT(fire(HDR WEB SELS "  condition: not sel_a or sel_b and _hidden\n", "combined",
                      acc), 1);
    CHECK_EQ_INT(fire(HDR WEB SELS "  condition:\n    - filter_c\n    - sel_a\n", "combined", acc),
                 1);
    /* refused with reasons */
    static const struct {
        const char *cond, *why;
    } bad[] = {
        {"sel_a | count() > 5", "aggregation"}, {"sel_a and", "end of condition"},
        {"(sel_a", "missing ')'"},              {"sel_a)", "unbalanced"},
        {"nosuch", "undefined selection"},      {"1 of zz*", "matches no selection"},
        {"sel_a near sel_b", "unexpected text"}, {"sel_*", "wildcard"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char rule[1024];
        uint32_t line = 0;
        int n = snprintf(rule, sizeof(rule), HDR WEB SELS "  condition: %s\n", bad[i].cond);
        const char *why = skip_reason(rule, (size_t)n, &line);
        CHECK(why && strstr(why, bad[i].why));
        if (why && !strstr(why, bad[i].why))
            fprintf(stderr, "  %s -> %s\n", bad[i].cond, why);
        CHECK_EQ_INT(line, 15);
    }
    struct cw_arena a;
    struct sigma_cond *c;
    const char *why;
    struct sigma_sel one = {"s", NULL, 0, 1};
    cw_arena_init(&a, 4096, 1 << 20);
    char deep[600];
    memset(deep, '(', 300);
    memcpy(deep + 300, "s", 1);
    memset(deep + 301, ')', 299);
    CHECK(sigma_cond_parse(&a, deep, 600, &one, 1, &c, &why) == -1 && strstr(why, "deep"));
    cw_arena_release(&a);
}

static void test_bad_rules(void)
{
    static const struct {
        const char *text, *why;
        uint32_t line;
    } bad[] = {
        {HDR WEB "detection:\n  s:\n    f|expand: '%x%'\n  condition: s\n", "unsupported modifier",
         8},
        {HDR WEB "detection:\n  s:\n    f|nosuch: 'x'\n  condition: s\n", "unsupported modifier", 8},
        {HDR WEB "detection:\n  s:\n    f|contains|startswith: 'x'\n  condition: s\n",
         "conflicting", 8},
        {HDR WEB "detection:\n  s:\n    f|i: 'x'\n  condition: s\n", "without a preceding 're'", 8},
        {HDR WEB "detection:\n  s:\n    f|re: '(unclosed'\n  condition: s\n", "invalid regex", 8},
        {HDR WEB "detection:\n  s:\n    f|re: '(a+)+$'\n  condition: s\n", "catastroph", 8},
        {HDR WEB "detection:\n  s:\n    f|cidr: '10.0.0.0/33'\n  condition: s\n", "CIDR", 8},
        {HDR WEB "detection:\n  s:\n    f|gt: abc\n  condition: s\n", "integer", 8},
        {HDR WEB "detection:\n  s:\n    f|exists: maybe\n  condition: s\n", "true or false", 8},
        {HDR WEB "detection:\n  s:\n    f|base64: 'a*b'\n  condition: s\n", "wildcards", 8},
        {HDR WEB "detection:\n  s:\n    f: &a x\n    g: *a\n  condition: s\n", "aliases", 9},
        {HDR WEB "detection:\n  s:\n    f: x\n  timeframe: 5m\n  condition: s\n", "timeframe", 9},
        /* a YAML stream: each document is a rule of its own (the second has no id) */
        {HDR WEB "detection:\n  s:\n    f: x\n  condition: s\n---\ntitle: b\n", "id", 11},
        /* legacy collections (action: global / repeat) stay refused whole */
        {"action: global\n" HDR WEB "---\ndetection:\n  s:\n    f: x\n  condition: s\n",
         "more than one", 7},
        {HDR WEB "detection:\n  s:\n    f: {a: b}\n  condition: s\n", "scalar", 8},
        {HDR WEB "detection:\n  s:\n    f: x\n", "without condition", 7},
        {"title: t\nlogsource: {}\ndetection: {s: {a: b}, condition: s}\n", "id", 1},
        {HDR WEB "detection:\n  s: [\n", "YAML syntax", 8},
        {HDR "correlation:\n  type: event_count\n", "missing correlation rules", 4},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint32_t line = 0;
        const char *why = skip_reason(bad[i].text, strlen(bad[i].text), &line);
        CHECK(why && strstr(why, bad[i].why));
        if (!why || !strstr(why, bad[i].why) || line != bad[i].line)
            fprintf(stderr, "  bad[%zu]: line %u: %s\n", i, line, why ? why : "(loaded)");
        CHECK_EQ_INT(line, bad[i].line);
    }
}

/* Hostile YAML: refused quickly with a reason, bounded memory. */
static void test_hostile_yaml(void)
{
    size_t n = 200000;
    char *t = malloc(n + 64);
    uint32_t line;
    const char *why;
    clock_t t0 = clock();
    /* deep flow nesting */
    memset(t, '[', n);
    why = skip_reason(t, n, &line);
    CHECK(why && strstr(why, "nested too deeply"));
    /* deep block nesting */
    size_t k = 0;
    for (int d = 0; d < 100 && k + 300 < n; d++) {
        for (int s = 0; s < d * 2; s++)
            t[k++] = ' ';
        k += (size_t)snprintf(t + k, 40, "k%d:\n", d);
    }
    why = skip_reason(t, k, &line);
    CHECK(why && strstr(why, "nested too deeply"));
    /* alias bomb */
    const char *bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a]\n"
                       "c: &c [*b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c]\n";
    why = skip_reason(bomb, strlen(bomb), &line);
    CHECK(why && strstr(why, "aliases") && line == 2);
    /* huge scalar */
    memcpy(t, "title: ", 7);
    memset(t + 7, 'x', n - 7);
    why = skip_reason(t, n, &line);
    CHECK(why && strstr(why, "scalar too long"));
    /* many nodes */
    k = (size_t)snprintf(t, 32, "tags: [");
    while (k + 4 < n) {
        memcpy(t + k, "a, ", 3);
        k += 3;
    }
    t[k++] = ']';
    why = skip_reason(t, k, &line);
    CHECK(why && strstr(why, "too many YAML nodes"));
    /* too large file */
    char *big = calloc(1, SIGMA_MAX_FILE + 2);
    memset(big, '#', SIGMA_MAX_FILE + 1);
    why = skip_reason(big, SIGMA_MAX_FILE + 1, &line);
    CHECK(why && strstr(why, "too large"));
    free(big);
    free(t);
    CHECK((double)(clock() - t0) / CLOCKS_PER_SEC < 5.0);
}

static void test_urlnorm(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"/a/..%2f..%2fetc/passwd", "/a/../../etc/passwd"},
        {"/a/%2e%2E%2F", "/a/../"},
        {"/a/%252e%252e%252f", "/a/../"},
        {"/a/%25252e", "/a/."},
        {"/a/%u002e%u002E/", "/a/../"},
        {"/a/%c0%ae%c0%ae%c0%af", "/a/../"},
        {"/a/%e0%80%ae", "/a/."},
        {"/plain", "/plain"},
        {"/bad%zz%4", "/bad%zz%4"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[256];
        size_t n = sigma_url_normalize(cases[i].in, strlen(cases[i].in), out, sizeof(out));
        CHECK_EQ_MEM(out, n, cases[i].out);
    }
    /* a rule for "../" fires on the encoded forms; the raw form stays matchable */
    const char *rule = HDR WEB "detection:\n  s:\n    cs-uri-stem|contains: '../'\n"
                               "  condition: s\n";
    const char *raw = HDR WEB "detection:\n  s:\n    cs-uri-stem|contains: '%2e%2e%2f'\n"
                              "  condition: s\n";
    const char *lines = "1.2.3.4 - - [01/Jan/2025:00:00:00 +0000] \"GET /a/%2e%2e%2fetc HTTP/1.1\" "
                        "200 1 \"-\" \"ua\"\n"
                        "1.2.3.4 - - [01/Jan/2025:00:00:00 +0000] \"GET /a/%252E%252E%252Fetc "
                        "HTTP/1.1\" 200 1 \"-\" \"ua\"\n"
                        "1.2.3.4 - - [01/Jan/2025:00:00:00 +0000] \"GET /a/%c0%ae%c0%ae/etc "
                        "HTTP/1.1\" 200 1 \"-\" \"ua\"\n"
                        "1.2.3.4 - - [01/Jan/2025:00:00:00 +0000] \"GET /a/b HTTP/1.1\" 200 1 "
                        "\"-\" \"ua\"\n";
    CHECK_EQ_INT(fire(rule, "combined", lines), 3);
    CHECK_EQ_INT(fire(raw, "combined", lines), 1);
}

static void test_glob(void)
{
    CHECK(sigma_glob("a\x01" "b", 3, "aXXb", 4, false));
    CHECK(sigma_glob("\x01", 1, "", 0, false));
    CHECK(!sigma_glob("a\x02", 2, "a", 1, false));
    CHECK(sigma_glob("A\x02", 2, "ax", 2, false));
    CHECK(!sigma_glob("A\x02", 2, "ax", 2, true));
    CHECK(sigma_glob("\x01" "a\x01" "b\x01", 5, "xxaxxbxx", 8, false));
    CHECK(sigma_glob("\x01" "ab", 3, "abab", 4, false));
    CHECK(!sigma_glob("ab\x01" "ba", 5, "aba", 3, false)); /* head and tail may not overlap */
    CHECK(sigma_glob("\x01" "/\x02t\x01" "x\x01", 7, "a/b/etcxx", 9, false));
    CHECK(sigma_glob("\x01" "SELECT\x01", 8, "q=1 union select 2", 18, false));
    CHECK(!sigma_glob("\x01" "SELECT\x01", 8, "q=1 union select 2", 18, true));
}

/* Backtracking glob, the textbook way: the oracle for sigma_glob's piece search. */
static bool oracle_glob(const char *p, size_t pn, const char *s, size_t sn, bool cased)
{
    if (!pn)
        return !sn;
    if (p[0] == '\x01') {
        for (size_t k = 0; k <= sn; k++)
            if (oracle_glob(p + 1, pn - 1, s + k, sn - k, cased))
                return true;
        return false;
    }
    if (!sn)
        return false;
    char a = p[0], b = s[0];
    if (!cased) {
        a = (char)(a >= 'A' && a <= 'Z' ? a + 32 : a);
        b = (char)(b >= 'A' && b <= 'Z' ? b + 32 : b);
    }
    return (p[0] == '\x02' || a == b) && oracle_glob(p + 1, pn - 1, s + 1, sn - 1, cased);
}

/* sigma_glob against the oracle on random patterns and strings over a small
 * alphabet (both cases, a non-letter, '*', '?'), so pieces overlap and repeat. */
static void test_glob_random(void)
{
    static const char pa[] = "aAb/\x01\x02", sa[] = "aAbB/";
    uint64_t x = 0x9e3779b97f4a7c15ull;
    int mismatches = 0;
    for (int round = 0; round < 200000; round++) {
        char p[8], s[12];
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t pn = x % 8, sn = (x >> 8) % 12;
        for (size_t i = 0; i < pn; i++)
            p[i] = pa[(x >> (16 + 3 * i)) % 6];
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        for (size_t i = 0; i < sn; i++)
            s[i] = sa[(x >> (3 * i)) % 5];
        bool cased = (x >> 60) & 1;
        if (sigma_glob(p, pn, s, sn, cased) != oracle_glob(p, pn, s, sn, cased) && ++mismatches < 5)
            fprintf(stderr, "glob mismatch: pattern %.*s value %.*s cased %d\n", (int)pn, p,
                    (int)sn, s, cased);
    }
    CHECK_EQ_INT(mismatches, 0);
}

/* -- the Sigma repository --------------------------------------------------- */

static void load_all(struct sigma_ruleset *rs)
{
    static const char *const dirs[] = {"data/sigma/rules", "data/sigma/rules-emerging-threats",
                                       "data/sigma/rules-threat-hunting"};
    char err[512];
    for (size_t i = 0; i < 3; i++) {
        int rc = sigma_ruleset_load_dir(rs, cw_test_shared(dirs[i]), err, sizeof(err));
        if (rc)
            fprintf(stderr, "%s\n", err);
        CHECK(rc == 0);
    }
}

static void test_repository(struct sigma_ruleset *rs)
{
    uint32_t total = rs->nsupported + rs->nskipped;
    printf("sigma rules: %u files, %u supported (%.2f%%, %u of them dormant: no input yet), "
           "%u skipped\n",
           total, rs->nsupported, total ? 100.0 * rs->nsupported / total : 0.0, rs->ndormant,
           rs->nskipped);
    for (uint32_t i = 0; i < rs->nrep; i++)
        if (rs->rep[i].reason)
            printf("  skipped %s:%u: %s\n", rs->rep[i].file, rs->rep[i].line, rs->rep[i].reason);
    /* measured on the shared snapshot: see the counts printed above */
    CHECK_EQ_INT(total, 3754);
    CHECK(rs->nsupported >= MEASURED_SUPPORTED);
    CHECK(rs->nsupported * 100 >= total * 98);
}

/* Value of "key: value" on a line of an info.yml (the test reads them with the
 * engine's own bounded YAML reader). */
static void test_regression(const struct sigma_ruleset *rs)
{
    char list[512];
    snprintf(list, sizeof(list), "find %s -name info.yml | sort",
             cw_test_shared("data/sigma/regression_data"));
    FILE *p = popen(list, "r");
    char path[4096];
    int cases = 0, passed = 0, nocount = 0;
    CHECK(p != NULL);
    while (p && fgets(path, sizeof(path), p)) {
        path[strcspn(path, "\n")] = '\0';
        size_t n;
        char *text = cw_test_read_file(path, &n);
        struct cw_arena a;
        struct sigma_err err;
        cw_arena_init(&a, 4096, 0);
        const struct sy_node *root = text ? sigma_yaml_parse(&a, text, n, &err) : NULL;
        const struct sy_node *meta = sigma_yaml_get(root, "rule_metadata");
        const struct sy_node *rti = sigma_yaml_get(root, "regression_tests_info");
        if (!meta || meta->type != SY_SEQ || !meta->nkids || !rti || rti->type != SY_SEQ) {
            free(text);
            cw_arena_release(&a);
            continue; /* commented-out case (raw Cisco log) */
        }
        const struct sy_node *idn = sigma_yaml_get(meta->kids[0], "id");
        const struct sy_node *mc = sigma_yaml_get(rti->kids[0], "match_count");
        const struct sy_node *pth = sigma_yaml_get(rti->kids[0], "path");
        CHECK(idn && pth);
        /* the .json next to info.yml holds the events of the .evtx */
        char json[4096];
        snprintf(json, sizeof(json), "%.*s/%s", (int)(strrchr(path, '/') - path), path,
                 strrchr(pth->s, '/') + 1);
        char *dot = strrchr(json, '.');
        snprintf(dot, 6, ".json");
        size_t jn;
        char *events = cw_test_read_file(json, &jn);
        CHECK(events != NULL);
        struct cw_batch b;
        struct cw_buf lines = CW_BUF_INIT;
        cw_batch_init(&b);
        if (events)
            parse_records(&b, "winevent-json", events, jn, &lines);
        int want = mc ? atoi(mc->s) : -1;
        /* Four cases where info.yml's match_count (1) is below the events that satisfy
         * the rule. Not a logsource-mapping or duplicate problem: every extra event is
         * on Microsoft-Windows-Sysmon/Operational with the EventID the reference maps
         * the category to (SigmaHQ tests/thor.yml: file_event -> EventID 11,
         * registry_set -> EventID 13, as sigma_logsource.c), has its own
         * EventRecordID, and matches the selection and no filter:
         *   anydesk artefact (EID 11): records 14985 user.conf.new,
         *     14988 user.conf~RF2d9c20d.TMP, 14990 user.conf.new (service.conf* do not match)
         *   cred-dump dropped files (EID 11): 26359 procdump64.exe, 26366 procdump64a.exe,
         *     26373 procdump.exe (the :Zone.Identifier streams do not end with .exe)
         *   IE domain zone (EID 13): 28344631/32/33 under ZoneMap\Domains, keys
         *     bad-domain.com\bad-subdomain\{https,http,*}, Details DWORD (0x00000002)
         *   administrative share (EID 13): 28656599 AutoShareServer, 28656618 AutoShareWks,
         *     both DWORD (0x00000000)
         * The upstream .evtx files hold the same events (chunk headers: 5, 6, 3, 2
         * records, same TargetFilename/TargetObject strings), so the reference finds
         * them too. Upstream treats match_count as a lower bound: at SOURCE_COMMIT
         * 8eaafff1f, tests/regression_tests_runner.py fails only when the count is
         * below match_count and for a higher count prints "Warning: Got N matches but
         * only M expected - consider updating match_count in info.yml" and passes.
         * Asserting 1 would need the engine to drop true matches; we assert the
         * Sigma-correct counts below (each >= match_count, checked). */
        static const struct {
            const char *id;
            int sigma_count;
        } stale[] = {
            {"0b9ad457-2554-44c1-82c2-d56a99c42377", 3}, /* user.conf.new x2, user.conf~RF.TMP */
            {"8fbf3271-1ef6-4e94-8210-03c2317947f6", 3}, /* procdump64/64a/.exe, not :Zone.Identifier */
            {"45e112d0-7759-4c2a-aa36-9f8fb79d3393", 3}, /* https, http, * subkeys */
            {"c7dcacd0-cc59-4004-b0a4-1d6cdebe6f3e", 2}, /* AutoShareServer, AutoShareWks */
        };
        for (size_t k = 0; idn && k < sizeof(stale) / sizeof(stale[0]); k++)
            if (!strcmp(idn->s, stale[k].id)) {
                printf("  regression %s: match_count %d, asserting %d (see test)\n", idn->s,
                       want, stale[k].sigma_count);
                CHECK(stale[k].sigma_count >= want);
                want = stale[k].sigma_count;
            }
        int got = count_hits(rs, idn->s, &b);
        cases++;
        /* info.yml without match_count: the case only says "fires" */
        bool ok = want >= 0 ? got == want : got >= 1;
        nocount += want < 0;
        passed += ok;
        if (!ok)
            printf("  regression FAIL %s: rule %s want %d got %d (%u events, %u rejected)\n",
                   json, idn->s, want, got, b.n, b.nrej);
        CHECK(ok);
        cw_batch_release(&b);
        cw_buf_release(&lines);
        free(events);
        free(text);
        cw_arena_release(&a);
    }
    if (p)
        pclose(p);
    printf("sigma regression: %d cases, %d pass (%d without match_count: assert >= 1)\n", cases,
           passed, nocount);
    CHECK_EQ_INT(cases, 146);
}

int main(void)
{
    const char *src = getenv("CW_SOURCE_DIR");
    snprintf(fieldmap, sizeof(fieldmap), "%s/rules/fieldmap.conf", src ? src : "..");
    test_glob();
    test_glob_random();
    test_urlnorm();
    test_modifiers();
    test_conditions();
    test_bad_rules();
    test_hostile_yaml();
    struct sigma_ruleset rs;
    init_rs(&rs);
    load_all(&rs);
    test_repository(&rs);
    test_regression(&rs);
    sigma_ruleset_release(&rs);
    return cw_test_finish("test_sigma");
}
