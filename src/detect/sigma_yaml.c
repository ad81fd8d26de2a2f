/* sigma_yaml.c - bounded YAML tree builder on libyaml's event parser.
 *
 * Why events and not yaml_parser_load(): the document loader expands nothing
 * either, but it builds its own node graph without limits before we could look
 * at it; with events every limit is checked as the input is read, and the parse
 * stops at the first violation. */
#include "detect/sigma_yaml.h"

#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "common/banned.h"

struct builder {
    struct cw_arena *a;
    struct sy_node *stack[SIGMA_MAX_DEPTH + 1];
    uint32_t capkids[SIGMA_MAX_DEPTH + 1];
    int depth;
    uint32_t nodes;
    int docs;
    struct sy_node *root;
    struct sigma_err *err;
};

static int fail(struct sigma_err *err, size_t line, const char *why)
{
    err->line = (uint32_t)line;
    snprintf(err->reason, sizeof(err->reason), "%s", why);
    return -1;
}

static int add_kid(struct builder *b, struct sy_node *parent, struct sy_node *kid)
{
    uint32_t *cap = &b->capkids[b->depth - 1]; /* parent is stack[depth-1] */
    if (parent->nkids == *cap) {
        uint32_t nc = *cap ? *cap * 2 : 8;
        struct sy_node **nk = cw_arena_alloc(b->a, nc * sizeof(*nk));
        if (!nk)
            return fail(b->err, kid->line, "out of memory");
        if (parent->nkids)
            memcpy(nk, parent->kids, parent->nkids * sizeof(*nk));
        parent->kids = nk;
        *cap = nc;
    }
    parent->kids[parent->nkids++] = kid;
    return 0;
}

static struct sy_node *new_node(struct builder *b, enum sy_type t, size_t line)
{
    if (++b->nodes > SIGMA_MAX_NODES) {
        fail(b->err, line, "too many YAML nodes");
        return NULL;
    }
    struct sy_node *n = cw_arena_calloc(b->a, sizeof(*n));
    if (!n) {
        fail(b->err, line, "out of memory");
        return NULL;
    }
    n->type = (uint8_t)t;
    n->line = (uint32_t)line;
    return n;
}

/* Attach a finished node to the open container (or make it the root). */
static int attach(struct builder *b, struct sy_node *n)
{
    if (b->depth == 0) {
        b->root = n;
        return 0;
    }
    return add_kid(b, b->stack[b->depth - 1], n);
}

static int on_scalar(struct builder *b, const yaml_event_t *ev, size_t line)
{
    size_t len = ev->data.scalar.length;
    if (len > SIGMA_MAX_SCALAR)
        return fail(b->err, line, "YAML scalar too long");
    struct sy_node *n = new_node(b, SY_SCALAR, line);
    if (!n)
        return -1;
    n->s = cw_arena_strndup(b->a, (const char *)ev->data.scalar.value, len);
    if (!n->s)
        return fail(b->err, line, "out of memory");
    n->n = (uint32_t)len;
    n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    return attach(b, n);
}

static int on_open(struct builder *b, enum sy_type t, size_t line)
{
    if (b->depth >= SIGMA_MAX_DEPTH)
        return fail(b->err, line, "YAML nested too deeply");
    struct sy_node *n = new_node(b, t, line);
    if (!n || attach(b, n))
        return -1;
    b->stack[b->depth] = n;
    b->capkids[b->depth++] = 0;
    return 0;
}

/* One event; returns 1 at stream end, 0 to go on, -1 on error. */
static int on_event(struct builder *b, const yaml_event_t *ev)
{
    size_t line = ev->start_mark.line + 1;
    switch (ev->type) {
    case YAML_STREAM_END_EVENT: return 1;
    case YAML_DOCUMENT_START_EVENT:
        if (++b->docs > 1)
            return fail(b->err, line, "more than one YAML document (action: global/repeat "
                                      "rule collections are not supported)");
        return 0;
    case YAML_ALIAS_EVENT: return fail(b->err, line, "YAML aliases are not supported");
    case YAML_SCALAR_EVENT: return on_scalar(b, ev, line);
    case YAML_SEQUENCE_START_EVENT: return on_open(b, SY_SEQ, line);
    case YAML_MAPPING_START_EVENT: return on_open(b, SY_MAP, line);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        if (b->depth > 0)
            b->depth--;
        return 0;
    default: return 0;
    }
}

struct sy_node *sigma_yaml_parse(struct cw_arena *a, const char *text, size_t n,
                                 struct sigma_err *err)
{
    struct builder b;
    memset(&b, 0, sizeof(b));
    b.a = a;
    b.err = err;
    if (n > SIGMA_MAX_FILE) {
        fail(err, 0, "rule file too large");
        return NULL;
    }
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        fail(err, 0, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, n);
    int rc = 0;
    while (rc == 0) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            char why[160];
            snprintf(why, sizeof(why), "YAML syntax: %s", p.problem ? p.problem : "error");
            rc = fail(err, p.problem_mark.line + 1, why);
            break;
        }
        rc = on_event(&b, &ev);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    if (rc < 0)
        return NULL;
    if (!b.root || b.root->type != SY_MAP) {
        fail(err, b.root ? b.root->line : 1, "rule is not a YAML mapping");
        return NULL;
    }
    return b.root;
}

const struct sy_node *sigma_yaml_get(const struct sy_node *map, const char *key)
{
    if (!map || map->type != SY_MAP)
        return NULL;
    for (uint32_t i = 0; i + 1 < map->nkids; i += 2)
        if (map->kids[i]->type == SY_SCALAR && strcmp(map->kids[i]->s, key) == 0)
            return map->kids[i + 1];
    return NULL;
}

bool sigma_yaml_is_null(const struct sy_node *n)
{
    if (!n || n->type != SY_SCALAR || !n->plain)
        return false;
    return n->n == 0 || !strcmp(n->s, "~") || !strcmp(n->s, "null") || !strcmp(n->s, "Null") ||
           !strcmp(n->s, "NULL");
}

int sigma_yaml_documents(const char *text, size_t n, struct sy_doc *docs, uint32_t max,
                         bool *collection)
{
    *collection = false;
    if (n > SIGMA_MAX_FILE)
        return -1;
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return -1;
    yaml_parser_set_input_string(&p, (const unsigned char *)text, n);
    int ndocs = 0, depth = 0, rc = 0;
    bool key = true; /* at depth 1: the next node is a key of the top mapping */
    uint32_t events = 0;
    for (bool done = false; !done && rc == 0;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev) || ++events > 4 * SIGMA_MAX_NODES) {
            rc = -1; /* the per-document parse reports it */
            break;
        }
        switch (ev.type) {
        case YAML_STREAM_END_EVENT: done = true; break;
        case YAML_DOCUMENT_START_EVENT:
            if ((uint32_t)ndocs >= max)
                rc = -1;
            else
                docs[ndocs].start = ev.start_mark.index;
            depth = 0;
            break;
        case YAML_DOCUMENT_END_EVENT: docs[ndocs++].end = ev.end_mark.index; break;
        case YAML_SCALAR_EVENT:
            if (depth == 1 && key && ev.data.scalar.length == 6 &&
                !memcmp(ev.data.scalar.value, "action", 6))
                *collection = true; /* legacy action: global / repeat */
            key = depth == 1 ? !key : key;
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            key = depth == 1 ? !key : key;
            if (++depth == 1)
                key = true;
            if (depth > SIGMA_MAX_DEPTH)
                rc = -1;
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: depth--; break;
        default: break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    return rc ? -1 : ndocs;
}
