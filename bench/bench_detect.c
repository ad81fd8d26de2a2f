/* bench_detect.c - Sigma detection throughput: the compiled engine (Hyperscan
 * prefilter, sigma_compile.h) beside the naive per-rule evaluation, same run.
 *
 * Not a test: it prints figures (docs/performance.md "Detection" keeps them).
 *
 * Input: replayed real access logs (bench_data.h, the same 1M lines as the
 * ingest bench), parsed chunk by chunk with the combined parser outside the
 * clock. Rules: every real Sigma rule of the snapshot whose logsource category
 * is webserver or proxy (rules/web, rules-threat-hunting/web, and the web ones of
 * rules-emerging-threats), then generated variants: copies of the real rules with
 * a new id and every string value of the detection section perturbed (a short
 * tag appended, so each variant has its own literals), until the set is large
 * enough. Rule sets of 10, 100, 1,000 and 2,000 rules are the first N of that
 * list (real rules first).
 *
 * Per set: cw_detect_sigma() (compiled) over every chunk, and
 * cw_detect_sigma_reference() (every rule on every record) over the first
 * --naive-lines lines; both are timed with CLOCK_THREAD_CPUTIME_ID around the
 * detector call only, so the figures are records per CPU-second of one core.
 * The ratio compares the two on the same records. Both must produce identical
 * detections on the records both saw (exit status 1 otherwise). */
#include <ftw.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench_data.h"
#include "common/buf.h"
#include "common/record.h"
#include "detect/sigma_compile.h"
#include "detect/sigma_ruleset.h"
#include "formats/format.h"
#include "common/banned.h"

#ifndef CW_BENCH_SHARED_DEFAULT
#define CW_BENCH_SHARED_DEFAULT "../shared"
#endif
#ifndef CW_BENCH_SOURCE_DIR
#define CW_BENCH_SOURCE_DIR "."
#endif
#ifndef CW_BENCH_BUILD_TYPE
#define CW_BENCH_BUILD_TYPE "?"
#endif

static const uint32_t set_sizes[] = {10, 100, 1000, 2000};
#define NSETS (sizeof(set_sizes) / sizeof(set_sizes[0]))

/* -- rule texts -------------------------------------------------------------- */
struct text {
    char *path;
    char *s;
    size_t n;
};

static struct text *texts;
static size_t ntexts, captexts;

static int collect(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    size_t pn = strlen(path);
    if (type != FTW_F || pn < 5 || strcmp(path + pn - 4, ".yml") != 0)
        return 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    struct cw_buf b = CW_BUF_INIT;
    char chunk[8192];
    size_t r;
    while ((r = fread(chunk, 1, sizeof(chunk), f)) > 0)
        cw_buf_add(&b, chunk, r);
    fclose(f);
    cw_buf_addc(&b, '\0');
    if (!strstr(b.data, "category: webserver") && !strstr(b.data, "category: proxy")) {
        cw_buf_release(&b);
        return 0;
    }
    if (ntexts == captexts) {
        captexts = captexts ? captexts * 2 : 256;
        struct text *nt = realloc(texts, captexts * sizeof(*nt));
        if (!nt)
            return -1;
        texts = nt;
    }
    texts[ntexts].path = strdup(path);
    texts[ntexts].s = b.data; /* the buffer's memory, now owned here */
    texts[ntexts].n = b.len - 1;
    ntexts++;
    return 0;
}

static int cmp_text(const void *a, const void *b)
{
    return strcmp(((const struct text *)a)->path, ((const struct text *)b)->path);
}

/* Is this plain scalar a number, boolean or null (left alone)? */
static bool plain_special(const char *v, size_t n)
{
    static const char *const words[] = {"true", "false", "null", "~", "yes", "no"};
    size_t i = 0;
    while (i < n && ((v[i] >= '0' && v[i] <= '9') || v[i] == '-' || v[i] == '.'))
        i++;
    if (i == n)
        return true;
    for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++)
        if (strlen(words[k]) == n && !strncasecmp(v, words[k], n))
            return true;
    return false;
}

/* Variant v of a rule text: new id, title tagged, detection string values with a
 * tag appended (values under cidr / exists / numeric / re / fieldref / base64
 * modifiers are kept). */
static void make_variant(const struct text *t, uint32_t v, struct cw_buf *o)
{
    char tag[16];
    snprintf(tag, sizeof(tag), "%c%x", "kqzjx"[v % 5], v * 2654435761u >> 20);
    bool in_det = false, keep_items = false;
    const char *p = t->s, *end = t->s + t->n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t n = (size_t)(le - p);
        size_t ind = 0;
        while (ind < n && p[ind] == ' ')
            ind++;
        if (n && ind == 0) {
            in_det = !strncmp(p, "detection:", 10);
            keep_items = false;
        }
        if (!strncmp(p, "id:", 3)) {
            cw_buf_addf(o, "id: %08x-%04x-4000-8000-%012x\n", v, (unsigned)(v >> 16) ^ 0xb00b,
                        (unsigned)(t - texts));
        } else if (!strncmp(p, "title:", 6)) {
            cw_buf_add(o, p, n);
            cw_buf_addf(o, " (variant %u)\n", v);
        } else if (in_det && ind > 0 && ind < n && !memmem(p, n, "condition:", 10)) {
            const char *item = p + ind;
            size_t rest = n - ind;
            const char *colon = NULL;
            bool is_item = rest >= 2 && item[0] == '-' && item[1] == ' ';
            const char *val = NULL;
            if (is_item) {
                val = item + 2;
            } else {
                /* "key|mods: value" or "key|mods:" */
                for (size_t i = 0; i < rest; i++)
                    if (item[i] == ':' && (i + 1 == rest || item[i + 1] == ' ')) {
                        colon = item + i;
                        break;
                    }
                if (colon) {
                    size_t kn = (size_t)(colon - item);
                    keep_items = memmem(item, kn, "|cidr", 5) || memmem(item, kn, "|exists", 7) ||
                                 memmem(item, kn, "|re", 3) || memmem(item, kn, "|lt", 3) ||
                                 memmem(item, kn, "|gt", 3) || memmem(item, kn, "|fieldref", 9) ||
                                 memmem(item, kn, "|base64", 7) || memmem(item, kn, "|expand", 7);
                    val = colon + 1 < le ? colon + 2 : NULL;
                }
            }
            while (val && val < le && *val == ' ')
                val++;
            size_t vn = val ? (size_t)(le - val) : 0;
            if (vn && (val[0] == '\'' || val[0] == '"')) { /* end at the closing quote */
                size_t i = 1;
                while (i < vn && !(val[i] == val[0] && !(val[0] == '\'' && i + 1 < vn &&
                                                         val[i + 1] == '\'')))
                    i += val[0] == '\'' && val[i] == '\'' ? 2 : 1;
                if (i < vn)
                    vn = i + 1;
            } else if (vn) { /* a plain scalar ends at " #" */
                const char *hash = memmem(val, vn, " #", 2);
                if (hash)
                    vn = (size_t)(hash - val);
            }
            while (vn && val[vn - 1] == ' ')
                vn--;
            bool quoted = vn >= 2 && (val[0] == '\'' || val[0] == '"') && val[vn - 1] == val[0];
            bool skip = !val || !vn || keep_items || val[0] == '|' || val[0] == '>' ||
                        val[0] == '[' || val[0] == '{' || val[0] == '&' || val[0] == '*' ||
                        (!quoted && (plain_special(val, vn) || val[0] == '\'' || val[0] == '"')) ||
                        (val[vn - 1] == ':');
            if (skip) {
                cw_buf_add(o, p, n);
            } else if (quoted) {
                cw_buf_add(o, p, (size_t)(val + vn - 1 - p));
                cw_buf_adds(o, tag);
                cw_buf_add(o, val + vn - 1, (size_t)(le - (val + vn - 1)));
            } else {
                cw_buf_add(o, p, (size_t)(val + vn - p));
                cw_buf_adds(o, tag);
                cw_buf_add(o, val + vn, (size_t)(le - (val + vn)));
            }
            cw_buf_addc(o, '\n');
        } else {
            cw_buf_add(o, p, n);
            cw_buf_addc(o, '\n');
        }
        p = nl ? nl + 1 : end;
    }
}

/* Rule set with the first `want` rules of the list (real, then variants). */
static int build_set(struct sigma_ruleset *rs, const char *fieldmap, uint32_t want,
                     uint32_t *nreal)
{
    char err[512];
    if (sigma_ruleset_init(rs, fieldmap, err, sizeof(err))) {
        fprintf(stderr, "fieldmap: %s\n", err);
        return -1;
    }
    *nreal = 0;
    for (size_t i = 0; i < ntexts && rs->n < want; i++)
        if (sigma_ruleset_add(rs, texts[i].path, texts[i].s, texts[i].n) == 0)
            (*nreal)++;
    for (uint32_t v = 1; rs->n < want && v < 1000000; v++) {
        struct cw_buf o = CW_BUF_INIT;
        const struct text *t = &texts[(v - 1) % ntexts];
        make_variant(t, v, &o);
        int rc = sigma_ruleset_add(rs, t->path, o.data, o.len);
        cw_buf_release(&o);
        if (rc < 0)
            return -1;
    }
    return rs->n == want ? 0 : -1;
}

/* -- measuring ------------------------------------------------------------------- */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool same(const struct cw_detections *a, const struct cw_detections *b)
{
    if (a->n != b->n)
        return false;
    for (uint32_t i = 0; i < a->n; i++)
        if (a->d[i].rec != b->d[i].rec || strcmp(a->d[i].rule_id, b->d[i].rule_id))
            return false;
    return true;
}

struct result {
    uint32_t rules, real;
    uint64_t recs, naive_recs, hits, naive_hits;
    double cpu, cpu_on_naive_recs, naive_cpu;
    double cand_per_rec;
    struct sigma_compiled_stats st;
    bool ok;
};

static void fmt_rate(char *out, size_t cap, double v)
{
    if (v >= 1e6)
        snprintf(out, cap, "%.2fM", v / 1e6);
    else if (v >= 1e3)
        snprintf(out, cap, "%.0fk", v / 1e3);
    else
        snprintf(out, cap, "%.0f", v);
}

static void run_set(const struct bench_data *d, const char *fieldmap, uint32_t size,
                    uint64_t naive_lines, struct result *res)
{
    struct sigma_ruleset rs;
    char err[512];
    memset(res, 0, sizeof(*res));
    res->rules = size;
    if (build_set(&rs, fieldmap, size, &res->real)) {
        fprintf(stderr, "cannot build a set of %u rules\n", size);
        return;
    }
    if (sigma_ruleset_compile(&rs, err, sizeof(err))) {
        fprintf(stderr, "compile: %s\n", err);
        sigma_ruleset_release(&rs);
        return;
    }
    sigma_compiled_get_stats(rs.compiled, &res->st);
    const struct cw_format *fmt = cw_format_find(d->format);
    struct cw_parse_ctx ctx = {1, 1, 0};
    struct cw_batch b;
    struct cw_detections x, y;
    cw_batch_init(&b);
    cw_detections_init(&x);
    cw_detections_init(&y);
    res->ok = true;
    /* candidates per record on the first chunk (untimed) */
    struct sigma_cthread *t = sigma_compiled_acquire(rs.compiled);
    uint64_t cand = 0, crecs = 0;
    for (size_t i = 0; i < d->nchunks; i++) {
        cw_batch_clear(&b);
        cw_format_parse_body(fmt, &b, &ctx, d->buf + d->off[i], d->off[i + 1] - d->off[i],
                             CW_MAX_LINE_DEFAULT, NULL);
        if (i == 0 && t) {
            for (uint32_t r = 0; r < b.n; r++) {
                sigma_compiled_eval(rs.compiled, t, &b.recs[r], NULL, NULL);
                cand += sigma_compiled_last_candidates(t);
            }
            crecs = b.n;
            sigma_compiled_release(rs.compiled, t);
            t = NULL;
        }
        cw_detections_clear(&x);
        double c0 = cpu_now();
        if (cw_detect_sigma(&rs, &b, &x))
            res->ok = false;
        double c1 = cpu_now();
        res->cpu += c1 - c0;
        res->recs += b.n;
        res->hits += x.n;
        if (res->naive_recs < naive_lines) {
            res->cpu_on_naive_recs += c1 - c0;
            cw_detections_clear(&y);
            c0 = cpu_now();
            if (cw_detect_sigma_reference(&rs, &b, &y))
                res->ok = false;
            res->naive_cpu += cpu_now() - c0;
            res->naive_recs += b.n;
            res->naive_hits += y.n;
            if (!same(&x, &y)) {
                fprintf(stderr, "%u rules, chunk %zu: compiled and naive detections differ\n",
                        size, i);
                res->ok = false;
            }
        }
    }
    res->cand_per_rec = crecs ? (double)cand / crecs : 0;
    cw_detections_release(&x);
    cw_detections_release(&y);
    cw_batch_release(&b);
    sigma_ruleset_release(&rs);
    char a[32], n[32];
    fmt_rate(a, sizeof(a), res->recs / res->cpu);
    fmt_rate(n, sizeof(n), res->naive_recs / res->naive_cpu);
    printf("  %4u rules: compiled %s rec/CPU-s, naive %s rec/CPU-s, %" PRIu64 " detections, "
           "%.1f candidates/record%s\n",
           size, a, n, res->hits, res->cand_per_rec, res->ok ? "" : " (FAILED)");
}

/* --top N: the N rules of the 1,000 set that cost most under the naive path,
 * with how often the prefilter makes them a candidate (on the first 20k lines). */
static void top_rules(const struct bench_data *d, const char *fieldmap, uint32_t top)
{
    struct sigma_ruleset rs;
    uint32_t nreal;
    char err[512];
    if (build_set(&rs, fieldmap, 1000, &nreal) || sigma_ruleset_compile(&rs, err, sizeof(err)))
        return;
    const struct cw_format *fmt = cw_format_find(d->format);
    struct cw_parse_ctx ctx = {1, 1, 0};
    struct cw_batch b;
    cw_batch_init(&b);
    double *cost = calloc(rs.n, sizeof(*cost));
    uint64_t *cand = calloc(rs.n, sizeof(*cand)), nrec = 0;
    struct sigma_evalctx *c = sigma_evalctx_new();
    struct sigma_cthread *t = sigma_compiled_acquire(rs.compiled);
    for (size_t i = 0; i < d->nchunks && nrec < 20000 && cost && cand && c && t; i++) {
        cw_batch_clear(&b);
        cw_format_parse_body(fmt, &b, &ctx, d->buf + d->off[i], d->off[i + 1] - d->off[i],
                             CW_MAX_LINE_DEFAULT, NULL);
        for (uint32_t r = 0; r < b.n; r++, nrec++) {
            sigma_evalctx_reset(c, &b.recs[r]);
            for (uint32_t k = 0; k < rs.n; k++) {
                double c0 = cpu_now();
                if (sigma_logsource_admits(&rs.rules[k].ls, &b.recs[r]))
                    sigma_eval_rule(&rs.rules[k].rule, c, NULL);
                cost[k] += cpu_now() - c0;
            }
            sigma_compiled_eval(rs.compiled, t, &b.recs[r], NULL, NULL);
            cand[0] += sigma_compiled_last_candidates(t);
        }
    }
    printf("  compiled path: %.2f candidates per record\n", nrec ? (double)cand[0] / nrec : 0);
    for (uint32_t n = 0; n < top && cost; n++) {
        uint32_t best = 0;
        for (uint32_t k = 1; k < rs.n; k++)
            if (cost[k] > cost[best])
                best = k;
        if (cost[best] < 0)
            break;
        printf("  %.1f us/record  %s  %s\n", cost[best] / (double)nrec * 1e6,
               rs.rules[best].rule.id, rs.rules[best].rule.file);
        cost[best] = -1;
    }
    sigma_compiled_release(rs.compiled, t);
    sigma_evalctx_free(c);
    free(cost);
    free(cand);
    cw_batch_release(&b);
    sigma_ruleset_release(&rs);
}

static void cpu_model(char *out, size_t cap)
{
    snprintf(out, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof(line), f)) {
        const char *c = strchr(line, ':');
        if (!strncmp(line, "model name", 10) && c) {
            c++;
            while (*c == ' ')
                c++;
            snprintf(out, cap, "%.*s", (int)strcspn(c, "\n"), c);
            break;
        }
    }
    if (f)
        fclose(f);
}

int main(int argc, char **argv)
{
    uint64_t lines = 1000000, naive_lines = 20000;
    uint32_t batch = 5000, top = 0, only = 0;
    const char *shared = getenv("CW_SHARED_DIR");
    const char *src = getenv("CW_SOURCE_DIR");
    if (!shared)
        shared = CW_BENCH_SHARED_DEFAULT;
    if (!src)
        src = CW_BENCH_SOURCE_DIR;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v && !strcmp(a, "--lines")) {
            lines = strtoull(v, NULL, 10);
            i++;
        } else if (v && !strcmp(a, "--naive-lines")) {
            naive_lines = strtoull(v, NULL, 10);
            i++;
        } else if (v && !strcmp(a, "--batch")) {
            batch = (uint32_t)strtoul(v, NULL, 10);
            i++;
        } else if (v && !strcmp(a, "--only")) {
            only = (uint32_t)strtoul(v, NULL, 10);
            i++;
        } else if (v && !strcmp(a, "--top")) {
            top = (uint32_t)strtoul(v, NULL, 10);
            i++;
        } else if (v && !strcmp(a, "--shared")) {
            shared = v;
            i++;
        } else if (v && !strcmp(a, "--source")) {
            src = v;
            i++;
        } else {
            fprintf(stderr,
                    "usage: bench_detect [--lines N (1000000)] [--naive-lines N (20000)] "
                    "[--batch N (5000)] [--shared DIR] [--source DIR (for rules/fieldmap.conf)] "
                    "[--only RULES (one set)] [--top N (costliest rules, naive)]\n");
            return 2;
        }
    }
    if (!lines || !batch || batch > 1000000) {
        fprintf(stderr, "--lines and --batch must be positive (batch <= 1000000)\n");
        return 2;
    }
    char fieldmap[4096], dir[4096], err[512], model[256];
    snprintf(fieldmap, sizeof(fieldmap), "%s/rules/fieldmap.conf", src);
    static const char *const dirs[] = {"rules/web", "rules-threat-hunting/web",
                                       "rules-emerging-threats"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(dir, sizeof(dir), "%s/data/sigma/%s", shared, dirs[i]);
        size_t before = ntexts;
        if (nftw(dir, collect, 16, FTW_PHYS) != 0) {
            fprintf(stderr, "cannot read %s\n", dir);
            return 1;
        }
        qsort(texts + before, ntexts - before, sizeof(*texts), cmp_text);
    }
    if (!ntexts) {
        fprintf(stderr, "no webserver/proxy rules found under %s/data/sigma\n", shared);
        return 1;
    }
    struct bench_data d;
    if (bench_data_access(&d, shared, lines, batch, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    cpu_model(model, sizeof(model));
    struct utsname u;
    uname(&u);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char date[64];
    strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", &tm);
    printf("date: %s\nmachine: %ld online CPUs, %s, %s %s\nbuild: %s\n", date,
           sysconf(_SC_NPROCESSORS_ONLN), model, u.sysname, u.release, CW_BENCH_BUILD_TYPE);
    printf("input: %" PRIu64 " access-log lines (%s), batches of %u; naive path on the first "
           "%" PRIu64 "\n",
           d.lines, d.source, batch, naive_lines < d.lines ? naive_lines : d.lines);
    printf("rules: %zu real webserver/proxy rule files, then generated variants\n", ntexts);
    FILE *la = fopen("/proc/loadavg", "r");
    char lbuf[128];
    if (la && fgets(lbuf, sizeof(lbuf), la))
        printf("load average now: %.*s\n", (int)strcspn(lbuf, "\n"), lbuf);
    if (la)
        fclose(la);

    if (top) {
        top_rules(&d, fieldmap, top);
        bench_data_release(&d);
        return 0;
    }
    struct result res[NSETS];
    bool ok = true;
    if (only) { /* one set (for profiling) */
        run_set(&d, fieldmap, only, naive_lines, &res[0]);
        bench_data_release(&d);
        return res[0].ok ? 0 : 1;
    }
    for (size_t i = 0; i < NSETS; i++) {
        run_set(&d, fieldmap, set_sizes[i], naive_lines, &res[i]);
        ok &= res[i].ok;
    }
    printf("\n| rules | real | prefiltered / always | patterns (regex) | compile s | "
           "candidates/rec | compiled rec/CPU-s | naive rec/CPU-s | compiled / naive |\n");
    printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < NSETS; i++) {
        const struct result *r = &res[i];
        char a[32], n[32];
        fmt_rate(a, sizeof(a), r->recs / r->cpu);
        fmt_rate(n, sizeof(n), r->naive_recs / r->naive_cpu);
        double ratio = (r->naive_recs / r->naive_cpu) > 0
                           ? (r->naive_recs / r->cpu_on_naive_recs) / (r->naive_recs / r->naive_cpu)
                           : 0;
        printf("| %u%s | %u | %u / %u | %u (%u) | %.2f | %.1f | **%s** | %s | %.1fx |\n", r->rules,
               r->ok ? "" : " (FAILED)", r->real, r->st.prefiltered, r->st.always, r->st.patterns,
               r->st.regex_patterns, r->st.compile_seconds, r->cand_per_rec, a, n, ratio);
    }
    double r10 = res[0].recs / res[0].cpu, r1000 = res[2].recs / res[2].cpu;
    printf("\ngoal: throughput falls < 3x from 10 to 1,000 rules: %.2fx (%s)\n", r10 / r1000,
           r10 / r1000 < 3 ? "met" : "NOT met");
    printf("goal: >= 500k records/s/core at 1,000 rules: %.0fk (%s)\n", r1000 / 1e3,
           r1000 >= 500e3 ? "met" : "NOT met");
    printf("detections: compiled == naive on every record both saw: %s\n", ok ? "yes" : "NO");
    bench_data_release(&d);
    for (size_t i = 0; i < ntexts; i++) {
        free(texts[i].path);
        free(texts[i].s);
    }
    free(texts);
    return ok ? 0 : 1;
}
