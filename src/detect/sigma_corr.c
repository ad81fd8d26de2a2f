/* sigma_corr.c - Sigma correlation rules: parser, reference resolution, and the
 * streaming state machine (contract and semantics: sigma_corr.h, docs/sigma.md).
 *
 * Layout: the correlation rules of a rule set live in one struct sigma_corr_set
 * (rs->corr); their strings live in the rule set's arena. State entries are keyed
 * by (correlation index, member, group-by values) in a chained hash table (keyed
 * SipHash: group-by values are attacker-controlled) and sit on one LRU list; the
 * hash order never influences results, so output is deterministic. */
#include "detect/sigma_corr.h"

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "detect/sigma_ruleset.h"
#include "detect/sigma_yaml.h"
#include "common/banned.h"

#define NONE INT64_MIN

enum ctype { CT_EVENT_COUNT = 1, CT_VALUE_COUNT, CT_TEMPORAL, CT_TEMPORAL_ORDERED };

struct corr_alias {
    const char *alias, *rule, *field; /* alias name, referenced rule (name or id), field */
};

struct corr_input {
    const char *ref;      /* as written in `rules:` */
    const char *id;       /* id the detections of that rule carry */
    int32_t base;         /* index in rs->rules, -1 when the input is a correlation */
    int32_t corr;         /* index of the referenced correlation, -1 for a base rule */
    int gfid[SIGMA_CORR_MAX_GROUPBY];
    const char *gname[SIGMA_CORR_MAX_GROUPBY];
    int vfid;
    const char *vname;
};

struct corr_rule {
    const char *file, *title, *id, *name, *level;
    const char **tags;
    uint32_t ntags;
    uint32_t line, rules_line, rep; /* rep: index of the report entry */
    uint8_t type;
    bool generate, resolved, active;
    uint8_t severity, attack_class;
    const char *product;
    int64_t span_us;
    int64_t min, max;     /* condition: min <= count <= max */
    const char **gb;
    uint32_t ngb;
    const char *field;    /* value_count */
    struct corr_alias *al;
    uint32_t nal;
    struct corr_input *in;
    uint32_t nin;
    uint64_t def;         /* hash of the rule's YAML text: same text, same definition */
};

struct ref_ent { /* detections of rule `id` feed input `input` of correlation `corr` */
    const char *id;
    uint32_t corr, input;
};

struct cval {
    int64_t t;
    uint32_t n;
    char *s;
};

struct cstate {
    struct cstate *hnext, *lprev, *lnext;
    uint64_t h;
    uint32_t corr, keylen;
    size_t bytes;
    int64_t newest;
    uint32_t n, cap;
    int64_t *ts;          /* event_count: sorted times; temporal: last[nin];
                             temporal_ordered: start[nin], end[nin] */
    struct cval *vals;    /* value_count */
    unsigned char key[];
};

struct sigma_corr_set {
    struct corr_rule *r;
    uint32_t n, cap, nresolved;
    struct ref_ent *refs;      /* sorted by id, corr, input */
    uint32_t nrefs;
    const char **consumed;     /* sorted ids whose detections are dropped */
    uint32_t nconsumed;
    uint32_t nactive;
    pthread_mutex_t mu;
    uint64_t k0, k1;           /* SipHash key */
    struct cstate **bucket;
    uint32_t nbucket;
    struct cstate *lru_head, *lru_tail; /* head = most recent */
    uint64_t nstates, bytes, max_states, max_bytes;
    uint64_t evictions, overflow, fired, consumed_n;
    struct sigma_evalctx *ctx;
};

/* -- SipHash-2-4 ----------------------------------------------------------- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                   \
    do {                                                                           \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);                  \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                                     \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                                     \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);                  \
    } while (0)

static uint64_t siphash(uint64_t k0, uint64_t k1, const unsigned char *p, size_t n)
{
    uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
    uint64_t b = (uint64_t)n << 56, m;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&m, p + i, 8);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    for (size_t j = 0; i + j < n; j++)
        b |= (uint64_t)p[i + j] << (8 * j);
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* -- reports --------------------------------------------------------------- */

static int corr_report(struct sigma_ruleset *rs, const char *file, uint32_t line,
                       const char *reason)
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
    memset(r, 0, sizeof(*r));
    r->file = cw_arena_strndup(&rs->arena, file, strlen(file));
    r->reason = reason ? cw_arena_strndup(&rs->arena, reason, strlen(reason)) : NULL;
    r->line = line;
    if (!r->file || (reason && !r->reason))
        return -1;
    rs->nrep++;
    if (reason)
        rs->nskipped++;
    else
        rs->nsupported++;
    return 0;
}

/* A supported correlation turns out unusable at resolution: its entry becomes skipped. */
static int unreport(struct sigma_ruleset *rs, struct corr_rule *c, uint32_t line,
                    const char *reason)
{
    struct sigma_report *r = &rs->rep[c->rep];
    const char *s = cw_arena_strndup(&rs->arena, reason, strlen(reason));
    if (!s)
        return -1;
    if (!r->reason) {
        rs->nsupported--;
        rs->nskipped++;
    }
    r->reason = s;
    r->line = line;
    c->active = false;
    c->resolved = true;
    return 0;
}

/* -- parsing --------------------------------------------------------------- */

struct perr {
    uint32_t line;
    char reason[200];
};

static int pfail(struct perr *e, uint32_t line, const char *fmt, const char *arg)
{
    e->line = line;
    snprintf(e->reason, sizeof(e->reason), fmt, arg ? arg : "");
    return -1;
}

static const char *scalar_of(const struct sy_node *map, const char *key)
{
    const struct sy_node *v = sigma_yaml_get(map, key);
    return v && v->type == SY_SCALAR && !sigma_yaml_is_null(v) ? v->s : NULL;
}

/* Does a line start with "correlation" followed by optional blanks and ':'? */
static bool looks_like_correlation(const char *t, size_t n)
{
    static const char kw[] = "correlation";
    size_t kn = sizeof(kw) - 1;
    for (size_t i = 0; i < n; i++) {
        if ((i == 0 || t[i - 1] == '\n') && n - i > kn && !memcmp(t + i, kw, kn)) {
            size_t j = i + kn;
            while (j < n && (t[j] == ' ' || t[j] == '\t'))
                j++;
            if (j < n && t[j] == ':')
                return true;
        }
    }
    return false;
}

/* A scalar or a sequence of scalars into an arena array. */
static int str_list(struct cw_arena *a, const struct sy_node *v, const char ***out, uint32_t *n,
                    uint32_t max, const char *what, struct perr *e)
{
    const struct sy_node *const *items = &v;
    uint32_t k = 1;
    if (v->type == SY_SEQ) {
        items = (const struct sy_node *const *)v->kids;
        k = v->nkids;
    } else if (v->type != SY_SCALAR || sigma_yaml_is_null(v)) {
        return pfail(e, v->line, "%s must be a string or a list of strings", what);
    }
    if (k > max)
        return pfail(e, v->line, "%s has too many entries", what);
    const char **arr = cw_arena_calloc(a, (k + 1) * sizeof(*arr));
    if (!arr)
        return pfail(e, v->line, "out of memory%s", NULL);
    for (uint32_t i = 0; i < k; i++) {
        if (items[i]->type != SY_SCALAR || sigma_yaml_is_null(items[i]) || !items[i]->n)
            return pfail(e, items[i]->line, "%s must be a list of strings", what);
        arr[i] = items[i]->s;
    }
    *out = arr;
    *n = k;
    return 0;
}

static int parse_int(const struct sy_node *v, int64_t *out)
{
    if (v->type != SY_SCALAR || !v->n || v->n > 18)
        return -1;
    int64_t x = 0;
    for (uint32_t i = 0; i < v->n; i++) {
        if (v->s[i] < '0' || v->s[i] > '9')
            return -1;
        x = x * 10 + (v->s[i] - '0');
    }
    *out = x;
    return 0;
}

static int parse_timespan(const struct sy_node *v, int64_t *us)
{
    if (v->type != SY_SCALAR || v->n < 2 || v->n > 12)
        return -1;
    int64_t x = 0;
    for (uint32_t i = 0; i + 1 < v->n; i++) {
        if (v->s[i] < '0' || v->s[i] > '9')
            return -1;
        x = x * 10 + (v->s[i] - '0');
    }
    char u = v->s[v->n - 1];
    int64_t mul = u == 's' ? 1 : u == 'm' ? 60 : u == 'h' ? 3600 : u == 'd' ? 86400 : 0;
    if (!mul || x <= 0 || x > SIGMA_CORR_MAX_SPAN_S / mul)
        return -1;
    *us = x * mul * 1000000;
    return 0;
}

static int parse_condition(struct corr_rule *c, const struct sy_node *cn, uint32_t cl,
                           struct perr *e)
{
    bool lo = false, hi = false;
    c->min = 1;
    c->max = INT64_MAX;
    if (cn->type != SY_MAP)
        return pfail(e, cl, "correlation condition must be a mapping%s", NULL);
    for (uint32_t i = 0; i + 1 < cn->nkids; i += 2) {
        const struct sy_node *k = cn->kids[i], *v = cn->kids[i + 1];
        if (k->type != SY_SCALAR)
            return pfail(e, k->line, "condition key must be a string%s", NULL);
        if (!strcmp(k->s, "field")) {
            if (v->type != SY_SCALAR || sigma_yaml_is_null(v) || !v->n)
                return pfail(e, v->line, "condition field must be a string%s", NULL);
            c->field = v->s;
            continue;
        }
        int64_t x;
        bool isl = !strcmp(k->s, "gt") || !strcmp(k->s, "gte") || !strcmp(k->s, "eq");
        bool ish = !strcmp(k->s, "lt") || !strcmp(k->s, "lte") || !strcmp(k->s, "eq");
        if (!isl && !ish)
            return pfail(e, k->line, "unknown condition operator '%s'", k->s);
        if (parse_int(v, &x))
            return pfail(e, v->line, "condition '%s' needs a non-negative integer", k->s);
        if ((isl && lo) || (ish && hi))
            return pfail(e, k->line, "more than one bound of the same side in condition%s",
                         NULL);
        if (!strcmp(k->s, "gt"))
            c->min = x + 1;
        else if (!strcmp(k->s, "gte"))
            c->min = x;
        else if (!strcmp(k->s, "eq"))
            c->min = c->max = x;
        else if (!strcmp(k->s, "lt"))
            c->max = x - 1;
        else
            c->max = x;
        lo |= isl;
        hi |= ish;
    }
    if (!lo)
        return pfail(e, cl,
                     "condition without a lower bound (lt/lte alone) holds for groups that "
                     "never occur: not evaluable on a stream%s", NULL);
    if (c->min < 1)
        c->min = 1; /* a count is evaluated when an event arrives: it is >= 1 */
    if (c->min > c->max)
        return pfail(e, cl, "condition can never hold%s", NULL);
    return 0;
}

static int parse_aliases(struct cw_arena *a, struct corr_rule *c, const struct sy_node *v,
                         struct perr *e)
{
    if (v->type != SY_MAP)
        return pfail(e, v->line, "aliases must be a mapping%s", NULL);
    uint32_t n = 0;
    for (uint32_t i = 1; i < v->nkids; i += 2)
        n += v->kids[i]->type == SY_MAP ? v->kids[i]->nkids / 2 : 0;
    if (n > SIGMA_CORR_MAX_RULES * SIGMA_CORR_MAX_GROUPBY)
        return pfail(e, v->line, "too many aliases%s", NULL);
    c->al = cw_arena_calloc(a, (n + 1) * sizeof(*c->al));
    if (!c->al)
        return pfail(e, v->line, "out of memory%s", NULL);
    for (uint32_t i = 0; i + 1 < v->nkids; i += 2) {
        const struct sy_node *k = v->kids[i], *m = v->kids[i + 1];
        if (k->type != SY_SCALAR || m->type != SY_MAP)
            return pfail(e, k->line, "alias must map rule names to field names%s", NULL);
        for (uint32_t j = 0; j + 1 < m->nkids; j += 2) {
            const struct sy_node *rk = m->kids[j], *fv = m->kids[j + 1];
            if (rk->type != SY_SCALAR || fv->type != SY_SCALAR || sigma_yaml_is_null(fv))
                return pfail(e, rk->line, "alias must map rule names to field names%s", NULL);
            c->al[c->nal++] = (struct corr_alias){k->s, rk->s, fv->s};
        }
    }
    return 0;
}

/* Line of a key in a mapping (reports name the key, not its value). */
static uint32_t kline(const struct sy_node *map, const char *key, uint32_t dflt)
{
    for (uint32_t i = 0; map && map->type == SY_MAP && i + 1 < map->nkids; i += 2)
        if (map->kids[i]->type == SY_SCALAR && !strcmp(map->kids[i]->s, key))
            return map->kids[i]->line;
    return dflt;
}

static bool is_true(const char *s)
{
    return !strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "yes");
}

static int parse_corr(struct cw_arena *a, const struct sy_node *root, struct corr_rule *c,
                      struct perr *e)
{
    for (uint32_t i = 0; i + 1 < root->nkids; i += 2) { /* other keys are metadata */
        const struct sy_node *k = root->kids[i];
        if (k->type == SY_SCALAR && (!strcmp(k->s, "detection") || !strcmp(k->s, "logsource")))
            return pfail(e, k->line, "a correlation rule cannot have a '%s'", k->s);
    }
    c->title = scalar_of(root, "title");
    c->id = scalar_of(root, "id");
    c->name = scalar_of(root, "name");
    c->level = scalar_of(root, "level");
    if (!c->title)
        return pfail(e, root->line, "missing title%s", NULL);
    if (!c->id || strlen(c->id) >= 48)
        return pfail(e, root->line, "missing or overlong id%s", NULL);
    const struct sy_node *tags = sigma_yaml_get(root, "tags");
    if (tags && !sigma_yaml_is_null(tags) &&
        str_list(a, tags, &c->tags, &c->ntags, 256, "tags", e))
        return -1;
    const struct sy_node *gen = sigma_yaml_get(root, "generate");
    if (gen) {
        if (gen->type != SY_SCALAR)
            return pfail(e, gen->line, "generate must be true or false%s", NULL);
        c->generate = is_true(gen->s);
    }
    const struct sy_node *cr = sigma_yaml_get(root, "correlation");
    if (!cr || cr->type != SY_MAP)
        return pfail(e, cr ? cr->line : root->line, "correlation must be a mapping%s", NULL);
    c->line = kline(root, "correlation", cr->line);
    for (uint32_t i = 0; i + 1 < cr->nkids; i += 2) {
        const struct sy_node *k = cr->kids[i];
        static const char *const known[] = {"type", "rules", "group-by", "timespan",
                                            "condition", "aliases", "generate"};
        bool ok = false;
        for (size_t j = 0; k->type == SY_SCALAR && j < sizeof(known) / sizeof(known[0]); j++)
            ok |= !strcmp(k->s, known[j]);
        if (!ok)
            return pfail(e, k->line, "unsupported correlation key '%s'",
                         k->type == SY_SCALAR ? k->s : "?");
    }
    if ((gen = sigma_yaml_get(cr, "generate")) != NULL) /* also accepted inside */
        c->generate = gen->type == SY_SCALAR && is_true(gen->s);
    const struct sy_node *ty = sigma_yaml_get(cr, "type");
    if (!ty || ty->type != SY_SCALAR || sigma_yaml_is_null(ty))
        return pfail(e, c->line, "missing correlation type%s", NULL);
    c->type = !strcmp(ty->s, "event_count")        ? CT_EVENT_COUNT
              : !strcmp(ty->s, "value_count")      ? CT_VALUE_COUNT
              : !strcmp(ty->s, "temporal")         ? CT_TEMPORAL
              : !strcmp(ty->s, "temporal_ordered") ? CT_TEMPORAL_ORDERED
                                                   : 0;
    if (!c->type)
        return pfail(e, ty->line, "unknown correlation type '%s'", ty->s);
    const struct sy_node *rl = sigma_yaml_get(cr, "rules");
    const char **refs = NULL;
    if (!rl || sigma_yaml_is_null(rl))
        return pfail(e, c->line, "missing correlation rules%s", NULL);
    c->rules_line = kline(cr, "rules", rl->line);
    if (str_list(a, rl, &refs, &c->nin, SIGMA_CORR_MAX_RULES, "correlation rules", e))
        return -1;
    for (uint32_t i = 0; i < c->nin; i++)
        for (uint32_t j = 0; j < i; j++)
            if (!strcmp(refs[i], refs[j]))
                return pfail(e, c->rules_line, "rule '%s' listed twice", refs[i]);
    if ((c->type == CT_TEMPORAL || c->type == CT_TEMPORAL_ORDERED) && c->nin < 2)
        return pfail(e, c->rules_line, "a temporal correlation needs at least two rules%s",
                     NULL);
    c->in = cw_arena_calloc(a, c->nin * sizeof(*c->in));
    if (!c->in)
        return pfail(e, rl->line, "out of memory%s", NULL);
    for (uint32_t i = 0; i < c->nin; i++)
        c->in[i].ref = refs[i];
    const struct sy_node *gb = sigma_yaml_get(cr, "group-by");
    if (gb && !sigma_yaml_is_null(gb) &&
        str_list(a, gb, &c->gb, &c->ngb, SIGMA_CORR_MAX_GROUPBY, "group-by", e))
        return -1;
    const struct sy_node *ts = sigma_yaml_get(cr, "timespan");
    if (!ts)
        return pfail(e, c->line, "missing timespan%s", NULL);
    if (parse_timespan(ts, &c->span_us))
        return pfail(e, kline(cr, "timespan", ts->line),
                     "invalid timespan '%s' (number + s, m, h or d; at most 366d)",
                     ts->type == SY_SCALAR ? ts->s : "?");
    const struct sy_node *al = sigma_yaml_get(cr, "aliases");
    if (al && !sigma_yaml_is_null(al) && parse_aliases(a, c, al, e))
        return -1;
    const struct sy_node *cn = sigma_yaml_get(cr, "condition");
    if (cn && !sigma_yaml_is_null(cn)) {
        if (parse_condition(c, cn, kline(cr, "condition", cn->line), e))
            return -1;
    } else if (c->type == CT_EVENT_COUNT || c->type == CT_VALUE_COUNT) {
        return pfail(e, c->line, "missing condition%s", NULL);
    } else {
        c->min = c->nin;
        c->max = INT64_MAX;
    }
    uint32_t cl = kline(cr, "condition", c->line);
    if (c->type == CT_VALUE_COUNT && !c->field)
        return pfail(e, cl, "value_count needs condition.field%s", NULL);
    if (c->type != CT_VALUE_COUNT && c->field)
        return pfail(e, cl, "condition.field only applies to value_count%s", NULL);
    if (c->type == CT_EVENT_COUNT && c->min > SIGMA_CORR_MAX_COUNT)
        return pfail(e, cl, "event_count threshold above 100000%s", NULL);
    if (c->type == CT_VALUE_COUNT && c->min > SIGMA_CORR_MAX_DISTINCT)
        return pfail(e, cl, "value_count threshold above 4096%s", NULL);
    if (c->type == CT_TEMPORAL && c->min > (int64_t)c->nin)
        return pfail(e, cl, "temporal condition asks for more rules than listed%s", NULL);
    if (c->type == CT_TEMPORAL_ORDERED && (c->min != (int64_t)c->nin || c->max < c->min))
        return pfail(e, cl, "temporal_ordered takes no condition other than all rules%s", NULL);
    return 0;
}

static struct sigma_corr_set *set_new(void)
{
    struct sigma_corr_set *cs = calloc(1, sizeof(*cs));
    if (!cs)
        return NULL;
    pthread_mutex_init(&cs->mu, NULL);
    uint64_t k[2] = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
    if (getrandom(k, sizeof(k), GRND_NONBLOCK) != (ssize_t)sizeof(k)) {
        /* fixed key: still correct, only weaker against crafted collisions */
    }
    cs->k0 = k[0];
    cs->k1 = k[1];
    cs->max_states = SIGMA_CORR_DEFAULT_STATES;
    cs->max_bytes = SIGMA_CORR_DEFAULT_BYTES;
    return cs;
}

static bool id_taken(const struct sigma_ruleset *rs, const char *id)
{
    if (sigma_ruleset_find(rs, id))
        return true;
    for (uint32_t i = 0; rs->corr && i < rs->corr->n; i++)
        if (rs->corr->r[i].rep < rs->nrep && !rs->rep[rs->corr->r[i].rep].reason &&
            !strcmp(rs->corr->r[i].id, id))
            return true;
    return false;
}

int sigma_corr_add(struct sigma_ruleset *rs, const char *file, const char *text, size_t n)
{
    if (!looks_like_correlation(text, n))
        return 2;
    struct sigma_err yerr;
    memset(&yerr, 0, sizeof(yerr));
    const struct sy_node *root = sigma_yaml_parse(&rs->arena, text, n, &yerr);
    if (!root || root->type != SY_MAP || !sigma_yaml_get(root, "correlation"))
        return 2; /* the rule parser reports it (YAML error, or not a correlation) */
    struct corr_rule c;
    struct perr e;
    memset(&c, 0, sizeof(c));
    memset(&e, 0, sizeof(e));
    c.file = cw_arena_strndup(&rs->arena, file, strlen(file));
    if (!c.file)
        return -1;
    if (parse_corr(&rs->arena, root, &c, &e))
        return corr_report(rs, file, e.line, e.reason) ? -1 : 1;
    if (id_taken(rs, c.id))
        return corr_report(rs, file, root->line, "duplicate rule id") ? -1 : 1;
    if (!rs->corr && !(rs->corr = set_new()))
        return -1;
    struct sigma_corr_set *cs = rs->corr;
    if (cs->n == cs->cap) {
        uint32_t nc = cs->cap ? cs->cap * 2 : 16;
        struct corr_rule *nr = realloc(cs->r, nc * sizeof(*nr));
        if (!nr)
            return -1;
        cs->r = nr;
        cs->cap = nc;
    }
    struct sigma_rule tmp;
    memset(&tmp, 0, sizeof(tmp));
    tmp.title = c.title;
    tmp.tags = c.tags;
    tmp.ntags = c.ntags;
    c.severity = (uint8_t)sigma_level_severity(c.level);
    c.attack_class = (uint8_t)sigma_rule_attack_class(&tmp);
    c.rep = rs->nrep;
    size_t lead = 0; /* a later document of a stream comes behind newlines (lines) */
    while (lead < n && text[lead] == '\n')
        lead++;
    c.def = siphash(0, 0, (const unsigned char *)text + lead, n - lead);
    if (corr_report(rs, file, c.line, NULL))
        return -1;
    cs->r[cs->n++] = c;
    return 0;
}

/* -- resolution ------------------------------------------------------------ */

static int32_t find_corr(const struct sigma_corr_set *cs, const char *ref)
{
    for (uint32_t i = 0; i < cs->n; i++)
        if (!strcmp(cs->r[i].id, ref) || (cs->r[i].name && !strcmp(cs->r[i].name, ref)))
            return (int32_t)i;
    return -1;
}

static const struct sigma_entry *find_base(const struct sigma_ruleset *rs, const char *ref)
{
    const struct sigma_entry *e = sigma_ruleset_find(rs, ref);
    for (uint32_t i = 0; !e && i < rs->n; i++)
        if (rs->rules[i].rule.name && !strcmp(rs->rules[i].rule.name, ref))
            e = &rs->rules[i];
    return e;
}

/* Field of group-by / counted name for one input, through the aliases. */
static const char *aliased(const struct corr_rule *c, const char *field, const char *ref,
                           const char *name, const char *id)
{
    for (uint32_t i = 0; i < c->nal; i++)
        if (!strcmp(c->al[i].alias, field) &&
            (!strcmp(c->al[i].rule, ref) || (name && !strcmp(c->al[i].rule, name)) ||
             (id && !strcmp(c->al[i].rule, id))))
            return c->al[i].field;
    return field;
}

static int cmp_ref(const void *a, const void *b)
{
    const struct ref_ent *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    if (c)
        return c;
    if (x->corr != y->corr)
        return x->corr < y->corr ? -1 : 1;
    return x->input < y->input ? -1 : x->input > y->input;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int build_tables(struct sigma_ruleset *rs)
{
    struct sigma_corr_set *cs = rs->corr;
    uint32_t nref = 0;
    for (uint32_t i = 0; i < cs->n; i++)
        nref += cs->r[i].active ? cs->r[i].nin : 0;
    free(cs->refs);
    free(cs->consumed);
    cs->refs = calloc(nref + 1, sizeof(*cs->refs));
    cs->consumed = calloc(nref + 1, sizeof(*cs->consumed));
    if (!cs->refs || !cs->consumed)
        return -1;
    cs->nrefs = cs->nconsumed = cs->nactive = 0;
    for (uint32_t i = 0; i < cs->n; i++) {
        if (!cs->r[i].active)
            continue;
        cs->nactive++;
        for (uint32_t j = 0; j < cs->r[i].nin; j++)
            cs->refs[cs->nrefs++] = (struct ref_ent){cs->r[i].in[j].id, i, j};
    }
    qsort(cs->refs, cs->nrefs, sizeof(*cs->refs), cmp_ref);
    for (uint32_t i = 0; i < cs->nrefs;) {
        uint32_t j = i;
        bool gen = false;
        for (; j < cs->nrefs && !strcmp(cs->refs[j].id, cs->refs[i].id); j++)
            gen |= cs->r[cs->refs[j].corr].generate;
        if (!gen)
            cs->consumed[cs->nconsumed++] = cs->refs[i].id;
        i = j;
    }
    qsort(cs->consumed, cs->nconsumed, sizeof(*cs->consumed), cmp_str);
    return 0;
}

/* The base rule whose log source a correlation's events come from: the first
 * input, followed down through inner correlations (acyclic). -1 if none. */
static int32_t rep_base(const struct sigma_corr_set *cs, const struct corr_input *in)
{
    for (uint32_t hops = 0; in->base < 0 && in->corr >= 0 && hops <= cs->n; hops++)
        in = &cs->r[in->corr].in[0];
    return in->base;
}

/* Field ids of one active correlation's inputs; its product and attack class. */
static void resolve_inputs(struct sigma_ruleset *rs, struct corr_rule *c)
{
    struct sigma_corr_set *cs = rs->corr;
    struct sigma_rule none;
    memset(&none, 0, sizeof(none));
    bool same_prod = true, same_class = true;
    int cls = -1;
    for (uint32_t j = 0; j < c->nin; j++) {
        struct corr_input *in = &c->in[j];
        int32_t rb = rep_base(cs, in);
        const struct sigma_rule *br = rb >= 0 ? &rs->rules[rb].rule : &none;
        const char *nm = in->base >= 0 ? rs->rules[in->base].rule.name : cs->r[in->corr].name;
        for (uint32_t g = 0; g < c->ngb; g++) {
            in->gname[g] = aliased(c, c->gb[g], in->ref, nm, in->id);
            in->gfid[g] = sigma_fieldmap_resolve(&rs->fm, br, in->gname[g]);
        }
        if (c->field) {
            in->vname = aliased(c, c->field, in->ref, nm, in->id);
            in->vfid = sigma_fieldmap_resolve(&rs->fm, br, in->vname);
        }
        const char *prod = in->base >= 0 ? rs->rules[in->base].product
                                         : cs->r[in->corr].product;
        int ac = in->base >= 0 ? rs->rules[in->base].attack_class
                               : cs->r[in->corr].attack_class;
        if (j == 0)
            c->product = prod;
        same_prod &= prod && c->product && !strcmp(prod, c->product);
        same_class &= cls < 0 || cls == ac;
        cls = ac;
    }
    if (!same_prod)
        c->product = NULL;
    if (c->attack_class == CW_AC_OTHER && same_class && cls >= 0)
        c->attack_class = (uint8_t)cls;
}

int sigma_corr_resolve(struct sigma_ruleset *rs)
{
    struct sigma_corr_set *cs = rs->corr;
    if (!cs)
        return 0;
    char why[200];
    /* 1. references */
    for (uint32_t i = cs->nresolved; i < cs->n; i++) {
        struct corr_rule *c = &cs->r[i];
        if (rs->rep[c->rep].reason)
            continue;
        c->active = true;
        for (uint32_t j = 0; j < c->nin && c->active; j++) {
            struct corr_input *in = &c->in[j];
            const struct sigma_entry *e = find_base(rs, in->ref);
            int32_t k = e ? -1 : find_corr(cs, in->ref);
            in->corr = k;
            in->base = e ? (int32_t)(e - rs->rules) : -1;
            if (e) {
                in->id = e->rule.id;
            } else if (k == (int32_t)i) {
                if (unreport(rs, c, c->rules_line, "correlation references itself"))
                    return -1;
            } else if (k >= 0 && !rs->rep[cs->r[k].rep].reason) {
                in->id = cs->r[k].id;
            } else {
                snprintf(why, sizeof(why),
                         "rule '%.100s' is not loaded (unknown id or name, or skipped)",
                         in->ref);
                if (unreport(rs, c, c->rules_line, why))
                    return -1;
            }
        }
    }
    /* 2. cycles: an active correlation reaching itself through active correlations
     * (all found first, then all reported) */
    uint8_t *cyc = calloc(cs->n + 1, 1), *seen = calloc(cs->n + 1, 1);
    uint32_t *stack = malloc(((size_t)cs->n * SIGMA_CORR_MAX_RULES + 1) * sizeof(*stack));
    if (!cyc || !seen || !stack) {
        free(cyc);
        free(seen);
        free(stack);
        return -1;
    }
    for (uint32_t i = 0; i < cs->n; i++) {
        if (!cs->r[i].active)
            continue;
        uint32_t sp = 0;
        memset(seen, 0, cs->n);
        stack[sp++] = i;
        while (sp && !cyc[i]) {
            uint32_t x = stack[--sp];
            for (uint32_t j = 0; j < cs->r[x].nin; j++) {
                int32_t y = cs->r[x].in[j].corr;
                if (y < 0 || !cs->r[y].active || seen[y])
                    continue;
                cyc[i] |= (uint32_t)y == i;
                seen[y] = 1;
                stack[sp++] = (uint32_t)y;
            }
        }
    }
    int rc = 0;
    for (uint32_t i = 0; i < cs->n && rc == 0; i++)
        if (cyc[i])
            rc = unreport(rs, &cs->r[i], cs->r[i].rules_line,
                          "correlation rules reference each other in a cycle");
    free(cyc);
    free(seen);
    free(stack);
    if (rc)
        return -1;
    /* correlations on skipped correlations, to a fixpoint */
    bool changed = true;
    while (changed) {
        changed = false;
        for (uint32_t i = 0; i < cs->n; i++) {
            struct corr_rule *c = &cs->r[i];
            for (uint32_t j = 0; c->active && j < c->nin; j++)
                if (c->in[j].corr >= 0 && !cs->r[c->in[j].corr].active) {
                    snprintf(why, sizeof(why), "referenced correlation '%.100s' is skipped",
                             c->in[j].ref);
                    if (unreport(rs, c, c->rules_line, why))
                        return -1;
                    changed = true;
                }
        }
    }
    /* 3. fields per input, product and attack class from the inputs (inner
     * correlations first: there are no cycles left, so n passes suffice) */
    uint8_t *done = calloc(cs->n + 1, 1);
    if (!done)
        return -1;
    for (uint32_t pass = 0; pass <= cs->n; pass++)
        for (uint32_t i = cs->nresolved; i < cs->n; i++) {
            struct corr_rule *c = &cs->r[i];
            bool ready = c->active && !done[i];
            for (uint32_t j = 0; ready && j < c->nin; j++)
                ready = c->in[j].corr < 0 || c->in[j].corr < (int32_t)cs->nresolved ||
                        done[c->in[j].corr];
            if (ready)
                resolve_inputs(rs, c);
            done[i] |= ready;
        }
    free(done);
    cs->nresolved = cs->n;
    return build_tables(rs);
}

/* -- state ----------------------------------------------------------------- */

static void state_free_data(struct sigma_corr_set *cs, struct cstate *s)
{
    for (uint32_t i = 0; s->vals && i < s->n; i++)
        free(s->vals[i].s);
    free(s->vals);
    free(s->ts);
    s->vals = NULL;
    s->ts = NULL;
    s->n = s->cap = 0;
    cs->bytes -= s->bytes - (sizeof(*s) + s->keylen);
    s->bytes = sizeof(*s) + s->keylen;
}

static void lru_unlink(struct sigma_corr_set *cs, struct cstate *s)
{
    if (s->lprev)
        s->lprev->lnext = s->lnext;
    else
        cs->lru_head = s->lnext;
    if (s->lnext)
        s->lnext->lprev = s->lprev;
    else
        cs->lru_tail = s->lprev;
    s->lprev = s->lnext = NULL;
}

static void lru_front(struct sigma_corr_set *cs, struct cstate *s)
{
    s->lnext = cs->lru_head;
    s->lprev = NULL;
    if (cs->lru_head)
        cs->lru_head->lprev = s;
    cs->lru_head = s;
    if (!cs->lru_tail)
        cs->lru_tail = s;
}

static void state_remove(struct sigma_corr_set *cs, struct cstate *s)
{
    struct cstate **pp = &cs->bucket[s->h & (cs->nbucket - 1)];
    while (*pp != s)
        pp = &(*pp)->hnext;
    *pp = s->hnext;
    lru_unlink(cs, s);
    state_free_data(cs, s);
    cs->bytes -= s->bytes;
    cs->nstates--;
    free(s);
}

/* Evict least recently used entries (never keep) until within the caps. */
static void enforce(struct sigma_corr_set *cs, const struct cstate *keep)
{
    while ((cs->nstates > cs->max_states || cs->bytes > cs->max_bytes) && cs->lru_tail &&
           cs->lru_tail != keep) {
        state_remove(cs, cs->lru_tail);
        cs->evictions++;
    }
}

static int grow_buckets(struct sigma_corr_set *cs)
{
    uint32_t nb = cs->nbucket ? cs->nbucket * 2 : 1024;
    struct cstate **b = calloc(nb, sizeof(*b));
    if (!b)
        return -1;
    for (uint32_t i = 0; i < cs->nbucket; i++)
        for (struct cstate *s = cs->bucket[i], *nx; s; s = nx) {
            nx = s->hnext;
            s->hnext = b[s->h & (nb - 1)];
            b[s->h & (nb - 1)] = s;
        }
    free(cs->bucket);
    cs->bucket = b;
    cs->nbucket = nb;
    return 0;
}

static struct cstate *state_get(struct sigma_corr_set *cs, uint32_t corr,
                                const unsigned char *key, uint32_t keylen)
{
    uint64_t h = siphash(cs->k0, cs->k1 ^ corr, key, keylen);
    if (cs->nbucket) {
        for (struct cstate *s = cs->bucket[h & (cs->nbucket - 1)]; s; s = s->hnext)
            if (s->h == h && s->corr == corr && s->keylen == keylen &&
                !memcmp(s->key, key, keylen)) {
                lru_unlink(cs, s);
                lru_front(cs, s);
                return s;
            }
    }
    if ((cs->nstates >= cs->nbucket && cs->nbucket < (1u << 24)) || !cs->nbucket)
        if (grow_buckets(cs))
            return NULL;
    struct cstate *s = calloc(1, sizeof(*s) + keylen);
    if (!s)
        return NULL;
    s->h = h;
    s->corr = corr;
    s->keylen = keylen;
    s->newest = NONE;
    memcpy(s->key, key, keylen);
    s->bytes = sizeof(*s) + keylen;
    s->hnext = cs->bucket[h & (cs->nbucket - 1)];
    cs->bucket[h & (cs->nbucket - 1)] = s;
    lru_front(cs, s);
    cs->nstates++;
    cs->bytes += s->bytes;
    enforce(cs, s);
    return s;
}

static int ensure_ts(struct sigma_corr_set *cs, struct cstate *s, uint32_t cap)
{
    if (s->cap >= cap)
        return 0;
    int64_t *n = realloc(s->ts, cap * sizeof(*n));
    if (!n)
        return -1;
    s->ts = n;
    s->bytes += (size_t)(cap - s->cap) * sizeof(*n);
    cs->bytes += (size_t)(cap - s->cap) * sizeof(*n);
    s->cap = cap;
    return 0;
}

/* event_count: returns 1 when the condition holds, 0 not, -1 out of memory */
static int step_event_count(struct sigma_corr_set *cs, const struct corr_rule *c,
                            struct cstate *s, int64_t t)
{
    if (s->newest == NONE || t > s->newest)
        s->newest = t;
    uint32_t drop = 0; /* expired: older than newest - span */
    while (drop < s->n && s->ts[drop] < s->newest - c->span_us)
        drop++;
    if (drop)
        memmove(s->ts, s->ts + drop, (s->n - drop) * sizeof(*s->ts));
    s->n -= drop;
    uint32_t k = (uint32_t)c->min; /* more timestamps cannot change the decision */
    if (s->n == k) {               /* only out of order: keep the newest k */
        if (t < s->ts[0])
            return 0;
        memmove(s->ts, s->ts + 1, (s->n - 1) * sizeof(*s->ts));
        s->n--;
    }
    if (s->n == s->cap) {
        uint32_t nc = s->cap ? s->cap * 2 : 4;
        if (ensure_ts(cs, s, nc > k ? k : nc))
            return -1;
    }
    uint32_t pos = s->n;
    while (pos && s->ts[pos - 1] > t)
        pos--;
    memmove(s->ts + pos + 1, s->ts + pos, (s->n - pos) * sizeof(*s->ts));
    s->ts[pos] = t;
    s->n++;
    int64_t cnt = 0;
    for (uint32_t i = 0; i < s->n; i++)
        cnt += s->ts[i] >= t - c->span_us && s->ts[i] <= t;
    return cnt >= c->min && cnt <= c->max;
}

static int step_value_count(struct sigma_corr_set *cs, const struct corr_rule *c,
                            struct cstate *s, int64_t t, const char *v, uint32_t vn)
{
    if (s->newest == NONE || t > s->newest)
        s->newest = t;
    uint32_t w = 0;
    for (uint32_t i = 0; i < s->n; i++) { /* drop expired values */
        if (s->vals[i].t < s->newest - c->span_us) {
            s->bytes -= s->vals[i].n;
            cs->bytes -= s->vals[i].n;
            free(s->vals[i].s);
            continue;
        }
        s->vals[w++] = s->vals[i];
    }
    s->n = w;
    uint32_t i = 0;
    while (i < s->n && !(s->vals[i].n == vn && !memcmp(s->vals[i].s, v, vn)))
        i++;
    if (i < s->n) {
        if (t > s->vals[i].t)
            s->vals[i].t = t;
    } else {
        uint32_t k = (uint32_t)c->min;
        if (s->n == k) { /* full (out-of-order input only): evict the oldest value */
            uint32_t o = 0;
            for (uint32_t j = 1; j < s->n; j++)
                if (s->vals[j].t < s->vals[o].t)
                    o = j;
            s->bytes -= s->vals[o].n;
            cs->bytes -= s->vals[o].n;
            free(s->vals[o].s);
            s->vals[o] = s->vals[--s->n];
            cs->overflow++;
        }
        if (s->n == s->cap) {
            uint32_t nc = s->cap ? s->cap * 2 : 4;
            if (nc > k)
                nc = k;
            struct cval *nv = realloc(s->vals, nc * sizeof(*nv));
            if (!nv)
                return -1;
            s->vals = nv;
            s->bytes += (size_t)(nc - s->cap) * sizeof(*nv);
            cs->bytes += (size_t)(nc - s->cap) * sizeof(*nv);
            s->cap = nc;
        }
        char *copy = malloc(vn ? vn : 1);
        if (!copy)
            return -1;
        memcpy(copy, v, vn);
        s->vals[s->n++] = (struct cval){t, vn, copy};
        s->bytes += vn;
        cs->bytes += vn;
    }
    int64_t cnt = 0;
    for (uint32_t j = 0; j < s->n; j++)
        cnt += s->vals[j].t >= t - c->span_us;
    return cnt >= c->min && cnt <= c->max;
}

static int step_temporal(struct sigma_corr_set *cs, const struct corr_rule *c,
                         struct cstate *s, int64_t t, uint32_t input)
{
    uint32_t need = c->type == CT_TEMPORAL_ORDERED ? 2 * c->nin : c->nin;
    if (!s->cap) {
        if (ensure_ts(cs, s, need))
            return -1;
        for (uint32_t i = 0; i < need; i++)
            s->ts[i] = NONE;
        s->n = need;
    }
    if (c->type == CT_TEMPORAL) {
        if (s->ts[input] == NONE || t > s->ts[input])
            s->ts[input] = t;
        int64_t cnt = 0;
        for (uint32_t i = 0; i < c->nin; i++)
            cnt += s->ts[i] != NONE && s->ts[i] >= t - c->span_us;
        return cnt >= c->min && cnt <= c->max;
    }
    int64_t *start = s->ts, *end = s->ts + c->nin;
    if (input == 0) {
        if (start[0] == NONE || t > start[0])
            start[0] = end[0] = t;
        return c->nin == 1;
    }
    int64_t ps = start[input - 1];
    if (ps == NONE || end[input - 1] > t || t - ps > c->span_us)
        return 0;
    if (start[input] == NONE || ps > start[input]) {
        start[input] = ps;
        end[input] = t;
    }
    return input == c->nin - 1;
}

/* -- detection ------------------------------------------------------------- */

/* Append one value to the key: u16 length (0xffff = long value, hashed) + bytes. */
static void key_add(const struct sigma_corr_set *cs, unsigned char *key, uint32_t *kn,
                    const char *v, size_t n)
{
    uint16_t len = (uint16_t)n;
    if (n > SIGMA_CORR_MAX_VALUE) {
        uint64_t h = siphash(cs->k1, cs->k0, (const unsigned char *)v, n);
        len = 0xffff;
        memcpy(key + *kn, &len, 2);
        memcpy(key + *kn + 2, v, SIGMA_CORR_MAX_VALUE - 8);
        memcpy(key + *kn + 2 + SIGMA_CORR_MAX_VALUE - 8, &h, 8);
        *kn += 2 + SIGMA_CORR_MAX_VALUE;
        return;
    }
    memcpy(key + *kn, &len, 2);
    memcpy(key + *kn + 2, v, n);
    *kn += 2 + (uint32_t)n;
}

static const struct ref_ent *first_ref(const struct sigma_corr_set *cs, const char *id)
{
    uint32_t lo = 0, hi = cs->nrefs;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (strcmp(cs->refs[mid].id, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < cs->nrefs && !strcmp(cs->refs[lo].id, id) ? &cs->refs[lo] : NULL;
}

static bool is_consumed(const struct sigma_corr_set *cs, const char *id)
{
    return cs->nconsumed &&
           bsearch(&id, cs->consumed, cs->nconsumed, sizeof(*cs->consumed), cmp_str) != NULL;
}

static int fire(struct sigma_corr_set *cs, const struct corr_rule *c, uint32_t rec,
                struct cw_detections *ds)
{
    struct cw_detection d;
    memset(&d, 0, sizeof(d));
    d.rec = rec;
    d.attack_class = c->attack_class;
    d.severity = c->severity;
    d.source = CW_DET_SIGMA;
    snprintf(d.rule_id, sizeof(d.rule_id), "%s", c->id);
    d.rule_name = c->title;
    size_t tn = strlen(c->title);
    d.rule_name_len = (uint16_t)(tn > UINT16_MAX ? UINT16_MAX : tn);
    d.product = c->product;
    d.product_len = (uint16_t)(c->product ? strlen(c->product) : 0);
    cs->fired++;
    return cw_detections_add(ds, &d);
}

/* One detection of input `input` of correlation `ci` on record rec (index ri). */
static int correlate(struct sigma_corr_set *cs, uint32_t ci, uint32_t input,
                     const struct cw_record *rec, uint32_t ri, struct cw_detections *ds)
{
    static _Thread_local unsigned char key[4 + SIGMA_CORR_MAX_GROUPBY * (2 + SIGMA_CORR_MAX_VALUE)];
    const struct corr_rule *c = &cs->r[ci];
    const struct corr_input *in = &c->in[input];
    uint32_t kn = 0;
    memcpy(key, &rec->member_id, 4);
    kn = 4;
    for (uint32_t g = 0; g < c->ngb; g++) {
        const char *v;
        size_t n;
        if (!sigma_eval_field(cs->ctx, in->gfid[g], in->gname[g], &v, &n))
            return 0; /* no value to group by: the event is outside every group */
        key_add(cs, key, &kn, v, n);
    }
    const char *val = NULL;
    size_t vn = 0;
    unsigned char vbuf[2 + SIGMA_CORR_MAX_VALUE];
    uint32_t vkn = 0;
    if (c->type == CT_VALUE_COUNT) {
        if (!sigma_eval_field(cs->ctx, in->vfid, in->vname, &val, &vn))
            return 0;
        key_add(cs, vbuf, &vkn, val, vn);
    }
    struct cstate *s = state_get(cs, ci, key, kn);
    if (!s)
        return -1;
    int rc;
    switch (c->type) {
    case CT_EVENT_COUNT: rc = step_event_count(cs, c, s, rec->ts_us); break;
    case CT_VALUE_COUNT:
        rc = step_value_count(cs, c, s, rec->ts_us, (const char *)vbuf, vkn);
        break;
    default: rc = step_temporal(cs, c, s, rec->ts_us, input); break;
    }
    if (rc < 0)
        return -1;
    enforce(cs, s);
    if (rc == 0)
        return 0;
    state_remove(cs, s); /* the events that fired are used up */
    return fire(cs, c, ri, ds);
}

/* Feed detection ds->d[k] to every correlation input that takes its rule. */
static int feed(struct sigma_corr_set *cs, const struct cw_batch *b, struct cw_detections *ds,
                uint32_t k)
{
    if (ds->d[k].source != CW_DET_SIGMA || ds->d[k].rec >= b->n)
        return 0;
    char id[sizeof(ds->d[k].rule_id)];
    memcpy(id, ds->d[k].rule_id, sizeof(id)); /* ds->d may move as detections are added */
    uint32_t ri = ds->d[k].rec;
    const struct ref_ent *r = first_ref(cs, id);
    if (!r)
        return 0;
    sigma_evalctx_reset(cs->ctx, &b->recs[ri]);
    int rc = 0;
    for (; r < cs->refs + cs->nrefs && !strcmp(r->id, id) && rc == 0; r++)
        rc = correlate(cs, r->corr, r->input, &b->recs[ri], ri, ds);
    return rc;
}

int sigma_corr_detect(const struct sigma_ruleset *rs, const struct cw_batch *b,
                      struct cw_detections *ds, uint32_t from)
{
    struct sigma_corr_set *cs = rs->corr;
    if (!cs || !cs->nactive)
        return 0;
    int rc = 0;
    pthread_mutex_lock(&cs->mu);
    if (!cs->ctx && !(cs->ctx = sigma_evalctx_new())) {
        pthread_mutex_unlock(&cs->mu);
        return -1;
    }
    /* Detections come in record order. A correlation that fires is appended and fed
     * at once (before the next record's detections) to correlations chained on it. */
    uint32_t n0 = ds->n;
    for (uint32_t i = from; i < n0 && rc == 0; i++)
        for (uint32_t cur = i, q = ds->n; rc == 0; cur = q++) {
            if (cur != i && cur >= ds->n)
                break; /* no (more) correlation detections of this record */
            rc = feed(cs, b, ds, cur);
        }
    if (rc == 0 && cs->nconsumed) {
        uint32_t w = from;
        for (uint32_t i = from; i < ds->n; i++) {
            if (ds->d[i].source == CW_DET_SIGMA && is_consumed(cs, ds->d[i].rule_id)) {
                cs->consumed_n++;
                continue;
            }
            ds->d[w++] = ds->d[i];
        }
        ds->n = w;
    }
    pthread_mutex_unlock(&cs->mu);
    return rc;
}

void sigma_corr_stats(const struct sigma_ruleset *rs, struct sigma_corr_stats *st)
{
    memset(st, 0, sizeof(*st));
    struct sigma_corr_set *cs = rs->corr;
    if (!cs)
        return;
    pthread_mutex_lock(&cs->mu);
    st->rules = cs->nactive;
    st->states = cs->nstates;
    st->bytes = cs->bytes;
    st->evictions = cs->evictions;
    st->value_overflow = cs->overflow;
    st->fired = cs->fired;
    st->consumed = cs->consumed_n;
    pthread_mutex_unlock(&cs->mu);
}

void sigma_corr_set_limits(const struct sigma_ruleset *rs, uint32_t max_states,
                           uint64_t max_bytes)
{
    struct sigma_corr_set *cs = rs->corr;
    if (!cs)
        return;
    pthread_mutex_lock(&cs->mu);
    if (max_states)
        cs->max_states = max_states;
    if (max_bytes)
        cs->max_bytes = max_bytes;
    enforce(cs, NULL);
    pthread_mutex_unlock(&cs->mu);
}

/* Same correlation: id, YAML text and the ids of the rules it reads. */
static bool same_corr(const struct corr_rule *a, const struct corr_rule *b)
{
    if (!a->active || !b->active || strcmp(a->id, b->id) || a->def != b->def || a->nin != b->nin)
        return false;
    for (uint32_t i = 0; i < a->nin; i++)
        if (strcmp(a->in[i].id, b->in[i].id))
            return false;
    return true;
}

uint64_t sigma_corr_adopt(struct sigma_ruleset *to, const struct sigma_ruleset *from)
{
    struct sigma_corr_set *nc = to->corr, *oc = from->corr;
    uint64_t moved = 0;
    if (!nc || !oc || !oc->n)
        return 0;
    int32_t *map = malloc(oc->n * sizeof(*map));
    if (!map)
        return 0;
    bool any = false;
    for (uint32_t i = 0; i < oc->n; i++) {
        map[i] = -1;
        for (uint32_t j = 0; j < nc->n && map[i] < 0; j++)
            if (same_corr(&oc->r[i], &nc->r[j]))
                map[i] = (int32_t)j;
        any |= map[i] >= 0;
    }
    pthread_mutex_lock(&oc->mu);
    pthread_mutex_lock(&nc->mu);
    if (any && !nc->nstates) {
        /* keys of long values embed a hash under the set's key: take the old key */
        nc->k0 = oc->k0;
        nc->k1 = oc->k1;
        /* oldest first, each to the front: the LRU order carries over */
        for (struct cstate *s = oc->lru_tail, *prev; s; s = prev) {
            prev = s->lprev;
            if (map[s->corr] < 0)
                continue;
            if ((nc->nstates >= nc->nbucket || !nc->nbucket) && nc->nbucket < (1u << 24) &&
                grow_buckets(nc))
                break;
            struct cstate **pp = &oc->bucket[s->h & (oc->nbucket - 1)];
            while (*pp != s)
                pp = &(*pp)->hnext;
            *pp = s->hnext;
            lru_unlink(oc, s);
            oc->nstates--;
            oc->bytes -= s->bytes;
            s->corr = (uint32_t)map[s->corr];
            s->h = siphash(nc->k0, nc->k1 ^ s->corr, s->key, s->keylen);
            s->hnext = nc->bucket[s->h & (nc->nbucket - 1)];
            nc->bucket[s->h & (nc->nbucket - 1)] = s;
            lru_front(nc, s);
            nc->nstates++;
            nc->bytes += s->bytes;
            moved++;
        }
        enforce(nc, NULL);
    }
    pthread_mutex_unlock(&nc->mu);
    pthread_mutex_unlock(&oc->mu);
    free(map);
    return moved;
}

void sigma_corr_free(struct sigma_corr_set *cs)
{
    if (!cs)
        return;
    while (cs->lru_head)
        state_remove(cs, cs->lru_head);
    free(cs->bucket);
    free(cs->refs);
    free(cs->consumed);
    free(cs->r);
    sigma_evalctx_free(cs->ctx);
    pthread_mutex_destroy(&cs->mu);
    free(cs);
}
