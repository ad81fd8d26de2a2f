/* fmt_impl.h - what the format files of src/ioc share (private to cw_iocfmt). */
#ifndef CW_IOC_FMT_IMPL_H
#define CW_IOC_FMT_IMPL_H

#include <stdarg.h>

#include "common/json.h"
#include "ioc/iocfmt.h"

/* One import in progress: options, destination, counters. */
struct fmt_import {
    const struct cw_ioc_import_opts *o;
    struct cw_ioc_list *out;
    struct cw_ioc_import_stats *st;
};

/* Report one rejected object (counted in st->rejected). */
void fmt_reject(struct fmt_import *im, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Normalise raw[0..n) as type t, fill proto's type/value and add it to the list.
 * Returns 1 added, 0 merged or expired, -1 refused (reason already reported with
 * where; *reason_out, when not NULL, gets the normaliser's reason instead and
 * nothing is reported - for callers that reject a whole object with one reason). */
int fmt_emit(struct fmt_import *im, const char *where, const struct cw_ioc_item *proto,
             enum cw_ioc_type t, const char *raw, size_t n);

/* Parse a whole JSON document with a token array sized to it (heap, *toks; caller
 * frees). Returns 0, or -1 after reporting the reason as a reject of the input. */
int fmt_json_load(struct fmt_import *im, const char *data, size_t len, struct cw_json *j,
                  jsmntok_t **toks);

/* String value of token i copied NUL-terminated into a, or NULL (not a string, OOM). */
const char *fmt_json_strdup(const struct cw_json *j, int i, struct cw_arena *a);

/* ISO 8601 time of token i (string) into *us; 0 ok, -1 absent/invalid. */
int fmt_json_time(const struct cw_json *j, int i, int64_t *us);

/* TLP of a MISP/CSV tag or name ("tlp:amber", "TLP:AMBER+STRICT", "white"). */
int fmt_tlp_tag(const char *s, size_t n, enum cw_tlp *out);

/* Merge rule for TLP: the more restrictive. */
static inline enum cw_tlp fmt_tlp_max(enum cw_tlp a, enum cw_tlp b) { return a > b ? a : b; }

#endif
