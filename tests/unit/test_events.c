/* test_events.c - bundling kept detections into events (src/triage/events.c).
 *
 * Every test builds real batches (cw_batch_begin/commit) and real detections, runs
 * them through cw_events_add exactly as the center does (add, then take_dirty) and
 * checks exact values: which event each detection joined, counts, first/last seen,
 * severity, distinct sources/targets, the statistics, the ids. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/attack.h"
#include "detect/detect.h"
#include "triage/events.h"
#include "testlib.h"

#define SEC 1000000LL
#define HOUR (3600LL * SEC)
#define T0 1700000000000000LL /* 2023-11-14, record time */

static struct cw_ip ip(const char *s)
{
    struct cw_ip a;
    memset(&a, 0, sizeof(a));
    if (s && cw_ip_parse(&a, s, strlen(s)) < 0) {
        fprintf(stderr, "bad test address %s\n", s);
        abort();
    }
    return a;
}

static int same_ip(const struct cw_ip *a, const char *s)
{
    struct cw_ip b = ip(s);
    return a->family == b.family && memcmp(a->a, b.a, 16) == 0;
}

/* A test input: a batch and its detections, added to together. */
struct input {
    struct cw_batch b;
    struct cw_detections ds;
};

static void in_init(struct input *in)
{
    cw_batch_init(&in->b);
    cw_detections_init(&in->ds);
}

static void in_clear(struct input *in)
{
    cw_batch_clear(&in->b);
    cw_detections_clear(&in->ds);
}

static void in_release(struct input *in)
{
    cw_batch_release(&in->b);
    cw_detections_release(&in->ds);
}

/* One IDS alert record and its detection; noise != 0 marks a dropped detection. */
static void det(struct input *in, uint32_t member, int cls, const char *src, const char *dst,
                int64_t ts, int sev, int noise)
{
    struct cw_record *r = cw_batch_begin(&in->b);
    r->ts_us = ts;
    r->member_id = member;
    r->sensor_id = 1;
    r->kind = CW_KIND_IDS_ALERT;
    r->src = ip(src);
    r->dst = ip(dst);
    if (cw_batch_commit(&in->b)) {
        fprintf(stderr, "commit failed\n");
        abort();
    }
    struct cw_detection d;
    memset(&d, 0, sizeof(d));
    d.rec = in->b.n - 1;
    d.attack_class = (uint8_t)cls;
    d.severity = (uint8_t)sev;
    d.source = CW_DET_IDS;
    d.noise = (uint8_t)noise;
    snprintf(d.rule_id, sizeof(d.rule_id), "sid:1:%d", 2000000 + cls);
    d.rule_name = "test rule";
    d.rule_name_len = 9;
    if (cw_detections_add(&in->ds, &d)) {
        fprintf(stderr, "out of memory\n");
        abort();
    }
}

/* What take_dirty delivered, in delivery order. */
struct taken {
    struct cw_event e[4096];
    size_t n;
};

static int take_cb(void *ctx, const struct cw_event *e)
{
    struct taken *t = ctx;
    if (t->n >= sizeof(t->e) / sizeof(t->e[0]))
        return -1;
    t->e[t->n++] = *e;
    return 0;
}

static size_t take(struct cw_events *ev, struct taken *t)
{
    t->n = 0;
    CHECK_EQ_INT(cw_events_take_dirty(ev, take_cb, t), 0);
    return t->n;
}

/* add + take, the way cw_triage_aggregate does it */
static int add_take(struct cw_events *ev, struct input *in, int64_t *event_of, struct taken *t)
{
    int rc = cw_events_add(ev, &in->b, &in->ds, event_of);
    if (t)
        take(ev, t);
    else
        cw_events_take_dirty(ev, NULL, NULL);
    return rc;
}

static struct cw_events *mk(int64_t window_us, size_t max_open, int64_t next_id)
{
    struct cw_events_config cfg = {window_us, max_open};
    struct cw_events *ev = cw_events_new(&cfg, next_id);
    if (!ev)
        abort();
    return ev;
}

/* -- the three join rules ------------------------------------------------------ */

static void test_join_rules(void)
{
    struct cw_events *ev = mk(HOUR, 0, 1);
    struct input in;
    in_init(&in);
    det(&in, 1, CW_AC_SQL_INJECTION, "10.0.0.1", "192.0.2.10", T0, CW_SEV_MEDIUM, 0);     /* new 1 */
    det(&in, 1, CW_AC_SQL_INJECTION, "10.0.0.1", "192.0.2.11", T0 + 1 * SEC, CW_SEV_HIGH, 0);
    /* a new source on a known target joins the event that covers the target */
    det(&in, 1, CW_AC_SQL_INJECTION, "10.0.0.2", "192.0.2.10", T0 + 2 * SEC, 0, 0);
    det(&in, 1, CW_AC_SQL_INJECTION, "10.0.0.3", "192.0.2.99", T0 + 3 * SEC, CW_SEV_LOW, 0); /* new 2 */
    det(&in, 1, CW_AC_XSS, "10.0.0.1", "192.0.2.10", T0 + 4 * SEC, CW_SEV_LOW, 0);   /* class: new 3 */
    det(&in, 2, CW_AC_SQL_INJECTION, "10.0.0.1", "192.0.2.10", T0 + 5 * SEC, CW_SEV_LOW, 0); /* member: new 4 */
    /* 10.0.0.2 joined event 1 above, so it is one of event 1's sources now: joins by
     * source although its target belongs to event 2 */
    det(&in, 1, CW_AC_SQL_INJECTION, "10.0.0.2", "192.0.2.99", T0 + 6 * SEC, CW_SEV_LOW, 0);
    det(&in, 1, CW_AC_SQL_INJECTION, "10.0.0.9", "192.0.2.77", T0 + 7 * SEC, CW_SEV_HIGH, 3); /* dropped */
    int64_t eo[8];
    memset(eo, 0x55, sizeof(eo));
    CHECK_EQ_INT(cw_events_add(ev, &in.b, &in.ds, eo), 0);
    int64_t want[8] = {1, 1, 1, 2, 3, 4, 1, 0};
    for (int i = 0; i < 8; i++)
        CHECK_EQ_INT(eo[i], want[i]);
    struct cw_events_stats st;
    cw_events_stats(ev, &st);
    CHECK_EQ_INT(st.joined_by_source, 2);
    CHECK_EQ_INT(st.joined_by_target, 1);
    CHECK_EQ_INT(st.created, 4);
    CHECK_EQ_INT(st.open, 4);
    CHECK_EQ_INT(st.evicted, 0);
    CHECK_EQ_INT(st.expired, 0);
    CHECK_EQ_INT(cw_events_next_id(ev), 5);

    const struct cw_event *e = cw_events_get(ev, 1);
    CHECK(e != NULL);
    if (e) {
        CHECK_EQ_INT(e->member_id, 1);
        CHECK_EQ_INT(e->attack_class, CW_AC_SQL_INJECTION);
        CHECK_EQ_INT(e->count, 4);
        CHECK_EQ_INT(e->severity, CW_SEV_HIGH); /* most severe; 0 (unknown) never wins */
        CHECK_EQ_INT(e->first_us, T0);
        CHECK_EQ_INT(e->last_us, T0 + 6 * SEC);
        CHECK_EQ_INT(e->distinct_sources, 2);
        CHECK_EQ_INT(e->distinct_targets, 3);
        CHECK_EQ_INT(e->nsrc_kept, 2);
        CHECK_EQ_INT(e->ntgt_kept, 3);
        CHECK(same_ip(&e->key_source, "10.0.0.1"));
        CHECK(same_ip(&e->key_target, "192.0.2.10"));
        CHECK(same_ip(&e->sources[0], "10.0.0.1"));
        CHECK(same_ip(&e->sources[1], "10.0.0.2"));
        CHECK(same_ip(&e->targets[0], "192.0.2.10"));
        CHECK(same_ip(&e->targets[1], "192.0.2.11"));
        CHECK(same_ip(&e->targets[2], "192.0.2.99"));
    }
    e = cw_events_get(ev, 2);
    CHECK(e != NULL);
    if (e) {
        CHECK_EQ_INT(e->count, 1);
        CHECK_EQ_INT(e->severity, CW_SEV_LOW);
        CHECK(same_ip(&e->key_source, "10.0.0.3"));
        CHECK(same_ip(&e->key_target, "192.0.2.99"));
    }
    e = cw_events_get(ev, 3);
    CHECK(e && e->attack_class == CW_AC_XSS && e->member_id == 1 && e->count == 1);
    e = cw_events_get(ev, 4);
    CHECK(e && e->attack_class == CW_AC_SQL_INJECTION && e->member_id == 2 && e->count == 1);
    CHECK(cw_events_get(ev, 5) == NULL);

    /* the next batch: target 192.0.2.11 belongs to event 1 (second target of its
     * sample), a new source there joins event 1; a known source of event 2 with an
     * unknown target joins event 2 */
    in_clear(&in);
    det(&in, 1, CW_AC_SQL_INJECTION, "10.0.0.50", "192.0.2.11", T0 + 10 * SEC, CW_SEV_LOW, 0);
    det(&in, 1, CW_AC_SQL_INJECTION, "10.0.0.3", "192.0.2.200", T0 + 11 * SEC, CW_SEV_LOW, 0);
    /* no destination address: joins by source or creates an event without a target */
    det(&in, 1, CW_AC_SQL_INJECTION, "10.0.0.60", NULL, T0 + 12 * SEC, CW_SEV_LOW, 0);
    det(&in, 1, CW_AC_SQL_INJECTION, "10.0.0.61", NULL, T0 + 13 * SEC, CW_SEV_LOW, 0);
    int64_t eo2[4];
    struct taken *t = calloc(1, sizeof(*t));
    CHECK_EQ_INT(add_take(ev, &in, eo2, t), 0);
    CHECK_EQ_INT(eo2[0], 1);
    CHECK_EQ_INT(eo2[1], 2);
    CHECK_EQ_INT(eo2[2], 5);
    CHECK_EQ_INT(eo2[3], 6);
    cw_events_stats(ev, &st);
    CHECK_EQ_INT(st.joined_by_source, 3);
    CHECK_EQ_INT(st.joined_by_target, 2);
    CHECK_EQ_INT(st.created, 6);
    e = cw_events_get(ev, 5);
    CHECK(e && e->key_target.family == 0 && e->distinct_targets == 0 && e->ntgt_kept == 0 &&
          e->distinct_sources == 1);
    e = cw_events_get(ev, 1);
    CHECK(e && e->count == 5 && e->distinct_sources == 3 && e->distinct_targets == 3);
    e = cw_events_get(ev, 2);
    CHECK(e && e->count == 2 && e->distinct_sources == 1 && e->distinct_targets == 2);
    free(t);
    in_release(&in);
    cw_events_free(ev);
}

/* -- distinct counts beyond the exact sample --------------------------------------- */

static void test_distinct_beyond_sample(void)
{
    struct cw_events *ev = mk(HOUR, 0, 1);
    struct input in;
    in_init(&in);
    char tgt[32], src[32];
    uint32_t first_round = 0;
    /* one source, 12 targets, every target hit three times (three rounds) */
    for (int round = 0; round < 3; round++) {
        in_clear(&in);
        for (int k = 0; k < 12; k++) {
            snprintf(tgt, sizeof(tgt), "192.0.2.%d", 100 + k);
            det(&in, 1, CW_AC_PATH_TRAVERSAL, "198.18.0.1", tgt,
                T0 + (round * 12 + k) * SEC, CW_SEV_MEDIUM, 0);
        }
        CHECK_EQ_INT(add_take(ev, &in, NULL, NULL), 0);
        const struct cw_event *e = cw_events_get(ev, 1);
        CHECK(e != NULL);
        if (!e)
            break;
        CHECK_EQ_INT(e->count, 12 * (round + 1));
        CHECK_EQ_INT(e->distinct_sources, 1);
        CHECK_EQ_INT(e->ntgt_kept, CW_EVENT_SAMPLE_ADDRS);
        CHECK(same_ip(&e->targets[0], "192.0.2.100"));
        CHECK(same_ip(&e->targets[7], "192.0.2.107"));
        /* lower bound: never more than the truth (12), at least the exact sample plus
         * one (the first address beyond the sample is always new), and hitting the
         * same targets again never raises it */
        CHECK(e->distinct_targets >= CW_EVENT_SAMPLE_ADDRS + 1);
        CHECK(e->distinct_targets <= 12);
        if (e->distinct_targets > 12)
            fprintf(stderr, "  round %d: distinct_targets %u > 12 real targets\n", round,
                    e->distinct_targets);
        if (round == 0)
            first_round = e->distinct_targets;
        CHECK_EQ_INT(e->distinct_targets, first_round);
    }
    /* many sources, one target: 20 sources, each twice */
    for (int round = 0; round < 2; round++) {
        in_clear(&in);
        for (int k = 0; k < 20; k++) {
            snprintf(src, sizeof(src), "203.0.113.%d", 1 + k);
            det(&in, 1, CW_AC_COMMAND_EXEC, src, "192.0.2.1", T0 + (round * 20 + k) * SEC,
                CW_SEV_HIGH, 0);
        }
        CHECK_EQ_INT(add_take(ev, &in, NULL, NULL), 0);
        const struct cw_event *e = cw_events_get(ev, 2);
        CHECK(e != NULL);
        if (!e)
            break;
        CHECK_EQ_INT(e->count, 20 * (round + 1));
        CHECK_EQ_INT(e->distinct_targets, 1);
        CHECK_EQ_INT(e->nsrc_kept, CW_EVENT_SAMPLE_ADDRS);
        CHECK(same_ip(&e->key_source, "203.0.113.1"));
        CHECK(e->distinct_sources >= CW_EVENT_SAMPLE_ADDRS + 1);
        CHECK(e->distinct_sources <= 20);
        if (e->distinct_sources > 20)
            fprintf(stderr, "  round %d: distinct_sources %u > 20 real sources\n", round,
                    e->distinct_sources);
        if (round == 0)
            first_round = e->distinct_sources;
        CHECK_EQ_INT(e->distinct_sources, first_round);
    }
    struct cw_events_stats st;
    cw_events_stats(ev, &st);
    CHECK_EQ_INT(st.created, 2);
    CHECK_EQ_INT(st.open, 2);
    /* the first 8 sources are indexed: source 1..8 joined by source, 9..20 by target
     * (every time: they are not in the sample) */
    /* event 1: 11 + 12 + 12 by source. Event 2: in the first round sources 2..20 are
     * new on a known target (by target); in the second, sources 1..8 are in the
     * exact sample (indexed: by source) and 9..20 are not (by target again) */
    CHECK_EQ_INT(st.joined_by_source, 35 + 8);
    CHECK_EQ_INT(st.joined_by_target, 19 + 12);
    in_release(&in);
    cw_events_free(ev);
}

/* -- the window, in record time --------------------------------------------------- */

static void test_window(void)
{
    struct cw_events *ev = mk(HOUR, 0, 1);
    struct input in;
    in_init(&in);
    int64_t eo[2];
    /* records from long ago: the wall clock plays no part */
    const int64_t t = 1000000000LL * SEC; /* 2001-09-09 */
    det(&in, 7, CW_AC_CREDENTIAL, "10.1.0.1", "192.0.2.5", t, CW_SEV_LOW, 0);
    CHECK_EQ_INT(add_take(ev, &in, eo, NULL), 0);
    CHECK_EQ_INT(eo[0], 1);
    /* exactly one window later: still open (an event is open while its last
     * detection is at most `window` old) */
    in_clear(&in);
    det(&in, 7, CW_AC_CREDENTIAL, "10.1.0.1", "192.0.2.5", t + HOUR, CW_SEV_LOW, 0);
    CHECK_EQ_INT(add_take(ev, &in, eo, NULL), 0);
    CHECK_EQ_INT(eo[0], 1);
    /* one microsecond more than a window after the last detection: a new event, by
     * source as well as by target */
    in_clear(&in);
    det(&in, 7, CW_AC_CREDENTIAL, "10.1.0.1", "192.0.2.5", t + 2 * HOUR + 1, CW_SEV_LOW, 0);
    CHECK_EQ_INT(add_take(ev, &in, eo, NULL), 0);
    CHECK_EQ_INT(eo[0], 2);
    struct cw_events_stats st;
    cw_events_stats(ev, &st);
    CHECK_EQ_INT(st.expired, 1);
    CHECK_EQ_INT(st.open, 1);
    CHECK_EQ_INT(st.created, 2);
    CHECK(cw_events_get(ev, 1) == NULL);
    const struct cw_event *e = cw_events_get(ev, 2);
    CHECK(e && e->count == 1 && e->first_us == t + 2 * HOUR + 1 && e->last_us == e->first_us);
    /* a late detection (older than the newest, within the window) joins and moves
     * first seen back; then a new source on the same target joins by target */
    in_clear(&in);
    det(&in, 7, CW_AC_CREDENTIAL, "10.1.0.1", "192.0.2.5", t + 2 * HOUR - 30 * 60 * SEC,
        CW_SEV_HIGH, 0);
    det(&in, 7, CW_AC_CREDENTIAL, "10.1.0.2", "192.0.2.5", t + 2 * HOUR + 59 * 60 * SEC,
        CW_SEV_LOW, 0);
    CHECK_EQ_INT(add_take(ev, &in, eo, NULL), 0);
    CHECK_EQ_INT(eo[0], 2);
    CHECK_EQ_INT(eo[1], 2);
    e = cw_events_get(ev, 2);
    CHECK(e != NULL);
    if (e) {
        CHECK_EQ_INT(e->count, 3);
        CHECK_EQ_INT(e->first_us, t + 2 * HOUR - 30 * 60 * SEC);
        CHECK_EQ_INT(e->last_us, t + 2 * HOUR + 59 * 60 * SEC);
        CHECK_EQ_INT(e->severity, CW_SEV_HIGH);
        CHECK_EQ_INT(e->distinct_sources, 2);
    }
    /* expiry by target: a new source on the target after the window: new event */
    in_clear(&in);
    det(&in, 7, CW_AC_CREDENTIAL, "10.1.0.3", "192.0.2.5", t + 4 * HOUR, CW_SEV_LOW, 0);
    CHECK_EQ_INT(add_take(ev, &in, eo, NULL), 0);
    CHECK_EQ_INT(eo[0], 3);
    cw_events_stats(ev, &st);
    CHECK_EQ_INT(st.expired, 2);
    CHECK_EQ_INT(st.open, 1);
    in_release(&in);
    cw_events_free(ev);

    /* default window: 24 h */
    ev = mk(0, 0, 1);
    in_init(&in);
    det(&in, 1, CW_AC_XSS, "10.2.0.1", "192.0.2.1", T0, CW_SEV_LOW, 0);
    det(&in, 1, CW_AC_XSS, "10.2.0.1", "192.0.2.1", T0 + 24 * HOUR, CW_SEV_LOW, 0);
    CHECK_EQ_INT(add_take(ev, &in, eo, NULL), 0);
    CHECK_EQ_INT(eo[1], 1);
    in_clear(&in);
    det(&in, 1, CW_AC_XSS, "10.2.0.1", "192.0.2.1", T0 + 48 * HOUR + 1, CW_SEV_LOW, 0);
    CHECK_EQ_INT(add_take(ev, &in, eo, NULL), 0);
    CHECK_EQ_INT(eo[0], 2);
    in_release(&in);
    cw_events_free(ev);
}

/* -- a bounded table: eviction ---------------------------------------------------- */

static void test_eviction(void)
{
    struct cw_events *ev = mk(HOUR, 3, 1);
    struct input in;
    in_init(&in);
    int64_t eo[4];
    det(&in, 1, CW_AC_XSS, "10.0.0.1", "192.0.2.1", T0 + 2 * SEC, CW_SEV_LOW, 0);
    det(&in, 1, CW_AC_XSS, "10.0.0.2", "192.0.2.2", T0 + 1 * SEC, CW_SEV_LOW, 0);
    det(&in, 1, CW_AC_XSS, "10.0.0.3", "192.0.2.3", T0 + 3 * SEC, CW_SEV_LOW, 0);
    CHECK_EQ_INT(add_take(ev, &in, eo, NULL), 0);
    CHECK_EQ_INT(eo[2], 3);
    struct cw_events_stats st;
    cw_events_stats(ev, &st);
    CHECK_EQ_INT(st.open, 3);
    /* the fourth closes the least recently active one (event 2, last seen T0+1s) */
    in_clear(&in);
    det(&in, 1, CW_AC_XSS, "10.0.0.4", "192.0.2.4", T0 + 4 * SEC, CW_SEV_LOW, 0);
    CHECK_EQ_INT(add_take(ev, &in, eo, NULL), 0);
    CHECK_EQ_INT(eo[0], 4);
    cw_events_stats(ev, &st);
    CHECK_EQ_INT(st.evicted, 1);
    CHECK_EQ_INT(st.expired, 0);
    CHECK_EQ_INT(st.open, 3);
    CHECK(cw_events_get(ev, 2) == NULL);
    CHECK(cw_events_get(ev, 1) && cw_events_get(ev, 3) && cw_events_get(ev, 4));
    /* the evicted event's source and target are forgotten: a new event */
    in_clear(&in);
    det(&in, 1, CW_AC_XSS, "10.0.0.2", "192.0.2.2", T0 + 5 * SEC, CW_SEV_LOW, 0);
    CHECK_EQ_INT(add_take(ev, &in, eo, NULL), 0);
    CHECK_EQ_INT(eo[0], 5);
    cw_events_stats(ev, &st);
    CHECK_EQ_INT(st.evicted, 2); /* event 1 (T0+2s) went */
    CHECK(cw_events_get(ev, 1) == NULL);
    /* a live event keeps joining while the table is full */
    in_clear(&in);
    det(&in, 1, CW_AC_XSS, "10.0.0.3", "192.0.2.9", T0 + 6 * SEC, CW_SEV_LOW, 0);
    CHECK_EQ_INT(add_take(ev, &in, eo, NULL), 0);
    CHECK_EQ_INT(eo[0], 3);
    cw_events_stats(ev, &st);
    CHECK_EQ_INT(st.evicted, 2);
    CHECK_EQ_INT(st.open, 3);
    CHECK_EQ_INT(st.created, 5);
    in_release(&in);
    cw_events_free(ev);

    /* a big table evicts max_open/64 of the least recently active at once (one scan
     * of the slab per batch of evictions, not per new event) */
    ev = mk(HOUR, 128, 1);
    in_init(&in);
    char a[32];
    for (int k = 0; k < 128; k++) {
        snprintf(a, sizeof(a), "10.7.%d.%d", k / 200, k % 200 + 1);
        /* event k+1 is last seen at T0 + (k * 37 % 128) s (a permutation) */
        det(&in, 1, CW_AC_XSS, a, "192.0.2.1", T0 + (k * 37 % 128) * SEC, CW_SEV_LOW, 0);
    }
    /* each address is its own source; one shared target would join them all: give
     * every record its own target instead */
    for (uint32_t k = 0; k < in.b.n; k++) {
        in.b.recs[k].dst = ip("192.0.2.1");
        in.b.recs[k].dst.a[2] = (uint8_t)(k / 200);
        in.b.recs[k].dst.a[3] = (uint8_t)(k % 200 + 1);
    }
    CHECK_EQ_INT(add_take(ev, &in, NULL, NULL), 0);
    cw_events_stats(ev, &st);
    CHECK_EQ_INT(st.open, 128);
    CHECK_EQ_INT(st.created, 128);
    in_clear(&in);
    det(&in, 1, CW_AC_XSS, "10.8.0.1", "192.0.2.250", T0 + 200 * SEC, CW_SEV_LOW, 0);
    CHECK_EQ_INT(add_take(ev, &in, eo, NULL), 0);
    CHECK_EQ_INT(eo[0], 129);
    cw_events_stats(ev, &st);
    CHECK_EQ_INT(st.evicted, 2);
    CHECK_EQ_INT(st.open, 127);
    /* k*37 % 128 == 0 for k = 0, == 1 for k = 45 (45*37 = 1665 = 13*128 + 1) */
    CHECK(cw_events_get(ev, 1) == NULL);
    CHECK(cw_events_get(ev, 46) == NULL);
    int still = 0;
    for (int64_t id = 1; id <= 129; id++)
        still += cw_events_get(ev, id) != NULL;
    CHECK_EQ_INT(still, 127);
    /* the next new event fits without evicting */
    in_clear(&in);
    det(&in, 1, CW_AC_XSS, "10.8.0.2", "192.0.2.251", T0 + 201 * SEC, CW_SEV_LOW, 0);
    CHECK_EQ_INT(add_take(ev, &in, eo, NULL), 0);
    cw_events_stats(ev, &st);
    CHECK_EQ_INT(st.evicted, 2);
    CHECK_EQ_INT(st.open, 128);
    in_release(&in);
    cw_events_free(ev);

    /* an expired event goes before a live one is evicted */
    ev = mk(HOUR, 2, 1);
    in_init(&in);
    det(&in, 1, CW_AC_XSS, "10.0.0.1", "192.0.2.1", T0, CW_SEV_LOW, 0);
    det(&in, 1, CW_AC_XSS, "10.0.0.2", "192.0.2.2", T0 + 2 * HOUR, CW_SEV_LOW, 0);
    CHECK_EQ_INT(add_take(ev, &in, eo, NULL), 0);
    in_clear(&in);
    det(&in, 1, CW_AC_XSS, "10.0.0.3", "192.0.2.3", T0 + 2 * HOUR + SEC, CW_SEV_LOW, 0);
    CHECK_EQ_INT(add_take(ev, &in, eo, NULL), 0);
    CHECK_EQ_INT(eo[0], 3);
    cw_events_stats(ev, &st);
    CHECK_EQ_INT(st.expired, 1);
    CHECK_EQ_INT(st.evicted, 0);
    CHECK(cw_events_get(ev, 1) == NULL && cw_events_get(ev, 2) != NULL);
    in_release(&in);
    cw_events_free(ev);

    /* changed events are never closed before take_dirty: a batch that needs more new
     * events than max_open fails (the caller must take_dirty first) */
    ev = mk(HOUR, 2, 1);
    in_init(&in);
    det(&in, 1, CW_AC_XSS, "10.0.0.1", "192.0.2.1", T0, CW_SEV_LOW, 0);
    det(&in, 1, CW_AC_XSS, "10.0.0.2", "192.0.2.2", T0, CW_SEV_LOW, 0);
    det(&in, 1, CW_AC_XSS, "10.0.0.3", "192.0.2.3", T0, CW_SEV_LOW, 0);
    CHECK_EQ_INT(cw_events_add(ev, &in.b, &in.ds, eo), -1);
    in_release(&in);
    cw_events_free(ev);
}

/* -- determinism ------------------------------------------------------------------ */

struct final {
    struct cw_event *e; /* indexed by id */
    size_t cap;
};

static int final_cb(void *ctx, const struct cw_event *e)
{
    struct final *f = ctx;
    if ((size_t)e->id >= f->cap)
        return -1;
    f->e[e->id] = *e;
    f->e[e->id].dirty = f->e[e->id].is_new = false;
    return 0;
}

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

/* A deterministic mix: 3 members, 4 classes, 60 sources with skew, 25 targets, record
 * time advancing with occasional gaps longer than the window, batches of 97. */
static void replay(struct final *f, int64_t *event_of, uint32_t n, struct cw_events_stats *st)
{
    static const int classes[4] = {CW_AC_SQL_INJECTION, CW_AC_EDGE_EXPLOIT, CW_AC_XSS,
                                   CW_AC_COMMAND_EXEC};
    static char srcs[60][32], tgts[25][32];
    for (int i = 0; i < 60; i++)
        snprintf(srcs[i], sizeof(srcs[i]), "198.51.100.%d", i + 1);
    for (int i = 0; i < 25; i++)
        snprintf(tgts[i], sizeof(tgts[i]), "2001:db8::%x", i + 1);
    struct cw_events *ev = mk(HOUR, 100, 1); /* small (> a batch): some events are evicted */
    struct input in;
    in_init(&in);
    uint64_t s = 42;
    int64_t t = T0;
    for (uint32_t i = 0; i < n; i += 97) {
        in_clear(&in);
        uint32_t m = n - i < 97 ? n - i : 97;
        for (uint32_t k = 0; k < m; k++) {
            uint64_t r = lcg(&s);
            t += (int64_t)(r % 20) * SEC;
            if (r % 997 == 0)
                t += 2 * HOUR;
            uint32_t si = (uint32_t)(lcg(&s) % 60);
            if (si >= 30)
                si = si % 5; /* skew: five busy sources */
            det(&in, 1 + (uint32_t)(lcg(&s) % 3), classes[lcg(&s) % 4], srcs[si],
                tgts[lcg(&s) % 25], t - (int64_t)(lcg(&s) % 600) * SEC, 1 + (int)(lcg(&s) % 5),
                lcg(&s) % 7 == 0 ? 5 : 0);
        }
        CHECK_EQ_INT(cw_events_add(ev, &in.b, &in.ds, event_of + i), 0);
        CHECK_EQ_INT(cw_events_take_dirty(ev, final_cb, f), 0);
    }
    cw_events_stats(ev, st);
    in_release(&in);
    cw_events_free(ev);
}

static void test_determinism(void)
{
    enum { N = 20000 };
    struct final a = {calloc(N + 2, sizeof(struct cw_event)), N + 2};
    struct final b = {calloc(N + 2, sizeof(struct cw_event)), N + 2};
    int64_t *ea = calloc(N, sizeof(int64_t)), *eb = calloc(N, sizeof(int64_t));
    struct cw_events_stats sa, sb;
    replay(&a, ea, N, &sa);
    replay(&b, eb, N, &sb);
    CHECK(memcmp(ea, eb, N * sizeof(int64_t)) == 0);
    CHECK(memcmp(&sa, &sb, sizeof(sa)) == 0);
    size_t nev = 0, differ = 0;
    uint64_t total = 0, kept = 0;
    for (size_t id = 1; id < a.cap; id++) {
        if (a.e[id].id) {
            nev++;
            total += a.e[id].count;
        }
        if (memcmp(&a.e[id], &b.e[id], sizeof(struct cw_event)) != 0)
            differ++;
    }
    for (size_t i = 0; i < N; i++)
        kept += ea[i] != 0;
    CHECK_EQ_INT(differ, 0);
    CHECK_EQ_INT(nev, sa.created);
    CHECK_EQ_INT(total, kept); /* every kept detection counted in exactly one event */
    CHECK_EQ_INT(sa.created + sa.joined_by_source + sa.joined_by_target, kept);
    CHECK(sa.created > 100 && sa.joined_by_source > 1000 && sa.joined_by_target > 100);
    CHECK(sa.expired > 0);
    CHECK(sa.evicted > 0);
    /* ids are dense and in creation order */
    for (size_t id = 1; id <= nev; id++)
        CHECK(a.e[id].id == (int64_t)id);
    printf("  determinism: %zu events from %llu kept detections (%llu by source, %llu by "
           "target, %llu expired, %llu evicted)\n",
           nev, (unsigned long long)kept, (unsigned long long)sa.joined_by_source,
           (unsigned long long)sa.joined_by_target, (unsigned long long)sa.expired,
           (unsigned long long)sa.evicted);
    free(a.e);
    free(b.e);
    free(ea);
    free(eb);
}

/* -- restore after a restart ------------------------------------------------------ */

static void test_restore(void)
{
    struct cw_events *ev = mk(HOUR, 0, 1);
    struct input in;
    in_init(&in);
    struct taken *t = calloc(1, sizeof(*t));
    char tgt[32];
    det(&in, 1, CW_AC_EDGE_EXPLOIT, "10.0.0.1", "192.0.2.1", T0, CW_SEV_MEDIUM, 0);
    for (int k = 0; k < 11; k++) {
        snprintf(tgt, sizeof(tgt), "192.0.2.%d", 10 + k);
        det(&in, 1, CW_AC_EDGE_EXPLOIT, "10.0.0.1", tgt, T0 + (k + 1) * SEC, CW_SEV_HIGH,
            0);
    }
    det(&in, 2, CW_AC_EDGE_EXPLOIT, "10.0.0.1", "192.0.2.1", T0 + 20 * SEC, CW_SEV_LOW, 0);
    det(&in, 1, CW_AC_SQL_INJECTION, "10.0.0.7", "192.0.2.7", T0 + 30 * SEC, CW_SEV_LOW, 0);
    CHECK_EQ_INT(add_take(ev, &in, NULL, t), 0);
    CHECK_EQ_INT(t->n, 3);
    /* the store's copies: what it would restore */
    struct cw_event saved[3];
    memcpy(saved, t->e, sizeof(saved));
    CHECK(saved[0].id == 1 && saved[0].count == 12 && saved[0].ntgt_kept == 8);

    /* a "restarted" aggregator: restored events, then the same next batch into both */
    struct cw_events *ev2 = mk(HOUR, 0, cw_events_next_id(ev));
    struct cw_event bad = saved[0];
    bad.id = cw_events_next_id(ev);
    CHECK_EQ_INT(cw_events_restore(ev2, &bad), -1); /* ids must be < next_id */
    for (int i = 2; i >= 0; i--) /* the store restores newest first */
        CHECK_EQ_INT(cw_events_restore(ev2, &saved[i]), 0);
    struct cw_events_stats st;
    cw_events_stats(ev2, &st);
    CHECK_EQ_INT(st.open, 3);
    CHECK_EQ_INT(st.created, 0);
    for (int i = 0; i < 3; i++) {
        const struct cw_event *e = cw_events_get(ev2, saved[i].id);
        CHECK(e != NULL);
        if (e) {
            CHECK_EQ_INT(e->count, saved[i].count);
            CHECK_EQ_INT(e->distinct_sources, saved[i].distinct_sources);
            CHECK_EQ_INT(e->distinct_targets, saved[i].distinct_targets);
            CHECK_EQ_INT(e->first_us, saved[i].first_us);
            CHECK_EQ_INT(e->last_us, saved[i].last_us);
            CHECK(!e->dirty && !e->is_new);
        }
    }
    /* restoring marks nothing dirty */
    CHECK_EQ_INT(take(ev2, t), 0);

    in_clear(&in);
    det(&in, 1, CW_AC_EDGE_EXPLOIT, "10.0.0.1", "192.0.2.200", T0 + 40 * SEC, CW_SEV_LOW, 0);
    det(&in, 1, CW_AC_EDGE_EXPLOIT, "10.0.0.99", "192.0.2.12", T0 + 41 * SEC, CW_SEV_LOW, 0);
    det(&in, 1, CW_AC_EDGE_EXPLOIT, "10.0.0.1", "192.0.2.10", T0 + 42 * SEC, CW_SEV_LOW, 0);
    det(&in, 2, CW_AC_EDGE_EXPLOIT, "10.0.0.5", "192.0.2.1", T0 + 43 * SEC, CW_SEV_LOW, 0);
    det(&in, 1, CW_AC_SQL_INJECTION, "10.0.0.8", "192.0.2.8", T0 + 44 * SEC, CW_SEV_LOW, 0);
    int64_t e1[5], e2[5];
    struct taken *t1 = calloc(1, sizeof(*t1)), *t2 = calloc(1, sizeof(*t2));
    CHECK_EQ_INT(add_take(ev, &in, e1, t1), 0);
    CHECK_EQ_INT(add_take(ev2, &in, e2, t2), 0);
    int64_t want[5] = {1, 1, 1, 2, 4};
    for (int i = 0; i < 5; i++) {
        CHECK_EQ_INT(e1[i], want[i]);
        CHECK_EQ_INT(e2[i], want[i]);
    }
    CHECK_EQ_INT(t1->n, t2->n);
    for (size_t i = 0; i < t1->n && i < t2->n; i++) {
        const struct cw_event *a = &t1->e[i], *b = &t2->e[i];
        CHECK_EQ_INT(a->id, b->id);
        CHECK_EQ_INT(a->count, b->count);
        CHECK_EQ_INT(a->first_us, b->first_us);
        CHECK_EQ_INT(a->last_us, b->last_us);
        CHECK_EQ_INT(a->severity, b->severity);
        CHECK_EQ_INT(a->distinct_sources, b->distinct_sources);
        /* beyond the exact sample the restarted aggregator cannot know which
         * addresses it counted before: it keeps the lower bound (adds none) */
        if (a->id == 1)
            CHECK(b->distinct_targets == saved[0].distinct_targets &&
                  a->distinct_targets >= b->distinct_targets &&
                  a->distinct_targets <= saved[0].distinct_targets + 1);
        else
            CHECK_EQ_INT(a->distinct_targets, b->distinct_targets);
        CHECK_EQ_INT(a->is_new, b->is_new);
        CHECK(memcmp(a->sources, b->sources, sizeof(a->sources)) == 0);
        CHECK(memcmp(a->targets, b->targets, sizeof(a->targets)) == 0);
    }
    const struct cw_event *e = cw_events_get(ev2, 1);
    CHECK(e != NULL);
    if (e) {
        CHECK_EQ_INT(e->count, 15);
        CHECK_EQ_INT(e->distinct_sources, 2);
        CHECK_EQ_INT(e->severity, CW_SEV_HIGH);
        CHECK_EQ_INT(e->last_us, T0 + 42 * SEC);
        /* 12 targets before; 192.0.2.200 is new, .12 and .10 are not */
        CHECK(e->distinct_targets >= 9 && e->distinct_targets <= 13);
    }
    cw_events_stats(ev2, &st);
    CHECK_EQ_INT(st.created, 1);
    CHECK_EQ_INT(cw_events_next_id(ev2), 5);
    free(t);
    free(t1);
    free(t2);
    in_release(&in);
    cw_events_free(ev);
    cw_events_free(ev2);
}

/* -- dirty tracking --------------------------------------------------------------- */

static void test_dirty(void)
{
    struct cw_events *ev = mk(HOUR, 0, 100);
    struct input in;
    in_init(&in);
    struct taken *t = calloc(1, sizeof(*t));
    det(&in, 1, CW_AC_XSS, "10.0.0.1", "192.0.2.1", T0, CW_SEV_LOW, 0);
    det(&in, 1, CW_AC_XSS, "10.0.0.2", "192.0.2.2", T0, CW_SEV_LOW, 0);
    det(&in, 1, CW_AC_XSS, "10.0.0.1", "192.0.2.3", T0 + SEC, CW_SEV_LOW, 0);
    CHECK_EQ_INT(cw_events_add(ev, &in.b, &in.ds, NULL), 0);
    CHECK_EQ_INT(take(ev, t), 2);
    CHECK(t->e[0].id == 100 && t->e[0].count == 2 && t->e[0].is_new && t->e[0].dirty);
    CHECK(t->e[1].id == 101 && t->e[1].count == 1 && t->e[1].is_new);
    CHECK_EQ_INT(take(ev, t), 0); /* once */
    const struct cw_event *e = cw_events_get(ev, 100);
    CHECK(e && !e->dirty && !e->is_new);

    in_clear(&in);
    det(&in, 1, CW_AC_XSS, "10.0.0.2", "192.0.2.2", T0 + 2 * SEC, CW_SEV_HIGH, 0);
    det(&in, 1, CW_AC_XSS, "10.0.0.2", "192.0.2.2", T0 + 3 * SEC, CW_SEV_HIGH, 0);
    det(&in, 1, CW_AC_XSS, "10.0.0.9", "192.0.2.9", T0 + 3 * SEC, CW_SEV_HIGH, 4); /* dropped */
    CHECK_EQ_INT(cw_events_add(ev, &in.b, &in.ds, NULL), 0);
    CHECK_EQ_INT(take(ev, t), 1);
    CHECK(t->e[0].id == 101 && t->e[0].count == 3 && !t->e[0].is_new &&
          t->e[0].severity == CW_SEV_HIGH && t->e[0].last_us == T0 + 3 * SEC);
    CHECK_EQ_INT(take(ev, t), 0);

    /* an empty or all-dropped batch changes nothing */
    in_clear(&in);
    CHECK_EQ_INT(cw_events_add(ev, &in.b, &in.ds, NULL), 0);
    det(&in, 1, CW_AC_XSS, "10.0.0.1", "192.0.2.1", T0 + 4 * SEC, CW_SEV_HIGH, 2);
    CHECK_EQ_INT(cw_events_add(ev, &in.b, &in.ds, NULL), 0);
    CHECK_EQ_INT(take(ev, t), 0);

    /* two batches before one take: each changed event once, the newest state */
    in_clear(&in);
    det(&in, 1, CW_AC_XSS, "10.0.0.1", "192.0.2.1", T0 + 5 * SEC, CW_SEV_LOW, 0);
    CHECK_EQ_INT(cw_events_add(ev, &in.b, &in.ds, NULL), 0);
    in_clear(&in);
    det(&in, 1, CW_AC_XSS, "10.0.0.1", "192.0.2.1", T0 + 6 * SEC, CW_SEV_LOW, 0);
    det(&in, 1, CW_AC_XSS, "10.0.0.5", "192.0.2.5", T0 + 6 * SEC, CW_SEV_LOW, 0);
    CHECK_EQ_INT(cw_events_add(ev, &in.b, &in.ds, NULL), 0);
    CHECK_EQ_INT(take(ev, t), 2);
    CHECK(t->e[0].id == 100 && t->e[0].count == 4 && !t->e[0].is_new);
    CHECK(t->e[1].id == 102 && t->e[1].count == 1 && t->e[1].is_new);
    /* a callback error is returned; the marks are cleared anyway */
    in_clear(&in);
    det(&in, 1, CW_AC_XSS, "10.0.0.1", "192.0.2.1", T0 + 7 * SEC, CW_SEV_LOW, 0);
    CHECK_EQ_INT(cw_events_add(ev, &in.b, &in.ds, NULL), 0);
    t->n = sizeof(t->e) / sizeof(t->e[0]); /* full: take_cb fails */
    CHECK_EQ_INT(cw_events_take_dirty(ev, take_cb, t), -1);
    CHECK_EQ_INT(take(ev, t), 0);
    free(t);
    in_release(&in);
    cw_events_free(ev);
}

static void test_memory_figure(void)
{
    size_t b = cw_events_bytes_per_event();
    printf("  cw_events_bytes_per_event() = %zu (struct cw_event %zu)\n", b,
           sizeof(struct cw_event));
    CHECK(b >= sizeof(struct cw_event));
    CHECK(b < 1024); /* the goal: < 1 KiB per open event */
}

int main(void)
{
    test_join_rules();
    test_distinct_beyond_sample();
    test_window();
    test_eviction();
    test_determinism();
    test_restore();
    test_dirty();
    test_memory_figure();
    return cw_test_finish("test_events");
}
