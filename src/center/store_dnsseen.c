/* store_dnsseen.c - DATA_DIR/dns_seen.db: (hash, day) rows of the NOD table. */
#include "center/store_dnsseen.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/banned.h"

struct cw_dnsseen {
    sqlite3 *db;
    sqlite3_stmt *put, *meta_put;
    int64_t nod_days;
    int32_t pruned_day;
};

static int ds_load(void *ctx, int (*cb)(void *arg, uint64_t h, int32_t day), void *arg,
                   int64_t *since_us)
{
    struct cw_dnsseen *s = ctx;
    sqlite3_stmt *st = NULL;
    *since_us = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT v FROM dns_seen_meta WHERE k='since_us'", -1, &st,
                           NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        *since_us = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    /* newest first: if the table holds more than the detector keeps, it keeps the
     * most recently seen */
    if (sqlite3_prepare_v2(s->db, "SELECT h, day FROM dns_seen ORDER BY day DESC", -1, &st,
                           NULL) != SQLITE_OK)
        return -1;
    int rc, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (cb(arg, (uint64_t)sqlite3_column_int64(st, 0), (int32_t)sqlite3_column_int(st, 1))) {
            sqlite3_finalize(st);
            return -1;
        }
        n++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return -1;
    cw_info("dns flags: %d newly-observed-domain entries restored", n);
    return 0;
}

static int ds_save(void *ctx, const uint64_t *h, const int32_t *day, size_t n, int64_t since_us)
{
    struct cw_dnsseen *s = ctx;
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    int32_t maxday = INT32_MIN;
    for (size_t i = 0; i < n; i++) {
        sqlite3_reset(s->put);
        sqlite3_bind_int64(s->put, 1, (int64_t)h[i]);
        sqlite3_bind_int(s->put, 2, day[i]);
        if (sqlite3_step(s->put) != SQLITE_DONE)
            goto fail;
        if (day[i] > maxday)
            maxday = day[i];
    }
    sqlite3_reset(s->meta_put);
    sqlite3_bind_int64(s->meta_put, 1, since_us);
    if (sqlite3_step(s->meta_put) != SQLITE_DONE)
        goto fail;
    if (n && maxday != s->pruned_day) {
        /* once per day of record time: forget what is older than nod_days */
        char sql[128];
        snprintf(sql, sizeof(sql), "DELETE FROM dns_seen WHERE day < %lld",
                 (long long)maxday - (long long)s->nod_days);
        if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
            goto fail;
        s->pruned_day = maxday;
    }
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    return 0;
fail:
    cw_warn("dns flags: saving the newly-observed-domain table: %s", sqlite3_errmsg(s->db));
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

struct cw_dnsseen *cw_dnsseen_open(const char *data_dir, int64_t nod_days,
                                   struct cw_dnsseen_ops *ops, char *err, size_t errlen)
{
    struct cw_dnsseen *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->nod_days = nod_days > 0 ? nod_days : 30;
    s->pruned_day = INT32_MIN;
    char path[4200];
    snprintf(path, sizeof(path), "%s/dns_seen.db", data_dir);
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                          SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_busy_timeout(s->db, 10000);
    if (sqlite3_exec(s->db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     "CREATE TABLE IF NOT EXISTS dns_seen(h INTEGER PRIMARY KEY, day INTEGER NOT NULL);"
                     "CREATE INDEX IF NOT EXISTS dns_seen_day ON dns_seen(day);"
                     "CREATE TABLE IF NOT EXISTS dns_seen_meta(k TEXT PRIMARY KEY, v INTEGER);",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db,
                           "INSERT INTO dns_seen(h, day) VALUES(?, ?) ON CONFLICT(h) DO UPDATE "
                           "SET day = max(day, excluded.day)",
                           -1, &s->put, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db,
                           "INSERT INTO dns_seen_meta(k, v) VALUES('since_us', ?) ON CONFLICT(k) "
                           "DO UPDATE SET v = excluded.v",
                           -1, &s->meta_put, NULL) != SQLITE_OK)
        goto fail;
    ops->ctx = s;
    ops->load = ds_load;
    ops->save = ds_save;
    return s;
fail:
    snprintf(err, errlen, "%s: %s", path, s->db ? sqlite3_errmsg(s->db) : "cannot open");
    cw_dnsseen_close(s);
    return NULL;
}

void cw_dnsseen_close(struct cw_dnsseen *s)
{
    if (!s)
        return;
    sqlite3_finalize(s->put);
    sqlite3_finalize(s->meta_put);
    sqlite3_close(s->db);
    free(s);
}
