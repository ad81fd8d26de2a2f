/* dnsd_rrl.h - response rate limiting per client prefix (UDP).
 *
 * A token bucket per client /24 (IPv4) or /56 (IPv6): `rate` answers per second,
 * a burst of one second's worth. A query over the limit is dropped, except every
 * `slip`-th one of that prefix, which is answered empty with TC set ("slip": a real
 * client behind a spoofed flood retries over TCP, which is never limited - TCP
 * cannot be spoofed). slip 0 drops them all, slip 1 slips them all.
 *
 * The table is fixed at creation (no allocation afterwards): open addressing,
 * 8 probes; when the probed slots are all taken by other prefixes the one seen
 * longest ago is replaced (a flood of many prefixes evicts idle ones, never grows
 * memory). Loop thread only; the caller passes the time (monotonic ms), so the
 * limiter can be driven by a fake clock. */
#ifndef CW_DNS_DNSD_RRL_H
#define CW_DNS_DNSD_RRL_H

#include <stddef.h>
#include <stdint.h>

#include "dns/rpz.h" /* struct cw_rpz_addr */

enum cw_dnsd_rrl_verdict { CW_RRL_PASS = 0, CW_RRL_DROP, CW_RRL_SLIP };

struct cw_dnsd_rrl;

/* NULL on OOM or rate 0. entries: prefixes tracked (rounded up to a power of 2). */
struct cw_dnsd_rrl *cw_dnsd_rrl_new(uint32_t rate, uint32_t slip, size_t entries);
void cw_dnsd_rrl_free(struct cw_dnsd_rrl *r);
/* One answer about to be sent to client at now_ms (monotonic). */
enum cw_dnsd_rrl_verdict cw_dnsd_rrl_check(struct cw_dnsd_rrl *r, const struct cw_rpz_addr *client,
                                           int64_t now_ms);

#endif
