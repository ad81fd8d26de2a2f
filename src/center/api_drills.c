/* api_drills.c - reachability drills (docs/incidents.md):
 *
 *   POST /api/v1/drills              coordinator {"title","deadline","contacts":"all" |
 *                                    {"members":[...],"orgs":[...]}}
 *   GET  /api/v1/drills              coordinator: all; a contact: its drills and answer
 *   POST /api/v1/drills/{id}/answer  a user of a contact point, once, before the deadline
 *   GET  /api/v1/drills/{id}/report  coordinator: who answered when, who did not
 * A wrong contact answers 403, a second or late answer 409 (the late attempt is kept
 * for the report); nothing is counted twice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "center/http.h"
#include "center/http_body.h"
#include "center/store_incidents.h"
#include "common/timefmt.h"
#include "common/banned.h"

static void store_error(struct cw_http_response *resp, int rc, const char *err)
{
    unsigned st = rc == CW_STORE_NOT_FOUND ? 404 : rc == CW_STORE_INVALID ? 400
                : rc == CW_STORE_BAD_TRANSITION ? 409 : rc == CW_STORE_DENIED ? 403 : 503;
    cw_http_json_error(resp, st, "%s", err);
}

/* Names or ids of members (orgs) in array `key` of contacts object t -> ids. */
static int refs(struct cw_center *c, struct cw_http_body *b, int t, const char *key, bool orgs,
                int64_t *ids, size_t *n, struct cw_http_response *resp)
{
    int a = cw_json_get(&b->j, t, key);
    *n = 0;
    if (a < 0)
        return 0;
    if (!cw_json_is(&b->j, a, JSMN_ARRAY) || b->j.tok[a].size > CW_DRILL_MAX_CONTACTS) {
        cw_http_json_error(resp, 400, "contacts.%s must be an array of at most %d names", key,
                           CW_DRILL_MAX_CONTACTS);
        return -1;
    }
    int k = a + 1;
    for (int i = 0; i < b->j.tok[a].size; i++) {
        const char *s;
        size_t l;
        char ref[128];
        int64_t v;
        if (cw_json_int(&b->j, k, &v) == 0 && v > 0) {
            snprintf(ref, sizeof(ref), "%lld", (long long)v);
        } else if (cw_json_str(&b->j, k, &b->arena, &s, &l) || l == 0 || l >= sizeof(ref)) {
            cw_http_json_error(resp, 400, "contacts.%s[%d] must be a name or id", key, i);
            return -1;
        } else {
            snprintf(ref, sizeof(ref), "%.*s", (int)l, s);
        }
        struct cw_member_info m;
        if (orgs ? cw_store_org_find(cw_center_store(c), ref, &ids[*n]) != 0
                 : cw_store_member_find(cw_center_store(c), ref, &m) != 0) {
            cw_http_json_error(resp, 404, "no such %s '%s'", orgs ? "organization" : "member",
                               ref);
            return -1;
        }
        if (!orgs)
            ids[*n] = m.id;
        (*n)++;
        k = cw_json_next(&b->j, k);
    }
    return 0;
}

static void drill_start(struct cw_center *c, struct cw_http_request *req,
                        struct cw_http_response *resp)
{
    struct cw_http_body b;
    const char *title, *deadline;
    int64_t *members = calloc(CW_DRILL_MAX_CONTACTS, sizeof(int64_t));
    int64_t *orgs = calloc(CW_DRILL_MAX_CONTACTS, sizeof(int64_t));
    size_t nm = 0, no = 0;
    bool all = false;
    char err[256];
    int64_t dl, id;
    if (!members || !orgs) {
        cw_http_json_error(resp, 503, "out of memory");
        free(members);
        free(orgs);
        return;
    }
    if (cw_http_body_parse(&b, req, resp) ||
        cw_http_body_str(&b, "title", CW_INC_TITLE_MAX, CW_FIELD_REQUIRED, &title, resp) ||
        cw_http_body_str(&b, "deadline", 40, CW_FIELD_REQUIRED, &deadline, resp))
        goto out;
    for (int k = 1, m = 0; m < b.j.tok[0].size; m++, k = cw_json_next(&b.j, k + 1))
        if (!cw_json_eq(&b.j, k, "title") && !cw_json_eq(&b.j, k, "deadline") &&
            !cw_json_eq(&b.j, k, "contacts")) {
            cw_http_json_error(resp, 400, "unknown field (title, deadline, contacts)");
            goto out;
        }
    if (cw_time_parse_iso(deadline, strlen(deadline), &dl) || dl <= cw_now_us() ||
        dl > cw_now_us() + 90LL * 86400 * 1000000) {
        cw_http_json_error(resp, 400, "deadline must be an ISO 8601 time in the next 90 days");
        goto out;
    }
    int t = cw_json_get(&b.j, 0, "contacts");
    if (t < 0 || (cw_json_is(&b.j, t, JSMN_STRING) && cw_json_eq(&b.j, t, "all"))) {
        all = true;
    } else if (!cw_json_is(&b.j, t, JSMN_OBJECT)) {
        cw_http_json_error(resp, 400, "contacts must be \"all\" or {\"members\":[...],"
                                      "\"orgs\":[...]}");
        goto out;
    } else if (refs(c, &b, t, "members", false, members, &nm, resp) ||
               refs(c, &b, t, "orgs", true, orgs, &no, resp)) {
        goto out;
    } else if (nm + no == 0) {
        cw_http_json_error(resp, 400, "a drill needs at least one contact point");
        goto out;
    }
    int rc = cw_store_drill_start(cw_center_store(c), title, dl, members, nm, orgs, no, all,
                                  req->who.name, &id, err, sizeof(err));
    if (rc) {
        store_error(resp, rc, err);
        goto out;
    }
    resp->status = 201;
    if (cw_store_drill_report_json(cw_center_store(c), id, cw_now_us(), &resp->body, err,
                                   sizeof(err)))
        cw_buf_addf(&resp->body, "{\"id\":%lld}\n", (long long)id);
out:
    cw_http_body_release(&b);
    free(members);
    free(orgs);
}

static void drills_list(struct cw_center *c, struct cw_http_request *req,
                        struct cw_http_response *resp)
{
    char err[256];
    int rc = cw_store_drills_json(cw_center_store(c), &req->who, &resp->body, err, sizeof(err));
    if (rc)
        store_error(resp, rc, err);
}

static void drill_answer(struct cw_center *c, struct cw_http_request *req,
                         struct cw_http_response *resp)
{
    char err[256], t[40];
    int64_t now = cw_now_us();
    int rc = cw_store_drill_answer(cw_center_store(c), &req->who,
                                   strtoll(req->path_arg, NULL, 10), now, err, sizeof(err));
    if (rc) {
        store_error(resp, rc, err);
        return;
    }
    cw_time_format_iso(now, t);
    cw_buf_addf(&resp->body, "{\"drill\":%s,\"answered\":\"%s\"}\n", req->path_arg, t);
}

static void drill_report(struct cw_center *c, struct cw_http_request *req,
                         struct cw_http_response *resp)
{
    char err[256];
    int rc = cw_store_drill_report_json(cw_center_store(c), strtoll(req->path_arg, NULL, 10),
                                        cw_now_us(), &resp->body, err, sizeof(err));
    if (rc)
        store_error(resp, rc, err);
}

const struct cw_route cw_api_drills_routes[] = {
    {"POST", "/api/v1/drills", CW_ACCESS_COORD, drill_start},
    {"GET", "/api/v1/drills", CW_ACCESS_ORG, drills_list},
    {"POST", "/api/v1/drills/{id}/answer", CW_ACCESS_ORG, drill_answer},
    {"GET", "/api/v1/drills/{id}/report", CW_ACCESS_COORD, drill_report},
    {NULL, NULL, 0, NULL},
};
