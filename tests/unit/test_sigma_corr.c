/* test_sigma_corr.c - Sigma correlation rules on access-log records parsed with the
 * real "combined" format, with real base rules and the real field map. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/sigma_corr.h"
#include "detect/sigma_ruleset.h"
#include "formats/format.h"
#include "testlib.h"

static char fieldmap[4096];

/* -- base rules ------------------------------------------------------------ */

#define FAILED_ID "11111111-0000-4000-8000-000000000001"
#define OK_ID "11111111-0000-4000-8000-000000000002"
#define ADMIN_ID "11111111-0000-4000-8000-000000000003"
#define PROBE_ID "11111111-0000-4000-8000-000000000004"

static const char failed_rule[] =
    "title: Failed login\n"
    "id: " FAILED_ID "\n"
    "name: failed_login\n"
    "level: low\n"
    "logsource:\n  category: webserver\n"
    "detection:\n  sel:\n    cs-uri-stem: /login\n    sc-status: 401\n  condition: sel\n";
static const char ok_rule[] =
    "title: Successful login\n"
    "id: " OK_ID "\n"
    "name: ok_login\n"
    "level: informational\n"
    "logsource:\n  category: webserver\n"
    "detection:\n  sel:\n    cs-uri-stem: /login\n    sc-status: 200\n  condition: sel\n";
static const char admin_rule[] =
    "title: Admin page\n"
    "id: " ADMIN_ID "\n"
    "name: admin_page\n"
    "logsource:\n  category: webserver\n"
    "detection:\n  sel:\n    cs-uri-stem|startswith: /admin\n  condition: sel\n";
static const char probe_rule[] =
    "title: Not found\n"
    "id: " PROBE_ID "\n"
    "name: probe_404\n"
    "logsource:\n  category: webserver\n"
    "detection:\n  sel:\n    sc-status: 404\n  condition: sel\n";

/* -- helpers --------------------------------------------------------------- */

static void init_rs(struct sigma_ruleset *rs)
{
    char err[256];
    int rc = sigma_ruleset_init(rs, fieldmap, err, sizeof(err));
    if (rc)
        fprintf(stderr, "fieldmap: %s\n", err);
    CHECK(rc == 0);
    CHECK_EQ_INT(sigma_ruleset_add(rs, "failed.yml", failed_rule, strlen(failed_rule)), 0);
    CHECK_EQ_INT(sigma_ruleset_add(rs, "ok.yml", ok_rule, strlen(ok_rule)), 0);
    CHECK_EQ_INT(sigma_ruleset_add(rs, "admin.yml", admin_rule, strlen(admin_rule)), 0);
    CHECK_EQ_INT(sigma_ruleset_add(rs, "probe.yml", probe_rule, strlen(probe_rule)), 0);
}

/* Base rules + one correlation rule (must load). */
static void init_with(struct sigma_ruleset *rs, const char *corr)
{
    init_rs(rs);
    int rc = sigma_ruleset_add(rs, "corr.yml", corr, strlen(corr));
    if (rc)
        fprintf(stderr, "correlation skipped: line %u: %s\n", rs->rep[rs->nrep - 1].line,
                rs->rep[rs->nrep - 1].reason);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(sigma_corr_resolve(rs), 0);
    CHECK(rs->rep[rs->nrep - 1].reason == NULL);
}

/* One combined-log line: ip, seconds after 2023-10-10 13:00:00, path, status. */
static void line(struct cw_buf *b, const char *ip, int sec, const char *path, int status)
{
    cw_buf_addf(b, "%s - - [10/Oct/2023:%02d:%02d:%02d +0000] \"GET %s HTTP/1.1\" %d 12 \"-\" "
                   "\"test\"\n",
                ip, 13 + sec / 3600, sec / 60 % 60, sec % 60, path, status);
}

/* Parse text as member `member`, run Sigma + correlation. Returns the correlation
 * hits of corr_id as "rec,rec,...". */
static const char *run(struct sigma_ruleset *rs, const char *text, uint32_t member,
                       const char *corr_id, struct cw_detections *ds)
{
    static char out[4096];
    struct cw_batch b;
    struct cw_parse_ctx ctx = {member, 1, 0};
    cw_batch_init(&b);
    CHECK_EQ_INT(cw_format_parse_body(cw_format_find("combined"), &b, &ctx, text, strlen(text),
                                      CW_MAX_LINE_DEFAULT, NULL), 0);
    CHECK_EQ_INT(b.nrej, 0);
    uint32_t from = ds->n;
    CHECK_EQ_INT(cw_detect_sigma(rs, &b, ds), 0);
    CHECK_EQ_INT(sigma_corr_detect(rs, &b, ds, from), 0);
    out[0] = '\0';
    size_t n = 0;
    for (uint32_t i = from; i < ds->n; i++)
        if (!strcmp(ds->d[i].rule_id, corr_id))
            n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%u", n ? "," : "", ds->d[i].rec);
    cw_batch_release(&b);
    return out;
}

static int count_id(const struct cw_detections *ds, const char *id)
{
    int n = 0;
    for (uint32_t i = 0; i < ds->n; i++)
        n += !strcmp(ds->d[i].rule_id, id);
    return n;
}

/* -- event_count ----------------------------------------------------------- */

#define EC_ID "c0000000-0000-4000-8000-000000000001"
static const char ec_rule[] = "title: Password spray on login\n"
                              "id: " EC_ID "\n"
                              "level: high\n"
                              "correlation:\n"
                              "  type: event_count\n"
                              "  rules:\n    - failed_login\n"
                              "  group-by:\n    - c-ip\n"
                              "  timespan: 60s\n"
                              "  condition:\n    gte: 3\n";

static void test_event_count(void)
{
    struct sigma_ruleset rs;
    struct cw_detections ds;
    struct cw_buf t = CW_BUF_INIT;
    init_with(&rs, ec_rule);
    cw_detections_init(&ds);
    line(&t, "10.0.0.1", 0, "/login", 401);   /* 0 */
    line(&t, "10.0.0.2", 1, "/login", 401);   /* 1 other group */
    line(&t, "10.0.0.1", 10, "/login", 401);  /* 2 */
    line(&t, "10.0.0.1", 11, "/index", 401);  /* 3 not the base rule */
    line(&t, "10.0.0.1", 20, "/login", 401);  /* 4 third in 60s: fires */
    line(&t, "10.0.0.1", 30, "/login", 401);  /* 5 state was cleared: 1 */
    line(&t, "10.0.0.2", 40, "/login", 401);  /* 6 group 2: 2 */
    line(&t, "10.0.0.1", 40, "/login", 401);  /* 7 2 */
    line(&t, "10.0.0.1", 50, "/login", 401);  /* 8 3: fires again */
    CHECK_EQ_STR(run(&rs, t.data, 1, EC_ID, &ds), "4,8");
    /* the correlation detection: title, severity from level, attack class from title */
    for (uint32_t i = 0; i < ds.n; i++)
        if (!strcmp(ds.d[i].rule_id, EC_ID)) {
            CHECK_EQ_MEM(ds.d[i].rule_name, ds.d[i].rule_name_len, "Password spray on login");
            CHECK_EQ_INT(ds.d[i].severity, CW_SEV_HIGH);
            CHECK_EQ_INT(ds.d[i].source, CW_DET_SIGMA);
            CHECK_EQ_INT(ds.d[i].attack_class, CW_AC_CREDENTIAL);
        }
    /* generate: false (default): the base detections are consumed */
    CHECK_EQ_INT(count_id(&ds, FAILED_ID), 0);
    struct sigma_corr_stats st;
    sigma_corr_stats(&rs, &st);
    CHECK_EQ_INT(st.rules, 1);
    CHECK_EQ_INT(st.fired, 2);
    CHECK_EQ_INT(st.consumed, 9 - 1);
    CHECK_EQ_INT(st.states, 1); /* 10.0.0.1 fired last: cleared; 10.0.0.2 holds 2 */

    /* window boundaries: 60s inclusive */
    cw_buf_clear(&t);
    line(&t, "10.0.1.1", 100, "/login", 401); /* 0 */
    line(&t, "10.0.1.1", 130, "/login", 401); /* 1 */
    line(&t, "10.0.1.1", 160, "/login", 401); /* 2 exactly 60s after 0: inside, fires */
    line(&t, "10.0.1.2", 100, "/login", 401); /* 3 */
    line(&t, "10.0.1.2", 130, "/login", 401); /* 4 */
    line(&t, "10.0.1.2", 161, "/login", 401); /* 5 61s after 3: outside, 2 in window */
    line(&t, "10.0.1.2", 162, "/login", 401); /* 6 130,161,162: fires */
    CHECK_EQ_STR(run(&rs, t.data, 1, EC_ID, &ds), "2,6");

    /* state spans batches */
    cw_buf_clear(&t);
    line(&t, "10.0.2.1", 200, "/login", 401);
    line(&t, "10.0.2.1", 201, "/login", 401);
    CHECK_EQ_STR(run(&rs, t.data, 1, EC_ID, &ds), "");
    cw_buf_clear(&t);
    line(&t, "10.0.2.1", 202, "/login", 401);
    CHECK_EQ_STR(run(&rs, t.data, 1, EC_ID, &ds), "0");

    /* members never share a group */
    cw_buf_clear(&t);
    line(&t, "10.0.3.1", 300, "/login", 401);
    line(&t, "10.0.3.1", 301, "/login", 401);
    CHECK_EQ_STR(run(&rs, t.data, 7, EC_ID, &ds), "");
    cw_buf_clear(&t);
    line(&t, "10.0.3.1", 302, "/login", 401);
    CHECK_EQ_STR(run(&rs, t.data, 8, EC_ID, &ds), "");
    CHECK_EQ_STR(run(&rs, t.data, 7, EC_ID, &ds), "0");

    cw_detections_release(&ds);
    cw_buf_release(&t);
    sigma_ruleset_release(&rs);
}

static void test_generate_true(void)
{
    static const char rule[] = "title: Brute force, keep base hits\n"
                               "id: c0000000-0000-4000-8000-000000000009\n"
                               "generate: true\n"
                               "correlation:\n"
                               "  type: event_count\n"
                               "  rules: " FAILED_ID "\n" /* by id, scalar form */
                               "  timespan: 1m\n"
                               "  condition:\n    gt: 1\n";
    struct sigma_ruleset rs;
    struct cw_detections ds;
    struct cw_buf t = CW_BUF_INIT;
    init_with(&rs, rule);
    cw_detections_init(&ds);
    line(&t, "10.0.0.1", 0, "/login", 401);
    line(&t, "10.0.0.9", 5, "/login", 401); /* no group-by: one group per member */
    CHECK_EQ_STR(run(&rs, t.data, 1, "c0000000-0000-4000-8000-000000000009", &ds), "1");
    CHECK_EQ_INT(count_id(&ds, FAILED_ID), 2);
    cw_detections_release(&ds);
    cw_buf_release(&t);
    sigma_ruleset_release(&rs);
}

/* -- value_count ----------------------------------------------------------- */

#define VC_ID "c0000000-0000-4000-8000-000000000002"
static const char vc_rule[] = "title: Path scanning from one client\n"
                              "id: " VC_ID "\n"
                              "correlation:\n"
                              "  type: value_count\n"
                              "  rules:\n    - probe_404\n"
                              "  group-by:\n    - c-ip\n"
                              "  timespan: 1m\n"
                              "  condition:\n    field: cs-uri-stem\n    gte: 3\n";

static void test_value_count(void)
{
    struct sigma_ruleset rs;
    struct cw_detections ds;
    struct cw_buf t = CW_BUF_INIT;
    init_with(&rs, vc_rule);
    cw_detections_init(&ds);
    line(&t, "10.0.0.1", 0, "/a", 404);  /* 0 */
    line(&t, "10.0.0.1", 1, "/b", 404);  /* 1 */
    line(&t, "10.0.0.1", 2, "/a", 404);  /* 2 repeat: still 2 distinct */
    line(&t, "10.0.0.1", 3, "/b", 404);  /* 3 */
    line(&t, "10.0.0.2", 3, "/c", 404);  /* 4 other client */
    line(&t, "10.0.0.1", 4, "/c", 200);  /* 5 not a 404 */
    line(&t, "10.0.0.1", 5, "/c", 404);  /* 6 third distinct: fires */
    /* boundaries: /a at 100 expires for the window ending at 161 */
    line(&t, "10.0.0.3", 100, "/a", 404); /* 7 */
    line(&t, "10.0.0.3", 130, "/b", 404); /* 8 */
    line(&t, "10.0.0.3", 161, "/c", 404); /* 9 /a is 61s old: 2 distinct */
    line(&t, "10.0.0.3", 162, "/d", 404); /* 10 /b /c /d: fires */
    line(&t, "10.0.0.4", 100, "/a", 404); /* 11 */
    line(&t, "10.0.0.4", 130, "/b", 404); /* 12 */
    line(&t, "10.0.0.4", 160, "/c", 404); /* 13 exactly 60s: inside, fires */
    CHECK_EQ_STR(run(&rs, t.data, 1, VC_ID, &ds), "6,10,13");
    for (uint32_t i = 0; i < ds.n; i++)
        if (!strcmp(ds.d[i].rule_id, VC_ID)) {
            CHECK_EQ_INT(ds.d[i].severity, CW_SEV_MEDIUM); /* no level */
            CHECK_EQ_INT(ds.d[i].attack_class, CW_AC_SCANNING);
        }
    struct sigma_corr_stats st;
    sigma_corr_stats(&rs, &st);
    CHECK_EQ_INT(st.value_overflow, 0);
    cw_detections_release(&ds);
    cw_buf_release(&t);
    sigma_ruleset_release(&rs);
}

/* -- temporal -------------------------------------------------------------- */

#define TP_ID "c0000000-0000-4000-8000-000000000003"
static const char tp_rule[] = "title: Failed login and admin access\n"
                              "id: " TP_ID "\n"
                              "level: critical\n"
                              "correlation:\n"
                              "  type: temporal\n"
                              "  rules:\n    - failed_login\n    - admin_page\n"
                              "  group-by:\n    - c-ip\n"
                              "  timespan: 30s\n";

static void test_temporal(void)
{
    struct sigma_ruleset rs;
    struct cw_detections ds;
    struct cw_buf t = CW_BUF_INIT;
    init_with(&rs, tp_rule);
    cw_detections_init(&ds);
    line(&t, "10.0.0.1", 0, "/admin/x", 200); /* 0 */
    line(&t, "10.0.0.1", 10, "/login", 401);  /* 1 both within 30s, any order: fires */
    line(&t, "10.0.0.2", 0, "/login", 401);   /* 2 */
    line(&t, "10.0.0.2", 31, "/admin", 200);  /* 3 31s: outside */
    line(&t, "10.0.0.3", 0, "/login", 401);   /* 4 */
    line(&t, "10.0.0.3", 30, "/admin", 200);  /* 5 30s: inside, fires */
    line(&t, "10.0.0.4", 0, "/login", 401);   /* 6 */
    line(&t, "10.0.0.5", 1, "/admin", 200);   /* 7 different client */
    CHECK_EQ_STR(run(&rs, t.data, 1, TP_ID, &ds), "1,5");
    for (uint32_t i = 0; i < ds.n; i++)
        if (!strcmp(ds.d[i].rule_id, TP_ID))
            CHECK_EQ_INT(ds.d[i].severity, CW_SEV_CRITICAL);
    cw_detections_release(&ds);
    cw_buf_release(&t);
    sigma_ruleset_release(&rs);
}

#define TO_ID "c0000000-0000-4000-8000-000000000004"
static const char to_rule[] = "title: Failed then successful login\n"
                              "id: " TO_ID "\n"
                              "correlation:\n"
                              "  type: temporal_ordered\n"
                              "  rules:\n    - failed_login\n    - ok_login\n"
                              "  group-by:\n    - c-ip\n"
                              "  timespan: 5m\n";

static void test_temporal_ordered(void)
{
    struct sigma_ruleset rs;
    struct cw_detections ds;
    struct cw_buf t = CW_BUF_INIT;
    init_with(&rs, to_rule);
    cw_detections_init(&ds);
    line(&t, "10.0.0.1", 0, "/login", 401);   /* 0 */
    line(&t, "10.0.0.1", 10, "/login", 200);  /* 1 in order: fires */
    line(&t, "10.0.0.2", 0, "/login", 200);   /* 2 success first */
    line(&t, "10.0.0.2", 10, "/login", 401);  /* 3 then failure: no */
    line(&t, "10.0.0.2", 20, "/login", 200);  /* 4 failure (3) then success: fires */
    line(&t, "10.0.0.3", 0, "/login", 200);   /* 5 */
    line(&t, "10.0.0.3", 10, "/login", 401);  /* 6 reverse order only */
    line(&t, "10.0.0.4", 0, "/login", 401);   /* 7 */
    line(&t, "10.0.0.4", 301, "/login", 200); /* 8 301s > 5m */
    line(&t, "10.0.0.5", 0, "/login", 401);   /* 9 */
    line(&t, "10.0.0.5", 300, "/login", 200); /* 10 exactly 5m: fires */
    CHECK_EQ_STR(run(&rs, t.data, 1, TO_ID, &ds), "1,4,10");
    cw_detections_release(&ds);
    cw_buf_release(&t);
    sigma_ruleset_release(&rs);
}

/* The specification's example: many failed logins (a correlation) followed by a
 * successful login of the same client: a chain of correlations. */
static void test_chain(void)
{
    static const char many[] = "title: Many failed logins\n"
                               "id: c0000000-0000-4000-8000-000000000005\n"
                               "name: many_failed_logins\n"
                               "correlation:\n"
                               "  type: event_count\n"
                               "  rules: [failed_login]\n"
                               "  group-by: [c-ip]\n"
                               "  timespan: 10m\n"
                               "  condition: {gte: 2}\n";
    static const char chain[] = "title: Brute force followed by a successful login\n"
                                "id: c0000000-0000-4000-8000-000000000006\n"
                                "level: high\n"
                                "correlation:\n"
                                "  type: temporal_ordered\n"
                                "  rules: [many_failed_logins, ok_login]\n"
                                "  group-by: [c-ip]\n"
                                "  timespan: 1h\n";
    struct sigma_ruleset rs;
    struct cw_detections ds;
    struct cw_buf t = CW_BUF_INIT;
    init_rs(&rs);
    CHECK_EQ_INT(sigma_ruleset_add(&rs, "chain.yml", chain, strlen(chain)), 0);
    CHECK_EQ_INT(sigma_ruleset_add(&rs, "many.yml", many, strlen(many)), 0);
    CHECK_EQ_INT(sigma_corr_resolve(&rs), 0);
    CHECK_EQ_INT(rs.nskipped, 0);
    cw_detections_init(&ds);
    line(&t, "10.0.0.1", 0, "/login", 200);  /* 0 success alone */
    line(&t, "10.0.0.1", 10, "/login", 401); /* 1 */
    line(&t, "10.0.0.1", 20, "/login", 401); /* 2 many_failed_logins */
    line(&t, "10.0.0.1", 30, "/login", 200); /* 3 chain fires */
    line(&t, "10.0.0.2", 30, "/login", 401); /* 4 one failure only */
    line(&t, "10.0.0.2", 40, "/login", 200); /* 5 no */
    CHECK_EQ_STR(run(&rs, t.data, 1, "c0000000-0000-4000-8000-000000000006", &ds), "3");
    /* the inner correlation and the failures are consumed; ok_login too */
    CHECK_EQ_INT(count_id(&ds, "c0000000-0000-4000-8000-000000000005"), 0);
    CHECK_EQ_INT(count_id(&ds, FAILED_ID), 0);
    CHECK_EQ_INT(count_id(&ds, OK_ID), 0);
    CHECK_EQ_INT(ds.n, 1);
    cw_detections_release(&ds);
    cw_buf_release(&t);
    sigma_ruleset_release(&rs);
}

/* group-by through aliases: the same address under two field names */
static void test_aliases(void)
{
    static const char rule[] = "title: Failed login then admin from the referring host\n"
                               "id: c0000000-0000-4000-8000-000000000007\n"
                               "correlation:\n"
                               "  type: temporal\n"
                               "  rules: [failed_login, admin_page]\n"
                               "  group-by: [client]\n"
                               "  timespan: 1m\n"
                               "  aliases:\n"
                               "    client:\n"
                               "      failed_login: c-ip\n"
                               "      admin_page: cs-username\n";
    struct sigma_ruleset rs;
    struct cw_detections ds;
    struct cw_buf t = CW_BUF_INIT;
    init_with(&rs, rule);
    cw_detections_init(&ds);
    line(&t, "10.0.0.1", 0, "/login", 401);
    cw_buf_adds(&t, "10.9.9.9 - 10.0.0.1 [10/Oct/2023:13:00:05 +0000] \"GET /admin HTTP/1.1\" "
                    "200 1 \"-\" \"t\"\n");
    cw_buf_adds(&t, "10.0.0.1 - bob [10/Oct/2023:13:00:06 +0000] \"GET /admin HTTP/1.1\" "
                    "200 1 \"-\" \"t\"\n");
    CHECK_EQ_STR(run(&rs, t.data, 1, "c0000000-0000-4000-8000-000000000007", &ds), "1");
    cw_detections_release(&ds);
    cw_buf_release(&t);
    sigma_ruleset_release(&rs);
}

/* -- bounds and determinism ------------------------------------------------ */

static void test_memory_bound(void)
{
    static const char rule[] = "title: Two failures\n"
                               "id: c0000000-0000-4000-8000-000000000008\n"
                               "correlation:\n"
                               "  type: event_count\n"
                               "  rules: [failed_login]\n"
                               "  group-by: [c-ip]\n"
                               "  timespan: 1h\n"
                               "  condition: {gte: 2}\n";
    struct sigma_ruleset rs;
    struct cw_detections ds;
    struct cw_buf t = CW_BUF_INIT;
    init_with(&rs, rule);
    sigma_corr_set_limits(&rs, 100, 0);
    cw_detections_init(&ds);
    char ip[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(ip, sizeof(ip), "10.1.%d.%d", i / 256, i % 256);
        line(&t, ip, i, "/login", 401);
    }
    CHECK_EQ_STR(run(&rs, t.data, 1, "c0000000-0000-4000-8000-000000000008", &ds), "");
    struct sigma_corr_stats st;
    sigma_corr_stats(&rs, &st);
    CHECK_EQ_INT(st.states, 100);
    CHECK_EQ_INT(st.evictions, 900);
    cw_buf_clear(&t);
    line(&t, "10.1.0.0", 1000, "/login", 401);  /* 0 evicted long ago: starts over */
    line(&t, "10.1.3.231", 1001, "/login", 401); /* 1 #999, still held: fires */
    CHECK_EQ_STR(run(&rs, t.data, 1, "c0000000-0000-4000-8000-000000000008", &ds), "1");
    sigma_corr_stats(&rs, &st);
    CHECK_EQ_INT(st.states, 99); /* +1 new (evicting #900), -1 fired */
    CHECK_EQ_INT(st.evictions, 901);
    /* byte cap */
    sigma_corr_set_limits(&rs, 0, 4096);
    sigma_corr_stats(&rs, &st);
    CHECK(st.bytes <= 4096);
    CHECK(st.states > 0 && st.states < 100);
    cw_detections_release(&ds);
    cw_buf_release(&t);
    sigma_ruleset_release(&rs);
}

static void run_all(struct cw_detections *ds, const char *text)
{
    struct sigma_ruleset rs;
    init_rs(&rs);
    const char *rules[] = {ec_rule, vc_rule, tp_rule, to_rule};
    for (size_t i = 0; i < 4; i++)
        CHECK_EQ_INT(sigma_ruleset_add(&rs, "c.yml", rules[i], strlen(rules[i])), 0);
    CHECK_EQ_INT(sigma_corr_resolve(&rs), 0);
    sigma_corr_set_limits(&rs, 50, 0);
    (void)run(&rs, text, 1, "", ds);
    sigma_ruleset_release(&rs);
}

static void test_determinism(void)
{
    struct cw_buf t = CW_BUF_INIT;
    static const char *const paths[] = {"/login", "/admin", "/a", "/b", "/c", "/login"};
    static const int status[] = {401, 200, 404, 404, 404, 200};
    uint32_t x = 12345;
    for (int i = 0; i < 5000; i++) {
        char ip[32];
        x = x * 1103515245u + 12345u;
        int k = (int)(x >> 16) % 6;
        snprintf(ip, sizeof(ip), "10.2.0.%u", (x >> 8) % 80);
        line(&t, ip, i / 3, paths[k], status[k]);
    }
    struct cw_detections a, b;
    cw_detections_init(&a);
    cw_detections_init(&b);
    run_all(&a, t.data);
    run_all(&b, t.data);
    CHECK(a.n > 100);
    CHECK_EQ_INT(a.n, b.n);
    int same = 1, corr = 0;
    for (uint32_t i = 0; i < a.n && i < b.n; i++) {
        same &= a.d[i].rec == b.d[i].rec && !strcmp(a.d[i].rule_id, b.d[i].rule_id);
        corr += a.d[i].rule_id[0] == 'c';
    }
    CHECK(same);
    CHECK(corr > 10);
    cw_detections_release(&a);
    cw_detections_release(&b);
    cw_buf_release(&t);
}

/* -- invalid rules --------------------------------------------------------- */

struct bad {
    const char *text;
    uint32_t line;
    const char *reason;
};

static void test_invalid(void)
{
    static const struct bad bad[] = {
        {"title: t\nid: b1\ncorrelation:\n  type: event_cnt\n  rules: [failed_login]\n"
         "  timespan: 1m\n  condition: {gte: 2}\n",
         4, "unknown correlation type 'event_cnt'"},
        {"title: t\nid: b2\ncorrelation:\n  type: event_count\n  timespan: 1m\n"
         "  condition: {gte: 2}\n",
         3, "missing correlation rules"},
        {"title: t\nid: b3\ncorrelation:\n  type: event_count\n  rules: [failed_login]\n"
         "  timespan: 1 m\n  condition: {gte: 2}\n",
         6, "invalid timespan '1 m' (number + s, m, h or d; at most 366d)"},
        {"title: t\nid: b4\ncorrelation:\n  type: event_count\n  rules: [failed_login]\n"
         "  timespan: 1m\n  condition:\n    lt: 5\n",
         7, "condition without a lower bound (lt/lte alone) holds for groups that never "
            "occur: not evaluable on a stream"},
        {"title: t\nid: b5\ncorrelation:\n  type: value_count\n  rules: [probe_404]\n"
         "  timespan: 1m\n  condition:\n    gte: 5\n",
         7, "value_count needs condition.field"},
        {"title: t\nid: b6\ncorrelation:\n  type: temporal\n  rules: [failed_login]\n"
         "  timespan: 1m\n",
         5, "a temporal correlation needs at least two rules"},
        {"title: t\nid: b7\ncorrelation:\n  type: event_count\n  rules: [failed_login]\n"
         "  timespan: 1m\n  condition: {gte: 5, lte: 2}\n",
         7, "condition can never hold"},
        {"title: t\nid: b8\ncorrelation:\n  type: event_count\n  rules: [failed_login]\n"
         "  timespan: 1m\n  ordered: true\n  condition: {gte: 2}\n",
         7, "unsupported correlation key 'ordered'"},
        {"title: t\nid: b9\ncorrelation:\n  type: event_count\n  rules: [failed_login]\n"
         "  timespan: 1m\n  condition: {gte: two}\n",
         7, "condition 'gte' needs a non-negative integer"},
        {"title: t\nid: b10\nlogsource: {category: webserver}\ncorrelation:\n"
         "  type: event_count\n  rules: [failed_login]\n  timespan: 1m\n  condition: {gte: 2}\n",
         3, "a correlation rule cannot have a 'logsource'"},
        {"title: t\ncorrelation:\n  type: event_count\n  rules: [failed_login]\n"
         "  timespan: 1m\n  condition: {gte: 2}\n",
         1, "missing or overlong id"},
        {"title: t\nid: " FAILED_ID "\ncorrelation:\n  type: event_count\n"
         "  rules: [failed_login]\n  timespan: 1m\n  condition: {gte: 2}\n",
         1, "duplicate rule id"},
        {"title: t\nid: b13\ncorrelation:\n  type: event_count\n"
         "  rules: [failed_login, failed_login]\n  timespan: 1m\n  condition: {gte: 2}\n",
         5, "rule 'failed_login' listed twice"},
        {"title: t\nid: b14\ncorrelation:\n  type: temporal_ordered\n"
         "  rules: [failed_login, ok_login]\n  timespan: 1m\n  condition: {gte: 1}\n",
         7, "temporal_ordered takes no condition other than all rules"},
    };
    struct sigma_ruleset rs;
    init_rs(&rs);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char file[32];
        snprintf(file, sizeof(file), "bad%zu.yml", i);
        CHECK_EQ_INT(sigma_ruleset_add(&rs, file, bad[i].text, strlen(bad[i].text)), 1);
        const struct sigma_report *r = &rs.rep[rs.nrep - 1];
        CHECK_EQ_STR(r->file, file);
        CHECK_EQ_INT(r->line, bad[i].line);
        CHECK_EQ_STR(r->reason, bad[i].reason);
    }
    /* references are checked at resolution: unknown, self, cycle, on a skipped one */
    static const char unknown[] = "title: t\nid: r1\ncorrelation:\n  type: event_count\n"
                                  "  rules:\n    - failed_login\n    - no_such_rule\n"
                                  "  timespan: 1m\n  condition: {gte: 2}\n";
    static const char self[] = "title: t\nid: r2\nname: selfish\ncorrelation:\n"
                               "  type: event_count\n  rules: [selfish]\n  timespan: 1m\n"
                               "  condition: {gte: 2}\n";
    static const char cyc_a[] = "title: t\nid: r3\nname: ca\ncorrelation:\n  type: temporal\n"
                                "  rules: [cb, failed_login]\n  timespan: 1m\n";
    static const char cyc_b[] = "title: t\nid: r4\nname: cb\ncorrelation:\n  type: temporal\n"
                                "  rules: [ca, ok_login]\n  timespan: 1m\n";
    static const char on_skipped[] = "title: t\nid: r5\ncorrelation:\n  type: event_count\n"
                                     "  rules: [r1]\n  timespan: 1m\n  condition: {gte: 2}\n";
    static const char good[] = "title: t\nid: r6\ncorrelation:\n  type: event_count\n"
                               "  rules: [failed_login]\n  timespan: 1m\n  condition: {gte: 2}\n";
    const char *texts[] = {unknown, self, cyc_a, cyc_b, on_skipped, good};
    const char *files[] = {"unknown.yml", "self.yml", "ca.yml", "cb.yml", "onskip.yml", "good.yml"};
    uint32_t first = rs.nrep, skipped0 = rs.nskipped;
    for (size_t i = 0; i < 6; i++)
        CHECK_EQ_INT(sigma_ruleset_add(&rs, files[i], texts[i], strlen(texts[i])), 0);
    CHECK_EQ_INT(sigma_corr_resolve(&rs), 0);
    CHECK_EQ_STR(rs.rep[first].file, "unknown.yml");
    CHECK_EQ_INT(rs.rep[first].line, 5);
    CHECK_EQ_STR(rs.rep[first].reason,
                 "rule 'no_such_rule' is not loaded (unknown id or name, or skipped)");
    CHECK_EQ_INT(rs.rep[first + 1].line, 6);
    CHECK_EQ_STR(rs.rep[first + 1].reason, "correlation references itself");
    CHECK_EQ_STR(rs.rep[first + 2].reason, "correlation rules reference each other in a cycle");
    CHECK_EQ_STR(rs.rep[first + 3].reason, "correlation rules reference each other in a cycle");
    CHECK_EQ_STR(rs.rep[first + 4].reason,
                 "rule 'r1' is not loaded (unknown id or name, or skipped)");
    CHECK(rs.rep[first + 5].reason == NULL);
    CHECK_EQ_INT(rs.nskipped, skipped0 + 5);
    struct sigma_corr_stats st;
    sigma_corr_stats(&rs, &st);
    CHECK_EQ_INT(st.rules, 1);
    sigma_ruleset_release(&rs);
}

/* loading a directory resolves at the end: a correlation may sort before its rules */
static void test_load_dir(void)
{
    char dir[] = "/tmp/cw_corr_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    const char *names[] = {"a_corr.yml", "b_failed.yml", "c_bad.yml"};
    const char *texts[] = {ec_rule, failed_rule,
                           "title: t\nid: x\ncorrelation:\n  type: event_count\n"
                           "  rules: [nope]\n  timespan: 1m\n  condition: {gte: 1}\n"};
    for (int i = 0; i < 3; i++) {
        char p[256];
        snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
        FILE *f = fopen(p, "w");
        CHECK(f != NULL);
        if (f) {
            fputs(texts[i], f);
            fclose(f);
        }
    }
    struct sigma_ruleset rs;
    char err[256];
    CHECK_EQ_INT(sigma_ruleset_init(&rs, fieldmap, err, sizeof(err)), 0);
    CHECK_EQ_INT(sigma_ruleset_load_dir(&rs, dir, err, sizeof(err)), 0);
    CHECK_EQ_INT(rs.nsupported, 2);
    CHECK_EQ_INT(rs.nskipped, 1);
    CHECK_EQ_INT(rs.rep[2].line, 5);
    CHECK_EQ_STR(rs.rep[2].reason, "rule 'nope' is not loaded (unknown id or name, or skipped)");
    struct sigma_corr_stats st;
    sigma_corr_stats(&rs, &st);
    CHECK_EQ_INT(st.rules, 1);
    sigma_ruleset_release(&rs);
    for (int i = 0; i < 3; i++) {
        char p[256];
        snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
        remove(p);
    }
    remove(dir);
}

/* -- one file: a correlation rule and its base rules (a YAML stream) ------- */

#define MD_ID "c0000000-0000-4000-8000-0000000000d1"
#define MD_BASE_ID "11111111-0000-4000-8000-0000000000d2"
static const char md_file[] = "title: Many 403 from one client\n"
                              "id: " MD_ID "\n"
                              "level: high\n"
                              "correlation:\n"
                              "  type: event_count\n"
                              "  rules:\n    - forbidden\n"
                              "  group-by:\n    - c-ip\n"
                              "  timespan: 1m\n"
                              "  condition:\n    gte: 2\n"
                              "---\n"
                              "title: Forbidden\n"
                              "id: " MD_BASE_ID "\n"
                              "name: forbidden\n"
                              "logsource:\n  category: webserver\n"
                              "detection:\n  sel:\n    sc-status: 403\n  condition: sel\n"
                              "---\n"
                              "title: Broken third document\n"
                              "id: 11111111-0000-4000-8000-0000000000d3\n"
                              "logsource:\n  category: webserver\n"
                              "detection:\n  sel:\n    cs-uri-stem|nosuchmod: x\n  condition: sel\n";

static void test_multi_document(void)
{
    char dir[] = "/tmp/cw_corr_md_XXXXXX", path[256];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/spray.yml", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(md_file, f);
        fclose(f);
    }
    struct sigma_ruleset rs;
    char err[256];
    CHECK_EQ_INT(sigma_ruleset_init(&rs, fieldmap, err, sizeof(err)), 0);
    CHECK_EQ_INT(sigma_ruleset_load_dir(&rs, dir, err, sizeof(err)), 0);
    /* the correlation and its base rule load; the broken third document is reported
     * with its own line in the file (the nosuchmod line is the file's 30th) */
    CHECK_EQ_INT(rs.nsupported, 2);
    CHECK_EQ_INT(rs.nskipped, 1);
    CHECK(sigma_ruleset_find(&rs, MD_BASE_ID) != NULL);
    bool seen = false;
    for (uint32_t i = 0; i < rs.nrep; i++)
        if (rs.rep[i].reason && strstr(rs.rep[i].reason, "nosuchmod")) {
            seen = true;
            CHECK_EQ_INT(rs.rep[i].line, 30);
        }
    CHECK(seen);
    struct sigma_corr_stats st;
    sigma_corr_stats(&rs, &st);
    CHECK_EQ_INT(st.rules, 1);
    struct cw_detections ds;
    struct cw_buf t = CW_BUF_INIT;
    cw_detections_init(&ds);
    line(&t, "10.0.0.1", 0, "/a", 403);  /* 0 */
    line(&t, "10.0.0.2", 1, "/a", 403);  /* 1 other client */
    line(&t, "10.0.0.1", 2, "/b", 200);  /* 2 not the base rule */
    line(&t, "10.0.0.1", 3, "/c", 403);  /* 3 second 403 in 1m: fires */
    line(&t, "10.0.0.2", 90, "/a", 403); /* 4 89s after its first: no */
    CHECK_EQ_STR(run(&rs, t.data, 1, MD_ID, &ds), "3");
    CHECK_EQ_INT(count_id(&ds, MD_BASE_ID), 0); /* consumed (generate: false) */
    cw_detections_release(&ds);
    cw_buf_release(&t);
    sigma_ruleset_release(&rs);
    remove(path);
    remove(dir);
}

/* -- reload: unchanged correlations keep their windows ------------------- */

static void test_reload_keeps_state(void)
{
    /* the value_count rule changes on reload (timespan), the event_count rule not */
    static const char vc_changed[] = "title: Path scanning from one client\n"
                                     "id: " VC_ID "\n"
                                     "correlation:\n"
                                     "  type: value_count\n"
                                     "  rules:\n    - probe_404\n"
                                     "  group-by:\n    - c-ip\n"
                                     "  timespan: 2m\n"
                                     "  condition:\n    field: cs-uri-stem\n    gte: 3\n";
    struct sigma_ruleset old, fresh, control;
    struct cw_detections ds;
    struct cw_buf t = CW_BUF_INIT;
    cw_detections_init(&ds);
    init_with(&old, ec_rule);
    CHECK_EQ_INT(sigma_ruleset_add(&old, "vc.yml", vc_rule, strlen(vc_rule)), 0);
    CHECK_EQ_INT(sigma_corr_resolve(&old), 0);
    line(&t, "10.0.0.1", 0, "/login", 401); /* event_count: 2 of 3 */
    line(&t, "10.0.0.1", 5, "/login", 401);
    line(&t, "10.0.0.5", 6, "/a", 404);     /* value_count: 2 of 3 distinct */
    line(&t, "10.0.0.5", 7, "/b", 404);
    CHECK_EQ_STR(run(&old, t.data, 1, EC_ID, &ds), "");
    struct sigma_corr_stats st;
    sigma_corr_stats(&old, &st);
    CHECK_EQ_INT(st.states, 2);

    init_with(&fresh, ec_rule); /* the reloaded set */
    CHECK_EQ_INT(sigma_ruleset_add(&fresh, "vc.yml", vc_changed, strlen(vc_changed)), 0);
    CHECK_EQ_INT(sigma_corr_resolve(&fresh), 0);
    init_with(&control, ec_rule); /* the same reload without adoption */
    CHECK_EQ_INT(sigma_ruleset_add(&control, "vc.yml", vc_changed, strlen(vc_changed)), 0);
    CHECK_EQ_INT(sigma_corr_resolve(&control), 0);
    CHECK_EQ_INT((int)sigma_corr_adopt(&fresh, &old), 1); /* the event_count window */
    sigma_corr_stats(&fresh, &st);
    CHECK_EQ_INT(st.states, 1);
    sigma_corr_stats(&old, &st);
    CHECK_EQ_INT(st.states, 1); /* the changed rule's state stays behind */
    sigma_ruleset_release(&old); /* the old set goes; the moved state must not */

    cw_buf_clear(&t);
    line(&t, "10.0.0.1", 20, "/login", 401); /* 0 third in 60s: fires after the reload */
    line(&t, "10.0.0.5", 21, "/c", 404);     /* 1 the changed rule starts over: 1 */
    CHECK_EQ_STR(run(&fresh, t.data, 1, EC_ID, &ds), "0");
    CHECK_EQ_STR(run(&control, t.data, 1, EC_ID, &ds), ""); /* without it: no */
    CHECK_EQ_STR(run(&fresh, t.data, 1, VC_ID, &ds), "");
    /* adopting into a set that already holds state is refused (windows would mix) */
    CHECK_EQ_INT((int)sigma_corr_adopt(&fresh, &control), 0);
    cw_detections_release(&ds);
    cw_buf_release(&t);
    sigma_ruleset_release(&fresh);
    sigma_ruleset_release(&control);
}

static void test_hostile(void)
{
    struct sigma_ruleset rs;
    init_rs(&rs);
    /* aliases are refused by the YAML reader (no expansion at all) */
    static const char alias[] = "title: t\nid: h1\ncorrelation:\n  type: event_count\n"
                                "  rules: &r [failed_login]\n  group-by: *r\n  timespan: 1m\n"
                                "  condition: {gte: 2}\n";
    CHECK_EQ_INT(sigma_ruleset_add(&rs, "alias.yml", alias, strlen(alias)), 1);
    CHECK_EQ_STR(rs.rep[rs.nrep - 1].reason, "YAML aliases are not supported");
    /* too many group-by fields / rules */
    struct cw_buf t = CW_BUF_INIT;
    cw_buf_adds(&t, "title: t\nid: h2\ncorrelation:\n  type: event_count\n"
                    "  rules: [failed_login]\n  timespan: 1m\n  condition: {gte: 2}\n"
                    "  group-by:\n");
    for (int i = 0; i < 9; i++)
        cw_buf_addf(&t, "    - f%d\n", i);
    CHECK_EQ_INT(sigma_ruleset_add(&rs, "gb.yml", t.data, t.len), 1);
    CHECK_EQ_STR(rs.rep[rs.nrep - 1].reason, "group-by has too many entries");
    cw_buf_clear(&t);
    cw_buf_adds(&t, "title: t\nid: h3\ncorrelation:\n  type: temporal\n  timespan: 1m\n"
                    "  rules:\n");
    for (int i = 0; i < 40; i++)
        cw_buf_addf(&t, "    - r%d\n", i);
    CHECK_EQ_INT(sigma_ruleset_add(&rs, "many.yml", t.data, t.len), 1);
    CHECK_EQ_STR(rs.rep[rs.nrep - 1].reason, "correlation rules has too many entries");
    /* deep nesting and node floods stop in the YAML reader */
    cw_buf_clear(&t);
    cw_buf_adds(&t, "title: t\nid: h4\ncorrelation:\n  type: event_count\n  rules: ");
    for (int i = 0; i < 100; i++)
        cw_buf_addc(&t, '[');
    CHECK_EQ_INT(sigma_ruleset_add(&rs, "deep.yml", t.data, t.len), 1);
    CHECK_EQ_STR(rs.rep[rs.nrep - 1].reason, "YAML nested too deeply");
    cw_buf_clear(&t);
    cw_buf_adds(&t, "title: t\nid: h5\ncorrelation:\n  type: event_count\n  rules: [");
    for (int i = 0; i < 30000; i++)
        cw_buf_adds(&t, "a,");
    cw_buf_adds(&t, "a]\n");
    CHECK_EQ_INT(sigma_ruleset_add(&rs, "flood.yml", t.data, t.len), 1);
    CHECK_EQ_STR(rs.rep[rs.nrep - 1].reason, "too many YAML nodes");
    /* huge numbers */
    static const char big[] = "title: t\nid: h6\ncorrelation:\n  type: event_count\n"
                              "  rules: [failed_login]\n  timespan: 99999999999999d\n"
                              "  condition: {gte: 2}\n";
    CHECK_EQ_INT(sigma_ruleset_add(&rs, "big.yml", big, strlen(big)), 1);
    static const char bigc[] = "title: t\nid: h7\ncorrelation:\n  type: event_count\n"
                               "  rules: [failed_login]\n  timespan: 1d\n"
                               "  condition: {gt: 999999999999999999}\n";
    CHECK_EQ_INT(sigma_ruleset_add(&rs, "bigc.yml", bigc, strlen(bigc)), 1);
    CHECK_EQ_STR(rs.rep[rs.nrep - 1].reason, "event_count threshold above 100000");
    CHECK_EQ_INT(sigma_corr_resolve(&rs), 0);
    struct sigma_corr_stats st;
    sigma_corr_stats(&rs, &st);
    CHECK_EQ_INT(st.rules, 0);
    cw_buf_release(&t);
    sigma_ruleset_release(&rs);
}

int main(void)
{
    const char *src = getenv("CW_SOURCE_DIR");
    snprintf(fieldmap, sizeof(fieldmap), "%s/rules/fieldmap.conf", src ? src : ".");
    test_event_count();
    test_generate_true();
    test_value_count();
    test_temporal();
    test_temporal_ordered();
    test_chain();
    test_aliases();
    test_memory_bound();
    test_determinism();
    test_invalid();
    test_load_dir();
    test_multi_document();
    test_reload_keeps_state();
    test_hostile();
    return cw_test_finish("test_sigma_corr");
}
