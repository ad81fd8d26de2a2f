/* center.c - lifecycle of the center: config, store, listener, privileges, HTTP. */
#include "center/center.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "center/http.h"
#include "center/ioc_hub.h"
#include "center/notify_webhook.h"
#include "center/store.h"
#include "center/store_dnsseen.h"
#include "center/web.h"
#include "ioc/sample.h"
#include "common/log.h"
#include "triage/triage.h"
#include "common/timefmt.h"
#include "common/banned.h"

struct cw_center {
    struct cw_center_config cfg;
    struct cw_store *store;
    struct cw_triage *triage;
    struct cw_ioc_hub *ioc;          /* live indicators, feed, retro-hunts (ioc_hub.h) */
    struct cw_sample_yara *yara;     /* compiled once, shared by sample analyses (sample.h) */
    int64_t last_ioc_expiry_ms;
    struct cw_dns_flags *dns_flags;  /* DNS threat flags, run by triage (may be NULL) */
    struct cw_dnsseen *dnsseen;      /* their NOD table, DATA_DIR/dns_seen.db */
    struct cw_dnsseen_ops dnsseen_ops;
    struct MHD_Daemon *http;
    struct cw_notifier *notifier; /* webhook deliveries of notices (own thread) */
    struct cw_web *web;           /* sessions, live streams, static files (web.h) */
    int listen_fd;
    uint16_t port;
    char url[300];
    char token_path[4200];
    int64_t last_retention_ms;
};

struct cw_store *cw_center_store(struct cw_center *c) { return c->store; }
uint64_t cw_center_max_body(const struct cw_center *c) { return c->cfg.max_body; }
uint64_t cw_center_max_line(const struct cw_center *c) { return c->cfg.max_line; }
uint16_t cw_center_port(const struct cw_center *c) { return c->port; }
struct cw_triage *cw_center_triage(struct cw_center *c) { return c->triage; }
struct cw_ioc_hub *cw_center_ioc_hub(struct cw_center *c) { return c->ioc; }
const struct cw_center_config *cw_center_config(const struct cw_center *c) { return &c->cfg; }
struct cw_web *cw_center_web(struct cw_center *c) { return c->web; }
const struct cw_sample_yara *cw_center_sample_yara(struct cw_center *c) { return c->yara; }
const char *cw_center_url(const struct cw_center *c) { return c->url; }
const char *cw_center_admin_token_path(const struct cw_center *c) { return c->token_path; }

static void default_data_dir(char *out, size_t cap)
{
    if (geteuid() == 0) {
        snprintf(out, cap, "/var/lib/crosswatch");
        return;
    }
    const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    if (state && *state)
        snprintf(out, cap, "%s/crosswatch", state);
    else if (home && *home)
        snprintf(out, cap, "%s/.local/state/crosswatch", home);
    else
        snprintf(out, cap, "crosswatch-data");
}

static int copy_setting(char *dst, size_t cap, const char *v, const char *key, char *err,
                        size_t errlen)
{
    if (strlen(v) >= cap) {
        snprintf(err, errlen, "setting %s is too long", key);
        return -1;
    }
    snprintf(dst, cap, "%s", v);
    return 0;
}

int cw_center_config_load(struct cw_center_config *cc, const struct cw_config *cfg, char *err,
                          size_t errlen)
{
    const char *S = "serve";
    memset(cc, 0, sizeof(*cc));
    char dd[4096];
    default_data_dir(dd, sizeof(dd));
    if (copy_setting(cc->listen, sizeof(cc->listen),
                     cw_config_str(cfg, S, "listen", "127.0.0.1:8080"), "listen", err, errlen) ||
        copy_setting(cc->data_dir, sizeof(cc->data_dir), cw_config_str(cfg, S, "data_dir", dd),
                     "data_dir", err, errlen) ||
        copy_setting(cc->tls_cert, sizeof(cc->tls_cert), cw_config_str(cfg, S, "tls_cert", ""),
                     "tls_cert", err, errlen) ||
        copy_setting(cc->tls_key, sizeof(cc->tls_key), cw_config_str(cfg, S, "tls_key", ""),
                     "tls_key", err, errlen) ||
        copy_setting(cc->user, sizeof(cc->user), cw_config_str(cfg, S, "user", ""), "user", err,
                     errlen) ||
        copy_setting(cc->warninglists_dir, sizeof(cc->warninglists_dir),
                     cw_config_str(cfg, S, "warninglists_dir", ""), "warninglists_dir", err,
                     errlen) ||
        copy_setting(cc->scanner_ua_file, sizeof(cc->scanner_ua_file),
                     cw_config_str(cfg, S, "scanner_ua_file", ""), "scanner_ua_file", err,
                     errlen) ||
        copy_setting(cc->sigma_dir, sizeof(cc->sigma_dir), cw_config_str(cfg, S, "sigma_dir", ""),
                     "sigma_dir", err, errlen) ||
        copy_setting(cc->sigma_fieldmap, sizeof(cc->sigma_fieldmap),
                     cw_config_str(cfg, S, "sigma_fieldmap", ""), "sigma_fieldmap", err, errlen) ||
        copy_setting(cc->dns_bad_ranges_file, sizeof(cc->dns_bad_ranges_file),
                     cw_config_str(cfg, S, "dns_bad_ranges_file", ""), "dns_bad_ranges_file", err,
                     errlen) ||
        copy_setting(cc->web_dir, sizeof(cc->web_dir), cw_config_str(cfg, S, "web_dir", ""),
                     "web_dir", err, errlen))
        return -1;
    if (cw_config_duration_ms(cfg, S, "sensor_silent_after", 15 * 60 * 1000,
                              &cc->sensor_silent_after_ms, err, errlen) ||
        cw_config_int(cfg, S, "live_max_streams", 64, &cc->live_max_streams, err, errlen))
        return -1;
    if (cc->live_max_streams < 1 || cc->live_max_streams > 10000 ||
        cc->sensor_silent_after_ms < 1000) {
        snprintf(err, errlen, "live_max_streams must be 1..10000, sensor_silent_after >= 1s");
        return -1;
    }
    if (cw_config_int(cfg, S, "ioc_retrohunt_days", 30, &cc->ioc_retrohunt_days, err, errlen) ||
        cw_config_int(cfg, S, "ioc_auto_publish_confidence", 101,
                      &cc->ioc_auto_publish_confidence, err, errlen) ||
        copy_setting(cc->ioc_auto_publish_types, sizeof(cc->ioc_auto_publish_types),
                     cw_config_str(cfg, S, "ioc_auto_publish_types", ""),
                     "ioc_auto_publish_types", err, errlen) ||
        copy_setting(cc->sample_yara_dir, sizeof(cc->sample_yara_dir),
                     cw_config_str(cfg, S, "sample_yara_dir", ""), "sample_yara_dir", err,
                     errlen))
        return -1;
    if (cw_config_size(cfg, S, "max_body", 64u << 20, &cc->max_body, err, errlen) ||
        cw_config_size(cfg, S, "max_line", 1u << 20, &cc->max_line, err, errlen) ||
        cw_config_int(cfg, S, "threads", 4, &cc->threads, err, errlen) ||
        cw_config_int(cfg, S, "store_readers", 0, &cc->store_readers, err, errlen) ||
        cw_config_int(cfg, S, "retention_days", 90, &cc->retention_days, err, errlen) ||
        cw_config_int(cfg, S, "zstd_level", 1, &cc->zstd_level, err, errlen) ||
        cw_config_duration_ms(cfg, S, "event_window", 24LL * 3600 * 1000, &cc->event_window_ms,
                              err, errlen) ||
        cw_config_bool(cfg, S, "webhook_allow_private", false, &cc->webhook_allow_private, err,
                       errlen) ||
        cw_config_bool(cfg, S, "dns_flags", true, &cc->dns_flags, err, errlen) ||
        cw_config_int(cfg, S, "dns_nod_days", 30, &cc->dns_nod_days, err, errlen) ||
        cw_config_duration_ms(cfg, S, "dns_nod_warmup", 24LL * 3600 * 1000,
                              &cc->dns_nod_warmup_ms, err, errlen) ||
        cw_config_int(cfg, S, "dns_dga_threshold", 90, &cc->dns_dga_threshold, err, errlen) ||
        cw_config_duration_ms(cfg, S, "dns_tunnel_window", 600 * 1000, &cc->dns_tunnel_window_ms,
                              err, errlen) ||
        cw_config_int(cfg, S, "dns_tunnel_unique", 100, &cc->dns_tunnel_unique, err, errlen))
        return -1;
    if (cc->dns_nod_days < 0 || cc->dns_nod_days > 3650 || cc->dns_dga_threshold < 1 ||
        cc->dns_dga_threshold > 100 || cc->dns_tunnel_unique < 2 ||
        cc->dns_tunnel_unique > 100000 || cc->dns_tunnel_window_ms < 1000) {
        snprintf(err, errlen, "dns_nod_days must be 0..3650 (0 = off), dns_dga_threshold "
                              "1..100, dns_tunnel_unique 2..100000, dns_tunnel_window >= 1s");
        return -1;
    }
    if (cc->threads < 1 || cc->threads > 256) {
        snprintf(err, errlen, "threads must be between 1 and 256");
        return -1;
    }
    if (cc->store_readers < 0 || cc->store_readers > 64) {
        snprintf(err, errlen, "store_readers must be between 0 (one per thread) and 64");
        return -1;
    }
    if (cc->max_body < 1024 || cc->max_line < 256 || cc->max_line > cc->max_body) {
        snprintf(err, errlen, "max_body must be >= 1k and max_line between 256 and max_body");
        return -1;
    }
    if ((cc->tls_cert[0] != 0) != (cc->tls_key[0] != 0)) {
        snprintf(err, errlen, "tls_cert and tls_key must be set together");
        return -1;
    }
    if (cc->zstd_level < 1 || cc->zstd_level > 19) {
        snprintf(err, errlen, "zstd_level must be between 1 and 19");
        return -1;
    }
    return 0;
}

/* "host:port", "[v6]:port" or ":port" -> bound, listening socket. */
static int bind_listener(const char *spec, uint16_t *port_out, char *err, size_t errlen)
{
    char host[256], port[16];
    const char *colon;
    if (spec[0] == '[') {
        const char *rb = strchr(spec, ']');
        if (!rb || rb[1] != ':') {
            snprintf(err, errlen, "listen '%s': expected [address]:port", spec);
            return -1;
        }
        snprintf(host, sizeof(host), "%.*s", (int)(rb - spec - 1), spec + 1);
        colon = rb + 1;
    } else {
        colon = strrchr(spec, ':');
        if (!colon) {
            snprintf(err, errlen, "listen '%s': expected address:port", spec);
            return -1;
        }
        snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
    }
    snprintf(port, sizeof(port), "%s", colon + 1);
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gr = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
    if (gr != 0) {
        snprintf(err, errlen, "listen '%s': %s", spec, gai_strerror(gr));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 512) != 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", spec, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *port_out = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

static char *read_small_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    char *b = malloc(1 << 20);
    size_t n = b ? fread(b, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (!b)
        return NULL;
    b[n] = '\0';
    return b;
}

/* Root binds, then becomes `user` (and chowns the data directory to it, so the
 * unprivileged process can keep writing). */
static int drop_privileges(const char *user, const char *data_dir, char *err, size_t errlen)
{
    if (!user[0] || geteuid() != 0)
        return 0;
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        snprintf(err, errlen, "user '%s' does not exist", user);
        return -1;
    }
    char db[4200];
    if (chown(data_dir, pw->pw_uid, pw->pw_gid) != 0) {
        snprintf(err, errlen, "cannot chown %s: %s", data_dir, strerror(errno));
        return -1;
    }
    static const char *const files[] = {"crosswatch.db", "crosswatch.db-wal", "crosswatch.db-shm",
                                        "admin.token"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(db, sizeof(db), "%s/%s", data_dir, files[i]);
        if (chown(db, pw->pw_uid, pw->pw_gid) != 0 && errno != ENOENT) {
            snprintf(err, errlen, "cannot chown %s: %s", db, strerror(errno));
            return -1;
        }
    }
    if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
        snprintf(err, errlen, "cannot drop privileges to %s: %s", user, strerror(errno));
        return -1;
    }
    if (setuid(0) == 0) {
        snprintf(err, errlen, "privileges could be regained after dropping to %s", user);
        return -1;
    }
    cw_info("dropped privileges to user %s", user);
    return 0;
}

static int write_token_file(const char *path, const char *token, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    size_t n = strlen(token);
    int ok = write(fd, token, n) == (ssize_t)n && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    close(fd);
    if (!ok) {
        snprintf(err, errlen, "cannot write %s", path);
        return -1;
    }
    return 0;
}

static int start_dns_flags(struct cw_center *c, const struct cw_center_config *cc, char *err,
                           size_t errlen)
{
    if (cc->dns_nod_days > 0) {
        c->dnsseen = cw_dnsseen_open(cc->data_dir, cc->dns_nod_days, &c->dnsseen_ops, err, errlen);
        if (!c->dnsseen)
            return -1;
    }
    struct cw_dns_flags_config fc = {
        .bad_ranges_file = cc->dns_bad_ranges_file,
        .dga_threshold = (double)cc->dns_dga_threshold / 100.0,
        .nod_days = cc->dns_nod_days > 0 ? cc->dns_nod_days : -1,
        .nod_warmup_us = cc->dns_nod_warmup_ms > 0 ? cc->dns_nod_warmup_ms * 1000 : -1,
        .tunnel_window_us = cc->dns_tunnel_window_ms * 1000,
        .tunnel_unique = (uint32_t)cc->dns_tunnel_unique,
        .seen = c->dnsseen ? &c->dnsseen_ops : NULL,
    };
    c->dns_flags = cw_dns_flags_new(&fc, err, errlen);
    if (!c->dns_flags)
        return -1;
    cw_triage_set_dns_flags(c->triage, c->dns_flags);
    return 0;
}

int cw_center_start(struct cw_center **out, const struct cw_center_config *cc, char *err,
                    size_t errlen)
{
    struct cw_center *c = calloc(1, sizeof(*c));
    char *cert = NULL, *key = NULL;
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    c->cfg = *cc;
    c->listen_fd = -1;
    struct cw_store_options so = {.zstd_level = (int)cc->zstd_level,
                                  .retention_days = cc->retention_days,
                                  .readers = (int)(cc->store_readers ? cc->store_readers
                                                                     : cc->threads)};
    if (cw_store_open(&c->store, cc->data_dir, &so, err, errlen))
        goto fail;
    snprintf(c->token_path, sizeof(c->token_path), "%s/admin.token", cc->data_dir);
    char token[128];
    int t = cw_store_admin_token_ensure(c->store, token, sizeof(token), err, errlen);
    if (t < 0)
        goto fail;
    if (t == 1) {
        int w = write_token_file(c->token_path, token, err, errlen);
        memset(token, 0, sizeof(token));
        if (w)
            goto fail;
        cw_info("created the admin token: %s (keep it secret)", c->token_path);
    }
    struct cw_triage_config tc = {cc->warninglists_dir, cc->scanner_ua_file, cc->sigma_dir,
                                  cc->sigma_fieldmap, cc->event_window_ms * 1000, 0};
    c->triage = cw_triage_new(&tc, cw_store_next_event_id(c->store), err, errlen);
    if (!c->triage ||
        cw_store_events_restore(c->store, c->triage, 1000000, err, errlen) ||
        cw_store_knowledge_load(c->store, c->triage, err, errlen))
        goto fail;
    if (cc->dns_flags && start_dns_flags(c, cc, err, errlen))
        goto fail;
    struct cw_ioc_hub_config hc = {cc->ioc_retrohunt_days, cc->warninglists_dir};
    c->ioc = cw_ioc_hub_new(c->store, c->triage, &hc, err, errlen);
    if (!c->ioc)
        goto fail;
    cw_triage_set_ioc_detector(c->triage, cw_ioc_hub_detect, c->ioc);
    if (cc->sample_yara_dir[0]) {
        char yerr[512];
        c->yara = cw_sample_yara_load(cc->sample_yara_dir, yerr, sizeof(yerr));
        if (!c->yara) {
            snprintf(err, errlen, "sample_yara_dir %s: %s", cc->sample_yara_dir, yerr);
            goto fail;
        }
    }
    struct cw_web_config wc = {cc->web_dir, cc->sensor_silent_after_ms, cc->live_max_streams,
                               cc->tls_cert[0] != 0};
    c->web = cw_web_new(c->store, &wc, err, errlen);
    if (!c->web)
        goto fail;
    if (cc->tls_cert[0]) {
        cert = read_small_file(cc->tls_cert, err, errlen);
        key = cert ? read_small_file(cc->tls_key, err, errlen) : NULL;
        if (!cert || !key)
            goto fail;
    }
    c->listen_fd = bind_listener(cc->listen, &c->port, err, errlen);
    if (c->listen_fd < 0)
        goto fail;
    if (drop_privileges(cc->user, cc->data_dir, err, errlen))
        goto fail;
    c->http = cw_http_start(c, c->listen_fd, (unsigned)cc->threads, cert, key, err, errlen);
    if (!c->http)
        goto fail;
    c->notifier = cw_notifier_start(c->store, cc->webhook_allow_private, err, errlen);
    if (!c->notifier)
        goto fail;
    /* MHD copied the PEM text; wipe our copy of the private key */
    if (key)
        memset(key, 0, strlen(key));
    free(cert);
    free(key);
    char host[256];
    const char *colon = strrchr(cc->listen, ':');
    snprintf(host, sizeof(host), "%.*s", (int)(colon - cc->listen), cc->listen);
    if (!host[0] || !strcmp(host, "0.0.0.0"))
        snprintf(host, sizeof(host), "127.0.0.1");
    else if (!strcmp(host, "[::]"))
        snprintf(host, sizeof(host), "[::1]");
    snprintf(c->url, sizeof(c->url), "%s://%s:%u", cc->tls_cert[0] ? "https" : "http", host, c->port);
    c->last_retention_ms = 0;
    *out = c;
    return 0;
fail:
    free(cert);
    free(key);
    cw_web_shutdown(c->web);
    if (c->http)
        MHD_stop_daemon(c->http);
    cw_web_free(c->web);
    if (c->listen_fd >= 0)
        close(c->listen_fd);
    cw_ioc_hub_free(c->ioc); /* its worker uses the triage */
    cw_sample_yara_free(c->yara);
    cw_triage_free(c->triage);
    cw_dns_flags_free(c->dns_flags);
    cw_dnsseen_close(c->dnsseen);
    cw_store_close(c->store);
    free(c);
    return -1;
}

void cw_center_tick(struct cw_center *c)
{
    int64_t now = cw_monotonic_ms();
    if (c->last_retention_ms == 0 || now - c->last_retention_ms > 3600 * 1000) {
        c->last_retention_ms = now;
        cw_store_apply_retention(c->store, cw_now_us());
    }
    if (c->ioc && now - c->last_ioc_expiry_ms >= 10 * 1000) {
        c->last_ioc_expiry_ms = now;
        cw_ioc_hub_expire(c->ioc, cw_now_us());
    }
}

void cw_center_stop(struct cw_center *c)
{
    if (!c)
        return;
    cw_ioc_hub_shutdown(c->ioc); /* resumes feed long-polls: MHD must not stop with any */
    cw_web_shutdown(c->web); /* resumes suspended live streams: MHD must not stop with any */
    if (c->http)
        MHD_stop_daemon(c->http);
    cw_web_free(c->web);
    cw_notifier_stop(c->notifier);
    if (c->listen_fd >= 0)
        close(c->listen_fd);
    cw_ioc_hub_free(c->ioc); /* its worker uses the triage */
    cw_sample_yara_free(c->yara);
    cw_triage_free(c->triage);
    cw_dns_flags_free(c->dns_flags);
    cw_dnsseen_close(c->dnsseen);
    cw_store_close(c->store);
    free(c);
}
