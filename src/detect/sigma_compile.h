/* sigma_compile.h - a rule set compiled for throughput: a prefilter + the
 * reference evaluator on candidates only.
 *
 * Design (docs/performance.md "Detection performance (Sigma)"): every rule gets a
 * *trigger formula*, an AND of up to 8 clauses, each an OR of atoms, such that
 * whenever the rule fires every clause has an atom that occurs in its field. A
 * string test (equals / contains / startswith / endswith, wildcards allowed)
 * gives, per alternative, its longest literal piece, anchored at the value's ends
 * when it touches them (caseless unless |cased; the empty value is an atom too);
 * a regex gives itself (Hyperscan prefilter mode, a superset of PCRE2's matches)
 * and, as clauses of their own, the literals every match must contain (a
 * conservative reader of the pattern). Anything that can fire without a string
 * occurring (`not`, null, exists, cidr, numeric compares, fieldref, a pure
 * wildcard) gives no requirement; a rule with no clause is an "always candidate".
 *
 * A rule's most selective clause is its primary: only primary atoms lead to rules;
 * the other clauses are checked, for rules whose primary held, against the set of
 * atoms that occurred (a secondary clause needing a regex or short literal that no
 * primary needs counts as true and is never computed). Per record kind, literals
 * of >= 4 bytes go into one Hyperscan literal database scanned once per record
 * (the raw line, with field values as spans of it, plus copies of values it does
 * not hold); whole-value literals into a hash table per field; shorter literals
 * are compared; regexes some primary needs get a per-field database. Field values
 * are fetched exactly as the evaluator fetches them (sigma_eval_field; URL fields
 * also normalised). Candidates are evaluated in rule order by
 * sigma_logsource_admits + sigma_eval_rule, with a hint: a glob whose literal atom
 * the kind checks on every record and that did not occur is not compared. A
 * prefilter and the hint may only add candidates or skip compares that would
 * fail, so the detections (and their order, and why) are those of the reference
 * path by construction; tests/unit/test_sigma_compile.c checks it on random and
 * real rules.
 *
 * Memory and threads: a compiled set borrows the rule set (which must outlive
 * it and must not change while it exists) and owns its databases and a pool of
 * per-thread matching contexts (Hyperscan scratch cloned from a prototype,
 * evaluation scratch, bitmaps, scan buffer). Acquiring a context is one atomic
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
