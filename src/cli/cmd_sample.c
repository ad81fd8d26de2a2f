/* cmd_sample.c - `crosswatch sample analyse FILE [--yara DIR] [--json]`.
 *
 * Analyses one suspicious e-mail or file locally (no center needed) and prints the
 * readable report, or the JSON report the center stores (docs/samples.md). "analyze"
 * is accepted too. Exit status: 0 analysed (findings do not change it), 1 the file or
 * the rules could not be read, 2 usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/buf.h"
#include "common/config.h"
#include "ioc/sample.h"
#include "common/banned.h"

#define SECTION "sample"

static const struct cw_option sample_options[] = {
    {"yara", 'y', "yara", "DIR", "scan with the YARA rules (*.yar, *.yara) of DIR"},
    {"json", 0, "json", NULL, "print the JSON report instead of the readable one"},
    {"password", 'p', "password", "WORD", "password for encrypted archive members (repeatable; "
                                          "default: infected, malware, virus)"},
    {NULL, 0, NULL, NULL, NULL},
};

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct cw_buf b = CW_BUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        cw_buf_add(&b, chunk, n);
    bool bad = ferror(f) || !cw_buf_ok(&b);
    fclose(f);
    if (bad) {
        cw_buf_release(&b);
        return NULL;
    }
    if (!b.data)
        cw_buf_reserve(&b, 1);
    return cw_buf_detach(&b, len);
}

static int analyse(const struct cw_config *cfg, const char *path)
{
    char err[512];
    bool json = false;
    if (cw_config_bool(cfg, SECTION, "json", false, &json, err, sizeof(err))) {
        fprintf(stderr, "crosswatch sample: %s\n", err);
        return 2;
    }
    struct cw_sample_opts o = {0};
    cw_sample_limits_default(&o.limits);
    struct cw_sample_yara *y = NULL;
    const char *ydir = cw_config_str(cfg, SECTION, "yara", NULL);
    if (ydir) {
        y = cw_sample_yara_load(ydir, err, sizeof(err));
        if (!y) {
            fprintf(stderr, "crosswatch sample: %s\n", err);
            return 1;
        }
        o.yara = y;
    }
    const char *pw[17];
    size_t n_pw = cw_config_all(cfg, SECTION, "password", pw, 16);
    pw[n_pw < 16 ? n_pw : 16] = NULL;
    if (n_pw)
        o.passwords = pw;
    size_t len = 0;
    char *data = read_all(path, &len);
    if (!data) {
        fprintf(stderr, "crosswatch sample: cannot read %s: %s\n", path, strerror(errno));
        cw_sample_yara_free(y);
        return 1;
    }
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    struct cw_sample_report r;
    int rc = 0;
    if (cw_sample_analyse(data, len, name, &o, &r, err, sizeof(err))) {
        fprintf(stderr, "crosswatch sample: %s: %s\n", path, err);
        rc = 1;
    } else {
        struct cw_buf out = CW_BUF_INIT;
        if (json) {
            cw_sample_report_json(&r, &out);
            cw_buf_addc(&out, '\n');
        } else {
            cw_sample_report_text(&r, &out);
        }
        fwrite(out.data, 1, out.len, stdout);
        cw_buf_release(&out);
    }
    cw_sample_report_release(&r);
    free(data);
    cw_sample_yara_free(y);
    return rc;
}

int cmd_sample(int argc, char **argv)
{
    struct cw_config cfg;
    const char *pos[4];
    size_t npos = 0;
    bool help = false;
    char err[512];
    cw_config_init(&cfg);
    if (cw_options_parse(sample_options, SECTION, argc, argv, &cfg, &help, pos, 4, &npos, err,
                         sizeof(err))) {
        fprintf(stderr, "crosswatch sample: %s\n", err);
        cw_config_release(&cfg);
        return 2;
    }
    int rc;
    if (help || npos != 2 || (strcmp(pos[0], "analyse") && strcmp(pos[0], "analyze"))) {
        cw_options_help(help ? stdout : stderr, "crosswatch sample analyse FILE [--yara DIR] [--json]",
                        "Analyse a suspicious e-mail (.eml) or file: sender path, URLs, "
                        "attachments and archive members with hashes and types, YARA matches, "
                        "candidate indicators.\nSee docs/samples.md.",
                        sample_options);
        rc = help ? 0 : 2;
    } else {
        rc = analyse(&cfg, pos[1]);
    }
    cw_config_release(&cfg);
    return rc;
}
