/* api_users.c - sign-in and people.
 *
 *   POST /api/v1/login   {"name","password"} -> {"token","expires","role","member"}
 *   GET  /api/v1/me      who the credential belongs to
 *   GET  /api/v1/users   people (a member admin sees its member's)
 *   POST /api/v1/users   {"name","role","member","password"}
 * A member admin may create only member roles, and only for its own member. */
#include <stdio.h>
#include <string.h>

#include "center/http.h"
#include "center/store.h"
#include "common/json.h"
#include "common/timefmt.h"
#include "common/utf8.h"
#include "common/banned.h"

#define LOGIN_TTL_US (12LL * 3600 * 1000000)

struct body {
    struct cw_arena arena;
    struct cw_json j;
    jsmntok_t tok[32];
};

/* String field, 1..max bytes of valid UTF-8 without control characters. */
static int field(struct body *b, const char *key, size_t max, bool required, char *out,
                 struct cw_http_response *resp)
{
    int t = cw_json_get(&b->j, 0, key);
    const char *s;
    size_t n;
    out[0] = '\0';
    if (t < 0 || cw_json_is_null(&b->j, t)) {
        if (required)
            cw_http_json_error(resp, 400, "missing field '%s'", key);
        return required ? -1 : 0;
    }
    if (cw_json_str(&b->j, t, &b->arena, &s, &n)) {
        cw_http_json_error(resp, 400, "field '%s' must be a string", key);
        return -1;
    }
    if (n == 0 || n > max || !cw_utf8_valid(s, n)) {
        cw_http_json_error(resp, 400, "field '%s' must be 1 to %zu bytes of UTF-8", key, max);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20) {
            cw_http_json_error(resp, 400, "field '%s' has control characters", key);
            return -1;
        }
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

static int parse(struct body *b, struct cw_http_request *req, struct cw_http_response *resp)
{
    const char *err = NULL;
    cw_arena_init(&b->arena, 4096, 1 << 20);
    if (!req->body.len || cw_json_parse(&b->j, req->body.data, req->body.len, b->tok, 32, &err) ||
        !cw_json_is(&b->j, 0, JSMN_OBJECT)) {
        cw_http_json_error(resp, 400, "body: %s", err ? err : "a JSON object is required");
        return -1;
    }
    return 0;
}

static void login(struct cw_center *c, struct cw_http_request *req,
                  struct cw_http_response *resp)
{
    struct body b;
    char name[101], password[1025], token[128], err[256];
    if (parse(&b, req, resp) == 0 && field(&b, "name", 100, true, name, resp) == 0 &&
        field(&b, "password", 1024, true, password, resp) == 0) {
        int r = cw_store_login(cw_center_store(c), name, password, LOGIN_TTL_US, token,
                               sizeof(token), err, sizeof(err));
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
    }
    memset(password, 0, sizeof(password));
    cw_arena_release(&b.arena);
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
    struct body b;
    char name[101], role[32], member[101], password[1025], err[256];
    if (parse(&b, req, resp) || field(&b, "name", 100, true, name, resp) ||
        field(&b, "role", 31, true, role, resp) || field(&b, "member", 100, false, member, resp) ||
        field(&b, "password", 1024, true, password, resp))
        goto out;
    enum cw_role r = cw_role_from_name(role);
    if (req->scope && r != CW_ROLE_MEMBER_ADMIN && r != CW_ROLE_MEMBER_USER) {
        cw_http_json_error(resp, 403, "a member admin may only create member roles");
        goto out;
    }
    uint32_t wanted = 0, mid;
    if (member[0]) {
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
    memset(password, 0, sizeof(password));
    cw_arena_release(&b.arena);
}

const struct cw_route cw_api_users_routes[] = {
    {"POST", "/api/v1/login", CW_ACCESS_PUBLIC, login},
    {"GET", "/api/v1/me", CW_ACCESS_USER, me},
    {"GET", "/api/v1/users", CW_ACCESS_MEMBER_ADMIN, users_list},
    {"POST", "/api/v1/users", CW_ACCESS_MEMBER_ADMIN, users_add},
    {NULL, NULL, 0, NULL},
};
