/* bench_stats.c - the fiscal-year statistics (issue 10) over N incident reports (with
 * 1-3 causes each, two thirds with an attack kind), N/10 shared items and M events
 * spread over FY2019-FY2023, in a real store. Times cw_store_incident_stats() (best and
 * median of --runs) and, in the same run on the same database, the peer: the same table
 * computed the plain way in Python (bench_stats_peer.py); both answers must agree.
 * Not a test: prints figures, asserts only equality of the answers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "center/store.h"
#include "center/store_incidents.h"
#include "common/timefmt.h"
#include "common/banned.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Rows straight into the store's tables, in one transaction (the store is closed). */
static int fill(const char *db, long reports, long events)
{
    sqlite3 *d;
    if (sqlite3_open(db, &d) != SQLITE_OK)
        return -1;
    sqlite3_exec(d, "PRAGMA synchronous=OFF; BEGIN", NULL, NULL, NULL);
    sqlite3_exec(d, "INSERT INTO members(id, name, created_us) VALUES(1, 'bench-op', 0)", NULL,
                 NULL, NULL);
    sqlite3_stmt *inc, *cause, *item, *ev;
    sqlite3_prepare_v2(d,
                       "INSERT INTO incidents(member_id, sector_id, title, reported_us, fq,"
                       " status, event_code, attack_code, created_by, updated_us)"
                       " VALUES(1, 1, 'bench', ?1, ?2, 'reported', ?3, ?4, 'bench', ?1)",
                       -1, &inc, NULL);
    sqlite3_prepare_v2(d, "INSERT OR IGNORE INTO incident_causes(incident_id, cause_code, fq)"
                          " VALUES(?,?,?)", -1, &cause, NULL);
    sqlite3_prepare_v2(d, "INSERT INTO shared_items(kind, title, sent_us, fq, created_by)"
                          " VALUES(?, 'bench', ?, ?, 'bench')", -1, &item, NULL);
    sqlite3_prepare_v2(d,
                       "INSERT INTO events(member_id, attack_class, severity, state, first_us,"
                       " last_us, count, distinct_sources, distinct_targets, created_us,"
                       " updated_us) VALUES(1, 'web_attack', 3, ?2, ?1, ?1, 1, 1, 1, ?1, ?1)",
                       -1, &ev, NULL);
    int64_t lo = cw_fiscal_quarter_start(2019 * 4), span = cw_fiscal_quarter_start(2024 * 4) - lo;
    size_t ne, nc, na;
    const struct cw_tax_entry *E = cw_tax_entries(CW_TAX_EVENT, &ne);
    const struct cw_tax_entry *C = cw_tax_entries(CW_TAX_CAUSE, &nc);
    const struct cw_tax_entry *A = cw_tax_entries(CW_TAX_ATTACK, &na);
    static const char *const kinds[] = {"alert", "advisory", "ministry_info"};
    for (long i = 0; i < reports; i++) {
        int64_t t = lo + (int64_t)(next() % (uint64_t)span);
        int32_t fq = cw_fiscal_quarter(t);
        sqlite3_reset(inc);
        sqlite3_bind_int64(inc, 1, t);
        sqlite3_bind_int(inc, 2, fq);
        sqlite3_bind_text(inc, 3, E[next() % ne].code, -1, SQLITE_STATIC);
        if (next() % 3)
            sqlite3_bind_text(inc, 4, A[next() % na].code, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(inc, 4);
        sqlite3_step(inc);
        int64_t id = sqlite3_last_insert_rowid(d);
        for (int k = 0, n = 1 + (int)(next() % 3); k < n; k++) {
            sqlite3_reset(cause);
            sqlite3_bind_int64(cause, 1, id);
            sqlite3_bind_text(cause, 2, C[next() % nc].code, -1, SQLITE_STATIC);
            sqlite3_bind_int(cause, 3, fq);
            sqlite3_step(cause);
        }
        if (i % 10 == 0) {
            sqlite3_reset(item);
            sqlite3_bind_text(item, 1, kinds[next() % 3], -1, SQLITE_STATIC);
            sqlite3_bind_int64(item, 2, t);
            sqlite3_bind_int(item, 3, fq);
            sqlite3_step(item);
        }
    }
    for (long i = 0; i < events; i++) {
        int64_t t = lo + (int64_t)(next() % (uint64_t)span);
        sqlite3_reset(ev);
        sqlite3_bind_int64(ev, 1, t);
        sqlite3_bind_text(ev, 2, next() % 20 ? "resolved" : "duplicate", -1, SQLITE_STATIC);
        sqlite3_step(ev);
    }
    int rc = sqlite3_exec(d, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
    if (rc)
        fprintf(stderr, "bench_stats: %s\n", sqlite3_errmsg(d));
    sqlite3_finalize(inc);
    sqlite3_finalize(cause);
    sqlite3_finalize(item);
    sqlite3_finalize(ev);
    sqlite3_close(d);
    return rc;
}

/* The peer's value of key (9 numbers after "key":[ in its JSON). */
static int peer_row(const char *json, const char *key, int64_t v[9])
{
    char pat[64];
    if (snprintf(pat, sizeof(pat), "\"%.50s\": [", key) >= (int)sizeof(pat))
        return 0;
    const char *p = strstr(json, pat);
    memset(v, 0, 9 * sizeof(int64_t));
    if (!p)
        return 0; /* a row the peer never saw is all zeros */
    p += strlen(pat);
    for (int k = 0; k < 9; k++) {
        char *end;
        v[k] = strtoll(p, &end, 10);
        p = end + (*end == ',' ? 1 : 0);
        while (*p == ' ')
            p++;
    }
    return 0;
}

int main(int argc, char **argv)
{
    long reports = 100000, events = 1000000;
    int runs = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--reports"))
            reports = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--events"))
            events = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--runs"))
            runs = atoi(argv[i + 1]);
    }
    if (reports < 1 || events < 0 || runs < 1 || runs > 100) {
        fprintf(stderr, "usage: bench_stats [--reports N] [--events N] [--runs N]\n");
        return 2;
    }
    char dir[] = "/tmp/bench_stats_XXXXXX", db[256], err[256];
    if (!mkdtemp(dir))
        return 1;
    snprintf(db, sizeof(db), "%s/crosswatch.db", dir);
    struct cw_store *s;
    if (cw_store_open(&s, dir, NULL, err, sizeof(err))) {
        fprintf(stderr, "bench_stats: %s\n", err);
        return 1;
    }
    cw_store_close(s);
    double t0 = now_ms();
    if (fill(db, reports, events))
        return 1;
    double fill_ms = now_ms() - t0;
    if (cw_store_open(&s, dir, NULL, err, sizeof(err)))
        return 1;
    struct cw_stats_row rows[CW_STATS_ROWS];
    double *ms = calloc((size_t)runs, sizeof(double));
    for (int r = 0; r < runs; r++) {
        t0 = now_ms();
        if (cw_store_incident_stats(s, 2023, rows, err, sizeof(err))) {
            fprintf(stderr, "bench_stats: %s\n", err);
            return 1;
        }
        ms[r] = now_ms() - t0;
    }
    qsort(ms, (size_t)runs, sizeof(double), cmp);
    cw_store_close(s);
    /* the peer, same database, same run */
    char cmd[512], *peer = NULL;
    size_t cap = 0, len = 0;
    snprintf(cmd, sizeof(cmd), "python3 %s %s 2023", CW_BENCH_PEER, db);
    FILE *p = popen(cmd, "r");
    if (p) {
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), p)) > 0) {
            if (len + n + 1 > cap) {
                cap = (len + n + 1) * 2;
                peer = realloc(peer, cap);
            }
            memcpy(peer + len, buf, n);
            len += n;
        }
        pclose(p);
    }
    if (peer)
        peer[len] = '\0';
    double peer_ms = peer && strstr(peer, "\"ms\": ") ? atof(strstr(peer, "\"ms\": ") + 6) : -1;
    int differ = 0;
    for (int r = 0; peer && r < CW_STATS_ROWS; r++) {
        int64_t v[9];
        if (!strcmp(rows[r].key, "monitoring.indicators"))
            continue; /* no indicator table in this bench */
        peer_row(peer, rows[r].key, v);
        if (memcmp(v, rows[r].v, sizeof(v))) {
            fprintf(stderr, "bench_stats: row %s differs from the peer\n", rows[r].key);
            differ++;
        }
    }
    struct utsname un;
    uname(&un);
    printf("bench_stats: fiscal-year statistics (FY2019-FY2023 table), build %s\n",
           CW_BENCH_BUILD_TYPE);
    printf("machine: %s %s, %ld online CPUs; SQLite %s\n", un.sysname, un.machine,
           sysconf(_SC_NPROCESSORS_ONLN), sqlite3_libversion());
    printf("data: %ld reports (%lld in FY2023), %ld shared items, %ld events; filled in %.0f ms\n",
           reports, (long long)rows[CW_STATS_REPORTS].v[8], reports / 10 + (reports % 10 != 0),
           events, fill_ms);
    printf("crosswatch cw_store_incident_stats: best %.1f ms, median %.1f ms (%d runs)\n", ms[0],
           ms[runs / 2], runs);
    printf("peer (Python sqlite3 + per-row fiscal bucketing): %.1f ms\n", peer_ms);
    printf("answers: %s\n", !peer ? "peer did not run" : differ ? "DIFFER" : "identical");
    char rm[300];
    snprintf(rm, sizeof(rm), "rm -rf %s", dir);
    if (system(rm) != 0)
        fprintf(stderr, "bench_stats: could not remove %s\n", dir);
    free(ms);
    free(peer);
    return differ ? 1 : 0;
}
