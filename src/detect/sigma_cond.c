/* sigma_cond.c - Sigma condition text to an expression tree.
 *
 * Grammar (precedence not > and > or, as in the specification):
 *   expr  := and ("or" and)*
 *   and   := unary ("and" unary)*
 *   unary := "not" unary | "(" expr ")" | ("1" | "all") "of" (pattern | "them") | name
 * "1 of sel_*" / "all of them" are expanded here into OR / AND over the matching
 * selections ("them" skips names starting with "_"). Aggregations after "|"
 * (count() by ...) and "near" are refused. Recursion depth and length are capped. */
#include "detect/sigma_rule.h"

#include <stdio.h>
#include <string.h>

#include "common/banned.h"

#define COND_MAX_DEPTH 64

struct cparse {
    struct cw_arena *a;
    const char *s, *end;
    const struct sigma_sel *sels;
    uint32_t nsels;
    int depth;
    const char *why;
    char tok[128];
    size_t tn;
};

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '*' || c == '-' || c == '.' || c == '?';
}

/* Read the next token into p->tok; "" at the end. Returns -1 on a bad char. */
static int next(struct cparse *p)
{
    while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r'))
        p->s++;
    p->tn = 0;
    p->tok[0] = '\0';
    if (p->s == p->end)
        return 0;
    if (*p->s == '(' || *p->s == ')') {
        p->tok[p->tn++] = *p->s++;
    } else if (*p->s == '|') {
        p->why = "aggregation expressions ('|') are not supported";
        return -1;
    } else if (name_char(*p->s)) {
        while (p->s < p->end && name_char(*p->s)) {
            if (p->tn + 1 >= sizeof(p->tok)) {
                p->why = "identifier too long";
                return -1;
            }
            p->tok[p->tn++] = *p->s++;
        }
    } else {
        p->why = "unexpected character";
        return -1;
    }
    p->tok[p->tn] = '\0';
    return 0;
}

static bool is(const struct cparse *p, const char *w) { return strcmp(p->tok, w) == 0; }

static struct sigma_cond *node(struct cparse *p, uint8_t op, struct sigma_cond *a,
                               struct sigma_cond *b)
{
    struct sigma_cond *n = cw_arena_calloc(p->a, sizeof(*n));
    if (!n) {
        p->why = "out of memory";
        return NULL;
    }
    n->op = op;
    n->a = a;
    n->b = b;
    return n;
}

/* Selection-name pattern: '*' and '?' as in the condition, compared cased. */
static bool name_glob(const char *pat, const char *s)
{
    char g[sizeof(((struct cparse *)0)->tok)];
    size_t n = 0;
    for (; pat[n] && n + 1 < sizeof(g); n++)
        g[n] = pat[n] == '*' ? SIGMA_GLOB_STAR : pat[n] == '?' ? SIGMA_GLOB_ONE : pat[n];
    return sigma_glob(g, n, s, strlen(s), true);
}

/* "1 of X" / "all of X": OR / AND over the matching selections. */
static struct sigma_cond *quantified(struct cparse *p, bool all)
{
    if (next(p))
        return NULL;
    if (!is(p, "of")) {
        p->why = "expected 'of' after '1' or 'all'";
        return NULL;
    }
    if (next(p))
        return NULL;
    if (p->tn == 0 || p->tok[0] == '(' || p->tok[0] == ')') {
        p->why = "expected a selection pattern after 'of'";
        return NULL;
    }
    if (strlen(p->tok) > 64) {
        p->why = "pattern too long";
        return NULL;
    }
    bool them = is(p, "them");
    struct sigma_cond *acc = NULL;
    for (uint32_t i = 0; i < p->nsels; i++) {
        const char *nm = p->sels[i].name;
        if (them ? nm[0] == '_' : !name_glob(p->tok, nm))
            continue;
        struct sigma_cond *leaf = node(p, SIGMA_C_SEL, NULL, NULL);
        if (!leaf)
            return NULL;
        leaf->sel = i;
        acc = acc ? node(p, all ? SIGMA_C_AND : SIGMA_C_OR, acc, leaf) : leaf;
        if (!acc)
            return NULL;
    }
    if (!acc) {
        p->why = "'of' pattern matches no selection";
        return NULL;
    }
    return next(p) ? NULL : acc;
}

static struct sigma_cond *expr(struct cparse *p);

static struct sigma_cond *unary(struct cparse *p)
{
    if (++p->depth > COND_MAX_DEPTH) {
        p->why = "condition nested too deeply";
        return NULL;
    }
    struct sigma_cond *r = NULL;
    if (is(p, "not")) {
        struct sigma_cond *a = next(p) ? NULL : unary(p);
        r = a ? node(p, SIGMA_C_NOT, a, NULL) : NULL;
    } else if (is(p, "(")) {
        struct sigma_cond *a = next(p) ? NULL : expr(p);
        if (a && !is(p, ")"))
            p->why = "missing ')'";
        else if (a && next(p) == 0)
            r = a;
    } else if (is(p, "1") || is(p, "any") || is(p, "all")) {
        r = quantified(p, is(p, "all"));
    } else if (p->tn == 0 || is(p, ")") || is(p, "and") || is(p, "or") || is(p, "of")) {
        p->why = p->tn ? "unexpected keyword" : "unexpected end of condition";
    } else if (is(p, "near")) {
        p->why = "'near' is not supported";
    } else {
        uint32_t i;
        for (i = 0; i < p->nsels && strcmp(p->sels[i].name, p->tok); i++)
            ;
        if (i == p->nsels) {
            p->why = strchr(p->tok, '*') ? "wildcard name outside '1 of' / 'all of'"
                                         : "condition names an undefined selection";
        } else if ((r = node(p, SIGMA_C_SEL, NULL, NULL)) != NULL) {
            r->sel = i;
            if (next(p))
                r = NULL;
        }
    }
    p->depth--;
    return r;
}

static struct sigma_cond *and_expr(struct cparse *p)
{
    struct sigma_cond *l = unary(p);
    while (l && is(p, "and")) {
        struct sigma_cond *r = next(p) ? NULL : unary(p);
        l = r ? node(p, SIGMA_C_AND, l, r) : NULL;
    }
    return l;
}

static struct sigma_cond *expr(struct cparse *p)
{
    struct sigma_cond *l = and_expr(p);
    while (l && is(p, "or")) {
        struct sigma_cond *r = next(p) ? NULL : and_expr(p);
        l = r ? node(p, SIGMA_C_OR, l, r) : NULL;
    }
    return l;
}

int sigma_cond_parse(struct cw_arena *a, const char *s, size_t n, const struct sigma_sel *sels,
                     uint32_t nsels, struct sigma_cond **out, const char **why)
{
    struct cparse p;
    memset(&p, 0, sizeof(p));
    p.a = a;
    p.s = s;
    p.end = s + n;
    p.sels = sels;
    p.nsels = nsels;
    *out = NULL;
    if (n > SIGMA_MAX_COND) {
        *why = "condition too long";
        return -1;
    }
    struct sigma_cond *c = next(&p) ? NULL : expr(&p);
    if (c && p.tn != 0) {
        c = NULL;
        p.why = is(&p, ")") ? "unbalanced ')'" : "unexpected text after the condition";
    }
    if (!c) {
        *why = p.why ? p.why : "invalid condition";
        return -1;
    }
    *out = c;
    return 0;
}
