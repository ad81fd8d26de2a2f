/* store_users.c - people: users with roles, passwords, login tokens.
 *
 * Passwords are hashed with argon2id (libsodium crypto_pwhash_str, interactive
 * limits) and never stored or logged in clear. Login issues a bearer token
 * ("cwu_...", stored as a BLAKE2b hash like every key) that expires. Five wrong
 * passwords in a row lock the account for 15 minutes: password guessing is rate
 * limited per account whatever the number of source addresses. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "center/store_impl.h"
#include "common/timefmt.h"
#include "common/banned.h"

#define MAX_FAILED_LOGINS 5
#define LOCKOUT_US (15LL * 60 * 1000000)

static const char *const role_names[] = {
    [CW_ROLE_NONE] = "",
    [CW_ROLE_SENSOR] = "sensor",
    [CW_ROLE_COORD_ADMIN] = "coordinator_admin",
    [CW_ROLE_COORD_ANALYST] = "coordinator_analyst",
    [CW_ROLE_MEMBER_ADMIN] = "member_admin",
    [CW_ROLE_MEMBER_USER] = "member_user",
    [CW_ROLE_SECTOR_USER] = "sector_user",
    [CW_ROLE_MINISTRY_USER] = "ministry_user",
};

const char *cw_role_name(enum cw_role r)
{
    return (unsigned)r <= CW_ROLE_MINISTRY_USER ? role_names[r] : "";
}

enum cw_role cw_role_from_name(const char *s)
{
    if (!s)
        return CW_ROLE_NONE;
    for (int r = 1; r <= CW_ROLE_MINISTRY_USER; r++)
        if (!strcmp(s, role_names[r]))
            return (enum cw_role)r;
    return CW_ROLE_NONE;
}

int cw_store_user_add(struct cw_store *s, const char *name, enum cw_role role, uint32_t member_id,
                      const char *password, int64_t *id, char *err, size_t errlen)
{
    bool member_role = role == CW_ROLE_MEMBER_ADMIN || role == CW_ROLE_MEMBER_USER;
    bool coord_role = role == CW_ROLE_COORD_ADMIN || role == CW_ROLE_COORD_ANALYST;
    /* organization roles have no member; cw_store_org_user_add links their org */
    coord_role |= role == CW_ROLE_SECTOR_USER || role == CW_ROLE_MINISTRY_USER;
    if (!member_role && !coord_role) {
        snprintf(err, errlen, "role must be coordinator_admin, coordinator_analyst, "
                              "member_admin or member_user");
        return CW_STORE_INVALID;
    }
    if (member_role != (member_id != 0)) {
        snprintf(err, errlen, member_role ? "a member role needs a member"
                                          : "a coordinator role has no member");
        return CW_STORE_INVALID;
    }
    size_t pl = strlen(password);
    if (pl < 12 || pl > 1024) {
        snprintf(err, errlen, "a password needs 12 to 1024 bytes");
        return CW_STORE_INVALID;
    }
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(hash, password, pl, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        snprintf(err, errlen, "out of memory hashing the password");
        return -1;
    }
    int rc = -1;
    pthread_mutex_lock(&s->wlock);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->w,
                           "INSERT INTO users(name, role, member_id, password_hash, created_us)"
                           " VALUES(?,?,?,?,?)",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, cw_role_name(role), -1, SQLITE_STATIC);
        if (member_id)
            sqlite3_bind_int64(st, 3, member_id);
        sqlite3_bind_text(st, 4, hash, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 5, cw_now_us());
        int r = sqlite3_step(st);
        if (r == SQLITE_DONE) {
            *id = sqlite3_last_insert_rowid(s->w);
            rc = 0;
        } else if (sqlite3_extended_errcode(s->w) == SQLITE_CONSTRAINT_UNIQUE) {
            rc = CW_STORE_EXISTS;
            snprintf(err, errlen, "user '%s' already exists", name);
        } else {
            snprintf(err, errlen, "cannot add user: %s", sqlite3_errmsg(s->w));
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->wlock);
    sodium_memzero(hash, sizeof(hash));
    return rc;
}

int cw_store_users_json(struct cw_store *s, uint32_t scope, struct cw_buf *out, char *err,
                        size_t errlen)
{
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(rd,
                           "SELECT u.id, u.name, u.role, u.member_id, m.name, u.disabled,"
                           " u.locked_until_us FROM users u LEFT JOIN members m ON m.id ="
                           " u.member_id WHERE (?1 = 0 OR u.member_id = ?1) ORDER BY u.id",
                           -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot list users: %s", sqlite3_errmsg(rd));
        cw_store_reader_done(s, rd);
        return -1;
    }
    sqlite3_bind_int64(st, 1, scope);
    int64_t now = cw_now_us();
    cw_buf_adds(out, "{\"users\":[");
    for (int n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
        const char *name = (const char *)sqlite3_column_text(st, 1);
        const char *mname = (const char *)sqlite3_column_text(st, 4);
        cw_buf_addf(out, "%s{\"id\":%lld,\"name\":", n ? "," : "",
                    (long long)sqlite3_column_int64(st, 0));
        cw_buf_add_json_str(out, name, strlen(name));
        cw_buf_addf(out, ",\"role\":\"%s\",\"member\":", (const char *)sqlite3_column_text(st, 2));
        if (mname)
            cw_buf_add_json_str(out, mname, strlen(mname));
        else
            cw_buf_adds(out, "null");
        cw_buf_addf(out, ",\"disabled\":%s,\"locked\":%s}",
                    sqlite3_column_int(st, 5) ? "true" : "false",
                    sqlite3_column_int64(st, 6) > now ? "true" : "false");
    }
    cw_buf_adds(out, "]}\n");
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return 0;
}

/* A real argon2id hash of a random password: verifying against it costs what a real
 * check costs, so a login for an unknown name takes as long as a wrong password. */
static char dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void dummy_init(void)
{
    unsigned char pw[16];
    randombytes_buf(pw, sizeof(pw));
    if (crypto_pwhash_str(dummy_hash, (const char *)pw, sizeof(pw),
                          crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        dummy_hash[0] = '\0';
}

static void record_failure(struct cw_store *s, int64_t uid, int failed)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->w,
                           "UPDATE users SET failed_logins = ?, locked_until_us = ? WHERE id = ?",
                           -1, &st, NULL) == SQLITE_OK) {
        bool lock = failed >= MAX_FAILED_LOGINS;
        sqlite3_bind_int(st, 1, lock ? 0 : failed);
        sqlite3_bind_int64(st, 2, lock ? cw_now_us() + LOCKOUT_US : 0);
        sqlite3_bind_int64(st, 3, uid);
        sqlite3_step(st);
    }
    sqlite3_finalize(st);
}

int cw_store_login(struct cw_store *s, const char *name, const char *password, int64_t ttl_us,
                   char *token_out, size_t token_len, char *err, size_t errlen)
{
    int rc = CW_STORE_DENIED;
    snprintf(err, errlen, "wrong user name or password");
    pthread_mutex_lock(&s->wlock);
    sqlite3_stmt *st = NULL;
    int64_t uid = 0, locked = 0;
    int failed = 0, disabled = 0;
    char hash[crypto_pwhash_STRBYTES] = "";
    if (sqlite3_prepare_v2(s->w,
                           "SELECT id, password_hash, failed_logins, locked_until_us, disabled"
                           " FROM users WHERE name = ?",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW) {
            uid = sqlite3_column_int64(st, 0);
            snprintf(hash, sizeof(hash), "%s", (const char *)sqlite3_column_text(st, 1));
            failed = sqlite3_column_int(st, 2);
            locked = sqlite3_column_int64(st, 3);
            disabled = sqlite3_column_int(st, 4);
        }
    }
    sqlite3_finalize(st);
    st = NULL;
    if (!uid || disabled) {
        /* same work as a real check, so timing does not tell which names exist */
        pthread_once(&dummy_once, dummy_init);
        int same_cost = crypto_pwhash_str_verify(dummy_hash, password, strlen(password));
        (void)same_cost;
        goto out;
    }
    if (locked > cw_now_us()) {
        rc = CW_STORE_LOCKED;
        snprintf(err, errlen, "account locked after %d failed logins; try again later",
                 MAX_FAILED_LOGINS);
        goto out;
    }
    if (crypto_pwhash_str_verify(hash, password, strlen(password)) != 0) {
        record_failure(s, uid, failed + 1);
        goto out;
    }
    record_failure(s, uid, 0);
    char key_id[2 * CW_KEY_ID_BYTES + 1];
    unsigned char khash[CW_KEY_HASH_BYTES];
    cw_store_make_credential("cwu", key_id, sizeof(key_id), token_out, token_len, khash);
    if (sqlite3_prepare_v2(s->w,
                           "INSERT INTO user_tokens(user_id, key_id, key_hash, created_us,"
                           " expires_us) VALUES(?,?,?,?,?)",
                           -1, &st, NULL) == SQLITE_OK) {
        int64_t now = cw_now_us();
        sqlite3_bind_int64(st, 1, uid);
        sqlite3_bind_text(st, 2, key_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_blob(st, 3, khash, CW_KEY_HASH_BYTES, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, now);
        sqlite3_bind_int64(st, 5, now + ttl_us);
        if (sqlite3_step(st) == SQLITE_DONE)
            rc = 0;
    }
    if (rc) {
        sodium_memzero(token_out, token_len);
        snprintf(err, errlen, "cannot issue a token: %s", sqlite3_errmsg(s->w));
        rc = -1;
    }
out:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->wlock);
    sodium_memzero(hash, sizeof(hash));
    return rc;
}
