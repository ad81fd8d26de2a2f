/* ioc.c - indicator types, TLP names, refanging, canonical forms and type guessing.
 * See ioc.h for the canonical form of each type.
 *
 * Normalisation is one function per family (names, URLs, addresses, e-mail,
 * fingerprints, user agents) over a trimmed and, for the types that get defanged,
 * refanged copy of the input. Refanging runs until nothing changes (at most
 * REFANG_PASSES times), so a canonical value never contains a defanging pattern and
 * normalising it again gives the same bytes (fuzz/fuzz_ioc_normalize.c checks that).
 *
 * Names are ASCII: letters, digits, '-' and '_' (service labels such as _dmarc),
 * labels of 1..63 bytes, at most 253 bytes in all. An internationalised name must
 * be given in its A-label form (xn--...): there is no IDNA library in the build and
 * guessing a mapping would make two spellings of one name two indicators. */
#include "ioc/ioc.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "common/banned.h"

#define REFANG_PASSES 8
#define NAME_MAX_LEN 253

/* -- names of types and markings ------------------------------------------ */

static const char *const type_names[CW_IOC__COUNT] = {
    [CW_IOC_DOMAIN] = "domain", [CW_IOC_HOSTNAME] = "hostname", [CW_IOC_URL] = "url",
    [CW_IOC_IPV4] = "ipv4",     [CW_IOC_IPV6] = "ipv6",         [CW_IOC_CIDR] = "cidr",
    [CW_IOC_EMAIL] = "email",   [CW_IOC_MD5] = "md5",           [CW_IOC_SHA1] = "sha1",
    [CW_IOC_SHA256] = "sha256", [CW_IOC_JA3] = "ja3",           [CW_IOC_JA4] = "ja4",
    [CW_IOC_USER_AGENT] = "user-agent",
};

const char *cw_ioc_type_name(enum cw_ioc_type t)
{
    return (t > CW_IOC_NONE && t < CW_IOC__COUNT) ? type_names[t] : NULL;
}

enum cw_ioc_type cw_ioc_type_from_name(const char *s)
{
    if (!s)
        return CW_IOC_NONE;
    for (int t = CW_IOC_NONE + 1; t < CW_IOC__COUNT; t++)
        if (strcmp(s, type_names[t]) == 0)
            return (enum cw_ioc_type)t;
    return CW_IOC_NONE;
}

static const char *const tlp_names[CW_TLP__COUNT] = {"CLEAR", "GREEN", "AMBER", "AMBER+STRICT",
                                                     "RED"};

const char *cw_tlp_name(enum cw_tlp t)
{
    return ((unsigned)t < CW_TLP__COUNT) ? tlp_names[t] : NULL;
}

static char lc(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool ieq(const char *a, size_t an, const char *b)
{
    size_t bn = strlen(b);
    if (an != bn)
        return false;
    for (size_t i = 0; i < an; i++)
        if (lc(a[i]) != lc(b[i]))
            return false;
    return true;
}

int cw_tlp_from_name(const char *s, enum cw_tlp *out)
{
    if (!s || !out)
        return -1;
    size_t n = strlen(s);
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n >= 4 && ieq(s, 4, "tlp:"))
        s += 4, n -= 4;
    if (ieq(s, n, "white")) { /* TLP 1.0 */
        *out = CW_TLP_CLEAR;
        return 0;
    }
    for (int t = 0; t < CW_TLP__COUNT; t++)
        if (ieq(s, n, tlp_names[t])) {
            *out = (enum cw_tlp)t;
            return 0;
        }
    return -1;
}

/* -- refanging -------------------------------------------------------------- */

struct fang {
    const char *from; /* matched ASCII case-insensitively */
    char to;          /* replacement, or 0 for the string in to_s */
    const char *to_s;
};

/* Longest patterns first where one is a prefix of another. */
static const struct fang fangs[] = {
    {"[://]", 0, "://"}, {"[dot]", '.', NULL}, {"(dot)", '.', NULL}, {"{dot}", '.', NULL},
    {"[.]", '.', NULL},  {"(.)", '.', NULL},   {"{.}", '.', NULL},   {"[:]", ':', NULL},
    {"[@]", '@', NULL},  {"[at]", '@', NULL},  {"(at)", '@', NULL},  {"[/]", '/', NULL},
};

static bool is_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool prefix_ci(const char *s, size_t n, const char *p)
{
    size_t pn = strlen(p);
    if (n < pn)
        return false;
    for (size_t i = 0; i < pn; i++)
        if (lc(s[i]) != p[i])
            return false;
    return true;
}

/* One pass; returns the output length (out is NUL-terminated when cap > 0). */
static size_t refang_pass(const char *in, size_t len, char *out, size_t cap)
{
    size_t o = 0;
#define PUT(c)                  \
    do {                        \
        if (o + 1 < cap)        \
            out[o] = (c);       \
        o++;                    \
    } while (0)
    for (size_t i = 0; i < len;) {
        const char *s = in + i;
        size_t left = len - i;
        bool word_start = i == 0 || !is_alnum(in[i - 1]);
        /* schemes: hxxp, hxxps, fxp (any case) before ':' or a defanged ':' */
        if (word_start && (s[0] == 'h' || s[0] == 'H' || s[0] == 'f' || s[0] == 'F')) {
            const char *to = NULL;
            size_t from = 0;
            if (prefix_ci(s, left, "hxxps"))
                to = "https", from = 5;
            else if (prefix_ci(s, left, "hxxp"))
                to = "http", from = 4;
            else if (prefix_ci(s, left, "fxp"))
                to = "ftp", from = 3;
            if (to && from < left && (s[from] == ':' || s[from] == '[')) {
                for (const char *t = to; *t; t++)
                    PUT(*t);
                i += from;
                continue;
            }
        }
        if (s[0] == '[' || s[0] == '(' || s[0] == '{') {
            const struct fang *hit = NULL;
            for (size_t k = 0; k < sizeof(fangs) / sizeof(fangs[0]); k++)
                if (prefix_ci(s, left, fangs[k].from)) {
                    hit = &fangs[k];
                    break;
                }
            if (hit) {
                if (hit->to)
                    PUT(hit->to);
                else
                    for (const char *t = hit->to_s; *t; t++)
                        PUT(*t);
                i += strlen(hit->from);
                continue;
            }
        }
        PUT(s[0]);
        i++;
    }
#undef PUT
    if (cap)
        out[o < cap ? o : cap - 1] = '\0';
    return o < cap ? o : (cap ? cap - 1 : 0);
}

size_t cw_ioc_refang(const char *in, size_t len, char *out, size_t cap)
{
    if (!out || !cap)
        return 0;
    if (!in)
        len = 0;
    return refang_pass(in, len, out, cap);
}

/* Refang until stable into out (cap >= len + 1). Returns the length, or -1 when it
 * does not settle (nested defanging, hostile input). */
static long refang_fix(const char *in, size_t len, char *out, size_t cap)
{
    char tmp[CW_IOC_VALUE_MAX];
    if (len >= sizeof(tmp) || len >= cap)
        return -1;
    size_t n = refang_pass(in, len, out, cap);
    for (int pass = 0; pass < REFANG_PASSES; pass++) {
        size_t m = refang_pass(out, n, tmp, sizeof(tmp));
        if (m == n && memcmp(tmp, out, n) == 0)
            return (long)n;
        memcpy(out, tmp, m + 1);
        n = m;
    }
    return -1;
}

/* -- helpers ------------------------------------------------------------------ */

static int fail(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
    return -1;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static void trim(const char **s, size_t *n)
{
    while (*n && is_space(**s))
        (*s)++, (*n)--;
    while (*n && is_space((*s)[*n - 1]))
        (*n)--;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lc(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* -- names ---------------------------------------------------------------------- */

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Validate and lower-case a host name s[0..n) into out (cap > n). One trailing dot
 * is dropped. Returns the length or -1 with the reason. */
static long norm_name(const char *s, size_t n, char *out, size_t cap, char *err,
                      size_t errlen)
{
    if (n && s[n - 1] == '.')
        n--;
    if (n == 0)
        return fail(err, errlen, "name is empty");
    if (n > NAME_MAX_LEN)
        return fail(err, errlen, "name is longer than 253 bytes");
    if (n >= cap)
        return fail(err, errlen, "value too long");
    size_t label = 0;
    bool all_numeric = true;
    for (size_t i = 0; i < n; i++) {
        char c = lc(s[i]);
        if (c == '.') {
            if (label == 0)
                return fail(err, errlen, "name has an empty label");
            label = 0;
        } else {
            if ((unsigned char)c >= 0x80)
                return fail(err, errlen,
                            "name has non-ASCII characters (give the A-label form, xn--...)");
            if (!name_char(c)) {
                if (err && errlen && c >= 0x20 && c < 0x7f)
                    snprintf(err, errlen, "name has an invalid character '%c'", c);
                else if (err && errlen)
                    snprintf(err, errlen, "name has an invalid byte 0x%02x", (unsigned char)c);
                return -1;
            }
            if (!(c >= '0' && c <= '9'))
                all_numeric = false;
            if (++label > 63)
                return fail(err, errlen, "name has a label longer than 63 bytes");
        }
        out[i] = c;
    }
    if (label == 0)
        return fail(err, errlen, "name has an empty label");
    if (all_numeric)
        return fail(err, errlen, "name is all digits (an address? use type ipv4 or cidr)");
    out[n] = '\0';
    return (long)n;
}

static int norm_domain(enum cw_ioc_type t, const char *s, size_t n, char *out, size_t cap,
                       char *err, size_t errlen)
{
    /* "*.evil.example" as a domain is evil.example: a domain already covers its
     * subdomains. A hostname is one exact name; a wildcard is not one. */
    if (n >= 2 && s[0] == '*' && s[1] == '.') {
        if (t == CW_IOC_HOSTNAME)
            return fail(err, errlen, "a hostname cannot be a wildcard (use type domain)");
        s += 2, n -= 2;
    }
    return norm_name(s, n, out, cap, err, errlen) < 0 ? -1 : 0;
}

/* -- addresses ------------------------------------------------------------------ */

/* Parse an address of either family from s[0..n). Returns 4, 6 or 0. */
static int parse_addr(const char *s, size_t n, uint8_t a[16])
{
    char tmp[64];
    if (n == 0 || n >= sizeof(tmp))
        return 0;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (memchr(tmp, ':', n))
        return inet_pton(AF_INET6, tmp, a) == 1 ? 6 : 0;
    return inet_pton(AF_INET, tmp, a) == 1 ? 4 : 0;
}

static int fmt_addr(int fam, const uint8_t *a, char *out, size_t cap, char *err, size_t errlen)
{
    char tmp[INET6_ADDRSTRLEN];
    if (!inet_ntop(fam == 4 ? AF_INET : AF_INET6, a, tmp, sizeof(tmp)))
        return fail(err, errlen, "address cannot be formatted");
    if (strlen(tmp) >= cap)
        return fail(err, errlen, "value too long");
    memcpy(out, tmp, strlen(tmp) + 1);
    return 0;
}

static int norm_ip(int fam, const char *s, size_t n, char *out, size_t cap, char *err,
                   size_t errlen)
{
    uint8_t a[16];
    if (fam == 6 && n >= 2 && s[0] == '[' && s[n - 1] == ']')
        s++, n -= 2;
    if (memchr(s, '/', n))
        return fail(err, errlen, "an address has no prefix length (use type cidr)");
    int got = parse_addr(s, n, a);
    if (got != fam)
        return fail(err, errlen,
                    fam == 4 ? "not a valid IPv4 address" : "not a valid IPv6 address");
    return fmt_addr(fam, a, out, cap, err, errlen);
}

/* Parse "addr/len" (or a bare address as a host prefix). Returns the family, with
 * host bits cleared in a, or 0 with the reason. */
static int parse_cidr(const char *s, size_t n, uint8_t a[16], unsigned *plen, char *err,
                      size_t errlen)
{
    const char *slash = memchr(s, '/', n);
    size_t an = slash ? (size_t)(slash - s) : n;
    int fam = parse_addr(s, an, a);
    if (!fam) {
        fail(err, errlen, "not a valid IPv4 or IPv6 network address");
        return 0;
    }
    unsigned max = fam == 4 ? 32 : 128;
    unsigned p = max;
    if (slash) {
        const char *d = slash + 1;
        size_t dn = n - an - 1;
        if (dn == 0 || dn > 3 || (dn > 1 && d[0] == '0')) {
            fail(err, errlen, "prefix length must be a number without leading zeros");
            return 0;
        }
        p = 0;
        for (size_t i = 0; i < dn; i++) {
            if (d[i] < '0' || d[i] > '9') {
                fail(err, errlen, "prefix length must be a number without leading zeros");
                return 0;
            }
            p = p * 10 + (unsigned)(d[i] - '0');
        }
        if (p > max) {
            fail(err, errlen, fam == 4 ? "IPv4 prefix length is larger than 32"
                                       : "IPv6 prefix length is larger than 128");
            return 0;
        }
    }
    unsigned bytes = max / 8;
    for (unsigned i = 0; i < bytes; i++) {
        unsigned lo = i * 8;
        if (lo >= p)
            a[i] = 0;
        else if (lo + 8 > p)
            a[i] &= (uint8_t)(0xFFu << (8 - (p - lo)));
    }
    *plen = p;
    return fam;
}

static int norm_cidr(const char *s, size_t n, char *out, size_t cap, char *err, size_t errlen)
{
    uint8_t a[16];
    unsigned p;
    int fam = parse_cidr(s, n, a, &p, err, errlen);
    if (!fam)
        return -1;
    char tmp[INET6_ADDRSTRLEN];
    if (fmt_addr(fam, a, tmp, sizeof(tmp), err, errlen) < 0)
        return -1;
    int w = snprintf(out, cap, "%s/%u", tmp, p);
    if (w < 0 || (size_t)w >= cap)
        return fail(err, errlen, "value too long");
    return 0;
}

int cw_ioc_parse_cidr(const char *canon, size_t len, uint8_t addr[16], unsigned *prefix)
{
    if (!canon || !addr || !prefix || !memchr(canon, '/', len))
        return 0;
    return parse_cidr(canon, len, addr, prefix, NULL, 0);
}

int cw_ioc_parse_addr(const char *text, size_t len, uint8_t addr[16])
{
    if (!text || !addr)
        return 0;
    return parse_addr(text, len, addr);
}

/* -- URLs ------------------------------------------------------------------------ */

static unsigned default_port(const char *scheme, size_t n)
{
    if (n == 4 && memcmp(scheme, "http", 4) == 0)
        return 80;
    if (n == 5 && memcmp(scheme, "https", 5) == 0)
        return 443;
    if (n == 3 && memcmp(scheme, "ftp", 3) == 0)
        return 21;
    return 0;
}

struct wbuf {
    char *p;
    size_t n, cap;
    bool over;
};

static void wput(struct wbuf *w, const char *s, size_t n)
{
    if (w->n + n >= w->cap) {
        w->over = true;
        return;
    }
    memcpy(w->p + w->n, s, n);
    w->n += n;
    w->p[w->n] = '\0';
}

/* URL without a scheme: "evil.example/x" is taken as http. */
static int norm_url(const char *s, size_t n, char *out, size_t cap, char *err, size_t errlen)
{
    const char *sep = NULL;
    for (size_t i = 0; i + 2 < n; i++)
        if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/') {
            sep = s + i;
            break;
        }
        else if (!(is_alnum(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.'))
            break;
    char scheme[16];
    size_t sn;
    const char *rest;
    if (sep) {
        sn = (size_t)(sep - s);
        if (sn == 0 || sn >= sizeof(scheme) || !((s[0] >= 'a' && s[0] <= 'z') ||
                                                 (s[0] >= 'A' && s[0] <= 'Z')))
            return fail(err, errlen, "URL has an invalid scheme");
        for (size_t i = 0; i < sn; i++)
            scheme[i] = lc(s[i]);
        rest = sep + 3;
    } else {
        memcpy(scheme, "http", 4);
        sn = 4;
        rest = s;
    }
    const char *end = s + n;
    for (const char *p = rest; p < end; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return fail(err, errlen, "URL has white space or control characters");
    /* authority up to the first '/', '?' or '#' */
    const char *ae = rest;
    while (ae < end && *ae != '/' && *ae != '?' && *ae != '#')
        ae++;
    const char *hs = rest;
    const char *at = NULL;
    for (const char *p = rest; p < ae; p++)
        if (*p == '@')
            at = p;
    if (at)
        hs = at + 1;
    /* host and port; IPv6 literal in brackets */
    const char *he, *port = NULL;
    if (hs < ae && *hs == '[') {
        const char *rb = memchr(hs, ']', (size_t)(ae - hs));
        if (!rb)
            return fail(err, errlen, "URL has an unterminated IPv6 literal");
        he = rb + 1;
        if (he < ae) {
            if (*he != ':')
                return fail(err, errlen, "URL has garbage after the IPv6 literal");
            port = he + 1;
        }
    } else {
        he = hs;
        while (he < ae && *he != ':')
            he++;
        if (he < ae)
            port = he + 1;
    }
    if (he == hs)
        return fail(err, errlen, "URL has no host");
    unsigned pv = 0;
    if (port) {
        if (port == ae || ae - port > 5)
            return fail(err, errlen, "URL has an invalid port");
        for (const char *p = port; p < ae; p++) {
            if (*p < '0' || *p > '9')
                return fail(err, errlen, "URL has an invalid port");
            pv = pv * 10 + (unsigned)(*p - '0');
        }
        if (pv == 0 || pv > 65535)
            return fail(err, errlen, "URL has an invalid port");
    }
    char host[NAME_MAX_LEN + 8];
    if (*hs == '[') {
        uint8_t a[16];
        char v6[INET6_ADDRSTRLEN];
        if (parse_addr(hs + 1, (size_t)(he - hs - 2), a) != 6 ||
            fmt_addr(6, a, v6, sizeof(v6), err, errlen) < 0)
            return fail(err, errlen, "URL has an invalid IPv6 literal");
        snprintf(host, sizeof(host), "[%s]", v6);
    } else {
        uint8_t a[16];
        size_t hn = (size_t)(he - hs);
        if (parse_addr(hs, hn, a) == 4) {
            if (fmt_addr(4, a, host, sizeof(host), err, errlen) < 0)
                return -1;
        } else {
            char why[128];
            if (norm_name(hs, hn, host, sizeof(host), why, sizeof(why)) < 0) {
                if (err && errlen)
                    snprintf(err, errlen, "URL host: %s", why);
                return -1;
            }
        }
    }
    struct wbuf w = {out, 0, cap, false};
    if (cap)
        out[0] = '\0';
    wput(&w, scheme, sn);
    wput(&w, "://", 3);
    if (at)
        wput(&w, rest, (size_t)(at - rest) + 1);
    wput(&w, host, strlen(host));
    if (port && pv != default_port(scheme, sn)) {
        char pb[8];
        int pl = snprintf(pb, sizeof(pb), ":%u", pv);
        wput(&w, pb, (size_t)pl);
    }
    /* path and query as sent; the fragment never reaches a server */
    const char *pe = memchr(ae, '#', (size_t)(end - ae));
    if (!pe)
        pe = end;
    if (ae == pe || *ae != '/')
        wput(&w, "/", 1);
    wput(&w, ae, (size_t)(pe - ae));
    if (w.over)
        return fail(err, errlen, "value too long");
    return 0;
}

/* -- e-mail, fingerprints, user agents ------------------------------------------- */

static int norm_email(const char *s, size_t n, char *out, size_t cap, char *err, size_t errlen)
{
    if (n >= 7 && ieq(s, 7, "mailto:"))
        s += 7, n -= 7;
    if (n >= 2 && s[0] == '<' && s[n - 1] == '>')
        s++, n -= 2;
    const char *at = NULL;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '@')
            at = s + i;
    if (!at)
        return fail(err, errlen, "e-mail address has no '@'");
    size_t ln = (size_t)(at - s);
    if (ln == 0)
        return fail(err, errlen, "e-mail address has an empty local part");
    if (ln > 64)
        return fail(err, errlen, "e-mail local part is longer than 64 bytes");
    /* no white space, controls or the specials that only a quoted local part may
     * hold (quoted local parts are not supported: no sender of malware uses them) */
    for (size_t i = 0; i < ln; i++)
        if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f || strchr("<>()[]\\,;:\"", s[i]))
            return fail(err, errlen,
                        "e-mail local part has white space, a control or a special character");
    if (ln + 1 >= cap)
        return fail(err, errlen, "value too long");
    memcpy(out, s, ln + 1);
    char why[128];
    if (norm_name(at + 1, n - ln - 1, out + ln + 1, cap - ln - 1, why, sizeof(why)) < 0) {
        if (err && errlen)
            snprintf(err, errlen, "e-mail domain: %s", why);
        return -1;
    }
    return 0;
}

static int norm_hex(enum cw_ioc_type t, const char *s, size_t n, char *out, size_t cap,
                    char *err, size_t errlen)
{
    size_t want = t == CW_IOC_SHA1 ? 40 : t == CW_IOC_SHA256 ? 64 : 32;
    bool hex = true;
    for (size_t i = 0; i < n; i++)
        if (hexval(s[i]) < 0)
            hex = false;
    if (n != want || !hex) {
        if (err && errlen)
            snprintf(err, errlen, "%s must be %zu hex digits", cw_ioc_type_name(t), want);
        return -1;
    }
    if (n >= cap)
        return fail(err, errlen, "value too long");
    for (size_t i = 0; i < n; i++)
        out[i] = lc(s[i]);
    out[n] = '\0';
    return 0;
}

/* JA4 (FoxIO): a_b_c, a = protocol (t/q/d), version (2), SNI (d/i), cipher count
 * (2 digits), extension count (2 digits), ALPN first+last character (2); b and c
 * are 12 hex digits (truncated SHA-256). */
static bool ja4_shape(const char *s, size_t n)
{
    if (n != 36 || s[10] != '_' || s[23] != '_')
        return false;
    char p = lc(s[0]), sni = lc(s[3]);
    if (p != 't' && p != 'q' && p != 'd')
        return false;
    if (sni != 'd' && sni != 'i')
        return false;
    for (int i = 1; i < 10; i++)
        if (!is_alnum(s[i]))
            return false;
    for (int i = 4; i < 8; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    for (int i = 11; i < 36; i++)
        if (i != 23 && hexval(s[i]) < 0)
            return false;
    return true;
}

static int norm_ja4(const char *s, size_t n, char *out, size_t cap, char *err, size_t errlen)
{
    if (!ja4_shape(s, n))
        return fail(err, errlen,
                    "ja4 must look like t13d1516h2_8daaf6152771_b186095e22b6 (a_b_c)");
    if (n >= cap)
        return fail(err, errlen, "value too long");
    for (size_t i = 0; i < n; i++)
        out[i] = lc(s[i]);
    out[n] = '\0';
    return 0;
}

static int norm_ua(const char *s, size_t n, char *out, size_t cap, char *err, size_t errlen)
{
    if (n == 0)
        return fail(err, errlen, "user agent is empty");
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\0' || s[i] == '\r' || s[i] == '\n')
            return fail(err, errlen, "user agent has a NUL or line break");
    if (n >= cap)
        return fail(err, errlen, "value too long");
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

/* -- the entry points --------------------------------------------------------------- */

static bool gets_refanged(enum cw_ioc_type t)
{
    return t == CW_IOC_DOMAIN || t == CW_IOC_HOSTNAME || t == CW_IOC_URL || t == CW_IOC_IPV4 ||
           t == CW_IOC_IPV6 || t == CW_IOC_CIDR || t == CW_IOC_EMAIL;
}

int cw_ioc_normalize(enum cw_ioc_type t, const char *in, size_t len, char *out, size_t cap,
                     char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!out || cap == 0 || (!in && len))
        return fail(err, errlen, "invalid arguments");
    out[0] = '\0';
    if (!cw_ioc_type_name(t))
        return fail(err, errlen, "unknown indicator type");
    if (len >= CW_IOC_VALUE_MAX)
        return fail(err, errlen, "value is longer than 2047 bytes");
    if (len && memchr(in, '\0', len))
        return fail(err, errlen, "value has a NUL byte");
    const char *s = in ? in : "";
    size_t n = len;
    trim(&s, &n);
    if (n == 0)
        return fail(err, errlen, "value is empty");
    char rf[CW_IOC_VALUE_MAX];
    if (gets_refanged(t)) {
        long r = refang_fix(s, n, rf, sizeof(rf));
        if (r < 0)
            return fail(err, errlen, "value has nested defanging");
        s = rf;
        n = (size_t)r;
        trim(&s, &n);
        if (n == 0)
            return fail(err, errlen, "value is empty");
    }
    int rc;
    switch (t) {
    case CW_IOC_DOMAIN:
    case CW_IOC_HOSTNAME:
        rc = norm_domain(t, s, n, out, cap, err, errlen);
        break;
    case CW_IOC_URL:
        rc = norm_url(s, n, out, cap, err, errlen);
        break;
    case CW_IOC_IPV4:
        rc = norm_ip(4, s, n, out, cap, err, errlen);
        break;
    case CW_IOC_IPV6:
        rc = norm_ip(6, s, n, out, cap, err, errlen);
        break;
    case CW_IOC_CIDR:
        rc = norm_cidr(s, n, out, cap, err, errlen);
        break;
    case CW_IOC_EMAIL:
        rc = norm_email(s, n, out, cap, err, errlen);
        break;
    case CW_IOC_MD5:
    case CW_IOC_SHA1:
    case CW_IOC_SHA256:
    case CW_IOC_JA3:
        rc = norm_hex(t, s, n, out, cap, err, errlen);
        break;
    case CW_IOC_JA4:
        rc = norm_ja4(s, n, out, cap, err, errlen);
        break;
    case CW_IOC_USER_AGENT:
        rc = norm_ua(s, n, out, cap, err, errlen);
        break;
    default:
        rc = fail(err, errlen, "unknown indicator type");
    }
    if (rc < 0)
        out[0] = '\0';
    return rc;
}

static bool all_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (hexval(s[i]) < 0)
            return false;
    return true;
}

enum cw_ioc_type cw_ioc_guess(const char *in, size_t len)
{
    if (!in || len == 0 || len >= CW_IOC_VALUE_MAX || memchr(in, '\0', len))
        return CW_IOC_NONE;
    char rf[CW_IOC_VALUE_MAX];
    const char *s = in;
    size_t n = len;
    trim(&s, &n);
    long r = refang_fix(s, n, rf, sizeof(rf));
    if (r <= 0)
        return CW_IOC_NONE;
    s = rf;
    n = (size_t)r;
    trim(&s, &n);
    if (n == 0)
        return CW_IOC_NONE;
    char out[CW_IOC_VALUE_MAX];
    for (size_t i = 0; i + 2 < n; i++)
        if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/')
            return cw_ioc_normalize(CW_IOC_URL, s, n, out, sizeof(out), NULL, 0) == 0
                       ? CW_IOC_URL
                       : CW_IOC_NONE;
    uint8_t a[16];
    int fam = parse_addr(s, n, a);
    if (fam == 4)
        return CW_IOC_IPV4;
    if (fam == 6)
        return CW_IOC_IPV6;
    if (memchr(s, '/', n)) {
        unsigned p;
        if (parse_cidr(s, n, a, &p, NULL, 0))
            return CW_IOC_CIDR;
    }
    if (all_hex(s, n)) {
        if (n == 32)
            return CW_IOC_MD5;
        if (n == 40)
            return CW_IOC_SHA1;
        if (n == 64)
            return CW_IOC_SHA256;
    }
    if (ja4_shape(s, n))
        return CW_IOC_JA4;
    if (memchr(s, '@', n))
        return cw_ioc_normalize(CW_IOC_EMAIL, s, n, out, sizeof(out), NULL, 0) == 0
                   ? CW_IOC_EMAIL
                   : CW_IOC_NONE;
    /* a domain: two labels or more, a top-level label that is not all digits */
    if (memchr(s, '.', n) && cw_ioc_normalize(CW_IOC_DOMAIN, s, n, out, sizeof(out), NULL, 0) == 0) {
        const char *dot = strrchr(out, '.');
        if (dot && dot[1] && !(dot[1] >= '0' && dot[1] <= '9'))
            return CW_IOC_DOMAIN;
    }
    return CW_IOC_NONE;
}
