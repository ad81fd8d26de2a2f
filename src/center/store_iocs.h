/* store_iocs.h - indicators of compromise, their sightings and event links, the
 * change log the RPZ feed serves, per-batch observable digests (retro-hunt) and
 * submitted samples, in the embedded store (docs/indicators.md).
 *
 * Indicators are unique by (type, canonical value): adding or importing one that
 * exists merges into it (highest confidence, earliest first_seen, latest last_seen
 * and valid_until, the MORE restrictive TLP, the existing audience and description
 * unless empty) - a merge never widens who may see an indicator.
 * States: candidate -> published -> revoked | expired (an expired or revoked one may
 * be published again). Publishing, revoking and expiring an indicator that the feed
 * carries (see cw_ioc_feed_eligible) appends "add"/"del" rules to the change log in
 * the same transaction; the log's serial is the feed's serial.
 *
 * Visibility: coordinator requests (scope 0) see everything. A member (scope m) sees
 * only published indicators whose audience includes m ("all members" or a list) and,
 * for RED, only when m submitted it; who submitted it (member, person, sample) is
 * left out of what a member gets unless the member is the submitter.
 *
 * Return codes as in store.h; strings in rows are copies. Thread-safe. */
#ifndef CW_CENTER_STORE_IOCS_H
#define CW_CENTER_STORE_IOCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "center/obs_digest.h"
#include "center/store.h"
#include "common/buf.h"
#include "ioc/ioc.h"

#define CW_IOC_AUDIENCE_MAX 32   /* members in an explicit audience */
#define CW_IOC_DESC_MAX 2000

enum cw_ioc_state { CW_IOC_CANDIDATE = 0, CW_IOC_PUBLISHED, CW_IOC_REVOKED, CW_IOC_EXPIRED };
const char *cw_ioc_state_name(enum cw_ioc_state s);
int cw_ioc_state_from_name(const char *s); /* -1 when unknown */
const char *cw_ioc_source_name(enum cw_ioc_source s);

struct cw_ioc_row {
    int64_t id;
    enum cw_ioc_type type;
    char value[CW_IOC_VALUE_MAX];
    enum cw_ioc_state state;
    enum cw_tlp tlp;
    uint32_t audience[CW_IOC_AUDIENCE_MAX]; /* naudience 0 = all members */
    size_t naudience;
    int confidence;                /* 0..100 */
    enum cw_ioc_source source;
    uint32_t source_member;        /* 0 = none (analyst, feed) */
    char source_name[128];         /* feed / producer name, or sample file name */
    char description[CW_IOC_DESC_MAX + 1];
    int64_t first_seen_us, last_seen_us, valid_until_us, published_us, created_us;
    int64_t updated_us; /* last change of state or merge that changed the row */
    int64_t sightings;
    int64_t sample_id;
    char created_by[64];
    /* STIX generation (schema version 2): publishing a revoked indicator again starts a
     * new one, with a new STIX id (ioc_share.h); 0 = the id of (type, value) alone */
    int64_t stix_gen;
};

/* May every member enforce it (the RPZ feed)? Published, TLP CLEAR/GREEN/AMBER, all
 * members, and a type a resolver can act on (domain, hostname, ipv4, ipv6, cidr). */
bool cw_ioc_feed_eligible(const struct cw_ioc_row *r);
/* May member m see it (m = 0: the coordinator sees everything)? */
bool cw_ioc_visible(const struct cw_ioc_row *r, uint32_t m);
/* The same rule without the state: do TLP and audience clear member m for it (a
 * revoked indicator is shared as revoked with whom it was cleared for, ioc_share.h)? */
bool cw_ioc_cleared(const struct cw_ioc_row *r, uint32_t m);

int cw_store_iocs_schema(struct cw_store *s, char *err, size_t errlen);

/* Add or merge (see above). *created says which; *id is the row's id; after holds
 * the row after the merge (may be NULL). */
int cw_store_ioc_upsert(struct cw_store *s, const struct cw_ioc_row *in, int64_t *id,
                        bool *created, struct cw_ioc_row *after, char *err, size_t errlen);
/* NOT_FOUND when absent. */
int cw_store_ioc_get(struct cw_store *s, int64_t id, struct cw_ioc_row *out);
/* Change the state (published, revoked, expired) in one transaction with the change
 * log. BAD_TRANSITION when the indicator already is in that state or a candidate is
 * expired/revoked... (reason in err). before/after (may be NULL) get the rows. */
int cw_store_ioc_set_state(struct cw_store *s, int64_t id, enum cw_ioc_state to,
                           const char *actor, struct cw_ioc_row *after, char *err,
                           size_t errlen);

/* Visit every indicator in a state (hub load, exports). cb returning non-zero stops. */
typedef int (*cw_ioc_row_cb)(void *ctx, const struct cw_ioc_row *r);
int cw_store_iocs_foreach(struct cw_store *s, int state, cw_ioc_row_cb cb, void *ctx,
                          char *err, size_t errlen);
/* Visit the retired generations: when a revoked indicator that was published is
 * published again (set_state), its revoked row is kept as it was, stix_gen included,
 * in ioc_retired, and the indicator's stix_gen goes up by one. Each row is revoked
 * (state CW_IOC_REVOKED, updated_us = the revocation). Ordered by id, generation. */
int cw_store_iocs_retired_foreach(struct cw_store *s, cw_ioc_row_cb cb, void *ctx, char *err,
                                  size_t errlen);

struct cw_ioc_filter {
    uint32_t scope;      /* 0 = coordinator, else the member asking */
    int type;            /* CW_IOC_NONE = all */
    int state;           /* -1 = all */
    const char *q;       /* substring of the value, NULL = any */
    int64_t since_us;    /* updated at or after, 0 = any */
    int64_t after_id;
    int limit;
};
/* {"indicators":[...],"next_after":N|null} appended to out. */
int cw_store_iocs_json(struct cw_store *s, const struct cw_ioc_filter *f, struct cw_buf *out,
                       char *err, size_t errlen);
/* One indicator as a JSON object with its latest sightings, events and retro-hunt
 * state (scope as in the filter; NOT_FOUND when the caller may not see it). */
int cw_store_ioc_json(struct cw_store *s, int64_t id, uint32_t scope, struct cw_buf *out,
                      char *err, size_t errlen);
/* One row as JSON (scrubbed for member scope). */
void cw_ioc_row_json(const struct cw_ioc_row *r, uint32_t scope, struct cw_buf *out);

/* -- change log (RPZ feed) --------------------------------------------------- */
int64_t cw_store_ioc_serial(struct cw_store *s);
/* The rules after `since` as a JSON array body (no brackets) into out; *serial is the
 * last serial. */
int cw_store_ioc_changes_json(struct cw_store *s, int64_t since, struct cw_buf *out,
                              int64_t *serial, char *err, size_t errlen);
/* The whole feed policy as "add" rules (same form). */
int cw_store_ioc_policy_json(struct cw_store *s, struct cw_buf *out, int64_t *serial, char *err,
                             size_t errlen);
/* One feed rule object for a row. */
void cw_ioc_feed_rule_json(const struct cw_ioc_row *r, const char *op, struct cw_buf *out);

/* -- sightings, digests, retro-hunt ------------------------------------------ */

/* Inside cw_store_ingest's transaction: the batch's digest, and a sighting (and an
 * indicator-event link) per detection whose rule_id is "ioc:<id>". */
int cw_store_iocs_batch_write(struct cw_store *s, int64_t batch_id,
                              const struct cw_ingest_batch *in, const struct cw_obs_digest *dg,
                              char *err, size_t errlen);

/* Digests of the batches whose records end at or after since_us, in id order. */
struct cw_digest_row {
    int64_t batch_id;
    uint32_t member_id, sensor_id;
    const uint32_t *keys; /* valid during the callback */
    size_t n;
};
typedef int (*cw_digest_cb)(void *ctx, const struct cw_digest_row *d);
/* Every digest of a batch whose newest record is at or after since_us and whose id is
 * above after_batch (0: all), in batch id order. */
int cw_store_digests_foreach(struct cw_store *s, int64_t since_us, int64_t after_batch,
                             cw_digest_cb cb, void *ctx, char *err, size_t errlen);
/* The decompressed NDJSON segment of a batch (heap, caller frees). NOT_FOUND when its
 * records are gone (retention). */
int cw_store_batch_segment(struct cw_store *s, int64_t batch_id, char **out, size_t *len,
                           char *err, size_t errlen);
/* Write retro-hunt detections of one stored batch: under the write lock, aggregate()
 * then the detections, sightings (kind retro) and event links in one transaction. */
int cw_store_iocs_retro_write(struct cw_store *s, int64_t batch_id, const struct cw_batch *b,
                              struct cw_triage_result *tr, int (*aggregate)(void *ctx),
                              void *actx, char *err, size_t errlen);
/* Retro-hunt progress of an indicator: state "running", "done", "failed: ...". */
/* The batches holding a sighting of indicator id, ascending, into *ids (heap, the
 * caller frees; *ids may be NULL or a previous result, it is grown). The retro-hunt
 * skips them: the live detector covered every record of such a batch. 0 or -1. */
int cw_store_ioc_sighted_batches(struct cw_store *s, int64_t id, int64_t **ids, size_t *n,
                                 char *err, size_t errlen);
int cw_store_ioc_retro_set(struct cw_store *s, int64_t id, const char *state, int64_t hits,
                           int64_t batches, int64_t batches_read, int64_t ms);

/* -- samples ----------------------------------------------------------------- */
struct cw_sample_new {
    uint32_t member_id;        /* 0: submitted by the coordinator */
    const char *submitter, *name, *sha256, *kind;
    uint64_t size;
    const char *report_json;   /* the analyser's report */
    const char *candidates_json;
};
int cw_store_sample_add(struct cw_store *s, const struct cw_sample_new *n, int64_t *id,
                        char *err, size_t errlen);
/* Set the candidates (with the indicator ids they became). */
int cw_store_sample_set_candidates(struct cw_store *s, int64_t id, const char *json, char *err,
                                   size_t errlen);
/* scope 0 = all samples; else that member's only. */
int cw_store_samples_json(struct cw_store *s, uint32_t scope, struct cw_buf *out, char *err,
                          size_t errlen);
int cw_store_sample_json(struct cw_store *s, int64_t id, uint32_t scope, struct cw_buf *out,
                         char *err, size_t errlen);

#endif
