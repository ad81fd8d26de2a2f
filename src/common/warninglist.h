/* warninglist.h - one reader for MISP warninglists (a folder of <dir>/list.json).
 *
 * A list is a JSON object {"name", "type", "list": [strings], "matching_attributes":
 * [strings], ...}; type is "string" (exact values), "hostname" (names and their
 * subdomains), "substring", "cidr" or "regex". The reader checks the shape and copies
 * the strings into the list's own arena; what the entries mean is up to the caller
 * (src/ioc/ioc_guard.c: names, addresses and digests that must not become
 * indicators).
 *
 * Limits (hostile or broken input): a file larger than CW_WARNINGLIST_MAX_FILE or
 * with more than CW_WARNINGLIST_MAX_TOK JSON values is an error. Not thread-safe per
 * list; lists are independent. */
#ifndef CW_COMMON_WARNINGLIST_H
#define CW_COMMON_WARNINGLIST_H

#include <stdbool.h>
#include <stddef.h>

#include "common/arena.h"

#define CW_WARNINGLIST_MAX_FILE (32u << 20) /* bytes of one list.json */
#define CW_WARNINGLIST_MAX_TOK (1 << 22)    /* JSON values in one list.json */

struct cw_wl_str {
    const char *s; /* NUL-terminated, in the list's arena */
    size_t n;
};

struct cw_warninglist {
    const char *name;  /* "name", or "" when absent */
    const char *type;  /* "type" */
    struct cw_wl_str *entries;
    size_t nentries;
    struct cw_wl_str *attrs; /* "matching_attributes" (may be empty) */
    size_t nattrs;
    struct cw_arena arena; /* owns everything above */
};

/* Parse json[0..n). Returns 0; 1 (with a reason in err) when it is valid JSON but not
 * a warninglist (no "type" or "list", top level not an object); -1 with a reason on
 * malformed input or out of memory. On 1 or -1 there is nothing to release. */
int cw_warninglist_parse(struct cw_warninglist *wl, const char *json, size_t n, char *err,
                         size_t errlen);
/* Read and parse a file; as cw_warninglist_parse, messages start with the path. */
int cw_warninglist_read(struct cw_warninglist *wl, const char *path, char *err, size_t errlen);
void cw_warninglist_release(struct cw_warninglist *wl);
/* Is attr one of the list's matching_attributes? */
bool cw_warninglist_has_attr(const struct cw_warninglist *wl, const char *attr);

/* The subdirectories of dir that hold a list.json, sorted by byte order (so results
 * never depend on readdir() order). *names is a heap array of heap strings; free with
 * cw_warninglist_dir_free. Returns the count, or -1 with a reason. */
long cw_warninglist_dir(const char *dir, char ***names, char *err, size_t errlen);
void cw_warninglist_dir_free(char **names, long n);

#endif
