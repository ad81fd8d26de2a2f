/* dnsd_recursive.c - libunbound behind the resolver's loop (dnsd_recursive.h). */
#include "dns/dnsd_recursive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unbound.h>
#include <unistd.h>

#include "common/log.h"
#include "dns/dns_msg.h"
#include "common/banned.h"

/* What the loop handed to ub_resolve_async: on the context's list until the answer
 * is delivered or the query cancelled (then freed; the rest at cw_dnsd_rec_free). */
struct cw_dnsd_rec_query {
    cw_dnsd_rec_cb cb;
    void *ctx;
    int id;
    struct cw_dnsd_rec *r;
    struct cw_dnsd_rec_query *prev, *next;
};

struct cw_dnsd_rec {
    struct ub_ctx *ctx;
    int fd;
    struct cw_dnsd_rec_query *pending;
};

static void unlink_query(struct cw_dnsd_rec_query *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        p->r->pending = p->next;
    if (p->next)
        p->next->prev = p->prev;
}

static int set_option(struct ub_ctx *ctx, const char *opt, char *err, size_t errlen)
{
    const char *colon = strchr(opt, ':');
    char name[128];
    if (!colon || (size_t)(colon - opt) + 2 > sizeof(name)) {
        snprintf(err, errlen, "libunbound option '%s': expected 'name: value'", opt);
        return -1;
    }
    memcpy(name, opt, (size_t)(colon - opt) + 1); /* libunbound wants the colon */
    name[colon - opt + 1] = '\0';
    const char *val = colon + 1;
    while (*val == ' ')
        val++;
    int rc = ub_ctx_set_option(ctx, name, val);
    if (rc) {
        snprintf(err, errlen, "libunbound option '%s': %s", opt, ub_strerror(rc));
        return -1;
    }
    return 0;
}

struct cw_dnsd_rec *cw_dnsd_rec_new(const struct cw_dnsd_rec_opts *o, char *err, size_t errlen)
{
    struct cw_dnsd_rec *r = calloc(1, sizeof(*r));
    if (!r || !(r->ctx = ub_ctx_create())) {
        free(r);
        snprintf(err, errlen, "cannot create the libunbound context");
        return NULL;
    }
    const char *hints = o->root_hints;
    if (!hints && access(CW_DNSD_ROOT_HINTS, R_OK) == 0)
        hints = CW_DNSD_ROOT_HINTS;
    const char *ta = o->trust_anchor;
    if (!ta && access(CW_DNSD_ROOT_KEY, R_OK) == 0)
        ta = CW_DNSD_ROOT_KEY;
    int rc;
    if (hints && (rc = ub_ctx_set_option(r->ctx, "root-hints:", hints))) {
        snprintf(err, errlen, "root hints %s: %s", hints, ub_strerror(rc));
        goto fail;
    }
    if (ta && strcmp(ta, "none") && (rc = ub_ctx_add_ta_file(r->ctx, ta))) {
        snprintf(err, errlen, "trust anchor %s: %s", ta, ub_strerror(rc));
        goto fail;
    }
    for (size_t i = 0; i < o->noptions; i++)
        if (set_option(r->ctx, o->options[i], err, errlen))
            goto fail;
    /* a thread of libunbound's does the recursion; answers come back on ub_fd */
    if ((rc = ub_ctx_async(r->ctx, 1)) || (r->fd = ub_fd(r->ctx)) < 0) {
        snprintf(err, errlen, "libunbound async mode: %s", ub_strerror(rc));
        goto fail;
    }
    cw_info("dns: recursive mode (libunbound %s), root hints %s, DNSSEC %s", ub_version(),
            hints ? hints : "built in", ta && strcmp(ta, "none") ? ta : "off");
    return r;
fail:
    ub_ctx_delete(r->ctx);
    free(r);
    return NULL;
}

void cw_dnsd_rec_free(struct cw_dnsd_rec *r)
{
    if (!r)
        return;
    ub_ctx_delete(r->ctx); /* stops libunbound's thread: no callback after this */
    while (r->pending) {
        struct cw_dnsd_rec_query *p = r->pending;
        r->pending = p->next;
        free(p);
    }
    free(r);
}

int cw_dnsd_rec_fd(const struct cw_dnsd_rec *r) { return r->fd; }

static void on_result(void *mydata, int err, struct ub_result *res)
{
    struct cw_dnsd_rec_query *p = mydata;
    unlink_query(p);
    if (err || !res || !res->answer_packet || res->answer_len < CW_DNS_HDR_LEN)
        p->cb(p->ctx, NULL, 0, err ? ub_strerror(err) : "no answer");
    else if (res->bogus)
        p->cb(p->ctx, NULL, 0, "DNSSEC validation failed (bogus)");
    else
        p->cb(p->ctx, res->answer_packet, (size_t)res->answer_len, NULL);
    if (res)
        ub_resolve_free(res);
    free(p);
}

int cw_dnsd_rec_resolve(struct cw_dnsd_rec *r, const uint8_t *qname, size_t qlen, uint16_t qtype,
                        uint16_t qclass, cw_dnsd_rec_cb cb, void *ctx,
                        struct cw_dnsd_rec_query **handle)
{
    char text[CW_DNS_TEXT_MAX];
    struct cw_dnsd_rec_query *p = calloc(1, sizeof(*p));
    if (!p || cw_dns_name_to_text(qname, qlen, text, sizeof(text)) < 0) {
        free(p);
        return -1;
    }
    p->cb = cb;
    p->ctx = ctx;
    p->r = r;
    int rc = ub_resolve_async(r->ctx, text, qtype, qclass, p, on_result, &p->id);
    if (rc) {
        cw_debug("libunbound: %s: %s", text, ub_strerror(rc));
        free(p);
        return -1;
    }
    p->next = r->pending;
    if (r->pending)
        r->pending->prev = p;
    r->pending = p;
    *handle = p;
    return 0;
}

void cw_dnsd_rec_cancel(struct cw_dnsd_rec *r, struct cw_dnsd_rec_query *p)
{
    if (!p)
        return;
    ub_cancel(r->ctx, p->id); /* an answer already queued is then dropped by libunbound */
    unlink_query(p);
    free(p);
}

void cw_dnsd_rec_process(struct cw_dnsd_rec *r)
{
    int rc = ub_process(r->ctx);
    if (rc)
        cw_debug("libunbound: ub_process: %s", ub_strerror(rc));
}
