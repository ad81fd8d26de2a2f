/* store_impl.h - private to the SQLite store's files (store_*.c). */
#ifndef CW_CENTER_STORE_IMPL_H
#define CW_CENTER_STORE_IMPL_H

#include <pthread.h>
#include <sqlite3.h>

#include "center/store.h"

struct cw_store {
    sqlite3 *w, *r;                /* writer and reader connections */
    pthread_mutex_t wlock, rlock;  /* one user per connection at a time */
    struct cw_store_options opt;
};

#define CW_KEY_ID_BYTES 8
#define CW_KEY_HASH_BYTES 32

/* A new random credential "<prefix>_<key id hex>_<secret>" into out, its key id
 * (hex, 2*CW_KEY_ID_BYTES+1 bytes) and the BLAKE2b-256 hash to store. */
void cw_store_make_credential(const char *prefix, char *key_id, size_t key_id_cap, char *out,
                              size_t out_cap, unsigned char hash[CW_KEY_HASH_BYTES]);

/* Prepare a statement; on failure err says "storage error: <SQLite's reason>". */
int cw_store_prep(sqlite3 *db, sqlite3_stmt **st, const char *sql, char *err, size_t errlen);

#endif
