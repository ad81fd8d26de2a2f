/* store_dnsseen.h - the persisted table of the newly-observed-domain flag.
 *
 * The DNS threat flags (detect/dns_flags.h) remember every registered domain seen
 * across all members in the last nod_days days, as (64-bit name hash, last day).
 * This keeps that table in its own SQLite file, DATA_DIR/dns_seen.db (WAL,
 * synchronous=NORMAL: a power cut may lose the last batches' names, which are then
 * flagged once more - never a missed batch of records, which live in the main
 * store). It is a separate file so that saving never waits for the main store's
 * write lock. Rows older than nod_days are deleted once per day of record time.
 *
 * cw_dnsseen_open() fills a struct cw_dnsseen_ops for cw_dns_flags_new(); the ops
 * are called under the detector's mutex, one caller at a time. */
#ifndef CW_CENTER_STORE_DNSSEEN_H
#define CW_CENTER_STORE_DNSSEEN_H

#include <stddef.h>
#include <stdint.h>

#include "detect/dns_flags.h"

struct cw_dnsseen;

/* Open (create) DATA_DIR/dns_seen.db; ops receive the callbacks. NULL + err. */
struct cw_dnsseen *cw_dnsseen_open(const char *data_dir, int64_t nod_days,
                                   struct cw_dnsseen_ops *ops, char *err, size_t errlen);
void cw_dnsseen_close(struct cw_dnsseen *s);

#endif
