/* sigma_fieldmap.c - Sigma field names to record fields, per log source.
 *
 * The map is data (rules/fieldmap.conf, config format): one section per log
 * source category, service or product, "SigmaField = target" lines. Targets are
 * catalogue fields (common/record.h) or the core/pseudo fields below. A Sigma
 * field the map does not name is looked up by its own name in the record's raw
 * JSON at evaluation time (sigma_eval.c). */
#include "detect/sigma_ruleset.h"

#include <stdio.h>
#include <string.h>

#include "common/banned.h"

static const struct {
    const char *name;
    int id;
} pseudo[] = {
    {"src_ip", SIGMA_FID_SRC_IP},       {"dst_ip", SIGMA_FID_DST_IP},
    {"src_port", SIGMA_FID_SRC_PORT},   {"dst_port", SIGMA_FID_DST_PORT},
    {"transport", SIGMA_FID_TRANSPORT}, {"raw", SIGMA_FID_RAW},
    {"http.url", SIGMA_FID_HTTP_URL},
};

int sigma_fieldmap_target(const char *name)
{
    for (size_t i = 0; i < sizeof(pseudo) / sizeof(pseudo[0]); i++)
        if (!strcmp(pseudo[i].name, name))
            return pseudo[i].id;
    enum cw_field_id f = cw_field_from_name(name, strlen(name));
    return f == CW_F_NONE ? -1 : (int)f;
}

static int check(struct sigma_fieldmap *fm, char *err, size_t errlen)
{
    for (size_t i = 0; i < fm->cfg.n; i++) {
        if (sigma_fieldmap_target(fm->cfg.e[i].value) < 0) {
            snprintf(err, errlen, "%s: unknown record field '%s'", fm->cfg.e[i].origin,
                     fm->cfg.e[i].value);
            return -1;
        }
    }
    return 0;
}

int sigma_fieldmap_load(struct sigma_fieldmap *fm, const char *path, char *err, size_t errlen)
{
    cw_config_init(&fm->cfg);
    if (cw_config_load_file(&fm->cfg, path, err, errlen) || check(fm, err, errlen)) {
        cw_config_release(&fm->cfg);
        return -1;
    }
    return 0;
}

int sigma_fieldmap_load_str(struct sigma_fieldmap *fm, const char *text, size_t n,
                            const char *name, char *err, size_t errlen)
{
    cw_config_init(&fm->cfg);
    if (cw_config_load_str(&fm->cfg, text, n, name, err, errlen) || check(fm, err, errlen)) {
        cw_config_release(&fm->cfg);
        return -1;
    }
    return 0;
}

void sigma_fieldmap_release(struct sigma_fieldmap *fm) { cw_config_release(&fm->cfg); }

/* Last entry for key in exactly this section (no fallback to the global one). */
static const char *lookup(const struct sigma_fieldmap *fm, const char *section, const char *key)
{
    const char *v = NULL;
    if (!section)
        return NULL;
    for (size_t i = 0; i < fm->cfg.n; i++)
        if (!strcmp(fm->cfg.e[i].section, section) && !strcmp(fm->cfg.e[i].key, key))
            v = fm->cfg.e[i].value;
    return v;
}

int sigma_fieldmap_resolve(const struct sigma_fieldmap *fm, const struct sigma_rule *r,
                           const char *field)
{
    const char *secs[4] = {r->category, r->service, r->product, ""};
    for (int i = 0; i < 4; i++) {
        const char *v = lookup(fm, secs[i], field);
        if (v)
            return sigma_fieldmap_target(v);
    }
    return SIGMA_FID_JSON;
}
