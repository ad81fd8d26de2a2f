/* dnsd_feedzone.h - the center's indicator feed as policy: parse its answers, keep
 * the rules, publish immutable snapshots that the query path evaluates.
 *
 * Feed protocol (docs/dns.md "Indicator feed from the center"): an answer is
 * {"zone","serial","full","rules":[{"op","trigger","name","wildcard","action",
 * "indicator"}]}; full = the whole policy, otherwise the changes after `since`.
 *
 * Why not one zone rebuilt per change: a 1M-rule base zone takes ~0.5 s to
 * build, and a change must be enforced within a second of its publication. So a
 * snapshot is three parts:
 *   base     the policy of the last full answer (or the last merge); immutable and
 *            shared by every snapshot made on it (reference counted);
 *   overlay  a small zone of the rules added since, rebuilt from the pending adds
 *            only (O(delta));
 *   tombs    the keys deleted from base since (a hash set, copied per snapshot).
 * A lookup probes each candidate key in the overlay, then in base unless the key is
 * a tomb. When overlay + tombs pass `merge_at` the state folds them into a new base
 * (cw_feed_state_merge, O(rules), done by the feed thread after the change it
 * applied is already published).
 *
 * Feed semantics (not RPZ's closest-encloser walk: an indicator covers its names
 * whatever other indicators exist):
 *   qname rule, wildcard false   the name only;
 *   qname rule, wildcard true    the name and every name below it;
 *   ip rule (address or CIDR)    answers with an address in it.
 * For a query name: the exact rule first, then wildcard rules from the name itself
 * up to its top label (most specific wins); QNAME rules before IP rules; for
 * addresses the longest prefix, then the smallest network, over all answer
 * addresses. A match's rule text is the indicator id, its list the feed's zone.
 *
 * Threads: one thread owns a struct cw_feed_state; snapshots are immutable and
 * may be evaluated by any thread while it holds a reference. */
#ifndef CW_DNS_DNSD_FEEDZONE_H
#define CW_DNS_DNSD_FEEDZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "dns/rpz.h"

#define CW_FEED_ZONE_DEFAULT "crosswatch-indicators"
#define CW_FEED_MERGE_DEFAULT 4096

/* One rule of an answer; pointers live in the message's arena. */
struct cw_feed_rule {
    const uint8_t *key;          /* rpz.h key: "*.name" wire labels or "P.a.b.c.d.rpz-ip" */
    const char *tag;             /* indicator id, "" when none */
    uint8_t key_len;
    bool del;
    bool wildcard;
    uint8_t trigger;             /* CW_RPZ_TRIG_QNAME or CW_RPZ_TRIG_IP */
    uint8_t action;              /* enum cw_rpz_action (adds) */
    uint8_t prefix;              /* ip rules */
    struct cw_rpz_addr addr;     /* ip rules: the network */
};

struct cw_feed_msg {
    char zone[64];
    uint64_t serial;
    int64_t since;               /* journal lines only; -1 when absent */
    bool full;
    struct cw_feed_rule *rules;
    size_t n, cap;
    size_t bad;                  /* rules skipped (reason of the first in bad_reason) */
    char bad_reason[160];
    struct cw_arena arena;
};

/* Parse an answer text[0..n) (untrusted). Returns 0 with *m filled (release with
 * cw_feed_msg_release, also after a failure), or -1 with a reason in err when the
 * document is not a feed answer (not JSON, no serial or rules, too large). A bad
 * rule is skipped and counted, never fatal: the others still apply. */
int cw_feed_parse(const char *text, size_t n, struct cw_feed_msg *m, char *err, size_t errlen);
void cw_feed_msg_release(struct cw_feed_msg *m);
/* m as one JSON line (the journal's format), with "since" when since >= 0. */
void cw_feed_msg_write(const struct cw_feed_msg *m, int64_t since, struct cw_buf *out);

/* -- snapshots ----------------------------------------------------------------- */

struct cw_feed_snap;

struct cw_feed_snap *cw_feed_snap_ref(struct cw_feed_snap *s);
void cw_feed_snap_unref(struct cw_feed_snap *s); /* accepts NULL */
/* QNAME rules on q->qname, then IP rules on q->answer_ips (the other parts of q
 * are not feed triggers). true with *m filled on a match. Thread-safe. */
bool cw_feed_snap_evaluate(const struct cw_feed_snap *s, const struct cw_rpz_query *q,
                           struct cw_rpz_match *m);
uint64_t cw_feed_snap_serial(const struct cw_feed_snap *s);
size_t cw_feed_snap_rules(const struct cw_feed_snap *s);
size_t cw_feed_snap_ip_rules(const struct cw_feed_snap *s);

/* -- the state (one thread) ----------------------------------------------------- */

struct cw_feed_state;

struct cw_feed_state *cw_feed_state_new(const char *zone, size_t merge_at);
void cw_feed_state_free(struct cw_feed_state *st);
/* Apply an answer: full -> a new base (overlay and tombs emptied); otherwise each
 * rule in order into overlay/tombs. The serial becomes m->serial. Then a new
 * snapshot is made. 0, or -1 out of memory (the state is unchanged). */
int cw_feed_state_apply(struct cw_feed_state *st, const struct cw_feed_msg *m);
/* Does the pending delta exceed merge_at? */
bool cw_feed_state_should_merge(const struct cw_feed_state *st);
/* Fold overlay and tombs into a new base, then a new snapshot (same rules). 0/-1. */
int cw_feed_state_merge(struct cw_feed_state *st);
/* The current snapshot (a new reference; NULL before the first apply). */
struct cw_feed_snap *cw_feed_state_snapshot(struct cw_feed_state *st);
uint64_t cw_feed_state_serial(const struct cw_feed_state *st);
size_t cw_feed_state_rules(const struct cw_feed_state *st);
size_t cw_feed_state_pending(const struct cw_feed_state *st); /* overlay + tombs */
/* The whole policy as a full answer (the saved-state format). */
int cw_feed_state_write(const struct cw_feed_state *st, struct cw_buf *out);

#endif
