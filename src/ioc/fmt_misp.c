/* fmt_misp.c - MISP events (import and export) and the MISP feed layout
 * (manifest.json, <uuid>.json, hashes.csv).
 *
 * Import: attributes of the event and of its objects; "to_ids": false attributes
 * are context (skipped unless opts->misp_all), deleted attributes/objects skipped,
 * types without an indicator form (filename, text, link ...) skipped. TLP from
 * "tlp:*" tags: an attribute's own, else the event's. The table of
 * attribute types is in docs/indicators-formats.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "common/timefmt.h"
#include "ioc/fmt_impl.h"
#include "common/banned.h"

/* MISP attribute type -> indicator type. ADDR: ipv4/ipv6/cidr by the value;
 * SPLIT_*: "a|b" composite types, which part(s) to keep. */
enum { ADDR = CW_IOC__COUNT + 1 };
enum split { WHOLE, FIRST, SECOND, BOTH };

static const struct mtype {
    const char *name;
    int type, type2; /* type2: the second part of BOTH */
    enum split split;
} mtypes[] = {
    {"domain", CW_IOC_DOMAIN, 0, WHOLE},
    {"hostname", CW_IOC_HOSTNAME, 0, WHOLE},
    {"url", CW_IOC_URL, 0, WHOLE},
    {"ip-src", ADDR, 0, WHOLE},
    {"ip-dst", ADDR, 0, WHOLE},
    {"ip-src|port", ADDR, 0, FIRST},
    {"ip-dst|port", ADDR, 0, FIRST},
    {"hostname|port", CW_IOC_HOSTNAME, 0, FIRST},
    {"domain|ip", CW_IOC_DOMAIN, ADDR, BOTH},
    {"email", CW_IOC_EMAIL, 0, WHOLE},
    {"email-src", CW_IOC_EMAIL, 0, WHOLE},
    {"email-dst", CW_IOC_EMAIL, 0, WHOLE},
    {"email-reply-to", CW_IOC_EMAIL, 0, WHOLE},
    {"md5", CW_IOC_MD5, 0, WHOLE},
    {"sha1", CW_IOC_SHA1, 0, WHOLE},
    {"sha256", CW_IOC_SHA256, 0, WHOLE},
    {"filename|md5", CW_IOC_MD5, 0, SECOND},
    {"filename|sha1", CW_IOC_SHA1, 0, SECOND},
    {"filename|sha256", CW_IOC_SHA256, 0, SECOND},
    {"ja3-fingerprint-md5", CW_IOC_JA3, 0, WHOLE},
    {"user-agent", CW_IOC_USER_AGENT, 0, WHOLE},
};

static const struct mtype *find_mtype(const char *s)
{
    for (size_t i = 0; i < sizeof mtypes / sizeof *mtypes; i++)
        if (strcmp(mtypes[i].name, s) == 0)
            return &mtypes[i];
    return NULL;
}

static enum cw_ioc_type addr_type(const char *v, size_t n)
{
    if (memchr(v, '/', n))
        return CW_IOC_CIDR;
    return memchr(v, ':', n) ? CW_IOC_IPV6 : CW_IOC_IPV4;
}

/* -- import ----------------------------------------------------------------- */

struct ev {
    enum cw_tlp tlp;
    bool has_tlp;
    const char *labels[CW_IOC_LABELS_MAX];
    size_t nlabels;
    const char *info, *org;
    int64_t date_us, ts_us;
};

static bool truthy(const struct cw_json *j, int i)
{
    return i >= 0 && (cw_json_eq(j, i, "true") || cw_json_eq(j, i, "1") ||
                      (cw_json_is(j, i, JSMN_STRING) && cw_json_eq(j, i, "1")));
}

/* "timestamp": "1513893921" or 1513893921 (seconds) -> µs */
static int epoch(const struct cw_json *j, int i, int64_t *us)
{
    if (i < 0)
        return -1;
    size_t n;
    const char *s = cw_json_raw(j, i, &n);
    int64_t v = 0;
    if (n == 0 || n > 12)
        return -1;
    for (size_t k = 0; k < n; k++) {
        if (s[k] < '0' || s[k] > '9')
            return -1;
        v = v * 10 + (s[k] - '0');
    }
    *us = v * 1000000;
    return 0;
}

/* Tags: tlp:* into *tlp (strictest), others appended to labels. */
static void read_tags(const struct cw_json *j, int obj, struct cw_arena *a, enum cw_tlp *tlp,
                      bool *has, const char **labels, size_t *nl)
{
    int arr = cw_json_get(j, obj, "Tag");
    if (arr < 0 || !cw_json_is(j, arr, JSMN_ARRAY))
        return;
    for (int i = arr + 1, k = 0; k < j->tok[arr].size; k++, i = cw_json_next(j, i)) {
        const char *name = fmt_json_strdup(j, cw_json_get(j, i, "name"), a);
        if (!name)
            continue;
        enum cw_tlp t;
        if (strncasecmp(name, "tlp:", 4) == 0) {
            if (fmt_tlp_tag(name, strlen(name), &t) == 0) {
                *tlp = *has ? fmt_tlp_max(*tlp, t) : t;
                *has = true;
            }
        } else if (*nl < CW_IOC_LABELS_MAX) {
            labels[(*nl)++] = name;
        }
    }
}

static bool uuid_shape(const char *s)
{
    if (!s || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        char c = s[i];
        bool hy = i == 8 || i == 13 || i == 18 || i == 23;
        if (hy ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
                              (c >= 'A' && c <= 'F')))
            return false;
    }
    /* STIX ids want an RFC version 1-5 and variant 8-b */
    return s[14] >= '1' && s[14] <= '5' && strchr("89abAB", s[19]);
}

static void import_attribute(struct fmt_import *im, const struct cw_json *j, int at,
                             const char *where_pfx, size_t no, const struct ev *e,
                             struct cw_arena *a)
{
    char where[200];
    im->st->objects++;
    if (!cw_json_is(j, at, JSMN_OBJECT)) {
        snprintf(where, sizeof where, "%sAttribute %zu", where_pfx, no);
        fmt_reject(im, where, "not a JSON object");
        return;
    }
    const char *uuid = fmt_json_strdup(j, cw_json_get(j, at, "uuid"), a);
    snprintf(where, sizeof where, "%sAttribute %zu (%.40s)", where_pfx, no,
             uuid ? uuid : "no uuid");
    if (truthy(j, cw_json_get(j, at, "deleted"))) {
        im->st->skipped++;
        return;
    }
    const char *type = fmt_json_strdup(j, cw_json_get(j, at, "type"), a);
    int vt = cw_json_get(j, at, "value");
    const char *value;
    size_t vn;
    if (!type) {
        fmt_reject(im, where, "no type");
        return;
    }
    if (vt < 0 || cw_json_str(j, vt, a, &value, &vn)) {
        fmt_reject(im, where, "no string value");
        return;
    }
    const struct mtype *m = find_mtype(type);
    int ti = cw_json_get(j, at, "to_ids");
    /* no to_ids at all (hand-written events): taken as an indicator */
    if (!m || (!im->o->misp_all && ti >= 0 && !truthy(j, ti))) {
        im->st->skipped++;
        return;
    }
    struct cw_ioc_item it = {.confidence = im->o->default_confidence,
                             .tlp = e->has_tlp ? e->tlp : im->o->default_tlp,
                             .source_name = e->org ? e->org : im->o->source_name,
                             .description = e->info,
                             .first_seen_us = e->date_us,
                             .modified_us = e->ts_us};
    /* an attribute's own tlp tag is the more specific marking and wins over the
     * event's (our export tags the event with its strictest attribute) */
    bool has = false;
    enum cw_tlp own = CW_TLP_CLEAR;
    const char *labels[CW_IOC_LABELS_MAX];
    size_t nl = 0;
    for (size_t k = 0; k < e->nlabels; k++)
        labels[nl++] = e->labels[k];
    read_tags(j, at, a, &own, &has, labels, &nl);
    if (has)
        it.tlp = own;
    it.labels = labels;
    it.nlabels = nl;
    const char *comment = fmt_json_strdup(j, cw_json_get(j, at, "comment"), a);
    if (comment && *comment)
        it.description = comment;
    int64_t t;
    if (epoch(j, cw_json_get(j, at, "timestamp"), &t) == 0)
        it.modified_us = t; /* MISP's timestamp: last change, not last sighting */
    if (fmt_json_time(j, cw_json_get(j, at, "first_seen"), &t) == 0)
        it.first_seen_us = t;
    if (fmt_json_time(j, cw_json_get(j, at, "last_seen"), &t) == 0)
        it.last_seen_us = t;
    if (m->split == WHOLE) {
        enum cw_ioc_type ty = m->type == ADDR ? addr_type(value, vn) : (enum cw_ioc_type)m->type;
        it.id = NULL;
        char idb[CW_IOC_ID_MAX];
        if (uuid_shape(uuid)) {
            snprintf(idb, sizeof idb, "indicator--%s", uuid);
            for (char *c = idb; *c; c++)
                if (*c >= 'A' && *c <= 'F')
                    *c = (char)(*c + 32);
            it.id = idb;
        }
        fmt_emit(im, where, &it, ty, value, vn);
        return;
    }
    const char *bar = memchr(value, '|', vn);
    if (!bar) {
        fmt_reject(im, where, "%s value has no '|'", type);
        return;
    }
    size_t n1 = (size_t)(bar - value), n2 = vn - n1 - 1;
    const char *v2 = bar + 1;
    if (m->split == FIRST || m->split == BOTH) {
        enum cw_ioc_type ty = m->type == ADDR ? addr_type(value, n1) : (enum cw_ioc_type)m->type;
        if (fmt_emit(im, where, &it, ty, value, n1) < 0)
            return;
    }
    if (m->split == SECOND || m->split == BOTH) {
        int tt = m->split == BOTH ? m->type2 : m->type;
        enum cw_ioc_type ty = tt == ADDR ? addr_type(v2, n2) : (enum cw_ioc_type)tt;
        fmt_emit(im, where, &it, ty, v2, n2);
    }
}

static void import_attrs(struct fmt_import *im, const struct cw_json *j, int holder,
                         const char *pfx, const struct ev *e, struct cw_arena *a)
{
    int arr = cw_json_get(j, holder, "Attribute");
    if (arr < 0)
        return;
    if (!cw_json_is(j, arr, JSMN_ARRAY)) {
        fmt_reject(im, pfx[0] ? pfx : "Event", "Attribute is not an array");
        return;
    }
    for (int i = arr + 1, k = 0; k < j->tok[arr].size; k++, i = cw_json_next(j, i))
        import_attribute(im, j, i, pfx, (size_t)k + 1, e, a);
}

static void import_event(struct fmt_import *im, const struct cw_json *j, int evt, size_t no,
                         struct cw_arena *a)
{
    char pfx[96];
    struct ev e = {0};
    const char *uuid = fmt_json_strdup(j, cw_json_get(j, evt, "uuid"), a);
    snprintf(pfx, sizeof pfx, "Event %zu (%.40s) ", no, uuid ? uuid : "no uuid");
    read_tags(j, evt, a, &e.tlp, &e.has_tlp, e.labels, &e.nlabels);
    e.info = fmt_json_strdup(j, cw_json_get(j, evt, "info"), a);
    int org = cw_json_get(j, evt, "Orgc");
    if (org >= 0)
        e.org = fmt_json_strdup(j, cw_json_get(j, org, "name"), a);
    int d = cw_json_get(j, evt, "date");
    if (d >= 0 && cw_json_is(j, d, JSMN_STRING)) {
        size_t n;
        const char *s = cw_json_raw(j, d, &n);
        char b[40];
        if (n == 10) {
            memcpy(b, s, 10);
            memcpy(b + 10, "T00:00:00Z", 11);
            cw_time_parse_iso(b, 20, &e.date_us);
        }
    }
    epoch(j, cw_json_get(j, evt, "timestamp"), &e.ts_us);
    import_attrs(im, j, evt, pfx, &e, a);
    int objs = cw_json_get(j, evt, "Object");
    if (objs < 0)
        return;
    if (!cw_json_is(j, objs, JSMN_ARRAY)) {
        fmt_reject(im, pfx, "Object is not an array");
        return;
    }
    for (int i = objs + 1, k = 0; k < j->tok[objs].size; k++, i = cw_json_next(j, i)) {
        char opfx[160];
        snprintf(opfx, sizeof opfx, "%sObject %d ", pfx, k + 1);
        if (!cw_json_is(j, i, JSMN_OBJECT)) {
            im->st->objects++;
            fmt_reject(im, opfx, "not a JSON object");
            continue;
        }
        if (truthy(j, cw_json_get(j, i, "deleted"))) {
            int at = cw_json_get(j, i, "Attribute");
            size_t na = at >= 0 && cw_json_is(j, at, JSMN_ARRAY) ? (size_t)j->tok[at].size : 0;
            im->st->objects += na;
            im->st->skipped += na;
            continue;
        }
        import_attrs(im, j, i, opfx, &e, a);
    }
}

static bool looks_like_event(const struct cw_json *j, int o)
{
    return cw_json_get(j, o, "Attribute") >= 0 || cw_json_get(j, o, "Object") >= 0 ||
           cw_json_get(j, o, "info") >= 0;
}

/* One element: {"Event":{...}} or a bare event. */
static int event_at(const struct cw_json *j, int i)
{
    if (!cw_json_is(j, i, JSMN_OBJECT))
        return -1;
    int e = cw_json_get(j, i, "Event");
    if (e >= 0)
        return cw_json_is(j, e, JSMN_OBJECT) ? e : -1;
    return looks_like_event(j, i) ? i : -1;
}

int cw_ioc_import_misp(const char *data, size_t len, const struct cw_ioc_import_opts *o,
                       struct cw_ioc_list *out, struct cw_ioc_import_stats *st)
{
    struct fmt_import im = {o, out, st};
    struct cw_json j;
    jsmntok_t *toks;
    if (fmt_json_load(&im, data, len, &j, &toks))
        return -1;
    struct cw_arena a;
    cw_arena_init(&a, 64 * 1024, 0);
    int rc = 0, list = -1;
    if (cw_json_is(&j, 0, JSMN_ARRAY))
        list = 0;
    else if (cw_json_is(&j, 0, JSMN_OBJECT) && cw_json_get(&j, 0, "response") >= 0)
        list = cw_json_get(&j, 0, "response");
    if (list >= 0) {
        if (!cw_json_is(&j, list, JSMN_ARRAY)) {
            fmt_reject(&im, "input", "response is not an array of events");
            rc = -1;
        } else {
            for (int i = list + 1, k = 0; k < j.tok[list].size; k++, i = cw_json_next(&j, i)) {
                int e = event_at(&j, i);
                char where[48];
                snprintf(where, sizeof where, "Event %d", k + 1);
                if (e < 0)
                    fmt_reject(&im, where, "not a MISP event");
                else
                    import_event(&im, &j, e, (size_t)k + 1, &a);
            }
        }
    } else {
        int e = event_at(&j, 0);
        if (e < 0) {
            fmt_reject(&im, "input", "not a MISP event (no Event, Attribute, Object or info)");
            rc = -1;
        } else {
            import_event(&im, &j, e, 1, &a);
        }
    }
    cw_arena_release(&a);
    free(toks);
    return rc;
}

int cw_ioc_misp_manifest_events(const char *data, size_t len,
                                void (*fn)(void *ctx, const char *uuid), void *ctx,
                                char *err, size_t errlen)
{
    struct cw_ioc_import_stats st = {0};
    struct cw_ioc_import_opts o = {0};
    struct fmt_import im = {&o, NULL, &st};
    struct cw_json j;
    jsmntok_t *toks;
    if (fmt_json_load(&im, data, len, &j, &toks)) {
        snprintf(err, errlen, "manifest.json is not valid JSON");
        return -1;
    }
    int n = 0;
    if (!cw_json_is(&j, 0, JSMN_OBJECT)) {
        snprintf(err, errlen, "manifest.json is not a JSON object");
        n = -1;
    }
    for (int i = 1, k = 0; n >= 0 && k < j.tok[0].size; k++) {
        size_t kn;
        const char *key = cw_json_raw(&j, i, &kn);
        char u[37];
        if (kn != 36) {
            snprintf(err, errlen, "manifest key %d is not a UUID", k + 1);
            n = -1;
            break;
        }
        memcpy(u, key, 36);
        u[36] = '\0';
        bool ok = true;
        for (int c = 0; c < 36; c++)
            ok &= (c == 8 || c == 13 || c == 18 || c == 23) ? u[c] == '-'
                                                             : strchr("0123456789abcdefABCDEF", u[c]) && u[c];
        if (!ok) {
            snprintf(err, errlen, "manifest key %d is not a UUID", k + 1);
            n = -1;
            break;
        }
        fn(ctx, u);
        n++;
        i = cw_json_next(&j, i + 1);
    }
    free(toks);
    return n;
}

/* -- export ----------------------------------------------------------------- */

static const struct { enum cw_ioc_type t; const char *type, *category; } out_types[] = {
    {CW_IOC_DOMAIN, "domain", "Network activity"},
    {CW_IOC_HOSTNAME, "hostname", "Network activity"},
    {CW_IOC_URL, "url", "Network activity"},
    {CW_IOC_IPV4, "ip-dst", "Network activity"},
    {CW_IOC_IPV6, "ip-dst", "Network activity"},
    {CW_IOC_CIDR, "ip-dst", "Network activity"},
    {CW_IOC_EMAIL, "email-src", "Payload delivery"},
    {CW_IOC_MD5, "md5", "Payload delivery"},
    {CW_IOC_SHA1, "sha1", "Payload delivery"},
    {CW_IOC_SHA256, "sha256", "Payload delivery"},
    {CW_IOC_JA3, "ja3-fingerprint-md5", "Network activity"},
    {CW_IOC_USER_AGENT, "user-agent", "Network activity"},
};

static int out_type(enum cw_ioc_type t)
{
    for (size_t i = 0; i < sizeof out_types / sizeof *out_types; i++)
        if (out_types[i].t == t)
            return (int)i;
    return -1;
}

static const uint8_t ns_misp[16] = {0x2a, 0x7b, 0x91, 0x04, 0xe3, 0x5d, 0x4f, 0x88,
                                    0xb6, 0x10, 0x3c, 0x47, 0x9a, 0xd2, 0x65, 0x1e};

static const char *info_of(const struct cw_ioc_export_opts *o)
{
    return o && o->misp_event_info ? o->misp_event_info : "crosswatch indicators";
}

static const char *org_of(const struct cw_ioc_export_opts *o)
{
    return o && o->producer_name && *o->producer_name ? o->producer_name : "crosswatch";
}

void cw_misp_event_uuid(const struct cw_ioc_export_opts *o, char out[37])
{
    if (o && o->misp_event_uuid && uuid_shape(o->misp_event_uuid)) {
        memcpy(out, o->misp_event_uuid, 37);
        return;
    }
    char name[600];
    int k = snprintf(name, sizeof name, "%s\n%s", org_of(o), info_of(o));
    cw_uuid5(ns_misp, name, k < 0 ? 0 : (size_t)k >= sizeof name ? sizeof name - 1 : (size_t)k,
             out);
}

static const char *tlp_tag(enum cw_tlp t)
{
    static const char *tags[] = {"tlp:clear", "tlp:green", "tlp:amber", "tlp:amber+strict",
                                 "tlp:red"};
    return t < CW_TLP__COUNT ? tags[t] : "tlp:red";
}

/* event-level facts: strictest TLP, newest time */
static void summary(const struct cw_ioc_item *items, size_t n, int64_t now, enum cw_tlp *tlp,
                    int64_t *ts)
{
    *tlp = CW_TLP_CLEAR;
    *ts = 0;
    for (size_t i = 0; i < n; i++) {
        if (out_type(items[i].type) < 0)
            continue;
        *tlp = fmt_tlp_max(*tlp, items[i].tlp);
        int64_t t = items[i].modified_us ? items[i].modified_us : items[i].last_seen_us;
        if (t > *ts)
            *ts = t;
    }
    if (!*ts)
        *ts = now;
}

static void event_head(struct cw_buf *b, const struct cw_ioc_export_opts *o, enum cw_tlp tlp,
                       int64_t ts)
{
    char uuid[37], ou[37], date[40];
    cw_misp_event_uuid(o, uuid);
    const char *org = org_of(o);
    cw_uuid5(ns_misp, org, strlen(org), ou);
    cw_time_format_iso(ts, date);
    date[10] = '\0';
    /* distribution by the strictest TLP: 0 own organisation, 1 community, 3 all */
    const char *dist = tlp >= CW_TLP_AMBER ? "0" : tlp == CW_TLP_GREEN ? "1" : "3";
    cw_buf_addf(b, "\"uuid\":\"%s\",\"info\":", uuid);
    cw_buf_add_json_str(b, info_of(o), strlen(info_of(o)));
    cw_buf_addf(b, ",\"date\":\"%s\",\"timestamp\":\"%lld\",\"publish_timestamp\":\"%lld\","
                   "\"published\":true,\"analysis\":\"2\",\"threat_level_id\":\"2\","
                   "\"distribution\":\"%s\",\"Orgc\":{\"name\":",
                date, (long long)(ts / 1000000), (long long)(ts / 1000000), dist);
    cw_buf_add_json_str(b, org, strlen(org));
    cw_buf_addf(b, ",\"uuid\":\"%s\"},\"Tag\":[{\"name\":\"%s\"}]", ou, tlp_tag(tlp));
}

static void attr_uuid(const struct cw_ioc_item *it, char out[37])
{
    if (it->id && strncmp(it->id, "indicator--", 11) == 0 && uuid_shape(it->id + 11)) {
        memcpy(out, it->id + 11, 37);
        return;
    }
    char id[CW_IOC_ID_MAX];
    cw_ioc_item_id(it->type, it->value, id);
    memcpy(out, id + 11, 37);
}

int cw_ioc_export_misp(const struct cw_ioc_item *items, size_t n,
                       const struct cw_ioc_export_opts *o, struct cw_buf *out)
{
    int64_t now = o && o->now_us ? o->now_us : cw_now_us();
    enum cw_tlp tlp;
    int64_t ts;
    summary(items, n, now, &tlp, &ts);
    cw_buf_adds(out, "{\"Event\":{");
    event_head(out, o, tlp, ts);
    cw_buf_adds(out, ",\"Attribute\":[");
    int left = 0;
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        const struct cw_ioc_item *it = &items[i];
        int k = out_type(it->type);
        if (k < 0) {
            left++;
            continue;
        }
        char u[37], tbuf[40];
        attr_uuid(it, u);
        int64_t t = it->modified_us ? it->modified_us : it->last_seen_us ? it->last_seen_us : ts;
        cw_buf_addf(out, "%s\n{\"uuid\":\"%s\",\"type\":\"%s\",\"category\":\"%s\",\"value\":",
                    w++ ? "," : "", u, out_types[k].type, out_types[k].category);
        cw_buf_add_json_str(out, it->value, strlen(it->value));
        cw_buf_addf(out, ",\"to_ids\":true,\"distribution\":\"5\",\"timestamp\":\"%lld\"",
                    (long long)(t / 1000000));
        if (it->description) {
            cw_buf_adds(out, ",\"comment\":");
            cw_buf_add_json_str(out, it->description, strlen(it->description));
        }
        if (it->first_seen_us) {
            cw_time_format_iso(it->first_seen_us, tbuf);
            cw_buf_addf(out, ",\"first_seen\":\"%s\"", tbuf);
        }
        if (it->last_seen_us && it->last_seen_us >= it->first_seen_us) {
            cw_time_format_iso(it->last_seen_us, tbuf);
            cw_buf_addf(out, ",\"last_seen\":\"%s\"", tbuf);
        }
        cw_buf_addf(out, ",\"Tag\":[{\"name\":\"%s\"}", tlp_tag(it->tlp));
        for (size_t l = 0; l < it->nlabels; l++) {
            if (!it->labels[l] || strncasecmp(it->labels[l], "tlp:", 4) == 0)
                continue;
            cw_buf_adds(out, ",{\"name\":");
            cw_buf_add_json_str(out, it->labels[l], strlen(it->labels[l]));
            cw_buf_addc(out, '}');
        }
        cw_buf_adds(out, "]}");
    }
    cw_buf_adds(out, "]}}\n");
    return cw_buf_ok(out) ? left : -1;
}

int cw_ioc_export_misp_manifest(const struct cw_ioc_item *items, size_t n,
                                const struct cw_ioc_export_opts *o, struct cw_buf *out)
{
    int64_t now = o && o->now_us ? o->now_us : cw_now_us();
    enum cw_tlp tlp;
    int64_t ts;
    summary(items, n, now, &tlp, &ts);
    char uuid[37];
    cw_misp_event_uuid(o, uuid);
    cw_buf_addf(out, "{\"%s\":{", uuid);
    event_head(out, o, tlp, ts);
    cw_buf_adds(out, "}}\n");
    return cw_buf_ok(out) ? 0 : -1;
}

int cw_ioc_export_misp_hashes(const struct cw_ioc_item *items, size_t n,
                              const struct cw_ioc_export_opts *o, struct cw_buf *out)
{
    char uuid[37];
    cw_misp_event_uuid(o, uuid);
    for (size_t i = 0; i < n; i++) {
        if (out_type(items[i].type) < 0)
            continue;
        uint8_t md[EVP_MAX_MD_SIZE];
        unsigned ml = 0;
        if (!EVP_Digest(items[i].value, strlen(items[i].value), md, &ml, EVP_md5(), NULL))
            return -1;
        for (unsigned k = 0; k < ml; k++)
            cw_buf_addf(out, "%02x", md[k]);
        cw_buf_addf(out, ",%s\n", uuid);
    }
    return cw_buf_ok(out) ? 0 : -1;
}
