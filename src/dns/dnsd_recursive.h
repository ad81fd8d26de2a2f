/* dnsd_recursive.h - recursive mode: cache misses resolved by libunbound (issue 7).
 *
 * crosswatch's own front end keeps the hot path (parsing, views, policy, cache,
 * telemetry); only a miss goes to libunbound, through its asynchronous API in the
 * resolver's epoll loop: ub_ctx_async(ctx, 1) runs the recursion on libunbound's own
 * thread, ub_fd() is one more descriptor in the loop, and ub_process() - called from
 * the loop when it is readable - delivers each finished query to the callback given
 * to cw_dnsd_rec_resolve(), on the loop's thread. The callback gets the answer as
 * wire bytes (ub_result answer_packet), which then takes the same path as an answer
 * from a forward upstream: cache, RPZ-IP policy, answer, telemetry.
 *
 * Configuration: root hints (default /usr/share/dns/root.hints of Debian's
 * dns-root-data when present, else libunbound's built-in list), a DNSSEC trust
 * anchor (default /usr/share/dns/root.key when present; "none" turns validation
 * off), and any libunbound option ("name: value", e.g. "do-not-query-localhost: no")
 * set with ub_ctx_set_option. */
#ifndef CW_DNS_DNSD_RECURSIVE_H
#define CW_DNS_DNSD_RECURSIVE_H

#include <stddef.h>
#include <stdint.h>

#define CW_DNSD_ROOT_HINTS "/usr/share/dns/root.hints"
#define CW_DNSD_ROOT_KEY "/usr/share/dns/root.key"

struct cw_dnsd_rec_opts {
    const char *root_hints;     /* NULL: CW_DNSD_ROOT_HINTS when it exists */
    const char *trust_anchor;   /* NULL: CW_DNSD_ROOT_KEY when it exists; "none": off */
    const char *const *options; /* "name: value" */
    size_t noptions;
};

/* Called on the loop's thread from cw_dnsd_rec_process. pkt NULL: resolution failed
 * (why says how); the bytes are valid during the call only. */
typedef void (*cw_dnsd_rec_cb)(void *ctx, const uint8_t *pkt, size_t len, const char *why);

struct cw_dnsd_rec;
struct cw_dnsd_rec_query;

/* NULL with a reason in err (an option libunbound refuses, an unreadable file). */
struct cw_dnsd_rec *cw_dnsd_rec_new(const struct cw_dnsd_rec_opts *o, char *err, size_t errlen);
void cw_dnsd_rec_free(struct cw_dnsd_rec *r); /* pending callbacks are not called */
/* The descriptor to poll for reading. */
int cw_dnsd_rec_fd(const struct cw_dnsd_rec *r);
/* Start resolving qname (canonical wire name) / qtype / qclass. 0 with *handle set
 * (valid until the callback runs or the query is cancelled), or -1 (the callback
 * will not be called). */
int cw_dnsd_rec_resolve(struct cw_dnsd_rec *r, const uint8_t *qname, size_t qlen, uint16_t qtype,
                        uint16_t qclass, cw_dnsd_rec_cb cb, void *ctx,
                        struct cw_dnsd_rec_query **handle);
/* Give up on a query (timeout, shutdown): its callback will not be called. */
void cw_dnsd_rec_cancel(struct cw_dnsd_rec *r, struct cw_dnsd_rec_query *q);
/* Deliver finished queries (call when the descriptor is readable). */
void cw_dnsd_rec_process(struct cw_dnsd_rec *r);

#endif
