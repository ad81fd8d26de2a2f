/* store_web.h - what the watch floor (docs/web.md) reads from the embedded store:
 * live counters, chart series, summaries, notice statistics, sensors' health, event
 * page extras and notice attachments, plus the per-center secret of web sessions.
 *
 * Charts must stay fast with 10M detections, so records and detections are also
 * counted per hour, member and noise reason in `web_counts` and per UTC day in its
 * roll-up `web_days` (member 0 = every member), both maintained inside the ingest
 * transaction (cw_store_web_counts) and never recomputed from the raw rows.
 *
 * Every reader takes a member scope (0 = every member) and adds it to its query.
 * Errors as in store.h: 0, CW_STORE_NOT_FOUND / CW_STORE_INVALID, or -1 with err. */
#ifndef CW_CENTER_STORE_WEB_H
#define CW_CENTER_STORE_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "center/store.h"
#include "common/buf.h"

/* Tables and indexes of this module (called by cw_store_open). */
int cw_store_web_schema(struct cw_store *s, char *err, size_t errlen);

/* Inside cw_store_ingest's transaction: add the batch's records and detections to the
 * hourly counters (records by record time, detections by record time and noise). */
int cw_store_web_counts(struct cw_store *s, const struct cw_batch *b,
                        const struct cw_triage_result *t, char *err, size_t errlen);

/* The 32-byte secret that keys CSRF tokens; created on first use. */
int cw_store_web_secret(struct cw_store *s, unsigned char out[32], char *err, size_t errlen);

/* Revoke the user token `token` (sign-out). NOT_FOUND if it is not a live token. */
int cw_store_session_end(struct cw_store *s, const char *token);

/* Name of a member ("" when unknown). */
void cw_store_member_name(struct cw_store *s, uint32_t id, char *out, size_t cap);

struct cw_live_counters {
    int64_t records_in, records_per_min, detections;
    int64_t noise[8];         /* by enum cw_noise_reason (index 0 = kept, unused) */
    int64_t open_by_sev[6];   /* 1..5 */
    int64_t sensors_silent, notices_overdue;
};
int cw_store_live_counters(struct cw_store *s, uint32_t scope, int64_t now_us,
                           int64_t silent_after_us, struct cw_live_counters *out, char *err,
                           size_t errlen);

enum cw_series_metric { CW_SERIES_RECORDS, CW_SERIES_DETECTIONS, CW_SERIES_EVENTS,
                        CW_SERIES_NOTICES, CW_SERIES_NOISE };
enum cw_series_bucket { CW_BUCKET_HOUR, CW_BUCKET_DAY, CW_BUCKET_MONTH };
/* Points of a chart as JSON ({"metric",...,"points":[...]}) or CSV. INVALID when the
 * range holds more than 10,000 buckets. */
int cw_store_series(struct cw_store *s, uint32_t scope, enum cw_series_metric m,
                    enum cw_series_bucket bk, int64_t from_us, int64_t to_us, bool csv,
                    struct cw_buf *out, char *err, size_t errlen);

/* group: attack_class, severity, state, noise_reason, member. INVALID for another.
 * CSV fields are quoted, verbatim unless csv_flags has CW_CSV_SPREADSHEET (common/csv.h). */
int cw_store_summary(struct cw_store *s, uint32_t scope, const char *group, bool csv,
                     unsigned csv_flags, struct cw_buf *out, char *err, size_t errlen);

/* Notices sent and acknowledged per month and per fiscal year (April-March). */
int cw_store_notice_stats(struct cw_store *s, uint32_t scope, bool csv, struct cw_buf *out,
                          char *err, size_t errlen);

struct cw_sensor_health {
    uint32_t sensor_id;
    int64_t records_10min, rejected_1h;
};
/* Health figures of every sensor with a batch in the last hour (heap array). */
int cw_store_sensor_health(struct cw_store *s, int64_t now_us, struct cw_sensor_health **out,
                           size_t *n, char *err, size_t errlen);

/* Event page extras appended to an event's JSON object (leading comma included):
 * ,"detections":{"items":[...],"next":ID|null},"timeline":[{"t","count"}] */
int cw_store_event_extras(struct cw_store *s, int64_t event_id, int64_t det_after, int det_limit,
                          struct cw_buf *out, char *err, size_t errlen);

/* Attachments of notices. add: NOT_FOUND when the notice is not visible in scope. */
struct cw_attachment {
    int64_t id, notice_id, size, created_us;
    uint32_t member_id;
    char name[256], sha256[65], created_by[64];
};
int cw_store_attachment_add(struct cw_store *s, int64_t notice_id, uint32_t scope,
                            const char *name, const void *data, size_t len, const char *actor,
                            struct cw_attachment *out, char *err, size_t errlen);
int cw_store_attachments_json(struct cw_store *s, int64_t notice_id, uint32_t scope,
                              struct cw_buf *out, char *err, size_t errlen);
/* The attachment's metadata and bytes (heap, caller frees *data). */
int cw_store_attachment_get(struct cw_store *s, int64_t id, uint32_t scope,
                            struct cw_attachment *meta, void **data, char *err, size_t errlen);
void cw_attachment_json(struct cw_buf *o, const struct cw_attachment *a);

#endif
