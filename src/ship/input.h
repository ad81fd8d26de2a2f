/* input.h - one source of lines inside the reader (internal to src/ship).
 *
 * Every input owns a pending batch: lines already read but not yet in the spool.
 * An input hands each line to cw_input_add_line(); the reader cuts the pending
 * batch into a spool file when it is big enough, old enough, or the input must
 * change file (rotation, truncation). For a file input, `pos` is the offset just
 * after the last line taken into pending: the end offset written into the batch
 * header and, once the batch is durable, into the state file.
 *
 * All of this runs on the reader thread only. */
#ifndef CW_SHIP_INPUT_H
#define CW_SHIP_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "ship/frame.h"
#include "ship/ship.h"
#include "ship/spool.h"
#include "ship/state.h"

#define CW_SHIP_MAX_LINE (1u << 20) /* the center rejects longer lines anyway */
#define CW_SHIP_READ_CHUNK (64u << 10)
#define CW_SHIP_MAX_CONNS 256

struct cw_reader;

struct cw_tcp_conn {
    int fd;
    struct cw_frame frame;
};

struct cw_input {
    struct cw_reader *r;
    enum cw_input_kind kind;
    char id[CW_SPOOL_MAX_INPUT + 1]; /* "file:PATH", "stdin", "syslog-udp:ADDR" */
    char format[33];

    struct cw_buf pending; /* complete lines, each ending in LF */
    uint64_t npending;
    int64_t first_ms;      /* monotonic time the oldest pending line was read */
    bool eof;              /* nothing more to read for now (once: for good) */

    /* file and stdin */
    const char *path;
    int fd;
    uint64_t dev, ino, pos;
    struct cw_buf rbuf;    /* bytes read after pos, not yet split into lines */
    bool skipping;         /* dropping the rest of an over-long line */
    bool warned_missing;

    /* syslog */
    int lfd;
    uint16_t port;
    struct cw_tcp_conn *conns;
    size_t nconns;
    bool warned_drop;
};

/* Provided by reader.c ------------------------------------------------------- */
/* Take one line (without LF) into pending; cuts a batch when the limits are
 * reached. Returns true when the input must stop reading for now (the spool is
 * full or cannot be written). */
bool cw_input_add_line(struct cw_input *in, const char *line, size_t n);
/* Cut pending into a spool batch now. 0, or -1 (spool write failed; pending kept). */
int cw_input_cut(struct cw_input *in);
/* Reading paused: spool over its bound or unwritable. */
bool cw_reader_paused(const struct cw_reader *r);
/* Persist pos of a file input whose pending is empty, after a position change
 * that has no batch (rotation, truncation, a file that appeared). */
void cw_input_save_position(struct cw_input *in);
/* Count a UDP datagram dropped because the spool is full. */
void cw_reader_note_udp_drop(struct cw_reader *r);
/* Count a line dropped for its length. */
void cw_reader_note_oversized(struct cw_reader *r);
/* Is this run a --once run? */
bool cw_reader_once(const struct cw_reader *r);

/* input_file.c ----------------------------------------------------------------- */
/* Open a file input at its saved position (NULL: new file, start at 0), finding a
 * rotated file by inode. A missing file is waited for (-1 only with once). */
int cw_input_file_open(struct cw_input *in, const struct cw_ship_file_pos *saved, char *err,
                       size_t errlen);
/* Read what is there; handles rotation and truncation. */
void cw_input_file_poll(struct cw_input *in);
/* Split complete lines out of rbuf into pending. True when paused. */
bool cw_input_take_lines(struct cw_input *in);
/* stdin: read once from a readable fd. */
void cw_input_stdin_read(struct cw_input *in);

/* input_net.c ------------------------------------------------------------------ */
int cw_input_syslog_open(struct cw_input *in, char *err, size_t errlen);
void cw_input_udp_read(struct cw_input *in);
void cw_input_tcp_accept(struct cw_input *in);
/* Read from connection i; closes and removes it on EOF or error. */
void cw_input_tcp_read(struct cw_input *in, size_t i);
void cw_input_net_close(struct cw_input *in);
/* Parse "ADDR:PORT" / "[V6]:PORT" / ":PORT" into a socket address. */
int cw_net_parse_addr(const char *s, void *sockaddr_storage, unsigned *len);

#endif
