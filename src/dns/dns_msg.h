/* dns_msg.h - DNS message parsing and building (RFC 1035, EDNS0 RFC 6891, EDE RFC 8914).
 *
 * Why hand-written and not ldns/libknot: this is THE hot path of the protective
 * resolver - every client query and every upstream answer passes through it twice
 * (parse, then build or rewrite). A general library allocates per RR and per name,
 * and copies the packet into an object model; here a parse allocates nothing, keeps
 * offsets into the caller's packet (zero copy) and touches each byte once. The code
 * that must be right (bounds, compression) is small enough to read and to fuzz
 * (fuzz/fuzz_dns_msg.c).
 *
 * Parsing (cw_dns_msg_parse):
 *   - the header, every question, and every RR of answer/authority/additional is
 *     walked and bounds-checked; a message whose counts claim more records than the
 *     bytes hold is an error, never an over-read;
 *   - names are decompressed with these rules: a compression pointer must point
 *     strictly backwards (before the label that holds it - this also makes loops and
 *     self-pointers impossible), at most CW_DNS_MAX_PTRS pointers per name, labels
 *     <= 63 bytes, whole name <= 255 bytes in wire form, label types 0x40/0x80
 *     refused;
 *   - the first question's name is returned as a canonical lower-case wire name
 *     (uncompressed, ASCII A-Z folded) - the key for cache and policy lookups;
 *   - an OPT RR (only one, owner root, in additional) fills struct cw_dns_edns:
 *     UDP size, DO bit, extended rcode, version, and an Extended DNS Error option.
 *   Results are offsets into the packet: the packet must outlive the cw_dns_msg.
 *
 * Building (struct cw_dns_builder): the caller gives a buffer and the largest size
 * the client accepts (its EDNS UDP size, 512 without EDNS, 65535 over TCP). Answer,
 * authority and additional RRs are appended in that order; an RR that would not fit
 * (keeping room for the OPT RR) is not written and the TC bit is set - the reply is
 * then a valid truncated message (RFC 2181 9: no partial RRsets are left behind,
 * the section stops at the last whole RR; the OPT RR is always kept).
 *
 * Names: "wire" names are uncompressed label sequences ending in the root label,
 * at most 255 bytes. Text names use presentation format with \. and \DDD escapes.
 *
 * Thread safety: every function works only on its arguments; no global state. */
#ifndef CW_DNS_DNS_MSG_H
#define CW_DNS_DNS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CW_DNS_NAME_MAX 255   /* wire form, root label included */
#define CW_DNS_LABEL_MAX 63
#define CW_DNS_TEXT_MAX 1024  /* presentation form worst case (\DDD for each byte) + NUL */
#define CW_DNS_HDR_LEN 12
#define CW_DNS_MAX_PTRS 32    /* compression pointers followed per name */
#define CW_DNS_MSG_MAX_RR 256 /* RRs kept per message; more is CW_DNS_E_TOO_MANY */
#define CW_DNS_UDP_MIN 512    /* RFC 1035 limit without EDNS */
#define CW_DNS_STALE_TTL 30   /* RFC 8767 4: TTL of a stale answer served */

/* Error codes: every parse/build function returns 0 or one of these. */
enum cw_dns_err {
    CW_DNS_OK = 0,
    CW_DNS_E_SHORT_HDR = -1,   /* fewer than 12 bytes */
    CW_DNS_E_TRUNC_NAME = -2,  /* name runs past the end of the packet */
    CW_DNS_E_LABEL_LEN = -3,   /* label longer than 63 (or text label empty) */
    CW_DNS_E_NAME_LEN = -4,    /* name longer than 255 in wire form */
    CW_DNS_E_PTR_LOOP = -5,    /* too many pointers, or a pointer to itself */
    CW_DNS_E_PTR_FORWARD = -6, /* pointer to a later offset */
    CW_DNS_E_LABEL_TYPE = -7,  /* label type 0x40 / 0x80 (extended, obsolete) */
    CW_DNS_E_TRUNC_RR = -8,    /* RR fixed part or RDATA past the end */
    CW_DNS_E_COUNTS = -9,      /* counts claim more records than the packet holds (trailing bytes are tolerated) */
    CW_DNS_E_EDNS = -10,       /* bad OPT: two OPTs, owner not root, option overrun */
    CW_DNS_E_TOO_MANY = -11,   /* more than CW_DNS_MSG_MAX_RR RRs */
    CW_DNS_E_NOSPACE = -12,    /* builder buffer too small for header+question */
    CW_DNS_E_ARG = -13,        /* bad argument (bad text name, bad escape, RDATA > 65535) */
    CW_DNS_E_NO_QUESTION = -14 /* operation needs a question and there is none */
};

/* Types, classes, rcodes, header flags used by crosswatch. */
enum {
    CW_DNS_T_A = 1, CW_DNS_T_NS = 2, CW_DNS_T_CNAME = 5, CW_DNS_T_SOA = 6, CW_DNS_T_PTR = 12,
    CW_DNS_T_MX = 15, CW_DNS_T_TXT = 16, CW_DNS_T_AAAA = 28, CW_DNS_T_OPT = 41,
    CW_DNS_T_ANY = 255, CW_DNS_C_IN = 1
};
enum { CW_DNS_R_NOERROR = 0, CW_DNS_R_FORMERR = 1, CW_DNS_R_SERVFAIL = 2, CW_DNS_R_NXDOMAIN = 3,
       CW_DNS_R_NOTIMP = 4, CW_DNS_R_REFUSED = 5 };
enum { CW_DNS_F_QR = 0x8000, CW_DNS_F_AA = 0x0400, CW_DNS_F_TC = 0x0200, CW_DNS_F_RD = 0x0100,
       CW_DNS_F_RA = 0x0080, CW_DNS_F_AD = 0x0020, CW_DNS_F_CD = 0x0010 };
/* RFC 8914 info-codes crosswatch emits. */
enum { CW_DNS_EDE_OTHER = 0, CW_DNS_EDE_STALE = 3, CW_DNS_EDE_BLOCKED = 15,
       CW_DNS_EDE_CENSORED = 16, CW_DNS_EDE_FILTERED = 17, CW_DNS_EDE_PROHIBITED = 18 };
#define CW_DNS_OPT_EDE 15 /* EDNS option code of Extended DNS Error */

enum cw_dns_section { CW_DNS_SEC_AN = 0, CW_DNS_SEC_NS = 1, CW_DNS_SEC_AR = 2 };

struct cw_dns_rr {
    uint16_t name_off;  /* owner name (maybe compressed) - decompress with cw_dns_name_unpack */
    uint16_t type, rclass;
    uint16_t ttl_off;   /* offset of the 32-bit TTL (for in-place rewriting) */
    uint32_t ttl;
    uint16_t rdata_off, rdlen;
    uint8_t section;    /* enum cw_dns_section */
};

struct cw_dns_edns {
    bool present;
    bool do_bit;
    uint8_t ext_rcode, version;
    uint16_t udp_size;    /* as sent (not clamped; see cw_dns_msg_udp_limit) */
    uint16_t rr_index;    /* index of the OPT in msg->rr */
    bool has_ede;
    uint16_t ede_code;    /* first EDE option */
    uint16_t ede_text_off, ede_text_len; /* its EXTRA-TEXT (UTF-8, not NUL-terminated) */
};

struct cw_dns_msg {
    const uint8_t *pkt;   /* borrowed */
    size_t len;
    uint16_t id, flags;   /* flags without the rcode bits */
    uint8_t opcode, rcode; /* rcode: low 4 bits from the header only */
    uint16_t qdcount, ancount, nscount, arcount;
    /* first question (qdcount >= 1) */
    bool has_question;
    uint16_t qname_off, qtype, qclass;
    uint16_t question_end; /* offset just past the last question */
    uint8_t qname[CW_DNS_NAME_MAX]; /* canonical lower-case wire name */
    uint8_t qname_len;
    uint16_t nrr;         /* = ancount + nscount + arcount */
    struct cw_dns_rr rr[CW_DNS_MSG_MAX_RR];
    struct cw_dns_edns edns;
};

/* Parse pkt[0..len). Returns CW_DNS_OK or a negative enum cw_dns_err; on error the
 * contents of *m are unspecified (but never point outside pkt). len > 65535 is an
 * error (CW_DNS_E_COUNTS). No allocation; thread-safe. */
int cw_dns_msg_parse(struct cw_dns_msg *m, const uint8_t *pkt, size_t len);
/* Only header + questions (cheap check of a client query before looking at RRs).
 * Same contract as cw_dns_msg_parse; m->nrr is 0 and edns is not filled. */
int cw_dns_msg_parse_question(struct cw_dns_msg *m, const uint8_t *pkt, size_t len);
/* The largest reply this client takes over UDP: its EDNS size clamped to
 * [512, max], or 512 without EDNS. */
uint16_t cw_dns_msg_udp_limit(const struct cw_dns_msg *m, uint16_t max);
/* Pointer to an RR's RDATA inside the packet. */
static inline const uint8_t *cw_dns_rr_rdata(const struct cw_dns_msg *m, const struct cw_dns_rr *rr)
{
    return m->pkt + rr->rdata_off;
}
const char *cw_dns_strerror(int err);

/* -- names ---------------------------------------------------------------- */

/* Decompress the name at pkt[off] into out (canonical lower-case when lower is
 * true), *out_len its wire length; *next (may be NULL) = offset just past the name
 * in the original position. out may be NULL to only validate/skip. Returns 0 or
 * an enum cw_dns_err. */
int cw_dns_name_unpack(const uint8_t *pkt, size_t len, size_t off, bool lower,
                       uint8_t out[CW_DNS_NAME_MAX], size_t *out_len, size_t *next);
/* Presentation text (s, n bytes; trailing dot optional, "." is the root; escapes
 * \X and \DDD) to a wire name, case kept. Returns 0 or CW_DNS_E_ARG /
 * CW_DNS_E_LABEL_LEN / CW_DNS_E_NAME_LEN. */
int cw_dns_name_from_text(const char *s, size_t n, uint8_t out[CW_DNS_NAME_MAX], size_t *out_len);
/* Wire name to presentation text with a trailing dot ("." for the root); bytes
 * other than letters, digits, '-', '_' and '*' are escaped (\. \\ \DDD). Writes a
 * NUL-terminated string; returns its length, or -1 if cap is too small or the wire
 * name is malformed. cap >= CW_DNS_TEXT_MAX always suffices. */
int cw_dns_name_to_text(const uint8_t *wire, size_t wlen, char *out, size_t cap);
/* Fold A-Z to a-z in place in a wire name. */
void cw_dns_name_lower(uint8_t *wire, size_t wlen);
/* Number of labels (root not counted). -1 if malformed. */
int cw_dns_name_labels(const uint8_t *wire, size_t wlen);
/* Is name equal to or below zone (both canonical lower-case wire)? */
bool cw_dns_name_is_sub(const uint8_t *name, size_t nlen, const uint8_t *zone, size_t zlen);
/* Length of a wire name from its labels; 0 if malformed or longer than max. */
size_t cw_dns_name_wire_len(const uint8_t *wire, size_t max);

/* -- building ------------------------------------------------------------- */

struct cw_dns_builder {
    uint8_t *buf;          /* caller's buffer */
    size_t cap;            /* min(buffer size, client limit) */
    size_t len;
    size_t reserve;        /* bytes kept free for the OPT RR */
    uint16_t count[3];     /* AN, NS, AR written */
    uint16_t qname_off;    /* 12 when a question was copied (compression target), 0 otherwise */
    const uint8_t *qname;  /* the question name as copied (case of the query kept) */
    uint8_t qname_len;
    int section;           /* current section; going back is an error */
    bool tc;               /* something did not fit */
    bool opt;              /* reply carries an OPT RR */
    uint16_t opt_udp;
    bool opt_do;
    int ede_code;          /* -1: none */
    const char *ede_text;
    size_t ede_text_len;
};

/* Start a reply to query q: copies id, opcode, RD, CD and the first question (name
 * bytes exactly as the client sent them, uncompressed), sets QR, the rcode and
 * extra_flags (CW_DNS_F_RA / CW_DNS_F_AA / CW_DNS_F_AD). limit is the largest
 * message the client takes (cw_dns_msg_udp_limit, or 65535 for TCP). When the query
 * had EDNS the reply gets an OPT RR (udp_size = our_udp, DO copied) at finish time.
 * Returns 0, or CW_DNS_E_NOSPACE if even header + question do not fit. */
int cw_dns_build_reply(struct cw_dns_builder *b, uint8_t *buf, size_t bufsize, size_t limit,
                       const struct cw_dns_msg *q, int rcode, uint16_t extra_flags,
                       uint16_t our_udp);
/* Attach an Extended DNS Error (RFC 8914) to the OPT RR written at finish. text is
 * copied at finish (must stay valid until then), may be NULL; it is cut at 255
 * bytes on a UTF-8 boundary. Adds an OPT RR even if the query had none only when
 * force_opt is true (RFC 8914 asks for EDNS in the query; default false). */
void cw_dns_build_ede(struct cw_dns_builder *b, uint16_t info_code, const char *text,
                      size_t text_len, bool force_opt);
/* Append one RR to section sec (sections must be appended in order AN, NS, AR).
 * owner is a wire name; when it equals the question name (case-insensitively) a
 * compression pointer to the question is written. rdata is raw RDATA (names inside
 * must be uncompressed). Returns 0 (also when the RR did not fit: then b->tc is set
 * and nothing is written, later adds are dropped too), or CW_DNS_E_ARG. */
int cw_dns_build_rr(struct cw_dns_builder *b, int sec, const uint8_t *owner, size_t owner_len,
                    uint16_t type, uint32_t ttl, const void *rdata, size_t rdlen);
/* Convenience answer-section adders for RPZ local data, owner = question name. */
int cw_dns_build_a(struct cw_dns_builder *b, uint32_t ttl, const uint8_t addr[4]);
int cw_dns_build_aaaa(struct cw_dns_builder *b, uint32_t ttl, const uint8_t addr[16]);
int cw_dns_build_cname(struct cw_dns_builder *b, uint32_t ttl, const uint8_t *target, size_t tlen);
/* TXT with one or more character-strings: text is split into 255-byte strings. */
int cw_dns_build_txt(struct cw_dns_builder *b, uint32_t ttl, const char *text, size_t n);
/* Write the OPT RR (if any), set TC if needed and the counts. *out_len = message
 * length. Returns 0 or CW_DNS_E_NOSPACE. */
int cw_dns_build_finish(struct cw_dns_builder *b, size_t *out_len);

/* One-call replies: rcode-only (NXDOMAIN / REFUSED / SERVFAIL / FORMERR, and NODATA
 * = NOERROR with an empty answer), with optional EDE (ede_code < 0: none). For a
 * query whose question could not be parsed, q may have has_question false: the
 * reply then has no question (FORMERR). Returns 0 / error as above. */
int cw_dns_reply_rcode(uint8_t *buf, size_t bufsize, size_t limit, const struct cw_dns_msg *q,
                       int rcode, int ede_code, const char *ede_text, size_t *out_len);

/* -- rewriting cached / upstream messages in place ------------------------ */

/* Subtract age seconds from the TTL of every RR except OPT (floor 0). *min_ttl (may
 * be NULL) = the smallest TTL after the change (UINT32_MAX if no RR). Returns 0 or
 * a parse error (the packet is then unchanged) - also when a compression pointer
 * points into TTL bytes and the rewrite would have changed a name (hostile
 * upstream; the message is re-parsed after the rewrite, so this costs 2 parses). */
int cw_dns_ttl_age(uint8_t *pkt, size_t len, uint32_t age, uint32_t *min_ttl);
/* The TTL fields of every RR except OPT, for aging a message many times without
 * parsing it again (the answer cache): their offsets into offs (at most cap), in
 * message order. Returns the count, or -1 when the message does not parse, has
 * more than cap such RRs, or when some compression pointer could lead a name
 * into TTL bytes or into the header (then a rewrite of the TTLs, or of the id and
 * flags of a cached copy, might change a name: use cw_dns_ttl_age). Names
 * are checked as the parser reads them (questions and owners), so a message aged
 * at these offsets parses as before - what cw_dns_ttl_age checks by re-parsing. */
int cw_dns_ttl_offsets(const uint8_t *pkt, size_t len, uint16_t *offs, size_t cap);
/* Subtract age from the TTLs at offs[0..n) (from cw_dns_ttl_offsets on the same
 * bytes; floor 0): the same result as cw_dns_ttl_age, without a parse. */
void cw_dns_ttl_age_at(uint8_t *pkt, const uint16_t *offs, size_t n, uint32_t age);
/* Set every TTL except OPT to ttl (serve-stale: CW_DNS_STALE_TTL, RFC 8767). */
int cw_dns_ttl_set(uint8_t *pkt, size_t len, uint32_t ttl);
/* Set the message id (cached answers are replayed to another query). */
void cw_dns_set_id(uint8_t *pkt, size_t len, uint16_t id);
/* Truncate an upstream reply for a UDP client with limit bytes: if len <= limit
 * nothing changes; otherwise the message keeps header + question (+ its OPT RR
 * when it fits), drops all other RRs and sets TC. *new_len = resulting length.
 * Returns 0, a parse error, or CW_DNS_E_NOSPACE (message unchanged) when header +
 * question do not fit or the question's name needs bytes of the records cut. */
int cw_dns_truncate(uint8_t *pkt, size_t len, size_t limit, size_t *new_len);

#endif
