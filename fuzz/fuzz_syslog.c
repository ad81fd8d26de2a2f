/* fuzz_syslog.c - the `syslog` format (see fuzz_format.h for what is checked). */
#include "fuzz_format.h"

#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_format("syslog", data, size);
}
