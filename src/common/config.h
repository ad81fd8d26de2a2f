/* config.h - the one configuration format of every crosswatch command, and flags.
 *
 * Format (docs/config.md): UTF-8 text, "# comment" lines, "[section]" headers and
 * "key = value" lines; a key may repeat where a list makes sense (ship's "file").
 * Each subcommand reads its own section ([serve], [ship], [admin], [demo]); keys
 * before any section header belong to section "" and are visible to all.
 *
 * Command-line flags override the file: a flag table (struct cw_option) maps each
 * --flag to a key, and cw_options_parse() records flag values in the same struct
 * cw_config with origin "--flag", so every error message can say where a bad value
 * came from. A struct cw_config owns all its strings; cw_config_release() frees. */
#ifndef CW_COMMON_CONFIG_H
#define CW_COMMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct cw_config_entry {
    char *section, *key, *value;
    char *origin; /* "file.conf:12" or "--listen" */
    bool from_flag;
};

struct cw_config {
    struct cw_config_entry *e;
    size_t n, cap;
};

void cw_config_init(struct cw_config *c);
void cw_config_release(struct cw_config *c);
/* Parse text; on error returns -1 and writes "name:line: reason" into err. */
int cw_config_load_str(struct cw_config *c, const char *text, size_t n, const char *name,
                       char *err, size_t errlen);
int cw_config_load_file(struct cw_config *c, const char *path, char *err, size_t errlen);
int cw_config_add(struct cw_config *c, const char *section, const char *key, const char *value,
                  const char *origin, bool from_flag);

/* Lookups: a flag beats the file; otherwise the last occurrence wins; a key in the
 * command's section beats the same key in section "". Returns NULL if unset. */
const struct cw_config_entry *cw_config_find(const struct cw_config *c, const char *section,
                                             const char *key);
const char *cw_config_str(const struct cw_config *c, const char *section, const char *key,
                          const char *dflt);
/* Typed getters: 0 on success (or unset: *out = dflt), -1 with a message in err
 * naming the origin of the bad value. Sizes accept k/M/G suffixes (powers of 1024);
 * durations accept ms/s/m/h/d suffixes and return milliseconds. */
int cw_config_int(const struct cw_config *c, const char *section, const char *key, int64_t dflt,
                  int64_t *out, char *err, size_t errlen);
int cw_config_size(const struct cw_config *c, const char *section, const char *key,
                   uint64_t dflt, uint64_t *out, char *err, size_t errlen);
int cw_config_duration_ms(const struct cw_config *c, const char *section, const char *key,
                          int64_t dflt, int64_t *out, char *err, size_t errlen);
int cw_config_bool(const struct cw_config *c, const char *section, const char *key, bool dflt,
                   bool *out, char *err, size_t errlen);
/* All values of a repeatable key, in order (flags after file entries). Returns the
 * count and fills at most max pointers. */
size_t cw_config_all(const struct cw_config *c, const char *section, const char *key,
                     const char **vals, size_t max);

/* -- flags ------------------------------------------------------------------ */
struct cw_option {
    const char *flag;   /* long name without "--" */
    char short_flag;    /* 0 if none */
    const char *key;    /* config key (in the command's section) */
    const char *arg;    /* metavar, or NULL for a boolean switch (stored as "true") */
    const char *help;
};

/* Parse argv[1..] of a subcommand. Handles --config FILE (loaded first, whatever its
 * position), --flag VALUE, --flag=VALUE, -x VALUE, and --help (sets *want_help).
 * Arguments that are not flags are returned in positional[] (max npos, count in
 * *npos). Returns 0, or -1 with a message in err. */
int cw_options_parse(const struct cw_option *opts, const char *section, int argc, char **argv,
                     struct cw_config *cfg, bool *want_help, const char **positional,
                     size_t max_pos, size_t *npos, char *err, size_t errlen);
void cw_options_help(FILE *out, const char *usage, const char *about,
                     const struct cw_option *opts);

#endif
