/* fmt_eve.c - Suricata EVE JSON, one event per line.
 *
 * Every event becomes one record of the matching kind (alert -> ids_alert, http,
 * dns, tls, flow, fileinfo -> file, anomaly, smtp -> mail); any other application
 * event (smb, dcerpc, ftp, krb5, quic, ...) becomes a "connection" record with
 * app.proto and event.type, so nothing the sensor saw is dropped. Only "stats"
 * (sensor counters, not an observation) and lines without a valid timestamp or
 * event_type are rejected. The mapping is documented in docs/records.md.
 *
 * Strings point into the line unless they carry JSON escapes (then they are
 * unescaped into the batch arena). Optional fields of an unexpected JSON type are
 * skipped rather than failing the event: a sensor upgrade that changes one field
 * must not drop alerts. The core (time, addresses, ports) is checked strictly. */
#include "formats/format.h"

#include <string.h>

#include "common/json.h"
#include "common/timefmt.h"
#include "common/banned.h"

/* The largest real event (a stats dump) has ~1,100 tokens; alerts ~320. */
#define EVE_MAX_TOKENS 4096

struct eve {
    struct cw_json j;
    struct cw_batch *b;
};

/* Set field id from string member key of object obj, if present and a string. */
static int put_str(struct eve *e, int obj, const char *key, enum cw_field_id id)
{
    int t = cw_json_get(&e->j, obj, key);
    if (!cw_json_is(&e->j, t, JSMN_STRING))
        return 0;
    const char *s;
    size_t n;
    if (cw_json_str(&e->j, t, &e->b->arena, &s, &n))
        return -1;
    return cw_batch_set_str(e->b, id, s, n);
}

static int put_int(struct eve *e, int obj, const char *key, enum cw_field_id id)
{
    int64_t v;
    int t = cw_json_get(&e->j, obj, key);
    if (t < 0 || cw_json_int(&e->j, t, &v))
        return 0;
    return cw_batch_set_int(e->b, id, v);
}

/* Append string s to the comma-separated list being built in *acc (arena). */
static int join_add(struct eve *e, char **acc, size_t *alen, const char *s, size_t n)
{
    size_t need = *alen + (*alen ? 1 : 0) + n + 1;
    char *nb = cw_arena_alloc(&e->b->arena, need);
    if (!nb)
        return -1;
    if (*alen) {
        memcpy(nb, *acc, *alen);
        nb[(*alen)++] = ',';
    }
    memcpy(nb + *alen, s, n);
    *alen += n;
    nb[*alen] = '\0';
    *acc = nb;
    return 0;
}

/* Join the string elements of array arr (or, with sub, the string member sub of
 * its object elements) with commas into field id. */
static int put_joined(struct eve *e, int arr, const char *sub, enum cw_field_id id)
{
    if (!cw_json_is(&e->j, arr, JSMN_ARRAY))
        return 0;
    char *acc = NULL;
    size_t alen = 0;
    int k = arr + 1;
    for (int m = 0; m < e->j.tok[arr].size && k < e->j.ntok; m++, k = cw_json_next(&e->j, k)) {
        int v = sub ? cw_json_get(&e->j, k, sub) : k;
        const char *s;
        size_t n;
        if (!cw_json_is(&e->j, v, JSMN_STRING))
            continue;
        if (cw_json_str(&e->j, v, &e->b->arena, &s, &n) || join_add(e, &acc, &alen, s, n))
            return -1;
    }
    return acc ? cw_batch_set_str(e->b, id, acc, alen) : 0;
}

static int add_http(struct eve *e, int h)
{
    if (!cw_json_is(&e->j, h, JSMN_OBJECT))
        return 0;
    int u = cw_json_get(&e->j, h, "url");
    if (cw_json_is(&e->j, u, JSMN_STRING)) {
        const char *s, *q;
        size_t n;
        if (cw_json_str(&e->j, u, &e->b->arena, &s, &n))
            return -1;
        q = memchr(s, '?', n);
        if (q ? (cw_batch_set_str(e->b, CW_F_HTTP_PATH, s, (size_t)(q - s)) ||
                 cw_batch_set_str(e->b, CW_F_HTTP_QUERY, q + 1, (size_t)(s + n - q - 1)))
              : cw_batch_set_str(e->b, CW_F_HTTP_PATH, s, n))
            return -1;
    }
    /* Suricata spells the referer "http_refer"; accept the correct spelling too */
    if (put_str(e, h, "http_refer", CW_F_HTTP_REFERER) ||
        put_str(e, h, "http_referer", CW_F_HTTP_REFERER))
        return -1;
    return put_str(e, h, "hostname", CW_F_HTTP_HOST) ||
           put_str(e, h, "http_method", CW_F_HTTP_METHOD) ||
           put_str(e, h, "protocol", CW_F_HTTP_VERSION) ||
           put_int(e, h, "status", CW_F_HTTP_STATUS) || put_int(e, h, "length", CW_F_HTTP_BYTES) ||
           put_str(e, h, "http_user_agent", CW_F_HTTP_USER_AGENT) ||
           put_str(e, h, "http_content_type", CW_F_HTTP_CONTENT_TYPE);
}

static int add_dns(struct eve *e, int d)
{
    if (!cw_json_is(&e->j, d, JSMN_OBJECT))
        return 0;
    int q = d;
    /* Suricata 8 and alert metadata put the question in "queries":[{...}] */
    int qs = cw_json_get(&e->j, d, "queries");
    if (cw_json_get(&e->j, d, "rrname") < 0 && cw_json_is(&e->j, qs, JSMN_ARRAY) &&
        e->j.tok[qs].size > 0)
        q = qs + 1;
    if (put_str(e, d, "type", CW_F_DNS_TYPE) || put_int(e, d, "id", CW_F_DNS_ID) ||
        put_str(e, q, "rrname", CW_F_DNS_QNAME) || put_str(e, q, "rrtype", CW_F_DNS_QTYPE) ||
        put_str(e, d, "rcode", CW_F_DNS_RCODE))
        return -1;
    int ans = cw_json_get(&e->j, d, "answers");
    if (cw_json_is(&e->j, ans, JSMN_ARRAY))
        return put_joined(e, ans, "rdata", CW_F_DNS_ANSWERS);
    /* "grouped" format only: {"A":["1.2.3.4",...],"CNAME":[...]} */
    int g = cw_json_get(&e->j, d, "grouped");
    if (!cw_json_is(&e->j, g, JSMN_OBJECT))
        return 0;
    char *acc = NULL;
    size_t alen = 0;
    int k = g + 1;
    for (int m = 0; m < e->j.tok[g].size && k + 1 < e->j.ntok; m++) {
        int arr = k + 1, v = arr + 1;
        for (int i = 0; cw_json_is(&e->j, arr, JSMN_ARRAY) && i < e->j.tok[arr].size;
             i++, v = cw_json_next(&e->j, v)) {
            const char *s;
            size_t n;
            if (!cw_json_is(&e->j, v, JSMN_STRING))
                continue;
            if (cw_json_str(&e->j, v, &e->b->arena, &s, &n) || join_add(e, &acc, &alen, s, n))
                return -1;
        }
        k = cw_json_next(&e->j, arr);
    }
    return acc ? cw_batch_set_str(e->b, CW_F_DNS_ANSWERS, acc, alen) : 0;
}

static int add_tls(struct eve *e, int t)
{
    if (!cw_json_is(&e->j, t, JSMN_OBJECT))
        return 0;
    int ja3 = cw_json_get(&e->j, t, "ja3"), ja3s = cw_json_get(&e->j, t, "ja3s");
    int ja4 = cw_json_get(&e->j, t, "ja4");
    return put_str(e, t, "sni", CW_F_TLS_SNI) || put_str(e, t, "version", CW_F_TLS_VERSION) ||
           put_str(e, t, "subject", CW_F_TLS_SUBJECT) ||
           put_str(e, t, "issuerdn", CW_F_TLS_ISSUER) ||
           put_str(e, t, "fingerprint", CW_F_TLS_FINGERPRINT) ||
           put_str(e, ja3, "hash", CW_F_TLS_JA3) || put_str(e, ja3s, "hash", CW_F_TLS_JA3S) ||
           /* ja4 is a plain string in Suricata 7.0.x, an object with "hash" in later builds */
           put_str(e, t, "ja4", CW_F_TLS_JA4) || put_str(e, ja4, "hash", CW_F_TLS_JA4);
}

static int add_alert(struct eve *e, int root)
{
    int a = cw_json_get(&e->j, root, "alert");
    if (!cw_json_is(&e->j, a, JSMN_OBJECT))
        return 2; /* see parse_line */
    return put_int(e, a, "signature_id", CW_F_ALERT_SIGNATURE_ID) ||
           put_int(e, a, "gid", CW_F_ALERT_GID) || put_int(e, a, "rev", CW_F_ALERT_REV) ||
           put_str(e, a, "signature", CW_F_ALERT_SIGNATURE) ||
           put_str(e, a, "category", CW_F_ALERT_CATEGORY) ||
           put_int(e, a, "severity", CW_F_ALERT_SEVERITY) ||
           put_str(e, a, "action", CW_F_ALERT_ACTION) ||
           add_http(e, cw_json_get(&e->j, root, "http")) ||
           add_tls(e, cw_json_get(&e->j, root, "tls")) ||
           add_dns(e, cw_json_get(&e->j, root, "dns"));
}

static int add_flow(struct eve *e, int root)
{
    int f = cw_json_get(&e->j, root, "flow");
    return put_int(e, f, "pkts_toserver", CW_F_FLOW_PKTS_TOSERVER) ||
           put_int(e, f, "pkts_toclient", CW_F_FLOW_PKTS_TOCLIENT) ||
           put_int(e, f, "bytes_toserver", CW_F_FLOW_BYTES_TOSERVER) ||
           put_int(e, f, "bytes_toclient", CW_F_FLOW_BYTES_TOCLIENT) ||
           put_str(e, f, "state", CW_F_FLOW_STATE) || put_str(e, f, "reason", CW_F_FLOW_REASON);
}

static int add_fileinfo(struct eve *e, int root)
{
    int f = cw_json_get(&e->j, root, "fileinfo");
    return put_str(e, f, "filename", CW_F_FILE_NAME) || put_int(e, f, "size", CW_F_FILE_SIZE) ||
           put_str(e, f, "magic", CW_F_FILE_MAGIC) || put_str(e, f, "md5", CW_F_FILE_MD5) ||
           put_str(e, f, "sha1", CW_F_FILE_SHA1) || put_str(e, f, "sha256", CW_F_FILE_SHA256) ||
           put_str(e, f, "state", CW_F_FILE_STATE) ||
           add_http(e, cw_json_get(&e->j, root, "http"));
}

static int add_anomaly(struct eve *e, int root)
{
    int a = cw_json_get(&e->j, root, "anomaly");
    return put_str(e, a, "type", CW_F_ANOMALY_TYPE) ||
           put_str(e, a, "event", CW_F_ANOMALY_EVENT) ||
           put_str(e, a, "app_proto", CW_F_APP_PROTO);
}

/* smtp: envelope from the SMTP transaction, header fields from "email" */
static int add_smtp(struct eve *e, int root)
{
    int s = cw_json_get(&e->j, root, "smtp"), m = cw_json_get(&e->j, root, "email");
    if (put_str(e, m, "from", CW_F_MAIL_FROM) || put_str(e, s, "mail_from", CW_F_MAIL_FROM) ||
        put_str(e, m, "subject", CW_F_MAIL_SUBJECT) ||
        put_str(e, m, "message_id", CW_F_MAIL_MESSAGE_ID))
        return -1;
    int to = cw_json_get(&e->j, s, "rcpt_to");
    if (!cw_json_is(&e->j, to, JSMN_ARRAY))
        to = cw_json_get(&e->j, m, "to");
    if (put_joined(e, to, NULL, CW_F_MAIL_TO))
        return -1;
    return cw_batch_set_str(e->b, CW_F_APP_PROTO, "smtp", 4);
}

/* Addresses and ports: optional, but if present they must be valid. */
static const char *add_endpoints(struct eve *e, struct cw_record *r, int root)
{
    static const struct {
        const char *ip, *port, *bad_ip, *bad_port;
    } ends[2] = {{"src_ip", "src_port", "invalid src_ip", "invalid src_port"},
                 {"dest_ip", "dest_port", "invalid dest_ip", "invalid dest_port"}};
    for (int i = 0; i < 2; i++) {
        struct cw_ip *ip = i ? &r->dst : &r->src;
        int t = cw_json_get(&e->j, root, ends[i].ip);
        if (t >= 0) {
            size_t n;
            const char *s = cw_json_raw(&e->j, t, &n);
            if (!cw_json_is(&e->j, t, JSMN_STRING) || cw_ip_parse(ip, s, n))
                return ends[i].bad_ip;
        }
        t = cw_json_get(&e->j, root, ends[i].port);
        if (t >= 0) {
            int64_t v;
            if (cw_json_int(&e->j, t, &v) || v < 0 || v > 65535)
                return ends[i].bad_port;
            if (i)
                r->dport = (uint16_t)v;
            else
                r->sport = (uint16_t)v;
        }
    }
    int p = cw_json_get(&e->j, root, "proto");
    if (cw_json_is(&e->j, p, JSMN_STRING)) {
        size_t n;
        const char *s = cw_json_raw(&e->j, p, &n);
        r->transport = (uint8_t)cw_transport_from_name(s, n);
    }
    return NULL;
}

static const struct {
    const char *type;
    enum cw_kind kind;
    int (*add)(struct eve *e, int root);
} types[] = {
    {"alert", CW_KIND_IDS_ALERT, add_alert}, {"http", CW_KIND_HTTP, NULL},
    {"dns", CW_KIND_DNS, NULL},              {"tls", CW_KIND_TLS, NULL},
    {"flow", CW_KIND_FLOW, add_flow},        {"fileinfo", CW_KIND_FILE, add_fileinfo},
    {"anomaly", CW_KIND_ANOMALY, add_anomaly}, {"smtp", CW_KIND_MAIL, add_smtp},
};

static int add_by_type(struct eve *e, struct cw_record *r, int root, const char *et, size_t etn)
{
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (strlen(types[i].type) != etn || memcmp(types[i].type, et, etn) != 0)
            continue;
        r->kind = (uint8_t)types[i].kind;
        switch (types[i].kind) {
        case CW_KIND_HTTP: return add_http(e, cw_json_get(&e->j, root, "http"));
        case CW_KIND_DNS: return add_dns(e, cw_json_get(&e->j, root, "dns"));
        case CW_KIND_TLS: return add_tls(e, cw_json_get(&e->j, root, "tls"));
        default: return types[i].add(e, root);
        }
    }
    /* smb, dcerpc, ftp, krb5, quic, ...: a connection with its application protocol */
    r->kind = CW_KIND_CONNECTION;
    return cw_batch_set_str(e->b, CW_F_APP_PROTO, et, etn);
}

static int fail(struct cw_batch *b, const char **reason, const char *why)
{
    cw_batch_abort(b);
    *reason = why;
    return -1;
}

static int parse_line(struct cw_batch *b, const struct cw_parse_ctx *ctx, const char *line,
                      size_t len, const char **reason)
{
    jsmntok_t toks[EVE_MAX_TOKENS];
    struct eve e = {.b = b};
    (void)ctx;
    if (cw_json_parse(&e.j, line, len, toks, EVE_MAX_TOKENS, reason))
        return -1;
    if (!cw_json_is(&e.j, 0, JSMN_OBJECT)) {
        *reason = "not a JSON object";
        return -1;
    }
    struct cw_record *r = cw_batch_begin(b);
    int ts = cw_json_get(&e.j, 0, "timestamp"), et = cw_json_get(&e.j, 0, "event_type");
    size_t n, etn = 0;
    const char *s, *ets = et >= 0 ? cw_json_raw(&e.j, et, &etn) : NULL;
    if (ts < 0)
        return fail(b, reason, "missing timestamp");
    s = cw_json_raw(&e.j, ts, &n);
    if (!cw_json_is(&e.j, ts, JSMN_STRING) || cw_time_parse_iso(s, n, &r->ts_us))
        return fail(b, reason, "invalid timestamp");
    if (!cw_json_is(&e.j, et, JSMN_STRING) || etn == 0 || memchr(ets, '\\', etn))
        return fail(b, reason, "missing or invalid event_type");
    if (etn == 5 && memcmp(ets, "stats", 5) == 0)
        return fail(b, reason, "sensor statistics event, not a record");
    const char *bad = add_endpoints(&e, r, 0);
    if (bad)
        return fail(b, reason, bad);
    if (cw_batch_set_str(b, CW_F_EVENT_TYPE, ets, etn) ||
        put_int(&e, 0, "flow_id", CW_F_FLOW_ID) ||
        put_str(&e, 0, "app_proto", CW_F_APP_PROTO))
        return fail(b, reason, "too many values");
    int rc = add_by_type(&e, r, 0, ets, etn);
    if (rc == 2)
        return fail(b, reason, "alert event without alert object");
    if (rc != 0 || cw_batch_commit(b))
        return fail(b, reason, "too many values or out of memory");
    return 0;
}

const struct cw_format cw_format_eve = {
    "eve", "Suricata EVE JSON (alert, http, dns, tls, flow, fileinfo, anomaly, smtp, ...)",
    parse_line};
