/* sample_hdr.c - parsers for the header fields that describe a message's path:
 * Received (RFC 5321 4.4 trace fields), Authentication-Results (RFC 8601) and
 * Received-SPF (RFC 7208 9.1).
 *
 * Mailers write these loosely, so the parsers are tolerant: comments "(...)" may nest
 * and contain ';' or keywords, words may be missing, the date may be absent. They
 * never fail; what they cannot find stays NULL. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "ioc/sample_impl.h"
#include "common/banned.h"

struct tok {
    const char *p;
    size_t n;
    bool comment; /* "(...)" including the parentheses */
};

/* Next token of s[*i..len): a comment (nesting, with \-escapes), a quoted string, or
 * a run of characters up to white space, '(' or ';'. A lone ';' is a token of its own.
 * Returns false at the end. */
static bool next_tok(const char *s, size_t len, size_t *i, struct tok *t)
{
    while (*i < len && isspace((unsigned char)s[*i]))
        (*i)++;
    if (*i >= len)
        return false;
    size_t b = *i;
    t->comment = false;
    if (s[b] == '(') {
        int depth = 0;
        size_t k = b;
        for (; k < len; k++) {
            if (s[k] == '\\' && k + 1 < len) {
                k++;
                continue;
            }
            if (s[k] == '(')
                depth++;
            else if (s[k] == ')' && --depth == 0) {
                k++;
                break;
            }
        }
        t->comment = true;
        *i = k;
    } else if (s[b] == ';') {
        *i = b + 1;
    } else if (s[b] == '"') {
        size_t k = b + 1;
        while (k < len && s[k] != '"')
            k += (s[k] == '\\' && k + 1 < len) ? 2 : 1;
        *i = k < len ? k + 1 : len;
    } else {
        size_t k = b;
        while (k < len && !isspace((unsigned char)s[k]) && s[k] != '(' && s[k] != ';')
            k++;
        *i = k;
    }
    t->p = s + b;
    t->n = *i - b;
    return true;
}

static bool tok_is(const struct tok *t, const char *w)
{
    return !t->comment && t->n == strlen(w) && !strncasecmp(t->p, w, t->n);
}

/* An IP address inside s[0..n): an "[a.b.c.d]" or "[IPv6:..]" literal first, else the
 * first dotted quad or bracket-less IPv6 that inet_pton() accepts. */
static bool find_ip(const char *s, size_t n, char *out, size_t cap)
{
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            size_t b = i, e;
            if (pass == 0) {
                if (s[i] != '[')
                    continue;
                b = i + 1;
                if (n - b > 5 && !strncasecmp(s + b, "IPv6:", 5))
                    b += 5;
                e = b;
                while (e < n && s[e] != ']')
                    e++;
            } else {
                if (!isxdigit((unsigned char)s[i]) && s[i] != ':')
                    continue;
                if (i > 0 && (isalnum((unsigned char)s[i - 1]) || s[i - 1] == '.' ||
                              s[i - 1] == ':' || s[i - 1] == '-'))
                    continue;
                e = i;
                while (e < n && (isxdigit((unsigned char)s[e]) || s[e] == '.' || s[e] == ':'))
                    e++;
            }
            char tmp[64];
            if (e <= b || e - b >= sizeof(tmp))
                continue;
            memcpy(tmp, s + b, e - b);
            tmp[e - b] = '\0';
            unsigned char bin[16];
            if (inet_pton(AF_INET, tmp, bin) == 1 ||
                (strchr(tmp, ':') && inet_pton(AF_INET6, tmp, bin) == 1)) {
                size_t k = e - b < cap ? e - b : cap - 1;
                memcpy(out, tmp, k);
                out[k] = '\0';
                return true;
            }
        }
    }
    return false;
}

static const char *dup_tok(struct sample_ctx *c, const struct tok *t)
{
    return sample_strndup(c, t->p, t->n);
}

void sample_parse_received(struct sample_ctx *c, const char *v, struct cw_sample_hop *hop)
{
    memset(hop, 0, sizeof(*hop));
    size_t len = strlen(v);
    /* the date follows the last ';' outside comments */
    size_t i = 0, semi = len;
    struct tok t;
    while (next_tok(v, len, &i, &t))
        if (!t.comment && t.n == 1 && t.p[0] == ';')
            semi = (size_t)(t.p - v);
    if (semi < len) {
        const char *d = v + semi + 1;
        size_t n = len - semi - 1;
        while (n && isspace((unsigned char)*d))
            d++, n--;
        while (n && isspace((unsigned char)d[n - 1]))
            n--;
        if (n)
            hop->date = sample_strndup(c, d, n);
    }
    /* clauses: keyword word [comments]; the from clause's comments hold the address */
    const char **slot = NULL;
    bool in_from = false;
    const char *from_b = NULL, *from_e = NULL;
    i = 0;
    while (next_tok(v, semi, &i, &t)) {
        if (tok_is(&t, "from") || tok_is(&t, "by") || tok_is(&t, "with") || tok_is(&t, "for") ||
            tok_is(&t, "id") || tok_is(&t, "via")) {
            in_from = tok_is(&t, "from");
            slot = in_from ? &hop->from
                   : tok_is(&t, "by")   ? &hop->by
                   : tok_is(&t, "with") ? &hop->with
                   : tok_is(&t, "for")  ? &hop->for_addr
                                        : NULL;
            if (in_from && !from_b)
                from_b = t.p + t.n;
            continue;
        }
        if (in_from)
            from_e = t.p + t.n;
        if (t.comment)
            continue;
        if (slot && !*slot) {
            struct tok w = t;
            if (slot == &hop->for_addr && w.n >= 2 && w.p[0] == '<' && w.p[w.n - 1] == '>') {
                w.p++;
                w.n -= 2;
            }
            *slot = dup_tok(c, &w);
        }
        slot = NULL;
    }
    char ip[64];
    if (from_b && from_e && from_e > from_b && find_ip(from_b, (size_t)(from_e - from_b), ip,
                                                        sizeof(ip)))
        hop->ip = sample_strdup(c, ip);
}

/* The domain of a property value: after '@' when it is an address, else itself. */
static void domain_of(const char **p, size_t *n)
{
    const char *at = memchr(*p, '@', *n);
    if (at) {
        *n -= (size_t)(at + 1 - *p);
        *p = at + 1;
    }
}

/* One resinfo "method=result prop=value ..." from tokens [b..e) of v. */
static void one_result(struct sample_ctx *c, const char *v, size_t b, size_t e, const char *origin,
                       sample_auth_fn add, void *u)
{
    size_t i = b;
    struct tok t;
    const char *m = NULL, *res = NULL, *dom = NULL;
    size_t mn = 0, rn = 0, dn = 0;
    int dom_rank = 99;
    /* which property names the domain, best first */
    static const char *props[] = {"header.d", "header.from", "smtp.mailfrom", "header.i",
                                  "smtp.helo", "envelope-from", "helo"};
    while (next_tok(v, e, &i, &t)) {
        if (t.comment)
            continue;
        const char *eq = memchr(t.p, '=', t.n);
        if (!eq)
            continue;
        size_t kn = (size_t)(eq - t.p);
        const char *val = eq + 1;
        size_t vn = t.n - kn - 1;
        if (vn >= 2 && val[0] == '"' && val[vn - 1] == '"')
            val++, vn -= 2;
        if (!m) {
            m = t.p;
            mn = kn;
            const char *slash = memchr(m, '/', mn); /* "dkim/1=pass" */
            if (slash)
                mn = (size_t)(slash - m);
            res = val;
            rn = vn;
            continue;
        }
        for (int k = 0; k < (int)(sizeof(props) / sizeof(props[0])); k++)
            if (k < dom_rank && strlen(props[k]) == kn && !strncasecmp(t.p, props[k], kn) && vn) {
                dom = val;
                dn = vn;
                dom_rank = k;
            }
    }
    if (!m || !mn)
        return;
    if (dom)
        domain_of(&dom, &dn);
    add(c, m, mn, res, rn, dom, dn, origin, u);
}

void sample_parse_auth_results(struct sample_ctx *c, const char *v, sample_auth_fn add, void *u)
{
    size_t len = strlen(v), i = 0, b = 0;
    struct tok t;
    bool first = true; /* the authserv-id before the first ';' is not a result */
    while (true) {
        size_t before = i;
        bool more = next_tok(v, len, &i, &t);
        if (!more || (!t.comment && t.n == 1 && t.p[0] == ';')) {
            size_t e = more ? (size_t)(t.p - v) : len;
            if (!first)
                one_result(c, v, b, e, "Authentication-Results", add, u);
            first = false;
            b = i;
            if (!more)
                break;
        }
        (void)before;
    }
}

void sample_parse_received_spf(struct sample_ctx *c, const char *v, sample_auth_fn add, void *u)
{
    size_t len = strlen(v), i = 0;
    struct tok t;
    if (!next_tok(v, len, &i, &t) || t.comment)
        return;
    const char *res = t.p;
    size_t rn = t.n;
    const char *dom = NULL;
    size_t dn = 0;
    struct tok k;
    while (next_tok(v, len, &i, &k)) {
        if (k.comment)
            continue;
        static const char *props[] = {"envelope-from=", "helo="};
        for (int p = 0; p < 2 && !dom; p++) {
            size_t pn = strlen(props[p]);
            if (k.n > pn && !strncasecmp(k.p, props[p], pn)) {
                dom = k.p + pn;
                dn = k.n - pn;
                if (dn >= 2 && dom[0] == '"' && dom[dn - 1] == '"')
                    dom++, dn -= 2;
                domain_of(&dom, &dn);
            }
        }
    }
    add(c, "spf", 3, res, rn, dom, dn, "Received-SPF", u);
}
