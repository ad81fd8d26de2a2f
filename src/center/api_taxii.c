/* api_taxii.c - a read-only TAXII 2.1 server over the published indicators
 * (docs/indicators.md "TAXII 2.1").
 *
 * Discovery at /api/v1/taxii2/ (under the API's prefix like every route, not the
 * conventional /taxii2/: clients are given the discovery URL), one API root
 * (/api/v1/taxii2/indicators/) with one collection per TLP level. A collection holds
 * the published indicators of its TLP as STIX 2.1 indicator objects, in the order
 * they were published ("date added"); a member reads only the ones ioc_share.h lets
 * it see (its RED collection holds only what it submitted itself), so the same URL
 * answers each caller with its own view. Paging: added_after, limit and an opaque
 * next cursor ("<date added µs>.<id>"), the more flag and the X-TAXII-Date-Added-
 * First/Last headers. Filters: match[id], match[type], match[spec_version],
 * match[version].
 *
 * Read side complete (TAXII 2.1 sections 5.3-5.8): objects, manifest, one object by
 * its STIX id ({object_id}, a dispatcher token) and its versions. An object the caller
 * may not see is answered exactly like one that does not exist (404): the share is
 * the caller's view, and the object is looked up only in it.
 *
 * Versions: the store keeps an indicator's current state only, so an object has one
 * version, its STIX "modified" (item_version), also its date added: re-publishing an
 * indicator or a merge that changes it gives it a new one, which replaces the old.
 * match[version] last, first and all therefore each select that version, a timestamp
 * selects it when equal.
 *
 * Revocation (STIX 2.1 section 3.6, property revoked): revoking an indicator is its
 * new version, the same id with "revoked": true, modified and date added = the
 * revocation, in objects, object by id, versions and manifest alike - so a client
 * polling with added_after learns of it and withdraws the indicator, instead of
 * blocking it forever. Only whoever was cleared for the published indicator gets the
 * revoked one (ioc_share.h); to anyone else it stays an unknown id (404). It is served
 * while its row exists (no retention deletes indicators). Expired indicators leave the
 * view without a new version: expiry happens only when valid_until has passed, and
 * the version a client holds carries that valid_until, after which STIX says the
 * indicator is no longer valid - a new version would say nothing more.
 * Publishing a revoked indicator again starts a new object (ioc_share.h generations):
 * a new id, while the old id goes on being served revoked - a revoked object is
 * revoked for good (3.6). A poller whose last poll came before the revocation gets
 * both changes: the old id revoked (added when revoked), then the new id.
 *
 * Collections have fixed ids (UUIDs), so they are literal routes of the dispatcher.
 * Writes (POST objects, DELETE) and status are not offered: a collection is
 * can_write false, and those paths answer 404 or 405. */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "center/http.h"
#include "center/ioc_hub.h"
#include "center/ioc_share.h"
#include "center/taxii_query.h"
#include "common/timefmt.h"
#include "ioc/iocfmt.h"
#include "common/banned.h"

#define TAXII_TYPE "application/taxii+json;version=2.1"
#define STIX_TYPE "application/stix+json;version=2.1"
#define ROOT "/api/v1/taxii2/indicators/"
#define PAGE_DEFAULT 100
#define PAGE_MAX 1000

struct collection {
    const char *id;
    enum cw_tlp tlp;
    const char *title;
};

static const struct collection collections[] = {
    {"6f9a7c2e-1b3d-4e58-9a41-0c7d2f1e5a01", CW_TLP_CLEAR, "Indicators TLP:CLEAR"},
    {"2c4e8a1f-7d5b-4c63-8f12-5e9b3a7d6c02", CW_TLP_GREEN, "Indicators TLP:GREEN"},
    {"9b1d3f5a-2e7c-4a84-b6d3-1f8e4c2a7b03", CW_TLP_AMBER, "Indicators TLP:AMBER"},
    {"4a6c8e2b-5f1d-4b97-a3e5-7c2d9f4b1e04", CW_TLP_AMBER_STRICT, "Indicators TLP:AMBER+STRICT"},
    {"8e2a4c6f-3b9d-4d15-9c7a-2b5f8e1d3c05", CW_TLP_RED, "Indicators TLP:RED"},
};
#define NCOLL (sizeof(collections) / sizeof(collections[0]))

static void taxii_error(struct cw_http_response *resp, unsigned status, const char *title)
{
    cw_buf_clear(&resp->body);
    resp->status = status;
    resp->content_type = TAXII_TYPE;
    cw_buf_adds(&resp->body, "{\"title\":");
    cw_buf_add_json_str(&resp->body, title, strlen(title));
    cw_buf_addf(&resp->body, ",\"http_status\":\"%u\"}\n", status);
}

/* TAXII clients send Accept: application/taxii+json;version=2.1; an Accept that
 * admits neither it nor anything is answered 406. */
static bool accepts(struct cw_http_request *req, struct cw_http_response *resp)
{
    const char *a = cw_http_header(req, "Accept");
    if (!a || !*a || strstr(a, "*/*") || strstr(a, "application/*") ||
        (strstr(a, "application/taxii+json") && (!strstr(a, "version=") || strstr(a, "version=2.1"))))
        return true;
    taxii_error(resp, 406, "Accept must admit " TAXII_TYPE);
    return false;
}

static const struct collection *route_collection(const struct cw_http_request *req)
{
    const char *p = req->route->pattern + strlen(ROOT "collections/");
    for (size_t i = 0; i < NCOLL; i++)
        if (strncmp(p, collections[i].id, 36) == 0)
            return &collections[i];
    return NULL;
}

/* -- discovery, API root, collections -------------------------------------------- */

static void discovery(struct cw_center *c, struct cw_http_request *req,
                      struct cw_http_response *resp)
{
    (void)c;
    if (!accepts(req, resp))
        return;
    resp->content_type = TAXII_TYPE;
    cw_buf_adds(&resp->body, "{\"title\":\"crosswatch center\",\"description\":\"Indicators "
                             "published by the coordinator, one collection per TLP\","
                             "\"default\":\"" ROOT "\",\"api_roots\":[\"" ROOT "\"]}\n");
}

static void api_root(struct cw_center *c, struct cw_http_request *req,
                     struct cw_http_response *resp)
{
    if (!accepts(req, resp))
        return;
    resp->content_type = TAXII_TYPE;
    cw_buf_addf(&resp->body, "{\"title\":\"crosswatch indicators\",\"versions\":[\"" TAXII_TYPE
                             "\"],\"max_content_length\":%llu}\n",
                (unsigned long long)cw_center_max_body(c));
}

static void collection_json(struct cw_buf *b, const struct collection *k)
{
    cw_buf_addf(b, "{\"id\":\"%s\",\"title\":\"%s\",\"description\":\"Published indicators "
                   "marked %s that the caller is cleared for\",\"can_read\":true,"
                   "\"can_write\":false,\"media_types\":[\"" STIX_TYPE "\"]}",
                k->id, k->title, cw_tlp_name(k->tlp));
}

static void collections_list(struct cw_center *c, struct cw_http_request *req,
                             struct cw_http_response *resp)
{
    (void)c;
    if (!accepts(req, resp))
        return;
    resp->content_type = TAXII_TYPE;
    cw_buf_adds(&resp->body, "{\"collections\":[");
    for (size_t i = 0; i < NCOLL; i++) {
        if (i)
            cw_buf_addc(&resp->body, ',');
        collection_json(&resp->body, &collections[i]);
    }
    cw_buf_adds(&resp->body, "]}\n");
}

static void collection_get(struct cw_center *c, struct cw_http_request *req,
                           struct cw_http_response *resp)
{
    (void)c;
    const struct collection *k = route_collection(req);
    if (!accepts(req, resp))
        return;
    resp->content_type = TAXII_TYPE;
    collection_json(&resp->body, k);
    cw_buf_addc(&resp->body, '\n');
}

/* -- objects, manifest, one object, its versions ---------------------------------- */

struct page {
    size_t from, to; /* items[from..to) of the share */
    bool more;
    int64_t last_added, last_id;
    size_t found; /* items with the route's {object_id}, before any filter */
};

/* What a request selects besides the cursor: the route's object (NULL: all of the
 * collection), whether match[id]/[type]/[version] apply (not to versions, 5.7), and
 * the parsed match[version]. */
struct select {
    const char *object_id;
    bool match;
    struct cw_taxii_versions version;
};

/* An item's one version: its STIX "modified" exactly as cw_stix_write_indicator sets
 * it (not before valid_from, which stays before valid_until). */
static int64_t item_version(const struct cw_ioc_item *it)
{
    int64_t from = it->first_seen_us ? it->first_seen_us : it->modified_us;
    if (it->valid_until_us && it->valid_until_us <= from)
        from = it->valid_until_us - 1000;
    return it->modified_us > from ? it->modified_us : from;
}

/* The item's STIX id: its generation's (ioc_share.h), else that of (type, value). */
static void item_sid(const struct cw_ioc_item *it, char out[CW_IOC_ID_MAX])
{
    if (it->id)
        snprintf(out, CW_IOC_ID_MAX, "%s", it->id);
    else
        cw_ioc_item_id(it->type, it->value, out);
}

/* Does item i pass the match[] filters? */
static bool matches(struct cw_http_request *req, const struct select *sel,
                    const struct cw_ioc_item *it, const char *iid)
{
    const char *t = cw_http_query(req, "match[type]"), *id = cw_http_query(req, "match[id]");
    const char *sv = cw_http_query(req, "match[spec_version]");
    if (sv && !strstr(sv, "2.1"))
        return false;
    if (!sel->match)
        return true;
    if (t && !strstr(t, "indicator"))
        return false;
    if (!cw_taxii_versions_select(&sel->version, item_version(it)))
        return false;
    if (id) { /* comma-separated list */
        size_t n = strlen(iid);
        for (const char *p = id; *p;) {
            size_t k = strcspn(p, ",");
            if (k == n && strncmp(p, iid, n) == 0)
                return true;
            p += k + (p[k] == ',');
        }
        return false;
    }
    return true;
}

/* Filter the share in place by the route's object, match[] and the cursor, then cut a
 * page. Returns 0 or answers 400. */
static int paginate(struct cw_http_request *req, struct cw_http_response *resp,
                    struct cw_ioc_share *sh, struct select *sel, struct page *pg)
{
    int64_t after_us = 0, limit, cur_added = -1, cur_id = 0;
    const char *aa = cw_http_query(req, "added_after"), *next = cw_http_query(req, "next");
    if (aa && cw_time_parse_iso(aa, strlen(aa), &after_us)) {
        taxii_error(resp, 400, "added_after must be a timestamp");
        return -1;
    }
    if (next && cw_taxii_cursor_parse(next, &cur_added, &cur_id)) {
        taxii_error(resp, 400, "next is not a cursor this server gave");
        return -1;
    }
    const char *ls = cw_http_query(req, "limit");
    limit = PAGE_DEFAULT;
    if (ls) {
        char *end;
        limit = strtoll(ls, &end, 10);
        if (!*ls || *end || limit < 1) {
            taxii_error(resp, 400, "limit must be a positive integer");
            return -1;
        }
        if (limit > PAGE_MAX)
            limit = PAGE_MAX;
    }
    /* match[version] is no filter of versions (5.7) */
    const char *why = sel->match ? cw_taxii_versions_parse(cw_http_query(req, "match[version]"),
                                                           &sel->version)
                                 : NULL;
    if (why) {
        taxii_error(resp, 400, why);
        return -1;
    }
    size_t n = 0;
    pg->found = 0;
    for (size_t i = 0; i < sh->n; i++) {
        char iid[CW_IOC_ID_MAX];
        item_sid(&sh->items[i], iid);
        if (sel->object_id && strcmp(iid, sel->object_id) != 0)
            continue;
        pg->found++;
        if (sh->added_us[i] <= after_us || !matches(req, sel, &sh->items[i], iid))
            continue;
        if (cur_added >= 0 && (sh->added_us[i] < cur_added ||
                               (sh->added_us[i] == cur_added && sh->ids[i] <= cur_id)))
            continue;
        sh->items[n] = sh->items[i];
        sh->added_us[n] = sh->added_us[i];
        sh->ids[n] = sh->ids[i];
        sh->revoked[n] = sh->revoked[i];
        n++;
    }
    pg->from = 0;
    pg->to = n < (size_t)limit ? n : (size_t)limit;
    pg->more = pg->to < n;
    if (pg->to) {
        pg->last_added = sh->added_us[pg->to - 1];
        pg->last_id = sh->ids[pg->to - 1];
    }
    return 0;
}

static void date_headers(struct cw_http_response *resp, const struct cw_ioc_share *sh,
                         const struct page *pg)
{
    if (pg->to == 0)
        return;
    char a[64], b[64];
    cw_time_format_iso(sh->added_us[pg->from], a);
    cw_time_format_iso(sh->added_us[pg->to - 1], b);
    snprintf(resp->extra_header[0], sizeof(resp->extra_header[0]), "X-TAXII-Date-Added-First: %s",
             a);
    snprintf(resp->extra_header[1], sizeof(resp->extra_header[1]), "X-TAXII-Date-Added-Last: %s",
             b);
}

static void envelope_tail(struct cw_buf *b, const struct page *pg)
{
    cw_buf_addf(b, "],\"more\":%s", pg->more ? "true" : "false");
    if (pg->more)
        cw_buf_addf(b, ",\"next\":\"%lld.%lld\"", (long long)pg->last_added,
                    (long long)pg->last_id);
    cw_buf_adds(b, "}\n");
}

/* Shared by every objects/manifest/versions route: the caller's view of the route's
 * collection, narrowed to sel. An object id the view lacks answers 404, the same for
 * an object that does not exist and one the caller may not see. */
static int view(struct cw_center *c, struct cw_http_request *req, struct cw_http_response *resp,
                struct cw_ioc_share *sh, struct select *sel, struct page *pg)
{
    const struct collection *k = route_collection(req);
    char err[256];
    memset(sh, 0, sizeof(*sh));
    if (!accepts(req, resp))
        return -1;
    if (cw_ioc_share_collect(cw_center_store(c), req->scope, (int)k->tlp,
                             CW_IOC_SHARE_REVOKED, sh, err, sizeof(err))) {
        taxii_error(resp, 500, err);
        return -1;
    }
    if (paginate(req, resp, sh, sel, pg))
        return -1;
    if (sel->object_id && pg->found == 0) {
        taxii_error(resp, 404, "no such object in this collection");
        return -1;
    }
    resp->content_type = TAXII_TYPE;
    date_headers(resp, sh, pg);
    return 0;
}

/* Objects of the collection, or (object_id) the versions of one object: the same
 * envelope (5.3, 5.5). */
static void envelope_get(struct cw_center *c, struct cw_http_request *req,
                         struct cw_http_response *resp, const char *object_id)
{
    struct cw_ioc_share sh;
    struct page pg;
    struct select sel = {.object_id = object_id, .match = true};
    if (view(c, req, resp, &sh, &sel, &pg) == 0) {
        struct cw_ioc_export_opts o = {.producer_name = "crosswatch center",
                                       .now_us = cw_now_us()};
        cw_buf_adds(&resp->body, "{\"objects\":[");
        for (size_t i = pg.from; i < pg.to; i++) {
            if (i > pg.from)
                cw_buf_addc(&resp->body, ',');
            cw_stix_write_indicator(&resp->body, &sh.items[i], &o, sh.revoked[i]);
        }
        envelope_tail(&resp->body, &pg);
    }
    cw_ioc_share_release(&sh);
}

static void objects_get(struct cw_center *c, struct cw_http_request *req,
                        struct cw_http_response *resp)
{
    envelope_get(c, req, resp, NULL);
}

static void object_get(struct cw_center *c, struct cw_http_request *req,
                       struct cw_http_response *resp)
{
    envelope_get(c, req, resp, req->path_arg);
}

static void manifest_get(struct cw_center *c, struct cw_http_request *req,
                         struct cw_http_response *resp)
{
    struct cw_ioc_share sh;
    struct page pg;
    struct select sel = {.match = true};
    if (view(c, req, resp, &sh, &sel, &pg) == 0) {
        cw_buf_adds(&resp->body, "{\"objects\":[");
        for (size_t i = pg.from; i < pg.to; i++) {
            char iid[CW_IOC_ID_MAX], added[64], ver[64];
            const struct cw_ioc_item *it = &sh.items[i];
            item_sid(it, iid);
            cw_time_format_iso(sh.added_us[i], added);
            cw_time_format_iso(item_version(it), ver);
            cw_buf_addf(&resp->body,
                        "%s{\"id\":\"%s\",\"date_added\":\"%s\",\"version\":\"%s\","
                        "\"media_type\":\"" STIX_TYPE "\"}",
                        i > pg.from ? "," : "", iid, added, ver);
        }
        envelope_tail(&resp->body, &pg);
    }
    cw_ioc_share_release(&sh);
}

/* {"more":..,"versions":[..]} (5.7); the versions key is left out when empty. */
static void versions_get(struct cw_center *c, struct cw_http_request *req,
                         struct cw_http_response *resp)
{
    struct cw_ioc_share sh;
    struct page pg;
    struct select sel = {.object_id = req->path_arg};
    if (view(c, req, resp, &sh, &sel, &pg) == 0) {
        cw_buf_addf(&resp->body, "{\"more\":%s", pg.more ? "true" : "false");
        if (pg.more)
            cw_buf_addf(&resp->body, ",\"next\":\"%lld.%lld\"", (long long)pg.last_added,
                        (long long)pg.last_id);
        for (size_t i = pg.from; i < pg.to; i++) {
            char ver[64];
            cw_time_format_iso(item_version(&sh.items[i]), ver);
            cw_buf_addf(&resp->body, "%s\"%s\"", i > pg.from ? "," : ",\"versions\":[", ver);
        }
        cw_buf_adds(&resp->body, pg.to > pg.from ? "]}\n" : "}\n");
    }
    cw_ioc_share_release(&sh);
}

#define C(uuid)                                                                            \
    {"GET", ROOT "collections/" uuid "/", CW_ACCESS_USER, collection_get},                  \
        {"GET", ROOT "collections/" uuid "/objects/", CW_ACCESS_USER, objects_get},         \
        {"GET", ROOT "collections/" uuid "/objects/{object_id}/", CW_ACCESS_USER,      \
         object_get},                                                                       \
        {"GET", ROOT "collections/" uuid "/objects/{object_id}/versions/", CW_ACCESS_USER, \
         versions_get},                                                                     \
        {"GET", ROOT "collections/" uuid "/manifest/", CW_ACCESS_USER, manifest_get}

const struct cw_route cw_api_taxii_routes[] = {
    {"GET", "/api/v1/taxii2/", CW_ACCESS_USER, discovery},
    /* where TAXII 2.1 (section 4.1) says clients look for discovery */
    {"GET", "/taxii2/", CW_ACCESS_USER, discovery},
    {"GET", ROOT, CW_ACCESS_USER, api_root},
    {"GET", ROOT "collections/", CW_ACCESS_USER, collections_list},
    C("6f9a7c2e-1b3d-4e58-9a41-0c7d2f1e5a01"),
    C("2c4e8a1f-7d5b-4c63-8f12-5e9b3a7d6c02"),
    C("9b1d3f5a-2e7c-4a84-b6d3-1f8e4c2a7b03"),
    C("4a6c8e2b-5f1d-4b97-a3e5-7c2d9f4b1e04"),
    C("8e2a4c6f-3b9d-4d15-9c7a-2b5f8e1d3c05"),
    {NULL, NULL, 0, NULL},
};
