/* sample_mime.c - one e-mail: GMime parses it; this file reads the headers that
 * describe sender and path, checks the sender identities against each other, and
 * walks the MIME tree: text and HTML bodies are scanned for URLs, every other leaf
 * (and every embedded message) goes back to sample_blob() as an attachment.
 *
 * Bounds: the header block is cut at max_header_bytes before GMime sees it (a 1 MiB
 * header costs nothing after that); parts are counted over the whole sample
 * (max_parts) and the walk stops descending at max_mime_depth; GMime's own parser
 * warnings become "mime" findings. */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "ioc/sample_impl.h"
#include "common/banned.h"

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;
static void gmime_init(void) { g_mime_init(); }

struct mail {
    struct sample_ctx *c;
    size_t email;                 /* index of the e-mail in the report (the array moves) */
    const struct sample_at *at;
    GMimeParserOptions *popts;
    size_t n_warnings;
    struct cw_sample_hop *hops;   /* heap until the end, then copied to the arena */
    size_t n_hops, cap_hops;
    struct cw_sample_auth *auth;
    size_t n_auth, cap_auth;
    const char *from_addr, *reply_addr, *sender_addr, *return_addr; /* arena */
};

static struct cw_sample_email *mail_email(struct mail *m) { return &m->c->r->emails[m->email]; }

static const char *warning_text(GMimeParserWarning w)
{
    switch (w) {
    case GMIME_WARN_DUPLICATED_HEADER: return "duplicated header";
    case GMIME_WARN_DUPLICATED_PARAMETER: return "duplicated header parameter";
    case GMIME_WARN_UNENCODED_8BIT_HEADER: return "unencoded 8-bit header";
    case GMIME_WARN_INVALID_CONTENT_TYPE: return "invalid Content-Type";
    case GMIME_WARN_INVALID_RFC2047_HEADER_VALUE: return "invalid RFC 2047 encoded header";
    case GMIME_WARN_MALFORMED_MULTIPART: return "multipart without parts (broken boundary?)";
    case GMIME_WARN_TRUNCATED_MESSAGE: return "truncated message (missing closing boundary?)";
    case GMIME_WARN_MALFORMED_MESSAGE: return "malformed message";
    case GMIME_WARN_INVALID_ADDRESS_LIST: return "invalid address list";
    case GMIME_WARN_INVALID_PARAMETER: return "invalid header parameter";
    case GMIME_CRIT_INVALID_HEADER_NAME: return "invalid header name";
    case GMIME_CRIT_CONFLICTING_HEADER: return "conflicting header";
    case GMIME_CRIT_CONFLICTING_PARAMETER: return "conflicting header parameter";
    case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY: return "multipart without boundary";
    case GMIME_CRIT_NESTING_OVERFLOW: return "MIME nesting too deep (parser stopped)";
    case GMIME_WARN_PART_WITHOUT_CONTENT: return "part without content";
    case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT: return "part without headers or content";
    }
    return "parser warning";
}

static void on_warning(gint64 offset, GMimeParserWarning code, const gchar *item, gpointer u)
{
    struct mail *m = u;
    /* duplicated parameters and 8-bit headers are everyday mailer sloppiness */
    if (code == GMIME_WARN_UNENCODED_8BIT_HEADER || code == GMIME_WARN_DUPLICATED_PARAMETER)
        return;
    if (++m->n_warnings > 50)
        return;
    char it[80];
    snprintf(it, sizeof(it), "%s", item ? item : "");
    for (char *p = it; *p; p++)
        if ((unsigned char)*p < 32)
            *p = ' ';
    sample_finding(m->c, "mime", m->at->path, "%s%s%s at byte %lld", warning_text(code),
                   *it ? ": " : "", it, (long long)offset);
}

/* ---- addresses ---- */

static bool ip_is_public(const char *s)
{
    unsigned char a[16];
    if (inet_pton(AF_INET, s, a) == 1)
        return !(a[0] == 0 || a[0] == 10 || a[0] == 127 || (a[0] == 169 && a[1] == 254) ||
                 (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168) ||
                 (a[0] == 100 && (a[1] & 0xc0) == 64) || a[0] >= 224);
    if (inet_pton(AF_INET6, s, a) == 1) {
        static const unsigned char zero[15];
        if (!memcmp(a, zero, 15)) /* :: and ::1 */
            return false;
        return !((a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || (a[0] & 0xfe) == 0xfc ||
                 a[0] == 0xff);
    }
    return false;
}

static const char *domain_of(const char *addr)
{
    const char *at = addr ? strrchr(addr, '@') : NULL;
    return at ? at + 1 : NULL;
}

/* Add every mailbox of an address header as an email candidate; returns the first
 * address (arena) for the mismatch checks. */
static const char *addresses(struct mail *m, const char *header, const char *value, bool recipient)
{
    InternetAddressList *list = internet_address_list_parse(m->popts, value);
    if (!list)
        return NULL;
    const char *first = NULL;
    char why[96];
    snprintf(why, sizeof(why), "address in %s", header);
    /* one level of groups ("undisclosed: a@b, c@d;") is all RFC 5322 allows */
    for (int i = 0; i < internet_address_list_length(list); i++) {
        InternetAddress *ia = internet_address_list_get_address(list, i);
        InternetAddressList *members = NULL;
        int n = 1;
        if (INTERNET_ADDRESS_IS_GROUP(ia)) {
            members = internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia));
            n = members ? internet_address_list_length(members) : 0;
        }
        for (int j = 0; j < n; j++) {
            InternetAddress *x = members ? internet_address_list_get_address(members, j) : ia;
            if (!INTERNET_ADDRESS_IS_MAILBOX(x))
                continue;
            const char *a = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(x));
            if (!a || !*a)
                continue;
            struct cw_sample_candidate *k = sample_candidate(
                m->c, CW_IOC_EMAIL, a, strlen(a), header, why, recipient ? CW_SAMPLE_RECIPIENT : 0);
            if (!first && k)
                first = k->value;
            /* a display name that is itself another address ("paypal@paypal.com"
             * <x@evil>) is a classic spoof */
            const char *name = internet_address_get_name(x);
            if (!recipient && name && strchr(name, '@') && !strcasestr(name, a))
                sample_finding(m->c, "mismatch", m->at->path,
                               "%s display name \"%.100s\" is not its address %.200s", header,
                               name, a);
        }
    }
    g_object_unref(list);
    return first;
}

static void add_auth(struct sample_ctx *c, const char *method, size_t mlen, const char *result,
                     size_t rlen, const char *domain, size_t dlen, const char *origin, void *u)
{
    struct mail *m = u;
    if (m->n_auth == m->cap_auth) {
        size_t nc = m->cap_auth ? m->cap_auth * 2 : 4;
        if (nc > 64)
            return; /* a header flood does not grow the report */
        void *p = realloc(m->auth, nc * sizeof(*m->auth));
        if (!p) {
            c->oom = true;
            return;
        }
        m->auth = p;
        m->cap_auth = nc;
    }
    struct cw_sample_auth *a = &m->auth[m->n_auth++];
    a->method = sample_strndup(c, method, mlen);
    for (char *p = (char *)a->method; p && *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    a->result = sample_strndup(c, result ? result : "", result ? rlen : 0);
    a->domain = domain && dlen ? sample_strndup(c, domain, dlen) : NULL;
    a->origin = origin;
    if (a->result && (!strcasecmp(a->result, "fail") || !strcasecmp(a->result, "softfail") ||
                      !strcasecmp(a->result, "permerror")))
        sample_finding(c, "auth", m->at->path, "%s=%s%s%s (%s)", a->method, a->result,
                       a->domain ? " for " : "", a->domain ? a->domain : "", origin);
}

static void add_hop(struct mail *m, const char *value)
{
    if (m->n_hops == m->cap_hops) {
        size_t nc = m->cap_hops ? m->cap_hops * 2 : 8;
        if (nc > 256)
            return;
        void *p = realloc(m->hops, nc * sizeof(*m->hops));
        if (!p) {
            m->c->oom = true;
            return;
        }
        m->hops = p;
        m->cap_hops = nc;
    }
    struct cw_sample_hop *h = &m->hops[m->n_hops++];
    sample_parse_received(m->c, value, h);
    char where[32];
    snprintf(where, sizeof(where), "Received[%zu]", m->n_hops);
    if (h->ip && ip_is_public(h->ip))
        sample_candidate(m->c, strchr(h->ip, ':') ? CW_IOC_IPV6 : CW_IOC_IPV4, h->ip,
                         strlen(h->ip), where, "address of a sending host in the Received chain",
                         0);
    if (h->for_addr)
        sample_candidate(m->c, CW_IOC_EMAIL, h->for_addr, strlen(h->for_addr), where,
                         "recipient in the Received chain", CW_SAMPLE_RECIPIENT);
}

/* ---- headers ---- */

static const char *decoded(struct mail *m, const char *v)
{
    char *d = g_mime_utils_header_decode_text(m->popts, v);
    const char *s = sample_strdup(m->c, d ? d : v);
    g_free(d);
    return s;
}

static void header(struct mail *m, const char *name, const char *v)
{
    struct cw_sample_email *e = mail_email(m);
#define KEEP(field, hname) \
    if (!strcasecmp(name, hname) && !e->field) \
        e->field = decoded(m, v);
    KEEP(from, "From");
    KEEP(to, "To");
    KEEP(cc, "Cc");
    KEEP(subject, "Subject");
    KEEP(date, "Date");
    KEEP(message_id, "Message-ID");
    KEEP(return_path, "Return-Path");
    KEEP(reply_to, "Reply-To");
    KEEP(sender, "Sender");
#undef KEEP
    if (!strcasecmp(name, "Received"))
        add_hop(m, v);
    else if (!strcasecmp(name, "Authentication-Results"))
        sample_parse_auth_results(m->c, v, add_auth, m);
    else if (!strcasecmp(name, "Received-SPF"))
        sample_parse_received_spf(m->c, v, add_auth, m);
    else if (!strcasecmp(name, "From")) {
        const char *a = addresses(m, "From", v, false);
        if (!m->from_addr)
            m->from_addr = a;
    } else if (!strcasecmp(name, "Reply-To")) {
        const char *a = addresses(m, "Reply-To", v, false);
        if (!m->reply_addr)
            m->reply_addr = a;
    } else if (!strcasecmp(name, "Sender")) {
        const char *a = addresses(m, "Sender", v, false);
        if (!m->sender_addr)
            m->sender_addr = a;
    } else if (!strcasecmp(name, "Return-Path")) {
        const char *a = addresses(m, "Return-Path", v, false);
        if (!m->return_addr)
            m->return_addr = a;
    } else if (!strcasecmp(name, "To") || !strcasecmp(name, "Cc") ||
               !strcasecmp(name, "Delivered-To") || !strcasecmp(name, "X-Original-To") ||
               !strcasecmp(name, "Envelope-To")) {
        addresses(m, name, v, true);
    } else if (!strcasecmp(name, "X-Originating-IP") || !strcasecmp(name, "X-Sender-IP")) {
        char ip[64];
        size_t n = 0;
        for (const char *p = v; *p && n + 1 < sizeof(ip); p++)
            if (*p != '[' && *p != ']' && *p != ' ')
                ip[n++] = *p;
        ip[n] = '\0';
        if (ip_is_public(ip))
            sample_candidate(m->c, strchr(ip, ':') ? CW_IOC_IPV6 : CW_IOC_IPV4, ip, n, name,
                             "client address the sender's mail system recorded", 0);
    }
}

static void mismatch(struct mail *m, const char *what, const char *addr, bool domain_only)
{
    if (!m->from_addr || !addr)
        return;
    const char *fd = domain_of(m->from_addr), *ad = domain_of(addr);
    bool differ = domain_only ? (fd && ad && strcasecmp(fd, ad) != 0)
                              : strcasecmp(m->from_addr, addr) != 0;
    if (differ)
        sample_finding(m->c, "mismatch", m->at->path, "From %s differs from %s %s", m->from_addr,
                       what, addr);
}

/* ---- the MIME tree ---- */

static void walk(struct mail *m, GMimeObject *obj, const char *part, unsigned depth);

static GByteArray *content_bytes(GMimePart *p, GMimeStream **owner)
{
    GMimeDataWrapper *w = g_mime_part_get_content(p);
    *owner = NULL;
    if (!w)
        return NULL;
    GMimeStream *s = g_mime_stream_mem_new();
    g_mime_data_wrapper_write_to_stream(w, s);
    *owner = s;
    return g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
}

static void blob_below(struct mail *m, const void *data, size_t len, const char *name,
                       const char *part, const char *role, const char *ctype, bool message)
{
    struct sample_ctx *c = m->c;
    struct sample_at at = *m->at;
    char fallback[420];
    int w = snprintf(fallback, sizeof(fallback), "part-%s%s", part, message ? ".eml" : "");
    if (w < 0 || (size_t)w >= sizeof(fallback))
        return;
    at.path = sample_path_join(c, m->at->path, name && *name ? name : fallback);
    if (message)
        at.msg_depth++;
    if (!at.path)
        return;
    mail_email(m)->n_attachments++;
    sample_blob(c, data, len, &at, name, role, ctype);
}

static void leaf(struct mail *m, GMimePart *p, const char *part)
{
    struct sample_ctx *c = m->c;
    GMimeContentType *ct = g_mime_object_get_content_type(GMIME_OBJECT(p));
    char *ctype = ct ? g_mime_content_type_get_mime_type(ct) : NULL;
    const char *name = g_mime_part_get_filename(p);
    bool text = ct && g_mime_content_type_is_type(ct, "text", "plain");
    bool html = ct && g_mime_content_type_is_type(ct, "text", "html");
    bool body = (text || html) && !g_mime_part_is_attachment(p) && !name;
    if (body && GMIME_IS_TEXT_PART(p)) {
        char *t = g_mime_text_part_get_text(GMIME_TEXT_PART(p));
        if (t) {
            size_t n = strlen(t);
            struct cw_sample_email *e = mail_email(m);
            if (html) {
                e->n_html++;
                e->html_bytes += n;
            } else {
                e->n_text++;
                e->text_bytes += n;
            }
            char *where = sample_printf(c, "%s%s%s part %s", m->at->path,
                                        *m->at->path ? " " : "", html ? "text/html" : "text/plain",
                                        part);
            sample_scan_text(c, t, n, html, where);
            g_free(t);
        }
    } else {
        GMimeStream *s;
        GByteArray *a = content_bytes(p, &s);
        blob_below(m, a ? a->data : (const guint8 *)"", a ? a->len : 0, name, part,
                   g_mime_part_is_attachment(p) ? "attachment" : "inline", ctype, false);
        if (s)
            g_object_unref(s);
    }
    g_free(ctype);
}

static void embedded(struct mail *m, GMimeMessagePart *mp, const char *part)
{
    GMimeMessage *inner = g_mime_message_part_get_message(mp);
    if (!inner)
        return;
    GMimeStream *s = g_mime_stream_mem_new();
    g_mime_object_write_to_stream(GMIME_OBJECT(inner), NULL, s);
    GByteArray *a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
    const char *name = g_mime_object_get_content_disposition_parameter(GMIME_OBJECT(mp),
                                                                       "filename");
    blob_below(m, a->data, a->len, name, part, "attachment", "message/rfc822", true);
    g_object_unref(s);
}

static void walk(struct mail *m, GMimeObject *obj, const char *part, unsigned depth)
{
    struct sample_ctx *c = m->c;
    if (c->oom || !obj)
        return;
    if (c->r->n_parts_seen >= c->o->limits.max_parts) {
        if (!c->parts_full)
            sample_finding(c, "limit", m->at->path,
                           "more than %zu MIME parts: the rest are not analysed",
                           c->o->limits.max_parts);
        c->parts_full = true;
        return;
    }
    c->r->n_parts_seen++;
    mail_email(m)->n_parts++;
    if (depth > c->o->limits.max_mime_depth) {
        sample_finding(c, "limit", m->at->path,
                       "MIME nesting deeper than %u at part %s: not analysed",
                       c->o->limits.max_mime_depth, part);
        return;
    }
    if (GMIME_IS_MULTIPART(obj)) {
        GMimeMultipart *mp = GMIME_MULTIPART(obj);
        int n = g_mime_multipart_get_count(mp);
        for (int i = 0; i < n && !c->parts_full; i++) {
            /* part numbers grow with depth; max_mime_depth keeps them under 400 */
            char sub[400];
            int w = snprintf(sub, sizeof(sub), "%s%s%d", part, *part ? "." : "", i + 1);
            if (w < 0 || (size_t)w >= sizeof(sub))
                break;
            walk(m, g_mime_multipart_get_part(mp, i), sub, depth + 1);
        }
    } else if (GMIME_IS_MESSAGE_PART(obj)) {
        embedded(m, GMIME_MESSAGE_PART(obj), *part ? part : "1");
    } else if (GMIME_IS_PART(obj)) {
        leaf(m, GMIME_PART(obj), *part ? part : "1");
    }
}

/* ---- the header block bound ---- */

/* Offset of the empty line ending the header block (at its first newline), or len. */
static size_t header_end(const char *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (p[i] != '\n')
            continue;
        if (p[i + 1] == '\n' || (p[i + 1] == '\r' && i + 2 < len && p[i + 2] == '\n'))
            return i + 1;
    }
    return len;
}

void sample_email(struct sample_ctx *c, const void *data, size_t len, const struct sample_at *at)
{
    pthread_once(&gmime_once, gmime_init);
    const char *p = data;
    if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
        p += 3, len -= 3;
    if (len > 5 && !memcmp(p, "From ", 5)) { /* mbox separator: not a header */
        const char *nl = memchr(p, '\n', len);
        size_t skip = nl ? (size_t)(nl - p) + 1 : len;
        p += skip, len -= skip;
    }
    /* cut an oversized header block at a line boundary, keep the body */
    char *cut = NULL;
    size_t he = header_end(p, len), limit = c->o->limits.max_header_bytes;
    if (he > limit) {
        size_t keep = limit;
        while (keep > 0 && p[keep - 1] != '\n')
            keep--;
        cut = malloc(keep + (len - he) + 1);
        if (!cut) {
            c->oom = true;
            return;
        }
        memcpy(cut, p, keep);
        memcpy(cut + keep, p + he, len - he);
        sample_finding(c, "limit", at->path,
                       "header block of %zu bytes is larger than %zu: %zu bytes of headers not read",
                       he, limit, he - keep);
        len = keep + (len - he);
        p = cut;
    }

    struct cw_sample_email *e = sample_email_new(c);
    if (!e) {
        free(cut);
        return;
    }
    struct mail m = {.c = c, .email = c->r->n_emails - 1, .at = at};
    e->path = at->path;
    m.popts = g_mime_parser_options_new();
    g_mime_parser_options_set_warning_callback(m.popts, on_warning, &m);
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(p, len);
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
    GMimeMessage *msg = g_mime_parser_construct_message(parser, m.popts);
    if (!msg) {
        sample_finding(c, "mime", at->path, "not a parsable message");
    } else {
        GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(msg));
        int n = g_mime_header_list_get_count(hl);
        for (int i = 0; i < n && !c->oom; i++) {
            GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
            const char *name = g_mime_header_get_name(h), *v = g_mime_header_get_value(h);
            if (name && v)
                header(&m, name, v);
        }
        mismatch(&m, "Reply-To", m.reply_addr, true);
        mismatch(&m, "Sender", m.sender_addr, true);
        mismatch(&m, "Return-Path", m.return_addr, true);
        walk(&m, g_mime_message_get_mime_part(msg), "", 0);
        g_object_unref(msg);
    }
    g_object_unref(parser);
    g_object_unref(stream);
    g_mime_parser_options_free(m.popts);
    free(cut);

    /* hops and verdicts into the arena, the report keeps no heap per e-mail */
    e = mail_email(&m);
    if (m.n_hops) {
        e->hops = cw_arena_alloc(&c->r->arena, m.n_hops * sizeof(*m.hops));
        if (e->hops) {
            memcpy(e->hops, m.hops, m.n_hops * sizeof(*m.hops));
            e->n_hops = m.n_hops;
        } else {
            c->oom = true;
        }
    }
    if (m.n_auth) {
        e->auth = cw_arena_alloc(&c->r->arena, m.n_auth * sizeof(*m.auth));
        if (e->auth) {
            memcpy(e->auth, m.auth, m.n_auth * sizeof(*m.auth));
            e->n_auth = m.n_auth;
        } else {
            c->oom = true;
        }
    }
    free(m.hops);
    free(m.auth);
}
