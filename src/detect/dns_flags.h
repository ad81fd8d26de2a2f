/* dns_flags.h - threat flags on DNS telemetry (issue #7 part 4), run at the center.
 *
 * A detector over `dns` records (the protective resolver's telemetry, EVE dns
 * answers) that flags the names and addresses threats use. Each flag is a detection
 * (source CW_DET_DNS, class malware_c2) that triage bundles into events like any
 * other. docs/dns.md "Threat flags" documents the model and every threshold.
 *
 *   dns:dga       the registered domain's label looks algorithmically generated
 *                 (logistic score over 5 lexical features >= dga_threshold)
 *   dns:tunnel    a registered domain shows tunnelling in a sliding window of record
 *                 time: two of (many unique subdomains, long labels, TXT/NULL share)
 *   dns:nod       a registered domain that resolved and was not seen across all
 *                 members in the last nod_days days (state persisted through
 *                 struct cw_dnsseen_ops)
 *   dns:badrange  an answer address falls in a configured bad address range
 *
 * The registered domain is the label under the public suffix (libpsl with the
 * Public Suffix List of the Debian package publicsuffix).
 *
 * Thread-safety: unlike the other detectors this one keeps state across batches
 * (tunnel windows, the seen table); cw_dns_flags_detect() takes an internal mutex,
 * so any number of ingest threads may call it. Rule names are static strings. */
#ifndef CW_DETECT_DNS_FLAGS_H
#define CW_DETECT_DNS_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/record.h"
#include "detect/detect.h"

/* Persistence of the newly-observed-domain table (the center's store_dnsseen.h).
 * Keys are 64-bit hashes of the registered domain (cw_dns_flags_name_hash). */
struct cw_dnsseen_ops {
    void *ctx;
    /* Call cb for every stored (hash, day) and return the table's start time (us,
     * 0 = empty store) in *since_us. Returns 0 or -1. */
    int (*load)(void *ctx, int (*cb)(void *arg, uint64_t h, int32_t day), void *arg,
                int64_t *since_us);
    /* Save n changed entries (insert or update) and the start time. Returns 0/-1. */
    int (*save)(void *ctx, const uint64_t *h, const int32_t *day, size_t n, int64_t since_us);
};

struct cw_dns_flags_config {
    const char *bad_ranges_file;  /* CIDR list (docs/dns.md); NULL/"" = none */
    double dga_threshold;         /* 0 = default 0.90 */
    int64_t nod_days;             /* 0 = default 30; < 0 = NOD off */
    int64_t nod_warmup_us;        /* no NOD flag until the table is this old; 0 = 24 h, < 0 = none */
    size_t nod_max;               /* seen table capacity; 0 = 2,000,000 */
    int64_t tunnel_window_us;     /* 0 = 10 min */
    uint32_t tunnel_unique;       /* unique subdomains in the window; 0 = 100 */
    uint32_t tunnel_long;         /* names with a label > 50 bytes in the window; 0 = 5 */
    uint32_t tunnel_txt_pct;      /* TXT/NULL share of the zone's queries, percent; 0 = 30 */
    uint32_t tunnel_min_queries;  /* queries in the window before the share counts; 0 = 20 */
    size_t tunnel_max_zones;      /* zones tracked (LRU); 0 = 100,000 */
    const struct cw_dnsseen_ops *seen; /* NULL = NOD state in memory only */
};

struct cw_dns_flags;

/* Loads the public suffix list and the bad ranges, restores the seen table.
 * NULL with err set on failure (file name and line for a bad range). */
struct cw_dns_flags *cw_dns_flags_new(const struct cw_dns_flags_config *cfg, char *err,
                                      size_t errlen);
void cw_dns_flags_free(struct cw_dns_flags *f);

/* The detector (cw_detector_fn shape; ctx is a struct cw_dns_flags *). */
int cw_dns_flags_detect(const void *ctx, const struct cw_batch *b, struct cw_detections *out);

/* -- pieces, exposed for tests, the evaluation and fuzzing -------------------- */

/* The registered domain of name[0..n) (case-insensitive, trailing dot allowed) as
 * lower case into out (cap >= 256). Returns its length, or 0 when there is none
 * (a public suffix itself, a single label, an address, characters outside
 * letters/digits/-/_ in the labels that decide). *label_len gets the length of its
 * first label (the part the DGA model scores). */
size_t cw_dns_registered_domain(const struct cw_dns_flags *f, const char *name, size_t n,
                                char *out, size_t cap, size_t *label_len);

/* The DGA model's features and score for one label (lower case). */
struct cw_dga_features {
    double len, entropy, digit_ratio, max_consonant_run, llr;
};
double cw_dga_score(const char *label, size_t n, struct cw_dga_features *ft);
#define CW_DGA_DEFAULT_THRESHOLD 0.90
#define CW_DGA_MIN_LEN 7 /* shorter labels are never flagged */

uint64_t cw_dns_flags_name_hash(const char *s, size_t n);

/* Bad ranges from a text buffer: one CIDR or address per line, optional text after
 * whitespace, '#' comments. Returns the number of ranges, or -1 with err set
 * ("line N: reason"). Sorted and merged; replaces any earlier ranges. */
struct cw_ipranges;
struct cw_ipranges *cw_ipranges_parse(const char *text, size_t n, char *err, size_t errlen);
bool cw_ipranges_contains(const struct cw_ipranges *r, const struct cw_ip *ip);
size_t cw_ipranges_count(const struct cw_ipranges *r);
void cw_ipranges_free(struct cw_ipranges *r);

struct cw_dns_flags_stats {
    uint64_t records, dga, tunnel, nod, badrange;
    size_t zones, seen;
    uint64_t zones_evicted, seen_evicted, persist_errors;
};
void cw_dns_flags_stats(struct cw_dns_flags *f, struct cw_dns_flags_stats *st);

#endif
