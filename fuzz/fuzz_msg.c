/* fuzz_msg.c - the sample analyser on arbitrary bytes named as an Outlook .msg: the
 * seeds are compound files (written by test_sample_msg with libgsf's OLE2 writer, and
 * the real .msg files of ../shared), so mutations reach libgsf's directory and FAT
 * reading and sample_msg.c's property, attachment and embedded-message walk. Small
 * limits keep one input fast. Besides no crash: the limits hold and the report
 * serialises. */
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
    o.limits.max_unpacked = 1u << 20;
    o.limits.max_object = 512u << 10;
    o.limits.max_entries = 50;
    o.limits.max_urls = 200;
    o.limits.max_objects = 100;
    o.limits.max_depth = 2;
    o.limits.max_msg_depth = 4;
    struct cw_sample_report r;
    char err[128];
    if (cw_sample_analyse(data, size, "fuzz.msg", &o, &r, err, sizeof(err)) == 0) {
        if (r.n_objects > o.limits.max_objects || r.n_urls > o.limits.max_urls ||
            r.unpacked_total > o.limits.max_unpacked || r.n_entries_seen > o.limits.max_entries)
            abort();
        for (size_t i = 0; i < r.n_emails; i++)
            if (!r.emails[i].path)
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
