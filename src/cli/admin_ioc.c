/* admin_ioc.c - `crosswatch admin ioc ...` and `crosswatch admin sample ...`: the
 * indicator and sample routes of the center's API from the command line. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/admin_ioc.h"
#include "common/banned.h"

#define FILE_MAX (256u << 20)

static void ioc_row(const struct cw_json *j, int o)
{
    char id[24], type[16], value[96], st[16], tlp[16], conf[8], src[16], seen[24];
    admin_field(j, o, "id", id, sizeof(id));
    admin_field(j, o, "type", type, sizeof(type));
    admin_field(j, o, "value", value, sizeof(value));
    admin_field(j, o, "state", st, sizeof(st));
    admin_field(j, o, "tlp", tlp, sizeof(tlp));
    admin_field(j, o, "confidence", conf, sizeof(conf));
    admin_field(j, o, "source", src, sizeof(src));
    admin_field(j, o, "sightings", seen, sizeof(seen));
    printf("%-6s %-10s %-48s %-10s %-12s %4s %-8s %s\n", id, type, value, st, tlp, conf, src,
           seen);
}

static void sample_row(const struct cw_json *j, int o)
{
    char id[24], m[16], name[64], kind[8], size[24], when[40];
    admin_field(j, o, "id", id, sizeof(id));
    admin_field(j, o, "member", m, sizeof(m));
    admin_field(j, o, "name", name, sizeof(name));
    admin_field(j, o, "kind", kind, sizeof(kind));
    admin_field(j, o, "size", size, sizeof(size));
    admin_field(j, o, "received", when, sizeof(when));
    printf("%-6s %-6s %-40s %-6s %10s %s\n", id, m, name, kind, size, when);
}

static void candidate_row(const struct cw_json *j, int o)
{
    char type[16], value[72], ind[16], st[16], note[80];
    admin_field(j, o, "type", type, sizeof(type));
    admin_field(j, o, "value", value, sizeof(value));
    admin_field(j, o, "indicator", ind, sizeof(ind));
    admin_field(j, o, "state", st, sizeof(st));
    admin_field(j, o, "refused", note, sizeof(note));
    if (strcmp(note, "-") == 0)
        admin_field(j, o, "skipped", note, sizeof(note));
    printf("%-10s %-60s %-9s %-10s %s\n", type, value, ind, st, strcmp(note, "-") ? note : "");
}

/* Read a whole file ("-" = stdin) into b. */
static int read_file(const char *path, struct cw_buf *b)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "crosswatch admin: cannot open %s\n", path);
        return -1;
    }
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b->len <= FILE_MAX)
        cw_buf_add(b, chunk, n);
    int bad = ferror(f) || b->len > FILE_MAX || !cw_buf_ok(b);
    if (f != stdin)
        fclose(f);
    if (bad)
        fprintf(stderr, "crosswatch admin: cannot read %s (or larger than 256 MiB)\n", path);
    return bad ? -1 : 0;
}

static size_t collect(char *p, size_t sz, size_t n, void *ctx)
{
    cw_buf_add(ctx, p, sz * n);
    return sz * n;
}

/* POST raw bytes (a sample, an import document); admin_api_call sends C strings. */
static long post_bytes(const struct client *cl, const char *path, const struct cw_buf *body,
                       const char *ctype, struct cw_buf *out)
{
    CURL *h = curl_easy_init();
    if (!h)
        return 0;
    char url[2048], auth[300], ct[128];
    snprintf(url, sizeof(url), "%s%s", cl->center, path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", cl->token);
    snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
    struct curl_slist *hl = curl_slist_append(NULL, auth);
    hl = curl_slist_append(hl, ct);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body->data ? body->data : "");
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 600L);
    long status = 0;
    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK)
        fprintf(stderr, "crosswatch admin: cannot reach the center at %s: %s\n", cl->center,
                curl_easy_strerror(rc));
    else
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(h);
    return status;
}

/* Append "?k=v" / "&k=v" (escaped) when option opt is set. */
static void query(struct cw_buf *q, const struct cw_config *cfg, const char *opt,
                  const char *param)
{
    const char *v = cw_config_str(cfg, "admin", opt, NULL);
    if (!v)
        return;
    char *e = curl_easy_escape(NULL, v, 0);
    cw_buf_addf(q, "%c%s=%s", memchr(q->data, '?', q->len) ? '&' : '?', param, e ? e : "");
    curl_free(e);
}

static bool opt_true(const struct cw_config *cfg, const char *opt)
{
    bool v = false;
    char err[128];
    return cw_config_bool(cfg, "admin", opt, false, &v, err, sizeof(err)) == 0 && v;
}

static void flag(struct cw_buf *q, const struct cw_config *cfg, const char *opt)
{
    if (opt_true(cfg, opt))
        cw_buf_addf(q, "%c%s=true", memchr(q->data, '?', q->len) ? '&' : '?', opt);
}

static bool is_id(const char *s) { return *s && strspn(s, "0123456789") == strlen(s); }

/* The body of `ioc add VALUE`. */
static void add_body(struct cw_buf *b, const struct cw_config *cfg, const char *value)
{
    cw_buf_adds(b, "{\"value\":");
    cw_buf_add_json_str(b, value, strlen(value));
    static const char *const keys[][2] = {
        {"type", "type"}, {"tlp", "tlp"}, {"note", "description"}, {NULL, NULL}};
    for (int i = 0; keys[i][0]; i++) {
        const char *v = cw_config_str(cfg, "admin", keys[i][0], NULL);
        if (v) {
            cw_buf_addf(b, ",\"%s\":", keys[i][1]);
            cw_buf_add_json_str(b, v, strlen(v));
        }
    }
    const char *c = cw_config_str(cfg, "admin", "confidence", NULL);
    if (c && is_id(c))
        cw_buf_addf(b, ",\"confidence\":%s", c);
    if (opt_true(cfg, "publish"))
        cw_buf_adds(b, ",\"publish\":true");
    if (opt_true(cfg, "force"))
        cw_buf_adds(b, ",\"force\":true");
    cw_buf_addc(b, '}');
}

static int finish(const struct client *cl, long st, struct cw_buf *out, const char *key,
                  const char *header, admin_row_fn fn)
{
    if (st < 200 || st > 299)
        return admin_api_failed(st, out);
    if (cl->json || !fn) {
        fwrite(out->data ? out->data : "", 1, out->len, stdout);
        return 0;
    }
    return admin_print_list(out, key, header, fn);
}

static int run_ioc(struct client *cl, const struct cw_config *cfg, const char **pos,
                   size_t npos, struct cw_buf *out, struct cw_buf *q)
{
    const char *sub = npos > 1 ? pos[1] : "";
    static const char ioc_header[] =
        "id     type       value                                            state      tlp  "
        "        conf source   sightings";
    long st;
    if (!strcmp(sub, "add") && npos == 3) {
        add_body(q, cfg, pos[2]);
        st = admin_api_call(cl, "POST", "/api/v1/indicators", q->data, out, NULL);
        if (st == 422) { /* refused: the answer says why */
            fwrite(out->data ? out->data : "", 1, out->len, stdout);
            return 1;
        }
        return finish(cl, st, out, NULL, NULL, NULL);
    }
    if (!strcmp(sub, "list") && npos == 2) {
        cw_buf_adds(q, "/api/v1/indicators?limit=1000");
        query(q, cfg, "type", "type");
        query(q, cfg, "state", "state");
        query(q, cfg, "q", "q");
        st = admin_api_call(cl, "GET", q->data, NULL, out, NULL);
        return finish(cl, st, out, "indicators", ioc_header, ioc_row);
    }
    if ((!strcmp(sub, "show") || !strcmp(sub, "publish") || !strcmp(sub, "revoke")) &&
        npos == 3 && is_id(pos[2])) {
        bool show = !strcmp(sub, "show");
        cw_buf_addf(q, "/api/v1/indicators/%s%s%s", pos[2], show ? "" : "/", show ? "" : sub);
        st = admin_api_call(cl, show ? "GET" : "POST", q->data, show ? NULL : "{}", out, NULL);
        return finish(cl, st, out, NULL, NULL, NULL);
    }
    if (!strcmp(sub, "import") && npos == 3) {
        struct cw_buf doc = CW_BUF_INIT;
        cw_buf_adds(q, "/api/v1/indicators/import");
        query(q, cfg, "format", "format");
        query(q, cfg, "tlp", "tlp");
        query(q, cfg, "type", "type");
        flag(q, cfg, "publish");
        flag(q, cfg, "force");
        if (!cw_config_str(cfg, "admin", "format", NULL)) {
            fprintf(stderr, "crosswatch admin: ioc import needs --format stix|misp|csv|plain\n");
            return 2;
        }
        int rc = read_file(pos[2], &doc) ? 1 : -2;
        if (rc == -2) {
            st = post_bytes(cl, q->data, &doc, "application/octet-stream", out);
            /* an import answer lists its rejects: print it whatever the status */
            rc = st == 200 || st == 400 ? (fwrite(out->data ? out->data : "", 1, out->len,
                                                  stdout), st == 200 ? 0 : 1)
                                        : admin_api_failed(st, out);
        }
        cw_buf_release(&doc);
        return rc;
    }
    if (!strcmp(sub, "export") && npos == 2) {
        cw_buf_adds(q, "/api/v1/indicators/export");
        query(q, cfg, "format", "format");
        query(q, cfg, "type", "type");
        query(q, cfg, "tlp", "tlp");
        if (opt_true(cfg, "spreadsheet")) { /* the route's ?for=spreadsheet (common/csv.h) */
            const char *f = cw_config_str(cfg, "admin", "format", NULL);
            if (!f || strcmp(f, "csv")) {
                fprintf(stderr, "crosswatch admin: --spreadsheet goes with --format csv\n");
                return 2;
            }
            cw_buf_adds(q, "&for=spreadsheet");
        }
        st = admin_api_call(cl, "GET", q->data, NULL, out, NULL);
        return finish(cl, st, out, NULL, NULL, NULL);
    }
    fprintf(stderr, "usage: crosswatch admin ioc add VALUE [--type T --tlp L --confidence N "
                    "--note TEXT --publish --force] | list [--type --state --q] | show ID | "
                    "publish ID | revoke ID | import FILE --format stix|misp|csv|plain [--tlp "
                    "--publish --force] | export [--format stix|misp|csv|plain|rpz --type --tlp "
                    "--spreadsheet]\n");
    return 2;
}

static int run_sample(struct client *cl, const struct cw_config *cfg, const char **pos,
                      size_t npos, struct cw_buf *out, struct cw_buf *q)
{
    (void)cfg;
    const char *sub = npos > 1 ? pos[1] : "";
    long st;
    if (!strcmp(sub, "submit") && npos == 3) {
        struct cw_buf data = CW_BUF_INIT;
        if (read_file(pos[2], &data)) {
            cw_buf_release(&data);
            return 1;
        }
        const char *base = strrchr(pos[2], '/');
        base = base ? base + 1 : pos[2];
        char *e = curl_easy_escape(NULL, strcmp(base, "-") ? base : "stdin", 0);
        cw_buf_addf(q, "/api/v1/samples?name=%s", e ? e : "sample");
        curl_free(e);
        st = post_bytes(cl, q->data, &data, "application/octet-stream", out);
        cw_buf_release(&data);
        if (st != 201 || cl->json)
            return finish(cl, st == 201 ? 200 : st, out, NULL, NULL, NULL);
        struct cw_json j;
        jsmntok_t *tok = malloc(200000 * sizeof(*tok));
        const char *jerr = "out of memory";
        if (!tok || cw_json_parse(&j, out->data, out->len, tok, 200000, &jerr)) {
            fwrite(out->data, 1, out->len, stdout);
            free(tok);
            return 0;
        }
        char id[24], kind[16], sha[72], made[16], pub[16];
        admin_field(&j, 0, "id", id, sizeof(id));
        admin_field(&j, 0, "kind", kind, sizeof(kind));
        admin_field(&j, 0, "sha256", sha, sizeof(sha));
        admin_field(&j, 0, "indicators_created", made, sizeof(made));
        admin_field(&j, 0, "auto_published", pub, sizeof(pub));
        printf("sample %s (%s, sha256 %s): %s new indicator candidates, %s published "
               "automatically\n", id, kind, sha, made, pub);
        free(tok);
        return admin_print_list(out, "candidates",
                                "type       value                                              "
                                "          indicator state      note", candidate_row);
    }
    if (!strcmp(sub, "list") && npos == 2) {
        st = admin_api_call(cl, "GET", "/api/v1/samples", NULL, out, NULL);
        return finish(cl, st, out, "samples",
                      "id     member name                                     kind         size "
                      "received", sample_row);
    }
    if (!strcmp(sub, "show") && npos == 3 && is_id(pos[2])) {
        cw_buf_addf(q, "/api/v1/samples/%s", pos[2]);
        st = admin_api_call(cl, "GET", q->data, NULL, out, NULL);
        return finish(cl, st, out, NULL, NULL, NULL);
    }
    fprintf(stderr, "usage: crosswatch admin sample submit FILE | list | show ID\n");
    return 2;
}

int admin_ioc_run(struct client *cl, const struct cw_config *cfg, const char **pos, size_t npos)
{
    const char *cmd = npos > 0 ? pos[0] : "";
    bool ioc = !strcmp(cmd, "ioc") || !strcmp(cmd, "indicator");
    if (!ioc && strcmp(cmd, "sample") != 0)
        return -1;
    struct cw_buf out = CW_BUF_INIT, q = CW_BUF_INIT;
    cw_buf_adds(&q, ""); /* data non-NULL for memchr */
    int rc = ioc ? run_ioc(cl, cfg, pos, npos, &out, &q) : run_sample(cl, cfg, pos, npos, &out, &q);
    cw_buf_release(&out);
    cw_buf_release(&q);
    return rc;
}
