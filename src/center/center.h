/* center.h - the center as one object: configuration, storage, HTTP API.
 *
 * `crosswatch serve` and `crosswatch demo` both run a center through this module:
 * cw_center_config_load() reads the [serve] settings (docs/config.md),
 * cw_center_start() opens the store, binds the listener (before dropping root
 * privileges when `user` is set) and serves until cw_center_stop().
 * On first start in an empty data directory an admin token is created and written to
 * DATA_DIR/admin.token (mode 0600); its clear text is never logged. */
#ifndef CW_CENTER_CENTER_H
#define CW_CENTER_CENTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"

struct cw_center_config {
    char listen[256];      /* host:port, [v6]:port; port 0 = any free port */
    char data_dir[4096];
    char tls_cert[4096];   /* PEM files; both empty = plain HTTP */
    char tls_key[4096];
    char user[64];         /* drop to this user after binding (when root) */
    uint64_t max_body;     /* bytes, compressed and decompressed */
    uint64_t max_line;     /* bytes per input line */
    int64_t threads;       /* HTTP worker threads */
    int64_t store_readers; /* reader connections of the store (0 = one per thread) */
    int64_t retention_days;
    int64_t zstd_level;
    char warninglists_dir[4096]; /* MISP warninglists for scanner ranges ("" = none) */
    char scanner_ua_file[4096];  /* scanner user agents ("" = none) */
    char sigma_dir[4096];        /* Sigma rules ("" = none) */
    char sigma_fieldmap[4096];   /* Sigma field map ("" = built in) */
    int64_t event_window_ms;     /* bundling window of events */
    bool webhook_allow_private;  /* let webhooks reach loopback/private addresses (tests) */
    /* DNS threat flags (detect/dns_flags.h, docs/dns.md "Threat flags") */
    bool dns_flags;               /* run the detector on dns records */
    char dns_bad_ranges_file[4096]; /* CIDRs of known bad address ranges ("" = none) */
    int64_t dns_nod_days;         /* newly observed = not seen in this many days */
    int64_t dns_nod_warmup_ms;    /* no NOD flags until the table is this old */
    int64_t dns_dga_threshold;    /* percent */
    int64_t dns_tunnel_window_ms;
    int64_t dns_tunnel_unique;
    /* indicators (docs/indicators.md) */
    int64_t ioc_retrohunt_days;          /* retro-hunt window */
    char ioc_auto_publish_types[256];    /* sample candidates published without review */
    char sample_yara_dir[4096];          /* YARA rules for submitted samples ("" = none) */
    int64_t ioc_auto_publish_confidence; /* ... when at least this confident (101 = never) */
    /* the watch floor (docs/web.md) */
    char web_dir[4096];           /* bundled front end ("" = beside the binary) */
    int64_t sensor_silent_after_ms;
    int64_t live_max_streams;
};

/* Fill cc from cfg (section "serve") with defaults for anything unset. Returns 0 or
 * -1 with a message naming the bad setting and where it came from. */
int cw_center_config_load(struct cw_center_config *cc, const struct cw_config *cfg, char *err,
                          size_t errlen);

struct cw_center;

int cw_center_start(struct cw_center **out, const struct cw_center_config *cc, char *err,
                    size_t errlen);
/* The bound TCP port (useful with port 0). */
uint16_t cw_center_port(const struct cw_center *c);
/* URL clients use, e.g. "http://127.0.0.1:8080". Static storage in c. */
const char *cw_center_url(const struct cw_center *c);
/* Path of the admin token file. */
const char *cw_center_admin_token_path(const struct cw_center *c);
/* Periodic housekeeping (retention); call every few seconds from the owner's loop. */
void cw_center_tick(struct cw_center *c);
/* Stop serving (in-flight requests finish), close the store, free. */
void cw_center_stop(struct cw_center *c);

#endif
