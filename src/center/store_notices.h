/* store_notices.h - notices (通報) to members, their answers, member webhooks and the
 * webhook delivery outbox, in the embedded store (docs/notices.md).
 *
 * A notice is written in ONE transaction with: its events (each moved from
 * "investigating" to "notified", recorded in the event's history), its history row
 * and, when the member has a webhook, a delivery job (outbox): a notice the API
 * acknowledged always has its delivery queued, even across a crash.
 * Notice states: sent -> acknowledged -> answered, and closed (coordinator) from any
 * open state; every change and every answer is kept (nothing is ever deleted).
 * Return codes as in store.h: 0, CW_STORE_NOT_FOUND, CW_STORE_INVALID,
 * CW_STORE_BAD_TRANSITION (409), or -1 (storage) with a message in err. */
#ifndef CW_CENTER_STORE_NOTICES_H
#define CW_CENTER_STORE_NOTICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "center/store.h"
#include "common/buf.h"

#define CW_NOTICE_TITLE_MAX 200
#define CW_NOTICE_TEXT_MAX 10000
#define CW_NOTICE_MAX_EVENTS 100
#define CW_WEBHOOK_URL_MAX 2000
#define CW_WEBHOOK_SECRET_MIN 16
#define CW_WEBHOOK_SECRET_MAX 256

/* Create the notice tables (CREATE TABLE IF NOT EXISTS); called by cw_store_open. */
int cw_store_notices_schema(struct cw_store *s, char *err, size_t errlen);

/* Built-in templates: id x language ("ja", "en"). Texts may hold placeholders
 * {member} {events} {sources} {targets} {first_seen} {last_seen} {count} {answer_by},
 * filled from the notice's events when the notice is created. */
struct cw_notice_template {
    const char *id, *lang, *name, *title, *what, *why, *action;
};
const struct cw_notice_template *cw_notice_template_find(const char *id, const char *lang);
void cw_notice_templates_json(struct cw_buf *out);

struct cw_notice_new {
    uint32_t member_id;
    const int64_t *events;
    size_t nevents;
    const char *title, *what, *why, *action; /* final texts or template texts */
    unsigned fill_mask;  /* bit 0..3: title, what, why, action come from a template */
    const char *template_id, *lang; /* NULL: no template */
    int64_t answer_by_us;
    const char *actor;
};
/* NOT_FOUND "no event N"; INVALID "event N belongs to another member" or a text
 * over its limit after filling; BAD_TRANSITION "event N is S, not investigating". */
int cw_store_notice_create(struct cw_store *s, const struct cw_notice_new *n, int64_t *id,
                           char *err, size_t errlen);

enum cw_notice_action { CW_NOTICE_ACK, CW_NOTICE_ANSWER, CW_NOTICE_CLOSE };
/* scope: 0 = any member, else NOT_FOUND unless the notice is that member's.
 * text: the answer (ANSWER) or an optional comment/reason. */
int cw_store_notice_act(struct cw_store *s, int64_t id, uint32_t scope,
                        enum cw_notice_action action, const char *actor, const char *text,
                        char *err, size_t errlen);

struct cw_notice_filter {
    uint32_t member_id; /* 0 = all */
    const char *state;  /* NULL = all; else sent|acknowledged|answered|closed */
    bool overdue;       /* only open notices past answer_by */
    int64_t after_id;
    int limit;
};
bool cw_notice_state_valid(const char *state);
int cw_store_notices_json(struct cw_store *s, const struct cw_notice_filter *f,
                          struct cw_buf *out, char *err, size_t errlen);
/* With answers and history. scope as above. */
int cw_store_notice_json(struct cw_store *s, int64_t id, uint32_t scope, struct cw_buf *out,
                         char *err, size_t errlen);
int cw_store_notice_deliveries_json(struct cw_store *s, int64_t id, uint32_t scope,
                                    struct cw_buf *out, char *err, size_t errlen);

/* Member webhooks. url NULL removes it. The secret is stored (HMAC needs it) and is
 * never returned, logged or put in an error message. */
int cw_store_webhook_set(struct cw_store *s, uint32_t member_id, const char *url,
                         const char *secret, const char *actor, char *err, size_t errlen);
int cw_store_webhook_json(struct cw_store *s, uint32_t member_id, struct cw_buf *out, char *err,
                          size_t errlen);

/* The delivery worker's side of the outbox. */
struct cw_delivery_job {
    int64_t id, notice_id;
    int attempts;       /* attempts so far */
    char *url;          /* heap; NULL when the member's webhook was removed */
    char *secret;       /* heap; wiped and freed by cw_delivery_job_free */
    size_t secret_len;
    char *payload;      /* heap: the notice JSON queued with it */
};
/* Pending jobs with next try <= now_us, oldest first, at most max. Returns count or -1. */
int cw_store_deliveries_due(struct cw_store *s, int64_t now_us, struct cw_delivery_job *jobs,
                            int max, char *err, size_t errlen);
void cw_delivery_job_free(struct cw_delivery_job *j);
/* Log one attempt: status (HTTP status, 0 = none) or error; state becomes
 * "delivered", "failed" (given up) or stays "pending" with next_us. */
int cw_store_delivery_record(struct cw_store *s, int64_t id, int64_t at_us, int status,
                             const char *error, const char *state, int64_t next_us, char *err,
                             size_t errlen);

#endif
