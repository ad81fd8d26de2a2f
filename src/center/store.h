/* store.h - the center's durable storage: state and records.
 *
 * One interface for every backend. The embedded default (store_sqlite.c) keeps
 * everything in one SQLite database in WAL mode with synchronous=FULL:
 *   - state: members, sensors (hashed keys, counters, last seen), admin tokens;
 *   - records: one row per accepted ingest batch holding its normalised records as
 *     a zstd-compressed NDJSON segment (raw line included), plus the batch's
 *     Idempotency-Key and its answer.
 * A batch, its idempotency key and the sensor's counters are written in one
 * transaction, and cw_store_ingest() returns only after that transaction committed
 * and the WAL was fsynced: what the center acknowledged is never lost, and a retried
 * batch is stored once (docs/storage.md). A later PostgreSQL backend implements the
 * same functions.
 *
 * Thread-safety: every function may be called from any thread; the store
 * serialises writers internally and does the CPU work of an ingest (serialising and
 * compressing records) outside its lock.
 * Errors: functions return 0 on success, CW_STORE_EXISTS / CW_STORE_NOT_FOUND where
 * stated, or -1 with a message in err (never containing a secret). */
#ifndef CW_CENTER_STORE_H
#define CW_CENTER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/record.h"
#include "triage/triage.h"

#define CW_STORE_EXISTS (-2)
#define CW_STORE_NOT_FOUND (-3)
#define CW_STORE_INVALID (-5)  /* a value the store refuses (message in err) */
#define CW_STORE_DENIED (-6)   /* wrong credentials */
#define CW_STORE_LOCKED (-7)   /* account locked after failed logins */

struct cw_store;

struct cw_store_options {
    int zstd_level;         /* segment compression level (default 1: speed first) */
    int64_t retention_days; /* 0 = keep forever */
    int readers;            /* reader connections read in parallel (0 = 4) */
};

struct cw_member_info {
    uint32_t id;
    char name[128];
    int64_t created_us;
    int64_t records, sensors;
};

struct cw_sensor_info {
    uint32_t id, member_id;
    char member[128], name[128];
    int64_t created_us, last_seen_us, revoked_us; /* 0 = never / not revoked */
    int64_t records, batches, rejected, duplicates;
};

struct cw_totals {
    int64_t records, batches, rejected, duplicates, members, sensors;
};

/* Roles (docs/api.md). Coordinator roles see every member; member roles see only
 * their own member; a sensor can only ingest. */
enum cw_role {
    CW_ROLE_NONE = 0,
    CW_ROLE_SENSOR,
    CW_ROLE_COORD_ADMIN,   /* also the bootstrap admin token */
    CW_ROLE_COORD_ANALYST,
    CW_ROLE_MEMBER_ADMIN,
    CW_ROLE_MEMBER_USER,
    /* people of a sector body (CEPTOAR-like) or a supervising ministry: they see only
     * the incident-sharing items of the sectors their organization covers
     * (docs/incidents.md), never a member's events, detections or notices */
    CW_ROLE_SECTOR_USER,
    CW_ROLE_MINISTRY_USER,
};
#define CW_PRINCIPAL_NONE CW_ROLE_NONE
#define CW_PRINCIPAL_SENSOR CW_ROLE_SENSOR
#define CW_PRINCIPAL_ADMIN CW_ROLE_COORD_ADMIN

const char *cw_role_name(enum cw_role r);
enum cw_role cw_role_from_name(const char *s);

/* Who is calling: decided from the bearer credential, once, by the dispatcher. */
struct cw_principal {
    enum cw_role role;
    uint32_t member_id;   /* member roles and sensors: their member; coordinator: 0 */
    uint32_t sensor_id;   /* sensors */
    uint32_t user_id;     /* users (0 for the bootstrap admin token) */
    uint32_t token_id;
    uint32_t org_id;      /* sector body / ministry users: their organization; else 0 */
    char name[64];        /* user name or "admin"/"sensor:<id>", for history and audit */
};

struct cw_ingest_batch {
    uint32_t member_id, sensor_id;
    const char *idem_key; /* NULL: no idempotency */
    const char *format;
    int64_t received_us;
    const struct cw_batch *batch;
    const char *rejects_json; /* the "rejected" array of the answer, kept for replays */
    /* Triage of this batch (optional). aggregate() is called under the store's write
     * lock once the batch is known not to be a duplicate, so events change in commit
     * order and a retried batch is never aggregated twice; then the detections,
     * noise counts and changed events are written in the batch's transaction. */
    struct cw_triage_result *triage;
    int (*aggregate)(void *ctx);
    void *aggregate_ctx;
};

struct cw_ingest_result {
    int64_t batch_id;
    uint32_t accepted, rejected;
    bool duplicate;
    char *rejects_json; /* on duplicate: the stored array (heap, caller frees) */
};

int cw_store_open(struct cw_store **out, const char *data_dir, const struct cw_store_options *opt,
                  char *err, size_t errlen);
void cw_store_close(struct cw_store *s);

/* Members. add: CW_STORE_EXISTS if the name is taken. find: NOT_FOUND. The
 * reference is a name or a decimal id. */
int cw_store_member_add(struct cw_store *s, const char *name, uint32_t *id, char *err,
                        size_t errlen);
int cw_store_member_find(struct cw_store *s, const char *ref, struct cw_member_info *out);
typedef int (*cw_member_cb)(void *ctx, const struct cw_member_info *m);
int cw_store_member_list(struct cw_store *s, cw_member_cb cb, void *ctx, char *err,
                         size_t errlen);

/* Sensors. add creates a key: the clear key is written to key_out (>= 96 bytes) and
 * only its hash is stored. CW_STORE_EXISTS if the member already has a sensor of that
 * name, NOT_FOUND if the member does not exist. */
int cw_store_sensor_add(struct cw_store *s, uint32_t member_id, const char *name,
                        struct cw_sensor_info *out, char *key_out, size_t key_len, char *err,
                        size_t errlen);
typedef int (*cw_sensor_cb)(void *ctx, const struct cw_sensor_info *si);
/* member_id 0 = all members */
int cw_store_sensor_list(struct cw_store *s, uint32_t member_id, cw_sensor_cb cb, void *ctx,
                         char *err, size_t errlen);
int cw_store_sensor_get(struct cw_store *s, uint32_t id, struct cw_sensor_info *out);
int cw_store_sensor_revoke(struct cw_store *s, uint32_t id, char *err, size_t errlen);

/* Admin tokens. ensure: when no admin token exists yet, create one and write the clear
 * token to token_out (returns 1); returns 0 when one already exists. */
int cw_store_admin_token_ensure(struct cw_store *s, char *token_out, size_t len, char *err,
                                size_t errlen);

/* Authenticate a bearer credential (constant-time compare of hashes). */
int cw_store_authenticate(struct cw_store *s, const char *credential, struct cw_principal *out);

/* Make an ingest batch durable (see the header comment). When the sensor already
 * stored a batch with the same idempotency key, nothing is written and result says
 * duplicate with the first answer's counts and rejects. */
int cw_store_ingest(struct cw_store *s, const struct cw_ingest_batch *in,
                    struct cw_ingest_result *result, char *err, size_t errlen);

int cw_store_totals(struct cw_store *s, struct cw_totals *t, char *err, size_t errlen);

/* Stream stored records as NDJSON, batch by batch in arrival order, starting after
 * batch id `after` (0 = from the start), at most max_batches batches (0 = all).
 * member_id 0 = all members. cb gets one segment (many lines) at a time; *last_batch
 * is the id of the last batch delivered. */
typedef int (*cw_segment_cb)(void *ctx, int64_t batch_id, const char *ndjson, size_t len);
int cw_store_records_foreach(struct cw_store *s, uint32_t member_id, int64_t after,
                             int64_t max_batches, cw_segment_cb cb, void *ctx,
                             int64_t *last_batch, char *err, size_t errlen);

/* -- users (store_users.c) ---------------------------------------------------- */
/* Add a person. Coordinator roles have member_id 0, member roles a member.
 * Passwords: 12..1024 bytes, stored as argon2id. INVALID / EXISTS / -1. */
int cw_store_user_add(struct cw_store *s, const char *name, enum cw_role role, uint32_t member_id,
                      const char *password, int64_t *id, char *err, size_t errlen);
/* scope 0 = all users; else only that member's users. */
int cw_store_users_json(struct cw_store *s, uint32_t scope, struct cw_buf *out, char *err,
                        size_t errlen);
/* Check a password and issue a bearer token valid for ttl_us. DENIED for a wrong
 * name or password (same answer and timing for both), LOCKED after 5 failures. */
int cw_store_login(struct cw_store *s, const char *name, const char *password, int64_t ttl_us,
                   char *token_out, size_t token_len, char *err, size_t errlen);

/* -- triage state (store_triage.c) ------------------------------------------ */
/* Called inside cw_store_ingest's transaction. */
int cw_store_triage_write(struct cw_store *s, int64_t batch_id, const struct cw_batch *b,
                          const struct cw_triage_result *t, char *err, size_t errlen);
/* Next free event id, and the open events to restore into the aggregator. */
int64_t cw_store_next_event_id(struct cw_store *s);
int cw_store_events_restore(struct cw_store *s, struct cw_triage *t, size_t max, char *err,
                            size_t errlen);

struct cw_event_filter {
    uint32_t member_id;  /* 0 = all */
    int attack_class;    /* -1 = all */
    const char *state;   /* NULL = all */
    int max_severity;    /* 0 = all; else severity <= this */
    int64_t after_id;    /* paging: ids greater than this (newest: smaller than this) */
    int limit;
    /* the watch floor's queue (docs/web.md) */
    bool newest;         /* newest first */
    bool open_only;      /* new, investigating or notified */
    int64_t since_us, until_us; /* 0 = open-ended: activity overlapping [since, until) */
    const char *q;       /* an event id, or text in sources, targets or assignee */
};
/* JSON documents for the API (written into out). NOT_FOUND for a missing event. */
int cw_store_events_json(struct cw_store *s, const struct cw_event_filter *f, struct cw_buf *out,
                         char *err, size_t errlen);
/* scope: 0 = any member; else NOT_FOUND unless the event belongs to that member. */
int cw_store_event_json(struct cw_store *s, int64_t id, uint32_t scope, struct cw_buf *out,
                        char *err, size_t errlen);
/* Change an event's state (new, investigating, notified, resolved, false_positive,
 * duplicate); returns -4 (CW_STORE_BAD_TRANSITION) with a reason when the change
 * is not allowed. Every change is kept in the event's history. */
#define CW_STORE_BAD_TRANSITION (-4)
int cw_store_event_set_state(struct cw_store *s, struct cw_triage *t, int64_t id,
                             const char *state, const char *actor, const char *reason, char *err,
                             size_t errlen);
/* Merge event `id` into `into` (same member; `into` must be open): its detections
 * move, both events' figures are recomputed from their detections, `id` becomes a
 * duplicate; both histories record it. Split moves the detections of event `id`
 * whose source is one of `sources` to a new event (*new_id). Both also update the
 * open-event table t. NOT_FOUND, BAD_TRANSITION (with a reason) or -1. */
int cw_store_event_merge(struct cw_store *s, struct cw_triage *t, int64_t id, int64_t into,
                         const char *actor, char *err, size_t errlen);
int cw_store_event_split(struct cw_store *s, struct cw_triage *t, int64_t id,
                         const char *const *sources, size_t nsources, const char *actor,
                         int64_t *new_id, char *err, size_t errlen);
/* Give an event to a coordinator user by name ("" = nobody). NOT_FOUND for an unknown
 * event, INVALID for a name that is not a coordinator user. Kept in the history. */
int cw_store_event_assign(struct cw_store *s, int64_t id, const char *assignee,
                          const char *actor, char *err, size_t errlen);
int cw_store_noise_json(struct cw_store *s, uint32_t member_id, struct cw_buf *out, char *err,
                        size_t errlen);
int cw_store_detections_json(struct cw_store *s, uint32_t member_id, int64_t event_id,
                             const char *noise, int limit, struct cw_buf *out, char *err,
                             size_t errlen);
int cw_store_campaigns_json(struct cw_store *s, struct cw_buf *out, char *err, size_t errlen);
/* Detections per rule and verdict, all time: ,"hits":[{"rule_id","noise","count"}...] */
int cw_store_rule_hits_json(struct cw_store *s, struct cw_buf *out, char *err, size_t errlen);

struct cw_triage_summary {
    int64_t detections;
    int64_t per_reason[CW_NOISE__COUNT];
    int64_t events, campaigns;
};
int cw_store_triage_summary(struct cw_store *s, struct cw_triage_summary *out, char *err,
                            size_t errlen);

/* Assets and suppressions (the knowledge noise removal uses). */
int cw_store_asset_add(struct cw_store *s, const struct cw_asset *a, int64_t *id, char *err,
                       size_t errlen);
int cw_store_suppression_add(struct cw_store *s, const struct cw_suppression *sp,
                             const char *owner, const char *reason, int64_t *id, char *err,
                             size_t errlen);
int cw_store_assets_json(struct cw_store *s, uint32_t scope, struct cw_buf *out, char *err,
                         size_t errlen);
int cw_store_suppressions_json(struct cw_store *s, struct cw_buf *out, char *err, size_t errlen);
/* Load all assets and live suppressions into t. */
int cw_store_knowledge_load(struct cw_store *s, struct cw_triage *t, char *err, size_t errlen);

/* Delete record segments older than the retention period; returns batches removed. */
int64_t cw_store_apply_retention(struct cw_store *s, int64_t now_us);

#endif
