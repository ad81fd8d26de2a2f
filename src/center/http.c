/* http.c - request dispatch: route, authenticate, authorise, limit, call handler. */
#include "center/http.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "center/web.h"
#include "common/log.h"
#include "common/banned.h"

static const struct cw_route *const route_tables[] = {
    cw_api_ingest_routes,
    cw_api_admin_routes,
    cw_api_triage_routes,
    cw_api_users_routes,
    cw_api_notices_routes,
    cw_api_iocs_routes,
    cw_api_ioc_io_routes,
    cw_api_samples_routes,
    cw_api_taxii_routes,
    cw_api_session_routes,
    cw_api_web_routes,
    cw_api_attachments_routes,
    cw_api_incidents_routes,
    cw_api_drills_routes,
    NULL,
};

void cw_http_routes_foreach(cw_route_visit_fn fn, void *ctx)
{
    for (size_t t = 0; route_tables[t]; t++)
        for (const struct cw_route *r = route_tables[t]; r->fn; r++)
            fn(ctx, r);
}

const char *cw_route_access_name(enum cw_route_access a)
{
    switch (a) {
    case CW_ACCESS_PUBLIC: return "public";
    case CW_ACCESS_SENSOR: return "sensor";
    case CW_ACCESS_ADMIN: return "coordinator_admin";
    case CW_ACCESS_COORD: return "coordinator";
    case CW_ACCESS_MEMBER_ADMIN: return "member_admin";
    case CW_ACCESS_USER: return "user";
    case CW_ACCESS_FEED: return "feed";
    case CW_ACCESS_ORG: return "organization";
    }
    return "?";
}

/* Match url (without query) against a pattern; {id} takes one run of digits,
 * {object_id} one STIX id ("indicator--<uuid>": letters, digits, '-'; TAXII). */
static bool route_match(const char *pattern, const char *url, char *arg, size_t argcap)
{
    const char *p = pattern, *u = url;
    arg[0] = '\0';
    while (*p) {
        if (strncmp(p, "{object_id}", 11) == 0) {
            size_t n = strspn(u, "abcdefghijklmnopqrstuvwxyz"
                                 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-");
            if (n == 0 || n >= argcap)
                return false;
            memcpy(arg, u, n);
            arg[n] = '\0';
            u += n;
            p += 11;
            continue;
        }
        if (strncmp(p, "{id}", 4) == 0) {
            size_t n = 0;
            while (u[n] >= '0' && u[n] <= '9')
                n++;
            if (n == 0 || n >= argcap || n > 10)
                return false;
            memcpy(arg, u, n);
            arg[n] = '\0';
            u += n;
            p += 4;
            continue;
        }
        if (*p != *u)
            return false;
        p++;
        u++;
    }
    return *u == '\0';
}

/* Finds the route; sets *path_known when the path exists with another method. */
static const struct cw_route *route_find(const char *method, const char *url, char *arg,
                                         size_t argcap, bool *path_known)
{
    *path_known = false;
    for (size_t t = 0; route_tables[t]; t++)
        for (const struct cw_route *r = route_tables[t]; r->fn; r++)
            if (route_match(r->pattern, url, arg, argcap)) {
                if (strcmp(r->method, method) == 0)
                    return r;
                *path_known = true;
            }
    return NULL;
}

void cw_http_json_error(struct cw_http_response *resp, unsigned status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    resp->status = status;
    resp->content_type = "application/json";
    cw_buf_clear(&resp->body);
    cw_buf_adds(&resp->body, "{\"error\":");
    cw_buf_add_json_str(&resp->body, msg, strlen(msg));
    cw_buf_adds(&resp->body, "}\n");
}

const char *cw_http_header(struct cw_http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *cw_http_query(struct cw_http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

int cw_http_query_int(struct cw_http_request *req, struct cw_http_response *resp,
                      const char *name, int64_t lo, int64_t hi, int64_t dflt, int64_t *out)
{
    const char *v = cw_http_query(req, name);
    *out = dflt;
    if (!v)
        return 0;
    char *end;
    long long x = strtoll(v, &end, 10);
    if (!*v || *end || x < lo || x > hi) {
        cw_http_json_error(resp, 400, "%s must be an integer between %lld and %lld", name,
                           (long long)lo, (long long)hi);
        return -1;
    }
    *out = x;
    return 0;
}

static enum MHD_Result send_response(struct cw_http_request *req, struct cw_http_response *resp)
{
    size_t len = 0;
    struct MHD_Response *r = resp->mhd;
    if (r) {
        cw_buf_release(&resp->body);
    } else {
        char *data = cw_buf_detach(&resp->body, &len);
        r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
        if (!r) {
            free(data);
            return MHD_NO;
        }
    }
    MHD_add_response_header(r, "Content-Type",
                            resp->content_type ? resp->content_type : "application/json");
    if (strncmp(resp->extra_header[0], "Cache-Control:", 14) != 0)
        MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    /* docs/web.md: every answer, page or API, forbids framing and foreign code */
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                            "script-src 'self'; connect-src 'self'; frame-ancestors 'none'");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    for (size_t i = 0; i < sizeof(resp->extra_header) / sizeof(resp->extra_header[0]); i++) {
        char *colon = strchr(resp->extra_header[i], ':');
        if (resp->extra_header[i][0] && colon) {
            *colon = '\0';
            MHD_add_response_header(r, resp->extra_header[i], colon + 1 + (colon[1] == ' '));
        }
    }
    if (resp->status == 401)
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"crosswatch\"");
    enum MHD_Result ret = MHD_queue_response(req->conn, resp->status, r);
    MHD_destroy_response(r);
    req->answered = true;
    return ret;
}

static enum MHD_Result answer_error(struct cw_http_request *req, unsigned status,
                                    const char *msg)
{
    struct cw_http_response resp;
    memset(&resp, 0, sizeof(resp));
    cw_http_json_error(&resp, status, "%s", msg);
    return send_response(req, &resp);
}

/* Which roles each access class admits. */
static bool role_allowed(enum cw_route_access access, enum cw_role role)
{
    switch (access) {
    case CW_ACCESS_PUBLIC: return true;
    case CW_ACCESS_SENSOR: return role == CW_ROLE_SENSOR;
    case CW_ACCESS_ADMIN: return role == CW_ROLE_COORD_ADMIN;
    case CW_ACCESS_COORD: return role == CW_ROLE_COORD_ADMIN || role == CW_ROLE_COORD_ANALYST;
    case CW_ACCESS_MEMBER_ADMIN:
        return role == CW_ROLE_COORD_ADMIN || role == CW_ROLE_MEMBER_ADMIN;
    case CW_ACCESS_USER:
        return role == CW_ROLE_COORD_ADMIN || role == CW_ROLE_COORD_ANALYST ||
               role == CW_ROLE_MEMBER_ADMIN || role == CW_ROLE_MEMBER_USER;
    case CW_ACCESS_FEED:
        return role == CW_ROLE_SENSOR || role == CW_ROLE_COORD_ADMIN ||
               role == CW_ROLE_COORD_ANALYST;
    case CW_ACCESS_ORG:
        return role_allowed(CW_ACCESS_USER, role) || role == CW_ROLE_SECTOR_USER ||
               role == CW_ROLE_MINISTRY_USER;
    }
    return false;
}

/* Authentication, authorisation and member scope of every request, in one place. */
static unsigned authorise(struct cw_center *c, struct cw_http_request *req, const char **why)
{
    if (req->route->access == CW_ACCESS_PUBLIC)
        return 0;
    const char *auth = cw_http_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *cred = NULL;
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0) {
        cred = auth + 7;
        while (*cred == ' ')
            cred++;
    } else {
        /* a browser session (docs/web.md): only a person's token, CSRF-checked */
        cred = MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, "cw_session");
        if (!cred || strncmp(cred, "cwu_", 4) != 0) {
            *why = "missing bearer credential (Authorization: Bearer KEY) or session cookie";
            return 401;
        }
        req->session = cred;
    }
    if (cw_store_authenticate(cw_center_store(c), cred, &req->who) != 0) {
        *why = "unknown, expired or revoked credential";
        return 401;
    }
    if (req->session && strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0 &&
        !cw_web_csrf_ok(cw_center_web(c), req->session, cw_http_header(req, "X-CSRF-Token"))) {
        *why = "missing or wrong CSRF token";
        return 403;
    }
    if (!role_allowed(req->route->access, req->who.role)) {
        *why = req->who.role == CW_ROLE_SENSOR ? "a sensor key may only ingest"
                                               : "your role may not call this endpoint";
        return 403;
    }
    bool member_role = req->who.role == CW_ROLE_MEMBER_ADMIN ||
                       req->who.role == CW_ROLE_MEMBER_USER || req->who.role == CW_ROLE_SENSOR;
    bool org_role =
        req->who.role == CW_ROLE_SECTOR_USER || req->who.role == CW_ROLE_MINISTRY_USER;
    req->scope = member_role ? req->who.member_id : org_role ? CW_SCOPE_NONE : 0;
    return 0;
}

int cw_http_scope(struct cw_http_request *req, struct cw_http_response *resp, uint32_t wanted,
                  uint32_t *member)
{
    if (req->scope == 0) {
        *member = wanted;
        return 0;
    }
    if (wanted && wanted != req->scope) {
        cw_http_json_error(resp, 404, "no such member");
        return -1;
    }
    *member = req->scope;
    return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    struct cw_center *c = cls;
    struct cw_http_request *req = *con_cls;
    (void)version;
    if (!req) {
        req = calloc(1, sizeof(*req));
        if (!req)
            return MHD_NO;
        *con_cls = req;
        req->conn = conn;
        req->method = method;
        req->url = url;
        cw_buf_init(&req->body);
        if (!cw_web_origin_ok(cw_center_web(c), conn))
            return answer_error(req, 403, "cross-origin request refused");
        bool known;
        req->route = route_find(method, url, req->path_arg, sizeof(req->path_arg), &known);
        /* a GET outside /api/ that no route claims (TAXII discovery is one that does) is
         * one of the web UI's files */
        if (!req->route && !known && strncmp(url, "/api/", 5) != 0 &&
            (!strcmp(method, "GET") || !strcmp(method, "HEAD"))) {
            struct cw_http_response resp;
            memset(&resp, 0, sizeof(resp));
            cw_web_static(cw_center_web(c), url, &resp);
            return send_response(req, &resp);
        }
        if (!req->route)
            return answer_error(req, known ? 405 : 404,
                                known ? "method not allowed" : "no such endpoint");
        const char *why = NULL;
        unsigned st = authorise(c, req, &why);
        if (st)
            return answer_error(req, st, why);
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > cw_center_max_body(c))
            return answer_error(req, 413, "request body larger than max_body");
        return MHD_YES;
    }
    if (req->answered) {
        *upload_data_size = 0; /* discard the rest of a refused upload */
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!req->too_large) {
            if (req->body.len + *upload_data_size > cw_center_max_body(c)) {
                req->too_large = true;
                cw_buf_release(&req->body);
            } else {
                cw_buf_add(&req->body, upload_data, *upload_data_size);
            }
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->too_large)
        return answer_error(req, 413, "request body larger than max_body");
    if (!cw_buf_ok(&req->body))
        return answer_error(req, 503, "out of memory reading the request body");
    struct cw_http_response resp;
    memset(&resp, 0, sizeof(resp));
    resp.status = 200;
    resp.content_type = "application/json";
    req->route->fn(c, req, &resp);
    if (resp.suspended) { /* a long poll: called again when resumed */
        cw_buf_release(&resp.body);
        return MHD_YES;
    }
    const char *spool = req->route->access == CW_ACCESS_SENSOR && resp.status == 200
                            ? cw_http_header(req, "X-Spool-Bytes") : NULL;
    if (spool && *spool >= '0' && *spool <= '9') /* sensor health (docs/web.md) */
        cw_web_spool_note(cw_center_web(c), req->who.sensor_id, strtoll(spool, NULL, 10));
    return send_response(req, &resp);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct cw_http_request *req = *con_cls;
    if (!req)
        return;
    cw_buf_release(&req->body);
    free(req);
    *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    cw_warn("http: %s", msg);
}

struct MHD_Daemon *cw_http_start(struct cw_center *c, int listen_fd, unsigned threads,
                                 const char *cert, const char *key, char *err, size_t errlen)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_AUTO |
                     MHD_ALLOW_SUSPEND_RESUME; /* live streams (api_web.c) */
    if (cert) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            snprintf(err, errlen, "this libmicrohttpd was built without TLS support");
            return NULL;
        }
        flags |= MHD_USE_TLS;
    }
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_LISTEN_SOCKET, listen_fd, NULL},
        {MHD_OPTION_THREAD_POOL_SIZE, threads, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, c},
        {MHD_OPTION_CONNECTION_TIMEOUT, 120, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, 1000, NULL},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, 256 * 1024, NULL},
        {cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, (void *)cert},
        {cert ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, (void *)key},
        {MHD_OPTION_END, 0, NULL},
    };
    struct MHD_Daemon *d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, c,
                                            MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
                                            MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (!d)
        snprintf(err, errlen, "cannot start the HTTP server (see the messages above)");
    return d;
}
