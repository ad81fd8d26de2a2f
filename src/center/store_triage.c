/* store_triage.c - events, detections, noise counts, assets and suppressions in the
 * embedded store. Writes happen inside cw_store_ingest's transaction (writer
 * connection, write lock held); reads use the reader connection. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "center/store_impl.h"
#include "common/json.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "detect/attack.h"
#include "common/banned.h"

static bool is_closed(const char *state);
static int reopen_in_memory(sqlite3 *db, struct cw_triage *t, int64_t id);

static const char *const states[] = {"new", "investigating", "notified", "resolved",
                                     "false_positive", "duplicate", NULL};

static void ip_text(const struct cw_ip *ip, char *out)
{
    if (!ip->family)
        out[0] = '\0';
    else
        cw_ip_format(ip, out);
}

static void ip_array(struct cw_buf *o, const struct cw_ip *ips, unsigned n)
{
    char t[64];
    cw_buf_addc(o, '[');
    for (unsigned i = 0; i < n; i++) {
        if (i)
            cw_buf_addc(o, ',');
        ip_text(&ips[i], t);
        cw_buf_add_json_str(o, t, strlen(t));
    }
    cw_buf_addc(o, ']');
}

static int write_detections(struct cw_store *s, int64_t batch_id, const struct cw_batch *b,
                            const struct cw_triage_result *t, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL, *nc = NULL;
    if (cw_store_prep(s->w, &st,
             "INSERT INTO detections(batch_id, member_id, event_id, noise, detail, rule_id,"
             " rule_name, attack_class, severity, ts_us, record) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
             err, errlen) ||
        cw_store_prep(s->w, &nc,
             "INSERT INTO noise_counts(member_id, day, reason, count) VALUES(?,?,?,1)"
             " ON CONFLICT(member_id, day, reason) DO UPDATE SET count = count + 1",
             err, errlen)) {
        sqlite3_finalize(st);
        return -1;
    }
    struct cw_buf rec = CW_BUF_INIT;
    int rc = 0;
    for (uint32_t i = 0; i < t->ds.n && rc == 0; i++) {
        const struct cw_detection *d = &t->ds.d[i];
        const struct cw_record *r = &b->recs[d->rec];
        const char *reason = cw_noise_reason_name((enum cw_noise_reason)d->noise);
        const char *cls = cw_attack_class_name((enum cw_attack_class)d->attack_class);
        cw_buf_clear(&rec);
        cw_record_to_json(r, &rec, true);
        sqlite3_bind_int64(st, 1, batch_id);
        sqlite3_bind_int64(st, 2, r->member_id);
        if (t->event_of && t->event_of[i])
            sqlite3_bind_int64(st, 3, t->event_of[i]);
        else
            sqlite3_bind_null(st, 3);
        sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
        if (t->detail && t->detail[i])
            sqlite3_bind_text(st, 5, t->detail[i], -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(st, 5);
        sqlite3_bind_text(st, 6, d->rule_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 7, d->rule_name, d->rule_name_len, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 8, cls, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 9, d->severity);
        sqlite3_bind_int64(st, 10, r->ts_us);
        sqlite3_bind_text(st, 11, rec.data ? rec.data : "{}", (int)rec.len, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = -1;
        sqlite3_reset(st);
        char day[32];
        cw_time_format_iso(r->ts_us, day);
        sqlite3_bind_int64(nc, 1, r->member_id);
        sqlite3_bind_text(nc, 2, day, 10, SQLITE_TRANSIENT);
        sqlite3_bind_text(nc, 3, reason, -1, SQLITE_STATIC);
        if (rc == 0 && sqlite3_step(nc) != SQLITE_DONE)
            rc = -1;
        sqlite3_reset(nc);
    }
    if (rc)
        snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(s->w));
    cw_buf_release(&rec);
    sqlite3_finalize(st);
    sqlite3_finalize(nc);
    return rc;
}

static int write_events(struct cw_store *s, const struct cw_triage_result *t, char *err,
                        size_t errlen)
{
    sqlite3_stmt *st = NULL, *src = NULL, *hist = NULL;
    if (cw_store_prep(s->w, &st,
             "INSERT INTO events(id, member_id, attack_class, severity, first_us, last_us, count,"
             " distinct_sources, distinct_targets, key_source, key_target, sources, targets,"
             " created_us, updated_us) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
             " ON CONFLICT(id) DO UPDATE SET severity=excluded.severity,"
             " first_us=excluded.first_us, last_us=excluded.last_us, count=excluded.count,"
             " distinct_sources=excluded.distinct_sources,"
             " distinct_targets=excluded.distinct_targets, sources=excluded.sources,"
             " targets=excluded.targets, updated_us=excluded.updated_us",
             err, errlen) ||
        cw_store_prep(s->w, &src,
             "INSERT OR IGNORE INTO event_sources(event_id, member_id, attack_class, source)"
             " VALUES(?,?,?,?)",
             err, errlen) ||
        cw_store_prep(s->w, &hist,
             "INSERT INTO event_history(event_id, at_us, actor, change) VALUES(?,?,?,?)", err,
             errlen)) {
        sqlite3_finalize(st);
        sqlite3_finalize(src);
        return -1;
    }
    int rc = 0;
    int64_t now = cw_now_us();
    struct cw_buf a = CW_BUF_INIT, bt = CW_BUF_INIT;
    for (size_t i = 0; i < t->nevents && rc == 0; i++) {
        const struct cw_event *e = &t->events[i];
        const char *cls = cw_attack_class_name((enum cw_attack_class)e->attack_class);
        char ks[64], kt[64];
        ip_text(&e->key_source, ks);
        ip_text(&e->key_target, kt);
        cw_buf_clear(&a);
        cw_buf_clear(&bt);
        ip_array(&a, e->sources, e->nsrc_kept);
        ip_array(&bt, e->targets, e->ntgt_kept);
        int k = 1;
        sqlite3_bind_int64(st, k++, e->id);
        sqlite3_bind_int64(st, k++, e->member_id);
        sqlite3_bind_text(st, k++, cls, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, k++, e->severity);
        sqlite3_bind_int64(st, k++, e->first_us);
        sqlite3_bind_int64(st, k++, e->last_us);
        sqlite3_bind_int64(st, k++, (int64_t)e->count);
        sqlite3_bind_int64(st, k++, e->distinct_sources);
        sqlite3_bind_int64(st, k++, e->distinct_targets);
        sqlite3_bind_text(st, k++, ks, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, k++, kt, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, k++, a.data, (int)a.len, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, k++, bt.data, (int)bt.len, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, k++, now);
        sqlite3_bind_int64(st, k++, now);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = -1;
        sqlite3_reset(st);
        for (unsigned j = 0; j < e->nsrc_kept && rc == 0; j++) {
            char ip[64];
            ip_text(&e->sources[j], ip);
            sqlite3_bind_int64(src, 1, e->id);
            sqlite3_bind_int64(src, 2, e->member_id);
            sqlite3_bind_text(src, 3, cls, -1, SQLITE_STATIC);
            sqlite3_bind_text(src, 4, ip, -1, SQLITE_TRANSIENT);
            if (sqlite3_step(src) != SQLITE_DONE)
                rc = -1;
            sqlite3_reset(src);
        }
        if (e->is_new && rc == 0) {
            sqlite3_bind_int64(hist, 1, e->id);
            sqlite3_bind_int64(hist, 2, now);
            sqlite3_bind_text(hist, 3, "triage", -1, SQLITE_STATIC);
            sqlite3_bind_text(hist, 4, "created", -1, SQLITE_STATIC);
            if (sqlite3_step(hist) != SQLITE_DONE)
                rc = -1;
            sqlite3_reset(hist);
        }
    }
    if (rc)
        snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(s->w));
    cw_buf_release(&a);
    cw_buf_release(&bt);
    sqlite3_finalize(st);
    sqlite3_finalize(src);
    sqlite3_finalize(hist);
    return rc;
}

int cw_store_triage_write(struct cw_store *s, int64_t batch_id, const struct cw_batch *b,
                          const struct cw_triage_result *t, char *err, size_t errlen)
{
    if (t->ds.n == 0)
        return 0;
    if (write_detections(s, batch_id, b, t, err, errlen))
        return -1;
    return write_events(s, t, err, errlen);
}

int64_t cw_store_next_event_id(struct cw_store *s)
{
    int64_t id = 1;
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(rd, "SELECT COALESCE(MAX(id), 0) + 1 FROM events", -1, &st,
                           NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return id;
}

static unsigned parse_ips(const unsigned char *txt, struct cw_ip *out, unsigned max)
{
    if (!txt)
        return 0;
    struct cw_json j;
    jsmntok_t tok[CW_EVENT_SAMPLE_ADDRS + 4];
    const char *err;
    size_t n = strlen((const char *)txt);
    if (cw_json_parse(&j, (const char *)txt, n, tok, CW_EVENT_SAMPLE_ADDRS + 4, &err) ||
        !cw_json_is(&j, 0, JSMN_ARRAY))
        return 0;
    unsigned k = 0;
    for (int i = 1; i < j.ntok && k < max; i++)
        if (j.tok[i].type == JSMN_STRING &&
            cw_ip_parse(&out[k], j.src + j.tok[i].start,
                        (size_t)(j.tok[i].end - j.tok[i].start)) == 0)
            k++;
    return k;
}

/* An event row (columns: id, member_id, attack_class, severity, first_us, last_us,
 * count, distinct_sources, distinct_targets, key_source, key_target, sources,
 * targets) as the open-event table holds it. */
#define EVENT_ROW_COLS                                                                   \
    "id, member_id, attack_class, severity, first_us, last_us, count, distinct_sources," \
    " distinct_targets, key_source, key_target, sources, targets"

static void event_from_row(sqlite3_stmt *st, struct cw_event *e)
{
    memset(e, 0, sizeof(*e));
    e->id = sqlite3_column_int64(st, 0);
    e->member_id = (uint32_t)sqlite3_column_int64(st, 1);
    const char *cls = (const char *)sqlite3_column_text(st, 2);
    enum cw_attack_class c = cw_attack_class_from_name(cls, cls ? strlen(cls) : 0);
    e->attack_class = (uint8_t)(c == CW_AC__COUNT ? CW_AC_OTHER : c);
    e->severity = (uint8_t)sqlite3_column_int(st, 3);
    e->first_us = sqlite3_column_int64(st, 4);
    e->last_us = sqlite3_column_int64(st, 5);
    e->count = (uint64_t)sqlite3_column_int64(st, 6);
    e->distinct_sources = (uint32_t)sqlite3_column_int64(st, 7);
    e->distinct_targets = (uint32_t)sqlite3_column_int64(st, 8);
    const char *ks = (const char *)sqlite3_column_text(st, 9);
    const char *kt = (const char *)sqlite3_column_text(st, 10);
    if (ks && *ks)
        cw_ip_parse(&e->key_source, ks, strlen(ks));
    if (kt && *kt)
        cw_ip_parse(&e->key_target, kt, strlen(kt));
    e->nsrc_kept = (uint8_t)parse_ips(sqlite3_column_text(st, 11), e->sources,
                                      CW_EVENT_SAMPLE_ADDRS);
    e->ntgt_kept = (uint8_t)parse_ips(sqlite3_column_text(st, 12), e->targets,
                                      CW_EVENT_SAMPLE_ADDRS);
}

int cw_store_events_restore(struct cw_store *s, struct cw_triage *t, size_t max, char *err,
                            size_t errlen)
{
    int rc = 0;
    size_t n = 0;
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    if (cw_store_prep(rd, &st,
             "SELECT " EVENT_ROW_COLS
             " FROM events WHERE state IN ('new','investigating','notified')"
             " ORDER BY last_us DESC LIMIT ?",
             err, errlen)) {
        cw_store_reader_done(s, rd);
        return -1;
    }
    sqlite3_bind_int64(st, 1, (int64_t)max);
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        struct cw_event e;
        event_from_row(st, &e);
        if (cw_triage_restore_event(t, &e)) {
            snprintf(err, errlen, "cannot restore event %lld", (long long)e.id);
            rc = -1;
        }
        n++;
    }
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    if (rc == 0 && n)
        cw_info("triage: restored %zu open events", n);
    return rc;
}

static void add_time(struct cw_buf *o, const char *key, int64_t us)
{
    char ts[32];
    size_t n = cw_time_format_iso(us, ts);
    cw_buf_addf(o, ",\"%s\":", key);
    cw_buf_add_json_str(o, ts, n);
}

/* ,"key":"text" (or null); first = true leaves the comma out */
static void col_str_at(struct cw_buf *o, bool first, const char *key, sqlite3_stmt *st, int col)
{
    const unsigned char *v = sqlite3_column_text(st, col);
    cw_buf_addf(o, "%s\"%s\":", first ? "" : ",", key);
    if (!v)
        cw_buf_adds(o, "null");
    else
        cw_buf_add_json_str(o, (const char *)v, (size_t)sqlite3_column_bytes(st, col));
}

static const char event_cols[] =
    "SELECT e.id, e.member_id, m.name, e.attack_class, e.severity, e.state, e.assignee,"
    " e.first_us, e.last_us, e.count, e.distinct_sources, e.distinct_targets, e.key_source,"
    " e.key_target, e.sources, e.targets FROM events e JOIN members m ON m.id = e.member_id ";

static void event_row(struct cw_buf *o, sqlite3_stmt *st)
{
    cw_buf_addf(o, "{\"id\":%lld,\"member_id\":%lld", (long long)sqlite3_column_int64(st, 0),
                (long long)sqlite3_column_int64(st, 1));
    cw_store_json_text(o, "member", st, 2);
    cw_store_json_text(o, "attack_class", st, 3);
    cw_buf_addf(o, ",\"severity\":%d", sqlite3_column_int(st, 4));
    cw_store_json_text(o, "state", st, 5);
    cw_store_json_text(o, "assignee", st, 6);
    add_time(o, "first_seen", sqlite3_column_int64(st, 7));
    add_time(o, "last_seen", sqlite3_column_int64(st, 8));
    cw_buf_addf(o, ",\"count\":%lld,\"distinct_sources\":%lld,\"distinct_targets\":%lld",
                (long long)sqlite3_column_int64(st, 9), (long long)sqlite3_column_int64(st, 10),
                (long long)sqlite3_column_int64(st, 11));
    cw_store_json_text(o, "key_source", st, 12);
    cw_store_json_text(o, "key_target", st, 13);
    const unsigned char *srcs = sqlite3_column_text(st, 14), *tgts = sqlite3_column_text(st, 15);
    cw_buf_adds(o, ",\"sources\":");
    cw_buf_adds(o, srcs ? (const char *)srcs : "[]");
    cw_buf_adds(o, ",\"targets\":");
    cw_buf_adds(o, tgts ? (const char *)tgts : "[]");
    cw_buf_addc(o, '}');
}

/* How many overlap candidates the time plan takes on at most (index entries, ~25 ns
 * each); past that the id walk is kept, as before the plan existed. */
#define TIME_PLAN_CAP 16384

/* Rows of events_first with lo <= first_us < hi, counted up to cap; lo is `since` less
 * the longest event when from_since is set. A heuristic only (the plans are both exact). */
static int64_t count_first(sqlite3 *rd, bool from_since, int64_t lo, int64_t hi, int64_t cap)
{
    sqlite3_stmt *st = NULL;
    int64_t n = cap;
    const char *sql = from_since
        ? "SELECT COUNT(*) FROM (SELECT 1 FROM events INDEXED BY events_first WHERE first_us >="
          " ?1 - (SELECT MAX(last_us - first_us) FROM events) AND first_us < ?2 LIMIT ?3)"
        : "SELECT COUNT(*) FROM (SELECT 1 FROM events INDEXED BY events_first WHERE first_us >="
          " ?1 AND first_us < ?2 LIMIT ?3)";
    if (sqlite3_prepare_v2(rd, sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return n; /* unknown: the caller keeps the id walk */
    }
    sqlite3_bind_int64(st, 1, lo);
    sqlite3_bind_int64(st, 2, hi);
    sqlite3_bind_int64(st, 3, cap);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/*
 * Which rows a newest-first page bounded by `until` comes from. The id walk (newest id
 * down) first passes every event that began at or after `until` - for a range in the
 * past, most of the table. The time plan instead collects the ids of the events that
 * overlap [since, until) from events_first: those that began in [since - longest event,
 * until) (events_span gives the longest in one step), then reads just the page's rows
 * in id order. Both are exact and give the same rows in the same order; the time plan
 * wins when the overlap candidates are fewer than the events the walk would pass. Two
 * counts on the index tell, each stopped early: the candidates (up to the cap), then
 * the passed events only up to one more than that - about 2 x candidates entries read.
 */
static bool use_time_plan(sqlite3 *rd, const struct cw_event_filter *f)
{
    if (!f->newest || f->until_us == 0)
        return false;
    int64_t cands = f->since_us ? count_first(rd, true, f->since_us, f->until_us, TIME_PLAN_CAP)
                                : count_first(rd, false, INT64_MIN, f->until_us, TIME_PLAN_CAP);
    if (cands >= TIME_PLAN_CAP)
        return false;
    return cands < count_first(rd, false, f->until_us, INT64_MAX, cands + 1);
}

int cw_store_events_json(struct cw_store *s, const struct cw_event_filter *f, struct cw_buf *out,
                         char *err, size_t errlen)
{
    char sql[2560], ids[512];
    sqlite3 *rd = cw_store_reader(s);
    if (use_time_plan(rd, f))
        snprintf(ids, sizeof(ids),
                 "e.id IN (SELECT id FROM events INDEXED BY events_first WHERE %s first_us < ?8"
                 " AND id < ?1)",
                 f->since_us ? "first_us >= ?7 - (SELECT MAX(last_us - first_us) FROM events)"
                               " AND last_us >= ?7 AND"
                             : "");
    else
        snprintf(ids, sizeof(ids), "e.id %s ?1", f->newest ? "<" : ">");
    snprintf(sql, sizeof(sql),
             "%s WHERE %s AND (?2 = 0 OR e.member_id = ?2) AND (?3 IS NULL OR"
             " e.attack_class = ?3) AND (?4 IS NULL OR e.state = ?4) AND (?5 = 0 OR"
             " e.severity <= ?5) AND (?7 = 0 OR e.last_us >= ?7) AND (?8 = 0 OR"
             " e.first_us < ?8) AND (?9 IS NULL OR e.id = CAST(?9 AS INTEGER) OR"
             " instr(e.sources, ?9) > 0 OR instr(e.targets, ?9) > 0 OR"
             " instr(COALESCE(e.assignee, ''), ?9) > 0) AND (?10 = 0 OR e.state IN"
             " ('new', 'investigating', 'notified')) ORDER BY e.id %s LIMIT ?6",
             event_cols, ids, f->newest ? "DESC" : "ASC");
    sqlite3_stmt *st = NULL;
    if (cw_store_prep(rd, &st, sql, err, errlen)) {
        cw_store_reader_done(s, rd);
        return -1;
    }
    sqlite3_bind_int64(st, 1, f->newest && !f->after_id ? INT64_MAX : f->after_id);
    sqlite3_bind_int64(st, 2, f->member_id);
    sqlite3_bind_int64(st, 7, f->since_us);
    sqlite3_bind_int64(st, 8, f->until_us);
    if (f->q)
        sqlite3_bind_text(st, 9, f->q, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 10, f->open_only);
    if (f->attack_class >= 0)
        sqlite3_bind_text(st, 3, cw_attack_class_name((enum cw_attack_class)f->attack_class), -1,
                          SQLITE_STATIC);
    if (f->state)
        sqlite3_bind_text(st, 4, f->state, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 5, f->max_severity);
    sqlite3_bind_int(st, 6, f->limit > 0 ? f->limit : 100);
    cw_buf_adds(out, "{\"events\":[");
    int64_t last = f->after_id;
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n++)
            cw_buf_addc(out, ',');
        event_row(out, st);
        last = sqlite3_column_int64(st, 0);
    }
    cw_buf_addf(out, "],\"next_after\":%lld,\"next\":", (long long)last);
    if (n == (f->limit > 0 ? f->limit : 100))
        cw_buf_addf(out, "%lld}\n", (long long)last);
    else
        cw_buf_adds(out, "null}\n");
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return 0;
}

static void detections_rows(struct cw_buf *o, sqlite3_stmt *st)
{
    int n = 0;
    cw_buf_addc(o, '[');
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n++)
            cw_buf_addc(o, ',');
        cw_buf_addf(o, "{\"id\":%lld", (long long)sqlite3_column_int64(st, 0));
        if (sqlite3_column_type(st, 1) == SQLITE_NULL)
            cw_buf_adds(o, ",\"event_id\":null");
        else
            cw_buf_addf(o, ",\"event_id\":%lld", (long long)sqlite3_column_int64(st, 1));
        cw_buf_addf(o, ",\"member_id\":%lld", (long long)sqlite3_column_int64(st, 2));
        cw_store_json_text(o, "noise", st, 3);
        cw_store_json_text(o, "detail", st, 4);
        cw_store_json_text(o, "rule_id", st, 5);
        cw_store_json_text(o, "rule_name", st, 6);
        cw_store_json_text(o, "attack_class", st, 7);
        cw_buf_addf(o, ",\"severity\":%d", sqlite3_column_int(st, 8));
        add_time(o, "ts", sqlite3_column_int64(st, 9));
        /* the record column is JSON we wrote ourselves (cw_record_to_json) */
        cw_buf_adds(o, ",\"record\":");
        const unsigned char *rec = sqlite3_column_text(st, 10);
        cw_buf_adds(o, rec ? (const char *)rec : "null");
        cw_buf_addc(o, '}');
    }
    cw_buf_addc(o, ']');
}

static const char det_cols[] = "SELECT id, event_id, member_id, noise, detail, rule_id, rule_name,"
                               " attack_class, severity, ts_us, record FROM detections ";

int cw_store_event_json(struct cw_store *s, int64_t id, uint32_t scope, struct cw_buf *out,
                        char *err, size_t errlen)
{
    char sql[1024];
    int rc = CW_STORE_NOT_FOUND;
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    snprintf(sql, sizeof(sql), "%s WHERE e.id = ?1 AND (?2 = 0 OR e.member_id = ?2)",
             event_cols);
    if (cw_store_prep(rd, &st, sql, err, errlen))
        goto out;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, scope);
    if (sqlite3_step(st) != SQLITE_ROW)
        goto out;
    event_row(out, st);
    out->len--; /* reopen the object */
    sqlite3_finalize(st);
    st = NULL;
    if (cw_store_prep(rd, &st,
             "SELECT rule_id, rule_name, COUNT(*) FROM detections WHERE event_id = ?"
             " GROUP BY rule_id, rule_name ORDER BY COUNT(*) DESC LIMIT 20",
             err, errlen))
        goto out;
    sqlite3_bind_int64(st, 1, id);
    cw_buf_adds(out, ",\"rules\":[");
    for (int n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
        cw_buf_adds(out, n ? ",{" : "{");
        col_str_at(out, true, "rule_id", st, 0);
        cw_store_json_text(out, "rule_name", st, 1);
        cw_buf_addf(out, ",\"count\":%lld}", (long long)sqlite3_column_int64(st, 2));
    }
    cw_buf_addc(out, ']');
    sqlite3_finalize(st);
    st = NULL;
    snprintf(sql, sizeof(sql), "%s WHERE event_id = ? ORDER BY id LIMIT 10", det_cols);
    if (cw_store_prep(rd, &st, sql, err, errlen))
        goto out;
    sqlite3_bind_int64(st, 1, id);
    cw_buf_adds(out, ",\"samples\":");
    detections_rows(out, st);
    sqlite3_finalize(st);
    st = NULL;
    if (cw_store_prep(rd, &st,
             "SELECT at_us, actor, change FROM event_history WHERE event_id = ? ORDER BY id",
             err, errlen))
        goto out;
    sqlite3_bind_int64(st, 1, id);
    cw_buf_adds(out, ",\"history\":[");
    for (int n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
        cw_buf_adds(out, n ? ",{" : "{");
        col_str_at(out, true, "actor", st, 1);
        add_time(out, "at", sqlite3_column_int64(st, 0));
        cw_store_json_text(out, "change", st, 2);
        cw_buf_addc(out, '}');
    }
    cw_buf_adds(out, "]}\n");
    rc = 0;
out:
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return rc;
}

static int state_index(const char *st)
{
    for (int i = 0; states[i]; i++)
        if (!strcmp(states[i], st))
            return i;
    return -1;
}

/* Allowed moves. Closing states (resolved, false_positive, duplicate) may be reopened
 * to investigating only with a reason; nothing goes back to new. */
static const char *transition_problem(const char *from, const char *to, const char *reason)
{
    int f = state_index(from), t = state_index(to);
    if (t < 0)
        return "unknown state (new, investigating, notified, resolved, false_positive, "
               "duplicate)";
    if (f == t)
        return "the event is already in that state";
    if (t == 0)
        return "an event cannot go back to new";
    bool closed = f >= 3;
    if (closed && t != 1)
        return "a closed event can only be reopened to investigating";
    if (closed && (!reason || !*reason))
        return "reopening a closed event needs a reason";
    if (f == 0 && t == 2)
        return "notify only after investigating";
    return NULL;
}

int cw_store_event_set_state(struct cw_store *s, struct cw_triage *t, int64_t id,
                             const char *state, const char *actor, const char *reason, char *err,
                             size_t errlen)
{
    int rc = -1;
    pthread_mutex_lock(&s->wlock);
    sqlite3_stmt *st = NULL;
    if (sqlite3_exec(s->w, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "storage busy");
        goto unlock;
    }
    if (cw_store_prep(s->w, &st, "SELECT state FROM events WHERE id = ?", err, errlen))
        goto rollback;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = CW_STORE_NOT_FOUND;
        snprintf(err, errlen, "no event %lld", (long long)id);
        goto rollback;
    }
    char from[32];
    snprintf(from, sizeof(from), "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    st = NULL;
    const char *bad = transition_problem(from, state, reason);
    if (bad) {
        rc = CW_STORE_BAD_TRANSITION;
        snprintf(err, errlen, "%s -> %s: %s", from, state, bad);
        goto rollback;
    }
    int64_t now = cw_now_us();
    if (cw_store_prep(s->w, &st, "UPDATE events SET state = ?, updated_us = ? WHERE id = ?", err, errlen))
        goto rollback;
    sqlite3_bind_text(st, 1, state, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int64(st, 3, id);
    if (sqlite3_step(st) != SQLITE_DONE)
        goto rollback;
    sqlite3_finalize(st);
    st = NULL;
    char change[600];
    snprintf(change, sizeof(change), "state %s -> %s%s%s", from, state,
             reason && *reason ? ": " : "", reason ? reason : "");
    if (cw_store_prep(s->w, &st,
             "INSERT INTO event_history(event_id, at_us, actor, change) VALUES(?,?,?,?)", err,
             errlen))
        goto rollback;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_text(st, 3, actor, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, change, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE ||
        sqlite3_exec(s->w, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(s->w));
        goto rollback;
    }
    /* a closed event takes no more detections: the next ones start a new event;
     * a reopened one takes them again */
    if (t && is_closed(state))
        cw_triage_forget_event_locked(t, id);
    else if (t && is_closed(from)) {
        sqlite3_finalize(st);
        st = NULL;
        reopen_in_memory(s->w, t, id);
    }
    rc = 0;
    goto unlock;
rollback:
    sqlite3_exec(s->w, "ROLLBACK", NULL, NULL, NULL);
unlock:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

int cw_store_noise_json(struct cw_store *s, uint32_t member_id, struct cw_buf *out, char *err,
                        size_t errlen)
{
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    if (cw_store_prep(rd, &st,
             "SELECT n.member_id, m.name, n.day, n.reason, n.count FROM noise_counts n"
             " JOIN members m ON m.id = n.member_id WHERE (?1 = 0 OR n.member_id = ?1)"
             " ORDER BY n.day, n.member_id, n.reason",
             err, errlen)) {
        cw_store_reader_done(s, rd);
        return -1;
    }
    sqlite3_bind_int64(st, 1, member_id);
    int64_t tot[CW_NOISE__COUNT] = {0};
    cw_buf_adds(out, "{\"counts\":[");
    for (int n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
        cw_buf_addf(out, "%s{\"member_id\":%lld", n ? "," : "",
                    (long long)sqlite3_column_int64(st, 0));
        cw_store_json_text(out, "member", st, 1);
        cw_store_json_text(out, "day", st, 2);
        cw_store_json_text(out, "reason", st, 3);
        int64_t c = sqlite3_column_int64(st, 4);
        cw_buf_addf(out, ",\"count\":%lld}", (long long)c);
        const char *r = (const char *)sqlite3_column_text(st, 3);
        for (int k = 0; k < CW_NOISE__COUNT; k++)
            if (r && !strcmp(r, cw_noise_reason_name((enum cw_noise_reason)k)))
                tot[k] += c;
    }
    cw_buf_adds(out, "],\"totals\":{");
    for (int k = 0; k < CW_NOISE__COUNT; k++)
        cw_buf_addf(out, "%s\"%s\":%lld", k ? "," : "",
                    cw_noise_reason_name((enum cw_noise_reason)k), (long long)tot[k]);
    cw_buf_adds(out, "}}\n");
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return 0;
}

int cw_store_detections_json(struct cw_store *s, uint32_t member_id, int64_t event_id,
                             const char *noise, int limit, struct cw_buf *out, char *err,
                             size_t errlen)
{
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "%s WHERE (?1 = 0 OR member_id = ?1) AND (?2 = 0 OR event_id = ?2) AND"
             " (?3 IS NULL OR noise = ?3) ORDER BY id LIMIT ?4",
             det_cols);
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    if (cw_store_prep(rd, &st, sql, err, errlen)) {
        cw_store_reader_done(s, rd);
        return -1;
    }
    sqlite3_bind_int64(st, 1, member_id);
    sqlite3_bind_int64(st, 2, event_id);
    if (noise)
        sqlite3_bind_text(st, 3, noise, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 4, limit > 0 ? limit : 100);
    cw_buf_adds(out, "{\"detections\":");
    detections_rows(out, st);
    cw_buf_adds(out, "}\n");
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return 0;
}

int cw_store_campaigns_json(struct cw_store *s, struct cw_buf *out, char *err, size_t errlen)
{
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    if (cw_store_prep(rd, &st,
             "SELECT attack_class, source, COUNT(DISTINCT member_id), COUNT(*),"
             " GROUP_CONCAT(DISTINCT member_id), GROUP_CONCAT(event_id) FROM event_sources"
             " GROUP BY attack_class, source HAVING COUNT(DISTINCT member_id) >= 2"
             " ORDER BY COUNT(DISTINCT member_id) DESC, attack_class, source",
             err, errlen)) {
        cw_store_reader_done(s, rd);
        return -1;
    }
    cw_buf_adds(out, "{\"campaigns\":[");
    for (int n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
        cw_buf_adds(out, n ? ",{" : "{");
        col_str_at(out, true, "attack_class", st, 0);
        cw_store_json_text(out, "source", st, 1);
        cw_buf_addf(out, ",\"members\":%lld,\"events\":%lld",
                    (long long)sqlite3_column_int64(st, 2), (long long)sqlite3_column_int64(st, 3));
        cw_buf_adds(out, ",\"member_ids\":[");
        cw_buf_adds(out, (const char *)sqlite3_column_text(st, 4));
        cw_buf_adds(out, "],\"event_ids\":[");
        cw_buf_adds(out, (const char *)sqlite3_column_text(st, 5));
        cw_buf_adds(out, "]}");
    }
    cw_buf_adds(out, "]}\n");
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return 0;
}

int cw_store_asset_add(struct cw_store *s, const struct cw_asset *a, int64_t *id, char *err,
                       size_t errlen)
{
    char ip[64];
    ip_text(&a->addr, ip);
    int rc = -1;
    pthread_mutex_lock(&s->wlock);
    sqlite3_stmt *st = NULL;
    if (cw_store_prep(s->w, &st,
             "INSERT INTO assets(member_id, address, host, products, created_us)"
             " VALUES(?,?,?,?,?)",
             err, errlen) == 0) {
        sqlite3_bind_int64(st, 1, a->member_id);
        if (ip[0])
            sqlite3_bind_text(st, 2, ip, -1, SQLITE_TRANSIENT);
        if (a->host[0])
            sqlite3_bind_text(st, 3, a->host, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, a->products, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 5, cw_now_us());
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

int cw_store_suppression_add(struct cw_store *s, const struct cw_suppression *sp,
                             const char *owner, const char *reason, int64_t *id, char *err,
                             size_t errlen)
{
    char net[80] = "";
    if (sp->net.family) {
        char ip[64];
        ip_text(&sp->net, ip);
        snprintf(net, sizeof(net), "%s/%u", ip, sp->prefix);
    }
    int rc = -1;
    pthread_mutex_lock(&s->wlock);
    sqlite3_stmt *st = NULL;
    if (cw_store_prep(s->w, &st,
             "INSERT INTO suppressions(member_id, attack_class, rule_id, source, owner, reason,"
             " expires_us, created_us) VALUES(?,?,?,?,?,?,?,?)",
             err, errlen) == 0) {
        sqlite3_bind_int64(st, 1, sp->member_id);
        if (sp->attack_class != CW_AC__COUNT)
            sqlite3_bind_text(st, 2,
                              cw_attack_class_name((enum cw_attack_class)sp->attack_class), -1,
                              SQLITE_STATIC);
        if (sp->rule_id[0])
            sqlite3_bind_text(st, 3, sp->rule_id, -1, SQLITE_TRANSIENT);
        if (net[0])
            sqlite3_bind_text(st, 4, net, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 5, owner, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 6, reason, -1, SQLITE_TRANSIENT);
        if (sp->expires_us)
            sqlite3_bind_int64(st, 7, sp->expires_us);
        sqlite3_bind_int64(st, 8, cw_now_us());
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

/* Rows of a query with one optional bound parameter (?1 = scope). */
static int rows_json(struct cw_store *s, const char *sql, uint32_t scope, const char *key,
                     const char *const *names, struct cw_buf *out, char *err, size_t errlen)
{
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    if (cw_store_prep(rd, &st, sql, err, errlen)) {
        cw_store_reader_done(s, rd);
        return -1;
    }
    if (sqlite3_bind_parameter_count(st) >= 1)
        sqlite3_bind_int64(st, 1, scope);
    cw_buf_addf(out, "{\"%s\":[", key);
    for (int n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
        cw_buf_addf(out, "%s{\"id\":%lld", n ? "," : "", (long long)sqlite3_column_int64(st, 0));
        for (int c = 1; names[c - 1]; c++) {
            if (sqlite3_column_type(st, c) == SQLITE_INTEGER)
                cw_buf_addf(out, ",\"%s\":%lld", names[c - 1],
                            (long long)sqlite3_column_int64(st, c));
            else
                cw_store_json_text(out, names[c - 1], st, c);
        }
        cw_buf_addc(out, '}');
    }
    cw_buf_adds(out, "]}\n");
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return 0;
}

int cw_store_assets_json(struct cw_store *s, uint32_t scope, struct cw_buf *out, char *err,
                         size_t errlen)
{
    static const char *const names[] = {"member_id", "address", "host", "products", NULL};
    return rows_json(s,
                     "SELECT id, member_id, address, host, products FROM assets"
                     " WHERE (?1 = 0 OR member_id = ?1) ORDER BY id",
                     scope, "assets", names, out, err, errlen);
}

int cw_store_suppressions_json(struct cw_store *s, struct cw_buf *out, char *err, size_t errlen)
{
    static const char *const names[] = {"member_id", "attack_class", "rule_id", "source",
                                        "owner", "reason", "expires_us", NULL};
    return rows_json(s,
                     "SELECT id, member_id, attack_class, rule_id, source, owner, reason,"
                     " expires_us FROM suppressions ORDER BY id",
                     0, "suppressions", names, out, err, errlen);
}

int cw_store_knowledge_load(struct cw_store *s, struct cw_triage *t, char *err, size_t errlen)
{
    struct cw_asset *assets = NULL;
    struct cw_suppression *supp = NULL;
    size_t na = 0, ns = 0, ca = 0, cs = 0;
    int rc = 0;
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    if (cw_store_prep(rd, &st, "SELECT member_id, address, host, products FROM assets", err, errlen)) {
        rc = -1;
        goto out;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (na == ca) {
            ca = ca ? ca * 2 : 16;
            struct cw_asset *n = realloc(assets, ca * sizeof(*n));
            if (!n) {
                rc = -1;
                goto out;
            }
            assets = n;
        }
        struct cw_asset *a = &assets[na++];
        memset(a, 0, sizeof(*a));
        a->member_id = (uint32_t)sqlite3_column_int64(st, 0);
        const char *ip = (const char *)sqlite3_column_text(st, 1);
        if (ip)
            cw_ip_parse(&a->addr, ip, strlen(ip));
        snprintf(a->host, sizeof(a->host), "%s",
                 sqlite3_column_text(st, 2) ? (const char *)sqlite3_column_text(st, 2) : "");
        snprintf(a->products, sizeof(a->products), "%s",
                 (const char *)sqlite3_column_text(st, 3));
    }
    sqlite3_finalize(st);
    st = NULL;
    if (cw_store_prep(rd, &st,
             "SELECT id, member_id, attack_class, rule_id, source, COALESCE(expires_us, 0)"
             " FROM suppressions WHERE expires_us IS NULL OR expires_us > ?",
             err, errlen)) {
        rc = -1;
        goto out;
    }
    sqlite3_bind_int64(st, 1, cw_now_us());
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (ns == cs) {
            cs = cs ? cs * 2 : 16;
            struct cw_suppression *n = realloc(supp, cs * sizeof(*n));
            if (!n) {
                rc = -1;
                goto out;
            }
            supp = n;
        }
        struct cw_suppression *p = &supp[ns++];
        memset(p, 0, sizeof(*p));
        p->id = sqlite3_column_int64(st, 0);
        p->member_id = (uint32_t)sqlite3_column_int64(st, 1);
        const char *cls = (const char *)sqlite3_column_text(st, 2);
        p->attack_class = (uint8_t)(cls ? cw_attack_class_from_name(cls, strlen(cls)) : CW_AC__COUNT);
        snprintf(p->rule_id, sizeof(p->rule_id), "%s",
                 sqlite3_column_text(st, 3) ? (const char *)sqlite3_column_text(st, 3) : "");
        const char *net = (const char *)sqlite3_column_text(st, 4);
        if (net) {
            const char *slash = strchr(net, '/');
            size_t n = slash ? (size_t)(slash - net) : strlen(net);
            cw_ip_parse(&p->net, net, n);
            p->prefix = (uint8_t)(slash ? atoi(slash + 1) : (p->net.family == 4 ? 32 : 128));
        }
        p->expires_us = sqlite3_column_int64(st, 5);
    }
out:
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    if (rc == 0 && cw_triage_set_knowledge(t, assets, na, supp, ns))
        rc = -1;
    if (rc && !err[0])
        snprintf(err, errlen, "out of memory loading assets and suppressions");
    free(assets);
    free(supp);
    return rc;
}

int cw_store_triage_summary(struct cw_store *s, struct cw_triage_summary *out, char *err,
                            size_t errlen)
{
    memset(out, 0, sizeof(*out));
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (cw_store_prep(rd, &st, "SELECT reason, SUM(count) FROM noise_counts GROUP BY reason", err,
             errlen))
        goto out;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *r = (const char *)sqlite3_column_text(st, 0);
        int64_t c = sqlite3_column_int64(st, 1);
        out->detections += c;
        for (int k = 0; k < CW_NOISE__COUNT; k++)
            if (r && !strcmp(r, cw_noise_reason_name((enum cw_noise_reason)k)))
                out->per_reason[k] += c;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (cw_store_prep(rd, &st,
             "SELECT (SELECT COUNT(*) FROM events), (SELECT COUNT(*) FROM (SELECT 1 FROM"
             " event_sources GROUP BY attack_class, source HAVING COUNT(DISTINCT member_id)"
             " >= 2))",
             err, errlen))
        goto out;
    if (sqlite3_step(st) == SQLITE_ROW) {
        out->events = sqlite3_column_int64(st, 0);
        out->campaigns = sqlite3_column_int64(st, 1);
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return rc;
}

/* -- merge and split ---------------------------------------------------------
 * Both run in one write transaction and recompute the events they touch from the
 * detections themselves (source and target addresses are read from the stored
 * records with SQLite's JSON functions), so figures can never drift from what the
 * event holds. The open-event table is updated under the same lock. */

static int exec_id(sqlite3 *db, const char *sql, int64_t a, int64_t b)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, a);
    sqlite3_bind_int64(st, 2, b);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

static int recompute_event(sqlite3 *db, int64_t id)
{
    static const char sql[] =
        "UPDATE events SET"
        " count = (SELECT COUNT(*) FROM detections WHERE event_id = ?1),"
        " first_us = COALESCE((SELECT MIN(ts_us) FROM detections WHERE event_id = ?1), first_us),"
        " last_us = COALESCE((SELECT MAX(ts_us) FROM detections WHERE event_id = ?1), last_us),"
        " severity = COALESCE((SELECT MIN(severity) FROM detections WHERE event_id = ?1), severity),"
        " distinct_sources = (SELECT COUNT(DISTINCT json_extract(record, '$.src_ip'))"
        "   FROM detections WHERE event_id = ?1),"
        " distinct_targets = (SELECT COUNT(DISTINCT json_extract(record, '$.dst_ip'))"
        "   FROM detections WHERE event_id = ?1),"
        " sources = (SELECT json_group_array(ip) FROM (SELECT DISTINCT"
        "   json_extract(record, '$.src_ip') AS ip FROM detections WHERE event_id = ?1"
        "   AND ip IS NOT NULL ORDER BY ip LIMIT 8)),"
        " targets = (SELECT json_group_array(ip) FROM (SELECT DISTINCT"
        "   json_extract(record, '$.dst_ip') AS ip FROM detections WHERE event_id = ?1"
        "   AND ip IS NOT NULL ORDER BY ip LIMIT 8)),"
        " updated_us = ?2 WHERE id = ?1";
    if (exec_id(db, sql, id, cw_now_us()) ||
        exec_id(db, "DELETE FROM event_sources WHERE event_id = ?1 AND ?2 = ?2", id, 0))
        return -1;
    return exec_id(db,
                   "INSERT OR IGNORE INTO event_sources(event_id, member_id, attack_class, source)"
                   " SELECT DISTINCT e.id, e.member_id, e.attack_class,"
                   " json_extract(d.record, '$.src_ip') FROM events e JOIN detections d ON"
                   " d.event_id = e.id WHERE e.id = ?1 AND ?2 = ?2 AND"
                   " json_extract(d.record, '$.src_ip') IS NOT NULL",
                   id, 0);
}

static int history(sqlite3 *db, int64_t id, const char *actor, const char *change)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO event_history(event_id, at_us, actor, change)"
                           " VALUES(?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, cw_now_us());
    sqlite3_bind_text(st, 3, actor, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, change, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

/* member and state of an event, from the writer connection (inside the transaction) */
static int event_head(sqlite3 *db, int64_t id, int64_t *member, char *state, size_t cap)
{
    sqlite3_stmt *st = NULL;
    int rc = CW_STORE_NOT_FOUND;
    if (sqlite3_prepare_v2(db, "SELECT member_id, state FROM events WHERE id = ?", -1, &st,
                           NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        *member = sqlite3_column_int64(st, 0);
        snprintf(state, cap, "%s", (const char *)sqlite3_column_text(st, 1));
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

static bool is_closed(const char *state)
{
    return !strcmp(state, "resolved") || !strcmp(state, "false_positive") ||
           !strcmp(state, "duplicate");
}

/* Put an event back into the open-event table from its (recomputed) row. */
static int reopen_in_memory(sqlite3 *db, struct cw_triage *t, int64_t id)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT " EVENT_ROW_COLS ", state FROM events WHERE id = ?", -1,
                           &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = 0;
    if (sqlite3_step(st) == SQLITE_ROW &&
        !is_closed((const char *)sqlite3_column_text(st, 13))) {
        struct cw_event e;
        event_from_row(st, &e);
        rc = cw_triage_restore_event(t, &e);
    }
    sqlite3_finalize(st);
    return rc;
}

int cw_store_event_merge(struct cw_store *s, struct cw_triage *t, int64_t id, int64_t into,
                         const char *actor, char *err, size_t errlen)
{
    int64_t m1, m2;
    char st1[32], st2[32], msg[128];
    int rc = -1;
    pthread_mutex_lock(&s->wlock);
    if (sqlite3_exec(s->w, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "storage busy");
        goto unlock;
    }
    if ((rc = event_head(s->w, id, &m1, st1, sizeof(st1))) != 0 ||
        (rc = event_head(s->w, into, &m2, st2, sizeof(st2))) != 0) {
        snprintf(err, errlen, "no such event");
        goto rollback;
    }
    rc = CW_STORE_BAD_TRANSITION;
    if (id == into) {
        snprintf(err, errlen, "an event cannot be merged into itself");
        goto rollback;
    }
    if (m1 != m2) {
        snprintf(err, errlen, "events of different members cannot be merged (campaigns "
                              "show them together)");
        goto rollback;
    }
    if (is_closed(st1) || is_closed(st2)) {
        snprintf(err, errlen, "both events must be open (event %lld is %s)",
                 (long long)(is_closed(st1) ? id : into), is_closed(st1) ? st1 : st2);
        goto rollback;
    }
    rc = -1;
    cw_triage_forget_event_locked(t, id);
    cw_triage_forget_event_locked(t, into);
    snprintf(msg, sizeof(msg), "merged into event %lld", (long long)into);
    char msg2[128];
    snprintf(msg2, sizeof(msg2), "event %lld merged in", (long long)id);
    if (exec_id(s->w, "UPDATE detections SET event_id = ?2 WHERE event_id = ?1", id, into) ||
        recompute_event(s->w, into) || recompute_event(s->w, id) ||
        exec_id(s->w, "UPDATE events SET state = 'duplicate' WHERE id = ?1 AND ?2 = ?2", id, 0) ||
        history(s->w, id, actor, msg) || history(s->w, into, actor, msg2) ||
        sqlite3_exec(s->w, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(s->w));
        goto rollback;
    }
    reopen_in_memory(s->w, t, into);
    rc = 0;
    goto unlock;
rollback:
    sqlite3_exec(s->w, "ROLLBACK", NULL, NULL, NULL);
    if (rc == -1) {
        /* memory may have forgotten the events: put them back as stored */
        reopen_in_memory(s->w, t, id);
        reopen_in_memory(s->w, t, into);
    }
unlock:
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

int cw_store_event_split(struct cw_store *s, struct cw_triage *t, int64_t id,
                         const char *const *sources, size_t nsources, const char *actor,
                         int64_t *new_id, char *err, size_t errlen)
{
    int64_t member;
    char state[32], msg[160];
    int rc = -1;
    bool forgotten = false;
    sqlite3_stmt *st = NULL;
    pthread_mutex_lock(&s->wlock);
    if (sqlite3_exec(s->w, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "storage busy");
        goto unlock;
    }
    if ((rc = event_head(s->w, id, &member, state, sizeof(state))) != 0) {
        snprintf(err, errlen, "no such event");
        goto rollback;
    }
    if (is_closed(state)) {
        rc = CW_STORE_BAD_TRANSITION;
        snprintf(err, errlen, "a %s event cannot be split", state);
        goto rollback;
    }
    rc = -1;
    cw_triage_forget_event_locked(t, id);
    forgotten = true;
    int64_t nid = cw_triage_take_event_id_locked(t);
    int64_t now = cw_now_us();
    if (cw_store_prep(s->w, &st,
             "INSERT INTO events(id, member_id, attack_class, severity, state, first_us,"
             " last_us, count, distinct_sources, distinct_targets, created_us, updated_us)"
             " SELECT ?1, member_id, attack_class, severity, 'new', first_us, last_us, 0, 0, 0,"
             " ?2, ?2 FROM events WHERE id = ?3",
             err, errlen))
        goto rollback;
    sqlite3_bind_int64(st, 1, nid);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int64(st, 3, id);
    if (sqlite3_step(st) != SQLITE_DONE)
        goto storage;
    sqlite3_finalize(st);
    st = NULL;
    if (cw_store_prep(s->w, &st,
             "UPDATE detections SET event_id = ?1 WHERE event_id = ?2 AND"
             " json_extract(record, '$.src_ip') = ?3",
             err, errlen))
        goto rollback;
    int moved = 0;
    for (size_t i = 0; i < nsources; i++) {
        sqlite3_bind_int64(st, 1, nid);
        sqlite3_bind_int64(st, 2, id);
        sqlite3_bind_text(st, 3, sources[i], -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE)
            goto storage;
        moved += sqlite3_changes(s->w);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    st = NULL;
    int64_t left = -1;
    if (cw_store_prep(s->w, &st, "SELECT COUNT(*) FROM detections WHERE event_id = ?", err, errlen))
        goto rollback;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW)
        left = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if (moved == 0 || left == 0) {
        rc = CW_STORE_BAD_TRANSITION;
        snprintf(err, errlen, moved == 0 ? "no detection of the event comes from those sources"
                                         : "the split would leave the event empty (use merge "
                                           "or a state change instead)");
        goto rollback;
    }
    snprintf(msg, sizeof(msg), "split: %d detections moved to event %lld", moved,
             (long long)nid);
    char msg2[160];
    snprintf(msg2, sizeof(msg2), "split from event %lld", (long long)id);
    if (exec_id(s->w,
                "UPDATE events SET key_source = (SELECT json_extract(record, '$.src_ip') FROM"
                " detections WHERE event_id = ?1 ORDER BY id LIMIT 1), key_target = (SELECT"
                " json_extract(record, '$.dst_ip') FROM detections WHERE event_id = ?1 ORDER BY"
                " id LIMIT 1) WHERE id = ?1 AND ?2 = ?2",
                nid, 0) ||
        recompute_event(s->w, nid) || recompute_event(s->w, id) ||
        history(s->w, id, actor, msg) || history(s->w, nid, actor, msg2) ||
        sqlite3_exec(s->w, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto storage;
    reopen_in_memory(s->w, t, id);
    reopen_in_memory(s->w, t, nid);
    *new_id = nid;
    rc = 0;
    goto unlock;
storage:
    snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(s->w));
    rc = -1;
rollback:
    sqlite3_finalize(st);
    sqlite3_exec(s->w, "ROLLBACK", NULL, NULL, NULL);
    if (forgotten)
        reopen_in_memory(s->w, t, id);
unlock:
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

int cw_store_rule_hits_json(struct cw_store *s, struct cw_buf *out, char *err, size_t errlen)
{
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    if (cw_store_prep(rd, &st,
             "SELECT rule_id, noise, COUNT(*) FROM detections GROUP BY rule_id, noise"
             " ORDER BY rule_id, noise",
             err, errlen)) {
        cw_store_reader_done(s, rd);
        return -1;
    }
    cw_buf_adds(out, ",\"hits\":[");
    for (int n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
        cw_buf_adds(out, n ? ",{" : "{");
        col_str_at(out, true, "rule_id", st, 0);
        cw_store_json_text(out, "noise", st, 1);
        cw_buf_addf(out, ",\"count\":%lld}", (long long)sqlite3_column_int64(st, 2));
    }
    cw_buf_addc(out, ']');
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return 0;
}

int cw_store_event_assign(struct cw_store *s, int64_t id, const char *assignee,
                          const char *actor, char *err, size_t errlen)
{
    int rc = -1;
    int64_t member;
    char state[32], change[200];
    sqlite3_stmt *st = NULL;
    pthread_mutex_lock(&s->wlock);
    if (sqlite3_exec(s->w, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "storage busy");
        goto unlock;
    }
    if ((rc = event_head(s->w, id, &member, state, sizeof(state))) != 0) {
        snprintf(err, errlen, "no such event");
        goto rollback;
    }
    rc = -1;
    if (assignee[0]) {
        if (cw_store_prep(s->w, &st,
                 "SELECT 1 FROM users WHERE name = ? AND disabled = 0 AND role IN"
                 " ('coordinator_admin', 'coordinator_analyst')",
                 err, errlen))
            goto rollback;
        sqlite3_bind_text(st, 1, assignee, -1, SQLITE_TRANSIENT);
        int found = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
        st = NULL;
        if (!found) {
            rc = CW_STORE_INVALID;
            snprintf(err, errlen, "'%s' is not a coordinator user", assignee);
            goto rollback;
        }
    }
    if (cw_store_prep(s->w, &st, "UPDATE events SET assignee = ?, updated_us = ? WHERE id = ?", err,
             errlen))
        goto rollback;
    if (assignee[0])
        sqlite3_bind_text(st, 1, assignee, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, cw_now_us());
    sqlite3_bind_int64(st, 3, id);
    int ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    st = NULL;
    snprintf(change, sizeof(change), assignee[0] ? "assigned to %s" : "unassigned%s",
             assignee);
    if (!ok || history(s->w, id, actor, change) ||
        sqlite3_exec(s->w, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(s->w));
        goto rollback;
    }
    rc = 0;
    goto unlock;
rollback:
    sqlite3_finalize(st);
    sqlite3_exec(s->w, "ROLLBACK", NULL, NULL, NULL);
unlock:
    pthread_mutex_unlock(&s->wlock);
    return rc;
}
