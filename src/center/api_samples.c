/* api_samples.c - members submit suspicious e-mails and files; the center analyses
 * them (cw_sample, sample.h) and turns the candidates into indicator candidates
 * (docs/indicators.md "Samples").
 *
 * The analysis runs in the request, bounded twice: by the analyser's limits (hostile
 * input is reported, never fatal) and by a cap on analyses running at once, so a
 * burst of uploads answers 503 with Retry-After instead of starving ingest.
 *
 * What a sample may share: every candidate goes through the same checks as an
 * indicator an analyst adds (canonical value, the guard), and the member's own
 * addresses never become shared indicators: candidates the analyser marks as
 * recipients, and any name, address or URL in a recipient's domain, are kept in the
 * sample's report only ("skipped"). Created indicators are candidates (invisible to
 * members) with source "sample", the submitting member and the sample recorded -
 * scrubbed from what other members get (store_iocs.h) - unless the auto-publish
 * policy ([serve] ioc_auto_publish_types, ioc_auto_publish_confidence) publishes them.
 *
 * Members see only their own samples; a coordinator sees all. */
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "center/center.h"
#include "center/http.h"
#include "center/ioc_hub.h"
#include "center/store_iocs.h"
#include "common/timefmt.h"
#include "common/utf8.h"
#include "ioc/sample.h"
#include "common/banned.h"

#define ANALYSES_MAX 2     /* analyses at once (each may use ~100 MiB at the limits) */
#define NAME_MAX_LEN 120
#define RECIPIENT_DOMAINS 32

static atomic_int running;

/* -- which candidates may become shared indicators ----------------------------------- */

struct own {
    const char *dom[RECIPIENT_DOMAINS]; /* domains of recipient addresses */
    size_t n;
};

static bool below(const char *name, size_t n, const char *dom)
{
    size_t d = strlen(dom);
    return n >= d && strncasecmp(name + n - d, dom, d) == 0 &&
           (n == d || name[n - d - 1] == '.');
}

static bool in_own(const struct own *o, const char *name, size_t n)
{
    for (size_t i = 0; i < o->n; i++)
        if (below(name, n, o->dom[i]))
            return true;
    return false;
}

static void own_domains(const struct cw_sample_report *r, struct own *o)
{
    o->n = 0;
    for (size_t i = 0; i < r->n_candidates && o->n < RECIPIENT_DOMAINS; i++) {
        const struct cw_sample_candidate *k = &r->candidates[i];
        const char *at = k->type == CW_IOC_EMAIL ? strrchr(k->value, '@') : NULL;
        if ((k->flags & CW_SAMPLE_RECIPIENT) && at && at[1])
            o->dom[o->n++] = at + 1;
    }
}

/* The host part of a canonical URL ("scheme://host[:port]/..."). */
static const char *url_host(const char *u, size_t *n)
{
    const char *h = strstr(u, "://");
    h = h ? h + 3 : u;
    size_t k = strcspn(h, ":/?#");
    const char *at = memchr(h, '@', k);
    if (at) {
        k -= (size_t)(at + 1 - h);
        h = at + 1;
    }
    *n = k;
    return h;
}

/* NULL when k may become a shared indicator, else why not. */
static const char *own_reason(const struct own *o, const struct cw_sample_candidate *k)
{
    if (k->flags & CW_SAMPLE_RECIPIENT)
        return "a recipient's address (the member's own)";
    const char *name = k->value;
    size_t n = strlen(name);
    if (k->type == CW_IOC_EMAIL) {
        const char *at = strrchr(name, '@');
        name = at ? at + 1 : name;
        n = strlen(name);
    } else if (k->type == CW_IOC_URL) {
        name = url_host(k->value, &n);
    } else if (k->type != CW_IOC_DOMAIN && k->type != CW_IOC_HOSTNAME) {
        return NULL;
    }
    return in_own(o, name, n) ? "in a recipient's domain (the member's own)" : NULL;
}

/* Confidence of a sample candidate: what the sample points at (links, attachments)
 * over where it passed (relays). */
static int confidence_of(const struct cw_sample_candidate *k)
{
    switch (k->type) {
    case CW_IOC_URL:
    case CW_IOC_SHA256:
    case CW_IOC_SHA1:
    case CW_IOC_MD5: return 70;
    case CW_IOC_DOMAIN:
    case CW_IOC_HOSTNAME: return 60;
    default: return 50;
    }
}

static bool auto_publish(const struct cw_center_config *cc, enum cw_ioc_type t, int conf)
{
    if (conf < cc->ioc_auto_publish_confidence)
        return false;
    const char *name = cw_ioc_type_name(t), *p = cc->ioc_auto_publish_types;
    size_t n = strlen(name);
    while (*p) {
        p += strspn(p, ", ");
        size_t k = strcspn(p, ", ");
        if ((k == n && strncmp(p, name, n) == 0) || (k == 3 && strncmp(p, "all", 3) == 0))
            return true;
        p += k;
    }
    return false;
}

/* -- turning candidates into indicators --------------------------------------------- */

struct cands {
    struct cw_center *c;
    struct cw_http_request *req;
    int64_t sample_id;
    const char *name;
    struct cw_buf out;
    size_t created, published;
};

static void cand_json_head(struct cw_buf *b, const struct cw_sample_candidate *k, bool first)
{
    cw_buf_addf(b, "%s{\"type\":\"%s\",\"value\":", first ? "" : ",", cw_ioc_type_name(k->type));
    cw_buf_add_json_str(b, k->value, strlen(k->value));
    cw_buf_adds(b, ",\"where\":");
    cw_buf_add_json_str(b, k->where ? k->where : "", k->where ? strlen(k->where) : 0);
    cw_buf_adds(b, ",\"why\":");
    cw_buf_add_json_str(b, k->why ? k->why : "", k->why ? strlen(k->why) : 0);
}

static void one_candidate(struct cands *cs, const struct own *o,
                          const struct cw_sample_candidate *k, bool first, struct cw_ioc_row *r)
{
    struct cw_ioc_hub *h = cw_center_ioc_hub(cs->c);
    char gbuf[512], err[256];
    cand_json_head(&cs->out, k, first);
    const char *why = own_reason(o, k);
    if (why) {
        cw_buf_adds(&cs->out, ",\"skipped\":");
        cw_buf_add_json_str(&cs->out, why, strlen(why));
        cw_buf_addc(&cs->out, '}');
        return;
    }
    if ((why = cw_ioc_guard_check(cw_ioc_hub_guard(h), k->type, k->value, gbuf, sizeof(gbuf)))) {
        cw_buf_adds(&cs->out, ",\"refused\":");
        cw_buf_add_json_str(&cs->out, why, strlen(why));
        cw_buf_addc(&cs->out, '}');
        return;
    }
    memset(r, 0, sizeof(*r));
    r->type = k->type;
    snprintf(r->value, sizeof(r->value), "%s", k->value);
    r->tlp = CW_TLP_AMBER;
    r->confidence = confidence_of(k);
    r->source = CW_IOC_SRC_SAMPLE;
    r->source_member = cs->req->scope;
    snprintf(r->source_name, sizeof(r->source_name), "%s", cs->name);
    /* the description is shared with every member: the analyser's reason only */
    snprintf(r->description, sizeof(r->description), "from a submitted sample: %s",
             k->why ? k->why : "candidate");
    r->sample_id = cs->sample_id;
    r->first_seen_us = r->last_seen_us = cw_now_us();
    snprintf(r->created_by, sizeof(r->created_by), "%s", cs->req->who.name);
    int64_t id = 0;
    bool created = false;
    int rc = cw_store_ioc_upsert(cw_center_store(cs->c), r, &id, &created, r, err, sizeof(err));
    bool pub = false;
    if (rc == 0 && r->state != CW_IOC_PUBLISHED &&
        auto_publish(cw_center_config(cs->c), r->type, r->confidence)) {
        rc = cw_ioc_hub_set_state(h, id, CW_IOC_PUBLISHED, "auto-publish", r, err, sizeof(err));
        pub = rc == 0;
    }
    if (rc) {
        cw_buf_adds(&cs->out, ",\"refused\":");
        cw_buf_add_json_str(&cs->out, err, strlen(err));
    } else {
        cs->created += created;
        cs->published += pub;
        cw_buf_addf(&cs->out, ",\"indicator\":%lld,\"created\":%s,\"state\":\"%s\"",
                    (long long)id, created ? "true" : "false", cw_ioc_state_name(r->state));
        if (pub)
            cw_buf_adds(&cs->out, ",\"auto_published\":true");
    }
    cw_buf_addc(&cs->out, '}');
}

/* -- POST /api/v1/samples ------------------------------------------------------------- */

static int analyse(struct cw_center *c, const struct cw_http_request *req, const char *name,
                   struct cw_sample_report *rep, char *err, size_t errlen)
{
    struct cw_sample_opts o = {0};
    cw_sample_limits_default(&o.limits);
    o.yara = cw_center_sample_yara(c);
    return cw_sample_analyse(req->body.data ? req->body.data : "", req->body.len, name, &o, rep,
                             err, errlen);
}

static void samples_submit(struct cw_center *c, struct cw_http_request *req,
                           struct cw_http_response *resp)
{
    const char *name = cw_http_query(req, "name");
    if (!name || !*name || strlen(name) > NAME_MAX_LEN || !cw_utf8_valid(name, strlen(name)) ||
        strpbrk(name, "\r\n\t/\\")) {
        cw_http_json_error(resp, 400, "name must be a file name of 1..%d bytes without "
                                      "slashes or control characters", NAME_MAX_LEN);
        return;
    }
    if (req->body.len == 0) {
        cw_http_json_error(resp, 400, "the body must be the sample's bytes");
        return;
    }
    if (atomic_fetch_add(&running, 1) >= ANALYSES_MAX) {
        atomic_fetch_sub(&running, 1);
        snprintf(resp->extra_header[0], sizeof(resp->extra_header[0]), "Retry-After: 2");
        cw_http_json_error(resp, 503, "%d sample analyses are running; retry shortly",
                           ANALYSES_MAX);
        return;
    }
    struct cw_sample_report rep;
    char err[256];
    int rc = analyse(c, req, name, &rep, err, sizeof(err));
    atomic_fetch_sub(&running, 1);
    if (rc) {
        cw_sample_report_release(&rep);
        cw_http_json_error(resp, 500, "analysis failed: %s", err);
        return;
    }
    struct cw_buf report = CW_BUF_INIT;
    cw_sample_report_json(&rep, &report);
    cw_buf_addc(&report, '\0');
    struct cw_sample_new sn = {req->scope, req->who.name, name,
                               rep.n_objects ? rep.objects[0].sha256 : "",
                               rep.kind == CW_SAMPLE_EMAIL ? "email" : "file",
                               req->body.len, cw_buf_ok(&report) ? report.data : "null", "[]"};
    int64_t id = 0;
    struct cands cs = {c, req, 0, name, CW_BUF_INIT, 0, 0};
    struct cw_ioc_row *row = malloc(sizeof(*row));
    if (!row || !cw_buf_ok(&report) ||
        cw_store_sample_add(cw_center_store(c), &sn, &id, err, sizeof(err))) {
        cw_http_json_error(resp, 500, "%s", row && cw_buf_ok(&report) ? err : "out of memory");
        goto out;
    }
    cs.sample_id = id;
    struct own o;
    own_domains(&rep, &o);
    cw_buf_addc(&cs.out, '[');
    for (size_t i = 0; i < rep.n_candidates; i++)
        one_candidate(&cs, &o, &rep.candidates[i], i == 0, row);
    cw_buf_addc(&cs.out, ']');
    cw_buf_addc(&cs.out, '\0');
    if (!cw_buf_ok(&cs.out) ||
        cw_store_sample_set_candidates(cw_center_store(c), id, cs.out.data, err, sizeof(err))) {
        cw_http_json_error(resp, 500, "%s", cw_buf_ok(&cs.out) ? err : "out of memory");
        goto out;
    }
    resp->status = 201;
    cw_buf_addf(&resp->body, "{\"id\":%lld,\"name\":", (long long)id);
    cw_buf_add_json_str(&resp->body, name, strlen(name));
    cw_buf_addf(&resp->body, ",\"kind\":\"%s\",\"size\":%zu,\"sha256\":\"%s\","
                             "\"indicators_created\":%zu,\"auto_published\":%zu,\"report\":",
                sn.kind, req->body.len, sn.sha256, cs.created, cs.published);
    cw_buf_add(&resp->body, report.data, report.len - 1);
    cw_buf_adds(&resp->body, ",\"candidates\":");
    cw_buf_add(&resp->body, cs.out.data, cs.out.len - 1);
    cw_buf_adds(&resp->body, "}\n");
out:
    free(row);
    cw_buf_release(&cs.out);
    cw_buf_release(&report);
    cw_sample_report_release(&rep);
}

/* -- listing -------------------------------------------------------------------------- */

static void samples_list(struct cw_center *c, struct cw_http_request *req,
                         struct cw_http_response *resp)
{
    char err[256];
    if (cw_store_samples_json(cw_center_store(c), req->scope, &resp->body, err, sizeof(err)))
        cw_http_json_error(resp, 500, "%s", err);
}

static void sample_get(struct cw_center *c, struct cw_http_request *req,
                       struct cw_http_response *resp)
{
    char err[256];
    int rc = cw_store_sample_json(cw_center_store(c), strtoll(req->path_arg, NULL, 10),
                                  req->scope, &resp->body, err, sizeof(err));
    if (rc)
        cw_http_json_error(resp, rc == CW_STORE_NOT_FOUND ? 404 : 500, "%s", err);
}

const struct cw_route cw_api_samples_routes[] = {
    {"POST", "/api/v1/samples", CW_ACCESS_USER, samples_submit},
    {"GET", "/api/v1/samples", CW_ACCESS_USER, samples_list},
    {"GET", "/api/v1/samples/{id}", CW_ACCESS_USER, sample_get},
    {NULL, NULL, 0, NULL},
};
