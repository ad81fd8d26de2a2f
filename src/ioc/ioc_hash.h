/* ioc_hash.h - the 64-bit hash of the indicator sets (private to src/ioc).
 *
 * A multiply-fold hash in the style of wyhash (128-bit products folded to 64
 * bits): keys here are short (names of ~20 bytes, 4..32-byte binary addresses and
 * digests), where it needs a handful of multiplies and no loop, against one
 * multiply per byte for FNV-1a (src/dns/rpz.c). Not a keyed hash: the sets hold
 * values chosen by analysts and feeds, not by the members whose records are
 * looked up, and a probe sequence is bounded by the load factor anyway.
 *
 * The hash is part of no format on disk or wire; it may change at any time. */
#ifndef CW_IOC_IOC_HASH_H
#define CW_IOC_IOC_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define CW_IOC_H_P0 0xa0761d6478bd642fULL
#define CW_IOC_H_P1 0xe7037ed1a0b428dbULL
#define CW_IOC_H_P2 0x8ebc6af09c88c6e3ULL

static inline uint64_t cw_ioc_hmix(uint64_t a, uint64_t b)
{
    __extension__ typedef unsigned __int128 u128;
    u128 r = (u128)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t cw_ioc_rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t cw_ioc_rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline uint64_t cw_ioc_hash(const void *key, size_t len)
{
    const uint8_t *p = key;
    uint64_t seed = CW_IOC_H_P2, a, b;
    if (len <= 16) {
        if (len >= 4) {
            size_t q = (len >> 3) << 2; /* 0 or 4: the middle words overlap for 4..7 */
            a = (cw_ioc_rd32(p) << 32) | cw_ioc_rd32(p + q);
            b = (cw_ioc_rd32(p + len - 4) << 32) | cw_ioc_rd32(p + len - 4 - q);
        } else if (len > 0) {
            a = ((uint64_t)p[0] << 16) | ((uint64_t)p[len >> 1] << 8) | p[len - 1];
            b = 0;
        } else {
            a = b = 0;
        }
    } else {
        size_t i = len;
        while (i > 16) {
            seed = cw_ioc_hmix(cw_ioc_rd64(p) ^ CW_IOC_H_P1, cw_ioc_rd64(p + 8) ^ seed);
            p += 16;
            i -= 16;
        }
        a = cw_ioc_rd64(p + i - 16);
        b = cw_ioc_rd64(p + i - 8);
    }
    return cw_ioc_hmix(CW_IOC_H_P1 ^ len, cw_ioc_hmix(a ^ CW_IOC_H_P1, b ^ seed));
}

#endif
