/* test_store_migrate.c - the store's schema version (store_migrate.h) on real SQLite
 * files in a temporary directory: creation at the newest version, stamping of a
 * database made before versioning, refusals (missing column, newer version, backup
 * not writable), an upgrade with its backup, and a failing step that leaves the
 * previous version and its rows intact. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "center/ioc_share.h"
#include "center/store.h"
#include "center/store_iocs.h"
#include "center/store_migrate.h"
#include "testlib.h"

static char base[256];

static void dir_for(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", base, name);
    mkdir(out, 0700);
}

static sqlite3 *raw_open(const char *dir_or_file, bool is_dir)
{
    char p[1024];
    if (is_dir)
        snprintf(p, sizeof(p), "%s/crosswatch.db", dir_or_file);
    else
        snprintf(p, sizeof(p), "%s", dir_or_file);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(p, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        fprintf(stderr, "cannot open %s\n", p);
        return db;
    }
    sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
    return db;
}

static long long q_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    long long v = -999;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static bool q_ok(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
}

static int count_backups(const char *dir)
{
    char p[1024];
    snprintf(p, sizeof(p), "%s/backup", dir);
    DIR *d = opendir(p);
    int n = 0;
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strncmp(e->d_name, "store-v", 7) == 0;
    closedir(d);
    return n;
}

/* A database as a crosswatch before versioning left it: the baseline DDL, user_version
 * 0, and rows in a core table and in a module's table. */
static sqlite3 *preversioning_db(const char *dir)
{
    sqlite3 *db = raw_open(dir, true);
    char err[256];
    CHECK_EQ_INT(cw_store_baseline(db, err, sizeof(err)), 0);
    CHECK(q_ok(db, "INSERT INTO members(id, name, created_us) VALUES(7, 'alpha', 1),"
                   "(8, 'beta', 2)"));
    CHECK(q_ok(db, "INSERT INTO indicators(type, value, tlp, confidence, source, created_us,"
                   " updated_us, created_by) VALUES('domain', 'evil.example', 1, 50, 'analyst',"
                   " 1, 1, 'test')"));
    CHECK_EQ_INT(q_int(db, "PRAGMA user_version"), 0);
    return db;
}

static void test_fresh(void)
{
    char dir[512], err[512];
    dir_for(dir, sizeof(dir), "fresh");
    struct cw_store *s = NULL;
    CHECK_EQ_INT(cw_store_open(&s, dir, NULL, err, sizeof(err)), 0);
    uint32_t id = 0;
    CHECK_EQ_INT(cw_store_member_add(s, "alpha", &id, err, sizeof(err)), 0);
    cw_store_close(s);
    sqlite3 *db = raw_open(dir, true);
    int newest = cw_schema_newest(cw_store_migrations, cw_store_nmigrations);
    CHECK(newest >= 1);
    CHECK_EQ_INT(q_int(db, "PRAGMA user_version"), newest);
    CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM members"), 1);
    sqlite3_close(db);
    CHECK_EQ_INT(count_backups(dir), 0); /* an empty database has nothing to back up */
    /* reopening changes nothing */
    CHECK_EQ_INT(cw_store_open(&s, dir, NULL, err, sizeof(err)), 0);
    cw_store_close(s);
    CHECK_EQ_INT(count_backups(dir), 0);
    struct cw_schema_status st;
    CHECK_EQ_INT(cw_schema_status(dir, cw_store_migrations, cw_store_nmigrations, &st, err,
                                  sizeof(err)), 0);
    CHECK_EQ_INT(st.version, newest);
    CHECK_EQ_INT(st.newest, newest);
    CHECK(!st.preversioning && !st.empty);
    CHECK_EQ_STR(st.last_backup, "");
}

static void test_preversioning_stamped(void)
{
    char dir[512], err[512];
    dir_for(dir, sizeof(dir), "prever");
    sqlite3 *db = preversioning_db(dir);
    /* a module table added after this database was made: it is created, empty */
    CHECK(q_ok(db, "DROP TABLE drill_contacts"));
    sqlite3_close(db);
    struct cw_schema_status st;
    CHECK_EQ_INT(cw_schema_status(dir, cw_store_migrations, cw_store_nmigrations, &st, err,
                                  sizeof(err)), 0);
    CHECK(st.preversioning);
    CHECK_EQ_INT(st.version, 0);

    struct cw_store *s = NULL;
    CHECK_EQ_INT(cw_store_open(&s, dir, NULL, err, sizeof(err)), 0);
    if (s) {
        struct cw_member_info m;
        CHECK_EQ_INT(cw_store_member_find(s, "beta", &m), 0);
        CHECK_EQ_INT(m.id, 8);
        cw_store_close(s);
    }
    db = raw_open(dir, true);
    CHECK_EQ_INT(q_int(db, "PRAGMA user_version"),
                 cw_schema_newest(cw_store_migrations, cw_store_nmigrations));
    CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM members"), 2);
    CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM indicators WHERE value='evil.example'"), 1);
    CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM drill_contacts"), 0);
    sqlite3_close(db);

    /* the runner reports the stamp */
    char dir2[512];
    dir_for(dir2, sizeof(dir2), "prever2");
    db = preversioning_db(dir2);
    struct cw_schema_result r;
    CHECK_EQ_INT(cw_schema_upgrade(db, dir2, cw_store_baseline, NULL, 0, &r, err, sizeof(err)), 0);
    CHECK(r.stamped && !r.created);
    CHECK_EQ_INT(r.from, 0);
    CHECK_EQ_INT(r.to, 1);
    CHECK_EQ_INT(q_int(db, "PRAGMA user_version"), 1);
    sqlite3_close(db);
}

static void test_preversioning_missing_column(void)
{
    char dir[512], err[512] = "";
    dir_for(dir, sizeof(dir), "missing");
    sqlite3 *db = preversioning_db(dir);
    CHECK(q_ok(db, "ALTER TABLE sensors DROP COLUMN duplicates"));
    sqlite3_close(db);
    struct cw_store *s = NULL;
    CHECK_EQ_INT(cw_store_open(&s, dir, NULL, err, sizeof(err)), -1);
    CHECK(strstr(err, "sensors.duplicates") != NULL);
    fprintf(stderr, "refused as expected: %s\n", err);
    db = raw_open(dir, true);
    CHECK_EQ_INT(q_int(db, "PRAGMA user_version"), 0);
    CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM members"), 2);
    CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM pragma_table_info('sensors') WHERE "
                           "name='duplicates'"), 0);
    sqlite3_close(db);
}

static void test_newer_refused(void)
{
    char dir[512], err[512] = "", want[256];
    dir_for(dir, sizeof(dir), "newer");
    struct cw_store *s = NULL;
    CHECK_EQ_INT(cw_store_open(&s, dir, NULL, err, sizeof(err)), 0);
    cw_store_close(s);
    int newest = cw_schema_newest(cw_store_migrations, cw_store_nmigrations);
    sqlite3 *db = raw_open(dir, true);
    char set[64];
    snprintf(set, sizeof(set), "PRAGMA user_version=%d", newest + 5);
    CHECK(q_ok(db, set));
    CHECK(q_ok(db, "INSERT INTO members(name, created_us) VALUES('kept', 3)"));
    sqlite3_close(db);
    s = NULL;
    CHECK_EQ_INT(cw_store_open(&s, dir, NULL, err, sizeof(err)), -1);
    CHECK(s == NULL);
    snprintf(want, sizeof(want), "database schema version %d is newer than this crosswatch "
                                 "(knows up to %d); upgrade crosswatch", newest + 5, newest);
    CHECK_EQ_STR(err, want);
    db = raw_open(dir, true);
    CHECK_EQ_INT(q_int(db, "PRAGMA user_version"), newest + 5);
    CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM members WHERE name='kept'"), 1);
    sqlite3_close(db);
}

/* A list with real steps: a column with a default, then an index on it. */
static const struct cw_migration good_list[] = {
    {2, "members get a note", "ALTER TABLE members ADD COLUMN note TEXT NOT NULL DEFAULT '-';"
                              "UPDATE members SET note = name || '!'", NULL},
    {3, "index on the note", "CREATE INDEX members_note ON members(note)", NULL},
};

/* Step 3 does work and then fails: its transaction must take the work back. */
static const struct cw_migration bad_list[] = {
    {2, "members get a note", "ALTER TABLE members ADD COLUMN note TEXT NOT NULL DEFAULT '-'",
     NULL},
    {3, "broken step", "CREATE TABLE junk(a); INSERT INTO junk VALUES(1);"
                       "DELETE FROM members; INSERT INTO no_such_table VALUES(1)", NULL},
};

static int failing_fn(sqlite3 *db, char *err, size_t errlen)
{
    sqlite3_exec(db, "DELETE FROM members", NULL, NULL, NULL);
    snprintf(err, errlen, "step gave up");
    return -1;
}

static const struct cw_migration bad_first[] = {
    {2, "deletes then fails", NULL, failing_fn},
};

/* A version 1 database (the baseline) with two members and an indicator, as the
 * crosswatch of version 1 left it. */
static sqlite3 *v1_db(const char *dir)
{
    sqlite3 *db = preversioning_db(dir);
    CHECK(q_ok(db, "PRAGMA user_version=1"));
    return db;
}

/* The production list on a version 1 database with rows: migrated at open, after
 * a backup that opens and holds the version 1 rows. */
static void test_production_upgrade(void)
{
    char dir[512], err[512] = "";
    dir_for(dir, sizeof(dir), "production");
    sqlite3 *db = v1_db(dir);
    sqlite3_close(db);
    int newest = cw_schema_newest(cw_store_migrations, cw_store_nmigrations);
    CHECK(newest >= 2);
    struct cw_store *s = NULL;
    CHECK_EQ_INT(cw_store_open(&s, dir, NULL, err, sizeof(err)), 0);
    if (s) {
        struct cw_member_info m;
        CHECK_EQ_INT(cw_store_member_find(s, "alpha", &m), 0);
        cw_store_close(s);
    }
    db = raw_open(dir, true);
    CHECK_EQ_INT(q_int(db, "PRAGMA user_version"), newest);
    CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM members"), 2);
    CHECK_EQ_INT(q_int(db, "SELECT stix_gen FROM indicators WHERE value='evil.example'"), 0);
    CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM ioc_retired"), 0);
    sqlite3_close(db);
    struct cw_schema_status st;
    CHECK_EQ_INT(cw_schema_status(dir, cw_store_migrations, cw_store_nmigrations, &st, err,
                                  sizeof(err)), 0);
    CHECK_EQ_INT(st.version, newest);
    char prefix[600];
    snprintf(prefix, sizeof(prefix), "%s/backup/store-v1-", dir);
    CHECK(strncmp(st.last_backup, prefix, strlen(prefix)) == 0);
    sqlite3 *bk = raw_open(st.last_backup, false);
    CHECK_EQ_INT(q_int(bk, "PRAGMA user_version"), 1);
    CHECK_EQ_INT(q_int(bk, "SELECT count(*) FROM indicators WHERE value='evil.example'"), 1);
    CHECK_EQ_INT(q_int(bk, "SELECT count(*) FROM members"), 2);
    CHECK_EQ_INT(q_int(bk, "SELECT count(*) FROM pragma_table_info('indicators') WHERE "
                           "name='stix_gen'"), 0);
    sqlite3_close(bk);
    CHECK_EQ_INT(count_backups(dir), 1);
}

static void test_upgrade_with_backup(void)
{
    char dir[512], err[512] = "";
    dir_for(dir, sizeof(dir), "upgrade");
    sqlite3 *db = v1_db(dir);
    struct cw_schema_result r;
    CHECK_EQ_INT(cw_schema_upgrade(db, dir, cw_store_baseline, good_list, 2, &r, err,
                                   sizeof(err)), 0);
    CHECK_EQ_INT(r.from, 1);
    CHECK_EQ_INT(r.to, 3);
    CHECK_EQ_INT(q_int(db, "PRAGMA user_version"), 3);
    CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM members WHERE note = name || '!'"), 2);
    CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM sqlite_master WHERE name='members_note'"), 1);
    sqlite3_close(db);

    char prefix[600];
    snprintf(prefix, sizeof(prefix), "%s/backup/store-v1-", dir);
    CHECK(strncmp(r.backup, prefix, strlen(prefix)) == 0);
    CHECK(strlen(r.backup) > 3 && strcmp(r.backup + strlen(r.backup) - 3, ".db") == 0);
    struct stat sb;
    CHECK(stat(r.backup, &sb) == 0);
    sqlite3 *bk = raw_open(r.backup, false);
    CHECK_EQ_INT(q_int(bk, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check='ok'"), 1);
    CHECK_EQ_INT(q_int(bk, "PRAGMA user_version"), 1);
    CHECK_EQ_INT(q_int(bk, "SELECT count(*) FROM members WHERE name IN ('alpha','beta')"), 2);
    CHECK_EQ_INT(q_int(bk, "SELECT count(*) FROM pragma_table_info('members') WHERE "
                           "name='note'"), 0);
    sqlite3_close(bk);

    struct cw_schema_status st;
    CHECK_EQ_INT(cw_schema_status(dir, good_list, 2, &st, err, sizeof(err)), 0);
    CHECK_EQ_INT(st.version, 3);
    CHECK_EQ_INT(st.newest, 3);
    CHECK_EQ_STR(st.last_backup, r.backup);

    /* up to date: no step, no second backup */
    db = raw_open(dir, true);
    CHECK_EQ_INT(cw_schema_upgrade(db, dir, cw_store_baseline, good_list, 2, &r, err,
                                   sizeof(err)), 0);
    CHECK_EQ_STR(r.backup, "");
    CHECK_EQ_INT(r.to, 3);
    sqlite3_close(db);
    CHECK_EQ_INT(count_backups(dir), 1);

    /* this binary's list is older than the database now: the store refuses it */
    struct cw_store *s = NULL;
    if (cw_store_nmigrations < 2) {
        CHECK_EQ_INT(cw_store_open(&s, dir, NULL, err, sizeof(err)), -1);
        CHECK(strstr(err, "database schema version 3 is newer") != NULL);
    }
}

static void test_failing_step(void)
{
    char dir[512], err[512] = "";
    dir_for(dir, sizeof(dir), "failing");
    sqlite3 *db = v1_db(dir);
    struct cw_schema_result r;
    CHECK_EQ_INT(cw_schema_upgrade(db, dir, cw_store_baseline, bad_list, 2, &r, err,
                                   sizeof(err)), -1);
    fprintf(stderr, "failed as expected: %s\n", err);
    CHECK(strstr(err, "version 3 (broken step) failed") != NULL);
    CHECK(strstr(err, "stays at version 2") != NULL);
    CHECK_EQ_INT(r.to, 2);
    CHECK_EQ_INT(q_int(db, "PRAGMA user_version"), 2);
    CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM members"), 2);
    CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM sqlite_master WHERE name='junk'"), 0);
    CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM pragma_table_info('members') WHERE "
                           "name='note'"), 1);
    sqlite3_close(db);
    CHECK_EQ_INT(count_backups(dir), 1);

    /* a failing function step from version 1: stays at 1 with its rows */
    char dir2[512];
    dir_for(dir2, sizeof(dir2), "failing1");
    db = v1_db(dir2);
    CHECK_EQ_INT(cw_schema_upgrade(db, dir2, cw_store_baseline, bad_first, 1, &r, err,
                                   sizeof(err)), -1);
    CHECK(strstr(err, "step gave up") != NULL);
    CHECK_EQ_INT(q_int(db, "PRAGMA user_version"), 1);
    CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM members"), 2);
    sqlite3_close(db);
    /* ... and the next open with a fixed list migrates it */
    db = raw_open(dir2, true);
    CHECK_EQ_INT(cw_schema_upgrade(db, dir2, cw_store_baseline, good_list, 2, &r, err,
                                   sizeof(err)), 0);
    CHECK_EQ_INT(q_int(db, "PRAGMA user_version"), 3);
    CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM members"), 2);
    sqlite3_close(db);
}

static void test_backup_unwritable(void)
{
    char dir[512], err[512] = "", p[600];
    dir_for(dir, sizeof(dir), "nobackup");
    sqlite3 *db = v1_db(dir);
    /* a file where the backup directory belongs (works as root too, unlike chmod) */
    snprintf(p, sizeof(p), "%s/backup", dir);
    FILE *f = fopen(p, "w");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    struct cw_schema_result r;
    CHECK_EQ_INT(cw_schema_upgrade(db, dir, cw_store_baseline, good_list, 2, &r, err,
                                   sizeof(err)), -1);
    fprintf(stderr, "refused as expected: %s\n", err);
    CHECK(strstr(err, "refusing to migrate the database from version 1") != NULL);
    CHECK(strstr(err, "backup") != NULL);
    CHECK_EQ_INT(q_int(db, "PRAGMA user_version"), 1);
    CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM pragma_table_info('members') WHERE "
                           "name='note'"), 0);
    CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM members"), 2);
    sqlite3_close(db);
}

static void test_malformed_list(void)
{
    static const struct cw_migration gap[] = {{3, "skips 2", "SELECT 1", NULL}};
    char dir[512], err[512] = "";
    dir_for(dir, sizeof(dir), "gap");
    sqlite3 *db = v1_db(dir);
    struct cw_schema_result r;
    CHECK_EQ_INT(cw_schema_upgrade(db, dir, cw_store_baseline, gap, 1, &r, err, sizeof(err)), -1);
    CHECK(strstr(err, "malformed") != NULL);
    CHECK_EQ_INT(q_int(db, "PRAGMA user_version"), 1);
    sqlite3_close(db);
}

/* Migration 2 in use: publish -> revoke -> publish starts generation 1 with a new id;
 * generation 0 stays in the share, revoked; a candidate revoked before it was ever
 * published keeps generation 0 when published. */
static int64_t add_ioc(struct cw_store *s, const char *value)
{
    struct cw_ioc_row in;
    memset(&in, 0, sizeof(in));
    in.type = CW_IOC_DOMAIN;
    snprintf(in.value, sizeof(in.value), "%s", value);
    in.tlp = CW_TLP_GREEN;
    in.confidence = 50;
    in.source = CW_IOC_SRC_ANALYST;
    snprintf(in.created_by, sizeof(in.created_by), "test");
    int64_t id = 0;
    bool created = false;
    char err[256];
    CHECK_EQ_INT(cw_store_ioc_upsert(s, &in, &id, &created, NULL, err, sizeof(err)), 0);
    return id;
}

static int set(struct cw_store *s, int64_t id, enum cw_ioc_state to)
{
    char err[256];
    struct cw_ioc_row after;
    int rc = cw_store_ioc_set_state(s, id, to, "test", &after, err, sizeof(err));
    return rc ? -1 : (int)after.stix_gen;
}

static void test_generations(void)
{
    char dir[512], err[512] = "";
    dir_for(dir, sizeof(dir), "gens");
    struct cw_store *s = NULL;
    CHECK_EQ_INT(cw_store_open(&s, dir, NULL, err, sizeof(err)), 0);
    if (!s)
        return;
    int64_t a = add_ioc(s, "gen.example"), b = add_ioc(s, "never-shared.example");
    CHECK_EQ_INT(set(s, a, CW_IOC_PUBLISHED), 0);
    CHECK_EQ_INT(set(s, a, CW_IOC_REVOKED), 0);
    CHECK_EQ_INT(set(s, a, CW_IOC_PUBLISHED), 1);
    CHECK_EQ_INT(set(s, b, CW_IOC_REVOKED), 0);
    CHECK_EQ_INT(set(s, b, CW_IOC_PUBLISHED), 0); /* never shared: no new id needed */

    char id0[CW_IOC_ID_MAX], id1[CW_IOC_ID_MAX], again[CW_IOC_ID_MAX];
    cw_ioc_item_id(CW_IOC_DOMAIN, "gen.example", id0);
    cw_ioc_share_id(CW_IOC_DOMAIN, "gen.example", 0, again);
    CHECK_EQ_STR(again, id0);
    cw_ioc_share_id(CW_IOC_DOMAIN, "gen.example", 1, id1);
    CHECK(strcmp(id0, id1) != 0 && strncmp(id1, "indicator--", 11) == 0);
    cw_ioc_share_id(CW_IOC_DOMAIN, "gen.example", 2, again);
    CHECK(strcmp(again, id1) != 0 && strcmp(again, id0) != 0);

    struct cw_ioc_share sh;
    CHECK_EQ_INT(cw_ioc_share_collect(s, 0, -1, CW_IOC_SHARE_REVOKED, &sh, err, sizeof(err)), 0);
    int seen0 = 0, seen1 = 0;
    for (size_t i = 0; i < sh.n; i++) {
        if (strcmp(sh.items[i].value, "gen.example") != 0)
            continue;
        const char *iid = sh.items[i].id;
        if (!iid && sh.revoked[i])
            seen0++; /* generation 0: the writers' id of (type, value), revoked */
        else if (iid && strcmp(iid, id1) == 0 && !sh.revoked[i])
            seen1++;
        else
            CHECK(!"unexpected item for gen.example");
    }
    CHECK_EQ_INT(seen0, 1);
    CHECK_EQ_INT(seen1, 1);
    cw_ioc_share_release(&sh);
    /* without revoked items only the current generation */
    CHECK_EQ_INT(cw_ioc_share_collect(s, 0, -1, 0, &sh, err, sizeof(err)), 0);
    int n = 0;
    for (size_t i = 0; i < sh.n; i++)
        n += strcmp(sh.items[i].value, "gen.example") == 0;
    CHECK_EQ_INT(n, 1);
    cw_ioc_share_release(&sh);

    /* revoke generation 1, publish again: generation 2; 0 and 1 both stay revoked */
    CHECK_EQ_INT(set(s, a, CW_IOC_REVOKED), 1);
    CHECK_EQ_INT(set(s, a, CW_IOC_PUBLISHED), 2);
    cw_store_close(s);
    sqlite3 *db = raw_open(dir, true);
    CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM ioc_retired"), 2);
    CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM ioc_retired WHERE value='gen.example' AND"
                           " state='revoked' AND stix_gen IN (0, 1)"), 2);
    CHECK_EQ_INT(q_int(db, "SELECT stix_gen FROM indicators WHERE value='gen.example'"), 2);
    sqlite3_close(db);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(base, sizeof(base), "%s/cw-migrate-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(base)) {
        perror("mkdtemp");
        return 1;
    }
    test_fresh();
    test_preversioning_stamped();
    test_preversioning_missing_column();
    test_newer_refused();
    test_production_upgrade();
    test_upgrade_with_backup();
    test_failing_step();
    test_backup_unwritable();
    test_malformed_list();
    test_generations();
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", base);
    return cw_test_finish("test_store_migrate");
}
