/* sigma_compile.h - a rule set compiled for throughput: Hyperscan prefilter +
 * the reference evaluator on candidates only.
 *
 * Design (docs/performance.md "Detection"): every rule gets a *trigger set*, a
 * list of string atoms of which at least one must occur in some field value
 * whenever the rule fires. It is derived from the condition tree: a selection is
 * the union of its groups' sets, a group (AND of tests) takes the best set of
 * any one test, `a and b` the better of the two, `a or b` the union; a string
 * test (equals / contains / startswith / endswith, wildcards allowed) gives,
 * per alternative, its longest literal piece (caseless unless |cased); a regex
 * gives itself compiled by Hyperscan in prefilter mode (a superset of PCRE2's
 * matches). Anything that can fire without a string occurring (`not`, null,
 * exists, cidr, numeric compares, fieldref, a pure wildcard, a regex Hyperscan
 * refuses) has no trigger set: the rule is an "always candidate".
 *
 * Per record kind (enum cw_kind), the literal atoms (>= 3 bytes) of every field
 * go into one Hyperscan literal database; regexes and shorter literals stay in
 * a database per field (or, when all are whole values, in a compare list). A
 * field is a record field id, a Sigma name looked up in raw JSON, or the keyword
 * pseudo field = every string value + the raw line. A record's field values are
 * fetched exactly as the evaluator fetches them (sigma_eval_field) and copied
 * into one buffer as segments (URL fields also in their normalised form when it
 * differs), scanned once; a literal match counts only inside a segment of its
 * field (anchors at the segment's ends). Every matching atom marks its
 * rules, and only marked rules plus the always candidates are evaluated, in rule
 * order, by sigma_logsource_admits + sigma_eval_rule. A prefilter may only add
 * candidates, never remove a rule that fires, so the detections (and their
 * order) are those of the reference path by construction; tests/unit/
 * test_sigma_compile.c checks it on random and real rules.
 *
 * Memory and threads: a compiled set borrows the rule set (which must outlive
 * it and must not change while it exists) and owns its databases and a pool of
 * per-thread matching contexts (Hyperscan scratch cloned from a prototype,
 * evaluation scratch, candidate bitmap). Acquiring a context is one atomic
 * exchange per batch; the per-record path takes no lock. Many threads may use
 * one compiled set at once. */
#ifndef CW_DETECT_SIGMA_COMPILE_H
#define CW_DETECT_SIGMA_COMPILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "detect/sigma_ruleset.h"

struct sigma_compiled;
struct sigma_cthread;

struct sigma_compiled_stats {
    uint32_t rules;          /* rules of the set with a live log source */
    uint32_t prefiltered;    /* of those: with a trigger set */
    uint32_t always;         /* of those: always candidates */
    uint32_t kinds;          /* record kinds with at least one rule */
    uint32_t databases;      /* Hyperscan databases (kind x field) */
    uint32_t patterns;       /* patterns over all databases */
    uint32_t regex_patterns; /* of those: prefilter regexes */
    double compile_seconds;
};

/* Compile rs. Returns NULL only on allocation failure. When Hyperscan refuses the
 * set, the result is marked failed (sigma_compiled_failed gives the reason) and
 * callers keep using the reference path. Not thread-safe against changes of rs. */
struct sigma_compiled *sigma_compiled_build(const struct sigma_ruleset *rs);
void sigma_compiled_free(struct sigma_compiled *sc);
/* NULL when usable, else a static / internal reason. */
const char *sigma_compiled_failed(const struct sigma_compiled *sc);
void sigma_compiled_get_stats(const struct sigma_compiled *sc, struct sigma_compiled_stats *st);

/* A matching context for this thread (from the pool, or a fresh one when all are
 * busy). NULL on allocation failure. Give it back with sigma_compiled_release. */
struct sigma_cthread *sigma_compiled_acquire(const struct sigma_compiled *sc);
void sigma_compiled_release(const struct sigma_compiled *sc, struct sigma_cthread *t);

/* Same contract and result as sigma_ruleset_eval() (hits in rule order), through
 * the prefilter. Returns the number of rules that fired. */
int sigma_compiled_eval(const struct sigma_compiled *sc, struct sigma_cthread *t,
                        const struct cw_record *rec, sigma_hit_fn fn, void *arg);
/* Candidates the prefilter produced for the last record of t (for the bench). */
uint32_t sigma_compiled_last_candidates(const struct sigma_cthread *t);

/* Literal requirements the prefilter derives from a regex (exposed for tests):
 * each is a list of literals one of which (ASCII caseless) occurs in every match.
 * The first is the best; the others, when the pattern is not a top-level
 * alternation, hold as well. Returns how many were written (0: none known). */
#define SIGMA_LITREQ_ALTS 16
#define SIGMA_LITREQ_LEN 65
struct sigma_litreq {
    char s[SIGMA_LITREQ_ALTS][SIGMA_LITREQ_LEN]; /* NUL-terminated */
    uint32_t nalts;
};
uint32_t sigma_regex_requirements(const char *re, size_t n, struct sigma_litreq *out,
                                  uint32_t max);

#endif
