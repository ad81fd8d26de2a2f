/* triage.h - the triage stage: detect -> remove noise -> bundle into events.
 *
 * One struct cw_triage per center. cw_triage_run() takes a parsed batch and fills a
 * struct cw_triage_result with plain data (detections with their verdicts, and
 * copies of the events they changed) that the store writes in the same transaction
 * as the batch itself: a batch and its triage are durable together or not at all.
 *
 * Locking: detection and noise removal run on the caller's thread without locks.
 * Aggregation changes shared state, so the caller brackets aggregation and the
 * store commit with cw_triage_lock()/cw_triage_unlock(): events reach the store in
 * the order they changed (a stale copy can never overwrite a newer one).
 * Assets and suppressions are swapped in whole (cw_triage_set_knowledge) - readers
 * keep the snapshot they started with. */
#ifndef CW_TRIAGE_TRIAGE_H
#define CW_TRIAGE_TRIAGE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/record.h"
#include "detect/detect.h"
#include "triage/events.h"
#include "triage/noise.h"

struct cw_triage_config {
    const char *warninglists_dir; /* MISP warninglists; NULL/"" = none */
    const char *scanner_ua_file;  /* rules/scanner-user-agents.txt; NULL/"" = none */
    const char *sigma_dir;        /* Sigma rules, loaded recursively; NULL/"" = none */
    const char *sigma_fieldmap;   /* rules/fieldmap.conf; NULL/"" = built-in fallback */
    int64_t window_us;            /* event window (default 24 h) */
    size_t max_open;              /* open events kept in memory (default 1M) */
};

struct sigma_ref;
struct cw_triage;

struct cw_triage_result {
    struct cw_detections ds;  /* noise verdict in each d.noise */
    const char **detail;      /* per detection: what matched (may be NULL entries) */
    int64_t *event_of;        /* per detection: event id, 0 if dropped */
    struct cw_event *events;  /* copies of the events this batch changed */
    size_t nevents, cap_events;
    uint32_t per_reason[CW_NOISE__COUNT];
    struct sigma_ref *sigma_ref; /* the rule set the detections point into (held) */
    struct cw_triage *triage;
};

struct cw_triage;

struct cw_triage *cw_triage_new(const struct cw_triage_config *cfg, int64_t next_event_id,
                                char *err, size_t errlen);
void cw_triage_free(struct cw_triage *t);
/* Restore open events after a restart (call before the first run). */
int cw_triage_restore_event(struct cw_triage *t, const struct cw_event *e);

/* Load the Sigma rules again from the configured directory and swap them in
 * atomically: batches in flight finish with the old set. On error the old set stays.
 * Thread-safe. */
int cw_triage_reload_rules(struct cw_triage *t, char *err, size_t errlen);
/* The loaded rules (id, title, severity, class, file) and the skipped files with
 * reasons, as JSON. */
int cw_triage_rules_json(struct cw_triage *t, struct cw_buf *out);

/* Replace the assets and suppressions used for noise removal (copied). */
int cw_triage_set_knowledge(struct cw_triage *t, const struct cw_asset *assets, size_t nassets,
                            const struct cw_suppression *supp, size_t nsupp);

void cw_triage_result_init(struct cw_triage_result *r);
void cw_triage_result_release(struct cw_triage_result *r);

/* Detect and classify (no lock needed). */
int cw_triage_detect(struct cw_triage *t, const struct cw_batch *b, struct cw_triage_result *r);
/* Aggregate r's kept detections into events and copy the changed events into r.
 * Call with the lock held. */
int cw_triage_aggregate(struct cw_triage *t, const struct cw_batch *b, struct cw_triage_result *r);
/* For analyst changes to events (merge, split): call only under the store's write
 * lock, which is what serialises aggregation. */
int64_t cw_triage_take_event_id_locked(struct cw_triage *t);
void cw_triage_forget_event_locked(struct cw_triage *t, int64_t id);
/* The DNS threat flags detector (detect/dns_flags.h) run on every batch; owned by
 * the caller, who frees it after cw_triage_free(). Set before the first batch. */
struct cw_dns_flags;
void cw_triage_set_dns_flags(struct cw_triage *t, struct cw_dns_flags *f);
/* The indicator detector (center/ioc_hub.h) run on every batch after the others;
 * ctx is owned by the caller and must outlive t. Set before the first batch. */
void cw_triage_set_ioc_detector(struct cw_triage *t, cw_detector_fn fn, const void *ctx);
/* Aggregate detections found outside ingest (a retro-hunt over stored records) into
 * events, without learning response sizes from the old batch. Same locking as
 * cw_triage_aggregate. */
int cw_triage_aggregate_events(struct cw_triage *t, const struct cw_batch *b,
                               struct cw_triage_result *r);
void cw_triage_lock(struct cw_triage *t);
void cw_triage_unlock(struct cw_triage *t);
void cw_triage_stats(struct cw_triage *t, struct cw_events_stats *st);

#endif
