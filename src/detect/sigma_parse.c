/* sigma_parse.c - one Sigma rule file to a struct sigma_rule.
 *
 * The YAML tree (sigma_yaml.c) is walked once; modifiers are applied to the
 * values here, so evaluation only compares bytes. Every refusal names the YAML
 * line of the offending key or value. */
#include "detect/sigma_rule.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/sigma_mod.h"
#include "detect/sigma_yaml.h"
#include "common/banned.h"

#define SIGMA_MAX_RE 4096        /* bytes of one regex */
#define SIGMA_RE_PROBE_LIMIT 200000 /* match steps a probe may take at load */

struct pctx {
    struct cw_arena *a;
    struct sigma_rule *r;
    struct sigma_err *err;
};

static int fail(struct pctx *c, uint32_t line, const char *fmt, const char *arg)
{
    c->err->line = line;
    snprintf(c->err->reason, sizeof(c->err->reason), fmt, arg ? arg : "");
    return -1;
}

/* -- modifiers ------------------------------------------------------------- */

struct mods {
    uint8_t match, ref_match, flags;
    bool fieldref;
    uint32_t re_flags;
    bool re_sub;                  /* i/m/s seen */
    enum sigma_xform xf[6];
    int nxf;
};

static const struct {
    const char *name;
    int match;      /* enum sigma_match, or -1 */
    int xform;      /* enum sigma_xform, or 0 */
} modtab[] = {
    {"contains", SIGMA_M_CONTAINS, 0}, {"startswith", SIGMA_M_STARTS, 0},
    {"endswith", SIGMA_M_ENDS, 0},     {"re", SIGMA_M_RE, 0},
    {"cidr", SIGMA_M_CIDR, 0},         {"exists", SIGMA_M_EXISTS, 0},
    {"lt", SIGMA_M_LT, 0},             {"lte", SIGMA_M_LTE, 0},
    {"gt", SIGMA_M_GT, 0},             {"gte", SIGMA_M_GTE, 0},
    {"fieldref", SIGMA_M_FIELDREF, 0}, {"base64", -1, SX_BASE64},
    {"base64offset", -1, SX_BASE64OFF}, {"utf16le", -1, SX_UTF16LE},
    {"wide", -1, SX_UTF16LE},          {"utf16be", -1, SX_UTF16BE},
    {"utf16", -1, SX_UTF16},           {"windash", -1, SX_WINDASH},
};

static int set_match(struct pctx *c, struct mods *m, int match, uint32_t line, const char *name)
{
    bool strm = match == SIGMA_M_CONTAINS || match == SIGMA_M_STARTS || match == SIGMA_M_ENDS;
    bool cur_strm = m->match == SIGMA_M_CONTAINS || m->match == SIGMA_M_STARTS ||
                    m->match == SIGMA_M_ENDS;
    if (match == SIGMA_M_FIELDREF) { /* fieldref keeps a string match as ref_match */
        if (m->fieldref || (m->match != SIGMA_M_EQ && !cur_strm))
            return fail(c, line, "modifier '%s' cannot be combined here", name);
        m->fieldref = true;
        m->ref_match = m->match;
        m->match = SIGMA_M_FIELDREF;
        return 0;
    }
    if (m->fieldref) {
        if (!strm || m->ref_match != SIGMA_M_EQ)
            return fail(c, line, "modifier '%s' cannot be combined with fieldref", name);
        m->ref_match = (uint8_t)match;
        return 0;
    }
    if (m->match != SIGMA_M_EQ)
        return fail(c, line, "conflicting match modifier '%s'", name);
    m->match = (uint8_t)match;
    return 0;
}

static int parse_mod(struct pctx *c, struct mods *m, const char *name, uint32_t line)
{
    if (!strcmp(name, "all")) {
        m->flags |= SIGMA_F_ALL;
        return 0;
    }
    if (!strcmp(name, "cased")) {
        m->flags |= SIGMA_F_CASED;
        return 0;
    }
    if (!strcmp(name, "i") || !strcmp(name, "m") || !strcmp(name, "s")) {
        if (m->match != SIGMA_M_RE)
            return fail(c, line, "regex flag '%s' without a preceding 're'", name);
        m->re_flags |= name[0] == 'i' ? PCRE2_CASELESS : name[0] == 'm' ? PCRE2_MULTILINE
                                                                          : PCRE2_DOTALL;
        return 0;
    }
    for (size_t i = 0; i < sizeof(modtab) / sizeof(modtab[0]); i++) {
        if (strcmp(modtab[i].name, name) != 0)
            continue;
        if (modtab[i].match >= 0)
            return set_match(c, m, modtab[i].match, line, name);
        if (m->nxf == 6)
            return fail(c, line, "too many modifiers%s", NULL);
        m->xf[m->nxf++] = (enum sigma_xform)modtab[i].xform;
        return 0;
    }
    return fail(c, line, "unsupported modifier '%s'", name);
}

static int check_mods(struct pctx *c, const struct mods *m, uint32_t line)
{
    bool text = m->match <= SIGMA_M_ENDS;
    if (m->nxf && !text)
        return fail(c, line, "value transforms only apply to string matches%s", NULL);
    if ((m->flags & SIGMA_F_CASED) && !text && m->match != SIGMA_M_FIELDREF)
        return fail(c, line, "'cased' only applies to string matches%s", NULL);
    return 0;
}

/* -- values ---------------------------------------------------------------- */

static int add_regex(struct pctx *c, void *re)
{
    struct sigma_rule *r = c->r;
    if (r->nregexes == r->capregexes) {
        uint32_t nc = r->capregexes ? r->capregexes * 2 : 4;
        void **nr = realloc(r->regexes, nc * sizeof(*nr));
        if (!nr)
            return -1;
        r->regexes = nr;
        r->capregexes = nc;
    }
    r->regexes[r->nregexes++] = re;
    return 0;
}

/* Refuse regexes that backtrack catastrophically on simple probe subjects: the
 * match limit bounds time at evaluation anyway, but a rule that hits it would be
 * silently mis-evaluated, which the engine never does. */
static bool re_explodes(pcre2_code *re)
{
    static const char probe_chars[] = "a0 /.\\-x_A";
    char subj[2048];
    bool bad = false;
    pcre2_match_context *mc = pcre2_match_context_create(NULL);
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    if (!mc || !md) {
        bad = true;
        goto out;
    }
    pcre2_set_match_limit(mc, SIGMA_RE_PROBE_LIMIT);
    pcre2_set_depth_limit(mc, 10000);
    for (size_t p = 0; p < sizeof(probe_chars) - 1 && !bad; p++) {
        memset(subj, probe_chars[p], sizeof(subj) - 1);
        subj[sizeof(subj) - 1] = '!';
        int rc = pcre2_match(re, (PCRE2_SPTR)subj, sizeof(subj), 0, 0, md, mc);
        bad = rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT;
    }
out:
    pcre2_match_data_free(md);
    pcre2_match_context_free(mc);
    return bad;
}

static int value_regex(struct pctx *c, const struct mods *m, const struct sy_node *v,
                       struct sigma_alt *alt)
{
    int ec;
    PCRE2_SIZE eo;
    if (v->n > SIGMA_MAX_RE)
        return fail(c, v->line, "regex longer than 4096 bytes%s", NULL);
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)v->s, v->n, m->re_flags, &ec, &eo, NULL);
    if (!re) {
        char msg[120], why[160];
        pcre2_get_error_message(ec, (PCRE2_UCHAR *)msg, sizeof(msg));
        snprintf(why, sizeof(why), "invalid regex at offset %zu: %s", (size_t)eo, msg);
        return fail(c, v->line, "%s", why);
    }
    if (add_regex(c, re)) {
        pcre2_code_free(re);
        return fail(c, v->line, "out of memory%s", NULL);
    }
    if (re_explodes(re))
        return fail(c, v->line, "regex backtracks catastrophically (match limit hit on a "
                                "probe input)%s", NULL);
    alt->re = re;
    alt->s = v->s;
    alt->n = v->n;
    return 0;
}

static int value_cidr(struct pctx *c, const struct sy_node *v, struct sigma_alt *alt)
{
    const char *slash = strchr(v->s, '/');
    size_t an = slash ? (size_t)(slash - v->s) : v->n;
    if (cw_ip_parse(&alt->net, v->s, an))
        return fail(c, v->line, "invalid CIDR '%s'", v->s);
    long max = alt->net.family == 4 ? 32 : 128, pre = max;
    if (slash) {
        char *end;
        pre = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end || pre < 0 || pre > max)
            return fail(c, v->line, "invalid CIDR prefix '%s'", v->s);
    }
    alt->prefix = (uint8_t)pre;
    return 0;
}

static int value_number(struct pctx *c, const struct sy_node *v, struct sigma_alt *alt)
{
    char *end;
    long long x = strtoll(v->s, &end, 10);
    if (v->n == 0 || *end)
        return fail(c, v->line, "numeric comparison needs an integer, got '%s'", v->s);
    alt->num = x;
    return 0;
}

/* A string value: glob, transforms, then the match type's wildcards around it. */
static int value_string(struct pctx *c, const struct mods *m, uint8_t match,
                        const struct sy_node *v, struct sigma_value *out)
{
    const char *why = NULL;
    char *g;
    uint32_t gn;
    struct sigma_strs l = {NULL, NULL, 0, 0};
    if (sigma_str_to_glob(c->a, v->s, v->n, &g, &gn, &why) ||
        sigma_strs_add(c->a, &l, g, gn))
        return fail(c, v->line, "%s", why ? why : "out of memory");
    for (int i = 0; i < m->nxf; i++)
        if (sigma_xform_apply(c->a, m->xf[i], &l, &why))
            return fail(c, v->line, "%s", why);
    out->alts = cw_arena_calloc(c->a, l.count * sizeof(*out->alts));
    if (!out->alts)
        return fail(c, v->line, "out of memory%s", NULL);
    bool lead = match == SIGMA_M_CONTAINS || match == SIGMA_M_ENDS;
    bool trail = match == SIGMA_M_CONTAINS || match == SIGMA_M_STARTS;
    for (uint32_t i = 0; i < l.count; i++) {
        char *s = cw_arena_alloc(c->a, l.n[i] + 3);
        size_t k = 0;
        if (!s)
            return fail(c, v->line, "out of memory%s", NULL);
        if (lead)
            s[k++] = SIGMA_GLOB_STAR;
        memcpy(s + k, l.s[i], l.n[i]);
        k += l.n[i];
        if (trail)
            s[k++] = SIGMA_GLOB_STAR;
        s[k] = '\0';
        out->alts[i].s = s;
        out->alts[i].n = (uint32_t)k;
    }
    out->nalts = l.count;
    return 0;
}

static int build_value(struct pctx *c, const struct mods *m, const struct sy_node *v,
                       struct sigma_value *out)
{
    if (v->type != SY_SCALAR)
        return fail(c, v->line, "value must be a scalar or a list of scalars%s", NULL);
    if (sigma_yaml_is_null(v)) {
        if (m->match != SIGMA_M_EQ || m->nxf)
            return fail(c, v->line, "null value with a modifier%s", NULL);
        out->alts = cw_arena_calloc(c->a, sizeof(*out->alts));
        if (!out->alts)
            return fail(c, v->line, "out of memory%s", NULL);
        out->alts[0].null = true;
        out->nalts = 1;
        return 0;
    }
    if (m->match <= SIGMA_M_ENDS)
        return value_string(c, m, m->match, v, out);
    out->alts = cw_arena_calloc(c->a, sizeof(*out->alts));
    if (!out->alts)
        return fail(c, v->line, "out of memory%s", NULL);
    out->nalts = 1;
    struct sigma_alt *alt = &out->alts[0];
    alt->s = v->s;
    alt->n = v->n;
    switch (m->match) {
    case SIGMA_M_RE: return value_regex(c, m, v, alt);
    case SIGMA_M_CIDR: return value_cidr(c, v, alt);
    case SIGMA_M_EXISTS:
        if (strcmp(v->s, "true") && strcmp(v->s, "false"))
            return fail(c, v->line, "'exists' needs true or false, got '%s'", v->s);
        alt->num = v->s[0] == 't';
        return 0;
    case SIGMA_M_FIELDREF: return 0;
    default: return value_number(c, v, alt);
    }
}

/* -- selections ------------------------------------------------------------ */

static int build_test(struct pctx *c, const struct sy_node *key, const struct sy_node *val,
                      struct sigma_test *t)
{
    struct mods m;
    memset(&m, 0, sizeof(m));
    char *k = cw_arena_strndup(c->a, key->s, key->n);
    if (!k)
        return fail(c, key->line, "out of memory%s", NULL);
    char *bar = strchr(k, '|');
    if (bar)
        *bar = '\0';
    while (bar) {
        char *name = bar + 1;
        bar = strchr(name, '|');
        if (bar)
            *bar = '\0';
        if (parse_mod(c, &m, name, key->line))
            return -1;
    }
    if (check_mods(c, &m, key->line))
        return -1;
    t->field = k[0] ? k : NULL;
    t->match = m.match;
    t->ref_match = m.ref_match;
    t->flags = m.flags;
    t->line = key->line;
    if (!t->field && m.match > SIGMA_M_ENDS)
        return fail(c, key->line, "keyword search with a non-string modifier%s", NULL);
    if (!t->field && m.match == SIGMA_M_EQ)
        m.match = t->match = SIGMA_M_CONTAINS; /* keywords are full-text: substring match */
    const struct sy_node *const *items = &val;
    uint32_t nitems = 1;
    if (val->type == SY_SEQ) {
        items = (const struct sy_node *const *)val->kids;
        nitems = val->nkids;
        if (nitems == 0)
            return fail(c, val->line, "empty value list%s", NULL);
    }
    t->vals = cw_arena_calloc(c->a, nitems * sizeof(*t->vals));
    if (!t->vals)
        return fail(c, key->line, "out of memory%s", NULL);
    for (uint32_t i = 0; i < nitems; i++)
        if (build_value(c, &m, items[i], &t->vals[i]))
            return -1;
    t->nvals = nitems;
    return 0;
}

static int build_group(struct pctx *c, const struct sy_node *map, struct sigma_group *g)
{
    g->ntests = map->nkids / 2;
    if (g->ntests == 0)
        return fail(c, map->line, "empty selection%s", NULL);
    g->tests = cw_arena_calloc(c->a, g->ntests * sizeof(*g->tests));
    if (!g->tests)
        return fail(c, map->line, "out of memory%s", NULL);
    for (uint32_t i = 0; i < g->ntests; i++) {
        const struct sy_node *k = map->kids[2 * i], *v = map->kids[2 * i + 1];
        if (k->type != SY_SCALAR)
            return fail(c, k->line, "selection key must be a string%s", NULL);
        if (build_test(c, k, v, &g->tests[i]))
            return -1;
    }
    return 0;
}

/* A list of plain values (or a single scalar) is a keyword search. */
static int build_keywords(struct pctx *c, const struct sy_node *node, struct sigma_sel *s)
{
    struct sy_node key = {SY_SCALAR, true, node->line, "", 0, NULL, 0};
    s->groups = cw_arena_calloc(c->a, sizeof(*s->groups));
    if (!s->groups)
        return fail(c, node->line, "out of memory%s", NULL);
    s->ngroups = 1;
    s->groups[0].tests = cw_arena_calloc(c->a, sizeof(struct sigma_test));
    if (!s->groups[0].tests)
        return fail(c, node->line, "out of memory%s", NULL);
    s->groups[0].ntests = 1;
    return build_test(c, &key, node, &s->groups[0].tests[0]);
}

static int build_sel(struct pctx *c, const struct sy_node *name, const struct sy_node *v,
                     struct sigma_sel *s)
{
    s->name = name->s;
    s->line = name->line;
    if (v->type == SY_MAP) {
        s->groups = cw_arena_calloc(c->a, sizeof(*s->groups));
        s->ngroups = 1;
        return s->groups ? build_group(c, v, s->groups) : fail(c, v->line, "out of memory%s", NULL);
    }
    if (v->type == SY_SCALAR || v->nkids == 0)
        return v->type == SY_SCALAR ? build_keywords(c, v, s)
                                    : fail(c, v->line, "empty selection '%s'", name->s);
    uint32_t maps = 0;
    for (uint32_t i = 0; i < v->nkids; i++)
        maps += v->kids[i]->type == SY_MAP;
    if (maps == 0)
        return build_keywords(c, v, s);
    if (maps != v->nkids)
        return fail(c, v->line, "selection '%s' mixes maps and plain values", name->s);
    s->groups = cw_arena_calloc(c->a, v->nkids * sizeof(*s->groups));
    if (!s->groups)
        return fail(c, v->line, "out of memory%s", NULL);
    s->ngroups = v->nkids;
    for (uint32_t i = 0; i < v->nkids; i++)
        if (build_group(c, v->kids[i], &s->groups[i]))
            return -1;
    return 0;
}

/* -- the rule -------------------------------------------------------------- */

static const char *scalar(const struct sy_node *map, const char *key)
{
    const struct sy_node *n = sigma_yaml_get(map, key);
    return n && n->type == SY_SCALAR && !sigma_yaml_is_null(n) ? n->s : NULL;
}

static int build_tags(struct pctx *c, const struct sy_node *root)
{
    const struct sy_node *t = sigma_yaml_get(root, "tags");
    if (!t || t->type != SY_SEQ)
        return 0;
    c->r->tags = cw_arena_calloc(c->a, (t->nkids + 1) * sizeof(char *));
    if (!c->r->tags)
        return fail(c, t->line, "out of memory%s", NULL);
    for (uint32_t i = 0; i < t->nkids; i++)
        if (t->kids[i]->type == SY_SCALAR)
            c->r->tags[c->r->ntags++] = t->kids[i]->s;
    return 0;
}

/* condition: a string, or a list of strings (any may hold). */
static int build_cond(struct pctx *c, const struct sy_node *cn)
{
    const char *why = NULL;
    struct sigma_rule *r = c->r;
    const struct sy_node *const *items = &cn;
    uint32_t n = 1;
    if (cn->type == SY_SEQ) {
        items = (const struct sy_node *const *)cn->kids;
        n = cn->nkids;
    }
    for (uint32_t i = 0; i < n; i++) {
        struct sigma_cond *one;
        if (items[i]->type != SY_SCALAR)
            return fail(c, items[i]->line, "condition must be a string%s", NULL);
        if (sigma_cond_parse(c->a, items[i]->s, items[i]->n, r->sels, r->nsels, &one, &why))
            return fail(c, items[i]->line, "condition: %s", why);
        if (i == 0) {
            r->cond = one;
            r->cond_text = items[i]->s;
            continue;
        }
        struct sigma_cond *or = cw_arena_calloc(c->a, sizeof(*or));
        if (!or)
            return fail(c, cn->line, "out of memory%s", NULL);
        or->op = SIGMA_C_OR;
        or->a = r->cond;
        or->b = one;
        r->cond = or;
    }
    return n ? 0 : fail(c, cn->line, "empty condition%s", NULL);
}

static int build_detection(struct pctx *c, const struct sy_node *det)
{
    struct sigma_rule *r = c->r;
    const struct sy_node *cn = NULL;
    r->line = det->line;
    r->sels = cw_arena_calloc(c->a, (det->nkids / 2 + 1) * sizeof(*r->sels));
    if (!r->sels)
        return fail(c, det->line, "out of memory%s", NULL);
    for (uint32_t i = 0; i + 1 < det->nkids; i += 2) {
        const struct sy_node *k = det->kids[i], *v = det->kids[i + 1];
        if (k->type != SY_SCALAR)
            return fail(c, k->line, "detection key must be a string%s", NULL);
        if (!strcmp(k->s, "condition")) {
            cn = v;
            continue;
        }
        if (!strcmp(k->s, "timeframe"))
            return fail(c, k->line, "timeframe (aggregation) is not supported%s", NULL);
        if (build_sel(c, k, v, &r->sels[r->nsels++]))
            return -1;
    }
    if (!cn)
        return fail(c, det->line, "detection without condition%s", NULL);
    return build_cond(c, cn);
}

static int build_rule(struct pctx *c, const struct sy_node *root)
{
    struct sigma_rule *r = c->r;
    if (sigma_yaml_get(root, "correlation"))
        return fail(c, root->line, "correlation rules are not supported%s", NULL);
    r->title = scalar(root, "title");
    r->name = scalar(root, "name");
    r->id = scalar(root, "id");
    r->status = scalar(root, "status");
    r->level = scalar(root, "level");
    r->description = scalar(root, "description");
    if (!r->title)
        return fail(c, root->line, "missing title%s", NULL);
    if (!r->id || strlen(r->id) >= 48)
        return fail(c, root->line, "missing or overlong id%s", NULL);
    const struct sy_node *ls = sigma_yaml_get(root, "logsource");
    if (!ls || ls->type != SY_MAP)
        return fail(c, root->line, "missing logsource%s", NULL);
    r->category = scalar(ls, "category");
    r->product = scalar(ls, "product");
    r->service = scalar(ls, "service");
    const struct sy_node *det = sigma_yaml_get(root, "detection");
    if (!det || det->type != SY_MAP)
        return fail(c, root->line, "missing detection%s", NULL);
    return build_tags(c, root) || build_detection(c, det) ? -1 : 0;
}

int sigma_rule_parse(struct cw_arena *a, const char *file, const char *text, size_t n,
                     struct sigma_rule *out, struct sigma_err *err)
{
    memset(out, 0, sizeof(*out));
    memset(err, 0, sizeof(*err));
    struct pctx c = {a, out, err};
    out->file = file ? cw_arena_strndup(a, file, strlen(file)) : "";
    const struct sy_node *root = sigma_yaml_parse(a, text, n, err);
    if (!root || build_rule(&c, root)) {
        sigma_rule_release(out);
        return -1;
    }
    return 0;
}

void sigma_rule_release(struct sigma_rule *r)
{
    for (uint32_t i = 0; i < r->nregexes; i++)
        pcre2_code_free(r->regexes[i]);
    free(r->regexes);
    r->regexes = NULL;
    r->nregexes = r->capregexes = 0;
}
