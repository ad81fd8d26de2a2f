/* dnsd_feed.c - the feed thread: long-poll, apply, publish, save (dnsd_feed.h). */
#include "dns/dnsd_feed.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"
#include "ship/backoff.h"
#include "ship/durable.h"
#include "common/banned.h"

#define MAX_BODY (256u << 20)
#define JOURNAL_MAX (8u << 20) /* past this the journal is folded into policy.json */

struct cw_dnsd_feed {
    struct cw_dnsd_feed_opts o;
    char *key, *url_base, *dir; /* owned copies */
    struct cw_feed_state *st;
    struct cw_dnsd_feed_stats stats;
    CURL *curl;
    struct curl_slist *hdr;
    struct cw_buf body;
    bool too_big;
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    _Atomic bool stop;
    size_t journal_bytes;
    int last_err; /* for logging a failure once, not on every retry */
};

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* -- saved state ------------------------------------------------------------------- */

static int save_full(struct cw_dnsd_feed *f)
{
    if (!f->dir)
        return 0;
    struct cw_buf b;
    cw_buf_init(&b);
    int rc = cw_feed_state_write(f->st, &b);
    if (!rc)
        rc = cw_durable_write(f->dir, "policy.json", b.data, b.len);
    if (!rc)
        rc = cw_durable_unlink(f->dir, "journal.ndjson");
    cw_buf_release(&b);
    if (rc)
        cw_warn("feed: cannot save the policy in %s: %s", f->dir, strerror(errno));
    else
        f->journal_bytes = 0;
    return rc;
}

/* One applied incremental answer, appended and fdatasync'ed. */
static int save_delta(struct cw_dnsd_feed *f, const struct cw_feed_msg *m, uint64_t since)
{
    if (!f->dir)
        return 0;
    if (f->journal_bytes > JOURNAL_MAX)
        return save_full(f);
    struct cw_buf b;
    cw_buf_init(&b);
    cw_feed_msg_write(m, (int64_t)since, &b);
    char path[4200];
    snprintf(path, sizeof(path), "%s/journal.ndjson", f->dir);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    bool ok = fd >= 0 && cw_buf_ok(&b) && write(fd, b.data, b.len) == (ssize_t)b.len &&
              fdatasync(fd) == 0;
    if (fd >= 0)
        close(fd);
    f->journal_bytes += b.len;
    cw_buf_release(&b);
    if (!ok) {
        cw_warn("feed: cannot append to %s: %s; saving the whole policy", path, strerror(errno));
        return save_full(f);
    }
    return 0;
}

static void publish(struct cw_dnsd_feed *f)
{
    struct cw_feed_snap *s = cw_feed_state_snapshot(f->st);
    atomic_store(&f->stats.serial, cw_feed_state_serial(f->st));
    atomic_store(&f->stats.rules, cw_feed_state_rules(f->st));
    if (s)
        f->o.publish(f->o.ctx, s);
}

/* Apply one parsed answer from the center or the journal; false when the state
 * could not take it (out of memory). */
static bool apply(struct cw_dnsd_feed *f, const struct cw_feed_msg *m)
{
    if (cw_feed_state_apply(f->st, m)) {
        cw_error("feed: out of memory applying serial %" PRIu64 "; resyncing in full", m->serial);
        return false;
    }
    return true;
}

static void load_saved(struct cw_dnsd_feed *f)
{
    char path[4200], err[300];
    char *text = NULL;
    size_t n = 0;
    snprintf(path, sizeof(path), "%s/policy.json", f->dir);
    if (cw_durable_read(path, MAX_BODY, &text, &n)) {
        if (errno != ENOENT)
            cw_warn("feed: cannot read %s: %s", path, strerror(errno));
        return;
    }
    struct cw_feed_msg m;
    if (cw_feed_parse(text, n, &m, err, sizeof(err)) || !m.full || !apply(f, &m)) {
        cw_warn("feed: %s is not a saved policy (%s); waiting for the center", path,
                m.full ? err : "not a full policy");
        cw_feed_msg_release(&m);
        free(text);
        return;
    }
    cw_feed_msg_release(&m);
    free(text);
    size_t deltas = 0;
    snprintf(path, sizeof(path), "%s/journal.ndjson", f->dir);
    if (cw_durable_read(path, MAX_BODY, &text, &n) == 0) {
        f->journal_bytes = n;
        for (char *line = text, *end; line < text + n; line = end + 1) {
            end = memchr(line, '\n', (size_t)(text + n - line));
            if (!end)
                break; /* a line cut by a crash: the center sends it again */
            if (cw_feed_parse(line, (size_t)(end - line), &m, err, sizeof(err)) == 0 &&
                !m.full && m.since == (int64_t)cw_feed_state_serial(f->st)) {
                if (!apply(f, &m)) {
                    cw_feed_msg_release(&m);
                    break;
                }
                deltas++;
            }
            cw_feed_msg_release(&m);
        }
        free(text);
    }
    cw_info("feed: restored serial %" PRIu64 ", %zu rules from %s (%zu changes after the last "
            "full policy)", cw_feed_state_serial(f->st), cw_feed_state_rules(f->st), f->dir,
            deltas);
    publish(f);
}

/* -- polling ----------------------------------------------------------------------- */

static size_t on_body(char *p, size_t sz, size_t nm, void *ctx)
{
    struct cw_dnsd_feed *f = ctx;
    size_t n = sz * nm;
    if (f->body.len + n > MAX_BODY) {
        f->too_big = true;
        return 0;
    }
    cw_buf_add(&f->body, p, n);
    return cw_buf_ok(&f->body) ? n : 0;
}

static int on_progress(void *ctx, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    struct cw_dnsd_feed *f = ctx;
    return atomic_load(&f->stop) ? 1 : 0;
}

/* A failure, logged when it differs from the previous one (a center that stays
 * away is logged once, not on every retry). */
static void failed(struct cw_dnsd_feed *f, int kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void failed(struct cw_dnsd_feed *f, int kind, const char *fmt, ...)
{
    atomic_fetch_add(&f->stats.sync_errors, 1);
    if (kind == f->last_err)
        return;
    f->last_err = kind;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cw_warn("feed: %s (the policy in force stays; retrying)", msg);
}

/* One long poll. 0 after a good answer, -1 on failure (back off). */
static int poll_once(struct cw_dnsd_feed *f)
{
    char url[4400];
    uint64_t since = cw_feed_state_serial(f->st);
    snprintf(url, sizeof(url), "%s/api/v1/rpz/feed?since=%" PRIu64 "&wait=%u", f->url_base, since,
             f->o.wait_s);
    cw_buf_clear(&f->body);
    f->too_big = false;
    curl_easy_setopt(f->curl, CURLOPT_URL, url);
    CURLcode cc = curl_easy_perform(f->curl);
    if (atomic_load(&f->stop))
        return 0;
    long status = 0;
    curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK) {
        failed(f, 1, "%s: %s", f->url_base,
               f->too_big ? "answer larger than 256 MiB" : curl_easy_strerror(cc));
        return -1;
    }
    if (status != 200) {
        int n = (int)(f->body.len > 200 ? 200 : f->body.len);
        failed(f, (int)status, "%s answered %ld: %.*s", f->url_base, status, n,
               f->body.data ? f->body.data : "");
        return -1;
    }
    int64_t t0 = mono_us();
    struct cw_feed_msg m;
    char err[300];
    if (cw_feed_parse(f->body.data, f->body.len, &m, err, sizeof(err))) {
        failed(f, 2, "not a feed answer: %s", err);
        cw_feed_msg_release(&m);
        return -1;
    }
    if (m.bad)
        cw_warn("feed: serial %" PRIu64 ": %zu rules skipped (%s)", m.serial, m.bad,
                m.bad_reason);
    f->last_err = 0;
    atomic_store(&f->stats.last_sync_ms, wall_ms());
    bool changed = m.full || m.n || m.serial != since;
    if (changed) {
        if (!apply(f, &m)) {
            cw_feed_msg_release(&m);
            return -1;
        }
        publish(f); /* enforced from here on; saving comes after */
        int64_t us = mono_us() - t0;
        atomic_store(&f->stats.apply_us_last, (uint64_t)us);
        atomic_fetch_add(&f->stats.apply_us_sum, (uint64_t)us);
        atomic_fetch_add(&f->stats.applies, 1);
        atomic_fetch_add(m.full ? &f->stats.syncs_full : &f->stats.syncs_delta, 1);
        cw_info("feed: serial %" PRIu64 " (%s, %zu rules in the answer): %zu rules in force, "
                "applied in %.3f ms", m.serial, m.full ? "full" : "changes", m.n,
                cw_feed_state_rules(f->st), (double)us / 1000);
        if (m.full)
            save_full(f);
        else
            save_delta(f, &m, since);
    }
    cw_feed_msg_release(&m);
    if (changed && cw_feed_state_should_merge(f->st)) {
        int64_t t1 = mono_us();
        if (cw_feed_state_merge(f->st) == 0) {
            publish(f);
            atomic_fetch_add(&f->stats.merges, 1);
            cw_info("feed: merged the changes into a new base (%zu rules) in %.3f ms",
                    cw_feed_state_rules(f->st), (double)(mono_us() - t1) / 1000);
            save_full(f);
        }
    }
    return 0;
}

static void *feed_main(void *arg)
{
    struct cw_dnsd_feed *f = arg;
    struct cw_backoff bo;
    cw_backoff_init(&bo, 500, 30000);
    while (!atomic_load(&f->stop)) {
        if (poll_once(f) == 0) {
            cw_backoff_reset(&bo);
            continue;
        }
        int64_t ms = cw_backoff_next(&bo);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += ms / 1000;
        ts.tv_nsec += (ms % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_mutex_lock(&f->mu);
        while (!atomic_load(&f->stop) && pthread_cond_timedwait(&f->cv, &f->mu, &ts) == 0)
            ;
        pthread_mutex_unlock(&f->mu);
    }
    return NULL;
}

static void feed_free(struct cw_dnsd_feed *f)
{
    if (f->curl)
        curl_easy_cleanup(f->curl);
    curl_slist_free_all(f->hdr);
    cw_buf_release(&f->body);
    cw_feed_state_free(f->st);
    if (f->key)
        explicit_bzero(f->key, strlen(f->key));
    free(f->key);
    free(f->url_base);
    free(f->dir);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    free(f);
}

struct cw_dnsd_feed *cw_dnsd_feed_start(const struct cw_dnsd_feed_opts *o, char *err,
                                        size_t errlen)
{
    struct cw_dnsd_feed *f = calloc(1, sizeof(*f));
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    f->o = *o;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    cw_buf_init(&f->body);
    size_t ul = strlen(o->center);
    while (ul && o->center[ul - 1] == '/')
        ul--;
    char auth[1200];
    f->key = strdup(o->key ? o->key : "");
    f->url_base = strndup(o->center, ul);
    f->st = cw_feed_state_new(CW_FEED_ZONE_DEFAULT, o->merge_at);
    f->curl = curl_easy_init();
    if (!f->key || !f->url_base || !f->st || !f->curl ||
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", f->key) >= (int)sizeof(auth) ||
        !(f->hdr = curl_slist_append(NULL, auth))) {
        snprintf(err, errlen, "feed: cannot set up libcurl (or the key is too long)");
        explicit_bzero(auth, sizeof(auth));
        feed_free(f);
        return NULL;
    }
    explicit_bzero(auth, sizeof(auth));
    if (o->state_dir) {
        char dir[4200];
        snprintf(dir, sizeof(dir), "%s/feed", o->state_dir);
        if (cw_durable_mkdirs(dir) || !(f->dir = strdup(dir))) {
            snprintf(err, errlen, "feed: cannot create %s: %s", dir, strerror(errno));
            feed_free(f);
            return NULL;
        }
        cw_durable_clean_tmp(f->dir);
        load_saved(f);
    }
    CURL *c = f->curl;
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, f->hdr);
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, f);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    /* the center holds a poll up to wait_s: allow that plus time for a big answer */
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(o->wait_s + 120) * 1000L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "crosswatch-dns/0.1.0");
    if (pthread_create(&f->thread, NULL, feed_main, f)) {
        snprintf(err, errlen, "feed: cannot start its thread");
        feed_free(f);
        return NULL;
    }
    f->started = true;
    return f;
}

void cw_dnsd_feed_stop(struct cw_dnsd_feed *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->mu);
    atomic_store(&f->stop, true);
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
    if (f->started)
        pthread_join(f->thread, NULL);
    feed_free(f);
}

const struct cw_dnsd_feed_stats *cw_dnsd_feed_stats(const struct cw_dnsd_feed *f)
{
    return f ? &f->stats : NULL;
}
