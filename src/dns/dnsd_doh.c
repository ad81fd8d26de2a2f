/* dnsd_doh.c - DNS over HTTPS on libmicrohttpd (see dnsd_doh.h for the design). */
#include "dns/dnsd_doh.h"

#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "dns/dns_msg.h"
#include "dns/dnsd_doh2.h"
#include "dns/dnsd_tls.h"
#include "common/banned.h"

#define PATH "/dns-query"

struct cw_dnsd_doh {
    struct cw_dnsd_doh_hub *hub;
    unsigned listener;
    struct MHD_Daemon *httpd;     /* HTTP/1.1, plaintext: connections relayed by the front */
    struct cw_doh2_front *front;  /* TLS, ALPN, HTTP/2 (dnsd_doh2.h) */
    /* With certificate pins: the view of each relayed connection, by the fd
     * libmicrohttpd got (unique while it is open; written by the front before the
     * hand-over, read by libmicrohttpd's thread once per request). */
    pthread_mutex_t mu;
    int16_t *fd_view;             /* [nfd]: view, or -1 */
    size_t nfd;
};

#define FD_VIEW_MAX (1u << 20)    /* beyond: the address view */

static bool pinned(const struct cw_dnsd_doh *d)
{
    return d->hub->pins && d->hub->pins->n;
}

static void fd_view_set(struct cw_dnsd_doh *d, int fd, int view)
{
    if (fd < 0 || (unsigned)fd >= FD_VIEW_MAX)
        return;
    pthread_mutex_lock(&d->mu);
    if ((size_t)fd >= d->nfd) {
        size_t n = ((size_t)fd + 64) & ~(size_t)63;
        int16_t *t = realloc(d->fd_view, n * sizeof(*t));
        if (t) {
            for (size_t i = d->nfd; i < n; i++)
                t[i] = -1;
            d->fd_view = t;
            d->nfd = n;
        }
    }
    if ((size_t)fd < d->nfd)
        d->fd_view[fd] = (int16_t)(view >= 0 && view <= INT16_MAX ? view : -1);
    pthread_mutex_unlock(&d->mu);
}

static int fd_view_get(struct cw_dnsd_doh *d, struct MHD_Connection *mc)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
    int view = -1;
    if (!ci || ci->connect_fd < 0)
        return -1;
    pthread_mutex_lock(&d->mu);
    if ((size_t)ci->connect_fd < d->nfd)
        view = d->fd_view[ci->connect_fd];
    pthread_mutex_unlock(&d->mu);
    return view;
}

/* -- parsing -------------------------------------------------------------------- */

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

int cw_dnsd_b64url_decode(const char *in, size_t n, uint8_t *out, size_t cap, size_t *outlen)
{
    if (n % 4 == 0) /* padding is not sent in DoH, but tolerated */
        for (int i = 0; i < 2 && n && in[n - 1] == '='; i++)
            n--;
    if (n % 4 == 1)
        return -1;
    size_t need = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
    if (need > cap)
        return -1;
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64val((unsigned char)in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) /* non-zero trailing bits: not the canonical encoding */
        return -1;
    *outlen = o;
    return 0;
}

static bool is_dns_message_type(const char *ct)
{
    static const char want[] = "application/dns-message";
    if (!ct)
        return false;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t n = strlen(want);
    if (strncasecmp(ct, want, n))
        return false;
    ct += n;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return *ct == '\0' || *ct == ';';
}

unsigned cw_dnsd_doh_parse(bool post, const char *content_type, const char *dns_param,
                           const uint8_t *body, size_t blen, bool body_too_big, uint8_t *out,
                           size_t cap, size_t *qlen)
{
    size_t n = 0;
    if (post) {
        if (!is_dns_message_type(content_type))
            return 415;
        if (body_too_big || blen > CW_DOH_MSG_MAX || blen > cap)
            return 413;
        if (blen)
            memcpy(out, body, blen);
        n = blen;
    } else {
        if (!dns_param)
            return 400;
        size_t pl = strlen(dns_param);
        if (pl > (CW_DOH_MSG_MAX + 2) / 3 * 4)
            return 413;
        if (cw_dnsd_b64url_decode(dns_param, pl, out, cap, &n))
            return 400;
    }
    if (n < CW_DNS_HDR_LEN || (out[2] & 0x80)) /* not even a header, or a response */
        return 400;
    *qlen = n;
    return 200;
}

uint32_t cw_dnsd_doh_max_age(const uint8_t *msg, size_t len)
{
    static __thread struct cw_dns_msg m;
    if (!msg || cw_dns_msg_parse(&m, msg, len))
        return 0;
    uint32_t min = UINT32_MAX;
    for (unsigned i = 0; i < m.nrr; i++)
        if (m.rr[i].type != CW_DNS_T_OPT && m.rr[i].ttl < min)
            min = m.rr[i].ttl;
    return min == UINT32_MAX ? 0 : min;
}

/* -- the hub ---------------------------------------------------------------------- */

int cw_dnsd_doh_hub_init(struct cw_dnsd_doh_hub *h)
{
    memset(h, 0, sizeof(*h));
    h->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (h->evfd < 0)
        return -1;
    pthread_mutex_init(&h->mu, NULL);
    return 0;
}

void cw_dnsd_doh_hub_release(struct cw_dnsd_doh_hub *h)
{
    if (h->evfd >= 0) {
        close(h->evfd);
        pthread_mutex_destroy(&h->mu);
    }
    h->evfd = -1;
}

int cw_dnsd_doh_hub_token(struct cw_dnsd_doh_hub *h, const char *hex, uint16_t view)
{
    size_t bl = 0;
    if (h->ntokens >= CW_DOH_MAX_TOKENS || strlen(hex) != 64 ||
        sodium_hex2bin(h->token_hash[h->ntokens], 32, hex, 64, NULL, &bl, NULL) || bl != 32)
        return -1;
    h->token_view[h->ntokens++] = view;
    return 0;
}

struct cw_dnsd_doh_req *cw_dnsd_doh_hub_take(struct cw_dnsd_doh_hub *h, bool stop)
{
    uint64_t v;
    if (read(h->evfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
        cw_debug("doh eventfd: %s", strerror(errno));
    pthread_mutex_lock(&h->mu);
    struct cw_dnsd_doh_req *r = h->head;
    h->head = h->tail = NULL;
    if (stop)
        h->stopping = true;
    pthread_mutex_unlock(&h->mu);
    return r;
}

bool cw_dnsd_doh_hub_put(struct cw_dnsd_doh_hub *h, struct cw_dnsd_doh_req *r)
{
    pthread_mutex_lock(&h->mu);
    bool stopping = h->stopping;
    if (!stopping) {
        r->next = NULL;
        if (h->tail)
            h->tail->next = r;
        else
            h->head = r;
        h->tail = r;
    }
    pthread_mutex_unlock(&h->mu);
    if (stopping)
        return false;
    uint64_t one = 1;
    if (write(h->evfd, &one, sizeof(one)) < 0)
        cw_debug("doh eventfd: %s", strerror(errno));
    return true;
}

void cw_dnsd_doh_answer(struct cw_dnsd_doh_req *r, const uint8_t *msg, size_t len)
{
    if (msg && len && (r->ans = malloc(len))) {
        memcpy(r->ans, msg, len);
        r->alen = len;
        r->max_age = cw_dnsd_doh_max_age(msg, len);
    }
    r->state = 2;
    if (!r->mc) { /* HTTP/2: back to the front that owns the stream */
        cw_doh2_return(r);
        return;
    }
    MHD_resume_connection(r->mc); /* libmicrohttpd's thread takes it from here */
}

/* -- libmicrohttpd ------------------------------------------------------------------ */

static enum MHD_Result reply(struct MHD_Connection *mc, unsigned status, const uint8_t *body,
                             size_t len, uint32_t max_age)
{
    struct MHD_Response *r;
    if (status == 200) {
        r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    } else {
        static const char *const txt[] = {"bad request: expected GET " PATH "?dns=<base64url> "
                                          "or POST " PATH " with application/dns-message\n"};
        r = MHD_create_response_from_buffer(strlen(txt[0]), (void *)txt[0],
                                            MHD_RESPMEM_PERSISTENT);
    }
    if (!r)
        return MHD_NO;
    if (status == 200) {
        char cc[40];
        snprintf(cc, sizeof(cc), "max-age=%u", max_age);
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/dns-message");
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, cc);
    } else {
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
        if (status == 405)
            MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, POST");
    }
    enum MHD_Result ret = MHD_queue_response(mc, status, r);
    MHD_destroy_response(r);
    return ret;
}

unsigned cw_dnsd_doh_route(const struct cw_dnsd_doh_hub *h, const char *url, int *view)
{
    size_t pl = sizeof(PATH) - 1;
    *view = -1;
    if (strncmp(url, PATH, pl))
        return 404;
    if (url[pl] == '\0')
        return 0;
    if (url[pl] != '/' || !url[pl + 1])
        return 404;
    const char *tok = url + pl + 1;
    uint8_t hash[32];
    crypto_generichash(hash, sizeof(hash), (const unsigned char *)tok, strlen(tok), NULL, 0);
    for (size_t i = 0; i < h->ntokens; i++)
        if (sodium_memcmp(hash, h->token_hash[i], 32) == 0) {
            *view = h->token_view[i];
            return 0;
        }
    return 403;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **ptr)
{
    struct cw_dnsd_doh *d = cls;
    struct cw_dnsd_doh_req *r = *ptr;
    if (!r) { /* headers only: route and refuse early what can be refused */
        r = calloc(1, sizeof(*r));
        if (!r)
            return MHD_NO;
        *ptr = r;
        r->mc = mc;
        r->listener = d->listener;
        r->post = !strcmp(method, "POST");
        r->early = cw_dnsd_doh_route(d->hub, url, &r->view);
        if (!r->early && r->view < 0 && pinned(d)) /* token > certificate > address */
            r->view = fd_view_get(d, mc);
        if (!r->early && !r->post && strcmp(method, "GET"))
            r->early = 405;
        const char *cl = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (!r->early && r->post && cl && strtoull(cl, NULL, 10) > CW_DOH_MSG_MAX)
            r->early = 413;
        if (r->early)
            return reply(mc, r->early, NULL, 0, 0);
        return MHD_YES;
    }
    if (r->early) {
        *upload_size = 0;
        return MHD_YES; /* the error response is queued; discard the rest */
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (!r->post || r->too_big || r->blen + n > CW_DOH_MSG_MAX) {
            r->too_big = true;
            return MHD_YES;
        }
        uint8_t *nb = realloc(r->body, r->blen + n);
        if (!nb)
            return MHD_NO;
        memcpy(nb + r->blen, upload, n);
        r->body = nb;
        r->blen += n;
        return MHD_YES;
    }
    if (r->state == 2)
        return r->ans ? reply(mc, 200, r->ans, r->alen, r->max_age) : reply(mc, 503, NULL, 0, 0);
    if (r->state == 1)
        return MHD_YES;
    uint8_t *q = malloc(CW_DOH_MSG_MAX);
    if (!q)
        return MHD_NO;
    const char *dns = r->post ? NULL : MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, "dns");
    const char *ct = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    size_t qlen = 0;
    unsigned st = cw_dnsd_doh_parse(r->post, ct, dns, r->body, r->blen, r->too_big, q,
                                    CW_DOH_MSG_MAX, &qlen);
    if (st != 200) {
        free(q);
        r->early = st;
        return reply(mc, st, NULL, 0, 0);
    }
    r->q = q;
    r->qlen = qlen;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        size_t sl = ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                            : sizeof(struct sockaddr_in);
        memcpy(&r->peer, ci->client_addr, sl);
    }
    /* suspended before the loop can see it: the loop's resume can never come first */
    r->state = 1;
    MHD_suspend_connection(mc);
    if (!cw_dnsd_doh_hub_put(d->hub, r)) {
        r->state = 2; /* shutting down: 503 */
        MHD_resume_connection(mc);
    }
    return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **ptr,
                         enum MHD_RequestTerminationCode toe)
{
    struct cw_dnsd_doh_req *r = *ptr;
    if (!r)
        return;
    free(r->body);
    free(r->q);
    free(r->ans);
    free(r);
    *ptr = NULL;
}

/* The front's HTTP/1.1 hand-over: the plaintext end of the relay, with the client's
 * address, as if libmicrohttpd had accepted it. */
static int add_h1(void *arg, int fd, const struct sockaddr *peer, socklen_t len, int view)
{
    struct cw_dnsd_doh *d = arg;
    if (pinned(d)) /* every hand-over, so that an fd reused later finds its own view */
        fd_view_set(d, fd, view);
    return MHD_add_connection(d->httpd, fd, peer, len) == MHD_YES ? 0 : -1;
}

struct cw_dnsd_doh *cw_dnsd_doh_start(struct cw_dnsd_doh_hub *hub, unsigned listener, int fd,
                                      const char *cert_pem, const char *key_pem,
                                      unsigned max_conns, char *err, size_t errlen)
{
    struct cw_dnsd_doh *d = calloc(1, sizeof(*d));
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    d->hub = hub;
    d->listener = listener;
    pthread_mutex_init(&d->mu, NULL);
    d->httpd = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY | MHD_ALLOW_SUSPEND_RESUME |
            MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC,
        0, NULL, NULL, on_request, d, MHD_OPTION_CONNECTION_LIMIT, max_conns,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
        d, MHD_OPTION_END);
    if (!d->httpd) {
        snprintf(err, errlen, "cannot start DNS over HTTPS (libmicrohttpd)");
        pthread_mutex_destroy(&d->mu);
        free(d);
        return NULL;
    }
    d->front = cw_doh2_front_start(hub, listener, fd, cert_pem, key_pem, max_conns, add_h1, d,
                                   err, errlen);
    if (!d->front) {
        MHD_stop_daemon(d->httpd);
        pthread_mutex_destroy(&d->mu);
        free(d);
        return NULL;
    }
    return d;
}

void cw_dnsd_doh_stop(struct cw_dnsd_doh *d)
{
    if (!d)
        return;
    cw_doh2_front_stop(d->front); /* no new relayed connection after this */
    MHD_stop_daemon(d->httpd);
    pthread_mutex_destroy(&d->mu);
    free(d->fd_view);
    free(d);
}
