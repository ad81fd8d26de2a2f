/* sample.h - analysis of a suspicious e-mail or file into a report and candidate
 * indicators.
 *
 * The input is one blob: an RFC 5322 message (.eml) or any file. E-mail is parsed
 * with GMime: headers of interest, the Received chain as hops, From/Reply-To/Sender/
 * Return-Path mismatches, SPF/DKIM/DMARC verdicts from Authentication-Results and
 * Received-SPF, URLs in text and HTML parts (href/src attributes and defanged text
 * such as "hxxp://evil[.]example"), addresses, attachments. Every attachment and the
 * input itself is an "object": size, md5/sha1/sha256 (OpenSSL EVP), declared type and
 * libmagic type, YARA matches; archives (zip, tar, 7z, rar, gzip ..., also OOXML
 * containers) are unpacked with libarchive and their members become objects with a
 * path like "invoice.zip/docs/a.exe"; an e-mail found inside (a message/rfc822 part,
 * an .eml in a zip) is analysed as a message of its own. Outlook .msg files (CDF) get
 * type and hashes plus URLs from their ASCII and UTF-16LE text runs.
 *
 * Hostile input is bounded by struct cw_sample_limits; a limit that is hit stops only
 * the work it guards and is recorded as a finding of kind "limit" ("archive nesting
 * deeper than 4 at a.zip/b.zip: not unpacked"). Broken MIME is reported as findings
 * of kind "mime"; analysis never aborts because of the input.
 *
 * Candidate indicators are canonical (cw_ioc_normalize, after cw_ioc_refang for
 * defanged text) and de-duplicated by (type, value). Addresses of recipients (To, Cc,
 * Delivered-To, X-Original-To, "for <...>" in Received) carry CW_SAMPLE_RECIPIENT so
 * the center can scrub the submitting member's own addresses; the analyser does not
 * decide what is published.
 *
 * Memory: a report owns an arena holding every string it points to and heap arrays;
 * cw_sample_report_release() frees all of it.
 *
 * Thread-safety: cw_sample_analyse() may run in many threads at once (GMime is
 * initialised once; each call has its own libmagic handle and parser objects). A
 * struct cw_sample_yara is immutable after loading and may be shared by threads. */
#ifndef CW_IOC_SAMPLE_H
#define CW_IOC_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "ioc/ioc.h"

struct cw_sample_limits {
    size_t max_input;        /* bytes of the input; larger: hashed only (32 MiB) */
    size_t max_parts;        /* MIME parts walked over all messages (1,000) */
    size_t max_header_bytes; /* header bytes read per message (256 KiB) */
    unsigned max_mime_depth; /* multipart nesting walked (GMime itself stops at 1024)
                                (64) */
    unsigned max_depth;      /* archive nesting; members deeper are not unpacked (4) */
    unsigned max_msg_depth;  /* e-mails inside e-mails (attachments, archives) (8) */
    size_t max_unpacked;     /* bytes unpacked from all archives together (64 MiB) */
    size_t max_object;       /* bytes of one unpacked member (32 MiB) */
    unsigned max_ratio;      /* unpacked bytes per byte of an archive (100); the
                                first 1 MiB of an archive is always allowed */
    size_t max_entries;      /* archive members over the whole sample (2,000) */
    size_t max_urls;         /* URL candidates (1,000) */
    size_t max_objects;      /* objects (attachments + members) in the report (2,000) */
};

/* The defaults above. */
void cw_sample_limits_default(struct cw_sample_limits *l);

/* YARA rules compiled from every *.yar / *.yara file of a directory (not recursive),
 * each file in a namespace named after it. NULL with a reason in err (naming the file
 * and line of a syntax error) on failure. Immutable; share between threads; free once
 * no analysis uses it. */
struct cw_sample_yara;
struct cw_sample_yara *cw_sample_yara_load(const char *dir, char *err, size_t errlen);
void cw_sample_yara_free(struct cw_sample_yara *y);
/* Number of rules loaded. */
size_t cw_sample_yara_count(const struct cw_sample_yara *y);

struct cw_sample_opts {
    struct cw_sample_limits limits; /* fill with cw_sample_limits_default() first */
    const struct cw_sample_yara *yara; /* NULL: no YARA scan */
    /* Passwords tried on encrypted archive members, NULL-terminated; NULL = the ones
     * conventional in malware exchange ("infected", "malware", "virus"). */
    const char *const *passwords;
};

enum cw_sample_kind { CW_SAMPLE_FILE = 0, CW_SAMPLE_EMAIL };

/* One hop of a Received chain, top (newest) first: the "from" name as the sender
 * announced it, the address the receiving host saw (from the [..] literal or the
 * comment after "from"), "by", "with", the "for" recipient and the date after the
 * last ';'. NULL when absent. */
struct cw_sample_hop {
    const char *from, *by, *with, *ip, *for_addr, *date;
};

/* One verdict: method "spf", "dkim" or "dmarc"; result as written ("pass", "fail",
 * "softfail", "none" ...); domain the checked domain (smtp.mailfrom's domain,
 * header.d or header.i's domain, header.from) or NULL; origin the header it came
 * from ("Authentication-Results" or "Received-SPF"). */
struct cw_sample_auth {
    const char *method, *result, *domain, *origin;
};

/* An e-mail: the input itself (path "" when the input is an e-mail) or one found
 * inside it (path of the part or archive member). Header values are decoded
 * (RFC 2047) UTF-8; NULL when absent. */
struct cw_sample_email {
    const char *path;
    const char *from, *to, *cc, *subject, *date, *message_id, *return_path, *reply_to,
        *sender;
    struct cw_sample_hop *hops;
    size_t n_hops;
    struct cw_sample_auth *auth;
    size_t n_auth;
    size_t n_parts, n_text, n_html, n_attachments;
    uint64_t text_bytes, html_bytes; /* decoded UTF-8 bytes of the bodies */
};

/* An analysed blob: the input, a MIME attachment or inline non-text part, an
 * archive member. */
struct cw_sample_object {
    const char *path;          /* "" for the input, "doc.zip/a/b.exe" below it */
    const char *name;          /* file name (MIME filename/name, member name) or NULL */
    const char *role;          /* "input", "attachment", "inline", "member" */
    const char *declared_type; /* MIME Content-Type, NULL for members and the input */
    const char *magic_type;    /* libmagic MIME type ("application/zip") */
    const char *magic_desc;    /* libmagic description */
    uint64_t size;
    unsigned depth;            /* archive nesting: 0 input/attachments, 1 in a zip ... */
    char md5[33], sha1[41], sha256[65];
};

struct cw_sample_yara_match {
    const char *rule;      /* "namespace:rule" */
    const char *path;      /* the object it matched ("" = the input) */
};

/* kind: "limit" (a bound was hit), "mime" (broken or odd MIME), "mismatch" (sender
 * identities disagree), "archive" (unreadable or encrypted member), "yara" (scan
 * error), "auth" (a failed SPF/DKIM/DMARC verdict). */
struct cw_sample_finding {
    const char *kind, *path, *text;
};

#define CW_SAMPLE_RECIPIENT 0x1u /* an address the message was sent to */
#define CW_SAMPLE_DEFANGED  0x2u /* found in defanged form */

/* A candidate indicator: canonical value, the first place it was found ("From",
 * "Received[2]", "text/html part 1.2 href", "doc.zip/a.exe") and why it is one. */
struct cw_sample_candidate {
    enum cw_ioc_type type;
    const char *value, *where, *why;
    unsigned flags;
};

struct cw_sample_report {
    struct cw_arena arena; /* every string of the report */
    enum cw_sample_kind kind;
    const char *name;      /* the name hint */
    uint64_t size;
    struct cw_sample_email *emails;
    size_t n_emails;
    struct cw_sample_object *objects; /* objects[0] is the input */
    size_t n_objects;
    struct cw_sample_yara_match *matches;
    size_t n_matches;
    struct cw_sample_finding *findings;
    size_t n_findings;
    struct cw_sample_candidate *candidates;
    size_t n_candidates;
    size_t cap_emails, cap_objects, cap_matches, cap_findings, cap_candidates;
    void *index; /* de-duplication of candidates (private) */
    size_t n_urls, n_parts_seen, n_entries_seen;
    uint64_t unpacked_total;
};

/* Analyse data[0..len). name_hint (may be NULL) names the input ("mail.eml"). Fills r
 * (which the caller releases with cw_sample_report_release(), also after failure).
 * Returns 0, or -1 with a reason in err only when the analysis itself could not run
 * (out of memory, libmagic database missing); hostile input is never a failure.
 * Thread-safe. */
int cw_sample_analyse(const void *data, size_t len, const char *name_hint,
                      const struct cw_sample_opts *o, struct cw_sample_report *r, char *err,
                      size_t errlen);
void cw_sample_report_release(struct cw_sample_report *r);

/* The report as one JSON object (schema in docs/samples.md) / as readable text,
 * appended to out. */
void cw_sample_report_json(const struct cw_sample_report *r, struct cw_buf *out);
void cw_sample_report_text(const struct cw_sample_report *r, struct cw_buf *out);

/* Number of candidates of type t (tests, summaries). */
size_t cw_sample_count(const struct cw_sample_report *r, enum cw_ioc_type t);
/* The candidate (t, canonical value) or NULL. */
const struct cw_sample_candidate *cw_sample_find(const struct cw_sample_report *r,
                                                 enum cw_ioc_type t, const char *value);

#endif
