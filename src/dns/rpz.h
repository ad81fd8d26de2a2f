/* rpz.h - Response Policy Zones (draft-vixie-dnsop-dns-rpz): load, look up, swap.
 *
 * A policy zone is a DNS zone whose owner names are triggers and whose records are
 * actions. The loader reads the master-file subset RPZ feeds use ($ORIGIN, $TTL,
 * relative/absolute owners, @, blank owner = previous owner, parentheses, comments,
 * class IN, SOA/NS ignored; $INCLUDE and $GENERATE refused) from a file or from a
 * memory buffer. A bad record is skipped and counted (reason reported as
 * "file:line: reason" through the error callback), never fatal; only an unreadable
 * file, no usable record at all, or out-of-memory fails the load.
 *
 * Triggers (owner name relative to the zone origin):
 *   QNAME      name            and  *.name (wildcard: strictly below name)
 *   CLIENT-IP  P.d.c.b.a.rpz-client-ip / P.w8...w1.rpz-client-ip (IPv6, "zz" = ::)
 *   IP         P.d.c.b.a.rpz-ip           address in the answer (A/AAAA)
 *   NSDNAME    name.rpz-nsdname (+ wildcard)  name of an authoritative server
 *   NSIP       P.d.c.b.a.rpz-nsip         address of an authoritative server
 * Actions (RDATA): CNAME . = NXDOMAIN; CNAME *. = NODATA; CNAME rpz-passthru. (or
 * legacy: CNAME to the owner's name relative to the zone, made absolute) = PASSTHRU; CNAME rpz-drop. = DROP; CNAME
 * rpz-tcp-only. = TCP-ONLY; CNAME other.name = CNAME redirect (target "*.x" means
 * qname prepended to x); any A/AAAA/TXT/other RRs = LOCAL DATA (the answer is
 * synthesised from them, NODATA for a type the rule does not have).
 *
 * Lookup structure (why it is small): one zone keeps ONE arena of packed entries
 * [name length][relative lower-case wire name][action][flags][local-data index] and
 * open-addressing hash tables of 32-bit arena offsets (load <= 0.5, a 32-bit hash
 * tag next to each offset so that misses rarely touch the arena). Names are stored
 * without the zone origin. Local data and CNAME targets live in a side array only
 * for the rules that have them. A 1M-name QNAME zone costs ~50 bytes per name
 * (measured figure in docs/dns.md and test_rpz). IP triggers are kept in an array
 * sorted by prefix length, searched linearly (feeds have few of them).
 *
 * Precedence (draft section "Policy Processing" / BIND behaviour), applied by
 * cw_rpz_set_evaluate():
 *   1. the first zone in set order that has any matching trigger wins;
 *   2. within a zone: CLIENT-IP > QNAME > IP > NSDNAME > NSIP;
 *   3. QNAME/NSDNAME: an exact name beats any wildcard; among wildcards the longest
 *      (most labels) wins; a rule owning an ancestor of the name hides wildcards
 *      above it (RFC 4592 closest encloser, as Unbound's replay tests expect:
 *      rules "b.a" and "*.a" - x.b.a matches neither);
 *   4. IP triggers: the longest prefix wins; equal prefixes: the smallest address;
 *   5. multiple answer addresses / NS names are tried in the order given, the best
 *      rule by 4 over all of them wins.
 *
 * Ownership and threads: a loaded struct cw_rpz_zone is immutable; a struct
 * cw_rpz_set holds zones in order and is reference counted. Lookups on a set are
 * thread-safe (read-only). struct cw_rpz_live publishes "the current set": readers
 * take a reference (cw_rpz_live_get) for the duration of one query and drop it
 * with cw_rpz_set_unref; a reload builds a new set and swaps it in
 * (cw_rpz_live_swap); the old set is freed when its last reader lets go. */
#ifndef CW_DNS_RPZ_H
#define CW_DNS_RPZ_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CW_RPZ_LINE_MAX 4096  /* a logical line (parentheses joined) longer than this is skipped */

enum cw_rpz_trigger {
    CW_RPZ_TRIG_CLIENT_IP = 0,
    CW_RPZ_TRIG_QNAME = 1,
    CW_RPZ_TRIG_IP = 2,
    CW_RPZ_TRIG_NSDNAME = 3,
    CW_RPZ_TRIG_NSIP = 4,
    CW_RPZ_TRIG_COUNT
};

enum cw_rpz_action {
    CW_RPZ_ACT_NONE = 0, /* no match */
    CW_RPZ_ACT_NXDOMAIN,
    CW_RPZ_ACT_NODATA,
    CW_RPZ_ACT_PASSTHRU,
    CW_RPZ_ACT_DROP,
    CW_RPZ_ACT_TCP_ONLY,
    CW_RPZ_ACT_LOCAL_DATA, /* answer from rule RRs (A/AAAA/TXT/...) */
    CW_RPZ_ACT_CNAME,      /* CNAME redirect to another name */
    CW_RPZ_ACT_COUNT
};

const char *cw_rpz_trigger_name(enum cw_rpz_trigger t); /* "qname", "client-ip", ... */
const char *cw_rpz_action_name(enum cw_rpz_action a);   /* "nxdomain", "local-data", ... */

/* An address for IP triggers. family 4 uses addr[0..3]. */
struct cw_rpz_addr {
    uint8_t family; /* 4 or 6 */
    uint8_t addr[16];
};

/* One local-data RR of a rule; rdata is uncompressed wire RDATA. */
struct cw_rpz_rr {
    uint16_t type;
    uint16_t rdlen;
    uint32_t ttl;
    const uint8_t *rdata; /* lives in the zone */
};

/* A lookup result. Pointers live in the zone: valid while the caller holds a
 * reference to the set the zone is in. */
struct cw_rpz_match {
    enum cw_rpz_action action;      /* CW_RPZ_ACT_NONE: nothing matched */
    enum cw_rpz_trigger trigger;
    size_t zone_index;              /* position in the set */
    const struct cw_rpz_zone *zone;
    const char *zone_name;          /* list name for logs and the EDE text */
    bool wildcard;                  /* matched through "*." */
    uint8_t prefix;                 /* IP triggers: prefix length */
    char rule[CW_RPZ_LINE_MAX / 4]; /* trigger owner as text, relative to the zone
                                       ("*.bad.example", "32.1.2.0.10.rpz-ip") - the
                                       indicator id in logs and EDE text */
    const struct cw_rpz_rr *rrs;    /* LOCAL_DATA / CNAME: the rule's RRs */
    size_t nrr;
};

/* Load statistics, filled by the loaders. */
struct cw_rpz_stats {
    size_t lines;                        /* logical records read */
    size_t rules;                        /* distinct triggers kept */
    size_t skipped;                      /* records skipped for an error */
    size_t ignored;                      /* SOA/NS and unsupported-but-harmless records */
    size_t duplicates;                   /* repeated owner with a conflicting action (first kept) */
    size_t triggers[CW_RPZ_TRIG_COUNT];  /* rules per trigger type */
    size_t actions[CW_RPZ_ACT_COUNT];    /* rules per action */
    size_t wildcards;                    /* QNAME/NSDNAME wildcard rules */
    size_t bytes;                        /* memory held by the zone (arena + tables) */
};

/* Called once per skipped record (and for load failures) with file and line. */
typedef void (*cw_rpz_error_fn)(void *ctx, const char *file, unsigned line, const char *reason);

struct cw_rpz_load_opts {
    const char *name;        /* list name (EDE text, logs); NULL: the origin as text */
    const char *origin;      /* initial $ORIGIN (text); NULL: from $ORIGIN/the SOA owner */
    uint32_t default_ttl;    /* before any $TTL; 0 -> 3600 */
    size_t max_rules;        /* cap on rules (0: unlimited); beyond it records are skipped */
    cw_rpz_error_fn on_error; /* NULL: the first 10 errors are logged with cw_warn */
    void *ctx;
};

struct cw_rpz_zone;

/* Load a zone from text[0..n) (fname is used in error messages only) or from a
 * file. Returns the zone (caller frees with cw_rpz_zone_free, or gives it to a set)
 * or NULL with a reason in err ("no origin", "no usable record", "out of memory",
 * "cannot read ...: ..."). st may be NULL. Not thread-safe per call, but several
 * loads may run in parallel. */
struct cw_rpz_zone *cw_rpz_zone_load_mem(const char *text, size_t n, const char *fname,
                                         const struct cw_rpz_load_opts *opts,
                                         struct cw_rpz_stats *st, char *err, size_t errlen);
struct cw_rpz_zone *cw_rpz_zone_load_file(const char *path, const struct cw_rpz_load_opts *opts,
                                          struct cw_rpz_stats *st, char *err, size_t errlen);
void cw_rpz_zone_free(struct cw_rpz_zone *z);
const char *cw_rpz_zone_name(const struct cw_rpz_zone *z);
/* Origin as a canonical wire name; *len its length. */
const uint8_t *cw_rpz_zone_origin(const struct cw_rpz_zone *z, size_t *len);
const struct cw_rpz_stats *cw_rpz_zone_stats(const struct cw_rpz_zone *z);

/* Per-zone lookups (canonical lower-case wire names; see cw_dns_msg qname). Return
 * true and fill *m (zone_index 0) on a match; false otherwise. Thread-safe. */
bool cw_rpz_zone_lookup_qname(const struct cw_rpz_zone *z, const uint8_t *qname, size_t qlen,
                              struct cw_rpz_match *m);
bool cw_rpz_zone_lookup_nsdname(const struct cw_rpz_zone *z, const uint8_t *name, size_t len,
                                struct cw_rpz_match *m);
bool cw_rpz_zone_lookup_ip(const struct cw_rpz_zone *z, enum cw_rpz_trigger t,
                           const struct cw_rpz_addr *a, struct cw_rpz_match *m);

/* -- zones built from rules (the center's indicator feed, dnsd_feedzone.h) --
 *
 * A rule is named by its key: the owner a zone file would give it, relative to
 * the apex, as lower-case wire labels without the root ("\1*" first for a
 * wildcard; "P.d.c.b.a.rpz-ip" for an IP trigger, IPv6 as 8 full groups). Keys
 * let a caller probe one exact rule (cw_rpz_zone_find) instead of running the
 * precedence walk, so rules can be split over several zones and masked. */
#define CW_RPZ_KEY_MAX 255
#define CW_RPZ_TAG_MAX 128 /* a rule's tag (indicator id) with its NUL */

/* Key of a QNAME rule for name (canonical wire name with the root); wildcard:
 * "*.name". Returns the key length, or -1 when it would not fit. */
int cw_rpz_key_qname(const uint8_t *name, size_t len, bool wildcard, uint8_t out[CW_RPZ_KEY_MAX]);
/* Key of an address trigger (CLIENT-IP, IP, NSIP) for a/prefix; host bits below
 * the prefix are ignored. Returns the key length, or -1 (bad family or prefix). */
int cw_rpz_key_ip(enum cw_rpz_trigger t, const struct cw_rpz_addr *a, unsigned prefix,
                  uint8_t out[CW_RPZ_KEY_MAX]);

struct cw_rpz_builder;

/* A new zone under construction, named name (list name in EDE text and logs). */
struct cw_rpz_builder *cw_rpz_builder_new(const char *name);
/* Add the rule of key with action act (NXDOMAIN, NODATA, PASSTHRU, DROP, TCP-ONLY)
 * and an optional tag (<= CW_RPZ_TAG_MAX - 1 bytes; a match then carries the tag
 * as its rule text, e.g. the indicator id "ioc:123"). Returns 0, 1 when the key is
 * already in the zone (the first rule is kept), -1 for a malformed key or an
 * unsupported action (nothing added), -2 out of memory. */
int cw_rpz_builder_add(struct cw_rpz_builder *b, const uint8_t *key, size_t n,
                       enum cw_rpz_action act, const char *tag);
size_t cw_rpz_builder_count(const struct cw_rpz_builder *b);
/* The finished, immutable zone (an empty zone is valid); b is consumed either way.
 * NULL only when out of memory. */
struct cw_rpz_zone *cw_rpz_builder_finish(struct cw_rpz_builder *b);
void cw_rpz_builder_free(struct cw_rpz_builder *b);

/* The rule with exactly this key, if any: true with *m filled (m->rule is the tag
 * when the rule has one, else the owner text). Thread-safe. */
bool cw_rpz_zone_find(const struct cw_rpz_zone *z, const uint8_t *key, size_t n,
                      struct cw_rpz_match *m);

/* One rule as cw_rpz_zone_foreach shows it (pointers valid during the call). */
struct cw_rpz_rule_info {
    const uint8_t *key;
    size_t key_len;
    enum cw_rpz_trigger trigger;
    bool wildcard;
    enum cw_rpz_action action;
    const char *tag;         /* NULL: none */
    struct cw_rpz_addr addr; /* address triggers: the address and prefix */
    uint8_t prefix;
};
/* Call fn for every rule in load order; stops at (and returns) fn's first non-zero. */
int cw_rpz_zone_foreach(const struct cw_rpz_zone *z,
                        int (*fn)(void *ctx, const struct cw_rpz_rule_info *r), void *ctx);

/* -- sets ----------------------------------------------------------------- */

struct cw_rpz_set;

/* New empty set with refcount 1 (NULL on OOM). */
struct cw_rpz_set *cw_rpz_set_new(void);
/* Append a zone (lowest precedence so far). Ownership of z passes to the set on
 * success (0); on failure (-1, OOM) the caller still owns z. Only before the set
 * is published (not thread-safe). */
int cw_rpz_set_add(struct cw_rpz_set *s, struct cw_rpz_zone *z);
size_t cw_rpz_set_count(const struct cw_rpz_set *s);
const struct cw_rpz_zone *cw_rpz_set_zone(const struct cw_rpz_set *s, size_t i);
/* Reference counting (atomic, thread-safe). unref frees the set and its zones at 0.
 * Both accept NULL. */
struct cw_rpz_set *cw_rpz_set_ref(struct cw_rpz_set *s);
void cw_rpz_set_unref(struct cw_rpz_set *s);

/* Everything known about one query. Any part may be absent (NULL / 0): call once
 * before recursion with client + qname, and again after with the answer addresses
 * and the NS names/addresses seen; the second result is the final one. */
struct cw_rpz_query {
    const struct cw_rpz_addr *client;  /* NULL: no CLIENT-IP check */
    const uint8_t *qname;              /* canonical wire name; NULL: none */
    size_t qname_len;
    const struct cw_rpz_addr *answer_ips; /* A/AAAA addresses of the answer */
    size_t n_answer_ips;
    const uint8_t *const *ns_names;    /* canonical wire names of the NS */
    const size_t *ns_name_lens;
    size_t n_ns_names;
    const struct cw_rpz_addr *ns_ips;
    size_t n_ns_ips;
};

/* Apply the precedence rules above over all zones. Returns true with *m filled on
 * a match (PASSTHRU is a match: the caller answers normally and stops); false when
 * no zone matched. Thread-safe. */
bool cw_rpz_set_evaluate(const struct cw_rpz_set *s, const struct cw_rpz_query *q,
                         struct cw_rpz_match *m);
/* Shortcuts over all zones in order (first zone with a match wins). */
bool cw_rpz_set_lookup_qname(const struct cw_rpz_set *s, const uint8_t *qname, size_t qlen,
                             struct cw_rpz_match *m);
bool cw_rpz_set_lookup_client(const struct cw_rpz_set *s, const struct cw_rpz_addr *a,
                              struct cw_rpz_match *m);
bool cw_rpz_set_lookup_ip(const struct cw_rpz_set *s, const struct cw_rpz_addr *a,
                          struct cw_rpz_match *m);
bool cw_rpz_set_lookup_nsdname(const struct cw_rpz_set *s, const uint8_t *name, size_t len,
                               struct cw_rpz_match *m);
bool cw_rpz_set_lookup_nsip(const struct cw_rpz_set *s, const struct cw_rpz_addr *a,
                            struct cw_rpz_match *m);

/* CNAME redirect target for a match (action CNAME): the rule's target, with "*."
 * replaced by the query name for wildcard targets. Writes a wire name to out.
 * Returns 0, or -1 when the result would exceed 255 bytes (answer SERVFAIL/NXDOMAIN
 * then) or the match is not a CNAME. */
int cw_rpz_cname_target(const struct cw_rpz_match *m, const uint8_t *qname, size_t qlen,
                        uint8_t out[255], size_t *out_len);

/* Text "<list> <rule>" for RFC 8914 EXTRA-TEXT, e.g. "rpz.example bad.example";
 * NUL-terminated, cut to cap. Returns the length. */
size_t cw_rpz_match_ede_text(const struct cw_rpz_match *m, char *out, size_t cap);

/* -- the live set --------------------------------------------------------- */

struct cw_rpz_live {
    pthread_mutex_t mu;      /* held only to copy the pointer and take a reference */
    struct cw_rpz_set *cur;
};

/* init: empty (cur NULL). release: drops the reference to the current set. */
int cw_rpz_live_init(struct cw_rpz_live *l);
void cw_rpz_live_release(struct cw_rpz_live *l);
/* A reference to the current set (NULL if none); the caller unrefs it. Thread-safe. */
struct cw_rpz_set *cw_rpz_live_get(struct cw_rpz_live *l);
/* Publish s (ownership of the caller's reference passes to l) and drop the old
 * set's reference. Thread-safe; readers holding the old set keep it until unref. */
void cw_rpz_live_swap(struct cw_rpz_live *l, struct cw_rpz_set *s);

#endif
