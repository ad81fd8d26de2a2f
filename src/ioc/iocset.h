/* iocset.h - the look-up structure of published indicators: "is this value of a
 * record a known indicator, and which?" in constant time per type.
 *
 * One open-addressing hash set per string type (keys are canonical values, see
 * ioc.h) and a binary prefix tree (radix) per address family for ipv4/ipv6/cidr,
 * returning the longest matching prefix. Domains match their subdomains: a name is
 * looked up as itself and then as each parent (at most 127 probes, typically 2-4).
 *
 * Values are the 64-bit indicator ids of the center's store (never 0). The set owns
 * copies of the keys, packed in one arena per type (bytes per indicator are part of
 * the benchmark: bench/bench_ioc).
 *
 * Match functions take values as records carry them, not canonical: names may have
 * upper case and a trailing dot, URLs are given as host + path[?query].
 *
 * Thread-safety: single writer, many readers, but not at the same time: the caller
 * (the center) serialises writers against readers (e.g. a rwlock taken once per
 * batch, never per look-up). */
#ifndef CW_IOC_IOCSET_H
#define CW_IOC_IOCSET_H

#include <stddef.h>
#include <stdint.h>

#include "ioc/ioc.h"

struct cw_iocset;

struct cw_iocset *cw_iocset_new(void);
void cw_iocset_free(struct cw_iocset *s);

/* Add canonical value canon[0..len) of type t with id (replaces the id of an equal
 * key). Returns 0, or -1 on allocation failure or an invalid value for the type. */
int cw_iocset_add(struct cw_iocset *s, enum cw_ioc_type t, const char *canon, size_t len,
                  uint64_t id);
/* Remove; returns 1 if it was there, 0 if not. */
int cw_iocset_remove(struct cw_iocset *s, enum cw_ioc_type t, const char *canon, size_t len);

size_t cw_iocset_count(const struct cw_iocset *s);
/* Heap bytes held (tables, arenas, tree nodes). */
size_t cw_iocset_bytes(const struct cw_iocset *s);

/* A host name seen in a record (dns.qname, http.host, tls.sni, URL host): hostname
 * indicators match exactly, domain indicators match it or a parent. 0 = no match. */
uint64_t cw_iocset_match_name(const struct cw_iocset *s, const char *name, size_t len);
/* An address (family 4: addr[0..3], 6: addr[0..15]): exact ipv4/ipv6 indicators,
 * then the longest cidr that contains it. 0 = no match. */
uint64_t cw_iocset_match_addr(const struct cw_iocset *s, int family, const uint8_t *addr);
/* Text form of an address ("10.0.0.1", "2001:db8::1"); 0 when not an address. */
uint64_t cw_iocset_match_addr_text(const struct cw_iocset *s, const char *text, size_t len);
/* A URL given as host and path (path includes "?query" when any; scheme ignored:
 * http and https URLs with the same host and path are the same indicator for
 * matching). 0 = no match. */
uint64_t cw_iocset_match_url(const struct cw_iocset *s, const char *host, size_t hlen,
                             const char *path, size_t plen);
/* Exact types: email, md5, sha1, sha256, ja3, ja4, user-agent (case rules of
 * ioc.h applied to the probe). 0 = no match. */
uint64_t cw_iocset_match(const struct cw_iocset *s, enum cw_ioc_type t, const char *v,
                         size_t len);

/* One value of a record for cw_iocset_match_batch; type selects the look-up:
 *   CW_IOC_DOMAIN, CW_IOC_HOSTNAME  s/len is a host name (as cw_iocset_match_name)
 *   CW_IOC_IPV4, CW_IOC_IPV6        addr holds 4 / 16 bytes (as cw_iocset_match_addr)
 *   CW_IOC_URL                      s/len the host, path/plen the path (as ..._match_url)
 *   CW_IOC_CIDR                     no look-up (answer 0)
 *   the other types                 s/len as for cw_iocset_match
 * Strings are read during the call only. */
struct cw_iocset_probe {
    enum cw_ioc_type type;
    uint8_t addr[16];
    const char *s;
    size_t len;
    const char *path;
    size_t plen;
};

/* Answers of probes p[0..n) into out[0..n), each exactly what the single-value
 * function above returns. Cheaper per value when n is large (tens or more, e.g.
 * every observable of a batch of records): the table cache lines of a group of
 * probes are requested before any is read, so their memory latencies overlap
 * instead of adding up. */
void cw_iocset_match_batch(const struct cw_iocset *s, const struct cw_iocset_probe *p,
                           size_t n, uint64_t *out);

#endif
