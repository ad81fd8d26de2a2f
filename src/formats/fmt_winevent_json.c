/* fmt_winevent_json.c - Windows event log records rendered as JSON, one per line.
 *
 * The shape is the one evtx dumpers (evtx_dump, python-evtx via xmltodict)
 * write and Sigma's regression data uses:
 *   {"Event":{"System":{"Provider":{"#attributes":{"Name":..}},"EventID":1,
 *    "TimeCreated":{"#attributes":{"SystemTime":"..."}},"Channel":..,"Computer":..},
 *    "EventData":{"Image":..,"CommandLine":..}}}
 * Kinds: Sysmon 1 and Security 4688 -> process; Sysmon 2/11/15/23/26/27/28/29 ->
 * file; Sysmon 3 -> connection; Sysmon 22 -> dns; everything else -> log.
 * EventData members with a catalogue field (table below, mirrored by the
 * [windows] section of rules/fieldmap.conf) become record values; the raw line
 * keeps all of them, and the Sigma evaluator reads the rest from it. */
#include "formats/format.h"

#include <string.h>

#include "common/json.h"
#include "common/timefmt.h"
#include "common/banned.h"

#define WEV_MAX_TOKENS 4096
#define SYSMON "Microsoft-Windows-Sysmon/Operational"

struct wev {
    struct cw_json j;
    struct cw_batch *b;
    struct cw_record *r;
};

/* EventData member -> catalogue field. Core fields use CW_F_NONE and a handler. */
static const struct {
    const char *name;
    enum cw_field_id id;
} data_fields[] = {
    {"Image", CW_F_PROCESS_IMAGE},
    {"NewProcessName", CW_F_PROCESS_IMAGE},
    {"CommandLine", CW_F_PROCESS_COMMAND_LINE},
    {"ParentImage", CW_F_PROCESS_PARENT_IMAGE},
    {"ParentProcessName", CW_F_PROCESS_PARENT_IMAGE},
    {"ParentCommandLine", CW_F_PROCESS_PARENT_COMMAND_LINE},
    {"User", CW_F_PROCESS_USER},
    {"ProcessId", CW_F_PROCESS_PID},
    {"OriginalFileName", CW_F_PROCESS_ORIGINAL_FILE_NAME},
    {"CurrentDirectory", CW_F_PROCESS_CURRENT_DIRECTORY},
    {"IntegrityLevel", CW_F_PROCESS_INTEGRITY_LEVEL},
    {"Hashes", CW_F_PROCESS_HASHES},
    {"TargetFilename", CW_F_FILE_PATH},
    {"TargetObject", CW_F_REGISTRY_KEY},
    {"Details", CW_F_REGISTRY_VALUE},
    {"EventType", CW_F_WIN_EVENT_TYPE},
    {"QueryName", CW_F_DNS_QNAME},
    {"QueryResults", CW_F_DNS_ANSWERS},
};

static int put(struct wev *e, int t, enum cw_field_id id)
{
    const char *s;
    size_t n;
    int64_t v;
    if (t < 0 || cw_json_is_null(&e->j, t))
        return 0;
    if (cw_field_info(id)->type == CW_FT_INT) {
        if (cw_json_int(&e->j, t, &v) == 0)
            return cw_batch_set_int(e->b, id, v);
        if (!cw_json_is(&e->j, t, JSMN_STRING))
            return 0;
        s = cw_json_raw(&e->j, t, &n);
        v = 0;
        for (size_t i = 0; i < n; i++) {
            if (s[i] < '0' || s[i] > '9' || v > 1000000000000LL)
                return 0; /* hex ids (4688 "0x1a4") stay in the raw line */
            v = v * 10 + (s[i] - '0');
        }
        return n ? cw_batch_set_int(e->b, id, v) : 0;
    }
    if (cw_json_is(&e->j, t, JSMN_STRING)) {
        if (cw_json_str(&e->j, t, &e->b->arena, &s, &n))
            return -1;
    } else if (cw_json_is(&e->j, t, JSMN_PRIMITIVE)) {
        s = cw_json_raw(&e->j, t, &n);
    } else {
        return 0;
    }
    return cw_batch_set_str(e->b, id, s, n);
}

/* Addresses and ports of Sysmon 3; bad values are skipped (the raw keeps them). */
static void put_endpoint(struct wev *e, int data, const char *ipk, const char *portk, bool dst)
{
    int t = cw_json_get(&e->j, data, ipk);
    int64_t v;
    if (cw_json_is(&e->j, t, JSMN_STRING)) {
        size_t n;
        const char *s = cw_json_raw(&e->j, t, &n);
        (void)cw_ip_parse(dst ? &e->r->dst : &e->r->src, s, n);
    }
    t = cw_json_get(&e->j, data, portk);
    if (t >= 0 && cw_json_int(&e->j, t, &v) == 0 && v > 0 && v < 65536) {
        if (dst)
            e->r->dport = (uint16_t)v;
        else
            e->r->sport = (uint16_t)v;
    }
}

static int add_data(struct wev *e, int data)
{
    if (!cw_json_is(&e->j, data, JSMN_OBJECT))
        return 0;
    for (size_t i = 0; i < sizeof(data_fields) / sizeof(data_fields[0]); i++)
        if (put(e, cw_json_get(&e->j, data, data_fields[i].name), data_fields[i].id))
            return -1;
    put_endpoint(e, data, "SourceIp", "SourcePort", false);
    put_endpoint(e, data, "DestinationIp", "DestinationPort", true);
    int p = cw_json_get(&e->j, data, "Protocol");
    if (cw_json_is(&e->j, p, JSMN_STRING)) {
        size_t n;
        const char *s = cw_json_raw(&e->j, p, &n);
        e->r->transport = (uint8_t)cw_transport_from_name(s, n);
    }
    return 0;
}

static enum cw_kind kind_of(const char *ch, size_t cn, int64_t eid)
{
    bool sysmon = cn == strlen(SYSMON) && memcmp(ch, SYSMON, cn) == 0;
    bool security = cn == 8 && memcmp(ch, "Security", 8) == 0;
    if ((sysmon && eid == 1) || (security && eid == 4688))
        return CW_KIND_PROCESS;
    if (!sysmon)
        return CW_KIND_LOG;
    switch (eid) {
    case 2: case 11: case 15: case 23: case 26: case 27: case 28: case 29: return CW_KIND_FILE;
    case 3: return CW_KIND_CONNECTION;
    case 22: return CW_KIND_DNS;
    default: return CW_KIND_LOG;
    }
}

static int fail(struct cw_batch *b, const char **reason, const char *why)
{
    cw_batch_abort(b);
    *reason = why;
    return -1;
}

static int attr(const struct cw_json *j, int obj, const char *key, const char *attr_name)
{
    int o = cw_json_get(j, obj, key);
    int a = cw_json_is(j, o, JSMN_OBJECT) ? cw_json_get(j, o, "#attributes") : -1;
    return cw_json_is(j, a, JSMN_OBJECT) ? cw_json_get(j, a, attr_name) : -1;
}

static int add_system(struct wev *e, int sys, const char **reason)
{
    const struct cw_json *j = &e->j;
    int64_t eid;
    size_t n, cn = 0;
    int t = attr(j, sys, "TimeCreated", "SystemTime");
    if (!cw_json_is(j, t, JSMN_STRING))
        return *reason = "missing Event.System.TimeCreated", -1;
    const char *s = cw_json_raw(j, t, &n);
    if (cw_time_parse_iso(s, n, &e->r->ts_us))
        return *reason = "invalid TimeCreated", -1;
    int id = cw_json_get(j, sys, "EventID");
    if (id >= 0 && cw_json_is(j, id, JSMN_OBJECT)) /* {"#text": 4688, "#attributes": ..} */
        id = cw_json_get(j, id, "#text");
    if (id < 0 || (cw_json_int(j, id, &eid) && !cw_json_is(j, id, JSMN_STRING)))
        return *reason = "missing Event.System.EventID", -1;
    if (cw_json_is(j, id, JSMN_STRING)) {
        const char *es = cw_json_raw(j, id, &n);
        eid = 0;
        for (size_t i = 0; i < n && i < 6; i++)
            eid = es[i] >= '0' && es[i] <= '9' ? eid * 10 + (es[i] - '0') : -1;
        if (eid < 0 || n == 0 || n > 6)
            return *reason = "invalid EventID", -1;
    }
    int ch = cw_json_get(j, sys, "Channel");
    const char *chs = cw_json_is(j, ch, JSMN_STRING) ? cw_json_raw(j, ch, &cn) : "";
    e->r->kind = (uint8_t)kind_of(chs, cn, eid);
    if (cw_batch_set_int(e->b, CW_F_WIN_EVENT_ID, eid) || put(e, ch, CW_F_WIN_CHANNEL) ||
        put(e, attr(j, sys, "Provider", "Name"), CW_F_WIN_PROVIDER) ||
        put(e, cw_json_get(j, sys, "Computer"), CW_F_LOG_HOST))
        return *reason = "too many values", -1;
    return 0;
}

static int parse_line(struct cw_batch *b, const struct cw_parse_ctx *ctx, const char *line,
                      size_t len, const char **reason)
{
    jsmntok_t toks[WEV_MAX_TOKENS];
    struct wev e = {.b = b};
    (void)ctx;
    if (cw_json_parse(&e.j, line, len, toks, WEV_MAX_TOKENS, reason))
        return -1;
    int ev = cw_json_is(&e.j, 0, JSMN_OBJECT) ? cw_json_get(&e.j, 0, "Event") : -1;
    int sys = cw_json_is(&e.j, ev, JSMN_OBJECT) ? cw_json_get(&e.j, ev, "System") : -1;
    if (!cw_json_is(&e.j, sys, JSMN_OBJECT)) {
        *reason = "not a Windows event (no Event.System object)";
        return -1;
    }
    e.r = cw_batch_begin(b);
    if (add_system(&e, sys, reason))
        return fail(b, reason, *reason);
    if (add_data(&e, cw_json_get(&e.j, ev, "EventData")) || cw_batch_commit(b))
        return fail(b, reason, "too many values or out of memory");
    return 0;
}

const struct cw_format cw_format_winevent_json = {
    "winevent-json",
    "Windows event log records as JSON (Event.System + Event.EventData; Sysmon, Security)",
    parse_line};
