/* record.h - the one record schema every input is normalised into, and batches.
 *
 * A record has a fixed core (time, member, sensor, kind, addresses, ports,
 * transport, raw line) and a short list of typed values for kind-specific fields
 * ("http.path", "alert.signature_id", ...). The field catalogue below is the single
 * source of truth: NDJSON input and output, docs/records.md and later the Sigma
 * field mapping all read it.
 *
 * Memory: a record never owns memory. Its strings point either into the input
 * buffer the batch was parsed from (zero copy: the caller keeps that buffer alive
 * as long as the batch) or into the batch arena (unescaped JSON strings, values
 * built by a parser). cw_batch_release() frees everything the batch allocated.
 *
 * Stages take and return batches (struct cw_batch). A batch is owned by one thread
 * at a time; nothing here locks. */
#ifndef CW_COMMON_RECORD_H
#define CW_COMMON_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"

/* Record kinds. Names are stable: they appear in NDJSON and in the API. */
#define CW_KINDS(X)                \
    X(HTTP, "http")                \
    X(IDS_ALERT, "ids_alert")      \
    X(DNS, "dns")                  \
    X(FLOW, "flow")                \
    X(TLS, "tls")                  \
    X(PROCESS, "process")          \
    X(FILE, "file")                \
    X(MAIL, "mail")                \
    X(FINDING, "finding")          \
    X(CONNECTION, "connection")    \
    X(ANOMALY, "anomaly")          \
    X(LOG, "log")

enum cw_kind {
    CW_KIND_NONE = 0,
#define X(id, name) CW_KIND_##id,
    CW_KINDS(X)
#undef X
    CW_KIND__COUNT
};

enum cw_transport {
    CW_TR_NONE = 0,
    CW_TR_TCP,
    CW_TR_UDP,
    CW_TR_ICMP,
    CW_TR_ICMPV6,
    CW_TR_SCTP,
    CW_TR_OTHER,
    CW_TR__COUNT
};

enum cw_ftype { CW_FT_STR = 1, CW_FT_INT = 2 };

/* Kind-specific fields: id, dotted name, type, one-line meaning (for docs). */
#define CW_FIELDS(X)                                                                         \
    X(HTTP_METHOD, "http.method", STR, "request method")                                     \
    X(HTTP_HOST, "http.host", STR, "Host header / virtual host")                             \
    X(HTTP_PATH, "http.path", STR, "URL path as sent (not decoded)")                         \
    X(HTTP_QUERY, "http.query", STR, "query string without '?' (not decoded)")              \
    X(HTTP_VERSION, "http.version", STR, "protocol, e.g. HTTP/1.1")                          \
    X(HTTP_STATUS, "http.status", INT, "response status code")                               \
    X(HTTP_BYTES, "http.bytes", INT, "response body bytes")                                  \
    X(HTTP_USER_AGENT, "http.user_agent", STR, "User-Agent header")                          \
    X(HTTP_REFERER, "http.referer", STR, "Referer header")                                   \
    X(HTTP_CONTENT_TYPE, "http.content_type", STR, "response content type")                  \
    X(HTTP_USER, "http.user", STR, "authenticated user (access log)")                        \
    X(SRC_HOST, "src.host", STR, "client host name where a log names it instead of its address")\
    X(ALERT_SIGNATURE_ID, "alert.signature_id", INT, "IDS signature id")                     \
    X(ALERT_GID, "alert.gid", INT, "IDS generator id")                                       \
    X(ALERT_REV, "alert.rev", INT, "signature revision")                                     \
    X(ALERT_SIGNATURE, "alert.signature", STR, "signature name")                             \
    X(ALERT_CATEGORY, "alert.category", STR, "signature classification")                     \
    X(ALERT_SEVERITY, "alert.severity", INT, "1 (high) .. 4 (low)")                          \
    X(ALERT_ACTION, "alert.action", STR, "allowed or blocked")                               \
    X(DNS_TYPE, "dns.type", STR, "query or answer")                                          \
    X(DNS_ID, "dns.id", INT, "DNS message id")                                               \
    X(DNS_QNAME, "dns.qname", STR, "query name")                                             \
    X(DNS_QTYPE, "dns.qtype", STR, "query type mnemonic (A, AAAA, ...)")                     \
    X(DNS_RCODE, "dns.rcode", STR, "response code mnemonic (NOERROR, NXDOMAIN, ...)")        \
    X(DNS_ANSWERS, "dns.answers", STR, "answer data, comma separated")                       \
    X(DNS_POLICY, "dns.policy", STR, "policy action applied by a protective resolver")       \
    X(DNS_POLICY_ZONE, "dns.policy_zone", STR, "RPZ zone (list) whose rule was applied")    \
    X(DNS_POLICY_TRIGGER, "dns.policy_trigger", STR, "RPZ trigger that matched (qname, ip, ...)")\
    X(DNS_INDICATOR, "dns.indicator", STR, "indicator id of the matched policy rule")        \
    X(DNS_VIEW, "dns.view", STR, "resolver view (member) the client was served by")         \
    X(DNS_CACHE, "dns.cache", STR, "hit, miss, stale or none (answered by policy)")          \
    X(DNS_LATENCY_US, "dns.latency_us", INT, "microseconds from query to answer")            \
    X(TLS_SNI, "tls.sni", STR, "server name indication")                                     \
    X(TLS_VERSION, "tls.version", STR, "protocol version")                                   \
    X(TLS_SUBJECT, "tls.subject", STR, "server certificate subject")                         \
    X(TLS_ISSUER, "tls.issuer", STR, "server certificate issuer")                            \
    X(TLS_FINGERPRINT, "tls.fingerprint", STR, "certificate SHA-1 fingerprint")              \
    X(TLS_JA3, "tls.ja3", STR, "JA3 hash of the client hello")                               \
    X(TLS_JA3S, "tls.ja3s", STR, "JA3S hash of the server hello")                            \
    X(TLS_JA4, "tls.ja4", STR, "JA4 fingerprint")                                            \
    X(FLOW_ID, "flow.id", INT, "sensor's flow id (joins alerts, http, flow ...)")           \
    X(FLOW_PKTS_TOSERVER, "flow.pkts_toserver", INT, "packets client to server")             \
    X(FLOW_PKTS_TOCLIENT, "flow.pkts_toclient", INT, "packets server to client")             \
    X(FLOW_BYTES_TOSERVER, "flow.bytes_toserver", INT, "bytes client to server")             \
    X(FLOW_BYTES_TOCLIENT, "flow.bytes_toclient", INT, "bytes server to client")             \
    X(FLOW_STATE, "flow.state", STR, "flow state at end (new, established, closed)")         \
    X(FLOW_REASON, "flow.reason", STR, "why the flow record was written")                    \
    X(APP_PROTO, "app.proto", STR, "application protocol detected")                          \
    X(EVENT_TYPE, "event.type", STR, "sensor's own event type (EVE event_type ...)")         \
    X(FILE_NAME, "file.name", STR, "file name")                                              \
    X(FILE_SIZE, "file.size", INT, "file size in bytes")                                     \
    X(FILE_MAGIC, "file.magic", STR, "libmagic description")                                 \
    X(FILE_MD5, "file.md5", STR, "MD5, hex")                                                 \
    X(FILE_SHA1, "file.sha1", STR, "SHA-1, hex")                                             \
    X(FILE_SHA256, "file.sha256", STR, "SHA-256, hex")                                       \
    X(FILE_STATE, "file.state", STR, "CLOSED, TRUNCATED, ...")                               \
    X(PROCESS_IMAGE, "process.image", STR, "executable path")                                \
    X(PROCESS_COMMAND_LINE, "process.command_line", STR, "command line")                     \
    X(PROCESS_PARENT_IMAGE, "process.parent_image", STR, "parent executable path")           \
    X(PROCESS_PARENT_COMMAND_LINE, "process.parent_command_line", STR, "parent command line")\
    X(PROCESS_USER, "process.user", STR, "user the process runs as")                         \
    X(PROCESS_PID, "process.pid", INT, "process id")                                         \
    X(MAIL_FROM, "mail.from", STR, "envelope or header sender")                              \
    X(MAIL_TO, "mail.to", STR, "recipients, comma separated")                                \
    X(MAIL_SUBJECT, "mail.subject", STR, "subject")                                          \
    X(MAIL_MESSAGE_ID, "mail.message_id", STR, "Message-ID")                                 \
    X(FINDING_TITLE, "finding.title", STR, "what was found")                                 \
    X(FINDING_SEVERITY, "finding.severity", STR, "info, low, medium, high, critical")        \
    X(ANOMALY_TYPE, "anomaly.type", STR, "decode, stream or applayer")                       \
    X(ANOMALY_EVENT, "anomaly.event", STR, "anomaly name")                                   \
    X(LOG_HOST, "log.host", STR, "host that wrote the log line (syslog HOSTNAME)")           \
    X(LOG_APP, "log.app", STR, "program (syslog APP-NAME / TAG)")                            \
    X(LOG_PROCID, "log.procid", STR, "process id field (syslog PROCID)")                     \
    X(LOG_MSGID, "log.msgid", STR, "message type (syslog MSGID)")                            \
    X(LOG_FACILITY, "log.facility", INT, "syslog facility 0..23")                            \
    X(LOG_SEVERITY, "log.severity", INT, "syslog severity 0..7")                             \
    X(LOG_MESSAGE, "log.message", STR, "free-text message")                                 \
    X(WIN_EVENT_ID, "win.event_id", INT, "Windows event id (Event.System.EventID)")          \
    X(WIN_CHANNEL, "win.channel", STR, "Windows event log channel (Security, Sysmon ...)")   \
    X(WIN_PROVIDER, "win.provider", STR, "Windows event provider name")                      \
    X(WIN_EVENT_TYPE, "win.event_type", STR, "Sysmon EventType (SetValue, CreateKey ...)")   \
    X(PROCESS_ORIGINAL_FILE_NAME, "process.original_file_name", STR, "PE original file name")\
    X(PROCESS_CURRENT_DIRECTORY, "process.current_directory", STR, "working directory")      \
    X(PROCESS_INTEGRITY_LEVEL, "process.integrity_level", STR, "Windows integrity level")    \
    X(PROCESS_HASHES, "process.hashes", STR, "image hashes, Sysmon form (SHA256=...,MD5=...)")\
    X(FILE_PATH, "file.path", STR, "full path of the file acted on (Sysmon TargetFilename)") \
    X(REGISTRY_KEY, "registry.key", STR, "registry key path (Sysmon TargetObject)")          \
    X(REGISTRY_VALUE, "registry.value", STR, "registry value data (Sysmon Details)")

enum cw_field_id {
    CW_F_NONE = 0,
#define X(id, name, type, doc) CW_F_##id,
    CW_FIELDS(X)
#undef X
    CW_F__COUNT
};

struct cw_field_info {
    const char *name;
    enum cw_ftype type;
    const char *doc;
};

struct cw_ip {
    uint8_t family; /* 0 = absent, 4 or 6 */
    uint8_t a[16];  /* network order; IPv4 in the first 4 bytes */
};

struct cw_value {
    uint16_t id;  /* enum cw_field_id */
    uint16_t pad;
    uint32_t len; /* string length (CW_FT_STR) */
    union {
        const char *s;
        int64_t i;
    } v;
};

#define CW_MAX_VALUES 48   /* values per record; more is a parser bug or hostile input */

struct cw_record {
    int64_t ts_us;        /* UTC microseconds since the epoch */
    uint32_t member_id;   /* set by the center from the sensor key, never by input */
    uint32_t sensor_id;
    uint8_t kind;         /* enum cw_kind */
    uint8_t transport;    /* enum cw_transport */
    uint16_t sport, dport;
    uint16_t nvals;
    struct cw_ip src, dst;
    uint32_t raw_len;
    const char *raw;      /* the input line as received */
    struct cw_value *vals;
};

struct cw_reject {
    uint32_t line;      /* 1-based line number in the input */
    const char *reason; /* static string or batch arena */
};

struct cw_batch {
    struct cw_arena arena;
    struct cw_record *recs;
    uint32_t n, cap;
    struct cw_reject *rej;
    uint32_t nrej, caprej;
    /* record under construction (see cw_batch_begin) */
    bool open;
    struct cw_record cur;
    struct cw_value curvals[CW_MAX_VALUES];
};

/* -- catalogue ------------------------------------------------------------ */
const char *cw_kind_name(enum cw_kind k);          /* "" for NONE/out of range */
enum cw_kind cw_kind_from_name(const char *s, size_t n); /* CW_KIND_NONE if unknown */
const char *cw_transport_name(enum cw_transport t);
enum cw_transport cw_transport_from_name(const char *s, size_t n);
const struct cw_field_info *cw_field_info(enum cw_field_id id); /* NULL if out of range */
enum cw_field_id cw_field_from_name(const char *s, size_t n);   /* CW_F_NONE if unknown */

/* -- addresses ------------------------------------------------------------- */
/* Parse a textual IPv4/IPv6 address (not NUL-terminated). Returns 0 or -1. */
int cw_ip_parse(struct cw_ip *ip, const char *s, size_t n);
/* Format into out (at least 46 bytes). Returns length; "" for absent. */
size_t cw_ip_format(const struct cw_ip *ip, char *out);

/* -- batches --------------------------------------------------------------- */
void cw_batch_init(struct cw_batch *b);
void cw_batch_release(struct cw_batch *b);
void cw_batch_clear(struct cw_batch *b);

/* Start a record; returns it for the core fields. Values are added with the
 * setters below and the record becomes visible in b->recs only at commit.
 * Setters return -1 (and the record must be aborted) when the value table is full
 * or memory runs out. A value set twice keeps the last one. */
struct cw_record *cw_batch_begin(struct cw_batch *b);
int cw_batch_set_str(struct cw_batch *b, enum cw_field_id id, const char *s, size_t n);
int cw_batch_set_int(struct cw_batch *b, enum cw_field_id id, int64_t v);
int cw_batch_commit(struct cw_batch *b);
void cw_batch_abort(struct cw_batch *b);

/* Record a rejected input line; reason is copied into the arena. Returns 0/-1. */
int cw_batch_reject(struct cw_batch *b, uint32_t line, const char *reason);

/* -- reading a record ------------------------------------------------------ */
const struct cw_value *cw_record_get(const struct cw_record *r, enum cw_field_id id);
/* String value or NULL (sets *len). */
const char *cw_record_str(const struct cw_record *r, enum cw_field_id id, size_t *len);
/* Integer value, or dflt when absent. */
int64_t cw_record_int(const struct cw_record *r, enum cw_field_id id, int64_t dflt);

/* Append the record as one line of crosswatch NDJSON (no trailing newline).
 * with_raw = false leaves the raw line out. This is the format `ndjson` reads. */
void cw_record_to_json(const struct cw_record *r, struct cw_buf *out, bool with_raw);

#endif
