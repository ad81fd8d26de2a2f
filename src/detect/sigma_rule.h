/* sigma_rule.h - one Sigma rule as a small tree, and its parsers and evaluator.
 *
 * Pipeline: sigma_rule_parse() reads one YAML document (libyaml, bounded: depth,
 * node count, scalar size; aliases and several documents are refused:
 * sigma_ruleset_add() splits a stream into its documents first) into a
 * struct sigma_rule whose selections already carry their modifiers applied:
 * every value is a list of alternatives (windash, base64offset and utf16 expand
 * one Sigma value into several byte strings), wildcards are resolved into the
 * glob bytes SIGMA_GLOB_STAR / SIGMA_GLOB_ONE, regexes are compiled with PCRE2
 * under match limits. sigma_cond_parse() turns the condition text into an AND /
 * OR / NOT tree over selection indices ("1 of sel*" is expanded at parse time).
 *
 * Anything the engine cannot evaluate exactly (an unknown modifier, `expand`
 * placeholders, aggregations after `|`, correlation rules, multi-document files)
 * makes the parse fail with the YAML line and a reason: a rule is either
 * evaluated with Sigma's semantics or reported as skipped, never approximated.
 *
 * sigma_eval_rule() is the reference evaluator: straight-line, one record at a
 * time, through the field ids the rule set resolved (sigma_fieldmap.c). Every
 * faster matcher must agree with it.
 *
 * Memory: a rule and everything it points to lives in the arena passed to the
 * parser, except compiled regexes (PCRE2 heap), which sigma_rule_release() frees.
 * A parsed rule is immutable; evaluation is thread-safe. */
#ifndef CW_DETECT_SIGMA_RULE_H
#define CW_DETECT_SIGMA_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/record.h"

#define SIGMA_MAX_FILE (1u << 20)   /* bytes of YAML per rule file */
#define SIGMA_MAX_DEPTH 24          /* YAML nesting (real rules use <= 5) */
#define SIGMA_MAX_NODES 20000       /* YAML nodes per file (real rules < 2,000) */
#define SIGMA_MAX_SCALAR 16384      /* bytes per scalar (real rules < 2,000) */
#define SIGMA_MAX_COND 4096         /* bytes of condition text */
#define SIGMA_MAX_ALTS 256          /* alternatives one value may expand into */

/* glob bytes inside a pattern; a literal 0x01/0x02 in a rule value is refused */
#define SIGMA_GLOB_STAR '\x01'
#define SIGMA_GLOB_ONE '\x02'

enum sigma_match {
    SIGMA_M_EQ = 0,   /* whole value, wildcards allowed */
    SIGMA_M_CONTAINS,
    SIGMA_M_STARTS,
    SIGMA_M_ENDS,
    SIGMA_M_RE,       /* PCRE2, case-sensitive unless |i */
    SIGMA_M_CIDR,
    SIGMA_M_EXISTS,   /* value is true/false */
    SIGMA_M_LT,
    SIGMA_M_LTE,
    SIGMA_M_GT,
    SIGMA_M_GTE,
    SIGMA_M_FIELDREF, /* value names another field; compared with contains/starts/ends/eq */
};

/* test flags */
#define SIGMA_F_ALL 0x01    /* every value must match (default: any) */
#define SIGMA_F_CASED 0x02  /* case-sensitive string compare */

/* Pseudo field ids beyond the catalogue (enum cw_field_id). */
enum sigma_pseudo_field {
    SIGMA_FID_SRC_IP = CW_F__COUNT + 1,
    SIGMA_FID_DST_IP,
    SIGMA_FID_SRC_PORT,
    SIGMA_FID_DST_PORT,
    SIGMA_FID_TRANSPORT,
    SIGMA_FID_RAW,
    SIGMA_FID_HTTP_URL, /* http.path + "?" + http.query */
    SIGMA_FID_JSON,     /* not mapped: look the Sigma name up in the raw JSON */
    SIGMA_FID_KEYWORD,  /* field-less keyword: any string value or the raw line */
};

/* One concrete alternative of a value. */
struct sigma_alt {
    const char *s;     /* glob bytes (NUL-terminated), regex source, field name, ... */
    uint32_t n;
    bool null;         /* YAML null: field absent or empty */
    uint8_t prefix;    /* CIDR prefix length */
    struct cw_ip net;  /* CIDR network */
    int64_t num;       /* lt/lte/gt/gte operand; exists: 1 = true */
    void *re;          /* pcre2_code * (SIGMA_M_RE) */
};

struct sigma_value {
    struct sigma_alt *alts; /* matches if any alternative matches */
    uint32_t nalts;
};

struct sigma_test {
    const char *field;      /* Sigma field name; NULL for keywords */
    int fid;                /* resolved by the rule set (enum cw_field_id or pseudo) */
    uint8_t match;          /* enum sigma_match */
    uint8_t ref_match;      /* fieldref: EQ / CONTAINS / STARTS / ENDS */
    uint8_t flags;          /* SIGMA_F_* */
    int ref_fid;            /* fieldref: resolved id of the referenced field */
    struct sigma_value *vals;
    uint32_t nvals;
    uint32_t line;
};

struct sigma_group { /* all tests must hold */
    struct sigma_test *tests;
    uint32_t ntests;
};

struct sigma_sel { /* any group may hold */
    const char *name;
    struct sigma_group *groups;
    uint32_t ngroups;
    uint32_t line;
};

enum sigma_op { SIGMA_C_SEL = 1, SIGMA_C_AND, SIGMA_C_OR, SIGMA_C_NOT, SIGMA_C_TRUE, SIGMA_C_FALSE };

struct sigma_cond {
    uint8_t op;
    uint32_t sel;                /* SIGMA_C_SEL: index into rule->sels */
    struct sigma_cond *a, *b;    /* AND/OR: a, b; NOT: a */
};

struct sigma_rule {
    const char *file;
    uint32_t line;               /* line of "detection:" */
    const char *title, *id, *status, *level, *description;
    const char *name;            /* optional Sigma `name` (correlation references) */
    const char **tags;
    uint32_t ntags;
    const char *category, *product, *service; /* NULL when absent */
    struct sigma_sel *sels;
    uint32_t nsels;
    struct sigma_cond *cond;
    const char *cond_text;
    void **regexes;              /* every pcre2_code the rule owns */
    uint32_t nregexes, capregexes;
};

struct sigma_err {
    uint32_t line;     /* 1-based YAML line, 0 if unknown */
    char reason[200];
};

/* Parse one rule file. text need not be NUL-terminated. file is copied for
 * reports. Returns 0, or -1 with err set; on failure the rule's regexes are
 * already freed (the arena may hold garbage, freed with the arena). */
int sigma_rule_parse(struct cw_arena *a, const char *file, const char *text, size_t n,
                     struct sigma_rule *out, struct sigma_err *err);
/* Free the PCRE2 codes of a parsed rule (the arena holds the rest). */
void sigma_rule_release(struct sigma_rule *r);

/* Parse condition text against the rule's selections. Returns 0, or -1 with a
 * static or arena reason in *why. Depth and length are bounded. */
int sigma_cond_parse(struct cw_arena *a, const char *s, size_t n, const struct sigma_sel *sels,
                     uint32_t nsels, struct sigma_cond **out, const char **why);

/* Why a rule fired: the last selection that held, with one test and value. */
struct sigma_why {
    const struct sigma_sel *sel;
    const struct sigma_test *test;
    const char *value;   /* the record's value that matched (not NUL-terminated) */
    size_t value_len;
};

/* Per-record evaluation scratch (lazy JSON view of the raw line). One per thread. */
struct sigma_evalctx;
struct sigma_evalctx *sigma_evalctx_new(void);   /* NULL on allocation failure */
void sigma_evalctx_free(struct sigma_evalctx *c);
/* Point the scratch at a record (forgets the previous record's JSON view). */
void sigma_evalctx_reset(struct sigma_evalctx *c, const struct cw_record *r);
/* An optional hint (sigma_compile.c sets one on its own contexts): fn(arg, a)
 * true means alternative a (a glob) matches no value of its field in the
 * current record, so the compare is skipped; it must never say so wrongly.
 * fn NULL: no hint (the default). */
typedef bool (*sigma_absent_fn)(void *arg, const struct sigma_alt *a);
void sigma_evalctx_set_hint(struct sigma_evalctx *c, sigma_absent_fn fn, void *arg);

/* Does the rule fire on the context's record? why may be NULL. */
bool sigma_eval_rule(const struct sigma_rule *rule, struct sigma_evalctx *c,
                     struct sigma_why *why);

/* Field value exactly as the evaluator matches it (sigma_compile.c scans these):
 * the catalogue / core / pseudo value of fid, else, when name is not NULL, the
 * JSON fallback by Sigma name. Integers are rendered as decimal. Returns false
 * when absent; *s points into the record or the context's scratch and is valid
 * until the next call on c. */
bool sigma_eval_field(struct sigma_evalctx *c, int fid, const char *name, const char **s,
                      size_t *n);
/* Is fid matched raw and URL-normalised (http.path, .query, .url, .referer)? */
bool sigma_is_url_field(int fid);
/* Capacity of the normalised URL buffer (a longer form is truncated identically). */
#define SIGMA_URL_MAX 8192

/* Does one test hold (exposed for unit and property tests)? */
bool sigma_eval_test(const struct sigma_test *t, struct sigma_evalctx *c, struct sigma_why *why);

/* Glob match: pattern bytes with SIGMA_GLOB_STAR / SIGMA_GLOB_ONE; ASCII case
 * folding unless cased. Linear space, O(n*m) worst case time. */
bool sigma_glob(const char *p, size_t pn, const char *s, size_t sn, bool cased);

/* URL normalisation for matching (sigma_urlnorm.c): percent-decoding repeated
 * up to 3 times (double encoding), %uXXXX, overlong UTF-8 forms of ASCII folded
 * to ASCII, '\' kept. Writes at most cap bytes; returns the length. out may not
 * alias in. The raw form stays matchable: the evaluator tries both. */
size_t sigma_url_normalize(const char *in, size_t n, char *out, size_t cap);

#endif
