/* fuzz_sigma_cond.c - the condition parser against a fixed set of selections. */
#include <stdint.h>
#include <stdlib.h>

#include "detect/sigma_rule.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct sigma_sel sels[] = {
        {"selection", NULL, 0, 1}, {"selection_a", NULL, 0, 2}, {"filter_main_x", NULL, 0, 3},
        {"filter_optional", NULL, 0, 4}, {"_hidden", NULL, 0, 5}, {"keywords", NULL, 0, 6},
    };
    struct cw_arena a;
    struct sigma_cond *c;
    const char *why;
    cw_arena_init(&a, 4096, 16u << 20);
    (void)sigma_cond_parse(&a, (const char *)data, size, sels, 6, &c, &why);
    cw_arena_release(&a);
    return 0;
}
