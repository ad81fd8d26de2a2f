/* dnsd_metrics.c - Prometheus text exposition over libmicrohttpd. */
#include "dns/dnsd_metrics.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "dns/dnsd_feed.h"
#include "dns/dnstap.h"
#include "dns/dnsd_telemetry.h"
#include "common/banned.h"

#define LD(x) atomic_load_explicit(&(x), memory_order_relaxed)

static const int64_t lat_le_us[CW_DNSD_LAT_BUCKETS] = {100, 250, 500, 1000, 2500, 5000,
                                                        10000, 25000, 50000, 100000, 250000,
                                                        1000000};
static const char *const rcode_names[16] = {
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
    "NXRRSET", "NOTAUTH", "NOTZONE", "RCODE11", "RCODE12", "RCODE13", "RCODE14", "RCODE15"};
static const char *const drop_names[CW_DROP__COUNT] = {"malformed", "policy", "overload",
                                                       "tcp_limit", "rrl"};

void cw_dnsd_metrics_init(struct cw_dnsd_metrics *m)
{
    memset(m, 0, sizeof(*m));
    pthread_mutex_init(&m->mu, NULL);
}

void cw_dnsd_metrics_view(struct cw_dnsd_metrics *m, unsigned idx, const char *name)
{
    if (idx >= CW_DNSD_MAX_VIEWS)
        return;
    pthread_mutex_lock(&m->mu);
    snprintf(m->views[idx], sizeof(m->views[idx]), "%s", name);
    if (idx + 1 > m->nviews)
        m->nviews = idx + 1;
    pthread_mutex_unlock(&m->mu);
}

unsigned cw_dnsd_metrics_list(struct cw_dnsd_metrics *m, const char *name)
{
    pthread_mutex_lock(&m->mu);
    unsigned i;
    for (i = 0; i < m->nlists; i++)
        if (!strcmp(m->lists[i], name))
            break;
    if (i == m->nlists && i < CW_DNSD_MAX_LISTS) {
        snprintf(m->lists[i], sizeof(m->lists[i]), "%s", name);
        m->nlists++;
    }
    pthread_mutex_unlock(&m->mu);
    return i < CW_DNSD_MAX_LISTS ? i : CW_DNSD_MAX_LISTS;
}

void cw_dnsd_metrics_latency(struct cw_dnsd_metrics *m, int64_t us)
{
    unsigned b = 0;
    while (b < CW_DNSD_LAT_BUCKETS && us > lat_le_us[b])
        b++;
    atomic_fetch_add_explicit(&m->lat_bucket[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->lat_sum_us, (uint64_t)(us < 0 ? 0 : us), memory_order_relaxed);
}

/* Label values: names come from config and zone files; escape \ " and newline. */
static void add_label(struct cw_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            cw_buf_addc(b, '\\');
        if (*s == '\n') {
            cw_buf_adds(b, "\\n");
            continue;
        }
        cw_buf_addc(b, *s);
    }
}

static void counter(struct cw_buf *b, const char *name, const char *help, uint64_t v)
{
    cw_buf_addf(b, "# HELP crosswatch_dns_%s %s\n# TYPE crosswatch_dns_%s counter\n"
                   "crosswatch_dns_%s %llu\n", name, help, name, name, (unsigned long long)v);
}

static void gauge(struct cw_buf *b, const char *name, const char *help, uint64_t v)
{
    cw_buf_addf(b, "# HELP crosswatch_dns_%s %s\n# TYPE crosswatch_dns_%s gauge\n"
                   "crosswatch_dns_%s %llu\n", name, help, name, name, (unsigned long long)v);
}

static void render_feed(struct cw_buf *b, const struct cw_dnsd_feed_stats *f)
{
    gauge(b, "feed_serial", "Serial of the indicator feed policy in force.", LD(f->serial));
    gauge(b, "feed_rules", "Indicator feed rules in force.", LD(f->rules));
    cw_buf_addf(b, "# HELP crosswatch_dns_feed_last_sync_timestamp_seconds Time of the last good "
                   "answer from the center's feed (0: never).\n"
                   "# TYPE crosswatch_dns_feed_last_sync_timestamp_seconds gauge\n"
                   "crosswatch_dns_feed_last_sync_timestamp_seconds %.3f\n",
                (double)atomic_load(&f->last_sync_ms) / 1000);
    cw_buf_addf(b, "# HELP crosswatch_dns_feed_syncs_total Feed answers that changed the policy.\n"
                   "# TYPE crosswatch_dns_feed_syncs_total counter\n"
                   "crosswatch_dns_feed_syncs_total{kind=\"full\"} %llu\n"
                   "crosswatch_dns_feed_syncs_total{kind=\"changes\"} %llu\n",
                (unsigned long long)LD(f->syncs_full), (unsigned long long)LD(f->syncs_delta));
    counter(b, "feed_sync_errors_total", "Feed polls that failed (center away, error, bad answer).",
            LD(f->sync_errors));
    counter(b, "feed_merges_total", "Feed changes folded into a new base zone.", LD(f->merges));
    cw_buf_addf(b, "# HELP crosswatch_dns_feed_apply_seconds Answer received to policy published "
                   "(the last one).\n"
                   "# TYPE crosswatch_dns_feed_apply_seconds gauge\n"
                   "crosswatch_dns_feed_apply_seconds %.6f\n"
                   "crosswatch_dns_feed_apply_seconds_sum %.6f\n"
                   "crosswatch_dns_feed_apply_seconds_count %llu\n",
                (double)LD(f->apply_us_last) / 1e6, (double)LD(f->apply_us_sum) / 1e6,
                (unsigned long long)LD(f->applies));
}

char *cw_dnsd_metrics_render(struct cw_dnsd_metrics *m, size_t *len)
{
    struct cw_buf b = CW_BUF_INIT;
    cw_buf_adds(&b, "# HELP crosswatch_dns_queries_total Queries received.\n"
                    "# TYPE crosswatch_dns_queries_total counter\n");
    static const char *const tr[4] = {"udp", "tcp", "tls", "https"};
    for (int i = 0; i < 4; i++)
        cw_buf_addf(&b, "crosswatch_dns_queries_total{transport=\"%s\"} %llu\n", tr[i],
                    (unsigned long long)LD(m->queries[i]));
    cw_buf_adds(&b, "# HELP crosswatch_dns_answers_total Answers sent, by response code.\n"
                    "# TYPE crosswatch_dns_answers_total counter\n");
    for (int i = 0; i < 16; i++)
        if (LD(m->rcode[i]) || i == 0 || i == 2 || i == 3)
            cw_buf_addf(&b, "crosswatch_dns_answers_total{rcode=\"%s\"} %llu\n", rcode_names[i],
                        (unsigned long long)LD(m->rcode[i]));
    counter(&b, "cache_hits_total", "Answers served from the cache.", LD(m->cache_hits));
    counter(&b, "cache_misses_total", "Queries the cache could not answer.", LD(m->cache_misses));
    counter(&b, "cache_stale_answers_total", "Stale answers served while upstreams failed (RFC 8767).",
            LD(m->cache_stale));
    gauge(&b, "cache_entries", "Entries in the response cache.", LD(m->cache_entries));
    cw_buf_adds(&b, "# HELP crosswatch_dns_blocks_total Queries answered by a policy rule, by list and view.\n"
                    "# TYPE crosswatch_dns_blocks_total counter\n");
    pthread_mutex_lock(&m->mu);
    for (unsigned v = 0; v < m->nviews; v++)
        for (unsigned l = 0; l <= CW_DNSD_MAX_LISTS; l++) {
            uint64_t n = LD(m->blocks[v][l]);
            if (!n)
                continue;
            cw_buf_adds(&b, "crosswatch_dns_blocks_total{list=\"");
            add_label(&b, l < m->nlists ? m->lists[l] : "other");
            cw_buf_adds(&b, "\",view=\"");
            add_label(&b, m->views[v]);
            cw_buf_addf(&b, "\"} %llu\n", (unsigned long long)n);
        }
    pthread_mutex_unlock(&m->mu);
    counter(&b, "upstream_queries_total", "Queries forwarded to upstreams.", LD(m->upstream_queries));
    counter(&b, "upstream_failures_total", "Upstream queries that timed out or failed.",
            LD(m->upstream_failures));
    counter(&b, "upstream_tc_fallbacks_total", "Truncated upstream answers retried over TCP.",
            LD(m->upstream_tc));
    cw_buf_adds(&b, "# HELP crosswatch_dns_upstream_latency_seconds Upstream answer latency.\n"
                    "# TYPE crosswatch_dns_upstream_latency_seconds histogram\n");
    uint64_t cum = 0;
    for (int i = 0; i < CW_DNSD_LAT_BUCKETS; i++) {
        cum += LD(m->lat_bucket[i]);
        cw_buf_addf(&b, "crosswatch_dns_upstream_latency_seconds_bucket{le=\"%g\"} %llu\n",
                    (double)lat_le_us[i] / 1e6, (unsigned long long)cum);
    }
    cum += LD(m->lat_bucket[CW_DNSD_LAT_BUCKETS]);
    cw_buf_addf(&b, "crosswatch_dns_upstream_latency_seconds_bucket{le=\"+Inf\"} %llu\n"
                    "crosswatch_dns_upstream_latency_seconds_sum %.6f\n"
                    "crosswatch_dns_upstream_latency_seconds_count %llu\n",
                (unsigned long long)cum, (double)LD(m->lat_sum_us) / 1e6, (unsigned long long)cum);
    counter(&b, "malformed_total", "Malformed queries (answered FORMERR or dropped).",
            LD(m->malformed));
    cw_buf_adds(&b, "# HELP crosswatch_dns_dropped_total Queries dropped without an answer.\n"
                    "# TYPE crosswatch_dns_dropped_total counter\n");
    for (int i = 0; i < CW_DROP__COUNT; i++)
        cw_buf_addf(&b, "crosswatch_dns_dropped_total{reason=\"%s\"} %llu\n", drop_names[i],
                    (unsigned long long)LD(m->dropped[i]));
    gauge(&b, "tcp_connections", "Open client TCP and TLS connections.", LD(m->tcp_conns));
    cw_buf_addf(&b, "# HELP crosswatch_dns_tls_handshakes_total DNS over TLS handshakes.\n"
                    "# TYPE crosswatch_dns_tls_handshakes_total counter\n"
                    "crosswatch_dns_tls_handshakes_total{result=\"ok\"} %llu\n"
                    "crosswatch_dns_tls_handshakes_total{result=\"failed\"} %llu\n"
                    "crosswatch_dns_tls_handshakes_total{result=\"timeout\"} %llu\n",
                (unsigned long long)LD(m->tls_handshakes[0]),
                (unsigned long long)LD(m->tls_handshakes[1]),
                (unsigned long long)LD(m->tls_handshakes[2]));
    cw_buf_addf(&b, "# HELP crosswatch_dns_rrl_total UDP queries over the rate limit: dropped, or "
                    "slipped (answered empty with TC).\n"
                    "# TYPE crosswatch_dns_rrl_total counter\n"
                    "crosswatch_dns_rrl_total{action=\"drop\"} %llu\n"
                    "crosswatch_dns_rrl_total{action=\"slip\"} %llu\n",
                (unsigned long long)LD(m->rrl[0]), (unsigned long long)LD(m->rrl[1]));
    cw_buf_adds(&b, "# HELP crosswatch_dns_policy_reloads_total Policy reloads (SIGHUP).\n"
                    "# TYPE crosswatch_dns_policy_reloads_total counter\n");
    cw_buf_addf(&b, "crosswatch_dns_policy_reloads_total{result=\"ok\"} %llu\n"
                    "crosswatch_dns_policy_reloads_total{result=\"failed\"} %llu\n",
                (unsigned long long)LD(m->reload_ok), (unsigned long long)LD(m->reload_failed));
    counter(&b, "telemetry_spooled_total", "Query records written to the spool.",
            cw_dnsd_tel_spooled(m->tel));
    counter(&b, "telemetry_sampled_out_total", "Answers not recorded because of --sample.",
            LD(m->sampled_out));
    counter(&b, "telemetry_dropped_total", "Query records dropped (spool full or unwritable).",
            cw_dnsd_tel_dropped(m->tel));
    gauge(&b, "telemetry_spool_bytes", "Bytes waiting in the spool for the center.",
          cw_dnsd_tel_spool_bytes(m->tel));
    if (m->feed)
        render_feed(&b, m->feed);
    if (m->tap) {
        uint64_t queued, dropped;
        cw_dnstap_counts(m->tap, &queued, &dropped);
        cw_buf_addf(&b, "# HELP crosswatch_dns_dnstap_frames_total dnstap frames queued for the "
                        "writer, or dropped (queue full: the reader is slow or away).\n"
                        "# TYPE crosswatch_dns_dnstap_frames_total counter\n"
                        "crosswatch_dns_dnstap_frames_total{result=\"queued\"} %llu\n"
                        "crosswatch_dns_dnstap_frames_total{result=\"dropped\"} %llu\n",
                    (unsigned long long)queued, (unsigned long long)dropped);
    }
    if (!cw_buf_ok(&b)) {
        cw_buf_release(&b);
        return NULL;
    }
    return cw_buf_detach(&b, len);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **ptr)
{
    struct cw_dnsd_metrics *m = cls;
    struct MHD_Response *r;
    unsigned status = MHD_HTTP_OK;
    if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
        static const char msg[] = "method not allowed\n";
        r = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
    } else if (strcmp(url, "/metrics") && strcmp(url, "/")) {
        static const char msg[] = "not found: the metrics are at /metrics\n";
        r = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
        status = MHD_HTTP_NOT_FOUND;
    } else {
        size_t n = 0;
        char *text = cw_dnsd_metrics_render(m, &n);
        if (!text)
            return MHD_NO;
        r = MHD_create_response_from_buffer(n, text, MHD_RESPMEM_MUST_FREE);
        if (r)
            MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4");
    }
    if (!r)
        return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

int cw_dnsd_metrics_serve(struct cw_dnsd_metrics *m, int fd, char *err, size_t errlen)
{
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY, 0, NULL, NULL, on_request, m,
        MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
    if (!d) {
        snprintf(err, errlen, "cannot start the metrics endpoint");
        return -1;
    }
    m->httpd = d;
    return 0;
}

void cw_dnsd_metrics_release(struct cw_dnsd_metrics *m)
{
    if (m->httpd)
        MHD_stop_daemon(m->httpd);
    m->httpd = NULL;
    pthread_mutex_destroy(&m->mu);
}
