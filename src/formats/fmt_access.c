/* fmt_access.c - Apache/nginx "combined" and "common" access logs.
 *
 *   host ident user [10/Oct/2000:13:55:36 -0700] "GET /p?q HTTP/1.1" 200 2326 "ref" "ua"
 *
 * This is the ingest hot path, so the parser is one hand-written pass over the line:
 * no copies (every record string points into the line), no allocation, no sscanf.
 *
 * Real logs are messier than the format string suggests (docs/records.md lists what
 * is accepted and why):
 *   - some tools wrap each line in an extra pair of double quotes (ocatak data set);
 *   - a vhost may come first ("%v %h ..."), an extra "-" may precede the time, and a
 *     vhost may follow it (fail2ban's apache-fakegooglebot variant);
 *   - scanners send request lines with raw spaces and quotes, so the end of the
 *     request is found from the structure that must follow it (status, bytes);
 *   - nginx appends "$http_x_forwarded_for", others append more fields: fields after
 *     the user agent are ignored; a user agent cut off without its closing quote is
 *     kept as far as it goes;
 *   - a request that is not "METHOD target [HTTP/x]" (empty, TLS bytes, "batman") is
 *     real attack traffic: the record is kept with the request text in http.path and
 *     no method, instead of being rejected. */
#include "formats/format.h"

#include <stdbool.h>
#include <string.h>

#include "common/timefmt.h"
#include "formats/fmt_http.h"
#include "common/banned.h"

/* Tokens before the [time]: "host ident user", optionally a leading vhost or an
 * extra "-". More than this is not an access log line. */
#define MAX_LEFT_TOKENS 5
/* How many candidate ends of a request line are tried before giving up: bounds the
 * work on a hostile line full of '" 200 ' sequences. */
#define MAX_REQUEST_TRIES 16

struct span {
    const char *p;
    size_t n;
};

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static bool is_dash(struct span s) { return s.n == 1 && s.p[0] == '-'; }

static bool looks_like_ip(struct span s)
{
    /* cheap pre-check before inet_pton: digits, dots, hex and colons only */
    if (s.n == 0 || s.n > 45)
        return false;
    for (size_t i = 0; i < s.n; i++) {
        char c = s.p[i];
        if (!(is_digit(c) || c == '.' || c == ':' || (c >= 'a' && c <= 'f') ||
              (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

static bool parse_ip(struct cw_ip *ip, struct span s)
{
    return looks_like_ip(s) && cw_ip_parse(ip, s.p, s.n) == 0;
}

/* A host name as HostnameLookups writes it: letters, digits, '.', '-', '_'. */
static bool is_hostname(struct span s)
{
    if (s.n == 0 || s.n > 253)
        return false;
    for (size_t i = 0; i < s.n; i++) {
        char c = s.p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '.' ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

/* Closing quote of a quoted field starting after the opening quote at p: the first
 * '"' not escaped by a backslash (Apache writes \" and \\) for which ok(next byte)
 * holds. Returns NULL if there is none. */
static const char *closing_quote(const char *p, const char *end, bool need_space_or_end)
{
    while (p < end) {
        const char *q = memchr(p, '"', (size_t)(end - p));
        if (!q)
            return NULL;
        /* count preceding backslashes: odd means the quote is escaped */
        size_t bs = 0;
        for (const char *b = q; b > p && b[-1] == '\\'; b--)
            bs++;
        if (bs % 2 == 0 && (!need_space_or_end || q + 1 == end || q[1] == ' '))
            return q;
        p = q + 1;
    }
    return NULL;
}

static int parse_uint(struct span s, int64_t *out)
{
    if (s.n == 0 || s.n > 18)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (!is_digit(s.p[i]))
            return -1;
        v = v * 10 + (s.p[i] - '0');
    }
    *out = v;
    return 0;
}

static struct span next_token(const char **pp, const char *end)
{
    const char *p = *pp;
    while (p < end && *p == ' ')
        p++;
    const char *s = p;
    while (p < end && *p != ' ')
        p++;
    *pp = p;
    return (struct span){s, (size_t)(p - s)};
}

/* What follows the request: " status bytes" then, for combined, optional
 * "referer" "user agent" and ignored extra fields. */
struct tail {
    int64_t status, bytes; /* bytes -1 = absent */
    struct span referer, ua;
    bool has_ref, has_ua;
};

/* p points just after the request's closing quote. Returns 0 if the rest of the
 * line has the expected structure. */
static int parse_tail(const char *p, const char *end, bool combined, struct tail *t)
{
    if (end - p < 5 || p[0] != ' ' || !is_digit(p[1]) || !is_digit(p[2]) || !is_digit(p[3]) ||
        (p + 4 < end && p[4] != ' '))
        return -1;
    t->status = (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
    p += 4;
    struct span b = next_token(&p, end);
    if (b.n == 0)
        return -1;
    t->bytes = -1;
    if (!is_dash(b) && parse_uint(b, &t->bytes))
        return -1;
    t->has_ref = t->has_ua = false;
    t->referer = t->ua = (struct span){NULL, 0};
    if (!combined || p == end)
        return 0; /* a common-format line is fine for combined too */
    if (end - p < 3 || p[0] != ' ' || p[1] != '"')
        return -1;
    const char *q = closing_quote(p + 2, end, true);
    if (!q)
        return -1;
    t->referer = (struct span){p + 2, (size_t)(q - p - 2)};
    t->has_ref = true;
    p = q + 1;
    if (p == end)
        return 0;
    if (end - p < 3 || p[1] != '"')
        return -1;
    q = closing_quote(p + 2, end, true);
    if (!q)
        q = end; /* truncated user agent (seen in real logs): keep what is there */
    t->ua = (struct span){p + 2, (size_t)(q - p - 2)};
    t->has_ua = true;
    return 0; /* anything after the user agent (x-forwarded-for, timings) is ignored */
}

static bool is_method_char(char c) { return (c >= 'A' && c <= 'Z') || c == '-' || c == '_'; }

static int set_span(struct cw_batch *b, enum cw_field_id id, struct span s)
{
    return cw_batch_set_str(b, id, s.p, s.n);
}

int cw_fmt_set_target(struct cw_batch *b, const char *t, size_t n)
{
    const char *qm = memchr(t, '?', n);
    if (!qm)
        return cw_batch_set_str(b, CW_F_HTTP_PATH, t, n);
    if (cw_batch_set_str(b, CW_F_HTTP_PATH, t, (size_t)(qm - t)))
        return -1;
    return cw_batch_set_str(b, CW_F_HTTP_QUERY, qm + 1, (size_t)(t + n - qm - 1));
}

/* "METHOD target HTTP/x.y": the target is everything between the first and the last
 * space, so a payload with raw spaces stays whole. */
int cw_fmt_set_request(struct cw_batch *b, const char *req, size_t n)
{
    struct span r = {req, n};
    if (r.n == 0 || is_dash(r))
        return 0; /* no request line at all (client sent nothing) */
    const char *end = r.p + r.n, *sp = memchr(r.p, ' ', r.n);
    size_t mlen = sp ? (size_t)(sp - r.p) : 0;
    bool method_ok = mlen > 0 && mlen <= 32;
    for (size_t i = 0; method_ok && i < mlen; i++)
        method_ok = is_method_char(r.p[i]);
    if (!method_ok)
        return set_span(b, CW_F_HTTP_PATH, r); /* garbage: keep it whole */
    struct span target = {sp + 1, (size_t)(end - sp - 1)};
    const char *last = end;
    while (last > target.p && last[-1] != ' ')
        last--;
    bool has_version = last > target.p && end - last > 5 && memcmp(last, "HTTP/", 5) == 0;
    if (has_version)
        target.n = (size_t)(last - 1 - target.p);
    if (target.n == 0)
        return set_span(b, CW_F_HTTP_PATH, r);
    if (has_version && set_span(b, CW_F_HTTP_VERSION, (struct span){last, (size_t)(end - last)}))
        return -1;
    if (set_span(b, CW_F_HTTP_METHOD, (struct span){r.p, mlen}))
        return -1;
    return cw_fmt_set_target(b, target.p, target.n);
}

/* The identity part before [time]. */
struct left {
    struct span vhost, client, user;
};

static const char *parse_left(const char *p, const char *end, struct left *l)
{
    struct span tok[MAX_LEFT_TOKENS];
    int nt = 0;
    for (;;) {
        while (p < end && *p == ' ')
            p++;
        if (p == end)
            return NULL;
        if (*p == '[')
            break;
        if (nt == MAX_LEFT_TOKENS)
            return NULL;
        tok[nt] = next_token(&p, end);
        nt++;
    }
    if (nt < 3)
        return NULL;
    l->vhost = (struct span){NULL, 0};
    l->client = tok[0];
    l->user = tok[nt - 1];
    /* "%v %h %l %u": a name first and an address second */
    if (nt >= 4 && !looks_like_ip(tok[0]) && looks_like_ip(tok[1])) {
        l->vhost = tok[0];
        l->client = tok[1];
    }
    return p;
}

static int parse_access(struct cw_batch *b, const struct cw_parse_ctx *ctx, const char *line,
                        size_t len, const char **reason, bool combined)
{
    const char *p = line, *end = line + len;
    (void)ctx;
    if (len && line[0] == '#') {
        *reason = "comment line";
        return -1;
    }
    /* ocatak-style outer quotes: "host - - [...] ... "ua"" */
    if (len >= 2 && line[0] == '"') {
        p++;
        if (end[-1] == '"')
            end--;
    }
    struct left l;
    p = parse_left(p, end, &l);
    if (!p) {
        *reason = "not an access log line (no host ident user [time])";
        return -1;
    }
    const char *tclose = memchr(p, ']', (size_t)(end - p));
    if (!tclose) {
        *reason = "unterminated [time]";
        return -1;
    }
    size_t tl = (size_t)(tclose - p - 1);
    while (tl && p[tl] == ' ')
        tl--; /* "[31/Jan/2015:14:29:44 ]": no offset, UTC */
    struct cw_record *r = cw_batch_begin(b);
    if (cw_time_parse_clf(p + 1, tl, &r->ts_us)) {
        cw_batch_abort(b);
        *reason = "invalid timestamp";
        return -1;
    }
    p = tclose + 1;
    struct span vhost2 = {NULL, 0};
    while (p < end && *p == ' ')
        p++;
    if (p < end && *p != '"')
        vhost2 = next_token(&p, end); /* "%t %v \"%r\"" */
    while (p < end && *p == ' ')
        p++;
    if (p == end || *p != '"') {
        cw_batch_abort(b);
        *reason = "missing request field";
        return -1;
    }
    const char *rq = p + 1, *q = rq;
    struct tail t;
    int tries = 0;
    for (;;) {
        q = q < end ? memchr(q, '"', (size_t)(end - q)) : NULL;
        if (!q || ++tries > MAX_REQUEST_TRIES) {
            cw_batch_abort(b);
            *reason = "missing status after request";
            return -1;
        }
        if (parse_tail(q + 1, end, combined, &t) == 0)
            break;
        q++;
    }
    r->kind = CW_KIND_HTTP;
    r->transport = CW_TR_TCP;
    if (!parse_ip(&r->src, l.client) && is_hostname(l.client) &&
        cw_batch_set_str(b, CW_F_SRC_HOST, l.client.p, l.client.n))
        goto oom;
    if (l.vhost.n && set_span(b, CW_F_HTTP_HOST, l.vhost))
        goto oom;
    if (vhost2.n && set_span(b, CW_F_HTTP_HOST, vhost2))
        goto oom;
    if (!is_dash(l.user) && set_span(b, CW_F_HTTP_USER, l.user))
        goto oom;
    if (cw_fmt_set_request(b, rq, (size_t)(q - rq)) ||
        cw_batch_set_int(b, CW_F_HTTP_STATUS, t.status) ||
        (t.bytes >= 0 && cw_batch_set_int(b, CW_F_HTTP_BYTES, t.bytes)) ||
        (t.has_ref && !is_dash(t.referer) && set_span(b, CW_F_HTTP_REFERER, t.referer)) ||
        (t.has_ua && !is_dash(t.ua) && set_span(b, CW_F_HTTP_USER_AGENT, t.ua)))
        goto oom;
    if (cw_batch_commit(b))
        goto oom;
    return 0;
oom:
    cw_batch_abort(b);
    *reason = "out of memory";
    return -1;
}

static int parse_combined(struct cw_batch *b, const struct cw_parse_ctx *ctx, const char *line,
                          size_t len, const char **reason)
{
    return parse_access(b, ctx, line, len, reason, true);
}

static int parse_common(struct cw_batch *b, const struct cw_parse_ctx *ctx, const char *line,
                        size_t len, const char **reason)
{
    return parse_access(b, ctx, line, len, reason, false);
}

const struct cw_format cw_format_combined = {
    "combined", "Apache/nginx combined access log (host ident user [time] \"request\" status "
                "bytes \"referer\" \"user agent\")",
    parse_combined};
const struct cw_format cw_format_common = {
    "common", "Apache/nginx common access log (host ident user [time] \"request\" status bytes)",
    parse_common};
