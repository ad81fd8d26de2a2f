/* demo_ioc.c - the indicators step of `crosswatch demo` (see demo_ioc.h), told through
 * the center's HTTP API exactly as a member portal and an analyst would use it. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/demo_ioc.h"
#include "common/buf.h"
#include "common/json.h"
#include "common/timefmt.h"
#include "common/banned.h"

/* the demo's EVE logs hold earlier queries of agency-alpha's hosts for this name
 * (demo_samples.c): the retro-hunt finds them */
#define LURE_HOST "update-check.example-c2.net"

/* A phishing e-mail as a member's staff would forward it. */
static const char lure_mail[] =
    "Return-Path: <billing@secure-invoice.example>\r\n"
    "Received: from mx.secure-invoice.example (mx.secure-invoice.example [198.51.100.23])\r\n"
    "\tby mail.agency-alpha.example.jp with ESMTP id 4XyZ; Mon, 3 Mar 2025 09:12:01 +0900\r\n"
    "From: \"Accounts\" <billing@secure-invoice.example>\r\n"
    "To: <staff@agency-alpha.example.jp>\r\n"
    "Subject: Overdue invoice 2025-0312\r\n"
    "Date: Mon, 3 Mar 2025 09:11:58 +0900\r\n"
    "Message-ID: <demo-4711@secure-invoice.example>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "\r\n"
    "<p>Your invoice is overdue. Sign in to avoid a penalty:</p>\r\n"
    "<p><a href=\"https://" LURE_HOST "/portal/invoice?id=2025-0312\">View invoice</a></p>\r\n"
    "<p>Questions: staff@agency-alpha.example.jp</p>\r\n";

static size_t collect(char *p, size_t sz, size_t n, void *ctx)
{
    cw_buf_add(ctx, p, sz * n);
    return sz * n;
}

static long call(const char *url, const char *path, const char *token, const char *body,
                 size_t blen, struct cw_buf *out)
{
    CURL *h = curl_easy_init();
    if (!h)
        return 0;
    char full[1024], auth[320];
    snprintf(full, sizeof(full), "%s%s", url, path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token ? token : "");
    struct curl_slist *hl = token ? curl_slist_append(NULL, auth) : NULL;
    curl_easy_setopt(h, CURLOPT_URL, full);
    if (hl)
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    long st = 0;
    cw_buf_clear(out);
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
    curl_slist_free_all(hl);
    curl_easy_cleanup(h);
    return st;
}

static int read_line(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int ok = fgets(out, (int)cap, f) != NULL;
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
    return ok ? 0 : -1;
}

/* An integer field of the JSON object at obj (-1 when absent). */
static int64_t jint(const struct cw_json *j, int obj, const char *key)
{
    int64_t v = -1;
    int t = cw_json_get(j, obj, key);
    if (t >= 0)
        cw_json_int(j, t, &v);
    return v;
}

/* Is the string field key of obj exactly s? (jsmn string tokens exclude the quotes) */
static bool jeq(const struct cw_json *j, int obj, const char *key, const char *s)
{
    int t = cw_json_get(j, obj, key);
    size_t n = strlen(s);
    return t >= 0 && (size_t)(j->tok[t].end - j->tok[t].start) == n &&
           memcmp(j->src + j->tok[t].start, s, n) == 0;
}

#define TOKS 4096

int demo_indicators(const char *url, const char *token_path, const char *person,
                    const char *password)
{
    char admin[256], body[256];
    struct cw_buf out = CW_BUF_INIT;
    jsmntok_t *tok = malloc(TOKS * sizeof(*tok));
    struct cw_json j;
    const char *jerr;
    int rc = -1;
    if (!tok || read_line(token_path, admin, sizeof(admin)))
        goto out;
    /* 2. a member admin signs in and forwards the e-mail */
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"password\":\"%s\"}", person, password);
    char mtok[256] = "";
    if (call(url, "/api/v1/login", NULL, body, strlen(body), &out) == 200 &&
        cw_json_parse(&j, out.data, out.len, tok, TOKS, &jerr) == 0) {
        int t = cw_json_get(&j, 0, "token");
        if (t >= 0 && j.tok[t].end - j.tok[t].start < (int)sizeof(mtok))
            snprintf(mtok, sizeof(mtok), "%.*s", j.tok[t].end - j.tok[t].start,
                     j.src + j.tok[t].start);
    }
    if (!mtok[0] ||
        call(url, "/api/v1/samples?name=overdue-invoice.eml", mtok, lure_mail,
             sizeof(lure_mail) - 1, &out) != 201 ||
        cw_json_parse(&j, out.data, out.len, tok, TOKS, &jerr)) {
        printf("  indicators: the sample was not accepted\n");
        goto out;
    }
    int64_t sample = jint(&j, 0, "id"), host_id = -1;
    int cands = cw_json_get(&j, 0, "candidates"), kept = 0, skipped = 0;
    for (int i = cands + 1, k = 0; cands >= 0 && k < j.tok[cands].size;
         k++, i = cw_json_next(&j, i)) {
        if (cw_json_get(&j, i, "indicator") >= 0)
            kept++;
        else
            skipped++;
        if (jeq(&j, i, "type", "hostname") && jeq(&j, i, "value", LURE_HOST))
            host_id = jint(&j, i, "indicator");
    }
    printf("\n[+] indicators: %s (agency-alpha) forwarded overdue-invoice.eml -> sample %lld: "
           "%d indicator candidates, %d kept back (the member's own addresses or refused)\n",
           person, (long long)sample, kept, skipped);
    if (host_id <= 0) {
        printf("  indicators: no candidate for %s\n", LURE_HOST);
        goto out;
    }
    /* 3. the coordinator publishes the lure's host name */
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/indicators/%lld/publish", (long long)host_id);
    if (call(url, path, admin, "", 0, &out) != 200) {
        printf("  indicators: publishing failed\n");
        goto out;
    }
    printf("    published %s as ioc:%lld: every `crosswatch dns --center-feed` blocks it "
           "within the feed's long poll, and the center matches it on every new record\n",
           LURE_HOST, (long long)host_id);
    /* 4. the retro-hunt runs on a worker: wait for it briefly */
    snprintf(path, sizeof(path), "/api/v1/indicators/%lld", (long long)host_id);
    for (int tries = 0; tries < 100; tries++) {
        if (call(url, path, admin, NULL, 0, &out) == 200 &&
            cw_json_parse(&j, out.data, out.len, tok, TOKS, &jerr) == 0) {
            int rh = cw_json_get(&j, 0, "retro_hunt");
            if (rh >= 0 && jeq(&j, rh, "state", "done")) {
                printf("    retro-hunt: %lld earlier contacts found in %lld stored batches "
                       "(%lld ms) -> a detection for agency-alpha in the triage queue\n",
                       (long long)jint(&j, rh, "hits"), (long long)jint(&j, rh, "batches_scanned"),
                       (long long)jint(&j, rh, "ms"));
                rc = 0;
                goto out;
            }
        }
        struct timespec sl = {0, 50 * 1000 * 1000};
        nanosleep(&sl, NULL);
    }
    printf("    retro-hunt still running\n");
    rc = 0;
out:
    free(tok);
    cw_buf_release(&out);
    fflush(stdout);
    return rc;
}
