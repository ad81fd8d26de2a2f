/* bench_digest.c - the ingest cost of the retro-hunt digests (obs_digest.h).
 *
 * Every stored batch gets a digest of its observables, built on the request thread
 * before the batch's transaction (store_sqlite.c). This measures that CPU per record
 * beside its peer in the same run: the parse of the same records, which ingest pays
 * anyway (the end-to-end ingest figures of docs/performance.md are a few times the
 * parse cost). Inputs: the replayed real access logs and EVE events of bench_data.h,
 * in batches of --batch lines; median of 5 passes of one thread each.
 *
 * Not a test: `cmake --build build --target bench_digest && ./build/bench_digest`
 * (Release build). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_data.h"
#include "center/obs_digest.h"
#include "common/timefmt.h"
#include "formats/format.h"

#define PASSES 5

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Parse every chunk and build its digest; the two clocks run apart. */
static int run(const struct bench_data *d)
{
    const struct cw_format *fmt = cw_format_find(d->format);
    struct cw_parse_ctx ctx = {1, 1, cw_now_us()};
    double parse[PASSES], digest[PASSES];
    uint64_t keys = 0;
    for (int pass = 0; pass < PASSES; pass++) {
        struct cw_batch b;
        cw_batch_init(&b);
        parse[pass] = digest[pass] = 0;
        keys = 0;
        for (size_t i = 0; i < d->nchunks; i++) {
            double t0 = cpu_now();
            if (cw_format_parse_body(fmt, &b, &ctx, d->buf + d->off[i], d->off[i + 1] - d->off[i],
                                     CW_MAX_LINE_DEFAULT, NULL))
                return -1;
            double t1 = cpu_now();
            struct cw_obs_digest dg;
            if (cw_obs_digest_build(&b, &dg))
                return -1;
            double t2 = cpu_now();
            keys += dg.n;
            cw_obs_digest_release(&dg);
            cw_batch_clear(&b);
            parse[pass] += t1 - t0;
            digest[pass] += t2 - t1;
        }
        cw_batch_release(&b);
    }
    qsort(parse, PASSES, sizeof(double), cmp_double);
    qsort(digest, PASSES, sizeof(double), cmp_double);
    double p = parse[PASSES / 2], g = digest[PASSES / 2], n = (double)d->lines;
    printf("| %s | %" PRIu64 " | %.0f | %.0f | %.0f%% | %.1f | %.1f |\n", d->format, d->lines,
           p / n * 1e9, g / n * 1e9, 100.0 * g / p, (double)keys / (double)d->nchunks,
           (double)keys * 4 / n);
    return 0;
}

int main(int argc, char **argv)
{
    const char *shared = CW_BENCH_SHARED_DEFAULT;
    uint64_t lines = 2000000;
    uint32_t batch = 5000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--shared") && i + 1 < argc)
            shared = argv[++i];
        else if (!strcmp(argv[i], "--lines") && i + 1 < argc)
            lines = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc)
            batch = (uint32_t)strtoul(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: bench_digest [--shared DIR] [--lines N] [--batch N]\n");
            return 2;
        }
    }
    char err[512];
    struct bench_data acc, eve;
    memset(&acc, 0, sizeof(acc));
    memset(&eve, 0, sizeof(eve));
    if (bench_data_access(&acc, shared, lines, batch, err, sizeof(err)) ||
        bench_data_eve(&eve, shared, lines, batch, err, sizeof(err))) {
        fprintf(stderr, "bench_digest: %s\n", err);
        return 1;
    }
    printf("bench_digest (%s build): batches of %u lines, median of %d passes, one thread\n",
           CW_BENCH_BUILD_TYPE, batch, PASSES);
    printf("| input | records | parse ns/record (peer) | digest ns/record | digest / parse | "
           "keys per batch | digest bytes/record |\n|---|---|---|---|---|---|---|\n");
    int rc = run(&acc) || run(&eve);
    bench_data_release(&acc);
    bench_data_release(&eve);
    return rc ? 1 : 0;
}
