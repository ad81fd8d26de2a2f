/* obs_digest.c - observables of records and per-batch digests (see obs_digest.h). */
#include "center/obs_digest.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

#define URL_MAX 4096
#define NAME_KEYS_MAX 16

/* -- extraction ------------------------------------------------------------- */

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

static int emit_text(cw_obs_fn fn, void *ctx, enum cw_obs_kind k, const char *field,
                     const char *s, size_t n)
{
    while (n && (s[0] == ' ' || s[0] == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (!n)
        return 0;
    struct cw_obs o = {.kind = k, .field = field, .s = s, .len = n};
    return fn(ctx, &o);
}

/* "host:port" or "[v6]:port" -> host */
static size_t host_len(const char *h, size_t n)
{
    if (n && h[0] == '[')
        return n;
    const char *colon = memchr(h, ':', n);
    if (colon && !memchr(colon + 1, ':', n - (size_t)(colon + 1 - h)))
        return (size_t)(colon - h);
    return n;
}

static int emit_addr(cw_obs_fn fn, void *ctx, const char *field, const struct cw_ip *ip)
{
    if (!ip->family)
        return 0;
    struct cw_obs o = {.kind = CW_OBS_ADDR, .field = field, .ip = *ip};
    return fn(ctx, &o);
}

static int answers(cw_obs_fn fn, void *ctx, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != ',')
            j++;
        const char *it = s + i;
        size_t len = j - i;
        while (len && *it == ' ') {
            it++;
            len--;
        }
        struct cw_ip ip;
        int rc = 0;
        if (len && cw_ip_parse(&ip, it, len) == 0)
            rc = emit_addr(fn, ctx, "dns.answers", &ip);
        else if (len && memchr(it, '.', len))
            rc = emit_text(fn, ctx, CW_OBS_NAME, "dns.answers", it, len);
        if (rc)
            return rc;
        i = j + 1;
    }
    return 0;
}

/* Sysmon "SHA1=...,MD5=...,SHA256=...,IMPHASH=..." */
static int sysmon_hashes(cw_obs_fn fn, void *ctx, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != ',')
            j++;
        const char *eq = memchr(s + i, '=', j - i);
        if (eq) {
            size_t kl = (size_t)(eq - (s + i)), vl = j - (size_t)(eq + 1 - s);
            enum cw_obs_kind k = 0;
            if (kl == 3 && strncasecmp(s + i, "MD5", 3) == 0)
                k = CW_OBS_MD5;
            else if (kl == 4 && strncasecmp(s + i, "SHA1", 4) == 0)
                k = CW_OBS_SHA1;
            else if (kl == 6 && strncasecmp(s + i, "SHA256", 6) == 0)
                k = CW_OBS_SHA256;
            int rc = k ? emit_text(fn, ctx, k, "process.hashes", eq + 1, vl) : 0;
            if (rc)
                return rc;
        }
        i = j + 1;
    }
    return 0;
}

/* "Name <local@domain>" or "local@domain": the address and its domain */
static int mail_from(cw_obs_fn fn, void *ctx, const char *s, size_t n)
{
    const char *lt = memchr(s, '<', n);
    if (lt) {
        const char *gt = memchr(lt, '>', n - (size_t)(lt - s));
        if (!gt)
            return 0;
        s = lt + 1;
        n = (size_t)(gt - s);
    }
    const char *at = memchr(s, '@', n);
    if (!at || at == s || at == s + n - 1)
        return 0;
    int rc = emit_text(fn, ctx, CW_OBS_EMAIL, "mail.from", s, n);
    if (rc)
        return rc;
    return emit_text(fn, ctx, CW_OBS_NAME, "mail.from", at + 1, n - (size_t)(at + 1 - s));
}

static int url(cw_obs_fn fn, void *ctx, const struct cw_record *r, const char *host,
               size_t hn)
{
    size_t pn = 0, qn = 0;
    const char *p = cw_record_str(r, CW_F_HTTP_PATH, &pn);
    const char *q = cw_record_str(r, CW_F_HTTP_QUERY, &qn);
    char buf[URL_MAX];
    size_t n = 0;
    if (!p || !pn) {
        buf[n++] = '/';
    } else {
        if (pn >= sizeof(buf) - 1)
            return 0; /* longer than any indicator value */
        memcpy(buf, p, pn);
        n = pn;
    }
    if (q && qn && !memchr(buf, '?', n)) {
        if (n + 1 + qn >= sizeof(buf))
            return 0;
        buf[n++] = '?';
        memcpy(buf + n, q, qn);
        n += qn;
    }
    struct cw_obs o = {.kind = CW_OBS_URL, .field = "http.path", .s = host, .len = hn,
                       .path = buf, .plen = n};
    return fn(ctx, &o);
}

int cw_obs_foreach(const struct cw_record *r, cw_obs_fn fn, void *ctx)
{
    int rc;
    if ((rc = emit_addr(fn, ctx, "src", &r->src)) || (rc = emit_addr(fn, ctx, "dst", &r->dst)))
        return rc;
    for (uint16_t i = 0; i < r->nvals; i++) {
        const struct cw_value *v = &r->vals[i];
        const struct cw_field_info *fi = cw_field_info((enum cw_field_id)v->id);
        if (!fi || fi->type != CW_FT_STR || !v->v.s)
            continue;
        const char *s = v->v.s;
        size_t n = v->len;
        switch (v->id) {
        case CW_F_DNS_QNAME:
        case CW_F_TLS_SNI:
            rc = emit_text(fn, ctx, CW_OBS_NAME, fi->name, s, n);
            break;
        case CW_F_HTTP_HOST: {
            size_t hn = host_len(s, n);
            rc = emit_text(fn, ctx, CW_OBS_NAME, fi->name, s, hn);
            if (!rc && hn)
                rc = url(fn, ctx, r, s, hn);
            break;
        }
        case CW_F_DNS_ANSWERS: rc = answers(fn, ctx, s, n); break;
        case CW_F_FILE_MD5: rc = emit_text(fn, ctx, CW_OBS_MD5, fi->name, s, n); break;
        case CW_F_FILE_SHA1: rc = emit_text(fn, ctx, CW_OBS_SHA1, fi->name, s, n); break;
        case CW_F_FILE_SHA256: rc = emit_text(fn, ctx, CW_OBS_SHA256, fi->name, s, n); break;
        case CW_F_PROCESS_HASHES: rc = sysmon_hashes(fn, ctx, s, n); break;
        case CW_F_TLS_JA3: rc = emit_text(fn, ctx, CW_OBS_JA3, fi->name, s, n); break;
        case CW_F_TLS_JA4: rc = emit_text(fn, ctx, CW_OBS_JA4, fi->name, s, n); break;
        case CW_F_HTTP_USER_AGENT: rc = emit_text(fn, ctx, CW_OBS_UA, fi->name, s, n); break;
        case CW_F_MAIL_FROM: rc = mail_from(fn, ctx, s, n); break;
        default: break;
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* -- keys ------------------------------------------------------------------- */

struct hash {
    uint64_t h;
};

static void h_init(struct hash *h, char tag)
{
    h->h = 1469598103934665603ULL;
    h->h = (h->h ^ (uint8_t)tag) * 1099511628211ULL;
}

static void h_add(struct hash *h, const char *s, size_t n, bool fold)
{
    uint64_t x = h->h;
    for (size_t i = 0; i < n; i++)
        x = (x ^ (uint8_t)(fold ? lower(s[i]) : s[i])) * 1099511628211ULL;
    h->h = x;
}

static uint32_t h_final(const struct hash *h)
{
    uint64_t z = h->h; /* splitmix64 finaliser: FNV's low bits mix poorly */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (uint32_t)(z >> 32);
}

static uint32_t key_text(char tag, const char *s, size_t n, bool fold)
{
    struct hash h;
    h_init(&h, tag);
    h_add(&h, s, n, fold);
    return h_final(&h);
}

/* Address keys: exact, then networks of the indexed prefix lengths. */
static const int v4_prefixes[] = {24, 16, 8};
static const int v6_prefixes[] = {64, 48, 32};

static uint32_t key_net(int family, const uint8_t *a, int plen)
{
    uint8_t net[17] = {0};
    int bytes = family == 4 ? 4 : 16;
    for (int i = 0; i < bytes; i++) {
        int bits = plen - 8 * i;
        uint8_t mask = bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
        net[i] = a[i] & mask;
    }
    net[bytes] = (uint8_t)plen;
    char tag = family == 4 ? '4' : '6';
    return key_text(tag, (const char *)net, (size_t)bytes + 1, false);
}

static size_t name_trim(const char *s, size_t n)
{
    while (n && s[n - 1] == '.')
        n--;
    return n;
}

/* The name and its parents (>= 2 labels), nearest the root first, at most
 * NAME_KEYS_MAX keys. Returns the count. */
static size_t name_keys(const char *s, size_t n, uint32_t *out)
{
    n = name_trim(s, n);
    if (!n)
        return 0;
    size_t starts[NAME_KEYS_MAX], k = 0;
    int dots = 0;
    for (size_t i = n; i-- > 0;) {
        if (s[i] != '.')
            continue;
        if (++dots >= 2 && k < NAME_KEYS_MAX - 1)
            starts[k++] = i + 1;
    }
    size_t m = 0;
    out[m++] = key_text('N', s, n, true);
    for (size_t i = 0; i < k; i++)
        out[m++] = key_text('N', s + starts[i], n - starts[i], true);
    return m;
}

static uint32_t key_url(const char *host, size_t hn, const char *path, size_t pn)
{
    struct hash h;
    h_init(&h, 'U');
    h_add(&h, host, name_trim(host, hn), true);
    h_add(&h, path, pn, false);
    return h_final(&h);
}

static uint32_t key_email(const char *s, size_t n)
{
    const char *at = memchr(s, '@', n);
    struct hash h;
    h_init(&h, 'E');
    size_t ln = at ? (size_t)(at - s) : n;
    h_add(&h, s, ln, false);
    h_add(&h, s + ln, n - ln, true);
    return h_final(&h);
}

static char hash_tag(enum cw_obs_kind k)
{
    switch (k) {
    case CW_OBS_MD5: return 'M';
    case CW_OBS_SHA1: return 'S';
    case CW_OBS_SHA256: return 'T';
    case CW_OBS_JA3: return 'J';
    case CW_OBS_JA4: return 'K';
    default: return 'G';
    }
}

/* -- digest ----------------------------------------------------------------- */

struct keyvec {
    uint32_t *k;
    size_t n, cap;
    bool oom;
};

static void kv_add(struct keyvec *v, uint32_t key)
{
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 256;
        uint32_t *nk = realloc(v->k, nc * sizeof(*nk));
        if (!nk) {
            v->oom = true;
            return;
        }
        v->k = nk;
        v->cap = nc;
    }
    v->k[v->n++] = key;
}

static int collect(void *ctx, const struct cw_obs *o)
{
    struct keyvec *v = ctx;
    switch (o->kind) {
    case CW_OBS_NAME: {
        uint32_t keys[NAME_KEYS_MAX];
        size_t m = name_keys(o->s, o->len, keys);
        for (size_t i = 0; i < m; i++)
            kv_add(v, keys[i]);
        break;
    }
    case CW_OBS_ADDR: {
        int fam = o->ip.family;
        kv_add(v, key_text('A', (const char *)o->ip.a, fam == 4 ? 4 : 16, false));
        const int *pl = fam == 4 ? v4_prefixes : v6_prefixes;
        for (int i = 0; i < 3; i++)
            kv_add(v, key_net(fam, o->ip.a, pl[i]));
        break;
    }
    case CW_OBS_URL: kv_add(v, key_url(o->s, o->len, o->path, o->plen)); break;
    case CW_OBS_EMAIL: kv_add(v, key_email(o->s, o->len)); break;
    case CW_OBS_UA: kv_add(v, key_text('G', o->s, o->len, false)); break;
    default: kv_add(v, key_text(hash_tag(o->kind), o->s, o->len, true)); break;
    }
    return v->oom ? -1 : 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Keep the first occurrence of each key in k[0..n), in place; returns the count, or
 * n unchanged when out of memory (sorting then removes the repeats, only slower).
 * A batch repeats its names and addresses (~1,400 distinct of ~60,000 keys for 5,000
 * access-log lines), so removing repeats with a small open-addressing table before
 * sorting costs far less than sorting them all. */
static size_t distinct(uint32_t *k, size_t n)
{
    size_t cap = 1024, m = 0;
    uint32_t *t = calloc(cap, sizeof(*t)); /* 0 = empty slot; key 0 is tracked apart */
    bool zero = false;
    if (!t)
        return n;
    for (size_t i = 0; i < n; i++) {
        uint32_t x = k[i];
        if (x == 0) {
            if (!zero)
                k[m++] = 0;
            zero = true;
            continue;
        }
        size_t h = (x * 2654435761u) & (cap - 1);
        while (t[h] && t[h] != x)
            h = (h + 1) & (cap - 1);
        if (t[h] == x)
            continue;
        t[h] = x;
        k[m++] = x; /* m <= i + 1: never ahead of the read position */
        if (m * 2 > cap) { /* grow: rehash the distinct keys kept so far */
            uint32_t *nt = calloc(cap * 2, sizeof(*nt));
            if (!nt) {
                free(t);
                memmove(k + m, k + i + 1, (n - i - 1) * sizeof(*k));
                return m + (n - i - 1);
            }
            cap *= 2;
            for (size_t j = 0; j < m; j++) {
                if (!k[j])
                    continue;
                size_t g = (k[j] * 2654435761u) & (cap - 1);
                while (nt[g])
                    g = (g + 1) & (cap - 1);
                nt[g] = k[j];
            }
            free(t);
            t = nt;
        }
    }
    free(t);
    return m;
}

int cw_obs_digest_build(const struct cw_batch *b, struct cw_obs_digest *d)
{
    struct keyvec v = {NULL, 0, 0, false};
    d->keys = NULL;
    d->n = 0;
    for (uint32_t i = 0; i < b->n; i++)
        if (cw_obs_foreach(&b->recs[i], collect, &v))
            break;
    if (v.oom) {
        free(v.k);
        return -1;
    }
    if (v.n) {
        v.n = distinct(v.k, v.n);
        qsort(v.k, v.n, sizeof(*v.k), cmp_u32);
        size_t m = 1;
        for (size_t i = 1; i < v.n; i++)
            if (v.k[i] != v.k[m - 1])
                v.k[m++] = v.k[i];
        v.n = m;
    }
    d->keys = v.k;
    d->n = v.n;
    return 0;
}

void cw_obs_digest_release(struct cw_obs_digest *d)
{
    free(d->keys);
    d->keys = NULL;
    d->n = 0;
}

int cw_obs_digest_has(const uint32_t *keys, size_t n, uint32_t key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (keys[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && keys[lo] == key;
}

/* "a.b.c.d/n" or "v6/n" -> the key of the longest indexed prefix inside it; one
 * wider than the widest indexed prefix W (/8, /32) -> the keys of the 2^(W-n) W-bit
 * networks it is the union of (the bits n..W-1 of the first 32 take every value). */
static size_t cidr_keys(const char *canon, uint32_t *keys, char *why, size_t whylen)
{
    const char *slash = strchr(canon, '/');
    struct cw_ip ip;
    if (!slash || cw_ip_parse(&ip, canon, (size_t)(slash - canon))) {
        snprintf(why, whylen, "%s is not a CIDR", canon);
        return 0;
    }
    int plen = atoi(slash + 1);
    int full = ip.family == 4 ? 32 : 128;
    if (plen < 0 || plen > full) {
        snprintf(why, whylen, "%s has a prefix length out of range", canon);
        return 0;
    }
    if (plen == full) {
        keys[0] = key_text('A', (const char *)ip.a, ip.family == 4 ? 4 : 16, false);
        return 1;
    }
    const int *pl = ip.family == 4 ? v4_prefixes : v6_prefixes;
    for (int i = 0; i < 3; i++)
        if (plen >= pl[i]) {
            keys[0] = key_net(ip.family, ip.a, pl[i]);
            return 1;
        }
    int widest = pl[2];
    if (widest - plen > 8) { /* 2^(W-n) > CW_OBS_KEYS_MAX */
        snprintf(why, whylen,
                 "%s is wider than /%d: the retro-hunt would probe its %llu /%d networks "
                 "(at most %d)",
                 canon, widest - 8, 1ULL << (widest - plen), widest, CW_OBS_KEYS_MAX);
        return 0;
    }
    uint32_t base = (uint32_t)ip.a[0] << 24 | (uint32_t)ip.a[1] << 16 |
                    (uint32_t)ip.a[2] << 8 | ip.a[3];
    base = plen ? base & ~(0xffffffffu >> plen) : 0;
    size_t count = (size_t)1 << (widest - plen);
    uint8_t net[16] = {0};
    for (size_t i = 0; i < count; i++) {
        uint32_t v = base | (uint32_t)i << (32 - widest);
        net[0] = (uint8_t)(v >> 24);
        net[1] = (uint8_t)(v >> 16);
        net[2] = (uint8_t)(v >> 8);
        net[3] = (uint8_t)v;
        keys[i] = key_net(ip.family, net, widest);
    }
    return count;
}

int cw_obs_indicator_key(enum cw_ioc_type t, const char *canon, uint32_t *key)
{
    size_t n = strlen(canon);
    switch (t) {
    case CW_IOC_DOMAIN:
    case CW_IOC_HOSTNAME: *key = key_text('N', canon, name_trim(canon, n), true); return 0;
    case CW_IOC_IPV4:
    case CW_IOC_IPV6: {
        struct cw_ip ip;
        if (cw_ip_parse(&ip, canon, n))
            return -1;
        *key = key_text('A', (const char *)ip.a, ip.family == 4 ? 4 : 16, false);
        return 0;
    }
    case CW_IOC_CIDR: {
        uint32_t keys[CW_OBS_KEYS_MAX];
        char why[160];
        if (cidr_keys(canon, keys, why, sizeof(why)) != 1)
            return -1;
        *key = keys[0];
        return 0;
    }
    case CW_IOC_URL: {
        const char *h = strstr(canon, "://");
        h = h ? h + 3 : canon;
        const char *p = strchr(h, '/');
        size_t hn = p ? (size_t)(p - h) : strlen(h);
        hn = host_len(h, hn);
        const char *path = p ? p : "/";
        *key = key_url(h, hn, path, strlen(path));
        return 0;
    }
    case CW_IOC_EMAIL: *key = key_email(canon, n); return 0;
    case CW_IOC_USER_AGENT: *key = key_text('G', canon, n, false); return 0;
    case CW_IOC_MD5: *key = key_text('M', canon, n, true); return 0;
    case CW_IOC_SHA1: *key = key_text('S', canon, n, true); return 0;
    case CW_IOC_SHA256: *key = key_text('T', canon, n, true); return 0;
    case CW_IOC_JA3: *key = key_text('J', canon, n, true); return 0;
    case CW_IOC_JA4: *key = key_text('K', canon, n, true); return 0;
    default: return -1;
    }
}

size_t cw_obs_indicator_keys(enum cw_ioc_type t, const char *canon, uint32_t *keys,
                             char *why, size_t whylen)
{
    if (t == CW_IOC_CIDR)
        return cidr_keys(canon, keys, why, whylen);
    if (cw_obs_indicator_key(t, canon, &keys[0]) == 0)
        return 1;
    snprintf(why, whylen, "a %s indicator cannot be hunted in digests", cw_ioc_type_name(t));
    return 0;
}
