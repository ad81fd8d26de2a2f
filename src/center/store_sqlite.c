/* store_sqlite.c - the embedded storage backend (see store.h).
 *
 * Connections to one WAL database: `w` for writes (ingest, admin changes) behind the
 * write lock, and a pool of readers (authentication, listings, charts, export), one
 * per concurrent reading thread; WAL lets the readers run in parallel with each other
 * and with a committing batch. Ingest does all CPU work (NDJSON serialisation, zstd)
 * before taking the write lock, so the lock covers only the INSERTs and the commit. */
#include "center/store.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/codec.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "common/banned.h"

#define KEY_ID_BYTES 8
#define KEY_SECRET_BYTES 32
#define HASH_BYTES 32

#include "center/store_impl.h"
#include "center/store_incidents.h"
#include "center/store_notices.h"
#include "center/store_iocs.h"
#include "center/store_migrate.h"
#include "center/store_web.h"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS members("
    "  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_us INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS sensors("
    "  id INTEGER PRIMARY KEY, member_id INTEGER NOT NULL REFERENCES members(id),"
    "  name TEXT NOT NULL, key_id TEXT NOT NULL UNIQUE, key_hash BLOB NOT NULL,"
    "  created_us INTEGER NOT NULL, revoked_us INTEGER, last_seen_us INTEGER,"
    "  records INTEGER NOT NULL DEFAULT 0, batches INTEGER NOT NULL DEFAULT 0,"
    "  rejected INTEGER NOT NULL DEFAULT 0, duplicates INTEGER NOT NULL DEFAULT 0,"
    "  UNIQUE(member_id, name));"
    "CREATE TABLE IF NOT EXISTS admin_tokens("
    "  id INTEGER PRIMARY KEY, key_id TEXT NOT NULL UNIQUE, key_hash BLOB NOT NULL,"
    "  created_us INTEGER NOT NULL, revoked_us INTEGER);"
    "CREATE TABLE IF NOT EXISTS batches("
    "  id INTEGER PRIMARY KEY, member_id INTEGER NOT NULL, sensor_id INTEGER NOT NULL,"
    "  idem_key TEXT, format TEXT NOT NULL, received_us INTEGER NOT NULL,"
    "  first_ts_us INTEGER, last_ts_us INTEGER, accepted INTEGER NOT NULL,"
    "  rejected INTEGER NOT NULL, rejects TEXT, codec TEXT, raw_bytes INTEGER, segment BLOB,"
    "  UNIQUE(sensor_id, idem_key));"
    "CREATE INDEX IF NOT EXISTS batches_received ON batches(received_us);"
    "CREATE INDEX IF NOT EXISTS batches_member ON batches(member_id, id);"
    "CREATE TABLE IF NOT EXISTS users("
    "  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, role TEXT NOT NULL,"
    "  member_id INTEGER REFERENCES members(id), password_hash TEXT NOT NULL,"
    "  created_us INTEGER NOT NULL, failed_logins INTEGER NOT NULL DEFAULT 0,"
    "  locked_until_us INTEGER NOT NULL DEFAULT 0, disabled INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS user_tokens("
    "  id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),"
    "  key_id TEXT NOT NULL UNIQUE, key_hash BLOB NOT NULL, created_us INTEGER NOT NULL,"
    "  expires_us INTEGER, revoked_us INTEGER);"
    "CREATE TABLE IF NOT EXISTS events("
    "  id INTEGER PRIMARY KEY, member_id INTEGER NOT NULL, attack_class TEXT NOT NULL,"
    "  severity INTEGER NOT NULL, state TEXT NOT NULL DEFAULT 'new', assignee TEXT,"
    "  first_us INTEGER NOT NULL, last_us INTEGER NOT NULL, count INTEGER NOT NULL,"
    "  distinct_sources INTEGER NOT NULL, distinct_targets INTEGER NOT NULL,"
    "  key_source TEXT, key_target TEXT, sources TEXT, targets TEXT,"
    "  created_us INTEGER NOT NULL, updated_us INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS events_member ON events(member_id, id);"
    /* the queue's time range (store_triage.c): overlap candidates by first time, and the
     * longest event, which bounds how far before `since` an overlapping one can start */
    "CREATE INDEX IF NOT EXISTS events_first ON events(first_us, last_us);"
    "CREATE INDEX IF NOT EXISTS events_span ON events(last_us - first_us);"
    "CREATE TABLE IF NOT EXISTS event_sources("
    "  event_id INTEGER NOT NULL, member_id INTEGER NOT NULL, attack_class TEXT NOT NULL,"
    "  source TEXT NOT NULL, PRIMARY KEY(event_id, source));"
    "CREATE INDEX IF NOT EXISTS event_sources_src ON event_sources(attack_class, source);"
    "CREATE TABLE IF NOT EXISTS event_history("
    "  id INTEGER PRIMARY KEY, event_id INTEGER NOT NULL, at_us INTEGER NOT NULL,"
    "  actor TEXT NOT NULL, change TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS detections("
    "  id INTEGER PRIMARY KEY, batch_id INTEGER NOT NULL, member_id INTEGER NOT NULL,"
    "  event_id INTEGER, noise TEXT NOT NULL, detail TEXT, rule_id TEXT, rule_name TEXT,"
    "  attack_class TEXT NOT NULL, severity INTEGER NOT NULL, ts_us INTEGER NOT NULL,"
    "  record TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS detections_event ON detections(event_id);"
    "CREATE INDEX IF NOT EXISTS detections_noise ON detections(member_id, noise, id);"
    "CREATE TABLE IF NOT EXISTS noise_counts("
    "  member_id INTEGER NOT NULL, day TEXT NOT NULL, reason TEXT NOT NULL,"
    "  count INTEGER NOT NULL, PRIMARY KEY(member_id, day, reason));"
    "CREATE TABLE IF NOT EXISTS assets("
    "  id INTEGER PRIMARY KEY, member_id INTEGER NOT NULL, address TEXT, host TEXT,"
    "  products TEXT NOT NULL, created_us INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS suppressions("
    "  id INTEGER PRIMARY KEY, member_id INTEGER NOT NULL, attack_class TEXT, rule_id TEXT,"
    "  source TEXT, owner TEXT NOT NULL, reason TEXT NOT NULL, expires_us INTEGER,"
    "  created_us INTEGER NOT NULL);";

/* The version 1 schema (store_migrate.h): this file's tables, then each module's.
 * The module schema functions take a store; only its writer is used. */
int cw_store_baseline(sqlite3 *db, char *err, size_t errlen)
{
    struct cw_store tmp;
    memset(&tmp, 0, sizeof(tmp));
    tmp.w = db;
    char *msg = NULL;
    if (sqlite3_exec(db, schema, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "cannot create schema: %s", msg ? msg : "?");
        sqlite3_free(msg);
        return -1;
    }
    if (cw_store_notices_schema(&tmp, err, errlen) || cw_store_iocs_schema(&tmp, err, errlen) ||
        cw_store_web_schema(&tmp, err, errlen) || cw_store_incidents_schema(&tmp, err, errlen))
        return -1;
    return 0;
}

static int open_conn(sqlite3 **db, const char *path, char *err, size_t errlen)
{
    int rc = sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                           SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open database %s: %s", path,
                 *db ? sqlite3_errmsg(*db) : sqlite3_errstr(rc));
        return -1;
    }
    sqlite3_busy_timeout(*db, 10000);
    /* WAL + synchronous=FULL: a commit returns after the WAL is fsynced, which is
     * the point where the center may acknowledge a batch. */
    char *msg = NULL;
    rc = sqlite3_exec(*db,
                      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                      "PRAGMA foreign_keys=ON; PRAGMA wal_autocheckpoint=4000;",
                      NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot configure database: %s", msg ? msg : "?");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

sqlite3 *cw_store_reader(struct cw_store *s)
{
    pthread_mutex_lock(&s->rlock);
    if (s->nidle == 0) {
        s->reader_waits++;
        while (s->nidle == 0)
            pthread_cond_wait(&s->rfree, &s->rlock);
    }
    sqlite3 *db = s->idle[--s->nidle];
    pthread_mutex_unlock(&s->rlock);
    return db;
}

void cw_store_reader_done(struct cw_store *s, sqlite3 *db)
{
    pthread_mutex_lock(&s->rlock);
    s->idle[s->nidle++] = db;
    pthread_cond_signal(&s->rfree);
    pthread_mutex_unlock(&s->rlock);
}

/* Readers refuse writes (query_only): a write belongs on the writer, in its lock. */
static int open_readers(struct cw_store *s, const char *path, char *err, size_t errlen)
{
    int n = s->opt.readers;
    if (n <= 0)
        n = 4;
    if (n > CW_STORE_MAX_READERS)
        n = CW_STORE_MAX_READERS;
    for (; s->nreaders < n; s->nreaders++) {
        sqlite3 **db = &s->readers[s->nreaders];
        if (open_conn(db, path, err, errlen)) {
            if (*db)
                sqlite3_close(*db);
            *db = NULL;
            return -1;
        }
        if (sqlite3_exec(*db, "PRAGMA query_only=1;", NULL, NULL, NULL) != SQLITE_OK) {
            snprintf(err, errlen, "cannot configure a reader: %s", sqlite3_errmsg(*db));
            sqlite3_close(*db);
            *db = NULL;
            return -1;
        }
        s->idle[s->nidle++] = *db;
    }
    return 0;
}

int cw_store_open(struct cw_store **out, const char *data_dir, const struct cw_store_options *opt,
                  char *err, size_t errlen)
{
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium initialisation failed");
        return -1;
    }
    if (mkdir(data_dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create data directory %s: %s", data_dir, strerror(errno));
        return -1;
    }
    struct cw_store *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (opt)
        s->opt = *opt;
    if (s->opt.zstd_level == 0)
        s->opt.zstd_level = 1;
    pthread_mutex_init(&s->wlock, NULL);
    pthread_mutex_init(&s->rlock, NULL);
    pthread_cond_init(&s->rfree, NULL);
    char path[4096];
    snprintf(path, sizeof(path), "%s/crosswatch.db", data_dir);
    if (open_conn(&s->w, path, err, errlen))
        goto fail;
    struct cw_schema_result sr;
    if (cw_schema_upgrade(s->w, data_dir, cw_store_baseline, cw_store_migrations,
                          cw_store_nmigrations, &sr, err, errlen))
        goto fail;
    if (open_readers(s, path, err, errlen))
        goto fail;
    chmod(path, 0600);
    *out = s;
    return 0;
fail:
    cw_store_close(s);
    return -1;
}

void cw_store_close(struct cw_store *s)
{
    if (!s)
        return;
    /* every reader is idle again: the store is closed after its users stopped */
    for (int i = 0; i < s->nreaders; i++)
        sqlite3_close(s->readers[i]);
    if (s->w)
        sqlite3_close(s->w);
    pthread_mutex_destroy(&s->wlock);
    pthread_mutex_destroy(&s->rlock);
    pthread_cond_destroy(&s->rfree);
    free(s);
}

static void copy_str(char *dst, size_t cap, const unsigned char *src)
{
    snprintf(dst, cap, "%s", src ? (const char *)src : "");
}

/* -- keys --------------------------------------------------------------------
 * A credential is "<prefix>_<key id, 16 hex>_<secret, base64url>". The key id
 * finds the row; the stored hash (BLAKE2b-256 of the whole credential) is compared
 * in constant time. Keys carry 256 random bits, so a fast hash is right here:
 * a slow password hash would only slow every ingest down. */
void cw_store_make_credential(const char *prefix, char *key_id, size_t key_id_cap, char *out,
                            size_t out_cap, unsigned char hash[HASH_BYTES])
{
    unsigned char id[KEY_ID_BYTES], secret[KEY_SECRET_BYTES];
    char secret_b64[64];
    randombytes_buf(id, sizeof(id));
    randombytes_buf(secret, sizeof(secret));
    sodium_bin2hex(key_id, key_id_cap, id, sizeof(id));
    sodium_bin2base64(secret_b64, sizeof(secret_b64), secret, sizeof(secret),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    snprintf(out, out_cap, "%s_%s_%s", prefix, key_id, secret_b64);
    crypto_generichash(hash, HASH_BYTES, (const unsigned char *)out, strlen(out), NULL, 0);
    sodium_memzero(secret, sizeof(secret));
    sodium_memzero(secret_b64, sizeof(secret_b64));
}

static int split_credential(const char *cred, char prefix[8], char key_id[2 * KEY_ID_BYTES + 1])
{
    size_t n = strlen(cred);
    if (n < 4 + 2 * KEY_ID_BYTES + 2 || n > 200 || cred[3] != '_' ||
        cred[4 + 2 * KEY_ID_BYTES] != '_')
        return -1;
    memcpy(prefix, cred, 3);
    prefix[3] = '\0';
    for (int i = 0; i < 2 * KEY_ID_BYTES; i++) {
        char c = cred[4 + i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return -1;
        key_id[i] = c;
    }
    key_id[2 * KEY_ID_BYTES] = '\0';
    return 0;
}

int cw_store_authenticate(struct cw_store *s, const char *cred, struct cw_principal *out)
{
    char prefix[8], key_id[2 * KEY_ID_BYTES + 1];
    memset(out, 0, sizeof(*out));
    if (!cred || split_credential(cred, prefix, key_id))
        return -1;
    int kind = !strcmp(prefix, "cwk") ? 1 : !strcmp(prefix, "cwa") ? 2 : !strcmp(prefix, "cwu") ? 3 : 0;
    if (!kind)
        return -1;
    unsigned char want[HASH_BYTES];
    crypto_generichash(want, HASH_BYTES, (const unsigned char *)cred, strlen(cred), NULL, 0);
    static const char *const sql[] = {
        NULL,
        "SELECT id, member_id, key_hash, 'sensor', '' FROM sensors"
        " WHERE key_id = ?1 AND revoked_us IS NULL",
        "SELECT id, 0, key_hash, 'coordinator_admin', 'admin' FROM admin_tokens"
        " WHERE key_id = ?1 AND revoked_us IS NULL",
        "SELECT t.id, COALESCE(u.member_id, 0), t.key_hash, u.role, u.name, u.id,"
        " COALESCE((SELECT o.org_id FROM org_users o WHERE o.user_id = u.id), 0)"
        " FROM user_tokens t JOIN users u ON u.id = t.user_id WHERE t.key_id = ?1"
        " AND t.revoked_us IS NULL AND (t.expires_us IS NULL OR t.expires_us > ?2)"
        " AND u.disabled = 0",
    };
    int rc = -1;
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(rd, sql[kind], -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
        if (kind == 3)
            sqlite3_bind_int64(st, 2, cw_now_us());
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 2) == HASH_BYTES &&
            sodium_memcmp(sqlite3_column_blob(st, 2), want, HASH_BYTES) == 0) {
            uint32_t id = (uint32_t)sqlite3_column_int64(st, 0);
            out->member_id = (uint32_t)sqlite3_column_int64(st, 1);
            out->role = cw_role_from_name((const char *)sqlite3_column_text(st, 3));
            copy_str(out->name, sizeof(out->name), sqlite3_column_text(st, 4));
            if (kind == 1) {
                out->sensor_id = id;
                snprintf(out->name, sizeof(out->name), "sensor:%u", id);
            } else if (kind == 2) {
                out->token_id = id;
            } else {
                out->token_id = id;
                out->user_id = (uint32_t)sqlite3_column_int64(st, 5);
                out->org_id = (uint32_t)sqlite3_column_int64(st, 6);
            }
            rc = out->role == CW_ROLE_NONE ? -1 : 0;
        }
    }
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return rc;
}

/* -- members ---------------------------------------------------------------- */
int cw_store_member_add(struct cw_store *s, const char *name, uint32_t *id, char *err,
                        size_t errlen)
{
    int rc = -1;
    pthread_mutex_lock(&s->wlock);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->w, "INSERT INTO members(name, created_us) VALUES(?, ?)", -1, &st,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, cw_now_us());
        int r = sqlite3_step(st);
        if (r == SQLITE_DONE) {
            *id = (uint32_t)sqlite3_last_insert_rowid(s->w);
            rc = 0;
        } else if (sqlite3_extended_errcode(s->w) == SQLITE_CONSTRAINT_UNIQUE) {
            rc = CW_STORE_EXISTS;
            snprintf(err, errlen, "member '%s' already exists", name);
        } else {
            snprintf(err, errlen, "cannot add member: %s", sqlite3_errmsg(s->w));
        }
    } else {
        snprintf(err, errlen, "cannot add member: %s", sqlite3_errmsg(s->w));
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

static const char member_cols[] =
    "SELECT m.id, m.name, m.created_us,"
    " (SELECT COALESCE(SUM(records),0) FROM sensors WHERE member_id = m.id),"
    " (SELECT COUNT(*) FROM sensors WHERE member_id = m.id) FROM members m ";

static void member_row(sqlite3_stmt *st, struct cw_member_info *m)
{
    m->id = (uint32_t)sqlite3_column_int64(st, 0);
    copy_str(m->name, sizeof(m->name), sqlite3_column_text(st, 1));
    m->created_us = sqlite3_column_int64(st, 2);
    m->records = sqlite3_column_int64(st, 3);
    m->sensors = sqlite3_column_int64(st, 4);
}

int cw_store_member_find(struct cw_store *s, const char *ref, struct cw_member_info *out)
{
    char sql[512];
    char *end;
    long long id = strtoll(ref, &end, 10);
    bool by_id = *ref && !*end && id > 0;
    snprintf(sql, sizeof(sql), "%s WHERE %s = ?", member_cols, by_id ? "m.id" : "m.name");
    int rc = CW_STORE_NOT_FOUND;
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(rd, sql, -1, &st, NULL) == SQLITE_OK) {
        if (by_id)
            sqlite3_bind_int64(st, 1, id);
        else
            sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            member_row(st, out);
            rc = 0;
        }
    } else {
        rc = -1;
    }
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return rc;
}

int cw_store_member_list(struct cw_store *s, cw_member_cb cb, void *ctx, char *err,
                         size_t errlen)
{
    char sql[512];
    snprintf(sql, sizeof(sql), "%s ORDER BY m.id", member_cols);
    int rc = 0;
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(rd, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot list members: %s", sqlite3_errmsg(rd));
        rc = -1;
    }
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        struct cw_member_info m;
        member_row(st, &m);
        rc = cb(ctx, &m);
    }
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return rc;
}

/* -- sensors ---------------------------------------------------------------- */
static const char sensor_cols[] =
    "SELECT s.id, s.member_id, m.name, s.name, s.created_us, COALESCE(s.last_seen_us,0),"
    " COALESCE(s.revoked_us,0), s.records, s.batches, s.rejected, s.duplicates"
    " FROM sensors s JOIN members m ON m.id = s.member_id ";

static void sensor_row(sqlite3_stmt *st, struct cw_sensor_info *si)
{
    si->id = (uint32_t)sqlite3_column_int64(st, 0);
    si->member_id = (uint32_t)sqlite3_column_int64(st, 1);
    copy_str(si->member, sizeof(si->member), sqlite3_column_text(st, 2));
    copy_str(si->name, sizeof(si->name), sqlite3_column_text(st, 3));
    si->created_us = sqlite3_column_int64(st, 4);
    si->last_seen_us = sqlite3_column_int64(st, 5);
    si->revoked_us = sqlite3_column_int64(st, 6);
    si->records = sqlite3_column_int64(st, 7);
    si->batches = sqlite3_column_int64(st, 8);
    si->rejected = sqlite3_column_int64(st, 9);
    si->duplicates = sqlite3_column_int64(st, 10);
}

int cw_store_sensor_get(struct cw_store *s, uint32_t id, struct cw_sensor_info *out)
{
    char sql[512];
    snprintf(sql, sizeof(sql), "%s WHERE s.id = ?", sensor_cols);
    int rc = CW_STORE_NOT_FOUND;
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(rd, sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) == SQLITE_ROW) {
            sensor_row(st, out);
            rc = 0;
        }
    } else {
        rc = -1;
    }
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return rc;
}

int cw_store_sensor_add(struct cw_store *s, uint32_t member_id, const char *name,
                        struct cw_sensor_info *out, char *key_out, size_t key_len, char *err,
                        size_t errlen)
{
    char key_id[2 * KEY_ID_BYTES + 1];
    unsigned char hash[HASH_BYTES];
    cw_store_make_credential("cwk", key_id, sizeof(key_id), key_out, key_len, hash);
    int rc = -1;
    int64_t id = 0;
    pthread_mutex_lock(&s->wlock);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->w,
                           "INSERT INTO sensors(member_id, name, key_id, key_hash, created_us)"
                           " SELECT id, ?, ?, ?, ? FROM members WHERE id = ?",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, key_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_blob(st, 3, hash, HASH_BYTES, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, cw_now_us());
        sqlite3_bind_int64(st, 5, member_id);
        int r = sqlite3_step(st);
        if (r == SQLITE_DONE && sqlite3_changes(s->w) == 1) {
            id = sqlite3_last_insert_rowid(s->w);
            rc = 0;
        } else if (r == SQLITE_DONE) {
            rc = CW_STORE_NOT_FOUND;
            snprintf(err, errlen, "member %u does not exist", member_id);
        } else if (sqlite3_extended_errcode(s->w) == SQLITE_CONSTRAINT_UNIQUE) {
            rc = CW_STORE_EXISTS;
            snprintf(err, errlen, "the member already has a sensor named '%s'", name);
        } else {
            snprintf(err, errlen, "cannot add sensor: %s", sqlite3_errmsg(s->w));
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->wlock);
    if (rc != 0) {
        sodium_memzero(key_out, key_len);
        return rc;
    }
    return cw_store_sensor_get(s, (uint32_t)id, out) == 0 ? 0 : -1;
}

int cw_store_sensor_list(struct cw_store *s, uint32_t member_id, cw_sensor_cb cb, void *ctx,
                         char *err, size_t errlen)
{
    char sql[512];
    snprintf(sql, sizeof(sql), "%s %s ORDER BY s.id", sensor_cols,
             member_id ? "WHERE s.member_id = ?" : "");
    int rc = 0;
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(rd, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot list sensors: %s", sqlite3_errmsg(rd));
        rc = -1;
    } else if (member_id) {
        sqlite3_bind_int64(st, 1, member_id);
    }
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        struct cw_sensor_info si;
        sensor_row(st, &si);
        rc = cb(ctx, &si);
    }
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return rc;
}

int cw_store_sensor_revoke(struct cw_store *s, uint32_t id, char *err, size_t errlen)
{
    int rc = -1;
    pthread_mutex_lock(&s->wlock);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->w,
                           "UPDATE sensors SET revoked_us = COALESCE(revoked_us, ?) WHERE id = ?",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, cw_now_us());
        sqlite3_bind_int64(st, 2, id);
        if (sqlite3_step(st) == SQLITE_DONE)
            rc = sqlite3_changes(s->w) == 1 ? 0 : CW_STORE_NOT_FOUND;
    }
    if (rc == -1)
        snprintf(err, errlen, "cannot revoke sensor: %s", sqlite3_errmsg(s->w));
    else if (rc == CW_STORE_NOT_FOUND)
        snprintf(err, errlen, "sensor %u does not exist", id);
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

int cw_store_admin_token_ensure(struct cw_store *s, char *token_out, size_t len, char *err,
                                size_t errlen)
{
    int rc = -1;
    pthread_mutex_lock(&s->wlock);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->w, "SELECT COUNT(*) FROM admin_tokens WHERE revoked_us IS NULL",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        if (sqlite3_column_int64(st, 0) > 0)
            rc = 0;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc == -1) {
        char key_id[2 * KEY_ID_BYTES + 1];
        unsigned char hash[HASH_BYTES];
        cw_store_make_credential("cwa", key_id, sizeof(key_id), token_out, len, hash);
        if (sqlite3_prepare_v2(s->w,
                               "INSERT INTO admin_tokens(key_id, key_hash, created_us)"
                               " VALUES(?, ?, ?)",
                               -1, &st, NULL) == SQLITE_OK) {
            sqlite3_bind_text(st, 1, key_id, -1, SQLITE_TRANSIENT);
            sqlite3_bind_blob(st, 2, hash, HASH_BYTES, SQLITE_TRANSIENT);
            sqlite3_bind_int64(st, 3, cw_now_us());
            if (sqlite3_step(st) == SQLITE_DONE)
                rc = 1;
        }
        if (rc != 1)
            snprintf(err, errlen, "cannot create admin token: %s", sqlite3_errmsg(s->w));
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

/* -- ingest ----------------------------------------------------------------- */
static int lookup_duplicate(sqlite3 *db, const struct cw_ingest_batch *in,
                            struct cw_ingest_result *res)
{
    int found = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT id, accepted, rejected, rejects FROM batches"
                           " WHERE sensor_id = ? AND idem_key = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, in->sensor_id);
    sqlite3_bind_text(st, 2, in->idem_key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        res->batch_id = sqlite3_column_int64(st, 0);
        res->accepted = (uint32_t)sqlite3_column_int64(st, 1);
        res->rejected = (uint32_t)sqlite3_column_int64(st, 2);
        const unsigned char *rj = sqlite3_column_text(st, 3);
        res->rejects_json = strdup(rj ? (const char *)rj : "[]");
        res->duplicate = true;
        found = 1;
    }
    sqlite3_finalize(st);
    return found;
}

int cw_store_prep(sqlite3 *db, sqlite3_stmt **st, const char *sql, char *err, size_t errlen)
{
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(db));
        return -1;
    }
    return 0;
}

void cw_store_json_text(struct cw_buf *out, const char *key, sqlite3_stmt *st, int col)
{
    const unsigned char *v = sqlite3_column_text(st, col);
    cw_buf_addf(out, ",\"%s\":", key);
    if (!v)
        cw_buf_adds(out, "null");
    else
        cw_buf_add_json_str(out, (const char *)v, (size_t)sqlite3_column_bytes(st, col));
}

void cw_store_json_time(struct cw_buf *out, const char *key, sqlite3_stmt *st, int col)
{
    cw_buf_addf(out, ",\"%s\":", key);
    if (sqlite3_column_type(st, col) == SQLITE_NULL) {
        cw_buf_adds(out, "null");
        return;
    }
    char t[40];
    cw_time_format_iso(sqlite3_column_int64(st, col), t);
    cw_buf_addf(out, "\"%s\"", t);
}

static int exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int bump_sensor(sqlite3 *db, const struct cw_ingest_batch *in, int64_t accepted,
                       int64_t rejected, int64_t dup)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "UPDATE sensors SET records = records + ?, batches = batches + ?,"
                           " rejected = rejected + ?, duplicates = duplicates + ?,"
                           " last_seen_us = ? WHERE id = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, accepted);
    sqlite3_bind_int64(st, 2, dup ? 0 : 1);
    sqlite3_bind_int64(st, 3, rejected);
    sqlite3_bind_int64(st, 4, dup);
    sqlite3_bind_int64(st, 5, in->received_us);
    sqlite3_bind_int64(st, 6, in->sensor_id);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

int cw_store_ingest(struct cw_store *s, const struct cw_ingest_batch *in,
                    struct cw_ingest_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof(*res));
    const struct cw_batch *b = in->batch;
    /* CPU work first, outside the lock */
    struct cw_buf nd = CW_BUF_INIT;
    int64_t first = 0, last = 0;
    for (uint32_t i = 0; i < b->n; i++) {
        const struct cw_record *r = &b->recs[i];
        cw_record_to_json(r, &nd, true);
        cw_buf_addc(&nd, '\n');
        if (i == 0 || r->ts_us < first)
            first = r->ts_us;
        if (i == 0 || r->ts_us > last)
            last = r->ts_us;
    }
    if (!cw_buf_ok(&nd)) {
        cw_buf_release(&nd);
        snprintf(err, errlen, "out of memory serialising batch");
        return -1;
    }
    char *z = NULL;
    size_t zn = 0;
    if (b->n && cw_zstd_compress(nd.data, nd.len, s->opt.zstd_level, &z, &zn) != CW_CODEC_OK) {
        cw_buf_release(&nd);
        snprintf(err, errlen, "out of memory compressing batch");
        return -1;
    }
    size_t raw_bytes = nd.len;
    cw_buf_release(&nd);
    struct cw_obs_digest dg; /* observables for retro-hunts (store_iocs.h) */
    if (cw_obs_digest_build(b, &dg)) {
        free(z);
        snprintf(err, errlen, "out of memory building the batch digest");
        return -1;
    }

    int rc = -1;
    pthread_mutex_lock(&s->wlock);
    if (exec(s->w, "BEGIN IMMEDIATE")) {
        snprintf(err, errlen, "storage busy: %s", sqlite3_errmsg(s->w));
        goto unlock;
    }
    if (in->idem_key) {
        int d = lookup_duplicate(s->w, in, res);
        if (d < 0) {
            snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(s->w));
            goto rollback;
        }
        if (d == 1) {
            if (bump_sensor(s->w, in, 0, 0, 1) || exec(s->w, "COMMIT")) {
                snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(s->w));
                goto rollback;
            }
            rc = 0;
            goto unlock;
        }
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->w,
                           "INSERT INTO batches(member_id, sensor_id, idem_key, format,"
                           " received_us, first_ts_us, last_ts_us, accepted, rejected, rejects,"
                           " codec, raw_bytes, segment) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(s->w));
        goto rollback;
    }
    sqlite3_bind_int64(st, 1, in->member_id);
    sqlite3_bind_int64(st, 2, in->sensor_id);
    if (in->idem_key)
        sqlite3_bind_text(st, 3, in->idem_key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, in->format, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, in->received_us);
    if (b->n) {
        sqlite3_bind_int64(st, 6, first);
        sqlite3_bind_int64(st, 7, last);
    }
    sqlite3_bind_int64(st, 8, b->n);
    sqlite3_bind_int64(st, 9, b->nrej);
    sqlite3_bind_text(st, 10, in->rejects_json ? in->rejects_json : "[]", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, "zstd-ndjson", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 12, (int64_t)raw_bytes);
    if (z)
        sqlite3_bind_blob(st, 13, z, (int)zn, SQLITE_STATIC);
    int r = sqlite3_step(st);
    sqlite3_finalize(st);
    if (r != SQLITE_DONE) {
        snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(s->w));
        goto rollback;
    }
    res->batch_id = sqlite3_last_insert_rowid(s->w);
    res->accepted = b->n;
    res->rejected = b->nrej;
    if (in->triage && in->aggregate && in->aggregate(in->aggregate_ctx)) {
        snprintf(err, errlen, "out of memory aggregating events");
        goto rollback;
    }
    if (in->triage &&
        cw_store_triage_write(s, res->batch_id, b, in->triage, err, errlen))
        goto rollback;
    if (cw_store_iocs_batch_write(s, res->batch_id, in, &dg, err, errlen))
        goto rollback;
    if (cw_store_web_counts(s, b, in->triage, err, errlen))
        goto rollback;
    if (bump_sensor(s->w, in, b->n, b->nrej, 0) || exec(s->w, "COMMIT")) {
        snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(s->w));
        goto rollback;
    }
    rc = 0;
    goto unlock;
rollback:
    exec(s->w, "ROLLBACK");
unlock:
    pthread_mutex_unlock(&s->wlock);
    free(z);
    cw_obs_digest_release(&dg);
    return rc;
}

int cw_store_totals(struct cw_store *s, struct cw_totals *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof(*t));
    int rc = -1;
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(rd,
                           "SELECT COALESCE(SUM(records),0), COALESCE(SUM(batches),0),"
                           " COALESCE(SUM(rejected),0), COALESCE(SUM(duplicates),0),"
                           " (SELECT COUNT(*) FROM members), COUNT(*) FROM sensors",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        t->records = sqlite3_column_int64(st, 0);
        t->batches = sqlite3_column_int64(st, 1);
        t->rejected = sqlite3_column_int64(st, 2);
        t->duplicates = sqlite3_column_int64(st, 3);
        t->members = sqlite3_column_int64(st, 4);
        t->sensors = sqlite3_column_int64(st, 5);
        rc = 0;
    } else {
        snprintf(err, errlen, "cannot read totals: %s", sqlite3_errmsg(rd));
    }
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return rc;
}

int cw_store_records_foreach(struct cw_store *s, uint32_t member_id, int64_t after,
                             int64_t max_batches, cw_segment_cb cb, void *ctx,
                             int64_t *last_batch, char *err, size_t errlen)
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT id, segment, raw_bytes FROM batches WHERE id > ? %s AND segment IS NOT NULL"
             " ORDER BY id LIMIT ?",
             member_id ? "AND member_id = ?" : "");
    int rc = 0;
    *last_batch = after;
    /* Segments are decompressed outside the read lock: copy each blob first. */
    int64_t done = 0;
    while (rc == 0 && (max_batches == 0 || done < max_batches)) {
        sqlite3 *rd = cw_store_reader(s);
        sqlite3_stmt *st = NULL;
        int64_t id = 0, raw = 0;
        char *blob = NULL;
        size_t bn = 0;
        int have = 0;
        if (sqlite3_prepare_v2(rd, sql, -1, &st, NULL) != SQLITE_OK) {
            snprintf(err, errlen, "cannot read records: %s", sqlite3_errmsg(rd));
            rc = -1;
        } else {
            int k = 1;
            sqlite3_bind_int64(st, k++, *last_batch);
            if (member_id)
                sqlite3_bind_int64(st, k++, member_id);
            sqlite3_bind_int64(st, k, 1);
            if (sqlite3_step(st) == SQLITE_ROW) {
                id = sqlite3_column_int64(st, 0);
                bn = (size_t)sqlite3_column_bytes(st, 1);
                raw = sqlite3_column_int64(st, 2);
                blob = malloc(bn ? bn : 1);
                if (blob) {
                    memcpy(blob, sqlite3_column_blob(st, 1), bn);
                    have = 1;
                } else {
                    rc = -1;
                }
            }
        }
        sqlite3_finalize(st);
        cw_store_reader_done(s, rd);
        if (!have)
            break;
        char *out = NULL;
        size_t on = 0;
        int d = cw_decompress(CW_ENC_ZSTD, blob, bn, (size_t)raw + 1, &out, &on);
        free(blob);
        if (d != CW_CODEC_OK) {
            snprintf(err, errlen, "segment of batch %lld unreadable: %s", (long long)id,
                     cw_codec_strerror(d));
            return -1;
        }
        rc = cb(ctx, id, out, on);
        free(out);
        *last_batch = id;
        done++;
    }
    return rc;
}

int64_t cw_store_apply_retention(struct cw_store *s, int64_t now_us)
{
    if (s->opt.retention_days <= 0)
        return 0;
    int64_t cutoff = now_us - s->opt.retention_days * 86400LL * 1000000;
    int64_t n = 0;
    pthread_mutex_lock(&s->wlock);
    sqlite3_stmt *st = NULL;
    /* keep the row (its idempotency key still deduplicates late retries), drop data */
    if (sqlite3_prepare_v2(s->w,
                           "UPDATE batches SET segment = NULL WHERE received_us < ?"
                           " AND segment IS NOT NULL",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, cutoff);
        if (sqlite3_step(st) == SQLITE_DONE)
            n = sqlite3_changes(s->w);
    }
    sqlite3_finalize(st);
    /* the observable digests (store_iocs.c) are a summary of those records: they go
     * with them, or a retro-hunt would still "see" contact past the retention period */
    st = NULL;
    if (sqlite3_prepare_v2(s->w,
                           "DELETE FROM batch_digests WHERE batch_id IN"
                           " (SELECT id FROM batches WHERE received_us < ?"
                           " AND segment IS NULL)",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, cutoff);
        if (sqlite3_step(st) != SQLITE_DONE)
            cw_warn("retention: could not drop batch digests: %s", sqlite3_errmsg(s->w));
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->wlock);
    if (n)
        cw_info("retention: dropped the records of %lld batches older than %lld days",
                (long long)n, (long long)s->opt.retention_days);
    return n;
}
