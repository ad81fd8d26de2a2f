/* fmt_nginx_json.c - nginx access logs written with log_format ... escape=json.
 *
 * There is no standard key set: people name keys after the nginx variables they log.
 * The parser accepts the common names (docs/records.md has the table):
 *   time      time_iso8601 | @timestamp | timestamp | time (ISO 8601),
 *             time_local (10/Oct/2000:13:55:36 -0700), msec (1700000000.123)
 *   client    remote_addr (+ remote_port), remote_user
 *   request   request ("GET /p?q HTTP/1.1") or request_method + request_uri,
 *             or request_method + uri + args; server_protocol
 *   response  status, body_bytes_sent (else bytes_sent), sent_http_content_type
 *   headers   http_referer, http_user_agent, host | http_host | server_name
 *   server    server_addr + server_port -> destination
 * Numbers may be JSON numbers or strings (nginx writes variables as strings); "-"
 * and "" mean absent, as nginx writes them for unset variables. A line without a
 * recognised time is rejected: guessing the time of an access would be worse. */
#include "formats/format.h"

#include <string.h>

#include "common/json.h"
#include "common/timefmt.h"
#include "formats/fmt_http.h"
#include "common/banned.h"

#define NGX_MAX_TOKENS 512

struct ngx {
    struct cw_json j;
    struct cw_batch *b;
};

/* String value of key, NULL if absent, not a string, "-" or "". */
static const char *get_str(struct ngx *x, const char *key, size_t *n)
{
    const char *s;
    int t = cw_json_get(&x->j, 0, key);
    if (!cw_json_is(&x->j, t, JSMN_STRING) || cw_json_str(&x->j, t, &x->b->arena, &s, n))
        return NULL;
    if (*n == 0 || (*n == 1 && s[0] == '-'))
        return NULL;
    return s;
}

/* Integer from a number or a string of digits. 1 = absent, 0 = ok, -1 = invalid. */
static int get_int(struct ngx *x, const char *key, int64_t *out)
{
    int t = cw_json_get(&x->j, 0, key);
    if (t < 0 || cw_json_is_null(&x->j, t))
        return 1;
    if (cw_json_is(&x->j, t, JSMN_PRIMITIVE))
        return cw_json_int(&x->j, t, out) ? -1 : 0;
    size_t n;
    const char *s = get_str(x, key, &n);
    if (!s)
        return 1;
    if (n > 18)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int put(struct ngx *x, const char *key, enum cw_field_id id)
{
    size_t n;
    const char *s = get_str(x, key, &n);
    return s ? cw_batch_set_str(x->b, id, s, n) : 0;
}

/* msec: seconds since the epoch with a fraction, "1700000000.123" */
static int parse_msec(const char *s, size_t n, int64_t *out)
{
    int64_t sec = 0, frac = 0;
    size_t i = 0;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        if (i >= 12)
            return -1;
        sec = sec * 10 + (s[i] - '0');
    }
    if (i == 0)
        return -1;
    int nd = 0;
    if (i < n && s[i] == '.')
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            if (nd < 6) {
                frac = frac * 10 + (s[i] - '0');
                nd++;
            }
    if (i != n || sec > 253402300799LL)
        return -1;
    while (nd++ < 6)
        frac *= 10;
    *out = sec * 1000000 + frac;
    return 0;
}

static const char *parse_time(struct ngx *x, int64_t *ts)
{
    static const char *const iso[] = {"time_iso8601", "@timestamp", "timestamp", "time"};
    size_t n;
    const char *s;
    for (size_t i = 0; i < sizeof(iso) / sizeof(iso[0]); i++)
        if ((s = get_str(x, iso[i], &n)))
            return cw_time_parse_iso(s, n, ts) ? "invalid time" : NULL;
    if ((s = get_str(x, "time_local", &n)))
        return cw_time_parse_clf(s, n, ts) ? "invalid time_local" : NULL;
    int t = cw_json_get(&x->j, 0, "msec");
    if (t >= 0) {
        s = cw_json_raw(&x->j, t, &n);
        return parse_msec(s, n, ts) ? "invalid msec" : NULL;
    }
    return "missing time (time_iso8601, time_local, @timestamp or msec)";
}

static const char *parse_request(struct ngx *x)
{
    size_t n, un;
    const char *s = get_str(x, "request", &n), *u;
    if (s)
        return cw_fmt_set_request(x->b, s, n) ? "too many values" : NULL;
    if ((s = get_str(x, "request_method", &n)) && cw_batch_set_str(x->b, CW_F_HTTP_METHOD, s, n))
        return "too many values";
    if ((u = get_str(x, "request_uri", &un)))
        return cw_fmt_set_target(x->b, u, un) ? "too many values" : NULL;
    if ((u = get_str(x, "uri", &un)) && cw_batch_set_str(x->b, CW_F_HTTP_PATH, u, un))
        return "too many values";
    return put(x, "args", CW_F_HTTP_QUERY) ? "too many values" : NULL;
}

static const char *parse_peer(struct ngx *x, struct cw_record *r)
{
    size_t n;
    int64_t v;
    const char *s = get_str(x, "remote_addr", &n);
    if (s && cw_ip_parse(&r->src, s, n) && cw_batch_set_str(x->b, CW_F_SRC_HOST, s, n))
        return "too many values";
    if ((s = get_str(x, "server_addr", &n)) && cw_ip_parse(&r->dst, s, n))
        return "invalid server_addr";
    int rc = get_int(x, "remote_port", &v);
    if (rc < 0 || (rc == 0 && (v < 0 || v > 65535)))
        return "invalid remote_port";
    if (rc == 0)
        r->sport = (uint16_t)v;
    rc = get_int(x, "server_port", &v);
    if (rc < 0 || (rc == 0 && (v < 0 || v > 65535)))
        return "invalid server_port";
    if (rc == 0)
        r->dport = (uint16_t)v;
    return NULL;
}

static const char *parse_response(struct ngx *x)
{
    int64_t v;
    int rc = get_int(x, "status", &v);
    if (rc < 0 || (rc == 0 && (v < 0 || v > 999)))
        return "invalid status";
    if (rc == 0 && cw_batch_set_int(x->b, CW_F_HTTP_STATUS, v))
        return "too many values";
    rc = get_int(x, "body_bytes_sent", &v);
    if (rc == 1)
        rc = get_int(x, "bytes_sent", &v);
    if (rc < 0 || (rc == 0 && v < 0))
        return "invalid bytes";
    if (rc == 0 && cw_batch_set_int(x->b, CW_F_HTTP_BYTES, v))
        return "too many values";
    return NULL;
}

static int put_headers(struct ngx *x)
{
    /* the first host key present wins: the Host header says what the client asked */
    static const char *const hosts[] = {"host", "http_host", "server_name"};
    for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        size_t n;
        const char *s = get_str(x, hosts[i], &n);
        if (s)
            if (cw_batch_set_str(x->b, CW_F_HTTP_HOST, s, n))
                return -1;
        if (s)
            break;
    }
    return put(x, "http_referer", CW_F_HTTP_REFERER) ||
           put(x, "http_user_agent", CW_F_HTTP_USER_AGENT) ||
           put(x, "remote_user", CW_F_HTTP_USER) ||
           put(x, "server_protocol", CW_F_HTTP_VERSION) ||
           put(x, "sent_http_content_type", CW_F_HTTP_CONTENT_TYPE);
}

static int parse_line(struct cw_batch *b, const struct cw_parse_ctx *ctx, const char *line,
                      size_t len, const char **reason)
{
    jsmntok_t toks[NGX_MAX_TOKENS];
    struct ngx x = {.b = b};
    (void)ctx;
    if (cw_json_parse(&x.j, line, len, toks, NGX_MAX_TOKENS, reason))
        return -1;
    if (!cw_json_is(&x.j, 0, JSMN_OBJECT)) {
        *reason = "not a JSON object";
        return -1;
    }
    struct cw_record *r = cw_batch_begin(b);
    r->kind = CW_KIND_HTTP;
    r->transport = CW_TR_TCP;
    const char *bad = parse_time(&x, &r->ts_us);
    if (!bad)
        bad = parse_peer(&x, r);
    if (!bad)
        bad = parse_request(&x);
    if (!bad)
        bad = parse_response(&x);
    if (!bad && put_headers(&x))
        bad = "too many values";
    if (bad || cw_batch_commit(b)) {
        cw_batch_abort(b);
        *reason = bad ? bad : "out of memory";
        return -1;
    }
    return 0;
}

const struct cw_format cw_format_nginx_json = {
    "nginx-json", "nginx JSON access log (log_format escape=json; common variable names as keys)",
    parse_line};
