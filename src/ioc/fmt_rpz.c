/* fmt_rpz.c - indicators as a Response Policy Zone (draft-vixie-dnsop-dns-rpz) for
 * resolvers: QNAME triggers for names, IP triggers for addresses, all NXDOMAIN.
 * The output loads with src/dns/rpz.h (tests/unit/test_iocfmt.c checks it). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timefmt.h"
#include "ioc/fmt_impl.h"
#include "common/banned.h"

/* Names go into the zone only in the plain hostname alphabet: anything else would
 * need master-file escapes, and the normaliser does not produce it for real names. */
static bool plain_name(const char *s, size_t origin_len)
{
    size_t n = strlen(s), label = 0;
    if (n == 0 || n + origin_len + 4 > 253)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return false;
        if (++label > 63)
            return false;
    }
    return label > 0;
}

/* "P.d.c.b.a" or "P.w8.....w1" with the longest zero run as "zz" (IPv6). */
static int ip_owner(const char *v, char *out, size_t cap)
{
    char addr[64];
    unsigned prefix;
    const char *slash = strchr(v, '/');
    size_t an = slash ? (size_t)(slash - v) : strlen(v);
    if (an >= sizeof addr)
        return -1;
    memcpy(addr, v, an);
    addr[an] = '\0';
    uint8_t b[16];
    bool v6 = strchr(addr, ':') != NULL;
    if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, b) != 1)
        return -1;
    prefix = v6 ? 128 : 32;
    if (slash) {
        char *e;
        unsigned long p = strtoul(slash + 1, &e, 10);
        if (*e || p > prefix)
            return -1;
        prefix = (unsigned)p;
    }
    int k = snprintf(out, cap, "%u", prefix);
    if (!v6) {
        snprintf(out + k, cap - (size_t)k, ".%u.%u.%u.%u", b[3], b[2], b[1], b[0]);
        return 0;
    }
    unsigned w[8];
    for (int i = 0; i < 8; i++)
        w[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
    int best = -1, bestlen = 1;
    for (int i = 0; i < 8;) {
        if (w[i]) {
            i++;
            continue;
        }
        int j = i;
        while (j < 8 && !w[j])
            j++;
        if (j - i > bestlen) {
            best = i;
            bestlen = j - i;
        }
        i = j;
    }
    size_t o = (size_t)k;
    for (int i = 7; i >= 0; i--) {
        if (best >= 0 && i >= best && i < best + bestlen) {
            if (i == best + bestlen - 1)
                o += (size_t)snprintf(out + o, cap - o, ".zz");
            continue;
        }
        o += (size_t)snprintf(out + o, cap - o, ".%x", w[i]);
        if (o >= cap)
            return -1;
    }
    return 0;
}

int cw_ioc_export_rpz(const struct cw_ioc_item *items, size_t n,
                      const struct cw_ioc_export_opts *o, struct cw_buf *out)
{
    if (!o || !o->rpz_origin || !*o->rpz_origin)
        return -1;
    const char *origin = o->rpz_origin;
    size_t olen = strlen(origin);
    bool dot = origin[olen - 1] == '.';
    uint32_t serial = o->rpz_serial ? o->rpz_serial
                                    : (uint32_t)((o->now_us ? o->now_us : cw_now_us()) / 1000000);
    cw_buf_addf(out, "; crosswatch indicators as a response policy zone\n"
                     "$ORIGIN %s%s\n$TTL 300\n"
                     "@ IN SOA localhost. hostmaster.localhost. %u 3600 600 86400 300\n"
                     "@ IN NS localhost.\n",
                origin, dot ? "" : ".", serial);
    int left = 0;
    char owner[128];
    for (size_t i = 0; i < n; i++) {
        const struct cw_ioc_item *it = &items[i];
        char idb[CW_IOC_ID_MAX];
        const char *id = it->id;
        if (!id) {
            cw_ioc_item_id(it->type, it->value, idb);
            id = idb;
        }
        switch (it->type) {
        case CW_IOC_DOMAIN:
        case CW_IOC_HOSTNAME:
            if (!plain_name(it->value, olen)) {
                left++;
                continue;
            }
            cw_buf_addf(out, "; %s %s\n%s CNAME .\n", id, cw_ioc_type_name(it->type), it->value);
            if (it->type == CW_IOC_DOMAIN)
                cw_buf_addf(out, "*.%s CNAME .\n", it->value);
            break;
        case CW_IOC_IPV4:
        case CW_IOC_IPV6:
        case CW_IOC_CIDR:
            if (ip_owner(it->value, owner, sizeof owner)) {
                left++;
                continue;
            }
            cw_buf_addf(out, "; %s %s\n%s.rpz-ip CNAME .\n", id, it->value, owner);
            break;
        default:
            left++;
        }
    }
    return cw_buf_ok(out) ? left : -1;
}
