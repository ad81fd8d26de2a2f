/* test_store_pool.c - the store's reader pool: readers are separate connections that
 * read in parallel (each its own snapshot), a caller waits only when every reader is
 * taken, readers refuse writes, and many threads reading while one writes always see
 * what was committed before they started. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "center/store.h"
#include "center/store_impl.h"
#include "testlib.h"

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static int64_t count_members(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM members", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

struct finder {
    struct cw_store *s;
    atomic_int done;
    int rc;
    struct cw_member_info m;
};

static void *find_member(void *arg)
{
    struct finder *f = arg;
    f->rc = cw_store_member_find(f->s, "late", &f->m);
    atomic_store(&f->done, 1);
    return NULL;
}

struct reader_ctx {
    struct cw_store *s;
    atomic_int *stop;
    int64_t reads, regressions, errors;
};

/* Reads the totals until told to stop: the member count may only grow. */
static void *read_loop(void *arg)
{
    struct reader_ctx *r = arg;
    int64_t last = 0;
    while (!atomic_load(r->stop)) {
        struct cw_totals t;
        char err[256];
        if (cw_store_totals(r->s, &t, err, sizeof(err))) {
            r->errors++;
            continue;
        }
        if (t.members < last)
            r->regressions++;
        last = t.members;
        r->reads++;
    }
    return NULL;
}

int main(void)
{
    char dir[] = "/tmp/cw-test-pool-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char err[256];
    struct cw_store *s = NULL;
    struct cw_store_options opt = {.zstd_level = 1, .readers = 3};
    CHECK_EQ_INT(cw_store_open(&s, dir, &opt, err, sizeof(err)), 0);
    if (!s)
        return cw_test_finish("test_store_pool");
    CHECK_EQ_INT(s->nreaders, 3);
    uint32_t id;
    CHECK_EQ_INT(cw_store_member_add(s, "first", &id, err, sizeof(err)), 0);

    /* three readers are three connections */
    sqlite3 *a = cw_store_reader(s), *b = cw_store_reader(s), *c = cw_store_reader(s);
    CHECK(a && b && c && a != b && b != c && a != c);
    CHECK(a != s->w && b != s->w && c != s->w);

    /* each reader reads its own snapshot: a holds one across a commit, b does not */
    CHECK_EQ_INT(sqlite3_exec(a, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    CHECK_EQ_INT(count_members(a), 1);
    CHECK_EQ_INT(cw_store_member_add(s, "late", &id, err, sizeof(err)), 0);
    CHECK_EQ_INT(count_members(a), 1);
    CHECK_EQ_INT(count_members(b), 2);
    CHECK_EQ_INT(sqlite3_exec(a, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    CHECK_EQ_INT(count_members(a), 2);

    /* readers refuse writes: they are for reading only */
    CHECK(sqlite3_exec(c, "INSERT INTO members(name, created_us) VALUES('x', 0)", NULL, NULL,
                       NULL) != SQLITE_OK);
    CHECK_EQ_INT(count_members(b), 2);

    /* every reader taken: a store read waits until one comes back */
    unsigned waits = s->reader_waits;
    struct finder f = {.s = s};
    pthread_t th;
    CHECK_EQ_INT(pthread_create(&th, NULL, find_member, &f), 0);
    sleep_ms(150);
    CHECK_EQ_INT(atomic_load(&f.done), 0);
    cw_store_reader_done(s, b);
    pthread_join(th, NULL);
    CHECK_EQ_INT(atomic_load(&f.done), 1);
    CHECK_EQ_INT(f.rc, 0);
    CHECK_EQ_STR(f.m.name, "late");
    CHECK_EQ_INT(s->reader_waits, waits + 1);
    cw_store_reader_done(s, a);
    cw_store_reader_done(s, c);
    CHECK_EQ_INT(s->nidle, 3);

    /* eight threads read while members are added: no errors, counts never go back */
    atomic_int stop = 0;
    struct reader_ctx rc[8];
    pthread_t rt[8];
    for (int i = 0; i < 8; i++) {
        rc[i] = (struct reader_ctx){.s = s, .stop = &stop};
        CHECK_EQ_INT(pthread_create(&rt[i], NULL, read_loop, &rc[i]), 0);
    }
    for (int i = 0; i < 200; i++) {
        char name[32];
        snprintf(name, sizeof(name), "m%03d", i);
        CHECK_EQ_INT(cw_store_member_add(s, name, &id, err, sizeof(err)), 0);
    }
    atomic_store(&stop, 1);
    int64_t reads = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(rt[i], NULL);
        CHECK_EQ_INT(rc[i].errors, 0);
        CHECK_EQ_INT(rc[i].regressions, 0);
        reads += rc[i].reads;
    }
    CHECK(reads > 0);
    CHECK_EQ_INT(s->nidle, 3);
    struct cw_totals t;
    CHECK_EQ_INT(cw_store_totals(s, &t, err, sizeof(err)), 0);
    CHECK_EQ_INT(t.members, 202);
    cw_store_close(s);

    /* 0 readers configured: the default of 4; more than the cap: the cap */
    s = NULL;
    opt.readers = 0;
    CHECK_EQ_INT(cw_store_open(&s, dir, &opt, err, sizeof(err)), 0);
    CHECK(s && s->nreaders == 4);
    cw_store_close(s);
    s = NULL;
    opt.readers = 1000;
    CHECK_EQ_INT(cw_store_open(&s, dir, &opt, err, sizeof(err)), 0);
    CHECK(s && s->nreaders == CW_STORE_MAX_READERS);
    CHECK_EQ_INT(cw_store_member_find(s, "m199", &f.m), 0);
    cw_store_close(s);

    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK_EQ_INT(system(cmd), 0);
    return cw_test_finish("test_store_pool");
}
