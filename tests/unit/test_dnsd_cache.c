/* test_dnsd_cache.c - the resolver's answer cache and the TTL offsets it ages
 * cached answers with.
 *
 * - cw_dns_ttl_offsets + cw_dns_ttl_age_at against cw_dns_ttl_age (the re-parsing
 *   rewrite, the oracle) on every DNS message of three real captures and of the
 *   fuzz corpus of dns_msg, at several ages; a compression pointer into a TTL field
 *   must refuse the offsets, and the cache then still ages by re-parsing;
 * - the cache: TTL decay and expiry, negative answers, the caller's tag (kept on a
 *   hit, reset when the entry is replaced), growth of the table to 20,000 entries
 *   with every one found again, LRU eviction at the entry limit. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_msg.h"
#include "dns/dnsd_cache.h"
#include "testlib.h"
#include "common/banned.h"

/* -- offsets against the re-parsing rewrite ---------------------------------------- */

struct tally {
    size_t fast, slow, unparsable;
};

static void offsets_vs_oracle(const uint8_t *p, size_t n, void *ctx)
{
    struct tally *t = ctx;
    static uint8_t a[65536], b[65536];
    uint16_t offs[256];
    int k = cw_dns_ttl_offsets(p, n, offs, 256);
    if (k < 0) {
        struct cw_dns_msg *m = malloc(sizeof(*m));
        if (m && cw_dns_msg_parse(m, p, n) == 0)
            t->slow++;
        else
            t->unparsable++;
        free(m);
        return;
    }
    t->fast++;
    static const uint32_t ages[] = {0, 1, 10, 3600, 0x7fffffffu, 0xffffffffu};
    for (size_t i = 0; i < sizeof(ages) / sizeof(ages[0]); i++) {
        memcpy(a, p, n);
        memcpy(b, p, n);
        cw_dns_ttl_age_at(a, offs, (size_t)k, ages[i]);
        CHECK_EQ_INT(cw_dns_ttl_age(b, n, ages[i], NULL), 0);
        CHECK(memcmp(a, b, n) == 0);
    }
}

static void test_offsets_real(void)
{
    static const char *const files[] = {"data/pcap/zeek/dns-edns-ecs.pcap",
                                        "data/pcap/zeek/wikipedia.pcap",
                                        "data/pcap/zeek/dns53.pcap"};
    struct tally t = {0};
    size_t pkts = 0;
    for (size_t i = 0; i < 3; i++)
        pkts += cw_test_pcap_udp53(cw_test_shared(files[i]), offsets_vs_oracle, &t);
    CHECK(pkts >= 100);
    CHECK(t.fast >= 90); /* real messages have no pointer into a TTL */
    printf("pcap: %zu messages, %zu aged from offsets, %zu by re-parsing\n", pkts, t.fast, t.slow);

    /* the fuzz corpus of the parser: odd but parsable messages */
    const char *src = getenv("CW_SOURCE_DIR");
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/fuzz/corpus/dns_msg", src ? src : ".");
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    struct tally c = {0};
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char path[8192];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        size_t n;
        char *data = cw_test_read_file(path, &n);
        if (data && n <= 65535)
            offsets_vs_oracle((const uint8_t *)data, n, &c);
        free(data);
    }
    if (d)
        closedir(d);
    CHECK(c.fast + c.slow + c.unparsable >= 20);
    printf("corpus: %zu aged from offsets, %zu by re-parsing, %zu unparsable\n", c.fast, c.slow,
           c.unparsable);
}

/* -- hand-built messages ------------------------------------------------------------ */

struct pkt {
    uint8_t b[512];
    size_t n;
};

static void put(struct pkt *p, const void *d, size_t n)
{
    memcpy(p->b + p->n, d, n);
    p->n += n;
}
static void put16(struct pkt *p, unsigned v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put(p, b, 2);
}
static void put32(struct pkt *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p, v & 0xFFFF);
}

/* "www.example.test A" answered with two A RRs; the second owner is a pointer to
 * ptr_target (12: the question name; or into the first RR's TTL, whose bytes
 * 01 'x' 00 00 read as the name "x."). */
static void two_answers(struct pkt *p, unsigned ptr_target, uint32_t ttl1)
{
    p->n = 0;
    put16(p, 0x1234);
    put16(p, 0x8180);
    put16(p, 1);
    put16(p, 2);
    put16(p, 0);
    put16(p, 0);
    put(p, "\3www\7example\4test\0", 18);
    put16(p, 1);
    put16(p, 1);
    put16(p, 0xC00C); /* RR 1: owner = the question name */
    put16(p, 1);
    put16(p, 1);
    put32(p, ttl1); /* at offset 12 + 18 + 4 + 6 = 40 */
    put16(p, 4);
    put(p, "\xc0\x00\x02\x01", 4);
    put16(p, (unsigned)(0xC000 | ptr_target)); /* RR 2 */
    put16(p, 1);
    put16(p, 1);
    put32(p, 300);
    put16(p, 4);
    put(p, "\xc0\x00\x02\x02", 4);
}

static void test_offsets_hostile(void)
{
    struct pkt p;
    uint16_t offs[8];
    two_answers(&p, 12, 300);
    struct cw_dns_msg *m = malloc(sizeof(*m));
    CHECK(m && cw_dns_msg_parse(m, p.b, p.n) == 0);
    CHECK_EQ_INT(cw_dns_ttl_offsets(p.b, p.n, offs, 8), 2);
    CHECK_EQ_INT(offs[0], 40);
    CHECK_EQ_INT(cw_dns_ttl_offsets(p.b, p.n, offs, 1), -1); /* more RRs than room */

    two_answers(&p, 40, 0x01780000u); /* RR 2's owner is read from RR 1's TTL: "x." */
    CHECK(m && cw_dns_msg_parse(m, p.b, p.n) == 0);
    CHECK_EQ_INT(cw_dns_ttl_offsets(p.b, p.n, offs, 8), -1);

    /* the cache still serves it, aged by re-parsing (the rewrite breaks the name,
     * so cw_dns_ttl_age refuses at any age that changes those bytes: a miss) */
    struct cw_dnsd_cache c;
    CHECK_EQ_INT(cw_dnsd_cache_init(&c, 10, 86400, 0), 0);
    struct cw_dnsd_cache_key k = {(const uint8_t *)"\3www\7example\4test", 18, 1, 1, 0};
    CHECK_EQ_INT(cw_dnsd_cache_put(&c, &k, p.b, p.n, 0), 1);
    uint8_t out[512], want[512];
    size_t n = cw_dnsd_cache_get(&c, &k, 0x1234, 500, out, sizeof(out)); /* age 0 */
    CHECK_EQ_INT(n, p.n);
    CHECK(n == p.n && memcmp(out, p.b, n) == 0);
    memcpy(want, p.b, p.n);
    int rc = cw_dns_ttl_age(want, p.n, 5, NULL);
    n = cw_dnsd_cache_get(&c, &k, 0x1234, 5000, out, sizeof(out));
    CHECK_EQ_INT(n, rc == 0 ? p.n : 0);
    cw_dnsd_cache_release(&c);
    free(m);
}

/* -- the cache ------------------------------------------------------------------------ */

/* An answer for name (wire) type A with one RR of ttl, rcode NOERROR. */
static size_t answer(uint8_t *buf, size_t cap, const char *text, uint32_t ttl, uint8_t last)
{
    uint8_t q[300];
    size_t qn = 0, wl;
    uint8_t wire[CW_DNS_NAME_MAX];
    if (cw_dns_name_from_text(text, strlen(text), wire, &wl))
        return 0;
    uint8_t hdr[12] = {0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    memcpy(q, hdr, 12);
    qn = 12;
    memcpy(q + qn, wire, wl);
    qn += wl;
    uint8_t tail[4] = {0, 1, 0, 1};
    memcpy(q + qn, tail, 4);
    qn += 4;
    struct cw_dns_msg *m = malloc(sizeof(*m));
    struct cw_dns_builder b;
    size_t n = 0;
    uint8_t addr[4] = {192, 0, 2, last};
    if (!m || cw_dns_msg_parse(m, q, qn) || cw_dns_build_reply(&b, buf, cap, cap, m, 0, 0, 1232) ||
        cw_dns_build_a(&b, ttl, addr) || cw_dns_build_finish(&b, &n))
        n = 0;
    free(m);
    return n;
}

static uint32_t first_ttl(const uint8_t *p, size_t n)
{
    struct cw_dns_msg *m = malloc(sizeof(*m));
    uint32_t t = m && cw_dns_msg_parse(m, p, n) == 0 && m->nrr ? m->rr[0].ttl : 0xdeadbeef;
    free(m);
    return t;
}

static void key_of(const char *text, uint8_t *wire, struct cw_dnsd_cache_key *k)
{
    size_t wl = 0;
    CHECK_EQ_INT(cw_dns_name_from_text(text, strlen(text), wire, &wl), 0);
    *k = (struct cw_dnsd_cache_key){wire, wl, 1, 1, 0};
}

static void test_cache(void)
{
    struct cw_dnsd_cache c;
    CHECK_EQ_INT(cw_dnsd_cache_init(&c, 20000, 86400, 60000), 0);
    uint8_t pkt[512], out[512], wire[CW_DNS_NAME_MAX];
    struct cw_dnsd_cache_key k;
    key_of("www.example.test", wire, &k);
    size_t n = answer(pkt, sizeof(pkt), "www.example.test", 300, 1);
    CHECK(n > 0);
    CHECK_EQ_INT(cw_dnsd_cache_put(&c, &k, pkt, n, 1000), 1);
    size_t got = cw_dnsd_cache_get(&c, &k, 0xabcd, 11500, out, sizeof(out));
    CHECK_EQ_INT(got, n);
    CHECK_EQ_INT(out[0] << 8 | out[1], 0xabcd);
    CHECK_EQ_INT(first_ttl(out, got), 290); /* 10.5 s later */
    CHECK_EQ_INT(cw_dnsd_cache_get(&c, &k, 1, 301000, out, sizeof(out)), 0); /* expired */
    CHECK_EQ_INT(cw_dnsd_cache_get_stale(&c, &k, 1, 301000, out, sizeof(out)), n);
    CHECK_EQ_INT(first_ttl(out, n), CW_DNS_STALE_TTL);

    /* the tag: 0 when stored, kept across hits, gone when the entry is replaced */
    CHECK_EQ_INT(cw_dnsd_cache_put(&c, &k, pkt, n, 2000), 1);
    struct cw_dnsd_cache_entry *e = cw_dnsd_cache_find(&c, &k, 2000);
    CHECK(e != NULL);
    CHECK_EQ_INT(e ? cw_dnsd_cache_tag(e) : 99, 0);
    if (e)
        cw_dnsd_cache_set_tag(e, 77);
    CHECK_EQ_INT(cw_dnsd_cache_copy(&c, e, 5, 3000, out, sizeof(out)), n);
    e = cw_dnsd_cache_find(&c, &k, 4000);
    CHECK_EQ_INT(e ? cw_dnsd_cache_tag(e) : 0, 77);
    CHECK_EQ_INT(cw_dnsd_cache_put(&c, &k, pkt, n, 5000), 1);
    e = cw_dnsd_cache_find(&c, &k, 5000);
    CHECK_EQ_INT(e ? cw_dnsd_cache_tag(e) : 99, 0);
    k.qtype = 28; /* another type: another entry */
    CHECK(cw_dnsd_cache_find(&c, &k, 5000) == NULL);
    k.qtype = 1;
    k.view = 1; /* another view too */
    CHECK(cw_dnsd_cache_find(&c, &k, 5000) == NULL);

    /* growth: 20,000 names, each found with its own answer */
    char name[64];
    for (int i = 0; i < 20000; i++) {
        snprintf(name, sizeof(name), "n%d.example.test", i);
        key_of(name, wire, &k);
        n = answer(pkt, sizeof(pkt), name, 600, (uint8_t)i);
        CHECK_EQ_INT(cw_dnsd_cache_put(&c, &k, pkt, n, 10000), 1);
    }
    CHECK(c.nslots >= 16384);
    size_t found = 0;
    for (int i = 0; i < 20000; i++) {
        snprintf(name, sizeof(name), "n%d.example.test", i);
        key_of(name, wire, &k);
        got = cw_dnsd_cache_get(&c, &k, 1, 20000, out, sizeof(out));
        found += got > 0 && out[got - 1] == (uint8_t)i && first_ttl(out, got) == 590;
    }
    /* the limit is 20,000: the first entry (www) was the least recently used */
    CHECK_EQ_INT(found, 20000);
    CHECK_EQ_INT(c.n, 20000);
    CHECK_EQ_INT(c.evicted, 1);
    cw_dnsd_cache_release(&c);

    /* LRU at a small limit: the 50 oldest go, a recently read one stays */
    CHECK_EQ_INT(cw_dnsd_cache_init(&c, 100, 86400, 0), 0);
    for (int i = 0; i < 150; i++) {
        snprintf(name, sizeof(name), "l%d.example.test", i);
        key_of(name, wire, &k);
        n = answer(pkt, sizeof(pkt), name, 600, (uint8_t)i);
        CHECK_EQ_INT(cw_dnsd_cache_put(&c, &k, pkt, n, 0), 1);
        if (i == 60) { /* a hit makes l0 recent: it outlives l1..l50 */
            key_of("l0.example.test", wire, &k);
            CHECK(cw_dnsd_cache_get(&c, &k, 1, 0, out, sizeof(out)) > 0);
        }
    }
    CHECK_EQ_INT(c.n, 100);
    CHECK_EQ_INT(c.evicted, 50);
    key_of("l0.example.test", wire, &k);
    CHECK(cw_dnsd_cache_get(&c, &k, 1, 0, out, sizeof(out)) > 0);
    key_of("l1.example.test", wire, &k);
    CHECK_EQ_INT(cw_dnsd_cache_get(&c, &k, 1, 0, out, sizeof(out)), 0);
    key_of("l149.example.test", wire, &k);
    CHECK(cw_dnsd_cache_get(&c, &k, 1, 0, out, sizeof(out)) > 0);
    cw_dnsd_cache_release(&c);
}

int main(void)
{
    test_offsets_real();
    test_offsets_hostile();
    test_cache();
    return cw_test_finish("test_dnsd_cache");
}
