/* bench_ingest.c - ingest throughput of crosswatch, beside goaccess as the peer.
 *
 * Not a test: it prints figures (docs/performance.md keeps them). One run measures
 *   1. parse-only: cw_format_parse_body() on one thread over the whole input in
 *      chunks of --batch lines (cw_batch_clear() between chunks), for replayed real
 *      combined access logs and replayed real Suricata EVE (bench_data.h);
 *   2. end to end: a real center in this process (cw_center_start on 127.0.0.1:0
 *      with a fresh data directory), fed over loopback HTTP by libcurl clients with
 *      zstd bodies of --batch lines and an Idempotency-Key each, exactly like
 *      `crosswatch ship`; a batch counts when its 200 answer arrived, i.e. once it
 *      is durable (SQLite WAL, synchronous=FULL). Bodies are compressed before the
 *      clock starts (the sensor does that, not the center). After each run the
 *      store's counters for that run's sensor must equal what was sent;
 *   3. the peer: goaccess (one process, single-threaded) on the same access log
 *      file, timed with wait4() rusage: parsing with every panel ignored (the purest
 *      parse figure it allows), its default parse + panel aggregation, and the same
 *      with a JSON report whose request counts are checked.
 *
 * Per-core figures are records per CPU-second of the whole process (server and
 * clients share it), and, for end to end, also per CPU-second of the process minus
 * the client threads' own CPU time (= the center's cost). */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_data.h"
#include "center/center.h"
#include "center/http.h"
#include "center/store.h"
#include "common/codec.h"
#include "common/config.h"
#include "common/log.h"
#include "common/record.h"
#include "common/timefmt.h"
#include "formats/format.h"
#include "common/banned.h"

#ifndef CW_BENCH_SHARED_DEFAULT
#define CW_BENCH_SHARED_DEFAULT "../shared"
#endif
#ifndef CW_BENCH_BUILD_TYPE
#define CW_BENCH_BUILD_TYPE "?"
#endif

#define PARSE_PASSES 3
#define CLIENT_ZSTD_LEVEL 3 /* what ship uses for its spool segments */
#define MAX_ROWS 32

struct opts {
    uint64_t lines;
    uint32_t batch;
    const char *shared;
    const char *tmp;
    bool skip_e2e, skip_peer, keep;
    int server_threads; /* 0 = the center's default */
};

/* -- clocks ------------------------------------------------------------------ */
static double now_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double now_cpu(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* -- profiling hook -----------------------------------------------------------
 * To profile one phase only:
 *   mkfifo ctl ack; CW_BENCH_PERF_PHASE=e2e-combined CW_BENCH_PERF_CTL=ctl \
 *   CW_BENCH_PERF_ACK=ack perf record -D -1 --control=fifo:ctl,ack -g ./build/bench_ingest
 * Phases: parse-combined, parse-eve, e2e-combined-1c, e2e-eve-1c, e2e-combined-2c,
 * e2e-eve-2c; CW_BENCH_PERF_PHASE matches by prefix ("e2e" = every e2e run). */
static void perf_ctl(const char *phase, const char *cmd)
{
    const char *want = getenv("CW_BENCH_PERF_PHASE"), *ctl = getenv("CW_BENCH_PERF_CTL");
    const char *ack = getenv("CW_BENCH_PERF_ACK");
    if (!want || !ctl || strncmp(phase, want, strlen(want)) != 0)
        return;
    int fd = open(ctl, O_WRONLY);
    if (fd < 0)
        return;
    ssize_t w = write(fd, cmd, strlen(cmd));
    close(fd);
    if (w > 0 && ack && (fd = open(ack, O_RDONLY)) >= 0) {
        char b[16];
        ssize_t r = read(fd, b, sizeof(b));
        (void)r;
        close(fd);
    }
}

/* -- result table ------------------------------------------------------------ */
struct row {
    char stage[48], input[24];
    uint64_t lines;
    double wall, cpu, srv_cpu; /* srv_cpu < 0: not applicable */
    double mb;                 /* input megabytes (10^6) */
    bool ok;
};

static struct row rows[MAX_ROWS];
static size_t nrows;

static struct row *add_row(const char *stage, const char *input)
{
    if (nrows == MAX_ROWS)
        return NULL;
    struct row *r = &rows[nrows++];
    memset(r, 0, sizeof(*r));
    snprintf(r->stage, sizeof(r->stage), "%s", stage);
    snprintf(r->input, sizeof(r->input), "%s", input);
    r->srv_cpu = -1;
    return r;
}

static void fmt_rate(char *out, size_t cap, double v)
{
    if (v >= 1e6)
        snprintf(out, cap, "%.2fM", v / 1e6);
    else if (v >= 1e3)
        snprintf(out, cap, "%.0fk", v / 1e3);
    else
        snprintf(out, cap, "%.0f", v);
}

static void print_table(FILE *o)
{
    fprintf(o, "\n| stage | input | lines | seconds | CPU-s | lines/s | lines/CPU-s | "
               "lines/server-CPU-s | MB/s |\n");
    fprintf(o, "|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < nrows; i++) {
        const struct row *r = &rows[i];
        char a[32], b[32], c[32];
        fmt_rate(a, sizeof(a), r->lines / r->wall);
        fmt_rate(b, sizeof(b), r->lines / r->cpu);
        if (r->srv_cpu > 0)
            fmt_rate(c, sizeof(c), r->lines / r->srv_cpu);
        else
            snprintf(c, sizeof(c), "-");
        fprintf(o, "| %s%s | %s | %" PRIu64 " | %.3f | %.3f | %s | %s | %s | %.1f |\n", r->stage,
                r->ok ? "" : " (FAILED)", r->input, r->lines, r->wall, r->cpu, a, b, c,
                r->mb / r->wall);
    }
}

/* -- machine ------------------------------------------------------------------ */
static void cpu_model(char *out, size_t cap)
{
    snprintf(out, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "model name", 10) == 0) {
            const char *c = strchr(line, ':');
            if (c) {
                c++;
                while (*c == ' ' || *c == '\t')
                    c++;
                snprintf(out, cap, "%.*s", (int)strcspn(c, "\n"), c);
            }
            break;
        }
    }
    fclose(f);
}

static const char *fs_name(const char *path)
{
    struct statfs sf;
    if (statfs(path, &sf) != 0)
        return "?";
    switch ((unsigned long)sf.f_type) {
    case 0xEF53: return "ext4";
    case 0x01021994: return "tmpfs (fsync is free: durability figures are optimistic!)";
    case 0x58465342: return "xfs";
    case 0x9123683E: return "btrfs";
    case 0x794c7630: return "overlayfs";
    case 0x2fc12fc1: return "zfs";
    default: return "other";
    }
}

static void print_machine(FILE *o, const struct opts *op, const char *data_parent)
{
    char model[256];
    cpu_model(model, sizeof(model));
    struct utsname u;
    uname(&u);
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    char date[64];
    strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", &tm);
    fprintf(o, "date: %s\n", date);
    fprintf(o, "machine: %ld online CPUs, %s, %s %s %s\n", sysconf(_SC_NPROCESSORS_ONLN), model,
            u.sysname, u.release, u.machine);
    fprintf(o, "build: %s, %s\n", CW_BENCH_BUILD_TYPE, curl_version());
    fprintf(o, "data dir filesystem (%s): %s\n", data_parent, fs_name(data_parent));
    fprintf(o, "lines per input: %" PRIu64 ", batch: %u lines\n", op->lines, op->batch);
    FILE *f = fopen("/proc/loadavg", "r");
    char la[128];
    if (f && fgets(la, sizeof(la), f))
        fprintf(o, "load average now: %.*s (other processes compete for the CPUs when this "
                   "is well above 0)\n", (int)strcspn(la, "\n"), la);
    if (f)
        fclose(f);
}

/* -- parse-only -------------------------------------------------------------- */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void bench_parse(const struct bench_data *d)
{
    const struct cw_format *fmt = cw_format_find(d->format);
    struct cw_batch b;
    cw_batch_init(&b);
    struct cw_parse_ctx ctx = {1, 1, cw_now_us()};
    double walls[PARSE_PASSES], cpus[PARSE_PASSES];
    bool ok = true;
    /* warm-up: a few chunks, so the arena has grown to its working size */
    for (size_t i = 0; i < d->nchunks && i < 8; i++) {
        cw_format_parse_body(fmt, &b, &ctx, d->buf + d->off[i], d->off[i + 1] - d->off[i],
                             CW_MAX_LINE_DEFAULT, NULL);
        cw_batch_clear(&b);
    }
    char phase[64];
    snprintf(phase, sizeof(phase), "parse-%s", d->format);
    perf_ctl(phase, "enable\n");
    for (int pass = 0; pass < PARSE_PASSES; pass++) {
        uint64_t accepted = 0, rejected = 0;
        double w0 = now_wall(), c0 = now_cpu(CLOCK_PROCESS_CPUTIME_ID);
        for (size_t i = 0; i < d->nchunks; i++) {
            struct cw_parse_stats st = {0, 0, 0};
            if (cw_format_parse_body(fmt, &b, &ctx, d->buf + d->off[i],
                                     d->off[i + 1] - d->off[i], CW_MAX_LINE_DEFAULT, &st))
                ok = false;
            accepted += st.accepted;
            rejected += st.rejected;
            cw_batch_clear(&b);
        }
        walls[pass] = now_wall() - w0;
        cpus[pass] = now_cpu(CLOCK_PROCESS_CPUTIME_ID) - c0;
        if (accepted != d->lines || rejected)
            ok = false;
        printf("  parse %-8s pass %d: %.3f s wall, %.3f s CPU, %" PRIu64 " accepted, %" PRIu64
               " rejected\n",
               d->format, pass + 1, walls[pass], cpus[pass], accepted, rejected);
    }
    perf_ctl(phase, "disable\n");
    cw_batch_release(&b);
    qsort(walls, PARSE_PASSES, sizeof(double), cmp_double);
    qsort(cpus, PARSE_PASSES, sizeof(double), cmp_double);
    char stage[48];
    snprintf(stage, sizeof(stage), "parse-only (median of %d)", PARSE_PASSES);
    struct row *r = add_row(stage, d->format);
    if (r) {
        r->lines = d->lines;
        r->wall = walls[PARSE_PASSES / 2];
        r->cpu = cpus[PARSE_PASSES / 2];
        r->mb = d->len / 1e6;
        r->ok = ok;
    }
}

/* -- end to end ---------------------------------------------------------------- */
struct body {
    char *z;
    size_t zlen;
    uint32_t lines;
};

struct e2e_run {
    const char *url;
    const char *key;
    const char *tag;
    const struct body *bodies;
    size_t nbodies;
    atomic_size_t next;
    atomic_uint_least64_t accepted, failures, retries, duplicates;
    pthread_mutex_t lat_lock;
    double lat_sum, lat_max; /* seconds per acknowledged batch */
};

struct e2e_thread {
    pthread_t th;
    struct e2e_run *run;
    double cpu; /* this client thread's own CPU time */
};

struct resp_buf {
    char data[4096];
    size_t len;
};

static size_t on_write(char *p, size_t sz, size_t n, void *ud)
{
    struct resp_buf *rb = ud;
    size_t k = sz * n;
    size_t room = sizeof(rb->data) - 1 - rb->len;
    size_t c = k < room ? k : room;
    memcpy(rb->data + rb->len, p, c);
    rb->len += c;
    rb->data[rb->len] = 0;
    return k;
}

static void *e2e_client(void *arg)
{
    struct e2e_thread *t = arg;
    struct e2e_run *run = t->run;
    double c0 = now_cpu(CLOCK_THREAD_CPUTIME_ID);
    CURL *h = curl_easy_init();
    char auth[256];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", run->key);
    struct resp_buf rb;
    if (!h) {
        atomic_fetch_add(&run->failures, 1);
        return NULL;
    }
    curl_easy_setopt(h, CURLOPT_URL, run->url);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &rb);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
    for (;;) {
        size_t i = atomic_fetch_add(&run->next, 1);
        if (i >= run->nbodies)
            break;
        const struct body *bd = &run->bodies[i];
        char idem[128];
        snprintf(idem, sizeof(idem), "Idempotency-Key: bench-%s-%zu", run->tag, i);
        struct curl_slist *hdr = NULL;
        hdr = curl_slist_append(hdr, auth);
        hdr = curl_slist_append(hdr, "Content-Encoding: zstd");
        hdr = curl_slist_append(hdr, "Content-Type: application/octet-stream");
        hdr = curl_slist_append(hdr, "Expect:");
        hdr = curl_slist_append(hdr, idem);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, bd->z);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)bd->zlen);
        bool done = false;
        for (int attempt = 0; attempt < 5 && !done; attempt++) {
            if (attempt)
                atomic_fetch_add(&run->retries, 1);
            rb.len = 0;
            rb.data[0] = 0;
            long status = 0;
            double l0 = now_wall();
            CURLcode cc = curl_easy_perform(h);
            double lat = now_wall() - l0;
            if (cc == CURLE_OK)
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
            if (cc != CURLE_OK || status == 503) {
                fprintf(stderr, "batch %zu: %s (retrying)\n", i,
                        cc != CURLE_OK ? curl_easy_strerror(cc) : rb.data);
                continue;
            }
            if (status != 200) {
                fprintf(stderr, "batch %zu: HTTP %ld: %s\n", i, status, rb.data);
                break;
            }
            const char *a = strstr(rb.data, "\"accepted\":");
            unsigned long long acc = a ? strtoull(a + 11, NULL, 10) : 0;
            if (strstr(rb.data, "\"duplicate\":true"))
                atomic_fetch_add(&run->duplicates, 1);
            if (acc != bd->lines)
                fprintf(stderr, "batch %zu: accepted %llu of %u lines: %.300s\n", i, acc,
                        bd->lines, rb.data);
            atomic_fetch_add(&run->accepted, acc);
            pthread_mutex_lock(&run->lat_lock);
            run->lat_sum += lat;
            if (lat > run->lat_max)
                run->lat_max = lat;
            pthread_mutex_unlock(&run->lat_lock);
            done = true;
        }
        if (!done)
            atomic_fetch_add(&run->failures, 1);
        curl_slist_free_all(hdr);
    }
    curl_easy_cleanup(h);
    t->cpu = now_cpu(CLOCK_THREAD_CPUTIME_ID) - c0;
    return NULL;
}

static int compress_bodies(const struct bench_data *d, struct body **out, size_t *zbytes)
{
    struct body *bs = calloc(d->nchunks, sizeof(*bs));
    if (!bs)
        return -1;
    *zbytes = 0;
    for (size_t i = 0; i < d->nchunks; i++) {
        if (cw_zstd_compress(d->buf + d->off[i], d->off[i + 1] - d->off[i], CLIENT_ZSTD_LEVEL,
                             &bs[i].z, &bs[i].zlen) != CW_CODEC_OK) {
            for (size_t j = 0; j < i; j++)
                free(bs[j].z);
            free(bs);
            return -1;
        }
        bs[i].lines = bench_data_chunk_lines(d, i);
        *zbytes += bs[i].zlen;
    }
    *out = bs;
    return 0;
}

struct e2e_env {
    struct cw_center *center;
    struct cw_store *store;
    uint32_t member_id;
    char url[512];
    int runs;
};

static int e2e_start(struct e2e_env *env, const struct opts *op, const char *data_dir)
{
    memset(env, 0, sizeof(*env));
    struct cw_config cfg;
    cw_config_init(&cfg);
    char err[512], threads[16];
    struct cw_center_config cc;
    int rc = -1;
    snprintf(threads, sizeof(threads), "%d", op->server_threads);
    if (cw_config_add(&cfg, "serve", "listen", "127.0.0.1:0", "bench", false) ||
        cw_config_add(&cfg, "serve", "data_dir", data_dir, "bench", false) ||
        cw_config_add(&cfg, "serve", "retention_days", "0", "bench", false) ||
        (op->server_threads > 0 &&
         cw_config_add(&cfg, "serve", "threads", threads, "bench", false))) {
        fprintf(stderr, "out of memory\n");
        goto out;
    }
    if (cw_center_config_load(&cc, &cfg, err, sizeof(err)) ||
        cw_center_start(&env->center, &cc, err, sizeof(err))) {
        fprintf(stderr, "cannot start the center: %s\n", err);
        goto out;
    }
    env->store = cw_center_store(env->center);
    if (cw_store_member_add(env->store, "bench", &env->member_id, err, sizeof(err))) {
        fprintf(stderr, "cannot add member: %s\n", err);
        goto out;
    }
    snprintf(env->url, sizeof(env->url), "%s/api/v1/ingest", cw_center_url(env->center));
    printf("center: %s, %" PRId64 " HTTP worker threads, zstd level %" PRId64
           ", data in %s\n",
           cw_center_url(env->center), cc.threads, cc.zstd_level, data_dir);
    rc = 0;
out:
    cw_config_release(&cfg);
    return rc;
}

static void bench_e2e(struct e2e_env *env, const struct bench_data *d, const struct body *bodies,
                      size_t zbytes, int nclients)
{
    char err[512], key[128], name[64], url[640];
    struct cw_sensor_info si;
    snprintf(name, sizeof(name), "%s-%dc-%d", d->format, nclients, ++env->runs);
    if (cw_store_sensor_add(env->store, env->member_id, name, &si, key, sizeof(key), err,
                            sizeof(err))) {
        fprintf(stderr, "cannot add sensor: %s\n", err);
        return;
    }
    snprintf(url, sizeof(url), "%s?format=%s", env->url, d->format);
    struct e2e_run run;
    memset(&run, 0, sizeof(run));
    run.url = url;
    run.key = key;
    run.tag = name;
    run.bodies = bodies;
    run.nbodies = d->nchunks;
    pthread_mutex_init(&run.lat_lock, NULL);
    struct e2e_thread th[16];
    if (nclients > 16)
        nclients = 16;
    char phase[64];
    snprintf(phase, sizeof(phase), "e2e-%s-%dc", d->format, nclients);
    perf_ctl(phase, "enable\n");
    double w0 = now_wall(), c0 = now_cpu(CLOCK_PROCESS_CPUTIME_ID);
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    int started = 0;
    for (int i = 0; i < nclients; i++) {
        th[i].run = &run;
        th[i].cpu = 0;
        if (pthread_create(&th[i].th, NULL, e2e_client, &th[i]) != 0)
            break;
        started++;
    }
    double client_cpu = 0;
    for (int i = 0; i < started; i++) {
        pthread_join(th[i].th, NULL);
        client_cpu += th[i].cpu;
    }
    double wall = now_wall() - w0, cpu = now_cpu(CLOCK_PROCESS_CPUTIME_ID) - c0;
    getrusage(RUSAGE_SELF, &ru1);
    perf_ctl(phase, "disable\n");
    double user = (ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
                  (ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6;
    double sys = (ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
                 (ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;

    /* the store must hold exactly what was sent */
    struct cw_sensor_info after;
    bool ok = cw_store_sensor_get(env->store, si.id, &after) == 0 &&
              (uint64_t)after.records == d->lines && (uint64_t)after.batches == d->nchunks &&
              after.rejected == 0 && after.duplicates == 0 &&
              atomic_load(&run.failures) == 0 && atomic_load(&run.accepted) == d->lines;
    printf("  e2e %-8s %d client%s: %.3f s wall, %.3f s CPU (user %.2f, sys %.2f; client "
           "threads %.3f), %" PRIu64 " retries, %" PRIu64 " failed batches\n",
           d->format, nclients, nclients > 1 ? "s" : " ", wall, cpu, user, sys, client_cpu,
           (uint64_t)atomic_load(&run.retries), (uint64_t)atomic_load(&run.failures));
    printf("  batch latency (POST until the durable 200): mean %.1f ms, max %.1f ms\n",
           1e3 * run.lat_sum / (double)d->nchunks, 1e3 * run.lat_max);
    pthread_mutex_destroy(&run.lat_lock);
    printf("  verify %s: sent %" PRIu64 " lines in %zu batches (%.1f MB zstd); acknowledged "
           "%" PRIu64 "; store has records=%" PRId64 " batches=%" PRId64 " rejected=%" PRId64
           " duplicates=%" PRId64 " -> %s\n",
           name, d->lines, d->nchunks, zbytes / 1e6, (uint64_t)atomic_load(&run.accepted),
           after.records, after.batches, after.rejected, after.duplicates,
           ok ? "OK" : "MISMATCH");
    char stage[48];
    snprintf(stage, sizeof(stage), "e2e HTTP->durable, %d client%s", nclients,
             nclients > 1 ? "s" : "");
    struct row *r = add_row(stage, d->format);
    if (r) {
        r->lines = d->lines;
        r->wall = wall;
        r->cpu = cpu;
        r->srv_cpu = cpu - client_cpu;
        r->mb = d->len / 1e6;
        r->ok = ok;
    }
}

/* -- peer: goaccess ----------------------------------------------------------- */
static int run_tool(char *const argv[], const char *log_path, double *wall, double *cpu,
                    int *status)
{
    double w0 = now_wall();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int lg = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in >= 0)
            dup2(in, 0);
        if (lg >= 0) {
            dup2(lg, 1);
            dup2(lg, 2);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    struct rusage ru;
    if (wait4(pid, status, 0, &ru) != pid)
        return -1;
    *wall = now_wall() - w0;
    *cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
    return 0;
}

/* "total_requests": N from goaccess' JSON report; -1 if not found. */
static long long json_number(const char *path, const char *name)
{
    size_t cap = 1 << 16;
    char *b = malloc(cap);
    FILE *f = fopen(path, "rb");
    long long v = -1;
    if (b && f) {
        size_t n = fread(b, 1, cap - 1, f);
        b[n] = 0;
        char pat[64];
        snprintf(pat, sizeof(pat), "\"%s\":", name);
        const char *p = strstr(b, pat);
        if (p) {
            p += strlen(pat);
            while (*p == ' ')
                p++;
            v = strtoll(p, NULL, 10);
        }
    }
    if (f)
        fclose(f);
    free(b);
    return v;
}

static void bench_peer(const struct bench_data *d, const char *log_file, const char *tmpdir)
{
    char out_json[4200], tool_log[4200];
    snprintf(out_json, sizeof(out_json), "%s/goaccess-report.json", tmpdir);
    snprintf(tool_log, sizeof(tool_log), "%s/goaccess.log", tmpdir);
    char ver[64] = "goaccess";
    {
        char *argv[] = {"goaccess", "--version", NULL};
        double w, c;
        int st;
        if (run_tool(argv, tool_log, &w, &c, &st) || !WIFEXITED(st) || WEXITSTATUS(st) == 127) {
            printf("peer: goaccess not found (install the Debian package goaccess: make deps); "
                   "skipped\n");
            return;
        }
        FILE *f = fopen(tool_log, "r");
        if (f) {
            char line[256];
            if (fgets(line, sizeof(line), f)) {
                size_t n = strcspn(line, "\n");
                while (n && line[n - 1] == '.')
                    n--;
                snprintf(ver, sizeof(ver), "%.*s", (int)n, line);
            }
            fclose(f);
        }
    }
    /* 1. parsing as purely as goaccess allows: --process-and-exit writes no report and
     *    every --ignore-panel leaves only its general counters (total, valid, failed,
     *    bandwidth); 2. its default work: parse + aggregate into all panels (user
     *    agent -> OS/browser classification, hosts, requests, referrers ...), no
     *    report; 3. the same plus the JSON report, which also says how many lines it
     *    took as valid (the check) */
    static const char *const panels[] = {
        "VISITORS",     "REQUESTS",     "REQUESTS_STATIC", "NOT_FOUND",   "HOSTS",
        "OS",           "BROWSERS",     "VISIT_TIMES",     "VIRTUAL_HOSTS", "REFERRERS",
        "REFERRING_SITES", "KEYPHRASES", "STATUS_CODES",   "REMOTE_USER", "CACHE_STATUS",
        "GEO_LOCATION", "MIME_TYPE",    "TLS_TYPE"};
    enum { NPANELS = sizeof(panels) / sizeof(panels[0]) };
    char panel_args[NPANELS][48];
    char *argv0[6 + NPANELS];
    int k = 0;
    argv0[k++] = "goaccess";
    argv0[k++] = (char *)log_file;
    argv0[k++] = "--log-format=COMBINED";
    argv0[k++] = "--no-global-config";
    argv0[k++] = "--process-and-exit";
    for (int i = 0; i < NPANELS; i++) {
        snprintf(panel_args[i], sizeof(panel_args[i]), "--ignore-panel=%s", panels[i]);
        argv0[k++] = panel_args[i];
    }
    argv0[k] = NULL;
    char *argv1[] = {"goaccess", (char *)log_file, "--log-format=COMBINED", "--no-global-config",
                     "--process-and-exit", NULL};
    char out_arg[4300];
    snprintf(out_arg, sizeof(out_arg), "--output=%s", out_json);
    char *argv2[] = {"goaccess", (char *)log_file, "--log-format=COMBINED", "--no-global-config",
                     out_arg, NULL};
    struct {
        char *const *argv;
        const char *stage;
    } runs[3] = {{argv0, "peer goaccess parse, panels off"},
                 {argv1, "peer goaccess parse+panels"},
                 {argv2, "peer goaccess parse+panels+JSON"}};
    for (int i = 0; i < 3; i++) {
        double w, c;
        int st;
        if (run_tool(runs[i].argv, tool_log, &w, &c, &st)) {
            printf("peer: cannot run goaccess: %s\n", strerror(errno));
            return;
        }
        bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
        printf("  %s (%s): %.3f s wall, %.3f s CPU, exit %d\n", runs[i].stage, ver, w, c,
               WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        if (i == 2) {
            long long total = json_number(out_json, "total_requests");
            long long valid = json_number(out_json, "valid_requests");
            long long failed = json_number(out_json, "failed_requests");
            printf("  goaccess report: total_requests=%lld valid=%lld failed=%lld (sent %" PRIu64
                   ")\n",
                   total, valid, failed, d->lines);
            /* goaccess reads at most 4096 bytes per line and counts the rest of a longer
             * line as one more (failed) request, so total can exceed what was sent */
            ok = ok && total >= (long long)d->lines && valid + failed == total;
            if (total > (long long)d->lines)
                printf("  (goaccess splits lines longer than 4095 bytes: %lld extra "
                       "\"requests\")\n",
                       total - (long long)d->lines);
        }
        struct row *r = add_row(runs[i].stage, "combined");
        if (r) {
            r->lines = d->lines;
            r->wall = w;
            r->cpu = c;
            r->mb = d->len / 1e6;
            r->ok = ok;
        }
    }
}

/* -- main ---------------------------------------------------------------------- */
static void usage(FILE *o)
{
    fprintf(o,
            "usage: bench_ingest [--lines N] [--batch N] [--shared DIR] [--tmp DIR]\n"
            "                    [--server-threads N] [--skip-e2e] [--skip-peer] [--keep]\n"
            "Prints ingest throughput: parse-only and end to end (HTTP -> durable) for\n"
            "replayed real combined access logs and Suricata EVE, and goaccess parsing the\n"
            "same access log. Not a test. Defaults: --lines 1000000, --batch 5000,\n"
            "--shared $CW_SHARED_DIR or %s, --tmp $TMPDIR or /var/tmp\n"
            "(the center's data directory goes there: use a real disk, not tmpfs).\n",
            CW_BENCH_SHARED_DEFAULT);
}

static int parse_args(struct opts *op, int argc, char **argv)
{
    const char *env = getenv("CW_SHARED_DIR");
    const char *tmp = getenv("TMPDIR");
    op->lines = 1000000;
    op->batch = 5000;
    op->shared = env && *env ? env : CW_BENCH_SHARED_DEFAULT;
    op->tmp = tmp && *tmp ? tmp : "/var/tmp";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--skip-e2e")) {
            op->skip_e2e = true;
        } else if (!strcmp(a, "--skip-peer")) {
            op->skip_peer = true;
        } else if (!strcmp(a, "--keep")) {
            op->keep = true;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        } else if (v && !strcmp(a, "--lines")) {
            op->lines = strtoull(v, NULL, 10);
            i++;
        } else if (v && !strcmp(a, "--batch")) {
            op->batch = (uint32_t)strtoul(v, NULL, 10);
            i++;
        } else if (v && !strcmp(a, "--shared")) {
            op->shared = v;
            i++;
        } else if (v && !strcmp(a, "--tmp")) {
            op->tmp = v;
            i++;
        } else if (v && !strcmp(a, "--server-threads")) {
            op->server_threads = atoi(v);
            i++;
        } else {
            usage(stderr);
            return -1;
        }
    }
    if (op->lines == 0 || op->batch == 0 || op->batch > 1000000) {
        fprintf(stderr, "--lines and --batch must be positive (batch <= 1000000)\n");
        return -1;
    }
    return 0;
}

static void remove_tree(const char *dir)
{
    static const char *const files[] = {"crosswatch.db", "crosswatch.db-wal",
                                        "crosswatch.db-shm", "admin.token",
                                        "access.log", "goaccess-report.json", "goaccess.log"};
    char p[4300];
    snprintf(p, sizeof(p), "%s/data", dir);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(p, sizeof(p), "%s/data/%s", dir, files[i]);
        unlink(p);
        snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
        unlink(p);
    }
    snprintf(p, sizeof(p), "%s/data", dir);
    rmdir(p);
    rmdir(dir);
}

int main(int argc, char **argv)
{
    struct opts op;
    memset(&op, 0, sizeof(op));
    if (parse_args(&op, argc, argv))
        return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    cw_log_set_level(CW_LOG_WARN);
    char tmpdir[4096];
    snprintf(tmpdir, sizeof(tmpdir), "%s/cw-bench-XXXXXX", op.tmp);
    if (!mkdtemp(tmpdir)) {
        fprintf(stderr, "cannot create a directory under %s: %s\n", op.tmp, strerror(errno));
        return 1;
    }
    printf("crosswatch bench_ingest (not a test: figures for docs/performance.md)\n");
    print_machine(stdout, &op, op.tmp);
    int rc = 1;
    struct bench_data acc, eve;
    memset(&acc, 0, sizeof(acc));
    memset(&eve, 0, sizeof(eve));
    char err[1024];
    double t0 = now_wall();
    if (bench_data_access(&acc, op.shared, op.lines, op.batch, err, sizeof(err)) ||
        bench_data_eve(&eve, op.shared, op.lines, op.batch, err, sizeof(err))) {
        fprintf(stderr, "cannot build the input: %s\n(use --shared DIR or CW_SHARED_DIR)\n", err);
        goto out;
    }
    char access_path[4200];
    snprintf(access_path, sizeof(access_path), "%s/access.log", tmpdir);
    if (bench_data_write(&acc, access_path, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        goto out;
    }
    printf("input combined: %" PRIu64 " lines, %.1f MB (%.0f B/line), written to %s\n  %s\n",
           acc.lines, acc.len / 1e6, (double)acc.len / acc.lines, access_path, acc.source);
    printf("input eve:      %" PRIu64 " lines, %.1f MB (%.0f B/line)\n  %s\n", eve.lines,
           eve.len / 1e6, (double)eve.len / eve.lines, eve.source);
    printf("(inputs built in %.1f s)\n\n", now_wall() - t0);

    printf("parse-only: cw_format_parse_body on one thread, chunks of %u lines, "
           "cw_batch_clear between chunks\n",
           op.batch);
    bench_parse(&acc);
    bench_parse(&eve);

    if (!op.skip_peer) {
        printf("\npeer: goaccess on the same access log file (%s)\n", access_path);
        bench_peer(&acc, access_path, tmpdir);
    }

    if (!op.skip_e2e) {
        printf("\nend to end: POST /api/v1/ingest over loopback, zstd level %d bodies of %u "
               "lines, Idempotency-Key, answer = durable\n",
               CLIENT_ZSTD_LEVEL, op.batch);
        char data_dir[4200];
        snprintf(data_dir, sizeof(data_dir), "%s/data", tmpdir);
        curl_global_init(CURL_GLOBAL_DEFAULT);
        struct e2e_env env;
        struct body *ab = NULL, *eb = NULL;
        size_t azb = 0, ezb = 0;
        if (compress_bodies(&acc, &ab, &azb) || compress_bodies(&eve, &eb, &ezb)) {
            fprintf(stderr, "out of memory compressing bodies\n");
        } else if (e2e_start(&env, &op, data_dir) == 0) {
            for (int nc = 1; nc <= 2; nc++) {
                bench_e2e(&env, &acc, ab, azb, nc);
                bench_e2e(&env, &eve, eb, ezb, nc);
            }
            struct cw_totals tt;
            if (cw_store_totals(env.store, &tt, err, sizeof(err)) == 0)
                printf("  store totals: records=%" PRId64 " batches=%" PRId64
                       " rejected=%" PRId64 " (expected records=%" PRIu64 ")\n",
                       tt.records, tt.batches, tt.rejected, 2 * (acc.lines + eve.lines));
            struct stat sb;
            char db[4300];
            snprintf(db, sizeof(db), "%s/crosswatch.db", data_dir);
            if (stat(db, &sb) == 0)
                printf("  database size: %.1f MB for %" PRIu64 " records\n", sb.st_size / 1e6,
                       2 * (acc.lines + eve.lines));
            cw_center_stop(env.center);
        }
        for (size_t i = 0; ab && i < acc.nchunks; i++)
            free(ab[i].z);
        for (size_t i = 0; eb && i < eve.nchunks; i++)
            free(eb[i].z);
        free(ab);
        free(eb);
        curl_global_cleanup();
    }

    printf("\nresults (%s)\n", op.lines == 1000000 ? "default 1M lines" : "custom --lines");
    print_machine(stdout, &op, op.tmp);
    print_table(stdout);
    rc = 0;
    for (size_t i = 0; i < nrows; i++)
        if (!rows[i].ok)
            rc = 1;
    if (rc)
        printf("\nSOME ROWS FAILED their checks (see above): do not quote their figures.\n");
out:
    bench_data_release(&acc);
    bench_data_release(&eve);
    if (op.keep)
        printf("kept %s\n", tmpdir);
    else
        remove_tree(tmpdir);
    return rc;
}
