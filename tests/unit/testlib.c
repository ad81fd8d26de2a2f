#include "testlib.h"

#include <stdlib.h>
#include <zlib.h>

int cw_test_checks, cw_test_failures;

int cw_test_finish(const char *name)
{
    fprintf(stderr, "%s: %d checks, %d failures\n", name, cw_test_checks, cw_test_failures);
    return (cw_test_failures == 0 && cw_test_checks > 0) ? 0 : 1;
}

const char *cw_test_shared(const char *rel)
{
    static char path[4096];
    const char *base = getenv("CW_SHARED_DIR");
    snprintf(path, sizeof(path), "%s/%s", base && *base ? base : "../shared", rel);
    return path;
}

char *cw_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap + 1);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            b = realloc(b, cap + 1);
        }
        size_t r = fread(b + n, 1, cap - n, f);
        if (r == 0)
            break;
        n += r;
    }
    fclose(f);
    b[n] = '\0';
    if (len)
        *len = n;
    return b;
}

char *cw_test_read_gz(const char *path, size_t *len)
{
    gzFile g = gzopen(path, "rb");
    if (!g)
        return NULL;
    size_t cap = 1 << 20, n = 0;
    char *b = malloc(cap + 1);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            b = realloc(b, cap + 1);
        }
        int r = gzread(g, b + n, (unsigned)(cap - n));
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    gzclose(g);
    b[n] = '\0';
    if (len)
        *len = n;
    return b;
}

/* Classic pcap (little-endian, Ethernet with or without one VLAN tag), IPv4 or IPv6,
 * UDP with port 53 on either side; truncated or foreign frames are skipped. */
static uint32_t le32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

size_t cw_test_pcap_udp53(const char *path, cw_test_payload_fn fn, void *ctx)
{
    size_t len, count = 0;
    uint8_t *d = (uint8_t *)cw_test_read_file(path, &len);
    if (!d || len < 24 || le32(d) != 0xa1b2c3d4 || le32(d + 20) != 1) {
        free(d);
        return 0;
    }
    for (size_t off = 24; off + 16 <= len;) {
        size_t incl = le32(d + off + 8);
        const uint8_t *p = d + off + 16;
        off += 16 + incl;
        if (off > len || incl < 14)
            break;
        size_t l2 = 14;
        unsigned et = (unsigned)(p[12] << 8 | p[13]);
        if (et == 0x8100 && incl >= 18) {
            et = (unsigned)(p[16] << 8 | p[17]);
            l2 = 18;
        }
        const uint8_t *ip = p + l2, *udp;
        size_t iplen = incl - l2;
        if (et == 0x0800 && iplen >= 20 && ip[9] == 17 && iplen >= (size_t)(ip[0] & 15) * 4 + 8)
            udp = ip + (ip[0] & 15) * 4;
        else if (et == 0x86dd && iplen >= 48 && ip[6] == 17)
            udp = ip + 40;
        else
            continue;
        unsigned sp = (unsigned)(udp[0] << 8 | udp[1]), dp = (unsigned)(udp[2] << 8 | udp[3]);
        if (sp != 53 && dp != 53)
            continue;
        size_t ulen = (size_t)(udp[4] << 8 | udp[5]);
        size_t avail = (size_t)(ip + iplen - udp);
        if (ulen < 8 || ulen > avail)
            continue;
        fn(udp + 8, ulen - 8, ctx);
        count++;
    }
    free(d);
    return count;
}
