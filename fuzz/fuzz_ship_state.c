/* fuzz_ship_state.c - the ship state file (src/ship/state.h): strict parse and a
 * round trip through the encoder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "ship/state.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cw_ship_state s, again;
    cw_ship_state_init(&s);
    cw_ship_state_init(&again);
    if (cw_ship_state_parse((const char *)data, size, &s) != 0)
        return 0;
    struct cw_buf b = CW_BUF_INIT;
    if (cw_ship_state_encode(&s, &b) != 0 || cw_ship_state_parse(b.data, b.len, &again) != 0 ||
        again.nfiles != s.nfiles || again.next_seq != s.next_seq)
        abort();
    cw_buf_release(&b);
    cw_ship_state_release(&again);
    cw_ship_state_release(&s);
    return 0;
}
