/* cmd_dns.c - `crosswatch dns`: flags and the [dns] config section to struct
 * cw_dnsd_config (docs/dns.md "Operations"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/config.h"
#include "common/log.h"
#include "dns/dnsd.h"
#include "ship/durable.h"
#include "common/banned.h"

#define SECTION "dns"
#define MAX_VIEWS 63

static const struct cw_option dns_options[] = {
    {"listen", 'l', "listen", "ADDR:PORT", "answer DNS on UDP and TCP here (repeatable; default 127.0.0.1:53)"},
    {"tls-listen", 0, "tls-listen", "ADDR:PORT", "answer DNS over TLS (RFC 7858) here (repeatable; needs --tls-cert, --tls-key)"},
    {"tls-cert", 0, "tls-cert", "FILE", "PEM certificate (chain) for DNS over TLS and HTTPS"},
    {"tls-key", 0, "tls-key", "FILE", "PEM private key for --tls-cert"},
    {"tls-handshake-timeout", 0, "tls-handshake-timeout", "DURATION", "close a TLS connection whose handshake takes longer (default 5s)"},
    {"doh-listen", 0, "doh-listen", "ADDR:PORT", "answer DNS over HTTPS (RFC 8484, /dns-query) here (repeatable; needs --tls-cert, --tls-key)"},
    {"doh-max-conns", 0, "doh-max-conns", "N", "HTTPS connections per --doh-listen at most (default 1000)"},
    {"forward", 'F', "forward", "ADDR:PORT", "upstream resolver, tried in order (repeatable)"},
    {"recursive", 0, "recursive", NULL, "resolve cache misses with the embedded recursive resolver (libunbound) instead of --forward"},
    {"root-hints", 0, "root-hints", "FILE", "recursive mode: root hints (default /usr/share/dns/root.hints when present)"},
    {"trust-anchor", 0, "trust-anchor", "FILE", "recursive mode: DNSSEC trust anchor (default /usr/share/dns/root.key when present; none = no validation)"},
    {"unbound-option", 0, "unbound-option", "NAME: VALUE", "recursive mode: a libunbound option, e.g. 'do-not-query-localhost: no' (repeatable)"},
    {"recursive-timeout", 0, "recursive-timeout", "DURATION", "recursive mode: give up on a name after (default 10s)"},
    {"rpz", 'r', "rpz", "FILE", "response policy zone file, in precedence order (repeatable)"},
    {"view", 0, "view", "NAME=CIDR,...", "a member's view: clients in these ranges (repeatable)"},
    {"view-rpz", 0, "view-rpz", "NAME=FILE", "a view's own policy list, before the global ones (repeatable)"},
    {"view-doh-token", 0, "view-doh-token", "NAME=HASH", "DoH clients of /dns-query/<token> are in view NAME; HASH = hex BLAKE2b-256 of the token (repeatable)"},
    {"view-tls-cert", 0, "view-tls-cert", "NAME=SHA256", "DoT and DoH clients presenting the TLS client certificate with this SHA-256 (hex, of the DER) are in view NAME (repeatable)"},
    {"view-dot-cert", 0, "view-dot-cert", "NAME=SHA256", "alias of --view-tls-cert (the pins serve DoT and DoH)"},
    {"view-redact", 0, "view-redact", "NAME=MODE", "a view's own --redact-clients mode"},
    {"rrl-rate", 0, "rrl-rate", "N", "UDP answers per second per client /24 or /56 (default 0: no limit)"},
    {"rrl-slip", 0, "rrl-slip", "N", "over the limit, answer every Nth query empty with TC, drop the rest (default 2; 0 = drop all)"},
    {"rrl-entries", 0, "rrl-entries", "N", "client prefixes the rate limiter tracks (default 100000)"},
    {"sample", 0, "sample", "N", "send 1 record in N to the center; policy hits always (default 1: all)"},
    {"redact-clients", 0, "redact-clients", "MODE", "client addresses in records: none, truncate (/24, /48) or hash (default none)"},
    {"redact-key-file", 0, "redact-key-file", "FILE", "secret (16..64 bytes) of --redact-clients hash"},
    {"center", 0, "center", "URL", "send a dns record per query to this center (e.g. http://127.0.0.1:8080)"},
    {"center-feed", 0, "center-feed", NULL, "pull the center's indicator feed (RPZ rules, incremental) from --center with the same key"},
    {"feed-url", 0, "feed-url", "URL", "pull the indicator feed from this center instead of --center (implies --center-feed)"},
    {"feed-wait", 0, "feed-wait", "SECONDS", "long-poll time of a feed request (0..60, default 25)"},
    {"feed-order", 0, "feed-order", "ORDER", "the feed's place among the lists: last (after the --rpz files, default) or first"},
    {"feed-view", 0, "feed-view", "NAME", "only these views (repeatable; \"default\" = clients in no view) get the feed; default all"},
    {"feed-merge", 0, "feed-merge", "N", "pending feed changes before they are folded into a new base zone (default 4096)"},
    {"key", 0, "key", "KEY", "sensor key (prefer --key-file: argv is visible to other users)"},
    {"key-file", 0, "key-file", "FILE", "read the sensor key from FILE"},
    {"state-dir", 0, "state-dir", "DIR", "telemetry spool and state (default /var/lib/crosswatch/dns)"},
    {"spool-max", 0, "spool-max", "SIZE", "drop (and count) records beyond this much spool (default 1G)"},
    {"batch-lines", 0, "batch-lines", "N", "records per batch at most (default 5000)"},
    {"flush-interval", 0, "flush-interval", "DURATION", "spool a partial batch after (default 1s)"},
    {"metrics", 0, "metrics", "ADDR:PORT", "Prometheus metrics over plain HTTP at /metrics"},
    {"dnstap-socket", 0, "dnstap-socket", "PATH", "write dnstap (Frame Streams) to this unix socket"},
    {"dnstap-file", 0, "dnstap-file", "PATH", "write dnstap (Frame Streams) to this file"},
    {"user", 'u', "user", "USER", "drop root privileges to USER after binding"},
    {"cache-size", 0, "cache-size", "N", "cached answers at most (default 100000)"},
    {"max-ttl", 0, "max-ttl", "DURATION", "cap on cached TTLs (default 1d)"},
    {"stale", 0, "stale", "DURATION", "serve expired answers this long when upstreams fail (default 1d, 0 = never)"},
    {"upstream-timeout", 0, "upstream-timeout", "DURATION", "per upstream attempt (default 1500ms)"},
    {"tcp-idle", 0, "tcp-idle", "DURATION", "close idle client TCP connections after (default 10s)"},
    {"tcp-max-conns", 0, "tcp-max-conns", "N", "client TCP connections at most (default 1000)"},
    {"tcp-pipeline", 0, "tcp-pipeline", "N", "queries in flight per TCP connection (default 64)"},
    {"verbose", 'v', "verbose", NULL, "log debug messages"},
    {NULL, 0, NULL, NULL, NULL},
};

static int read_key(const char *path, char *key, size_t cap, char *err, size_t errlen)
{
    char *text;
    size_t n;
    if (cw_durable_read(path, 64 * 1024, &text, &n)) {
        snprintf(err, errlen, "cannot read key file %s: %s", path, strerror(errno));
        return -1;
    }
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
        n--;
    if (n == 0 || n >= cap) {
        snprintf(err, errlen, "key file %s: %s", path, n ? "key too long" : "empty");
        free(text);
        return -1;
    }
    memcpy(key, text, n);
    key[n] = '\0';
    explicit_bzero(text, n);
    free(text);
    return 0;
}

struct views {
    struct cw_dnsd_view_cfg v[MAX_VIEWS];
    char *strs[MAX_VIEWS]; /* owned copies the cidrs point into */
    size_t n;
};

static int redact_mode(const char *s)
{
    if (!strcmp(s, "none"))
        return CW_REDACT_NONE;
    if (!strcmp(s, "truncate"))
        return CW_REDACT_TRUNCATE;
    if (!strcmp(s, "hash"))
        return CW_REDACT_HASH;
    return -1;
}

static struct cw_dnsd_view_cfg *view_find(struct views *vs, const char *name, size_t nl)
{
    for (size_t i = 0; i < vs->n; i++)
        if (strlen(vs->v[i].name) == nl && !memcmp(vs->v[i].name, name, nl))
            return &vs->v[i];
    return NULL;
}

static int parse_views(const struct cw_config *cfg, struct views *vs, char *err, size_t errlen)
{
    const char *vals[MAX_VIEWS];
    size_t n = cw_config_all(cfg, SECTION, "view", vals, MAX_VIEWS);
    if (n > MAX_VIEWS) {
        snprintf(err, errlen, "more than %d views", MAX_VIEWS);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(vals[i], '=');
        if (!eq || eq == vals[i] || !eq[1]) {
            snprintf(err, errlen, "--view '%s': expected NAME=CIDR[,CIDR...]", vals[i]);
            return -1;
        }
        char *copy = strdup(vals[i]);
        if (!copy) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        vs->strs[vs->n] = copy;
        struct cw_dnsd_view_cfg *v = &vs->v[vs->n++];
        copy[eq - vals[i]] = '\0';
        v->name = copy;
        v->redact = -1;
        for (char *p = copy + (eq - vals[i]) + 1; p && *p;) {
            char *comma = strchr(p, ',');
            if (comma)
                *comma = '\0';
            if (*p) {
                if (v->ncidrs >= CW_DNSD_MAX_VIEW_CIDRS) {
                    snprintf(err, errlen, "view %s: more than %d ranges", v->name,
                             CW_DNSD_MAX_VIEW_CIDRS);
                    return -1;
                }
                v->cidrs[v->ncidrs++] = p;
            }
            p = comma ? comma + 1 : NULL;
        }
    }
    const char *tv[MAX_VIEWS * 4];
    size_t nt = cw_config_all(cfg, SECTION, "view-doh-token", tv, MAX_VIEWS * 4);
    for (size_t i = 0; i < nt && i < MAX_VIEWS * 4; i++) {
        const char *eq = strchr(tv[i], '=');
        struct cw_dnsd_view_cfg *v = eq ? view_find(vs, tv[i], (size_t)(eq - tv[i])) : NULL;
        if (!v || strlen(eq + 1) != 64 || v->ntokens >= CW_DNSD_MAX_TOKENS) {
            snprintf(err, errlen, "--view-doh-token '%.80s': expected NAME=HASH with NAME a --view "
                     "and HASH 64 hex digits, at most %d per view", tv[i], CW_DNSD_MAX_TOKENS);
            return -1;
        }
        v->doh_token_hash[v->ntokens++] = eq + 1;
    }
    static const char *const cert_keys[] = {"view-tls-cert", "view-dot-cert"}; /* + alias */
    for (size_t k = 0; k < 2; k++) {
        const char *cv[MAX_VIEWS * 4];
        size_t nc = cw_config_all(cfg, SECTION, cert_keys[k], cv, MAX_VIEWS * 4);
        for (size_t i = 0; i < nc && i < MAX_VIEWS * 4; i++) {
            const char *eq = strchr(cv[i], '=');
            struct cw_dnsd_view_cfg *v = eq ? view_find(vs, cv[i], (size_t)(eq - cv[i])) : NULL;
            if (!v || strlen(eq + 1) != 64 || v->ncerts >= CW_DNSD_MAX_TOKENS) {
                snprintf(err, errlen, "--%s '%.80s': expected NAME=SHA256 with NAME a --view "
                         "and SHA256 64 hex digits, at most %d per view", cert_keys[k], cv[i],
                         CW_DNSD_MAX_TOKENS);
                return -1;
            }
            v->cert_sha256[v->ncerts++] = eq + 1;
        }
    }
    const char *rd[MAX_VIEWS];
    size_t nd = cw_config_all(cfg, SECTION, "view-redact", rd, MAX_VIEWS);
    for (size_t i = 0; i < nd && i < MAX_VIEWS; i++) {
        const char *eq = strchr(rd[i], '=');
        struct cw_dnsd_view_cfg *v = eq ? view_find(vs, rd[i], (size_t)(eq - rd[i])) : NULL;
        if (!v || (v->redact = redact_mode(eq + 1)) < 0) {
            snprintf(err, errlen, "--view-redact '%s': expected NAME=none|truncate|hash with NAME a "
                     "--view", rd[i]);
            return -1;
        }
    }
    const char *rv[MAX_VIEWS * 4];
    size_t nr = cw_config_all(cfg, SECTION, "view-rpz", rv, MAX_VIEWS * 4);
    for (size_t i = 0; i < nr && i < MAX_VIEWS * 4; i++) {
        const char *eq = strchr(rv[i], '=');
        struct cw_dnsd_view_cfg *v = eq ? view_find(vs, rv[i], (size_t)(eq - rv[i])) : NULL;
        if (!v || !eq[1]) {
            snprintf(err, errlen, "--view-rpz '%s': expected NAME=FILE with NAME a --view", rv[i]);
            return -1;
        }
        if (v->nrpz >= CW_DNSD_MAX_RPZ) {
            snprintf(err, errlen, "view %s: more than %d lists", v->name, CW_DNSD_MAX_RPZ);
            return -1;
        }
        v->rpz[v->nrpz++] = eq + 1;
    }
    return 0;
}

static int get_u64(const struct cw_config *cfg, const char *key, uint64_t dflt, uint64_t *out,
                   char *err, size_t errlen)
{
    int64_t v;
    if (cw_config_int(cfg, SECTION, key, (int64_t)dflt, &v, err, errlen))
        return -1;
    if (v < 0) {
        snprintf(err, errlen, "%s: must not be negative", key);
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

int cmd_dns(int argc, char **argv)
{
    struct cw_config cfg;
    char err[600], key[1024] = "";
    uint8_t redact_key[64];
    bool help, verbose = false;
    const char *pos[1];
    size_t npos;
    struct views vs;
    memset(&vs, 0, sizeof(vs));
    int rc = 2;
    cw_config_init(&cfg);
    if (cw_options_parse(dns_options, SECTION, argc, argv, &cfg, &help, pos, 0, &npos, err,
                         sizeof(err))) {
        fprintf(stderr, "crosswatch dns: %s\n", err);
        goto out;
    }
    if (help) {
        cw_options_help(stdout, "crosswatch dns [--config FILE] [options]",
                        "Protective DNS resolver for a member's users: answers over UDP, TCP, TLS and HTTPS,\n"
                        "forwards cache misses to upstreams or resolves them recursively\n"
                        "(libunbound), applies Response Policy Zones and the center's indicator feed\n"
                        "(blocked answers carry RFC 8914 Extended DNS Errors) and sends one `dns`\n"
                        "record per query to the center, spooled while the center is away.\n"
                        "SIGHUP reloads the RPZ files; SIGTERM stops. See docs/dns.md.",
                        dns_options);
        rc = 0;
        goto out;
    }
    struct cw_dnsd_config c;
    cw_dnsd_config_default(&c);
    c.nlisten = cw_config_all(&cfg, SECTION, "listen", c.listen, CW_DNSD_MAX_ADDRS);
    if (c.nlisten == 0) {
        c.listen[0] = "127.0.0.1:53";
        c.nlisten = 1;
    }
    c.nforward = cw_config_all(&cfg, SECTION, "forward", c.forward, CW_DNSD_MAX_ADDRS);
    c.ndoh_listen = cw_config_all(&cfg, SECTION, "doh-listen", c.doh_listen, CW_DNSD_MAX_ADDRS);
    c.ntls_listen = cw_config_all(&cfg, SECTION, "tls-listen", c.tls_listen, CW_DNSD_MAX_ADDRS);
    c.tls_cert = cw_config_str(&cfg, SECTION, "tls-cert", NULL);
    c.tls_key = cw_config_str(&cfg, SECTION, "tls-key", NULL);
    c.nrpz = cw_config_all(&cfg, SECTION, "rpz", c.rpz, CW_DNSD_MAX_RPZ);
    if (c.nlisten > CW_DNSD_MAX_ADDRS || c.nforward > CW_DNSD_MAX_ADDRS ||
        c.ntls_listen > CW_DNSD_MAX_ADDRS || c.ndoh_listen > CW_DNSD_MAX_ADDRS ||
        c.nrpz > CW_DNSD_MAX_RPZ) {
        fprintf(stderr, "crosswatch dns: at most %d --listen, %d --forward and %d --rpz\n",
                CW_DNSD_MAX_ADDRS, CW_DNSD_MAX_ADDRS, CW_DNSD_MAX_RPZ);
        goto out;
    }
    int64_t rec_ms;
    if (cw_config_bool(&cfg, SECTION, "recursive", false, &c.recursive, err, sizeof(err)) ||
        cw_config_duration_ms(&cfg, SECTION, "recursive-timeout", c.recursive_timeout_ms, &rec_ms,
                              err, sizeof(err))) {
        fprintf(stderr, "crosswatch dns: %s\n", err);
        goto out;
    }
    c.recursive_timeout_ms = rec_ms > 0 ? rec_ms : 1;
    c.root_hints = cw_config_str(&cfg, SECTION, "root-hints", NULL);
    c.trust_anchor = cw_config_str(&cfg, SECTION, "trust-anchor", NULL);
    c.nrec_options = cw_config_all(&cfg, SECTION, "unbound-option", c.rec_options,
                                   CW_DNSD_MAX_ADDRS);
    if ((c.nforward == 0) == !c.recursive || c.nrec_options > CW_DNSD_MAX_ADDRS) {
        fprintf(stderr, "crosswatch dns: give --forward ADDR:PORT (repeatable) or --recursive, "
                        "not both; at most %d --unbound-option\n", CW_DNSD_MAX_ADDRS);
        goto out;
    }
    bool center_feed = false;
    uint64_t feed_wait = 25;
    const char *feed_order = cw_config_str(&cfg, SECTION, "feed-order", "last");
    if (cw_config_bool(&cfg, SECTION, "center-feed", false, &center_feed, err, sizeof(err)) ||
        get_u64(&cfg, "feed-wait", 25, &feed_wait, err, sizeof(err)) ||
        get_u64(&cfg, "feed-merge", 0, &c.feed_merge_at, err, sizeof(err))) {
        fprintf(stderr, "crosswatch dns: %s\n", err);
        goto out;
    }
    c.feed_url = cw_config_str(&cfg, SECTION, "feed-url", NULL);
    if (!c.feed_url && center_feed)
        c.feed_url = cw_config_str(&cfg, SECTION, "center", NULL);
    if (center_feed && !c.feed_url) {
        fprintf(stderr, "crosswatch dns: --center-feed needs --center URL (or --feed-url URL)\n");
        goto out;
    }
    if (feed_wait > 60 || (strcmp(feed_order, "last") && strcmp(feed_order, "first"))) {
        fprintf(stderr, "crosswatch dns: --feed-wait is 0..60 seconds; --feed-order is last or "
                        "first\n");
        goto out;
    }
    c.feed_wait_s = (unsigned)feed_wait;
    c.feed_first = !strcmp(feed_order, "first");
    c.nfeed_views = cw_config_all(&cfg, SECTION, "feed-view", c.feed_views, CW_DNSD_MAX_VIEWS_FEED);
    if (c.nfeed_views > CW_DNSD_MAX_VIEWS_FEED) {
        fprintf(stderr, "crosswatch dns: at most %d --feed-view\n", CW_DNSD_MAX_VIEWS_FEED);
        goto out;
    }
    if (parse_views(&cfg, &vs, err, sizeof(err))) {
        fprintf(stderr, "crosswatch dns: %s\n", err);
        goto out;
    }
    c.views = vs.v;
    c.nviews = vs.n;
    c.metrics = cw_config_str(&cfg, SECTION, "metrics", NULL);
    c.dnstap_socket = cw_config_str(&cfg, SECTION, "dnstap-socket", NULL);
    c.dnstap_file = cw_config_str(&cfg, SECTION, "dnstap-file", NULL);
    c.user = cw_config_str(&cfg, SECTION, "user", NULL);
    c.center = cw_config_str(&cfg, SECTION, "center", NULL);
    c.state_dir = cw_config_str(&cfg, SECTION, "state-dir", c.state_dir);
    int64_t ms, flush, stale, maxttl, idle, hs;
    uint64_t u, rrl_rate, rrl_slip, sample, doh_conns;
    if (cw_config_size(&cfg, SECTION, "spool-max", c.spool_max, &c.spool_max, err, sizeof(err)) ||
        get_u64(&cfg, "batch-lines", c.batch_lines, &c.batch_lines, err, sizeof(err)) ||
        cw_config_duration_ms(&cfg, SECTION, "flush-interval", c.flush_ms, &flush, err, sizeof(err)) ||
        get_u64(&cfg, "cache-size", c.cache_entries, &c.cache_entries, err, sizeof(err)) ||
        cw_config_duration_ms(&cfg, SECTION, "max-ttl", (int64_t)c.max_ttl * 1000, &maxttl, err,
                              sizeof(err)) ||
        cw_config_duration_ms(&cfg, SECTION, "stale", c.stale_ms, &stale, err, sizeof(err)) ||
        cw_config_duration_ms(&cfg, SECTION, "upstream-timeout", c.upstream_timeout_ms, &ms, err,
                              sizeof(err)) ||
        cw_config_duration_ms(&cfg, SECTION, "tcp-idle", c.tcp_idle_ms, &idle, err, sizeof(err)) ||
        cw_config_duration_ms(&cfg, SECTION, "tls-handshake-timeout", c.tls_handshake_ms, &hs, err,
                              sizeof(err)) ||
        get_u64(&cfg, "tcp-max-conns", c.tcp_max_conns, &c.tcp_max_conns, err, sizeof(err)) ||
        get_u64(&cfg, "tcp-pipeline", c.tcp_max_inflight, &u, err, sizeof(err)) ||
        get_u64(&cfg, "doh-max-conns", c.doh_max_conns, &doh_conns, err, sizeof(err)) ||
        get_u64(&cfg, "rrl-rate", 0, &rrl_rate, err, sizeof(err)) ||
        get_u64(&cfg, "rrl-slip", c.rrl_slip, &rrl_slip, err, sizeof(err)) ||
        get_u64(&cfg, "rrl-entries", c.rrl_entries, &c.rrl_entries, err, sizeof(err)) ||
        get_u64(&cfg, "sample", 1, &sample, err, sizeof(err)) ||
        cw_config_bool(&cfg, SECTION, "verbose", false, &verbose, err, sizeof(err))) {
        fprintf(stderr, "crosswatch dns: %s\n", err);
        goto out;
    }
    c.flush_ms = flush;
    c.max_ttl = (uint32_t)(maxttl / 1000 > UINT32_MAX ? UINT32_MAX : maxttl / 1000);
    c.stale_ms = stale;
    c.upstream_timeout_ms = ms > 0 ? ms : 1;
    c.tcp_idle_ms = idle;
    c.tls_handshake_ms = hs > 0 ? hs : 1;
    if (rrl_rate > 1000000 || rrl_slip > 1000 || sample > 1000000 || doh_conns > 100000 ||
        doh_conns == 0) {
        fprintf(stderr, "crosswatch dns: --rrl-rate at most 1000000, --rrl-slip at most 1000, "
                        "--sample at most 1000000, --doh-max-conns 1..100000\n");
        goto out;
    }
    c.rrl_rate = (uint32_t)rrl_rate;
    c.rrl_slip = (uint32_t)rrl_slip;
    c.sample = (uint32_t)sample;
    c.doh_max_conns = (unsigned)doh_conns;
    const char *rm = cw_config_str(&cfg, SECTION, "redact-clients", "none");
    if ((c.redact = redact_mode(rm)) < 0) {
        fprintf(stderr, "crosswatch dns: --redact-clients: none, truncate or hash, not '%s'\n", rm);
        goto out;
    }
    const char *rkf = cw_config_str(&cfg, SECTION, "redact-key-file", NULL);
    if (rkf) {
        char *text = NULL;
        size_t n = 0;
        if (cw_durable_read(rkf, 4096, &text, &n) || n < 16 || n > sizeof(redact_key)) {
            fprintf(stderr, "crosswatch dns: --redact-key-file %s: %s\n", rkf,
                    text ? "the secret must be 16 to 64 bytes" : strerror(errno));
            free(text);
            goto out;
        }
        memcpy(redact_key, text, n);
        explicit_bzero(text, n);
        free(text);
        c.redact_key = redact_key;
        c.redact_key_len = n;
    }
    if ((c.ntls_listen || c.ndoh_listen) && (!c.tls_cert || !c.tls_key)) {
        fprintf(stderr, "crosswatch dns: --tls-listen and --doh-listen need --tls-cert FILE and "
                        "--tls-key FILE\n");
        goto out;
    }
    c.tcp_max_inflight = u ? u : 1;
    if (c.batch_lines == 0 || c.cache_entries == 0) {
        fprintf(stderr, "crosswatch dns: --batch-lines and --cache-size must be at least 1\n");
        goto out;
    }
    for (size_t i = 0; i < c.nfeed_views; i++)
        if (strcmp(c.feed_views[i], "default") && !view_find(&vs, c.feed_views[i],
                                                             strlen(c.feed_views[i]))) {
            fprintf(stderr, "crosswatch dns: --feed-view %s: not a --view\n", c.feed_views[i]);
            goto out;
        }
    if (c.center || c.feed_url) {
        const char *k = cw_config_str(&cfg, SECTION, "key", NULL);
        const char *kf = cw_config_str(&cfg, SECTION, "key-file", NULL);
        if ((k && kf) || (!k && !kf)) {
            fprintf(stderr, "crosswatch dns: --center and --feed-url need one of --key-file FILE "
                            "or --key KEY\n");
            goto out;
        }
        if (kf && read_key(kf, key, sizeof(key), err, sizeof(err))) {
            fprintf(stderr, "crosswatch dns: %s\n", err);
            goto out;
        }
        if (k)
            snprintf(key, sizeof(key), "%s", k);
        c.key = key;
    }
    if (verbose)
        cw_log_set_level(CW_LOG_DEBUG);
    rc = 1;
    if (cw_dnsd_run(&c, err, sizeof(err))) {
        cw_error("dns: %s", err);
        goto out;
    }
    rc = 0;
out:
    explicit_bzero(key, sizeof(key));
    explicit_bzero(redact_key, sizeof(redact_key));
    for (size_t i = 0; i < vs.n; i++)
        free(vs.strs[i]);
    cw_config_release(&cfg);
    return rc;
}
