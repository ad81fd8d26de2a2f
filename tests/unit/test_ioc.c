/* test_ioc.c - the indicator core: canonical forms (incl. defanged input), reasons
 * for invalid values, type guessing, TLP names, the look-up set per type and
 * against a brute-force oracle, and the guard with the real MISP warninglists. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ioc/ioc.h"
#include "ioc/ioc_radix.h" /* private to src/ioc: its direct level is tested here */
#include "ioc/iocset.h"
#include "testlib.h"

static char out[CW_IOC_VALUE_MAX], err[256];

/* Canonical form of in as type t, or NULL (reason in err). */
static const char *norm(enum cw_ioc_type t, const char *in)
{
    if (cw_ioc_normalize(t, in, strlen(in), out, sizeof(out), err, sizeof(err)) < 0)
        return NULL;
    /* every canonical value normalises to itself */
    char again[CW_IOC_VALUE_MAX];
    CHECK(cw_ioc_normalize(t, out, strlen(out), again, sizeof(again), NULL, 0) == 0);
    CHECK_EQ_STR(again, out);
    return out;
}

/* Reason for refusing in as type t ("" when accepted). */
static const char *why(enum cw_ioc_type t, const char *in)
{
    if (cw_ioc_normalize(t, in, strlen(in), out, sizeof(out), err, sizeof(err)) == 0)
        return "";
    CHECK(err[0] != '\0');
    return err;
}

static void test_names(void)
{
    CHECK_EQ_STR(norm(CW_IOC_DOMAIN, "EXAMPLE.com."), "example.com");
    CHECK_EQ_STR(norm(CW_IOC_DOMAIN, "example[.]com"), "example.com");
    CHECK_EQ_STR(norm(CW_IOC_DOMAIN, " evil(.)example{.}org\n"), "evil.example.org");
    CHECK_EQ_STR(norm(CW_IOC_DOMAIN, "evil[dot]example"), "evil.example");
    CHECK_EQ_STR(norm(CW_IOC_DOMAIN, "*.evil.example"), "evil.example");
    CHECK_EQ_STR(norm(CW_IOC_DOMAIN, "_dmarc.xn--bcher-kva.example"),
                 "_dmarc.xn--bcher-kva.example");
    CHECK_EQ_STR(norm(CW_IOC_HOSTNAME, "WWW.Evil.Example"), "www.evil.example");
    CHECK(strstr(why(CW_IOC_HOSTNAME, "*.evil.example"), "wildcard"));
    CHECK(strstr(why(CW_IOC_DOMAIN, "a..b"), "empty label"));
    CHECK(strstr(why(CW_IOC_DOMAIN, ".a.b"), "empty label"));
    CHECK(strstr(why(CW_IOC_DOMAIN, "a b.com"), "invalid character"));
    CHECK(strstr(why(CW_IOC_DOMAIN, "bücher.de"), "A-label"));
    CHECK(strstr(why(CW_IOC_DOMAIN, "1.2.3.4"), "all digits"));
    CHECK(strstr(why(CW_IOC_DOMAIN, ""), "empty"));
    CHECK(strstr(why(CW_IOC_DOMAIN, "   "), "empty"));
    char big[300];
    memset(big, 'a', 64);
    memcpy(big + 64, ".com", 5);
    CHECK(strstr(why(CW_IOC_DOMAIN, big), "63"));
    for (int i = 0; i < 4; i++) {
        memset(big + i * 64, 'a', 63);
        big[i * 64 + 63] = '.';
    }
    memcpy(big + 256, "com", 4);
    CHECK(strstr(why(CW_IOC_DOMAIN, big), "253"));
    /* defanging inside defanging is undone to the end, up to a depth */
    CHECK_EQ_STR(norm(CW_IOC_DOMAIN, "evil[[.]]example"), "evil.example");
    CHECK(strstr(why(CW_IOC_DOMAIN, "evil[[[[[[[[[[.]]]]]]]]]]example"), "nested"));
}

static void test_urls(void)
{
    CHECK_EQ_STR(norm(CW_IOC_URL, "hxxp://evil[.]example/x"), "http://evil.example/x");
    CHECK_EQ_STR(norm(CW_IOC_URL, "hXXps[:]//Evil.Example:443"), "https://evil.example/");
    CHECK_EQ_STR(norm(CW_IOC_URL, "HTTP://EVIL.example:80/A/B?Q=1#frag"),
                 "http://evil.example/A/B?Q=1");
    CHECK_EQ_STR(norm(CW_IOC_URL, "http://evil.example:8080?x"), "http://evil.example:8080/?x");
    CHECK_EQ_STR(norm(CW_IOC_URL, "fxp://files.evil.example/a"), "ftp://files.evil.example/a");
    CHECK_EQ_STR(norm(CW_IOC_URL, "http://user:pw@1.2.3.4/p"), "http://user:pw@1.2.3.4/p");
    CHECK_EQ_STR(norm(CW_IOC_URL, "http://[2001:DB8:0::1]:8443/p"),
                 "http://[2001:db8::1]:8443/p");
    CHECK_EQ_STR(norm(CW_IOC_URL, "evil.example/dl.exe"), "http://evil.example/dl.exe");
    CHECK_EQ_STR(norm(CW_IOC_URL, "https[://]evil.example./x"), "https://evil.example/x");
    CHECK(strstr(why(CW_IOC_URL, "http:///x"), "no host"));
    CHECK(strstr(why(CW_IOC_URL, "http://evil.example:99999/"), "port"));
    CHECK(strstr(why(CW_IOC_URL, "http://evil example/"), "white space"));
    CHECK(strstr(why(CW_IOC_URL, "http://ev!l.example/"), "URL host"));
    CHECK(strstr(why(CW_IOC_URL, "http://[2001:db8::1/"), "IPv6"));
}

static void test_addresses(void)
{
    CHECK_EQ_STR(norm(CW_IOC_IPV4, "1.2.3[.]4"), "1.2.3.4");
    CHECK_EQ_STR(norm(CW_IOC_IPV4, " 10.0.0.1 "), "10.0.0.1");
    CHECK(strstr(why(CW_IOC_IPV4, "1.2.3.256"), "IPv4"));
    CHECK(strstr(why(CW_IOC_IPV4, "01.2.3.4"), "IPv4"));
    CHECK(strstr(why(CW_IOC_IPV4, "1.2.3.4/24"), "cidr"));
    CHECK(strstr(why(CW_IOC_IPV4, "::1"), "IPv4"));
    CHECK_EQ_STR(norm(CW_IOC_IPV6, "2001:0DB8:0000:0000:0000:0000:0000:0001"), "2001:db8::1");
    CHECK_EQ_STR(norm(CW_IOC_IPV6, "[2001:db8::1]"), "2001:db8::1");
    CHECK_EQ_STR(norm(CW_IOC_IPV6, "2001[:]db8[:][:]1"), "2001:db8::1");
    CHECK(strstr(why(CW_IOC_IPV6, "2001:db8::g"), "IPv6"));
    CHECK_EQ_STR(norm(CW_IOC_CIDR, "192.0.2.77/24"), "192.0.2.0/24");
    CHECK_EQ_STR(norm(CW_IOC_CIDR, "10.1.2.3/32"), "10.1.2.3/32");
    CHECK_EQ_STR(norm(CW_IOC_CIDR, "10.1.2.3"), "10.1.2.3/32");
    CHECK_EQ_STR(norm(CW_IOC_CIDR, "0.0.0.0/0"), "0.0.0.0/0");
    CHECK_EQ_STR(norm(CW_IOC_CIDR, "2001:DB8:1:2::77/33"), "2001:db8::/33");
    CHECK_EQ_STR(norm(CW_IOC_CIDR, "2001:db8::1/128"), "2001:db8::1/128");
    CHECK_EQ_STR(norm(CW_IOC_CIDR, "1.2.3[.]0/24"), "1.2.3.0/24");
    CHECK(strstr(why(CW_IOC_CIDR, "1.2.3.0/33"), "larger than 32"));
    CHECK(strstr(why(CW_IOC_CIDR, "::/129"), "larger than 128"));
    CHECK(strstr(why(CW_IOC_CIDR, "1.2.3.0/024"), "leading zeros"));
    CHECK(strstr(why(CW_IOC_CIDR, "1.2.3.0/"), "prefix"));
    CHECK(strstr(why(CW_IOC_CIDR, "evil.example/24"), "network"));
}

static void test_other_types(void)
{
    CHECK_EQ_STR(norm(CW_IOC_EMAIL, "user[@]x[.]com"), "user@x.com");
    CHECK_EQ_STR(norm(CW_IOC_EMAIL, "Mailto:John.Doe@Evil.Example"), "John.Doe@evil.example");
    CHECK_EQ_STR(norm(CW_IOC_EMAIL, "<a.b[at]evil(dot)example>"), "a.b@evil.example");
    CHECK(strstr(why(CW_IOC_EMAIL, "no-at.example"), "'@'"));
    CHECK(strstr(why(CW_IOC_EMAIL, "@evil.example"), "empty local"));
    CHECK(strstr(why(CW_IOC_EMAIL, "a b@evil.example"), "local part"));
    CHECK(strstr(why(CW_IOC_EMAIL, "a@evil..example"), "e-mail domain"));
    CHECK_EQ_STR(norm(CW_IOC_MD5, "D41D8CD98F00B204E9800998ECF8427E"),
                 "d41d8cd98f00b204e9800998ecf8427e");
    CHECK_EQ_STR(norm(CW_IOC_SHA1, " DA39A3EE5E6B4B0D3255BFEF95601890AFD80709 "),
                 "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    CHECK_EQ_STR(norm(CW_IOC_SHA256,
                      "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"),
                 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK_EQ_STR(why(CW_IOC_SHA256, "e3b0c442"), "sha256 must be 64 hex digits");
    CHECK_EQ_STR(why(CW_IOC_MD5, "g41d8cd98f00b204e9800998ecf8427e"),
                 "md5 must be 32 hex digits");
    CHECK_EQ_STR(norm(CW_IOC_JA3, "E7D705A3286E19EA42F587B344EE6865"),
                 "e7d705a3286e19ea42f587b344ee6865");
    CHECK_EQ_STR(norm(CW_IOC_JA4, "T13D1516H2_8DAAF6152771_B186095E22B6"),
                 "t13d1516h2_8daaf6152771_b186095e22b6");
    CHECK(strstr(why(CW_IOC_JA4, "t13d1516h2_8daaf6152771"), "a_b_c"));
    CHECK(strstr(why(CW_IOC_JA4, "x13d1516h2_8daaf6152771_b186095e22b6"), "a_b_c"));
    CHECK_EQ_STR(norm(CW_IOC_USER_AGENT, "  Mozilla/5.0 (evil [.] bot)\t"),
                 "Mozilla/5.0 (evil [.] bot)");
    CHECK(strstr(why(CW_IOC_USER_AGENT, "a\nb"), "line break"));
    CHECK(strstr(why(CW_IOC_USER_AGENT, " "), "empty"));
    CHECK(cw_ioc_normalize(CW_IOC_NONE, "x", 1, out, sizeof(out), err, sizeof(err)) < 0);
    CHECK(cw_ioc_normalize(CW_IOC_DOMAIN, "a\0b.com", 7, out, sizeof(out), err, sizeof(err)) < 0);
    CHECK(strstr(err, "NUL"));
    /* too small an output buffer is an error, never a truncated value */
    char tiny[8];
    CHECK(cw_ioc_normalize(CW_IOC_DOMAIN, "evil.example", 12, tiny, sizeof(tiny), err,
                           sizeof(err)) < 0);
}

static void test_refang(void)
{
    char b[128];
    const char *in = "hxxp://evil[.]example[/]x and bad(at)evil(dot)example, 1.2.3[.]4, "
                     "fxp[:]//a{.}b [://] HXXPS://c";
    size_t n = cw_ioc_refang(in, strlen(in), b, sizeof(b));
    CHECK_EQ_MEM(b, n, "http://evil.example/x and bad@evil.example, 1.2.3.4, ftp://a.b :// "
                       "https://c");
    /* "hxxp" inside a word is left alone */
    n = cw_ioc_refang("ahxxp:x", 7, b, sizeof(b));
    CHECK_EQ_MEM(b, n, "ahxxp:x");
    /* a short buffer is filled and terminated */
    n = cw_ioc_refang("abcdef", 6, b, 4);
    CHECK_EQ_MEM(b, n, "abc");
}

static void test_guess(void)
{
    struct {
        const char *v;
        enum cw_ioc_type t;
    } c[] = {
        {"hxxp://evil[.]example/x", CW_IOC_URL},
        {"evil[.]example", CW_IOC_DOMAIN},
        {"a.b.evil.example", CW_IOC_DOMAIN},
        {"1.2.3[.]4", CW_IOC_IPV4},
        {"2001:db8::1", CW_IOC_IPV6},
        {"10.0.0.0/8", CW_IOC_CIDR},
        {"2001:db8::/32", CW_IOC_CIDR},
        {"user[@]x[.]com", CW_IOC_EMAIL},
        {"d41d8cd98f00b204e9800998ecf8427e", CW_IOC_MD5},
        {"da39a3ee5e6b4b0d3255bfef95601890afd80709", CW_IOC_SHA1},
        {"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", CW_IOC_SHA256},
        {"t13d1516h2_8daaf6152771_b186095e22b6", CW_IOC_JA4},
        {"hello", CW_IOC_NONE},
        {"1.2.3.999", CW_IOC_NONE},
        {"Mozilla/5.0 (X11)", CW_IOC_NONE},
        {"", CW_IOC_NONE},
        {"a@", CW_IOC_NONE},
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        enum cw_ioc_type g = cw_ioc_guess(c[i].v, strlen(c[i].v));
        if (g != c[i].t)
            fprintf(stderr, "guess(%s) = %d, want %d\n", c[i].v, g, c[i].t);
        CHECK_EQ_INT(g, c[i].t);
    }
}

static void test_names_of_types_and_tlp(void)
{
    for (int t = CW_IOC_NONE + 1; t < CW_IOC__COUNT; t++) {
        const char *n = cw_ioc_type_name((enum cw_ioc_type)t);
        CHECK(n != NULL);
        CHECK_EQ_INT(cw_ioc_type_from_name(n), t);
    }
    CHECK_EQ_STR(cw_ioc_type_name(CW_IOC_USER_AGENT), "user-agent");
    CHECK(cw_ioc_type_name(CW_IOC_NONE) == NULL);
    CHECK(cw_ioc_type_name(CW_IOC__COUNT) == NULL);
    CHECK_EQ_INT(cw_ioc_type_from_name("Domain"), CW_IOC_NONE);
    CHECK_EQ_STR(cw_tlp_name(CW_TLP_AMBER_STRICT), "AMBER+STRICT");
    CHECK_EQ_STR(cw_tlp_name(CW_TLP_CLEAR), "CLEAR");
    CHECK(cw_tlp_name(CW_TLP__COUNT) == NULL);
    enum cw_tlp t = CW_TLP_RED;
    CHECK(cw_tlp_from_name("tlp:amber+strict", &t) == 0 && t == CW_TLP_AMBER_STRICT);
    CHECK(cw_tlp_from_name("TLP:WHITE", &t) == 0 && t == CW_TLP_CLEAR);
    CHECK(cw_tlp_from_name("green", &t) == 0 && t == CW_TLP_GREEN);
    CHECK(cw_tlp_from_name("RED", &t) == 0 && t == CW_TLP_RED);
    CHECK(cw_tlp_from_name("TLP:PURPLE", &t) < 0);
    CHECK(cw_tlp_from_name("AMBER STRICT", &t) < 0);
    CHECK(CW_TLP_CLEAR < CW_TLP_GREEN && CW_TLP_GREEN < CW_TLP_AMBER &&
          CW_TLP_AMBER < CW_TLP_AMBER_STRICT && CW_TLP_AMBER_STRICT < CW_TLP_RED);
}

/* -- the set ------------------------------------------------------------------ */

static int add(struct cw_iocset *s, enum cw_ioc_type t, const char *v, uint64_t id)
{
    return cw_iocset_add(s, t, v, strlen(v), id);
}

static uint64_t name(const struct cw_iocset *s, const char *v)
{
    return cw_iocset_match_name(s, v, strlen(v));
}

static uint64_t addr(const struct cw_iocset *s, const char *v)
{
    return cw_iocset_match_addr_text(s, v, strlen(v));
}

static uint64_t url(const struct cw_iocset *s, const char *h, const char *p)
{
    return cw_iocset_match_url(s, h, strlen(h), p, strlen(p));
}

static uint64_t exact(const struct cw_iocset *s, enum cw_ioc_type t, const char *v)
{
    return cw_iocset_match(s, t, v, strlen(v));
}

static void test_set_types(void)
{
    struct cw_iocset *s = cw_iocset_new();
    CHECK(s != NULL);
    CHECK_EQ_INT(cw_iocset_count(s), 0);
    CHECK_EQ_INT(name(s, "evil.example"), 0);
    CHECK_EQ_INT(add(s, CW_IOC_DOMAIN, "evil.example", 1), 0);
    CHECK_EQ_INT(add(s, CW_IOC_HOSTNAME, "www.good.example", 2), 0);
    CHECK_EQ_INT(add(s, CW_IOC_DOMAIN, "sub.evil.example", 3), 0);
    /* not canonical: refused */
    CHECK_EQ_INT(add(s, CW_IOC_DOMAIN, "Evil.Example", 9), -1);
    CHECK_EQ_INT(add(s, CW_IOC_DOMAIN, "evil.example.", 9), -1);
    CHECK_EQ_INT(add(s, CW_IOC_DOMAIN, "x.example", 0), -1); /* id 0 is "no match" */
    CHECK_EQ_INT(name(s, "evil.example"), 1);
    CHECK_EQ_INT(name(s, "EVIL.example."), 1);
    CHECK_EQ_INT(name(s, "a.b.evil.example"), 1);
    CHECK_EQ_INT(name(s, "x.sub.evil.example"), 3); /* the most specific domain */
    CHECK_EQ_INT(name(s, "notevil.example"), 0);
    CHECK_EQ_INT(name(s, "example"), 0);
    CHECK_EQ_INT(name(s, "www.good.example"), 2);
    CHECK_EQ_INT(name(s, "a.www.good.example"), 0); /* hostname: exact only */
    CHECK_EQ_INT(name(s, "good.example"), 0);
    CHECK_EQ_INT(name(s, ""), 0);
    CHECK_EQ_INT(name(s, "."), 0);
    /* re-adding replaces the id; count does not change */
    CHECK_EQ_INT(add(s, CW_IOC_DOMAIN, "evil.example", 11), 0);
    CHECK_EQ_INT(name(s, "evil.example"), 11);
    CHECK_EQ_INT(cw_iocset_count(s), 3);

    /* URLs: host + path as records carry them, http and https alike */
    CHECK_EQ_INT(add(s, CW_IOC_URL, "https://evil.example/dl/a.exe?x=1", 20), 0);
    CHECK_EQ_INT(add(s, CW_IOC_URL, "http://files.example:8080/", 21), 0);
    CHECK_EQ_INT(add(s, CW_IOC_URL, "http://u@[2001:db8::1]/p", 22), 0);
    CHECK_EQ_INT(url(s, "evil.example", "/dl/a.exe?x=1"), 20);
    CHECK_EQ_INT(url(s, "EVIL.example.:443", "/dl/a.exe?x=1"), 20);
    CHECK_EQ_INT(url(s, "evil.example:80", "/dl/a.exe?x=1#f"), 20);
    CHECK_EQ_INT(url(s, "evil.example", "/dl/a.exe?x=2"), 0);
    CHECK_EQ_INT(url(s, "evil.example", "/DL/a.exe?x=1"), 0); /* paths keep case */
    CHECK_EQ_INT(url(s, "files.example:8080", ""), 21);
    CHECK_EQ_INT(url(s, "files.example", "/"), 0);
    CHECK_EQ_INT(url(s, "[2001:DB8:0::1]", "/p"), 22);
    CHECK_EQ_INT(exact(s, CW_IOC_URL, "http://evil.example/dl/a.exe?x=1"), 20);

    /* addresses: exact first, then the longest prefix */
    CHECK_EQ_INT(add(s, CW_IOC_IPV4, "198.51.100.7", 30), 0);
    CHECK_EQ_INT(add(s, CW_IOC_CIDR, "198.51.100.0/24", 31), 0);
    CHECK_EQ_INT(add(s, CW_IOC_CIDR, "198.51.0.0/16", 32), 0);
    CHECK_EQ_INT(add(s, CW_IOC_CIDR, "198.51.100.128/25", 33), 0);
    CHECK_EQ_INT(add(s, CW_IOC_CIDR, "198.51.100.7/32", 34), 0);
    CHECK_EQ_INT(add(s, CW_IOC_CIDR, "198.51.100.1/24", 9), -1); /* host bits set */
    CHECK_EQ_INT(addr(s, "198.51.100.7"), 30);
    CHECK_EQ_INT(addr(s, "198.51.100.8"), 31);
    CHECK_EQ_INT(addr(s, "198.51.100.200"), 33);
    CHECK_EQ_INT(addr(s, "198.51.7.7"), 32);
    CHECK_EQ_INT(addr(s, "198.52.0.1"), 0);
    CHECK_EQ_INT(addr(s, "::ffff:198.51.100.8"), 31);
    CHECK_EQ_INT(cw_iocset_remove(s, CW_IOC_IPV4, "198.51.100.7", 12), 1);
    CHECK_EQ_INT(addr(s, "198.51.100.7"), 34);
    CHECK_EQ_INT(cw_iocset_remove(s, CW_IOC_CIDR, "198.51.100.7/32", 15), 1);
    CHECK_EQ_INT(addr(s, "198.51.100.7"), 31);
    CHECK_EQ_INT(cw_iocset_remove(s, CW_IOC_CIDR, "198.51.100.0/24", 15), 1);
    CHECK_EQ_INT(cw_iocset_remove(s, CW_IOC_CIDR, "198.51.100.0/24", 15), 0);
    CHECK_EQ_INT(addr(s, "198.51.100.7"), 32);
    CHECK_EQ_INT(addr(s, "198.51.100.129"), 33);
    uint8_t a4[4] = {198, 51, 1, 2};
    CHECK_EQ_INT(cw_iocset_match_addr(s, 4, a4), 32);
    CHECK_EQ_INT(cw_iocset_match_addr(s, 5, a4), 0);

    CHECK_EQ_INT(add(s, CW_IOC_IPV6, "2001:db8::66", 40), 0);
    CHECK_EQ_INT(add(s, CW_IOC_CIDR, "2001:db8::/32", 41), 0);
    CHECK_EQ_INT(add(s, CW_IOC_CIDR, "2001:db8:aa::/48", 42), 0);
    CHECK_EQ_INT(add(s, CW_IOC_CIDR, "2001:db8:aa:bb::/64", 43), 0);
    CHECK_EQ_INT(addr(s, "2001:DB8:0::66"), 40);
    CHECK_EQ_INT(addr(s, "[2001:db8::67]"), 41);
    CHECK_EQ_INT(addr(s, "2001:db8:aa:1::1"), 42);
    CHECK_EQ_INT(addr(s, "2001:db8:aa:bb:1:2:3:4"), 43);
    CHECK_EQ_INT(addr(s, "2001:db9::1"), 0);
    CHECK_EQ_INT(addr(s, "not an address"), 0);

    /* exact types with their case rules */
    CHECK_EQ_INT(add(s, CW_IOC_EMAIL, "John.Doe@evil.example", 50), 0);
    CHECK_EQ_INT(exact(s, CW_IOC_EMAIL, "John.Doe@EVIL.Example"), 50);
    CHECK_EQ_INT(exact(s, CW_IOC_EMAIL, "john.doe@evil.example"), 0);
    CHECK_EQ_INT(add(s, CW_IOC_MD5, "0123456789abcdef0123456789abcdef", 51), 0);
    CHECK_EQ_INT(exact(s, CW_IOC_MD5, "0123456789ABCDEF0123456789ABCDEF"), 51);
    CHECK_EQ_INT(exact(s, CW_IOC_JA3, "0123456789abcdef0123456789abcdef"), 0); /* per type */
    CHECK_EQ_INT(add(s, CW_IOC_SHA1, "0123456789abcdef0123456789abcdef01234567", 52), 0);
    CHECK_EQ_INT(exact(s, CW_IOC_SHA1, "0123456789abcdef0123456789abcdef01234567"), 52);
    CHECK_EQ_INT(add(s, CW_IOC_SHA256,
                     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 53), 0);
    CHECK_EQ_INT(exact(s, CW_IOC_SHA256,
                       "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"), 53);
    CHECK_EQ_INT(exact(s, CW_IOC_SHA256, "0123"), 0);
    CHECK_EQ_INT(add(s, CW_IOC_JA3, "e7d705a3286e19ea42f587b344ee6865", 54), 0);
    CHECK_EQ_INT(exact(s, CW_IOC_JA3, "E7D705A3286E19EA42F587B344EE6865"), 54);
    CHECK_EQ_INT(add(s, CW_IOC_JA4, "t13d1516h2_8daaf6152771_b186095e22b6", 55), 0);
    CHECK_EQ_INT(exact(s, CW_IOC_JA4, "T13D1516H2_8daaf6152771_b186095e22b6"), 55);
    CHECK_EQ_INT(add(s, CW_IOC_USER_AGENT, "EvilBot/1.0 (x)", 56), 0);
    CHECK_EQ_INT(exact(s, CW_IOC_USER_AGENT, " EvilBot/1.0 (x)\r\n"), 56);
    CHECK_EQ_INT(exact(s, CW_IOC_USER_AGENT, "evilbot/1.0 (x)"), 0);
    CHECK_EQ_INT(add(s, CW_IOC_USER_AGENT, " padded", 9), -1);

    /* names deeper than the parents a look-up prepares at once (6) */
    CHECK_EQ_INT(add(s, CW_IOC_DOMAIN, "b.c.d.e.f.g.h.i.deep.example", 60), 0);
    CHECK_EQ_INT(add(s, CW_IOC_DOMAIN, "h.i.deep.example", 61), 0);
    CHECK_EQ_INT(add(s, CW_IOC_DOMAIN, "deep.example", 62), 0);
    for (int k = 2; k <= 9; k++) { /* a domain at every label count on the way */
        char d[64];
        snprintf(d, sizeof(d), "%.*sother.example", 2 * (k - 2), "z.z.z.z.z.z.z.z.z.z");
        CHECK_EQ_INT(add(s, CW_IOC_DOMAIN, d, 70 + (uint64_t)k), 0);
    }
    CHECK_EQ_INT(name(s, "x.y.a.b.c.d.e.f.g.h.i.deep.example"), 60);
    CHECK_EQ_INT(name(s, "x.y.a.B.x.d.e.f.g.h.i.deep.example"), 61);
    CHECK_EQ_INT(name(s, "x.y.a.b.c.d.e.f.g.h.x.deep.example"), 62);
    CHECK_EQ_INT(name(s, "x.y.a.b.c.d.e.f.g.h.x.deep.examplf"), 0);
    /* more than 64 labels (label counts past 63 share one bit of the depth mask) */
    char many[200] = "", under[220];
    for (int k = 0; k < 64; k++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "m.");
    snprintf(many + strlen(many), sizeof(many) - strlen(many), "deep.example"); /* 66 */
    CHECK_EQ_INT(add(s, CW_IOC_DOMAIN, many, 63), 0);
    snprintf(under, sizeof(under), "q.r.s.t.%s", many);
    CHECK_EQ_INT(name(s, under), 63);
    CHECK_EQ_INT(name(s, many), 63);
    CHECK_EQ_INT(name(s, many + 4), 62); /* 64 labels: only deep.example */
    under[strlen(under) - 14] = 'n'; /* "...m.n.deep.example" */
    CHECK_EQ_INT(name(s, under), 62);

    /* the batch gives every value exactly the answer of the single look-up */
    char longpath[600];
    memset(longpath, 'p', sizeof(longpath) - 1);
    longpath[0] = '/';
    longpath[sizeof(longpath) - 1] = '\0';
    char longurl[700];
    snprintf(longurl, sizeof(longurl), "http://long.example%s", longpath);
    CHECK_EQ_INT(add(s, CW_IOC_URL, longurl, 57), 0);
    CHECK_EQ_INT(add(s, CW_IOC_EMAIL, "A.B@mail.example", 58), 0);
    char longmail[600]; /* longer than any e-mail indicator (64 + 1 + 253 bytes) */
    snprintf(longmail, sizeof(longmail), "%.*s@mail.example", 400, longpath + 1);
    CHECK_EQ_INT(add(s, CW_IOC_EMAIL, longmail, 59), -1);
    struct bq {
        enum cw_ioc_type t;
        const char *s, *path, *addr;
        uint64_t want;
    } bqs[] = {
        {CW_IOC_HOSTNAME, "a.b.evil.example", NULL, NULL, 11},
        {CW_IOC_DOMAIN, "X.SUB.evil.example.", NULL, NULL, 3},
        {CW_IOC_HOSTNAME, "www.good.example", NULL, NULL, 2},
        {CW_IOC_HOSTNAME, "a.www.good.example", NULL, NULL, 0},
        {CW_IOC_HOSTNAME, "x.y.a.b.c.d.e.f.g.h.i.deep.example", NULL, NULL, 60},
        {CW_IOC_HOSTNAME, "x.y.a.b.c.d.e.f.g.h.x.deep.example", NULL, NULL, 62},
        {CW_IOC_HOSTNAME, "", NULL, NULL, 0},
        {CW_IOC_URL, "evil.example:443", "/dl/a.exe?x=1", NULL, 20},
        {CW_IOC_URL, "files.example:8080", NULL, NULL, 21},
        {CW_IOC_URL, "[2001:DB8:0::1]", "/p", NULL, 22},
        {CW_IOC_URL, "LONG.example", longpath, NULL, 57},
        {CW_IOC_URL, "long.example", longpath + 1, NULL, 57}, /* "/" is added */
        {CW_IOC_URL, "long.example:8080", longpath, NULL, 0},
        {CW_IOC_IPV4, NULL, NULL, "198.51.100.7", 32}, /* /32 and /24 removed above */
        {CW_IOC_IPV4, NULL, NULL, "198.51.100.200", 33},
        {CW_IOC_IPV4, NULL, NULL, "198.52.0.1", 0},
        {CW_IOC_IPV6, NULL, NULL, "::ffff:198.51.100.200", 33},
        {CW_IOC_IPV6, NULL, NULL, "2001:db8::66", 40},
        {CW_IOC_IPV6, NULL, NULL, "2001:db8:aa:bb:1:2:3:4", 43},
        {CW_IOC_IPV6, NULL, NULL, "2001:db9::1", 0},
        {CW_IOC_CIDR, "198.51.100.0/24", NULL, NULL, 0},
        {CW_IOC_EMAIL, "John.Doe@EVIL.Example", NULL, NULL, 50},
        {CW_IOC_EMAIL, "A.B@MAIL.example.", NULL, NULL, 58},
        {CW_IOC_EMAIL, longmail, NULL, NULL, 0},
        {CW_IOC_EMAIL, "no-at.example", NULL, NULL, 0},
        {CW_IOC_MD5, " 0123456789ABCDEF0123456789ABCDEF", NULL, NULL, 51},
        {CW_IOC_JA3, "0123456789abcdef0123456789abcdef", NULL, NULL, 0},
        {CW_IOC_SHA1, "0123456789abcdef0123456789abcdef01234567", NULL, NULL, 52},
        {CW_IOC_SHA256, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
         NULL, NULL, 53},
        {CW_IOC_SHA256, "0123", NULL, NULL, 0},
        {CW_IOC_JA4, "T13D1516H2_8daaf6152771_b186095e22b6", NULL, NULL, 55},
        {CW_IOC_USER_AGENT, " EvilBot/1.0 (x)\r\n", NULL, NULL, 56},
        {CW_IOC_USER_AGENT, NULL, NULL, NULL, 0},
        {CW_IOC__COUNT, "x", NULL, NULL, 0},
    };
    enum { NBQ = sizeof(bqs) / sizeof(bqs[0]) };
    struct cw_iocset_probe pq[NBQ];
    uint64_t got[NBQ];
    for (size_t i = 0; i < NBQ; i++) {
        memset(&pq[i], 0, sizeof(pq[i]));
        pq[i].type = bqs[i].t;
        pq[i].s = bqs[i].s;
        pq[i].len = bqs[i].s ? strlen(bqs[i].s) : 0;
        pq[i].path = bqs[i].path;
        pq[i].plen = bqs[i].path ? strlen(bqs[i].path) : 0;
        if (bqs[i].addr)
            CHECK(inet_pton(bqs[i].t == CW_IOC_IPV4 ? AF_INET : AF_INET6, bqs[i].addr,
                            pq[i].addr) == 1);
    }
    cw_iocset_match_batch(s, pq, NBQ, got);
    for (size_t i = 0; i < NBQ; i++) {
        uint64_t one;
        if (bqs[i].t == CW_IOC_IPV4 || bqs[i].t == CW_IOC_IPV6)
            one = cw_iocset_match_addr(s, bqs[i].t == CW_IOC_IPV4 ? 4 : 6, pq[i].addr);
        else if (bqs[i].t == CW_IOC_URL)
            one = cw_iocset_match_url(s, pq[i].s, pq[i].len, pq[i].path, pq[i].plen);
        else if (bqs[i].t == CW_IOC_CIDR || !pq[i].s)
            one = 0;
        else
            one = cw_iocset_match(s, bqs[i].t, pq[i].s, pq[i].len);
        if (got[i] != bqs[i].want || one != bqs[i].want)
            fprintf(stderr, "batch probe %zu (%s): batch %llu, single %llu, want %llu\n", i,
                    bqs[i].s ? bqs[i].s : bqs[i].addr ? bqs[i].addr : "-",
                    (unsigned long long)got[i], (unsigned long long)one,
                    (unsigned long long)bqs[i].want);
        CHECK_EQ_INT(got[i], bqs[i].want);
        CHECK_EQ_INT(one, bqs[i].want);
    }
    cw_iocset_match_batch(s, pq, 0, got); /* nothing to do */
    cw_iocset_match_batch(NULL, pq, 2, got);
    CHECK_EQ_INT(got[0] | got[1], 0);

    size_t before = cw_iocset_count(s);
    CHECK_EQ_INT(cw_iocset_remove(s, CW_IOC_DOMAIN, "evil.example", 12), 1);
    CHECK_EQ_INT(cw_iocset_remove(s, CW_IOC_DOMAIN, "evil.example", 12), 0);
    CHECK_EQ_INT(name(s, "a.evil.example"), 0);
    CHECK_EQ_INT(name(s, "a.sub.evil.example"), 3);
    CHECK_EQ_INT(cw_iocset_remove(s, CW_IOC_URL, "http://evil.example/dl/a.exe?x=1", 32), 1);
    CHECK_EQ_INT(url(s, "evil.example", "/dl/a.exe?x=1"), 0);
    CHECK_EQ_INT(cw_iocset_count(s), before - 2);
    CHECK(cw_iocset_bytes(s) > 0);
    cw_iocset_free(s);
}

/* -- property test against a brute-force oracle --------------------------------- */

struct item {
    enum cw_ioc_type t;
    char v[80];
    uint64_t id;
    bool live;
};

static uint64_t rnd_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

static void rnd_name(char *b, size_t cap, int labels)
{
    static const char *const tld[] = {"com", "net", "example", "org"};
    size_t n = 0;
    for (int l = 0; l < labels - 1; l++) {
        int len = 1 + (int)(rnd() % 3); /* short labels: many shared parents */
        for (int i = 0; i < len; i++)
            b[n++] = "abcxyz0"[rnd() % 7];
        b[n++] = '.';
    }
    n += (size_t)snprintf(b + n, cap - n, "%s", tld[rnd() % 4]);
}

/* The oracle: longest domain suffix / exact hostname; longest containing prefix. */
static uint64_t oracle_name(const struct item *it, size_t n, const char *q)
{
    for (size_t i = 0; i < n; i++)
        if (it[i].live && it[i].t == CW_IOC_HOSTNAME && strcmp(it[i].v, q) == 0)
            return it[i].id;
    size_t ql = strlen(q), best_len = 0;
    uint64_t best = 0;
    for (size_t i = 0; i < n; i++) {
        if (!it[i].live || it[i].t != CW_IOC_DOMAIN)
            continue;
        size_t l = strlen(it[i].v);
        if (l > ql || strcmp(q + ql - l, it[i].v) != 0 || (l < ql && q[ql - l - 1] != '.'))
            continue;
        if (l > best_len)
            best_len = l, best = it[i].id;
    }
    return best;
}

static uint64_t oracle_addr(const struct item *it, size_t n, const uint8_t *a)
{
    char txt[64];
    inet_ntop(AF_INET, a, txt, sizeof(txt));
    for (size_t i = 0; i < n; i++)
        if (it[i].live && it[i].t == CW_IOC_IPV4 && strcmp(it[i].v, txt) == 0)
            return it[i].id;
    uint32_t x = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
    int best_p = -1;
    uint64_t best = 0;
    for (size_t i = 0; i < n; i++) {
        if (!it[i].live || it[i].t != CW_IOC_CIDR)
            continue;
        uint8_t b[16];
        unsigned p;
        cw_ioc_parse_cidr(it[i].v, strlen(it[i].v), b, &p);
        uint32_t y = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
        uint32_t m = p ? ~0u << (32 - p) : 0;
        if ((x & m) == y && (int)p > best_p)
            best_p = (int)p, best = it[i].id;
    }
    return best;
}

/* A set of drawn keys for the test's own bookkeeping (FNV-1a, linear probing). */
enum { SEEN_CAP = 1 << 18 };
static char (*seen)[84];

static int seen_insert(enum cw_ioc_type t, const char *v)
{
    char k[84];
    snprintf(k, sizeof(k), "%c%s", 'a' + (int)t, v);
    uint32_t h = 2166136261u;
    for (const char *p = k; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    for (uint32_t i = h & (SEEN_CAP - 1);; i = (i + 1) & (SEEN_CAP - 1)) {
        if (!seen[i][0]) {
            memcpy(seen[i], k, sizeof(k));
            return 1;
        }
        if (strcmp(seen[i], k) == 0)
            return 0;
    }
}

/* Q look-ups of names, addresses and exact values drawn from the history, each
 * answered by the set one at a time and in one cw_iocset_match_batch call (plus
 * every IPv4 address again as ::ffff:a.b.c.d), against the oracle. */
static void check_queries(const struct cw_iocset *s, const struct item *it, size_t nk)
{
    enum { Q = 3000 };
    static char qs[Q][96];
    static struct cw_iocset_probe pq[2 * Q];
    static uint64_t want[2 * Q], got[2 * Q];
    size_t np = 0, mism = 0;
    for (int q = 0; q < Q; q++) {
        char *buf = qs[q];
        const struct item *x = &it[rnd() % nk];
        struct cw_iocset_probe *p = &pq[np];
        memset(p, 0, sizeof(*p));
        uint64_t one;
        if (x->t == CW_IOC_DOMAIN || x->t == CW_IOC_HOSTNAME) {
            /* the name itself, a name below it, or a random name */
            int k = (int)(rnd() % 3);
            if (k == 0)
                snprintf(buf, 96, "%s", x->v);
            else if (k == 1)
                snprintf(buf, 96, "q%c.%s", "abc"[rnd() % 3], x->v);
            else
                rnd_name(buf, 96, 2 + (int)(rnd() % 4));
            want[np] = oracle_name(it, nk, buf);
            one = name(s, buf);
            p->type = CW_IOC_HOSTNAME;
            p->s = buf;
            p->len = strlen(buf);
        } else if (x->t == CW_IOC_IPV4 || x->t == CW_IOC_CIDR) {
            uint8_t a[4] = {10, (uint8_t)(rnd() % 4), (uint8_t)rnd(), (uint8_t)rnd()};
            if (x->t == CW_IOC_IPV4)
                inet_pton(AF_INET, x->v, a);
            snprintf(buf, 96, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
            want[np] = oracle_addr(it, nk, a);
            one = cw_iocset_match_addr(s, 4, a);
            p->type = CW_IOC_IPV4;
            memcpy(p->addr, a, 4);
            struct cw_iocset_probe *m = &pq[np + 1]; /* the same as IPv4-mapped IPv6 */
            memset(m, 0, sizeof(*m));
            m->type = CW_IOC_IPV6;
            m->addr[10] = m->addr[11] = 0xff;
            memcpy(m->addr + 12, a, 4);
            want[np + 1] = want[np];
        } else {
            snprintf(buf, 96, "%s", x->v);
            want[np] = x->live ? x->id : 0;
            one = exact(s, x->t, x->v);
            p->type = x->t;
            p->s = buf;
            p->len = strlen(buf);
        }
        if (want[np] != one && mism++ < 5)
            fprintf(stderr, "%s %s: set %llu oracle %llu\n", cw_ioc_type_name(x->t), buf,
                    (unsigned long long)one, (unsigned long long)want[np]);
        np += p->type == CW_IOC_IPV4 ? 2 : 1;
    }
    CHECK_EQ_INT(mism, 0);
    cw_iocset_match_batch(s, pq, np, got);
    for (size_t i = 0; i < np; i++)
        if (got[i] != want[i] && mism++ < 5)
            fprintf(stderr, "batch %zu (%s): set %llu oracle %llu\n", i,
                    cw_ioc_type_name(pq[i].type), (unsigned long long)got[i],
                    (unsigned long long)want[i]);
    CHECK_EQ_INT(mism, 0);
}

/* Replays a random history of adds and removes, keeping per key the state the
 * contract defines (an add sets the id, a remove deletes the key), in a plain
 * array searched linearly - the oracle - and compares every kind of look-up. */
static void test_set_history(void)
{
    enum { N = 100000 };
    struct item *it = calloc(N, sizeof(*it)); /* distinct keys, state per key */
    seen = calloc(SEEN_CAP, sizeof(*seen));
    struct cw_iocset *s = cw_iocset_new();
    CHECK(it && s && seen);
    if (!it || !s || !seen)
        return;
    size_t nk = 0, ops = 0;
    while (nk < N) {
        uint64_t r = rnd();
        if (nk > 0 && r % 5 == 0) { /* remove or re-add an existing key */
            struct item *x = &it[rnd() % nk];
            if (r % 2) {
                CHECK_EQ_INT(cw_iocset_remove(s, x->t, x->v, strlen(x->v)), x->live ? 1 : 0);
                x->live = false;
            } else {
                x->id = ++ops + N;
                x->live = true;
                CHECK_EQ_INT(add(s, x->t, x->v, x->id), 0);
            }
            continue;
        }
        struct item *x = &it[nk];
        switch (rnd() % 6) {
        case 0:
            x->t = CW_IOC_DOMAIN; /* one in 16 deeper than a look-up prepares at once */
            rnd_name(x->v, sizeof(x->v), 2 + (int)(rnd() % 16 ? rnd() % 3 : rnd() % 11));
            break;
        case 1:
            x->t = CW_IOC_HOSTNAME;
            rnd_name(x->v, sizeof(x->v), 2 + (int)(rnd() % 4));
            break;
        case 2:
            x->t = CW_IOC_IPV4;
            snprintf(x->v, sizeof(x->v), "10.%u.%u.%u", (unsigned)(rnd() % 4),
                     (unsigned)(rnd() % 256), (unsigned)(rnd() % 256));
            break;
        case 3: {
            x->t = CW_IOC_CIDR; /* a few shorter than /8: wide refreshes of the IPv4 index */
            unsigned p = rnd() % 64 ? 8 + (unsigned)(rnd() % 25) : (unsigned)(rnd() % 8);
            uint32_t v = 0x0A000000u | (uint32_t)(rnd() % 4) << 16 |
                         (uint32_t)(rnd() % 256) << 8 | (uint32_t)(rnd() % 256);
            v &= p ? ~0u << (32 - p) : 0;
            snprintf(x->v, sizeof(x->v), "%u.%u.%u.%u/%u", v >> 24, v >> 16 & 255,
                     v >> 8 & 255, v & 255, p);
            break;
        }
        case 4:
            x->t = CW_IOC_MD5;
            snprintf(x->v, sizeof(x->v), "%016llx%016llx", (unsigned long long)rnd(),
                     (unsigned long long)(rnd() % 3));
            break;
        default:
            x->t = CW_IOC_USER_AGENT;
            snprintf(x->v, sizeof(x->v), "bot/%u", (unsigned)(rnd() % 1000000));
            break;
        }
        /* keep keys distinct (the oracle holds one state per key): an equal key
         * already drawn is drawn again */
        if (seen_insert(x->t, x->v) == 0) {
            memset(x, 0, sizeof(*x));
            continue;
        }
        x->id = ++ops + N;
        x->live = true;
        CHECK_EQ_INT(add(s, x->t, x->v, x->id), 0);
        nk++;
        if (nk == 3000) /* a few hundred CIDRs: the IPv4 tree has no direct level yet */
            check_queries(s, it, nk);
    }
    check_queries(s, it, nk);
    size_t live = 0;
    for (size_t i = 0; i < nk; i++)
        live += it[i].live;
    CHECK_EQ_INT(cw_iocset_count(s), live);
    /* remove everything: the set is empty and answers nothing */
    for (size_t i = 0; i < nk; i++)
        if (it[i].live)
            CHECK_EQ_INT(cw_iocset_remove(s, it[i].t, it[i].v, strlen(it[i].v)), 1);
    CHECK_EQ_INT(cw_iocset_count(s), 0);
    CHECK_EQ_INT(name(s, it[0].v), 0);
    free(seen);
    free(it);
    cw_iocset_free(s);
}

/* The IPv4 prefix tree with a direct level (ioc_radix.h) against a plain list:
 * one tree indexed from the start (16 bits, then 20 mid-way), one never, under a
 * random history of inserts and removes of prefixes /0../32 packed into a few
 * /16s (so that entries hold several nodes and short prefixes cover many entries);
 * after every change, look-ups of random addresses near the change. */
static void test_radix_dir(void)
{
    enum { NP = 3000, OPS = 20000 };
    struct pfx {
        uint32_t net;
        unsigned len;
        uint64_t val;
    } *ps = calloc(NP, sizeof(*ps));
    struct cw_radix a, b;
    cw_radix_init(&a);
    cw_radix_init(&b);
    CHECK(ps != NULL);
    if (!ps)
        return;
    CHECK_EQ_INT(cw_radix_set_dir(&a, 15), -1);
    CHECK_EQ_INT(cw_radix_set_dir(&a, 16), 0);
    size_t np = 0, mism = 0;
    for (int op = 0; op < OPS; op++) {
        if (op == OPS / 2)
            CHECK_EQ_INT(cw_radix_set_dir(&a, 20), 0);
        uint32_t net;
        unsigned len;
        if (np && rnd() % 3 == 0) { /* remove a stored prefix */
            size_t i = rnd() % np;
            net = ps[i].net;
            len = ps[i].len;
            CHECK_EQ_INT(cw_radix_remove(&a, (uint64_t)net << 32, 0, len), 1);
            CHECK_EQ_INT(cw_radix_remove(&b, (uint64_t)net << 32, 0, len), 1);
            ps[i] = ps[--np];
        } else if (np < NP) {
            unsigned r = (unsigned)(rnd() % 100);
            len = r < 5 ? (unsigned)(rnd() % 8) : r < 30 ? 8 + (unsigned)(rnd() % 12)
                                                        : 20 + (unsigned)(rnd() % 13);
            net = 0x0A000000u | (uint32_t)(rnd() % 4) << 16 | (uint32_t)(rnd() & 0xffff);
            if (rnd() % 8 == 0)
                net = (uint32_t)rnd();
            net &= len ? ~0u << (32 - len) : 0;
            uint64_t val = (uint64_t)op + 1;
            size_t i = 0;
            while (i < np && !(ps[i].net == net && ps[i].len == len))
                i++;
            int added = cw_radix_insert(&a, (uint64_t)net << 32, 0, len, val);
            CHECK_EQ_INT(cw_radix_insert(&b, (uint64_t)net << 32, 0, len, val), added);
            CHECK_EQ_INT(added, i == np ? 1 : 0);
            if (i == np)
                np++;
            ps[i].net = net;
            ps[i].len = len;
            ps[i].val = val;
        } else {
            continue;
        }
        CHECK_EQ_INT(a.nvals, np);
        for (int q = 0; q < 8; q++) {
            uint32_t x = q < 4 ? net ^ (uint32_t)(rnd() >> (rnd() % 32))
                               : 0x0A000000u | (uint32_t)(rnd() & 0x3ffff);
            uint64_t want = 0;
            int best = -1;
            for (size_t i = 0; i < np; i++) {
                uint32_t m = ps[i].len ? ~0u << (32 - ps[i].len) : 0;
                if ((x & m) == ps[i].net && (int)ps[i].len > best)
                    best = (int)ps[i].len, want = ps[i].val;
            }
            uint64_t ga = cw_radix_lpm(&a, (uint64_t)x << 32, 0, 32);
            uint64_t gb = cw_radix_lpm(&b, (uint64_t)x << 32, 0, 32);
            if ((ga != want || gb != want) && mism++ < 5)
                fprintf(stderr, "op %d lpm %08x: indexed %llu, plain %llu, want %llu\n", op, x,
                        (unsigned long long)ga, (unsigned long long)gb,
                        (unsigned long long)want);
        }
    }
    CHECK_EQ_INT(mism, 0);
    CHECK(cw_radix_bytes(&a) >= ((size_t)1 << 20) * sizeof(struct cw_radix_dir));
    CHECK_EQ_INT(cw_radix_set_dir(&a, 0), 0);
    CHECK_EQ_INT(cw_radix_bytes(&a), cw_radix_bytes(&b));
    cw_radix_release(&a);
    cw_radix_release(&b);
    free(ps);
}

/* -- the guard ------------------------------------------------------------------ */

static const char *guard(const struct cw_ioc_guard *g, enum cw_ioc_type t, const char *in)
{
    static char reason[512];
    char c[CW_IOC_VALUE_MAX];
    if (cw_ioc_normalize(t, in, strlen(in), c, sizeof(c), err, sizeof(err)) < 0)
        return "(invalid)";
    const char *r = cw_ioc_guard_check(g, t, c, reason, sizeof(reason));
    return r ? r : "";
}

static void test_guard_builtin(void)
{
    char e[256];
    struct cw_ioc_guard *g = cw_ioc_guard_new(NULL, e, sizeof(e));
    CHECK(g != NULL);
    if (!g)
        return;
    CHECK_EQ_STR(guard(g, CW_IOC_DOMAIN, "com"),
                 "com is a single label (a top-level domain or a local name)");
    CHECK_EQ_STR(guard(g, CW_IOC_DOMAIN, "co.jp"), "co.jp is a public suffix");
    CHECK_EQ_STR(guard(g, CW_IOC_HOSTNAME, "github.io"), "github.io is a public suffix");
    CHECK(strstr(guard(g, CW_IOC_DOMAIN, "amazonaws.com"), "parent of public suffixes"));
    CHECK_EQ_STR(guard(g, CW_IOC_DOMAIN, "evil-login-portal.example"), "");
    CHECK_EQ_STR(guard(g, CW_IOC_HOSTNAME, "x.evil.github.io"), "");
    CHECK_EQ_STR(guard(g, CW_IOC_CIDR, "0.0.0.0/0"), "0.0.0.0/0 is wider than /8");
    CHECK_EQ_STR(guard(g, CW_IOC_CIDR, "2001::/16"), "2001::/16 is wider than /32");
    CHECK(strstr(guard(g, CW_IOC_IPV4, "0.0.0.0"), "this network"));
    CHECK(strstr(guard(g, CW_IOC_IPV4, "127.0.0.1"), "loopback"));
    CHECK(strstr(guard(g, CW_IOC_IPV4, "192.168.1.1"), "RFC 1918"));
    CHECK(strstr(guard(g, CW_IOC_IPV4, "169.254.169.254"), "link-local"));
    CHECK(strstr(guard(g, CW_IOC_IPV4, "239.1.2.3"), "multicast"));
    CHECK(strstr(guard(g, CW_IOC_IPV6, "::1"), "loopback"));
    CHECK(strstr(guard(g, CW_IOC_IPV6, "fd00::1"), "unique local"));
    CHECK(strstr(guard(g, CW_IOC_IPV6, "::ffff:10.1.1.1"), "RFC 1918"));
    CHECK_EQ_STR(guard(g, CW_IOC_IPV4, "8.8.8.8"), "8.8.8.8 is a public DNS resolver (Google)");
    CHECK_EQ_STR(guard(g, CW_IOC_CIDR, "8.8.8.0/24"),
                 "8.8.8.0/24 contains 8.8.8.8, a public DNS resolver (Google)");
    CHECK(strstr(guard(g, CW_IOC_CIDR, "10.0.0.0/8"), "RFC 1918"));
    CHECK(strstr(guard(g, CW_IOC_CIDR, "172.0.0.0/8"), "contains 172.16.0.0/12"));
    CHECK_EQ_STR(guard(g, CW_IOC_IPV4, "45.67.89.10"), "");
    CHECK_EQ_STR(guard(g, CW_IOC_CIDR, "45.67.89.0/24"), "");
    CHECK(strstr(guard(g, CW_IOC_MD5, "d41d8cd98f00b204e9800998ecf8427e"), "empty file"));
    CHECK_EQ_STR(guard(g, CW_IOC_URL, "http://evil-login-portal.example/"), "");
    CHECK(strstr(guard(g, CW_IOC_URL, "http://co.uk/"), "public suffix"));
    CHECK_EQ_STR(guard(g, CW_IOC_EMAIL, "ceo@evil-login-portal.example"), "");
    cw_ioc_guard_free(g);
}

static void test_guard_warninglists(void)
{
    const char *dir = cw_test_shared("data/misp/warninglists");
    char e[512];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct cw_ioc_guard *g = cw_ioc_guard_new(dir, e, sizeof(e));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (!g)
        fprintf(stderr, "guard: %s\n", e);
    CHECK(g != NULL);
    if (!g)
        return;
    printf("guard: all warninglists of %s loaded in %.0f ms\n", dir,
           (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    CHECK_EQ_STR(guard(g, CW_IOC_DOMAIN, "com"),
                 "com is a single label (a top-level domain or a local name)");
    CHECK_EQ_STR(guard(g, CW_IOC_DOMAIN, "co.jp"), "co.jp is a public suffix");
    CHECK_EQ_STR(guard(g, CW_IOC_CIDR, "0.0.0.0/0"), "0.0.0.0/0 is wider than /8");
    /* public-dns-v4 holds 8.8.8.8, but the built-in resolver rule answers first;
     * an address only on the list (read from the file here) names the list */
    CHECK(strstr(guard(g, CW_IOC_IPV4, "8.8.8.8"), "public DNS resolver"));
    size_t len;
    char *pd = cw_test_read_file(cw_test_shared("data/misp/warninglists/public-dns-v4/list.json"),
                                 &len);
    CHECK(pd != NULL);
    if (pd) {
        /* the 100th entry of the list, whatever it is */
        char *p = strstr(pd, "\"list\"");
        for (int k = 0; p && k < 100; k++)
            p = strchr(p + 1, '"') ? strchr(strchr(p + 1, '"') + 1, '"') : NULL;
        char ip[64] = "";
        if (p) {
            char *q = strchr(p + 1, '"');
            if (q && q - p - 1 < (long)sizeof(ip)) {
                memcpy(ip, p + 1, (size_t)(q - p - 1));
                ip[q - p - 1] = '\0';
            }
        }
        char *slash = strchr(ip, '/');
        if (slash)
            *slash = '\0';
        printf("public-dns-v4 sample entry: %s\n", ip);
        enum cw_ioc_type t = strchr(ip, ':') ? CW_IOC_IPV6 : CW_IOC_IPV4;
        const char *r = guard(g, t, ip);
        CHECK(strstr(r, "warninglist 'List of known IPv4 public DNS resolvers'") ||
              strstr(r, "a public DNS resolver") || strstr(r, "warninglist"));
        free(pd);
    }
    CHECK_EQ_STR(guard(g, CW_IOC_IPV4, "9.9.9.10"),
                 "9.9.9.10 is on the warninglist 'List of known IPv4 public DNS resolvers'");
    /* popular names: exact, a parent of listed names, below a hostname-list name */
    CHECK(strstr(guard(g, CW_IOC_DOMAIN, "google.com"), "google.com is on the warninglist"));
    CHECK(strstr(guard(g, CW_IOC_HOSTNAME, "wikipedia.org"), "is on the warninglist"));
    CHECK(strstr(guard(g, CW_IOC_HOSTNAME, "www.bankofamerica.com"),
                 "below a name on the warninglist"));
    CHECK(strstr(guard(g, CW_IOC_DOMAIN, "googleapis.com"), "googleapis.com is"));
    /* names registered by someone else below a listed or shared parent pass */
    CHECK_EQ_STR(guard(g, CW_IOC_HOSTNAME, "evil-bucket.s3.amazonaws.com"), "");
    CHECK_EQ_STR(guard(g, CW_IOC_DOMAIN, "evil.duckdns.org"), "");
    CHECK(strstr(guard(g, CW_IOC_DOMAIN, "duckdns.org"), "duckdns.org is"));
    CHECK(strstr(guard(g, CW_IOC_URL, "https://www.google.com/"), "root of a site"));
    CHECK_EQ_STR(guard(g, CW_IOC_URL, "https://raw.githubusercontent.com/x/y/dropper.ps1"), "");
    CHECK(strstr(guard(g, CW_IOC_IPV4, "192.0.2.1"), "RFC 5735"));
    /* a made-up malicious name, address and digest pass */
    CHECK_EQ_STR(guard(g, CW_IOC_DOMAIN, "secure-login-update-verify.example"), "");
    CHECK_EQ_STR(guard(g, CW_IOC_HOSTNAME, "pay.secure-login-update-verify.example"), "");
    CHECK_EQ_STR(guard(g, CW_IOC_SHA256,
                       "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"), "");
    CHECK_EQ_STR(guard(g, CW_IOC_JA3, "e7d705a3286e19ea42f587b344ee6865"), "");
    cw_ioc_guard_free(g);
    /* a folder that does not exist is an error with the path */
    g = cw_ioc_guard_new("/nonexistent/warninglists", e, sizeof(e));
    CHECK(g == NULL);
    CHECK(strstr(e, "/nonexistent/warninglists") != NULL);
}

int main(void)
{
    test_names();
    test_urls();
    test_addresses();
    test_other_types();
    test_refang();
    test_guess();
    test_names_of_types_and_tlp();
    test_set_types();
    test_set_history();
    test_radix_dir();
    test_guard_builtin();
    test_guard_warninglists();
    return cw_test_finish("test_ioc");
}
