/* cmd_rules.c - `crosswatch rules check DIR` and `crosswatch rules test`.
 *
 *   rules check DIR           load every rule below DIR; print supported / skipped
 *                             (file:line: reason) and a summary; exit 1 if any skipped
 *   rules test --rules DIR [--format F] FILE
 *                             parse FILE with format F (default winevent-json) and
 *                             print, for every record a rule fires on, the rule id,
 *                             title and why (selection, field, value); --json for
 *                             one JSON object per hit */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/buf.h"
#include "common/config.h"
#include "detect/sigma_ruleset.h"
#include "formats/format.h"
#include "formats/json_docs.h"
#include "common/banned.h"

#define SECTION "rules"

static const struct cw_option rules_options[] = {
    {"rules", 'r', "rules", "DIR", "rule directory (rules test)"},
    {"format", 0, "format", "FORMAT", "input format of FILE (default winevent-json)"},
    {"fieldmap", 0, "fieldmap", "FILE", "Sigma field map (default: rules/fieldmap.conf found "
                                        "next to the binary or in the working directory)"},
    {"json", 0, "json", NULL, "JSON output, one object per line"},
    {"verbose", 'v', "verbose", NULL, "rules check: list supported rules too"},
    {NULL, 0, NULL, NULL, NULL},
};

/* The field map: --fieldmap, $CW_SIGMA_FIELDMAP, ./rules/, <binary>/../rules/,
 * <binary>/../../rules/ (a build directory inside the source tree). */
static const char *find_fieldmap(const struct cw_config *cfg)
{
    static char path[4200];
    const char *v = cw_config_str(cfg, SECTION, "fieldmap", NULL);
    if (v)
        return v;
    if ((v = getenv("CW_SIGMA_FIELDMAP")) != NULL)
        return v;
    if (access("rules/fieldmap.conf", R_OK) == 0)
        return "rules/fieldmap.conf";
    const char *self = cli_self_path();
    const char *slash = strrchr(self, '/');
    int dn = slash ? (int)(slash - self) : 1;
    static const char *const rel[] = {"/../rules/fieldmap.conf", "/../../rules/fieldmap.conf",
                                      "/../share/crosswatch/fieldmap.conf"};
    for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
        snprintf(path, sizeof(path), "%.*s%s", dn, slash ? self : ".", rel[i]);
        if (access(path, R_OK) == 0)
            return path;
    }
    return NULL;
}

static int load(struct sigma_ruleset *rs, const struct cw_config *cfg, const char *dir)
{
    char err[512];
    const char *fm = find_fieldmap(cfg);
    if (!fm)
        fprintf(stderr, "crosswatch rules: no fieldmap.conf found; every field goes through "
                        "the raw-JSON fallback (use --fieldmap)\n");
    if (sigma_ruleset_init(rs, fm, err, sizeof(err))) {
        fprintf(stderr, "crosswatch rules: %s\n", err);
        return -1;
    }
    if (sigma_ruleset_load_dir(rs, dir, err, sizeof(err))) {
        fprintf(stderr, "crosswatch rules: %s\n", err);
        sigma_ruleset_release(rs);
        return -1;
    }
    return 0;
}

static int check(const struct cw_config *cfg, const char *dir)
{
    struct sigma_ruleset rs;
    bool json = !strcmp(cw_config_str(cfg, SECTION, "json", "false"), "true");
    bool verbose = !strcmp(cw_config_str(cfg, SECTION, "verbose", "false"), "true");
    if (load(&rs, cfg, dir))
        return 1;
    struct cw_buf o = CW_BUF_INIT;
    for (uint32_t i = 0; i < rs.nrep; i++) {
        const struct sigma_report *r = &rs.rep[i];
        if (json) {
            cw_buf_adds(&o, "{\"file\":");
            cw_buf_add_json_str(&o, r->file, strlen(r->file));
            cw_buf_addf(&o, ",\"line\":%u,\"supported\":%s", r->line, r->reason ? "false" : "true");
            if (r->reason || r->dormant) {
                cw_buf_adds(&o, r->reason ? ",\"reason\":" : ",\"dormant\":");
                const char *t = r->reason ? r->reason : r->dormant;
                cw_buf_add_json_str(&o, t, strlen(t));
            }
            cw_buf_adds(&o, "}\n");
        } else if (r->reason) {
            cw_buf_addf(&o, "skipped   %s:%u: %s\n", r->file, r->line, r->reason);
        } else if (verbose) {
            cw_buf_addf(&o, "supported %s%s%s\n", r->file, r->dormant ? " (dormant: " : "",
                        r->dormant ? r->dormant : "");
            if (r->dormant)
                cw_buf_adds(&o, ")");
        }
    }
    uint32_t total = rs.nsupported + rs.nskipped;
    if (!json)
        cw_buf_addf(&o, "%u rule files: %u supported (%.2f%%; %u dormant: no input produces "
                        "their log source yet), %u skipped\n",
                    total, rs.nsupported, total ? 100.0 * rs.nsupported / total : 0.0,
                    rs.ndormant, rs.nskipped);
    fwrite(o.data ? o.data : "", 1, o.len, stdout);
    int rc = rs.nskipped ? 1 : 0;
    cw_buf_release(&o);
    sigma_ruleset_release(&rs);
    return rc;
}

struct hitctx {
    struct cw_buf *o;
    bool json;
    uint32_t rec;
    const struct cw_record *r;
};

static void on_hit(void *arg, const struct sigma_entry *e, const struct sigma_why *w)
{
    struct hitctx *h = arg;
    const char *sel = w->sel ? w->sel->name : "";
    const char *field = w->test && w->test->field ? w->test->field : "(keyword)";
    size_t vn = w->value_len > 200 ? 200 : w->value_len;
    const char *v = w->value ? w->value : "";
    if (!h->json) {
        cw_buf_addf(h->o, "record %u: %s %s [%s] selection %s, field %s = \"%.*s\"\n", h->rec,
                    e->rule.id, e->rule.title, e->rule.level ? e->rule.level : "-", sel, field,
                    (int)vn, v);
        return;
    }
    cw_buf_addf(h->o, "{\"record\":%u,\"rule_id\":", h->rec);
    cw_buf_add_json_str(h->o, e->rule.id, strlen(e->rule.id));
    cw_buf_adds(h->o, ",\"title\":");
    cw_buf_add_json_str(h->o, e->rule.title, strlen(e->rule.title));
    cw_buf_addf(h->o, ",\"severity\":%u,\"attack_class\":\"%s\",\"selection\":", e->severity,
                cw_attack_class_name((enum cw_attack_class)e->attack_class));
    cw_buf_add_json_str(h->o, sel, strlen(sel));
    cw_buf_adds(h->o, ",\"field\":");
    cw_buf_add_json_str(h->o, field, strlen(field));
    cw_buf_adds(h->o, ",\"value\":");
    cw_buf_add_json_str(h->o, v, w->value_len);
    cw_buf_adds(h->o, "}\n");
}

static char *read_all(const char *path, size_t *n)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    struct cw_buf b = CW_BUF_INIT;
    char chunk[65536];
    size_t k;
    if (!f)
        return NULL;
    while ((k = fread(chunk, 1, sizeof(chunk), f)) > 0)
        cw_buf_add(&b, chunk, k);
    if (f != stdin)
        fclose(f);
    if (!cw_buf_ok(&b)) {
        cw_buf_release(&b);
        return NULL;
    }
    return cw_buf_detach(&b, n);
}

static int test(const struct cw_config *cfg, const char *file)
{
    const char *dir = cw_config_str(cfg, SECTION, "rules", NULL);
    const char *fmtname = cw_config_str(cfg, SECTION, "format", "winevent-json");
    const struct cw_format *fmt = cw_format_find(fmtname);
    if (!dir || !fmt) {
        fprintf(stderr, "crosswatch rules test: %s\n",
                dir ? "unknown --format" : "--rules DIR is required");
        return 2;
    }
    size_t n = 0;
    char *text = read_all(file, &n);
    if (!text) {
        fprintf(stderr, "crosswatch rules test: cannot read %s\n", file);
        return 1;
    }
    struct sigma_ruleset rs;
    if (load(&rs, cfg, dir)) {
        free(text);
        return 1;
    }
    struct cw_buf lines = CW_BUF_INIT, o = CW_BUF_INIT;
    if (!strcmp(fmtname, "winevent-json") && cw_json_docs_to_lines(text, n, &lines) >= 0) {
        free(text);
        text = cw_buf_detach(&lines, &n);
    }
    struct cw_batch b;
    struct cw_parse_ctx ctx = {0, 0, 0};
    cw_batch_init(&b);
    cw_format_parse_body(fmt, &b, &ctx, text ? text : "", n, CW_MAX_LINE_DEFAULT, NULL);
    struct sigma_evalctx *c = sigma_evalctx_new();
    struct hitctx h = {&o, !strcmp(cw_config_str(cfg, SECTION, "json", "false"), "true"), 0, NULL};
    int fired = 0;
    for (uint32_t i = 0; c && i < b.n; i++) {
        h.rec = i + 1;
        fired += sigma_ruleset_eval(&rs, c, &b.recs[i], on_hit, &h) > 0;
    }
    for (uint32_t i = 0; i < b.nrej; i++)
        fprintf(stderr, "line %u rejected: %s\n", b.rej[i].line, b.rej[i].reason);
    fwrite(o.data ? o.data : "", 1, o.len, stdout);
    if (!h.json)
        printf("%u records, %d with detections, %u rejected; %u rules loaded (%u skipped)\n", b.n,
               fired, b.nrej, rs.nsupported, rs.nskipped);
    sigma_evalctx_free(c);
    cw_batch_release(&b);
    cw_buf_release(&o);
    free(text);
    sigma_ruleset_release(&rs);
    return c ? 0 : 1;
}

int cmd_rules(int argc, char **argv)
{
    struct cw_config cfg;
    const char *pos[4];
    size_t npos = 0;
    bool help = false;
    char err[512];
    cw_config_init(&cfg);
    if (cw_options_parse(rules_options, SECTION, argc, argv, &cfg, &help, pos, 4, &npos, err,
                         sizeof(err))) {
        fprintf(stderr, "crosswatch rules: %s\n", err);
        cw_config_release(&cfg);
        return 2;
    }
    int rc = 2;
    if (help || npos != 2 || (strcmp(pos[0], "check") && strcmp(pos[0], "test"))) {
        cw_options_help(help ? stdout : stderr,
                        "crosswatch rules check DIR | rules test --rules DIR [--format F] FILE",
                        "Check Sigma rules (supported / skipped with reasons) and test them on "
                        "a log file.\nSee docs/sigma.md.",
                        rules_options);
        rc = help ? 0 : 2;
    } else if (!strcmp(pos[0], "check")) {
        rc = check(&cfg, pos[1]);
    } else {
        rc = test(&cfg, pos[1]);
    }
    cw_config_release(&cfg);
    return rc;
}
