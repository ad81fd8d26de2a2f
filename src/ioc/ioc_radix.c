/* ioc_radix.c - path-compressed binary prefix tree; see ioc_radix.h.
 *
 * The direct table (dir): for entry x (the first k bits of a key), a look-up
 * from the root visits the same nodes of prefix length < k for every key that
 * starts with x, because those nodes compare and branch on bits < k only. The
 * entry stores what that part of the walk yields: the last value seen, and the
 * first node reached of length >= k if its first k bits are x (any other such
 * node cannot match a key starting with x). Entries name nodes by index, so the
 * node array may move; an entry only names a node of length >= k with first k
 * bits x, and only prefixes of length < k covering x change its best, so the
 * entries under a changed prefix are all that an insert or remove can make
 * stale (dir_refresh). */
#include "ioc/ioc_radix.h"

#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

struct cw_radix_node {
    uint64_t hi, lo;   /* prefix bits, left-aligned, bits past plen zero */
    uint64_t val;      /* 0 = no prefix ends here (a branching node) */
    uint32_t child[2]; /* node indices, 0 = none; child[b] continues with bit b */
    uint32_t plen;
};

void cw_radix_init(struct cw_radix *r)
{
    memset(r, 0, sizeof(*r));
}

void cw_radix_release(struct cw_radix *r)
{
    free(r->nodes);
    free(r->dir);
    cw_radix_init(r);
}

size_t cw_radix_bytes(const struct cw_radix *r)
{
    size_t d = r->dir ? ((size_t)1 << r->dir_bits) * sizeof(*r->dir) : 0;
    return (size_t)r->cap * sizeof(struct cw_radix_node) + d;
}

static unsigned bit_at(uint64_t hi, uint64_t lo, unsigned i)
{
    return i < 64 ? (unsigned)(hi >> (63 - i)) & 1u : (unsigned)(lo >> (127 - i)) & 1u;
}

static void mask(uint64_t *hi, uint64_t *lo, unsigned plen)
{
    if (plen == 0) {
        *hi = *lo = 0;
    } else if (plen < 64) {
        *hi &= ~0ULL << (64 - plen);
        *lo = 0;
    } else if (plen < 128) {
        *lo &= plen == 64 ? 0 : ~0ULL << (128 - plen);
    }
}

/* Length of the common prefix of two keys, at most max bits. */
static unsigned common(uint64_t ahi, uint64_t alo, uint64_t bhi, uint64_t blo, unsigned max)
{
    unsigned n;
    uint64_t x = ahi ^ bhi;
    if (x)
        n = (unsigned)__builtin_clzll(x);
    else if ((x = alo ^ blo))
        n = 64 + (unsigned)__builtin_clzll(x);
    else
        n = 128;
    return n < max ? n : max;
}

static uint32_t node_new(struct cw_radix *r, uint64_t hi, uint64_t lo, unsigned plen,
                         uint64_t val)
{
    uint32_t i;
    if (r->free_head) {
        i = r->free_head;
        r->free_head = r->nodes[i].child[0];
    } else {
        if (r->nnodes == 0)
            r->nnodes = 1; /* index 0 is "none" */
        if (r->nnodes >= r->cap) {
            if (r->cap > UINT32_MAX / 2)
                return 0;
            uint32_t nc = r->cap ? r->cap * 2 : 64;
            struct cw_radix_node *nn = realloc(r->nodes, (size_t)nc * sizeof(*nn));
            if (!nn)
                return 0;
            r->nodes = nn;
            r->cap = nc;
        }
        i = r->nnodes++;
    }
    struct cw_radix_node *n = &r->nodes[i];
    mask(&hi, &lo, plen);
    n->hi = hi;
    n->lo = lo;
    n->plen = plen;
    n->val = val;
    n->child[0] = n->child[1] = 0;
    return i;
}

static void node_free(struct cw_radix *r, uint32_t i)
{
    r->nodes[i].child[0] = r->free_head;
    r->nodes[i].child[1] = 0;
    r->nodes[i].val = 0;
    r->free_head = i;
}

/* The link (root or a child slot) that points at a node: given by its owner,
 * because the node array may move when it grows. */
struct link {
    uint32_t owner; /* 0 = the root */
    unsigned side;
};

static uint32_t link_get(const struct cw_radix *r, struct link l)
{
    return l.owner ? r->nodes[l.owner].child[l.side] : r->root;
}

static void link_set(struct cw_radix *r, struct link l, uint32_t v)
{
    if (l.owner)
        r->nodes[l.owner].child[l.side] = v;
    else
        r->root = v;
}

/* Entry x: the walk over nodes shorter than k bits for any key starting with x. */
static void dir_fill(struct cw_radix *r, uint64_t x)
{
    unsigned k = r->dir_bits;
    uint64_t hi = x << (64 - k), best = 0;
    uint32_t cur = r->root, start = 0;
    while (cur) {
        const struct cw_radix_node *c = &r->nodes[cur];
        if (c->plen >= k) {
            if (c->hi >> (64 - k) == x)
                start = cur;
            break;
        }
        if (common(c->hi, 0, hi, 0, c->plen) < c->plen)
            break;
        if (c->val)
            best = c->val;
        cur = c->child[bit_at(hi, 0, c->plen)];
    }
    r->dir[x].best = best;
    r->dir[x].start = start;
}

/* After a change of prefix hi/plen: refresh the entries it covers. */
static void dir_refresh(struct cw_radix *r, uint64_t hi, unsigned plen)
{
    if (!r->dir)
        return;
    unsigned k = r->dir_bits;
    uint64_t x = hi >> (64 - k), n = 1;
    if (plen < k) {
        n = (uint64_t)1 << (k - plen);
        x &= ~(n - 1);
    }
    for (uint64_t i = 0; i < n; i++)
        dir_fill(r, x + i);
}

int cw_radix_set_dir(struct cw_radix *r, unsigned bits)
{
    if (bits == 0) {
        free(r->dir);
        r->dir = NULL;
        r->dir_bits = 0;
        return 0;
    }
    if (bits < 16 || bits > 20)
        return -1;
    struct cw_radix_dir *d = malloc(((size_t)1 << bits) * sizeof(*d));
    if (!d)
        return -1;
    free(r->dir);
    r->dir = d;
    r->dir_bits = bits;
    for (uint64_t x = 0; x < (uint64_t)1 << bits; x++)
        dir_fill(r, x);
    return 0;
}

static int radix_insert(struct cw_radix *r, uint64_t hi, uint64_t lo, unsigned plen, uint64_t val)
{
    if (!val || plen > 128)
        return -1;
    mask(&hi, &lo, plen);
    struct link at = {0, 0};
    for (;;) {
        uint32_t cur = link_get(r, at);
        if (!cur) {
            uint32_t n = node_new(r, hi, lo, plen, val);
            if (!n)
                return -1;
            link_set(r, at, n);
            r->nvals++;
            return 1;
        }
        struct cw_radix_node *c = &r->nodes[cur];
        unsigned cpl = common(c->hi, c->lo, hi, lo, plen < c->plen ? plen : c->plen);
        if (cpl == c->plen && cpl == plen) {
            int added = c->val == 0;
            c->val = val;
            r->nvals += (size_t)added;
            return added;
        }
        if (cpl == c->plen) { /* c is a proper prefix of the key: go down */
            at.owner = cur;
            at.side = bit_at(hi, lo, c->plen);
            continue;
        }
        unsigned cside = bit_at(c->hi, c->lo, cpl);
        if (cpl == plen) { /* the key is a proper prefix of c: insert above it */
            uint32_t n = node_new(r, hi, lo, plen, val);
            if (!n)
                return -1;
            r->nodes[n].child[cside] = cur;
            link_set(r, at, n);
            r->nvals++;
            return 1;
        }
        /* they differ at bit cpl: a branching node with both below it */
        uint32_t leaf = node_new(r, hi, lo, plen, val);
        if (!leaf)
            return -1;
        uint32_t br = node_new(r, hi, lo, cpl, 0);
        if (!br) {
            node_free(r, leaf);
            return -1;
        }
        r->nodes[br].child[cside] = cur;
        r->nodes[br].child[!cside] = leaf;
        link_set(r, at, br);
        r->nvals++;
        return 1;
    }
}

int cw_radix_insert(struct cw_radix *r, uint64_t hi, uint64_t lo, unsigned plen, uint64_t val)
{
    int rc = radix_insert(r, hi, lo, plen, val);
    if (rc >= 0)
        dir_refresh(r, hi, plen);
    return rc;
}

static int radix_remove(struct cw_radix *r, uint64_t hi, uint64_t lo, unsigned plen)
{
    if (plen > 128)
        return 0;
    mask(&hi, &lo, plen);
    struct link at = {0, 0}, up = {0, 0};
    uint32_t parent = 0;
    for (;;) {
        uint32_t cur = link_get(r, at);
        if (!cur)
            return 0;
        struct cw_radix_node *c = &r->nodes[cur];
        if (c->plen > plen || common(c->hi, c->lo, hi, lo, c->plen) < c->plen)
            return 0;
        if (c->plen < plen) {
            up = at;
            parent = cur;
            at.owner = cur;
            at.side = bit_at(hi, lo, c->plen);
            continue;
        }
        if (!c->val)
            return 0;
        c->val = 0;
        r->nvals--;
        uint32_t k0 = c->child[0], k1 = c->child[1];
        if (k0 && k1)
            return 1; /* still branches */
        link_set(r, at, k0 ? k0 : k1);
        node_free(r, cur);
        /* a valueless parent left with one child no longer branches */
        if (parent && !r->nodes[parent].val) {
            struct cw_radix_node *p = &r->nodes[parent];
            uint32_t only = p->child[0] ? p->child[0] : p->child[1];
            if (!(p->child[0] && p->child[1])) {
                link_set(r, up, only);
                node_free(r, parent);
            }
        }
        return 1;
    }
}

int cw_radix_remove(struct cw_radix *r, uint64_t hi, uint64_t lo, unsigned plen)
{
    int rc = radix_remove(r, hi, lo, plen);
    if (rc > 0)
        dir_refresh(r, hi, plen);
    return rc;
}

void cw_radix_prefetch_start(const struct cw_radix *r, uint64_t hi)
{
    if (r->dir) {
        uint32_t i = r->dir[hi >> (64 - r->dir_bits)].start;
        if (i)
            __builtin_prefetch(&r->nodes[i]);
    }
}

uint64_t cw_radix_lpm(const struct cw_radix *r, uint64_t hi, uint64_t lo, unsigned maxlen)
{
    uint64_t best = 0;
    uint32_t cur = r->root;
    if (r->dir && maxlen == 32) {
        const struct cw_radix_dir *d = &r->dir[hi >> (64 - r->dir_bits)];
        best = d->best;
        cur = d->start;
    }
    while (cur) {
        const struct cw_radix_node *c = &r->nodes[cur];
        if (c->plen > maxlen || common(c->hi, c->lo, hi, lo, c->plen) < c->plen)
            break;
        if (c->val)
            best = c->val;
        if (c->plen >= maxlen)
            break;
        cur = c->child[bit_at(hi, lo, c->plen)];
    }
    return best;
}

uint64_t cw_radix_get(const struct cw_radix *r, uint64_t hi, uint64_t lo, unsigned plen)
{
    mask(&hi, &lo, plen);
    uint32_t cur = r->root;
    while (cur) {
        const struct cw_radix_node *c = &r->nodes[cur];
        if (c->plen > plen || common(c->hi, c->lo, hi, lo, c->plen) < c->plen)
            return 0;
        if (c->plen == plen)
            return c->val;
        cur = c->child[bit_at(hi, lo, c->plen)];
    }
    return 0;
}

/* Any value in the subtree of node i (every leaf holds one). */
static uint64_t any_below(const struct cw_radix *r, uint32_t i)
{
    while (i) {
        const struct cw_radix_node *c = &r->nodes[i];
        if (c->val)
            return c->val;
        i = c->child[0] ? c->child[0] : c->child[1];
    }
    return 0;
}

uint64_t cw_radix_any_within(const struct cw_radix *r, uint64_t hi, uint64_t lo, unsigned plen)
{
    mask(&hi, &lo, plen);
    uint32_t cur = r->root;
    while (cur) {
        const struct cw_radix_node *c = &r->nodes[cur];
        unsigned m = c->plen < plen ? c->plen : plen;
        if (common(c->hi, c->lo, hi, lo, m) < m)
            return 0;
        if (c->plen >= plen)
            return any_below(r, cur); /* c and all below it lie inside the range */
        cur = c->child[bit_at(hi, lo, c->plen)];
    }
    return 0;
}
