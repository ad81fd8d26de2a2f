#include "ship/frame.h"

#include <string.h>

#include "common/banned.h"

enum { M_START = 0, M_COUNT, M_BODY, M_LINE };

#define MAX_DIGITS 9 /* counts beyond 999999999 are not syslog */

void cw_frame_init(struct cw_frame *f)
{
    memset(f, 0, sizeof(*f));
    cw_buf_init(&f->msg);
}

void cw_frame_release(struct cw_frame *f)
{
    cw_buf_release(&f->msg);
}

static void deliver(struct cw_frame *f, cw_frame_fn fn, void *ctx)
{
    char *m = f->msg.data;
    size_t n = f->msg.len;
    while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == '\r'))
        n--;
    for (size_t i = 0; i < n; i++)
        if (m[i] == '\n' || m[i] == '\r')
            m[i] = ' ';
    if (n > 0 && !f->skipping)
        fn(ctx, m, n);
    if (f->skipping)
        f->oversized++;
    cw_buf_clear(&f->msg);
    f->skipping = 0;
    f->mode = M_START;
}

static void add(struct cw_frame *f, const char *p, size_t n, size_t max_msg)
{
    if (f->skipping)
        return;
    if (f->msg.len + n > max_msg) {
        f->skipping = 1;
        cw_buf_clear(&f->msg);
        return;
    }
    cw_buf_add(&f->msg, p, n);
}

int cw_frame_feed(struct cw_frame *f, const char *p, size_t n, size_t max_msg, cw_frame_fn fn,
                  void *ctx)
{
    const char *end = p + n;
    while (p < end) {
        switch (f->mode) {
        case M_START:
            if (*p >= '1' && *p <= '9') {
                f->mode = M_COUNT;
                f->want = 0;
                f->digits = 0;
            } else if (*p == '\n') {
                p++; /* empty line between messages */
            } else {
                f->mode = M_LINE;
            }
            break;
        case M_COUNT:
            if (*p >= '0' && *p <= '9') {
                if (++f->digits > MAX_DIGITS)
                    return -1;
                f->want = f->want * 10 + (uint64_t)(*p - '0');
                p++;
            } else if (*p == ' ') {
                p++;
                f->mode = M_BODY;
                f->skipping = f->want > max_msg;
            } else {
                return -1;
            }
            break;
        case M_BODY: {
            size_t take = (size_t)(end - p) < f->want ? (size_t)(end - p) : (size_t)f->want;
            add(f, p, take, max_msg);
            p += take;
            f->want -= take;
            if (f->want == 0)
                deliver(f, fn, ctx);
            break;
        }
        case M_LINE: {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            const char *stop = nl ? nl : end;
            add(f, p, (size_t)(stop - p), max_msg);
            p = nl ? nl + 1 : end;
            if (nl)
                deliver(f, fn, ctx);
            break;
        }
        }
    }
    return cw_buf_ok(&f->msg) ? 0 : -1;
}

void cw_frame_finish(struct cw_frame *f, cw_frame_fn fn, void *ctx)
{
    if (f->mode == M_LINE)
        deliver(f, fn, ctx);
    cw_buf_clear(&f->msg);
    f->mode = M_START;
    f->skipping = 0;
}
