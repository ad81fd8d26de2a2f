/* dnsd_telemetry.h - every query becomes a `dns` record for the center, spooled
 * and sent the way `crosswatch ship` does it.
 *
 * The event loop calls cw_dnsd_tel_add() once per answered query: the record is
 * written as one NDJSON line (cw_record_to_json) into a pending buffer owned by the
 * loop thread, without a lock. When the buffer holds batch_lines lines, or its
 * first line is flush_ms old (cw_dnsd_tel_tick), the loop hands the buffer to the
 * telemetry thread (one mutex per batch, never per query), which compresses it and
 * writes it durably into STATE_DIR/spool with ship's spool and state modules
 * (format "ndjson", input "dns"); ship's sender thread then POSTs the spool to
 * the center in order, deleting a batch only on the center's 200. Nothing is lost
 * while the center is away: the spool grows up to spool_max, after which new
 * records are dropped and counted (->dropped), never the loop stalled.
 *
 * Not thread-safe except where noted: add/tick/flush from the loop thread only. */
#ifndef CW_DNS_DNSD_TELEMETRY_H
#define CW_DNS_DNSD_TELEMETRY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/record.h"

struct cw_dnsd_tel;

struct cw_dnsd_tel_opts {
    const char *center;    /* base URL of the center; NULL = telemetry off */
    const char *key;       /* sensor key (copied; never logged) */
    const char *state_dir; /* spool/ and state */
    uint64_t spool_max;    /* bytes */
    uint64_t batch_lines;
    int64_t flush_ms;
};

/* One answered query, as the loop knows it. Strings need not be NUL-terminated
 * and are copied before the call returns. */
struct cw_dnsd_tel_query {
    int64_t ts_us;
    const struct cw_ip *client, *server;
    uint16_t client_port, server_port;
    bool tcp;
    uint16_t id;
    const char *qname; size_t qname_len;
    const char *qtype;            /* mnemonic */
    const char *rcode;            /* mnemonic, or "DROP" when no answer was sent */
    const char *answers; size_t answers_len; /* comma separated, may be empty */
    const char *policy;           /* NULL = no policy hit, else action name */
    const char *policy_zone;      /* RPZ zone that matched */
    const char *trigger;          /* qname, ip, ... */
    const char *indicator;        /* indicator id, may be NULL */
    const char *view;             /* member view name */
    const char *cache;            /* "hit", "miss", "stale" */
    int64_t latency_us;
};

/* Start: opens the spool and state (recovering batches written before a crash),
 * starts the writer and sender threads. NULL with a message in err. */
struct cw_dnsd_tel *cw_dnsd_tel_start(const struct cw_dnsd_tel_opts *o, char *err,
                                      size_t errlen);
void cw_dnsd_tel_add(struct cw_dnsd_tel *t, const struct cw_dnsd_tel_query *q);
/* Hand the pending batch over when it is old enough. */
void cw_dnsd_tel_tick(struct cw_dnsd_tel *t, int64_t now_ms);
/* Flush pending lines into the spool, stop the threads (a batch being sent stays
 * spooled and is resent at the next start with the same idempotency key), free. */
void cw_dnsd_tel_stop(struct cw_dnsd_tel *t);
/* Counters (any thread). */
uint64_t cw_dnsd_tel_dropped(const struct cw_dnsd_tel *t);
uint64_t cw_dnsd_tel_spooled(const struct cw_dnsd_tel *t);
uint64_t cw_dnsd_tel_spool_bytes(const struct cw_dnsd_tel *t);

#endif
