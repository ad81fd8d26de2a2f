/* api_ioc_io.c - indicator import (STIX 2.1 bundles, MISP events, CSV, plain lists)
 * and export (STIX, MISP, CSV, plain, RPZ) over the API (docs/indicators.md).
 *
 * Import is the coordinator's: the format library (iocfmt.h) rejects malformed
 * objects one by one with a reason, the guard then refuses world-blocking values
 * unless forced, and every accepted item is merged into the store like an added
 * indicator (de-duplicated by type and value, the source's TLP kept). The answer
 * lists each reject and refusal, so one bad object never loses the rest.
 *
 * Export is every user's, but a member gets only what ioc_share.h lets it see:
 * published indicators it is cleared for, with nothing of who submitted them; with
 * ?include_revoked=1 (STIX only) also the revoked ones it was cleared for, written
 * "revoked": true. */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "center/http.h"
#include "center/ioc_hub.h"
#include "center/ioc_share.h"
#include "center/store_iocs.h"
#include "common/csv.h"
#include "common/timefmt.h"
#include "ioc/iocfmt.h"
#include "common/banned.h"

#define IMPORT_MAX_ITEMS 100000
#define REJECTS_SHOWN 1000

/* -- import ------------------------------------------------------------------------ */

struct import_ctx {
    struct cw_buf rejected;
    size_t nrejected;
};

static void on_reject(void *ctx, const char *where, const char *reason)
{
    struct import_ctx *ic = ctx;
    if (ic->nrejected++ >= REJECTS_SHOWN)
        return;
    cw_buf_adds(&ic->rejected, ic->nrejected > 1 ? ",{\"where\":" : "{\"where\":");
    cw_buf_add_json_str(&ic->rejected, where, strlen(where));
    cw_buf_adds(&ic->rejected, ",\"reason\":");
    cw_buf_add_json_str(&ic->rejected, reason, strlen(reason));
    cw_buf_addc(&ic->rejected, '}');
}

typedef int (*import_fn)(const char *, size_t, const struct cw_ioc_import_opts *,
                         struct cw_ioc_list *, struct cw_ioc_import_stats *);

static import_fn importer(const char *fmt)
{
    if (!fmt)
        return NULL;
    if (strcmp(fmt, "stix") == 0)
        return cw_ioc_import_stix;
    if (strcmp(fmt, "misp") == 0)
        return cw_ioc_import_misp;
    if (strcmp(fmt, "csv") == 0)
        return cw_ioc_import_csv;
    if (strcmp(fmt, "plain") == 0)
        return cw_ioc_import_plain;
    return NULL;
}

static bool query_true(struct cw_http_request *req, const char *name)
{
    const char *v = cw_http_query(req, name);
    return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

/* Store the list's items: guard, upsert, publish when asked. */
struct store_ctx {
    struct cw_center *c;
    struct cw_http_request *req;
    bool force, publish;
    const char *source;
    size_t added, merged, published, nrefused;
    struct cw_buf refused;
};

static void refuse(struct store_ctx *sc, const struct cw_ioc_item *it, const char *why)
{
    if (sc->nrefused++ >= REJECTS_SHOWN)
        return;
    cw_buf_addf(&sc->refused, "%s{\"type\":\"%s\",\"value\":", sc->nrefused > 1 ? "," : "",
                cw_ioc_type_name(it->type));
    cw_buf_add_json_str(&sc->refused, it->value, strlen(it->value));
    cw_buf_adds(&sc->refused, ",\"reason\":");
    cw_buf_add_json_str(&sc->refused, why, strlen(why));
    cw_buf_addc(&sc->refused, '}');
}

static void store_item(struct store_ctx *sc, const struct cw_ioc_item *it, struct cw_ioc_row *r)
{
    struct cw_ioc_hub *h = cw_center_ioc_hub(sc->c);
    char gbuf[512], err[256];
    const char *why = sc->force ? NULL
                                : cw_ioc_guard_check(cw_ioc_hub_guard(h), it->type, it->value,
                                                     gbuf, sizeof(gbuf));
    if (why) {
        refuse(sc, it, why);
        return;
    }
    memset(r, 0, sizeof(*r));
    r->type = it->type;
    snprintf(r->value, sizeof(r->value), "%s", it->value);
    r->tlp = it->tlp;
    r->confidence = it->confidence >= 0 && it->confidence <= 100 ? it->confidence : 50;
    r->source = CW_IOC_SRC_FEED;
    snprintf(r->source_name, sizeof(r->source_name), "%s",
             it->source_name && *it->source_name ? it->source_name : sc->source);
    if (it->description)
        snprintf(r->description, sizeof(r->description), "%s", it->description);
    r->first_seen_us = it->first_seen_us;
    r->last_seen_us = it->last_seen_us;
    r->valid_until_us = it->valid_until_us;
    snprintf(r->created_by, sizeof(r->created_by), "%s", sc->req->who.name);
    int64_t id = 0;
    bool created = false;
    int rc = cw_store_ioc_upsert(cw_center_store(sc->c), r, &id, &created, r, err, sizeof(err));
    if (rc == 0 && sc->publish && r->state != CW_IOC_PUBLISHED) {
        rc = cw_ioc_hub_set_state(h, id, CW_IOC_PUBLISHED, sc->req->who.name, r, err,
                                  sizeof(err));
        sc->published += rc == 0;
    }
    if (rc) {
        refuse(sc, it, err);
        return;
    }
    if (created)
        sc->added++;
    else
        sc->merged++;
}

static void indicators_import(struct cw_center *c, struct cw_http_request *req,
                              struct cw_http_response *resp)
{
    const char *fmt = cw_http_query(req, "format");
    import_fn fn = importer(fmt);
    if (!fn) {
        cw_http_json_error(resp, 400, "format must be stix, misp, csv or plain");
        return;
    }
    struct cw_ioc_import_opts o = {.default_tlp = CW_TLP_AMBER, .default_confidence = 50,
                                   .now_us = cw_now_us(), .on_reject = on_reject};
    const char *tlp = cw_http_query(req, "tlp"), *type = cw_http_query(req, "type");
    if (tlp && cw_tlp_from_name(tlp, &o.default_tlp)) {
        cw_http_json_error(resp, 400, "tlp must be CLEAR, GREEN, AMBER, AMBER+STRICT or RED");
        return;
    }
    if (type && (o.plain_type = cw_ioc_type_from_name(type)) == CW_IOC_NONE) {
        cw_http_json_error(resp, 400, "unknown type '%s'", type);
        return;
    }
    const char *source = cw_http_query(req, "source");
    o.source_name = source && *source && strlen(source) < 120 ? source : fmt;
    o.misp_all = query_true(req, "all");
    struct import_ctx ic = {CW_BUF_INIT, 0};
    o.ctx = &ic;
    struct cw_ioc_list list;
    cw_ioc_list_init(&list);
    list.max_items = IMPORT_MAX_ITEMS;
    struct cw_ioc_import_stats st = {0};
    int rc = fn(req->body.data ? req->body.data : "", req->body.len, &o, &list, &st);
    struct store_ctx sc = {c, req, query_true(req, "force"), query_true(req, "publish"),
                           o.source_name, 0, 0, 0, 0, CW_BUF_INIT};
    struct cw_ioc_row *row = malloc(sizeof(*row));
    if (!row) {
        cw_http_json_error(resp, 503, "out of memory");
        goto out;
    }
    for (size_t i = 0; rc == 0 && i < list.n; i++)
        store_item(&sc, &list.items[i], row);
    free(row);
    /* an unreadable document is a 400 with its reason among the rejects */
    resp->status = rc ? 400 : 200;
    cw_buf_addf(&resp->body,
                "{\"format\":\"%s\",\"readable\":%s,\"objects\":%zu,\"items\":%zu,"
                "\"duplicates\":%zu,\"skipped\":%zu,\"expired\":%zu,\"added\":%zu,"
                "\"merged\":%zu,\"published\":%zu,\"rejected_count\":%zu,"
                "\"refused_count\":%zu,\"rejected\":[",
                fmt, rc ? "false" : "true", st.objects, list.n, st.duplicates, st.skipped,
                st.expired, sc.added, sc.merged, sc.published, ic.nrejected, sc.nrefused);
    cw_buf_add(&resp->body, ic.rejected.data, ic.rejected.len);
    cw_buf_adds(&resp->body, "],\"refused\":[");
    cw_buf_add(&resp->body, sc.refused.data, sc.refused.len);
    cw_buf_adds(&resp->body, "]}\n");
out:
    cw_buf_release(&sc.refused);
    cw_buf_release(&ic.rejected);
    cw_ioc_list_release(&list);
}

/* -- export ------------------------------------------------------------------------ */

static void indicators_export(struct cw_center *c, struct cw_http_request *req,
                              struct cw_http_response *resp)
{
    const char *fmt = cw_http_query(req, "format");
    if (!fmt)
        fmt = "stix";
    enum cw_ioc_type type = CW_IOC_NONE;
    const char *ts = cw_http_query(req, "type"), *tlps = cw_http_query(req, "tlp");
    if (ts && (type = cw_ioc_type_from_name(ts)) == CW_IOC_NONE) {
        cw_http_json_error(resp, 400, "unknown type '%s'", ts);
        return;
    }
    enum cw_tlp tlp = CW_TLP_CLEAR;
    if (tlps && cw_tlp_from_name(tlps, &tlp)) {
        cw_http_json_error(resp, 400, "tlp must be CLEAR, GREEN, AMBER, AMBER+STRICT or RED");
        return;
    }
    if (strcmp(fmt, "stix") && strcmp(fmt, "misp") && strcmp(fmt, "csv") &&
        strcmp(fmt, "plain") && strcmp(fmt, "rpz")) {
        cw_http_json_error(resp, 400, "format must be stix, misp, csv, plain or rpz");
        return;
    }
    unsigned csv_flags; /* ?for=spreadsheet: CSV cells that would be formulas defused */
    if (cw_csv_for(cw_http_query(req, "for"), &csv_flags)) {
        cw_http_json_error(resp, 400, "for must be machine or spreadsheet");
        return;
    }
    /* ?include_revoked=1: revoked ones as STIX "revoked": true (ioc_share.h); no other
     * format can say "withdrawn", an RPZ zone or list would block them instead */
    const char *ir = cw_http_query(req, "include_revoked");
    if (ir && strcmp(ir, "0") && (strcmp(ir, "1") || strcmp(fmt, "stix"))) {
        cw_http_json_error(resp, 400, "include_revoked must be 0 or 1, and 1 needs format=stix");
        return;
    }
    struct cw_ioc_share sh;
    char err[256];
    if (cw_ioc_share_collect(cw_center_store(c), req->scope, tlps ? (int)tlp : -1,
                             ir && *ir == '1' ? CW_IOC_SHARE_REVOKED : 0, &sh, err,
                             sizeof(err))) {
        cw_http_json_error(resp, 500, "%s", err);
        cw_ioc_share_release(&sh);
        return;
    }
    /* a type filter applies to every format (plain lists also group by it) */
    size_t n = 0;
    for (size_t i = 0; i < sh.n; i++)
        if (type == CW_IOC_NONE || sh.items[i].type == type) {
            sh.revoked[n] = sh.revoked[i];
            sh.items[n++] = sh.items[i];
        }
    struct cw_ioc_export_opts o = {.producer_name = "crosswatch center",
                                   .now_us = cw_now_us(),
                                   .rpz_origin = "crosswatch-indicators",
                                   .rpz_serial = (uint32_t)cw_ioc_hub_serial(cw_center_ioc_hub(c)),
                                   .misp_event_info = "crosswatch indicators",
                                   .csv_flags = csv_flags,
                                   .revoked = sh.revoked};
    int rc;
    if (strcmp(fmt, "stix") == 0) {
        rc = cw_ioc_export_stix(sh.items, n, &o, &resp->body);
        resp->content_type = "application/stix+json;version=2.1";
    } else if (strcmp(fmt, "misp") == 0) {
        rc = cw_ioc_export_misp(sh.items, n, &o, &resp->body);
        resp->content_type = "application/json";
    } else if (strcmp(fmt, "csv") == 0) {
        rc = cw_ioc_export_csv(sh.items, n, &o, &resp->body);
        resp->content_type = "text/csv; charset=utf-8";
    } else if (strcmp(fmt, "plain") == 0) {
        rc = cw_ioc_export_plain(sh.items, n, type, &resp->body);
        resp->content_type = "text/plain; charset=utf-8";
    } else {
        rc = cw_ioc_export_rpz(sh.items, n, &o, &resp->body);
        resp->content_type = "text/dns";
    }
    snprintf(resp->extra_header[0], sizeof(resp->extra_header[0]),
             "X-Crosswatch-Indicators: %zu", n);
    cw_ioc_share_release(&sh);
    if (rc < 0 || !cw_buf_ok(&resp->body)) {
        cw_buf_clear(&resp->body);
        cw_http_json_error(resp, 503, "out of memory");
    }
}

const struct cw_route cw_api_ioc_io_routes[] = {
    {"POST", "/api/v1/indicators/import", CW_ACCESS_COORD, indicators_import},
    {"GET", "/api/v1/indicators/export", CW_ACCESS_USER, indicators_export},
    {NULL, NULL, 0, NULL},
};
