/* state.h - what the reader has made durable: STATE_DIR/state.
 *
 *     crosswatch-ship-state 1
 *     instance 9f0c3a...        (32 hex digits, random, created once)
 *     next-seq 43               (every batch below this seq is in the spool or sent)
 *     file 2049 393217 1234567 /var/log/nginx/access.log
 *     end
 *
 * One "file DEV INO OFFSET PATH" line per followed file: OFFSET is the position
 * after the last line put into a spooled batch, in the file DEV/INO (which may by
 * now have been rotated away from PATH). The state is rewritten atomically
 * (cw_durable_write) after each batch file is durable; the "end" line makes a file
 * cut short by hand detectable. Paths never contain a newline (refused at start).
 *
 * A struct cw_ship_state owns its path strings: cw_ship_state_release() frees. */
#ifndef CW_SHIP_STATE_H
#define CW_SHIP_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define CW_SHIP_STATE_MAX_FILES 4096
#define CW_SHIP_STATE_MAX_BYTES (4u << 20)

struct cw_ship_file_pos {
    char *path;
    uint64_t dev, ino, offset;
};

struct cw_ship_state {
    char instance[33];
    uint64_t next_seq;
    struct cw_ship_file_pos *files;
    size_t nfiles;
};

void cw_ship_state_init(struct cw_ship_state *s);
void cw_ship_state_release(struct cw_ship_state *s);
/* Position of path, or NULL. */
struct cw_ship_file_pos *cw_ship_state_find(struct cw_ship_state *s, const char *path);
/* Set (add or replace) the position of path. -1 when memory runs out or too many. */
int cw_ship_state_set(struct cw_ship_state *s, const char *path, uint64_t dev, uint64_t ino,
                      uint64_t offset);
/* Text form, appended to out; -1 on a path that cannot be stored. */
int cw_ship_state_encode(const struct cw_ship_state *s, struct cw_buf *out);
/* Strict parse of the text form into an initialised, empty s. Returns 0 or -1
 * (s is then left empty). */
int cw_ship_state_parse(const char *text, size_t n, struct cw_ship_state *s);
/* Load STATE_DIR/state: 0 loaded, 1 no state file yet (s untouched), -1 unreadable
 * or corrupt (errno EBADMSG). */
int cw_ship_state_load(const char *state_dir, struct cw_ship_state *s);
/* Atomic, durable save. 0 or -1 with errno. */
int cw_ship_state_save(const char *state_dir, const struct cw_ship_state *s);
/* Fill instance with a new random id (32 hex digits). */
int cw_ship_state_new_instance(char instance[33]);

#endif
