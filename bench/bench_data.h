/* bench_data.h - benchmark inputs built by replaying real logs (bench_ingest).
 *
 * Access logs: the real Apache "combined" logs in SHARED/data/weblogs/ (elastic,
 * basjes, the three ocatak scanner logs with their outer quotes and CRs removed) are
 * replayed until the wanted number of lines is reached. Replay k > 0 of a line gets
 * a different client IPv4 address (a fixed function of the original address and k,
 * so one client's requests stay together within a replay) and a timestamp moved k
 * weeks later (same zone offset). Template lines the combined parser rejects (w3af
 * records split over several lines) are dropped and counted.
 *
 * EVE: SHARED/data/eve/public-pcaps.eve.json.gz (read with zlib) replayed verbatim;
 * lines the eve parser rejects are dropped and counted.
 *
 * Memory: a struct bench_data owns buf and off; bench_data_release() frees them.
 * Errors: the builders return 0, or -1 with a message in err. */
#ifndef CW_BENCH_BENCH_DATA_H
#define CW_BENCH_BENCH_DATA_H

#include <stddef.h>
#include <stdint.h>

struct bench_data {
    const char *format;      /* ?format= name: "combined" or "eve" */
    char *buf;               /* all lines, LF-terminated */
    size_t len;
    uint64_t lines;
    uint32_t chunk_lines;    /* lines per chunk (the last one may be shorter) */
    size_t nchunks;
    size_t *off;             /* chunk i is buf[off[i] .. off[i+1]) */
    uint64_t template_lines; /* distinct real lines replayed */
    uint64_t template_dropped;
    char source[512];        /* human description of where the lines came from */
};

int bench_data_access(struct bench_data *d, const char *shared_dir, uint64_t lines,
                      uint32_t chunk_lines, char *err, size_t errlen);
int bench_data_eve(struct bench_data *d, const char *shared_dir, uint64_t lines,
                   uint32_t chunk_lines, char *err, size_t errlen);
/* Lines in chunk i. */
uint32_t bench_data_chunk_lines(const struct bench_data *d, size_t i);
/* Write buf to path (for the peer tool). */
int bench_data_write(const struct bench_data *d, const char *path, char *err, size_t errlen);
void bench_data_release(struct bench_data *d);

#endif
