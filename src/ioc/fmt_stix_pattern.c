/* fmt_stix_pattern.c - STIX 2.1 patterning: a recursive-descent reader of the whole
 * grammar (shared/data/stix/pattern_grammar/STIXPattern.g4) that keeps what maps to
 * indicators, and the writer of single-comparison patterns.
 *
 * Why read the full grammar when only "[path = 'value'] OR ..." is kept: a pattern
 * is refused with a precise reason ("AND of two comparisons", "operator MATCHES"),
 * and a syntax error is told apart from a construct we do not map. Each grammar
 * rule returns a set of leaves ("any of these values") or a refusal reason; OR
 * unites sets, every other combinator refuses. Nesting is bounded (fuzzed input). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ioc/fmt_impl.h"
#include "common/banned.h"

#define MAX_DEPTH 64
#define MAX_LEAVES 4096

enum tk {
    T_EOF, T_LBRACK, T_RBRACK, T_LPAREN, T_RPAREN, T_COMMA, T_COLON, T_DOT, T_STAR,
    T_EQ, T_NEQ, T_LT, T_LE, T_GT, T_GE,
    T_STRING, T_INT, T_FLOAT, T_HEX, T_BIN, T_TIME, T_BOOL, T_IDENT,
    T_AND, T_OR, T_NOT, T_FOLLOWEDBY, T_LIKE, T_MATCHES, T_ISSUPERSET, T_ISSUBSET,
    T_EXISTS, T_IN, T_START, T_STOP, T_SECONDS, T_WITHIN, T_REPEATS, T_TIMES, T_LAST
};

static const struct { const char *w; enum tk t; } keywords[] = {
    {"AND", T_AND}, {"OR", T_OR}, {"NOT", T_NOT}, {"FOLLOWEDBY", T_FOLLOWEDBY},
    {"LIKE", T_LIKE}, {"MATCHES", T_MATCHES}, {"ISSUPERSET", T_ISSUPERSET},
    {"ISSUBSET", T_ISSUBSET}, {"EXISTS", T_EXISTS}, {"IN", T_IN}, {"START", T_START},
    {"STOP", T_STOP}, {"SECONDS", T_SECONDS}, {"WITHIN", T_WITHIN}, {"REPEATS", T_REPEATS},
    {"TIMES", T_TIMES}, {"LAST", T_LAST}, {"true", T_BOOL}, {"false", T_BOOL},
};

struct pp {
    const char *s;
    size_t n, pos;
    enum tk t;            /* current token */
    size_t ts, te;        /* its bytes */
    bool hyphen;          /* T_IDENT contains '-' */
    enum tk prev;
    int depth;
    struct cw_arena *arena;
    char *err;
    size_t errlen;
    bool failed;          /* syntax error (err set) */
    const char *refuse;   /* first reason the pattern is not a set of indicators */
    char refuse_buf[320];
    struct cw_stix_leaf *leaves;
    size_t nleaves, capleaves;
};

/* A set result of a grammar rule: leaves [first, first+count) of pp->leaves, or
 * refused (pp->refuse says why). */
struct set {
    size_t first, count;
    bool ok;
};

static void syntax(struct pp *p, const char *what)
{
    if (p->failed)
        return;
    p->failed = true;
    snprintf(p->err, p->errlen, "pattern syntax error at offset %zu: %s", p->ts, what);
}

static void refuse(struct pp *p, const char *fmt, const char *arg)
{
    if (p->refuse)
        return;
    snprintf(p->refuse_buf, sizeof p->refuse_buf, fmt, arg);
    p->refuse = p->refuse_buf;
}

/* White space of the grammar's WS rule (ASCII and the Unicode spaces in UTF-8). */
static size_t ws_len(const unsigned char *c, size_t left)
{
    if (*c == ' ' || (*c >= '\t' && *c <= '\r'))
        return 1;
    if (left >= 2 && c[0] == 0xc2 && (c[1] == 0x85 || c[1] == 0xa0))
        return 2;
    if (left >= 3 && c[0] == 0xe1 && c[1] == 0x9a && c[2] == 0x80)
        return 3;
    if (left >= 3 && c[0] == 0xe2 && c[1] == 0x80 &&
        ((c[2] >= 0x80 && c[2] <= 0x8a) || c[2] == 0xa8 || c[2] == 0xa9 || c[2] == 0xaf))
        return 3;
    if (left >= 3 && c[0] == 0xe2 && c[1] == 0x81 && c[2] == 0x9f)
        return 3;
    if (left >= 3 && c[0] == 0xe3 && c[1] == 0x80 && c[2] == 0x80)
        return 3;
    return 0;
}

static bool skip_space(struct pp *p)
{
    while (p->pos < p->n) {
        const unsigned char *c = (const unsigned char *)p->s + p->pos;
        size_t left = p->n - p->pos, w = ws_len(c, left);
        if (w) {
            p->pos += w;
        } else if (left >= 2 && c[0] == '/' && c[1] == '*') {
            const char *e = NULL;
            for (size_t i = p->pos + 2; i + 1 < p->n; i++)
                if (p->s[i] == '*' && p->s[i + 1] == '/') {
                    e = p->s + i;
                    break;
                }
            if (!e) {
                p->ts = p->pos;
                syntax(p, "unterminated comment");
                return false;
            }
            p->pos = (size_t)(e - p->s) + 2;
        } else if (left >= 2 && c[0] == '/' && c[1] == '/') {
            while (p->pos < p->n && p->s[p->pos] != '\n' && p->s[p->pos] != '\r')
                p->pos++;
        } else {
            break;
        }
    }
    return true;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static bool is_ident(char c) { return is_ident_start(c) || is_digit(c); }

/* A quoted body starting at the quote q; returns the index after the closing quote
 * or 0 when unterminated. Backslash escapes only \' and \\. */
static size_t quoted_end(const struct pp *p, size_t q, bool escapes)
{
    for (size_t i = q + 1; i < p->n; i++) {
        if (escapes && p->s[i] == '\\') {
            if (i + 1 < p->n && (p->s[i + 1] == '\'' || p->s[i + 1] == '\\')) {
                i++;
                continue;
            }
            return 0;
        }
        if (p->s[i] == '\'')
            return i + 1;
    }
    return 0;
}

static bool valid_hex(const char *s, size_t n)
{
    if (n % 2)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789abcdefABCDEF", s[i]) || !s[i])
            return false;
    return true;
}

static bool valid_b64(const char *s, size_t n)
{
    if (n == 0 || n % 4)
        return false;
    size_t pad = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '=') {
            pad++;
            continue;
        }
        if (pad || !(is_ident(c) || c == '+' || c == '/') || c == '_')
            return false;
    }
    return pad <= 2;
}

static bool valid_time(const char *s, size_t n)
{
    /* YYYY-MM-DDTHH:MM:SS[.f+]Z with the ranges of the grammar */
    if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || s[n - 1] != 'Z')
        return false;
    static const int dpos[] = {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18};
    for (size_t i = 0; i < sizeof dpos / sizeof *dpos; i++)
        if (!is_digit(s[dpos[i]]))
            return false;
    int mo = (s[5] - '0') * 10 + s[6] - '0', d = (s[8] - '0') * 10 + s[9] - '0';
    int h = (s[11] - '0') * 10 + s[12] - '0', mi = (s[14] - '0') * 10 + s[15] - '0';
    int se = (s[17] - '0') * 10 + s[18] - '0';
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return false;
    if (n == 20)
        return true;
    if (s[19] != '.' || n < 22)
        return false;
    for (size_t i = 20; i < n - 1; i++)
        if (!is_digit(s[i]))
            return false;
    return true;
}

static void lex(struct pp *p)
{
    p->prev = p->t;
    if (p->failed || !skip_space(p)) {
        p->t = T_EOF;
        return;
    }
    p->ts = p->pos;
    p->hyphen = false;
    if (p->pos >= p->n) {
        p->t = T_EOF;
        p->te = p->pos;
        return;
    }
    const char *s = p->s;
    size_t i = p->pos;
    char c = s[i];
    char c1 = i + 1 < p->n ? s[i + 1] : '\0';
    enum tk t;
    size_t e = i + 1;
    switch (c) {
    case '[': t = T_LBRACK; break;
    case ']': t = T_RBRACK; break;
    case '(': t = T_LPAREN; break;
    case ')': t = T_RPAREN; break;
    case ',': t = T_COMMA; break;
    case ':': t = T_COLON; break;
    case '*': t = T_STAR; break;
    case '=': t = T_EQ; e += c1 == '='; break;
    case '!':
        if (c1 != '=')
            goto bad;
        t = T_NEQ;
        e++;
        break;
    case '<':
        t = c1 == '=' ? T_LE : c1 == '>' ? T_NEQ : T_LT;
        e += t != T_LT;
        break;
    case '>': t = c1 == '=' ? T_GE : T_GT; e += t == T_GE; break;
    case '\'':
        e = quoted_end(p, i, true);
        if (!e)
            goto bad;
        t = T_STRING;
        break;
    default:
        if ((c == 'h' || c == 'b' || c == 't') && c1 == '\'') {
            e = quoted_end(p, i + 1, false);
            if (!e)
                goto bad;
            const char *body = s + i + 2;
            size_t bn = e - i - 3;
            if ((c == 'h' && !valid_hex(body, bn)) || (c == 'b' && !valid_b64(body, bn)) ||
                (c == 't' && !valid_time(body, bn)))
                goto bad;
            t = c == 'h' ? T_HEX : c == 'b' ? T_BIN : T_TIME;
        } else if (is_ident_start(c)) {
            while (e < p->n && (is_ident(s[e]) || s[e] == '-')) {
                p->hyphen |= s[e] == '-';
                e++;
            }
            t = T_IDENT;
            for (size_t k = 0; k < sizeof keywords / sizeof *keywords; k++)
                if (strlen(keywords[k].w) == e - i && memcmp(keywords[k].w, s + i, e - i) == 0)
                    t = keywords[k].t;
        } else if (is_digit(c) || c == '+' || c == '-' ||
                   (c == '.' && is_digit(c1) && p->prev != T_IDENT && p->prev != T_STRING &&
                    p->prev != T_RBRACK)) {
            size_t k = i + (c == '+' || c == '-');
            size_t d0 = k;
            while (k < p->n && is_digit(s[k]))
                k++;
            size_t intdigits = k - d0;
            t = T_INT;
            if (k < p->n && s[k] == '.' && k + 1 < p->n && is_digit(s[k + 1])) {
                k++;
                while (k < p->n && is_digit(s[k]))
                    k++;
                t = T_FLOAT;
            } else if (intdigits == 0 || (intdigits > 1 && s[d0] == '0')) {
                goto bad;
            }
            e = k;
        } else if (c == '.') {
            t = T_DOT;
        } else {
            goto bad;
        }
    }
    p->t = t;
    p->te = e;
    p->pos = e;
    return;
bad:
    syntax(p, "invalid character or literal");
    p->t = T_EOF;
}

static bool accept(struct pp *p, enum tk t)
{
    if (p->t != t)
        return false;
    lex(p);
    return true;
}

static bool expect(struct pp *p, enum tk t, const char *what)
{
    if (accept(p, t))
        return true;
    syntax(p, what);
    return false;
}

/* -- object paths ----------------------------------------------------------------- */

struct path {
    char text[256]; /* "file:hashes.SHA-256", components unquoted, "[*]" for indexes */
    size_t len;
    bool truncated;
};

static void path_add(struct path *pa, const char *s, size_t n)
{
    if (pa->len + n >= sizeof pa->text) {
        pa->truncated = true;
        return;
    }
    memcpy(pa->text + pa->len, s, n);
    pa->len += n;
    pa->text[pa->len] = '\0';
}

/* A path component: identifier without hyphen, or a quoted string (unquoted into pa). */
static bool path_component(struct pp *p, struct path *pa)
{
    if (p->t == T_IDENT && !p->hyphen) {
        path_add(pa, p->s + p->ts, p->te - p->ts);
    } else if (p->t == T_STRING) {
        for (size_t i = p->ts + 1; i + 1 < p->te; i++) {
            if (p->s[i] == '\\')
                i++;
            path_add(pa, p->s + i, 1);
        }
    } else {
        syntax(p, "expected an object path component");
        return false;
    }
    lex(p);
    return true;
}

static bool object_path(struct pp *p, struct path *pa)
{
    pa->len = 0;
    pa->text[0] = '\0';
    pa->truncated = false;
    if (p->t != T_IDENT) {
        syntax(p, "expected an object type");
        return false;
    }
    path_add(pa, p->s + p->ts, p->te - p->ts);
    lex(p);
    if (!expect(p, T_COLON, "expected ':' after the object type"))
        return false;
    path_add(pa, ":", 1);
    if (!path_component(p, pa))
        return false;
    for (;;) {
        if (accept(p, T_DOT)) {
            path_add(pa, ".", 1);
            if (!path_component(p, pa))
                return false;
        } else if (p->t == T_LBRACK && p->pos < p->n) {
            /* an index step, but "[" may also start the next observation after a
             * path ending a comparison: only an index if INT or '*' and ']' follow */
            size_t save_pos = p->pos, save_ts = p->ts, save_te = p->te;
            enum tk save_prev = p->prev;
            lex(p);
            if ((p->t == T_INT || p->t == T_STAR)) {
                lex(p);
                if (!expect(p, T_RBRACK, "expected ']' after an index"))
                    return false;
                path_add(pa, "[*]", 3);
                continue;
            }
            p->pos = save_pos;
            p->ts = save_ts;
            p->te = save_te;
            p->prev = save_prev;
            p->t = T_LBRACK;
            break;
        } else {
            break;
        }
    }
    return true;
}

/* Indicator type of a supported path; CW_IOC_NONE otherwise. ipv4/ipv6/cidr are
 * decided by the value later ("address" paths return CW_IOC_IPV4 as a marker). */
static enum cw_ioc_type path_type(const char *path, bool *any_addr)
{
    static const struct { const char *p; enum cw_ioc_type t; bool any; } map[] = {
        {"domain-name:value", CW_IOC_DOMAIN, false},
        {"ipv4-addr:value", CW_IOC_IPV4, false},
        {"ipv6-addr:value", CW_IOC_IPV6, false},
        {"url:value", CW_IOC_URL, false},
        {"email-addr:value", CW_IOC_EMAIL, false},
        {"email-message:from_ref.value", CW_IOC_EMAIL, false},
        {"email-message:sender_ref.value", CW_IOC_EMAIL, false},
        {"file:hashes.MD5", CW_IOC_MD5, false},
        {"file:hashes.SHA-1", CW_IOC_SHA1, false},
        {"file:hashes.SHA1", CW_IOC_SHA1, false},
        {"file:hashes.SHA-256", CW_IOC_SHA256, false},
        {"file:hashes.SHA256", CW_IOC_SHA256, false},
        {"network-traffic:dst_ref.value", CW_IOC_IPV4, true},
        {"network-traffic:src_ref.value", CW_IOC_IPV4, true},
        {"network-traffic:extensions.http-request-ext.request_header.User-Agent",
         CW_IOC_USER_AGENT, false},
        {"x-crosswatch-tls:ja3", CW_IOC_JA3, false},
        {"x-crosswatch-tls:ja4", CW_IOC_JA4, false},
    };
    *any_addr = false;
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (strcasecmp(map[i].p, path) == 0) {
            *any_addr = map[i].any;
            return map[i].t;
        }
    return CW_IOC_NONE;
}

static int add_leaf(struct pp *p, enum cw_ioc_type t, bool any_addr, const char *lit, size_t n)
{
    if (p->nleaves >= MAX_LEAVES) {
        refuse(p, "%s", "more than 4096 values in one pattern");
        return -1;
    }
    if (p->nleaves == p->capleaves) {
        size_t nc = p->capleaves ? p->capleaves * 2 : 8;
        struct cw_stix_leaf *nl = cw_arena_alloc(p->arena, nc * sizeof *nl);
        if (!nl)
            goto oom;
        if (p->nleaves)
            memcpy(nl, p->leaves, p->nleaves * sizeof *nl);
        p->leaves = nl;
        p->capleaves = nc;
    }
    /* unescape \' and \\ */
    char *v = cw_arena_alloc(p->arena, n + 1);
    if (!v)
        goto oom;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (lit[i] == '\\' && i + 1 < n)
            i++;
        v[o++] = lit[i];
    }
    v[o] = '\0';
    if (memchr(lit, '\0', n)) {
        refuse(p, "%s", "a value contains a NUL byte");
        return -1;
    }
    bool slash = strchr(v, '/') != NULL;
    if (any_addr)
        t = slash ? CW_IOC_CIDR : strchr(v, ':') ? CW_IOC_IPV6 : CW_IOC_IPV4;
    else if ((t == CW_IOC_IPV4 || t == CW_IOC_IPV6) && slash)
        t = CW_IOC_CIDR;
    p->leaves[p->nleaves].type = t;
    p->leaves[p->nleaves].value = v;
    p->nleaves++;
    return 0;
oom:
    refuse(p, "%s", "out of memory");
    return -1;
}

static bool is_literal(enum tk t)
{
    return t == T_STRING || t == T_INT || t == T_FLOAT || t == T_HEX || t == T_BIN ||
           t == T_TIME || t == T_BOOL;
}

static const char *op_name(enum tk t)
{
    switch (t) {
    case T_NEQ: return "!=";
    case T_LT: return "<";
    case T_LE: return "<=";
    case T_GT: return ">";
    case T_GE: return ">=";
    case T_LIKE: return "LIKE";
    case T_MATCHES: return "MATCHES";
    case T_ISSUBSET: return "ISSUBSET";
    case T_ISSUPERSET: return "ISSUPERSET";
    default: return "?";
    }
}

static struct set comparison_or(struct pp *p);

static struct set refused(void) { return (struct set){0, 0, false}; }

/* propTest */
static struct set prop_test(struct pp *p)
{
    struct set r = {p->nleaves, 0, true};
    if (accept(p, T_LPAREN)) {
        if (++p->depth > MAX_DEPTH) {
            syntax(p, "nested too deeply");
            return refused();
        }
        r = comparison_or(p);
        p->depth--;
        expect(p, T_RPAREN, "expected ')'");
        return r;
    }
    bool neg = accept(p, T_NOT);
    if (accept(p, T_EXISTS)) {
        struct path pa;
        object_path(p, &pa);
        refuse(p, "%s", "EXISTS tests presence, not a value");
        return refused();
    }
    struct path pa;
    if (!object_path(p, &pa))
        return refused();
    neg |= accept(p, T_NOT);
    enum tk op = p->t;
    bool any_addr = false;
    enum cw_ioc_type t = pa.truncated ? CW_IOC_NONE : path_type(pa.text, &any_addr);
    switch (op) {
    case T_EQ:
    case T_NEQ:
    case T_LT:
    case T_LE:
    case T_GT:
    case T_GE: {
        lex(p);
        size_t ls = p->ts, le = p->te;
        enum tk lt = p->t;
        if (!is_literal(lt) || ((op != T_EQ && op != T_NEQ) && lt == T_BOOL)) {
            syntax(p, "expected a literal");
            return refused();
        }
        lex(p);
        if (op != T_EQ) {
            refuse(p, "operator %s does not name values", op_name(op));
            return refused();
        }
        if (neg) {
            refuse(p, "%s", "NOT = does not name values");
            return refused();
        }
        if (t == CW_IOC_NONE) {
            refuse(p, "object path %s is not an indicator type", pa.text);
            return refused();
        }
        if (lt != T_STRING) {
            refuse(p, "%s", "the value of an indicator comparison must be a string");
            return refused();
        }
        if (add_leaf(p, t, any_addr, p->s + ls + 1, le - ls - 2))
            return refused();
        r.count = 1;
        return r;
    }
    case T_IN: {
        lex(p);
        if (!expect(p, T_LPAREN, "expected '(' after IN"))
            return refused();
        bool ok = !neg && t != CW_IOC_NONE;
        if (neg)
            refuse(p, "%s", "NOT IN does not name values");
        else if (t == CW_IOC_NONE)
            refuse(p, "object path %s is not an indicator type", pa.text);
        if (p->t != T_RPAREN) {
            for (;;) {
                if (!is_literal(p->t)) {
                    syntax(p, "expected a literal in the set");
                    return refused();
                }
                if (ok && p->t != T_STRING) {
                    refuse(p, "%s", "the value of an indicator comparison must be a string");
                    ok = false;
                }
                if (ok && add_leaf(p, t, any_addr, p->s + p->ts + 1, p->te - p->ts - 2))
                    ok = false;
                lex(p);
                if (!accept(p, T_COMMA))
                    break;
            }
        }
        if (!expect(p, T_RPAREN, "expected ')' closing the set"))
            return refused();
        if (!ok)
            return refused();
        r.count = p->nleaves - r.first;
        if (r.count == 0) {
            refuse(p, "%s", "IN () is an empty set");
            return refused();
        }
        return r;
    }
    case T_LIKE:
    case T_MATCHES:
    case T_ISSUBSET:
    case T_ISSUPERSET:
        lex(p);
        if (!expect(p, T_STRING, "expected a string literal"))
            return refused();
        refuse(p, "operator %s does not name values", op_name(op));
        return refused();
    default:
        syntax(p, "expected a comparison operator");
        return refused();
    }
}

static struct set comparison_and(struct pp *p)
{
    struct set r = prop_test(p);
    while (!p->failed && p->t == T_AND) {
        lex(p);
        prop_test(p);
        refuse(p, "%s", "AND of comparisons is narrower than one indicator");
        r = refused();
    }
    return r;
}

static struct set unite(struct pp *p, struct set a, struct set b)
{
    if (!a.ok || !b.ok)
        return refused();
    /* sets are produced left to right, so b directly follows a in pp->leaves */
    return (struct set){a.first, a.count + b.count, true};
}

static struct set comparison_or(struct pp *p)
{
    struct set r = comparison_and(p);
    while (!p->failed && p->t == T_OR) {
        lex(p);
        r = unite(p, r, comparison_and(p));
    }
    return r;
}

static struct set observation_exprs(struct pp *p);

static struct set qualifiers(struct pp *p, struct set r)
{
    for (;;) {
        if (accept(p, T_START)) {
            if (!expect(p, T_TIME, "expected a timestamp after START") ||
                !expect(p, T_STOP, "expected STOP") ||
                !expect(p, T_TIME, "expected a timestamp after STOP"))
                return refused();
            refuse(p, "%s", "qualifier START/STOP limits when it matches");
        } else if (accept(p, T_WITHIN)) {
            if ((p->t != T_INT && p->t != T_FLOAT) || p->s[p->ts] == '-') {
                syntax(p, "expected a positive number after WITHIN");
                return refused();
            }
            lex(p);
            if (!expect(p, T_SECONDS, "expected SECONDS"))
                return refused();
            refuse(p, "%s", "qualifier WITHIN limits when it matches");
        } else if (accept(p, T_REPEATS)) {
            if (p->t != T_INT || p->s[p->ts] == '-') {
                syntax(p, "expected a positive integer after REPEATS");
                return refused();
            }
            lex(p);
            if (!expect(p, T_TIMES, "expected TIMES"))
                return refused();
            refuse(p, "%s", "qualifier REPEATS needs several sightings");
        } else {
            return r;
        }
        r = refused();
    }
}

static struct set observation(struct pp *p)
{
    struct set r;
    if (++p->depth > MAX_DEPTH) {
        syntax(p, "nested too deeply");
        return refused();
    }
    if (accept(p, T_LBRACK)) {
        r = comparison_or(p);
        expect(p, T_RBRACK, "expected ']' closing the observation");
    } else if (accept(p, T_LPAREN)) {
        r = observation_exprs(p);
        expect(p, T_RPAREN, "expected ')'");
    } else {
        syntax(p, "expected '[' or '('");
        r = refused();
    }
    p->depth--;
    return qualifiers(p, r);
}

static struct set observation_and(struct pp *p)
{
    struct set r = observation(p);
    while (!p->failed && p->t == T_AND) {
        lex(p);
        observation(p);
        refuse(p, "%s", "AND of observations is narrower than one indicator");
        r = refused();
    }
    return r;
}

static struct set observation_or(struct pp *p)
{
    struct set r = observation_and(p);
    while (!p->failed && p->t == T_OR) {
        lex(p);
        r = unite(p, r, observation_and(p));
    }
    return r;
}

static struct set observation_exprs(struct pp *p)
{
    struct set r = observation_or(p);
    while (!p->failed && p->t == T_FOLLOWEDBY) {
        lex(p);
        observation_or(p);
        refuse(p, "%s", "FOLLOWEDBY needs a sequence of observations");
        r = refused();
    }
    return r;
}

int cw_stix_pattern_parse(const char *pat, size_t n, struct cw_arena *arena,
                          struct cw_stix_leaf **leaves, char *err, size_t errlen)
{
    struct pp p = {.s = pat, .n = n, .arena = arena, .err = err, .errlen = errlen,
                   .t = T_EOF};
    lex(&p);
    struct set r = observation_exprs(&p);
    if (!p.failed && p.t != T_EOF)
        syntax(&p, "unexpected text after the pattern");
    if (p.failed)
        return -1;
    if (!r.ok || p.refuse) {
        snprintf(err, errlen, "pattern not used: %s", p.refuse ? p.refuse : "unsupported");
        return -1;
    }
    *leaves = p.leaves + r.first;
    return (int)r.count;
}

/* -- writing ---------------------------------------------------------------------- */

static const char *write_path(enum cw_ioc_type t, const char *value)
{
    switch (t) {
    case CW_IOC_DOMAIN:
    case CW_IOC_HOSTNAME: return "domain-name:value";
    case CW_IOC_URL: return "url:value";
    case CW_IOC_IPV4: return "ipv4-addr:value";
    case CW_IOC_IPV6: return "ipv6-addr:value";
    case CW_IOC_CIDR: return strchr(value, ':') ? "ipv6-addr:value" : "ipv4-addr:value";
    case CW_IOC_EMAIL: return "email-addr:value";
    case CW_IOC_MD5: return "file:hashes.MD5";
    case CW_IOC_SHA1: return "file:hashes.'SHA-1'";
    case CW_IOC_SHA256: return "file:hashes.'SHA-256'";
    case CW_IOC_JA3: return "x-crosswatch-tls:ja3";
    case CW_IOC_JA4: return "x-crosswatch-tls:ja4";
    case CW_IOC_USER_AGENT:
        return "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'";
    default: return "x-crosswatch-unknown:value";
    }
}

void cw_stix_pattern_write(struct cw_buf *b, enum cw_ioc_type t, const char *value)
{
    cw_buf_addc(b, '[');
    cw_buf_adds(b, write_path(t, value));
    cw_buf_adds(b, " = '");
    for (const char *c = value; *c; c++) {
        if (*c == '\'' || *c == '\\')
            cw_buf_addc(b, '\\');
        cw_buf_addc(b, *c);
    }
    cw_buf_adds(b, "']");
}
