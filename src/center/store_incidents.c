/* store_incidents.c - incident reports, shared items, their receipts and the bulk
 * import (see store_incidents.h for the visibility rules and return codes).
 *
 * Receipts: one row per recipient and hop. A member's report goes to the ministries
 * supervising the member's sector (hop 1), a ministry forwards it to the coordinator
 * (hop 2; straight to the coordinator at hop 1 when no ministry covers the sector). A
 * coordinator alert goes to the sector bodies of its target sectors (hop 1) and a
 * sector body forwards it to its members (hop 2; members of a sector without a sector
 * body get it at hop 1). Ministry information goes to the coordinator. "delivered" is
 * the recipient fetching it (inbox pull), "read" its explicit read receipt.
 *
 * Why not the notice outbox (store_notices.c, notify_webhook.c): a notice has one
 * recipient member and one webhook per member, and its delivery table is keyed by
 * notice; sharing items fan out over organizations that have no webhook, and what the
 * coordinator needs is per-hop delivery and read state, which the pull inbox gives
 * without a second worker. A webhook push for items can be added to the outbox later. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "center/store_impl.h"
#include "center/store_incidents.h"
#include "common/timefmt.h"
#include "common/banned.h"

enum viewer { V_COORD, V_MEMBER, V_ORG, V_NONE };

static enum viewer viewer_of(const struct cw_principal *w)
{
    switch (w->role) {
    case CW_ROLE_COORD_ADMIN:
    case CW_ROLE_COORD_ANALYST: return V_COORD;
    case CW_ROLE_MEMBER_ADMIN:
    case CW_ROLE_MEMBER_USER: return w->member_id ? V_MEMBER : V_NONE;
    case CW_ROLE_SECTOR_USER:
    case CW_ROLE_MINISTRY_USER: return w->org_id ? V_ORG : V_NONE;
    default: return V_NONE;
    }
}

/* Visibility conditions; parameters ?10 viewer kind, ?11 member, ?12 org. */
#define INC_VISIBLE                                                                          \
    "(?10 = 0 OR (?10 = 1 AND i.member_id = ?11) OR (?10 = 2 AND i.sector_id IN"            \
    " (SELECT sector_id FROM org_sectors WHERE org_id = ?12)))"
#define ITEM_VISIBLE                                                                         \
    "(?10 = 0 OR (?10 = 1 AND EXISTS(SELECT 1 FROM receipts r WHERE r.incident = 0 AND"      \
    " r.item_id = x.id AND r.to_member = ?11)) OR (?10 = 2 AND (x.org_id = ?12 OR"           \
    " EXISTS(SELECT 1 FROM receipts r WHERE r.incident = 0 AND r.item_id = x.id AND"         \
    " r.to_org = ?12))))"
/* The receipt row addressed to the viewer: ?10 kind, ?11 member, ?12 org. */
#define RECEIPT_MINE                                                                         \
    "((?10 = 0 AND to_org = 0 AND to_member = 0) OR (?10 = 1 AND to_member = ?11) OR"        \
    " (?10 = 2 AND to_org = ?12))"

static void bind_viewer(sqlite3_stmt *st, const struct cw_principal *w)
{
    sqlite3_bind_int(st, 10, (int)viewer_of(w));
    sqlite3_bind_int64(st, 11, w->member_id);
    sqlite3_bind_int64(st, 12, w->org_id);
}

static int step_done(struct cw_store *s, sqlite3_stmt *st, char *err, size_t errlen)
{
    if (sqlite3_step(st) == SQLITE_DONE)
        return 0;
    snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(s->w));
    return -1;
}

/* Run a write statement with up to 6 integer arguments. */
static int exec_ints(struct cw_store *s, const char *sql, const int64_t *a, int n, char *err,
                     size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int rc = cw_store_prep(s->w, &st, sql, err, errlen);
    for (int i = 0; !rc && i < n; i++)
        sqlite3_bind_int64(st, i + 1, a[i]);
    if (!rc)
        rc = step_done(s, st, err, errlen);
    sqlite3_finalize(st);
    return rc;
}

static void history(struct cw_store *s, int64_t id, const char *actor, const char *change)
{
    sqlite3_stmt *st = NULL;
    char err[64];
    if (cw_store_prep(s->w, &st,
                      "INSERT INTO incident_history(incident_id, at_us, actor, change)"
                      " VALUES(?,?,?,?)",
                      err, sizeof(err)) == 0) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, cw_now_us());
        sqlite3_bind_text(st, 3, actor, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, change, -1, SQLITE_TRANSIENT);
        sqlite3_step(st);
    }
    sqlite3_finalize(st);
}

static const char *const statuses[] = {"reported", "investigating", "contained", "recovered",
                                       "closed", NULL};

bool cw_incident_status_valid(const char *status)
{
    for (int i = 0; status && statuses[i]; i++)
        if (!strcmp(statuses[i], status))
            return true;
    return false;
}

static int check_codes(const struct cw_incident_new *n, char *err, size_t errlen)
{
    if (n->event && !cw_tax_find(CW_TAX_EVENT, n->event, NULL)) {
        snprintf(err, errlen, "unknown event code '%.40s' (GET /api/v1/incident-taxonomy)",
                 n->event);
        return CW_STORE_INVALID;
    }
    if (n->attack && !cw_tax_find(CW_TAX_ATTACK, n->attack, NULL)) {
        snprintf(err, errlen, "unknown attack kind '%.40s' (GET /api/v1/incident-taxonomy)",
                 n->attack);
        return CW_STORE_INVALID;
    }
    if (n->ncauses > CW_TAX_MAX_CAUSES) {
        snprintf(err, errlen, "at most %d causes", CW_TAX_MAX_CAUSES);
        return CW_STORE_INVALID;
    }
    size_t idx[CW_TAX_MAX_CAUSES];
    for (size_t i = 0; i < n->ncauses; i++) {
        if (!cw_tax_find(CW_TAX_CAUSE, n->causes[i], &idx[i])) {
            snprintf(err, errlen, "unknown cause code '%.40s' (GET /api/v1/incident-taxonomy)",
                     n->causes[i]);
            return CW_STORE_INVALID;
        }
        for (size_t k = 0; k < i; k++)
            if (idx[k] == idx[i]) {
                snprintf(err, errlen, "cause '%.40s' given twice", n->causes[i]);
                return CW_STORE_INVALID;
            }
    }
    return 0;
}

/* Existing id of a ref in table (0 when none). Writer connection, lock held. */
static int64_t ref_id(struct cw_store *s, const char *table, const char *ref)
{
    if (!ref)
        return 0;
    char sql[96], err[64];
    snprintf(sql, sizeof(sql), "SELECT id FROM %s WHERE ref = ?", table);
    sqlite3_stmt *st = NULL;
    int64_t id = 0;
    if (cw_store_prep(s->w, &st, sql, err, sizeof(err)) == 0) {
        sqlite3_bind_text(st, 1, ref, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW)
            id = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return id;
}

static int set_causes(struct cw_store *s, int64_t id, int32_t fq, const char *const *causes,
                      size_t n, char *err, size_t errlen)
{
    int64_t a[1] = {id};
    if (exec_ints(s, "DELETE FROM incident_causes WHERE incident_id = ?", a, 1, err, errlen))
        return -1;
    sqlite3_stmt *st = NULL;
    int rc = cw_store_prep(s->w, &st,
                           "INSERT INTO incident_causes(incident_id, cause_code, fq)"
                           " VALUES(?,?,?)",
                           err, errlen);
    for (size_t i = 0; !rc && i < n; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, cw_tax_find(CW_TAX_CAUSE, causes[i], NULL)->code, -1,
                          SQLITE_STATIC);
        sqlite3_bind_int(st, 3, fq);
        rc = step_done(s, st, err, errlen);
    }
    sqlite3_finalize(st);
    return rc;
}

/* One incident; writer lock held, inside a transaction. */
static int insert_incident(struct cw_store *s, const struct cw_incident_new *n, int64_t *id,
                           bool *dup, char *err, size_t errlen)
{
    int rc = check_codes(n, err, errlen);
    if (rc)
        return rc;
    *dup = false;
    if ((*id = ref_id(s, "incidents", n->ref)) != 0) {
        *dup = true;
        return 0;
    }
    int32_t fq = cw_fiscal_quarter(n->reported_us);
    sqlite3_stmt *st = NULL;
    rc = cw_store_prep(s->w, &st,
                       "INSERT INTO incidents(member_id, sector_id, ref, title, what, systems,"
                       " occurred_us, reported_us, fq, status, event_code, attack_code,"
                       " created_by, updated_us) SELECT m.id, (SELECT sector_id FROM"
                       " member_sectors WHERE member_id = m.id), ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
                       " 'reported', ?9, ?10, ?11, ?12 FROM members m WHERE m.id = ?1",
                       err, errlen);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, n->member_id);
    sqlite3_bind_text(st, 2, n->ref, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, n->title, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, n->what, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, n->systems, -1, SQLITE_TRANSIENT);
    if (n->occurred_us)
        sqlite3_bind_int64(st, 6, n->occurred_us);
    sqlite3_bind_int64(st, 7, n->reported_us);
    sqlite3_bind_int(st, 8, fq);
    if (n->event)
        sqlite3_bind_text(st, 9, cw_tax_find(CW_TAX_EVENT, n->event, NULL)->code, -1,
                          SQLITE_STATIC);
    if (n->attack)
        sqlite3_bind_text(st, 10, cw_tax_find(CW_TAX_ATTACK, n->attack, NULL)->code, -1,
                          SQLITE_STATIC);
    sqlite3_bind_text(st, 11, n->actor, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 12, cw_now_us());
    rc = step_done(s, st, err, errlen);
    sqlite3_finalize(st);
    if (rc)
        return rc;
    if (sqlite3_changes(s->w) == 0) {
        snprintf(err, errlen, "no such member");
        return CW_STORE_NOT_FOUND;
    }
    *id = sqlite3_last_insert_rowid(s->w);
    if (n->ncauses && set_causes(s, *id, fq, n->causes, n->ncauses, err, errlen))
        return -1;
    history(s, *id, n->actor, "reported");
    if (!n->flow)
        return 0;
    /* the reporting line: the sector's ministries, else the coordinator directly */
    int64_t a[2] = {*id, cw_now_us()};
    return exec_ints(s,
                     "INSERT OR IGNORE INTO receipts(incident, item_id, hop, to_org, to_member,"
                     " via_org, created_us) SELECT 1, ?1, 1, o.id, 0, 0, ?2 FROM incidents i"
                     " JOIN org_sectors os ON os.sector_id = i.sector_id JOIN orgs o ON o.id ="
                     " os.org_id AND o.kind = 'ministry' WHERE i.id = ?1"
                     " UNION ALL SELECT 1, ?1, 1, 0, 0, 0, ?2 WHERE NOT EXISTS(SELECT 1 FROM"
                     " incidents i JOIN org_sectors os ON os.sector_id = i.sector_id JOIN orgs"
                     " o ON o.id = os.org_id AND o.kind = 'ministry' WHERE i.id = ?1)",
                     a, 2, err, errlen);
}

static bool item_kind_valid(const char *k)
{
    return k && (!strcmp(k, "alert") || !strcmp(k, "advisory") || !strcmp(k, "ministry_info"));
}

/* Receipts of a new coordinator alert: sector bodies of the target sectors, and the
 * members of target sectors no sector body covers. */
static int alert_receipts(struct cw_store *s, int64_t id, char *err, size_t errlen)
{
    int64_t a[2] = {id, cw_now_us()};
    static const char targets[] =
        " (NOT EXISTS(SELECT 1 FROM item_sectors WHERE item_id = ?1) OR %s IN"
        " (SELECT sector_id FROM item_sectors WHERE item_id = ?1))";
    char sql[1600], t1[256], t2[256];
    snprintf(t1, sizeof(t1), targets, "os.sector_id");
    snprintf(t2, sizeof(t2), targets, "COALESCE(ms.sector_id, -1)");
    snprintf(sql, sizeof(sql),
             "INSERT OR IGNORE INTO receipts(incident, item_id, hop, to_org, to_member, via_org,"
             " created_us) SELECT DISTINCT 0, ?1, 1, o.id, 0, 0, ?2 FROM orgs o JOIN org_sectors"
             " os ON os.org_id = o.id WHERE o.kind = 'sector_body' AND%s"
             " UNION SELECT 0, ?1, 1, 0, m.id, 0, ?2 FROM members m LEFT JOIN member_sectors ms"
             " ON ms.member_id = m.id WHERE%s AND NOT EXISTS(SELECT 1 FROM org_sectors y JOIN"
             " orgs z ON z.id = y.org_id AND z.kind = 'sector_body' WHERE y.sector_id ="
             " ms.sector_id)",
             t1, t2);
    return exec_ints(s, sql, a, 2, err, errlen);
}

static int insert_item(struct cw_store *s, const struct cw_item_new *n, int64_t *id, bool *dup,
                       char *err, size_t errlen)
{
    if (!item_kind_valid(n->kind)) {
        snprintf(err, errlen, "kind must be alert, advisory or ministry_info");
        return CW_STORE_INVALID;
    }
    *dup = false;
    if ((*id = ref_id(s, "shared_items", n->ref)) != 0) {
        *dup = true;
        return 0;
    }
    sqlite3_stmt *st = NULL;
    int rc = cw_store_prep(s->w, &st,
                           "INSERT INTO shared_items(kind, org_id, ref, title, body, sent_us, fq,"
                           " created_by) VALUES(?,?,?,?,?,?,?,?)",
                           err, errlen);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, n->kind, -1, SQLITE_TRANSIENT);
    if (n->org_id)
        sqlite3_bind_int64(st, 2, n->org_id);
    sqlite3_bind_text(st, 3, n->ref, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, n->title, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, n->body, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 6, n->sent_us);
    sqlite3_bind_int(st, 7, cw_fiscal_quarter(n->sent_us));
    sqlite3_bind_text(st, 8, n->actor, -1, SQLITE_TRANSIENT);
    rc = step_done(s, st, err, errlen);
    sqlite3_finalize(st);
    if (rc)
        return rc;
    *id = sqlite3_last_insert_rowid(s->w);
    for (size_t i = 0; !rc && i < n->nsectors; i++) {
        int64_t a[2] = {*id, n->sectors[i]};
        rc = exec_ints(s, "INSERT OR IGNORE INTO item_sectors(item_id, sector_id) VALUES(?,?)",
                       a, 2, err, errlen);
    }
    if (rc || !n->flow)
        return rc;
    if (!strcmp(n->kind, "ministry_info")) {
        int64_t a[2] = {*id, cw_now_us()};
        return exec_ints(s,
                         "INSERT INTO receipts(incident, item_id, hop, to_org, to_member,"
                         " via_org, created_us) VALUES(0, ?1, 1, 0, 0, 0, ?2)",
                         a, 2, err, errlen);
    }
    return alert_receipts(s, *id, err, errlen);
}

/* BEGIN / COMMIT or ROLLBACK around fn, under the write lock. */
static int in_tx(struct cw_store *s, int rc_body, bool begun)
{
    if (begun)
        sqlite3_exec(s->w, rc_body ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
    pthread_mutex_unlock(&s->wlock);
    return rc_body;
}

static bool begin(struct cw_store *s, char *err, size_t errlen)
{
    pthread_mutex_lock(&s->wlock);
    if (sqlite3_exec(s->w, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(s->w));
        return false;
    }
    return true;
}

int cw_store_incident_create(struct cw_store *s, const struct cw_incident_new *n, int64_t *id,
                             bool *duplicate, char *err, size_t errlen)
{
    if (!begin(s, err, errlen))
        return in_tx(s, -1, false);
    return in_tx(s, insert_incident(s, n, id, duplicate, err, errlen), true);
}

int cw_store_item_create(struct cw_store *s, const struct cw_item_new *n, int64_t *id,
                         bool *duplicate, char *err, size_t errlen)
{
    if (!begin(s, err, errlen))
        return in_tx(s, -1, false);
    return in_tx(s, insert_item(s, n, id, duplicate, err, errlen), true);
}

int cw_store_sharing_import(struct cw_store *s, const struct cw_incident_new *inc, size_t ninc,
                            const struct cw_item_new *items, size_t nitems, size_t *added,
                            size_t *duplicates, size_t *bad, char *err, size_t errlen)
{
    *added = *duplicates = *bad = 0;
    if (!begin(s, err, errlen))
        return in_tx(s, -1, false);
    int rc = 0;
    for (size_t i = 0; !rc && i < ninc + nitems; i++) {
        int64_t id;
        bool dup;
        rc = i < ninc ? insert_incident(s, &inc[i], &id, &dup, err, errlen)
                      : insert_item(s, &items[i - ninc], &id, &dup, err, errlen);
        if (rc)
            *bad = i;
        else if (dup)
            (*duplicates)++;
        else
            (*added)++;
    }
    if (rc)
        *added = *duplicates = 0;
    return in_tx(s, rc, true);
}

/* ------------------------------------------------------------------ reads */

/* "C01,C12" as a JSON array */
static void jlist(struct cw_buf *out, const char *key, sqlite3_stmt *st, int col)
{
    const char *v = (const char *)sqlite3_column_text(st, col);
    cw_buf_addf(out, ",\"%s\":[", key);
    for (int k = 0; v && *v; k++) {
        size_t l = strcspn(v, ",");
        cw_buf_adds(out, k ? "," : "");
        cw_buf_add_json_str(out, v, l);
        v += l + (v[l] == ',');
    }
    cw_buf_addc(out, ']');
}

#define INC_COLS                                                                             \
    "i.id, i.ref, i.member_id, m.name, sc.code, i.title, i.what, i.systems, i.occurred_us,"  \
    " i.reported_us, i.fq, i.status, i.event_code, (SELECT group_concat(cause_code, ',')"    \
    " FROM (SELECT cause_code FROM incident_causes WHERE incident_id = i.id ORDER BY"        \
    " cause_code)), i.attack_code, i.created_by, i.updated_us FROM incidents i JOIN members" \
    " m ON m.id = i.member_id LEFT JOIN sectors sc ON sc.id = i.sector_id"

static void incident_row(struct cw_buf *out, sqlite3_stmt *st)
{
    int fq = sqlite3_column_int(st, 10);
    cw_buf_addf(out, "{\"id\":%lld", (long long)sqlite3_column_int64(st, 0));
    cw_store_json_text(out, "ref", st, 1);
    cw_buf_addf(out, ",\"member_id\":%lld", (long long)sqlite3_column_int64(st, 2));
    cw_store_json_text(out, "member", st, 3);
    cw_store_json_text(out, "sector", st, 4);
    cw_store_json_text(out, "title", st, 5);
    cw_store_json_text(out, "what", st, 6);
    cw_store_json_text(out, "systems", st, 7);
    cw_store_json_time(out, "occurred", st, 8);
    cw_store_json_time(out, "reported", st, 9);
    cw_buf_addf(out, ",\"fiscal_year\":%d,\"quarter\":%d", fq / 4, fq % 4 + 1);
    cw_store_json_text(out, "status", st, 11);
    cw_store_json_text(out, "event", st, 12);
    jlist(out, "causes", st, 13);
    cw_store_json_text(out, "attack", st, 14);
    cw_store_json_text(out, "created_by", st, 15);
    cw_store_json_time(out, "updated", st, 16);
}

/* Delivery receipts: the viewer fetched these (its inbox). Writer; best effort. */
static void mark_delivered(struct cw_store *s, const struct cw_principal *who, int incident,
                           int64_t id)
{
    if (viewer_of(who) == V_NONE)
        return;
    char err[64];
    sqlite3_stmt *st = NULL;
    pthread_mutex_lock(&s->wlock);
    if (cw_store_prep(s->w, &st,
                      "UPDATE receipts SET delivered_us = ?1 WHERE delivered_us IS NULL AND"
                      " incident = ?2 AND (?3 = 0 OR item_id = ?3) AND " RECEIPT_MINE,
                      err, sizeof(err)) == 0) {
        sqlite3_bind_int64(st, 1, cw_now_us());
        sqlite3_bind_int(st, 2, incident);
        sqlite3_bind_int64(st, 3, id);
        bind_viewer(st, who);
        sqlite3_step(st);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->wlock);
}

int cw_store_incidents_json(struct cw_store *s, const struct cw_principal *who,
                            const struct cw_incident_filter *f, struct cw_buf *out, char *err,
                            size_t errlen)
{
    mark_delivered(s, who, 1, 0);
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    int rc = cw_store_prep(rd, &st,
                           "SELECT " INC_COLS " WHERE " INC_VISIBLE " AND (?1 = 0 OR"
                           " i.member_id = ?1) AND (?2 = 0 OR i.fq BETWEEN ?2 * 4 AND ?2 * 4 + 3)"
                           " AND (?3 IS NULL OR i.status = ?3) AND i.id > ?4 ORDER BY i.id"
                           " LIMIT ?5",
                           err, errlen);
    if (!rc) {
        sqlite3_bind_int64(st, 1, f->member_id);
        sqlite3_bind_int(st, 2, f->fy);
        sqlite3_bind_text(st, 3, f->status, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, f->after_id);
        sqlite3_bind_int(st, 5, f->limit);
        bind_viewer(st, who);
        int64_t last = 0;
        int n = 0;
        cw_buf_adds(out, "{\"incidents\":[");
        while (sqlite3_step(st) == SQLITE_ROW) {
            cw_buf_adds(out, n++ ? "," : "");
            incident_row(out, st);
            cw_buf_addc(out, '}');
            last = sqlite3_column_int64(st, 0);
        }
        cw_buf_addf(out, "],\"next_after\":%lld}\n", (long long)(n == f->limit ? last : 0));
    }
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return rc;
}

/* Receipts of one incident/item that the viewer may see: the coordinator all, others
 * their own and those they forwarded. On the caller's reader. */
static void receipts_json(sqlite3 *rd, const struct cw_principal *who, int incident,
                          int64_t id, struct cw_buf *out)
{
    char err[64];
    sqlite3_stmt *st = NULL;
    cw_buf_adds(out, ",\"receipts\":[");
    if (cw_store_prep(rd, &st,
                      "SELECT r.hop, CASE WHEN r.to_member THEN 'member' WHEN r.to_org THEN"
                      " o.kind ELSE 'coordinator' END, COALESCE(m.name, o.name, 'coordinator'),"
                      " CASE WHEN r.via_org THEN (SELECT name FROM orgs WHERE id = r.via_org)"
                      " END, r.created_us, r.delivered_us, r.read_us, r.read_by,"
                      " r.forwarded_us, r.forwarded_by FROM receipts r LEFT JOIN orgs o ON"
                      " o.id = r.to_org AND r.to_org LEFT JOIN members m ON m.id = r.to_member"
                      " AND r.to_member WHERE r.incident = ?1 AND r.item_id = ?2 AND (?10 = 0"
                      " OR (?10 = 1 AND r.to_member = ?11) OR (?10 = 2 AND (r.to_org = ?12 OR"
                      " r.via_org = ?12))"
                      /* the sender follows its own report / information up the line */
                      " OR (?10 = 1 AND ?1 = 1 AND EXISTS(SELECT 1 FROM incidents i WHERE"
                      " i.id = ?2 AND i.member_id = ?11)) OR (?10 = 2 AND ?1 = 0 AND"
                      " EXISTS(SELECT 1 FROM shared_items x WHERE x.id = ?2 AND x.org_id ="
                      " ?12))) ORDER BY r.hop, r.id",
                      err, sizeof(err)) == 0) {
        sqlite3_bind_int(st, 1, incident);
        sqlite3_bind_int64(st, 2, id);
        bind_viewer(st, who);
        for (int n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
            cw_buf_addf(out, "%s{\"hop\":%d", n ? "," : "", sqlite3_column_int(st, 0));
            cw_store_json_text(out, "to_kind", st, 1);
            cw_store_json_text(out, "to", st, 2);
            cw_store_json_text(out, "via", st, 3);
            cw_store_json_time(out, "sent", st, 4);
            cw_store_json_time(out, "delivered", st, 5);
            cw_store_json_time(out, "read", st, 6);
            cw_store_json_text(out, "read_by", st, 7);
            cw_store_json_time(out, "forwarded", st, 8);
            cw_store_json_text(out, "forwarded_by", st, 9);
            cw_buf_addc(out, '}');
        }
    }
    sqlite3_finalize(st);
    cw_buf_addc(out, ']');
}

int cw_store_incident_json(struct cw_store *s, const struct cw_principal *who, int64_t id,
                           struct cw_buf *out, char *err, size_t errlen)
{
    mark_delivered(s, who, 1, id);
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    int rc = cw_store_prep(rd, &st, "SELECT " INC_COLS " WHERE i.id = ?1 AND " INC_VISIBLE,
                           err, errlen);
    if (!rc) {
        sqlite3_bind_int64(st, 1, id);
        bind_viewer(st, who);
        if (sqlite3_step(st) != SQLITE_ROW) {
            snprintf(err, errlen, "no such incident");
            rc = CW_STORE_NOT_FOUND;
        } else {
            incident_row(out, st);
        }
    }
    sqlite3_finalize(st);
    st = NULL;
    if (!rc && !cw_store_prep(rd, &st,
                              "SELECT at_us, actor, change FROM incident_history WHERE"
                              " incident_id = ? ORDER BY id",
                              err, errlen)) {
        sqlite3_bind_int64(st, 1, id);
        cw_buf_adds(out, ",\"history\":[");
        for (int n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
            char t[40];
            cw_time_format_iso(sqlite3_column_int64(st, 0), t);
            cw_buf_addf(out, "%s{\"at\":\"%s\"", n ? "," : "", t);
            cw_store_json_text(out, "actor", st, 1);
            cw_store_json_text(out, "change", st, 2);
            cw_buf_addc(out, '}');
        }
        cw_buf_addc(out, ']');
        receipts_json(rd, who, 1, id, out);
        cw_buf_adds(out, "}\n");
    }
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return rc;
}

/* ------------------------------------------------------------------ changes */

/* Member and status of a visible incident (writer, lock held). */
static int incident_state(struct cw_store *s, const struct cw_principal *who, int64_t id,
                          uint32_t *member, char *status, size_t cap, int32_t *fq, char *err,
                          size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int rc = cw_store_prep(s->w, &st,
                           "SELECT i.member_id, i.status, i.fq FROM incidents i WHERE i.id = ?1"
                           " AND " INC_VISIBLE,
                           err, errlen);
    if (!rc) {
        sqlite3_bind_int64(st, 1, id);
        bind_viewer(st, who);
        if (sqlite3_step(st) == SQLITE_ROW) {
            *member = (uint32_t)sqlite3_column_int64(st, 0);
            snprintf(status, cap, "%s", (const char *)sqlite3_column_text(st, 1));
            *fq = sqlite3_column_int(st, 2);
        } else {
            snprintf(err, errlen, "no such incident");
            rc = CW_STORE_NOT_FOUND;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

int cw_store_incident_update(struct cw_store *s, const struct cw_principal *who, int64_t id,
                             const char *status, const char *note, char *err, size_t errlen)
{
    if (status && !cw_incident_status_valid(status)) {
        snprintf(err, errlen, "status must be reported, investigating, contained, recovered "
                              "or closed");
        return CW_STORE_INVALID;
    }
    if (!status && !note) {
        snprintf(err, errlen, "give a status, a note or both");
        return CW_STORE_INVALID;
    }
    if (!begin(s, err, errlen))
        return in_tx(s, -1, false);
    uint32_t member;
    char old[32];
    int32_t fq;
    int rc = incident_state(s, who, id, &member, old, sizeof(old), &fq, err, errlen);
    if (!rc && viewer_of(who) == V_ORG) {
        snprintf(err, errlen, "only the reporting member and the coordinator update an "
                              "incident");
        rc = CW_STORE_DENIED;
    }
    if (!rc) {
        sqlite3_stmt *st = NULL;
        rc = cw_store_prep(s->w, &st,
                           "UPDATE incidents SET status = COALESCE(?2, status), updated_us = ?3"
                           " WHERE id = ?1",
                           err, errlen);
        if (!rc) {
            sqlite3_bind_int64(st, 1, id);
            sqlite3_bind_text(st, 2, status, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(st, 3, cw_now_us());
            rc = step_done(s, st, err, errlen);
        }
        sqlite3_finalize(st);
    }
    if (!rc) {
        char change[CW_INC_TEXT_MAX + 128];
        snprintf(change, sizeof(change), "status %s -> %s%s%s", old, status ? status : old,
                 note ? ": " : "", note ? note : "");
        history(s, id, who->name, change);
    }
    return in_tx(s, rc, true);
}

int cw_store_incident_classify(struct cw_store *s, int64_t id, const char *event,
                               bool causes_given, const char *const *causes, size_t ncauses,
                               const char *attack, const char *actor, char *err,
                               size_t errlen)
{
    struct cw_incident_new chk = {0};
    chk.event = event;
    chk.attack = attack && *attack ? attack : NULL;
    chk.ncauses = ncauses;
    for (size_t i = 0; i < ncauses && i < CW_TAX_MAX_CAUSES; i++)
        chk.causes[i] = causes[i];
    int rc = check_codes(&chk, err, errlen);
    if (rc)
        return rc;
    if (!begin(s, err, errlen))
        return in_tx(s, -1, false);
    struct cw_principal coord = {.role = CW_ROLE_COORD_ADMIN};
    uint32_t member;
    char old[32];
    int32_t fq;
    rc = incident_state(s, &coord, id, &member, old, sizeof(old), &fq, err, errlen);
    sqlite3_stmt *st = NULL;
    if (!rc)
        rc = cw_store_prep(s->w, &st,
                           "UPDATE incidents SET event_code = CASE WHEN ?2 IS NULL THEN"
                           " event_code ELSE ?2 END, attack_code = CASE WHEN ?3 IS NULL THEN"
                           " attack_code WHEN ?3 = '' THEN NULL ELSE ?3 END, updated_us = ?4"
                           " WHERE id = ?1",
                           err, errlen);
    if (!rc) {
        sqlite3_bind_int64(st, 1, id);
        if (event)
            sqlite3_bind_text(st, 2, cw_tax_find(CW_TAX_EVENT, event, NULL)->code, -1,
                              SQLITE_STATIC);
        if (attack)
            sqlite3_bind_text(st, 3, *attack ? cw_tax_find(CW_TAX_ATTACK, attack, NULL)->code
                                             : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, cw_now_us());
        rc = step_done(s, st, err, errlen);
    }
    sqlite3_finalize(st);
    if (!rc && causes_given)
        rc = set_causes(s, id, fq, causes, ncauses, err, errlen);
    if (!rc) {
        char change[512];
        size_t o = (size_t)snprintf(change, sizeof(change), "classified:");
        if (event)
            o += (size_t)snprintf(change + o, sizeof(change) - o, " event %s",
                                  cw_tax_find(CW_TAX_EVENT, event, NULL)->code);
        if (causes_given) {
            o += (size_t)snprintf(change + o, sizeof(change) - o, " causes");
            for (size_t i = 0; i < ncauses && o < sizeof(change); i++)
                o += (size_t)snprintf(change + o, sizeof(change) - o, "%s%s", i ? "," : " ",
                                      cw_tax_find(CW_TAX_CAUSE, causes[i], NULL)->code);
        }
        if (attack && o < sizeof(change))
            snprintf(change + o, sizeof(change) - o, " attack %s",
                     *attack ? cw_tax_find(CW_TAX_ATTACK, attack, NULL)->code : "none");
        history(s, id, actor, change);
    }
    return in_tx(s, rc, true);
}

#define ITEM_COLS                                                                            \
    "x.id, x.kind, x.ref, o.name, x.title, x.body, x.sent_us, x.fq, x.created_by,"          \
    " (SELECT group_concat(code, ',') FROM (SELECT sc.code FROM item_sectors y JOIN sectors" \
    " sc ON sc.id = y.sector_id WHERE y.item_id = x.id ORDER BY sc.code))"                   \
    " FROM shared_items x LEFT JOIN orgs o ON o.id = x.org_id"

static void item_row(struct cw_buf *out, sqlite3_stmt *st)
{
    int fq = sqlite3_column_int(st, 7);
    cw_buf_addf(out, "{\"id\":%lld", (long long)sqlite3_column_int64(st, 0));
    cw_store_json_text(out, "kind", st, 1);
    cw_store_json_text(out, "ref", st, 2);
    cw_store_json_text(out, "from_org", st, 3);
    cw_store_json_text(out, "title", st, 4);
    cw_store_json_text(out, "body", st, 5);
    cw_store_json_time(out, "sent", st, 6);
    cw_buf_addf(out, ",\"fiscal_year\":%d,\"quarter\":%d", fq / 4, fq % 4 + 1);
    cw_store_json_text(out, "created_by", st, 8);
    jlist(out, "sectors", st, 9);
}

int cw_store_items_json(struct cw_store *s, const struct cw_principal *who, const char *kind,
                        int64_t after_id, int limit, struct cw_buf *out, char *err,
                        size_t errlen)
{
    mark_delivered(s, who, 0, 0);
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    int rc = cw_store_prep(rd, &st,
                           "SELECT " ITEM_COLS " WHERE " ITEM_VISIBLE " AND (?1 IS NULL OR"
                           " x.kind = ?1) AND x.id > ?2 ORDER BY x.id LIMIT ?3",
                           err, errlen);
    if (!rc) {
        sqlite3_bind_text(st, 1, kind, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, after_id);
        sqlite3_bind_int(st, 3, limit);
        bind_viewer(st, who);
        int64_t last = 0;
        int n = 0;
        cw_buf_adds(out, "{\"alerts\":[");
        while (sqlite3_step(st) == SQLITE_ROW) {
            cw_buf_adds(out, n++ ? "," : "");
            item_row(out, st);
            cw_buf_addc(out, '}');
            last = sqlite3_column_int64(st, 0);
        }
        cw_buf_addf(out, "],\"next_after\":%lld}\n", (long long)(n == limit ? last : 0));
    }
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return rc;
}

int cw_store_item_json(struct cw_store *s, const struct cw_principal *who, int64_t id,
                       struct cw_buf *out, char *err, size_t errlen)
{
    mark_delivered(s, who, 0, id);
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    int rc = cw_store_prep(rd, &st, "SELECT " ITEM_COLS " WHERE x.id = ?1 AND " ITEM_VISIBLE,
                           err, errlen);
    if (!rc) {
        sqlite3_bind_int64(st, 1, id);
        bind_viewer(st, who);
        if (sqlite3_step(st) != SQLITE_ROW) {
            snprintf(err, errlen, "no such alert");
            rc = CW_STORE_NOT_FOUND;
        } else {
            item_row(out, st);
            receipts_json(rd, who, 0, id, out);
            cw_buf_adds(out, "}\n");
        }
    }
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return rc;
}

/* Is it visible at all? (writer, lock held) */
static bool visible(struct cw_store *s, const struct cw_principal *who, bool incident,
                    int64_t id)
{
    char err[64];
    sqlite3_stmt *st = NULL;
    bool yes = false;
    if (cw_store_prep(s->w, &st,
                      incident ? "SELECT 1 FROM incidents i WHERE i.id = ?1 AND " INC_VISIBLE
                               : "SELECT 1 FROM shared_items x WHERE x.id = ?1 AND " ITEM_VISIBLE,
                      err, sizeof(err)) == 0) {
        sqlite3_bind_int64(st, 1, id);
        bind_viewer(st, who);
        yes = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return yes;
}

int cw_store_receipt_act(struct cw_store *s, const struct cw_principal *who, bool incident,
                         int64_t id, enum cw_receipt_action a, char *err, size_t errlen)
{
    const char *what = incident ? "incident" : "alert";
    if (!begin(s, err, errlen))
        return in_tx(s, -1, false);
    if (!visible(s, who, incident, id)) {
        snprintf(err, errlen, "no such %s", what);
        return in_tx(s, CW_STORE_NOT_FOUND, true);
    }
    sqlite3_stmt *st = NULL;
    int64_t rid = 0, read_us = 0, fwd_us = 0;
    int rc = cw_store_prep(s->w, &st,
                           "SELECT id, COALESCE(read_us, 0), COALESCE(forwarded_us, 0) FROM"
                           " receipts WHERE incident = ?1 AND item_id = ?2 AND " RECEIPT_MINE,
                           err, errlen);
    if (!rc) {
        sqlite3_bind_int(st, 1, incident);
        sqlite3_bind_int64(st, 2, id);
        bind_viewer(st, who);
        if (sqlite3_step(st) == SQLITE_ROW) {
            rid = sqlite3_column_int64(st, 0);
            read_us = sqlite3_column_int64(st, 1);
            fwd_us = sqlite3_column_int64(st, 2);
        }
    }
    sqlite3_finalize(st);
    if (rc)
        return in_tx(s, rc, true);
    enum viewer v = viewer_of(who);
    bool may_forward = v == V_ORG && ((incident && who->role == CW_ROLE_MINISTRY_USER) ||
                                      (!incident && who->role == CW_ROLE_SECTOR_USER));
    if (!rid) {
        snprintf(err, errlen, "this %s was not sent to your organization", what);
        return in_tx(s, CW_STORE_DENIED, true);
    }
    if (a == CW_RECEIPT_FORWARD && !may_forward) {
        snprintf(err, errlen, incident ? "only a ministry forwards a report to the coordinator"
                                       : "only a sector body forwards an alert to its members");
        return in_tx(s, CW_STORE_DENIED, true);
    }
    if (a == CW_RECEIPT_READ ? read_us != 0 : fwd_us != 0) {
        char t[40];
        cw_time_format_iso(a == CW_RECEIPT_READ ? read_us : fwd_us, t);
        snprintf(err, errlen, "this %s was already %s at %s", what,
                 a == CW_RECEIPT_READ ? "read" : "forwarded", t);
        return in_tx(s, CW_STORE_BAD_TRANSITION, true);
    }
    rc = cw_store_prep(s->w, &st,
                       a == CW_RECEIPT_READ
                           ? "UPDATE receipts SET read_us = ?2, read_by = ?3, delivered_us ="
                             " COALESCE(delivered_us, ?2) WHERE id = ?1"
                           : "UPDATE receipts SET forwarded_us = ?2, forwarded_by = ?3,"
                             " delivered_us = COALESCE(delivered_us, ?2) WHERE id = ?1",
                       err, errlen);
    int64_t now = cw_now_us();
    if (!rc) {
        sqlite3_bind_int64(st, 1, rid);
        sqlite3_bind_int64(st, 2, now);
        sqlite3_bind_text(st, 3, who->name, -1, SQLITE_TRANSIENT);
        rc = step_done(s, st, err, errlen);
    }
    sqlite3_finalize(st);
    if (!rc && a == CW_RECEIPT_FORWARD) {
        int64_t args[3] = {id, who->org_id, now};
        /* the next hop; OR IGNORE: a second ministry forwarding the same report does not
         * give the coordinator a second receipt */
        rc = exec_ints(s,
                       incident ? "INSERT OR IGNORE INTO receipts(incident, item_id, hop, to_org,"
                                  " to_member, via_org, created_us) VALUES(1, ?1, 2, 0, 0, ?2, ?3)"
                                : "INSERT OR IGNORE INTO receipts(incident, item_id, hop, to_org,"
                                  " to_member, via_org, created_us) SELECT 0, ?1, 2, 0,"
                                  " ms.member_id, ?2, ?3 FROM member_sectors ms JOIN org_sectors"
                                  " os ON os.sector_id = ms.sector_id AND os.org_id = ?2 WHERE"
                                  " NOT EXISTS(SELECT 1 FROM item_sectors WHERE item_id = ?1) OR"
                                  " ms.sector_id IN (SELECT sector_id FROM item_sectors WHERE"
                                  " item_id = ?1)",
                       args, 3, err, errlen);
    }
    if (!rc && incident) {
        char change[128];
        snprintf(change, sizeof(change), "%s by %s", a == CW_RECEIPT_READ ? "read" : "forwarded",
                 v == V_COORD ? "the coordinator" : "a ministry");
        history(s, id, who->name, change);
    }
    return in_tx(s, rc, true);
}
