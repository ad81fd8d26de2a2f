/* admin_triage.c - `crosswatch admin` commands for triage and people. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/admin_client.h"
#include "common/banned.h"

static void event_row(const struct cw_json *j, int o)
{
    char id[24], m[128], cls[40], sev[8], st[32], n[24], src[64], last[40];
    admin_field(j, o, "id", id, sizeof(id));
    admin_field(j, o, "member", m, sizeof(m));
    admin_field(j, o, "attack_class", cls, sizeof(cls));
    admin_field(j, o, "severity", sev, sizeof(sev));
    admin_field(j, o, "state", st, sizeof(st));
    admin_field(j, o, "count", n, sizeof(n));
    admin_field(j, o, "key_source", src, sizeof(src));
    admin_field(j, o, "last_seen", last, sizeof(last));
    printf("%-6s %-18s %-15s %3s %-14s %7s %-16s %s\n", id, m, cls, sev, st, n, src, last);
}

static void noise_row(const struct cw_json *j, int o)
{
    char m[128], day[16], r[32], n[24];
    admin_field(j, o, "member", m, sizeof(m));
    admin_field(j, o, "day", day, sizeof(day));
    admin_field(j, o, "reason", r, sizeof(r));
    admin_field(j, o, "count", n, sizeof(n));
    printf("%-18s %-10s %-15s %10s\n", m, day, r, n);
}

static void campaign_row(const struct cw_json *j, int o)
{
    char cls[40], src[64], m[16], e[16];
    admin_field(j, o, "attack_class", cls, sizeof(cls));
    admin_field(j, o, "source", src, sizeof(src));
    admin_field(j, o, "members", m, sizeof(m));
    admin_field(j, o, "events", e, sizeof(e));
    printf("%-15s %-40s %8s %7s\n", cls, src, m, e);
}

static void user_row(const struct cw_json *j, int o)
{
    char id[24], name[128], role[32], m[128], locked[8];
    admin_field(j, o, "id", id, sizeof(id));
    admin_field(j, o, "name", name, sizeof(name));
    admin_field(j, o, "role", role, sizeof(role));
    admin_field(j, o, "member", m, sizeof(m));
    admin_field(j, o, "locked", locked, sizeof(locked));
    printf("%-5s %-24s %-20s %-18s %s\n", id, name, role, m,
           strcmp(locked, "true") == 0 ? "LOCKED" : "");
}

/* Append "&key=value" (URL-escaped) when the option is set. */
static void add_query(struct cw_buf *q, const struct cw_config *cfg, const char *opt,
                      const char *param)
{
    const char *v = cw_config_str(cfg, "admin", opt, NULL);
    if (!v)
        return;
    char *e = curl_easy_escape(NULL, v, 0);
    cw_buf_addf(q, "%c%s=%s", q->len && strchr(q->data, '?') ? '&' : '?', param, e ? e : "");
    curl_free(e);
}

static void json_field(struct cw_buf *b, const char *key, const char *val)
{
    if (!val)
        return;
    cw_buf_addf(b, "%s\"%s\":", b->len > 1 ? "," : "", key);
    cw_buf_add_json_str(b, val, strlen(val));
}

/* The password: from --password-file, else the first line of stdin. */
static int read_password(const struct cw_config *cfg, char *out, size_t cap)
{
    const char *path = cw_config_str(cfg, "admin", "password_file", NULL);
    FILE *f = path ? fopen(path, "r") : stdin;
    if (!f || !fgets(out, (int)cap, f)) {
        fprintf(stderr, "crosswatch admin: no password (--password-file FILE or one line on "
                        "stdin)\n");
        if (f && f != stdin)
            fclose(f);
        return -1;
    }
    if (f != stdin)
        fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

int admin_run_more(struct client *cl, const struct cw_config *cfg, const char **pos, size_t npos)
{
    const char *cmd = npos > 0 ? pos[0] : "", *sub = npos > 1 ? pos[1] : "";
    struct cw_buf out = CW_BUF_INIT, body = CW_BUF_INIT, path = CW_BUF_INIT;
    const char *method = "GET", *listkey = NULL, *header = NULL;
    admin_row_fn fn = NULL;
    char secret[1100] = "";
    int rc;
    cw_buf_addc(&body, '{');
    if (!strcmp(cmd, "events") && npos == 1) {
        cw_buf_adds(&path, "/api/v1/events");
        add_query(&path, cfg, "member", "member");
        add_query(&path, cfg, "state", "state");
        add_query(&path, cfg, "class", "class");
        listkey = "events", fn = event_row;
        header = "id     member             class           sev state            count "
                 "source           last seen";
    } else if (!strcmp(cmd, "event") && !strcmp(sub, "show") && npos == 3) {
        cw_buf_addf(&path, "/api/v1/events/%s", pos[2]);
    } else if (!strcmp(cmd, "event") && !strcmp(sub, "state") && npos == 4) {
        method = "POST";
        cw_buf_addf(&path, "/api/v1/events/%s/state", pos[2]);
        json_field(&body, "state", pos[3]);
        json_field(&body, "reason", cw_config_str(cfg, "admin", "reason", NULL));
    } else if (!strcmp(cmd, "event") && !strcmp(sub, "assign") && npos == 4) {
        method = "POST";
        cw_buf_addf(&path, "/api/v1/events/%s/assign", pos[2]);
        json_field(&body, "assignee", pos[3]);
    } else if (!strcmp(cmd, "notice") && !strcmp(sub, "create") && npos >= 4) {
        /* notice create MEMBER EVENT... --template T [--lang ja] [--answer-by TIME] */
        method = "POST";
        cw_buf_adds(&path, "/api/v1/notices");
        json_field(&body, "member", pos[2]);
        cw_buf_adds(&body, ",\"events\":[");
        for (size_t i = 3; i < npos; i++) {
            if (strspn(pos[i], "0123456789") != strlen(pos[i]) || !*pos[i]) {
                fprintf(stderr, "crosswatch admin: event ids are numbers ('%s')\n", pos[i]);
                rc = 2;
                goto done;
            }
            cw_buf_addf(&body, "%s%s", i > 3 ? "," : "", pos[i]);
        }
        cw_buf_addc(&body, ']');
        json_field(&body, "template", cw_config_str(cfg, "admin", "template", NULL));
        json_field(&body, "lang", cw_config_str(cfg, "admin", "lang", NULL));
        json_field(&body, "title", cw_config_str(cfg, "admin", "title", NULL));
        json_field(&body, "answer_by", cw_config_str(cfg, "admin", "answer_by", NULL));
    } else if (!strcmp(cmd, "notices") && npos == 1) {
        cw_buf_adds(&path, "/api/v1/notices");
        add_query(&path, cfg, "member", "member");
        add_query(&path, cfg, "state", "state");
    } else if (!strcmp(cmd, "notice") && npos == 3 &&
               (!strcmp(sub, "show") || !strcmp(sub, "deliveries"))) {
        cw_buf_addf(&path, "/api/v1/notices/%s%s", pos[2],
                    !strcmp(sub, "deliveries") ? "/deliveries" : "");
    } else if (!strcmp(cmd, "notice") && (npos == 3 || npos == 4) &&
               (!strcmp(sub, "ack") || !strcmp(sub, "answer") || !strcmp(sub, "close"))) {
        method = "POST";
        cw_buf_addf(&path, "/api/v1/notices/%s/%s", pos[2], sub);
        json_field(&body, "text", npos == 4 ? pos[3] : NULL);
    } else if (!strcmp(cmd, "notices") && !strcmp(sub, "overdue") && npos == 2) {
        cw_buf_adds(&path, "/api/v1/notices/overdue");
    } else if (!strcmp(cmd, "notice") && !strcmp(sub, "templates") && npos == 2) {
        cw_buf_adds(&path, "/api/v1/notice-templates");
    } else if (!strcmp(cmd, "event") && !strcmp(sub, "merge") && npos == 4) {
        method = "POST";
        cw_buf_addf(&path, "/api/v1/events/%s/merge", pos[2]);
        json_field(&body, "into", pos[3]);
    } else if (!strcmp(cmd, "event") && !strcmp(sub, "split") && npos >= 4) {
        method = "POST";
        cw_buf_addf(&path, "/api/v1/events/%s/split", pos[2]);
        cw_buf_adds(&body, "\"sources\":[");
        for (size_t i = 3; i < npos; i++) {
            if (i > 3)
                cw_buf_addc(&body, ',');
            cw_buf_add_json_str(&body, pos[i], strlen(pos[i]));
        }
        cw_buf_addc(&body, ']');
    } else if (!strcmp(cmd, "detections") && npos == 1) {
        cw_buf_adds(&path, "/api/v1/detections");
        add_query(&path, cfg, "member", "member");
        add_query(&path, cfg, "event", "event");
        add_query(&path, cfg, "noise", "noise");
    } else if (!strcmp(cmd, "noise") && npos == 1) {
        cw_buf_adds(&path, "/api/v1/noise");
        add_query(&path, cfg, "member", "member");
        listkey = "counts", fn = noise_row;
        header = "member             day        reason               count";
    } else if (!strcmp(cmd, "campaigns") && npos == 1) {
        cw_buf_adds(&path, "/api/v1/campaigns");
        listkey = "campaigns", fn = campaign_row;
        header = "class           source                                    members  events";
    } else if (!strcmp(cmd, "asset") && !strcmp(sub, "add") && npos == 5) {
        method = "POST";
        cw_buf_adds(&path, "/api/v1/assets");
        json_field(&body, "member", pos[2]);
        bool is_ip = strspn(pos[3], "0123456789abcdefABCDEF.:") == strlen(pos[3]);
        json_field(&body, is_ip ? "address" : "host", pos[3]);
        json_field(&body, "products", pos[4]);
    } else if (!strcmp(cmd, "asset") && !strcmp(sub, "list") && npos == 2) {
        cw_buf_adds(&path, "/api/v1/assets");
    } else if (!strcmp(cmd, "suppress") && npos == 4) {
        method = "POST";
        cw_buf_adds(&path, "/api/v1/suppressions");
        json_field(&body, "owner", pos[1]);
        json_field(&body, "reason", pos[2]);
        json_field(&body, "expires", pos[3]);
        json_field(&body, "member", cw_config_str(cfg, "admin", "member", NULL));
        json_field(&body, "class", cw_config_str(cfg, "admin", "class", NULL));
        json_field(&body, "rule_id", cw_config_str(cfg, "admin", "rule", NULL));
        json_field(&body, "source", cw_config_str(cfg, "admin", "source", NULL));
    } else if (!strcmp(cmd, "suppressions") && npos == 1) {
        cw_buf_adds(&path, "/api/v1/suppressions");
    } else if (!strcmp(cmd, "user") && !strcmp(sub, "add") && (npos == 4 || npos == 5)) {
        if (read_password(cfg, secret, sizeof(secret))) {
            rc = 1;
            goto done;
        }
        method = "POST";
        cw_buf_adds(&path, "/api/v1/users");
        json_field(&body, "name", pos[2]);
        json_field(&body, "role", pos[3]);
        json_field(&body, "member", npos == 5 ? pos[4] : NULL);
        json_field(&body, "password", secret);
    } else if (!strcmp(cmd, "user") && !strcmp(sub, "list") && npos == 2) {
        cw_buf_adds(&path, "/api/v1/users");
        listkey = "users", fn = user_row;
        header = "id    name                     role                 member";
    } else if (!strcmp(cmd, "login") && npos == 2) {
        if (read_password(cfg, secret, sizeof(secret))) {
            rc = 1;
            goto done;
        }
        method = "POST";
        cw_buf_adds(&path, "/api/v1/login");
        json_field(&body, "name", pos[1]);
        json_field(&body, "password", secret);
    } else {
        rc = -1;
        goto done;
    }
    cw_buf_addc(&body, '}');
    long st = admin_api_call(cl, method, path.data,
                             strcmp(method, "POST") == 0 ? body.data : NULL, &out, NULL);
    if (st < 200 || st > 299) {
        rc = admin_api_failed(st, &out);
    } else if (listkey && !cl->json) {
        rc = admin_print_list(&out, listkey, header, fn);
    } else {
        fwrite(out.data ? out.data : "", 1, out.len, stdout);
        rc = 0;
    }
done:
    if (body.data)
        memset(body.data, 0, body.len); /* it may hold a password */
    memset(secret, 0, sizeof(secret));
    cw_buf_release(&out);
    cw_buf_release(&body);
    cw_buf_release(&path);
    return rc;
}
