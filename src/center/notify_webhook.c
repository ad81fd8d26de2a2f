/* notify_webhook.c - webhook delivery worker (see notify_webhook.h). */
#include "center/notify_webhook.h"

#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "center/store_notices.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "common/banned.h"

#define POLL_MS 200
#define JOBS_PER_ROUND 16

struct cw_notifier {
    struct cw_store *s;
    bool allow_private;
    bool refused; /* set by open_checked during the current attempt (worker thread only) */
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_bool stop;
};

int64_t cw_webhook_backoff_ms(int attempts)
{
    int64_t d = CW_WEBHOOK_BACKOFF_BASE_MS;
    for (int i = 1; i < attempts && d < CW_WEBHOOK_BACKOFF_CAP_MS; i++)
        d *= 2;
    return d < CW_WEBHOOK_BACKOFF_CAP_MS ? d : CW_WEBHOOK_BACKOFF_CAP_MS;
}

void cw_webhook_sign(const char *key, size_t keylen, const char *body, size_t len, char *out)
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, keylen);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    memcpy(out, "sha256=", 7);
    sodium_bin2hex(out + 7, 2 * sizeof(mac) + 1, mac, sizeof(mac));
    sodium_memzero(&st, sizeof(st));
}

static size_t discard(char *p, size_t sz, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return sz * n;
}

static int progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt;
    (void)dn;
    (void)ut;
    (void)un;
    struct cw_notifier *n = ctx;
    return atomic_load(&n->stop) ? 1 : 0;
}

/* One attempt of one job; records it unless the worker is stopping. */
static curl_socket_t open_checked(void *ud, curlsocktype purpose, struct curl_sockaddr *addr);

static void deliver(struct cw_notifier *n, struct cw_delivery_job *j)
{
    char err[256], errbuf[CURL_ERROR_SIZE] = "";
    int64_t now = cw_now_us();
    int attempt = j->attempts + 1;
    if (!j->url || !j->secret) {
        cw_warn("notice %lld: delivery %lld failed: the member has no webhook any more",
                (long long)j->notice_id, (long long)j->id);
        cw_store_delivery_record(n->s, j->id, now, 0, "the member has no webhook any more",
                                 "failed", 0, err, sizeof(err));
        return;
    }
    struct cw_buf body = CW_BUF_INIT;
    char ts[40];
    cw_time_format_iso(now, ts);
    cw_buf_addf(&body, "{\"type\":\"notice\",\"delivery\":%lld,\"attempt\":%d,\"sent_at\":\"%s\","
                       "\"notice\":%s}",
                (long long)j->id, attempt, ts, j->payload);
    if (!cw_buf_ok(&body)) {
        cw_buf_release(&body);
        return; /* out of memory: try again next round */
    }
    char sig[80], h_sig[120], h_del[80], h_ts[80];
    cw_webhook_sign(j->secret, j->secret_len, body.data, body.len, sig);
    snprintf(h_sig, sizeof(h_sig), "X-Crosswatch-Signature: %s", sig);
    snprintf(h_del, sizeof(h_del), "X-Crosswatch-Delivery: %lld", (long long)j->id);
    snprintf(h_ts, sizeof(h_ts), "X-Crosswatch-Timestamp: %lld", (long long)(now / 1000000));
    struct curl_slist *hdr = NULL, *t;
    const char *hs[] = {"Content-Type: application/json", "User-Agent: crosswatch-webhook/1",
                        "X-Crosswatch-Event: notice", "Expect:", h_sig, h_del, h_ts};
    bool ok = true;
    for (size_t i = 0; i < sizeof(hs) / sizeof(hs[0]) && ok; i++) {
        t = curl_slist_append(hdr, hs[i]);
        ok = t != NULL;
        if (t)
            hdr = t;
    }
    CURL *e = ok ? curl_easy_init() : NULL;
    if (!e) {
        curl_slist_free_all(hdr);
        cw_buf_release(&body);
        return;
    }
    curl_easy_setopt(e, CURLOPT_URL, j->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_checked);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, n);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.data);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body.len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)CW_WEBHOOK_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)CW_WEBHOOK_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, progress);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, n);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
    n->refused = false;
    CURLcode cr = curl_easy_perform(e);
    long status = 0;
    if (cr == CURLE_OK)
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(e);
    curl_slist_free_all(hdr);
    sodium_memzero(sig, sizeof(sig));
    sodium_memzero(h_sig, sizeof(h_sig));
    cw_buf_release(&body);
    if (cr == CURLE_ABORTED_BY_CALLBACK && atomic_load(&n->stop))
        return; /* stopping: not an attempt; the job stays due for the next start */
    int64_t done = cw_now_us();
    char why[CURL_ERROR_SIZE + 32];
    const char *state, *error = NULL;
    int64_t next = 0;
    if (cr == CURLE_OK && status >= 200 && status < 300) {
        state = "delivered";
    } else {
        if (cr != CURLE_OK && n->refused)
            snprintf(why, sizeof(why), "refused: the webhook resolves to a loopback, private "
                                       "or link-local address (webhook_allow_private)");
        else if (cr != CURLE_OK)
            snprintf(why, sizeof(why), "%s", errbuf[0] ? errbuf : curl_easy_strerror(cr));
        else
            snprintf(why, sizeof(why), "HTTP %ld", status);
        error = why;
        if (attempt >= CW_WEBHOOK_MAX_ATTEMPTS) {
            state = "failed";
        } else {
            state = "pending";
            next = done + cw_webhook_backoff_ms(attempt) * 1000;
        }
    }
    if (cw_store_delivery_record(n->s, j->id, done, cr == CURLE_OK ? (int)status : 0, error,
                                 state, next, err, sizeof(err)))
        cw_warn("notice %lld: cannot record delivery %lld: %s", (long long)j->notice_id,
                (long long)j->id, err);
    else if (error)
        cw_warn("notice %lld: delivery %lld attempt %d: %s (%s)", (long long)j->notice_id,
                (long long)j->id, attempt, error, state);
    else
        cw_info("notice %lld: delivery %lld attempt %d: delivered (HTTP %ld)",
                (long long)j->notice_id, (long long)j->id, attempt, status);
}

static void *worker(void *arg)
{
    struct cw_notifier *n = arg;
    struct cw_delivery_job jobs[JOBS_PER_ROUND];
    char err[256];
    while (!atomic_load(&n->stop)) {
        int k = cw_store_deliveries_due(n->s, cw_now_us(), jobs, JOBS_PER_ROUND, err,
                                        sizeof(err));
        for (int i = 0; i < k; i++) {
            if (!atomic_load(&n->stop))
                deliver(n, &jobs[i]);
            cw_delivery_job_free(&jobs[i]);
        }
        pthread_mutex_lock(&n->mu);
        if (!atomic_load(&n->stop)) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_nsec += POLL_MS * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&n->cv, &n->mu, &ts);
        }
        pthread_mutex_unlock(&n->mu);
    }
    return NULL;
}

bool cw_webhook_addr_forbidden(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const uint8_t *a = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
        return a[0] == 0 || a[0] == 10 || a[0] == 127 ||            /* this, private, loop */
               (a[0] == 100 && (a[1] & 0xc0) == 64) ||               /* 100.64/10 CGN */
               (a[0] == 169 && a[1] == 254) ||                       /* link-local, metadata */
               (a[0] == 172 && (a[1] & 0xf0) == 16) ||               /* 172.16/12 */
               (a[0] == 192 && a[1] == 168) ||                       /* 192.168/16 */
               (a[0] == 192 && a[1] == 0 && a[2] == 0) ||            /* 192.0.0/24 */
               (a[0] == 198 && (a[1] & 0xfe) == 18) ||               /* 198.18/15 */
               a[0] >= 224;                                          /* multicast, reserved */
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        const uint8_t *a = a6->s6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a6) || IN6_IS_ADDR_V4COMPAT(a6)) {
            struct sockaddr_in v4;
            memset(&v4, 0, sizeof(v4));
            v4.sin_family = AF_INET;
            memcpy(&v4.sin_addr, a + 12, 4);
            return cw_webhook_addr_forbidden((const struct sockaddr *)&v4);
        }
        return IN6_IS_ADDR_UNSPECIFIED(a6) || IN6_IS_ADDR_LOOPBACK(a6) ||
               (a[0] & 0xfe) == 0xfc ||                  /* fc00::/7 unique local */
               (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || /* fe80::/10 link-local */
               a[0] == 0xff;                              /* multicast */
    }
    return true; /* anything but IP */
}

/* libcurl asks us to open each socket it connects with: the last word on the
 * address, after every resolution and redirect decision. */
static curl_socket_t open_checked(void *ud, curlsocktype purpose, struct curl_sockaddr *addr)
{
    struct cw_notifier *n = ud;
    (void)purpose;
    if (!n->allow_private && cw_webhook_addr_forbidden(&addr->addr)) {
        n->refused = true;
        return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype, addr->protocol);
}

struct cw_notifier *cw_notifier_start(struct cw_store *s, bool allow_private, char *err,
                                      size_t errlen)
{
    struct cw_notifier *n = calloc(1, sizeof(*n));
    if (!n) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "cannot initialise libcurl");
        free(n);
        return NULL;
    }
    n->s = s;
    n->allow_private = allow_private;
    atomic_init(&n->stop, false);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&n->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&n->mu, NULL);
    if (pthread_create(&n->th, NULL, worker, n) != 0) {
        snprintf(err, errlen, "cannot start the webhook delivery thread");
        pthread_cond_destroy(&n->cv);
        pthread_mutex_destroy(&n->mu);
        curl_global_cleanup();
        free(n);
        return NULL;
    }
    return n;
}

void cw_notifier_stop(struct cw_notifier *n)
{
    if (!n)
        return;
    pthread_mutex_lock(&n->mu);
    atomic_store(&n->stop, true);
    pthread_cond_signal(&n->cv);
    pthread_mutex_unlock(&n->mu);
    pthread_join(n->th, NULL);
    pthread_cond_destroy(&n->cv);
    pthread_mutex_destroy(&n->mu);
    curl_global_cleanup();
    free(n);
}
