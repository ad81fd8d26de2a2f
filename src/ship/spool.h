/* spool.h - the on-disk queue of batches between the reader and the sender.
 *
 * A batch is one file STATE_DIR/spool/<seq, 16 digits>.batch: a short text header,
 * a blank line, then the zstd-compressed lines exactly as they are POSTed:
 *
 *     crosswatch-spool 1
 *     seq 42
 *     instance 9f0c...          (32 hex digits: ship instance, part of the idempotency key)
 *     input file:/var/log/nginx/access.log
 *     format combined
 *     lines 5000
 *     raw 812345                (uncompressed bytes)
 *     end-offset 1234567        (file inputs: offset after the last line; else 0)
 *     dev 2049                  (file inputs: device and inode the offset refers to)
 *     ino 393217
 *     body 81234                (compressed bytes following the blank line)
 *
 * Batch files appear atomically (cw_durable_write2), so a file under its final
 * name is complete; the header is still parsed strictly (cw_spool_hdr_parse is fed
 * disk contents that an operator may have touched). Batches the center refused as
 * too large are moved to spool/rejected/ and never deleted by the ship.
 *
 * Size accounting (bytes, batches) is atomic: the reader adds, the sender removes,
 * each from its own thread. Every other call is safe from any thread as long as
 * two threads never operate on the same seq at once (the reader writes seqs the
 * sender does not look at yet). Functions return 0 or -1 with errno set. */
#ifndef CW_SHIP_SPOOL_H
#define CW_SHIP_SPOOL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define CW_SPOOL_MAX_HEADER 8192
#define CW_SPOOL_MAX_INPUT 1024   /* input id length */
#define CW_SPOOL_MAX_FILE (256u << 20) /* a batch is at most batch-bytes compressed */

struct cw_spool_hdr {
    uint64_t seq;
    char instance[33];
    char input[CW_SPOOL_MAX_INPUT + 1];
    char format[33];
    uint64_t lines, raw, end_offset, dev, ino, body;
};

struct cw_spool {
    char dir[3900];
    char rejected_dir[3950];
    _Atomic uint64_t bytes;    /* total size of the batch files in dir */
    _Atomic uint64_t batches;  /* how many */
};

/* A loaded batch: data owns the whole file (free with cw_spool_batch_release);
 * body points into it. */
struct cw_spool_batch {
    struct cw_spool_hdr hdr;
    char *data;
    size_t size;
    const char *body;
};

/* Header to text (appended to out). -1 if a field cannot be represented (an
 * input id or format with a newline, too long). */
int cw_spool_hdr_encode(const struct cw_spool_hdr *h, struct cw_buf *out);
/* Parse a batch file: header fields into h, *body_off = where the body starts.
 * Strict: exact field order, decimal numbers without signs or overflow, and the
 * body length must match n - *body_off. Returns 0, or -1 (malformed). */
int cw_spool_hdr_parse(const char *data, size_t n, struct cw_spool_hdr *h, size_t *body_off);

/* Create STATE_DIR/spool and spool/rejected, remove stale temporary files, and
 * count the batches present. */
int cw_spool_open(struct cw_spool *s, const char *state_dir);
/* Write one batch durably (header from h, h->body set from n) and count it. */
int cw_spool_write(struct cw_spool *s, struct cw_spool_hdr *h, const void *body, size_t n);
/* Sorted seqs of the batches in the spool with from <= seq < below (heap array,
 * caller frees *seqs; *seqs may be NULL when *n == 0). */
int cw_spool_list(const struct cw_spool *s, uint64_t from, uint64_t below, uint64_t **seqs,
                  size_t *n);
/* Load batch seq. errno ENOENT if absent, EBADMSG if the file is malformed. */
int cw_spool_load(const struct cw_spool *s, uint64_t seq, struct cw_spool_batch *b);
void cw_spool_batch_release(struct cw_spool_batch *b);
/* Delete batch seq (the center has it) durably and uncount it. */
int cw_spool_remove(struct cw_spool *s, uint64_t seq);
/* Move batch seq to spool/rejected/ durably and uncount it. */
int cw_spool_reject(struct cw_spool *s, uint64_t seq);
/* File name of a seq ("0000000000000042.batch") into name (>= 24 bytes). */
void cw_spool_name(uint64_t seq, char *name, size_t n);

#endif
