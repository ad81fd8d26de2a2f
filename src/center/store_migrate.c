/* store_migrate.c - schema version, pre-versioning check, backup and migrations
 * (see store_migrate.h). Everything here runs on the writer connection before the
 * readers open, so nothing else uses the database meanwhile. */
#include "center/store_migrate.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/banned.h"

/* The production list, oldest first; versions are consecutive from 2. Never edit
 * or reorder a released entry: a database that ran it will not run it again. */
const struct cw_migration cw_store_migrations[] = {
    /* STIX 2.1 3.6: a revoked object is revoked for good, so publishing a revoked
     * indicator again needs a new STIX id (ioc_share.h). stix_gen counts the
     * generations (0 keeps the id of (type, value)); ioc_retired keeps each revoked
     * generation's row as it was, so TAXII goes on serving it revoked. Its columns
     * are the indicators' (store_iocs.c ROW_COLS). */
    {2, "indicators get a STIX generation; revoked generations are kept (ioc_retired)",
     "ALTER TABLE indicators ADD COLUMN stix_gen INTEGER NOT NULL DEFAULT 0;"
     "CREATE TABLE ioc_retired("
     "  id INTEGER NOT NULL, type TEXT NOT NULL, value TEXT NOT NULL, state TEXT NOT NULL,"
     "  tlp INTEGER NOT NULL, audience TEXT NOT NULL, confidence INTEGER NOT NULL,"
     "  source TEXT NOT NULL, source_member INTEGER NOT NULL, source_name TEXT,"
     "  description TEXT, first_seen_us INTEGER, last_seen_us INTEGER,"
     "  valid_until_us INTEGER, published_us INTEGER, created_us INTEGER NOT NULL,"
     "  sightings INTEGER NOT NULL, sample_id INTEGER, created_by TEXT NOT NULL,"
     "  updated_us INTEGER NOT NULL, stix_gen INTEGER NOT NULL,"
     "  PRIMARY KEY(id, stix_gen));",
     NULL},
};
const size_t cw_store_nmigrations = sizeof(cw_store_migrations) / sizeof(cw_store_migrations[0]);

int cw_schema_newest(const struct cw_migration *list, size_t n)
{
    return n ? list[n - 1].version : 1;
}

static int check_list(const struct cw_migration *list, size_t n, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++)
        if (list[i].version != (int)i + 2 || !list[i].what || (!list[i].sql && !list[i].fn)) {
            snprintf(err, errlen, "migration list entry %zu is malformed (versions must run "
                                  "2, 3 ... each with a description and a step)", i);
            return -1;
        }
    return 0;
}

static int exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int int_query(sqlite3 *db, const char *sql, int *out, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot read the schema: %s", sqlite3_errmsg(db));
        return -1;
    }
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        snprintf(err, errlen, "cannot read the schema: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return -1;
    }
    *out = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return 0;
}

static const char count_tables[] =
    "SELECT count(*) FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'";

/* -- pre-versioning check ------------------------------------------------------
 * The reference is the baseline built in memory, so the column list is the DDL itself
 * and cannot drift from it. A table the old database lacks entirely is fine (the
 * baseline creates it empty); a table lacking a column is refused: what its rows would
 * hold there is unknown. */
static int has_column(sqlite3 *db, const char *table, const char *col, bool *yes, char *err,
                      size_t errlen)
{
    sqlite3_stmt *st = NULL;
    *yes = false;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info(?1) WHERE name=?2", -1, &st,
                           NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot read the schema: %s", sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, col, -1, SQLITE_STATIC);
    *yes = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return 0;
}

static int table_exists(sqlite3 *db, const char *table, bool *yes, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?1",
                           -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot read the schema: %s", sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    *yes = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return 0;
}

static int check_baseline_columns(sqlite3 *db, cw_schema_baseline_fn baseline, char *err,
                                  size_t errlen)
{
    sqlite3 *ref = NULL;
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_open_v2(":memory:", &ref, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "cannot build the reference schema: out of memory");
        goto out;
    }
    if (baseline(ref, err, errlen))
        goto out;
    if (sqlite3_prepare_v2(ref,
                           "SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c"
                           " WHERE m.type='table' AND m.name NOT LIKE 'sqlite_%' ORDER BY 1, c.cid",
                           -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot read the reference schema: %s", sqlite3_errmsg(ref));
        goto out;
    }
    char last[256] = "";
    bool exists = false;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        const char *c = (const char *)sqlite3_column_text(st, 1);
        if (strcmp(t, last) != 0) {
            snprintf(last, sizeof(last), "%s", t);
            if (table_exists(db, t, &exists, err, errlen))
                goto out;
        }
        bool has = false;
        if (!exists)
            continue;
        if (has_column(db, t, c, &has, err, errlen))
            goto out;
        if (!has) {
            snprintf(err, errlen,
                     "database has no schema version and lacks column %s.%s that this "
                     "crosswatch needs: not stamping it (restore a matching crosswatch or a "
                     "backup)", t, c);
            goto out;
        }
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    sqlite3_close(ref);
    return rc;
}

/* Baseline + user_version 1 in one transaction: an empty database is created whole or
 * not at all, a pre-versioning one gains its missing tables and the stamp together. */
static int stamp_baseline(sqlite3 *db, cw_schema_baseline_fn baseline, char *err,
                          size_t errlen)
{
    char why[512];
    if (exec(db, "BEGIN IMMEDIATE", why, sizeof(why)) == 0 &&
        baseline(db, why, sizeof(why)) == 0 && exec(db, "PRAGMA user_version=1", why, sizeof(why)) == 0 &&
        exec(db, "COMMIT", why, sizeof(why)) == 0)
        return 0;
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    snprintf(err, errlen, "cannot create the version 1 schema: %s", why);
    return -1;
}

/* -- backup ------------------------------------------------------------------
 * An online copy (sqlite3_backup) to a .part name, synced, then renamed: a file named
 * store-v*.db is always a complete database. */
static int fsync_path(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static int write_backup(sqlite3 *db, const char *data_dir, int version, char *out, size_t cap,
                        char *err, size_t errlen)
{
    char dir[4096], part[4300];
    snprintf(dir, sizeof(dir), "%s/backup", data_dir);
    struct stat sb;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create the backup directory %.900s: %s", dir, strerror(errno));
        return -1;
    }
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "the backup directory %.900s is not a directory", dir);
        return -1;
    }
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char ts[32];
    strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
    for (int k = 0;; k++) { /* two upgrades in one second keep both files */
        if (k == 0)
            snprintf(out, cap, "%s/store-v%d-%s.db", dir, version, ts);
        else
            snprintf(out, cap, "%s/store-v%d-%s-%d.db", dir, version, ts, k);
        if (stat(out, &sb) != 0)
            break;
    }
    snprintf(part, sizeof(part), "%s.part", out);
    unlink(part);
    sqlite3 *dst = NULL;
    int rc = sqlite3_open_v2(part, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    sqlite3_backup *b = rc == SQLITE_OK ? sqlite3_backup_init(dst, "main", db, "main") : NULL;
    if (b) {
        rc = sqlite3_backup_step(b, -1);
        if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
        int fin = sqlite3_backup_finish(b);
        if (rc == SQLITE_OK)
            rc = fin;
    } else if (rc == SQLITE_OK) {
        rc = sqlite3_errcode(dst);
    }
    if (rc != SQLITE_OK)
        snprintf(err, errlen, "cannot write the backup %.900s: %s", part,
                 dst ? sqlite3_errmsg(dst) : sqlite3_errstr(rc));
    sqlite3_close(dst);
    if (rc == SQLITE_OK && fsync_path(part, O_RDONLY) != 0) {
        snprintf(err, errlen, "cannot sync the backup %.900s: %s", part, strerror(errno));
        rc = SQLITE_IOERR;
    }
    if (rc == SQLITE_OK && rename(part, out) != 0) {
        snprintf(err, errlen, "cannot name the backup %.900s: %s", out, strerror(errno));
        rc = SQLITE_IOERR;
    }
    if (rc != SQLITE_OK) {
        unlink(part);
        out[0] = '\0';
        return -1;
    }
    fsync_path(dir, O_RDONLY | O_DIRECTORY);
    chmod(out, 0600);
    return 0;
}

/* -- migrations --------------------------------------------------------------- */
static int run_step(sqlite3 *db, const struct cw_migration *m, char *err, size_t errlen)
{
    char set[64];
    snprintf(set, sizeof(set), "PRAGMA user_version=%d", m->version);
    if (exec(db, "BEGIN IMMEDIATE", err, errlen))
        return -1;
    int rc = m->sql ? exec(db, m->sql, err, errlen) : m->fn(db, err, errlen);
    if (rc == 0)
        rc = exec(db, set, err, errlen);
    if (rc == 0)
        rc = exec(db, "COMMIT", err, errlen);
    if (rc != 0)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static int migrate(sqlite3 *db, const char *data_dir, const struct cw_migration *list, size_t n,
                   bool backup, struct cw_schema_result *res, char *err, size_t errlen)
{
    char why[1024];
    for (size_t i = 0; i < n; i++) {
        const struct cw_migration *m = &list[i];
        if (m->version <= res->to)
            continue;
        if (backup && !res->backup[0]) {
            if (write_backup(db, data_dir, res->to, res->backup, sizeof(res->backup), why,
                             sizeof(why))) {
                snprintf(err, errlen, "refusing to migrate the database from version %d: %s "
                                      "(nothing was changed)", res->to, why);
                return -1;
            }
            cw_info("store: backup of the version %d database before migrating: %s", res->to,
                    res->backup);
        }
        if (run_step(db, m, why, sizeof(why))) {
            snprintf(err, errlen, "migration to schema version %d (%s) failed: %s; the database "
                                  "stays at version %d%s%s", m->version, m->what, why, res->to,
                     res->backup[0] ? ", backup: " : "", res->backup);
            return -1;
        }
        cw_info("store: migrated the database to schema version %d: %s", m->version, m->what);
        res->to = m->version;
    }
    return 0;
}

int cw_schema_upgrade(sqlite3 *db, const char *data_dir, cw_schema_baseline_fn baseline,
                      const struct cw_migration *list, size_t n, struct cw_schema_result *res,
                      char *err, size_t errlen)
{
    memset(res, 0, sizeof(*res));
    int newest = cw_schema_newest(list, n), tables = 0;
    if (check_list(list, n, err, errlen) ||
        int_query(db, "PRAGMA user_version", &res->from, err, errlen) ||
        int_query(db, count_tables, &tables, err, errlen))
        return -1;
    res->to = res->from;
    if (res->from > newest) {
        snprintf(err, errlen, "database schema version %d is newer than this crosswatch (knows "
                              "up to %d); upgrade crosswatch", res->from, newest);
        return -1;
    }
    if (res->from < 0) {
        snprintf(err, errlen, "database schema version %d is invalid", res->from);
        return -1;
    }
    if (res->from == 0) {
        res->created = tables == 0;
        if (!res->created && check_baseline_columns(db, baseline, err, errlen))
            return -1;
        if (stamp_baseline(db, baseline, err, errlen))
            return -1;
        res->to = 1;
        res->stamped = !res->created;
        if (res->stamped)
            cw_info("store: the database predates schema versions; every version 1 column "
                    "is present: stamped version 1");
    } else if (baseline(db, err, errlen)) {
        /* versioned: the module schemas are CREATE ... IF NOT EXISTS and only add what
         * is missing (a table added to the baseline since); changes are migrations */
        return -1;
    }
    /* an empty database has nothing to lose: no backup */
    return migrate(db, data_dir, list, n, !res->created, res, err, errlen);
}

/* -- status ------------------------------------------------------------------- */
static void last_backup(const char *data_dir, char *out, size_t cap)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/backup", data_dir);
    out[0] = '\0';
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    time_t best = 0;
    char best_name[256] = "";
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "store-v", 7) != 0 || len < 4 ||
            strcmp(e->d_name + len - 3, ".db") != 0)
            continue;
        char p[4400];
        struct stat sb;
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        if (stat(p, &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        if (sb.st_mtime > best || (sb.st_mtime == best && strcmp(e->d_name, best_name) > 0)) {
            best = sb.st_mtime;
            snprintf(best_name, sizeof(best_name), "%s", e->d_name);
        }
    }
    closedir(d);
    if (best_name[0])
        snprintf(out, cap, "%s/%s", dir, best_name);
}

int cw_schema_status(const char *data_dir, const struct cw_migration *list, size_t n,
                     struct cw_schema_status *st, char *err, size_t errlen)
{
    memset(st, 0, sizeof(*st));
    st->newest = cw_schema_newest(list, n);
    char path[4200];
    snprintf(path, sizeof(path), "%s/crosswatch.db", data_dir);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        snprintf(err, errlen, "no database at %.900s: %s", path, strerror(errno));
        return -1;
    }
    /* read-write without CREATE, then query_only: a read-only open of a WAL database
     * fails when its -shm file is absent (a stopped center) */
    sqlite3 *db = NULL;
    int tables = 0, rc = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %.900s: %s", path, db ? sqlite3_errmsg(db) : "?");
        goto out;
    }
    sqlite3_busy_timeout(db, 5000);
    if (exec(db, "PRAGMA query_only=1", err, errlen) ||
        int_query(db, "PRAGMA user_version", &st->version, err, errlen) ||
        int_query(db, count_tables, &tables, err, errlen))
        goto out;
    st->empty = st->version == 0 && tables == 0;
    st->preversioning = st->version == 0 && tables > 0;
    last_backup(data_dir, st->last_backup, sizeof(st->last_backup));
    rc = 0;
out:
    sqlite3_close(db);
    return rc;
}
