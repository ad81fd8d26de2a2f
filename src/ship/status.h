/* status.h - the one-line summary of what ship is doing (--status-interval). */
#ifndef CW_SHIP_STATUS_H
#define CW_SHIP_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "ship/reader.h"
#include "ship/shared.h"

/* "1.0 GiB", "512.0 KiB", "12 B" into out. */
void cw_ship_human_size(uint64_t bytes, char *out, size_t cap);
/* Append the status line (without a newline) to out. */
void cw_ship_status_format(const struct cw_ship_shared *sh, const struct cw_reader *r,
                           uint64_t spool_max, struct cw_buf *out);

#endif
