/* buf.h - growable byte buffer (always NUL-terminated) for building output.
 *
 * A struct cw_buf owns its heap memory; cw_buf_release() frees it. Appends never
 * fail silently: on allocation failure the buffer sets ->oom and further appends are
 * ignored, so a caller checks once at the end (cw_buf_ok()). */
#ifndef CW_COMMON_BUF_H
#define CW_COMMON_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cw_buf {
    char *data;
    size_t len, cap;
    bool oom;
};

#define CW_BUF_INIT {NULL, 0, 0, false}

void cw_buf_init(struct cw_buf *b);
void cw_buf_release(struct cw_buf *b);
void cw_buf_clear(struct cw_buf *b);
bool cw_buf_reserve(struct cw_buf *b, size_t extra);
void cw_buf_add(struct cw_buf *b, const void *p, size_t n);
void cw_buf_adds(struct cw_buf *b, const char *s);
void cw_buf_addc(struct cw_buf *b, char c);
void cw_buf_addf(struct cw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cw_buf_vaddf(struct cw_buf *b, const char *fmt, va_list ap);
void cw_buf_add_u64(struct cw_buf *b, uint64_t v);
void cw_buf_add_i64(struct cw_buf *b, int64_t v);
/* Append s as a JSON string literal (quotes included). Invalid UTF-8 bytes are
 * written as \u00XX of the byte value so that output is always valid JSON and
 * nothing of the original is lost. */
void cw_buf_add_json_str(struct cw_buf *b, const char *s, size_t n);
static inline bool cw_buf_ok(const struct cw_buf *b) { return !b->oom; }
/* Take ownership of the data (caller frees); the buffer is reset. */
char *cw_buf_detach(struct cw_buf *b, size_t *len);

#endif
