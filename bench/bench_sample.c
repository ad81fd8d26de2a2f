/* bench_sample.c - cw_sample_analyse over the samples of ../shared/data/eml: the 18
 * .eml files (the figure set against the peer) and every sample (.eml, .msg, .zip),
 * single-threaded, timed with the thread's CPU clock, with and without the YARA rules
 * of rules/yara; and in the same run the peer, Python's email package + hashlib + re
 * (bench_sample_peer.py) over the same .eml files. Each run is --passes passes over
 * the set; best and median of --runs are printed as e-mails (or samples) per CPU-s.
 * Not a test: it asserts nothing about time, only that every analysis succeeds. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "ioc/sample.h"
#include "common/banned.h"

struct blob {
    char *path, *name, *data;
    size_t len;
    bool eml;
};

struct set {
    struct blob *b;
    size_t n, cap;
};

static bool ends_with(const char *s, const char *suf)
{
    size_t l = strlen(s), k = strlen(suf);
    return l >= k && !strcmp(s + l - k, suf);
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *d = NULL;
    size_t n = 0, cap = 0, got;
    char buf[65536];
    while ((got = fread(buf, 1, sizeof(buf), f)) > 0) {
        if (n + got > cap) {
            cap = (n + got) * 2;
            char *p = realloc(d, cap);
            if (!p) {
                free(d);
                fclose(f);
                return NULL;
            }
            d = p;
        }
        memcpy(d + n, buf, got);
        n += got;
    }
    fclose(f);
    *len = n;
    return d ? d : calloc(1, 1);
}

/* The samples of dir and its subdirectories (one level: eml_parser/, pymisp/). */
static void collect(struct set *s, const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (depth == 0 && de->d_type == DT_DIR) {
            collect(s, path, 1);
            continue;
        }
        const char *n = de->d_name;
        if (!ends_with(n, ".eml") && !ends_with(n, ".msg") && !ends_with(n, ".zip"))
            continue;
        if (s->n == s->cap) {
            s->cap = s->cap ? s->cap * 2 : 32;
            struct blob *nb = realloc(s->b, s->cap * sizeof(*s->b));
            if (!nb)
                break;
            s->b = nb;
        }
        struct blob *b = &s->b[s->n];
        b->data = read_all(path, &b->len);
        if (!b->data)
            continue;
        b->path = strdup(path);
        b->name = strdup(n);
        b->eml = ends_with(n, ".eml");
        s->n++;
    }
    closedir(d);
}

static int cmp_blob(const void *a, const void *b)
{
    return strcmp(((const struct blob *)a)->path, ((const struct blob *)b)->path);
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One pass over the set (only .eml when eml_only); -1 when an analysis fails. */
static int pass(const struct set *s, bool eml_only, const struct cw_sample_opts *o,
                size_t *objects)
{
    for (size_t i = 0; i < s->n; i++) {
        if (eml_only && !s->b[i].eml)
            continue;
        struct cw_sample_report r;
        char err[256];
        int rc = cw_sample_analyse(s->b[i].data, s->b[i].len, s->b[i].name, o, &r, err,
                                   sizeof(err));
        *objects += r.n_objects;
        cw_sample_report_release(&r);
        if (rc) {
            fprintf(stderr, "bench_sample: %s: %s\n", s->b[i].path, err);
            return -1;
        }
    }
    return 0;
}

/* runs x passes over the set; per-run CPU seconds sorted into t[]. */
static int measure(const struct set *s, bool eml_only, const struct cw_sample_opts *o, int passes,
                   int runs, double *t, size_t *objects)
{
    size_t warm = 0;
    if (pass(s, eml_only, o, &warm)) /* warm-up: libmagic database, page cache */
        return -1;
    *objects = warm;
    for (int r = 0; r < runs; r++) {
        size_t ignored = 0;
        double t0 = cpu_s();
        for (int p = 0; p < passes; p++)
            if (pass(s, eml_only, o, &ignored))
                return -1;
        t[r] = cpu_s() - t0;
    }
    qsort(t, (size_t)runs, sizeof(double), cmp_dbl);
    return 0;
}

static void line(const char *what, size_t n, int passes, int runs, const double *t)
{
    double per = (double)n * passes;
    printf("%-44s best %7.1f  median %7.1f /CPU-s\n", what, per / t[0], per / t[runs / 2]);
}

/* The peer's JSON: {"emails": n, "cpu_s": [..], "urls": n}. */
static char *run_peer(const struct set *s, int passes, int runs)
{
    struct cw_buf cmd = CW_BUF_INIT;
    cw_buf_addf(&cmd, "python3 %s %d %d", CW_BENCH_PEER, passes, runs);
    for (size_t i = 0; i < s->n; i++)
        if (s->b[i].eml)
            cw_buf_addf(&cmd, " '%s'", s->b[i].path);
    FILE *p = popen(cmd.data, "r");
    cw_buf_release(&cmd);
    if (!p)
        return NULL;
    struct cw_buf out = CW_BUF_INIT;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
        cw_buf_add(&out, buf, n);
    if (pclose(p) != 0) {
        cw_buf_release(&out);
        return NULL;
    }
    return out.data;
}

int main(int argc, char **argv)
{
    int passes = 20, runs = 5;
    const char *shared = getenv("CW_SHARED_DIR") ? getenv("CW_SHARED_DIR") : CW_BENCH_SHARED;
    const char *rules = CW_BENCH_RULES;
    bool peer = true, yara = true, all = true;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--passes") && i + 1 < argc)
            passes = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--shared") && i + 1 < argc)
            shared = argv[++i];
        else if (!strcmp(argv[i], "--rules") && i + 1 < argc)
            rules = argv[++i];
        else if (!strcmp(argv[i], "--no-peer"))
            peer = false;
        else if (!strcmp(argv[i], "--no-yara")) /* for perf record: one kind of pass */
            yara = false;
        else if (!strcmp(argv[i], "--eml-only"))
            all = false;
        else {
            fprintf(stderr, "usage: bench_sample [--passes N] [--runs N] [--shared DIR]"
                            " [--rules DIR] [--no-peer] [--no-yara] [--eml-only]\n");
            return 2;
        }
    }
    if (passes < 1 || runs < 1)
        return 2;
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/data/eml", shared);
    struct set s = {0};
    collect(&s, dir, 0);
    if (s.n)
        qsort(s.b, s.n, sizeof(*s.b), cmp_blob);
    size_t n_eml = 0, bytes = 0;
    for (size_t i = 0; i < s.n; i++) {
        n_eml += s.b[i].eml;
        bytes += s.b[i].len;
    }
    if (!n_eml) {
        fprintf(stderr, "bench_sample: no .eml under %s\n", dir);
        return 1;
    }
    char err[512];
    struct cw_sample_yara *y = cw_sample_yara_load(rules, err, sizeof(err));
    if (!y) {
        fprintf(stderr, "bench_sample: %s\n", err);
        return 1;
    }
    struct cw_sample_opts with = {0}, without = {0};
    cw_sample_limits_default(&with.limits);
    with.yara = y;
    cw_sample_limits_default(&without.limits);

    struct utsname un;
    uname(&un);
    printf("bench_sample: cw_sample_analyse, one thread, thread CPU time, build %s\n",
           CW_BENCH_BUILD_TYPE);
    printf("machine: %s %s, %ld online CPUs, load average ", un.sysname, un.machine,
           sysconf(_SC_NPROCESSORS_ONLN));
    FILE *la = fopen("/proc/loadavg", "r");
    char lbuf[128] = "?\n";
    if (la) {
        if (!fgets(lbuf, sizeof(lbuf), la))
            lbuf[0] = '\0';
        fclose(la);
    }
    fputs(lbuf, stdout);
    printf("data: %s: %zu samples (%zu .eml), %zu bytes; %zu YARA rules; %d runs of %d passes\n",
           dir, s.n, n_eml, bytes, cw_sample_yara_count(y), runs, passes);

    double *t = calloc((size_t)runs, sizeof(double));
    size_t objs = 0;
    int rc = 0;
    if (pass(&s, true, &with, &objs))
        return 1;
    printf("objects per pass over the .eml: %zu\n", objs);
    if (yara) {
        if (measure(&s, true, &with, passes, runs, t, &objs))
            return 1;
        line("cw_sample_analyse .eml, with YARA:", n_eml, passes, runs, t);
    }
    if (measure(&s, true, &without, passes, runs, t, &objs))
        return 1;
    line("cw_sample_analyse .eml, without YARA:", n_eml, passes, runs, t);
    if (all && yara) {
        if (measure(&s, false, &with, passes, runs, t, &objs))
            return 1;
        line("cw_sample_analyse all samples, with YARA:", s.n, passes, runs, t);
    }
    if (all) {
        if (measure(&s, false, &without, passes, runs, t, &objs))
            return 1;
        line("cw_sample_analyse all samples, without YARA:", s.n, passes, runs, t);
    }
    if (peer) {
        char *j = run_peer(&s, passes, runs);
        const char *a = j ? strstr(j, "\"cpu_s\": [") : NULL;
        if (!a) {
            printf("peer (python3 email compat32 + hashlib + re): did not run\n");
            rc = 1;
        } else {
            a += 10;
            for (int r = 0; r < runs; r++) {
                char *end;
                t[r] = strtod(a, &end);
                a = end + (*end == ',' ? 1 : 0);
            }
            qsort(t, (size_t)runs, sizeof(double), cmp_dbl);
            line("peer python3 email+hashlib+re .eml:", n_eml, passes, runs, t);
        }
        free(j);
    }
    free(t);
    cw_sample_yara_free(y);
    for (size_t i = 0; i < s.n; i++) {
        free(s.b[i].data);
        free(s.b[i].path);
        free(s.b[i].name);
    }
    free(s.b);
    return rc;
}
