/* store_notices.c - notices, answers, history, member webhooks and the delivery
 * outbox in the embedded store (see store_notices.h, docs/notices.md).
 * Writes use the writer connection under the write lock, each in one transaction;
 * reads use the reader connection. */
#include "center/store_notices.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "center/store_impl.h"
#include "common/timefmt.h"
#include "common/banned.h"

static const char notices_schema[] =
    "CREATE TABLE IF NOT EXISTS notices("
    "  id INTEGER PRIMARY KEY, member_id INTEGER NOT NULL REFERENCES members(id),"
    "  state TEXT NOT NULL DEFAULT 'sent', title TEXT NOT NULL, what TEXT NOT NULL,"
    "  why TEXT NOT NULL, action TEXT NOT NULL, template TEXT, lang TEXT,"
    "  answer_by_us INTEGER NOT NULL, created_us INTEGER NOT NULL, created_by TEXT NOT NULL,"
    "  updated_us INTEGER NOT NULL, acked_us INTEGER, acked_by TEXT, answered_us INTEGER,"
    "  closed_us INTEGER);"
    "CREATE INDEX IF NOT EXISTS notices_member ON notices(member_id, id);"
    "CREATE INDEX IF NOT EXISTS notices_due ON notices(state, answer_by_us);"
    "CREATE TABLE IF NOT EXISTS notice_events("
    "  notice_id INTEGER NOT NULL, event_id INTEGER NOT NULL,"
    "  PRIMARY KEY(notice_id, event_id));"
    "CREATE INDEX IF NOT EXISTS notice_events_event ON notice_events(event_id);"
    "CREATE TABLE IF NOT EXISTS notice_answers("
    "  id INTEGER PRIMARY KEY, notice_id INTEGER NOT NULL, at_us INTEGER NOT NULL,"
    "  actor TEXT NOT NULL, text TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS notice_history("
    "  id INTEGER PRIMARY KEY, notice_id INTEGER NOT NULL, at_us INTEGER NOT NULL,"
    "  actor TEXT NOT NULL, change TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS notice_history_notice ON notice_history(notice_id, id);"
    "CREATE TABLE IF NOT EXISTS member_webhooks("
    "  member_id INTEGER PRIMARY KEY REFERENCES members(id), url TEXT NOT NULL,"
    "  secret BLOB NOT NULL, updated_us INTEGER NOT NULL, updated_by TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS notice_deliveries("
    "  id INTEGER PRIMARY KEY, notice_id INTEGER NOT NULL, member_id INTEGER NOT NULL,"
    "  channel TEXT NOT NULL DEFAULT 'webhook', state TEXT NOT NULL DEFAULT 'pending',"
    "  attempts INTEGER NOT NULL DEFAULT 0, next_us INTEGER, created_us INTEGER NOT NULL,"
    "  done_us INTEGER, payload TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS notice_deliveries_due ON notice_deliveries(state, next_us);"
    "CREATE INDEX IF NOT EXISTS notice_deliveries_notice ON notice_deliveries(notice_id);"
    "CREATE TABLE IF NOT EXISTS notice_delivery_attempts("
    "  id INTEGER PRIMARY KEY, delivery_id INTEGER NOT NULL, at_us INTEGER NOT NULL,"
    "  status INTEGER, error TEXT, next_us INTEGER);"
    "CREATE INDEX IF NOT EXISTS notice_delivery_attempts_d ON"
    "  notice_delivery_attempts(delivery_id, id);";

int cw_store_notices_schema(struct cw_store *s, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(s->w, notices_schema, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "cannot create the notice tables: %s", msg ? msg : "?");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ templates */

static const struct cw_notice_template templates[] = {
    {"web_attack_success", "en", "Web attack possibly succeeded",
     "[{member}] Web attack against {targets} may have succeeded",
     "Between {first_seen} and {last_seen} we saw {count} attack requests from {sources} "
     "against {targets} (events {events}) that the server answered with a success or "
     "server-error status, not with a refusal.",
     "A successful answer to an attack request can mean that the vulnerability exists and "
     "was exploited: data may have been read or code run on the server.",
     "1. Check the web server and application logs of {targets} around {first_seen}.\n"
     "2. Check the application for the vulnerability and apply the vendor's fix.\n"
     "3. Look for new files, accounts or processes on the server.\n"
     "4. Answer by {answer_by} with what you found (affected or not, measures taken)."},
    {"web_attack_success", "ja", "Web攻撃が成功した可能性",
     "【{member}】{targets} へのWeb攻撃が成功した可能性があります",
     "{first_seen} から {last_seen} にかけて、{sources} から {targets} への攻撃リクエストを"
     "{count} 件観測しました（イベント {events}）。サーバは拒否ではなく成功またはサーバエラー"
     "の応答を返しています。",
     "攻撃リクエストに成功応答が返っている場合、脆弱性が存在し悪用された可能性があります。"
     "情報の窃取やサーバ上でのコード実行が行われたおそれがあります。",
     "1. {first_seen} 前後の {targets} のWebサーバ・アプリケーションのログを確認してください。\n"
     "2. 該当する脆弱性の有無を確認し、ベンダーの修正を適用してください。\n"
     "3. サーバ上の不審なファイル・アカウント・プロセスの有無を確認してください。\n"
     "4. {answer_by} までに確認結果（影響の有無、実施した対策）をご回答ください。"},
    {"edge_exploit", "en", "Edge device (VPN) exploitation",
     "[{member}] Exploitation attempts against the edge device {targets}",
     "Between {first_seen} and {last_seen} we saw {count} exploitation attempts from "
     "{sources} against {targets} (events {events}), matching known vulnerabilities of VPN "
     "gateways and edge appliances.",
     "Edge devices are exposed to the Internet and are a common way into a network. "
     "Vulnerabilities of VPN products are exploited within days of publication, and a "
     "compromised device gives the attacker access to the internal network.",
     "1. Check the product and version of {targets} against the vendor's advisories and "
     "apply the fixes.\n"
     "2. Run the vendor's integrity check tool, if there is one.\n"
     "3. Review the device's logs and configuration for changes and unknown accounts.\n"
     "4. Answer by {answer_by} with the version, the check result and the measures taken."},
    {"edge_exploit", "ja", "境界装置（VPN）の脆弱性悪用",
     "【{member}】境界装置 {targets} への脆弱性悪用の試み",
     "{first_seen} から {last_seen} にかけて、{sources} から {targets} への、VPN装置・境界装置の"
     "既知の脆弱性を狙った攻撃を {count} 件観測しました（イベント {events}）。",
     "境界装置はインターネットに公開されており、侵入の入口として頻繁に狙われます。VPN製品の"
     "脆弱性は公表から数日で悪用されることが多く、装置が侵害されると内部ネットワークへの"
     "侵入を許すおそれがあります。",
     "1. {targets} の製品・バージョンをベンダーのアドバイザリと照合し、修正を適用してください。\n"
     "2. ベンダーの整合性チェックツールがあれば実行してください。\n"
     "3. 装置のログ・設定の変更や不明なアカウントの有無を確認してください。\n"
     "4. {answer_by} までにバージョン、確認結果、実施した対策をご回答ください。"},
    {"malware_c2", "en", "Malware / C2 communication",
     "[{member}] Possible malware communication from {targets}",
     "Between {first_seen} and {last_seen} we saw {count} connections matching malware or "
     "command-and-control traffic involving {sources} and {targets} (events {events}).",
     "Command-and-control traffic means a host is likely infected and controlled from "
     "outside: data theft, ransomware and spreading inside the network may follow.",
     "1. Identify the host(s) behind {targets} and isolate them from the network.\n"
     "2. Examine them (antivirus / EDR scan, processes, autoruns) and preserve evidence.\n"
     "3. Block the remote addresses {sources} at the perimeter.\n"
     "4. Answer by {answer_by} with the host, the findings and the measures taken."},
    {"malware_c2", "ja", "マルウェア・C2通信",
     "【{member}】{targets} からのマルウェア通信の可能性",
     "{first_seen} から {last_seen} にかけて、{sources} と {targets} の間で、マルウェアまたは"
     "C2（指令サーバ）通信に一致する通信を {count} 件観測しました（イベント {events}）。",
     "C2通信は、端末が感染し外部から操作されている可能性を示します。情報窃取、ランサムウェア、"
     "内部への感染拡大につながるおそれがあります。",
     "1. {targets} に該当する端末を特定し、ネットワークから隔離してください。\n"
     "2. 端末を調査し（ウイルス対策・EDRスキャン、プロセス、自動起動）、証拠を保全してください。\n"
     "3. 通信先 {sources} を境界で遮断してください。\n"
     "4. {answer_by} までに端末、調査結果、実施した対策をご回答ください。"},
    {"scanning_info", "en", "Scanning observed (informational)",
     "[{member}] Scanning of {targets} observed (for information)",
     "Between {first_seen} and {last_seen} we saw {count} scanning requests from {sources} "
     "against {targets} (events {events}).",
     "Scanning alone does not harm, but it shows what is visible from the Internet and often "
     "precedes targeted attacks on what it finds.",
     "1. Check that only the services you intend to offer are reachable on {targets}.\n"
     "2. Keep those services up to date.\n"
     "3. No answer is required beyond an acknowledgement; answer by {answer_by} if you find "
     "anything unexpected."},
    {"scanning_info", "ja", "スキャンの観測（情報提供）",
     "【{member}】{targets} へのスキャンを観測しました（情報提供）",
     "{first_seen} から {last_seen} にかけて、{sources} から {targets} へのスキャンを {count} 件"
     "観測しました（イベント {events}）。",
     "スキャン自体に直接の被害はありませんが、インターネットから見えているサービスが調べられて"
     "おり、その後の標的型攻撃の前段となることがあります。",
     "1. {targets} で公開を意図したサービスのみが到達可能であることを確認してください。\n"
     "2. 公開しているサービスを最新の状態に保ってください。\n"
     "3. 受領確認のみで結構です。想定外の点があれば {answer_by} までにご回答ください。"},
};

const struct cw_notice_template *cw_notice_template_find(const char *id, const char *lang)
{
    for (size_t i = 0; i < sizeof(templates) / sizeof(templates[0]); i++)
        if (!strcmp(templates[i].id, id) && !strcmp(templates[i].lang, lang))
            return &templates[i];
    return NULL;
}

static void json_kv(struct cw_buf *o, bool first, const char *key, const char *v)
{
    cw_buf_addf(o, "%s\"%s\":", first ? "" : ",", key);
    if (v)
        cw_buf_add_json_str(o, v, strlen(v));
    else
        cw_buf_adds(o, "null");
}

void cw_notice_templates_json(struct cw_buf *out)
{
    cw_buf_adds(out, "{\"templates\":[");
    for (size_t i = 0; i < sizeof(templates) / sizeof(templates[0]); i++) {
        const struct cw_notice_template *t = &templates[i];
        cw_buf_adds(out, i ? ",{" : "{");
        json_kv(out, true, "id", t->id);
        json_kv(out, false, "lang", t->lang);
        json_kv(out, false, "name", t->name);
        json_kv(out, false, "title", t->title);
        json_kv(out, false, "what", t->what);
        json_kv(out, false, "why", t->why);
        json_kv(out, false, "action", t->action);
        cw_buf_addc(out, '}');
    }
    cw_buf_adds(out, "]}\n");
}

/* ------------------------------------------------------------------ helpers */

static const char *const notice_states[] = {"sent", "acknowledged", "answered", "closed", NULL};

bool cw_notice_state_valid(const char *state)
{
    for (int i = 0; notice_states[i]; i++)
        if (!strcmp(notice_states[i], state))
            return true;
    return false;
}

#define NOTICE_COLS                                                                           \
    "SELECT n.id, n.member_id, m.name, n.state, n.title, n.what, n.why, n.action,"             \
    " n.template, n.lang, n.answer_by_us, n.created_us, n.created_by, n.acked_us, n.acked_by," \
    " n.answered_us, n.closed_us, n.updated_us,"                                               \
    " (SELECT group_concat(event_id) FROM (SELECT event_id FROM notice_events"                 \
    "  WHERE notice_id = n.id ORDER BY event_id))"                                             \
    " FROM notices n JOIN members m ON m.id = n.member_id"

/* One notice row (NOTICE_COLS) as a JSON object without the closing brace. */
static void notice_row(struct cw_buf *o, sqlite3_stmt *st, int64_t now)
{
    cw_buf_addf(o, "{\"id\":%lld,\"member_id\":%lld", (long long)sqlite3_column_int64(st, 0),
                (long long)sqlite3_column_int64(st, 1));
    cw_store_json_text(o, "member", st, 2);
    cw_store_json_text(o, "state", st, 3);
    cw_store_json_text(o, "title", st, 4);
    cw_store_json_text(o, "what", st, 5);
    cw_store_json_text(o, "why", st, 6);
    cw_store_json_text(o, "action", st, 7);
    cw_store_json_text(o, "template", st, 8);
    cw_store_json_text(o, "lang", st, 9);
    cw_store_json_time(o, "answer_by", st, 10);
    const char *state = (const char *)sqlite3_column_text(st, 3);
    bool open = state && (!strcmp(state, "sent") || !strcmp(state, "acknowledged"));
    cw_buf_addf(o, ",\"overdue\":%s",
                open && sqlite3_column_int64(st, 10) < now ? "true" : "false");
    cw_store_json_time(o, "created", st, 11);
    cw_store_json_text(o, "created_by", st, 12);
    cw_store_json_time(o, "acknowledged", st, 13);
    cw_store_json_text(o, "acknowledged_by", st, 14);
    cw_store_json_time(o, "answered", st, 15);
    cw_store_json_time(o, "closed", st, 16);
    cw_store_json_time(o, "updated", st, 17);
    const char *ev = (const char *)sqlite3_column_text(st, 18);
    cw_buf_addf(o, ",\"events\":[%s]", ev ? ev : "");
}

/* A notice (no answers/history) read on connection db; for the webhook payload. */
static int notice_doc(sqlite3 *db, int64_t id, struct cw_buf *out, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    if (cw_store_prep(db, &st, NOTICE_COLS " WHERE n.id = ?", err, errlen))
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = CW_STORE_NOT_FOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        notice_row(out, st, cw_now_us());
        cw_buf_addc(out, '}');
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

/* ------------------------------------------------------------------ create */

struct facts {
    char member[128];
    struct cw_buf events, sources, targets;
    int64_t first_us, last_us, count;
    int64_t answer_by_us;
};

/* Append a stored JSON array of addresses ("[\"a\",\"b\"]") as "a, b" to a list,
 * without repeating an address already in it. */
static void add_addresses(struct cw_buf *list, const char *json)
{
    if (!json)
        return;
    const char *p = json;
    while ((p = strchr(p, '"')) != NULL) {
        const char *e = strchr(p + 1, '"');
        if (!e)
            break;
        size_t n = (size_t)(e - p - 1);
        if (n && n < 64) {
            char a[80];
            memcpy(a, p + 1, n);
            a[n] = '\0';
            bool dup = false;
            if (list->data) {
                const char *q = list->data;
                while ((q = strstr(q, a)) != NULL) {
                    bool start = q == list->data || q[-1] == ' ';
                    bool end = q[n] == '\0' || q[n] == ',';
                    if (start && end) {
                        dup = true;
                        break;
                    }
                    q += n;
                }
            }
            if (!dup) {
                if (list->len)
                    cw_buf_adds(list, ", ");
                cw_buf_adds(list, a);
            }
        }
        p = e + 1;
    }
}

/* Replace the placeholders of a template text; unknown {words} stay as they are. */
static void fill(struct cw_buf *o, const char *t, const struct facts *f)
{
    char tb[40];
    while (*t) {
        const char *b = strchr(t, '{');
        if (!b) {
            cw_buf_adds(o, t);
            break;
        }
        cw_buf_add(o, t, (size_t)(b - t));
        const char *e = strchr(b, '}');
        const char *v = NULL;
        size_t k = e ? (size_t)(e - b + 1) : 0;
#define PH(name) (k == sizeof(name) - 1 && !memcmp(b, name, k))
        if (PH("{member}"))
            v = f->member;
        else if (PH("{events}"))
            v = f->events.data ? f->events.data : "";
        else if (PH("{sources}"))
            v = f->sources.len ? f->sources.data : "-";
        else if (PH("{targets}"))
            v = f->targets.len ? f->targets.data : "-";
        else if (PH("{first_seen}"))
            v = (cw_time_format_iso(f->first_us, tb), tb);
        else if (PH("{last_seen}"))
            v = (cw_time_format_iso(f->last_us, tb), tb);
        else if (PH("{answer_by}"))
            v = (cw_time_format_iso(f->answer_by_us, tb), tb);
        else if (PH("{count}"))
            v = (snprintf(tb, sizeof(tb), "%lld", (long long)f->count), tb);
#undef PH
        if (v) {
            cw_buf_adds(o, v);
            t = b + k;
        } else {
            cw_buf_addc(o, '{');
            t = b + 1;
        }
    }
}

static int hist(sqlite3 *db, const char *table, const char *col, int64_t id, int64_t now,
                const char *actor, const char *change)
{
    char sql[200];
    snprintf(sql, sizeof(sql), "INSERT INTO %s(%s, at_us, actor, change) VALUES(?,?,?,?)", table,
             col);
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, now);
        sqlite3_bind_text(st, 3, actor, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, change, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(st);
    return rc;
}

int cw_store_notice_create(struct cw_store *s, const struct cw_notice_new *n, int64_t *id,
                           char *err, size_t errlen)
{
    struct facts f;
    memset(&f, 0, sizeof(f));
    f.answer_by_us = n->answer_by_us;
    struct cw_buf text[4] = {CW_BUF_INIT, CW_BUF_INIT, CW_BUF_INIT, CW_BUF_INIT};
    struct cw_buf payload = CW_BUF_INIT;
    sqlite3_stmt *st = NULL;
    int rc = -1;
    int64_t now = cw_now_us();
    pthread_mutex_lock(&s->wlock);
    if (sqlite3_exec(s->w, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "storage busy");
        goto unlock;
    }
    if (cw_store_prep(s->w, &st, "SELECT name FROM members WHERE id = ?", err, errlen))
        goto rollback;
    sqlite3_bind_int64(st, 1, n->member_id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = CW_STORE_NOT_FOUND;
        snprintf(err, errlen, "no such member");
        goto rollback;
    }
    snprintf(f.member, sizeof(f.member), "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    st = NULL;
    /* every event: exists, is this member's, is being investigated */
    if (cw_store_prep(s->w, &st,
             "SELECT member_id, state, first_us, last_us, count, sources, targets FROM events"
             " WHERE id = ?",
             err, errlen))
        goto rollback;
    for (size_t i = 0; i < n->nevents; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, n->events[i]);
        if (sqlite3_step(st) != SQLITE_ROW) {
            rc = CW_STORE_NOT_FOUND;
            snprintf(err, errlen, "no event %lld", (long long)n->events[i]);
            goto rollback;
        }
        if ((uint32_t)sqlite3_column_int64(st, 0) != n->member_id) {
            rc = CW_STORE_INVALID;
            snprintf(err, errlen, "event %lld belongs to another member",
                     (long long)n->events[i]);
            goto rollback;
        }
        const char *state = (const char *)sqlite3_column_text(st, 1);
        if (!state || strcmp(state, "investigating")) {
            rc = CW_STORE_BAD_TRANSITION;
            snprintf(err, errlen, "event %lld is %s, not investigating (a notice needs "
                                  "events under investigation)",
                     (long long)n->events[i], state ? state : "?");
            goto rollback;
        }
        int64_t fu = sqlite3_column_int64(st, 2), lu = sqlite3_column_int64(st, 3);
        if (i == 0 || fu < f.first_us)
            f.first_us = fu;
        if (i == 0 || lu > f.last_us)
            f.last_us = lu;
        f.count += sqlite3_column_int64(st, 4);
        cw_buf_addf(&f.events, "%s#%lld", i ? ", " : "", (long long)n->events[i]);
        add_addresses(&f.sources, (const char *)sqlite3_column_text(st, 5));
        add_addresses(&f.targets, (const char *)sqlite3_column_text(st, 6));
    }
    sqlite3_finalize(st);
    st = NULL;
    /* texts: templates filled from the events, then bounded */
    const char *in[4] = {n->title, n->what, n->why, n->action};
    static const char *const names[4] = {"title", "what", "why", "action"};
    for (int k = 0; k < 4; k++) {
        if (n->fill_mask & (1u << k))
            fill(&text[k], in[k], &f);
        else
            cw_buf_adds(&text[k], in[k]);
        size_t max = k == 0 ? CW_NOTICE_TITLE_MAX : CW_NOTICE_TEXT_MAX;
        if (!cw_buf_ok(&text[k])) {
            snprintf(err, errlen, "out of memory");
            goto rollback;
        }
        if (text[k].len > max) {
            rc = CW_STORE_INVALID;
            snprintf(err, errlen, "field '%s' is longer than %zu bytes", names[k], max);
            goto rollback;
        }
    }
    if (cw_store_prep(s->w, &st,
             "INSERT INTO notices(member_id, state, title, what, why, action, template, lang,"
             " answer_by_us, created_us, created_by, updated_us)"
             " VALUES(?,'sent',?,?,?,?,?,?,?,?,?,?)",
             err, errlen))
        goto rollback;
    sqlite3_bind_int64(st, 1, n->member_id);
    for (int k = 0; k < 4; k++)
        sqlite3_bind_text(st, 2 + k, text[k].data ? text[k].data : "", (int)text[k].len,
                          SQLITE_TRANSIENT);
    if (n->template_id) {
        sqlite3_bind_text(st, 6, n->template_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 7, n->lang, -1, SQLITE_TRANSIENT);
    }
    sqlite3_bind_int64(st, 8, n->answer_by_us);
    sqlite3_bind_int64(st, 9, now);
    sqlite3_bind_text(st, 10, n->actor, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 11, now);
    if (sqlite3_step(st) != SQLITE_DONE)
        goto storage;
    int64_t nid = sqlite3_last_insert_rowid(s->w);
    sqlite3_finalize(st);
    st = NULL;
    /* the events: linked, moved to notified, history kept */
    if (cw_store_prep(s->w, &st, "INSERT INTO notice_events(notice_id, event_id) VALUES(?,?)", err,
             errlen))
        goto rollback;
    for (size_t i = 0; i < n->nevents; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, nid);
        sqlite3_bind_int64(st, 2, n->events[i]);
        if (sqlite3_step(st) != SQLITE_DONE)
            goto storage;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (cw_store_prep(s->w, &st, "UPDATE events SET state = 'notified', updated_us = ? WHERE id = ?", err,
             errlen))
        goto rollback;
    char change[128];
    snprintf(change, sizeof(change), "state investigating -> notified: notice %lld",
             (long long)nid);
    for (size_t i = 0; i < n->nevents; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, now);
        sqlite3_bind_int64(st, 2, n->events[i]);
        if (sqlite3_step(st) != SQLITE_DONE ||
            hist(s->w, "event_history", "event_id", n->events[i], now, n->actor, change))
            goto storage;
    }
    sqlite3_finalize(st);
    st = NULL;
    snprintf(change, sizeof(change), "created (state sent, %zu event%s)", n->nevents,
             n->nevents == 1 ? "" : "s");
    if (hist(s->w, "notice_history", "notice_id", nid, now, n->actor, change))
        goto storage;
    /* the outbox: a webhook delivery when the member has a webhook */
    if (cw_store_prep(s->w, &st, "SELECT 1 FROM member_webhooks WHERE member_id = ?", err, errlen))
        goto rollback;
    sqlite3_bind_int64(st, 1, n->member_id);
    bool hook = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    st = NULL;
    if (hook) {
        if (notice_doc(s->w, nid, &payload, err, errlen) || !cw_buf_ok(&payload))
            goto storage;
        if (cw_store_prep(s->w, &st,
                 "INSERT INTO notice_deliveries(notice_id, member_id, channel, state, attempts,"
                 " next_us, created_us, payload) VALUES(?,?,'webhook','pending',0,?,?,?)",
                 err, errlen))
            goto rollback;
        sqlite3_bind_int64(st, 1, nid);
        sqlite3_bind_int64(st, 2, n->member_id);
        sqlite3_bind_int64(st, 3, now);
        sqlite3_bind_int64(st, 4, now);
        sqlite3_bind_text(st, 5, payload.data, (int)payload.len, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE)
            goto storage;
        sqlite3_finalize(st);
        st = NULL;
    }
    if (sqlite3_exec(s->w, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto storage;
    *id = nid;
    rc = 0;
    goto unlock;
storage:
    snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(s->w));
    rc = -1;
rollback:
    sqlite3_exec(s->w, "ROLLBACK", NULL, NULL, NULL);
unlock:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->wlock);
    for (int k = 0; k < 4; k++)
        cw_buf_release(&text[k]);
    cw_buf_release(&payload);
    cw_buf_release(&f.events);
    cw_buf_release(&f.sources);
    cw_buf_release(&f.targets);
    return rc;
}

/* ------------------------------------------------------------------ state changes */

int cw_store_notice_act(struct cw_store *s, int64_t id, uint32_t scope,
                        enum cw_notice_action action, const char *actor, const char *text,
                        char *err, size_t errlen)
{
    int rc = -1;
    sqlite3_stmt *st = NULL;
    int64_t now = cw_now_us();
    pthread_mutex_lock(&s->wlock);
    if (sqlite3_exec(s->w, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "storage busy");
        goto unlock;
    }
    if (cw_store_prep(s->w, &st, "SELECT member_id, state FROM notices WHERE id = ?", err, errlen))
        goto rollback;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW ||
        (scope && (uint32_t)sqlite3_column_int64(st, 0) != scope)) {
        rc = CW_STORE_NOT_FOUND;
        snprintf(err, errlen, "no notice %lld", (long long)id);
        goto rollback;
    }
    char from[32];
    snprintf(from, sizeof(from), "%s", (const char *)sqlite3_column_text(st, 1));
    sqlite3_finalize(st);
    st = NULL;
    const char *to = NULL, *bad = NULL, *sql = NULL;
    switch (action) {
    case CW_NOTICE_ACK:
        to = "acknowledged";
        if (strcmp(from, "sent"))
            bad = "only a sent notice can be acknowledged";
        sql = "UPDATE notices SET state = ?, updated_us = ?2, acked_us = ?2, acked_by = ?3"
              " WHERE id = ?4";
        break;
    case CW_NOTICE_ANSWER:
        to = "answered";
        if (!strcmp(from, "sent"))
            bad = "acknowledge the notice before answering it";
        else if (strcmp(from, "acknowledged"))
            bad = "only an acknowledged notice can be answered";
        sql = "UPDATE notices SET state = ?, updated_us = ?2, answered_us = ?2 WHERE id = ?4";
        break;
    case CW_NOTICE_CLOSE:
        to = "closed";
        if (!strcmp(from, "closed"))
            bad = "the notice is already closed";
        sql = "UPDATE notices SET state = ?, updated_us = ?2, closed_us = ?2 WHERE id = ?4";
        break;
    }
    if (bad) {
        rc = CW_STORE_BAD_TRANSITION;
        snprintf(err, errlen, "notice %lld is %s: %s", (long long)id, from, bad);
        goto rollback;
    }
    if (cw_store_prep(s->w, &st, sql, err, errlen))
        goto rollback;
    sqlite3_bind_text(st, 1, to, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_text(st, 3, actor, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, id);
    if (sqlite3_step(st) != SQLITE_DONE)
        goto storage;
    sqlite3_finalize(st);
    st = NULL;
    if (action == CW_NOTICE_ANSWER) {
        if (cw_store_prep(s->w, &st,
                 "INSERT INTO notice_answers(notice_id, at_us, actor, text) VALUES(?,?,?,?)", err,
                 errlen))
            goto rollback;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, now);
        sqlite3_bind_text(st, 3, actor, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, text ? text : "", -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE)
            goto storage;
        sqlite3_finalize(st);
        st = NULL;
    }
    struct cw_buf change = CW_BUF_INIT;
    cw_buf_addf(&change, "state %s -> %s", from, to);
    if (action != CW_NOTICE_ANSWER && text && *text)
        cw_buf_addf(&change, ": %s", text);
    int h = cw_buf_ok(&change) ? hist(s->w, "notice_history", "notice_id", id, now, actor,
                                      change.data)
                               : -1;
    cw_buf_release(&change);
    if (h || sqlite3_exec(s->w, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto storage;
    rc = 0;
    goto unlock;
storage:
    snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(s->w));
    rc = -1;
rollback:
    sqlite3_exec(s->w, "ROLLBACK", NULL, NULL, NULL);
unlock:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

/* ------------------------------------------------------------------ reads */

int cw_store_notices_json(struct cw_store *s, const struct cw_notice_filter *f,
                          struct cw_buf *out, char *err, size_t errlen)
{
    int64_t now = cw_now_us();
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    if (cw_store_prep(rd, &st,
             NOTICE_COLS " WHERE (?1 = 0 OR n.member_id = ?1) AND (?2 IS NULL OR n.state = ?2)"
                         " AND (?3 = 0 OR (n.state IN ('sent','acknowledged') AND"
                         " n.answer_by_us < ?4)) AND n.id > ?5 ORDER BY n.id LIMIT ?6",
             err, errlen)) {
        cw_store_reader_done(s, rd);
        return -1;
    }
    sqlite3_bind_int64(st, 1, f->member_id);
    if (f->state)
        sqlite3_bind_text(st, 2, f->state, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 3, f->overdue ? 1 : 0);
    sqlite3_bind_int64(st, 4, now);
    sqlite3_bind_int64(st, 5, f->after_id);
    sqlite3_bind_int(st, 6, f->limit > 0 ? f->limit : 100);
    cw_buf_adds(out, "{\"notices\":[");
    int64_t last = 0;
    int n = 0, r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (n++)
            cw_buf_addc(out, ',');
        notice_row(out, st, now);
        cw_buf_addc(out, '}');
        last = sqlite3_column_int64(st, 0);
    }
    int rc = 0;
    if (r != SQLITE_DONE) {
        snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(rd));
        rc = -1;
    }
    cw_buf_addf(out, "],\"next_after\":%lld}\n", (long long)last);
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return rc;
}

/* Is notice id visible in scope? (on the caller's reader) */
static int notice_scope_check(sqlite3 *rd, int64_t id, uint32_t scope, char *err,
                              size_t errlen)
{
    sqlite3_stmt *st = NULL;
    if (cw_store_prep(rd, &st, "SELECT member_id FROM notices WHERE id = ?", err, errlen))
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = CW_STORE_NOT_FOUND;
    if (sqlite3_step(st) == SQLITE_ROW && (!scope || (uint32_t)sqlite3_column_int64(st, 0) == scope))
        rc = 0;
    sqlite3_finalize(st);
    if (rc)
        snprintf(err, errlen, "no notice %lld", (long long)id);
    return rc;
}

int cw_store_notice_json(struct cw_store *s, int64_t id, uint32_t scope, struct cw_buf *out,
                         char *err, size_t errlen)
{
    sqlite3 *rd = cw_store_reader(s);
    int rc = notice_scope_check(rd, id, scope, err, errlen);
    sqlite3_stmt *st = NULL;
    if (rc)
        goto out;
    rc = -1;
    if (cw_store_prep(rd, &st, NOTICE_COLS " WHERE n.id = ?", err, errlen))
        goto out;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = CW_STORE_NOT_FOUND;
        snprintf(err, errlen, "no notice %lld", (long long)id);
        goto out;
    }
    notice_row(out, st, cw_now_us());
    sqlite3_finalize(st);
    st = NULL;
    if (cw_store_prep(rd, &st,
             "SELECT at_us, actor, text FROM notice_answers WHERE notice_id = ? ORDER BY id", err,
             errlen))
        goto out;
    sqlite3_bind_int64(st, 1, id);
    cw_buf_adds(out, ",\"answers\":[");
    for (int n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
        char t[40];
        cw_time_format_iso(sqlite3_column_int64(st, 0), t);
        cw_buf_addf(out, "%s{\"at\":\"%s\"", n ? "," : "", t);
        cw_store_json_text(out, "by", st, 1);
        cw_store_json_text(out, "text", st, 2);
        cw_buf_addc(out, '}');
    }
    sqlite3_finalize(st);
    st = NULL;
    if (cw_store_prep(rd, &st,
             "SELECT at_us, actor, change FROM notice_history WHERE notice_id = ? ORDER BY id",
             err, errlen))
        goto out;
    sqlite3_bind_int64(st, 1, id);
    cw_buf_adds(out, "],\"history\":[");
    for (int n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
        char t[40];
        cw_time_format_iso(sqlite3_column_int64(st, 0), t);
        cw_buf_addf(out, "%s{\"at\":\"%s\"", n ? "," : "", t);
        cw_store_json_text(out, "actor", st, 1);
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

int cw_store_notice_deliveries_json(struct cw_store *s, int64_t id, uint32_t scope,
                                    struct cw_buf *out, char *err, size_t errlen)
{
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL, *at = NULL;
    int rc = notice_scope_check(rd, id, scope, err, errlen);
    if (rc)
        goto out;
    rc = -1;
    if (cw_store_prep(rd, &st,
             "SELECT id, channel, state, attempts, next_us, created_us, done_us FROM"
             " notice_deliveries WHERE notice_id = ? ORDER BY id",
             err, errlen) ||
        cw_store_prep(rd, &at,
             "SELECT at_us, status, error, next_us FROM notice_delivery_attempts WHERE"
             " delivery_id = ? ORDER BY id",
             err, errlen))
        goto out;
    sqlite3_bind_int64(st, 1, id);
    cw_buf_addf(out, "{\"notice\":%lld,\"deliveries\":[", (long long)id);
    for (int n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
        int64_t did = sqlite3_column_int64(st, 0);
        cw_buf_addf(out, "%s{\"id\":%lld", n ? "," : "", (long long)did);
        cw_store_json_text(out, "channel", st, 1);
        cw_store_json_text(out, "state", st, 2);
        cw_buf_addf(out, ",\"attempts\":%d", sqlite3_column_int(st, 3));
        const char *state = (const char *)sqlite3_column_text(st, 2);
        if (state && !strcmp(state, "pending"))
            cw_store_json_time(out, "next_try", st, 4);
        else
            cw_buf_adds(out, ",\"next_try\":null");
        cw_store_json_time(out, "created", st, 5);
        cw_store_json_time(out, "done", st, 6);
        cw_buf_adds(out, ",\"log\":[");
        sqlite3_reset(at);
        sqlite3_bind_int64(at, 1, did);
        for (int k = 0; sqlite3_step(at) == SQLITE_ROW; k++) {
            char t[40];
            cw_time_format_iso(sqlite3_column_int64(at, 0), t);
            cw_buf_addf(out, "%s{\"at\":\"%s\",\"status\":", k ? "," : "", t);
            if (sqlite3_column_type(at, 1) == SQLITE_NULL)
                cw_buf_adds(out, "null");
            else
                cw_buf_addf(out, "%d", sqlite3_column_int(at, 1));
            cw_store_json_text(out, "error", at, 2);
            cw_store_json_time(out, "next_try", at, 3);
            cw_buf_addc(out, '}');
        }
        cw_buf_adds(out, "]}");
    }
    cw_buf_adds(out, "]}\n");
    rc = 0;
out:
    sqlite3_finalize(st);
    sqlite3_finalize(at);
    cw_store_reader_done(s, rd);
    return rc;
}

/* ------------------------------------------------------------------ webhooks */

int cw_store_webhook_set(struct cw_store *s, uint32_t member_id, const char *url,
                         const char *secret, const char *actor, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;
    pthread_mutex_lock(&s->wlock);
    if (url) {
        if (cw_store_prep(s->w, &st,
                 "INSERT INTO member_webhooks(member_id, url, secret, updated_us, updated_by)"
                 " VALUES(?1,?2,?3,?4,?5) ON CONFLICT(member_id) DO UPDATE SET url = ?2,"
                 " secret = ?3, updated_us = ?4, updated_by = ?5",
                 err, errlen))
            goto out;
        sqlite3_bind_int64(st, 1, member_id);
        sqlite3_bind_text(st, 2, url, -1, SQLITE_TRANSIENT);
        sqlite3_bind_blob(st, 3, secret, (int)strlen(secret), SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, cw_now_us());
        sqlite3_bind_text(st, 5, actor, -1, SQLITE_TRANSIENT);
    } else {
        if (cw_store_prep(s->w, &st, "DELETE FROM member_webhooks WHERE member_id = ?", err, errlen))
            goto out;
        sqlite3_bind_int64(st, 1, member_id);
    }
    if (sqlite3_step(st) == SQLITE_DONE)
        rc = 0;
    else
        snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(s->w));
out:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

int cw_store_webhook_json(struct cw_store *s, uint32_t member_id, struct cw_buf *out, char *err,
                          size_t errlen)
{
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (cw_store_prep(rd, &st,
             "SELECT url, updated_us, updated_by FROM member_webhooks WHERE member_id = ?", err,
             errlen))
        goto out;
    sqlite3_bind_int64(st, 1, member_id);
    cw_buf_addf(out, "{\"member_id\":%u", member_id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        cw_store_json_text(out, "url", st, 0);
        cw_buf_adds(out, ",\"secret_set\":true");
        cw_store_json_time(out, "updated", st, 1);
        cw_store_json_text(out, "updated_by", st, 2);
    } else {
        cw_buf_adds(out, ",\"url\":null,\"secret_set\":false,\"updated\":null,\"updated_by\":null");
    }
    cw_buf_adds(out, "}\n");
    rc = 0;
out:
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return rc;
}

/* ------------------------------------------------------------------ outbox */

static char *dup_col(sqlite3_stmt *st, int col, size_t *len)
{
    const void *v = sqlite3_column_blob(st, col);
    size_t n = (size_t)sqlite3_column_bytes(st, col);
    if (!v)
        return NULL;
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    memcpy(p, v, n);
    p[n] = '\0';
    if (len)
        *len = n;
    return p;
}

void cw_delivery_job_free(struct cw_delivery_job *j)
{
    if (j->secret) {
        sodium_memzero(j->secret, j->secret_len);
        free(j->secret);
    }
    free(j->url);
    free(j->payload);
    memset(j, 0, sizeof(*j));
}

int cw_store_deliveries_due(struct cw_store *s, int64_t now_us, struct cw_delivery_job *jobs,
                            int max, char *err, size_t errlen)
{
    sqlite3 *rd = cw_store_reader(s);
    sqlite3_stmt *st = NULL;
    int n = 0;
    if (cw_store_prep(rd, &st,
             "SELECT d.id, d.notice_id, d.attempts, w.url, w.secret, d.payload FROM"
             " notice_deliveries d LEFT JOIN member_webhooks w ON w.member_id = d.member_id"
             " WHERE d.state = 'pending' AND d.next_us <= ? ORDER BY d.next_us, d.id LIMIT ?",
             err, errlen)) {
        cw_store_reader_done(s, rd);
        return -1;
    }
    sqlite3_bind_int64(st, 1, now_us);
    sqlite3_bind_int(st, 2, max);
    while (n < max && sqlite3_step(st) == SQLITE_ROW) {
        struct cw_delivery_job *j = &jobs[n];
        memset(j, 0, sizeof(*j));
        j->id = sqlite3_column_int64(st, 0);
        j->notice_id = sqlite3_column_int64(st, 1);
        j->attempts = sqlite3_column_int(st, 2);
        j->url = dup_col(st, 3, NULL);
        j->secret = dup_col(st, 4, &j->secret_len);
        j->payload = dup_col(st, 5, NULL);
        if (!j->payload) {
            cw_delivery_job_free(j);
            break;
        }
        n++;
    }
    sqlite3_finalize(st);
    cw_store_reader_done(s, rd);
    return n;
}

int cw_store_delivery_record(struct cw_store *s, int64_t id, int64_t at_us, int status,
                             const char *error, const char *state, int64_t next_us, char *err,
                             size_t errlen)
{
    bool pending = !strcmp(state, "pending");
    sqlite3_stmt *st = NULL;
    int rc = -1;
    pthread_mutex_lock(&s->wlock);
    if (sqlite3_exec(s->w, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "storage busy");
        goto unlock;
    }
    if (cw_store_prep(s->w, &st,
             "INSERT INTO notice_delivery_attempts(delivery_id, at_us, status, error, next_us)"
             " VALUES(?,?,?,?,?)",
             err, errlen))
        goto rollback;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, at_us);
    if (status)
        sqlite3_bind_int(st, 3, status);
    if (error)
        sqlite3_bind_text(st, 4, error, -1, SQLITE_TRANSIENT);
    if (pending)
        sqlite3_bind_int64(st, 5, next_us);
    if (sqlite3_step(st) != SQLITE_DONE)
        goto storage;
    sqlite3_finalize(st);
    st = NULL;
    if (cw_store_prep(s->w, &st,
             "UPDATE notice_deliveries SET attempts = attempts + 1, state = ?, next_us = ?,"
             " done_us = ? WHERE id = ?",
             err, errlen))
        goto rollback;
    sqlite3_bind_text(st, 1, state, -1, SQLITE_TRANSIENT);
    if (pending)
        sqlite3_bind_int64(st, 2, next_us);
    if (!pending)
        sqlite3_bind_int64(st, 3, at_us);
    sqlite3_bind_int64(st, 4, id);
    if (sqlite3_step(st) != SQLITE_DONE ||
        sqlite3_exec(s->w, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto storage;
    rc = 0;
    goto unlock;
storage:
    snprintf(err, errlen, "storage error: %s", sqlite3_errmsg(s->w));
rollback:
    sqlite3_exec(s->w, "ROLLBACK", NULL, NULL, NULL);
unlock:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->wlock);
    return rc;
}
