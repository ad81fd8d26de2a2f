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

#endif
