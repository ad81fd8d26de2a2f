/* dns_flags.c - threat flags on DNS telemetry: DGA, tunnelling, newly observed
 * domains, answers in bad address ranges. See dns_flags.h and docs/dns.md
 * "Threat flags" for the model and the thresholds. */
#include "detect/dns_flags.h"

#include <ctype.h>
#include <errno.h>
#include <libpsl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/banned.h"

/* ---------------------------------------------------------------- the DGA model */

/* LP[a][b] = 100 * ln P(b | a) over ^ a..z $ (rules/dns/make_bigrams.py) */
static const short LP[28][28] = {
#include "../../rules/dns/bigrams.inc"
};

/* Logistic regression over the 5 features (docs/dns.md): fitted on 20,000 names of
 * the Cloudflare top-100k list against 3,000 names each of the LCG and hex-hash
 * families (seeds other than the evaluation's). */
#define DGA_B (-11.298)
#define DGA_W_LEN 0.313
#define DGA_W_ENTROPY 1.706
#define DGA_W_DIGITS 7.532
#define DGA_W_CONSONANTS 0.196
#define DGA_W_LLR (-0.341)

static int is_vowel(char c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u'; }

double cw_dga_score(const char *s, size_t n, struct cw_dga_features *ft)
{
    struct cw_dga_features f = {0};
    if (n == 0) {
        if (ft)
            *ft = f;
        return 0;
    }
    unsigned cnt[256] = {0};
    size_t digits = 0, run = 0, maxrun = 0;
    double llr = 0;
    int prev = 0; /* bigram state: 0 = ^ (outside a letter run) */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        cnt[c]++;
        if (c >= '0' && c <= '9')
            digits++;
        if (c >= 'a' && c <= 'z') {
            int cur = c - 'a' + 1;
            llr += LP[prev][cur] / 100.0 + log(27.0);
            prev = cur;
            if (!is_vowel((char)c)) {
                if (++run > maxrun)
                    maxrun = run;
            } else {
                run = 0;
            }
        } else {
            if (prev)
                llr += LP[prev][27] / 100.0 + log(27.0);
            prev = 0;
            run = 0;
        }
    }
    if (prev)
        llr += LP[prev][27] / 100.0 + log(27.0);
    double h = 0;
    for (int c = 0; c < 256; c++)
        if (cnt[c]) {
            double p = (double)cnt[c] / (double)n;
            h -= p * log2(p);
        }
    f.len = (double)n;
    f.entropy = h;
    f.digit_ratio = (double)digits / (double)n;
    f.max_consonant_run = (double)maxrun;
    f.llr = llr;
    if (ft)
        *ft = f;
    double t = DGA_B + DGA_W_LEN * f.len + DGA_W_ENTROPY * f.entropy +
               DGA_W_DIGITS * f.digit_ratio + DGA_W_CONSONANTS * f.max_consonant_run +
               DGA_W_LLR * f.llr;
    if (t > 40)
        t = 40;
    if (t < -40)
        t = -40;
    return 1.0 / (1.0 + exp(-t));
}

/* ---------------------------------------------------------------- hashing */

uint64_t cw_dns_flags_name_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)tolower((unsigned char)s[i]);
        h *= 1099511628211ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h ? h : 1; /* 0 marks an empty slot */
}

/* ---------------------------------------------------------------- address ranges */

struct u128 {
    uint64_t hi, lo;
};

struct r4 {
    uint32_t lo, hi;
};
struct r6 {
    struct u128 lo, hi;
};

struct cw_ipranges {
    struct r4 *v4;
    size_t n4;
    struct r6 *v6;
    size_t n6;
};

static int u128_cmp(struct u128 a, struct u128 b)
{
    if (a.hi != b.hi)
        return a.hi < b.hi ? -1 : 1;
    if (a.lo != b.lo)
        return a.lo < b.lo ? -1 : 1;
    return 0;
}

static struct u128 u128_of(const uint8_t *a)
{
    struct u128 v = {0, 0};
    for (int i = 0; i < 8; i++) {
        v.hi = v.hi << 8 | a[i];
        v.lo = v.lo << 8 | a[8 + i];
    }
    return v;
}

static int cmp_r4(const void *a, const void *b)
{
    const struct r4 *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int cmp_r6(const void *a, const void *b)
{
    const struct r6 *x = a, *y = b;
    return u128_cmp(x->lo, y->lo);
}

void cw_ipranges_free(struct cw_ipranges *r)
{
    if (!r)
        return;
    free(r->v4);
    free(r->v6);
    free(r);
}

size_t cw_ipranges_count(const struct cw_ipranges *r) { return r ? r->n4 + r->n6 : 0; }

struct cw_ipranges *cw_ipranges_parse(const char *text, size_t n, char *err, size_t errlen)
{
    struct cw_ipranges *r = calloc(1, sizeof(*r));
    size_t cap4 = 0, cap6 = 0;
    if (!r)
        goto oom;
    size_t line = 0, pos = 0;
    while (pos < n) {
        line++;
        size_t e = pos;
        while (e < n && text[e] != '\n')
            e++;
        const char *p = text + pos, *end = text + e;
        pos = e + 1;
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
            p++;
        if (p == end || *p == '#')
            continue;
        const char *t = p;
        while (t < end && *t != ' ' && *t != '\t' && *t != '\r' && *t != '#')
            t++;
        const char *slash = memchr(p, '/', (size_t)(t - p));
        struct cw_ip ip;
        size_t alen = slash ? (size_t)(slash - p) : (size_t)(t - p);
        if (cw_ip_parse(&ip, p, alen) || (ip.family != 4 && ip.family != 6)) {
            snprintf(err, errlen, "line %zu: not an address or CIDR: %.*s", line,
                     (int)((t - p) > 60 ? 60 : (t - p)), p);
            goto fail;
        }
        unsigned maxp = ip.family == 4 ? 32 : 128, prefix = maxp;
        if (slash) {
            const char *d = slash + 1;
            if (d == t || t - d > 3) {
                snprintf(err, errlen, "line %zu: bad prefix length", line);
                goto fail;
            }
            prefix = 0;
            for (; d < t; d++) {
                if (*d < '0' || *d > '9') {
                    snprintf(err, errlen, "line %zu: bad prefix length", line);
                    goto fail;
                }
                prefix = prefix * 10 + (unsigned)(*d - '0');
            }
            if (prefix > maxp) {
                snprintf(err, errlen, "line %zu: prefix length %u > %u", line, prefix, maxp);
                goto fail;
            }
        }
        /* the network: host bits below the prefix are ignored (masked) */
        uint8_t lo[16], hi[16];
        memcpy(lo, ip.a, 16);
        memcpy(hi, ip.a, 16);
        for (unsigned bit = prefix; bit < maxp; bit++) {
            lo[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
            hi[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
        }
        if (ip.family == 4) {
            if (r->n4 == cap4) {
                size_t nc = cap4 ? cap4 * 2 : 64;
                struct r4 *nv = realloc(r->v4, nc * sizeof(*nv));
                if (!nv)
                    goto oom;
                r->v4 = nv;
                cap4 = nc;
            }
            r->v4[r->n4].lo = (uint32_t)lo[0] << 24 | (uint32_t)lo[1] << 16 |
                              (uint32_t)lo[2] << 8 | lo[3];
            r->v4[r->n4].hi = (uint32_t)hi[0] << 24 | (uint32_t)hi[1] << 16 |
                              (uint32_t)hi[2] << 8 | hi[3];
            r->n4++;
        } else {
            if (r->n6 == cap6) {
                size_t nc = cap6 ? cap6 * 2 : 16;
                struct r6 *nv = realloc(r->v6, nc * sizeof(*nv));
                if (!nv)
                    goto oom;
                r->v6 = nv;
                cap6 = nc;
            }
            r->v6[r->n6].lo = u128_of(lo);
            r->v6[r->n6].hi = u128_of(hi);
            r->n6++;
        }
    }
    /* sort and merge overlapping or adjacent intervals */
    if (r->n4) {
        qsort(r->v4, r->n4, sizeof(*r->v4), cmp_r4);
        size_t k = 0;
        for (size_t i = 1; i < r->n4; i++) {
            if (r->v4[k].hi == UINT32_MAX || r->v4[i].lo <= r->v4[k].hi + 1) {
                if (r->v4[i].hi > r->v4[k].hi)
                    r->v4[k].hi = r->v4[i].hi;
            } else {
                r->v4[++k] = r->v4[i];
            }
        }
        r->n4 = k + 1;
    }
    if (r->n6) {
        qsort(r->v6, r->n6, sizeof(*r->v6), cmp_r6);
        size_t k = 0;
        for (size_t i = 1; i < r->n6; i++) {
            struct u128 next = r->v6[k].hi;
            int full = next.hi == UINT64_MAX && next.lo == UINT64_MAX;
            if (!full) {
                next.lo++;
                if (next.lo == 0)
                    next.hi++;
            }
            if (full || u128_cmp(r->v6[i].lo, next) <= 0) {
                if (u128_cmp(r->v6[i].hi, r->v6[k].hi) > 0)
                    r->v6[k].hi = r->v6[i].hi;
            } else {
                r->v6[++k] = r->v6[i];
            }
        }
        r->n6 = k + 1;
    }
    return r;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    cw_ipranges_free(r);
    return NULL;
}

bool cw_ipranges_contains(const struct cw_ipranges *r, const struct cw_ip *ip)
{
    if (!r || !ip)
        return false;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    const uint8_t *a4 = NULL;
    if (ip->family == 4)
        a4 = ip->a;
    else if (ip->family == 6 && !memcmp(ip->a, mapped, 12))
        a4 = ip->a + 12;
    if (a4) {
        uint32_t v = (uint32_t)a4[0] << 24 | (uint32_t)a4[1] << 16 | (uint32_t)a4[2] << 8 | a4[3];
        size_t lo = 0, hi = r->n4;
        while (lo < hi) { /* first range with lo > v */
            size_t mid = lo + (hi - lo) / 2;
            if (r->v4[mid].lo <= v)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo > 0 && v <= r->v4[lo - 1].hi)
            return true;
        if (ip->family == 4)
            return false;
    }
    if (ip->family != 6)
        return false;
    struct u128 v = u128_of(ip->a);
    size_t lo = 0, hi = r->n6;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (u128_cmp(r->v6[mid].lo, v) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && u128_cmp(v, r->v6[lo - 1].hi) <= 0;
}

/* ---------------------------------------------------------------- state */

#define NBUCKET 4 /* the tunnel window is kept as 4 buckets of window/4 */
#define LONG_LABEL 50

struct sub {
    uint32_t h;
    int64_t ts;
};

struct zone {
    struct zone *hnext, *lprev, *lnext;
    uint64_t h;
    int64_t last_flag_us;
    int64_t bucket_id[NBUCKET];
    uint32_t q[NBUCKET], longl[NBUCKET], txt[NBUCKET];
    struct sub *subs;
    uint32_t nsubs, capsubs;
    char name[];
};

struct seen_slot {
    uint64_t h;
    int32_t day;
};

struct cw_dns_flags {
    pthread_mutex_t mu;
    psl_ctx_t *psl;
    struct cw_ipranges *bad;
    double dga_threshold;
    int64_t nod_days, nod_warmup_us, tunnel_window_us;
    uint32_t tunnel_unique, tunnel_long, tunnel_txt_pct, tunnel_min_queries;
    size_t max_zones, nod_max;
    const struct cw_dnsseen_ops *seen_ops;
    /* zones: chained hash + LRU list (head = most recent) */
    struct zone **zbuckets;
    size_t zmask, nzones;
    struct zone *lru_head, *lru_tail;
    /* seen table: linear probing, h = 0 empty */
    struct seen_slot *seen;
    size_t smask, nseen;
    int64_t since_us;
    /* changed seen entries not yet saved */
    uint64_t *dirty_h;
    int32_t *dirty_day;
    size_t ndirty, capdirty;
    struct cw_dns_flags_stats st;
};

static const char RULE_DGA[] = "DGA-like domain name (lexical model score)";
static const char RULE_TUNNEL[] = "DNS tunnelling pattern in a zone (unique subdomains, long "
                                  "labels, TXT/NULL share)";
static const char RULE_NOD[] = "Newly observed domain across all members";
static const char RULE_BADRANGE[] = "DNS answer in a known bad address range";

static size_t pow2_at_least(size_t n)
{
    size_t p = 16;
    while (p < n)
        p <<= 1;
    return p;
}

/* -- seen table -- */

static struct seen_slot *seen_find(struct cw_dns_flags *f, uint64_t h)
{
    for (size_t i = h & f->smask;; i = (i + 1) & f->smask) {
        if (f->seen[i].h == h)
            return &f->seen[i];
        if (f->seen[i].h == 0)
            return NULL;
    }
}

static int cmp_slot_day_desc(const void *a, const void *b)
{
    const struct seen_slot *x = a, *y = b;
    return x->day > y->day ? -1 : x->day < y->day;
}

static void seen_put_raw(struct cw_dns_flags *f, uint64_t h, int32_t day)
{
    size_t i = h & f->smask;
    while (f->seen[i].h != 0 && f->seen[i].h != h)
        i = (i + 1) & f->smask;
    if (f->seen[i].h == 0)
        f->nseen++;
    f->seen[i].h = h;
    f->seen[i].day = day;
}

/* Full: keep the most recently seen 90% (rebuild). */
static int seen_evict(struct cw_dns_flags *f)
{
    struct seen_slot *all = malloc(f->nseen * sizeof(*all));
    if (!all)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i <= f->smask; i++)
        if (f->seen[i].h)
            all[k++] = f->seen[i];
    qsort(all, k, sizeof(*all), cmp_slot_day_desc);
    size_t keep = f->nod_max - f->nod_max / 10;
    if (keep > k)
        keep = k;
    memset(f->seen, 0, (f->smask + 1) * sizeof(*f->seen));
    f->nseen = 0;
    for (size_t i = 0; i < keep; i++)
        seen_put_raw(f, all[i].h, all[i].day);
    f->st.seen_evicted += k - keep;
    free(all);
    return 0;
}

static int seen_put(struct cw_dns_flags *f, uint64_t h, int32_t day)
{
    if (!seen_find(f, h) && f->nseen >= f->nod_max && seen_evict(f))
        return -1;
    seen_put_raw(f, h, day);
    return 0;
}

static int restore_cb(void *arg, uint64_t h, int32_t day)
{
    struct cw_dns_flags *f = arg;
    if (!h)
        return 0;
    struct seen_slot *s = seen_find(f, h);
    if (s) {
        if (day > s->day)
            s->day = day;
        return 0;
    }
    return seen_put(f, h, day);
}

static int dirty_add(struct cw_dns_flags *f, uint64_t h, int32_t day)
{
    if (!f->seen_ops)
        return 0;
    if (f->ndirty == f->capdirty) {
        size_t nc = f->capdirty ? f->capdirty * 2 : 256;
        uint64_t *nh = realloc(f->dirty_h, nc * sizeof(*nh));
        if (!nh)
            return -1;
        f->dirty_h = nh;
        int32_t *nd = realloc(f->dirty_day, nc * sizeof(*nd));
        if (!nd)
            return -1;
        f->dirty_day = nd;
        f->capdirty = nc;
    }
    f->dirty_h[f->ndirty] = h;
    f->dirty_day[f->ndirty] = day;
    f->ndirty++;
    return 0;
}

/* -- zones -- */

static void lru_unlink(struct cw_dns_flags *f, struct zone *z)
{
    if (z->lprev)
        z->lprev->lnext = z->lnext;
    else
        f->lru_head = z->lnext;
    if (z->lnext)
        z->lnext->lprev = z->lprev;
    else
        f->lru_tail = z->lprev;
    z->lprev = z->lnext = NULL;
}

static void lru_push(struct cw_dns_flags *f, struct zone *z)
{
    z->lprev = NULL;
    z->lnext = f->lru_head;
    if (f->lru_head)
        f->lru_head->lprev = z;
    f->lru_head = z;
    if (!f->lru_tail)
        f->lru_tail = z;
}

static void zone_free(struct zone *z)
{
    if (z) {
        free(z->subs);
        free(z);
    }
}

static void zone_remove(struct cw_dns_flags *f, struct zone *z)
{
    struct zone **pp = &f->zbuckets[z->h & f->zmask];
    while (*pp && *pp != z)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = z->hnext;
    lru_unlink(f, z);
    f->nzones--;
    zone_free(z);
}

static struct zone *zone_get(struct cw_dns_flags *f, const char *name, size_t n, uint64_t h)
{
    struct zone *z = f->zbuckets[h & f->zmask];
    for (; z; z = z->hnext)
        if (z->h == h && !strcmp(z->name, name)) {
            lru_unlink(f, z);
            lru_push(f, z);
            return z;
        }
    if (f->nzones >= f->max_zones && f->lru_tail) {
        zone_remove(f, f->lru_tail);
        f->st.zones_evicted++;
    }
    z = calloc(1, sizeof(*z) + n + 1);
    if (!z)
        return NULL;
    memcpy(z->name, name, n);
    z->h = h;
    for (int i = 0; i < NBUCKET; i++)
        z->bucket_id[i] = INT64_MIN;
    z->hnext = f->zbuckets[h & f->zmask];
    f->zbuckets[h & f->zmask] = z;
    lru_push(f, z);
    f->nzones++;
    return z;
}

/* Count the subdomain (hash sh) at time ts; returns the distinct subdomains seen in
 * (ts - window, ts], saturating at tunnel_unique. */
static uint32_t zone_add_sub(struct cw_dns_flags *f, struct zone *z, uint32_t sh, int64_t ts)
{
    int64_t from = ts - f->tunnel_window_us;
    int found = 0;
    for (uint32_t i = 0; i < z->nsubs; i++)
        if (z->subs[i].h == sh) {
            if (ts > z->subs[i].ts)
                z->subs[i].ts = ts;
            found = 1;
            break;
        }
    if (!found) {
        if (z->nsubs == f->tunnel_unique) { /* full: forget the ones out of the window */
            uint32_t k = 0;
            for (uint32_t i = 0; i < z->nsubs; i++)
                if (z->subs[i].ts > from)
                    z->subs[k++] = z->subs[i];
            z->nsubs = k;
        }
        if (z->nsubs < f->tunnel_unique) {
            if (z->nsubs == z->capsubs) {
                uint32_t nc = z->capsubs ? z->capsubs * 2 : 4;
                if (nc > f->tunnel_unique)
                    nc = f->tunnel_unique;
                struct sub *ns = realloc(z->subs, nc * sizeof(*ns));
                if (!ns)
                    return 0;
                z->subs = ns;
                z->capsubs = nc;
            }
            z->subs[z->nsubs].h = sh;
            z->subs[z->nsubs].ts = ts;
            z->nsubs++;
        }
    }
    uint32_t live = 0;
    for (uint32_t i = 0; i < z->nsubs; i++)
        if (z->subs[i].ts > from)
            live++;
    return live;
}

/* ---------------------------------------------------------------- registered domain */

static int ldh(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

size_t cw_dns_registered_domain(const struct cw_dns_flags *f, const char *name, size_t n,
                                char *out, size_t cap, size_t *label_len)
{
    if (label_len)
        *label_len = 0;
    if (!f || !f->psl || !name || cap < 256)
        return 0;
    while (n && name[n - 1] == '.')
        n--;
    if (n == 0 || n > 253)
        return 0;
    char buf[256];
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)tolower((unsigned char)name[i]);
    buf[n] = 0;
    struct cw_ip ip;
    if (!cw_ip_parse(&ip, buf, n))
        return 0;
    if (n >= 5 && !memcmp(buf + n - 5, ".arpa", 5))
        return 0;
    /* the rightmost 6 labels decide (no public suffix has more than 5) */
    size_t start = n;
    int labels = 0;
    while (start > 0 && labels < 6) {
        size_t e = start;
        while (start > 0 && buf[start - 1] != '.')
            start--;
        if (start == e)
            return 0; /* empty label */
        for (size_t i = start; i < e; i++)
            if (!ldh(buf[i]))
                goto stop;
        labels++;
        if (start == 0)
            break;
        start--; /* the dot */
        continue;
    stop:
        /* a label with other bytes: the registered domain must lie right of it */
        start = e + 1;
        break;
    }
    if (start > 0 && buf[start] == '.')
        start++;
    if (start >= n)
        return 0;
    const char *rd = psl_registrable_domain(f->psl, buf + start);
    if (!rd)
        return 0;
    size_t len = strlen(rd);
    if (len >= cap)
        return 0;
    memcpy(out, rd, len);
    out[len] = 0;
    if (label_len) {
        const char *dot = memchr(out, '.', len);
        *label_len = dot ? (size_t)(dot - out) : len;
    }
    return len;
}

/* ---------------------------------------------------------------- lifecycle */

struct cw_dns_flags *cw_dns_flags_new(const struct cw_dns_flags_config *cfg, char *err,
                                      size_t errlen)
{
    struct cw_dns_flags_config c = {0};
    if (cfg)
        c = *cfg;
    struct cw_dns_flags *f = calloc(1, sizeof(*f));
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&f->mu, NULL);
    f->dga_threshold = c.dga_threshold > 0 ? c.dga_threshold : CW_DGA_DEFAULT_THRESHOLD;
    f->nod_days = c.nod_days ? c.nod_days : 30;
    f->nod_warmup_us = c.nod_warmup_us ? (c.nod_warmup_us < 0 ? 0 : c.nod_warmup_us)
                                       : 24LL * 3600 * 1000000;
    f->nod_max = c.nod_max ? c.nod_max : 2000000;
    f->tunnel_window_us = c.tunnel_window_us > 0 ? c.tunnel_window_us : 600LL * 1000000;
    f->tunnel_unique = c.tunnel_unique ? c.tunnel_unique : 100;
    f->tunnel_long = c.tunnel_long ? c.tunnel_long : 5;
    f->tunnel_txt_pct = c.tunnel_txt_pct ? c.tunnel_txt_pct : 30;
    f->tunnel_min_queries = c.tunnel_min_queries ? c.tunnel_min_queries : 20;
    f->max_zones = c.tunnel_max_zones ? c.tunnel_max_zones : 100000;
    f->seen_ops = c.seen;
    f->psl = psl_latest(NULL);
    if (!f->psl) {
        snprintf(err, errlen, "cannot load the Public Suffix List (package publicsuffix)");
        goto fail;
    }
    if (c.bad_ranges_file && *c.bad_ranges_file) {
        FILE *fp = fopen(c.bad_ranges_file, "rb");
        if (!fp) {
            snprintf(err, errlen, "%s: %s", c.bad_ranges_file, strerror(errno));
            goto fail;
        }
        struct cw_buf b;
        cw_buf_init(&b);
        char chunk[65536];
        size_t got;
        while ((got = fread(chunk, 1, sizeof(chunk), fp)) > 0 && b.len < (256u << 20))
            cw_buf_add(&b, chunk, got);
        int rerr = ferror(fp);
        fclose(fp);
        if (rerr || !cw_buf_ok(&b)) {
            snprintf(err, errlen, "%s: cannot read", c.bad_ranges_file);
            cw_buf_release(&b);
            goto fail;
        }
        char e2[200];
        f->bad = cw_ipranges_parse(b.data ? b.data : "", b.len, e2, sizeof(e2));
        cw_buf_release(&b);
        if (!f->bad) {
            snprintf(err, errlen, "%s: %s", c.bad_ranges_file, e2);
            goto fail;
        }
    }
    f->zmask = pow2_at_least(f->max_zones) - 1;
    f->zbuckets = calloc(f->zmask + 1, sizeof(*f->zbuckets));
    f->smask = pow2_at_least(f->nod_max + f->nod_max / 2 + 1) - 1;
    f->seen = calloc(f->smask + 1, sizeof(*f->seen));
    if (!f->zbuckets || !f->seen) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (f->seen_ops && f->seen_ops->load) {
        int64_t since = 0;
        if (f->seen_ops->load(f->seen_ops->ctx, restore_cb, f, &since)) {
            snprintf(err, errlen, "cannot load the newly-observed-domain table");
            goto fail;
        }
        f->since_us = since;
    }
    return f;
fail:
    cw_dns_flags_free(f);
    return NULL;
}

void cw_dns_flags_free(struct cw_dns_flags *f)
{
    if (!f)
        return;
    if (f->psl)
        psl_free(f->psl);
    cw_ipranges_free(f->bad);
    while (f->lru_head)
        zone_remove(f, f->lru_head);
    free(f->zbuckets);
    free(f->seen);
    free(f->dirty_h);
    free(f->dirty_day);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

void cw_dns_flags_stats(struct cw_dns_flags *f, struct cw_dns_flags_stats *st)
{
    pthread_mutex_lock(&f->mu);
    *st = f->st;
    st->zones = f->nzones;
    st->seen = f->nseen;
    pthread_mutex_unlock(&f->mu);
}

/* ---------------------------------------------------------------- the detector */

static int emit(struct cw_detections *out, uint32_t rec, const char *id, const char *name,
                enum cw_severity sev)
{
    struct cw_detection d;
    memset(&d, 0, sizeof(d));
    d.rec = rec;
    d.attack_class = CW_AC_MALWARE_C2;
    d.severity = (uint8_t)sev;
    d.source = CW_DET_DNS;
    snprintf(d.rule_id, sizeof(d.rule_id), "%s", id);
    d.rule_name = name;
    d.rule_name_len = (uint16_t)strlen(name);
    return cw_detections_add(out, &d);
}

static int streq(const char *s, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    return s && n == l && !strncasecmp(s, lit, l);
}

/* Wire length of the longest label of a presentation-format name (\DDD and \X
 * escapes count one byte). */
static size_t longest_label(const char *s, size_t n)
{
    size_t best = 0, cur = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.') {
            if (cur > best)
                best = cur;
            cur = 0;
            continue;
        }
        if (s[i] == '\\' && i + 1 < n) {
            if (i + 3 < n && isdigit((unsigned char)s[i + 1]) && isdigit((unsigned char)s[i + 2]) &&
                isdigit((unsigned char)s[i + 3]))
                i += 3;
            else
                i += 1;
        }
        cur++;
    }
    return cur > best ? cur : best;
}

static int check_badrange(const struct cw_dns_flags *f, const char *ans, size_t an)
{
    size_t i = 0;
    while (i < an) {
        while (i < an && (ans[i] == ',' || ans[i] == ' '))
            i++;
        size_t s = i;
        while (i < an && ans[i] != ',' && ans[i] != ' ')
            i++;
        struct cw_ip ip;
        if (i > s && !cw_ip_parse(&ip, ans + s, i - s) && cw_ipranges_contains(f->bad, &ip))
            return 1;
    }
    return 0;
}

static int detect_one(struct cw_dns_flags *f, const struct cw_record *r, uint32_t idx,
                      struct cw_detections *out)
{
    size_t qn = 0, tn = 0, rn = 0, an = 0, pn = 0;
    const char *q = cw_record_str(r, CW_F_DNS_QNAME, &qn);
    const char *dtype = cw_record_str(r, CW_F_DNS_TYPE, &tn);
    if (streq(dtype, tn, "query"))
        return 0; /* the answer record of the same query is counted */
    const char *qtype = cw_record_str(r, CW_F_DNS_QTYPE, &tn);
    const char *rcode = cw_record_str(r, CW_F_DNS_RCODE, &rn);
    const char *ans = cw_record_str(r, CW_F_DNS_ANSWERS, &an);
    const char *pol = cw_record_str(r, CW_F_DNS_POLICY, &pn);
    f->st.records++;

    if (f->bad && ans && an && check_badrange(f, ans, an)) {
        if (emit(out, idx, "dns:badrange", RULE_BADRANGE, CW_SEV_HIGH))
            return -1;
        f->st.badrange++;
    }
    if (!q || !qn)
        return 0;
    char rd[256];
    size_t lab = 0;
    size_t rl = cw_dns_registered_domain(f, q, qn, rd, sizeof(rd), &lab);
    if (!rl)
        return 0;
    int64_t ts = r->ts_us;

    /* DGA: the registered domain's first label (IDN labels are not scored) */
    if (lab >= CW_DGA_MIN_LEN && strncmp(rd, "xn--", 4) != 0 &&
        cw_dga_score(rd, lab, NULL) >= f->dga_threshold) {
        if (emit(out, idx, "dns:dga", RULE_DGA, CW_SEV_MEDIUM))
            return -1;
        f->st.dga++;
    }

    /* tunnelling */
    uint64_t zh = cw_dns_flags_name_hash(rd, rl);
    struct zone *z = zone_get(f, rd, rl, zh);
    if (!z)
        return -1;
    int64_t bw = f->tunnel_window_us / NBUCKET;
    if (bw < 1)
        bw = 1;
    int64_t bid = ts >= 0 ? ts / bw : -((-ts + bw - 1) / bw);
    int slot = (int)(((bid % NBUCKET) + NBUCKET) % NBUCKET);
    size_t qlen = qn;
    while (qlen && q[qlen - 1] == '.')
        qlen--;
    if (z->bucket_id[slot] <= bid) { /* an older bucket than the slot holds is ignored */
        if (z->bucket_id[slot] != bid) {
            z->bucket_id[slot] = bid;
            z->q[slot] = z->longl[slot] = z->txt[slot] = 0;
        }
        z->q[slot]++;
        if (longest_label(q, qlen) > LONG_LABEL)
            z->longl[slot]++;
        if (streq(qtype, tn, "TXT") || streq(qtype, tn, "NULL"))
            z->txt[slot]++;
    }
    uint32_t uniq = 0;
    if (qlen > rl) { /* a subdomain: count it */
        uniq = zone_add_sub(f, z, (uint32_t)cw_dns_flags_name_hash(q, qlen - rl), ts);
    } else {
        for (uint32_t i = 0; i < z->nsubs; i++)
            uniq += z->subs[i].ts > ts - f->tunnel_window_us;
    }
    uint64_t nq = 0, nl = 0, nt = 0;
    for (int i = 0; i < NBUCKET; i++)
        if (z->bucket_id[i] > bid - NBUCKET && z->bucket_id[i] <= bid) {
            nq += z->q[i];
            nl += z->longl[i];
            nt += z->txt[i];
        }
    int ind = (uniq >= f->tunnel_unique) + (nl >= f->tunnel_long) +
              (nq >= f->tunnel_min_queries && nt * 100 >= (uint64_t)f->tunnel_txt_pct * nq);
    if (ind >= 2 && (z->last_flag_us == 0 || ts - z->last_flag_us >= f->tunnel_window_us)) {
        z->last_flag_us = ts ? ts : 1;
        if (emit(out, idx, "dns:tunnel", RULE_TUNNEL, CW_SEV_HIGH))
            return -1;
        f->st.tunnel++;
    }

    /* newly observed: a name that resolved (NOERROR with answers), not one a policy
     * answered (those are already known) */
    if (f->nod_days > 0 && streq(rcode, rn, "NOERROR") && ans && an &&
        (!pol || !pn || streq(pol, pn, "passthru"))) {
        int32_t day = (int32_t)(ts >= 0 ? ts / 86400000000LL : -1 - (-ts - 1) / 86400000000LL);
        struct seen_slot *s = seen_find(f, zh);
        if (s && s->day >= day - f->nod_days) {
            if (day > s->day) {
                s->day = day;
                if (dirty_add(f, zh, day))
                    return -1;
            }
        } else {
            if (f->since_us == 0 && f->nseen == 0)
                f->since_us = ts ? ts : 1;
            if (seen_put(f, zh, day) || dirty_add(f, zh, day))
                return -1;
            if (ts - f->since_us >= f->nod_warmup_us) {
                if (emit(out, idx, "dns:nod", RULE_NOD, CW_SEV_LOW))
                    return -1;
                f->st.nod++;
            }
        }
    }
    return 0;
}

int cw_dns_flags_detect(const void *ctx, const struct cw_batch *b, struct cw_detections *out)
{
    struct cw_dns_flags *f = (struct cw_dns_flags *)ctx;
    if (!f)
        return 0;
    int rc = 0;
    pthread_mutex_lock(&f->mu);
    for (uint32_t i = 0; i < b->n && !rc; i++)
        if (b->recs[i].kind == CW_KIND_DNS)
            rc = detect_one(f, &b->recs[i], i, out);
    if (f->ndirty && f->seen_ops && f->seen_ops->save) {
        if (f->seen_ops->save(f->seen_ops->ctx, f->dirty_h, f->dirty_day, f->ndirty,
                              f->since_us))
            f->st.persist_errors++;
        f->ndirty = 0;
    }
    pthread_mutex_unlock(&f->mu);
    return rc;
}
