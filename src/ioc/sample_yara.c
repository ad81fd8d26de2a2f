/* sample_yara.c - YARA rules from a directory, compiled once, scanned per object.
 *
 * The compiled YR_RULES is immutable; YARA 4 lets up to YR_MAX_THREADS (32) threads
 * scan with one rule set at the same time (each scan gets its own context), so one
 * struct cw_sample_yara serves every worker of the center. A scan that fails (too
 * many threads, timeout) is a "yara" finding, not a failed analysis. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yara.h>

#include "ioc/sample_impl.h"
#include "common/banned.h"

struct cw_sample_yara {
    YR_RULES *rules;
    size_t count;
};

struct compile_err {
    char *buf;
    size_t cap;
    int n;
};

static void on_compile(int level, const char *file, int line, const YR_RULE *rule,
                       const char *msg, void *u)
{
    struct compile_err *e = u;
    if (level != YARA_ERROR_LEVEL_ERROR || e->n++)
        return;
    snprintf(e->buf, e->cap, "%s:%d: %s", file ? file : "?", line, msg);
}

static bool yara_name(const char *n)
{
    size_t l = strlen(n);
    return (l > 4 && !strcmp(n + l - 4, ".yar")) || (l > 5 && !strcmp(n + l - 5, ".yara"));
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

struct cw_sample_yara *cw_sample_yara_load(const char *dir, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "cannot open YARA rule directory %s", dir);
        return NULL;
    }
    /* sorted, so namespaces and rule order do not depend on the file system */
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!yara_name(de->d_name))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **p = realloc(names, cap * sizeof(*names));
            if (!p)
                break;
            names = p;
        }
        names[n] = strdup(de->d_name);
        if (names[n])
            n++;
    }
    closedir(d);
    qsort(names, n, sizeof(*names), cmp_names);

    struct cw_sample_yara *y = NULL;
    YR_COMPILER *comp = NULL;
    struct compile_err ce = {err, errlen, 0};
    if (yr_initialize() != ERROR_SUCCESS) {
        snprintf(err, errlen, "YARA: cannot initialise");
        goto out_names;
    }
    if (yr_compiler_create(&comp) != ERROR_SUCCESS) {
        snprintf(err, errlen, "YARA: cannot create a compiler");
        goto out_init;
    }
    yr_compiler_set_callback(comp, on_compile, &ce);
    for (size_t i = 0; i < n && !ce.n; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "r");
        if (!f) {
            snprintf(err, errlen, "cannot read %s", path);
            ce.n++;
            break;
        }
        char ns[256];
        snprintf(ns, sizeof(ns), "%s", names[i]);
        char *dot = strrchr(ns, '.');
        if (dot)
            *dot = '\0';
        yr_compiler_add_file(comp, f, ns, path);
        fclose(f);
    }
    if (ce.n)
        goto out_comp;
    y = calloc(1, sizeof(*y));
    if (!y || yr_compiler_get_rules(comp, &y->rules) != ERROR_SUCCESS) {
        snprintf(err, errlen, "YARA: cannot build the rule set");
        free(y);
        y = NULL;
        goto out_comp;
    }
    YR_RULE *rule;
    yr_rules_foreach(y->rules, rule) y->count++;
    yr_compiler_destroy(comp);
    goto out_names;
out_comp:
    yr_compiler_destroy(comp);
out_init:
    yr_finalize();
out_names:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return y;
}

void cw_sample_yara_free(struct cw_sample_yara *y)
{
    if (!y)
        return;
    yr_rules_destroy(y->rules);
    free(y);
    yr_finalize();
}

size_t cw_sample_yara_count(const struct cw_sample_yara *y) { return y ? y->count : 0; }

struct scan {
    struct sample_ctx *c;
    const char *path;
};

static int on_scan(YR_SCAN_CONTEXT *ctx, int msg, void *data, void *u)
{
    struct scan *s = u;
    if (msg == CALLBACK_MSG_RULE_MATCHING) {
        const YR_RULE *rule = data;
        char name[512];
        snprintf(name, sizeof(name), "%s:%s", rule->ns->name, rule->identifier);
        sample_match_add(s->c, name, s->path);
    }
    return s->c->oom ? CALLBACK_ABORT : CALLBACK_CONTINUE;
}

void sample_yara_scan(struct sample_ctx *c, const void *data, size_t len, const char *path)
{
    struct scan s = {c, path};
    /* 10 s per object: rules with slow regexes must not hold a worker forever */
    int rc = yr_rules_scan_mem(c->o->yara->rules, data, len, SCAN_FLAGS_FAST_MODE, on_scan, &s,
                               10);
    if (rc != ERROR_SUCCESS)
        sample_finding(c, "yara", path, "YARA scan failed (error %d)%s", rc,
                       rc == ERROR_SCAN_TIMEOUT ? ": timeout" : "");
}
