/* reader.c - recovery at start, the poll loop, and cutting batches.
 *
 * Order of writes per batch (docs/ship.md "Exactly once"):
 *   1. the batch file, durable (tmp + fsync + rename + fsync dir);
 *   2. the state file with the input's new offset and next-seq, durable;
 *   3. persisted_next_seq published: only now may the sender send the batch.
 * A crash between 1 and 2 is repaired at open from the batch header (end offset);
 * 3 guarantees the sender never deletes a batch whose lines a restart would read
 * again. */
#include "ship/reader.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/codec.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "ship/durable.h"
#include "ship/input.h"
#include "ship/state.h"
#include "ship/status.h"
#include "common/banned.h"

#define FILE_TICK_MS 250       /* how often files are checked for new data */
#define SPOOL_RETRY_MS 1000    /* after a failed spool write */
#define ZSTD_LEVEL 3

struct cw_reader {
    const struct cw_ship_opts *o;
    struct cw_ship_shared *sh;
    struct cw_ship_state state;
    uint64_t next_seq;
    struct cw_input *in;
    size_t nin;
    bool full_warned;
    bool spool_failed;
    int64_t spool_retry_ms;
    bool state_failed;
};

/* -- services for the inputs -------------------------------------------------- */

bool cw_reader_once(const struct cw_reader *r)
{
    return r->o->once;
}

bool cw_reader_paused(const struct cw_reader *r)
{
    return r->spool_failed || atomic_load(&r->sh->spool.bytes) >= r->o->spool_max;
}

void cw_reader_note_oversized(struct cw_reader *r)
{
    atomic_fetch_add(&r->sh->oversized, 1);
}

void cw_reader_note_udp_drop(struct cw_reader *r)
{
    atomic_fetch_add(&r->sh->udp_dropped, 1);
}

static void save_state(struct cw_reader *r)
{
    r->state.next_seq = r->next_seq;
    if (cw_ship_state_save(r->o->state_dir, &r->state)) {
        if (!r->state_failed)
            cw_error("cannot save %s/state: %s (batches stay unsent until it can be saved)",
                     r->o->state_dir, strerror(errno));
        r->state_failed = true;
        return;
    }
    r->state_failed = false;
    atomic_store(&r->sh->persisted_next_seq, r->next_seq);
    cw_ship_shared_wake_sender(r->sh);
}

static void note_position(struct cw_input *in)
{
    if (in->kind == CW_INPUT_FILE && in->fd >= 0 &&
        cw_ship_state_set(&in->r->state, in->path, in->dev, in->ino, in->pos))
        cw_error("out of memory recording the position of %s", in->path);
}

void cw_input_save_position(struct cw_input *in)
{
    note_position(in);
    save_state(in->r);
}

int cw_input_cut(struct cw_input *in)
{
    struct cw_reader *r = in->r;
    if (in->npending == 0)
        return 0;
    char *body;
    size_t blen;
    if (cw_zstd_compress(in->pending.data, in->pending.len, ZSTD_LEVEL, &body, &blen)) {
        errno = ENOMEM;
        goto fail;
    }
    struct cw_spool_hdr h;
    memset(&h, 0, sizeof(h));
    h.seq = r->next_seq;
    memcpy(h.instance, r->state.instance, sizeof(h.instance));
    snprintf(h.input, sizeof(h.input), "%s", in->id);
    snprintf(h.format, sizeof(h.format), "%s", in->format);
    h.lines = in->npending;
    h.raw = in->pending.len;
    if (in->kind == CW_INPUT_FILE) {
        h.end_offset = in->pos;
        h.dev = in->dev;
        h.ino = in->ino;
    }
    int w = cw_spool_write(&r->sh->spool, &h, body, blen);
    free(body);
    if (w)
        goto fail;
    cw_debug("spooled batch %" PRIu64 ": %s, %" PRIu64 " lines, %zu bytes (%zu compressed)",
             h.seq, in->id, in->npending, in->pending.len, blen);
    r->spool_failed = false;
    r->next_seq++;
    cw_buf_clear(&in->pending);
    in->npending = 0;
    atomic_fetch_add(&r->sh->batches_spooled, 1);
    cw_input_save_position(in);
    return 0;
fail:
    if (!r->spool_failed)
        cw_error("cannot write a batch to the spool %s: %s; reading paused, retrying",
                 r->sh->spool.dir, strerror(errno));
    r->spool_failed = true;
    r->spool_retry_ms = cw_monotonic_ms() + SPOOL_RETRY_MS;
    return -1;
}

bool cw_input_add_line(struct cw_input *in, const char *line, size_t n)
{
    struct cw_reader *r = in->r;
    if (n == 0 || (n == 1 && line[0] == '\r'))
        return false;
    if (n > CW_SHIP_MAX_LINE) {
        cw_reader_note_oversized(r);
        cw_warn("%s: line longer than %u bytes dropped (the center refuses such lines)", in->id,
                CW_SHIP_MAX_LINE);
        return false;
    }
    if (in->npending > 0 && in->pending.len + n + 1 > r->o->batch_bytes)
        cw_input_cut(in);
    if (in->npending == 0)
        in->first_ms = cw_monotonic_ms();
    cw_buf_add(&in->pending, line, n);
    cw_buf_addc(&in->pending, '\n');
    in->npending++;
    atomic_fetch_add(&r->sh->lines_read, 1);
    if (in->npending >= r->o->batch_lines || in->pending.len >= r->o->batch_bytes)
        cw_input_cut(in);
    return cw_reader_paused(r);
}

/* -- open and recovery -------------------------------------------------------- */

/* Batches at or above the saved next-seq were written but the state was not:
 * their end offsets are the true positions. */
static int recover_spool(struct cw_reader *r, char *err, size_t errlen)
{
    uint64_t *seqs;
    size_t n, recovered = 0;
    if (cw_spool_list(&r->sh->spool, 0, UINT64_MAX, &seqs, &n)) {
        snprintf(err, errlen, "cannot list the spool %s: %s", r->sh->spool.dir, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (seqs[i] < r->state.next_seq)
            continue;
        struct cw_spool_batch b;
        if (cw_spool_load(&r->sh->spool, seqs[i], &b)) {
            cw_error("spool batch %" PRIu64 " is unreadable (%s): moved to %s", seqs[i],
                     strerror(errno), r->sh->spool.rejected_dir);
            cw_spool_reject(&r->sh->spool, seqs[i]);
            continue;
        }
        if (!strncmp(b.hdr.input, "file:", 5) &&
            cw_ship_state_set(&r->state, b.hdr.input + 5, b.hdr.dev, b.hdr.ino,
                              b.hdr.end_offset)) {
            cw_spool_batch_release(&b);
            free(seqs);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        cw_spool_batch_release(&b);
        recovered++;
    }
    if (n > 0 && seqs[n - 1] >= r->state.next_seq)
        r->state.next_seq = seqs[n - 1] + 1;
    free(seqs);
    if (recovered)
        cw_info("recovered %zu batches spooled just before the last stop", recovered);
    return 0;
}

static int load_state(struct cw_reader *r, char *err, size_t errlen)
{
    int rc = cw_ship_state_load(r->o->state_dir, &r->state);
    if (rc < 0) {
        snprintf(err, errlen, "%s/state is unreadable or corrupt (%s): move it away to start "
                 "over (lines already sent would then be sent again)",
                 r->o->state_dir, strerror(errno));
        return -1;
    }
    if (rc == 1) {
        if (cw_ship_state_new_instance(r->state.instance)) {
            snprintf(err, errlen, "no randomness for the ship instance id: %s", strerror(errno));
            return -1;
        }
        r->state.next_seq = 1;
        cw_info("new ship instance %s in %s", r->state.instance, r->o->state_dir);
    }
    return 0;
}

static const char *kind_name(enum cw_input_kind k)
{
    switch (k) {
    case CW_INPUT_FILE: return "file";
    case CW_INPUT_STDIN: return "stdin";
    case CW_INPUT_SYSLOG_UDP: return "syslog-udp";
    default: return "syslog-tcp";
    }
}

static int open_input(struct cw_reader *r, struct cw_input *in,
                      const struct cw_ship_input_spec *spec, char *err, size_t errlen)
{
    in->r = r;
    in->kind = spec->kind;
    in->fd = in->lfd = -1;
    in->path = spec->arg;
    cw_buf_init(&in->pending);
    cw_buf_init(&in->rbuf);
    snprintf(in->format, sizeof(in->format), "%s", spec->format);
    if (spec->kind == CW_INPUT_STDIN)
        snprintf(in->id, sizeof(in->id), "stdin");
    else if ((size_t)snprintf(in->id, sizeof(in->id), "%s:%s", kind_name(spec->kind),
                              spec->arg) >= sizeof(in->id) || strchr(spec->arg, '\n')) {
        snprintf(err, errlen, "input name too long or with a newline: %.64s...", spec->arg);
        return -1;
    }
    switch (spec->kind) {
    case CW_INPUT_FILE:
        return cw_input_file_open(in, cw_ship_state_find(&r->state, in->path), err, errlen);
    case CW_INPUT_STDIN:
        in->fd = r->o->stdin_fd;
        return 0;
    default:
        return cw_input_syslog_open(in, err, errlen);
    }
}

static int check_inputs(const struct cw_ship_opts *o, char *err, size_t errlen)
{
    if (o->ninputs == 0) {
        snprintf(err, errlen, "nothing to ship: give --file, --stdin, --syslog-udp or --syslog-tcp");
        return -1;
    }
    size_t nstdin = 0;
    for (size_t i = 0; i < o->ninputs; i++) {
        const struct cw_ship_input_spec *a = &o->inputs[i];
        nstdin += a->kind == CW_INPUT_STDIN;
        if (o->once && (a->kind == CW_INPUT_SYSLOG_UDP || a->kind == CW_INPUT_SYSLOG_TCP)) {
            snprintf(err, errlen, "--once reads inputs to their end; a syslog listener has none");
            return -1;
        }
        for (size_t j = 0; j < i; j++)
            if (a->kind == o->inputs[j].kind && a->arg && o->inputs[j].arg &&
                !strcmp(a->arg, o->inputs[j].arg)) {
                snprintf(err, errlen, "input %s given twice", a->arg);
                return -1;
            }
    }
    if (nstdin > 1) {
        snprintf(err, errlen, "--stdin given twice");
        return -1;
    }
    return 0;
}

struct cw_reader *cw_reader_open(const struct cw_ship_opts *o, struct cw_ship_shared *sh,
                                 char *err, size_t errlen)
{
    if (check_inputs(o, err, errlen))
        return NULL;
    if (cw_durable_mkdirs(o->state_dir) || cw_spool_open(&sh->spool, o->state_dir)) {
        snprintf(err, errlen, "state directory %s: %s", o->state_dir, strerror(errno));
        return NULL;
    }
    struct cw_reader *r = calloc(1, sizeof(*r));
    if (!r || !(r->in = calloc(o->ninputs, sizeof(*r->in)))) {
        free(r);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->o = o;
    r->sh = sh;
    cw_ship_state_init(&r->state);
    if (load_state(r, err, errlen) || recover_spool(r, err, errlen))
        goto fail;
    r->next_seq = r->state.next_seq;
    for (size_t i = 0; i < o->ninputs; i++) {
        r->nin = i + 1;
        if (open_input(r, &r->in[i], &o->inputs[i], err, errlen))
            goto fail;
        note_position(&r->in[i]);
    }
    save_state(r);
    if (r->state_failed) {
        snprintf(err, errlen, "cannot write %s/state: %s", o->state_dir, strerror(errno));
        goto fail;
    }
    return r;
fail:
    cw_reader_close(r);
    return NULL;
}

void cw_reader_close(struct cw_reader *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nin; i++) {
        struct cw_input *in = &r->in[i];
        if (in->kind == CW_INPUT_FILE && in->fd >= 0)
            close(in->fd);
        cw_input_net_close(in);
        cw_buf_release(&in->pending);
        cw_buf_release(&in->rbuf);
    }
    free(r->in);
    cw_ship_state_release(&r->state);
    free(r);
}

/* -- the loop ----------------------------------------------------------------- */

static void watch_spool(struct cw_reader *r, int64_t now)
{
    if (r->spool_failed && now >= r->spool_retry_ms)
        r->spool_failed = false; /* let the next cut try again */
    bool full = atomic_load(&r->sh->spool.bytes) >= r->o->spool_max;
    if (full && !r->full_warned) {
        char h[32];
        cw_ship_human_size(r->o->spool_max, h, sizeof(h));
        cw_warn("spool full (%s): reading paused until the center accepts data", h);
    } else if (!full && r->full_warned) {
        cw_info("spool has room again: reading resumed");
    }
    r->full_warned = full;
}

static void cut_due(struct cw_reader *r, int64_t now)
{
    for (size_t i = 0; i < r->nin; i++) {
        struct cw_input *in = &r->in[i];
        if (in->npending > 0 && now - in->first_ms >= r->o->flush_ms)
            cw_input_cut(in);
    }
}

static int poll_timeout(const struct cw_reader *r, int max_wait_ms, int64_t now, bool paused)
{
    int64_t t = max_wait_ms;
    for (size_t i = 0; i < r->nin; i++) {
        const struct cw_input *in = &r->in[i];
        if (in->kind == CW_INPUT_FILE) {
            if (!paused && in->fd >= 0 && !in->eof)
                t = 0; /* more to read right away */
            else if (t > FILE_TICK_MS)
                t = FILE_TICK_MS;
        }
        if (in->npending > 0) {
            int64_t due = in->first_ms + r->o->flush_ms - now;
            if (due < t)
                t = due < 0 ? 0 : due;
        }
    }
    return (int)(t < 0 ? 0 : t);
}

/* Which pollfd belongs to what. */
struct slot {
    struct cw_input *in;
    int fd;
    int what; /* 0 wake, 1 stdin, 2 udp, 3 tcp listener, 4 tcp connection */
};

static size_t build_poll(struct cw_reader *r, bool paused, struct pollfd *pfd, struct slot *sl,
                         size_t max)
{
    size_t n = 0;
    pfd[n] = (struct pollfd){r->sh->wake_fd[0], POLLIN, 0};
    sl[n++] = (struct slot){NULL, r->sh->wake_fd[0], 0};
    for (size_t i = 0; i < r->nin && n < max; i++) {
        struct cw_input *in = &r->in[i];
        if (in->kind == CW_INPUT_STDIN && !in->eof && !paused) {
            pfd[n] = (struct pollfd){in->fd, POLLIN, 0};
            sl[n++] = (struct slot){in, in->fd, 1};
        } else if (in->kind == CW_INPUT_SYSLOG_UDP || in->kind == CW_INPUT_SYSLOG_TCP) {
            pfd[n] = (struct pollfd){in->lfd, POLLIN, 0};
            sl[n++] = (struct slot){in, in->lfd, in->kind == CW_INPUT_SYSLOG_UDP ? 2 : 3};
            for (size_t c = 0; c < in->nconns && !paused && n < max; c++) {
                pfd[n] = (struct pollfd){in->conns[c].fd, POLLIN, 0};
                sl[n++] = (struct slot){in, in->conns[c].fd, 4};
            }
        }
    }
    return n;
}

static void serve_slot(struct cw_reader *r, const struct slot *s)
{
    char drain[64];
    switch (s->what) {
    case 0:
        while (read(r->sh->wake_fd[0], drain, sizeof(drain)) > 0)
            ;
        break;
    case 1: cw_input_stdin_read(s->in); break;
    case 2: cw_input_udp_read(s->in); break;
    case 3: cw_input_tcp_accept(s->in); break;
    default:
        /* connections move when one closes: find this one by fd */
        for (size_t c = 0; c < s->in->nconns; c++)
            if (s->in->conns[c].fd == s->fd) {
                cw_input_tcp_read(s->in, c);
                break;
            }
    }
}

void cw_reader_step(struct cw_reader *r, int max_wait_ms)
{
    int64_t now = cw_monotonic_ms();
    watch_spool(r, now);
    for (size_t i = 0; i < r->nin; i++) {
        struct cw_input *in = &r->in[i];
        if (cw_reader_paused(r))
            break;
        if (in->kind == CW_INPUT_FILE)
            cw_input_file_poll(in);
        else if (in->kind == CW_INPUT_STDIN && in->rbuf.len > 0)
            cw_input_take_lines(in); /* lines left over from a pause */
    }
    cut_due(r, now);
    enum { MAXFD = 1 + 16 * (CW_SHIP_MAX_CONNS + 1) };
    static _Thread_local struct pollfd pfd[MAXFD];
    static _Thread_local struct slot sl[MAXFD];
    bool paused = cw_reader_paused(r);
    size_t n = build_poll(r, paused, pfd, sl, MAXFD);
    int rc = poll(pfd, n, poll_timeout(r, max_wait_ms, cw_monotonic_ms(), paused));
    for (size_t i = 0; rc > 0 && i < n; i++)
        if (pfd[i].revents)
            serve_slot(r, &sl[i]);
}

int cw_reader_flush(struct cw_reader *r)
{
    int rc = 0;
    for (size_t i = 0; i < r->nin; i++) {
        struct cw_input *in = &r->in[i];
        if (in->kind == CW_INPUT_STDIN && in->rbuf.len > 0)
            cw_input_take_lines(in);
        if (in->npending > 0 && cw_input_cut(in))
            rc = -1;
    }
    return rc;
}

bool cw_reader_done(const struct cw_reader *r)
{
    for (size_t i = 0; i < r->nin; i++) {
        const struct cw_input *in = &r->in[i];
        if (in->npending > 0 || in->rbuf.len > 0 || !in->eof)
            return false;
        if (in->kind == CW_INPUT_FILE && in->fd < 0)
            return false;
        if (in->kind == CW_INPUT_SYSLOG_UDP || in->kind == CW_INPUT_SYSLOG_TCP)
            return false;
    }
    return true;
}

uint16_t cw_reader_port(const struct cw_reader *r, size_t i)
{
    return i < r->nin ? r->in[i].port : 0;
}

void cw_reader_describe(const struct cw_reader *r, struct cw_buf *out)
{
    size_t waiting = 0, conns = 0;
    for (size_t i = 0; i < r->nin; i++) {
        waiting += r->in[i].kind == CW_INPUT_FILE && r->in[i].fd < 0;
        conns += r->in[i].nconns;
    }
    cw_buf_addf(out, "%zu", r->nin);
    if (waiting)
        cw_buf_addf(out, " (%zu files missing)", waiting);
    if (conns)
        cw_buf_addf(out, " (%zu syslog TCP connections)", conns);
}
