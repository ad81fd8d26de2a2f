/* obs_digest.h - the observables of a record (names, addresses, URLs, hashes,
 * fingerprints, user agents, e-mail senders) and the per-batch digest of them that
 * makes retro-hunts cheap.
 *
 * ONE extraction (cw_obs_foreach) serves both consumers, so a record the live
 * indicator detector would match is exactly a record whose batch digest holds the
 * indicator's key:
 *   - the live detector (ioc_hub.c) looks every observable up in the set of
 *     published indicators;
 *   - at ingest, cw_obs_digest_build() hashes every observable of a batch into
 *     sorted, distinct 32-bit keys, stored with the batch (store_iocs.c). A
 *     retro-hunt hashes an indicator the same way (cw_obs_indicator_key), binary
 *     searches the digests of the window and decompresses only the batches that hit,
 *     where the records are confirmed by the live detector's matching.
 *
 * Keys: a 64-bit FNV-1a over "<kind tag><canonical text>" with a 64-bit finaliser,
 * truncated to 32 bits. A key collision only makes the retro-hunt read one batch too
 * many (confirmation per record removes it); at ~1,000 distinct keys per batch the
 * chance per probed batch is ~2e-7.
 *   names      the name (lower case, no trailing dot) and each parent with >= 2
 *              labels, at most CW_OBS_NAME_PARENTS of them (domain indicators match
 *              subdomains)
 *   addresses  the address, and its /24, /16, /8 (IPv4) or /64, /48, /32 (IPv6)
 *              network: a CIDR indicator probes the key of the longest indexed
 *              prefix it contains (one probe, confirmed per record); a CIDR wider
 *              than /8 (/32) is the union of 2^(8-n) /8 (2^(32-n) /32) networks and
 *              probes each of them, at most CW_OBS_KEYS_MAX (IPv4 down to /0, IPv6
 *              down to /24; wider IPv6 is refused): nothing more is indexed at ingest
 *   URLs       lower-case host without port + path (+ "?" query)
 *   the rest   the canonical value of ioc.h
 *
 * Thread-safety: pure functions. */
#ifndef CW_CENTER_OBS_DIGEST_H
#define CW_CENTER_OBS_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "common/record.h"
#include "ioc/ioc.h"

#define CW_OBS_NAME_PARENTS 8

enum cw_obs_kind {
    CW_OBS_NAME = 1, /* dns.qname, http.host, tls.sni, domain of mail.from */
    CW_OBS_ADDR,     /* src, dst, addresses in dns.answers */
    CW_OBS_URL,      /* http.host + http.path [+ ? + http.query] */
    CW_OBS_MD5,
    CW_OBS_SHA1,
    CW_OBS_SHA256,   /* file.*, process.hashes */
    CW_OBS_JA3,
    CW_OBS_JA4,
    CW_OBS_UA,       /* http.user_agent */
    CW_OBS_EMAIL,    /* mail.from */
};

struct cw_obs {
    enum cw_obs_kind kind;
    const char *field;   /* record field it came from ("dns.qname", "src", ...) */
    const char *s;       /* text (NAME, URL host, hashes, UA, EMAIL) */
    size_t len;
    const char *path;    /* URL: path incl. "?query"; points into a buffer valid only
                          * during the callback */
    size_t plen;
    struct cw_ip ip;     /* ADDR */
};

/* Called once per observable; returning non-zero stops the walk (and is returned). */
typedef int (*cw_obs_fn)(void *ctx, const struct cw_obs *o);
int cw_obs_foreach(const struct cw_record *r, cw_obs_fn fn, void *ctx);

/* The digest of a batch: sorted distinct keys (heap, caller frees keys). Returns 0 or
 * -1 on allocation failure. */
struct cw_obs_digest {
    uint32_t *keys;
    size_t n;
};
int cw_obs_digest_build(const struct cw_batch *b, struct cw_obs_digest *d);
void cw_obs_digest_release(struct cw_obs_digest *d);
/* Is key in the sorted key array? */
int cw_obs_digest_has(const uint32_t *keys, size_t n, uint32_t key);

/* The key a retro-hunt probes for a canonical indicator (ioc.h). Returns 0 and sets
 * *key, or -1 when one key does not cover it (a CIDR wider than /8 or /32: see
 * cw_obs_indicator_keys) or the type cannot be hunted in digests. */
int cw_obs_indicator_key(enum cw_ioc_type t, const char *canon, uint32_t *key);

/* Every key a retro-hunt probes for a canonical indicator: a batch may hold a match
 * only when its digest has at least one of them. keys[] has room for CW_OBS_KEYS_MAX.
 * Returns the count (1, or one per covered network for a CIDR wider than the widest
 * indexed prefix), or 0 with a reason in why when it cannot be hunted in digests. */
#define CW_OBS_KEYS_MAX 256
size_t cw_obs_indicator_keys(enum cw_ioc_type t, const char *canon, uint32_t *keys,
                             char *why, size_t whylen);

#endif
