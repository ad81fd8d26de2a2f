/* sigma_mod.c - value-rewriting modifiers (see sigma_mod.h). Semantics follow
 * pySigma, the reference implementation of the Sigma specification. */
#include "detect/sigma_mod.h"

#include <string.h>

#include "detect/sigma_rule.h"
#include "common/banned.h"

int sigma_strs_add(struct cw_arena *a, struct sigma_strs *l, const char *s, size_t n)
{
    if (l->count >= SIGMA_MAX_ALTS)
        return -1;
    if (l->count == l->cap) {
        uint32_t nc = l->cap ? l->cap * 2 : 4;
        char **ns = cw_arena_alloc(a, nc * sizeof(*ns));
        uint32_t *nn = cw_arena_alloc(a, nc * sizeof(*nn));
        if (!ns || !nn)
            return -1;
        if (l->count) {
            memcpy(ns, l->s, l->count * sizeof(*ns));
            memcpy(nn, l->n, l->count * sizeof(*nn));
        }
        l->s = ns;
        l->n = nn;
        l->cap = nc;
    }
    char *c = cw_arena_strndup(a, s, n);
    if (!c)
        return -1;
    l->s[l->count] = c;
    l->n[l->count++] = (uint32_t)n;
    return 0;
}

int sigma_str_to_glob(struct cw_arena *a, const char *s, size_t n, char **out, uint32_t *outn,
                      const char **why)
{
    char *g = cw_arena_alloc(a, n + 1);
    size_t k = 0;
    if (!g) {
        *why = "out of memory";
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == SIGMA_GLOB_STAR || c == SIGMA_GLOB_ONE) {
            *why = "control character \\x01/\\x02 in a value";
            return -1;
        }
        if (c == '\\' && i + 1 < n && (s[i + 1] == '*' || s[i + 1] == '?' || s[i + 1] == '\\'))
            g[k++] = s[++i];
        else if (c == '*')
            g[k++] = SIGMA_GLOB_STAR;
        else if (c == '?')
            g[k++] = SIGMA_GLOB_ONE;
        else
            g[k++] = c;
    }
    g[k] = '\0';
    *out = g;
    *outn = (uint32_t)k;
    return 0;
}

static bool has_glob(const char *s, size_t n)
{
    return memchr(s, SIGMA_GLOB_STAR, n) || memchr(s, SIGMA_GLOB_ONE, n);
}

/* Decode one UTF-8 code point (invalid bytes map to themselves). */
static uint32_t utf8_next(const unsigned char *s, size_t n, size_t *i)
{
    unsigned char c = s[*i];
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    if (*i + (size_t)len > n)
        len = 1;
    uint32_t cp = len == 1 ? c : c & (0x7f >> len);
    for (int k = 1; k < len; k++)
        cp = (cp << 6) | (s[*i + (size_t)k] & 0x3f);
    *i += (size_t)len;
    return cp;
}

static size_t put16(char *o, uint32_t u, bool be)
{
    o[be ? 0 : 1] = (char)(u >> 8);
    o[be ? 1 : 0] = (char)(u & 0xff);
    return 2;
}

static int utf16(struct cw_arena *a, const char *s, size_t n, enum sigma_xform x,
                 struct sigma_strs *out)
{
    char *o = cw_arena_alloc(a, n * 4 + 2);
    size_t k = 0, i = 0;
    bool be = x == SX_UTF16BE;
    if (!o)
        return -1;
    if (x == SX_UTF16) {
        o[k++] = (char)0xff;
        o[k++] = (char)0xfe;
    }
    while (i < n) {
        uint32_t cp = utf8_next((const unsigned char *)s, n, &i);
        if (cp >= 0x10000) {
            cp -= 0x10000;
            k += put16(o + k, 0xd800 | (cp >> 10), be);
            k += put16(o + k, 0xdc00 | (cp & 0x3ff), be);
        } else {
            k += put16(o + k, cp, be);
        }
    }
    return sigma_strs_add(a, out, o, k);
}

static size_t b64(const unsigned char *s, size_t n, char *o)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t k = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)s[i + 1] << 8;
        if (i + 2 < n)
            v |= s[i + 2];
        o[k++] = al[(v >> 18) & 63];
        o[k++] = al[(v >> 12) & 63];
        o[k++] = i + 1 < n ? al[(v >> 6) & 63] : '=';
        o[k++] = i + 2 < n ? al[v & 63] : '=';
    }
    return k;
}

/* pySigma: for i in 0..2: b64(i spaces + value)[start[i] : end[(len+i) % 3]] */
static int base64off(struct cw_arena *a, const char *s, size_t n, struct sigma_strs *out)
{
    static const int start[3] = {0, 2, 3}, endcut[3] = {0, 3, 2};
    unsigned char *in = cw_arena_alloc(a, n + 2);
    char *o = cw_arena_alloc(a, (n + 5) / 3 * 4 + 4);
    if (!in || !o)
        return -1;
    for (int i = 0; i < 3; i++) {
        memset(in, ' ', (size_t)i);
        memcpy(in + i, s, n);
        size_t k = b64(in, n + (size_t)i, o);
        size_t cut = (size_t)endcut[(n + (size_t)i) % 3];
        if (k < (size_t)start[i] + cut)
            continue;
        if (sigma_strs_add(a, out, o + start[i], k - cut - (size_t)start[i]))
            return -1;
    }
    return 0;
}

static bool word_char(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c == '_' || c >= 0x80;
}

/* Regex \B[-/]\b of pySigma: a dash or slash not preceded by a word char and
 * followed by one. Every such position takes each of the five dashes. */
static int windash(struct cw_arena *a, const char *s, size_t n, struct sigma_strs *out)
{
    static const char *const dash[5] = {"-", "/", "\xe2\x80\x93", "\xe2\x80\x94", "\xe2\x80\x95"};
    size_t pos[8], np = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c == '-' || c == '/') && (i == 0 || !word_char((unsigned char)s[i - 1])) &&
            i + 1 < n && word_char((unsigned char)s[i + 1])) {
            if (np == 3)
                return -1; /* 5^4 alternatives: too many */
            pos[np++] = i;
        }
    }
    size_t combos = 1;
    for (size_t i = 0; i < np; i++)
        combos *= 5;
    char *o = cw_arena_alloc(a, n + np * 2 + 1);
    if (!o)
        return -1;
    for (size_t c = 0; c < combos; c++) {
        size_t k = 0, pi = 0, sel = c;
        for (size_t i = 0; i < n; i++) {
            if (pi < np && pos[pi] == i) {
                const char *d = dash[sel % 5];
                sel /= 5;
                pi++;
                memcpy(o + k, d, strlen(d));
                k += strlen(d);
            } else {
                o[k++] = s[i];
            }
        }
        if (sigma_strs_add(a, out, o, k))
            return -1;
    }
    return 0;
}

int sigma_xform_apply(struct cw_arena *a, enum sigma_xform x, struct sigma_strs *l,
                      const char **why)
{
    struct sigma_strs out = {NULL, NULL, 0, 0};
    for (uint32_t i = 0; i < l->count; i++) {
        const char *s = l->s[i];
        size_t n = l->n[i];
        int rc;
        if ((x == SX_BASE64 || x == SX_BASE64OFF) && has_glob(s, n)) {
            *why = "base64 of a value with wildcards is not defined";
            return -1;
        }
        if (x == SX_BASE64) {
            char *o = cw_arena_alloc(a, (n + 2) / 3 * 4 + 1);
            rc = o ? sigma_strs_add(a, &out, o, b64((const unsigned char *)s, n, o)) : -1;
        } else if (x == SX_BASE64OFF) {
            rc = base64off(a, s, n, &out);
        } else if (x == SX_WINDASH) {
            rc = windash(a, s, n, &out);
        } else {
            rc = utf16(a, s, n, x, &out);
        }
        if (rc) {
            *why = "value expands into too many alternatives";
            return -1;
        }
    }
    *l = out;
    return 0;
}
