/* admin_incidents.h - `crosswatch admin` commands of the information-sharing system
 * (docs/incidents.md): incident, alert, drill, sector, org, and stats --fy. */
#ifndef CW_CLI_ADMIN_INCIDENTS_H
#define CW_CLI_ADMIN_INCIDENTS_H

#include <stddef.h>

#include "cli/admin_client.h"

/* Runs the command and returns its exit status, or -1 when pos is not one of these
 * commands (`stats` without --fy is the center totals, not this). */
int admin_incidents_run(struct client *cl, const struct cw_config *cfg, const char **pos,
                        size_t npos);

#endif
