/* store_orgs.c - the sharing system's tables, sectors, sharing organizations (sector
 * bodies, ministries) and their users (see store_incidents.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "center/store_impl.h"
#include "center/store_incidents.h"
#include "common/timefmt.h"
#include "common/banned.h"

/* fq columns hold the fiscal quarter (incident_taxonomy.h) computed once at insert,
 * so the statistics are index range scans grouped by small integers. */
static const char incidents_schema[] =
    "CREATE TABLE IF NOT EXISTS sectors("
    "  id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE, name_ja TEXT NOT NULL,"
    "  name_en TEXT NOT NULL, created_us INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS orgs("
    "  id INTEGER PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL UNIQUE,"
    "  created_us INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS org_sectors("
    "  org_id INTEGER NOT NULL, sector_id INTEGER NOT NULL, PRIMARY KEY(org_id, sector_id));"
    "CREATE INDEX IF NOT EXISTS org_sectors_sector ON org_sectors(sector_id, org_id);"
    "CREATE TABLE IF NOT EXISTS member_sectors("
    "  member_id INTEGER PRIMARY KEY, sector_id INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS member_sectors_sector ON member_sectors(sector_id);"
    "CREATE TABLE IF NOT EXISTS org_users("
    "  user_id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS incidents("
    "  id INTEGER PRIMARY KEY, member_id INTEGER NOT NULL, sector_id INTEGER,"
    "  ref TEXT UNIQUE, title TEXT NOT NULL, what TEXT, systems TEXT, occurred_us INTEGER,"
    "  reported_us INTEGER NOT NULL, fq INTEGER NOT NULL, status TEXT NOT NULL,"
    "  event_code TEXT, attack_code TEXT, created_by TEXT NOT NULL,"
    "  updated_us INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS incidents_fq_event ON incidents(fq, event_code);"
    "CREATE INDEX IF NOT EXISTS incidents_fq_attack ON incidents(fq, attack_code);"
    "CREATE INDEX IF NOT EXISTS incidents_member ON incidents(member_id, id);"
    "CREATE INDEX IF NOT EXISTS incidents_sector ON incidents(sector_id, id);"
    "CREATE TABLE IF NOT EXISTS incident_causes("
    "  incident_id INTEGER NOT NULL, cause_code TEXT NOT NULL, fq INTEGER NOT NULL,"
    "  PRIMARY KEY(incident_id, cause_code));"
    "CREATE INDEX IF NOT EXISTS incident_causes_fq ON incident_causes(fq, cause_code);"
    "CREATE TABLE IF NOT EXISTS incident_history("
    "  id INTEGER PRIMARY KEY, incident_id INTEGER NOT NULL, at_us INTEGER NOT NULL,"
    "  actor TEXT NOT NULL, change TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS incident_history_i ON incident_history(incident_id, id);"
    "CREATE TABLE IF NOT EXISTS shared_items("
    "  id INTEGER PRIMARY KEY, kind TEXT NOT NULL, org_id INTEGER, ref TEXT UNIQUE,"
    "  title TEXT NOT NULL, body TEXT, sent_us INTEGER NOT NULL, fq INTEGER NOT NULL,"
    "  created_by TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS shared_items_fq ON shared_items(fq, kind);"
    "CREATE TABLE IF NOT EXISTS item_sectors("
    "  item_id INTEGER NOT NULL, sector_id INTEGER NOT NULL, PRIMARY KEY(item_id, sector_id));"
    /* one row per recipient and hop; to_org 0 with to_member 0 is the coordinator */
    "CREATE TABLE IF NOT EXISTS receipts("
    "  id INTEGER PRIMARY KEY, incident INTEGER NOT NULL, item_id INTEGER NOT NULL,"
    "  hop INTEGER NOT NULL, to_org INTEGER NOT NULL, to_member INTEGER NOT NULL,"
    "  via_org INTEGER NOT NULL, created_us INTEGER NOT NULL, delivered_us INTEGER,"
    "  read_us INTEGER, read_by TEXT, forwarded_us INTEGER, forwarded_by TEXT,"
    "  UNIQUE(incident, item_id, to_org, to_member));"
    "CREATE INDEX IF NOT EXISTS receipts_org ON receipts(to_org, incident, item_id);"
    "CREATE INDEX IF NOT EXISTS receipts_member ON receipts(to_member, incident, item_id);"
    "CREATE TABLE IF NOT EXISTS drills("
    "  id INTEGER PRIMARY KEY, title TEXT NOT NULL, started_us INTEGER NOT NULL,"
    "  deadline_us INTEGER NOT NULL, created_by TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS drill_contacts("
    "  drill_id INTEGER NOT NULL, member_id INTEGER NOT NULL, org_id INTEGER NOT NULL,"
    "  answered_us INTEGER, answered_by TEXT, late_us INTEGER, late_by TEXT,"
    "  PRIMARY KEY(drill_id, member_id, org_id));"
    /* the monitoring rows of the statistics count events by creation time: an index
     * on the events table (store_sqlite.c's) keeps that a range scan */
    "CREATE INDEX IF NOT EXISTS events_created ON events(created_us, state);"
    "CREATE INDEX IF NOT EXISTS notices_created ON notices(created_us);";

int cw_store_incidents_schema(struct cw_store *s, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(s->w, incidents_schema, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "cannot create the incident tables: %s", msg ? msg : "?");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* INSERT with the writer under its lock; maps UNIQUE to EXISTS. */
static int insert(struct cw_store *s, sqlite3_stmt *st, const char *what, int64_t *id,
                  char *err, size_t errlen)
{
    int r = sqlite3_step(st);
    if (r == SQLITE_DONE) {
        *id = sqlite3_last_insert_rowid(s->w);
        return 0;
    }
    if (sqlite3_extended_errcode(s->w) == SQLITE_CONSTRAINT_UNIQUE) {
        snprintf(err, errlen, "%s already exists", what);
        return CW_STORE_EXISTS;
    }
    snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(s->w));
    return -1;
}

int cw_store_sector_add(struct cw_store *s, const char *code, const char *name_ja,
                        const char *name_en, int64_t *id, char *err, size_t errlen)
{
    pthread_mutex_lock(&s->wlock);
    sqlite3_stmt *st = NULL;
    int rc = cw_store_prep(s->w, &st,
                           "INSERT INTO sectors(code, name_ja, name_en, created_us)"
                           " VALUES(?,?,?,?)",
                           err, errlen);
    if (!rc) {
        sqlite3_bind_text(st, 1, code, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, name_ja, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, name_en, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, cw_now_us());
        rc = insert(s, st, "a sector with this code", id, err, errlen);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

/* id by name/code (column col) or decimal id, on the reader. */
static int find(struct cw_store *s, const char *sql, const char *ref, int64_t *id)
{
    char err[128];
    int rc = CW_STORE_NOT_FOUND;
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    if (!cw_store_prep(rd, &st, sql, err, sizeof(err))) {
        sqlite3_bind_text(st, 1, ref, -1, SQLITE_TRANSIENT);
        bool digits = *ref && strspn(ref, "0123456789") == strlen(ref) && strlen(ref) < 12;
        sqlite3_bind_int64(st, 2, digits ? (int64_t)strtoll(ref, NULL, 10) : -1);
        if (sqlite3_step(st) == SQLITE_ROW) {
            *id = sqlite3_column_int64(st, 0);
            rc = 0;
        }
    }
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return rc;
}

int cw_store_sector_find(struct cw_store *s, const char *ref, int64_t *id)
{
    return find(s, "SELECT id FROM sectors WHERE code = ?1 OR id = ?2", ref, id);
}

int cw_store_org_find(struct cw_store *s, const char *ref, int64_t *id)
{
    return find(s, "SELECT id FROM orgs WHERE name = ?1 OR id = ?2", ref, id);
}

static void json_text(struct cw_buf *out, const char *key, const unsigned char *v, bool comma)
{
    cw_buf_addf(out, "%s\"%s\":", comma ? "," : "", key);
    if (v)
        cw_buf_add_json_str(out, (const char *)v, strlen((const char *)v));
    else
        cw_buf_adds(out, "null");
}

int cw_store_sectors_json(struct cw_store *s, struct cw_buf *out, char *err, size_t errlen)
{
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    int rc = cw_store_prep(rd, &st,
                           "SELECT s.id, s.code, s.name_ja, s.name_en,"
                           " (SELECT COUNT(*) FROM member_sectors m WHERE m.sector_id = s.id)"
                           " FROM sectors s ORDER BY s.id",
                           err, errlen);
    if (!rc) {
        cw_buf_adds(out, "{\"sectors\":[");
        for (int n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
            cw_buf_addf(out, "%s{\"id\":%lld", n ? "," : "",
                        (long long)sqlite3_column_int64(st, 0));
            json_text(out, "code", sqlite3_column_text(st, 1), true);
            json_text(out, "name_ja", sqlite3_column_text(st, 2), true);
            json_text(out, "name_en", sqlite3_column_text(st, 3), true);
            cw_buf_addf(out, ",\"members\":%lld}", (long long)sqlite3_column_int64(st, 4));
        }
        cw_buf_adds(out, "]}\n");
    }
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return rc;
}

int cw_store_member_sector_set(struct cw_store *s, uint32_t member_id, int64_t sector_id,
                               char *err, size_t errlen)
{
    pthread_mutex_lock(&s->wlock);
    sqlite3_stmt *st = NULL;
    int rc = cw_store_prep(s->w, &st,
                           "INSERT INTO member_sectors(member_id, sector_id) VALUES(?,?)"
                           " ON CONFLICT(member_id) DO UPDATE SET sector_id = excluded.sector_id",
                           err, errlen);
    if (!rc) {
        sqlite3_bind_int64(st, 1, member_id);
        sqlite3_bind_int64(st, 2, sector_id);
        if (sqlite3_step(st) != SQLITE_DONE) {
            snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(s->w));
            rc = -1;
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

int cw_store_org_add(struct cw_store *s, const char *name, const char *kind,
                     const int64_t *sectors, size_t nsectors, int64_t *id, char *err,
                     size_t errlen)
{
    if (strcmp(kind, "sector_body") && strcmp(kind, "ministry")) {
        snprintf(err, errlen, "kind must be sector_body or ministry");
        return CW_STORE_INVALID;
    }
    if (nsectors < 1 || nsectors > CW_INC_MAX_TARGETS) {
        snprintf(err, errlen, "an organization covers 1 to %d sectors", CW_INC_MAX_TARGETS);
        return CW_STORE_INVALID;
    }
    pthread_mutex_lock(&s->wlock);
    sqlite3_stmt *st = NULL;
    sqlite3_exec(s->w, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    int rc = cw_store_prep(s->w, &st, "INSERT INTO orgs(kind, name, created_us) VALUES(?,?,?)",
                           err, errlen);
    if (!rc) {
        sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, cw_now_us());
        rc = insert(s, st, "an organization with this name", id, err, errlen);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (!rc)
        rc = cw_store_prep(s->w, &st,
                           "INSERT OR IGNORE INTO org_sectors(org_id, sector_id)"
                           " SELECT ?1, id FROM sectors WHERE id = ?2",
                           err, errlen);
    for (size_t i = 0; !rc && i < nsectors; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, *id);
        sqlite3_bind_int64(st, 2, sectors[i]);
        if (sqlite3_step(st) != SQLITE_DONE) {
            snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(s->w));
            rc = -1;
        } else if (sqlite3_changes(s->w) == 0 && i == 0) {
            /* ids come from cw_store_sector_find: a vanished sector is a race */
            snprintf(err, errlen, "no such sector");
            rc = CW_STORE_NOT_FOUND;
        }
    }
    sqlite3_finalize(st);
    sqlite3_exec(s->w, rc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

int cw_store_orgs_json(struct cw_store *s, struct cw_buf *out, char *err, size_t errlen)
{
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    int rc = cw_store_prep(rd, &st,
                           "SELECT o.id, o.kind, o.name, (SELECT group_concat(code, ',') FROM"
                           " (SELECT x.code FROM org_sectors y JOIN sectors x ON x.id ="
                           " y.sector_id WHERE y.org_id = o.id ORDER BY x.code)),"
                           " (SELECT COUNT(*) FROM org_users u WHERE u.org_id = o.id)"
                           " FROM orgs o ORDER BY o.id",
                           err, errlen);
    if (!rc) {
        cw_buf_adds(out, "{\"orgs\":[");
        for (int n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
            cw_buf_addf(out, "%s{\"id\":%lld", n ? "," : "",
                        (long long)sqlite3_column_int64(st, 0));
            json_text(out, "kind", sqlite3_column_text(st, 1), true);
            json_text(out, "name", sqlite3_column_text(st, 2), true);
            cw_buf_adds(out, ",\"sectors\":[");
            const char *codes = (const char *)sqlite3_column_text(st, 3);
            for (int k = 0; codes && *codes; k++) {
                size_t l = strcspn(codes, ",");
                cw_buf_adds(out, k ? "," : "");
                cw_buf_add_json_str(out, codes, l);
                codes += l + (codes[l] == ',');
            }
            cw_buf_addf(out, "],\"users\":%lld}", (long long)sqlite3_column_int64(st, 4));
        }
        cw_buf_adds(out, "]}\n");
    }
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return rc;
}

int cw_store_org_user_add(struct cw_store *s, int64_t org_id, const char *name,
                          const char *password, int64_t *id, char *err, size_t errlen)
{
    char kind[32] = "";
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    if (!cw_store_prep(rd, &st, "SELECT kind FROM orgs WHERE id = ?", err, errlen)) {
        sqlite3_bind_int64(st, 1, org_id);
        if (sqlite3_step(st) == SQLITE_ROW)
            snprintf(kind, sizeof(kind), "%s", (const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    if (!kind[0]) {
        snprintf(err, errlen, "no such organization");
        return CW_STORE_NOT_FOUND;
    }
    enum cw_role role = !strcmp(kind, "ministry") ? CW_ROLE_MINISTRY_USER : CW_ROLE_SECTOR_USER;
    /* The user row and its org link are two transactions: until the link commits the
     * user's principal has org 0, which sees nothing, so the gap is harmless. */
    int rc = cw_store_user_add(s, name, role, 0, password, id, err, errlen);
    if (rc)
        return rc;
    pthread_mutex_lock(&s->wlock);
    st = NULL;
    rc = cw_store_prep(s->w, &st, "INSERT INTO org_users(user_id, org_id) VALUES(?,?)", err,
                       errlen);
    if (!rc) {
        sqlite3_bind_int64(st, 1, *id);
        sqlite3_bind_int64(st, 2, org_id);
        if (sqlite3_step(st) != SQLITE_DONE) {
            snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(s->w));
            rc = -1;
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

bool cw_store_org_covers_member(struct cw_store *s, int64_t org_id, uint32_t member_id)
{
    char err[64];
    bool yes = false;
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    if (cw_store_prep(rd, &st,
                      "SELECT 1 FROM member_sectors m JOIN org_sectors o ON o.sector_id ="
                      " m.sector_id WHERE m.member_id = ? AND o.org_id = ?",
                      err, sizeof(err)) == 0) {
        sqlite3_bind_int64(st, 1, member_id);
        sqlite3_bind_int64(st, 2, org_id);
        yes = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return yes;
}
