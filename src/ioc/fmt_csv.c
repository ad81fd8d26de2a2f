/* fmt_csv.c - CSV (RFC 4180) and plain one-value-per-line lists, import and export.
 *
 * CSV rows are read with a small state machine (quoted fields may hold commas,
 * doubled quotes and line breaks); a bad row is rejected with its line number and
 * the next row is read normally. Columns are found by the header's names, so the
 * order is free and unknown columns are ignored. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/csv.h"
#include "common/timefmt.h"
#include "ioc/fmt_impl.h"
#include "common/banned.h"

#define MAX_FIELDS 64

enum col { C_TYPE, C_VALUE, C_TLP, C_CONF, C_FIRST, C_LAST, C_UNTIL, C_DESC, C_ID, C_LABELS,
           C_SOURCE, C__COUNT };
static const char *col_names[C__COUNT] = {"type", "value", "tlp", "confidence", "first_seen",
                                          "last_seen", "valid_until", "description", "id",
                                          "labels", "source"};

struct field {
    char *s; /* unquoted, NUL-terminated, in the arena */
    size_t n;
};

/* Read one record starting at *pos into rec (fields NUL-separated; f[] point into
 * rec->data, valid until the next call). Returns the number of fields (>= 1), 0 at
 * the end of input, or -1 for a malformed record (*reason set; *pos moved past it). */
static int read_record(const char *d, size_t len, size_t *pos, unsigned *line,
                       struct cw_buf *rec, struct field *f, const char **reason)
{
    size_t i = *pos, off[MAX_FIELDS];
    if (i >= len)
        return 0;
    cw_buf_clear(rec);
    int nf = 0;
    bool bad = false;
    for (;;) {
        size_t start = rec->len;
        if (i < len && d[i] == '"') {
            i++;
            for (;;) {
                if (i >= len) {
                    *reason = "unterminated quoted field";
                    *pos = len;
                    return -1;
                }
                if (d[i] == '"') {
                    if (i + 1 < len && d[i + 1] == '"') {
                        cw_buf_addc(rec, '"');
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                if (d[i] == '\n')
                    (*line)++;
                cw_buf_addc(rec, d[i++]);
            }
            if (i < len && d[i] != ',' && d[i] != '\n' && d[i] != '\r') {
                bad = true;
                *reason = "text after a closing quote";
            }
        }
        size_t s0 = i;
        while (i < len && d[i] != ',' && d[i] != '\n') {
            if (d[i] == '"' && !bad) {
                bad = true;
                *reason = "quote inside an unquoted field";
            }
            i++;
        }
        cw_buf_add(rec, d + s0, i - s0);
        while (rec->len > start && rec->data[rec->len - 1] == '\r' && (i >= len || d[i] == '\n'))
            rec->len--;
        if (nf < MAX_FIELDS) {
            off[nf] = start;
            f[nf].n = rec->len - start;
        } else if (!bad) {
            bad = true;
            *reason = "more than 64 fields";
        }
        cw_buf_addc(rec, '\0');
        nf++;
        if (i < len && d[i] == ',') {
            i++;
            continue;
        }
        break;
    }
    if (i < len && d[i] == '\n') {
        i++;
        (*line)++;
    }
    *pos = i;
    if (!cw_buf_ok(rec)) {
        *reason = "out of memory";
        return -1;
    }
    for (int k = 0; k < nf && k < MAX_FIELDS; k++)
        f[k].s = rec->data + off[k];
    return bad ? -1 : nf;
}

static bool blank(const struct field *f, int nf)
{
    for (int k = 0; k < nf; k++)
        for (size_t i = 0; i < f[k].n; i++)
            if (f[k].s[i] != ' ' && f[k].s[i] != '\t')
                return false;
    return true;
}

static void trim(struct field *f)
{
    while (f->n && (f->s[0] == ' ' || f->s[0] == '\t')) {
        f->s++;
        f->n--;
    }
    while (f->n && (f->s[f->n - 1] == ' ' || f->s[f->n - 1] == '\t'))
        f->s[--f->n] = '\0';
}

/* Type column value -> type; also a few common aliases. */
static enum cw_ioc_type type_of(const char *s)
{
    static const struct { const char *a; enum cw_ioc_type t; } alias[] = {
        {"domain-name", CW_IOC_DOMAIN}, {"ipv4-addr", CW_IOC_IPV4}, {"ipv6-addr", CW_IOC_IPV6},
        {"ip-dst", CW_IOC_NONE},       {"email-addr", CW_IOC_EMAIL}, {"sha-1", CW_IOC_SHA1},
        {"sha-256", CW_IOC_SHA256},    {"useragent", CW_IOC_USER_AGENT},
    };
    char low[32];
    size_t n = strlen(s);
    if (n >= sizeof low)
        return CW_IOC__COUNT;
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
    enum cw_ioc_type t = cw_ioc_type_from_name(low);
    if (t != CW_IOC_NONE)
        return t;
    for (size_t i = 0; i < sizeof alias / sizeof *alias; i++)
        if (strcmp(alias[i].a, low) == 0)
            return alias[i].t;
    return CW_IOC__COUNT; /* unknown */
}

static int parse_time(const struct field *f, int64_t *us)
{
    *us = 0;
    return f->n == 0 ? 0 : cw_time_parse_iso(f->s, f->n, us);
}

static void import_row(struct fmt_import *im, const int *col, struct field *f, int nf,
                       unsigned line)
{
    char where[32];
    snprintf(where, sizeof where, "line %u", line);
    struct field empty = {(char *)"", 0}, *c[C__COUNT];
    for (int k = 0; k < C__COUNT; k++) {
        c[k] = col[k] >= 0 && col[k] < nf ? &f[col[k]] : &empty;
        if (c[k] != &empty)
            trim(c[k]);
    }
    struct cw_ioc_item it = {.confidence = im->o->default_confidence,
                             .tlp = im->o->default_tlp,
                             .source_name = im->o->source_name};
    if (c[C_VALUE]->n == 0) {
        fmt_reject(im, where, "empty value");
        return;
    }
    enum cw_ioc_type t = CW_IOC_NONE;
    if (c[C_TYPE]->n) {
        t = type_of(c[C_TYPE]->s);
        if (t == CW_IOC__COUNT) {
            fmt_reject(im, where, "unknown type %.40s", c[C_TYPE]->s);
            return;
        }
    }
    if (t == CW_IOC_NONE) {
        t = cw_ioc_guess(c[C_VALUE]->s, c[C_VALUE]->n);
        if (t == CW_IOC_NONE) {
            fmt_reject(im, where, "cannot tell the type of %.80s", c[C_VALUE]->s);
            return;
        }
    }
    if (c[C_TLP]->n && cw_tlp_from_name(c[C_TLP]->s, &it.tlp)) {
        fmt_reject(im, where, "unknown TLP %.40s", c[C_TLP]->s);
        return;
    }
    if (c[C_CONF]->n) {
        char *e;
        long v = strtol(c[C_CONF]->s, &e, 10);
        if (*e || v < 0 || v > 100) {
            fmt_reject(im, where, "confidence must be 0..100");
            return;
        }
        it.confidence = (int)v;
    }
    if (parse_time(c[C_FIRST], &it.first_seen_us) || parse_time(c[C_LAST], &it.last_seen_us) ||
        parse_time(c[C_UNTIL], &it.valid_until_us)) {
        fmt_reject(im, where, "a time is not ISO 8601");
        return;
    }
    if (c[C_DESC]->n)
        it.description = c[C_DESC]->s;
    if (c[C_SOURCE]->n)
        it.source_name = c[C_SOURCE]->s;
    if (c[C_ID]->n > 11 && c[C_ID]->n < CW_IOC_ID_MAX &&
        strncmp(c[C_ID]->s, "indicator--", 11) == 0)
        it.id = c[C_ID]->s;
    const char *labels[CW_IOC_LABELS_MAX];
    if (c[C_LABELS]->n) {
        /* "a;b;c" */
        char *s = c[C_LABELS]->s;
        while (*s && it.nlabels < CW_IOC_LABELS_MAX) {
            char *e = strchr(s, ';');
            if (e)
                *e = '\0';
            if (*s)
                labels[it.nlabels++] = s;
            if (!e)
                break;
            s = e + 1;
        }
    }
    it.labels = labels;
    fmt_emit(im, where, &it, t, c[C_VALUE]->s, c[C_VALUE]->n);
}

int cw_ioc_import_csv(const char *data, size_t len, const struct cw_ioc_import_opts *o,
                      struct cw_ioc_list *out, struct cw_ioc_import_stats *st)
{
    struct fmt_import im = {o, out, st};
    struct cw_buf rec = CW_BUF_INIT;
    struct field f[MAX_FIELDS];
    size_t pos = 0;
    unsigned line = 1;
    int col[C__COUNT], rc = 0;
    bool header = false;
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
        pos = 3; /* UTF-8 byte order mark from spreadsheets */
    for (;;) {
        unsigned start = line;
        const char *reason = NULL;
        int nf = read_record(data, len, &pos, &line, &rec, f, &reason);
        if (nf == 0)
            break;
        char where[32];
        snprintf(where, sizeof where, "line %u", start);
        if (nf < 0) {
            if (!header) {
                fmt_reject(&im, where, "header: %s", reason);
                rc = -1;
                break;
            }
            st->objects++;
            fmt_reject(&im, where, "%s", reason);
            continue;
        }
        if (blank(f, nf < MAX_FIELDS ? nf : MAX_FIELDS))
            continue;
        if (!header) {
            for (int k = 0; k < C__COUNT; k++)
                col[k] = -1;
            for (int k = 0; k < nf; k++) {
                trim(&f[k]);
                for (int m = 0; m < C__COUNT; m++)
                    if (strcasecmp(f[k].s, col_names[m]) == 0 && col[m] < 0)
                        col[m] = k;
                if (col[C_VALUE] < 0 && (strcasecmp(f[k].s, "indicator") == 0 ||
                                         strcasecmp(f[k].s, "ioc") == 0))
                    col[C_VALUE] = k;
            }
            if (col[C_VALUE] < 0) {
                fmt_reject(&im, where, "the header names no value column");
                rc = -1;
                break;
            }
            header = true;
            continue;
        }
        st->objects++;
        import_row(&im, col, f, nf, start);
    }
    cw_buf_release(&rec);
    return rc;
}

/* -- plain lists ---------------------------------------------------------------- */

static bool is_sp(char c) { return c == ' ' || c == '\t' || c == '\r'; }

int cw_ioc_import_plain(const char *data, size_t len, const struct cw_ioc_import_opts *o,
                        struct cw_ioc_list *out, struct cw_ioc_import_stats *st)
{
    struct fmt_import im = {o, out, st};
    struct cw_ioc_item proto = {.confidence = o->default_confidence,
                                .tlp = o->default_tlp,
                                .source_name = o->source_name};
    unsigned line = 0;
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(data + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - data) : len;
        const char *s = data + i;
        size_t n = e - i;
        i = e + 1;
        line++;
        while (n && is_sp(*s)) {
            s++;
            n--;
        }
        if (n == 0 || *s == '#' || *s == ';' || (n >= 2 && s[0] == '/' && s[1] == '/'))
            continue;
        /* "value  # comment" */
        for (size_t k = 1; k < n; k++)
            if (s[k] == '#' && is_sp(s[k - 1])) {
                n = k;
                break;
            }
        while (n && is_sp(s[n - 1]))
            n--;
        /* hosts-file blocklists: "0.0.0.0 evil.example" */
        const char *sp = memchr(s, ' ', n);
        if (!sp)
            sp = memchr(s, '\t', n);
        if (sp && ((sp - s == 7 && memcmp(s, "0.0.0.0", 7) == 0) ||
                   (sp - s == 9 && memcmp(s, "127.0.0.1", 9) == 0))) {
            n -= (size_t)(sp - s);
            s = sp;
            while (n && is_sp(*s)) {
                s++;
                n--;
            }
        }
        char where[32];
        snprintf(where, sizeof where, "line %u", line);
        st->objects++;
        enum cw_ioc_type t = o->plain_type != CW_IOC_NONE ? o->plain_type : cw_ioc_guess(s, n);
        if (t == CW_IOC_NONE) {
            fmt_reject(&im, where, "cannot tell the type of %.*s", (int)(n > 80 ? 80 : n), s);
            continue;
        }
        fmt_emit(&im, where, &proto, t, s, n);
    }
    return 0;
}

/* -- export --------------------------------------------------------------------- */

static void csv_time(struct cw_buf *b, int64_t us)
{
    cw_buf_addc(b, ',');
    if (us) {
        char t[40];
        cw_time_format_iso(us, t);
        cw_buf_adds(b, t);
    }
}

int cw_ioc_export_csv(const struct cw_ioc_item *items, size_t n,
                      const struct cw_ioc_export_opts *o, struct cw_buf *out)
{
    cw_buf_adds(out, "type,value,tlp,confidence,first_seen,last_seen,valid_until,description,"
                     "id,labels\r\n");
    for (size_t i = 0; i < n; i++) {
        const struct cw_ioc_item *it = &items[i];
        cw_buf_adds(out, cw_ioc_type_name(it->type));
        cw_buf_addc(out, ',');
        cw_csv_str(out, it->value, o->csv_flags);
        cw_buf_addf(out, ",%s,", cw_tlp_name(it->tlp));
        if (it->confidence >= 0)
            cw_buf_addf(out, "%d", it->confidence);
        csv_time(out, it->first_seen_us);
        csv_time(out, it->last_seen_us);
        csv_time(out, it->valid_until_us);
        cw_buf_addc(out, ',');
        cw_csv_str(out, it->description, o->csv_flags);
        cw_buf_addc(out, ',');
        cw_csv_str(out, it->id, o->csv_flags);
        cw_buf_addc(out, ',');
        struct cw_buf l = CW_BUF_INIT;
        for (size_t k = 0; k < it->nlabels; k++) {
            if (!it->labels[k] || strchr(it->labels[k], ';'))
                continue; /* ';' separates labels: such a label cannot round-trip */
            if (l.len)
                cw_buf_addc(&l, ';');
            cw_buf_adds(&l, it->labels[k]);
        }
        if (!cw_buf_ok(&l))
            out->oom = true;
        cw_csv_str(out, l.data, o->csv_flags);
        cw_buf_release(&l);
        cw_buf_adds(out, "\r\n");
    }
    return cw_buf_ok(out) ? 0 : -1;
}

int cw_ioc_export_plain(const struct cw_ioc_item *items, size_t n, enum cw_ioc_type t,
                        struct cw_buf *out)
{
    for (size_t i = 0; i < n; i++) {
        if (t != CW_IOC_NONE && items[i].type != t)
            continue;
        if (strchr(items[i].value, '\n'))
            continue; /* a user agent with a line break has no plain form */
        cw_buf_adds(out, items[i].value);
        cw_buf_addc(out, '\n');
    }
    return cw_buf_ok(out) ? 0 : -1;
}
