/* replay_main.c - run a fuzz target over files and directories (no libFuzzer).
 *
 * Used by CTest to replay every corpus under ASan+UBSan with any compiler. Each
 * argument is a file or a directory (files inside, not recursive); files ending in
 * .gz are decompressed first. A missing argument path is an error: a test that
 * silently replays nothing could not fail. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char *read_all(const char *path, size_t *n)
{
    size_t len = strlen(path);
    size_t cap = 1 << 16, used = 0;
    unsigned char *b = malloc(cap);
    if (len > 3 && strcmp(path + len - 3, ".gz") == 0) {
        gzFile g = gzopen(path, "rb");
        if (!g) {
            free(b);
            return NULL;
        }
        for (;;) {
            if (used == cap)
                b = realloc(b, cap *= 2);
            int r = gzread(g, b + used, (unsigned)(cap - used));
            if (r <= 0)
                break;
            used += (size_t)r;
        }
        gzclose(g);
    } else {
        FILE *f = fopen(path, "rb");
        if (!f) {
            free(b);
            return NULL;
        }
        for (;;) {
            if (used == cap)
                b = realloc(b, cap *= 2);
            size_t r = fread(b + used, 1, cap - used, f);
            if (r == 0)
                break;
            used += r;
        }
        fclose(f);
    }
    *n = used;
    return b;
}

static int run_file(const char *path)
{
    size_t n;
    unsigned char *d = read_all(path, &n);
    if (!d) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        return -1;
    }
    /* exact-size copy so ASan catches any read past the end */
    unsigned char *exact = malloc(n ? n : 1);
    memcpy(exact, d, n);
    free(d);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

int main(int argc, char **argv)
{
    int files = 0, errors = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s does not exist\n", argv[i]);
            errors++;
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            DIR *d = opendir(argv[i]);
            struct dirent *e;
            while (d && (e = readdir(d))) {
                if (e->d_name[0] == '.')
                    continue;
                char p[4096];
                snprintf(p, sizeof(p), "%s/%s", argv[i], e->d_name);
                if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
                    errors += run_file(p) != 0;
                    files++;
                }
            }
            if (d)
                closedir(d);
        } else {
            errors += run_file(argv[i]) != 0;
            files++;
        }
    }
    printf("replayed %d inputs, %d errors\n", files, errors);
    return (errors || files == 0) ? 1 : 0;
}
