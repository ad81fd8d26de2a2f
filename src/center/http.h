/* http.h - the center's HTTP layer on libmicrohttpd: requests, routes, responses.
 *
 * Every request passes through one dispatcher (http.c) that, before any handler
 * runs: finds the route, authenticates the bearer credential against the store and
 * checks that the principal's role may call the route (401/403 otherwise), and
 * enforces the body size limit (413). Handlers therefore never see an
 * unauthenticated request, and the member scope of a request is decided here, once
 * (req->who). Handlers fill a struct cw_http_response and return.
 *
 * Memory: req->body is owned by the request and freed after the response is sent;
 * handlers may point into it. Handlers run on libmicrohttpd worker threads. */
#ifndef CW_CENTER_HTTP_H
#define CW_CENTER_HTTP_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "center/store.h"
#include "common/buf.h"

struct cw_center;

struct cw_http_request {
    struct MHD_Connection *conn;
    const char *method;
    const char *url;
    const struct cw_route *route;
    char path_arg[64]; /* the {id} part of a route, if any */
    struct cw_principal who;
    /* Member scope of this request, decided by the dispatcher from `who`: 0 for
     * coordinator roles (every member), else the caller's member. Handlers pass it
     * to the store, which adds it to every query (cw_http_scope()). */
    uint32_t scope;           /* CW_SCOPE_NONE for sector-body and ministry users */
    struct cw_buf body;
    bool too_large;
    bool answered;
    int64_t handler_state; /* the handler's own, kept across a suspend/resume (long poll) */
    /* the cw_session cookie's token when the request was authenticated by it (then
     * every method but GET/HEAD was CSRF-checked); NULL for a bearer credential */
    const char *session;
};

struct cw_http_response {
    unsigned status;
    const char *content_type;
    struct cw_buf body;
    bool suspended; /* the handler suspended the connection (long poll): no answer yet */
    char extra_header[4][384]; /* "Name: value" lines */
    /* a response the handler made itself (a file, a stream); body is then unused */
    struct MHD_Response *mhd;
};

/* Who may call a route. The dispatcher checks it before the handler runs. */
enum cw_route_access {
    CW_ACCESS_PUBLIC = 0,     /* no credential (health, login) */
    CW_ACCESS_SENSOR,         /* sensor keys only */
    CW_ACCESS_ADMIN,          /* coordinator admins (incl. the bootstrap admin token) */
    CW_ACCESS_COORD,          /* coordinator admins and analysts */
    CW_ACCESS_MEMBER_ADMIN,   /* coordinator admins and member admins (scoped) */
    CW_ACCESS_USER,           /* any signed-in person, scoped to their member */
    CW_ACCESS_FEED,           /* sensor keys and coordinator roles (the RPZ feed) */
    CW_ACCESS_ORG,            /* any user of any organization: the above plus sector-body
                               * and ministry users (incident sharing routes only; the
                               * handler scopes by req->who.org_id / req->scope) */
};

typedef void (*cw_route_fn)(struct cw_center *c, struct cw_http_request *req,
                            struct cw_http_response *resp);

struct cw_route {
    const char *method;
    const char *pattern; /* literal path; "{id}" matches one decimal segment */
    enum cw_route_access access;
    cw_route_fn fn;
};

/* The member scope of organization (sector body, ministry) users: no member at all, so
 * a route that forgot to refuse them still finds nothing. */
#define CW_SCOPE_NONE UINT32_MAX

/* Route tables of the API modules (NULL-terminated by a route with fn NULL). */
extern const struct cw_route cw_api_ingest_routes[];
extern const struct cw_route cw_api_admin_routes[];
extern const struct cw_route cw_api_triage_routes[];
extern const struct cw_route cw_api_users_routes[];
extern const struct cw_route cw_api_notices_routes[];
extern const struct cw_route cw_api_iocs_routes[];
extern const struct cw_route cw_api_ioc_io_routes[];  /* api_ioc_io.c */
extern const struct cw_route cw_api_samples_routes[]; /* api_samples.c */
extern const struct cw_route cw_api_taxii_routes[];   /* api_taxii.c */
extern const struct cw_route cw_api_session_routes[];     /* http_session.c */
extern const struct cw_route cw_api_web_routes[];         /* api_web.c */
extern const struct cw_route cw_api_attachments_routes[]; /* api_attachments.c */
extern const struct cw_route cw_api_incidents_routes[];
extern const struct cw_route cw_api_drills_routes[];

/* Every route of the API, in table order (for `serve --routes` and the OpenAPI check). */
typedef void (*cw_route_visit_fn)(void *ctx, const struct cw_route *r);
void cw_http_routes_foreach(cw_route_visit_fn fn, void *ctx);
const char *cw_route_access_name(enum cw_route_access a);

/* Helpers for handlers. */
void cw_http_json_error(struct cw_http_response *resp, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *cw_http_header(struct cw_http_request *req, const char *name);
const char *cw_http_query(struct cw_http_request *req, const char *name);
/* Integer query parameter in [lo, hi]; absent = dflt. On a bad value answers 400
 * naming the parameter and returns -1. */
int cw_http_query_int(struct cw_http_request *req, struct cw_http_response *resp,
                      const char *name, int64_t lo, int64_t hi, int64_t dflt, int64_t *out);
/* The member a scoped request may look at: `wanted` (0 = all) narrowed by the caller's
 * scope. Returns 0 and sets *member, or -1 (and answers 404, never 403, so that other
 * members' existence is not revealed) when a member user asks for another member. */
int cw_http_scope(struct cw_http_request *req, struct cw_http_response *resp, uint32_t wanted,
                  uint32_t *member);
/* Is the record of `member_id` visible to this request? */
static inline bool cw_http_visible(const struct cw_http_request *req, uint32_t member_id)
{
    return req->scope == 0 || req->scope == member_id;
}

/* Server lifecycle (used by center.c). listen_fd is an already bound, listening
 * socket; tls cert/key are PEM text or NULL. */
struct MHD_Daemon *cw_http_start(struct cw_center *c, int listen_fd, unsigned threads,
                                 const char *tls_cert_pem, const char *tls_key_pem,
                                 char *err, size_t errlen);

/* Accessors center.c provides to the HTTP layer. */
struct cw_store *cw_center_store(struct cw_center *c);
uint64_t cw_center_max_body(const struct cw_center *c);
uint64_t cw_center_max_line(const struct cw_center *c);
struct cw_triage *cw_center_triage(struct cw_center *c);
struct cw_web *cw_center_web(struct cw_center *c); /* web.h */
struct cw_sample_yara;
/* The YARA rules of [serve] sample_yara_dir (NULL = none); immutable while serving. */
const struct cw_sample_yara *cw_center_sample_yara(struct cw_center *c);

#endif
