/* fuzz_nsinfo.c - reading upstream answers for NSDNAME/NSIP (src/dns/dnsd_nsinfo.h:
 * cw_dnsd_ns_parse, cw_dnsd_ns_parse_addrs).
 *
 * Input: an answer packet as an upstream would send it. The name asked ("cur") is
 * the packet's own question name when it has one (the interesting case: owners
 * match it), else "example.". Checks: the step kind is one of the four; APEX has
 * 1..CW_NS_MAX_NAMES names of valid wire form and a zone equal to or above cur;
 * ZONE has a zone equal to or above cur; addresses stay within their caps. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dnsd_nsinfo.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cw_ns_step st;
static struct cw_dns_msg m;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t dflt[] = {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0};
    const uint8_t *cur = dflt;
    size_t clen = sizeof(dflt);
    if (cw_dns_msg_parse_question(&m, data, size) == 0 && m.has_question) {
        cur = m.qname;
        clen = m.qname_len;
    }
    enum cw_ns_step_kind k = cw_dnsd_ns_parse(data, size, cur, clen, &st);
    if (k < CW_NS_STEP_APEX || k > CW_NS_STEP_FAIL || st.kind != k)
        abort();
    if (k == CW_NS_STEP_APEX) {
        if (st.nnames < 1 || st.nnames > CW_NS_MAX_NAMES || st.naddrs > CW_NS_MAX_ADDRS)
            abort();
        for (size_t i = 0; i < st.nnames; i++)
            if (cw_dns_name_wire_len(st.names[i], st.name_lens[i]) != st.name_lens[i])
                abort();
    }
    if ((k == CW_NS_STEP_APEX || k == CW_NS_STEP_ZONE) &&
        (cw_dns_name_wire_len(st.zone, st.zone_len) != st.zone_len ||
         !cw_dns_name_is_sub(cur, clen, st.zone, st.zone_len)))
        abort();
    struct cw_rpz_addr addrs[4];
    size_t n = 1;
    memset(addrs, 0, sizeof(addrs));
    uint32_t ttl = UINT32_MAX;
    int r = cw_dnsd_ns_parse_addrs(data, size, addrs, &n, 4, &ttl);
    if (n > 4 || (r >= 0 && (size_t)r != n - 1))
        abort();
    return 0;
}
