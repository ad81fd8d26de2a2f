/* test_sizenorm.c - a 2xx answer of unusual size makes a kept detection more severe. */
#include <string.h>

#include "detect/detect.h"
#include "triage/noise.h"
#include "triage/sizenorm.h"
#include "testlib.h"

static void add(struct cw_batch *b, uint32_t member, const char *host, const char *path,
                int64_t status, int64_t bytes)
{
    struct cw_record *r = cw_batch_begin(b);
    r->member_id = member;
    r->kind = CW_KIND_HTTP;
    cw_batch_set_str(b, CW_F_HTTP_HOST, host, strlen(host));
    cw_batch_set_str(b, CW_F_HTTP_PATH, path, strlen(path));
    cw_batch_set_int(b, CW_F_HTTP_STATUS, status);
    cw_batch_set_int(b, CW_F_HTTP_BYTES, bytes);
    cw_batch_commit(b);
}

static void detect_all(const struct cw_batch *b, struct cw_detections *ds)
{
    cw_detections_clear(ds);
    for (uint32_t i = 0; i < b->n; i++) {
        struct cw_detection d;
        memset(&d, 0, sizeof(d));
        d.rec = i;
        d.severity = CW_SEV_MEDIUM;
        d.noise = CW_NOISE_KEPT;
        cw_detections_add(ds, &d);
    }
}

int main(void)
{
    struct cw_sizenorm *sn = cw_sizenorm_new(1000, 3);
    CHECK(sn != NULL);
    struct cw_batch b;
    struct cw_detections ds;
    cw_batch_init(&b);
    cw_detections_init(&ds);
    const char *detail[8];

    /* the site answers /index.php with 5120 bytes, twice: not yet "usual" */
    add(&b, 1, "www.a.example", "/index.php", 200, 5120);
    add(&b, 1, "www.a.example", "/index.php", 200, 5120);
    cw_sizenorm_learn(sn, &b);
    cw_batch_clear(&b);
    add(&b, 1, "www.a.example", "/index.php", 200, 131);
    detect_all(&b, &ds);
    CHECK_EQ_INT(cw_sizenorm_flag(sn, &b, &ds, detail), 0);

    /* a third time: now an attack answered 200 with another size is suspicious */
    cw_batch_clear(&b);
    add(&b, 1, "www.a.example", "/index.php", 200, 5120);
    cw_sizenorm_learn(sn, &b);
    cw_batch_clear(&b);
    add(&b, 1, "www.a.example", "/index.php", 200, 131);   /* different: raised */
    add(&b, 1, "www.a.example", "/index.php", 200, 5120);  /* the usual page: not */
    add(&b, 1, "www.a.example", "/index.php", 404, 131);   /* not 2xx: not */
    add(&b, 2, "www.a.example", "/index.php", 200, 131);   /* another member: unknown */
    add(&b, 1, "www.b.example", "/index.php", 200, 131);   /* another host: unknown */
    detect_all(&b, &ds);
    ds.d[4].noise = CW_NOISE_FAILED; /* dropped detections are left alone */
    memset(detail, 0, sizeof(detail));
    CHECK_EQ_INT(cw_sizenorm_flag(sn, &b, &ds, detail), 1);
    CHECK_EQ_INT(ds.d[0].severity, CW_SEV_HIGH);
    CHECK(detail[0] != NULL && strstr(detail[0], "unusual size") != NULL);
    CHECK_EQ_INT(ds.d[1].severity, CW_SEV_MEDIUM);
    CHECK(detail[1] == NULL);
    CHECK_EQ_INT(ds.d[2].severity, CW_SEV_MEDIUM);
    CHECK_EQ_INT(ds.d[3].severity, CW_SEV_MEDIUM);
    CHECK_EQ_INT(ds.d[4].severity, CW_SEV_MEDIUM);

    /* a critical detection stays critical */
    cw_batch_clear(&b);
    add(&b, 1, "www.a.example", "/index.php", 200, 999);
    detect_all(&b, &ds);
    ds.d[0].severity = CW_SEV_CRITICAL;
    CHECK_EQ_INT(cw_sizenorm_flag(sn, &b, &ds, NULL), 1);
    CHECK_EQ_INT(ds.d[0].severity, CW_SEV_CRITICAL);

    /* a new usual size replaces the old one after min_seen answers */
    cw_batch_clear(&b);
    for (int i = 0; i < 3; i++)
        add(&b, 1, "www.a.example", "/index.php", 200, 6000);
    cw_sizenorm_learn(sn, &b);
    cw_batch_clear(&b);
    add(&b, 1, "www.a.example", "/index.php", 200, 5120);
    add(&b, 1, "www.a.example", "/index.php", 200, 6000);
    detect_all(&b, &ds);
    CHECK_EQ_INT(cw_sizenorm_flag(sn, &b, &ds, NULL), 1);
    CHECK_EQ_INT(ds.d[0].severity, CW_SEV_HIGH);

    /* bounded: many paths do not grow the table without end (a full table is
     * cleared and relearnt), and lookups keep working */
    for (int round = 0; round < 20; round++) {
        cw_batch_clear(&b);
        for (int i = 0; i < 500; i++) {
            /* record strings are borrowed: keep the path in the batch's arena */
            char p[32];
            int n = snprintf(p, sizeof(p), "/p/%d/%d", round, i);
            add(&b, 1, "h", cw_arena_strndup(&b.arena, p, (size_t)n), 200, 10);
        }
        cw_sizenorm_learn(sn, &b);
    }
    cw_batch_clear(&b);
    for (int i = 0; i < 3; i++)
        add(&b, 1, "www.a.example", "/after", 200, 700);
    cw_sizenorm_learn(sn, &b);
    cw_batch_clear(&b);
    add(&b, 1, "www.a.example", "/after", 200, 701);
    detect_all(&b, &ds);
    CHECK_EQ_INT(cw_sizenorm_flag(sn, &b, &ds, NULL), 1);

    cw_detections_release(&ds);
    cw_batch_release(&b);
    cw_sizenorm_free(sn);
    return cw_test_finish("test_sizenorm");
}
