/* dnsd_cache.h - the resolver's response cache (RFC 1035 7.4, RFC 2308, RFC 8767).
 *
 * Key: (canonical lower-case qname, qtype, qclass, policy view). Value: the
 * upstream's answer as received (wire form, policy NOT applied: policy is applied
 * on every answer, cached or not, so a policy reload takes effect at once without
 * flushing the cache), the time it was stored and its TTL:
 *   - positive answers: the smallest TTL of their RRs (OPT excluded);
 *   - negative answers (NXDOMAIN, or NOERROR without an answer of the type):
 *     min(SOA TTL, SOA MINIMUM) of the SOA in the authority section (RFC 2308 5);
 *     without an SOA they are not cached;
 *   - TTLs are capped at max_ttl; SERVFAIL and truncated answers are not cached.
 * A hit copies the message, decays every TTL by the entry's age and sets the id.
 * An expired entry is kept for stale_ms more (RFC 8767) and only handed out by
 * cw_dnsd_cache_get_stale(), when the upstreams failed, with TTL 30.
 *
 * A hit ages the copy at TTL offsets found when the answer was stored (no parse;
 * cw_dns_ttl_offsets), or by re-parsing when those offsets were refused.
 *
 * Memory: every entry is one malloc (key, message and TTL offsets inline); at most
 * max_entries entries, least recently used evicted first (counted in ->evicted).
 * The slot table grows with the entries (not sized for the limit up front) and
 * carries a 16-bit filter per slot, so a miss rarely reads an entry. One thread
 * (the event loop): no locking. */
#ifndef CW_DNS_DNSD_CACHE_H
#define CW_DNS_DNSD_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cw_dnsd_cache_entry;

struct cw_dnsd_cache {
    struct cw_dnsd_cache_entry **slots;
    uint16_t *filter;     /* [nslots]: one bit per entry in the chain (by hash), so a
                             name that is not cached costs no read of an entry */
    struct cw_dnsd_cache_entry *none; /* always NULL: where a filtered miss points */
    size_t nslots, n, max_entries;
    struct cw_dnsd_cache_entry *lru_head, *lru_tail; /* head = most recent */
    uint32_t max_ttl;
    int64_t stale_ms;
    uint64_t evicted, inserted;
};

struct cw_dnsd_cache_key {
    const uint8_t *qname; /* canonical wire name */
    size_t qname_len;
    uint16_t qtype, qclass, view;
};

/* 0 or -1 (OOM). */
int cw_dnsd_cache_init(struct cw_dnsd_cache *c, size_t max_entries, uint32_t max_ttl,
                       int64_t stale_ms);
void cw_dnsd_cache_release(struct cw_dnsd_cache *c);
/* Store an upstream answer (copied) at now_ms. Returns 1 stored, 0 not cacheable,
 * -1 OOM. Replaces an existing entry of the same key. */
int cw_dnsd_cache_put(struct cw_dnsd_cache *c, const struct cw_dnsd_cache_key *k,
                      const uint8_t *pkt, size_t len, int64_t now_ms);
/* A fresh answer into out (cap bytes), TTLs decayed, id set. Returns the length,
 * 0 on a miss (absent, expired or larger than cap). = find + copy. */
size_t cw_dnsd_cache_get(struct cw_dnsd_cache *c, const struct cw_dnsd_cache_key *k,
                         uint16_t id, int64_t now_ms, uint8_t *out, size_t cap);
/* The fresh entry of k, or NULL (absent or expired; an entry past its stale window
 * is dropped). Valid until the next put, get, find or release. */
struct cw_dnsd_cache_entry *cw_dnsd_cache_find(struct cw_dnsd_cache *c,
                                               const struct cw_dnsd_cache_key *k, int64_t now_ms);
/* e's answer into out as cw_dnsd_cache_get gives it; e becomes the most recently
 * used. 0 when larger than cap. */
size_t cw_dnsd_cache_copy(struct cw_dnsd_cache *c, struct cw_dnsd_cache_entry *e, uint16_t id,
                          int64_t now_ms, uint8_t *out, size_t cap);
/* A word the caller keeps with an entry, 0 when the entry is stored. The resolver
 * keeps there the generation of the policy under which the entry's name matched no
 * rule before resolution, so that a hit under the same policy skips the walk. */
uint64_t cw_dnsd_cache_tag(const struct cw_dnsd_cache_entry *e);
void cw_dnsd_cache_set_tag(struct cw_dnsd_cache_entry *e, uint64_t tag);
/* An expired answer within the stale window, TTLs set to 30 s. 0 when none. */
size_t cw_dnsd_cache_get_stale(struct cw_dnsd_cache *c, const struct cw_dnsd_cache_key *k,
                               uint16_t id, int64_t now_ms, uint8_t *out, size_t cap);
/* The TTL an answer would be cached with; -1 when not cacheable. Exposed for tests. */
int64_t cw_dnsd_cache_ttl(const uint8_t *pkt, size_t len, uint32_t max_ttl);

#endif
