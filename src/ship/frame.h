/* frame.h - syslog over TCP: splitting a byte stream into messages (RFC 6587).
 *
 * Two framings share one port, decided per message by its first byte:
 *   - octet counting: "LEN SP MSG", LEN a decimal without leading zero;
 *   - non-transparent: MSG terminated by LF (a CR before the LF is dropped).
 * Messages become lines for the center, so CR/LF inside an octet-counted message
 * are turned into spaces and a trailing CR/LF is dropped. Empty messages are
 * skipped. A message longer than max_msg is dropped and counted in ->oversized
 * (memory stays bounded by max_msg per connection).
 *
 * A struct cw_frame belongs to one connection; cw_frame_release() frees. */
#ifndef CW_SHIP_FRAME_H
#define CW_SHIP_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

typedef void (*cw_frame_fn)(void *ctx, const char *msg, size_t n);

struct cw_frame {
    struct cw_buf msg;  /* bytes of the message being assembled */
    int mode;           /* internal state */
    uint64_t want;      /* octet counting: bytes still expected */
    int digits;
    int skipping;       /* dropping an oversized message */
    uint64_t oversized; /* messages dropped for length */
};

void cw_frame_init(struct cw_frame *f);
void cw_frame_release(struct cw_frame *f);
/* Consume n bytes, calling fn for every complete message. Returns 0, or -1 on a
 * framing error (an octet count that is not a number followed by a space): the
 * caller should close the connection, the stream cannot be resynchronised. */
int cw_frame_feed(struct cw_frame *f, const char *p, size_t n, size_t max_msg, cw_frame_fn fn,
                  void *ctx);
/* The peer closed: deliver a final unterminated LF-framed message, if any. */
void cw_frame_finish(struct cw_frame *f, cw_frame_fn fn, void *ctx);

#endif
