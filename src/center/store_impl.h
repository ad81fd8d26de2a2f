/* store_impl.h - private to the SQLite store's files (store_*.c). */
#ifndef CW_CENTER_STORE_IMPL_H
#define CW_CENTER_STORE_IMPL_H

#include <pthread.h>
#include <sqlite3.h>

#include "center/store.h"
#include "common/buf.h"

#define CW_STORE_MAX_READERS 64

/* One writer connection behind wlock; a pool of reader connections (WAL lets them
 * read in parallel, each from the last committed snapshot). A reader is used by one
 * thread at a time: cw_store_reader() takes a free one, cw_store_reader_done() gives
 * it back. */
struct cw_store {
    sqlite3 *w;                    /* the writer connection */
    pthread_mutex_t wlock;         /* one writer at a time */
    sqlite3 *readers[CW_STORE_MAX_READERS];
    sqlite3 *idle[CW_STORE_MAX_READERS]; /* free readers, most recently used on top */
    int nreaders, nidle;
    unsigned reader_waits;         /* times a caller waited for a free reader */
    pthread_mutex_t rlock;         /* guards idle/nidle only, never held over a query */
    pthread_cond_t rfree;
    struct cw_store_options opt;
};

/* A reader connection for the calling thread; waits while every reader is in use.
 * Take one per store function, around all of that function's reads, and give it back
 * on every path. Never take a second reader while holding one: with every reader held
 * by such a caller the pool would deadlock. */
sqlite3 *cw_store_reader(struct cw_store *s);
void cw_store_reader_done(struct cw_store *s, sqlite3 *db);

#define CW_KEY_ID_BYTES 8
#define CW_KEY_HASH_BYTES 32

/* A new random credential "<prefix>_<key id hex>_<secret>" into out, its key id
 * (hex, 2*CW_KEY_ID_BYTES+1 bytes) and the BLAKE2b-256 hash to store. */
void cw_store_make_credential(const char *prefix, char *key_id, size_t key_id_cap, char *out,
                              size_t out_cap, unsigned char hash[CW_KEY_HASH_BYTES]);

/* Prepare a statement; on failure err says "storage error: <SQLite's reason>". */
int cw_store_prep(sqlite3 *db, sqlite3_stmt **st, const char *sql, char *err, size_t errlen);

/* One column of a result row as a member of the JSON object being written:
 * ,"key":"text" (JSON-escaped, exact bytes) or ,"key":"ISO time" from microseconds;
 * a NULL column gives ,"key":null. */
void cw_store_json_text(struct cw_buf *out, const char *key, sqlite3_stmt *st, int col);
void cw_store_json_time(struct cw_buf *out, const char *key, sqlite3_stmt *st, int col);

#endif
