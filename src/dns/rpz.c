/* rpz.c - Response Policy Zones: master-file reader, compact rule store, lookups,
 * reference-counted sets. See rpz.h for the contract and the precedence rules.
 *
 * Store layout: every rule is one packed entry in z->store,
 *   [u8 n][n bytes: owner relative to the apex, lower-case wire labels, no root]
 *   [u8 action][u8 trigger | flags][u32 local-data index or NO_DATA]
 * and z->tab is an open-addressing table (linear probing) of {hash, offset + 1}
 * over the full relative owner, wildcards included ("\1*" first label). A lookup
 * builds the key it needs (qname labels, "*." + a suffix, name + "rpz-nsdname")
 * in a stack buffer and probes; the 32-bit hash next to the offset means a miss
 * almost never reads the store. */
#include "dns/rpz.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/log.h"
#include "dns/dns_msg.h"
#include "common/banned.h"

#define NO_DATA 0xFFFFFFFFu
#define F_WILD 0x80u
#define F_TRIG 0x0Fu
#define MAX_TOKENS 64
#define DEFAULT_TTL 3600

struct slot {
    uint32_t hash, off1; /* off1 = offset + 1; 0 = empty */
};

struct rule_data {
    struct cw_rpz_rr *rrs;
    uint32_t n, cap;
    const char *tag; /* built zones: the rule's tag (indicator id), in the arena */
};

struct ip_rule {
    uint8_t trig, family, prefix;
    uint8_t addr[16];
    uint32_t off; /* entry in the store */
};

struct cw_rpz_zone {
    char *name;
    uint8_t apex[CW_DNS_NAME_MAX];
    size_t apex_len;
    struct cw_rpz_stats st;
    uint8_t *store;
    size_t store_len, store_cap;
    struct slot *tab;
    size_t tab_cap, tab_n;
    struct ip_rule *ips;
    size_t nips, ips_cap;
    struct rule_data *data;
    size_t ndata, data_cap;
    struct cw_arena arena; /* RDATA bytes */
};

struct cw_rpz_set {
    atomic_int refs;
    struct cw_rpz_zone **z;
    size_t n, cap;
};

static const char *const trig_names[CW_RPZ_TRIG_COUNT] = {"client-ip", "qname", "ip", "nsdname",
                                                          "nsip"};
static const char *const act_names[CW_RPZ_ACT_COUNT] = {
    "none", "nxdomain", "nodata", "passthru", "drop", "tcp-only", "local-data", "cname"};

const char *cw_rpz_trigger_name(enum cw_rpz_trigger t)
{
    return (unsigned)t < CW_RPZ_TRIG_COUNT ? trig_names[t] : "?";
}

const char *cw_rpz_action_name(enum cw_rpz_action a)
{
    return (unsigned)a < CW_RPZ_ACT_COUNT ? act_names[a] : "?";
}

/* -- the store and its hash table ----------------------------------------- */

static uint32_t hash_key(const uint8_t *k, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a: keys are short, this is fast enough */
    for (size_t i = 0; i < n; i++)
        h = (h ^ k[i]) * 16777619u;
    return h ? h : 1;
}

static const uint8_t *entry_at(const struct cw_rpz_zone *z, uint32_t off) { return z->store + off; }
static uint8_t entry_action(const uint8_t *e) { return e[1 + e[0]]; }
static uint8_t entry_flags(const uint8_t *e) { return e[2 + e[0]]; }
static uint32_t entry_data(const uint8_t *e)
{
    uint32_t v;
    memcpy(&v, e + 3 + e[0], 4);
    return v;
}
static void entry_set_data(struct cw_rpz_zone *z, uint32_t off, uint32_t idx)
{
    memcpy(z->store + off + 3 + z->store[off], &idx, 4);
}

/* Offset of the entry with key k, or -1. */
static long tab_find(const struct cw_rpz_zone *z, const uint8_t *k, size_t n)
{
    if (!z->tab_cap)
        return -1;
    uint32_t h = hash_key(k, n);
    size_t mask = z->tab_cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const struct slot *s = &z->tab[i];
        if (!s->off1)
            return -1;
        if (s->hash == h) {
            const uint8_t *e = entry_at(z, s->off1 - 1);
            if (e[0] == n && memcmp(e + 1, k, n) == 0)
                return (long)(s->off1 - 1);
        }
    }
}

static void tab_put(struct slot *tab, size_t cap, uint32_t h, uint32_t off1)
{
    size_t mask = cap - 1, i = h & mask;
    while (tab[i].off1)
        i = (i + 1) & mask;
    tab[i].hash = h;
    tab[i].off1 = off1;
}

static int tab_grow(struct cw_rpz_zone *z)
{
    size_t ncap = z->tab_cap ? z->tab_cap * 2 : 1024;
    struct slot *nt = calloc(ncap, sizeof(*nt));
    if (!nt)
        return -1;
    for (size_t i = 0; i < z->tab_cap; i++)
        if (z->tab[i].off1)
            tab_put(nt, ncap, z->tab[i].hash, z->tab[i].off1);
    free(z->tab);
    z->tab = nt;
    z->tab_cap = ncap;
    return 0;
}

/* Append a new entry; returns its offset or -1 (OOM / store past 4 GiB). */
static long store_add(struct cw_rpz_zone *z, const uint8_t *k, size_t n, uint8_t act,
                      uint8_t flags)
{
    size_t need = 1 + n + 6;
    if (z->store_len + need > UINT32_MAX - 1)
        return -1;
    if (z->store_len + need > z->store_cap) {
        size_t ncap = z->store_cap ? z->store_cap * 2 : 4096;
        uint8_t *ns = realloc(z->store, ncap);
        if (!ns)
            return -1;
        z->store = ns;
        z->store_cap = ncap;
    }
    if ((z->tab_n + 1) * 2 > z->tab_cap && tab_grow(z) < 0)
        return -1;
    uint32_t off = (uint32_t)z->store_len;
    uint8_t *e = z->store + off;
    e[0] = (uint8_t)n;
    memcpy(e + 1, k, n);
    e[1 + n] = act;
    e[2 + n] = flags;
    uint32_t nd = NO_DATA;
    memcpy(e + 3 + n, &nd, 4);
    z->store_len += need;
    tab_put(z->tab, z->tab_cap, hash_key(k, n), off + 1);
    z->tab_n++;
    return off;
}

/* -- zone text reading ---------------------------------------------------- */

struct tok {
    const char *p;
    size_t n;
    bool quoted;
};

struct reader {
    struct cw_rpz_zone *z;
    const struct cw_rpz_load_opts *o;
    const char *fname;
    unsigned line;       /* line of the current record */
    uint8_t origin[CW_DNS_NAME_MAX]; /* current $ORIGIN */
    size_t origin_len;
    uint8_t owner[CW_DNS_NAME_MAX];  /* previous owner (absolute) */
    size_t owner_len;
    uint32_t ttl;
    size_t nerr_logged;
    bool seen_soa;
};

static void rd_error(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rd_error(struct reader *r, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    r->z->st.skipped++;
    if (r->o && r->o->on_error)
        r->o->on_error(r->o->ctx, r->fname, r->line, msg);
    else if (r->nerr_logged++ < 10)
        cw_warn("rpz: %s:%u: %s", r->fname, r->line, msg);
}

static bool tok_eq(const struct tok *t, const char *s)
{
    size_t n = strlen(s);
    return !t->quoted && t->n == n && strncasecmp(t->p, s, n) == 0;
}

/* Text name -> absolute wire name (relative names get the current origin). */
static int name_abs(struct reader *r, const struct tok *t, uint8_t out[CW_DNS_NAME_MAX],
                    size_t *olen)
{
    if (t->n == 0) /* an empty quoted token: no name (found by fuzz_rpz) */
        return -1;
    if (t->n == 1 && t->p[0] == '@') {
        if (!r->origin_len)
            return -1;
        memcpy(out, r->origin, r->origin_len);
        *olen = r->origin_len;
        return 0;
    }
    size_t bs = 0; /* backslashes before the final dot: odd = escaped dot */
    for (size_t i = t->n - 1; i > 0 && t->p[i - 1] == '\\'; i--)
        bs++;
    bool absolute = t->n && t->p[t->n - 1] == '.' && bs % 2 == 0;
    size_t n;
    if (cw_dns_name_from_text(t->p, t->n, out, &n))
        return -1;
    if (!absolute) {
        if (!r->origin_len || n - 1 + r->origin_len > CW_DNS_NAME_MAX)
            return -1;
        memcpy(out + n - 1, r->origin, r->origin_len);
        n = n - 1 + r->origin_len;
    }
    *olen = n;
    return 0;
}

static int parse_ttl(const struct tok *t, uint32_t *out)
{
    uint64_t total = 0, cur = 0;
    bool digit = false;
    if (!t->n || t->quoted || t->p[0] < '0' || t->p[0] > '9')
        return -1;
    for (size_t i = 0; i < t->n; i++) {
        char c = t->p[i];
        if (c >= '0' && c <= '9') {
            cur = cur * 10 + (uint64_t)(c - '0');
            digit = true;
        } else {
            uint64_t mul = 0;
            switch (c | 0x20) {
            case 's': mul = 1; break;
            case 'm': mul = 60; break;
            case 'h': mul = 3600; break;
            case 'd': mul = 86400; break;
            case 'w': mul = 604800; break;
            default: return -1;
            }
            if (!digit)
                return -1;
            total += cur * mul;
            cur = 0;
            digit = false;
        }
        if (cur > 0x7FFFFFFF || total > 0x7FFFFFFF)
            return -1;
    }
    total += cur;
    if (total > 0x7FFFFFFF)
        return -1;
    *out = (uint32_t)total;
    return 0;
}

static void set_name(struct cw_rpz_zone *z, const struct cw_rpz_load_opts *o)
{
    char text[CW_DNS_TEXT_MAX];
    if (o && o->name) {
        z->name = strdup(o->name);
        return;
    }
    int n = cw_dns_name_to_text(z->apex, z->apex_len, text, sizeof(text));
    if (n > 1)
        text[n - 1] = 0; /* no trailing dot in a list name */
    z->name = strdup(n > 0 ? text : "rpz");
}

/* -- record semantics ----------------------------------------------------- */

static const struct {
    const char *label;
    uint8_t trig;
} special_labels[] = {
    {"rpz-client-ip", CW_RPZ_TRIG_CLIENT_IP},
    {"rpz-ip", CW_RPZ_TRIG_IP},
    {"rpz-nsdname", CW_RPZ_TRIG_NSDNAME},
    {"rpz-nsip", CW_RPZ_TRIG_NSIP},
};

/* Last label of a relative name (no root), *pos its offset. */
static const uint8_t *last_label(const uint8_t *rel, size_t n, size_t *pos)
{
    size_t p = 0, last = 0;
    while (p < n) {
        last = p;
        p += 1u + rel[p];
    }
    *pos = last;
    return rel + last;
}

static int trigger_of(const uint8_t *rel, size_t n, size_t *base_len)
{
    size_t pos;
    *base_len = n;
    if (!n)
        return CW_RPZ_TRIG_QNAME;
    const uint8_t *l = last_label(rel, n, &pos);
    for (size_t i = 0; i < sizeof(special_labels) / sizeof(special_labels[0]); i++) {
        size_t ln = strlen(special_labels[i].label);
        if (l[0] == ln && memcmp(l + 1, special_labels[i].label, ln) == 0) {
            *base_len = pos;
            return special_labels[i].trig;
        }
    }
    return CW_RPZ_TRIG_QNAME;
}

/* Parse "P.d.c.b.a" (IPv4) or "P.w8....w1" with "zz" (IPv6), labels reversed. */
static int parse_ip_trigger(const uint8_t *rel, size_t n, struct ip_rule *ir, const char **why)
{
    char lab[16][8];
    size_t nl = 0, p = 0;
    while (p < n) {
        size_t l = rel[p];
        if (nl == 16 || l == 0 || l > 7) {
            *why = "malformed IP trigger";
            return -1;
        }
        memcpy(lab[nl], rel + p + 1, l);
        lab[nl][l] = 0;
        nl++;
        p += 1 + l;
    }
    if (nl < 2) {
        *why = "malformed IP trigger";
        return -1;
    }
    char *end;
    errno = 0;
    long prefix = strtol(lab[0], &end, 10);
    if (*end || errno || prefix < 1) {
        *why = "invalid prefix length";
        return -1;
    }
    char text[64] = "";
    size_t o = 0;
    memset(ir->addr, 0, sizeof(ir->addr));
    bool has_zz = false;
    for (size_t i = 1; i < nl; i++)
        has_zz |= strcmp(lab[i], "zz") == 0;
    if (nl == 5 && !has_zz) { /* IPv6 needs "zz" or 8 groups, so 4 groups are IPv4 */
        for (size_t i = 4; i >= 1; i--)
            o += (size_t)snprintf(text + o, sizeof(text) - o, "%s%s", lab[i], i > 1 ? "." : "");
        ir->family = 4;
        if (prefix > 32 || inet_pton(AF_INET, text, ir->addr) != 1) {
            *why = prefix > 32 ? "invalid prefix length" : "invalid IPv4 address in trigger";
            return -1;
        }
    } else {
        bool zz = false;
        for (size_t i = nl - 1; i >= 1; i--) {
            bool is_zz = strcmp(lab[i], "zz") == 0;
            if (is_zz && zz) {
                *why = "two zz in IPv6 trigger";
                return -1;
            }
            zz |= is_zz;
            o += (size_t)snprintf(text + o, sizeof(text) - o, "%s%s", is_zz ? "" : lab[i],
                                  i > 1 ? ":" : "");
            if (o >= sizeof(text)) {
                *why = "malformed IP trigger";
                return -1;
            }
        }
        /* "zz" first or last needs a doubled colon for inet_pton */
        char fixed[72];
        snprintf(fixed, sizeof(fixed), "%s%s%s", text[0] == ':' ? ":" : "", text,
                 o && text[o - 1] == ':' ? ":" : "");
        ir->family = 6;
        if (prefix > 128 || inet_pton(AF_INET6, fixed, ir->addr) != 1) {
            *why = prefix > 128 ? "invalid prefix length" : "invalid IPv6 address in trigger";
            return -1;
        }
    }
    ir->prefix = (uint8_t)prefix;
    return 0;
}

/* CNAME target -> action (special names are absolute single labels or the root). */
static int cname_action(const uint8_t *t, size_t tn, const uint8_t *owner, size_t on)
{
    static const struct {
        const char *wire;
        size_t n;
        int act;
    } sp[] = {
        {"\0", 1, CW_RPZ_ACT_NXDOMAIN},
        {"\1*", 3, CW_RPZ_ACT_NODATA},
        {"\14rpz-passthru", 14, CW_RPZ_ACT_PASSTHRU},
        {"\10rpz-drop", 10, CW_RPZ_ACT_DROP},
        {"\14rpz-tcp-only", 14, CW_RPZ_ACT_TCP_ONLY},
    };
    for (size_t i = 0; i < sizeof(sp) / sizeof(sp[0]); i++)
        if (tn == sp[i].n && memcmp(t, sp[i].wire, tn) == 0)
            return sp[i].act;
    if (tn == on + 1 && memcmp(t, owner, on) == 0 && t[on] == 0)
        return CW_RPZ_ACT_PASSTHRU; /* legacy: CNAME to the owner's relative part */
    return CW_RPZ_ACT_CNAME;
}

static int txt_rdata(const struct tok *tk, size_t nt, uint8_t *out, size_t cap, size_t *olen)
{
    size_t o = 0;
    for (size_t i = 0; i < nt; i++) {
        size_t start = o++;
        if (o > cap)
            return -1;
        for (size_t j = 0; j < tk[i].n;) {
            uint8_t c;
            if (tk[i].p[j] == '\\' && j + 1 < tk[i].n) {
                if (tk[i].p[j + 1] >= '0' && tk[i].p[j + 1] <= '9' && j + 3 < tk[i].n) {
                    unsigned v = 0;
                    for (size_t k = 1; k <= 3; k++) {
                        char d = tk[i].p[j + k];
                        if (d < '0' || d > '9')
                            return -1;
                        v = v * 10 + (unsigned)(d - '0');
                    }
                    if (v > 255)
                        return -1;
                    c = (uint8_t)v;
                    j += 4;
                } else {
                    c = (uint8_t)tk[i].p[j + 1];
                    j += 2;
                }
            } else {
                c = (uint8_t)tk[i].p[j++];
            }
            if (o - start - 1 >= 255 || o >= cap)
                return -1;
            out[o++] = c;
        }
        out[start] = (uint8_t)(o - start - 1);
    }
    *olen = o;
    return 0;
}

/* RDATA text -> wire for the local-data types crosswatch can synthesise. */
static int rdata_of(struct reader *r, uint16_t type, const struct tok *tk, size_t nt,
                    uint8_t *out, size_t cap, size_t *olen, const char **why)
{
    char tmp[64];
    *why = "bad RDATA";
    switch (type) {
    case CW_DNS_T_A:
    case CW_DNS_T_AAAA:
        if (nt != 1 || tk[0].n >= sizeof(tmp))
            return -1;
        memcpy(tmp, tk[0].p, tk[0].n);
        tmp[tk[0].n] = 0;
        *olen = type == CW_DNS_T_A ? 4 : 16;
        *why = type == CW_DNS_T_A ? "bad IPv4 address" : "bad IPv6 address";
        return inet_pton(type == CW_DNS_T_A ? AF_INET : AF_INET6, tmp, out) == 1 ? 0 : -1;
    case CW_DNS_T_CNAME:
    case CW_DNS_T_PTR:
        if (nt != 1)
            return -1;
        *why = "bad target name";
        return name_abs(r, &tk[0], out, olen);
    case CW_DNS_T_MX: {
        uint32_t pref;
        size_t n;
        if (nt != 2 || parse_ttl(&tk[0], &pref) || pref > 65535 || name_abs(r, &tk[1], out + 2, &n))
            return -1;
        out[0] = (uint8_t)(pref >> 8);
        out[1] = (uint8_t)pref;
        *olen = n + 2;
        return 0;
    }
    case CW_DNS_T_TXT:
        if (nt == 0)
            return -1;
        *why = "bad TXT string (longer than 255 or bad escape)";
        return txt_rdata(tk, nt, out, cap, olen);
    default:
        *why = "unsupported local-data type";
        return -1;
    }
}

static const struct {
    const char *name;
    uint16_t type;
} type_names[] = {
    {"A", CW_DNS_T_A},         {"AAAA", CW_DNS_T_AAAA}, {"CNAME", CW_DNS_T_CNAME},
    {"TXT", CW_DNS_T_TXT},     {"PTR", CW_DNS_T_PTR},   {"MX", CW_DNS_T_MX},
    {"SOA", CW_DNS_T_SOA},     {"NS", CW_DNS_T_NS},     {"DNAME", 39},
    {"SRV", 33},               {"DS", 43},              {"RRSIG", 46},
    {"NSEC", 47},              {"DNSKEY", 48},          {"NSEC3", 50},
    {"HINFO", 13},             {"CAA", 257},            {"HTTPS", 65},
    {"SVCB", 64},              {"NAPTR", 35},           {"SSHFP", 44},
};

static int type_of(const struct tok *t)
{
    for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
        if (tok_eq(t, type_names[i].name))
            return type_names[i].type;
    return -1;
}

/* The side-data slot of the entry at off, created on first use; NULL on OOM. */
static struct rule_data *data_slot(struct cw_rpz_zone *z, uint32_t off)
{
    const uint8_t *e = entry_at(z, off);
    uint32_t idx = entry_data(e);
    if (idx == NO_DATA) {
        if (z->ndata == z->data_cap) {
            size_t nc = z->data_cap ? z->data_cap * 2 : 64;
            struct rule_data *nd = realloc(z->data, nc * sizeof(*nd));
            if (!nd)
                return NULL;
            z->data = nd;
            z->data_cap = nc;
        }
        idx = (uint32_t)z->ndata++;
        memset(&z->data[idx], 0, sizeof(z->data[idx]));
        entry_set_data(z, off, idx);
    }
    return &z->data[idx];
}

static int data_add(struct cw_rpz_zone *z, uint32_t off, uint16_t type, uint32_t ttl,
                    const uint8_t *rd, size_t rdlen)
{
    const uint8_t *e = entry_at(z, off);
    uint32_t idx = entry_data(e);
    if (idx == NO_DATA) {
        if (z->ndata == z->data_cap) {
            size_t nc = z->data_cap ? z->data_cap * 2 : 64;
            struct rule_data *nd = realloc(z->data, nc * sizeof(*nd));
            if (!nd)
                return -1;
            z->data = nd;
            z->data_cap = nc;
        }
        idx = (uint32_t)z->ndata++;
        memset(&z->data[idx], 0, sizeof(z->data[idx]));
        entry_set_data(z, off, idx);
    }
    struct rule_data *d = &z->data[idx];
    if (d->n == d->cap) {
        uint32_t nc = d->cap ? d->cap * 2 : 2;
        struct cw_rpz_rr *nr = realloc(d->rrs, nc * sizeof(*nr));
        if (!nr)
            return -1;
        d->rrs = nr;
        d->cap = nc;
    }
    uint8_t *copy = cw_arena_alloc(&z->arena, rdlen ? rdlen : 1);
    if (!copy)
        return -1;
    memcpy(copy, rd, rdlen);
    d->rrs[d->n++] = (struct cw_rpz_rr){type, (uint16_t)rdlen, ttl, copy};
    return 0;
}

static int ip_add(struct cw_rpz_zone *z, const struct ip_rule *ir)
{
    if (z->nips == z->ips_cap) {
        size_t nc = z->ips_cap ? z->ips_cap * 2 : 16;
        struct ip_rule *n = realloc(z->ips, nc * sizeof(*n));
        if (!n)
            return -1;
        z->ips = n;
        z->ips_cap = nc;
    }
    z->ips[z->nips++] = *ir;
    return 0;
}

/* A new rule for relative owner rel. Returns the entry offset, -1 error (reported),
 * -2 OOM. */
static long rule_new(struct reader *r, const uint8_t *rel, size_t n, uint8_t act)
{
    struct cw_rpz_zone *z = r->z;
    size_t base;
    int trig = trigger_of(rel, n, &base);
    struct ip_rule ir;
    const char *why = NULL;
    bool wild = n >= 2 && rel[0] == 1 && rel[1] == '*';
    if (trig == CW_RPZ_TRIG_CLIENT_IP || trig == CW_RPZ_TRIG_IP || trig == CW_RPZ_TRIG_NSIP) {
        if (parse_ip_trigger(rel, base, &ir, &why)) {
            rd_error(r, "%s", why);
            return -1;
        }
        ir.trig = (uint8_t)trig;
        wild = false;
    } else if (base == 0 && trig != CW_RPZ_TRIG_QNAME) {
        rd_error(r, "empty NSDNAME trigger");
        return -1;
    }
    if (r->o && r->o->max_rules && z->st.rules >= r->o->max_rules) {
        rd_error(r, "rule limit %zu reached", r->o->max_rules);
        return -1;
    }
    long off = store_add(z, rel, n, act, (uint8_t)(trig | (wild ? F_WILD : 0)));
    if (off < 0)
        return -2;
    if (trig != CW_RPZ_TRIG_QNAME && trig != CW_RPZ_TRIG_NSDNAME) {
        ir.off = (uint32_t)off;
        if (ip_add(z, &ir))
            return -2;
    }
    z->st.rules++;
    z->st.triggers[trig]++;
    z->st.actions[act]++;
    if (wild)
        z->st.wildcards++;
    return off;
}

/* Apply one RR (type, rdata) to the rule of relative owner rel. */
static int apply_rr(struct reader *r, const uint8_t *rel, size_t n, uint16_t type, uint32_t ttl,
                    const uint8_t *rd, size_t rdlen)
{
    uint8_t act = CW_RPZ_ACT_LOCAL_DATA;
    if (type == CW_DNS_T_CNAME)
        act = (uint8_t)cname_action(rd, rdlen, rel, n);
    long off = tab_find(r->z, rel, n);
    if (off >= 0) {
        uint8_t old = entry_action(entry_at(r->z, (uint32_t)off));
        if (old == CW_RPZ_ACT_LOCAL_DATA && act == CW_RPZ_ACT_LOCAL_DATA)
            return data_add(r->z, (uint32_t)off, type, ttl, rd, rdlen) ? -2 : 0;
        r->z->st.duplicates++;
        rd_error(r, "conflicting %s rule for an owner that already has %s (first kept)",
                 cw_rpz_action_name(act), cw_rpz_action_name(old));
        r->z->st.skipped--; /* counted as a duplicate, not as a bad record */
        return 0;
    }
    off = rule_new(r, rel, n, act);
    if (off < 0)
        return (int)off == -2 ? -2 : 0;
    if (act == CW_RPZ_ACT_LOCAL_DATA || act == CW_RPZ_ACT_CNAME)
        return data_add(r->z, (uint32_t)off, type, ttl, rd, rdlen) ? -2 : 0;
    return 0;
}

/* Split a logical record into tokens; quoted strings keep their inside only. */
static size_t tokenize(char *s, size_t n, struct tok *t, size_t max)
{
    size_t nt = 0, i = 0;
    while (i < n && nt < max) {
        while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
            i++;
        if (i >= n)
            break;
        struct tok k = {s + i, 0, false};
        if (s[i] == '"') {
            k.quoted = true;
            k.p = s + ++i;
            while (i < n && s[i] != '"')
                i += (s[i] == '\\' && i + 1 < n) ? 2 : 1;
            k.n = (size_t)(s + i - k.p);
            i++;
        } else {
            while (i < n && s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
                i += (s[i] == '\\' && i + 1 < n) ? 2 : 1;
            if (i > n)
                i = n;
            k.n = (size_t)(s + i - k.p);
        }
        t[nt++] = k;
    }
    return nt;
}

static int directive(struct reader *r, struct tok *t, size_t nt)
{
    if (tok_eq(&t[0], "$ORIGIN")) {
        uint8_t w[CW_DNS_NAME_MAX];
        size_t n;
        if (nt != 2 || name_abs(r, &t[1], w, &n)) {
            rd_error(r, "bad $ORIGIN");
            return 0;
        }
        memcpy(r->origin, w, n);
        r->origin_len = n;
        cw_dns_name_lower(r->origin, n);
    } else if (tok_eq(&t[0], "$TTL")) {
        if (nt != 2 || parse_ttl(&t[1], &r->ttl))
            rd_error(r, "bad $TTL");
    } else if (tok_eq(&t[0], "$INCLUDE")) {
        rd_error(r, "$INCLUDE refused (a policy zone must be one file)");
    } else {
        rd_error(r, "unknown directive %.*s", (int)(t[0].n > 32 ? 32 : t[0].n), t[0].p);
    }
    return 0;
}

/* Owner, optional TTL and class in either order, type. Returns index of the first
 * RDATA token, or -1 (reported). */
static int record_head(struct reader *r, struct tok *t, size_t nt, bool blank_owner,
                       uint32_t *ttl, int *type)
{
    size_t i = 0;
    if (!blank_owner) {
        if (name_abs(r, &t[0], r->owner, &r->owner_len)) {
            r->owner_len = 0;
            rd_error(r, "bad owner name (or relative name without $ORIGIN)");
            return -1;
        }
        cw_dns_name_lower(r->owner, r->owner_len);
        i = 1;
    } else if (!r->owner_len) {
        rd_error(r, "record without an owner");
        return -1;
    }
    *ttl = r->ttl;
    for (int k = 0; k < 2 && i < nt; k++) {
        if (tok_eq(&t[i], "IN")) {
            i++;
        } else if (tok_eq(&t[i], "CH") || tok_eq(&t[i], "HS") || tok_eq(&t[i], "CS")) {
            rd_error(r, "class is not IN");
            return -1;
        } else if (!parse_ttl(&t[i], ttl)) {
            i++;
        }
    }
    if (i >= nt) {
        rd_error(r, "missing record type");
        return -1;
    }
    *type = type_of(&t[i]);
    if (*type < 0) {
        rd_error(r, "unknown record type %.*s", (int)(t[i].n > 16 ? 16 : t[i].n), t[i].p);
        return -1;
    }
    return (int)i + 1;
}

static void set_apex(struct reader *r, const uint8_t *name, size_t n)
{
    memcpy(r->z->apex, name, n);
    r->z->apex_len = n;
}

static int record(struct reader *r, char *s, size_t n, bool blank_owner)
{
    struct tok t[MAX_TOKENS];
    size_t nt = tokenize(s, n, t, MAX_TOKENS);
    if (!nt)
        return 0;
    r->z->st.lines++;
    if (!blank_owner && t[0].n && t[0].p[0] == '$' && !t[0].quoted)
        return directive(r, t, nt);
    uint32_t ttl;
    int type;
    int rdi = record_head(r, t, nt, blank_owner, &ttl, &type);
    if (rdi < 0)
        return 0;
    r->seen_soa |= type == CW_DNS_T_SOA;
    if (type == CW_DNS_T_SOA && !r->z->apex_len) {
        set_apex(r, r->owner, r->owner_len);
        if (!r->origin_len) { /* like a zone named in the config: apex = default origin */
            memcpy(r->origin, r->owner, r->owner_len);
            r->origin_len = r->owner_len;
        }
    }
    if (!r->z->apex_len && r->origin_len)
        set_apex(r, r->origin, r->origin_len); /* records before any SOA */
    if (!r->z->apex_len) {
        rd_error(r, "no zone origin (no $ORIGIN and no SOA yet)");
        return 0;
    }
    if (!cw_dns_name_is_sub(r->owner, r->owner_len, r->z->apex, r->z->apex_len)) {
        rd_error(r, "owner outside the policy zone");
        return 0;
    }
    size_t reln = r->owner_len - r->z->apex_len;
    if (type == CW_DNS_T_SOA || type == CW_DNS_T_NS || reln == 0 || type > 255 ||
        (type >= 39 && type != CW_DNS_T_AAAA)) {
        r->z->st.ignored++; /* apex data, delegations and DNSSEC records carry no policy */
        return 0;
    }
    uint8_t rd[4096];
    size_t rdlen;
    const char *why;
    if (rdata_of(r, (uint16_t)type, t + rdi, nt - (size_t)rdi, rd, sizeof(rd), &rdlen, &why)) {
        rd_error(r, "%s", why);
        return 0;
    }
    if (type == CW_DNS_T_CNAME)
        cw_dns_name_lower(rd, rdlen);
    return apply_rr(r, r->owner, reln, (uint16_t)type, ttl, rd, rdlen);
}

/* Join physical lines into logical records (parentheses, comments, quotes). */
static int read_text(struct reader *r, const char *text, size_t n)
{
    char *rec = malloc(CW_RPZ_LINE_MAX + 1);
    if (!rec)
        return -2;
    size_t rl = 0;
    unsigned line = 1;
    int depth = 0, rc = 0;
    bool quote = false, too_long = false, blank = false, start = true;
    r->line = 1;
    for (size_t i = 0; i <= n && rc != -2; i++) {
        char c = i < n ? text[i] : '\n';
        if (start) {
            r->line = line;
            blank = (c == ' ' || c == '\t');
            start = false;
        }
        if (c == '\n' || i == n) {
            line++;
            if (depth > 0 && i < n && !quote) {
                c = ' ';
            } else {
                if (quote || depth > 0)
                    rd_error(r, quote ? "unterminated quoted string" : "unterminated parenthesis");
                else if (too_long)
                    rd_error(r, "record longer than %d bytes", CW_RPZ_LINE_MAX);
                else
                    rc = record(r, rec, rl, blank);
                rl = 0;
                depth = 0;
                quote = too_long = false;
                start = true;
                continue;
            }
        } else if (!quote && c == ';') {
            while (i + 1 < n && text[i + 1] != '\n')
                i++;
            continue;
        } else if (c == '\\' && i + 1 < n && text[i + 1] != '\n') {
            if (rl + 2 <= CW_RPZ_LINE_MAX) {
                rec[rl++] = c;
                rec[rl++] = text[++i];
            } else {
                too_long = true;
                i++;
            }
            continue;
        } else if (c == '"') {
            quote = !quote;
        } else if (!quote && (c == '(' || c == ')')) {
            depth += c == '(' ? 1 : -1;
            if (depth < 0) {
                too_long = true; /* reported below as a bad record */
                depth = 0;
            }
            c = ' ';
        } else if (c == 0) {
            c = ' ';
        }
        if (rl < CW_RPZ_LINE_MAX)
            rec[rl++] = c;
        else
            too_long = true;
    }
    free(rec);
    return rc;
}

/* -- loading -------------------------------------------------------------- */

static void zone_shrink(struct cw_rpz_zone *z)
{
    if (z->store_len && z->store_len < z->store_cap) {
        uint8_t *s = realloc(z->store, z->store_len);
        if (s) {
            z->store = s;
            z->store_cap = z->store_len;
        }
    }
    z->st.bytes = sizeof(*z) + z->store_cap + z->tab_cap * sizeof(struct slot) +
                  z->ips_cap * sizeof(struct ip_rule) + z->data_cap * sizeof(struct rule_data) +
                  z->arena.used_total;
    for (size_t i = 0; i < z->ndata; i++)
        z->st.bytes += z->data[i].cap * sizeof(struct cw_rpz_rr);
}

struct cw_rpz_zone *cw_rpz_zone_load_mem(const char *text, size_t n, const char *fname,
                                         const struct cw_rpz_load_opts *opts,
                                         struct cw_rpz_stats *st, char *err, size_t errlen)
{
    struct cw_rpz_zone *z = calloc(1, sizeof(*z));
    struct reader r = {.z = z, .o = opts, .fname = fname ? fname : "(memory)"};
    if (!z) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    cw_arena_init(&z->arena, 16384, 0);
    r.ttl = opts && opts->default_ttl ? opts->default_ttl : DEFAULT_TTL;
    if (opts && opts->origin) {
        if (cw_dns_name_from_text(opts->origin, strlen(opts->origin), r.origin, &r.origin_len)) {
            snprintf(err, errlen, "%s: bad origin %s", r.fname, opts->origin);
            goto fail;
        }
        cw_dns_name_lower(r.origin, r.origin_len);
        set_apex(&r, r.origin, r.origin_len);
    }
    if (read_text(&r, text, n) == -2) {
        snprintf(err, errlen, "%s: out of memory", r.fname);
        goto fail;
    }
    if (st)
        *st = z->st;
    /* nothing usable and not even a SOA: not a zone (BIND's "broken" case); an
     * empty zone with a SOA is a valid, empty policy */
    if (!z->st.rules && (!z->apex_len || (z->st.skipped && !r.seen_soa))) {
        snprintf(err, errlen, "%s: no usable record (%zu skipped)", r.fname, z->st.skipped);
        goto fail;
    }
    set_name(z, opts);
    zone_shrink(z);
    if (st)
        *st = z->st;
    if (!z->name) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    return z;
fail:
    cw_rpz_zone_free(z);
    return NULL;
}

struct cw_rpz_zone *cw_rpz_zone_load_file(const char *path, const struct cw_rpz_load_opts *opts,
                                          struct cw_rpz_stats *st, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 65536 > cap) {
            size_t nc = cap ? cap * 2 : 65536 * 2;
            char *nb = realloc(buf, nc);
            if (!nb) {
                free(buf);
                fclose(f);
                snprintf(err, errlen, "%s: out of memory", path);
                return NULL;
            }
            buf = nb;
            cap = nc;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        snprintf(err, errlen, "cannot read %s", path);
        return NULL;
    }
    struct cw_rpz_zone *z = cw_rpz_zone_load_mem(buf, len, path, opts, st, err, errlen);
    free(buf);
    return z;
}

void cw_rpz_zone_free(struct cw_rpz_zone *z)
{
    if (!z)
        return;
    for (size_t i = 0; i < z->ndata; i++)
        free(z->data[i].rrs);
    free(z->data);
    free(z->ips);
    free(z->tab);
    free(z->store);
    free(z->name);
    cw_arena_release(&z->arena);
    free(z);
}

const char *cw_rpz_zone_name(const struct cw_rpz_zone *z) { return z->name; }

const uint8_t *cw_rpz_zone_origin(const struct cw_rpz_zone *z, size_t *len)
{
    *len = z->apex_len;
    return z->apex;
}

const struct cw_rpz_stats *cw_rpz_zone_stats(const struct cw_rpz_zone *z) { return &z->st; }

/* -- lookups -------------------------------------------------------------- */

static void fill_match(const struct cw_rpz_zone *z, uint32_t off, struct cw_rpz_match *m)
{
    const uint8_t *e = entry_at(z, off);
    uint8_t w[CW_DNS_NAME_MAX + 1];
    memset(m, 0, sizeof(*m));
    m->action = entry_action(e);
    m->trigger = entry_flags(e) & F_TRIG;
    m->wildcard = (entry_flags(e) & F_WILD) != 0;
    m->zone = z;
    m->zone_name = z->name;
    memcpy(w, e + 1, e[0]);
    w[e[0]] = 0;
    int n = cw_dns_name_to_text(w, (size_t)e[0] + 1, m->rule, sizeof(m->rule));
    if (n > 1)
        m->rule[n - 1] = 0;
    uint32_t d = entry_data(e);
    if (d != NO_DATA) {
        m->rrs = z->data[d].rrs;
        m->nrr = z->data[d].n;
        if (z->data[d].tag)
            snprintf(m->rule, sizeof(m->rule), "%s", z->data[d].tag);
    }
}

/* key = name labels (no root) + optional suffix label; -1 if too long. */
static long find_name(const struct cw_rpz_zone *z, const uint8_t *labels, size_t n,
                      bool wild, const char *suffix)
{
    uint8_t k[2 * CW_DNS_NAME_MAX];
    size_t o = 0, sl = suffix ? strlen(suffix) : 0;
    if (wild) {
        k[o++] = 1;
        k[o++] = '*';
    }
    memcpy(k + o, labels, n);
    o += n;
    if (sl) {
        k[o++] = (uint8_t)sl;
        memcpy(k + o, suffix, sl);
        o += sl;
    }
    if (o > CW_DNS_NAME_MAX)
        return -1;
    return tab_find(z, k, o);
}

/* Exact first, then wildcards from the longest suffix to the apex wildcard. */
static bool lookup_name(const struct cw_rpz_zone *z, const uint8_t *name, size_t len,
                        const char *suffix, int trig, struct cw_rpz_match *m)
{
    if (!len || cw_dns_name_wire_len(name, len) != len)
        return false;
    size_t n = len - 1; /* without the root */
    long off = find_name(z, name, n, false, suffix);
    if (off >= 0 && (entry_flags(entry_at(z, (uint32_t)off)) & F_TRIG) == (unsigned)trig) {
        fill_match(z, (uint32_t)off, m);
        return true;
    }
    for (size_t p = name[0] + 1u; p <= n; p += (p < n ? 1u + name[p] : 1u)) {
        off = find_name(z, name + p, n - p, true, suffix);
        if (off >= 0 && (entry_flags(entry_at(z, (uint32_t)off)) & F_TRIG) == (unsigned)trig) {
            fill_match(z, (uint32_t)off, m);
            return true;
        }
        /* RFC 4592 closest encloser: a rule owning this ancestor hides the
         * wildcards above it (x.b.a is not matched by *.a when b.a is a rule) */
        if (p == n || find_name(z, name + p, n - p, false, suffix) >= 0)
            break;
    }
    return false;
}

bool cw_rpz_zone_lookup_qname(const struct cw_rpz_zone *z, const uint8_t *qname, size_t qlen,
                              struct cw_rpz_match *m)
{
    return lookup_name(z, qname, qlen, NULL, CW_RPZ_TRIG_QNAME, m);
}

bool cw_rpz_zone_lookup_nsdname(const struct cw_rpz_zone *z, const uint8_t *name, size_t len,
                                struct cw_rpz_match *m)
{
    return lookup_name(z, name, len, "rpz-nsdname", CW_RPZ_TRIG_NSDNAME, m);
}

static bool prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    unsigned bytes = bits / 8, rem = bits % 8;
    if (memcmp(a, b, bytes) != 0)
        return false;
    if (!rem)
        return true;
    uint8_t mask = (uint8_t)(0xFF << (8 - rem));
    return (a[bytes] & mask) == (b[bytes] & mask);
}

/* Is rule x better than y: longer prefix, then smaller address. */
static bool ip_better(const struct ip_rule *x, const struct ip_rule *y)
{
    if (!y)
        return true;
    if (x->prefix != y->prefix)
        return x->prefix > y->prefix;
    return memcmp(x->addr, y->addr, 16) < 0;
}

static const struct ip_rule *ip_best(const struct cw_rpz_zone *z, enum cw_rpz_trigger t,
                                     const struct cw_rpz_addr *a, const struct ip_rule *best)
{
    for (size_t i = 0; i < z->nips; i++) {
        const struct ip_rule *ir = &z->ips[i];
        if (ir->trig == t && ir->family == a->family && prefix_match(ir->addr, a->addr, ir->prefix) &&
            ip_better(ir, best))
            best = ir;
    }
    return best;
}

bool cw_rpz_zone_lookup_ip(const struct cw_rpz_zone *z, enum cw_rpz_trigger t,
                           const struct cw_rpz_addr *a, struct cw_rpz_match *m)
{
    const struct ip_rule *b = ip_best(z, t, a, NULL);
    if (!b)
        return false;
    fill_match(z, b->off, m);
    m->prefix = b->prefix;
    return true;
}

static bool ips_lookup(const struct cw_rpz_zone *z, enum cw_rpz_trigger t,
                       const struct cw_rpz_addr *a, size_t n, struct cw_rpz_match *m)
{
    const struct ip_rule *best = NULL;
    for (size_t i = 0; i < n; i++)
        best = ip_best(z, t, &a[i], best);
    if (!best)
        return false;
    fill_match(z, best->off, m);
    m->prefix = best->prefix;
    return true;
}

/* -- zones built from rules ------------------------------------------------ */

struct cw_rpz_builder {
    struct cw_rpz_zone *z;
};

int cw_rpz_key_qname(const uint8_t *name, size_t len, bool wildcard, uint8_t out[CW_RPZ_KEY_MAX])
{
    if (!len || cw_dns_name_wire_len(name, len) != len)
        return -1;
    size_t o = 0, n = len - 1; /* without the root */
    if (wildcard) {
        out[o++] = 1;
        out[o++] = '*';
    }
    if (o + n > CW_RPZ_KEY_MAX)
        return -1;
    for (size_t i = 0; i < n; i++) /* length bytes are < 64, below 'A' */
        out[o + i] = (uint8_t)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    return (int)(o + n);
}

static int key_label(uint8_t *out, size_t *o, const char *text)
{
    size_t n = strlen(text);
    if (n == 0 || n > 63 || *o + 1 + n > CW_RPZ_KEY_MAX)
        return -1;
    out[(*o)++] = (uint8_t)n;
    memcpy(out + *o, text, n);
    *o += n;
    return 0;
}

int cw_rpz_key_ip(enum cw_rpz_trigger t, const struct cw_rpz_addr *a, unsigned prefix,
                  uint8_t out[CW_RPZ_KEY_MAX])
{
    const char *suffix = t == CW_RPZ_TRIG_CLIENT_IP ? "rpz-client-ip"
                         : t == CW_RPZ_TRIG_IP      ? "rpz-ip"
                         : t == CW_RPZ_TRIG_NSIP    ? "rpz-nsip"
                                                    : NULL;
    unsigned bits = a->family == 4 ? 32 : a->family == 6 ? 128 : 0;
    if (!suffix || !bits || prefix < 1 || prefix > bits)
        return -1;
    uint8_t m[16] = {0};
    memcpy(m, a->addr, bits / 8);
    for (unsigned i = prefix; i < bits; i++) /* host bits off: one key per network */
        m[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
    size_t o = 0;
    char lab[16];
    snprintf(lab, sizeof(lab), "%u", prefix);
    if (key_label(out, &o, lab))
        return -1;
    if (bits == 32) {
        for (int i = 3; i >= 0; i--) {
            snprintf(lab, sizeof(lab), "%u", m[i]);
            key_label(out, &o, lab);
        }
    } else {
        for (int i = 7; i >= 0; i--) {
            snprintf(lab, sizeof(lab), "%x", (unsigned)(m[2 * i] << 8 | m[2 * i + 1]));
            key_label(out, &o, lab);
        }
    }
    return key_label(out, &o, suffix) ? -1 : (int)o;
}

struct cw_rpz_builder *cw_rpz_builder_new(const char *name)
{
    struct cw_rpz_builder *b = calloc(1, sizeof(*b));
    if (!b || !(b->z = calloc(1, sizeof(*b->z)))) {
        free(b);
        return NULL;
    }
    cw_arena_init(&b->z->arena, 16384, 0);
    b->z->apex_len = 1; /* the root: keys are the whole owner */
    b->z->name = strdup(name ? name : "rpz");
    if (!b->z->name) {
        cw_rpz_builder_free(b);
        return NULL;
    }
    return b;
}

/* labels of 1..63 bytes that end exactly at n (a key has no root label) */
static bool key_ok(const uint8_t *key, size_t n)
{
    if (!n || n > CW_RPZ_KEY_MAX)
        return false;
    size_t p = 0;
    while (p < n) {
        if (key[p] == 0 || key[p] > 63)
            return false;
        p += 1u + key[p];
    }
    return p == n;
}

static void rule_count(struct cw_rpz_zone *z, int trig, uint8_t act, bool wild)
{
    z->st.lines++;
    z->st.rules++;
    z->st.triggers[trig]++;
    z->st.actions[act]++;
    if (wild)
        z->st.wildcards++;
}

int cw_rpz_builder_add(struct cw_rpz_builder *b, const uint8_t *key, size_t n,
                       enum cw_rpz_action act, const char *tag)
{
    struct cw_rpz_zone *z = b->z;
    if (act != CW_RPZ_ACT_NXDOMAIN && act != CW_RPZ_ACT_NODATA && act != CW_RPZ_ACT_PASSTHRU &&
        act != CW_RPZ_ACT_DROP && act != CW_RPZ_ACT_TCP_ONLY)
        return -1;
    if (!key_ok(key, n) || (tag && strlen(tag) >= CW_RPZ_TAG_MAX))
        return -1;
    if (tab_find(z, key, n) >= 0)
        return 1;
    size_t base;
    int trig = trigger_of(key, n, &base);
    bool wild = n >= 2 && key[0] == 1 && key[1] == '*';
    struct ip_rule ir;
    const char *why;
    if (trig == CW_RPZ_TRIG_CLIENT_IP || trig == CW_RPZ_TRIG_IP || trig == CW_RPZ_TRIG_NSIP) {
        if (parse_ip_trigger(key, base, &ir, &why))
            return -1;
        ir.trig = (uint8_t)trig;
        wild = false;
    } else if (base == 0) {
        return -1; /* an empty QNAME/NSDNAME owner: the apex, never a feed rule */
    }
    long off = store_add(z, key, n, (uint8_t)act, (uint8_t)(trig | (wild ? F_WILD : 0)));
    if (off < 0)
        return -2;
    if (trig != CW_RPZ_TRIG_QNAME && trig != CW_RPZ_TRIG_NSDNAME) {
        ir.off = (uint32_t)off;
        if (ip_add(z, &ir))
            return -2;
    }
    if (tag && tag[0]) {
        struct rule_data *d = data_slot(z, (uint32_t)off);
        char *t = d ? cw_arena_alloc(&z->arena, strlen(tag) + 1) : NULL;
        if (!t)
            return -2;
        memcpy(t, tag, strlen(tag) + 1);
        d->tag = t;
    }
    rule_count(z, trig, (uint8_t)act, wild);
    return 0;
}

size_t cw_rpz_builder_count(const struct cw_rpz_builder *b) { return b->z->st.rules; }

struct cw_rpz_zone *cw_rpz_builder_finish(struct cw_rpz_builder *b)
{
    struct cw_rpz_zone *z = b->z;
    free(b);
    zone_shrink(z);
    return z;
}

void cw_rpz_builder_free(struct cw_rpz_builder *b)
{
    if (!b)
        return;
    cw_rpz_zone_free(b->z);
    free(b);
}

bool cw_rpz_zone_find(const struct cw_rpz_zone *z, const uint8_t *key, size_t n,
                      struct cw_rpz_match *m)
{
    long off = tab_find(z, key, n);
    if (off < 0)
        return false;
    fill_match(z, (uint32_t)off, m);
    if (m->trigger != CW_RPZ_TRIG_QNAME && m->trigger != CW_RPZ_TRIG_NSDNAME)
        for (size_t i = 0; i < z->nips; i++)
            if (z->ips[i].off == (uint32_t)off)
                m->prefix = z->ips[i].prefix;
    return true;
}

int cw_rpz_zone_foreach(const struct cw_rpz_zone *z,
                        int (*fn)(void *ctx, const struct cw_rpz_rule_info *r), void *ctx)
{
    size_t ip = 0;
    for (size_t off = 0; off < z->store_len; off += 1u + z->store[off] + 6u) {
        const uint8_t *e = entry_at(z, (uint32_t)off);
        struct cw_rpz_rule_info r;
        memset(&r, 0, sizeof(r));
        r.key = e + 1;
        r.key_len = e[0];
        r.action = entry_action(e);
        r.trigger = entry_flags(e) & F_TRIG;
        r.wildcard = (entry_flags(e) & F_WILD) != 0;
        uint32_t d = entry_data(e);
        if (d != NO_DATA)
            r.tag = z->data[d].tag;
        if (r.trigger != CW_RPZ_TRIG_QNAME && r.trigger != CW_RPZ_TRIG_NSDNAME) {
            /* the IP array is in store order too: walk it alongside */
            while (ip < z->nips && z->ips[ip].off < off)
                ip++;
            if (ip < z->nips && z->ips[ip].off == off) {
                r.addr.family = z->ips[ip].family;
                memcpy(r.addr.addr, z->ips[ip].addr, 16);
                r.prefix = z->ips[ip].prefix;
            }
        }
        int rc = fn(ctx, &r);
        if (rc)
            return rc;
    }
    return 0;
}

/* -- sets ----------------------------------------------------------------- */

struct cw_rpz_set *cw_rpz_set_new(void)
{
    struct cw_rpz_set *s = calloc(1, sizeof(*s));
    if (s)
        atomic_init(&s->refs, 1);
    return s;
}

int cw_rpz_set_add(struct cw_rpz_set *s, struct cw_rpz_zone *z)
{
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 4;
        struct cw_rpz_zone **nz = realloc(s->z, nc * sizeof(*nz));
        if (!nz)
            return -1;
        s->z = nz;
        s->cap = nc;
    }
    s->z[s->n++] = z;
    return 0;
}

size_t cw_rpz_set_count(const struct cw_rpz_set *s) { return s ? s->n : 0; }

const struct cw_rpz_zone *cw_rpz_set_zone(const struct cw_rpz_set *s, size_t i)
{
    return i < s->n ? s->z[i] : NULL;
}

struct cw_rpz_set *cw_rpz_set_ref(struct cw_rpz_set *s)
{
    if (s)
        atomic_fetch_add(&s->refs, 1);
    return s;
}

void cw_rpz_set_unref(struct cw_rpz_set *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    for (size_t i = 0; i < s->n; i++)
        cw_rpz_zone_free(s->z[i]);
    free(s->z);
    free(s);
}

static bool zone_evaluate(const struct cw_rpz_zone *z, const struct cw_rpz_query *q,
                          struct cw_rpz_match *m)
{
    if (q->client && cw_rpz_zone_lookup_ip(z, CW_RPZ_TRIG_CLIENT_IP, q->client, m))
        return true;
    if (q->qname && cw_rpz_zone_lookup_qname(z, q->qname, q->qname_len, m))
        return true;
    if (q->n_answer_ips && ips_lookup(z, CW_RPZ_TRIG_IP, q->answer_ips, q->n_answer_ips, m))
        return true;
    for (size_t i = 0; i < q->n_ns_names; i++)
        if (cw_rpz_zone_lookup_nsdname(z, q->ns_names[i], q->ns_name_lens[i], m))
            return true;
    return q->n_ns_ips && ips_lookup(z, CW_RPZ_TRIG_NSIP, q->ns_ips, q->n_ns_ips, m);
}

bool cw_rpz_set_evaluate(const struct cw_rpz_set *s, const struct cw_rpz_query *q,
                         struct cw_rpz_match *m)
{
    for (size_t i = 0; s && i < s->n; i++) {
        if (zone_evaluate(s->z[i], q, m)) {
            m->zone_index = i;
            return true;
        }
    }
    memset(m, 0, sizeof(*m));
    return false;
}

bool cw_rpz_set_lookup_qname(const struct cw_rpz_set *s, const uint8_t *qname, size_t qlen,
                             struct cw_rpz_match *m)
{
    struct cw_rpz_query q = {.qname = qname, .qname_len = qlen};
    return cw_rpz_set_evaluate(s, &q, m);
}

bool cw_rpz_set_lookup_client(const struct cw_rpz_set *s, const struct cw_rpz_addr *a,
                              struct cw_rpz_match *m)
{
    struct cw_rpz_query q = {.client = a};
    return cw_rpz_set_evaluate(s, &q, m);
}

bool cw_rpz_set_lookup_ip(const struct cw_rpz_set *s, const struct cw_rpz_addr *a,
                          struct cw_rpz_match *m)
{
    struct cw_rpz_query q = {.answer_ips = a, .n_answer_ips = 1};
    return cw_rpz_set_evaluate(s, &q, m);
}

bool cw_rpz_set_lookup_nsdname(const struct cw_rpz_set *s, const uint8_t *name, size_t len,
                               struct cw_rpz_match *m)
{
    const uint8_t *names[1] = {name};
    size_t lens[1] = {len};
    struct cw_rpz_query q = {.ns_names = names, .ns_name_lens = lens, .n_ns_names = 1};
    return cw_rpz_set_evaluate(s, &q, m);
}

bool cw_rpz_set_lookup_nsip(const struct cw_rpz_set *s, const struct cw_rpz_addr *a,
                            struct cw_rpz_match *m)
{
    struct cw_rpz_query q = {.ns_ips = a, .n_ns_ips = 1};
    return cw_rpz_set_evaluate(s, &q, m);
}

int cw_rpz_cname_target(const struct cw_rpz_match *m, const uint8_t *qname, size_t qlen,
                        uint8_t out[255], size_t *out_len)
{
    if (m->action != CW_RPZ_ACT_CNAME || !m->nrr || m->rrs[0].type != CW_DNS_T_CNAME)
        return -1;
    const uint8_t *t = m->rrs[0].rdata;
    size_t tn = m->rrs[0].rdlen;
    if (tn >= 2 && t[0] == 1 && t[1] == '*') {
        if (!qlen || qlen - 1 + tn - 2 > CW_DNS_NAME_MAX)
            return -1;
        memcpy(out, qname, qlen - 1);
        memcpy(out + qlen - 1, t + 2, tn - 2);
        *out_len = qlen - 1 + tn - 2;
        return 0;
    }
    memcpy(out, t, tn);
    *out_len = tn;
    return 0;
}

size_t cw_rpz_match_ede_text(const struct cw_rpz_match *m, char *out, size_t cap)
{
    if (!cap)
        return 0;
    int n = snprintf(out, cap, "%s %s", m->zone_name ? m->zone_name : "rpz", m->rule);
    if (n < 0)
        n = 0;
    return (size_t)n < cap ? (size_t)n : cap - 1;
}

/* -- the live set --------------------------------------------------------- */

int cw_rpz_live_init(struct cw_rpz_live *l)
{
    l->cur = NULL;
    return pthread_mutex_init(&l->mu, NULL) ? -1 : 0;
}

void cw_rpz_live_release(struct cw_rpz_live *l)
{
    cw_rpz_set_unref(l->cur);
    l->cur = NULL;
    pthread_mutex_destroy(&l->mu);
}

struct cw_rpz_set *cw_rpz_live_get(struct cw_rpz_live *l)
{
    pthread_mutex_lock(&l->mu);
    struct cw_rpz_set *s = cw_rpz_set_ref(l->cur);
    pthread_mutex_unlock(&l->mu);
    return s;
}

void cw_rpz_live_swap(struct cw_rpz_live *l, struct cw_rpz_set *s)
{
    pthread_mutex_lock(&l->mu);
    struct cw_rpz_set *old = l->cur;
    l->cur = s;
    pthread_mutex_unlock(&l->mu);
    cw_rpz_set_unref(old); /* outside the lock: freeing a big set takes time */
}
