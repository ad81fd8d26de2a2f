/* sigma_yaml.h - a bounded YAML reader for rule files (libyaml event API).
 *
 * Builds a small tree of scalars, sequences and mappings in an arena. Hostile
 * input is refused, not survived: nesting deeper than SIGMA_MAX_DEPTH, more than
 * SIGMA_MAX_NODES nodes, scalars longer than SIGMA_MAX_SCALAR, any alias (no
 * alias expansion, so no "billion laughs") and more than one document are errors
 * with the line where they occur (sigma_yaml_documents splits a stream first).
 * Memory is bounded by the input size times a small constant. */
#ifndef CW_DETECT_SIGMA_YAML_H
#define CW_DETECT_SIGMA_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "detect/sigma_rule.h"

enum sy_type { SY_SCALAR = 1, SY_SEQ, SY_MAP };

struct sy_node {
    uint8_t type;
    bool plain;             /* scalar written without quotes (null/number detection) */
    uint32_t line;          /* 1-based */
    const char *s;          /* scalar text, NUL-terminated */
    uint32_t n;
    struct sy_node **kids;  /* SEQ: items; MAP: key, value, key, value ... */
    uint32_t nkids;
};

/* Parse text into a tree (arena). Returns the root, or NULL with err set. */
struct sy_node *sigma_yaml_parse(struct cw_arena *a, const char *text, size_t n,
                                 struct sigma_err *err);
/* A YAML stream's documents: byte offsets [start, end) of each in the text. */
struct sy_doc {
    size_t start, end;
};
/* Split a stream (a Sigma file holding a correlation rule and its base rules,
 * separated by `---`) into at most max documents. Returns their number, or -1
 * when the stream does not parse (or has more documents, or nests too deep):
 * the caller then parses it whole, which reports why. *collection is set when a
 * document has a top-level `action` key (legacy global/repeat collections, whose
 * documents are not rules on their own). */
int sigma_yaml_documents(const char *text, size_t n, struct sy_doc *docs, uint32_t max,
                         bool *collection);
/* Value of key in a mapping, NULL if absent or node is not a mapping. */
const struct sy_node *sigma_yaml_get(const struct sy_node *map, const char *key);
/* A plain null scalar: "", "~", "null", "Null", "NULL". */
bool sigma_yaml_is_null(const struct sy_node *n);

#endif
