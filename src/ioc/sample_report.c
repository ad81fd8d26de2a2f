/* sample_report.c - the report of a sample: growing its arrays within the limits,
 * de-duplicating candidates, and writing it as JSON and as text. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ioc/sample_impl.h"
#include "common/banned.h"

/* ---- strings ---- */

char *sample_strndup(struct sample_ctx *c, const char *s, size_t n)
{
    char *p = cw_arena_strndup(&c->r->arena, s ? s : "", s ? n : 0);
    if (!p)
        c->oom = true;
    return p;
}

char *sample_strdup(struct sample_ctx *c, const char *s)
{
    return s ? sample_strndup(c, s, strlen(s)) : NULL;
}

static char *vprintf_arena(struct sample_ctx *c, const char *fmt, va_list ap)
{
    char small[512];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    char *p = NULL;
    if (n < 0) {
        p = sample_strdup(c, "");
    } else if ((size_t)n < sizeof(small)) {
        p = sample_strndup(c, small, (size_t)n);
    } else {
        p = cw_arena_alloc(&c->r->arena, (size_t)n + 1);
        if (p)
            vsnprintf(p, (size_t)n + 1, fmt, ap2);
        else
            c->oom = true;
    }
    va_end(ap2);
    return p;
}

char *sample_printf(struct sample_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = vprintf_arena(c, fmt, ap);
    va_end(ap);
    return p;
}

char *sample_path_join(struct sample_ctx *c, const char *parent, const char *child)
{
    if (!parent || !*parent)
        return sample_strdup(c, child ? child : "");
    return sample_printf(c, "%s/%s", parent, child ? child : "");
}

/* ---- arrays ---- */

/* Make room for one more element of an array owned by the report. */
static void *grow(struct sample_ctx *c, void **arr, size_t *cap, size_t n, size_t size)
{
    if (n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        void *p = realloc(*arr, ncap * size);
        if (!p) {
            c->oom = true;
            return NULL;
        }
        *arr = p;
        *cap = ncap;
    }
    char *slot = (char *)*arr + n * size;
    memset(slot, 0, size);
    return slot;
}

void sample_finding(struct sample_ctx *c, const char *kind, const char *path, const char *fmt, ...)
{
    struct cw_sample_report *r = c->r;
    /* findings are bounded too: a message with 10,000 broken parts reports the first
     * 200 and one line saying that more were dropped */
    if (r->n_findings > 200)
        return;
    struct cw_sample_finding *f = grow(c, (void **)&r->findings, &r->cap_findings, r->n_findings,
                                       sizeof(*f));
    if (!f)
        return;
    if (r->n_findings == 200) {
        f->kind = "limit";
        f->path = "";
        f->text = "more than 200 findings: the rest are not listed";
        r->n_findings++;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    f->text = vprintf_arena(c, fmt, ap);
    va_end(ap);
    f->kind = kind;
    f->path = sample_strdup(c, path ? path : "");
    if (f->text && f->path)
        r->n_findings++;
}

struct cw_sample_object *sample_object_new(struct sample_ctx *c)
{
    struct cw_sample_report *r = c->r;
    if (r->n_objects >= c->o->limits.max_objects) {
        if (!c->objects_full)
            sample_finding(c, "limit", "", "more than %zu objects: the rest are not analysed",
                           c->o->limits.max_objects);
        c->objects_full = true;
        return NULL;
    }
    struct cw_sample_object *o = grow(c, (void **)&r->objects, &r->cap_objects, r->n_objects,
                                      sizeof(*o));
    if (o)
        r->n_objects++;
    return o;
}

struct cw_sample_email *sample_email_new(struct sample_ctx *c)
{
    struct cw_sample_report *r = c->r;
    struct cw_sample_email *e = grow(c, (void **)&r->emails, &r->cap_emails, r->n_emails,
                                     sizeof(*e));
    if (e)
        r->n_emails++;
    return e;
}

void sample_match_add(struct sample_ctx *c, const char *rule, const char *path)
{
    struct cw_sample_report *r = c->r;
    struct cw_sample_yara_match *m = grow(c, (void **)&r->matches, &r->cap_matches, r->n_matches,
                                          sizeof(*m));
    if (!m)
        return;
    m->rule = sample_strdup(c, rule);
    m->path = sample_strdup(c, path);
    if (m->rule && m->path)
        r->n_matches++;
}

/* ---- candidates: an open-addressing index of (type, value) -> position ---- */

struct cand_index {
    size_t cap;    /* power of two */
    size_t *slot;  /* position + 1; 0 = empty */
};

static uint64_t cand_hash(enum cw_ioc_type t, const char *v)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)t;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return h;
}

static bool index_grow(struct cw_sample_report *r)
{
    struct cand_index *ix = r->index;
    size_t ncap = ix->cap ? ix->cap * 2 : 64;
    size_t *ns = calloc(ncap, sizeof(*ns));
    if (!ns)
        return false;
    for (size_t i = 0; i < r->n_candidates; i++) {
        size_t j = cand_hash(r->candidates[i].type, r->candidates[i].value) & (ncap - 1);
        while (ns[j])
            j = (j + 1) & (ncap - 1);
        ns[j] = i + 1;
    }
    free(ix->slot);
    ix->slot = ns;
    ix->cap = ncap;
    return true;
}

const struct cw_sample_candidate *cw_sample_find(const struct cw_sample_report *r,
                                                 enum cw_ioc_type t, const char *value)
{
    const struct cand_index *ix = r->index;
    if (!ix || !ix->cap)
        return NULL;
    size_t j = cand_hash(t, value) & (ix->cap - 1);
    while (ix->slot[j]) {
        const struct cw_sample_candidate *k = &r->candidates[ix->slot[j] - 1];
        if (k->type == t && !strcmp(k->value, value))
            return k;
        j = (j + 1) & (ix->cap - 1);
    }
    return NULL;
}

size_t cw_sample_count(const struct cw_sample_report *r, enum cw_ioc_type t)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_candidates; i++)
        n += r->candidates[i].type == t;
    return n;
}

struct cw_sample_candidate *sample_candidate(struct sample_ctx *c, enum cw_ioc_type t,
                                             const char *raw, size_t len, const char *where,
                                             const char *why, unsigned flags)
{
    struct cw_sample_report *r = c->r;
    char canon[CW_IOC_VALUE_MAX], err[128];
    if (len == 0 || len >= sizeof(canon))
        return NULL;
    if (cw_ioc_normalize(t, raw, len, canon, sizeof(canon), err, sizeof(err)) != 0)
        return NULL;
    struct cw_sample_candidate *k = (struct cw_sample_candidate *)cw_sample_find(r, t, canon);
    if (k) {
        /* a recipient address stays marked even when first seen elsewhere */
        k->flags |= flags & CW_SAMPLE_RECIPIENT;
        return k;
    }
    if (!r->index) {
        r->index = calloc(1, sizeof(struct cand_index));
        if (!r->index) {
            c->oom = true;
            return NULL;
        }
    }
    struct cand_index *ix = r->index;
    if ((r->n_candidates + 1) * 2 > ix->cap && !index_grow(r)) {
        c->oom = true;
        return NULL;
    }
    k = grow(c, (void **)&r->candidates, &r->cap_candidates, r->n_candidates, sizeof(*k));
    if (!k)
        return NULL;
    k->type = t;
    k->value = sample_strdup(c, canon);
    k->where = sample_strdup(c, where ? where : "");
    k->why = sample_strdup(c, why ? why : "");
    k->flags = flags;
    if (!k->value || !k->where || !k->why)
        return NULL;
    size_t j = cand_hash(t, k->value) & (ix->cap - 1);
    while (ix->slot[j])
        j = (j + 1) & (ix->cap - 1);
    ix->slot[j] = ++r->n_candidates;
    return k;
}

void cw_sample_report_release(struct cw_sample_report *r)
{
    if (!r)
        return;
    free(r->emails);
    free(r->objects);
    free(r->matches);
    free(r->findings);
    free(r->candidates);
    if (r->index) {
        free(((struct cand_index *)r->index)->slot);
        free(r->index);
    }
    cw_arena_release(&r->arena);
    memset(r, 0, sizeof(*r));
}

/* ---- JSON ---- */

static void jkey(struct cw_buf *b, bool *first, const char *k)
{
    if (!*first)
        cw_buf_addc(b, ',');
    *first = false;
    cw_buf_add_json_str(b, k, strlen(k));
    cw_buf_addc(b, ':');
}

static void jstr(struct cw_buf *b, bool *first, const char *k, const char *v)
{
    jkey(b, first, k);
    if (v)
        cw_buf_add_json_str(b, v, strlen(v));
    else
        cw_buf_adds(b, "null");
}

static void jnum(struct cw_buf *b, bool *first, const char *k, uint64_t v)
{
    jkey(b, first, k);
    cw_buf_add_u64(b, v);
}

static void json_email(const struct cw_sample_email *e, struct cw_buf *b)
{
    bool f = true;
    cw_buf_addc(b, '{');
    jstr(b, &f, "path", e->path);
    jkey(b, &f, "headers");
    bool h = true;
    cw_buf_addc(b, '{');
    jstr(b, &h, "from", e->from);
    jstr(b, &h, "to", e->to);
    jstr(b, &h, "cc", e->cc);
    jstr(b, &h, "subject", e->subject);
    jstr(b, &h, "date", e->date);
    jstr(b, &h, "message_id", e->message_id);
    jstr(b, &h, "return_path", e->return_path);
    jstr(b, &h, "reply_to", e->reply_to);
    jstr(b, &h, "sender", e->sender);
    cw_buf_addc(b, '}');
    jkey(b, &f, "received");
    cw_buf_addc(b, '[');
    for (size_t i = 0; i < e->n_hops; i++) {
        const struct cw_sample_hop *hp = &e->hops[i];
        bool g = true;
        cw_buf_adds(b, i ? ",{" : "{");
        jstr(b, &g, "from", hp->from);
        jstr(b, &g, "by", hp->by);
        jstr(b, &g, "with", hp->with);
        jstr(b, &g, "ip", hp->ip);
        jstr(b, &g, "date", hp->date);
        cw_buf_addc(b, '}');
    }
    cw_buf_addc(b, ']');
    jkey(b, &f, "auth");
    cw_buf_addc(b, '[');
    for (size_t i = 0; i < e->n_auth; i++) {
        const struct cw_sample_auth *a = &e->auth[i];
        bool g = true;
        cw_buf_adds(b, i ? ",{" : "{");
        jstr(b, &g, "method", a->method);
        jstr(b, &g, "result", a->result);
        jstr(b, &g, "domain", a->domain);
        jstr(b, &g, "origin", a->origin);
        cw_buf_addc(b, '}');
    }
    cw_buf_addc(b, ']');
    jnum(b, &f, "parts", e->n_parts);
    jnum(b, &f, "text_parts", e->n_text);
    jnum(b, &f, "html_parts", e->n_html);
    jnum(b, &f, "attachments", e->n_attachments);
    jnum(b, &f, "text_bytes", e->text_bytes);
    jnum(b, &f, "html_bytes", e->html_bytes);
    cw_buf_addc(b, '}');
}

static void json_object(const struct cw_sample_report *r, const struct cw_sample_object *o,
                        struct cw_buf *b)
{
    bool f = true;
    cw_buf_addc(b, '{');
    jstr(b, &f, "path", o->path);
    jstr(b, &f, "name", o->name);
    jstr(b, &f, "role", o->role);
    jstr(b, &f, "declared_type", o->declared_type);
    jstr(b, &f, "magic_type", o->magic_type);
    jstr(b, &f, "magic_desc", o->magic_desc);
    jnum(b, &f, "size", o->size);
    jnum(b, &f, "depth", o->depth);
    jstr(b, &f, "md5", o->md5);
    jstr(b, &f, "sha1", o->sha1);
    jstr(b, &f, "sha256", o->sha256);
    jkey(b, &f, "yara");
    cw_buf_addc(b, '[');
    bool g = true;
    for (size_t i = 0; i < r->n_matches; i++)
        if (!strcmp(r->matches[i].path, o->path)) {
            if (!g)
                cw_buf_addc(b, ',');
            g = false;
            cw_buf_add_json_str(b, r->matches[i].rule, strlen(r->matches[i].rule));
        }
    cw_buf_adds(b, "]}");
}

static void json_candidate(const struct cw_sample_candidate *k, struct cw_buf *b)
{
    bool f = true;
    cw_buf_addc(b, '{');
    jstr(b, &f, "type", cw_ioc_type_name(k->type));
    jstr(b, &f, "value", k->value);
    jstr(b, &f, "where", k->where);
    jstr(b, &f, "why", k->why);
    jkey(b, &f, "recipient");
    cw_buf_adds(b, k->flags & CW_SAMPLE_RECIPIENT ? "true" : "false");
    jkey(b, &f, "defanged");
    cw_buf_adds(b, k->flags & CW_SAMPLE_DEFANGED ? "true" : "false");
    cw_buf_addc(b, '}');
}

void cw_sample_report_json(const struct cw_sample_report *r, struct cw_buf *b)
{
    bool f = true;
    cw_buf_addc(b, '{');
    jstr(b, &f, "kind", r->kind == CW_SAMPLE_EMAIL ? "email" : "file");
    jstr(b, &f, "name", r->name);
    jnum(b, &f, "size", r->size);
    jkey(b, &f, "emails");
    cw_buf_addc(b, '[');
    for (size_t i = 0; i < r->n_emails; i++) {
        if (i)
            cw_buf_addc(b, ',');
        json_email(&r->emails[i], b);
    }
    cw_buf_addc(b, ']');
    jkey(b, &f, "objects");
    cw_buf_addc(b, '[');
    for (size_t i = 0; i < r->n_objects; i++) {
        if (i)
            cw_buf_addc(b, ',');
        json_object(r, &r->objects[i], b);
    }
    cw_buf_addc(b, ']');
    jkey(b, &f, "yara");
    cw_buf_addc(b, '[');
    for (size_t i = 0; i < r->n_matches; i++) {
        bool g = true;
        cw_buf_adds(b, i ? ",{" : "{");
        jstr(b, &g, "rule", r->matches[i].rule);
        jstr(b, &g, "path", r->matches[i].path);
        cw_buf_addc(b, '}');
    }
    cw_buf_addc(b, ']');
    jkey(b, &f, "findings");
    cw_buf_addc(b, '[');
    for (size_t i = 0; i < r->n_findings; i++) {
        bool g = true;
        cw_buf_adds(b, i ? ",{" : "{");
        jstr(b, &g, "kind", r->findings[i].kind);
        jstr(b, &g, "path", r->findings[i].path);
        jstr(b, &g, "text", r->findings[i].text);
        cw_buf_addc(b, '}');
    }
    cw_buf_addc(b, ']');
    /* convenience views of the candidates: the URLs and addresses as plain lists */
    static const struct {
        const char *key;
        enum cw_ioc_type t;
    } views[] = {{"urls", CW_IOC_URL}, {"addresses", CW_IOC_EMAIL}};
    for (size_t v = 0; v < sizeof(views) / sizeof(views[0]); v++) {
        jkey(b, &f, views[v].key);
        cw_buf_addc(b, '[');
        bool g = true;
        for (size_t i = 0; i < r->n_candidates; i++)
            if (r->candidates[i].type == views[v].t) {
                if (!g)
                    cw_buf_addc(b, ',');
                g = false;
                cw_buf_add_json_str(b, r->candidates[i].value, strlen(r->candidates[i].value));
            }
        cw_buf_addc(b, ']');
    }
    jkey(b, &f, "candidates");
    cw_buf_addc(b, '[');
    for (size_t i = 0; i < r->n_candidates; i++) {
        if (i)
            cw_buf_addc(b, ',');
        json_candidate(&r->candidates[i], b);
    }
    cw_buf_adds(b, "]}");
}

/* ---- text ---- */

static void text_kv(struct cw_buf *b, const char *k, const char *v)
{
    if (v)
        cw_buf_addf(b, "  %-12s %s\n", k, v);
}

static void text_email(const struct cw_sample_email *e, struct cw_buf *b)
{
    cw_buf_addf(b, "\nE-mail%s%s\n", *e->path ? " at " : "", e->path);
    text_kv(b, "From:", e->from);
    text_kv(b, "Sender:", e->sender);
    text_kv(b, "Reply-To:", e->reply_to);
    text_kv(b, "Return-Path:", e->return_path);
    text_kv(b, "To:", e->to);
    text_kv(b, "Cc:", e->cc);
    text_kv(b, "Subject:", e->subject);
    text_kv(b, "Date:", e->date);
    text_kv(b, "Message-ID:", e->message_id);
    for (size_t i = 0; i < e->n_hops; i++) {
        const struct cw_sample_hop *h = &e->hops[i];
        cw_buf_addf(b, "  hop %zu: from %s [%s] by %s with %s; %s\n", i + 1,
                    h->from ? h->from : "?", h->ip ? h->ip : "-", h->by ? h->by : "?",
                    h->with ? h->with : "?", h->date ? h->date : "?");
    }
    for (size_t i = 0; i < e->n_auth; i++)
        cw_buf_addf(b, "  %s=%s%s%s (%s)\n", e->auth[i].method, e->auth[i].result,
                    e->auth[i].domain ? " " : "", e->auth[i].domain ? e->auth[i].domain : "",
                    e->auth[i].origin);
    cw_buf_addf(b, "  %zu parts: %zu text (%llu bytes), %zu html (%llu bytes), %zu attachments\n",
                e->n_parts, e->n_text, (unsigned long long)e->text_bytes, e->n_html,
                (unsigned long long)e->html_bytes, e->n_attachments);
}

void cw_sample_report_text(const struct cw_sample_report *r, struct cw_buf *b)
{
    cw_buf_addf(b, "Sample %s: %s, %llu bytes\n", r->name ? r->name : "(unnamed)",
                r->kind == CW_SAMPLE_EMAIL ? "e-mail" : "file", (unsigned long long)r->size);
    for (size_t i = 0; i < r->n_emails; i++)
        text_email(&r->emails[i], b);
    if (r->n_objects)
        cw_buf_adds(b, "\nObjects\n");
    for (size_t i = 0; i < r->n_objects; i++) {
        const struct cw_sample_object *o = &r->objects[i];
        cw_buf_addf(b, "  %s%s (%s, %llu bytes)\n    type %s (%s)%s%s\n    sha256 %s\n",
                    *o->path ? o->path : "(input)", "", o->role, (unsigned long long)o->size,
                    o->magic_type ? o->magic_type : "?", o->magic_desc ? o->magic_desc : "?",
                    o->declared_type ? ", declared " : "",
                    o->declared_type ? o->declared_type : "", o->sha256);
    }
    if (r->n_matches)
        cw_buf_adds(b, "\nYARA matches\n");
    for (size_t i = 0; i < r->n_matches; i++)
        cw_buf_addf(b, "  %s in %s\n", r->matches[i].rule,
                    *r->matches[i].path ? r->matches[i].path : "(input)");
    if (r->n_findings)
        cw_buf_adds(b, "\nFindings\n");
    for (size_t i = 0; i < r->n_findings; i++)
        cw_buf_addf(b, "  [%s] %s%s%s\n", r->findings[i].kind, r->findings[i].text,
                    *r->findings[i].path ? " at " : "", r->findings[i].path);
    if (r->n_candidates)
        cw_buf_adds(b, "\nCandidate indicators\n");
    for (size_t i = 0; i < r->n_candidates; i++) {
        const struct cw_sample_candidate *k = &r->candidates[i];
        cw_buf_addf(b, "  %-8s %s%s%s\n           %s: %s\n", cw_ioc_type_name(k->type), k->value,
                    k->flags & CW_SAMPLE_RECIPIENT ? " (recipient)" : "",
                    k->flags & CW_SAMPLE_DEFANGED ? " (defanged)" : "", k->where, k->why);
    }
}
