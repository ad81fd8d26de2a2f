/* fuzz_dns_msg.c - the DNS message parser and everything that rewrites a message.
 *
 * The input is a DNS message. It is parsed; if it parses, then (1) every RR owner
 * and the question name are decompressed again and printed as text, (2) a reply is
 * built to it (NXDOMAIN with EDE, and a local-data answer truncated to 512 bytes)
 * and must parse back, with the question copied, (3) TTL ageing, serve-stale and
 * truncation run on a copy, which must still parse. Any disagreement aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_msg.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_names(const struct cw_dns_msg *m)
{
    uint8_t w[CW_DNS_NAME_MAX];
    char text[CW_DNS_TEXT_MAX];
    size_t n;
    for (unsigned i = 0; i < m->nrr; i++) {
        if (cw_dns_name_unpack(m->pkt, m->len, m->rr[i].name_off, true, w, &n, NULL))
            abort();
        if (cw_dns_name_to_text(w, n, text, sizeof(text)) < 1)
            abort();
        uint8_t back[CW_DNS_NAME_MAX];
        size_t bn;
        if (cw_dns_name_from_text(text, strlen(text), back, &bn) || bn != n ||
            memcmp(back, w, n) != 0)
            abort(); /* text form must round-trip */
    }
}

static void check_replies(const struct cw_dns_msg *m)
{
    uint8_t out[4096];
    size_t n;
    struct cw_dns_msg r;
    if (cw_dns_reply_rcode(out, sizeof(out), 1232, m, CW_DNS_R_NXDOMAIN, CW_DNS_EDE_BLOCKED,
                           "list indicator", &n) == 0) {
        if (cw_dns_msg_parse(&r, out, n) || r.id != m->id || r.rcode != CW_DNS_R_NXDOMAIN)
            abort();
        if (m->has_question && (r.qname_len != m->qname_len || memcmp(r.qname, m->qname, r.qname_len)))
            abort();
    }
    struct cw_dns_builder b;
    if (cw_dns_build_reply(&b, out, sizeof(out), 512, m, 0, CW_DNS_F_RA, 1232) == 0) {
        const uint8_t a[4] = {192, 0, 2, 1};
        for (int i = 0; i < 40; i++)
            cw_dns_build_a(&b, 60, a);
        cw_dns_build_txt(&b, 60, "blocked", 7);
        if (cw_dns_build_finish(&b, &n) == 0 && (n > 512 || cw_dns_msg_parse(&r, out, n)))
            abort();
    }
}

static void check_rewrites(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size);
    if (!copy)
        return;
    memcpy(copy, data, size);
    struct cw_dns_msg m;
    size_t nl;
    /* a rewrite may refuse (pointer into TTL bytes) but must leave a valid message */
    cw_dns_ttl_age(copy, size, 100, NULL);
    cw_dns_ttl_set(copy, size, CW_DNS_STALE_TTL);
    if (cw_dns_msg_parse(&m, copy, size))
        abort();
    int rc = cw_dns_truncate(copy, size, 512, &nl); /* NOSPACE: questions alone > 512 */
    if (rc == 0 && (nl > (size > 512 ? 512 : size) || cw_dns_msg_parse(&m, copy, nl)))
        abort();
    if (rc != 0 && rc != CW_DNS_E_NOSPACE)
        abort();
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cw_dns_msg m;
    if (cw_dns_msg_parse(&m, data, size) != 0) {
        cw_dns_msg_parse_question(&m, data, size);
        return 0;
    }
    check_names(&m);
    check_replies(&m);
    check_rewrites(data, size);
    return 0;
}
