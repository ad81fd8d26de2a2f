/* fuzz_ship_reply.c - the center's answer to an ingest POST (src/ship/reply.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ship/reply.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cw_ingest_reply r;
    const char *err;
    char e[64];
    if (cw_ingest_reply_parse((const char *)data, size, &r, &err) == 0 &&
        (r.kept > CW_REPLY_KEEP || r.accepted < 0))
        abort();
    cw_ingest_reply_error((const char *)data, size, e, sizeof(e));
    if (strlen(e) >= sizeof(e))
        abort();
    return 0;
}
