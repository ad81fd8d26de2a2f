/* fuzz_rpz.c - the RPZ zone-file reader and the lookups on what it loaded.
 *
 * The input is zone text. It is loaded (errors go to a counting callback, never
 * logged); if a zone comes back, every name-like token of the input is looked up
 * as a QNAME and an NSDNAME, a few addresses as client/response/NS IPs, and a
 * match must be self-consistent (action in range, zone name set, CNAME targets
 * at most 255 bytes). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_msg.h"
#include "dns/rpz.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count_err(void *ctx, const char *file, unsigned line, const char *reason)
{
    (*(size_t *)ctx)++;
}

static void check(const struct cw_rpz_set *s, bool hit, const struct cw_rpz_match *m,
                  const uint8_t *q, size_t qn)
{
    if (!hit)
        return;
    if (m->action <= CW_RPZ_ACT_NONE || m->action >= CW_RPZ_ACT_COUNT || !m->zone_name ||
        m->zone_index >= cw_rpz_set_count(s))
        abort();
    uint8_t t[CW_DNS_NAME_MAX];
    size_t tn;
    if (m->action == CW_RPZ_ACT_CNAME && cw_rpz_cname_target(m, q, qn, t, &tn) == 0 &&
        cw_dns_name_wire_len(t, tn) != tn)
        abort();
    char ede[300];
    if (cw_rpz_match_ede_text(m, ede, sizeof(ede)) >= sizeof(ede))
        abort();
}

static void lookups(const struct cw_rpz_set *s, const char *text, size_t n)
{
    struct cw_rpz_match m;
    uint8_t w[CW_DNS_NAME_MAX];
    size_t wn;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && text[j] != ' ' && text[j] != '\t' && text[j] != '\n')
            j++;
        if (j > i && cw_dns_name_from_text(text + i, j - i, w, &wn) == 0) {
            cw_dns_name_lower(w, wn);
            check(s, cw_rpz_set_lookup_qname(s, w, wn, &m), &m, w, wn);
            check(s, cw_rpz_set_lookup_nsdname(s, w, wn, &m), &m, w, wn);
        }
        i = j + 1;
    }
    static const struct cw_rpz_addr addrs[] = {
        {4, {10, 0, 0, 1}}, {4, {192, 0, 2, 1}}, {4, {127, 0, 0, 1}},
        {6, {0x20, 0x01, 0x0d, 0xb8, [15] = 1}},
    };
    for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
        check(s, cw_rpz_set_lookup_client(s, &addrs[i], &m), &m, w, 0);
        check(s, cw_rpz_set_lookup_ip(s, &addrs[i], &m), &m, w, 0);
        check(s, cw_rpz_set_lookup_nsip(s, &addrs[i], &m), &m, w, 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t errs = 0;
    struct cw_rpz_load_opts o = {.on_error = count_err, .ctx = &errs, .max_rules = 100000};
    struct cw_rpz_stats st;
    char err[256];
    struct cw_rpz_zone *z = cw_rpz_zone_load_mem((const char *)data, size, "fuzz", &o, &st, err,
                                                 sizeof(err));
    if (!z)
        return 0;
    struct cw_rpz_set *s = cw_rpz_set_new();
    if (!s || cw_rpz_set_add(s, z)) {
        cw_rpz_zone_free(z);
        cw_rpz_set_unref(s);
        return 0;
    }
    lookups(s, (const char *)data, size);
    cw_rpz_set_unref(s);
    return 0;
}
