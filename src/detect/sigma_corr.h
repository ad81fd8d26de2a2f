/* sigma_corr.h - Sigma correlation rules (event_count, value_count, temporal,
 * temporal_ordered) on the live detection stream, with bounded memory.
 *
 * Loading: sigma_ruleset_add() hands every rule file with a top-level
 * `correlation:` key to sigma_corr_add(), which parses it (title, id, name, level,
 * tags, generate, correlation.type / rules / group-by / timespan / condition /
 * aliases) and reports it supported or skipped with line and reason like any rule.
 * References (`rules:` by id or name, base rules or other correlations) are
 * resolved by sigma_corr_resolve(), which sigma_ruleset_load_dir() calls last: a
 * correlation naming a rule that is not loaded (unknown, or itself skipped), or
 * part of a reference cycle, is then turned into a skipped report entry.
 *
 * Detecting: sigma_corr_detect() takes the Sigma detections of one batch (those
 * from index `from` of the list cw_detect_sigma() appended to) and appends a
 * detection per correlation that fires. State is kept per (correlation rule,
 * member, group-by values) in record time:
 *   - event_count: the newest timestamps in the group (at most the condition's
 *     lower bound + 1 of them, which is all the condition can tell apart);
 *   - value_count: the distinct values of `field` with their newest time (capped
 *     per group; an overflow evicts the oldest value and is counted);
 *   - temporal: the newest time each referenced rule was seen;
 *   - temporal_ordered: per position in `rules`, the latest start time of a chain
 *     that has matched the rules in order up to that position.
 * A correlation fires on the record whose detection makes its condition hold over
 * the window [t - timespan, t] (t = that record's time; both ends inclusive); the
 * group's state is then cleared so the same events never fire twice. The number
 * of state entries and their bytes are capped globally; the least recently used
 * entry is evicted (counted) when a cap is reached. Same input, same output.
 *
 * A correlation with `generate: false` (the default) consumes the detections of
 * the rules it references: they are dropped from the list after correlation
 * unless some correlation referencing the same rule says `generate: true`.
 *
 * Thread-safety: the correlation state is shared by every batch detected with the
 * rule set; sigma_corr_detect() serialises itself on the set's own mutex. The
 * state lives as long as the rule set; a reload carries it over with
 * sigma_corr_adopt() for the correlations that did not change. */
#ifndef CW_DETECT_SIGMA_CORR_H
#define CW_DETECT_SIGMA_CORR_H

#include <stddef.h>
#include <stdint.h>

#include "common/record.h"
#include "detect/detect.h"

struct sigma_ruleset;
struct sigma_corr_set;

#define SIGMA_CORR_MAX_RULES 32           /* rules one correlation may reference */
#define SIGMA_CORR_MAX_GROUPBY 8          /* group-by fields */
#define SIGMA_CORR_MAX_COUNT 100000       /* event_count threshold */
#define SIGMA_CORR_MAX_DISTINCT 4096      /* value_count threshold (distinct values kept) */
#define SIGMA_CORR_MAX_SPAN_S (366 * 86400LL) /* timespan */
#define SIGMA_CORR_MAX_VALUE 1024         /* bytes of one group-by / counted value kept
                                             verbatim; longer ones: prefix + 64-bit hash */
#define SIGMA_CORR_DEFAULT_STATES 65536   /* state entries (rule x group) */
#define SIGMA_CORR_DEFAULT_BYTES (64u << 20)

/* Add one rule file if it is a correlation rule. Returns 2 when the text has no
 * top-level `correlation:` key (not ours: parse it as a detection rule), else like
 * sigma_ruleset_add(): 0 supported, 1 skipped (last report entry says why), -1
 * out of memory. */
int sigma_corr_add(struct sigma_ruleset *rs, const char *file, const char *text, size_t n);

/* Resolve the references of every correlation added since the last call; those
 * that cannot be resolved become skipped report entries (file, line of `rules:`,
 * reason). Returns 0 or -1 (out of memory). Not concurrent with detection. */
int sigma_corr_resolve(struct sigma_ruleset *rs);

/* Free the correlation rules and all state (sigma_ruleset_release calls it). */
void sigma_corr_free(struct sigma_corr_set *cs);

/* Correlate the Sigma detections ds->d[from..] of batch b (records by d.rec) and
 * append correlation detections (rule_id = correlation id, rule_name = title,
 * source CW_DET_SIGMA, severity from level, attack class from title / tags, else
 * the referenced rules' common class). Then drops consumed detections
 * (generate: false). Returns 0 or -1 (out of memory; ds then holds what was
 * appended). A rule set without correlations returns 0 at once. */
int sigma_corr_detect(const struct sigma_ruleset *rs, const struct cw_batch *b,
                      struct cw_detections *ds, uint32_t from);

struct sigma_corr_stats {
    uint32_t rules;           /* correlation rules active */
    uint64_t states;          /* state entries held now */
    uint64_t bytes;           /* bytes of state held now */
    uint64_t evictions;       /* entries evicted by the caps (LRU) */
    uint64_t value_overflow;  /* distinct values evicted from a full per-group set */
    uint64_t fired;           /* correlation detections emitted */
    uint64_t consumed;        /* base detections dropped (generate: false) */
};
void sigma_corr_stats(const struct sigma_ruleset *rs, struct sigma_corr_stats *st);

/* A reload: move the state of every correlation of `from` that `to` has
 * unchanged (same id, byte-identical YAML text, same referenced rule ids) into
 * `to`, keeping its windows and LRU order; the state of changed or removed
 * correlations stays with `from` and goes with it. `to` must be loaded and
 * resolved, with no state yet, and not detecting; `from` may be detecting (its
 * mutex is taken). Returns the number of state entries moved. */
uint64_t sigma_corr_adopt(struct sigma_ruleset *to, const struct sigma_ruleset *from);

/* Caps on state entries and bytes (0 = keep the current value). Defaults
 * SIGMA_CORR_DEFAULT_STATES / _BYTES. Evicts at once if over. */
void sigma_corr_set_limits(const struct sigma_ruleset *rs, uint32_t max_states,
                           uint64_t max_bytes);

#endif
