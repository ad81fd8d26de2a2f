/* test_sample.c - the sample analyser (src/ioc/sample*.c) on every file of
 * ../shared/data/eml (no failure, limits kept, valid JSON, the same result from four
 * threads at once), exact expectations for fourteen of them, and hostile input built
 * here: a zip bomb, archives nested past the limit, 10,000 MIME parts, a 1 MiB
 * header, broken boundaries, an oversized input, sender spoofing and defanged text.
 *
 * Where the expected values come from: addresses, Received addresses, URLs and
 * attachment names/hashes were read with Python's email package, zipfile and hashlib
 * (python3 -c 'import email, hashlib, zipfile ...': message_from_bytes, walk(),
 * get_payload(decode=True), hashlib.sha256/md5; the zips of pymisp with the password
 * "AVs are dumb" from PyMISP's own tests) or by reading the files, never by running
 * the analyser. */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#include "common/buf.h"
#include "common/json.h"
#include "ioc/sample.h"
#include "testlib.h"
#include "common/banned.h"

static struct cw_sample_yara *rules;
static const char *const passwords[] = {"AVs are dumb", "infected", NULL};

static void opts_init(struct cw_sample_opts *o)
{
    memset(o, 0, sizeof(*o));
    cw_sample_limits_default(&o->limits);
    o->yara = rules;
    o->passwords = passwords;
}

static int analyse_mem(const void *d, size_t n, const struct cw_sample_opts *o,
                       struct cw_sample_report *r)
{
    char err[256];
    int rc = cw_sample_analyse(d, n, "t", o, r, err, sizeof(err));
    if (rc)
        fprintf(stderr, "analyse: %s\n", err);
    return rc;
}

static int analyse_file(const char *rel, struct cw_sample_report *r)
{
    size_t n;
    char *d = cw_test_read_file(cw_test_shared(rel), &n);
    if (!d) {
        fprintf(stderr, "cannot read %s\n", rel);
        memset(r, 0, sizeof(*r));
        return -1;
    }
    struct cw_sample_opts o;
    opts_init(&o);
    int rc = analyse_mem(d, n, &o, r);
    free(d);
    return rc;
}

static const struct cw_sample_candidate *find(const struct cw_sample_report *r,
                                              enum cw_ioc_type t, const char *v)
{
    const struct cw_sample_candidate *k = cw_sample_find(r, t, v);
    if (!k)
        fprintf(stderr, "  missing %s %s\n", cw_ioc_type_name(t), v);
    return k;
}

static const struct cw_sample_object *object(const struct cw_sample_report *r, const char *path)
{
    for (size_t i = 0; i < r->n_objects; i++)
        if (!strcmp(r->objects[i].path, path))
            return &r->objects[i];
    fprintf(stderr, "  missing object %s\n", path);
    return NULL;
}

static bool has_finding(const struct cw_sample_report *r, const char *kind, const char *text)
{
    for (size_t i = 0; i < r->n_findings; i++)
        if (!strcmp(r->findings[i].kind, kind) && strstr(r->findings[i].text, text))
            return true;
    fprintf(stderr, "  missing finding [%s] ...%s...\n", kind, text);
    for (size_t i = 0; i < r->n_findings; i++)
        fprintf(stderr, "    have [%s] %s\n", r->findings[i].kind, r->findings[i].text);
    return false;
}

static bool has_match(const struct cw_sample_report *r, const char *rule, const char *path)
{
    for (size_t i = 0; i < r->n_matches; i++)
        if (!strcmp(r->matches[i].rule, rule) && !strcmp(r->matches[i].path, path))
            return true;
    return false;
}

/* An object with this size and these hashes; its sha256 is a candidate unless it is
 * an e-mail (a message's hash differs per recipient: no indicator). */
static void check_object(const struct cw_sample_report *r, const char *path, uint64_t size,
                         const char *sha256, const char *md5)
{
    const struct cw_sample_object *o = object(r, path);
    CHECK(o != NULL);
    if (!o)
        return;
    CHECK_EQ_INT(o->size, size);
    CHECK_EQ_STR(o->sha256, sha256);
    if (md5)
        CHECK_EQ_STR(o->md5, md5);
    if (!o->magic_type || strcmp(o->magic_type, "message/rfc822"))
        CHECK(find(r, CW_IOC_SHA256, sha256) != NULL);
    else
        CHECK(cw_sample_find(r, CW_IOC_SHA256, sha256) == NULL);
}

/* ---- every shared sample ---- */

struct file_list {
    char **path;
    size_t n, cap;
};

static void list_files(const char *dir, struct file_list *l)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p[4096];
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            list_files(p, l);
        } else if (S_ISREG(st.st_mode)) {
            if (l->n == l->cap) {
                l->cap = l->cap ? l->cap * 2 : 64;
                l->path = realloc(l->path, l->cap * sizeof(*l->path));
            }
            l->path[l->n++] = strdup(p);
        }
    }
    closedir(d);
}

static bool valid_json(const char *s, size_t n)
{
    static jsmntok_t toks[200000];
    struct cw_json j;
    const char *err = NULL;
    if (cw_json_parse(&j, s, n, toks, (int)(sizeof(toks) / sizeof(toks[0])), &err)) {
        fprintf(stderr, "  invalid JSON: %s\n", err);
        return false;
    }
    return cw_json_is(&j, 0, JSMN_OBJECT) && cw_json_get(&j, 0, "candidates") > 0 &&
           cw_json_get(&j, 0, "objects") > 0;
}

static char *report_json(const char *path, size_t *len)
{
    size_t n;
    char *d = cw_test_read_file(path, &n);
    if (!d)
        return NULL;
    struct cw_sample_opts o;
    opts_init(&o);
    struct cw_sample_report r;
    struct cw_buf b = CW_BUF_INIT;
    char err[256];
    if (cw_sample_analyse(d, n, path, &o, &r, err, sizeof(err)) == 0)
        cw_sample_report_json(&r, &b);
    cw_sample_report_release(&r);
    free(d);
    return cw_buf_detach(&b, len);
}

static void test_every_sample(struct file_list *l)
{
    CHECK(l->n >= 29);
    size_t emails = 0;
    for (size_t i = 0; i < l->n; i++) {
        size_t n;
        char *d = cw_test_read_file(l->path[i], &n);
        CHECK(d != NULL);
        if (!d)
            continue;
        struct cw_sample_opts o;
        opts_init(&o);
        struct cw_sample_report r;
        int rc = analyse_mem(d, n, &o, &r);
        CHECK_EQ_INT(rc, 0);
        CHECK(r.n_objects >= 1 && r.n_objects <= o.limits.max_objects);
        if (r.n_objects) {
            CHECK_EQ_INT(r.objects[0].size, n);
            CHECK_EQ_STR(r.objects[0].role, "input");
            /* the submitted object's own hash: a candidate for a file, never for an
             * e-mail, .eml or .msg alike (its hash differs per recipient) */
            bool cand = cw_sample_find(&r, CW_IOC_SHA256, r.objects[0].sha256) != NULL;
            CHECK(cand == (r.kind == CW_SAMPLE_FILE && n <= o.limits.max_input));
        }
        CHECK(r.n_urls <= o.limits.max_urls);
        CHECK(r.unpacked_total <= o.limits.max_unpacked);
        emails += r.kind == CW_SAMPLE_EMAIL;
        struct cw_buf b = CW_BUF_INIT, t = CW_BUF_INIT;
        cw_sample_report_json(&r, &b);
        cw_sample_report_text(&r, &t);
        CHECK(cw_buf_ok(&b) && valid_json(b.data, b.len));
        CHECK(t.len > 0);
        cw_buf_release(&b);
        cw_buf_release(&t);
        cw_sample_report_release(&r);
        free(d);
    }
    /* the 18 .eml files (16 of eml_parser, 2 of pymisp) and the 3 Outlook .msg files
     * are e-mail at the top; the zips, URL lists and licences are files */
    CHECK_EQ_INT(emails, 21);
}

/* Four threads analyse every sample at once with one shared YARA rule set; each
 * report must equal the one made alone. */
struct thread_arg {
    struct file_list *l;
    char **expect;
    size_t *expect_len;
    int mismatches;
};

static void *thread_main(void *p)
{
    struct thread_arg *a = p;
    for (size_t i = 0; i < a->l->n; i++) {
        size_t n;
        char *j = report_json(a->l->path[i], &n);
        if (!j || n != a->expect_len[i] || memcmp(j, a->expect[i], n))
            a->mismatches++;
        free(j);
    }
    return NULL;
}

static void test_threads(struct file_list *l)
{
    char **expect = calloc(l->n, sizeof(*expect));
    size_t *len = calloc(l->n, sizeof(*len));
    for (size_t i = 0; i < l->n; i++)
        expect[i] = report_json(l->path[i], &len[i]);
    pthread_t th[4];
    struct thread_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (struct thread_arg){l, expect, len, 0};
        CHECK(pthread_create(&th[i], NULL, thread_main, &args[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_INT(args[i].mismatches, 0);
    }
    for (size_t i = 0; i < l->n; i++)
        free(expect[i]);
    free(expect);
    free(len);
}

/* ---- specific samples ---- */

static void test_sample_eml(void)
{
    struct cw_sample_report r;
    CHECK_EQ_INT(analyse_file("data/eml/eml_parser/sample.eml", &r), 0);
    CHECK_EQ_INT(r.kind, CW_SAMPLE_EMAIL);
    CHECK_EQ_INT(r.n_emails, 1);
    if (r.n_emails) {
        const struct cw_sample_email *e = &r.emails[0];
        CHECK_EQ_STR(e->subject, "Sample EML");
        CHECK_EQ_STR(e->message_id, "<F96257F63EAEB94C890EA6CE1437145C013B01FA@example.com>");
        CHECK_EQ_INT(e->n_hops, 1);
        if (e->n_hops) {
            CHECK_EQ_STR(e->hops[0].from, "localhost");
            CHECK_EQ_STR(e->hops[0].by, "mta.example.com");
            CHECK_EQ_STR(e->hops[0].with, "ESMTPS");
            CHECK_EQ_STR(e->hops[0].for_addr, "test@example.com");
            CHECK_EQ_STR(e->hops[0].date, "Fri, 26 Apr 2013 13:15:55 +0200");
            CHECK(e->hops[0].ip == NULL);
        }
        CHECK_EQ_INT(e->n_text, 1);
        CHECK_EQ_INT(e->n_attachments, 0);
    }
    const struct cw_sample_candidate *k = find(&r, CW_IOC_EMAIL, "john.doe@example.com");
    CHECK(k && !(k->flags & CW_SAMPLE_RECIPIENT));
    k = find(&r, CW_IOC_EMAIL, "test@example.com");
    CHECK(k && (k->flags & CW_SAMPLE_RECIPIENT));
    /* the e-mail itself is no hash indicator */
    CHECK_EQ_INT(cw_sample_count(&r, CW_IOC_SHA256), 0);
    cw_sample_report_release(&r);
}

static void test_attachments(void)
{
    struct cw_sample_report r;
    CHECK_EQ_INT(analyse_file("data/eml/eml_parser/sample_attachments.eml", &r), 0);
    check_object(&r, "text.txt", 445,
                 "2d8c2f6d978ca21712b5f6de36c9d31fa8e96a4fa5d8ff8b0188dfb9e7c171bb",
                 "db89bb5ceab87f9c0fcc2ab36c189c2c");
    check_object(&r, "document.pdf", 7392,
                 "ea3ca5bf97228f94f175d8ff68d656fba63f30e17390e302a88419618ce88b2a",
                 "d5c96e356e7b7818d421267bcd4160c4");
    check_object(&r, "test.csv", 2391,
                 "c752334ab0d9bd33c9a4f22b9d7ab892bf3fddc768a22ee390e67f6f8b7f7ec1",
                 "0f626c5f021e9446dbfeb3cdf01e2f64");
    const struct cw_sample_object *o = object(&r, "document.pdf");
    CHECK(o && o->magic_type && !strcmp(o->magic_type, "application/pdf"));
    CHECK(o && o->declared_type && !strcmp(o->declared_type, "application/pdf"));
    CHECK(r.n_emails == 1 && r.emails[0].n_attachments == 3 && r.emails[0].n_html == 1);
    CHECK(find(&r, CW_IOC_EMAIL, "pruebas@evidev1.ivnosys.net") != NULL);
    CHECK(find(&r, CW_IOC_MD5, "d5c96e356e7b7818d421267bcd4160c4") != NULL);
    cw_sample_report_release(&r);
}

static void test_body_urls(void)
{
    struct cw_sample_report r;
    CHECK_EQ_INT(analyse_file("data/eml/eml_parser/sample_body_data.eml", &r), 0);
    CHECK(find(&r, CW_IOC_URL, "http://www.example.com/") != NULL);
    CHECK(find(&r, CW_IOC_URL, "http://www.example.com/test1?bla") != NULL);
    CHECK(find(&r, CW_IOC_URL, "http://www.example.com/a/b/c/d/") != NULL);
    /* written "hxxps://www.example2.com" in the body */
    const struct cw_sample_candidate *k = find(&r, CW_IOC_URL, "https://www.example2.com/");
    CHECK(k && (k->flags & CW_SAMPLE_DEFANGED));
    CHECK(find(&r, CW_IOC_HOSTNAME, "www.example2.com") != NULL);
    CHECK(find(&r, CW_IOC_EMAIL, "malware@example.com") != NULL);
    CHECK_EQ_INT(cw_sample_count(&r, CW_IOC_URL), 4);
    cw_sample_report_release(&r);
}

static void test_html_urls_and_hops(void)
{
    struct cw_sample_report r;
    CHECK_EQ_INT(analyse_file("data/eml/eml_parser/github_issue_48.eml", &r), 0);
    CHECK(find(&r, CW_IOC_URL, "http://example2.com/spl.html") != NULL);
    CHECK(find(&r, CW_IOC_URL, "http://www.mambaoffers.xyz/lc.html") != NULL);
    CHECK(find(&r, CW_IOC_URL, "http://47fee4f03182a2437d6d-359a8ec3a1ca7be00e972dc737415516"
                               ".r50.cf3.example.com/img2.jpg") != NULL);
    CHECK(find(&r, CW_IOC_EMAIL, "email1@example.com") != NULL);
    CHECK(r.n_emails == 1 && r.emails[0].n_hops == 4);
    if (r.n_emails && r.emails[0].n_hops == 4) {
        CHECK_EQ_STR(r.emails[0].hops[0].ip, "192.168.0.1");
        CHECK_EQ_STR(r.emails[0].hops[1].ip, "192.168.0.2");
        CHECK_EQ_STR(r.emails[0].hops[2].ip, "192.168.0.3");
        CHECK_EQ_STR(r.emails[0].hops[3].by, "mail.example2.com");
    }
    /* private addresses are path facts, not indicators */
    CHECK(cw_sample_find(&r, CW_IOC_IPV4, "192.168.0.1") == NULL);
    cw_sample_report_release(&r);
}

static void test_zip_with_pe(void)
{
    struct cw_sample_report r;
    CHECK_EQ_INT(analyse_file("data/eml/eml_parser/sample_mime.eml", &r), 0);
    check_object(&r, "sexy.zip", 34100,
                 "3fb58110a096021f3eb6507b4e03c1cb10ad1d5b67e0ea688a5ac9093aa43e7e",
                 "b2a3adc1d1822982d140f19a9e6dc4ff");
    check_object(&r, "sexy.zip/sexy.scr", 118784,
                 "2584992e4aafb9359fd67c9dc4840c976dbbb71bb57673d3eec4379614b0a3eb",
                 "912c8db551cd94faec6ba8a3a5142473");
    const struct cw_sample_object *o = object(&r, "sexy.zip/sexy.scr");
    CHECK(o && o->depth == 1 && !strcmp(o->role, "member"));
    CHECK(has_match(&r, "pe:pe_executable", "sexy.zip/sexy.scr"));
    CHECK(!has_match(&r, "pe:pe_executable", "sexy.zip"));
    CHECK(find(&r, CW_IOC_EMAIL, "malware@example.com") != NULL); /* Return-Path */
    const struct cw_sample_candidate *k = find(&r, CW_IOC_EMAIL, "quarantine@example.com");
    CHECK(k && (k->flags & CW_SAMPLE_RECIPIENT)); /* Delivered-To */
    cw_sample_report_release(&r);
}

static void test_html_attachment_and_large(void)
{
    struct cw_sample_report r;
    CHECK_EQ_INT(analyse_file("data/eml/eml_parser/sample_mime_attachment_html.eml", &r), 0);
    check_object(&r, "test.html", 439,
                 "0d1d2017c1aea6da3798c25c6dc7c4ad465a2d20f98fcd2bd3d2dfecb00a972d",
                 "d923e8817e81a763e137fb6b1f74e740");
    cw_sample_report_release(&r);

    CHECK_EQ_INT(analyse_file("data/eml/eml_parser/sample_large.eml", &r), 0);
    check_object(&r, "lorem_ipsum.png", 839458,
                 "d4bd3140cba6ab488d64f63318ba759bfe8b24d1d1dc21a3c0e7a8a8e4e987cf",
                 "b6138400687f0cd575671c1d3864bd62");
    CHECK(find(&r, CW_IOC_URL, "http://www.example.com/blabla") != NULL);
    CHECK(find(&r, CW_IOC_EMAIL, "jane@example.com") != NULL);
    cw_sample_report_release(&r);
}

static void test_reply_to_mismatch(void)
{
    struct cw_sample_report r;
    CHECK_EQ_INT(analyse_file("data/eml/pymisp/mail_2.eml", &r), 0);
    CHECK(find(&r, CW_IOC_EMAIL, "maliciousreply@thebadguysdomainisthisone.com") != NULL);
    const struct cw_sample_candidate *k = find(&r, CW_IOC_EMAIL, "trytwo@test.com");
    CHECK(k && (k->flags & CW_SAMPLE_RECIPIENT));
    CHECK(has_finding(&r, "mismatch", "differs from Reply-To"));
    cw_sample_report_release(&r);
}

static void test_received_chain(void)
{
    struct cw_sample_report r;
    CHECK_EQ_INT(analyse_file("data/eml/pymisp/mail_1_headers_only.eml", &r), 0);
    CHECK(r.n_emails == 1 && r.emails[0].n_hops == 6);
    CHECK(find(&r, CW_IOC_IPV4, "64.98.42.207") != NULL);
    CHECK(find(&r, CW_IOC_IPV4, "43.230.105.145") != NULL);
    CHECK(find(&r, CW_IOC_IPV6, "2603:10b6:207:3d::31") != NULL);
    CHECK(cw_sample_find(&r, CW_IOC_IPV4, "10.5.19.248") == NULL);
    if (r.n_emails && r.emails[0].n_hops == 6) {
        CHECK_EQ_STR(r.emails[0].hops[5].from, "computer_3436");
        CHECK_EQ_STR(r.emails[0].hops[5].ip, "43.230.105.145");
        CHECK_EQ_STR(r.emails[0].hops[2].ip, "10.5.19.248");
    }
    CHECK(find(&r, CW_IOC_EMAIL, "suvorov.s@nalg.ru") != NULL);
    cw_sample_report_release(&r);

    CHECK_EQ_INT(analyse_file("data/eml/eml_parser/sample_fail_github_issue_38.eml", &r), 0);
    CHECK(find(&r, CW_IOC_IPV4, "111.111.111.201") != NULL);
    CHECK(find(&r, CW_IOC_URL, "http://www.guiademoteis.com.br/mailing/logo2005.gif") != NULL);
    CHECK(find(&r, CW_IOC_EMAIL, "MAILER-DAEMON@mta1-x1.xuxuxuxu.net") != NULL);
    CHECK_EQ_INT(r.n_emails, 2); /* the bounced message is attached as message/rfc822 */
    cw_sample_report_release(&r);
}

static void test_zip_eml_js(void)
{
    struct cw_sample_report r;
    CHECK_EQ_INT(analyse_file("data/eml/pymisp/mail_1.eml.zip", &r), 0);
    CHECK_EQ_INT(r.kind, CW_SAMPLE_FILE);
    CHECK(r.n_emails == 1 && !strcmp(r.emails[0].path, "mail_1.eml"));
    CHECK(has_finding(&r, "archive", "opened with a known password"));
    check_object(&r, "mail_1.eml", 65786,
                 "b7883d1cfdaff2b05ad54842f4bdfc59ef5d76aa6387bd2dbdaeceddc6d97d6a", NULL);
    /* the attachment ФНС_РФ558.zip holds a zip holding doc_uvedoml.js */
    const struct cw_sample_object *js = NULL;
    for (size_t i = 0; i < r.n_objects; i++)
        if (r.objects[i].name && !strcmp(r.objects[i].name, "doc_uvedoml.js"))
            js = &r.objects[i];
    CHECK(js != NULL);
    if (js) {
        CHECK_EQ_INT(js->size, 21700);
        CHECK_EQ_STR(js->sha256, "eb224a7cbc4f7ca7bb3c5b98d5d4f921d45bd6ff8eaa10fd4ad01396097135c7");
        CHECK_EQ_INT(js->depth, 3);
        CHECK(has_match(&r, "script:js_fragmented_strings_eval", js->path));
    }
    CHECK(find(&r, CW_IOC_URL, "http://www.nalog.ru/rn77//program/all/nal_ul/") != NULL);
    CHECK(find(&r, CW_IOC_IPV4, "43.230.105.145") != NULL);
    CHECK(find(&r, CW_IOC_EMAIL, "suvorov.s@nalg.ru") != NULL);
    cw_sample_report_release(&r);

    /* without the password: reported, not unpacked */
    size_t n;
    char *d = cw_test_read_file(cw_test_shared("data/eml/pymisp/mail_1.eml.zip"), &n);
    struct cw_sample_opts o;
    opts_init(&o);
    static const char *const wrong[] = {"nope", NULL};
    o.passwords = wrong;
    CHECK(d && analyse_mem(d, n, &o, &r) == 0);
    CHECK(has_finding(&r, "archive", "encrypted member: none of 1 passwords"));
    CHECK_EQ_INT(r.n_emails, 0);
    cw_sample_report_release(&r);
    free(d);
}

static void test_msg(void)
{
    struct cw_sample_report r;
    CHECK_EQ_INT(analyse_file("data/eml/pymisp/mail_3.msg", &r), 0);
    CHECK_EQ_INT(r.kind, CW_SAMPLE_EMAIL); /* parsed as a message (test_sample_msg.c) */
    CHECK(r.n_objects && r.objects[0].magic_type &&
          !strcmp(r.objects[0].magic_type, "application/vnd.ms-outlook"));
    /* `strings -a` and `strings -a -el` both show this link */
    CHECK(find(&r, CW_IOC_URL, "http://www.phpclasses.org/mimemessage") != NULL);
    cw_sample_report_release(&r);
}

/* The eml_parser project's list of URLs that must match: each one with a plain
 * ASCII host is found, in its canonical form (cw_ioc_normalize of the line). */
static void test_url_list(void)
{
    size_t n;
    char *d = cw_test_read_file(cw_test_shared("data/eml/eml_parser/regexes_url_samples.txt"), &n);
    CHECK(d != NULL);
    if (!d)
        return;
    struct cw_sample_opts o;
    opts_init(&o);
    struct cw_sample_report r;
    CHECK_EQ_INT(analyse_mem(d, n, &o, &r), 0);
    size_t checked = 0;
    char *save = NULL;
    for (char *line = strtok_r(d, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (!strncmp(line, "# Permissive", 12))
            break;
        if (line[0] == '#')
            continue;
        /* a '?' ending a URL in running text is read as the sentence's punctuation */
        if (line[strlen(line) - 1] == '?')
            continue;
        bool ascii = true;
        for (const char *p = line; *p; p++)
            ascii &= (unsigned char)*p < 128;
        char canon[CW_IOC_VALUE_MAX], err[128];
        if (!ascii || strchr(line, '[') ||
            cw_ioc_normalize(CW_IOC_URL, line, strlen(line), canon, sizeof(canon), err,
                             sizeof(err)))
            continue;
        checked++;
        CHECK(find(&r, CW_IOC_URL, canon) != NULL);
    }
    CHECK(checked >= 25);
    cw_sample_report_release(&r);
    free(d);
}

/* ---- hostile input, built here ---- */

struct zipw {
    struct archive *a;
    unsigned char *buf;
    size_t cap, used;
};

static void zip_begin(struct zipw *z, size_t cap)
{
    z->buf = malloc(cap);
    z->cap = cap;
    z->used = 0;
    z->a = archive_write_new();
    archive_write_set_format_zip(z->a);
    archive_write_open_memory(z->a, z->buf, z->cap, &z->used);
}

static void zip_add(struct zipw *z, const char *name, const void *data, size_t len)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)len);
    archive_write_header(z->a, e);
    const unsigned char *p = data;
    while (len) {
        size_t k = len > (1u << 20) ? (1u << 20) : len;
        archive_write_data(z->a, p, k);
        p += k;
        len -= k;
    }
    archive_entry_free(e);
}

static void zip_end(struct zipw *z)
{
    archive_write_close(z->a);
    archive_write_free(z->a);
}

static void test_zip_bomb(void)
{
    /* 256 MiB of zeros deflate to about 250 KiB: a ratio near 1,000 */
    size_t big = 256u << 20;
    unsigned char *zeros = calloc(1, 1u << 20);
    struct zipw z;
    zip_begin(&z, 8u << 20);
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, "bomb.bin");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)big);
    archive_write_header(z.a, e);
    for (size_t done = 0; done < big; done += 1u << 20)
        archive_write_data(z.a, zeros, 1u << 20);
    archive_entry_free(e);
    zip_end(&z);
    free(zeros);
    CHECK(z.used > 0 && z.used < (2u << 20));

    struct cw_sample_opts o;
    opts_init(&o);
    struct cw_sample_report r;
    CHECK_EQ_INT(analyse_mem(z.buf, z.used, &o, &r), 0);
    CHECK(has_finding(&r, "limit", "compression ratio above 100"));
    CHECK(r.unpacked_total <= (uint64_t)z.used * 100 + 65536);
    CHECK(object(&r, "bomb.bin") == NULL);
    cw_sample_report_release(&r);

    /* with the ratio lifted, the sample-wide budget stops it */
    o.limits.max_ratio = 1000000;
    o.limits.max_unpacked = 8u << 20;
    CHECK_EQ_INT(analyse_mem(z.buf, z.used, &o, &r), 0);
    CHECK(has_finding(&r, "limit", "bytes unpacked from the sample"));
    CHECK(r.unpacked_total <= (8u << 20));
    cw_sample_report_release(&r);

    /* and one member may not exceed max_object */
    o.limits.max_unpacked = 64u << 20;
    o.limits.max_object = 4u << 20;
    CHECK_EQ_INT(analyse_mem(z.buf, z.used, &o, &r), 0);
    CHECK(has_finding(&r, "limit", "member larger than 4194304 bytes"));
    cw_sample_report_release(&r);
    free(z.buf);
}

static void test_nesting(void)
{
    /* zip in zip in ... six deep, a marker text at the bottom */
    const char *text = "see hxxp://deep[.]example/x\n";
    unsigned char *cur = (unsigned char *)strdup(text);
    size_t cur_len = strlen(text);
    const char *name = "note.txt";
    char names[6][16];
    for (int level = 0; level < 6; level++) {
        struct zipw z;
        zip_begin(&z, cur_len + 4096);
        zip_add(&z, name, cur, cur_len);
        zip_end(&z);
        free(cur);
        cur = z.buf;
        cur_len = z.used;
        snprintf(names[level], sizeof(names[level]), "l%d.zip", 5 - level);
        name = names[level];
    }
    struct cw_sample_opts o;
    opts_init(&o);
    struct cw_sample_report r;
    CHECK_EQ_INT(analyse_mem(cur, cur_len, &o, &r), 0);
    /* input (depth 0) = l0 wrapper, members l1..l4 at depths 1..4; l4.zip is the
     * fifth archive and is not opened */
    CHECK(has_finding(&r, "limit", "archive nesting deeper than 4 at l1.zip/l2.zip/l3.zip/l4.zip"));
    CHECK(object(&r, "l1.zip/l2.zip/l3.zip/l4.zip") != NULL);
    CHECK(cw_sample_find(&r, CW_IOC_URL, "http://deep.example/x") == NULL);
    cw_sample_report_release(&r);
    /* with room for it, the defanged URL at the bottom is found */
    o.limits.max_depth = 8;
    CHECK_EQ_INT(analyse_mem(cur, cur_len, &o, &r), 0);
    const struct cw_sample_candidate *k = find(&r, CW_IOC_URL, "http://deep.example/x");
    CHECK(k && (k->flags & CW_SAMPLE_DEFANGED));
    CHECK(k && !strcmp(k->where, "l1.zip/l2.zip/l3.zip/l4.zip/l5.zip/note.txt"));
    cw_sample_report_release(&r);
    free(cur);
}

static void test_many_parts(void)
{
    struct cw_buf b = CW_BUF_INIT;
    cw_buf_adds(&b, "From: a@sender.example\r\nTo: b@victim.example\r\nSubject: parts\r\n"
                    "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n");
    for (int i = 0; i < 10000; i++)
        cw_buf_addf(&b, "--XX\r\nContent-Type: application/octet-stream\r\n"
                        "Content-Disposition: attachment; filename=\"f%d.bin\"\r\n\r\npart %d\r\n",
                    i, i);
    cw_buf_adds(&b, "--XX--\r\n");
    struct cw_sample_opts o;
    opts_init(&o);
    struct cw_sample_report r;
    CHECK_EQ_INT(analyse_mem(b.data, b.len, &o, &r), 0);
    CHECK(has_finding(&r, "limit", "more than 1000 MIME parts"));
    CHECK(r.n_parts_seen <= 1000);
    CHECK(r.n_objects <= o.limits.max_objects);
    CHECK(object(&r, "f0.bin") != NULL);
    CHECK(object(&r, "f9999.bin") == NULL);
    cw_sample_report_release(&r);
    cw_buf_release(&b);
}

static void test_huge_header(void)
{
    struct cw_buf b = CW_BUF_INIT;
    cw_buf_adds(&b, "From: sender@phish.example\r\nSubject: big\r\nX-Junk: ");
    for (int i = 0; i < 17000; i++)
        cw_buf_adds(&b, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n ");
    cw_buf_adds(&b, "end\r\nReply-To: late@header.example\r\n\r\nbody http://after.example/ok\r\n");
    CHECK(b.len > (1u << 20));
    struct cw_sample_opts o;
    opts_init(&o);
    struct cw_sample_report r;
    CHECK_EQ_INT(analyse_mem(b.data, b.len, &o, &r), 0);
    CHECK(has_finding(&r, "limit", "header block of"));
    CHECK(find(&r, CW_IOC_EMAIL, "sender@phish.example") != NULL);
    /* headers after the cut are not read, the body still is */
    CHECK(cw_sample_find(&r, CW_IOC_EMAIL, "late@header.example") == NULL);
    CHECK(find(&r, CW_IOC_URL, "http://after.example/ok") != NULL);
    cw_sample_report_release(&r);
    cw_buf_release(&b);
}

static void test_broken_mime(void)
{
    /* the boundary used is not the declared one, and nothing is closed */
    const char *m = "From: x@broken.example\r\nMIME-Version: 1.0\r\n"
                    "Content-Type: multipart/mixed; boundary=\"declared\"\r\n\r\n"
                    "--other\r\nContent-Type: text/plain\r\n\r\nvisit http://broken.example/a\r\n"
                    "--other\r\nContent-Type: multipart/alternative\r\n\r\nno boundary\r\n";
    struct cw_sample_opts o;
    opts_init(&o);
    struct cw_sample_report r;
    CHECK_EQ_INT(analyse_mem(m, strlen(m), &o, &r), 0);
    CHECK_EQ_INT(r.kind, CW_SAMPLE_EMAIL);
    bool mime = false;
    for (size_t i = 0; i < r.n_findings; i++)
        mime |= !strcmp(r.findings[i].kind, "mime");
    CHECK(mime);
    if (!mime)
        has_finding(&r, "mime", "");
    CHECK(find(&r, CW_IOC_EMAIL, "x@broken.example") != NULL);
    cw_sample_report_release(&r);

    /* a multipart declared without a boundary at all */
    const char *m2 = "From: y@broken.example\r\nContent-Type: multipart/mixed\r\n\r\n"
                     "--a\r\n\r\ntext\r\n--a--\r\n";
    CHECK_EQ_INT(analyse_mem(m2, strlen(m2), &o, &r), 0);
    CHECK(has_finding(&r, "mime", "multipart without boundary"));
    cw_sample_report_release(&r);
}

static void test_big_input(void)
{
    char buf[4096];
    memset(buf, 'A', sizeof(buf));
    struct cw_sample_opts o;
    opts_init(&o);
    o.limits.max_input = 1024;
    struct cw_sample_report r;
    CHECK_EQ_INT(analyse_mem(buf, sizeof(buf), &o, &r), 0);
    CHECK(has_finding(&r, "limit", "input of 4096 bytes is larger than 1024: hashed only"));
    CHECK(r.n_objects == 1 && r.objects[0].size == 4096);
    /* sha256 of 4096 'A's: python3 -c 'import hashlib; print(hashlib.sha256(b"A"*4096).hexdigest())' */
    CHECK(r.n_objects == 1 &&
          !strcmp(r.objects[0].sha256,
                  "6896d9ea3f73a4434f5832bc65714e7d066f177373f36f34dc8a6f735daa41b1"));
    cw_sample_report_release(&r);
}

static void test_auth_and_spoof(void)
{
    const char *m =
        "Received: from mail.evil.example (mail.evil.example [198.51.100.7])\r\n"
        "\tby mx.victim.example (Postfix) with ESMTPS id 1; Tue, 2 Jan 2024 10:00:00 +0000\r\n"
        "Received: from [IPv6:2001:db8:1::5] (unknown [IPv6:2001:db8:1::5]) by "
        "mail.evil.example with ESMTPSA; Tue, 2 Jan 2024 09:59:59 +0000\r\n"
        "Authentication-Results: mx.victim.example; dkim=pass (1024-bit key; comment; with "
        "semicolons) header.d=evil.example header.i=@evil.example; spf=softfail "
        "(mx.victim.example: domain of bounce@evil.example does not designate 198.51.100.7) "
        "smtp.mailfrom=bounce@evil.example; dmarc=fail (p=reject) header.from=bank.example\r\n"
        "Received-SPF: fail (mx.victim.example: domain of bounce@evil.example) "
        "client-ip=198.51.100.7; envelope-from=\"bounce@evil.example\"; helo=mail.evil.example;\r\n"
        "From: \"security@bank.example\" <alerts@evil.example>\r\n"
        "Sender: relay@other.example\r\n"
        "To: victim@victim.example\r\nSubject: verify\r\nContent-Type: text/html\r\n\r\n"
        "<a href=\"hxxps://login.bank.example.evil[.]example/verify?a=1&amp;b=2\">Log in</a>"
        "<img src='http://cdn.evil.example/p.gif'> write to <a href=\"mailto:drop@evil.example"
        "?subject=x\">us</a>; also bad[.]example[.]net and 203.0.113[.]9\r\n";
    struct cw_sample_opts o;
    opts_init(&o);
    struct cw_sample_report r;
    CHECK_EQ_INT(analyse_mem(m, strlen(m), &o, &r), 0);
    CHECK_EQ_INT(r.n_emails, 1);
    const struct cw_sample_email *e = r.n_emails ? &r.emails[0] : NULL;
    CHECK(e && e->n_hops == 2);
    if (e && e->n_hops == 2) {
        CHECK_EQ_STR(e->hops[0].ip, "198.51.100.7");
        CHECK_EQ_STR(e->hops[1].ip, "2001:db8:1::5");
    }
    CHECK(e && e->n_auth == 4);
    if (e && e->n_auth == 4) {
        CHECK_EQ_STR(e->auth[0].method, "dkim");
        CHECK_EQ_STR(e->auth[0].result, "pass");
        CHECK_EQ_STR(e->auth[0].domain, "evil.example");
        CHECK_EQ_STR(e->auth[1].method, "spf");
        CHECK_EQ_STR(e->auth[1].result, "softfail");
        CHECK_EQ_STR(e->auth[1].domain, "evil.example");
        CHECK_EQ_STR(e->auth[2].method, "dmarc");
        CHECK_EQ_STR(e->auth[2].result, "fail");
        CHECK_EQ_STR(e->auth[2].domain, "bank.example");
        CHECK_EQ_STR(e->auth[3].origin, "Received-SPF");
        CHECK_EQ_STR(e->auth[3].result, "fail");
        CHECK_EQ_STR(e->auth[3].domain, "evil.example");
    }
    CHECK(has_finding(&r, "auth", "dmarc=fail for bank.example"));
    CHECK(has_finding(&r, "mismatch", "display name \"security@bank.example\""));
    CHECK(has_finding(&r, "mismatch", "differs from Sender relay@other.example"));
    const struct cw_sample_candidate *k =
        find(&r, CW_IOC_URL, "https://login.bank.example.evil.example/verify?a=1&b=2");
    CHECK(k && (k->flags & CW_SAMPLE_DEFANGED));
    CHECK(find(&r, CW_IOC_HOSTNAME, "login.bank.example.evil.example") != NULL);
    CHECK(find(&r, CW_IOC_URL, "http://cdn.evil.example/p.gif") != NULL);
    CHECK(find(&r, CW_IOC_EMAIL, "drop@evil.example") != NULL);
    CHECK(find(&r, CW_IOC_DOMAIN, "bad.example.net") != NULL);
    CHECK(find(&r, CW_IOC_IPV4, "203.0.113.9") != NULL);
    /* 2001:db8::/32 is documentation space, yet global unicast by the rules the
     * analyser applies; the center's guard decides on it */
    CHECK(find(&r, CW_IOC_IPV4, "198.51.100.7") != NULL);
    k = find(&r, CW_IOC_EMAIL, "victim@victim.example");
    CHECK(k && (k->flags & CW_SAMPLE_RECIPIENT));
    cw_sample_report_release(&r);
}

static void test_yara_load_errors(void)
{
    char err[256] = "";
    CHECK(cw_sample_yara_load("/nonexistent/dir", err, sizeof(err)) == NULL);
    CHECK(strstr(err, "/nonexistent/dir") != NULL);
    char dir[] = "/tmp/cw_yara_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char p[256];
    snprintf(p, sizeof(p), "%s/bad.yar", dir);
    FILE *f = fopen(p, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("rule ok { condition: true }\nrule broken { strings: $a = \"x\" condition: $b }\n", f);
        fclose(f);
    }
    CHECK(cw_sample_yara_load(dir, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "bad.yar:2") != NULL);
    remove(p);
    rmdir(dir);
    CHECK(cw_sample_yara_count(rules) >= 5);
}

int main(void)
{
    char dir[4200], err[256];
    const char *src = getenv("CW_SOURCE_DIR");
    snprintf(dir, sizeof(dir), "%s/rules/yara", src ? src : ".");
    rules = cw_sample_yara_load(dir, err, sizeof(err));
    if (!rules)
        fprintf(stderr, "YARA rules: %s\n", err);
    CHECK(rules != NULL);

    struct file_list l = {0};
    list_files(cw_test_shared("data/eml"), &l);
    test_every_sample(&l);
    test_threads(&l);
    test_sample_eml();
    test_attachments();
    test_body_urls();
    test_html_urls_and_hops();
    test_zip_with_pe();
    test_html_attachment_and_large();
    test_reply_to_mismatch();
    test_received_chain();
    test_zip_eml_js();
    test_msg();
    test_url_list();
    test_zip_bomb();
    test_nesting();
    test_many_parts();
    test_huge_header();
    test_broken_mime();
    test_big_input();
    test_auth_and_spoof();
    test_yara_load_errors();

    for (size_t i = 0; i < l.n; i++)
        free(l.path[i]);
    free(l.path);
    cw_sample_yara_free(rules);
    return cw_test_finish("test_sample");
}
