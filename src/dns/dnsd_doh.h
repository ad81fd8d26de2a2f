/* dnsd_doh.h - DNS over HTTPS (RFC 8484) for the resolver: the HTTP/1.1 handler on
 * libmicrohttpd (plaintext, fed by the TLS/ALPN front end of dnsd_doh2.h, which also
 * serves HTTP/2) on its own thread, the resolution in the loop.
 *
 * Design: an HTTPS request is parsed and checked on libmicrohttpd's thread
 * (cw_dnsd_doh_parse: GET ?dns=base64url or POST application/dns-message, at most
 * 65535 bytes, a DNS header with QR clear). The connection is then suspended
 * (MHD_suspend_connection) and the request handed to the event loop through the
 * hub: a mutex-guarded list plus an eventfd the loop polls. The loop resolves it
 * like any query (policy, cache, upstreams; as a stream transport: no truncation,
 * TCP-ONLY rules resolve normally) and answers with cw_dnsd_doh_answer, which
 * copies the answer into the request and resumes the connection; libmicrohttpd's
 * thread then sends it. No thread ever waits for another, and the hub's mutex is
 * taken once per DoH request by each side - never on the UDP or TCP path.
 *
 * Ownership: a request belongs to libmicrohttpd's thread until it is on the hub;
 * from hub_take until cw_dnsd_doh_answer it belongs to the loop; after that to
 * libmicrohttpd again, which frees it when the HTTP exchange ends. Every request
 * the loop takes is answered exactly once (with no answer: HTTP 503).
 *
 * Views by credential: /dns-query/<token> puts the client in the view whose
 * configured hash is BLAKE2b-256(token) (hex); the token itself is never stored.
 * An unknown token is 403. With client certificate pins (hub.pins, dnsd_tls.h) the
 * front asks for a certificate like DoT does and decides a view once per connection
 * at handshake end; it applies to every request on the connection (HTTP/1.1
 * keep-alive, HTTP/2 streams) that has no token: a token names one URL and is the
 * most specific credential, so token > certificate > client address. */
#ifndef CW_DNS_DNSD_DOH_H
#define CW_DNS_DNSD_DOH_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define CW_DOH_MSG_MAX 65535
#define CW_DOH_MAX_TOKENS 256

struct MHD_Connection;
struct cw_dnsd_doh;
struct cw_dnsd_tls_pins;

struct cw_dnsd_doh_req {
    struct cw_dnsd_doh_req *next; /* on the hub */
    struct MHD_Connection *mc;
    unsigned listener;            /* index of the --doh-listen address */
    int view;                     /* -1: by client address, else token or certificate */
    struct sockaddr_storage peer;
    uint8_t *q;                   /* the DNS query */
    size_t qlen;
    /* libmicrohttpd's side */
    uint8_t *body;
    size_t blen;
    bool too_big, post;
    unsigned early;               /* an HTTP error found before the body */
    int state;                    /* 0 reading, 1 with the loop, 2 answered */
    uint8_t *ans;
    size_t alen;
    uint32_t max_age;
    /* HTTP/2 (dnsd_doh2.c; mc is NULL): the connection and the stream */
    void *h2;
    int32_t h2_stream;
};

struct cw_dnsd_doh_hub {
    pthread_mutex_t mu;
    struct cw_dnsd_doh_req *head, *tail;
    bool stopping;
    int evfd;                     /* eventfd: the loop polls it */
    uint8_t token_hash[CW_DOH_MAX_TOKENS][32];
    uint16_t token_view[CW_DOH_MAX_TOKENS];
    size_t ntokens;
    const struct cw_dnsd_tls_pins *pins; /* client certificates -> views, or NULL (read-only) */
};

/* 0 or -1 (eventfd/mutex). */
int cw_dnsd_doh_hub_init(struct cw_dnsd_doh_hub *h);
void cw_dnsd_doh_hub_release(struct cw_dnsd_doh_hub *h);
/* Add a token hash (64 hex digits) for a view. 0 or -1 (bad hex, too many). */
int cw_dnsd_doh_hub_token(struct cw_dnsd_doh_hub *h, const char *hex, uint16_t view);
/* Hand a checked request to the loop (any thread but the loop's). false when the
 * loop is stopping: the caller answers 503 itself. */
bool cw_dnsd_doh_hub_put(struct cw_dnsd_doh_hub *h, struct cw_dnsd_doh_req *r);
/* "/dns-query" or "/dns-query/<token>" (path without the query string, decoded):
 * 0 and *view (-1, or the token's view), or 404 / 403 (unknown token). */
unsigned cw_dnsd_doh_route(const struct cw_dnsd_doh_hub *h, const char *path, int *view);
/* Loop: every request handed over since the last call (a list through ->next),
 * after reading the eventfd. With stop true, later requests are refused with 503
 * by libmicrohttpd's thread and never reach the hub. */
struct cw_dnsd_doh_req *cw_dnsd_doh_hub_take(struct cw_dnsd_doh_hub *h, bool stop);
/* Loop: the answer (msg NULL / len 0: none -> HTTP 503). Copies msg; the request
 * must not be touched afterwards. */
void cw_dnsd_doh_answer(struct cw_dnsd_doh_req *r, const uint8_t *msg, size_t len);

/* Start HTTPS on an already bound, listening socket: the front end of dnsd_doh2.h
 * (TLS, ALPN, HTTP/2) takes fd, HTTP/1.1 is relayed to libmicrohttpd (plaintext).
 * NULL with a message in err. */
struct cw_dnsd_doh *cw_dnsd_doh_start(struct cw_dnsd_doh_hub *hub, unsigned listener, int fd,
                                      const char *cert_pem, const char *key_pem,
                                      unsigned max_conns, char *err, size_t errlen);
/* Stop the thread; every request the loop took must have been answered. */
void cw_dnsd_doh_stop(struct cw_dnsd_doh *d);

/* -- request parsing (pure; fuzz/fuzz_doh.c) ------------------------------------- */

/* RFC 4648 base64url without padding (trailing '=' up to a multiple of 4 are
 * tolerated); non-zero trailing bits, other characters or a length of 1 mod 4
 * are refused. 0 and *outlen, or -1 (also when out is too small). */
int cw_dnsd_b64url_decode(const char *in, size_t n, uint8_t *out, size_t cap, size_t *outlen);
/* The query of a DoH request: post with content_type and body (body_too_big when
 * more than CW_DOH_MSG_MAX bytes were sent), or GET with the dns parameter (NULL
 * when absent). Returns 200 with the query in out (cap >= CW_DOH_MSG_MAX), or
 * 400 (bad base64url, missing parameter, not a DNS query: shorter than a header or
 * QR set), 413 (more than 65535 bytes), 415 (content type not
 * application/dns-message). */
unsigned cw_dnsd_doh_parse(bool post, const char *content_type, const char *dns_param,
                           const uint8_t *body, size_t blen, bool body_too_big, uint8_t *out,
                           size_t cap, size_t *qlen);
/* Cache-Control max-age of an answer (RFC 8484 5.1): the smallest TTL of its RRs
 * other than OPT; 0 when it has none or does not parse. */
uint32_t cw_dnsd_doh_max_age(const uint8_t *msg, size_t len);

#endif
