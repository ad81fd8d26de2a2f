/* sigma_urlnorm.c - URL normalisation before matching.
 *
 * Attackers hide "../" and keywords behind encodings a web server undoes:
 * %2e%2e%2f, double encoding (%252e), IIS %u002e, overlong UTF-8 (%c0%ae for '.',
 * %c0%af / %e0%80%af for '/'), mixed case hex. Matching runs on the raw value
 * and on this normalised form (sigma_eval.c), so rules written for either fire.
 * '+' is left alone (it is a space only in form data) and case is kept (Sigma
 * matching is case-insensitive anyway). */
#include "detect/sigma_rule.h"

#include <string.h>

#include "common/banned.h"

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One pass of %XX and %uXXXX decoding. Returns the new length. */
static size_t decode_once(const char *in, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < cap; i++) {
        const unsigned char *u = (const unsigned char *)in + i;
        if (u[0] == '%' && i + 2 < n && hexval(u[1]) >= 0 && hexval(u[2]) >= 0) {
            out[k++] = (char)(hexval(u[1]) * 16 + hexval(u[2]));
            i += 2;
        } else if (u[0] == '%' && i + 5 < n && (u[1] | 0x20) == 'u' && hexval(u[2]) >= 0 &&
                   hexval(u[3]) >= 0 && hexval(u[4]) >= 0 && hexval(u[5]) >= 0) {
            unsigned v = (unsigned)(hexval(u[2]) << 12 | hexval(u[3]) << 8 | hexval(u[4]) << 4 |
                                    hexval(u[5]));
            if (v < 0x80) {
                out[k++] = (char)v;
            } else if (v < 0x800 && k + 1 < cap) {
                out[k++] = (char)(0xc0 | (v >> 6));
                out[k++] = (char)(0x80 | (v & 0x3f));
            } else if (k + 2 < cap) {
                out[k++] = (char)(0xe0 | (v >> 12));
                out[k++] = (char)(0x80 | ((v >> 6) & 0x3f));
                out[k++] = (char)(0x80 | (v & 0x3f));
            }
            i += 5;
        } else {
            out[k++] = (char)u[0];
        }
    }
    return k;
}

/* Overlong 2- and 3-byte encodings of ASCII become the ASCII byte. In place. */
static size_t fold_overlong(char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *u = (const unsigned char *)s + i;
        if ((u[0] == 0xc0 || u[0] == 0xc1) && i + 1 < n && (u[1] & 0xc0) == 0x80) {
            s[k++] = (char)(((u[0] & 0x1f) << 6) | (u[1] & 0x3f));
            i += 1;
        } else if (u[0] == 0xe0 && i + 2 < n && (u[1] & 0xe0) == 0x80 && (u[2] & 0xc0) == 0x80) {
            s[k++] = (char)(((u[1] & 0x3f) << 6) | (u[2] & 0x3f));
            i += 2;
        } else {
            s[k++] = s[i];
        }
    }
    return k;
}

size_t sigma_url_normalize(const char *in, size_t n, char *out, size_t cap)
{
    char tmp[4096];
    size_t len = decode_once(in, n, out, cap);
    /* double and triple encoding: decode again while something changes */
    for (int round = 0; round < 2 && memchr(out, '%', len) && len <= sizeof(tmp); round++) {
        memcpy(tmp, out, len);
        size_t nl = decode_once(tmp, len, out, cap);
        if (nl == len && memcmp(tmp, out, len) == 0)
            break;
        len = nl;
    }
    return fold_overlong(out, len);
}
