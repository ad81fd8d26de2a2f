#include "triage/triage.h"

#include "triage/sizenorm.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "detect/attack.h"
#include "detect/dns_flags.h"
#include "detect/sigma_ruleset.h"
#include "detect/sigma_corr.h"
#include "common/timefmt.h"
#include "common/banned.h"

struct knowledge {
    struct cw_asset *assets;
    size_t nassets;
    struct cw_suppression *supp;
    size_t nsupp;
    int refs;
};

/* A loaded Sigma rule set with a reference count: a reload swaps the pointer and the
 * old set is freed when the last batch using it is done. */
struct sigma_ref {
    struct sigma_ruleset rs;
    int refs; /* under klock */
};

struct cw_triage {
    struct cw_recon *recon;
    struct sigma_ref *sigma; /* NULL when no rules are configured; under klock */
    char sigma_dir[4096], sigma_fieldmap[4096];
    struct cw_events *events;
    struct cw_sizenorm *sizes;  /* usual response sizes; under the aggregation lock */
    pthread_mutex_t lock;     /* aggregation + commit */
    pthread_mutex_t klock;    /* knowledge pointer swap */
    struct knowledge *know;
    struct cw_dns_flags *dns_flags; /* DNS threat flags; owned by the caller, may be NULL */
    cw_detector_fn ioc_fn;          /* indicator matching; ctx owned by the caller */
    const void *ioc_ctx;
};

static void sigma_put(struct sigma_ref *r)
{
    if (r && --r->refs == 0) {
        sigma_ruleset_release(&r->rs);
        free(r);
    }
}

int cw_triage_reload_rules(struct cw_triage *t, char *err, size_t errlen)
{
    if (!t->sigma_dir[0]) {
        snprintf(err, errlen, "no sigma_dir configured");
        return -1;
    }
    struct sigma_ref *n = calloc(1, sizeof(*n));
    if (!n) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    n->refs = 1;
    const char *fm = t->sigma_fieldmap[0] ? t->sigma_fieldmap : NULL;
    if (sigma_ruleset_init(&n->rs, fm, err, errlen)) {
        free(n);
        return -1;
    }
    if (sigma_ruleset_load_dir(&n->rs, t->sigma_dir, err, errlen)) {
        sigma_ruleset_release(&n->rs);
        free(n);
        return -1;
    }
    cw_info("triage: Sigma rules from %s: %u supported, %u skipped (see `crosswatch rules "
            "check %s`)",
            t->sigma_dir, n->rs.nsupported, n->rs.nskipped, t->sigma_dir);
    pthread_mutex_lock(&t->klock);
    struct sigma_ref *old = t->sigma;
    if (old) /* open correlation windows of unchanged correlation rules carry over */
        cw_info("triage: %llu correlation states kept across the reload",
                (unsigned long long)sigma_corr_adopt(&n->rs, &old->rs));
    t->sigma = n;
    sigma_put(old);
    pthread_mutex_unlock(&t->klock);
    return 0;
}

int cw_triage_rules_json(struct cw_triage *t, struct cw_buf *out)
{
    pthread_mutex_lock(&t->klock);
    struct sigma_ref *r = t->sigma;
    if (r)
        r->refs++;
    pthread_mutex_unlock(&t->klock);
    cw_buf_adds(out, "{\"rules\":[");
    for (uint32_t i = 0; r && i < r->rs.n; i++) {
        const struct sigma_entry *e = &r->rs.rules[i];
        const char *id = e->rule.id ? e->rule.id : "", *title = e->rule.title ? e->rule.title : "";
        cw_buf_adds(out, i ? ",{\"id\":" : "{\"id\":");
        cw_buf_add_json_str(out, id, strlen(id));
        cw_buf_adds(out, ",\"title\":");
        cw_buf_add_json_str(out, title, strlen(title));
        cw_buf_addf(out, ",\"severity\":%u,\"attack_class\":\"%s\"", e->severity,
                    cw_attack_class_name((enum cw_attack_class)e->attack_class));
        cw_buf_adds(out, ",\"file\":");
        const char *f = e->rule.file ? e->rule.file : "";
        cw_buf_add_json_str(out, f, strlen(f));
        cw_buf_addc(out, '}');
    }
    cw_buf_adds(out, "],\"skipped\":[");
    int k = 0;
    for (uint32_t i = 0; r && i < r->rs.nrep; i++) {
        const struct sigma_report *rep = &r->rs.rep[i];
        if (!rep->reason)
            continue;
        cw_buf_adds(out, k++ ? ",{\"file\":" : "{\"file\":");
        cw_buf_add_json_str(out, rep->file, strlen(rep->file));
        cw_buf_addf(out, ",\"line\":%u,\"reason\":", rep->line);
        cw_buf_add_json_str(out, rep->reason, strlen(rep->reason));
        cw_buf_addc(out, '}');
    }
    cw_buf_addf(out, "],\"supported\":%u,\"dormant\":%u}", r ? r->rs.nsupported : 0,
                r ? r->rs.ndormant : 0);
    pthread_mutex_lock(&t->klock);
    sigma_put(r);
    pthread_mutex_unlock(&t->klock);
    return cw_buf_ok(out) ? 0 : -1;
}

static void knowledge_put(struct knowledge *k)
{
    if (k && --k->refs == 0) {
        free(k->assets);
        free(k->supp);
        free(k);
    }
}

struct cw_triage *cw_triage_new(const struct cw_triage_config *cfg, int64_t next_event_id,
                                char *err, size_t errlen)
{
    struct cw_triage *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&t->lock, NULL);
    pthread_mutex_init(&t->klock, NULL);
    const char *wl = cfg && cfg->warninglists_dir && *cfg->warninglists_dir
                         ? cfg->warninglists_dir : NULL;
    const char *ua = cfg && cfg->scanner_ua_file && *cfg->scanner_ua_file
                         ? cfg->scanner_ua_file : NULL;
    t->recon = cw_recon_load(wl, ua, err, errlen);
    struct cw_events_config ec = {cfg ? cfg->window_us : 0, cfg ? cfg->max_open : 0};
    t->events = cw_events_new(&ec, next_event_id);
    t->sizes = cw_sizenorm_new(1u << 18, 3);
    t->know = calloc(1, sizeof(*t->know));
    if (!t->recon || !t->events || !t->know || !t->sizes) {
        if (t->recon && (!t->events || !t->know || !t->sizes))
            snprintf(err, errlen, "out of memory");
        if (t->know)
            t->know->refs = 1;
        cw_triage_free(t);
        return NULL;
    }
    t->know->refs = 1;
    if (cfg && cfg->sigma_dir && *cfg->sigma_dir) {
        snprintf(t->sigma_dir, sizeof(t->sigma_dir), "%s", cfg->sigma_dir);
        snprintf(t->sigma_fieldmap, sizeof(t->sigma_fieldmap), "%s",
                 cfg->sigma_fieldmap ? cfg->sigma_fieldmap : "");
        if (cw_triage_reload_rules(t, err, errlen)) {
            cw_triage_free(t);
            return NULL;
        }
    }
    struct cw_recon_stats rs;
    cw_recon_stats(t->recon, &rs);
    cw_info("triage: %zu scanner lists (%zu IPv4 and %zu IPv6 ranges), %zu scanner user agents",
            rs.lists, rs.ranges_v4, rs.ranges_v6, rs.user_agents);
    return t;
}

void cw_triage_free(struct cw_triage *t)
{
    if (!t)
        return;
    cw_recon_free(t->recon);
    sigma_put(t->sigma);
    cw_events_free(t->events);
    cw_sizenorm_free(t->sizes);
    knowledge_put(t->know);
    pthread_mutex_destroy(&t->lock);
    pthread_mutex_destroy(&t->klock);
    free(t);
}

int cw_triage_restore_event(struct cw_triage *t, const struct cw_event *e)
{
    return cw_events_restore(t->events, e);
}

int cw_triage_set_knowledge(struct cw_triage *t, const struct cw_asset *assets, size_t nassets,
                            const struct cw_suppression *supp, size_t nsupp)
{
    struct knowledge *k = calloc(1, sizeof(*k));
    if (!k)
        return -1;
    k->refs = 1;
    if (nassets) {
        k->assets = malloc(nassets * sizeof(*assets));
        if (!k->assets)
            goto fail;
        memcpy(k->assets, assets, nassets * sizeof(*assets));
    }
    if (nsupp) {
        k->supp = malloc(nsupp * sizeof(*supp));
        if (!k->supp)
            goto fail;
        memcpy(k->supp, supp, nsupp * sizeof(*supp));
    }
    k->nassets = nassets;
    k->nsupp = nsupp;
    pthread_mutex_lock(&t->klock);
    struct knowledge *old = t->know;
    t->know = k;
    knowledge_put(old);
    pthread_mutex_unlock(&t->klock);
    return 0;
fail:
    free(k->assets);
    free(k->supp);
    free(k);
    return -1;
}

void cw_triage_result_init(struct cw_triage_result *r)
{
    memset(r, 0, sizeof(*r));
    cw_detections_init(&r->ds);
}

void cw_triage_result_release(struct cw_triage_result *r)
{
    if (r->sigma_ref) {
        pthread_mutex_lock(&r->triage->klock);
        sigma_put(r->sigma_ref);
        pthread_mutex_unlock(&r->triage->klock);
    }
    cw_detections_release(&r->ds);
    free(r->detail);
    free(r->event_of);
    free(r->events);
    memset(r, 0, sizeof(*r));
}

int cw_triage_detect(struct cw_triage *t, const struct cw_batch *b, struct cw_triage_result *r)
{
    if (cw_detect_ids_alerts(NULL, b, &r->ds))
        return -1;
    pthread_mutex_lock(&t->klock);
    struct sigma_ref *sr = t->sigma;
    if (sr)
        sr->refs++;
    pthread_mutex_unlock(&t->klock);
    uint32_t sigma_from = r->ds.n;
    int sfail = sr && (cw_detect_sigma(&sr->rs, b, &r->ds) ||
                       sigma_corr_detect(&sr->rs, b, &r->ds, sigma_from));
    if (sr) {
        /* the detections keep pointers to rule titles: keep the set alive until the
         * result is released */
        r->sigma_ref = sr;
        r->triage = t;
    }
    if (sfail || cw_dns_flags_detect(t->dns_flags, b, &r->ds) ||
        (t->ioc_fn && t->ioc_fn(t->ioc_ctx, b, &r->ds)))
        return -1;
    if (r->ds.n == 0)
        return 0;
    r->detail = calloc(r->ds.n, sizeof(*r->detail));
    r->event_of = calloc(r->ds.n, sizeof(*r->event_of));
    if (!r->detail || !r->event_of)
        return -1;
    pthread_mutex_lock(&t->klock);
    struct knowledge *k = t->know;
    k->refs++;
    pthread_mutex_unlock(&t->klock);
    struct cw_noise_ctx ctx = {t->recon, k->assets, k->nassets, k->supp, k->nsupp, cw_now_us()};
    cw_noise_classify(&ctx, b, &r->ds, r->detail);
    /* detail texts may point into the suppression list; they are copied to the
     * store before the snapshot can go (the caller holds the result only for the
     * duration of the ingest), but keep the snapshot alive until then anyway */
    pthread_mutex_lock(&t->klock);
    knowledge_put(k);
    pthread_mutex_unlock(&t->klock);
    for (uint32_t i = 0; i < r->ds.n; i++)
        r->per_reason[r->ds.d[i].noise]++;
    return 0;
}

static int copy_event(void *ctx, const struct cw_event *e)
{
    struct cw_triage_result *r = ctx;
    if (r->nevents == r->cap_events) {
        size_t nc = r->cap_events ? r->cap_events * 2 : 16;
        struct cw_event *ne = realloc(r->events, nc * sizeof(*ne));
        if (!ne)
            return -1;
        r->events = ne;
        r->cap_events = nc;
    }
    r->events[r->nevents++] = *e;
    return 0;
}

int cw_triage_aggregate(struct cw_triage *t, const struct cw_batch *b, struct cw_triage_result *r)
{
    /* usual response sizes are learnt from every batch, detections or not */
    if (r->ds.n)
        cw_sizenorm_flag(t->sizes, b, &r->ds, r->detail);
    cw_sizenorm_learn(t->sizes, b);
    if (r->ds.n == 0)
        return 0;
    if (cw_events_add(t->events, b, &r->ds, r->event_of))
        return -1;
    return cw_events_take_dirty(t->events, copy_event, r);
}

int64_t cw_triage_take_event_id_locked(struct cw_triage *t)
{
    return cw_events_take_id(t->events);
}

void cw_triage_forget_event_locked(struct cw_triage *t, int64_t id)
{
    cw_events_forget(t->events, id);
}

void cw_triage_set_dns_flags(struct cw_triage *t, struct cw_dns_flags *f) { t->dns_flags = f; }

void cw_triage_set_ioc_detector(struct cw_triage *t, cw_detector_fn fn, const void *ctx)
{
    t->ioc_fn = fn;
    t->ioc_ctx = ctx;
}

int cw_triage_aggregate_events(struct cw_triage *t, const struct cw_batch *b,
                               struct cw_triage_result *r)
{
    if (r->ds.n == 0)
        return 0;
    if (cw_events_add(t->events, b, &r->ds, r->event_of))
        return -1;
    return cw_events_take_dirty(t->events, copy_event, r);
}
void cw_triage_lock(struct cw_triage *t) { pthread_mutex_lock(&t->lock); }
void cw_triage_unlock(struct cw_triage *t) { pthread_mutex_unlock(&t->lock); }

void cw_triage_stats(struct cw_triage *t, struct cw_events_stats *st)
{
    pthread_mutex_lock(&t->lock);
    cw_events_stats(t->events, st);
    pthread_mutex_unlock(&t->lock);
}
