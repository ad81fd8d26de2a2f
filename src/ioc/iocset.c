/* iocset.c - the look-up set of published indicators; see iocset.h.
 *
 * Hash sets (one per type except cidr): open addressing with linear probing over
 * 8-byte slots {tag, offset + 1}; tag is the high half of the key's 64-bit hash,
 * the low bits pick the slot, so a probe compares 8-byte slots in one or two cache
 * lines and reads the arena only when a tag matches (a miss almost never does).
 * Keys live packed in one arena per type:
 *     [key length: 1 byte, or 2 when >= 128][key bytes][id: LEB128, 1..10 bytes]
 * Store ids are small sequential numbers, so the id costs 3-4 bytes, not 8.
 * A removed key leaves a tombstone slot and dead arena bytes; the table is rebuilt
 * (arena compacted) when tombstones or dead bytes pass half of it.
 *
 * Keys are not always the canonical text: digests and addresses are stored as
 * their bytes (16/20/32 and 4/16) to halve the arena, and a URL is stored as
 * host[:port]/path?query (no scheme, no user info, no port 80 or 443), the form a
 * record presents (http.host + http.url), so one probe answers http and https.
 *
 * CIDRs: one prefix tree per family (ioc_radix.c), longest prefix wins. */
#include "ioc/iocset.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ioc/ioc_hash.h"
#include "ioc/ioc_radix.h"
#include "common/banned.h"

#define TOMB UINT32_MAX
#define NAME_MAX_LEN 253
#define KEY_MAX (CW_IOC_VALUE_MAX + 8)

struct slot {
    uint32_t tag;
    uint32_t off1; /* entry offset + 1; 0 = empty, TOMB = removed */
};

struct hset {
    struct slot *slots;
    size_t cap;  /* power of two, or 0 */
    size_t live; /* keys */
    size_t tomb; /* removed slots */
    uint8_t *arena;
    size_t alen, acap, dead;
    uint64_t depths; /* domains: bit k set when a key of k + 1 labels exists */
};

struct cw_iocset {
    struct hset h[CW_IOC__COUNT]; /* ipv4/ipv6: exact addresses; cidr unused */
    struct cw_radix net4, net6;
};

/* -- hash sets ---------------------------------------------------------------- */

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

/* Slot index holding key k, or SIZE_MAX. */
static size_t hset_find(const struct hset *h, const uint8_t *k, size_t n, uint64_t hv)
{
    if (!h->live)
        return SIZE_MAX;
    size_t mask = h->cap - 1;
    uint32_t tag = (uint32_t)(hv >> 32);
    for (size_t i = (size_t)hv & mask;; i = (i + 1) & mask) {
        const struct slot *s = &h->slots[i];
        if (!s->off1)
            return SIZE_MAX;
        if (s->tag == tag && s->off1 != TOMB) {
            size_t kn;
            const uint8_t *ek = entry_key(h, s->off1 - 1, &kn);
            if (kn == n && memcmp(ek, k, n) == 0)
                return i;
        }
    }
}

static uint64_t hset_get(const struct hset *h, const uint8_t *k, size_t n)
{
    size_t i = hset_find(h, k, n, cw_ioc_hash(k, n));
    return i == SIZE_MAX ? 0 : entry_id(h, h->slots[i].off1 - 1);
}

static void slot_put(struct slot *slots, size_t cap, uint64_t hv, uint32_t off1)
{
    size_t mask = cap - 1, i = (size_t)hv & mask;
    while (slots[i].off1)
        i = (i + 1) & mask;
    slots[i].tag = (uint32_t)(hv >> 32);
    slots[i].off1 = off1;
}

/* Rebuild with capacity ncap, compacting the arena when it has dead bytes. */
static int hset_rebuild(struct hset *h, size_t ncap)
{
    struct slot *ns = calloc(ncap, sizeof(*ns));
    if (!ns)
        return -1;
    uint8_t *na = h->arena;
    size_t nlen = h->alen, ncapa = h->acap;
    bool compact = h->dead > 0;
    if (compact) {
        ncapa = h->alen - h->dead + 64;
        na = malloc(ncapa);
        if (!na) {
            free(ns);
            return -1;
        }
        nlen = 0;
    }
    for (size_t i = 0; i < h->cap; i++) {
        const struct slot *s = &h->slots[i];
        if (!s->off1 || s->off1 == TOMB)
            continue;
        size_t kn;
        const uint8_t *k = entry_key(h, s->off1 - 1, &kn);
        uint32_t off = s->off1 - 1;
        if (compact) {
            size_t sz = entry_size(h, off);
            memcpy(na + nlen, h->arena + off, sz);
            off = (uint32_t)nlen;
            nlen += sz;
        }
        slot_put(ns, ncap, cw_ioc_hash(k, kn), off + 1);
    }
    if (compact) {
        free(h->arena);
        h->arena = na;
        h->alen = nlen;
        h->acap = ncapa;
        h->dead = 0;
    }
    free(h->slots);
    h->slots = ns;
    h->cap = ncap;
    h->tomb = 0;
    return 0;
}

/* Returns 1 added, 0 replaced, -1 out of memory / arena past 4 GiB (the set is
 * then unchanged: space is found before anything is modified). */
static int hset_put(struct hset *h, const uint8_t *k, size_t n, uint64_t id)
{
    uint64_t hv = cw_ioc_hash(k, n);
    size_t i = hset_find(h, k, n, hv);
    if (i != SIZE_MAX && entry_id(h, h->slots[i].off1 - 1) == id)
        return 0;
    if (i == SIZE_MAX && (h->live + h->tomb + 1) * 4 > h->cap * 3) {
        size_t ncap = h->cap ? h->cap : 16;
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
        uint8_t *na = realloc(h->arena, nc);
        if (!na)
            return -1;
        h->arena = na;
        h->acap = nc;
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
        h->dead += entry_size(h, h->slots[i].off1 - 1);
        h->slots[i].off1 = off + 1;
        return 0;
    }
    slot_put(h->slots, h->cap, hv, off + 1);
    h->live++;
    return 1;
}

static int hset_del(struct hset *h, const uint8_t *k, size_t n)
{
    size_t i = hset_find(h, k, n, cw_ioc_hash(k, n));
    if (i == SIZE_MAX)
        return 0;
    h->dead += entry_size(h, h->slots[i].off1 - 1);
    h->slots[i].off1 = TOMB;
    h->tomb++;
    h->live--;
    if (h->live == 0) {
        free(h->slots);
        free(h->arena);
        memset(h, 0, sizeof(*h));
    } else if (h->tomb * 2 > h->cap / 2 || (h->dead > 65536 && h->dead * 2 > h->alen)) {
        size_t ncap = h->cap;
        while (ncap > 16 && h->live * 4 < ncap)
            ncap /= 2;
        (void)hset_rebuild(h, ncap); /* on failure the table stays valid as it was */
    }
    return 1;
}

static void hset_release(struct hset *h)
{
    free(h->slots);
    free(h->arena);
    memset(h, 0, sizeof(*h));
}

/* -- keys ----------------------------------------------------------------------- */

static char lc(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lc(c);
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* Hex digest of exactly 2 * bytes digits (either case) into out. */
static bool unhex(const char *s, size_t n, size_t bytes, uint8_t *out)
{
    if (n != bytes * 2)
        return false;
    for (size_t i = 0; i < bytes; i++) {
        int a = hexval(s[2 * i]), b = hexval(s[2 * i + 1]);
        if (a < 0 || b < 0)
            return false;
        out[i] = (uint8_t)(a << 4 | b);
    }
    return true;
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
        n += s->h[t].cap * sizeof(struct slot) + s->h[t].acap;
    return n;
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
        return cw_radix_insert(fam == 4 ? &s->net4 : &s->net6, hi, lo, plen, id) < 0 ? -1 : 0;
    }
    if (hset_put(&s->h[t], key, kn, id) < 0)
        return -1;
    if (t == CW_IOC_DOMAIN) {
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

uint64_t cw_iocset_match_name(const struct cw_iocset *s, const char *name, size_t len)
{
    if (!s || !name)
        return 0;
    if (len && name[len - 1] == '.')
        len--;
    if (len == 0 || len > NAME_MAX_LEN)
        return 0;
    char buf[NAME_MAX_LEN + 1];
    for (size_t i = 0; i < len; i++)
        buf[i] = lc(name[i]);
    uint64_t id = hset_get(&s->h[CW_IOC_HOSTNAME], (const uint8_t *)buf, len);
    if (id)
        return id;
    const struct hset *d = &s->h[CW_IOC_DOMAIN];
    if (!d->live)
        return 0;
    size_t labels = label_count(buf, len);
    for (size_t i = 0; i < len; labels--) {
        size_t bit = labels > 64 ? 63 : labels - 1;
        if (d->depths >> bit & 1) {
            id = hset_get(d, (const uint8_t *)buf + i, len - i);
            if (id)
                return id;
        }
        const char *dot = memchr(buf + i, '.', len - i);
        if (!dot)
            break;
        i = (size_t)(dot - buf) + 1;
    }
    return 0;
}

static uint64_t match_v4(const struct cw_iocset *s, const uint8_t *a)
{
    uint64_t id = s->h[CW_IOC_IPV4].live ? hset_get(&s->h[CW_IOC_IPV4], a, 4) : 0;
    if (!id && s->net4.nvals) {
        uint64_t hi, lo;
        ip_key(a, 4, &hi, &lo);
        id = cw_radix_lpm(&s->net4, hi, lo, 32);
    }
    return id;
}

uint64_t cw_iocset_match_addr(const struct cw_iocset *s, int family, const uint8_t *addr)
{
    if (!s || !addr)
        return 0;
    if (family == 4)
        return match_v4(s, addr);
    if (family != 6)
        return 0;
    uint64_t id = s->h[CW_IOC_IPV6].live ? hset_get(&s->h[CW_IOC_IPV6], addr, 16) : 0;
    if (!id && s->net6.nvals) {
        uint64_t hi, lo;
        ip_key(addr, 6, &hi, &lo);
        id = cw_radix_lpm(&s->net6, hi, lo, 128);
    }
    /* ::ffff:a.b.c.d: a dual-stack listener's IPv4 client */
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (!id && memcmp(addr, mapped, 12) == 0)
        id = match_v4(s, addr + 12);
    return id;
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
    if (!s || !host || !s->h[CW_IOC_URL].live)
        return 0;
    if (!path)
        plen = 0;
    char key[KEY_MAX];
    size_t kn = url_key(host, hlen, path ? path : "", plen, key, sizeof(key));
    return kn ? hset_get(&s->h[CW_IOC_URL], (const uint8_t *)key, kn) : 0;
}

uint64_t cw_iocset_match(const struct cw_iocset *s, enum cw_ioc_type t, const char *v, size_t len)
{
    if (!s || !v || !cw_ioc_type_name(t))
        return 0;
    size_t db = digest_bytes(t);
    if (db) {
        uint8_t d[32];
        while (len && (*v == ' ' || *v == '\t'))
            v++, len--;
        while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
            len--;
        return s->h[t].live && unhex(v, len, db, d) ? hset_get(&s->h[t], d, db) : 0;
    }
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
    if (!s->h[t].live || len >= KEY_MAX)
        return 0;
    char buf[KEY_MAX];
    if (t == CW_IOC_USER_AGENT) {
        while (len && (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n'))
            v++, len--;
        while (len && (v[len - 1] == ' ' || v[len - 1] == '\t' || v[len - 1] == '\r' ||
                       v[len - 1] == '\n'))
            len--;
        return hset_get(&s->h[t], (const uint8_t *)v, len);
    }
    memcpy(buf, v, len);
    if (t == CW_IOC_JA4) {
        for (size_t i = 0; i < len; i++)
            buf[i] = lc(buf[i]);
    } else if (t == CW_IOC_EMAIL) {
        const char *at = NULL;
        for (size_t i = 0; i < len; i++)
            if (buf[i] == '@')
                at = buf + i;
        if (!at)
            return 0;
        for (size_t i = (size_t)(at - buf) + 1; i < len; i++)
            buf[i] = lc(buf[i]);
        if (len && buf[len - 1] == '.')
            len--;
    }
    return hset_get(&s->h[t], (const uint8_t *)buf, len);
}
