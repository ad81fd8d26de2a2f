/* http_body.h - reading the JSON object body of an API request, one way for all.
 *
 * Every field read here is checked the same way: the right JSON type, valid UTF-8,
 * a byte limit, no NUL and no control characters (newline and tab only where the
 * caller allows multi-line text). On any problem the response is set to 400 with a
 * reason naming the field, and the call returns -1. Strings live in the body's
 * arena (NUL-terminated) until cw_http_body_release(). */
#ifndef CW_CENTER_HTTP_BODY_H
#define CW_CENTER_HTTP_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "center/http.h"
#include "common/arena.h"
#include "common/json.h"

#define CW_HTTP_BODY_TOKENS 256

struct cw_http_body {
    struct cw_arena arena;
    struct cw_json j;
    jsmntok_t tok[CW_HTTP_BODY_TOKENS];
};

enum {
    CW_FIELD_REQUIRED = 1,  /* absent or null is a 400 */
    CW_FIELD_ALLOW_ID = 2,  /* a positive integer is accepted too (as its digits) */
    CW_FIELD_MULTILINE = 4, /* newline and tab allowed */
};

/* Parse the request body as a JSON object. The arena is initialised even on failure:
 * always call cw_http_body_release(). */
int cw_http_body_parse(struct cw_http_body *b, struct cw_http_request *req,
                       struct cw_http_response *resp);
void cw_http_body_release(struct cw_http_body *b);
/* A string field of 1..max bytes; *out = NULL when absent and not required. */
int cw_http_body_str(struct cw_http_body *b, const char *key, size_t max, unsigned flags,
                     const char **out, struct cw_http_response *resp);

#endif
