#include "ship/reply.h"

#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/json.h"
#include "common/banned.h"

/* Copy a JSON string into out as printable ASCII (anything else becomes '?'). */
static void copy_printable(const struct cw_json *j, int tok, char *out, size_t cap)
{
    struct cw_arena a;
    const char *s;
    size_t n, k = 0;
    cw_arena_init(&a, 4096, 1 << 20);
    if (cap > 0 && cw_json_str(j, tok, &a, &s, &n) == 0)
        for (size_t i = 0; i < n && k + 1 < cap; i++)
            out[k++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    if (cap > 0)
        out[k] = '\0';
    cw_arena_release(&a);
}

static int parse_doc(const char *body, size_t n, struct cw_json *j, jsmntok_t **toks,
                     const char **err)
{
    if (n > CW_REPLY_MAX_BYTES) {
        *err = "answer too large";
        return -1;
    }
    /* every token needs at least one byte of text */
    int max = (int)(n / 2 + 8);
    *toks = malloc((size_t)max * sizeof(**toks));
    if (!*toks) {
        *err = "out of memory";
        return -1;
    }
    if (cw_json_parse(j, body, n, *toks, max, err))
        return -1;
    if (!cw_json_is(j, 0, JSMN_OBJECT)) {
        *err = "answer is not a JSON object";
        return -1;
    }
    return 0;
}

static int parse_rejects(const struct cw_json *j, int arr, struct cw_ingest_reply *r,
                         const char **err)
{
    if (!cw_json_is(j, arr, JSMN_ARRAY)) {
        *err = "\"rejected\" is not an array";
        return -1;
    }
    int count = j->tok[arr].size;
    int t = arr + 1;
    for (int i = 0; i < count; i++, t = cw_json_next(j, t)) {
        if (t >= j->ntok || !cw_json_is(j, t, JSMN_OBJECT)) {
            *err = "a \"rejected\" entry is not an object";
            return -1;
        }
        if (r->kept < CW_REPLY_KEEP) {
            struct cw_reply_reject *x = &r->reject[r->kept++];
            int ln = cw_json_get(j, t, "line"), rs = cw_json_get(j, t, "reason");
            if (ln < 0 || cw_json_int(j, ln, &x->line))
                x->line = 0;
            x->reason[0] = '\0';
            if (rs >= 0 && cw_json_is(j, rs, JSMN_STRING))
                copy_printable(j, rs, x->reason, sizeof(x->reason));
        }
    }
    r->rejected = count;
    return 0;
}

int cw_ingest_reply_parse(const char *body, size_t n, struct cw_ingest_reply *r,
                          const char **err)
{
    memset(r, 0, sizeof(*r));
    struct cw_json j;
    jsmntok_t *toks = NULL;
    int rc = -1;
    if (parse_doc(body, n, &j, &toks, err))
        goto out;
    int acc = cw_json_get(&j, 0, "accepted");
    if (acc < 0 || cw_json_int(&j, acc, &r->accepted) || r->accepted < 0) {
        *err = "answer lacks a valid \"accepted\" count";
        goto out;
    }
    int rej = cw_json_get(&j, 0, "rejected");
    if (rej >= 0 && parse_rejects(&j, rej, r, err))
        goto out;
    int dup = cw_json_get(&j, 0, "duplicate");
    r->duplicate = dup >= 0 && cw_json_eq(&j, dup, "true");
    rc = 0;
out:
    free(toks);
    return rc;
}

void cw_ingest_reply_error(const char *body, size_t n, char *out, size_t cap)
{
    struct cw_json j;
    jsmntok_t *toks = NULL;
    const char *err;
    if (cap > 0)
        out[0] = '\0';
    if (n > 0 && parse_doc(body, n, &j, &toks, &err) == 0) {
        int e = cw_json_get(&j, 0, "error");
        if (e >= 0 && cw_json_is(&j, e, JSMN_STRING))
            copy_printable(&j, e, out, cap);
    }
    free(toks);
}
