/* test_formats.c - the input formats on real data from ../shared and on hostile lines.
 *
 * Expected counts for the real files were computed once with independent tools
 * (python3: json.loads + collections.Counter over the EVE file; a regular expression
 * for the access-log shape over each weblog file) and are hard-coded below. */
#include <stdlib.h>
#include <string.h>

#include "common/record.h"
#include "common/timefmt.h"
#include "formats/format.h"
#include "testlib.h"

static const struct cw_parse_ctx CTX = {7, 9, 1700000000000000LL}; /* 2023-11-14 */

/* Parse body with format name into b (initialised here). */
static struct cw_parse_stats parse(const char *fmt, struct cw_batch *b, const char *body,
                                   size_t len)
{
    struct cw_parse_stats st = {0, 0, 0};
    cw_batch_init(b);
    const struct cw_format *f = cw_format_find(fmt);
    CHECK(f != NULL);
    if (f)
        CHECK_EQ_INT(cw_format_parse_body(f, b, &CTX, body, len, CW_MAX_LINE_DEFAULT, &st), 0);
    return st;
}

static struct cw_parse_stats parse_str(const char *fmt, struct cw_batch *b, const char *body)
{
    return parse(fmt, b, body, strlen(body));
}

static const char *rej_reason(const struct cw_batch *b, uint32_t line)
{
    for (uint32_t i = 0; i < b->nrej; i++)
        if (b->rej[i].line == line)
            return b->rej[i].reason;
    return NULL;
}

static uint32_t count_reason(const struct cw_batch *b, const char *reason)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < b->nrej; i++)
        n += strcmp(b->rej[i].reason, reason) == 0;
    return n;
}

static const char *str(const struct cw_record *r, enum cw_field_id id, size_t *n)
{
    return cw_record_str(r, id, n);
}

#define CHECK_FIELD(r, id, s)                   \
    do {                                        \
        size_t _fn;                             \
        const char *_fv = str((r), (id), &_fn); \
        CHECK_EQ_MEM(_fv, _fn, (s));            \
    } while (0)

static void check_ip(const struct cw_ip *ip, const char *want)
{
    char tmp[64];
    cw_ip_format(ip, tmp);
    CHECK_EQ_STR(tmp, want);
}

/* -- round trip: record -> cw_record_to_json -> ndjson -> same record ------------- */

static bool same_value(const struct cw_value *a, const struct cw_value *b)
{
    if (cw_field_info((enum cw_field_id)a->id)->type == CW_FT_INT)
        return a->v.i == b->v.i;
    return a->len == b->len && memcmp(a->v.s, b->v.s, a->len) == 0;
}

static bool same_record(const struct cw_record *a, const struct cw_record *b)
{
    if (a->ts_us != b->ts_us || a->kind != b->kind || a->transport != b->transport ||
        a->sport != b->sport || a->dport != b->dport || a->nvals != b->nvals ||
        memcmp(&a->src, &b->src, sizeof(a->src)) != 0 ||
        memcmp(&a->dst, &b->dst, sizeof(a->dst)) != 0 || a->raw_len != b->raw_len ||
        memcmp(a->raw, b->raw, a->raw_len) != 0)
        return false;
    for (uint16_t i = 0; i < a->nvals; i++) {
        const struct cw_value *w = cw_record_get(b, (enum cw_field_id)a->vals[i].id);
        if (!w || !same_value(&a->vals[i], w))
            return false;
    }
    return true;
}

/* Every record of b survives the trip; returns how many did not. */
static uint32_t round_trip(const struct cw_batch *b)
{
    struct cw_buf out = CW_BUF_INIT;
    for (uint32_t i = 0; i < b->n; i++) {
        cw_record_to_json(&b->recs[i], &out, true);
        cw_buf_addc(&out, '\n');
    }
    struct cw_batch nb;
    struct cw_parse_stats st = parse("ndjson", &nb, out.data, out.len);
    uint32_t bad = st.rejected;
    CHECK_EQ_INT(st.accepted, b->n);
    for (uint32_t i = 0; i < b->n && i < nb.n; i++) {
        if (!same_record(&b->recs[i], &nb.recs[i])) {
            if (bad++ < 3)
                fprintf(stderr, "round trip differs for record %u\n", i);
        }
        CHECK_EQ_INT(nb.recs[i].member_id, CTX.member_id); /* from ctx, not input */
    }
    cw_batch_release(&nb);
    cw_buf_release(&out);
    return bad;
}

/* -- EVE ------------------------------------------------------------------------- */

static void test_eve_real(void)
{
    size_t len;
    char *body = cw_test_read_gz(cw_test_shared("data/eve/public-pcaps.eve.json.gz"), &len);
    CHECK(body != NULL);
    if (!body)
        return;
    struct cw_batch b;
    struct cw_parse_stats st = parse("eve", &b, body, len);
    /* python3: Counter(json.loads(l)["event_type"] for l in gzip.open(...)) */
    static const struct {
        const char *type;
        uint32_t n;
        enum cw_kind kind;
    } want[] = {
        {"alert", 366, CW_KIND_IDS_ALERT}, {"anomaly", 1024, CW_KIND_ANOMALY},
        {"bittorrent_dht", 16, CW_KIND_CONNECTION}, {"dcerpc", 1867, CW_KIND_CONNECTION},
        {"dhcp", 276, CW_KIND_CONNECTION}, {"dns", 2936, CW_KIND_DNS},
        {"fileinfo", 1648, CW_KIND_FILE}, {"flow", 4823, CW_KIND_FLOW},
        {"ftp", 1147, CW_KIND_CONNECTION}, {"ftp_data", 39, CW_KIND_CONNECTION},
        {"http", 1465, CW_KIND_HTTP}, {"ike", 11, CW_KIND_CONNECTION},
        {"krb5", 246, CW_KIND_CONNECTION}, {"mqtt", 110, CW_KIND_CONNECTION},
        {"nfs", 252, CW_KIND_CONNECTION}, {"quic", 132, CW_KIND_CONNECTION},
        {"rdp", 24, CW_KIND_CONNECTION}, {"rfb", 13, CW_KIND_CONNECTION},
        {"sip", 180, CW_KIND_CONNECTION}, {"smb", 6414, CW_KIND_CONNECTION},
        {"smtp", 123, CW_KIND_MAIL}, {"snmp", 584, CW_KIND_CONNECTION},
        {"ssh", 67, CW_KIND_CONNECTION}, {"tftp", 2, CW_KIND_CONNECTION},
        {"tls", 186, CW_KIND_TLS},
    };
    CHECK_EQ_INT(st.lines, 23952);
    CHECK_EQ_INT(st.accepted, 23951);
    CHECK_EQ_INT(st.rejected, 1); /* the one "stats" event */
    CHECK_EQ_INT(count_reason(&b, "sensor statistics event, not a record"), 1);
    uint32_t total = 0;
    for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
        uint32_t n = 0, wrong_kind = 0;
        for (uint32_t i = 0; i < b.n; i++) {
            size_t l;
            const char *et = str(&b.recs[i], CW_F_EVENT_TYPE, &l);
            if (et && l == strlen(want[k].type) && memcmp(et, want[k].type, l) == 0) {
                n++;
                wrong_kind += b.recs[i].kind != want[k].kind;
            }
        }
        if (n != want[k].n)
            fprintf(stderr, "event_type %s\n", want[k].type);
        CHECK_EQ_INT(n, want[k].n);
        CHECK_EQ_INT(wrong_kind, 0);
        total += n;
    }
    CHECK_EQ_INT(total, 23951);

    /* line 1: the first alert */
    const struct cw_record *r = &b.recs[0];
    CHECK_EQ_INT(r->kind, CW_KIND_IDS_ALERT);
    char ts[32];
    cw_time_format_iso(r->ts_us, ts);
    CHECK_EQ_STR(ts, "2018-07-15T04:17:33.475310Z");
    check_ip(&r->src, "10.0.0.201");
    check_ip(&r->dst, "91.189.95.21");
    CHECK_EQ_INT(r->sport, 49842);
    CHECK_EQ_INT(r->dport, 6969);
    CHECK_EQ_INT(r->transport, CW_TR_TCP);
    CHECK_EQ_INT(cw_record_int(r, CW_F_ALERT_SIGNATURE_ID, 0), 2000369);
    CHECK_EQ_INT(cw_record_int(r, CW_F_ALERT_SEVERITY, 0), 1);
    CHECK_EQ_INT(cw_record_int(r, CW_F_FLOW_ID, 0), 1527012793373410LL);
    CHECK_FIELD(r, CW_F_ALERT_SIGNATURE, "ET P2P BitTorrent Announce");
    CHECK_FIELD(r, CW_F_HTTP_HOST, "torrent.ubuntu.com");
    CHECK_FIELD(r, CW_F_HTTP_PATH, "/announce");
    CHECK_FIELD(r, CW_F_APP_PROTO, "http");
    CHECK(r->raw == body && r->raw_len > 100);

    /* a DNS answer with answers[] and a flow over IPv6-ICMP */
    bool seen_dns = false, seen_flow6 = false, seen_tls = false;
    for (uint32_t i = 0; i < b.n; i++) {
        r = &b.recs[i];
        size_t n;
        const char *q = str(r, CW_F_DNS_QNAME, &n);
        if (!seen_dns && r->kind == CW_KIND_DNS && q && n == 10 && !memcmp(q, "google.com", 10) &&
            cw_record_int(r, CW_F_DNS_ID, 0) == 3 && str(r, CW_F_DNS_ANSWERS, &n)) {
            seen_dns = true;
            CHECK_FIELD(r, CW_F_DNS_ANSWERS,
                        "74.125.236.35,74.125.236.37,74.125.236.39,74.125.236.32,"
                        "74.125.236.40,74.125.236.33,74.125.236.41,74.125.236.34,"
                        "74.125.236.36,74.125.236.46,74.125.236.38"); /* answers[] order */
            CHECK_FIELD(r, CW_F_DNS_RCODE, "NOERROR");
            CHECK_FIELD(r, CW_F_DNS_TYPE, "answer");
            CHECK_FIELD(r, CW_F_DNS_QTYPE, "A");
        }
        if (!seen_flow6 && r->kind == CW_KIND_FLOW && r->transport == CW_TR_ICMPV6) {
            seen_flow6 = true;
            check_ip(&r->src, "2001:4f8:4:7:2e0:81ff:fe52:ffff");
            CHECK_EQ_INT(cw_record_int(r, CW_F_FLOW_PKTS_TOSERVER, -1), 2);
            CHECK_EQ_INT(cw_record_int(r, CW_F_FLOW_BYTES_TOSERVER, -1), 138);
            CHECK_FIELD(r, CW_F_FLOW_STATE, "new");
            CHECK_FIELD(r, CW_F_FLOW_REASON, "timeout");
        }
        if (!seen_tls && r->kind == CW_KIND_TLS) {
            seen_tls = true;
            CHECK_FIELD(r, CW_F_TLS_SNI, "127.0.0.1");
            CHECK_FIELD(r, CW_F_TLS_VERSION, "TLS 1.3");
            CHECK_FIELD(r, CW_F_TLS_JA3, "11d974c9114303ebbaac1703a515be37");
        }
    }
    CHECK(seen_dns && seen_flow6 && seen_tls);
    CHECK_EQ_INT(round_trip(&b), 0);
    cw_batch_release(&b);
    free(body);
}

static void test_eve_lines(void)
{
    struct cw_batch b;
    const char *in =
        "{\"timestamp\":\"2024-01-01T00:00:00.123456+0000\",\"event_type\":\"smb\","
        "\"src_ip\":\"192.0.2.1\",\"src_port\":445,\"dest_ip\":\"192.0.2.2\",\"dest_port\":1,"
        "\"proto\":\"TCP\",\"flow_id\":5}\n"
        "{\"event_type\":\"http\"}\n"
        "{\"timestamp\":\"yesterday\",\"event_type\":\"http\"}\n"
        "{\"timestamp\":\"2024-01-01T00:00:00Z\"}\n"
        "{\"timestamp\":\"2024-01-01T00:00:00Z\",\"event_type\":\"alert\"}\n"
        "{\"timestamp\":\"2024-01-01T00:00:00Z\",\"event_type\":\"flow\",\"src_ip\":\"300.1.1.1\"}\n"
        "{\"timestamp\":\"2024-01-01T00:00:00Z\",\"event_type\":\"flow\",\"src_port\":70000}\n"
        "{\"timestamp\":\"2024-01-01T00:00:00Z\",\"event_type\":\"http\",\"http\":{\"url\":"
        "\"/a\\u0000b?c=\\ud83d\\ude00\",\"status\":\"x\",\"http_refer\":\"r\"}}\n"
        "[1,2]\n"
        "{\"timestamp\":\"2024-01-01T00:00:00Z\",\"event_type\":\"smtp\",\"smtp\":{\"mail_from\":"
        "\"<a@b>\",\"rcpt_to\":[\"<c@d>\",\"<e@f>\"]},\"email\":{\"subject\":\"hi\"}}\n";
    struct cw_parse_stats st = parse_str("eve", &b, in);
    CHECK_EQ_INT(st.accepted, 3);
    CHECK_EQ_INT(st.rejected, 7);
    CHECK_EQ_STR(rej_reason(&b, 2), "missing timestamp");
    CHECK_EQ_STR(rej_reason(&b, 3), "invalid timestamp");
    CHECK_EQ_STR(rej_reason(&b, 4), "missing or invalid event_type");
    CHECK_EQ_STR(rej_reason(&b, 5), "alert event without alert object");
    CHECK_EQ_STR(rej_reason(&b, 6), "invalid src_ip");
    CHECK_EQ_STR(rej_reason(&b, 7), "invalid src_port");
    CHECK_EQ_STR(rej_reason(&b, 9), "not a JSON object");
    if (b.n == 3) {
        CHECK_EQ_INT(b.recs[0].kind, CW_KIND_CONNECTION);
        CHECK_FIELD(&b.recs[0], CW_F_APP_PROTO, "smb");
        CHECK_EQ_INT(b.recs[0].ts_us, 1704067200123456LL);
        const struct cw_record *r = &b.recs[1];
        size_t n;
        const char *p = str(r, CW_F_HTTP_PATH, &n);
        CHECK(p && n == 4 && p[0] == '/' && p[2] == '\0' && p[3] == 'b'); /* \u0000 kept */
        CHECK_FIELD(r, CW_F_HTTP_QUERY, "c=\xF0\x9F\x98\x80"); /* surrogate pair */
        CHECK_FIELD(r, CW_F_HTTP_REFERER, "r");
        CHECK(cw_record_get(r, CW_F_HTTP_STATUS) == NULL); /* wrong type: skipped */
        r = &b.recs[2];
        CHECK_EQ_INT(r->kind, CW_KIND_MAIL);
        CHECK_FIELD(r, CW_F_MAIL_FROM, "<a@b>");
        CHECK_FIELD(r, CW_F_MAIL_TO, "<c@d>,<e@f>");
        CHECK_FIELD(r, CW_F_MAIL_SUBJECT, "hi");
    }
    CHECK_EQ_INT(round_trip(&b), 0);
    cw_batch_release(&b);
}

/* -- access logs ------------------------------------------------------------------ */

static void test_weblogs_real(void)
{
    /* lines = non-empty lines; python3 re over each file gave the accepted numbers;
     * rejected = '#' comment lines plus, in nginx-botsearch, 6 nginx error-log lines */
    static const struct {
        const char *file;
        uint32_t lines, accepted, comments, other;
    } want[] = {
        {"data/weblogs/elastic-apache_logs.log", 10000, 10000, 0, 0},
        {"data/weblogs/basjes-hackers-access.log", 3456, 3456, 0, 0},
        {"data/weblogs/ocatak-apache-http-logs/acunetix.txt", 6539, 6539, 0, 0},
        {"data/weblogs/ocatak-apache-http-logs/netsparker.txt", 7314, 7314, 0, 0},
        {"data/weblogs/ocatak-apache-http-logs/w3af.txt", 3996, 3996, 0, 0},
        {"data/weblogs/fail2ban-testlogs/apache-badbots", 8, 4, 4, 0},
        {"data/weblogs/fail2ban-testlogs/apache-fakegooglebot", 7, 3, 4, 0},
        {"data/weblogs/fail2ban-testlogs/nginx-bad-request", 16, 8, 8, 0},
        {"data/weblogs/fail2ban-testlogs/nginx-botsearch", 29, 8, 15, 6},
        {"data/weblogs/fail2ban-testlogs/php-url-fopen", 2, 1, 1, 0},
    };
    for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
        size_t len;
        char *body = cw_test_read_file(cw_test_shared(want[k].file), &len);
        CHECK(body != NULL);
        if (!body)
            continue;
        struct cw_batch b;
        struct cw_parse_stats st = parse("combined", &b, body, len);
        fprintf(stderr, "%s: %u lines %u accepted %u rejected\n", want[k].file, st.lines,
                st.accepted, st.rejected);
        CHECK_EQ_INT(st.lines, want[k].lines);
        CHECK_EQ_INT(st.accepted, want[k].accepted);
        CHECK_EQ_INT(st.rejected, want[k].comments + want[k].other);
        CHECK_EQ_INT(count_reason(&b, "comment line"), want[k].comments);
        for (uint32_t i = 0; i < b.n; i++)
            CHECK(b.recs[i].kind == CW_KIND_HTTP && cw_record_get(&b.recs[i], CW_F_HTTP_STATUS));
        CHECK_EQ_INT(round_trip(&b), 0);
        /* common reads the same lines; it just stops after the byte count */
        struct cw_batch c;
        st = parse("common", &c, body, len);
        CHECK_EQ_INT(st.accepted, want[k].accepted);
        cw_batch_release(&c);
        cw_batch_release(&b);
        free(body);
    }
}

/* Parse one real line (1-based) of a shared file. */
static int parse_real_line(const char *fmt, const char *file, uint32_t lineno,
                           struct cw_batch *b, char **keep)
{
    size_t len;
    char *body = cw_test_read_file(cw_test_shared(file), &len);
    *keep = body;
    cw_batch_init(b);
    if (!body)
        return -1;
    char *p = body;
    for (uint32_t i = 1; i < lineno && p; i++) {
        p = memchr(p, '\n', len - (size_t)(p - body));
        if (p)
            p++;
    }
    if (!p)
        return -1;
    char *nl = memchr(p, '\n', len - (size_t)(p - body));
    size_t n = nl ? (size_t)(nl - p) : len - (size_t)(p - body);
    struct cw_parse_stats st = {0, 0, 0};
    cw_format_parse_body(cw_format_find(fmt), b, &CTX, p, n, CW_MAX_LINE_DEFAULT, &st);
    return st.accepted == 1 ? 0 : -1;
}

static void test_weblog_spots(void)
{
    struct cw_batch b;
    char *keep;
    /* IPv6 client */
    CHECK_EQ_INT(parse_real_line("combined", "data/weblogs/basjes-hackers-access.log", 2577, &b,
                                 &keep), 0);
    if (b.n) {
        const struct cw_record *r = &b.recs[0];
        check_ip(&r->src, "2001:41d0:8:f69::1");
        char ts[32];
        cw_time_format_iso(r->ts_us, ts);
        CHECK_EQ_STR(ts, "2015-10-29T05:47:36.000000Z"); /* +0100 */
        CHECK_FIELD(r, CW_F_HTTP_METHOD, "GET");
        CHECK_FIELD(r, CW_F_HTTP_PATH, "/");
        CHECK_FIELD(r, CW_F_HTTP_REFERER, "http://niels.basjes.nl/");
        CHECK_EQ_INT(cw_record_int(r, CW_F_HTTP_STATUS, 0), 200);
        CHECK_EQ_INT(cw_record_int(r, CW_F_HTTP_BYTES, 0), 20526);
    }
    cw_batch_release(&b);
    free(keep);

    /* ocatak: outer quotes, CRLF */
    CHECK_EQ_INT(parse_real_line("combined", "data/weblogs/ocatak-apache-http-logs/w3af.txt", 1,
                                 &b, &keep), 0);
    if (b.n) {
        const struct cw_record *r = &b.recs[0];
        check_ip(&r->src, "192.168.4.163");
        CHECK_FIELD(r, CW_F_HTTP_USER_AGENT, "w3af.org");
        CHECK_FIELD(r, CW_F_HTTP_VERSION, "HTTP/1.1");
        CHECK_EQ_INT(cw_record_int(r, CW_F_HTTP_BYTES, 0), 3279);
        CHECK(cw_record_get(r, CW_F_HTTP_REFERER) == NULL); /* "-" */
    }
    cw_batch_release(&b);
    free(keep);

    /* elastic line 8899: the user agent lost its closing quote */
    CHECK_EQ_INT(parse_real_line("combined", "data/weblogs/elastic-apache_logs.log", 8899, &b,
                                 &keep), 0);
    if (b.n)
        CHECK_FIELD(&b.recs[0], CW_F_HTTP_USER_AGENT,
                    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html");
    cw_batch_release(&b);
    free(keep);

    /* fail2ban apache-fakegooglebot: extra "-", "[time ]", vhost after the time, extras */
    CHECK_EQ_INT(parse_real_line("combined", "data/weblogs/fail2ban-testlogs/apache-fakegooglebot",
                                 3, &b, &keep), 0);
    if (b.n) {
        const struct cw_record *r = &b.recs[0];
        check_ip(&r->src, "66.249.66.1");
        CHECK_FIELD(r, CW_F_HTTP_HOST, "fail2ban.org");
        CHECK_EQ_INT(r->ts_us, 1422714584000000LL); /* 2015-01-31T14:29:44Z */
        CHECK_FIELD(r, CW_F_HTTP_USER_AGENT,
                    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)");
    }
    cw_batch_release(&b);
    free(keep);
    /* ... and the "%v %h" variant */
    CHECK_EQ_INT(parse_real_line("combined", "data/weblogs/fail2ban-testlogs/apache-fakegooglebot",
                                 7, &b, &keep), 0);
    if (b.n) {
        check_ip(&b.recs[0].src, "192.0.2.222");
        CHECK_FIELD(&b.recs[0], CW_F_HTTP_HOST, "www.sitename.com");
    }
    cw_batch_release(&b);
    free(keep);

    /* nginx-bad-request: TLS/RDP garbage kept as path, no method; trailing "-" field */
    CHECK_EQ_INT(parse_real_line("combined", "data/weblogs/fail2ban-testlogs/nginx-bad-request",
                                 8, &b, &keep), 0);
    if (b.n) {
        const struct cw_record *r = &b.recs[0];
        CHECK(cw_record_get(r, CW_F_HTTP_METHOD) == NULL);
        CHECK_FIELD(r, CW_F_HTTP_PATH,
                    "\\x03\\x00\\x00/*\\xE0\\x00\\x00\\x00\\x00\\x00Cookie: mstshash=Administr");
        CHECK_EQ_INT(cw_record_int(r, CW_F_HTTP_STATUS, 0), 400);
    }
    cw_batch_release(&b);
    free(keep);
}

static void test_access_lines(void)
{
    struct cw_batch b;
    const char *in =
        /* 1 hostname client (HostnameLookups On) */
        "crawl-66-249-66-1.googlebot.com - - [10/Oct/2000:13:55:36 -0700] \"GET /a?x=1&y HTTP/1.0\" 200 - \"-\" \"-\"\n"
        /* 2 raw quotes and spaces inside the request (scanner payload) */
        "192.0.2.7 - bob [10/Oct/2000:13:55:36 +0000] \"GET /q?id=1\" or \"1\"=\"1 x HTTP/1.1\" 404 12 \"ref\" \"ua\"\n"
        /* 3 first half of a record split by a raw newline in the payload */
        "\"192.0.2.7 - - [22/Dec/2016:16:30:52 +0300] \"GET /x?a=\n"
        /* 4 ... and its second half */
        "b HTTP/1.1\" 200 5 \"-\" \"w3af.org\"\"\n"
        /* 5 not an access log line */
        "2015/01/21 10:56:10 [error] 2833#0: *16336 open() failed\n"
        /* 6 bad time */
        "192.0.2.1 - - [32/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 1\n"
        /* 7 bytes not a number */
        "192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 1x\n"
        /* 8 HTTP/0.9 style request without version; common format line */
        "::1 - - [10/Oct/2000:13:55:36 -0700] \"GET /\" 301 0\n"
        /* 9 empty */
        "#Fields: date time\n"
        /* 10 no request */
        "192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] 200 1\n";
    struct cw_parse_stats st = parse_str("combined", &b, in);
    CHECK_EQ_INT(st.lines, 10);
    CHECK_EQ_INT(st.accepted, 3);
    CHECK_EQ_STR(rej_reason(&b, 3), "missing status after request");
    CHECK_EQ_STR(rej_reason(&b, 4), "not an access log line (no host ident user [time])");
    CHECK_EQ_STR(rej_reason(&b, 5), "not an access log line (no host ident user [time])");
    CHECK_EQ_STR(rej_reason(&b, 6), "invalid timestamp");
    CHECK_EQ_STR(rej_reason(&b, 7), "missing status after request");
    CHECK_EQ_STR(rej_reason(&b, 9), "comment line");
    CHECK_EQ_STR(rej_reason(&b, 10), "missing request field");
    if (b.n == 3) {
        const struct cw_record *r = &b.recs[0];
        CHECK_EQ_INT(r->src.family, 0);
        CHECK_FIELD(r, CW_F_SRC_HOST, "crawl-66-249-66-1.googlebot.com");
        CHECK_FIELD(r, CW_F_HTTP_PATH, "/a");
        CHECK_FIELD(r, CW_F_HTTP_QUERY, "x=1&y");
        CHECK(cw_record_get(r, CW_F_HTTP_BYTES) == NULL);
        CHECK(cw_record_get(r, CW_F_HTTP_USER_AGENT) == NULL);
        CHECK_EQ_INT(r->ts_us, 971211336000000LL);
        r = &b.recs[1];
        CHECK_FIELD(r, CW_F_HTTP_USER, "bob");
        CHECK_FIELD(r, CW_F_HTTP_PATH, "/q");
        CHECK_FIELD(r, CW_F_HTTP_QUERY, "id=1\" or \"1\"=\"1 x");
        CHECK_FIELD(r, CW_F_HTTP_USER_AGENT, "ua");
        r = &b.recs[2];
        check_ip(&r->src, "::1");
        CHECK_FIELD(r, CW_F_HTTP_METHOD, "GET");
        CHECK(cw_record_get(r, CW_F_HTTP_VERSION) == NULL);
        CHECK_EQ_INT(cw_record_int(r, CW_F_HTTP_STATUS, 0), 301);
    }
    cw_batch_release(&b);
}

/* -- hostile input ------------------------------------------------------------------ */

static void test_hostile(void)
{
    static const char *const fmts[] = {"ndjson", "eve", "combined", "common", "nginx-json",
                                       "syslog"};
    static const char *const good[] = {
        "{\"ts\":\"2024-01-01T00:00:00Z\",\"kind\":\"log\"}",
        "{\"timestamp\":\"2024-01-01T00:00:00Z\",\"event_type\":\"dns\"}",
        "192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 1 \"-\" \"-\"",
        "192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 1",
        "{\"msec\":1700000000.5,\"request\":\"GET / HTTP/1.1\",\"status\":200}",
        "<13>Oct 11 22:14:15 host app[1]: hi",
    };
    /* a line over the limit, a NUL byte, and a huge deeply nested document */
    size_t big = CW_MAX_LINE_DEFAULT + 10;
    char *buf = malloc(3 * big);
    for (size_t f = 0; f < 6; f++) {
        size_t o = 0, gl = strlen(good[f]);
        memcpy(buf + o, good[f], gl);
        o += gl;
        buf[o++] = '\n';
        memset(buf + o, 'A', big); /* line 2: too long */
        o += big;
        buf[o++] = '\n';
        memcpy(buf + o, "ab\0cd\n", 6); /* line 3: NUL */
        o += 6;
        for (int i = 0; i < 100000; i++) /* line 4: 100k-deep nesting */
            buf[o++] = '[';
        buf[o++] = '\n';
        memcpy(buf + o, good[f], gl);
        o += gl;
        struct cw_batch b;
        struct cw_parse_stats st = parse(fmts[f], &b, buf, o);
        CHECK_EQ_INT(st.lines, 5);
        CHECK_EQ_INT(st.accepted, 2);
        CHECK_EQ_STR(rej_reason(&b, 2), "line too long");
        CHECK_EQ_STR(rej_reason(&b, 3), "NUL byte in line");
        CHECK(rej_reason(&b, 4) != NULL);
        cw_batch_release(&b);
    }
    free(buf);

    /* JSON formats: the same hostile documents, each with its expected reason */
    static const struct {
        const char *line, *reason;
    } bad[] = {
        {"{\"ts\":\"2024-01-01T00:00:00Z\",\"kind\":\"log\",\"log.app\":\"\xff\"}",
         "invalid UTF-8 in JSON string"},
        {"{\"ts\":\"2024-01-01T00:00:00Z\",\"kind\":\"log\"", "truncated JSON"},
        {"{\"ts\":\"2024-01-01T00:00:00Z\",\"kind\":\"log\",\"log.facility\":"
         "99999999999999999999999}",
         "field value is not an integer"},
        {"{\"ts\":\"2024-01-01T00:00:00Z\",\"kind\":\"log\"} {}", "trailing data after JSON value"},
        {"{\"ts\":\"2024-01-01T00:00:00Z\",\"kind\":\"log\",\"x\":tru}",
         "invalid JSON literal or number"},
        {"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
         "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
         "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
         "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
         "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
         "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
         "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
         "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
         "JSON nested too deeply"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct cw_buf in = CW_BUF_INIT;
        cw_buf_adds(&in, good[0]);
        cw_buf_addc(&in, '\n');
        cw_buf_adds(&in, bad[i].line);
        cw_buf_addc(&in, '\n');
        cw_buf_adds(&in, good[0]);
        struct cw_batch b;
        struct cw_parse_stats st = parse("ndjson", &b, in.data, in.len);
        CHECK_EQ_INT(st.accepted, 2);
        CHECK_EQ_STR(rej_reason(&b, 2), bad[i].reason);
        cw_batch_release(&b);
        cw_buf_release(&in);
    }
    /* too many tokens for the EVE reader */
    struct cw_buf many = CW_BUF_INIT;
    cw_buf_adds(&many, "{\"timestamp\":\"2024-01-01T00:00:00Z\",\"event_type\":\"dns\",\"x\":[");
    for (int i = 0; i < 5000; i++)
        cw_buf_adds(&many, "1,");
    cw_buf_adds(&many, "1]}");
    struct cw_batch b;
    parse("eve", &b, many.data, many.len);
    CHECK_EQ_STR(rej_reason(&b, 1), "JSON too complex (too many values)");
    cw_batch_release(&b);
    cw_buf_release(&many);
}

/* -- ndjson ------------------------------------------------------------------------- */

static void test_ndjson(void)
{
    struct cw_batch b;
    const char *in =
        "{\"ts\":\"2024-05-01T12:00:00.5Z\",\"member\":99,\"sensor\":98,\"kind\":\"http\","
        "\"src_ip\":\"2001:db8::1\",\"src_port\":1234,\"dst_ip\":\"192.0.2.1\",\"dst_port\":443,"
        "\"transport\":\"tcp\",\"http.status\":200,\"http.path\":\"/x\\ty\",\"future.key\":{\"a\":[1]},"
        "\"http.user\":null,\"raw\":\"original line\"}\n"
        "{\"kind\":\"http\"}\n"
        "{\"ts\":\"2024-05-01T12:00:00Z\"}\n"
        "{\"ts\":\"2024-05-01T12:00:00Z\",\"kind\":\"nope\"}\n"
        "{\"ts\":\"2024-05-01T12:00:00Z\",\"kind\":\"http\",\"http.status\":\"200\"}\n"
        "{\"ts\":\"2024-05-01T12:00:00Z\",\"kind\":\"http\",\"http.path\":5}\n"
        "{\"ts\":\"2024-05-01T12:00:00Z\",\"kind\":\"http\",\"src_port\":65536}\n"
        "{\"ts\":\"2024-05-01T12:00:00Z\",\"kind\":\"http\",\"src_ip\":\"1.2.3\"}\n"
        "{\"ts\":1714564800,\"kind\":\"http\"}\n"
        "{\"ts\":\"2024-05-01T12:00:00Z\",\"kind\":\"http\",\"http.status\":1.5}\n";
    struct cw_parse_stats st = parse_str("ndjson", &b, in);
    CHECK_EQ_INT(st.accepted, 1);
    CHECK_EQ_STR(rej_reason(&b, 2), "missing ts");
    CHECK_EQ_STR(rej_reason(&b, 3), "missing kind");
    CHECK_EQ_STR(rej_reason(&b, 4), "invalid kind");
    CHECK_EQ_STR(rej_reason(&b, 5), "field value is not an integer");
    CHECK_EQ_STR(rej_reason(&b, 6), "field value is not a string");
    CHECK_EQ_STR(rej_reason(&b, 7), "invalid src_port");
    CHECK_EQ_STR(rej_reason(&b, 8), "invalid src_ip");
    CHECK_EQ_STR(rej_reason(&b, 9), "invalid ts");
    CHECK_EQ_STR(rej_reason(&b, 10), "field value is not an integer");
    if (b.n == 1) {
        const struct cw_record *r = &b.recs[0];
        CHECK_EQ_INT(r->member_id, 7); /* from ctx, never from input */
        CHECK_EQ_INT(r->sensor_id, 9);
        CHECK_EQ_INT(r->ts_us, 1714564800500000LL);
        check_ip(&r->src, "2001:db8::1");
        CHECK_EQ_INT(r->dport, 443);
        CHECK_FIELD(r, CW_F_HTTP_PATH, "/x\ty");
        CHECK(cw_record_get(r, CW_F_HTTP_USER) == NULL);
        CHECK_EQ_MEM(r->raw, r->raw_len, "original line");
        CHECK_EQ_INT(r->nvals, 2);
    }
    cw_batch_release(&b);
}

/* -- nginx-json and syslog ------------------------------------------------------------ */

static void test_nginx_json(void)
{
    struct cw_batch b;
    const char *in =
        "{\"time_iso8601\":\"2024-05-01T12:00:00+02:00\",\"remote_addr\":\"2001:db8::1\","
        "\"remote_user\":\"-\",\"request\":\"GET /a?b=1 HTTP/1.1\",\"status\":\"404\","
        "\"body_bytes_sent\":\"153\",\"http_referer\":\"\",\"http_user_agent\":\"curl/8\","
        "\"host\":\"example.org\",\"server_addr\":\"192.0.2.9\",\"server_port\":\"443\"}\n"
        "{\"time_local\":\"01/May/2024:12:00:00 +0000\",\"remote_addr\":\"192.0.2.1\","
        "\"request_method\":\"POST\",\"request_uri\":\"/login?x\",\"status\":200,\"bytes_sent\":10}\n"
        "{\"msec\":\"1714564800.123\",\"remote_addr\":\"192.0.2.1\",\"request_method\":\"GET\","
        "\"uri\":\"/x\",\"args\":\"a=b\",\"status\":200}\n"
        "{\"remote_addr\":\"192.0.2.1\"}\n"
        "{\"msec\":\"1714564800.123\",\"status\":\"abc\"}\n"
        "{\"@timestamp\":\"2024-05-01T12:00:00Z\",\"status\":200,\"server_port\":\"99999\"}\n";
    struct cw_parse_stats st = parse_str("nginx-json", &b, in);
    CHECK_EQ_INT(st.accepted, 3);
    CHECK_EQ_STR(rej_reason(&b, 4), "missing time (time_iso8601, time_local, @timestamp or msec)");
    CHECK_EQ_STR(rej_reason(&b, 5), "invalid status");
    CHECK_EQ_STR(rej_reason(&b, 6), "invalid server_port");
    if (b.n == 3) {
        const struct cw_record *r = &b.recs[0];
        CHECK_EQ_INT(r->ts_us, 1714557600000000LL);
        check_ip(&r->src, "2001:db8::1");
        check_ip(&r->dst, "192.0.2.9");
        CHECK_EQ_INT(r->dport, 443);
        CHECK_FIELD(r, CW_F_HTTP_METHOD, "GET");
        CHECK_FIELD(r, CW_F_HTTP_QUERY, "b=1");
        CHECK_FIELD(r, CW_F_HTTP_HOST, "example.org");
        CHECK_EQ_INT(cw_record_int(r, CW_F_HTTP_STATUS, 0), 404);
        CHECK_EQ_INT(cw_record_int(r, CW_F_HTTP_BYTES, 0), 153);
        CHECK(cw_record_get(r, CW_F_HTTP_REFERER) == NULL);
        CHECK(cw_record_get(r, CW_F_HTTP_USER) == NULL);
        r = &b.recs[1];
        CHECK_FIELD(r, CW_F_HTTP_METHOD, "POST");
        CHECK_FIELD(r, CW_F_HTTP_PATH, "/login");
        CHECK_EQ_INT(cw_record_int(r, CW_F_HTTP_BYTES, 0), 10);
        r = &b.recs[2];
        CHECK_EQ_INT(r->ts_us, 1714564800123000LL);
        CHECK_FIELD(r, CW_F_HTTP_QUERY, "a=b");
    }
    CHECK_EQ_INT(round_trip(&b), 0);
    cw_batch_release(&b);
}

static void test_syslog(void)
{
    struct cw_batch b;
    const char *in =
        "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \xEF\xBB\xBF'su root' failed\n"
        "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time\n"
        "<165>1 2003-10-11T22:14:15.003Z host evntslog - ID47 [ex@32473 iut=\"3\" a=\"x\\]y\"][p@1 c=\"h\"] An event\n"
        "<165>1 - - - - - -\n"
        "<34>Oct 11 22:14:15 mymachine su: 'su root' failed\n"
        "Oct  1 02:04:05 host sshd[123]: Failed password for root\n"
        "2024-05-01T12:00:00.123456+02:00 host kernel: hello\n"
        "<999>oops\n"
        "hello world\n"
        "<13>1 yesterday host app - - - msg\n"
        "<13>1 2003-10-11T22:14:15Z host app - - [unterminated\n";
    struct cw_parse_stats st = parse_str("syslog", &b, in);
    CHECK_EQ_INT(st.accepted, 7);
    CHECK_EQ_STR(rej_reason(&b, 8), "invalid <PRI>");
    CHECK_EQ_STR(rej_reason(&b, 9), "not a syslog line (no <PRI> or timestamp)");
    CHECK_EQ_STR(rej_reason(&b, 10), "invalid timestamp");
    CHECK_EQ_STR(rej_reason(&b, 11), "invalid structured data");
    if (b.n == 7) {
        const struct cw_record *r = &b.recs[0];
        CHECK_EQ_INT(r->kind, CW_KIND_LOG);
        CHECK_EQ_INT(cw_record_int(r, CW_F_LOG_FACILITY, -1), 4);
        CHECK_EQ_INT(cw_record_int(r, CW_F_LOG_SEVERITY, -1), 2);
        CHECK_FIELD(r, CW_F_LOG_HOST, "mymachine.example.com");
        CHECK_FIELD(r, CW_F_LOG_APP, "su");
        CHECK(cw_record_get(r, CW_F_LOG_PROCID) == NULL);
        CHECK_FIELD(r, CW_F_LOG_MSGID, "ID47");
        CHECK_FIELD(r, CW_F_LOG_MESSAGE, "'su root' failed"); /* BOM stripped */
        CHECK_EQ_INT(b.recs[1].ts_us, 1061727255000003LL);
        CHECK_FIELD(&b.recs[1], CW_F_LOG_PROCID, "8710");
        CHECK_FIELD(&b.recs[2], CW_F_LOG_MESSAGE, "An event");
        CHECK_EQ_INT(b.recs[3].ts_us, CTX.now_us);
        CHECK(cw_record_get(&b.recs[3], CW_F_LOG_HOST) == NULL);
        r = &b.recs[4];
        CHECK_EQ_INT(r->ts_us, 1697062455000000LL); /* 2023-10-11T22:14:15Z */
        CHECK_FIELD(r, CW_F_LOG_HOST, "mymachine");
        CHECK_FIELD(r, CW_F_LOG_MESSAGE, "'su root' failed");
        r = &b.recs[5];
        CHECK(cw_record_get(r, CW_F_LOG_FACILITY) == NULL);
        CHECK_FIELD(r, CW_F_LOG_APP, "sshd");
        CHECK_FIELD(r, CW_F_LOG_PROCID, "123");
        CHECK_FIELD(r, CW_F_LOG_MESSAGE, "Failed password for root");
        CHECK_EQ_INT(b.recs[6].ts_us, 1714557600123456LL);
        CHECK_FIELD(&b.recs[6], CW_F_LOG_APP, "kernel");
    }
    CHECK_EQ_INT(round_trip(&b), 0);
    cw_batch_release(&b);
}

/* -- docs ---------------------------------------------------------------------------- */

static void test_docs_catalogue(void)
{
    const char *src = getenv("CW_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/docs/records.md", src ? src : ".");
    size_t len;
    char *doc = cw_test_read_file(path, &len);
    CHECK(doc != NULL);
    if (!doc)
        return;
    for (int id = 1; id < CW_F__COUNT; id++) {
        char want[128];
        snprintf(want, sizeof(want), "`%s`", cw_field_info((enum cw_field_id)id)->name);
        if (!strstr(doc, want))
            fprintf(stderr, "docs/records.md lacks %s\n", want);
        CHECK(strstr(doc, want) != NULL);
    }
    for (const struct cw_format *const *f = cw_format_list(); *f; f++) {
        char want[128];
        snprintf(want, sizeof(want), "`%s`", (*f)->name);
        CHECK(strstr(doc, want) != NULL);
    }
    free(doc);
}

int main(void)
{
    test_eve_real();
    test_eve_lines();
    test_weblogs_real();
    test_weblog_spots();
    test_access_lines();
    test_hostile();
    test_ndjson();
    test_nginx_json();
    test_syslog();
    test_docs_catalogue();
    return cw_test_finish("test_formats");
}
