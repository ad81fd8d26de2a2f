/* fmt_stix.c - STIX 2.1 bundles: import of indicator SDOs (patterns through
 * fmt_stix_pattern.c, TLP from marking definitions) and export as a bundle with the
 * producer's identity and the TLP 2.0 marking-definition objects.
 *
 * Import decisions (docs/indicators-formats.md): only indicator objects carry a
 * judgement; cyber observables (domain-name, ipv4-addr ... SCOs), sightings,
 * relationships and the other SDOs are counted as skipped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timefmt.h"
#include "ioc/fmt_impl.h"
#include "common/banned.h"

#define TLP2_EXT "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

/* The published marking definitions: TLP 2.0 (OASIS common objects) and TLP 1.0
 * (STIX 2.1 section 7.2.1.4). */
static const struct { const char *id; enum cw_tlp tlp; } tlp_ids[] = {
    {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", CW_TLP_CLEAR},
    {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", CW_TLP_GREEN},
    {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", CW_TLP_AMBER},
    {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", CW_TLP_AMBER_STRICT},
    {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", CW_TLP_RED},
    {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", CW_TLP_CLEAR},
    {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", CW_TLP_GREEN},
    {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", CW_TLP_AMBER},
    {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", CW_TLP_RED},
};

const char *cw_stix_tlp_marking_id(enum cw_tlp t)
{
    return t < CW_TLP__COUNT ? tlp_ids[t].id : tlp_ids[CW_TLP_RED].id;
}

static const char *tlp2_word(enum cw_tlp t)
{
    static const char *w[] = {"clear", "green", "amber", "amber+strict", "red"};
    return t < CW_TLP__COUNT ? w[t] : "red";
}

/* -- import ----------------------------------------------------------------- */

/* Marking definitions and identities defined inside the bundle. */
struct defs {
    struct { const char *id; enum cw_tlp tlp; } *mark;
    size_t nmark;
    struct { const char *id, *name; } *ident;
    size_t nident;
};

static bool str_eq(const struct cw_json *j, int i, const char *lit)
{
    return i >= 0 && cw_json_is(j, i, JSMN_STRING) && cw_json_eq(j, i, lit);
}

/* TLP a marking-definition object defines, if it is a TLP marking. */
static int marking_tlp(const struct cw_json *j, int obj, struct cw_arena *a, enum cw_tlp *out)
{
    int def = cw_json_get(j, obj, "definition");
    if (str_eq(j, cw_json_get(j, obj, "definition_type"), "tlp") && def >= 0 &&
        cw_json_is(j, def, JSMN_OBJECT)) {
        const char *w = fmt_json_strdup(j, cw_json_get(j, def, "tlp"), a);
        if (w && cw_tlp_from_name(w, out) == 0)
            return 0;
    }
    int ext = cw_json_get(j, obj, "extensions");
    if (ext >= 0 && cw_json_is(j, ext, JSMN_OBJECT)) {
        int e = cw_json_get(j, ext, TLP2_EXT);
        if (e >= 0 && cw_json_is(j, e, JSMN_OBJECT)) {
            const char *w = fmt_json_strdup(j, cw_json_get(j, e, "tlp_2_0"), a);
            if (w && cw_tlp_from_name(w, out) == 0)
                return 0;
        }
    }
    return -1;
}

static void collect_defs(const struct cw_json *j, int arr, struct cw_arena *a, struct defs *d)
{
    size_t n = (size_t)j->tok[arr].size;
    d->mark = cw_arena_calloc(a, (n + 1) * sizeof *d->mark);
    d->ident = cw_arena_calloc(a, (n + 1) * sizeof *d->ident);
    if (!d->mark || !d->ident)
        return;
    for (int i = arr + 1, k = 0; k < j->tok[arr].size; k++, i = cw_json_next(j, i)) {
        if (!cw_json_is(j, i, JSMN_OBJECT))
            continue;
        const char *id = fmt_json_strdup(j, cw_json_get(j, i, "id"), a);
        int ty = cw_json_get(j, i, "type");
        if (!id)
            continue;
        enum cw_tlp t;
        if (str_eq(j, ty, "marking-definition") && marking_tlp(j, i, a, &t) == 0) {
            d->mark[d->nmark].id = id;
            d->mark[d->nmark++].tlp = t;
        } else if (str_eq(j, ty, "identity")) {
            d->ident[d->nident].id = id;
            d->ident[d->nident++].name = fmt_json_strdup(j, cw_json_get(j, i, "name"), a);
        }
    }
}

/* TLP of an object from object_marking_refs: the most restrictive TLP marking it
 * refers to; -1 when it has none we know. */
static int object_tlp(const struct cw_json *j, int obj, const struct defs *d, enum cw_tlp *out)
{
    int refs = cw_json_get(j, obj, "object_marking_refs");
    if (refs < 0 || !cw_json_is(j, refs, JSMN_ARRAY))
        return -1;
    bool found = false;
    for (int i = refs + 1, k = 0; k < j->tok[refs].size; k++, i = cw_json_next(j, i)) {
        if (!cw_json_is(j, i, JSMN_STRING))
            continue;
        size_t n;
        const char *s = cw_json_raw(j, i, &n);
        enum cw_tlp t = CW_TLP_CLEAR;
        bool hit = false;
        for (size_t m = 0; m < sizeof tlp_ids / sizeof *tlp_ids && !hit; m++)
            if (strlen(tlp_ids[m].id) == n && memcmp(tlp_ids[m].id, s, n) == 0) {
                t = tlp_ids[m].tlp;
                hit = true;
            }
        for (size_t m = 0; m < d->nmark && !hit; m++)
            if (strlen(d->mark[m].id) == n && memcmp(d->mark[m].id, s, n) == 0) {
                t = d->mark[m].tlp;
                hit = true;
            }
        if (hit) {
            *out = found ? fmt_tlp_max(*out, t) : t;
            found = true;
        }
    }
    return found ? 0 : -1;
}

/* labels + indicator_types as item labels */
static void read_labels(const struct cw_json *j, int obj, struct cw_arena *a,
                        const char **labels, size_t *n)
{
    static const char *keys[] = {"indicator_types", "labels"};
    for (size_t k = 0; k < 2; k++) {
        int arr = cw_json_get(j, obj, keys[k]);
        if (arr < 0 || !cw_json_is(j, arr, JSMN_ARRAY))
            continue;
        for (int i = arr + 1, m = 0; m < j->tok[arr].size; m++, i = cw_json_next(j, i)) {
            const char *s = fmt_json_strdup(j, i, a);
            /* every indicator we export says malicious-activity: not a label */
            if (s && *n < CW_IOC_LABELS_MAX && strcmp(s, "malicious-activity") != 0)
                labels[(*n)++] = s;
        }
    }
}

static void import_indicator(struct fmt_import *im, const struct cw_json *j, int obj,
                             const char *where, const struct defs *d, struct cw_arena *a)
{
    int pt = cw_json_get(j, obj, "pattern_type"), pat = cw_json_get(j, obj, "pattern");
    int rv = cw_json_get(j, obj, "revoked");
    if (rv >= 0 && cw_json_eq(j, rv, "true")) {
        im->st->skipped++;
        return;
    }
    if (pat < 0 || !cw_json_is(j, pat, JSMN_STRING)) {
        fmt_reject(im, where, "indicator without a pattern string");
        return;
    }
    if (pt >= 0 && !str_eq(j, pt, "stix")) {
        const char *ptn = fmt_json_strdup(j, pt, a);
        fmt_reject(im, where, "pattern_type %s is not a STIX pattern",
                   ptn ? ptn : "(not a string)");
        return;
    }
    const char *ps;
    size_t pn;
    if (cw_json_str(j, pat, a, &ps, &pn)) {
        fmt_reject(im, where, "pattern is not a valid string");
        return;
    }
    struct cw_ioc_item it = {.confidence = im->o->default_confidence,
                             .tlp = im->o->default_tlp,
                             .source_name = im->o->source_name};
    int v = cw_json_get(j, obj, "valid_from");
    if (v >= 0 && fmt_json_time(j, v, &it.first_seen_us)) {
        fmt_reject(im, where, "valid_from is not a timestamp");
        return;
    }
    v = cw_json_get(j, obj, "valid_until");
    if (v >= 0 && fmt_json_time(j, v, &it.valid_until_us)) {
        fmt_reject(im, where, "valid_until is not a timestamp");
        return;
    }
    v = cw_json_get(j, obj, "modified");
    if (v >= 0)
        fmt_json_time(j, v, &it.modified_us);
    v = cw_json_get(j, obj, "confidence");
    if (v >= 0) {
        int64_t c;
        if (cw_json_int(j, v, &c) || c < 0 || c > 100) {
            fmt_reject(im, where, "confidence must be an integer 0..100");
            return;
        }
        it.confidence = (int)c;
    }
    enum cw_tlp t;
    if (object_tlp(j, obj, d, &t) == 0)
        it.tlp = t;
    it.description = fmt_json_strdup(j, cw_json_get(j, obj, "description"), a);
    if (!it.description)
        it.description = fmt_json_strdup(j, cw_json_get(j, obj, "name"), a);
    int cb = cw_json_get(j, obj, "created_by_ref");
    if (cb >= 0 && cw_json_is(j, cb, JSMN_STRING)) {
        size_t n;
        const char *s = cw_json_raw(j, cb, &n);
        for (size_t k = 0; k < d->nident; k++)
            if (d->ident[k].name && strlen(d->ident[k].id) == n &&
                memcmp(d->ident[k].id, s, n) == 0)
                it.source_name = d->ident[k].name;
    }
    const char *labels[CW_IOC_LABELS_MAX];
    read_labels(j, obj, a, labels, &it.nlabels);
    it.labels = labels;

    struct cw_stix_leaf *leaves;
    char err[300];
    int nl = cw_stix_pattern_parse(ps, pn, a, &leaves, err, sizeof err);
    if (nl < 0) {
        fmt_reject(im, where, "%s", err);
        return;
    }
    const char *xt = fmt_json_strdup(j, cw_json_get(j, obj, "x_crosswatch_type"), a);
    const char *id = fmt_json_strdup(j, cw_json_get(j, obj, "id"), a);
    for (int k = 0; k < nl; k++) {
        enum cw_ioc_type ty = leaves[k].type;
        if (xt && ty == CW_IOC_DOMAIN && strcmp(xt, "hostname") == 0)
            ty = CW_IOC_HOSTNAME;
        /* one value: the item keeps the STIX id (round trip); several: derived ids */
        it.id = nl == 1 && id && strlen(id) < CW_IOC_ID_MAX ? id : NULL;
        fmt_emit(im, where, &it, ty, leaves[k].value, strlen(leaves[k].value));
    }
}

static void import_object(struct fmt_import *im, const struct cw_json *j, int obj, size_t no,
                          const struct defs *d, struct cw_arena *a)
{
    char where[160];
    im->st->objects++;
    if (!cw_json_is(j, obj, JSMN_OBJECT)) {
        snprintf(where, sizeof where, "object %zu", no);
        fmt_reject(im, where, "not a JSON object");
        return;
    }
    const char *id = fmt_json_strdup(j, cw_json_get(j, obj, "id"), a);
    snprintf(where, sizeof where, "object %zu (%.100s)", no, id ? id : "no id");
    int ty = cw_json_get(j, obj, "type");
    if (ty < 0 || !cw_json_is(j, ty, JSMN_STRING)) {
        fmt_reject(im, where, "no type");
        return;
    }
    if (cw_json_eq(j, ty, "indicator")) {
        if (!id || strncmp(id, "indicator--", 11) != 0) {
            fmt_reject(im, where, "indicator id must start with indicator--");
            return;
        }
        import_indicator(im, j, obj, where, d, a);
    } else {
        /* SCOs (domain-name, ipv4-addr, ...) were observed, not judged: skipped
         * like every other object without a verdict */
        im->st->skipped++;
    }
}

int cw_ioc_import_stix(const char *data, size_t len, const struct cw_ioc_import_opts *o,
                       struct cw_ioc_list *out, struct cw_ioc_import_stats *st)
{
    struct fmt_import im = {o, out, st};
    struct cw_json j;
    jsmntok_t *toks;
    if (fmt_json_load(&im, data, len, &j, &toks))
        return -1;
    struct cw_arena a;
    cw_arena_init(&a, 64 * 1024, 0);
    int rc = 0;
    /* a bundle or TAXII envelope ({"objects": [...]}), one object, or an array */
    int arr = -1;
    if (cw_json_is(&j, 0, JSMN_OBJECT)) {
        int objs = cw_json_get(&j, 0, "objects");
        if (objs >= 0 && cw_json_is(&j, objs, JSMN_ARRAY))
            arr = objs;
        else if (objs >= 0 || str_eq(&j, cw_json_get(&j, 0, "type"), "bundle")) {
            fmt_reject(&im, "input", "bundle without an objects array");
            rc = -1;
        }
    } else if (cw_json_is(&j, 0, JSMN_ARRAY)) {
        arr = 0;
    } else {
        fmt_reject(&im, "input", "not a STIX bundle (JSON object or array expected)");
        rc = -1;
    }
    if (rc == 0) {
        struct defs d = {0};
        if (arr >= 0) {
            collect_defs(&j, arr, &a, &d);
            if (!d.mark || !d.ident) {
                fmt_reject(&im, "input", "out of memory");
                rc = -1;
            } else {
                for (int i = arr + 1, k = 0; k < j.tok[arr].size; k++, i = cw_json_next(&j, i))
                    import_object(&im, &j, i, (size_t)k + 1, &d, &a);
            }
        } else {
            import_object(&im, &j, 0, 1, &d, &a);
        }
    }
    cw_arena_release(&a);
    free(toks);
    return rc;
}

/* -- export ----------------------------------------------------------------- */

static const char *producer(const struct cw_ioc_export_opts *o)
{
    return o && o->producer_name && *o->producer_name ? o->producer_name : "crosswatch";
}

static const uint8_t ns_identity[16] = {0x8d, 0x52, 0x3e, 0x11, 0x0b, 0x6f, 0x4c, 0x3a,
                                        0xa5, 0x27, 0x6e, 0x90, 0xd4, 0x1b, 0x58, 0xc2};

void cw_stix_identity_id(const struct cw_ioc_export_opts *o, char out[CW_IOC_ID_MAX])
{
    char u[37];
    const char *p = producer(o);
    cw_uuid5(ns_identity, p, strlen(p), u);
    snprintf(out, CW_IOC_ID_MAX, "identity--%s", u);
}

static void kv_str(struct cw_buf *b, const char *k, const char *v)
{
    cw_buf_addf(b, ",\"%s\":", k);
    cw_buf_add_json_str(b, v, strlen(v));
}

/* Microseconds kept (the timestamp grammar allows any sub-second precision), so
 * times survive a round trip exactly. */
static void kv_time(struct cw_buf *b, const char *k, int64_t us)
{
    char t[40];
    cw_time_format_iso(us, t);
    cw_buf_addf(b, ",\"%s\":\"%s\"", k, t);
}

void cw_stix_write_identity(struct cw_buf *b, const struct cw_ioc_export_opts *o)
{
    char id[CW_IOC_ID_MAX];
    cw_stix_identity_id(o, id);
    cw_buf_addf(b, "{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"%s\"", id);
    /* fixed: the producer's identity does not change between exports */
    cw_buf_adds(b, ",\"created\":\"2024-01-01T00:00:00.000Z\","
                   "\"modified\":\"2024-01-01T00:00:00.000Z\"");
    kv_str(b, "name", producer(o));
    cw_buf_adds(b, ",\"identity_class\":\"organization\"}");
}

void cw_stix_write_tlp_marking(struct cw_buf *b, enum cw_tlp t)
{
    const char *w = tlp2_word(t);
    char upper[16];
    size_t i = 0;
    for (; w[i] && i + 1 < sizeof upper; i++)
        upper[i] = (char)(w[i] >= 'a' && w[i] <= 'z' ? w[i] - 32 : w[i]);
    upper[i] = '\0';
    cw_buf_addf(b,
                "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"%s\","
                "\"created\":\"2022-10-01T00:00:00.000Z\",\"name\":\"TLP:%s\","
                "\"extensions\":{\"" TLP2_EXT "\":{\"extension_type\":\"property-extension\","
                "\"tlp_2_0\":\"%s\"}}}",
                cw_stix_tlp_marking_id(t), upper, w);
}

void cw_stix_write_indicator(struct cw_buf *b, const struct cw_ioc_item *it,
                             const struct cw_ioc_export_opts *o, bool revoked)
{
    int64_t now = o && o->now_us ? o->now_us : cw_now_us();
    char id[CW_IOC_ID_MAX], ident[CW_IOC_ID_MAX];
    const char *iid = it->id;
    if (!iid || strncmp(iid, "indicator--", 11) != 0) {
        cw_ioc_item_id(it->type, it->value, id);
        iid = id;
    }
    cw_stix_identity_id(o, ident);
    /* valid_until must be after valid_from; modified not before created */
    int64_t from = it->first_seen_us ? it->first_seen_us : now;
    int64_t until = it->valid_until_us;
    if (until && until <= from)
        from = until - 1000;
    int64_t mod = it->modified_us > from ? it->modified_us : from;
    cw_buf_adds(b, "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":");
    cw_buf_add_json_str(b, iid, strlen(iid));
    kv_str(b, "created_by_ref", ident);
    kv_time(b, "created", from);
    kv_time(b, "modified", mod);
    if (revoked)
        cw_buf_adds(b, ",\"revoked\":true");
    if (it->description && *it->description)
        kv_str(b, "description", it->description);
    cw_buf_adds(b, ",\"indicator_types\":[\"malicious-activity\"],\"pattern\":");
    struct cw_buf p = CW_BUF_INIT;
    cw_stix_pattern_write(&p, it->type, it->value);
    if (!cw_buf_ok(&p))
        b->oom = true;
    cw_buf_add_json_str(b, p.data ? p.data : "", p.len);
    cw_buf_release(&p);
    cw_buf_adds(b, ",\"pattern_type\":\"stix\",\"pattern_version\":\"2.1\"");
    kv_time(b, "valid_from", from);
    if (until)
        kv_time(b, "valid_until", until);
    if (it->confidence >= 0 && it->confidence <= 100)
        cw_buf_addf(b, ",\"confidence\":%d", it->confidence);
    size_t nl = 0;
    for (size_t i = 0; i < it->nlabels; i++) {
        if (!it->labels[i] || !*it->labels[i] || strcmp(it->labels[i], "malicious-activity") == 0)
            continue;
        cw_buf_adds(b, nl++ ? "," : ",\"labels\":[");
        cw_buf_add_json_str(b, it->labels[i], strlen(it->labels[i]));
    }
    if (nl)
        cw_buf_addc(b, ']');
    cw_buf_addf(b, ",\"object_marking_refs\":[\"%s\"]", cw_stix_tlp_marking_id(it->tlp));
    if (it->type == CW_IOC_HOSTNAME)
        cw_buf_adds(b, ",\"x_crosswatch_type\":\"hostname\"");
    cw_buf_addc(b, '}');
}

int cw_ioc_export_stix(const struct cw_ioc_item *items, size_t n,
                       const struct cw_ioc_export_opts *o, struct cw_buf *out)
{
    int64_t now = o && o->now_us ? o->now_us : cw_now_us();
    struct cw_ioc_export_opts oo = o ? *o : (struct cw_ioc_export_opts){0};
    oo.now_us = now;
    char seed[128], u[37];
    int k = snprintf(seed, sizeof seed, "bundle:%s:%lld:%zu", producer(&oo), (long long)now, n);
    cw_uuid5(ns_identity, seed, k > 0 ? (size_t)k : 0, u);
    cw_buf_addf(out, "{\"type\":\"bundle\",\"id\":\"bundle--%s\",\"objects\":[", u);
    cw_stix_write_identity(out, &oo);
    bool used[CW_TLP__COUNT] = {false};
    for (size_t i = 0; i < n; i++)
        used[items[i].tlp < CW_TLP__COUNT ? items[i].tlp : CW_TLP_RED] = true;
    for (int t = 0; t < CW_TLP__COUNT; t++)
        if (used[t]) {
            cw_buf_adds(out, ",\n");
            cw_stix_write_tlp_marking(out, (enum cw_tlp)t);
        }
    for (size_t i = 0; i < n; i++) {
        cw_buf_adds(out, ",\n");
        cw_stix_write_indicator(out, &items[i], &oo, oo.revoked && oo.revoked[i]);
    }
    cw_buf_adds(out, "]}\n");
    return cw_buf_ok(out) ? 0 : -1;
}
