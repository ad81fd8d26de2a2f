/* dnsd_rrl.c - token buckets per client prefix (see dnsd_rrl.h). */
#include "dns/dnsd_rrl.h"

#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

#define PROBES 8
#define MILLI 1000 /* tokens are counted in thousandths of an answer */

struct slot {
    uint8_t key[8];   /* family, then the prefix bytes (3 for /24, 7 for /56) */
    uint8_t used;
    int64_t last_ms;
    int64_t tokens;   /* thousandths */
    uint32_t over;    /* answers over the limit since the bucket was last full */
};

struct cw_dnsd_rrl {
    uint32_t rate, slip;
    size_t mask;
    struct slot *t;
};

struct cw_dnsd_rrl *cw_dnsd_rrl_new(uint32_t rate, uint32_t slip, size_t entries)
{
    if (!rate)
        return NULL;
    size_t n = 64;
    while (n < entries && n < ((size_t)1 << 26))
        n <<= 1;
    struct cw_dnsd_rrl *r = calloc(1, sizeof(*r));
    if (!r || !(r->t = calloc(n, sizeof(*r->t)))) {
        free(r);
        return NULL;
    }
    r->rate = rate;
    r->slip = slip;
    r->mask = n - 1;
    return r;
}

void cw_dnsd_rrl_free(struct cw_dnsd_rrl *r)
{
    if (!r)
        return;
    free(r->t);
    free(r);
}

static uint64_t hash_key(const uint8_t k[8])
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (int i = 0; i < 8; i++)
        h = (h ^ k[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

enum cw_dnsd_rrl_verdict cw_dnsd_rrl_check(struct cw_dnsd_rrl *r, const struct cw_rpz_addr *client,
                                           int64_t now_ms)
{
    uint8_t k[8] = {client->family};
    memcpy(k + 1, client->addr, client->family == 4 ? 3 : 7);
    uint64_t h = hash_key(k);
    struct slot *s = NULL, *victim = NULL;
    for (size_t i = 0; i < PROBES; i++) {
        struct slot *p = &r->t[(h + i) & r->mask];
        if (p->used && !memcmp(p->key, k, sizeof(k))) {
            s = p;
            break;
        }
        if (!victim || !p->used || (victim->used && p->last_ms < victim->last_ms))
            victim = p;
    }
    int64_t cap = (int64_t)r->rate * MILLI;
    if (!s) { /* new prefix: a full bucket, in a free slot or the stalest one */
        s = victim;
        memcpy(s->key, k, sizeof(k));
        s->used = 1;
        s->tokens = cap;
        s->over = 0;
        s->last_ms = now_ms;
    }
    int64_t dt = now_ms - s->last_ms;
    if (dt > 0) {
        s->tokens += dt * (int64_t)r->rate; /* rate per second = rate thousandths per ms */
        if (s->tokens >= cap) {
            s->tokens = cap;
            s->over = 0;
        }
        s->last_ms = now_ms;
    }
    if (s->tokens >= MILLI) {
        s->tokens -= MILLI;
        return CW_RRL_PASS;
    }
    s->over++;
    return r->slip && s->over % r->slip == 0 ? CW_RRL_SLIP : CW_RRL_DROP;
}
