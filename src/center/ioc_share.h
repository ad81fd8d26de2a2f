/* ioc_share.h - what a caller may receive of the indicators: the published ones the
 * caller is cleared for, as exchange-format items (iocfmt.h), with nothing of who
 * submitted them.
 *
 * One function decides this for every outward path (exports, TAXII), so a RED or
 * restricted indicator cannot leak through one of them alone: visibility is
 * cw_ioc_visible() of store_iocs.h; items never carry the submitting member, person
 * or sample name (source_name, member_id, submitter stay empty), only the value,
 * type, TLP, confidence, description and times.
 *
 * Revoked indicators (CW_IOC_SHARE_REVOKED): STIX 2.1 (3.6) withdraws an object by a
 * new version of it with "revoked": true, and a TAXII client polling with added_after
 * learns of the revocation only from that version. So a share may also hold the
 * revoked indicators that were published once (published_us set: a rejected candidate
 * was never shared) and that the caller is cleared for (cw_ioc_cleared: the same TLP
 * and audience rule as a published one, so whoever could not see it before sees
 * nothing now); such an item has revoked[i] set and its modified/date added is the
 * revocation (updated_us). They are served as long as their row exists: no retention
 * deletes indicators today; one that did would end the revoked version's life too.
 * Expired indicators are left out (as before): an indicator expires only when its
 * valid_until has passed, and that valid_until is in the version consumers hold.
 *
 * Generations: STIX revokes an object for good, so a revoked indicator published
 * again is a new object: the store counts its generations (cw_ioc_row stix_gen) and
 * keeps each revoked one (cw_store_iocs_retired_foreach). Generation 0 has the id of
 * (type, value) (cw_ioc_item_id, the id before generations existed); generation g > 0
 * has cw_ioc_share_id(type, value, g), set as the item's id. A share with
 * CW_IOC_SHARE_REVOKED holds the retired generations as revoked items (same clearance
 * rule, date added = their revocation) beside the current one.
 *
 * Items are ordered by their TAXII "date added" (also their STIX "modified"): when
 * they were published or, later, last changed by a merge or revoked; then by id.
 * Memory: a share owns its items and their strings (one arena); release it once. */
#ifndef CW_CENTER_IOC_SHARE_H
#define CW_CENTER_IOC_SHARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "center/store.h"
#include "common/arena.h"
#include "ioc/iocfmt.h"

struct cw_ioc_share {
    struct cw_arena arena;
    struct cw_ioc_item *items;
    int64_t *ids;      /* store id of items[i] */
    int64_t *added_us; /* when items[i] was published */
    bool *revoked;     /* items[i] is revoked (CW_IOC_SHARE_REVOKED) */
    size_t n, cap;
};

#define CW_IOC_SHARE_REVOKED 1u /* also the revoked ones (see above) */

/* Collect the published indicators visible to scope (0 = coordinator: all published),
 * of TLP tlp (-1: any), and with flags CW_IOC_SHARE_REVOKED the revoked ones the scope
 * is cleared for. Returns 0, or -1 with a reason in err. */
int cw_ioc_share_collect(struct cw_store *s, uint32_t scope, int tlp, unsigned flags,
                         struct cw_ioc_share *out, char *err, size_t errlen);
void cw_ioc_share_release(struct cw_ioc_share *sh);

/* The STIX id of generation gen of (type, value): gen 0 = cw_ioc_item_id; gen > 0 =
 * "indicator--" + UUIDv5 of "<gen 0 id>/<gen>" in a namespace of its own, so it is
 * deterministic and never equals an earlier generation's. */
void cw_ioc_share_id(enum cw_ioc_type t, const char *value, int64_t gen,
                     char out[CW_IOC_ID_MAX]);

#endif
