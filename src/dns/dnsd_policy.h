/* dnsd_policy.h - views (which member a client belongs to) and the policy in force.
 *
 * A view is a name, client address ranges and its own RPZ lists (evaluated before
 * the global lists, so a member's allow list - PASSTHRU rules - beats a global
 * block). View 0 is "default": every client no range matches.
 *
 * struct cw_dnsd_policy is immutable once built and reference counted (atomic):
 * the loop holds the current one, every query in flight holds the one it started
 * with (match pointers point into its zones). cw_dnsd_policy_load() reads every
 * file again - it runs on the reload thread, never on the loop. */
#ifndef CW_DNS_DNSD_POLICY_H
#define CW_DNS_DNSD_POLICY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dnsd.h"
#include "dns/dnsd_feedzone.h"
#include "dns/rpz.h"

struct cw_dnsd_cidr {
    uint8_t family; /* 4 or 6 */
    uint8_t prefix;
    uint8_t addr[16];
    uint16_t view;
};

struct cw_dnsd_views {
    struct cw_dnsd_cidr *cidr; /* longest prefix first */
    size_t n;
    char (*names)[64];
    size_t nviews; /* including "default" at 0 */
};

/* Parse the configured views. 0 or -1 with a message naming the bad range. */
int cw_dnsd_views_init(struct cw_dnsd_views *v, const struct cw_dnsd_config *c, char *err,
                       size_t errlen);
void cw_dnsd_views_release(struct cw_dnsd_views *v);
/* View index of a client address (family 4 or 6). */
uint16_t cw_dnsd_views_match(const struct cw_dnsd_views *v, const struct cw_rpz_addr *a);
/* "10.0.0.0/8" -> cidr. 0 or -1. */
int cw_dnsd_cidr_parse(const char *s, struct cw_dnsd_cidr *out);

struct cw_dnsd_policy {
    _Atomic int refs;
    struct cw_rpz_set *global;  /* may be NULL: no lists */
    struct cw_rpz_set **view;   /* [nviews], entries may be NULL */
    size_t nviews;
    size_t rules;               /* total, for the log */
    size_t ip_rules;            /* RPZ-IP rules: none means answers need no second look */
    size_t client_rules;        /* CLIENT-IP rules: none means the verdict before the
                                   answer depends only on (view, qname) */
    uint64_t gen;               /* unique per policy built in this process, never 0:
                                   the answer cache remembers "no rule" under it */
    size_t ns_rules, nsip_rules; /* NSDNAME + NSIP, NSIP rules of the lists: none means no
                                    NS look-ups (dnsd_nsinfo.h) */
    /* the center's indicator feed (dnsd_feed.h): evaluated after the global lists,
     * or before them with feed_first; never before a view's own lists */
    struct cw_feed_snap *feed;  /* may be NULL */
    bool feed_first;
    bool *feed_view;            /* [nviews]: does the view get the feed */
    size_t file_rules, file_ip_rules; /* the lists' share of rules / ip_rules */
    size_t file_client_rules;   /* the feed has no CLIENT-IP rules: all come from lists */
};

/* Load every list of the config. NULL with a message in err when a file cannot be
 * loaded (the caller keeps the policy it has). */
struct cw_dnsd_policy *cw_dnsd_policy_load(const struct cw_dnsd_config *c, size_t nviews,
                                           char *err, size_t errlen);
/* A new policy with p's lists and the feed snapshot snap (a new reference is
 * taken; NULL: no feed). NULL on OOM. */
struct cw_dnsd_policy *cw_dnsd_policy_with_feed(const struct cw_dnsd_policy *p,
                                               struct cw_feed_snap *snap);
struct cw_dnsd_policy *cw_dnsd_policy_ref(struct cw_dnsd_policy *p);
void cw_dnsd_policy_unref(struct cw_dnsd_policy *p);

/* Policy for one query: the view's lists first, then the global ones and the feed
 * (in the configured order). *filtered is true when the match came from the view's
 * own lists. */
bool cw_dnsd_policy_evaluate(const struct cw_dnsd_policy *p, uint16_t view,
                             const struct cw_rpz_query *q, struct cw_rpz_match *m,
                             bool *filtered);

#endif
