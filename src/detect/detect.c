#include "detect/detect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

void cw_detections_init(struct cw_detections *ds)
{
    ds->d = NULL;
    ds->n = ds->cap = 0;
}

void cw_detections_release(struct cw_detections *ds)
{
    free(ds->d);
    cw_detections_init(ds);
}

void cw_detections_clear(struct cw_detections *ds) { ds->n = 0; }

int cw_detections_add(struct cw_detections *ds, const struct cw_detection *d)
{
    if (ds->n == ds->cap) {
        uint32_t nc = ds->cap ? ds->cap * 2 : 64;
        struct cw_detection *nd = realloc(ds->d, (size_t)nc * sizeof(*nd));
        if (!nd)
            return -1;
        ds->d = nd;
        ds->cap = nc;
    }
    ds->d[ds->n++] = *d;
    return 0;
}

static uint16_t clamp16(size_t n) { return n > 0xffff ? 0xffff : (uint16_t)n; }

/* Suricata severities are 1 (high) .. 3/4 (low); map onto ours, never above high:
 * "critical" is a human judgement. */
static uint8_t ids_severity(int64_t s)
{
    switch (s) {
    case 1: return CW_SEV_HIGH;
    case 2: return CW_SEV_MEDIUM;
    case 3: return CW_SEV_LOW;
    default: return CW_SEV_INFO;
    }
}

int cw_detect_ids_alerts(const void *ctx, const struct cw_batch *b, struct cw_detections *out)
{
    (void)ctx;
    for (uint32_t i = 0; i < b->n; i++) {
        const struct cw_record *r = &b->recs[i];
        if (r->kind != CW_KIND_IDS_ALERT)
            continue;
        size_t sn = 0, cn = 0;
        const char *sig = cw_record_str(r, CW_F_ALERT_SIGNATURE, &sn);
        const char *cat = cw_record_str(r, CW_F_ALERT_CATEGORY, &cn);
        const struct cw_value *sid = cw_record_get(r, CW_F_ALERT_SIGNATURE_ID);
        struct cw_detection d;
        memset(&d, 0, sizeof(d));
        d.rec = i;
        d.source = CW_DET_IDS;
        d.attack_class = (uint8_t)cw_attack_classify_alert(sig, sn, cat, cn);
        d.severity = ids_severity(cw_record_int(r, CW_F_ALERT_SEVERITY, 3));
        snprintf(d.rule_id, sizeof(d.rule_id), "sid:%lld:%lld",
                 (long long)cw_record_int(r, CW_F_ALERT_GID, 1), sid ? (long long)sid->v.i : 0LL);
        d.product = cw_attack_product_of_alert(sig, sn);
        d.product_len = d.product ? clamp16(strlen(d.product)) : 0;
        d.rule_name = sig ? sig : "IDS alert";
        d.rule_name_len = clamp16(sig ? sn : 9);
        if (cw_detections_add(out, &d))
            return -1;
    }
    return 0;
}
