/* fmt_syslog.c - syslog lines, RFC 5424 and RFC 3164, detected per line.
 *
 *   RFC 5424  <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD...] MSG
 *   RFC 3164  <PRI>Mmm dd hh:mm:ss HOSTNAME TAG[PID]: MSG
 *   files     Mmm dd hh:mm:ss HOSTNAME TAG[PID]: MSG        (no <PRI>, /var/log/syslog)
 *             2024-05-01T12:00:00.123+02:00 HOSTNAME TAG: MSG   (rsyslog high precision)
 *
 * RFC 3164 has no year: it comes from ctx->now_us (cw_time_parse_bsd moves dates
 * that would lie in the future back a year). A 5424 "-" timestamp means the sender
 * did not know the time: the reception time ctx->now_us is used. Structured data is
 * not split into fields; it stays in the raw line. A UTF-8 BOM that 5424 puts before
 * the message is stripped. Every record is kind "log". */
#include "formats/format.h"

#include <stdbool.h>
#include <string.h>

#include "common/timefmt.h"
#include "common/banned.h"

struct cur {
    const char *p, *end;
};

static bool at_end(const struct cur *c) { return c->p >= c->end; }

/* Next space-delimited token (single spaces as 5424 requires, but tolerate more). */
static const char *token(struct cur *c, size_t *n)
{
    while (c->p < c->end && *c->p == ' ')
        c->p++;
    const char *s = c->p;
    while (c->p < c->end && *c->p != ' ')
        c->p++;
    *n = (size_t)(c->p - s);
    return s;
}

/* "<PRI>": returns 1 if present and valid, 0 if absent, -1 if malformed. */
static int parse_pri(struct cur *c, int *pri)
{
    if (at_end(c) || *c->p != '<')
        return 0;
    const char *p = c->p + 1;
    int v = 0, nd = 0;
    while (p < c->end && *p >= '0' && *p <= '9' && nd < 3) {
        v = v * 10 + (*p++ - '0');
        nd++;
    }
    if (nd == 0 || p >= c->end || *p != '>' || v > 191)
        return -1;
    *pri = v;
    c->p = p + 1;
    return 1;
}

static int set(struct cw_batch *b, enum cw_field_id id, const char *s, size_t n)
{
    if (n == 0 || (n == 1 && s[0] == '-'))
        return 0; /* NILVALUE */
    return cw_batch_set_str(b, id, s, n);
}

static int set_message(struct cw_batch *b, struct cur *c)
{
    if (at_end(c))
        return 0;
    if (c->end - c->p >= 3 && memcmp(c->p, "\xEF\xBB\xBF", 3) == 0)
        c->p += 3;
    return at_end(c) ? 0 : cw_batch_set_str(b, CW_F_LOG_MESSAGE, c->p, (size_t)(c->end - c->p));
}

/* Skip STRUCTURED-DATA: "-" or one or more [id param="value" ...] elements, where
 * '"', '\' and ']' may be escaped with '\' inside values. */
static int skip_sd(struct cur *c)
{
    if (at_end(c))
        return -1;
    if (*c->p == '-') {
        c->p++;
        return 0;
    }
    if (*c->p != '[')
        return -1;
    while (c->p < c->end && *c->p == '[') {
        bool inq = false;
        c->p++;
        for (;;) {
            if (c->p >= c->end)
                return -1;
            char ch = *c->p++;
            if (inq && ch == '\\' && c->p < c->end)
                c->p++;
            else if (ch == '"')
                inq = !inq;
            else if (ch == ']' && !inq)
                break;
        }
    }
    return 0;
}

static const char *parse_5424(struct cw_batch *b, struct cw_record *r, struct cur *c,
                              int64_t now_us)
{
    size_t n;
    const char *s = token(c, &n);
    if (n == 1 && s[0] == '-')
        r->ts_us = now_us;
    else if (cw_time_parse_iso(s, n, &r->ts_us))
        return "invalid timestamp";
    static const enum cw_field_id ids[] = {CW_F_LOG_HOST, CW_F_LOG_APP, CW_F_LOG_PROCID,
                                           CW_F_LOG_MSGID};
    for (size_t i = 0; i < 4; i++) {
        s = token(c, &n);
        if (n == 0)
            return "truncated RFC 5424 header";
        if (set(b, ids[i], s, n))
            return "too many values";
    }
    if (c->p < c->end)
        c->p++; /* the space before STRUCTURED-DATA */
    if (skip_sd(c))
        return "invalid structured data";
    if (c->p < c->end) {
        if (*c->p != ' ')
            return "invalid structured data";
        c->p++;
    }
    return set_message(b, c) ? "too many values" : NULL;
}

/* BSD style after the timestamp: [HOSTNAME] TAG[PID]: MSG */
static const char *parse_bsd_rest(struct cw_batch *b, struct cur *c)
{
    size_t n;
    struct cur save = *c;
    const char *s = token(c, &n);
    /* a token ending in ':' or holding '[' is the tag: no hostname (local sender) */
    bool is_tag = n && (s[n - 1] == ':' || memchr(s, '[', n));
    if (!is_tag) {
        if (set(b, CW_F_LOG_HOST, s, n))
            return "too many values";
        save = *c;
        s = token(c, &n);
    }
    /* TAG: up to '[', ':' or space */
    size_t tl = 0;
    while (tl < n && s[tl] != '[' && s[tl] != ':')
        tl++;
    if (tl == 0 || tl > 64) {
        *c = save; /* no tag: everything is message */
        while (c->p < c->end && *c->p == ' ')
            c->p++;
        return set_message(b, c) ? "too many values" : NULL;
    }
    if (set(b, CW_F_LOG_APP, s, tl))
        return "too many values";
    if (tl < n && s[tl] == '[') {
        const char *close = memchr(s + tl, ']', n - tl);
        if (close && set(b, CW_F_LOG_PROCID, s + tl + 1, (size_t)(close - s - tl - 1)))
            return "too many values";
    }
    c->p = s + n;
    if (c->p < c->end && *c->p == ' ')
        c->p++;
    return set_message(b, c) ? "too many values" : NULL;
}

static int parse_line(struct cw_batch *b, const struct cw_parse_ctx *ctx, const char *line,
                      size_t len, const char **reason)
{
    struct cur c = {line, line + len};
    int pri = -1;
    int hp = parse_pri(&c, &pri);
    if (hp < 0) {
        *reason = "invalid <PRI>";
        return -1;
    }
    struct cw_record *r = cw_batch_begin(b);
    r->kind = CW_KIND_LOG;
    const char *bad = NULL;
    if (hp && c.end - c.p >= 2 && c.p[0] == '1' && c.p[1] == ' ') {
        c.p += 2;
        bad = parse_5424(b, r, &c, ctx->now_us);
    } else if (c.end - c.p >= 16 && c.p[15] == ' ' &&
               cw_time_parse_bsd(c.p, 15, ctx->now_us, &r->ts_us) == 0) {
        c.p += 16;
        bad = parse_bsd_rest(b, &c);
    } else {
        size_t n;
        const char *s = token(&c, &n);
        if (n >= 19 && s[0] >= '0' && s[0] <= '9' && cw_time_parse_iso(s, n, &r->ts_us) == 0)
            bad = parse_bsd_rest(b, &c);
        else
            bad = hp ? "invalid timestamp" : "not a syslog line (no <PRI> or timestamp)";
    }
    if (!bad && hp && (cw_batch_set_int(b, CW_F_LOG_FACILITY, pri / 8) ||
                       cw_batch_set_int(b, CW_F_LOG_SEVERITY, pri % 8)))
        bad = "too many values";
    if (bad || cw_batch_commit(b)) {
        cw_batch_abort(b);
        *reason = bad ? bad : "out of memory";
        return -1;
    }
    return 0;
}

const struct cw_format cw_format_syslog = {
    "syslog", "syslog lines: RFC 5424, RFC 3164, or /var/log/syslog style without <PRI>",
    parse_line};
