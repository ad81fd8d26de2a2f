/* ioc_hub.h - the center's live indicators: matching on every record, publication,
 * the RPZ feed's long-poll, expiry and retro-hunts.
 *
 * The hub holds the cw_iocset of published indicators behind a rwlock that the
 * indicator detector takes ONCE per batch (read) and publish/revoke/expiry take for
 * the few microseconds of a set update (write). A state change is first committed to
 * the store (with its feed change-log rows), then applied to the set, then feed
 * long-pollers are resumed: a DNS instance that gets the change can rely on it being
 * durable.
 *
 * Detections of the hub's detector point at rule names owned by the hub; names are
 * kept (append-only, one per indicator ever loaded) until cw_ioc_hub_free(), so they
 * outlive every batch's detections.
 *
 * Retro-hunts run on one worker thread, one published indicator at a time, over the
 * batch digests of the window (obs_digest.h); hits become detections (triage, events,
 * "retro-hunt" in their detail) and sightings of the member concerned. A record gets
 * at most one detection per indicator: a hunt skips every batch that already holds a
 * live sighting of it (the live detector covered all of that batch's records).
 *
 * Thread-safety: every function may be called from any thread. */
#ifndef CW_CENTER_IOC_HUB_H
#define CW_CENTER_IOC_HUB_H

#include <stdbool.h>
#include <stdint.h>

#include "center/center.h"
#include "center/store_iocs.h"
#include "detect/detect.h"

struct cw_ioc_hub;
struct cw_triage;
struct MHD_Connection;

struct cw_ioc_hub_config {
    int64_t retro_days;          /* retro-hunt window (default 30) */
    const char *warninglists_dir; /* the guard's MISP warninglists ("" = built-in rules) */
};

/* The center's hub and settings (center.c). */
struct cw_center;
struct cw_ioc_hub *cw_center_ioc_hub(struct cw_center *c);
const struct cw_center_config *cw_center_config(const struct cw_center *c);

/* Load the published indicators from the store and start the retro-hunt worker.
 * NULL with a reason in err. */
struct cw_ioc_hub *cw_ioc_hub_new(struct cw_store *s, struct cw_triage *t,
                                  const struct cw_ioc_hub_config *cfg, char *err,
                                  size_t errlen);
/* Resume every suspended feed request (call before the HTTP server stops). */
void cw_ioc_hub_shutdown(struct cw_ioc_hub *h);
void cw_ioc_hub_free(struct cw_ioc_hub *h);

/* The detector (cw_detector_fn, ctx = the hub): detections with source CW_DET_IOC,
 * rule_id "ioc:<id>". */
int cw_ioc_hub_detect(const void *ctx, const struct cw_batch *b, struct cw_detections *out);

/* The guard (never NULL). */
const struct cw_ioc_guard *cw_ioc_hub_guard(const struct cw_ioc_hub *h);

/* Change an indicator's state and apply it live (publish queues a retro-hunt).
 * Store return codes. */
int cw_ioc_hub_set_state(struct cw_ioc_hub *h, int64_t id, enum cw_ioc_state to,
                         const char *actor, struct cw_ioc_row *after, char *err, size_t errlen);
/* Expire published indicators whose valid_until has passed. Returns how many. */
int cw_ioc_hub_expire(struct cw_ioc_hub *h, int64_t now_us);

/* The feed's current serial (committed changes). */
int64_t cw_ioc_hub_serial(struct cw_ioc_hub *h);
/* Long-poll: when the serial is still `since`, suspend conn until a change or until
 * deadline_ms (cw_monotonic_ms) and return 1; return 0 when there is news already. */
int cw_ioc_hub_wait(struct cw_ioc_hub *h, struct MHD_Connection *conn, int64_t since,
                    int64_t deadline_ms);

/* Retro-hunt one indicator now on the caller's thread (the worker uses it; so do
 * benchmarks). hits/batches/read may be NULL. Returns 0 or -1 with err. */
int cw_ioc_hub_retro_hunt(struct cw_ioc_hub *h, int64_t id, int64_t *hits, int64_t *batches,
                          int64_t *read, char *err, size_t errlen);

#endif
