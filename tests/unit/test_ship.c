/* test_ship.c - crosswatch ship against a fake center on loopback.
 *
 * The reader and the sender are driven step by step from this thread
 * (cw_reader_step with no wait, cw_reader_flush, cw_sender_step), so every check
 * is on exact counts and contents, never on timing. A "crash" is closing the
 * reader without flushing, possibly after putting the state directory back the
 * way a crash at a chosen instant would have left it. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "ship/durable.h"
#include "ship/reader.h"
#include "ship/sender.h"
#include "ship/shared.h"
#include "ship/ship.h"
#include "ship/spool.h"
#include "ship_fake_center.h"
#include "testlib.h"

static struct fake_center center;

/* -- helpers ------------------------------------------------------------------ */

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(p);
}

static char *new_dir(void)
{
    char *d = strdup("/tmp/cw-test-ship.XXXXXX");
    if (!mkdtemp(d))
        abort();
    return d;
}

static void rm_dir(char *d)
{
    nftw(d, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(d);
}

static void append(const char *path, const char *fmt, ...)
{
    FILE *f = fopen(path, "a");
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fclose(f);
}

static void append_lines(const char *path, const char *prefix, int from, int to)
{
    FILE *f = fopen(path, "a");
    for (int i = from; i <= to; i++)
        fprintf(f, "%s %d\n", prefix, i);
    fclose(f);
}

/* Expected text "prefix from\n...prefix to\n" appended to b. */
static void expect_lines(struct cw_buf *b, const char *prefix, int from, int to)
{
    for (int i = from; i <= to; i++)
        cw_buf_addf(b, "%s %d\n", prefix, i);
}

/* The center's stored lines must be exactly the expected text. */
static void check_center(const struct cw_buf *want, size_t want_lines, int line)
{
    size_t n;
    char *got = fake_center_lines(&center, &n);
    cw_test_checks++;
    if (n != want_lines || strcmp(got, want->data ? want->data : "") != 0) {
        cw_test_failures++;
        fprintf(stderr, "test_ship.c:%d: center has %zu lines, want %zu\n--- got\n%s--- want\n%s",
                line, n, want_lines, got, want->data ? want->data : "");
    }
    free(got);
}
#define CHECK_CENTER(want, n) check_center(want, n, __LINE__)

static void reset_center(void)
{
    pthread_mutex_lock(&center.mu);
    for (size_t i = 0; i < center.nkeys; i++)
        free(center.keys[i]);
    for (size_t i = 0; i < center.nstored_keys; i++)
        free(center.stored_keys[i]);
    center.nkeys = center.nstored_keys = center.posts = center.stored_batches = center.dups = 0;
    center.reject_line = 0;
    cw_buf_clear(&center.lines);
    center.nlines = 0;
    center.status = 200;
    pthread_mutex_unlock(&center.mu);
}

/* A ship without threads: reader and sender stepped by the test. */
struct rig {
    struct cw_ship_opts o;
    struct cw_ship_shared sh;
    struct cw_reader *r;
    struct cw_sender *s;
    struct cw_ship_input_spec in[4];
    char path[4][512];
};

static void rig_opts(struct rig *g, const char *state_dir)
{
    memset(g, 0, sizeof(*g));
    cw_ship_opts_default(&g->o);
    g->o.center = center.url;
    g->o.key = "cwk_test";
    g->o.state_dir = state_dir;
    g->o.batch_lines = 10;
    g->o.flush_ms = 3600 * 1000; /* never by time: tests flush explicitly */
    g->o.status_ms = 0;
    g->o.inputs = g->in;
}

static void rig_file(struct rig *g, const char *path)
{
    size_t i = g->o.ninputs++;
    snprintf(g->path[i], sizeof(g->path[i]), "%s", path);
    g->in[i] = (struct cw_ship_input_spec){CW_INPUT_FILE, "combined", g->path[i]};
}

static bool rig_start(struct rig *g)
{
    char err[512];
    if (cw_ship_shared_init(&g->sh))
        return false;
    g->r = cw_reader_open(&g->o, &g->sh, err, sizeof(err));
    if (!g->r) {
        fprintf(stderr, "reader: %s\n", err);
        return false;
    }
    g->s = cw_sender_new(&g->o, &g->sh);
    return g->s != NULL;
}

/* Crash: nothing flushed, nothing saved beyond what already is on disk. */
static void rig_crash(struct rig *g)
{
    cw_sender_free(g->s);
    cw_reader_close(g->r);
    cw_ship_shared_release(&g->sh);
    g->r = NULL;
    g->s = NULL;
}

static void read_all(struct rig *g)
{
    for (int i = 0; i < 8; i++)
        cw_reader_step(g->r, 0);
}

/* Send until the spool has nothing sendable; returns batches acknowledged. */
static int send_all(struct rig *g)
{
    int n = 0;
    enum cw_send_result r;
    while ((r = cw_sender_step(g->s)) == CW_SEND_OK)
        n++;
    CHECK_EQ_INT(r, CW_SEND_IDLE);
    return n;
}

static uint64_t spooled(const struct rig *g)
{
    return atomic_load(&g->sh.spool.batches);
}

/* -- tests --------------------------------------------------------------------- */

static void test_file_exactly_once(void)
{
    char *dir = new_dir(), log[600], st[600];
    snprintf(log, sizeof(log), "%s/access.log", dir);
    snprintf(st, sizeof(st), "%s/state", dir);
    append_lines(log, "a", 1, 25);
    append(log, "partial without newline");
    struct rig g;
    struct cw_buf want = CW_BUF_INIT;
    rig_opts(&g, st);
    rig_file(&g, log);
    CHECK(rig_start(&g));
    read_all(&g);
    CHECK_EQ_INT(spooled(&g), 2); /* 10 + 10, 5 pending */
    CHECK_EQ_INT(cw_reader_flush(g.r), 0);
    CHECK_EQ_INT(spooled(&g), 3);
    CHECK_EQ_INT(send_all(&g), 3);
    CHECK_EQ_INT(spooled(&g), 0);
    expect_lines(&want, "a", 1, 25);
    CHECK_CENTER(&want, 25);
    CHECK_EQ_STR(center.last_format, "combined");
    CHECK_EQ_STR(center.last_auth, "Bearer cwk_test");
    /* the partial line is completed later: it goes out whole, once */
    append(log, " now complete\n");
    append_lines(log, "b", 1, 3);
    read_all(&g);
    cw_reader_flush(g.r);
    CHECK_EQ_INT(send_all(&g), 1);
    cw_buf_adds(&want, "partial without newline now complete\n");
    expect_lines(&want, "b", 1, 3);
    CHECK_CENTER(&want, 29);
    /* a clean restart reads nothing again */
    cw_reader_flush(g.r);
    rig_crash(&g);
    CHECK(rig_start(&g));
    read_all(&g);
    cw_reader_flush(g.r);
    CHECK_EQ_INT(send_all(&g), 0);
    append_lines(log, "c", 1, 2);
    read_all(&g);
    cw_reader_flush(g.r);
    CHECK_EQ_INT(send_all(&g), 1);
    expect_lines(&want, "c", 1, 2);
    CHECK_CENTER(&want, 31);
    CHECK_EQ_INT(center.dups, 0);
    rig_crash(&g);
    cw_buf_release(&want);
    reset_center();
    rm_dir(dir);
}

static void test_rotation(void)
{
    char *dir = new_dir(), log[600], old[600], st[600];
    snprintf(log, sizeof(log), "%s/app.log", dir);
    snprintf(old, sizeof(old), "%s/app.log.1", dir);
    snprintf(st, sizeof(st), "%s/state", dir);
    append_lines(log, "old", 1, 12);
    struct rig g;
    struct cw_buf want = CW_BUF_INIT;
    rig_opts(&g, st);
    rig_file(&g, log);
    CHECK(rig_start(&g));
    read_all(&g);
    /* rotate: rename, the writer still appends to the old file (last line
     * without LF), then a new file appears */
    CHECK_EQ_INT(rename(log, old), 0);
    append_lines(old, "old", 13, 15);
    append(old, "old tail");
    append_lines(log, "new", 1, 4);
    read_all(&g);
    cw_reader_flush(g.r);
    send_all(&g);
    expect_lines(&want, "old", 1, 15);
    cw_buf_adds(&want, "old tail\n");
    expect_lines(&want, "new", 1, 4);
    CHECK_CENTER(&want, 20);

    /* rotation while ship is stopped: the old file is found by inode and finished */
    append_lines(log, "new", 5, 6);
    rig_crash(&g); /* new 5..6 were read into pending only: lost in memory, re-read */
    CHECK_EQ_INT(unlink(old), 0);
    CHECK_EQ_INT(rename(log, old), 0);
    append_lines(old, "new", 7, 8);
    append_lines(log, "newer", 1, 2);
    CHECK(rig_start(&g));
    read_all(&g);
    cw_reader_flush(g.r);
    send_all(&g);
    expect_lines(&want, "new", 5, 8);
    expect_lines(&want, "newer", 1, 2);
    CHECK_CENTER(&want, 26);
    rig_crash(&g);
    cw_buf_release(&want);
    reset_center();
    rm_dir(dir);
}

static void test_truncation(void)
{
    char *dir = new_dir(), log[600], st[600];
    snprintf(log, sizeof(log), "%s/app.log", dir);
    snprintf(st, sizeof(st), "%s/state", dir);
    append_lines(log, "before", 1, 20);
    struct rig g;
    struct cw_buf want = CW_BUF_INIT;
    rig_opts(&g, st);
    rig_file(&g, log);
    CHECK(rig_start(&g));
    read_all(&g);
    cw_reader_flush(g.r);
    CHECK_EQ_INT(truncate(log, 0), 0); /* copytruncate */
    append_lines(log, "after", 1, 3);
    read_all(&g);
    cw_reader_flush(g.r);
    send_all(&g);
    expect_lines(&want, "before", 1, 20);
    expect_lines(&want, "after", 1, 3);
    CHECK_CENTER(&want, 23);
    rig_crash(&g);
    cw_buf_release(&want);
    reset_center();
    rm_dir(dir);
}

static void test_center_down(void)
{
    char *dir = new_dir(), log[600], st[600];
    snprintf(log, sizeof(log), "%s/app.log", dir);
    snprintf(st, sizeof(st), "%s/state", dir);
    struct rig g;
    struct cw_buf want = CW_BUF_INIT;
    rig_opts(&g, st);
    rig_file(&g, log);
    /* a port where nothing listens: connection refused */
    int hole = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    bind(hole, (struct sockaddr *)&a, sizeof(a));
    getsockname(hole, (struct sockaddr *)&a, &al);
    char refused_url[64];
    snprintf(refused_url, sizeof(refused_url), "http://127.0.0.1:%u", ntohs(a.sin_port));
    g.o.center = refused_url;
    CHECK(rig_start(&g));
    append_lines(log, "x", 1, 30);
    read_all(&g);
    CHECK_EQ_INT(cw_sender_step(g.s), CW_SEND_RETRY);
    CHECK_EQ_INT(atomic_load(&g.sh.problem), CW_CENTER_UNREACHABLE);
    CHECK_EQ_INT(spooled(&g), 3);
    /* the center is up but failing: 503, still spooling */
    cw_sender_free(g.s);
    g.o.center = center.url;
    g.s = cw_sender_new(&g.o, &g.sh);
    fake_center_set_status(&center, 503);
    append_lines(log, "x", 31, 45);
    read_all(&g);
    CHECK_EQ_INT(cw_sender_step(g.s), CW_SEND_RETRY);
    CHECK_EQ_INT(cw_sender_step(g.s), CW_SEND_RETRY);
    cw_reader_flush(g.r);
    CHECK_EQ_INT(spooled(&g), 5);
    CHECK_EQ_INT(center.nlines, 0);
    /* back: drains in order, each batch stored once though tried before */
    fake_center_set_status(&center, 200);
    CHECK_EQ_INT(send_all(&g), 5);
    CHECK_EQ_INT(spooled(&g), 0);
    expect_lines(&want, "x", 1, 45);
    CHECK_CENTER(&want, 45);
    CHECK_EQ_INT(center.stored_batches, 5);
    CHECK_EQ_INT(atomic_load(&g.sh.problem), CW_CENTER_OK);
    close(hole);
    rig_crash(&g);
    cw_buf_release(&want);
    reset_center();
    rm_dir(dir);
}

static void test_refused_key_and_format(void)
{
    char *dir = new_dir(), log[600], st[600];
    snprintf(log, sizeof(log), "%s/app.log", dir);
    snprintf(st, sizeof(st), "%s/state", dir);
    append_lines(log, "k", 1, 5);
    struct rig g;
    rig_opts(&g, st);
    rig_file(&g, log);
    CHECK(rig_start(&g));
    read_all(&g);
    cw_reader_flush(g.r);
    fake_center_set_status(&center, 401);
    CHECK_EQ_INT(cw_sender_step(g.s), CW_SEND_AUTH);
    CHECK_EQ_INT(atomic_load(&g.sh.problem), CW_CENTER_AUTH);
    fake_center_set_status(&center, 400);
    CHECK_EQ_INT(cw_sender_step(g.s), CW_SEND_FORMAT);
    CHECK_EQ_INT(spooled(&g), 1); /* kept */
    /* 413: set aside, counted, not retried */
    fake_center_set_status(&center, 413);
    CHECK_EQ_INT(cw_sender_step(g.s), CW_SEND_SET_ASIDE);
    CHECK_EQ_INT(spooled(&g), 0);
    CHECK_EQ_INT(atomic_load(&g.sh.batches_too_large), 1);
    char rej[700];
    snprintf(rej, sizeof(rej), "%s/spool/rejected/0000000000000001.batch", st);
    CHECK(access(rej, F_OK) == 0);
    CHECK_EQ_INT(cw_sender_step(g.s), CW_SEND_IDLE);
    /* rejected lines inside an accepted batch are counted */
    fake_center_set_status(&center, 200);
    center.reject_line = 2;
    g.o.verbose = true;
    append_lines(log, "k", 6, 8);
    read_all(&g);
    cw_reader_flush(g.r);
    CHECK_EQ_INT(send_all(&g), 1);
    CHECK_EQ_INT(atomic_load(&g.sh.lines_rejected), 1);
    CHECK_EQ_INT(atomic_load(&g.sh.lines_accepted), 2);
    rig_crash(&g);
    reset_center();
    rm_dir(dir);
}

/* The center stored a batch and answered 200, but ship died before deleting it:
 * at restart the batch is sent again with the same Idempotency-Key. */
static void test_resend_after_crash_before_delete(void)
{
    char *dir = new_dir(), log[600], st[600], batch[700];
    snprintf(log, sizeof(log), "%s/app.log", dir);
    snprintf(st, sizeof(st), "%s/state", dir);
    snprintf(batch, sizeof(batch), "%s/spool/0000000000000001.batch", st);
    append_lines(log, "d", 1, 7);
    struct rig g;
    struct cw_buf want = CW_BUF_INIT;
    rig_opts(&g, st);
    rig_file(&g, log);
    CHECK(rig_start(&g));
    read_all(&g);
    cw_reader_flush(g.r);
    size_t n;
    char *copy = NULL;
    CHECK_EQ_INT(cw_durable_read(batch, 1 << 20, &copy, &n), 0);
    CHECK_EQ_INT(send_all(&g), 1);
    CHECK(access(batch, F_OK) != 0);
    rig_crash(&g);
    /* put the file back: the state of the disk had the unlink not happened */
    char sd[700];
    snprintf(sd, sizeof(sd), "%s/spool", st);
    CHECK_EQ_INT(cw_durable_write(sd, "0000000000000001.batch", copy, n), 0);
    free(copy);
    CHECK(rig_start(&g));
    read_all(&g);
    cw_reader_flush(g.r);
    CHECK_EQ_INT(spooled(&g), 1);
    CHECK_EQ_INT(send_all(&g), 1);
    CHECK_EQ_INT(spooled(&g), 0);
    CHECK_EQ_INT(center.dups, 1);
    CHECK_EQ_INT(atomic_load(&g.sh.duplicates), 1);
    CHECK_EQ_INT(center.nkeys, 2);
    CHECK_EQ_INT(center.nstored_keys, 1);
    CHECK_EQ_INT(fake_center_count_key(&center, center.keys[0]), 2);
    expect_lines(&want, "d", 1, 7);
    CHECK_CENTER(&want, 7);
    rig_crash(&g);
    cw_buf_release(&want);
    reset_center();
    rm_dir(dir);
}

/* Crash between the batch write and the state write; and a crash with lines
 * read but not batched. */
static void test_crash_recovery(void)
{
    char *dir = new_dir(), log[600], st[600], statef[700];
    snprintf(log, sizeof(log), "%s/app.log", dir);
    snprintf(st, sizeof(st), "%s/state", dir);
    snprintf(statef, sizeof(statef), "%s/state", st);
    append_lines(log, "r", 1, 10);
    struct rig g;
    struct cw_buf want = CW_BUF_INIT;
    rig_opts(&g, st);
    rig_file(&g, log);
    CHECK(rig_start(&g));
    read_all(&g); /* batch 1 = r1..r10, state next-seq 2 */
    CHECK_EQ_INT(spooled(&g), 1);
    CHECK_EQ_INT(atomic_load(&g.sh.persisted_next_seq), 2);
    size_t n;
    char *old_state = NULL;
    CHECK_EQ_INT(cw_durable_read(statef, 1 << 20, &old_state, &n), 0);
    append_lines(log, "r", 11, 20);
    read_all(&g); /* batch 2 = r11..r20 */
    CHECK_EQ_INT(spooled(&g), 2);
    rig_crash(&g);
    /* the disk as a crash after batch 2's rename, before its state write, leaves it */
    CHECK_EQ_INT(cw_durable_write(st, "state", old_state, n), 0);
    free(old_state);
    CHECK(rig_start(&g));
    CHECK_EQ_INT(atomic_load(&g.sh.persisted_next_seq), 3);
    append_lines(log, "r", 21, 25);
    read_all(&g);
    cw_reader_flush(g.r); /* batch 3 = r21..r25 only */
    CHECK_EQ_INT(spooled(&g), 3);
    /* crash with lines pending in memory: they are read again, not lost */
    append_lines(log, "r", 26, 28);
    read_all(&g);
    rig_crash(&g);
    CHECK(rig_start(&g));
    read_all(&g);
    cw_reader_flush(g.r);
    CHECK_EQ_INT(send_all(&g), 4);
    expect_lines(&want, "r", 1, 28);
    CHECK_CENTER(&want, 28);
    CHECK_EQ_INT(center.dups, 0);
    rig_crash(&g);
    cw_buf_release(&want);
    reset_center();
    rm_dir(dir);
}

static void test_spool_full(void)
{
    char *dir = new_dir(), log[600], st[600];
    snprintf(log, sizeof(log), "%s/app.log", dir);
    snprintf(st, sizeof(st), "%s/state", dir);
    append_lines(log, "f", 1, 35);
    struct rig g;
    struct cw_buf want = CW_BUF_INIT;
    rig_opts(&g, st);
    rig_file(&g, log);
    g.o.spool_max = 1; /* one batch fills it */
    CHECK(rig_start(&g));
    read_all(&g);
    CHECK_EQ_INT(spooled(&g), 1);
    CHECK_EQ_INT(atomic_load(&g.sh.lines_read), 10); /* the file is the buffer */
    read_all(&g);
    CHECK_EQ_INT(spooled(&g), 1);
    int sent = 0;
    for (int round = 0; round < 10 && sent < 4; round++) {
        sent += send_all(&g);
        read_all(&g);
        cw_reader_flush(g.r);
        CHECK(spooled(&g) <= 1);
    }
    CHECK_EQ_INT(sent, 4);
    expect_lines(&want, "f", 1, 35);
    CHECK_CENTER(&want, 35);
    rig_crash(&g);
    cw_buf_release(&want);
    reset_center();
    rm_dir(dir);
}

static int udp_send(uint16_t port, const char *msg)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ssize_t w = sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&a, sizeof(a));
    close(fd);
    return w == (ssize_t)strlen(msg) ? 0 : -1;
}

static void step_until_lines(struct rig *g, uint64_t lines)
{
    for (int i = 0; i < 500 && atomic_load(&g->sh.lines_read) < lines; i++)
        cw_reader_step(g->r, 10);
}

static void test_syslog(void)
{
    char *dir = new_dir(), st[600];
    snprintf(st, sizeof(st), "%s/state", dir);
    struct rig g;
    rig_opts(&g, st);
    g.in[0] = (struct cw_ship_input_spec){CW_INPUT_SYSLOG_UDP, "syslog", "127.0.0.1:0"};
    g.in[1] = (struct cw_ship_input_spec){CW_INPUT_SYSLOG_TCP, "syslog", "127.0.0.1:0"};
    g.o.ninputs = 2;
    CHECK(rig_start(&g));
    uint16_t up = cw_reader_port(g.r, 0), tp = cw_reader_port(g.r, 1);
    CHECK(up != 0 && tp != 0);
    CHECK_EQ_INT(udp_send(up, "<13>Oct 11 22:14:15 host app: udp one"), 0);
    CHECK_EQ_INT(udp_send(up, "<13>Oct 11 22:14:15 host app: udp two\n"), 0);
    step_until_lines(&g, 2);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(tp),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK_EQ_INT(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    const char *stream = "<13>lf framed one\n"
                         "19 <13>octet\ncounted 1"
                         "<13>lf framed two\r\n"
                         "14 <13>octet two\n"
                         "<13>unterminated at close";
    CHECK_EQ_INT(write(fd, stream, strlen(stream)), (long)strlen(stream));
    close(fd);
    step_until_lines(&g, 7);
    CHECK_EQ_INT(atomic_load(&g.sh.lines_read), 7);
    cw_reader_flush(g.r);
    CHECK_EQ_INT(send_all(&g), 2);
    size_t n;
    char *got = fake_center_lines(&center, &n);
    CHECK_EQ_INT(n, 7);
    CHECK_EQ_STR(got, "<13>Oct 11 22:14:15 host app: udp one\n"
                      "<13>Oct 11 22:14:15 host app: udp two\n"
                      "<13>lf framed one\n"
                      "<13>octet counted 1\n"
                      "<13>lf framed two\n"
                      "<13>octet two\n"
                      "<13>unterminated at close\n");
    CHECK_EQ_STR(center.last_format, "syslog");
    free(got);
    rig_crash(&g);

    /* spool full: UDP datagrams are dropped and counted */
    rig_opts(&g, st);
    g.in[0] = (struct cw_ship_input_spec){CW_INPUT_SYSLOG_UDP, "syslog", "127.0.0.1:0"};
    g.o.ninputs = 1;
    g.o.spool_max = 1;
    g.o.batch_lines = 1;
    CHECK(rig_start(&g));
    up = cw_reader_port(g.r, 0);
    udp_send(up, "<13>fills the spool");
    step_until_lines(&g, 1);
    CHECK_EQ_INT(spooled(&g), 1);
    udp_send(up, "<13>dropped 1");
    udp_send(up, "<13>dropped 2");
    for (int i = 0; i < 500 && atomic_load(&g.sh.udp_dropped) < 2; i++)
        cw_reader_step(g.r, 10);
    CHECK_EQ_INT(atomic_load(&g.sh.udp_dropped), 2);
    CHECK_EQ_INT(atomic_load(&g.sh.lines_read), 1);
    rig_crash(&g);
    reset_center();
    rm_dir(dir);
}

/* The whole program with its threads: --once over a file and stdin. */
static void test_run_once(void)
{
    char *dir = new_dir(), log[600], st[600];
    snprintf(log, sizeof(log), "%s/app.log", dir);
    snprintf(st, sizeof(st), "%s/state", dir);
    append_lines(log, "once", 1, 1000);
    int p[2];
    CHECK_EQ_INT(pipe(p), 0);
    const char *in = "stdin 1\nstdin 2\nstdin 3";
    CHECK_EQ_INT(write(p[1], in, strlen(in)), (long)strlen(in));
    close(p[1]);
    struct rig g;
    rig_opts(&g, st);
    g.o.batch_lines = 100;
    g.o.flush_ms = 1000;
    g.o.once = true;
    g.o.stdin_fd = p[0];
    rig_file(&g, log);
    g.in[1] = (struct cw_ship_input_spec){CW_INPUT_STDIN, "ndjson", NULL};
    g.o.ninputs = 2;
    CHECK_EQ_INT(cw_ship_run(&g.o), 0);
    close(p[0]);
    CHECK_EQ_INT(center.nlines, 1003);
    CHECK_EQ_INT(center.stored_batches, 11);
    /* a second run has nothing new */
    g.o.ninputs = 1;
    CHECK_EQ_INT(cw_ship_run(&g.o), 0);
    CHECK_EQ_INT(center.nlines, 1003);
    /* a refused key makes --once fail */
    append_lines(log, "once", 1001, 1001);
    fake_center_set_status(&center, 401);
    CHECK_EQ_INT(cw_ship_run(&g.o), 1);
    fake_center_set_status(&center, 200);
    CHECK_EQ_INT(cw_ship_run(&g.o), 0);
    CHECK_EQ_INT(center.nlines, 1004);
    reset_center();
    rm_dir(dir);
}

int main(void)
{
    cw_log_set_level(CW_LOG_WARN);
    if (fake_center_start(&center)) {
        fprintf(stderr, "cannot start the fake center\n");
        return 1;
    }
    test_file_exactly_once();
    test_rotation();
    test_truncation();
    test_center_down();
    test_refused_key_and_format();
    test_resend_after_crash_before_delete();
    test_crash_recovery();
    test_spool_full();
    test_syslog();
    test_run_once();
    fake_center_stop(&center);
    return cw_test_finish("test_ship");
}
