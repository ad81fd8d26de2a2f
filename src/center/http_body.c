#include "center/http_body.h"

#include <string.h>

#include "common/utf8.h"
#include "common/banned.h"

int cw_http_body_parse(struct cw_http_body *b, struct cw_http_request *req,
                       struct cw_http_response *resp)
{
    const char *err = NULL;
    cw_arena_init(&b->arena, 4096, 1 << 20);
    if (!req->body.len ||
        cw_json_parse(&b->j, req->body.data, req->body.len, b->tok, CW_HTTP_BODY_TOKENS, &err) ||
        !cw_json_is(&b->j, 0, JSMN_OBJECT)) {
        cw_http_json_error(resp, 400, "body: %s", err ? err : "a JSON object is required");
        return -1;
    }
    return 0;
}

void cw_http_body_release(struct cw_http_body *b) { cw_arena_release(&b->arena); }

int cw_http_body_str(struct cw_http_body *b, const char *key, size_t max, unsigned flags,
                     const char **out, struct cw_http_response *resp)
{
    int t = cw_json_get(&b->j, 0, key);
    const char *s;
    size_t n;
    int64_t id;
    *out = NULL;
    if (t < 0 || cw_json_is_null(&b->j, t)) {
        if (flags & CW_FIELD_REQUIRED) {
            cw_http_json_error(resp, 400, "missing field '%s'", key);
            return -1;
        }
        return 0;
    }
    if ((flags & CW_FIELD_ALLOW_ID) && cw_json_int(&b->j, t, &id) == 0 && id > 0) {
        s = cw_json_raw(&b->j, t, &n);
    } else if (cw_json_str(&b->j, t, &b->arena, &s, &n)) {
        cw_http_json_error(resp, 400, "field '%s' must be a string", key);
        return -1;
    }
    if (n == 0 || n > max) {
        cw_http_json_error(resp, 400, "field '%s' must be 1 to %zu bytes", key, max);
        return -1;
    }
    if (!cw_utf8_valid(s, n)) {
        cw_http_json_error(resp, 400, "field '%s' must be valid UTF-8", key);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool ok_ws = (flags & CW_FIELD_MULTILINE) && (c == '\n' || c == '\t' || c == '\r');
        if ((c < 0x20 && !ok_ws) || c == 0x7f) {
            cw_http_json_error(resp, 400, "field '%s' must not contain control characters",
                               key);
            return -1;
        }
    }
    char *copy = cw_arena_strndup(&b->arena, s, n);
    if (!copy) {
        cw_http_json_error(resp, 503, "out of memory");
        return -1;
    }
    *out = copy;
    return 0;
}
