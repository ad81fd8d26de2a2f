#include "triage/triage.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "detect/sigma_ruleset.h"
#include "common/timefmt.h"
#include "common/banned.h"

struct knowledge {
    struct cw_asset *assets;
    size_t nassets;
    struct cw_suppression *supp;
    size_t nsupp;
    int refs;
};

struct cw_triage {
    struct cw_recon *recon;
    struct sigma_ruleset *sigma; /* NULL when no rules are configured */
    struct cw_events *events;
    pthread_mutex_t lock;     /* aggregation + commit */
    pthread_mutex_t klock;    /* knowledge pointer swap */
    struct knowledge *know;
};

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
    t->know = calloc(1, sizeof(*t->know));
    if (!t->recon || !t->events || !t->know) {
        if (t->recon && (!t->events || !t->know))
            snprintf(err, errlen, "out of memory");
        if (t->know)
            t->know->refs = 1;
        cw_triage_free(t);
        return NULL;
    }
    t->know->refs = 1;
    if (cfg && cfg->sigma_dir && *cfg->sigma_dir) {
        t->sigma = calloc(1, sizeof(*t->sigma));
        const char *fm = cfg->sigma_fieldmap && *cfg->sigma_fieldmap ? cfg->sigma_fieldmap : NULL;
        if (!t->sigma || sigma_ruleset_init(t->sigma, fm, err, errlen)) {
            free(t->sigma);
            t->sigma = NULL;
            cw_triage_free(t);
            return NULL;
        }
        if (sigma_ruleset_load_dir(t->sigma, cfg->sigma_dir, err, errlen)) {
            cw_triage_free(t);
            return NULL;
        }
        cw_info("triage: Sigma rules from %s: %u supported, %u skipped (see `crosswatch rules "
                "check %s`)",
                cfg->sigma_dir, t->sigma->nsupported, t->sigma->nskipped, cfg->sigma_dir);
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
    if (t->sigma) {
        sigma_ruleset_release(t->sigma);
        free(t->sigma);
    }
    cw_events_free(t->events);
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
    if (t->sigma && cw_detect_sigma(t->sigma, b, &r->ds))
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

void cw_triage_lock(struct cw_triage *t) { pthread_mutex_lock(&t->lock); }
void cw_triage_unlock(struct cw_triage *t) { pthread_mutex_unlock(&t->lock); }

void cw_triage_stats(struct cw_triage *t, struct cw_events_stats *st)
{
    pthread_mutex_lock(&t->lock);
    cw_events_stats(t->events, st);
    pthread_mutex_unlock(&t->lock);
}
