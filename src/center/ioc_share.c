/* ioc_share.c - the published indicators a caller may receive, scrubbed (see
 * ioc_share.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "center/ioc_share.h"
#include "center/store_iocs.h"
#include "common/banned.h"

struct collect {
    struct cw_ioc_share *sh;
    uint32_t scope;
    int tlp;
    int oom;
};

static int grow(struct cw_ioc_share *sh)
{
    size_t cap = sh->cap ? sh->cap * 2 : 256;
    struct cw_ioc_item *it = realloc(sh->items, cap * sizeof(*it));
    if (!it)
        return -1;
    sh->items = it;
    int64_t *ids = realloc(sh->ids, cap * sizeof(*ids));
    if (!ids)
        return -1;
    sh->ids = ids;
    int64_t *ad = realloc(sh->added_us, cap * sizeof(*ad));
    if (!ad)
        return -1;
    sh->added_us = ad;
    bool *rv = realloc(sh->revoked, cap * sizeof(*rv));
    if (!rv)
        return -1;
    sh->revoked = rv;
    sh->cap = cap;
    return 0;
}

static int take(void *ctx, const struct cw_ioc_row *r)
{
    struct collect *c = ctx;
    struct cw_ioc_share *sh = c->sh;
    bool revoked = r->state == CW_IOC_REVOKED;
    /* a revoked one: only if it was ever shared, and to whom it was (ioc_share.h) */
    if (!(revoked ? r->published_us && cw_ioc_cleared(r, c->scope)
                  : cw_ioc_visible(r, c->scope)) ||
        (c->tlp >= 0 && (int)r->tlp != c->tlp))
        return 0;
    if (sh->n == sh->cap && grow(sh))
        return c->oom = 1;
    struct cw_ioc_item *it = &sh->items[sh->n];
    memset(it, 0, sizeof(*it));
    it->type = r->type;
    it->tlp = r->tlp;
    it->confidence = r->confidence;
    it->value = cw_arena_strndup(&sh->arena, r->value, strlen(r->value));
    if (r->stix_gen > 0) { /* gen 0 leaves id NULL: writers derive today's id */
        char gid[CW_IOC_ID_MAX];
        cw_ioc_share_id(r->type, r->value, r->stix_gen, gid);
        if (!(it->id = cw_arena_strndup(&sh->arena, gid, strlen(gid))))
            return c->oom = 1;
    }
    it->description = r->description[0]
                          ? cw_arena_strndup(&sh->arena, r->description, strlen(r->description))
                          : NULL;
    if (!it->value || (r->description[0] && !it->description))
        return c->oom = 1;
    /* valid_from needs a stable time: when it was first seen, else when it was stored */
    it->first_seen_us = r->first_seen_us ? r->first_seen_us : r->created_us;
    it->last_seen_us = r->last_seen_us;
    it->valid_until_us = r->valid_until_us;
    /* a published indicator changed by a merge is a new version, added anew; so is
     * its revocation (updated_us is when it was revoked, or changed since) */
    it->modified_us = r->updated_us > r->published_us ? r->updated_us : r->published_us;

    sh->ids[sh->n] = r->id;
    sh->added_us[sh->n] = it->modified_us;
    sh->revoked[sh->n] = revoked;
    sh->n++;
    return 0;
}

/* Sort by (added, id): keys with the original index, then permute the arrays. */
struct key {
    int64_t added, id;
    size_t ix;
    bool revoked;
};

static int by_added(const void *a, const void *b)
{
    const struct key *x = a, *y = b;
    if (x->added != y->added)
        return x->added < y->added ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int sort_share(struct cw_ioc_share *sh)
{
    if (sh->n < 2)
        return 0;
    struct key *k = malloc(sh->n * sizeof(*k));
    struct cw_ioc_item *it = malloc(sh->n * sizeof(*it));
    if (!k || !it) {
        free(k);
        free(it);
        return -1;
    }
    for (size_t i = 0; i < sh->n; i++)
        k[i] = (struct key){sh->added_us[i], sh->ids[i], i, sh->revoked[i]};
    qsort(k, sh->n, sizeof(*k), by_added);
    for (size_t i = 0; i < sh->n; i++) {
        it[i] = sh->items[k[i].ix];
        sh->ids[i] = k[i].id;
        sh->added_us[i] = k[i].added;
        sh->revoked[i] = k[i].revoked;
    }
    free(sh->items);
    free(k);
    sh->items = it;
    sh->cap = sh->n; /* ids/added_us/revoked keep their larger capacity: only n is read */
    return 0;
}

int cw_ioc_share_collect(struct cw_store *s, uint32_t scope, int tlp, unsigned flags,
                         struct cw_ioc_share *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    cw_arena_init(&out->arena, 64 * 1024, 0);
    struct collect c = {out, scope, tlp, 0};
    if (cw_store_iocs_foreach(s, CW_IOC_PUBLISHED, take, &c, err, errlen) && !c.oom)
        return -1;
    if (!c.oom && (flags & CW_IOC_SHARE_REVOKED) &&
        cw_store_iocs_foreach(s, CW_IOC_REVOKED, take, &c, err, errlen) && !c.oom)
        return -1;
    if (!c.oom && (flags & CW_IOC_SHARE_REVOKED) &&
        cw_store_iocs_retired_foreach(s, take, &c, err, errlen) && !c.oom)
        return -1;
    if (c.oom || sort_share(out)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* A namespace of its own: a generation's id cannot collide with any (type, value) id. */
static const uint8_t ns_generation[16] = {0xdd, 0xd8, 0x32, 0xce, 0xbb, 0x39, 0x4b, 0x63,
                                          0x9f, 0x32, 0xec, 0xf1, 0xe2, 0xbc, 0xdf, 0x8b};

void cw_ioc_share_id(enum cw_ioc_type t, const char *value, int64_t gen,
                     char out[CW_IOC_ID_MAX])
{
    cw_ioc_item_id(t, value, out);
    if (gen <= 0)
        return;
    char name[CW_IOC_ID_MAX + 24], u[37];
    int k = snprintf(name, sizeof(name), "%s/%lld", out, (long long)gen);
    cw_uuid5(ns_generation, name, k > 0 ? (size_t)k : 0, u);
    snprintf(out, CW_IOC_ID_MAX, "indicator--%s", u);
}

void cw_ioc_share_release(struct cw_ioc_share *sh)
{
    free(sh->items);
    free(sh->ids);
    free(sh->added_us);
    free(sh->revoked);
    cw_arena_release(&sh->arena);
    memset(sh, 0, sizeof(*sh));
}
