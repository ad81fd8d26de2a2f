/* sigma_eval.c - the reference evaluator: one rule, one record, straight-line.
 *
 * Field values come from the record's catalogue value (or core field) that the
 * field map names; when that value is absent and the raw line is JSON, the Sigma
 * field name itself is looked up in the raw JSON (Windows Event.EventData /
 * Event.System / UserData, then top-level and dotted paths), so rules work on
 * fields the catalogue does not carry. URL fields are matched raw and
 * normalised (sigma_urlnorm.c): a value matches if either form matches.
 * Regexes run under PCRE2 match and depth limits; hitting one counts as no match
 * (rules that hit it on simple probes are refused at load). */
#include "detect/sigma_rule.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/banned.h"

#define EVAL_MAX_TOKENS 4096
#define EVAL_RE_LIMIT 1000000
#define EVAL_URL_MAX SIGMA_URL_MAX

struct sigma_evalctx {
    const struct cw_record *r;
    int json_state;             /* 0 not tried, 1 parsed, -1 not JSON */
    struct cw_json j;
    jsmntok_t toks[EVAL_MAX_TOKENS];
    struct cw_arena arena;      /* unescaped JSON strings of the current record */
    pcre2_match_context *mc;
    pcre2_match_data *md;
    char num[2][32];            /* integer values rendered as text */
    char url[EVAL_URL_MAX];
    char urlraw[EVAL_URL_MAX];
    sigma_absent_fn absent;     /* hint: this glob matches nothing in the record */
    void *absent_arg;
};

struct sigma_evalctx *sigma_evalctx_new(void)
{
    struct sigma_evalctx *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    cw_arena_init(&c->arena, 16384, 0);
    c->mc = pcre2_match_context_create(NULL);
    c->md = pcre2_match_data_create(32, NULL);
    if (!c->mc || !c->md) {
        sigma_evalctx_free(c);
        return NULL;
    }
    pcre2_set_match_limit(c->mc, EVAL_RE_LIMIT);
    pcre2_set_depth_limit(c->mc, 10000);
    return c;
}

void sigma_evalctx_free(struct sigma_evalctx *c)
{
    if (!c)
        return;
    pcre2_match_data_free(c->md);
    pcre2_match_context_free(c->mc);
    cw_arena_release(&c->arena);
    free(c);
}

void sigma_evalctx_set_hint(struct sigma_evalctx *c, sigma_absent_fn fn, void *arg)
{
    c->absent = fn;
    c->absent_arg = arg;
}

void sigma_evalctx_reset(struct sigma_evalctx *c, const struct cw_record *r)
{
    c->r = r;
    c->json_state = 0;
    cw_arena_clear(&c->arena);
}

/* -- glob ------------------------------------------------------------------ */

static inline unsigned char fold(unsigned char c, bool cased)
{
    return !cased && c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c;
}

static inline bool is_letter(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

/* Does the star-free piece p[0..m) (SIGMA_GLOB_ONE = any byte) match s[0..m)? */
static inline bool piece_at(const char *p, size_t m, const char *s, bool cased)
{
    for (size_t i = 0; i < m; i++)
        if (p[i] != SIGMA_GLOB_ONE &&
            fold((unsigned char)p[i], cased) != fold((unsigned char)s[i], cased))
            return false;
    return true;
}

/* Leftmost start of the star-free piece p[0..m) in s[0..n), or -1. Candidates
 * are found with memchr on one byte of the piece (a non-letter when there is one,
 * else a letter in both cases). */
static ptrdiff_t piece_find(const char *p, size_t m, const char *s, size_t n, bool cased)
{
    if (m > n)
        return -1;
    size_t k = m, last = n - m;
    for (size_t i = 0; i < m && k == m; i++) /* the pivot byte */
        if (p[i] != SIGMA_GLOB_ONE && (cased || !is_letter((unsigned char)p[i])))
            k = i;
    for (size_t i = 0; i < m && k == m; i++)
        if (p[i] != SIGMA_GLOB_ONE)
            k = i;
    if (k == m) /* only '?': any start fits */
        return 0;
    unsigned char c = (unsigned char)p[k];
    bool both = !cased && is_letter(c);
    for (size_t i = 0; i <= last;) {
        const char *from = s + i + k, *q;
        size_t room = last - i + 1;
        if (both) {
            const char *lo = memchr(from, c | 0x20, room);
            const char *up = memchr(from, c & ~0x20, lo ? (size_t)(lo - from) : room);
            q = up ? up : lo;
        } else {
            q = memchr(from, c, room);
        }
        if (!q)
            return -1;
        i = (size_t)(q - s) - k;
        if (piece_at(p, m, s + i, cased))
            return (ptrdiff_t)i;
        i++;
    }
    return -1;
}

/* Glob with '*' and '?': the pieces between stars have fixed lengths, so the
 * first piece is anchored at the start, the last at the end, and each middle
 * piece may take its leftmost occurrence (a later one never helps the rest). */
bool sigma_glob(const char *p, size_t pn, const char *s, size_t sn, bool cased)
{
    const char *star = memchr(p, SIGMA_GLOB_STAR, pn);
    if (!star)
        return pn == sn && piece_at(p, pn, s, cased);
    size_t head = (size_t)(star - p), tail_at = pn;
    while (p[tail_at - 1] != SIGMA_GLOB_STAR) /* the last star is at tail_at - 1 */
        tail_at--;
    size_t tail = pn - tail_at;
    if (head + tail > sn || !piece_at(p, head, s, cased) ||
        !piece_at(p + tail_at, tail, s + sn - tail, cased))
        return false;
    size_t si = head, end = sn - tail;
    for (size_t pi = head + 1; pi < tail_at;) {
        const char *next = memchr(p + pi, SIGMA_GLOB_STAR, tail_at - pi);
        size_t m = (size_t)(next - (p + pi)); /* next exists: p[tail_at - 1] is a star */
        if (m) {
            ptrdiff_t at = piece_find(p + pi, m, s + si, end - si, cased);
            if (at < 0)
                return false;
            si += (size_t)at + m;
        }
        pi += m + 1;
    }
    return true;
}

/* -- field values ---------------------------------------------------------- */

struct fval {
    const char *s;
    size_t n;
    bool present;
    bool has_int;
    int64_t i;
};

static int json_child(const struct cw_json *j, int obj, const char *key)
{
    return obj >= 0 && cw_json_is(j, obj, JSMN_OBJECT) ? cw_json_get(j, obj, key) : -1;
}

/* Token of a Sigma field name in the record's raw JSON, or -1. */
static int json_lookup(struct sigma_evalctx *c, const char *name)
{
    if (c->json_state == 0) {
        const char *err;
        const struct cw_record *r = c->r;
        c->json_state = r->raw && r->raw_len && r->raw[0] == '{' &&
                                !cw_json_parse(&c->j, r->raw, r->raw_len, c->toks,
                                               EVAL_MAX_TOKENS, &err)
                            ? 1
                            : -1;
    }
    if (c->json_state < 0)
        return -1;
    const struct cw_json *j = &c->j;
    int ev = json_child(j, 0, "Event"), sys = json_child(j, ev, "System"), t;
    if ((t = json_child(j, json_child(j, ev, "EventData"), name)) >= 0 ||
        (t = json_child(j, sys, name)) >= 0)
        return t;
    if (!strcmp(name, "Provider_Name"))
        return json_child(j, json_child(j, json_child(j, sys, "Provider"), "#attributes"), "Name");
    if (!strcmp(name, "Security_UserID"))
        return json_child(j, json_child(j, json_child(j, sys, "Security"), "#attributes"),
                          "UserID");
    int ud = json_child(j, ev, "UserData");
    if (ud >= 0 && cw_json_is(j, ud, JSMN_OBJECT) && j->tok[ud].size > 0 &&
        (t = json_child(j, ud + 2, name)) >= 0)
        return t;
    if ((t = json_child(j, 0, name)) >= 0)
        return t;
    /* dotted path: a.b.c */
    char part[128];
    int cur = 0;
    const char *p = name;
    while (cur >= 0 && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n >= sizeof(part))
            return -1;
        memcpy(part, p, n);
        part[n] = '\0';
        cur = json_child(j, cur, part);
        p = dot ? dot + 1 : p + n;
    }
    return cur > 0 && strchr(name, '.') ? cur : -1;
}

static void json_value(struct sigma_evalctx *c, int t, struct fval *v)
{
    const struct cw_json *j = &c->j;
    if (t < 0 || cw_json_is_null(j, t) || cw_json_is(j, t, JSMN_OBJECT) ||
        cw_json_is(j, t, JSMN_ARRAY))
        return;
    if (cw_json_is(j, t, JSMN_STRING)) {
        if (cw_json_str(j, t, &c->arena, &v->s, &v->n))
            return;
    } else {
        v->s = cw_json_raw(j, t, &v->n);
        v->has_int = cw_json_int(j, t, &v->i) == 0;
    }
    v->present = true;
}

static void set_int(struct sigma_evalctx *c, int slot, int64_t i, struct fval *v)
{
    int n = snprintf(c->num[slot], sizeof(c->num[slot]), "%lld", (long long)i);
    v->s = c->num[slot];
    v->n = (size_t)n;
    v->has_int = true;
    v->i = i;
    v->present = true;
}

static void core_value(struct sigma_evalctx *c, int fid, int slot, struct fval *v)
{
    const struct cw_record *r = c->r;
    const struct cw_ip *ip = fid == SIGMA_FID_SRC_IP ? &r->src : &r->dst;
    switch (fid) {
    case SIGMA_FID_SRC_IP:
    case SIGMA_FID_DST_IP:
        if (ip->family) {
            v->n = cw_ip_format(ip, c->url + slot * 64);
            v->s = c->url + slot * 64;
            v->present = true;
        }
        return;
    case SIGMA_FID_SRC_PORT:
    case SIGMA_FID_DST_PORT: {
        uint16_t port = fid == SIGMA_FID_SRC_PORT ? r->sport : r->dport;
        if (port)
            set_int(c, slot, port, v);
        return;
    }
    case SIGMA_FID_TRANSPORT:
        if (r->transport) {
            v->s = cw_transport_name((enum cw_transport)r->transport);
            v->n = strlen(v->s);
            v->present = true;
        }
        return;
    case SIGMA_FID_RAW:
        v->s = r->raw;
        v->n = r->raw ? r->raw_len : 0;
        v->present = r->raw != NULL;
        return;
    default: return;
    }
}

/* http.path + "?" + http.query into c->urlraw */
static void url_value(struct sigma_evalctx *c, struct fval *v)
{
    size_t pn = 0, qn = 0;
    const char *p = cw_record_str(c->r, CW_F_HTTP_PATH, &pn);
    const char *q = cw_record_str(c->r, CW_F_HTTP_QUERY, &qn);
    if (!p)
        return;
    if (!q || pn + qn + 1 > sizeof(c->urlraw)) {
        v->s = p;
        v->n = pn;
    } else {
        memcpy(c->urlraw, p, pn);
        c->urlraw[pn] = '?';
        memcpy(c->urlraw + pn + 1, q, qn);
        v->s = c->urlraw;
        v->n = pn + 1 + qn;
    }
    v->present = true;
}

/* Value of field fid (Sigma name for the JSON fallback). slot separates the
 * scratch buffers of a field and its fieldref partner. */
static void field_value(struct sigma_evalctx *c, int fid, const char *name, int slot,
                        struct fval *v)
{
    memset(v, 0, sizeof(*v));
    if (fid > CW_F_NONE && fid < CW_F__COUNT) {
        const struct cw_value *cv = cw_record_get(c->r, (enum cw_field_id)fid);
        if (cv && cw_field_info((enum cw_field_id)fid)->type == CW_FT_INT)
            set_int(c, slot, cv->v.i, v);
        else if (cv) {
            v->s = cv->v.s;
            v->n = cv->len;
            v->present = true;
        }
    } else if (fid == SIGMA_FID_HTTP_URL) {
        url_value(c, v);
    } else if (fid != SIGMA_FID_JSON) {
        core_value(c, fid, slot, v);
    }
    if (!v->present && name)
        json_value(c, json_lookup(c, name), v);
}

static bool is_url_field(int fid)
{
    return fid == CW_F_HTTP_PATH || fid == CW_F_HTTP_QUERY || fid == SIGMA_FID_HTTP_URL ||
           fid == CW_F_HTTP_REFERER;
}

bool sigma_is_url_field(int fid) { return is_url_field(fid); }

bool sigma_eval_field(struct sigma_evalctx *c, int fid, const char *name, const char **s,
                      size_t *n)
{
    struct fval v;
    field_value(c, fid, name, 0, &v);
    *s = v.present ? v.s : NULL;
    *n = v.present ? v.n : 0;
    return v.present;
}

/* -- one value ------------------------------------------------------------- */

static bool parse_int(const struct fval *v, int64_t *out)
{
    if (v->has_int) {
        *out = v->i;
        return true;
    }
    char buf[32], *end;
    if (v->n == 0 || v->n >= sizeof(buf))
        return false;
    memcpy(buf, v->s, v->n);
    buf[v->n] = '\0';
    long long x = strtoll(buf, &end, 10);
    *out = x;
    return *end == '\0';
}

static bool cidr_match(const struct sigma_alt *a, const struct fval *v)
{
    struct cw_ip ip;
    if (cw_ip_parse(&ip, v->s, v->n) || ip.family != a->net.family)
        return false;
    unsigned full = a->prefix / 8, rest = a->prefix % 8;
    if (memcmp(ip.a, a->net.a, full))
        return false;
    return rest == 0 || ((ip.a[full] ^ a->net.a[full]) & (0xff << (8 - rest))) == 0;
}

static bool str_rel(const char *a, size_t an, const char *b, size_t bn, uint8_t how, bool cased)
{
    if (how == SIGMA_M_EQ || how == SIGMA_M_STARTS || how == SIGMA_M_ENDS) {
        if (bn > an || (how == SIGMA_M_EQ && an != bn))
            return false;
        const char *s = how == SIGMA_M_ENDS ? a + an - bn : a;
        for (size_t i = 0; i < bn; i++)
            if (fold((unsigned char)s[i], cased) != fold((unsigned char)b[i], cased))
                return false;
        return true;
    }
    for (size_t off = 0; off + bn <= an; off++)
        if (str_rel(a + off, bn, b, bn, SIGMA_M_EQ, cased))
            return true;
    return false;
}

static bool alt_match(const struct sigma_test *t, const struct sigma_alt *a, struct fval *v,
                      struct sigma_evalctx *c)
{
    int64_t x;
    bool cased = t->flags & SIGMA_F_CASED;
    if (a->null)
        return !v->present || v->n == 0;
    if (t->match == SIGMA_M_EXISTS)
        return v->present == (a->num != 0);
    if (!v->present)
        return false;
    switch (t->match) {
    case SIGMA_M_RE:
        return pcre2_match(a->re, (PCRE2_SPTR)v->s, v->n, 0, 0, c->md, c->mc) >= 0;
    case SIGMA_M_CIDR: return cidr_match(a, v);
    case SIGMA_M_LT: return parse_int(v, &x) && x < a->num;
    case SIGMA_M_LTE: return parse_int(v, &x) && x <= a->num;
    case SIGMA_M_GT: return parse_int(v, &x) && x > a->num;
    case SIGMA_M_GTE: return parse_int(v, &x) && x >= a->num;
    case SIGMA_M_FIELDREF: {
        struct fval o;
        field_value(c, t->ref_fid, a->s, 1, &o);
        return o.present && str_rel(v->s, v->n, o.s, o.n, t->ref_match, cased);
    }
    default:
        if (c->absent && c->absent(c->absent_arg, a))
            return false;
        return sigma_glob(a->s, a->n, v->s, v->n, cased);
    }
}

static bool value_match(const struct sigma_test *t, const struct sigma_value *val,
                        struct fval *v, struct sigma_evalctx *c)
{
    for (uint32_t k = 0; k < val->nalts; k++)
        if (alt_match(t, &val->alts[k], v, c))
            return true;
    return false;
}

/* All / any of the test's values against one field value. */
static bool values_match(const struct sigma_test *t, struct fval *v, struct sigma_evalctx *c)
{
    bool all = t->flags & SIGMA_F_ALL;
    for (uint32_t i = 0; i < t->nvals; i++) {
        bool m = value_match(t, &t->vals[i], v, c);
        if (m != all)
            return m;
    }
    return all;
}

/* Raw, then normalised form for URL fields. */
static bool field_match(const struct sigma_test *t, struct fval *v, struct sigma_evalctx *c)
{
    if (values_match(t, v, c))
        return true;
    if (!v->present || !is_url_field(t->fid) || !memchr(v->s, '%', v->n))
        return false;
    struct fval nv = *v;
    nv.n = sigma_url_normalize(v->s, v->n, c->url, sizeof(c->url));
    nv.s = c->url;
    return values_match(t, &nv, c);
}

/* Keywords: any string value of the record, or its raw line. With "all", each
 * keyword may match a different value (full-text semantics). */
static bool keyword_one(const struct sigma_test *t, const struct sigma_value *val,
                        struct sigma_evalctx *c, struct fval *hit)
{
    const struct cw_record *r = c->r;
    for (uint16_t i = 0; i <= r->nvals; i++) {
        struct fval v = {0};
        if (i == r->nvals) {
            v.s = r->raw;
            v.n = r->raw ? r->raw_len : 0;
            v.present = r->raw != NULL;
        } else if (cw_field_info((enum cw_field_id)r->vals[i].id)->type == CW_FT_STR) {
            v.s = r->vals[i].v.s;
            v.n = r->vals[i].len;
            v.present = true;
        }
        if (v.present && value_match(t, val, &v, c)) {
            *hit = v;
            return true;
        }
    }
    return false;
}

static bool keyword_match(const struct sigma_test *t, struct sigma_evalctx *c, struct fval *hit)
{
    bool all = t->flags & SIGMA_F_ALL;
    for (uint32_t i = 0; i < t->nvals; i++) {
        bool m = keyword_one(t, &t->vals[i], c, hit);
        if (m != all)
            return m;
    }
    return all;
}

bool sigma_eval_test(const struct sigma_test *t, struct sigma_evalctx *c, struct sigma_why *why)
{
    struct fval v;
    bool m;
    if (!t->field) {
        memset(&v, 0, sizeof(v));
        m = keyword_match(t, c, &v);
    } else {
        field_value(c, t->fid, t->field, 0, &v);
        m = field_match(t, &v, c);
    }
    if (m && why) {
        why->test = t;
        why->value = v.s;
        why->value_len = v.present ? v.n : 0;
    }
    return m;
}

/* -- rule ------------------------------------------------------------------ */

static bool eval_sel(const struct sigma_sel *s, struct sigma_evalctx *c, struct sigma_why *why)
{
    for (uint32_t g = 0; g < s->ngroups; g++) {
        const struct sigma_group *gr = &s->groups[g];
        struct sigma_why w = {s, NULL, NULL, 0};
        uint32_t k;
        for (k = 0; k < gr->ntests && sigma_eval_test(&gr->tests[k], c, &w); k++)
            ;
        if (k == gr->ntests) {
            if (why)
                *why = w;
            return true;
        }
    }
    return false;
}

static bool eval_cond(const struct sigma_rule *r, const struct sigma_cond *n,
                      struct sigma_evalctx *c, struct sigma_why *why)
{
    switch (n->op) {
    case SIGMA_C_SEL: return eval_sel(&r->sels[n->sel], c, why);
    case SIGMA_C_AND: return eval_cond(r, n->a, c, why) && eval_cond(r, n->b, c, why);
    case SIGMA_C_OR: return eval_cond(r, n->a, c, why) || eval_cond(r, n->b, c, why);
    case SIGMA_C_NOT: return !eval_cond(r, n->a, c, NULL); /* a negated hit explains nothing */
    case SIGMA_C_TRUE: return true;
    default: return false;
    }
}

bool sigma_eval_rule(const struct sigma_rule *rule, struct sigma_evalctx *c,
                     struct sigma_why *why)
{
    if (why)
        memset(why, 0, sizeof(*why));
    return rule->cond && eval_cond(rule, rule->cond, c, why);
}
