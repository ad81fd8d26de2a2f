/* api_web.c - what the dashboard draws (docs/web.md):
 *
 *   GET /api/v1/live            Server-Sent Events: counters at once, then every 2 s
 *   GET /api/v1/series          a chart's points (records, detections, events, notices, noise)
 *   GET /api/v1/summary         counts by attack class, severity, state, noise reason, member
 *   GET /api/v1/notices/stats   notices per month and per fiscal year (April-March)
 * Each is scoped to the caller's member by the dispatcher's req->scope; series,
 * summary and stats also answer CSV with ?format=csv (verbatim; &for=spreadsheet
 * defuses cells a spreadsheet would run as formulas, common/csv.h).
 *
 * Live streams: the handler answers with a callback response whose reader hands out
 * the stream's pending message and, when there is none, suspends the connection. One
 * thread of this module builds the next message every 2 s (one store query per
 * distinct scope) and resumes the connections. So a stream costs a connection, never a
 * worker thread; at most live_max_streams are open (503 beyond). A stream's first
 * message is one built for its scope in the last 2 s when there is one (by that thread or
 * for another request): many dashboards opening at once cost one query per scope. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "center/http.h"
#include "center/store_web.h"
#include "center/web.h"
#include "common/csv.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "triage/noise.h"
#include "common/banned.h"

#define LIVE_PERIOD_MS 2000
#define LIVE_MSG_CAP 2048
#define LIVE_RECENT 32 /* scopes whose last message is kept for first messages */

struct live_stream {
    struct cw_live *hub;
    struct MHD_Connection *conn;
    uint32_t scope;
    bool suspended, once, ended;
    size_t len, off;
    char msg[LIVE_MSG_CAP];
    struct live_stream *prev, *next;
};

/* The last message built for a scope, and when (monotonic ms). */
struct live_recent {
    uint32_t scope;
    int64_t at_ms;
    size_t len;
    char msg[LIVE_MSG_CAP];
};

struct cw_live {
    struct cw_store *store;
    int64_t max, silent_after_us;
    struct live_recent recent[LIVE_RECENT]; /* under lock */
    pthread_mutex_t lock;
    pthread_cond_t cond;   /* wakes the thread (stop) and the shutdown (a stream ended) */
    pthread_t thread;
    bool started, stopping;
    struct live_stream *head;
    int64_t count;
};

/* "event: counters\ndata: {...}\n\n" for scope into out; returns its length or 0. */
static size_t counters_message(struct cw_store *s, uint32_t scope, int64_t silent_after_us,
                               char *out, size_t cap)
{
    struct cw_live_counters k;
    char err[256], ts[40];
    int64_t now = cw_now_us();
    if (cw_store_live_counters(s, scope, now, silent_after_us, &k, err, sizeof(err))) {
        cw_warn("live: %s", err);
        return 0;
    }
    cw_time_format_iso(now, ts);
    struct cw_buf b = CW_BUF_INIT;
    cw_buf_addf(&b, "event: counters\ndata: {\"time\":\"%s\",\"records_in\":%lld,"
                    "\"records_per_min\":%lld,\"detections\":%lld,\"noise_dropped\":{",
                ts, (long long)k.records_in, (long long)k.records_per_min,
                (long long)k.detections);
    for (int r = 1; r < CW_NOISE__COUNT && r < 8; r++)
        cw_buf_addf(&b, "%s\"%s\":%lld", r > 1 ? "," : "",
                    cw_noise_reason_name((enum cw_noise_reason)r), (long long)k.noise[r]);
    cw_buf_addf(&b, "},\"open_events\":{\"critical\":%lld,\"high\":%lld,\"medium\":%lld,"
                    "\"low\":%lld,\"info\":%lld},\"sensors_silent\":%lld,"
                    "\"notices_overdue\":%lld}\n\n",
                (long long)k.open_by_sev[1], (long long)k.open_by_sev[2],
                (long long)k.open_by_sev[3], (long long)k.open_by_sev[4],
                (long long)k.open_by_sev[5], (long long)k.sensors_silent,
                (long long)k.notices_overdue);
    size_t n = 0;
    if (cw_buf_ok(&b) && b.len < cap) {
        memcpy(out, b.data, b.len);
        n = b.len;
    }
    cw_buf_release(&b);
    return n;
}

/* Keep msg as scope's latest (lock held): its slot, else the oldest. */
static void recent_put(struct cw_live *l, uint32_t scope, const char *msg, size_t len,
                       int64_t at_ms)
{
    struct live_recent *slot = &l->recent[0];
    for (size_t i = 0; i < LIVE_RECENT; i++) {
        struct live_recent *r = &l->recent[i];
        if (r->len && r->scope == scope) {
            slot = r;
            break;
        }
        if (!r->len || r->at_ms < slot->at_ms)
            slot = r;
    }
    if (len > sizeof(slot->msg))
        return;
    slot->scope = scope;
    slot->at_ms = at_ms;
    slot->len = len;
    memcpy(slot->msg, msg, len);
}

/* scope's message from the last LIVE_PERIOD_MS into out, or a new one (0 = none). */
static size_t live_first_message(struct cw_live *l, uint32_t scope, char *out, size_t cap)
{
    int64_t now = cw_monotonic_ms();
    size_t n = 0;
    pthread_mutex_lock(&l->lock);
    for (size_t i = 0; i < LIVE_RECENT && !n; i++) {
        const struct live_recent *r = &l->recent[i];
        if (r->len && r->scope == scope && now - r->at_ms < LIVE_PERIOD_MS && r->len <= cap) {
            memcpy(out, r->msg, r->len);
            n = r->len;
        }
    }
    pthread_mutex_unlock(&l->lock);
    if (n)
        return n;
    n = counters_message(l->store, scope, l->silent_after_us, out, cap);
    if (n) {
        pthread_mutex_lock(&l->lock);
        recent_put(l, scope, out, n, now);
        pthread_mutex_unlock(&l->lock);
    }
    return n;
}

/* ---------------------------------------------------------------- the stream */

static ssize_t live_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct live_stream *st = cls;
    struct cw_live *l = st->hub;
    ssize_t n;
    pthread_mutex_lock(&l->lock);
    if (st->off < st->len) {
        size_t k = st->len - st->off < max ? st->len - st->off : max;
        memcpy(buf, st->msg + st->off, k);
        st->off += k;
        if (st->off == st->len && st->once)
            st->ended = true;
        n = (ssize_t)k;
    } else if (st->ended || l->stopping) {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    } else {
        /* nothing to say until the next tick: give the worker back */
        st->suspended = true;
        MHD_suspend_connection(st->conn);
        n = 0;
    }
    pthread_mutex_unlock(&l->lock);
    return n;
}

static void live_free(void *cls)
{
    struct live_stream *st = cls;
    struct cw_live *l = st->hub;
    pthread_mutex_lock(&l->lock);
    if (st->prev)
        st->prev->next = st->next;
    else if (l->head == st)
        l->head = st->next;
    if (st->next)
        st->next->prev = st->prev;
    l->count--;
    pthread_cond_broadcast(&l->cond);
    pthread_mutex_unlock(&l->lock);
    free(st);
}

/* Resumes the connections of streams marked suspended (lock held): collected into
 * conns, resumed by the caller after unlocking. A suspended connection cannot end,
 * so it stays valid until resumed. */
static size_t take_suspended(struct cw_live *l, struct MHD_Connection **conns, size_t cap)
{
    size_t n = 0;
    for (struct live_stream *st = l->head; st && n < cap; st = st->next)
        if (st->suspended && (st->off < st->len || l->stopping || st->ended)) {
            st->suspended = false;
            conns[n++] = st->conn;
        }
    return n;
}

static void *live_thread(void *arg)
{
    struct cw_live *l = arg;
    size_t cap = (size_t)l->max + 1;
    uint32_t *scopes = calloc(cap, sizeof(*scopes));
    struct MHD_Connection **conns = calloc(cap, sizeof(*conns));
    char(*msgs)[LIVE_MSG_CAP] = calloc(cap, LIVE_MSG_CAP);
    size_t *lens = calloc(cap, sizeof(*lens));
    if (!scopes || !conns || !msgs || !lens) {
        cw_error("live: out of memory; counter streams will not update");
        goto out;
    }
    pthread_mutex_lock(&l->lock);
    while (!l->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += LIVE_PERIOD_MS / 1000;
        while (!l->stopping &&
               pthread_cond_timedwait(&l->cond, &l->lock, &until) != ETIMEDOUT)
            ;
        if (l->stopping)
            break;
        size_t ns = 0;
        for (struct live_stream *st = l->head; st; st = st->next) {
            size_t i = 0;
            while (i < ns && scopes[i] != st->scope)
                i++;
            if (i == ns && ns < cap)
                scopes[ns++] = st->scope;
        }
        pthread_mutex_unlock(&l->lock);
        /* the queries run without the hub's lock: streams come and go meanwhile */
        int64_t built = cw_monotonic_ms();
        for (size_t i = 0; i < ns; i++)
            lens[i] = counters_message(l->store, scopes[i], l->silent_after_us, msgs[i],
                                       LIVE_MSG_CAP);
        pthread_mutex_lock(&l->lock);
        for (size_t i = 0; i < ns; i++)
            if (lens[i])
                recent_put(l, scopes[i], msgs[i], lens[i], built);
        for (struct live_stream *st = l->head; st; st = st->next) {
            if (st->off < st->len || st->ended)
                continue; /* a slow reader skips a beat */
            for (size_t i = 0; i < ns; i++)
                if (scopes[i] == st->scope && lens[i]) {
                    memcpy(st->msg, msgs[i], lens[i]);
                    st->len = lens[i];
                    st->off = 0;
                }
        }
        size_t nc = take_suspended(l, conns, cap);
        pthread_mutex_unlock(&l->lock);
        for (size_t i = 0; i < nc; i++)
            MHD_resume_connection(conns[i]);
        pthread_mutex_lock(&l->lock);
    }
    pthread_mutex_unlock(&l->lock);
out:
    free(scopes);
    free(conns);
    free(msgs);
    free(lens);
    return NULL;
}

struct cw_live *cw_live_new(struct cw_store *s, int64_t max_streams, int64_t silent_after_us,
                            char *err, size_t errlen)
{
    struct cw_live *l = calloc(1, sizeof(*l));
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    l->store = s;
    l->max = max_streams;
    l->silent_after_us = silent_after_us;
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->cond, NULL);
    if (pthread_create(&l->thread, NULL, live_thread, l) != 0) {
        snprintf(err, errlen, "cannot start the live counters thread");
        cw_live_free(l);
        return NULL;
    }
    l->started = true;
    return l;
}

void cw_live_shutdown(struct cw_live *l)
{
    if (!l || !l->started)
        return;
    pthread_mutex_lock(&l->lock);
    l->stopping = true;
    pthread_cond_broadcast(&l->cond);
    pthread_mutex_unlock(&l->lock);
    pthread_join(l->thread, NULL);
    l->started = false;
    /* libmicrohttpd must not stop with suspended connections: resume them all and give
     * them a moment to end (their reader now answers end of stream) */
    for (int round = 0; round < 50; round++) {
        struct MHD_Connection *conns[256];
        pthread_mutex_lock(&l->lock);
        size_t nc = take_suspended(l, conns, 256);
        bool any = l->count > 0;
        pthread_mutex_unlock(&l->lock);
        for (size_t i = 0; i < nc; i++)
            MHD_resume_connection(conns[i]);
        if (!any)
            break;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

void cw_live_free(struct cw_live *l)
{
    if (!l)
        return;
    cw_live_shutdown(l);
    pthread_mutex_destroy(&l->lock);
    pthread_cond_destroy(&l->cond);
    free(l);
}

static void live(struct cw_center *c, struct cw_http_request *req, struct cw_http_response *resp)
{
    struct cw_live *l = cw_web_live(cw_center_web(c));
    struct live_stream *st = calloc(1, sizeof(*st));
    if (!st) {
        cw_http_json_error(resp, 503, "out of memory");
        return;
    }
    st->hub = l;
    st->conn = req->conn;
    st->scope = req->scope;
    const char *once = cw_http_query(req, "once");
    st->once = once && !strcmp(once, "1");
    st->len = live_first_message(l, st->scope, st->msg, sizeof(st->msg));
    if (!st->len) {
        free(st);
        cw_http_json_error(resp, 503, "the counters cannot be read now");
        return;
    }
    pthread_mutex_lock(&l->lock);
    bool full = l->stopping || l->count >= l->max;
    if (!full)
        l->count++;
    pthread_mutex_unlock(&l->lock);
    if (full) {
        free(st);
        cw_http_json_error(resp, 503, "too many live streams are open; try again shortly");
        snprintf(resp->extra_header[0], sizeof(resp->extra_header[0]), "Retry-After: 5");
        return;
    }
    resp->mhd = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, live_read, st,
                                                  live_free);
    if (!resp->mhd) {
        pthread_mutex_lock(&l->lock);
        l->count--;
        pthread_mutex_unlock(&l->lock);
        free(st);
        cw_http_json_error(resp, 503, "out of memory");
        return;
    }
    pthread_mutex_lock(&l->lock);
    st->next = l->head;
    if (l->head)
        l->head->prev = st;
    l->head = st;
    pthread_mutex_unlock(&l->lock);
    resp->status = 200;
    resp->content_type = "text/event-stream; charset=utf-8";
}

/* ---------------------------------------------------------------- charts */

/* ?member=REF narrowed by the caller's scope. */
static int scope_param(struct cw_center *c, struct cw_http_request *req,
                       struct cw_http_response *resp, uint32_t *scope)
{
    const char *ref = cw_http_query(req, "member");
    uint32_t wanted = 0;
    if (ref && *ref) {
        struct cw_member_info m;
        if (cw_store_member_find(cw_center_store(c), ref, &m) != 0) {
            cw_http_json_error(resp, 404, "no such member");
            return -1;
        }
        wanted = m.id;
    }
    return cw_http_scope(req, resp, wanted, scope);
}

/* ?format=json|csv and, for CSV, ?for=machine|spreadsheet (common/csv.h) */
static int format_param(struct cw_http_request *req, struct cw_http_response *resp, bool *csv,
                        unsigned *csv_flags)
{
    const char *f = cw_http_query(req, "format");
    *csv = f && !strcmp(f, "csv");
    if (f && !*csv && strcmp(f, "json")) {
        cw_http_json_error(resp, 400, "format must be json or csv");
        return -1;
    }
    if (cw_csv_for(cw_http_query(req, "for"), csv_flags)) {
        cw_http_json_error(resp, 400, "for must be machine or spreadsheet");
        return -1;
    }
    if (*csv)
        resp->content_type = "text/csv; charset=utf-8";
    return 0;
}

static int time_param(struct cw_http_request *req, struct cw_http_response *resp,
                      const char *name, int64_t dflt, int64_t *out)
{
    const char *v = cw_http_query(req, name);
    *out = dflt;
    if (v && cw_time_parse_iso(v, strlen(v), out)) {
        cw_http_json_error(resp, 400, "%s must be an ISO 8601 time (2026-04-01T00:00:00Z)", name);
        return -1;
    }
    return 0;
}

static int name_index(const char *v, const char *const *names, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        if (!strcmp(v, names[i]))
            return (int)i;
    return -1;
}

static void answer_store(struct cw_http_response *resp, int r, const char *err)
{
    if (r == CW_STORE_INVALID)
        cw_http_json_error(resp, 400, "%s", err);
    else if (r)
        cw_http_json_error(resp, 503, "%s", err);
}

static void series(struct cw_center *c, struct cw_http_request *req,
                   struct cw_http_response *resp)
{
    static const char *const metrics[] = {"records", "detections", "events", "notices", "noise"};
    static const char *const buckets[] = {"hour", "day", "month"};
    uint32_t scope;
    bool csv;
    unsigned csv_flags; /* times, numbers and reason names only: nothing to defuse */
    int64_t from, to, now = cw_now_us();
    if (scope_param(c, req, resp, &scope) || format_param(req, resp, &csv, &csv_flags) ||
        time_param(req, resp, "to", now, &to) ||
        time_param(req, resp, "from", to - 30LL * 86400 * 1000000, &from))
        return;
    const char *mq = cw_http_query(req, "metric"), *bq = cw_http_query(req, "bucket");
    int m = name_index(mq, metrics, 5), bk = bq ? name_index(bq, buckets, 3) : 1;
    if (m < 0 || bk < 0) {
        cw_http_json_error(resp, 400, "metric must be records, detections, events, notices or "
                                      "noise; bucket hour, day or month");
        return;
    }
    char err[256];
    answer_store(resp, cw_store_series(cw_center_store(c), scope, (enum cw_series_metric)m,
                                       (enum cw_series_bucket)bk, from, to, csv, &resp->body,
                                       err, sizeof(err)), err);
}

static void summary(struct cw_center *c, struct cw_http_request *req,
                    struct cw_http_response *resp)
{
    uint32_t scope;
    bool csv;
    unsigned csv_flags;
    if (scope_param(c, req, resp, &scope) || format_param(req, resp, &csv, &csv_flags))
        return;
    const char *g = cw_http_query(req, "group");
    char err[256];
    answer_store(resp, cw_store_summary(cw_center_store(c), scope, g ? g : "", csv, csv_flags,
                                        &resp->body, err, sizeof(err)), err);
}

static void notice_stats(struct cw_center *c, struct cw_http_request *req,
                         struct cw_http_response *resp)
{
    uint32_t scope;
    bool csv;
    unsigned csv_flags; /* months and numbers only: nothing to defuse */
    if (scope_param(c, req, resp, &scope) || format_param(req, resp, &csv, &csv_flags))
        return;
    char err[256];
    answer_store(resp, cw_store_notice_stats(cw_center_store(c), scope, csv, &resp->body, err,
                                             sizeof(err)), err);
}

const struct cw_route cw_api_web_routes[] = {
    {"GET", "/api/v1/live", CW_ACCESS_USER, live},
    {"GET", "/api/v1/series", CW_ACCESS_USER, series},
    {"GET", "/api/v1/summary", CW_ACCESS_USER, summary},
    {"GET", "/api/v1/notices/stats", CW_ACCESS_USER, notice_stats},
    {NULL, NULL, 0, NULL},
};

/* ---------------------------------------------------------------- sensors' health */

void cw_web_sensor_fields(struct cw_web *w, struct cw_buf *o, const struct cw_sensor_info *si,
                          const struct cw_sensor_health *h, size_t nh)
{
    int64_t recs = 0, rej = 0, now = cw_now_us();
    for (size_t i = 0; i < nh; i++)
        if (h[i].sensor_id == si->id) {
            recs = h[i].records_10min;
            rej = h[i].rejected_1h;
        }
    int64_t spool = cw_web_spool_get(w, si->id);
    bool silent = !si->revoked_us &&
                  (!si->last_seen_us || now - si->last_seen_us > cw_web_silent_after_us(w));
    cw_buf_addf(o, ",\"records_per_min\":%lld,\"errors\":%lld,\"spool_bytes\":",
                (long long)(recs / 10), (long long)rej);
    if (spool < 0)
        cw_buf_adds(o, "null");
    else
        cw_buf_addf(o, "%lld", (long long)spool);
    cw_buf_addf(o, ",\"silent\":%s", silent ? "true" : "false");
}
