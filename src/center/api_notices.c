/* api_notices.c - notices (通報) to members, their inbox, answers, webhooks.
 *
 *   POST /api/v1/notices                  coordinator: write a notice from events
 *   GET  /api/v1/notices[?member&state&overdue=true&after&limit]   scoped inbox
 *   GET  /api/v1/notices/overdue          coordinator: open notices past answer_by
 *   GET  /api/v1/notices/{id}             scoped; with answers and history
 *   POST /api/v1/notices/{id}/ack         the member's own users
 *   POST /api/v1/notices/{id}/answer      the member's own users {"text"}
 *   POST /api/v1/notices/{id}/close       coordinator {"reason"?}
 *   GET  /api/v1/notices/{id}/deliveries  scoped: webhook delivery log
 *   GET  /api/v1/notice-templates         coordinator
 *   GET/POST /api/v1/members/{id}/webhook coordinator admin or that member's admin
 * Another member's notice answers 404 (as if it did not exist). Every refusal is a
 * 4xx with a reason and changes nothing (the store writes in one transaction). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "center/http.h"
#include "center/store.h"
#include "center/store_notices.h"
#include "common/json.h"
#include "common/timefmt.h"
#include "common/utf8.h"
#include "common/banned.h"

#define MAX_TOKENS 512

struct body {
    struct cw_arena arena;
    struct cw_json j;
    jsmntok_t tok[MAX_TOKENS];
};

/* Parse a JSON object body whose keys are all in `allowed` (NULL-terminated), each
 * at most once. An empty body is an empty object when empty_ok. */
static int parse_body(struct body *b, struct cw_http_request *req, struct cw_http_response *resp,
                      const char *const *allowed, bool empty_ok)
{
    const char *err = NULL;
    cw_arena_init(&b->arena, 4096, 1 << 20);
    const char *src = req->body.data;
    size_t len = req->body.len;
    if (!len && empty_ok) {
        src = "{}";
        len = 2;
    }
    if (!len || cw_json_parse(&b->j, src, len, b->tok, MAX_TOKENS, &err) ||
        !cw_json_is(&b->j, 0, JSMN_OBJECT)) {
        cw_http_json_error(resp, 400, "body: %s", err ? err : "a JSON object is required");
        return -1;
    }
    int k = 1;
    for (int m = 0; m < b->j.tok[0].size && k < b->j.ntok; m++) {
        bool known = false;
        for (int a = 0; allowed[a] && !known; a++)
            known = cw_json_eq(&b->j, k, allowed[a]);
        size_t kl;
        const char *kraw = cw_json_raw(&b->j, k, &kl);
        if (!known) {
            cw_http_json_error(resp, 400, "unknown field '%.*s'", (int)(kl > 40 ? 40 : kl), kraw);
            return -1;
        }
        /* duplicate keys: the same key earlier in the object */
        int q = 1;
        for (int n = 0; n < m; n++) {
            size_t ql;
            const char *qraw = cw_json_raw(&b->j, q, &ql);
            if (ql == kl && !memcmp(qraw, kraw, kl)) {
                cw_http_json_error(resp, 400, "field '%.*s' given twice", (int)kl, kraw);
                return -1;
            }
            q = cw_json_next(&b->j, q + 1);
        }
        k = cw_json_next(&b->j, k + 1);
    }
    return 0;
}

/* U+FFFD in s, literal or as a \ufffd escape. The JSON reader turns a lone surrogate
 * escape into U+FFFD; a notice refuses it instead of changing the text silently. */
static size_t count_fffd(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i + 2 < n; i++)
        if ((unsigned char)s[i] == 0xef && (unsigned char)s[i + 1] == 0xbf &&
            (unsigned char)s[i + 2] == 0xbd)
            c++;
    for (size_t i = 0; i + 5 < n; i++)
        if (s[i] == '\\' && (s[i + 1] == 'u') && strncasecmp(s + i + 2, "fffd", 4) == 0)
            c++;
    return c;
}

/* A string field of valid UTF-8, min..max bytes, no NUL; control characters refused
 * except newline and tab when multiline. *out NULL when absent or null. */
static int text_field(struct body *b, const char *key, size_t min, size_t max, bool multiline,
                      bool required, const char **out, struct cw_http_response *resp)
{
    int t = cw_json_get(&b->j, 0, key);
    const char *s;
    size_t n;
    *out = NULL;
    if (t < 0 || cw_json_is_null(&b->j, t)) {
        if (required)
            cw_http_json_error(resp, 400, "missing field '%s'", key);
        return required ? -1 : 0;
    }
    if (!cw_json_is(&b->j, t, JSMN_STRING)) {
        cw_http_json_error(resp, 400, "field '%s' must be a string", key);
        return -1;
    }
    if ((size_t)(b->j.tok[t].end - b->j.tok[t].start) > 6 * max) {
        cw_http_json_error(resp, 400, "field '%s' is longer than %zu bytes", key, max);
        return -1;
    }
    if (cw_json_str(&b->j, t, &b->arena, &s, &n)) {
        cw_http_json_error(resp, 400, "field '%s' must be a string", key);
        return -1;
    }
    if (n > max) {
        cw_http_json_error(resp, 400, "field '%s' is longer than %zu bytes", key, max);
        return -1;
    }
    if (n < min) {
        cw_http_json_error(resp, 400, "field '%s' must not be empty", key);
        return -1;
    }
    size_t rawn;
    const char *raw = cw_json_raw(&b->j, t, &rawn);
    if (count_fffd(s, n) > count_fffd(raw, rawn)) {
        cw_http_json_error(resp, 400, "field '%s' has a lone UTF-16 surrogate escape", key);
        return -1;
    }
    if (memchr(s, '\0', n) || !cw_utf8_valid(s, n)) {
        cw_http_json_error(resp, 400, "field '%s' must be valid UTF-8 without NUL", key);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch < 0x20 && !(multiline && (ch == '\n' || ch == '\t'))) || ch == 0x7f) {
            cw_http_json_error(resp, 400, "field '%s' has control characters", key);
            return -1;
        }
    }
    char *copy = cw_arena_strndup(&b->arena, s, n);
    if (!copy) {
        cw_http_json_error(resp, 503, "out of memory");
        return -1;
    }
    *out = copy;
    return 0;
}

static void store_error(struct cw_http_response *resp, int r, const char *err)
{
    if (r == CW_STORE_NOT_FOUND)
        cw_http_json_error(resp, 404, "%s", err);
    else if (r == CW_STORE_INVALID)
        cw_http_json_error(resp, 400, "%s", err);
    else if (r == CW_STORE_BAD_TRANSITION)
        cw_http_json_error(resp, 409, "%s", err);
    else
        cw_http_json_error(resp, 503, "%s", err);
}

/* The {id} of the URL (digits, checked by the dispatcher). */
static int64_t path_id(const struct cw_http_request *req)
{
    return strtoll(req->path_arg, NULL, 10);
}

/* ------------------------------------------------------------------ create */

static int member_ref(struct cw_center *c, struct body *b, uint32_t *id,
                      struct cw_http_response *resp)
{
    int t = cw_json_get(&b->j, 0, "member");
    char ref[32];
    const char *name = NULL;
    if (t < 0 || cw_json_is_null(&b->j, t)) {
        cw_http_json_error(resp, 400, "missing field 'member'");
        return -1;
    }
    if (cw_json_is(&b->j, t, JSMN_PRIMITIVE)) {
        int64_t v;
        if (cw_json_int(&b->j, t, &v) || v <= 0 || v > UINT32_MAX) {
            cw_http_json_error(resp, 400, "field 'member' must be a member name or id");
            return -1;
        }
        snprintf(ref, sizeof(ref), "%lld", (long long)v);
        name = ref;
    } else if (text_field(b, "member", 1, 100, false, true, &name, resp)) {
        return -1;
    }
    struct cw_member_info m;
    if (cw_store_member_find(cw_center_store(c), name, &m) != 0) {
        cw_http_json_error(resp, 404, "no such member");
        return -1;
    }
    *id = m.id;
    return 0;
}

static int event_ids(struct body *b, int64_t *ids, size_t *n, struct cw_http_response *resp)
{
    int t = cw_json_get(&b->j, 0, "events");
    *n = 0;
    if (t < 0 || !cw_json_is(&b->j, t, JSMN_ARRAY) || b->j.tok[t].size < 1 ||
        b->j.tok[t].size > CW_NOTICE_MAX_EVENTS) {
        cw_http_json_error(resp, 400, "field 'events' must be an array of 1 to %d event ids",
                           CW_NOTICE_MAX_EVENTS);
        return -1;
    }
    int k = t + 1;
    for (int i = 0; i < b->j.tok[t].size; i++) {
        int64_t v;
        if (!cw_json_is(&b->j, k, JSMN_PRIMITIVE) || cw_json_int(&b->j, k, &v) || v <= 0) {
            cw_http_json_error(resp, 400, "events[%d] is not an event id", i);
            return -1;
        }
        for (size_t p = 0; p < *n; p++)
            if (ids[p] == v) {
                cw_http_json_error(resp, 400, "event %lld is listed twice", (long long)v);
                return -1;
            }
        ids[(*n)++] = v;
        k = cw_json_next(&b->j, k);
    }
    return 0;
}

static void notices_create(struct cw_center *c, struct cw_http_request *req,
                           struct cw_http_response *resp)
{
    static const char *const keys[] = {"member", "events", "title", "what", "why", "action",
                                       "answer_by", "template", "lang", NULL};
    struct body *b = malloc(sizeof(*b));
    if (!b) {
        cw_http_json_error(resp, 503, "out of memory");
        return;
    }
    struct cw_notice_new nn;
    int64_t ids[CW_NOTICE_MAX_EVENTS];
    const char *tpl_id, *lang, *answer_by;
    const char *txt[4];
    static const char *const tkeys[4] = {"title", "what", "why", "action"};
    char err[512];
    memset(&nn, 0, sizeof(nn));
    if (parse_body(b, req, resp, keys, false) || member_ref(c, b, &nn.member_id, resp) ||
        event_ids(b, ids, &nn.nevents, resp) ||
        text_field(b, "template", 1, 64, false, false, &tpl_id, resp) ||
        text_field(b, "lang", 2, 2, false, false, &lang, resp))
        goto out;
    for (int k = 0; k < 4; k++)
        if (text_field(b, tkeys[k], 1, k == 0 ? CW_NOTICE_TITLE_MAX : CW_NOTICE_TEXT_MAX, k != 0,
                       tpl_id == NULL, &txt[k], resp))
            goto out;
    if (text_field(b, "answer_by", 1, 40, false, true, &answer_by, resp))
        goto out;
    if (cw_time_parse_iso(answer_by, strlen(answer_by), &nn.answer_by_us) ||
        nn.answer_by_us < 946684800LL * 1000000 || nn.answer_by_us > 4102444800LL * 1000000) {
        cw_http_json_error(resp, 400, "answer_by must be an ISO 8601 time between 2000 and 2100");
        goto out;
    }
    if (lang && strcmp(lang, "ja") && strcmp(lang, "en")) {
        cw_http_json_error(resp, 400, "lang must be \"ja\" or \"en\"");
        goto out;
    }
    if (lang && !tpl_id) {
        cw_http_json_error(resp, 400, "lang chooses a template's language: give 'template' too");
        goto out;
    }
    if (tpl_id) {
        if (!lang)
            lang = "en";
        const struct cw_notice_template *t = cw_notice_template_find(tpl_id, lang);
        if (!t) {
            cw_http_json_error(resp, 400, "unknown template '%s' (GET /api/v1/notice-templates)",
                               tpl_id);
            goto out;
        }
        const char *tt[4] = {t->title, t->what, t->why, t->action};
        for (int k = 0; k < 4; k++)
            if (!txt[k]) {
                txt[k] = tt[k];
                nn.fill_mask |= 1u << k;
            }
        nn.template_id = t->id;
        nn.lang = t->lang;
    }
    nn.title = txt[0];
    nn.what = txt[1];
    nn.why = txt[2];
    nn.action = txt[3];
    nn.events = ids;
    nn.actor = req->who.name;
    int64_t id;
    int r = cw_store_notice_create(cw_center_store(c), &nn, &id, err, sizeof(err));
    if (r) {
        store_error(resp, r, err);
        goto out;
    }
    resp->status = 201;
    if (cw_store_notice_json(cw_center_store(c), id, 0, &resp->body, err, sizeof(err))) {
        cw_buf_clear(&resp->body);
        cw_buf_addf(&resp->body, "{\"id\":%lld}\n", (long long)id);
    }
out:
    cw_arena_release(&b->arena);
    free(b);
}

/* ------------------------------------------------------------------ reads */

static void list(struct cw_center *c, struct cw_http_request *req, struct cw_http_response *resp,
                 bool overdue_only)
{
    struct cw_notice_filter f = {0, NULL, overdue_only, 0, 100};
    const char *ref = cw_http_query(req, "member");
    uint32_t wanted = 0;
    if (ref) {
        struct cw_member_info m;
        if (cw_store_member_find(cw_center_store(c), ref, &m) != 0) {
            cw_http_json_error(resp, 404, "no such member");
            return;
        }
        wanted = m.id;
    }
    int64_t after, limit;
    if (cw_http_scope(req, resp, wanted, &f.member_id) ||
        cw_http_query_int(req, resp, "after", 0, INT64_MAX, 0, &after) ||
        cw_http_query_int(req, resp, "limit", 1, 1000, 100, &limit))
        return;
    f.after_id = after;
    f.limit = (int)limit;
    f.state = cw_http_query(req, "state");
    if (f.state && !cw_notice_state_valid(f.state)) {
        cw_http_json_error(resp, 400, "state must be sent, acknowledged, answered or closed");
        return;
    }
    const char *od = cw_http_query(req, "overdue");
    if (od) {
        if (strcmp(od, "true") && strcmp(od, "false")) {
            cw_http_json_error(resp, 400, "overdue must be true or false");
            return;
        }
        f.overdue |= !strcmp(od, "true");
    }
    char err[256];
    if (cw_store_notices_json(cw_center_store(c), &f, &resp->body, err, sizeof(err)))
        cw_http_json_error(resp, 503, "%s", err);
}

static void notices_list(struct cw_center *c, struct cw_http_request *req,
                         struct cw_http_response *resp)
{
    list(c, req, resp, false);
}

static void notices_overdue(struct cw_center *c, struct cw_http_request *req,
                            struct cw_http_response *resp)
{
    list(c, req, resp, true);
}

static void notice_show(struct cw_center *c, struct cw_http_request *req,
                        struct cw_http_response *resp)
{
    char err[256];
    int r = cw_store_notice_json(cw_center_store(c), path_id(req), req->scope, &resp->body, err,
                                 sizeof(err));
    if (r)
        store_error(resp, r, err);
}

static void notice_deliveries(struct cw_center *c, struct cw_http_request *req,
                              struct cw_http_response *resp)
{
    char err[256];
    int r = cw_store_notice_deliveries_json(cw_center_store(c), path_id(req), req->scope,
                                            &resp->body, err, sizeof(err));
    if (r)
        store_error(resp, r, err);
}

static void templates_list(struct cw_center *c, struct cw_http_request *req,
                           struct cw_http_response *resp)
{
    (void)c;
    (void)req;
    cw_notice_templates_json(&resp->body);
}

/* ------------------------------------------------------------------ state changes */

static void act(struct cw_center *c, struct cw_http_request *req, struct cw_http_response *resp,
                enum cw_notice_action action)
{
    static const char *const ack_keys[] = {"comment", NULL};
    static const char *const answer_keys[] = {"text", NULL};
    static const char *const close_keys[] = {"reason", NULL};
    int64_t id = path_id(req);
    char err[512];
    if (action != CW_NOTICE_CLOSE && req->scope == 0) {
        cw_http_json_error(resp, 403, "only the member's own users %s a notice",
                           action == CW_NOTICE_ACK ? "acknowledge" : "answer");
        return;
    }
    struct body *b = malloc(sizeof(*b));
    if (!b) {
        cw_http_json_error(resp, 503, "out of memory");
        return;
    }
    const char *text = NULL;
    int bad;
    switch (action) {
    case CW_NOTICE_ACK:
        bad = parse_body(b, req, resp, ack_keys, true) ||
              text_field(b, "comment", 1, 2000, true, false, &text, resp);
        break;
    case CW_NOTICE_ANSWER:
        bad = parse_body(b, req, resp, answer_keys, false) ||
              text_field(b, "text", 1, CW_NOTICE_TEXT_MAX, true, true, &text, resp);
        break;
    default:
        bad = parse_body(b, req, resp, close_keys, true) ||
              text_field(b, "reason", 1, 2000, true, false, &text, resp);
        break;
    }
    if (!bad) {
        int r = cw_store_notice_act(cw_center_store(c), id, req->scope, action, req->who.name,
                                    text, err, sizeof(err));
        if (r)
            store_error(resp, r, err);
        else if (cw_store_notice_json(cw_center_store(c), id, req->scope, &resp->body, err,
                                      sizeof(err)))
            cw_http_json_error(resp, 503, "%s", err);
    }
    cw_arena_release(&b->arena);
    free(b);
}

static void notice_ack(struct cw_center *c, struct cw_http_request *req,
                       struct cw_http_response *resp)
{
    act(c, req, resp, CW_NOTICE_ACK);
}

static void notice_answer(struct cw_center *c, struct cw_http_request *req,
                          struct cw_http_response *resp)
{
    act(c, req, resp, CW_NOTICE_ANSWER);
}

static void notice_close(struct cw_center *c, struct cw_http_request *req,
                         struct cw_http_response *resp)
{
    act(c, req, resp, CW_NOTICE_CLOSE);
}

/* ------------------------------------------------------------------ webhooks */

static int webhook_member(struct cw_center *c, struct cw_http_request *req,
                          struct cw_http_response *resp, uint32_t *id)
{
    struct cw_member_info m;
    if (cw_store_member_find(cw_center_store(c), req->path_arg, &m) != 0 ||
        !cw_http_visible(req, m.id)) {
        cw_http_json_error(resp, 404, "no such member");
        return -1;
    }
    *id = m.id;
    return 0;
}

static bool url_ok(const char *u)
{
    size_t skip;
    if (!strncmp(u, "http://", 7))
        skip = 7;
    else if (!strncmp(u, "https://", 8))
        skip = 8;
    else
        return false;
    if (!u[skip] || u[skip] == '/' || u[skip] == ':')
        return false;
    for (const char *p = u; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return false;
    return true;
}

static void webhook_get(struct cw_center *c, struct cw_http_request *req,
                        struct cw_http_response *resp)
{
    uint32_t mid;
    char err[256];
    if (webhook_member(c, req, resp, &mid))
        return;
    if (cw_store_webhook_json(cw_center_store(c), mid, &resp->body, err, sizeof(err)))
        cw_http_json_error(resp, 503, "%s", err);
}

static void webhook_set(struct cw_center *c, struct cw_http_request *req,
                        struct cw_http_response *resp)
{
    static const char *const keys[] = {"url", "secret", NULL};
    uint32_t mid;
    char err[256];
    if (webhook_member(c, req, resp, &mid))
        return;
    struct body *b = malloc(sizeof(*b));
    if (!b) {
        cw_http_json_error(resp, 503, "out of memory");
        return;
    }
    const char *url = NULL, *secret = NULL;
    char *secret_copy = NULL;
    size_t n = 0;
    if (parse_body(b, req, resp, keys, false) ||
        text_field(b, "url", 1, CW_WEBHOOK_URL_MAX, false, false, &url, resp))
        goto out;
    if (url && !url_ok(url)) {
        cw_http_json_error(resp, 400, "url must be an http:// or https:// URL without spaces");
        goto out;
    }
    if (url) {
        int t = cw_json_get(&b->j, 0, "secret");
        if (t < 0 || !cw_json_is(&b->j, t, JSMN_STRING) ||
            cw_json_str(&b->j, t, &b->arena, &secret, &n) || n < CW_WEBHOOK_SECRET_MIN ||
            n > CW_WEBHOOK_SECRET_MAX) {
            cw_http_json_error(resp, 400, "field 'secret' must be a string of %d to %d bytes",
                               CW_WEBHOOK_SECRET_MIN, CW_WEBHOOK_SECRET_MAX);
            goto out;
        }
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)secret[i] <= 0x20 || (unsigned char)secret[i] >= 0x7f) {
                cw_http_json_error(resp, 400, "field 'secret' must be printable ASCII");
                goto out;
            }
        secret_copy = cw_arena_strndup(&b->arena, secret, n);
        if (!secret_copy) {
            cw_http_json_error(resp, 503, "out of memory");
            goto out;
        }
    } else if (cw_json_get(&b->j, 0, "secret") >= 0 &&
               !cw_json_is_null(&b->j, cw_json_get(&b->j, 0, "secret"))) {
        cw_http_json_error(resp, 400, "a secret without a url: give url, or url null to remove");
        goto out;
    } else if (cw_json_get(&b->j, 0, "url") < 0) {
        cw_http_json_error(resp, 400, "missing field 'url' (null removes the webhook)");
        goto out;
    }
    if (cw_store_webhook_set(cw_center_store(c), mid, url, secret_copy, req->who.name, err,
                             sizeof(err)) ||
        cw_store_webhook_json(cw_center_store(c), mid, &resp->body, err, sizeof(err)))
        cw_http_json_error(resp, 503, "%s", err);
out:
    if (secret_copy)
        memset(secret_copy, 0, n);
    /* the request body is freed after the answer: wipe the secret there too */
    if (req->body.data)
        memset(req->body.data, 0, req->body.len);
    cw_arena_release(&b->arena);
    free(b);
}

const struct cw_route cw_api_notices_routes[] = {
    {"POST", "/api/v1/notices", CW_ACCESS_COORD, notices_create},
    {"GET", "/api/v1/notices", CW_ACCESS_USER, notices_list},
    {"GET", "/api/v1/notices/overdue", CW_ACCESS_COORD, notices_overdue},
    {"GET", "/api/v1/notices/{id}", CW_ACCESS_USER, notice_show},
    {"POST", "/api/v1/notices/{id}/ack", CW_ACCESS_USER, notice_ack},
    {"POST", "/api/v1/notices/{id}/answer", CW_ACCESS_USER, notice_answer},
    {"POST", "/api/v1/notices/{id}/close", CW_ACCESS_COORD, notice_close},
    {"GET", "/api/v1/notices/{id}/deliveries", CW_ACCESS_USER, notice_deliveries},
    {"GET", "/api/v1/notice-templates", CW_ACCESS_COORD, templates_list},
    {"GET", "/api/v1/members/{id}/webhook", CW_ACCESS_MEMBER_ADMIN, webhook_get},
    {"POST", "/api/v1/members/{id}/webhook", CW_ACCESS_MEMBER_ADMIN, webhook_set},
    {NULL, NULL, 0, NULL},
};
