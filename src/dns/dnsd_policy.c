/* dnsd_policy.c - views by client address, and the reference-counted policy. */
#include "dns/dnsd_policy.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/banned.h"

int cw_dnsd_cidr_parse(const char *s, struct cw_dnsd_cidr *out)
{
    char host[64];
    const char *slash = strchr(s, '/');
    size_t hn = slash ? (size_t)(slash - s) : strlen(s);
    if (hn == 0 || hn >= sizeof(host))
        return -1;
    memcpy(host, s, hn);
    host[hn] = '\0';
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, host, out->addr) == 1) {
        out->family = 4;
        out->prefix = 32;
    } else if (inet_pton(AF_INET6, host, out->addr) == 1) {
        out->family = 6;
        out->prefix = 128;
    } else {
        return -1;
    }
    if (slash) {
        char *end;
        long p = strtol(slash + 1, &end, 10);
        if (!slash[1] || *end || p < 0 || p > out->prefix)
            return -1;
        out->prefix = (uint8_t)p;
    }
    /* clear host bits so that matching is a plain prefix compare */
    for (unsigned i = out->prefix; i < (out->family == 4 ? 32u : 128u); i++)
        out->addr[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
    return 0;
}

static bool cidr_has(const struct cw_dnsd_cidr *c, const struct cw_rpz_addr *a)
{
    if (c->family != a->family)
        return false;
    unsigned full = c->prefix / 8, rest = c->prefix % 8;
    if (memcmp(c->addr, a->addr, full))
        return false;
    if (rest) {
        uint8_t mask = (uint8_t)(0xff00u >> rest);
        if ((a->addr[full] & mask) != c->addr[full])
            return false;
    }
    return true;
}

static int by_prefix_desc(const void *a, const void *b)
{
    const struct cw_dnsd_cidr *x = a, *y = b;
    return (int)y->prefix - (int)x->prefix;
}

int cw_dnsd_views_init(struct cw_dnsd_views *v, const struct cw_dnsd_config *c, char *err,
                       size_t errlen)
{
    memset(v, 0, sizeof(*v));
    size_t total = 0;
    for (size_t i = 0; i < c->nviews; i++)
        total += c->views[i].ncidrs;
    v->cidr = calloc(total ? total : 1, sizeof(*v->cidr));
    v->names = calloc(c->nviews + 1, sizeof(*v->names));
    if (!v->cidr || !v->names) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    snprintf(v->names[0], sizeof(v->names[0]), "default");
    v->nviews = 1;
    for (size_t i = 0; i < c->nviews; i++) {
        const struct cw_dnsd_view_cfg *vc = &c->views[i];
        if (!vc->name[0] || strlen(vc->name) >= sizeof(v->names[0])) {
            snprintf(err, errlen, "view name '%s': 1 to 63 characters", vc->name);
            goto fail;
        }
        for (size_t k = 0; k < v->nviews; k++)
            if (!strcmp(v->names[k], vc->name)) {
                snprintf(err, errlen, "view '%s' is defined twice", vc->name);
                goto fail;
            }
        snprintf(v->names[v->nviews], sizeof(v->names[0]), "%s", vc->name);
        for (size_t k = 0; k < vc->ncidrs; k++) {
            if (cw_dnsd_cidr_parse(vc->cidrs[k], &v->cidr[v->n])) {
                snprintf(err, errlen, "view '%s': '%s' is not an address range (ADDR/PREFIX)",
                         vc->name, vc->cidrs[k]);
                goto fail;
            }
            v->cidr[v->n++].view = (uint16_t)v->nviews;
        }
        v->nviews++;
    }
    qsort(v->cidr, v->n, sizeof(*v->cidr), by_prefix_desc);
    return 0;
fail:
    cw_dnsd_views_release(v);
    return -1;
}

void cw_dnsd_views_release(struct cw_dnsd_views *v)
{
    free(v->cidr);
    free(v->names);
    memset(v, 0, sizeof(*v));
}

uint16_t cw_dnsd_views_match(const struct cw_dnsd_views *v, const struct cw_rpz_addr *a)
{
    for (size_t i = 0; i < v->n; i++)
        if (cidr_has(&v->cidr[i], a))
            return v->cidr[i].view;
    return 0;
}

/* Policy generations: unique per policy object, so a stale one is never taken for
 * the current one (a freed policy's address may be reused, its number is not). */
static _Atomic uint64_t next_gen = 1;

/* rules[0] += rules loaded, rules[1] += RPZ-IP rules among them, rules[2] += NSDNAME
 * and NSIP rules, rules[3] += NSIP rules, rules[4] += CLIENT-IP rules */
static struct cw_rpz_set *load_set(const char *const *files, size_t n, size_t *rules,
                                   char *err, size_t errlen)
{
    if (n == 0)
        return NULL;
    struct cw_rpz_set *s = cw_rpz_set_new();
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        struct cw_rpz_stats st;
        memset(&st, 0, sizeof(st));
        char why[400];
        struct cw_rpz_zone *z = cw_rpz_zone_load_file(files[i], NULL, &st, why, sizeof(why));
        if (!z) {
            snprintf(err, errlen, "RPZ %s: %s", files[i], why);
            cw_rpz_set_unref(s);
            return NULL;
        }
        cw_info("RPZ %s: list %s, %zu rules (%zu skipped for errors)", files[i],
                cw_rpz_zone_name(z), st.rules, st.skipped);
        rules[0] += st.rules;
        rules[1] += st.triggers[CW_RPZ_TRIG_IP];
        rules[2] += st.triggers[CW_RPZ_TRIG_NSDNAME] + st.triggers[CW_RPZ_TRIG_NSIP];
        rules[3] += st.triggers[CW_RPZ_TRIG_NSIP];
        rules[4] += st.triggers[CW_RPZ_TRIG_CLIENT_IP];
        if (cw_rpz_set_add(s, z)) {
            cw_rpz_zone_free(z);
            cw_rpz_set_unref(s);
            snprintf(err, errlen, "out of memory");
            return NULL;
        }
    }
    return s;
}

struct cw_dnsd_policy *cw_dnsd_policy_load(const struct cw_dnsd_config *c, size_t nviews,
                                           char *err, size_t errlen)
{
    struct cw_dnsd_policy *p = calloc(1, sizeof(*p));
    if (!p || !(p->view = calloc(nviews, sizeof(*p->view)))) {
        free(p);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    atomic_init(&p->refs, 1);
    p->gen = atomic_fetch_add(&next_gen, 1);
    p->nviews = nviews;
    err[0] = '\0';
    size_t counts[5] = {0}; /* rules, RPZ-IP, NSDNAME+NSIP, NSIP, CLIENT-IP rules */
    p->global = load_set(c->rpz, c->nrpz, counts, err, errlen);
    if (err[0])
        goto fail;
    for (size_t i = 0; i < c->nviews && i + 1 < nviews; i++) {
        p->view[i + 1] = load_set(c->views[i].rpz, c->views[i].nrpz, counts, err, errlen);
        if (err[0])
            goto fail;
    }
    p->rules = p->file_rules = counts[0];
    p->ip_rules = p->file_ip_rules = counts[1];
    p->ns_rules = counts[2];
    p->nsip_rules = counts[3];
    p->client_rules = p->file_client_rules = counts[4];
    p->feed_first = c->feed_first;
    if (!(p->feed_view = calloc(nviews, sizeof(*p->feed_view)))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t v = 0; v < nviews; v++) {
        const char *name = v == 0 ? "default" : c->views[v - 1].name;
        p->feed_view[v] = c->nfeed_views == 0;
        for (size_t k = 0; k < c->nfeed_views; k++)
            p->feed_view[v] |= strcmp(c->feed_views[k], name) == 0;
    }
    return p;
fail:
    cw_dnsd_policy_unref(p);
    return NULL;
}

struct cw_dnsd_policy *cw_dnsd_policy_with_feed(const struct cw_dnsd_policy *p,
                                               struct cw_feed_snap *snap)
{
    struct cw_dnsd_policy *n = calloc(1, sizeof(*n));
    if (!n || !(n->view = calloc(p->nviews, sizeof(*n->view))) ||
        !(n->feed_view = calloc(p->nviews, sizeof(*n->feed_view)))) {
        if (n)
            free(n->view);
        free(n);
        return NULL;
    }
    atomic_init(&n->refs, 1);
    n->gen = atomic_fetch_add(&next_gen, 1);
    n->nviews = p->nviews;
    n->global = cw_rpz_set_ref(p->global);
    for (size_t i = 0; i < p->nviews; i++)
        n->view[i] = cw_rpz_set_ref(p->view[i]);
    memcpy(n->feed_view, p->feed_view, p->nviews * sizeof(*n->feed_view));
    n->feed_first = p->feed_first;
    n->file_rules = p->file_rules;
    n->file_ip_rules = p->file_ip_rules;
    n->client_rules = n->file_client_rules = p->file_client_rules;
    n->ns_rules = p->ns_rules; /* the feed has no NS triggers */
    n->nsip_rules = p->nsip_rules;
    n->feed = cw_feed_snap_ref(snap);
    n->rules = n->file_rules + cw_feed_snap_rules(snap);
    n->ip_rules = n->file_ip_rules + cw_feed_snap_ip_rules(snap);
    return n;
}

struct cw_dnsd_policy *cw_dnsd_policy_ref(struct cw_dnsd_policy *p)
{
    if (p)
        atomic_fetch_add(&p->refs, 1);
    return p;
}

void cw_dnsd_policy_unref(struct cw_dnsd_policy *p)
{
    if (!p || atomic_fetch_sub(&p->refs, 1) != 1)
        return;
    cw_rpz_set_unref(p->global);
    for (size_t i = 0; p->view && i < p->nviews; i++)
        cw_rpz_set_unref(p->view[i]);
    cw_feed_snap_unref(p->feed);
    free(p->feed_view);
    free(p->view);
    free(p);
}

bool cw_dnsd_policy_evaluate(const struct cw_dnsd_policy *p, uint16_t view,
                             const struct cw_rpz_query *q, struct cw_rpz_match *m,
                             bool *filtered)
{
    *filtered = false;
    if (!p)
        return false;
    if (view < p->nviews && p->view[view] && cw_rpz_set_evaluate(p->view[view], q, m)) {
        *filtered = true;
        return true;
    }
    bool feed = p->feed && view < p->nviews && p->feed_view[view];
    if (feed && p->feed_first && cw_feed_snap_evaluate(p->feed, q, m))
        return true;
    if (p->global && cw_rpz_set_evaluate(p->global, q, m))
        return true;
    return feed && !p->feed_first && cw_feed_snap_evaluate(p->feed, q, m);
}
