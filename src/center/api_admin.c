/* api_admin.c - members, sensors, totals and record export for administrators.
 *
 * Only admin tokens reach these handlers (checked by the dispatcher in http.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "center/http.h"
#include "center/http_body.h"
#include "center/store.h"
#include "center/store_web.h"
#include "center/web.h"
#include "common/timefmt.h"
#include "common/banned.h"

#define NAME_MAX_LEN 100

static void health(struct cw_center *c, struct cw_http_request *req,
                   struct cw_http_response *resp)
{
    (void)c;
    (void)req;
    cw_buf_adds(&resp->body, "{\"status\":\"ok\"}\n");
}

static void add_time(struct cw_buf *o, const char *key, int64_t us)
{
    cw_buf_addf(o, ",\"%s\":", key);
    if (!us) {
        cw_buf_adds(o, "null");
        return;
    }
    char ts[32];
    size_t n = cw_time_format_iso(us, ts);
    cw_buf_add_json_str(o, ts, n);
}

static void member_json(struct cw_buf *o, const struct cw_member_info *m)
{
    cw_buf_addf(o, "{\"id\":%u,\"name\":", m->id);
    cw_buf_add_json_str(o, m->name, strlen(m->name));
    add_time(o, "created", m->created_us);
    cw_buf_addf(o, ",\"records\":%lld,\"sensors\":%lld}", (long long)m->records,
                (long long)m->sensors);
}

static int member_cb(void *ctx, const struct cw_member_info *m)
{
    struct cw_buf *o = ctx;
    if (o->data[o->len - 1] != '[')
        cw_buf_addc(o, ',');
    member_json(o, m);
    return 0;
}

static void members_list(struct cw_center *c, struct cw_http_request *req,
                         struct cw_http_response *resp)
{
    (void)req;
    char err[256];
    cw_buf_adds(&resp->body, "{\"members\":[");
    if (cw_store_member_list(cw_center_store(c), member_cb, &resp->body, err, sizeof(err))) {
        cw_http_json_error(resp, 503, "%s", err);
        return;
    }
    cw_buf_adds(&resp->body, "]}\n");
}

static void members_add(struct cw_center *c, struct cw_http_request *req,
                        struct cw_http_response *resp)
{
    struct cw_http_body bf;
    const char *name;
    char err[256], idref[16];
    if (cw_http_body_parse(&bf, req, resp) == 0 &&
        cw_http_body_str(&bf, "name", NAME_MAX_LEN, CW_FIELD_REQUIRED, &name, resp) == 0) {
        if (strspn(name, "0123456789") == strlen(name)) {
            cw_http_json_error(resp, 400, "a member name cannot be only digits (ids are)");
            cw_http_body_release(&bf);
            return;
        }
        uint32_t id;
        int r = cw_store_member_add(cw_center_store(c), name, &id, err, sizeof(err));
        struct cw_member_info m;
        if (r == CW_STORE_EXISTS)
            cw_http_json_error(resp, 409, "%s", err);
        else if (r)
            cw_http_json_error(resp, 503, "%s", err);
        else if (snprintf(idref, sizeof(idref), "%u", id) > 0 &&
                 cw_store_member_find(cw_center_store(c), idref, &m) == 0) {
            resp->status = 201;
            member_json(&resp->body, &m);
            cw_buf_addc(&resp->body, '\n');
        }
    }
    cw_http_body_release(&bf);
}

static void sensor_json(struct cw_buf *o, const struct cw_sensor_info *si, const char *key)
{
    cw_buf_addf(o, "{\"id\":%u,\"member_id\":%u,\"member\":", si->id, si->member_id);
    cw_buf_add_json_str(o, si->member, strlen(si->member));
    cw_buf_adds(o, ",\"name\":");
    cw_buf_add_json_str(o, si->name, strlen(si->name));
    add_time(o, "created", si->created_us);
    add_time(o, "last_seen", si->last_seen_us);
    cw_buf_addf(o, ",\"records\":%lld,\"batches\":%lld,\"rejected\":%lld,\"duplicates\":%lld,"
                   "\"revoked\":%s",
                (long long)si->records, (long long)si->batches, (long long)si->rejected,
                (long long)si->duplicates, si->revoked_us ? "true" : "false");
    if (key) {
        cw_buf_adds(o, ",\"key\":");
        cw_buf_add_json_str(o, key, strlen(key));
    }
    cw_buf_addc(o, '}');
}

struct sensor_list {
    struct cw_buf *o;
    struct cw_web *web;
    struct cw_sensor_health *health; /* docs/web.md "Sensors' health" */
    size_t nhealth;
};

static int sensor_cb(void *ctx, const struct cw_sensor_info *si)
{
    struct sensor_list *sl = ctx;
    struct cw_buf *o = sl->o;
    if (o->data[o->len - 1] != '[')
        cw_buf_addc(o, ',');
    sensor_json(o, si, NULL);
    o->len--; /* reopen the object for the health fields */
    cw_web_sensor_fields(sl->web, o, si, sl->health, sl->nhealth);
    cw_buf_addc(o, '}');
    return 0;
}

/* A member named in a request. Coordinators are told which name was not found; a
 * member-scoped caller gets the same answer as for a member outside its scope, so
 * that the existence of other members is not revealed. */
static int member_ref(struct cw_center *c, struct cw_http_request *req, const char *ref,
                      uint32_t *id, struct cw_http_response *resp)
{
    struct cw_member_info m;
    if (cw_store_member_find(cw_center_store(c), ref, &m) != 0) {
        if (req->scope == 0)
            cw_http_json_error(resp, 404, "no member '%s'", ref);
        else
            cw_http_json_error(resp, 404, "no such member");
        return -1;
    }
    *id = m.id;
    return 0;
}

static void sensors_list(struct cw_center *c, struct cw_http_request *req,
                         struct cw_http_response *resp)
{
    char err[256];
    uint32_t member = 0;
    const char *ref = cw_http_query(req, "member");
    if (ref && member_ref(c, req, ref, &member, resp))
        return;
    if (cw_http_scope(req, resp, member, &member))
        return;
    struct sensor_list sl = {&resp->body, cw_center_web(c), NULL, 0};
    if (cw_store_sensor_health(cw_center_store(c), cw_now_us(), &sl.health, &sl.nhealth, err,
                               sizeof(err))) {
        cw_http_json_error(resp, 503, "%s", err);
        return;
    }
    cw_buf_adds(&resp->body, "{\"sensors\":[");
    int r = cw_store_sensor_list(cw_center_store(c), member, sensor_cb, &sl, err, sizeof(err));
    free(sl.health);
    if (r) {
        cw_http_json_error(resp, 503, "%s", err);
        return;
    }
    cw_buf_adds(&resp->body, "]}\n");
}

static void sensors_add(struct cw_center *c, struct cw_http_request *req,
                        struct cw_http_response *resp)
{
    struct cw_http_body bf;
    const char *name, *mref;
    char err[256], key[128];
    uint32_t member;
    if (cw_http_body_parse(&bf, req, resp) == 0 &&
        cw_http_body_str(&bf, "member", NAME_MAX_LEN, CW_FIELD_REQUIRED | CW_FIELD_ALLOW_ID, &mref,
                         resp) == 0 &&
        cw_http_body_str(&bf, "name", NAME_MAX_LEN, CW_FIELD_REQUIRED, &name, resp) == 0 &&
        member_ref(c, req, mref, &member, resp) == 0) {
        struct cw_sensor_info si;
        int r = cw_store_sensor_add(cw_center_store(c), member, name, &si, key, sizeof(key), err,
                                    sizeof(err));
        if (r == CW_STORE_EXISTS)
            cw_http_json_error(resp, 409, "%s", err);
        else if (r == CW_STORE_NOT_FOUND)
            cw_http_json_error(resp, 404, "%s", err);
        else if (r)
            cw_http_json_error(resp, 503, "%s", err);
        else {
            resp->status = 201;
            sensor_json(&resp->body, &si, key);
            cw_buf_addc(&resp->body, '\n');
        }
        memset(key, 0, sizeof(key));
    }
    cw_http_body_release(&bf);
}

static void sensors_revoke(struct cw_center *c, struct cw_http_request *req,
                           struct cw_http_response *resp)
{
    char err[256];
    uint32_t id = (uint32_t)strtoul(req->path_arg, NULL, 10);
    int r = cw_store_sensor_revoke(cw_center_store(c), id, err, sizeof(err));
    if (r == CW_STORE_NOT_FOUND)
        cw_http_json_error(resp, 404, "%s", err);
    else if (r)
        cw_http_json_error(resp, 503, "%s", err);
    else
        cw_buf_addf(&resp->body, "{\"id\":%u,\"revoked\":true}\n", id);
}

static void stats(struct cw_center *c, struct cw_http_request *req,
                  struct cw_http_response *resp)
{
    (void)req;
    struct cw_totals t;
    char err[256];
    if (cw_store_totals(cw_center_store(c), &t, err, sizeof(err))) {
        cw_http_json_error(resp, 503, "%s", err);
        return;
    }
    cw_buf_addf(&resp->body,
                "{\"records\":%lld,\"batches\":%lld,\"rejected\":%lld,\"duplicates\":%lld,"
                "\"members\":%lld,\"sensors\":%lld}\n",
                (long long)t.records, (long long)t.batches, (long long)t.rejected,
                (long long)t.duplicates, (long long)t.members, (long long)t.sensors);
}

static int export_cb(void *ctx, int64_t batch_id, const char *nd, size_t len)
{
    (void)batch_id;
    cw_buf_add(ctx, nd, len);
    return cw_buf_ok(ctx) ? 0 : -1;
}

/* GET /api/v1/records?after=BATCH&batches=N[&member=REF]: NDJSON of stored records,
 * paged by batch id (X-Crosswatch-Last-Batch tells where to continue). */
static void records_export(struct cw_center *c, struct cw_http_request *req,
                           struct cw_http_response *resp)
{
    const char *a = cw_http_query(req, "after"), *nb = cw_http_query(req, "batches"),
               *ref = cw_http_query(req, "member");
    int64_t after = a ? strtoll(a, NULL, 10) : 0, max = nb ? strtoll(nb, NULL, 10) : 100;
    if (after < 0 || max < 1 || max > 10000) {
        cw_http_json_error(resp, 400, "after must be >= 0 and batches between 1 and 10000");
        return;
    }
    uint32_t member = 0;
    if (ref && member_ref(c, req, ref, &member, resp))
        return;
    int64_t last;
    char err[256];
    resp->content_type = "application/x-ndjson";
    if (cw_store_records_foreach(cw_center_store(c), member, after, max, export_cb, &resp->body,
                                 &last, err, sizeof(err))) {
        cw_http_json_error(resp, 503, "%s", err);
        return;
    }
    snprintf(resp->extra_header[0], sizeof(resp->extra_header[0]),
             "X-Crosswatch-Last-Batch: %lld", (long long)last);
}

const struct cw_route cw_api_admin_routes[] = {
    {"GET", "/api/v1/health", CW_ACCESS_PUBLIC, health},
    {"GET", "/api/v1/members", CW_ACCESS_ADMIN, members_list},
    {"POST", "/api/v1/members", CW_ACCESS_ADMIN, members_add},
    {"GET", "/api/v1/sensors", CW_ACCESS_USER, sensors_list},
    {"POST", "/api/v1/sensors", CW_ACCESS_ADMIN, sensors_add},
    {"POST", "/api/v1/sensors/{id}/revoke", CW_ACCESS_ADMIN, sensors_revoke},
    {"GET", "/api/v1/stats", CW_ACCESS_ADMIN, stats},
    {"GET", "/api/v1/records", CW_ACCESS_ADMIN, records_export},
    {NULL, NULL, 0, NULL},
};
