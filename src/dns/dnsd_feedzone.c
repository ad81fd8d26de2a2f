/* dnsd_feedzone.c - the indicator feed's rules: answers, base + overlay + tombs,
 * snapshots and their lookups (see dnsd_feedzone.h for the design). */
#include "dns/dnsd_feedzone.h"

#include <arpa/inet.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/json.h"
#include "dns/dns_msg.h"
#include "dns/dnsd_policy.h"
#include "common/banned.h"

#define MAX_ANSWER (256u << 20) /* bytes of one answer: ~2M rules */

/* -- a set of keys with an action and a tag (overlay, tombs) ---------------- */

struct kent {
    uint32_t hash;
    uint8_t action, trigger, klen;
    char *tag;
    uint8_t key[];
};

struct keymap {
    struct kent **tab;
    size_t cap, n;
};

static uint32_t key_hash(const uint8_t *k, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ k[i]) * 16777619u;
    return h;
}

static long km_slot(const struct keymap *km, const uint8_t *k, size_t n, uint32_t h)
{
    if (!km->cap)
        return -1;
    size_t mask = km->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const struct kent *e = km->tab[i];
        if (!e)
            return -(long)i - 2; /* free slot i */
        if (e->hash == h && e->klen == n && memcmp(e->key, k, n) == 0)
            return (long)i;
    }
}

static const struct kent *km_get(const struct keymap *km, const uint8_t *k, size_t n)
{
    if (!km->n)
        return NULL;
    long i = km_slot(km, k, n, key_hash(k, n));
    return i >= 0 ? km->tab[i] : NULL;
}

static int km_grow(struct keymap *km)
{
    size_t ncap = km->cap ? km->cap * 2 : 64;
    struct kent **nt = calloc(ncap, sizeof(*nt));
    if (!nt)
        return -1;
    for (size_t i = 0; i < km->cap; i++) {
        struct kent *e = km->tab[i];
        if (!e)
            continue;
        size_t j = e->hash & (ncap - 1);
        while (nt[j])
            j = (j + 1) & (ncap - 1);
        nt[j] = e;
    }
    free(km->tab);
    km->tab = nt;
    km->cap = ncap;
    return 0;
}

/* Insert or replace. 0, -1 OOM. */
static int km_put(struct keymap *km, const uint8_t *k, size_t n, uint8_t action, uint8_t trigger,
                  const char *tag)
{
    if ((km->n + 1) * 2 > km->cap && km_grow(km))
        return -1;
    uint32_t h = key_hash(k, n);
    long i = km_slot(km, k, n, h);
    size_t tl = tag ? strlen(tag) : 0;
    char *t = tl ? malloc(tl + 1) : NULL;
    if (tl && !t)
        return -1;
    if (t)
        memcpy(t, tag, tl + 1);
    if (i >= 0) {
        free(km->tab[i]->tag);
        km->tab[i]->tag = t;
        km->tab[i]->action = action;
        km->tab[i]->trigger = trigger;
        return 0;
    }
    struct kent *e = malloc(sizeof(*e) + n);
    if (!e) {
        free(t);
        return -1;
    }
    e->hash = h;
    e->action = action;
    e->trigger = trigger;
    e->klen = (uint8_t)n;
    e->tag = t;
    memcpy(e->key, k, n);
    km->tab[-i - 2] = e;
    km->n++;
    return 0;
}

/* Remove k if present (backward-shift deletion keeps probe chains whole). */
static bool km_del(struct keymap *km, const uint8_t *k, size_t n)
{
    if (!km->n)
        return false;
    long i = km_slot(km, k, n, key_hash(k, n));
    if (i < 0)
        return false;
    free(km->tab[i]->tag);
    free(km->tab[i]);
    km->tab[i] = NULL;
    km->n--;
    size_t mask = km->cap - 1, hole = (size_t)i;
    for (size_t j = (hole + 1) & mask; km->tab[j]; j = (j + 1) & mask) {
        size_t home = km->tab[j]->hash & mask;
        /* move j into the hole unless its home lies cyclically in (hole, j] */
        bool stays = hole < j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!stays) {
            km->tab[hole] = km->tab[j];
            km->tab[j] = NULL;
            hole = j;
        }
    }
    return true;
}

static void km_clear(struct keymap *km)
{
    for (size_t i = 0; i < km->cap; i++)
        if (km->tab[i]) {
            free(km->tab[i]->tag);
            free(km->tab[i]);
        }
    free(km->tab);
    memset(km, 0, sizeof(*km));
}

static int km_copy(struct keymap *dst, const struct keymap *src)
{
    memset(dst, 0, sizeof(*dst));
    for (size_t i = 0; i < src->cap; i++) {
        const struct kent *e = src->tab[i];
        if (e && km_put(dst, e->key, e->klen, e->action, e->trigger, e->tag)) {
            km_clear(dst);
            return -1;
        }
    }
    return 0;
}

/* -- answers ---------------------------------------------------------------------- */

static const struct {
    const char *name;
    uint8_t act;
} feed_actions[] = {
    {"nxdomain", CW_RPZ_ACT_NXDOMAIN},
    {"nodata", CW_RPZ_ACT_NODATA},
    {"drop", CW_RPZ_ACT_DROP},
    {"passthru", CW_RPZ_ACT_PASSTHRU},
};

static void rule_bad(struct cw_feed_msg *m, size_t idx, const char *why)
{
    if (!m->bad++)
        snprintf(m->bad_reason, sizeof(m->bad_reason), "rule %zu: %s", idx, why);
}

static bool str_is(const struct cw_json *j, int t, const char *lit)
{
    return t >= 0 && cw_json_is(j, t, JSMN_STRING) && cw_json_eq(j, t, lit);
}

/* A string field into the arena (NUL-terminated); NULL when absent or not a string. */
static const char *str_field(const struct cw_json *j, int obj, const char *key,
                             struct cw_arena *a, size_t *len)
{
    int t = cw_json_get(j, obj, key);
    const char *s;
    size_t n;
    if (t < 0 || cw_json_str(j, t, a, &s, &n))
        return NULL;
    char *c = cw_arena_strndup(a, s, n);
    if (c && len)
        *len = n;
    return c;
}

static bool bool_field(const struct cw_json *j, int obj, const char *key, bool *out)
{
    int t = cw_json_get(j, obj, key);
    if (t < 0)
        return true; /* absent: the default */
    if (cw_json_eq(j, t, "true"))
        *out = true;
    else if (cw_json_eq(j, t, "false"))
        *out = false;
    else
        return false;
    return true;
}

/* Tags go into EDE text and logs: printable ASCII without spaces or quotes. */
static bool tag_ok(const char *s, size_t n)
{
    if (n >= CW_RPZ_TAG_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~' || s[i] == '"' || s[i] == '\\')
            return false;
    return true;
}

/* Does the name's last label make it a trigger of another kind in a zone? */
static bool rpz_label_last(const uint8_t *w, size_t wl)
{
    static const char *const special[] = {"rpz-ip", "rpz-client-ip", "rpz-nsdname", "rpz-nsip"};
    size_t p = 0, last = 0;
    while (p < wl && w[p]) {
        last = p;
        p += 1u + w[p];
    }
    for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
        if (w[last] == strlen(special[i]) && !strncasecmp((const char *)w + last + 1, special[i],
                                                         w[last]))
            return true;
    return false;
}

static const char *rule_parse(const struct cw_json *j, int t, struct cw_feed_msg *m,
                              struct cw_feed_rule *r)
{
    memset(r, 0, sizeof(*r));
    if (!cw_json_is(j, t, JSMN_OBJECT))
        return "not an object";
    int op = cw_json_get(j, t, "op");
    if (str_is(j, op, "del"))
        r->del = true;
    else if (!str_is(j, op, "add"))
        return "op is not \"add\" or \"del\"";
    int trig = cw_json_get(j, t, "trigger");
    size_t nl = 0, tl = 0;
    const char *name = str_field(j, t, "name", &m->arena, &nl);
    if (!name || !nl)
        return "no name";
    if (!bool_field(j, t, "wildcard", &r->wildcard))
        return "wildcard is not a boolean";
    uint8_t key[CW_RPZ_KEY_MAX];
    int kl;
    if (str_is(j, trig, "qname")) {
        uint8_t w[CW_DNS_NAME_MAX];
        size_t wl;
        if (cw_dns_name_from_text(name, nl, w, &wl) || wl <= 1)
            return "name is not a domain name";
        if (w[0] == 1 && w[1] == '*') { /* "*.example" written out: the wildcard form */
            memmove(w, w + 2, wl - 2);
            wl -= 2;
            r->wildcard = true;
            if (wl <= 1)
                return "name is not a domain name";
        }
        if (rpz_label_last(w, wl))
            return "name ends in an RPZ trigger label (rpz-ip, rpz-nsdname, ...)";
        r->trigger = CW_RPZ_TRIG_QNAME;
        kl = cw_rpz_key_qname(w, wl, r->wildcard, key);
    } else if (str_is(j, trig, "ip")) {
        struct cw_dnsd_cidr c;
        if (cw_dnsd_cidr_parse(name, &c) || c.prefix == 0)
            return "name is not an address or CIDR (prefix 1 or more)";
        r->trigger = CW_RPZ_TRIG_IP;
        r->wildcard = false;
        r->addr.family = c.family;
        memcpy(r->addr.addr, c.addr, 16);
        r->prefix = c.prefix;
        kl = cw_rpz_key_ip(CW_RPZ_TRIG_IP, &r->addr, c.prefix, key);
    } else {
        return "trigger is not \"qname\" or \"ip\"";
    }
    if (kl <= 0)
        return "name too long";
    r->action = CW_RPZ_ACT_NXDOMAIN; /* the default, and all a del needs */
    int at = cw_json_get(j, t, "action");
    if (at >= 0) {
        size_t k = 0;
        for (; k < sizeof(feed_actions) / sizeof(feed_actions[0]); k++)
            if (str_is(j, at, feed_actions[k].name))
                break;
        if (k == sizeof(feed_actions) / sizeof(feed_actions[0]))
            return "unsupported action";
        r->action = feed_actions[k].act;
    }
    const char *tag = str_field(j, t, "indicator", &m->arena, &tl);
    if (cw_json_get(j, t, "indicator") >= 0 && (!tag || !tag_ok(tag, tl)))
        return "indicator is not printable text of at most 127 bytes";
    r->tag = tag ? tag : "";
    uint8_t *kc = cw_arena_alloc(&m->arena, (size_t)kl);
    if (!kc)
        return "out of memory";
    memcpy(kc, key, (size_t)kl);
    r->key = kc;
    r->key_len = (uint8_t)kl;
    return NULL;
}

/* -- a linear reader of the answer's outer structure ------------------------------
 * jsmn without parent links finds the parent of every closed object by scanning
 * back over all tokens: quadratic in a 1M-rule array (minutes, measured). So the
 * outer object and the rules array are walked here, and each member value and
 * each rule is checked and tokenised by jsmn on its own. */

static size_t skip_ws(const char *t, size_t n, size_t p)
{
    while (p < n && (t[p] == ' ' || t[p] == '\t' || t[p] == '\r' || t[p] == '\n'))
        p++;
    return p;
}

/* End of the value that starts at t[p] (strings, nesting; its content is checked
 * by jsmn later), or 0 when the text ends first. */
static size_t value_end(const char *t, size_t n, size_t p)
{
    if (p >= n)
        return 0;
    if (t[p] == '{' || t[p] == '[' || t[p] == '"') {
        size_t depth = 0;
        bool in_str = false;
        for (; p < n; p++) {
            char c = t[p];
            if (in_str) {
                if (c == '\\')
                    p++;
                else if (c == '"' && (in_str = false, depth == 0))
                    return p + 1;
            } else if (c == '"') {
                in_str = true;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if ((c == '}' || c == ']') && depth && --depth == 0) {
                return p + 1;
            }
        }
        return 0;
    }
    size_t s = p;
    while (p < n && !strchr(",}] \t\r\n", t[p]))
        p++;
    return p > s ? p : 0;
}

#define ELEM_TOKENS 128

static int add_rule(struct cw_feed_msg *m, const char *t, size_t n, size_t idx)
{
    jsmntok_t tok[ELEM_TOKENS];
    struct cw_json j;
    const char *why;
    if (cw_json_parse(&j, t, n, tok, ELEM_TOKENS, &why)) {
        if (strstr(why, "complex")) { /* valid but too big for a rule: skip it */
            rule_bad(m, idx, "too many values for a rule");
            return 0;
        }
        return -1;
    }
    if (m->n == m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 64;
        struct cw_feed_rule *nr = realloc(m->rules, nc * sizeof(*nr));
        if (!nr)
            return -2;
        m->rules = nr;
        m->cap = nc;
    }
    const char *bad = rule_parse(&j, 0, m, &m->rules[m->n]);
    if (bad)
        rule_bad(m, idx, bad);
    else
        m->n++;
    return 0;
}

/* One member of the outer object. 0, or -1 with err. */
static int member(struct cw_feed_msg *m, const char *key, size_t kn, const char *t, size_t n,
                  bool *seen_serial, char *err, size_t errlen)
{
    jsmntok_t tok[4];
    struct cw_json j;
    const char *why;
    int64_t v;
    char buf[260];
    bool known = (kn == 6 && !memcmp(key, "serial", 6)) || (kn == 4 && !memcmp(key, "full", 4)) ||
                 (kn == 5 && !memcmp(key, "since", 5)) || (kn == 4 && !memcmp(key, "zone", 4));
    if (!known)
        return 0; /* another member (its extent was found; it is not read) */
    /* jsmn (strict) wants a delimiter after a bare number: parse a copy + " " */
    if (n >= sizeof(buf) - 1) {
        snprintf(err, errlen, "\"%.*s\" is too long", (int)kn, key);
        return -1;
    }
    memcpy(buf, t, n);
    buf[n] = ' ';
    if (cw_json_parse(&j, buf, n + 1, tok, 4, &why)) {
        snprintf(err, errlen, "\"%.*s\": %s", (int)kn, key, why);
        return -1;
    }
    if (kn == 6 && !memcmp(key, "serial", 6)) {
        if (cw_json_int(&j, 0, &v) || v < 0) {
            snprintf(err, errlen, "no \"serial\" (a number >= 0)");
            return -1;
        }
        m->serial = (uint64_t)v;
        *seen_serial = true;
    } else if (kn == 4 && !memcmp(key, "full", 4)) {
        if (!cw_json_eq(&j, 0, "true") && !cw_json_eq(&j, 0, "false")) {
            snprintf(err, errlen, "\"full\" is not a boolean");
            return -1;
        }
        m->full = cw_json_eq(&j, 0, "true");
    } else if (kn == 5 && !memcmp(key, "since", 5)) {
        if (cw_json_int(&j, 0, &m->since) || m->since < 0) {
            snprintf(err, errlen, "\"since\" is not a number >= 0");
            return -1;
        }
    } else if (kn == 4 && !memcmp(key, "zone", 4)) {
        const char *z;
        size_t zl;
        if (!cw_json_str(&j, 0, &m->arena, &z, &zl) && zl < sizeof(m->zone) && tag_ok(z, zl))
            snprintf(m->zone, sizeof(m->zone), "%.*s", (int)zl, z);
    }
    return 0;
}

static int rules_array(struct cw_feed_msg *m, const char *t, size_t n, size_t *pp, char *err,
                       size_t errlen)
{
    size_t p = skip_ws(t, n, *pp + 1), idx = 0;
    if (p < n && t[p] == ']') {
        *pp = p + 1;
        return 0;
    }
    for (;;) {
        size_t e = value_end(t, n, p);
        int rc = e ? add_rule(m, t + p, e - p, idx++) : -1;
        if (rc) {
            snprintf(err, errlen, rc == -2 ? "out of memory" : "invalid JSON in rule %zu", idx - 1);
            return -1;
        }
        p = skip_ws(t, n, e);
        if (p < n && t[p] == ',') {
            p = skip_ws(t, n, p + 1);
            continue;
        }
        if (p < n && t[p] == ']') {
            *pp = p + 1;
            return 0;
        }
        snprintf(err, errlen, "invalid JSON after rule %zu", idx - 1);
        return -1;
    }
}

int cw_feed_parse(const char *text, size_t n, struct cw_feed_msg *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof(*m));
    m->since = -1;
    cw_arena_init(&m->arena, 65536, 0);
    if (n > MAX_ANSWER) {
        snprintf(err, errlen, "answer larger than %u MiB", MAX_ANSWER >> 20);
        return -1;
    }
    bool seen_serial = false, seen_rules = false;
    size_t p = skip_ws(text, n, 0);
    if (p >= n || text[p] != '{') {
        snprintf(err, errlen, p >= n ? "invalid JSON" : "no \"serial\" (a number >= 0)");
        return -1;
    }
    p = skip_ws(text, n, p + 1);
    while (p < n && text[p] != '}') {
        size_t ke = value_end(text, n, p);
        if (!ke || text[p] != '"') {
            snprintf(err, errlen, "invalid JSON");
            return -1;
        }
        const char *key = text + p + 1;
        size_t kn = ke - p - 2;
        p = skip_ws(text, n, ke);
        if (p >= n || text[p] != ':') {
            snprintf(err, errlen, "invalid JSON");
            return -1;
        }
        p = skip_ws(text, n, p + 1);
        if (kn == 5 && !memcmp(key, "rules", 5)) {
            if (p >= n || text[p] != '[') {
                snprintf(err, errlen, "no \"rules\" array");
                return -1;
            }
            if (rules_array(m, text, n, &p, err, errlen))
                return -1;
            seen_rules = true;
        } else {
            size_t ve = value_end(text, n, p);
            if (!ve) {
                snprintf(err, errlen, "truncated JSON");
                return -1;
            }
            if (member(m, key, kn, text + p, ve - p, &seen_serial, err, errlen))
                return -1;
            p = ve;
        }
        p = skip_ws(text, n, p);
        if (p < n && text[p] == ',')
            p = skip_ws(text, n, p + 1);
        else if (p >= n || text[p] != '}') {
            snprintf(err, errlen, p >= n ? "truncated JSON" : "invalid JSON");
            return -1;
        }
    }
    if (p >= n) {
        snprintf(err, errlen, "truncated JSON");
        return -1;
    }
    if (skip_ws(text, n, p + 1) != n) {
        snprintf(err, errlen, "invalid JSON (data after the answer)");
        return -1;
    }
    if (!seen_serial || !seen_rules) {
        snprintf(err, errlen, !seen_serial ? "no \"serial\" (a number >= 0)" : "no \"rules\" array");
        return -1;
    }
    return 0;
}

void cw_feed_msg_release(struct cw_feed_msg *m)
{
    free(m->rules);
    m->rules = NULL;
    cw_arena_release(&m->arena);
}

static const char *action_text(uint8_t act)
{
    for (size_t k = 0; k < sizeof(feed_actions) / sizeof(feed_actions[0]); k++)
        if (feed_actions[k].act == act)
            return feed_actions[k].name;
    return "nxdomain";
}

/* One rule object; qname keys are turned back into names, ip rules use addr. */
static void rule_write(struct cw_buf *b, bool del, const uint8_t *key, size_t klen, int trig,
                       const struct cw_rpz_addr *addr, unsigned prefix, uint8_t act,
                       const char *tag)
{
    char text[CW_DNS_TEXT_MAX + 8];
    bool wild = false;
    if (trig == CW_RPZ_TRIG_QNAME) {
        uint8_t w[CW_RPZ_KEY_MAX + 1];
        if (klen >= 2 && key[0] == 1 && key[1] == '*') {
            wild = true;
            key += 2;
            klen -= 2;
        }
        memcpy(w, key, klen);
        w[klen] = 0;
        int n = cw_dns_name_to_text(w, klen + 1, text, sizeof(text));
        if (n > 1)
            text[n - 1] = '\0';
        else
            text[0] = '\0';
    } else {
        char a[INET6_ADDRSTRLEN];
        inet_ntop(addr->family == 4 ? AF_INET : AF_INET6, addr->addr, a, sizeof(a));
        snprintf(text, sizeof(text), "%s/%u", a, prefix);
    }
    cw_buf_adds(b, del ? "{\"op\":\"del\",\"trigger\":\"" : "{\"op\":\"add\",\"trigger\":\"");
    cw_buf_adds(b, trig == CW_RPZ_TRIG_QNAME ? "qname" : "ip");
    cw_buf_adds(b, "\",\"name\":");
    cw_buf_add_json_str(b, text, strlen(text));
    cw_buf_addf(b, ",\"wildcard\":%s,\"action\":\"%s\"", wild ? "true" : "false",
                action_text(act));
    if (tag && tag[0]) {
        cw_buf_adds(b, ",\"indicator\":");
        cw_buf_add_json_str(b, tag, strlen(tag));
    }
    cw_buf_addc(b, '}');
}

static void msg_head(struct cw_buf *b, const char *zone, uint64_t serial, int64_t since, bool full)
{
    cw_buf_adds(b, "{\"zone\":");
    cw_buf_add_json_str(b, zone, strlen(zone));
    cw_buf_addf(b, ",\"serial\":%llu", (unsigned long long)serial);
    if (since >= 0)
        cw_buf_addf(b, ",\"since\":%lld", (long long)since);
    cw_buf_addf(b, ",\"full\":%s,\"rules\":[", full ? "true" : "false");
}

void cw_feed_msg_write(const struct cw_feed_msg *m, int64_t since, struct cw_buf *out)
{
    msg_head(out, m->zone, m->serial, since, m->full);
    for (size_t i = 0; i < m->n; i++) {
        const struct cw_feed_rule *r = &m->rules[i];
        if (i)
            cw_buf_addc(out, ',');
        rule_write(out, r->del, r->key, r->key_len, r->trigger, &r->addr, r->prefix, r->action,
                   r->tag);
    }
    cw_buf_adds(out, "]}\n");
}

/* -- the base zone and snapshots ------------------------------------------------- */

struct feed_base {
    _Atomic int refs;
    struct cw_rpz_zone *z;
    size_t rules, ip_rules;
    bool plen[2][129]; /* [v4, v6][prefix]: IP rule prefix lengths present */
};

struct cw_feed_snap {
    _Atomic int refs;
    struct feed_base *base;      /* NULL: empty */
    struct cw_rpz_zone *overlay; /* NULL: empty */
    struct keymap tombs;
    bool plen[2][129];
    uint64_t serial;
    size_t rules, ip_rules;
};

static void base_unref(struct feed_base *b)
{
    if (!b || atomic_fetch_sub(&b->refs, 1) != 1)
        return;
    cw_rpz_zone_free(b->z);
    free(b);
}

static int plen_of(void *ctx, const struct cw_rpz_rule_info *r)
{
    bool(*plen)[129] = ctx;
    if (r->trigger == CW_RPZ_TRIG_IP && r->addr.family)
        plen[r->addr.family == 6][r->prefix] = true;
    return 0;
}

static struct feed_base *base_new(struct cw_rpz_zone *z)
{
    struct feed_base *b = calloc(1, sizeof(*b));
    if (!b) {
        cw_rpz_zone_free(z);
        return NULL;
    }
    atomic_init(&b->refs, 1);
    b->z = z;
    const struct cw_rpz_stats *st = cw_rpz_zone_stats(z);
    b->rules = st->rules;
    b->ip_rules = st->triggers[CW_RPZ_TRIG_IP];
    cw_rpz_zone_foreach(z, plen_of, b->plen);
    return b;
}

struct cw_feed_snap *cw_feed_snap_ref(struct cw_feed_snap *s)
{
    if (s)
        atomic_fetch_add(&s->refs, 1);
    return s;
}

void cw_feed_snap_unref(struct cw_feed_snap *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    base_unref(s->base);
    cw_rpz_zone_free(s->overlay);
    km_clear(&s->tombs);
    free(s);
}

uint64_t cw_feed_snap_serial(const struct cw_feed_snap *s) { return s ? s->serial : 0; }
size_t cw_feed_snap_rules(const struct cw_feed_snap *s) { return s ? s->rules : 0; }
size_t cw_feed_snap_ip_rules(const struct cw_feed_snap *s) { return s ? s->ip_rules : 0; }

/* The live rule of key: the overlay's, else base's unless it is a tomb. Only a
 * rule of the expected trigger counts (a query for "24.0.2.0.192.rpz-ip" is not
 * the IP rule of that key). */
static bool probe(const struct cw_feed_snap *s, const uint8_t *k, size_t n, int trig,
                  struct cw_rpz_match *m)
{
    if (s->overlay && cw_rpz_zone_find(s->overlay, k, n, m))
        return m->trigger == (enum cw_rpz_trigger)trig;
    return s->base && cw_rpz_zone_find(s->base->z, k, n, m) && !km_get(&s->tombs, k, n) &&
           m->trigger == (enum cw_rpz_trigger)trig;
}

static bool eval_qname(const struct cw_feed_snap *s, const uint8_t *name, size_t len,
                       struct cw_rpz_match *m)
{
    uint8_t k[CW_RPZ_KEY_MAX];
    if (!len || cw_dns_name_wire_len(name, len) != len || len < 2)
        return false;
    int kl = cw_rpz_key_qname(name, len, false, k);
    if (kl > 0 && probe(s, k, (size_t)kl, CW_RPZ_TRIG_QNAME, m))
        return true;
    for (size_t p = 0; p < len - 1; p += 1u + name[p]) { /* the name, then each ancestor */
        kl = cw_rpz_key_qname(name + p, len - p, true, k);
        if (kl > 0 && probe(s, k, (size_t)kl, CW_RPZ_TRIG_QNAME, m))
            return true;
    }
    return false;
}

static bool eval_ips(const struct cw_feed_snap *s, const struct cw_rpz_addr *a, size_t n,
                     struct cw_rpz_match *m)
{
    for (int p = 128; p >= 1; p--) {
        bool any = false;
        uint8_t best[16];
        for (int fam = 0; fam < 2; fam++) {
            if (!s->plen[fam][p] || (fam == 0 && p > 32))
                continue;
            for (size_t i = 0; i < n; i++) {
                if (a[i].family != (fam ? 6 : 4))
                    continue;
                uint8_t k[CW_RPZ_KEY_MAX];
                struct cw_rpz_match cand;
                int kl = cw_rpz_key_ip(CW_RPZ_TRIG_IP, &a[i], (unsigned)p, k);
                if (kl <= 0 || !probe(s, k, (size_t)kl, CW_RPZ_TRIG_IP, &cand))
                    continue;
                /* equal prefixes: the smallest network wins (rpz.h rule 4) */
                uint8_t net[16] = {0};
                memcpy(net, a[i].addr, fam ? 16 : 4);
                for (int b = p; b < (fam ? 128 : 32); b++)
                    net[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
                if (!any || memcmp(net, best, 16) < 0) {
                    memcpy(best, net, 16);
                    *m = cand;
                    any = true;
                }
            }
        }
        if (any) {
            m->prefix = (uint8_t)p;
            return true;
        }
    }
    return false;
}

bool cw_feed_snap_evaluate(const struct cw_feed_snap *s, const struct cw_rpz_query *q,
                           struct cw_rpz_match *m)
{
    if (!s || !s->rules)
        return false;
    if (q->qname && eval_qname(s, q->qname, q->qname_len, m))
        return true;
    return s->ip_rules && q->n_answer_ips && eval_ips(s, q->answer_ips, q->n_answer_ips, m);
}

/* -- the state -------------------------------------------------------------------- */

struct cw_feed_state {
    char zone[64];
    struct feed_base *base;
    struct keymap overlay, tombs;
    uint64_t serial;
    size_t rules, ip_rules;
    size_t merge_at;
    struct cw_feed_snap *snap;
};

struct cw_feed_state *cw_feed_state_new(const char *zone, size_t merge_at)
{
    struct cw_feed_state *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    snprintf(st->zone, sizeof(st->zone), "%s", zone && zone[0] ? zone : CW_FEED_ZONE_DEFAULT);
    st->merge_at = merge_at ? merge_at : CW_FEED_MERGE_DEFAULT;
    return st;
}

void cw_feed_state_free(struct cw_feed_state *st)
{
    if (!st)
        return;
    base_unref(st->base);
    km_clear(&st->overlay);
    km_clear(&st->tombs);
    cw_feed_snap_unref(st->snap);
    free(st);
}

uint64_t cw_feed_state_serial(const struct cw_feed_state *st) { return st->serial; }
size_t cw_feed_state_rules(const struct cw_feed_state *st) { return st->rules; }
size_t cw_feed_state_pending(const struct cw_feed_state *st)
{
    return st->overlay.n + st->tombs.n;
}
bool cw_feed_state_should_merge(const struct cw_feed_state *st)
{
    return cw_feed_state_pending(st) > st->merge_at;
}

struct cw_feed_snap *cw_feed_state_snapshot(struct cw_feed_state *st)
{
    return cw_feed_snap_ref(st->snap);
}

static bool base_has(const struct cw_feed_state *st, const uint8_t *k, size_t n)
{
    struct cw_rpz_match m;
    return st->base && cw_rpz_zone_find(st->base->z, k, n, &m);
}

/* Is key live (in the policy) now? */
static bool is_live(const struct cw_feed_state *st, const uint8_t *k, size_t n)
{
    return km_get(&st->overlay, k, n) || (!km_get(&st->tombs, k, n) && base_has(st, k, n));
}

/* A snapshot of the current state: overlay zone from the pending adds (O(delta)),
 * a copy of the tombs, a reference to base. */
static int snap_make(struct cw_feed_state *st)
{
    struct cw_feed_snap *s = calloc(1, sizeof(*s));
    if (!s)
        return -1;
    atomic_init(&s->refs, 1);
    if (st->overlay.n) {
        struct cw_rpz_builder *b = cw_rpz_builder_new(st->zone);
        if (!b)
            goto fail;
        for (size_t i = 0; i < st->overlay.cap; i++) {
            const struct kent *e = st->overlay.tab[i];
            if (!e)
                continue;
            if (cw_rpz_builder_add(b, e->key, e->klen, e->action, e->tag) < 0) {
                cw_rpz_builder_free(b);
                goto fail;
            }
        }
        if (!(s->overlay = cw_rpz_builder_finish(b)))
            goto fail;
        cw_rpz_zone_foreach(s->overlay, plen_of, s->plen);
    }
    if (km_copy(&s->tombs, &st->tombs))
        goto fail;
    if (st->base) {
        atomic_fetch_add(&st->base->refs, 1);
        s->base = st->base;
        for (int f = 0; f < 2; f++)
            for (int p = 0; p <= 128; p++)
                s->plen[f][p] |= st->base->plen[f][p];
    }
    s->serial = st->serial;
    s->rules = st->rules;
    s->ip_rules = st->ip_rules;
    cw_feed_snap_unref(st->snap);
    st->snap = s;
    return 0;
fail:
    cw_feed_snap_unref(s);
    return -1;
}

static int build_full(struct cw_feed_state *st, const struct cw_feed_msg *m)
{
    struct cw_rpz_builder *b = cw_rpz_builder_new(st->zone);
    if (!b)
        return -1;
    for (size_t i = m->n; i-- > 0;) { /* a key given twice: the later rule, as in changes */
        const struct cw_feed_rule *r = &m->rules[i];
        if (!r->del && cw_rpz_builder_add(b, r->key, r->key_len, r->action, r->tag) == -2) {
            cw_rpz_builder_free(b);
            return -1;
        }
    }
    struct cw_rpz_zone *z = cw_rpz_builder_finish(b);
    struct feed_base *nb = z ? base_new(z) : NULL;
    if (!nb)
        return -1;
    base_unref(st->base);
    st->base = nb;
    km_clear(&st->overlay);
    km_clear(&st->tombs);
    st->rules = nb->rules;
    st->ip_rules = nb->ip_rules;
    return 0;
}

static int apply_rule(struct cw_feed_state *st, const struct cw_feed_rule *r)
{
    bool was = is_live(st, r->key, r->key_len);
    if (r->del) {
        km_del(&st->overlay, r->key, r->key_len);
        if (base_has(st, r->key, r->key_len) &&
            km_put(&st->tombs, r->key, r->key_len, 0, r->trigger, NULL))
            return -1;
    } else {
        if (km_put(&st->overlay, r->key, r->key_len, r->action, r->trigger, r->tag))
            return -1;
        km_del(&st->tombs, r->key, r->key_len);
    }
    bool now = !r->del;
    if (was != now) {
        st->rules = now ? st->rules + 1 : st->rules - 1;
        if (r->trigger == CW_RPZ_TRIG_IP)
            st->ip_rules = now ? st->ip_rules + 1 : st->ip_rules - 1;
    }
    return 0;
}

int cw_feed_state_apply(struct cw_feed_state *st, const struct cw_feed_msg *m)
{
    if (m->full) {
        if (build_full(st, m))
            return -1;
    } else {
        for (size_t i = 0; i < m->n; i++)
            if (apply_rule(st, &m->rules[i]))
                return -1; /* out of memory half-way: the caller resyncs in full */
    }
    st->serial = m->serial;
    return snap_make(st);
}

struct merge_ctx {
    struct cw_feed_state *st;
    struct cw_rpz_builder *b;
};

static int merge_rule(void *ctx, const struct cw_rpz_rule_info *r)
{
    struct merge_ctx *mc = ctx;
    if (km_get(&mc->st->tombs, r->key, r->key_len) || km_get(&mc->st->overlay, r->key, r->key_len))
        return 0;
    return cw_rpz_builder_add(mc->b, r->key, r->key_len, r->action, r->tag) == -2 ? -1 : 0;
}

int cw_feed_state_merge(struct cw_feed_state *st)
{
    struct merge_ctx mc = {st, cw_rpz_builder_new(st->zone)};
    if (!mc.b)
        return -1;
    if (st->base && cw_rpz_zone_foreach(st->base->z, merge_rule, &mc)) {
        cw_rpz_builder_free(mc.b);
        return -1;
    }
    for (size_t i = 0; i < st->overlay.cap; i++) {
        const struct kent *e = st->overlay.tab[i];
        if (e && cw_rpz_builder_add(mc.b, e->key, e->klen, e->action, e->tag) == -2) {
            cw_rpz_builder_free(mc.b);
            return -1;
        }
    }
    struct cw_rpz_zone *z = cw_rpz_builder_finish(mc.b);
    struct feed_base *nb = z ? base_new(z) : NULL;
    if (!nb)
        return -1;
    base_unref(st->base);
    st->base = nb;
    km_clear(&st->overlay);
    km_clear(&st->tombs);
    return snap_make(st);
}

struct write_ctx {
    struct cw_buf *b;
    const struct cw_feed_state *st; /* base rules: skip the masked ones; NULL: write all */
    bool first;
};

static int write_rule(void *ctx, const struct cw_rpz_rule_info *r)
{
    struct write_ctx *w = ctx;
    if (w->st && (km_get(&w->st->tombs, r->key, r->key_len) ||
                  km_get(&w->st->overlay, r->key, r->key_len)))
        return 0;
    if (!w->first)
        cw_buf_addc(w->b, ',');
    w->first = false;
    rule_write(w->b, false, r->key, r->key_len, r->trigger, &r->addr, r->prefix, r->action,
               r->tag);
    return 0;
}

int cw_feed_state_write(const struct cw_feed_state *st, struct cw_buf *out)
{
    struct write_ctx w = {out, st, true};
    msg_head(out, st->zone, st->serial, -1, true);
    if (st->base)
        cw_rpz_zone_foreach(st->base->z, write_rule, &w);
    /* the overlay's rules from its zone, which gives back the address of IP keys
     * (the snapshot is always made from the current overlay) */
    w.st = NULL;
    if (st->snap && st->snap->overlay)
        cw_rpz_zone_foreach(st->snap->overlay, write_rule, &w);
    cw_buf_adds(out, "]}\n");
    return cw_buf_ok(out) ? 0 : -1;
}
