/* test_incident_taxonomy.c - the national taxonomy table, the fiscal calendar
 * (April-March, UTC+9) at its edges, and the store's counting rules on a real store:
 * a ref stored once, causes without repeats, a report in exactly the rows it belongs to,
 * fiscal years outside 2000..2100 refused. */
#include <stdlib.h>
#include <unistd.h>

#include "center/incident_taxonomy.h"
#include "center/store.h"
#include "center/store_incidents.h"
#include "common/json.h"
#include "common/timefmt.h"
#include "testlib.h"

static int64_t t(const char *iso)
{
    int64_t us = 0;
    CHECK(cw_time_parse_iso(iso, strlen(iso), &us) == 0);
    return us;
}

static void calendar(void)
{
    CHECK_EQ_INT(cw_fiscal_quarter(t("2023-04-01T00:00:00+09:00")), 2023 * 4 + 0);
    CHECK_EQ_INT(cw_fiscal_quarter(t("2023-04-01T00:00:00+09:00") - 1), 2022 * 4 + 3);
    CHECK_EQ_INT(cw_fiscal_quarter(t("2023-03-31T15:00:00Z")), 2023 * 4 + 0);
    CHECK_EQ_INT(cw_fiscal_quarter(t("2023-03-31T14:59:59Z")), 2022 * 4 + 3);
    CHECK_EQ_INT(cw_fiscal_quarter(t("2023-06-30T23:59:59+09:00")), 2023 * 4 + 0);
    CHECK_EQ_INT(cw_fiscal_quarter(t("2023-07-01T00:00:00+09:00")), 2023 * 4 + 1);
    CHECK_EQ_INT(cw_fiscal_quarter(t("2023-12-31T23:59:59+09:00")), 2023 * 4 + 2);
    CHECK_EQ_INT(cw_fiscal_quarter(t("2024-01-01T00:00:00+09:00")), 2023 * 4 + 3);
    CHECK_EQ_INT(cw_fiscal_quarter(t("2024-02-29T12:00:00+09:00")), 2023 * 4 + 3);
    CHECK_EQ_INT(cw_fiscal_quarter(t("2024-03-31T23:59:59+09:00")), 2023 * 4 + 3);
    CHECK_EQ_INT(cw_fiscal_quarter(t("2024-04-01T00:00:00+09:00")), 2024 * 4 + 0);
    CHECK_EQ_INT(cw_fiscal_quarter_start(2023 * 4), t("2023-04-01T00:00:00+09:00"));
    CHECK_EQ_INT(cw_fiscal_quarter_start(2023 * 4 + 3), t("2024-01-01T00:00:00+09:00"));
    CHECK_EQ_INT(cw_fiscal_quarter_start(2023 * 4 + 4), t("2024-04-01T00:00:00+09:00"));
    int bad = 0;
    for (int32_t fq = 2000 * 4; fq <= 2100 * 4; fq++) {
        int64_t s = cw_fiscal_quarter_start(fq);
        bad += cw_fiscal_quarter(s) != fq || cw_fiscal_quarter(s - 1) != fq - 1;
    }
    CHECK_EQ_INT(bad, 0);
}

static void taxonomy(void)
{
    size_t want[CW_TAX__COUNT] = {8, 17, 4};
    for (int d = 0; d < CW_TAX__COUNT; d++) {
        size_t n;
        const struct cw_tax_entry *e = cw_tax_entries((enum cw_tax_dim)d, &n);
        CHECK_EQ_INT(n, want[d]);
        for (size_t i = 0; i < n; i++) {
            size_t idx = 99;
            CHECK(cw_tax_find((enum cw_tax_dim)d, e[i].code, &idx) == &e[i] && idx == i);
            CHECK(cw_tax_find((enum cw_tax_dim)d, e[i].key, NULL) == &e[i]);
            CHECK(e[i].ja[0] && e[i].en[0] && e[i].row[0]);
        }
    }
    CHECK(cw_tax_find(CW_TAX_EVENT, "E8", NULL) == NULL);
    CHECK(cw_tax_find(CW_TAX_CAUSE, "e01", NULL) == NULL);
    CHECK(cw_tax_find(CW_TAX_ATTACK, NULL, NULL) == NULL);
    CHECK_EQ_STR(cw_tax_find(CW_TAX_CAUSE, "C06", NULL)->ja, "適切なシステム運用の未実施");
    CHECK_EQ_STR(cw_tax_find(CW_TAX_EVENT, "intrusion", NULL)->ja, "システム等への侵入");
    struct cw_buf b = CW_BUF_INIT;
    cw_tax_json(&b);
    static jsmntok_t tok[2048];
    struct cw_json j;
    const char *err;
    CHECK(cw_json_parse(&j, b.data, b.len, tok, 2048, &err) == 0);
    CHECK(strstr(b.data, "未発生(予兆・ヒヤリハット)") != NULL);
    cw_buf_release(&b);
}

static void counting(void)
{
    char dir[] = "/tmp/test_incident_taxonomy_XXXXXX", err[256];
    CHECK(mkdtemp(dir) != NULL);
    struct cw_store *s;
    if (cw_store_open(&s, dir, NULL, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        CHECK(0);
        return;
    }
    uint32_t m;
    CHECK(cw_store_member_add(s, "op", &m, err, sizeof(err)) == 0);
    struct cw_incident_new n = {0};
    n.member_id = m;
    n.ref = "r1";
    n.title = "outage";
    n.reported_us = t("2023-10-01T00:00:00+09:00");
    n.event = "E3";
    n.causes[0] = "C12";
    n.causes[1] = "vulnerability";
    n.ncauses = 2;
    n.actor = "test";
    int64_t id, id2;
    bool dup;
    CHECK(cw_store_incident_create(s, &n, &id, &dup, err, sizeof(err)) == 0 && !dup);
    CHECK(cw_store_incident_create(s, &n, &id2, &dup, err, sizeof(err)) == 0 && dup);
    CHECK_EQ_INT(id2, id);
    n.ref = "r2";
    n.causes[1] = "C12";
    CHECK_EQ_INT(cw_store_incident_create(s, &n, &id2, &dup, err, sizeof(err)), CW_STORE_INVALID);
    n.causes[1] = "C99";
    CHECK_EQ_INT(cw_store_incident_create(s, &n, &id2, &dup, err, sizeof(err)), CW_STORE_INVALID);
    n.ncauses = 0;
    n.event = "E9";
    CHECK_EQ_INT(cw_store_incident_create(s, &n, &id2, &dup, err, sizeof(err)), CW_STORE_INVALID);
    n.event = NULL; /* unclassified: counts as a report only */
    n.reported_us = t("2024-03-31T23:00:00+09:00");
    CHECK(cw_store_incident_create(s, &n, &id2, &dup, err, sizeof(err)) == 0 && !dup);
    struct cw_stats_row rows[CW_STATS_ROWS];
    CHECK(cw_store_incident_stats(s, 2023, rows, err, sizeof(err)) == 0);
    int64_t rep[9] = {0, 0, 0, 0, 0, 0, 1, 1, 2}, one_q3[9] = {0, 0, 0, 0, 0, 0, 1, 0, 1};
    CHECK(memcmp(rows[CW_STATS_REPORTS].v, rep, sizeof(rep)) == 0);
    CHECK(memcmp(rows[CW_STATS_EVENT0 + 3].v, one_q3, sizeof(one_q3)) == 0);
    CHECK(memcmp(rows[CW_STATS_CAUSE0 + 11].v, one_q3, sizeof(one_q3)) == 0); /* C12 */
    CHECK(memcmp(rows[CW_STATS_CAUSE0 + 12].v, one_q3, sizeof(one_q3)) == 0); /* C13 */
    CHECK_EQ_INT(rows[CW_STATS_ATTACK_TOTAL].v[8], 0);
    CHECK_EQ_STR(rows[CW_STATS_CAUSE0 + 11].key, "cause.C12");
    CHECK(cw_store_incident_stats(s, 2027, rows, err, sizeof(err)) == 0);
    CHECK_EQ_INT(rows[CW_STATS_REPORTS].v[2] + rows[CW_STATS_REPORTS].v[3], 0);
    CHECK_EQ_INT(rows[CW_STATS_REPORTS].v[0], 2); /* FY2023 as the first column of FY2027 */
    CHECK_EQ_INT(cw_store_incident_stats(s, 1999, rows, err, sizeof(err)), CW_STORE_INVALID);
    CHECK_EQ_INT(cw_store_incident_stats(s, 2101, rows, err, sizeof(err)), CW_STORE_INVALID);
    cw_store_close(s);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

int main(void)
{
    calendar();
    taxonomy();
    counting();
    return cw_test_finish("test_incident_taxonomy");
}
