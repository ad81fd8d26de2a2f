/* bench_triage.c - noise removal and event aggregation: detections per CPU-second and
 * memory per open event.
 *
 * Not a test: it prints figures (docs/performance.md keeps them). No peer tool does
 * this stage (drop explainable noise, bundle the rest into events in record time),
 * so there is no peer figure.
 *
 * Input: synthetic detections built in memory, batch by batch, outside the timed
 * region: real IDS-alert-shaped records (core addresses, alert.action, http.status,
 * http.user_agent, http.host) and their struct cw_detection (class, severity,
 * rule id, product for edge exploits). The mix (defaults):
 *   - 100 members, each with 1024 public target addresses (a /22) hit with a skew;
 *   - 150,000 attacking sources (5% IPv6), drawn with a power-law skew (index =
 *     K * u^3: a few sources send most, every source shows up); each source has a
 *     home class (80% of its detections) and mostly one member, sometimes others;
 *   - 5% of detections from real scanner addresses (taken from the MISP warninglists
 *     the center loads, so the range lookup hits), 2% with a scanner User-Agent from
 *     rules/scanner-user-agents.txt, 3% blocked by the sensor, 10% answered
 *     403/404/405, 4% of the scanning class; 2,000 registered assets and 50 analyst
 *     suppressions are on the lookup path, and 1% of detections come from the
 *     members' own (suppressed) scanners;
 *   - record time advances 5 ms per detection in a 24 h window: with the default
 *     10M detections (13.9 h) every event stays open, the open table only grows.
 * Timed (CLOCK_THREAD_CPUTIME_ID around exactly this, per batch): cw_noise_classify
 * with the real scanner knowledge (cw_recon_load of the warninglists + UA file),
 * cw_events_add, and cw_events_take_dirty with a callback that copies each changed
 * event out (what the center does for the store). Figures are given for the whole
 * run and for the part after the open table reached --steady-open events.
 *
 * Memory: malloc'd bytes (mallinfo2: arena + mmapped) of the aggregator after the run
 * minus before it was created, divided by the open events; the RSS growth over the
 * same span; and cw_events_bytes_per_event(), the per-event figure the code claims. */
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "common/record.h"
#include "detect/attack.h"
#include "detect/detect.h"
#include "triage/events.h"
#include "triage/noise.h"
#include "triage/recon.h"
#include "common/banned.h"

#ifndef CW_BENCH_SHARED_DEFAULT
#define CW_BENCH_SHARED_DEFAULT "../shared"
#endif
#ifndef CW_BENCH_SOURCE_DIR
#define CW_BENCH_SOURCE_DIR "."
#endif
#ifndef CW_BENCH_BUILD_TYPE
#define CW_BENCH_BUILD_TYPE "?"
#endif

struct opts {
    uint64_t detections;
    uint32_t sources, members, targets, batch;
    uint64_t steady_open, max_open;
    const char *shared, *ua_file;
};

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

static size_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, res = 0;
    if (f) {
        if (fscanf(f, "%lu %lu", &size, &res) != 2)
            res = 0;
        fclose(f);
    }
    return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
}

/* xorshift64*: fast, deterministic */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}
static double unif(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

/* -- the world ------------------------------------------------------------------ */

struct world {
    struct cw_ip *src;       /* attacking sources */
    uint8_t *src_class;      /* home class per source */
    uint32_t *src_member;    /* home member per source */
    struct cw_ip *scanners;  /* real scanner addresses */
    size_t nscanners;
    char (*uas)[96];         /* user agents with a scanner pattern */
    size_t nuas;
    const struct cw_suppression *supp; /* members' own scanners (suppressed) */
    size_t nsupp;
};

/* realistic class weights of IDS alerts that reach triage */
static const struct {
    uint8_t cls;
    double w;
    int sev;
} class_mix[] = {
    {CW_AC_SQL_INJECTION, 0.18, CW_SEV_HIGH},   {CW_AC_PATH_TRAVERSAL, 0.16, CW_SEV_HIGH},
    {CW_AC_EDGE_EXPLOIT, 0.14, CW_SEV_HIGH},    {CW_AC_COMMAND_EXEC, 0.12, CW_SEV_HIGH},
    {CW_AC_CREDENTIAL, 0.10, CW_SEV_MEDIUM},    {CW_AC_XSS, 0.08, CW_SEV_MEDIUM},
    {CW_AC_TEMPLATE_JNDI, 0.06, CW_SEV_HIGH},   {CW_AC_WEBSHELL, 0.05, CW_SEV_HIGH},
    {CW_AC_MALWARE_C2, 0.04, CW_SEV_HIGH},      {CW_AC_SCANNING, 0.04, CW_SEV_LOW},
    {CW_AC_POLICY, 0.03, CW_SEV_INFO},
};
#define NCLASS (sizeof(class_mix) / sizeof(class_mix[0]))

static const char *const edge_products[] = {"ivanti_connect_secure", "fortios", "citrix_adc",
                                            "panos_globalprotect", "f5_big_ip", "sonicos"};

static uint8_t pick_class(void)
{
    double u = unif(), acc = 0;
    for (size_t i = 0; i < NCLASS; i++) {
        acc += class_mix[i].w;
        if (u < acc)
            return (uint8_t)i;
    }
    return 0;
}

static void public_v4(struct cw_ip *ip, uint64_t r)
{
    memset(ip, 0, sizeof(*ip));
    ip->family = 4;
    uint8_t a = (uint8_t)(1 + r % 223);
    if (a == 10 || a == 127 || a == 100 || a == 172 || a == 192 || a == 169)
        a = 45;
    ip->a[0] = a;
    ip->a[1] = (uint8_t)(r >> 8);
    ip->a[2] = (uint8_t)(r >> 16);
    ip->a[3] = (uint8_t)(1 + (r >> 24) % 254);
}

/* Addresses inside the real scanner lists (the IPv4 CIDRs of every list whose
 * directory name says scanning/scanner): network + small offset. */
static size_t load_scanners(const char *wl, struct cw_ip *out, size_t max)
{
    DIR *d = opendir(wl);
    size_t n = 0;
    if (!d)
        return 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && n < max) {
        if (!strstr(de->d_name, "scanning") && !strstr(de->d_name, "scanner"))
            continue;
        char p[8192];
        snprintf(p, sizeof(p), "%s/%s/list.json", wl, de->d_name);
        FILE *f = fopen(p, "r");
        if (!f)
            continue;
        char line[512];
        while (fgets(line, sizeof(line), f) && n < max) {
            char *q = strchr(line, '"');
            char *sl = q ? strchr(q + 1, '/') : NULL;
            char *e = q ? strchr(q + 1, '"') : NULL;
            if (!q || !sl || !e || sl > e)
                continue;
            struct cw_ip ip;
            if (cw_ip_parse(&ip, q + 1, (size_t)(sl - q - 1)) || ip.family != 4)
                continue;
            int prefix = atoi(sl + 1);
            uint32_t host = prefix >= 32 ? 0 : prefix >= 24 ? (uint32_t)(rnd() % (1u << (32 - prefix)))
                                                            : (uint32_t)(rnd() % 256);
            ip.a[3] = (uint8_t)(ip.a[3] + host);
            out[n++] = ip;
        }
        fclose(f);
    }
    closedir(d);
    return n;
}

static size_t load_uas(const char *path, char (*out)[96], size_t max)
{
    FILE *f = path ? fopen(path, "r") : NULL;
    size_t n = 0;
    if (!f)
        return 0;
    char line[512];
    while (fgets(line, sizeof(line), f) && n < max) {
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        size_t len = strcspn(s, "\r\n");
        while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
            len--;
        if (!len || *s == '#' || len > 60)
            continue;
        snprintf(out[n++], 96, "Mozilla/5.0 (compatible; %.*s/2.1; +https://example.net)",
                 (int)len, s);
    }
    fclose(f);
    return n;
}

static void target_of(uint32_t member, uint32_t idx, struct cw_ip *ip)
{
    memset(ip, 0, sizeof(*ip));
    ip->family = 4;
    /* member m owns 100.64.0.0/10-like public-looking blocks: 203.m.x.y */
    uint32_t base = 0x82000000u + member * 1024u; /* 130.0.0.0 + m*1024 */
    uint32_t a = base + idx;
    ip->a[0] = (uint8_t)(a >> 24);
    ip->a[1] = (uint8_t)(a >> 16);
    ip->a[2] = (uint8_t)(a >> 8);
    ip->a[3] = (uint8_t)a;
}

/* One batch of n detections starting at record time *t. */
static void make_batch(const struct opts *o, const struct world *w, struct cw_batch *b,
                       struct cw_detections *ds, uint32_t n, int64_t *t, char (*rule_ids)[48])
{
    static const char *const blocked = "blocked", *const allowed = "allowed";
    static const int fail_status[] = {403, 404, 405};
    static const int ok_status[] = {200, 200, 200, 302, 500};
    cw_batch_clear(b);
    cw_detections_clear(ds);
    for (uint32_t i = 0; i < n; i++) {
        *t += 5000; /* 5 ms of record time per detection */
        struct cw_record *r = cw_batch_begin(b);
        r->ts_us = *t;
        r->kind = CW_KIND_IDS_ALERT;
        r->sensor_id = 1;
        r->transport = 6;
        r->dport = 443;
        double u = unif();
        uint32_t s = (uint32_t)((double)o->sources * u * u * u);
        if (s >= o->sources)
            s = o->sources - 1;
        uint8_t ci = w->src_class[s];
        if (unif() < 0.2)
            ci = pick_class();
        uint32_t member = w->src_member[s];
        if (unif() < 0.25)
            member = 1 + (uint32_t)(rnd() % o->members);
        r->member_id = member;
        r->src = w->src[s];
        double x = unif();
        if (w->nscanners && x < 0.05) {
            r->src = w->scanners[rnd() % w->nscanners];
        } else if (w->nsupp && x < 0.06) {
            /* a member's own vulnerability scanner, suppressed by its analysts */
            const struct cw_suppression *sp = &w->supp[rnd() % w->nsupp];
            member = sp->member_id;
            r->member_id = member;
            r->src = sp->net;
            r->src.a[3] = (uint8_t)(r->src.a[3] + rnd() % 16);
        }
        double tu = unif();
        target_of(member, (uint32_t)((double)o->targets * tu * tu), &r->dst);
        r->sport = (uint16_t)(1024 + rnd() % 60000);
        double y = unif();
        cw_batch_set_str(b, CW_F_ALERT_ACTION, y < 0.03 ? blocked : allowed, y < 0.03 ? 7 : 7);
        double z = unif();
        if (z < 0.10)
            cw_batch_set_int(b, CW_F_HTTP_STATUS, fail_status[rnd() % 3]);
        else if (z < 0.60)
            cw_batch_set_int(b, CW_F_HTTP_STATUS, ok_status[rnd() % 5]);
        if (w->nuas && unif() < 0.02) {
            const char *ua = w->uas[rnd() % w->nuas];
            cw_batch_set_str(b, CW_F_HTTP_USER_AGENT, ua, strlen(ua));
        } else if (z < 0.60) {
            static const char *const browser =
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
                "Gecko) Chrome/124.0.0.0 Safari/537.36";
            cw_batch_set_str(b, CW_F_HTTP_USER_AGENT, browser, strlen(browser));
        }
        if (cw_batch_commit(b)) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
        struct cw_detection d;
        memset(&d, 0, sizeof(d));
        d.rec = b->n - 1;
        d.attack_class = class_mix[ci].cls;
        d.severity = (uint8_t)class_mix[ci].sev;
        d.source = CW_DET_IDS;
        uint32_t rule = (uint32_t)(mix64(s * 31u + ci) % 64);
        memcpy(d.rule_id, rule_ids[ci * 64 + rule], 48);
        d.rule_name = "ET bench rule";
        d.rule_name_len = 13;
        if (d.attack_class == CW_AC_EDGE_EXPLOIT) {
            d.product = edge_products[mix64(s) % 6];
            d.product_len = (uint16_t)strlen(d.product);
        }
        if (cw_detections_add(ds, &d)) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
    }
}

struct sink {
    struct cw_event *ev;
    size_t n, cap;
};

static int sink_cb(void *ctx, const struct cw_event *e)
{
    struct sink *s = ctx;
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 1024;
        struct cw_event *ne = realloc(s->ev, nc * sizeof(*ne));
        if (!ne)
            return -1;
        s->ev = ne;
        s->cap = nc;
    }
    s->ev[s->n++] = *e;
    return 0;
}

static void usage(void)
{
    printf("usage: bench_triage [--detections N] [--sources N] [--members N] [--targets N]\n"
           "                    [--batch N] [--steady-open N] [--max-open N] [--shared DIR]\n"
           "                    [--ua-file FILE]\n"
           "defaults: 10000000 detections, 150000 sources, 100 members, 1024 targets per\n"
           "member, batches of 5000, steady part from 100000 open events, --max-open 0 (the\n"
           "aggregator's default, 1M), --shared %s,\n"
           "--ua-file %s/rules/scanner-user-agents.txt\n",
           CW_BENCH_SHARED_DEFAULT, CW_BENCH_SOURCE_DIR);
}

static const char *fmt_rate(double v, char *buf, size_t n)
{
    if (v >= 1e6)
        snprintf(buf, n, "%.2fM", v / 1e6);
    else
        snprintf(buf, n, "%.0fk", v / 1e3);
    return buf;
}

int main(int argc, char **argv)
{
    static char ua_default[4096];
    snprintf(ua_default, sizeof(ua_default), "%s/rules/scanner-user-agents.txt",
             CW_BENCH_SOURCE_DIR);
    const char *env = getenv("CW_SHARED_DIR");
    struct opts o = {10000000, 150000, 100, 1024, 5000, 100000, 0,
                     env && *env ? env : CW_BENCH_SHARED_DEFAULT, ua_default};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage();
            return 0;
        }
        if (!v) {
            usage();
            return 2;
        }
        i++;
        if (!strcmp(a, "--detections"))
            o.detections = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--sources"))
            o.sources = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--members"))
            o.members = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--targets"))
            o.targets = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--batch"))
            o.batch = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--max-open"))
            o.max_open = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--steady-open"))
            o.steady_open = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--shared"))
            o.shared = v;
        else if (!strcmp(a, "--ua-file"))
            o.ua_file = v;
        else {
            usage();
            return 2;
        }
    }
    if (!o.detections || !o.sources || !o.members || !o.targets || !o.batch ||
        o.targets > 1024) {
        fprintf(stderr, "bench_triage: counts must be > 0 and --targets <= 1024\n");
        return 2;
    }

    /* scanner knowledge, as the center loads it */
    char wl[4096], err[512] = "";
    snprintf(wl, sizeof(wl), "%s/data/misp/warninglists", o.shared);
    struct stat st;
    const char *ua_file = o.ua_file && stat(o.ua_file, &st) == 0 ? o.ua_file : NULL;
    if (stat(wl, &st) != 0) {
        fprintf(stderr, "bench_triage: no warninglists at %s (use --shared DIR)\n", wl);
        return 1;
    }
    struct cw_recon *recon = cw_recon_load(wl, ua_file, err, sizeof(err));
    if (!recon) {
        fprintf(stderr, "bench_triage: %s\n", err);
        return 1;
    }
    struct cw_recon_stats rs;
    cw_recon_stats(recon, &rs);

    /* the world */
    struct world w;
    memset(&w, 0, sizeof(w));
    w.src = calloc(o.sources, sizeof(*w.src));
    w.src_class = calloc(o.sources, 1);
    w.src_member = calloc(o.sources, sizeof(uint32_t));
    w.scanners = calloc(5000, sizeof(*w.scanners));
    w.uas = calloc(256, sizeof(*w.uas));
    if (!w.src || !w.src_class || !w.src_member || !w.scanners || !w.uas)
        return 1;
    for (uint32_t i = 0; i < o.sources; i++) {
        uint64_t r = mix64(i + 1);
        if (r % 20 == 0) {
            w.src[i].family = 6;
            w.src[i].a[0] = 0x2a;
            w.src[i].a[1] = (uint8_t)(r >> 8);
            for (int k = 2; k < 16; k++)
                w.src[i].a[k] = (uint8_t)(mix64(r + (uint64_t)k) >> 16);
        } else {
            public_v4(&w.src[i], r >> 7);
        }
        w.src_class[i] = pick_class();
        w.src_member[i] = 1 + (uint32_t)(mix64(r) % o.members);
    }
    w.nscanners = load_scanners(wl, w.scanners, 5000);
    w.nuas = load_uas(ua_file, w.uas, 256);
    char (*rule_ids)[48] = calloc(NCLASS * 64, 48);
    for (size_t c = 0; c < NCLASS; c++)
        for (int k = 0; k < 64; k++)
            snprintf(rule_ids[c * 64 + (size_t)k], 48, "sid:1:%zu", 2000000 + c * 1000 + (size_t)k);

    /* assets and suppressions on the lookup path */
    enum { NASSETS = 2000, NSUPP = 50 };
    struct cw_asset *assets = calloc(NASSETS, sizeof(*assets));
    for (size_t i = 0; i < NASSETS; i++) {
        assets[i].member_id = 1 + (uint32_t)(i % o.members);
        target_of(assets[i].member_id, (uint32_t)(i / o.members) % o.targets, &assets[i].addr);
        snprintf(assets[i].products, sizeof(assets[i].products), "nginx,%s",
                 edge_products[i % 6]);
    }
    struct cw_suppression *supp = calloc(NSUPP, sizeof(*supp));
    for (size_t i = 0; i < NSUPP; i++) {
        supp[i].id = (int64_t)i + 1;
        supp[i].member_id = 1 + (uint32_t)(i % o.members);
        supp[i].attack_class = CW_AC__COUNT;
        /* a member's own scanner: one /28 each */
        public_v4(&supp[i].net, mix64(1000 + i));
        supp[i].net.a[3] &= 0xf0;
        supp[i].prefix = 28;
        supp[i].expires_us = 1760000000000000LL;
    }
    w.supp = supp;
    w.nsupp = NSUPP;
    struct cw_noise_ctx ctx = {recon, assets, NASSETS, supp, NSUPP,
                               1750000000000000LL /* suppressions expire against this */};

    struct cw_batch b;
    struct cw_detections ds;
    cw_batch_init(&b);
    cw_detections_init(&ds);
    const char **detail = calloc(o.batch, sizeof(*detail));
    int64_t *event_of = calloc(o.batch, sizeof(*event_of));
    struct sink sink = {NULL, 0, 0};
    int64_t t = 1741600800000000LL; /* 2025-03-10 10:00 UTC */
    /* warm the batch and sink buffers before measuring memory */
    make_batch(&o, &w, &b, &ds, o.batch, &t, rule_ids);
    t = 1741600800000000LL;
    rng_state = 0x9e3779b97f4a7c15ULL;

    size_t heap0 = heap_bytes(), rss0 = rss_bytes();
    struct cw_events_config ec = {24LL * 3600 * 1000000, (size_t)o.max_open};
    struct cw_events *ev = cw_events_new(&ec, 1);
    uint64_t per_reason[CW_NOISE__COUNT] = {0};
    uint64_t done = 0, steady_n = 0, changed = 0;
    double cpu = 0, wall = 0, steady_cpu = 0, cls_cpu = 0;
    while (done < o.detections) {
        uint32_t n = o.detections - done < o.batch ? (uint32_t)(o.detections - done) : o.batch;
        make_batch(&o, &w, &b, &ds, n, &t, rule_ids);
        struct cw_events_stats es;
        cw_events_stats(ev, &es);
        bool steady = es.open >= o.steady_open;
        sink.n = 0;
        double w0 = wall_now(), c0 = cpu_now();
        cw_noise_classify(&ctx, &b, &ds, detail);
        double c1 = cpu_now();
        if (cw_events_add(ev, &b, &ds, event_of) || cw_events_take_dirty(ev, sink_cb, &sink)) {
            fprintf(stderr, "bench_triage: aggregation failed\n");
            return 1;
        }
        double c2 = cpu_now(), w1 = wall_now();
        cpu += c2 - c0;
        cls_cpu += c1 - c0;
        wall += w1 - w0;
        changed += sink.n;
        if (steady) {
            steady_cpu += c2 - c0;
            steady_n += n;
        }
        for (uint32_t i = 0; i < ds.n; i++)
            per_reason[ds.d[i].noise]++;
        done += n;
    }
    struct cw_events_stats es;
    cw_events_stats(ev, &es);
    size_t heap1 = heap_bytes(), rss1 = rss_bytes();
    /* the sink is not part of the aggregator */
    size_t sink_bytes = sink.cap * sizeof(struct cw_event);
    double heap_per = es.open ? (double)(heap1 - heap0 - sink_bytes) / (double)es.open : 0;
    double rss_per = es.open ? ((double)rss1 - (double)rss0 - (double)sink_bytes) / (double)es.open
                             : 0;

    struct utsname un;
    uname(&un);
    char r1[32], r2[32], r3[32], r4[32];
    printf("bench_triage: noise removal + event aggregation (single thread), build %s\n",
           CW_BENCH_BUILD_TYPE);
    printf("machine: %s %s, %ld online CPUs\n", un.sysname, un.machine,
           sysconf(_SC_NPROCESSORS_ONLN));
    printf("scanner knowledge: %zu lists (%zu IPv4 + %zu IPv6 ranges) from %s, %zu user-agent "
           "patterns from %s\n",
           rs.lists, rs.ranges_v4, rs.ranges_v6, wl, rs.user_agents, ua_file ? ua_file : "(none)");
    printf("input: %llu detections in batches of %u; %u sources, %u members x %u targets, "
           "%zu real scanner addresses, %zu scanner UAs, %d assets, %d suppressions\n",
           (unsigned long long)o.detections, o.batch, o.sources, o.members, o.targets,
           w.nscanners, w.nuas, NASSETS, NSUPP);
    printf("verdicts:");
    for (int r = 0; r < CW_NOISE__COUNT; r++)
        printf(" %s=%llu (%.1f%%)", cw_noise_reason_name((enum cw_noise_reason)r),
               (unsigned long long)per_reason[r], 100.0 * (double)per_reason[r] / (double)done);
    printf("\n");
    printf("events: %zu open at the end, created %llu, joined by source %llu, by target %llu, "
           "expired %llu, evicted %llu; %llu changed-event copies taken\n",
           es.open, (unsigned long long)es.created, (unsigned long long)es.joined_by_source,
           (unsigned long long)es.joined_by_target, (unsigned long long)es.expired,
           (unsigned long long)es.evicted, (unsigned long long)changed);
    printf("\n| part | detections | CPU-s | detections/CPU-s | wall-s |\n|---|---:|---:|---:|---:|\n");
    printf("| classify + aggregate + take_dirty, whole run | %llu | %.3f | **%s** | %.3f |\n",
           (unsigned long long)done, cpu, fmt_rate((double)done / cpu, r1, sizeof(r1)), wall);
    if (steady_n)
        printf("| same, with >= %llu open events | %llu | %.3f | **%s** | - |\n",
               (unsigned long long)o.steady_open, (unsigned long long)steady_n, steady_cpu,
               fmt_rate((double)steady_n / steady_cpu, r2, sizeof(r2)));
    else
        printf("| same, with >= %llu open events | 0 | - | (never reached: raise --sources or "
               "--detections) | - |\n",
               (unsigned long long)o.steady_open);
    printf("| of which cw_noise_classify | %llu | %.3f | %s | - |\n", (unsigned long long)done,
           cls_cpu, fmt_rate((double)done / cls_cpu, r3, sizeof(r3)));
    printf("| of which cw_events_add + take_dirty | %llu | %.3f | %s | - |\n",
           (unsigned long long)done, cpu - cls_cpu,
           fmt_rate((double)done / (cpu - cls_cpu), r4, sizeof(r4)));
    printf("\nmemory per open event (%zu open): malloc'd %.0f bytes, RSS growth %.0f bytes, "
           "cw_events_bytes_per_event() %zu bytes (sizeof struct cw_event %zu)\n",
           es.open, heap_per, rss_per, cw_events_bytes_per_event(), sizeof(struct cw_event));
    printf("goals: >= 1M detections/s/core: %s; < 1 KiB per open event: %s\n",
           (steady_n ? (double)steady_n / steady_cpu : (double)done / cpu) >= 1e6 ? "met"
                                                                                   : "NOT met",
           heap_per < 1024 && cw_events_bytes_per_event() < 1024 ? "met" : "NOT met");

    cw_events_free(ev);
    cw_batch_release(&b);
    cw_detections_release(&ds);
    cw_recon_free(recon);
    free(sink.ev);
    free(detail);
    free(event_of);
    free(w.src);
    free(w.src_class);
    free(w.src_member);
    free(w.scanners);
    free(w.uas);
    free(rule_ids);
    free(assets);
    free(supp);
    return 0;
}
