/* bench_ioc.c - indicator look-ups: cw_iocset beside an SQLite in-memory table with
 * an index (what a naive indicator store would do), same look-ups, same run.
 *
 * Not a test: it prints figures (docs/performance.md "Indicators" keeps them).
 *
 * Indicators: N of mixed types, generated deterministically from their number i
 * (gen_ioc): 25% domains, 15% hostnames, 20% URLs, 15% IPv4, 5% IPv6, 5% CIDRs
 * (/16../30 IPv4 and /32../64 IPv6), 8% SHA-256, 4% MD5, 3% JA3. Names are random
 * labels under real TLDs, so they do not share parents beyond the TLD.
 *
 * Look-ups, as records present values: 40% a DNS query name (cw_iocset_match_name:
 * hostname exact, then the domain and its parents), 30% a destination address
 * (cw_iocset_match_addr: exact, then the longest CIDR), 15% an HTTP request
 * (host + path: cw_iocset_match_url), 10% a file hash (SHA-256 or MD5), 5% a JA3.
 * One probe in ten is built from a stored indicator so that it hits (a name below
 * a listed domain, an address inside a listed CIDR, the exact URL or digest), the
 * rest are random values that miss. Probes are prepared before the clock starts.
 *
 * Two orders: "uniform" walks Q random probes once each (every probe a cold cache
 * line in tables far larger than the caches: the worst case), "hot" repeats the
 * first 50,000 probes (a working set, as real traffic repeats names and peers).
 *
 * Two ways of asking: one value per call (cw_iocset_match_name/_addr/_url/match),
 * and cw_iocset_match_batch over calls of 256 values, as a detector passes the
 * observables of a batch of records; the batch must give the same answers (exit
 * status 1 otherwise).
 *
 * Figures: look-ups per CPU-second of one thread (CLOCK_PROCESS_CPUTIME_ID around
 * the look-up loop; the program is single-threaded), bytes per indicator
 * (cw_iocset_bytes / cw_iocset_count), build time. The SQLite peer answers the
 * same probes with the same plan (one indexed SELECT per name and parent, per
 * CIDR prefix length present, per exact value) and must give identical answers
 * (exit status 1 otherwise).
 *
 * Hooks for the end-to-end figures (bench/bench_ioc_e2e.py, the center's publish ->
 * enforced latency and retro-hunt): `bench_ioc --emit N` prints the same N
 * generated indicators as "type,value" lines, so that program can publish exactly
 * this mix through the API and probe with `--emit-probes`. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ioc/ioc.h"
#include "ioc/iocset.h"
#include "common/banned.h"

#ifndef CW_BENCH_BUILD_TYPE
#define CW_BENCH_BUILD_TYPE "?"
#endif

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static const char *const tlds[] = {"com", "net", "org", "ru", "cn", "info", "xyz", "top",
                                   "de",  "io",  "biz", "online", "site", "club"};
#define NTLDS (sizeof(tlds) / sizeof(tlds[0]))

static size_t label(uint64_t r, char *b, int minlen, int span)
{
    int len = minlen + (int)(r % (uint64_t)span);
    r = mix64(r);
    for (int i = 0; i < len; i++) {
        b[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[r % 36];
        r = r / 36 ? r / 36 : mix64(r + (uint64_t)i);
    }
    return (size_t)len;
}

/* A random registered-looking name (label.tld) from r. */
static size_t rand_domain(uint64_t r, char *b)
{
    size_t n = label(r, b, 6, 10);
    b[n++] = '.';
    const char *t = tlds[mix64(r ^ 0x55) % NTLDS];
    size_t tn = strlen(t);
    memcpy(b + n, t, tn);
    n += tn;
    b[n] = '\0';
    return n;
}

/* Indicator i: its type and canonical value. */
static enum cw_ioc_type gen_ioc(uint64_t i, char *v, size_t cap)
{
    uint64_t r = mix64(i * 0x9e3779b97f4a7c15ULL + 1);
    unsigned pick = (unsigned)(r % 100);
    uint64_t r2 = mix64(r);
    char d[128];
    if (pick < 25) {
        rand_domain(r2, v);
        return CW_IOC_DOMAIN;
    }
    if (pick < 40) {
        size_t n = label(r2 >> 7, v, 3, 6);
        v[n++] = '.';
        rand_domain(r2, v + n);
        return CW_IOC_HOSTNAME;
    }
    if (pick < 60) {
        rand_domain(r2, d);
        char p[64];
        size_t pn = label(r2 >> 11, p, 4, 12);
        p[pn] = '\0';
        snprintf(v, cap, "%s://%s/%s/%s.php?id=%u", (r2 & 1) ? "https" : "http", d, p,
                 p + pn / 2, (unsigned)(r2 >> 40) % 100000);
        return CW_IOC_URL;
    }
    if (pick < 75) {
        uint32_t a = (uint32_t)(r2 >> 16);
        a = (a & 0x7fffffffu) | 0x01000000u; /* skip 0/8; any value is fine for the set */
        snprintf(v, cap, "%u.%u.%u.%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255);
        return CW_IOC_IPV4;
    }
    if (pick < 80) {
        snprintf(v, cap, "2a0%x:%x:%x:%x::%x", (unsigned)(r2 & 15), (unsigned)(r2 >> 8 & 0xffff),
                 (unsigned)(r2 >> 24 & 0xffff), (unsigned)(r2 >> 40 & 0xffff),
                 (unsigned)(mix64(r2) & 0xffff) | 1);
        char c[CW_IOC_VALUE_MAX]; /* the canonical text ("...:0::1" is "...::1") */
        if (cw_ioc_normalize(CW_IOC_IPV6, v, strlen(v), c, sizeof(c), NULL, 0) == 0)
            snprintf(v, cap, "%s", c);
        return CW_IOC_IPV6;
    }
    if (pick < 85) {
        if (r2 & 1) {
            unsigned p = 16 + (unsigned)(r2 >> 1) % 15;
            uint32_t a = (uint32_t)(r2 >> 16) | 0x01000000u;
            a &= ~0u << (32 - p);
            snprintf(v, cap, "%u.%u.%u.%u/%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255, p);
        } else {
            unsigned p = 32 + (unsigned)(r2 >> 1) % 33;
            uint64_t hi = (0x2a00ULL << 48) | (r2 >> 16 & 0xffffffffffffULL);
            hi &= p == 64 ? ~0ULL : ~0ULL << (64 - p);
            snprintf(v, cap, "%x:%x:%x:%x::/%u", (unsigned)(hi >> 48), (unsigned)(hi >> 32 & 0xffff),
                     (unsigned)(hi >> 16 & 0xffff), (unsigned)(hi & 0xffff), p);
            /* let normalisation print it the canonical way */
            char c[CW_IOC_VALUE_MAX];
            if (cw_ioc_normalize(CW_IOC_CIDR, v, strlen(v), c, sizeof(c), NULL, 0) == 0)
                snprintf(v, cap, "%s", c);
        }
        return CW_IOC_CIDR;
    }
    enum cw_ioc_type t = pick < 93 ? CW_IOC_SHA256 : pick < 97 ? CW_IOC_MD5 : CW_IOC_JA3;
    size_t hex = t == CW_IOC_SHA256 ? 64 : 32;
    uint64_t h = r2;
    for (size_t k = 0; k < hex; k++) {
        if (k % 16 == 0)
            h = mix64(h + k);
        v[k] = "0123456789abcdef"[h & 15];
        h >>= 4;
    }
    v[hex] = '\0';
    return t;
}

/* -- probes ------------------------------------------------------------------ */

enum pkind { P_NAME, P_ADDR, P_URL, P_HASH };

struct probe {
    uint8_t kind, fam;
    uint8_t htype; /* P_HASH: enum cw_ioc_type */
    uint8_t addr[16];
    uint16_t n1, n2;
    char *s1, *s2; /* name / host, path / digest text */
};

struct pool {
    char *p;
    size_t n, cap;
};

static char *pool_put(struct pool *pl, const char *s, size_t n)
{
    if (pl->n + n + 1 > pl->cap) {
        fprintf(stderr, "probe pool full\n");
        exit(2);
    }
    char *d = pl->p + pl->n;
    memcpy(d, s, n);
    d[n] = '\0';
    pl->n += n + 1;
    return d;
}

/* A probe built from indicator i (so it hits) for the kind of that indicator. */
static void probe_hit(struct probe *pr, struct pool *pl, uint64_t i, uint64_t r)
{
    char v[CW_IOC_VALUE_MAX], b[600];
    enum cw_ioc_type t = gen_ioc(i, v, sizeof(v));
    memset(pr, 0, sizeof(*pr));
    switch (t) {
    case CW_IOC_DOMAIN: {
        int n = snprintf(b, sizeof(b), "%s.%s", (r & 1) ? "www" : "cdn1.api", v);
        pr->kind = P_NAME;
        pr->s1 = pool_put(pl, b, (size_t)n);
        pr->n1 = (uint16_t)n;
        break;
    }
    case CW_IOC_HOSTNAME:
        pr->kind = P_NAME;
        pr->n1 = (uint16_t)strlen(v);
        pr->s1 = pool_put(pl, v, pr->n1);
        break;
    case CW_IOC_URL: {
        const char *h = strstr(v, "://") + 3, *p = strchr(h, '/');
        pr->kind = P_URL;
        pr->n1 = (uint16_t)(p - h);
        pr->s1 = pool_put(pl, h, pr->n1);
        pr->n2 = (uint16_t)strlen(p);
        pr->s2 = pool_put(pl, p, pr->n2);
        break;
    }
    case CW_IOC_IPV4:
    case CW_IOC_IPV6:
        pr->kind = P_ADDR;
        pr->fam = (uint8_t)cw_ioc_parse_addr(v, strlen(v), pr->addr);
        break;
    case CW_IOC_CIDR: {
        unsigned p;
        pr->kind = P_ADDR;
        pr->fam = (uint8_t)cw_ioc_parse_cidr(v, strlen(v), pr->addr, &p);
        unsigned max = pr->fam == 4 ? 32 : 128;
        for (unsigned k = p; k < max; k++) /* random host bits inside the network */
            if (mix64(r + k) & 1)
                pr->addr[k / 8] |= (uint8_t)(0x80u >> (k % 8));
        break;
    }
    default:
        pr->kind = P_HASH;
        pr->htype = (uint8_t)t;
        pr->n2 = (uint16_t)strlen(v);
        pr->s2 = pool_put(pl, v, pr->n2);
        break;
    }
}

static void probe_miss(struct probe *pr, struct pool *pl, uint64_t r)
{
    char b[600], d[128];
    memset(pr, 0, sizeof(*pr));
    unsigned pick = (unsigned)(r % 100);
    uint64_t r2 = mix64(r ^ 0xabcdef);
    if (pick < 40) {
        size_t n = label(r2 >> 3, b, 2, 8);
        b[n++] = '.';
        n += rand_domain(r2 ^ 0x1234567, b + n);
        pr->kind = P_NAME;
        pr->s1 = pool_put(pl, b, n);
        pr->n1 = (uint16_t)n;
    } else if (pick < 70) {
        pr->kind = P_ADDR;
        if (pick < 64) {
            pr->fam = 4;
            uint32_t a = (uint32_t)r2;
            memcpy(pr->addr, &a, 4);
        } else {
            pr->fam = 6;
            uint64_t x = mix64(r2), y = mix64(x);
            memcpy(pr->addr, &x, 8);
            memcpy(pr->addr + 8, &y, 8);
            pr->addr[0] = 0x2a;
            pr->addr[1] = (uint8_t)(r2 & 15);
        }
    } else if (pick < 85) {
        rand_domain(r2, d);
        int n = snprintf(b, sizeof(b), "/index.php?q=%u", (unsigned)(r2 >> 20) % 100000);
        pr->kind = P_URL;
        pr->n1 = (uint16_t)strlen(d);
        pr->s1 = pool_put(pl, d, pr->n1);
        pr->n2 = (uint16_t)n;
        pr->s2 = pool_put(pl, b, pr->n2);
    } else {
        pr->kind = P_HASH;
        pr->htype = pick < 90 ? CW_IOC_SHA256 : pick < 95 ? CW_IOC_MD5 : CW_IOC_JA3;
        size_t hex = pr->htype == CW_IOC_SHA256 ? 64 : 32;
        uint64_t h = r2;
        for (size_t k = 0; k < hex; k++) {
            if (k % 16 == 0)
                h = mix64(h + k + 99);
            b[k] = "0123456789abcdef"[h & 15];
            h >>= 4;
        }
        pr->n2 = (uint16_t)hex;
        pr->s2 = pool_put(pl, b, hex);
    }
}

/* The hit probes follow the record mix too: indicator numbers are drawn until
 * one of the wanted kind comes up. */
static void make_probes(struct probe *pr, size_t q, struct pool *pl, uint64_t nioc)
{
    for (size_t k = 0; k < q; k++) {
        uint64_t r = mix64(k + 0x777);
        if (r % 10 == 0) {
            unsigned want = (unsigned)(mix64(r) % 100);
            enum pkind kind = want < 40 ? P_NAME : want < 70 ? P_ADDR : want < 85 ? P_URL : P_HASH;
            for (uint64_t a = 0;; a++) {
                uint64_t i = mix64(r + a) % nioc;
                probe_hit(&pr[k], pl, i, r);
                if (pr[k].kind == kind)
                    break;
                pl->n -= pr[k].n1 + pr[k].n2 + (pr[k].s1 ? 1 : 0) + (pr[k].s2 ? 1 : 0);
            }
        } else {
            probe_miss(&pr[k], pl, r);
        }
    }
}

static uint64_t lookup(const struct cw_iocset *s, const struct probe *p)
{
    switch (p->kind) {
    case P_NAME:
        return cw_iocset_match_name(s, p->s1, p->n1);
    case P_ADDR:
        return cw_iocset_match_addr(s, p->fam, p->addr);
    case P_URL:
        return cw_iocset_match_url(s, p->s1, p->n1, p->s2, p->n2);
    default:
        return cw_iocset_match(s, (enum cw_ioc_type)p->htype, p->s2, p->n2);
    }
}

/* The same probe for cw_iocset_match_batch. */
static void to_batch(const struct probe *p, struct cw_iocset_probe *q)
{
    memset(q, 0, sizeof(*q));
    switch (p->kind) {
    case P_NAME:
        q->type = CW_IOC_HOSTNAME;
        q->s = p->s1;
        q->len = p->n1;
        break;
    case P_ADDR:
        q->type = p->fam == 4 ? CW_IOC_IPV4 : CW_IOC_IPV6;
        memcpy(q->addr, p->addr, 16);
        break;
    case P_URL:
        q->type = CW_IOC_URL;
        q->s = p->s1;
        q->len = p->n1;
        q->path = p->s2;
        q->plen = p->n2;
        break;
    default:
        q->type = (enum cw_ioc_type)p->htype;
        q->s = p->s2;
        q->len = p->n2;
        break;
    }
}

/* -- the SQLite peer ------------------------------------------------------------ */

struct peer {
    sqlite3 *db;
    sqlite3_stmt *ins, *get;
    bool plen4[33], plen6[129];
};

static void die_sql(sqlite3 *db, const char *what)
{
    fprintf(stderr, "sqlite %s: %s\n", what, sqlite3_errmsg(db));
    exit(2);
}

/* Peer keys: type + the same key text the set matches on (URL: host/path). */
static void peer_put(struct peer *p, int t, const char *k, size_t n, uint64_t id)
{
    sqlite3_bind_int(p->ins, 1, t);
    sqlite3_bind_text(p->ins, 2, k, (int)n, SQLITE_STATIC);
    sqlite3_bind_int64(p->ins, 3, (sqlite3_int64)id);
    if (sqlite3_step(p->ins) != SQLITE_DONE)
        die_sql(p->db, "insert");
    sqlite3_reset(p->ins);
}

static uint64_t peer_get(struct peer *p, int t, const char *k, size_t n)
{
    sqlite3_bind_int(p->get, 1, t);
    sqlite3_bind_text(p->get, 2, k, (int)n, SQLITE_STATIC);
    uint64_t id = 0;
    if (sqlite3_step(p->get) == SQLITE_ROW)
        id = (uint64_t)sqlite3_column_int64(p->get, 0);
    sqlite3_reset(p->get);
    return id;
}

static void peer_open(struct peer *p)
{
    memset(p, 0, sizeof(*p));
    if (sqlite3_open(":memory:", &p->db) != SQLITE_OK)
        die_sql(p->db, "open");
    sqlite3_exec(p->db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
                        "CREATE TABLE ioc(t INTEGER, k TEXT, id INTEGER); BEGIN;",
                 NULL, NULL, NULL);
    if (sqlite3_prepare_v2(p->db, "INSERT INTO ioc VALUES(?,?,?)", -1, &p->ins, NULL))
        die_sql(p->db, "prepare");
}

static void peer_index(struct peer *p)
{
    if (sqlite3_exec(p->db, "COMMIT; CREATE INDEX ioc_k ON ioc(t, k);", NULL, NULL,
                     NULL))
        die_sql(p->db, "index");
    if (sqlite3_prepare_v2(p->db, "SELECT id FROM ioc WHERE t=? AND k=? ORDER BY rowid DESC LIMIT 1", -1, &p->get, NULL))
        die_sql(p->db, "prepare");
}

static void peer_add(struct peer *p, enum cw_ioc_type t, const char *v, uint64_t id)
{
    if (t == CW_IOC_URL) {
        const char *h = strstr(v, "://") + 3;
        peer_put(p, t, h, strlen(h), id);
    } else if (t == CW_IOC_CIDR) {
        uint8_t a[16];
        unsigned pl;
        int fam = cw_ioc_parse_cidr(v, strlen(v), a, &pl);
        (fam == 4 ? p->plen4 : p->plen6)[pl] = true;
        peer_put(p, t, v, strlen(v), id);
    } else {
        peer_put(p, t == CW_IOC_IPV6 ? CW_IOC_IPV4 : t, v, strlen(v), id);
    }
}

static uint64_t peer_lookup(struct peer *p, const struct probe *pr)
{
    char b[CW_IOC_VALUE_MAX + 8];
    switch (pr->kind) {
    case P_NAME: {
        uint64_t id = peer_get(p, CW_IOC_HOSTNAME, pr->s1, pr->n1);
        for (const char *s = pr->s1; !id && s;) {
            id = peer_get(p, CW_IOC_DOMAIN, s, strlen(s));
            s = strchr(s, '.');
            s = s ? s + 1 : NULL;
        }
        return id;
    }
    case P_ADDR: {
        char txt[64];
        inet_ntop(pr->fam == 4 ? AF_INET : AF_INET6, pr->addr, txt, sizeof(txt));
        uint64_t id = peer_get(p, CW_IOC_IPV4, txt, strlen(txt));
        unsigned max = pr->fam == 4 ? 32 : 128;
        const bool *have = pr->fam == 4 ? p->plen4 : p->plen6;
        for (int pl = (int)max; !id && pl >= 0; pl--) {
            if (!have[pl])
                continue;
            uint8_t a[16];
            memcpy(a, pr->addr, 16);
            for (unsigned k = (unsigned)pl; k < max; k++)
                a[k / 8] &= (uint8_t)~(0x80u >> (k % 8));
            inet_ntop(pr->fam == 4 ? AF_INET : AF_INET6, a, txt, sizeof(txt));
            int n = snprintf(b, sizeof(b), "%s/%d", txt, pl);
            id = peer_get(p, CW_IOC_CIDR, b, (size_t)n);
        }
        return id;
    }
    case P_URL: {
        int n = snprintf(b, sizeof(b), "%.*s%.*s", pr->n1, pr->s1, pr->n2, pr->s2);
        return peer_get(p, CW_IOC_URL, b, (size_t)n);
    }
    default:
        return peer_get(p, pr->htype, pr->s2, pr->n2);
    }
}

/* -- the run -------------------------------------------------------------------- */

static double now(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fmt_rate(double v, char *out, size_t cap)
{
    if (v >= 1e6)
        snprintf(out, cap, "%.2fM", v / 1e6);
    else
        snprintf(out, cap, "%.0fk", v / 1e3);
}

static int run(uint64_t n, size_t q, uint64_t peer_max)
{
    struct cw_iocset *s = cw_iocset_new();
    char v[CW_IOC_VALUE_MAX];
    double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    for (uint64_t i = 0; i < n; i++) {
        enum cw_ioc_type t = gen_ioc(i, v, sizeof(v));
        if (cw_iocset_add(s, t, v, strlen(v), i + 1) < 0) {
            fprintf(stderr, "add %s %s failed\n", cw_ioc_type_name(t), v);
            return 1;
        }
    }
    double c1 = now(CLOCK_PROCESS_CPUTIME_ID), w1 = now(CLOCK_MONOTONIC);
    size_t cnt = cw_iocset_count(s), bytes = cw_iocset_bytes(s);
    printf("%" PRIu64 " indicators (%zu distinct): build %.2f s CPU (%.2f s wall, incl. "
           "generating and normalising each value), %.1f bytes/indicator (%.0f MiB)\n",
           n, cnt, c1 - c0, w1 - w0, (double)bytes / (double)cnt, (double)bytes / 1048576.0);

    struct pool pl = {malloc(q * 80 + 4096), 0, q * 80 + 4096};
    struct probe *pr = calloc(q, sizeof(*pr));
    if (!pl.p || !pr)
        return 1;
    make_probes(pr, q, &pl, n);
    uint64_t *ans = calloc(q, sizeof(*ans));
    size_t hot = q < 50000 ? q : 50000;
    size_t hits = 0;
    c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    for (size_t k = 0; k < q; k++)
        ans[k] = lookup(s, &pr[k]);
    c1 = now(CLOCK_PROCESS_CPUTIME_ID);
    for (size_t k = 0; k < q; k++)
        hits += ans[k] != 0;
    double uni = (double)q / (c1 - c0);
    uint64_t sink = 0;
    size_t reps = q * 4;
    c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    for (size_t k = 0; k < reps; k++)
        sink += lookup(s, &pr[k % hot]);
    c1 = now(CLOCK_PROCESS_CPUTIME_ID);
    double hotr = (double)reps / (c1 - c0);
    char a[32], b[32];
    fmt_rate(uni, a, sizeof(a));
    fmt_rate(hotr, b, sizeof(b));
    printf("  cw_iocset, one value per call: %s look-ups/CPU-s uniform, %s hot (first %zu "
           "probes repeated); %.1f%% of %zu probes hit (sink %" PRIu64 ")\n",
           a, b, hot, 100.0 * (double)hits / (double)q, q, sink % 10);

    /* the same probes through cw_iocset_match_batch, as a detector would pass the
     * observables of a batch of records (calls of BATCH_CALL values) */
    enum { BATCH_CALL = 256 };
    struct cw_iocset_probe *bq = calloc(q, sizeof(*bq));
    uint64_t *bans = calloc(q, sizeof(*bans));
    if (!bq || !bans)
        return 1;
    for (size_t k = 0; k < q; k++)
        to_batch(&pr[k], &bq[k]);
    c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    for (size_t k = 0; k < q; k += BATCH_CALL)
        cw_iocset_match_batch(s, bq + k, q - k < BATCH_CALL ? q - k : BATCH_CALL, bans + k);
    c1 = now(CLOCK_PROCESS_CPUTIME_ID);
    double buni = (double)q / (c1 - c0);
    size_t bdiff = 0;
    for (size_t k = 0; k < q; k++)
        bdiff += bans[k] != ans[k];
    c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    size_t done = 0;
    while (done < reps) {
        for (size_t k = 0; k < hot; k += BATCH_CALL)
            cw_iocset_match_batch(s, bq + k, hot - k < BATCH_CALL ? hot - k : BATCH_CALL,
                                  bans + k);
        done += hot;
    }
    c1 = now(CLOCK_PROCESS_CPUTIME_ID);
    double bhot = (double)done / (c1 - c0);
    fmt_rate(buni, a, sizeof(a));
    fmt_rate(bhot, b, sizeof(b));
    printf("  cw_iocset, batches of %d values: %s look-ups/CPU-s uniform, %s hot; answers "
           "differ from one-by-one on %zu probes\n",
           BATCH_CALL, a, b, bdiff);
    free(bq);
    free(bans);

    int rc = bdiff != 0;
    if (n <= peer_max) {
        struct peer p;
        peer_open(&p);
        w0 = now(CLOCK_MONOTONIC);
        for (uint64_t i = 0; i < n; i++) {
            enum cw_ioc_type t = gen_ioc(i, v, sizeof(v));
            peer_add(&p, t, v, i + 1);
        }
        peer_index(&p);
        w1 = now(CLOCK_MONOTONIC);
        /* the peer is slow: it answers the first qp probes */
        size_t qp = q < 500000 ? q : 500000, diff = 0;
        c0 = now(CLOCK_PROCESS_CPUTIME_ID);
        for (size_t k = 0; k < qp; k++)
            diff += peer_lookup(&p, &pr[k]) != ans[k];
        c1 = now(CLOCK_PROCESS_CPUTIME_ID);
        double pr_rate = (double)qp / (c1 - c0);
        fmt_rate(pr_rate, a, sizeof(a));
        printf("  SQLite in-memory, indexed: %s look-ups/CPU-s uniform (%zu probes), build "
               "%.1f s; cw_iocset is %.0fx faster; answers differ on %zu probes\n",
               a, qp, w1 - w0, uni / pr_rate, diff);
        if (diff)
            rc = 1;
        sqlite3_finalize(p.ins);
        sqlite3_finalize(p.get);
        sqlite3_close(p.db);
    } else {
        printf("  SQLite peer skipped above --peer-max %" PRIu64 "\n", peer_max);
    }
    /* removal cost, as revocations do it */
    c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    size_t nrm = n < 100000 ? (size_t)n : 100000;
    for (size_t i = 0; i < nrm; i++) {
        enum cw_ioc_type t = gen_ioc(i, v, sizeof(v));
        cw_iocset_remove(s, t, v, strlen(v));
    }
    c1 = now(CLOCK_PROCESS_CPUTIME_ID);
    printf("  remove: %.2f us per indicator (%zu removed)\n", (c1 - c0) / (double)nrm * 1e6, nrm);
    cw_iocset_free(s);
    free(ans);
    free(pr);
    free(pl.p);
    return rc;
}

int main(int argc, char **argv)
{
    uint64_t sizes[8] = {1000000, 10000000};
    size_t nsizes = 2, q = 2000000;
    uint64_t peer_max = 10000000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--emit") == 0 && i + 1 < argc) {
            /* hook for bench_ioc_e2e.py: the same indicators as "type,value" */
            uint64_t n = strtoull(argv[++i], NULL, 10);
            char v[CW_IOC_VALUE_MAX];
            for (uint64_t k = 0; k < n; k++) {
                enum cw_ioc_type t = gen_ioc(k, v, sizeof(v));
                printf("%s,%s\n", cw_ioc_type_name(t), v);
            }
            return 0;
        } else if (strcmp(argv[i], "--sizes") == 0 && i + 1 < argc) {
            nsizes = 0;
            for (char *p = argv[++i]; *p && nsizes < 8; p++) {
                sizes[nsizes++] = strtoull(p, &p, 10);
                if (!*p)
                    break;
            }
        } else if (strcmp(argv[i], "--probes") == 0 && i + 1 < argc) {
            q = (size_t)strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--peer-max") == 0 && i + 1 < argc) {
            peer_max = strtoull(argv[++i], NULL, 10);
        } else {
            fprintf(stderr,
                    "usage: bench_ioc [--sizes 1000000,10000000] [--probes 2000000] "
                    "[--peer-max N] | --emit N\n");
            return 2;
        }
    }
    if (q == 0)
        return 2;
    printf("bench_ioc (%s build): look-ups of record values in the published-indicator set\n",
           CW_BENCH_BUILD_TYPE);
    int rc = 0;
    for (size_t k = 0; k < nsizes; k++)
        rc |= run(sizes[k], q, peer_max);
    return rc;
}
