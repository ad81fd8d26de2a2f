/* taxii_query.h - the values of a TAXII 2.1 request's URL that api_taxii.c parses
 * itself: match[version] and the next cursor. Pure functions over untrusted text,
 * fuzzed by fuzz/fuzz_taxii_query.c. */
#ifndef CW_CENTER_TAXII_QUERY_H
#define CW_CENTER_TAXII_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CW_TAXII_VERSIONS_MAX 16 /* timestamps in one match[version] */

/* match[version] (TAXII 2.1 section 3.4.2): a comma-separated list of "last", "first",
 * "all" and timestamps. any: one of the words was given (or s is NULL: the default,
 * last); at[0..n): the timestamps in µs. */
struct cw_taxii_versions {
    bool any;
    int64_t at[CW_TAXII_VERSIONS_MAX];
    size_t n;
};

/* NULL, or why s is refused (a 400's title). */
const char *cw_taxii_versions_parse(const char *s, struct cw_taxii_versions *out);
/* Does the selection take the version of that time? */
bool cw_taxii_versions_select(const struct cw_taxii_versions *v, int64_t version_us);

/* The next cursor this server gives: "<date added µs>.<id>", both >= 0. 0 or -1. */
int cw_taxii_cursor_parse(const char *s, int64_t *added_us, int64_t *id);

#endif
