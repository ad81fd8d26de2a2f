/* fmt_list.c - the de-duplicating item list, deterministic ids, and the helpers
 * every importer shares (reject reporting, normalise-and-add, JSON loading). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/timefmt.h"
#include "ioc/fmt_impl.h"
#include "common/banned.h"

/* The crosswatch namespace for UUIDv5 indicator ids (a fixed random UUID: ids only
 * have to be stable, not derivable by others). */
static const uint8_t ns_crosswatch[16] = {0x4f, 0x1c, 0x2b, 0x9e, 0x7d, 0x35, 0x4a, 0x61,
                                          0x9c, 0x0e, 0x52, 0xd8, 0x13, 0xa7, 0x6b, 0xf0};

void cw_uuid5(const uint8_t ns[16], const char *name, size_t n, char out[37])
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (c && EVP_DigestInit_ex(c, EVP_sha1(), NULL) && EVP_DigestUpdate(c, ns, 16) &&
        EVP_DigestUpdate(c, name, n) && EVP_DigestFinal_ex(c, md, &mdlen) && mdlen >= 16) {
    } else {
        memset(md, 0, sizeof md); /* only on OOM inside OpenSSL; still a valid v5 shape */
    }
    EVP_MD_CTX_free(c);
    md[6] = (uint8_t)((md[6] & 0x0f) | 0x50); /* version 5 */
    md[8] = (uint8_t)((md[8] & 0x3f) | 0x80); /* RFC variant */
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[md[i] >> 4];
        out[o++] = hex[md[i] & 15];
    }
    out[o] = '\0';
}

void cw_ioc_item_id(enum cw_ioc_type t, const char *value, char out[CW_IOC_ID_MAX])
{
    char name[CW_IOC_VALUE_MAX + 32];
    const char *tn = cw_ioc_type_name(t);
    int k = snprintf(name, sizeof name, "%s:%s", tn ? tn : "?", value);
    size_t len = k < 0 ? 0 : (size_t)k >= sizeof name ? sizeof name - 1 : (size_t)k;
    char u[37];
    cw_uuid5(ns_crosswatch, name, len, u);
    snprintf(out, CW_IOC_ID_MAX, "indicator--%s", u);
}

/* -- list ------------------------------------------------------------------- */

void cw_ioc_list_init(struct cw_ioc_list *l)
{
    memset(l, 0, sizeof *l);
    cw_arena_init(&l->arena, 64 * 1024, 0);
}

void cw_ioc_list_release(struct cw_ioc_list *l)
{
    cw_arena_release(&l->arena);
    free(l->items);
    free(l->index);
    memset(l, 0, sizeof *l);
}

static uint64_t key_hash(enum cw_ioc_type t, const char *v)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)t;
    for (; *v; v++)
        h = (h ^ (uint8_t)*v) * 1099511628211ull;
    return h ^ (h >> 29);
}

static size_t find_slot(const struct cw_ioc_list *l, enum cw_ioc_type t, const char *v)
{
    size_t mask = l->index_cap - 1, i = (size_t)key_hash(t, v) & mask;
    for (;;) {
        uint32_t e = l->index[i];
        if (e == 0)
            return i;
        const struct cw_ioc_item *it = &l->items[e - 1];
        if (it->type == t && strcmp(it->value, v) == 0)
            return i;
        i = (i + 1) & mask;
    }
}

static int grow_index(struct cw_ioc_list *l)
{
    size_t ncap = l->index_cap ? l->index_cap * 2 : 64;
    uint32_t *old = l->index;
    size_t ocap = l->index_cap;
    l->index = calloc(ncap, sizeof *l->index);
    if (!l->index) {
        l->index = old;
        return -1;
    }
    l->index_cap = ncap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i]) {
            const struct cw_ioc_item *it = &l->items[old[i] - 1];
            l->index[find_slot(l, it->type, it->value)] = old[i];
        }
    free(old);
    return 0;
}

const struct cw_ioc_item *cw_ioc_list_find(const struct cw_ioc_list *l, enum cw_ioc_type t,
                                           const char *value)
{
    if (!l->index_cap)
        return NULL;
    uint32_t e = l->index[find_slot(l, t, value)];
    return e ? &l->items[e - 1] : NULL;
}

static const char *dup(struct cw_arena *a, const char *s, bool *oom)
{
    if (!s)
        return NULL;
    char *d = cw_arena_strndup(a, s, strlen(s));
    if (!d)
        *oom = true;
    return d;
}

static bool has_label(const struct cw_ioc_item *it, const char *s)
{
    for (size_t i = 0; i < it->nlabels; i++)
        if (strcmp(it->labels[i], s) == 0)
            return true;
    return false;
}

/* Labels live in a CW_IOC_LABELS_MAX array in the arena so merges can append. */
static int copy_labels(struct cw_arena *a, struct cw_ioc_item *dst, const char *const *src,
                       size_t n)
{
    if (!dst->labels) {
        dst->labels = cw_arena_calloc(a, CW_IOC_LABELS_MAX * sizeof *dst->labels);
        dst->nlabels = 0;
        if (!dst->labels)
            return -1;
    }
    for (size_t i = 0; i < n && dst->nlabels < CW_IOC_LABELS_MAX; i++) {
        if (!src[i] || has_label(dst, src[i]))
            continue;
        bool oom = false;
        const char *s = dup(a, src[i], &oom);
        if (oom)
            return -1;
        dst->labels[dst->nlabels++] = s;
    }
    return 0;
}

static int64_t min_known(int64_t a, int64_t b) { return !a ? b : !b ? a : a < b ? a : b; }
static int64_t max_of(int64_t a, int64_t b) { return a > b ? a : b; }

static int merge(struct cw_ioc_list *l, struct cw_ioc_item *d, const struct cw_ioc_item *s)
{
    bool oom = false;
    if (s->confidence > d->confidence)
        d->confidence = s->confidence;
    d->tlp = fmt_tlp_max(d->tlp, s->tlp);
    d->first_seen_us = min_known(d->first_seen_us, s->first_seen_us);
    d->last_seen_us = max_of(d->last_seen_us, s->last_seen_us);
    d->modified_us = max_of(d->modified_us, s->modified_us);
    /* 0 = never expires: the later of two expiries, and "never" beats both */
    d->valid_until_us = (!d->valid_until_us || !s->valid_until_us)
                            ? 0
                            : max_of(d->valid_until_us, s->valid_until_us);
    if (!d->description)
        d->description = dup(&l->arena, s->description, &oom);
    if (!d->source_name)
        d->source_name = dup(&l->arena, s->source_name, &oom);
    if (oom || copy_labels(&l->arena, d, s->labels, s->nlabels))
        return -1;
    return 0;
}

int cw_ioc_list_add(struct cw_ioc_list *l, const struct cw_ioc_item *it)
{
    if (!it->value || it->type <= CW_IOC_NONE || it->type >= CW_IOC__COUNT)
        return -1;
    if ((l->n + 1) * 2 > l->index_cap && grow_index(l))
        return -1;
    size_t slot = find_slot(l, it->type, it->value);
    if (l->index[slot])
        return merge(l, &l->items[l->index[slot] - 1], it) ? -1 : 0;
    if ((l->max_items && l->n >= l->max_items) || l->n >= UINT32_MAX - 1)
        return -1;
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 64;
        struct cw_ioc_item *ni = realloc(l->items, ncap * sizeof *ni);
        if (!ni)
            return -1;
        l->items = ni;
        l->cap = ncap;
    }
    struct cw_ioc_item *d = &l->items[l->n];
    *d = *it;
    bool oom = false;
    d->value = dup(&l->arena, it->value, &oom);
    if (it->id) {
        d->id = dup(&l->arena, it->id, &oom);
    } else {
        char id[CW_IOC_ID_MAX];
        cw_ioc_item_id(it->type, it->value, id);
        d->id = dup(&l->arena, id, &oom);
    }
    d->description = dup(&l->arena, it->description, &oom);
    d->source_name = dup(&l->arena, it->source_name, &oom);
    d->submitter = dup(&l->arena, it->submitter, &oom);
    d->note = dup(&l->arena, it->note, &oom);
    d->labels = NULL;
    d->nlabels = 0;
    if (oom || copy_labels(&l->arena, d, it->labels, it->nlabels))
        return -1;
    l->n++;
    l->index[slot] = (uint32_t)l->n;
    return 1;
}

/* -- import helpers ------------------------------------------------------------ */

void fmt_reject(struct fmt_import *im, const char *where, const char *fmt, ...)
{
    im->st->rejected++;
    if (!im->o->on_reject)
        return;
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    im->o->on_reject(im->o->ctx, where, reason);
}

int fmt_emit(struct fmt_import *im, const char *where, const struct cw_ioc_item *proto,
             enum cw_ioc_type t, const char *raw, size_t n)
{
    char canon[CW_IOC_VALUE_MAX], err[160];
    if (cw_ioc_normalize(t, raw, n, canon, sizeof canon, err, sizeof err)) {
        fmt_reject(im, where, "%s %.*s: %s", cw_ioc_type_name(t), (int)(n > 200 ? 200 : n),
                   raw, err);
        return -1;
    }
    if (im->o->now_us && proto->valid_until_us && proto->valid_until_us < im->o->now_us) {
        im->st->expired++;
        return 0;
    }
    struct cw_ioc_item it = *proto;
    it.type = t;
    it.value = canon;
    int r = cw_ioc_list_add(im->out, &it);
    if (r < 0) {
        fmt_reject(im, where, "%s", im->out->max_items && im->out->n >= im->out->max_items
                                        ? "too many indicators in one import"
                                        : "out of memory");
        return -1;
    }
    if (r == 1)
        im->st->accepted++;
    else
        im->st->duplicates++;
    return r;
}

int fmt_json_load(struct fmt_import *im, const char *data, size_t len, struct cw_json *j,
                  jsmntok_t **toks)
{
    size_t cap = im->o->max_tokens ? im->o->max_tokens : 4000000;
    /* a token takes at least one byte and a separator: len / 2 + 2 always suffices;
     * try an eighth of that first (typical documents) to keep memory low */
    size_t need = len / 2 + 2, tries[2] = {need / 8 + 64, need};
    const char *err = "empty input";
    *toks = NULL;
    for (int k = 0; k < 2; k++) {
        size_t nt = tries[k] < cap ? tries[k] : cap;
        jsmntok_t *t = malloc(nt * sizeof *t);
        if (!t) {
            err = "out of memory";
            break;
        }
        if (cw_json_parse(j, data, len, t, (int)nt, &err) == 0) {
            *toks = t;
            return 0;
        }
        free(t);
        if (strncmp(err, "JSON too complex", 16) != 0 || nt == cap)
            break;
    }
    fmt_reject(im, "input", "%s", err);
    return -1;
}

const char *fmt_json_strdup(const struct cw_json *j, int i, struct cw_arena *a)
{
    const char *s;
    size_t n;
    if (i < 0 || cw_json_str(j, i, a, &s, &n))
        return NULL;
    if (memchr(s, '\0', n))
        return NULL; /* \u0000 inside: not a usable C string */
    return cw_arena_strndup(a, s, n);
}

int fmt_json_time(const struct cw_json *j, int i, int64_t *us)
{
    if (i < 0 || !cw_json_is(j, i, JSMN_STRING))
        return -1;
    size_t n;
    const char *s = cw_json_raw(j, i, &n);
    return cw_time_parse_iso(s, n, us);
}

int fmt_tlp_tag(const char *s, size_t n, enum cw_tlp *out)
{
    char b[32];
    if (n >= sizeof b)
        return -1;
    memcpy(b, s, n);
    b[n] = '\0';
    return cw_tlp_from_name(b, out);
}
