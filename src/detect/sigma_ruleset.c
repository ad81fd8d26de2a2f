/* sigma_ruleset.c - load rule directories, report, and run the detector.
 *
 * Everything a rule set holds lives in its arena (rules, report strings) except
 * the compiled regexes, released rule by rule. Rule lists per record kind keep
 * the per-record work to the rules whose log source can admit it. */
#include "detect/sigma_ruleset.h"

#include <dirent.h>
#include <errno.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "detect/sigma_compile.h"
#include "detect/sigma_corr.h"
#include "detect/sigma_yaml.h"
#include "common/banned.h"

int sigma_ruleset_init(struct sigma_ruleset *rs, const char *fieldmap_path, char *err,
                       size_t errlen)
{
    memset(rs, 0, sizeof(*rs));
    cw_arena_init(&rs->arena, 1 << 20, 0);
    if (!fieldmap_path)
        return sigma_fieldmap_load_str(&rs->fm, "", 0, "(empty)", err, errlen);
    if (sigma_fieldmap_load(&rs->fm, fieldmap_path, err, errlen)) {
        cw_arena_release(&rs->arena);
        return -1;
    }
    return 0;
}

void sigma_ruleset_release(struct sigma_ruleset *rs)
{
    sigma_compiled_free(rs->compiled);
    sigma_corr_free(rs->corr);
    for (uint32_t i = 0; i < rs->n; i++)
        sigma_rule_release(&rs->rules[i].rule);
    free(rs->rules);
    free(rs->rep);
    sigma_fieldmap_release(&rs->fm);
    cw_arena_release(&rs->arena);
    memset(rs, 0, sizeof(*rs));
}

static int report(struct sigma_ruleset *rs, const char *file, uint32_t line, const char *reason,
                  const char *dormant)
{
    if (rs->nrep == rs->caprep) {
        uint32_t nc = rs->caprep ? rs->caprep * 2 : 256;
        struct sigma_report *nr = realloc(rs->rep, nc * sizeof(*nr));
        if (!nr)
            return -1;
        rs->rep = nr;
        rs->caprep = nc;
    }
    struct sigma_report *r = &rs->rep[rs->nrep];
    r->file = cw_arena_strndup(&rs->arena, file, strlen(file));
    r->reason = reason ? cw_arena_strndup(&rs->arena, reason, strlen(reason)) : NULL;
    r->dormant = dormant;
    r->line = line;
    if (!r->file || (reason && !r->reason))
        return -1;
    rs->nrep++;
    if (reason)
        rs->nskipped++;
    else
        rs->nsupported++;
    rs->ndormant += !reason && dormant;
    return 0;
}

enum cw_severity sigma_level_severity(const char *level)
{
    static const struct {
        const char *name;
        enum cw_severity sev;
    } lv[] = {{"critical", CW_SEV_CRITICAL}, {"high", CW_SEV_HIGH}, {"medium", CW_SEV_MEDIUM},
              {"low", CW_SEV_LOW},           {"informational", CW_SEV_INFO}};
    for (size_t i = 0; level && i < sizeof(lv) / sizeof(lv[0]); i++)
        if (!strcmp(level, lv[i].name))
            return lv[i].sev;
    return CW_SEV_MEDIUM;
}

/* Case-insensitive substring test on a NUL-terminated haystack. */
static bool has(const char *hay, const char *needle)
{
    return hay && strcasestr(hay, needle) != NULL;
}

/* A title keyword counts only where a word starts ("Brute force" holds "rce", and
 * "source" holds it too: neither is remote code execution); short keywords (up to
 * four letters: "rce", "lfi", "c2", "xss") must also end a word. */
static bool has_word(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = hay; p && (p = strcasestr(p, needle)) != NULL; p++) {
        bool start = p == hay || !isalnum((unsigned char)p[-1]);
        bool end = n > 4 || !isalnum((unsigned char)p[n]);
        if (start && end)
            return true;
    }
    return false;
}

static bool any_tag(const struct sigma_rule *r, const char *needle)
{
    for (uint32_t i = 0; i < r->ntags; i++)
        if (has(r->tags[i], needle))
            return true;
    return false;
}

/* Title keywords first (they name the attack), then ATT&CK tactics. */
enum cw_attack_class sigma_rule_attack_class(const struct sigma_rule *r)
{
    static const struct {
        const char *kw;
        enum cw_attack_class c;
    } title_kw[] = {
        {"traversal", CW_AC_PATH_TRAVERSAL}, {"local file inclusion", CW_AC_PATH_TRAVERSAL},
        {"lfi", CW_AC_PATH_TRAVERSAL},       {"sql injection", CW_AC_SQL_INJECTION},
        {"sqli", CW_AC_SQL_INJECTION},       {"xss", CW_AC_XSS},
        {"cross-site scripting", CW_AC_XSS}, {"cross site scripting", CW_AC_XSS},
        {"ssrf", CW_AC_SSRF},                {"server-side request", CW_AC_SSRF},
        {"jndi", CW_AC_TEMPLATE_JNDI},       {"log4j", CW_AC_TEMPLATE_JNDI},
        {"ssti", CW_AC_TEMPLATE_JNDI},       {"template injection", CW_AC_TEMPLATE_JNDI},
        {"ognl", CW_AC_TEMPLATE_JNDI},       {"webshell", CW_AC_WEBSHELL},
        {"web shell", CW_AC_WEBSHELL},       {"command injection", CW_AC_COMMAND_EXEC},
        {"remote code execution", CW_AC_COMMAND_EXEC}, {"rce", CW_AC_COMMAND_EXEC},
        {"brute", CW_AC_CREDENTIAL},         {"password spray", CW_AC_CREDENTIAL},
        {"scanner", CW_AC_SCANNING},         {"scanning", CW_AC_SCANNING},
        {"malware", CW_AC_MALWARE_C2},       {"cobalt strike", CW_AC_MALWARE_C2},
        {"c2", CW_AC_MALWARE_C2},
    };
    for (size_t i = 0; i < sizeof(title_kw) / sizeof(title_kw[0]); i++)
        if (has_word(r->title, title_kw[i].kw))
            return title_kw[i].c;
    static const struct {
        const char *tag;
        enum cw_attack_class c;
    } tag_kw[] = {
        {"attack.credential_access", CW_AC_CREDENTIAL},
        {"attack.command_and_control", CW_AC_MALWARE_C2},
        {"attack.exfiltration", CW_AC_MALWARE_C2},
        {"attack.reconnaissance", CW_AC_SCANNING},
        {"attack.discovery", CW_AC_SCANNING},
        {"attack.initial_access", CW_AC_EDGE_EXPLOIT},
        {"attack.execution", CW_AC_COMMAND_EXEC},
    };
    for (size_t i = 0; i < sizeof(tag_kw) / sizeof(tag_kw[0]); i++)
        if (any_tag(r, tag_kw[i].tag))
            return tag_kw[i].c;
    return CW_AC_OTHER;
}

/* logsource.product when it names an appliance an attack targets. */
static const char *appliance(const char *product)
{
    static const char *const names[] = {"cisco", "fortios", "fortigate", "fortinet",
                                        "paloalto", "juniper", "huawei", "sonicwall",
                                        "citrix", "ivanti", "f5", "checkpoint", "array",
                                        "proself", "panos"};
    for (size_t i = 0; product && i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcmp(product, names[i]))
            return product;
    return NULL;
}

static void resolve_fields(struct sigma_ruleset *rs, struct sigma_rule *r)
{
    for (uint32_t s = 0; s < r->nsels; s++)
        for (uint32_t g = 0; g < r->sels[s].ngroups; g++)
            for (uint32_t t = 0; t < r->sels[s].groups[g].ntests; t++) {
                struct sigma_test *te = &r->sels[s].groups[g].tests[t];
                te->fid = te->field ? sigma_fieldmap_resolve(&rs->fm, r, te->field)
                                    : SIGMA_FID_KEYWORD;
                if (te->match == SIGMA_M_FIELDREF)
                    te->ref_fid = te->vals[0].nalts
                                      ? sigma_fieldmap_resolve(&rs->fm, r, te->vals[0].alts[0].s)
                                      : SIGMA_FID_JSON;
            }
}

static int push(struct sigma_ruleset *rs, const struct sigma_entry *e)
{
    if (rs->n == rs->cap) {
        uint32_t nc = rs->cap ? rs->cap * 2 : 256;
        struct sigma_entry *ne = realloc(rs->rules, nc * sizeof(*ne));
        if (!ne)
            return -1;
        rs->rules = ne;
        rs->cap = nc;
    }
    rs->rules[rs->n++] = *e;
    return 0;
}

#define SIGMA_MAX_DOCS 64 /* documents per file: a correlation and its base rules */

static int add_one(struct sigma_ruleset *rs, const char *file, const char *text, size_t n);

/* A file may be a YAML stream (`---`): a correlation rule with its base rules,
 * as the correlation specification allows. Each document is added on its own,
 * behind as many newlines as precede it, so reports keep the file's lines. */
int sigma_ruleset_add(struct sigma_ruleset *rs, const char *file, const char *text, size_t n)
{
    struct sy_doc docs[SIGMA_MAX_DOCS];
    bool collection = false;
    int nd = sigma_yaml_documents(text, n, docs, SIGMA_MAX_DOCS, &collection);
    if (nd <= 1 || collection) /* one document, or the single parse reports why not */
        return add_one(rs, file, text, n);
    int rc = 0;
    for (int i = 0; i < nd && rc >= 0; i++) {
        size_t nl = 0;
        for (size_t k = 0; k < docs[i].start; k++)
            nl += text[k] == '\n';
        size_t len = docs[i].end - docs[i].start;
        char *doc = malloc(nl + len + 1);
        if (!doc)
            return -1;
        memset(doc, '\n', nl);
        memcpy(doc + nl, text + docs[i].start, len);
        int r = add_one(rs, file, doc, nl + len);
        free(doc);
        rc = r < 0 ? -1 : r > rc ? r : rc;
    }
    return rc;
}

static int add_one(struct sigma_ruleset *rs, const char *file, const char *text, size_t n)
{
    struct sigma_entry e;
    struct sigma_err err;
    memset(&e, 0, sizeof(e));
    int cr = sigma_corr_add(rs, file, text, n); /* 2: not a correlation rule */
    if (cr != 2)
        return cr;
    sigma_compiled_free(rs->compiled); /* stale: rebuilt on demand */
    rs->compiled = NULL;
    if (sigma_rule_parse(&rs->arena, file, text, n, &e.rule, &err))
        return report(rs, file, err.line, err.reason, NULL) ? -1 : 1;
    if (sigma_ruleset_find(rs, e.rule.id)) {
        sigma_rule_release(&e.rule);
        return report(rs, file, 1, "duplicate rule id", NULL) ? -1 : 1;
    }
    resolve_fields(rs, &e.rule);
    sigma_logsource_resolve(&e.rule, &e.ls);
    e.severity = (uint8_t)sigma_level_severity(e.rule.level);
    e.attack_class = (uint8_t)sigma_rule_attack_class(&e.rule);
    e.product = appliance(e.rule.product);
    if (push(rs, &e)) {
        sigma_rule_release(&e.rule);
        return -1;
    }
    return report(rs, file, e.rule.line, NULL, e.ls.why) ? -1 : 0;
}

const struct sigma_entry *sigma_ruleset_find(const struct sigma_ruleset *rs, const char *id)
{
    for (uint32_t i = 0; i < rs->n; i++)
        if (!strcmp(rs->rules[i].rule.id, id))
            return &rs->rules[i];
    return NULL;
}

/* -- loading a tree -------------------------------------------------------- */

static bool is_rule_file(const char *name)
{
    size_t n = strlen(name);
    return (n > 4 && !strcmp(name + n - 4, ".yml")) || (n > 5 && !strcmp(name + n - 5, ".yaml"));
}

static int load_file(struct sigma_ruleset *rs, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return report(rs, path, 0, "cannot open file", NULL);
    char *buf = malloc(SIGMA_MAX_FILE + 1);
    size_t n = buf ? fread(buf, 1, SIGMA_MAX_FILE + 1, f) : 0;
    fclose(f);
    if (!buf)
        return -1;
    int rc = n > SIGMA_MAX_FILE ? report(rs, path, 0, "rule file too large", NULL)
                                : sigma_ruleset_add(rs, path, buf, n);
    free(buf);
    return rc < 0 ? -1 : 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(struct sigma_ruleset *rs, const char *dir, int depth, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t nn = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (nn == cap) {
            cap = cap ? cap * 2 : 64;
            char **nx = realloc(names, cap * sizeof(*nx));
            if (!nx) {
                rc = -1;
                break;
            }
            names = nx;
        }
        if (!(names[nn] = strdup(de->d_name))) {
            rc = -1;
            break;
        }
        nn++;
    }
    closedir(d);
    if (rc == 0)
        qsort(names, nn, sizeof(*names), cmp_names);
    for (size_t i = 0; rc == 0 && i < nn; i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (lstat(path, &st))
            continue;
        if (S_ISDIR(st.st_mode) && depth < 32)
            rc = walk(rs, path, depth + 1, err, errlen);
        else if (S_ISREG(st.st_mode) && is_rule_file(names[i]))
            rc = load_file(rs, path);
    }
    for (size_t i = 0; i < nn; i++)
        free(names[i]);
    free(names);
    if (rc && !err[0])
        snprintf(err, errlen, "out of memory");
    return rc;
}

int sigma_ruleset_load_dir(struct sigma_ruleset *rs, const char *dir, char *err, size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    int rc = walk(rs, dir, 0, err, errlen);
    return rc ? rc : sigma_corr_resolve(rs);
}

/* -- detecting ------------------------------------------------------------- */

int sigma_ruleset_eval(const struct sigma_ruleset *rs, struct sigma_evalctx *c,
                       const struct cw_record *rec, sigma_hit_fn fn, void *arg)
{
    int hits = 0;
    sigma_evalctx_reset(c, rec);
    for (uint32_t i = 0; i < rs->n; i++) {
        const struct sigma_entry *e = &rs->rules[i];
        struct sigma_why w;
        if (!sigma_logsource_admits(&e->ls, rec) || !sigma_eval_rule(&e->rule, c, &w))
            continue;
        hits++;
        if (fn)
            fn(arg, e, &w);
    }
    return hits;
}

struct det_arg {
    struct cw_detections *out;
    uint32_t rec;
    int rc;
};

static void on_hit(void *arg, const struct sigma_entry *e, const struct sigma_why *w)
{
    struct det_arg *a = arg;
    struct cw_detection d;
    (void)w;
    memset(&d, 0, sizeof(d));
    d.rec = a->rec;
    d.attack_class = e->attack_class;
    d.severity = e->severity;
    d.source = CW_DET_SIGMA;
    snprintf(d.rule_id, sizeof(d.rule_id), "%s", e->rule.id);
    d.rule_name = e->rule.title;
    size_t tn = strlen(e->rule.title);
    d.rule_name_len = (uint16_t)(tn > UINT16_MAX ? UINT16_MAX : tn);
    d.product = e->product;
    d.product_len = (uint16_t)(e->product ? strlen(e->product) : 0);
    if (cw_detections_add(a->out, &d))
        a->rc = -1;
}

int cw_detect_sigma_reference(const void *ruleset, const struct cw_batch *b,
                              struct cw_detections *out)
{
    const struct sigma_ruleset *rs = ruleset;
    struct sigma_evalctx *c = sigma_evalctx_new();
    struct det_arg a = {out, 0, 0};
    if (!c)
        return -1;
    for (uint32_t i = 0; i < b->n && a.rc == 0; i++) {
        a.rec = i;
        sigma_ruleset_eval(rs, c, &b->recs[i], on_hit, &a);
    }
    sigma_evalctx_free(c);
    return a.rc;
}

int sigma_ruleset_compile(struct sigma_ruleset *rs, char *err, size_t errlen)
{
    if (!rs->compiled && !(rs->compiled = sigma_compiled_build(rs))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const char *why = sigma_compiled_failed(rs->compiled);
    if (why)
        snprintf(err, errlen, "%s", why);
    return why ? -1 : 0;
}

/* The compiled form, built and published on first use (a racing builder's copy is
 * dropped). The rule set is logically immutable; the pointer is a cache. */
static const struct sigma_compiled *compiled_of(const struct sigma_ruleset *rs)
{
    struct sigma_compiled **slot = (struct sigma_compiled **)&rs->compiled;
    struct sigma_compiled *sc = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (sc)
        return sc;
    struct sigma_compiled *n = sigma_compiled_build(rs);
    if (!n)
        return NULL;
    struct sigma_compiled *expect = NULL;
    if (__atomic_compare_exchange_n(slot, &expect, n, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return n;
    sigma_compiled_free(n);
    return expect;
}

int cw_detect_sigma(const void *ruleset, const struct cw_batch *b, struct cw_detections *out)
{
    const struct sigma_ruleset *rs = ruleset;
    const struct sigma_compiled *sc = compiled_of(rs);
    if (!sc || sigma_compiled_failed(sc))
        return cw_detect_sigma_reference(ruleset, b, out);
    struct sigma_cthread *t = sigma_compiled_acquire(sc);
    struct det_arg a = {out, 0, 0};
    if (!t)
        return -1;
    for (uint32_t i = 0; i < b->n && a.rc == 0; i++) {
        a.rec = i;
        sigma_compiled_eval(sc, t, &b->recs[i], on_hit, &a);
    }
    sigma_compiled_release(sc, t);
    return a.rc;
}
