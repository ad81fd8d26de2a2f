#include "common/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

struct cw_arena_chunk {
    struct cw_arena_chunk *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

void cw_arena_init(struct cw_arena *a, size_t chunk_size, size_t limit)
{
    a->head = NULL;
    a->chunk_size = chunk_size ? chunk_size : 64 * 1024;
    a->used_total = 0;
    a->limit = limit;
}

static struct cw_arena_chunk *chunk_new(size_t size)
{
    struct cw_arena_chunk *c = malloc(sizeof(*c) + size);
    if (!c)
        return NULL;
    c->next = NULL;
    c->size = size;
    c->used = 0;
    return c;
}

void *cw_arena_alloc(struct cw_arena *a, size_t n)
{
    size_t need = (n + 15) & ~(size_t)15;
    if (need < n)
        return NULL;
    if (a->limit && a->used_total + need > a->limit)
        return NULL;
    struct cw_arena_chunk *c = a->head;
    if (!c || c->size - c->used < need) {
        /* Large requests get a chunk of their own so they do not waste the tail
         * of the current one. */
        size_t sz = need > a->chunk_size ? need : a->chunk_size;
        struct cw_arena_chunk *nc = chunk_new(sz);
        if (!nc)
            return NULL;
        if (c && need > a->chunk_size && c->size - c->used >= 256) {
            /* keep the roomy current chunk on top */
            nc->next = c->next;
            c->next = nc;
            nc->used = need;
            a->used_total += need;
            return nc->data;
        }
        nc->next = c;
        a->head = c = nc;
    }
    void *p = c->data + c->used;
    c->used += need;
    a->used_total += need;
    return p;
}

void *cw_arena_calloc(struct cw_arena *a, size_t n)
{
    void *p = cw_arena_alloc(a, n);
    if (p)
        memset(p, 0, n);
    return p;
}

char *cw_arena_strndup(struct cw_arena *a, const char *s, size_t n)
{
    char *p = cw_arena_alloc(a, n + 1);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void cw_arena_clear(struct cw_arena *a)
{
    struct cw_arena_chunk *c = a->head;
    if (!c)
        return;
    /* keep the oldest chunk (the first allocated, normally chunk_size) */
    struct cw_arena_chunk *keep = c;
    while (keep->next)
        keep = keep->next;
    while (c != keep) {
        struct cw_arena_chunk *n = c->next;
        free(c);
        c = n;
    }
    keep->used = 0;
    a->head = keep;
    a->used_total = 0;
}

void cw_arena_release(struct cw_arena *a)
{
    struct cw_arena_chunk *c = a->head;
    while (c) {
        struct cw_arena_chunk *n = c->next;
        free(c);
        c = n;
    }
    a->head = NULL;
    a->used_total = 0;
}
