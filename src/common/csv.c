/* csv.c - one CSV field (RFC 4180), verbatim or defused for spreadsheets (csv.h). */
#include "common/csv.h"

#include <string.h>

#include "common/banned.h"

bool cw_csv_formula_start(const char *s, size_t n)
{
    return n && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' ||
                 s[0] == '\r');
}

static bool needs_quotes(const char *s, size_t n)
{
    if (n && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        return true;
    for (size_t i = 0; i < n; i++)
        if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r')
            return true;
    return false;
}

void cw_csv_field(struct cw_buf *b, const char *s, size_t n, unsigned flags)
{
    bool defuse = (flags & CW_CSV_SPREADSHEET) && cw_csv_formula_start(s, n);
    if (!defuse && !(flags & CW_CSV_QUOTE_ALL) && !needs_quotes(s, n)) {
        cw_buf_add(b, s, n);
        return;
    }
    /* the ' goes inside the quotes: a spreadsheet reads "'=1" as the text =1, and a
     * reader that honours quotes still sees one field */
    cw_buf_reserve(b, n + 3);
    cw_buf_addc(b, '"');
    if (defuse)
        cw_buf_addc(b, '\'');
    for (size_t i = 0; i < n; i++) {
        const char *q = memchr(s + i, '"', n - i);
        size_t k = q ? (size_t)(q - s) + 1 : n; /* up to and including the next quote */
        cw_buf_add(b, s + i, k - i);
        if (q)
            cw_buf_addc(b, '"');
        i = k - 1;
    }
    cw_buf_addc(b, '"');
}

void cw_csv_str(struct cw_buf *b, const char *s, unsigned flags)
{
    cw_csv_field(b, s ? s : "", s ? strlen(s) : 0, flags);
}

int cw_csv_for(const char *v, unsigned *flags)
{
    if (!v || !strcmp(v, "machine")) {
        *flags = 0;
        return 0;
    }
    if (!strcmp(v, "spreadsheet")) {
        *flags = CW_CSV_SPREADSHEET;
        return 0;
    }
    return -1;
}
