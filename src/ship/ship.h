/* ship.h - `crosswatch ship`: the member-side forwarder (docs/ship.md).
 *
 * Reads lines from files, stdin and syslog listeners, cuts them into batches, makes
 * each batch durable in STATE_DIR/spool before anything else happens to it, and
 * sends the spool in order to the center's ingest API, deleting a batch only once
 * the center answered 200 (it is then durable there). Together with the
 * Idempotency-Key "<instance>-<seq>" that the center deduplicates on, every line of
 * a file reaches the center exactly once across crashes of either side.
 *
 * Threads: the caller's thread runs the reader (one poll loop over every input)
 * and the status line; a second thread runs the sender. */
#ifndef CW_SHIP_SHIP_H
#define CW_SHIP_SHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cw_input_kind { CW_INPUT_FILE = 0, CW_INPUT_STDIN, CW_INPUT_SYSLOG_UDP, CW_INPUT_SYSLOG_TCP };

struct cw_ship_input_spec {
    enum cw_input_kind kind;
    const char *format; /* ingest format name */
    const char *arg;    /* path, or ADDR:PORT; NULL for stdin */
};

struct cw_ship_opts {
    const char *center;    /* base URL, e.g. http://127.0.0.1:8080 */
    const char *key;       /* sensor key; never logged */
    const char *state_dir; /* spool/ and state live here */
    uint64_t spool_max;    /* bytes of spool before reading pauses */
    uint64_t batch_lines, batch_bytes;
    int64_t flush_ms;      /* cut a batch when its first line is this old */
    int64_t status_ms;     /* status line period; 0 = none */
    bool once;             /* read every input to EOF, send all, return */
    bool verbose;
    int stdin_fd;          /* fd read by a CW_INPUT_STDIN input (0 normally) */
    const struct cw_ship_input_spec *inputs;
    size_t ninputs;
};

/* Defaults for every field except inputs, center and key. */
void cw_ship_opts_default(struct cw_ship_opts *o);

/* Run until cw_ship_stop() (or, with once, until everything is sent). Returns 0,
 * or 1 after logging why (a state directory that cannot be used, or with once a
 * center that refuses the key or the format). */
int cw_ship_run(const struct cw_ship_opts *o);
/* Ask cw_ship_run to flush pending lines to the spool, save its state and return.
 * Async-signal-safe (for SIGINT/SIGTERM handlers). */
void cw_ship_stop(void);

#endif
