#include "ship/state.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "ship/durable.h"
#include "common/banned.h"

#define STATE_MAGIC "crosswatch-ship-state 1"

void cw_ship_state_init(struct cw_ship_state *s)
{
    memset(s, 0, sizeof(*s));
}

void cw_ship_state_release(struct cw_ship_state *s)
{
    for (size_t i = 0; i < s->nfiles; i++)
        free(s->files[i].path);
    free(s->files);
    cw_ship_state_init(s);
}

struct cw_ship_file_pos *cw_ship_state_find(struct cw_ship_state *s, const char *path)
{
    for (size_t i = 0; i < s->nfiles; i++)
        if (!strcmp(s->files[i].path, path))
            return &s->files[i];
    return NULL;
}

int cw_ship_state_set(struct cw_ship_state *s, const char *path, uint64_t dev, uint64_t ino,
                      uint64_t offset)
{
    struct cw_ship_file_pos *f = cw_ship_state_find(s, path);
    if (!f) {
        if (s->nfiles >= CW_SHIP_STATE_MAX_FILES)
            return -1;
        struct cw_ship_file_pos *nf = realloc(s->files, (s->nfiles + 1) * sizeof(*nf));
        if (!nf)
            return -1;
        s->files = nf;
        char *p = strdup(path);
        if (!p)
            return -1;
        f = &s->files[s->nfiles++];
        f->path = p;
    }
    f->dev = dev;
    f->ino = ino;
    f->offset = offset;
    return 0;
}

int cw_ship_state_encode(const struct cw_ship_state *s, struct cw_buf *out)
{
    cw_buf_addf(out, STATE_MAGIC "\ninstance %s\nnext-seq %" PRIu64 "\n", s->instance,
                s->next_seq);
    for (size_t i = 0; i < s->nfiles; i++) {
        const struct cw_ship_file_pos *f = &s->files[i];
        if (!f->path[0] || strchr(f->path, '\n'))
            return -1;
        cw_buf_addf(out, "file %" PRIu64 " %" PRIu64 " %" PRIu64 " %s\n", f->dev, f->ino,
                    f->offset, f->path);
    }
    cw_buf_adds(out, "end\n");
    return cw_buf_ok(out) ? 0 : -1;
}

/* -- strict parser ------------------------------------------------------------ */

/* Next decimal number ending at a space or the end of the line. */
static int take_u64(const char **p, const char *end, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    size_t digits = 0;
    while (s < end && *s >= '0' && *s <= '9') {
        uint64_t d = (uint64_t)(*s - '0');
        if (v > (UINT64_MAX - d) / 10 || ++digits > 20)
            return -1;
        v = v * 10 + d;
        s++;
    }
    if (digits == 0 || (digits > 1 && **p == '0'))
        return -1; /* one spelling per number: no leading zeros */
    *out = v;
    *p = s;
    return 0;
}

static bool starts(const char *p, const char *end, const char *lit)
{
    size_t n = strlen(lit);
    return (size_t)(end - p) >= n && !memcmp(p, lit, n);
}

static int parse_file_line(struct cw_ship_state *s, const char *p, const char *end)
{
    uint64_t dev, ino, off;
    if (take_u64(&p, end, &dev) || p >= end || *p++ != ' ' || take_u64(&p, end, &ino) ||
        p >= end || *p++ != ' ' || take_u64(&p, end, &off) || p >= end || *p++ != ' ' ||
        p >= end || memchr(p, '\0', (size_t)(end - p)) || (size_t)(end - p) >= 4096)
        return -1;
    char path[4096];
    memcpy(path, p, (size_t)(end - p));
    path[end - p] = '\0';
    if (cw_ship_state_find(s, path))
        return -1; /* a path twice: not something we write */
    return cw_ship_state_set(s, path, dev, ino, off);
}

static int parse_lines(const char *text, size_t n, struct cw_ship_state *s)
{
    const char *p = text, *end = text + n;
    int lineno = 0;
    bool ended = false;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl || ended)
            return -1; /* every line ends with LF; nothing follows "end" */
        lineno++;
        if (lineno == 1) {
            if ((size_t)(nl - p) != strlen(STATE_MAGIC) || !starts(p, nl, STATE_MAGIC))
                return -1;
        } else if (lineno == 2) {
            if (!starts(p, nl, "instance ") || nl - p != 9 + 32)
                return -1;
            for (const char *q = p + 9; q < nl; q++)
                if (!((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f')))
                    return -1;
            memcpy(s->instance, p + 9, 32);
            s->instance[32] = '\0';
        } else if (lineno == 3) {
            const char *q = p + 9;
            if (!starts(p, nl, "next-seq ") || take_u64(&q, nl, &s->next_seq) || q != nl)
                return -1;
        } else if (nl - p == 3 && starts(p, nl, "end")) {
            ended = true;
        } else if (starts(p, nl, "file ")) {
            if (parse_file_line(s, p + 5, nl))
                return -1;
        } else {
            return -1;
        }
        p = nl + 1;
    }
    return ended ? 0 : -1;
}

int cw_ship_state_parse(const char *text, size_t n, struct cw_ship_state *s)
{
    if (n > CW_SHIP_STATE_MAX_BYTES || parse_lines(text, n, s)) {
        cw_ship_state_release(s);
        return -1;
    }
    return 0;
}

int cw_ship_state_load(const char *state_dir, struct cw_ship_state *s)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s/state", state_dir);
    char *text;
    size_t n;
    if (cw_durable_read(p, CW_SHIP_STATE_MAX_BYTES, &text, &n))
        return errno == ENOENT ? 1 : -1;
    int r = cw_ship_state_parse(text, n, s);
    free(text);
    if (r)
        errno = EBADMSG;
    return r;
}

int cw_ship_state_save(const char *state_dir, const struct cw_ship_state *s)
{
    struct cw_buf b = CW_BUF_INIT;
    if (cw_ship_state_encode(s, &b)) {
        cw_buf_release(&b);
        errno = EINVAL;
        return -1;
    }
    int r = cw_durable_write(state_dir, "state", b.data, b.len);
    cw_buf_release(&b);
    return r;
}

int cw_ship_state_new_instance(char instance[33])
{
    unsigned char r[16];
    size_t got = 0;
    while (got < sizeof(r)) {
        ssize_t n = getrandom(r + got, sizeof(r) - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    for (size_t i = 0; i < sizeof(r); i++)
        snprintf(instance + 2 * i, 3, "%02x", r[i]);
    return 0;
}
