/* cmd_serve.c - `crosswatch serve`: run the center until SIGINT/SIGTERM. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "center/center.h"
#include "center/http.h"
#include "triage/triage.h"
#include "cli/cli.h"
#include "common/config.h"
#include "common/log.h"
#include "common/banned.h"

static const struct cw_option serve_options[] = {
    {"listen", 'l', "listen", "ADDR:PORT", "address of the HTTP API (default 127.0.0.1:8080)"},
    {"data-dir", 'd', "data_dir", "DIR",
     "state and records (default /var/lib/crosswatch as root, else ~/.local/state/crosswatch)"},
    {"tls-cert", 0, "tls_cert", "FILE", "PEM certificate: serve HTTPS"},
    {"tls-key", 0, "tls_key", "FILE", "PEM private key for --tls-cert"},
    {"user", 'u', "user", "USER", "drop root privileges to USER after binding"},
    {"threads", 't', "threads", "N", "HTTP worker threads (default 4)"},
    {"max-body", 0, "max_body", "SIZE", "largest ingest body, compressed or not (default 64M)"},
    {"max-line", 0, "max_line", "SIZE", "longest input line (default 1M)"},
    {"retention-days", 0, "retention_days", "DAYS", "keep records this long (default 90, 0 = forever)"},
    {"verbose", 'v', "verbose", NULL, "log debug messages"},
    {"routes", 0, "routes", NULL, "print every API route (method, path, access) and exit"},
    {"webhook-allow-private", 0, "webhook_allow_private", NULL,
     "let notice webhooks reach loopback and private addresses (off: SSRF guard)"},
    {NULL, 0, NULL, NULL, NULL},
};

static volatile sig_atomic_t stop_requested, reload_requested;

static void on_hup(int sig)
{
    (void)sig;
    reload_requested = 1;
}

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void print_route(void *ctx, const struct cw_route *r)
{
    (void)ctx;
    printf("%s %s %s\n", r->method, r->pattern, cw_route_access_name(r->access));
}

int cmd_serve(int argc, char **argv)
{
    struct cw_config cfg;
    char err[512];
    bool help, verbose = false;
    const char *pos[1];
    size_t npos;
    cw_config_init(&cfg);
    if (cw_options_parse(serve_options, "serve", argc, argv, &cfg, &help, pos, 0, &npos, err,
                         sizeof(err))) {
        fprintf(stderr, "crosswatch serve: %s\n", err);
        cw_config_release(&cfg);
        return 2;
    }
    if (help) {
        cw_options_help(stdout, "crosswatch serve [options]",
                        "Run the center: the ingest API for member sensors, durable storage\n"
                        "of records, and the admin API. Stops cleanly on SIGINT/SIGTERM.",
                        serve_options);
        cw_config_release(&cfg);
        return 0;
    }
    bool routes = false;
    if (cw_config_bool(&cfg, "serve", "routes", false, &routes, err, sizeof(err)) == 0 && routes) {
        cw_http_routes_foreach(print_route, NULL);
        cw_config_release(&cfg);
        return 0;
    }
    struct cw_center_config cc;
    if (cw_center_config_load(&cc, &cfg, err, sizeof(err)) ||
        cw_config_bool(&cfg, "serve", "verbose", false, &verbose, err, sizeof(err))) {
        fprintf(stderr, "crosswatch serve: %s\n", err);
        cw_config_release(&cfg);
        return 2;
    }
    cw_config_release(&cfg);
    if (verbose)
        cw_log_set_level(CW_LOG_DEBUG);
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    struct cw_center *c;
    if (cw_center_start(&c, &cc, err, sizeof(err))) {
        cw_error("cannot start the center: %s", err);
        return 1;
    }
    cw_info("center listening on %s (data in %s, admin token in %s)", cw_center_url(c),
            cc.data_dir, cw_center_admin_token_path(c));
    while (!stop_requested) {
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
        cw_center_tick(c);
        if (reload_requested) {
            reload_requested = 0;
            if (cc.sigma_dir[0] &&
                cw_triage_reload_rules(cw_center_triage(c), err, sizeof(err)))
                cw_error("SIGHUP: rules not reloaded, the old set stays: %s", err);
        }
    }
    cw_info("stopping: finishing in-flight requests");
    cw_center_stop(c);
    cw_info("stopped");
    return 0;
}
