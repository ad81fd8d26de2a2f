/* sample_msg.c - Outlook .msg files (MS-OXMSG): an OLE2 compound file read with
 * libgsf. A message is a storage whose streams "__substg1.0_TTTTYYYY" hold one
 * property each (TTTT the property tag, YYYY its type: 001F UTF-16LE, 001E 8-bit
 * string, 0102 binary, 000D a storage); attachments are storages
 * "__attach_version1.0_#NNNNNNNN" with the same layout.
 *
 * What is read: subject, sender name and SMTP address, display To, the transport
 * message headers (the original Internet header block: it goes through
 * sample_email(), the same header analysis an .eml gets, so the Received chain,
 * verdicts and sender mismatches come from one parser), the plain and HTML bodies
 * (scanned for URLs) and every attachment: its bytes become an object through
 * sample_blob() like an .eml attachment, an embedded message (attachment data of
 * type 000D) is walked as a message of its own. The compressed RTF body (1009) is
 * not decoded: a message that has nothing else says so in a finding.
 *
 * Bounds: a property or attachment stream is read only up to max_object bytes;
 * attachment bytes count against max_unpacked and attachments against max_entries
 * like archive members (streams of a compound file may share sectors, so their sum
 * can exceed the file); embedded messages against max_msg_depth. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gsf/gsf-infile-msole.h>
#include <gsf/gsf-infile.h>
#include <gsf/gsf-input-memory.h>
#include <gsf/gsf-utils.h>

#include "ioc/sample_impl.h"
#include "common/banned.h"

static pthread_once_t gsf_once = PTHREAD_ONCE_INIT;

/* libgsf's OLE2 reader logs every oddity of a hostile file (bad FAT entries, failed
 * assertions on sizes) on stderr: a submitted sample would write into the server's
 * log. The reasons that matter reach the report as findings, so its domain is quiet. */
static void gsf_quiet(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer u)
{
    (void)domain, (void)level, (void)msg, (void)u;
}

static void gsf_init_once(void)
{
    gsf_init();
    g_log_set_handler("libgsf:msole",
                      G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE |
                          G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG,
                      gsf_quiet, NULL);
}

#define PT_STRING8  0x001Eu
#define PT_UNICODE  0x001Fu
#define PT_BINARY   0x0102u
#define PT_OBJECT   0x000Du

/* The properties of one message this file reads (arena strings, NULL if absent). */
struct msg_props {
    const char *subject, *sender_name, *sender_smtp, *display_to, *headers;
    const char *body, *html;
    size_t body_len, html_len, headers_len;
    bool rtf;
};

/* "__substg1.0_TTTTYYYY" -> tag and type. */
static bool prop_name(const char *name, const char *prefix, unsigned *tag, unsigned *type)
{
    size_t pl = strlen(prefix);
    if (!name || strncasecmp(name, prefix, pl) != 0 || strlen(name) != pl + 8)
        return false;
    unsigned v = 0;
    for (size_t i = pl; i < pl + 8; i++) {
        char ch = name[i];
        unsigned d = ch >= '0' && ch <= '9'   ? (unsigned)(ch - '0')
                     : ch >= 'a' && ch <= 'f' ? (unsigned)(ch - 'a' + 10)
                     : ch >= 'A' && ch <= 'F' ? (unsigned)(ch - 'A' + 10)
                                              : 16u;
        if (d == 16)
            return false;
        v = v << 4 | d;
    }
    *tag = v >> 16;
    *type = v & 0xffffu;
    return true;
}

/* The whole stream into a heap buffer (two NUL bytes after it), or NULL with the
 * reason in why. */
static unsigned char *read_stream(GsfInput *in, size_t cap, size_t *len, const char **why)
{
    gsf_off_t size = gsf_input_size(in);
    if (size < 0) {
        *why = "unreadable stream";
        return NULL;
    }
    if ((uint64_t)size > cap) {
        *why = "stream larger than the object limit";
        return NULL;
    }
    unsigned char *b = malloc((size_t)size + 2);
    if (!b) {
        *why = "out of memory";
        return NULL;
    }
    if (size > 0 && !gsf_input_read(in, (size_t)size, b)) {
        free(b);
        *why = "truncated stream";
        return NULL;
    }
    b[size] = b[size + 1] = 0;
    *len = (size_t)size;
    return b;
}

/* UTF-16LE (up to a NUL) to UTF-8; unpaired surrogates become U+FFFD. */
static char *utf16_text(struct sample_ctx *c, const unsigned char *d, size_t n, size_t *out_len)
{
    struct cw_buf b = CW_BUF_INIT;
    for (size_t i = 0; i + 1 < n; i += 2) {
        uint32_t u = (uint32_t)d[i] | (uint32_t)d[i + 1] << 8;
        if (u == 0)
            break;
        if (u >= 0xD800 && u < 0xDC00 && i + 3 < n) {
            uint32_t lo = (uint32_t)d[i + 2] | (uint32_t)d[i + 3] << 8;
            if (lo >= 0xDC00 && lo < 0xE000) {
                u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                i += 2;
            } else {
                u = 0xFFFD;
            }
        } else if (u >= 0xD800 && u < 0xE000) {
            u = 0xFFFD;
        }
        char e[4];
        size_t k;
        if (u < 0x80)
            e[0] = (char)u, k = 1;
        else if (u < 0x800)
            e[0] = (char)(0xC0 | u >> 6), e[1] = (char)(0x80 | (u & 63)), k = 2;
        else if (u < 0x10000)
            e[0] = (char)(0xE0 | u >> 12), e[1] = (char)(0x80 | (u >> 6 & 63)),
            e[2] = (char)(0x80 | (u & 63)), k = 3;
        else
            e[0] = (char)(0xF0 | u >> 18), e[1] = (char)(0x80 | (u >> 12 & 63)),
            e[2] = (char)(0x80 | (u >> 6 & 63)), e[3] = (char)(0x80 | (u & 63)), k = 4;
        cw_buf_add(&b, e, k);
    }
    char *s = NULL;
    if (!cw_buf_ok(&b))
        c->oom = true;
    else
        s = sample_strndup(c, b.data ? b.data : "", b.len);
    *out_len = s ? b.len : 0;
    cw_buf_release(&b);
    return s;
}

/* An 8-bit string or binary text (code page not known here): up to a NUL, invalid
 * UTF-8 replaced so the rest of the analyser sees valid text. */
static char *bytes_text(struct sample_ctx *c, const unsigned char *d, size_t n, size_t *out_len)
{
    const unsigned char *z = memchr(d, 0, n);
    if (z)
        n = (size_t)(z - d);
    gchar *v = g_utf8_make_valid((const gchar *)d, (gssize)n);
    char *s = v ? sample_strdup(c, v) : NULL;
    *out_len = s ? strlen(s) : 0;
    g_free(v);
    return s;
}

/* A string property (001F, 001E, or 0102 read as text) of stream in. */
static char *prop_text(struct sample_ctx *c, GsfInput *in, unsigned type, size_t *out_len,
                       const char *path)
{
    size_t n = 0, dummy;
    const char *why = NULL;
    unsigned char *d = read_stream(in, c->o->limits.max_object, &n, &why);
    if (!out_len)
        out_len = &dummy;
    *out_len = 0;
    if (!d) {
        sample_finding(c, "msg", path, "property %s: %s, not read", gsf_input_name(in), why);
        return NULL;
    }
    char *s = type == PT_UNICODE ? utf16_text(c, d, n, out_len) : bytes_text(c, d, n, out_len);
    free(d);
    return s;
}

/* libgsf refused to open a stream or storage (its sectors do not add up): the
 * compound file is corrupt there. */
static void unreadable(struct sample_ctx *c, const char *path, const char *name)
{
    sample_finding(c, "msg", path, "%.60s: corrupt compound file (its sectors do not match its "
                   "size), not read", name ? name : "?");
}

/* Where property tag/type goes in p, or NULL when it is not read (or already read):
 * decided before the stream is opened, since libgsf loads a small stream whole. */
static const char **prop_slot(unsigned tag, unsigned type, struct msg_props *p, size_t **dlen)
{
    bool text = type == PT_UNICODE || type == PT_STRING8;
    const char **dst = NULL;
    *dlen = NULL;
    switch (tag) {
    case 0x0037: dst = &p->subject; break;
    case 0x0C1A: dst = &p->sender_name; break;
    /* 5D01 is the SMTP address; 0C1F and 0065 (PidTagSentRepresentingEmailAddress)
     * may hold an Exchange DN instead, read_prop keeps them only with an '@' */
    case 0x5D01:
    case 0x0C1F:
    case 0x0065: dst = &p->sender_smtp; break;
    case 0x0E04: dst = &p->display_to; break;
    case 0x007D: dst = &p->headers, *dlen = &p->headers_len; break;
    case 0x1000: dst = &p->body, *dlen = &p->body_len; break;
    case 0x1013: dst = &p->html, *dlen = &p->html_len, text = text || type == PT_BINARY; break;
    case 0x1009: p->rtf = true; return NULL;
    default: return NULL;
    }
    return text && !*dst ? dst : NULL;
}

static void read_prop(struct sample_ctx *c, GsfInfile *st, int i, unsigned tag, unsigned type,
                      struct msg_props *p, const char *path)
{
    size_t *dlen;
    const char **dst = prop_slot(tag, type, p, &dlen);
    if (!dst)
        return;
    GsfInput *in = gsf_infile_child_by_index(st, i);
    if (!in) {
        unreadable(c, path, gsf_infile_name_by_index(st, i));
        return;
    }
    char *s = NULL;
    if (!GSF_IS_INFILE(in) || gsf_infile_num_children(GSF_INFILE(in)) < 0)
        s = prop_text(c, in, type, dlen, path);
    g_object_unref(in);
    if (s && ((tag != 0x0C1F && tag != 0x0065) || strchr(s, '@')))
        *dst = s;
}

static void msg_storage(struct sample_ctx *c, GsfInfile *st, const struct sample_at *at);

/* libgsf finds a child by index walking its list of children from the start, so a
 * walk over n children costs n*n/2 steps: a storage is read up to MAX_CHILDREN
 * entries (an Outlook message has a few hundred), which bounds a hostile directory
 * of a 32 MiB file (up to 262,144 entries) to well under a second. */
#define MAX_CHILDREN 1024

static int children(struct sample_ctx *c, GsfInfile *st, const char *path)
{
    int n = gsf_infile_num_children(st);
    if (n > MAX_CHILDREN) {
        sample_finding(c, "limit", path, "storage with %d entries: only the first %d read", n,
                       MAX_CHILDREN);
        n = MAX_CHILDREN;
    }
    return n;
}

/* One "__attach_version1.0_#" storage. */
static void attachment(struct sample_ctx *c, GsfInfile *st, const struct sample_at *at,
                       size_t email, unsigned n)
{
    const struct cw_sample_limits *l = &c->o->limits;
    if (c->r->n_entries_seen >= l->max_entries) {
        if (!c->entries_full)
            sample_finding(c, "limit", at->path,
                           "more than %zu archive members and attachments: the rest of the "
                           "message's attachments not analysed",
                           l->max_entries);
        c->entries_full = true;
        return;
    }
    c->r->n_entries_seen++;
    const char *long_name = NULL, *short_name = NULL, *mime = NULL;
    GsfInput *data = NULL;
    GsfInfile *inner = NULL;
    int kids = children(c, st, at->path);
    for (int i = 0; i < kids && !c->oom; i++) {
        unsigned tag, type;
        if (!prop_name(gsf_infile_name_by_index(st, i), "__substg1.0_", &tag, &type))
            continue;
        if (tag != 0x3701 && tag != 0x3707 && tag != 0x3704 && tag != 0x370E)
            continue;
        GsfInput *in = gsf_infile_child_by_index(st, i);
        if (!in) {
            unreadable(c, at->path, gsf_infile_name_by_index(st, i));
            continue;
        }
        bool keep = false;
        if (tag == 0x3701 && type == PT_BINARY && !data && !inner) {
            data = in, keep = true;
        } else if (tag == 0x3701 && type == PT_OBJECT && !data && !inner && GSF_IS_INFILE(in) &&
                   gsf_infile_num_children(GSF_INFILE(in)) >= 0) {
            inner = GSF_INFILE(in), keep = true;
        } else if (type == PT_UNICODE || type == PT_STRING8) {
            const char **dst = tag == 0x3707 ? &long_name : tag == 0x3704 ? &short_name
                               : tag == 0x370E ? &mime : NULL;
            if (dst && !*dst)
                *dst = prop_text(c, in, type, NULL, at->path);
        }
        if (!keep)
            g_object_unref(in);
    }
    const char *name = long_name && *long_name ? long_name
                       : short_name && *short_name ? short_name : NULL;
    char fallback[48];
    snprintf(fallback, sizeof(fallback), "attachment-%u%s", n, inner ? ".msg" : "");
    struct sample_at sub = *at;
    sub.path = sample_path_join(c, at->path, name ? name : fallback);
    if (sub.path && (data || inner))
        c->r->emails[email].n_attachments++;
    if (!sub.path) {
        /* out of memory: recorded by the arena */
    } else if (inner) {
        sub.msg_depth++;
        msg_storage(c, inner, &sub);
    } else if (data) {
        size_t len = 0;
        const char *why = NULL;
        gsf_off_t size = gsf_input_size(data);
        if (size >= 0 && c->r->unpacked_total + (uint64_t)size > l->max_unpacked) {
            if (!c->unpacked_full)
                sample_finding(c, "limit", sub.path,
                               "more than %zu bytes of attachments and archive members: the "
                               "rest of the message's attachments not analysed",
                               l->max_unpacked);
            c->unpacked_full = true;
        } else {
            unsigned char *d = read_stream(data, l->max_object, &len, &why);
            if (!d) {
                sample_finding(c, "msg", sub.path, "attachment data: %s (limit %zu bytes), "
                               "not analysed", why, l->max_object);
            } else {
                c->r->unpacked_total += len;
                sample_blob(c, d, len, &sub, name, "attachment", mime);
                free(d);
            }
        }
    } else {
        sample_finding(c, "msg", sub.path, "attachment without data (no readable 3701 "
                       "stream): not analysed");
    }
    if (data)
        g_object_unref(data);
    if (inner)
        g_object_unref(inner);
}

/* The mismatch check .eml headers get, for the one identity only a .msg has: the
 * sender address property against the From of the original headers. */
static void sender_check(struct sample_ctx *c, const struct sample_at *at, const char *from_hdr,
                         const char *smtp)
{
    if (!from_hdr || !smtp)
        return;
    const char *a = strrchr(smtp, '@');
    if (!a || strcasestr(from_hdr, smtp))
        return;
    sample_finding(c, "mismatch", at->path,
                   "From %.200s differs from the .msg sender address property %.200s", from_hdr,
                   smtp);
}

/* The transport headers as a header block that ends there: Content-* fields go, they
 * describe a MIME body the .msg keeps in other properties (a multipart type over an
 * empty body would only raise MIME warnings); field names are the first token of a
 * line, continuation lines (leading space or tab) go with their field. */
static void header_block(struct cw_buf *b, const char *h, size_t n)
{
    bool drop = false;
    size_t i = 0;
    while (i < n) {
        const char *nl = memchr(h + i, '\n', n - i);
        size_t e = nl ? (size_t)(nl - h) + 1 : n;
        if (e - i <= 2 && (h[i] == '\r' || h[i] == '\n'))
            break; /* the empty line ending the block */
        if (h[i] != ' ' && h[i] != '\t')
            drop = e - i > 8 && !strncasecmp(h + i, "Content-", 8);
        if (!drop)
            cw_buf_add(b, h + i, e - i);
        if (!nl)
            cw_buf_add(b, "\r\n", 2);
        i = e;
    }
    cw_buf_add(b, "\r\n", 2);
}

/* The message's e-mail entry: from the transport headers through the .eml header
 * analysis when there are any, else a new one; returns its index or SIZE_MAX. */
static size_t msg_email(struct sample_ctx *c, const struct sample_at *at, struct msg_props *p)
{
    size_t before = c->r->n_emails;
    if (p->headers && p->headers_len) {
        /* the header block alone: an empty line ends it, no body follows */
        struct cw_buf b = CW_BUF_INIT;
        header_block(&b, p->headers, p->headers_len);
        if (!cw_buf_ok(&b))
            c->oom = true;
        else
            sample_email(c, b.data, b.len, at);
        cw_buf_release(&b);
    }
    if (c->r->n_emails == before) {
        struct cw_sample_email *e = sample_email_new(c);
        if (!e)
            return SIZE_MAX;
        e->path = at->path;
    }
    size_t idx = c->r->n_emails - 1;
    struct cw_sample_email *e = &c->r->emails[idx];
    /* the header block's empty body is no part of the message */
    e->n_parts = e->n_text = e->n_html = 0;
    e->text_bytes = e->html_bytes = 0;
    sender_check(c, at, e->from, p->sender_smtp);
    if (!e->subject && p->subject)
        e->subject = p->subject;
    if (!e->to && p->display_to && *p->display_to)
        e->to = p->display_to;
    if (!e->from && (p->sender_name || p->sender_smtp)) {
        if (p->sender_name && p->sender_smtp)
            e->from = sample_printf(c, "%s <%s>", p->sender_name, p->sender_smtp);
        else
            e->from = p->sender_name ? p->sender_name : p->sender_smtp;
    }
    if (p->sender_smtp && strchr(p->sender_smtp, '@'))
        sample_candidate(c, CW_IOC_EMAIL, p->sender_smtp, strlen(p->sender_smtp), "From",
                         "sender address of the .msg", 0);
    return idx;
}

static void msg_bodies(struct sample_ctx *c, const struct sample_at *at, size_t email,
                       const struct msg_props *p)
{
    struct cw_sample_email *e = &c->r->emails[email];
    const char *sep = *at->path ? " " : "";
    if (p->body) {
        e->n_parts++, e->n_text++, e->text_bytes = p->body_len;
        sample_scan_text(c, p->body, p->body_len, false,
                         sample_printf(c, "%s%stext/plain body", at->path, sep));
    }
    e = &c->r->emails[email];
    if (p->html) {
        e->n_parts++, e->n_html++, e->html_bytes = p->html_len;
        sample_scan_text(c, p->html, p->html_len, true,
                         sample_printf(c, "%s%stext/html body", at->path, sep));
    }
    if (p->rtf && !p->body && !p->html)
        sample_finding(c, "msg", at->path,
                       "only a compressed RTF body (PR_RTF_COMPRESSED): not decoded, its URLs "
                       "not scanned");
}

static void msg_storage(struct sample_ctx *c, GsfInfile *st, const struct sample_at *at)
{
    if (at->msg_depth >= c->o->limits.max_msg_depth) {
        sample_finding(c, "limit", at->path, "e-mail nested deeper than %u e-mails: not parsed",
                       c->o->limits.max_msg_depth);
        return;
    }
    struct msg_props p = {0};
    int kids = children(c, st, at->path);
    for (int i = 0; i < kids && !c->oom; i++) {
        unsigned tag, type;
        if (!prop_name(gsf_infile_name_by_index(st, i), "__substg1.0_", &tag, &type))
            continue;
        read_prop(c, st, i, tag, type, &p, at->path);
    }
    size_t email = msg_email(c, at, &p);
    if (email == SIZE_MAX || c->oom)
        return;
    msg_bodies(c, at, email, &p);
    for (int i = 0; i < kids && !c->oom; i++) {
        unsigned hi, lo, num = (unsigned)i;
        const char *name = gsf_infile_name_by_index(st, i);
        if (!name || strncasecmp(name, "__attach_version1.0_#", 21) != 0)
            continue;
        if (prop_name(name, "__attach_version1.0_#", &hi, &lo))
            num = hi << 16 | lo;
        GsfInput *in = gsf_infile_child_by_index(st, i);
        if (!in) {
            unreadable(c, at->path, name);
            continue;
        }
        if (GSF_IS_INFILE(in) && gsf_infile_num_children(GSF_INFILE(in)) >= 0)
            attachment(c, GSF_INFILE(in), at, email, num);
        g_object_unref(in);
    }
}

/* Does this storage hold message properties? */
static bool is_message(GsfInfile *st)
{
    int kids = gsf_infile_num_children(st);
    if (kids > MAX_CHILDREN)
        kids = MAX_CHILDREN;
    for (int i = 0; i < kids; i++) {
        const char *n = gsf_infile_name_by_index(st, i);
        unsigned tag, type;
        if (n && (!strcasecmp(n, "__properties_version1.0") ||
                  prop_name(n, "__substg1.0_", &tag, &type)))
            return true;
    }
    return false;
}

bool sample_msg(struct sample_ctx *c, const void *data, size_t len, const struct sample_at *at,
                bool outlook)
{
    pthread_once(&gsf_once, gsf_init_once);
    GsfInput *in = gsf_input_memory_new(data, (gsf_off_t)len, FALSE);
    if (!in) {
        c->oom = true;
        return true;
    }
    GError *err = NULL;
    GsfInfile *ole = gsf_infile_msole_new(in, &err);
    bool done = false;
    if (!ole) {
        sample_finding(c, "msg", at->path, "%s not readable as an OLE2 compound file (%s): "
                       "only its text runs scanned", outlook ? "Outlook message" : "CDF file",
                       err && err->message ? err->message : "unknown error");
    } else if (is_message(ole)) {
        if (!*at->path)
            c->r->kind = CW_SAMPLE_EMAIL;
        msg_storage(c, ole, at);
        done = true;
    } else if (outlook) {
        sample_finding(c, "msg", at->path, "Outlook message without MS-OXMSG property "
                       "streams: only its text runs scanned");
    }
    if (err)
        g_error_free(err);
    if (ole)
        g_object_unref(ole);
    g_object_unref(in);
    return done;
}
