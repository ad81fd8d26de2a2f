/* ship_fake_center.h - a tiny ingest server on loopback for the ship tests.
 *
 * Accepts POST /api/v1/ingest?format=F, decompresses the zstd body with
 * cw_decompress, deduplicates on Idempotency-Key like the real center, records
 * every key it saw and the lines it stored, and answers with the status the test
 * sets (200 JSON, 503, 401, 413, ...). One connection at a time, Connection: close. */
#ifndef CW_TESTS_SHIP_FAKE_CENTER_H
#define CW_TESTS_SHIP_FAKE_CENTER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define FAKE_MAX_KEYS 4096

struct fake_center {
    int lfd;
    uint16_t port;
    char url[64];
    pthread_t thread;
    _Atomic bool quit;
    pthread_mutex_t mu;
    int status;                /* answer to give */
    int reject_line;           /* with 200: report this line (1-based) as rejected; 0 none */
    size_t posts;              /* requests seen */
    size_t stored_batches;
    size_t dups;
    char *keys[FAKE_MAX_KEYS]; /* every Idempotency-Key seen, in order (with resends) */
    size_t nkeys;
    char *stored_keys[FAKE_MAX_KEYS];
    size_t nstored_keys;
    struct cw_buf lines;       /* stored lines, each ending in LF, in arrival order */
    size_t nlines;
    char last_format[32];
    char last_auth[128];
};

int fake_center_start(struct fake_center *f);
void fake_center_stop(struct fake_center *f);
void fake_center_set_status(struct fake_center *f, int status);
/* Snapshot of the stored lines (heap, caller frees). */
char *fake_center_lines(struct fake_center *f, size_t *nlines);
size_t fake_center_count_key(struct fake_center *f, const char *key);

#endif
