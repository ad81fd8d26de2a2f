/* backoff.h - exponential backoff with full jitter for retries to the center.
 *
 * Delay of attempt k: uniform in [0, min(cap, base * 2^k)] ("full jitter"), so that
 * many members whose center comes back do not all retry in the same instant. Not
 * thread-safe: one per sender. */
#ifndef CW_SHIP_BACKOFF_H
#define CW_SHIP_BACKOFF_H

#include <stdint.h>

struct cw_backoff {
    int64_t base_ms, cap_ms;
    unsigned attempt;
    uint64_t rng;
};

void cw_backoff_init(struct cw_backoff *b, int64_t base_ms, int64_t cap_ms);
/* Delay before the next retry; each call doubles the window up to the cap. */
int64_t cw_backoff_next(struct cw_backoff *b);
/* After a success: the next failure starts again from base. */
void cw_backoff_reset(struct cw_backoff *b);

#endif
