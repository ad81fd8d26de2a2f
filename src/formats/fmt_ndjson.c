/* fmt_ndjson.c - crosswatch's own NDJSON: one flat object per line, exactly what
 * cw_record_to_json() writes, so record -> JSON -> record is the identity.
 *
 *   {"ts":"2024-05-01T12:00:00.000000Z","kind":"http","src_ip":"192.0.2.1",
 *    "src_port":1234,"dst_ip":"...","dst_port":80,"transport":"tcp",
 *    "http.method":"GET",...,"raw":"..."}
 *
 * Rules (docs/records.md):
 *   - "ts" (ISO 8601 string) and "kind" (a known kind name) are required;
 *   - "member" and "sensor" are ignored: the center sets them from the sensor's key,
 *     never from what a sensor claims;
 *   - catalogue fields must have their catalogue type (string or integer); a known
 *     key with a value of the wrong type rejects the line, because silently dropping
 *     it would hide a sensor bug; null means "absent";
 *   - unknown keys are ignored (newer senders may add fields);
 *   - "raw", when present, becomes the record's raw line (the original input the
 *     sender parsed), otherwise the NDJSON line itself is the raw line. */
#include "formats/format.h"

#include <string.h>

#include "common/json.h"
#include "common/timefmt.h"
#include "common/banned.h"

/* A full record has ~60 keys; unknown nested values need some headroom. */
#define NDJSON_MAX_TOKENS 1024

static bool key_is(const char *k, size_t kn, const char *lit)
{
    return strlen(lit) == kn && memcmp(k, lit, kn) == 0;
}

static const char *set_ip(struct cw_ip *ip, const struct cw_json *j, int v, const char *bad)
{
    size_t n;
    const char *s = cw_json_raw(j, v, &n);
    if (!cw_json_is(j, v, JSMN_STRING) || cw_ip_parse(ip, s, n))
        return bad;
    return NULL;
}

static const char *set_port(uint16_t *port, const struct cw_json *j, int v, const char *bad)
{
    int64_t x;
    if (cw_json_int(j, v, &x) || x < 0 || x > 65535)
        return bad;
    *port = (uint16_t)x;
    return NULL;
}

/* One catalogue field. Returns NULL or a reject reason. */
static const char *set_field(struct cw_batch *b, const struct cw_json *j, enum cw_field_id id,
                             int v)
{
    if (cw_field_info(id)->type == CW_FT_INT) {
        int64_t x;
        if (cw_json_int(j, v, &x))
            return "field value is not an integer";
        return cw_batch_set_int(b, id, x) ? "too many fields" : NULL;
    }
    const char *s;
    size_t n;
    if (!cw_json_is(j, v, JSMN_STRING))
        return "field value is not a string";
    if (cw_json_str(j, v, &b->arena, &s, &n))
        return "out of memory";
    return cw_batch_set_str(b, id, s, n) ? "too many fields" : NULL;
}

/* Core keys; returns NULL (handled or ignored) or a reject reason. */
static const char *set_core(struct cw_batch *b, struct cw_record *r, const struct cw_json *j,
                            const char *k, size_t kn, int v, bool *have_ts, bool *have_kind)
{
    size_t n;
    const char *s = cw_json_raw(j, v, &n);
    if (key_is(k, kn, "ts")) {
        if (!cw_json_is(j, v, JSMN_STRING) || cw_time_parse_iso(s, n, &r->ts_us))
            return "invalid ts";
        *have_ts = true;
    } else if (key_is(k, kn, "kind")) {
        if (!cw_json_is(j, v, JSMN_STRING) || !(r->kind = (uint8_t)cw_kind_from_name(s, n)))
            return "invalid kind";
        *have_kind = true;
    } else if (key_is(k, kn, "src_ip")) {
        return set_ip(&r->src, j, v, "invalid src_ip");
    } else if (key_is(k, kn, "dst_ip")) {
        return set_ip(&r->dst, j, v, "invalid dst_ip");
    } else if (key_is(k, kn, "src_port")) {
        return set_port(&r->sport, j, v, "invalid src_port");
    } else if (key_is(k, kn, "dst_port")) {
        return set_port(&r->dport, j, v, "invalid dst_port");
    } else if (key_is(k, kn, "transport")) {
        if (!cw_json_is(j, v, JSMN_STRING) || memchr(s, '\\', n))
            return "invalid transport";
        r->transport = (uint8_t)cw_transport_from_name(s, n);
    } else if (key_is(k, kn, "raw")) {
        if (!cw_json_is(j, v, JSMN_STRING) || cw_json_str(j, v, &b->arena, &s, &n) ||
            n > UINT32_MAX)
            return "invalid raw";
        r->raw = s;
        r->raw_len = (uint32_t)n;
    }
    /* "member", "sensor" and unknown keys: ignored */
    return NULL;
}

static int parse_line(struct cw_batch *b, const struct cw_parse_ctx *ctx, const char *line,
                      size_t len, const char **reason)
{
    jsmntok_t toks[NDJSON_MAX_TOKENS];
    struct cw_json j;
    (void)ctx;
    if (cw_json_parse(&j, line, len, toks, NDJSON_MAX_TOKENS, reason))
        return -1;
    if (!cw_json_is(&j, 0, JSMN_OBJECT)) {
        *reason = "not a JSON object";
        return -1;
    }
    struct cw_record *r = cw_batch_begin(b);
    bool have_ts = false, have_kind = false;
    const char *bad = NULL;
    int k = 1;
    for (int m = 0; m < j.tok[0].size && k + 1 < j.ntok && !bad; m++) {
        int v = k + 1;
        size_t kn;
        const char *key = cw_json_raw(&j, k, &kn);
        enum cw_field_id id = cw_field_from_name(key, kn);
        if (cw_json_is_null(&j, v))
            ; /* absent */
        else if (id != CW_F_NONE)
            bad = set_field(b, &j, id, v);
        else
            bad = set_core(b, r, &j, key, kn, v, &have_ts, &have_kind);
        k = cw_json_next(&j, v);
    }
    if (!bad && !have_ts)
        bad = "missing ts";
    if (!bad && !have_kind)
        bad = "missing kind";
    if (bad || cw_batch_commit(b)) {
        cw_batch_abort(b);
        *reason = bad ? bad : "out of memory";
        return -1;
    }
    return 0;
}

const struct cw_format cw_format_ndjson = {
    "ndjson", "crosswatch NDJSON: one flat record object per line (docs/records.md)",
    parse_line};
