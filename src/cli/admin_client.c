/* admin_client.c - the HTTP client side of `crosswatch admin` (libcurl). */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/admin_client.h"
#include "common/banned.h"


static size_t collect(char *p, size_t sz, size_t n, void *ud)
{
    cw_buf_add(ud, p, sz * n);
    return sz * n;
}

/* One API call. Returns the HTTP status (0 on transport failure, message printed). */
long admin_api_call(const struct client *cl, const char *method, const char *path,
                     const char *body, struct cw_buf *out, struct cw_buf *hdrs)
{
    CURL *h = curl_easy_init();
    if (!h)
        return 0;
    char url[2048], auth[300];
    snprintf(url, sizeof(url), "%s%s", cl->center, path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", cl->token);
    struct curl_slist *hl = curl_slist_append(NULL, auth);
    hl = curl_slist_append(hl, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 300L);
    if (hdrs) {
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, collect);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, hdrs);
    }
    if (body)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
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

/* Print the API's error message for a failed call; returns exit status 1. */
int admin_api_failed(long status, const struct cw_buf *out)
{
    if (status == 0)
        return 1;
    struct cw_json j;
    jsmntok_t tok[16];
    const char *err;
    int e;
    if (out->data && cw_json_parse(&j, out->data, out->len, tok, 16, &err) == 0 &&
        (e = cw_json_get(&j, 0, "error")) >= 0)
        fprintf(stderr, "crosswatch admin: %ld: %.*s\n", status,
                j.tok[e].end - j.tok[e].start, j.src + j.tok[e].start);
    else
        fprintf(stderr, "crosswatch admin: the center answered %ld\n", status);
    if (status == 401)
        fprintf(stderr, "  (check the admin token: --token-file, $CROSSWATCH_TOKEN)\n");
    return 1;
}

/* Field of a JSON object as text (strings unquoted, escapes left as they are:
 * the table view is for people; --json is exact). */
void admin_field(const struct cw_json *j, int obj, const char *key, char *out, size_t cap)
{
    int t = cw_json_get(j, obj, key);
    if (t < 0 || cw_json_is_null(j, t)) {
        snprintf(out, cap, "-");
        return;
    }
    snprintf(out, cap, "%.*s", j->tok[t].end - j->tok[t].start, j->src + j->tok[t].start);
}



int admin_print_list(const struct cw_buf *out, const char *key, const char *header, admin_row_fn fn)
{
    struct cw_json j;
    static jsmntok_t tok[1 << 16];
    const char *err;
    if (cw_json_parse(&j, out->data, out->len, tok, 1 << 16, &err) != 0) {
        fprintf(stderr, "crosswatch admin: unreadable answer: %s\n", err);
        return 1;
    }
    int arr = cw_json_get(&j, 0, key);
    if (!cw_json_is(&j, arr, JSMN_ARRAY))
        return 1;
    printf("%s\n", header);
    int k = arr + 1;
    for (int i = 0; i < j.tok[arr].size; i++) {
        fn(&j, k);
        k = cw_json_next(&j, k);
    }
    return 0;
}

