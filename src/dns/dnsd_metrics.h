/* dnsd_metrics.h - the resolver's Prometheus endpoint (text format 0.0.4).
 *
 * Counters are relaxed atomics written by the event loop and read by the HTTP
 * thread of libmicrohttpd: the hot path takes no lock. Label sets are bounded:
 * at most CW_DNSD_MAX_VIEWS views and CW_DNSD_MAX_LISTS policy lists (RPZ zones)
 * get their own series; further lists count under list="other". A list name is
 * registered (cw_dnsd_metrics_list) off the hot path, when policy is loaded; that
 * takes the table's mutex, as does a scrape.
 *
 * Series: crosswatch_dns_queries_total{transport=udp|tcp|tls|https}, _answers_total{rcode},
 * _cache_hits_total, _cache_misses_total, _cache_stale_answers_total,
 * _cache_entries, _blocks_total{list,view}, _upstream_queries_total,
 * _upstream_failures_total, _upstream_tc_fallbacks_total,
 * _upstream_latency_seconds (histogram), _malformed_total, _dropped_total{reason},
 * _tcp_connections, _tls_handshakes_total{result}, _rrl_total{action},
 * _telemetry_sampled_out_total, _policy_reloads_total{result}, _telemetry_dropped_total,
 * _telemetry_spooled_total, _telemetry_spool_bytes; with the indicator feed:
 * _feed_serial, _feed_rules, _feed_last_sync_timestamp_seconds,
 * _feed_syncs_total{kind=full|changes}, _feed_sync_errors_total, _feed_merges_total,
 * _feed_apply_seconds (last), _feed_apply_seconds_sum/_count; with dnstap:
 * _dnstap_frames_total{result=queued|dropped}. */
#ifndef CW_DNS_DNSD_METRICS_H
#define CW_DNS_DNSD_METRICS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define CW_DNSD_MAX_VIEWS 64
#define CW_DNSD_MAX_LISTS 63 /* + "other" */
#define CW_DNSD_LAT_BUCKETS 12

enum cw_dnsd_drop { CW_DROP_MALFORMED = 0, CW_DROP_POLICY, CW_DROP_OVERLOAD, CW_DROP_TCP_LIMIT,
                    CW_DROP_RRL, CW_DROP__COUNT };

struct cw_dnsd_tel;
struct cw_dnsd_feed_stats;
struct cw_dnstap;

struct cw_dnsd_metrics {
    _Atomic uint64_t queries[4]; /* by transport: udp, tcp, tls, https */
    _Atomic uint64_t rcode[16];
    _Atomic uint64_t cache_hits, cache_misses, cache_stale, cache_entries;
    _Atomic uint64_t upstream_queries, upstream_failures, upstream_tc;
    _Atomic uint64_t lat_bucket[CW_DNSD_LAT_BUCKETS + 1]; /* last = +Inf */
    _Atomic uint64_t lat_sum_us;
    _Atomic uint64_t malformed;
    _Atomic uint64_t dropped[CW_DROP__COUNT];
    _Atomic uint64_t tcp_conns;
    _Atomic uint64_t tls_handshakes[3]; /* ok, failed, timeout */
    _Atomic uint64_t rrl[2];            /* rate limited: dropped, slipped (TC) */
    _Atomic uint64_t sampled_out;       /* answers not recorded (--sample) */
    _Atomic uint64_t reload_ok, reload_failed;
    _Atomic uint64_t blocks[CW_DNSD_MAX_VIEWS][CW_DNSD_MAX_LISTS + 1];

    pthread_mutex_t mu; /* guards the name tables (never taken by the loop per query) */
    char views[CW_DNSD_MAX_VIEWS][64];
    unsigned nviews;
    char lists[CW_DNSD_MAX_LISTS][256];
    unsigned nlists;

    const struct cw_dnsd_tel *tel; /* telemetry counters, may be NULL */
    const struct cw_dnsd_feed_stats *feed; /* the indicator feed's, may be NULL */
    const struct cw_dnstap *tap;   /* dnstap frames queued/dropped, may be NULL */
    void *httpd;                   /* struct MHD_Daemon */
};

void cw_dnsd_metrics_init(struct cw_dnsd_metrics *m);
/* Start the HTTP endpoint on an already bound, listening socket (fd passes to
 * libmicrohttpd on success). 0 or -1 with a message in err. */
int cw_dnsd_metrics_serve(struct cw_dnsd_metrics *m, int fd, char *err, size_t errlen);
void cw_dnsd_metrics_release(struct cw_dnsd_metrics *m);
/* Index of a view name (registered at start, in view order). */
void cw_dnsd_metrics_view(struct cw_dnsd_metrics *m, unsigned idx, const char *name);
/* Index of a list name for blocks[][]; registered once, CW_DNSD_MAX_LISTS = "other". */
unsigned cw_dnsd_metrics_list(struct cw_dnsd_metrics *m, const char *name);
void cw_dnsd_metrics_latency(struct cw_dnsd_metrics *m, int64_t us);
/* The exposition text into a heap string (caller frees), NULL on OOM. */
char *cw_dnsd_metrics_render(struct cw_dnsd_metrics *m, size_t *len);

#endif
