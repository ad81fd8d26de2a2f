/* cmd_ioc.c - `crosswatch ioc`: offline conversion and validation of indicator
 * files (STIX 2.1, MISP events and feeds, CSV, plain lists -> those and RPZ).
 * The formats are src/ioc/iocfmt.h; this file reads files, prints rejects and
 * writes the output. docs/indicators-formats.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "common/config.h"
#include "common/csv.h"
#include "common/timefmt.h"
#include "ioc/iocfmt.h"
#include "ship/durable.h"
#include "common/banned.h"

#define SECTION "ioc"
#define MAX_FILES 256
#define MAX_INPUT ((size_t)512 << 20)

static const struct cw_option ioc_options[] = {
    {"from", 'f', "from", "FORMAT", "input format: stix, misp, csv or plain (default: guessed per file)"},
    {"to", 't', "to", "FORMAT", "convert: stix, misp, misp-feed (needs --output DIR), csv, plain or rpz"},
    {"output", 'o', "output", "PATH", "write here instead of standard output (a directory for misp-feed)"},
    {"tlp", 0, "tlp", "TLP", "TLP of indicators whose source has no marking (default CLEAR)"},
    {"max-tlp", 0, "max-tlp", "TLP", "leave out indicators marked stricter than this"},
    {"type", 0, "type", "TYPE", "plain input: every line is this type; plain output: only this type"},
    {"all", 0, "all", NULL, "MISP input: also attributes with to_ids false"},
    {"keep-expired", 0, "keep-expired", NULL, "keep indicators whose valid_until has passed"},
    {"producer", 0, "producer", "NAME", "identity written into STIX and MISP output (default crosswatch)"},
    {"origin", 0, "origin", "ZONE", "rpz: zone name (default rpz.crosswatch.invalid)"},
    {"info", 0, "info", "TEXT", "misp: event info"},
    {"spreadsheet", 0, "spreadsheet", NULL, "csv: prefix cells a spreadsheet would run as formulas with '"},
    {"quiet", 'q', "quiet", NULL, "do not print each rejected object"},
    {NULL, 0, NULL, NULL, NULL},
};

enum fmt { F_NONE, F_STIX, F_MISP, F_CSV, F_PLAIN, F_MISP_FEED, F_RPZ };

static enum fmt fmt_from_name(const char *s)
{
    static const char *names[] = {"", "stix", "misp", "csv", "plain", "misp-feed", "rpz"};
    for (int i = 1; i < 7; i++)
        if (s && strcmp(s, names[i]) == 0)
            return (enum fmt)i;
    return F_NONE;
}

struct run {
    const char *file;
    bool quiet;
    size_t rejects;
};

static void on_reject(void *ctx, const char *where, const char *reason)
{
    struct run *r = ctx;
    r->rejects++;
    if (!r->quiet)
        fprintf(stderr, "%s: %s: %s\n", r->file, where, reason);
}

static int read_input(const char *path, char **data, size_t *n)
{
    if (strcmp(path, "-") != 0)
        return cw_durable_read(path, MAX_INPUT, data, n);
    size_t cap = 1 << 16, len = 0;
    char *b = malloc(cap + 1);
    while (b) {
        size_t k = fread(b + len, 1, cap - len, stdin);
        len += k;
        if (k == 0)
            break;
        if (len == cap) {
            if (cap >= MAX_INPUT) {
                free(b);
                errno = EFBIG;
                return -1;
            }
            char *nb = realloc(b, cap * 2 + 1);
            if (!nb)
                break;
            b = nb;
            cap *= 2;
        }
    }
    if (!b)
        return -1;
    b[len] = '\0';
    *data = b;
    *n = len;
    return 0;
}

/* JSON with a bundle -> stix, other JSON -> misp, a header with a value column ->
 * csv, otherwise plain. */
static enum fmt guess(const char *d, size_t n)
{
    size_t i = 0;
    while (i < n && (d[i] == ' ' || d[i] == '\n' || d[i] == '\r' || d[i] == '\t'))
        i++;
    if (i < n && (d[i] == '{' || d[i] == '[')) {
        size_t lim = n < 4096 ? n : 4096;
        for (size_t k = i; k + 8 < lim; k++)
            if (memcmp(d + k, "\"bundle\"", 8) == 0 || memcmp(d + k, "\"spec_version\"", 8) == 0)
                return F_STIX;
        return F_MISP;
    }
    const char *nl = memchr(d + i, '\n', n - i);
    size_t ln = nl ? (size_t)(nl - d - i) : n - i;
    const char *c = memchr(d + i, ',', ln);
    if (c) {
        for (size_t k = i; k + 5 <= i + ln; k++)
            if (strncasecmp(d + k, "value", 5) == 0)
                return F_CSV;
    }
    return F_PLAIN;
}

static void feed_event(void *ctx, const char *uuid)
{
    struct { char (*u)[37]; size_t n; } *l = ctx;
    if (l->n < 4096)
        memcpy(l->u[l->n++], uuid, 37);
}

/* A MISP feed directory: manifest.json lists the events, one <uuid>.json each. */
static int import_feed(const char *dir, const struct cw_ioc_import_opts *o,
                       struct cw_ioc_list *list, struct cw_ioc_import_stats *st, struct run *r)
{
    char path[4096], err[256];
    char *data;
    size_t n;
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    if (cw_durable_read(path, MAX_INPUT, &data, &n)) {
        fprintf(stderr, "crosswatch ioc: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    struct { char (*u)[37]; size_t n; } l = {calloc(4096, 37), 0};
    int k = l.u ? cw_ioc_misp_manifest_events(data, n, feed_event, &l, err, sizeof err) : -1;
    free(data);
    if (k < 0) {
        fprintf(stderr, "crosswatch ioc: %s: %s\n", path, l.u ? err : "out of memory");
        free(l.u);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < l.n; i++) {
        snprintf(path, sizeof path, "%s/%s.json", dir, l.u[i]);
        r->file = path;
        if (cw_durable_read(path, MAX_INPUT, &data, &n)) {
            fprintf(stderr, "crosswatch ioc: cannot read %s: %s\n", path, strerror(errno));
            rc = -1;
            continue;
        }
        if (cw_ioc_import_misp(data, n, o, list, st))
            rc = -1;
        free(data);
    }
    free(l.u);
    return rc;
}

static int import_file(const char *file, enum fmt from, const struct cw_ioc_import_opts *o,
                       struct cw_ioc_list *list, struct cw_ioc_import_stats *st, struct run *r)
{
    struct stat sb;
    r->file = file;
    if (strcmp(file, "-") != 0 && stat(file, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        if (from != F_NONE && from != F_MISP) {
            fprintf(stderr, "crosswatch ioc: %s is a directory (only MISP feeds are)\n", file);
            return -1;
        }
        return import_feed(file, o, list, st, r);
    }
    char *data;
    size_t n;
    if (read_input(file, &data, &n)) {
        fprintf(stderr, "crosswatch ioc: cannot read %s: %s\n", file, strerror(errno));
        return -1;
    }
    enum fmt f = from != F_NONE ? from : guess(data, n);
    int rc;
    switch (f) {
    case F_STIX: rc = cw_ioc_import_stix(data, n, o, list, st); break;
    case F_MISP: rc = cw_ioc_import_misp(data, n, o, list, st); break;
    case F_CSV: rc = cw_ioc_import_csv(data, n, o, list, st); break;
    default: rc = cw_ioc_import_plain(data, n, o, list, st); break;
    }
    free(data);
    return rc;
}

static int write_out(const char *path, const struct cw_buf *b)
{
    if (!path || strcmp(path, "-") == 0) {
        if (b->len && fwrite(b->data, 1, b->len, stdout) != b->len)
            return -1;
        return fflush(stdout) ? -1 : 0;
    }
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    bool ok = (b->len == 0 || fwrite(b->data, 1, b->len, f) == b->len);
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

static int write_feed(const char *dir, const struct cw_ioc_item *it, size_t n,
                      const struct cw_ioc_export_opts *eo)
{
    struct cw_buf ev = CW_BUF_INIT, man = CW_BUF_INIT, hashes = CW_BUF_INIT;
    char uuid[37], name[64];
    cw_misp_event_uuid(eo, uuid);
    snprintf(name, sizeof name, "%s.json", uuid);
    int rc = -1;
    if (cw_durable_mkdirs(dir) == 0 && cw_ioc_export_misp(it, n, eo, &ev) >= 0 &&
        cw_ioc_export_misp_manifest(it, n, eo, &man) == 0 &&
        cw_ioc_export_misp_hashes(it, n, eo, &hashes) == 0 &&
        cw_durable_write(dir, name, ev.data, ev.len) == 0 &&
        cw_durable_write(dir, "manifest.json", man.data, man.len) == 0 &&
        cw_durable_write(dir, "hashes.csv", hashes.data ? hashes.data : "", hashes.len) == 0)
        rc = 0;
    cw_buf_release(&ev);
    cw_buf_release(&man);
    cw_buf_release(&hashes);
    return rc;
}

static int run(const struct cw_config *cfg, bool convert, const char **files, size_t nfiles)
{
    const char *s;
    enum fmt from = F_NONE, to = F_NONE;
    if ((s = cw_config_str(cfg, SECTION, "from", NULL)) &&
        ((from = fmt_from_name(s)) == F_NONE || from > F_PLAIN)) {
        fprintf(stderr, "crosswatch ioc: --from %s: not stix, misp, csv or plain\n", s);
        return 2;
    }
    if (convert && ((to = fmt_from_name(cw_config_str(cfg, SECTION, "to", ""))) == F_NONE)) {
        fprintf(stderr, "crosswatch ioc convert: --to stix|misp|misp-feed|csv|plain|rpz is required\n");
        return 2;
    }
    const char *output = cw_config_str(cfg, SECTION, "output", NULL);
    if (to == F_MISP_FEED && !output) {
        fprintf(stderr, "crosswatch ioc convert: --to misp-feed needs --output DIR\n");
        return 2;
    }
    struct run r = {.quiet = cw_config_str(cfg, SECTION, "quiet", NULL) != NULL};
    struct cw_ioc_import_opts o = {.default_confidence = -1, .on_reject = on_reject, .ctx = &r};
    enum cw_tlp max_tlp = CW_TLP_RED;
    if ((s = cw_config_str(cfg, SECTION, "tlp", NULL)) && cw_tlp_from_name(s, &o.default_tlp)) {
        fprintf(stderr, "crosswatch ioc: --tlp %s: not a TLP level\n", s);
        return 2;
    }
    if ((s = cw_config_str(cfg, SECTION, "max-tlp", NULL)) && cw_tlp_from_name(s, &max_tlp)) {
        fprintf(stderr, "crosswatch ioc: --max-tlp %s: not a TLP level\n", s);
        return 2;
    }
    enum cw_ioc_type type = CW_IOC_NONE;
    if ((s = cw_config_str(cfg, SECTION, "type", NULL)) &&
        (type = cw_ioc_type_from_name(s)) == CW_IOC_NONE) {
        fprintf(stderr, "crosswatch ioc: --type %s: unknown indicator type\n", s);
        return 2;
    }
    o.plain_type = type;
    o.misp_all = cw_config_str(cfg, SECTION, "all", NULL) != NULL;
    if (!cw_config_str(cfg, SECTION, "keep-expired", NULL))
        o.now_us = cw_now_us();

    struct cw_ioc_list list;
    cw_ioc_list_init(&list);
    int rc = 0;
    size_t total_rejects = 0;
    for (size_t i = 0; i < nfiles; i++) {
        struct cw_ioc_import_stats st = {0};
        r.rejects = 0;
        if (import_file(files[i], from, &o, &list, &st, &r))
            rc = 1;
        total_rejects += st.rejected;
        fprintf(stderr,
                "%s: %zu objects: %zu accepted, %zu duplicates, %zu rejected, %zu skipped, "
                "%zu expired\n",
                files[i], st.objects, st.accepted, st.duplicates, st.rejected, st.skipped,
                st.expired);
    }
    if (!convert) {
        cw_ioc_list_release(&list);
        return rc ? 1 : total_rejects ? 1 : 0;
    }
    /* sharing filter, then export */
    size_t w = 0;
    for (size_t i = 0; i < list.n; i++)
        if (list.items[i].tlp <= max_tlp)
            list.items[w++] = list.items[i];
    struct cw_ioc_export_opts eo = {
        .producer_name = cw_config_str(cfg, SECTION, "producer", NULL),
        .rpz_origin = cw_config_str(cfg, SECTION, "origin", "rpz.crosswatch.invalid"),
        .misp_event_info = cw_config_str(cfg, SECTION, "info", NULL),
        .now_us = cw_now_us(),
        /* verbatim by default: the file may be imported again */
        .csv_flags = cw_config_str(cfg, SECTION, "spreadsheet", NULL) ? CW_CSV_SPREADSHEET : 0,
    };
    struct cw_buf out = CW_BUF_INIT;
    int left = 0;
    switch (to) {
    case F_STIX: left = cw_ioc_export_stix(list.items, w, &eo, &out); break;
    case F_MISP: left = cw_ioc_export_misp(list.items, w, &eo, &out); break;
    case F_CSV: left = cw_ioc_export_csv(list.items, w, &eo, &out); break;
    case F_PLAIN: left = cw_ioc_export_plain(list.items, w, type, &out); break;
    case F_RPZ: left = cw_ioc_export_rpz(list.items, w, &eo, &out); break;
    case F_MISP_FEED: left = write_feed(output, list.items, w, &eo); break;
    default: break;
    }
    if (left < 0) {
        fprintf(stderr, "crosswatch ioc convert: cannot write the output\n");
        rc = 1;
    } else {
        if (left > 0)
            fprintf(stderr, "%d indicators have no form in this format and were left out\n",
                    left);
        if (to != F_MISP_FEED && write_out(output, &out)) {
            fprintf(stderr, "crosswatch ioc convert: cannot write %s: %s\n",
                    output ? output : "standard output", strerror(errno));
            rc = 1;
        }
    }
    fprintf(stderr, "%zu indicators written (%zu left out by --max-tlp)\n",
            w - (size_t)(left > 0 ? left : 0), list.n - w);
    cw_buf_release(&out);
    cw_ioc_list_release(&list);
    return rc;
}

int cmd_ioc(int argc, char **argv)
{
    struct cw_config cfg;
    const char *pos[MAX_FILES + 1];
    size_t npos = 0;
    bool help = false;
    char err[512];
    cw_config_init(&cfg);
    if (cw_options_parse(ioc_options, SECTION, argc, argv, &cfg, &help, pos, MAX_FILES + 1,
                         &npos, err, sizeof err)) {
        fprintf(stderr, "crosswatch ioc: %s\n", err);
        cw_config_release(&cfg);
        return 2;
    }
    int rc;
    bool convert = npos >= 1 && strcmp(pos[0], "convert") == 0;
    bool validate = npos >= 1 && strcmp(pos[0], "validate") == 0;
    if (help || npos < 2 || (!convert && !validate)) {
        cw_options_help(help ? stdout : stderr,
                        "crosswatch ioc convert --to FORMAT [--from FORMAT] FILE... | "
                        "ioc validate [--from FORMAT] FILE...",
                        "Convert indicator files between STIX 2.1, MISP (events, feed "
                        "directories), CSV,\nplain lists and RPZ, or validate them (each "
                        "rejected object with its reason;\nexit 1 when any). FILE '-' is "
                        "standard input. See docs/indicators-formats.md.",
                        ioc_options);
        rc = help ? 0 : 2;
    } else {
        rc = run(&cfg, convert, pos + 1, npos - 1);
    }
    cw_config_release(&cfg);
    return rc;
}
