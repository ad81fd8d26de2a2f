/* fuzz_ship_frame.c - syslog TCP framing (src/ship/frame.h). The first byte
 * chooses where the stream is split in two feeds: framing must not depend on how
 * the bytes arrive, and messages never exceed the limit or contain LF. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "ship/frame.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_MSG 64

static void collect(void *ctx, const char *m, size_t n)
{
    if (n == 0 || n > MAX_MSG || memchr(m, '\n', n))
        abort();
    cw_buf_add(ctx, m, n);
    cw_buf_addc(ctx, '\n');
}

static int run(const char *p, size_t n, size_t cut, struct cw_buf *out)
{
    struct cw_frame f;
    cw_frame_init(&f);
    int r = cw_frame_feed(&f, p, cut, MAX_MSG, collect, out);
    if (r == 0)
        r = cw_frame_feed(&f, p + cut, n - cut, MAX_MSG, collect, out);
    if (r == 0)
        cw_frame_finish(&f, collect, out);
    cw_frame_release(&f);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *p = (const char *)data + 1;
    size_t n = size - 1, cut = n ? data[0] % (n + 1) : 0;
    struct cw_buf a = CW_BUF_INIT, b = CW_BUF_INIT;
    int ra = run(p, n, 0, &a), rb = run(p, n, cut, &b);
    if (ra != rb || (ra == 0 && (a.len != b.len || (a.len && memcmp(a.data, b.data, a.len)))))
        abort();
    cw_buf_release(&a);
    cw_buf_release(&b);
    return 0;
}
