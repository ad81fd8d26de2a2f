/* dnsd_nsinfo.h - the authoritative name servers of a query's zone, for the RPZ
 * NSDNAME and NSIP triggers (draft-vixie-dnsop-dns-rpz, "NSDNAME" / "NSIP").
 *
 * A full iterative resolver sees the NS sets of every zone it walks through; a
 * forwarder (and crosswatch in front of libunbound) does not. This module finds them
 * the way a stub can, with auxiliary queries through the same upstream path as the
 * client's query (forward mode: the --forward upstreams, one UDP socket per query;
 * recursive mode: libunbound):
 *   1. NS <qname>. An NS RRset owned by the name in the answer: the name is a zone
 *      apex. An NS RRset in the authority section owned by the name or one of its
 *      ancestors (a referral from an authoritative upstream): that is the zone. An
 *      SOA in the authority section (NODATA / NXDOMAIN): its owner is the zone, and
 *      step 1 is repeated for it. No such record (a CNAME, a minimal upstream): the
 *      parent name is asked next.
 *   2. The NS names' addresses - from the additional section when the upstream put
 *      them there, else A and AAAA queries (all in parallel) - only when the policy
 *      has NSIP rules.
 * Results are cached: zone apex -> its NS set (names, addresses; TTL = the smallest
 * of the records', at most max_ttl) and name -> its zone (TTL of the SOA). Several
 * client queries for one name share one lookup.
 *
 * Bounds: CW_NS_MAX_AUX auxiliary queries per lookup, each with its own timeout
 * (one retry on the next upstream in forward mode); a whole lookup ends at
 * timeout_ms * 3 with what it has; at most CW_NS_MAX_JOBS lookups and max_waiters
 * waiting client queries at once - beyond them a query gets no NS data. A lookup
 * that fails (SERVFAIL, timeouts, a truncated answer) gives no NS data either: the
 * client query is then resolved without NSDNAME/NSIP triggers (fail-open, counted
 * in failures; docs/dns.md says why).
 *
 * Threads: everything runs on the resolver's loop. The module polls its sockets on
 * its own epoll instance, whose descriptor the loop polls (cw_dnsd_ns_fd, then
 * cw_dnsd_ns_process), like libunbound's ub_fd. Callbacks run on the loop's thread
 * from cw_dnsd_ns_process, cw_dnsd_ns_tick, cw_dnsd_rec_process (recursive mode)
 * or cw_dnsd_ns_abort_all - never from cw_dnsd_ns_lookup itself. */
#ifndef CW_DNS_DNSD_NSINFO_H
#define CW_DNS_DNSD_NSINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dns/dns_msg.h"
#include "dns/rpz.h"

#define CW_NS_MAX_NAMES 8   /* NS names kept per zone (the first ones given) */
#define CW_NS_MAX_ADDRS 16  /* their addresses kept */
#define CW_NS_MAX_AUX 12    /* auxiliary queries per lookup */
#define CW_NS_MAX_JOBS 512  /* lookups in flight */

/* The NS set of one zone: immutable once published, reference counted (loop only). */
struct cw_dnsd_ns_set {
    unsigned refs;
    uint8_t zone[CW_DNS_NAME_MAX];
    size_t zone_len;
    size_t nnames;
    const uint8_t *names[CW_NS_MAX_NAMES]; /* canonical lower-case wire names */
    size_t name_lens[CW_NS_MAX_NAMES];
    size_t naddrs;
    struct cw_rpz_addr addrs[CW_NS_MAX_ADDRS];
    bool with_addrs;                       /* addresses were looked up (NSIP) */
    int64_t expires_ms;
    uint8_t buf[CW_NS_MAX_NAMES][CW_DNS_NAME_MAX];
};

struct cw_dnsd_ns_set *cw_dnsd_ns_set_ref(struct cw_dnsd_ns_set *s);
void cw_dnsd_ns_set_unref(struct cw_dnsd_ns_set *s); /* NULL is fine */
/* Put the set's names and addresses into an RPZ query (s may be NULL: nothing). */
void cw_dnsd_ns_fill(const struct cw_dnsd_ns_set *s, struct cw_rpz_query *q);

struct cw_dnsd_rec;

struct cw_dnsd_ns_opts {
    const struct sockaddr_storage *up; /* forward mode: the upstreams */
    const socklen_t *uplen;
    size_t nup;
    struct cw_dnsd_rec *rec;           /* recursive mode (then up is unused) */
    int64_t timeout_ms;                /* per auxiliary query */
    size_t cache_entries;              /* slots of the cache (rounded up to 2^k) */
    uint32_t max_ttl;
    size_t max_waiters;                /* client queries waiting at once */
    uint16_t udp_size;                 /* our EDNS size on auxiliary queries */
};

struct cw_dnsd_ns;
struct cw_dnsd_ns_wait;

/* Counters (read on the loop or racy from elsewhere: plain numbers for logs/tests). */
struct cw_dnsd_ns_stats {
    uint64_t lookups, cache_hits, joined, aux_queries, failures, over_limit;
};

/* NULL with a message in err. */
struct cw_dnsd_ns *cw_dnsd_ns_new(const struct cw_dnsd_ns_opts *o, char *err, size_t errlen);
/* Every lookup must have ended (cw_dnsd_ns_abort_all). NULL is fine. */
void cw_dnsd_ns_free(struct cw_dnsd_ns *ns);
int cw_dnsd_ns_fd(const struct cw_dnsd_ns *ns);
/* The descriptor is readable: read the answers that came (callbacks may run). */
void cw_dnsd_ns_process(struct cw_dnsd_ns *ns);
/* Timeouts (call every loop tick; callbacks may run). */
void cw_dnsd_ns_tick(struct cw_dnsd_ns *ns, int64_t now_ms);
const struct cw_dnsd_ns_stats *cw_dnsd_ns_stats(const struct cw_dnsd_ns *ns);

/* Called with the zone's NS set (a reference for the callee, NULL when it could not
 * be found) or aborted (shutting down: set NULL, answer nothing). */
typedef void (*cw_dnsd_ns_cb)(void *ctx, struct cw_dnsd_ns_set *set, bool aborted);

/* The NS set of the zone of qname (canonical wire name). want_addrs: NSIP rules
 * need the servers' addresses. Returns 1 with *out (a reference) when the cache
 * knows it; 0 when a lookup runs (cb will be called once, *w identifies the wait
 * until then); -1 when over a limit (no NS data; nothing will be called). */
int cw_dnsd_ns_lookup(struct cw_dnsd_ns *ns, const uint8_t *qname, size_t qlen, bool want_addrs,
                      cw_dnsd_ns_cb cb, void *ctx, struct cw_dnsd_ns_set **out,
                      struct cw_dnsd_ns_wait **w);
/* Stop waiting (the callback will not be called). The lookup goes on for others. */
void cw_dnsd_ns_cancel(struct cw_dnsd_ns *ns, struct cw_dnsd_ns_wait *w);
/* Shutdown: every waiting callback is called with aborted = true, lookups end. */
void cw_dnsd_ns_abort_all(struct cw_dnsd_ns *ns);

/* -- answer parsing (pure; fuzz/fuzz_nsinfo.c) ------------------------------------ */

enum cw_ns_step_kind {
    CW_NS_STEP_APEX = 1,  /* zone and names found (addresses: whatever glue came) */
    CW_NS_STEP_ZONE,      /* the zone is known (an SOA), not its NS set: ask NS zone */
    CW_NS_STEP_UP,        /* nothing usable: ask the parent of the name */
    CW_NS_STEP_FAIL       /* an error answer (SERVFAIL, REFUSED, TC, malformed) */
};

struct cw_ns_step {
    enum cw_ns_step_kind kind;
    uint8_t zone[CW_DNS_NAME_MAX];
    size_t zone_len;
    size_t nnames;
    uint8_t names[CW_NS_MAX_NAMES][CW_DNS_NAME_MAX];
    size_t name_lens[CW_NS_MAX_NAMES];
    size_t naddrs;
    struct cw_rpz_addr addrs[CW_NS_MAX_ADDRS]; /* additional-section A/AAAA of names */
    uint32_t ttl;                               /* of the NS RRset / the SOA (negative) */
};

/* Read the answer to "NS cur" (cur: canonical wire name). Never reads outside pkt;
 * any malformed message is CW_NS_STEP_FAIL. Returns out->kind. */
enum cw_ns_step_kind cw_dnsd_ns_parse(const uint8_t *pkt, size_t len, const uint8_t *cur,
                                      size_t clen, struct cw_ns_step *out);
/* The A/AAAA records of an answer (to "A name" / "AAAA name", CNAMEs followed by
 * taking every address in the answer section) appended to addrs[*n..cap); *ttl
 * lowered to theirs. Returns the number added, -1 for an error answer. */
int cw_dnsd_ns_parse_addrs(const uint8_t *pkt, size_t len, struct cw_rpz_addr *addrs, size_t *n,
                           size_t cap, uint32_t *ttl);

#endif
