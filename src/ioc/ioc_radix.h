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
 * Values are nonzero uint64_t. Not thread-safe; the owner serialises writers
 * against readers. */
#ifndef CW_IOC_IOC_RADIX_H
#define CW_IOC_IOC_RADIX_H

#include <stddef.h>
#include <stdint.h>

struct cw_radix_node;

struct cw_radix {
    struct cw_radix_node *nodes; /* nodes[0] is unused: index 0 means "none" */
    uint32_t nnodes, cap, free_head;
    uint32_t root;
    size_t nvals;
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

#endif
