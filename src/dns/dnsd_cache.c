/* dnsd_cache.c - hash table with chaining + LRU list; see dnsd_cache.h. */
#include "dns/dnsd_cache.h"

#include <stdlib.h>
#include <string.h>

#include "dns/dns_msg.h"
#include "common/banned.h"

struct cw_dnsd_cache_entry {
    struct cw_dnsd_cache_entry *next;            /* hash chain */
    struct cw_dnsd_cache_entry *lru_prev, *lru_next;
    uint64_t hash;
    int64_t stored_ms, expire_ms;
    uint64_t tag;                                /* the caller's (dnsd_cache.h) */
    uint16_t qtype, qclass, view;
    uint8_t qname_len;
    uint16_t len;
    uint16_t nttl;  /* TTL fields at ttl_off(), or NO_OFFSETS: age by re-parsing */
    uint8_t data[]; /* qname, then the message, then nttl uint16 TTL offsets */
};

#define NO_OFFSETS 0xFFFF
#define MAX_OFFSETS 64 /* more RRs than this: age by re-parsing */
#define MIN_SLOTS 1024

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v;
    h *= 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 32);
}

/* 8 bytes of the name per multiply (FNV-1a took one byte per multiply: 1-2% of a
 * cache hit) */
static uint64_t key_hash(const struct cw_dnsd_cache_key *k)
{
    uint64_t h = mix(0x6A09E667F3BCC908ull, (uint64_t)k->qtype << 32 | (uint64_t)k->qclass << 16 |
                                             k->view);
    size_t i = 0;
    for (; i + 8 <= k->qname_len; i += 8) {
        uint64_t w;
        memcpy(&w, k->qname + i, 8);
        h = mix(h, w);
    }
    uint64_t w = k->qname_len;
    for (size_t j = 0; i < k->qname_len; i++, j++)
        w ^= (uint64_t)k->qname[i] << (8 * j + 8);
    return mix(h, w);
}

static uint16_t filter_bit(uint64_t h)
{
    return (uint16_t)(1u << (h >> 60));
}

static uint8_t *ttl_off(struct cw_dnsd_cache_entry *e) /* not aligned: memcpy only */
{
    return e->data + e->qname_len + e->len;
}

int cw_dnsd_cache_init(struct cw_dnsd_cache *c, size_t max_entries, uint32_t max_ttl,
                       int64_t stale_ms)
{
    memset(c, 0, sizeof(*c));
    c->max_entries = max_entries ? max_entries : 1;
    c->nslots = MIN_SLOTS; /* grows with the entries (grow()): a small table stays in cache */
    c->slots = calloc(c->nslots, sizeof(*c->slots));
    c->filter = calloc(c->nslots, sizeof(*c->filter));
    c->max_ttl = max_ttl;
    c->stale_ms = stale_ms;
    if (c->slots && c->filter)
        return 0;
    free(c->slots);
    free(c->filter);
    c->slots = NULL;
    c->filter = NULL;
    return -1;
}

void cw_dnsd_cache_release(struct cw_dnsd_cache *c)
{
    struct cw_dnsd_cache_entry *e = c->lru_head;
    while (e) {
        struct cw_dnsd_cache_entry *n = e->lru_next;
        free(e);
        e = n;
    }
    free(c->slots);
    free(c->filter);
    memset(c, 0, sizeof(*c));
}

static void lru_unlink(struct cw_dnsd_cache *c, struct cw_dnsd_cache_entry *e)
{
    if (e->lru_prev)
        e->lru_prev->lru_next = e->lru_next;
    else
        c->lru_head = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else
        c->lru_tail = e->lru_prev;
    e->lru_prev = e->lru_next = NULL;
}

static void lru_front(struct cw_dnsd_cache *c, struct cw_dnsd_cache_entry *e)
{
    e->lru_prev = NULL;
    e->lru_next = c->lru_head;
    if (c->lru_head)
        c->lru_head->lru_prev = e;
    c->lru_head = e;
    if (!c->lru_tail)
        c->lru_tail = e;
}

static struct cw_dnsd_cache_entry **find(struct cw_dnsd_cache *c, const struct cw_dnsd_cache_key *k,
                                         uint64_t h)
{
    size_t i = h & (c->nslots - 1);
    if (!(c->filter[i] & filter_bit(h)))
        return &c->none;
    struct cw_dnsd_cache_entry **pp = &c->slots[i];
    for (; *pp; pp = &(*pp)->next) {
        struct cw_dnsd_cache_entry *e = *pp;
        if (e->hash == h && e->qtype == k->qtype && e->qclass == k->qclass && e->view == k->view &&
            e->qname_len == k->qname_len && !memcmp(e->data, k->qname, k->qname_len))
            return pp;
    }
    return pp;
}

/* Double the slots when the entries outnumber them (chains stay ~1 long). A failed
 * allocation keeps the table as it is: longer chains, still correct. */
static void grow(struct cw_dnsd_cache *c)
{
    if (c->n < c->nslots || c->nslots >= (1u << 26))
        return;
    size_t ns = c->nslots * 2;
    struct cw_dnsd_cache_entry **slots = calloc(ns, sizeof(*slots));
    uint16_t *filter = calloc(ns, sizeof(*filter));
    if (!slots || !filter) {
        free(slots);
        free(filter);
        return;
    }
    for (size_t i = 0; i < c->nslots; i++)
        for (struct cw_dnsd_cache_entry *e = c->slots[i], *next; e; e = next) {
            next = e->next;
            e->next = slots[e->hash & (ns - 1)];
            slots[e->hash & (ns - 1)] = e;
            filter[e->hash & (ns - 1)] |= filter_bit(e->hash);
        }
    free(c->slots);
    free(c->filter);
    c->slots = slots;
    c->filter = filter;
    c->nslots = ns;
}

static void remove_entry(struct cw_dnsd_cache *c, struct cw_dnsd_cache_entry **pp)
{
    struct cw_dnsd_cache_entry *e = *pp;
    *pp = e->next;
    size_t i = e->hash & (c->nslots - 1);
    c->filter[i] = 0; /* the bits of the chain's other entries */
    for (struct cw_dnsd_cache_entry *o = c->slots[i]; o; o = o->next)
        c->filter[i] |= filter_bit(o->hash);
    lru_unlink(c, e);
    c->n--;
    free(e);
}

static void evict_one(struct cw_dnsd_cache *c)
{
    struct cw_dnsd_cache_entry *e = c->lru_tail;
    if (!e)
        return;
    struct cw_dnsd_cache_entry **pp = &c->slots[e->hash & (c->nslots - 1)];
    while (*pp && *pp != e)
        pp = &(*pp)->next;
    if (*pp) {
        remove_entry(c, pp);
        c->evicted++;
    }
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int64_t cw_dnsd_cache_ttl(const uint8_t *pkt, size_t len, uint32_t max_ttl)
{
    static __thread struct cw_dns_msg m; /* ~3 KB: not on the stack of the loop */
    if (cw_dns_msg_parse(&m, pkt, len) || !m.has_question || m.qdcount != 1)
        return -1;
    if (m.flags & CW_DNS_F_TC)
        return -1;
    uint32_t ttl = max_ttl;
    bool negative = m.rcode == CW_DNS_R_NXDOMAIN;
    if (m.rcode != CW_DNS_R_NOERROR && !negative)
        return -1;
    bool has_answer = false;
    for (unsigned i = 0; i < m.nrr; i++) {
        const struct cw_dns_rr *rr = &m.rr[i];
        if (rr->section == CW_DNS_SEC_AN)
            has_answer = true;
    }
    if (!has_answer)
        negative = true;
    if (negative) { /* RFC 2308 5: min(SOA TTL, SOA MINIMUM) */
        bool soa = false;
        for (unsigned i = 0; i < m.nrr; i++) {
            const struct cw_dns_rr *rr = &m.rr[i];
            if (rr->section != CW_DNS_SEC_NS || rr->type != CW_DNS_T_SOA || rr->rdlen < 22)
                continue;
            uint32_t minimum = rd32(pkt + rr->rdata_off + rr->rdlen - 4);
            uint32_t t = rr->ttl < minimum ? rr->ttl : minimum;
            if (t < ttl)
                ttl = t;
            soa = true;
        }
        return soa ? (int64_t)ttl : -1;
    }
    for (unsigned i = 0; i < m.nrr; i++) {
        const struct cw_dns_rr *rr = &m.rr[i];
        if (rr->type == CW_DNS_T_OPT)
            continue;
        if (rr->ttl < ttl)
            ttl = rr->ttl;
    }
    return ttl;
}

int cw_dnsd_cache_put(struct cw_dnsd_cache *c, const struct cw_dnsd_cache_key *k,
                      const uint8_t *pkt, size_t len, int64_t now_ms)
{
    if (len > 65535 || k->qname_len > CW_DNS_NAME_MAX)
        return 0;
    int64_t ttl = cw_dnsd_cache_ttl(pkt, len, c->max_ttl);
    if (ttl <= 0)
        return 0;
    uint64_t h = key_hash(k);
    struct cw_dnsd_cache_entry **pp = find(c, k, h);
    if (*pp)
        remove_entry(c, pp);
    while (c->n >= c->max_entries)
        evict_one(c);
    uint16_t offs[MAX_OFFSETS];
    int nttl = cw_dns_ttl_offsets(pkt, len, offs, MAX_OFFSETS);
    size_t extra = nttl > 0 ? (size_t)nttl * sizeof(uint16_t) : 0;
    struct cw_dnsd_cache_entry *e = malloc(sizeof(*e) + k->qname_len + len + extra);
    if (!e)
        return -1;
    memset(e, 0, sizeof(*e));
    e->hash = h;
    e->stored_ms = now_ms;
    e->expire_ms = now_ms + ttl * 1000;
    e->qtype = k->qtype;
    e->qclass = k->qclass;
    e->view = k->view;
    e->qname_len = (uint8_t)k->qname_len;
    e->len = (uint16_t)len;
    memcpy(e->data, k->qname, k->qname_len);
    memcpy(e->data + k->qname_len, pkt, len);
    e->nttl = nttl < 0 ? NO_OFFSETS : (uint16_t)nttl;
    if (extra)
        memcpy(ttl_off(e), offs, extra);
    pp = &c->slots[h & (c->nslots - 1)];
    e->next = *pp;
    *pp = e;
    c->filter[h & (c->nslots - 1)] |= filter_bit(h);
    lru_front(c, e);
    c->n++;
    c->inserted++;
    grow(c);
    return 1;
}

static size_t copy_out(struct cw_dnsd_cache_entry *e, uint16_t id, uint8_t *out, size_t cap)
{
    if (e->len > cap)
        return 0;
    memcpy(out, e->data + e->qname_len, e->len);
    cw_dns_set_id(out, e->len, id);
    return e->len;
}

struct cw_dnsd_cache_entry *cw_dnsd_cache_find(struct cw_dnsd_cache *c,
                                               const struct cw_dnsd_cache_key *k, int64_t now_ms)
{
    struct cw_dnsd_cache_entry **pp = find(c, k, key_hash(k)), *e = *pp;
    if (!e)
        return NULL;
    if (now_ms >= e->expire_ms) {
        if (now_ms >= e->expire_ms + c->stale_ms)
            remove_entry(c, pp);
        return NULL;
    }
    return e;
}

size_t cw_dnsd_cache_copy(struct cw_dnsd_cache *c, struct cw_dnsd_cache_entry *e, uint16_t id,
                          int64_t now_ms, uint8_t *out, size_t cap)
{
    if (c->lru_head != e) {
        lru_unlink(c, e);
        lru_front(c, e);
    }
    size_t n = copy_out(e, id, out, cap);
    uint32_t age = (uint32_t)((now_ms - e->stored_ms) / 1000);
    if (n && e->nttl != NO_OFFSETS) {
        uint16_t offs[MAX_OFFSETS];
        memcpy(offs, ttl_off(e), e->nttl * sizeof(uint16_t)); /* may be unaligned */
        cw_dns_ttl_age_at(out, offs, e->nttl, age);
    } else if (n && cw_dns_ttl_age(out, n, age, NULL)) {
        return 0;
    }
    return n;
}

size_t cw_dnsd_cache_get(struct cw_dnsd_cache *c, const struct cw_dnsd_cache_key *k,
                         uint16_t id, int64_t now_ms, uint8_t *out, size_t cap)
{
    struct cw_dnsd_cache_entry *e = cw_dnsd_cache_find(c, k, now_ms);
    return e ? cw_dnsd_cache_copy(c, e, id, now_ms, out, cap) : 0;
}

uint64_t cw_dnsd_cache_tag(const struct cw_dnsd_cache_entry *e)
{
    return e->tag;
}

void cw_dnsd_cache_set_tag(struct cw_dnsd_cache_entry *e, uint64_t tag)
{
    e->tag = tag;
}

size_t cw_dnsd_cache_get_stale(struct cw_dnsd_cache *c, const struct cw_dnsd_cache_key *k,
                               uint16_t id, int64_t now_ms, uint8_t *out, size_t cap)
{
    struct cw_dnsd_cache_entry **pp = find(c, k, key_hash(k)), *e = *pp;
    if (!e || now_ms >= e->expire_ms + c->stale_ms)
        return 0;
    size_t n = copy_out(e, id, out, cap);
    if (n && cw_dns_ttl_set(out, n, CW_DNS_STALE_TTL))
        return 0;
    return n;
}
