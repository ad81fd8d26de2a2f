#include "ship/sender.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/codec.h"
#include "common/log.h"
#include "ship/backoff.h"
#include "ship/reply.h"
#include "common/banned.h"

#define BACKOFF_BASE_MS 200
#define BACKOFF_CAP_MS 30000
#define REFUSED_RETRY_MS 30000 /* key or format refused: an operator must act */
#define IDLE_WAIT_MS 1000

struct cw_sender {
    const struct cw_ship_opts *o;
    struct cw_ship_shared *sh;
    CURL *curl;
    char auth[1024];
    char base_url[2048];
    uint64_t *queue;
    size_t nq, iq;
    uint64_t next_from; /* lowest seq not yet handled */
    struct cw_buf resp;
    struct cw_backoff backoff;
    pthread_t thread;
    bool started;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

struct cw_sender *cw_sender_new(const struct cw_ship_opts *o, struct cw_ship_shared *sh)
{
    pthread_once(&curl_once, curl_init_once);
    struct cw_sender *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->o = o;
    s->sh = sh;
    s->curl = curl_easy_init();
    if (!s->curl) {
        free(s);
        return NULL;
    }
    snprintf(s->auth, sizeof(s->auth), "Authorization: Bearer %s", o->key ? o->key : "");
    size_t n = strlen(o->center);
    while (n > 0 && o->center[n - 1] == '/')
        n--;
    snprintf(s->base_url, sizeof(s->base_url), "%.*s/api/v1/ingest?format=", (int)n, o->center);
    cw_buf_init(&s->resp);
    cw_backoff_init(&s->backoff, BACKOFF_BASE_MS, BACKOFF_CAP_MS);
    return s;
}

void cw_sender_free(struct cw_sender *s)
{
    if (!s)
        return;
    curl_easy_cleanup(s->curl);
    cw_buf_release(&s->resp);
    free(s->queue);
    /* the key was in auth: do not leave it in freed memory */
    explicit_bzero(s->auth, sizeof(s->auth));
    free(s);
}

/* Next seq to send, refilling the queue from the spool directory when empty.
 * Returns false when there is nothing sendable. */
static bool next_seq(struct cw_sender *s, uint64_t *seq)
{
    if (s->iq >= s->nq) {
        free(s->queue);
        s->queue = NULL;
        s->nq = s->iq = 0;
        uint64_t below = atomic_load(&s->sh->persisted_next_seq);
        if (cw_spool_list(&s->sh->spool, s->next_from, below, &s->queue, &s->nq)) {
            cw_error("cannot list the spool %s: %s", s->sh->spool.dir, strerror(errno));
            return false;
        }
    }
    if (s->iq >= s->nq)
        return false;
    *seq = s->queue[s->iq];
    return true;
}

static void done_with(struct cw_sender *s, uint64_t seq)
{
    s->iq++;
    s->next_from = seq + 1;
    cw_ship_shared_wake_reader(s->sh); /* spool space was freed */
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    struct cw_buf *b = ud;
    size_t n = size * nmemb;
    if (b->len + n > CW_REPLY_MAX_BYTES)
        return 0; /* abort: no honest answer is that big */
    cw_buf_add(b, p, n);
    return cw_buf_ok(b) ? n : 0;
}

static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    struct cw_sender *s = ud;
    return atomic_load(&s->sh->stop) ? 1 : 0;
}

/* POST the batch; returns the CURLcode, *status the HTTP status. */
static CURLcode post(struct cw_sender *s, const struct cw_spool_batch *b, long *status)
{
    char url[2200], idem[128], spool[64];
    snprintf(url, sizeof(url), "%s%s", s->base_url, b->hdr.format);
    snprintf(idem, sizeof(idem), "Idempotency-Key: %s-%" PRIu64, b->hdr.instance, b->hdr.seq);
    /* the center shows it as the sensor's health (docs/web.md) */
    snprintf(spool, sizeof(spool), "X-Spool-Bytes: %" PRIu64, (uint64_t)s->sh->spool.bytes);
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, s->auth);
    h = curl_slist_append(h, "Content-Encoding: zstd");
    h = curl_slist_append(h, "Content-Type: text/plain; charset=utf-8");
    h = curl_slist_append(h, idem);
    h = curl_slist_append(h, spool);
    h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
    CURL *c = s->curl;
    cw_buf_clear(&s->resp);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, b->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b->hdr.body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s->resp);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, s);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 300000L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "crosswatch-ship/0.1.0");
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(h);
    *status = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    return rc;
}

static void log_rejects(struct cw_sender *s, const struct cw_spool_batch *b,
                        const struct cw_ingest_reply *rep)
{
    char *raw = NULL;
    size_t rawn = 0;
    if (cw_decompress(CW_ENC_ZSTD, b->body, b->hdr.body, b->hdr.raw + 1, &raw, &rawn))
        raw = NULL;
    for (size_t i = 0; i < rep->kept; i++) {
        const char *line = "", *p = raw, *end = raw + rawn;
        size_t n = 0;
        for (int64_t k = 1; raw && p < end; k++) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            if (k == rep->reject[i].line) {
                line = p;
                n = (size_t)((nl ? nl : end) - p);
                break;
            }
            p = nl ? nl + 1 : end;
        }
        cw_info("batch %" PRIu64 " (%s) line %" PRId64 " rejected by the center: %s: %.*s%s",
                b->hdr.seq, b->hdr.input, rep->reject[i].line, rep->reject[i].reason,
                (int)(n > 200 ? 200 : n), line, n > 200 ? "..." : "");
    }
    if (rep->rejected > (int64_t)rep->kept)
        cw_info("batch %" PRIu64 ": %" PRId64 " more rejected lines not shown", b->hdr.seq,
                rep->rejected - (int64_t)rep->kept);
    free(raw);
}

static enum cw_send_result accepted(struct cw_sender *s, const struct cw_spool_batch *b)
{
    struct cw_ingest_reply rep;
    const char *why;
    if (cw_ingest_reply_parse(s->resp.data ? s->resp.data : "", s->resp.len, &rep, &why)) {
        /* a 200 means durable at the center whatever the body says */
        cw_warn("batch %" PRIu64 ": the center's 200 answer is unreadable (%s)", b->hdr.seq, why);
        memset(&rep, 0, sizeof(rep));
    }
    if (cw_spool_remove(&s->sh->spool, b->hdr.seq))
        cw_error("cannot delete sent batch %" PRIu64 " from the spool: %s (it would be resent "
                 "with the same key, which the center ignores)", b->hdr.seq, strerror(errno));
    done_with(s, b->hdr.seq);
    atomic_fetch_add(&s->sh->batches_sent, 1);
    atomic_fetch_add(&s->sh->lines_accepted, (uint64_t)rep.accepted);
    atomic_fetch_add(&s->sh->lines_rejected, (uint64_t)rep.rejected);
    if (rep.duplicate)
        atomic_fetch_add(&s->sh->duplicates, 1);
    cw_debug("sent batch %" PRIu64 " (%s, %" PRIu64 " lines): accepted %" PRId64
             ", rejected %" PRId64 "%s", b->hdr.seq, b->hdr.input, b->hdr.lines, rep.accepted,
             rep.rejected, rep.duplicate ? ", already stored (resent)" : "");
    if (rep.rejected > 0 && s->o->verbose)
        log_rejects(s, b, &rep);
    cw_backoff_reset(&s->backoff);
    atomic_store(&s->sh->problem, CW_CENTER_OK);
    cw_ship_shared_center(s->sh, true, "batches accepted");
    return CW_SEND_OK;
}

static enum cw_send_result refused(struct cw_sender *s, const struct cw_spool_batch *b,
                                   long status)
{
    char why[160], msg[400];
    cw_ingest_reply_error(s->resp.data, s->resp.len, why, sizeof(why));
    if (status == 401 || status == 403) {
        snprintf(msg, sizeof(msg), "center refuses the sensor key (HTTP %ld%s%s)", status,
                 why[0] ? ": " : "", why);
        cw_error("%s: the key is unknown or revoked; ask the center's operator for a valid key. "
                 "Batches stay spooled and are retried every %d s", msg, REFUSED_RETRY_MS / 1000);
        atomic_store(&s->sh->problem, CW_CENTER_AUTH);
        cw_ship_shared_center(s->sh, false, msg);
        return CW_SEND_AUTH;
    }
    snprintf(msg, sizeof(msg), "center refuses format '%s' (HTTP %ld%s%s)", b->hdr.format,
             status, why[0] ? ": " : "", why);
    cw_error("%s: this is a configuration error (check --format / --file FORMAT:PATH). "
             "Batches stay spooled and are retried every %d s", msg, REFUSED_RETRY_MS / 1000);
    atomic_store(&s->sh->problem, CW_CENTER_FORMAT);
    cw_ship_shared_center(s->sh, false, msg);
    return CW_SEND_FORMAT;
}

static enum cw_send_result set_aside(struct cw_sender *s, uint64_t seq, const char *why)
{
    if (cw_spool_reject(&s->sh->spool, seq)) {
        cw_error("batch %" PRIu64 ": %s, and moving it to %s failed: %s", seq, why,
                 s->sh->spool.rejected_dir, strerror(errno));
        return CW_SEND_RETRY;
    }
    cw_error("batch %" PRIu64 ": %s: moved to %s (counted as a rejected batch, not sent)", seq,
             why, s->sh->spool.rejected_dir);
    atomic_fetch_add(&s->sh->batches_too_large, 1);
    done_with(s, seq);
    return CW_SEND_SET_ASIDE;
}

enum cw_send_result cw_sender_step(struct cw_sender *s)
{
    uint64_t seq;
    if (!next_seq(s, &seq))
        return CW_SEND_IDLE;
    struct cw_spool_batch b;
    if (cw_spool_load(&s->sh->spool, seq, &b)) {
        if (errno == ENOENT) { /* removed by hand: nothing to send */
            done_with(s, seq);
            return CW_SEND_OK;
        }
        if (errno == EBADMSG)
            return set_aside(s, seq, "the spool file is malformed");
        cw_error("cannot read spool batch %" PRIu64 ": %s", seq, strerror(errno));
        return CW_SEND_RETRY;
    }
    long status;
    CURLcode rc = post(s, &b, &status);
    enum cw_send_result res;
    char why[300];
    if (rc != CURLE_OK) {
        snprintf(why, sizeof(why), "%s", curl_easy_strerror(rc));
        atomic_store(&s->sh->problem, CW_CENTER_UNREACHABLE);
        cw_ship_shared_center(s->sh, false, why);
        res = CW_SEND_RETRY;
    } else if (status == 200) {
        res = accepted(s, &b);
    } else if (status == 401 || status == 403 || status == 400 || status == 415) {
        res = refused(s, &b, status);
    } else if (status == 413) {
        snprintf(why, sizeof(why), "the center refuses it as too large (HTTP 413, %" PRIu64
                 " lines, %" PRIu64 " bytes)", b.hdr.lines, b.hdr.raw);
        res = set_aside(s, seq, why);
    } else {
        char err[160];
        cw_ingest_reply_error(s->resp.data, s->resp.len, err, sizeof(err));
        snprintf(why, sizeof(why), "HTTP %ld%s%s", status, err[0] ? ": " : "", err);
        atomic_store(&s->sh->problem, CW_CENTER_UNREACHABLE);
        cw_ship_shared_center(s->sh, false, why);
        res = CW_SEND_RETRY;
    }
    cw_spool_batch_release(&b);
    return res;
}

/* -- the thread ---------------------------------------------------------------- */

/* Sleep up to ms, or until kicked (new batch) when kickable, or stop. */
static void wait_for(struct cw_sender *s, int64_t ms, bool kickable)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->sh->mu);
    while (!atomic_load(&s->sh->stop) && !(kickable && s->sh->sender_kick))
        if (pthread_cond_timedwait(&s->sh->wake_sender, &s->sh->mu, &ts))
            break;
    s->sh->sender_kick = false;
    pthread_mutex_unlock(&s->sh->mu);
}

static void *sender_main(void *arg)
{
    struct cw_sender *s = arg;
    while (!atomic_load(&s->sh->stop)) {
        switch (cw_sender_step(s)) {
        case CW_SEND_OK:
        case CW_SEND_SET_ASIDE: break;
        case CW_SEND_IDLE: wait_for(s, IDLE_WAIT_MS, true); break;
        case CW_SEND_RETRY: wait_for(s, cw_backoff_next(&s->backoff), false); break;
        default: wait_for(s, REFUSED_RETRY_MS, false); break;
        }
    }
    return NULL;
}

int cw_sender_start(struct cw_sender *s)
{
    if (pthread_create(&s->thread, NULL, sender_main, s))
        return -1;
    s->started = true;
    return 0;
}

void cw_sender_stop(struct cw_sender *s)
{
    if (!s->started)
        return;
    atomic_store(&s->sh->stop, true);
    cw_ship_shared_wake_sender(s->sh);
    pthread_join(s->thread, NULL);
    s->started = false;
}
