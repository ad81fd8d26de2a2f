/* api_attachments.c - files attached to notices (docs/web.md "Notice attachments"):
 *
 *   POST /api/v1/notices/{id}/attachments?name=FILE   raw body, at most 5 MiB
 *   GET  /api/v1/notices/{id}/attachments             the list
 *   GET  /api/v1/attachments/{id}                     the bytes, as a download
 * A member's people attach to and read their own member's notices; coordinators any.
 * Another member's notice or attachment answers 404 like one that does not exist.
 * Files are always sent as application/octet-stream with Content-Disposition:
 * attachment, so a browser never renders what a member uploaded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "center/http.h"
#include "center/store_web.h"
#include "common/banned.h"

#define MAX_ATTACHMENT (5u << 20)

/* 1..200 bytes, no path separators, no control characters (UTF-8 otherwise free). */
static bool name_ok(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > 200 || !strcmp(n, ".") || !strcmp(n, ".."))
        return false;
    for (const unsigned char *p = (const unsigned char *)n; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\')
            return false;
    return true;
}

static void attachment_add(struct cw_center *c, struct cw_http_request *req,
                           struct cw_http_response *resp)
{
    const char *name = cw_http_query(req, "name");
    if (!name || !name_ok(name)) {
        cw_http_json_error(resp, 400, "name must be a file name of 1 to 200 bytes without "
                                      "/, \\ or control characters");
        return;
    }
    if (req->body.len > MAX_ATTACHMENT) {
        cw_http_json_error(resp, 413, "an attachment may be at most 5 MiB");
        return;
    }
    int64_t id = strtoll(req->path_arg, NULL, 10);
    struct cw_attachment a;
    char err[256];
    int r = cw_store_attachment_add(cw_center_store(c), id, req->scope, name,
                                    req->body.data ? req->body.data : "", req->body.len,
                                    req->who.name, &a, err, sizeof(err));
    if (r == CW_STORE_NOT_FOUND) {
        cw_http_json_error(resp, 404, "no such notice");
    } else if (r) {
        cw_http_json_error(resp, 503, "%s", err);
    } else {
        resp->status = 201;
        cw_attachment_json(&resp->body, &a);
        cw_buf_addc(&resp->body, '\n');
    }
}

static void attachments_list(struct cw_center *c, struct cw_http_request *req,
                             struct cw_http_response *resp)
{
    char err[256];
    int r = cw_store_attachments_json(cw_center_store(c), strtoll(req->path_arg, NULL, 10),
                                      req->scope, &resp->body, err, sizeof(err));
    if (r == CW_STORE_NOT_FOUND)
        cw_http_json_error(resp, 404, "no such notice");
    else if (r)
        cw_http_json_error(resp, 503, "%s", err);
}

/* filename="<ASCII, unsafe bytes as _>"; filename*=UTF-8''<percent-encoded> (RFC 6266) */
static void disposition(char *out, size_t cap, const char *name)
{
    char ascii[256], pct[700];
    size_t a = 0, p = 0;
    for (const unsigned char *s = (const unsigned char *)name; *s && a + 1 < sizeof(ascii); s++)
        ascii[a++] = (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\' || *s == ';' ||
                      *s == '%') ? '_' : (char)*s;
    ascii[a] = '\0';
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *s = (const unsigned char *)name; *s && p + 4 < sizeof(pct); s++) {
        bool plain = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                     (*s >= '0' && *s <= '9') || *s == '.' || *s == '-' || *s == '_';
        if (plain) {
            pct[p++] = (char)*s;
        } else {
            pct[p++] = '%';
            pct[p++] = hex[*s >> 4];
            pct[p++] = hex[*s & 15];
        }
    }
    pct[p] = '\0';
    snprintf(out, cap, "Content-Disposition: attachment; filename=\"%.100s\"; "
                       "filename*=UTF-8''%.120s", ascii, pct);
}

static void attachment_get(struct cw_center *c, struct cw_http_request *req,
                           struct cw_http_response *resp)
{
    struct cw_attachment a;
    void *data = NULL;
    char err[256];
    int r = cw_store_attachment_get(cw_center_store(c), strtoll(req->path_arg, NULL, 10),
                                    req->scope, &a, &data, err, sizeof(err));
    if (r == CW_STORE_NOT_FOUND) {
        cw_http_json_error(resp, 404, "no such attachment");
        return;
    }
    if (r) {
        cw_http_json_error(resp, 503, "%s", err);
        return;
    }
    resp->content_type = "application/octet-stream";
    cw_buf_add(&resp->body, data, (size_t)a.size);
    free(data);
    disposition(resp->extra_header[0], sizeof(resp->extra_header[0]), a.name);
}

const struct cw_route cw_api_attachments_routes[] = {
    {"POST", "/api/v1/notices/{id}/attachments", CW_ACCESS_USER, attachment_add},
    {"GET", "/api/v1/notices/{id}/attachments", CW_ACCESS_USER, attachments_list},
    {"GET", "/api/v1/attachments/{id}", CW_ACCESS_USER, attachment_get},
    {NULL, NULL, 0, NULL},
};
