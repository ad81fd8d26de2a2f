/* test_dns_msg.c - DNS wire format: real packets from captures, hostile packets,
 * replies built and parsed back, EDE bytes, truncation, TTL rewriting, names. */
#include <stdlib.h>
#include <string.h>

#include "dns/dns_msg.h"
#include "testlib.h"
#include "common/banned.h"

struct pcap_stats {
    size_t ok, edns, responses, answers;
};

static void check_real(const uint8_t *p, size_t n, void *ctx)
{
    struct pcap_stats *st = ctx;
    struct cw_dns_msg m;
    int rc = cw_dns_msg_parse(&m, p, n);
    CHECK_EQ_INT(rc, 0);
    if (rc)
        return;
    st->ok++;
    st->edns += m.edns.present;
    if (m.flags & CW_DNS_F_QR) {
        st->responses++;
        st->answers += m.ancount;
        /* age the cached copy: every TTL goes down, never below zero */
        uint8_t copy[65536];
        memcpy(copy, p, n);
        uint32_t lo;
        CHECK_EQ_INT(cw_dns_ttl_age(copy, n, 10, &lo), 0);
        struct cw_dns_msg m2;
        CHECK_EQ_INT(cw_dns_msg_parse(&m2, copy, n), 0);
        for (unsigned i = 0; i < m.nrr; i++)
            if (m.rr[i].type != CW_DNS_T_OPT)
                CHECK(m2.rr[i].ttl == (m.rr[i].ttl > 10 ? m.rr[i].ttl - 10 : 0));
    }
    char text[CW_DNS_TEXT_MAX];
    if (m.has_question)
        CHECK(cw_dns_name_to_text(m.qname, m.qname_len, text, sizeof(text)) > 0);
}

static void test_pcaps(void)
{
    static const char *const files[] = {"data/pcap/zeek/dns-edns-ecs.pcap",
                                        "data/pcap/zeek/wikipedia.pcap",
                                        "data/pcap/zeek/dns53.pcap"};
    /* 76 UDP/53 packets in the first capture, 4 of them IP fragments (skipped) */
    static const size_t expect[] = {72, 28, 1};
    struct pcap_stats st = {0};
    for (size_t i = 0; i < 3; i++)
        CHECK_EQ_INT(cw_test_pcap_udp53(cw_test_shared(files[i]), check_real, &st), expect[i]);
    CHECK_EQ_INT(st.ok, 101);
    CHECK(st.edns > 0);
    CHECK(st.responses > 0 && st.answers > 0);
    printf("pcap: %zu DNS messages parsed, %zu with EDNS, %zu responses, %zu answer RRs\n", st.ok,
           st.edns, st.responses, st.answers);
}

/* -- packets built by hand ------------------------------------------------- */

struct pkt {
    uint8_t b[4096];
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
static void hdr(struct pkt *p, unsigned id, unsigned flags, unsigned qd, unsigned an, unsigned ns,
                unsigned ar)
{
    p->n = 0;
    put16(p, id);
    put16(p, flags);
    put16(p, qd);
    put16(p, an);
    put16(p, ns);
    put16(p, ar);
}
#define PUTS(p, s) put(p, s, sizeof(s) - 1)

/* www.Example.COM IN A, EDNS 4096 DO, with an EDE option (as a reply would carry) */
static void query_www(struct pkt *p, bool edns)
{
    hdr(p, 0x1234, CW_DNS_F_RD, 1, 0, 0, edns ? 1 : 0);
    PUTS(p, "\3www\7Example\3COM\0");
    put16(p, CW_DNS_T_A);
    put16(p, CW_DNS_C_IN);
    if (edns) {
        PUTS(p, "\0");
        put16(p, CW_DNS_T_OPT);
        put16(p, 4096);
        put32(p, 0x8000);
        put16(p, 4 + 2 + 3);
        put16(p, CW_DNS_OPT_EDE);
        put16(p, 5);
        put16(p, 15);
        PUTS(p, "abc");
    }
}

static void test_parse_query(void)
{
    struct pkt p;
    struct cw_dns_msg m;
    query_www(&p, true);
    CHECK_EQ_INT(cw_dns_msg_parse(&m, p.b, p.n), 0);
    CHECK_EQ_INT(m.id, 0x1234);
    CHECK(m.has_question);
    CHECK_EQ_INT(m.qtype, CW_DNS_T_A);
    CHECK_EQ_INT(m.qname_len, 17);
    CHECK(memcmp(m.qname, "\3www\7example\3com\0", 17) == 0);
    CHECK(m.edns.present && m.edns.do_bit);
    CHECK_EQ_INT(m.edns.udp_size, 4096);
    CHECK(m.edns.has_ede);
    CHECK_EQ_INT(m.edns.ede_code, 15);
    CHECK_EQ_MEM((const char *)p.b + m.edns.ede_text_off, m.edns.ede_text_len, "abc");
    CHECK_EQ_INT(cw_dns_msg_udp_limit(&m, 1232), 1232);
    query_www(&p, false);
    CHECK_EQ_INT(cw_dns_msg_parse(&m, p.b, p.n), 0);
    CHECK(!m.edns.present);
    CHECK_EQ_INT(cw_dns_msg_udp_limit(&m, 1232), 512);
}

static void expect_err(struct pkt *p, int err, const char *what)
{
    struct cw_dns_msg m;
    int rc = cw_dns_msg_parse(&m, p->b, p->n);
    if (rc != err)
        fprintf(stderr, "hostile case '%s': got %d (%s)\n", what, rc, cw_dns_strerror(rc));
    CHECK_EQ_INT(rc, err);
}

static void test_hostile(void)
{
    struct pkt p;
    hdr(&p, 1, 0, 1, 0, 0, 0);
    p.n = 11;
    expect_err(&p, CW_DNS_E_SHORT_HDR, "short header");

    hdr(&p, 1, 0, 1, 0, 0, 0);
    expect_err(&p, CW_DNS_E_COUNTS, "qdcount without question");

    hdr(&p, 1, 0, 1, 0, 0, 0);
    PUTS(&p, "\xC0\x0C\0\1\0\1");
    expect_err(&p, CW_DNS_E_PTR_LOOP, "pointer to itself");

    hdr(&p, 1, 0, 1, 0, 0, 0);
    PUTS(&p, "\1a\xC0\x0C\0\1\0\1");
    expect_err(&p, CW_DNS_E_PTR_LOOP, "pointer back into its own name");

    hdr(&p, 1, 0, 1, 0, 0, 0);
    PUTS(&p, "\xC0\x12\0\1\0\1\1a\0");
    expect_err(&p, CW_DNS_E_PTR_FORWARD, "forward pointer");

    /* the answer owner at 19 ends in a pointer back to its own first label */
    hdr(&p, 1, 0, 1, 1, 0, 0);
    PUTS(&p, "\1a\0\0\1\0\1");               /* question at 12..18 */
    PUTS(&p, "\1b\xC0\x13\0\1\0\1\0\0\0\0\0\0");
    expect_err(&p, CW_DNS_E_PTR_LOOP, "pointer loop");

    hdr(&p, 1, 0, 1, 0, 0, 0);
    put(&p, "\x40", 1);
    for (int i = 0; i < 64; i++)
        put(&p, "x", 1);
    PUTS(&p, "\0\0\1\0\1");
    expect_err(&p, CW_DNS_E_LABEL_LEN, "label of 64");

    hdr(&p, 1, 0, 1, 0, 0, 0);
    PUTS(&p, "\x80\x01\0\0\0");
    expect_err(&p, CW_DNS_E_LABEL_TYPE, "reserved label type");

    hdr(&p, 1, 0, 1, 0, 0, 0);
    for (int l = 0; l < 4; l++) {
        put(&p, "\x3f", 1);
        for (int i = 0; i < 63; i++)
            put(&p, "y", 1);
    }
    PUTS(&p, "\0\0\1\0\1");
    expect_err(&p, CW_DNS_E_NAME_LEN, "name of 257");

    hdr(&p, 1, 0, 1, 0, 0, 0);
    PUTS(&p, "\3www\7exa");
    expect_err(&p, CW_DNS_E_TRUNC_NAME, "name cut short");

    query_www(&p, false);
    p.n -= 2;
    expect_err(&p, CW_DNS_E_TRUNC_RR, "question cut short");

    hdr(&p, 1, CW_DNS_F_QR, 1, 1, 0, 0);
    PUTS(&p, "\1a\0\0\1\0\1\xC0\x0C\0\1\0\1\0\0\0\x3c\0\4\1\2");
    expect_err(&p, CW_DNS_E_TRUNC_RR, "RDATA cut short");

    hdr(&p, 1, CW_DNS_F_QR, 1, 1, 0, 0);
    PUTS(&p, "\1a\0\0\1\0\1\xC0\x0C\0\1\0\1\0\0");
    expect_err(&p, CW_DNS_E_COUNTS, "RR fixed part cut short (less than 11 bytes left)");

    hdr(&p, 1, CW_DNS_F_QR, 1, 1, 0, 0);
    PUTS(&p, "\1a\0\0\1\0\1\xC0\x0C\0\1\0\1\0\0\0\x3c");
    PUTS(&p, "\0");
    expect_err(&p, CW_DNS_E_TRUNC_RR, "RR fixed part cut short");

    hdr(&p, 1, CW_DNS_F_QR, 1, 0xFFFF, 0, 0);
    PUTS(&p, "\1a\0\0\1\0\1");
    expect_err(&p, CW_DNS_E_COUNTS, "ancount 65535");

    /* EDNS: OPT RDLEN beyond the packet, option overrun, two OPTs, OPT in answer */
    query_www(&p, true);
    p.b[p.n - 11] = 0xFF;
    expect_err(&p, CW_DNS_E_TRUNC_RR, "OPT RDLEN past the end");
    query_www(&p, true);
    p.b[p.n - 6] = 0x40;
    expect_err(&p, CW_DNS_E_EDNS, "EDNS option overrun");
    query_www(&p, true);
    p.b[11] = 2;
    PUTS(&p, "\0\0\x29\x10\0\0\0\0\0\0\0");
    expect_err(&p, CW_DNS_E_EDNS, "two OPT records");
    hdr(&p, 1, CW_DNS_F_QR, 1, 1, 0, 0);
    PUTS(&p, "\1a\0\0\1\0\1\0\0\x29\x10\0\0\0\0\0\0\0");
    expect_err(&p, CW_DNS_E_EDNS, "OPT in the answer section");
    hdr(&p, 1, CW_DNS_F_QR, 1, 0, 0, 1);
    PUTS(&p, "\1a\0\0\1\0\1\1a\0\0\x29\x10\0\0\0\0\0\0\0");
    expect_err(&p, CW_DNS_E_EDNS, "OPT owner not root");

    /* every prefix of a valid response is an error or a shorter valid message */
    query_www(&p, true);
    for (size_t n = 0; n < p.n; n++) {
        struct cw_dns_msg m;
        CHECK(cw_dns_msg_parse(&m, p.b, n) != 0);
    }
}

/* -- building ------------------------------------------------------------- */

static void test_build_ede(void)
{
    struct pkt q;
    struct cw_dns_msg m, r;
    uint8_t out[1500];
    size_t n;
    query_www(&q, true);
    CHECK_EQ_INT(cw_dns_msg_parse(&m, q.b, q.n), 0);
    const char *text = "rpz.example bad.example";
    CHECK_EQ_INT(cw_dns_reply_rcode(out, sizeof(out), 1232, &m, CW_DNS_R_NXDOMAIN,
                                    CW_DNS_EDE_BLOCKED, text, &n),
                 0);
    /* header: id, QR RD RA NXDOMAIN, 1 question, 0, 0, 1 additional */
    static const uint8_t h[12] = {0x12, 0x34, 0x81, 0x83, 0, 1, 0, 0, 0, 0, 0, 1};
    CHECK(memcmp(out, h, 12) == 0);
    /* question copied with the client's case */
    CHECK(memcmp(out + 12, "\3www\7Example\3COM\0\0\1\0\1", 21) == 0);
    /* OPT: root, type 41, udp 1232, ext-rcode 0 version 0 DO, rdlen, EDE option */
    uint8_t opt[64] = {0, 0, 41, 0x04, 0xD0, 0, 0, 0x80, 0, 0, 4 + 2 + 23,
                       0, 15, 0, 2 + 23, 0, 15};
    memcpy(opt + 17, text, 23);
    CHECK_EQ_INT(n, 33 + 17 + 23);
    CHECK(memcmp(out + 33, opt, 17 + 23) == 0);
    CHECK_EQ_INT(cw_dns_msg_parse(&r, out, n), 0);
    CHECK_EQ_INT(r.rcode, CW_DNS_R_NXDOMAIN);
    CHECK(r.edns.has_ede && r.edns.ede_code == 15);
    CHECK_EQ_MEM((const char *)out + r.edns.ede_text_off, r.edns.ede_text_len, text);

    /* Filtered (17), no text; REFUSED */
    CHECK_EQ_INT(cw_dns_reply_rcode(out, sizeof(out), 1232, &m, CW_DNS_R_REFUSED,
                                    CW_DNS_EDE_FILTERED, NULL, &n), 0);
    CHECK_EQ_INT(cw_dns_msg_parse(&r, out, n), 0);
    CHECK(r.rcode == CW_DNS_R_REFUSED && r.edns.ede_code == 17 && r.edns.ede_text_len == 0);

    /* no EDNS in the query: no OPT, so no EDE (RFC 8914 3) */
    query_www(&q, false);
    CHECK_EQ_INT(cw_dns_msg_parse(&m, q.b, q.n), 0);
    CHECK_EQ_INT(cw_dns_reply_rcode(out, sizeof(out), 512, &m, CW_DNS_R_SERVFAIL, 15, "x", &n), 0);
    CHECK_EQ_INT(cw_dns_msg_parse(&r, out, n), 0);
    CHECK(!r.edns.present && r.rcode == CW_DNS_R_SERVFAIL && r.arcount == 0);

    /* a query whose question could not be read: FORMERR without question */
    struct cw_dns_msg bad;
    memset(&bad, 0, sizeof(bad));
    bad.id = 7;
    CHECK_EQ_INT(cw_dns_reply_rcode(out, sizeof(out), 512, &bad, CW_DNS_R_FORMERR, -1, NULL, &n), 0);
    CHECK_EQ_INT(n, 12);
    CHECK_EQ_INT(cw_dns_msg_parse(&r, out, n), 0);
    CHECK(r.rcode == CW_DNS_R_FORMERR && r.qdcount == 0);
}

static void test_build_local_data(void)
{
    struct pkt q;
    struct cw_dns_msg m, r;
    struct cw_dns_builder b;
    uint8_t out[1500];
    size_t n;
    query_www(&q, true);
    CHECK_EQ_INT(cw_dns_msg_parse(&m, q.b, q.n), 0);
    CHECK_EQ_INT(cw_dns_build_reply(&b, out, sizeof(out), 1232, &m, 0, CW_DNS_F_RA | CW_DNS_F_AA,
                                    1232), 0);
    const uint8_t a4[4] = {192, 0, 2, 1}, a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
    CHECK_EQ_INT(cw_dns_build_a(&b, 60, a4), 0);
    CHECK_EQ_INT(cw_dns_build_aaaa(&b, 60, a6), 0);
    CHECK_EQ_INT(cw_dns_build_cname(&b, 60, (const uint8_t *)"\5block\4page\0", 12), 0);
    CHECK_EQ_INT(cw_dns_build_txt(&b, 60, "blocked by policy", 17), 0);
    cw_dns_build_ede(&b, CW_DNS_EDE_BLOCKED, "list-1 ind-42", 13, false);
    CHECK_EQ_INT(cw_dns_build_finish(&b, &n), 0);
    CHECK_EQ_INT(cw_dns_msg_parse(&r, out, n), 0);
    CHECK_EQ_INT(r.ancount, 4);
    CHECK(r.flags & CW_DNS_F_AA);
    CHECK(!(r.flags & CW_DNS_F_TC));
    CHECK_EQ_INT(r.rr[0].type, CW_DNS_T_A);
    CHECK(memcmp(cw_dns_rr_rdata(&r, &r.rr[0]), a4, 4) == 0);
    CHECK_EQ_INT(r.rr[1].type, CW_DNS_T_AAAA);
    CHECK(memcmp(cw_dns_rr_rdata(&r, &r.rr[1]), a6, 16) == 0);
    CHECK_EQ_INT(r.rr[2].type, CW_DNS_T_CNAME);
    CHECK_EQ_INT(r.rr[3].type, CW_DNS_T_TXT);
    CHECK(memcmp(cw_dns_rr_rdata(&r, &r.rr[3]), "\x11" "blocked by policy", 18) == 0);
    /* owners are compressed to the question, and decompress to it */
    uint8_t name[CW_DNS_NAME_MAX];
    size_t nl;
    CHECK_EQ_INT(r.rr[0].name_off + 0, 12 + 21);
    CHECK_EQ_INT(cw_dns_name_unpack(out, n, r.rr[2].name_off, true, name, &nl, NULL), 0);
    CHECK(nl == 17 && memcmp(name, "\3www\7example\3com\0", 17) == 0);
    CHECK(r.edns.present && r.edns.ede_code == 15);
    CHECK_EQ_MEM((const char *)out + r.edns.ede_text_off, r.edns.ede_text_len, "list-1 ind-42");
}

static void test_truncation(void)
{
    struct pkt q;
    struct cw_dns_msg m, r;
    struct cw_dns_builder b;
    uint8_t out[4096];
    size_t n;
    query_www(&q, true);
    CHECK_EQ_INT(cw_dns_msg_parse(&m, q.b, q.n), 0);
    CHECK_EQ_INT(cw_dns_build_reply(&b, out, sizeof(out), 512, &m, 0, CW_DNS_F_RA, 1232), 0);
    for (int i = 0; i < 40; i++) {
        uint8_t a[4] = {10, 0, 0, (uint8_t)i};
        CHECK_EQ_INT(cw_dns_build_a(&b, 300, a), 0);
    }
    CHECK_EQ_INT(cw_dns_build_finish(&b, &n), 0);
    CHECK(n <= 512);
    CHECK_EQ_INT(cw_dns_msg_parse(&r, out, n), 0);
    CHECK(r.flags & CW_DNS_F_TC);
    CHECK(r.ancount > 0 && r.ancount < 40);
    CHECK(r.edns.present);

    /* the same answer unrestricted, then truncated in place for a 512-byte client */
    CHECK_EQ_INT(cw_dns_build_reply(&b, out, sizeof(out), 65535, &m, 0, CW_DNS_F_RA, 1232), 0);
    for (int i = 0; i < 40; i++) {
        uint8_t a[4] = {10, 0, 0, (uint8_t)i};
        cw_dns_build_a(&b, 300, a);
    }
    CHECK_EQ_INT(cw_dns_build_finish(&b, &n), 0);
    CHECK(n > 512);
    CHECK_EQ_INT(cw_dns_msg_parse(&r, out, n), 0);
    CHECK_EQ_INT(r.ancount, 40);
    size_t n2;
    CHECK_EQ_INT(cw_dns_truncate(out, n, 512, &n2), 0);
    CHECK(n2 <= 512);
    CHECK_EQ_INT(cw_dns_msg_parse(&r, out, n2), 0);
    CHECK(r.flags & CW_DNS_F_TC);
    CHECK_EQ_INT(r.ancount, 0);
    CHECK(r.edns.present && r.edns.do_bit);

    /* TTL rewriting: age and serve-stale; OPT's TTL field (flags) untouched */
    CHECK_EQ_INT(cw_dns_build_reply(&b, out, sizeof(out), 65535, &m, 0, CW_DNS_F_RA, 1232), 0);
    uint8_t a[4] = {1, 2, 3, 4};
    cw_dns_build_a(&b, 300, a);
    cw_dns_build_a(&b, 50, a);
    CHECK_EQ_INT(cw_dns_build_finish(&b, &n), 0);
    uint32_t lo;
    CHECK_EQ_INT(cw_dns_ttl_age(out, n, 100, &lo), 0);
    CHECK_EQ_INT(cw_dns_msg_parse(&r, out, n), 0);
    CHECK(r.rr[0].ttl == 200 && r.rr[1].ttl == 0 && lo == 0);
    CHECK(r.edns.do_bit);
    CHECK_EQ_INT(cw_dns_ttl_set(out, n, CW_DNS_STALE_TTL), 0);
    CHECK_EQ_INT(cw_dns_msg_parse(&r, out, n), 0);
    CHECK(r.rr[0].ttl == 30 && r.rr[1].ttl == 30 && r.edns.do_bit);
    cw_dns_set_id(out, n, 0xBEEF);
    CHECK_EQ_INT(cw_dns_msg_parse(&r, out, n), 0);
    CHECK_EQ_INT(r.id, 0xBEEF);
}

static void test_names(void)
{
    uint8_t w[CW_DNS_NAME_MAX];
    size_t n;
    char t[CW_DNS_TEXT_MAX];
    CHECK_EQ_INT(cw_dns_name_from_text("a\\.b.Example.", 13, w, &n), 0);
    CHECK(n == 13 && memcmp(w, "\3a.b\7Example\0", 13) == 0);
    CHECK_EQ_INT(cw_dns_name_to_text(w, n, t, sizeof(t)), 13);
    CHECK_EQ_STR(t, "a\\.b.Example.");
    CHECK_EQ_INT(cw_dns_name_from_text("\\065\\032x", 9, w, &n), 0);
    CHECK(n == 5 && memcmp(w, "\3A x\0", 5) == 0);
    cw_dns_name_to_text(w, n, t, sizeof(t));
    CHECK_EQ_STR(t, "A\\032x.");
    CHECK_EQ_INT(cw_dns_name_from_text(".", 1, w, &n), 0);
    CHECK(n == 1 && w[0] == 0);
    cw_dns_name_to_text(w, n, t, sizeof(t));
    CHECK_EQ_STR(t, ".");
    CHECK_EQ_INT(cw_dns_name_from_text("a..b", 4, w, &n), CW_DNS_E_LABEL_LEN);
    CHECK_EQ_INT(cw_dns_name_from_text("\\256", 4, w, &n), CW_DNS_E_ARG);
    CHECK_EQ_INT(cw_dns_name_from_text("\\", 1, w, &n), CW_DNS_E_ARG);
    char big[400];
    memset(big, 'a', 64);
    CHECK_EQ_INT(cw_dns_name_from_text(big, 64, w, &n), CW_DNS_E_LABEL_LEN);
    for (int i = 0; i < 400; i++)
        big[i] = (i % 50 == 49) ? '.' : 'b';
    CHECK_EQ_INT(cw_dns_name_from_text(big, 300, w, &n), CW_DNS_E_NAME_LEN);
    CHECK_EQ_INT(cw_dns_name_from_text(big, 250, w, &n), 0);
    CHECK_EQ_INT(n, 251);
    CHECK_EQ_INT(cw_dns_name_labels((const uint8_t *)"\1a\2bc\0", 6), 2);
    CHECK(cw_dns_name_is_sub((const uint8_t *)"\1a\2bc\0", 6, (const uint8_t *)"\2bc\0", 4));
    CHECK(!cw_dns_name_is_sub((const uint8_t *)"\1a\2bc\0", 6, (const uint8_t *)"\1c\0", 3));
    CHECK(cw_dns_name_is_sub((const uint8_t *)"\1a\0", 3, (const uint8_t *)"\0", 1));
    CHECK_EQ_INT(cw_dns_name_to_text((const uint8_t *)"\1a\2bc", 5, t, sizeof(t)), -1);
}

int main(void)
{
    test_pcaps();
    test_parse_query();
    test_hostile();
    test_build_ede();
    test_build_local_data();
    test_truncation();
    test_names();
    return cw_test_finish("test_dns_msg");
}
