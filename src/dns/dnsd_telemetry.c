/* dnsd_telemetry.c - dns records into ship's spool, sent by ship's sender.
 *
 * Write order per batch is ship's (docs/ship.md "Exactly once"): the batch file,
 * durable; then STATE_DIR/state with the new next-seq, durable; then
 * persisted_next_seq is published and the sender may send the batch. A crash
 * between the two writes is repaired at start: batches at or above the saved
 * next-seq are found in the spool and next-seq moves past them. */
#include "dns/dnsd_telemetry.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/codec.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "ship/sender.h"
#include "ship/shared.h"
#include "ship/ship.h"
#include "ship/spool.h"
#include "ship/state.h"
#include "common/banned.h"

#define ZSTD_LEVEL 3
#define MAX_HANDOFF 64 /* batches waiting for the writer thread */

struct handoff {
    char *data;
    size_t len;
    uint64_t lines;
};

struct cw_dnsd_tel {
    struct cw_ship_opts so;
    char center[2048], key[1024], state_dir[3800];
    struct cw_ship_shared sh;
    bool sh_ok;
    struct cw_ship_state state;
    struct cw_sender *sender;

    /* loop thread */
    struct cw_batch batch; /* one record at a time, cleared after each */
    struct cw_buf pending;
    uint64_t npending;
    int64_t first_ms;
    uint64_t batch_lines;
    int64_t flush_ms;
    uint64_t spool_max;

    /* writer thread */
    pthread_t writer;
    bool writer_started;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    struct handoff q[MAX_HANDOFF];
    size_t qn;
    bool stopping;
    uint64_t queued_bytes;

    _Atomic uint64_t dropped, spooled;
};

static int recover(struct cw_dnsd_tel *t, char *err, size_t errlen)
{
    cw_ship_state_init(&t->state);
    int r = cw_ship_state_load(t->state_dir, &t->state);
    if (r < 0) {
        snprintf(err, errlen, "%s/state is unreadable or corrupt: %s", t->state_dir,
                 strerror(errno));
        return -1;
    }
    if (r == 1) {
        if (cw_ship_state_new_instance(t->state.instance)) {
            snprintf(err, errlen, "cannot create an instance id");
            return -1;
        }
        t->state.next_seq = 1;
    }
    uint64_t *seqs = NULL;
    size_t n = 0;
    if (cw_spool_list(&t->sh.spool, t->state.next_seq, UINT64_MAX, &seqs, &n)) {
        snprintf(err, errlen, "cannot list %s: %s", t->sh.spool.dir, strerror(errno));
        return -1;
    }
    if (n > 0)
        t->state.next_seq = seqs[n - 1] + 1;
    free(seqs);
    if (cw_ship_state_save(t->state_dir, &t->state)) {
        snprintf(err, errlen, "cannot save %s/state: %s", t->state_dir, strerror(errno));
        return -1;
    }
    atomic_store(&t->sh.persisted_next_seq, t->state.next_seq);
    return 0;
}

/* Writer thread: one handed-over buffer -> one durable batch. */
static void write_batch(struct cw_dnsd_tel *t, struct handoff *h)
{
    char *body = NULL;
    size_t blen = 0;
    if (cw_zstd_compress(h->data, h->len, ZSTD_LEVEL, &body, &blen)) {
        cw_error("dns telemetry: cannot compress a batch (out of memory): %" PRIu64
                 " records dropped", h->lines);
        atomic_fetch_add(&t->dropped, h->lines);
        return;
    }
    struct cw_spool_hdr hdr;
    memset(&hdr, 0, sizeof(hdr));
    hdr.seq = t->state.next_seq;
    memcpy(hdr.instance, t->state.instance, sizeof(hdr.instance));
    snprintf(hdr.input, sizeof(hdr.input), "dns");
    snprintf(hdr.format, sizeof(hdr.format), "ndjson");
    hdr.lines = h->lines;
    hdr.raw = h->len;
    /* a failing disk is retried a few times; the loop keeps answering meanwhile */
    int w = -1;
    for (int attempt = 0; attempt < 3 && w; attempt++)
        w = cw_spool_write(&t->sh.spool, &hdr, body, blen);
    free(body);
    if (w) {
        cw_error("dns telemetry: cannot write a batch to %s: %s; %" PRIu64 " records dropped",
                 t->sh.spool.dir, strerror(errno), h->lines);
        atomic_fetch_add(&t->dropped, h->lines);
        return;
    }
    t->state.next_seq++;
    if (cw_ship_state_save(t->state_dir, &t->state))
        cw_error("dns telemetry: cannot save %s/state: %s (batches wait until it can be saved)",
                 t->state_dir, strerror(errno));
    else
        atomic_store(&t->sh.persisted_next_seq, t->state.next_seq);
    atomic_fetch_add(&t->spooled, h->lines);
    atomic_fetch_add(&t->sh.batches_spooled, 1);
    cw_ship_shared_wake_sender(&t->sh);
}

static void *writer_main(void *arg)
{
    struct cw_dnsd_tel *t = arg;
    pthread_mutex_lock(&t->mu);
    for (;;) {
        while (t->qn == 0 && !t->stopping)
            pthread_cond_wait(&t->cond, &t->mu);
        if (t->qn == 0 && t->stopping)
            break;
        struct handoff h = t->q[0];
        memmove(t->q, t->q + 1, (t->qn - 1) * sizeof(t->q[0]));
        t->qn--;
        pthread_mutex_unlock(&t->mu);
        write_batch(t, &h);
        free(h.data);
        pthread_mutex_lock(&t->mu);
        t->queued_bytes -= h.len;
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

struct cw_dnsd_tel *cw_dnsd_tel_start(const struct cw_dnsd_tel_opts *o, char *err,
                                      size_t errlen)
{
    struct cw_dnsd_tel *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(t->center, sizeof(t->center), "%s", o->center);
    snprintf(t->key, sizeof(t->key), "%s", o->key ? o->key : "");
    snprintf(t->state_dir, sizeof(t->state_dir), "%s", o->state_dir);
    t->batch_lines = o->batch_lines ? o->batch_lines : 5000;
    t->flush_ms = o->flush_ms > 0 ? o->flush_ms : 1000;
    t->spool_max = o->spool_max ? o->spool_max : (1ull << 30);
    cw_batch_init(&t->batch);
    cw_buf_init(&t->pending);
    cw_ship_state_init(&t->state);
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cond, NULL);
    cw_ship_opts_default(&t->so);
    t->so.center = t->center;
    t->so.key = t->key;
    t->so.state_dir = t->state_dir;
    t->so.spool_max = t->spool_max;
    if (cw_ship_shared_init(&t->sh)) {
        snprintf(err, errlen, "cannot create the telemetry thread objects");
        goto fail;
    }
    t->sh_ok = true;
    if (cw_spool_open(&t->sh.spool, t->state_dir)) {
        snprintf(err, errlen, "cannot open the spool in %s: %s", t->state_dir, strerror(errno));
        goto fail;
    }
    if (recover(t, err, errlen))
        goto fail;
    t->sender = cw_sender_new(&t->so, &t->sh);
    if (!t->sender) {
        snprintf(err, errlen, "cannot set up libcurl for the center");
        goto fail;
    }
    if (pthread_create(&t->writer, NULL, writer_main, t)) {
        snprintf(err, errlen, "cannot start the telemetry writer thread");
        goto fail;
    }
    t->writer_started = true;
    if (cw_sender_start(t->sender)) {
        snprintf(err, errlen, "cannot start the telemetry sender thread");
        goto fail;
    }
    cw_info("dns telemetry: to %s, spool %s (%" PRIu64 " batches waiting)", t->center,
            t->sh.spool.dir, (uint64_t)atomic_load(&t->sh.spool.batches));
    return t;
fail:
    cw_dnsd_tel_stop(t);
    return NULL;
}

static void hand_over(struct cw_dnsd_tel *t)
{
    if (t->npending == 0)
        return;
    size_t len;
    char *data = cw_buf_detach(&t->pending, &len);
    uint64_t lines = t->npending;
    t->npending = 0;
    if (!data) {
        atomic_fetch_add(&t->dropped, lines);
        return;
    }
    pthread_mutex_lock(&t->mu);
    /* the cap: spool on disk plus what waits for the writer */
    bool full = t->qn >= MAX_HANDOFF ||
                atomic_load(&t->sh.spool.bytes) + t->queued_bytes >= t->spool_max;
    if (!full) {
        t->q[t->qn++] = (struct handoff){data, len, lines};
        t->queued_bytes += len;
        pthread_cond_signal(&t->cond);
    }
    pthread_mutex_unlock(&t->mu);
    if (full) {
        if (atomic_fetch_add(&t->dropped, lines) == 0)
            cw_warn("dns telemetry: the spool is full (center away too long?): records are "
                    "dropped and counted until the center takes some");
        free(data);
    }
}

static void set_s(struct cw_batch *b, enum cw_field_id id, const char *s, size_t n)
{
    if (s && n)
        cw_batch_set_str(b, id, s, n);
}

void cw_dnsd_tel_add(struct cw_dnsd_tel *t, const struct cw_dnsd_tel_query *q)
{
    if (!t)
        return;
    struct cw_batch *b = &t->batch;
    cw_batch_clear(b);
    struct cw_record *r = cw_batch_begin(b);
    if (!r)
        goto drop;
    r->ts_us = q->ts_us;
    r->kind = CW_KIND_DNS;
    r->transport = q->tcp ? CW_TR_TCP : CW_TR_UDP;
    if (q->client)
        r->src = *q->client;
    if (q->server)
        r->dst = *q->server;
    r->sport = q->client_port;
    r->dport = q->server_port;
    cw_batch_set_str(b, CW_F_DNS_TYPE, "answer", 6);
    cw_batch_set_int(b, CW_F_DNS_ID, q->id);
    set_s(b, CW_F_DNS_QNAME, q->qname, q->qname_len);
    set_s(b, CW_F_DNS_QTYPE, q->qtype, q->qtype ? strlen(q->qtype) : 0);
    set_s(b, CW_F_DNS_RCODE, q->rcode, q->rcode ? strlen(q->rcode) : 0);
    set_s(b, CW_F_DNS_ANSWERS, q->answers, q->answers_len);
    set_s(b, CW_F_DNS_POLICY, q->policy, q->policy ? strlen(q->policy) : 0);
    set_s(b, CW_F_DNS_POLICY_ZONE, q->policy_zone, q->policy_zone ? strlen(q->policy_zone) : 0);
    set_s(b, CW_F_DNS_POLICY_TRIGGER, q->trigger, q->trigger ? strlen(q->trigger) : 0);
    set_s(b, CW_F_DNS_INDICATOR, q->indicator, q->indicator ? strlen(q->indicator) : 0);
    set_s(b, CW_F_DNS_VIEW, q->view, q->view ? strlen(q->view) : 0);
    set_s(b, CW_F_DNS_CACHE, q->cache, q->cache ? strlen(q->cache) : 0);
    cw_batch_set_int(b, CW_F_DNS_LATENCY_US, q->latency_us);
    if (cw_batch_commit(b) || b->n != 1)
        goto drop;
    if (t->npending == 0)
        t->first_ms = cw_monotonic_ms();
    cw_record_to_json(&b->recs[0], &t->pending, false);
    cw_buf_addc(&t->pending, '\n');
    if (!cw_buf_ok(&t->pending)) {
        cw_buf_release(&t->pending);
        cw_buf_init(&t->pending);
        atomic_fetch_add(&t->dropped, t->npending + 1);
        t->npending = 0;
        return;
    }
    t->npending++;
    if (t->npending >= t->batch_lines || t->pending.len >= (4u << 20))
        hand_over(t);
    return;
drop:
    cw_batch_abort(b);
    atomic_fetch_add(&t->dropped, 1);
}

void cw_dnsd_tel_tick(struct cw_dnsd_tel *t, int64_t now_ms)
{
    if (t && t->npending && now_ms - t->first_ms >= t->flush_ms)
        hand_over(t);
}

void cw_dnsd_tel_stop(struct cw_dnsd_tel *t)
{
    if (!t)
        return;
    if (t->writer_started) {
        hand_over(t);
        pthread_mutex_lock(&t->mu);
        t->stopping = true;
        pthread_cond_signal(&t->cond);
        pthread_mutex_unlock(&t->mu);
        pthread_join(t->writer, NULL);
    }
    if (t->sender) {
        cw_sender_stop(t->sender);
        cw_sender_free(t->sender);
    }
    for (size_t i = 0; i < t->qn; i++)
        free(t->q[i].data);
    if (t->sh_ok)
        cw_ship_shared_release(&t->sh);
    cw_ship_state_release(&t->state);
    cw_batch_release(&t->batch);
    cw_buf_release(&t->pending);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cond);
    explicit_bzero(t->key, sizeof(t->key));
    free(t);
}

uint64_t cw_dnsd_tel_dropped(const struct cw_dnsd_tel *t)
{
    return t ? atomic_load(&((struct cw_dnsd_tel *)t)->dropped) : 0;
}

uint64_t cw_dnsd_tel_spooled(const struct cw_dnsd_tel *t)
{
    return t ? atomic_load(&((struct cw_dnsd_tel *)t)->spooled) : 0;
}

uint64_t cw_dnsd_tel_spool_bytes(const struct cw_dnsd_tel *t)
{
    return t ? atomic_load(&((struct cw_dnsd_tel *)t)->sh.spool.bytes) : 0;
}
