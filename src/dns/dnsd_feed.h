/* dnsd_feed.h - the feed thread: pulls the center's indicator feed
 * (GET /api/v1/rpz/feed?since=SERIAL&wait=SECONDS, docs/dns.md "Indicator feed from
 * the center") and hands each new policy snapshot to the resolver.
 *
 * The thread long-polls over one libcurl handle (the connection is kept alive
 * between polls), applies each answer to a struct cw_feed_state
 * (dnsd_feedzone.h), saves it, and calls publish() with the new snapshot; the
 * resolver swaps it in with the rest of its policy (dnsd_server.c). A change is
 * published before the state folds its overlay into a new base, so merging never
 * delays enforcement. Errors (center away, 5xx, bad answer) back off with full
 * jitter (500 ms base, 30 s cap); the policy in force stays.
 *
 * Saved state (STATE_DIR/feed/): policy.json, the whole policy at a serial (the
 * full-answer format), and journal.ndjson, one line per incremental answer applied
 * after it (with "since"). Start-up reads both before the resolver answers, so a
 * restart with the center down still enforces every indicator it knew; a full
 * answer or a merge rewrites policy.json and empties the journal.
 *
 * Threads: the feed thread; publish() is called from it (and once from
 * cw_dnsd_feed_start with the saved policy). Statistics are atomics read by the
 * metrics thread. */
#ifndef CW_DNS_DNSD_FEED_H
#define CW_DNS_DNSD_FEED_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dnsd_feedzone.h"

struct cw_dnsd_feed_opts {
    const char *center;      /* base URL, e.g. https://center.example:8443 */
    const char *key;         /* sensor key (Bearer) */
    const char *state_dir;   /* NULL: nothing saved */
    unsigned wait_s;         /* long-poll seconds (0..60) */
    size_t merge_at;         /* 0: CW_FEED_MERGE_DEFAULT */
    /* takes over one reference to snap */
    void (*publish)(void *ctx, struct cw_feed_snap *snap);
    void *ctx;
};

struct cw_dnsd_feed_stats {
    _Atomic uint64_t serial, rules;
    _Atomic int64_t last_sync_ms;   /* wall clock of the last good answer, 0: never */
    _Atomic uint64_t syncs_full, syncs_delta, sync_errors, merges;
    _Atomic uint64_t apply_us_last, apply_us_sum, applies;
};

struct cw_dnsd_feed;

/* Load the saved policy (published at once when there is one), then start the
 * thread. NULL with a reason in err (libcurl, unusable state directory). */
struct cw_dnsd_feed *cw_dnsd_feed_start(const struct cw_dnsd_feed_opts *o, char *err,
                                        size_t errlen);
/* Stop (aborting a poll in progress) and free. Accepts NULL. */
void cw_dnsd_feed_stop(struct cw_dnsd_feed *f);
const struct cw_dnsd_feed_stats *cw_dnsd_feed_stats(const struct cw_dnsd_feed *f);

#endif
