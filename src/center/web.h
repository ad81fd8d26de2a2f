/* web.h - the watch floor's server side (docs/web.md): browser sessions, the live
 * counter streams and the static files of the bundled front end.
 *
 * One struct cw_web per center (center.c creates it after the store and shuts it
 * down before the HTTP daemon stops). The dispatcher (http.c) asks it:
 *   - cw_web_csrf_ok(): is the X-CSRF-Token of a cookie-authenticated request right;
 *   - cw_web_origin_ok(): is the Origin header, when present, the center's own;
 *   - cw_web_login_*: the per-client-address sign-in limiter (token bucket in memory,
 *     so one address cannot lock every account out by guessing);
 *   - cw_web_static(): a GET outside /api/ (index.html, /assets/...).
 * CSRF tokens are not stored: a token is the keyed BLAKE2b-256 of the session token
 * under a per-center secret kept in the store (so it survives restarts).
 *
 * Live streams (api_web.c) are written by one thread of their own to suspended
 * libmicrohttpd connections; a stream never holds an HTTP worker between messages. */
#ifndef CW_CENTER_WEB_H
#define CW_CENTER_WEB_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "center/store.h"

struct cw_web;
struct cw_http_request;
struct cw_http_response;

struct cw_web_config {
    const char *web_dir;       /* "" = look beside the binary */
    int64_t silent_after_ms;   /* a sensor without a batch for longer is silent */
    int64_t live_max_streams;  /* concurrent /api/v1/live streams */
    bool tls;                  /* the center serves https (cookies get Secure) */
};

struct cw_web *cw_web_new(struct cw_store *s, const struct cw_web_config *cfg, char *err,
                          size_t errlen);
/* End the live streams (resumes every suspended connection); call before
 * MHD_stop_daemon. cw_web_free after it. */
void cw_web_shutdown(struct cw_web *w);
void cw_web_free(struct cw_web *w);

bool cw_web_tls(const struct cw_web *w);
int64_t cw_web_silent_after_us(const struct cw_web *w);

/* CSRF token of a session token: base64url (43 chars) into out (>= 64 bytes). */
void cw_web_csrf(const struct cw_web *w, const char *session, char *out, size_t cap);
bool cw_web_csrf_ok(const struct cw_web *w, const char *session, const char *given);
/* Origin absent, or equal to <scheme>://<Host header>. */
bool cw_web_origin_ok(const struct cw_web *w, struct MHD_Connection *conn);

/* Sign-in limiter keyed by client address (IPv4, IPv6 /64). allowed: 0, or the seconds
 * to wait. failed: one attempt used up. */
int cw_web_login_allowed(struct cw_web *w, struct MHD_Connection *conn);
void cw_web_login_failed(struct cw_web *w, struct MHD_Connection *conn);

/* Spool sizes sensors report (X-Spool-Bytes on ingest); kept in memory only. */
void cw_web_spool_note(struct cw_web *w, uint32_t sensor_id, int64_t bytes);
int64_t cw_web_spool_get(struct cw_web *w, uint32_t sensor_id); /* -1 = never reported */

/* Static files: answers a GET/HEAD for a path outside /api/ (resp->mhd set). */
void cw_web_static(struct cw_web *w, const char *url, struct cw_http_response *resp);
/* The folder in use ("" = none found). */
const char *cw_web_dir(const struct cw_web *w);

/* Health fields of a sensor in GET /api/v1/sensors (leading comma; h from
 * cw_store_sensor_health, store_web.h). */
struct cw_buf;
struct cw_sensor_health;
void cw_web_sensor_fields(struct cw_web *w, struct cw_buf *o, const struct cw_sensor_info *si,
                          const struct cw_sensor_health *h, size_t nh);

/* Live streams (api_web.c). */
struct cw_live;
struct cw_live *cw_live_new(struct cw_store *s, int64_t max_streams, int64_t silent_after_us,
                            char *err, size_t errlen);
void cw_live_shutdown(struct cw_live *l);
void cw_live_free(struct cw_live *l);
struct cw_live *cw_web_live(struct cw_web *w);

#endif
