/* fuzz_ioc_normalize.c - canonical forms of indicators (ioc/ioc.h) on arbitrary bytes.
 *
 * The first byte picks the type (byte % 13 + 1: domain, hostname, url, ipv4, ipv6,
 * cidr, email, md5, sha1, sha256, ja3, ja4, user-agent); the rest is the value.
 * Invariants, each an abort when broken:
 *   - an accepted value's canonical form is non-empty, NUL-terminated, shorter than
 *     CW_IOC_VALUE_MAX, and normalises to itself;
 *   - a rejected value has a reason;
 *   - the canonical form added to a cw_iocset is found again by the matcher a
 *     record would use for that type (names, addresses, URLs as host + path);
 *   - cw_ioc_guess(): a guessed type accepts the value;
 *   - cw_ioc_refang() never grows the text and always terminates it;
 *   - the guard answers every canonical value without crashing. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ioc/ioc.h"
#include "ioc/iocset.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cw_ioc_guard *guard;

static void check_found(enum cw_ioc_type t, const char *c)
{
    struct cw_iocset *s = cw_iocset_new();
    if (!s)
        abort();
    size_t n = strlen(c);
    if (cw_iocset_add(s, t, c, n, 7) < 0) {
        fprintf(stderr, "canonical %s \"%s\" refused by the set\n", cw_ioc_type_name(t), c);
        abort();
    }
    uint64_t got;
    if (t == CW_IOC_DOMAIN || t == CW_IOC_HOSTNAME) {
        got = cw_iocset_match_name(s, c, n);
    } else if (t == CW_IOC_IPV4 || t == CW_IOC_IPV6) {
        got = cw_iocset_match_addr_text(s, c, n);
    } else if (t == CW_IOC_CIDR) {
        got = cw_iocset_match_addr_text(s, c, (size_t)(strchr(c, '/') - c));
    } else {
        got = cw_iocset_match(s, t, c, n);
    }
    if (got != 7) {
        fprintf(stderr, "canonical %s \"%s\" not found in the set\n", cw_ioc_type_name(t), c);
        abort();
    }
    if (cw_iocset_remove(s, t, c, n) != 1 || cw_iocset_count(s) != 0)
        abort();
    cw_iocset_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (!guard) {
        char e[256];
        guard = cw_ioc_guard_new(NULL, e, sizeof(e));
        if (!guard)
            abort();
    }
    enum cw_ioc_type t = (enum cw_ioc_type)(data[0] % 13 + 1);
    const char *v = (const char *)data + 1;
    size_t n = size - 1;
    char out[CW_IOC_VALUE_MAX], again[CW_IOC_VALUE_MAX], err[256], why[512];
    if (cw_ioc_normalize(t, v, n, out, sizeof(out), err, sizeof(err)) == 0) {
        size_t on = strnlen(out, sizeof(out));
        if (on == 0 || on >= CW_IOC_VALUE_MAX)
            abort();
        if (cw_ioc_normalize(t, out, on, again, sizeof(again), err, sizeof(err)) != 0 ||
            strcmp(out, again) != 0) {
            fprintf(stderr, "%s: \"%s\" -> \"%s\" (%s)\n", cw_ioc_type_name(t), out, again, err);
            abort();
        }
        check_found(t, out);
        (void)cw_ioc_guard_check(guard, t, out, why, sizeof(why));
    } else if (err[0] == '\0') {
        abort();
    }
    enum cw_ioc_type g = cw_ioc_guess(v, n);
    if (g != CW_IOC_NONE && cw_ioc_normalize(g, v, n, out, sizeof(out), err, sizeof(err)) != 0) {
        fprintf(stderr, "guessed %s but: %s\n", cw_ioc_type_name(g), err);
        abort();
    }
    char *rf = malloc(n + 1);
    if (!rf)
        return 0;
    size_t rn = cw_ioc_refang(v, n, rf, n + 1);
    if (rn > n || rf[rn] != '\0')
        abort();
    free(rf);
    return 0;
}
