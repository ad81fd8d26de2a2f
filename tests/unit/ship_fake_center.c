#include "ship_fake_center.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/codec.h"
#include "common/banned.h"

static bool header(const char *hdrs, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    for (const char *p = hdrs; (p = strchr(p, '\n')); ) {
        p++;
        if (!strncasecmp(p, name, n) && p[n] == ':') {
            const char *v = p + n + 1;
            while (*v == ' ')
                v++;
            size_t k = strcspn(v, "\r\n");
            if (k >= cap)
                k = cap - 1;
            memcpy(out, v, k);
            out[k] = '\0';
            return true;
        }
    }
    return false;
}

static void reply(int fd, int status, const char *body)
{
    char buf[1024];
    const char *reason = status == 200 ? "OK" : "Error";
    int n = snprintf(buf, sizeof(buf),
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s", status, reason, strlen(body), body);
    ssize_t w = write(fd, buf, (size_t)n);
    (void)w;
}

static bool seen_stored(struct fake_center *f, const char *key)
{
    for (size_t i = 0; i < f->nstored_keys; i++)
        if (!strcmp(f->stored_keys[i], key))
            return true;
    return false;
}

static void handle(struct fake_center *f, int fd, const char *hdrs, const char *body, size_t blen)
{
    char key[160] = "", enc[32] = "", auth[128] = "", fmt[32] = "";
    header(hdrs, "Idempotency-Key", key, sizeof(key));
    header(hdrs, "Content-Encoding", enc, sizeof(enc));
    header(hdrs, "Authorization", auth, sizeof(auth));
    const char *q = strstr(hdrs, "format=");
    if (q)
        snprintf(fmt, sizeof(fmt), "%.*s", (int)strcspn(q + 7, " &"), q + 7);
    pthread_mutex_lock(&f->mu);
    f->posts++;
    int status = f->status;
    snprintf(f->last_format, sizeof(f->last_format), "%s", fmt);
    snprintf(f->last_auth, sizeof(f->last_auth), "%s", auth);
    if (f->nkeys < FAKE_MAX_KEYS)
        f->keys[f->nkeys++] = strdup(key);
    char answer[256];
    if (status != 200) {
        pthread_mutex_unlock(&f->mu);
        reply(fd, status, "{\"error\":\"fake center says no\"}");
        return;
    }
    char *plain = NULL;
    size_t plen = 0;
    if (strcmp(enc, "zstd") || cw_decompress(CW_ENC_ZSTD, body, blen, 64u << 20, &plain, &plen)) {
        pthread_mutex_unlock(&f->mu);
        reply(fd, 400, "{\"error\":\"body cannot be decoded\"}");
        return;
    }
    size_t nl = 0;
    for (size_t i = 0; i < plen; i++)
        nl += plain[i] == '\n';
    bool dup = key[0] && seen_stored(f, key);
    if (!dup) {
        cw_buf_add(&f->lines, plain, plen);
        f->nlines += nl;
        f->stored_batches++;
        if (key[0] && f->nstored_keys < FAKE_MAX_KEYS)
            f->stored_keys[f->nstored_keys++] = strdup(key);
    } else {
        f->dups++;
    }
    if (f->reject_line)
        snprintf(answer, sizeof(answer),
                 "{\"accepted\":%zu,\"rejected\":[{\"line\":%d,\"reason\":\"bad line\"}],"
                 "\"duplicate\":%s}", nl - 1, f->reject_line, dup ? "true" : "false");
    else
        snprintf(answer, sizeof(answer), "{\"accepted\":%zu,\"rejected\":[],\"duplicate\":%s}",
                 nl, dup ? "true" : "false");
    pthread_mutex_unlock(&f->mu);
    free(plain);
    reply(fd, 200, answer);
}

static void serve_conn(struct fake_center *f, int fd)
{
    struct cw_buf in = CW_BUF_INIT;
    char buf[65536];
    for (;;) {
        char *end = in.data ? strstr(in.data, "\r\n\r\n") : NULL;
        if (end) {
            char cl[32] = "0";
            *end = '\0';
            header(in.data, "Content-Length", cl, sizeof(cl));
            size_t need = (size_t)strtoull(cl, NULL, 10), have = in.len - (size_t)(end + 4 - in.data);
            if (have >= need) {
                handle(f, fd, in.data, end + 4, need);
                break;
            }
            *end = '\r';
        }
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 5000) <= 0)
            break;
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0)
            break;
        cw_buf_add(&in, buf, (size_t)n);
    }
    cw_buf_release(&in);
    close(fd);
}

static void *server_main(void *arg)
{
    struct fake_center *f = arg;
    while (!atomic_load(&f->quit)) {
        struct pollfd p = {f->lfd, POLLIN, 0};
        if (poll(&p, 1, 20) <= 0)
            continue;
        int fd = accept(f->lfd, NULL, NULL);
        if (fd >= 0)
            serve_conn(f, fd);
    }
    return NULL;
}

int fake_center_start(struct fake_center *f)
{
    memset(f, 0, sizeof(*f));
    pthread_mutex_init(&f->mu, NULL);
    cw_buf_init(&f->lines);
    f->status = 200;
    f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof(a);
    if (f->lfd < 0 || bind(f->lfd, (struct sockaddr *)&a, sizeof(a)) || listen(f->lfd, 16) ||
        getsockname(f->lfd, (struct sockaddr *)&a, &l))
        return -1;
    f->port = ntohs(a.sin_port);
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%u", f->port);
    return pthread_create(&f->thread, NULL, server_main, f) ? -1 : 0;
}

void fake_center_stop(struct fake_center *f)
{
    atomic_store(&f->quit, true);
    pthread_join(f->thread, NULL);
    close(f->lfd);
    for (size_t i = 0; i < f->nkeys; i++)
        free(f->keys[i]);
    for (size_t i = 0; i < f->nstored_keys; i++)
        free(f->stored_keys[i]);
    cw_buf_release(&f->lines);
    pthread_mutex_destroy(&f->mu);
}

void fake_center_set_status(struct fake_center *f, int status)
{
    pthread_mutex_lock(&f->mu);
    f->status = status;
    pthread_mutex_unlock(&f->mu);
}

char *fake_center_lines(struct fake_center *f, size_t *nlines)
{
    pthread_mutex_lock(&f->mu);
    char *s = strndup(f->lines.data ? f->lines.data : "", f->lines.len);
    *nlines = f->nlines;
    pthread_mutex_unlock(&f->mu);
    return s;
}

size_t fake_center_count_key(struct fake_center *f, const char *key)
{
    size_t n = 0;
    pthread_mutex_lock(&f->mu);
    for (size_t i = 0; i < f->nkeys; i++)
        n += !strcmp(f->keys[i], key);
    pthread_mutex_unlock(&f->mu);
    return n;
}
