/* api_ingest.c - POST /api/v1/ingest: decode, parse, store durably, answer.
 *
 * The request was authenticated as a sensor by the dispatcher (http.c); its key
 * alone decides member and sensor. The answer is sent only after the store made
 * the batch durable, so a 200 means "never lost". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "center/http.h"
#include "center/store.h"
#include "common/codec.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "formats/format.h"
#include "triage/triage.h"
#include "common/banned.h"

/* Listing every reject of a hostile million-line body would make the answer as big
 * as the request; the count is always exact, the list stops here. */
#define MAX_LISTED_REJECTS 1000

static bool valid_idem_key(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++)
        if (k[i] < 0x21 || k[i] > 0x7e)
            return false;
    return true;
}

static void rejects_to_json(const struct cw_batch *b, struct cw_buf *o)
{
    cw_buf_addc(o, '[');
    for (uint32_t i = 0; i < b->nrej && i < MAX_LISTED_REJECTS; i++) {
        if (i)
            cw_buf_addc(o, ',');
        cw_buf_adds(o, "{\"line\":");
        cw_buf_add_u64(o, b->rej[i].line);
        cw_buf_adds(o, ",\"reason\":");
        cw_buf_add_json_str(o, b->rej[i].reason, strlen(b->rej[i].reason));
        cw_buf_addc(o, '}');
    }
    cw_buf_addc(o, ']');
}

static void answer(struct cw_http_response *resp, uint32_t accepted, uint32_t rejected,
                   const char *rejects_json, bool duplicate)
{
    struct cw_buf *o = &resp->body;
    resp->status = 200;
    cw_buf_adds(o, "{\"accepted\":");
    cw_buf_add_u64(o, accepted);
    cw_buf_adds(o, ",\"rejected\":");
    cw_buf_adds(o, rejects_json);
    cw_buf_adds(o, ",\"rejected_count\":");
    cw_buf_add_u64(o, rejected);
    cw_buf_adds(o, ",\"duplicate\":");
    cw_buf_adds(o, duplicate ? "true" : "false");
    cw_buf_adds(o, "}\n");
}

struct aggregate_ctx {
    struct cw_triage *t;
    const struct cw_batch *b;
    struct cw_triage_result *r;
};

/* Called by the store under its write lock, once the batch is known to be new. */
static int aggregate(void *ctx)
{
    struct aggregate_ctx *a = ctx;
    return cw_triage_aggregate(a->t, a->b, a->r);
}

static void ingest(struct cw_center *c, struct cw_http_request *req,
                   struct cw_http_response *resp)
{
    const char *fname = cw_http_query(req, "format");
    const struct cw_format *fmt = cw_format_find(fname);
    if (!fmt) {
        struct cw_buf names = CW_BUF_INIT;
        for (const struct cw_format *const *f = cw_format_list(); *f; f++)
            cw_buf_addf(&names, "%s%s", names.len ? ", " : "", (*f)->name);
        cw_http_json_error(resp, 400, "%s format '%s' (known: %s)",
                           fname ? "unknown" : "missing", fname ? fname : "?format=",
                           names.data ? names.data : "");
        cw_buf_release(&names);
        return;
    }
    const char *idem = cw_http_header(req, "Idempotency-Key");
    if (idem && !valid_idem_key(idem)) {
        cw_http_json_error(resp, 400, "Idempotency-Key must be 1..128 printable ASCII characters");
        return;
    }
    enum cw_encoding enc = cw_encoding_from_header(cw_http_header(req, "Content-Encoding"));
    if (enc == CW_ENC_UNKNOWN) {
        cw_http_json_error(resp, 415, "unsupported Content-Encoding (use gzip or zstd)");
        return;
    }
    const char *body = req->body.data ? req->body.data : "";
    size_t body_len = req->body.len;
    char *plain = NULL;
    if (enc != CW_ENC_IDENTITY) {
        int st = cw_decompress(enc, body, body_len, cw_center_max_body(c), &plain, &body_len);
        if (st != CW_CODEC_OK) {
            cw_http_json_error(resp, st == CW_CODEC_TOO_LARGE ? 413 : 400, "%s body: %s",
                               cw_encoding_name(enc), cw_codec_strerror(st));
            return;
        }
        body = plain;
    }
    struct cw_batch b;
    cw_batch_init(&b);
    struct cw_parse_ctx ctx = {req->who.member_id, req->who.sensor_id, cw_now_us()};
    struct cw_triage_result tr;
    cw_triage_result_init(&tr);
    struct cw_parse_stats ps = {0, 0, 0};
    if (cw_format_parse_body(fmt, &b, &ctx, body, body_len, cw_center_max_line(c), &ps)) {
        cw_http_json_error(resp, 503, "out of memory parsing the batch");
        goto out;
    }
    /* detection and noise removal need no lock: do them before the store's */
    if (cw_triage_detect(cw_center_triage(c), &b, &tr)) {
        cw_http_json_error(resp, 503, "out of memory in triage");
        goto out;
    }
    struct aggregate_ctx agg = {cw_center_triage(c), &b, &tr};
    struct cw_buf rj = CW_BUF_INIT;
    rejects_to_json(&b, &rj);
    struct cw_ingest_batch in = {
        .member_id = req->who.member_id,
        .sensor_id = req->who.sensor_id,
        .idem_key = idem,
        .format = fmt->name,
        .received_us = ctx.now_us,
        .batch = &b,
        .rejects_json = rj.data ? rj.data : "[]",
        .triage = &tr,
        .aggregate = aggregate,
        .aggregate_ctx = &agg,
    };
    struct cw_ingest_result res;
    char err[256];
    if (!cw_buf_ok(&rj)) {
        cw_http_json_error(resp, 503, "out of memory");
    } else if (cw_store_ingest(cw_center_store(c), &in, &res, err, sizeof(err))) {
        cw_error("ingest from sensor %u: %s", req->who.sensor_id, err);
        cw_http_json_error(resp, 503, "storage unavailable, retry later");
    } else {
        answer(resp, res.accepted, res.rejected,
               res.duplicate ? res.rejects_json : in.rejects_json, res.duplicate);
        free(res.rejects_json);
    }
    cw_buf_release(&rj);
out:
    cw_triage_result_release(&tr);
    cw_batch_release(&b);
    free(plain);
}

const struct cw_route cw_api_ingest_routes[] = {
    {"POST", "/api/v1/ingest", CW_ACCESS_SENSOR, ingest},
    {NULL, NULL, 0, NULL},
};
