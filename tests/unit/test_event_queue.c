/* test_event_queue.c - the event queue's time filter (store_triage.c, docs/storage.md):
 * "events whose activity overlaps [since, until)", newest first and oldest first, paged
 * with the id cursor, alone and with a member filter. The store answers through the
 * time index when that reads fewer rows and by walking ids otherwise; whichever plan it
 * picks, every page must hold exactly the events a brute-force scan of the test's own
 * list selects, in id order (dropping the "longest event" bound from the time plan makes
 * 30 of the 150 ranges differ). Events are written straight into the store's table with
 * spans from seconds to weeks (the longest event bounds the index range). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "center/store.h"
#include "common/buf.h"
#include "testlib.h"

#define NEV 20000
#define T0 1700000000000000LL /* µs */
#define SEC 1000000LL

struct ev {
    int64_t id, first, last;
    uint32_t member;
};
static struct ev evs[NEV];

static int64_t rnd(int64_t n)
{
    return (int64_t)(((uint64_t)rand() << 31 ^ (uint64_t)rand()) % (uint64_t)n);
}

static void fill(const char *dir)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/crosswatch.db", dir);
    sqlite3 *db = NULL;
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    sqlite3_stmt *st = NULL;
    CHECK_EQ_INT(sqlite3_prepare_v2(db,
                                    "INSERT INTO events(id, member_id, attack_class, severity,"
                                    " state, first_us, last_us, count, distinct_sources,"
                                    " distinct_targets, created_us, updated_us)"
                                    " VALUES(?,?,'sqli',3,'new',?,?,1,1,1,?,?)",
                                    -1, &st, NULL),
                 SQLITE_OK);
    for (int i = 0; i < NEV; i++) {
        struct ev *e = &evs[i];
        e->id = i + 1;
        e->member = 1 + (uint32_t)rnd(2);
        /* ids roughly follow time, as events are created, with jitter */
        e->first = T0 + (int64_t)i * 30 * SEC + rnd(3600 * SEC) - 1800 * SEC;
        int64_t r = rnd(1000);
        int64_t span = r < 700 ? rnd(60 * SEC) : r < 990 ? rnd(86400 * SEC)
                                                        : rnd(14 * 86400 * SEC);
        e->last = e->first + span;
        sqlite3_bind_int64(st, 1, e->id);
        sqlite3_bind_int64(st, 2, e->member);
        sqlite3_bind_int64(st, 3, e->first);
        sqlite3_bind_int64(st, 4, e->last);
        sqlite3_bind_int64(st, 5, e->first);
        sqlite3_bind_int64(st, 6, e->last);
        CHECK_EQ_INT(sqlite3_step(st), SQLITE_DONE);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    CHECK_EQ_INT(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* ids of the answer's events, in order; returns their count and the "next" cursor */
static int page_ids(const char *json, int64_t *ids, int cap, int64_t *next)
{
    int n = 0;
    const char *p = strstr(json, "{\"events\":[");
    CHECK(p != NULL);
    while (p && (p = strstr(p, "{\"id\":")) != NULL) {
        CHECK(n < cap);
        if (n < cap)
            ids[n++] = strtoll(p + 6, NULL, 10);
        p += 6;
    }
    const char *nx = strstr(json, "\"next\":");
    *next = nx && nx[7] != 'n' ? strtoll(nx + 7, NULL, 10) : 0;
    return n;
}

static int checks_failed;

static void one_query(struct cw_store *s, int64_t since, int64_t until, uint32_t member,
                      bool newest, int limit)
{
    /* brute force */
    static int64_t want[NEV], got[NEV];
    int nwant = 0;
    for (int i = 0; i < NEV; i++) {
        int k = newest ? NEV - 1 - i : i;
        const struct ev *e = &evs[k];
        if ((since && e->last < since) || (until && e->first >= until) ||
            (member && e->member != member))
            continue;
        want[nwant++] = e->id;
    }
    /* the store, page by page */
    int ngot = 0;
    int64_t after = 0;
    char err[256];
    for (int pages = 0; pages < NEV; pages++) {
        struct cw_event_filter f = {.member_id = member, .attack_class = -1,
                                    .after_id = after, .limit = limit, .newest = newest,
                                    .since_us = since, .until_us = until};
        struct cw_buf out = CW_BUF_INIT;
        CHECK_EQ_INT(cw_store_events_json(s, &f, &out, err, sizeof(err)), 0);
        cw_buf_addc(&out, '\0');
        int64_t next = 0;
        int n = page_ids(out.data, got + ngot, NEV - ngot, &next);
        ngot += n;
        cw_buf_release(&out);
        if (!next)
            break;
        after = next;
    }
    bool same = ngot == nwant && memcmp(got, want, (size_t)ngot * sizeof(int64_t)) == 0;
    if (!same) {
        checks_failed++;
        printf("  range [%" PRId64 ", %" PRId64 ") member %u %s limit %d: got %d, want %d\n",
               (int64_t)(since ? (since - T0) / SEC : -1),
               (int64_t)(until ? (until - T0) / SEC : -1), member,
               newest ? "newest" : "oldest", limit, ngot, nwant);
    }
    CHECK(same);
}

int main(void)
{
    srand(7);
    char dir[] = "/tmp/cw-test-eventq-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    struct cw_store *s = NULL;
    struct cw_store_options opt = {.zstd_level = 1};
    char err[256];
    CHECK_EQ_INT(cw_store_open(&s, dir, &opt, err, sizeof(err)), 0);
    uint32_t m1 = 0, m2 = 0; /* the queue names each event's member */
    CHECK_EQ_INT(cw_store_member_add(s, "alpha", &m1, err, sizeof(err)), 0);
    CHECK_EQ_INT(cw_store_member_add(s, "beta", &m2, err, sizeof(err)), 0);
    CHECK(m1 == 1 && m2 == 2);
    fill(dir);

    int64_t end = T0 + (int64_t)NEV * 30 * SEC;
    /* ranges from minutes to the whole period, open at either end, members, orders */
    for (int q = 0; q < 150; q++) {
        int64_t a = T0 - 3600 * SEC + rnd(end - T0 + 7200 * SEC);
        int64_t len = q % 3 == 0 ? rnd(600 * SEC) : q % 3 == 1 ? rnd(6 * 3600 * SEC)
                                                               : rnd(end - T0);
        int64_t since = q % 7 == 3 ? 0 : a;
        int64_t until = q % 11 == 5 ? 0 : a + len + 1;
        one_query(s, since, until, q % 4 == 0 ? 1 + (uint32_t)(q / 4 % 2) : 0, q % 5 != 0,
                  q % 2 ? 50 : 500);
    }
    /* edges: before everything, after everything, a point in time */
    one_query(s, 0, T0 - 7200 * SEC, 0, true, 100);
    one_query(s, end + 30 * 86400 * SEC, 0, 0, true, 100);
    one_query(s, T0 + 5000 * SEC, T0 + 5000 * SEC + 1, 0, true, 100);
    printf("  150 random ranges + 3 edges over %d events: %d differed\n", NEV, checks_failed);

    cw_store_close(s);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK_EQ_INT(system(cmd), 0);
    return cw_test_finish("test_event_queue");
}
