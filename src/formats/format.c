#include "formats/format.h"

#include <string.h>

#include "common/banned.h"

extern const struct cw_format cw_format_ndjson, cw_format_eve, cw_format_combined,
    cw_format_common, cw_format_nginx_json, cw_format_syslog, cw_format_winevent_json;

static const struct cw_format *const formats[] = {
    &cw_format_ndjson, &cw_format_eve,        &cw_format_combined,
    &cw_format_common, &cw_format_nginx_json, &cw_format_syslog,
    &cw_format_winevent_json,
    NULL,
};

const struct cw_format *cw_format_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; formats[i]; i++)
        if (strcmp(formats[i]->name, name) == 0)
            return formats[i];
    return NULL;
}

const struct cw_format *const *cw_format_list(void) { return formats; }

int cw_format_parse_body(const struct cw_format *fmt, struct cw_batch *b,
                         const struct cw_parse_ctx *ctx, const char *body, size_t len,
                         size_t max_line, struct cw_parse_stats *st)
{
    const char *p = body, *end = body + len;
    uint32_t lineno = 0;
    struct cw_parse_stats local = {0, 0, 0};
    if (!st)
        st = &local;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *next = nl ? nl + 1 : end;
        lineno++;
        if (le > p && le[-1] == '\r')
            le--;
        size_t n = (size_t)(le - p);
        if (n == 0) {
            p = next;
            continue;
        }
        st->lines++;
        const char *reason = NULL;
        if (n > max_line)
            reason = "line too long";
        else if (memchr(p, '\0', n))
            reason = "NUL byte in line";
        if (!reason) {
            uint32_t before = b->n;
            if (fmt->parse_line(b, ctx, p, n, &reason) == 0 && b->n == before + 1) {
                struct cw_record *r = &b->recs[b->n - 1];
                r->member_id = ctx->member_id;
                r->sensor_id = ctx->sensor_id;
                if (!r->raw) {
                    r->raw = p;
                    r->raw_len = (uint32_t)n;
                }
                st->accepted++;
                p = next;
                continue;
            }
            cw_batch_abort(b);
            if (b->n != before)
                b->n = before; /* a parser that committed and then failed: undo */
            if (!reason)
                reason = "unparseable line";
        }
        if (cw_batch_reject(b, lineno, reason))
            return -1;
        st->rejected++;
        p = next;
    }
    return 0;
}
