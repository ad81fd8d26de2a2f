/* durable.h - crash-safe file updates for the ship state directory.
 *
 * The ship's promise (nothing read is lost, nothing is sent twice) rests on two
 * facts these helpers provide: a file that exists under its final name is complete
 * (it was written to a temporary name, fsync'ed, then renamed), and the rename or
 * unlink itself survives a crash (the directory is fsync'ed afterwards).
 *
 * All functions return 0, or -1 with errno set; nothing is logged here. */
#ifndef CW_SHIP_DURABLE_H
#define CW_SHIP_DURABLE_H

#include <stddef.h>

/* Write data to dir/name atomically: dir/.name.tmp, fsync, rename, fsync(dir).
 * A crash leaves either the old file or the new one, plus at worst a stale
 * ".*.tmp" file that cw_durable_clean_tmp() removes. */
int cw_durable_write(const char *dir, const char *name, const void *data, size_t n);
/* Same, with the data in two parts (header + body) to avoid a copy. */
int cw_durable_write2(const char *dir, const char *name, const void *a, size_t an,
                      const void *b, size_t bn);
/* fsync a directory so that renames and unlinks in it are durable. */
int cw_durable_sync_dir(const char *dir);
/* Remove dir/name and fsync dir. A missing file is not an error. */
int cw_durable_unlink(const char *dir, const char *name);
/* Rename dir/name to todir/name, fsync both directories. */
int cw_durable_move(const char *dir, const char *name, const char *todir);
/* Remove leftover ".*.tmp" files of interrupted writes in dir. */
int cw_durable_clean_tmp(const char *dir);
/* mkdir -p with mode 0700 (the state holds offsets of private logs). */
int cw_durable_mkdirs(const char *path);
/* Read a whole regular file (heap, NUL-terminated, caller frees) of at most max
 * bytes. -1 with errno (EFBIG when larger than max). */
int cw_durable_read(const char *path, size_t max, char **out, size_t *n);

#endif
