/* fuzz_misp.c - MISP event import (events, search responses, objects, composite
 * attribute types, tags), the feed manifest reader, and re-export: the event
 * exported from the items imports again to the same items without a reject. */
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

static void uuid_seen(void *ctx, const char *uuid)
{
    if (strlen(uuid) != 36 || strchr(uuid, '/') || strchr(uuid, '.'))
        abort();
    (*(size_t *)ctx)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 20)
        return 0;
    size_t rejects = 0;
    struct cw_ioc_import_opts o = {.default_confidence = -1, .on_reject = count, .ctx = &rejects,
                                   .max_tokens = 200000, .misp_all = size % 2};
    struct cw_ioc_list l;
    struct cw_ioc_import_stats st = {0};
    cw_ioc_list_init(&l);
    cw_ioc_import_misp((const char *)data, size, &o, &l, &st);
    if (st.rejected != rejects || st.accepted != l.n)
        abort();
    struct cw_buf b = CW_BUF_INIT;
    struct cw_ioc_export_opts eo = {.now_us = 1700000000000000};
    int left = cw_ioc_export_misp(l.items, l.n, &eo, &b);
    if (left < 0)
        abort();
    if (left == 0 && l.n) {
        struct cw_ioc_list l2;
        struct cw_ioc_import_stats st2 = {0};
        size_t rj2 = 0;
        o.ctx = &rj2;
        o.misp_all = false;
        cw_ioc_list_init(&l2);
        if (cw_ioc_import_misp(b.data, b.len, &o, &l2, &st2) || rj2 || l2.n != l.n)
            abort();
        cw_ioc_list_release(&l2);
    }
    cw_buf_release(&b);
    cw_ioc_list_release(&l);

    size_t n = 0;
    char err[200];
    int k = cw_ioc_misp_manifest_events((const char *)data, size, uuid_seen, &n, err, sizeof err);
    if (k >= 0 && (size_t)k != n)
        abort();
    return 0;
}
