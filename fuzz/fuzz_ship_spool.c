/* fuzz_ship_spool.c - the spool batch file header (src/ship/spool.h): strict
 * parse, and a parsed header must encode back to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "ship/spool.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cw_spool_hdr h;
    size_t off;
    if (cw_spool_hdr_parse((const char *)data, size, &h, &off) != 0)
        return 0;
    struct cw_buf b = CW_BUF_INIT;
    if (cw_spool_hdr_encode(&h, &b) != 0 || b.len != off || memcmp(b.data, data, off) != 0)
        abort(); /* the format has one spelling: what parses re-encodes identically */
    cw_buf_release(&b);
    return 0;
}
