/* fuzz_taxii_query.c - a TAXII client's match[version] and next cursor (taxii_query.h):
 * a refusal always has a reason; what is accepted is within bounds and round-trips (a
 * timestamp formatted back selects the same version, a cursor written back parses to
 * the same pair). */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "center/taxii_query.h"
#include "common/timefmt.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0'; /* a query value: NUL-terminated, may hold anything else */

    struct cw_taxii_versions v;
    const char *why = cw_taxii_versions_parse(s, &v);
    if (why && !*why)
        abort();
    if (!why) {
        if (v.n > CW_TAXII_VERSIONS_MAX || (!v.any && v.n == 0))
            abort();
        for (size_t i = 0; i < v.n; i++) {
            char t[64];
            int64_t back;
            cw_time_format_iso(v.at[i], t);
            if (cw_time_parse_iso(t, strlen(t), &back) || back != v.at[i] ||
                !cw_taxii_versions_select(&v, back))
                abort();
        }
    }

    int64_t added, id;
    if (cw_taxii_cursor_parse(s, &added, &id) == 0) {
        char c[64];
        int64_t a2, i2;
        if (added < 0 || id < 0)
            abort();
        snprintf(c, sizeof c, "%" PRId64 ".%" PRId64, added, id);
        if (cw_taxii_cursor_parse(c, &a2, &i2) || a2 != added || i2 != id)
            abort();
    }
    free(s);
    return 0;
}
