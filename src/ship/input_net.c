/* input_net.c - syslog listeners: UDP (one datagram = one message) and TCP (LF or
 * octet-counted framing, frame.c).
 *
 * Back-pressure differs by transport: a full spool makes the reader stop polling
 * TCP connections (the kernel's socket buffers and then TCP flow control hold the
 * senders back), but UDP has no such thing, so datagrams are still received and
 * dropped, and every drop is counted. */
#include "ship/input.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/banned.h"

#define UDP_MAX_DGRAM 65535
#define UDP_PER_POLL 256

int cw_net_parse_addr(const char *s, void *ss_out, unsigned *len)
{
    struct sockaddr_storage *ss = ss_out;
    char host[256];
    const char *colon, *port;
    memset(ss, 0, sizeof(*ss));
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || rb[1] != ':' || (size_t)(rb - s - 1) >= sizeof(host))
            return -1;
        snprintf(host, sizeof(host), "%.*s", (int)(rb - s - 1), s + 1);
        port = rb + 2;
    } else {
        colon = strrchr(s, ':');
        if (!colon || (size_t)(colon - s) >= sizeof(host))
            return -1;
        snprintf(host, sizeof(host), "%.*s", (int)(colon - s), s);
        port = colon + 1;
    }
    char *end;
    long p = strtol(port, &end, 10);
    if (!*port || *end || p < 0 || p > 65535)
        return -1;
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (host[0] == '\0' || inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        if (host[0] == '\0')
            v4->sin_addr.s_addr = htonl(INADDR_ANY);
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)p);
        *len = sizeof(*v4);
        return 0;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)p);
        *len = sizeof(*v6);
        return 0;
    }
    return -1;
}

static uint16_t bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t l = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &l))
        return 0;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

int cw_input_syslog_open(struct cw_input *in, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    unsigned len;
    bool tcp = in->kind == CW_INPUT_SYSLOG_TCP;
    if (cw_net_parse_addr(in->path, &ss, &len)) {
        snprintf(err, errlen, "syslog listener '%s': expected ADDR:PORT (e.g. 127.0.0.1:5514 "
                 "or [::1]:5514)", in->path);
        return -1;
    }
    int fd = socket(ss.ss_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1, rcvbuf = 4 << 20;
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (!tcp) /* absorb bursts: the kernel buffer is all UDP has */
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    }
    if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) || (tcp && listen(fd, 64))) {
        snprintf(err, errlen, "syslog %s listener on %s: %s", tcp ? "TCP" : "UDP", in->path,
                 strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    in->lfd = fd;
    in->port = bound_port(fd);
    cw_info("listening for syslog over %s on %s", tcp ? "TCP" : "UDP", in->path);
    return 0;
}

static void add_message(struct cw_input *in, const char *m, size_t n)
{
    /* one message is one line: a sender's embedded newlines become spaces */
    while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == '\r'))
        n--;
    if (n == 0)
        return;
    if (!memchr(m, '\n', n) && !memchr(m, '\r', n)) {
        cw_input_add_line(in, m, n);
        return;
    }
    char *copy = malloc(n);
    if (!copy)
        return;
    for (size_t i = 0; i < n; i++)
        copy[i] = (m[i] == '\n' || m[i] == '\r') ? ' ' : m[i];
    cw_input_add_line(in, copy, n);
    free(copy);
}

void cw_input_udp_read(struct cw_input *in)
{
    static _Thread_local char dgram[UDP_MAX_DGRAM + 1];
    for (int i = 0; i < UDP_PER_POLL; i++) {
        ssize_t n = recv(in->lfd, dgram, UDP_MAX_DGRAM, 0);
        if (n < 0)
            return; /* EAGAIN: drained */
        if (cw_reader_paused(in->r)) {
            cw_reader_note_udp_drop(in->r);
            if (!in->warned_drop)
                cw_warn("spool full: dropping syslog UDP datagrams on %s (counted in the "
                        "status line) until the center accepts data", in->path);
            in->warned_drop = true;
            continue;
        }
        in->warned_drop = false;
        add_message(in, dgram, (size_t)n);
    }
}

void cw_input_tcp_accept(struct cw_input *in)
{
    for (;;) {
        int fd = accept4(in->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        if (in->nconns >= CW_SHIP_MAX_CONNS) {
            cw_warn("syslog TCP %s: %d connections already, refusing another", in->path,
                    CW_SHIP_MAX_CONNS);
            close(fd);
            continue;
        }
        struct cw_tcp_conn *nc = realloc(in->conns, (in->nconns + 1) * sizeof(*nc));
        if (!nc) {
            close(fd);
            return;
        }
        in->conns = nc;
        nc[in->nconns].fd = fd;
        cw_frame_init(&nc[in->nconns].frame);
        in->nconns++;
    }
}

static void frame_cb(void *ctx, const char *msg, size_t n)
{
    add_message(ctx, msg, n);
}

static void drop_conn(struct cw_input *in, size_t i)
{
    cw_frame_finish(&in->conns[i].frame, frame_cb, in);
    if (in->conns[i].frame.oversized)
        cw_warn("syslog TCP %s: %llu messages longer than %u bytes dropped", in->path,
                (unsigned long long)in->conns[i].frame.oversized, CW_SHIP_MAX_LINE);
    cw_frame_release(&in->conns[i].frame);
    close(in->conns[i].fd);
    in->conns[i] = in->conns[--in->nconns];
}

void cw_input_tcp_read(struct cw_input *in, size_t i)
{
    static _Thread_local char buf[CW_SHIP_READ_CHUNK];
    ssize_t n = read(in->conns[i].fd, buf, sizeof(buf));
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        drop_conn(in, i);
        return;
    }
    if (cw_frame_feed(&in->conns[i].frame, buf, (size_t)n, CW_SHIP_MAX_LINE, frame_cb, in)) {
        cw_warn("syslog TCP %s: malformed octet-counted frame; closing the connection",
                in->path);
        drop_conn(in, i);
    }
}

void cw_input_net_close(struct cw_input *in)
{
    while (in->nconns > 0) {
        size_t i = in->nconns - 1;
        cw_frame_release(&in->conns[i].frame);
        close(in->conns[i].fd);
        in->nconns--;
    }
    free(in->conns);
    in->conns = NULL;
    if (in->lfd >= 0)
        close(in->lfd);
    in->lfd = -1;
}
