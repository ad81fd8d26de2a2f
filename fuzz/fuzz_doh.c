/* fuzz_doh.c - DNS over HTTPS request handling without the network
 * (src/dns/dnsd_doh.h: cw_dnsd_doh_parse, cw_dnsd_b64url_decode, max-age).
 *
 * Input: byte 0 picks the method (bit 0: POST) and whether the content type is
 * given (bit 1) and the body is flagged too big (bit 2); then a content type up to
 * the first '\n', then the rest is the dns= parameter (GET, NUL-terminated here)
 * or the body (POST). Checks: the status is one of 200/400/413/415; on 200 the
 * query is 12..65535 bytes with QR clear; a GET query's base64url re-encodes to
 * the parameter (the decoder accepts only the canonical encoding, padding aside);
 * the max-age of the query bytes read as an answer never crashes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dnsd_doh.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static size_t encode(const uint8_t *in, size_t n, char *out)
{
    size_t o = 0;
    uint32_t acc = 0;
    unsigned bits = 0;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[o++] = B64[(acc >> bits) & 63];
        }
    }
    if (bits)
        out[o++] = B64[(acc << (6 - bits)) & 63];
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 200000)
        return 0;
    bool post = data[0] & 1, has_ct = data[0] & 2, too_big = data[0] & 4;
    const uint8_t *p = data + 1, *end = data + size;
    const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
    char ct[256] = "";
    if (nl) {
        size_t cl = (size_t)(nl - p) < sizeof(ct) - 1 ? (size_t)(nl - p) : sizeof(ct) - 1;
        memcpy(ct, p, cl);
        ct[cl] = '\0';
        p = nl + 1;
    }
    size_t rest = (size_t)(end - p);
    char *param = malloc(rest + 1);
    uint8_t *out = malloc(CW_DOH_MSG_MAX);
    if (!param || !out)
        abort();
    memcpy(param, p, rest);
    param[rest] = '\0';
    size_t qlen = 0;
    unsigned st = cw_dnsd_doh_parse(post, has_ct ? ct : NULL, post ? NULL : param, p, rest,
                                    too_big, out, CW_DOH_MSG_MAX, &qlen);
    if (st != 200 && st != 400 && st != 413 && st != 415)
        abort();
    if (st == 200) {
        if (qlen < 12 || qlen > CW_DOH_MSG_MAX || (out[2] & 0x80))
            abort();
        if (post && (qlen != rest || memcmp(out, p, rest)))
            abort();
        if (!post) {
            size_t pl = strlen(param);
            while (pl && param[pl - 1] == '=')
                pl--;
            char *re = malloc(qlen / 3 * 4 + 8);
            if (!re)
                abort();
            size_t rl = encode(out, qlen, re);
            if (rl != pl || memcmp(re, param, pl))
                abort();
            free(re);
        }
        (void)cw_dnsd_doh_max_age(out, qlen);
    }
    /* the decoder alone, on the raw bytes */
    size_t dl;
    if (cw_dnsd_b64url_decode((const char *)p, rest, out, CW_DOH_MSG_MAX, &dl) == 0 &&
        dl > rest)
        abort();
    free(param);
    free(out);
    return 0;
}
