/* fmt_http.h - helpers shared by the HTTP access-log formats (combined/common and
 * nginx-json). Internal to src/formats. */
#ifndef CW_FORMATS_FMT_HTTP_H
#define CW_FORMATS_FMT_HTTP_H

#include <stddef.h>

#include "common/record.h"

/* Split a logged request line "METHOD target [HTTP/x.y]" into http.method,
 * http.path, http.query and http.version on the record under construction. A
 * request that does not have that shape (empty, TLS bytes, "batman") is kept whole
 * in http.path without a method; "" and "-" set nothing. Strings point into req.
 * Returns 0, or -1 when the value table is full. */
int cw_fmt_set_request(struct cw_batch *b, const char *req, size_t n);

/* Split a request target at the first '?' into http.path and http.query. */
int cw_fmt_set_target(struct cw_batch *b, const char *t, size_t n);

#endif
