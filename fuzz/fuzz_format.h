/* fuzz_format.h - the body of every format fuzz target.
 *
 * The input goes through cw_format_parse_body() (so line splitting, the NUL and
 * length checks are fuzzed too). Every accepted record is then written with
 * cw_record_to_json() and read back with the ndjson format, which must accept it
 * and give the same core fields and values: that round trip is an invariant of the
 * schema, so a violation aborts like a crash. */
#ifndef CW_FUZZ_FORMAT_H
#define CW_FUZZ_FORMAT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/record.h"
#include "formats/format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check_same(const struct cw_record *a, const struct cw_record *b)
{
    if (a->ts_us != b->ts_us || a->kind != b->kind || a->transport != b->transport ||
        a->sport != b->sport || a->dport != b->dport || a->nvals != b->nvals ||
        memcmp(&a->src, &b->src, sizeof(a->src)) != 0 ||
        memcmp(&a->dst, &b->dst, sizeof(a->dst)) != 0) {
        fprintf(stderr, "round trip changed the record core\n");
        abort();
    }
    for (uint16_t i = 0; i < a->nvals; i++) {
        const struct cw_value *w = cw_record_get(b, (enum cw_field_id)a->vals[i].id);
        if (!w || (cw_field_info((enum cw_field_id)w->id)->type == CW_FT_INT &&
                   w->v.i != a->vals[i].v.i)) {
            fprintf(stderr, "round trip lost or changed a value\n");
            abort();
        }
    }
}

static int fuzz_format(const char *name, const uint8_t *data, size_t size)
{
    const struct cw_format *f = cw_format_find(name), *nd = cw_format_find("ndjson");
    struct cw_parse_ctx ctx = {1, 2, 1700000000000000LL};
    struct cw_batch b, back;
    struct cw_buf out = CW_BUF_INIT;
    cw_batch_init(&b);
    cw_batch_init(&back);
    cw_format_parse_body(f, &b, &ctx, (const char *)data, size, CW_MAX_LINE_DEFAULT, NULL);
    for (uint32_t i = 0; i < b.n; i++) {
        struct cw_parse_stats st = {0, 0, 0};
        cw_buf_clear(&out);
        cw_record_to_json(&b.recs[i], &out, true);
        cw_batch_clear(&back);
        cw_format_parse_body(nd, &back, &ctx, out.data, out.len, (size_t)-1, &st);
        if (st.accepted != 1) {
            fprintf(stderr, "ndjson rejected its own output: %s\n%s\n",
                    back.nrej ? back.rej[0].reason : "?", out.data);
            abort();
        }
        fuzz_check_same(&b.recs[i], &back.recs[0]);
    }
    cw_buf_release(&out);
    cw_batch_release(&back);
    cw_batch_release(&b);
    return 0;
}

#endif
