/* test_sample_msg.c - Outlook .msg samples (src/ioc/sample_msg.c). There is no real
 * .msg in ../shared/data/eml, so the messages are written here with libgsf's OLE2
 * writer (gsf_outfile_msole_new) from known parts, laid out as MS-OXMSG describes:
 * property streams "__substg1.0_TTTTYYYY" and attachment storages
 * "__attach_version1.0_#NNNNNNNN", an embedded message as a 3701000D storage.
 *
 * Where the expected values come from: the parts written here (subject, addresses,
 * URLs), hashes computed here with OpenSSL over the bytes put into the message, and
 * for the header analysis the analyser's own report of the same header block sent as
 * an .eml: a .msg must give the same hops, verdicts and mismatches as its .eml.
 * The three real .msg files of ../shared/data/eml/pymisp were read with Python's
 * olefile 0.46 (Debian python3-olefile: listdir(), openstream().read(), UTF-16LE
 * decoding) and hashlib.sha256 for the expected subjects, names, hashes and headers.
 *
 * CW_MSG_SEEDS_OUT=<dir> writes the generated files there (fuzz/corpus/msg). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>
#include <gsf/gsf-outfile-msole.h>
#include <gsf/gsf-outfile.h>
#include <gsf/gsf-output-memory.h>
#include <gsf/gsf-utils.h>
#include <openssl/evp.h>

#include "common/buf.h"
#include "ioc/sample.h"
#include "testlib.h"
#include "common/banned.h"

/* ---- building .msg files ---- */

struct tattach {
    const char *name, *mime;      /* 3707, 370E (NULL: not written) */
    const void *data;             /* 3701 binary */
    size_t len;
    const struct tmsg *msg;       /* or an embedded message (3701000D) */
};

struct tmsg {
    const char *subject, *sender_name, *sender_smtp, *sender_dn, *display_to;
    const char *headers;          /* 007D */
    const char *body;             /* 1000 */
    const char *html;             /* 1013 (binary) */
    bool rtf;                     /* a 1009 stream */
    unsigned n_junk;              /* that many other property streams (8000 + i) */
    const struct tattach *att;
    size_t n_att;
};

static void put(GsfOutfile *dir, const char *name, const void *d, size_t n)
{
    GsfOutput *o = gsf_outfile_new_child(dir, name, FALSE);
    CHECK(o != NULL);
    if (!o)
        return;
    if (n)
        CHECK(gsf_output_write(o, n, d));
    gsf_output_close(o);
    g_object_unref(o);
}

static void put_prop(GsfOutfile *dir, unsigned tag, unsigned type, const void *d, size_t n)
{
    char name[32];
    snprintf(name, sizeof(name), "__substg1.0_%04X%04X", tag, type);
    put(dir, name, d, n);
}

/* a UTF-16LE string property (001F), NUL-terminated like Outlook writes them */
static void put_unicode(GsfOutfile *dir, unsigned tag, const char *utf8)
{
    if (!utf8)
        return;
    glong n = 0;
    gunichar2 *w = g_utf8_to_utf16(utf8, -1, NULL, &n, NULL);
    CHECK(w != NULL);
    unsigned char *b = malloc(2 * (size_t)n + 2);
    for (glong i = 0; i <= n; i++) {
        b[2 * i] = (unsigned char)(w[i] & 0xff);
        b[2 * i + 1] = (unsigned char)(w[i] >> 8);
    }
    put_prop(dir, tag, 0x001F, b, 2 * (size_t)n + 2);
    free(b);
    g_free(w);
}

static void write_msg(GsfOutfile *dir, const struct tmsg *m);

static void write_attach(GsfOutfile *dir, unsigned i, const struct tattach *a)
{
    char name[40];
    snprintf(name, sizeof(name), "__attach_version1.0_#%08X", i);
    GsfOutfile *at = GSF_OUTFILE(gsf_outfile_new_child(dir, name, TRUE));
    put(at, "__properties_version1.0", "\0\0\0\0\0\0\0\0", 8);
    put_unicode(at, 0x3707, a->name);
    put_unicode(at, 0x370E, a->mime);
    if (a->msg) {
        GsfOutfile *inner = GSF_OUTFILE(gsf_outfile_new_child(at, "__substg1.0_3701000D", TRUE));
        write_msg(inner, a->msg);
        gsf_output_close(GSF_OUTPUT(inner));
        g_object_unref(inner);
    } else {
        put_prop(at, 0x3701, 0x0102, a->data, a->len);
    }
    gsf_output_close(GSF_OUTPUT(at));
    g_object_unref(at);
}

static void write_msg(GsfOutfile *dir, const struct tmsg *m)
{
    put(dir, "__properties_version1.0", "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
    put_unicode(dir, 0x0037, m->subject);
    put_unicode(dir, 0x0C1A, m->sender_name);
    put_unicode(dir, 0x5D01, m->sender_smtp);
    put_unicode(dir, 0x0C1F, m->sender_dn);
    put_unicode(dir, 0x0E04, m->display_to);
    put_unicode(dir, 0x007D, m->headers);
    put_unicode(dir, 0x1000, m->body);
    if (m->html)
        put_prop(dir, 0x1013, 0x0102, m->html, strlen(m->html));
    /* a compressed RTF header (MS-OXRTFCP: sizes, "LZFu", CRC) and a little data */
    static const char rtf[] = "\x2d\0\0\0\x2b\0\0\0LZFu\xf1\xc5\xc7\xa7\x03\0\x0a\0rcpg125B2";
    if (m->rtf)
        put_prop(dir, 0x1009, 0x0102, rtf, sizeof(rtf) - 1);
    for (size_t i = 0; i < m->n_att; i++)
        write_attach(dir, (unsigned)i, &m->att[i]);
    for (unsigned i = 0; i < m->n_junk; i++)
        put_prop(dir, 0x8000 + i, 0x0102, "x", 1);
}

/* The whole .msg file (malloc'd). */
static unsigned char *msg_file(const struct tmsg *m, size_t *len)
{
    GsfOutput *sink = gsf_output_memory_new();
    GsfOutfile *ole = gsf_outfile_msole_new(sink);
    write_msg(ole, m);
    gsf_output_close(GSF_OUTPUT(ole));
    g_object_unref(ole); /* closing the compound file closed the sink */
    *len = (size_t)gsf_output_size(sink);
    unsigned char *d = malloc(*len ? *len : 1);
    memcpy(d, gsf_output_memory_get_bytes(GSF_OUTPUT_MEMORY(sink)), *len);
    g_object_unref(sink);
    return d;
}

static void seed(const char *name, const void *d, size_t n)
{
    const char *dir = getenv("CW_MSG_SEEDS_OUT");
    if (!dir)
        return;
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(d, 1, n, f);
        fclose(f);
    }
}

/* ---- helpers ---- */

static void sha256_hex(const void *d, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned k = 0;
    EVP_Digest(d, n, md, &k, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static unsigned char *zip_one(const char *name, const void *d, size_t n, size_t *len)
{
    size_t cap = n + 4096;
    unsigned char *buf = malloc(cap);
    struct archive *a = archive_write_new();
    archive_write_set_format_zip(a);
    archive_write_open_memory(a, buf, cap, len);
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)n);
    archive_write_header(a, e);
    archive_write_data(a, d, n);
    archive_entry_free(e);
    archive_write_close(a);
    archive_write_free(a);
    return buf;
}

static int analyse(const void *d, size_t n, const struct cw_sample_opts *o,
                   struct cw_sample_report *r)
{
    char err[256];
    int rc = cw_sample_analyse(d, n, "t.msg", o, r, err, sizeof(err));
    if (rc)
        fprintf(stderr, "analyse: %s\n", err);
    struct cw_buf b = CW_BUF_INIT; /* the report always serialises */
    cw_sample_report_json(r, &b);
    cw_sample_report_text(r, &b);
    CHECK(cw_buf_ok(&b) && b.len > 0);
    cw_buf_release(&b);
    return rc;
}

static const struct cw_sample_object *object(const struct cw_sample_report *r, const char *path)
{
    for (size_t i = 0; i < r->n_objects; i++)
        if (!strcmp(r->objects[i].path, path))
            return &r->objects[i];
    return NULL;
}

static const struct cw_sample_email *email_at(const struct cw_sample_report *r, const char *path)
{
    for (size_t i = 0; i < r->n_emails; i++)
        if (!strcmp(r->emails[i].path, path))
            return &r->emails[i];
    return NULL;
}

static size_t count_findings(const struct cw_sample_report *r, const char *kind, const char *text)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_findings; i++)
        if (!strcmp(r->findings[i].kind, kind) && strstr(r->findings[i].text, text))
            n++;
    return n;
}

static bool same(const char *a, const char *b) { return (!a && !b) || (a && b && !strcmp(a, b)); }

/* ---- the phishing message ---- */

static const char headers[] =
    "Received: from mail.attacker.example (mail.attacker.example [185.220.101.7])\r\n"
    "\tby mx.member.example (Postfix) with ESMTPS id 4AbC\r\n"
    "\tfor <victim@member.example>; Tue, 3 Mar 2026 10:00:00 +0100\r\n"
    "Received: from laptop ([45.155.205.23])\r\n"
    "\tby mail.attacker.example with ESMTPA; Tue, 3 Mar 2026 09:59:58 +0100\r\n"
    "Authentication-Results: mx.member.example; spf=fail smtp.mailfrom=attacker.example;\r\n"
    " dkim=none; dmarc=fail header.from=bank.example\r\n"
    "From: \"Bank Support\" <support@bank.example>\r\n"
    "Reply-To: collect@attacker.example\r\n"
    "To: victim@member.example\r\n"
    "Subject: Your account is locked\r\n"
    "Message-ID: <m1@attacker.example>\r\n"
    "Date: Tue, 3 Mar 2026 09:59:57 +0100\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/alternative; boundary=\"b1\"\r\n"
    "\r\n";
static const char body[] = "Please log in at hxxps://login-bank[.]example/verify today.\r\n";
static const char html[] =
    "<html><body><p>Dear customer,</p><a href=\"https://phish.example/a?x=1\">log in</a>"
    "</body></html>";
static const unsigned char exe[] = "MZ\x90\0\3\0\0\0this is the dropper of test_sample_msg";

static const struct tmsg nested = {
    .subject = "Rechnung f\xc3\xbcr M\xc3\xa4rz \xe2\x9c\x93",
    .sender_name = "Accounts",
    .sender_smtp = "accounts@vendor.example",
    .body = "The invoice is at https://nested.example/payload.php\r\n",
};

static void test_phish(void)
{
    char exe_sha[65], zip_sha[65];
    size_t zlen = 0;
    unsigned char *zip = zip_one("invoice.exe", exe, sizeof(exe) - 1, &zlen);
    sha256_hex(exe, sizeof(exe) - 1, exe_sha);
    sha256_hex(zip, zlen, zip_sha);
    struct tattach att[] = {
        {.name = "invoice.zip", .mime = "application/zip", .data = zip, .len = zlen},
        {.name = "forwarded.msg", .msg = &nested},
    };
    struct tmsg m = {.subject = "Your account is locked",
                     .sender_name = "Bank Support",
                     .sender_smtp = "support@bank.example",
                     .display_to = "Victim",
                     .headers = headers,
                     .body = body,
                     .html = html,
                     .rtf = true,
                     .att = att,
                     .n_att = 2};
    size_t n;
    unsigned char *d = msg_file(&m, &n);
    seed("phish.msg", d, n);

    struct cw_sample_opts o = {0};
    cw_sample_limits_default(&o.limits);
    struct cw_sample_report r;
    CHECK_EQ_INT(analyse(d, n, &o, &r), 0);
    CHECK_EQ_INT(r.kind, CW_SAMPLE_EMAIL);
    CHECK(r.n_objects >= 1 && !strcmp(r.objects[0].magic_type, "application/vnd.ms-outlook"));
    CHECK_EQ_INT(r.n_emails, 2);
    const struct cw_sample_email *e = email_at(&r, "");
    CHECK(e != NULL);

    /* the same header block as an .eml: the analysis must agree */
    struct cw_buf eml = CW_BUF_INIT;
    cw_buf_add(&eml, headers, strlen(headers));
    cw_buf_add(&eml, "--b1\r\nContent-Type: text/plain\r\n\r\n", 35);
    cw_buf_add(&eml, body, strlen(body));
    cw_buf_add(&eml, "--b1--\r\n", 8);
    struct cw_sample_report er;
    CHECK_EQ_INT(analyse(eml.data, eml.len, &o, &er), 0);
    CHECK_EQ_INT(er.n_emails, 1);
    if (e && er.n_emails == 1) {
        const struct cw_sample_email *x = &er.emails[0];
        CHECK_EQ_STR(e->subject, "Your account is locked");
        CHECK_EQ_STR(e->subject, x->subject);
        CHECK_EQ_STR(e->from, x->from);
        CHECK_EQ_STR(e->message_id, "<m1@attacker.example>");
        CHECK_EQ_INT(e->n_hops, 2);
        CHECK_EQ_INT(e->n_hops, x->n_hops);
        for (size_t i = 0; i < e->n_hops && i < x->n_hops; i++) {
            CHECK(same(e->hops[i].from, x->hops[i].from));
            CHECK(same(e->hops[i].by, x->hops[i].by));
            CHECK(same(e->hops[i].ip, x->hops[i].ip));
            CHECK(same(e->hops[i].for_addr, x->hops[i].for_addr));
            CHECK(same(e->hops[i].date, x->hops[i].date));
        }
        if (e->n_hops == 2) {
            CHECK_EQ_STR(e->hops[0].ip, "185.220.101.7");
            CHECK_EQ_STR(e->hops[1].ip, "45.155.205.23");
        }
        CHECK_EQ_INT(e->n_auth, 3);
        CHECK_EQ_INT(e->n_auth, x->n_auth);
        for (size_t i = 0; i < e->n_auth && i < x->n_auth; i++) {
            CHECK(same(e->auth[i].method, x->auth[i].method));
            CHECK(same(e->auth[i].result, x->auth[i].result));
            CHECK(same(e->auth[i].domain, x->auth[i].domain));
        }
        /* findings about the headers (auth, mismatch) are the same list */
        for (size_t i = 0; i < er.n_findings; i++) {
            const struct cw_sample_finding *f = &er.findings[i];
            if (strcmp(f->kind, "auth") && strcmp(f->kind, "mismatch"))
                continue;
            CHECK(count_findings(&r, f->kind, f->text) >= 1);
        }
        CHECK(count_findings(&er, "mismatch", "Reply-To collect@attacker.example") == 1);
        CHECK(count_findings(&r, "auth", "spf=fail for attacker.example") == 1);
        CHECK(count_findings(&r, "mime", "") == 0); /* the bare header block is no error */
        CHECK(cw_sample_find(&r, CW_IOC_IPV4, "185.220.101.7") != NULL);
        CHECK(cw_sample_find(&r, CW_IOC_IPV4, "45.155.205.23") != NULL);
        CHECK_EQ_INT(e->n_text, 1);
        CHECK_EQ_INT(e->n_html, 1);
        CHECK_EQ_INT(e->n_attachments, 2);
    }
    cw_sample_report_release(&er);
    cw_buf_release(&eml);

    /* URLs: the defanged one of the plain body, the href of the HTML body */
    const struct cw_sample_candidate *k =
        cw_sample_find(&r, CW_IOC_URL, "https://login-bank.example/verify");
    CHECK(k && (k->flags & CW_SAMPLE_DEFANGED) && strstr(k->where, "text/plain"));
    k = cw_sample_find(&r, CW_IOC_URL, "https://phish.example/a?x=1");
    CHECK(k && strstr(k->where, "text/html"));
    CHECK(cw_sample_find(&r, CW_IOC_EMAIL, "support@bank.example") != NULL);
    k = cw_sample_find(&r, CW_IOC_EMAIL, "victim@member.example");
    CHECK(k && (k->flags & CW_SAMPLE_RECIPIENT));

    /* the zip attachment and the file inside it, hashed here */
    const struct cw_sample_object *z = object(&r, "invoice.zip");
    CHECK(z != NULL);
    if (z) {
        CHECK_EQ_STR(z->sha256, zip_sha);
        CHECK_EQ_STR(z->role, "attachment");
        CHECK_EQ_STR(z->name, "invoice.zip");
        CHECK_EQ_STR(z->declared_type, "application/zip");
        CHECK_EQ_INT(z->size, zlen);
    }
    const struct cw_sample_object *x = object(&r, "invoice.zip/invoice.exe");
    CHECK(x != NULL);
    if (x)
        CHECK_EQ_STR(x->sha256, exe_sha);
    CHECK(cw_sample_find(&r, CW_IOC_SHA256, exe_sha) != NULL);
    CHECK(cw_sample_find(&r, CW_IOC_SHA256, zip_sha) != NULL);
    /* the submitted .msg is an e-mail: its own hashes are no candidates, as for an .eml */
    char msg_sha[65];
    sha256_hex(d, n, msg_sha);
    CHECK_EQ_STR(r.objects[0].sha256, msg_sha);
    CHECK(cw_sample_find(&r, CW_IOC_SHA256, msg_sha) == NULL);
    CHECK(cw_sample_find(&r, CW_IOC_SHA1, r.objects[0].sha1) == NULL);
    CHECK(cw_sample_find(&r, CW_IOC_MD5, r.objects[0].md5) == NULL);

    /* the embedded message: its own e-mail entry with properties as the only source */
    const struct cw_sample_email *ne = email_at(&r, "forwarded.msg");
    CHECK(ne != NULL);
    if (ne) {
        CHECK_EQ_STR(ne->subject, "Rechnung f\xc3\xbcr M\xc3\xa4rz \xe2\x9c\x93");
        CHECK_EQ_STR(ne->from, "Accounts <accounts@vendor.example>");
        CHECK_EQ_INT(ne->n_hops, 0);
        CHECK_EQ_INT(ne->n_text, 1);
    }
    k = cw_sample_find(&r, CW_IOC_URL, "https://nested.example/payload.php");
    CHECK(k && strstr(k->where, "forwarded.msg"));
    CHECK(cw_sample_find(&r, CW_IOC_EMAIL, "accounts@vendor.example") != NULL);
    /* the RTF body is there beside plain and HTML: nothing to say about it */
    CHECK_EQ_INT(count_findings(&r, "msg", "RTF"), 0);
    cw_sample_report_release(&r);

    /* the same .msg as an attachment of an .eml is analysed the same way below it */
    struct cw_buf outer = CW_BUF_INIT;
    const char *h = "From: member@member.example\r\nTo: cert@center.example\r\n"
                    "Subject: FW: suspicious\r\nMIME-Version: 1.0\r\n"
                    "Content-Type: multipart/mixed; boundary=\"o\"\r\n\r\n--o\r\n"
                    "Content-Type: text/plain\r\n\r\nsee attached\r\n--o\r\n"
                    "Content-Type: application/vnd.ms-outlook; name=\"phish.msg\"\r\n"
                    "Content-Disposition: attachment; filename=\"phish.msg\"\r\n"
                    "Content-Transfer-Encoding: base64\r\n\r\n";
    cw_buf_add(&outer, h, strlen(h));
    gchar *b64 = g_base64_encode(d, n);
    for (size_t i = 0, bl = strlen(b64); i < bl; i += 76) {
        cw_buf_add(&outer, b64 + i, bl - i < 76 ? bl - i : 76);
        cw_buf_add(&outer, "\r\n", 2);
    }
    g_free(b64);
    cw_buf_add(&outer, "--o--\r\n", 7);
    CHECK_EQ_INT(analyse(outer.data, outer.len, &o, &r), 0);
    CHECK_EQ_INT(r.n_emails, 3);
    CHECK(email_at(&r, "phish.msg") != NULL && email_at(&r, "phish.msg/forwarded.msg") != NULL);
    CHECK(object(&r, "phish.msg/invoice.zip/invoice.exe") != NULL);
    k = cw_sample_find(&r, CW_IOC_URL, "https://nested.example/payload.php");
    CHECK(k && strstr(k->where, "phish.msg/forwarded.msg"));
    /* the submitted .eml is no candidate either; the .msg attached to it stays one */
    char eml_sha[65];
    sha256_hex(outer.data, outer.len, eml_sha);
    CHECK_EQ_INT(r.kind, CW_SAMPLE_EMAIL);
    CHECK_EQ_STR(r.objects[0].sha256, eml_sha);
    CHECK(cw_sample_find(&r, CW_IOC_SHA256, eml_sha) == NULL);
    CHECK(cw_sample_find(&r, CW_IOC_SHA256, msg_sha) != NULL);
    CHECK(cw_sample_find(&r, CW_IOC_SHA256, zip_sha) != NULL);
    cw_sample_report_release(&r);
    cw_buf_release(&outer);
    free(d);
    free(zip);
}

/* ---- the real .msg files of ../shared ---- */

static void check_att(const struct cw_sample_report *r, const char *path, uint64_t size,
                      const char *sha256)
{
    const struct cw_sample_object *o = object(r, path);
    CHECK(o != NULL);
    if (!o) {
        fprintf(stderr, "  missing object %s\n", path);
        return;
    }
    CHECK_EQ_STR(o->role, "attachment");
    CHECK_EQ_INT(o->size, size);
    CHECK_EQ_STR(o->sha256, sha256);
    CHECK(cw_sample_find(r, CW_IOC_SHA256, sha256) != NULL);
}

static int analyse_shared(const char *rel, struct cw_sample_report *r)
{
    size_t n;
    char *d = cw_test_read_file(cw_test_shared(rel), &n);
    CHECK(d != NULL);
    if (!d) {
        memset(r, 0, sizeof(*r));
        return -1;
    }
    struct cw_sample_opts o = {0};
    cw_sample_limits_default(&o.limits);
    int rc = analyse(d, n, &o, r);
    free(d);
    return rc;
}

static void test_real(void)
{
    struct cw_sample_report r;
    CHECK_EQ_INT(analyse_shared("data/eml/pymisp/mail_3.msg", &r), 0);
    CHECK_EQ_INT(r.kind, CW_SAMPLE_EMAIL);
    CHECK_EQ_INT(r.n_emails, 1);
    if (r.n_emails == 1) {
        CHECK_EQ_STR(r.emails[0].subject, "Testing Manuel Lemos' MIME E-mail composing and "
                                          "sending PHP class: HTML message");
        CHECK_EQ_INT(r.emails[0].n_attachments, 3);
    }
    check_att(&r, "attachment.txt", 64,
              "1f209f1560df8cb6e983dff99d7a7d2db8dc3e439226abd38ef34facdffd82ec");
    check_att(&r, "logo.gif", 1195,
              "12e7b3891c58a1d5b84e63365f4a6dde97e04fef95c26412fe259a01581dfb52");
    check_att(&r, "background.gif", 3265,
              "f8d832aed08ed0dfcf44ccba244a1220dad86fd767a07e0e84016e4e997bad69");
    const struct cw_sample_candidate *k =
        cw_sample_find(&r, CW_IOC_URL, "http://www.phpclasses.org/mimemessage");
    CHECK(k && strstr(k->where, "body"));
    /* a real .msg: its own hash is no candidate, its attachments' are (check_att) */
    CHECK(r.n_objects > 0 && cw_sample_find(&r, CW_IOC_SHA256, r.objects[0].sha256) == NULL);
    cw_sample_report_release(&r);

    /* no transport headers: sender and recipients from the properties */
    CHECK_EQ_INT(analyse_shared("data/eml/pymisp/mail_4.msg", &r), 0);
    CHECK_EQ_INT(r.n_emails, 1);
    if (r.n_emails == 1) {
        CHECK_EQ_STR(r.emails[0].subject, "New Message!");
        CHECK_EQ_STR(r.emails[0].from, "Sender <sender@example.com>");
        CHECK_EQ_STR(r.emails[0].to, "Recipient 1; Recipient 2");
        CHECK_EQ_INT(r.emails[0].n_hops, 0);
    }
    check_att(&r, "TestAttachment1.xlsx", 10934,
              "c83ad0fea4b393f7fc49f56eaf000cb72ae70400581aa5c39868e4a339b5c232");
    CHECK(cw_sample_find(&r, CW_IOC_EMAIL, "sender@example.com") != NULL);
    cw_sample_report_release(&r);

    /* transport headers: the Received chain of the original message */
    CHECK_EQ_INT(analyse_shared("data/eml/pymisp/mail_5.msg", &r), 0);
    CHECK_EQ_INT(r.n_emails, 1);
    if (r.n_emails == 1) {
        const struct cw_sample_email *e = &r.emails[0];
        CHECK_EQ_STR(e->subject, "Ab auf die Piste!");
        CHECK_EQ_STR(e->from, "GMX Magazin <mailings@gmxnet.de>");
        CHECK_EQ_INT(e->n_hops, 2);
        if (e->n_hops == 2) {
            CHECK_EQ_STR(e->hops[1].from, "nlsender02.web.de");
            CHECK_EQ_STR(e->hops[1].ip, "217.72.207.14");
        }
    }
    CHECK(cw_sample_find(&r, CW_IOC_IPV4, "217.72.207.14") != NULL);
    CHECK(cw_sample_find(&r, CW_IOC_URL, "https://mailings.gmx.net/go/bad037e6/d17l784c") != NULL);
    cw_sample_report_release(&r);
}

/* ---- limits and hostile input ---- */

static void test_deep_nest(void)
{
    /* 12 messages, each embedding the next; each body names its level */
    enum { LEVELS = 12 };
    static struct tmsg lv[LEVELS];
    static struct tattach at[LEVELS];
    static char bodies[LEVELS][64];
    for (int i = LEVELS - 1; i >= 0; i--) {
        snprintf(bodies[i], sizeof(bodies[i]), "level %d at https://level%d.example/\r\n", i, i);
        lv[i] = (struct tmsg){.subject = "nest", .body = bodies[i]};
        if (i + 1 < LEVELS) {
            at[i] = (struct tattach){.name = "in.msg", .msg = &lv[i + 1]};
            lv[i].att = &at[i];
            lv[i].n_att = 1;
        }
    }
    size_t n;
    unsigned char *d = msg_file(&lv[0], &n);
    seed("deep.msg", d, n);
    struct cw_sample_opts o = {0};
    cw_sample_limits_default(&o.limits);
    struct cw_sample_report r;
    CHECK_EQ_INT(analyse(d, n, &o, &r), 0);
    /* max_msg_depth 8: levels 0..7 parsed, the 9th refused with a reason */
    CHECK_EQ_INT(r.n_emails, o.limits.max_msg_depth);
    CHECK(cw_sample_find(&r, CW_IOC_URL, "https://level7.example/") != NULL);
    CHECK(cw_sample_find(&r, CW_IOC_URL, "https://level8.example/") == NULL);
    CHECK_EQ_INT(count_findings(&r, "limit", "e-mail nested deeper than 8"), 1);
    cw_sample_report_release(&r);
    free(d);
}

static void test_limits(void)
{
    static unsigned char big[64 << 10];
    memset(big, 'A', sizeof(big));
    struct tattach att[5];
    char names[5][16];
    for (int i = 0; i < 5; i++) {
        snprintf(names[i], sizeof(names[i]), "f%d.txt", i);
        att[i] = (struct tattach){.name = names[i],
                                  .data = i == 0 ? (const void *)big : "https://f.example/ x",
                                  .len = i == 0 ? sizeof(big) : 20};
    }
    struct tmsg m = {.subject = "many", .sender_dn = "/O=ORG/OU=EXCHANGE/CN=RECIPIENTS/CN=X",
                     .att = att, .n_att = 5};
    size_t n;
    unsigned char *d = msg_file(&m, &n);
    seed("limits.msg", d, n);
    struct cw_sample_opts o = {0};
    cw_sample_limits_default(&o.limits);
    o.limits.max_object = 32u << 10; /* f0.txt is larger */
    o.limits.max_entries = 3;
    struct cw_sample_report r;
    CHECK_EQ_INT(analyse(d, n, &o, &r), 0);
    CHECK(object(&r, "f0.txt") == NULL);
    CHECK(count_findings(&r, "msg", "larger than the object limit") == 1);
    CHECK(object(&r, "f1.txt") != NULL && object(&r, "f2.txt") != NULL);
    CHECK(object(&r, "f3.txt") == NULL);
    CHECK_EQ_INT(count_findings(&r, "limit", "more than 3 archive members and attachments"), 1);
    /* an Exchange DN is no sender address */
    CHECK(r.n_emails == 1 && r.emails[0].from == NULL);
    CHECK_EQ_INT(cw_sample_count(&r, CW_IOC_EMAIL), 0);
    cw_sample_report_release(&r);

    /* attachment bytes count against max_unpacked like archive members */
    cw_sample_limits_default(&o.limits);
    o.limits.max_unpacked = 16u << 10;
    CHECK_EQ_INT(analyse(d, n, &o, &r), 0);
    CHECK(object(&r, "f0.txt") == NULL);
    CHECK_EQ_INT(count_findings(&r, "limit", "bytes of attachments and archive members"), 1);
    CHECK(r.unpacked_total <= o.limits.max_unpacked);
    cw_sample_report_release(&r);
    free(d);
}

static void test_hostile(void)
{
    /* a storage of 3,000 entries: read up to 1,024 (libgsf's lookups are linear) */
    struct tmsg wide = {.subject = "wide", .n_junk = 3000};
    size_t wn;
    unsigned char *wd = msg_file(&wide, &wn);
    struct cw_sample_opts wo = {0};
    cw_sample_limits_default(&wo.limits);
    struct cw_sample_report wr;
    CHECK_EQ_INT(analyse(wd, wn, &wo, &wr), 0);
    CHECK_EQ_INT(count_findings(&wr, "limit", "entries: only the first 1024 read"), 1);
    CHECK_EQ_INT(wr.n_emails, 1);
    cw_sample_report_release(&wr);
    free(wd);

    struct tmsg rtf = {.subject = "rtf only", .rtf = true};
    size_t n;
    unsigned char *d = msg_file(&rtf, &n);
    seed("rtf.msg", d, n);
    struct cw_sample_opts o = {0};
    cw_sample_limits_default(&o.limits);
    struct cw_sample_report r;
    CHECK_EQ_INT(analyse(d, n, &o, &r), 0);
    CHECK_EQ_INT(count_findings(&r, "msg", "only a compressed RTF body"), 1);
    CHECK(r.n_emails == 1 && !strcmp(r.emails[0].subject, "rtf only"));
    cw_sample_report_release(&r);
    free(d);

    /* truncated: every cut of the phishing-like message stays bounded, and a file
     * cut inside its directory or FAT is reported, not crashed on */
    struct tattach a = {.name = "a.txt", .data = body, .len = sizeof(body) - 1};
    struct tmsg m = {.subject = "cut", .body = body, .headers = headers, .att = &a, .n_att = 1};
    d = msg_file(&m, &n);
    seed("small.msg", d, n);
    size_t reported = 0;
    for (size_t cut = 0; cut < n; cut += n / 37 + 1) {
        CHECK_EQ_INT(analyse(d, cut, &o, &r), 0);
        reported += count_findings(&r, "msg", "");
        if (cut >= 512) /* the header is there: libmagic still calls it OLE storage */
            CHECK_EQ_INT(count_findings(&r, "msg", "not readable as an OLE2 compound file"), 1);
        CHECK(r.n_objects >= 1);
        cw_sample_report_release(&r);
    }
    CHECK(reported > 0);
    /* a cycle in the directory's sibling tree (entries 1 and 2 each other's left
     * sibling; the directory's first sector is named at offset 48 of the header):
     * libgsf drops the repeated entry, the message is still read */
    unsigned char *cy = malloc(n);
    memcpy(cy, d, n);
    size_t dir = ((size_t)cy[48] | (size_t)cy[49] << 8 | (size_t)cy[50] << 16) * 512 + 512;
    CHECK(dir + 3 * 128 <= n);
    if (dir + 3 * 128 <= n) {
        memcpy(cy + dir + 128 + 68, "\2\0\0\0", 4);
        memcpy(cy + dir + 256 + 68, "\1\0\0\0", 4);
        CHECK_EQ_INT(analyse(cy, n, &o, &r), 0);
        CHECK_EQ_INT(r.n_emails, 1);
        cw_sample_report_release(&r);
    }
    free(cy);

    /* a corrupted FAT (sector 1..) : no crash, a report */
    for (size_t off = 512; off + 64 < n; off += 509) {
        unsigned char *x = malloc(n);
        memcpy(x, d, n);
        memset(x + off, 0xfe, 64);
        CHECK_EQ_INT(analyse(x, n, &o, &r), 0);
        cw_sample_report_release(&r);
        free(x);
    }
    free(d);
}

int main(void)
{
    test_phish();
    test_real();
    test_deep_nest();
    test_limits();
    test_hostile();
    return cw_test_finish("test_sample_msg");
}
