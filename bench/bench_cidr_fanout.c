/* bench_cidr_fanout.c - what the retro-hunt's digest scan costs when a CIDR wider than
 * the widest indexed prefix fans out to one key per covered /8 (IPv6 /32) network
 * (center/obs_digest.h cw_obs_indicator_keys), beside the one-key probe of a narrower
 * CIDR measured in the same run.
 *
 * Not a test: it prints figures (docs/performance.md "Retro-hunt of wide CIDRs").
 *
 * Digests: B batches of R flow records each (defaults 200 x 5,000), built by
 * cw_obs_digest_build as ingest does. Sources come from a few hundred private
 * addresses; destinations are random over the whole IPv4 space (every /8) and a
 * quarter of them IPv6 under 2a00::/12, so each digest holds keys of many networks: the
 * worst case for the binary searches (a digest of real traffic is usually smaller).
 *
 * Probed as ioc_hub.c's on_digest does: a batch is a candidate when its sorted key array
 * holds any of the indicator's keys (binary search per key, stopping at the first hit).
 * Figures: ns per digest (CLOCK_MONOTONIC around P passes over all digests), candidate
 * batches, and the keys' computation (cw_obs_indicator_keys) per call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "center/obs_digest.h"
#include "common/banned.h"

static uint32_t rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void build(struct cw_obs_digest *d, unsigned records, uint32_t *s)
{
    struct cw_batch b;
    cw_batch_init(&b);
    for (unsigned i = 0; i < records; i++) {
        struct cw_record *r = cw_batch_begin(&b);
        r->ts_us = 1700000000000000LL;
        r->kind = CW_KIND_FLOW;
        r->src.family = 4;
        r->src.a[0] = 10;
        r->src.a[2] = (uint8_t)(rnd(s) % 2);
        r->src.a[3] = (uint8_t)rnd(s);
        uint32_t x = rnd(s);
        if (x % 4 == 0) {
            r->dst.family = 6;
            for (int k = 0; k < 16; k++)
                r->dst.a[k] = (uint8_t)rnd(s);
            r->dst.a[0] = 0x2a;
            r->dst.a[1] &= 0x0f;
        } else {
            r->dst.family = 4;
            memcpy(r->dst.a, &x, 4);
        }
        if (cw_batch_commit(&b)) {
            fprintf(stderr, "batch commit failed\n");
            exit(1);
        }
    }
    if (cw_obs_digest_build(&b, d)) {
        fprintf(stderr, "digest build failed\n");
        exit(1);
    }
    cw_batch_release(&b);
}

int main(int argc, char **argv)
{
    unsigned batches = argc > 1 ? (unsigned)atoi(argv[1]) : 200;
    unsigned records = argc > 2 ? (unsigned)atoi(argv[2]) : 5000;
    unsigned passes = argc > 3 ? (unsigned)atoi(argv[3]) : 20;
    if (!batches || !records || !passes) {
        fprintf(stderr, "usage: bench_cidr_fanout [BATCHES [RECORDS [PASSES]]]\n");
        return 2;
    }
    struct cw_obs_digest *d = calloc(batches, sizeof(*d));
    if (!d)
        return 1;
    uint32_t s = 12345;
    size_t keys_total = 0;
    double t0 = now_s();
    for (unsigned i = 0; i < batches; i++) {
        build(&d[i], records, &s);
        keys_total += d[i].n;
    }
    printf("bench_cidr_fanout (%s build): %u digests of %u flow records, %.0f keys each on "
           "average, built in %.2f s\n\n",
           CW_BENCH_BUILD_TYPE, batches, records, (double)keys_total / batches, now_s() - t0);
    static const char *const cidrs[] = {
        "203.0.113.0/24", /* peer: one key (a /24), few batches hold it */
        "198.0.0.0/8",    /* peer: one key (the widest indexed /8) */
        "4.0.0.0/6",      /* 4 keys */
        "64.0.0.0/2",     /* 64 keys */
        "0.0.0.0/0",      /* 256 keys, every batch a candidate at the first key */
        "2a00::/24",      /* 256 keys over IPv6 /32s, few hit */
        "2c00::/24",      /* 256 keys, none hit: the worst case per digest */
    };
    printf("| indicator | keys | keys computed, us | candidate batches | ns per digest |\n");
    printf("|---|---|---|---|---|\n");
    for (size_t c = 0; c < sizeof(cidrs) / sizeof(cidrs[0]); c++) {
        uint32_t keys[CW_OBS_KEYS_MAX];
        char why[200];
        double k0 = now_s();
        size_t nk = 0;
        for (int r = 0; r < 1000; r++)
            nk = cw_obs_indicator_keys(CW_IOC_CIDR, cidrs[c], keys, why, sizeof(why));
        double kus = (now_s() - k0) / 1000 * 1e6;
        if (!nk) {
            fprintf(stderr, "%s: %s\n", cidrs[c], why);
            return 1;
        }
        unsigned hit = 0;
        double p0 = now_s();
        for (unsigned p = 0; p < passes; p++) {
            hit = 0;
            for (unsigned i = 0; i < batches; i++) {
                size_t k = 0;
                while (k < nk && !cw_obs_digest_has(d[i].keys, d[i].n, keys[k]))
                    k++;
                hit += k < nk;
            }
        }
        double ns = (now_s() - p0) / ((double)passes * batches) * 1e9;
        printf("| %s | %zu | %.2f | %u / %u | %.0f |\n", cidrs[c], nk, kus, hit, batches, ns);
    }
    for (unsigned i = 0; i < batches; i++)
        cw_obs_digest_release(&d[i]);
    free(d);
    return 0;
}
