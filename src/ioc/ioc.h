/* ioc.h - indicators of compromise: types, TLP markings, canonical forms, and the
 * guard that refuses indicators which would block the world.
 *
 * Every indicator is stored, matched and exported in ONE canonical form, produced by
 * cw_ioc_normalize(); importers (STIX, MISP, CSV, plain lists), the sample analyser
 * and the API all go through it, so "EXAMPLE.com.", "example[.]com" and
 * "example.com" are the same indicator everywhere.
 *
 * Canonical forms:
 *   domain    lower-case, no trailing dot, refanged; matches the name and every
 *             name below it (evil.example also matches a.b.evil.example)
 *   hostname  as domain, but matches that exact name only
 *   url       refanged ("hxxp", "[.]", "[:]"), scheme and host lower-case, default
 *             port dropped, empty path -> "/", path and query kept as sent
 *   ipv4/ipv6 inet_ntop() text of the address
 *   cidr      "a.b.c.d/n" or "v6/n" with host bits cleared (a /32 or /128 stays a cidr)
 *   email     local part as sent, domain lower-case
 *   md5/sha1/sha256/ja3  lower-case hex of the right length
 *   ja4       as sent, lower-case (format "t13d1516h2_8daaf6152771_b186095e22b6")
 *   user-agent  as sent, surrounding white space trimmed
 *
 * Thread-safety: everything here is pure, except the guard, which is immutable once
 * built and may be shared by threads. */
#ifndef CW_IOC_IOC_H
#define CW_IOC_IOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CW_IOC_VALUE_MAX 2048 /* longest canonical value, bytes incl. NUL */

enum cw_ioc_type {
    CW_IOC_NONE = 0,
    CW_IOC_DOMAIN,
    CW_IOC_HOSTNAME,
    CW_IOC_URL,
    CW_IOC_IPV4,
    CW_IOC_IPV6,
    CW_IOC_CIDR,
    CW_IOC_EMAIL,
    CW_IOC_MD5,
    CW_IOC_SHA1,
    CW_IOC_SHA256,
    CW_IOC_JA3,
    CW_IOC_JA4,
    CW_IOC_USER_AGENT,
    CW_IOC__COUNT
};

/* TLP 2.0 (FIRST): who may receive an indicator. Ordered from widest to narrowest
 * audience, so "may X be shared with an audience cleared to T" is tlp <= T. */
enum cw_tlp {
    CW_TLP_CLEAR = 0,
    CW_TLP_GREEN,
    CW_TLP_AMBER,
    CW_TLP_AMBER_STRICT,
    CW_TLP_RED,
    CW_TLP__COUNT
};

/* Where an indicator came from. */
enum cw_ioc_source { CW_IOC_SRC_SAMPLE = 1, CW_IOC_SRC_ANALYST, CW_IOC_SRC_FEED };

/* "domain", "hostname", "url", "ipv4", "ipv6", "cidr", "email", "md5", "sha1",
 * "sha256", "ja3", "ja4", "user-agent"; NULL for an invalid type. */
const char *cw_ioc_type_name(enum cw_ioc_type t);
/* The reverse (exact names above). CW_IOC_NONE when unknown. */
enum cw_ioc_type cw_ioc_type_from_name(const char *s);

/* "CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED". */
const char *cw_tlp_name(enum cw_tlp t);
/* Case-insensitive, with or without a "TLP:" prefix; "WHITE" (TLP 1.0) is CLEAR.
 * Returns 0 or -1 when unknown. */
int cw_tlp_from_name(const char *s, enum cw_tlp *out);

/* Undo common defanging into out (always NUL-terminated): hxxp/hxxps/fxp, "[.]",
 * "(.)", "{.}", "[dot]", "[:]", "[://]", "[@]", "[at]". Returns the output length. */
size_t cw_ioc_refang(const char *in, size_t len, char *out, size_t cap);

/* Write the canonical form of value in[0..len) as type t into out (NUL-terminated).
 * Returns 0, or -1 with a reason in err ("not a valid IPv4 address", "sha256 must be
 * 64 hex digits", "domain has an empty label", ...). */
int cw_ioc_normalize(enum cw_ioc_type t, const char *in, size_t len, char *out, size_t cap,
                     char *err, size_t errlen);

/* Best guess of the type of a bare value (plain lists, CSV without a type column):
 * address, cidr, url (has a scheme), email, hashes by length, else domain when it
 * looks like one. CW_IOC_NONE when nothing fits. */
enum cw_ioc_type cw_ioc_guess(const char *in, size_t len);

/* The guard: indicators that would block far too much are refused unless forced.
 * Built from a MISP warninglists folder (../shared/data/misp/warninglists layout;
 * lists of popular domains, public resolvers, CDN/cloud ranges ...) plus built-in
 * rules: public suffixes (libpsl) and TLDs, CIDRs wider than /8 (IPv4) or /32
 * (IPv6), unspecified/loopback/private/multicast addresses, very short hashes. */
struct cw_ioc_guard;

/* dir NULL or "" = built-in rules only. NULL with err on failure. */
struct cw_ioc_guard *cw_ioc_guard_new(const char *warninglists_dir, char *err, size_t errlen);
void cw_ioc_guard_free(struct cw_ioc_guard *g);
/* canon must be canonical. Returns NULL when the indicator is acceptable, else a
 * reason written to buf ("com is a public suffix", "8.8.8.8 is on the warninglist
 * 'List of known IPv4 public DNS resolvers'", "0.0.0.0/0 is wider than /8"). */
const char *cw_ioc_guard_check(const struct cw_ioc_guard *g, enum cw_ioc_type t,
                               const char *canon, char *buf, size_t cap);

/* Helpers for callers that hold canonical values (added after the first contract):
 * the family (4 or 6) of an address text in[0..len), its bytes in addr (network
 * order, IPv4 in addr[0..3]); 0 when it is not an address. */
int cw_ioc_parse_addr(const char *in, size_t len, uint8_t addr[16]);
/* The family of a "network/prefix" text, its network in addr (host bits cleared)
 * and the prefix length; 0 when it is not a CIDR. */
int cw_ioc_parse_cidr(const char *in, size_t len, uint8_t addr[16], unsigned *prefix);

#endif
