/* fuzz_mime.c - the sample analyser on arbitrary bytes: e-mail, archives, text and
 * whatever libmagic makes of them, with small limits so that one input stays fast.
 * Besides no crash: the report keeps its limits and serialises. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "ioc/sample.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cw_sample_opts o = {0};
    cw_sample_limits_default(&o.limits);
    o.limits.max_parts = 200;
    o.limits.max_unpacked = 4u << 20;
    o.limits.max_object = 2u << 20;
    o.limits.max_entries = 100;
    o.limits.max_urls = 200;
    o.limits.max_objects = 200;
    o.limits.max_depth = 3;
    o.limits.max_msg_depth = 4;
    struct cw_sample_report r;
    char err[128];
    if (cw_sample_analyse(data, size, "fuzz", &o, &r, err, sizeof(err)) == 0) {
        if (r.n_objects > o.limits.max_objects || r.n_urls > o.limits.max_urls ||
            r.unpacked_total > o.limits.max_unpacked || r.n_parts_seen > o.limits.max_parts)
            abort();
        struct cw_buf b = CW_BUF_INIT;
        cw_sample_report_json(&r, &b);
        cw_sample_report_text(&r, &b);
        if (!cw_buf_ok(&b))
            abort();
        cw_buf_release(&b);
    }
    cw_sample_report_release(&r);
    return 0;
}
