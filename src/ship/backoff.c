#include "ship/backoff.h"

#include <sys/random.h>

#include "common/timefmt.h"
#include "common/banned.h"

void cw_backoff_init(struct cw_backoff *b, int64_t base_ms, int64_t cap_ms)
{
    b->base_ms = base_ms > 0 ? base_ms : 1;
    b->cap_ms = cap_ms > b->base_ms ? cap_ms : b->base_ms;
    b->attempt = 0;
    if (getrandom(&b->rng, sizeof(b->rng), GRND_NONBLOCK) != sizeof(b->rng))
        b->rng = (uint64_t)cw_now_us();
    b->rng |= 1;
}

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

int64_t cw_backoff_next(struct cw_backoff *b)
{
    int64_t window = b->base_ms;
    for (unsigned i = 0; i < b->attempt && window < b->cap_ms; i++)
        window *= 2;
    if (window > b->cap_ms)
        window = b->cap_ms;
    if (b->attempt < 64)
        b->attempt++;
    return (int64_t)(xorshift(&b->rng) % (uint64_t)(window + 1));
}

void cw_backoff_reset(struct cw_backoff *b)
{
    b->attempt = 0;
}
