/* recon.h - knowing scanners: who merely looks around.
 *
 * Reconnaissance is counted, not escalated. Two kinds of ground truth, both loaded
 * as data at start (never compiled into the code):
 *   - source address ranges of known research scanners and internet-wide surveys:
 *     the MISP warninglists (a directory of <name>/list.json; every list of type
 *     "cidr" whose name says scanning/scanner is used, e.g. shodan-scanning,
 *     censys-scanning, stretchoid-nt-scanning);
 *   - scanner User-Agent substrings: a text file, one case-insensitive substring per
 *     line, '#' comments (rules/scanner-user-agents.txt).
 * Lookups are O(log n) in the number of ranges (sorted, merged intervals) and
 * O(total pattern length) for user agents; the structure is read-only after load,
 * so any number of threads may query it.
 *
 * Errors: cw_recon_load() returns NULL with a message in err when a file cannot be
 * read or is malformed (file name and reason); a list file that is valid JSON but
 * not a warninglist is skipped with a warning, never fatal. */
#ifndef CW_TRIAGE_RECON_H
#define CW_TRIAGE_RECON_H

#include <stddef.h>

#include "common/record.h"

struct cw_recon;

struct cw_recon_stats {
    size_t lists;       /* warninglists loaded */
    size_t ranges_v4;   /* after merging */
    size_t ranges_v6;
    size_t user_agents; /* substrings */
};

/* Either path may be NULL (that kind of knowledge is then empty). */
struct cw_recon *cw_recon_load(const char *warninglists_dir, const char *ua_file, char *err,
                               size_t errlen);
void cw_recon_free(struct cw_recon *r);
void cw_recon_stats(const struct cw_recon *r, struct cw_recon_stats *st);
/* Name of the warninglist containing ip (static storage in r), or NULL. */
const char *cw_recon_match_ip(const struct cw_recon *r, const struct cw_ip *ip);
/* The scanner substring found in ua[0..n) (static storage in r), or NULL. */
const char *cw_recon_match_ua(const struct cw_recon *r, const char *ua, size_t n);
/* Parse one warninglist JSON document (exposed for tests and fuzzing): adds its
 * CIDR entries to r under the given name. Returns 0, 1 if it is not a cidr list
 * (ignored), or -1 with err set. */
int cw_recon_add_warninglist(struct cw_recon *r, const char *name, const char *json, size_t n,
                             char *err, size_t errlen);
/* An empty structure to add lists to (then call cw_recon_finish). */
struct cw_recon *cw_recon_new(void);
/* Sort and merge ranges; must be called after the last add and before lookups. */
int cw_recon_finish(struct cw_recon *r);

#endif
