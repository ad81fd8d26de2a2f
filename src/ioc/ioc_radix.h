/* ioc_radix.h - a path-compressed binary prefix tree with longest-prefix match
 * (private to src/ioc; used by iocset.c for CIDR indicators).
 *
 * Keys are up to 128 bits, left-aligned in two uint64_t (an IPv4 network in the top
 * 32 bits of hi). Every node holds a prefix (bits and length) and may hold a value;
 * a node without a value exists only where two subtrees branch, so the tree has at
 * most 2n - 1 nodes for n prefixes and a look-up visits at most one node per
 * branching bit. Nodes live in one array addressed by 32-bit indices (half the
 * size of pointers), freed nodes go to a free list.
 *
 * A tree of 32-bit keys (IPv4) may add a direct first level (cw_radix_set_dir):
 * a table indexed by the first k bits (16..20) of the key that holds, per entry,
 * the longest value among prefixes shorter than k bits on that path and the
 * first node at or below bit k whose first k bits are the entry's. A look-up
 * then reads one table entry and starts from that node, skipping the top of the
 * tree (the look-up's longest dependent chain of cache misses). Every insert and
 * remove refreshes the entries under the changed prefix: 2^(k - plen) entries for
 * a prefix shorter than k bits, else one.
 *
 * Values are nonzero uint64_t. Not thread-safe; the owner serialises writers
 * against readers. */
#ifndef CW_IOC_IOC_RADIX_H
#define CW_IOC_IOC_RADIX_H

#include <stddef.h>
#include <stdint.h>

struct cw_radix_node;

struct cw_radix_dir {
    uint64_t best;  /* value of the longest prefix shorter than dir_bits on the path */
    uint32_t start; /* node to continue from, 0 = none */
    uint32_t pad;
};

struct cw_radix {
    struct cw_radix_node *nodes; /* nodes[0] is unused: index 0 means "none" */
    uint32_t nnodes, cap, free_head;
    uint32_t root;
    size_t nvals;
    struct cw_radix_dir *dir; /* NULL, or 2^dir_bits entries (32-bit keys only) */
    unsigned dir_bits;
};

void cw_radix_init(struct cw_radix *r);
void cw_radix_release(struct cw_radix *r);
/* Insert or replace the value of prefix (hi, lo)/plen (bits past plen are ignored).
 * Returns 1 when added, 0 when replaced, -1 on allocation failure (tree unchanged). */
int cw_radix_insert(struct cw_radix *r, uint64_t hi, uint64_t lo, unsigned plen, uint64_t val);
/* Remove the prefix; returns 1 if it was there, else 0. */
int cw_radix_remove(struct cw_radix *r, uint64_t hi, uint64_t lo, unsigned plen);
/* Value of the longest prefix containing the key of maxlen bits (32 or 128); 0 if none. */
uint64_t cw_radix_lpm(const struct cw_radix *r, uint64_t hi, uint64_t lo, unsigned maxlen);
/* Value of exactly this prefix, 0 if none. */
uint64_t cw_radix_get(const struct cw_radix *r, uint64_t hi, uint64_t lo, unsigned plen);
/* Does any stored prefix lie inside (hi, lo)/plen (itself included)? Returns the
 * value of one such prefix, else 0. */
uint64_t cw_radix_any_within(const struct cw_radix *r, uint64_t hi, uint64_t lo, unsigned plen);
size_t cw_radix_bytes(const struct cw_radix *r);
/* Index the first bits (16..20; 0 drops the table) of a tree that holds only
 * 32-bit keys (lo == 0, plen <= 32) in a direct table of 2^bits * 16 bytes, kept
 * up to date by insert and remove; cw_radix_lpm(..., 32) then starts from it.
 * Returns 0, or -1 on a bad argument or allocation failure (the tree is then
 * unchanged and still answers, without the table). */
int cw_radix_set_dir(struct cw_radix *r, unsigned bits);
/* Start loading the table entry a 32-bit look-up of hi reads first (a hint; the
 * batch look-ups of iocset.c issue it while other probes are being prepared). */
static inline void cw_radix_prefetch(const struct cw_radix *r, uint64_t hi)
{
    if (r->dir)
        __builtin_prefetch(&r->dir[hi >> (64 - r->dir_bits)]);
}
/* The next step: read that entry and start loading the node it leads to. */
void cw_radix_prefetch_start(const struct cw_radix *r, uint64_t hi);

#endif
