/* admin_incidents.c - `crosswatch admin` for incident reports, alerts, drills, sectors,
 * sharing organizations and the fiscal-year statistics (docs/incidents.md):
 *
 *   incident report TITLE [--member M] [--event E] [--cause C,C] [--note WHAT]
 *   incident list [--member M] [--fy N] [--state S] | incident show ID
 *   incident update ID STATUS [--note TEXT] | incident classify ID [--event][--cause][--attack]
 *   incident import FILE          NDJSON, one request: all or nothing
 *   alert send TITLE [--kind alert|advisory|ministry_info] [--sectors a,b] [--note BODY]
 *   alert list | alert show ID | alert read ID | alert forward ID
 *   drill start TITLE --deadline TIME [--contacts all|member:NAME,org:NAME,...]
 *   drill answer ID | drill report ID | drill list
 *   sector add CODE NAME_JA NAME_EN | sector list | sector assign MEMBER_ID SECTOR
 *   org add NAME sector_body|ministry SECTOR[,SECTOR] | org list | org user ORG_ID NAME
 *   stats --fy N [--csv [--spreadsheet]] [--lang ja]   the national annual report's table */
#include "cli/admin_incidents.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

#define COLS 9

static void jfield(struct cw_buf *b, const char *key, const char *val)
{
    if (!val)
        return;
    cw_buf_addf(b, "%s\"%s\":", b->len > 1 ? "," : "", key);
    cw_buf_add_json_str(b, val, strlen(val));
}

/* "a,b,c" as a JSON array field */
static void jlist(struct cw_buf *b, const char *key, const char *csv)
{
    if (!csv)
        return;
    cw_buf_addf(b, "%s\"%s\":[", b->len > 1 ? "," : "", key);
    for (int k = 0; *csv; k++) {
        size_t l = strcspn(csv, ",");
        cw_buf_adds(b, k ? "," : "");
        cw_buf_add_json_str(b, csv, l);
        csv += l + (csv[l] == ',');
    }
    cw_buf_addc(b, ']');
}

static bool number(const char *s)
{
    return *s && strspn(s, "0123456789") == strlen(s) && strlen(s) < 12;
}

static void incident_row(const struct cw_json *j, int o)
{
    char id[24], m[128], rep[40], st[24], ev[8], at[8], t[256];
    admin_field(j, o, "id", id, sizeof(id));
    admin_field(j, o, "member", m, sizeof(m));
    admin_field(j, o, "reported", rep, sizeof(rep));
    admin_field(j, o, "status", st, sizeof(st));
    admin_field(j, o, "event", ev, sizeof(ev));
    admin_field(j, o, "attack", at, sizeof(at));
    admin_field(j, o, "title", t, sizeof(t));
    printf("%-6s %-18s %-20.20s %-13s %-5s %-6s %s\n", id, m, rep, st, ev, at, t);
}

static void alert_row(const struct cw_json *j, int o)
{
    char id[24], k[24], sent[40], from[128], t[256];
    admin_field(j, o, "id", id, sizeof(id));
    admin_field(j, o, "kind", k, sizeof(k));
    admin_field(j, o, "sent", sent, sizeof(sent));
    admin_field(j, o, "from_org", from, sizeof(from));
    admin_field(j, o, "title", t, sizeof(t));
    printf("%-6s %-14s %-20.20s %-18s %s\n", id, k, sent, from, t);
}

static void contact_row(const struct cw_json *j, int o)
{
    char k[24], n[128], st[16], at[40], by[128];
    admin_field(j, o, "kind", k, sizeof(k));
    admin_field(j, o, "name", n, sizeof(n));
    admin_field(j, o, "state", st, sizeof(st));
    admin_field(j, o, "answered", at, sizeof(at));
    admin_field(j, o, "answered_by", by, sizeof(by));
    if (!strcmp(st, "late"))
        admin_field(j, o, "late_attempt", at, sizeof(at));
    printf("%-12s %-24s %-9s %-28s %s\n", k, n, st, at, by);
}

/* Display columns of a UTF-8 label: CJK (3-byte lead >= 0xE3) counts 2, else 1. */
static int width(const char *s)
{
    int w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p & 0xc0) == 0x80)
            continue;
        w += *p >= 0xe3 && *p < 0xf0 ? 2 : 1;
    }
    return w;
}

/* The national report's layout: FY-4..FY-1, | 1Q..4Q | FY total. */
static int print_stats(const struct cw_buf *out, bool ja)
{
    static jsmntok_t tok[4096];
    struct cw_json j;
    const char *err;
    if (cw_json_parse(&j, out->data, out->len, tok, 4096, &err)) {
        fprintf(stderr, "crosswatch admin: unreadable answer: %s\n", err);
        return 1;
    }
    char fy[16], cols[COLS][24];
    admin_field(&j, 0, "fiscal_year", fy, sizeof(fy));
    int c = cw_json_get(&j, 0, "columns"), rows = cw_json_get(&j, 0, "rows");
    if (!cw_json_is(&j, c, JSMN_ARRAY) || j.tok[c].size != COLS || !cw_json_is(&j, rows, JSMN_ARRAY))
        return 1;
    for (int k = 0, t = c + 1; k < COLS; k++, t = cw_json_next(&j, t)) {
        size_t n;
        const char *s = cw_json_raw(&j, t, &n);
        snprintf(cols[k], sizeof(cols[k]), "%.*s", (int)n, s);
    }
    const int lw = 56;
    printf("Incident reports and information sharing, FY%d-FY%s (fiscal year April-March, "
           "Japan time; units: cases)\n", atoi(fy) - 4, fy);
    printf("%-*s", lw, "");
    for (int k = 0; k < 4; k++)
        printf(" %7s", cols[k]);
    printf(" | %5s %5s %5s %5s | %7s\n", "1Q", "2Q", "3Q", "4Q", cols[8]);
    bool monitoring = false;
    for (int r = 0, t = rows + 1; r < j.tok[rows].size; r++, t = cw_json_next(&j, t)) {
        char key[32], label[256], v[24];
        admin_field(&j, t, "key", key, sizeof(key));
        admin_field(&j, t, ja ? "label_ja" : "label", label, sizeof(label));
        if (!strncmp(key, "monitoring.", 11) && !monitoring) {
            monitoring = true;
            printf("\nmonitoring by crosswatch (not in the national report)\n");
        }
        printf("%s%*s", label, lw - width(label) > 0 ? lw - width(label) : 1, "");
        int vals = cw_json_get(&j, t, "values");
        for (int k = 0, e = vals + 1; k < COLS && cw_json_is(&j, vals, JSMN_ARRAY) &&
                                      k < j.tok[vals].size;
             k++, e = cw_json_next(&j, e)) {
            size_t n;
            const char *s = cw_json_raw(&j, e, &n);
            snprintf(v, sizeof(v), "%.*s", (int)n, s);
            printf(k < 4 ? " %7s" : k == 4 ? " | %5s" : k < 8 ? " %5s" : " | %7s", v);
        }
        printf("\n");
    }
    return 0;
}

/* The password of a new organization user: --password-file, else the first stdin line. */
static int read_password(const struct cw_config *cfg, char *out, size_t cap)
{
    const char *path = cw_config_str(cfg, "admin", "password_file", NULL);
    FILE *f = path ? fopen(path, "r") : stdin;
    bool ok = f && fgets(out, (int)cap, f);
    if (f && f != stdin)
        fclose(f);
    if (!ok) {
        fprintf(stderr, "crosswatch admin: no password (--password-file FILE or one line on "
                        "stdin)\n");
        return -1;
    }
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

static int read_file(const char *path, struct cw_buf *b)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "crosswatch admin: cannot open %s\n", path);
        return -1;
    }
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        cw_buf_add(b, chunk, n);
    fclose(f);
    return cw_buf_ok(b) ? 0 : -1;
}

/* contacts "all" or "member:NAME,org:NAME,..." */
static int contacts(struct cw_buf *b, const char *spec)
{
    if (!spec || !strcmp(spec, "all")) {
        cw_buf_adds(b, ",\"contacts\":\"all\"");
        return 0;
    }
    struct cw_buf m = CW_BUF_INIT, o = CW_BUF_INIT;
    int rc = 0;
    while (*spec && !rc) {
        size_t l = strcspn(spec, ",");
        bool mem = !strncmp(spec, "member:", 7), org = !strncmp(spec, "org:", 4);
        if (!mem && !org) {
            fprintf(stderr, "crosswatch admin: contacts are member:NAME or org:NAME\n");
            rc = -1;
        } else {
            struct cw_buf *t = mem ? &m : &o;
            size_t skip = mem ? 7 : 4;
            cw_buf_adds(t, t->len ? "," : "");
            cw_buf_add_json_str(t, spec + skip, l - skip);
        }
        spec += l + (spec[l] == ',');
    }
    cw_buf_addf(b, ",\"contacts\":{\"members\":[%.*s],\"orgs\":[%.*s]}", (int)m.len,
                m.data ? m.data : "", (int)o.len, o.data ? o.data : "");
    cw_buf_release(&m);
    cw_buf_release(&o);
    return rc;
}

int admin_incidents_run(struct client *cl, const struct cw_config *cfg, const char **pos,
                        size_t npos)
{
    const char *cmd = npos > 0 ? pos[0] : "", *sub = npos > 1 ? pos[1] : "";
    const char *arg = npos > 2 ? pos[2] : "";
    const char *fy = cw_config_str(cfg, "admin", "fy", NULL);
    bool mine = !strcmp(cmd, "incident") || !strcmp(cmd, "alert") || !strcmp(cmd, "drill") ||
                !strcmp(cmd, "sector") || !strcmp(cmd, "org") || (!strcmp(cmd, "stats") && fy);
    if (!mine)
        return -1;
    struct cw_buf out = CW_BUF_INIT, body = CW_BUF_INIT, path = CW_BUF_INIT;
    const char *method = "GET", *listkey = NULL, *header = NULL;
    admin_row_fn fn = NULL;
    bool stats = false, raw = false, json_body = true;
    char secret[1100] = "";
    int rc = 2;
    cw_buf_addc(&body, '{');
    if (!strcmp(cmd, "stats") && npos == 1) {
        bool csv = false, sheet = false;
        char e[128];
        if (cw_config_bool(cfg, "admin", "csv", false, &csv, e, sizeof(e)) ||
            cw_config_bool(cfg, "admin", "spreadsheet", false, &sheet, e, sizeof(e)) ||
            !number(fy)) {
            fprintf(stderr, "crosswatch admin: --fy takes a fiscal year (e.g. 2023)\n");
            goto done;
        }
        if (sheet && !csv) {
            fprintf(stderr, "crosswatch admin: --spreadsheet goes with --csv\n");
            goto done;
        }
        cw_buf_addf(&path, "/api/v1/stats/incidents?fy=%s%s%s", fy, csv ? "&format=csv" : "",
                    sheet ? "&for=spreadsheet" : "");
        stats = !csv && !cl->json;
        raw = csv;
    } else if (!strcmp(cmd, "incident") && !strcmp(sub, "report") && npos == 3) {
        method = "POST";
        cw_buf_adds(&path, "/api/v1/incidents");
        jfield(&body, "title", arg);
        jfield(&body, "member", cw_config_str(cfg, "admin", "member", NULL));
        jfield(&body, "what", cw_config_str(cfg, "admin", "note", NULL));
        jfield(&body, "event", cw_config_str(cfg, "admin", "event", NULL));
        jlist(&body, "causes", cw_config_str(cfg, "admin", "cause", NULL));
        jfield(&body, "attack", cw_config_str(cfg, "admin", "attack", NULL));
    } else if (!strcmp(cmd, "incident") && !strcmp(sub, "list") && npos == 2) {
        cw_buf_adds(&path, "/api/v1/incidents?limit=1000");
        const char *m = cw_config_str(cfg, "admin", "member", NULL);
        const char *st = cw_config_str(cfg, "admin", "state", NULL);
        if ((m && strspn(m, "0123456789abcdefghijklmnopqrstuvwxyz-_.") != strlen(m)) ||
            (fy && !number(fy)) || (st && strspn(st, "abcdefghijklmnopqrstuvwxyz") != strlen(st))) {
            fprintf(stderr, "crosswatch admin: bad --member, --fy or --state\n");
            goto done;
        }
        if (m)
            cw_buf_addf(&path, "&member=%s", m);
        if (fy)
            cw_buf_addf(&path, "&fy=%s", fy);
        if (st)
            cw_buf_addf(&path, "&status=%s", st);
        listkey = "incidents", fn = incident_row;
        header = "id     member             reported             status        event attack title";
    } else if (!strcmp(cmd, "incident") && !strcmp(sub, "show") && npos == 3 && number(arg)) {
        cw_buf_addf(&path, "/api/v1/incidents/%s", arg);
    } else if (!strcmp(cmd, "incident") && !strcmp(sub, "update") && npos == 4 && number(arg)) {
        method = "POST";
        cw_buf_addf(&path, "/api/v1/incidents/%s/update", arg);
        jfield(&body, "status", pos[3]);
        jfield(&body, "note", cw_config_str(cfg, "admin", "note", NULL));
    } else if (!strcmp(cmd, "incident") && !strcmp(sub, "classify") && npos == 3 &&
               number(arg)) {
        method = "POST";
        cw_buf_addf(&path, "/api/v1/incidents/%s/classify", arg);
        jfield(&body, "event", cw_config_str(cfg, "admin", "event", NULL));
        jlist(&body, "causes", cw_config_str(cfg, "admin", "cause", NULL));
        jfield(&body, "attack", cw_config_str(cfg, "admin", "attack", NULL));
    } else if (!strcmp(cmd, "incident") && (!strcmp(sub, "read") || !strcmp(sub, "forward")) &&
               npos == 3 && number(arg)) {
        method = "POST";
        cw_buf_addf(&path, "/api/v1/incidents/%s/%s", arg, sub);
    } else if (!strcmp(cmd, "incident") && !strcmp(sub, "import") && npos == 3) {
        method = "POST";
        cw_buf_adds(&path, "/api/v1/incidents/import");
        cw_buf_clear(&body);
        json_body = false;
        if (read_file(arg, &body)) {
            rc = 1;
            goto done;
        }
        cw_buf_addc(&body, '\0');
        body.len--;
    } else if (!strcmp(cmd, "alert") && !strcmp(sub, "send") && npos == 3) {
        method = "POST";
        cw_buf_adds(&path, "/api/v1/alerts");
        jfield(&body, "title", arg);
        jfield(&body, "kind", cw_config_str(cfg, "admin", "kind", NULL));
        jfield(&body, "body", cw_config_str(cfg, "admin", "note", NULL));
        jlist(&body, "sectors", cw_config_str(cfg, "admin", "sectors", NULL));
    } else if (!strcmp(cmd, "alert") && !strcmp(sub, "list") && npos == 2) {
        cw_buf_adds(&path, "/api/v1/alerts?limit=1000");
        listkey = "alerts", fn = alert_row;
        header = "id     kind           sent                 from               title";
    } else if (!strcmp(cmd, "alert") && !strcmp(sub, "show") && npos == 3 && number(arg)) {
        cw_buf_addf(&path, "/api/v1/alerts/%s", arg);
    } else if (!strcmp(cmd, "alert") && (!strcmp(sub, "read") || !strcmp(sub, "forward")) &&
               npos == 3 && number(arg)) {
        method = "POST";
        cw_buf_addf(&path, "/api/v1/alerts/%s/%s", arg, sub);
    } else if (!strcmp(cmd, "drill") && !strcmp(sub, "start") && npos == 3) {
        method = "POST";
        cw_buf_adds(&path, "/api/v1/drills");
        jfield(&body, "title", arg);
        jfield(&body, "deadline", cw_config_str(cfg, "admin", "deadline", NULL));
        if (contacts(&body, cw_config_str(cfg, "admin", "contacts", NULL)))
            goto done;
    } else if (!strcmp(cmd, "drill") && !strcmp(sub, "list") && npos == 2) {
        cw_buf_adds(&path, "/api/v1/drills");
    } else if (!strcmp(cmd, "drill") && !strcmp(sub, "answer") && npos == 3 && number(arg)) {
        method = "POST";
        cw_buf_addf(&path, "/api/v1/drills/%s/answer", arg);
    } else if (!strcmp(cmd, "drill") && !strcmp(sub, "report") && npos == 3 && number(arg)) {
        cw_buf_addf(&path, "/api/v1/drills/%s/report", arg);
        listkey = "contacts", fn = contact_row;
        header = "kind         contact                  state     answered                     by";
    } else if (!strcmp(cmd, "sector") && !strcmp(sub, "add") && npos == 5) {
        method = "POST";
        cw_buf_adds(&path, "/api/v1/sectors");
        jfield(&body, "code", arg);
        jfield(&body, "name_ja", pos[3]);
        jfield(&body, "name_en", pos[4]);
    } else if (!strcmp(cmd, "sector") && !strcmp(sub, "list") && npos == 2) {
        cw_buf_adds(&path, "/api/v1/sectors");
    } else if (!strcmp(cmd, "sector") && !strcmp(sub, "assign") && npos == 4 && number(arg)) {
        method = "POST";
        cw_buf_addf(&path, "/api/v1/members/%s/sector", arg);
        jfield(&body, "sector", pos[3]);
    } else if (!strcmp(cmd, "org") && !strcmp(sub, "add") && npos == 5) {
        method = "POST";
        cw_buf_adds(&path, "/api/v1/orgs");
        jfield(&body, "name", arg);
        jfield(&body, "kind", pos[3]);
        jlist(&body, "sectors", pos[4]);
    } else if (!strcmp(cmd, "org") && !strcmp(sub, "list") && npos == 2) {
        cw_buf_adds(&path, "/api/v1/orgs");
    } else if (!strcmp(cmd, "org") && !strcmp(sub, "user") && npos == 4 && number(arg)) {
        method = "POST";
        cw_buf_addf(&path, "/api/v1/orgs/%s/users", arg);
        if (read_password(cfg, secret, sizeof(secret))) {
            rc = 1;
            goto done;
        }
        jfield(&body, "name", pos[3]);
        jfield(&body, "password", secret);
    } else {
        fprintf(stderr, "crosswatch admin: unknown or incomplete %s command (see "
                        "docs/incidents.md)\n", cmd);
        goto done;
    }
    if (json_body)
        cw_buf_addc(&body, '}');
    long st = admin_api_call(cl, method, path.data, !strcmp(method, "POST") ? body.data : NULL,
                             &out, NULL);
    if (st < 200 || st > 299) {
        rc = admin_api_failed(st, &out);
        goto done;
    }
    if (stats)
        rc = print_stats(&out, !strcmp(cw_config_str(cfg, "admin", "lang", "en"), "ja"));
    else if (listkey && !cl->json && !raw)
        rc = admin_print_list(&out, listkey, header, fn);
    else {
        fwrite(out.data ? out.data : "", 1, out.len, stdout);
        rc = 0;
    }
done:
    memset(secret, 0, sizeof(secret));
    if (body.data)
        memset(body.data, 0, body.len);
    cw_buf_release(&out);
    cw_buf_release(&body);
    cw_buf_release(&path);
    return rc;
}
