/* csv.h - writing CSV fields (RFC 4180), verbatim or safe to open in a spreadsheet.
 *
 * Every CSV the project writes (indicator exports, chart and statistics downloads)
 * writes its text fields here, so quoting and formula defusing have one definition.
 *
 * Machine readers (re-import, scripts) need each value exactly as stored; that is the
 * default. A spreadsheet evaluates a cell starting with = + - @ TAB or CR as a formula
 * (OWASP "CSV Injection"), so when the consumer asks for it (CW_CSV_SPREADSHEET) such a
 * field gets a leading ' inside its quotes: the spreadsheet shows it as text. That
 * changes the value, which is why it is never the default. */
#ifndef CW_COMMON_CSV_H
#define CW_COMMON_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"

enum cw_csv_flags {
    CW_CSV_SPREADSHEET = 1u << 0, /* defuse a leading = + - @ \t \r with a ' */
    CW_CSV_QUOTE_ALL = 1u << 1,   /* quote every field, even one that needs none */
};

/* Append s[0..n) as one field (no separator). It is quoted when it holds , " CR or LF,
 * starts or ends with a space or TAB (readers that trim would lose them), is defused,
 * or CW_CSV_QUOTE_ALL is set; inside quotes a " is doubled. */
void cw_csv_field(struct cw_buf *b, const char *s, size_t n, unsigned flags);
/* The same for a NUL-terminated string; NULL writes an empty field. */
void cw_csv_str(struct cw_buf *b, const char *s, unsigned flags);
/* Whether a spreadsheet would read a cell with this first byte as a formula. */
bool cw_csv_formula_start(const char *s, size_t n);

/* The value of an API's ?for= parameter: NULL or "machine" -> 0, "spreadsheet" ->
 * CW_CSV_SPREADSHEET in *flags. Returns -1 (flags untouched) for anything else. */
int cw_csv_for(const char *v, unsigned *flags);

#endif
