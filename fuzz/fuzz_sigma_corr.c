/* fuzz_sigma_corr.c - Sigma correlation rules: the correlation parser and reference
 * resolution on a fuzzed rule, then the streaming state machine on fuzzed records.
 *
 * Input: a correlation rule (YAML), optionally followed by a line "#records" and
 * combined access-log lines. The records run through the base rules below, the
 * fuzzed correlation, twice (state carries over) with small state caps so that LRU
 * eviction and value overflow are exercised. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect/sigma_corr.h"
#include "detect/sigma_ruleset.h"
#include "formats/format.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fm[] = "[webserver]\ncs-uri-stem = http.path\nsc-status = http.status\n"
                         "c-ip = src_ip\ncs-username = http.user\ncs-user-agent = "
                         "http.user_agent\n";
static const char *const base[] = {
    "title: Failed login\nid: b-failed\nname: failed_login\nlogsource:\n  category: webserver\n"
    "detection:\n  sel:\n    cs-uri-stem: /login\n    sc-status: 401\n  condition: sel\n",
    "title: Successful login\nid: b-ok\nname: ok_login\nlogsource:\n  category: webserver\n"
    "detection:\n  sel:\n    cs-uri-stem: /login\n    sc-status: 200\n  condition: sel\n",
    "title: Not found\nid: b-404\nname: probe_404\nlogsource:\n  category: webserver\n"
    "detection:\n  sel:\n    sc-status: 404\n  condition: sel\n",
    "title: Inner\nid: c-inner\nname: inner\ncorrelation:\n  type: event_count\n"
    "  rules: [failed_login]\n  group-by: [c-ip]\n  timespan: 1m\n  condition: {gte: 2}\n",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sigma_ruleset rs;
    char err[256];
    const char *text = (const char *)data;
    const char *sep = size >= 9 ? memmem(text, size, "\n#records\n", 10) : NULL;
    size_t rn = sep ? (size_t)(sep - text) + 1 : size;
    if (sigma_ruleset_init(&rs, NULL, err, sizeof(err)))
        return 0;
    sigma_fieldmap_release(&rs.fm);
    if (sigma_fieldmap_load_str(&rs.fm, fm, sizeof(fm) - 1, "fm", err, sizeof(err)) == 0) {
        for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++)
            (void)sigma_ruleset_add(&rs, "base.yml", base[i], strlen(base[i]));
        (void)sigma_ruleset_add(&rs, "fuzz.yml", text, rn);
        (void)sigma_corr_resolve(&rs);
        sigma_corr_set_limits(&rs, 8, 8192);
    }
    if (sep) {
        const char *recs = sep + 10;
        size_t n = size - (size_t)(recs - text);
        for (int round = 0; round < 2; round++) {
            struct cw_batch b;
            struct cw_detections ds;
            struct cw_parse_ctx ctx = {(uint32_t)round, 1, 0};
            cw_batch_init(&b);
            cw_detections_init(&ds);
            (void)cw_format_parse_body(cw_format_find("combined"), &b, &ctx, recs, n,
                                       CW_MAX_LINE_DEFAULT, NULL);
            if (cw_detect_sigma(&rs, &b, &ds) == 0)
                (void)sigma_corr_detect(&rs, &b, &ds, 0);
            for (uint32_t i = 0; i < ds.n; i++)
                if (ds.d[i].rec >= b.n || !ds.d[i].rule_name)
                    abort();
            cw_detections_release(&ds);
            cw_batch_release(&b);
        }
        struct sigma_corr_stats st;
        sigma_corr_stats(&rs, &st);
        if (st.states > 8)
            abort();
    }
    sigma_ruleset_release(&rs);
    return 0;
}
