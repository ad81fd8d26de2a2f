/* dnsd_tls.c - OpenSSL glue for DNS over TLS (see dnsd_tls.h). */
#include "dns/dnsd_tls.h"

#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "common/banned.h"

static void ssl_err(char *err, size_t errlen, const char *what, const char *file)
{
    unsigned long e = ERR_get_error();
    char b[256] = "";
    if (e)
        ERR_error_string_n(e, b, sizeof(b));
    snprintf(err, errlen, "%s %s: %s", what, file, b[0] ? b : strerror(errno));
    ERR_clear_error();
}

SSL_CTX *cw_dnsd_tls_ctx_new(const char *cert_file, const char *key_file, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        snprintf(err, errlen, "cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
        ssl_err(err, errlen, "--tls-cert", cert_file);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
        ssl_err(err, errlen, "--tls-key", key_file);
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        ssl_err(err, errlen, "--tls-key does not match --tls-cert:", key_file);
        goto fail;
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

void cw_dnsd_tls_ctx_free(SSL_CTX *ctx)
{
    SSL_CTX_free(ctx);
}

SSL *cw_dnsd_tls_new(SSL_CTX *ctx, int fd)
{
    SSL *ssl = SSL_new(ctx);
    if (!ssl)
        return NULL;
    if (SSL_set_fd(ssl, fd) != 1) {
        SSL_free(ssl);
        return NULL;
    }
    SSL_set_accept_state(ssl);
    return ssl;
}

void cw_dnsd_tls_free(SSL *ssl)
{
    if (!ssl)
        return;
    if (SSL_is_init_finished(ssl)) {
        SSL_set_quiet_shutdown(ssl, 0);
        (void)SSL_shutdown(ssl); /* one non-blocking attempt at close_notify */
    }
    ERR_clear_error();
    SSL_free(ssl);
}

static int io_result(SSL *ssl, int r)
{
    switch (SSL_get_error(ssl, r)) {
    case SSL_ERROR_WANT_READ: return CW_TLS_IO_WANT_READ;
    case SSL_ERROR_WANT_WRITE: return CW_TLS_IO_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN: return CW_TLS_IO_EOF;
    case SSL_ERROR_SYSCALL:
        if (errno == EAGAIN || errno == EINTR)
            return CW_TLS_IO_WANT_READ;
        return ERR_peek_error() == 0 && errno == 0 ? CW_TLS_IO_EOF : CW_TLS_IO_ERROR;
    default: return CW_TLS_IO_ERROR;
    }
}

int cw_dnsd_tls_handshake(SSL *ssl)
{
    ERR_clear_error();
    errno = 0;
    int r = SSL_do_handshake(ssl);
    return r == 1 ? CW_TLS_IO_OK : io_result(ssl, r);
}

int cw_dnsd_tls_read(SSL *ssl, void *buf, size_t cap, size_t *n)
{
    ERR_clear_error();
    errno = 0;
    int r = SSL_read(ssl, buf, cap > INT_MAX ? INT_MAX : (int)cap);
    if (r > 0) {
        *n = (size_t)r;
        return CW_TLS_IO_OK;
    }
    return io_result(ssl, r);
}

int cw_dnsd_tls_write(SSL *ssl, const void *buf, size_t len, size_t *n)
{
    ERR_clear_error();
    errno = 0;
    int r = SSL_write(ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
    if (r > 0) {
        *n = (size_t)r;
        return CW_TLS_IO_OK;
    }
    return io_result(ssl, r);
}

const char *cw_dnsd_tls_error(char *buf, size_t cap)
{
    unsigned long e = ERR_peek_last_error();
    if (!e)
        snprintf(buf, cap, "%s", errno ? strerror(errno) : "connection closed");
    else
        ERR_error_string_n(e, buf, cap);
    ERR_clear_error();
    return buf;
}

/* -- views by client certificate ------------------------------------------------- */

int cw_dnsd_tls_pin_add(struct cw_dnsd_tls_pins *p, const char *hex, uint16_t view)
{
    if (p->n >= CW_DNSD_TLS_MAX_PINS || strlen(hex) != 64)
        return -1;
    for (size_t i = 0; i < 32; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char ch = hex[2 * i + (size_t)k];
            unsigned d = ch >= '0' && ch <= '9'   ? (unsigned)(ch - '0')
                         : ch >= 'a' && ch <= 'f' ? (unsigned)(ch - 'a' + 10)
                         : ch >= 'A' && ch <= 'F' ? (unsigned)(ch - 'A' + 10)
                                                  : 16u;
            if (d > 15)
                return -1;
            v = v << 4 | d;
        }
        p->sha256[p->n][i] = (uint8_t)v;
    }
    p->view[p->n++] = view;
    return 0;
}

/* Any chain is accepted: the certificate is a pinned credential (dnsd_tls.h). */
static int accept_any(int preverify_ok, X509_STORE_CTX *x)
{
    (void)preverify_ok;
    (void)x;
    return 1;
}

void cw_dnsd_tls_ctx_request_cert(SSL_CTX *ctx)
{
    static const unsigned char sid[] = "crosswatch-dot";
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any);
    /* resumed sessions keep the peer certificate; OpenSSL wants a context id then */
    SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1);
}

int cw_dnsd_tls_peer_view(SSL *ssl, const struct cw_dnsd_tls_pins *p)
{
    if (!p || !p->n)
        return -1;
    X509 *cert = SSL_get1_peer_certificate(ssl);
    if (!cert)
        return -1;
    uint8_t md[32];
    unsigned mdlen = 0;
    int ok = X509_digest(cert, EVP_sha256(), md, &mdlen) == 1 && mdlen == 32;
    X509_free(cert);
    if (!ok)
        return -1;
    int view = -1;
    for (size_t i = 0; i < p->n; i++) /* every pin compared: no early exit on a match */
        if (CRYPTO_memcmp(md, p->sha256[i], 32) == 0 && view < 0)
            view = p->view[i];
    return view;
}
