/* reader.h - the reader: every input in one poll loop, batches into the spool.
 *
 * Opening a reader recovers from any crash: it loads STATE_DIR/state, and for every
 * batch in the spool at or above the saved next-seq (written, but the state was
 * not yet updated when the process died) it takes the batch's end offset as the
 * file's position, so no line is read twice; lines read but never batched are
 * simply read again. Then it persists the state and publishes persisted_next_seq.
 *
 * The reader is driven by the caller: cw_reader_step() reads what is available
 * (waiting at most max_wait_ms), and cuts batches that are full or older than the
 * flush interval. Tests call it directly; cw_ship_run() calls it in a loop. One
 * thread only. */
#ifndef CW_SHIP_READER_H
#define CW_SHIP_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "ship/shared.h"
#include "ship/ship.h"

struct cw_reader;

/* Opens the spool (sh->spool), recovers, opens every input. NULL with a message
 * in err on failure (state directory unusable, corrupt state, listener cannot
 * bind, --once with a missing file). o and sh must outlive the reader. */
struct cw_reader *cw_reader_open(const struct cw_ship_opts *o, struct cw_ship_shared *sh,
                                 char *err, size_t errlen);
/* One round: read, cut due batches, then poll up to max_wait_ms for more. */
void cw_reader_step(struct cw_reader *r, int max_wait_ms);
/* Cut every pending batch now (shutdown, tests). 0, or -1 if the spool could not
 * be written (the lines stay pending). */
int cw_reader_flush(struct cw_reader *r);
/* Every input at its end (files: at EOF now; stdin: closed) and nothing pending.
 * Syslog inputs never are. */
bool cw_reader_done(const struct cw_reader *r);
/* Close inputs and free. Does NOT flush: closing without flushing is what a
 * crash looks like, which is how tests use it. */
void cw_reader_close(struct cw_reader *r);
/* Bound port of a syslog input (by index in o->inputs); 0 for others. */
uint16_t cw_reader_port(const struct cw_reader *r, size_t i);
/* "3 (1 waiting)" style description of the inputs, appended to out. */
void cw_reader_describe(const struct cw_reader *r, struct cw_buf *out);

#endif
