/* store_migrate.h - the store's schema version and its upgrades.
 *
 * `PRAGMA user_version` is the schema version of crosswatch.db. Version 1 is the
 * baseline: the tables the module schemas (store_sqlite.c's and cw_store_*_schema)
 * create. Every later change of an existing table is a migration: an entry of
 * cw_store_migrations[] with the version it produces. At open, cw_schema_upgrade():
 *
 *   - refuses a database newer than the list knows (an older binary must not
 *     misuse it), touching nothing;
 *   - creates an empty database at version 1 (baseline, one transaction);
 *   - stamps a database made before versioning existed (user_version 0 with tables)
 *     version 1 when every baseline column exists, else refuses naming the missing
 *     table.column (never guesses);
 *   - before the first migration of this open, writes an online backup to
 *     <data-dir>/backup/store-v<old>-<UTC time>.db (refuses to migrate when the backup
 *     cannot be written);
 *   - applies each pending migration in its own transaction that also sets
 *     user_version, so a crash or a failing step leaves the previous version intact.
 *
 * The runner takes the list as a parameter (tests hand it their own lists); the
 * production list is cw_store_migrations. */
#ifndef CW_CENTER_STORE_MIGRATE_H
#define CW_CENTER_STORE_MIGRATE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

/* One step. `sql` (several statements allowed) or `fn` runs inside the step's
 * transaction: no VACUUM or journal_mode changes in a step. */
struct cw_migration {
    int version;      /* the version the database has after this step (2, 3 ...) */
    const char *what; /* one line for the log and `admin db status` */
    const char *sql;  /* or NULL */
    int (*fn)(sqlite3 *db, char *err, size_t errlen); /* or NULL; used when sql is NULL */
};

extern const struct cw_migration cw_store_migrations[];
extern const size_t cw_store_nmigrations;

/* Creates every version-1 table and index that is missing (CREATE ... IF NOT EXISTS). */
typedef int (*cw_schema_baseline_fn)(sqlite3 *db, char *err, size_t errlen);

/* The version 1 schema of the store (store_sqlite.c); a cw_schema_baseline_fn. */
int cw_store_baseline(sqlite3 *db, char *err, size_t errlen);

/* The newest version a list produces (1 for an empty list). */
int cw_schema_newest(const struct cw_migration *list, size_t n);

struct cw_schema_result {
    int from, to;      /* user_version before and after */
    bool created;      /* the database was empty */
    bool stamped;      /* a pre-versioning database was stamped 1 */
    char backup[4200]; /* the backup written by this open, or "" */
};

/* Bring db (the writer connection of <data_dir>/crosswatch.db) to the newest version
 * of list. 0, or -1 with the reason in err; on -1 the database is at a consistent
 * version with its data intact (res->to says which). */
int cw_schema_upgrade(sqlite3 *db, const char *data_dir, cw_schema_baseline_fn baseline,
                      const struct cw_migration *list, size_t n, struct cw_schema_result *res,
                      char *err, size_t errlen);

/* Read-only look at <data_dir>/crosswatch.db for `admin db status`. */
struct cw_schema_status {
    int version;           /* user_version */
    int newest;            /* cw_schema_newest(list) */
    bool preversioning;    /* version 0 with tables: will be checked and stamped 1 */
    bool empty;            /* no tables: will be created */
    char last_backup[4200]; /* newest <data_dir>/backup/store-v*.db, or "" */
};
int cw_schema_status(const char *data_dir, const struct cw_migration *list, size_t n,
                     struct cw_schema_status *st, char *err, size_t errlen);

#endif
