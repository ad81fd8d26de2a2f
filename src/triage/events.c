/* events.c - the open-event table: a slab of events and two hash indexes.
 *
 * Indexes map (member, class, direction, address) to a slab slot; linear probing
 * with backward-shift deletion keeps lookups to one or two cache lines and needs no
 * tombstones. Every address in an event's exact source/target samples is indexed
 * (first event to claim an address keeps it), which is what makes rules 1 and 2 of
 * events.h work for later detections. Beyond the sample, a 64-bit bitmap per event
 * and direction (hashed addresses) keeps the distinct counts a true lower bound: an
 * address raises the count only when it sets a new bit, so repeats never count. */
#include "triage/events.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

enum { DIR_SOURCE = 0, DIR_TARGET = 1 };

struct key {
    uint32_t member;
    uint8_t cls, dir, family, pad;
    uint8_t a[16];
};

struct slot {
    struct key k;
    uint32_t ev; /* slab index + 1; 0 = empty */
};

struct cw_events {
    struct cw_events_config cfg;
    struct cw_event *slab;
    uint32_t *free_list;
    uint32_t *dirty_list; /* slab indexes changed since the last take_dirty */
    uint64_t *seen;       /* per slab slot: [source bits, target bits] beyond the sample */
    size_t nslab, cap, nfree, open, ndirty;
    struct slot *tab;
    size_t tabcap; /* power of two */
    size_t tabused;
    int64_t next_id;
    int64_t clock_us; /* newest record time seen */
    uint64_t adds_since_sweep;
    struct cw_events_stats st;
};

static uint64_t hash_key(const struct key *k)
{
    /* FNV-1a over the packed key: short keys, good enough spread for linear probing */
    const unsigned char *p = (const unsigned char *)k;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < sizeof(*k); i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

static void make_key(struct key *k, uint32_t member, uint8_t cls, uint8_t dir,
                     const struct cw_ip *ip)
{
    memset(k, 0, sizeof(*k));
    k->member = member;
    k->cls = cls;
    k->dir = dir;
    k->family = ip->family;
    memcpy(k->a, ip->a, 16);
}

static size_t find_slot(const struct cw_events *ev, const struct key *k)
{
    size_t m = ev->tabcap - 1, i = hash_key(k) & m;
    while (ev->tab[i].ev && memcmp(&ev->tab[i].k, k, sizeof(*k)) != 0)
        i = (i + 1) & m;
    return i;
}

static int tab_grow(struct cw_events *ev)
{
    size_t ncap = ev->tabcap ? ev->tabcap * 2 : 1024;
    struct slot *nt = calloc(ncap, sizeof(*nt));
    if (!nt)
        return -1;
    struct slot *old = ev->tab;
    size_t oldcap = ev->tabcap;
    ev->tab = nt;
    ev->tabcap = ncap;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].ev)
            ev->tab[find_slot(ev, &old[i].k)] = old[i];
    free(old);
    return 0;
}

static uint32_t tab_get(const struct cw_events *ev, const struct key *k)
{
    if (!ev->tabcap)
        return 0;
    return ev->tab[find_slot(ev, k)].ev;
}

static int tab_put(struct cw_events *ev, const struct key *k, uint32_t idx1)
{
    if ((ev->tabused + 1) * 4 > ev->tabcap * 3 && tab_grow(ev))
        return -1;
    size_t i = find_slot(ev, k);
    if (ev->tab[i].ev)
        return 0; /* first claim wins */
    ev->tab[i].k = *k;
    ev->tab[i].ev = idx1;
    ev->tabused++;
    return 0;
}

static void tab_del(struct cw_events *ev, const struct key *k, uint32_t idx1)
{
    if (!ev->tabcap)
        return;
    size_t m = ev->tabcap - 1, i = find_slot(ev, k);
    if (!ev->tab[i].ev || ev->tab[i].ev != idx1)
        return;
    /* backward-shift deletion */
    size_t j = i;
    for (;;) {
        ev->tab[i].ev = 0;
        for (;;) {
            j = (j + 1) & m;
            if (!ev->tab[j].ev)
                goto done;
            size_t home = hash_key(&ev->tab[j].k) & m;
            /* can slot j move to i? only if its home is not in (i, j] cyclically */
            if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
                break;
        }
        ev->tab[i] = ev->tab[j];
        i = j;
    }
done:
    ev->tabused--;
}

struct cw_events *cw_events_new(const struct cw_events_config *cfg, int64_t next_id)
{
    struct cw_events *ev = calloc(1, sizeof(*ev));
    if (!ev)
        return NULL;
    if (cfg)
        ev->cfg = *cfg;
    if (ev->cfg.window_us <= 0)
        ev->cfg.window_us = 24LL * 3600 * 1000000;
    if (ev->cfg.max_open == 0)
        ev->cfg.max_open = 1000000;
    ev->next_id = next_id > 0 ? next_id : 1;
    return ev;
}

void cw_events_free(struct cw_events *ev)
{
    if (!ev)
        return;
    free(ev->slab);
    free(ev->free_list);
    free(ev->dirty_list);
    free(ev->seen);
    free(ev->tab);
    free(ev);
}

static void unindex(struct cw_events *ev, uint32_t idx)
{
    struct cw_event *e = &ev->slab[idx];
    struct key k;
    for (unsigned i = 0; i < e->nsrc_kept; i++) {
        make_key(&k, e->member_id, e->attack_class, DIR_SOURCE, &e->sources[i]);
        tab_del(ev, &k, idx + 1);
    }
    for (unsigned i = 0; i < e->ntgt_kept; i++) {
        make_key(&k, e->member_id, e->attack_class, DIR_TARGET, &e->targets[i]);
        tab_del(ev, &k, idx + 1);
    }
}

static void close_event(struct cw_events *ev, uint32_t idx)
{
    unindex(ev, idx);
    ev->slab[idx].id = 0;
    ev->free_list[ev->nfree++] = idx;
    ev->open--;
}

static void sweep_expired(struct cw_events *ev)
{
    for (size_t i = 0; i < ev->nslab; i++)
        if (ev->slab[i].id && !ev->slab[i].dirty &&
            ev->slab[i].last_us + ev->cfg.window_us < ev->clock_us) {
            close_event(ev, (uint32_t)i);
            ev->st.expired++;
        }
}

/* The k-th smallest (0-based) of a[0..n), reordering a (quickselect, Hoare
 * partition, middle pivot: deterministic). */
static int64_t kth_smallest(int64_t *a, ptrdiff_t n, ptrdiff_t k)
{
    ptrdiff_t lo = 0, hi = n - 1;
    while (lo < hi) {
        int64_t pivot = a[lo + (hi - lo) / 2];
        ptrdiff_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j) {
                int64_t t = a[i];
                a[i++] = a[j];
                a[j--] = t;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return a[k];
    }
    return a[k];
}

/* Close the least recently active events: max_open/64 of them (at least one) in one
 * pass, so that a full table costs O(1) amortised per new event instead of a scan of
 * the whole slab for every one. Ties on last_us go in slab order (deterministic). */
static void evict_oldest(struct cw_events *ev)
{
    size_t want = ev->cfg.max_open / 64 ? ev->cfg.max_open / 64 : 1;
    int64_t *v = malloc(ev->nslab * sizeof(*v));
    size_t n = 0;
    int64_t thr = INT64_MAX;
    for (size_t i = 0; i < ev->nslab; i++)
        if (ev->slab[i].id && !ev->slab[i].dirty) {
            if (v)
                v[n] = ev->slab[i].last_us;
            else if (ev->slab[i].last_us < thr)
                thr = ev->slab[i].last_us; /* no memory: the single oldest */
            n++;
        }
    if (!n) {
        free(v);
        return;
    }
    if (!v)
        want = 1;
    if (want > n)
        want = n;
    if (v)
        thr = kth_smallest(v, (ptrdiff_t)n, (ptrdiff_t)want - 1);
    free(v);
    size_t closed = 0;
    for (size_t i = 0; i < ev->nslab && closed < want; i++)
        if (ev->slab[i].id && !ev->slab[i].dirty && ev->slab[i].last_us < thr) {
            close_event(ev, (uint32_t)i);
            closed++;
        }
    for (size_t i = 0; i < ev->nslab && closed < want; i++)
        if (ev->slab[i].id && !ev->slab[i].dirty && ev->slab[i].last_us == thr) {
            close_event(ev, (uint32_t)i);
            closed++;
        }
    ev->st.evicted += closed;
}

static int alloc_event(struct cw_events *ev, uint32_t *idx)
{
    if (ev->open >= ev->cfg.max_open) {
        sweep_expired(ev);
        if (ev->open >= ev->cfg.max_open)
            evict_oldest(ev);
        if (ev->open >= ev->cfg.max_open)
            return -1; /* every event is dirty: caller must take_dirty first */
    }
    if (ev->nfree) {
        *idx = ev->free_list[--ev->nfree];
    } else {
        if (ev->nslab == ev->cap) {
            size_t nc = ev->cap ? ev->cap * 2 : 256;
            struct cw_event *ns = realloc(ev->slab, nc * sizeof(*ns));
            if (!ns)
                return -1;
            ev->slab = ns;
            uint32_t *nf = realloc(ev->free_list, nc * sizeof(*nf));
            if (!nf)
                return -1;
            ev->free_list = nf;
            uint32_t *nd = realloc(ev->dirty_list, nc * sizeof(*nd));
            if (!nd)
                return -1;
            ev->dirty_list = nd;
            uint64_t *nb = realloc(ev->seen, nc * 2 * sizeof(*nb));
            if (!nb)
                return -1;
            ev->seen = nb;
            ev->cap = nc;
        }
        *idx = (uint32_t)ev->nslab++;
    }
    memset(&ev->slab[*idx], 0, sizeof(ev->slab[*idx]));
    ev->seen[2 * *idx] = ev->seen[2 * *idx + 1] = 0;
    ev->open++;
    return 0;
}

static bool same_ip(const struct cw_ip *a, const struct cw_ip *b)
{
    return a->family == b->family && memcmp(a->a, b->a, 16) == 0;
}

/* Remember addr in the event's exact sample and index it; beyond the sample the
 * distinct count becomes a lower bound. */
static int note_addr(struct cw_events *ev, uint32_t idx, uint8_t dir, const struct cw_ip *addr)
{
    struct cw_event *e = &ev->slab[idx];
    struct cw_ip *arr = dir == DIR_SOURCE ? e->sources : e->targets;
    uint8_t *n = dir == DIR_SOURCE ? &e->nsrc_kept : &e->ntgt_kept;
    uint32_t *distinct = dir == DIR_SOURCE ? &e->distinct_sources : &e->distinct_targets;
    for (unsigned i = 0; i < *n; i++)
        if (same_ip(&arr[i], addr))
            return 0;
    if (*n >= CW_EVENT_SAMPLE_ADDRS) {
        /* not tracked exactly any more: count an address only when its hash bit is
         * new (a repeated address never counts again; colliding ones count once:
         * a lower bound) */
        struct key k;
        make_key(&k, e->member_id, e->attack_class, dir, addr);
        uint64_t bit = 1ULL << (hash_key(&k) >> 58);
        uint64_t *seen = &ev->seen[2 * (size_t)idx + dir];
        if (!(*seen & bit)) {
            *seen |= bit;
            (*distinct)++;
        }
        return 0;
    }
    arr[(*n)++] = *addr;
    (*distinct)++;
    struct key k;
    make_key(&k, e->member_id, e->attack_class, dir, addr);
    return tab_put(ev, &k, idx + 1);
}

static int live(struct cw_events *ev, uint32_t idx1, int64_t ts)
{
    if (!idx1)
        return 0;
    struct cw_event *e = &ev->slab[idx1 - 1];
    if (e->last_us + ev->cfg.window_us < ts && !e->dirty) {
        close_event(ev, idx1 - 1);
        ev->st.expired++;
        return 0;
    }
    return 1;
}

int cw_events_add(struct cw_events *ev, const struct cw_batch *b, const struct cw_detections *ds,
                  int64_t *event_of)
{
    for (uint32_t i = 0; i < ds->n; i++) {
        const struct cw_detection *d = &ds->d[i];
        if (event_of)
            event_of[i] = 0;
        if (d->noise)
            continue;
        const struct cw_record *r = &b->recs[d->rec];
        if (r->ts_us > ev->clock_us)
            ev->clock_us = r->ts_us;
        /* the target joins events only where it is the attacked asset: a DNS record's
         * destination is the resolver every client of the member asks, so bundling by
         * it would make one event of all of a member's unrelated DNS flags */
        static const struct cw_ip no_target;
        const struct cw_ip *dst = r->kind == CW_KIND_DNS ? &no_target : &r->dst;
        struct key ks, kt;
        make_key(&ks, r->member_id, d->attack_class, DIR_SOURCE, &r->src);
        make_key(&kt, r->member_id, d->attack_class, DIR_TARGET, dst);
        uint32_t idx1 = tab_get(ev, &ks);
        if (live(ev, idx1, r->ts_us)) {
            ev->st.joined_by_source++;
        } else {
            idx1 = dst->family ? tab_get(ev, &kt) : 0;
            if (live(ev, idx1, r->ts_us)) {
                ev->st.joined_by_target++;
            } else {
                uint32_t idx;
                if (alloc_event(ev, &idx))
                    return -1;
                struct cw_event *e = &ev->slab[idx];
                e->id = ev->next_id++;
                e->member_id = r->member_id;
                e->attack_class = d->attack_class;
                e->severity = d->severity;
                e->first_us = e->last_us = r->ts_us;
                e->key_source = r->src;
                e->key_target = *dst;
                e->is_new = true;
                idx1 = idx + 1;
                ev->st.created++;
            }
        }
        struct cw_event *e = &ev->slab[idx1 - 1];
        e->count++;
        if (d->severity && d->severity < e->severity)
            e->severity = d->severity;
        if (r->ts_us < e->first_us)
            e->first_us = r->ts_us;
        if (r->ts_us > e->last_us)
            e->last_us = r->ts_us;
        if (!e->dirty) {
            e->dirty = true;
            ev->dirty_list[ev->ndirty++] = idx1 - 1;
        }
        if ((r->src.family && note_addr(ev, idx1 - 1, DIR_SOURCE, &r->src)) ||
            (dst->family && note_addr(ev, idx1 - 1, DIR_TARGET, dst)))
            return -1;
        if (event_of)
            event_of[i] = e->id;
    }
    if (++ev->adds_since_sweep >= 64 && ev->open > ev->cfg.max_open / 2) {
        ev->adds_since_sweep = 0;
        sweep_expired(ev);
    }
    return 0;
}

int cw_events_restore(struct cw_events *ev, const struct cw_event *src)
{
    uint32_t idx;
    if (src->id >= ev->next_id || alloc_event(ev, &idx))
        return -1;
    struct cw_event *e = &ev->slab[idx];
    *e = *src;
    e->nsrc_kept = e->ntgt_kept = 0;
    uint32_t ds = src->distinct_sources, dt = src->distinct_targets;
    for (unsigned i = 0; i < src->nsrc_kept && i < CW_EVENT_SAMPLE_ADDRS; i++)
        if (note_addr(ev, idx, DIR_SOURCE, &src->sources[i]))
            return -1;
    for (unsigned i = 0; i < src->ntgt_kept && i < CW_EVENT_SAMPLE_ADDRS; i++)
        if (note_addr(ev, idx, DIR_TARGET, &src->targets[i]))
            return -1;
    e->distinct_sources = ds;
    e->distinct_targets = dt;
    /* which addresses beyond the sample were counted is not stored: when there were
     * any, count no more of them (the figure stays a lower bound) */
    ev->seen[2 * (size_t)idx + DIR_SOURCE] = ds > e->nsrc_kept ? ~0ULL : 0;
    ev->seen[2 * (size_t)idx + DIR_TARGET] = dt > e->ntgt_kept ? ~0ULL : 0;
    e->dirty = e->is_new = false;
    if (e->last_us > ev->clock_us)
        ev->clock_us = e->last_us;
    return 0;
}

int cw_events_take_dirty(struct cw_events *ev, cw_event_cb cb, void *ctx)
{
    int r = 0;
    for (size_t i = 0; i < ev->ndirty; i++) {
        struct cw_event *e = &ev->slab[ev->dirty_list[i]];
        if (!e->id || !e->dirty)
            continue;
        if (r == 0 && cb)
            r = cb(ctx, e);
        e->dirty = false;
        e->is_new = false;
    }
    ev->ndirty = 0;
    return r;
}

const struct cw_event *cw_events_get(const struct cw_events *ev, int64_t id)
{
    for (size_t i = 0; i < ev->nslab; i++)
        if (ev->slab[i].id == id)
            return &ev->slab[i];
    return NULL;
}

void cw_events_stats(const struct cw_events *ev, struct cw_events_stats *st)
{
    *st = ev->st;
    st->open = ev->open;
}

int64_t cw_events_next_id(const struct cw_events *ev) { return ev->next_id; }

int64_t cw_events_take_id(struct cw_events *ev) { return ev->next_id++; }

int cw_events_forget(struct cw_events *ev, int64_t id)
{
    for (size_t i = 0; i < ev->nslab; i++)
        if (ev->slab[i].id == id) {
            ev->slab[i].dirty = false;
            close_event(ev, (uint32_t)i);
            return 0;
        }
    return -1;
}

size_t cw_events_bytes_per_event(void)
{
    /* slab entry + free-list and dirty-list entries + the two beyond-sample bitmaps
     * + up to 2*CW_EVENT_SAMPLE_ADDRS index slots at 3/4 load */
    return sizeof(struct cw_event) + 2 * sizeof(uint32_t) + 2 * sizeof(uint64_t) +
           (2 * CW_EVENT_SAMPLE_ADDRS * sizeof(struct slot) * 4) / 3;
}
