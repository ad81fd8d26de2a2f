/* fuzz_json.c - the JSON reader: cw_json_parse and every accessor on every token.
 *
 * Lines come through cw_format_parse_body with a test-only format whose parse_line
 * exercises the reader and always rejects, so line splitting is fuzzed as well. */
#include <stdint.h>
#include <stdlib.h>

#include "common/json.h"
#include "formats/format.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const struct cw_json *j, struct cw_arena *a)
{
    for (int i = 0; i < j->ntok; i++) {
        const char *s;
        size_t n;
        int64_t v;
        if (cw_json_str(j, i, a, &s, &n) == 0 && n > 0) {
            volatile char last = s[n - 1]; /* touch the last byte: ASan checks bounds */
            (void)last;
        }
        (void)cw_json_int(j, i, &v);
        (void)cw_json_is_null(j, i);
        (void)cw_json_eq(j, i, "true");
        int nx = cw_json_next(j, i);
        if (nx <= i || nx > j->ntok)
            abort(); /* next must move forward and stay in range */
        if (cw_json_is(j, i, JSMN_OBJECT)) {
            (void)cw_json_get(j, i, "timestamp");
            (void)cw_json_get(j, i, "");
        }
    }
}

static int parse_line(struct cw_batch *b, const struct cw_parse_ctx *ctx, const char *line,
                      size_t len, const char **reason)
{
    jsmntok_t toks[256];
    struct cw_json j;
    (void)ctx;
    if (cw_json_parse(&j, line, len, toks, 256, reason) == 0)
        walk(&j, &b->arena);
    *reason = "fuzz";
    return -1;
}

static const struct cw_format json_probe = {"json-probe", "fuzz only", parse_line};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cw_batch b;
    struct cw_parse_ctx ctx = {0, 0, 0};
    cw_batch_init(&b);
    cw_format_parse_body(&json_probe, &b, &ctx, (const char *)data, size, CW_MAX_LINE_DEFAULT,
                         NULL);
    cw_batch_release(&b);
    /* the whole input as one document too (multi-line JSON) */
    jsmntok_t toks[256];
    struct cw_json j;
    const char *err;
    struct cw_arena a;
    cw_arena_init(&a, 4096, 0);
    if (cw_json_parse(&j, (const char *)data, size, toks, 256, &err) == 0)
        walk(&j, &a);
    cw_arena_release(&a);
    return 0;
}
