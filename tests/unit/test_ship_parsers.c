/* test_ship_parsers.c - the ship's parsers of outside input: spool header, state
 * file, syslog TCP framing, the center's reply; and the backoff bounds. */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "ship/backoff.h"
#include "ship/frame.h"
#include "ship/reply.h"
#include "ship/spool.h"
#include "ship/state.h"
#include "testlib.h"

static void test_spool_header(void)
{
    struct cw_spool_hdr h, p;
    memset(&h, 0, sizeof(h));
    h.seq = 42;
    memcpy(h.instance, "0123456789abcdef0123456789abcdef", 33);
    snprintf(h.input, sizeof(h.input), "file:/var/log/a b:c.log");
    snprintf(h.format, sizeof(h.format), "combined");
    h.lines = 5000;
    h.raw = 123;
    h.end_offset = UINT64_MAX;
    h.dev = 2049;
    h.ino = 7;
    h.body = 5;
    struct cw_buf b = CW_BUF_INIT;
    CHECK_EQ_INT(cw_spool_hdr_encode(&h, &b), 0);
    cw_buf_add(&b, "BODY!", 5);
    size_t off;
    CHECK_EQ_INT(cw_spool_hdr_parse(b.data, b.len, &p, &off), 0);
    CHECK_EQ_INT(p.seq, 42);
    CHECK_EQ_STR(p.input, "file:/var/log/a b:c.log");
    CHECK_EQ_STR(p.format, "combined");
    CHECK(p.end_offset == UINT64_MAX);
    CHECK_EQ_INT(p.ino, 7);
    CHECK_EQ_MEM(b.data + off, 5, "BODY!");
    /* body length must match; every truncation of the header fails */
    CHECK_EQ_INT(cw_spool_hdr_parse(b.data, b.len - 1, &p, &off), -1);
    for (size_t n = 0; n < off; n++)
        CHECK_EQ_INT(cw_spool_hdr_parse(b.data, n, &p, &off) == 0 && n != off, 0);
    const char *bad[] = {
        "crosswatch-spool 2\n",
        "crosswatch-spool 1\nseq -1\n",
        "crosswatch-spool 1\nseq 99999999999999999999\n",
        "crosswatch-spool 1\nseq 1\ninstance 0123456789ABCDEF0123456789abcdef\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ_INT(cw_spool_hdr_parse(bad[i], strlen(bad[i]), &p, &off), -1);
    snprintf(h.input, sizeof(h.input), "bad\nid");
    cw_buf_clear(&b);
    CHECK_EQ_INT(cw_spool_hdr_encode(&h, &b), -1);
    cw_buf_release(&b);
}

static void test_state(void)
{
    struct cw_ship_state s, p;
    cw_ship_state_init(&s);
    cw_ship_state_init(&p);
    CHECK_EQ_INT(cw_ship_state_new_instance(s.instance), 0);
    CHECK_EQ_INT(strlen(s.instance), 32);
    s.next_seq = 17;
    CHECK_EQ_INT(cw_ship_state_set(&s, "/var/log/a.log", 1, 2, 3), 0);
    CHECK_EQ_INT(cw_ship_state_set(&s, "/var/log/with space.log", 4, 5, 6), 0);
    CHECK_EQ_INT(cw_ship_state_set(&s, "/var/log/a.log", 1, 2, 99), 0);
    struct cw_buf b = CW_BUF_INIT;
    CHECK_EQ_INT(cw_ship_state_encode(&s, &b), 0);
    CHECK_EQ_INT(cw_ship_state_parse(b.data, b.len, &p), 0);
    CHECK_EQ_INT(p.next_seq, 17);
    CHECK_EQ_STR(p.instance, s.instance);
    CHECK_EQ_INT(p.nfiles, 2);
    struct cw_ship_file_pos *f = cw_ship_state_find(&p, "/var/log/with space.log");
    CHECK(f && f->dev == 4 && f->ino == 5 && f->offset == 6);
    f = cw_ship_state_find(&p, "/var/log/a.log");
    CHECK(f && f->offset == 99);
    cw_ship_state_release(&p);
    /* any cut short is refused: "end" is missing */
    for (size_t n = 0; n < b.len; n++) {
        CHECK_EQ_INT(cw_ship_state_parse(b.data, n, &p), -1);
        CHECK_EQ_INT(p.nfiles, 0);
    }
    const char *dup = "crosswatch-ship-state 1\ninstance 0123456789abcdef0123456789abcdef\n"
                      "next-seq 1\nfile 1 2 3 /a\nfile 1 2 3 /a\nend\n";
    CHECK_EQ_INT(cw_ship_state_parse(dup, strlen(dup), &p), -1);
    cw_buf_release(&b);
    cw_ship_state_release(&s);
}

static void collect(void *ctx, const char *m, size_t n)
{
    struct cw_buf *b = ctx;
    cw_buf_add(b, m, n);
    cw_buf_addc(b, '|');
}

static void test_frame(void)
{
    const char *in = "<1>lf one\n5 hello3 a\nb<2>crlf\r\n\n10 <3>counted<4>tail";
    const char *want = "<1>lf one|hello|a b|<2>crlf|<3>counted|<4>tail|";
    /* fed in two pieces split at every position: same messages */
    for (size_t cut = 0; cut <= strlen(in); cut++) {
        struct cw_frame f;
        struct cw_buf out = CW_BUF_INIT;
        cw_frame_init(&f);
        CHECK_EQ_INT(cw_frame_feed(&f, in, cut, 1024, collect, &out), 0);
        CHECK_EQ_INT(cw_frame_feed(&f, in + cut, strlen(in) - cut, 1024, collect, &out), 0);
        cw_frame_finish(&f, collect, &out);
        CHECK_EQ_STR(out.data, want);
        cw_buf_release(&out);
        cw_frame_release(&f);
    }
    struct cw_frame f;
    struct cw_buf out = CW_BUF_INIT;
    cw_frame_init(&f);
    CHECK_EQ_INT(cw_frame_feed(&f, "12x", 3, 1024, collect, &out), -1);
    cw_frame_release(&f);
    /* oversized: dropped and counted, the stream continues */
    cw_frame_init(&f);
    const char *big = "20 01234567890123456789<1>toolongline\n<1>ok\n5 hello";
    CHECK_EQ_INT(cw_frame_feed(&f, big, strlen(big), 8, collect, &out), 0);
    CHECK_EQ_STR(out.data, "<1>ok|hello|");
    CHECK_EQ_INT(f.oversized, 2);
    cw_frame_release(&f);
    cw_buf_release(&out);
}

static void test_reply(void)
{
    struct cw_ingest_reply r;
    const char *err;
    const char *ok = "{\"accepted\":3,\"rejected\":[{\"line\":2,\"reason\":\"missing status\"},"
                     "{\"line\":9,\"reason\":\"x\\u0001y\"}],\"duplicate\":true}";
    CHECK_EQ_INT(cw_ingest_reply_parse(ok, strlen(ok), &r, &err), 0);
    CHECK_EQ_INT(r.accepted, 3);
    CHECK_EQ_INT(r.rejected, 2);
    CHECK(r.duplicate);
    CHECK_EQ_INT(r.reject[0].line, 2);
    CHECK_EQ_STR(r.reject[0].reason, "missing status");
    CHECK_EQ_STR(r.reject[1].reason, "x?y");
    CHECK_EQ_INT(cw_ingest_reply_parse("{}", 2, &r, &err), -1);
    CHECK_EQ_INT(cw_ingest_reply_parse("[1]", 3, &r, &err), -1);
    char e[64];
    cw_ingest_reply_error("{\"error\":\"revoked key\"}", 23, e, sizeof(e));
    CHECK_EQ_STR(e, "revoked key");
    cw_ingest_reply_error("<html>", 6, e, sizeof(e));
    CHECK_EQ_STR(e, "");
}

static void test_backoff(void)
{
    struct cw_backoff b;
    cw_backoff_init(&b, 200, 30000);
    int64_t window = 200;
    for (int i = 0; i < 40; i++) {
        int64_t d = cw_backoff_next(&b);
        CHECK(d >= 0 && d <= window);
        window = window * 2 > 30000 ? 30000 : window * 2;
    }
    cw_backoff_reset(&b);
    CHECK(cw_backoff_next(&b) <= 200);
}

int main(void)
{
    test_spool_header();
    test_state();
    test_frame();
    test_reply();
    test_backoff();
    return cw_test_finish("test_ship_parsers");
}
