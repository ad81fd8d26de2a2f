/* sigma_ruleset.h - a loaded set of Sigma rules, its field map, and the detector.
 *
 * Loading: sigma_ruleset_load_dir() walks a directory tree (*.yml, *.yaml), parses
 * each file (sigma_rule.h), resolves its field names through the field map
 * (rules/fieldmap.conf, sections per log source: docs/sigma.md) and its log
 * source to the record kinds it applies to (sigma_logsource.c). Every file gets a
 * report entry: supported, or skipped with line and reason. A skipped rule is
 * never evaluated.
 *
 * Detecting: cw_detect_sigma() (detect.h contract) runs every rule whose log
 * source admits a record on that record, through the reference evaluator.
 * Detection rule names and products point into the rule set, which must outlive
 * them. A loaded rule set is immutable: many threads may detect with it at once
 * (each call uses its own evaluation scratch). */
#ifndef CW_DETECT_SIGMA_RULESET_H
#define CW_DETECT_SIGMA_RULESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "detect/detect.h"
#include "detect/sigma_rule.h"

/* -- field map ------------------------------------------------------------- */
struct sigma_fieldmap {
    struct cw_config cfg;
};

/* Load the map (config format). Returns 0, or -1 with "file:line: reason" in err
 * (also when a target is not a catalogue field or core/pseudo field). */
int sigma_fieldmap_load(struct sigma_fieldmap *fm, const char *path, char *err, size_t errlen);
int sigma_fieldmap_load_str(struct sigma_fieldmap *fm, const char *text, size_t n,
                            const char *name, char *err, size_t errlen);
void sigma_fieldmap_release(struct sigma_fieldmap *fm);
/* Field id for a Sigma field of rule r: sections category, service, product,
 * then the global section are searched; SIGMA_FID_JSON when nothing maps it. */
int sigma_fieldmap_resolve(const struct sigma_fieldmap *fm, const struct sigma_rule *r,
                           const char *field);
/* Id of a map target name ("http.path", "src_ip", "http.url", ...); -1 if unknown. */
int sigma_fieldmap_target(const char *name);

/* -- log sources ----------------------------------------------------------- */
struct sigma_ls {
    uint32_t kinds;        /* bit (1 << enum cw_kind) */
    int8_t os;             /* 0 any record, 1 Windows events only, -1 never Windows */
    const char *channel;   /* Windows: required Event.System.Channel, NULL = any */
    uint16_t eids[4];      /* Windows: accepted EventIDs (none = any) */
    uint8_t neids;
    const char *event_type;/* Windows: EventType prefix required (registry add/delete) */
    const char *why;       /* dormant: why no crosswatch input produces it (else NULL) */
};

/* Log source of a rule. Never fails: an unknown one is dormant with a reason. */
void sigma_logsource_resolve(const struct sigma_rule *r, struct sigma_ls *out);
/* Does the record belong to the log source? */
bool sigma_logsource_admits(const struct sigma_ls *ls, const struct cw_record *rec);

/* -- rule set -------------------------------------------------------------- */
struct sigma_entry {
    struct sigma_rule rule;
    struct sigma_ls ls;
    uint8_t severity;      /* enum cw_severity */
    uint8_t attack_class;  /* enum cw_attack_class */
    const char *product;   /* appliance the rule targets, or NULL */
};

struct sigma_report {
    const char *file;      /* arena */
    uint32_t line;
    const char *reason;    /* NULL = supported */
    const char *dormant;   /* supported but no input produces its log source yet */
};

struct sigma_compiled; /* sigma_compile.h */

struct sigma_ruleset {
    struct cw_arena arena;
    struct sigma_fieldmap fm;
    struct sigma_entry *rules;
    uint32_t n, cap;
    struct sigma_report *rep;
    uint32_t nrep, caprep;
    uint32_t nsupported, nskipped, ndormant;
    /* Hyperscan prefilter (sigma_compile.h): built by sigma_ruleset_compile() or
     * on the first cw_detect_sigma() (atomically published), dropped by
     * sigma_ruleset_add() and sigma_ruleset_release(). */
    struct sigma_compiled *compiled;
    struct sigma_corr_set *corr; /* correlation rules and their state (sigma_corr.h) */
};

/* fieldmap_path NULL = empty map (every field through the JSON fallback). */
int sigma_ruleset_init(struct sigma_ruleset *rs, const char *fieldmap_path, char *err,
                       size_t errlen);
void sigma_ruleset_release(struct sigma_ruleset *rs);
/* Add the rules of one file's text: one YAML document, or a stream of several
 * (`---`: a correlation rule and its base rules). Returns 0 all supported, 1 one
 * or more skipped (see the report entries), -1 out of memory. */
int sigma_ruleset_add(struct sigma_ruleset *rs, const char *file, const char *text, size_t n);
/* Load every *.yml / *.yaml below dir (sorted, recursive, symlinks not followed).
 * Returns 0, or -1 if dir cannot be read (err set). Unreadable files are skipped
 * with a report entry. */
int sigma_ruleset_load_dir(struct sigma_ruleset *rs, const char *dir, char *err,
                           size_t errlen);
/* Rule by Sigma id, NULL if not loaded. */
const struct sigma_entry *sigma_ruleset_find(const struct sigma_ruleset *rs, const char *id);

/* Severity from a Sigma level; CW_SEV_MEDIUM for unknown. */
enum cw_severity sigma_level_severity(const char *level);
/* Attack class from tags and title (docs/sigma.md lists the keywords). */
enum cw_attack_class sigma_rule_attack_class(const struct sigma_rule *r);

/* Build the compiled form now (else the first cw_detect_sigma() builds it).
 * Returns 0, or -1 when it cannot be built (err set; detection then stays on
 * the reference path, with the same results). Not concurrent with detection. */
int sigma_ruleset_compile(struct sigma_ruleset *rs, char *err, size_t errlen);

/* The detector (detect.h): ctx is a const struct sigma_ruleset *. Uses the
 * compiled form (Hyperscan prefilter + reference evaluator on candidates);
 * detections and their order equal cw_detect_sigma_reference()'s. */
int cw_detect_sigma(const void *ruleset, const struct cw_batch *b, struct cw_detections *out);
/* The naive detector: every rule of the record's log source on every record,
 * straight-line (property tests and the bench compare against it). */
int cw_detect_sigma_reference(const void *ruleset, const struct cw_batch *b,
                              struct cw_detections *out);

/* Like cw_detect_sigma for one record with explanations: calls fn for every rule
 * that fires. Returns the number of rules that fired, -1 on allocation failure. */
typedef void (*sigma_hit_fn)(void *arg, const struct sigma_entry *e, const struct sigma_why *w);
int sigma_ruleset_eval(const struct sigma_ruleset *rs, struct sigma_evalctx *c,
                       const struct cw_record *rec, sigma_hit_fn fn, void *arg);

#endif
