/* store_drills.c - reachability drills: the coordinator names contact points (members,
 * sector bodies, ministries) and a deadline; each contact's users answer once before
 * the deadline; the report lists who answered when and who stayed silent
 * (store_incidents.h). A late answer is refused but its attempt is kept for the
 * report ("answered late" is not "silent", and is not "answered" either). */
#include <stdio.h>
#include <string.h>

#include "center/store_impl.h"
#include "center/store_incidents.h"
#include "common/timefmt.h"
#include "common/banned.h"

int cw_store_drill_start(struct cw_store *s, const char *title, int64_t deadline_us,
                         const int64_t *members, size_t nmembers, const int64_t *orgs,
                         size_t norgs, bool all, const char *actor, int64_t *id, char *err,
                         size_t errlen)
{
    pthread_mutex_lock(&s->wlock);
    sqlite3_exec(s->w, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    sqlite3_stmt *st = NULL;
    int rc = cw_store_prep(s->w, &st,
                           "INSERT INTO drills(title, started_us, deadline_us, created_by)"
                           " VALUES(?,?,?,?)",
                           err, errlen);
    if (!rc) {
        sqlite3_bind_text(st, 1, title, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, cw_now_us());
        sqlite3_bind_int64(st, 3, deadline_us);
        sqlite3_bind_text(st, 4, actor, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE) {
            snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(s->w));
            rc = -1;
        }
        *id = sqlite3_last_insert_rowid(s->w);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (!rc && all) {
        char sql[256];
        snprintf(sql, sizeof(sql),
                 "INSERT INTO drill_contacts(drill_id, member_id, org_id) SELECT %lld, id, 0"
                 " FROM members UNION ALL SELECT %lld, 0, id FROM orgs",
                 (long long)*id, (long long)*id);
        if (sqlite3_exec(s->w, sql, NULL, NULL, NULL) != SQLITE_OK) {
            snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(s->w));
            rc = -1;
        }
    }
    if (!rc && !all)
        rc = cw_store_prep(s->w, &st,
                           "INSERT OR IGNORE INTO drill_contacts(drill_id, member_id, org_id)"
                           " VALUES(?,?,?)",
                           err, errlen);
    for (size_t i = 0; !rc && !all && i < nmembers + norgs; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, *id);
        sqlite3_bind_int64(st, 2, i < nmembers ? members[i] : 0);
        sqlite3_bind_int64(st, 3, i < nmembers ? 0 : orgs[i - nmembers]);
        if (sqlite3_step(st) != SQLITE_DONE) {
            snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(s->w));
            rc = -1;
        }
    }
    sqlite3_finalize(st);
    if (!rc && all) {
        /* a drill without contacts is useless: refuse it */
        sqlite3_stmt *c = NULL;
        if (!cw_store_prep(s->w, &c, "SELECT COUNT(*) FROM drill_contacts WHERE drill_id = ?",
                           err, errlen)) {
            sqlite3_bind_int64(c, 1, *id);
            if (sqlite3_step(c) == SQLITE_ROW && sqlite3_column_int64(c, 0) == 0) {
                snprintf(err, errlen, "there is no contact point to drill");
                rc = CW_STORE_INVALID;
            }
        }
        sqlite3_finalize(c);
    }
    sqlite3_exec(s->w, rc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

int cw_store_drill_answer(struct cw_store *s, const struct cw_principal *who, int64_t id,
                          int64_t now_us, char *err, size_t errlen)
{
    bool member = who->role == CW_ROLE_MEMBER_ADMIN || who->role == CW_ROLE_MEMBER_USER;
    bool org = who->role == CW_ROLE_SECTOR_USER || who->role == CW_ROLE_MINISTRY_USER;
    pthread_mutex_lock(&s->wlock);
    sqlite3_exec(s->w, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    sqlite3_stmt *st = NULL;
    int64_t deadline = 0, answered = 0;
    bool contact = false;
    int rc = cw_store_prep(s->w, &st,
                           "SELECT d.deadline_us, c.drill_id, COALESCE(c.answered_us, 0) FROM"
                           " drills d LEFT JOIN drill_contacts c ON c.drill_id = d.id AND"
                           " c.member_id = ?2 AND c.org_id = ?3 WHERE d.id = ?1",
                           err, errlen);
    if (!rc) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, member ? who->member_id : 0);
        sqlite3_bind_int64(st, 3, org ? who->org_id : 0);
        if (sqlite3_step(st) == SQLITE_ROW) {
            deadline = sqlite3_column_int64(st, 0);
            contact = (member || org) && sqlite3_column_type(st, 1) != SQLITE_NULL;
            answered = sqlite3_column_int64(st, 2);
        } else {
            snprintf(err, errlen, "no such drill");
            rc = CW_STORE_NOT_FOUND;
        }
    }
    sqlite3_finalize(st);
    st = NULL;
    char t[40];
    if (!rc && !contact && !member && !org) {
        snprintf(err, errlen, "the coordinator is not a contact point of its drills");
        rc = CW_STORE_DENIED;
    } else if (rc == CW_STORE_NOT_FOUND || (!rc && !contact)) {
        snprintf(err, errlen, "no drill %lld with your organization as a contact point",
                 (long long)id);
        rc = CW_STORE_NOT_FOUND;
    } else if (!rc && answered) {
        cw_time_format_iso(answered, t);
        snprintf(err, errlen, "drill %lld was already answered for your organization at %s",
                 (long long)id, t);
        rc = CW_STORE_BAD_TRANSITION;
    }
    bool late = !rc && now_us > deadline;
    if (!rc)
        rc = cw_store_prep(s->w, &st,
                           late ? "UPDATE drill_contacts SET late_us = COALESCE(late_us, ?4),"
                                  " late_by = COALESCE(late_by, ?5) WHERE drill_id = ?1 AND"
                                  " member_id = ?2 AND org_id = ?3"
                                : "UPDATE drill_contacts SET answered_us = ?4, answered_by = ?5"
                                  " WHERE drill_id = ?1 AND member_id = ?2 AND org_id = ?3",
                           err, errlen);
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, member ? who->member_id : 0);
        sqlite3_bind_int64(st, 3, org ? who->org_id : 0);
        sqlite3_bind_int64(st, 4, now_us);
        sqlite3_bind_text(st, 5, who->name, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE) {
            snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(s->w));
            rc = -1;
        }
    }
    sqlite3_finalize(st);
    /* a late attempt is committed (the report shows it) but refused to the caller */
    sqlite3_exec(s->w, rc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
    pthread_mutex_unlock(&s->wlock);
    if (!rc && late) {
        cw_time_format_iso(deadline, t);
        snprintf(err, errlen, "the deadline of drill %lld passed at %s: answer refused "
                              "(recorded as late)", (long long)id, t);
        rc = CW_STORE_BAD_TRANSITION;
    }
    return rc;
}

static void jstr(struct cw_buf *out, const char *key, const unsigned char *v)
{
    cw_buf_addf(out, ",\"%s\":", key);
    if (v)
        cw_buf_add_json_str(out, (const char *)v, strlen((const char *)v));
    else
        cw_buf_adds(out, "null");
}

int cw_store_drills_json(struct cw_store *s, const struct cw_principal *who,
                         struct cw_buf *out, char *err, size_t errlen)
{
    bool coord = who->role == CW_ROLE_COORD_ADMIN || who->role == CW_ROLE_COORD_ANALYST;
    bool member = who->role == CW_ROLE_MEMBER_ADMIN || who->role == CW_ROLE_MEMBER_USER;
    bool org = who->role == CW_ROLE_SECTOR_USER || who->role == CW_ROLE_MINISTRY_USER;
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    /* coordinator: every drill with counts; a contact: its drills and its own answer */
    int rc = cw_store_prep(rd, &st,
                           "SELECT d.id, d.title, d.started_us, d.deadline_us, d.created_by,"
                           " (SELECT COUNT(*) FROM drill_contacts c WHERE c.drill_id = d.id),"
                           " (SELECT COUNT(*) FROM drill_contacts c WHERE c.drill_id = d.id AND"
                           " c.answered_us IS NOT NULL), mine.answered_us FROM drills d LEFT JOIN"
                           " drill_contacts mine ON mine.drill_id = d.id AND mine.member_id = ?2"
                           " AND mine.org_id = ?3 WHERE ?1 OR mine.drill_id IS NOT NULL"
                           " ORDER BY d.id",
                           err, errlen);
    if (!rc) {
        sqlite3_bind_int(st, 1, coord);
        sqlite3_bind_int64(st, 2, member ? (int64_t)who->member_id : org ? 0 : -1);
        sqlite3_bind_int64(st, 3, org ? (int64_t)who->org_id : member ? 0 : -1);
        cw_buf_adds(out, "{\"drills\":[");
        for (int n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
            cw_buf_addf(out, "%s{\"id\":%lld", n ? "," : "",
                        (long long)sqlite3_column_int64(st, 0));
            jstr(out, "title", sqlite3_column_text(st, 1));
            cw_store_json_time(out, "started", st, 2);
            cw_store_json_time(out, "deadline", st, 3);
            if (coord) {
                jstr(out, "created_by", sqlite3_column_text(st, 4));
                cw_buf_addf(out, ",\"contacts\":%lld,\"answered\":%lld",
                            (long long)sqlite3_column_int64(st, 5),
                            (long long)sqlite3_column_int64(st, 6));
            } else {
                cw_store_json_time(out, "your_answer", st, 7);
            }
            cw_buf_addc(out, '}');
        }
        cw_buf_adds(out, "]}\n");
    }
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return rc;
}

int cw_store_drill_report_json(struct cw_store *s, int64_t id, int64_t now_us,
                               struct cw_buf *out, char *err, size_t errlen)
{
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    int64_t deadline = 0;
    int rc = cw_store_prep(rd, &st,
                           "SELECT id, title, started_us, deadline_us, created_by FROM drills"
                           " WHERE id = ?",
                           err, errlen);
    if (!rc) {
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) == SQLITE_ROW) {
            deadline = sqlite3_column_int64(st, 3);
            cw_buf_addf(out, "{\"id\":%lld", (long long)id);
            jstr(out, "title", sqlite3_column_text(st, 1));
            cw_store_json_time(out, "started", st, 2);
            cw_store_json_time(out, "deadline", st, 3);
            jstr(out, "created_by", sqlite3_column_text(st, 4));
            cw_buf_addf(out, ",\"closed\":%s", now_us > deadline ? "true" : "false");
        } else {
            snprintf(err, errlen, "no such drill");
            rc = CW_STORE_NOT_FOUND;
        }
    }
    sqlite3_finalize(st);
    st = NULL;
    if (!rc)
        rc = cw_store_prep(rd, &st,
                           "SELECT CASE WHEN c.member_id THEN 'member' ELSE o.kind END,"
                           " COALESCE(m.name, o.name), c.answered_us, c.answered_by, c.late_us,"
                           " c.late_by FROM drill_contacts c LEFT JOIN members m ON m.id ="
                           " c.member_id AND c.member_id LEFT JOIN orgs o ON o.id = c.org_id AND"
                           " c.org_id WHERE c.drill_id = ? ORDER BY c.answered_us IS NULL,"
                           " c.answered_us, 2",
                           err, errlen);
    if (!rc) {
        sqlite3_bind_int64(st, 1, id);
        int64_t total = 0, answered = 0, late = 0;
        cw_buf_adds(out, ",\"contacts\":[");
        for (int n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
            bool ok = sqlite3_column_type(st, 2) != SQLITE_NULL;
            bool was_late = !ok && sqlite3_column_type(st, 4) != SQLITE_NULL;
            total++;
            answered += ok;
            late += was_late;
            cw_buf_addf(out, "%s{\"kind\":", n ? "," : "");
            const unsigned char *k = sqlite3_column_text(st, 0);
            cw_buf_add_json_str(out, k ? (const char *)k : "?", k ? strlen((const char *)k) : 1);
            jstr(out, "name", sqlite3_column_text(st, 1));
            cw_buf_addf(out, ",\"state\":\"%s\"",
                        ok ? "answered" : was_late ? "late" : now_us > deadline ? "silent"
                                                                                 : "waiting");
            cw_store_json_time(out, "answered", st, 2);
            jstr(out, "answered_by", sqlite3_column_text(st, 3));
            cw_store_json_time(out, "late_attempt", st, 4);
            jstr(out, "late_by", sqlite3_column_text(st, 5));
            cw_buf_addc(out, '}');
        }
        cw_buf_addf(out, "],\"summary\":{\"contacts\":%lld,\"answered\":%lld,\"late\":%lld,"
                         "\"no_answer\":%lld}}\n",
                    (long long)total, (long long)answered, (long long)late,
                    (long long)(total - answered));
    }
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return rc;
}
