/* fuzz_access.c - the `combined` and `common` formats (see fuzz_format.h). */
#include "fuzz_format.h"

#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_format("combined", data, size);
    return fuzz_format("common", data, size);
}
