/* arena.h - bump allocator for per-request and per-batch memory.
 *
 * Everything a request or a batch allocates lives in one arena and is freed in one
 * go by cw_arena_release() (or recycled by cw_arena_clear()). Allocations are 16-byte
 * aligned. An arena is not thread-safe: one owner at a time.
 *
 * Failure: cw_arena_alloc() returns NULL when malloc fails or when the arena would
 * grow past its limit (limit 0 = unlimited); callers report that as "out of memory"
 * for the request, never abort. */
#ifndef CW_COMMON_ARENA_H
#define CW_COMMON_ARENA_H

#include <stddef.h>

struct cw_arena_chunk;

struct cw_arena {
    struct cw_arena_chunk *head; /* current chunk; older ones follow ->next */
    size_t chunk_size;           /* default size of a new chunk */
    size_t used_total;           /* bytes handed out, for limits and stats */
    size_t limit;                /* 0 = no limit */
};

void cw_arena_init(struct cw_arena *a, size_t chunk_size, size_t limit);
void *cw_arena_alloc(struct cw_arena *a, size_t n);
void *cw_arena_calloc(struct cw_arena *a, size_t n);
/* Copy n bytes and add a NUL; the result lives in the arena. */
char *cw_arena_strndup(struct cw_arena *a, const char *s, size_t n);
/* Keep the first chunk, drop the rest, reset to empty. */
void cw_arena_clear(struct cw_arena *a);
/* Free every chunk. The arena may be re-initialised afterwards. */
void cw_arena_release(struct cw_arena *a);

#endif
