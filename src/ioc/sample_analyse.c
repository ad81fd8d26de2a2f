/* sample_analyse.c - the entry point and the per-blob step of the sample analyser.
 *
 * Every blob (the input, an attachment, an archive member) becomes an object with
 * size, hashes and libmagic type and is scanned with YARA; then its type decides what
 * else happens: an e-mail is parsed (sample_mime.c), an archive unpacked
 * (sample_archive.c), text and HTML scanned for URLs (sample_urls.c), an Outlook .msg
 * or a PDF scanned for URLs in its printable runs. */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ioc/sample_impl.h"
#include "common/banned.h"

void cw_sample_limits_default(struct cw_sample_limits *l)
{
    l->max_input = 32u << 20;
    l->max_parts = 1000;
    l->max_header_bytes = 256u << 10;
    l->max_mime_depth = 64;
    l->max_depth = 4;
    l->max_msg_depth = 8;
    l->max_unpacked = 64u << 20;
    l->max_object = 32u << 20;
    l->max_ratio = 100;
    l->max_entries = 2000;
    l->max_urls = 1000;
    l->max_objects = 2000;
}

/* ---- libmagic: one handle per thread (magic_t is not thread-safe, and loading the
 * database costs milliseconds, too much per call); closed when the thread ends ---- */

static pthread_key_t magic_key;
static pthread_once_t magic_once = PTHREAD_ONCE_INIT;
static __thread magic_t tls_magic;

static void magic_close_cb(void *m) { magic_close(m); }
static void magic_key_init(void) { (void)pthread_key_create(&magic_key, magic_close_cb); }

static magic_t thread_magic(char *err, size_t errlen)
{
    if (tls_magic)
        return tls_magic;
    pthread_once(&magic_once, magic_key_init);
    magic_t m = magic_open(MAGIC_NONE | MAGIC_NO_CHECK_COMPRESS | MAGIC_ERROR);
    if (!m) {
        snprintf(err, errlen, "libmagic: cannot open");
        return NULL;
    }
    if (magic_load(m, NULL) != 0) {
        snprintf(err, errlen, "libmagic: cannot load the database: %s", magic_error(m));
        magic_close(m);
        return NULL;
    }
    tls_magic = m;
    (void)pthread_setspecific(magic_key, m);
    return m;
}

static const char *magic_get(struct sample_ctx *c, const void *data, size_t len, int flags)
{
    if (magic_setflags(c->magic, flags | MAGIC_NO_CHECK_COMPRESS | MAGIC_ERROR) != 0)
        return NULL;
    const char *s = magic_buffer(c->magic, data, len);
    return s ? sample_strdup(c, s) : NULL;
}

/* ---- hashes ---- */

static void hex(const unsigned char *d, unsigned n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = '\0';
}

static void digest(const EVP_MD *md, const void *data, size_t len, char *out)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (EVP_Digest(data, len, d, &n, md, NULL) != 1)
        n = 0;
    hex(d, n, out);
}

/* ---- e-mail detection ---- */

static size_t skip_bom_from(const char *p, size_t len)
{
    size_t i = 0;
    if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
        i = 3;
    return i;
}

static bool is_field_char(unsigned char ch) { return ch > 32 && ch < 127 && ch != ':'; }

bool sample_looks_like_email(const void *data, size_t len)
{
    const char *p = data;
    size_t i = skip_bom_from(p, len);
    if (len - i > 5 && !memcmp(p + i, "From ", 5)) { /* mbox separator line */
        const char *nl = memchr(p + i, '\n', len - i);
        if (!nl)
            return false;
        i = (size_t)(nl - p) + 1;
    }
    /* the first line must be a header field, and the block must name at least one
     * field that every mailer writes; scan at most 64 KiB of it */
    static const char *known[] = {"from", "to", "subject", "date", "received", "message-id",
                                  "return-path", "mime-version", "delivered-to", "reply-to",
                                  "sender", "content-type", "x-mailer", "cc"};
    size_t end = len < i + 65536 ? len : i + 65536;
    bool first = true, found = false;
    while (i < end) {
        size_t n = 0;
        while (i + n < end && is_field_char((unsigned char)p[i + n]))
            n++;
        size_t k = i + n;
        while (k < end && (p[k] == ' ' || p[k] == '\t'))
            k++;
        bool field = n > 0 && k < end && p[k] == ':';
        if (first && !field)
            return false;
        first = false;
        if (field)
            for (size_t j = 0; j < sizeof(known) / sizeof(known[0]); j++)
                if (strlen(known[j]) == n && !strncasecmp(p + i, known[j], n))
                    found = true;
        const char *nl = memchr(p + i, '\n', end - i);
        if (!nl)
            break;
        i = (size_t)(nl - p) + 1;
        if (i < end && (p[i] == '\n' || (p[i] == '\r' && i + 1 < end && p[i + 1] == '\n')))
            break; /* end of the header block */
        while (i < end && (p[i] == ' ' || p[i] == '\t')) { /* folded continuation */
            nl = memchr(p + i, '\n', end - i);
            if (!nl)
                return found;
            i = (size_t)(nl - p) + 1;
        }
    }
    return found;
}

/* ---- printable runs (PDF, Outlook .msg): URLs in ASCII and UTF-16LE text ---- */

static void scan_runs(struct sample_ctx *c, const unsigned char *d, size_t len, const char *where)
{
    struct cw_buf text = CW_BUF_INIT;
    /* ASCII runs of >= 8 printable bytes, and UTF-16LE runs (printable, 0) of >= 8
     * characters, each as a line of text for the URL scanner */
    size_t i = 0;
    while (i < len && !c->urls_full) {
        size_t n = 0;
        while (i + n < len && d[i + n] >= 32 && d[i + n] < 127)
            n++;
        if (n >= 8) {
            cw_buf_add(&text, d + i, n);
            cw_buf_addc(&text, '\n');
        }
        size_t m = 0;
        while (i + 2 * m + 1 < len && d[i + 2 * m] >= 32 && d[i + 2 * m] < 127 &&
               d[i + 2 * m + 1] == 0)
            m++;
        if (m >= 8) {
            for (size_t k = 0; k < m; k++)
                cw_buf_addc(&text, (char)d[i + 2 * k]);
            cw_buf_addc(&text, '\n');
        }
        i += n > 2 * m ? n : 2 * m;
        if (n == 0 && m == 0)
            i++;
        if (text.len > (4u << 20)) {
            sample_scan_text(c, text.data, text.len, false, where);
            cw_buf_clear(&text);
        }
    }
    if (text.len)
        sample_scan_text(c, text.data, text.len, false, where);
    cw_buf_release(&text);
}

/* ---- one blob ---- */

static bool prefix(const char *s, const char *p) { return s && !strncmp(s, p, strlen(p)); }

static void hash_candidates(struct sample_ctx *c, const struct cw_sample_object *o)
{
    const char *where = *o->path ? o->path : (o->name ? o->name : "(input)");
    const char *why = !strcmp(o->role, "input") ? "hash of the submitted file"
                      : !strcmp(o->role, "member") ? "hash of an archive member"
                                                   : "hash of an attachment";
    sample_candidate(c, CW_IOC_SHA256, o->sha256, 64, where, why, 0);
    sample_candidate(c, CW_IOC_SHA1, o->sha1, 40, where, why, 0);
    sample_candidate(c, CW_IOC_MD5, o->md5, 32, where, why, 0);
}

void sample_blob(struct sample_ctx *c, const void *data, size_t len, const struct sample_at *at,
                 const char *name, const char *role, const char *declared_type)
{
    if (c->oom)
        return;
    struct cw_sample_object *o = sample_object_new(c);
    if (!o)
        return;
    o->path = at->path;
    o->name = sample_strdup(c, name);
    o->role = role;
    o->declared_type = sample_strdup(c, declared_type);
    o->size = len;
    o->depth = at->depth;
    digest(EVP_md5(), data, len, o->md5);
    digest(EVP_sha1(), data, len, o->sha1);
    digest(EVP_sha256(), data, len, o->sha256);
    o->magic_type = magic_get(c, data, len, MAGIC_MIME_TYPE);
    o->magic_desc = magic_get(c, data, len, MAGIC_NONE);
    /* o may move when later objects grow the array: keep copies of what we need */
    const char *mt = o->magic_type ? o->magic_type : "application/octet-stream";
    const char *desc = o->magic_desc ? o->magic_desc : "";
    bool email = sample_looks_like_email(data, len);
    /* the submitted object's own hashes wait for cw_sample_analyse(): only the parse
     * below tells whether it is an e-mail (an Outlook .msg is known only then) */
    if (!email && !at->in_doc && strcmp(role, "input"))
        hash_candidates(c, o);
    if (c->o->yara)
        sample_yara_scan(c, data, len, at->path);

    bool raw = false;
    if (email) {
        if (at->msg_depth >= c->o->limits.max_msg_depth) {
            sample_finding(c, "limit", at->path,
                           "e-mail nested deeper than %u e-mails: not parsed",
                           c->o->limits.max_msg_depth);
            return;
        }
        sample_email(c, data, len, at);
    } else if (sample_is_archive_type(mt, &raw)) {
        if (at->depth >= c->o->limits.max_depth) {
            sample_finding(c, "limit", at->path,
                           "archive nesting deeper than %u at %s: not unpacked",
                           c->o->limits.max_depth, *at->path ? at->path : "(input)");
            return;
        }
        sample_archive(c, data, len, at, raw);
    } else if (prefix(mt, "text/")) {
        sample_scan_text(c, data, len, !strcmp(mt, "text/html") || !strcmp(mt, "text/xml"),
                         *at->path ? at->path : "(input)");
    } else if (!strcmp(mt, "application/pdf") || !strcmp(mt, "application/vnd.ms-outlook") ||
               prefix(mt, "application/CDFV2") || prefix(desc, "CDFV2") ||
               !strcmp(mt, "application/x-ole-storage")) {
        /* an Outlook .msg is parsed (sample_msg.c); a PDF, another compound file or
         * one libgsf cannot read (libmagic calls a truncated one x-ole-storage) gets
         * its printable runs scanned */
        size_t nl = name ? strlen(name) : 0;
        bool outlook = !strcmp(mt, "application/vnd.ms-outlook") || strstr(desc, "Outlook") ||
                       (nl > 4 && !strcasecmp(name + nl - 4, ".msg")) ||
                       (declared_type && !strcasecmp(declared_type, "application/vnd.ms-outlook"));
        if (!strcmp(mt, "application/pdf") || !sample_msg(c, data, len, at, outlook))
            scan_runs(c, data, len, *at->path ? at->path : "(input)");
    }
}

int cw_sample_analyse(const void *data, size_t len, const char *name_hint,
                      const struct cw_sample_opts *o, struct cw_sample_report *r, char *err,
                      size_t errlen)
{
    memset(r, 0, sizeof(*r));
    cw_arena_init(&r->arena, 64u << 10, 0);
    struct sample_ctx c = {.r = r, .o = o};
    c.magic = thread_magic(err, errlen);
    if (!c.magic)
        return -1;
    r->name = sample_strdup(&c, name_hint ? name_hint : "");
    r->size = len;
    r->kind = sample_looks_like_email(data, len) ? CW_SAMPLE_EMAIL : CW_SAMPLE_FILE;
    struct sample_at at = {.path = "", .depth = 0, .msg_depth = 0};
    if (len > o->limits.max_input) {
        /* hashed and typed, nothing more: the bytes are not parsed */
        struct cw_sample_object *ob = sample_object_new(&c);
        if (ob) {
            ob->path = "";
            ob->name = r->name;
            ob->role = "input";
            ob->size = len;
            digest(EVP_md5(), data, len, ob->md5);
            digest(EVP_sha1(), data, len, ob->sha1);
            digest(EVP_sha256(), data, len, ob->sha256);
            ob->magic_type = magic_get(&c, data, len, MAGIC_MIME_TYPE);
            ob->magic_desc = magic_get(&c, data, len, MAGIC_NONE);
        }
        sample_finding(&c, "limit", "", "input of %zu bytes is larger than %zu: hashed only", len,
                       o->limits.max_input);
    } else {
        sample_blob(&c, data, len, &at, name_hint, "input", NULL);
        /* one rule whatever the container (.eml or .msg): a submitted e-mail is no
         * hash indicator, its hash differs per recipient; objects[0] is the input */
        if (!c.oom && r->kind != CW_SAMPLE_EMAIL && r->n_objects > 0)
            hash_candidates(&c, &r->objects[0]);
    }
    if (c.oom) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}
