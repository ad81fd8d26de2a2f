/* warninglist.c - MISP warninglist reader; see warninglist.h. */
#include "common/warninglist.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/json.h"
#include "common/banned.h"

/* An upper bound of the token count jsmn needs (every value follows a ',', ':',
 * '[' or '{', or is the first). */
static size_t token_bound(const char *s, size_t n)
{
    size_t t = 1;
    for (size_t i = 0; i < n; i++)
        if (s[i] == ',' || s[i] == ':' || s[i] == '[' || s[i] == '{')
            t++;
    return t;
}

/* Strings of array token a into a new array in the arena. */
static int str_array(const struct cw_json *j, int a, struct cw_arena *arena,
                     struct cw_wl_str **out, size_t *nout, const char *what, char *err,
                     size_t errlen)
{
    int n = j->tok[a].size;
    struct cw_wl_str *v = cw_arena_alloc(arena, (size_t)(n ? n : 1) * sizeof(*v));
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int k = a + 1;
    for (int e = 0; e < n; e++, k = cw_json_next(j, k)) {
        const char *s;
        size_t sn;
        /* jsmn (even strict) accepts a few malformed documents such as ["a":"b"],
         * where a string gets a child; such a string is never taken as a value */
        if (k >= j->ntok || j->tok[k].size != 0 || cw_json_str(j, k, arena, &s, &sn) < 0) {
            snprintf(err, errlen, "%s[%d] is not a string", what, e);
            return -1;
        }
        char *c = cw_arena_strndup(arena, s, sn);
        if (!c) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        v[e].s = c;
        v[e].n = sn;
    }
    *out = v;
    *nout = (size_t)n;
    return 0;
}

static int str_member(const struct cw_json *j, int obj, const char *key, struct cw_arena *arena,
                      const char **out)
{
    int i = cw_json_get(j, obj, key);
    const char *s;
    size_t sn;
    if (i < 0 || j->tok[i].size != 0 || cw_json_str(j, i, arena, &s, &sn) < 0)
        return -1;
    *out = cw_arena_strndup(arena, s, sn);
    return *out ? 0 : -1;
}

int cw_warninglist_parse(struct cw_warninglist *wl, const char *json, size_t n, char *err,
                         size_t errlen)
{
    memset(wl, 0, sizeof(*wl));
    if (!json && n) {
        snprintf(err, errlen, "invalid arguments");
        return -1;
    }
    if (n > CW_WARNINGLIST_MAX_FILE) {
        snprintf(err, errlen, "list larger than %u bytes", CW_WARNINGLIST_MAX_FILE);
        return -1;
    }
    size_t maxtok = token_bound(json, n);
    if (maxtok > CW_WARNINGLIST_MAX_TOK) {
        snprintf(err, errlen, "JSON too complex (more than %d values)", CW_WARNINGLIST_MAX_TOK);
        return -1;
    }
    jsmntok_t *toks = malloc(maxtok * sizeof(jsmntok_t));
    if (!toks) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    cw_arena_init(&wl->arena, 1 << 16, 0);
    struct cw_json j;
    const char *why = NULL;
    int ret = -1;
    if (cw_json_parse(&j, json ? json : "", n, toks, (int)maxtok, &why) < 0) {
        snprintf(err, errlen, "%s", why);
        goto out;
    }
    if (!cw_json_is(&j, 0, JSMN_OBJECT)) {
        snprintf(err, errlen, "not a warninglist (top level is not an object)");
        ret = 1;
        goto out;
    }
    int ti = cw_json_get(&j, 0, "type"), li = cw_json_get(&j, 0, "list");
    if (ti < 0 || li < 0) {
        snprintf(err, errlen, "not a warninglist (no \"%s\" member)", ti < 0 ? "type" : "list");
        ret = 1;
        goto out;
    }
    if (str_member(&j, 0, "type", &wl->arena, &wl->type) < 0) {
        snprintf(err, errlen, "\"type\" is not a string");
        goto out;
    }
    if (cw_json_get(&j, 0, "name") < 0)
        wl->name = "";
    else if (str_member(&j, 0, "name", &wl->arena, &wl->name) < 0) {
        snprintf(err, errlen, "\"name\" is not a string");
        goto out;
    }
    if (!cw_json_is(&j, li, JSMN_ARRAY)) {
        snprintf(err, errlen, "\"list\" is not an array");
        goto out;
    }
    if (str_array(&j, li, &wl->arena, &wl->entries, &wl->nentries, "list", err, errlen) < 0)
        goto out;
    int ai = cw_json_get(&j, 0, "matching_attributes");
    if (ai >= 0) {
        if (!cw_json_is(&j, ai, JSMN_ARRAY)) {
            snprintf(err, errlen, "\"matching_attributes\" is not an array");
            goto out;
        }
        if (str_array(&j, ai, &wl->arena, &wl->attrs, &wl->nattrs, "matching_attributes", err,
                      errlen) < 0)
            goto out;
    }
    ret = 0;
out:
    free(toks);
    if (ret != 0) {
        cw_arena_release(&wl->arena);
        memset(wl, 0, sizeof(*wl));
    }
    return ret;
}

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) < 0 || st.st_size < 0 ||
        (unsigned long long)st.st_size > CW_WARNINGLIST_MAX_FILE) {
        snprintf(err, errlen, "%s: not a regular file of at most %u bytes", path,
                 CW_WARNINGLIST_MAX_FILE);
        fclose(f);
        return NULL;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *b = malloc(cap);
    if (!b) {
        snprintf(err, errlen, "%s: out of memory", path);
        fclose(f);
        return NULL;
    }
    size_t got;
    while (n < cap && (got = fread(b + n, 1, cap - n, f)) > 0)
        n += got;
    int bad = ferror(f) || n == cap; /* n == cap: the file grew while read */
    fclose(f);
    if (bad) {
        snprintf(err, errlen, "%s: read error or file changed while read", path);
        free(b);
        return NULL;
    }
    *len = n;
    return b;
}

int cw_warninglist_read(struct cw_warninglist *wl, const char *path, char *err, size_t errlen)
{
    memset(wl, 0, sizeof(*wl));
    size_t n;
    char *buf = read_file(path, &n, err, errlen);
    if (!buf)
        return -1;
    char why[256];
    int rc = cw_warninglist_parse(wl, buf, n, why, sizeof(why));
    free(buf);
    if (rc != 0)
        snprintf(err, errlen, "%s: %s", path, why);
    return rc;
}

void cw_warninglist_release(struct cw_warninglist *wl)
{
    if (!wl)
        return;
    cw_arena_release(&wl->arena);
    memset(wl, 0, sizeof(*wl));
}

bool cw_warninglist_has_attr(const struct cw_warninglist *wl, const char *attr)
{
    for (size_t i = 0; i < wl->nattrs; i++)
        if (strcmp(wl->attrs[i].s, attr) == 0)
            return true;
    return false;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void cw_warninglist_dir_free(char **names, long n)
{
    for (long i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

long cw_warninglist_dir(const char *dir, char ***names, char *err, size_t errlen)
{
    *names = NULL;
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    char **v = NULL;
    long n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[4096];
        struct stat st;
        int pn = snprintf(path, sizeof(path), "%s/%s/list.json", dir, de->d_name);
        if (pn < 0 || (size_t)pn >= sizeof(path) || stat(path, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (n == cap) {
            long nc = cap ? cap * 2 : 64;
            char **nv = realloc(v, (size_t)nc * sizeof(*nv));
            if (!nv)
                goto oom;
            v = nv;
            cap = nc;
        }
        if (!(v[n] = strdup(de->d_name)))
            goto oom;
        n++;
    }
    closedir(d);
    if (n)
        qsort(v, (size_t)n, sizeof(*v), cmp_str);
    *names = v;
    return n;
oom:
    closedir(d);
    cw_warninglist_dir_free(v, n);
    snprintf(err, errlen, "%s: out of memory", dir);
    return -1;
}
