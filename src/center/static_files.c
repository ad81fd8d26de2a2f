/* static_files.c - the bundled front end served from disk (docs/web.md "Static files").
 *
 * Only GET/HEAD outside /api/ come here. Paths are checked segment by segment
 * ([A-Za-z0-9._-], no leading dot, so no "..", no dot files) before any file is
 * opened, and only regular files are served; anything else is 404. Files are sent
 * with libmicrohttpd from the descriptor (no copy). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "center/http.h"
#include "center/web.h"
#include "common/banned.h"

void cw_web_find_dir(const char *configured, char *out, size_t cap);

static bool is_dir_with_index(const char *dir)
{
    char p[2 * PATH_MAX]; /* callers' directory buffers are a bit over PATH_MAX */
    struct stat st;
    snprintf(p, sizeof(p), "%s/index.html", dir);
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* web_dir when set; else <binary dir>/web, then <binary dir>/../share/crosswatch/web. */
void cw_web_find_dir(const char *configured, char *out, size_t cap)
{
    out[0] = '\0';
    if (configured && configured[0]) {
        if (is_dir_with_index(configured))
            snprintf(out, cap, "%s", configured);
        return;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return;
    *slash = '\0';
    char cand[PATH_MAX + 64];
    snprintf(cand, sizeof(cand), "%s/web", exe);
    if (is_dir_with_index(cand)) {
        snprintf(out, cap, "%s", cand);
        return;
    }
    snprintf(cand, sizeof(cand), "%s/../share/crosswatch/web", exe);
    if (is_dir_with_index(cand))
        snprintf(out, cap, "%s", cand);
}

static const char *type_of(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
        {".json", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
        {".ico", "image/x-icon"}, {".woff2", "font/woff2"}, {".map", "application/json"},
        {".txt", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (!strcmp(dot, types[i].ext))
            return types[i].type;
    return NULL;
}

/* "/assets/a/b.js" -> true when every segment is [A-Za-z0-9._-]+ not starting with '.' */
static bool safe_path(const char *p)
{
    if (*p != '/')
        return false;
    bool seg_start = true;
    for (p++; *p; p++) {
        char c = *p;
        if (c == '/') {
            if (seg_start)
                return false;
            seg_start = true;
            continue;
        }
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok || (seg_start && c == '.'))
            return false;
        seg_start = false;
    }
    return !seg_start;
}

static const char not_installed[] =
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>crosswatch</title>"
    "</head><body><h1>crosswatch</h1><p>The web interface is not installed on this center "
    "(no web folder was found; see web_dir in docs/config.md). The API is available under "
    "/api/v1/.</p><p>このセンターにはWeb画面がインストールされていません。API は /api/v1/ "
    "で利用できます。</p></body></html>\n";

static void not_found(struct cw_http_response *resp)
{
    resp->status = 404;
    resp->content_type = "text/plain; charset=utf-8";
    cw_buf_clear(&resp->body);
    cw_buf_adds(&resp->body, "not found\n");
}

void cw_web_static(struct cw_web *w, const char *url, struct cw_http_response *resp)
{
    const char *dir = cw_web_dir(w);
    bool index = !strcmp(url, "/") || !strcmp(url, "/index.html");
    if (!dir[0]) {
        if (!index)
            return not_found(resp);
        resp->status = 200;
        resp->content_type = "text/html; charset=utf-8";
        cw_buf_adds(&resp->body, not_installed);
        return;
    }
    const char *rel = index ? "/index.html" : url;
    if (!index && (strncmp(url, "/assets/", 8) != 0 || !safe_path(url)))
        return not_found(resp);
    const char *type = type_of(rel);
    char path[PATH_MAX + 64];
    if (!type || (size_t)snprintf(path, sizeof(path), "%s%s", dir, rel) >= sizeof(path))
        return not_found(resp);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return not_found(resp);
    }
    resp->mhd = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (!resp->mhd) {
        close(fd);
        cw_http_json_error(resp, 503, "cannot send the file");
        return;
    }
    resp->status = 200;
    resp->content_type = type;
    snprintf(resp->extra_header[0], sizeof(resp->extra_header[0]), "Cache-Control: %s",
             index ? "no-cache" : "public, max-age=31536000, immutable");
}
