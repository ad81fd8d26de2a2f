/* test_obs_digest.c - the per-batch digest of observables (center/obs_digest.h)
 * against an oracle built from the public key function.
 *
 * Batches of dns records that carry only a query name (no addresses), so every key
 * of the digest comes from a name: the name itself and each parent with >= 2 labels.
 * The oracle is the set of cw_obs_indicator_key(DOMAIN, suffix) over those suffixes,
 * collected and de-duplicated by brute force (a linear scan). Checked per batch: the
 * digest is strictly increasing (sorted, distinct), has exactly the oracle's keys
 * (every one found by cw_obs_digest_has, same count), and keys of names that are not
 * in the batch are absent. Batches range from one record to 20,000 records with
 * heavy repetition and up to ~9,000 distinct keys (the de-duplication table grows
 * many times).
 *
 * CIDR fan-out (cidr_fanout): a CIDR wider than the widest indexed prefix (/8, IPv6
 * /32) probes one key per covered network. Checked against two oracles that do not
 * use the fan-out: (1) its keys are exactly the single keys of the 2^(W-n) W-bit
 * CIDRs inside it, written out as text by the test; (2) for random addresses, the
 * digest of a one-record batch with that address holds one of its keys exactly when
 * a bit-by-bit comparison says the address is inside. IPv4 /0 is 256 keys; IPv6
 * wider than /24 is refused with a reason (it would be over 256 keys). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "center/obs_digest.h"
#include "testlib.h"

static uint32_t rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

struct keyset {
    uint32_t *k;
    size_t n, cap;
};

static void ks_add(struct keyset *ks, uint32_t key)
{
    for (size_t i = 0; i < ks->n; i++)
        if (ks->k[i] == key)
            return;
    if (ks->n == ks->cap) {
        ks->cap = ks->cap ? ks->cap * 2 : 64;
        ks->k = realloc(ks->k, ks->cap * sizeof(*ks->k));
    }
    ks->k[ks->n++] = key;
}

/* The name and its parents with >= 2 labels, as the digest indexes them. */
static void oracle_name(struct keyset *ks, const char *name)
{
    const char *p = name;
    for (;;) {
        const char *dot = strchr(p, '.');
        if (!dot)
            break; /* a single label is never indexed */
        uint32_t key;
        CHECK_EQ_INT(cw_obs_indicator_key(CW_IOC_DOMAIN, p, &key), 0);
        ks_add(ks, key);
        p = dot + 1;
    }
}

static void make_name(char *out, size_t cap, uint32_t *s, unsigned distinct)
{
    unsigned a = rnd(s) % distinct, b = rnd(s) % 7;
    snprintf(out, cap, "h%u.z%u.example", a, b);
}

static void one_batch(uint32_t seed, unsigned records, unsigned distinct)
{
    struct cw_batch b;
    cw_batch_init(&b);
    struct keyset want = {NULL, 0, 0};
    uint32_t s = seed;
    char name[64];
    /* record strings are borrowed (zero copy): each record's name lives here */
    char *names = malloc((size_t)records * 64);
    for (unsigned i = 0; i < records; i++) {
        make_name(names + (size_t)i * 64, 64, &s, distinct);
        const char *nm = names + (size_t)i * 64;
        struct cw_record *r = cw_batch_begin(&b);
        r->ts_us = 1700000000000000LL;
        r->kind = CW_KIND_DNS;
        cw_batch_set_str(&b, CW_F_DNS_QNAME, nm, strlen(nm));
        CHECK_EQ_INT(cw_batch_commit(&b), 0);
        oracle_name(&want, nm);
    }
    struct cw_obs_digest d;
    CHECK_EQ_INT(cw_obs_digest_build(&b, &d), 0);
    bool sorted = true;
    for (size_t i = 1; i < d.n; i++)
        sorted = sorted && d.keys[i - 1] < d.keys[i];
    CHECK(sorted);
    CHECK_EQ_INT(d.n, want.n);
    size_t found = 0;
    for (size_t i = 0; i < want.n; i++)
        found += cw_obs_digest_has(d.keys, d.n, want.k[i]) != 0;
    CHECK_EQ_INT(found, want.n);
    /* names that are not in the batch (other labels): absent unless a 32-bit key
     * collides, which these few probes make vanishingly unlikely */
    size_t absent = 0;
    for (unsigned i = 0; i < 200; i++) {
        snprintf(name, sizeof(name), "q%u.nowhere%u.test", i, seed);
        uint32_t key;
        cw_obs_indicator_key(CW_IOC_HOSTNAME, name, &key);
        absent += !cw_obs_digest_has(d.keys, d.n, key);
    }
    CHECK_EQ_INT(absent, 200);
    cw_obs_digest_release(&d);
    free(want.k);
    cw_batch_release(&b);
    free(names);
}

/* Is a (family fam) inside net/plen? Bit by bit, independent of obs_digest.c. */
static bool inside(const uint8_t *a, const uint8_t *net, int plen)
{
    for (int i = 0; i < plen; i++)
        if (((a[i / 8] >> (7 - i % 8)) & 1) != ((net[i / 8] >> (7 - i % 8)) & 1))
            return false;
    return true;
}

static bool has_any(const struct cw_obs_digest *d, const uint32_t *keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (cw_obs_digest_has(d->keys, d->n, keys[i]))
            return true;
    return false;
}

/* One wide CIDR net/plen ("%s/%d" of text): keys vs the oracles above. */
static void fanout_one(const char *text, int fam, int plen, uint32_t *s)
{
    char cidr[80], why[200];
    snprintf(cidr, sizeof(cidr), "%s/%d", text, plen);
    uint32_t keys[CW_OBS_KEYS_MAX];
    size_t n = cw_obs_indicator_keys(CW_IOC_CIDR, cidr, keys, why, sizeof(why));
    int widest = fam == 4 ? 8 : 32;
    CHECK_EQ_INT(n, (size_t)1 << (widest - plen));
    uint32_t one;
    CHECK_EQ_INT(cw_obs_indicator_key(CW_IOC_CIDR, cidr, &one), plen == widest ? 0 : -1);
    struct cw_ip net;
    CHECK_EQ_INT(cw_ip_parse(&net, text, strlen(text)), 0);
    /* oracle 1: the W-bit networks inside, as text */
    size_t found = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t first = (uint32_t)net.a[0] << 24 | (uint32_t)net.a[1] << 16 |
                         (uint32_t)net.a[2] << 8 | net.a[3];
        first |= (uint32_t)i << (32 - widest);
        char sub[64];
        if (fam == 4)
            snprintf(sub, sizeof(sub), "%u.0.0.0/8", first >> 24);
        else
            snprintf(sub, sizeof(sub), "%x:%x::/32", first >> 16, first & 0xffff);
        uint32_t k;
        CHECK_EQ_INT(cw_obs_indicator_key(CW_IOC_CIDR, sub, &k), 0);
        for (size_t j = 0; j < n; j++)
            if (keys[j] == k) {
                found++;
                break;
            }
    }
    CHECK_EQ_INT(found, n);
    /* oracle 2: addresses inside and outside, each in a one-record batch */
    unsigned in = 0, out = 0;
    for (int t = 0; t < 300; t++) {
        struct cw_ip ip = {.family = (uint8_t)fam};
        for (int i = 0; i < 16; i++)
            ip.a[i] = (uint8_t)rnd(s);
        if (fam == 4)
            memset(ip.a + 4, 0, 12);
        if (t % 2 == 0) { /* half at the edge: the network with a bit near plen flipped */
            memcpy(ip.a, net.a, (size_t)widest / 8);
            int bit = plen - 2 + (int)(rnd(s) % 6);
            if (bit >= 0 && bit < widest)
                ip.a[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
        }
        struct cw_batch b;
        cw_batch_init(&b);
        struct cw_record *r = cw_batch_begin(&b);
        r->ts_us = 1700000000000000LL;
        r->kind = CW_KIND_FLOW;
        r->dst = ip;
        CHECK_EQ_INT(cw_batch_commit(&b), 0);
        struct cw_obs_digest d;
        CHECK_EQ_INT(cw_obs_digest_build(&b, &d), 0);
        bool want = inside(ip.a, net.a, plen);
        if (has_any(&d, keys, n) != want) {
            char shown[64];
            cw_ip_format(&ip, shown);
            fprintf(stderr, "%s: %s expected %s\n", cidr, shown, want ? "inside" : "outside");
            CHECK(false);
        }
        in += want;
        out += !want;
        cw_obs_digest_release(&d);
        cw_batch_release(&b);
    }
    CHECK(in > 0 && (out > 0 || plen == 0)); /* a /0 has no outside */
}

static void cidr_fanout(void)
{
    uint32_t s = 77;
    fanout_one("0.0.0.0", 4, 0, &s); /* 256 /8s */
    fanout_one("4.0.0.0", 4, 6, &s);
    fanout_one("44.0.0.0", 4, 7, &s);
    fanout_one("128.0.0.0", 4, 1, &s);
    fanout_one("2a04::", 6, 30, &s);
    fanout_one("2a00::", 6, 24, &s); /* 256 /32s */
    fanout_one("2c0f:f000::", 6, 31, &s);
    /* at the widest indexed prefix: one key, the one cw_obs_indicator_key gives */
    uint32_t keys[CW_OBS_KEYS_MAX], one;
    char why[200];
    CHECK_EQ_INT(cw_obs_indicator_keys(CW_IOC_CIDR, "10.0.0.0/8", keys, why, sizeof(why)), 1);
    CHECK_EQ_INT(cw_obs_indicator_key(CW_IOC_CIDR, "10.0.0.0/8", &one), 0);
    CHECK_EQ_INT(keys[0], one);
    CHECK_EQ_INT(cw_obs_indicator_keys(CW_IOC_DOMAIN, "evil.example", keys, why, sizeof(why)), 1);
    /* IPv6 wider than /24: refused with the reason */
    why[0] = '\0';
    CHECK_EQ_INT(cw_obs_indicator_keys(CW_IOC_CIDR, "2a00::/23", keys, why, sizeof(why)), 0);
    CHECK(strstr(why, "2a00::/23 is wider than /24") != NULL);
    CHECK_EQ_INT(cw_obs_indicator_keys(CW_IOC_CIDR, "2000::/16", keys, why, sizeof(why)), 0);
    CHECK(strstr(why, "65536 /32 networks") != NULL);
    CHECK_EQ_INT(cw_obs_indicator_keys(CW_IOC_CIDR, "::/0", keys, why, sizeof(why)), 0);
    CHECK_EQ_INT(cw_obs_indicator_keys(CW_IOC_CIDR, "not-a-cidr", keys, why, sizeof(why)), 0);
}

int main(void)
{
    cidr_fanout();
    one_batch(1, 1, 1);
    one_batch(2, 10, 3);
    one_batch(3, 5000, 40);     /* heavy repetition */
    one_batch(4, 5000, 1500);   /* the table grows several times */
    one_batch(5, 20000, 4000);  /* ~9,000 distinct keys */
    struct cw_batch empty;
    cw_batch_init(&empty);
    struct cw_obs_digest d;
    CHECK_EQ_INT(cw_obs_digest_build(&empty, &d), 0);
    CHECK_EQ_INT(d.n, 0);
    cw_obs_digest_release(&d);
    cw_batch_release(&empty);
    return cw_test_finish("test_obs_digest");
}
