/* sample_impl.h - what the files of the sample analyser share (not a public contract).
 *
 * One struct sample_ctx lives on the stack of cw_sample_analyse() and is passed down
 * through the recursion: blob -> e-mail / archive -> blob ... Everything found goes
 * into the report through the sample_report_* functions (sample_report.c), which copy
 * strings into the report's arena and enforce the report-size limits. */
#ifndef CW_IOC_SAMPLE_IMPL_H
#define CW_IOC_SAMPLE_IMPL_H

#include <magic.h>

#include "ioc/sample.h"

struct sample_ctx {
    struct cw_sample_report *r;
    const struct cw_sample_opts *o;
    magic_t magic;
    bool oom; /* an allocation of the report failed: stop and fail the call */
    bool objects_full, urls_full, parts_full, entries_full, unpacked_full; /* limit hit,
                                                    finding written (once per sample) */
};

/* Where a blob sits: its path in the sample and the nesting that led there. */
struct sample_at {
    const char *path;      /* arena string; "" for the input */
    unsigned depth;        /* archives around it */
    unsigned msg_depth;    /* e-mails around it */
    bool in_doc;           /* a part of a document container (OOXML, ODF, JAR): its
                              hash is no indicator, the container's is */
};

/* --- sample_report.c --- */
/* Arena copy of s[0..n) (NUL-terminated); NULL (and ctx->oom) on failure. */
char *sample_strndup(struct sample_ctx *c, const char *s, size_t n);
char *sample_strdup(struct sample_ctx *c, const char *s);
/* printf into the arena. */
char *sample_printf(struct sample_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "parent/child" (or child when parent is ""). */
char *sample_path_join(struct sample_ctx *c, const char *parent, const char *child);
void sample_finding(struct sample_ctx *c, const char *kind, const char *path, const char *fmt,
                    ...) __attribute__((format(printf, 4, 5)));
/* Normalise raw[0..len) as type t and add it unless already there. Values that do not
 * normalise are dropped silently (text scanning finds many near-misses). Returns the
 * candidate (new or existing) or NULL. where/why are copied. */
struct cw_sample_candidate *sample_candidate(struct sample_ctx *c, enum cw_ioc_type t,
                                             const char *raw, size_t len, const char *where,
                                             const char *why, unsigned flags);
/* New zeroed entries; NULL when a limit or memory says no (recorded). */
struct cw_sample_object *sample_object_new(struct sample_ctx *c);
struct cw_sample_email *sample_email_new(struct sample_ctx *c);
void sample_match_add(struct sample_ctx *c, const char *rule, const char *path);

/* --- sample_analyse.c --- */
/* Analyse one blob (the input, an attachment, an archive member): object entry with
 * hashes and type, YARA, then e-mail / archive / text handling by type. */
void sample_blob(struct sample_ctx *c, const void *data, size_t len, const struct sample_at *at,
                 const char *name, const char *role, const char *declared_type);
/* Does data look like an RFC 5322 message (header fields first)? */
bool sample_looks_like_email(const void *data, size_t len);

/* --- sample_mime.c --- */
void sample_email(struct sample_ctx *c, const void *data, size_t len, const struct sample_at *at);

/* --- sample_msg.c --- */
/* An OLE2 compound file: parsed as an Outlook message (MS-OXMSG) when it holds
 * message property streams; returns false when it does not (or is no readable
 * compound file) so the caller falls back to scanning text runs. outlook: libmagic
 * called it an Outlook message (a failure to read it is then a finding). */
bool sample_msg(struct sample_ctx *c, const void *data, size_t len, const struct sample_at *at,
                bool outlook);

/* --- sample_hdr.c: header field parsers (pure; unit-tested) --- */
/* One Received header value into a hop (strings in the ctx arena). */
void sample_parse_received(struct sample_ctx *c, const char *v, struct cw_sample_hop *hop);
/* Authentication-Results / Received-SPF: call add() per verdict. */
typedef void (*sample_auth_fn)(struct sample_ctx *c, const char *method, size_t mlen,
                               const char *result, size_t rlen, const char *domain,
                               size_t dlen, const char *origin, void *u);
void sample_parse_auth_results(struct sample_ctx *c, const char *v, sample_auth_fn add, void *u);
void sample_parse_received_spf(struct sample_ctx *c, const char *v, sample_auth_fn add, void *u);

/* --- sample_urls.c --- */
/* Scan text (UTF-8) for URLs (also defanged) and add URL and hostname candidates.
 * html: also href/src/action attributes and mailto: addresses. */
void sample_scan_text(struct sample_ctx *c, const char *text, size_t len, bool html,
                      const char *where);

/* --- sample_archive.c --- */
/* Is this libmagic MIME type one libarchive should open? raw: a bare compression
 * stream (gzip, bzip2, xz, zstd) rather than an archive format. */
bool sample_is_archive_type(const char *mime, bool *raw);
/* Is it a document container (OOXML, ODF, EPUB, JAR) rather than an archive? */
bool sample_is_doc_container(const char *mime);
void sample_archive(struct sample_ctx *c, const void *data, size_t len, const struct sample_at *at,
                    bool raw);

/* --- sample_yara.c --- */
void sample_yara_scan(struct sample_ctx *c, const void *data, size_t len, const char *path);

#endif
