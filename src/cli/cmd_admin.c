/* cmd_admin.c - `crosswatch admin`: a client of the center's admin API.
 *
 *   admin member add NAME | member list
 *   admin sensor add MEMBER NAME | sensor list [--member M] | sensor revoke ID
 *   admin stats
 *   admin records [--after BATCH] [--batches N] [--member M]   (NDJSON to stdout)
 *
 * Output is a readable table, or the API's JSON with --json. Errors from the API
 * are printed with their HTTP status and reason; exit status 1 (2 for usage). */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/admin_client.h"
#include "cli/admin_db.h"
#include "cli/admin_incidents.h"
#include "cli/admin_ioc.h"
#include "cli/cli.h"
#include "common/buf.h"
#include "common/config.h"
#include "common/json.h"
#include "common/banned.h"

static const struct cw_option admin_options[] = {
    {"center", 'C', "center", "URL", "center API (default http://127.0.0.1:8080)"},
    {"token", 0, "token", "TOKEN", "admin token (better: --token-file or $CROSSWATCH_TOKEN)"},
    {"token-file", 'T', "token_file", "FILE",
     "file holding the admin token (default DATA_DIR/admin.token of a local center)"},
    {"json", 'j', "json", NULL, "print the API's JSON answer"},
    {"member", 'm', "member", "MEMBER", "filter by member (sensor list, records)"},
    {"after", 0, "after", "BATCH", "records: start after this batch id"},
    {"batches", 0, "batches", "N", "records: at most N batches (default 100)"},
    {"state", 0, "state", "STATE", "events: only this state"},
    {"class", 0, "class", "CLASS", "events, suppress: attack class"},
    {"event", 0, "event", "ID", "detections: of this event"},
    {"noise", 0, "noise", "REASON", "detections: with this verdict (kept, failed, recon ...)"},
    {"reason", 0, "reason", "TEXT", "event state: why"},
    {"rule", 0, "rule", "RULE_ID", "suppress: this rule only"},
    {"source", 0, "source", "CIDR", "suppress: this source range only"},
    {"password-file", 0, "password_file", "FILE", "user add, login: read the password from FILE"},
    {"template", 0, "template", "ID", "notice create: template (see notice templates)"},
    {"lang", 0, "lang", "LANG", "notice create: template language (en, ja)"},
    {"title", 0, "title", "TEXT", "notice create: title (else the template's)"},
    {"answer-by", 0, "answer_by", "TIME", "notice create: answer by (ISO 8601)"},
    {"fy", 0, "fy", "YEAR", "stats, incident list: fiscal year (April-March, Japan time)"},
    {"csv", 0, "csv", NULL, "stats --fy: CSV instead of the table"},
    {"spreadsheet", 0, "spreadsheet", NULL,
     "stats --fy --csv, ioc export --format csv: prefix cells a spreadsheet would run as "
     "formulas with '"},
    {"event", 0, "event", "CODE", "incident report/classify: event code (E0..E7)"},
    {"cause", 0, "cause", "CODES", "incident report/classify: cause codes, comma separated"},
    {"attack", 0, "attack", "CODE", "incident classify: kind of attack (A1..A4)"},
    {"note", 0, "note", "TEXT", "incident report/update, alert send: the text"},
    {"kind", 0, "kind", "KIND", "alert send: alert, advisory or ministry_info"},
    {"sectors", 0, "sectors", "CODES", "alert send: target sectors, comma separated"},
    {"deadline", 0, "deadline", "TIME", "drill start: answers due by (ISO 8601)"},
    {"contacts", 0, "contacts", "LIST", "drill start: all, or member:NAME,org:NAME,..."},
    {"type", 0, "type", "TYPE", "ioc add/list/import/export: indicator type (domain, url ...)"},
    {"tlp", 0, "tlp", "TLP", "ioc add/import/export: CLEAR, GREEN, AMBER, AMBER+STRICT, RED"},
    {"confidence", 0, "confidence", "N", "ioc add: confidence 0..100"},
    {"format", 0, "format", "FMT", "ioc import/export: stix, misp, csv, plain (export: rpz)"},
    {"publish", 0, "publish", NULL, "ioc add/import: publish at once"},
    {"force", 0, "force", NULL, "ioc add/import: pass the guard (world-blocking values)"},
    {"q", 0, "q", "TEXT", "ioc list: values containing TEXT"},
    {"data-dir", 'd', "data_dir", "DIR", "db status: the center's data directory (as serve's)"},
    {NULL, 0, NULL, NULL, NULL},
};

static const char admin_usage[] =
    "crosswatch admin [options] <command>\n\n"
    "commands:\n"
    "  member add NAME            add a member organization\n"
    "  member list                list members with record counts\n"
    "  sensor add MEMBER NAME     add a sensor; prints its key once\n"
    "  sensor list                list sensors (last seen, counts; --member filters)\n"
    "  sensor revoke ID           revoke a sensor's key at once\n"
    "  stats                      totals of the center\n"
    "  records                    stored records as NDJSON (--after, --batches, --member)\n"
    "  events                     events requiring confirmation (--member, --state, --class)\n"
    "  event show ID              one event with samples, rules and history\n"
    "  event state ID STATE       change state (--reason; reopening needs one)\n"
    "  event assign ID USER       give the event to a coordinator user (\"\" = nobody)\n"
    "  event merge ID INTO        merge event ID into event INTO (same member)\n"
    "  event split ID SOURCE...   move those sources' detections to a new event\n"
    "  detections                 detections with records (--member, --event, --noise)\n"
    "  noise                      dropped detections per member, day and reason\n"
    "  campaigns                  (class, source) seen at two or more members\n"
    "  asset add MEMBER ADDR|HOST PRODUCTS   register an asset (products comma separated)\n"
    "  asset list                 assets\n"
    "  suppress OWNER REASON EXPIRES  add a suppression (--member, --class, --rule, --source)\n"
    "  suppressions               suppressions\n"
    "  notice create MEMBER EVENT...  send a notice (--template, --lang, --title, --answer-by)\n"
    "  notices [overdue]          notices (--member, --state) / those past answer-by\n"
    "  notice show|deliveries ID  one notice / its webhook deliveries\n"
    "  notice ack|answer|close ID [TEXT]  member: acknowledge, answer; coordinator: close\n"
    "  notice templates           templates (en, ja)\n"
    "  incident report|list|show|update|classify|read|forward|import  incident reports\n"
    "  alert send|list|show|read|forward   alerts, advisories, ministry information\n"
    "  drill start|list|answer|report      reachability drills (--deadline, --contacts)\n"
    "  sector add|list|assign, org add|list|user   the sharing hierarchy\n"
    "  stats --fy YEAR [--csv [--spreadsheet]]  the national annual report's table\n"
    "  ioc add|list|show|publish|revoke|import|export  indicators (docs/indicators.md)\n"
    "  sample submit FILE|list|show ID  analyse a suspicious e-mail or file\n"
    "  user add NAME ROLE [MEMBER]  add a person (password from --password-file or stdin)\n"
    "  user list                  people\n"
    "  login NAME                 sign in (password from --password-file or stdin); prints a token\n"
    "  db status                  local database: schema version, pending migrations, last "
    "backup (--data-dir; no token)";

static void member_row(const struct cw_json *j, int o)
{
    char id[32], name[256], rec[32], sen[32];
    admin_field(j, o, "id", id, sizeof(id));
    admin_field(j, o, "name", name, sizeof(name));
    admin_field(j, o, "records", rec, sizeof(rec));
    admin_field(j, o, "sensors", sen, sizeof(sen));
    printf("%-5s %-30s %8s %12s\n", id, name, sen, rec);
}

static void sensor_row(const struct cw_json *j, int o)
{
    char id[32], m[256], name[256], seen[64], rec[32], rej[32], rev[16];
    admin_field(j, o, "id", id, sizeof(id));
    admin_field(j, o, "member", m, sizeof(m));
    admin_field(j, o, "name", name, sizeof(name));
    admin_field(j, o, "last_seen", seen, sizeof(seen));
    admin_field(j, o, "records", rec, sizeof(rec));
    admin_field(j, o, "rejected", rej, sizeof(rej));
    admin_field(j, o, "revoked", rev, sizeof(rev));
    printf("%-5s %-20s %-20s %-28s %12s %9s %s\n", id, m, name, seen, rec, rej,
           strcmp(rev, "true") == 0 ? "REVOKED" : "active");
}

static int load_token(struct client *cl, const struct cw_config *cfg)
{
    const char *t = cw_config_str(cfg, "admin", "token", getenv("CROSSWATCH_TOKEN"));
    if (t && *t) {
        snprintf(cl->token, sizeof(cl->token), "%s", t);
        return 0;
    }
    char def[4096];
    const char *home = getenv("HOME");
    if (geteuid() == 0)
        snprintf(def, sizeof(def), "/var/lib/crosswatch/admin.token");
    else
        snprintf(def, sizeof(def), "%s/.local/state/crosswatch/admin.token", home ? home : ".");
    const char *path = cw_config_str(cfg, "admin", "token_file", def);
    FILE *f = fopen(path, "r");
    if (!f || !fgets(cl->token, sizeof(cl->token), f)) {
        fprintf(stderr,
                "crosswatch admin: no admin token: cannot read %s (use --token-file FILE or "
                "set CROSSWATCH_TOKEN)\n",
                path);
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    cl->token[strcspn(cl->token, "\r\n")] = '\0';
    return 0;
}

static int run(struct client *cl, const struct cw_config *cfg, const char **pos, size_t npos)
{
    struct cw_buf out = CW_BUF_INIT, body = CW_BUF_INIT, hdrs = CW_BUF_INIT;
    long st = 0;
    int rc = 2, list = 0;
    const char *listkey = NULL, *header = NULL;
    admin_row_fn fn = NULL;
    char path[1024];
    const char *cmd = npos > 0 ? pos[0] : "", *sub = npos > 1 ? pos[1] : "";
    int sharing = admin_incidents_run(cl, cfg, pos, npos); /* incident, alert, drill ... */
    if (sharing >= 0)
        return sharing;
    int ioc = admin_ioc_run(cl, cfg, pos, npos); /* ioc, sample */
    if (ioc >= 0)
        return ioc;
    if (!strcmp(cmd, "member") && !strcmp(sub, "add") && npos == 3) {
        cw_buf_adds(&body, "{\"name\":");
        cw_buf_add_json_str(&body, pos[2], strlen(pos[2]));
        cw_buf_addc(&body, '}');
        st = admin_api_call(cl, "POST", "/api/v1/members", body.data, &out, NULL);
    } else if (!strcmp(cmd, "member") && !strcmp(sub, "list") && npos == 2) {
        st = admin_api_call(cl, "GET", "/api/v1/members", NULL, &out, NULL);
        list = 1, listkey = "members", fn = member_row;
        header = "id    name                            sensors      records";
    } else if (!strcmp(cmd, "sensor") && !strcmp(sub, "add") && npos == 4) {
        cw_buf_adds(&body, "{\"member\":");
        cw_buf_add_json_str(&body, pos[2], strlen(pos[2]));
        cw_buf_adds(&body, ",\"name\":");
        cw_buf_add_json_str(&body, pos[3], strlen(pos[3]));
        cw_buf_addc(&body, '}');
        st = admin_api_call(cl, "POST", "/api/v1/sensors", body.data, &out, NULL);
    } else if (!strcmp(cmd, "sensor") && !strcmp(sub, "list") && npos == 2) {
        const char *m = cw_config_str(cfg, "admin", "member", NULL);
        char *esc = m ? curl_easy_escape(NULL, m, 0) : NULL;
        snprintf(path, sizeof(path), "/api/v1/sensors%s%s", esc ? "?member=" : "",
                 esc ? esc : "");
        curl_free(esc);
        st = admin_api_call(cl, "GET", path, NULL, &out, NULL);
        list = 1, listkey = "sensors", fn = sensor_row;
        header = "id    member               name                 last seen                     "
                 "    records  rejected state";
    } else if (!strcmp(cmd, "sensor") && !strcmp(sub, "revoke") && npos == 3) {
        if (strspn(pos[2], "0123456789") != strlen(pos[2]) || !*pos[2]) {
            fprintf(stderr, "crosswatch admin: sensor id must be a number\n");
            goto out;
        }
        snprintf(path, sizeof(path), "/api/v1/sensors/%s/revoke", pos[2]);
        st = admin_api_call(cl, "POST", path, "", &out, NULL);
    } else if (!strcmp(cmd, "stats") && npos == 1) {
        st = admin_api_call(cl, "GET", "/api/v1/stats", NULL, &out, NULL);
        cl->json = true; /* the totals are already readable */
    } else if (!strcmp(cmd, "records") && npos == 1) {
        const char *m = cw_config_str(cfg, "admin", "member", NULL);
        char *esc = m ? curl_easy_escape(NULL, m, 0) : NULL;
        snprintf(path, sizeof(path), "/api/v1/records?after=%s&batches=%s%s%s",
                 cw_config_str(cfg, "admin", "after", "0"),
                 cw_config_str(cfg, "admin", "batches", "100"), esc ? "&member=" : "",
                 esc ? esc : "");
        curl_free(esc);
        st = admin_api_call(cl, "GET", path, NULL, &out, &hdrs);
        cl->json = true;
    } else {
        int more = admin_run_more(cl, cfg, pos, npos);
        if (more >= 0) {
            rc = more;
            goto out;
        }
        fprintf(stderr, "usage: %s\n", admin_usage);
        goto out;
    }
    rc = 1;
    if (st < 200 || st > 299) {
        rc = admin_api_failed(st, &out);
        goto out;
    }
    if (cl->json || !list) {
        fwrite(out.data ? out.data : "", 1, out.len, stdout);
        if (!strcmp(cmd, "sensor") && !strcmp(sub, "add") && !cl->json)
            fprintf(stderr, "The key above is shown once: give it to the sensor now "
                            "(crosswatch ship --key-file).\n");
        rc = 0;
    } else {
        rc = admin_print_list(&out, listkey, header, fn);
    }
out:
    cw_buf_release(&out);
    cw_buf_release(&body);
    cw_buf_release(&hdrs);
    return rc;
}

int cmd_admin(int argc, char **argv)
{
    struct cw_config cfg;
    char err[512];
    bool help;
    const char *pos[16];
    size_t npos;
    cw_config_init(&cfg);
    if (cw_options_parse(admin_options, "admin", argc, argv, &cfg, &help, pos, 16, &npos, err,
                         sizeof(err))) {
        fprintf(stderr, "crosswatch admin: %s\n", err);
        cw_config_release(&cfg);
        return 2;
    }
    if (help || npos == 0) {
        cw_options_help(help ? stdout : stderr, admin_usage,
                        "Manage the center through its admin API.", admin_options);
        cw_config_release(&cfg);
        return help ? 0 : 2;
    }
    struct client cl;
    memset(&cl, 0, sizeof(cl));
    cl.center = cw_config_str(&cfg, "admin", "center", "http://127.0.0.1:8080");
    if (cw_config_bool(&cfg, "admin", "json", false, &cl.json, err, sizeof(err))) {
        fprintf(stderr, "crosswatch admin: %s\n", err);
        cw_config_release(&cfg);
        return 2;
    }
    int rc = admin_db_run(&cfg, pos, npos); /* local, before any token is needed */
    if (rc >= 0) {
        cw_config_release(&cfg);
        return rc;
    }
    rc = load_token(&cl, &cfg) ? 1 : 0;
    if (rc == 0) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        rc = run(&cl, &cfg, pos, npos);
        curl_global_cleanup();
    }
    memset(cl.token, 0, sizeof(cl.token));
    cw_config_release(&cfg);
    return rc;
}
