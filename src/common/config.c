#include "common/config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

#define CONFIG_MAX_BYTES (4u << 20) /* a config file is small; refuse anything silly */
#define CONFIG_MAX_LINE 8192

void cw_config_init(struct cw_config *c)
{
    c->e = NULL;
    c->n = c->cap = 0;
}

void cw_config_release(struct cw_config *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->e[i].section);
        free(c->e[i].key);
        free(c->e[i].value);
        free(c->e[i].origin);
    }
    free(c->e);
    cw_config_init(c);
}

int cw_config_add(struct cw_config *c, const char *section, const char *key, const char *value,
                  const char *origin, bool from_flag)
{
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 16;
        struct cw_config_entry *ne = realloc(c->e, nc * sizeof(*ne));
        if (!ne)
            return -1;
        c->e = ne;
        c->cap = nc;
    }
    struct cw_config_entry *e = &c->e[c->n];
    e->section = strdup(section);
    e->key = strdup(key);
    e->value = strdup(value);
    e->origin = strdup(origin);
    e->from_flag = from_flag;
    if (!e->section || !e->key || !e->value || !e->origin) {
        free(e->section);
        free(e->key);
        free(e->value);
        free(e->origin);
        return -1;
    }
    c->n++;
    return 0;
}

static void trim(const char **s, const char **e)
{
    while (*s < *e && (**s == ' ' || **s == '\t'))
        (*s)++;
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
        (*e)--;
}

static bool key_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-' || ch == '.';
}

int cw_config_load_str(struct cw_config *c, const char *text, size_t n, const char *name,
                       char *err, size_t errlen)
{
    char section[128] = "";
    const char *p = text, *end = text + n;
    int lineno = 0;
    if (n > CONFIG_MAX_BYTES) {
        snprintf(err, errlen, "%s: config file larger than %u bytes", name, CONFIG_MAX_BYTES);
        return -1;
    }
    if (memchr(text, '\0', n)) {
        snprintf(err, errlen, "%s: NUL byte in config file", name);
        return -1;
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        lineno++;
        const char *s = p, *e = le;
        p = nl ? nl + 1 : end;
        if ((size_t)(e - s) > CONFIG_MAX_LINE) {
            snprintf(err, errlen, "%s:%d: line longer than %d bytes", name, lineno,
                     CONFIG_MAX_LINE);
            return -1;
        }
        trim(&s, &e);
        if (s == e || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            if (e[-1] != ']' || e - s < 2) {
                snprintf(err, errlen, "%s:%d: section header must look like [name]", name,
                         lineno);
                return -1;
            }
            const char *a = s + 1, *b = e - 1;
            trim(&a, &b);
            if ((size_t)(b - a) >= sizeof(section)) {
                snprintf(err, errlen, "%s:%d: section name too long", name, lineno);
                return -1;
            }
            for (const char *q = a; q < b; q++)
                if (!key_char(*q)) {
                    snprintf(err, errlen, "%s:%d: invalid character in section name", name,
                             lineno);
                    return -1;
                }
            memcpy(section, a, (size_t)(b - a));
            section[b - a] = '\0';
            continue;
        }
        const char *eq = memchr(s, '=', (size_t)(e - s));
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected 'key = value'", name, lineno);
            return -1;
        }
        const char *ks = s, *ke = eq, *vs = eq + 1, *ve = e;
        trim(&ks, &ke);
        trim(&vs, &ve);
        if (ks == ke) {
            snprintf(err, errlen, "%s:%d: missing key before '='", name, lineno);
            return -1;
        }
        for (const char *q = ks; q < ke; q++)
            if (!key_char(*q)) {
                snprintf(err, errlen, "%s:%d: invalid character in key", name, lineno);
                return -1;
            }
        /* optional double quotes keep leading/trailing spaces and '#' */
        if (ve - vs >= 2 && *vs == '"' && ve[-1] == '"') {
            vs++;
            ve--;
        }
        char key[256], origin[512];
        if ((size_t)(ke - ks) >= sizeof(key)) {
            snprintf(err, errlen, "%s:%d: key too long", name, lineno);
            return -1;
        }
        memcpy(key, ks, (size_t)(ke - ks));
        key[ke - ks] = '\0';
        char *val = strndup(vs, (size_t)(ve - vs));
        snprintf(origin, sizeof(origin), "%s:%d", name, lineno);
        int r = val ? cw_config_add(c, section, key, val, origin, false) : -1;
        free(val);
        if (r) {
            snprintf(err, errlen, "%s:%d: out of memory", name, lineno);
            return -1;
        }
    }
    return 0;
}

int cw_config_load_file(struct cw_config *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open config file %s: %s", path, strerror(errno));
        return -1;
    }
    char *buf = malloc(CONFIG_MAX_BYTES + 1);
    if (!buf) {
        fclose(f);
        snprintf(err, errlen, "out of memory reading %s", path);
        return -1;
    }
    size_t n = fread(buf, 1, CONFIG_MAX_BYTES + 1, f);
    int rerr = ferror(f);
    fclose(f);
    if (rerr) {
        free(buf);
        snprintf(err, errlen, "cannot read config file %s", path);
        return -1;
    }
    int r = cw_config_load_str(c, buf, n, path, err, errlen);
    free(buf);
    return r;
}

const struct cw_config_entry *cw_config_find(const struct cw_config *c, const char *section,
                                             const char *key)
{
    const struct cw_config_entry *best = NULL;
    int best_rank = -1;
    for (size_t i = 0; i < c->n; i++) {
        const struct cw_config_entry *e = &c->e[i];
        if (strcmp(e->key, key) != 0)
            continue;
        int rank;
        if (strcmp(e->section, section) == 0)
            rank = e->from_flag ? 3 : 2;
        else if (e->section[0] == '\0')
            rank = 1;
        else
            continue;
        if (rank >= best_rank) {
            best = e;
            best_rank = rank;
        }
    }
    return best;
}

const char *cw_config_str(const struct cw_config *c, const char *section, const char *key,
                          const char *dflt)
{
    const struct cw_config_entry *e = cw_config_find(c, section, key);
    return e ? e->value : dflt;
}

static int parse_scaled(const char *v, int64_t *out, const char *const *suf, const int64_t *mul,
                        int nsuf)
{
    errno = 0;
    char *end;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v)
        return -1;
    while (*end == ' ')
        end++;
    int64_t m = 1;
    if (*end) {
        int i;
        for (i = 0; i < nsuf; i++)
            if (strcmp(end, suf[i]) == 0)
                break;
        if (i == nsuf)
            return -1;
        m = mul[i];
    }
    if (x < 0 || (x > 0 && m > INT64_MAX / x))
        return x < 0 && m == 1 ? (*out = x, 0) : -1;
    *out = x * m;
    return 0;
}

int cw_config_int(const struct cw_config *c, const char *section, const char *key, int64_t dflt,
                  int64_t *out, char *err, size_t errlen)
{
    const struct cw_config_entry *e = cw_config_find(c, section, key);
    if (!e) {
        *out = dflt;
        return 0;
    }
    if (parse_scaled(e->value, out, NULL, NULL, 0)) {
        snprintf(err, errlen, "%s: %s = '%s' is not an integer", e->origin, key, e->value);
        return -1;
    }
    return 0;
}

int cw_config_size(const struct cw_config *c, const char *section, const char *key,
                   uint64_t dflt, uint64_t *out, char *err, size_t errlen)
{
    static const char *const suf[] = {"k", "K", "KiB", "M", "MiB", "G", "GiB"};
    static const int64_t mul[] = {1024, 1024, 1024, 1 << 20, 1 << 20, 1 << 30, 1 << 30};
    const struct cw_config_entry *e = cw_config_find(c, section, key);
    if (!e) {
        *out = dflt;
        return 0;
    }
    int64_t v;
    if (parse_scaled(e->value, &v, suf, mul, 7) || v < 0) {
        snprintf(err, errlen, "%s: %s = '%s' is not a size (e.g. 512k, 64M, 2G)", e->origin,
                 key, e->value);
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

int cw_config_duration_ms(const struct cw_config *c, const char *section, const char *key,
                          int64_t dflt, int64_t *out, char *err, size_t errlen)
{
    static const char *const suf[] = {"ms", "s", "m", "h", "d"};
    static const int64_t mul[] = {1, 1000, 60000, 3600000, 86400000};
    const struct cw_config_entry *e = cw_config_find(c, section, key);
    if (!e) {
        *out = dflt;
        return 0;
    }
    int64_t v;
    /* a bare number means seconds */
    if (parse_scaled(e->value, &v, suf, mul, 5) || v < 0) {
        snprintf(err, errlen, "%s: %s = '%s' is not a duration (e.g. 500ms, 30s, 5m, 1h)",
                 e->origin, key, e->value);
        return -1;
    }
    char *end;
    strtoll(e->value, &end, 10);
    while (*end == ' ')
        end++;
    if (!*end && v > INT64_MAX / 1000) {
        /* a bare number is seconds: v * 1000 would overflow (undefined behaviour) */
        snprintf(err, errlen, "%s: %s = '%s' is not a duration (e.g. 500ms, 30s, 5m, 1h)",
                 e->origin, key, e->value);
        return -1;
    }
    *out = *end ? v : v * 1000;
    return 0;
}

int cw_config_bool(const struct cw_config *c, const char *section, const char *key, bool dflt,
                   bool *out, char *err, size_t errlen)
{
    const struct cw_config_entry *e = cw_config_find(c, section, key);
    if (!e) {
        *out = dflt;
        return 0;
    }
    const char *v = e->value;
    if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "1"))
        *out = true;
    else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off") || !strcmp(v, "0"))
        *out = false;
    else {
        snprintf(err, errlen, "%s: %s = '%s' is not a boolean (true/false)", e->origin, key, v);
        return -1;
    }
    return 0;
}

size_t cw_config_all(const struct cw_config *c, const char *section, const char *key,
                     const char **vals, size_t max)
{
    size_t k = 0;
    /* flags replace the file's list rather than adding to it */
    bool any_flag = false;
    for (size_t i = 0; i < c->n; i++)
        if (c->e[i].from_flag && !strcmp(c->e[i].section, section) && !strcmp(c->e[i].key, key))
            any_flag = true;
    for (size_t i = 0; i < c->n; i++) {
        const struct cw_config_entry *e = &c->e[i];
        if (strcmp(e->section, section) || strcmp(e->key, key) || e->from_flag != any_flag)
            continue;
        if (k < max)
            vals[k] = e->value;
        k++;
    }
    return k;
}

static const struct cw_option *find_long(const struct cw_option *o, const char *name, size_t n)
{
    for (; o->flag; o++)
        if (strlen(o->flag) == n && !memcmp(o->flag, name, n))
            return o;
    return NULL;
}

static const struct cw_option *find_short(const struct cw_option *o, char ch)
{
    for (; o->flag; o++)
        if (o->short_flag && o->short_flag == ch)
            return o;
    return NULL;
}

int cw_options_parse(const struct cw_option *opts, const char *section, int argc, char **argv,
                     struct cw_config *cfg, bool *want_help, const char **positional,
                     size_t max_pos, size_t *npos, char *err, size_t errlen)
{
    *want_help = false;
    *npos = 0;
    /* --config first, so that flags override the file whatever the order */
    for (int i = 1; i < argc; i++) {
        const char *path = NULL;
        if (!strcmp(argv[i], "--config") || !strcmp(argv[i], "-c")) {
            if (i + 1 >= argc) {
                snprintf(err, errlen, "--config needs a file name");
                return -1;
            }
            path = argv[++i];
        } else if (!strncmp(argv[i], "--config=", 9)) {
            path = argv[i] + 9;
        } else if (!strcmp(argv[i], "--")) {
            break;
        }
        if (path && cw_config_load_file(cfg, path, err, errlen))
            return -1;
    }
    bool only_pos = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_pos || a[0] != '-' || a[1] == '\0') {
            if (*npos >= max_pos) {
                snprintf(err, errlen, "unexpected argument '%s'", a);
                return -1;
            }
            positional[(*npos)++] = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            only_pos = true;
            continue;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            *want_help = true;
            continue;
        }
        if (!strcmp(a, "--config") || !strcmp(a, "-c")) {
            i++;
            continue;
        }
        if (!strncmp(a, "--config=", 9))
            continue;
        const struct cw_option *o;
        const char *val = NULL;
        char origin[128];
        if (a[1] == '-') {
            const char *name = a + 2, *eq = strchr(name, '=');
            size_t nl = eq ? (size_t)(eq - name) : strlen(name);
            o = find_long(opts, name, nl);
            if (!o) {
                snprintf(err, errlen, "unknown option '--%.*s' (see --help)", (int)nl, name);
                return -1;
            }
            if (eq)
                val = eq + 1;
        } else {
            o = find_short(opts, a[1]);
            if (!o || a[2]) {
                snprintf(err, errlen, "unknown option '%s' (see --help)", a);
                return -1;
            }
        }
        snprintf(origin, sizeof(origin), "--%s", o->flag);
        if (!o->arg) {
            if (val) {
                snprintf(err, errlen, "option --%s takes no value", o->flag);
                return -1;
            }
            val = "true";
        } else if (!val) {
            if (i + 1 >= argc) {
                snprintf(err, errlen, "option --%s needs a value (%s)", o->flag, o->arg);
                return -1;
            }
            val = argv[++i];
        }
        if (cw_config_add(cfg, section, o->key, val, origin, true)) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}

void cw_options_help(FILE *out, const char *usage, const char *about,
                     const struct cw_option *opts)
{
    fprintf(out, "usage: %s\n\n%s\n\noptions:\n", usage, about);
    for (const struct cw_option *o = opts; o->flag; o++) {
        char left[80];
        if (o->short_flag)
            snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_flag, o->flag,
                     o->arg ? " " : "", o->arg ? o->arg : "");
        else
            snprintf(left, sizeof(left), "    --%s%s%s", o->flag, o->arg ? " " : "",
                     o->arg ? o->arg : "");
        fprintf(out, "  %-30s %s\n", left, o->help);
    }
    fprintf(out, "  %-30s %s\n", "-c, --config FILE", "read settings from FILE (docs/config.md)");
    fprintf(out, "  %-30s %s\n", "-h, --help", "show this help");
}
