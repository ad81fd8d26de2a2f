/* sample_archive.c - archives and compressed files, unpacked with libarchive from
 * memory, every regular member analysed as a blob one level deeper.
 *
 * Zip bombs are stopped while they inflate, not after: members are read in 64 KiB
 * steps and reading stops when a member passes max_object, the sample passes
 * max_unpacked, or this archive has produced more than max_ratio bytes per byte of
 * its own size (after a first free MiB). Deeper nesting than max_depth is refused by
 * sample_blob() before this file is called. Encrypted members are reported and
 * skipped (malware often comes as a zip with the password in the mail text). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "ioc/sample_impl.h"
#include "common/banned.h"

static const char *const doc_types[] = {
    "application/vnd.openxmlformats-officedocument.", "application/vnd.oasis.opendocument.",
    "application/epub+zip", "application/java-archive", "application/vnd.ms-excel.sheet.macro",
    "application/vnd.ms-word.document.macro", "application/vnd.ms-powerpoint.presentation.macro",
};

bool sample_is_doc_container(const char *mime)
{
    for (size_t i = 0; i < sizeof(doc_types) / sizeof(doc_types[0]); i++)
        if (!strncmp(mime, doc_types[i], strlen(doc_types[i])))
            return true;
    return false;
}

bool sample_is_archive_type(const char *mime, bool *raw)
{
    static const char *const archives[] = {
        "application/zip", "application/x-zip-compressed", "application/x-tar",
        "application/x-7z-compressed", "application/x-rar", "application/vnd.rar",
        "application/x-rar-compressed", "application/vnd.ms-cab-compressed",
        "application/x-iso9660-image", "application/x-cpio", "application/x-xar",
        "application/x-archive", "application/x-lzh-compressed", "application/x-lha",
    };
    static const char *const streams[] = {
        "application/gzip", "application/x-gzip", "application/x-bzip2", "application/x-xz",
        "application/zstd", "application/x-lzma", "application/x-lzip", "application/x-compress",
    };
    *raw = false;
    for (size_t i = 0; i < sizeof(archives) / sizeof(archives[0]); i++)
        if (!strcmp(mime, archives[i]))
            return true;
    for (size_t i = 0; i < sizeof(streams) / sizeof(streams[0]); i++)
        if (!strcmp(mime, streams[i]))
            return *raw = true;
    return sample_is_doc_container(mime);
}

struct member {
    unsigned char *p;
    size_t len, cap;
};

enum read_end { READ_OK, READ_OBJECT_LIMIT, READ_SAMPLE_LIMIT, READ_RATIO_LIMIT, READ_ERROR };

/* Read the current member into m, within the budgets. */
static enum read_end read_member(struct sample_ctx *c, struct archive *a, struct member *m,
                                 uint64_t *from_archive, uint64_t ratio_budget)
{
    const struct cw_sample_limits *l = &c->o->limits;
    unsigned char chunk[65536];
    for (;;) {
        la_ssize_t n = archive_read_data(a, chunk, sizeof(chunk));
        if (n == 0)
            return READ_OK;
        if (n < 0)
            return READ_ERROR;
        if (m->len + (size_t)n > l->max_object)
            return READ_OBJECT_LIMIT;
        if (c->r->unpacked_total + (uint64_t)n > l->max_unpacked)
            return READ_SAMPLE_LIMIT;
        if (*from_archive + (uint64_t)n > ratio_budget)
            return READ_RATIO_LIMIT;
        if (m->len + (size_t)n > m->cap) {
            size_t nc = m->cap ? m->cap : 65536;
            while (nc < m->len + (size_t)n)
                nc *= 2;
            unsigned char *p = realloc(m->p, nc);
            if (!p) {
                c->oom = true;
                return READ_ERROR;
            }
            m->p = p;
            m->cap = nc;
        }
        memcpy(m->p + m->len, chunk, (size_t)n);
        m->len += (size_t)n;
        c->r->unpacked_total += (uint64_t)n;
        *from_archive += (uint64_t)n;
    }
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s && s[1] ? s + 1 : p;
}

void sample_archive(struct sample_ctx *c, const void *data, size_t len, const struct sample_at *at,
                    bool raw)
{
    const struct cw_sample_limits *l = &c->o->limits;
    const char *where = *at->path ? at->path : "(input)";
    struct archive *a = archive_read_new();
    if (!a) {
        c->oom = true;
        return;
    }
    archive_read_support_filter_all(a);
    archive_read_support_format_all(a);
    if (raw)
        archive_read_support_format_raw(a);
    static const char *const conventional[] = {"infected", "malware", "virus", NULL};
    const char *const *pw = c->o->passwords ? c->o->passwords : conventional;
    size_t n_pw = 0;
    for (; pw[n_pw]; n_pw++)
        archive_read_add_passphrase(a, pw[n_pw]);
    if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
        sample_finding(c, "archive", at->path, "cannot open the archive: %s",
                       archive_error_string(a) ? archive_error_string(a) : "unknown format");
        archive_read_free(a);
        return;
    }
    bool doc = false;
    {
        /* members of a document container carry its nature down */
        const struct cw_sample_object *self = NULL;
        for (size_t i = c->r->n_objects; i-- > 0;)
            if (!strcmp(c->r->objects[i].path, at->path)) {
                self = &c->r->objects[i];
                break;
            }
        doc = self && self->magic_type && sample_is_doc_container(self->magic_type);
    }
    uint64_t ratio_budget = (uint64_t)len * l->max_ratio;
    if (ratio_budget < (1u << 20))
        ratio_budget = 1u << 20;
    uint64_t from_archive = 0;
    struct member m = {0};
    struct archive_entry *e;
    int rc;
    while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
        if (c->oom)
            break;
        if (c->r->n_entries_seen >= l->max_entries) {
            if (!c->entries_full)
                sample_finding(c, "limit", at->path,
                               "more than %zu archive members: the rest of %s not unpacked",
                               l->max_entries, where);
            c->entries_full = true;
            break;
        }
        c->r->n_entries_seen++;
        if (archive_entry_filetype(e) != AE_IFREG)
            continue;
        const char *pn = archive_entry_pathname_utf8(e);
        if (!pn)
            pn = archive_entry_pathname(e);
        if (!pn || !*pn)
            pn = "data";
        while (*pn == '/')
            pn++;
        struct sample_at sub = {sample_path_join(c, at->path, pn), at->depth + 1, at->msg_depth,
                                at->in_doc || doc};
        if (!sub.path)
            break;
        bool encrypted = archive_entry_is_encrypted(e);
        m.len = 0;
        enum read_end end = read_member(c, a, &m, &from_archive, ratio_budget);
        if (end == READ_ERROR && encrypted) {
            sample_finding(c, "archive", sub.path,
                           "encrypted member: none of %zu passwords opens it, not unpacked",
                           n_pw);
            continue;
        }
        if (end == READ_ERROR) {
            const char *why = archive_error_string(a);
            sample_finding(c, "archive", sub.path, "member unreadable: %s",
                           why ? why : "read error");
            continue;
        }
        if (end == READ_OBJECT_LIMIT) {
            sample_finding(c, "limit", sub.path, "member larger than %zu bytes: not analysed",
                           l->max_object);
            continue;
        }
        if (end == READ_SAMPLE_LIMIT) {
            if (!c->unpacked_full)
                sample_finding(c, "limit", sub.path,
                               "more than %zu bytes unpacked from the sample: the rest of %s "
                               "not unpacked",
                               l->max_unpacked, where);
            c->unpacked_full = true;
            break;
        }
        if (end == READ_RATIO_LIMIT) {
            sample_finding(c, "limit", sub.path,
                           "compression ratio above %u of %s (%zu bytes): rest not unpacked "
                           "(zip bomb?)",
                           l->max_ratio, where, len);
            break;
        }
        if (encrypted)
            sample_finding(c, "archive", sub.path, "encrypted member opened with a known password");
        sample_blob(c, m.p ? m.p : (const unsigned char *)"", m.len, &sub, base_name(pn), "member",
                    NULL);
    }
    if (rc == ARCHIVE_FATAL)
        sample_finding(c, "archive", at->path, "archive broken: %s",
                       archive_error_string(a) ? archive_error_string(a) : "fatal error");
    free(m.p);
    archive_read_free(a);
}
