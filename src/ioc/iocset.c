/* iocset.c - the look-up set of published indicators; see iocset.h.
 *
 * Hash sets (one per type except cidr): open addressing over buckets of one cache
 * line each: 8 tags (the high half of the key's 64-bit hash, never 0) and the 8
 * matching entry offsets + 1. The low bits of the hash pick the home bucket; a
 * probe compares the 8 tags at once and reads the arena only when a tag matches
 * (a miss almost never does), then stops at the first bucket with an empty slot,
 * so a look-up costs one cache line of the table, two when the home bucket has
 * overflowed into the next (a few percent at the load factors used, <= 3/4).
 * Keys live packed in one arena per type:
 *     [key length: 1 byte, or 2 when >= 128][key bytes][id: LEB128, 1..10 bytes]
 * Store ids are small sequential numbers, so the id costs 3-4 bytes, not 8.
 * A removed key leaves a tombstone slot (tag 0, offset TOMB) and dead arena
 * bytes; the table is rebuilt (arena compacted) when tombstones or dead bytes
 * pass half of it. An insert may reuse a tombstone: it only ever follows a
 * look-up that found no equal key, and look-ups stop at empty slots, never at
 * tombstones.
 *
 * Keys are not always the canonical text: digests and addresses are stored as
 * their bytes (16/20/32 and 4/16) to halve the arena, and a URL is stored as
 * host[:port]/path?query (no scheme, no user info, no port 80 or 443), the form a
 * record presents (http.host + http.url), so one probe answers http and https.
 *
 * CIDRs: one prefix tree per family (ioc_radix.c), longest prefix wins; the IPv4
 * tree gets a direct first level once it holds enough prefixes (NET4_DIR_MIN).
 *
 * Each table has a small Bloom filter beside it (filt_*), read before the bucket:
 * most values of records are in no table, and the filter answers them from the
 * cache.
 *
 * Look-ups run in steps (struct prep): prepare hashes every key the value may
 * match (a name: itself as hostname, then itself and its parents as domains, only
 * at label counts some key has; an address: exact, then the tree), drops those
 * the filter rules out and asks the cache for the buckets of the others; resolve
 * then reads them most specific first. A single look-up thus waits for its cache
 * misses at once, not in turn. cw_iocset_match_batch takes groups of 32 values
 * through four steps, each over the whole group before the next: hash and ask for
 * the filter words; filter and ask for the buckets; ask for the arena entries of
 * matching tags (and the IPv4 tree node); resolve. */
#include "ioc/iocset.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "ioc/ioc_hash.h"
#include "ioc/ioc_radix.h"
#include "common/banned.h"

#define TOMB UINT32_MAX
#define NAME_MAX_LEN 253
#define KEY_MAX (CW_IOC_VALUE_MAX + 8)
#define BSLOTS 8
#define HUGE_PAGE ((size_t)2 << 20)
#define NET4_DIR_MIN 2048 /* IPv4 prefixes before the tree gets a direct level */

struct bucket {
    uint32_t tag[BSLOTS];  /* nonzero for a key, 0 for empty and removed slots */
    uint32_t off1[BSLOTS]; /* entry offset + 1; 0 = empty, TOMB = removed */
};

struct hset {
    struct bucket *b;
    size_t nb;   /* buckets: a power of two, or 0 */
    size_t live; /* keys */
    size_t tomb; /* removed slots */
    uint8_t *arena;
    size_t alen, acap, dead;
    uint64_t depths; /* names: bit k set when a key of k + 1 labels (63: >= 64) exists */
};

struct cw_iocset {
    struct hset h[CW_IOC__COUNT]; /* ipv4/ipv6: exact addresses; cidr unused */
    struct cw_radix net4, net6;
};

/* -- memory --------------------------------------------------------------------- */

/* Tables of hundreds of MiB are read at random: ask Linux for transparent huge
 * pages on them, so that a look-up costs its cache miss and not also a page walk
 * (4 KiB pages give the TLB a reach of a few MiB). Advice only; errors ignored. */
static void advise_huge(void *p, size_t n)
{
#if defined(MADV_HUGEPAGE)
    uintptr_t a = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
    uintptr_t e = ((uintptr_t)p + n) & ~(uintptr_t)(HUGE_PAGE - 1);
    if (e > a)
        (void)madvise((void *)a, e - a, MADV_HUGEPAGE);
#else
    (void)p;
    (void)n;
#endif
}

#define FILT_DIV 2 /* buckets per filter word */

static size_t filt_words(size_t nb)
{
    return nb > FILT_DIV ? nb / FILT_DIV : 1;
}

/* nb zeroed buckets followed by their filter (nb words), cache-line aligned
 * (huge-page aligned when large). */
static struct bucket *buckets_new(size_t nb)
{
    size_t sz = nb * sizeof(struct bucket) + filt_words(nb) * sizeof(uint64_t);
    size_t align = sz >= HUGE_PAGE ? HUGE_PAGE : 64;
    sz = (sz + align - 1) & ~(align - 1);
    struct bucket *b = aligned_alloc(align, sz);
    if (!b)
        return NULL;
    advise_huge(b, sz); /* before the first write faults the pages in */
    memset(b, 0, sz);
    return b;
}

/* An arena of at least *cap bytes holding the first len bytes of old (then freed;
 * old may be NULL); *cap is set to the size obtained. Large arenas are allocated
 * anew, huge-page aligned and advised before they are written, rather than
 * realloc'ed (which would keep the old pages small). NULL on failure (old kept). */
static uint8_t *arena_resize(uint8_t *old, size_t len, size_t *cap)
{
    uint8_t *na;
    if (*cap < HUGE_PAGE) {
        na = realloc(old, *cap);
        return na;
    }
    size_t sz = (*cap + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    na = aligned_alloc(HUGE_PAGE, sz);
    if (!na)
        return NULL;
    advise_huge(na, sz);
    if (len)
        memcpy(na, old, len);
    free(old);
    *cap = sz;
    return na;
}

/* -- hash sets ---------------------------------------------------------------- */

static uint32_t tag_of(uint64_t hv)
{
    return (uint32_t)(hv >> 32) | 1u;
}

/* Bit i set when slot i of b has tag t (t != 0: empty slots never match). */
static unsigned tag_hits(const struct bucket *b, uint32_t t)
{
#if defined(__SSE2__)
    __m128i v = _mm_set1_epi32((int)t);
    __m128i x = _mm_cmpeq_epi32(_mm_load_si128((const __m128i *)(const void *)b->tag), v);
    __m128i y = _mm_cmpeq_epi32(_mm_load_si128((const __m128i *)(const void *)b->tag + 1), v);
    return (unsigned)_mm_movemask_epi8(_mm_packs_epi16(_mm_packs_epi32(x, y), _mm_setzero_si128()));
#else
    unsigned m = 0;
    for (unsigned i = 0; i < BSLOTS; i++)
        m |= (unsigned)(b->tag[i] == t) << i;
    return m;
#endif
}

static bool has_empty(const struct bucket *b)
{
#if defined(__SSE2__)
    __m128i z = _mm_setzero_si128();
    __m128i x = _mm_cmpeq_epi32(_mm_load_si128((const __m128i *)(const void *)b->off1), z);
    __m128i y = _mm_cmpeq_epi32(_mm_load_si128((const __m128i *)(const void *)b->off1 + 1), z);
    return _mm_movemask_epi8(_mm_or_si128(x, y)) != 0;
#else
    for (unsigned i = 0; i < BSLOTS; i++)
        if (!b->off1[i])
            return true;
    return false;
#endif
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

static uint64_t get_varint(const uint8_t *p, size_t *n)
{
    uint64_t v = 0;
    unsigned sh = 0;
    size_t i = 0;
    for (;; i++, sh += 7) {
        v |= (uint64_t)(p[i] & 0x7f) << sh;
        if (!(p[i] & 0x80))
            break;
    }
    *n = i + 1;
    return v;
}

/* Key of the entry at off (length in *kn). */
static const uint8_t *entry_key(const struct hset *h, uint32_t off, size_t *kn)
{
    const uint8_t *e = h->arena + off;
    if (e[0] < 0x80) {
        *kn = e[0];
        return e + 1;
    }
    *kn = ((size_t)(e[0] & 0x7f) << 8) | e[1];
    return e + 2;
}

static uint64_t entry_id(const struct hset *h, uint32_t off)
{
    size_t kn, vn;
    const uint8_t *k = entry_key(h, off, &kn);
    return get_varint(k + kn, &vn);
}

static size_t entry_size(const struct hset *h, uint32_t off)
{
    size_t kn, vn;
    const uint8_t *k = entry_key(h, off, &kn);
    get_varint(k + kn, &vn);
    return (size_t)(k - (h->arena + off)) + kn + vn;
}

static size_t hset_slots(const struct hset *h)
{
    return h->nb * BSLOTS;
}

/* The filter: a Bloom filter of one 64-bit word per FILT_DIV buckets (4 bits per
 * slot, so 5..11 bits per key at the load factors used), 4 bits per key in one
 * word picked by a second mix of the hash: 2..9% false "maybe" from the lowest
 * to the highest load. It is 1/16 of the table's size, so it stays in caches that the table does
 * not fit in, and a value that is in no table (nearly every value of a record)
 * is answered there without reading its bucket. Removed keys leave their bits
 * until the next rebuild (it only ever answers "maybe" too often, never "no"
 * wrongly). Measured (bench_ioc, 1M and 10M indicators): one word per bucket
 * gave no more look-ups per second, four buckets per word fewer. */
static uint64_t *filt_of(struct bucket *b, size_t nb)
{
    return (uint64_t *)(void *)(b + nb);
}

static uint64_t filt_h2(uint64_t hv)
{
    return (hv ^ (hv >> 29)) * 0xbf58476d1ce4e5b9ULL;
}

static uint64_t filt_bits(uint64_t h2)
{
    return 1ULL << (h2 & 63) | 1ULL << (h2 >> 6 & 63) | 1ULL << (h2 >> 12 & 63) |
           1ULL << (h2 >> 18 & 63);
}

static const uint64_t *filt_word(const struct hset *h, uint64_t h2)
{
    return filt_of(h->b, h->nb) + ((h2 >> 32) & (filt_words(h->nb) - 1));
}

static bool filt_maybe(const struct hset *h, uint64_t hv)
{
    uint64_t h2 = filt_h2(hv), m = filt_bits(h2);
    return (*filt_word(h, h2) & m) == m;
}

static void hset_prefetch(const struct hset *h, uint64_t hv)
{
    __builtin_prefetch(&h->b[hv & (h->nb - 1)]);
}

/* Slot (bucket * BSLOTS + index) holding key k, or SIZE_MAX. */
static size_t hset_find(const struct hset *h, const uint8_t *k, size_t n, uint64_t hv)
{
    if (!h->live)
        return SIZE_MAX;
    size_t mask = h->nb - 1;
    uint32_t tag = tag_of(hv);
    for (size_t bi = (size_t)hv & mask;; bi = (bi + 1) & mask) {
        const struct bucket *b = &h->b[bi];
        for (unsigned m = tag_hits(b, tag); m; m &= m - 1) {
            unsigned i = (unsigned)__builtin_ctz(m);
            size_t kn;
            const uint8_t *ek = entry_key(h, b->off1[i] - 1, &kn);
            if (kn == n && memcmp(ek, k, n) == 0)
                return bi * BSLOTS + i;
        }
        if (has_empty(b))
            return SIZE_MAX;
    }
}

static uint32_t *slot_off1(const struct hset *h, size_t slot)
{
    return &h->b[slot / BSLOTS].off1[slot % BSLOTS];
}

static uint64_t hset_get_hv(const struct hset *h, const uint8_t *k, size_t n, uint64_t hv)
{
    size_t i = hset_find(h, k, n, hv);
    return i == SIZE_MAX ? 0 : entry_id(h, *slot_off1(h, i) - 1);
}

/* Place a key known to be absent: the first empty or removed slot from its home
 * bucket on. Returns 1 when it took a removed slot. */
static int slot_put(struct bucket *bs, size_t nb, uint64_t hv, uint32_t off1)
{
    size_t mask = nb - 1;
    uint64_t h2 = filt_h2(hv);
    filt_of(bs, nb)[(h2 >> 32) & (filt_words(nb) - 1)] |= filt_bits(h2);
    for (size_t bi = (size_t)hv & mask;; bi = (bi + 1) & mask) {
        struct bucket *b = &bs[bi];
        for (unsigned i = 0; i < BSLOTS; i++) {
            if (b->off1[i] == 0 || b->off1[i] == TOMB) {
                int was_tomb = b->off1[i] == TOMB;
                b->tag[i] = tag_of(hv);
                b->off1[i] = off1;
                return was_tomb;
            }
        }
    }
}

/* Rebuild with nslots slots, compacting the arena when it has dead bytes. */
static int hset_rebuild(struct hset *h, size_t nslots)
{
    size_t nnb = nslots / BSLOTS;
    struct bucket *ns = buckets_new(nnb);
    if (!ns)
        return -1;
    uint8_t *na = h->arena;
    size_t nlen = h->alen, ncapa = h->acap;
    bool compact = h->dead > 0;
    if (compact) {
        ncapa = h->alen - h->dead + 64;
        na = arena_resize(NULL, 0, &ncapa);
        if (!na) {
            free(ns);
            return -1;
        }
        nlen = 0;
    }
    for (size_t bi = 0; bi < h->nb; bi++) {
        for (unsigned j = 0; j < BSLOTS; j++) {
            uint32_t o1 = h->b[bi].off1[j];
            if (!o1 || o1 == TOMB)
                continue;
            size_t kn;
            const uint8_t *k = entry_key(h, o1 - 1, &kn);
            uint32_t off = o1 - 1;
            if (compact) {
                size_t sz = entry_size(h, off);
                memcpy(na + nlen, h->arena + off, sz);
                off = (uint32_t)nlen;
                nlen += sz;
            }
            slot_put(ns, nnb, cw_ioc_hash(k, kn), off + 1);
        }
    }
    if (compact) {
        free(h->arena);
        h->arena = na;
        h->alen = nlen;
        h->acap = ncapa < (size_t)UINT32_MAX - 1 ? ncapa : (size_t)UINT32_MAX - 1;
        h->dead = 0;
    }
    free(h->b);
    h->b = ns;
    h->nb = nnb;
    h->tomb = 0;
    return 0;
}

/* Returns 1 added, 0 replaced, -1 out of memory / arena past 4 GiB (the set is
 * then unchanged: space is found before anything is modified). */
static int hset_put(struct hset *h, const uint8_t *k, size_t n, uint64_t id)
{
    uint64_t hv = cw_ioc_hash(k, n);
    size_t i = hset_find(h, k, n, hv);
    if (i != SIZE_MAX && entry_id(h, *slot_off1(h, i) - 1) == id)
        return 0;
    if (i == SIZE_MAX && (h->live + h->tomb + 1) * 4 > hset_slots(h) * 3) {
        size_t ncap = h->nb ? hset_slots(h) : 16;
        while ((h->live + 1) * 2 > ncap)
            ncap *= 2;
        if (hset_rebuild(h, ncap) < 0)
            return -1;
    }
    size_t need = 2 + n + 10;
    if (h->alen + need > h->acap) {
        size_t nc = h->acap ? h->acap + h->acap / 2 : 4096;
        while (nc < h->alen + need)
            nc += nc / 2;
        if (nc > (size_t)UINT32_MAX - 1)
            nc = (size_t)UINT32_MAX - 1;
        if (h->alen + need > nc)
            return -1;
        uint8_t *na = arena_resize(h->arena, h->alen, &nc);
        if (!na)
            return -1;
        h->arena = na;
        h->acap = nc < (size_t)UINT32_MAX - 1 ? nc : (size_t)UINT32_MAX - 1; /* offsets */
    }
    uint32_t off = (uint32_t)h->alen;
    uint8_t *e = h->arena + off;
    size_t w = 0;
    if (n < 0x80) {
        e[w++] = (uint8_t)n;
    } else {
        e[w++] = (uint8_t)(0x80 | (n >> 8));
        e[w++] = (uint8_t)(n & 0xff);
    }
    memcpy(e + w, k, n);
    w += n;
    w += put_varint(e + w, id);
    h->alen += w;
    if (i != SIZE_MAX) { /* replace: the slot points at the new entry */
        uint32_t *o1 = slot_off1(h, i);
        h->dead += entry_size(h, *o1 - 1);
        *o1 = off + 1;
        return 0;
    }
    h->tomb -= (size_t)slot_put(h->b, h->nb, hv, off + 1);
    h->live++;
    return 1;
}

static int hset_del(struct hset *h, const uint8_t *k, size_t n)
{
    size_t i = hset_find(h, k, n, cw_ioc_hash(k, n));
    if (i == SIZE_MAX)
        return 0;
    uint32_t *o1 = slot_off1(h, i);
    h->dead += entry_size(h, *o1 - 1);
    h->b[i / BSLOTS].tag[i % BSLOTS] = 0;
    *o1 = TOMB;
    h->tomb++;
    h->live--;
    if (h->live == 0) {
        free(h->b);
        free(h->arena);
        memset(h, 0, sizeof(*h));
    } else if (h->tomb * 2 > hset_slots(h) / 2 || (h->dead > 65536 && h->dead * 2 > h->alen)) {
        size_t ncap = hset_slots(h);
        while (ncap > 16 && h->live * 4 < ncap)
            ncap /= 2;
        (void)hset_rebuild(h, ncap); /* on failure the table stays valid as it was */
    }
    return 1;
}

static void hset_release(struct hset *h)
{
    free(h->b);
    free(h->arena);
    memset(h, 0, sizeof(*h));
}

/* -- keys ----------------------------------------------------------------------- */

static char lc(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Hex digit value + 1, 0 for any other byte. */
static const uint8_t hex1[256] = {
    ['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7,
    ['7'] = 8, ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14,
    ['e'] = 15, ['f'] = 16, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15,
    ['F'] = 16,
};

/* Hex digest of exactly 2 * bytes digits (either case) into out; without a
 * branch per digit (a digest probe is 32-64 of them). */
static bool unhex(const char *s, size_t n, size_t bytes, uint8_t *out)
{
    if (n != bytes * 2)
        return false;
    const uint8_t *u = (const uint8_t *)s;
    unsigned bad = 0;
    for (size_t i = 0; i < bytes; i++) {
        unsigned a = hex1[u[2 * i]] - 1u, b = hex1[u[2 * i + 1]] - 1u;
        bad |= a | b; /* > 15 when either was not a digit */
        out[i] = (uint8_t)(a << 4 | (b & 15));
    }
    return bad < 16;
}

static size_t digest_bytes(enum cw_ioc_type t)
{
    switch (t) {
    case CW_IOC_MD5:
    case CW_IOC_JA3:
        return 16;
    case CW_IOC_SHA1:
        return 20;
    case CW_IOC_SHA256:
        return 32;
    default:
        return 0;
    }
}

static void ip_key(const uint8_t *a, int fam, uint64_t *hi, uint64_t *lo)
{
    if (fam == 4) {
        *hi = (uint64_t)a[0] << 56 | (uint64_t)a[1] << 48 | (uint64_t)a[2] << 40 |
              (uint64_t)a[3] << 32;
        *lo = 0;
        return;
    }
    uint64_t h = 0, l = 0;
    for (int i = 0; i < 8; i++) {
        h = h << 8 | a[i];
        l = l << 8 | a[8 + i];
    }
    *hi = h;
    *lo = l;
}

/* host (lower-cased, trailing dot and port 80/443 dropped, IPv6 literal in its
 * canonical text) + path ("/" when empty, fragment dropped) into key. Returns the
 * key length, or 0 when it does not fit or the host is empty. */
static size_t url_key(const char *host, size_t hlen, const char *path, size_t plen, char *key,
                      size_t cap)
{
    size_t n = 0;
    const char *port = NULL;
    size_t portn = 0;
    if (hlen && host[0] == '[') {
        const char *rb = memchr(host, ']', hlen);
        if (!rb)
            return 0;
        uint8_t a[16];
        char tmp[64];
        size_t in = (size_t)(rb - host - 1);
        if (in >= sizeof(tmp))
            return 0;
        if (cw_ioc_parse_addr(host + 1, in, a) != 6)
            return 0;
        char canon[CW_IOC_VALUE_MAX];
        memcpy(tmp, host + 1, in);
        if (cw_ioc_normalize(CW_IOC_IPV6, tmp, in, canon, sizeof(canon), NULL, 0) < 0)
            return 0;
        size_t cn = strlen(canon);
        if (cn + 2 >= cap)
            return 0;
        key[n++] = '[';
        memcpy(key + n, canon, cn);
        n += cn;
        key[n++] = ']';
        if (rb + 1 < host + hlen && rb[1] == ':') {
            port = rb + 2;
            portn = (size_t)(host + hlen - port);
        }
    } else {
        const char *colon = memchr(host, ':', hlen);
        size_t hn = colon ? (size_t)(colon - host) : hlen;
        if (colon) {
            port = colon + 1;
            portn = hlen - hn - 1;
        }
        if (hn && host[hn - 1] == '.')
            hn--;
        if (hn == 0 || hn >= cap)
            return 0;
        for (size_t i = 0; i < hn; i++)
            key[n++] = lc(host[i]);
    }
    if (port) {
        unsigned pv = 0;
        size_t i = 0;
        while (i < portn && port[i] == '0')
            i++;
        if (portn - i > 5)
            return 0;
        for (; i < portn; i++) {
            if (port[i] < '0' || port[i] > '9')
                return 0;
            pv = pv * 10 + (unsigned)(port[i] - '0');
        }
        if (pv != 80 && pv != 443) {
            char pb[8];
            size_t pl = 0;
            char d[6];
            size_t dn = 0;
            do {
                d[dn++] = (char)('0' + pv % 10);
                pv /= 10;
            } while (pv && dn < sizeof(d));
            pb[pl++] = ':';
            while (dn)
                pb[pl++] = d[--dn];
            if (n + pl >= cap)
                return 0;
            memcpy(key + n, pb, pl);
            n += pl;
        }
    }
    const char *hash = memchr(path, '#', plen);
    if (hash)
        plen = (size_t)(hash - path);
    if (plen == 0 || path[0] != '/') {
        if (n + 1 >= cap)
            return 0;
        key[n++] = '/';
    }
    if (n + plen >= cap)
        return 0;
    memcpy(key + n, path, plen);
    return n + plen;
}

/* Key of a canonical URL "scheme://[user@]host[:port]/path". */
static size_t url_key_canon(const char *canon, size_t len, char *key, size_t cap)
{
    const char *p = memchr(canon, ':', len);
    if (!p || (size_t)(canon + len - p) < 3 || p[1] != '/' || p[2] != '/')
        return 0;
    const char *a = p + 3, *end = canon + len;
    const char *ae = a;
    while (ae < end && *ae != '/')
        ae++;
    const char *at = NULL;
    for (const char *q = a; q < ae; q++)
        if (*q == '@')
            at = q;
    if (at)
        a = at + 1;
    return url_key(a, (size_t)(ae - a), ae, (size_t)(end - ae), key, cap);
}

static size_t label_count(const char *s, size_t n)
{
    size_t c = 1;
    for (size_t i = 0; i < n; i++)
        c += s[i] == '.';
    return c;
}

/* -- the set -------------------------------------------------------------------- */

struct cw_iocset *cw_iocset_new(void)
{
    struct cw_iocset *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    cw_radix_init(&s->net4);
    cw_radix_init(&s->net6);
    return s;
}

void cw_iocset_free(struct cw_iocset *s)
{
    if (!s)
        return;
    for (int t = 0; t < CW_IOC__COUNT; t++)
        hset_release(&s->h[t]);
    cw_radix_release(&s->net4);
    cw_radix_release(&s->net6);
    free(s);
}

size_t cw_iocset_count(const struct cw_iocset *s)
{
    if (!s)
        return 0;
    size_t n = s->net4.nvals + s->net6.nvals;
    for (int t = 0; t < CW_IOC__COUNT; t++)
        n += s->h[t].live;
    return n;
}

size_t cw_iocset_bytes(const struct cw_iocset *s)
{
    if (!s)
        return 0;
    size_t n = sizeof(*s) + cw_radix_bytes(&s->net4) + cw_radix_bytes(&s->net6);
    for (int t = 0; t < CW_IOC__COUNT; t++)
        n += s->h[t].nb * sizeof(struct bucket) + filt_words(s->h[t].nb) * sizeof(uint64_t) +
             s->h[t].acap;
    return n;
}

/* The direct level of the IPv4 tree: none for a few prefixes (it costs 1 MiB),
 * then about 4 entries per prefix, so that most entries lead to no node or one
 * (16 bits up to 16k prefixes, 20 bits = 16 MiB from 256k). Never shrinks. On
 * allocation failure the tree keeps answering without it. */
static void net4_tune(struct cw_radix *r)
{
    if (r->nvals < NET4_DIR_MIN)
        return;
    unsigned want = 16;
    while (want < 20 && ((size_t)1 << (want - 2)) < r->nvals)
        want++;
    if (want > r->dir_bits)
        (void)cw_radix_set_dir(r, want);
}

/* The stored key of a canonical value: bytes in key (cap KEY_MAX), length in *kn.
 * For cidr: family in *fam, network and prefix in a / *plen. Returns 0, or -1
 * when canon is not the canonical form of a value of type t. */
static int make_key(enum cw_ioc_type t, const char *canon, size_t len, uint8_t *key,
                    size_t *kn, int *fam, uint8_t a[16], unsigned *plen)
{
    if (!cw_ioc_type_name(t) || len == 0 || len >= CW_IOC_VALUE_MAX)
        return -1;
    char norm[CW_IOC_VALUE_MAX];
    if (cw_ioc_normalize(t, canon, len, norm, sizeof(norm), NULL, 0) < 0 ||
        strlen(norm) != len || memcmp(norm, canon, len) != 0)
        return -1;
    size_t db = digest_bytes(t);
    if (db) {
        unhex(canon, len, db, key);
        *kn = db;
        return 0;
    }
    switch (t) {
    case CW_IOC_IPV4:
    case CW_IOC_IPV6:
        *fam = cw_ioc_parse_addr(canon, len, key);
        *kn = *fam == 4 ? 4 : 16;
        return 0;
    case CW_IOC_CIDR:
        *fam = cw_ioc_parse_cidr(canon, len, a, plen);
        return *fam ? 0 : -1;
    case CW_IOC_URL:
        *kn = url_key_canon(canon, len, (char *)key, KEY_MAX);
        return *kn ? 0 : -1;
    default:
        memcpy(key, canon, len);
        *kn = len;
        return 0;
    }
}

int cw_iocset_add(struct cw_iocset *s, enum cw_ioc_type t, const char *canon, size_t len,
                  uint64_t id)
{
    uint8_t key[KEY_MAX], a[16];
    size_t kn = 0;
    int fam = 0;
    unsigned plen = 0;
    if (!s || !canon || !id || make_key(t, canon, len, key, &kn, &fam, a, &plen) < 0)
        return -1;
    if (t == CW_IOC_CIDR) {
        uint64_t hi, lo;
        ip_key(a, fam, &hi, &lo);
        if (cw_radix_insert(fam == 4 ? &s->net4 : &s->net6, hi, lo, plen, id) < 0)
            return -1;
        if (fam == 4)
            net4_tune(&s->net4);
        return 0;
    }
    if (hset_put(&s->h[t], key, kn, id) < 0)
        return -1;
    if (t == CW_IOC_DOMAIN || t == CW_IOC_HOSTNAME) {
        size_t lc_ = label_count(canon, len);
        s->h[t].depths |= 1ULL << (lc_ > 64 ? 63 : lc_ - 1);
    }
    return 0;
}

int cw_iocset_remove(struct cw_iocset *s, enum cw_ioc_type t, const char *canon, size_t len)
{
    uint8_t key[KEY_MAX], a[16];
    size_t kn = 0;
    int fam = 0;
    unsigned plen = 0;
    if (!s || !canon || make_key(t, canon, len, key, &kn, &fam, a, &plen) < 0)
        return 0;
    if (t == CW_IOC_CIDR) {
        uint64_t hi, lo;
        ip_key(a, fam, &hi, &lo);
        return cw_radix_remove(fam == 4 ? &s->net4 : &s->net6, hi, lo, plen);
    }
    /* depths stays a superset (a bit set for a count no key has costs one probe) */
    return hset_del(&s->h[t], key, kn);
}

/* -- look-ups: prepare (hash, prefetch), then resolve --------------------------- */

#define MAXC 6    /* hash keys prepared per value: a name and 5 parents */
#define SCRATCH 320 /* key bytes per value of a batch (longer URL keys go one by one) */
#define BATCH 32  /* values prepared together by cw_iocset_match_batch */

struct cand {
    const struct hset *h;
    const uint8_t *k;
    uint32_t n;
    uint64_t hv;
};

struct prep {
    unsigned nc;                 /* candidates, most specific first */
    bool defer;                  /* batch: filter and bucket read in later steps */
    struct cand c[MAXC];
    const uint8_t *name;         /* names: the lower-cased name ... */
    size_t nlen, next, labels;   /* ... and where parents past c[] resume (next < nlen) */
    const struct cw_radix *tree; /* addresses: longest prefix after the candidates */
    uint64_t hi, lo;
    unsigned maxlen;
    const uint8_t *v4;           /* ::ffff:a.b.c.d: the IPv4 address, tried last */
};

/* A key to look up: dropped at once when the filter says it is in no table; a
 * batch (defer) only asks for the filter word here and decides in cands_filter. */
static void cand_add(struct prep *p, const struct hset *h, const uint8_t *k, size_t n)
{
    uint64_t hv = cw_ioc_hash(k, n);
    if (p->defer) {
        __builtin_prefetch(filt_word(h, filt_h2(hv)));
    } else {
        if (!filt_maybe(h, hv))
            return;
        hset_prefetch(h, hv);
    }
    struct cand *c = &p->c[p->nc++];
    c->h = h;
    c->k = k;
    c->n = (uint32_t)n;
    c->hv = hv;
}

/* Batch step 2: keep the candidates the filter lets through, ask for their buckets. */
static void cands_filter(struct prep *p)
{
    unsigned k = 0;
    for (unsigned i = 0; i < p->nc; i++) {
        if (filt_maybe(p->c[i].h, p->c[i].hv)) {
            hset_prefetch(p->c[i].h, p->c[i].hv);
            p->c[k++] = p->c[i];
        }
    }
    p->nc = k;
}

static void prep_init(struct prep *p)
{
    p->nc = 0;
    p->defer = false;
    p->name = NULL;
    p->nlen = p->next = p->labels = 0;
    p->tree = NULL;
    p->v4 = NULL;
}

/* Parents of name[0..len) from offset i (which has `labels` labels) that some
 * domain's label count allows, as candidates while there is room; the rest are
 * left to resolve (p->next). */
static void name_parents(const struct hset *d, struct prep *p, const uint8_t *name, size_t len,
                         size_t i, size_t labels)
{
    while (i < len) {
        size_t bit = labels > 64 ? 63 : labels - 1;
        if (d->depths >> bit & 1) {
            if (p->nc == MAXC) {
                p->next = i;
                p->labels = labels;
                return;
            }
            cand_add(p, d, name + i, len - i);
        }
        const uint8_t *dot = memchr(name + i, '.', len - i);
        if (!dot)
            break;
        i = (size_t)(dot - name) + 1;
        labels--;
    }
    p->next = len;
}

/* buf: NAME_MAX_LEN bytes. Returns false when nothing can match. One pass
 * lower-cases the name and notes where its labels start; the domain keys to
 * probe are then the set bits of depths below the name's label count, taken
 * from the most labels down (no search for dots per parent, no probe at a label
 * count no domain has). */
static bool prep_name(const struct cw_iocset *s, struct prep *p, const char *name, size_t len,
                      uint8_t *buf)
{
    if (!name)
        return false;
    if (len && name[len - 1] == '.')
        len--;
    if (len == 0 || len > NAME_MAX_LEN)
        return false;
    const struct hset *hn = &s->h[CW_IOC_HOSTNAME], *d = &s->h[CW_IOC_DOMAIN];
    if (!hn->live && !d->live)
        return false;
    uint8_t starts[64]; /* offsets of the first 64 labels */
    size_t nl = 1;
    starts[0] = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        buf[i] = (uint8_t)(c + ((unsigned)(c - 'A') < 26u ? 32u : 0u));
        if (c == '.') {
            if (nl < 64)
                starts[nl] = (uint8_t)(i + 1);
            nl++;
        }
    }
    p->name = buf;
    p->nlen = len;
    p->next = len;
    uint64_t bit = 1ULL << (nl > 64 ? 63 : nl - 1);
    if (hn->live && (hn->depths & bit))
        cand_add(p, hn, buf, len);
    if (!d->live)
        return true;
    if (nl > 64) { /* label counts past 63 share a bit: the general walk */
        p->next = 0;
        p->labels = nl;
        return true;
    }
    uint64_t m = d->depths & (bit | (bit - 1));
    while (m) {
        unsigned k = 63 - (unsigned)__builtin_clzll(m); /* a key of k + 1 labels */
        m &= ~(1ULL << k);
        size_t at = starts[nl - k - 1];
        if (p->nc == MAXC) {
            p->next = at;
            p->labels = k + 1;
            break;
        }
        cand_add(p, d, buf + at, len - at);
    }
    return true;
}

/* The parents left over by prep_name, probed one by one. */
static uint64_t name_rest(const struct cw_iocset *s, const struct prep *p)
{
    struct prep q;
    size_t i = p->next, labels = p->labels;
    while (i < p->nlen) {
        prep_init(&q);
        name_parents(&s->h[CW_IOC_DOMAIN], &q, p->name, p->nlen, i, labels);
        for (unsigned k = 0; k < q.nc; k++) {
            uint64_t id = hset_get_hv(q.c[k].h, q.c[k].k, q.c[k].n, q.c[k].hv);
            if (id)
                return id;
        }
        i = q.next;
        labels = q.labels;
    }
    return 0;
}

static void prep_v4(const struct cw_iocset *s, struct prep *p, const uint8_t *a)
{
    if (s->h[CW_IOC_IPV4].live)
        cand_add(p, &s->h[CW_IOC_IPV4], a, 4);
    if (s->net4.nvals) {
        ip_key(a, 4, &p->hi, &p->lo);
        p->tree = &s->net4;
        p->maxlen = 32;
        cw_radix_prefetch(&s->net4, p->hi);
    }
}

static bool prep_addr(const struct cw_iocset *s, struct prep *p, int family, const uint8_t *a)
{
    if (!a)
        return false;
    if (family == 4) {
        prep_v4(s, p, a);
        return true;
    }
    if (family != 6)
        return false;
    if (s->h[CW_IOC_IPV6].live)
        cand_add(p, &s->h[CW_IOC_IPV6], a, 16);
    if (s->net6.nvals) {
        ip_key(a, 6, &p->hi, &p->lo);
        p->tree = &s->net6;
        p->maxlen = 128;
    }
    /* ::ffff:a.b.c.d: a dual-stack listener's IPv4 client */
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(a, mapped, 12) == 0)
        p->v4 = a + 12;
    return true;
}

static bool prep_url(const struct cw_iocset *s, struct prep *p, const char *host, size_t hlen,
                     const char *path, size_t plen, uint8_t *key, size_t cap)
{
    if (!host || !s->h[CW_IOC_URL].live)
        return false;
    if (!path)
        plen = 0;
    size_t kn = url_key(host, hlen, path ? path : "", plen, (char *)key, cap);
    if (!kn)
        return false;
    cand_add(p, &s->h[CW_IOC_URL], key, kn);
    return true;
}

static bool is_sp(char c, bool crlf)
{
    return c == ' ' || c == '\t' || (crlf && (c == '\r' || c == '\n'));
}

/* Exact types (not names, addresses or URLs); key: KEY_MAX bytes, or fewer when
 * cap says so (false is then returned for a value that does not fit, which the
 * batch resolves one by one). *fits tells the two apart. */
static bool prep_exact(const struct cw_iocset *s, struct prep *p, enum cw_ioc_type t,
                       const char *v, size_t len, uint8_t *key, size_t cap, bool *fits)
{
    *fits = true;
    const struct hset *h = &s->h[t];
    if (!v || !h->live)
        return false;
    size_t db = digest_bytes(t);
    if (db) {
        while (len && is_sp(*v, false))
            v++, len--;
        while (len && is_sp(v[len - 1], false))
            len--;
        if (!unhex(v, len, db, key))
            return false;
        cand_add(p, h, key, db);
        return true;
    }
    if (t == CW_IOC_USER_AGENT) { /* the value itself, trimmed */
        while (len && is_sp(*v, true))
            v++, len--;
        while (len && is_sp(v[len - 1], true))
            len--;
        if (len >= KEY_MAX)
            return false;
        cand_add(p, h, (const uint8_t *)v, len);
        return true;
    }
    if (len >= KEY_MAX)
        return false;
    if (len > cap) {
        *fits = false;
        return false;
    }
    memcpy(key, v, len);
    if (t == CW_IOC_JA4) {
        for (size_t i = 0; i < len; i++)
            key[i] = (uint8_t)lc((char)key[i]);
    } else if (t == CW_IOC_EMAIL) {
        const uint8_t *at = NULL;
        for (size_t i = 0; i < len; i++)
            if (key[i] == '@')
                at = key + i;
        if (!at)
            return false;
        for (size_t i = (size_t)(at - key) + 1; i < len; i++)
            key[i] = (uint8_t)lc((char)key[i]);
        if (len && key[len - 1] == '.')
            len--;
    }
    cand_add(p, h, key, len);
    return true;
}

static uint64_t match_v4(const struct cw_iocset *s, const uint8_t *a);

static uint64_t resolve(const struct cw_iocset *s, const struct prep *p)
{
    for (unsigned i = 0; i < p->nc; i++) {
        const struct cand *c = &p->c[i];
        uint64_t id = hset_get_hv(c->h, c->k, c->n, c->hv);
        if (id)
            return id;
    }
    uint64_t id = 0;
    if (p->name && p->next < p->nlen)
        id = name_rest(s, p);
    if (!id && p->tree)
        id = cw_radix_lpm(p->tree, p->hi, p->lo, p->maxlen);
    if (!id && p->v4)
        id = match_v4(s, p->v4);
    return id;
}

/* -- single values ---------------------------------------------------------------- */

/* One value: its filter words were asked for by prepare, its buckets now. */
static uint64_t resolve1(const struct cw_iocset *s, struct prep *p)
{
    cands_filter(p);
    return resolve(s, p);
}

uint64_t cw_iocset_match_name(const struct cw_iocset *s, const char *name, size_t len)
{
    struct prep p;
    uint8_t buf[NAME_MAX_LEN];
    prep_init(&p);
    p.defer = true;
    return s && prep_name(s, &p, name, len, buf) ? resolve1(s, &p) : 0;
}

static uint64_t match_v4(const struct cw_iocset *s, const uint8_t *a)
{
    struct prep p;
    prep_init(&p);
    p.defer = true;
    prep_v4(s, &p, a);
    return resolve1(s, &p);
}

uint64_t cw_iocset_match_addr(const struct cw_iocset *s, int family, const uint8_t *addr)
{
    struct prep p;
    prep_init(&p);
    p.defer = true;
    return s && prep_addr(s, &p, family, addr) ? resolve1(s, &p) : 0;
}

uint64_t cw_iocset_match_addr_text(const struct cw_iocset *s, const char *text, size_t len)
{
    uint8_t a[16];
    if (!s || !text)
        return 0;
    if (len >= 2 && text[0] == '[' && text[len - 1] == ']')
        text++, len -= 2;
    int fam = cw_ioc_parse_addr(text, len, a);
    return fam ? cw_iocset_match_addr(s, fam, a) : 0;
}

uint64_t cw_iocset_match_url(const struct cw_iocset *s, const char *host, size_t hlen,
                             const char *path, size_t plen)
{
    struct prep p;
    uint8_t key[KEY_MAX];
    prep_init(&p);
    p.defer = true;
    return s && prep_url(s, &p, host, hlen, path, plen, key, sizeof(key)) ? resolve1(s, &p) : 0;
}

uint64_t cw_iocset_match(const struct cw_iocset *s, enum cw_ioc_type t, const char *v, size_t len)
{
    if (!s || !v || !cw_ioc_type_name(t))
        return 0;
    switch (t) {
    case CW_IOC_DOMAIN:
    case CW_IOC_HOSTNAME:
        return cw_iocset_match_name(s, v, len);
    case CW_IOC_IPV4:
    case CW_IOC_IPV6:
    case CW_IOC_CIDR:
        return cw_iocset_match_addr_text(s, v, len);
    case CW_IOC_URL: {
        const char *p = memchr(v, ':', len);
        if (p && (size_t)(v + len - p) >= 3 && p[1] == '/' && p[2] == '/') {
            len -= (size_t)(p + 3 - v);
            v = p + 3;
        }
        const char *slash = memchr(v, '/', len);
        const char *q = memchr(v, '?', len);
        if (q && (!slash || q < slash))
            slash = q;
        size_t hl = slash ? (size_t)(slash - v) : len;
        const char *at = NULL; /* the last '@' of the authority, as ioc.c reads it */
        for (size_t i = 0; i < hl; i++)
            if (v[i] == '@')
                at = v + i;
        if (at) {
            hl -= (size_t)(at + 1 - v);
            len -= (size_t)(at + 1 - v);
            v = at + 1;
        }
        return cw_iocset_match_url(s, v, hl, v + hl, len - hl);
    }
    default:
        break;
    }
    struct prep p;
    uint8_t key[KEY_MAX];
    bool fits;
    prep_init(&p);
    p.defer = true;
    return prep_exact(s, &p, t, v, len, key, sizeof(key), &fits) ? resolve1(s, &p) : 0;
}

/* -- batches ---------------------------------------------------------------------- */

/* Prepare probe q into p with key space buf[SCRATCH]. Returns 1 prepared, 0 no
 * match possible, -1 when its key needs more room (resolved one by one). */
static int prep_probe(const struct cw_iocset *s, struct prep *p, const struct cw_iocset_probe *q,
                      uint8_t *buf)
{
    prep_init(p);
    p->defer = true;
    switch (q->type) {
    case CW_IOC_DOMAIN:
    case CW_IOC_HOSTNAME:
        return prep_name(s, p, q->s, q->len, buf);
    case CW_IOC_IPV4:
        return prep_addr(s, p, 4, q->addr);
    case CW_IOC_IPV6:
        return prep_addr(s, p, 6, q->addr);
    case CW_IOC_URL:
        if (!q->s || !s->h[CW_IOC_URL].live)
            return 0;
        return prep_url(s, p, q->s, q->len, q->path, q->plen, buf, SCRATCH) ? 1 : -1;
    case CW_IOC_CIDR:
        return 0;
    default:
        if (!cw_ioc_type_name(q->type))
            return 0;
        bool fits;
        if (prep_exact(s, p, q->type, q->s, q->len, buf, SCRATCH, &fits))
            return 1;
        return fits ? 0 : -1;
    }
}

/* The second step of a batch, once the buckets are (mostly) in the cache: start
 * loading what resolve reads next, the arena entry of the first tag that matches
 * in each home bucket (almost always the key itself) and the tree node the IPv4
 * direct level leads to. */
static void prefetch_next(const struct prep *p)
{
    for (unsigned i = 0; i < p->nc; i++) {
        const struct hset *h = p->c[i].h;
        const struct bucket *b = &h->b[p->c[i].hv & (h->nb - 1)];
        unsigned m = tag_hits(b, tag_of(p->c[i].hv));
        if (m)
            __builtin_prefetch(h->arena + b->off1[__builtin_ctz(m)] - 1);
    }
    if (p->tree && p->maxlen == 32)
        cw_radix_prefetch_start(p->tree, p->hi);
}

static uint64_t match_probe(const struct cw_iocset *s, const struct cw_iocset_probe *q)
{
    if (q->type == CW_IOC_URL)
        return cw_iocset_match_url(s, q->s, q->len, q->path, q->plen);
    return cw_iocset_match(s, q->type, q->s, q->len);
}

void cw_iocset_match_batch(const struct cw_iocset *s, const struct cw_iocset_probe *q, size_t n,
                           uint64_t *out)
{
    if (!out)
        return;
    if (!s || !q) {
        memset(out, 0, n * sizeof(*out));
        return;
    }
    struct prep p[BATCH];
    int st[BATCH];
    uint8_t buf[BATCH][SCRATCH];
    for (size_t i = 0; i < n; i += BATCH) {
        size_t m = n - i < BATCH ? n - i : BATCH;
        for (size_t j = 0; j < m; j++)
            st[j] = prep_probe(s, &p[j], &q[i + j], buf[j]);
        for (size_t j = 0; j < m; j++)
            if (st[j] > 0)
                cands_filter(&p[j]);
        for (size_t j = 0; j < m; j++)
            if (st[j] > 0)
                prefetch_next(&p[j]);
        for (size_t j = 0; j < m; j++)
            out[i + j] = st[j] > 0 ? resolve(s, &p[j]) : st[j] < 0 ? match_probe(s, &q[i + j]) : 0;
    }
}
