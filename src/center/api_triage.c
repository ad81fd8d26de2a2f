/* api_triage.c - events, detections, noise, campaigns, assets, suppressions.
 *
 * Coordinator endpoints (admin token for now; per-member scoping of users arrives
 * with roles). Every id in a URL is checked by the store: unknown ids are 404. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "center/http.h"
#include "center/http_body.h"
#include "center/store.h"
#include "center/store_web.h"
#include "common/json.h"
#include "common/timefmt.h"
#include "detect/attack.h"
#include "triage/triage.h"
#include "common/banned.h"

/* ?member=REF narrowed by the caller's scope (a member user sees only its own). */
static int member_param(struct cw_center *c, struct cw_http_request *req,
                        struct cw_http_response *resp, uint32_t *id)
{
    const char *ref = cw_http_query(req, "member");
    uint32_t wanted = 0;
    if (ref) {
        struct cw_member_info m;
        if (cw_store_member_find(cw_center_store(c), ref, &m) != 0) {
            cw_http_json_error(resp, 404, "no such member");
            return -1;
        }
        wanted = m.id;
    }
    return cw_http_scope(req, resp, wanted, id);
}

static void events_list(struct cw_center *c, struct cw_http_request *req,
                        struct cw_http_response *resp)
{
    struct cw_event_filter f = {.attack_class = -1, .limit = 100};
    int64_t after, limit, sev;
    if (member_param(c, req, resp, &f.member_id) ||
        cw_http_query_int(req, resp, "after", 0, INT64_MAX, 0, &after) ||
        cw_http_query_int(req, resp, "limit", 1, 1000, 100, &limit) ||
        cw_http_query_int(req, resp, "severity", 1, 5, 0, &sev))
        return;
    f.after_id = after;
    f.limit = (int)limit;
    f.max_severity = (int)sev;
    /* the watch floor's filters (docs/web.md) */
    const char *order = cw_http_query(req, "order"), *since = cw_http_query(req, "since"),
               *until = cw_http_query(req, "until");
    f.newest = order && !strcmp(order, "newest");
    f.q = cw_http_query(req, "q");
    if ((order && !f.newest && strcmp(order, "oldest")) ||
        (since && cw_time_parse_iso(since, strlen(since), &f.since_us)) ||
        (until && cw_time_parse_iso(until, strlen(until), &f.until_us)) ||
        (f.q && (!*f.q || strlen(f.q) > 200))) {
        cw_http_json_error(resp, 400, "order must be newest or oldest, since/until ISO 8601 "
                                      "times, q 1..200 bytes");
        return;
    }
    const char *cls = cw_http_query(req, "class");
    if (!cls)
        cls = cw_http_query(req, "attack_class");
    if (cls) {
        enum cw_attack_class ac = cw_attack_class_from_name(cls, strlen(cls));
        if (ac == CW_AC__COUNT) {
            cw_http_json_error(resp, 400, "unknown attack class '%s'", cls);
            return;
        }
        f.attack_class = ac;
    }
    f.state = cw_http_query(req, "state");
    if (f.state && !strcmp(f.state, "open")) {
        f.state = NULL;
        f.open_only = true;
    }
    char err[256];
    if (cw_store_events_json(cw_center_store(c), &f, &resp->body, err, sizeof(err)))
        cw_http_json_error(resp, 503, "%s", err);
}

static void event_show(struct cw_center *c, struct cw_http_request *req,
                       struct cw_http_response *resp)
{
    char err[256];
    int64_t id = strtoll(req->path_arg, NULL, 10), det_after, det_limit;
    if (cw_http_query_int(req, resp, "det_after", 0, INT64_MAX, 0, &det_after) ||
        cw_http_query_int(req, resp, "det_limit", 1, 1000, 50, &det_limit))
        return;
    int r = cw_store_event_json(cw_center_store(c), id, req->scope, &resp->body, err,
                                sizeof(err));
    if (r == CW_STORE_NOT_FOUND)
        cw_http_json_error(resp, 404, "no event %lld", (long long)id);
    else if (r)
        cw_http_json_error(resp, 503, "%s", err);
    else if (resp->body.len >= 2) {
        /* the event page's paged detections and timeline (docs/web.md) */
        resp->body.len -= 2; /* reopen the object: "}\n" */
        if (cw_store_event_extras(cw_center_store(c), id, det_after, (int)det_limit,
                                  &resp->body, err, sizeof(err)))
            cw_http_json_error(resp, 503, "%s", err);
        else
            cw_buf_adds(&resp->body, "}\n");
    }
}

/* The answer to an analyst's change of an event: the store's result mapped to a
 * status (404 unknown event, 409 change not allowed, 400 bad value, 503 storage),
 * else the event `show` as it is now, with status ok_status. */
static void event_changed(struct cw_center *c, struct cw_http_response *resp, int r,
                          int64_t show, unsigned ok_status, const char *err)
{
    char err2[256];
    if (r == CW_STORE_NOT_FOUND)
        cw_http_json_error(resp, 404, "no such event");
    else if (r == CW_STORE_BAD_TRANSITION)
        cw_http_json_error(resp, 409, "%s", err);
    else if (r == CW_STORE_INVALID)
        cw_http_json_error(resp, 400, "%s", err);
    else if (r)
        cw_http_json_error(resp, 503, "%s", err);
    else {
        resp->status = ok_status;
        cw_store_event_json(cw_center_store(c), show, 0, &resp->body, err2, sizeof(err2));
    }
}

static void event_state(struct cw_center *c, struct cw_http_request *req,
                        struct cw_http_response *resp)
{
    struct cw_http_body b;
    const char *state, *reason;
    char err[512];
    int64_t id = strtoll(req->path_arg, NULL, 10);
    if (cw_http_body_parse(&b, req, resp) == 0 &&
        cw_http_body_str(&b, "state", 32, CW_FIELD_REQUIRED, &state, resp) == 0 &&
        cw_http_body_str(&b, "reason", 2000, CW_FIELD_MULTILINE, &reason, resp) == 0) {
        int r = cw_store_event_set_state(cw_center_store(c), cw_center_triage(c), id, state,
                                         req->who.name, reason, err, sizeof(err));
        event_changed(c, resp, r, id, 200, err);
    }
    cw_http_body_release(&b);
}

static void event_assign(struct cw_center *c, struct cw_http_request *req,
                         struct cw_http_response *resp)
{
    struct cw_http_body b;
    const char *who;
    char err[512];
    int64_t id = strtoll(req->path_arg, NULL, 10);
    if (cw_http_body_parse(&b, req, resp) == 0) {
        int t = cw_json_get(&b.j, 0, "assignee");
        if (t >= 0 && cw_json_is(&b.j, t, JSMN_STRING) && b.j.tok[t].end == b.j.tok[t].start)
            who = ""; /* "" unassigns */
        else if (cw_http_body_str(&b, "assignee", 100, CW_FIELD_REQUIRED, &who, resp))
            goto out;
        int r = cw_store_event_assign(cw_center_store(c), id, who, req->who.name, err,
                                      sizeof(err));
        event_changed(c, resp, r, id, 200, err);
    }
out:
    cw_http_body_release(&b);
}

static void event_merge(struct cw_center *c, struct cw_http_request *req,
                        struct cw_http_response *resp)
{
    struct cw_http_body b;
    const char *into;
    char err[512];
    int64_t id = strtoll(req->path_arg, NULL, 10);
    if (cw_http_body_parse(&b, req, resp) == 0 &&
        cw_http_body_str(&b, "into", 20, CW_FIELD_REQUIRED | CW_FIELD_ALLOW_ID, &into, resp) == 0) {
        char *end;
        long long to = strtoll(into, &end, 10);
        int r = *end || to <= 0 ? CW_STORE_NOT_FOUND
                                : cw_store_event_merge(cw_center_store(c), cw_center_triage(c),
                                                       id, to, req->who.name, err, sizeof(err));
        event_changed(c, resp, r, to, 200, err);
    }
    cw_http_body_release(&b);
}

/* {"sources":["203.0.113.7", ...]}: those sources' detections become a new event */
static void event_split(struct cw_center *c, struct cw_http_request *req,
                        struct cw_http_response *resp)
{
    struct cw_http_body b;
    char err[512];
    const char *srcs[64];
    size_t n = 0;
    int64_t id = strtoll(req->path_arg, NULL, 10);
    if (cw_http_body_parse(&b, req, resp))
        goto out;
    int arr = cw_json_get(&b.j, 0, "sources");
    if (!cw_json_is(&b.j, arr, JSMN_ARRAY) || b.j.tok[arr].size < 1 ||
        b.j.tok[arr].size > 64) {
        cw_http_json_error(resp, 400, "sources must be an array of 1 to 64 addresses");
        goto out;
    }
    for (int k = arr + 1, i = 0; i < b.j.tok[arr].size; i++, k = cw_json_next(&b.j, k)) {
        const char *v;
        size_t vn;
        struct cw_ip ip;
        char canon[64];
        if (cw_json_str(&b.j, k, &b.arena, &v, &vn) || cw_ip_parse(&ip, v, vn)) {
            cw_http_json_error(resp, 400, "sources[%d] is not an IP address", i);
            goto out;
        }
        cw_ip_format(&ip, canon); /* the form records are stored in */
        srcs[n++] = cw_arena_strndup(&b.arena, canon, strlen(canon));
    }
    int64_t nid = 0;
    int r = cw_store_event_split(cw_center_store(c), cw_center_triage(c), id, srcs, n,
                                 req->who.name, &nid, err, sizeof(err));
    event_changed(c, resp, r, nid, 201, err);
out:
    cw_http_body_release(&b);
}

/* GET /api/v1/rules: the loaded Sigma rules, skipped files with reasons, and how
 * often each rule fired per verdict. */
static void rules_list(struct cw_center *c, struct cw_http_request *req,
                       struct cw_http_response *resp)
{
    (void)req;
    char err[256];
    if (cw_triage_rules_json(cw_center_triage(c), &resp->body)) {
        cw_http_json_error(resp, 503, "out of memory");
        return;
    }
    resp->body.len--; /* reopen the object for the hit counts */
    if (cw_store_rule_hits_json(cw_center_store(c), &resp->body, err, sizeof(err))) {
        cw_http_json_error(resp, 503, "%s", err);
        return;
    }
    cw_buf_adds(&resp->body, "}\n");
}

static void rules_reload(struct cw_center *c, struct cw_http_request *req,
                         struct cw_http_response *resp)
{
    (void)req;
    char err[512];
    if (cw_triage_reload_rules(cw_center_triage(c), err, sizeof(err))) {
        cw_http_json_error(resp, 409, "rules not reloaded (the old set stays): %s", err);
        return;
    }
    cw_buf_adds(&resp->body, "{\"reloaded\":true}\n");
}

static void noise(struct cw_center *c, struct cw_http_request *req,
                  struct cw_http_response *resp)
{
    uint32_t m;
    char err[256];
    if (member_param(c, req, resp, &m))
        return;
    if (cw_store_noise_json(cw_center_store(c), m, &resp->body, err, sizeof(err)))
        cw_http_json_error(resp, 503, "%s", err);
}

static void detections(struct cw_center *c, struct cw_http_request *req,
                       struct cw_http_response *resp)
{
    uint32_t m;
    int64_t ev, limit;
    char err[256];
    if (member_param(c, req, resp, &m) ||
        cw_http_query_int(req, resp, "event", 1, INT64_MAX, 0, &ev) ||
        cw_http_query_int(req, resp, "limit", 1, 1000, 100, &limit))
        return;
    const char *reason = cw_http_query(req, "noise");
    if (reason) {
        bool ok = false;
        for (int k = 0; k < CW_NOISE__COUNT; k++)
            ok |= !strcmp(reason, cw_noise_reason_name((enum cw_noise_reason)k));
        if (!ok) {
            cw_http_json_error(resp, 400, "unknown noise reason '%s'", reason);
            return;
        }
    }
    if (cw_store_detections_json(cw_center_store(c), m, ev, reason, (int)limit, &resp->body, err,
                                 sizeof(err)))
        cw_http_json_error(resp, 503, "%s", err);
}

static void campaigns(struct cw_center *c, struct cw_http_request *req,
                      struct cw_http_response *resp)
{
    (void)req;
    char err[256];
    if (cw_store_campaigns_json(cw_center_store(c), &resp->body, err, sizeof(err)))
        cw_http_json_error(resp, 503, "%s", err);
}

/* "member" of a JSON body, narrowed by the caller's scope: a member admin may name
 * only its own member (or none: then its own). */
static int member_field(struct cw_center *c, struct cw_http_request *req,
                        struct cw_http_body *b, uint32_t *id, bool required,
                        struct cw_http_response *resp)
{
    const char *ref;
    uint32_t wanted = 0;
    unsigned fl = CW_FIELD_ALLOW_ID | (required && req->scope == 0 ? CW_FIELD_REQUIRED : 0);
    if (cw_http_body_str(b, "member", 100, fl, &ref, resp))
        return -1;
    if (ref) {
        struct cw_member_info m;
        if (cw_store_member_find(cw_center_store(c), ref, &m) != 0) {
            cw_http_json_error(resp, 404, "no such member");
            return -1;
        }
        wanted = m.id;
    }
    return cw_http_scope(req, resp, wanted, id);
}

static void reload_knowledge(struct cw_center *c)
{
    char err[256];
    cw_store_knowledge_load(cw_center_store(c), cw_center_triage(c), err, sizeof(err));
}

static void assets_add(struct cw_center *c, struct cw_http_request *req,
                       struct cw_http_response *resp)
{
    struct cw_http_body b;
    struct cw_asset a;
    const char *addr, *host, *products;
    char err[256];
    memset(&a, 0, sizeof(a));
    if (cw_http_body_parse(&b, req, resp) == 0 &&
        member_field(c, req, &b, &a.member_id, true, resp) == 0 &&
        cw_http_body_str(&b, "address", 45, 0, &addr, resp) == 0 &&
        cw_http_body_str(&b, "host", sizeof(a.host) - 1, 0, &host, resp) == 0 &&
        cw_http_body_str(&b, "products", sizeof(a.products) - 1, CW_FIELD_REQUIRED, &products,
                         resp) == 0) {
        if (!addr && !host) {
            cw_http_json_error(resp, 400, "an asset needs an address or a host");
        } else if (addr && cw_ip_parse(&a.addr, addr, strlen(addr))) {
            cw_http_json_error(resp, 400, "address '%s' is not an IP address", addr);
        } else {
            snprintf(a.host, sizeof(a.host), "%s", host ? host : "");
            snprintf(a.products, sizeof(a.products), "%s", products);
            int64_t id;
            if (cw_store_asset_add(cw_center_store(c), &a, &id, err, sizeof(err))) {
                cw_http_json_error(resp, 503, "%s", err);
            } else {
                reload_knowledge(c);
                resp->status = 201;
                cw_buf_addf(&resp->body, "{\"id\":%lld}\n", (long long)id);
            }
        }
    }
    cw_http_body_release(&b);
}

static void assets_list(struct cw_center *c, struct cw_http_request *req,
                        struct cw_http_response *resp)
{
    (void)req;
    char err[256];
    if (cw_store_assets_json(cw_center_store(c), req->scope, &resp->body, err, sizeof(err)))
        cw_http_json_error(resp, 503, "%s", err);
}

static void suppressions_add(struct cw_center *c, struct cw_http_request *req,
                             struct cw_http_response *resp)
{
    struct cw_http_body b;
    struct cw_suppression sp;
    const char *cls, *rule, *src, *owner, *reason, *expires;
    char err[256];
    memset(&sp, 0, sizeof(sp));
    sp.attack_class = CW_AC__COUNT;
    if (cw_http_body_parse(&b, req, resp) ||
        member_field(c, req, &b, &sp.member_id, false, resp) ||
        cw_http_body_str(&b, "class", 32, 0, &cls, resp) ||
        cw_http_body_str(&b, "rule_id", sizeof(sp.rule_id) - 1, 0, &rule, resp) ||
        cw_http_body_str(&b, "source", 50, 0, &src, resp) ||
        cw_http_body_str(&b, "owner", 100, CW_FIELD_REQUIRED, &owner, resp) ||
        cw_http_body_str(&b, "reason", 2000, CW_FIELD_REQUIRED | CW_FIELD_MULTILINE, &reason,
                         resp) ||
        cw_http_body_str(&b, "expires", 40, CW_FIELD_REQUIRED, &expires, resp))
        goto out;
    if (cls) {
        enum cw_attack_class ac = cw_attack_class_from_name(cls, strlen(cls));
        if (ac == CW_AC__COUNT) {
            cw_http_json_error(resp, 400, "unknown attack class '%s'", cls);
            goto out;
        }
        sp.attack_class = (uint8_t)ac;
    }
    if (rule)
        snprintf(sp.rule_id, sizeof(sp.rule_id), "%s", rule);
    if (src) {
        const char *slash = strchr(src, '/');
        size_t n = slash ? (size_t)(slash - src) : strlen(src);
        if (cw_ip_parse(&sp.net, src, n)) {
            cw_http_json_error(resp, 400, "source must be an address or CIDR");
            goto out;
        }
        unsigned max = sp.net.family == 4 ? 32 : 128;
        long p = slash ? strtol(slash + 1, NULL, 10) : (long)max;
        if (p < 0 || p > (long)max) {
            cw_http_json_error(resp, 400, "bad prefix length in source");
            goto out;
        }
        sp.prefix = (uint8_t)p;
    }
    if (cw_time_parse_iso(expires, strlen(expires), &sp.expires_us)) {
        cw_http_json_error(resp, 400, "expires must be an ISO 8601 time (every suppression "
                                      "expires)");
        goto out;
    }
    if (sp.attack_class == CW_AC__COUNT && !sp.rule_id[0] && !sp.net.family) {
        cw_http_json_error(resp, 400, "a suppression needs a scope: class, rule_id or source");
        goto out;
    }
    int64_t id;
    if (cw_store_suppression_add(cw_center_store(c), &sp, owner, reason, &id, err,
                                 sizeof(err))) {
        cw_http_json_error(resp, 503, "%s", err);
        goto out;
    }
    reload_knowledge(c);
    resp->status = 201;
    cw_buf_addf(&resp->body, "{\"id\":%lld}\n", (long long)id);
out:
    cw_http_body_release(&b);
}

static void suppressions_list(struct cw_center *c, struct cw_http_request *req,
                              struct cw_http_response *resp)
{
    (void)req;
    char err[256];
    if (cw_store_suppressions_json(cw_center_store(c), &resp->body, err, sizeof(err)))
        cw_http_json_error(resp, 503, "%s", err);
}

/* Reads are open to every signed-in person within their member scope; changing
 * triage state and cross-member views are for the coordinator. */
const struct cw_route cw_api_triage_routes[] = {
    {"GET", "/api/v1/events", CW_ACCESS_USER, events_list},
    {"GET", "/api/v1/events/{id}", CW_ACCESS_USER, event_show},
    {"POST", "/api/v1/events/{id}/state", CW_ACCESS_COORD, event_state},
    {"POST", "/api/v1/events/{id}/assign", CW_ACCESS_COORD, event_assign},
    {"POST", "/api/v1/events/{id}/merge", CW_ACCESS_COORD, event_merge},
    {"POST", "/api/v1/events/{id}/split", CW_ACCESS_COORD, event_split},
    {"GET", "/api/v1/detections", CW_ACCESS_USER, detections},
    {"GET", "/api/v1/noise", CW_ACCESS_USER, noise},
    {"GET", "/api/v1/campaigns", CW_ACCESS_COORD, campaigns},
    {"GET", "/api/v1/rules", CW_ACCESS_COORD, rules_list},
    {"POST", "/api/v1/rules/reload", CW_ACCESS_ADMIN, rules_reload},
    {"GET", "/api/v1/assets", CW_ACCESS_USER, assets_list},
    {"POST", "/api/v1/assets", CW_ACCESS_MEMBER_ADMIN, assets_add},
    {"GET", "/api/v1/suppressions", CW_ACCESS_COORD, suppressions_list},
    {"POST", "/api/v1/suppressions", CW_ACCESS_COORD, suppressions_add},
    {NULL, NULL, 0, NULL},
};
