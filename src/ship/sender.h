/* sender.h - sends the spool to the center, oldest batch first.
 *
 * One batch at a time, in seq order, and only batches below persisted_next_seq
 * (their offsets are durable in the state file, so a restart will not read their
 * lines again). The compressed body goes out as stored, with
 * "Idempotency-Key: <instance>-<seq>": a batch resent after a crash between the
 * center's 200 and our delete is acknowledged again and stored once. The batch
 * file is deleted only after a 200, which the center gives once it is durable.
 *
 * cw_sender_step() makes one attempt and says what happened; the sender thread
 * (cw_sender_start) loops on it with exponential backoff and full jitter (200 ms
 * base, 30 s cap) on failures. Tests call cw_sender_step() directly. */
#ifndef CW_SHIP_SENDER_H
#define CW_SHIP_SENDER_H

#include "ship/shared.h"
#include "ship/ship.h"

enum cw_send_result {
    CW_SEND_OK = 0,     /* a batch was acknowledged and deleted */
    CW_SEND_IDLE,       /* nothing sendable in the spool */
    CW_SEND_RETRY,      /* center unreachable, 5xx, timeout: back off and retry */
    CW_SEND_AUTH,       /* 401/403: key unknown or revoked */
    CW_SEND_FORMAT,     /* 400/415: the center refuses the format or encoding */
    CW_SEND_SET_ASIDE,  /* 413 or unreadable batch: moved to spool/rejected/ */
};

struct cw_sender;

/* NULL when libcurl cannot be set up. o and sh must outlive the sender. */
struct cw_sender *cw_sender_new(const struct cw_ship_opts *o, struct cw_ship_shared *sh);
enum cw_send_result cw_sender_step(struct cw_sender *s);
/* Start the sender thread. 0 or -1. */
int cw_sender_start(struct cw_sender *s);
/* Ask the thread to stop (aborting a transfer in progress: the batch stays
 * spooled and is resent with the same key) and join it. */
void cw_sender_stop(struct cw_sender *s);
void cw_sender_free(struct cw_sender *s);

#endif
