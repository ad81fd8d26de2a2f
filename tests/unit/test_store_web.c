/* test_store_web.c - the dashboard's counters: records, kept detections and noise per
 * hour / day / month for every member and for one member, over ranges that start and end
 * inside a day (day buckets then join the daily roll-up with hourly counters at both
 * ends), against counts kept by the test itself for each ingested record. Then the noise
 * summary and the live noise counters against the same counts, and the same answers
 * after the daily roll-up was dropped and rebuilt from the hourly counters on open. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "center/store.h"
#include "center/store_web.h"
#include "common/buf.h"
#include "common/timefmt.h"
#include "formats/format.h"
#include "testlib.h"
#include "triage/noise.h"

#define HOUR_US 3600000000LL
#define DAYS 12
#define HOURS (DAYS * 24)
#define KINDS 8 /* 0 = records, 1 + noise reason (1 = kept detections) */

static int64_t base_hour;         /* first hour of the test period */
static int64_t want[3][HOURS][KINDS]; /* [member 1..2][hour][kind]; [0] = every member */

static int64_t rnd(int64_t n)
{
    return (int64_t)(((uint64_t)rand() << 31 ^ (uint64_t)rand()) % (uint64_t)n);
}

/* One batch of n records of member m at random times, about half of them detections
 * with a random noise verdict; the expected counts are added as they are made. */
static void ingest_one(struct cw_store *s, uint32_t m, uint32_t sensor, int n)
{
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct cw_buf text = CW_BUF_INIT;
    int64_t hours[64];
    for (int i = 0; i < n; i++) {
        hours[i] = rnd(HOURS);
        time_t t = (time_t)((base_hour + hours[i]) * 3600 + rnd(3600));
        struct tm tm;
        gmtime_r(&t, &tm);
        cw_buf_addf(&text,
                    "192.0.2.%d - - [%02d/%s/%04d:%02d:%02d:%02d +0000] \"GET /x%d HTTP/1.1\" 200"
                    " 1 \"-\" \"ua\"\n",
                    1 + i, tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                    tm.tm_sec, i);
    }
    struct cw_batch b;
    cw_batch_init(&b);
    struct cw_parse_ctx ctx = {m, sensor, cw_now_us()};
    cw_format_parse_body(cw_format_find("combined"), &b, &ctx, text.data, text.len, 1 << 20,
                         NULL);
    CHECK_EQ_INT(b.n, n);
    struct cw_detection dets[64];
    struct cw_triage_result tr;
    memset(&tr, 0, sizeof(tr));
    tr.ds.d = dets;
    for (uint32_t i = 0; i < b.n; i++) {
        int64_t h = b.recs[i].ts_us / HOUR_US - base_hour;
        CHECK(h == hours[i]);
        want[m][h][0]++;
        want[0][h][0]++;
        if (rnd(2))
            continue;
        struct cw_detection *d = &dets[tr.ds.n++];
        memset(d, 0, sizeof(*d));
        d->rec = i;
        d->severity = 3;
        d->noise = (uint8_t)rnd(6); /* kept, suppressed, blocked, failed, n/a, recon */
        snprintf(d->rule_id, sizeof(d->rule_id), "test:%u", i);
        d->rule_name = "test rule";
        d->rule_name_len = 9;
        want[m][h][1 + d->noise]++;
        want[0][h][1 + d->noise]++;
    }
    tr.ds.cap = tr.ds.n;
    struct cw_ingest_batch in = {.member_id = m, .sensor_id = sensor, .format = "combined",
                                 .received_us = cw_now_us(), .batch = &b, .triage = &tr};
    struct cw_ingest_result r;
    char err[256];
    CHECK_EQ_INT(cw_store_ingest(s, &in, &r, err, sizeof(err)), 0);
    cw_batch_release(&b);
    cw_buf_release(&text);
}

static int64_t bucket_of(int64_t hour, enum cw_series_bucket bk)
{
    if (bk == CW_BUCKET_HOUR)
        return hour * HOUR_US;
    int64_t day = hour / 24;
    if (bk == CW_BUCKET_DAY)
        return day * 24 * HOUR_US;
    time_t t = (time_t)(day * 86400);
    struct tm tm;
    gmtime_r(&t, &tm);
    return cw_days_from_civil(tm.tm_year + 1900, (unsigned)tm.tm_mon + 1, 1) * 86400 * 1000000;
}

/* The CSV the store should answer, from the test's own counts. */
static void expected_csv(struct cw_buf *o, int scope, enum cw_series_metric m,
                         enum cw_series_bucket bk, int64_t from_us, int64_t to_us)
{
    int64_t h0 = from_us / HOUR_US, h1 = (to_us - 1) / HOUR_US + 1;
    cw_buf_adds(o, m == CW_SERIES_NOISE ? "t,reason,value\n" : "t,value\n");
    int64_t cur = INT64_MIN, sum = 0, per[KINDS] = {0};
    for (int64_t h = h0; h <= h1; h++) {
        int64_t b = h < h1 ? bucket_of(h, bk) : INT64_MAX;
        if (b != cur && cur != INT64_MIN && (sum || m == CW_SERIES_NOISE)) {
            char ts[40];
            cw_time_format_iso(cur, ts);
            if (m != CW_SERIES_NOISE)
                cw_buf_addf(o, "%s,%lld\n", ts, (long long)sum);
            for (int k = 2; m == CW_SERIES_NOISE && k < 7; k++)
                if (per[k])
                    cw_buf_addf(o, "%s,%s,%lld\n", ts,
                                cw_noise_reason_name((enum cw_noise_reason)(k - 1)),
                                (long long)per[k]);
        }
        if (b != cur) {
            sum = 0;
            memset(per, 0, sizeof(per));
            cur = b;
        }
        if (h == h1)
            break;
        int64_t i = h - base_hour;
        if (i < 0 || i >= HOURS)
            continue;
        const int64_t *c = want[scope][i];
        if (m == CW_SERIES_RECORDS)
            sum += c[0];
        else if (m == CW_SERIES_DETECTIONS)
            sum += c[1];
        for (int k = 2; k < 7; k++)
            per[k] += c[k];
    }
}

/* Every metric, bucket and scope over random ranges: the store's CSV == the expected. */
static void check_series(struct cw_store *s, uint32_t m1, uint32_t m2, int rounds)
{
    static const enum cw_series_metric metrics[] = {CW_SERIES_RECORDS, CW_SERIES_DETECTIONS,
                                                    CW_SERIES_NOISE};
    uint32_t scopes[3] = {0, m1, m2};
    int bad = 0;
    for (int r = 0; r < rounds; r++) {
        /* from a few hours before the data to a few after, on any second */
        int64_t from = (base_hour - 30) * HOUR_US + rnd((HOURS + 30) * 3600LL) * 1000000;
        int64_t to = from + 1000000 + rnd((HOURS + 60) * 3600LL) * 1000000;
        if (r == 0) { /* whole days, as the dashboard's month view asks */
            from = base_hour * HOUR_US;
            to = (base_hour + HOURS) * HOUR_US;
        }
        for (int mi = 0; mi < 3; mi++)
            for (int bk = 0; bk < 3; bk++)
                for (int sc = 0; sc < 3; sc++) {
                    struct cw_buf got = CW_BUF_INIT, exp = CW_BUF_INIT;
                    char err[256];
                    int rc = cw_store_series(s, scopes[sc], metrics[mi], (enum cw_series_bucket)bk,
                                             from, to, true, &got, err, sizeof(err));
                    expected_csv(&exp, sc, metrics[mi], (enum cw_series_bucket)bk, from, to);
                    bool same = rc == 0 && got.len == exp.len &&
                                memcmp(got.data, exp.data, got.len) == 0;
                    if (!same && bad++ < 3)
                        fprintf(stderr, "series metric %d bucket %d scope %d from %lld to %lld:\n"
                                        "got:\n%.*s\nwant:\n%.*s\n",
                                (int)metrics[mi], bk, sc, (long long)from, (long long)to,
                                (int)got.len, got.data ? got.data : "", (int)exp.len,
                                exp.data ? exp.data : "");
                    CHECK(same);
                    cw_buf_release(&got);
                    cw_buf_release(&exp);
                }
    }
}

static void check_totals(struct cw_store *s, uint32_t m1, uint32_t m2)
{
    uint32_t scopes[3] = {0, m1, m2};
    for (int sc = 0; sc < 3; sc++) {
        int64_t tot[KINDS] = {0};
        for (int h = 0; h < HOURS; h++)
            for (int k = 0; k < KINDS; k++)
                tot[k] += want[sc][h][k];
        struct cw_live_counters lc;
        char err[256];
        CHECK_EQ_INT(cw_store_live_counters(s, scopes[sc], cw_now_us(), HOUR_US, &lc, err,
                                            sizeof(err)), 0);
        CHECK_EQ_INT(lc.detections, tot[1]);
        for (int k = 1; k < 6; k++)
            CHECK_EQ_INT(lc.noise[k], tot[1 + k]);
        /* the noise summary: one row per reason seen, each with its count */
        struct cw_buf o = CW_BUF_INIT;
        CHECK_EQ_INT(cw_store_summary(s, scopes[sc], "noise_reason", true, 0, &o, err,
                                      sizeof(err)), 0);
        int64_t seen = 0;
        for (int k = 1; k < 6; k++) {
            char line[96];
            const char *name = cw_noise_reason_name((enum cw_noise_reason)k);
            char label[40];
            snprintf(label, sizeof(label), "%s", name);
            for (char *p = label; *p; p++)
                if (*p == '_')
                    *p = ' ';
            snprintf(line, sizeof(line), "\"%s\",\"%s\",%lld\n", name, label,
                     (long long)tot[1 + k]);
            bool has = o.data && strstr(o.data, line) != NULL;
            CHECK(has == (tot[1 + k] > 0));
            seen += has ? tot[1 + k] : 0;
        }
        CHECK_EQ_INT(seen, tot[2] + tot[3] + tot[4] + tot[5] + tot[6]);
        cw_buf_release(&o);
    }
}

int main(void)
{
    char dir[] = "/tmp/cw-test-store-web-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    srand(20261125);
    char err[256];
    struct cw_store *s = NULL;
    struct cw_store_options opt = {.zstd_level = 1, .readers = 2};
    CHECK_EQ_INT(cw_store_open(&s, dir, &opt, err, sizeof(err)), 0);
    if (!s)
        return cw_test_finish("test_store_web");
    uint32_t m1, m2;
    CHECK_EQ_INT(cw_store_member_add(s, "alpha", &m1, err, sizeof(err)), 0);
    CHECK_EQ_INT(cw_store_member_add(s, "beta", &m2, err, sizeof(err)), 0);
    CHECK(m1 == 1 && m2 == 2);
    struct cw_sensor_info s1, s2;
    char k1[128], k2[128];
    CHECK_EQ_INT(cw_store_sensor_add(s, m1, "web", &s1, k1, sizeof(k1), err, sizeof(err)), 0);
    CHECK_EQ_INT(cw_store_sensor_add(s, m2, "web", &s2, k2, sizeof(k2), err, sizeof(err)), 0);
    /* 2024-04-27 00:00Z: the period crosses the end of April (a month bucket edge) */
    base_hour = cw_days_from_civil(2024, 4, 27) * 24;
    for (int i = 0; i < 120; i++) {
        bool alpha = rnd(3) != 0;
        ingest_one(s, alpha ? m1 : m2, alpha ? s1.id : s2.id, 1 + (int)rnd(40));
    }
    check_series(s, m1, m2, 40);
    check_totals(s, m1, m2);
    cw_store_close(s);

    /* a store from before the daily roll-up: rebuilt from the hourly counters on open */
    char path[512];
    snprintf(path, sizeof(path), "%s/crosswatch.db", dir);
    sqlite3 *db = NULL;
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_exec(db, "DELETE FROM web_days", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    s = NULL;
    CHECK_EQ_INT(cw_store_open(&s, dir, &opt, err, sizeof(err)), 0);
    if (s) {
        check_series(s, m1, m2, 20);
        check_totals(s, m1, m2);
        /* and it keeps counting after the rebuild */
        ingest_one(s, m2, s2.id, 30);
        check_series(s, m1, m2, 10);
        check_totals(s, m1, m2);
        cw_store_close(s);
    }
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK_EQ_INT(system(cmd), 0);
    return cw_test_finish("test_store_web");
}
