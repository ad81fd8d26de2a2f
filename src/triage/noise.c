#include "triage/noise.h"

#include <string.h>
#include <strings.h>

#include "common/banned.h"

static const char *const names[CW_NOISE__COUNT] = {
#define X(id, name, doc) name,
    CW_NOISE_REASONS(X)
#undef X
};
static const char *const docs[CW_NOISE__COUNT] = {
#define X(id, name, doc) doc,
    CW_NOISE_REASONS(X)
#undef X
};

const char *cw_noise_reason_name(enum cw_noise_reason r)
{
    return (unsigned)r < CW_NOISE__COUNT ? names[r] : "?";
}

const char *cw_noise_reason_doc(enum cw_noise_reason r)
{
    return (unsigned)r < CW_NOISE__COUNT ? docs[r] : "";
}

int cw_ip_in_net(const struct cw_ip *ip, const struct cw_ip *net, unsigned prefix)
{
    if (ip->family != net->family || ip->family == 0)
        return 0;
    unsigned max = ip->family == 4 ? 32 : 128;
    if (prefix > max)
        prefix = max;
    unsigned full = prefix / 8, rem = prefix % 8;
    if (memcmp(ip->a, net->a, full) != 0)
        return 0;
    if (rem) {
        unsigned char mask = (unsigned char)(0xff << (8 - rem));
        if ((ip->a[full] & mask) != (net->a[full] & mask))
            return 0;
    }
    return 1;
}

static int suppressed(const struct cw_noise_ctx *ctx, const struct cw_record *r,
                      const struct cw_detection *d, const char **why)
{
    for (size_t i = 0; i < ctx->nsupp; i++) {
        const struct cw_suppression *s = &ctx->supp[i];
        if (s->expires_us && s->expires_us <= ctx->now_us)
            continue;
        if (s->member_id && s->member_id != r->member_id)
            continue;
        if (s->attack_class != CW_AC__COUNT && s->attack_class != d->attack_class)
            continue;
        if (s->rule_id[0] && strcmp(s->rule_id, d->rule_id) != 0)
            continue;
        if (s->net.family && !cw_ip_in_net(&r->src, &s->net, s->prefix))
            continue;
        *why = "analyst suppression";
        return 1;
    }
    return 0;
}

static int is_failed_status(int64_t st)
{
    return st == 400 || st == 403 || st == 404 || st == 405 || st == 501;
}

/* Web attacks are what the outcome rule judges: an HTTP record, or an IDS alert that
 * carries the HTTP answer. */
static int failed(const struct cw_record *r)
{
    const struct cw_value *st = cw_record_get(r, CW_F_HTTP_STATUS);
    return st && is_failed_status(st->v.i);
}

static int blocked(const struct cw_record *r)
{
    size_t n;
    const char *a = cw_record_str(r, CW_F_ALERT_ACTION, &n);
    return a && n == 7 && strncasecmp(a, "blocked", 7) == 0;
}

/* products is "a,b,c"; is p (length pn) one of them? */
static int runs_product(const char *products, const char *p, size_t pn)
{
    const char *s = products;
    while (*s) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        while (n && s[0] == ' ')
            s++, n--;
        while (n && s[n - 1] == ' ')
            n--;
        if (n == pn && strncasecmp(s, p, n) == 0)
            return 1;
        if (!e)
            break;
        s = e + 1;
    }
    return 0;
}

static int not_applicable(const struct cw_noise_ctx *ctx, const struct cw_record *r,
                          const struct cw_detection *d)
{
    if (!d->product || !d->product_len)
        return 0;
    size_t hn = 0;
    const char *host = cw_record_str(r, CW_F_HTTP_HOST, &hn);
    for (size_t i = 0; i < ctx->nassets; i++) {
        const struct cw_asset *a = &ctx->assets[i];
        if (a->member_id != r->member_id)
            continue;
        int same = (a->addr.family && r->dst.family && a->addr.family == r->dst.family &&
                    memcmp(a->addr.a, r->dst.a, a->addr.family == 4 ? 4 : 16) == 0) ||
                   (a->host[0] && host && strlen(a->host) == hn &&
                    strncasecmp(a->host, host, hn) == 0);
        if (same)
            return !runs_product(a->products, d->product, d->product_len);
    }
    return 0; /* unknown target: it might run the product */
}

static int recon(const struct cw_noise_ctx *ctx, const struct cw_record *r,
                 const struct cw_detection *d, const char **why)
{
    if (ctx->recon) {
        const char *list = cw_recon_match_ip(ctx->recon, &r->src);
        if (list) {
            *why = list;
            return 1;
        }
        size_t un;
        const char *ua = cw_record_str(r, CW_F_HTTP_USER_AGENT, &un);
        const char *hit = ua ? cw_recon_match_ua(ctx->recon, ua, un) : NULL;
        if (hit) {
            *why = hit;
            return 1;
        }
    }
    if (d->attack_class == CW_AC_SCANNING) {
        *why = "scanning class";
        return 1;
    }
    return 0;
}

void cw_noise_classify(const struct cw_noise_ctx *ctx, const struct cw_batch *b,
                       struct cw_detections *ds, const char **detail)
{
    for (uint32_t i = 0; i < ds->n; i++) {
        struct cw_detection *d = &ds->d[i];
        const struct cw_record *r = &b->recs[d->rec];
        const char *why = NULL;
        enum cw_noise_reason v = CW_NOISE_KEPT;
        if (suppressed(ctx, r, d, &why))
            v = CW_NOISE_SUPPRESSED;
        else if (blocked(r))
            v = CW_NOISE_BLOCKED, why = "sensor action blocked";
        else if (failed(r))
            v = CW_NOISE_FAILED, why = "failure status";
        else if (not_applicable(ctx, r, d))
            v = CW_NOISE_NOT_APPLICABLE, why = "asset does not run the product";
        else if (recon(ctx, r, d, &why))
            v = CW_NOISE_RECON;
        d->noise = (uint8_t)v;
        if (detail)
            detail[i] = why;
    }
}
