/* store_incstats.c - the fiscal-year statistics of the sharing system, in the layout of
 * the national annual report (store_incidents.h, docs/incidents.md).
 *
 * Incidents, their causes and shared items carry their fiscal quarter (fq) from the
 * moment they are written, indexed with the classification code, so each dimension is
 * one covering-index range scan grouped by (fq, code) over the five years asked for.
 * The monitoring rows count rows of other modules' tables by time, bucketed with the
 * quarter boundaries in one scan each. An incident is counted once per row it belongs
 * to (event and attack are single-valued; causes are a set without repeats), so
 * "nothing counted twice" holds by construction. */
#include <stdio.h>
#include <string.h>

#include "center/store_impl.h"
#include "center/store_incidents.h"
#include "common/banned.h"

/* Column of fiscal quarter fq for a report on fy, or -1. Quarters of fy add to both
 * their quarter column and the total. */
static void add(struct cw_stats_row *row, int fy, int32_t fq, int64_t n)
{
    int y = fq / 4;
    if (y >= fy - 4 && y < fy)
        row->v[y - (fy - 4)] += n;
    else if (y == fy) {
        row->v[4 + fq % 4] += n;
        row->v[8] += n;
    }
}

static void rows_init(struct cw_stats_row *rows)
{
    static const struct {
        const char *key, *label, *ja;
    } fixed[] = {
        [CW_STATS_REPORTS] = {"reports", "reports from operators to the coordinator",
                              "重要インフラ事業者等からの情報連絡"},
        [CW_STATS_MINISTRY] = {"ministry_info", "information from ministries/agencies",
                               "重要インフラ所管省庁からの情報連絡"},
        [CW_STATS_COORD] = {"coordinator_info", "information provided by the coordinator",
                            "内閣官房からの情報提供"},
    };
    static const struct {
        const char *key, *label, *ja;
    } mon[] = {
        {"monitoring.events", "monitoring — events requiring confirmation", "要確認イベント"},
        {"monitoring.notices", "monitoring — notices sent", "通報"},
        {"monitoring.indicators", "monitoring — indicators shared", "共有した指標(IoC)"},
        {"monitoring.advisories", "monitoring — vulnerability advisories sent",
         "脆弱性情報の提供"},
    };
    memset(rows, 0, sizeof(*rows) * CW_STATS_ROWS);
    for (int i = 0; i < 3; i++) {
        snprintf(rows[i].key, sizeof(rows[i].key), "%s", fixed[i].key);
        rows[i].label = fixed[i].label;
        rows[i].label_ja = fixed[i].ja;
    }
    size_t n;
    const struct cw_tax_entry *e = cw_tax_entries(CW_TAX_EVENT, &n);
    for (size_t i = 0; i < n; i++) {
        struct cw_stats_row *r = &rows[CW_STATS_EVENT0 + i];
        snprintf(r->key, sizeof(r->key), "event.%s", e[i].code);
        r->label = e[i].row, r->label_ja = e[i].ja;
    }
    e = cw_tax_entries(CW_TAX_CAUSE, &n);
    for (size_t i = 0; i < n; i++) {
        struct cw_stats_row *r = &rows[CW_STATS_CAUSE0 + i];
        snprintf(r->key, sizeof(r->key), "cause.%s", e[i].code);
        r->label = e[i].row, r->label_ja = e[i].ja;
    }
    snprintf(rows[CW_STATS_ATTACK_TOTAL].key, 24, "attack.total");
    rows[CW_STATS_ATTACK_TOTAL].label = "attack kind — total";
    rows[CW_STATS_ATTACK_TOTAL].label_ja = "サイバー攻撃 計";
    e = cw_tax_entries(CW_TAX_ATTACK, &n);
    for (size_t i = 0; i < n; i++) {
        struct cw_stats_row *r = &rows[CW_STATS_ATTACK0 + i];
        snprintf(r->key, sizeof(r->key), "attack.%s", e[i].code);
        r->label = e[i].row, r->label_ja = e[i].ja;
    }
    for (int i = 0; i < 4; i++) {
        snprintf(rows[CW_STATS_MON_EVENTS + i].key, 24, "%s", mon[i].key);
        rows[CW_STATS_MON_EVENTS + i].label = mon[i].label;
        rows[CW_STATS_MON_EVENTS + i].label_ja = mon[i].ja;
    }
}

/* (fq, code, count) rows of one grouped query; cb puts them in place. */
static int grouped(sqlite3 *rd, const char *sql, int fy, struct cw_stats_row *rows,
                   void (*cb)(struct cw_stats_row *, int, int32_t, const char *, int64_t),
                   char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int rc = cw_store_prep(rd, &st, sql, err, errlen);
    if (rc)
        return rc;
    sqlite3_bind_int(st, 1, (fy - 4) * 4);
    sqlite3_bind_int(st, 2, fy * 4 + 3);
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW)
        cb(rows, fy, sqlite3_column_int(st, 0), (const char *)sqlite3_column_text(st, 1),
           sqlite3_column_int64(st, 2));
    if (r != SQLITE_DONE) {
        snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(rd));
        rc = -1;
    }
    sqlite3_finalize(st);
    return rc;
}

static void on_event(struct cw_stats_row *rows, int fy, int32_t fq, const char *code, int64_t n)
{
    size_t i;
    add(&rows[CW_STATS_REPORTS], fy, fq, n);
    if (code && cw_tax_find(CW_TAX_EVENT, code, &i))
        add(&rows[CW_STATS_EVENT0 + i], fy, fq, n);
}

static void on_attack(struct cw_stats_row *rows, int fy, int32_t fq, const char *code, int64_t n)
{
    size_t i;
    if (code && cw_tax_find(CW_TAX_ATTACK, code, &i)) {
        add(&rows[CW_STATS_ATTACK_TOTAL], fy, fq, n);
        add(&rows[CW_STATS_ATTACK0 + i], fy, fq, n);
    }
}

static void on_cause(struct cw_stats_row *rows, int fy, int32_t fq, const char *code, int64_t n)
{
    size_t i;
    if (code && cw_tax_find(CW_TAX_CAUSE, code, &i))
        add(&rows[CW_STATS_CAUSE0 + i], fy, fq, n);
}

static void on_item(struct cw_stats_row *rows, int fy, int32_t fq, const char *kind, int64_t n)
{
    if (!kind)
        return;
    if (!strcmp(kind, "ministry_info"))
        add(&rows[CW_STATS_MINISTRY], fy, fq, n);
    else
        add(&rows[CW_STATS_COORD], fy, fq, n); /* alerts and advisories */
    if (!strcmp(kind, "advisory"))
        add(&rows[CW_STATS_MON_ADVISORIES], fy, fq, n);
}

static bool has_column(sqlite3 *rd, const char *table, const char *col)
{
    char sql[96], err[64];
    snprintf(sql, sizeof(sql), "PRAGMA table_info(%s)", table);
    sqlite3_stmt *st = NULL;
    bool yes = false;
    if (cw_store_prep(rd, &st, sql, err, sizeof(err)) == 0)
        while (!yes && sqlite3_step(st) == SQLITE_ROW)
            yes = !strcmp((const char *)sqlite3_column_text(st, 1), col);
    sqlite3_finalize(st);
    return yes;
}

/* Rows of table by time column col in the 8 buckets (4 years, 4 quarters): one scan. */
static int by_time(sqlite3 *rd, const char *table, const char *col, const char *where,
                   int fy, struct cw_stats_row *row, char *err, size_t errlen)
{
    int64_t edge[9];
    for (int i = 0; i < 4; i++)
        edge[i] = cw_fiscal_quarter_start((fy - 4 + i) * 4);
    for (int q = 0; q < 5; q++)
        edge[4 + q] = cw_fiscal_quarter_start(fy * 4 + q);
    char sql[768];
    snprintf(sql, sizeof(sql),
             "SELECT CASE WHEN %1$s < ?2 THEN 0 WHEN %1$s < ?3 THEN 1 WHEN %1$s < ?4 THEN 2"
             " WHEN %1$s < ?5 THEN 3 WHEN %1$s < ?6 THEN 4 WHEN %1$s < ?7 THEN 5 WHEN %1$s < ?8"
             " THEN 6 ELSE 7 END, COUNT(*) FROM %2$s WHERE %1$s >= ?1 AND %1$s < ?9%3$s"
             " GROUP BY 1",
             col, table, where);
    sqlite3_stmt *st = NULL;
    int rc = cw_store_prep(rd, &st, sql, err, errlen);
    if (rc)
        return rc;
    for (int i = 0; i < 9; i++)
        sqlite3_bind_int64(st, i + 1, edge[i]);
    while (sqlite3_step(st) == SQLITE_ROW) {
        int b = sqlite3_column_int(st, 0);
        int64_t n = sqlite3_column_int64(st, 1);
        if (b >= 0 && b < 8)
            row->v[b] += n;
        if (b >= 4 && b < 8)
            row->v[8] += n;
    }
    sqlite3_finalize(st);
    return 0;
}

int cw_store_incident_stats(struct cw_store *s, int fy, struct cw_stats_row *rows, char *err,
                            size_t errlen)
{
    if (fy < 2000 || fy > 2100) {
        snprintf(err, errlen, "fiscal year must be between 2000 and 2100");
        return CW_STORE_INVALID;
    }
    rows_init(rows);
    sqlite3 *rd = cw_store_reader(s);
    /* one read transaction: every row sees the same snapshot */
    sqlite3_exec(rd, "BEGIN", NULL, NULL, NULL);
    int rc = grouped(rd,
                     "SELECT fq, event_code, COUNT(*) FROM incidents WHERE fq BETWEEN ?1 AND ?2"
                     " GROUP BY fq, event_code",
                     fy, rows, on_event, err, errlen);
    if (!rc)
        rc = grouped(rd,
                     "SELECT fq, attack_code, COUNT(*) FROM incidents WHERE fq BETWEEN ?1 AND ?2"
                     " AND attack_code IS NOT NULL GROUP BY fq, attack_code",
                     fy, rows, on_attack, err, errlen);
    if (!rc)
        rc = grouped(rd,
                     "SELECT fq, cause_code, COUNT(*) FROM incident_causes WHERE fq BETWEEN ?1"
                     " AND ?2 GROUP BY fq, cause_code",
                     fy, rows, on_cause, err, errlen);
    if (!rc)
        rc = grouped(rd,
                     "SELECT fq, kind, COUNT(*) FROM shared_items WHERE fq BETWEEN ?1 AND ?2"
                     " GROUP BY fq, kind",
                     fy, rows, on_item, err, errlen);
    /* merged events are counted in the event they were merged into */
    if (!rc)
        rc = by_time(rd, "events", "created_us", " AND state != 'duplicate'", fy,
                     &rows[CW_STATS_MON_EVENTS], err, errlen);
    if (!rc)
        rc = by_time(rd, "notices", "created_us", "", fy, &rows[CW_STATS_MON_NOTICES], err,
                     errlen);
    /* the indicator store (store_iocs.c) when this center has it */
    if (!rc && has_column(rd, "indicators", "published_us"))
        rc = by_time(rd, "indicators", "published_us", " AND published_us IS NOT NULL", fy,
                     &rows[CW_STATS_MON_INDICATORS], err, errlen);
    sqlite3_exec(rd, "COMMIT", NULL, NULL, NULL);
    cw_store_reader_done(s, rd);
    return rc;
}
