/* dnsd_tls.h - DNS over TLS (RFC 7858) for the resolver's event loop: an OpenSSL
 * server context and non-blocking handshake/read/write on a client connection.
 *
 * The loop owns the connections (dnsd_server.c); this file only wraps OpenSSL so
 * that the loop sees the same "bytes, would block, end, error" results as for a
 * plain TCP socket, plus which direction a blocked call waits for. A TLS call can
 * need the other direction (a read may have to write a key update, a write may
 * have to read first): the result says so and the loop polls for it.
 *
 * The context: TLS 1.2 at least, no renegotiation, a peer closing without
 * close_notify is an ordinary end of stream, partial writes from a moving buffer.
 * Certificate and key are read once at start (before privileges are dropped).
 * Thread safety: the context is shared read-only; each SSL belongs to the loop. */
#ifndef CW_DNS_DNSD_TLS_H
#define CW_DNS_DNSD_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

enum cw_dnsd_tls_io {
    CW_TLS_IO_OK = 0,        /* handshake done / bytes moved (see *n) */
    CW_TLS_IO_WANT_READ = -1,  /* would block until the socket is readable */
    CW_TLS_IO_WANT_WRITE = -2, /* would block until the socket is writable */
    CW_TLS_IO_EOF = -3,      /* the peer closed (close_notify or TCP FIN) */
    CW_TLS_IO_ERROR = -4     /* protocol or socket error: close the connection */
};

/* A server context from PEM files (cert may hold the chain). NULL with a message
 * in err (unreadable file, key does not match the certificate). Free with
 * cw_dnsd_tls_ctx_free. */
SSL_CTX *cw_dnsd_tls_ctx_new(const char *cert_file, const char *key_file, char *err, size_t errlen);
void cw_dnsd_tls_ctx_free(SSL_CTX *ctx);
/* A server-side SSL on an accepted non-blocking socket, NULL on OOM. */
SSL *cw_dnsd_tls_new(SSL_CTX *ctx, int fd);
/* Send close_notify if possible (never blocks) and free. NULL is fine. */
void cw_dnsd_tls_free(SSL *ssl);
int cw_dnsd_tls_handshake(SSL *ssl);
/* Read/write up to cap bytes; *n = bytes moved on CW_TLS_IO_OK. */
int cw_dnsd_tls_read(SSL *ssl, void *buf, size_t cap, size_t *n);
int cw_dnsd_tls_write(SSL *ssl, const void *buf, size_t len, size_t *n);
/* Why the last handshake failed (for the debug log). */
const char *cw_dnsd_tls_error(char *buf, size_t cap);

/* -- views by client certificate (--view-tls-cert, alias --view-dot-cert) --------
 *
 * A client certificate is a credential pinned by the SHA-256 of its DER encoding,
 * not a chain to a CA: the server asks for one (SSL_VERIFY_PEER without
 * FAIL_IF_NO_PEER_CERT) and its verify callback accepts any chain, so a client
 * without a certificate, or with an unknown one, still gets DoT or DoH in its
 * address view. Both listeners (dnsd_server.c for DoT, dnsd_doh2.c for DoH) use
 * the same pins and these same functions. The TLS handshake itself proves the client holds the certificate's private
 * key (CertificateVerify), which is what the pin relies on; expiry and issuer are
 * not looked at (a pin is revoked by removing it from the configuration). */
#define CW_DNSD_TLS_MAX_PINS 1024

struct cw_dnsd_tls_pins {
    uint8_t sha256[CW_DNSD_TLS_MAX_PINS][32];
    uint16_t view[CW_DNSD_TLS_MAX_PINS];
    size_t n;
};

/* Add a pin (64 hex digits) for a view. 0, or -1 (bad hex, too many). */
int cw_dnsd_tls_pin_add(struct cw_dnsd_tls_pins *p, const char *hex, uint16_t view);
/* Ask clients for a certificate, accept any (see above). Before any SSL is made. */
void cw_dnsd_tls_ctx_request_cert(SSL_CTX *ctx);
/* After the handshake: the view pinned to the client's certificate, or -1 (no
 * certificate, or one no pin names). */
int cw_dnsd_tls_peer_view(SSL *ssl, const struct cw_dnsd_tls_pins *p);

#endif
