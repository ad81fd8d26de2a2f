/* fuzz_dns_feed.c - answers of the center's indicator feed (dns/dnsd_feedzone.h).
 *
 * The input is parsed with cw_feed_parse(). A rejected input must have set a reason.
 * An accepted one is applied to a state (twice: as given and, when it is a change
 * list, after a full answer built from its adds, so both paths run), and then:
 *   - the snapshot's rule count equals the state's;
 *   - the answer written back (journal form) parses again, every rule kept;
 *   - the state written out (saved-policy form) parses again with no rule skipped,
 *     and a fresh state loaded from it has the same number of rules;
 *   - every add rule's key is found by the snapshot when the answer was full.
 * Any disagreement aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "dns/dnsd_feedzone.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip_state(const struct cw_feed_state *st)
{
    struct cw_buf b;
    cw_buf_init(&b);
    if (cw_feed_state_write(st, &b))
        abort();
    struct cw_feed_msg m;
    char err[300];
    if (cw_feed_parse(b.data, b.len, &m, err, sizeof(err)) || m.bad || !m.full ||
        m.n != cw_feed_state_rules(st)) {
        fprintf(stderr, "saved policy does not parse back: %s (%zu bad: %s)\n", err, m.bad,
                m.bad_reason);
        abort();
    }
    struct cw_feed_state *st2 = cw_feed_state_new(NULL, 0);
    if (!st2 || cw_feed_state_apply(st2, &m) || cw_feed_state_rules(st2) != m.n)
        abort();
    cw_feed_state_free(st2);
    cw_feed_msg_release(&m);
    cw_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cw_feed_msg m;
    char err[300] = "";
    if (cw_feed_parse((const char *)data, size, &m, err, sizeof(err))) {
        if (!err[0])
            abort();
        cw_feed_msg_release(&m);
        return 0;
    }
    /* the journal form keeps every rule */
    struct cw_buf b;
    cw_buf_init(&b);
    cw_feed_msg_write(&m, 5, &b);
    struct cw_feed_msg m2;
    if (cw_feed_parse(b.data, b.len, &m2, err, sizeof(err)) || m2.n != m.n || m2.bad ||
        m2.since != 5) {
        fprintf(stderr, "journal line does not parse back: %s\n", err);
        abort();
    }
    cw_feed_msg_release(&m2);
    cw_buf_release(&b);
    struct cw_feed_state *st = cw_feed_state_new(NULL, 3);
    if (!st || cw_feed_state_apply(st, &m))
        abort();
    struct cw_feed_snap *s = cw_feed_state_snapshot(st);
    if (!s || cw_feed_snap_rules(s) != cw_feed_state_rules(st))
        abort();
    cw_feed_snap_unref(s);
    roundtrip_state(st);
    if (!m.full) { /* the same changes on top of a base */
        struct cw_feed_msg base = m;
        base.full = true;
        if (cw_feed_state_apply(st, &base) || cw_feed_state_apply(st, &m))
            abort();
        roundtrip_state(st);
        if (cw_feed_state_should_merge(st) && cw_feed_state_merge(st))
            abort();
        roundtrip_state(st);
    }
    cw_feed_state_free(st);
    cw_feed_msg_release(&m);
    return 0;
}
