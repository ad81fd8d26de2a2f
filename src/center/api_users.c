/* api_users.c - sign-in and people.
 *
 *   POST /api/v1/login   {"name","password"} -> {"token","expires","role","member"}
 *   GET  /api/v1/me      who the credential belongs to
 *   GET  /api/v1/users   people (a member admin sees its member's)
 *   POST /api/v1/users   {"name","role","member","password"}
 * Sign-in here and at POST /api/v1/session (http_session.c) share one per-address
 * limiter (web.h): failed attempts at either count against both.
 * A member admin may create only member roles, and only for its own member. Sector-body
 * and ministry users are created under their organization (POST /api/v1/orgs/{id}/users),
 * never here. */
#include <stdio.h>
#include <string.h>

#include "center/http.h"
#include "center/http_body.h"
#include "center/store.h"
#include "center/web.h"
#include "common/timefmt.h"
#include "common/banned.h"

#define LOGIN_TTL_US (12LL * 3600 * 1000000)

static void login(struct cw_center *c, struct cw_http_request *req,
                  struct cw_http_response *resp)
{
    struct cw_web *w = cw_center_web(c);
    int wait = cw_web_login_allowed(w, req->conn);
    if (wait) {
        cw_http_json_error(resp, 429, "too many failed sign-ins from this address; try again "
                                      "in %d seconds", wait);
        snprintf(resp->extra_header[0], sizeof(resp->extra_header[0]), "Retry-After: %d", wait);
        return;
    }
    struct cw_http_body b;
    const char *name, *password;
    char token[128], err[256];
    if (cw_http_body_parse(&b, req, resp) == 0 &&
        cw_http_body_str(&b, "name", 100, CW_FIELD_REQUIRED, &name, resp) == 0 &&
        cw_http_body_str(&b, "password", 1024, CW_FIELD_REQUIRED, &password, resp) == 0) {
        int r = cw_store_login(cw_center_store(c), name, password, LOGIN_TTL_US, token,
                               sizeof(token), err, sizeof(err));
        if (r == CW_STORE_LOCKED || r == CW_STORE_DENIED)
            cw_web_login_failed(w, req->conn);
        if (r == CW_STORE_LOCKED) {
            cw_http_json_error(resp, 429, "%s", err);
        } else if (r == CW_STORE_DENIED) {
            cw_http_json_error(resp, 401, "%s", err);
        } else if (r) {
            cw_http_json_error(resp, 503, "%s", err);
        } else {
            struct cw_principal p;
            cw_store_authenticate(cw_center_store(c), token, &p);
            char exp[32];
            cw_time_format_iso(cw_now_us() + LOGIN_TTL_US, exp);
            cw_buf_adds(&resp->body, "{\"token\":");
            cw_buf_add_json_str(&resp->body, token, strlen(token));
            cw_buf_addf(&resp->body, ",\"expires\":\"%s\",\"role\":\"%s\",\"member_id\":%u}\n",
                        exp, cw_role_name(p.role), p.member_id);
        }
        memset(token, 0, sizeof(token));
        memset((char *)password, 0, strlen(password));
    }
    cw_http_body_release(&b);
}

static void me(struct cw_center *c, struct cw_http_request *req, struct cw_http_response *resp)
{
    (void)c;
    cw_buf_adds(&resp->body, "{\"name\":");
    cw_buf_add_json_str(&resp->body, req->who.name, strlen(req->who.name));
    cw_buf_addf(&resp->body, ",\"role\":\"%s\",\"member_id\":%u}\n", cw_role_name(req->who.role),
                req->who.member_id);
}

static void users_list(struct cw_center *c, struct cw_http_request *req,
                       struct cw_http_response *resp)
{
    char err[256];
    if (cw_store_users_json(cw_center_store(c), req->scope, &resp->body, err, sizeof(err)))
        cw_http_json_error(resp, 503, "%s", err);
}

static void users_add(struct cw_center *c, struct cw_http_request *req,
                      struct cw_http_response *resp)
{
    struct cw_http_body b;
    const char *name, *role, *member, *password = NULL;
    char err[256];
    if (cw_http_body_parse(&b, req, resp) ||
        cw_http_body_str(&b, "name", 100, CW_FIELD_REQUIRED, &name, resp) ||
        cw_http_body_str(&b, "role", 31, CW_FIELD_REQUIRED, &role, resp) ||
        cw_http_body_str(&b, "member", 100, CW_FIELD_ALLOW_ID, &member, resp) ||
        cw_http_body_str(&b, "password", 1024, CW_FIELD_REQUIRED, &password, resp))
        goto out;
    enum cw_role r = cw_role_from_name(role);
    if (r == CW_ROLE_SECTOR_USER || r == CW_ROLE_MINISTRY_USER) {
        /* without its org link such a user would sign in and see nothing, silently */
        cw_http_json_error(resp, 400, "a %s belongs to an organization: create it with "
                           "POST /api/v1/orgs/{id}/users", role);
        goto out;
    }
    if (req->scope && r != CW_ROLE_MEMBER_ADMIN && r != CW_ROLE_MEMBER_USER) {
        cw_http_json_error(resp, 403, "a member admin may only create member roles");
        goto out;
    }
    uint32_t wanted = 0, mid;
    if (member) {
        struct cw_member_info m;
        if (cw_store_member_find(cw_center_store(c), member, &m) != 0) {
            cw_http_json_error(resp, 404, "no such member");
            goto out;
        }
        wanted = m.id;
    }
    if (cw_http_scope(req, resp, wanted, &mid))
        goto out;
    int64_t id;
    int rc = cw_store_user_add(cw_center_store(c), name, r, mid, password, &id, err, sizeof(err));
    if (rc == CW_STORE_INVALID)
        cw_http_json_error(resp, 400, "%s", err);
    else if (rc == CW_STORE_EXISTS)
        cw_http_json_error(resp, 409, "%s", err);
    else if (rc)
        cw_http_json_error(resp, 503, "%s", err);
    else {
        resp->status = 201;
        cw_buf_addf(&resp->body, "{\"id\":%lld,\"name\":", (long long)id);
        cw_buf_add_json_str(&resp->body, name, strlen(name));
        cw_buf_addf(&resp->body, ",\"role\":\"%s\",\"member_id\":%u}\n", cw_role_name(r), mid);
    }
out:
    if (password)
        memset((char *)password, 0, strlen(password));
    cw_http_body_release(&b);
}

const struct cw_route cw_api_users_routes[] = {
    {"POST", "/api/v1/login", CW_ACCESS_PUBLIC, login},
    {"GET", "/api/v1/me", CW_ACCESS_USER, me},
    {"GET", "/api/v1/users", CW_ACCESS_MEMBER_ADMIN, users_list},
    {"POST", "/api/v1/users", CW_ACCESS_MEMBER_ADMIN, users_add},
    {NULL, NULL, 0, NULL},
};
