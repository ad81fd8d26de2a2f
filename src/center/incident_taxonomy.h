/* incident_taxonomy.h - the classification of incident reports used by the national
 * annual report on critical-infrastructure incidents, and its fiscal calendar.
 *
 * Three dimensions (docs/incidents.md has the full table):
 *   event  (one per report): E0 not occurred; occurred E1 confidentiality,
 *          E2 integrity, E3 availability; leading to those E4 malware infection,
 *          E5 unauthorized code, E6 intrusion, E7 other;
 *   cause  (several per report): C01..C17 in four groups (intentional, accidental,
 *          environmental, other);
 *   attack (the coordinator's re-analysis, at most one): A1 ransomware, A2 other
 *          malware, A3 DDoS / mass access, A4 other.
 * Codes are stable (exports and imports use them); labels exist in Japanese (the
 * report's own terms) and English. The tables are constant data: thread-safe.
 *
 * Fiscal year: April 1 to March 31 in Japan time (UTC+9, no daylight saving); FY2023
 * is 2023-04-01T00:00+09:00 .. 2024-03-31T23:59:59+09:00; quarters 1Q Apr-Jun,
 * 2Q Jul-Sep, 3Q Oct-Dec, 4Q Jan-Mar. */
#ifndef CW_CENTER_INCIDENT_TAXONOMY_H
#define CW_CENTER_INCIDENT_TAXONOMY_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

enum cw_tax_dim { CW_TAX_EVENT, CW_TAX_CAUSE, CW_TAX_ATTACK, CW_TAX__COUNT };

struct cw_tax_entry {
    const char *code;     /* "E3", "C07", "A1": stable */
    const char *key;      /* "availability": stable, readable alternative to the code */
    const char *group;    /* "occurred", "intentional", ... */
    const char *group_ja;
    const char *ja, *en;  /* labels */
    const char *row;      /* the statistics row label (English, as in the report) */
};

#define CW_TAX_MAX_CAUSES 17

/* Entries of a dimension in report order; *n gets the count. */
const struct cw_tax_entry *cw_tax_entries(enum cw_tax_dim d, size_t *n);
/* An entry by code or key (exact, case-sensitive); index in *idx; NULL if unknown. */
const struct cw_tax_entry *cw_tax_find(enum cw_tax_dim d, const char *code_or_key,
                                       size_t *idx);
const char *cw_tax_dim_name(enum cw_tax_dim d); /* "event", "cause", "attack" */
/* {"event":[{code,key,group,group_ja,ja,en}...],"cause":[...],"attack":[...],
 *  "fiscal_year":"..."} */
void cw_tax_json(struct cw_buf *out);

/* Fiscal calendar (Japan time). fq = fy * 4 + quarter - 1 (quarter 1..4). */
int32_t cw_fiscal_quarter(int64_t us);
/* First microsecond (UTC) of fiscal quarter fq; fq + 1 gives the end (exclusive). */
int64_t cw_fiscal_quarter_start(int32_t fq);

#endif
