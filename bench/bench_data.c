/* bench_data.c - replayed real logs as benchmark input (see bench_data.h). */
#include "bench_data.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "common/record.h"
#include "common/timefmt.h"
#include "formats/format.h"
#include "common/banned.h"

/* One real line and where its client address and timestamp are. */
struct tmpl {
    const char *p;
    uint32_t len;
    uint32_t ip_end;           /* end of the first token */
    uint32_t ts_start, ts_end; /* inside the brackets */
    bool ipv4, ts_ok;
    uint32_t ip;               /* host order */
    int64_t local_sec;         /* timestamp as local wall-clock seconds */
    char zone[6];              /* "+0000" */
};

static const char *const access_files[] = {
    "elastic-apache_logs.log",
    "basjes-hackers-access.log",
    "ocatak-apache-http-logs/acunetix.txt",
    "ocatak-apache-http-logs/netsparker.txt",
    "ocatak-apache-http-logs/w3af.txt",
};

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 20, n = 0;
    char *b = malloc(cap);
    while (b) {
        if (n == cap) {
            char *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap *= 2;
        }
        size_t r = fread(b + n, 1, cap - n, f);
        if (r == 0)
            break;
        n += r;
    }
    bool bad = ferror(f);
    fclose(f);
    if (!b || bad) {
        free(b);
        snprintf(err, errlen, "cannot read %s", path);
        return NULL;
    }
    *len = n;
    return b;
}

static char *read_gz(const char *path, size_t *len, char *err, size_t errlen)
{
    gzFile g = gzopen(path, "rb");
    if (!g) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    gzbuffer(g, 1 << 17);
    size_t cap = 16 << 20, n = 0;
    char *b = malloc(cap);
    while (b) {
        if (cap - n < (1 << 20)) {
            char *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap *= 2;
        }
        int r = gzread(g, b + n, 1 << 20);
        if (r < 0) {
            free(b);
            b = NULL;
            break;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    gzclose(g);
    if (!b) {
        snprintf(err, errlen, "cannot read %s (gzip)", path);
        return NULL;
    }
    *len = n;
    return b;
}

/* Does the parser accept this single line? */
static bool parser_accepts(const struct cw_format *fmt, struct cw_batch *b, const char *p,
                           size_t n)
{
    struct cw_parse_ctx ctx = {1, 1, cw_now_us()};
    struct cw_parse_stats st = {0, 0, 0};
    cw_batch_clear(b);
    if (cw_format_parse_body(fmt, b, &ctx, p, n, CW_MAX_LINE_DEFAULT, &st))
        return false;
    return st.accepted == 1 && st.rejected == 0;
}

/* "17/May/2015:10:05:03 +0000" -> local seconds and zone text. */
static bool parse_clf_local(const char *s, size_t n, int64_t *sec, char zone[6])
{
    if (n != 26 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' ||
        s[17] != ':' || s[20] != ' ' || (s[21] != '+' && s[21] != '-'))
        return false;
    char mon[4] = {s[3], s[4], s[5], 0};
    int m = cw_month_from_abbr(mon);
    int v[5];
    const int pos[5] = {0, 12, 15, 18, 7};
    for (int i = 0; i < 5; i++) {
        int w = i == 4 ? 4 : 2, x = 0;
        for (int j = 0; j < w; j++) {
            char c = s[pos[i] + j];
            if (c < '0' || c > '9')
                return false;
            x = x * 10 + (c - '0');
        }
        v[i] = x;
    }
    if (!m)
        return false;
    *sec = cw_days_from_civil(v[4], (unsigned)m, (unsigned)v[0]) * 86400 + v[1] * 3600 +
           v[2] * 60 + v[3];
    memcpy(zone, s + 21, 5);
    zone[5] = 0;
    return true;
}

/* Standard "%h %l %u [%t] ..." layout (what goaccess' COMBINED expects too). */
static bool describe_access(struct tmpl *t)
{
    const char *p = t->p, *end = t->p + t->len;
    const char *sp = memchr(p, ' ', t->len);
    if (!sp)
        return false;
    t->ip_end = (uint32_t)(sp - p);
    int spaces = 0;
    const char *q = p;
    while (q < end && *q != '[') {
        if (*q == ' ')
            spaces++;
        q++;
    }
    if (q == end || spaces != 3 || q[-1] != ' ')
        return false;
    const char *rb = memchr(q, ']', (size_t)(end - q));
    if (!rb)
        return false;
    t->ts_start = (uint32_t)(q + 1 - p);
    t->ts_end = (uint32_t)(rb - p);
    char ipbuf[16];
    t->ipv4 = false;
    if (t->ip_end < sizeof(ipbuf)) {
        memcpy(ipbuf, p, t->ip_end);
        ipbuf[t->ip_end] = 0;
        struct in_addr a;
        if (inet_pton(AF_INET, ipbuf, &a) == 1) {
            t->ipv4 = true;
            t->ip = ntohl(a.s_addr);
        }
    }
    t->ts_ok = parse_clf_local(q + 1, (size_t)(rb - q - 1), &t->local_sec, t->zone);
    return true;
}

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* A public-looking unicast IPv4 address for replay k of address ip. */
static uint32_t replay_ip(uint32_t ip, uint64_t k)
{
    uint64_t h = mix64(((uint64_t)ip << 20) ^ k);
    uint32_t a = 1 + (uint32_t)(h % 223);
    if (a == 10 || a == 127 || a == 100 || a == 172 || a == 192)
        a += 1;
    return (a << 24) | (uint32_t)((h >> 8) & 0xffffff);
}

static const char *const month_abbr[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Append replay k of t at out; returns bytes written (at most t->len + 32). */
static size_t emit_access(char *out, const struct tmpl *t, uint64_t k)
{
    if (k == 0) {
        memcpy(out, t->p, t->len);
        out[t->len] = '\n';
        return t->len + 1;
    }
    char *o = out;
    if (t->ipv4) {
        uint32_t ip = replay_ip(t->ip, k);
        o += snprintf(o, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255,
                      ip & 255);
    } else {
        memcpy(o, t->p, t->ip_end);
        o += t->ip_end;
    }
    memcpy(o, t->p + t->ip_end, t->ts_start - t->ip_end);
    o += t->ts_start - t->ip_end;
    if (t->ts_ok) {
        time_t s = (time_t)(t->local_sec + (int64_t)k * 7 * 86400);
        struct tm tm;
        gmtime_r(&s, &tm);
        o += snprintf(o, 32, "%02d/%s/%04d:%02d:%02d:%02d %s", tm.tm_mday,
                      month_abbr[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                      tm.tm_sec, t->zone);
    } else {
        memcpy(o, t->p + t->ts_start, t->ts_end - t->ts_start);
        o += t->ts_end - t->ts_start;
    }
    memcpy(o, t->p + t->ts_end, t->len - t->ts_end);
    o += t->len - t->ts_end;
    *o++ = '\n';
    return (size_t)(o - out);
}

struct pool {
    struct tmpl *t;
    size_t n, cap;
    char **files;
    size_t nfiles;
    size_t bytes;
};

static int pool_add(struct pool *pl, const struct tmpl *t)
{
    if (pl->n == pl->cap) {
        size_t nc = pl->cap ? pl->cap * 2 : 4096;
        struct tmpl *nt = realloc(pl->t, nc * sizeof(*nt));
        if (!nt)
            return -1;
        pl->t = nt;
        pl->cap = nc;
    }
    pl->t[pl->n++] = *t;
    pl->bytes += t->len;
    return 0;
}

static int pool_keep_file(struct pool *pl, char *buf)
{
    char **nf = realloc(pl->files, (pl->nfiles + 1) * sizeof(*nf));
    if (!nf)
        return -1;
    pl->files = nf;
    pl->files[pl->nfiles++] = buf;
    return 0;
}

static void pool_release(struct pool *pl)
{
    for (size_t i = 0; i < pl->nfiles; i++)
        free(pl->files[i]);
    free(pl->files);
    free(pl->t);
    memset(pl, 0, sizeof(*pl));
}

/* Split buf into template lines: CR and ocatak outer quotes removed in place
 * (the line is not NUL-terminated; we only shorten it). */
static int pool_load(struct pool *pl, char *buf, size_t len, const struct cw_format *fmt,
                     bool access, struct cw_batch *b, uint64_t *dropped)
{
    char *p = buf, *end = buf + len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *le = nl ? nl : end;
        char *next = nl ? nl + 1 : end;
        while (le > p && le[-1] == '\r')
            le--;
        if (access && le - p >= 2 && p[0] == '"' && le[-1] == '"') {
            p++;
            le--;
        }
        size_t n = (size_t)(le - p);
        if (n && p[0] != '#') {
            struct tmpl t;
            memset(&t, 0, sizeof(t));
            t.p = p;
            t.len = (uint32_t)n;
            bool ok = memchr(p, '\n', n) == NULL && parser_accepts(fmt, b, p, n) &&
                      (!access || describe_access(&t));
            if (!ok)
                (*dropped)++;
            else if (pool_add(pl, &t))
                return -1;
        }
        p = next;
    }
    return 0;
}

static int finish(struct bench_data *d, const struct pool *pl, uint64_t lines,
                  uint32_t chunk_lines, bool access, char *err, size_t errlen)
{
    d->chunk_lines = chunk_lines;
    d->nchunks = (size_t)((lines + chunk_lines - 1) / chunk_lines);
    d->off = malloc((d->nchunks + 1) * sizeof(*d->off));
    uint64_t reps = (lines + pl->n - 1) / pl->n;
    size_t cap = (size_t)reps * (pl->bytes + pl->n * 40) + 64;
    d->buf = malloc(cap);
    if (!d->off || !d->buf) {
        snprintf(err, errlen, "out of memory building %zu bytes of input", cap);
        return -1;
    }
    size_t o = 0, ci = 0;
    for (uint64_t i = 0; i < lines; i++) {
        if (i % chunk_lines == 0)
            d->off[ci++] = o;
        const struct tmpl *t = &pl->t[i % pl->n];
        uint64_t k = i / pl->n;
        if (access) {
            o += emit_access(d->buf + o, t, k);
        } else {
            memcpy(d->buf + o, t->p, t->len);
            o += t->len;
            d->buf[o++] = '\n';
        }
    }
    d->off[ci] = o;
    d->len = o;
    d->lines = lines;
    d->template_lines = pl->n;
    return 0;
}

int bench_data_access(struct bench_data *d, const char *shared, uint64_t lines,
                      uint32_t chunk_lines, char *err, size_t errlen)
{
    memset(d, 0, sizeof(*d));
    d->format = "combined";
    const struct cw_format *fmt = cw_format_find("combined");
    struct pool pl;
    memset(&pl, 0, sizeof(pl));
    struct cw_batch b;
    cw_batch_init(&b);
    int rc = -1;
    size_t used = 0;
    for (size_t i = 0; i < sizeof(access_files) / sizeof(access_files[0]); i++) {
        char path[4200];
        snprintf(path, sizeof(path), "%s/data/weblogs/%s", shared, access_files[i]);
        size_t n;
        char *buf = read_file(path, &n, err, errlen);
        if (!buf) {
            if (i == 0)
                goto out; /* the main log is required */
            continue;
        }
        if (pool_keep_file(&pl, buf)) {
            free(buf);
            goto oom;
        }
        if (pool_load(&pl, buf, n, fmt, true, &b, &d->template_dropped))
            goto oom;
        used++;
    }
    if (pl.n == 0) {
        snprintf(err, errlen, "no usable access log lines under %s/data/weblogs", shared);
        goto out;
    }
    snprintf(d->source, sizeof(d->source),
             "%zu real combined logs from %.300s/data/weblogs (%llu distinct lines, %llu "
             "non-standard dropped), replayed with new client IPs and +1 week per replay",
             used, shared, (unsigned long long)pl.n, (unsigned long long)d->template_dropped);
    rc = finish(d, &pl, lines, chunk_lines, true, err, errlen);
    goto out;
oom:
    snprintf(err, errlen, "out of memory loading access logs");
out:
    cw_batch_release(&b);
    pool_release(&pl);
    if (rc)
        bench_data_release(d);
    return rc;
}

int bench_data_eve(struct bench_data *d, const char *shared, uint64_t lines,
                   uint32_t chunk_lines, char *err, size_t errlen)
{
    memset(d, 0, sizeof(*d));
    d->format = "eve";
    const struct cw_format *fmt = cw_format_find("eve");
    struct pool pl;
    memset(&pl, 0, sizeof(pl));
    struct cw_batch b;
    cw_batch_init(&b);
    int rc = -1;
    char path[4200];
    snprintf(path, sizeof(path), "%s/data/eve/public-pcaps.eve.json.gz", shared);
    size_t n;
    char *buf = read_gz(path, &n, err, errlen);
    if (!buf)
        goto out;
    if (pool_keep_file(&pl, buf)) {
        free(buf);
        goto oom;
    }
    if (pool_load(&pl, buf, n, fmt, false, &b, &d->template_dropped))
        goto oom;
    if (pl.n == 0) {
        snprintf(err, errlen, "no usable EVE lines in %s", path);
        goto out;
    }
    snprintf(d->source, sizeof(d->source),
             "Suricata 7 EVE from %.300s (%llu distinct events, %llu dropped), replayed verbatim",
             path, (unsigned long long)pl.n, (unsigned long long)d->template_dropped);
    rc = finish(d, &pl, lines, chunk_lines, false, err, errlen);
    goto out;
oom:
    snprintf(err, errlen, "out of memory loading EVE");
out:
    cw_batch_release(&b);
    pool_release(&pl);
    if (rc)
        bench_data_release(d);
    return rc;
}

uint32_t bench_data_chunk_lines(const struct bench_data *d, size_t i)
{
    uint64_t first = (uint64_t)i * d->chunk_lines;
    uint64_t left = d->lines - first;
    return left < d->chunk_lines ? (uint32_t)left : d->chunk_lines;
}

int bench_data_write(const struct bench_data *d, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(d->buf, 1, d->len, f) != d->len) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    if (fclose(f)) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

void bench_data_release(struct bench_data *d)
{
    free(d->buf);
    free(d->off);
    d->buf = NULL;
    d->off = NULL;
    d->len = 0;
}
