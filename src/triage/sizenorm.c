#include "triage/sizenorm.h"

#include <stdlib.h>
#include <string.h>

#include "triage/noise.h"
#include "common/banned.h"

struct slot {
    uint64_t hash; /* 0 = empty */
    int64_t size;
    uint32_t seen;
};

struct cw_sizenorm {
    struct slot *tab;
    size_t cap, used; /* cap: power of two */
    unsigned min_seen;
};

struct cw_sizenorm *cw_sizenorm_new(size_t cap, unsigned min_seen)
{
    struct cw_sizenorm *sn = calloc(1, sizeof(*sn));
    size_t c = 1024;
    while (c < cap * 2)
        c *= 2;
    if (!sn || !(sn->tab = calloc(c, sizeof(*sn->tab)))) {
        free(sn);
        return NULL;
    }
    sn->cap = c;
    sn->min_seen = min_seen ? min_seen : 3;
    return sn;
}

void cw_sizenorm_free(struct cw_sizenorm *sn)
{
    if (sn) {
        free(sn->tab);
        free(sn);
    }
}

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) {
        h ^= c[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* (member, host, path) of a 2xx HTTP answer with a size; 0 if the record has none */
static uint64_t key_of(const struct cw_record *r, int64_t *size)
{
    int64_t st = cw_record_int(r, CW_F_HTTP_STATUS, 0);
    const struct cw_value *bytes = cw_record_get(r, CW_F_HTTP_BYTES);
    size_t pn = 0, hn = 0;
    const char *path = cw_record_str(r, CW_F_HTTP_PATH, &pn);
    const char *host = cw_record_str(r, CW_F_HTTP_HOST, &hn);
    if (st < 200 || st > 299 || !bytes || !path)
        return 0;
    *size = bytes->v.i;
    uint64_t h = mix(1469598103934665603ULL, &r->member_id, sizeof(r->member_id));
    h = mix(h, host ? host : "", hn);
    h = mix(h, "\n", 1);
    h = mix(h, path, pn);
    return h ? h : 1;
}

static struct slot *find(const struct cw_sizenorm *sn, uint64_t h)
{
    size_t m = sn->cap - 1, i = h & m;
    while (sn->tab[i].hash && sn->tab[i].hash != h)
        i = (i + 1) & m;
    return &sn->tab[i];
}

void cw_sizenorm_learn(struct cw_sizenorm *sn, const struct cw_batch *b)
{
    for (uint32_t i = 0; i < b->n; i++) {
        int64_t size;
        uint64_t h = key_of(&b->recs[i], &size);
        if (!h)
            continue;
        struct slot *s = find(sn, h);
        if (!s->hash) {
            if (sn->used * 2 >= sn->cap) {
                /* full: forget and relearn rather than grow without bound */
                memset(sn->tab, 0, sn->cap * sizeof(*sn->tab));
                sn->used = 0;
                s = find(sn, h);
            }
            s->hash = h;
            s->size = size;
            s->seen = 1;
            sn->used++;
        } else if (s->size == size) {
            if (s->seen < UINT32_MAX)
                s->seen++;
        } else {
            s->size = size;
            s->seen = 1;
        }
    }
}

size_t cw_sizenorm_flag(const struct cw_sizenorm *sn, const struct cw_batch *b,
                        struct cw_detections *ds, const char **detail)
{
    size_t raised = 0;
    for (uint32_t i = 0; i < ds->n; i++) {
        struct cw_detection *d = &ds->d[i];
        if (d->noise != CW_NOISE_KEPT)
            continue;
        int64_t size;
        uint64_t h = key_of(&b->recs[d->rec], &size);
        if (!h)
            continue;
        const struct slot *s = find(sn, h);
        if (s->hash && s->seen >= sn->min_seen && s->size != size) {
            if (d->severity > CW_SEV_CRITICAL)
                d->severity--;
            if (detail)
                detail[i] = "2xx answer of unusual size: the attack may have worked";
            raised++;
        }
    }
    return raised;
}
