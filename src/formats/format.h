/* format.h - input formats: one file per format, one registry.
 *
 * Decode stage of the pipeline: turns the bytes a sensor sent into records of the
 * one schema (common/record.h). Each format lives in fmt_<name>.c and exposes one
 * `const struct cw_format cw_format_<name>` that the registry in format.c lists.
 *
 * Contract of parse_line():
 *   - line[0..len) is one input line without its line terminator; it is NOT
 *     NUL-terminated and may contain any bytes (NUL bytes are filtered before).
 *   - On success the parser has committed exactly one record (cw_batch_begin ...
 *     cw_batch_commit) and returns 0; it may point record strings into `line`
 *     (the caller keeps the input alive as long as the batch).
 *   - On failure it aborts its record, returns -1 and sets *reason to a short static
 *     English text ("missing status", "invalid JSON", ...); the caller records the
 *     reject with the line number. A bad line never affects other lines.
 *   - Parsers never set member_id or sensor_id: the center sets them from the
 *     authenticated key (ctx), never from input.
 *   - Thread-safe: no global mutable state. */
#ifndef CW_FORMATS_FORMAT_H
#define CW_FORMATS_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "common/record.h"

struct cw_parse_ctx {
    uint32_t member_id;
    uint32_t sensor_id;
    int64_t now_us; /* reception time: default timestamp and year for RFC 3164 */
};

typedef int (*cw_parse_line_fn)(struct cw_batch *b, const struct cw_parse_ctx *ctx,
                                const char *line, size_t len, const char **reason);

struct cw_format {
    const char *name; /* as in ?format= */
    const char *help; /* one line for --help and docs */
    cw_parse_line_fn parse_line;
};

/* NULL if unknown. Names: ndjson, eve, combined, common, nginx-json, syslog. */
const struct cw_format *cw_format_find(const char *name);
/* NULL-terminated list of all formats (for help texts and docs). */
const struct cw_format *const *cw_format_list(void);

#define CW_MAX_LINE_DEFAULT (1u << 20) /* 1 MiB: longer lines are rejected, counted */

struct cw_parse_stats {
    uint32_t lines;    /* non-empty lines seen */
    uint32_t accepted; /* records committed */
    uint32_t rejected; /* reject entries added */
};

/* Split body into lines (LF or CRLF; a final line without LF counts) and parse each
 * with fmt, appending records and rejects to b. Empty lines are skipped. Lines
 * longer than max_line and lines containing NUL bytes are rejected with a reason
 * without calling the parser. Returns 0, or -1 if memory ran out (b then holds what
 * was parsed so far). Line numbers restart at 1 for each call. */
int cw_format_parse_body(const struct cw_format *fmt, struct cw_batch *b,
                         const struct cw_parse_ctx *ctx, const char *body, size_t len,
                         size_t max_line, struct cw_parse_stats *st);

#endif
