/* input_file.c - following a file: offsets, rotation, truncation; and stdin.
 *
 * Reads use pread() at pos + what is already buffered, so the file position is
 * ours alone and a pause (spool full) simply stops reading: the file itself is the
 * buffer. Rotation is noticed at EOF by comparing the inode at the path with the
 * one we hold open; the old file is read to its end once more (a writer may still
 * have been appending to it) before the new one is opened from 0. */
#include "ship/input.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/banned.h"

static int open_at(struct cw_input *in, const char *p, uint64_t pos)
{
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st)) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    if (in->fd >= 0)
        close(in->fd);
    in->fd = fd;
    in->dev = (uint64_t)st.st_dev;
    in->ino = (uint64_t)st.st_ino;
    if ((uint64_t)st.st_size < pos) {
        cw_warn("%s: file is shorter (%" PRIu64 " bytes) than the saved offset %" PRIu64
                " (truncated while ship was stopped): reading from the start",
                p, (uint64_t)st.st_size, pos);
        pos = 0;
    }
    in->pos = pos;
    cw_buf_clear(&in->rbuf);
    in->skipping = false;
    in->eof = false;
    return 0;
}

/* Look in the directory of path for the file with this inode (the rotated name). */
static int find_by_inode(const char *path, uint64_t dev, uint64_t ino, char *out, size_t cap)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == path)
        snprintf(dir, sizeof(dir), "/");
    else
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    int found = -1;
    while (found < 0 && (e = readdir(d))) {
        struct stat st;
        if ((size_t)snprintf(out, cap, "%s/%s", dir, e->d_name) >= cap)
            continue;
        if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_dev == dev &&
            (uint64_t)st.st_ino == ino)
            found = 0;
    }
    closedir(d);
    return found;
}

int cw_input_file_open(struct cw_input *in, const struct cw_ship_file_pos *saved, char *err,
                       size_t errlen)
{
    struct stat st;
    bool here = stat(in->path, &st) == 0;
    if (saved && here && (uint64_t)st.st_dev == saved->dev && (uint64_t)st.st_ino == saved->ino) {
        if (open_at(in, in->path, saved->offset) == 0)
            return 0;
    } else if (saved) {
        char old[4096];
        if (find_by_inode(in->path, saved->dev, saved->ino, old, sizeof(old)) == 0 &&
            open_at(in, old, saved->offset) == 0) {
            cw_info("%s was rotated while ship was stopped: finishing %s from offset %" PRIu64
                    " first", in->path, old, saved->offset);
            return 0;
        }
        cw_warn("%s: the file read before (inode %" PRIu64 ") is gone; whatever was "
                "appended to it after offset %" PRIu64 " could not be read",
                in->path, saved->ino, saved->offset);
        if (here && open_at(in, in->path, 0) == 0)
            return 0;
    } else if (here && open_at(in, in->path, 0) == 0) {
        return 0;
    }
    if (cw_reader_once(in->r)) {
        snprintf(err, errlen, "cannot open %s: %s", in->path, strerror(errno));
        return -1;
    }
    cw_warn("cannot open %s (%s): waiting for it to appear", in->path, strerror(errno));
    in->warned_missing = true;
    return 0;
}

bool cw_input_take_lines(struct cw_input *in)
{
    struct cw_buf *b = &in->rbuf;
    size_t i = 0;
    bool paused = false;
    while (!paused && i < b->len) {
        char *nl = memchr(b->data + i, '\n', b->len - i);
        if (!nl)
            break;
        size_t n = (size_t)(nl - (b->data + i));
        in->pos += n + 1; /* before add_line: a cut records the offset after this line */
        if (in->skipping)
            in->skipping = false;
        else
            paused = cw_input_add_line(in, b->data + i, n);
        i += n + 1;
    }
    if (i > 0) {
        memmove(b->data, b->data + i, b->len - i);
        b->len -= i;
    }
    if (b->len > CW_SHIP_MAX_LINE && !in->skipping) {
        cw_warn("%s: line longer than %u bytes dropped (the center refuses such lines)",
                in->id, CW_SHIP_MAX_LINE);
        cw_reader_note_oversized(in->r);
        in->skipping = true;
    }
    if (in->skipping) {
        in->pos += b->len;
        b->len = 0;
    }
    return paused;
}

/* The last bytes of a file that will not grow any more (rotated away, or --once at
 * EOF) form a line even without LF. */
static void take_final_partial(struct cw_input *in)
{
    if (in->rbuf.len > 0 && !in->skipping) {
        in->pos += in->rbuf.len;
        cw_input_add_line(in, in->rbuf.data, in->rbuf.len);
    }
    cw_buf_clear(&in->rbuf);
    in->skipping = false;
}

static void switch_to_new_file(struct cw_input *in)
{
    uint64_t old_ino = in->ino, old_end = in->pos;
    take_final_partial(in);
    if (in->npending > 0 && cw_input_cut(in))
        return; /* spool unwritable: keep the old file open, try again later */
    close(in->fd);
    in->fd = -1;
    if (open_at(in, in->path, 0)) {
        cw_warn("%s was rotated but the new file cannot be opened (%s): waiting", in->path,
                strerror(errno));
        return;
    }
    cw_info("%s rotated: finished the old file (inode %" PRIu64 ", %" PRIu64
            " bytes), reading the new one from the start", in->path, old_ino, old_end);
    cw_input_save_position(in);
}

static void restart_truncated(struct cw_input *in, uint64_t size)
{
    if (in->rbuf.len > 0 && !in->skipping)
        cw_warn("%s: %zu bytes without a final LF before the truncation sent as one line",
                in->path, in->rbuf.len);
    take_final_partial(in);
    if (in->npending > 0 && cw_input_cut(in))
        return;
    cw_warn("%s was truncated (now %" PRIu64 " bytes, offset was %" PRIu64
            "): reading again from the start", in->path, size, in->pos);
    in->pos = 0;
    cw_input_save_position(in);
}

/* At EOF: truncated? rotated? or simply nothing new. Returns true when the read
 * loop should try again (a rotation was just noticed: drain the old file). */
static bool handle_eof(struct cw_input *in, bool *rotating)
{
    struct stat fst, st;
    if (fstat(in->fd, &fst) == 0 && (uint64_t)fst.st_size < in->pos + in->rbuf.len) {
        restart_truncated(in, (uint64_t)fst.st_size);
        return false;
    }
    if (stat(in->path, &st) == 0 && ((uint64_t)st.st_dev != in->dev || (uint64_t)st.st_ino != in->ino)) {
        if (!*rotating) {
            *rotating = true; /* one more read: a writer may have appended meanwhile */
            return true;
        }
        switch_to_new_file(in);
        return false;
    }
    in->eof = true;
    if (cw_reader_once(in->r)) {
        take_final_partial(in);
        if (in->npending > 0)
            cw_input_cut(in);
    }
    return false;
}

void cw_input_file_poll(struct cw_input *in)
{
    if (in->fd < 0) {
        if (open_at(in, in->path, 0))
            return;
        cw_info("%s appeared: reading it from the start", in->path);
        cw_input_save_position(in);
    }
    if (cw_input_take_lines(in))
        return;
    bool rotating = false;
    for (int budget = 64; budget > 0 && !cw_reader_paused(in->r); budget--) {
        if (!cw_buf_reserve(&in->rbuf, CW_SHIP_READ_CHUNK))
            return;
        ssize_t n = pread(in->fd, in->rbuf.data + in->rbuf.len, CW_SHIP_READ_CHUNK,
                          (off_t)(in->pos + in->rbuf.len));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            cw_warn("%s: read error: %s", in->path, strerror(errno));
            return;
        }
        if (n > 0) {
            in->rbuf.len += (size_t)n;
            in->eof = false;
            if (cw_input_take_lines(in))
                return;
            continue;
        }
        if (!handle_eof(in, &rotating))
            return;
    }
}

void cw_input_stdin_read(struct cw_input *in)
{
    if (!cw_buf_reserve(&in->rbuf, CW_SHIP_READ_CHUNK))
        return;
    ssize_t n = read(in->fd, in->rbuf.data + in->rbuf.len, CW_SHIP_READ_CHUNK);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        if (n < 0)
            cw_warn("stdin: read error: %s; treating it as the end", strerror(errno));
        take_final_partial(in);
        if (in->npending > 0)
            cw_input_cut(in);
        in->eof = true;
        return;
    }
    in->rbuf.len += (size_t)n;
    cw_input_take_lines(in);
}
