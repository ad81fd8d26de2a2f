/* store_web.c - the watch floor's queries (see store_web.h). Reads take a reader of
 * the pool; writes use the writer connection under the write lock (or, for the
 * counters, the caller's ingest transaction). */
#include "center/store_web.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "center/store_impl.h"
#include "common/csv.h"
#include "common/timefmt.h"
#include "triage/noise.h"
#include "common/banned.h"

#define HOUR_US 3600000000LL
#define MAX_BUCKETS 10000

static const char web_schema[] =
    "CREATE TABLE IF NOT EXISTS web_counts("
    "  metric TEXT NOT NULL, hour INTEGER NOT NULL, member_id INTEGER NOT NULL,"
    "  reason TEXT NOT NULL DEFAULT '', count INTEGER NOT NULL,"
    "  PRIMARY KEY(metric, hour, member_id, reason)) WITHOUT ROWID;"
    /* the daily roll-up of web_counts; member_id 0 = every member, so a coordinator's
     * chart or total reads one row per day and reason instead of one per member */
    "CREATE TABLE IF NOT EXISTS web_days("
    "  metric TEXT NOT NULL, member_id INTEGER NOT NULL, day INTEGER NOT NULL,"
    "  reason TEXT NOT NULL DEFAULT '', count INTEGER NOT NULL,"
    "  PRIMARY KEY(metric, member_id, day, reason)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS web_secret(id INTEGER PRIMARY KEY CHECK(id = 1),"
    "  secret BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS attachments("
    "  id INTEGER PRIMARY KEY, notice_id INTEGER NOT NULL, member_id INTEGER NOT NULL,"
    "  name TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL, data BLOB NOT NULL,"
    "  created_us INTEGER NOT NULL, created_by TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS attachments_notice ON attachments(notice_id, id);"
    /* the event queue's filters and the charts' time ranges */
    "CREATE INDEX IF NOT EXISTS events_first ON events(first_us, member_id);"
    "CREATE INDEX IF NOT EXISTS events_open ON events(state, severity, member_id);"
    "CREATE INDEX IF NOT EXISTS events_member_class ON events(member_id, attack_class, id);"
    "CREATE INDEX IF NOT EXISTS events_class ON events(attack_class, id);"
    "CREATE INDEX IF NOT EXISTS events_severity ON events(severity, member_id);"
    "CREATE INDEX IF NOT EXISTS batches_sensor_received ON batches(sensor_id, received_us);"
    "CREATE INDEX IF NOT EXISTS notices_created ON notices(created_us, member_id);";

/* A store that existed before the counters gets them from the rows it holds once
 * (records by the batch's first record time: the segments are not decompressed). */
static const char web_backfill[] =
    "INSERT OR IGNORE INTO web_counts(metric, hour, member_id, reason, count)"
    " SELECT 'detections', ts_us / 3600000000, member_id, noise, COUNT(*) FROM detections"
    " GROUP BY 2, 3, 4;"
    "INSERT OR IGNORE INTO web_counts(metric, hour, member_id, reason, count)"
    " SELECT 'records', COALESCE(first_ts_us, received_us) / 3600000000, member_id, '',"
    " SUM(accepted) FROM batches WHERE accepted > 0 GROUP BY 2, 3;";

/* The daily roll-up from the hourly counters, once (a store from before it); days are
 * UTC days, floor(hour / 24) as in bucket_start(). One transaction: a roll-up is
 * complete or absent. */
static const char web_days_backfill[] =
    "BEGIN;"
    "INSERT INTO web_days(metric, member_id, day, reason, count)"
    " SELECT metric, member_id, CASE WHEN hour >= 0 THEN hour / 24 ELSE (hour - 23) / 24 END,"
    " reason, SUM(count) FROM web_counts GROUP BY 1, 2, 3, 4;"
    "INSERT INTO web_days(metric, member_id, day, reason, count)"
    " SELECT metric, 0, day, reason, SUM(count) FROM web_days GROUP BY 1, 3, 4;"
    "COMMIT;";

int cw_store_web_schema(struct cw_store *s, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(s->w, web_schema, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "cannot create the web tables: %s", msg ? msg : "?");
        sqlite3_free(msg);
        return -1;
    }
    sqlite3_stmt *st = NULL;
    if (cw_store_prep(s->w, &st, "SELECT (SELECT COUNT(*) FROM web_counts) = 0 AND"
                                 " EXISTS(SELECT 1 FROM batches)", err, errlen))
        return -1;
    bool empty = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (empty && sqlite3_exec(s->w, web_backfill, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "cannot fill the web counters: %s", msg ? msg : "?");
        sqlite3_free(msg);
        return -1;
    }
    if (cw_store_prep(s->w, &st, "SELECT NOT EXISTS(SELECT 1 FROM web_days) AND"
                                 " EXISTS(SELECT 1 FROM web_counts)", err, errlen))
        return -1;
    empty = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (empty && sqlite3_exec(s->w, web_days_backfill, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "cannot fill the daily web counters: %s", msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_exec(s->w, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- hourly counters */

static int64_t hour_of(int64_t us)
{
    return us >= 0 ? us / HOUR_US : -((-us + HOUR_US - 1) / HOUR_US);
}

static int64_t day_of_hour(int64_t hour)
{
    return hour >= 0 ? hour / 24 : -((-hour + 23) / 24);
}

struct count_cell {
    int64_t hour, n;
    uint32_t member;
    int reason; /* -1 = records */
};

/* One upsert of (metric, time, member, reason) += n; st holds either counter table's
 * statement (their parameters are in the same order). */
static int upsert(sqlite3_stmt *st, const struct count_cell *c, int64_t when, uint32_t member)
{
    sqlite3_bind_text(st, 1, c->reason < 0 ? "records" : "detections", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, when);
    sqlite3_bind_int64(st, 3, member);
    sqlite3_bind_text(st, 4,
                      c->reason < 0 ? "" : cw_noise_reason_name((enum cw_noise_reason)c->reason),
                      -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, c->n);
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    return r == SQLITE_DONE ? 0 : -1;
}

/* Each cell into the hourly counters, its member's day and the all-members day. */
static int flush_cells(sqlite3_stmt *const st[2], struct count_cell *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int64_t day = day_of_hour(c[i].hour);
        if (upsert(st[0], &c[i], c[i].hour, c[i].member) || upsert(st[1], &c[i], day, c[i].member) ||
            upsert(st[1], &c[i], day, 0))
            return -1;
    }
    return 0;
}

/* Adds one to the cell (member, hour, reason), flushing the table when it is full. */
static int count_add(sqlite3_stmt *const st[2], struct count_cell *cells, size_t *n, size_t cap,
                     uint32_t member, int64_t hour, int reason)
{
    for (size_t i = *n; i-- > 0;)
        if (cells[i].hour == hour && cells[i].member == member && cells[i].reason == reason) {
            cells[i].n++;
            return 0;
        }
    if (*n == cap) {
        if (flush_cells(st, cells, *n))
            return -1;
        *n = 0;
    }
    cells[(*n)++] = (struct count_cell){hour, 1, member, reason};
    return 0;
}

int cw_store_web_counts(struct cw_store *s, const struct cw_batch *b,
                        const struct cw_triage_result *t, char *err, size_t errlen)
{
    sqlite3_stmt *st[2] = {NULL, NULL};
    if (cw_store_prep(s->w, &st[0],
             "INSERT INTO web_counts(metric, hour, member_id, reason, count) VALUES(?,?,?,?,?)"
             " ON CONFLICT(metric, hour, member_id, reason) DO UPDATE SET"
             " count = count + excluded.count",
             err, errlen) ||
        cw_store_prep(s->w, &st[1],
             "INSERT INTO web_days(metric, day, member_id, reason, count) VALUES(?,?,?,?,?)"
             " ON CONFLICT(metric, member_id, day, reason) DO UPDATE SET"
             " count = count + excluded.count",
             err, errlen)) {
        sqlite3_finalize(st[0]);
        return -1;
    }
    struct count_cell cells[64];
    size_t n = 0;
    int rc = 0;
    for (uint32_t i = 0; i < b->n && rc == 0; i++)
        rc = count_add(st, cells, &n, 64, b->recs[i].member_id, hour_of(b->recs[i].ts_us), -1);
    for (uint32_t i = 0; t && i < t->ds.n && rc == 0; i++) {
        const struct cw_detection *d = &t->ds.d[i];
        const struct cw_record *r = &b->recs[d->rec];
        rc = count_add(st, cells, &n, 64, r->member_id, hour_of(r->ts_us), d->noise);
    }
    if (rc == 0)
        rc = flush_cells(st, cells, n);
    if (rc)
        snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(s->w));
    sqlite3_finalize(st[0]);
    sqlite3_finalize(st[1]);
    return rc;
}

/* ---------------------------------------------------------------- small things */

int cw_store_web_secret(struct cw_store *s, unsigned char out[32], char *err, size_t errlen)
{
    int rc = -1;
    pthread_mutex_lock(&s->wlock);
    sqlite3_stmt *st = NULL;
    if (cw_store_prep(s->w, &st, "SELECT secret FROM web_secret WHERE id = 1", err, errlen))
        goto out;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32) {
        memcpy(out, sqlite3_column_blob(st, 0), 32);
        rc = 0;
        goto out;
    }
    sqlite3_finalize(st);
    st = NULL;
    randombytes_buf(out, 32);
    if (cw_store_prep(s->w, &st, "INSERT OR REPLACE INTO web_secret(id, secret) VALUES(1, ?)",
                      err, errlen))
        goto out;
    sqlite3_bind_blob(st, 1, out, 32, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(s->w));
    else
        rc = 0;
out:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

int cw_store_session_end(struct cw_store *s, const char *token)
{
    /* cwu_<16 hex key id>_<secret>: the row is found by key id, matched by hash */
    size_t n = token ? strlen(token) : 0;
    if (n < 22 || n > 200 || strncmp(token, "cwu_", 4) != 0 || token[20] != '_')
        return CW_STORE_NOT_FOUND;
    char key_id[17];
    memcpy(key_id, token + 4, 16);
    key_id[16] = '\0';
    unsigned char h[CW_KEY_HASH_BYTES];
    crypto_generichash(h, sizeof(h), (const unsigned char *)token, n, NULL, 0);
    int rc = CW_STORE_NOT_FOUND;
    pthread_mutex_lock(&s->wlock);
    sqlite3_stmt *st = NULL;
    char err[128];
    if (cw_store_prep(s->w, &st, "UPDATE user_tokens SET revoked_us = ?1 WHERE key_id = ?2"
                                 " AND key_hash = ?3 AND revoked_us IS NULL", err, sizeof(err)) == 0) {
        sqlite3_bind_int64(st, 1, cw_now_us());
        sqlite3_bind_text(st, 2, key_id, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 3, h, sizeof(h), SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(s->w) == 1)
            rc = 0;
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

void cw_store_member_name(struct cw_store *s, uint32_t id, char *out, size_t cap)
{
    out[0] = '\0';
    char err[128];
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    if (cw_store_prep(rd, &st, "SELECT name FROM members WHERE id = ?", err, sizeof(err)) == 0) {
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) == SQLITE_ROW)
            snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
}

static int noise_index(const unsigned char *name)
{
    for (int k = 0; name && k < CW_NOISE__COUNT; k++)
        if (!strcmp((const char *)name, cw_noise_reason_name((enum cw_noise_reason)k)))
            return k;
    return -1;
}

/* ---------------------------------------------------------------- live counters */

int cw_store_live_counters(struct cw_store *s, uint32_t scope, int64_t now_us,
                           int64_t silent_after_us, struct cw_live_counters *out, char *err,
                           size_t errlen)
{
    memset(out, 0, sizeof(*out));
    static const char *const sql[] = {
        "SELECT COALESCE(SUM(records), 0), 0 FROM sensors WHERE (?1 = 0 OR member_id = ?1)",
        "SELECT COALESCE(SUM(accepted), 0), 0 FROM batches WHERE received_us > ?2 - 60000000"
        " AND (?1 = 0 OR member_id = ?1)",
        /* per reason from the daily roll-up (member 0 = all): the same counts as
         * noise_counts, a few hundred rows instead of one per member and day */
        "SELECT reason, SUM(count) FROM web_days WHERE metric = 'detections' AND"
        " member_id = ?1 GROUP BY reason",
        "SELECT severity, COUNT(*) FROM events WHERE state IN ('new','investigating','notified')"
        " AND (?1 = 0 OR member_id = ?1) GROUP BY severity",
        "SELECT COUNT(*), 0 FROM sensors WHERE revoked_us IS NULL AND (?1 = 0 OR member_id = ?1)"
        " AND (last_seen_us IS NULL OR last_seen_us < ?2 - ?3)",
        "SELECT COUNT(*), 0 FROM notices WHERE state IN ('sent','acknowledged')"
        " AND answer_by_us < ?2 AND (?1 = 0 OR member_id = ?1)",
    };
    int rc = 0;
    sqlite3 *rd = cw_store_reader(s);
    for (size_t q = 0; q < sizeof(sql) / sizeof(sql[0]) && rc == 0; q++) {
        sqlite3_stmt *st = NULL;
        if (cw_store_prep(rd, &st, sql[q], err, errlen)) {
            rc = -1;
            break;
        }
        sqlite3_bind_int64(st, 1, scope);
        if (sqlite3_bind_parameter_count(st) >= 2)
            sqlite3_bind_int64(st, 2, now_us);
        if (sqlite3_bind_parameter_count(st) >= 3)
            sqlite3_bind_int64(st, 3, silent_after_us);
        int r;
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
            int64_t v = sqlite3_column_int64(st, 1), a = sqlite3_column_int64(st, 0);
            switch (q) {
            case 0: out->records_in = a; break;
            case 1: out->records_per_min = a; break;
            case 2: {
                int k = noise_index(sqlite3_column_text(st, 0));
                if (k == CW_NOISE_KEPT)
                    out->detections += v;
                else if (k > 0 && k < 8)
                    out->noise[k] += v;
                break;
            }
            case 3:
                if (a >= 1 && a <= 5)
                    out->open_by_sev[a] += v;
                break;
            case 4: out->sensors_silent = a; break;
            case 5: out->notices_overdue = a; break;
            }
        }
        if (r != SQLITE_DONE) {
            snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(rd));
            rc = -1;
        }
        sqlite3_finalize(st);
    }
    cw_store_reader_done(s, rd);
    return rc;
}

/* ---------------------------------------------------------------- series */

static int64_t bucket_start(int64_t hour, enum cw_series_bucket bk)
{
    if (bk == CW_BUCKET_HOUR)
        return hour * HOUR_US;
    int64_t day = hour >= 0 ? hour / 24 : -((-hour + 23) / 24);
    if (bk == CW_BUCKET_DAY)
        return day * 24 * HOUR_US;
    time_t t = (time_t)(day * 86400);
    struct tm tm;
    gmtime_r(&t, &tm);
    return cw_days_from_civil(tm.tm_year + 1900, (unsigned)tm.tm_mon + 1, 1) * 86400 * 1000000;
}

static void point_out(struct cw_buf *o, bool csv, bool *first, int64_t t_us, const char *reason,
                      int64_t v)
{
    char ts[40];
    cw_time_format_iso(t_us, ts);
    if (csv) {
        cw_buf_addf(o, "%s,", ts);
        if (reason)
            cw_buf_addf(o, "%s,", reason);
        cw_buf_addf(o, "%lld\n", (long long)v);
        return;
    }
    cw_buf_addf(o, "%s{\"t\":\"%s\"", *first ? "" : ",", ts);
    if (reason)
        cw_buf_addf(o, ",\"reason\":\"%s\"", reason);
    cw_buf_addf(o, ",\"value\":%lld}", (long long)v);
    *first = false;
}

static const char *const metric_names[] = {"records", "detections", "events", "notices", "noise"};
static const char *const bucket_names[] = {"hour", "day", "month"};

/* Counter rows (hour, reason, count) of hours [h0, h1) in hour order: whole UTC days
 * from the daily roll-up (day buckets read one row per day), the partial days at either
 * end from the hourly counters. ?1..?7 as bound in counter_rows(). */
static void counter_sql(char *sql, size_t cap, const char *what, bool scoped)
{
    const char *mine = scoped ? " AND member_id = ?5" : "";
    snprintf(sql, cap,
             "SELECT hour, reason, SUM(count) FROM web_counts WHERE %1$s AND hour >= ?1 AND"
             " hour < ?2%2$s GROUP BY hour, reason"
             " UNION ALL SELECT day * 24, reason, count FROM web_days WHERE %1$s AND"
             " member_id = ?5 AND day >= ?3 AND day < ?4"
             " UNION ALL SELECT hour, reason, SUM(count) FROM web_counts WHERE %1$s AND"
             " hour >= ?6 AND hour < ?7%2$s GROUP BY hour, reason ORDER BY 1",
             what, mine);
}

static void counter_bind(sqlite3_stmt *st, int64_t h0, int64_t h1, uint32_t scope, bool daily)
{
    int64_t d0 = day_of_hour(h0 + 23), d1 = day_of_hour(h1); /* whole days inside */
    if (!daily || d0 >= d1)
        d0 = d1 = 0;
    sqlite3_bind_int64(st, 1, h0);
    sqlite3_bind_int64(st, 2, d0 < d1 ? d0 * 24 : h1);
    sqlite3_bind_int64(st, 3, d0);
    sqlite3_bind_int64(st, 4, d1);
    sqlite3_bind_int64(st, 5, scope);
    sqlite3_bind_int64(st, 6, d0 < d1 ? d1 * 24 : h1);
    sqlite3_bind_int64(st, 7, h1);
}

int cw_store_series(struct cw_store *s, uint32_t scope, enum cw_series_metric m,
                    enum cw_series_bucket bk, int64_t from_us, int64_t to_us, bool csv,
                    struct cw_buf *out, char *err, size_t errlen)
{
    static const int64_t width[] = {HOUR_US, 24 * HOUR_US, 28 * 24 * HOUR_US};
    if (to_us <= from_us || (to_us - from_us) / width[bk] > MAX_BUCKETS) {
        snprintf(err, errlen, "from must be before to, with at most %d buckets between them",
                 MAX_BUCKETS);
        return CW_STORE_INVALID;
    }
    /* records, detections and noise from the counters; events and notices by their rows */
    static const char *const what[] = {
        "metric = 'records'",
        "metric = 'detections' AND reason = 'kept'",
        NULL,
        NULL,
        "metric = 'detections' AND reason != 'kept'",
    };
    static const char *const by_rows[] = {
        NULL,
        NULL,
        "SELECT first_us / 3600000000, '', COUNT(*) FROM events WHERE first_us >= ?1 * 3600000000"
        " AND first_us < ?2 * 3600000000 AND (?3 = 0 OR member_id = ?3) GROUP BY 1 ORDER BY 1",
        "SELECT created_us / 3600000000, '', COUNT(*) FROM notices WHERE created_us >="
        " ?1 * 3600000000 AND created_us < ?2 * 3600000000 AND (?3 = 0 OR member_id = ?3)"
        " GROUP BY 1 ORDER BY 1",
        NULL,
    };
    char sql[1024];
    if (what[m])
        counter_sql(sql, sizeof(sql), what[m], scope != 0);
    else
        snprintf(sql, sizeof(sql), "%s", by_rows[m]);
    char f[40], t[40];
    cw_time_format_iso(from_us, f);
    cw_time_format_iso(to_us, t);
    if (csv)
        cw_buf_adds(out, m == CW_SERIES_NOISE ? "t,reason,value\n" : "t,value\n");
    else
        cw_buf_addf(out, "{\"metric\":\"%s\",\"bucket\":\"%s\",\"from\":\"%s\",\"to\":\"%s\","
                         "\"points\":[", metric_names[m], bucket_names[bk], f, t);
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    if (cw_store_prep(rd, &st, sql, err, errlen)) {
        cw_store_reader_done(s, rd);
        return -1;
    }
    int64_t h0 = hour_of(from_us), h1 = hour_of(to_us - 1) + 1;
    if (what[m]) {
        counter_bind(st, h0, h1, scope, bk != CW_BUCKET_HOUR);
    } else {
        sqlite3_bind_int64(st, 1, h0);
        sqlite3_bind_int64(st, 2, h1);
        sqlite3_bind_int64(st, 3, scope);
    }
    /* rows come in hour order: a bucket is complete when the next row starts another */
    int64_t cur = INT64_MIN, sum = 0, per[CW_NOISE__COUNT] = {0};
    bool first = true;
    int r;
    for (;;) {
        r = sqlite3_step(st);
        int64_t b = r == SQLITE_ROW ? bucket_start(sqlite3_column_int64(st, 0), bk) : INT64_MAX;
        if (b != cur && cur != INT64_MIN) {
            if (m != CW_SERIES_NOISE)
                point_out(out, csv, &first, cur, NULL, sum);
            for (int k = 1; m == CW_SERIES_NOISE && k < CW_NOISE__COUNT; k++)
                if (per[k])
                    point_out(out, csv, &first, cur,
                              cw_noise_reason_name((enum cw_noise_reason)k), per[k]);
            sum = 0;
            memset(per, 0, sizeof(per));
        }
        if (r != SQLITE_ROW)
            break;
        cur = b;
        int64_t v = sqlite3_column_int64(st, 2);
        sum += v;
        int k = noise_index(sqlite3_column_text(st, 1));
        if (k > 0)
            per[k] += v;
    }
    int rc = 0;
    if (r != SQLITE_DONE) {
        snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(rd));
        rc = -1;
    }
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    if (!csv)
        cw_buf_adds(out, "]}\n");
    return rc;
}

/* ---------------------------------------------------------------- summary */

static const char *const sev_names[] = {"", "critical", "high", "medium", "low", "info"};

int cw_store_summary(struct cw_store *s, uint32_t scope, const char *group, bool csv,
                     unsigned csv_flags, struct cw_buf *out, char *err, size_t errlen)
{
    /* %s is the member condition: none for every member, so that each count reads
     * one covering index (events_class, events_severity, events_open, events_member)
     * and never the table; "(?1 = 0 OR member_id = ?1)" would hide the index. */
    static const struct {
        const char *group, *sql;
    } q[] = {
        {"attack_class", "SELECT attack_class, attack_class, COUNT(*) FROM events"
                         " WHERE 1 %s GROUP BY 1 ORDER BY 3 DESC, 1"},
        {"severity", "SELECT severity, '', COUNT(*) FROM events WHERE 1 %s GROUP BY 1 ORDER BY 1"},
        {"state", "SELECT state, state, COUNT(*) FROM events WHERE 1 %s GROUP BY 1 ORDER BY 3 DESC, 1"},
        /* the daily roll-up (member 0 = all): the same counts as noise_counts, with one
         * row per day and reason */
        {"noise_reason", "SELECT reason, reason, SUM(count) FROM web_days WHERE metric ="
                         " 'detections' AND member_id = ?1 AND reason != 'kept' GROUP BY 1"
                         " ORDER BY 3 DESC, 1"},
        {"member", "SELECT e.member_id, m.name, COUNT(*) FROM events e JOIN members m ON"
                   " m.id = e.member_id WHERE 1 %s GROUP BY 1 ORDER BY 3 DESC, 2"},
    };
    size_t g = 0;
    while (g < sizeof(q) / sizeof(q[0]) && strcmp(q[g].group, group))
        g++;
    if (g == sizeof(q) / sizeof(q[0])) {
        snprintf(err, errlen, "group must be attack_class, severity, state, noise_reason or member");
        return CW_STORE_INVALID;
    }
    char sql[512];
    if (g == 3)
        snprintf(sql, sizeof(sql), "%s", q[g].sql);
    else
        snprintf(sql, sizeof(sql), q[g].sql,
                 !scope ? "" : g == 4 ? "AND e.member_id = ?1" : "AND member_id = ?1");
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    if (cw_store_prep(rd, &st, sql, err, errlen)) {
        cw_store_reader_done(s, rd);
        return -1;
    }
    sqlite3_bind_int64(st, 1, scope);
    if (csv)
        cw_buf_adds(out, "key,label,count\n");
    else
        cw_buf_addf(out, "{\"group\":\"%s\",\"rows\":[", q[g].group);
    int r, n = 0;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        char key[160], label[160];
        snprintf(key, sizeof(key), "%s", (const char *)sqlite3_column_text(st, 0));
        if (g == 1) {
            int sv = sqlite3_column_int(st, 0);
            snprintf(label, sizeof(label), "%s", sv >= 1 && sv <= 5 ? sev_names[sv] : "?");
        } else {
            snprintf(label, sizeof(label), "%s", (const char *)sqlite3_column_text(st, 1));
            for (char *p = label; g != 4 && *p; p++)
                if (*p == '_')
                    *p = ' ';
        }
        long long count = sqlite3_column_int64(st, 2);
        if (csv) {
            /* member names are the coordinator's free text */
            cw_csv_str(out, key, CW_CSV_QUOTE_ALL | csv_flags);
            cw_buf_addc(out, ',');
            cw_csv_str(out, label, CW_CSV_QUOTE_ALL | csv_flags);
            cw_buf_addf(out, ",%lld\n", count);
            continue;
        }
        cw_buf_adds(out, n++ ? ",{\"key\":" : "{\"key\":");
        cw_buf_add_json_str(out, key, strlen(key));
        cw_buf_adds(out, ",\"label\":");
        cw_buf_add_json_str(out, label, strlen(label));
        cw_buf_addf(out, ",\"count\":%lld}", count);
    }
    int rc = 0;
    if (r != SQLITE_DONE) {
        snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(rd));
        rc = -1;
    }
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    if (!csv)
        cw_buf_adds(out, "]}\n");
    return rc;
}

/* ---------------------------------------------------------------- notice statistics */

int cw_store_notice_stats(struct cw_store *s, uint32_t scope, bool csv, struct cw_buf *out,
                          char *err, size_t errlen)
{
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    if (cw_store_prep(rd, &st,
             "SELECT strftime('%Y', created_us / 1000000, 'unixepoch'),"
             " strftime('%m', created_us / 1000000, 'unixepoch'), COUNT(*), COUNT(acked_us)"
             " FROM notices WHERE (?1 = 0 OR member_id = ?1) GROUP BY 1, 2 ORDER BY 1, 2",
             err, errlen)) {
        cw_store_reader_done(s, rd);
        return -1;
    }
    sqlite3_bind_int64(st, 1, scope);
    struct { int fy; int64_t sent, acked; } fys[64];
    size_t nfy = 0;
    cw_buf_adds(out, csv ? "month,sent,acknowledged\n" : "{\"months\":[");
    int r, n = 0;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        int y = sqlite3_column_int(st, 0), mo = sqlite3_column_int(st, 1);
        long long sent = sqlite3_column_int64(st, 2), acked = sqlite3_column_int64(st, 3);
        if (csv)
            cw_buf_addf(out, "%04d-%02d,%lld,%lld\n", y, mo, sent, acked);
        else
            cw_buf_addf(out, "%s{\"month\":\"%04d-%02d\",\"sent\":%lld,\"acknowledged\":%lld}",
                        n++ ? "," : "", y, mo, sent, acked);
        int fy = mo >= 4 ? y : y - 1; /* April-March */
        if (nfy == 0 || fys[nfy - 1].fy != fy) {
            if (nfy == sizeof(fys) / sizeof(fys[0]))
                continue;
            fys[nfy].fy = fy;
            fys[nfy].sent = fys[nfy].acked = 0;
            nfy++;
        }
        fys[nfy - 1].sent += sent;
        fys[nfy - 1].acked += acked;
    }
    int rc = 0;
    if (r != SQLITE_DONE) {
        snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(rd));
        rc = -1;
    }
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    cw_buf_adds(out, csv ? "\nfiscal_year,sent,acknowledged\n" : "],\"fiscal_years\":[");
    for (size_t i = 0; i < nfy; i++) {
        if (csv)
            cw_buf_addf(out, "%d,%lld,%lld\n", fys[i].fy, (long long)fys[i].sent,
                        (long long)fys[i].acked);
        else
            cw_buf_addf(out, "%s{\"fy\":%d,\"sent\":%lld,\"acknowledged\":%lld}", i ? "," : "",
                        fys[i].fy, (long long)fys[i].sent, (long long)fys[i].acked);
    }
    if (!csv)
        cw_buf_adds(out, "]}\n");
    return rc;
}

/* ---------------------------------------------------------------- sensors' health */

int cw_store_sensor_health(struct cw_store *s, int64_t now_us, struct cw_sensor_health **out,
                           size_t *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    if (cw_store_prep(rd, &st,
             "SELECT sensor_id, SUM(CASE WHEN received_us > ?2 THEN accepted ELSE 0 END),"
             " SUM(rejected) FROM batches WHERE received_us > ?1 GROUP BY sensor_id",
             err, errlen)) {
        cw_store_reader_done(s, rd);
        return -1;
    }
    sqlite3_bind_int64(st, 1, now_us - HOUR_US);
    sqlite3_bind_int64(st, 2, now_us - 600 * 1000000LL);
    size_t cap = 0;
    int rc = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            struct cw_sensor_health *p = realloc(*out, cap * sizeof(*p));
            if (!p) {
                snprintf(err, errlen, "out of memory");
                rc = -1;
                break;
            }
            *out = p;
        }
        (*out)[(*n)++] = (struct cw_sensor_health){(uint32_t)sqlite3_column_int64(st, 0),
                                                   sqlite3_column_int64(st, 1),
                                                   sqlite3_column_int64(st, 2)};
    }
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return rc;
}

/* ---------------------------------------------------------------- event page */

int cw_store_event_extras(struct cw_store *s, int64_t event_id, int64_t det_after, int det_limit,
                          struct cw_buf *out, char *err, size_t errlen)
{
    int rc = -1;
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    if (cw_store_prep(rd, &st,
             "SELECT id, noise, detail, rule_id, rule_name, attack_class, severity, ts_us, record"
             " FROM detections WHERE event_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
             err, errlen))
        goto out;
    sqlite3_bind_int64(st, 1, event_id);
    sqlite3_bind_int64(st, 2, det_after);
    sqlite3_bind_int(st, 3, det_limit + 1);
    cw_buf_adds(out, ",\"detections\":{\"items\":[");
    int64_t last = 0;
    int n = 0;
    bool more = false;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == det_limit) {
            more = true;
            break;
        }
        last = sqlite3_column_int64(st, 0);
        cw_buf_addf(out, "%s{\"id\":%lld,\"event_id\":%lld", n++ ? "," : "", (long long)last,
                    (long long)event_id);
        static const char *const keys[] = {NULL, "noise", "detail", "rule_id", "rule_name",
                                           "attack_class"};
        for (int k = 1; k <= 5; k++) {
            const unsigned char *v = sqlite3_column_text(st, k);
            cw_buf_addf(out, ",\"%s\":", keys[k]);
            if (v)
                cw_buf_add_json_str(out, (const char *)v, (size_t)sqlite3_column_bytes(st, k));
            else
                cw_buf_adds(out, "null");
        }
        char ts[40];
        cw_time_format_iso(sqlite3_column_int64(st, 7), ts);
        cw_buf_addf(out, ",\"severity\":%d,\"ts\":\"%s\",\"record\":", sqlite3_column_int(st, 6),
                    ts);
        /* the record column is JSON the store wrote itself (cw_record_to_json) */
        const unsigned char *rec = sqlite3_column_text(st, 8);
        cw_buf_adds(out, rec ? (const char *)rec : "null");
        cw_buf_addc(out, '}');
    }
    if (more)
        cw_buf_addf(out, "],\"next\":%lld}", (long long)last);
    else
        cw_buf_adds(out, "],\"next\":null}");
    sqlite3_finalize(st);
    st = NULL;
    if (cw_store_prep(rd, &st,
             "SELECT ts_us / 3600000000, COUNT(*) FROM detections WHERE event_id = ?1"
             " GROUP BY 1 ORDER BY 1 LIMIT 10000",
             err, errlen))
        goto out;
    sqlite3_bind_int64(st, 1, event_id);
    cw_buf_adds(out, ",\"timeline\":[");
    for (n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
        char ts[40];
        cw_time_format_iso(sqlite3_column_int64(st, 0) * HOUR_US, ts);
        cw_buf_addf(out, "%s{\"t\":\"%s\",\"count\":%lld}", n ? "," : "", ts,
                    (long long)sqlite3_column_int64(st, 1));
    }
    cw_buf_addc(out, ']');
    rc = 0;
out:
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return rc;
}

/* ---------------------------------------------------------------- attachments */

void cw_attachment_json(struct cw_buf *o, const struct cw_attachment *a)
{
    char ts[40];
    cw_time_format_iso(a->created_us, ts);
    cw_buf_addf(o, "{\"id\":%lld,\"notice_id\":%lld,\"name\":", (long long)a->id,
                (long long)a->notice_id);
    cw_buf_add_json_str(o, a->name, strlen(a->name));
    cw_buf_addf(o, ",\"size\":%lld,\"sha256\":\"%s\",\"created\":\"%s\",\"created_by\":",
                (long long)a->size, a->sha256, ts);
    cw_buf_add_json_str(o, a->created_by, strlen(a->created_by));
    cw_buf_addc(o, '}');
}

int cw_store_attachment_add(struct cw_store *s, int64_t notice_id, uint32_t scope,
                            const char *name, const void *data, size_t len, const char *actor,
                            struct cw_attachment *a, char *err, size_t errlen)
{
    memset(a, 0, sizeof(*a));
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, data, len);
    sodium_bin2hex(a->sha256, sizeof(a->sha256), h, sizeof(h));
    snprintf(a->name, sizeof(a->name), "%s", name);
    snprintf(a->created_by, sizeof(a->created_by), "%s", actor);
    a->notice_id = notice_id;
    a->size = (int64_t)len;
    a->created_us = cw_now_us();
    int rc = -1;
    pthread_mutex_lock(&s->wlock);
    sqlite3_stmt *st = NULL;
    if (cw_store_prep(s->w, &st, "SELECT member_id FROM notices WHERE id = ?1 AND"
                                 " (?2 = 0 OR member_id = ?2)", err, errlen))
        goto out;
    sqlite3_bind_int64(st, 1, notice_id);
    sqlite3_bind_int64(st, 2, scope);
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = CW_STORE_NOT_FOUND;
        goto out;
    }
    a->member_id = (uint32_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if (cw_store_prep(s->w, &st,
             "INSERT INTO attachments(notice_id, member_id, name, size, sha256, data, created_us,"
             " created_by) VALUES(?,?,?,?,?,?,?,?)", err, errlen))
        goto out;
    sqlite3_bind_int64(st, 1, notice_id);
    sqlite3_bind_int64(st, 2, a->member_id);
    sqlite3_bind_text(st, 3, a->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, a->size);
    sqlite3_bind_text(st, 5, a->sha256, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 6, len ? data : "", (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, a->created_us);
    sqlite3_bind_text(st, 8, a->created_by, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(s->w));
        goto out;
    }
    a->id = sqlite3_last_insert_rowid(s->w);
    rc = 0;
out:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

static void attachment_from_row(sqlite3_stmt *st, struct cw_attachment *a)
{
    a->id = sqlite3_column_int64(st, 0);
    a->notice_id = sqlite3_column_int64(st, 1);
    a->member_id = (uint32_t)sqlite3_column_int64(st, 2);
    snprintf(a->name, sizeof(a->name), "%s", (const char *)sqlite3_column_text(st, 3));
    a->size = sqlite3_column_int64(st, 4);
    snprintf(a->sha256, sizeof(a->sha256), "%s", (const char *)sqlite3_column_text(st, 5));
    a->created_us = sqlite3_column_int64(st, 6);
    snprintf(a->created_by, sizeof(a->created_by), "%s", (const char *)sqlite3_column_text(st, 7));
}

#define ATT_COLS "SELECT id, notice_id, member_id, name, size, sha256, created_us, created_by"

int cw_store_attachments_json(struct cw_store *s, int64_t notice_id, uint32_t scope,
                              struct cw_buf *out, char *err, size_t errlen)
{
    int rc = -1;
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    if (cw_store_prep(rd, &st, "SELECT 1 FROM notices WHERE id = ?1 AND"
                                 " (?2 = 0 OR member_id = ?2)", err, errlen))
        goto out;
    sqlite3_bind_int64(st, 1, notice_id);
    sqlite3_bind_int64(st, 2, scope);
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = CW_STORE_NOT_FOUND;
        goto out;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (cw_store_prep(rd, &st, ATT_COLS " FROM attachments WHERE notice_id = ? ORDER BY id",
                      err, errlen))
        goto out;
    sqlite3_bind_int64(st, 1, notice_id);
    cw_buf_adds(out, "{\"attachments\":[");
    for (int n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
        struct cw_attachment a;
        attachment_from_row(st, &a);
        if (n)
            cw_buf_addc(out, ',');
        cw_attachment_json(out, &a);
    }
    cw_buf_adds(out, "]}\n");
    rc = 0;
out:
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return rc;
}

int cw_store_attachment_get(struct cw_store *s, int64_t id, uint32_t scope,
                            struct cw_attachment *a, void **data, char *err, size_t errlen)
{
    *data = NULL;
    int rc = -1;
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    if (cw_store_prep(rd, &st, ATT_COLS ", data FROM attachments WHERE id = ?1 AND"
                                 " (?2 = 0 OR member_id = ?2)", err, errlen))
        goto out;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, scope);
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = CW_STORE_NOT_FOUND;
        goto out;
    }
    attachment_from_row(st, a);
    size_t n = (size_t)sqlite3_column_bytes(st, 8);
    *data = malloc(n ? n : 1);
    if (!*data) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (n)
        memcpy(*data, sqlite3_column_blob(st, 8), n);
    a->size = (int64_t)n;
    rc = 0;
out:
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return rc;
}
