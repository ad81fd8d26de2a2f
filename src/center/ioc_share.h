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
 * Items are ordered by their TAXII "date added" (also their STIX "modified"): when
 * they were published or, later, last changed by a merge; then by id.
 * Memory: a share owns its items and their strings (one arena); release it once. */
#ifndef CW_CENTER_IOC_SHARE_H
#define CW_CENTER_IOC_SHARE_H

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
    size_t n, cap;
};

/* Collect the published indicators visible to scope (0 = coordinator: all published),
 * of TLP tlp (-1: any). Returns 0, or -1 with a reason in err. */
int cw_ioc_share_collect(struct cw_store *s, uint32_t scope, int tlp, struct cw_ioc_share *out,
                         char *err, size_t errlen);
void cw_ioc_share_release(struct cw_ioc_share *sh);

#endif
