/* http_session.c - browser sessions (docs/web.md "Sign-in and sessions"):
 *
 *   POST /api/v1/session          {"name","password"} -> cookies cw_session + cw_csrf
 *   POST /api/v1/session/logout   revokes the token, clears the cookies
 *
 * and the web layer's state (struct cw_web, web.h): CSRF tokens derived from the
 * session token, the Origin check, the per-address sign-in limiter and the spool
 * sizes sensors report. */
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "center/http.h"
#include "center/http_body.h"
#include "center/store_web.h"
#include "center/web.h"
#include "common/timefmt.h"
#include "common/banned.h"

#define SESSION_TTL_US (12LL * 3600 * 1000000)
#define LIMIT_SLOTS 1024
#define LIMIT_BURST 10.0      /* failed sign-ins an address may make at once */
#define LIMIT_REFILL_MS 6000  /* then one more every 6 s */

struct limit_slot {
    unsigned char key[16];
    bool used;
    double tokens;
    int64_t last_ms;
};

struct spool_entry {
    uint32_t sensor_id;
    int64_t bytes;
};

struct cw_web {
    struct cw_store *store;
    unsigned char secret[32];
    bool tls;
    int64_t silent_after_us;
    char dir[4096];
    pthread_mutex_t lock; /* limiter and spool table (sign-in and ingest only) */
    struct limit_slot slots[LIMIT_SLOTS];
    struct spool_entry *spool;
    size_t nspool, capspool;
    struct cw_live *live;
};

/* static_files.c */
void cw_web_find_dir(const char *configured, char *out, size_t cap);

struct cw_web *cw_web_new(struct cw_store *s, const struct cw_web_config *cfg, char *err,
                          size_t errlen)
{
    struct cw_web *w = calloc(1, sizeof(*w));
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->store = s;
    w->tls = cfg->tls;
    w->silent_after_us = cfg->silent_after_ms * 1000;
    pthread_mutex_init(&w->lock, NULL);
    if (cw_store_web_secret(s, w->secret, err, errlen))
        goto fail;
    cw_web_find_dir(cfg->web_dir, w->dir, sizeof(w->dir));
    w->live = cw_live_new(s, cfg->live_max_streams, w->silent_after_us, err, errlen);
    if (!w->live)
        goto fail;
    return w;
fail:
    cw_web_free(w);
    return NULL;
}

void cw_web_shutdown(struct cw_web *w)
{
    if (w)
        cw_live_shutdown(w->live);
}

void cw_web_free(struct cw_web *w)
{
    if (!w)
        return;
    cw_live_free(w->live);
    sodium_memzero(w->secret, sizeof(w->secret));
    pthread_mutex_destroy(&w->lock);
    free(w->spool);
    free(w);
}

bool cw_web_tls(const struct cw_web *w) { return w->tls; }
int64_t cw_web_silent_after_us(const struct cw_web *w) { return w->silent_after_us; }
const char *cw_web_dir(const struct cw_web *w) { return w->dir; }
struct cw_live *cw_web_live(struct cw_web *w) { return w->live; }

/* ---------------------------------------------------------------- CSRF, Origin */

void cw_web_csrf(const struct cw_web *w, const char *session, char *out, size_t cap)
{
    unsigned char h[32];
    crypto_generichash(h, sizeof(h), (const unsigned char *)session, strlen(session), w->secret,
                       sizeof(w->secret));
    sodium_bin2base64(out, cap, h, sizeof(h), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(h, sizeof(h));
}

bool cw_web_csrf_ok(const struct cw_web *w, const char *session, const char *given)
{
    char want[64];
    cw_web_csrf(w, session, want, sizeof(want));
    size_t n = strlen(want);
    bool ok = given && strlen(given) == n && sodium_memcmp(want, given, n) == 0;
    sodium_memzero(want, sizeof(want));
    return ok;
}

bool cw_web_origin_ok(const struct cw_web *w, struct MHD_Connection *conn)
{
    const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    if (!origin)
        return true;
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (!host || !*host)
        return false;
    const char *scheme = w->tls ? "https://" : "http://";
    size_t sn = strlen(scheme);
    return strncasecmp(origin, scheme, sn) == 0 && strcasecmp(origin + sn, host) == 0;
}

/* ---------------------------------------------------------------- sign-in limiter */

static void client_key(struct MHD_Connection *conn, unsigned char key[16])
{
    memset(key, 0, 16);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return;
    if (ci->client_addr->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)ci->client_addr;
        key[0] = 4;
        memcpy(key + 1, &a->sin_addr, 4);
    } else if (ci->client_addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)ci->client_addr;
        key[0] = 6;
        memcpy(key + 1, &a->sin6_addr, 8); /* a /64: one site */
    }
}

/* The slot of key (refilled to now), claiming the stalest slot of its probe run. */
static struct limit_slot *limit_slot(struct cw_web *w, const unsigned char key[16], int64_t now)
{
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < 16; i++)
        h = (h ^ key[i]) * 1099511628211ULL;
    struct limit_slot *stale = NULL;
    for (int probe = 0; probe < 8; probe++) {
        struct limit_slot *sl = &w->slots[(h + (uint64_t)probe) % LIMIT_SLOTS];
        if (sl->used && memcmp(sl->key, key, 16) == 0) {
            sl->tokens += (double)(now - sl->last_ms) / LIMIT_REFILL_MS;
            if (sl->tokens > LIMIT_BURST)
                sl->tokens = LIMIT_BURST;
            sl->last_ms = now;
            return sl;
        }
        if (!stale || !sl->used || (stale->used && sl->last_ms < stale->last_ms))
            stale = sl;
    }
    memcpy(stale->key, key, 16);
    stale->used = true;
    stale->tokens = LIMIT_BURST;
    stale->last_ms = now;
    return stale;
}

int cw_web_login_allowed(struct cw_web *w, struct MHD_Connection *conn)
{
    unsigned char key[16];
    client_key(conn, key);
    pthread_mutex_lock(&w->lock);
    struct limit_slot *sl = limit_slot(w, key, cw_monotonic_ms());
    int wait = sl->tokens >= 1.0 ? 0 : (int)((1.0 - sl->tokens) * LIMIT_REFILL_MS / 1000) + 1;
    pthread_mutex_unlock(&w->lock);
    return wait;
}

void cw_web_login_failed(struct cw_web *w, struct MHD_Connection *conn)
{
    unsigned char key[16];
    client_key(conn, key);
    pthread_mutex_lock(&w->lock);
    struct limit_slot *sl = limit_slot(w, key, cw_monotonic_ms());
    sl->tokens -= 1.0;
    pthread_mutex_unlock(&w->lock);
}

/* ---------------------------------------------------------------- spool sizes */

void cw_web_spool_note(struct cw_web *w, uint32_t sensor_id, int64_t bytes)
{
    pthread_mutex_lock(&w->lock);
    size_t i = 0;
    while (i < w->nspool && w->spool[i].sensor_id != sensor_id)
        i++;
    if (i == w->nspool && w->nspool < 100000) {
        if (w->nspool == w->capspool) {
            size_t cap = w->capspool ? w->capspool * 2 : 64;
            struct spool_entry *p = realloc(w->spool, cap * sizeof(*p));
            if (!p) {
                pthread_mutex_unlock(&w->lock);
                return;
            }
            w->spool = p;
            w->capspool = cap;
        }
        w->spool[w->nspool++].sensor_id = sensor_id;
    }
    if (i < w->nspool)
        w->spool[i].bytes = bytes;
    pthread_mutex_unlock(&w->lock);
}

int64_t cw_web_spool_get(struct cw_web *w, uint32_t sensor_id)
{
    int64_t v = -1;
    pthread_mutex_lock(&w->lock);
    for (size_t i = 0; i < w->nspool; i++)
        if (w->spool[i].sensor_id == sensor_id)
            v = w->spool[i].bytes;
    pthread_mutex_unlock(&w->lock);
    return v;
}

/* ---------------------------------------------------------------- routes */

static void set_cookies(struct cw_web *w, struct cw_http_response *resp, const char *token,
                        const char *csrf)
{
    const char *secure = w->tls ? "; Secure" : "";
    int age = token[0] ? (int)(SESSION_TTL_US / 1000000) : 0;
    snprintf(resp->extra_header[0], sizeof(resp->extra_header[0]),
             "Set-Cookie: cw_session=%s; HttpOnly; SameSite=Strict; Path=/; Max-Age=%d%s", token,
             age, secure);
    snprintf(resp->extra_header[1], sizeof(resp->extra_header[1]),
             "Set-Cookie: cw_csrf=%s; SameSite=Strict; Path=/; Max-Age=%d%s", csrf, age, secure);
}

static void session_login(struct cw_center *c, struct cw_http_request *req,
                          struct cw_http_response *resp)
{
    struct cw_web *w = cw_center_web(c);
    int wait = cw_web_login_allowed(w, req->conn);
    if (wait) {
        cw_http_json_error(resp, 429, "too many failed sign-ins from this address; try again "
                                      "in %d seconds", wait);
        snprintf(resp->extra_header[2], sizeof(resp->extra_header[2]), "Retry-After: %d", wait);
        return;
    }
    struct cw_http_body b;
    const char *name, *password = NULL;
    char token[128], err[256];
    if (cw_http_body_parse(&b, req, resp) ||
        cw_http_body_str(&b, "name", 100, CW_FIELD_REQUIRED, &name, resp) ||
        cw_http_body_str(&b, "password", 1024, CW_FIELD_REQUIRED, &password, resp))
        goto out;
    int r = cw_store_login(cw_center_store(c), name, password, SESSION_TTL_US, token,
                           sizeof(token), err, sizeof(err));
    if (r == CW_STORE_LOCKED || r == CW_STORE_DENIED) {
        cw_web_login_failed(w, req->conn);
        cw_http_json_error(resp, r == CW_STORE_LOCKED ? 429 : 401, "%s", err);
        if (r == CW_STORE_LOCKED)
            snprintf(resp->extra_header[2], sizeof(resp->extra_header[2]), "Retry-After: 900");
        goto out;
    }
    if (r) {
        cw_http_json_error(resp, 503, "%s", err);
        goto out;
    }
    struct cw_principal p;
    if (cw_store_authenticate(cw_center_store(c), token, &p)) {
        cw_http_json_error(resp, 503, "the new session could not be read back");
        goto wipe;
    }
    char csrf[64], exp[40], member[128] = "";
    cw_web_csrf(w, token, csrf, sizeof(csrf));
    cw_time_format_iso(cw_now_us() + SESSION_TTL_US, exp);
    if (p.member_id)
        cw_store_member_name(cw_center_store(c), p.member_id, member, sizeof(member));
    set_cookies(w, resp, token, csrf);
    cw_buf_adds(&resp->body, "{\"name\":");
    cw_buf_add_json_str(&resp->body, p.name, strlen(p.name));
    cw_buf_addf(&resp->body, ",\"role\":\"%s\",\"member_id\":%u,\"member\":", cw_role_name(p.role),
                p.member_id);
    if (p.member_id)
        cw_buf_add_json_str(&resp->body, member, strlen(member));
    else
        cw_buf_adds(&resp->body, "null");
    cw_buf_addf(&resp->body, ",\"csrf\":\"%s\",\"expires\":\"%s\"}\n", csrf, exp);
    sodium_memzero(csrf, sizeof(csrf));
wipe:
    sodium_memzero(token, sizeof(token));
out:
    if (password)
        sodium_memzero((char *)password, strlen(password));
    cw_http_body_release(&b);
}

static void session_logout(struct cw_center *c, struct cw_http_request *req,
                           struct cw_http_response *resp)
{
    /* a bearer token belongs to a script, which keeps or lets it expire: only a
     * browser session (the cookie) is ended here */
    if (!req->session) {
        cw_http_json_error(resp, 400, "only a browser session (cw_session cookie) can be "
                                      "ended here");
        return;
    }
    cw_store_session_end(cw_center_store(c), req->session);
    set_cookies(cw_center_web(c), resp, "", "");
    cw_buf_adds(&resp->body, "{\"ok\":true}\n");
}

const struct cw_route cw_api_session_routes[] = {
    {"POST", "/api/v1/session", CW_ACCESS_PUBLIC, session_login},
    {"POST", "/api/v1/session/logout", CW_ACCESS_USER, session_logout},
    {NULL, NULL, 0, NULL},
};
