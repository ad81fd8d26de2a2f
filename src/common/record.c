#include "common/record.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "common/timefmt.h"
#include "common/banned.h"

static const char *const kind_names[CW_KIND__COUNT] = {
    [CW_KIND_NONE] = "",
#define X(id, name) [CW_KIND_##id] = name,
    CW_KINDS(X)
#undef X
};

static const char *const transport_names[CW_TR__COUNT] = {
    "", "tcp", "udp", "icmp", "ipv6-icmp", "sctp", "other",
};

static const struct cw_field_info fields[CW_F__COUNT] = {
    [CW_F_NONE] = {"", 0, ""},
#define X(id, name, type, doc) [CW_F_##id] = {name, CW_FT_##type, doc},
    CW_FIELDS(X)
#undef X
};

const char *cw_kind_name(enum cw_kind k)
{
    return (unsigned)k < CW_KIND__COUNT ? kind_names[k] : "";
}

enum cw_kind cw_kind_from_name(const char *s, size_t n)
{
    for (int k = 1; k < CW_KIND__COUNT; k++)
        if (strlen(kind_names[k]) == n && memcmp(kind_names[k], s, n) == 0)
            return (enum cw_kind)k;
    return CW_KIND_NONE;
}

const char *cw_transport_name(enum cw_transport t)
{
    return (unsigned)t < CW_TR__COUNT ? transport_names[t] : "";
}

enum cw_transport cw_transport_from_name(const char *s, size_t n)
{
    char low[12];
    if (n == 0 || n >= sizeof(low))
        return n ? CW_TR_OTHER : CW_TR_NONE;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
    low[n] = '\0';
    if (strcmp(low, "icmpv6") == 0 || strcmp(low, "ipv6-icmp") == 0)
        return CW_TR_ICMPV6;
    for (int t = 1; t < CW_TR__COUNT; t++)
        if (strcmp(low, transport_names[t]) == 0)
            return (enum cw_transport)t;
    return CW_TR_OTHER;
}

const struct cw_field_info *cw_field_info(enum cw_field_id id)
{
    return (id > CW_F_NONE && id < CW_F__COUNT) ? &fields[id] : NULL;
}

/* The catalogue is small (< 100 names); a sorted index with binary search keeps
 * NDJSON parsing free of per-key linear scans. Built once, lazily, thread-safe via
 * pthread_once. */
#include <pthread.h>
static uint16_t field_order[CW_F__COUNT];
static pthread_once_t field_order_once = PTHREAD_ONCE_INIT;

static int cmp_field(const void *a, const void *b)
{
    return strcmp(fields[*(const uint16_t *)a].name, fields[*(const uint16_t *)b].name);
}

static void field_order_build(void)
{
    for (int i = 1; i < CW_F__COUNT; i++)
        field_order[i - 1] = (uint16_t)i;
    qsort(field_order, CW_F__COUNT - 1, sizeof(field_order[0]), cmp_field);
}

enum cw_field_id cw_field_from_name(const char *s, size_t n)
{
    pthread_once(&field_order_once, field_order_build);
    size_t lo = 0, hi = CW_F__COUNT - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *name = fields[field_order[mid]].name;
        size_t nl = strlen(name);
        int c = memcmp(name, s, nl < n ? nl : n);
        if (c == 0)
            c = nl < n ? -1 : (nl > n ? 1 : 0);
        if (c == 0)
            return (enum cw_field_id)field_order[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return CW_F_NONE;
}

int cw_ip_parse(struct cw_ip *ip, const char *s, size_t n)
{
    char tmp[INET6_ADDRSTRLEN + 1];
    memset(ip, 0, sizeof(*ip));
    if (n == 0 || n >= sizeof(tmp))
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (memchr(s, ':', n)) {
        if (inet_pton(AF_INET6, tmp, ip->a) != 1)
            return -1;
        ip->family = 6;
    } else {
        if (inet_pton(AF_INET, tmp, ip->a) != 1)
            return -1;
        ip->family = 4;
    }
    return 0;
}

size_t cw_ip_format(const struct cw_ip *ip, char *out)
{
    out[0] = '\0';
    if (ip->family == 4)
        inet_ntop(AF_INET, ip->a, out, INET6_ADDRSTRLEN);
    else if (ip->family == 6)
        inet_ntop(AF_INET6, ip->a, out, INET6_ADDRSTRLEN);
    return strlen(out);
}

void cw_batch_init(struct cw_batch *b)
{
    memset(b, 0, sizeof(*b) - sizeof(b->curvals));
    cw_arena_init(&b->arena, 256 * 1024, 0);
}

void cw_batch_release(struct cw_batch *b)
{
    cw_arena_release(&b->arena);
    free(b->recs);
    free(b->rej);
    b->recs = NULL;
    b->rej = NULL;
    b->n = b->cap = b->nrej = b->caprej = 0;
    b->open = false;
}

void cw_batch_clear(struct cw_batch *b)
{
    cw_arena_clear(&b->arena);
    b->n = 0;
    b->nrej = 0;
    b->open = false;
}

struct cw_record *cw_batch_begin(struct cw_batch *b)
{
    memset(&b->cur, 0, sizeof(b->cur));
    b->cur.vals = b->curvals;
    b->open = true;
    return &b->cur;
}

static struct cw_value *slot(struct cw_batch *b, enum cw_field_id id)
{
    struct cw_record *r = &b->cur;
    for (uint16_t i = 0; i < r->nvals; i++)
        if (b->curvals[i].id == id)
            return &b->curvals[i];
    if (r->nvals >= CW_MAX_VALUES)
        return NULL;
    struct cw_value *v = &b->curvals[r->nvals++];
    v->id = (uint16_t)id;
    v->pad = 0;
    return v;
}

int cw_batch_set_str(struct cw_batch *b, enum cw_field_id id, const char *s, size_t n)
{
    if (!b->open || id <= CW_F_NONE || id >= CW_F__COUNT || n > UINT32_MAX)
        return -1;
    struct cw_value *v = slot(b, id);
    if (!v)
        return -1;
    v->len = (uint32_t)n;
    v->v.s = s;
    return 0;
}

int cw_batch_set_int(struct cw_batch *b, enum cw_field_id id, int64_t x)
{
    if (!b->open || id <= CW_F_NONE || id >= CW_F__COUNT)
        return -1;
    struct cw_value *v = slot(b, id);
    if (!v)
        return -1;
    v->len = 0;
    v->v.i = x;
    return 0;
}

int cw_batch_commit(struct cw_batch *b)
{
    if (!b->open)
        return -1;
    b->open = false;
    if (b->n == b->cap) {
        uint32_t nc = b->cap ? b->cap * 2 : 256;
        struct cw_record *nr = realloc(b->recs, (size_t)nc * sizeof(*nr));
        if (!nr)
            return -1;
        b->recs = nr;
        b->cap = nc;
    }
    struct cw_record *r = &b->recs[b->n];
    *r = b->cur;
    r->vals = NULL;
    if (r->nvals) {
        size_t sz = (size_t)r->nvals * sizeof(struct cw_value);
        r->vals = cw_arena_alloc(&b->arena, sz);
        if (!r->vals)
            return -1;
        memcpy(r->vals, b->curvals, sz);
    }
    b->n++;
    return 0;
}

void cw_batch_abort(struct cw_batch *b) { b->open = false; }

int cw_batch_reject(struct cw_batch *b, uint32_t line, const char *reason)
{
    if (b->nrej == b->caprej) {
        uint32_t nc = b->caprej ? b->caprej * 2 : 16;
        struct cw_reject *nr = realloc(b->rej, (size_t)nc * sizeof(*nr));
        if (!nr)
            return -1;
        b->rej = nr;
        b->caprej = nc;
    }
    const char *copy = cw_arena_strndup(&b->arena, reason, strlen(reason));
    b->rej[b->nrej].line = line;
    b->rej[b->nrej].reason = copy ? copy : "out of memory";
    b->nrej++;
    return 0;
}

const struct cw_value *cw_record_get(const struct cw_record *r, enum cw_field_id id)
{
    for (uint16_t i = 0; i < r->nvals; i++)
        if (r->vals[i].id == id)
            return &r->vals[i];
    return NULL;
}

const char *cw_record_str(const struct cw_record *r, enum cw_field_id id, size_t *len)
{
    const struct cw_value *v = cw_record_get(r, id);
    if (!v || fields[id].type != CW_FT_STR) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = v->len;
    return v->v.s;
}

int64_t cw_record_int(const struct cw_record *r, enum cw_field_id id, int64_t dflt)
{
    const struct cw_value *v = cw_record_get(r, id);
    if (!v || fields[id].type != CW_FT_INT)
        return dflt;
    return v->v.i;
}

static void add_key(struct cw_buf *o, const char *k)
{
    cw_buf_addc(o, ',');
    cw_buf_addc(o, '"');
    cw_buf_adds(o, k);
    cw_buf_add(o, "\":", 2);
}

void cw_record_to_json(const struct cw_record *r, struct cw_buf *o, bool with_raw)
{
    char tmp[64];
    size_t n = cw_time_format_iso(r->ts_us, tmp);
    cw_buf_add(o, "{\"ts\":\"", 7);
    cw_buf_add(o, tmp, n);
    cw_buf_addc(o, '"');
    if (r->member_id) {
        add_key(o, "member");
        cw_buf_add_u64(o, r->member_id);
    }
    if (r->sensor_id) {
        add_key(o, "sensor");
        cw_buf_add_u64(o, r->sensor_id);
    }
    add_key(o, "kind");
    cw_buf_addc(o, '"');
    cw_buf_adds(o, cw_kind_name((enum cw_kind)r->kind));
    cw_buf_addc(o, '"');
    if (r->src.family) {
        add_key(o, "src_ip");
        n = cw_ip_format(&r->src, tmp);
        cw_buf_add_json_str(o, tmp, n);
    }
    if (r->sport) {
        add_key(o, "src_port");
        cw_buf_add_u64(o, r->sport);
    }
    if (r->dst.family) {
        add_key(o, "dst_ip");
        n = cw_ip_format(&r->dst, tmp);
        cw_buf_add_json_str(o, tmp, n);
    }
    if (r->dport) {
        add_key(o, "dst_port");
        cw_buf_add_u64(o, r->dport);
    }
    if (r->transport) {
        add_key(o, "transport");
        cw_buf_addc(o, '"');
        cw_buf_adds(o, cw_transport_name((enum cw_transport)r->transport));
        cw_buf_addc(o, '"');
    }
    for (uint16_t i = 0; i < r->nvals; i++) {
        const struct cw_value *v = &r->vals[i];
        const struct cw_field_info *fi = cw_field_info((enum cw_field_id)v->id);
        if (!fi)
            continue;
        add_key(o, fi->name);
        if (fi->type == CW_FT_INT)
            cw_buf_add_i64(o, v->v.i);
        else
            cw_buf_add_json_str(o, v->v.s, v->len);
    }
    if (with_raw && r->raw) {
        add_key(o, "raw");
        cw_buf_add_json_str(o, r->raw, r->raw_len);
    }
    cw_buf_addc(o, '}');
}
