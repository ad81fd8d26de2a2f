/* sample_urls.c - URLs, defanged names and mailto: addresses in text and HTML.
 *
 * Text: a URL starts at a scheme (http, https, ftp, and the defanged hxxp, hxxps,
 * fxp, in any case) followed by "://" or a defanged separator ("[://]", "[:]//"),
 * at a word start; it runs to white space or a character that cannot be in a URL in
 * running text (<>"`{}|\^), then trailing punctuation and unbalanced closing
 * brackets are dropped ("(see http://x.example/a)." -> "http://x.example/a").
 * Names defanged without a scheme ("evil[.]example[.]com") become domain candidates.
 * HTML: also the values of href, src, action, background and formaction attributes
 * (entities decoded); mailto: links give addresses. Relative links are not
 * indicators and are skipped.
 *
 * Every URL also gives its host as a hostname (or address) candidate. The number of
 * URLs per sample is bounded (max_urls). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ioc/sample_impl.h"
#include "common/banned.h"

static bool urls_full(struct sample_ctx *c)
{
    if (c->r->n_urls < c->o->limits.max_urls)
        return false;
    if (!c->urls_full)
        sample_finding(c, "limit", "", "more than %zu URLs: the rest are not listed",
                       c->o->limits.max_urls);
    c->urls_full = true;
    return true;
}

/* The host of a canonical URL ("scheme://[user@]host[:port]/..."). */
static bool url_host(const char *u, const char **h, size_t *n)
{
    const char *s = strstr(u, "://");
    if (!s)
        return false;
    s += 3;
    size_t end = strcspn(s, "/?#");
    const char *at = memchr(s, '@', end);
    while (at) { /* the last '@' before the path ends the user part */
        const char *next = memchr(at + 1, '@', end - (size_t)(at + 1 - s));
        if (!next)
            break;
        at = next;
    }
    if (at) {
        end -= (size_t)(at + 1 - s);
        s = at + 1;
    }
    if (end && s[0] == '[') { /* IPv6 literal */
        const char *close = memchr(s, ']', end);
        if (!close)
            return false;
        *h = s + 1;
        *n = (size_t)(close - s - 1);
        return *n > 0;
    }
    const char *colon = memchr(s, ':', end);
    *h = s;
    *n = colon ? (size_t)(colon - s) : end;
    return *n > 0;
}

/* XML namespace and schema URLs fill every HTML mail and Office document; they
 * name a vocabulary, not a place anyone visits. */
static bool namespace_url(const char *u)
{
    static const char *const hosts[] = {"schemas.openxmlformats.org", "schemas.microsoft.com",
                                        "www.w3.org", "purl.org", "ns.adobe.com",
                                        "schemas.xmlsoap.org"};
    const char *h;
    size_t n;
    if (!url_host(u, &h, &n))
        return false;
    for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
        if (strlen(hosts[i]) == n && !strncasecmp(h, hosts[i], n))
            return true;
    return false;
}

/* raw[0..len) is a URL as found (maybe defanged): add it and its host. */
static void add_url(struct sample_ctx *c, const char *raw, size_t len, const char *where,
                    const char *why)
{
    if (urls_full(c))
        return;
    char refanged[CW_IOC_VALUE_MAX];
    if (len >= sizeof(refanged))
        return;
    size_t n = cw_ioc_refang(raw, len, refanged, sizeof(refanged));
    if (namespace_url(refanged))
        return;
    unsigned flags = (n != len || memcmp(raw, refanged, len) != 0) ? CW_SAMPLE_DEFANGED : 0;
    size_t before = c->r->n_candidates;
    struct cw_sample_candidate *k = sample_candidate(c, CW_IOC_URL, refanged, n, where, why, flags);
    if (!k)
        return;
    if (c->r->n_candidates > before)
        c->r->n_urls++;
    const char *h;
    size_t hn;
    if (!url_host(k->value, &h, &hn))
        return;
    enum cw_ioc_type t = memchr(h, ':', hn) ? CW_IOC_IPV6 : CW_IOC_HOSTNAME;
    if (t == CW_IOC_HOSTNAME && cw_ioc_guess(h, hn) == CW_IOC_IPV4)
        t = CW_IOC_IPV4;
    sample_candidate(c, t, h, hn, where, "host of a URL", flags);
}

/* ---- text ---- */

static const struct {
    const char *s;
} schemes[] = {{"https"}, {"http"}, {"hxxps"}, {"hxxp"}, {"ftp"}, {"fxp"}};
static const char *seps[] = {"://", "[://]", "[:]//", "(:)//"};

/* Length of a scheme + separator at p, 0 when none. */
static size_t url_start(const char *p, size_t left)
{
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        size_t sn = strlen(schemes[i].s);
        if (left < sn || strncasecmp(p, schemes[i].s, sn))
            continue;
        for (size_t j = 0; j < sizeof(seps) / sizeof(seps[0]); j++) {
            size_t pn = strlen(seps[j]);
            if (left >= sn + pn && !memcmp(p + sn, seps[j], pn))
                return sn + pn;
        }
    }
    return 0;
}

static bool url_stop(const unsigned char *p, size_t left)
{
    unsigned char ch = p[0];
    if (ch <= 32 || ch == 127 || strchr("<>\"`{}|\\^", ch))
        return true;
    if (ch == 0xc2 && left > 1 && p[1] == 0xa0) /* no-break space */
        return true;
    if (ch == 0xe2 && left > 2 && p[1] == 0x80 && (p[2] == 0x8b || p[2] == 0xa8 || p[2] == 0xaf))
        return true; /* zero-width, line separator, narrow no-break space */
    return false;
}

/* Drop trailing punctuation and unbalanced closers. */
static size_t url_trim(const char *u, size_t n, size_t min)
{
    while (n > min) {
        char ch = u[n - 1];
        if (strchr(".,;:!?'*", ch)) {
            n--;
            continue;
        }
        if (ch == ')' || ch == ']') {
            char open = ch == ')' ? '(' : '[';
            int bal = 0;
            for (size_t i = 0; i < n; i++)
                bal += u[i] == open ? 1 : u[i] == ch ? -1 : 0;
            if (bal < 0) {
                n--;
                continue;
            }
        }
        break;
    }
    return n;
}

/* "&amp;" and numeric references of ASCII characters in s[0..n) into out. */
static size_t entities(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        if (s[i] == '&') {
            if (n - i >= 5 && !strncasecmp(s + i, "&amp;", 5)) {
                out[o++] = '&';
                i += 4;
                continue;
            }
            if (n - i >= 4 && s[i + 1] == '#') {
                size_t k = i + 2;
                unsigned long v = 0;
                bool hexd = k < n && (s[k] == 'x' || s[k] == 'X');
                k += hexd;
                size_t digits = 0;
                while (k < n && digits < 8 && (hexd ? isxdigit((unsigned char)s[k])
                                                    : isdigit((unsigned char)s[k]))) {
                    v = v * (hexd ? 16 : 10) +
                        (unsigned long)(isdigit((unsigned char)s[k])
                                            ? s[k] - '0'
                                            : (tolower((unsigned char)s[k]) - 'a' + 10));
                    k++, digits++;
                }
                if (digits && v >= 32 && v < 127) {
                    out[o++] = (char)v;
                    i = (k < n && s[k] == ';') ? k : k - 1;
                    continue;
                }
            }
        }
        out[o++] = s[i];
    }
    out[o] = '\0';
    return o;
}

static void scan_urls(struct sample_ctx *c, const char *t, size_t len, bool html, const char *where)
{
    for (size_t i = 0; i < len && !c->urls_full; i++) {
        char ch = t[i];
        if (ch != 'h' && ch != 'H' && ch != 'f' && ch != 'F')
            continue;
        if (i > 0 && isalnum((unsigned char)t[i - 1]))
            continue;
        size_t s = url_start(t + i, len - i);
        if (!s)
            continue;
        size_t e = i + s;
        while (e < len && e - i < CW_IOC_VALUE_MAX && !url_stop((const unsigned char *)t + e, len - e))
            e++;
        size_t n = url_trim(t + i, e - i, s);
        if (n > s) {
            if (html) {
                char dec[CW_IOC_VALUE_MAX];
                size_t dn = entities(t + i, n, dec, sizeof(dec));
                add_url(c, dec, dn, where, "URL in an HTML body");
            } else {
                add_url(c, t + i, n, where, "URL in a text body");
            }
        }
        i = e - 1;
    }
}

static bool name_char(unsigned char ch) { return isalnum(ch) || ch == '-' || ch == '_'; }

/* "evil[.]example[.]com" and friends without a scheme. */
static void scan_defanged_names(struct sample_ctx *c, const char *t, size_t len, const char *where)
{
    static const char *dots[] = {"[.]", "(.)", "{.}", "[dot]"};
    for (size_t i = 0; i < len && !c->urls_full; i++) {
        size_t dl = 0;
        for (size_t d = 0; d < sizeof(dots) / sizeof(dots[0]) && !dl; d++)
            if (len - i >= strlen(dots[d]) && !strncasecmp(t + i, dots[d], strlen(dots[d])))
                dl = strlen(dots[d]);
        if (!dl)
            continue;
        /* extend over labels and dots (plain or defanged) both ways */
        size_t b = i;
        while (b > 0 && (name_char((unsigned char)t[b - 1]) || t[b - 1] == '.'))
            b--;
        size_t e = i;
        while (e < len) {
            size_t k = 0;
            for (size_t d = 0; d < sizeof(dots) / sizeof(dots[0]) && !k; d++)
                if (len - e >= strlen(dots[d]) && !strncasecmp(t + e, dots[d], strlen(dots[d])))
                    k = strlen(dots[d]);
            if (k)
                e += k;
            else if (name_char((unsigned char)t[e]) || t[e] == '.')
                e++;
            else
                break;
        }
        /* part of a URL (scheme before it, "/" or "@" glued on) is handled elsewhere */
        bool url_part = (b >= 3 && !memcmp(t + b - 3, "://", 3)) || (b > 0 && t[b - 1] == '@') ||
                        (b >= 2 && t[b - 1] == ']' ) || (e < len && (t[e] == '@'));
        if (!url_part && b < i && e > i + dl) {
            char ref[256];
            if (e - b < sizeof(ref)) {
                size_t rn = cw_ioc_refang(t + b, e - b, ref, sizeof(ref));
                while (rn && ref[rn - 1] == '.')
                    rn--;
                if (cw_ioc_guess(ref, rn) == CW_IOC_IPV4)
                    sample_candidate(c, CW_IOC_IPV4, ref, rn, where, "defanged address in text",
                                     CW_SAMPLE_DEFANGED);
                else
                    sample_candidate(c, CW_IOC_DOMAIN, ref, rn, where, "defanged name in text",
                                     CW_SAMPLE_DEFANGED);
            }
        }
        i = e > i ? e - 1 : i;
    }
}

/* Addresses written in running text ("send it to billing@evil.example"). */
static bool local_char(unsigned char ch) { return isalnum(ch) || strchr(".!#$%&'*+/=?^_`{|}~-", ch); }

static void scan_addresses(struct sample_ctx *c, const char *t, size_t len, const char *where)
{
    for (size_t i = 1; i + 1 < len && !c->urls_full; i++) {
        if (t[i] != '@')
            continue;
        size_t b = i;
        while (b > 0 && i - b < 64 && local_char((unsigned char)t[b - 1]))
            b--;
        while (b < i && t[b] == '.')
            b++;
        size_t e = i + 1;
        while (e < len && e - i < 255 && (name_char((unsigned char)t[e]) || t[e] == '.'))
            e++;
        while (e > i + 1 && t[e - 1] == '.')
            e--;
        /* user@host in a URL is its user part, not an address */
        bool in_url = b >= 3 && !memcmp(t + b - 3, "://", 3);
        if (b < i && e > i + 1 && memchr(t + i + 1, '.', e - i - 1) && !in_url)
            sample_candidate(c, CW_IOC_EMAIL, t + b, e - b, where, "address in a body", 0);
        i = e > i ? e - 1 : i;
    }
}

/* ---- HTML attributes ---- */

static void scan_attributes(struct sample_ctx *c, const char *t, size_t len, const char *where)
{
    static const char *attrs[] = {"href", "src", "action", "background", "formaction"};
    for (size_t i = 1; i < len && !c->urls_full; i++) {
        if (!isspace((unsigned char)t[i - 1]))
            continue;
        size_t an = 0;
        for (size_t a = 0; a < sizeof(attrs) / sizeof(attrs[0]) && !an; a++) {
            size_t n = strlen(attrs[a]);
            if (len - i > n && !strncasecmp(t + i, attrs[a], n) &&
                (t[i + n] == '=' || isspace((unsigned char)t[i + n])))
                an = n;
        }
        if (!an)
            continue;
        size_t k = i + an;
        while (k < len && isspace((unsigned char)t[k]))
            k++;
        if (k >= len || t[k] != '=')
            continue;
        k++;
        while (k < len && isspace((unsigned char)t[k]))
            k++;
        char q = k < len && (t[k] == '"' || t[k] == '\'') ? t[k] : 0;
        size_t b = k + (q != 0), e = b;
        while (e < len && e - b < CW_IOC_VALUE_MAX &&
               (q ? t[e] != q : !isspace((unsigned char)t[e]) && t[e] != '>'))
            e++;
        char v[CW_IOC_VALUE_MAX];
        size_t vn = entities(t + b, e - b, v, sizeof(v));
        size_t s = 0;
        while (s < vn && isspace((unsigned char)v[s]))
            s++;
        while (vn > s && isspace((unsigned char)v[vn - 1]))
            vn--;
        if (vn - s > 7 && !strncasecmp(v + s, "mailto:", 7)) {
            size_t an2 = strcspn(v + s + 7, "?");
            if (an2 > vn - s - 7)
                an2 = vn - s - 7;
            sample_candidate(c, CW_IOC_EMAIL, v + s + 7, an2, where, "mailto: link in HTML", 0);
        } else if (url_start(v + s, vn - s)) {
            char why[40];
            snprintf(why, sizeof(why), "HTML %.*s attribute", (int)an, t + i);
            add_url(c, v + s, vn - s, where, why);
        }
        i = e;
    }
}

void sample_scan_text(struct sample_ctx *c, const char *text, size_t len, bool html,
                      const char *where)
{
    if (html)
        scan_attributes(c, text, len, where);
    scan_urls(c, text, len, html, where);
    scan_defanged_names(c, text, len, where);
    scan_addresses(c, text, len, where);
}
