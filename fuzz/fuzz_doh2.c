/* fuzz_doh2.c - DNS over HTTPS on HTTP/2 without the network: the request handling
 * of src/dns/dnsd_doh2.c on top of nghttp2's server session (cw_doh2_sess_*).
 *
 * Input: byte 0 holds options (bit 0: do not prepend the client connection
 * preface, so the preface check itself is fuzzed; bit 1: answer every request at
 * the end instead of at once, so streams are reset or closed while requests are
 * out; bits 2-7: the chunk size the rest is fed in, 1..64 bytes * 16). The rest is
 * what a client sends. Requests are answered with the query echoed with QR set
 * (or, for every third, no answer: HTTP 503). Checks: every request handed over is
 * a DNS query (12..65535 bytes, QR clear) from an odd client stream id, in the
 * default view (-1) or the token's view (7 for /dns-query/tok); the session's
 * output is drained after every chunk; nothing leaks (ASan). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dnsd_doh.h"
#include "dns/dnsd_doh2.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HELD_MAX 256

struct ctx {
    struct cw_doh2_sess *s;
    bool hold;
    struct cw_dnsd_doh_req *held[HELD_MAX];
    size_t nheld, n;
};

static void answer(struct ctx *c, struct cw_dnsd_doh_req *r)
{
    if (c->n++ % 3 != 2 && (r->ans = malloc(r->qlen))) {
        memcpy(r->ans, r->q, r->qlen);
        r->ans[2] |= 0x80;
        r->alen = r->qlen;
        r->max_age = cw_dnsd_doh_max_age(r->ans, r->alen);
    }
    cw_doh2_sess_answered(c->s, r);
}

static bool submit(void *arg, struct cw_dnsd_doh_req *r)
{
    struct ctx *c = arg;
    if (r->qlen < 12 || r->qlen > CW_DOH_MSG_MAX || (r->q[2] & 0x80) || r->h2_stream <= 0 ||
        !(r->h2_stream & 1) || (r->view != -1 && r->view != 7))
        abort();
    if (c->hold && c->nheld < HELD_MAX) {
        c->held[c->nheld++] = r;
        return true;
    }
    answer(c, r);
    return true;
}

static void drain(struct cw_doh2_sess *s)
{
    const uint8_t *p;
    while (cw_doh2_sess_send(s, &p) > 0)
        ;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct cw_dnsd_doh_hub hub;
    static bool init;
    if (!init) {
        if (cw_dnsd_doh_hub_init(&hub) ||
            /* BLAKE2b-256("tok") */
            cw_dnsd_doh_hub_token(&hub,
                                  "8a2bc68266dc87431445fe84bb154c6ddf7049e7b6181069827c9739e4e6649a",
                                  7))
            abort();
        init = true;
    }
    if (size < 1)
        return 0;
    uint8_t opt = data[0];
    data++;
    size--;
    struct ctx c = {.hold = opt & 2};
    struct sockaddr_storage peer = {.ss_family = AF_INET};
    c.s = cw_doh2_sess_new(&hub, 0, &peer, submit, &c);
    if (!c.s)
        return 0;
    static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    bool ok = true;
    if (!(opt & 1))
        ok = cw_doh2_sess_recv(c.s, (const uint8_t *)preface, sizeof(preface) - 1) == 0;
    size_t chunk = (size_t)((opt >> 2) + 1) * 16;
    for (size_t off = 0; ok && off < size; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        ok = cw_doh2_sess_recv(c.s, data + off, n) == 0;
        drain(c.s);
    }
    for (size_t i = 0; i < c.nheld; i++)
        answer(&c, c.held[i]);
    drain(c.s);
    (void)cw_doh2_sess_done(c.s);
    (void)cw_doh2_sess_streams(c.s);
    cw_doh2_sess_free(c.s);
    return 0;
}
