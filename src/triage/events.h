/* events.h - bundling detections into events requiring confirmation.
 *
 * A series of similar attempts becomes one event. Every kept detection joins
 * exactly one open event of its member and attack class:
 *   1. the open event whose source is the detection's source (one source attacking
 *      much: key (member, class, source));
 *   2. else the open event that already covers the detection's target (many sources
 *      attacking a little: key (member, class, target));
 *   3. else a new event, keyed by both.
 * For DNS records the target is the resolver, not an attacked asset: they join by
 * source (the client) only.
 * An event is open while its last detection is less than `window` old, measured in
 * record time (not wall-clock time), so replaying the same input gives the same
 * events with the same ids. Campaigns - (class, source) seen at two or more
 * members - are derived from the events' sources by the store.
 *
 * Memory: a bounded table of open events (max_open); each open event costs a fixed
 * struct plus two hash slots (see cw_events_bytes_per_event). When the table is full
 * the least recently active 1/64 of the table is closed early (counted in
 * stats.evicted): one pass instead of a scan per new event.
 * Not thread-safe: the caller serialises (one aggregator per center, or one per
 * member partition when scaled out). */
#ifndef CW_TRIAGE_EVENTS_H
#define CW_TRIAGE_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/record.h"
#include "detect/detect.h"

#define CW_EVENT_SAMPLE_ADDRS 8 /* distinct sources/targets kept exactly per event */

struct cw_event {
    int64_t id;
    uint32_t member_id;
    uint8_t attack_class;
    uint8_t severity;            /* most severe seen (lowest number) */
    uint8_t nsrc_kept, ntgt_kept;
    int64_t first_us, last_us;   /* record time */
    uint64_t count;              /* detections */
    uint32_t distinct_sources;   /* exact up to CW_EVENT_SAMPLE_ADDRS, then a lower bound */
    uint32_t distinct_targets;
    struct cw_ip key_source, key_target;
    struct cw_ip sources[CW_EVENT_SAMPLE_ADDRS];
    struct cw_ip targets[CW_EVENT_SAMPLE_ADDRS];
    bool dirty;                  /* changed since the last cw_events_take_dirty() */
    bool is_new;                 /* created since the last take */
};

struct cw_events_config {
    int64_t window_us; /* default 24 h */
    size_t max_open;   /* default 1,000,000 */
};

struct cw_events_stats {
    uint64_t joined_by_source, joined_by_target, created, evicted, expired;
    size_t open;
};

struct cw_events;

struct cw_events *cw_events_new(const struct cw_events_config *cfg, int64_t next_id);
void cw_events_free(struct cw_events *ev);
/* Restore an open event (after a restart); ids must be < the next_id given at new. */
int cw_events_restore(struct cw_events *ev, const struct cw_event *e);
/* Add the kept detections (noise == 0) of ds; for each detection, event_of[i]
 * (optional, parallel to ds) receives its event id, or 0 for dropped ones.
 * Returns 0 or -1 on allocation failure. */
int cw_events_add(struct cw_events *ev, const struct cw_batch *b, const struct cw_detections *ds,
                  int64_t *event_of);
/* Visit the events changed since the last call and clear their dirty marks. The
 * pointer is valid until the next cw_events_add(). */
typedef int (*cw_event_cb)(void *ctx, const struct cw_event *e);
int cw_events_take_dirty(struct cw_events *ev, cw_event_cb cb, void *ctx);
/* Look up an open event by id (NULL if not open). */
const struct cw_event *cw_events_get(const struct cw_events *ev, int64_t id);
void cw_events_stats(const struct cw_events *ev, struct cw_events_stats *st);
int64_t cw_events_next_id(const struct cw_events *ev);
/* Take the next event id for an event made outside aggregation (a split). */
int64_t cw_events_take_id(struct cw_events *ev);
/* Drop an event from the open table (merged, split or closed by an analyst); its
 * dirty state is discarded. Returns 0, or -1 if it was not open. */
int cw_events_forget(struct cw_events *ev, int64_t id);
size_t cw_events_bytes_per_event(void);

#endif
