#include "ship/spool.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ship/durable.h"
#include "common/banned.h"

#define SPOOL_MAGIC "crosswatch-spool 1"

void cw_spool_name(uint64_t seq, char *name, size_t n)
{
    snprintf(name, n, "%016" PRIu64 ".batch", seq);
}

static bool text_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    return n > 0 && n <= max && !memchr(s, '\n', n);
}

int cw_spool_hdr_encode(const struct cw_spool_hdr *h, struct cw_buf *out)
{
    if (!text_ok(h->input, CW_SPOOL_MAX_INPUT) || !text_ok(h->format, 32) ||
        strlen(h->instance) != 32)
        return -1;
    cw_buf_addf(out,
                SPOOL_MAGIC "\nseq %" PRIu64 "\ninstance %s\ninput %s\nformat %s\nlines %" PRIu64
                "\nraw %" PRIu64 "\nend-offset %" PRIu64 "\ndev %" PRIu64 "\nino %" PRIu64
                "\nbody %" PRIu64 "\n\n",
                h->seq, h->instance, h->input, h->format, h->lines, h->raw, h->end_offset,
                h->dev, h->ino, h->body);
    return cw_buf_ok(out) ? 0 : -1;
}

/* -- strict header parser ----------------------------------------------------- */

struct cursor {
    const char *p, *end;
};

/* Next line "key value" with this key; value [*v, *v + *vn). */
static int field(struct cursor *c, const char *key, const char **v, size_t *vn)
{
    const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
    size_t kn = strlen(key);
    if (!nl || (size_t)(nl - c->p) < kn + 1 || memcmp(c->p, key, kn) || c->p[kn] != ' ')
        return -1;
    *v = c->p + kn + 1;
    *vn = (size_t)(nl - *v);
    c->p = nl + 1;
    return 0;
}

static int parse_digits(const char *s, size_t n, uint64_t *out)
{
    if (n == 0 || n > 20)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* Header numbers have one spelling: no leading zeros. */
static int parse_u64(const char *s, size_t n, uint64_t *out)
{
    return n > 1 && s[0] == '0' ? -1 : parse_digits(s, n, out);
}

static int num_field(struct cursor *c, const char *key, uint64_t *out)
{
    const char *v;
    size_t vn;
    return field(c, key, &v, &vn) || parse_u64(v, vn, out) ? -1 : 0;
}

static int text_field(struct cursor *c, const char *key, char *out, size_t cap)
{
    const char *v;
    size_t vn;
    if (field(c, key, &v, &vn) || vn == 0 || vn >= cap || memchr(v, '\0', vn))
        return -1;
    memcpy(out, v, vn);
    out[vn] = '\0';
    return 0;
}

static bool is_hex32(const char *s)
{
    if (strlen(s) != 32)
        return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return false;
    return true;
}

int cw_spool_hdr_parse(const char *data, size_t n, struct cw_spool_hdr *h, size_t *body_off)
{
    memset(h, 0, sizeof(*h));
    struct cursor c = {data, data + (n < CW_SPOOL_MAX_HEADER ? n : CW_SPOOL_MAX_HEADER)};
    size_t ml = strlen(SPOOL_MAGIC);
    if ((size_t)(c.end - c.p) < ml + 1 || memcmp(c.p, SPOOL_MAGIC "\n", ml + 1))
        return -1;
    c.p += ml + 1;
    if (num_field(&c, "seq", &h->seq) || text_field(&c, "instance", h->instance, 33) ||
        !is_hex32(h->instance) || text_field(&c, "input", h->input, sizeof(h->input)) ||
        text_field(&c, "format", h->format, sizeof(h->format)) ||
        num_field(&c, "lines", &h->lines) || num_field(&c, "raw", &h->raw) ||
        num_field(&c, "end-offset", &h->end_offset) || num_field(&c, "dev", &h->dev) ||
        num_field(&c, "ino", &h->ino) || num_field(&c, "body", &h->body))
        return -1;
    if (c.p >= c.end || *c.p != '\n')
        return -1;
    size_t off = (size_t)(c.p + 1 - data);
    if (h->body != n - off)
        return -1;
    *body_off = off;
    return 0;
}

/* -- directory operations ---------------------------------------------------- */

static bool seq_from_name(const char *name, uint64_t *seq)
{
    return strlen(name) == 22 && !strcmp(name + 16, ".batch") && parse_digits(name, 16, seq) == 0;
}

int cw_spool_open(struct cw_spool *s, const char *state_dir)
{
    if ((size_t)snprintf(s->dir, sizeof(s->dir), "%s/spool", state_dir) >= sizeof(s->dir)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    snprintf(s->rejected_dir, sizeof(s->rejected_dir), "%s/rejected", s->dir);
    if (cw_durable_mkdirs(s->rejected_dir) || cw_durable_clean_tmp(s->dir))
        return -1;
    atomic_store(&s->bytes, 0);
    atomic_store(&s->batches, 0);
    DIR *d = opendir(s->dir);
    if (!d)
        return -1;
    struct dirent *e;
    uint64_t seq, bytes = 0, count = 0;
    while ((e = readdir(d))) {
        char p[4200];
        struct stat st;
        if (!seq_from_name(e->d_name, &seq))
            continue;
        snprintf(p, sizeof(p), "%s/%.32s", s->dir, e->d_name);
        if (stat(p, &st) == 0) {
            bytes += (uint64_t)st.st_size;
            count++;
        }
    }
    closedir(d);
    atomic_store(&s->bytes, bytes);
    atomic_store(&s->batches, count);
    return 0;
}

int cw_spool_write(struct cw_spool *s, struct cw_spool_hdr *h, const void *body, size_t n)
{
    struct cw_buf hb = CW_BUF_INIT;
    h->body = n;
    if (cw_spool_hdr_encode(h, &hb)) {
        cw_buf_release(&hb);
        errno = EINVAL;
        return -1;
    }
    char name[32];
    cw_spool_name(h->seq, name, sizeof(name));
    int r = cw_durable_write2(s->dir, name, hb.data, hb.len, body, n);
    if (r == 0) {
        atomic_fetch_add(&s->bytes, hb.len + n);
        atomic_fetch_add(&s->batches, 1);
    }
    cw_buf_release(&hb);
    return r;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int cw_spool_list(const struct cw_spool *s, uint64_t from, uint64_t below, uint64_t **seqs,
                  size_t *n)
{
    *seqs = NULL;
    *n = 0;
    DIR *d = opendir(s->dir);
    if (!d)
        return -1;
    size_t cap = 0;
    struct dirent *e;
    uint64_t seq;
    while ((e = readdir(d))) {
        if (!seq_from_name(e->d_name, &seq) || seq < from || seq >= below)
            continue;
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            uint64_t *ns = realloc(*seqs, nc * sizeof(*ns));
            if (!ns) {
                closedir(d);
                free(*seqs);
                *seqs = NULL;
                *n = 0;
                errno = ENOMEM;
                return -1;
            }
            *seqs = ns;
            cap = nc;
        }
        (*seqs)[(*n)++] = seq;
    }
    closedir(d);
    if (*n > 1)
        qsort(*seqs, *n, sizeof(**seqs), cmp_u64);
    return 0;
}

int cw_spool_load(const struct cw_spool *s, uint64_t seq, struct cw_spool_batch *b)
{
    char name[32], p[4096];
    cw_spool_name(seq, name, sizeof(name));
    snprintf(p, sizeof(p), "%s/%s", s->dir, name);
    memset(b, 0, sizeof(*b));
    if (cw_durable_read(p, CW_SPOOL_MAX_FILE, &b->data, &b->size))
        return -1;
    size_t off;
    if (cw_spool_hdr_parse(b->data, b->size, &b->hdr, &off) || b->hdr.seq != seq) {
        cw_spool_batch_release(b);
        errno = EBADMSG;
        return -1;
    }
    b->body = b->data + off;
    return 0;
}

void cw_spool_batch_release(struct cw_spool_batch *b)
{
    free(b->data);
    b->data = NULL;
    b->body = NULL;
    b->size = 0;
}

static void uncount(struct cw_spool *s, uint64_t size)
{
    /* never wrap: a file changed by hand must not make the spool look huge */
    uint64_t cur = atomic_load(&s->bytes);
    while (!atomic_compare_exchange_weak(&s->bytes, &cur, cur >= size ? cur - size : 0))
        ;
    uint64_t b = atomic_load(&s->batches);
    while (b > 0 && !atomic_compare_exchange_weak(&s->batches, &b, b - 1))
        ;
}

/* Size of a batch file; -1 with errno ENOENT when it is not there. */
static int file_size(const struct cw_spool *s, const char *name, uint64_t *size)
{
    char p[4096];
    struct stat st;
    snprintf(p, sizeof(p), "%s/%s", s->dir, name);
    if (stat(p, &st))
        return -1;
    *size = (uint64_t)st.st_size;
    return 0;
}

int cw_spool_remove(struct cw_spool *s, uint64_t seq)
{
    char name[32];
    cw_spool_name(seq, name, sizeof(name));
    uint64_t size;
    if (file_size(s, name, &size) || cw_durable_unlink(s->dir, name))
        return -1;
    uncount(s, size);
    return 0;
}

int cw_spool_reject(struct cw_spool *s, uint64_t seq)
{
    char name[32];
    cw_spool_name(seq, name, sizeof(name));
    uint64_t size;
    if (file_size(s, name, &size) || cw_durable_move(s->dir, name, s->rejected_dir))
        return -1;
    uncount(s, size);
    return 0;
}
