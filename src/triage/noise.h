/* noise.h - automatic, explainable noise removal.
 *
 * Every detection gets exactly one verdict: kept, or dropped for one named reason.
 * Nothing disappears silently: dropped detections are counted per reason, member
 * and day and kept with their records (the store lists them). Reasons are checked
 * in this order, the first that applies wins:
 *   suppressed    an analyst suppression matches (owner, reason, scope, expiry)
 *   blocked       the sensor blocked it (EVE alert action "blocked")
 *   failed        a web attack answered 400, 403, 404, 405 or 501: it failed
 *   not_applicable the attack targets product P and the member's asset at the
 *                 target is registered without P: it cannot succeed
 *   recon         a scanner: source in a known scanner range, scanner user agent,
 *                 or the detection's class is scanning
 * 2xx, 3xx and 5xx answers are kept: the attack may have worked.
 *
 * The context is read-only during classification; any number of threads may
 * classify batches with the same context. */
#ifndef CW_TRIAGE_NOISE_H
#define CW_TRIAGE_NOISE_H

#include <stddef.h>
#include <stdint.h>

#include "common/record.h"
#include "detect/detect.h"
#include "triage/recon.h"

#define CW_NOISE_REASONS(X)                                                   \
    X(KEPT, "kept", "not noise: goes on to an event")                          \
    X(SUPPRESSED, "suppressed", "matched an analyst suppression")              \
    X(BLOCKED, "blocked", "blocked by the sensor")                             \
    X(FAILED, "failed", "web attack answered 400/403/404/405/501")             \
    X(NOT_APPLICABLE, "not_applicable", "target asset does not run the product") \
    X(RECON, "recon", "reconnaissance: known scanner range or user agent")

enum cw_noise_reason {
#define X(id, name, doc) CW_NOISE_##id,
    CW_NOISE_REASONS(X)
#undef X
    CW_NOISE__COUNT
};

const char *cw_noise_reason_name(enum cw_noise_reason r);
const char *cw_noise_reason_doc(enum cw_noise_reason r);

/* A member's asset: an address (or host name) and the products it runs. */
struct cw_asset {
    uint32_t member_id;
    struct cw_ip addr;     /* family 0: match by host only */
    char host[128];        /* "" = match by address only */
    char products[512];    /* comma-separated product ids, e.g. "ivanti,nginx" (the product ids the rules use: docs/sigma.md) */
};

struct cw_suppression {
    int64_t id;
    uint32_t member_id;    /* 0 = every member */
    uint8_t attack_class;  /* CW_AC__COUNT = any class */
    char rule_id[48];      /* "" = any rule */
    struct cw_ip net;      /* family 0 = any source */
    uint8_t prefix;
    int64_t expires_us;    /* 0 = never */
};

struct cw_noise_ctx {
    const struct cw_recon *recon;        /* may be NULL */
    const struct cw_asset *assets;
    size_t nassets;
    const struct cw_suppression *supp;
    size_t nsupp;
    int64_t now_us;                      /* suppressions expire against this */
};

/* Set d->noise for every detection in ds (records from b). When a reason applies,
 * *detail (optional array parallel to ds, may be NULL) gets a short static or
 * context-owned text naming what matched (the list name, the suppression id ...). */
void cw_noise_classify(const struct cw_noise_ctx *ctx, const struct cw_batch *b,
                       struct cw_detections *ds, const char **detail);

/* Does ip fall in net/prefix? */
int cw_ip_in_net(const struct cw_ip *ip, const struct cw_ip *net, unsigned prefix);

#endif
