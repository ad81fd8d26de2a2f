/* test_iocfmt.c - indicator exchange formats (src/ioc/iocfmt.h) on the real STIX
 * bundles and MISP events of ../shared/data, plus hand-made malformed inputs.
 * Expected counts were read off the shared files by hand (see the comments). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_msg.h"
#include "dns/rpz.h"
#include "ioc/iocfmt.h"
#include "testlib.h"

struct rej {
    size_t n;
    char last_where[200], last_reason[400], all[8192];
};

static void on_rej(void *ctx, const char *where, const char *reason)
{
    struct rej *r = ctx;
    r->n++;
    snprintf(r->last_where, sizeof r->last_where, "%s", where);
    snprintf(r->last_reason, sizeof r->last_reason, "%s", reason);
    size_t l = strlen(r->all);
    snprintf(r->all + l, sizeof r->all - l, "%s: %s\n", where, reason);
}

typedef int (*import_fn)(const char *, size_t, const struct cw_ioc_import_opts *,
                         struct cw_ioc_list *, struct cw_ioc_import_stats *);

static int import_file(import_fn fn, const char *rel, struct cw_ioc_list *l,
                       struct cw_ioc_import_stats *st, struct rej *r)
{
    size_t n;
    char *d = cw_test_read_file(cw_test_shared(rel), &n);
    if (!d) {
        fprintf(stderr, "cannot read %s\n", rel);
        CHECK(d != NULL);
        return -2;
    }
    struct cw_ioc_import_opts o = {.default_confidence = -1, .on_reject = on_rej, .ctx = r};
    int rc = fn(d, n, &o, l, st);
    free(d);
    return rc;
}

static int import_str(import_fn fn, const char *s, struct cw_ioc_list *l,
                      struct cw_ioc_import_stats *st, struct rej *r)
{
    struct cw_ioc_import_opts o = {.default_confidence = -1, .on_reject = on_rej, .ctx = r};
    return fn(s, strlen(s), &o, l, st);
}

/* -- patterns --------------------------------------------------------------- */

static void pattern_ok(const char *p, int n, enum cw_ioc_type t0, const char *v0)
{
    struct cw_arena a;
    cw_arena_init(&a, 4096, 0);
    struct cw_stix_leaf *lv = NULL;
    char err[300] = "";
    int got = cw_stix_pattern_parse(p, strlen(p), &a, &lv, err, sizeof err);
    if (got != n)
        fprintf(stderr, "pattern %s: %d leaves (%s)\n", p, got, err);
    CHECK_EQ_INT(got, n);
    if (got >= 1) {
        CHECK_EQ_INT(lv[0].type, t0);
        CHECK_EQ_STR(lv[0].value, v0);
    }
    cw_arena_release(&a);
}

static void pattern_bad(const char *p, const char *reason_part)
{
    struct cw_arena a;
    cw_arena_init(&a, 4096, 0);
    struct cw_stix_leaf *lv = NULL;
    char err[300] = "";
    int got = cw_stix_pattern_parse(p, strlen(p), &a, &lv, err, sizeof err);
    CHECK_EQ_INT(got, -1);
    if (!strstr(err, reason_part))
        fprintf(stderr, "pattern %s: reason \"%s\" lacks \"%s\"\n", p, err, reason_part);
    CHECK(strstr(err, reason_part) != NULL);
    cw_arena_release(&a);
}

static void test_patterns(void)
{
    pattern_ok("[domain-name:value = 'evil.example']", 1, CW_IOC_DOMAIN, "evil.example");
    pattern_ok("[ ipv4-addr:value = '10.0.0.0' ]", 1, CW_IOC_IPV4, "10.0.0.0");
    pattern_ok("[ipv4-addr:value = '223.166.0.0/15']", 1, CW_IOC_CIDR, "223.166.0.0/15");
    pattern_ok("[ipv6-addr:value == '2001:db8::1']", 1, CW_IOC_IPV6, "2001:db8::1");
    pattern_ok("[file:hashes.'SHA-256' = 'ef53']", 1, CW_IOC_SHA256, "ef53");
    pattern_ok("[file:hashes.md5 = 'aa']", 1, CW_IOC_MD5, "aa");
    pattern_ok("[url:value = 'http://x/it''s']", -1, CW_IOC_NONE, ""); /* '' is not an escape */
    pattern_ok("[url:value = 'http://x/it\\'s']", 1, CW_IOC_URL, "http://x/it's");
    pattern_ok("[email-message:from_ref.value = 'a@b.example']", 1, CW_IOC_EMAIL,
               "a@b.example");
    pattern_ok("[network-traffic:dst_ref.value = '2001:db8::/32']", 1, CW_IOC_CIDR,
               "2001:db8::/32");
    /* OR at both levels and IN give several values */
    pattern_ok("[domain-name:value = 'a.example' OR domain-name:value = 'b.example'] OR "
               "[ipv4-addr:value IN ('192.0.2.1', '192.0.2.2')]",
               4, CW_IOC_DOMAIN, "a.example");
    pattern_ok("/* c */ ([url:value = 'http://a/'] ) // tail", 1, CW_IOC_URL, "http://a/");
    /* refused with a reason */
    pattern_bad("[x509-certificate:issuer = 'CN=WEBMAIL' AND x509-certificate:serial_number = "
                "'4c']",
                "x509-certificate:issuer");
    pattern_bad("[domain-name:value = 'a.example' AND domain-name:value = 'b.example']",
                "AND");
    pattern_bad("[email-message:subject MATCHES '^x']", "MATCHES");
    pattern_bad("[domain-name:value = 'a'] FOLLOWEDBY [domain-name:value = 'b']", "FOLLOWEDBY");
    pattern_bad("[domain-name:value = 'a'] WITHIN 300 SECONDS", "WITHIN");
    pattern_bad("[domain-name:value = 'a'] REPEATS 5 TIMES", "REPEATS");
    pattern_bad("[domain-name:value = 'a'] START t'2016-06-01T00:00:00Z' STOP "
                "t'2016-07-01T00:00:00Z'",
                "START");
    pattern_bad("[domain-name:value != 'a']", "!=");
    pattern_bad("[domain-name:value NOT IN ('a')]", "NOT");
    pattern_bad("[ipv4-addr:value = 5]", "must be a string");
    pattern_bad("[file:size > 10]", ">");
    /* syntax errors */
    pattern_bad("[domain-name:value = 'a'", "syntax");
    pattern_bad("domain-name:value = 'a'", "syntax");
    pattern_bad("[domain-name:value = 'a] ", "syntax");
    pattern_bad("[domain-name:value = 'a'] garbage", "syntax");
    pattern_bad("[domain-name:value = t'2016-13-01T00:00:00Z']", "syntax");
    pattern_bad("[a:b = h'abc']", "syntax");
    pattern_bad("", "syntax");
    /* deep nesting is a syntax error, not a stack overflow */
    char deep[4096];
    size_t k = 0;
    for (int i = 0; i < 1000; i++)
        deep[k++] = '(';
    deep[k] = '\0';
    pattern_bad(deep, "syntax");

    /* the writer's output parses back to the same value, quotes included */
    struct cw_buf b = CW_BUF_INIT;
    cw_stix_pattern_write(&b, CW_IOC_USER_AGENT, "Mozilla 'x' \\ y");
    pattern_ok(b.data, 1, CW_IOC_USER_AGENT, "Mozilla 'x' \\ y");
    cw_buf_clear(&b);
    cw_stix_pattern_write(&b, CW_IOC_SHA1, "0123");
    pattern_ok(b.data, 1, CW_IOC_SHA1, "0123");
    cw_buf_release(&b);
}

/* -- ids ---------------------------------------------------------------------- */

static void test_ids(void)
{
    /* RFC 9562 / Python uuid.uuid5(NAMESPACE_DNS, "www.example.com") */
    static const uint8_t ns_dns[16] = {0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
                                       0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};
    char u[37];
    cw_uuid5(ns_dns, "www.example.com", 15, u);
    CHECK_EQ_STR(u, "2ed6657d-e927-568b-95e1-2665a8aea6a2");
    char a[CW_IOC_ID_MAX], b[CW_IOC_ID_MAX];
    cw_ioc_item_id(CW_IOC_DOMAIN, "evil.example", a);
    cw_ioc_item_id(CW_IOC_DOMAIN, "evil.example", b);
    CHECK_EQ_STR(a, b);
    CHECK(strncmp(a, "indicator--", 11) == 0 && strlen(a) == 47);
    cw_ioc_item_id(CW_IOC_HOSTNAME, "evil.example", b);
    CHECK(strcmp(a, b) != 0);
}

/* -- STIX ----------------------------------------------------------------------- */

static void test_stix_bundles(void)
{
    struct cw_ioc_list l;
    struct cw_ioc_import_stats st = {0};
    struct rej r = {0};
    cw_ioc_list_init(&l);
    /* apt1.json: 76 objects, 12 indicators: 4 CIDRs, 3 domains, 3 MD5s, 2 x509 (AND) */
    CHECK_EQ_INT(import_file(cw_ioc_import_stix, "data/stix/bundles/apt1.json", &l, &st, &r), 0);
    CHECK_EQ_INT(st.objects, 76);
    CHECK_EQ_INT(st.accepted, 10);
    CHECK_EQ_INT(st.rejected, 2);
    CHECK_EQ_INT(st.skipped, 64);
    CHECK(strstr(r.all, "object 21 (indicator--b3b6b540-d838-41e2-853b-005056c00008)") != NULL);
    const struct cw_ioc_item *it = cw_ioc_list_find(&l, CW_IOC_CIDR, "223.166.0.0/15");
    CHECK(it != NULL);
    if (it) {
        CHECK_EQ_STR(it->id, "indicator--031778a4-057f-48e6-9db9-c8d72b81ccd5");
        CHECK_EQ_INT(it->tlp, CW_TLP_CLEAR);
    }
    CHECK(cw_ioc_list_find(&l, CW_IOC_DOMAIN, "hugesoft.org") != NULL);
    CHECK(cw_ioc_list_find(&l, CW_IOC_MD5, "001dd76872d80801692ff942308c64e6") != NULL);

    /* using-marking-definitions.json: TLP:AMBER (1.0 id) + a statement marking */
    memset(&st, 0, sizeof st);
    CHECK_EQ_INT(import_file(cw_ioc_import_stix, "data/stix/bundles/using-marking-definitions.json",
                             &l, &st, &r), 0);
    CHECK_EQ_INT(st.accepted, 1);
    it = cw_ioc_list_find(&l, CW_IOC_IPV4, "10.0.0.0");
    CHECK(it && it->tlp == CW_TLP_AMBER);
    CHECK(it && it->source_name && strcmp(it->source_name, "Stark Industries") == 0);
    CHECK(it && it->description &&
          strcmp(it->description, "Detected malicious activity from this address") == 0);

    /* the same address again from another example: merged, stricter TLP kept */
    memset(&st, 0, sizeof st);
    CHECK_EQ_INT(import_file(cw_ioc_import_stix, "data/stix/examples/indicator-for-c2-ip-address.json",
                             &l, &st, &r), 0);
    CHECK_EQ_INT(st.duplicates, 1);
    CHECK_EQ_INT(st.accepted, 0);
    it = cw_ioc_list_find(&l, CW_IOC_IPV4, "10.0.0.0");
    CHECK(it && it->tlp == CW_TLP_AMBER);

    /* two MATCHES indicators: rejected with the operator named */
    memset(&st, 0, sizeof st);
    r.n = 0;
    CHECK_EQ_INT(import_file(cw_ioc_import_stix,
                             "data/stix/examples/malicious-email-indicator-with-attachment.json",
                             &l, &st, &r), 0);
    CHECK_EQ_INT(st.rejected, 2);
    CHECK(strstr(r.last_reason, "MATCHES") != NULL);
    cw_ioc_list_release(&l);
}

static void test_stix_bad(void)
{
    struct cw_ioc_list l;
    struct cw_ioc_import_stats st = {0};
    struct rej r = {0};
    cw_ioc_list_init(&l);
    CHECK_EQ_INT(import_str(cw_ioc_import_stix, "{\"type\":\"bundle\",\"objects\":[", &l, &st, &r),
                 -1);
    CHECK_EQ_INT(r.n, 1);
    CHECK_EQ_STR(r.last_where, "input");
    /* one good indicator among broken ones: the good one is kept */
    const char *b =
        "{\"type\":\"bundle\",\"id\":\"bundle--1\",\"objects\":["
        "5,"
        "{\"id\":\"x\"},"
        "{\"type\":\"indicator\",\"id\":\"indicator--a\",\"pattern_type\":\"stix\"},"
        "{\"type\":\"indicator\",\"id\":\"indicator--b\",\"pattern\":\"[x\",\"pattern_type\":\"stix\"},"
        "{\"type\":\"indicator\",\"id\":\"indicator--c\",\"pattern\":\"rule x {}\",\"pattern_type\":\"yara\"},"
        "{\"type\":\"indicator\",\"id\":\"indicator--d\",\"pattern\":\"[domain-name:value = 'exa mple']\",\"pattern_type\":\"stix\",\"valid_from\":\"2020-01-01T00:00:00Z\"},"
        "{\"type\":\"indicator\",\"id\":\"indicator--e\",\"pattern\":\"[domain-name:value = 'ok.example']\",\"pattern_type\":\"stix\",\"valid_from\":\"2020-01-01T00:00:00Z\",\"confidence\":150},"
        "{\"type\":\"indicator\",\"id\":\"indicator--f\",\"pattern\":\"[domain-name:value = 'ok.example']\",\"pattern_type\":\"stix\",\"valid_from\":\"not a time\"},"
        "{\"type\":\"indicator\",\"id\":\"indicator--12345678-1234-4234-8234-123456789012\",\"pattern\":\"[domain-name:value = 'Good.Example.']\",\"pattern_type\":\"stix\",\"valid_from\":\"2020-01-01T00:00:00Z\",\"confidence\":70}"
        "]}";
    r.n = 0;
    memset(&st, 0, sizeof st);
    CHECK_EQ_INT(import_str(cw_ioc_import_stix, b, &l, &st, &r), 0);
    CHECK_EQ_INT(st.objects, 9);
    CHECK_EQ_INT(st.rejected, 8);
    CHECK_EQ_INT(st.accepted, 1);
    CHECK(strstr(r.all, "object 1: not a JSON object") != NULL);
    CHECK(strstr(r.all, "object 2 (x): no type") != NULL);
    CHECK(strstr(r.all, "without a pattern") != NULL);
    CHECK(strstr(r.all, "syntax") != NULL);
    CHECK(strstr(r.all, "yara") != NULL);
    CHECK(strstr(r.all, "object 6 (indicator--d): domain exa mple") != NULL);
    CHECK(strstr(r.all, "confidence") != NULL);
    CHECK(strstr(r.all, "valid_from") != NULL);
    const struct cw_ioc_item *it = cw_ioc_list_find(&l, CW_IOC_DOMAIN, "good.example");
    CHECK(it && it->confidence == 70 &&
          strcmp(it->id, "indicator--12345678-1234-4234-8234-123456789012") == 0);
    cw_ioc_list_release(&l);
}

/* A set of items covering every type, with internal fields that must never leave. */
static const char *labels1[] = {"apt-x", "phishing"};
static struct cw_ioc_item sample_items[] = {
    {CW_IOC_DOMAIN, CW_TLP_GREEN, 80, "evil.example", NULL, "C2 domain", labels1, 2,
     1700000000123456, 1700000500000000, 1900000000000000, 0, NULL, 7, "alice@member.example",
     "INTERNAL-NOTE"},
    {CW_IOC_HOSTNAME, CW_TLP_AMBER, 60, "login.bank.example", NULL, NULL, NULL, 0, 0, 0, 0, 0,
     NULL, 7, "alice@member.example", "INTERNAL-NOTE"},
    {CW_IOC_URL, CW_TLP_CLEAR, -1, "http://evil.example/a?b=1", NULL, "it's \"quoted\", too",
     NULL, 0, 1600000000000000, 0, 0, 0, NULL, 0, NULL, NULL},
    {CW_IOC_IPV4, CW_TLP_RED, 90, "192.0.2.7", NULL, NULL, NULL, 0, 0, 0, 0, 0, NULL, 9,
     "bob@other.example", "INTERNAL-NOTE"},
    {CW_IOC_IPV6, CW_TLP_AMBER_STRICT, 50, "2001:db8::7", NULL, NULL, NULL, 0, 0, 0, 0, 0, NULL,
     0, NULL, NULL},
    {CW_IOC_CIDR, CW_TLP_GREEN, 40, "198.51.100.0/24", NULL, NULL, NULL, 0, 0, 0, 0, 0, NULL, 0,
     NULL, NULL},
    {CW_IOC_CIDR, CW_TLP_GREEN, 40, "2001:db8:0:0:1::/80", NULL, NULL, NULL, 0, 0, 0, 0, 0, NULL,
     0, NULL, NULL},
    {CW_IOC_EMAIL, CW_TLP_GREEN, 40, "ceo@evil.example", NULL, NULL, NULL, 0, 0, 0, 0, 0, NULL,
     0, NULL, NULL},
    {CW_IOC_MD5, CW_TLP_GREEN, 40, "001dd76872d80801692ff942308c64e6", NULL, NULL, NULL, 0, 0,
     0, 0, 0, NULL, 0, NULL, NULL},
    {CW_IOC_SHA1, CW_TLP_GREEN, 40, "68064fc152e23d56e541714af52651cb4ba81aaf", NULL, NULL, NULL,
     0, 0, 0, 0, 0, NULL, 0, NULL, NULL},
    {CW_IOC_SHA256, CW_TLP_GREEN, 40,
     "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c", NULL, NULL, NULL, 0, 0,
     0, 0, 0, NULL, 0, NULL, NULL},
    {CW_IOC_JA3, CW_TLP_GREEN, 40, "e7d705a3286e19ea42f587b344ee6865", NULL, NULL, NULL, 0, 0, 0,
     0, 0, NULL, 0, NULL, NULL},
    {CW_IOC_USER_AGENT, CW_TLP_GREEN, 40, "Mozilla/5.0 (evil 'bot')", NULL, NULL, NULL, 0, 0, 0,
     0, 0, NULL, 0, NULL, NULL},
};
#define NSAMPLE (sizeof sample_items / sizeof *sample_items)

static void no_internal(const struct cw_buf *b, const char *what)
{
    bool leak = b->data && (strstr(b->data, "alice@member.example") ||
                            strstr(b->data, "bob@other.example") ||
                            strstr(b->data, "INTERNAL-NOTE"));
    if (leak)
        fprintf(stderr, "%s export leaks an internal field\n", what);
    CHECK(!leak);
}

/* Items of list l equal the sample (the fields the format carries). */
static void same_items(const struct cw_ioc_list *l, bool confidence, bool valid_until,
                       bool types_all, const char *what)
{
    size_t found = 0;
    for (size_t i = 0; i < NSAMPLE; i++) {
        const struct cw_ioc_item *s = &sample_items[i];
        const struct cw_ioc_item *it = cw_ioc_list_find(l, s->type, s->value);
        if (!it) {
            if (types_all || (s->type != CW_IOC_JA4))
                fprintf(stderr, "%s: %s %s missing\n", what, cw_ioc_type_name(s->type), s->value);
            continue;
        }
        found++;
        char id[CW_IOC_ID_MAX];
        cw_ioc_item_id(s->type, s->value, id);
        CHECK_EQ_STR(it->id, id);
        CHECK_EQ_INT(it->tlp, s->tlp);
        if (confidence)
            CHECK_EQ_INT(it->confidence, s->confidence);
        if (valid_until)
            CHECK_EQ_INT(it->valid_until_us, s->valid_until_us);
        if (s->first_seen_us)
            CHECK_EQ_INT(it->first_seen_us, s->first_seen_us);
        if (s->description)
            CHECK(it->description && strcmp(it->description, s->description) == 0);
        if (s->nlabels) {
            CHECK_EQ_INT(it->nlabels, s->nlabels);
            for (size_t k = 0; k < s->nlabels && k < it->nlabels; k++)
                CHECK_EQ_STR(it->labels[k], s->labels[k]);
        }
        CHECK(it->submitter == NULL && it->note == NULL && it->member_id == 0);
    }
    CHECK_EQ_INT(found, NSAMPLE);
    CHECK_EQ_INT(l->n, NSAMPLE);
}

static void test_roundtrips(void)
{
    struct cw_ioc_export_opts eo = {.producer_name = "National CERT", .now_us = 1750000000000000,
                                    .rpz_origin = "rpz.cert.example"};
    struct cw_buf b = CW_BUF_INIT;
    struct cw_ioc_list l;
    struct cw_ioc_import_stats st = {0};
    struct rej r = {0};

    /* STIX */
    CHECK_EQ_INT(cw_ioc_export_stix(sample_items, NSAMPLE, &eo, &b), 0);
    no_internal(&b, "stix");
    CHECK(strstr(b.data, "\"name\":\"National CERT\"") != NULL);
    CHECK(strstr(b.data, "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1") != NULL);
    CHECK(strstr(b.data, "\"tlp_2_0\":\"amber+strict\"") != NULL);
    cw_ioc_list_init(&l);
    CHECK_EQ_INT(import_str(cw_ioc_import_stix, b.data, &l, &st, &r), 0);
    CHECK_EQ_INT(st.rejected, 0);
    same_items(&l, true, true, true, "stix");
    cw_ioc_list_release(&l);

    /* MISP event (no confidence, no expiry in MISP) */
    cw_buf_clear(&b);
    CHECK_EQ_INT(cw_ioc_export_misp(sample_items, NSAMPLE, &eo, &b), 0);
    no_internal(&b, "misp");
    CHECK(strstr(b.data, "{\"name\":\"tlp:red\"}") != NULL);
    cw_ioc_list_init(&l);
    memset(&st, 0, sizeof st);
    CHECK_EQ_INT(import_str(cw_ioc_import_misp, b.data, &l, &st, &r), 0);
    CHECK_EQ_INT(st.rejected, 0);
    same_items(&l, false, false, true, "misp");
    cw_ioc_list_release(&l);

    /* CSV */
    cw_buf_clear(&b);
    CHECK_EQ_INT(cw_ioc_export_csv(sample_items, NSAMPLE, &eo, &b), 0);
    no_internal(&b, "csv");
    cw_ioc_list_init(&l);
    memset(&st, 0, sizeof st);
    CHECK_EQ_INT(import_str(cw_ioc_import_csv, b.data, &l, &st, &r), 0);
    CHECK_EQ_INT(st.rejected, 0);
    same_items(&l, true, true, true, "csv");
    cw_ioc_list_release(&l);

    /* manifest + hashes.csv */
    cw_buf_clear(&b);
    CHECK_EQ_INT(cw_ioc_export_misp_manifest(sample_items, NSAMPLE, &eo, &b), 0);
    no_internal(&b, "manifest");
    char uuid[37];
    cw_misp_event_uuid(&eo, uuid);
    CHECK(strstr(b.data, uuid) == b.data + 2);
    CHECK(strstr(b.data, "\"Tag\":[{\"name\":\"tlp:red\"}]") != NULL);
    cw_buf_clear(&b);
    CHECK_EQ_INT(cw_ioc_export_misp_hashes(sample_items, NSAMPLE, &eo, &b), 0);
    /* md5("evil.example") computed independently (coreutils md5sum) */
    char line[80];
    snprintf(line, sizeof line, "96119eb3210daa472225fbad69fa9770,%s\n", uuid);
    CHECK(strstr(b.data, line) != NULL);

    /* plain */
    cw_buf_clear(&b);
    CHECK_EQ_INT(cw_ioc_export_plain(sample_items, NSAMPLE, CW_IOC_DOMAIN, &b), 0);
    CHECK_EQ_STR(b.data, "evil.example\n");
    cw_buf_release(&b);
}

/* -- MISP ---------------------------------------------------------------------- */

static void test_misp_events(void)
{
    struct cw_ioc_list l;
    struct cw_ioc_import_stats st = {0};
    struct rej r = {0};
    cw_ioc_list_init(&l);
    /* existing_event.json: to_ids attributes of indicator types: 7 domains, and in
     * objects 12 domains, 12 ip-dst, 37 sha1 = 68, of which 2 repeat a value */
    CHECK_EQ_INT(import_file(cw_ioc_import_misp, "data/misp/events/existing_event.json", &l, &st,
                             &r), 0);
    CHECK_EQ_INT(st.objects, 122);
    CHECK_EQ_INT(st.accepted + st.duplicates, 68);
    CHECK_EQ_INT(st.duplicates, 2);
    CHECK_EQ_INT(st.rejected, 0);
    const struct cw_ioc_item *it = cw_ioc_list_find(&l, CW_IOC_DOMAIN, "movieultimate.com");
    CHECK(it != NULL);
    if (it) {
        CHECK_EQ_INT(it->tlp, CW_TLP_CLEAR); /* event tag tlp:white */
        CHECK_EQ_STR(it->source_name, "CIRCL");
    }
    /* malware_exist.json: a search response; md5, sha1, sha256 with to_ids */
    memset(&st, 0, sizeof st);
    CHECK_EQ_INT(import_file(cw_ioc_import_misp, "data/misp/events/malware_exist.json", &l, &st,
                             &r), 0);
    CHECK_EQ_INT(st.accepted, 3);
    CHECK(cw_ioc_list_find(&l, CW_IOC_MD5, "7637beddacbeac59d44469b2b120b9e6") != NULL);
    /* def_param.json: whois object, domain + one of two hostnames with to_ids */
    memset(&st, 0, sizeof st);
    CHECK_EQ_INT(import_file(cw_ioc_import_misp, "data/misp/events/def_param.json", &l, &st, &r),
                 0);
    CHECK_EQ_INT(st.accepted, 2);
    CHECK(cw_ioc_list_find(&l, CW_IOC_HOSTNAME, "ns2.example.com") != NULL);
    CHECK(cw_ioc_list_find(&l, CW_IOC_HOSTNAME, "ns1.example.com") == NULL);
    /* attribute_del.json: the only attribute is deleted */
    memset(&st, 0, sizeof st);
    CHECK_EQ_INT(import_file(cw_ioc_import_misp, "data/misp/events/attribute_del.json", &l, &st,
                             &r), 0);
    CHECK_EQ_INT(st.skipped, 1);
    CHECK_EQ_INT(st.accepted, 0);
    /* galaxy.json is not an event */
    memset(&st, 0, sizeof st);
    CHECK_EQ_INT(import_file(cw_ioc_import_misp, "data/misp/events/galaxy.json", &l, &st, &r), -1);
    CHECK_EQ_INT(st.rejected, 1);
    cw_ioc_list_release(&l);

    /* composite types, per-attribute TLP, bad values next to good ones */
    const char *ev =
        "{\"Event\":{\"info\":\"t\",\"Tag\":[{\"name\":\"tlp:amber\"}],\"Attribute\":["
        "{\"type\":\"domain|ip\",\"value\":\"a.example|192.0.2.9\",\"to_ids\":true},"
        "{\"type\":\"ip-dst|port\",\"value\":\"192.0.2.10|443\",\"to_ids\":true},"
        "{\"type\":\"filename|sha256\",\"value\":\"x.exe|ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c\",\"to_ids\":true},"
        "{\"type\":\"ip-src\",\"value\":\"999.1.1.1\",\"to_ids\":true},"
        "{\"type\":\"md5\",\"value\":\"abc\",\"to_ids\":true},"
        "{\"type\":\"url\",\"value\":\"hxxp://b[.]example/x\",\"to_ids\":true,\"Tag\":[{\"name\":\"tlp:red\"}]},"
        "{\"type\":\"domain|ip\",\"value\":\"nobar\",\"to_ids\":true},"
        "{\"type\":\"domain\",\"value\":5},"
        "{\"type\":\"text\",\"value\":\"hello\",\"to_ids\":true}"
        "]}}";
    cw_ioc_list_init(&l);
    memset(&st, 0, sizeof st);
    r.n = 0;
    r.all[0] = '\0';
    CHECK_EQ_INT(import_str(cw_ioc_import_misp, ev, &l, &st, &r), 0);
    CHECK_EQ_INT(st.accepted, 5);
    CHECK_EQ_INT(st.rejected, 4);
    CHECK_EQ_INT(st.skipped, 1);
    CHECK(cw_ioc_list_find(&l, CW_IOC_IPV4, "192.0.2.9") != NULL);
    CHECK(cw_ioc_list_find(&l, CW_IOC_IPV4, "192.0.2.10") != NULL);
    it = cw_ioc_list_find(&l, CW_IOC_URL, "http://b.example/x");
    CHECK(it && it->tlp == CW_TLP_RED);
    it = cw_ioc_list_find(&l, CW_IOC_DOMAIN, "a.example");
    CHECK(it && it->tlp == CW_TLP_AMBER);
    CHECK(strstr(r.all, "Attribute 4") && strstr(r.all, "999.1.1.1"));
    CHECK(strstr(r.all, "no '|'") != NULL);
    CHECK(strstr(r.all, "no string value") != NULL);
    cw_ioc_list_release(&l);
}

/* -- CSV and plain ------------------------------------------------------------------ */

static void test_csv_plain(void)
{
    struct cw_ioc_list l;
    struct cw_ioc_import_stats st = {0};
    struct rej r = {0};
    const char *csv = "\xef\xbb\xbfValue,Type,TLP,confidence,comment\r\n"
                      "evil.example,domain,amber,80,x\r\n"
                      "\"http://a.example/x,y\",url,,,\"multi\nline\"\r\n"
                      "192.0.2.1,,red,,\r\n"
                      "bad..example,domain,,,\r\n"
                      "x.example,nosuchtype,,,\r\n"
                      "y.example,domain,purple,,\r\n"
                      "z.example,domain,,101,\r\n"
                      "\"broken\"x,domain,,,\r\n"
                      "\r\n"
                      "EVIL.example.,domain,green,90,\r\n";
    cw_ioc_list_init(&l);
    CHECK_EQ_INT(import_str(cw_ioc_import_csv, csv, &l, &st, &r), 0);
    CHECK_EQ_INT(st.objects, 9);
    CHECK_EQ_INT(st.accepted, 3);
    CHECK_EQ_INT(st.duplicates, 1);
    CHECK_EQ_INT(st.rejected, 5);
    CHECK(strstr(r.all, "line 6: domain bad..example") != NULL);
    CHECK(strstr(r.all, "line 7: unknown type nosuchtype") != NULL);
    CHECK(strstr(r.all, "line 8: unknown TLP purple") != NULL);
    CHECK(strstr(r.all, "line 9: confidence") != NULL);
    CHECK(strstr(r.all, "line 10: text after a closing quote") != NULL);
    const struct cw_ioc_item *it = cw_ioc_list_find(&l, CW_IOC_DOMAIN, "evil.example");
    CHECK(it && it->tlp == CW_TLP_AMBER && it->confidence == 90); /* merged */
    CHECK(cw_ioc_list_find(&l, CW_IOC_URL, "http://a.example/x,y") != NULL);
    it = cw_ioc_list_find(&l, CW_IOC_IPV4, "192.0.2.1");
    CHECK(it && it->tlp == CW_TLP_RED);
    cw_ioc_list_release(&l);

    /* no value column: the whole input is refused */
    cw_ioc_list_init(&l);
    memset(&st, 0, sizeof st);
    CHECK_EQ_INT(import_str(cw_ioc_import_csv, "a,b\n1,2\n", &l, &st, &r), -1);
    /* unterminated quote: rows before it are kept */
    memset(&st, 0, sizeof st);
    CHECK_EQ_INT(import_str(cw_ioc_import_csv, "value\nok.example\n\"never closed\n", &l, &st, &r),
                 0);
    CHECK_EQ_INT(st.accepted, 1);
    CHECK_EQ_INT(st.rejected, 1);
    cw_ioc_list_release(&l);

    const char *plain = "# a list\n"
                        "evil.example\n"
                        "  192.0.2.44   # a comment\n"
                        "0.0.0.0 hosts.example\n"
                        "; also a comment\n"
                        "hxxp://defanged[.]example/p\n"
                        "not a value at all\n"
                        "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c";
    cw_ioc_list_init(&l);
    memset(&st, 0, sizeof st);
    CHECK_EQ_INT(import_str(cw_ioc_import_plain, plain, &l, &st, &r), 0);
    CHECK_EQ_INT(st.accepted, 5);
    CHECK_EQ_INT(st.rejected, 1);
    CHECK(cw_ioc_list_find(&l, CW_IOC_IPV4, "192.0.2.44") != NULL);
    CHECK(cw_ioc_list_find(&l, CW_IOC_DOMAIN, "hosts.example") != NULL);
    CHECK(cw_ioc_list_find(&l, CW_IOC_URL, "http://defanged.example/p") != NULL);
    CHECK(cw_ioc_list_find(&l, CW_IOC_SHA256,
                           "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c") != NULL);
    cw_ioc_list_release(&l);

    /* expiry: valid_until in the past is dropped when now is given */
    struct cw_ioc_import_opts o = {.default_confidence = -1, .now_us = 1750000000000000};
    cw_ioc_list_init(&l);
    memset(&st, 0, sizeof st);
    const char *ex = "value,valid_until\nold.example,2020-01-01T00:00:00Z\nnew.example,2030-01-01T00:00:00Z\n";
    CHECK_EQ_INT(cw_ioc_import_csv(ex, strlen(ex), &o, &l, &st), 0);
    CHECK_EQ_INT(st.expired, 1);
    CHECK_EQ_INT(st.accepted, 1);
    CHECK(cw_ioc_list_find(&l, CW_IOC_DOMAIN, "new.example") != NULL);
    cw_ioc_list_release(&l);
}

/* -- RPZ ------------------------------------------------------------------------ */

static void rpz_err(void *ctx, const char *file, unsigned line, const char *reason)
{
    fprintf(stderr, "rpz %s:%u: %s\n", file, line, reason);
    (*(int *)ctx)++;
}

static bool qname_hit(const struct cw_rpz_zone *z, const char *name, bool *wild)
{
    uint8_t w[CW_DNS_NAME_MAX];
    size_t wl;
    if (cw_dns_name_from_text(name, strlen(name), w, &wl))
        return false;
    struct cw_rpz_match m;
    bool hit = cw_rpz_zone_lookup_qname(z, w, wl, &m);
    if (hit && wild)
        *wild = m.wildcard;
    return hit && m.action == CW_RPZ_ACT_NXDOMAIN;
}

static int ip_hit(const struct cw_rpz_zone *z, int fam, const char *text)
{
    struct cw_rpz_addr a = {.family = (uint8_t)fam};
    if (inet_pton(fam == 4 ? AF_INET : AF_INET6, text, a.addr) != 1)
        return -1;
    struct cw_rpz_match m;
    if (!cw_rpz_zone_lookup_ip(z, CW_RPZ_TRIG_IP, &a, &m))
        return -1;
    return m.prefix;
}

static void test_rpz(void)
{
    struct cw_ioc_export_opts eo = {.rpz_origin = "rpz.cert.example", .rpz_serial = 42};
    struct cw_buf b = CW_BUF_INIT;
    int left = cw_ioc_export_rpz(sample_items, NSAMPLE, &eo, &b);
    /* url, email, md5, sha1, sha256, ja3, user-agent have no RPZ form */
    CHECK_EQ_INT(left, 7);
    no_internal(&b, "rpz");
    int errs = 0;
    struct cw_rpz_load_opts lo = {.on_error = rpz_err, .ctx = &errs};
    struct cw_rpz_stats st;
    char err[200];
    struct cw_rpz_zone *z = cw_rpz_zone_load_mem(b.data, b.len, "export", &lo, &st, err, sizeof err);
    CHECK(z != NULL);
    CHECK_EQ_INT(errs, 0);
    if (z) {
        /* domain: the name and below; hostname: the name only */
        bool wild = true;
        CHECK(qname_hit(z, "evil.example", &wild) && !wild);
        CHECK(qname_hit(z, "a.b.evil.example", &wild) && wild);
        CHECK(qname_hit(z, "login.bank.example", NULL));
        CHECK(!qname_hit(z, "x.login.bank.example", NULL));
        CHECK(!qname_hit(z, "bank.example", NULL));
        CHECK_EQ_INT(ip_hit(z, 4, "192.0.2.7"), 32);
        CHECK_EQ_INT(ip_hit(z, 4, "192.0.2.8"), -1);
        CHECK_EQ_INT(ip_hit(z, 4, "198.51.100.200"), 24);
        CHECK_EQ_INT(ip_hit(z, 6, "2001:db8::7"), 128);
        CHECK_EQ_INT(ip_hit(z, 6, "2001:db8::1:0:0:9"), 80);
        CHECK_EQ_INT(ip_hit(z, 6, "2001:db8::2:0:0:9"), -1);
        CHECK_EQ_INT(st.rules, 7); /* evil.example counts twice: name + wildcard */
        cw_rpz_zone_free(z);
    }
    char id[CW_IOC_ID_MAX];
    cw_ioc_item_id(CW_IOC_DOMAIN, "evil.example", id);
    CHECK(strstr(b.data, id) != NULL); /* the indicator id is in the zone */
    cw_buf_release(&b);
    CHECK_EQ_INT(cw_ioc_export_rpz(sample_items, 1, &(struct cw_ioc_export_opts){0}, &b), -1);
    cw_buf_release(&b);
}

int main(void)
{
    test_patterns();
    test_ids();
    test_stix_bundles();
    test_stix_bad();
    test_roundtrips();
    test_misp_events();
    test_csv_plain();
    test_rpz();
    return cw_test_finish("test_iocfmt");
}
