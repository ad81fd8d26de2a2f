/* admin_db.c - `crosswatch admin db status` (see admin_db.h).
 *
 * Exit status 0 when the database is at or below the version this binary knows
 * (pending migrations run at the next `serve`), 1 when it cannot be read or is newer
 * than this binary (serve would refuse it), 2 for usage. */
#include "cli/admin_db.h"

#include <stdio.h>
#include <string.h>

#include "center/center.h"
#include "center/store_migrate.h"
#include "common/banned.h"

static void print_pending(const struct cw_schema_status *st)
{
    int from = st->version < 1 ? 1 : st->version, n = 0;
    for (size_t i = 0; i < cw_store_nmigrations; i++) {
        const struct cw_migration *m = &cw_store_migrations[i];
        if (m->version <= from)
            continue;
        printf("  %d: %s\n", m->version, m->what);
        n++;
    }
    if (n == 0)
        printf("  none\n");
}

int admin_db_run(struct cw_config *cfg, const char **pos, size_t npos)
{
    if (npos < 1 || strcmp(pos[0], "db") != 0)
        return -1;
    if (npos != 2 || strcmp(pos[1], "status") != 0) {
        fprintf(stderr, "usage: crosswatch admin [--data-dir DIR] db status\n");
        return 2;
    }
    /* the center's own rule for the data directory ([serve] data_dir or the default),
     * unless --data-dir names one */
    const char *dd = cw_config_str(cfg, "admin", "data_dir", NULL);
    if (dd)
        cw_config_add(cfg, "serve", "data_dir", dd, "--data-dir", true);
    struct cw_center_config cc;
    char err[1024];
    if (cw_center_config_load(&cc, cfg, err, sizeof(err))) {
        fprintf(stderr, "crosswatch admin: %s\n", err);
        return 2;
    }
    struct cw_schema_status st;
    if (cw_schema_status(cc.data_dir, cw_store_migrations, cw_store_nmigrations, &st, err,
                         sizeof(err))) {
        fprintf(stderr, "crosswatch admin: %s\n", err);
        return 1;
    }
    printf("database:        %s/crosswatch.db\n", cc.data_dir);
    if (st.empty)
        printf("schema version:  none (empty: created at version %d by the next serve)\n",
               st.newest);
    else if (st.preversioning)
        printf("schema version:  0 (made before schema versions: checked and stamped 1 by "
               "the next serve)\n");
    else
        printf("schema version:  %d\n", st.version);
    printf("newest known:    %d\n", st.newest);
    printf("last backup:     %s\n", st.last_backup[0] ? st.last_backup : "none");
    if (st.version > st.newest) {
        printf("pending:         none\n");
        fprintf(stderr,
                "crosswatch admin: database schema version %d is newer than this crosswatch "
                "(knows up to %d); upgrade crosswatch\n",
                st.version, st.newest);
        return 1;
    }
    printf("pending migrations:\n");
    if (st.empty)
        printf("  none (a new database is created at the newest version)\n");
    else
        print_pending(&st);
    return 0;
}
