/* iocfmt.h - indicator exchange formats: STIX 2.1, MISP (events and feeds), CSV,
 * plain lists (import and export) and RPZ zones (export).
 *
 * One neutral item model (struct cw_ioc_item) sits between the formats: importers
 * turn bytes into items in a struct cw_ioc_list, exporters turn an array of items
 * into text in a struct cw_buf. docs/indicators-formats.md has the mapping tables.
 *
 * Import rules, the same for every format:
 *   - every value goes through cw_ioc_normalize(); a value it refuses rejects that
 *     object (indicator, attribute, line), never the rest of the import;
 *   - each rejected object is reported once through opts->on_reject with its place
 *     ("object 12 (indicator--...)", "line 7", "Attribute 3 (uuid)") and a reason;
 *     a document that is not even parseable (invalid JSON) is one reject of the
 *     whole input, and the import function returns -1;
 *   - objects that are well-formed but carry nothing this model can hold (a STIX
 *     malware SDO, a MISP "filename" attribute, a comment line) are "skipped",
 *     counted but not reported as errors;
 *   - de-duplication: a list holds each (type, canonical value) once; a repeat merges
 *     into the first (highest confidence, earliest first_seen, latest last_seen and
 *     valid_until, most restrictive TLP) and is counted in st->duplicates;
 *   - the source's TLP is kept (STIX object_marking_refs with the TLP 1.0 and 2.0
 *     marking definitions, MISP "tlp:*" tags, a CSV tlp column); opts->default_tlp
 *     applies where the source says nothing;
 *   - expiry: an item whose valid_until is before opts->now_us (when non-zero) is
 *     dropped and counted in st->expired.
 *
 * Export rules: exporters write only the public fields of an item. The fields
 * under "internal" below (who submitted it, from which member) are never written by
 * any exporter; sharing decisions (TLP audience, scrubbing) are the caller's, made
 * before it hands items to an exporter. Identities written into output are the
 * producer's (opts->producer_*), never a member's.
 *
 * Ownership: a struct cw_ioc_list owns its items and all their strings (one arena).
 * Exporters borrow items and append to a caller's cw_buf. Everything is
 * single-threaded per list; distinct lists may be used by distinct threads. */
#ifndef CW_IOC_IOCFMT_H
#define CW_IOC_IOCFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "ioc/ioc.h"

#define CW_IOC_ID_MAX 64    /* "indicator--" + 36-byte UUID + NUL fits */
#define CW_IOC_LABELS_MAX 16 /* labels kept per item; more are dropped on import */

struct cw_ioc_item {
    enum cw_ioc_type type;
    enum cw_tlp tlp;
    int confidence;          /* 0..100; -1 = unknown (exported as absent) */
    const char *value;       /* canonical (cw_ioc_normalize) */
    const char *id;          /* "indicator--<uuid>"; cw_ioc_item_id() when absent */
    const char *description; /* NULL: none */
    const char **labels;     /* tags / labels (e.g. "malicious-activity", "apt28") */
    size_t nlabels;
    int64_t first_seen_us;   /* 0 = unknown (also STIX valid_from on export) */
    int64_t last_seen_us;    /* 0 = unknown */
    int64_t valid_until_us;  /* 0 = no expiry */
    int64_t modified_us;     /* 0 = unknown (export uses first_seen, then opts->now_us) */
    /* import only: where it came from (STIX created_by identity name, MISP Orgc
     * name, CSV source column). Not exported: the producer is the exporter's. */
    const char *source_name;
    /* internal: never written by any exporter */
    int64_t member_id;       /* submitting member (0 = none) */
    const char *submitter;   /* submitting person (e-mail of a member's staff) */
    const char *note;        /* analyst note */
};

/* -- lists ------------------------------------------------------------------ */

struct cw_ioc_list {
    struct cw_arena arena;   /* all strings of all items */
    struct cw_ioc_item *items;
    size_t n, cap;
    uint32_t *index;         /* open addressing over (type, value): item index + 1 */
    size_t index_cap;        /* power of two, 0 before the first add */
    size_t max_items;        /* 0: no cap; otherwise adds beyond it fail */
};

void cw_ioc_list_init(struct cw_ioc_list *l);
void cw_ioc_list_release(struct cw_ioc_list *l);
/* Add a copy of it (strings copied into the list's arena; value must be canonical
 * for it->type, id may be NULL). A (type, value) already present is merged as
 * described above. Returns 1 added, 0 merged into an existing item, -1 out of
 * memory or max_items reached. */
int cw_ioc_list_add(struct cw_ioc_list *l, const struct cw_ioc_item *it);
/* The item with this type and canonical value, or NULL. */
const struct cw_ioc_item *cw_ioc_list_find(const struct cw_ioc_list *l, enum cw_ioc_type t,
                                           const char *value);

/* Deterministic indicator id: "indicator--" + UUIDv5 (RFC 9562, SHA-1) of
 * "<type>:<canonical value>" in the crosswatch namespace, so the same indicator gets
 * the same id in every export and a re-import round-trips. out >= CW_IOC_ID_MAX. */
void cw_ioc_item_id(enum cw_ioc_type t, const char *value, char out[CW_IOC_ID_MAX]);
/* UUIDv5 of name in namespace ns (16 bytes) as 36 lower-case characters + NUL. */
void cw_uuid5(const uint8_t ns[16], const char *name, size_t n, char out[37]);

/* -- import ----------------------------------------------------------------- */

/* where: the rejected object ("object 3 (indicator--...)", "line 12"); reason: why. */
typedef void (*cw_ioc_reject_fn)(void *ctx, const char *where, const char *reason);

struct cw_ioc_import_opts {
    enum cw_tlp default_tlp;   /* when the source has no marking (default CLEAR = 0) */
    int default_confidence;    /* when the source has none; -1 = unknown */
    int64_t now_us;            /* 0: no expiry check */
    const char *source_name;   /* used when the source names no producer */
    bool misp_all;             /* MISP: also attributes with to_ids false */
    enum cw_ioc_type plain_type; /* plain lists: NONE = guess per line */
    size_t max_tokens;         /* JSON token cap (0: 4,000,000) */
    cw_ioc_reject_fn on_reject; /* NULL: rejects are only counted */
    void *ctx;
};

struct cw_ioc_import_stats {
    size_t objects;    /* objects (STIX objects, MISP attributes, lines) examined */
    size_t accepted;   /* items added to the list (after de-duplication) */
    size_t duplicates; /* items merged into one already in the list */
    size_t rejected;   /* objects reported through on_reject */
    size_t skipped;    /* well-formed objects without an indicator */
    size_t expired;    /* dropped: valid_until before now */
};

/* Each returns 0 when the input was readable (even if every object was rejected),
 * -1 when it was not (invalid JSON, not a bundle, out of memory: one reject with the
 * reason). Counts are added to *st (which the caller zeroes). */
int cw_ioc_import_stix(const char *data, size_t len, const struct cw_ioc_import_opts *o,
                       struct cw_ioc_list *out, struct cw_ioc_import_stats *st);
/* A MISP event: {"Event":{...}}, a bare event object, {"response":[{"Event":..}]},
 * or an array of those (a MISP search result). */
int cw_ioc_import_misp(const char *data, size_t len, const struct cw_ioc_import_opts *o,
                       struct cw_ioc_list *out, struct cw_ioc_import_stats *st);
/* CSV with a header row naming columns (type, value, tlp, confidence, first_seen,
 * last_seen, valid_until, description, id, labels; "value" required, others
 * optional, unknown columns ignored; RFC 4180 quoting). Without a type column the
 * type is guessed per value. */
int cw_ioc_import_csv(const char *data, size_t len, const struct cw_ioc_import_opts *o,
                      struct cw_ioc_list *out, struct cw_ioc_import_stats *st);
/* One value per line; '#' and ';' comment lines and blank lines skipped; a line
 * may be "value # comment". Type from o->plain_type or guessed per line. */
int cw_ioc_import_plain(const char *data, size_t len, const struct cw_ioc_import_opts *o,
                        struct cw_ioc_list *out, struct cw_ioc_import_stats *st);

/* -- STIX patterns ------------------------------------------------------------ */

/* One indicator a STIX pattern stands for. */
struct cw_stix_leaf {
    enum cw_ioc_type type;   /* as the object path says (domain, ipv4 ...); ipv4/ipv6
                                paths with a '/' become cidr */
    const char *value;       /* raw literal (unescaped, NUL-terminated, in arena) */
};

/* Parse a STIX 2.1 pattern (the full grammar of STIXPattern.g4: observation
 * expressions, AND/OR/FOLLOWEDBY, qualifiers, every operator and literal) and
 * return the indicators it stands for: a disjunction (OR) of equality (=) or IN
 * tests on a supported object path. Anything narrower than "any of these values"
 * (AND, FOLLOWEDBY, NOT, qualifiers, MATCHES/LIKE/</>, unsupported paths) cannot be
 * one item per value and is refused. Returns the leaf count (>= 1) with leaves in
 * arena, or -1 with a reason in err. */
int cw_stix_pattern_parse(const char *pat, size_t n, struct cw_arena *arena,
                          struct cw_stix_leaf **leaves, char *err, size_t errlen);
/* Append the pattern for one item ("[domain-name:value = 'evil.example']"), string
 * quoted as the grammar wants. */
void cw_stix_pattern_write(struct cw_buf *b, enum cw_ioc_type t, const char *value);

/* -- export ----------------------------------------------------------------- */

struct cw_ioc_export_opts {
    const char *producer_name;  /* identity of the exporter (the center); NULL: "crosswatch" */
    int64_t now_us;             /* created/modified when an item has none; 0: now */
    /* RPZ */
    const char *rpz_origin;     /* zone name, e.g. "rpz.crosswatch.example" (required) */
    uint32_t rpz_serial;        /* SOA serial (0: now in seconds) */
    /* MISP */
    const char *misp_event_info; /* event "info" (NULL: "crosswatch indicators") */
    const char *misp_event_uuid; /* NULL: UUIDv5 of producer + info */
    /* CSV */
    unsigned csv_flags;          /* common/csv.h: 0 verbatim, CW_CSV_SPREADSHEET defused */
    /* STIX: revoked[i] set = items[i] is withdrawn, written as its revoking version
     * ("revoked": true); NULL: none is. No other writer can say "withdrawn": never
     * give them revoked items. */
    const bool *revoked;
};

/* STIX 2.1 bundle: an identity for the producer, one indicator per item, and the
 * TLP 2.0 marking-definition objects the items refer to. */
int cw_ioc_export_stix(const struct cw_ioc_item *items, size_t n,
                       const struct cw_ioc_export_opts *o, struct cw_buf *out);
/* Just the objects of the bundle, each as one JSON object, for TAXII envelopes and
 * paging: writes item i's indicator (revoked: as withdrawn). The marking-definition
 * and identity objects they refer to are written by the next two. */
void cw_stix_write_indicator(struct cw_buf *b, const struct cw_ioc_item *it,
                             const struct cw_ioc_export_opts *o, bool revoked);
void cw_stix_write_tlp_marking(struct cw_buf *b, enum cw_tlp t);
void cw_stix_write_identity(struct cw_buf *b, const struct cw_ioc_export_opts *o);
/* "marking-definition--..." of a TLP 2.0 level. */
const char *cw_stix_tlp_marking_id(enum cw_tlp t);
/* "identity--<uuid5 of the producer name>" into out (>= CW_IOC_ID_MAX). */
void cw_stix_identity_id(const struct cw_ioc_export_opts *o, char out[CW_IOC_ID_MAX]);

/* MISP event JSON ({"Event":{...}}): one Attribute per item, event Tag tlp:* of the
 * most restrictive item, attribute Tags tlp:* per item. Items that have no MISP
 * attribute type are left out (counted in the return value as > 0). Returns the
 * number left out, or -1 on out of memory. */
int cw_ioc_export_misp(const struct cw_ioc_item *items, size_t n,
                       const struct cw_ioc_export_opts *o, struct cw_buf *out);
/* MISP feed files for one event: manifest.json ({uuid: {info, date, timestamp,
 * threat_level_id, analysis, Orgc, Tag}}) and hashes.csv ("<md5 of value>,<event
 * uuid>" per attribute). The event file itself is cw_ioc_export_misp's output,
 * named "<event uuid>.json". */
int cw_ioc_export_misp_manifest(const struct cw_ioc_item *items, size_t n,
                                const struct cw_ioc_export_opts *o, struct cw_buf *out);
int cw_ioc_export_misp_hashes(const struct cw_ioc_item *items, size_t n,
                              const struct cw_ioc_export_opts *o, struct cw_buf *out);
/* Event uuids listed in a feed's manifest.json, in order; each is checked to be a
 * UUID (so "<uuid>.json" is a safe file name). Returns the count, or -1 with a reason
 * in err (invalid JSON, not an object, a key that is not a UUID). */
int cw_ioc_misp_manifest_events(const char *data, size_t len,
                                void (*fn)(void *ctx, const char *uuid), void *ctx,
                                char *err, size_t errlen);
/* The event uuid the two above and cw_ioc_export_misp use. */
void cw_misp_event_uuid(const struct cw_ioc_export_opts *o, char out[37]);

/* CSV: header "type,value,tlp,confidence,first_seen,last_seen,valid_until,
 * description,id,labels", RFC 4180 quoting, times ISO 8601 UTC or empty. Values are
 * verbatim unless o->csv_flags asks for spreadsheet-safe fields (common/csv.h). */
int cw_ioc_export_csv(const struct cw_ioc_item *items, size_t n,
                      const struct cw_ioc_export_opts *o, struct cw_buf *out);
/* Plain list: the values of items of type t (CW_IOC_NONE: all), one per line. */
int cw_ioc_export_plain(const struct cw_ioc_item *items, size_t n, enum cw_ioc_type t,
                        struct cw_buf *out);
/* RPZ zone text: $TTL, SOA, NS, then per item: domain -> "name CNAME ." and
 * "*.name CNAME ."; hostname -> "name CNAME ."; ipv4/ipv6/cidr -> an rpz-ip trigger
 * "P.<reversed address>.rpz-ip CNAME ."; each rule preceded by a comment with the
 * indicator id. Other types have no RPZ form and are left out. Returns the number
 * left out, or -1 (no origin, out of memory). */
int cw_ioc_export_rpz(const struct cw_ioc_item *items, size_t n,
                      const struct cw_ioc_export_opts *o, struct cw_buf *out);

#endif
