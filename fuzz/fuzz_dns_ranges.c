/* fuzz_dns_ranges.c - the bad-ranges file of the DNS threat flags (detect/dns_flags.h).
 *
 * The input is parsed with cw_ipranges_parse(). When it is accepted, the same lines
 * are read again here the simple way (first token of each non-comment line:
 * address[/prefix]) and, for every entry, its first and last address and the
 * addresses just outside it are looked up and compared with a brute-force oracle
 * (cw_ip_in_net over every entry; an IPv4-mapped IPv6 address also matches IPv4
 * entries). Any disagreement aborts (beyond 256 entries the oracle keeps only the
 * first ones, and only "the oracle says in, the ranges say out" is an error). A rejected input must have set a message. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/dns_flags.h"
#include "triage/noise.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ENTRIES 256

struct entry {
    struct cw_ip net;
    unsigned prefix;
};

static int oracle(const struct entry *e, size_t n, const struct cw_ip *ip)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    struct cw_ip v4 = {0};
    if (ip->family == 6 && !memcmp(ip->a, mapped, 12)) {
        v4.family = 4;
        memcpy(v4.a, ip->a + 12, 4);
    }
    for (size_t i = 0; i < n; i++) {
        if (e[i].net.family == ip->family && cw_ip_in_net(ip, &e[i].net, e[i].prefix))
            return 1;
        if (v4.family && e[i].net.family == 4 && cw_ip_in_net(&v4, &e[i].net, e[i].prefix))
            return 1;
    }
    return 0;
}

/* ip with the bits below prefix set (last = 1) or cleared, then +/- delta */
static struct cw_ip edge(const struct entry *e, int last, int delta)
{
    struct cw_ip ip = e->net;
    unsigned maxp = ip.family == 4 ? 32 : 128;
    for (unsigned bit = e->prefix; bit < maxp; bit++) {
        if (last)
            ip.a[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
        else
            ip.a[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
    }
    int nb = (int)maxp / 8;
    if (delta > 0) {
        for (int i = nb - 1; i >= 0 && ++ip.a[i] == 0; i--)
            ;
    } else if (delta < 0) {
        for (int i = nb - 1; i >= 0 && ip.a[i]-- == 0; i--)
            ;
    }
    return ip;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    char err[200] = "";
    struct cw_ipranges *r = cw_ipranges_parse((const char *)data, size, err, sizeof(err));
    if (!r) {
        if (!err[0])
            abort();
        return 0;
    }
    struct entry *e = calloc(MAX_ENTRIES, sizeof(*e));
    size_t n = 0, pos = 0;
    int truncated = 0; /* more entries than the oracle keeps: it can only say "in" */
    const char *t = (const char *)data;
    while (pos < size) {
        size_t end = pos;
        while (end < size && t[end] != '\n')
            end++;
        size_t p = pos;
        pos = end + 1;
        while (p < end && (t[p] == ' ' || t[p] == '\t' || t[p] == '\r'))
            p++;
        if (p == end || t[p] == '#')
            continue;
        if (n == MAX_ENTRIES) {
            truncated = 1;
            break;
        }
        size_t q = p;
        while (q < end && t[q] != ' ' && t[q] != '\t' && t[q] != '\r' && t[q] != '#')
            q++;
        const char *slash = memchr(t + p, '/', q - p);
        size_t alen = slash ? (size_t)(slash - (t + p)) : q - p;
        if (cw_ip_parse(&e[n].net, t + p, alen))
            abort(); /* the parser accepted it */
        unsigned maxp = e[n].net.family == 4 ? 32 : 128;
        e[n].prefix = maxp;
        if (slash) { /* digits up to the token's end (the input is not NUL-terminated) */
            e[n].prefix = 0;
            for (const char *d = slash + 1; d < t + q; d++)
                e[n].prefix = e[n].prefix * 10 + (unsigned)(*d - '0');
        }
        if (e[n].prefix > maxp)
            abort();
        n++;
    }
    for (size_t i = 0; i < n; i++)
        for (int last = 0; last < 2; last++)
            for (int d = -1; d <= 1; d++) {
                if ((last && d < 0) || (!last && d > 0))
                    continue;
                struct cw_ip ip = edge(&e[i], last, d);
                int got = cw_ipranges_contains(r, &ip), want = oracle(e, n, &ip);
                if (got != want && !(truncated && got))
                    abort();
            }
    size_t cnt = cw_ipranges_count(r);
    if (!truncated && cnt > n)
        abort();
    free(e);
    cw_ipranges_free(r);
    return 0;
}
