#include "ship/durable.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/banned.h"

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int cw_durable_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int r = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return r;
}

int cw_durable_write2(const char *dir, const char *name, const void *a, size_t an,
                      const void *b, size_t bn)
{
    char tmp[4096], dst[4096];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name) >= sizeof(tmp) ||
        (size_t)snprintf(dst, sizeof(dst), "%s/%s", dir, name) >= sizeof(dst)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    if (write_all(fd, a, an) || write_all(fd, b, bn) || fsync(fd)) {
        int e = errno;
        close(fd);
        unlink(tmp);
        errno = e;
        return -1;
    }
    if (close(fd) || rename(tmp, dst)) {
        int e = errno;
        unlink(tmp);
        errno = e;
        return -1;
    }
    return cw_durable_sync_dir(dir);
}

int cw_durable_write(const char *dir, const char *name, const void *data, size_t n)
{
    return cw_durable_write2(dir, name, data, n, NULL, 0);
}

int cw_durable_unlink(const char *dir, const char *name)
{
    char p[4096];
    if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, name) >= sizeof(p)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (unlink(p) && errno != ENOENT)
        return -1;
    return cw_durable_sync_dir(dir);
}

int cw_durable_move(const char *dir, const char *name, const char *todir)
{
    char from[4096], to[4096];
    if ((size_t)snprintf(from, sizeof(from), "%s/%s", dir, name) >= sizeof(from) ||
        (size_t)snprintf(to, sizeof(to), "%s/%s", todir, name) >= sizeof(to)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (rename(from, to))
        return -1;
    if (cw_durable_sync_dir(todir))
        return -1;
    return cw_durable_sync_dir(dir);
}

int cw_durable_clean_tmp(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (e->d_name[0] == '.' && n > 5 && !strcmp(e->d_name + n - 4, ".tmp")) {
            char p[4096];
            if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, e->d_name) < sizeof(p))
                unlink(p);
        }
    }
    closedir(d);
    return 0;
}

int cw_durable_mkdirs(const char *path)
{
    char p[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(p)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(p, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char saved = p[i];
        p[i] = '\0';
        if (mkdir(p, 0700) && errno != EEXIST)
            return -1;
        p[i] = saved;
    }
    struct stat st;
    if (stat(path, &st))
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

int cw_durable_read(const char *path, size_t max, char **out, size_t *n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st)) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > max) {
        close(fd);
        errno = EFBIG;
        return -1;
    }
    size_t want = (size_t)st.st_size, got = 0;
    char *b = malloc(want + 1);
    if (!b) {
        close(fd);
        errno = ENOMEM;
        return -1;
    }
    while (got < want) {
        ssize_t r = read(fd, b + got, want - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got != want) { /* the file changed under us: our files never do */
        free(b);
        errno = EIO;
        return -1;
    }
    b[got] = '\0';
    *out = b;
    *n = got;
    return 0;
}
