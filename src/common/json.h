/* json.h - zero-copy JSON reading on top of jsmn (Debian libjsmn-dev).
 *
 * Why not jansson: on the ingest hot path (one JSON document per record) jansson
 * allocates a node per value and parsed the real EVE file at ~140k lines/s (81 MB/s)
 * on the reference machine; jsmn tokenises the same file at ~2.2M lines/s without
 * allocating. jsmn only tokenises, so this module adds what a strict reader needs:
 * exactly one top-level value, valid literals and numbers, valid escapes and UTF-8
 * in strings, and unescaping into the caller's arena only when a string has escapes.
 *
 * A struct cw_json borrows the text and the token array; both must outlive it.
 * Token indices are ints; -1 means "not found". Thread-safe per instance. */
#ifndef CW_COMMON_JSON_H
#define CW_COMMON_JSON_H

#define JSMN_HEADER
#include <jsmn.h>
#undef JSMN_HEADER

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"

struct cw_json {
    const char *src;
    size_t len;
    jsmntok_t *tok;
    int ntok;
};

/* Tokenise and validate s[0..n). Returns 0, or -1 with *err set to a static
 * reason ("invalid JSON", "JSON too complex", ...). */
int cw_json_parse(struct cw_json *j, const char *s, size_t n, jsmntok_t *toks, int maxtok,
                  const char **err);
/* Index of the token after value i and everything inside it. */
int cw_json_next(const struct cw_json *j, int i);
/* Value token of key in object obj (keys compared byte-wise, unescaped keys only). */
int cw_json_get(const struct cw_json *j, int obj, const char *key);
bool cw_json_is(const struct cw_json *j, int i, jsmntype_t type);
bool cw_json_is_null(const struct cw_json *j, int i);
/* String value: zero copy into the source when it has no escapes, otherwise
 * unescaped into arena (NUL-terminated there). Returns 0, or -1 when i is not a
 * string or memory runs out. */
int cw_json_str(const struct cw_json *j, int i, struct cw_arena *arena, const char **s,
                size_t *n);
/* Integer value of a number token (no fraction/exponent unless integral). -1 on error. */
int cw_json_int(const struct cw_json *j, int i, int64_t *out);
/* Raw bytes of token i (for numbers and literals). */
static inline const char *cw_json_raw(const struct cw_json *j, int i, size_t *n)
{
    *n = (size_t)(j->tok[i].end - j->tok[i].start);
    return j->src + j->tok[i].start;
}
/* Does token i's raw text equal lit? */
bool cw_json_eq(const struct cw_json *j, int i, const char *lit);
/* Unescape a JSON string body (without quotes) into out (capacity >= n). Returns
 * the length, or -1 on an invalid escape. */
long cw_json_unescape(const char *s, size_t n, char *out);

#endif
