/* fuzz_stix.c - STIX import (bundle reader + pattern grammar) and re-export.
 *
 * The input is a STIX document; every item imported must be canonical (it
 * re-normalises to itself), and the bundle exported from the items must import
 * again to the same number of items without a reject. The input is also parsed
 * as a bare pattern. */
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

static void check_items(const struct cw_ioc_list *l)
{
    char out[CW_IOC_VALUE_MAX], err[160];
    for (size_t i = 0; i < l->n; i++) {
        const struct cw_ioc_item *it = &l->items[i];
        if (cw_ioc_normalize(it->type, it->value, strlen(it->value), out, sizeof out, err,
                             sizeof err) ||
            strcmp(out, it->value) != 0 || !it->id || it->tlp >= CW_TLP__COUNT)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 20)
        return 0;
    size_t rejects = 0;
    struct cw_ioc_import_opts o = {.default_confidence = -1, .on_reject = count, .ctx = &rejects,
                                   .max_tokens = 200000};
    struct cw_ioc_list l;
    struct cw_ioc_import_stats st = {0};
    cw_ioc_list_init(&l);
    cw_ioc_import_stix((const char *)data, size, &o, &l, &st);
    if (st.rejected != rejects || st.accepted != l.n)
        abort();
    check_items(&l);
    if (l.n) {
        struct cw_buf b = CW_BUF_INIT;
        struct cw_ioc_export_opts eo = {.now_us = 1700000000000000};
        if (cw_ioc_export_stix(l.items, l.n, &eo, &b))
            abort();
        struct cw_ioc_list l2;
        struct cw_ioc_import_stats st2 = {0};
        size_t rj2 = 0;
        o.ctx = &rj2;
        cw_ioc_list_init(&l2);
        if (cw_ioc_import_stix(b.data, b.len, &o, &l2, &st2) || rj2 || l2.n != l.n)
            abort();
        cw_ioc_list_release(&l2);
        cw_buf_release(&b);
    }
    cw_ioc_list_release(&l);

    struct cw_arena a;
    cw_arena_init(&a, 4096, 0);
    struct cw_stix_leaf *lv;
    char err[300];
    int n = cw_stix_pattern_parse((const char *)data, size, &a, &lv, err, sizeof err);
    for (int i = 0; i < n; i++)
        if (!lv[i].value || lv[i].type <= CW_IOC_NONE || lv[i].type >= CW_IOC__COUNT)
            abort();
    cw_arena_release(&a);
    return 0;
}
