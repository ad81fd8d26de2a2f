/* fuzz_ioc_csv.c - CSV and plain-list import, and the CSV/plain/RPZ exporters on
 * what was imported: CSV output re-imports to the same items without a reject. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ioc/iocfmt.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count(void *ctx, const char *where, const char *reason)
{
    if (!where || !reason || !*reason)
        abort();
    (*(size_t *)ctx)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 20)
        return 0;
    size_t rejects = 0;
    struct cw_ioc_import_opts o = {.default_confidence = -1, .on_reject = count, .ctx = &rejects};
    struct cw_ioc_list l;
    struct cw_ioc_import_stats st = {0};
    cw_ioc_list_init(&l);
    cw_ioc_import_csv((const char *)data, size, &o, &l, &st);
    cw_ioc_import_plain((const char *)data, size, &o, &l, &st);
    if (st.rejected != rejects || st.accepted != l.n)
        abort();
    struct cw_buf b = CW_BUF_INIT;
    struct cw_ioc_export_opts eo = {.now_us = 1700000000000000, .rpz_origin = "rpz.test"};
    if (cw_ioc_export_csv(l.items, l.n, &eo, &b))
        abort();
    struct cw_ioc_list l2;
    struct cw_ioc_import_stats st2 = {0};
    size_t rj2 = 0;
    o.ctx = &rj2;
    cw_ioc_list_init(&l2);
    if (cw_ioc_import_csv(b.data, b.len, &o, &l2, &st2) || rj2 || l2.n != l.n)
        abort();
    cw_ioc_list_release(&l2);
    cw_buf_clear(&b);
    if (cw_ioc_export_rpz(l.items, l.n, &eo, &b) < 0 ||
        cw_ioc_export_plain(l.items, l.n, CW_IOC_NONE, &b))
        abort();
    cw_buf_release(&b);
    cw_ioc_list_release(&l);
    return 0;
}
