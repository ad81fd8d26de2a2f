/* api_iocs.c - indicators: add (with the guard), list, show, publish, revoke, and the
 * RPZ feed that `crosswatch dns` instances long-poll (docs/indicators.md).
 * Import and export live in api_ioc_io.c, samples in api_samples.c, TAXII in
 * api_taxii.c. */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "center/http.h"
#include "center/ioc_hub.h"
#include "center/store_iocs.h"
#include "common/json.h"
#include "common/timefmt.h"
#include "common/utf8.h"
#include "common/banned.h"

#define MAX_ITEMS 10000
#define FEED_WAIT_MAX 60

/* -- reading one indicator object ----------------------------------------------- */

static int json_text(const struct cw_json *j, int t, char *out, size_t cap)
{
    if (t < 0 || !cw_json_is(j, t, JSMN_STRING))
        return -1;
    size_t n = (size_t)(j->tok[t].end - j->tok[t].start);
    if (n >= cap)
        return -1;
    long m = cw_json_unescape(j->src + j->tok[t].start, n, out);
    if (m < 0 || !cw_utf8_valid(out, (size_t)m))
        return -1;
    out[m] = '\0';
    for (long i = 0; i < m; i++)
        if ((unsigned char)out[i] < 0x20 && out[i] != '\n' && out[i] != '\t')
            return -1;
    return 0;
}

static int json_time(const struct cw_json *j, int obj, const char *key, int64_t *out,
                     const char **why)
{
    int t = cw_json_get(j, obj, key);
    *out = 0;
    if (t < 0 || cw_json_is_null(j, t))
        return 0;
    char buf[64];
    if (json_text(j, t, buf, sizeof(buf)) || cw_time_parse_iso(buf, strlen(buf), out)) {
        *why = "times must be ISO 8601 strings";
        return -1;
    }
    return 0;
}

static bool json_true(const struct cw_json *j, int obj, const char *key)
{
    int t = cw_json_get(j, obj, key);
    return t >= 0 && cw_json_eq(j, t, "true");
}

/* Fill r from the indicator object at obj; NULL or the reason it is refused. */
static const char *read_item(const struct cw_json *j, int obj, const struct cw_principal *who,
                             struct cw_ioc_row *r)
{
    char value[CW_IOC_VALUE_MAX], buf[64];
    const char *why = NULL;
    memset(r, 0, sizeof(*r));
    if (!cw_json_is(j, obj, JSMN_OBJECT))
        return "an indicator must be a JSON object";
    if (json_text(j, cw_json_get(j, obj, "value"), value, sizeof(value)))
        return "missing or invalid 'value'";
    int t = cw_json_get(j, obj, "type");
    if (t >= 0) {
        if (json_text(j, t, buf, sizeof(buf)) ||
            (r->type = cw_ioc_type_from_name(buf)) == CW_IOC_NONE)
            return "unknown 'type' (domain, hostname, url, ipv4, ipv6, cidr, email, md5, "
                   "sha1, sha256, ja3, ja4, user-agent)";
    } else if ((r->type = cw_ioc_guess(value, strlen(value))) == CW_IOC_NONE) {
        return "no 'type' given and the value looks like no indicator type";
    }
    static _Thread_local char nerr[256];
    if (cw_ioc_normalize(r->type, value, strlen(value), r->value, sizeof(r->value), nerr,
                         sizeof(nerr)))
        return nerr;
    r->tlp = CW_TLP_AMBER;
    if ((t = cw_json_get(j, obj, "tlp")) >= 0 &&
        (json_text(j, t, buf, sizeof(buf)) || cw_tlp_from_name(buf, &r->tlp)))
        return "unknown 'tlp' (CLEAR, GREEN, AMBER, AMBER+STRICT, RED)";
    r->confidence = 50;
    if ((t = cw_json_get(j, obj, "confidence")) >= 0) {
        int64_t c;
        if (cw_json_int(j, t, &c) || c < 0 || c > 100)
            return "'confidence' must be an integer 0..100";
        r->confidence = (int)c;
    }
    if ((t = cw_json_get(j, obj, "description")) >= 0 &&
        json_text(j, t, r->description, sizeof(r->description)))
        return "'description' must be a string of at most 2000 bytes";
    r->source = CW_IOC_SRC_ANALYST;
    if ((t = cw_json_get(j, obj, "source")) >= 0) {
        if (json_text(j, t, buf, sizeof(buf)) ||
            (strcmp(buf, "analyst") != 0 && strcmp(buf, "feed") != 0))
            return "'source' must be analyst or feed";
        r->source = buf[0] == 'f' ? CW_IOC_SRC_FEED : CW_IOC_SRC_ANALYST;
    }
    if ((t = cw_json_get(j, obj, "source_name")) >= 0 &&
        json_text(j, t, r->source_name, sizeof(r->source_name)))
        return "'source_name' must be a string of at most 127 bytes";
    if ((t = cw_json_get(j, obj, "audience")) >= 0 && !cw_json_eq(j, t, "\"all\"") &&
        !(cw_json_is(j, t, JSMN_STRING) && json_text(j, t, buf, sizeof(buf)) == 0 &&
          strcmp(buf, "all") == 0)) {
        if (!cw_json_is(j, t, JSMN_ARRAY) || j->tok[t].size < 1 ||
            j->tok[t].size > CW_IOC_AUDIENCE_MAX)
            return "'audience' must be \"all\" or an array of 1..32 member ids";
        for (int i = t + 1, k = 0; k < j->tok[t].size; k++, i = cw_json_next(j, i)) {
            int64_t m;
            if (cw_json_int(j, i, &m) || m <= 0 || m > UINT32_MAX)
                return "'audience' must hold member ids";
            r->audience[r->naudience++] = (uint32_t)m;
        }
    }
    if (json_time(j, obj, "first_seen", &r->first_seen_us, &why) ||
        json_time(j, obj, "last_seen", &r->last_seen_us, &why) ||
        json_time(j, obj, "valid_until", &r->valid_until_us, &why))
        return why;
    snprintf(r->created_by, sizeof(r->created_by), "%s", who->name);
    return NULL;
}

/* -- POST /api/v1/indicators ---------------------------------------------------- */

struct add_ctx {
    struct cw_center *c;
    struct cw_http_request *req;
    bool publish, force;
    struct cw_buf added, refused;
    int nadded, nrefused;
};

static void refuse(struct add_ctx *a, int index, const char *value, const char *reason)
{
    cw_buf_addf(&a->refused, "%s{\"index\":%d,\"value\":", a->nrefused++ ? "," : "", index);
    cw_buf_add_json_str(&a->refused, value, strlen(value));
    cw_buf_adds(&a->refused, ",\"reason\":");
    cw_buf_add_json_str(&a->refused, reason, strlen(reason));
    cw_buf_addc(&a->refused, '}');
}

static void add_one(struct add_ctx *a, const struct cw_json *j, int obj, int index)
{
    struct cw_ioc_hub *h = cw_center_ioc_hub(a->c);
    struct cw_ioc_row *r = malloc(sizeof(*r));
    if (!r) {
        refuse(a, index, "", "out of memory");
        return;
    }
    const char *why = read_item(j, obj, &a->req->who, r);
    char gbuf[512], err[256];
    bool force = a->force || json_true(j, obj, "force");
    bool publish = a->publish || json_true(j, obj, "publish");
    if (!why && !force)
        why = cw_ioc_guard_check(cw_ioc_hub_guard(h), r->type, r->value, gbuf, sizeof(gbuf));
    if (why) {
        int vt = cw_json_get(j, obj, "value");
        size_t vn = 0;
        const char *v = vt >= 0 ? cw_json_raw(j, vt, &vn) : "";
        char shown[256];
        snprintf(shown, sizeof(shown), "%.*s", (int)(vn < 200 ? vn : 200), v);
        refuse(a, index, shown, why);
        free(r);
        return;
    }
    int64_t id = 0;
    bool created = false;
    int rc = cw_store_ioc_upsert(cw_center_store(a->c), r, &id, &created, r, err, sizeof(err));
    if (rc == 0 && publish && r->state != CW_IOC_PUBLISHED)
        rc = cw_ioc_hub_set_state(h, id, CW_IOC_PUBLISHED, a->req->who.name, r, err,
                                  sizeof(err));
    if (rc) {
        refuse(a, index, r->value, err);
    } else {
        cw_buf_addf(&a->added, "%s{\"id\":%lld,\"type\":\"%s\",\"value\":", a->nadded++ ? "," : "",
                    (long long)id, cw_ioc_type_name(r->type));
        cw_buf_add_json_str(&a->added, r->value, strlen(r->value));
        cw_buf_addf(&a->added, ",\"created\":%s,\"state\":\"%s\",\"tlp\":\"%s\"}",
                    created ? "true" : "false", cw_ioc_state_name(r->state), cw_tlp_name(r->tlp));
    }
    free(r);
}

static void indicators_add(struct cw_center *c, struct cw_http_request *req,
                           struct cw_http_response *resp)
{
    size_t len = req->body.len;
    int maxtok = (int)(len / 2 + 16 < 400000 ? len / 2 + 16 : 400000);
    jsmntok_t *tok = malloc((size_t)maxtok * sizeof(*tok));
    struct cw_json j;
    const char *jerr = "out of memory";
    if (!tok || cw_json_parse(&j, req->body.data ? req->body.data : "", len, tok, maxtok, &jerr) ||
        !cw_json_is(&j, 0, JSMN_OBJECT)) {
        cw_http_json_error(resp, tok ? 400 : 503, "body must be a JSON object: %s",
                           tok ? jerr : "out of memory");
        free(tok);
        return;
    }
    struct add_ctx a = {c, req, json_true(&j, 0, "publish"), json_true(&j, 0, "force"),
                        CW_BUF_INIT, CW_BUF_INIT, 0, 0};
    int list = cw_json_get(&j, 0, "indicators");
    if (list >= 0) {
        if (!cw_json_is(&j, list, JSMN_ARRAY) || j.tok[list].size > MAX_ITEMS) {
            cw_http_json_error(resp, 400, "'indicators' must be an array of at most %d objects",
                               MAX_ITEMS);
            free(tok);
            return;
        }
        for (int i = list + 1, k = 0; k < j.tok[list].size; k++, i = cw_json_next(&j, i))
            add_one(&a, &j, i, k);
    } else {
        add_one(&a, &j, 0, 0);
    }
    free(tok);
    resp->status = a.nadded ? 200 : 422;
    cw_buf_adds(&resp->body, "{\"added\":[");
    cw_buf_add(&resp->body, a.added.data, a.added.len);
    cw_buf_adds(&resp->body, "],\"refused\":[");
    cw_buf_add(&resp->body, a.refused.data, a.refused.len);
    cw_buf_adds(&resp->body, "]}\n");
    cw_buf_release(&a.added);
    cw_buf_release(&a.refused);
}

/* -- listing, one, state changes ---------------------------------------------------- */

static void indicators_list(struct cw_center *c, struct cw_http_request *req,
                            struct cw_http_response *resp)
{
    struct cw_ioc_filter f = {.scope = req->scope, .state = -1};
    const char *type = cw_http_query(req, "type"), *state = cw_http_query(req, "state");
    const char *since = cw_http_query(req, "since");
    if (type && (f.type = cw_ioc_type_from_name(type)) == CW_IOC_NONE) {
        cw_http_json_error(resp, 400, "unknown type '%s'", type);
        return;
    }
    if (state && (f.state = cw_ioc_state_from_name(state)) < 0) {
        cw_http_json_error(resp, 400, "state must be candidate, published, revoked or expired");
        return;
    }
    if (since && cw_time_parse_iso(since, strlen(since), &f.since_us)) {
        cw_http_json_error(resp, 400, "since must be an ISO 8601 time");
        return;
    }
    f.q = cw_http_query(req, "q");
    int64_t after, limit;
    if (cw_http_query_int(req, resp, "after", 0, INT64_MAX, 0, &after) ||
        cw_http_query_int(req, resp, "limit", 1, 1000, 100, &limit))
        return;
    f.after_id = after;
    f.limit = (int)limit;
    char err[256];
    if (cw_store_iocs_json(cw_center_store(c), &f, &resp->body, err, sizeof(err)))
        cw_http_json_error(resp, 500, "%s", err);
}

static void indicator_get(struct cw_center *c, struct cw_http_request *req,
                          struct cw_http_response *resp)
{
    char err[256];
    int rc = cw_store_ioc_json(cw_center_store(c), strtoll(req->path_arg, NULL, 10), req->scope,
                               &resp->body, err, sizeof(err));
    if (rc)
        cw_http_json_error(resp, rc == CW_STORE_NOT_FOUND ? 404 : 500, "%s", err);
}

static void set_state(struct cw_center *c, struct cw_http_request *req,
                      struct cw_http_response *resp, enum cw_ioc_state to)
{
    struct cw_ioc_row *r = malloc(sizeof(*r));
    char err[256];
    if (!r) {
        cw_http_json_error(resp, 503, "out of memory");
        return;
    }
    int rc = cw_ioc_hub_set_state(cw_center_ioc_hub(c), strtoll(req->path_arg, NULL, 10), to,
                                  req->who.name, r, err, sizeof(err));
    if (rc == 0) {
        cw_ioc_row_json(r, 0, &resp->body);
        cw_buf_addc(&resp->body, '\n');
    } else {
        cw_http_json_error(resp, rc == CW_STORE_NOT_FOUND ? 404
                                 : rc == CW_STORE_BAD_TRANSITION ? 409 : 500, "%s", err);
    }
    free(r);
}

static void indicator_publish(struct cw_center *c, struct cw_http_request *req,
                              struct cw_http_response *resp)
{
    set_state(c, req, resp, CW_IOC_PUBLISHED);
}

static void indicator_revoke(struct cw_center *c, struct cw_http_request *req,
                             struct cw_http_response *resp)
{
    set_state(c, req, resp, CW_IOC_REVOKED);
}

/* -- GET /api/v1/rpz/feed ------------------------------------------------------------ */

static void feed_answer(struct cw_center *c, struct cw_http_response *resp, int64_t since)
{
    struct cw_store *s = cw_center_store(c);
    int64_t cur = cw_ioc_hub_serial(cw_center_ioc_hub(c)), serial = since;
    /* since 0, or ahead of us (a center whose store was replaced): the whole policy */
    bool full = since == 0 || since > cur;
    struct cw_buf rules = CW_BUF_INIT;
    char err[256];
    int rc = full ? cw_store_ioc_policy_json(s, &rules, &serial, err, sizeof(err))
                  : cw_store_ioc_changes_json(s, since, &rules, &serial, err, sizeof(err));
    if (rc || !cw_buf_ok(&rules)) {
        cw_http_json_error(resp, 500, "%s", rc ? err : "out of memory");
    } else {
        cw_buf_addf(&resp->body,
                    "{\"zone\":\"crosswatch-indicators\",\"serial\":%lld,\"full\":%s,\"rules\":[",
                    (long long)serial, full ? "true" : "false");
        cw_buf_add(&resp->body, rules.data, rules.len);
        cw_buf_adds(&resp->body, "]}\n");
    }
    cw_buf_release(&rules);
}

static void rpz_feed(struct cw_center *c, struct cw_http_request *req,
                     struct cw_http_response *resp)
{
    int64_t since, wait;
    if (cw_http_query_int(req, resp, "since", 0, INT64_MAX, 0, &since) ||
        cw_http_query_int(req, resp, "wait", 0, FEED_WAIT_MAX, 0, &wait))
        return;
    struct cw_ioc_hub *h = cw_center_ioc_hub(c);
    if (since && since == cw_ioc_hub_serial(h) && wait > 0) {
        int64_t now = cw_monotonic_ms();
        if (!req->handler_state) /* first call; a resumed one keeps its deadline */
            req->handler_state = now + wait * 1000;
        if (now < req->handler_state &&
            cw_ioc_hub_wait(h, req->conn, since, req->handler_state)) {
            resp->suspended = true;
            return;
        }
    }
    feed_answer(c, resp, since);
}

const struct cw_route cw_api_iocs_routes[] = {
    {"POST", "/api/v1/indicators", CW_ACCESS_COORD, indicators_add},
    {"GET", "/api/v1/indicators", CW_ACCESS_USER, indicators_list},
    {"GET", "/api/v1/indicators/{id}", CW_ACCESS_USER, indicator_get},
    {"POST", "/api/v1/indicators/{id}/publish", CW_ACCESS_COORD, indicator_publish},
    {"POST", "/api/v1/indicators/{id}/revoke", CW_ACCESS_COORD, indicator_revoke},
    {"GET", "/api/v1/rpz/feed", CW_ACCESS_FEED, rpz_feed},
    {NULL, NULL, 0, NULL},
};
