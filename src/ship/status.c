#include "ship/status.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>

#include "common/timefmt.h"
#include "common/banned.h"

void cw_ship_human_size(uint64_t bytes, char *out, size_t cap)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(out, cap, "%" PRIu64 " B", bytes);
    else
        snprintf(out, cap, "%.1f %s", v, unit[u]);
}

void cw_ship_status_format(const struct cw_ship_shared *sh, const struct cw_reader *r,
                           uint64_t spool_max, struct cw_buf *out)
{
    char used[32], max[32], since[32] = "";
    struct cw_ship_shared *m = (struct cw_ship_shared *)sh; /* the mutex only */
    cw_ship_human_size(atomic_load(&sh->spool.bytes), used, sizeof(used));
    cw_ship_human_size(spool_max, max, sizeof(max));
    cw_buf_adds(out, "status: inputs ");
    cw_reader_describe(r, out);
    cw_buf_addf(out, ", lines read %" PRIu64 ", batches spooled %" PRIu64 " sent %" PRIu64
                ", spool %" PRIu64 " batches (%s of %s), center ",
                atomic_load(&sh->lines_read), atomic_load(&sh->batches_spooled),
                atomic_load(&sh->batches_sent), atomic_load(&sh->spool.batches), used, max);
    pthread_mutex_lock(&m->mu);
    if (sh->center_since_us == 0) {
        cw_buf_adds(out, "not contacted yet");
    } else {
        cw_time_format_iso(sh->center_since_us, since);
        cw_buf_addf(out, "%s since %s", sh->center_up ? "up" : "down", since);
        if (!sh->center_up)
            cw_buf_addf(out, " (%s)", sh->center_why);
    }
    pthread_mutex_unlock(&m->mu);
    cw_buf_addf(out, ", lines accepted %" PRIu64 " rejected %" PRIu64 ", drops: udp %" PRIu64
                " oversized %" PRIu64 " batches set aside %" PRIu64,
                atomic_load(&sh->lines_accepted), atomic_load(&sh->lines_rejected),
                atomic_load(&sh->udp_dropped), atomic_load(&sh->oversized),
                atomic_load(&sh->batches_too_large));
}
