/* admin_ioc.h - `crosswatch admin` commands for indicators and samples
 * (docs/indicators.md): ioc add|list|show|publish|revoke|import|export, sample
 * submit|list|show. */
#ifndef CW_CLI_ADMIN_IOC_H
#define CW_CLI_ADMIN_IOC_H

#include <stddef.h>

#include "cli/admin_client.h"

/* Runs the command and returns its exit status, or -1 when pos is not one of these. */
int admin_ioc_run(struct client *cl, const struct cw_config *cfg, const char **pos, size_t npos);

#endif
