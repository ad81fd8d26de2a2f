/* dnsd_nsinfo.c - zone NS sets for NSDNAME/NSIP triggers (see dnsd_nsinfo.h). */
#include "dns/dnsd_nsinfo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "dns/dnsd_recursive.h"
#include "common/banned.h"

#define MIN_TTL_S 5 /* a 0-TTL NS set is still cached this long: one lookup per burst */

/* -- parsing ---------------------------------------------------------------------- */

static bool rr_owner(const uint8_t *pkt, size_t len, const struct cw_dns_rr *rr,
                     uint8_t out[CW_DNS_NAME_MAX], size_t *ol)
{
    return cw_dns_name_unpack(pkt, len, rr->name_off, true, out, ol, NULL) == 0;
}

static bool same_name(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    return al == bl && memcmp(a, b, al) == 0;
}

/* NS RRs of section sec owned by owner: names appended to out (deduplicated) */
static void take_ns(const struct cw_dns_msg *m, int sec, const uint8_t *owner, size_t olen,
                    struct cw_ns_step *out)
{
    uint8_t o[CW_DNS_NAME_MAX], t[CW_DNS_NAME_MAX];
    size_t ol, tl;
    for (unsigned i = 0; i < m->nrr; i++) {
        const struct cw_dns_rr *rr = &m->rr[i];
        if (rr->section != sec || rr->type != CW_DNS_T_NS || rr->rclass != CW_DNS_C_IN ||
            !rr_owner(m->pkt, m->len, rr, o, &ol) || !same_name(o, ol, owner, olen) ||
            cw_dns_name_unpack(m->pkt, m->len, rr->rdata_off, true, t, &tl, NULL))
            continue;
        if (rr->ttl < out->ttl)
            out->ttl = rr->ttl;
        bool dup = false;
        for (size_t k = 0; k < out->nnames && !dup; k++)
            dup = same_name(out->names[k], out->name_lens[k], t, tl);
        if (dup || out->nnames >= CW_NS_MAX_NAMES)
            continue;
        memcpy(out->names[out->nnames], t, tl);
        out->name_lens[out->nnames++] = tl;
    }
}

static bool rr_addr(const struct cw_dns_msg *m, const struct cw_dns_rr *rr, struct cw_rpz_addr *a)
{
    memset(a, 0, sizeof(*a));
    if (rr->rclass != CW_DNS_C_IN)
        return false;
    if (rr->type == CW_DNS_T_A && rr->rdlen == 4)
        a->family = 4;
    else if (rr->type == CW_DNS_T_AAAA && rr->rdlen == 16)
        a->family = 6;
    else
        return false;
    memcpy(a->addr, m->pkt + rr->rdata_off, rr->rdlen);
    return true;
}

static void add_addr(struct cw_rpz_addr *addrs, size_t *n, size_t cap, const struct cw_rpz_addr *a)
{
    for (size_t i = 0; i < *n; i++)
        if (addrs[i].family == a->family && !memcmp(addrs[i].addr, a->addr, 16))
            return;
    if (*n < cap)
        addrs[(*n)++] = *a;
}

/* additional-section addresses of the step's NS names */
static void take_glue(const struct cw_dns_msg *m, struct cw_ns_step *out)
{
    uint8_t o[CW_DNS_NAME_MAX];
    size_t ol;
    for (unsigned i = 0; i < m->nrr; i++) {
        const struct cw_dns_rr *rr = &m->rr[i];
        struct cw_rpz_addr a;
        if (rr->section != CW_DNS_SEC_AR || !rr_addr(m, rr, &a) ||
            !rr_owner(m->pkt, m->len, rr, o, &ol))
            continue;
        for (size_t k = 0; k < out->nnames; k++)
            if (same_name(out->names[k], out->name_lens[k], o, ol)) {
                add_addr(out->addrs, &out->naddrs, CW_NS_MAX_ADDRS, &a);
                if (rr->ttl < out->ttl)
                    out->ttl = rr->ttl;
                break;
            }
    }
}

/* SOA minimum of an SOA RR (RFC 2308 3: negative TTL = min(SOA TTL, MINIMUM)) */
static uint32_t soa_negative_ttl(const struct cw_dns_msg *m, const struct cw_dns_rr *rr)
{
    size_t next;
    if (cw_dns_name_unpack(m->pkt, m->len, rr->rdata_off, false, NULL, NULL, &next) ||
        cw_dns_name_unpack(m->pkt, m->len, next, false, NULL, NULL, &next) ||
        next + 20 > (size_t)rr->rdata_off + rr->rdlen)
        return rr->ttl;
    const uint8_t *p = m->pkt + next + 16;
    uint32_t min = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    return min < rr->ttl ? min : rr->ttl;
}

enum cw_ns_step_kind cw_dnsd_ns_parse(const uint8_t *pkt, size_t len, const uint8_t *cur,
                                      size_t clen, struct cw_ns_step *out)
{
    static __thread struct cw_dns_msg m;
    memset(out, 0, offsetof(struct cw_ns_step, names));
    out->nnames = out->naddrs = 0;
    out->ttl = UINT32_MAX;
    out->kind = CW_NS_STEP_FAIL;
    if (cw_dns_msg_parse(&m, pkt, len) || !(m.flags & CW_DNS_F_QR) || (m.flags & CW_DNS_F_TC) ||
        (m.rcode != CW_DNS_R_NOERROR && m.rcode != CW_DNS_R_NXDOMAIN))
        return out->kind;
    /* 1. the name owns an NS RRset: it is the apex */
    take_ns(&m, CW_DNS_SEC_AN, cur, clen, out);
    if (out->nnames) {
        memcpy(out->zone, cur, clen);
        out->zone_len = clen;
        take_glue(&m, out);
        return out->kind = CW_NS_STEP_APEX;
    }
    /* 2. SOA (negative answer) or a referral in the authority section, owned by the
     * name or an ancestor (anything else is not about this name: ignored) */
    uint8_t o[CW_DNS_NAME_MAX];
    size_t ol;
    for (unsigned i = 0; i < m.nrr; i++) {
        const struct cw_dns_rr *rr = &m.rr[i];
        if (rr->section != CW_DNS_SEC_NS || rr->rclass != CW_DNS_C_IN ||
            (rr->type != CW_DNS_T_SOA && rr->type != CW_DNS_T_NS) ||
            !rr_owner(pkt, len, rr, o, &ol) || !cw_dns_name_is_sub(cur, clen, o, ol))
            continue;
        if (rr->type == CW_DNS_T_SOA) {
            memcpy(out->zone, o, ol);
            out->zone_len = ol;
            out->ttl = soa_negative_ttl(&m, rr);
            out->nnames = out->naddrs = 0;
            return out->kind = CW_NS_STEP_ZONE;
        }
        if (!out->nnames) { /* the first referral's owner is the zone */
            take_ns(&m, CW_DNS_SEC_NS, o, ol, out);
            memcpy(out->zone, o, ol);
            out->zone_len = ol;
        }
    }
    if (out->nnames) {
        take_glue(&m, out);
        return out->kind = CW_NS_STEP_APEX;
    }
    out->ttl = UINT32_MAX;
    return out->kind = clen > 1 ? CW_NS_STEP_UP : CW_NS_STEP_FAIL;
}

int cw_dnsd_ns_parse_addrs(const uint8_t *pkt, size_t len, struct cw_rpz_addr *addrs, size_t *n,
                           size_t cap, uint32_t *ttl)
{
    static __thread struct cw_dns_msg m;
    if (cw_dns_msg_parse(&m, pkt, len) || !(m.flags & CW_DNS_F_QR) || (m.flags & CW_DNS_F_TC) ||
        (m.rcode != CW_DNS_R_NOERROR && m.rcode != CW_DNS_R_NXDOMAIN))
        return -1;
    size_t before = *n;
    for (unsigned i = 0; i < m.nrr; i++) {
        struct cw_rpz_addr a;
        if (m.rr[i].section != CW_DNS_SEC_AN || !rr_addr(&m, &m.rr[i], &a))
            continue;
        add_addr(addrs, n, cap, &a);
        if (m.rr[i].ttl < *ttl)
            *ttl = m.rr[i].ttl;
    }
    return (int)(*n - before);
}

/* -- sets ------------------------------------------------------------------------- */

struct cw_dnsd_ns_set *cw_dnsd_ns_set_ref(struct cw_dnsd_ns_set *s)
{
    if (s)
        s->refs++;
    return s;
}

void cw_dnsd_ns_set_unref(struct cw_dnsd_ns_set *s)
{
    if (s && --s->refs == 0)
        free(s);
}

void cw_dnsd_ns_fill(const struct cw_dnsd_ns_set *s, struct cw_rpz_query *q)
{
    if (!s)
        return;
    q->ns_names = s->names;
    q->ns_name_lens = s->name_lens;
    q->n_ns_names = s->nnames;
    q->ns_ips = s->addrs;
    q->n_ns_ips = s->naddrs;
}

/* -- the lookup machinery ----------------------------------------------------------- */

/* A cache slot: name -> NS set (apex) or name -> its zone (below an apex). */
struct slot {
    uint8_t name[CW_DNS_NAME_MAX];
    size_t nlen;
    int64_t expires_ms;
    struct cw_dnsd_ns_set *set; /* apex */
    uint8_t zone[CW_DNS_NAME_MAX];
    size_t zlen;                /* below an apex (set NULL) */
};

struct job;

struct cw_dnsd_ns_wait {
    struct cw_dnsd_ns_wait *prev, *next;
    struct job *job;
    cw_dnsd_ns_cb cb;
    void *ctx;
};

struct aux {
    struct aux *prev, *next;    /* ns->auxs */
    struct job *job;
    struct cw_dnsd_ns *ns;
    uint8_t name[CW_DNS_NAME_MAX];
    size_t nlen;
    uint16_t qtype, id;
    int fd;
    unsigned attempts;
    int64_t deadline_ms;
    struct cw_dnsd_rec_query *rq;
    bool dead;
};

struct job {
    struct job *prev, *next;    /* ns->jobs */
    uint8_t qname[CW_DNS_NAME_MAX];
    size_t qlen;
    uint8_t cur[CW_DNS_NAME_MAX];
    size_t clen;
    bool want_addrs;
    unsigned sent;              /* auxiliary queries so far */
    unsigned pending;           /* address queries out */
    int64_t deadline_ms;
    struct cw_dnsd_ns_set *set; /* being built (phase 2) */
    uint32_t ttl;
    struct cw_dnsd_ns_wait *waiters;
    /* the name's zone once an SOA told it (cached as name -> zone) */
    bool below;
    uint32_t below_ttl;
};

struct cw_dnsd_ns {
    struct cw_dnsd_ns_opts o;
    int ep;
    struct slot **cache;
    size_t mask;
    struct job *jobs;
    size_t njobs, nwaiters;
    struct aux *auxs;
    struct aux *dead;           /* freed after the current batch of events */
    struct cw_dnsd_ns_stats st;
};

static uint64_t name_hash(const uint8_t *n, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ n[i]) * 1099511628211ull;
    return h;
}

static struct slot *cache_get(struct cw_dnsd_ns *ns, const uint8_t *n, size_t len, int64_t now)
{
    struct slot *e = ns->cache[name_hash(n, len) & ns->mask];
    if (!e || !same_name(e->name, e->nlen, n, len) || e->expires_ms <= now)
        return NULL;
    return e;
}

static uint32_t clamp_ttl(const struct cw_dnsd_ns *ns, uint32_t ttl)
{
    if (ttl > ns->o.max_ttl)
        ttl = ns->o.max_ttl;
    return ttl < MIN_TTL_S ? MIN_TTL_S : ttl;
}

/* The slot n hashes to, emptied for a new entry (direct-mapped: the old one goes) */
static struct slot *cache_slot(struct cw_dnsd_ns *ns, const uint8_t *n, size_t len)
{
    struct slot **p = &ns->cache[name_hash(n, len) & ns->mask];
    if (!*p && !(*p = calloc(1, sizeof(**p))))
        return NULL;
    cw_dnsd_ns_set_unref((*p)->set);
    (*p)->set = NULL;
    memcpy((*p)->name, n, len);
    (*p)->nlen = len;
    return *p;
}

static void cache_put_set(struct cw_dnsd_ns *ns, struct cw_dnsd_ns_set *set)
{
    cw_dnsd_ns_set_ref(set); /* before the slot lets go of what it held (maybe set) */
    struct slot *e = cache_slot(ns, set->zone, set->zone_len);
    if (!e) {
        cw_dnsd_ns_set_unref(set);
        return;
    }
    e->set = set;
    e->expires_ms = set->expires_ms;
}

static void cache_put_below(struct cw_dnsd_ns *ns, const uint8_t *n, size_t len,
                            const uint8_t *zone, size_t zlen, uint32_t ttl, int64_t now)
{
    struct slot *e = cache_slot(ns, n, len);
    if (!e)
        return;
    memcpy(e->zone, zone, zlen);
    e->zlen = zlen;
    e->expires_ms = now + (int64_t)clamp_ttl(ns, ttl) * 1000;
}

/* the cached set of name's zone, good enough for want_addrs, or NULL */
static struct cw_dnsd_ns_set *cache_find(struct cw_dnsd_ns *ns, const uint8_t *n, size_t len,
                                         bool want_addrs, int64_t now)
{
    struct slot *e = cache_get(ns, n, len, now);
    if (e && !e->set)
        e = cache_get(ns, e->zone, e->zlen, now);
    if (!e || !e->set || (want_addrs && !e->set->with_addrs))
        return NULL;
    return e->set;
}

static void aux_kill(struct cw_dnsd_ns *ns, struct aux *a)
{
    if (a->dead)
        return;
    a->dead = true;
    if (a->rq) {
        cw_dnsd_rec_cancel(ns->o.rec, a->rq);
        a->rq = NULL;
    }
    if (a->fd >= 0) {
        close(a->fd); /* also leaves the epoll set */
        a->fd = -1;
    }
    if (a->prev)
        a->prev->next = a->next;
    else
        ns->auxs = a->next;
    if (a->next)
        a->next->prev = a->prev;
    /* a->next stays: tick() may be walking through it */
    a->job = (struct job *)ns->dead; /* reused as the dead list's link */
    ns->dead = a;
}

static void reap(struct cw_dnsd_ns *ns)
{
    while (ns->dead) {
        struct aux *a = ns->dead;
        ns->dead = (struct aux *)a->job;
        free(a);
    }
}

static void job_finish(struct cw_dnsd_ns *ns, struct job *j, struct cw_dnsd_ns_set *set,
                       bool fresh)
{
    int64_t now = cw_monotonic_ms();
    if (set && fresh) {
        set->expires_ms = now + (int64_t)clamp_ttl(ns, j->ttl) * 1000;
        cache_put_set(ns, set);
    }
    if (set && j->below && !same_name(j->qname, j->qlen, set->zone, set->zone_len))
        cache_put_below(ns, j->qname, j->qlen, set->zone, set->zone_len, j->below_ttl, now);
    if (!set)
        ns->st.failures++;
    if (j->prev)
        j->prev->next = j->next;
    else
        ns->jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    ns->njobs--;
    for (struct aux *a = ns->auxs, *next; a; a = next) {
        next = a->next;
        if (a->job == j)
            aux_kill(ns, a);
    }
    while (j->waiters) { /* one at a time: a callback may cancel another wait */
        struct cw_dnsd_ns_wait *w = j->waiters;
        j->waiters = w->next;
        if (j->waiters)
            j->waiters->prev = NULL;
        ns->nwaiters--;
        cw_dnsd_ns_cb cb = w->cb;
        void *ctx = w->ctx;
        free(w);
        cb(ctx, cw_dnsd_ns_set_ref(set), false);
    }
    if (j->set != set)
        cw_dnsd_ns_set_unref(j->set);
    if (fresh)
        cw_dnsd_ns_set_unref(set); /* the job's reference */
    free(j);
}

static void aux_answer(struct cw_dnsd_ns *ns, struct aux *a, const uint8_t *pkt, size_t len);

static void rec_cb(void *ctx, const uint8_t *pkt, size_t len, const char *why)
{
    struct aux *a = ctx;
    a->rq = NULL;
    if (why)
        cw_debug("ns lookup: %s", why);
    aux_answer(a->ns, a, why ? NULL : pkt, len);
}

static int aux_send_udp(struct cw_dnsd_ns *ns, struct aux *a)
{
    if (a->fd >= 0) {
        close(a->fd);
        a->fd = -1;
    }
    size_t i = a->attempts++ % ns->o.nup;
    uint8_t q[CW_DNS_HDR_LEN + CW_DNS_NAME_MAX + 4 + 11];
    if (getrandom(&a->id, sizeof(a->id), GRND_NONBLOCK) != sizeof(a->id))
        a->id = (uint16_t)((uintptr_t)a ^ (uint64_t)cw_monotonic_ms());
    uint8_t hdr[12] = {(uint8_t)(a->id >> 8), (uint8_t)a->id, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1};
    memcpy(q, hdr, 12);
    memcpy(q + 12, a->name, a->nlen);
    uint8_t tail[15] = {(uint8_t)(a->qtype >> 8), (uint8_t)a->qtype, 0, 1, 0, 0, 41,
                        (uint8_t)(ns->o.udp_size >> 8), (uint8_t)ns->o.udp_size, 0, 0, 0, 0, 0, 0};
    memcpy(q + 12 + a->nlen, tail, sizeof(tail));
    size_t qlen = 12 + a->nlen + sizeof(tail);
    a->fd = socket(ns->o.up[i].ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = a};
    if (a->fd < 0 || connect(a->fd, (const struct sockaddr *)&ns->o.up[i], ns->o.uplen[i]) ||
        send(a->fd, q, qlen, 0) != (ssize_t)qlen || epoll_ctl(ns->ep, EPOLL_CTL_ADD, a->fd, &ev)) {
        cw_debug("ns lookup: upstream %zu: %s", i, strerror(errno));
        return -1;
    }
    a->deadline_ms = cw_monotonic_ms() + ns->o.timeout_ms;
    return 0;
}

/* One auxiliary query of job j. 0, or -1 (over the budget, or it could not start). */
static int aux_start(struct cw_dnsd_ns *ns, struct job *j, const uint8_t *name, size_t len,
                     uint16_t qtype)
{
    if (j->sent >= CW_NS_MAX_AUX)
        return -1;
    struct aux *a = calloc(1, sizeof(*a));
    if (!a)
        return -1;
    j->sent++;
    ns->st.aux_queries++;
    if (cw_log_enabled(CW_LOG_DEBUG)) {
        char t[CW_DNS_TEXT_MAX];
        if (cw_dns_name_to_text(name, len, t, sizeof(t)) < 0)
            t[0] = '\0';
        cw_debug("ns lookup: ask %s %s", t,
                 qtype == CW_DNS_T_NS ? "NS" : qtype == CW_DNS_T_A ? "A" : "AAAA");
    }
    a->ns = ns;
    a->job = j;
    a->fd = -1;
    memcpy(a->name, name, len);
    a->nlen = len;
    a->qtype = qtype;
    a->next = ns->auxs;
    if (ns->auxs)
        ns->auxs->prev = a;
    ns->auxs = a;
    int rc;
    if (ns->o.rec) {
        a->deadline_ms = cw_monotonic_ms() + ns->o.timeout_ms;
        rc = cw_dnsd_rec_resolve(ns->o.rec, name, len, qtype, CW_DNS_C_IN, rec_cb, a, &a->rq);
    } else {
        rc = aux_send_udp(ns, a);
    }
    if (rc) {
        a->rq = NULL;
        aux_kill(ns, a);
        return -1;
    }
    return 0;
}

/* NS step answered: the zone, its names, maybe address queries next */
static void job_ns_answer(struct cw_dnsd_ns *ns, struct job *j, const uint8_t *pkt, size_t len)
{
    static __thread struct cw_ns_step st;
    if (!pkt || cw_dnsd_ns_parse(pkt, len, j->cur, j->clen, &st) == CW_NS_STEP_FAIL) {
        job_finish(ns, j, NULL, false);
        return;
    }
    if (st.kind == CW_NS_STEP_UP) { /* ask the parent */
        size_t skip = (size_t)j->cur[0] + 1;
        memmove(j->cur, j->cur + skip, j->clen - skip);
        j->clen -= skip;
    } else if (st.kind == CW_NS_STEP_ZONE) {
        if (same_name(st.zone, st.zone_len, j->cur, j->clen)) { /* an apex without NS? */
            job_finish(ns, j, NULL, false);
            return;
        }
        if (!j->below) {
            j->below = true;
            j->below_ttl = st.ttl;
        }
        memcpy(j->cur, st.zone, st.zone_len);
        j->clen = st.zone_len;
        struct cw_dnsd_ns_set *known = cache_find(ns, j->cur, j->clen, j->want_addrs,
                                                  cw_monotonic_ms());
        if (known) {
            job_finish(ns, j, known, false);
            return;
        }
    }
    if (st.kind != CW_NS_STEP_APEX) {
        if (aux_start(ns, j, j->cur, j->clen, CW_DNS_T_NS))
            job_finish(ns, j, NULL, false);
        return;
    }
    struct cw_dnsd_ns_set *set = calloc(1, sizeof(*set));
    if (!set) {
        job_finish(ns, j, NULL, false);
        return;
    }
    set->refs = 1;
    memcpy(set->zone, st.zone, st.zone_len);
    set->zone_len = st.zone_len;
    for (size_t i = 0; i < st.nnames; i++) {
        memcpy(set->buf[i], st.names[i], st.name_lens[i]);
        set->names[i] = set->buf[i];
        set->name_lens[i] = st.name_lens[i];
    }
    set->nnames = st.nnames;
    memcpy(set->addrs, st.addrs, st.naddrs * sizeof(st.addrs[0]));
    set->naddrs = st.naddrs;
    j->ttl = st.ttl;
    j->set = set;
    if (j->want_addrs) {
        set->with_addrs = true;
        for (size_t i = 0; i < set->nnames; i++)
            for (int t = 0; t < 2; t++)
                if (aux_start(ns, j, set->names[i], set->name_lens[i],
                              t ? CW_DNS_T_AAAA : CW_DNS_T_A) == 0)
                    j->pending++;
    }
    if (!j->pending)
        job_finish(ns, j, set, true);
}

static void aux_answer(struct cw_dnsd_ns *ns, struct aux *a, const uint8_t *pkt, size_t len)
{
    struct job *j = a->job;
    uint16_t qtype = a->qtype;
    aux_kill(ns, a);
    if (qtype == CW_DNS_T_NS) {
        job_ns_answer(ns, j, pkt, len);
        return;
    }
    if (pkt)
        cw_dnsd_ns_parse_addrs(pkt, len, j->set->addrs, &j->set->naddrs, CW_NS_MAX_ADDRS, &j->ttl);
    if (--j->pending == 0)
        job_finish(ns, j, j->set, true);
}

/* -- the public side ------------------------------------------------------------------ */

struct cw_dnsd_ns *cw_dnsd_ns_new(const struct cw_dnsd_ns_opts *o, char *err, size_t errlen)
{
    struct cw_dnsd_ns *ns = calloc(1, sizeof(*ns));
    if (!ns) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    ns->o = *o;
    if (ns->o.timeout_ms <= 0)
        ns->o.timeout_ms = 1500;
    if (!ns->o.max_waiters)
        ns->o.max_waiters = 10000;
    size_t slots = 1024;
    while (slots < o->cache_entries && slots < (1u << 24))
        slots <<= 1;
    ns->mask = slots - 1;
    ns->cache = calloc(slots, sizeof(*ns->cache));
    ns->ep = epoll_create1(EPOLL_CLOEXEC);
    if (!ns->cache || ns->ep < 0 || (!o->rec && !o->nup)) {
        snprintf(err, errlen, "NS look-ups: %s", !o->rec && !o->nup ? "no upstream"
                                                 : ns->ep < 0 ? strerror(errno) : "out of memory");
        cw_dnsd_ns_free(ns);
        return NULL;
    }
    return ns;
}

void cw_dnsd_ns_free(struct cw_dnsd_ns *ns)
{
    if (!ns)
        return;
    cw_dnsd_ns_abort_all(ns);
    reap(ns);
    for (size_t i = 0; ns->cache && i <= ns->mask; i++)
        if (ns->cache[i]) {
            cw_dnsd_ns_set_unref(ns->cache[i]->set);
            free(ns->cache[i]);
        }
    free(ns->cache);
    if (ns->ep >= 0)
        close(ns->ep);
    free(ns);
}

void cw_dnsd_ns_process(struct cw_dnsd_ns *ns)
{
    static __thread uint8_t buf[65536];
    static __thread struct cw_dns_msg m;
    struct epoll_event evs[64];
    int n = epoll_wait(ns->ep, evs, 64, 0);
    for (int i = 0; i < n; i++) {
        struct aux *a = evs[i].data.ptr;
        while (!a->dead) {
            ssize_t r = recv(a->fd, buf, sizeof(buf), 0);
            if (r < 0) {
                if (errno != EAGAIN && errno != EINTR)
                    a->deadline_ms = 0; /* refused: the next tick retries or gives up */
                break;
            }
            if (cw_dns_msg_parse_question(&m, buf, (size_t)r) || m.id != a->id ||
                !(m.flags & CW_DNS_F_QR) || !m.has_question || m.qtype != a->qtype ||
                !same_name(m.qname, m.qname_len, a->name, a->nlen))
                continue; /* not ours (late, spoofed): keep waiting */
            aux_answer(ns, a, buf, (size_t)r);
        }
    }
    reap(ns);
}

void cw_dnsd_ns_tick(struct cw_dnsd_ns *ns, int64_t now)
{
    for (struct aux *a = ns->auxs, *next; a; a = next) {
        next = a->next; /* kept by aux_kill, so the walk survives kills */
        if (a->dead || a->deadline_ms > now)
            continue;
        unsigned tries = ns->o.nup < 2 ? 2 : (unsigned)ns->o.nup;
        if (!ns->o.rec && a->attempts < tries && aux_send_udp(ns, a) == 0)
            continue;
        if (a->rq) {
            cw_dnsd_rec_cancel(ns->o.rec, a->rq);
            a->rq = NULL;
        }
        aux_answer(ns, a, NULL, 0);
    }
    for (struct job *j = ns->jobs, *next; j; j = next) {
        next = j->next;
        if (j->deadline_ms <= now)
            job_finish(ns, j, j->set, j->set != NULL); /* what it has, or nothing */
    }
    reap(ns);
}

int cw_dnsd_ns_lookup(struct cw_dnsd_ns *ns, const uint8_t *qname, size_t qlen, bool want_addrs,
                      cw_dnsd_ns_cb cb, void *ctx, struct cw_dnsd_ns_set **out,
                      struct cw_dnsd_ns_wait **w)
{
    ns->st.lookups++;
    struct cw_dnsd_ns_set *set = cache_find(ns, qname, qlen, want_addrs, cw_monotonic_ms());
    if (set) {
        ns->st.cache_hits++;
        *out = cw_dnsd_ns_set_ref(set);
        return 1;
    }
    if (ns->nwaiters >= ns->o.max_waiters || qlen > CW_DNS_NAME_MAX || qlen < 1) {
        ns->st.over_limit++;
        return -1;
    }
    struct job *j = ns->jobs;
    while (j && !same_name(j->qname, j->qlen, qname, qlen))
        j = j->next;
    if (j) {
        ns->st.joined++;
        j->want_addrs |= want_addrs; /* a job without addresses is still walking */
    } else {
        if (ns->njobs >= CW_NS_MAX_JOBS || !(j = calloc(1, sizeof(*j)))) {
            ns->st.over_limit++;
            return -1;
        }
        memcpy(j->qname, qname, qlen);
        memcpy(j->cur, qname, qlen);
        j->qlen = j->clen = qlen;
        j->want_addrs = want_addrs;
        j->deadline_ms = cw_monotonic_ms() + ns->o.timeout_ms * 3;
        j->next = ns->jobs;
        if (ns->jobs)
            ns->jobs->prev = j;
        ns->jobs = j;
        ns->njobs++;
        if (aux_start(ns, j, qname, qlen, CW_DNS_T_NS)) {
            job_finish(ns, j, NULL, false); /* no waiters yet: nobody is called */
            return -1;
        }
    }
    struct cw_dnsd_ns_wait *wt = calloc(1, sizeof(*wt));
    if (!wt)
        return -1;
    wt->job = j;
    wt->cb = cb;
    wt->ctx = ctx;
    wt->next = j->waiters;
    if (j->waiters)
        j->waiters->prev = wt;
    j->waiters = wt;
    ns->nwaiters++;
    *w = wt;
    return 0;
}

void cw_dnsd_ns_cancel(struct cw_dnsd_ns *ns, struct cw_dnsd_ns_wait *w)
{
    if (!w)
        return;
    if (w->prev)
        w->prev->next = w->next;
    else
        w->job->waiters = w->next;
    if (w->next)
        w->next->prev = w->prev;
    ns->nwaiters--;
    free(w);
}

void cw_dnsd_ns_abort_all(struct cw_dnsd_ns *ns)
{
    while (ns->jobs) {
        struct job *j = ns->jobs;
        while (j->waiters) {
            struct cw_dnsd_ns_wait *w = j->waiters;
            j->waiters = w->next;
            if (j->waiters)
                j->waiters->prev = NULL;
            ns->nwaiters--;
            cw_dnsd_ns_cb cb = w->cb;
            void *ctx = w->ctx;
            free(w);
            cb(ctx, NULL, true);
        }
        job_finish(ns, j, NULL, false);
    }
    reap(ns);
}

int cw_dnsd_ns_fd(const struct cw_dnsd_ns *ns) { return ns->ep; }
const struct cw_dnsd_ns_stats *cw_dnsd_ns_stats(const struct cw_dnsd_ns *ns) { return &ns->st; }
