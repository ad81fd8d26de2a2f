/* ioc_hub.c - live indicators: set, detector, publication, feed waiters, expiry and
 * the retro-hunt worker (see ioc_hub.h). */
#include "center/ioc_hub.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "formats/format.h"
#include "ioc/iocset.h"
#include "triage/triage.h"
#include "common/banned.h"

#define MAX_WAITERS 4096
#define RETRO_QUEUE 1024
#define MATCHES_PER_RECORD 8

/* One indicator ever loaded: what its detections point to. Never freed before the hub. */
struct entry {
    char *name;     /* "<type> <value>" */
    uint16_t name_len;
    uint8_t severity;
};

struct waiter {
    struct MHD_Connection *conn;
    int64_t deadline_ms;
};

struct cw_ioc_hub {
    struct cw_store *store;
    struct cw_triage *triage;
    struct cw_ioc_guard *guard;
    int64_t retro_days;
    /* the live set and the entries its ids refer to */
    pthread_rwlock_t lock;
    struct cw_iocset *set;
    struct entry **entries; /* indexed by id */
    size_t nentries;
    /* feed: committed serial and suspended long-polls */
    pthread_mutex_t fm;
    pthread_cond_t fcond;
    int64_t serial;
    struct waiter waiters[MAX_WAITERS];
    size_t nwaiters;
    bool stopping;
    pthread_t timer;
    bool timer_started;
    /* retro-hunt queue */
    pthread_mutex_t qm;
    pthread_cond_t qcond;
    int64_t queue[RETRO_QUEUE];
    size_t qhead, qlen;
    bool qstop;
    pthread_t worker;
    bool worker_started;
};

static uint8_t severity_of(int confidence)
{
    return confidence >= 80 ? CW_SEV_HIGH : confidence >= 50 ? CW_SEV_MEDIUM : CW_SEV_LOW;
}

/* Under the write lock: make sure entries[id] exists (and is current). */
static int entry_put(struct cw_ioc_hub *h, const struct cw_ioc_row *r)
{
    size_t id = (size_t)r->id;
    if (id >= h->nentries) {
        size_t nn = h->nentries ? h->nentries : 1024;
        while (nn <= id)
            nn *= 2;
        struct entry **ne = realloc(h->entries, nn * sizeof(*ne));
        if (!ne)
            return -1;
        memset(ne + h->nentries, 0, (nn - h->nentries) * sizeof(*ne));
        h->entries = ne;
        h->nentries = nn;
    }
    if (!h->entries[id]) {
        struct entry *e = calloc(1, sizeof(*e));
        size_t n = strlen(r->value) + 16;
        char *name = malloc(n);
        if (!e || !name) {
            free(e);
            free(name);
            return -1;
        }
        int len = snprintf(name, n, "%s %s", cw_ioc_type_name(r->type), r->value);
        e->name = name;
        e->name_len = (uint16_t)(len > 65535 ? 65535 : len);
        h->entries[id] = e;
    }
    h->entries[id]->severity = severity_of(r->confidence);
    return 0;
}

static int apply_row(struct cw_ioc_hub *h, const struct cw_ioc_row *r)
{
    int rc = 0;
    pthread_rwlock_wrlock(&h->lock);
    if (r->state == CW_IOC_PUBLISHED)
        rc = entry_put(h, r) || cw_iocset_add(h->set, r->type, r->value, strlen(r->value),
                                              (uint64_t)r->id)
                 ? -1 : 0;
    else
        cw_iocset_remove(h->set, r->type, r->value, strlen(r->value));
    pthread_rwlock_unlock(&h->lock);
    return rc;
}

static int load_row(void *ctx, const struct cw_ioc_row *r)
{
    return apply_row(ctx, r);
}

/* -- matching ------------------------------------------------------------------ */

/* The observables of a group of records, looked up with one cw_iocset_match_batch
 * call: the set's cache misses for all of them overlap instead of adding up (see
 * iocset.h; bench_ioc: about twice the look-ups per second of one call per value).
 * Groups of GROUP_RECS records keep the arrays small and reused. */
#define GROUP_RECS 64

struct collect {
    struct cw_iocset_probe *p;
    uint32_t *rec; /* record index of each probe */
    size_t n, cap;
    char *paths; /* URL paths (the observable's buffer lives only in the callback) */
    size_t plen, pcap;
    uint32_t cur;
    bool oom;
};

static enum cw_ioc_type obs_type(enum cw_obs_kind k)
{
    switch (k) {
    case CW_OBS_NAME: return CW_IOC_HOSTNAME;
    case CW_OBS_URL: return CW_IOC_URL;
    case CW_OBS_MD5: return CW_IOC_MD5;
    case CW_OBS_SHA1: return CW_IOC_SHA1;
    case CW_OBS_SHA256: return CW_IOC_SHA256;
    case CW_OBS_JA3: return CW_IOC_JA3;
    case CW_OBS_JA4: return CW_IOC_JA4;
    case CW_OBS_UA: return CW_IOC_USER_AGENT;
    case CW_OBS_EMAIL: return CW_IOC_EMAIL;
    case CW_OBS_ADDR: break;
    }
    return CW_IOC_NONE;
}

static int on_obs(void *ctx, const struct cw_obs *o)
{
    struct collect *c = ctx;
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 512;
        struct cw_iocset_probe *np = realloc(c->p, nc * sizeof(*np));
        if (np)
            c->p = np;
        uint32_t *nr = np ? realloc(c->rec, nc * sizeof(*nr)) : NULL;
        if (!nr) {
            c->oom = true;
            return 1;
        }
        c->rec = nr;
        c->cap = nc;
    }
    struct cw_iocset_probe *q = &c->p[c->n];
    memset(q, 0, sizeof(*q));
    if (o->kind == CW_OBS_ADDR) {
        if (o->ip.family != 4 && o->ip.family != 6)
            return 0;
        q->type = o->ip.family == 4 ? CW_IOC_IPV4 : CW_IOC_IPV6;
        memcpy(q->addr, o->ip.a, 16);
    } else {
        q->type = obs_type(o->kind);
        q->s = o->s;
        q->len = o->len;
    }
    if (o->kind == CW_OBS_URL) {
        if (c->plen + o->plen > c->pcap) {
            size_t nc = c->pcap ? c->pcap * 2 : 8192;
            while (nc < c->plen + o->plen)
                nc *= 2;
            char *np = realloc(c->paths, nc);
            if (!np) {
                c->oom = true;
                return 1;
            }
            c->paths = np;
            c->pcap = nc;
        }
        memcpy(c->paths + c->plen, o->path, o->plen);
        q->path = (const char *)(uintptr_t)c->plen; /* an offset until the group is done */
        q->plen = o->plen;
        c->plen += o->plen;
    }
    c->rec[c->n++] = c->cur;
    return 0;
}

/* Detections of records [first, first + count) of b from their probes' answers. */
static int emit_group(const struct cw_ioc_hub *h, const struct collect *c, const uint64_t *ids,
                      uint32_t first, uint32_t count, struct cw_detections *out)
{
    size_t k = 0;
    for (uint32_t i = first; i < first + count; i++) {
        uint64_t got[MATCHES_PER_RECORD];
        size_t ng = 0;
        for (; k < c->n && c->rec[k] == i; k++) {
            uint64_t id = ids[k];
            bool dup = id == 0;
            for (size_t j = 0; j < ng && !dup; j++)
                dup = got[j] == id;
            if (!dup && ng < MATCHES_PER_RECORD)
                got[ng++] = id;
        }
        for (size_t j = 0; j < ng; j++) {
            const struct entry *e = got[j] < h->nentries ? h->entries[got[j]] : NULL;
            if (!e)
                continue;
            struct cw_detection d;
            memset(&d, 0, sizeof(d));
            d.rec = i;
            d.attack_class = CW_AC_MALWARE_C2;
            d.severity = e->severity;
            d.source = CW_DET_IOC;
            snprintf(d.rule_id, sizeof(d.rule_id), "ioc:%llu", (unsigned long long)got[j]);
            d.rule_name = e->name;
            d.rule_name_len = e->name_len;
            if (cw_detections_add(out, &d))
                return -1;
        }
    }
    return 0;
}

/* Detections of `set` in b; names and severities from the hub's entries (read lock
 * held by the caller, or the entries of a retro-hunt's published indicator). */
static int match_batch(const struct cw_ioc_hub *h, const struct cw_iocset *set,
                       const struct cw_batch *b, struct cw_detections *out)
{
    struct collect c = {0};
    uint64_t *ids = NULL;
    size_t idcap = 0;
    int rc = 0;
    for (uint32_t first = 0; first < b->n && rc == 0; first += GROUP_RECS) {
        uint32_t count = b->n - first < GROUP_RECS ? b->n - first : GROUP_RECS;
        c.n = c.plen = 0;
        for (uint32_t i = first; i < first + count && !c.oom; i++) {
            c.cur = i;
            cw_obs_foreach(&b->recs[i], on_obs, &c);
        }
        if (c.oom) {
            rc = -1;
            break;
        }
        for (size_t k = 0; k < c.n; k++)
            if (c.p[k].type == CW_IOC_URL)
                c.p[k].path = c.paths + (uintptr_t)c.p[k].path;
        if (c.n > idcap) {
            uint64_t *ni = realloc(ids, c.cap * sizeof(*ni));
            if (!ni) {
                rc = -1;
                break;
            }
            ids = ni;
            idcap = c.cap;
        }
        cw_iocset_match_batch(set, c.p, c.n, ids);
        rc = emit_group(h, &c, ids, first, count, out);
    }
    free(c.p);
    free(c.rec);
    free(c.paths);
    free(ids);
    return rc;
}

int cw_ioc_hub_detect(const void *ctx, const struct cw_batch *b, struct cw_detections *out)
{
    struct cw_ioc_hub *h = (struct cw_ioc_hub *)ctx;
    if (!h)
        return 0;
    pthread_rwlock_rdlock(&h->lock);
    int rc = cw_iocset_count(h->set) ? match_batch(h, h->set, b, out) : 0;
    pthread_rwlock_unlock(&h->lock);
    return rc;
}

/* -- feed waiters ----------------------------------------------------------------- */

/* Under fm: resume waiters (all, or those past their deadline). */
static void resume_waiters(struct cw_ioc_hub *h, bool all, int64_t now_ms)
{
    size_t k = 0;
    for (size_t i = 0; i < h->nwaiters; i++) {
        if (all || h->waiters[i].deadline_ms <= now_ms)
            MHD_resume_connection(h->waiters[i].conn);
        else
            h->waiters[k++] = h->waiters[i];
    }
    h->nwaiters = k;
}

static void *timer_main(void *arg)
{
    struct cw_ioc_hub *h = arg;
    pthread_mutex_lock(&h->fm);
    while (!h->stopping) {
        resume_waiters(h, false, cw_monotonic_ms());
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000L; /* deadlines are met within 50 ms */
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&h->fcond, &h->fm, &ts);
    }
    resume_waiters(h, true, 0);
    pthread_mutex_unlock(&h->fm);
    return NULL;
}

int64_t cw_ioc_hub_serial(struct cw_ioc_hub *h)
{
    pthread_mutex_lock(&h->fm);
    int64_t s = h->serial;
    pthread_mutex_unlock(&h->fm);
    return s;
}

int cw_ioc_hub_wait(struct cw_ioc_hub *h, struct MHD_Connection *conn, int64_t since,
                    int64_t deadline_ms)
{
    int rc = 0;
    pthread_mutex_lock(&h->fm);
    if (h->serial == since && !h->stopping && h->nwaiters < MAX_WAITERS &&
        cw_monotonic_ms() < deadline_ms) {
        MHD_suspend_connection(conn);
        h->waiters[h->nwaiters++] = (struct waiter){conn, deadline_ms};
        rc = 1;
    }
    pthread_mutex_unlock(&h->fm);
    return rc;
}

static void feed_changed(struct cw_ioc_hub *h)
{
    int64_t s = cw_store_ioc_serial(h->store);
    pthread_mutex_lock(&h->fm);
    if (s != h->serial) {
        h->serial = s;
        resume_waiters(h, true, 0);
    }
    pthread_mutex_unlock(&h->fm);
}

/* -- retro-hunt ------------------------------------------------------------------- */

static void retro_enqueue(struct cw_ioc_hub *h, int64_t id)
{
    pthread_mutex_lock(&h->qm);
    if (h->qlen < RETRO_QUEUE) {
        h->queue[(h->qhead + h->qlen++) % RETRO_QUEUE] = id;
        pthread_cond_signal(&h->qcond);
    } else {
        cw_warn("ioc: retro-hunt queue full, indicator %lld not hunted", (long long)id);
    }
    pthread_mutex_unlock(&h->qm);
}

struct hit {
    int64_t batch_id;
    uint32_t member_id, sensor_id;
};

struct hits {
    uint32_t keys[CW_OBS_KEYS_MAX]; /* a batch may match when its digest has any */
    size_t nkeys;
    struct hit *batch;
    size_t n, cap;
    int64_t scanned;
    int64_t after, last; /* the store reads digests after `after` (an earlier pass's last) */
};

static int on_digest(void *ctx, const struct cw_digest_row *d)
{
    struct hits *x = ctx;
    x->scanned++;
    x->last = d->batch_id; /* in id order */
    size_t k = 0;
    while (k < x->nkeys && !cw_obs_digest_has(d->keys, d->n, x->keys[k]))
        k++;
    if (k == x->nkeys)
        return 0;
    if (x->n == x->cap) {
        size_t nc = x->cap ? x->cap * 2 : 64;
        struct hit *nb = realloc(x->batch, nc * sizeof(*nb));
        if (!nb)
            return -1;
        x->batch = nb;
        x->cap = nc;
    }
    x->batch[x->n++] = (struct hit){d->batch_id, d->member_id, d->sensor_id};
    return 0;
}

struct retro_agg {
    struct cw_triage *t;
    const struct cw_batch *b;
    struct cw_triage_result *r;
};

static int retro_aggregate(void *ctx)
{
    struct retro_agg *a = ctx;
    return cw_triage_aggregate_events(a->t, a->b, a->r);
}

/* The text every record matching this indicator holds verbatim (lower-cased): a
 * name, a URL's host, an address of mail, a hash. Only the lines of a stored segment
 * that contain it need parsing and confirming (most of a batch's cost). Returns its
 * length, or 0 when there is none to rely on: addresses and CIDRs have many
 * spellings, and a value with characters JSON may escape could be written otherwise. */
static size_t needle_of(enum cw_ioc_type t, const char *v, char *out, size_t cap)
{
    out[0] = '\0';
    if (t == CW_IOC_URL) {
        const char *host = strstr(v, "://");
        v = host ? host + 3 : v;
    } else if (t == CW_IOC_IPV4 || t == CW_IOC_IPV6 || t == CW_IOC_CIDR ||
               t == CW_IOC_USER_AGENT) {
        return 0;
    }
    size_t n = 0;
    for (; v[n] && n + 1 < cap; n++) {
        char ch = v[n];
        if (t == CW_IOC_URL && (ch == '/' || ch == ':' || ch == '?' || ch == '#'))
            break;
        ch = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' ||
              ch == '-' || ch == '_' || ch == '@' || ch == '+')) {
            out[0] = '\0';
            return 0;
        }
        out[n] = ch;
    }
    out[n] = '\0';
    return v[n] && !(t == CW_IOC_URL) ? 0 : n;
}

/* Keep only the lines of seg[0..len) that contain the needle (ASCII case-insensitive);
 * returns the new length. */
static size_t keep_lines(char *seg, size_t len, const char *needle, size_t nn)
{
    char *low = malloc(len + 1);
    if (!low)
        return len; /* parse everything: slower, same answer */
    for (size_t i = 0; i < len; i++)
        low[i] = seg[i] >= 'A' && seg[i] <= 'Z' ? (char)(seg[i] - 'A' + 'a') : seg[i];
    size_t out = 0, at = 0;
    while (at < len) {
        const char *hit = memmem(low + at, len - at, needle, nn);
        if (!hit)
            break;
        size_t pos = (size_t)(hit - low), b = pos, e = pos;
        while (b > at && low[b - 1] != '\n')
            b--;
        while (e < len && low[e] != '\n')
            e++;
        e += e < len; /* the newline */
        memmove(seg + out, seg + b, e - b);
        out += e - b;
        at = e;
    }
    free(low);
    return out;
}

/* Confirm the records of one stored batch and write what matched. Returns hits. */
static int64_t hunt_batch(struct cw_ioc_hub *h, const struct cw_iocset *one, const char *needle,
                          const struct hit *hb, char *err, size_t errlen)
{
    int64_t batch_id = hb->batch_id;
    char *seg = NULL;
    size_t len = 0;
    int g = cw_store_batch_segment(h->store, batch_id, &seg, &len, err, errlen);
    if (g == CW_STORE_NOT_FOUND)
        return 0; /* records dropped by retention since the scan */
    if (g)
        return -1;
    if (needle[0])
        len = keep_lines(seg, len, needle, strlen(needle));
    struct cw_batch b;
    cw_batch_init(&b);
    struct cw_triage_result tr;
    cw_triage_result_init(&tr);
    int64_t hits = -1;
    struct cw_parse_ctx pc = {hb->member_id, hb->sensor_id, cw_now_us()};
    struct cw_parse_stats ps = {0, 0, 0};
    const struct cw_format *fmt = cw_format_find("ndjson");
    if (!fmt || cw_format_parse_body(fmt, &b, &pc, seg, len, len + 1, &ps)) {
        snprintf(err, errlen, "cannot read the records of batch %lld", (long long)batch_id);
        goto out;
    }
    pthread_rwlock_rdlock(&h->lock);
    int m = match_batch(h, one, &b, &tr.ds);
    pthread_rwlock_unlock(&h->lock);
    if (m) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    hits = tr.ds.n;
    if (!tr.ds.n)
        goto out;
    tr.detail = calloc(tr.ds.n, sizeof(*tr.detail));
    tr.event_of = calloc(tr.ds.n, sizeof(*tr.event_of));
    if (!tr.detail || !tr.event_of) {
        snprintf(err, errlen, "out of memory");
        hits = -1;
        goto out;
    }
    for (uint32_t i = 0; i < tr.ds.n; i++)
        tr.detail[i] = "retro-hunt";
    struct retro_agg agg = {h->triage, &b, &tr};
    if (cw_store_iocs_retro_write(h->store, batch_id, &b, &tr, h->triage ? retro_aggregate : NULL,
                                  &agg, err, errlen))
        hits = -1;
out:
    cw_triage_result_release(&tr);
    cw_batch_release(&b);
    free(seg);
    return hits;
}

static bool sighted(const int64_t *ids, size_t n, int64_t batch_id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ids[mid] < batch_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && ids[lo] == batch_id;
}

/* One detection per record and indicator, whoever finds it. The live detector matches
 * a whole batch against one snapshot of the set (read lock once per batch) and its
 * sightings commit in the transaction that commits the batch and its digest. So a
 * batch whose digest a hunt reads either holds sightings of the indicator already (it
 * was detected with the indicator in the set: the live detector covered all of its
 * records) or was detected before the publish and is the hunt's to confirm. Deciding
 * per batch from what is committed needs no schema change and no bookkeeping of the
 * batches in flight, which a watermark of batch ids would: a batch detected just
 * before the publish can commit after it. That is also why a second pass reads the
 * digests committed during the first. */
int cw_ioc_hub_retro_hunt(struct cw_ioc_hub *h, int64_t id, int64_t *hits_out,
                          int64_t *batches_out, int64_t *read_out, char *err, size_t errlen)
{
    struct cw_ioc_row *r = malloc(sizeof(*r));
    struct cw_iocset *one = cw_iocset_new();
    struct hits x = {.nkeys = 0}; /* 1 KiB of keys */
    int64_t t0 = cw_monotonic_ms(), hits = 0, read = 0, *done = NULL;
    size_t ndone = 0;
    int rc = -1;
    if (!r || !one) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (cw_store_ioc_get(h->store, id, r)) {
        snprintf(err, errlen, "no such indicator");
        goto out;
    }
    if (r->state != CW_IOC_PUBLISHED) {
        rc = 0;
        goto out;
    }
    char why[200], state[240];
    x.nkeys = cw_obs_indicator_keys(r->type, r->value, x.keys, why, sizeof(why));
    if (!x.nkeys) {
        /* the hunt status says why (the guard refuses such ranges unless forced) */
        snprintf(state, sizeof(state), "refused: %s", why);
        cw_warn("ioc: retro-hunt of indicator %lld refused: %s", (long long)id, why);
        cw_store_ioc_retro_set(h->store, id, state, 0, 0, 0, 0);
        rc = 0;
        goto out;
    }
    if (cw_iocset_add(one, r->type, r->value, strlen(r->value), (uint64_t)id)) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    char needle[256];
    needle_of(r->type, r->value, needle, sizeof(needle));
    cw_store_ioc_retro_set(h->store, id, "running", 0, 0, 0, 0);
    int64_t since = cw_now_us() - h->retro_days * 86400LL * 1000000LL;
    for (int pass = 0; pass < 2; pass++) {
        x.n = 0;
        /* the digests first, then the sightings: a batch seen here has its live
         * sightings (same transaction) in the later read */
        if (cw_store_digests_foreach(h->store, since, x.after, on_digest, &x, err, errlen) ||
            cw_store_ioc_sighted_batches(h->store, id, &done, &ndone, err, errlen))
            goto out;
        x.after = x.last;
        for (size_t i = 0; i < x.n; i++) {
            if (sighted(done, ndone, x.batch[i].batch_id))
                continue;
            int64_t n = hunt_batch(h, one, needle, &x.batch[i], err, errlen);
            if (n < 0)
                goto out;
            hits += n;
            read++;
        }
    }
    rc = 0;
out:
    if (rc == 0 && r && r->state == CW_IOC_PUBLISHED && x.nkeys)
        cw_store_ioc_retro_set(h->store, id, "done", hits, x.scanned, read,
                               cw_monotonic_ms() - t0);
    else if (rc)
        cw_store_ioc_retro_set(h->store, id, "failed", hits, x.scanned, read,
                               cw_monotonic_ms() - t0);
    if (hits_out)
        *hits_out = hits;
    if (batches_out)
        *batches_out = x.scanned;
    if (read_out)
        *read_out = read;
    free(done);
    free(x.batch);
    cw_iocset_free(one);
    free(r);
    return rc;
}

static void *worker_main(void *arg)
{
    struct cw_ioc_hub *h = arg;
    pthread_mutex_lock(&h->qm);
    for (;;) {
        while (!h->qstop && h->qlen == 0)
            pthread_cond_wait(&h->qcond, &h->qm);
        if (h->qstop)
            break;
        int64_t id = h->queue[h->qhead];
        h->qhead = (h->qhead + 1) % RETRO_QUEUE;
        h->qlen--;
        pthread_mutex_unlock(&h->qm);
        char err[256];
        int64_t hits = 0, scanned = 0, read = 0;
        if (cw_ioc_hub_retro_hunt(h, id, &hits, &scanned, &read, err, sizeof(err)))
            cw_error("ioc: retro-hunt of indicator %lld failed: %s", (long long)id, err);
        else
            cw_info("ioc: retro-hunt of indicator %lld: %lld hits in %lld of %lld batches",
                    (long long)id, (long long)hits, (long long)read, (long long)scanned);
        pthread_mutex_lock(&h->qm);
    }
    pthread_mutex_unlock(&h->qm);
    return NULL;
}

/* -- lifecycle, state changes --------------------------------------------------- */

struct cw_ioc_hub *cw_ioc_hub_new(struct cw_store *s, struct cw_triage *t,
                                  const struct cw_ioc_hub_config *cfg, char *err,
                                  size_t errlen)
{
    struct cw_ioc_hub *h = calloc(1, sizeof(*h));
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    h->store = s;
    h->triage = t;
    h->retro_days = cfg && cfg->retro_days > 0 ? cfg->retro_days : 30;
    pthread_rwlock_init(&h->lock, NULL);
    pthread_mutex_init(&h->fm, NULL);
    pthread_cond_init(&h->fcond, NULL);
    pthread_mutex_init(&h->qm, NULL);
    pthread_cond_init(&h->qcond, NULL);
    h->set = cw_iocset_new();
    if (!h->set) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    h->guard = cw_ioc_guard_new(cfg ? cfg->warninglists_dir : NULL, err, errlen);
    if (!h->guard)
        goto fail;
    if (cw_store_iocs_foreach(s, CW_IOC_PUBLISHED, load_row, h, err, errlen))
        goto fail;
    h->serial = cw_store_ioc_serial(s);
    if (pthread_create(&h->timer, NULL, timer_main, h)) {
        snprintf(err, errlen, "cannot start the feed timer thread");
        goto fail;
    }
    h->timer_started = true;
    if (pthread_create(&h->worker, NULL, worker_main, h)) {
        snprintf(err, errlen, "cannot start the retro-hunt thread");
        goto fail;
    }
    h->worker_started = true;
    cw_info("ioc: %zu published indicators loaded (%zu bytes), feed serial %lld",
            cw_iocset_count(h->set), cw_iocset_bytes(h->set), (long long)h->serial);
    return h;
fail:
    cw_ioc_hub_free(h);
    return NULL;
}

void cw_ioc_hub_shutdown(struct cw_ioc_hub *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->fm);
    h->stopping = true;
    resume_waiters(h, true, 0);
    pthread_cond_broadcast(&h->fcond);
    pthread_mutex_unlock(&h->fm);
}

void cw_ioc_hub_free(struct cw_ioc_hub *h)
{
    if (!h)
        return;
    cw_ioc_hub_shutdown(h);
    if (h->timer_started)
        pthread_join(h->timer, NULL);
    pthread_mutex_lock(&h->qm);
    h->qstop = true;
    pthread_cond_broadcast(&h->qcond);
    pthread_mutex_unlock(&h->qm);
    if (h->worker_started)
        pthread_join(h->worker, NULL);
    for (size_t i = 0; i < h->nentries; i++)
        if (h->entries[i]) {
            free(h->entries[i]->name);
            free(h->entries[i]);
        }
    free(h->entries);
    cw_iocset_free(h->set);
    cw_ioc_guard_free(h->guard);
    pthread_rwlock_destroy(&h->lock);
    pthread_mutex_destroy(&h->fm);
    pthread_cond_destroy(&h->fcond);
    pthread_mutex_destroy(&h->qm);
    pthread_cond_destroy(&h->qcond);
    free(h);
}

const struct cw_ioc_guard *cw_ioc_hub_guard(const struct cw_ioc_hub *h) { return h->guard; }

int cw_ioc_hub_set_state(struct cw_ioc_hub *h, int64_t id, enum cw_ioc_state to,
                         const char *actor, struct cw_ioc_row *after, char *err, size_t errlen)
{
    struct cw_ioc_row *r = after ? after : malloc(sizeof(*r));
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = cw_store_ioc_set_state(h->store, id, to, actor, r, err, errlen);
    if (rc == 0) {
        if (apply_row(h, r)) {
            snprintf(err, errlen, "out of memory updating the live indicator set");
            rc = -1;
        }
        feed_changed(h);
        if (rc == 0 && to == CW_IOC_PUBLISHED)
            retro_enqueue(h, id);
    }
    if (r != after)
        free(r);
    return rc;
}

struct expired {
    int64_t now;
    int64_t *ids;
    size_t n, cap;
};

static int collect_expired(void *ctx, const struct cw_ioc_row *r)
{
    struct expired *x = ctx;
    if (!r->valid_until_us || r->valid_until_us > x->now)
        return 0;
    if (x->n == x->cap) {
        size_t nc = x->cap ? x->cap * 2 : 16;
        int64_t *ni = realloc(x->ids, nc * sizeof(*ni));
        if (!ni)
            return -1;
        x->ids = ni;
        x->cap = nc;
    }
    x->ids[x->n++] = r->id;
    return 0;
}

int cw_ioc_hub_expire(struct cw_ioc_hub *h, int64_t now_us)
{
    struct expired x = {now_us, NULL, 0, 0};
    char err[256];
    int n = 0;
    if (cw_store_iocs_foreach(h->store, CW_IOC_PUBLISHED, collect_expired, &x, err,
                              sizeof(err)) == 0)
        for (size_t i = 0; i < x.n; i++)
            if (cw_ioc_hub_set_state(h, x.ids[i], CW_IOC_EXPIRED, "expiry", NULL, err,
                                     sizeof(err)) == 0)
                n++;
    free(x.ids);
    if (n)
        cw_info("ioc: %d indicators expired", n);
    return n;
}
