#include "formats/format.h"

static int parse_line(struct cw_batch *b, const struct cw_parse_ctx *ctx, const char *line,
                      size_t len, const char **reason)
{
    (void)b; (void)ctx; (void)line; (void)len;
    *reason = "format not implemented yet";
    return -1;
}

const struct cw_format cw_format_combined = {"combined", "TODO", parse_line};
const struct cw_format cw_format_common = {"common", "TODO", parse_line};
