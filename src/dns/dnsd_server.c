/* dnsd_server.c - the resolver's event loop; see dnsd.h for the flow of a query. */
#include "dns/dnsd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <pwd.h>
#include <sodium.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/record.h"
#include "common/timefmt.h"
#include "dns/dns_msg.h"
#include "dns/dnsd_cache.h"
#include "dns/dnsd_doh.h"
#include "dns/dnstap.h"
#include "dns/dnsd_feed.h"
#include "dns/dnsd_metrics.h"
#include "dns/dnsd_nsinfo.h"
#include "dns/dnsd_policy.h"
#include "dns/dnsd_recursive.h"
#include "dns/dnsd_rrl.h"
#include "dns/dnsd_telemetry.h"
#include "dns/dnsd_tls.h"
#include "dns/rpz.h"
#include "ship/durable.h"
#include "ship/input.h" /* cw_net_parse_addr */
#include "common/banned.h"

#define MAX_EVENTS 256
#define TICK_MS 100
#define TCP_MSG_MAX 65535
#define MAX_ANSWER_IPS 64
#define UDP_BATCH 32            /* datagrams per recvmmsg / sendmmsg */
#define UDP_SLOT (TCP_MSG_MAX + 1) /* one received datagram (as recvfrom took it before) */
#define UDP_ANSWER_MAX 4096     /* every UDP answer fits: cw_dns_msg_udp_limit(m, <= 4096) */
#define QUERY_POOL 256          /* finished query structs kept for reuse */

enum hkind { H_UDP_LISTEN = 1, H_TCP_LISTEN, H_CONN, H_UPSTREAM, H_SIGNAL, H_RELOAD, H_DOH,
             H_FEED, H_REC, H_NS };

struct handle {
    enum hkind kind;
    int fd;
};

struct listener {
    struct handle h;
    struct cw_ip local;
    uint16_t port;
    uint8_t transport;        /* enum transport */
};

enum transport { TR_UDP = 0, TR_TCP, TR_TLS, TR_HTTPS };

struct conn {
    struct handle h;
    struct conn *prev, *next; /* all open connections */
    struct listener *l;
    struct sockaddr_storage peer;
    uint8_t *rbuf;            /* 2 + TCP_MSG_MAX */
    size_t rlen;
    struct cw_buf wbuf;
    size_t wpos;
    unsigned inflight;
    int64_t last_ms;
    bool eof, dead, want_out, reading;
    bool resume_queued;       /* on server.resume: parse what rbuf already holds */
    struct conn *resume_next;
    uint32_t events;          /* epoll interest as last set */
    /* DNS over TLS */
    SSL *ssl;
    bool handshake;           /* still in the TLS handshake */
    bool hs_want_write;
    bool r_wants_w;           /* SSL_read needs the socket writable */
    bool w_wants_r;           /* SSL_write needs the socket readable */
    int64_t hs_deadline_ms;
    int view;                 /* from the client certificate (--view-tls-cert), -1: by address */
};

struct server;

/* UDP batching. A readiness event on a UDP listener drains up to UDP_BATCH queries
 * with one recvmmsg; the answers the loop makes while handling them (cache hits,
 * policy answers, errors) are copied here and leave with one sendmmsg after the
 * batch. On loopback half of a query's kernel time was the two syscalls' entry and
 * exit and the wake-up of the client per datagram (docs/performance.md). Answers
 * made outside a batch (upstream replies) are sent at once. */
struct udp_batch {
    struct listener *l;       /* the listener being drained; NULL: not in a batch */
    unsigned nout;            /* answers queued */
    int64_t t0_us, ts_us;     /* when the batch arrived (monotonic, wall): its queries' */
    uint8_t *in_buf;          /* UDP_BATCH * UDP_SLOT, malloc'd (pages touched on use) */
    struct mmsghdr in[UDP_BATCH], out[UDP_BATCH];
    struct iovec in_iov[UDP_BATCH], out_iov[UDP_BATCH];
    struct sockaddr_storage in_peer[UDP_BATCH], out_peer[UDP_BATCH];
    uint8_t out_buf[UDP_BATCH][UDP_ANSWER_MAX];
};

struct query {
    struct handle h;          /* the upstream socket */
    struct query *prev, *next; /* in flight, in deadline order */
    struct cw_arena arena;
    int64_t t0_us, ts_us;
    /* client */
    bool tcp;                 /* a stream (TCP, TLS, HTTPS): no truncation */
    uint8_t transport;        /* enum transport */
    struct conn *conn;
    struct cw_dnsd_doh_req *doh; /* DoH: answered through it (then NULL) */
    struct listener *l;
    struct sockaddr_storage peer;
    socklen_t peerlen;
    struct cw_rpz_addr client;
    uint16_t view;
    uint8_t *qpkt;
    size_t qlen;
    struct cw_dns_msg *qm;
    struct cw_dnsd_policy *pol;
    bool passthru;
    bool no_rule;             /* the policy found no rule before resolution */
    const struct cw_rpz_match *pm; /* the PASSTHRU rule, recorded with the answer */
    /* upstream */
    uint8_t uq[CW_DNS_HDR_LEN + CW_DNS_NAME_MAX + 4 + 11];
    size_t uqlen;
    uint16_t uid;
    unsigned attempts;
    int64_t deadline_ms, sent_us;
    bool utcp, uconnected;
    size_t usent;
    uint8_t *ubuf;            /* TCP answer: 2 + TCP_MSG_MAX */
    size_t ulen;
    bool dead;
    /* recursive mode: the query libunbound works on (NULL: none) */
    struct cw_dnsd_rec_query *rq;
    /* NSDNAME/NSIP rules: the zone's name servers, and the wait for them */
    struct cw_dnsd_ns_set *ns;
    struct cw_dnsd_ns_wait *nsw;
    struct server *srv;
};

struct server {
    const struct cw_dnsd_config *cfg;
    int ep;
    struct listener *ls;
    size_t nls;
    struct sockaddr_storage up[CW_DNSD_MAX_ADDRS];
    socklen_t uplen[CW_DNSD_MAX_ADDRS];
    size_t nup;
    struct handle sig, reload_ev;
    int metrics_fd;
    SSL_CTX *tls_ctx;
    struct cw_dnsd_rrl *rrl;
    uint64_t sample_n;        /* unblocked answers seen, for 1-in-N sampling */
    uint8_t *redact;          /* [nviews] enum cw_dnsd_redact */
    struct cw_dnsd_doh_hub doh_hub;
    struct handle doh_ev;
    bool doh_hub_ok;
    struct cw_dnsd_doh *doh[CW_DNSD_MAX_ADDRS];
    struct listener *doh_l;   /* one per --doh-listen (no fd: libmicrohttpd owns it) */
    int doh_fd[CW_DNSD_MAX_ADDRS];
    struct cw_dnsd_views views;
    struct cw_dnsd_policy *pol;
    _Atomic(struct cw_dnsd_policy *) next_pol;
    _Atomic bool reloading;
    /* policy publishing (reload thread, feed thread): pub_mu orders them, latest is
     * the newest policy either made, so each builds on the other's part */
    pthread_mutex_t pub_mu;
    struct cw_dnsd_policy *latest;
    struct cw_dnsd_feed *feed;
    struct handle feed_ev;
    struct cw_dnsd_rec *rec;  /* recursive mode (libunbound), or NULL: forward mode */
    struct handle rec_h;
    struct cw_dnsd_ns *ns;    /* NS sets for NSDNAME/NSIP (dnsd_nsinfo.h), or NULL */
    struct cw_dnsd_tls_pins *pins; /* DoT/DoH client certificates -> views, or NULL */
    struct query *nswait;     /* queries waiting for an NS set (linked by prev/next) */
    struct handle ns_h;
    pthread_t reload_thread;
    bool reload_joinable;
    struct cw_dnsd_cache cache;
    struct cw_dnsd_metrics met;
    struct cw_dnsd_tel *tel;
    struct cw_dnstap *tap;    /* dnstap output, or NULL */
    struct query *qhead, *qtail;
    uint64_t inflight;
    struct conn *conns;
    uint64_t nconns;
    struct query *dead_q;     /* freed after the current batch of events */
    struct conn *dead_c;
    struct conn *resume;      /* connections whose reading was re-enabled */
    bool running;
    uint8_t out[2 + TCP_MSG_MAX + 512];
    uint8_t rx[TCP_MSG_MAX + 1];
    uint8_t hit[TCP_MSG_MAX]; /* a cache hit's answer (send_relayed copies it to out) */
    unsigned list_idx[CW_DNSD_MAX_RPZ * 4];
    struct list_memo {        /* the metrics list of a zone (cw_dnsd_metrics_list takes a */
        uint64_t gen;         /* mutex and compares names): valid while policy gen lives, */
        const void *zone;     /* which keeps the zone (and its address) alive */
        unsigned idx;
    } list_memo[8];
    unsigned list_memo_next;
    struct udp_batch ub;
    struct query *free_q;     /* finished queries kept for reuse (arena's first chunk too) */
    unsigned nfree_q;
};

void cw_dnsd_config_default(struct cw_dnsd_config *c)
{
    memset(c, 0, sizeof(*c));
    c->state_dir = "/var/lib/crosswatch/dns";
    c->spool_max = 1ull << 30;
    c->batch_lines = 5000;
    c->flush_ms = 1000;
    c->cache_entries = 100000;
    c->max_ttl = 86400;
    c->stale_ms = 86400 * 1000LL;
    c->upstream_timeout_ms = 1500;
    c->tcp_idle_ms = 10000;
    c->tcp_max_conns = 1000;
    c->tcp_max_inflight = 64;
    c->max_inflight = 10000;
    c->udp_size = 1232;
    c->tls_handshake_ms = 5000;
    c->doh_max_conns = 1000;
    c->recursive_timeout_ms = 10000;
    c->rrl_slip = 2;
    c->rrl_entries = 100000;
}

/* -- small helpers ---------------------------------------------------------- */

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sa_to_addr(const struct sockaddr_storage *ss, struct cw_rpz_addr *a, struct cw_ip *ip,
                       uint16_t *port)
{
    memset(a, 0, sizeof(*a));
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)ss;
        a->family = 4;
        memcpy(a->addr, &v4->sin_addr, 4);
        if (port)
            *port = ntohs(v4->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)ss;
        a->family = 6;
        memcpy(a->addr, &v6->sin6_addr, 16);
        if (port)
            *port = ntohs(v6->sin6_port);
        /* a v4-mapped client is a v4 client for views and policy */
        if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)) {
            a->family = 4;
            memmove(a->addr, a->addr + 12, 4);
            memset(a->addr + 4, 0, 12);
        }
    }
    if (ip) {
        memset(ip, 0, sizeof(*ip));
        ip->family = a->family;
        memcpy(ip->a, a->addr, 16);
    }
}

static const char *qtype_name(uint16_t t, char *buf, size_t cap)
{
    switch (t) {
    case 1: return "A";
    case 2: return "NS";
    case 5: return "CNAME";
    case 6: return "SOA";
    case 12: return "PTR";
    case 15: return "MX";
    case 16: return "TXT";
    case 28: return "AAAA";
    case 33: return "SRV";
    case 35: return "NAPTR";
    case 43: return "DS";
    case 48: return "DNSKEY";
    case 64: return "SVCB";
    case 65: return "HTTPS";
    case 99: return "SPF";
    case 255: return "ANY";
    case 10: return "NULL";
    case 257: return "CAA";
    default: snprintf(buf, cap, "TYPE%u", t); return buf;
    }
}

static const char *rcode_name(unsigned r)
{
    static const char *const n[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",
                                    "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH",
                                    "NOTZONE"};
    return r < sizeof(n) / sizeof(n[0]) ? n[r] : "RCODE";
}

static int ep_add(struct server *s, struct handle *h, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = h};
    return epoll_ctl(s->ep, EPOLL_CTL_ADD, h->fd, &ev);
}

static void ep_mod(struct server *s, struct handle *h, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = h};
    epoll_ctl(s->ep, EPOLL_CTL_MOD, h->fd, &ev);
}

/* The epoll interest of a client connection from its state: reading (unless paused
 * by the pipeline limit or ended), writing while answers wait, and for TLS the
 * direction a blocked handshake/read/write waits for. */
static void conn_events(struct server *s, struct conn *c)
{
    uint32_t ev = 0;
    if (c->handshake) {
        ev = c->hs_want_write ? EPOLLOUT : EPOLLIN;
    } else {
        if (c->reading || c->w_wants_r)
            ev |= EPOLLIN;
        if (c->want_out || c->r_wants_w)
            ev |= EPOLLOUT;
    }
    if (ev != c->events) {
        c->events = ev;
        ep_mod(s, &c->h, ev);
    }
}

/* -- telemetry ---------------------------------------------------------------- */

struct outcome {
    const char *rcode;
    const char *cache;            /* hit, miss, stale, none */
    const struct cw_rpz_match *m; /* applied policy or NULL */
    const uint8_t *answer;        /* message sent (for the answers field) */
    size_t answer_len;
};

static void answers_text(const uint8_t *pkt, size_t len, struct cw_buf *out)
{
    static __thread struct cw_dns_msg m;
    if (!pkt || cw_dns_msg_parse(&m, pkt, len))
        return;
    char text[CW_DNS_TEXT_MAX];
    for (unsigned i = 0; i < m.nrr; i++) {
        const struct cw_dns_rr *rr = &m.rr[i];
        if (rr->section != CW_DNS_SEC_AN)
            continue;
        const uint8_t *rd = pkt + rr->rdata_off;
        text[0] = '\0';
        if (rr->type == CW_DNS_T_A && rr->rdlen == 4)
            inet_ntop(AF_INET, rd, text, sizeof(text));
        else if (rr->type == CW_DNS_T_AAAA && rr->rdlen == 16)
            inet_ntop(AF_INET6, rd, text, sizeof(text));
        else if (rr->type == CW_DNS_T_CNAME) {
            uint8_t w[CW_DNS_NAME_MAX];
            size_t wl;
            if (cw_dns_name_unpack(pkt, len, rr->rdata_off, false, w, &wl, NULL) ||
                cw_dns_name_to_text(w, wl, text, sizeof(text)) < 0)
                text[0] = '\0';
        }
        if (!text[0])
            continue;
        if (out->len)
            cw_buf_addc(out, ',');
        cw_buf_adds(out, text);
    }
}

/* The client address as the view's --redact-clients mode shows it: truncate keeps
 * the /24 (IPv4) or /48 (IPv6); hash replaces it by fd00::/8 + the first 15 bytes
 * of keyed BLAKE2b-128(family byte || address) - a stable pseudonym that only the
 * key's holder can link to an address. Both drop the client port. */
static void redact_client(const struct server *s, uint16_t view, struct cw_ip *ip, uint16_t *port)
{
    int mode = s->redact && view < s->views.nviews ? s->redact[view] : CW_REDACT_NONE;
    if (mode == CW_REDACT_NONE)
        return;
    *port = 0;
    if (mode == CW_REDACT_TRUNCATE) {
        if (ip->family == 4)
            ip->a[3] = 0;
        else
            memset(ip->a + 6, 0, 10);
        return;
    }
    uint8_t in[17], h[16];
    in[0] = ip->family;
    size_t n = ip->family == 4 ? 4 : 16;
    memcpy(in + 1, ip->a, n);
    crypto_generichash(h, sizeof(h), in, n + 1, s->cfg->redact_key, s->cfg->redact_key_len);
    ip->family = 6;
    ip->a[0] = 0xfd;
    memcpy(ip->a + 1, h, 15);
}

static void record(struct server *s, struct query *q, const struct outcome *o)
{
    if (!s->tel)
        return;
    int64_t lat = mono_us() - q->t0_us;
    /* privacy: 1 record in `sample`, but every policy hit (counted, not random, so
     * the share is exact) */
    if (!o->m && s->cfg->sample > 1 && s->sample_n++ % s->cfg->sample != 0) {
        atomic_fetch_add_explicit(&s->met.sampled_out, 1, memory_order_relaxed);
        return;
    }
    char qn[CW_DNS_TEXT_MAX], tb[16];
    int qnl = cw_dns_name_to_text(q->qm->qname, q->qm->qname_len, qn, sizeof(qn));
    struct cw_buf ans = CW_BUF_INIT;
    answers_text(o->answer, o->answer_len, &ans);
    struct cw_ip cip, sip;
    uint16_t cport = 0;
    struct cw_rpz_addr tmp;
    sa_to_addr(&q->peer, &tmp, &cip, &cport);
    redact_client(s, q->view, &cip, &cport);
    sip = q->l->local;
    struct cw_dnsd_tel_query t = {
        .ts_us = q->ts_us, .client = &cip, .server = &sip, .client_port = cport,
        .server_port = q->l->port, .tcp = q->tcp, .id = q->qm->id,
        .qname = qn, .qname_len = qnl > 0 ? (size_t)qnl : 0,
        .qtype = qtype_name(q->qm->qtype, tb, sizeof(tb)), .rcode = o->rcode,
        .answers = ans.data, .answers_len = ans.len, .view = s->views.names[q->view],
        .cache = o->cache, .latency_us = lat};
    if (o->m) {
        t.policy = cw_rpz_action_name(o->m->action);
        t.policy_zone = o->m->zone_name;
        t.trigger = cw_rpz_trigger_name(o->m->trigger);
        t.indicator = o->m->rule;
    }
    cw_dnsd_tel_add(s->tel, &t);
    cw_buf_release(&ans);
}

/* -- sending answers ------------------------------------------------------------ */

static void conn_flush(struct server *s, struct conn *c);
static void conn_close(struct server *s, struct conn *c);

/* Off the list of queries waiting for an NS set (they are on no in-flight list). */
static void ns_unwait(struct server *s, struct query *q)
{
    if (q->prev)
        q->prev->next = q->next;
    else
        s->nswait = q->next;
    if (q->next)
        q->next->prev = q->prev;
    q->prev = q->next = NULL;
}

static void query_free(struct server *s, struct query *q)
{
    if (q->nsw) { /* waiting for an NS set (shutdown) */
        cw_dnsd_ns_cancel(s->ns, q->nsw);
        q->nsw = NULL;
        ns_unwait(s, q);
    }
    if (q->rq) { /* recursion still running (shutdown): libunbound must not call back */
        cw_dnsd_rec_cancel(s->rec, q->rq);
        q->rq = NULL;
    }
    if (q->h.fd >= 0) {
        close(q->h.fd);
        q->h.fd = -1;
    }
    if (q->prev || s->qhead == q) { /* unlink from the in-flight list */
        if (q->prev)
            q->prev->next = q->next;
        else
            s->qhead = q->next;
        if (q->next)
            q->next->prev = q->prev;
        else
            s->qtail = q->prev;
        q->prev = q->next = NULL;
        s->inflight--;
    }
    if (q->conn) {
        q->conn->inflight--;
        struct conn *c = q->conn;
        q->conn = NULL;
        if (!c->reading && !c->dead && !c->eof) { /* room for more pipelined queries */
            c->reading = true;
            conn_events(s, c);
            /* queries already buffered (for TLS maybe inside OpenSSL: no epoll event) */
            if ((c->rlen >= 2 || c->ssl) && !c->resume_queued) {
                c->resume_queued = true;
                c->resume_next = s->resume;
                s->resume = c;
            }
        } else if (c->eof && !c->dead && !c->inflight && c->wpos == c->wbuf.len) {
            conn_close(s, c); /* the client closed its side and has every answer */
        }
    }
    if (q->doh) { /* nothing was sent (DROP): the HTTP request still gets its answer */
        cw_dnsd_doh_answer(q->doh, NULL, 0);
        q->doh = NULL;
    }
    cw_dnsd_ns_set_unref(q->ns);
    q->ns = NULL;
    cw_dnsd_policy_unref(q->pol);
    q->pol = NULL;
    q->dead = true;
    /* the struct itself is freed after this batch of events (epoll may still
     * hold an event pointing at it) */
    q->next = s->dead_q;
    s->dead_q = q;
}

/* Send msg[0..len) to the client of q (len 0: nothing, the query is dropped). */
/* dnstap: a client message of q (the response with its query). Only enqueued for
 * fstrm's thread, never waited for; drops are counted in the metrics. */
static void tap_client(struct server *s, struct query *q, enum cw_dnstap_type type,
                       const uint8_t *msg, size_t len)
{
    static const uint8_t proto[] = {CW_TAP_UDP, CW_TAP_TCP, CW_TAP_DOT, CW_TAP_DOH};
    struct cw_dnstap_addr client, local = {.family = q->l->local.family, .port = q->l->port};
    cw_dnstap_addr_from_sa(&client, &q->peer);
    memcpy(local.a, q->l->local.a, sizeof(local.a));
    cw_dnstap_log(s->tap, type, proto[q->transport & 3], &client, &local, q->qpkt, q->qlen, msg,
                  len);
}

/* dnstap: our query to upstream i, or its answer */
static void tap_upstream(struct server *s, struct query *q, size_t i, enum cw_dnstap_type type,
                         const uint8_t *msg, size_t len)
{
    struct cw_dnstap_addr up;
    cw_dnstap_addr_from_sa(&up, &s->up[i]);
    bool query = type == CW_TAP_FORWARDER_QUERY;
    cw_dnstap_log(s->tap, type, q->utcp ? CW_TAP_TCP : CW_TAP_UDP, NULL, &up, q->uq, q->uqlen,
                  query ? NULL : msg, query ? 0 : len);
}

/* Send every queued UDP answer of the batch. A datagram the kernel refuses is
 * dropped, as sendto's failure was before; the rest still go. */
static void udp_flush(struct server *s)
{
    struct udp_batch *b = &s->ub;
    unsigned off = 0;
    while (off < b->nout) {
        int r = sendmmsg(b->l->h.fd, b->out + off, b->nout - off, MSG_DONTWAIT);
        if (r > 0)
            off += (unsigned)r;
        else if (errno != EINTR)
            off++;
    }
    b->nout = 0;
}

static void udp_send(struct server *s, struct listener *l, const uint8_t *msg, size_t len,
                     const struct sockaddr_storage *peer, socklen_t peerlen)
{
    struct udp_batch *b = &s->ub;
    if (b->l != l || len > UDP_ANSWER_MAX) {
        sendto(l->h.fd, msg, len, MSG_DONTWAIT, (const struct sockaddr *)peer, peerlen);
        return;
    }
    unsigned i = b->nout++;
    memcpy(b->out_buf[i], msg, len);
    memcpy(&b->out_peer[i], peer, peerlen);
    b->out_iov[i].iov_len = len;
    b->out[i].msg_hdr.msg_namelen = peerlen;
    if (b->nout == UDP_BATCH)
        udp_flush(s);
}

static void send_answer(struct server *s, struct query *q, uint8_t *msg, size_t len)
{
    if (len >= CW_DNS_HDR_LEN)
        atomic_fetch_add_explicit(&s->met.rcode[msg[3] & 0x0f], 1, memory_order_relaxed);
    if (!len)
        return;
    if (s->tap)
        tap_client(s, q, CW_TAP_CLIENT_RESPONSE, msg, len);
    if (q->doh) {
        cw_dnsd_doh_answer(q->doh, msg, len);
        q->doh = NULL;
        return;
    }
    if (!q->tcp) {
        udp_send(s, q->l, msg, len, &q->peer, q->peerlen);
        return;
    }
    struct conn *c = q->conn;
    if (!c || c->dead)
        return;
    uint8_t pre[2] = {(uint8_t)(len >> 8), (uint8_t)len};
    cw_buf_add(&c->wbuf, pre, 2);
    cw_buf_add(&c->wbuf, msg, len);
    conn_flush(s, c);
}

/* A client that sent no EDNS must get no OPT RR (RFC 6891 7): drop it when it is
 * the last RR (where every server puts it); otherwise leave the message alone. */
static size_t strip_opt(uint8_t *o, size_t len)
{
    static __thread struct cw_dns_msg m;
    if (cw_dns_msg_parse(&m, o, len) || !m.edns.present || m.edns.rr_index + 1u != m.nrr ||
        m.arcount == 0)
        return len;
    uint16_t ar = (uint16_t)(m.arcount - 1);
    o[10] = (uint8_t)(ar >> 8);
    o[11] = (uint8_t)ar;
    return m.rr[m.edns.rr_index].name_off;
}

static void send_rcode(struct server *s, struct query *q, int rcode, const char *cache);

/* Answer of an upstream or the cache: id, truncation for UDP, then send. */
static void send_relayed(struct server *s, struct query *q, const uint8_t *pkt, size_t len,
                         const char *cache, const struct cw_rpz_match *m)
{
    uint8_t *o = s->out;
    if (len > TCP_MSG_MAX)
        len = TCP_MSG_MAX;
    memcpy(o, pkt, len);
    cw_dns_set_id(o, len, q->qm->id);
    /* we are a recursive service, not the authority: AA off, RA on */
    o[2] &= (uint8_t)~(CW_DNS_F_AA >> 8);
    o[3] |= (uint8_t)CW_DNS_F_RA;
    if (!q->qm->edns.present)
        len = strip_opt(o, len);
    if (!q->tcp) {
        size_t lim = cw_dns_msg_udp_limit(q->qm, s->cfg->udp_size > 512 ? 4096 : 512);
        size_t nl = len;
        if (len > lim) {
            if (cw_dns_truncate(o, len, lim, &nl) != 0) {
                /* no truncated form exists (a question name pointing into the cut
                 * records): a UDP client must not get more than it can take */
                send_rcode(s, q, CW_DNS_R_SERVFAIL, cache);
                return;
            }
            len = nl;
        }
    }
    send_answer(s, q, o, len);
    struct outcome oc = {rcode_name(len >= 4 ? o[3] & 0x0f : 2), cache, m, o, len};
    record(s, q, &oc);
}

static void send_rcode(struct server *s, struct query *q, int rcode, const char *cache)
{
    size_t n = 0;
    size_t lim = q->tcp ? TCP_MSG_MAX : cw_dns_msg_udp_limit(q->qm, 4096);
    if (cw_dns_reply_rcode(s->out, sizeof(s->out), lim, q->qm, rcode, -1, NULL, &n))
        n = 0;
    send_answer(s, q, s->out, n);
    struct outcome oc = {rcode_name((unsigned)rcode), cache, NULL, NULL, 0};
    record(s, q, &oc);
}

/* Answer from a policy rule. Returns false when the rule means "resolve normally"
 * (PASSTHRU, TCP-ONLY over TCP). */
/* The metrics list index of the zone m matched in (under policy p). */
static unsigned list_of(struct server *s, const struct cw_dnsd_policy *p,
                        const struct cw_rpz_match *m)
{
    if (m->zone_index >= sizeof(s->list_idx) / sizeof(s->list_idx[0]))
        return CW_DNSD_MAX_LISTS;
    uint64_t gen = p ? p->gen : 0;
    const void *zone = m->zone ? (const void *)m->zone : (const void *)m->zone_name;
    for (unsigned i = 0; gen && zone && i < 8; i++)
        if (s->list_memo[i].gen == gen && s->list_memo[i].zone == zone)
            return s->list_memo[i].idx;
    unsigned idx = cw_dnsd_metrics_list(&s->met, m->zone_name ? m->zone_name : "?");
    if (gen && zone)
        s->list_memo[s->list_memo_next++ % 8] = (struct list_memo){gen, zone, idx};
    return idx;
}

static bool apply_policy(struct server *s, struct query *q, const struct cw_rpz_match *m,
                         bool filtered)
{
    if (m->action == CW_RPZ_ACT_PASSTHRU || m->action == CW_RPZ_ACT_NONE)
        return false;
    if (m->action == CW_RPZ_ACT_TCP_ONLY && q->tcp)
        return false;
    unsigned li = list_of(s, q->pol, m);
    if (q->view < CW_DNSD_MAX_VIEWS)
        atomic_fetch_add_explicit(&s->met.blocks[q->view][li], 1, memory_order_relaxed);
    if (m->action == CW_RPZ_ACT_DROP) {
        atomic_fetch_add_explicit(&s->met.dropped[CW_DROP_POLICY], 1, memory_order_relaxed);
        struct outcome oc = {"DROP", "none", m, NULL, 0};
        record(s, q, &oc);
        return true;
    }
    size_t lim = q->tcp ? TCP_MSG_MAX : cw_dns_msg_udp_limit(q->qm, 4096);
    struct cw_dns_builder b;
    int rcode = m->action == CW_RPZ_ACT_NXDOMAIN ? CW_DNS_R_NXDOMAIN : CW_DNS_R_NOERROR;
    size_t n = 0;
    if (cw_dns_build_reply(&b, s->out, sizeof(s->out), lim, q->qm, rcode, CW_DNS_F_RA,
                           s->cfg->udp_size)) {
        send_rcode(s, q, CW_DNS_R_SERVFAIL, "none");
        return true;
    }
    char ede[512];
    size_t el = cw_rpz_match_ede_text(m, ede, sizeof(ede));
    if (m->action != CW_RPZ_ACT_TCP_ONLY)
        cw_dns_build_ede(&b, filtered ? CW_DNS_EDE_FILTERED : CW_DNS_EDE_BLOCKED, ede, el, false);
    if (m->action == CW_RPZ_ACT_LOCAL_DATA) {
        for (size_t i = 0; i < m->nrr; i++) {
            const struct cw_rpz_rr *rr = &m->rrs[i];
            if (rr->type == q->qm->qtype || rr->type == CW_DNS_T_CNAME ||
                q->qm->qtype == CW_DNS_T_ANY)
                cw_dns_build_rr(&b, CW_DNS_SEC_AN, q->qm->qname, q->qm->qname_len, rr->type,
                                rr->ttl, rr->rdata, rr->rdlen);
        }
    } else if (m->action == CW_RPZ_ACT_CNAME) {
        uint8_t t[255];
        size_t tl;
        if (cw_rpz_cname_target(m, q->qm->qname, q->qm->qname_len, t, &tl) == 0)
            cw_dns_build_cname(&b, 300, t, tl);
        else
            b.buf[3] = (uint8_t)((b.buf[3] & 0xf0) | CW_DNS_R_NXDOMAIN);
    }
    if (cw_dns_build_finish(&b, &n)) {
        send_rcode(s, q, CW_DNS_R_SERVFAIL, "none");
        return true;
    }
    if (m->action == CW_RPZ_ACT_TCP_ONLY)
        s->out[2] |= (uint8_t)(CW_DNS_F_TC >> 8); /* "ask me again over TCP" */
    send_answer(s, q, s->out, n);
    struct outcome oc = {rcode_name((unsigned)(s->out[3] & 0x0f)), "none", m, s->out, n};
    record(s, q, &oc);
    return true;
}

/* RPZ-IP (and the rest of the precedence) over an answer's addresses. Returns
 * true when a rule answered instead. */
static bool policy_on_answer(struct server *s, struct query *q, const uint8_t *pkt, size_t len)
{
    /* without RPZ-IP rules no answer can change the verdict: skip the re-parse
     * (4% of the cached path in the bench_dns profile) */
    if (!q->pol || q->passthru || q->pol->ip_rules == 0)
        return false;
    static __thread struct cw_dns_msg m;
    if (cw_dns_msg_parse(&m, pkt, len))
        return false;
    struct cw_rpz_addr ips[MAX_ANSWER_IPS];
    size_t n = 0;
    for (unsigned i = 0; i < m.nrr && n < MAX_ANSWER_IPS; i++) {
        const struct cw_dns_rr *rr = &m.rr[i];
        if (rr->section != CW_DNS_SEC_AN)
            continue;
        if (rr->type == CW_DNS_T_A && rr->rdlen == 4) {
            memset(&ips[n], 0, sizeof(ips[n]));
            ips[n].family = 4;
            memcpy(ips[n++].addr, pkt + rr->rdata_off, 4);
        } else if (rr->type == CW_DNS_T_AAAA && rr->rdlen == 16) {
            ips[n].family = 6;
            memcpy(ips[n++].addr, pkt + rr->rdata_off, 16);
        }
    }
    if (n == 0)
        return false;
    struct cw_rpz_query rq = {.client = &q->client, .qname = q->qm->qname,
                              .qname_len = q->qm->qname_len, .answer_ips = ips,
                              .n_answer_ips = n};
    cw_dnsd_ns_fill(q->ns, &rq);
    struct cw_rpz_match *mt = cw_arena_alloc(&q->arena, sizeof(*mt));
    bool filtered;
    if (!mt || !cw_dnsd_policy_evaluate(q->pol, q->view, &rq, mt, &filtered))
        return false;
    return apply_policy(s, q, mt, filtered);
}

/* -- upstreams -------------------------------------------------------------------- */

static void upstream_start(struct server *s, struct query *q);

static void inflight_unlink(struct server *s, struct query *q)
{
    if (!(q->prev || s->qhead == q))
        return;
    if (q->prev)
        q->prev->next = q->next;
    else
        s->qhead = q->next;
    if (q->next)
        q->next->prev = q->prev;
    else
        s->qtail = q->prev;
    q->prev = q->next = NULL;
    s->inflight--;
}

static void inflight_append(struct server *s, struct query *q)
{
    q->prev = s->qtail;
    q->next = NULL;
    if (s->qtail)
        s->qtail->next = q;
    else
        s->qhead = q;
    s->qtail = q;
    s->inflight++;
}

static void upstream_close(struct server *s, struct query *q)
{
    if (q->h.fd >= 0) {
        epoll_ctl(s->ep, EPOLL_CTL_DEL, q->h.fd, NULL);
        close(q->h.fd);
        q->h.fd = -1;
    }
}

/* Every upstream failed: serve stale (RFC 8767) or SERVFAIL. */
static void upstream_give_up(struct server *s, struct query *q)
{
    struct cw_dnsd_cache_key k = {q->qm->qname, q->qm->qname_len, q->qm->qtype, q->qm->qclass,
                                  q->view};
    uint8_t *buf = cw_arena_alloc(&q->arena, TCP_MSG_MAX);
    size_t n = buf ? cw_dnsd_cache_get_stale(&s->cache, &k, q->qm->id, cw_monotonic_ms(), buf,
                                             TCP_MSG_MAX)
                   : 0;
    if (n) {
        atomic_fetch_add_explicit(&s->met.cache_stale, 1, memory_order_relaxed);
        if (!policy_on_answer(s, q, buf, n))
            send_relayed(s, q, buf, n, "stale", q->pm);
    } else {
        send_rcode(s, q, CW_DNS_R_SERVFAIL, "miss");
    }
    query_free(s, q);
}

static void upstream_failed(struct server *s, struct query *q, const char *why)
{
    atomic_fetch_add_explicit(&s->met.upstream_failures, 1, memory_order_relaxed);
    if (s->rec) { /* recursive mode: libunbound already retried; serve stale or SERVFAIL */
        cw_debug("recursion failed: %s", why);
        if (q->rq) {
            cw_dnsd_rec_cancel(s->rec, q->rq);
            q->rq = NULL;
        }
        inflight_unlink(s, q);
        upstream_give_up(s, q);
        return;
    }
    cw_debug("upstream attempt %u failed: %s", q->attempts, why);
    upstream_close(s, q);
    inflight_unlink(s, q);
    q->utcp = false;
    if (q->attempts < (s->nup < 2 ? 2 : s->nup))
        upstream_start(s, q);
    else
        upstream_give_up(s, q);
}

/* The policy's generation when its verdict before resolution depends on nothing
 * but (view, qname) - no CLIENT-IP rules, no NSDNAME/NSIP rules - so that "no rule"
 * can be remembered with a cached answer (dnsd_cache.h tags); 0 otherwise. RPZ-IP
 * rules are unaffected: they are checked on every answer (policy_on_answer). */
static uint64_t verdict_gen(const struct cw_dnsd_policy *p)
{
    return p && !p->client_rules && !p->ns_rules ? p->gen : 0;
}

/* An answer from an upstream or from libunbound: cache it, apply RPZ-IP, answer. */
static void answer_resolved(struct server *s, struct query *q, const uint8_t *pkt, size_t len)
{
    cw_dnsd_metrics_latency(&s->met, mono_us() - q->sent_us);
    inflight_unlink(s, q);
    struct cw_dnsd_cache_key k = {q->qm->qname, q->qm->qname_len, q->qm->qtype, q->qm->qclass,
                                  q->view};
    int64_t now_ms = cw_monotonic_ms();
    if (cw_dnsd_cache_put(&s->cache, &k, pkt, len, now_ms) > 0) {
        atomic_store_explicit(&s->met.cache_entries, s->cache.n, memory_order_relaxed);
        uint64_t gen = verdict_gen(q->pol);
        struct cw_dnsd_cache_entry *e = gen && q->no_rule ? cw_dnsd_cache_find(&s->cache, &k, now_ms)
                                                         : NULL;
        if (e)
            cw_dnsd_cache_set_tag(e, gen);
    }
    if (!policy_on_answer(s, q, pkt, len))
        send_relayed(s, q, pkt, len, "miss", q->pm);
    query_free(s, q);
}

/* libunbound's answer (dnsd_recursive.h), delivered on the loop's thread. */
static void rec_answer(void *ctx, const uint8_t *pkt, size_t len, const char *why)
{
    struct query *q = ctx;
    struct server *s = q->srv;
    q->rq = NULL;
    static __thread struct cw_dns_msg m;
    if (pkt && (cw_dns_msg_parse(&m, pkt, len) || !m.has_question ||
                m.qtype != q->qm->qtype || m.qname_len != q->qm->qname_len ||
                memcmp(m.qname, q->qm->qname, m.qname_len)))
        why = "an answer that does not match the question";
    else if (pkt && m.rcode == CW_DNS_R_SERVFAIL)
        why = "SERVFAIL";
    if (!pkt || why) {
        upstream_failed(s, q, why ? why : "no answer");
        return;
    }
    answer_resolved(s, q, pkt, len);
}

static void rec_start(struct server *s, struct query *q)
{
    q->srv = s;
    q->sent_us = mono_us();
    q->deadline_ms = cw_monotonic_ms() + s->cfg->recursive_timeout_ms;
    inflight_append(s, q);
    atomic_fetch_add_explicit(&s->met.upstream_queries, 1, memory_order_relaxed);
    if (cw_dnsd_rec_resolve(s->rec, q->qm->qname, q->qm->qname_len, q->qm->qtype, q->qm->qclass,
                            rec_answer, q, &q->rq))
        upstream_failed(s, q, "libunbound refused the query");
}

static void upstream_answer(struct server *s, struct query *q, const uint8_t *pkt, size_t len)
{
    static __thread struct cw_dns_msg m;
    if (cw_dns_msg_parse(&m, pkt, len) || !(m.flags & CW_DNS_F_QR) || m.id != q->uid ||
        !m.has_question || m.qtype != q->qm->qtype || m.qclass != q->qm->qclass ||
        m.qname_len != q->qm->qname_len || memcmp(m.qname, q->qm->qname, m.qname_len)) {
        cw_debug("ignored an upstream answer that does not match the query");
        return; /* not ours (spoofed, late): keep waiting */
    }
    if (s->tap)
        tap_upstream(s, q, (q->attempts - 1) % s->nup, CW_TAP_FORWARDER_RESPONSE, pkt, len);
    if ((m.flags & CW_DNS_F_TC) && !q->utcp) { /* RFC 7766: retry over TCP */
        atomic_fetch_add_explicit(&s->met.upstream_tc, 1, memory_order_relaxed);
        upstream_close(s, q);
        inflight_unlink(s, q);
        q->utcp = true;
        q->attempts--; /* same upstream, other transport */
        upstream_start(s, q);
        return;
    }
    if (m.rcode == CW_DNS_R_SERVFAIL || m.rcode == CW_DNS_R_REFUSED) {
        upstream_failed(s, q, rcode_name(m.rcode));
        return;
    }
    upstream_close(s, q);
    answer_resolved(s, q, pkt, len);
}

/* Our own query to the upstream: RD, the question, EDNS with our UDP size. */
static void build_upstream_query(struct server *s, struct query *q)
{
    uint8_t *p = q->uq;
    uint16_t id;
    if (getrandom(&id, sizeof(id), GRND_NONBLOCK) != sizeof(id))
        id = (uint16_t)(mono_us() ^ (uintptr_t)q);
    q->uid = id;
    uint16_t flags = CW_DNS_F_RD | (q->qm->flags & CW_DNS_F_CD);
    uint8_t hdr[12] = {(uint8_t)(id >> 8), (uint8_t)id, (uint8_t)(flags >> 8), (uint8_t)flags,
                       0, 1, 0, 0, 0, 0, 0, 1};
    memcpy(p, hdr, 12);
    size_t n = 12;
    memcpy(p + n, q->qm->qname, q->qm->qname_len);
    n += q->qm->qname_len;
    uint8_t tail[4 + 11] = {(uint8_t)(q->qm->qtype >> 8), (uint8_t)q->qm->qtype,
                            (uint8_t)(q->qm->qclass >> 8), (uint8_t)q->qm->qclass,
                            0, 0, 41, (uint8_t)(s->cfg->udp_size >> 8), (uint8_t)s->cfg->udp_size,
                            0, 0, 0, 0, 0, 0};
    memcpy(p + n, tail, sizeof(tail));
    q->uqlen = n + sizeof(tail);
}

static void upstream_start(struct server *s, struct query *q)
{
    size_t i = q->attempts % s->nup;
    q->attempts++;
    if (!q->uqlen || !q->utcp)
        build_upstream_query(s, q);
    const struct sockaddr_storage *ua = &s->up[i];
    int fd = socket(ua->ss_family, (q->utcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK |
                                      SOCK_CLOEXEC, 0);
    if (fd < 0) {
        q->h.fd = -1;
        inflight_append(s, q);
        upstream_failed(s, q, strerror(errno));
        return;
    }
    q->h.kind = H_UPSTREAM;
    q->h.fd = fd;
    q->usent = 0;
    q->ulen = 0;
    q->uconnected = false;
    q->sent_us = mono_us();
    q->deadline_ms = cw_monotonic_ms() + s->cfg->upstream_timeout_ms;
    inflight_append(s, q);
    atomic_fetch_add_explicit(&s->met.upstream_queries, 1, memory_order_relaxed);
    if (s->tap)
        tap_upstream(s, q, i, CW_TAP_FORWARDER_QUERY, NULL, 0);
    int c = connect(fd, (const struct sockaddr *)ua, s->uplen[i]);
    if (c && errno != EINPROGRESS) {
        upstream_failed(s, q, strerror(errno));
        return;
    }
    if (!q->utcp) {
        if (send(fd, q->uq, q->uqlen, 0) != (ssize_t)q->uqlen) {
            upstream_failed(s, q, strerror(errno));
            return;
        }
        ep_add(s, &q->h, EPOLLIN);
        return;
    }
    if (!q->ubuf && !(q->ubuf = cw_arena_alloc(&q->arena, 2 + TCP_MSG_MAX))) {
        upstream_failed(s, q, "out of memory");
        return;
    }
    ep_add(s, &q->h, EPOLLOUT | EPOLLIN);
}

static void upstream_event(struct server *s, struct query *q, uint32_t ev)
{
    if (!q->utcp) {
        ssize_t n = recv(q->h.fd, s->rx, sizeof(s->rx), 0);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                upstream_failed(s, q, strerror(errno));
            return;
        }
        upstream_answer(s, q, s->rx, (size_t)n);
        return;
    }
    if (ev & (EPOLLERR | EPOLLHUP) && !(ev & EPOLLIN)) {
        upstream_failed(s, q, "TCP connection failed");
        return;
    }
    if ((ev & EPOLLOUT) && q->usent < q->uqlen + 2) {
        uint8_t msg[2 + sizeof(q->uq)];
        msg[0] = (uint8_t)(q->uqlen >> 8);
        msg[1] = (uint8_t)q->uqlen;
        memcpy(msg + 2, q->uq, q->uqlen);
        ssize_t n = send(q->h.fd, msg + q->usent, q->uqlen + 2 - q->usent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno != EAGAIN)
                upstream_failed(s, q, strerror(errno));
            return;
        }
        q->usent += (size_t)n;
        if (q->usent == q->uqlen + 2)
            ep_mod(s, &q->h, EPOLLIN);
    }
    if (ev & EPOLLIN) {
        ssize_t n = recv(q->h.fd, q->ubuf + q->ulen, 2 + TCP_MSG_MAX - q->ulen, 0);
        if (n == 0) {
            upstream_failed(s, q, "upstream closed the TCP connection");
            return;
        }
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                upstream_failed(s, q, strerror(errno));
            return;
        }
        q->ulen += (size_t)n;
        if (q->ulen >= 2) {
            size_t want = (size_t)q->ubuf[0] << 8 | q->ubuf[1];
            if (q->ulen >= want + 2)
                upstream_answer(s, q, q->ubuf + 2, want);
        }
    }
}

/* -- a client's query ---------------------------------------------------------------- */

/* Response rate limiting (UDP only): true when this query gets no normal answer -
 * dropped, or "slipped": an empty reply with TC, so a real client retries over TCP. */
static bool rrl_limited(struct server *s, struct listener *l, const struct sockaddr_storage *peer,
                        socklen_t peerlen, const uint8_t *pkt, size_t len)
{
    struct cw_rpz_addr a;
    sa_to_addr(peer, &a, NULL, NULL);
    enum cw_dnsd_rrl_verdict v = cw_dnsd_rrl_check(s->rrl, &a, cw_monotonic_ms());
    if (v == CW_RRL_PASS)
        return false;
    static __thread struct cw_dns_msg m;
    size_t n = 0;
    if (v == CW_RRL_SLIP && cw_dns_msg_parse_question(&m, pkt, len) == 0 && m.has_question &&
        cw_dns_reply_rcode(s->out, sizeof(s->out), CW_DNS_UDP_MIN, &m, CW_DNS_R_NOERROR, -1, NULL,
                           &n) == 0) {
        s->out[2] |= (uint8_t)(CW_DNS_F_TC >> 8);
        sendto(l->h.fd, s->out, n, MSG_DONTWAIT, (const struct sockaddr *)peer, peerlen);
        atomic_fetch_add_explicit(&s->met.rrl[1], 1, memory_order_relaxed);
    } else {
        atomic_fetch_add_explicit(&s->met.rrl[0], 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&s->met.dropped[CW_DROP_RRL], 1, memory_order_relaxed);
    }
    return true;
}

/* A zeroed query with an empty arena: from the pool (no malloc on the hot path), or
 * a new one. */
static struct query *query_get(struct server *s)
{
    struct query *q = s->free_q;
    if (!q) {
        if ((q = calloc(1, sizeof(*q))))
            cw_arena_init(&q->arena, 8192, 1u << 20);
        return q;
    }
    s->free_q = q->next;
    s->nfree_q--;
    struct cw_arena a = q->arena;
    memset(q, 0, sizeof(*q));
    q->arena = a;
    return q;
}

static void query_put(struct server *s, struct query *q)
{
    /* a query longer than the arena's chunk got a chunk of its own as the arena's
     * first, which cw_arena_clear would keep: not pooled (bounds the pool's memory) */
    if (s->nfree_q >= QUERY_POOL || q->qlen > 4096) {
        cw_arena_release(&q->arena);
        free(q);
        return;
    }
    cw_arena_clear(&q->arena);
    q->next = s->free_q;
    s->free_q = q;
    s->nfree_q++;
}

static struct query *query_new(struct server *s, const uint8_t *pkt, size_t len)
{
    struct query *q = query_get(s);
    if (!q)
        return NULL;
    q->h.fd = -1;
    q->qlen = len; /* before any allocation: query_put looks at it */
    if (s->ub.l) { /* a UDP batch: one clock reading for all its queries */
        q->t0_us = s->ub.t0_us;
        q->ts_us = s->ub.ts_us;
    } else {
        q->t0_us = mono_us();
        q->ts_us = cw_now_us();
    }
    q->qpkt = cw_arena_alloc(&q->arena, len ? len : 1);
    q->qm = cw_arena_alloc(&q->arena, sizeof(*q->qm));
    if (!q->qpkt || !q->qm) {
        query_put(s, q);
        return NULL;
    }
    memcpy(q->qpkt, pkt, len);
    q->qlen = len;
    return q;
}

static void query_resolve(struct server *s, struct query *q);

/* The NS set arrived (or could not be found: set NULL, resolved without it). */
static void ns_ready(void *ctx, struct cw_dnsd_ns_set *set, bool aborted)
{
    struct query *q = ctx;
    q->nsw = NULL;
    ns_unwait(q->srv, q);
    q->ns = set;
    if (aborted)
        query_free(q->srv, q);
    else
        query_resolve(q->srv, q);
}

/* NSDNAME/NSIP rules in force: the name servers of the query's zone are needed
 * before any policy decision. true when the query waits for them (ns_ready). */
static bool ns_wait(struct server *s, struct query *q)
{
    q->srv = s;
    if (cw_dnsd_ns_lookup(s->ns, q->qm->qname, q->qm->qname_len, q->pol->nsip_rules > 0,
                          ns_ready, q, &q->ns, &q->nsw) != 0)
        return false;
    q->prev = NULL; /* on the waiting list, so that conn_close finds it */
    q->next = s->nswait;
    if (s->nswait)
        s->nswait->prev = q;
    s->nswait = q;
    return true;
}

static void handle_query(struct server *s, struct listener *l, struct conn *c,
                         struct cw_dnsd_doh_req *doh, const struct sockaddr_storage *peer,
                         socklen_t peerlen, const uint8_t *pkt, size_t len)
{
    uint8_t tr = c || doh ? l->transport : TR_UDP;
    atomic_fetch_add_explicit(&s->met.queries[tr], 1, memory_order_relaxed);
    if (len < CW_DNS_HDR_LEN || (pkt[2] & 0x80)) { /* not even a header, or a response */
        atomic_fetch_add_explicit(&s->met.malformed, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&s->met.dropped[CW_DROP_MALFORMED], 1, memory_order_relaxed);
        if (doh)
            cw_dnsd_doh_answer(doh, NULL, 0);
        return;
    }
    if (!c && !doh && s->inflight >= s->cfg->max_inflight) {
        atomic_fetch_add_explicit(&s->met.dropped[CW_DROP_OVERLOAD], 1, memory_order_relaxed);
        return;
    }
    if (tr == TR_UDP && s->rrl && rrl_limited(s, l, peer, peerlen, pkt, len))
        return;
    struct query *q = query_new(s, pkt, len);
    if (!q) {
        atomic_fetch_add_explicit(&s->met.dropped[CW_DROP_OVERLOAD], 1, memory_order_relaxed);
        if (doh)
            cw_dnsd_doh_answer(doh, NULL, 0);
        return;
    }
    q->l = l;
    q->tcp = c != NULL || doh != NULL;
    q->transport = tr;
    q->conn = c;
    q->doh = doh;
    if (c)
        c->inflight++;
    memcpy(&q->peer, peer, sizeof(q->peer));
    q->peerlen = peerlen;
    sa_to_addr(peer, &q->client, NULL, NULL);
    if (s->tap)
        tap_client(s, q, CW_TAP_CLIENT_QUERY, NULL, 0);
    q->view = doh && doh->view >= 0 ? (uint16_t)doh->view
              : c && c->view >= 0   ? (uint16_t)c->view
                                    : cw_dnsd_views_match(&s->views, &q->client);
    int pe = cw_dns_msg_parse(q->qm, q->qpkt, q->qlen);
    if (pe || !q->qm->has_question || q->qm->qdcount != 1) {
        atomic_fetch_add_explicit(&s->met.malformed, 1, memory_order_relaxed);
        if (pe) { /* answer FORMERR from the header alone */
            memset(q->qm, 0, sizeof(*q->qm));
            q->qm->pkt = q->qpkt;
            q->qm->len = CW_DNS_HDR_LEN;
            q->qm->id = (uint16_t)(pkt[0] << 8 | pkt[1]);
            q->qm->flags = (uint16_t)((pkt[2] << 8 | pkt[3]) & 0x87f0);
            q->qm->opcode = (pkt[2] >> 3) & 0x0f;
        }
        size_t n = 0;
        if (cw_dns_reply_rcode(s->out, sizeof(s->out), 512, q->qm, CW_DNS_R_FORMERR, -1, NULL,
                               &n) == 0)
            send_answer(s, q, s->out, n);
        else
            atomic_fetch_add_explicit(&s->met.dropped[CW_DROP_MALFORMED], 1, memory_order_relaxed);
        query_free(s, q);
        return;
    }
    if (q->qm->opcode != 0) {
        send_rcode(s, q, CW_DNS_R_NOTIMP, "none");
        query_free(s, q);
        return;
    }
    q->pol = cw_dnsd_policy_ref(s->pol);
    if (q->pol && q->pol->ns_rules && s->ns && ns_wait(s, q))
        return; /* ns_ready goes on */
    query_resolve(s, q);
}

/* Policy before resolution (with the zone's NS set when NSDNAME/NSIP rules need
 * it), the cache, then the upstreams. */
static void query_resolve(struct server *s, struct query *q)
{
    struct cw_dnsd_cache_key k = {q->qm->qname, q->qm->qname_len, q->qm->qtype, q->qm->qclass,
                                  q->view};
    int64_t now_ms = s->ub.l ? s->ub.t0_us / 1000 : cw_monotonic_ms();
    struct cw_dnsd_cache_entry *ce = cw_dnsd_cache_find(&s->cache, &k, now_ms);
    uint64_t gen = verdict_gen(q->pol);
    if (ce && gen && cw_dnsd_cache_tag(ce) == gen) {
        q->no_rule = true; /* this policy found no rule for the name: no walk */
    } else {
        struct cw_rpz_match *m = cw_arena_alloc(&q->arena, sizeof(*m));
        struct cw_rpz_query rq = {.client = &q->client, .qname = q->qm->qname,
                                  .qname_len = q->qm->qname_len};
        cw_dnsd_ns_fill(q->ns, &rq);
        bool filtered;
        if (m && cw_dnsd_policy_evaluate(q->pol, q->view, &rq, m, &filtered)) {
            if (apply_policy(s, q, m, filtered)) {
                query_free(s, q);
                return;
            }
            q->passthru = m->action == CW_RPZ_ACT_PASSTHRU;
            if (q->passthru)
                q->pm = m;
        } else if (m) {
            q->no_rule = true;
            if (ce && gen)
                cw_dnsd_cache_set_tag(ce, gen);
        }
    }
    uint8_t *buf = s->hit;
    size_t n = ce ? cw_dnsd_cache_copy(&s->cache, ce, q->qm->id, now_ms, buf, sizeof(s->hit)) : 0;
    if (n) {
        atomic_fetch_add_explicit(&s->met.cache_hits, 1, memory_order_relaxed);
        if (!policy_on_answer(s, q, buf, n))
            send_relayed(s, q, buf, n, "hit", q->pm);
        query_free(s, q);
        return;
    }
    atomic_fetch_add_explicit(&s->met.cache_misses, 1, memory_order_relaxed);
    if (s->rec) {
        rec_start(s, q);
        return;
    }
    if (s->nup == 0) {
        send_rcode(s, q, CW_DNS_R_REFUSED, "miss");
        query_free(s, q);
        return;
    }
    upstream_start(s, q);
}

/* -- UDP and TCP clients ------------------------------------------------------------ */

static void udp_batch_init(struct udp_batch *b)
{
    for (unsigned i = 0; i < UDP_BATCH; i++) {
        b->in_iov[i] = (struct iovec){b->in_buf + (size_t)i * UDP_SLOT, UDP_SLOT};
        b->in[i].msg_hdr = (struct msghdr){.msg_name = &b->in_peer[i], .msg_iov = &b->in_iov[i],
                                           .msg_iovlen = 1};
        b->out_iov[i] = (struct iovec){b->out_buf[i], 0};
        b->out[i].msg_hdr = (struct msghdr){.msg_name = &b->out_peer[i],
                                            .msg_iov = &b->out_iov[i], .msg_iovlen = 1};
    }
}

static void udp_read(struct server *s, struct listener *l)
{
    struct udp_batch *b = &s->ub;
    b->l = l;
    for (int round = 0; round < 2; round++) { /* bounded: other sockets get their turn */
        for (unsigned i = 0; i < UDP_BATCH; i++)
            b->in[i].msg_hdr.msg_namelen = sizeof(b->in_peer[i]);
        int n = recvmmsg(l->h.fd, b->in, UDP_BATCH, MSG_DONTWAIT, NULL);
        if (n > 0) {
            b->t0_us = mono_us();
            b->ts_us = cw_now_us();
        }
        for (int i = 0; i < n; i++)
            handle_query(s, l, NULL, NULL, &b->in_peer[i], b->in[i].msg_hdr.msg_namelen,
                         b->in_iov[i].iov_base, b->in[i].msg_len);
        udp_flush(s);
        if (n < UDP_BATCH) /* drained (or an error): no second, empty call */
            break;
    }
    b->l = NULL;
}

static void conn_close(struct server *s, struct conn *c)
{
    if (c->dead)
        return;
    c->dead = true;
    epoll_ctl(s->ep, EPOLL_CTL_DEL, c->h.fd, NULL);
    if (c->ssl) {
        cw_dnsd_tls_free(c->ssl);
        c->ssl = NULL;
    }
    close(c->h.fd);
    c->h.fd = -1;
    if (c->inflight) /* queries still out: they must not answer into freed memory */
        for (int w = 0; w < 2; w++)
            for (struct query *q = w ? s->nswait : s->qhead; q; q = q->next)
                if (q->conn == c) {
                    q->conn = NULL;
                    c->inflight--;
                }
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nconns--;
    atomic_store_explicit(&s->met.tcp_conns, s->nconns, memory_order_relaxed);
    c->next = s->dead_c;
    s->dead_c = c;
}

static void conn_flush(struct server *s, struct conn *c)
{
    if (c->handshake)
        return; /* answers wait in wbuf until the handshake is done */
    while (c->wpos < c->wbuf.len) {
        if (c->ssl) {
            size_t n = 0;
            int r = cw_dnsd_tls_write(c->ssl, c->wbuf.data + c->wpos, c->wbuf.len - c->wpos, &n);
            c->w_wants_r = r == CW_TLS_IO_WANT_READ;
            if (r == CW_TLS_IO_WANT_READ || r == CW_TLS_IO_WANT_WRITE)
                break;
            if (r != CW_TLS_IO_OK) {
                conn_close(s, c);
                return;
            }
            c->wpos += n;
            continue;
        }
        ssize_t n = send(c->h.fd, c->wbuf.data + c->wpos, c->wbuf.len - c->wpos,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                break;
            conn_close(s, c);
            return;
        }
        c->wpos += (size_t)n;
    }
    if (c->wpos == c->wbuf.len) {
        cw_buf_clear(&c->wbuf);
        c->wpos = 0;
    }
    bool want = c->wpos < c->wbuf.len;
    c->want_out = want;
    conn_events(s, c);
    c->last_ms = cw_monotonic_ms();
    if (c->eof && !c->inflight && !want)
        conn_close(s, c);
}

static void tcp_accept(struct server *s, struct listener *l)
{
    for (int i = 0; i < 64; i++) {
        struct sockaddr_storage peer;
        socklen_t pl = sizeof(peer);
        int fd = accept4(l->h.fd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        if (s->nconns >= s->cfg->tcp_max_conns) {
            atomic_fetch_add_explicit(&s->met.dropped[CW_DROP_TCP_LIMIT], 1, memory_order_relaxed);
            close(fd);
            continue;
        }
        struct conn *c = calloc(1, sizeof(*c));
        if (c)
            c->rbuf = malloc(2 + TCP_MSG_MAX);
        if (c && c->rbuf && l->transport == TR_TLS) {
            c->ssl = cw_dnsd_tls_new(s->tls_ctx, fd);
            c->handshake = true;
            c->hs_deadline_ms = cw_monotonic_ms() + s->cfg->tls_handshake_ms;
        }
        if (!c || !c->rbuf || (l->transport == TR_TLS && !c->ssl)) {
            if (c) {
                free(c->rbuf);
                free(c);
            }
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        c->h.kind = H_CONN;
        c->h.fd = fd;
        c->l = l;
        c->peer = peer;
        c->view = -1;
        c->reading = true;
        c->last_ms = cw_monotonic_ms();
        cw_buf_init(&c->wbuf);
        c->events = EPOLLIN;
        if (ep_add(s, &c->h, EPOLLIN)) {
            cw_dnsd_tls_free(c->ssl);
            close(fd);
            free(c->rbuf);
            free(c);
            continue;
        }
        c->next = s->conns;
        if (s->conns)
            s->conns->prev = c;
        s->conns = c;
        s->nconns++;
        atomic_store_explicit(&s->met.tcp_conns, s->nconns, memory_order_relaxed);
    }
}

static void conn_process(struct server *s, struct conn *c);
static void conn_read(struct server *s, struct conn *c);

static void conn_eof(struct server *s, struct conn *c)
{
    c->eof = true;
    c->reading = false;
    if (!c->inflight && c->wpos == c->wbuf.len)
        conn_close(s, c);
    else
        conn_events(s, c);
}

/* TLS: finish the handshake; then whatever application data came with it. */
static void conn_handshake(struct server *s, struct conn *c)
{
    int r = cw_dnsd_tls_handshake(c->ssl);
    if (r == CW_TLS_IO_OK) {
        c->handshake = false;
        c->view = cw_dnsd_tls_peer_view(c->ssl, s->pins); /* for every query on it */
        c->last_ms = cw_monotonic_ms();
        atomic_fetch_add_explicit(&s->met.tls_handshakes[0], 1, memory_order_relaxed);
        conn_events(s, c);
        conn_read(s, c);
        return;
    }
    if (r == CW_TLS_IO_WANT_READ || r == CW_TLS_IO_WANT_WRITE) {
        c->hs_want_write = r == CW_TLS_IO_WANT_WRITE;
        conn_events(s, c);
        return;
    }
    char eb[256];
    cw_debug("TLS handshake failed: %s", cw_dnsd_tls_error(eb, sizeof(eb)));
    atomic_fetch_add_explicit(&s->met.tls_handshakes[1], 1, memory_order_relaxed);
    conn_close(s, c);
}

static void conn_read(struct server *s, struct conn *c)
{
    if (!c->ssl) {
        ssize_t n = recv(c->h.fd, c->rbuf + c->rlen, 2 + TCP_MSG_MAX - c->rlen, 0);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                conn_close(s, c);
            return;
        }
        if (n == 0) {
            conn_eof(s, c);
            return;
        }
        c->rlen += (size_t)n;
        c->last_ms = cw_monotonic_ms();
        conn_process(s, c);
        return;
    }
    /* TLS: OpenSSL may hold decrypted records the socket no longer signals, so read
     * until it would block (or the pipeline limit pauses reading) */
    bool was = c->r_wants_w;
    while (!c->dead && c->reading && c->rlen < 2 + TCP_MSG_MAX) {
        size_t n = 0;
        int r = cw_dnsd_tls_read(c->ssl, c->rbuf + c->rlen, 2 + TCP_MSG_MAX - c->rlen, &n);
        c->r_wants_w = r == CW_TLS_IO_WANT_WRITE;
        if (r == CW_TLS_IO_WANT_READ || r == CW_TLS_IO_WANT_WRITE)
            break;
        if (r == CW_TLS_IO_EOF) {
            conn_eof(s, c);
            return;
        }
        if (r != CW_TLS_IO_OK) {
            conn_close(s, c);
            return;
        }
        c->rlen += n;
        c->last_ms = cw_monotonic_ms();
        conn_process(s, c);
    }
    if (!c->dead && was != c->r_wants_w)
        conn_events(s, c);
}

/* Answer every complete query in rbuf, as far as the pipeline limit allows. */
static void conn_process(struct server *s, struct conn *c)
{
    size_t off = 0;
    while (!c->dead && c->rlen - off >= 2) { /* pipelined queries, each answered when ready */
        size_t mlen = (size_t)c->rbuf[off] << 8 | c->rbuf[off + 1];
        if (mlen == 0) {
            conn_close(s, c);
            return;
        }
        if (c->rlen - off < 2 + mlen)
            break;
        if (c->inflight >= s->cfg->tcp_max_inflight)
            break;
        off += 2 + mlen;
        handle_query(s, c->l, c, NULL, &c->peer, sizeof(c->peer), c->rbuf + off - mlen, mlen);
    }
    if (c->dead)
        return;
    memmove(c->rbuf, c->rbuf + off, c->rlen - off);
    c->rlen -= off;
    if (c->inflight >= s->cfg->tcp_max_inflight && c->reading) { /* back-pressure */
        c->reading = false;
        conn_events(s, c);
    }
}

/* -- reload --------------------------------------------------------------------------- */

/* Make p the policy the loop takes next (with s->pub_mu held); p's reference
 * passes to next_pol. */
static void publish_locked(struct server *s, struct cw_dnsd_policy *p)
{
    cw_dnsd_policy_unref(s->latest);
    s->latest = cw_dnsd_policy_ref(p);
    cw_dnsd_policy_unref(atomic_exchange(&s->next_pol, p)); /* one the loop never took */
}

/* The feed thread's new snapshot: the latest lists with it, to the loop at once. */
static void feed_publish(void *ctx, struct cw_feed_snap *snap)
{
    struct server *s = ctx;
    pthread_mutex_lock(&s->pub_mu);
    struct cw_dnsd_policy *p = s->latest ? cw_dnsd_policy_with_feed(s->latest, snap) : NULL;
    if (p)
        publish_locked(s, p);
    else
        cw_error("feed: out of memory publishing serial %" PRIu64, cw_feed_snap_serial(snap));
    pthread_mutex_unlock(&s->pub_mu);
    cw_feed_snap_unref(snap);
    uint64_t one = 1;
    if (p && s->feed_ev.fd >= 0 && write(s->feed_ev.fd, &one, sizeof(one)) < 0)
        cw_debug("feed eventfd: %s", strerror(errno));
}

/* Take the newest published policy, if any (queries in flight keep theirs). */
static void take_policy(struct server *s)
{
    struct cw_dnsd_policy *p = atomic_exchange(&s->next_pol, NULL);
    if (p) {
        cw_dnsd_policy_unref(s->pol);
        s->pol = p;
    }
}

static void feed_done(struct server *s)
{
    uint64_t v;
    if (read(s->feed_ev.fd, &v, sizeof(v)) < 0)
        return;
    take_policy(s);
}

static void *reload_main(void *arg)
{
    struct server *s = arg;
    char err[600];
    int64_t t0 = cw_monotonic_ms();
    struct cw_dnsd_policy *p = cw_dnsd_policy_load(s->cfg, s->views.nviews, err, sizeof(err));
    if (!p) {
        cw_error("policy reload failed, the previous policy stays in force: %s", err);
        atomic_fetch_add(&s->met.reload_failed, 1);
    } else {
        cw_info("policy reloaded: %zu rules in %" PRId64 " ms", p->rules, cw_monotonic_ms() - t0);
        atomic_fetch_add(&s->met.reload_ok, 1);
        pthread_mutex_lock(&s->pub_mu);
        if (s->latest && s->latest->feed) { /* the feed's newest rules stay in force */
            struct cw_dnsd_policy *wf = cw_dnsd_policy_with_feed(p, s->latest->feed);
            if (wf) {
                cw_dnsd_policy_unref(p);
                p = wf;
            }
        }
        publish_locked(s, p);
        pthread_mutex_unlock(&s->pub_mu);
    }
    uint64_t one = 1;
    if (write(s->reload_ev.fd, &one, sizeof(one)) < 0)
        cw_debug("reload eventfd: %s", strerror(errno));
    return NULL;
}

static void start_reload(struct server *s)
{
    if (atomic_load(&s->reloading)) {
        cw_info("SIGHUP: a reload is already running");
        return;
    }
    if (s->reload_joinable) {
        pthread_join(s->reload_thread, NULL);
        s->reload_joinable = false;
    }
    atomic_store(&s->reloading, true);
    if (pthread_create(&s->reload_thread, NULL, reload_main, s)) {
        cw_error("cannot start the reload thread");
        atomic_store(&s->reloading, false);
        return;
    }
    s->reload_joinable = true;
}

static void reload_done(struct server *s)
{
    uint64_t v;
    if (read(s->reload_ev.fd, &v, sizeof(v)) < 0)
        return;
    take_policy(s);
    atomic_store(&s->reloading, false);
}

/* -- setup ------------------------------------------------------------------------------ */

static int bind_socket(const char *addr, int type, struct sockaddr_storage *ss, socklen_t *len,
                       char *err, size_t errlen)
{
    unsigned l;
    if (cw_net_parse_addr(addr, ss, &l)) {
        snprintf(err, errlen, "'%s': expected ADDR:PORT (e.g. 127.0.0.1:53 or [::1]:53)", addr);
        return -1;
    }
    *len = (socklen_t)l;
    int fd = socket(ss->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (type == SOCK_DGRAM) {
            int rcv = 4 << 20;
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
        }
    }
    if (fd < 0 || bind(fd, (struct sockaddr *)ss, *len) ||
        (type == SOCK_STREAM && listen(fd, 1024))) {
        snprintf(err, errlen, "%s %s: %s", type == SOCK_STREAM ? "TCP" : "UDP", addr,
                 strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int chown_state(const char *dir, uid_t uid, gid_t gid, char *err, size_t errlen)
{
    static const char *const sub[] = {"", "/spool", "/spool/rejected", "/state", "/feed",
                                      "/feed/policy.json", "/feed/journal.ndjson"};
    char p[4200];
    for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
        snprintf(p, sizeof(p), "%s%s", dir, sub[i]);
        if (chown(p, uid, gid) && errno != ENOENT) {
            snprintf(err, errlen, "cannot chown %s: %s", p, strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* Root binds port 53, then becomes `user` (same as `crosswatch serve`). */
static int drop_privileges(const struct cw_dnsd_config *c, char *err, size_t errlen)
{
    if (!c->user || !c->user[0] || geteuid() != 0)
        return 0;
    struct passwd *pw = getpwnam(c->user);
    if (!pw) {
        snprintf(err, errlen, "user '%s' does not exist", c->user);
        return -1;
    }
    if ((c->center || c->feed_url) && (cw_durable_mkdirs(c->state_dir) ||
                      chown_state(c->state_dir, pw->pw_uid, pw->pw_gid, err, errlen)))
        return -1;
    if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
        snprintf(err, errlen, "cannot drop privileges to %s: %s", c->user, strerror(errno));
        return -1;
    }
    if (setuid(0) == 0) {
        snprintf(err, errlen, "privileges could be regained after dropping to %s", c->user);
        return -1;
    }
    cw_info("dropped privileges to user %s", c->user);
    return 0;
}

static char *nul_terminate(char *p, size_t n)
{
    char *t = realloc(p, n + 1);
    if (!t) {
        free(p);
        return NULL;
    }
    t[n] = '\0';
    return t;
}

static uint16_t view_index(const struct server *s, const char *name)
{
    for (size_t i = 0; i < s->views.nviews; i++)
        if (!strcmp(s->views.names[i], name))
            return (uint16_t)i;
    return 0;
}

/* --view-tls-cert (alias --view-dot-cert): pinned client certificates pick the view
 * of a DoT or DoH connection; one set of pins for both listeners */
static int tls_pins(struct server *s, char *err, size_t errlen)
{
    const struct cw_dnsd_config *c = s->cfg;
    for (size_t v = 0; v < c->nviews; v++)
        for (size_t k = 0; k < c->views[v].ncerts; k++) {
            if (!s->pins && !(s->pins = calloc(1, sizeof(*s->pins)))) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            if (cw_dnsd_tls_pin_add(s->pins, c->views[v].cert_sha256[k],
                                    view_index(s, c->views[v].name))) {
                snprintf(err, errlen, "view %s: a client certificate pin is 64 hex digits "
                         "(SHA-256 of the DER), at most %d", c->views[v].name,
                         CW_DNSD_TLS_MAX_PINS);
                return -1;
            }
        }
    return 0;
}

/* NS look-ups for NSDNAME/NSIP rules (dnsd_nsinfo.h): idle until a policy has them */
static int ns_start(struct server *s, char *err, size_t errlen)
{
    const struct cw_dnsd_config *c = s->cfg;
    struct cw_dnsd_ns_opts o = {s->up, s->uplen, s->nup, s->rec,
                                s->rec ? c->recursive_timeout_ms : c->upstream_timeout_ms,
                                c->cache_entries / 4, c->max_ttl, c->max_inflight, c->udp_size};
    if (!(s->ns = cw_dnsd_ns_new(&o, err, errlen)))
        return -1;
    s->ns_h.kind = H_NS;
    s->ns_h.fd = cw_dnsd_ns_fd(s->ns);
    if (ep_add(s, &s->ns_h, EPOLLIN)) {
        snprintf(err, errlen, "epoll: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static void tick(struct server *s)
{
    int64_t now = cw_monotonic_ms();
    while (s->qhead && s->qhead->deadline_ms <= now)
        upstream_failed(s, s->qhead, "timeout");
    for (struct conn *c = s->conns, *next; c; c = next) {
        next = c->next;
        if (c->handshake && now >= c->hs_deadline_ms) {
            atomic_fetch_add_explicit(&s->met.tls_handshakes[2], 1, memory_order_relaxed);
            conn_close(s, c); /* a handshake that does not finish holds no slot for long */
        } else if (!c->inflight && now - c->last_ms >= s->cfg->tcp_idle_ms) {
            conn_close(s, c); /* RFC 7766 6.2.3: idle connections are closed */
        }
    }
    if (s->ns)
        cw_dnsd_ns_tick(s->ns, now);
    cw_dnsd_tel_tick(s->tel, now);
}

static void doh_take(struct server *s, bool stop)
{
    struct cw_dnsd_doh_req *r = cw_dnsd_doh_hub_take(&s->doh_hub, stop);
    while (r) {
        struct cw_dnsd_doh_req *next = r->next;
        if (stop) {
            cw_dnsd_doh_answer(r, NULL, 0);
        } else {
            socklen_t pl = r->peer.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                         : sizeof(struct sockaddr_in);
            handle_query(s, &s->doh_l[r->listener], NULL, r, &r->peer, pl, r->q, r->qlen);
        }
        r = next;
    }
}

static void resume_conns(struct server *s)
{
    while (s->resume) {
        struct conn *c = s->resume;
        s->resume = c->resume_next;
        c->resume_queued = false;
        if (!c->dead && c->reading)
            conn_process(s, c);
        if (!c->dead && c->reading && c->ssl && !c->handshake)
            conn_read(s, c); /* records OpenSSL decrypted while reading was paused */
    }
}

static void reap(struct server *s)
{
    resume_conns(s);
    while (s->dead_q) {
        struct query *q = s->dead_q;
        s->dead_q = q->next;
        query_put(s, q);
    }
    while (s->dead_c) {
        struct conn *c = s->dead_c;
        s->dead_c = c->next;
        cw_buf_release(&c->wbuf);
        free(c->rbuf);
        free(c);
    }
}

static void shutdown_all(struct server *s)
{
    if (s->doh_hub_ok)
        doh_take(s, true); /* later requests are refused by libmicrohttpd's thread */
    while (s->qhead) {
        struct query *q = s->qhead;
        upstream_close(s, q);
        query_free(s, q);
    }
    while (s->conns)
        conn_close(s, s->conns);
    reap(s);
    while (s->free_q) {
        struct query *q = s->free_q;
        s->free_q = q->next;
        cw_arena_release(&q->arena);
        free(q);
    }
    s->nfree_q = 0;
}

int cw_dnsd_run(const struct cw_dnsd_config *cfg, char *err, size_t errlen)
{
    static struct server srv; /* big buffers: not on the stack */
    struct server *s = &srv;
    memset(s, 0, sizeof(*s));
    for (size_t i = 0; i < CW_DNSD_MAX_ADDRS; i++)
        s->doh_fd[i] = -1;
    s->doh_hub.evfd = -1;
    s->cfg = cfg;
    s->ep = -1;
    s->sig.fd = s->reload_ev.fd = s->metrics_fd = s->feed_ev.fd = -1;
    pthread_mutex_init(&s->pub_mu, NULL);
    int rc = -1;
    char *cert_pem = NULL, *key_pem = NULL;
    size_t pem_n = 0;
    cw_dnsd_metrics_init(&s->met);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    signal(SIGPIPE, SIG_IGN);
    /* blocked before any thread starts, so that every thread inherits the mask and
     * the signals arrive only through the signalfd */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (cw_dnsd_views_init(&s->views, cfg, err, errlen))
        goto out;
    for (size_t i = 0; i < s->views.nviews && i < CW_DNSD_MAX_VIEWS; i++)
        cw_dnsd_metrics_view(&s->met, (unsigned)i, s->views.names[i]);
    s->redact = calloc(s->views.nviews + 1, 1);
    if (!s->redact) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < s->views.nviews; i++)
        s->redact[i] = (uint8_t)cfg->redact;
    for (size_t v = 0; v < cfg->nviews; v++)
        if (cfg->views[v].redact >= 0)
            s->redact[view_index(s, cfg->views[v].name)] = (uint8_t)cfg->views[v].redact;
    for (size_t i = 0; i < s->views.nviews; i++)
        if (s->redact[i] == CW_REDACT_HASH && cfg->redact_key_len < 16) {
            snprintf(err, errlen, "--redact-clients hash needs --redact-key-file with a secret "
                                  "of at least 16 bytes");
            goto out;
        }
    if (cfg->rrl_rate && !(s->rrl = cw_dnsd_rrl_new(cfg->rrl_rate, cfg->rrl_slip,
                                                     cfg->rrl_entries))) {
        snprintf(err, errlen, "out of memory for the rate limiter");
        goto out;
    }
    if (cw_dnsd_cache_init(&s->cache, cfg->cache_entries, cfg->max_ttl, cfg->stale_ms)) {
        snprintf(err, errlen, "out of memory for the cache");
        goto out;
    }
    for (size_t i = 0; i < cfg->nforward; i++) {
        unsigned l;
        if (cw_net_parse_addr(cfg->forward[i], &s->up[i], &l)) {
            snprintf(err, errlen, "--forward '%s': expected ADDR:PORT", cfg->forward[i]);
            goto out;
        }
        s->uplen[i] = (socklen_t)l;
        s->nup++;
    }
    s->ep = epoll_create1(EPOLL_CLOEXEC);
    s->ls = calloc(cfg->nlisten * 2 + cfg->ntls_listen + 1, sizeof(*s->ls));
    if (s->ep < 0 || !s->ls) {
        snprintf(err, errlen, "epoll: %s", strerror(errno));
        goto out;
    }
    if (!(s->ub.in_buf = malloc((size_t)UDP_BATCH * UDP_SLOT))) {
        snprintf(err, errlen, "out of memory for the UDP buffers");
        goto out;
    }
    udp_batch_init(&s->ub);
    for (size_t i = 0; i < cfg->nlisten; i++)
        for (int t = 0; t < 2; t++) {
            struct listener *l = &s->ls[s->nls];
            struct sockaddr_storage ss;
            socklen_t sl;
            l->h.kind = t ? H_TCP_LISTEN : H_UDP_LISTEN;
            l->h.fd = bind_socket(cfg->listen[i], t ? SOCK_STREAM : SOCK_DGRAM, &ss, &sl, err,
                                  errlen);
            if (l->h.fd < 0)
                goto out;
            s->nls++;
            struct cw_rpz_addr a;
            sa_to_addr(&ss, &a, &l->local, &l->port);
            l->transport = t ? TR_TCP : TR_UDP;
            ep_add(s, &l->h, EPOLLIN);
        }
    if ((cfg->ntls_listen || cfg->ndoh_listen) && tls_pins(s, err, errlen))
        goto out;
    if (cfg->ntls_listen) {
        if (!cfg->tls_cert || !cfg->tls_key) {
            snprintf(err, errlen, "--tls-listen needs --tls-cert FILE and --tls-key FILE");
            goto out;
        }
        s->tls_ctx = cw_dnsd_tls_ctx_new(cfg->tls_cert, cfg->tls_key, err, errlen);
        if (!s->tls_ctx)
            goto out;
        if (s->pins)
            cw_dnsd_tls_ctx_request_cert(s->tls_ctx);
    }
    for (size_t i = 0; i < cfg->ntls_listen; i++) {
        struct listener *l = &s->ls[s->nls];
        struct sockaddr_storage ss;
        socklen_t sl;
        l->h.kind = H_TCP_LISTEN;
        l->h.fd = bind_socket(cfg->tls_listen[i], SOCK_STREAM, &ss, &sl, err, errlen);
        if (l->h.fd < 0)
            goto out;
        s->nls++;
        struct cw_rpz_addr a;
        sa_to_addr(&ss, &a, &l->local, &l->port);
        l->transport = TR_TLS;
        ep_add(s, &l->h, EPOLLIN);
    }
    if (cfg->ndoh_listen) {
        if (!cfg->tls_cert || !cfg->tls_key) {
            snprintf(err, errlen, "--doh-listen needs --tls-cert FILE and --tls-key FILE");
            goto out;
        }
        if (cw_durable_read(cfg->tls_cert, 1 << 20, &cert_pem, &pem_n) ||
            !(cert_pem = nul_terminate(cert_pem, pem_n)) ||
            cw_durable_read(cfg->tls_key, 1 << 20, &key_pem, &pem_n) ||
            !(key_pem = nul_terminate(key_pem, pem_n))) {
            snprintf(err, errlen, "cannot read %s or %s: %s", cfg->tls_cert, cfg->tls_key,
                     strerror(errno));
            goto out;
        }
        s->doh_l = calloc(cfg->ndoh_listen, sizeof(*s->doh_l));
        if (!s->doh_l || cw_dnsd_doh_hub_init(&s->doh_hub)) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        s->doh_hub_ok = true;
        s->doh_hub.pins = s->pins; /* the front asks for certificates when there are pins */
        for (size_t i = 0; i < cfg->ndoh_listen && i < CW_DNSD_MAX_ADDRS; i++) {
            struct sockaddr_storage ss;
            socklen_t sl;
            s->doh_fd[i] = bind_socket(cfg->doh_listen[i], SOCK_STREAM, &ss, &sl, err, errlen);
            if (s->doh_fd[i] < 0)
                goto out;
            struct cw_rpz_addr a;
            sa_to_addr(&ss, &a, &s->doh_l[i].local, &s->doh_l[i].port);
            s->doh_l[i].h.fd = -1;
            s->doh_l[i].transport = TR_HTTPS;
        }
        for (size_t v = 0; v < cfg->nviews; v++)
            for (size_t k = 0; k < cfg->views[v].ntokens; k++)
                if (cw_dnsd_doh_hub_token(&s->doh_hub, cfg->views[v].doh_token_hash[k],
                                          view_index(s, cfg->views[v].name))) {
                    snprintf(err, errlen, "view %s: a DoH token hash is 64 hex digits "
                             "(BLAKE2b-256 of the token), at most %d", cfg->views[v].name,
                             CW_DOH_MAX_TOKENS);
                    goto out;
                }
    }
    if (cfg->metrics) {
        struct sockaddr_storage ss;
        socklen_t sl;
        s->metrics_fd = bind_socket(cfg->metrics, SOCK_STREAM, &ss, &sl, err, errlen);
        if (s->metrics_fd < 0)
            goto out;
    }
    if (drop_privileges(cfg, err, errlen))
        goto out;
    if (cfg->recursive) {
        struct cw_dnsd_rec_opts ro = {cfg->root_hints, cfg->trust_anchor, cfg->rec_options,
                                      cfg->nrec_options};
        if (!(s->rec = cw_dnsd_rec_new(&ro, err, errlen)))
            goto out;
        s->rec_h.kind = H_REC;
        s->rec_h.fd = cw_dnsd_rec_fd(s->rec);
        if (ep_add(s, &s->rec_h, EPOLLIN)) {
            snprintf(err, errlen, "epoll: %s", strerror(errno));
            goto out;
        }
    }
    if ((s->rec || s->nup) && ns_start(s, err, errlen))
        goto out;
    s->sig.kind = H_SIGNAL;
    s->sig.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    s->reload_ev.kind = H_RELOAD;
    s->reload_ev.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->sig.fd < 0 || s->reload_ev.fd < 0 || ep_add(s, &s->sig, EPOLLIN) ||
        ep_add(s, &s->reload_ev, EPOLLIN)) {
        snprintf(err, errlen, "signalfd/eventfd: %s", strerror(errno));
        goto out;
    }
    s->pol = cw_dnsd_policy_load(cfg, s->views.nviews, err, errlen);
    if (!s->pol)
        goto out;
    s->latest = cw_dnsd_policy_ref(s->pol);
    if (cfg->feed_url) {
        s->feed_ev.kind = H_FEED;
        s->feed_ev.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (s->feed_ev.fd < 0 || ep_add(s, &s->feed_ev, EPOLLIN)) {
            snprintf(err, errlen, "eventfd: %s", strerror(errno));
            goto out;
        }
        struct cw_dnsd_feed_opts fo = {cfg->feed_url, cfg->key, cfg->state_dir, cfg->feed_wait_s,
                                       cfg->feed_merge_at, feed_publish, s};
        s->feed = cw_dnsd_feed_start(&fo, err, errlen);
        if (!s->feed)
            goto out;
        s->met.feed = cw_dnsd_feed_stats(s->feed);
        take_policy(s); /* the saved feed policy is in force before the first query */
    }
    if (cfg->center) {
        struct cw_dnsd_tel_opts to = {cfg->center, cfg->key, cfg->state_dir, cfg->spool_max,
                                      cfg->batch_lines, cfg->flush_ms};
        s->tel = cw_dnsd_tel_start(&to, err, errlen);
        if (!s->tel)
            goto out;
        s->met.tel = s->tel;
    }
    if (cfg->dnstap_socket || cfg->dnstap_file) {
        char host[256] = "";
        gethostname(host, sizeof(host) - 1);
        s->tap = cw_dnstap_open(cfg->dnstap_socket, cfg->dnstap_file, host, err, errlen);
        if (!s->tap)
            goto out;
        s->met.tap = s->tap;
    }
    if (s->doh_hub_ok) {
        s->doh_ev.kind = H_DOH;
        s->doh_ev.fd = s->doh_hub.evfd;
        if (ep_add(s, &s->doh_ev, EPOLLIN)) {
            snprintf(err, errlen, "epoll: %s", strerror(errno));
            goto out;
        }
        for (size_t i = 0; i < cfg->ndoh_listen; i++) {
            s->doh[i] = cw_dnsd_doh_start(&s->doh_hub, (unsigned)i, s->doh_fd[i], cert_pem,
                                          key_pem, cfg->doh_max_conns, err, errlen);
            if (!s->doh[i])
                goto out;
            s->doh_fd[i] = -1; /* libmicrohttpd owns it now */
        }
    }
    if (s->metrics_fd >= 0) {
        if (cw_dnsd_metrics_serve(&s->met, s->metrics_fd, err, errlen))
            goto out;
        s->metrics_fd = -1; /* libmicrohttpd owns it now */
    }
    cw_info("dns: listening on %zu address(es), %s, %zu policy rules, %zu view(s)",
            cfg->nlisten, s->rec ? "recursive" : s->nup ? "forwarding" : "no upstream",
            s->pol->rules, s->views.nviews);
    s->running = true;
    struct epoll_event evs[MAX_EVENTS];
    int64_t last_tick = cw_monotonic_ms();
    while (s->running) {
        int n = epoll_wait(s->ep, evs, MAX_EVENTS, TICK_MS);
        if (n < 0 && errno != EINTR) {
            snprintf(err, errlen, "epoll_wait: %s", strerror(errno));
            break;
        }
        for (int i = 0; i < n; i++) {
            struct handle *h = evs[i].data.ptr;
            uint32_t ev = evs[i].events;
            switch (h->kind) {
            case H_UDP_LISTEN: udp_read(s, (struct listener *)h); break;
            case H_TCP_LISTEN: tcp_accept(s, (struct listener *)h); break;
            case H_CONN: {
                struct conn *c = (struct conn *)h;
                if (c->dead)
                    break;
                if (ev & (EPOLLERR | EPOLLHUP) && !(ev & EPOLLIN)) {
                    conn_close(s, c);
                    break;
                }
                if (c->handshake) {
                    conn_handshake(s, c);
                    break;
                }
                if (ev & EPOLLOUT) {
                    conn_flush(s, c);
                    if (!c->dead && c->r_wants_w)
                        conn_read(s, c);
                }
                if (!c->dead && (ev & EPOLLIN)) {
                    if (c->w_wants_r)
                        conn_flush(s, c);
                    if (!c->dead && (c->reading || !c->ssl))
                        conn_read(s, c);
                }
                break;
            }
            case H_UPSTREAM: {
                struct query *q = (struct query *)h;
                if (!q->dead && q->h.fd >= 0)
                    upstream_event(s, q, ev);
                break;
            }
            case H_SIGNAL: {
                struct signalfd_siginfo si;
                while (read(s->sig.fd, &si, sizeof(si)) == sizeof(si)) {
                    if (si.ssi_signo == SIGHUP) {
                        cw_info("SIGHUP: reloading the policy");
                        start_reload(s);
                    } else {
                        cw_info("signal %u: shutting down", si.ssi_signo);
                        s->running = false;
                    }
                }
                break;
            }
            case H_RELOAD: reload_done(s); break;
            case H_DOH: doh_take(s, false); break;
            case H_FEED: feed_done(s); break;
            case H_REC: cw_dnsd_rec_process(s->rec); break;
            case H_NS: cw_dnsd_ns_process(s->ns); break;
            }
        }
        reap(s);
        int64_t now = cw_monotonic_ms();
        if (now - last_tick >= TICK_MS || n == 0) {
            tick(s);
            reap(s);
            last_tick = now;
        }
    }
    rc = 0;
out:
    if (s->ns)
        cw_dnsd_ns_abort_all(s->ns); /* waiting queries are freed unanswered */
    shutdown_all(s);
    cw_dnsd_ns_free(s->ns);  /* before libunbound: it cancels its queries there */
    cw_dnsd_rec_free(s->rec); /* after shutdown_all cancelled the queries in flight */
    for (size_t i = 0; i < CW_DNSD_MAX_ADDRS; i++) {
        cw_dnsd_doh_stop(s->doh[i]); /* every request it handed over is answered */
        if (s->doh_fd[i] >= 0)
            close(s->doh_fd[i]);
    }
    if (s->doh_hub_ok)
        cw_dnsd_doh_hub_release(&s->doh_hub);
    free(s->doh_l);
    if (key_pem)
        explicit_bzero(key_pem, strlen(key_pem));
    free(key_pem);
    free(cert_pem);
    if (s->reload_joinable)
        pthread_join(s->reload_thread, NULL);
    cw_dnsd_policy_unref(atomic_exchange(&s->next_pol, NULL));
    cw_dnsd_tel_stop(s->tel); /* flushes pending records into the spool */
    cw_dnsd_metrics_release(&s->met);
    cw_dnstap_close(s->tap); /* writes out the queued frames */
    cw_dnsd_feed_stop(s->feed); /* after the metrics thread, which reads its stats */
    cw_dnsd_policy_unref(atomic_exchange(&s->next_pol, NULL)); /* its last publish */
    cw_dnsd_policy_unref(s->latest);
    if (s->feed_ev.fd >= 0)
        close(s->feed_ev.fd);
    pthread_mutex_destroy(&s->pub_mu);
    cw_dnsd_policy_unref(s->pol);
    for (size_t i = 0; i < s->nls; i++)
        close(s->ls[i].h.fd);
    free(s->ls);
    free(s->ub.in_buf);
    if (s->metrics_fd >= 0)
        close(s->metrics_fd);
    if (s->sig.fd >= 0)
        close(s->sig.fd);
    if (s->reload_ev.fd >= 0)
        close(s->reload_ev.fd);
    if (s->ep >= 0)
        close(s->ep);
    cw_dnsd_cache_release(&s->cache);
    cw_dnsd_views_release(&s->views);
    cw_dnsd_tls_ctx_free(s->tls_ctx);
    free(s->pins);
    cw_dnsd_rrl_free(s->rrl);
    free(s->redact);
    return rc;
}
