/* dnsd_doh2.c - DNS over HTTPS front end: TLS + ALPN, HTTP/2 with nghttp2, HTTP/1.1
 * relayed to libmicrohttpd (see dnsd_doh2.h for the design). */
#include "dns/dnsd_doh2.h"

#include <errno.h>
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "dns/dnsd_doh.h"
#include "dns/dnsd_tls.h"
#include "common/banned.h"

/* ============================================================================
 * The HTTP/2 session: request handling on top of nghttp2
 * ========================================================================== */

enum { M_NONE = 0, M_GET, M_POST, M_OTHER };

struct stream {
    struct stream *prev, *next; /* every stream of the session: freed with it */
    int32_t id;
    uint8_t method;
    bool has_ctype, too_big, submitted, responded;
    unsigned status;   /* an error found while reading the request */
    size_t hdr_bytes;
    uint64_t clen;     /* content-length, UINT64_MAX when absent */
    char *path;        /* :path as sent */
    size_t pathlen;
    char ctype[128];
    uint8_t *body;
    size_t blen;
    uint8_t *resp;     /* the response body */
    size_t rlen, roff;
};

struct cw_doh2_sess {
    nghttp2_session *ng;
    struct cw_dnsd_doh_hub *hub;
    unsigned listener;
    struct sockaddr_storage peer;
    cw_doh2_submit_fn submit;
    void *arg;
    size_t open, submitted; /* streams open; requests with the loop */
    struct stream *streams;
    int cert_view;          /* the client certificate's view (handshake), -1: none */
};

/* Scratch for one request at a time: every session of a front runs on its thread. */
static __thread uint8_t t_query[CW_DOH_MSG_MAX];
static __thread char t_path[CW_DOH2_HDR_MAX], t_dns[CW_DOH2_HDR_MAX];

static void stream_free(struct cw_doh2_sess *s, struct stream *st)
{
    if (!st)
        return;
    if (st->prev)
        st->prev->next = st->next;
    else
        s->streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    free(st->path);
    free(st->body);
    free(st->resp);
    free(st);
}

static void req_free(struct cw_dnsd_doh_req *r)
{
    free(r->q);
    free(r->ans);
    free(r);
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* percent-decode in[0..n) into out (NUL-terminated); -1 on a bad escape, a decoded
 * NUL or no room */
static int pct_decode(const char *in, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)in[i];
        if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int h = hexval((unsigned char)in[i + 1]), l = hexval((unsigned char)in[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            c = h * 16 + l;
            i += 2;
        }
        if (c == 0 || o + 1 >= cap)
            return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return 0;
}

int cw_doh2_split_path(const char *in, size_t n, char *path, size_t pcap, char *dns,
                       size_t dcap, bool *has_dns)
{
    const char *q = memchr(in, '?', n);
    size_t pl = q ? (size_t)(q - in) : n;
    *has_dns = false;
    if (dcap)
        dns[0] = '\0';
    if (pct_decode(in, pl, path, pcap))
        return -1;
    if (!q)
        return 0;
    const char *p = q + 1, *end = in + n;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *pe = amp ? amp : end;
        if (pe - p >= 4 && !memcmp(p, "dns=", 4) && !*has_dns) {
            if (pct_decode(p + 4, (size_t)(pe - p - 4), dns, dcap))
                return -1;
            *has_dns = true;
        }
        p = pe + 1;
    }
    return 0;
}

static ssize_t read_body(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len,
                         uint32_t *flags, nghttp2_data_source *src, void *ud)
{
    struct stream *st = src->ptr;
    size_t n = st->rlen - st->roff;
    if (n > len)
        n = len;
    if (n)
        memcpy(buf, st->resp + st->roff, n);
    st->roff += n;
    if (st->roff == st->rlen)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

#define NV(n, v) {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE}

/* Queue the response of a stream: status, and for 200 the DNS answer. */
static void respond(struct cw_doh2_sess *s, struct stream *st, unsigned status,
                    const uint8_t *body, size_t len, uint32_t max_age)
{
    static const char errtxt[] = "bad request: expected GET /dns-query?dns=<base64url> or "
                                 "POST /dns-query with application/dns-message\n";
    if (st->responded)
        return;
    st->responded = true;
    if (status != 200) {
        body = (const uint8_t *)errtxt;
        len = sizeof(errtxt) - 1;
    }
    free(st->resp);
    st->resp = malloc(len ? len : 1);
    if (!st->resp) {
        nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
        return;
    }
    memcpy(st->resp, body, len);
    st->rlen = len;
    st->roff = 0;
    char sbuf[8], cl[24], cc[32];
    snprintf(sbuf, sizeof(sbuf), "%u", status);
    snprintf(cl, sizeof(cl), "%zu", len);
    snprintf(cc, sizeof(cc), "max-age=%u", max_age);
    nghttp2_nv nv[5] = {NV(":status", sbuf), NV("content-length", cl)};
    size_t n = 2;
    if (status == 200) {
        nv[n++] = (nghttp2_nv)NV("content-type", "application/dns-message");
        nv[n++] = (nghttp2_nv)NV("cache-control", cc);
    } else {
        nv[n++] = (nghttp2_nv)NV("content-type", "text/plain");
        if (status == 405)
            nv[n++] = (nghttp2_nv)NV("allow", "GET, POST");
    }
    nghttp2_data_provider prd = {.source.ptr = st, .read_callback = read_body};
    if (nghttp2_submit_response(s->ng, st->id, nv, n, &prd))
        nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
}

/* What can be refused once the headers are in: size, method, path. 0 or a status. */
static unsigned check_headers(struct cw_doh2_sess *s, struct stream *st, int *view)
{
    bool has_dns;
    *view = -1;
    if (st->status)
        return st->status;
    if (!st->path || cw_doh2_split_path(st->path, st->pathlen, t_path, sizeof(t_path), t_dns,
                                        sizeof(t_dns), &has_dns))
        return 400;
    unsigned r = cw_dnsd_doh_route(s->hub, t_path, view);
    if (r)
        return r;
    if (*view < 0) /* token > certificate > address (dnsd_doh.h) */
        *view = s->cert_view;
    if (st->method != M_GET && st->method != M_POST)
        return 405;
    if (st->method == M_POST && st->clen != UINT64_MAX && st->clen > CW_DOH_MSG_MAX)
        return 413;
    return 0;
}

/* The request is complete: check it and hand it to the loop, or answer an error. */
static void finish_request(struct cw_doh2_sess *s, struct stream *st)
{
    int view;
    unsigned status = check_headers(s, st, &view);
    if (status) {
        respond(s, st, status, NULL, 0, 0);
        return;
    }
    bool post = st->method == M_POST, has_dns = false;
    if (!post) /* check_headers split the path: t_dns holds the parameter */
        has_dns = cw_doh2_split_path(st->path, st->pathlen, t_path, sizeof(t_path), t_dns,
                                     sizeof(t_dns), &has_dns) == 0 && has_dns;
    size_t qlen = 0;
    status = cw_dnsd_doh_parse(post, st->has_ctype ? st->ctype : NULL, has_dns ? t_dns : NULL,
                               st->body, st->blen, st->too_big, t_query, sizeof(t_query), &qlen);
    if (status != 200) {
        respond(s, st, status, NULL, 0, 0);
        return;
    }
    struct cw_dnsd_doh_req *r = calloc(1, sizeof(*r));
    if (!r || !(r->q = malloc(qlen))) {
        free(r);
        respond(s, st, 503, NULL, 0, 0);
        return;
    }
    memcpy(r->q, t_query, qlen);
    r->qlen = qlen;
    r->listener = s->listener;
    r->view = view;
    r->peer = s->peer;
    r->post = post;
    r->state = 1;
    r->h2_stream = st->id;
    st->submitted = true;
    s->submitted++;
    if (!s->submit(s->arg, r)) { /* shutting down */
        s->submitted--;
        req_free(r);
        respond(s, st, 503, NULL, 0, 0);
    }
}

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
    struct cw_doh2_sess *s = ud;
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    struct stream *st = calloc(1, sizeof(*st));
    if (!st)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    st->id = f->hd.stream_id;
    st->clen = UINT64_MAX;
    if (nghttp2_session_set_stream_user_data(ng, st->id, st)) {
        free(st);
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    st->next = s->streams; /* nghttp2 does not report the close of every stream */
    if (s->streams)
        s->streams->prev = st;
    s->streams = st;
    s->open++;
    return 0;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name,
                     size_t nl, const uint8_t *value, size_t vl, uint8_t flags, void *ud)
{
    if (f->hd.type != NGHTTP2_HEADERS)
        return 0;
    struct stream *st = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
    if (!st)
        return 0;
    st->hdr_bytes += nl + vl + 32; /* RFC 9113 6.5.2's accounting */
    if (st->hdr_bytes > 4 * CW_DOH2_HDR_MAX)
        return NGHTTP2_ERR_CALLBACK_FAILURE; /* abusive: drop the connection */
    if (st->hdr_bytes > CW_DOH2_HDR_MAX) {
        st->status = 431;
        return 0;
    }
    if (f->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0; /* trailers: counted, not used */
#define IS(lit) (nl == sizeof(lit) - 1 && !memcmp(name, lit, nl))
    if (IS(":method")) {
        st->method = vl == 3 && !memcmp(value, "GET", 3)    ? M_GET
                     : vl == 4 && !memcmp(value, "POST", 4) ? M_POST
                                                            : M_OTHER;
    } else if (IS(":path")) {
        char *p = malloc(vl + 1);
        if (!p)
            return NGHTTP2_ERR_CALLBACK_FAILURE;
        memcpy(p, value, vl);
        p[vl] = '\0';
        free(st->path);
        st->path = p;
        st->pathlen = vl;
    } else if (IS("content-type")) {
        size_t n = vl < sizeof(st->ctype) - 1 ? vl : sizeof(st->ctype) - 1;
        memcpy(st->ctype, value, n);
        st->ctype[n] = '\0';
        st->has_ctype = vl < sizeof(st->ctype) && !memchr(value, 0, vl);
        if (!st->has_ctype)
            st->status = st->status ? st->status : 415;
    } else if (IS("content-length")) {
        uint64_t v = 0;
        for (size_t i = 0; i < vl && v <= CW_DOH_MSG_MAX; i++)
            v = value[i] >= '0' && value[i] <= '9' ? v * 10 + (value[i] - '0') : UINT64_MAX - 1;
        st->clen = v;
    }
#undef IS
    return 0;
}

static int on_data(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data,
                   size_t len, void *ud)
{
    struct cw_doh2_sess *s = ud;
    struct stream *st = nghttp2_session_get_stream_user_data(ng, id);
    if (!st || st->responded || st->too_big)
        return 0;
    if (st->blen + len > CW_DOH_MSG_MAX) {
        st->too_big = true; /* refused now: the rest of the body is discarded */
        free(st->body);
        st->body = NULL;
        st->blen = 0;
        respond(s, st, 413, NULL, 0, 0);
        return 0;
    }
    if (!len)
        return 0;
    uint8_t *nb = realloc(st->body, st->blen + len);
    if (!nb)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    memcpy(nb + st->blen, data, len);
    st->body = nb;
    st->blen += len;
    return 0;
}

static int on_frame(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
    struct cw_doh2_sess *s = ud;
    if (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA)
        return 0;
    struct stream *st = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
    if (!st || st->responded || st->submitted)
        return 0;
    if (f->hd.flags & NGHTTP2_FLAG_END_STREAM) {
        finish_request(s, st);
    } else if (f->hd.type == NGHTTP2_HEADERS) { /* a body follows: refuse early if we can */
        int view;
        unsigned status = check_headers(s, st, &view);
        if (status)
            respond(s, st, status, NULL, 0, 0);
    }
    return 0;
}

static int on_close(nghttp2_session *ng, int32_t id, uint32_t code, void *ud)
{
    struct cw_doh2_sess *s = ud;
    struct stream *st = nghttp2_session_get_stream_user_data(ng, id);
    if (!st)
        return 0;
    nghttp2_session_set_stream_user_data(ng, id, NULL);
    stream_free(s, st); /* a request with the loop finds no stream when it comes back */
    s->open--;
    return 0;
}

struct cw_doh2_sess *cw_doh2_sess_new(struct cw_dnsd_doh_hub *hub, unsigned listener,
                                      const struct sockaddr_storage *peer,
                                      cw_doh2_submit_fn submit, void *arg)
{
    struct cw_doh2_sess *s = calloc(1, sizeof(*s));
    nghttp2_session_callbacks *cb = NULL;
    if (!s || nghttp2_session_callbacks_new(&cb))
        goto fail;
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
    int rc = nghttp2_session_server_new(&s->ng, cb, s);
    nghttp2_session_callbacks_del(cb);
    if (rc)
        goto fail;
    s->hub = hub;
    s->listener = listener;
    s->cert_view = -1;
    if (peer)
        s->peer = *peer;
    s->submit = submit;
    s->arg = arg;
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, CW_DOH2_MAX_STREAMS},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, CW_DOH2_HDR_MAX},
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0}};
    if (nghttp2_submit_settings(s->ng, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0])))
        goto fail;
    return s;
fail:
    if (s && s->ng)
        nghttp2_session_del(s->ng);
    free(s);
    return NULL;
}

int cw_doh2_sess_recv(struct cw_doh2_sess *s, const uint8_t *in, size_t n)
{
    ssize_t r = nghttp2_session_mem_recv(s->ng, in, n);
    if (r < 0) {
        cw_debug("doh2: %s", nghttp2_strerror((int)r));
        return -1;
    }
    return 0;
}

ssize_t cw_doh2_sess_send(struct cw_doh2_sess *s, const uint8_t **out)
{
    ssize_t r = nghttp2_session_mem_send(s->ng, out);
    return r < 0 ? -1 : r;
}

void cw_doh2_sess_answered(struct cw_doh2_sess *s, struct cw_dnsd_doh_req *r)
{
    if (s->submitted)
        s->submitted--;
    struct stream *st = nghttp2_session_get_stream_user_data(s->ng, r->h2_stream);
    if (st) /* no answer (DROP, overload, shutdown): 503, like HTTP/1.1 */
        respond(s, st, r->ans ? 200 : 503, r->ans, r->alen, r->max_age);
    req_free(r);
}

bool cw_doh2_sess_done(const struct cw_doh2_sess *s)
{
    return !nghttp2_session_want_read(s->ng) && !nghttp2_session_want_write(s->ng);
}

size_t cw_doh2_sess_streams(const struct cw_doh2_sess *s)
{
    return s->open + s->submitted;
}

void cw_doh2_sess_goaway(struct cw_doh2_sess *s)
{
    nghttp2_session_terminate_session(s->ng, NGHTTP2_NO_ERROR);
}

void cw_doh2_sess_free(struct cw_doh2_sess *s)
{
    if (!s)
        return;
    nghttp2_session_del(s->ng);
    while (s->streams)
        stream_free(s, s->streams);
    free(s);
}

/* ============================================================================
 * The front: accept, TLS, ALPN, HTTP/2 I/O, the HTTP/1.1 relay
 * ========================================================================== */

enum { T_LISTEN = 1, T_EVENT, T_TLS, T_RELAY };
enum { S_HANDSHAKE = 0, S_H2, S_H1, S_GONE };
#define RELAY_BUF 16384

struct conn;
struct tag {
    int kind;
    struct conn *c;
};

struct conn {
    struct cw_doh2_front *f;
    struct conn *prev, *next;
    int fd, ux; /* the TLS socket; the relay's end of the socketpair (HTTP/1.1) */
    struct tag tfd, tux;
    uint32_t fd_ev, ux_ev; /* registered interest */
    SSL *ssl;
    int state;
    bool rd_blocked, wr_blocked; /* a TLS read / write waits for ... */
    int rd_want, wr_want;        /* ... this direction (CW_TLS_IO_WANT_*) */
    struct cw_doh2_sess *sess;
    const uint8_t *out;          /* HTTP/2: nghttp2's bytes being written */
    size_t outlen, outoff;
    uint8_t *up, *down;          /* HTTP/1.1: TLS -> relay, relay -> TLS */
    size_t uplen, upoff, downlen, downoff;
    bool tls_eof, ux_eof;
    bool up_discard;             /* libmicrohttpd stopped reading: drop the client's bytes */
    bool lingering;              /* answered and closed for writing: drain, then close */
    size_t pending;              /* requests with the loop */
    int64_t deadline;
    struct sockaddr_storage peer;
    socklen_t peerlen;
    int view;                    /* the client certificate's view, -1: none */
};

struct cw_doh2_front {
    struct cw_dnsd_doh_hub *hub;
    unsigned listener, max_conns, nconns;
    int lfd, ep, evfd;
    SSL_CTX *ctx;
    cw_doh2_h1_fn h1;
    void *h1_arg;
    pthread_t th;
    pthread_mutex_t mu; /* guards ret and stop */
    struct cw_dnsd_doh_req *ret;
    bool stop;
    struct conn *conns;
    struct tag tl, te;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned inlen, void *arg)
{
    /* server preference: h2 first, then http/1.1 */
    static const unsigned char protos[] = "\x02h2\x08http/1.1";
    unsigned char *o = NULL;
    if (SSL_select_next_proto(&o, outlen, protos, sizeof(protos) - 1, in, inlen) ==
        OPENSSL_NPN_NEGOTIATED) {
        *out = o;
        return SSL_TLSEXT_ERR_OK;
    }
    return SSL_TLSEXT_ERR_NOACK; /* no ALPN: HTTP/1.1 */
}

static SSL_CTX *ctx_from_pem(const char *cert_pem, const char *key_pem, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    BIO *b = NULL;
    X509 *x = NULL;
    EVP_PKEY *k = NULL;
    if (!ctx)
        goto fail;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    if (!(b = BIO_new_mem_buf(cert_pem, -1)) || !(x = PEM_read_bio_X509_AUX(b, NULL, NULL, NULL)) ||
        SSL_CTX_use_certificate(ctx, x) != 1)
        goto fail;
    X509_free(x);
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL))) /* the rest of the chain */
        if (SSL_CTX_add0_chain_cert(ctx, x) != 1)
            goto fail;
    ERR_clear_error(); /* the end of the PEM data */
    BIO_free(b);
    if (!(b = BIO_new_mem_buf(key_pem, -1)) || !(k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) ||
        SSL_CTX_use_PrivateKey(ctx, k) != 1 || SSL_CTX_check_private_key(ctx) != 1)
        goto fail;
    EVP_PKEY_free(k);
    BIO_free(b);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
    return ctx;
fail:;
    char e[200] = "";
    ERR_error_string_n(ERR_get_error(), e, sizeof(e));
    ERR_clear_error();
    snprintf(err, errlen, "--doh-listen: certificate or key not usable: %s", e);
    X509_free(x);
    EVP_PKEY_free(k);
    BIO_free(b);
    SSL_CTX_free(ctx);
    return NULL;
}

static void set_events(struct cw_doh2_front *f, int fd, struct tag *t, uint32_t *cur, uint32_t ev)
{
    if (fd < 0 || *cur == ev)
        return;
    struct epoll_event e = {.events = ev, .data.ptr = t};
    if (epoll_ctl(f->ep, EPOLL_CTL_MOD, fd, &e))
        cw_debug("doh epoll: %s", strerror(errno));
    *cur = ev;
}

static uint32_t dir(int want)
{
    return want == CW_TLS_IO_WANT_WRITE ? EPOLLOUT : EPOLLIN;
}

static void conn_gone(struct conn *c)
{
    if (c->state == S_GONE)
        return;
    struct cw_doh2_front *f = c->f;
    cw_dnsd_tls_free(c->ssl);
    c->ssl = NULL;
    if (c->fd >= 0) {
        epoll_ctl(f->ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    if (c->ux >= 0) {
        epoll_ctl(f->ep, EPOLL_CTL_DEL, c->ux, NULL);
        close(c->ux);
    }
    c->fd = c->ux = -1;
    c->state = S_GONE;
    f->nconns--;
}

static void conn_free(struct conn *c)
{
    struct cw_doh2_front *f = c->f;
    if (c->prev)
        c->prev->next = c->next;
    else
        f->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    cw_doh2_sess_free(c->sess);
    free(c->up);
    free(c->down);
    free(c);
}

static bool submit_to_loop(void *arg, struct cw_dnsd_doh_req *r)
{
    struct conn *c = arg;
    r->h2 = c;
    c->pending++; /* before the put: the answer is processed on this thread anyway */
    if (!cw_dnsd_doh_hub_put(c->f->hub, r)) {
        c->pending--;
        return false;
    }
    return true;
}

void cw_doh2_return(struct cw_dnsd_doh_req *r)
{
    struct conn *c = r->h2;
    struct cw_doh2_front *f = c->f;
    pthread_mutex_lock(&f->mu);
    r->next = f->ret;
    f->ret = r;
    pthread_mutex_unlock(&f->mu);
    uint64_t one = 1;
    if (write(f->evfd, &one, sizeof(one)) < 0)
        cw_debug("doh2 eventfd: %s", strerror(errno));
}

/* HTTP/2: write what nghttp2 has, then read while nothing waits to be written. */
static void h2_io(struct conn *c)
{
    uint8_t buf[16384];
    for (;;) {
        while (!c->wr_blocked) {
            if (c->outoff == c->outlen) {
                const uint8_t *p;
                ssize_t n = cw_doh2_sess_send(c->sess, &p);
                if (n < 0)
                    goto gone;
                if (n == 0)
                    break;
                c->out = p;
                c->outlen = (size_t)n;
                c->outoff = 0;
            }
            size_t w = 0;
            int r = cw_dnsd_tls_write(c->ssl, c->out + c->outoff, c->outlen - c->outoff, &w);
            if (r == CW_TLS_IO_OK) {
                c->outoff += w;
            } else if (r == CW_TLS_IO_WANT_READ || r == CW_TLS_IO_WANT_WRITE) {
                c->wr_blocked = true;
                c->wr_want = r;
            } else {
                goto gone;
            }
        }
        if (c->wr_blocked)
            return; /* back-pressure: no reading until the peer takes our bytes */
        if (cw_doh2_sess_done(c->sess))
            goto gone;
        size_t n = 0;
        int r = cw_dnsd_tls_read(c->ssl, buf, sizeof(buf), &n);
        if (r == CW_TLS_IO_WANT_READ || r == CW_TLS_IO_WANT_WRITE) {
            c->rd_blocked = true;
            c->rd_want = r;
            return;
        }
        if (r != CW_TLS_IO_OK)
            goto gone;
        c->rd_blocked = false;
        c->deadline = now_ms() + CW_DOH2_IDLE_MS;
        if (cw_doh2_sess_recv(c->sess, buf, n)) {
            /* a protocol error: nghttp2 has queued a GOAWAY; one attempt to send it */
            const uint8_t *p;
            ssize_t k = cw_doh2_sess_send(c->sess, &p);
            size_t w;
            if (k > 0)
                (void)cw_dnsd_tls_write(c->ssl, p, (size_t)k, &w);
            goto gone;
        }
    }
gone:
    conn_gone(c);
}

/* HTTP/1.1: move bytes both ways until nothing moves. */
static void h1_io(struct conn *c)
{
    bool moved = true;
    while (moved) {
        moved = false;
        if (c->upoff == c->uplen && !c->tls_eof && !c->wr_blocked) {
            size_t n = 0;
            int r = cw_dnsd_tls_read(c->ssl, c->up, RELAY_BUF, &n);
            if (r == CW_TLS_IO_OK) {
                c->uplen = c->up_discard ? 0 : n;
                c->upoff = 0;
                c->rd_blocked = false;
                moved = true;
            } else if (r == CW_TLS_IO_WANT_READ || r == CW_TLS_IO_WANT_WRITE) {
                c->rd_blocked = true;
                c->rd_want = r;
            } else if (r == CW_TLS_IO_EOF) {
                c->tls_eof = true;
                if (!c->up_discard)
                    shutdown(c->ux, SHUT_WR);
            } else {
                goto gone;
            }
        }
        if (c->upoff < c->uplen) {
            ssize_t w = write(c->ux, c->up + c->upoff, c->uplen - c->upoff);
            if (w > 0) {
                c->upoff += (size_t)w;
                moved = true;
            } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
                /* it answered (e.g. 413 before the body) and closed: its answer
                 * may still be in the socket, the rest of the request is dropped */
                c->up_discard = true;
                c->upoff = c->uplen = 0;
                moved = true;
            }
        }
        if (c->downoff == c->downlen && !c->ux_eof) {
            ssize_t n = read(c->ux, c->down, RELAY_BUF);
            if (n > 0) {
                c->downlen = (size_t)n;
                c->downoff = 0;
                moved = true;
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                c->ux_eof = true;
            }
        }
        if (c->downoff < c->downlen) {
            size_t w = 0;
            int r = cw_dnsd_tls_write(c->ssl, c->down + c->downoff, c->downlen - c->downoff, &w);
            if (r == CW_TLS_IO_OK) {
                c->downoff += w;
                c->wr_blocked = false;
                moved = true;
            } else if (r == CW_TLS_IO_WANT_READ || r == CW_TLS_IO_WANT_WRITE) {
                c->wr_blocked = true;
                c->wr_want = r;
            } else {
                goto gone;
            }
        }
        if (moved && !c->lingering)
            c->deadline = now_ms() + 6 * CW_DOH2_IDLE_MS;
    }
    if (c->ux_eof && c->downoff == c->downlen) { /* everything libmicrohttpd said is sent */
        if (c->tls_eof)
            goto gone;
        if (!c->lingering) {
            /* lingering close (as nginx does): a client still sending its request
             * would get a reset, which can destroy the answer before it reads it */
            c->lingering = c->up_discard = true;
            SSL_shutdown(c->ssl);
            ERR_clear_error();
            shutdown(c->fd, SHUT_WR);
            c->deadline = now_ms() + 2000;
            h1_io(c); /* drain what is there already */
        }
    }
    return;
gone:
    conn_gone(c);
}

static void after_handshake(struct conn *c)
{
    struct cw_doh2_front *f = c->f;
    const unsigned char *p = NULL;
    unsigned len = 0;
    SSL_get0_alpn_selected(c->ssl, &p, &len);
    c->rd_blocked = c->wr_blocked = false;
    c->view = cw_dnsd_tls_peer_view(c->ssl, f->hub->pins); /* once, for every request */
    if (len == 2 && !memcmp(p, "h2", 2)) {
        c->sess = cw_doh2_sess_new(f->hub, f->listener, &c->peer, submit_to_loop, c);
        if (!c->sess) {
            conn_gone(c);
            return;
        }
        c->sess->cert_view = c->view;
        c->state = S_H2;
        c->deadline = now_ms() + CW_DOH2_IDLE_MS;
        return;
    }
    int sv[2];
    if (!(c->up = malloc(RELAY_BUF)) || !(c->down = malloc(RELAY_BUF)) ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv)) {
        conn_gone(c);
        return;
    }
    /* libmicrohttpd takes sv[1] (and closes it, even when it refuses it) */
    if (f->h1(f->h1_arg, sv[1], (const struct sockaddr *)&c->peer, c->peerlen, c->view)) {
        close(sv[0]);
        conn_gone(c);
        return;
    }
    c->ux = sv[0];
    c->tux = (struct tag){T_RELAY, c};
    c->ux_ev = EPOLLIN;
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = &c->tux};
    if (epoll_ctl(f->ep, EPOLL_CTL_ADD, c->ux, &e)) {
        conn_gone(c);
        return;
    }
    c->state = S_H1;
    c->deadline = now_ms() + 6 * CW_DOH2_IDLE_MS;
}

static void conn_io(struct conn *c)
{
    if (c->state == S_HANDSHAKE) {
        int r = cw_dnsd_tls_handshake(c->ssl);
        if (r == CW_TLS_IO_WANT_READ || r == CW_TLS_IO_WANT_WRITE) {
            set_events(c->f, c->fd, &c->tfd, &c->fd_ev, dir(r));
            return;
        }
        if (r != CW_TLS_IO_OK) {
            char e[160];
            cw_debug("doh: TLS handshake failed: %s", cw_dnsd_tls_error(e, sizeof(e)));
            conn_gone(c);
            return;
        }
        after_handshake(c);
    }
    if (c->state == S_H2)
        h2_io(c);
    else if (c->state == S_H1)
        h1_io(c);
    if (c->state == S_GONE)
        return;
    uint32_t ev = 0;
    if (c->wr_blocked)
        ev |= dir(c->wr_want);
    bool reading = c->state == S_H2 ? !c->wr_blocked
                                    : c->upoff == c->uplen && !c->tls_eof && !c->wr_blocked;
    if (reading)
        ev |= c->rd_blocked ? dir(c->rd_want) : EPOLLIN;
    set_events(c->f, c->fd, &c->tfd, &c->fd_ev, ev);
    if (c->state == S_H1)
        set_events(c->f, c->ux, &c->tux, &c->ux_ev,
                   (c->downoff == c->downlen && !c->ux_eof ? EPOLLIN : 0) |
                       (c->upoff < c->uplen ? EPOLLOUT : 0));
}

static void do_accept(struct cw_doh2_front *f)
{
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = accept4(f->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        if (f->nconns >= f->max_conns) {
            close(fd); /* over the limit */
            continue;
        }
        struct conn *c = calloc(1, sizeof(*c));
        if (!c || !(c->ssl = cw_dnsd_tls_new(f->ctx, fd))) {
            free(c);
            close(fd);
            continue;
        }
        c->f = f;
        c->fd = fd;
        c->ux = -1;
        c->peer = ss;
        c->peerlen = sl;
        c->tfd = (struct tag){T_TLS, c};
        c->fd_ev = EPOLLIN;
        c->deadline = now_ms() + CW_DOH2_HANDSHAKE_MS;
        struct epoll_event e = {.events = EPOLLIN, .data.ptr = &c->tfd};
        if (epoll_ctl(f->ep, EPOLL_CTL_ADD, fd, &e)) {
            cw_dnsd_tls_free(c->ssl);
            close(fd);
            free(c);
            continue;
        }
        f->nconns++;
        c->next = f->conns;
        if (f->conns)
            f->conns->prev = c;
        f->conns = c;
    }
}

/* Answers back from the loop; true when the front is stopping. */
static bool take_returns(struct cw_doh2_front *f)
{
    uint64_t v;
    if (read(f->evfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
        cw_debug("doh2 eventfd: %s", strerror(errno));
    pthread_mutex_lock(&f->mu);
    struct cw_dnsd_doh_req *r = f->ret;
    f->ret = NULL;
    bool stop = f->stop;
    pthread_mutex_unlock(&f->mu);
    while (r) {
        struct cw_dnsd_doh_req *next = r->next;
        struct conn *c = r->h2;
        c->pending--;
        if (c->state == S_H2) {
            cw_doh2_sess_answered(c->sess, r);
            conn_io(c);
        } else {
            req_free(r); /* the client has gone */
        }
        if (c->state == S_GONE && !c->pending)
            conn_free(c);
        r = next;
    }
    return stop;
}

static void sweep(struct cw_doh2_front *f, int64_t now)
{
    struct conn *c = f->conns, *next;
    for (; c; c = next) {
        next = c->next;
        if (c->state == S_GONE) {
            if (!c->pending)
                conn_free(c);
            continue;
        }
        if (now < c->deadline)
            continue;
        if (c->state == S_H2) {
            if (cw_doh2_sess_streams(c->sess) || c->pending)
                continue; /* requests in progress are not idle */
            cw_doh2_sess_goaway(c->sess);
            conn_io(c); /* best effort to send it */
        }
        conn_gone(c);
        if (!c->pending)
            conn_free(c);
    }
}

static void *front_main(void *arg)
{
    struct cw_doh2_front *f = arg;
    struct epoll_event ev[64];
    int64_t last = now_ms();
    for (;;) {
        int n = epoll_wait(f->ep, ev, 64, 500);
        for (int i = 0; i < n; i++) {
            struct tag *t = ev[i].data.ptr;
            if (t->kind == T_LISTEN)
                do_accept(f);
            else if (t->kind == T_EVENT) {
                if (take_returns(f))
                    return NULL;
            } else if (t->c->state != S_GONE)
                conn_io(t->c);
        }
        int64_t now = now_ms();
        if (now - last >= 500) {
            sweep(f, now);
            last = now;
        }
    }
}

struct cw_doh2_front *cw_doh2_front_start(struct cw_dnsd_doh_hub *hub, unsigned listener, int fd,
                                          const char *cert_pem, const char *key_pem,
                                          unsigned max_conns, cw_doh2_h1_fn h1, void *h1_arg,
                                          char *err, size_t errlen)
{
    struct cw_doh2_front *f = calloc(1, sizeof(*f));
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    f->hub = hub;
    f->listener = listener;
    f->max_conns = max_conns ? max_conns : 1;
    f->h1 = h1;
    f->h1_arg = h1_arg;
    f->lfd = fd;
    f->ep = epoll_create1(EPOLL_CLOEXEC);
    f->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    pthread_mutex_init(&f->mu, NULL);
    f->tl = (struct tag){T_LISTEN, NULL};
    f->te = (struct tag){T_EVENT, NULL};
    struct epoll_event el = {.events = EPOLLIN, .data.ptr = &f->tl};
    struct epoll_event ee = {.events = EPOLLIN, .data.ptr = &f->te};
    if (!(f->ctx = ctx_from_pem(cert_pem, key_pem, err, errlen)))
        goto fail;
    if (hub->pins && hub->pins->n) /* as DoT does: the same pins, the same code */
        cw_dnsd_tls_ctx_request_cert(f->ctx);
    if (f->ep < 0 || f->evfd < 0 || epoll_ctl(f->ep, EPOLL_CTL_ADD, fd, &el) ||
        epoll_ctl(f->ep, EPOLL_CTL_ADD, f->evfd, &ee) ||
        pthread_create(&f->th, NULL, front_main, f)) {
        snprintf(err, errlen, "cannot start DNS over HTTPS: %s", strerror(errno));
        goto fail;
    }
    return f;
fail:
    SSL_CTX_free(f->ctx);
    if (f->ep >= 0)
        close(f->ep);
    if (f->evfd >= 0)
        close(f->evfd);
    pthread_mutex_destroy(&f->mu);
    free(f);
    return NULL; /* fd stays the caller's */
}

void cw_doh2_front_stop(struct cw_doh2_front *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->mu);
    f->stop = true;
    pthread_mutex_unlock(&f->mu);
    uint64_t one = 1;
    if (write(f->evfd, &one, sizeof(one)) < 0)
        cw_debug("doh2 eventfd: %s", strerror(errno));
    pthread_join(f->th, NULL);
    /* answers that came back after the thread's last look */
    for (struct cw_dnsd_doh_req *r = f->ret, *next; r; r = next) {
        next = r->next;
        ((struct conn *)r->h2)->pending--;
        req_free(r);
    }
    while (f->conns) {
        conn_gone(f->conns);
        conn_free(f->conns);
    }
    close(f->lfd);
    close(f->ep);
    close(f->evfd);
    SSL_CTX_free(f->ctx);
    pthread_mutex_destroy(&f->mu);
    free(f);
}
