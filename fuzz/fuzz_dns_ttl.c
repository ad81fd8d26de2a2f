/* fuzz_dns_ttl.c - ageing a cached answer at stored TTL offsets.
 *
 * The input is a DNS message (an upstream's answer). When cw_dns_ttl_offsets accepts
 * it, ageing at those offsets (cw_dns_ttl_age_at) must give the same bytes as the
 * re-parsing rewrite cw_dns_ttl_age, which must succeed, at several ages. Then the
 * message goes through the answer cache under its question: what a later hit
 * returns must be what cw_dns_ttl_age makes of it (or nothing, when that refuses).
 * Any disagreement aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_msg.h"
#include "dns/dnsd_cache.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_offsets(const uint8_t *data, size_t size, uint8_t *a, uint8_t *b)
{
    uint16_t offs[256];
    int k = cw_dns_ttl_offsets(data, size, offs, 256);
    if (k < 0)
        return;
    static const uint32_t ages[] = {0, 1, 7, 86400, 0x80000000u, 0xffffffffu};
    for (size_t i = 0; i < sizeof(ages) / sizeof(ages[0]); i++) {
        memcpy(a, data, size);
        memcpy(b, data, size);
        cw_dns_ttl_age_at(a, offs, (size_t)k, ages[i]);
        if (cw_dns_ttl_age(b, size, ages[i], NULL) != 0 || memcmp(a, b, size) != 0)
            abort();
    }
}

static void check_cache(const uint8_t *data, size_t size, uint8_t *a, uint8_t *b)
{
    static struct cw_dns_msg m;
    if (cw_dns_msg_parse(&m, data, size) || !m.has_question)
        return;
    struct cw_dnsd_cache c;
    if (cw_dnsd_cache_init(&c, 4, 86400, 0))
        return;
    struct cw_dnsd_cache_key k = {m.qname, m.qname_len, m.qtype, m.qclass, 0};
    if (cw_dnsd_cache_put(&c, &k, data, size, 0) == 1) {
        size_t n = cw_dnsd_cache_get(&c, &k, 0x4242, 3500, a, 65536); /* age 3 s */
        memcpy(b, data, size);
        cw_dns_set_id(b, size, 0x4242);
        int rc = cw_dns_ttl_age(b, size, 3, NULL);
        int64_t ttl = cw_dnsd_cache_ttl(data, size, 86400);
        if (ttl > 3 && (rc == 0 ? n != size || memcmp(a, b, size) != 0 : n != 0))
            abort();
    }
    cw_dnsd_cache_release(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65535)
        return 0;
    static uint8_t a[65536], b[65536];
    check_offsets(data, size, a, b);
    check_cache(data, size, a, b);
    return 0;
}
