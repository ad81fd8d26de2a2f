/* store_incidents.h - the information-sharing system of the embedded store: sectors,
 * sharing organizations (sector bodies, ministries) and their users, incident reports
 * from members, shared items (coordinator alerts and advisories, ministry
 * information), hop-by-hop receipts, reachability drills and fiscal-year statistics
 * (docs/incidents.md).
 *
 * Visibility is decided here from the caller's principal, the same way for every call:
 *   coordinator roles     everything;
 *   member roles          their member's incidents, items with a receipt to their
 *                         member, drills their member is a contact of;
 *   sector_user/ministry  incidents of members in the sectors their organization covers,
 *                         items with a receipt to their organization (and a ministry's
 *                         own information items), drills their org is a contact of;
 *   anything else         nothing.
 * An id the caller may not see answers CW_STORE_NOT_FOUND, exactly like a missing one.
 *
 * Every write is one transaction on the writer connection; a refusal changes nothing.
 * Imported and created records carry an optional client reference ("ref"), unique per
 * kind: the same ref again is a duplicate, stored once and never counted twice.
 * Return codes as in store.h (0, NOT_FOUND, EXISTS, INVALID, BAD_TRANSITION, DENIED
 * for "not your turn/role", -1 storage) with a message in err. Thread-safe. */
#ifndef CW_CENTER_STORE_INCIDENTS_H
#define CW_CENTER_STORE_INCIDENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "center/incident_taxonomy.h"
#include "center/store.h"
#include "common/buf.h"

#define CW_INC_TITLE_MAX 200
#define CW_INC_TEXT_MAX 10000
#define CW_INC_REF_MAX 100
#define CW_INC_MAX_TARGETS 64
#define CW_DRILL_MAX_CONTACTS 1000

int cw_store_incidents_schema(struct cw_store *s, char *err, size_t errlen);

/* -- sectors and organizations ------------------------------------------------ */
int cw_store_sector_add(struct cw_store *s, const char *code, const char *name_ja,
                        const char *name_en, int64_t *id, char *err, size_t errlen);
/* id of a sector by code or decimal id; NOT_FOUND. */
int cw_store_sector_find(struct cw_store *s, const char *ref, int64_t *id);
int cw_store_sectors_json(struct cw_store *s, struct cw_buf *out, char *err, size_t errlen);
int cw_store_member_sector_set(struct cw_store *s, uint32_t member_id, int64_t sector_id,
                               char *err, size_t errlen);
/* kind: "sector_body" or "ministry"; sectors: ids it covers (1..CW_INC_MAX_TARGETS). */
int cw_store_org_add(struct cw_store *s, const char *name, const char *kind,
                     const int64_t *sectors, size_t nsectors, int64_t *id, char *err,
                     size_t errlen);
/* id of an org by name or decimal id; NOT_FOUND. */
int cw_store_org_find(struct cw_store *s, const char *ref, int64_t *id);
int cw_store_orgs_json(struct cw_store *s, struct cw_buf *out, char *err, size_t errlen);
/* Is the member in one of the sectors the org covers? */
bool cw_store_org_covers_member(struct cw_store *s, int64_t org_id, uint32_t member_id);
/* A user of the org, role sector_user or ministry_user from the org's kind. */
int cw_store_org_user_add(struct cw_store *s, int64_t org_id, const char *name,
                          const char *password, int64_t *id, char *err, size_t errlen);

/* -- incidents ------------------------------------------------------------------ */
struct cw_incident_new {
    uint32_t member_id;
    const char *ref;            /* NULL: none */
    const char *title, *what, *systems;
    int64_t occurred_us;        /* 0: unknown */
    int64_t reported_us;        /* when the coordinator got it: counts in this FY */
    const char *event;          /* code, NULL = not classified yet */
    const char *causes[CW_TAX_MAX_CAUSES];
    size_t ncauses;
    const char *attack;         /* NULL = not a cyber attack / not analysed */
    const char *actor;
    bool flow;                  /* create the receipts of the reporting line */
};
/* INVALID for an unknown code or a cause given twice; *duplicate when ref existed
 * (then *id is the existing incident and nothing changed). */
int cw_store_incident_create(struct cw_store *s, const struct cw_incident_new *n, int64_t *id,
                             bool *duplicate, char *err, size_t errlen);

struct cw_item_new {
    const char *kind;           /* "alert", "advisory" (coordinator), "ministry_info" */
    const char *ref, *title, *body;
    int64_t org_id;             /* ministry_info: the ministry; else 0 */
    int64_t sent_us;
    const int64_t *sectors;     /* alert targets; none = every sector */
    size_t nsectors;
    const char *actor;
    bool flow;                  /* create the receipts (import: false) */
};
int cw_store_item_create(struct cw_store *s, const struct cw_item_new *n, int64_t *id,
                         bool *duplicate, char *err, size_t errlen);

/* Many of both in ONE transaction (bulk import): all or nothing. Duplicates (by ref)
 * are skipped and counted. On an error, *bad is the index (incidents first, then
 * items) of the record that failed. */
int cw_store_sharing_import(struct cw_store *s, const struct cw_incident_new *inc, size_t ninc,
                            const struct cw_item_new *items, size_t nitems, size_t *added,
                            size_t *duplicates, size_t *bad, char *err, size_t errlen);

struct cw_incident_filter {
    uint32_t member_id;  /* 0 = all visible */
    int32_t fy;          /* 0 = all */
    const char *status;  /* NULL = all */
    int64_t after_id;
    int limit;
};
bool cw_incident_status_valid(const char *status);
int cw_store_incidents_json(struct cw_store *s, const struct cw_principal *who,
                            const struct cw_incident_filter *f, struct cw_buf *out, char *err,
                            size_t errlen);
/* With causes, history and receipts; records the caller's delivery receipt. */
int cw_store_incident_json(struct cw_store *s, const struct cw_principal *who, int64_t id,
                           struct cw_buf *out, char *err, size_t errlen);
/* A status update with a note, by the reporting member's users or the coordinator. */
int cw_store_incident_update(struct cw_store *s, const struct cw_principal *who, int64_t id,
                             const char *status, const char *note, char *err, size_t errlen);
/* Coordinator: (re)classify. NULL leaves a dimension unchanged; causes replace the set
 * when set_causes. attack "" clears it. */
int cw_store_incident_classify(struct cw_store *s, int64_t id, const char *event,
                               bool set_causes, const char *const *causes, size_t ncauses,
                               const char *attack, const char *actor, char *err,
                               size_t errlen);

int cw_store_items_json(struct cw_store *s, const struct cw_principal *who, const char *kind,
                        int64_t after_id, int limit, struct cw_buf *out, char *err,
                        size_t errlen);
int cw_store_item_json(struct cw_store *s, const struct cw_principal *who, int64_t id,
                       struct cw_buf *out, char *err, size_t errlen);

/* Receipts: the caller marks an incident ("incident") or item ("item") read, or
 * forwards it one hop down (sector body: alert to its members) or up (ministry:
 * report to the coordinator). NOT_FOUND when invisible, DENIED when the caller is not
 * a recipient of it (or may not forward), BAD_TRANSITION when already done. */
enum cw_receipt_action { CW_RECEIPT_READ, CW_RECEIPT_FORWARD };
int cw_store_receipt_act(struct cw_store *s, const struct cw_principal *who, bool incident,
                         int64_t id, enum cw_receipt_action a, char *err, size_t errlen);

/* -- drills -------------------------------------------------------------------- */
/* Contacts: the given members and orgs, or every member and org when all. */
int cw_store_drill_start(struct cw_store *s, const char *title, int64_t deadline_us,
                         const int64_t *members, size_t nmembers, const int64_t *orgs,
                         size_t norgs, bool all, const char *actor, int64_t *id, char *err,
                         size_t errlen);
/* The caller answers for its member or org. NOT_FOUND when there is no such drill or
 * the caller's organization is not one of its contact points (the same answer: a drill
 * is not revealed to others), DENIED for the coordinator, BAD_TRANSITION (answered
 * already, or past the deadline: the late attempt is recorded, the answer is not). */
int cw_store_drill_answer(struct cw_store *s, const struct cw_principal *who, int64_t id,
                          int64_t now_us, char *err, size_t errlen);
int cw_store_drills_json(struct cw_store *s, const struct cw_principal *who,
                         struct cw_buf *out, char *err, size_t errlen);
int cw_store_drill_report_json(struct cw_store *s, int64_t id, int64_t now_us,
                               struct cw_buf *out, char *err, size_t errlen);

/* -- statistics --------------------------------------------------------------- */
/* Columns: FY-4 .. FY-1 (whole years), then 1Q..4Q of fy, then fy's total. */
#define CW_STATS_COLS 9
enum {
    CW_STATS_REPORTS, CW_STATS_MINISTRY, CW_STATS_COORD,
    CW_STATS_EVENT0,                                 /* 8 event rows */
    CW_STATS_CAUSE0 = CW_STATS_EVENT0 + 8,           /* 17 cause rows */
    CW_STATS_ATTACK_TOTAL = CW_STATS_CAUSE0 + CW_TAX_MAX_CAUSES,
    CW_STATS_ATTACK0,                                /* 4 attack rows */
    CW_STATS_MON_EVENTS = CW_STATS_ATTACK0 + 4,
    CW_STATS_MON_NOTICES, CW_STATS_MON_INDICATORS, CW_STATS_MON_ADVISORIES,
    CW_STATS_ROWS
};
struct cw_stats_row {
    char key[24];        /* "reports", "event.E3", "cause.C01", "monitoring.notices" */
    const char *label;   /* English, as in the national report's table */
    const char *label_ja;
    int64_t v[CW_STATS_COLS];
};
/* fy in 2000..2100. rows gets CW_STATS_ROWS rows. */
int cw_store_incident_stats(struct cw_store *s, int fy, struct cw_stats_row *rows, char *err,
                            size_t errlen);

#endif
