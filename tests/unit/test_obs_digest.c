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
 * many times). */
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

int main(void)
{
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
