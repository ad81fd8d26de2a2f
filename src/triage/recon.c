/* recon.c - scanner address ranges (MISP warninglists) and scanner user agents.
 *
 * Which warninglists are scanner ranges: cw_recon_load() looks at the
 * subdirectories of the warninglists directory and uses those whose *directory
 * name* contains "scanning" or "scanner" (shodan-scanning, censys-scanning,
 * stretchoid-nt-scanning, onyphe-scanner, ...). The name is the only reliable
 * signal: the MISP repository names every scanner list that way, while the "name"
 * and "description" fields are free text, and the type alone says nothing (cidr
 * lists also cover clouds, CDNs, public resolvers and RFC 1918). Lists in such a
 * directory must then have type "cidr"; one of another type is ignored with a
 * warning. The directory name is also the name cw_recon_match_ip() answers.
 * Directories are loaded in byte order of their names, so results do not depend
 * on readdir() order.
 *
 * Address ranges: every entry becomes a closed interval [lo, hi] (host bits of
 * the address are cleared, so "192.0.2.77/24" is 192.0.2.0/24; an address without
 * "/prefix" is one host). cw_recon_finish() sorts the intervals and turns them into
 * disjoint segments, each labelled with the name of one list that contains all of
 * it (where lists overlap, the range that starts first keeps its name until it
 * ends; adjacent or overlapping ranges with the same name are merged). A lookup is
 * one binary search over the segments of the address's family; IPv6 compares as
 * a 128-bit number held in two uint64_t. An IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) is looked up as IPv6 and, when no IPv6 range holds it, as the
 * IPv4 address a.b.c.d (a dual-stack listener logs IPv4 clients that way). The
 * stats count the merged
 * union of the ranges (segments that touch count once), which is what collapsing
 * the networks gives.
 *
 * User agents: a text file, one substring per line, compared ASCII
 * case-insensitively. Leading and trailing blanks and CR are trimmed (a pattern
 * cannot start or end with a blank); empty lines and lines whose first non-blank
 * is '#' are skipped. A pattern shorter than CW_RECON_UA_MIN bytes is an error: it
 * would match nearly every user agent. The first pattern in file order that occurs
 * in the user agent is the answer. Matching is one pass over the user agent with
 * a hash of each 3-byte window pointing at the patterns that start with those
 * bytes (built by cw_recon_finish). A plain loop over the patterns cost ~2.5 us
 * per user agent for 59 patterns on the elastic log's user agents; the index
 * brings it to the figure printed by tests/unit/test_recon.c.
 *
 * Limits (hostile or broken input): a list.json is read by the shared reader
 * (common/warninglist.h: larger than CW_WARNINGLIST_MAX_FILE or more than
 * CW_WARNINGLIST_MAX_TOK JSON values, or a malformed "list", "name" or
 * "matching_attributes" is an error, whatever the list's type); a UA file larger
 * than CW_RECON_MAX_FILE or a line longer than CW_RECON_UA_MAX is an error. */
#include "triage/recon.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "common/warninglist.h"
#include "common/banned.h"

#define CW_RECON_MAX_FILE (32u << 20) /* bytes of one list.json or the UA file */
#define CW_RECON_UA_MIN 3             /* shortest UA pattern */
#define CW_RECON_UA_MAX 256           /* longest UA pattern */

struct u128 {
    uint64_t hi, lo;
};

struct rng4 {
    uint32_t lo, hi;
    uint32_t name;
};

struct rng6 {
    struct u128 lo, hi;
    uint32_t name;
};

struct ua_pat {
    char *s; /* lower case, NUL-terminated */
    size_t n;
};

struct cw_recon {
    char **names; /* list names; ranges refer to them by index */
    size_t nnames, capnames;
    /* as added (cw_recon_finish sorts them in place) */
    struct rng4 *raw4;
    size_t nraw4, capraw4;
    struct rng6 *raw6;
    size_t nraw6, capraw6;
    /* disjoint, sorted segments used by lookups */
    struct rng4 *seg4;
    size_t nseg4;
    struct rng6 *seg6;
    size_t nseg6;
    size_t union4, union6;
    struct ua_pat *ua;
    size_t nua, capua;
    /* UA index (built by cw_recon_finish): patterns by a hash of their first 3
     * bytes, ascending pattern order within a bucket (CSR: bucket b holds
     * ua_idx[ua_bucket[b] .. ua_bucket[b + 1])) */
    uint32_t *ua_bucket;
    uint32_t *ua_idx;
};

/* -- small helpers ---------------------------------------------------------- */

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 16;
    while (nc < need) {
        if (nc > SIZE_MAX / 2 / elem)
            return -1;
        nc *= 2;
    }
    void *q = realloc(*p, nc * elem);
    if (!q)
        return -1;
    *p = q;
    *cap = nc;
    return 0;
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

#define UA_BUCKETS 4096u

/* Bucket of three lower-case bytes. */
static unsigned ua_hash(unsigned char a, unsigned char b, unsigned char c)
{
    return ((unsigned)a * 961u + (unsigned)b * 31u + (unsigned)c) & (UA_BUCKETS - 1);
}

static struct u128 u128_from(const uint8_t a[16])
{
    struct u128 v = {0, 0};
    for (int i = 0; i < 8; i++) {
        v.hi = (v.hi << 8) | a[i];
        v.lo = (v.lo << 8) | a[8 + i];
    }
    return v;
}

static int u128_cmp(struct u128 a, struct u128 b)
{
    if (a.hi != b.hi)
        return a.hi < b.hi ? -1 : 1;
    if (a.lo != b.lo)
        return a.lo < b.lo ? -1 : 1;
    return 0;
}

static struct u128 u128_inc(struct u128 a)
{
    a.lo++;
    if (a.lo == 0)
        a.hi++;
    return a;
}

/* Mask of the host part of a /prefix (prefix 0..128). */
static struct u128 u128_hostmask(unsigned prefix)
{
    struct u128 m;
    if (prefix >= 128) {
        m.hi = m.lo = 0;
    } else if (prefix >= 64) {
        m.hi = 0;
        m.lo = prefix == 64 ? UINT64_MAX : (UINT64_MAX >> (prefix - 64));
    } else {
        m.hi = prefix == 0 ? UINT64_MAX : (UINT64_MAX >> prefix);
        m.lo = UINT64_MAX;
    }
    return m;
}

/* -- construction ------------------------------------------------------------- */

struct cw_recon *cw_recon_new(void)
{
    return calloc(1, sizeof(struct cw_recon));
}

void cw_recon_free(struct cw_recon *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nnames; i++)
        free(r->names[i]);
    free(r->names);
    free(r->raw4);
    free(r->raw6);
    free(r->seg4);
    free(r->seg6);
    for (size_t i = 0; i < r->nua; i++)
        free(r->ua[i].s);
    free(r->ua);
    free(r->ua_bucket);
    free(r->ua_idx);
    free(r);
}

void cw_recon_stats(const struct cw_recon *r, struct cw_recon_stats *st)
{
    memset(st, 0, sizeof(*st));
    if (!r)
        return;
    st->lists = r->nnames; /* distinct names of cidr lists added */
    st->ranges_v4 = r->union4;
    st->ranges_v6 = r->union6;
    st->user_agents = r->nua;
}

/* Index of name (added if new), or -1 when out of memory. */
static long name_index(struct cw_recon *r, const char *name)
{
    for (size_t i = 0; i < r->nnames; i++)
        if (strcmp(r->names[i], name) == 0)
            return (long)i;
    if (r->nnames >= UINT32_MAX ||
        grow((void **)&r->names, &r->capnames, r->nnames + 1, sizeof(char *)) < 0)
        return -1;
    char *c = strdup(name);
    if (!c)
        return -1;
    r->names[r->nnames] = c;
    return (long)r->nnames++;
}

/* Parse "addr[/prefix]" (s[0..n), blanks around it allowed) into an interval of
 * the right family. Returns 4 or 6, or 0 when it is not an address or CIDR. */
static int parse_cidr(const char *s, size_t n, struct rng4 *r4, struct rng6 *r6)
{
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    const char *slash = memchr(s, '/', n);
    size_t an = slash ? (size_t)(slash - s) : n;
    struct cw_ip ip;
    if (cw_ip_parse(&ip, s, an) < 0)
        return 0;
    unsigned max = ip.family == 4 ? 32 : 128, prefix = max;
    if (slash) {
        const char *p = slash + 1, *e = s + n;
        if (p == e || e - p > 3)
            return 0;
        prefix = 0;
        for (; p < e; p++) {
            if (*p < '0' || *p > '9')
                return 0;
            prefix = prefix * 10 + (unsigned)(*p - '0');
        }
        if (prefix > max)
            return 0;
    }
    if (ip.family == 4) {
        uint32_t a = (uint32_t)ip.a[0] << 24 | (uint32_t)ip.a[1] << 16 |
                     (uint32_t)ip.a[2] << 8 | ip.a[3];
        uint32_t host = prefix == 0 ? UINT32_MAX : (prefix == 32 ? 0 : UINT32_MAX >> prefix);
        r4->lo = a & ~host;
        r4->hi = a | host;
        return 4;
    }
    struct u128 a = u128_from(ip.a), m = u128_hostmask(prefix);
    r6->lo.hi = a.hi & ~m.hi;
    r6->lo.lo = a.lo & ~m.lo;
    r6->hi.hi = a.hi | m.hi;
    r6->hi.lo = a.lo | m.lo;
    return 6;
}

/* Messages start with label (the list name, or its path when loading a directory).
 * The JSON is read by the shared warninglist reader (common/warninglist.h: size
 * and value-count limits, shape, strings); what a cidr entry means is ours. */
static int add_list(struct cw_recon *r, const char *name, const char *label, const char *json,
                    size_t n, char *err, size_t errlen)
{
    struct cw_warninglist wl;
    char why[256];
    int rc = cw_warninglist_parse(&wl, json, n, why, sizeof(why));
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", label, why);
        return rc;
    }
    int ret = -1;
    if (strcmp(wl.type, "cidr") != 0) {
        snprintf(err, errlen, "%s: type \"%.*s\" is not \"cidr\"", label,
                 (int)(strlen(wl.type) > 40 ? 40 : strlen(wl.type)), wl.type);
        ret = 1;
        goto out;
    }
    size_t had = r->nnames;
    long ni = name_index(r, name);
    if (ni < 0) {
        snprintf(err, errlen, "%s: out of memory", label);
        goto out;
    }
    /* Entries go to the raw arrays; on an error the ones added so far are removed
     * again, so a failed list leaves r as it was. */
    size_t keep4 = r->nraw4, keep6 = r->nraw6;
    for (size_t e = 0; e < wl.nentries; e++) {
        const char *s = wl.entries[e].s;
        size_t sn = wl.entries[e].n;
        struct rng4 r4;
        struct rng6 r6;
        int fam = parse_cidr(s, sn, &r4, &r6);
        if (fam == 4) {
            if (grow((void **)&r->raw4, &r->capraw4, r->nraw4 + 1, sizeof(struct rng4)) < 0)
                goto oom;
            r4.name = (uint32_t)ni;
            r->raw4[r->nraw4++] = r4;
        } else if (fam == 6) {
            if (grow((void **)&r->raw6, &r->capraw6, r->nraw6 + 1, sizeof(struct rng6)) < 0)
                goto oom;
            r6.name = (uint32_t)ni;
            r->raw6[r->nraw6++] = r6;
        } else {
            char shown[64];
            size_t k2 = 0;
            for (size_t q = 0; q < sn && k2 < sizeof(shown) - 1; q++)
                shown[k2++] = (s[q] >= 0x20 && s[q] < 0x7f && s[q] != '"') ? s[q] : '?';
            shown[k2] = '\0';
            snprintf(err, errlen, "%s: list[%zu] \"%s\" is not an IP address or CIDR", label,
                     e, shown);
            goto fail;
        }
    }
    ret = 0;
    goto out;
oom:
    snprintf(err, errlen, "%s: out of memory", label);
fail:
    r->nraw4 = keep4;
    r->nraw6 = keep6;
    if (r->nnames > had) { /* a name this failed list introduced */
        free(r->names[--r->nnames]);
    }
out:
    cw_warninglist_release(&wl);
    return ret;
}

int cw_recon_add_warninglist(struct cw_recon *r, const char *name, const char *json, size_t n,
                             char *err, size_t errlen)
{
    if (!r || !name || (!json && n)) {
        snprintf(err, errlen, "invalid arguments");
        return -1;
    }
    return add_list(r, name, name, json, n, err, errlen);
}

static int cmp4(const void *pa, const void *pb)
{
    const struct rng4 *a = pa, *b = pb;
    if (a->lo != b->lo)
        return a->lo < b->lo ? -1 : 1;
    if (a->hi != b->hi)
        return a->hi > b->hi ? -1 : 1; /* the larger range first */
    return a->name < b->name ? -1 : a->name > b->name;
}

static int cmp6(const void *pa, const void *pb)
{
    const struct rng6 *a = pa, *b = pb;
    int c = u128_cmp(a->lo, b->lo);
    if (c)
        return c;
    c = u128_cmp(a->hi, b->hi);
    if (c)
        return -c;
    return a->name < b->name ? -1 : a->name > b->name;
}

/* Sweep over ranges sorted by (lo, hi descending): cur is the segment being
 * built. A range inside cur adds nothing; one that overlaps or touches cur and
 * goes further either extends cur (same list) or starts a new segment just after
 * cur under its own name, so each segment lies inside a range of its list. */
static size_t build4(const struct rng4 *in, size_t n, struct rng4 *out, size_t *nunion)
{
    size_t m = 0, u = 0;
    if (!n)
        goto done;
    struct rng4 cur = in[0];
    u = 1;
    for (size_t i = 1; i < n; i++) {
        const struct rng4 *x = &in[i];
        if (x->hi <= cur.hi)
            continue; /* inside cur (x->lo >= cur.lo by the sort) */
        /* here cur.hi < x->hi <= UINT32_MAX, so cur.hi + 1 does not overflow */
        if (x->lo <= cur.hi + 1) {
            if (x->name == cur.name) {
                cur.hi = x->hi;
            } else {
                out[m++] = cur;
                cur.lo = cur.hi + 1;
                cur.hi = x->hi;
                cur.name = x->name;
            }
        } else {
            out[m++] = cur;
            cur = *x;
            u++;
        }
    }
    out[m++] = cur;
done:
    *nunion = u;
    return m;
}

static size_t build6(const struct rng6 *in, size_t n, struct rng6 *out, size_t *nunion)
{
    size_t m = 0, u = 0;
    if (!n)
        goto done;
    struct rng6 cur = in[0];
    u = 1;
    for (size_t i = 1; i < n; i++) {
        const struct rng6 *x = &in[i];
        if (u128_cmp(x->hi, cur.hi) <= 0)
            continue;
        struct u128 next = u128_inc(cur.hi); /* cur.hi < x->hi: no overflow */
        if (u128_cmp(x->lo, next) <= 0) {
            if (x->name == cur.name) {
                cur.hi = x->hi;
            } else {
                out[m++] = cur;
                cur.lo = next;
                cur.hi = x->hi;
                cur.name = x->name;
            }
        } else {
            out[m++] = cur;
            cur = *x;
            u++;
        }
    }
    out[m++] = cur;
done:
    *nunion = u;
    return m;
}

static int build_ua_index(struct cw_recon *r)
{
    free(r->ua_bucket);
    free(r->ua_idx);
    r->ua_bucket = calloc(UA_BUCKETS + 1, sizeof(uint32_t));
    r->ua_idx = malloc((r->nua ? r->nua : 1) * sizeof(uint32_t));
    if (!r->ua_bucket || !r->ua_idx)
        return -1;
    /* count, prefix sums, then fill in pattern order (so buckets are ascending) */
    for (size_t p = 0; p < r->nua; p++) {
        const unsigned char *s = (const unsigned char *)r->ua[p].s;
        r->ua_bucket[ua_hash(s[0], s[1], s[2]) + 1]++;
    }
    for (unsigned b = 0; b < UA_BUCKETS; b++)
        r->ua_bucket[b + 1] += r->ua_bucket[b];
    uint32_t *fill = malloc(UA_BUCKETS * sizeof(uint32_t));
    if (!fill)
        return -1;
    memcpy(fill, r->ua_bucket, UA_BUCKETS * sizeof(uint32_t));
    for (size_t p = 0; p < r->nua; p++) {
        const unsigned char *s = (const unsigned char *)r->ua[p].s;
        r->ua_idx[fill[ua_hash(s[0], s[1], s[2])]++] = (uint32_t)p;
    }
    free(fill);
    return 0;
}

int cw_recon_finish(struct cw_recon *r)
{
    if (!r)
        return -1;
    if (build_ua_index(r) < 0)
        return -1;
    free(r->seg4);
    free(r->seg6);
    r->seg4 = NULL;
    r->seg6 = NULL;
    r->nseg4 = r->nseg6 = r->union4 = r->union6 = 0;
    if (r->nraw4) {
        qsort(r->raw4, r->nraw4, sizeof(struct rng4), cmp4);
        r->seg4 = malloc(r->nraw4 * sizeof(struct rng4));
        if (!r->seg4)
            return -1;
        r->nseg4 = build4(r->raw4, r->nraw4, r->seg4, &r->union4);
    }
    if (r->nraw6) {
        qsort(r->raw6, r->nraw6, sizeof(struct rng6), cmp6);
        r->seg6 = malloc(r->nraw6 * sizeof(struct rng6));
        if (!r->seg6)
            return -1;
        r->nseg6 = build6(r->raw6, r->nraw6, r->seg6, &r->union6);
    }
    return 0;
}

/* -- lookups ---------------------------------------------------------------- */

static const char *find4(const struct cw_recon *r, uint32_t a)
{
    /* last segment with lo <= a */
    size_t lo = 0, hi = r->nseg4;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->seg4[mid].lo <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || a > r->seg4[lo - 1].hi)
        return NULL;
    return r->names[r->seg4[lo - 1].name];
}

static const char *find6(const struct cw_recon *r, struct u128 a)
{
    size_t lo = 0, hi = r->nseg6;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (u128_cmp(r->seg6[mid].lo, a) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || u128_cmp(a, r->seg6[lo - 1].hi) > 0)
        return NULL;
    return r->names[r->seg6[lo - 1].name];
}

const char *cw_recon_match_ip(const struct cw_recon *r, const struct cw_ip *ip)
{
    if (!r || !ip)
        return NULL;
    if (ip->family == 4)
        return find4(r, (uint32_t)ip->a[0] << 24 | (uint32_t)ip->a[1] << 16 |
                            (uint32_t)ip->a[2] << 8 | ip->a[3]);
    if (ip->family != 6)
        return NULL;
    const char *hit = find6(r, u128_from(ip->a));
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (!hit && memcmp(ip->a, mapped, 12) == 0)
        hit = find4(r, (uint32_t)ip->a[12] << 24 | (uint32_t)ip->a[13] << 16 |
                           (uint32_t)ip->a[14] << 8 | ip->a[15]);
    return hit;
}

/* One pass over the user agent: at each position, the patterns whose first three
 * bytes hash like the next three bytes are compared. The answer is the pattern
 * that comes first in the file among all that occur, so the scan goes on after a
 * hit, skipping patterns not earlier than the best so far. */
const char *cw_recon_match_ua(const struct cw_recon *r, const char *ua, size_t n)
{
    if (!r || !ua || !r->nua || !r->ua_bucket || n < CW_RECON_UA_MIN)
        return NULL;
    const unsigned char *u = (const unsigned char *)ua;
    size_t best = r->nua;
    unsigned char c0 = (unsigned char)lower((char)u[0]), c1 = (unsigned char)lower((char)u[1]);
    for (size_t i = 0; i + CW_RECON_UA_MIN <= n; i++) {
        unsigned char c2 = (unsigned char)lower((char)u[i + 2]);
        unsigned h = ua_hash(c0, c1, c2);
        for (uint32_t k = r->ua_bucket[h]; k < r->ua_bucket[h + 1]; k++) {
            uint32_t p = r->ua_idx[k];
            if (p >= best)
                break; /* ascending within the bucket */
            const struct ua_pat *pat = &r->ua[p];
            if (pat->n > n - i)
                continue;
            size_t j = 0;
            while (j < pat->n && lower(ua[i + j]) == pat->s[j])
                j++;
            if (j == pat->n) {
                best = p;
                break;
            }
        }
        if (best == 0)
            break;
        c0 = c1;
        c1 = c2;
    }
    return best < r->nua ? r->ua[best].s : NULL;
}

/* -- loading ------------------------------------------------------------------ */

/* Read a whole file (at most CW_RECON_MAX_FILE bytes). NULL with err set. */
static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    for (;;) {
        if (!b)
            break;
        if (n == cap) {
            if (cap >= CW_RECON_MAX_FILE) {
                snprintf(err, errlen, "%s: larger than %u bytes", path, CW_RECON_MAX_FILE);
                free(b);
                fclose(f);
                return NULL;
            }
            char *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap *= 2;
        }
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (!b) {
        snprintf(err, errlen, "%s: out of memory", path);
        fclose(f);
        return NULL;
    }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        free(b);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = n;
    return b;
}

static int is_scanner_list(const char *name)
{
    return strstr(name, "scanning") != NULL || strstr(name, "scanner") != NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_dir(struct cw_recon *r, const char *dir, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t nn = 0, cap = 0;
    int ret = -1;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || !is_scanner_list(de->d_name))
            continue;
        if (grow((void **)&names, &cap, nn + 1, sizeof(char *)) < 0 ||
            !(names[nn] = strdup(de->d_name))) {
            snprintf(err, errlen, "%s: out of memory", dir);
            goto out;
        }
        nn++;
    }
    if (nn)
        qsort(names, nn, sizeof(char *), cmp_str);
    else
        cw_warn("recon: no scanner lists (directories named *scanning* or *scanner*) in %s",
                dir);
    for (size_t i = 0; i < nn; i++) {
        char path[4096];
        struct stat st;
        int pn = snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (pn < 0 || (size_t)pn >= sizeof(path)) {
            snprintf(err, errlen, "%s/%s: path too long", dir, names[i]);
            goto out;
        }
        if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
            continue; /* a file such as "scanner-notes.txt" is not a list */
        pn = snprintf(path, sizeof(path), "%s/%s/list.json", dir, names[i]);
        if (pn < 0 || (size_t)pn >= sizeof(path)) {
            snprintf(err, errlen, "%s/%s: path too long", dir, names[i]);
            goto out;
        }
        size_t len;
        char *buf = read_file(path, &len, err, errlen);
        if (!buf)
            goto out;
        char why[512];
        int rc = add_list(r, names[i], path, buf, len, why, sizeof(why));
        free(buf);
        if (rc < 0) {
            snprintf(err, errlen, "%s", why);
            goto out;
        }
        if (rc == 1)
            cw_warn("recon: skipped %s", why);
    }
    ret = 0;
out:
    for (size_t i = 0; i < nn; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return ret;
}

static int load_ua(struct cw_recon *r, const char *path, char *err, size_t errlen)
{
    size_t len;
    char *buf = read_file(path, &len, err, errlen);
    if (!buf)
        return -1;
    int ret = -1;
    size_t lineno = 0;
    const char *p = buf, *end = buf + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        const char *s = p;
        lineno++;
        p = nl ? nl + 1 : end;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
            e--;
        if (s == e || *s == '#')
            continue;
        size_t n = (size_t)(e - s);
        if (memchr(s, '\0', n)) {
            snprintf(err, errlen, "%s:%zu: NUL byte in pattern", path, lineno);
            goto out;
        }
        if (n < CW_RECON_UA_MIN || n > CW_RECON_UA_MAX) {
            snprintf(err, errlen, "%s:%zu: pattern of %zu bytes (must be %d..%d)", path,
                     lineno, n, CW_RECON_UA_MIN, CW_RECON_UA_MAX);
            goto out;
        }
        if (grow((void **)&r->ua, &r->capua, r->nua + 1, sizeof(struct ua_pat)) < 0)
            goto oom;
        char *c = malloc(n + 1);
        if (!c)
            goto oom;
        for (size_t i = 0; i < n; i++)
            c[i] = lower(s[i]);
        c[n] = '\0';
        r->ua[r->nua].s = c;
        r->ua[r->nua].n = n;
        r->nua++;
    }
    ret = 0;
    goto out;
oom:
    snprintf(err, errlen, "%s: out of memory", path);
out:
    free(buf);
    return ret;
}

struct cw_recon *cw_recon_load(const char *warninglists_dir, const char *ua_file, char *err,
                               size_t errlen)
{
    struct cw_recon *r = cw_recon_new();
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if ((warninglists_dir && load_dir(r, warninglists_dir, err, errlen) < 0) ||
        (ua_file && load_ua(r, ua_file, err, errlen) < 0)) {
        cw_recon_free(r);
        return NULL;
    }
    if (cw_recon_finish(r) < 0) {
        snprintf(err, errlen, "out of memory");
        cw_recon_free(r);
        return NULL;
    }
    return r;
}
