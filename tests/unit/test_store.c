/* test_store.c - the embedded store: members, sensors, keys, durable idempotent
 * ingest, export, retention, and that all of it survives a reopen. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "center/store.h"
#include "center/store_iocs.h"
#include "common/timefmt.h"
#include "formats/format.h"
#include "testlib.h"

struct export_ctx {
    int lines;
    int64_t batches;
    char first[512];
};

static int count_lines(void *ctx, int64_t batch_id, const char *nd, size_t len)
{
    struct export_ctx *e = ctx;
    (void)batch_id;
    e->batches++;
    for (size_t i = 0; i < len; i++)
        if (nd[i] == '\n') {
            if (e->lines == 0)
                snprintf(e->first, sizeof(e->first), "%.*s", (int)i, nd);
            e->lines++;
        }
    return 0;
}

static void parse_into(struct cw_batch *b, const char *text, uint32_t member, uint32_t sensor)
{
    struct cw_parse_ctx ctx = {member, sensor, cw_now_us()};
    cw_format_parse_body(cw_format_find("combined"), b, &ctx, text, strlen(text), 1 << 20, NULL);
}

static const char sample[] =
    "192.0.2.1 - - [17/May/2015:10:05:03 +0000] \"GET /a HTTP/1.1\" 200 10 \"-\" \"ua\"\n"
    "this is not an access log line\n"
    "192.0.2.2 - - [17/May/2015:10:05:04 +0000] \"GET /b?x=1 HTTP/1.1\" 404 0 \"-\" \"ua\"\n";

static int count_digest(void *ctx, const struct cw_digest_row *d)
{
    (void)d;
    (*(int *)ctx)++;
    return 0;
}

static int digests(struct cw_store *s)
{
    char err[256];
    int n = 0;
    CHECK_EQ_INT(cw_store_digests_foreach(s, 0, 0, count_digest, &n, err, sizeof(err)), 0);
    return n;
}

int main(void)
{
    char dir[] = "/tmp/cw-test-store-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char err[256];
    struct cw_store *s = NULL;
    struct cw_store_options opt = {.zstd_level = 1, .retention_days = 0};
    CHECK_EQ_INT(cw_store_open(&s, dir, &opt, err, sizeof(err)), 0);

    /* admin token: created once */
    char tok[128], tok2[128];
    CHECK_EQ_INT(cw_store_admin_token_ensure(s, tok, sizeof(tok), err, sizeof(err)), 1);
    CHECK_EQ_INT(cw_store_admin_token_ensure(s, tok2, sizeof(tok2), err, sizeof(err)), 0);
    CHECK(strncmp(tok, "cwa_", 4) == 0);
    struct cw_principal p;
    CHECK_EQ_INT(cw_store_authenticate(s, tok, &p), 0);
    CHECK_EQ_INT(p.role, CW_PRINCIPAL_ADMIN);

    /* members */
    uint32_t m1, m2, dup;
    CHECK_EQ_INT(cw_store_member_add(s, "alpha", &m1, err, sizeof(err)), 0);
    CHECK_EQ_INT(cw_store_member_add(s, "beta", &m2, err, sizeof(err)), 0);
    CHECK_EQ_INT(cw_store_member_add(s, "alpha", &dup, err, sizeof(err)), CW_STORE_EXISTS);
    struct cw_member_info mi;
    CHECK_EQ_INT(cw_store_member_find(s, "beta", &mi), 0);
    CHECK_EQ_INT(mi.id, m2);
    CHECK_EQ_INT(cw_store_member_find(s, "gamma", &mi), CW_STORE_NOT_FOUND);

    /* sensors and keys */
    struct cw_sensor_info si1, si2;
    char key1[128], key2[128];
    CHECK_EQ_INT(cw_store_sensor_add(s, m1, "web", &si1, key1, sizeof(key1), err, sizeof(err)), 0);
    CHECK_EQ_INT(cw_store_sensor_add(s, m2, "web", &si2, key2, sizeof(key2), err, sizeof(err)), 0);
    char key3[128];
    struct cw_sensor_info si3;
    CHECK_EQ_INT(cw_store_sensor_add(s, m1, "web", &si3, key3, sizeof(key3), err, sizeof(err)),
                 CW_STORE_EXISTS);
    CHECK_EQ_INT(cw_store_sensor_add(s, 999, "x", &si3, key3, sizeof(key3), err, sizeof(err)),
                 CW_STORE_NOT_FOUND);
    CHECK(strncmp(key1, "cwk_", 4) == 0);
    CHECK(strcmp(key1, key2) != 0);
    CHECK_EQ_INT(cw_store_authenticate(s, key1, &p), 0);
    CHECK_EQ_INT(p.role, CW_PRINCIPAL_SENSOR);
    CHECK_EQ_INT(p.member_id, m1);
    CHECK_EQ_INT(p.sensor_id, si1.id);
    /* a key with one character changed, a truncated key, garbage: all refused */
    char bad[128];
    snprintf(bad, sizeof(bad), "%s", key1);
    bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == 'A' ? 'B' : 'A';
    CHECK(cw_store_authenticate(s, bad, &p) != 0);
    bad[30] = '\0';
    CHECK(cw_store_authenticate(s, bad, &p) != 0);
    CHECK(cw_store_authenticate(s, "cwk_zzzz", &p) != 0);
    CHECK(cw_store_authenticate(s, "", &p) != 0);
    /* the clear key is nowhere in the database file */
    size_t dblen;
    char path[512];
    snprintf(path, sizeof(path), "%s/crosswatch.db", dir);
    char *db = cw_test_read_file(path, &dblen);
    CHECK(db != NULL);
    CHECK(db && memmem(db, dblen, key1 + 21, strlen(key1) - 21) == NULL);
    free(db);

    /* durable idempotent ingest */
    struct cw_batch b;
    cw_batch_init(&b);
    parse_into(&b, sample, m1, si1.id);
    CHECK_EQ_INT(b.n, 2);
    CHECK_EQ_INT(b.nrej, 1);
    struct cw_ingest_batch in = {.member_id = m1, .sensor_id = si1.id, .idem_key = "ship-1-1",
                                 .format = "combined", .received_us = cw_now_us(), .batch = &b,
                                 .rejects_json = "[{\"line\":2,\"reason\":\"x\"}]"};
    struct cw_ingest_result r;
    CHECK_EQ_INT(cw_store_ingest(s, &in, &r, err, sizeof(err)), 0);
    CHECK(!r.duplicate);
    CHECK_EQ_INT(r.accepted, 2);
    CHECK_EQ_INT(r.rejected, 1);
    CHECK_EQ_INT(cw_store_ingest(s, &in, &r, err, sizeof(err)), 0);
    CHECK(r.duplicate);
    CHECK_EQ_INT(r.accepted, 2);
    CHECK_EQ_STR(r.rejects_json, "[{\"line\":2,\"reason\":\"x\"}]");
    free(r.rejects_json);
    /* the same idempotency key from another sensor is another batch */
    cw_batch_clear(&b);
    parse_into(&b, sample, m2, si2.id);
    struct cw_ingest_batch in2 = {.member_id = m2, .sensor_id = si2.id, .idem_key = "ship-1-1",
                                  .format = "combined", .received_us = cw_now_us(), .batch = &b,
                                  .rejects_json = "[]"};
    CHECK_EQ_INT(cw_store_ingest(s, &in2, &r, err, sizeof(err)), 0);
    CHECK(!r.duplicate);
    cw_batch_release(&b);

    struct cw_totals t;
    CHECK_EQ_INT(cw_store_totals(s, &t, err, sizeof(err)), 0);
    CHECK_EQ_INT(t.records, 4);
    CHECK_EQ_INT(t.batches, 2);
    CHECK_EQ_INT(t.duplicates, 1);
    CHECK_EQ_INT(t.rejected, 2);

    /* export per member: member scope is applied by the store */
    struct export_ctx e = {0, 0, ""};
    int64_t last;
    CHECK_EQ_INT(cw_store_records_foreach(s, m1, 0, 0, count_lines, &e, &last, err, sizeof(err)), 0);
    CHECK_EQ_INT(e.lines, 2);
    CHECK(strstr(e.first, "\"http.path\":\"/a\"") != NULL);
    CHECK(strstr(e.first, "\"member\":1") != NULL);
    memset(&e, 0, sizeof(e));
    CHECK_EQ_INT(cw_store_records_foreach(s, 0, 0, 0, count_lines, &e, &last, err, sizeof(err)), 0);
    CHECK_EQ_INT(e.lines, 4);
    CHECK_EQ_INT(e.batches, 2);

    /* revocation is immediate */
    CHECK_EQ_INT(cw_store_sensor_revoke(s, si1.id, err, sizeof(err)), 0);
    CHECK(cw_store_authenticate(s, key1, &p) != 0);
    CHECK_EQ_INT(cw_store_sensor_revoke(s, 12345, err, sizeof(err)), CW_STORE_NOT_FOUND);

    /* everything survives a reopen */
    cw_store_close(s);
    s = NULL;
    struct cw_store_options opt2 = {.zstd_level = 1, .retention_days = 1};
    CHECK_EQ_INT(cw_store_open(&s, dir, &opt2, err, sizeof(err)), 0);
    CHECK_EQ_INT(cw_store_totals(s, &t, err, sizeof(err)), 0);
    CHECK_EQ_INT(t.records, 4);
    CHECK_EQ_INT(cw_store_authenticate(s, key2, &p), 0);
    CHECK(cw_store_authenticate(s, key1, &p) != 0);
    struct cw_sensor_info g;
    CHECK_EQ_INT(cw_store_sensor_get(s, si1.id, &g), 0);
    CHECK(g.revoked_us != 0);
    CHECK_EQ_INT(g.records, 2);
    CHECK_EQ_INT(g.duplicates, 1);

    /* retention: with 1 day, batches received 2 days "from now" ago lose their data
     * but keep their idempotency key */
    CHECK_EQ_INT(cw_store_apply_retention(s, cw_now_us()), 0);
    CHECK_EQ_INT(digests(s), 2); /* each batch's addresses and URLs, for retro-hunts */
    CHECK_EQ_INT(cw_store_apply_retention(s, cw_now_us() + 2 * 86400LL * 1000000), 2);
    CHECK_EQ_INT(digests(s), 0); /* a summary of the records goes with them */
    memset(&e, 0, sizeof(e));
    CHECK_EQ_INT(cw_store_records_foreach(s, 0, 0, 0, count_lines, &e, &last, err, sizeof(err)), 0);
    CHECK_EQ_INT(e.lines, 0);
    cw_batch_init(&b);
    parse_into(&b, sample, m2, si2.id);
    in2.batch = &b;
    CHECK_EQ_INT(cw_store_ingest(s, &in2, &r, err, sizeof(err)), 0);
    CHECK(r.duplicate);
    free(r.rejects_json);
    cw_batch_release(&b);
    cw_store_close(s);

    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK_EQ_INT(system(cmd), 0);
    return cw_test_finish("test_store");
}
