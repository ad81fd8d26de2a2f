/* fuzz_config.c - the configuration file parser and its typed getters.
 * A config file is parsed as a whole (not line by line through a format). */
#include <stdint.h>
#include <stdlib.h>

#include "common/config.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cw_config c;
    char err[256];
    cw_config_init(&c);
    if (cw_config_load_str(&c, (const char *)data, size, "fuzz.conf", err, sizeof(err)) == 0) {
        static const char *const sections[] = {"", "serve", "ship"};
        for (size_t s = 0; s < 3; s++)
            for (size_t i = 0; i < c.n; i++) {
                int64_t v;
                uint64_t u;
                bool b;
                const char *vals[8];
                (void)cw_config_int(&c, sections[s], c.e[i].key, 0, &v, err, sizeof(err));
                (void)cw_config_size(&c, sections[s], c.e[i].key, 0, &u, err, sizeof(err));
                (void)cw_config_duration_ms(&c, sections[s], c.e[i].key, 0, &v, err, sizeof(err));
                (void)cw_config_bool(&c, sections[s], c.e[i].key, false, &b, err, sizeof(err));
                (void)cw_config_all(&c, sections[s], c.e[i].key, vals, 8);
            }
    }
    cw_config_release(&c);
    return 0;
}
