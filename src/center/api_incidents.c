/* api_incidents.c - the information-sharing system over HTTP (docs/incidents.md):
 *
 *   GET  /api/v1/incident-taxonomy            any organization user
 *   GET/POST /api/v1/sectors                  coordinator / coordinator admin
 *   POST /api/v1/members/{id}/sector          coordinator admin {"sector"}
 *   GET/POST /api/v1/orgs, POST /api/v1/orgs/{id}/users   sector bodies and ministries
 *   POST /api/v1/incidents                    a member's users (own member), coordinator
 *   GET  /api/v1/incidents[?member&fy&status&after&limit], GET /api/v1/incidents/{id}
 *   POST /api/v1/incidents/{id}/update|classify|read|forward
 *   POST /api/v1/incidents/import             coordinator: NDJSON, all or nothing
 *   POST/GET /api/v1/alerts, GET /api/v1/alerts/{id}, POST .../read|forward
 *   GET  /api/v1/stats/incidents?fy=N[&format=csv[&for=spreadsheet]]   coordinator
 * Visibility is the store's (store_incidents.h) from the authenticated principal; an
 * item the caller may not see answers 404 like one that does not exist. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "center/http.h"
#include "center/http_body.h"
#include "center/incident_import.h"
#include "center/store_incidents.h"
#include "common/csv.h"
#include "common/timefmt.h"
#include "common/banned.h"

static void store_error(struct cw_http_response *resp, int rc, const char *err)
{
    unsigned st = rc == CW_STORE_NOT_FOUND ? 404 : rc == CW_STORE_INVALID ? 400
                : rc == CW_STORE_EXISTS || rc == CW_STORE_BAD_TRANSITION ? 409
                : rc == CW_STORE_DENIED ? 403 : 503;
    cw_http_json_error(resp, st, "%s", err);
}

static bool coord_role(const struct cw_principal *who)
{
    return who->role == CW_ROLE_COORD_ADMIN || who->role == CW_ROLE_COORD_ANALYST;
}

static bool member_role(const struct cw_principal *who)
{
    return who->role == CW_ROLE_MEMBER_ADMIN || who->role == CW_ROLE_MEMBER_USER;
}

static bool is_coord(const struct cw_http_request *req)
{
    return coord_role(&req->who);
}

static bool is_member(const struct cw_http_request *req)
{
    return member_role(&req->who);
}

static int64_t path_id(const struct cw_http_request *req)
{
    return strtoll(req->path_arg, NULL, 10);
}

/* Every key of object obj is one of allowed, at most once. */
static int keys_known(const struct cw_json *j, int obj, const char *const *allowed,
                      struct cw_http_response *resp, const char *where)
{
    int k = obj + 1;
    for (int m = 0; m < j->tok[obj].size; m++) {
        size_t kl;
        const char *kr = cw_json_raw(j, k, &kl);
        bool known = false;
        for (int a = 0; allowed[a] && !known; a++)
            known = strlen(allowed[a]) == kl && !memcmp(allowed[a], kr, kl);
        if (!known) {
            cw_http_json_error(resp, 400, "%sunknown field '%.*s'", where,
                               (int)(kl > 40 ? 40 : kl), kr);
            return -1;
        }
        int q = obj + 1;
        for (int n = 0; n < m; n++) {
            size_t ql;
            const char *qr = cw_json_raw(j, q, &ql);
            if (ql == kl && !memcmp(qr, kr, kl)) {
                cw_http_json_error(resp, 400, "%sfield '%.*s' given twice", where, (int)kl, kr);
                return -1;
            }
            q = cw_json_next(j, q + 1);
        }
        k = cw_json_next(j, k + 1);
    }
    return 0;
}

/* A checked string field of object obj (like cw_http_body_str, for any object). */
static int field_str(const struct cw_json *j, struct cw_arena *ar, int obj, const char *key,
                     size_t max, unsigned flags, const char **out, struct cw_http_response *resp,
                     const char *where)
{
    int t = cw_json_get(j, obj, key);
    const char *s;
    size_t n;
    int64_t v;
    *out = NULL;
    if (t < 0 || cw_json_is_null(j, t)) {
        if (flags & CW_FIELD_REQUIRED) {
            cw_http_json_error(resp, 400, "%smissing field '%s'", where, key);
            return -1;
        }
        return 0;
    }
    if ((flags & CW_FIELD_ALLOW_ID) && cw_json_int(j, t, &v) == 0 && v > 0)
        s = cw_json_raw(j, t, &n);
    else if (cw_json_str(j, t, ar, &s, &n)) {
        cw_http_json_error(resp, 400, "%sfield '%s' must be a string", where, key);
        return -1;
    }
    if (n == 0 || n > max) {
        cw_http_json_error(resp, 400, "%sfield '%s' must be 1 to %zu bytes", where, key, max);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool ws = (flags & CW_FIELD_MULTILINE) && (c == '\n' || c == '\t');
        if ((c < 0x20 && !ws) || c == 0x7f) {
            cw_http_json_error(resp, 400, "%sfield '%s' must not contain control characters",
                               where, key);
            return -1;
        }
    }
    if (!(*out = cw_arena_strndup(ar, s, n))) {
        cw_http_json_error(resp, 503, "out of memory");
        return -1;
    }
    return 0;
}

/* An array of 0..max short strings. */
static int field_strs(const struct cw_json *j, struct cw_arena *ar, int obj, const char *key,
                      size_t max, const char **out, size_t *n, struct cw_http_response *resp,
                      const char *where)
{
    int t = cw_json_get(j, obj, key);
    *n = 0;
    if (t < 0 || cw_json_is_null(j, t))
        return 0;
    if (!cw_json_is(j, t, JSMN_ARRAY) || (size_t)j->tok[t].size > max) {
        cw_http_json_error(resp, 400, "%sfield '%s' must be an array of at most %zu strings",
                           where, key, max);
        return -1;
    }
    int k = t + 1;
    for (int i = 0; i < j->tok[t].size; i++) {
        const char *s;
        size_t l;
        if (cw_json_str(j, k, ar, &s, &l) || l == 0 || l > 64 ||
            !(out[*n] = cw_arena_strndup(ar, s, l))) {
            cw_http_json_error(resp, 400, "%s%s[%d] must be a code of 1 to 64 bytes", where, key,
                               i);
            return -1;
        }
        (*n)++;
        k = cw_json_next(j, k);
    }
    return 0;
}

/* An ISO 8601 time between 2000 and now + 1 day (reports are not from the future). */
static int field_time(const struct cw_json *j, struct cw_arena *ar, int obj, const char *key,
                      bool required, int64_t *us, struct cw_http_response *resp,
                      const char *where)
{
    const char *s;
    *us = 0;
    if (field_str(j, ar, obj, key, 40, required ? CW_FIELD_REQUIRED : 0, &s, resp, where))
        return -1;
    if (!s)
        return 0;
    if (cw_time_parse_iso(s, strlen(s), us) || *us < 946684800LL * 1000000 ||
        *us > cw_now_us() + 86400LL * 1000000) {
        cw_http_json_error(resp, 400, "%sfield '%s' must be an ISO 8601 time between 2000 and "
                           "now", where, key);
        return -1;
    }
    return 0;
}

/* "fy": when given, the record's date must fall in that fiscal year. */
static int check_fy(const struct cw_json *j, int obj, int64_t us, struct cw_http_response *resp,
                    const char *where)
{
    int t = cw_json_get(j, obj, "fy");
    int64_t fy;
    if (t < 0 || cw_json_is_null(j, t))
        return 0;
    if (cw_json_int(j, t, &fy) || fy < 2000 || fy > 2100) {
        cw_http_json_error(resp, 400, "%sfield 'fy' must be a fiscal year 2000..2100", where);
        return -1;
    }
    if (cw_fiscal_quarter(us) / 4 != fy) {
        char a[40], b[40], d[40];
        cw_time_format_iso(us, d);
        cw_time_format_iso(cw_fiscal_quarter_start((int32_t)fy * 4), a);
        cw_time_format_iso(cw_fiscal_quarter_start((int32_t)fy * 4 + 4), b);
        cw_http_json_error(resp, 400, "%sdate %s is outside fiscal year %lld (%s .. %s, "
                           "April-March, Japan time)", where, d, (long long)fy, a, b);
        return -1;
    }
    return 0;
}

static int member_id_of(struct cw_center *c, const char *ref, uint32_t *id)
{
    struct cw_member_info m;
    if (cw_store_member_find(cw_center_store(c), ref, &m) != 0)
        return -1;
    *id = m.id;
    return 0;
}

/* The store's names for the parsers (incident_import.h); ctx is the center. */
static int store_member(void *ctx, const char *ref, uint32_t *id)
{
    return member_id_of(ctx, ref, id);
}

static int store_sector(void *ctx, const char *code, int64_t *id)
{
    return cw_store_sector_find(cw_center_store(ctx), code, id) ? -1 : 0;
}

static int store_org(void *ctx, const char *ref, int64_t *id)
{
    return cw_store_org_find(cw_center_store(ctx), ref, id) ? -1 : 0;
}

static struct cw_inc_writer writer_of(struct cw_center *c, const struct cw_http_request *req)
{
    return (struct cw_inc_writer){&req->who, req->scope, store_member, store_sector, store_org, c};
}

/* cw_http_scope() for a writer: the member a record may be written for. */
static int writer_scope(const struct cw_inc_writer *w, uint32_t wanted, uint32_t *member,
                        struct cw_http_response *resp, const char *where)
{
    if (w->scope == 0) {
        *member = wanted;
        return 0;
    }
    if (wanted && wanted != w->scope) {
        cw_http_json_error(resp, 404, "%sno such member", where);
        return -1;
    }
    *member = w->scope;
    return 0;
}

/* ------------------------------------------------------------------ incident body */

static const char *const incident_keys[] = {"member", "ref", "title", "what", "systems",
                                            "occurred", "reported", "event", "causes",
                                            "attack", "fy", "type", NULL};

/* Parse one incident object (API create or an import line). */
static int parse_incident(const struct cw_inc_writer *w, const struct cw_json *j,
                          struct cw_arena *ar, int obj, struct cw_incident_new *n,
                          struct cw_http_response *resp, const char *where)
{
    const char *member;
    memset(n, 0, sizeof(*n));
    if (keys_known(j, obj, incident_keys, resp, where) ||
        field_str(j, ar, obj, "member", 100, CW_FIELD_ALLOW_ID, &member, resp, where) ||
        field_str(j, ar, obj, "ref", CW_INC_REF_MAX, 0, &n->ref, resp, where) ||
        field_str(j, ar, obj, "title", CW_INC_TITLE_MAX, CW_FIELD_REQUIRED, &n->title, resp,
                  where) ||
        field_str(j, ar, obj, "what", CW_INC_TEXT_MAX, CW_FIELD_MULTILINE, &n->what, resp,
                  where) ||
        field_str(j, ar, obj, "systems", 2000, CW_FIELD_MULTILINE, &n->systems, resp, where) ||
        field_time(j, ar, obj, "occurred", false, &n->occurred_us, resp, where) ||
        field_time(j, ar, obj, "reported", false, &n->reported_us, resp, where) ||
        field_str(j, ar, obj, "event", 64, 0, &n->event, resp, where) ||
        field_strs(j, ar, obj, "causes", CW_TAX_MAX_CAUSES, n->causes, &n->ncauses, resp,
                   where) ||
        field_str(j, ar, obj, "attack", 64, 0, &n->attack, resp, where))
        return -1;
    if (!coord_role(w->who) && (n->reported_us || n->attack || n->ref)) {
        cw_http_json_error(resp, 400, "%s'%s' is set by the coordinator", where,
                           n->attack ? "attack" : n->ref ? "ref" : "reported");
        return -1;
    }
    uint32_t wanted = 0;
    if (member && w->member(w->ctx, member, &wanted)) {
        cw_http_json_error(resp, 404, "%sno such member", where);
        return -1;
    }
    if (writer_scope(w, wanted, &n->member_id, resp, where))
        return -1;
    if (!n->member_id) {
        cw_http_json_error(resp, 400, "%smissing field 'member'", where);
        return -1;
    }
    if (!n->reported_us)
        n->reported_us = cw_now_us();
    if (check_fy(j, obj, n->reported_us, resp, where))
        return -1;
    n->actor = w->who->name;
    n->flow = member_role(w->who);
    return 0;
}

static void incident_create(struct cw_center *c, struct cw_http_request *req,
                            struct cw_http_response *resp)
{
    if (!is_member(req) && !is_coord(req)) {
        cw_http_json_error(resp, 403, "sector bodies and ministries do not report incidents "
                                      "(a ministry sends information with POST /api/v1/alerts)");
        return;
    }
    struct cw_http_body b;
    struct cw_incident_new n;
    struct cw_inc_writer w = writer_of(c, req);
    char err[512];
    if (cw_http_body_parse(&b, req, resp) || parse_incident(&w, &b.j, &b.arena, 0, &n, resp, ""))
        goto out;
    int64_t id;
    bool dup;
    int rc = cw_store_incident_create(cw_center_store(c), &n, &id, &dup, err, sizeof(err));
    if (rc) {
        store_error(resp, rc, err);
        goto out;
    }
    resp->status = dup ? 200 : 201;
    if (cw_store_incident_json(cw_center_store(c), &req->who, id, &resp->body, err, sizeof(err)))
        cw_buf_addf(&resp->body, "{\"id\":%lld}\n", (long long)id);
out:
    cw_http_body_release(&b);
}

static void incidents_list(struct cw_center *c, struct cw_http_request *req,
                           struct cw_http_response *resp)
{
    struct cw_incident_filter f = {0, 0, NULL, 0, 100};
    const char *ref = cw_http_query(req, "member");
    uint32_t wanted = 0;
    if (ref && member_id_of(c, ref, &wanted)) {
        cw_http_json_error(resp, 404, "no such member");
        return;
    }
    int64_t fy, after, limit;
    if ((req->scope != CW_SCOPE_NONE && cw_http_scope(req, resp, wanted, &f.member_id)) ||
        cw_http_query_int(req, resp, "fy", 0, 2100, 0, &fy) ||
        cw_http_query_int(req, resp, "after", 0, INT64_MAX, 0, &after) ||
        cw_http_query_int(req, resp, "limit", 1, 1000, 100, &limit))
        return;
    if (req->scope == CW_SCOPE_NONE) { /* an org names only members of its sectors */
        if (wanted && !cw_store_org_covers_member(cw_center_store(c), req->who.org_id, wanted)) {
            cw_http_json_error(resp, 404, "no such member");
            return;
        }
        f.member_id = wanted;
    }
    f.fy = (int32_t)fy;
    f.after_id = after;
    f.limit = (int)limit;
    f.status = cw_http_query(req, "status");
    if (f.status && !cw_incident_status_valid(f.status)) {
        cw_http_json_error(resp, 400, "status must be reported, investigating, contained, "
                                      "recovered or closed");
        return;
    }
    char err[256];
    int rc = cw_store_incidents_json(cw_center_store(c), &req->who, &f, &resp->body, err,
                                     sizeof(err));
    if (rc)
        store_error(resp, rc, err);
}

static void incident_show(struct cw_center *c, struct cw_http_request *req,
                          struct cw_http_response *resp)
{
    char err[256];
    int rc = cw_store_incident_json(cw_center_store(c), &req->who, path_id(req), &resp->body,
                                    err, sizeof(err));
    if (rc)
        store_error(resp, rc, err);
}

static void incident_update(struct cw_center *c, struct cw_http_request *req,
                            struct cw_http_response *resp)
{
    static const char *const keys[] = {"status", "note", NULL};
    struct cw_http_body b;
    const char *status, *note;
    char err[512];
    int rc;
    if (cw_http_body_parse(&b, req, resp) || keys_known(&b.j, 0, keys, resp, "") ||
        cw_http_body_str(&b, "status", 32, 0, &status, resp) ||
        cw_http_body_str(&b, "note", CW_INC_TEXT_MAX, CW_FIELD_MULTILINE, &note, resp))
        goto out;
    rc = cw_store_incident_update(cw_center_store(c), &req->who, path_id(req), status, note, err,
                                  sizeof(err));
    if (rc)
        store_error(resp, rc, err);
    else
        incident_show(c, req, resp);
out:
    cw_http_body_release(&b);
}

static void incident_classify(struct cw_center *c, struct cw_http_request *req,
                              struct cw_http_response *resp)
{
    static const char *const keys[] = {"event", "causes", "attack", NULL};
    struct cw_http_body b;
    const char *event, *attack = NULL, *causes[CW_TAX_MAX_CAUSES];
    size_t nc = 0;
    char err[512];
    if (cw_http_body_parse(&b, req, resp) || keys_known(&b.j, 0, keys, resp, "") ||
        cw_http_body_str(&b, "event", 64, 0, &event, resp) ||
        field_strs(&b.j, &b.arena, 0, "causes", CW_TAX_MAX_CAUSES, causes, &nc, resp, ""))
        goto out;
    int ta = cw_json_get(&b.j, 0, "attack");
    if (ta >= 0 && cw_json_is_null(&b.j, ta))
        attack = ""; /* null clears: not a cyber attack */
    else if (cw_http_body_str(&b, "attack", 64, 0, &attack, resp))
        goto out;
    int tc = cw_json_get(&b.j, 0, "causes");
    int rc = cw_store_incident_classify(cw_center_store(c), path_id(req), event, tc >= 0, causes,
                                        nc, attack, req->who.name, err, sizeof(err));
    if (rc)
        store_error(resp, rc, err);
    else
        incident_show(c, req, resp);
out:
    cw_http_body_release(&b);
}

static void receipt(struct cw_center *c, struct cw_http_request *req,
                    struct cw_http_response *resp, bool incident, enum cw_receipt_action a)
{
    char err[256];
    int rc = cw_store_receipt_act(cw_center_store(c), &req->who, incident, path_id(req), a, err,
                                  sizeof(err));
    if (rc)
        store_error(resp, rc, err);
    else if (incident)
        incident_show(c, req, resp);
    else if ((rc = cw_store_item_json(cw_center_store(c), &req->who, path_id(req), &resp->body,
                                      err, sizeof(err))))
        store_error(resp, rc, err);
}

static void incident_read(struct cw_center *c, struct cw_http_request *req,
                          struct cw_http_response *resp)
{
    receipt(c, req, resp, true, CW_RECEIPT_READ);
}

static void incident_forward(struct cw_center *c, struct cw_http_request *req,
                             struct cw_http_response *resp)
{
    receipt(c, req, resp, true, CW_RECEIPT_FORWARD);
}

static void alert_read(struct cw_center *c, struct cw_http_request *req,
                       struct cw_http_response *resp)
{
    receipt(c, req, resp, false, CW_RECEIPT_READ);
}

static void alert_forward(struct cw_center *c, struct cw_http_request *req,
                          struct cw_http_response *resp)
{
    receipt(c, req, resp, false, CW_RECEIPT_FORWARD);
}

/* ------------------------------------------------------------------ shared items */

static const char *const item_keys[] = {"kind", "ref", "title", "body", "sectors", "sent",
                                        "org", "fy", "type", NULL};

static int parse_item(const struct cw_inc_writer *w, const struct cw_json *j, struct cw_arena *ar,
                      int obj, const char *type, struct cw_item_new *n, int64_t *sectors,
                      struct cw_http_response *resp, const char *where)
{
    bool coord = coord_role(w->who), ministry_user = w->who->role == CW_ROLE_MINISTRY_USER;
    if (!coord && !ministry_user) { /* alert_create checks it too; the parser stands alone */
        cw_http_json_error(resp, 403, "%sonly the coordinator sends alerts and only ministries "
                           "send ministry information", where);
        return -1;
    }
    const char *codes[CW_INC_MAX_TARGETS], *org;
    size_t ncodes;
    memset(n, 0, sizeof(*n));
    if (keys_known(j, obj, item_keys, resp, where) ||
        field_str(j, ar, obj, "kind", 32, 0, &n->kind, resp, where) ||
        field_str(j, ar, obj, "ref", CW_INC_REF_MAX, 0, &n->ref, resp, where) ||
        field_str(j, ar, obj, "title", CW_INC_TITLE_MAX, CW_FIELD_REQUIRED, &n->title, resp,
                  where) ||
        field_str(j, ar, obj, "body", CW_INC_TEXT_MAX, CW_FIELD_MULTILINE, &n->body, resp,
                  where) ||
        field_strs(j, ar, obj, "sectors", CW_INC_MAX_TARGETS, codes, &ncodes, resp, where) ||
        field_time(j, ar, obj, "sent", false, &n->sent_us, resp, where) ||
        field_str(j, ar, obj, "org", 100, CW_FIELD_ALLOW_ID, &org, resp, where))
        return -1;
    if (type && n->kind && strcmp(type, n->kind)) {
        cw_http_json_error(resp, 400, "%s'type' and 'kind' differ", where);
        return -1;
    }
    if (!n->kind)
        n->kind = type ? type : ministry_user ? "ministry_info" : "alert";
    bool ministry = !strcmp(n->kind, "ministry_info");
    if (strcmp(n->kind, "alert") && strcmp(n->kind, "advisory") && !ministry) {
        cw_http_json_error(resp, 400, "%skind must be alert, advisory or ministry_info", where);
        return -1;
    }
    if (ministry != ministry_user && !coord) {
        cw_http_json_error(resp, 403, "%s", ministry ? "only a ministry sends ministry_info"
                                                     : "only the coordinator sends alerts");
        return -1;
    }
    if (!coord && (n->sent_us || n->ref || org)) {
        cw_http_json_error(resp, 400, "%s'sent', 'ref' and 'org' are set by the coordinator",
                           where);
        return -1;
    }
    if (ministry && coord) {
        if (!org || w->org(w->ctx, org, &n->org_id)) {
            cw_http_json_error(resp, org ? 404 : 400, "%s%s", where,
                               org ? "no such organization" : "ministry_info needs 'org'");
            return -1;
        }
    } else if (ministry) {
        n->org_id = w->who->org_id;
    } else if (org) {
        cw_http_json_error(resp, 400, "%s'org' is for ministry_info only", where);
        return -1;
    }
    if (ministry && ncodes) {
        cw_http_json_error(resp, 400, "%sministry information goes to the coordinator: no "
                           "'sectors'", where);
        return -1;
    }
    for (size_t i = 0; i < ncodes; i++)
        if (w->sector(w->ctx, codes[i], &sectors[i])) {
            cw_http_json_error(resp, 404, "%sno such sector '%s'", where, codes[i]);
            return -1;
        }
    n->sectors = sectors;
    n->nsectors = ncodes;
    if (!n->sent_us)
        n->sent_us = cw_now_us();
    if (check_fy(j, obj, n->sent_us, resp, where))
        return -1;
    n->actor = w->who->name;
    n->flow = true;
    return 0;
}

static void alert_create(struct cw_center *c, struct cw_http_request *req,
                         struct cw_http_response *resp)
{
    if (!is_coord(req) && req->who.role != CW_ROLE_MINISTRY_USER) {
        cw_http_json_error(resp, 403, "only the coordinator sends alerts and only ministries "
                                      "send ministry information");
        return;
    }
    struct cw_http_body b;
    struct cw_item_new n;
    int64_t sectors[CW_INC_MAX_TARGETS];
    struct cw_inc_writer w = writer_of(c, req);
    char err[512];
    if (cw_http_body_parse(&b, req, resp) ||
        parse_item(&w, &b.j, &b.arena, 0, NULL, &n, sectors, resp, ""))
        goto out;
    int64_t id;
    bool dup;
    int rc = cw_store_item_create(cw_center_store(c), &n, &id, &dup, err, sizeof(err));
    if (rc) {
        store_error(resp, rc, err);
        goto out;
    }
    resp->status = dup ? 200 : 201;
    if (cw_store_item_json(cw_center_store(c), &req->who, id, &resp->body, err, sizeof(err)))
        cw_buf_addf(&resp->body, "{\"id\":%lld}\n", (long long)id);
out:
    cw_http_body_release(&b);
}

static void alerts_list(struct cw_center *c, struct cw_http_request *req,
                        struct cw_http_response *resp)
{
    int64_t after, limit;
    const char *kind = cw_http_query(req, "kind");
    if (cw_http_query_int(req, resp, "after", 0, INT64_MAX, 0, &after) ||
        cw_http_query_int(req, resp, "limit", 1, 1000, 100, &limit))
        return;
    if (kind && strcmp(kind, "alert") && strcmp(kind, "advisory") &&
        strcmp(kind, "ministry_info")) {
        cw_http_json_error(resp, 400, "kind must be alert, advisory or ministry_info");
        return;
    }
    char err[256];
    int rc = cw_store_items_json(cw_center_store(c), &req->who, kind, after, (int)limit,
                                 &resp->body, err, sizeof(err));
    if (rc)
        store_error(resp, rc, err);
}

static void alert_show(struct cw_center *c, struct cw_http_request *req,
                       struct cw_http_response *resp)
{
    char err[256];
    int rc = cw_store_item_json(cw_center_store(c), &req->who, path_id(req), &resp->body, err,
                                sizeof(err));
    if (rc)
        store_error(resp, rc, err);
}

/* ------------------------------------------------------------------ bulk import */

int cw_inc_import_init(struct cw_inc_import *im, size_t lines)
{
    memset(im, 0, offsetof(struct cw_inc_import, tok));
    cw_arena_init(&im->arena, 1 << 16, (size_t)1 << 30);
    im->inc = calloc(lines, sizeof(*im->inc));
    im->items = calloc(lines, sizeof(*im->items));
    im->inc_line = calloc(lines, sizeof(size_t));
    im->item_line = calloc(lines, sizeof(size_t));
    im->cap = lines;
    return im->inc && im->items && im->inc_line && im->item_line ? 0 : -1;
}

void cw_inc_import_release(struct cw_inc_import *im)
{
    cw_arena_release(&im->arena);
    free(im->inc);
    free(im->items);
    free(im->inc_line);
    free(im->item_line);
    memset(im, 0, offsetof(struct cw_inc_import, tok));
}

int cw_inc_import_line(const struct cw_inc_writer *w, struct cw_inc_import *im, const char *s,
                       size_t n, size_t line, struct cw_http_response *resp)
{
    char where[32];
    const char *jerr = NULL, *type;
    struct cw_json j;
    snprintf(where, sizeof(where), "line %zu: ", line);
    if (im->ninc + im->nitems >= im->cap) {
        cw_http_json_error(resp, 413, "%smore records than lines counted", where);
        return -1;
    }
    if (cw_json_parse(&j, s, n, im->tok, CW_INC_LINE_TOKENS, &jerr) ||
        !cw_json_is(&j, 0, JSMN_OBJECT)) {
        cw_http_json_error(resp, 400, "%s%s", where, jerr ? jerr : "a JSON object is required");
        return -1;
    }
    if (field_str(&j, &im->arena, 0, "type", 32, 0, &type, resp, where))
        return -1;
    if (!type || !strcmp(type, "incident")) {
        im->inc_line[im->ninc] = line;
        return parse_incident(w, &j, &im->arena, 0, &im->inc[im->ninc++], resp, where);
    }
    int64_t *sectors = cw_arena_alloc(&im->arena, sizeof(int64_t) * CW_INC_MAX_TARGETS);
    if (!sectors) {
        cw_http_json_error(resp, 413, "%simport too large", where);
        return -1;
    }
    im->item_line[im->nitems] = line;
    return parse_item(w, &j, &im->arena, 0, type, &im->items[im->nitems++], sectors, resp,
                      where);
}

int cw_inc_import_parse(const struct cw_inc_writer *w, const char *body, size_t len,
                        struct cw_inc_import *im, struct cw_http_response *resp)
{
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += body[i] == '\n';
    if (lines > CW_INC_IMPORT_MAX_LINES) {
        memset(im, 0, offsetof(struct cw_inc_import, tok));
        cw_http_json_error(resp, 413, "at most %d lines per import", CW_INC_IMPORT_MAX_LINES);
        return -1;
    }
    if (cw_inc_import_init(im, lines)) {
        cw_http_json_error(resp, 503, "out of memory");
        return -1;
    }
    const char *p = body ? body : "", *end = p + len;
    size_t line = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        line++;
        while (n && (p[n - 1] == '\r' || p[n - 1] == ' '))
            n--;
        if (n && cw_inc_import_line(w, im, p, n, line, resp))
            return -1;
        im->records += n != 0;
        p = nl ? nl + 1 : end;
    }
    if (!im->records) {
        cw_http_json_error(resp, 400, "no records: one JSON object per line");
        return -1;
    }
    return 0;
}

static void incidents_import(struct cw_center *c, struct cw_http_request *req,
                             struct cw_http_response *resp)
{
    struct cw_inc_writer w = writer_of(c, req);
    struct cw_inc_import *im = malloc(sizeof(*im));
    if (!im) {
        cw_http_json_error(resp, 503, "out of memory");
        return;
    }
    if (cw_inc_import_parse(&w, req->body.data, req->body.len, im, resp))
        goto out;
    size_t added, dups, bad;
    char err[512];
    int rc = cw_store_sharing_import(cw_center_store(c), im->inc, im->ninc, im->items,
                                     im->nitems, &added, &dups, &bad, err, sizeof(err));
    if (rc) {
        char msg[600];
        snprintf(msg, sizeof(msg), "line %zu: %s (nothing imported)",
                 bad < im->ninc ? im->inc_line[bad] : im->item_line[bad - im->ninc], err);
        store_error(resp, rc, msg);
        goto out;
    }
    cw_buf_addf(&resp->body, "{\"records\":%zu,\"added\":%zu,\"duplicates\":%zu}\n",
                im->records, added, dups);
out:
    cw_inc_import_release(im);
    free(im);
}

/* ------------------------------------------------------------------ statistics */

static void stats(struct cw_center *c, struct cw_http_request *req,
                  struct cw_http_response *resp)
{
    int64_t fy;
    const char *format = cw_http_query(req, "format");
    if (!cw_http_query(req, "fy")) {
        cw_http_json_error(resp, 400, "fy is required (a fiscal year, April-March)");
        return;
    }
    if (cw_http_query_int(req, resp, "fy", 2000, 2100, 0, &fy))
        return;
    if (format && strcmp(format, "json") && strcmp(format, "csv")) {
        cw_http_json_error(resp, 400, "format must be json or csv");
        return;
    }
    unsigned csv_flags; /* ?for=spreadsheet (common/csv.h) */
    if (cw_csv_for(cw_http_query(req, "for"), &csv_flags)) {
        cw_http_json_error(resp, 400, "for must be machine or spreadsheet");
        return;
    }
    struct cw_stats_row *rows = calloc(CW_STATS_ROWS, sizeof(*rows));
    char err[256], col[CW_STATS_COLS][24];
    if (!rows) {
        cw_http_json_error(resp, 503, "out of memory");
        return;
    }
    int rc = cw_store_incident_stats(cw_center_store(c), (int)fy, rows, err, sizeof(err));
    if (rc) {
        store_error(resp, rc, err);
        free(rows);
        return;
    }
    for (int i = 0; i < 4; i++)
        snprintf(col[i], sizeof(col[i]), "FY%lld", (long long)(fy - 4 + i));
    for (int q = 0; q < 4; q++)
        snprintf(col[4 + q], sizeof(col[4 + q]), "FY%lld %dQ", (long long)fy, q + 1);
    snprintf(col[8], sizeof(col[8]), "FY%lld", (long long)fy);
    struct cw_buf *o = &resp->body;
    if (format && !strcmp(format, "csv")) {
        resp->content_type = "text/csv; charset=utf-8";
        cw_buf_adds(o, "key,label,label_ja");
        for (int k = 0; k < CW_STATS_COLS; k++)
            cw_buf_addf(o, ",%s", col[k]);
        cw_buf_adds(o, "\r\n");
        for (int r = 0; r < CW_STATS_ROWS; r++) {
            cw_buf_addf(o, "%s,", rows[r].key);
            cw_csv_str(o, rows[r].label, CW_CSV_QUOTE_ALL | csv_flags);
            cw_buf_addc(o, ',');
            cw_csv_str(o, rows[r].label_ja, CW_CSV_QUOTE_ALL | csv_flags);
            for (int k = 0; k < CW_STATS_COLS; k++)
                cw_buf_addf(o, ",%lld", (long long)rows[r].v[k]);
            cw_buf_adds(o, "\r\n");
        }
    } else {
        cw_buf_addf(o, "{\"fiscal_year\":%lld,\"fiscal_year_start\":\"04-01\","
                       "\"timezone\":\"+09:00\",\"units\":\"cases\",\"columns\":[",
                    (long long)fy);
        for (int k = 0; k < CW_STATS_COLS; k++)
            cw_buf_addf(o, "%s\"%s\"", k ? "," : "", col[k]);
        cw_buf_adds(o, "],\"rows\":[");
        for (int r = 0; r < CW_STATS_ROWS; r++) {
            cw_buf_addf(o, "%s{\"key\":\"%s\",\"label\":", r ? "," : "", rows[r].key);
            cw_buf_add_json_str(o, rows[r].label, strlen(rows[r].label));
            cw_buf_adds(o, ",\"label_ja\":");
            cw_buf_add_json_str(o, rows[r].label_ja, strlen(rows[r].label_ja));
            cw_buf_adds(o, ",\"values\":[");
            for (int k = 0; k < CW_STATS_COLS; k++)
                cw_buf_addf(o, "%s%lld", k ? "," : "", (long long)rows[r].v[k]);
            cw_buf_adds(o, "]}");
        }
        cw_buf_adds(o, "]}\n");
    }
    free(rows);
}

/* ------------------------------------------------------------------ organizations */

static void taxonomy(struct cw_center *c, struct cw_http_request *req,
                     struct cw_http_response *resp)
{
    (void)c;
    (void)req;
    cw_tax_json(&resp->body);
}

static void sectors_list(struct cw_center *c, struct cw_http_request *req,
                         struct cw_http_response *resp)
{
    char err[256];
    (void)req;
    int rc = cw_store_sectors_json(cw_center_store(c), &resp->body, err, sizeof(err));
    if (rc)
        store_error(resp, rc, err);
}

static bool code_ok(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
            return false;
    return true;
}

static void sector_add(struct cw_center *c, struct cw_http_request *req,
                       struct cw_http_response *resp)
{
    static const char *const keys[] = {"code", "name_ja", "name_en", NULL};
    struct cw_http_body b;
    const char *code, *ja, *en;
    char err[256];
    if (cw_http_body_parse(&b, req, resp) || keys_known(&b.j, 0, keys, resp, "") ||
        cw_http_body_str(&b, "code", 32, CW_FIELD_REQUIRED, &code, resp) ||
        cw_http_body_str(&b, "name_ja", 100, CW_FIELD_REQUIRED, &ja, resp) ||
        cw_http_body_str(&b, "name_en", 100, CW_FIELD_REQUIRED, &en, resp))
        goto out;
    if (!code_ok(code)) {
        cw_http_json_error(resp, 400, "code: lower-case letters, digits, '_' and '-' only");
        goto out;
    }
    int64_t id;
    int rc = cw_store_sector_add(cw_center_store(c), code, ja, en, &id, err, sizeof(err));
    if (rc) {
        store_error(resp, rc, err);
        goto out;
    }
    resp->status = 201;
    cw_buf_addf(&resp->body, "{\"id\":%lld,\"code\":\"%s\"}\n", (long long)id, code);
out:
    cw_http_body_release(&b);
}

static void member_sector(struct cw_center *c, struct cw_http_request *req,
                          struct cw_http_response *resp)
{
    static const char *const keys[] = {"sector", NULL};
    struct cw_http_body b;
    const char *sector;
    char err[256];
    uint32_t mid;
    int64_t sid;
    if (cw_http_body_parse(&b, req, resp) || keys_known(&b.j, 0, keys, resp, "") ||
        cw_http_body_str(&b, "sector", 32, CW_FIELD_REQUIRED | CW_FIELD_ALLOW_ID, &sector, resp))
        goto out;
    if (member_id_of(c, req->path_arg, &mid)) {
        cw_http_json_error(resp, 404, "no such member");
        goto out;
    }
    if (cw_store_sector_find(cw_center_store(c), sector, &sid)) {
        cw_http_json_error(resp, 404, "no such sector");
        goto out;
    }
    int rc = cw_store_member_sector_set(cw_center_store(c), mid, sid, err, sizeof(err));
    if (rc)
        store_error(resp, rc, err);
    else
        cw_buf_addf(&resp->body, "{\"member_id\":%u,\"sector_id\":%lld}\n", mid, (long long)sid);
out:
    cw_http_body_release(&b);
}

static void orgs_list(struct cw_center *c, struct cw_http_request *req,
                      struct cw_http_response *resp)
{
    char err[256];
    (void)req;
    int rc = cw_store_orgs_json(cw_center_store(c), &resp->body, err, sizeof(err));
    if (rc)
        store_error(resp, rc, err);
}

static void org_add(struct cw_center *c, struct cw_http_request *req,
                    struct cw_http_response *resp)
{
    static const char *const keys[] = {"name", "kind", "sectors", NULL};
    struct cw_http_body b;
    const char *name, *kind, *codes[CW_INC_MAX_TARGETS];
    size_t n = 0;
    int64_t ids[CW_INC_MAX_TARGETS], id;
    char err[256];
    if (cw_http_body_parse(&b, req, resp) || keys_known(&b.j, 0, keys, resp, "") ||
        cw_http_body_str(&b, "name", 100, CW_FIELD_REQUIRED, &name, resp) ||
        cw_http_body_str(&b, "kind", 32, CW_FIELD_REQUIRED, &kind, resp) ||
        field_strs(&b.j, &b.arena, 0, "sectors", CW_INC_MAX_TARGETS, codes, &n, resp, ""))
        goto out;
    for (size_t i = 0; i < n; i++)
        if (cw_store_sector_find(cw_center_store(c), codes[i], &ids[i])) {
            cw_http_json_error(resp, 404, "no such sector '%s'", codes[i]);
            goto out;
        }
    int rc = cw_store_org_add(cw_center_store(c), name, kind, ids, n, &id, err, sizeof(err));
    if (rc) {
        store_error(resp, rc, err);
        goto out;
    }
    resp->status = 201;
    cw_buf_addf(&resp->body, "{\"id\":%lld,\"name\":", (long long)id);
    cw_buf_add_json_str(&resp->body, name, strlen(name));
    cw_buf_addf(&resp->body, ",\"kind\":\"%s\"}\n", kind);
out:
    cw_http_body_release(&b);
}

static void org_user_add(struct cw_center *c, struct cw_http_request *req,
                         struct cw_http_response *resp)
{
    static const char *const keys[] = {"name", "password", NULL};
    struct cw_http_body b;
    const char *name, *password = NULL;
    char err[256];
    int64_t id;
    if (cw_http_body_parse(&b, req, resp) || keys_known(&b.j, 0, keys, resp, "") ||
        cw_http_body_str(&b, "name", 100, CW_FIELD_REQUIRED, &name, resp) ||
        cw_http_body_str(&b, "password", 1024, CW_FIELD_REQUIRED, &password, resp))
        goto out;
    int rc = cw_store_org_user_add(cw_center_store(c), path_id(req), name, password, &id, err,
                                   sizeof(err));
    if (rc) {
        store_error(resp, rc, err);
        goto out;
    }
    resp->status = 201;
    cw_buf_addf(&resp->body, "{\"id\":%lld,\"name\":", (long long)id);
    cw_buf_add_json_str(&resp->body, name, strlen(name));
    cw_buf_addf(&resp->body, ",\"org_id\":%lld}\n", (long long)path_id(req));
out:
    if (password)
        memset((char *)password, 0, strlen(password));
    if (req->body.data)
        memset(req->body.data, 0, req->body.len);
    cw_http_body_release(&b);
}

const struct cw_route cw_api_incidents_routes[] = {
    {"GET", "/api/v1/incident-taxonomy", CW_ACCESS_ORG, taxonomy},
    {"GET", "/api/v1/sectors", CW_ACCESS_COORD, sectors_list},
    {"POST", "/api/v1/sectors", CW_ACCESS_ADMIN, sector_add},
    {"POST", "/api/v1/members/{id}/sector", CW_ACCESS_ADMIN, member_sector},
    {"GET", "/api/v1/orgs", CW_ACCESS_COORD, orgs_list},
    {"POST", "/api/v1/orgs", CW_ACCESS_ADMIN, org_add},
    {"POST", "/api/v1/orgs/{id}/users", CW_ACCESS_ADMIN, org_user_add},
    {"POST", "/api/v1/incidents", CW_ACCESS_ORG, incident_create},
    {"GET", "/api/v1/incidents", CW_ACCESS_ORG, incidents_list},
    {"POST", "/api/v1/incidents/import", CW_ACCESS_COORD, incidents_import},
    {"GET", "/api/v1/incidents/{id}", CW_ACCESS_ORG, incident_show},
    {"POST", "/api/v1/incidents/{id}/update", CW_ACCESS_ORG, incident_update},
    {"POST", "/api/v1/incidents/{id}/classify", CW_ACCESS_COORD, incident_classify},
    {"POST", "/api/v1/incidents/{id}/read", CW_ACCESS_ORG, incident_read},
    {"POST", "/api/v1/incidents/{id}/forward", CW_ACCESS_ORG, incident_forward},
    {"POST", "/api/v1/alerts", CW_ACCESS_ORG, alert_create},
    {"GET", "/api/v1/alerts", CW_ACCESS_ORG, alerts_list},
    {"GET", "/api/v1/alerts/{id}", CW_ACCESS_ORG, alert_show},
    {"POST", "/api/v1/alerts/{id}/read", CW_ACCESS_ORG, alert_read},
    {"POST", "/api/v1/alerts/{id}/forward", CW_ACCESS_ORG, alert_forward},
    {"GET", "/api/v1/stats/incidents", CW_ACCESS_COORD, stats},
    {NULL, NULL, 0, NULL},
};
