/* dnsd.h - `crosswatch dns`: the protective DNS resolver (docs/dns.md).
 *
 * One thread runs an epoll loop over every socket: UDP and TCP listeners (RFC
 * 7766: length framing, pipelined queries answered as they complete, idle
 * timeouts, caps on connections and on queries in flight per connection), the
 * upstream sockets (forward mode: one connected UDP socket per upstream query,
 * random id, TCP when the answer is truncated), a signalfd (SIGHUP reload,
 * SIGTERM/SIGINT graceful stop) and an eventfd on which the reload thread
 * announces a new policy. Per query:
 *   1. parse the question (dns_msg.h; malformed -> FORMERR, or dropped when not
 *      even a header), pick the client's view by address;
 *   2. policy before resolution (rpz.h: CLIENT-IP and QNAME triggers, the view's
 *      own lists first, then the global lists);
 *   3. the cache, keyed on (qname, qtype, class, view); on a miss forward to the
 *      upstreams in turn; when they all fail, serve-stale from the cache;
 *   4. policy on the answer (RPZ-IP on its A/AAAA addresses);
 *   5. answer (blocked answers carry an RFC 8914 EDE: 15 Blocked for the global
 *      lists, 17 Filtered for a view's own lists, EXTRA-TEXT "<list> <rule>"), a
 *      metrics update and one telemetry record.
 * Each query's memory is one arena (struct cw_arena) freed when it is answered.
 * Policy is swapped without a lock on the hot path: the reload thread publishes a
 * new policy through an atomic pointer; the loop takes it between events and
 * every query in flight keeps a reference to the policy it started with.
 *
 * Threads: the loop; libmicrohttpd's metrics thread; the reload thread while a
 * reload runs; the telemetry writer and ship's sender. */
#ifndef CW_DNS_DNSD_H
#define CW_DNS_DNSD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CW_DNSD_MAX_ADDRS 16
#define CW_DNSD_MAX_RPZ 64
#define CW_DNSD_MAX_VIEW_CIDRS 256
#define CW_DNSD_MAX_TOKENS 16
#define CW_DNSD_MAX_VIEWS_FEED 64

/* how client addresses appear in telemetry records */
enum cw_dnsd_redact { CW_REDACT_NONE = 0, CW_REDACT_TRUNCATE, CW_REDACT_HASH };

struct cw_dnsd_view_cfg {
    const char *name;
    const char *cidrs[CW_DNSD_MAX_VIEW_CIDRS]; /* "10.0.0.0/8", "2001:db8::/32", "192.0.2.1" */
    size_t ncidrs;
    const char *rpz[CW_DNSD_MAX_RPZ]; /* the view's own lists (allow lists, member blocks) */
    size_t nrpz;
    const char *doh_token_hash[CW_DNSD_MAX_TOKENS]; /* hex BLAKE2b-256 of DoH path tokens */
    size_t ntokens;
    const char *cert_sha256[CW_DNSD_MAX_TOKENS]; /* hex SHA-256 of DoT client certificates */
    size_t ncerts;
    int redact;                       /* enum cw_dnsd_redact, or -1: the global mode */
};

struct cw_dnsd_config {
    const char *listen[CW_DNSD_MAX_ADDRS]; /* ADDR:PORT, UDP and TCP each */
    size_t nlisten;
    const char *forward[CW_DNSD_MAX_ADDRS]; /* upstreams, tried in order */
    size_t nforward;
    /* recursive mode (libunbound, dnsd_recursive.h) instead of upstreams */
    bool recursive;
    const char *root_hints, *trust_anchor; /* NULL: Debian's dns-root-data files */
    const char *rec_options[CW_DNSD_MAX_ADDRS]; /* libunbound "name: value" */
    size_t nrec_options;
    int64_t recursive_timeout_ms;
    const char *rpz[CW_DNSD_MAX_RPZ]; /* global lists, in precedence order */
    size_t nrpz;
    struct cw_dnsd_view_cfg *views; /* clients outside every view use view "default" */
    size_t nviews;
    const char *tls_listen[CW_DNSD_MAX_ADDRS]; /* DNS over TLS (RFC 7858), ADDR:PORT */
    size_t ntls_listen;
    const char *tls_cert, *tls_key; /* PEM files, read before privileges are dropped */
    int64_t tls_handshake_ms;       /* a TLS handshake must finish within this */
    const char *doh_listen[CW_DNSD_MAX_ADDRS]; /* DNS over HTTPS (RFC 8484), path /dns-query */
    size_t ndoh_listen;
    unsigned doh_max_conns;         /* per --doh-listen address */
    const char *dnstap_socket, *dnstap_file; /* dnstap output (dnstap.h), or NULL */
    /* response rate limiting (UDP): rrl_rate answers/s per /24 (IPv4) or /56 (IPv6)
     * client prefix, 0 = off; over it every rrl_slip-th answer is sent empty with
     * TC (0 = drop them all) */
    uint32_t rrl_rate, rrl_slip;
    uint64_t rrl_entries;           /* prefixes tracked at most */
    /* telemetry privacy */
    uint32_t sample;                /* 1 record in `sample` (blocked answers: all); 0/1 = all */
    int redact;                     /* enum cw_dnsd_redact, for views that set none */
    const uint8_t *redact_key;      /* secret of CW_REDACT_HASH */
    size_t redact_key_len;
    const char *metrics; /* ADDR:PORT or NULL */
    const char *user;    /* drop root to this user after binding, or NULL */
    /* the center's indicator feed (docs/dns.md "Indicator feed from the center"):
     * feed_url NULL = off; the key is `key` */
    const char *feed_url;
    unsigned feed_wait_s;        /* long-poll seconds */
    uint64_t feed_merge_at;      /* pending changes before a merge (0: default) */
    bool feed_first;             /* before the global --rpz lists (default after) */
    const char *feed_views[CW_DNSD_MAX_VIEWS_FEED]; /* views that get it; none: all */
    size_t nfeed_views;
    /* telemetry: center NULL = off */
    const char *center, *key, *state_dir;
    uint64_t spool_max, batch_lines;
    int64_t flush_ms;
    /* tuning */
    uint64_t cache_entries;
    uint32_t max_ttl;
    int64_t stale_ms;            /* how long past expiry an answer may be served stale */
    int64_t upstream_timeout_ms; /* per upstream attempt */
    int64_t tcp_idle_ms;
    uint64_t tcp_max_conns, tcp_max_inflight;
    uint64_t max_inflight;       /* upstream queries in flight, all clients */
    uint16_t udp_size;           /* our EDNS UDP size (default 1232) */
};

void cw_dnsd_config_default(struct cw_dnsd_config *c);
/* Run until SIGTERM/SIGINT. Returns 0, or -1 with a message in err (bad address,
 * bind failure, unusable state directory, an RPZ file that cannot be loaded at
 * start). Blocks SIGHUP/SIGTERM/SIGINT in the calling thread (they are read from
 * a signalfd). */
int cw_dnsd_run(const struct cw_dnsd_config *c, char *err, size_t errlen);

#endif
