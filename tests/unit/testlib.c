#include "testlib.h"

#include <stdlib.h>
#include <zlib.h>

int cw_test_checks, cw_test_failures;

int cw_test_finish(const char *name)
{
    fprintf(stderr, "%s: %d checks, %d failures\n", name, cw_test_checks, cw_test_failures);
    return (cw_test_failures == 0 && cw_test_checks > 0) ? 0 : 1;
}

const char *cw_test_shared(const char *rel)
{
    static char path[4096];
    const char *base = getenv("CW_SHARED_DIR");
    snprintf(path, sizeof(path), "%s/%s", base && *base ? base : "../shared", rel);
    return path;
}

char *cw_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap + 1);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            b = realloc(b, cap + 1);
        }
        size_t r = fread(b + n, 1, cap - n, f);
        if (r == 0)
            break;
        n += r;
    }
    fclose(f);
    b[n] = '\0';
    if (len)
        *len = n;
    return b;
}

char *cw_test_read_gz(const char *path, size_t *len)
{
    gzFile g = gzopen(path, "rb");
    if (!g)
        return NULL;
    size_t cap = 1 << 20, n = 0;
    char *b = malloc(cap + 1);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            b = realloc(b, cap + 1);
        }
        int r = gzread(g, b + n, (unsigned)(cap - n));
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    gzclose(g);
    b[n] = '\0';
    if (len)
        *len = n;
    return b;
}
