/* cmd_ship.c - `crosswatch ship`: flags and config to struct cw_ship_opts, signals. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/config.h"
#include "common/log.h"
#include "formats/format.h"
#include "ship/durable.h"
#include "ship/ship.h"
#include "common/banned.h"

#define SECTION "ship"
#define MAX_INPUTS 256

static const struct cw_option ship_options[] = {
    {"file", 'f', "file", "[FORMAT:]PATH", "follow a log file (repeatable); FORMAT defaults to --format"},
    {"stdin", 0, "stdin", NULL, "read lines from standard input (format --format)"},
    {"format", 0, "format", "FORMAT", "default input format (default combined)"},
    {"syslog-udp", 0, "syslog-udp", "ADDR:PORT", "receive syslog datagrams (format syslog)"},
    {"syslog-tcp", 0, "syslog-tcp", "ADDR:PORT", "receive syslog over TCP, LF or octet-counted framing"},
    {"center", 0, "center", "URL", "the center, e.g. http://127.0.0.1:8080 (required)"},
    {"key", 0, "key", "KEY", "sensor key (prefer --key-file: argv is visible to other users)"},
    {"key-file", 0, "key-file", "FILE", "read the sensor key from FILE"},
    {"state-dir", 0, "state-dir", "DIR", "spool and offsets (default /var/lib/crosswatch/ship)"},
    {"spool-max", 0, "spool-max", "SIZE", "pause reading when the spool reaches SIZE (default 1G)"},
    {"batch-lines", 0, "batch-lines", "N", "lines per batch at most (default 5000)"},
    {"batch-bytes", 0, "batch-bytes", "SIZE", "bytes per batch at most, uncompressed (default 4M)"},
    {"flush-interval", 0, "flush-interval", "DURATION", "send a partial batch after (default 1s)"},
    {"status-interval", 0, "status-interval", "DURATION", "status line period, 0 = none (default 60s, 10s with --verbose)"},
    {"once", 0, "once", NULL, "read every input to its end, send everything, exit"},
    {"verbose", 'v', "verbose", NULL, "log every batch and every rejected line"},
    {NULL, 0, NULL, NULL, NULL},
};

static void on_signal(int sig)
{
    (void)sig;
    cw_ship_stop();
}

static int check_format(const char *name, const char *where, char *err, size_t errlen)
{
    if (cw_format_find(name))
        return 0;
    size_t k = (size_t)snprintf(err, errlen, "%s: unknown format '%s' (known:", where, name);
    for (const struct cw_format *const *f = cw_format_list(); *f && k < errlen; f++)
        k += (size_t)snprintf(err + k, errlen - k, " %s", (*f)->name);
    if (k < errlen)
        snprintf(err + k, errlen - k, ")");
    return -1;
}

/* "combined:/var/log/x" -> format + path; a prefix that is not a format is part of
 * the path (paths may contain ':'). */
static void split_file_arg(const char *v, const char *dflt, char *fmt, size_t fcap,
                           const char **path)
{
    const char *colon = strchr(v, ':');
    if (colon && (size_t)(colon - v) < fcap) {
        snprintf(fmt, fcap, "%.*s", (int)(colon - v), v);
        if (cw_format_find(fmt)) {
            *path = colon + 1;
            return;
        }
    }
    snprintf(fmt, fcap, "%s", dflt);
    *path = v;
}

static int read_key(const char *path, char *key, size_t cap, char *err, size_t errlen)
{
    char *text;
    size_t n;
    if (cw_durable_read(path, 64 * 1024, &text, &n)) {
        snprintf(err, errlen, "cannot read key file %s: %s", path, strerror(errno));
        return -1;
    }
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
        n--;
    if (n == 0 || n >= cap) {
        snprintf(err, errlen, "key file %s: %s", path, n ? "key too long" : "empty");
        free(text);
        return -1;
    }
    memcpy(key, text, n);
    key[n] = '\0';
    explicit_bzero(text, n);
    free(text);
    return 0;
}

static int get_key(const struct cw_config *cfg, char *key, size_t cap, char *err, size_t errlen)
{
    const char *k = cw_config_str(cfg, SECTION, "key", NULL);
    const char *kf = cw_config_str(cfg, SECTION, "key-file", NULL);
    if (k && kf) {
        snprintf(err, errlen, "give either --key or --key-file, not both");
        return -1;
    }
    if (!k && !kf) {
        snprintf(err, errlen, "a sensor key is required: --key-file FILE (or --key KEY)");
        return -1;
    }
    if (kf && read_key(kf, key, cap, err, errlen))
        return -1;
    if (k)
        snprintf(key, cap, "%s", k);
    for (const char *p = key; *p; p++)
        if (*p <= ' ' || *p >= 0x7f) {
            snprintf(err, errlen, "the sensor key contains a space or a non-printable character");
            return -1;
        }
    return 0;
}

struct inputs {
    struct cw_ship_input_spec spec[MAX_INPUTS];
    char fmt[MAX_INPUTS][33];
    size_t n;
};

static int add_input(struct inputs *in, enum cw_input_kind kind, const char *fmt,
                     const char *arg, char *err, size_t errlen)
{
    if (in->n >= MAX_INPUTS) {
        snprintf(err, errlen, "more than %d inputs", MAX_INPUTS);
        return -1;
    }
    snprintf(in->fmt[in->n], sizeof(in->fmt[0]), "%s", fmt);
    in->spec[in->n] = (struct cw_ship_input_spec){kind, in->fmt[in->n], arg};
    in->n++;
    return 0;
}

static int collect_inputs(const struct cw_config *cfg, struct inputs *in, char *err,
                          size_t errlen)
{
    const char *dflt = cw_config_str(cfg, SECTION, "format", "combined");
    if (check_format(dflt, "--format", err, errlen))
        return -1;
    const char *vals[MAX_INPUTS];
    size_t nf = cw_config_all(cfg, SECTION, "file", vals, MAX_INPUTS);
    for (size_t i = 0; i < nf && i < MAX_INPUTS; i++) {
        char fmt[33];
        const char *path;
        split_file_arg(vals[i], dflt, fmt, sizeof(fmt), &path);
        if (!*path || strchr(path, '\n')) {
            snprintf(err, errlen, "--file '%s': empty path or a newline in it", vals[i]);
            return -1;
        }
        if (add_input(in, CW_INPUT_FILE, fmt, path, err, errlen))
            return -1;
    }
    bool use_stdin;
    if (cw_config_bool(cfg, SECTION, "stdin", false, &use_stdin, err, errlen) ||
        (use_stdin && add_input(in, CW_INPUT_STDIN, dflt, NULL, err, errlen)))
        return -1;
    size_t nu = cw_config_all(cfg, SECTION, "syslog-udp", vals, MAX_INPUTS);
    for (size_t i = 0; i < nu && i < MAX_INPUTS; i++)
        if (add_input(in, CW_INPUT_SYSLOG_UDP, "syslog", vals[i], err, errlen))
            return -1;
    size_t nt = cw_config_all(cfg, SECTION, "syslog-tcp", vals, MAX_INPUTS);
    for (size_t i = 0; i < nt && i < MAX_INPUTS; i++)
        if (add_input(in, CW_INPUT_SYSLOG_TCP, "syslog", vals[i], err, errlen))
            return -1;
    return 0;
}

static int get_numbers(const struct cw_config *cfg, struct cw_ship_opts *o, char *err,
                       size_t errlen)
{
    int64_t lines;
    if (cw_config_bool(cfg, SECTION, "verbose", false, &o->verbose, err, errlen) ||
        cw_config_bool(cfg, SECTION, "once", false, &o->once, err, errlen) ||
        cw_config_size(cfg, SECTION, "spool-max", o->spool_max, &o->spool_max, err, errlen) ||
        cw_config_int(cfg, SECTION, "batch-lines", (int64_t)o->batch_lines, &lines, err, errlen) ||
        cw_config_size(cfg, SECTION, "batch-bytes", o->batch_bytes, &o->batch_bytes, err, errlen) ||
        cw_config_duration_ms(cfg, SECTION, "flush-interval", o->flush_ms, &o->flush_ms, err, errlen) ||
        cw_config_duration_ms(cfg, SECTION, "status-interval", o->verbose ? 10000 : 60000,
                              &o->status_ms, err, errlen))
        return -1;
    if (lines < 1 || lines > 10000000) {
        snprintf(err, errlen, "batch-lines must be between 1 and 10000000");
        return -1;
    }
    o->batch_lines = (uint64_t)lines;
    if (o->batch_bytes < 1024 || o->batch_bytes > (64u << 20)) {
        snprintf(err, errlen, "batch-bytes must be between 1k and 64M");
        return -1;
    }
    if (o->spool_max < 1) {
        snprintf(err, errlen, "spool-max must be at least 1 byte");
        return -1;
    }
    return 0;
}

static int build_opts(const struct cw_config *cfg, struct cw_ship_opts *o, struct inputs *in,
                      char *key, size_t keycap, char *err, size_t errlen)
{
    cw_ship_opts_default(o);
    o->center = cw_config_str(cfg, SECTION, "center", NULL);
    o->state_dir = cw_config_str(cfg, SECTION, "state-dir", o->state_dir);
    if (!o->center || (strncmp(o->center, "http://", 7) && strncmp(o->center, "https://", 8))) {
        snprintf(err, errlen, "--center URL is required (http://HOST:PORT or https://...)");
        return -1;
    }
    if (get_numbers(cfg, o, err, errlen) || get_key(cfg, key, keycap, err, errlen) ||
        collect_inputs(cfg, in, err, errlen))
        return -1;
    o->key = key;
    o->inputs = in->spec;
    o->ninputs = in->n;
    return 0;
}

int cmd_ship(int argc, char **argv)
{
    struct cw_config cfg;
    bool help;
    const char *pos[1];
    size_t npos;
    char err[1024];
    static struct inputs in;
    static char key[4096];
    struct cw_ship_opts o;
    cw_config_init(&cfg);
    if (cw_options_parse(ship_options, SECTION, argc, argv, &cfg, &help, pos, 0, &npos, err,
                         sizeof(err))) {
        fprintf(stderr, "crosswatch ship: %s\n", err);
        cw_config_release(&cfg);
        return 2;
    }
    if (help) {
        cw_options_help(stdout, "crosswatch ship --center URL --key-file FILE [inputs] [options]",
                        "Follow logs at a member site and forward them to the center, exactly "
                        "once:\nbatches are spooled to disk first and deleted only once the "
                        "center has them.\nSee docs/ship.md.", ship_options);
        cw_config_release(&cfg);
        return 0;
    }
    if (build_opts(&cfg, &o, &in, key, sizeof(key), err, sizeof(err))) {
        fprintf(stderr, "crosswatch ship: %s\n", err);
        cw_config_release(&cfg);
        return 2;
    }
    if (o.verbose)
        cw_log_set_level(CW_LOG_DEBUG);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    int rc = cw_ship_run(&o);
    explicit_bzero(key, sizeof(key));
    cw_config_release(&cfg);
    return rc;
}
