/* fuzz_sigma_rule.c - the Sigma rule parser (bounded YAML, modifiers, regexes,
 * condition) and the reference evaluator on a fixed record when a rule loads. */
#include <stdint.h>
#include <stdlib.h>

#include "detect/sigma_ruleset.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sigma_ruleset rs;
    char err[256];
    static const char fm[] = "[webserver]\ncs-uri-stem = http.path\ncs-uri-query = http.query\n"
                             "cs-uri = http.url\nc-ip = src_ip\nsc-status = http.status\n";
    if (sigma_ruleset_init(&rs, NULL, err, sizeof(err)))
        return 0;
    sigma_fieldmap_release(&rs.fm);
    if (sigma_fieldmap_load_str(&rs.fm, fm, sizeof(fm) - 1, "fm", err, sizeof(err)) == 0 &&
        sigma_ruleset_add(&rs, "fuzz.yml", (const char *)data, size) == 0) {
        struct cw_batch b;
        cw_batch_init(&b);
        static const char raw[] = "{\"Event\":{\"EventData\":{\"Image\":\"C:\\\\a.exe\"}}}";
        struct cw_record *r = cw_batch_begin(&b);
        r->kind = CW_KIND_HTTP;
        r->raw = raw;
        r->raw_len = sizeof(raw) - 1;
        (void)cw_ip_parse(&r->src, "10.1.2.3", 8);
        if (cw_batch_set_str(&b, CW_F_HTTP_PATH, "/a/%2e%2e%2fetc/passwd", 22) == 0 &&
            cw_batch_set_str(&b, CW_F_HTTP_QUERY, "x=%u002e", 8) == 0 &&
            cw_batch_set_int(&b, CW_F_HTTP_STATUS, 404) == 0 && cw_batch_commit(&b) == 0) {
            struct cw_detections ds;
            cw_detections_init(&ds);
            (void)cw_detect_sigma(&rs, &b, &ds);
            cw_detections_release(&ds);
        }
        cw_batch_release(&b);
    }
    sigma_ruleset_release(&rs);
    return 0;
}
