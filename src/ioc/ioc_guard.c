/* ioc_guard.c - refuse indicators that would block far too much; see ioc.h.
 *
 * What "too much" means, per type (each refusal names the rule or the list):
 *
 * names (domain, hostname; the host of a URL for the site root, see below)
 *   - empty or a single label (a TLD or a local name);
 *   - a public suffix (libpsl with the Debian publicsuffix list, private section
 *     included: co.jp, github.io, duckdns.org), and for a domain - which covers its
 *     subdomains - a parent of a public suffix (amazonaws.com covers
 *     s3.amazonaws.com);
 *   - equal to a name on a warninglist of type string or hostname whose
 *     matching_attributes include domain, hostname or url;
 *   - for a domain: a parent of such a name (google.com would block the listed
 *     www.google.com);
 *   - below a name on a "hostname" list (MISP: the list covers subdomains) when
 *     both have one registrant: the registrable domain of the name (libpsl) is the
 *     listed name or below it. www.bankofamerica.com is refused; a name that
 *     somebody else registered below a shared parent is not
 *     (bucket.s3.amazonaws.com when the list has amazonaws.com, evil.duckdns.org).
 *     Entries written with a leading dot (".amazonaws.com", MISP's "anything
 *     below", used by dynamic-dns and lots-project for shared hosting) refuse the
 *     parent itself only: blocking evil.duckdns.org blocks the attacker's name and
 *     nothing else;
 *   - containing an entry of a "substring" list for names.
 *   A URL is refused when its host would be refused as a hostname AND it is the
 *   site root ("/" without a query): a deeper URL on a popular host
 *   (https://raw.githubusercontent.com/x/y/dropper.ps1) blocks that one resource,
 *   which is what such an indicator is for.
 *
 * addresses and CIDRs
 *   - a CIDR wider than /8 (IPv4) or /32 (IPv6);
 *   - overlapping a special range: this network, loopback, private (RFC 1918, ULA),
 *     shared CGN space, link-local, multicast, reserved, broadcast, unspecified;
 *     an IPv4-mapped IPv6 address is checked as its IPv4 address;
 *   - overlapping a built-in public DNS resolver (8.8.8.8, 1.1.1.1, 9.9.9.9 ...);
 *   - overlapping a range of a "cidr" warninglist for ip-src/ip-dst. CIDR ranges
 *     overlap only by containment, so "overlaps" is exact: the indicator lies inside
 *     a listed range (blocking it blocks part of the listed network) or contains a
 *     listed range (blocking it blocks all of that). Note that the rfc5735 list
 *     holds the documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24).
 *
 * digests: the empty file (built in) and entries of string lists whose
 *   matching_attributes include md5/sha1/sha256 (known-good files, CA certificates).
 *
 * e-mail addresses, JA3/JA4 and user agents match exactly one value, so no list
 * applies to them (a disposable-mail domain is a reason to block one sender, not a
 * reason to refuse it).
 *
 * Storage: names and digests in cw_iocset hash sets (the value is the list index +
 * 1), ranges in a prefix tree per family (ioc_radix.c); loading all 137 lists of
 * the MISP repository is measured by tests/unit/test_ioc.c. */
#include "ioc/ioc.h"

#include <libpsl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/warninglist.h"
#include "ioc/ioc_radix.h"
#include "ioc/iocset.h"
#include "common/banned.h"

#define PSL_LIST ((uint64_t)UINT32_MAX) /* "list index" of the Public Suffix List */
#define BUILTIN_SPECIAL 1u
#define BUILTIN_RESOLVER 2u

struct cw_ioc_guard {
    psl_ctx_t *psl;
    char **names; /* list names for reasons ("name", else the directory name) */
    size_t nlists;
    struct cw_iocset *exact;  /* hostname set: names listed as they are */
    struct cw_iocset *below;  /* hostname set: names of hostname lists */
    struct cw_iocset *parent; /* hostname set: strict parents of listed names */
    struct cw_iocset *digest; /* md5/sha1/sha256 */
    struct cw_radix net4, net6; /* listed ranges, value = list index + 1 */
    struct cw_radix spec4, spec6; /* built-in ranges, value = index into specials + 1 */
    struct { char *s; size_t n; uint32_t list; } *subs; /* substring entries */
    size_t nsubs;
};

struct special {
    const char *net;
    const char *what;
};

/* Built-in ranges. Resolvers are listed one address each. */
static const struct special specials[] = {
    {"0.0.0.0/8", "in 'this network' (RFC 1122)"},
    {"10.0.0.0/8", "a private address (RFC 1918)"},
    {"100.64.0.0/10", "in shared address space (RFC 6598, carrier-grade NAT)"},
    {"127.0.0.0/8", "a loopback address"},
    {"169.254.0.0/16", "a link-local address"},
    {"172.16.0.0/12", "a private address (RFC 1918)"},
    {"192.168.0.0/16", "a private address (RFC 1918)"},
    {"224.0.0.0/4", "a multicast address"},
    {"240.0.0.0/4", "a reserved address"},
    {"255.255.255.255/32", "the broadcast address"},
    {"::/128", "the unspecified address"},
    {"::1/128", "the loopback address"},
    {"fc00::/7", "a unique local address (RFC 4193)"},
    {"fe80::/10", "a link-local address"},
    {"ff00::/8", "a multicast address"},
    {"8.8.8.8/32", "a public DNS resolver (Google)"},
    {"8.8.4.4/32", "a public DNS resolver (Google)"},
    {"1.1.1.1/32", "a public DNS resolver (Cloudflare)"},
    {"1.0.0.1/32", "a public DNS resolver (Cloudflare)"},
    {"9.9.9.9/32", "a public DNS resolver (Quad9)"},
    {"149.112.112.112/32", "a public DNS resolver (Quad9)"},
    {"208.67.222.222/32", "a public DNS resolver (OpenDNS)"},
    {"208.67.220.220/32", "a public DNS resolver (OpenDNS)"},
    {"2001:4860:4860::8888/128", "a public DNS resolver (Google)"},
    {"2001:4860:4860::8844/128", "a public DNS resolver (Google)"},
    {"2606:4700:4700::1111/128", "a public DNS resolver (Cloudflare)"},
    {"2606:4700:4700::1001/128", "a public DNS resolver (Cloudflare)"},
    {"2620:fe::fe/128", "a public DNS resolver (Quad9)"},
    {"2620:fe::9/128", "a public DNS resolver (Quad9)"},
};

static const char *const empty_digests[] = {
    "d41d8cd98f00b204e9800998ecf8427e",
    "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
};

static void key_of(const uint8_t *a, int fam, uint64_t *hi, uint64_t *lo)
{
    uint64_t h = 0, l = 0;
    int n = fam == 4 ? 4 : 16;
    for (int i = 0; i < 8; i++) {
        h = h << 8 | (i < n ? a[i] : 0);
        l = l << 8 | (8 + i < n ? a[8 + i] : 0);
    }
    *hi = h;
    *lo = l;
}

static int net_add(struct cw_radix *r4, struct cw_radix *r6, const char *text, size_t n,
                   uint64_t val)
{
    uint8_t a[16];
    unsigned p;
    int fam = cw_ioc_parse_cidr(text, n, a, &p);
    if (!fam) {
        fam = cw_ioc_parse_addr(text, n, a);
        p = fam == 4 ? 32 : 128;
    }
    if (!fam)
        return 0; /* not an address: skipped */
    uint64_t hi, lo;
    key_of(a, fam, &hi, &lo);
    uint64_t old = cw_radix_get(fam == 4 ? r4 : r6, hi, lo, p);
    if (old) /* the first list (byte order of directory names) keeps the range */
        return 0;
    return cw_radix_insert(fam == 4 ? r4 : r6, hi, lo, p, val) < 0 ? -1 : 0;
}

void cw_ioc_guard_free(struct cw_ioc_guard *g)
{
    if (!g)
        return;
    if (g->psl)
        psl_free(g->psl);
    for (size_t i = 0; i < g->nlists; i++)
        free(g->names[i]);
    free(g->names);
    cw_iocset_free(g->exact);
    cw_iocset_free(g->below);
    cw_iocset_free(g->parent);
    cw_iocset_free(g->digest);
    cw_radix_release(&g->net4);
    cw_radix_release(&g->net6);
    cw_radix_release(&g->spec4);
    cw_radix_release(&g->spec6);
    for (size_t i = 0; i < g->nsubs; i++)
        free(g->subs[i].s);
    free(g->subs);
    free(g);
}

/* Add canon (a canonical name) and, when parents, each strict parent of it with two
 * labels or more. The first list to add a name keeps it. */
static int name_add(struct cw_iocset *set, enum cw_ioc_type t, const char *canon, size_t n,
                    uint64_t val)
{
    if (cw_iocset_match(set, CW_IOC_HOSTNAME, canon, n) == 0 &&
        cw_iocset_add(set, t, canon, n, val) < 0)
        return -1;
    return 0;
}

static int parents_add(struct cw_iocset *set, const char *canon, size_t n, uint64_t val)
{
    const char *p = canon, *end = canon + n;
    for (;;) {
        const char *dot = memchr(p, '.', (size_t)(end - p));
        if (!dot)
            return 0;
        p = dot + 1;
        if (!memchr(p, '.', (size_t)(end - p)))
            return 0; /* single labels are refused anyway */
        char c[CW_IOC_VALUE_MAX];
        if (cw_ioc_normalize(CW_IOC_HOSTNAME, p, (size_t)(end - p), c, sizeof(c), NULL, 0) < 0)
            continue; /* "1.2" below "a.1.2" is no name */
        if (cw_iocset_match_name(set, p, (size_t)(end - p)) == 0 &&
            cw_iocset_add(set, CW_IOC_HOSTNAME, p, (size_t)(end - p), val) < 0)
            return -1;
    }
}

static bool any_attr(const struct cw_warninglist *wl, const char *const *attrs)
{
    for (; *attrs; attrs++)
        if (cw_warninglist_has_attr(wl, *attrs))
            return true;
    return false;
}

static const char *const name_attrs[] = {"domain", "hostname", "url", "domain|ip", NULL};
static const char *const ip_attrs[] = {"ip-src", "ip-dst", "domain|ip", NULL};
static const char *const digest_attrs[] = {"md5", "sha1", "sha256", NULL};

static int load_list(struct cw_ioc_guard *g, const struct cw_warninglist *wl, uint64_t val)
{
    bool names = any_attr(wl, name_attrs), ips = any_attr(wl, ip_attrs);
    bool digests = any_attr(wl, digest_attrs);
    const char *type = wl->type;
    bool is_host = strcmp(type, "hostname") == 0, is_str = strcmp(type, "string") == 0;
    char canon[CW_IOC_VALUE_MAX];
    if (strcmp(type, "cidr") == 0) {
        if (!ips)
            return 0;
        for (size_t i = 0; i < wl->nentries; i++)
            if (net_add(&g->net4, &g->net6, wl->entries[i].s, wl->entries[i].n, val) < 0)
                return -1;
        return 0;
    }
    if (strcmp(type, "substring") == 0) {
        if (!names)
            return 0;
        for (size_t i = 0; i < wl->nentries; i++) {
            if (wl->entries[i].n < 4) /* "a.b" would refuse half the world's names */
                continue;
            void *ns = realloc(g->subs, (g->nsubs + 1) * sizeof(*g->subs));
            if (!ns)
                return -1;
            g->subs = ns;
            char *c = malloc(wl->entries[i].n + 1);
            if (!c)
                return -1;
            for (size_t k = 0; k <= wl->entries[i].n; k++) {
                char ch = wl->entries[i].s[k];
                c[k] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
            }
            g->subs[g->nsubs].s = c;
            g->subs[g->nsubs].n = wl->entries[i].n;
            g->subs[g->nsubs].list = (uint32_t)(val - 1);
            g->nsubs++;
        }
        return 0;
    }
    if (!is_host && !is_str)
        return 0; /* regex: no list of this type is about our indicator types */
    for (size_t i = 0; i < wl->nentries; i++) {
        const char *s = wl->entries[i].s;
        size_t n = wl->entries[i].n;
        if (digests) {
            static const enum cw_ioc_type dt[] = {CW_IOC_MD5, CW_IOC_SHA1, CW_IOC_SHA256};
            for (int k = 0; k < 3; k++)
                if (cw_ioc_normalize(dt[k], s, n, canon, sizeof(canon), NULL, 0) == 0 &&
                    cw_iocset_match(g->digest, dt[k], canon, strlen(canon)) == 0 &&
                    cw_iocset_add(g->digest, dt[k], canon, strlen(canon), val) < 0)
                    return -1;
        }
        if (!names)
            continue;
        bool lead_dot = n > 1 && s[0] == '.';
        if (lead_dot)
            s++, n--;
        if (cw_ioc_normalize(CW_IOC_HOSTNAME, s, n, canon, sizeof(canon), NULL, 0) < 0)
            continue; /* an address or URL on a name list: not a name */
        size_t cn = strlen(canon);
        if (!memchr(canon, '.', cn))
            continue; /* single labels are refused without a list */
        if (name_add(g->exact, CW_IOC_HOSTNAME, canon, cn, val) < 0 ||
            parents_add(g->parent, canon, cn, val) < 0)
            return -1;
        if (is_host && !lead_dot && cw_iocset_match_name(g->below, canon, cn) == 0 &&
            cw_iocset_add(g->below, CW_IOC_HOSTNAME, canon, cn, val) < 0)
            return -1;
    }
    return 0;
}

/* Parents of every rule of the Public Suffix List: a domain indicator equal to one
 * (amazonaws.com) covers names that anyone can register below the suffix. */
static void load_psl_parents(struct cw_ioc_guard *g)
{
    /* the text form of the list libpsl loads (psl_dist_filename() may name the
     * binary DAFSA form, which has no lines to read) */
    FILE *f = fopen("/usr/share/publicsuffix/public_suffix_list.dat", "r");
    const char *path = psl_dist_filename();
    size_t pn = path ? strlen(path) : 0;
    if (!f && pn > 4 && strcmp(path + pn - 4, ".dat") == 0)
        f = fopen(path, "r");
    if (!f)
        return; /* the built-in checks of libpsl still apply */
    char line[512], canon[CW_IOC_VALUE_MAX];
    while (fgets(line, sizeof(line), f)) {
        size_t n = strcspn(line, " \t\r\n");
        const char *s = line;
        if (n == 0 || (n >= 2 && s[0] == '/' && s[1] == '/'))
            continue;
        if (s[0] == '!')
            continue; /* exceptions name registrable domains */
        bool wild = n > 2 && s[0] == '*' && s[1] == '.';
        if (wild)
            s += 2, n -= 2;
        if (cw_ioc_normalize(CW_IOC_HOSTNAME, s, n, canon, sizeof(canon), NULL, 0) < 0)
            continue; /* UTF-8 rules: indicators are A-labels */
        /* "*.compute.amazonaws.com": compute.amazonaws.com covers the suffixes too */
        size_t cn = strlen(canon);
        if ((wild && memchr(canon, '.', cn) &&
             name_add(g->parent, CW_IOC_HOSTNAME, canon, cn, PSL_LIST + 1) < 0) ||
            parents_add(g->parent, canon, cn, PSL_LIST + 1) < 0)
            break;
    }
    fclose(f);
}

struct cw_ioc_guard *cw_ioc_guard_new(const char *dir, char *err, size_t errlen)
{
    struct cw_ioc_guard *g = calloc(1, sizeof(*g));
    char **dirs = NULL;
    long nd = 0;
    if (!g) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    cw_radix_init(&g->net4);
    cw_radix_init(&g->net6);
    cw_radix_init(&g->spec4);
    cw_radix_init(&g->spec6);
    g->exact = cw_iocset_new();
    g->below = cw_iocset_new();
    g->parent = cw_iocset_new();
    g->digest = cw_iocset_new();
    g->psl = psl_latest(NULL);
    if (!g->exact || !g->below || !g->parent || !g->digest) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (!g->psl) {
        snprintf(err, errlen, "cannot load the Public Suffix List (package publicsuffix)");
        goto fail;
    }
    for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++)
        if (net_add(&g->spec4, &g->spec6, specials[i].net, strlen(specials[i].net), i + 1) < 0) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    load_psl_parents(g);
    if (!dir || !*dir)
        return g;
    nd = cw_warninglist_dir(dir, &dirs, err, errlen);
    if (nd < 0)
        goto fail;
    g->names = calloc((size_t)(nd ? nd : 1), sizeof(char *));
    if (!g->names) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (long i = 0; i < nd; i++) {
        char path[4096];
        int pn = snprintf(path, sizeof(path), "%s/%s/list.json", dir, dirs[i]);
        if (pn < 0 || (size_t)pn >= sizeof(path)) {
            snprintf(err, errlen, "%s/%s: path too long", dir, dirs[i]);
            goto fail;
        }
        struct cw_warninglist wl;
        char why[512];
        int rc = cw_warninglist_read(&wl, path, why, sizeof(why));
        if (rc < 0) {
            snprintf(err, errlen, "%s", why);
            goto fail;
        }
        if (rc == 1)
            continue; /* valid JSON but not a list: nothing to refuse with */
        g->names[g->nlists] = strdup(wl.name[0] ? wl.name : dirs[i]);
        if (!g->names[g->nlists]) {
            cw_warninglist_release(&wl);
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        g->nlists++;
        if (load_list(g, &wl, g->nlists) < 0) {
            cw_warninglist_release(&wl);
            snprintf(err, errlen, "%s: out of memory", path);
            goto fail;
        }
        cw_warninglist_release(&wl);
    }
    cw_warninglist_dir_free(dirs, nd);
    return g;
fail:
    cw_warninglist_dir_free(dirs, nd);
    cw_ioc_guard_free(g);
    return NULL;
}

/* -- checks --------------------------------------------------------------------- */

static const char *list_name(const struct cw_ioc_guard *g, uint64_t val)
{
    if (val == PSL_LIST + 1)
        return "Public Suffix List";
    return val && val - 1 < g->nlists ? g->names[val - 1] : "?";
}

static const char *says(char *buf, size_t cap, const char *fmt, const char *a, const char *b,
                        const char *c)
{
    snprintf(buf, cap, fmt, a, b, c);
    return buf;
}

/* t: CW_IOC_DOMAIN or CW_IOC_HOSTNAME. */
static const char *check_name(const struct cw_ioc_guard *g, enum cw_ioc_type t,
                              const char *name, char *buf, size_t cap)
{
    size_t n = strlen(name);
    if (n == 0)
        return says(buf, cap, "the name is empty%s%s%s", "", "", "");
    if (!memchr(name, '.', n))
        return says(buf, cap, "%s is a single label (a top-level domain or a local name)%s%s",
                    name, "", "");
    if (psl_is_public_suffix(g->psl, name))
        return says(buf, cap, "%s is a public suffix%s%s", name, "", "");
    uint64_t v = cw_iocset_match_name(g->exact, name, n);
    if (v)
        return says(buf, cap, "%s is on the warninglist '%s'%s", name, list_name(g, v), "");
    if (t == CW_IOC_DOMAIN && (v = cw_iocset_match_name(g->parent, name, n)))
        return says(buf, cap, v == PSL_LIST + 1
                                  ? "%s is a parent of public suffixes (the %s)%s"
                                  : "%s covers names on the warninglist '%s'%s",
                    name, list_name(g, v), "");
    /* below a listed name only when both belong to one registrant: the registrable
     * domain of the name is the listed name or below it */
    const char *rd = psl_registrable_domain(g->psl, name);
    size_t rdn = rd ? strlen(rd) : 0;
    for (const char *p = name; rd && (size_t)(name + n - p) >= rdn;) {
        if ((v = cw_iocset_match_name(g->below, p, (size_t)(name + n - p))))
            return says(buf, cap, "%s is below a name on the warninglist '%s'%s", name,
                        list_name(g, v), "");
        const char *dot = strchr(p, '.');
        if (!dot)
            break;
        p = dot + 1;
    }
    for (size_t i = 0; i < g->nsubs; i++)
        if (g->subs[i].n <= n && memmem(name, n, g->subs[i].s, g->subs[i].n))
            return says(buf, cap, "%s contains '%s' from the warninglist '%s'", name,
                        g->subs[i].s, list_name(g, g->subs[i].list + 1));
    return NULL;
}

static const char *check_net(const struct cw_ioc_guard *g, const char *canon, int fam,
                             const uint8_t *a, unsigned p, char *buf, size_t cap)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (fam == 6 && p >= 96 && memcmp(a, mapped, 12) == 0)
        return check_net(g, canon, 4, a + 12, p - 96, buf, cap);
    uint64_t hi, lo;
    key_of(a, fam, &hi, &lo);
    unsigned max = fam == 4 ? 32 : 128;
    const struct cw_radix *sp = fam == 4 ? &g->spec4 : &g->spec6;
    const struct cw_radix *ls = fam == 4 ? &g->net4 : &g->net6;
    uint64_t v = cw_radix_lpm(sp, hi, lo, p);
    if (v)
        return says(buf, cap, "%s is %s%s", canon, specials[v - 1].what, "");
    if ((v = cw_radix_any_within(sp, hi, lo, p))) {
        char net[64];
        snprintf(net, sizeof(net), "%s", specials[v - 1].net);
        char *sl = strchr(net, '/');
        if (sl && ((fam == 4 && strcmp(sl, "/32") == 0) || strcmp(sl, "/128") == 0))
            *sl = '\0';
        return says(buf, cap, "%s contains %s, %s", canon, net, specials[v - 1].what);
    }
    if ((v = cw_radix_lpm(ls, hi, lo, p)))
        return says(buf, cap,
                    p == max ? "%s is on the warninglist '%s'%s"
                             : "%s is inside a range on the warninglist '%s'%s",
                    canon, list_name(g, v), "");
    if ((v = cw_radix_any_within(ls, hi, lo, p)))
        return says(buf, cap, "%s contains addresses on the warninglist '%s'%s", canon,
                    list_name(g, v), "");
    return NULL;
}

static const char *check_url(const struct cw_ioc_guard *g, const char *url, char *buf,
                             size_t cap)
{
    const char *h = strstr(url, "://");
    if (!h)
        return NULL;
    h += 3;
    const char *pe = strchr(h, '/');
    if (!pe || strcmp(pe, "/") != 0)
        return NULL; /* a resource below the root: see the header */
    const char *at = memchr(h, '@', (size_t)(pe - h));
    if (at)
        h = at + 1;
    char host[300];
    size_t hn = (size_t)(pe - h);
    if (hn >= sizeof(host))
        return NULL;
    memcpy(host, h, hn);
    host[hn] = '\0';
    if (host[0] == '[') {
        char *rb = strchr(host, ']');
        if (rb)
            *rb = '\0';
        memmove(host, host + 1, strlen(host));
    } else {
        char *colon = strchr(host, ':');
        if (colon)
            *colon = '\0';
    }
    char inner[256];
    const char *why = NULL;
    uint8_t a[16];
    int fam = cw_ioc_parse_addr(host, strlen(host), a);
    if (fam)
        why = check_net(g, host, fam, a, fam == 4 ? 32 : 128, inner, sizeof(inner));
    else
        why = check_name(g, CW_IOC_HOSTNAME, host, inner, sizeof(inner));
    if (!why)
        return NULL;
    return says(buf, cap, "%s is the root of a site that must not be blocked: %s%s", url, why,
                "");
}

const char *cw_ioc_guard_check(const struct cw_ioc_guard *g, enum cw_ioc_type t,
                               const char *canon, char *buf, size_t cap)
{
    if (!g || !canon || !buf || !cap)
        return NULL;
    uint8_t a[16];
    unsigned p;
    int fam;
    switch (t) {
    case CW_IOC_DOMAIN:
    case CW_IOC_HOSTNAME:
        return check_name(g, t, canon, buf, cap);
    case CW_IOC_URL:
        return check_url(g, canon, buf, cap);
    case CW_IOC_IPV4:
    case CW_IOC_IPV6:
        fam = cw_ioc_parse_addr(canon, strlen(canon), a);
        if (!fam)
            return says(buf, cap, "%s is not an address%s%s", canon, "", "");
        return check_net(g, canon, fam, a, fam == 4 ? 32 : 128, buf, cap);
    case CW_IOC_CIDR:
        fam = cw_ioc_parse_cidr(canon, strlen(canon), a, &p);
        if (!fam)
            return says(buf, cap, "%s is not a CIDR%s%s", canon, "", "");
        if ((fam == 4 && p < 8) || (fam == 6 && p < 32))
            return says(buf, cap, "%s is wider than %s%s", canon, fam == 4 ? "/8" : "/32", "");
        return check_net(g, canon, fam, a, p, buf, cap);
    case CW_IOC_MD5:
    case CW_IOC_SHA1:
    case CW_IOC_SHA256: {
        for (size_t i = 0; i < sizeof(empty_digests) / sizeof(empty_digests[0]); i++)
            if (strcmp(canon, empty_digests[i]) == 0)
                return says(buf, cap, "%s is the %s of an empty file%s", canon,
                            cw_ioc_type_name(t), "");
        uint64_t v = cw_iocset_match(g->digest, t, canon, strlen(canon));
        if (v)
            return says(buf, cap, "%s is on the warninglist '%s'%s", canon, list_name(g, v), "");
        return NULL;
    }
    default:
        return NULL;
    }
}
