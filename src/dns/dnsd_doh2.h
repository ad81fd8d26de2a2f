/* dnsd_doh2.h - the DNS over HTTPS front end: TLS with OpenSSL, ALPN, HTTP/2 with
 * libnghttp2 (RFC 8484 section 5.2: HTTP/2 is the minimum recommended version), and
 * HTTP/1.1 relayed to libmicrohttpd (dnsd_doh.c).
 *
 * Design: one thread (the "front") owns every --doh-listen socket of a listener and
 * every HTTPS connection: accept, a non-blocking TLS handshake (dnsd_tls.h) within
 * a deadline, then ALPN decides. "h2" (preferred, which is what `kdig +https` and
 * curl offer first) gets an nghttp2 server session fed from SSL_read and drained
 * into SSL_write (nghttp2 does the framing, HPACK and flow control; this file does
 * the request handling on top). Anything else (ALPN "http/1.1" or no ALPN) is
 * relayed in plaintext over a socketpair to libmicrohttpd, whose HTTP/1.1 handler
 * (dnsd_doh.c) is unchanged and sees the client's real address.
 *
 * An HTTP/2 request is checked like an HTTP/1.1 one (cw_dnsd_doh_parse: media type,
 * 65535 bytes, base64url, a DNS header; cw_dnsd_doh_route: /dns-query[/<token>])
 * and handed to the resolver's loop through the same hub. The loop answers with
 * cw_dnsd_doh_answer, which for HTTP/2 requests calls cw_doh2_return: the request
 * goes back on the front's return list (mutex + eventfd) and the front submits the
 * response on its stream - if the stream still exists (a client may reset it).
 *
 * Limits: at most CW_DOH2_MAX_STREAMS concurrent streams per connection
 * (SETTINGS_MAX_CONCURRENT_STREAMS, enforced by nghttp2), CW_DOH2_HDR_MAX bytes of
 * request headers per stream (431 above it, the connection is dropped at 4x),
 * 65535 bytes of body (413, answered at once), a TLS handshake within
 * CW_DOH2_HANDSHAKE_MS, a connection without an open request closed after
 * CW_DOH2_IDLE_MS, max_conns connections per listener (further ones are closed at
 * once). A connection whose output cannot be written is not read (back-pressure).
 * nghttp2 itself refuses oversized frames, bad HPACK, SETTINGS/PING/RST floods.
 *
 * Ownership: a connection belongs to the front. A request handed to the loop keeps
 * its connection alive (counted in pending) until it comes back, even when the
 * client has gone; then it is freed by the front. */
#ifndef CW_DNS_DNSD_DOH2_H
#define CW_DNS_DNSD_DOH2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define CW_DOH2_MAX_STREAMS 100
#define CW_DOH2_HDR_MAX 8192
#define CW_DOH2_HANDSHAKE_MS 10000
#define CW_DOH2_IDLE_MS 10000

struct cw_dnsd_doh_hub;
struct cw_dnsd_doh_req;
struct cw_doh2_front;
struct cw_doh2_sess;

/* -- the HTTP/2 session of one connection, without I/O (fuzz/fuzz_doh2.c) -------- */

/* Called for each valid request; r belongs to the callee until it is passed to
 * cw_doh2_sess_answered (r->ans/alen/max_age set, or ans NULL: 503). Returns false
 * when the request cannot be taken (shutting down): the session answers 503. */
typedef bool (*cw_doh2_submit_fn)(void *arg, struct cw_dnsd_doh_req *r);

struct cw_doh2_sess *cw_doh2_sess_new(struct cw_dnsd_doh_hub *hub, unsigned listener,
                                      const struct sockaddr_storage *peer,
                                      cw_doh2_submit_fn submit, void *arg);
/* Feed bytes from the client. 0, or -1: close the connection (protocol error). */
int cw_doh2_sess_recv(struct cw_doh2_sess *s, const uint8_t *in, size_t n);
/* Next bytes to send: their length (0 when none, <0 on error) and *out, valid
 * until the next call. */
ssize_t cw_doh2_sess_send(struct cw_doh2_sess *s, const uint8_t **out);
/* A request submitted by this session is back: respond on its stream if that
 * stream is still open, and free r. */
void cw_doh2_sess_answered(struct cw_doh2_sess *s, struct cw_dnsd_doh_req *r);
/* Neither side wants to say anything more (GOAWAY done, or a fatal error). */
bool cw_doh2_sess_done(const struct cw_doh2_sess *s);
/* Streams open, and requests submitted and not yet answered. */
size_t cw_doh2_sess_streams(const struct cw_doh2_sess *s);
/* Send GOAWAY (then cw_doh2_sess_done becomes true once it is written). */
void cw_doh2_sess_goaway(struct cw_doh2_sess *s);
/* Every submitted request must have been answered. NULL is fine. */
void cw_doh2_sess_free(struct cw_doh2_sess *s);

/* -- the front (a thread) -------------------------------------------------------- */

/* Hands an HTTP/1.1 connection (plaintext end of a socketpair, the client's address
 * and its client certificate's view or -1) to libmicrohttpd, which closes fd in any
 * case; 0 or -1. */
typedef int (*cw_doh2_h1_fn)(void *arg, int fd, const struct sockaddr *peer, socklen_t len,
                             int view);

/* Start the front on a bound, listening socket (it owns fd on success). cert_pem may hold the chain. NULL with a message in err. */
struct cw_doh2_front *cw_doh2_front_start(struct cw_dnsd_doh_hub *hub, unsigned listener, int fd,
                                          const char *cert_pem, const char *key_pem,
                                          unsigned max_conns, cw_doh2_h1_fn h1, void *h1_arg,
                                          char *err, size_t errlen);
/* Stop the thread and close every connection; every request handed to the loop
 * must have been answered. NULL is fine. */
void cw_doh2_front_stop(struct cw_doh2_front *f);
/* cw_dnsd_doh_answer for an HTTP/2 request: back to its front (any thread). */
void cw_doh2_return(struct cw_dnsd_doh_req *r);

/* The path and query of an HTTP/2 :path, percent-decoded, in path (cap bytes) and
 * the dns parameter's value in dns (cap bytes, "" with *has_dns false when absent).
 * 0, or -1 when it does not fit or has a bad %-escape. */
int cw_doh2_split_path(const char *in, size_t n, char *path, size_t pcap, char *dns,
                       size_t dcap, bool *has_dns);

#endif
