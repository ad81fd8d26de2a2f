/* store_iocs.c - indicators, sightings, the feed's change log, batch digests and
 * samples in the embedded store (see store_iocs.h, docs/indicators.md).
 * Writes use the writer connection under the write lock, each in one transaction
 * (or inside cw_store_ingest's); reads use the reader connection. */
#include "center/store_iocs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "center/store_impl.h"
#include "common/codec.h"
#include "common/timefmt.h"
#include "common/banned.h"

static const char iocs_schema[] =
    "CREATE TABLE IF NOT EXISTS indicators("
    "  id INTEGER PRIMARY KEY, type TEXT NOT NULL, value TEXT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'candidate', tlp INTEGER NOT NULL,"
    "  audience TEXT NOT NULL DEFAULT '', confidence INTEGER NOT NULL,"
    "  source TEXT NOT NULL, source_member INTEGER NOT NULL DEFAULT 0, source_name TEXT,"
    "  description TEXT, first_seen_us INTEGER, last_seen_us INTEGER, valid_until_us INTEGER,"
    "  published_us INTEGER, created_us INTEGER NOT NULL, updated_us INTEGER NOT NULL,"
    "  sightings INTEGER NOT NULL DEFAULT 0, sample_id INTEGER, created_by TEXT NOT NULL,"
    "  retro_state TEXT, retro_hits INTEGER, retro_batches INTEGER, retro_read INTEGER,"
    "  retro_ms INTEGER, UNIQUE(type, value));"
    "CREATE INDEX IF NOT EXISTS indicators_state ON indicators(state, id);"
    "CREATE INDEX IF NOT EXISTS indicators_updated ON indicators(updated_us);"
    "CREATE TABLE IF NOT EXISTS ioc_sightings("
    "  id INTEGER PRIMARY KEY, indicator_id INTEGER NOT NULL, member_id INTEGER NOT NULL,"
    "  at_us INTEGER NOT NULL, ts_us INTEGER NOT NULL, kind TEXT NOT NULL,"
    "  batch_id INTEGER NOT NULL, field TEXT);"
    "CREATE INDEX IF NOT EXISTS ioc_sightings_ind ON ioc_sightings(indicator_id, id);"
    "CREATE TABLE IF NOT EXISTS ioc_events("
    "  indicator_id INTEGER NOT NULL, event_id INTEGER NOT NULL, member_id INTEGER NOT NULL,"
    "  PRIMARY KEY(indicator_id, event_id));"
    "CREATE TABLE IF NOT EXISTS ioc_changes("
    "  serial INTEGER PRIMARY KEY AUTOINCREMENT, at_us INTEGER NOT NULL,"
    "  indicator_id INTEGER NOT NULL, op TEXT NOT NULL, rule TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS batch_digests("
    "  batch_id INTEGER PRIMARY KEY, member_id INTEGER NOT NULL, sensor_id INTEGER NOT NULL,"
    "  last_ts_us INTEGER NOT NULL, nkeys INTEGER NOT NULL, keys BLOB);"
    "CREATE INDEX IF NOT EXISTS batch_digests_ts ON batch_digests(last_ts_us);"
    "CREATE TABLE IF NOT EXISTS samples("
    "  id INTEGER PRIMARY KEY, member_id INTEGER NOT NULL, submitter TEXT NOT NULL,"
    "  name TEXT NOT NULL, kind TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL,"
    "  received_us INTEGER NOT NULL, report TEXT NOT NULL, candidates TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS samples_member ON samples(member_id, id);";

int cw_store_iocs_schema(struct cw_store *s, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(s->w, iocs_schema, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "cannot create the indicator tables: %s", msg ? msg : "?");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ names */

static const char *const state_names[] = {"candidate", "published", "revoked", "expired"};

const char *cw_ioc_state_name(enum cw_ioc_state s)
{
    return (unsigned)s < 4 ? state_names[s] : "?";
}

int cw_ioc_state_from_name(const char *s)
{
    for (int i = 0; s && i < 4; i++)
        if (strcmp(s, state_names[i]) == 0)
            return i;
    return -1;
}

const char *cw_ioc_source_name(enum cw_ioc_source s)
{
    switch (s) {
    case CW_IOC_SRC_SAMPLE: return "sample";
    case CW_IOC_SRC_ANALYST: return "analyst";
    case CW_IOC_SRC_FEED: return "feed";
    }
    return "analyst";
}

static enum cw_ioc_source source_from_name(const char *s)
{
    if (s && strcmp(s, "sample") == 0)
        return CW_IOC_SRC_SAMPLE;
    if (s && strcmp(s, "feed") == 0)
        return CW_IOC_SRC_FEED;
    return CW_IOC_SRC_ANALYST;
}

bool cw_ioc_feed_eligible(const struct cw_ioc_row *r)
{
    if (r->state != CW_IOC_PUBLISHED || r->tlp > CW_TLP_AMBER || r->naudience)
        return false;
    switch (r->type) {
    case CW_IOC_DOMAIN:
    case CW_IOC_HOSTNAME:
    case CW_IOC_IPV4:
    case CW_IOC_IPV6:
    case CW_IOC_CIDR: return true;
    default: return false;
    }
}

bool cw_ioc_visible(const struct cw_ioc_row *r, uint32_t m)
{
    return m == 0 || (r->state == CW_IOC_PUBLISHED && cw_ioc_cleared(r, m));
}

bool cw_ioc_cleared(const struct cw_ioc_row *r, uint32_t m)
{
    if (m == 0)
        return true;
    if (r->tlp == CW_TLP_RED)
        return r->source_member == m;
    if (!r->naudience)
        return true;
    for (size_t i = 0; i < r->naudience; i++)
        if (r->audience[i] == m)
            return true;
    return r->source_member == m;
}

/* The same rule in SQL, for listings (?1 = member). */
#define VISIBLE_SQL                                                                      \
    " state = 'published' AND (CASE WHEN tlp = 4 THEN source_member = ?1 ELSE"          \
    " (audience = '' OR instr(audience, ',' || ?1 || ',') > 0 OR source_member = ?1) END)"

/* ------------------------------------------------------------------ rows */

#define ROW_COLS                                                                           \
    "id, type, value, state, tlp, audience, confidence, source, source_member,"           \
    " source_name, description, first_seen_us, last_seen_us, valid_until_us,"            \
    " published_us, created_us, sightings, sample_id, created_by, updated_us, stix_gen"

static void copy_col(char *dst, size_t cap, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

static void audience_decode(const char *s, struct cw_ioc_row *r)
{
    r->naudience = 0;
    while (s && *s && r->naudience < CW_IOC_AUDIENCE_MAX) {
        while (*s == ',')
            s++;
        if (!*s)
            break;
        r->audience[r->naudience++] = (uint32_t)strtoul(s, (char **)&s, 10);
    }
}

static void audience_encode(const struct cw_ioc_row *r, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < r->naudience && n + 12 < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s%u,", i ? "" : ",", r->audience[i]);
}

static void read_row(sqlite3_stmt *st, struct cw_ioc_row *r)
{
    memset(r, 0, sizeof(*r));
    r->id = sqlite3_column_int64(st, 0);
    r->type = cw_ioc_type_from_name((const char *)sqlite3_column_text(st, 1));
    copy_col(r->value, sizeof(r->value), st, 2);
    int stt = cw_ioc_state_from_name((const char *)sqlite3_column_text(st, 3));
    r->state = stt < 0 ? CW_IOC_CANDIDATE : (enum cw_ioc_state)stt;
    r->tlp = (enum cw_tlp)sqlite3_column_int(st, 4);
    audience_decode((const char *)sqlite3_column_text(st, 5), r);
    r->confidence = sqlite3_column_int(st, 6);
    r->source = source_from_name((const char *)sqlite3_column_text(st, 7));
    r->source_member = (uint32_t)sqlite3_column_int64(st, 8);
    copy_col(r->source_name, sizeof(r->source_name), st, 9);
    copy_col(r->description, sizeof(r->description), st, 10);
    r->first_seen_us = sqlite3_column_int64(st, 11);
    r->last_seen_us = sqlite3_column_int64(st, 12);
    r->valid_until_us = sqlite3_column_int64(st, 13);
    r->published_us = sqlite3_column_int64(st, 14);
    r->created_us = sqlite3_column_int64(st, 15);
    r->sightings = sqlite3_column_int64(st, 16);
    r->sample_id = sqlite3_column_int64(st, 17);
    copy_col(r->created_by, sizeof(r->created_by), st, 18);
    r->updated_us = sqlite3_column_int64(st, 19);
    r->stix_gen = sqlite3_column_int64(st, 20);
}

static int get_row(sqlite3 *db, int64_t id, struct cw_ioc_row *out)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db, "SELECT " ROW_COLS " FROM indicators WHERE id = ?", -1, &st,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        int r = sqlite3_step(st);
        if (r == SQLITE_ROW) {
            read_row(st, out);
            rc = 0;
        } else if (r == SQLITE_DONE) {
            rc = CW_STORE_NOT_FOUND;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

int cw_store_ioc_get(struct cw_store *s, int64_t id, struct cw_ioc_row *out)
{
    sqlite3 *rd = cw_store_reader(s);
    int rc = get_row(rd, id, out);
    cw_store_reader_done(s, rd);
    return rc;
}

static int exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static void bind_opt(sqlite3_stmt *st, int k, int64_t v)
{
    if (v)
        sqlite3_bind_int64(st, k, v);
    else
        sqlite3_bind_null(st, k);
}

static int64_t min_nz(int64_t a, int64_t b) { return !a ? b : !b ? a : a < b ? a : b; }
static int64_t max_i(int64_t a, int64_t b) { return a > b ? a : b; }

/* Merge `in` into the existing row `r` (see the header for the rules). */
static void merge(struct cw_ioc_row *r, const struct cw_ioc_row *in)
{
    if (in->confidence > r->confidence)
        r->confidence = in->confidence;
    r->first_seen_us = min_nz(r->first_seen_us, in->first_seen_us);
    r->last_seen_us = max_i(r->last_seen_us, in->last_seen_us);
    /* no expiry (0) is the longest validity */
    r->valid_until_us = !r->valid_until_us || !in->valid_until_us
                            ? 0 : max_i(r->valid_until_us, in->valid_until_us);
    if (in->tlp > r->tlp)
        r->tlp = in->tlp;
    if (!r->description[0])
        snprintf(r->description, sizeof(r->description), "%s", in->description);
    if (r->state == CW_IOC_EXPIRED)
        r->state = CW_IOC_CANDIDATE; /* seen again after expiry: up for review */
}

static int write_row(sqlite3 *db, const struct cw_ioc_row *r, bool insert, int64_t now)
{
    sqlite3_stmt *st = NULL;
    const char *sql =
        insert ? "INSERT INTO indicators(type, value, state, tlp, audience, confidence, source,"
                 " source_member, source_name, description, first_seen_us, last_seen_us,"
                 " valid_until_us, sample_id, created_by, created_us, updated_us)"
                 " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?16)"
               : "UPDATE indicators SET state=?3, tlp=?4, audience=?5, confidence=?6,"
                 " description=?10, first_seen_us=?11, last_seen_us=?12, valid_until_us=?13,"
                 " updated_us=?16 WHERE id=?17";
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    char aud[CW_IOC_AUDIENCE_MAX * 12 + 2];
    audience_encode(r, aud, sizeof(aud));
    if (insert) {
        sqlite3_bind_text(st, 1, cw_ioc_type_name(r->type), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, r->value, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, cw_ioc_source_name(r->source), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 8, r->source_member);
        sqlite3_bind_text(st, 9, r->source_name, -1, SQLITE_STATIC);
        bind_opt(st, 14, r->sample_id);
        sqlite3_bind_text(st, 15, r->created_by, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_int64(st, 17, r->id);
    }
    sqlite3_bind_text(st, 3, cw_ioc_state_name(r->state), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, (int)r->tlp);
    sqlite3_bind_text(st, 5, aud, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 6, r->confidence);
    sqlite3_bind_text(st, 10, r->description, -1, SQLITE_STATIC);
    bind_opt(st, 11, r->first_seen_us);
    bind_opt(st, 12, r->last_seen_us);
    bind_opt(st, 13, r->valid_until_us);
    sqlite3_bind_int64(st, 16, now);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

static int find_id(sqlite3 *db, enum cw_ioc_type t, const char *value, int64_t *id)
{
    sqlite3_stmt *st = NULL;
    *id = 0;
    if (sqlite3_prepare_v2(db, "SELECT id FROM indicators WHERE type = ? AND value = ?", -1,
                           &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, cw_ioc_type_name(t), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return r == SQLITE_ROW || r == SQLITE_DONE ? 0 : -1;
}

int cw_store_ioc_upsert(struct cw_store *s, const struct cw_ioc_row *in, int64_t *id,
                        bool *created, struct cw_ioc_row *after, char *err, size_t errlen)
{
    if (!cw_ioc_type_name(in->type) || (unsigned)in->tlp >= CW_TLP__COUNT ||
        in->confidence < 0 || in->confidence > 100) {
        snprintf(err, errlen, "invalid indicator type, TLP or confidence");
        return CW_STORE_INVALID;
    }
    struct cw_ioc_row *cur = malloc(2 * sizeof(*cur)), *was;
    if (!cur) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    was = cur + 1;
    int64_t now = cw_now_us();
    int rc = -1;
    pthread_mutex_lock(&s->wlock);
    if (exec(s->w, "BEGIN IMMEDIATE") || find_id(s->w, in->type, in->value, id))
        goto fail;
    *created = *id == 0;
    if (*created) {
        if (write_row(s->w, in, true, now))
            goto fail;
        *id = sqlite3_last_insert_rowid(s->w);
    } else {
        if (get_row(s->w, *id, cur))
            goto fail;
        memcpy(was, cur, sizeof(*cur));
        merge(cur, in);
        /* a merge that changes nothing keeps updated_us: it is the version TAXII serves */
        if (memcmp(was, cur, sizeof(*cur)) != 0 && write_row(s->w, cur, false, now))
            goto fail;
    }
    if (exec(s->w, "COMMIT"))
        goto fail;
    rc = 0;
    goto out;
fail:
    snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(s->w));
    exec(s->w, "ROLLBACK");
out:
    pthread_mutex_unlock(&s->wlock);
    free(cur);
    if (rc == 0 && after && cw_store_ioc_get(s, *id, after))
        rc = -1;
    return rc;
}

/* ------------------------------------------------------------------ feed rules */

void cw_ioc_feed_rule_json(const struct cw_ioc_row *r, const char *op, struct cw_buf *out)
{
    bool ip = r->type == CW_IOC_IPV4 || r->type == CW_IOC_IPV6 || r->type == CW_IOC_CIDR;
    cw_buf_addf(out, "{\"op\":\"%s\",\"trigger\":\"%s\",\"name\":", op, ip ? "ip" : "qname");
    cw_buf_add_json_str(out, r->value, strlen(r->value));
    if (!ip)
        cw_buf_addf(out, ",\"wildcard\":%s", r->type == CW_IOC_DOMAIN ? "true" : "false");
    cw_buf_addf(out, ",\"action\":\"nxdomain\",\"indicator\":\"ioc:%lld\"}", (long long)r->id);
}

static int log_change(sqlite3 *db, const struct cw_ioc_row *r, const char *op, int64_t now)
{
    struct cw_buf rule = CW_BUF_INIT;
    cw_ioc_feed_rule_json(r, op, &rule);
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (cw_buf_ok(&rule) &&
        sqlite3_prepare_v2(db,
                           "INSERT INTO ioc_changes(at_us, indicator_id, op, rule)"
                           " VALUES(?,?,?,?)",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, now);
        sqlite3_bind_int64(st, 2, r->id);
        sqlite3_bind_text(st, 3, op, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, rule.data, (int)rule.len, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(st);
    cw_buf_release(&rule);
    return rc;
}

static const char *transition_refused(enum cw_ioc_state from, enum cw_ioc_state to)
{
    if (from == to)
        return "the indicator already is in that state";
    if (to == CW_IOC_CANDIDATE)
        return "an indicator cannot go back to candidate";
    if (to == CW_IOC_EXPIRED && from != CW_IOC_PUBLISHED)
        return "only a published indicator can expire";
    return NULL;
}

/* Copy the indicator's row as it is (revoked) into ioc_retired; inside set_state's
 * transaction. */
static int retire(sqlite3 *db, int64_t id)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "INSERT INTO ioc_retired(" ROW_COLS ") SELECT " ROW_COLS
                               " FROM indicators WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

int cw_store_ioc_set_state(struct cw_store *s, int64_t id, enum cw_ioc_state to,
                           const char *actor, struct cw_ioc_row *after, char *err,
                           size_t errlen)
{
    struct cw_ioc_row *r = malloc(sizeof(*r));
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    (void)actor;
    int64_t now = cw_now_us();
    int rc = -1;
    pthread_mutex_lock(&s->wlock);
    if (exec(s->w, "BEGIN IMMEDIATE"))
        goto fail;
    int g = get_row(s->w, id, r);
    if (g == CW_STORE_NOT_FOUND) {
        rc = CW_STORE_NOT_FOUND;
        snprintf(err, errlen, "no such indicator");
        goto rollback;
    }
    if (g)
        goto fail;
    const char *why = transition_refused(r->state, to);
    if (why) {
        rc = CW_STORE_BAD_TRANSITION;
        snprintf(err, errlen, "%s (%s)", why, cw_ioc_state_name(r->state));
        goto rollback;
    }
    bool was = cw_ioc_feed_eligible(r);
    /* a revoked STIX object stays revoked (STIX 2.1 3.6): publishing a shared one again
     * keeps its revoked generation as it is and starts the next (store_iocs.h) */
    bool regen = r->state == CW_IOC_REVOKED && to == CW_IOC_PUBLISHED && r->published_us;
    if (regen && retire(s->w, id))
        goto fail;
    r->state = to;
    bool is = cw_ioc_feed_eligible(r);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->w,
                           "UPDATE indicators SET state = ?, updated_us = ?,"
                           " published_us = CASE WHEN ? THEN ? ELSE published_us END,"
                           " stix_gen = stix_gen + ?6 WHERE id = ?5",
                           -1, &st, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_int(st, 6, regen);
    sqlite3_bind_text(st, 1, cw_ioc_state_name(to), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int(st, 3, to == CW_IOC_PUBLISHED);
    sqlite3_bind_int64(st, 4, now);
    sqlite3_bind_int64(st, 5, id);
    int ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    if (!ok || (was != is && log_change(s->w, r, is ? "add" : "del", now)) ||
        exec(s->w, "COMMIT"))
        goto fail;
    rc = 0;
    goto out;
fail:
    snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(s->w));
rollback:
    exec(s->w, "ROLLBACK");
out:
    pthread_mutex_unlock(&s->wlock);
    free(r);
    if (rc == 0 && after && cw_store_ioc_get(s, id, after))
        rc = -1;
    return rc;
}

/* Every row sql selects (ROW_COLS, first parameter bound to state when state is not
 * NULL) to cb, one row buffer for all; retired rows read as revoked. */
static int rows_foreach(struct cw_store *s, const char *sql, const char *state, bool retired,
                        cw_ioc_row_cb cb, void *ctx, char *err, size_t errlen)
{
    struct cw_ioc_row *r = malloc(sizeof(*r));
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = 0;
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    if (cw_store_prep(rd, &st, sql, err, errlen)) {
        rc = -1;
    } else {
        if (state)
            sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
        while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
            read_row(st, r);
            if (retired)
                r->state = CW_IOC_REVOKED; /* a retired generation is revoked for good */
            rc = cb(ctx, r);
        }
    }
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    free(r);
    return rc;
}

int cw_store_iocs_foreach(struct cw_store *s, int state, cw_ioc_row_cb cb, void *ctx,
                          char *err, size_t errlen)
{
    if (state < 0)
        return rows_foreach(s, "SELECT " ROW_COLS " FROM indicators ORDER BY id", NULL, false,
                            cb, ctx, err, errlen);
    return rows_foreach(s, "SELECT " ROW_COLS " FROM indicators WHERE state = ? ORDER BY id",
                        cw_ioc_state_name((enum cw_ioc_state)state), false, cb, ctx, err,
                        errlen);
}

int cw_store_iocs_retired_foreach(struct cw_store *s, cw_ioc_row_cb cb, void *ctx, char *err,
                                  size_t errlen)
{
    return rows_foreach(s, "SELECT " ROW_COLS " FROM ioc_retired ORDER BY id, stix_gen", NULL,
                        true, cb, ctx, err, errlen);
}

/* ------------------------------------------------------------------ JSON */

static void add_time(struct cw_buf *o, const char *key, int64_t us)
{
    cw_buf_addf(o, ",\"%s\":", key);
    if (!us) {
        cw_buf_adds(o, "null");
        return;
    }
    char t[64];
    size_t n = cw_time_format_iso(us, t);
    cw_buf_add_json_str(o, t, n);
}

static void add_str(struct cw_buf *o, const char *key, const char *v)
{
    cw_buf_addf(o, ",\"%s\":", key);
    cw_buf_add_json_str(o, v, strlen(v));
}

void cw_ioc_row_json(const struct cw_ioc_row *r, uint32_t scope, struct cw_buf *o)
{
    /* a member other than the submitter never learns who submitted it */
    bool own = scope == 0 || (r->source_member && r->source_member == scope);
    cw_buf_addf(o, "{\"id\":%lld", (long long)r->id);
    add_str(o, "type", cw_ioc_type_name(r->type));
    add_str(o, "value", r->value);
    add_str(o, "state", cw_ioc_state_name(r->state));
    add_str(o, "tlp", cw_tlp_name(r->tlp));
    cw_buf_adds(o, ",\"audience\":");
    if (!r->naudience) {
        cw_buf_adds(o, "\"all\"");
    } else if (scope == 0) {
        cw_buf_addc(o, '[');
        for (size_t i = 0; i < r->naudience; i++)
            cw_buf_addf(o, "%s%u", i ? "," : "", r->audience[i]);
        cw_buf_addc(o, ']');
    } else {
        cw_buf_adds(o, "\"restricted\"");
    }
    cw_buf_addf(o, ",\"confidence\":%d", r->confidence);
    add_str(o, "source", cw_ioc_source_name(r->source));
    if (own) {
        cw_buf_addf(o, ",\"source_member\":%u", r->source_member);
        add_str(o, "source_name", r->source_name);
        add_str(o, "created_by", r->created_by);
        if (r->sample_id)
            cw_buf_addf(o, ",\"sample\":%lld", (long long)r->sample_id);
    }
    add_str(o, "description", r->description);
    add_time(o, "first_seen", r->first_seen_us);
    add_time(o, "last_seen", r->last_seen_us);
    add_time(o, "valid_until", r->valid_until_us);
    add_time(o, "published_at", r->published_us);
    add_time(o, "created", r->created_us);
    cw_buf_addf(o, ",\"sightings\":%lld,\"feed\":%s}", (long long)r->sightings,
                cw_ioc_feed_eligible(r) ? "true" : "false");
}

int cw_store_iocs_json(struct cw_store *s, const struct cw_ioc_filter *f, struct cw_buf *out,
                       char *err, size_t errlen)
{
    char sql[1024];
    int limit = f->limit > 0 && f->limit <= 1000 ? f->limit : 100;
    snprintf(sql, sizeof(sql),
             "SELECT " ROW_COLS " FROM indicators WHERE id > ?2 %s %s %s %s %s"
             " ORDER BY id LIMIT ?7",
             f->scope ? "AND" VISIBLE_SQL : "AND ?1 = 0",
             f->type ? "AND type = ?3" : "", f->state >= 0 ? "AND state = ?4" : "",
             f->q ? "AND instr(value, ?5) > 0" : "", f->since_us ? "AND updated_us >= ?6" : "");
    struct cw_ioc_row *r = malloc(sizeof(*r));
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = 0, n = 0;
    int64_t last = 0;
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    if (cw_store_prep(rd, &st, sql, err, errlen)) {
        rc = -1;
    } else {
        sqlite3_bind_int64(st, 1, f->scope);
        sqlite3_bind_int64(st, 2, f->after_id);
        if (f->type)
            sqlite3_bind_text(st, 3, cw_ioc_type_name((enum cw_ioc_type)f->type), -1,
                              SQLITE_STATIC);
        if (f->state >= 0)
            sqlite3_bind_text(st, 4, cw_ioc_state_name((enum cw_ioc_state)f->state), -1,
                              SQLITE_STATIC);
        if (f->q)
            sqlite3_bind_text(st, 5, f->q, -1, SQLITE_STATIC);
        if (f->since_us)
            sqlite3_bind_int64(st, 6, f->since_us);
        sqlite3_bind_int(st, 7, limit);
        cw_buf_adds(out, "{\"indicators\":[");
        while (sqlite3_step(st) == SQLITE_ROW) {
            read_row(st, r);
            if (n++)
                cw_buf_addc(out, ',');
            cw_ioc_row_json(r, f->scope, out);
            last = r->id;
        }
        if (n == limit)
            cw_buf_addf(out, "],\"next_after\":%lld}\n", (long long)last);
        else
            cw_buf_adds(out, "],\"next_after\":null}\n");
    }
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    free(r);
    return rc;
}

static void sightings_json(sqlite3 *db, int64_t id, uint32_t scope, struct cw_buf *o)
{
    sqlite3_stmt *st = NULL;
    cw_buf_adds(o, ",\"recent_sightings\":[");
    if (sqlite3_prepare_v2(db,
                           "SELECT member_id, at_us, ts_us, kind, batch_id, field FROM"
                           " ioc_sightings WHERE indicator_id = ?1 AND (?2 = 0 OR member_id = ?2)"
                           " ORDER BY id DESC LIMIT 50",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, scope);
        for (int n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
            cw_buf_addf(o, "%s{\"member\":%lld", n ? "," : "",
                        (long long)sqlite3_column_int64(st, 0));
            add_time(o, "at", sqlite3_column_int64(st, 1));
            add_time(o, "record_time", sqlite3_column_int64(st, 2));
            const char *k = (const char *)sqlite3_column_text(st, 3);
            add_str(o, "kind", k ? k : "");
            cw_buf_addf(o, ",\"batch\":%lld", (long long)sqlite3_column_int64(st, 4));
            const char *f = (const char *)sqlite3_column_text(st, 5);
            add_str(o, "field", f ? f : "");
            cw_buf_addc(o, '}');
        }
    }
    sqlite3_finalize(st);
    cw_buf_adds(o, "],\"events\":[");
    if (sqlite3_prepare_v2(db,
                           "SELECT event_id FROM ioc_events WHERE indicator_id = ?1"
                           " AND (?2 = 0 OR member_id = ?2) ORDER BY event_id LIMIT 200",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, scope);
        for (int n = 0; sqlite3_step(st) == SQLITE_ROW; n++)
            cw_buf_addf(o, "%s%lld", n ? "," : "", (long long)sqlite3_column_int64(st, 0));
    }
    sqlite3_finalize(st);
    cw_buf_addc(o, ']');
}

static void retro_json(sqlite3 *db, int64_t id, struct cw_buf *o)
{
    sqlite3_stmt *st = NULL;
    cw_buf_adds(o, ",\"retro_hunt\":");
    if (sqlite3_prepare_v2(db,
                           "SELECT retro_state, retro_hits, retro_batches, retro_read, retro_ms"
                           " FROM indicators WHERE id = ?",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
            const char *state = (const char *)sqlite3_column_text(st, 0);
            cw_buf_adds(o, "{\"state\":");
            cw_buf_add_json_str(o, state, strlen(state));
            cw_buf_addf(o, ",\"hits\":%lld,\"batches_scanned\":%lld,\"batches_read\":%lld,"
                           "\"ms\":%lld}",
                        (long long)sqlite3_column_int64(st, 1),
                        (long long)sqlite3_column_int64(st, 2),
                        (long long)sqlite3_column_int64(st, 3),
                        (long long)sqlite3_column_int64(st, 4));
            sqlite3_finalize(st);
            return;
        }
    }
    sqlite3_finalize(st);
    cw_buf_adds(o, "null");
}

int cw_store_ioc_json(struct cw_store *s, int64_t id, uint32_t scope, struct cw_buf *out,
                      char *err, size_t errlen)
{
    struct cw_ioc_row *r = malloc(sizeof(*r));
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    sqlite3 *rd = cw_store_reader(s);
    int rc = get_row(rd, id, r);
    if (rc == 0 && !cw_ioc_visible(r, scope))
        rc = CW_STORE_NOT_FOUND;
    if (rc == 0) {
        cw_ioc_row_json(r, scope, out);
        out->len--; /* reopen the object */
        sightings_json(rd, id, scope, out);
        if (scope == 0)
            retro_json(rd, id, out);
        cw_buf_adds(out, "}\n");
    } else if (rc == CW_STORE_NOT_FOUND) {
        snprintf(err, errlen, "no such indicator");
    } else {
        snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(rd));
    }
    cw_store_reader_done(s, rd);
    free(r);
    return rc;
}

/* ------------------------------------------------------------------ change log */

int64_t cw_store_ioc_serial(struct cw_store *s)
{
    int64_t serial = 0;
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(rd, "SELECT COALESCE(MAX(serial), 0) FROM ioc_changes", -1, &st,
                           NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        serial = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return serial;
}

int cw_store_ioc_changes_json(struct cw_store *s, int64_t since, struct cw_buf *out,
                              int64_t *serial, char *err, size_t errlen)
{
    int rc = 0;
    *serial = since;
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    if (cw_store_prep(rd, &st,
                      "SELECT serial, rule FROM ioc_changes WHERE serial > ? ORDER BY serial"
                      " LIMIT 100000",
                      err, errlen)) {
        rc = -1;
    } else {
        sqlite3_bind_int64(st, 1, since);
        for (int n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
            if (n)
                cw_buf_addc(out, ',');
            *serial = sqlite3_column_int64(st, 0);
            cw_buf_adds(out, (const char *)sqlite3_column_text(st, 1));
        }
    }
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return rc;
}

struct policy_ctx {
    struct cw_buf *out;
    int n;
};

static int policy_row(void *ctx, const struct cw_ioc_row *r)
{
    struct policy_ctx *p = ctx;
    if (!cw_ioc_feed_eligible(r))
        return 0;
    if (p->n++)
        cw_buf_addc(p->out, ',');
    cw_ioc_feed_rule_json(r, "add", p->out);
    return 0;
}

int cw_store_ioc_policy_json(struct cw_store *s, struct cw_buf *out, int64_t *serial, char *err,
                             size_t errlen)
{
    /* the serial first: a change committed while we read is then sent again as a
     * delta on the next poll, never lost */
    *serial = cw_store_ioc_serial(s);
    struct policy_ctx p = {out, 0};
    return cw_store_iocs_foreach(s, CW_IOC_PUBLISHED, policy_row, &p, err, errlen);
}

/* ------------------------------------------------------------------ digests, sightings */

static int write_digest(sqlite3 *db, int64_t batch_id, const struct cw_ingest_batch *in,
                        const struct cw_obs_digest *dg)
{
    int64_t last = 0;
    for (uint32_t i = 0; i < in->batch->n; i++)
        if (in->batch->recs[i].ts_us > last)
            last = in->batch->recs[i].ts_us;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO batch_digests(batch_id, member_id, sensor_id, last_ts_us,"
                           " nkeys, keys) VALUES(?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, batch_id);
    sqlite3_bind_int64(st, 2, in->member_id);
    sqlite3_bind_int64(st, 3, in->sensor_id);
    sqlite3_bind_int64(st, 4, last);
    sqlite3_bind_int64(st, 5, (int64_t)dg->n);
    sqlite3_bind_blob(st, 6, dg->keys, (int)(dg->n * sizeof(uint32_t)), SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

/* A sighting (and event link) per "ioc:<id>" detection of a triage result. */
static int write_sightings(sqlite3 *db, int64_t batch_id, const struct cw_batch *b,
                           const struct cw_triage_result *tr, const char *kind, int64_t now)
{
    sqlite3_stmt *si = NULL, *ev = NULL, *up = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO ioc_sightings(indicator_id, member_id, at_us, ts_us, kind,"
                           " batch_id, field) VALUES(?,?,?,?,?,?,?)",
                           -1, &si, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT OR IGNORE INTO ioc_events(indicator_id, event_id, member_id)"
                           " VALUES(?,?,?)",
                           -1, &ev, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "UPDATE indicators SET sightings = sightings + 1,"
                           " last_seen_us = MAX(COALESCE(last_seen_us, 0), ?) WHERE id = ?",
                           -1, &up, NULL) != SQLITE_OK)
        goto out;
    for (uint32_t i = 0; i < tr->ds.n; i++) {
        const struct cw_detection *d = &tr->ds.d[i];
        if (d->source != CW_DET_IOC || strncmp(d->rule_id, "ioc:", 4) != 0)
            continue;
        int64_t id = strtoll(d->rule_id + 4, NULL, 10);
        const struct cw_record *r = &b->recs[d->rec];
        sqlite3_bind_int64(si, 1, id);
        sqlite3_bind_int64(si, 2, r->member_id);
        sqlite3_bind_int64(si, 3, now);
        sqlite3_bind_int64(si, 4, r->ts_us);
        sqlite3_bind_text(si, 5, kind, -1, SQLITE_STATIC);
        sqlite3_bind_int64(si, 6, batch_id);
        if (d->rule_name) /* "<type> <value> in <field>" */
            sqlite3_bind_text(si, 7, d->rule_name, d->rule_name_len, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(si, 7);
        if (sqlite3_step(si) != SQLITE_DONE)
            goto out;
        sqlite3_reset(si);
        sqlite3_bind_int64(up, 1, r->ts_us);
        sqlite3_bind_int64(up, 2, id);
        if (sqlite3_step(up) != SQLITE_DONE)
            goto out;
        sqlite3_reset(up);
        if (tr->event_of && tr->event_of[i]) {
            sqlite3_bind_int64(ev, 1, id);
            sqlite3_bind_int64(ev, 2, tr->event_of[i]);
            sqlite3_bind_int64(ev, 3, r->member_id);
            if (sqlite3_step(ev) != SQLITE_DONE)
                goto out;
            sqlite3_reset(ev);
        }
    }
    rc = 0;
out:
    sqlite3_finalize(si);
    sqlite3_finalize(ev);
    sqlite3_finalize(up);
    return rc;
}

int cw_store_iocs_batch_write(struct cw_store *s, int64_t batch_id,
                              const struct cw_ingest_batch *in, const struct cw_obs_digest *dg,
                              char *err, size_t errlen)
{
    if ((dg && dg->n && write_digest(s->w, batch_id, in, dg)) ||
        (in->triage &&
         write_sightings(s->w, batch_id, in->batch, in->triage, "live", in->received_us))) {
        snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(s->w));
        return -1;
    }
    return 0;
}

int cw_store_digests_foreach(struct cw_store *s, int64_t since_us, int64_t after_batch,
                             cw_digest_cb cb, void *ctx, char *err, size_t errlen)
{
    /* pages of rows so the read lock is never held for the whole scan */
    int64_t after = after_batch;
    int rc = 0;
    uint32_t *keys = NULL;
    size_t cap = 0;
    for (;;) {
        int got = 0;
        sqlite3 *rd = cw_store_reader(s);
        sqlite3_stmt *st = NULL;
        if (cw_store_prep(rd, &st,
                          "SELECT d.batch_id, d.member_id, d.sensor_id, d.keys FROM batch_digests d"
                          " WHERE d.batch_id > ? AND d.last_ts_us >= ? ORDER BY d.batch_id"
                          " LIMIT 512",
                          err, errlen)) {
            cw_store_reader_done(s, rd);
            rc = -1;
            break;
        }
        sqlite3_bind_int64(st, 1, after);
        sqlite3_bind_int64(st, 2, since_us);
        while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
            got++;
            struct cw_digest_row d = {sqlite3_column_int64(st, 0),
                                      (uint32_t)sqlite3_column_int64(st, 1),
                                      (uint32_t)sqlite3_column_int64(st, 2), NULL, 0};
            after = d.batch_id;
            size_t bytes = (size_t)sqlite3_column_bytes(st, 3);
            d.n = bytes / sizeof(uint32_t);
            const void *blob = sqlite3_column_blob(st, 3);
            if (((uintptr_t)blob & 3) == 0) {
                d.keys = blob;
            } else { /* SQLite gives no alignment promise */
                if (d.n > cap) {
                    uint32_t *nk = realloc(keys, d.n * sizeof(*nk));
                    if (!nk) {
                        rc = -1;
                        break;
                    }
                    keys = nk;
                    cap = d.n;
                }
                memcpy(keys, blob, d.n * sizeof(uint32_t));
                d.keys = keys;
            }
            rc = cb(ctx, &d);
        }
        sqlite3_finalize(st);
        cw_store_reader_done(s, rd);
        if (rc || got < 512)
            break;
    }
    free(keys);
    return rc;
}

int cw_store_batch_segment(struct cw_store *s, int64_t batch_id, char **out, size_t *len,
                           char *err, size_t errlen)
{
    char *blob = NULL;
    size_t bn = 0;
    int64_t raw = 0;
    int rc = CW_STORE_NOT_FOUND;
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(rd, "SELECT segment, raw_bytes FROM batches WHERE id = ?"
                           " AND segment IS NOT NULL", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, batch_id);
        if (sqlite3_step(st) == SQLITE_ROW) {
            bn = (size_t)sqlite3_column_bytes(st, 0);
            raw = sqlite3_column_int64(st, 1);
            blob = malloc(bn ? bn : 1);
            if (blob) {
                memcpy(blob, sqlite3_column_blob(st, 0), bn);
                rc = 0;
            } else {
                rc = -1;
            }
        }
    }
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    if (rc) {
        snprintf(err, errlen, rc == CW_STORE_NOT_FOUND ? "records of batch %lld are gone"
                                                       : "out of memory", (long long)batch_id);
        return rc;
    }
    int d = cw_decompress(CW_ENC_ZSTD, blob, bn, (size_t)raw + 1, out, len);
    free(blob);
    if (d != CW_CODEC_OK) {
        snprintf(err, errlen, "segment of batch %lld unreadable: %s", (long long)batch_id,
                 cw_codec_strerror(d));
        return -1;
    }
    return 0;
}

int cw_store_iocs_retro_write(struct cw_store *s, int64_t batch_id, const struct cw_batch *b,
                              struct cw_triage_result *tr, int (*aggregate)(void *ctx),
                              void *actx, char *err, size_t errlen)
{
    int rc = -1;
    pthread_mutex_lock(&s->wlock);
    if (exec(s->w, "BEGIN IMMEDIATE")) {
        snprintf(err, errlen, "storage busy: %s", sqlite3_errmsg(s->w));
        goto unlock;
    }
    if (aggregate && aggregate(actx)) {
        snprintf(err, errlen, "out of memory aggregating events");
        goto rollback;
    }
    if (cw_store_triage_write(s, batch_id, b, tr, err, errlen))
        goto rollback;
    if (write_sightings(s->w, batch_id, b, tr, "retro", cw_now_us()) || exec(s->w, "COMMIT")) {
        snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(s->w));
        goto rollback;
    }
    rc = 0;
    goto unlock;
rollback:
    exec(s->w, "ROLLBACK");
unlock:
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

int cw_store_ioc_retro_set(struct cw_store *s, int64_t id, const char *state, int64_t hits,
                           int64_t batches, int64_t batches_read, int64_t ms)
{
    int rc = -1;
    pthread_mutex_lock(&s->wlock);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->w,
                           "UPDATE indicators SET retro_state = ?, retro_hits = ?,"
                           " retro_batches = ?, retro_read = ?, retro_ms = ? WHERE id = ?",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, hits);
        sqlite3_bind_int64(st, 3, batches);
        sqlite3_bind_int64(st, 4, batches_read);
        sqlite3_bind_int64(st, 5, ms);
        sqlite3_bind_int64(st, 6, id);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

/* ------------------------------------------------------------------ samples */

int cw_store_sample_add(struct cw_store *s, const struct cw_sample_new *n, int64_t *id,
                        char *err, size_t errlen)
{
    int rc = -1;
    pthread_mutex_lock(&s->wlock);
    sqlite3_stmt *st = NULL;
    if (cw_store_prep(s->w, &st,
                      "INSERT INTO samples(member_id, submitter, name, kind, size, sha256,"
                      " received_us, report, candidates) VALUES(?,?,?,?,?,?,?,?,?)",
                      err, errlen) == 0) {
        sqlite3_bind_int64(st, 1, n->member_id);
        sqlite3_bind_text(st, 2, n->submitter, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, n->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, n->kind, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, (int64_t)n->size);
        sqlite3_bind_text(st, 6, n->sha256, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, cw_now_us());
        sqlite3_bind_text(st, 8, n->report_json, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 9, n->candidates_json ? n->candidates_json : "[]", -1,
                          SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_DONE) {
            *id = sqlite3_last_insert_rowid(s->w);
            rc = 0;
        } else {
            snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(s->w));
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

int cw_store_sample_set_candidates(struct cw_store *s, int64_t id, const char *json, char *err,
                                   size_t errlen)
{
    int rc = -1;
    pthread_mutex_lock(&s->wlock);
    sqlite3_stmt *st = NULL;
    if (cw_store_prep(s->w, &st, "UPDATE samples SET candidates = ? WHERE id = ?", err,
                      errlen) == 0) {
        sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, id);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
        if (rc)
            snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(s->w));
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

static void sample_row_json(sqlite3_stmt *st, bool full, struct cw_buf *o)
{
    cw_buf_addf(o, "{\"id\":%lld,\"member\":%lld", (long long)sqlite3_column_int64(st, 0),
                (long long)sqlite3_column_int64(st, 1));
    static const char *const keys[] = {"submitter", "name", "kind", NULL};
    for (int i = 0; keys[i]; i++) {
        const char *v = (const char *)sqlite3_column_text(st, 2 + i);
        add_str(o, keys[i], v ? v : "");
    }
    cw_buf_addf(o, ",\"size\":%lld", (long long)sqlite3_column_int64(st, 5));
    const char *h = (const char *)sqlite3_column_text(st, 6);
    add_str(o, "sha256", h ? h : "");
    add_time(o, "received", sqlite3_column_int64(st, 7));
    if (full) {
        const char *rep = (const char *)sqlite3_column_text(st, 8);
        const char *cand = (const char *)sqlite3_column_text(st, 9);
        cw_buf_addf(o, ",\"report\":%s,\"candidates\":%s", rep && *rep ? rep : "null",
                    cand && *cand ? cand : "[]");
    }
    cw_buf_addc(o, '}');
}

#define SAMPLE_COLS \
    "id, member_id, submitter, name, kind, size, sha256, received_us, report, candidates"

int cw_store_samples_json(struct cw_store *s, uint32_t scope, struct cw_buf *out, char *err,
                          size_t errlen)
{
    int rc = 0;
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    if (cw_store_prep(rd, &st,
                      "SELECT " SAMPLE_COLS " FROM samples WHERE ?1 = 0 OR member_id = ?1"
                      " ORDER BY id DESC LIMIT 500",
                      err, errlen)) {
        rc = -1;
    } else {
        sqlite3_bind_int64(st, 1, scope);
        cw_buf_adds(out, "{\"samples\":[");
        for (int n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
            if (n)
                cw_buf_addc(out, ',');
            sample_row_json(st, false, out);
        }
        cw_buf_adds(out, "]}\n");
    }
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return rc;
}

int cw_store_sample_json(struct cw_store *s, int64_t id, uint32_t scope, struct cw_buf *out,
                         char *err, size_t errlen)
{
    int rc = CW_STORE_NOT_FOUND;
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    if (cw_store_prep(rd, &st,
                      "SELECT " SAMPLE_COLS " FROM samples WHERE id = ?2 AND"
                      " (?1 = 0 OR member_id = ?1)",
                      err, errlen)) {
        rc = -1;
    } else {
        sqlite3_bind_int64(st, 1, scope);
        sqlite3_bind_int64(st, 2, id);
        if (sqlite3_step(st) == SQLITE_ROW) {
            sample_row_json(st, true, out);
            cw_buf_addc(out, '\n');
            rc = 0;
        } else {
            snprintf(err, errlen, "no such sample");
        }
    }
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return rc;
}

int cw_store_ioc_sighted_batches(struct cw_store *s, int64_t id, int64_t **ids, size_t *n,
                                 char *err, size_t errlen)
{
    size_t cap = 0;
    *n = 0;
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    int rc = cw_store_prep(rd, &st, "SELECT DISTINCT batch_id FROM ioc_sightings"
                                    " WHERE indicator_id = ? ORDER BY batch_id", err, errlen);
    if (rc == 0) {
        sqlite3_bind_int64(st, 1, id);
        int r;
        while (rc == 0 && (r = sqlite3_step(st)) == SQLITE_ROW) {
            if (*n == cap) {
                size_t nc = cap ? cap * 2 : 64;
                int64_t *ni = realloc(*ids, nc * sizeof(*ni));
                if (!ni) {
                    snprintf(err, errlen, "out of memory");
                    rc = -1;
                    break;
                }
                *ids = ni;
                cap = nc;
            }
            (*ids)[(*n)++] = sqlite3_column_int64(st, 0);
        }
        if (rc == 0 && r != SQLITE_DONE) {
            snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(rd));
            rc = -1;
        }
    }
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return rc;
}
