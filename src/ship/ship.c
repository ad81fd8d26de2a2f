#include "ship/ship.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "ship/reader.h"
#include "ship/sender.h"
#include "ship/shared.h"
#include "ship/status.h"
#include "common/banned.h"

static _Atomic bool stop_requested;
static struct cw_ship_shared *_Atomic running;

void cw_ship_opts_default(struct cw_ship_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->state_dir = "/var/lib/crosswatch/ship";
    o->spool_max = 1ull << 30;
    o->batch_lines = 5000;
    o->batch_bytes = 4u << 20;
    o->flush_ms = 1000;
    o->status_ms = 60000;
    o->stdin_fd = 0;
}

void cw_ship_stop(void)
{
    atomic_store(&stop_requested, true);
    struct cw_ship_shared *sh = atomic_load(&running);
    if (sh) {
        atomic_store(&sh->stop, true);
        cw_ship_shared_wake_reader(sh);
    }
}

static void log_status(const struct cw_ship_shared *sh, const struct cw_reader *r,
                       uint64_t spool_max)
{
    struct cw_buf b = CW_BUF_INIT;
    cw_ship_status_format(sh, r, spool_max, &b);
    if (cw_buf_ok(&b))
        cw_info("%s", b.data);
    cw_buf_release(&b);
}

/* --once: finished, failed, or keep going? */
static int once_verdict(const struct cw_ship_shared *sh, const struct cw_reader *r)
{
    int p = atomic_load(&sh->problem);
    if (p == CW_CENTER_AUTH || p == CW_CENTER_FORMAT) {
        cw_error("--once: giving up, the center refuses our %s (see above); %llu batches "
                 "remain spooled", p == CW_CENTER_AUTH ? "key" : "format",
                 (unsigned long long)atomic_load(&sh->spool.batches));
        return 1;
    }
    if (cw_reader_done(r) && atomic_load(&sh->spool.batches) == 0)
        return 0;
    return -1;
}

static int run_loop(const struct cw_ship_opts *o, struct cw_ship_shared *sh, struct cw_reader *r)
{
    int64_t next_status = o->status_ms > 0 ? cw_monotonic_ms() + o->status_ms : INT64_MAX;
    int rc = 0;
    while (!atomic_load(&sh->stop) && !atomic_load(&stop_requested)) {
        cw_reader_step(r, 1000);
        if (cw_monotonic_ms() >= next_status) {
            log_status(sh, r, o->spool_max);
            next_status = cw_monotonic_ms() + o->status_ms;
        }
        if (o->once && (rc = once_verdict(sh, r)) >= 0)
            return rc;
    }
    cw_info("stopping: flushing pending lines to the spool");
    return 0;
}

int cw_ship_run(const struct cw_ship_opts *o)
{
    struct cw_ship_shared sh;
    char err[1024];
    if (cw_ship_shared_init(&sh)) {
        cw_error("cannot set up ship: out of resources");
        return 1;
    }
    struct cw_reader *r = cw_reader_open(o, &sh, err, sizeof(err));
    if (!r) {
        cw_error("%s", err);
        cw_ship_shared_release(&sh);
        return 1;
    }
    struct cw_sender *s = cw_sender_new(o, &sh);
    if (!s || cw_sender_start(s)) {
        cw_error("cannot start the sender (libcurl or thread setup failed)");
        cw_sender_free(s);
        cw_reader_close(r);
        cw_ship_shared_release(&sh);
        return 1;
    }
    atomic_store(&running, &sh);
    if (atomic_load(&stop_requested))
        atomic_store(&sh.stop, true);
    cw_info("shipping %zu inputs to %s (state in %s)", o->ninputs, o->center, o->state_dir);
    int rc = run_loop(o, &sh, r);
    /* the sender is told first: shutdown does not wait for the center */
    cw_sender_stop(s);
    if (cw_reader_flush(r))
        cw_error("could not flush every pending line to the spool; file lines will be read "
                 "again at the next start");
    log_status(&sh, r, o->spool_max);
    atomic_store(&running, NULL);
    cw_sender_free(s);
    cw_reader_close(r);
    cw_ship_shared_release(&sh);
    return rc;
}
