#define JSMN_STRICT
#define JSMN_STATIC
#include <jsmn.h>

#include "common/json.h"

#include <stdbool.h>
#include <string.h>

#include "common/utf8.h"
#include "common/banned.h"

static bool valid_number(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-')
        i++;
    if (i >= n)
        return false;
    if (s[i] == '0')
        i++;
    else if (s[i] >= '1' && s[i] <= '9')
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    else
        return false;
    if (i < n && s[i] == '.') {
        i++;
        size_t d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return false;
    }
    return i == n;
}

static bool valid_primitive(const char *s, size_t n)
{
    if ((n == 4 && memcmp(s, "true", 4) == 0) || (n == 5 && memcmp(s, "false", 5) == 0) ||
        (n == 4 && memcmp(s, "null", 4) == 0))
        return true;
    return valid_number(s, n);
}

/* jsmn builds a token tree but does not check its grammar: it lets a string take a
 * child after a stray ':' (`["a":"b"]`, `{"a":"b":"c"}`), or leave a key without a
 * value (`{"a":}`). One pass over the tokens with a small stack checks that objects
 * hold key (string with exactly one child) / value pairs, that scalars have no
 * children, and bounds nesting. */
#define JSON_MAX_DEPTH 64

static const char *check_grammar(const char *src, const jsmntok_t *t, int n)
{
    struct {
        int remaining;    /* members or elements still to come */
        bool object, want_key;
    } st[JSON_MAX_DEPTH];
    int depth = 0;
    for (int i = 0; i < n; i++) {
        bool key = depth > 0 && st[depth - 1].object && st[depth - 1].want_key;
        if (key) {
            if (t[i].type != JSMN_STRING || t[i].size != 1)
                return "invalid JSON object member";
            st[depth - 1].want_key = false;
            continue;
        }
        if ((t[i].type == JSMN_STRING || t[i].type == JSMN_PRIMITIVE) && t[i].size != 0)
            return "invalid JSON";
        if (depth > 0) {
            st[depth - 1].remaining--;
            st[depth - 1].want_key = st[depth - 1].object;
        } else if (i != 0) {
            return "trailing data after JSON value";
        }
        if (t[i].type == JSMN_OBJECT || t[i].type == JSMN_ARRAY) {
            /* jsmn accepts a trailing comma ("[1,]"): the last non-blank byte before
             * the closing bracket must not be one */
            int k = t[i].end - 2;
            while (k > t[i].start && (src[k] == ' ' || src[k] == '\t' || src[k] == '\n' ||
                                      src[k] == '\r'))
                k--;
            if (k > t[i].start && src[k] == ',')
                return "trailing comma in JSON";
            if (depth == JSON_MAX_DEPTH)
                return "JSON nested too deeply";
            st[depth].remaining = t[i].size;
            st[depth].object = t[i].type == JSMN_OBJECT;
            st[depth].want_key = st[depth].object;
            depth++;
        }
        while (depth > 0 && st[depth - 1].remaining == 0 && !(st[depth - 1].object &&
                                                               !st[depth - 1].want_key))
            depth--;
    }
    return depth == 0 ? NULL : "truncated JSON";
}

int cw_json_parse(struct cw_json *j, const char *s, size_t n, jsmntok_t *toks, int maxtok,
                  const char **err)
{
    jsmn_parser p;
    j->src = s;
    j->len = n;
    j->tok = toks;
    j->ntok = 0;
    if (n > 0x7fffffff) {
        *err = "JSON document too large";
        return -1;
    }
    jsmn_init(&p);
    int r = jsmn_parse(&p, s, n, toks, (unsigned)maxtok);
    if (r == JSMN_ERROR_NOMEM) {
        *err = "JSON too complex (too many values)";
        return -1;
    }
    if (r == JSMN_ERROR_PART) {
        *err = "truncated JSON";
        return -1;
    }
    if (r <= 0) {
        *err = r == 0 ? "empty JSON" : "invalid JSON";
        return -1;
    }
    /* exactly one top-level value, followed only by whitespace */
    size_t end = (size_t)toks[0].end;
    if (toks[0].type == JSMN_STRING)
        end++; /* jsmn's string end excludes the closing quote */
    for (size_t i = end; i < n; i++) {
        char c = s[i];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
            *err = c == '\0' ? "NUL byte in JSON" : "trailing data after JSON value";
            return -1;
        }
    }
    const char *gerr = check_grammar(s, toks, r);
    if (gerr) {
        *err = gerr;
        return -1;
    }
    for (int i = 0; i < r; i++) {
        const char *ts = s + toks[i].start;
        size_t tn = (size_t)(toks[i].end - toks[i].start);
        if (toks[i].start < 0 || toks[i].end < toks[i].start) {
            *err = "invalid JSON";
            return -1;
        }
        if (toks[i].type == JSMN_PRIMITIVE && !valid_primitive(ts, tn)) {
            *err = "invalid JSON literal or number";
            return -1;
        }
        if (toks[i].type == JSMN_STRING && !cw_utf8_valid(ts, tn)) {
            *err = "invalid UTF-8 in JSON string";
            return -1;
        }
    }
    j->ntok = r;
    return 0;
}

int cw_json_next(const struct cw_json *j, int i)
{
    if (i < 0 || i >= j->ntok)
        return j->ntok;
    int end = j->tok[i].end;
    int k = i + 1;
    while (k < j->ntok && j->tok[k].start < end)
        k++;
    return k;
}

int cw_json_get(const struct cw_json *j, int obj, const char *key)
{
    if (obj < 0 || obj >= j->ntok || j->tok[obj].type != JSMN_OBJECT)
        return -1;
    size_t kl = strlen(key);
    int k = obj + 1;
    for (int m = 0; m < j->tok[obj].size && k < j->ntok; m++) {
        const jsmntok_t *t = &j->tok[k];
        if (k + 1 >= j->ntok)
            return -1;
        if (t->type == JSMN_STRING && (size_t)(t->end - t->start) == kl &&
            memcmp(j->src + t->start, key, kl) == 0)
            return k + 1;
        k = cw_json_next(j, k + 1);
    }
    return -1;
}

bool cw_json_is(const struct cw_json *j, int i, jsmntype_t type)
{
    return i >= 0 && i < j->ntok && j->tok[i].type == type;
}

bool cw_json_eq(const struct cw_json *j, int i, const char *lit)
{
    if (i < 0 || i >= j->ntok)
        return false;
    size_t n = (size_t)(j->tok[i].end - j->tok[i].start);
    return strlen(lit) == n && memcmp(j->src + j->tok[i].start, lit, n) == 0;
}

bool cw_json_is_null(const struct cw_json *j, int i)
{
    return cw_json_is(j, i, JSMN_PRIMITIVE) && cw_json_eq(j, i, "null");
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static long hex4(const char *s)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(s[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

long cw_json_unescape(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c != '\\') {
            out[o++] = c;
            continue;
        }
        if (++i >= n)
            return -1;
        switch (s[i]) {
        case '"': out[o++] = '"'; break;
        case '\\': out[o++] = '\\'; break;
        case '/': out[o++] = '/'; break;
        case 'b': out[o++] = '\b'; break;
        case 'f': out[o++] = '\f'; break;
        case 'n': out[o++] = '\n'; break;
        case 'r': out[o++] = '\r'; break;
        case 't': out[o++] = '\t'; break;
        case 'u': {
            if (n - i - 1 < 4)
                return -1;
            long cp = hex4(s + i + 1);
            if (cp < 0)
                return -1;
            i += 4;
            if (cp >= 0xd800 && cp <= 0xdbff && n - i - 1 >= 6 && s[i + 1] == '\\' &&
                s[i + 2] == 'u') {
                long lo = hex4(s + i + 3);
                if (lo >= 0xdc00 && lo <= 0xdfff) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    i += 6;
                }
            }
            if (cp >= 0xd800 && cp <= 0xdfff)
                cp = 0xfffd; /* lone surrogate: keep a marker, never invalid UTF-8 */
            /* \uXXXX takes 6 input bytes and at most 4 output bytes (a pair: 12 -> 4) */
            o += cw_utf8_encode((uint32_t)cp, out + o);
            break;
        }
        default:
            return -1;
        }
    }
    return (long)o;
}

int cw_json_str(const struct cw_json *j, int i, struct cw_arena *arena, const char **s, size_t *n)
{
    if (!cw_json_is(j, i, JSMN_STRING))
        return -1;
    const char *p = j->src + j->tok[i].start;
    size_t len = (size_t)(j->tok[i].end - j->tok[i].start);
    if (!memchr(p, '\\', len)) {
        *s = p;
        *n = len;
        return 0;
    }
    char *out = cw_arena_alloc(arena, len + 1);
    if (!out)
        return -1;
    long r = cw_json_unescape(p, len, out);
    if (r < 0)
        return -1;
    out[r] = '\0';
    *s = out;
    *n = (size_t)r;
    return 0;
}

int cw_json_int(const struct cw_json *j, int i, int64_t *out)
{
    if (!cw_json_is(j, i, JSMN_PRIMITIVE))
        return -1;
    const char *s = j->src + j->tok[i].start;
    size_t n = (size_t)(j->tok[i].end - j->tok[i].start), k = 0;
    bool neg = false;
    if (n && s[0] == '-') {
        neg = true;
        k = 1;
    }
    if (k >= n)
        return -1;
    uint64_t v = 0;
    for (; k < n; k++) {
        if (s[k] < '0' || s[k] > '9') {
            /* allow an integral fraction like 12.0 */
            if (s[k] == '.') {
                for (size_t m = k + 1; m < n; m++)
                    if (s[m] != '0')
                        return -1;
                break;
            }
            return -1;
        }
        if (v > (UINT64_C(1) << 63) / 10)
            return -1;
        v = v * 10 + (uint64_t)(s[k] - '0');
    }
    if (neg) {
        if (v > (UINT64_C(1) << 63))
            return -1;
        *out = (int64_t)(0 - v);
    } else {
        if (v > (uint64_t)INT64_MAX)
            return -1;
        *out = (int64_t)v;
    }
    return 0;
}
