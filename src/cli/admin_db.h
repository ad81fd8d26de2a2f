/* admin_db.h - `crosswatch admin db status`: the schema version of a local center's
 * database (store_migrate.h). It reads <data-dir>/crosswatch.db directly, without the
 * API or a token, so it also answers when the center refuses to start. */
#ifndef CW_CLI_ADMIN_DB_H
#define CW_CLI_ADMIN_DB_H

#include <stddef.h>

#include "common/config.h"

/* Runs the command and returns its exit status, or -1 when pos is not "db ...". */
int admin_db_run(struct cw_config *cfg, const char **pos, size_t npos);

#endif
