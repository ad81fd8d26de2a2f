/* test_noise.c - noise removal (src/triage/noise.c): every reason on crafted records,
 * the order in which reasons win, suppression scopes and expiry, outcome codes, and
 * asset knowledge.
 *
 * Records are built with cw_batch_begin, cw_batch_set_str/int and cw_batch_commit
 * exactly as the parsers do; scanner knowledge is loaded by cw_recon_load from a
 * warninglist directory and a user-agent file written by the test (plus one check on
 * the real MISP lists when ../shared is there). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "detect/attack.h"
#include "detect/detect.h"
#include "triage/noise.h"
#include "triage/recon.h"
#include "testlib.h"

#define NOW 1750000000000000LL

static struct cw_ip ip(const char *s)
{
    struct cw_ip a;
    memset(&a, 0, sizeof(a));
    if (s && cw_ip_parse(&a, s, strlen(s)) < 0) {
        fprintf(stderr, "bad test address %s\n", s);
        abort();
    }
    return a;
}

/* One crafted record + detection. Strings are literals (records never copy). */
struct spec {
    uint32_t member;
    const char *src, *dst;
    const char *action;  /* alert.action, NULL = absent */
    int status;          /* http.status, 0 = absent */
    const char *ua;      /* http.user_agent */
    const char *host;    /* http.host */
    int cls;             /* attack class */
    const char *rule;    /* rule id, default sid:1:2000001 */
    const char *product; /* product the attack targets */
};

static void add_spec(struct cw_batch *b, struct cw_detections *ds, const struct spec *s)
{
    struct cw_record *r = cw_batch_begin(b);
    r->ts_us = NOW - 1000;
    r->member_id = s->member ? s->member : 1;
    r->kind = CW_KIND_IDS_ALERT;
    r->src = ip(s->src ? s->src : "192.0.2.200");
    r->dst = ip(s->dst ? s->dst : "10.0.0.10");
    int bad = 0;
    bad |= cw_batch_set_str(b, CW_F_ALERT_SIGNATURE, "ET TEST", 7);
    if (s->action)
        bad |= cw_batch_set_str(b, CW_F_ALERT_ACTION, s->action, strlen(s->action));
    if (s->status)
        bad |= cw_batch_set_int(b, CW_F_HTTP_STATUS, s->status);
    if (s->ua)
        bad |= cw_batch_set_str(b, CW_F_HTTP_USER_AGENT, s->ua, strlen(s->ua));
    if (s->host)
        bad |= cw_batch_set_str(b, CW_F_HTTP_HOST, s->host, strlen(s->host));
    if (bad || cw_batch_commit(b)) {
        fprintf(stderr, "cannot build record\n");
        abort();
    }
    struct cw_detection d;
    memset(&d, 0, sizeof(d));
    d.rec = b->n - 1;
    d.attack_class = (uint8_t)s->cls;
    d.severity = CW_SEV_HIGH;
    d.source = CW_DET_IDS;
    d.noise = 0x7f; /* must be overwritten */
    snprintf(d.rule_id, sizeof(d.rule_id), "%s", s->rule ? s->rule : "sid:1:2000001");
    d.rule_name = "ET TEST";
    d.rule_name_len = 7;
    if (s->product) {
        d.product = s->product;
        d.product_len = (uint16_t)strlen(s->product);
    }
    if (cw_detections_add(ds, &d)) {
        fprintf(stderr, "out of memory\n");
        abort();
    }
}

static const char *last_detail;

/* The verdict for one record (detail text in last_detail). */
static int verdict(const struct cw_noise_ctx *ctx, struct spec s)
{
    struct cw_batch b;
    struct cw_detections ds;
    cw_batch_init(&b);
    cw_detections_init(&ds);
    add_spec(&b, &ds, &s);
    const char *detail[1] = {"untouched"};
    cw_noise_classify(ctx, &b, &ds, detail);
    int v = ds.d[0].noise;
    last_detail = detail[0];
    /* without a detail array as well: same verdict */
    ds.d[0].noise = 0x7f;
    cw_noise_classify(ctx, &b, &ds, NULL);
    CHECK_EQ_INT(ds.d[0].noise, v);
    cw_detections_release(&ds);
    cw_batch_release(&b);
    return v;
}

#define V(ctx, ...) verdict((ctx), (struct spec){__VA_ARGS__})

/* -- scanner knowledge written by the test ----------------------------------------- */

static char tmpdir[256];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f)) {
        fprintf(stderr, "cannot write %s\n", path);
        abort();
    }
}

static struct cw_recon *load_recon(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/cw-test-noise-XXXXXX");
    if (!mkdtemp(tmpdir))
        abort();
    char p[512], ua[512];
    snprintf(p, sizeof(p), "%s/wl", tmpdir);
    mkdir(p, 0700);
    snprintf(p, sizeof(p), "%s/wl/test-scanning", tmpdir);
    mkdir(p, 0700);
    snprintf(p, sizeof(p), "%s/wl/test-scanning/list.json", tmpdir);
    write_file(p, "{\"name\":\"Test scanners\",\"type\":\"cidr\",\"list\":[\"198.51.100.0/24\","
                  "\"2001:db8:5ca::/48\"],\"matching_attributes\":[\"ip-src\"]}");
    /* not a scanner list (name): never used, although it covers the attacker */
    snprintf(p, sizeof(p), "%s/wl/cloud-provider", tmpdir);
    mkdir(p, 0700);
    snprintf(p, sizeof(p), "%s/wl/cloud-provider/list.json", tmpdir);
    write_file(p, "{\"name\":\"cloud\",\"type\":\"cidr\",\"list\":[\"192.0.2.0/24\"]}");
    snprintf(ua, sizeof(ua), "%s/ua.txt", tmpdir);
    write_file(ua, "# test scanners\nzgrab\nNuclei\n");
    snprintf(p, sizeof(p), "%s/wl", tmpdir);
    char err[512] = "";
    struct cw_recon *r = cw_recon_load(p, ua, err, sizeof(err));
    if (!r) {
        fprintf(stderr, "cw_recon_load: %s\n", err);
        abort();
    }
    struct cw_recon_stats st;
    cw_recon_stats(r, &st);
    CHECK_EQ_INT(st.lists, 1);
    CHECK_EQ_INT(st.ranges_v4, 1);
    CHECK_EQ_INT(st.ranges_v6, 1);
    CHECK_EQ_INT(st.user_agents, 2);
    return r;
}

static void cleanup_tmp(void)
{
    char p[512];
    const char *files[] = {"wl/test-scanning/list.json", "wl/cloud-provider/list.json",
                           "ua.txt", "wl/test-scanning", "wl/cloud-provider", "wl", ""};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", tmpdir, files[i]);
        remove(p);
    }
}

/* -- tests ------------------------------------------------------------------------ */

static void test_names(void)
{
    CHECK_EQ_STR(cw_noise_reason_name(CW_NOISE_KEPT), "kept");
    CHECK_EQ_STR(cw_noise_reason_name(CW_NOISE_SUPPRESSED), "suppressed");
    CHECK_EQ_STR(cw_noise_reason_name(CW_NOISE_BLOCKED), "blocked");
    CHECK_EQ_STR(cw_noise_reason_name(CW_NOISE_FAILED), "failed");
    CHECK_EQ_STR(cw_noise_reason_name(CW_NOISE_NOT_APPLICABLE), "not_applicable");
    CHECK_EQ_STR(cw_noise_reason_name(CW_NOISE_RECON), "recon");
    CHECK_EQ_STR(cw_noise_reason_name(CW_NOISE__COUNT), "?");
    CHECK_EQ_INT(CW_NOISE_KEPT, 0); /* d.noise == 0 means kept everywhere */
    for (int r = 0; r < CW_NOISE__COUNT; r++)
        CHECK(cw_noise_reason_doc((enum cw_noise_reason)r)[0] != '\0');
}

static void test_ip_in_net(void)
{
    struct cw_ip a = ip("203.0.113.130"), n = ip("203.0.113.128"), z = ip("0.0.0.0");
    CHECK(cw_ip_in_net(&a, &n, 25));
    CHECK(!cw_ip_in_net(&a, &n, 32));
    CHECK(cw_ip_in_net(&a, &a, 32));
    CHECK(cw_ip_in_net(&a, &z, 0));
    CHECK(!cw_ip_in_net(&a, &n, 99)); /* clamped to 32: .130 vs .128 differ */
    CHECK(cw_ip_in_net(&a, &a, 99));
    struct cw_ip b = ip("203.0.113.127");
    CHECK(!cw_ip_in_net(&b, &n, 25));
    CHECK(cw_ip_in_net(&b, &n, 24));
    struct cw_ip v6 = ip("2001:db8:8000::1"), n6 = ip("2001:db8::");
    CHECK(cw_ip_in_net(&v6, &n6, 32));
    CHECK(!cw_ip_in_net(&v6, &n6, 33));
    CHECK(!cw_ip_in_net(&a, &n6, 0)); /* families differ */
    struct cw_ip none = ip(NULL);
    CHECK(!cw_ip_in_net(&none, &none, 0));
}

static void test_kept(const struct cw_noise_ctx *ctx)
{
    CHECK_EQ_INT(V(ctx, .cls = CW_AC_SQL_INJECTION), CW_NOISE_KEPT);
    CHECK(last_detail == NULL);
    /* answers that may mean the attack worked are kept */
    static const int keep[] = {200, 201, 204, 206, 301, 302, 304, 401, 500, 502, 503, 504};
    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
        int v = V(ctx, .cls = CW_AC_SQL_INJECTION, .status = keep[i]);
        if (v != CW_NOISE_KEPT)
            fprintf(stderr, "  status %d\n", keep[i]);
        CHECK_EQ_INT(v, CW_NOISE_KEPT);
    }
    CHECK_EQ_INT(V(ctx, .cls = CW_AC_SQL_INJECTION, .action = "allowed"), CW_NOISE_KEPT);
    CHECK_EQ_INT(V(ctx, .cls = CW_AC_SQL_INJECTION, .action = "block"), CW_NOISE_KEPT);
    CHECK_EQ_INT(V(ctx, .cls = CW_AC_SQL_INJECTION, .action = "blocked!"), CW_NOISE_KEPT);
    CHECK_EQ_INT(V(ctx, .cls = CW_AC_EDGE_EXPLOIT, .ua = "Mozilla/5.0 (X11; Linux x86_64)"),
                 CW_NOISE_KEPT);
}

static void test_blocked(const struct cw_noise_ctx *ctx)
{
    CHECK_EQ_INT(V(ctx, .cls = CW_AC_SQL_INJECTION, .action = "blocked"), CW_NOISE_BLOCKED);
    CHECK_EQ_STR(last_detail, "sensor action blocked");
    CHECK_EQ_INT(V(ctx, .cls = CW_AC_MALWARE_C2, .action = "Blocked"), CW_NOISE_BLOCKED);
}

static void test_failed(const struct cw_noise_ctx *ctx)
{
    static const int fail[] = {400, 403, 404, 405, 501};
    for (size_t i = 0; i < sizeof(fail) / sizeof(fail[0]); i++) {
        CHECK_EQ_INT(V(ctx, .cls = CW_AC_PATH_TRAVERSAL, .status = fail[i]), CW_NOISE_FAILED);
        CHECK_EQ_STR(last_detail, "failure status");
    }
    static const int other4xx[] = {401, 402, 406, 408, 409, 410, 429, 499, 502};
    for (size_t i = 0; i < sizeof(other4xx) / sizeof(other4xx[0]); i++)
        CHECK_EQ_INT(V(ctx, .cls = CW_AC_PATH_TRAVERSAL, .status = other4xx[i]), CW_NOISE_KEPT);
}

static void test_not_applicable(void)
{
    struct cw_asset assets[4];
    memset(assets, 0, sizeof(assets));
    assets[0].member_id = 1;
    assets[0].addr = ip("10.0.0.10");
    snprintf(assets[0].products, sizeof(assets[0].products), "nginx, wordpress");
    assets[1].member_id = 1;
    assets[1].addr = ip("10.0.0.11");
    snprintf(assets[1].products, sizeof(assets[1].products),
             "nginx, Ivanti_Connect_Secure ,openssh");
    assets[2].member_id = 2; /* another member's asset at the same address */
    assets[2].addr = ip("10.0.0.11");
    snprintf(assets[2].products, sizeof(assets[2].products), "exchange");
    assets[3].member_id = 1; /* by host name only */
    snprintf(assets[3].host, sizeof(assets[3].host), "vpn.example.org");
    snprintf(assets[3].products, sizeof(assets[3].products), "fortios");
    struct cw_noise_ctx ctx = {NULL, assets, 4, NULL, 0, NOW};
    const char *p = "ivanti_connect_secure";
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_EDGE_EXPLOIT, .dst = "10.0.0.10", .product = p),
                 CW_NOISE_NOT_APPLICABLE);
    CHECK_EQ_STR(last_detail, "asset does not run the product");
    /* the asset runs it (case and blanks in the list do not matter) */
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_EDGE_EXPLOIT, .dst = "10.0.0.11", .product = p),
                 CW_NOISE_KEPT);
    /* a product that is a prefix or extension of a listed one is not that product */
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_EDGE_EXPLOIT, .dst = "10.0.0.11", .product = "ivanti"),
                 CW_NOISE_NOT_APPLICABLE);
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_EDGE_EXPLOIT, .dst = "10.0.0.10", .product = "nginx"),
                 CW_NOISE_KEPT);
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_EDGE_EXPLOIT, .dst = "10.0.0.10", .product = "nginx2"),
                 CW_NOISE_NOT_APPLICABLE);
    /* member 2's asset at 10.0.0.11 runs only exchange; member 1's runs ivanti */
    CHECK_EQ_INT(V(&ctx, .member = 2, .cls = CW_AC_EDGE_EXPLOIT, .dst = "10.0.0.11",
                   .product = p),
                 CW_NOISE_NOT_APPLICABLE);
    /* member 2 has no asset at 10.0.0.10: unknown target, kept */
    CHECK_EQ_INT(V(&ctx, .member = 2, .cls = CW_AC_EDGE_EXPLOIT, .dst = "10.0.0.10",
                   .product = p),
                 CW_NOISE_KEPT);
    /* unknown target: it might run the product */
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_EDGE_EXPLOIT, .dst = "10.0.0.99", .product = p),
                 CW_NOISE_KEPT);
    CHECK(last_detail == NULL);
    /* a detection for no particular product is never "not applicable" */
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_SQL_INJECTION, .dst = "10.0.0.10"), CW_NOISE_KEPT);
    /* by host name (the HTTP Host of the record), case-insensitive */
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_EDGE_EXPLOIT, .dst = "10.0.0.99", .host = "VPN.example.org",
                   .product = p),
                 CW_NOISE_NOT_APPLICABLE);
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_EDGE_EXPLOIT, .dst = "10.0.0.99", .host = "vpn.example.org",
                   .product = "fortios"),
                 CW_NOISE_KEPT);
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_EDGE_EXPLOIT, .dst = "10.0.0.99",
                   .host = "vpn.example.org.evil", .product = p),
                 CW_NOISE_KEPT);
    /* IPv6 asset */
    assets[0].addr = ip("2001:db8::10");
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_EDGE_EXPLOIT, .dst = "2001:db8::10", .product = p),
                 CW_NOISE_NOT_APPLICABLE);
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_EDGE_EXPLOIT, .dst = "2001:db8::11", .product = p),
                 CW_NOISE_KEPT);
}

static void test_recon(const struct cw_recon *r)
{
    struct cw_noise_ctx ctx = {r, NULL, 0, NULL, 0, NOW};
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_SQL_INJECTION, .src = "198.51.100.77"), CW_NOISE_RECON);
    CHECK_EQ_STR(last_detail, "test-scanning");
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_SQL_INJECTION, .src = "2001:db8:5ca:1::9"), CW_NOISE_RECON);
    CHECK_EQ_STR(last_detail, "test-scanning");
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_SQL_INJECTION, .src = "198.51.101.1"), CW_NOISE_KEPT);
    /* a list whose name does not say scanning/scanner is not scanner knowledge */
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_SQL_INJECTION, .src = "192.0.2.9"), CW_NOISE_KEPT);
    /* scanner user agents, anywhere in the header, case-insensitive */
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_COMMAND_EXEC, .ua = "Mozilla/5.0 zgrab/0.x"),
                 CW_NOISE_RECON);
    CHECK_EQ_STR(last_detail, "zgrab");
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_COMMAND_EXEC,
                   .ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) NUCLEI (projectdiscovery)"),
                 CW_NOISE_RECON);
    CHECK_EQ_STR(last_detail, "nuclei"); /* recon keeps patterns in lower case */
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_COMMAND_EXEC, .ua = "python-requests/2.31"), CW_NOISE_KEPT);
    /* the scanning class is reconnaissance by definition, with or without knowledge */
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_SCANNING), CW_NOISE_RECON);
    CHECK_EQ_STR(last_detail, "scanning class");
    struct cw_noise_ctx none = {NULL, NULL, 0, NULL, 0, NOW};
    CHECK_EQ_INT(V(&none, .cls = CW_AC_SCANNING), CW_NOISE_RECON);
    CHECK_EQ_INT(V(&none, .cls = CW_AC_SQL_INJECTION, .src = "198.51.100.77", .ua = "zgrab"),
                 CW_NOISE_KEPT);
}

static void test_recon_real(void)
{
    const char *dir = cw_test_shared("data/misp/warninglists");
    struct stat st;
    if (stat(dir, &st) != 0) {
        printf("  (no %s: real warninglist check skipped)\n", dir);
        return;
    }
    char err[512] = "";
    struct cw_recon *r = cw_recon_load(dir, NULL, err, sizeof(err));
    CHECK(r != NULL);
    if (!r) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    struct cw_noise_ctx ctx = {r, NULL, 0, NULL, 0, NOW};
    /* censys-scanning lists 162.142.125.0/24 */
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_EDGE_EXPLOIT, .src = "162.142.125.33"), CW_NOISE_RECON);
    CHECK_EQ_STR(last_detail, "censys-scanning");
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_EDGE_EXPLOIT, .src = "192.0.2.33"), CW_NOISE_KEPT);
    cw_recon_free(r);
}

static struct cw_suppression supp(uint32_t member, int cls, const char *rule, const char *net,
                                  unsigned prefix, int64_t expires)
{
    struct cw_suppression s;
    memset(&s, 0, sizeof(s));
    s.id = 1;
    s.member_id = member;
    s.attack_class = (uint8_t)cls;
    snprintf(s.rule_id, sizeof(s.rule_id), "%s", rule ? rule : "");
    if (net)
        s.net = ip(net);
    s.prefix = (uint8_t)prefix;
    s.expires_us = expires;
    return s;
}

static void test_suppressions(void)
{
    struct cw_suppression s;
    struct cw_noise_ctx ctx = {NULL, NULL, 0, &s, 1, NOW};
    /* member scope (with a class: a suppression always has a scope) */
    s = supp(2, CW_AC_XSS, NULL, NULL, 0, 0);
    CHECK_EQ_INT(V(&ctx, .member = 2, .cls = CW_AC_XSS), CW_NOISE_SUPPRESSED);
    CHECK_EQ_STR(last_detail, "analyst suppression");
    CHECK_EQ_INT(V(&ctx, .member = 1, .cls = CW_AC_XSS), CW_NOISE_KEPT);
    CHECK_EQ_INT(V(&ctx, .member = 2, .cls = CW_AC_SQL_INJECTION), CW_NOISE_KEPT);
    /* every member, one class */
    s = supp(0, CW_AC_XSS, NULL, NULL, 0, 0);
    CHECK_EQ_INT(V(&ctx, .member = 1, .cls = CW_AC_XSS), CW_NOISE_SUPPRESSED);
    CHECK_EQ_INT(V(&ctx, .member = 9, .cls = CW_AC_XSS), CW_NOISE_SUPPRESSED);
    CHECK_EQ_INT(V(&ctx, .member = 1, .cls = CW_AC_SSRF), CW_NOISE_KEPT);
    /* one rule, any class */
    s = supp(0, CW_AC__COUNT, "sid:1:2031000", NULL, 0, 0);
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_WEBSHELL, .rule = "sid:1:2031000"), CW_NOISE_SUPPRESSED);
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_OTHER, .rule = "sid:1:2031000"), CW_NOISE_SUPPRESSED);
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_WEBSHELL, .rule = "sid:1:20310001"), CW_NOISE_KEPT);
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_WEBSHELL, .rule = "sid:1:203100"), CW_NOISE_KEPT);
    /* a source CIDR */
    s = supp(0, CW_AC__COUNT, NULL, "203.0.113.0", 25, 0);
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_SQL_INJECTION, .src = "203.0.113.5"), CW_NOISE_SUPPRESSED);
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_SQL_INJECTION, .src = "203.0.113.127"),
                 CW_NOISE_SUPPRESSED);
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_SQL_INJECTION, .src = "203.0.113.128"), CW_NOISE_KEPT);
    /* the destination does not matter, only the source */
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_SQL_INJECTION, .src = "192.0.2.1", .dst = "203.0.113.5"),
                 CW_NOISE_KEPT);
    s = supp(0, CW_AC__COUNT, NULL, "2001:db8:aa::", 48, 0);
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_SQL_INJECTION, .src = "2001:db8:aa:ff::1"),
                 CW_NOISE_SUPPRESSED);
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_SQL_INJECTION, .src = "2001:db8:ab::1"), CW_NOISE_KEPT);
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_SQL_INJECTION, .src = "203.0.113.5"), CW_NOISE_KEPT);
    /* all of the scope must match */
    s = supp(3, CW_AC_CREDENTIAL, "sid:1:7", "198.18.0.0", 15, 0);
    CHECK_EQ_INT(V(&ctx, .member = 3, .cls = CW_AC_CREDENTIAL, .rule = "sid:1:7",
                   .src = "198.19.4.4"),
                 CW_NOISE_SUPPRESSED);
    CHECK_EQ_INT(V(&ctx, .member = 4, .cls = CW_AC_CREDENTIAL, .rule = "sid:1:7",
                   .src = "198.19.4.4"),
                 CW_NOISE_KEPT);
    CHECK_EQ_INT(V(&ctx, .member = 3, .cls = CW_AC_XSS, .rule = "sid:1:7", .src = "198.19.4.4"),
                 CW_NOISE_KEPT);
    CHECK_EQ_INT(V(&ctx, .member = 3, .cls = CW_AC_CREDENTIAL, .rule = "sid:1:8",
                   .src = "198.19.4.4"),
                 CW_NOISE_KEPT);
    CHECK_EQ_INT(V(&ctx, .member = 3, .cls = CW_AC_CREDENTIAL, .rule = "sid:1:7",
                   .src = "198.20.0.1"),
                 CW_NOISE_KEPT);
    /* expiry against ctx->now_us: expired at the instant it expires */
    s = supp(0, CW_AC_XSS, NULL, NULL, 0, NOW + 1);
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_XSS), CW_NOISE_SUPPRESSED);
    s.expires_us = NOW;
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_XSS), CW_NOISE_KEPT);
    s.expires_us = NOW - 3600LL * 1000000;
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_XSS), CW_NOISE_KEPT);
    s.expires_us = 0; /* never */
    CHECK_EQ_INT(V(&ctx, .cls = CW_AC_XSS), CW_NOISE_SUPPRESSED);
    /* several: an expired one does not hide a live one behind it */
    struct cw_suppression two[2] = {supp(0, CW_AC_XSS, NULL, NULL, 0, NOW - 1),
                                    supp(0, CW_AC__COUNT, NULL, "10.9.0.0", 16, NOW + 10)};
    struct cw_noise_ctx ctx2 = {NULL, NULL, 0, two, 2, NOW};
    CHECK_EQ_INT(V(&ctx2, .cls = CW_AC_XSS, .src = "10.9.8.7"), CW_NOISE_SUPPRESSED);
    CHECK_EQ_INT(V(&ctx2, .cls = CW_AC_XSS, .src = "10.8.8.7"), CW_NOISE_KEPT);
}

/* suppressed > blocked > failed > not_applicable > recon > kept, on records that
 * carry every reason and then one reason less each time */
static void test_precedence(const struct cw_recon *r)
{
    struct cw_asset a;
    memset(&a, 0, sizeof(a));
    a.member_id = 1;
    a.addr = ip("10.0.0.10");
    snprintf(a.products, sizeof(a.products), "nginx");
    struct cw_suppression s = supp(0, CW_AC_EDGE_EXPLOIT, NULL, NULL, 0, 0);
    struct cw_noise_ctx ctx = {r, &a, 1, &s, 1, NOW};
    const char *p = "citrix_adc";
    const char *scanner = "198.51.100.1";
    /* one batch, many detections: the verdicts are per detection */
    struct cw_batch b;
    struct cw_detections ds;
    cw_batch_init(&b);
    cw_detections_init(&ds);
    struct spec specs[] = {
        {.cls = CW_AC_EDGE_EXPLOIT, .src = scanner, .dst = "10.0.0.10", .action = "blocked",
         .status = 404, .ua = "zgrab", .product = p},
        {.cls = CW_AC_COMMAND_EXEC, .src = scanner, .dst = "10.0.0.10", .action = "blocked",
         .status = 404, .ua = "zgrab", .product = p},
        {.cls = CW_AC_COMMAND_EXEC, .src = scanner, .dst = "10.0.0.10", .status = 404,
         .ua = "zgrab", .product = p},
        {.cls = CW_AC_COMMAND_EXEC, .src = scanner, .dst = "10.0.0.10", .status = 200,
         .ua = "zgrab", .product = p},
        {.cls = CW_AC_COMMAND_EXEC, .src = scanner, .dst = "10.0.0.99", .status = 200,
         .ua = "zgrab", .product = p},
        {.cls = CW_AC_COMMAND_EXEC, .src = "192.0.2.1", .dst = "10.0.0.99", .status = 200,
         .ua = "zgrab", .product = p},
        {.cls = CW_AC_COMMAND_EXEC, .src = "192.0.2.1", .dst = "10.0.0.99", .status = 200,
         .product = p},
        {.cls = CW_AC_SCANNING, .src = "192.0.2.1", .dst = "10.0.0.10", .product = p},
        {.cls = CW_AC_SCANNING, .src = "192.0.2.1", .dst = "10.0.0.10", .status = 403},
    };
    const int want[] = {CW_NOISE_SUPPRESSED, CW_NOISE_BLOCKED, CW_NOISE_FAILED,
                        CW_NOISE_NOT_APPLICABLE, CW_NOISE_RECON, CW_NOISE_RECON,
                        CW_NOISE_KEPT, CW_NOISE_NOT_APPLICABLE, CW_NOISE_FAILED};
    const char *want_detail[] = {"analyst suppression", "sensor action blocked",
                                 "failure status", "asset does not run the product",
                                 "test-scanning", "zgrab", NULL,
                                 "asset does not run the product", "failure status"};
    size_t n = sizeof(specs) / sizeof(specs[0]);
    for (size_t i = 0; i < n; i++)
        add_spec(&b, &ds, &specs[i]);
    const char *detail[16];
    cw_noise_classify(&ctx, &b, &ds, detail);
    for (size_t i = 0; i < n; i++) {
        if (ds.d[i].noise != want[i])
            fprintf(stderr, "  precedence case %zu\n", i);
        CHECK_EQ_INT(ds.d[i].noise, want[i]);
        if (want_detail[i])
            CHECK_EQ_STR(detail[i], want_detail[i]);
        else
            CHECK(detail[i] == NULL);
    }
    cw_detections_release(&ds);
    cw_batch_release(&b);
}

int main(void)
{
    test_names();
    test_ip_in_net();
    struct cw_recon *r = load_recon();
    struct cw_noise_ctx ctx = {r, NULL, 0, NULL, 0, NOW};
    test_kept(&ctx);
    test_blocked(&ctx);
    test_failed(&ctx);
    test_not_applicable();
    test_recon(r);
    test_recon_real();
    test_suppressions();
    test_precedence(r);
    cw_recon_free(r);
    cleanup_tmp();
    return cw_test_finish("test_noise");
}
