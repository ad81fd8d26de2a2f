/* shared.h - what the reader thread and the sender thread share.
 *
 * Only atomics and a mutex-protected center status: the reader publishes
 * persisted_next_seq after each durable state write (the sender never sends a
 * batch at or above it, see docs/ship.md), the sender frees spool space and wakes
 * the reader through wake_fd. Counters are for the status line. */
#ifndef CW_SHIP_SHARED_H
#define CW_SHIP_SHARED_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ship/spool.h"

enum cw_center_problem { CW_CENTER_OK = 0, CW_CENTER_UNREACHABLE, CW_CENTER_AUTH, CW_CENTER_FORMAT };

struct cw_ship_shared {
    struct cw_spool spool;
    _Atomic uint64_t persisted_next_seq;
    _Atomic bool stop;
    _Atomic int problem; /* enum cw_center_problem of the last attempt */

    _Atomic uint64_t lines_read, batches_spooled, batches_sent, lines_accepted,
        lines_rejected, batches_too_large, duplicates, udp_dropped, oversized;

    pthread_mutex_t mu; /* guards the fields below and the condition */
    pthread_cond_t wake_sender;
    bool sender_kick;
    bool center_up;
    int64_t center_since_us; /* 0 = no attempt yet */
    char center_why[200];

    int wake_fd[2]; /* reader's wake-up pipe: [0] polled, [1] written (non-blocking) */
};

/* 0, or -1 (pipe or pthread objects could not be created). */
int cw_ship_shared_init(struct cw_ship_shared *sh);
void cw_ship_shared_release(struct cw_ship_shared *sh);
/* Wake the reader (spool space freed, stop). Async-signal-safe. */
void cw_ship_shared_wake_reader(struct cw_ship_shared *sh);
/* Wake the sender (new batch, stop). */
void cw_ship_shared_wake_sender(struct cw_ship_shared *sh);
/* Record the center's state for the status line; logs transitions once. */
void cw_ship_shared_center(struct cw_ship_shared *sh, bool up, const char *why);

#endif
