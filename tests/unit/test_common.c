/* test_common.c - src/common: JSON reader, time parsers, codecs, config, buffers. */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/codec.h"
#include "common/config.h"
#include "common/json.h"
#include "common/timefmt.h"
#include "testlib.h"

/* -- json --------------------------------------------------------------------------- */

static int jparse(struct cw_json *j, jsmntok_t *t, int nt, const char *s, const char **err)
{
    *err = NULL;
    return cw_json_parse(j, s, strlen(s), t, nt, err);
}

static void test_json(void)
{
    jsmntok_t t[64];
    struct cw_json j;
    const char *err;
    struct cw_arena a;
    cw_arena_init(&a, 4096, 0);

    CHECK_EQ_INT(jparse(&j, t, 64, "{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}} \r\n", &err), 0);
    CHECK(cw_json_is(&j, 0, JSMN_OBJECT));
    int c = cw_json_get(&j, 0, "c");
    CHECK(cw_json_is(&j, c, JSMN_OBJECT));
    CHECK(cw_json_eq(&j, cw_json_get(&j, c, "d"), "e"));
    CHECK(cw_json_get(&j, 0, "d") < 0); /* only direct members */
    CHECK(cw_json_is_null(&j, cw_json_get(&j, 0, "b") + 3));
    CHECK_EQ_INT(cw_json_next(&j, cw_json_get(&j, 0, "b")), cw_json_get(&j, 0, "c") - 1);

    /* invalid documents */
    static const struct {
        const char *doc, *err;
    } bad[] = {
        {"", "empty JSON"},
        {"{\"a\":1", "truncated JSON"},
        {"{\"a\":1} {}", "trailing data after JSON value"},
        {"{\"a\":01}", "invalid JSON literal or number"},
        {"{\"a\":1.}", "invalid JSON literal or number"},
        {"{\"a\":-}", "invalid JSON literal or number"},
        {"{\"a\":nul}", "invalid JSON literal or number"},
        {"{\"a\":\"\xc3\x28\"}", "invalid UTF-8 in JSON string"},
        {"{\"a\":\"\xed\xa0\x80\"}", "invalid UTF-8 in JSON string"}, /* encoded surrogate */
        {"[1,2,3,4,5,6,7,8,9,10]", "JSON too complex (too many values)"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        jsmntok_t few[8];
        CHECK_EQ_INT(jparse(&j, few, 8, bad[i].doc, &err), -1);
        CHECK_EQ_STR(err, bad[i].err);
    }
    CHECK_EQ_INT(jparse(&j, t, 64, "{\"a\" 1}", &err), -1);

    /* escapes, including surrogate pairs and lone surrogates */
    CHECK_EQ_INT(jparse(&j, t, 64,
                        "[\"a\\\"b\\\\c\\/d\\n\\t\", \"\\ud83d\\ude00\", \"\\u00e9\", \"\\ud800x\", "
                        "\"plain\"]",
                        &err),
                 0);
    const char *s;
    size_t n;
    CHECK_EQ_INT(cw_json_str(&j, 1, &a, &s, &n), 0);
    CHECK_EQ_MEM(s, n, "a\"b\\c/d\n\t");
    CHECK_EQ_INT(cw_json_str(&j, 2, &a, &s, &n), 0);
    CHECK_EQ_MEM(s, n, "\xF0\x9F\x98\x80");
    CHECK_EQ_INT(cw_json_str(&j, 3, &a, &s, &n), 0);
    CHECK_EQ_MEM(s, n, "\xC3\xA9");
    CHECK_EQ_INT(cw_json_str(&j, 4, &a, &s, &n), 0);
    CHECK_EQ_MEM(s, n, "\xEF\xBF\xBDx"); /* U+FFFD for the lone surrogate */
    CHECK_EQ_INT(cw_json_str(&j, 5, &a, &s, &n), 0);
    CHECK(s == j.src + j.tok[5].start); /* zero copy without escapes */
    char out[16];
    CHECK_EQ_INT(cw_json_unescape("\\x", 2, out), -1);
    CHECK_EQ_INT(cw_json_unescape("\\u12", 4, out), -1);
    CHECK_EQ_INT(cw_json_unescape("\\", 1, out), -1);

    /* integers */
    CHECK_EQ_INT(jparse(&j, t, 64,
                        "[0,-1,9223372036854775807,-9223372036854775808,9223372036854775808,"
                        "12.0,12.5,1e3,\"7\"]",
                        &err),
                 0);
    int64_t v;
    CHECK_EQ_INT(cw_json_int(&j, 1, &v), 0);
    CHECK_EQ_INT(v, 0);
    CHECK_EQ_INT(cw_json_int(&j, 2, &v), 0);
    CHECK_EQ_INT(v, -1);
    CHECK_EQ_INT(cw_json_int(&j, 3, &v), 0);
    CHECK(v == INT64_MAX);
    CHECK_EQ_INT(cw_json_int(&j, 4, &v), 0);
    CHECK(v == INT64_MIN);
    CHECK_EQ_INT(cw_json_int(&j, 5, &v), -1);
    CHECK_EQ_INT(cw_json_int(&j, 6, &v), 0);
    CHECK_EQ_INT(v, 12);
    CHECK_EQ_INT(cw_json_int(&j, 7, &v), -1);
    CHECK_EQ_INT(cw_json_int(&j, 8, &v), -1);
    CHECK_EQ_INT(cw_json_int(&j, 9, &v), -1);
    cw_arena_release(&a);
}

/* -- time ---------------------------------------------------------------------------- */

static int64_t iso(const char *s)
{
    int64_t v = -1;
    return cw_time_parse_iso(s, strlen(s), &v) ? -1 : v;
}

static void test_time(void)
{
    CHECK_EQ_INT(iso("1970-01-01T00:00:00Z"), 0);
    CHECK_EQ_INT(iso("2024-01-01T00:00:00.123456+0000"), 1704067200123456LL);
    CHECK_EQ_INT(iso("2024-01-01T02:00:00+02:00"), 1704067200000000LL);
    CHECK_EQ_INT(iso("2024-01-01T00:00:00-01"), 1704070800000000LL);
    CHECK_EQ_INT(iso("2024-01-01 00:00:00.5"), 1704067200500000LL);
    CHECK_EQ_INT(iso("2024-01-01T00:00:00.1234567Z"), 1704067200123456LL); /* truncated */
    CHECK_EQ_INT(iso("2024-02-29T00:00:00Z"), 1709164800000000LL);         /* leap year */
    CHECK_EQ_INT(iso("2000-02-29T00:00:00Z"), 951782400000000LL);          /* 400 rule */
    CHECK_EQ_INT(iso("2023-02-29T00:00:00Z"), -1);
    CHECK_EQ_INT(iso("1900-02-29T00:00:00Z"), -1);
    CHECK_EQ_INT(iso("2024-13-01T00:00:00Z"), -1);
    CHECK_EQ_INT(iso("2024-04-31T00:00:00Z"), -1);
    CHECK_EQ_INT(iso("2024-01-01T24:00:00Z"), -1);
    CHECK_EQ_INT(iso("2024-01-01T00:00:00."), -1);
    CHECK_EQ_INT(iso("2024-01-01T00:00:00+2500"), -1);
    CHECK_EQ_INT(iso("2024-01-01T00:00:00Zjunk"), -1);
    CHECK_EQ_INT(iso("2024-01-01"), -1);
    CHECK_EQ_INT(iso("2016-12-31T23:59:60Z"), 1483228799000000LL); /* leap second clamps */
    /* an offset that moves the instant out of the range the formatter can write */
    CHECK_EQ_INT(iso("1970-01-01T00:00:00+01:00"), -1);
    CHECK_EQ_INT(iso("9999-12-31T23:59:59-01:00"), -1);

    int64_t v;
    CHECK_EQ_INT(cw_time_parse_clf("10/Oct/2000:13:55:36 -0700", 26, &v), 0);
    CHECK_EQ_INT(v, 971211336000000LL);
    CHECK_EQ_INT(cw_time_parse_clf("10/Oct/2000:13:55:36", 20, &v), 0);
    CHECK_EQ_INT(v, 971186136000000LL); /* no offset: UTC */
    CHECK_EQ_INT(cw_time_parse_clf("10/Okt/2000:13:55:36 -0700", 26, &v), -1);
    CHECK_EQ_INT(cw_time_parse_clf("31/Jun/2000:13:55:36 -0700", 26, &v), -1);
    CHECK_EQ_INT(cw_time_parse_clf("10/Oct/2000:13:55:36 -0700x", 27, &v), -1);
    CHECK_EQ_INT(cw_time_parse_clf("10/Oct/2000:13:55:3", 19, &v), -1);

    int64_t now = 1700000000000000LL; /* 2023-11-14T22:13:20Z */
    CHECK_EQ_INT(cw_time_parse_bsd("Oct 11 22:14:15", 15, now, &v), 0);
    CHECK_EQ_INT(v, 1697062455000000LL);
    CHECK_EQ_INT(cw_time_parse_bsd("Dec 31 23:00:00", 15, now, &v), 0); /* last year */
    CHECK_EQ_INT(v, 1672527600000000LL);
    CHECK_EQ_INT(cw_time_parse_bsd("Nov  1 00:00:00", 15, now, &v), 0); /* padded day */
    CHECK_EQ_INT(v, 1698796800000000LL);
    CHECK_EQ_INT(cw_time_parse_bsd("Feb 29 12:00:00", 15, now, &v), 0); /* 2020 */
    CHECK_EQ_INT(v, 1582977600000000LL);
    CHECK_EQ_INT(cw_time_parse_bsd("Foo 11 22:14:15", 15, now, &v), -1);
    CHECK_EQ_INT(cw_time_parse_bsd("Oct 11 22:14:1", 14, now, &v), -1);
    CHECK_EQ_INT(cw_time_parse_bsd("Oct 32 22:14:15", 15, now, &v), -1);
    CHECK_EQ_INT(cw_month_from_abbr("Dec"), 12);
    CHECK_EQ_INT(cw_month_from_abbr("dec"), 0);

    char out[32];
    CHECK_EQ_INT(cw_time_format_iso(1704067200123456LL, out), 27);
    CHECK_EQ_STR(out, "2024-01-01T00:00:00.123456Z");
    CHECK_EQ_INT(iso(out), 1704067200123456LL);
    CHECK_EQ_INT(cw_days_from_civil(1970, 1, 1), 0);
}

/* -- codecs --------------------------------------------------------------------------- */

static void test_codec(void)
{
    size_t len;
    char *gz = cw_test_read_file(cw_test_shared("data/eve/public-pcaps.eve.json.gz"), &len);
    CHECK(gz != NULL);
    if (!gz)
        return;
    char *out;
    size_t olen;
    CHECK_EQ_INT(cw_decompress(CW_ENC_GZIP, gz, len, 64u << 20, &out, &olen), CW_CODEC_OK);
    size_t plain_len = olen;
    CHECK(olen > len * 3 && out[olen] == '\0');
    CHECK(memcmp(out, "{\"timestamp\":", 13) == 0);
    /* over the limit: a bomb costs at most the limit */
    char *o2;
    size_t l2;
    CHECK_EQ_INT(cw_decompress(CW_ENC_GZIP, gz, len, 1u << 20, &o2, &l2), CW_CODEC_TOO_LARGE);
    /* truncated */
    CHECK_EQ_INT(cw_decompress(CW_ENC_GZIP, gz, len / 2, 64u << 20, &o2, &l2), CW_CODEC_CORRUPT);
    CHECK_EQ_INT(cw_decompress(CW_ENC_GZIP, "not gzip", 8, 1024, &o2, &l2), CW_CODEC_CORRUPT);
    free(gz);

    /* zstd round trip of the same text */
    char *z;
    size_t zl;
    CHECK_EQ_INT(cw_zstd_compress(out, plain_len, 3, &z, &zl), CW_CODEC_OK);
    CHECK(zl < plain_len / 3);
    CHECK_EQ_INT(cw_decompress(CW_ENC_ZSTD, z, zl, 64u << 20, &o2, &l2), CW_CODEC_OK);
    CHECK(l2 == plain_len && memcmp(o2, out, l2) == 0);
    free(o2);
    CHECK_EQ_INT(cw_decompress(CW_ENC_ZSTD, z, zl, 4096, &o2, &l2), CW_CODEC_TOO_LARGE);
    CHECK_EQ_INT(cw_decompress(CW_ENC_ZSTD, z, zl - 10, 64u << 20, &o2, &l2), CW_CODEC_CORRUPT);
    free(z);
    /* a zstd bomb: 64 MiB of zeros compress to a few KiB */
    size_t bomb = 64u << 20;
    char *zeros = calloc(1, bomb);
    CHECK_EQ_INT(cw_zstd_compress(zeros, bomb, 3, &z, &zl), CW_CODEC_OK);
    CHECK(zl < 64 * 1024);
    CHECK_EQ_INT(cw_decompress(CW_ENC_ZSTD, z, zl, 1u << 20, &o2, &l2), CW_CODEC_TOO_LARGE);
    free(z);
    free(zeros);
    /* identity */
    CHECK_EQ_INT(cw_decompress(CW_ENC_IDENTITY, "abc", 3, 10, &o2, &l2), CW_CODEC_OK);
    CHECK_EQ_MEM(o2, l2, "abc");
    free(o2);
    CHECK_EQ_INT(cw_decompress(CW_ENC_IDENTITY, "abc", 3, 2, &o2, &l2), CW_CODEC_TOO_LARGE);
    CHECK_EQ_INT(cw_encoding_from_header(NULL), CW_ENC_IDENTITY);
    CHECK_EQ_INT(cw_encoding_from_header("gzip"), CW_ENC_GZIP);
    CHECK_EQ_INT(cw_encoding_from_header("zstd"), CW_ENC_ZSTD);
    CHECK_EQ_INT(cw_encoding_from_header("br"), CW_ENC_UNKNOWN);
    free(out);
}

/* -- config ---------------------------------------------------------------------------- */

static void test_config(void)
{
    struct cw_config c;
    char err[256] = "";
    const char *text = "# comment\n"
                       "listen = 0.0.0.0:8080\n"
                       "max_body = 64M\n"
                       "\n"
                       "[ship]\n"
                       "file = /var/log/a.log\n"
                       "file = \" /var/log/b.log # not a comment \"\n"
                       "interval = 500ms\n"
                       "retry = 30\n"
                       "verbose = true\n"
                       "[serve]\r\n"
                       "listen = 127.0.0.1:9000\r\n"
                       "bad_size = 12X\n"
                       "huge = 9223372036854775807\n";
    cw_config_init(&c);
    CHECK_EQ_INT(cw_config_load_str(&c, text, strlen(text), "t.conf", err, sizeof(err)), 0);
    CHECK_EQ_STR(cw_config_str(&c, "serve", "listen", NULL), "127.0.0.1:9000");
    CHECK_EQ_STR(cw_config_str(&c, "ship", "listen", NULL), "0.0.0.0:8080"); /* from "" */
    const char *vals[4];
    CHECK_EQ_INT(cw_config_all(&c, "ship", "file", vals, 4), 2);
    CHECK_EQ_STR(vals[0], "/var/log/a.log");
    CHECK_EQ_STR(vals[1], " /var/log/b.log # not a comment ");
    int64_t ms;
    CHECK_EQ_INT(cw_config_duration_ms(&c, "ship", "interval", 0, &ms, err, sizeof(err)), 0);
    CHECK_EQ_INT(ms, 500);
    CHECK_EQ_INT(cw_config_duration_ms(&c, "ship", "retry", 0, &ms, err, sizeof(err)), 0);
    CHECK_EQ_INT(ms, 30000);
    CHECK_EQ_INT(cw_config_duration_ms(&c, "ship", "missing", 42, &ms, err, sizeof(err)), 0);
    CHECK_EQ_INT(ms, 42);
    /* seconds * 1000 would overflow: an error, not undefined behaviour */
    CHECK_EQ_INT(cw_config_duration_ms(&c, "serve", "huge", 0, &ms, err, sizeof(err)), -1);
    CHECK(strstr(err, "t.conf:14") != NULL);
    uint64_t sz;
    CHECK_EQ_INT(cw_config_size(&c, "serve", "max_body", 0, &sz, err, sizeof(err)), 0);
    CHECK_EQ_INT(sz, 64u << 20);
    CHECK_EQ_INT(cw_config_size(&c, "serve", "bad_size", 0, &sz, err, sizeof(err)), -1);
    CHECK(strstr(err, "t.conf:13") != NULL && strstr(err, "bad_size") != NULL);
    bool on;
    CHECK_EQ_INT(cw_config_bool(&c, "ship", "verbose", false, &on, err, sizeof(err)), 0);
    CHECK(on);

    /* flags override the file, and carry their own origin */
    static const struct cw_option opts[] = {
        {"listen", 'l', "listen", "ADDR", "address"},
        {"max-body", 0, "max_body", "SIZE", "limit"},
        {NULL, 0, NULL, NULL, NULL},
    };
    char *argv[] = {"serve", "--listen=[::1]:1", "--max-body", "lots", "pos", NULL};
    const char *pos[4];
    size_t npos = 0;
    bool help = false;
    CHECK_EQ_INT(cw_options_parse(opts, "serve", 5, argv, &c, &help, pos, 4, &npos, err,
                                  sizeof(err)),
                 0);
    CHECK_EQ_INT(npos, 1);
    CHECK_EQ_STR(cw_config_str(&c, "serve", "listen", NULL), "[::1]:1");
    CHECK_EQ_INT(cw_config_size(&c, "serve", "max_body", 0, &sz, err, sizeof(err)), -1);
    CHECK(strstr(err, "--max-body") != NULL);
    char *argv2[] = {"serve", "--nope", NULL};
    CHECK_EQ_INT(cw_options_parse(opts, "serve", 2, argv2, &c, &help, pos, 4, &npos, err,
                                  sizeof(err)),
                 -1);
    cw_config_release(&c);

    /* syntax errors name file and line */
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"a = 1\n[sec\n", "x.conf:2: section header"},
        {"novalue\n", "x.conf:1: expected 'key = value'"},
        {" = 3\n", "x.conf:1: missing key"},
        {"k ey = 3\n", "x.conf:1: invalid character in key"},
        {"[s p]\n", "x.conf:1: invalid character in section name"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cw_config_init(&c);
        CHECK_EQ_INT(cw_config_load_str(&c, bad[i].text, strlen(bad[i].text), "x.conf", err,
                                        sizeof(err)),
                     -1);
        if (!strstr(err, bad[i].want))
            fprintf(stderr, "got: %s\n", err);
        CHECK(strstr(err, bad[i].want) != NULL);
        cw_config_release(&c);
    }
    cw_config_init(&c);
    CHECK_EQ_INT(cw_config_load_str(&c, "a = 1\0", 6, "x.conf", err, sizeof(err)), -1);
    cw_config_release(&c);
}

/* -- buf ------------------------------------------------------------------------------- */

static void test_buf(void)
{
    struct cw_buf b = CW_BUF_INIT;
    cw_buf_add_json_str(&b, "a\"b\\c\n\r\t\x01\x7f", 10);
    CHECK_EQ_STR(b.data, "\"a\\\"b\\\\c\\n\\r\\t\\u0001\x7f\"");
    cw_buf_clear(&b);
    /* valid UTF-8 passes through; invalid bytes become \u00XX, so output stays valid */
    cw_buf_add_json_str(&b, "\xC3\xA9\xF0\x9F\x98\x80\xFF\xC3", 8);
    CHECK_EQ_STR(b.data, "\"\xC3\xA9\xF0\x9F\x98\x80\\u00ff\\u00c3\"");
    cw_buf_clear(&b);
    cw_buf_add_i64(&b, INT64_MIN);
    cw_buf_addc(&b, ' ');
    cw_buf_add_u64(&b, UINT64_MAX);
    CHECK_EQ_STR(b.data, "-9223372036854775808 18446744073709551615");
    cw_buf_clear(&b);
    cw_buf_addf(&b, "%s=%d", "x", 5);
    CHECK_EQ_STR(b.data, "x=5");
    CHECK(cw_buf_ok(&b));
    cw_buf_release(&b);
}

int main(void)
{
    test_json();
    test_time();
    test_codec();
    test_config();
    test_buf();
    return cw_test_finish("test_common");
}
