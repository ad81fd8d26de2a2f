/* attack.h - the fixed list of attack classes, and classifying IDS alerts.
 *
 * Every detection carries exactly one attack class; events are bundled per class.
 * The list is deliberately short and stable (names appear in the API, in exports
 * and in statistics). docs/triage.md describes each class. */
#ifndef CW_DETECT_ATTACK_H
#define CW_DETECT_ATTACK_H

#include <stddef.h>

#define CW_ATTACK_CLASSES(X)                                                          \
    X(PATH_TRAVERSAL, "path_traversal", "directory / path traversal, local file read")  \
    X(COMMAND_EXEC, "command_exec", "OS command injection, remote code execution")      \
    X(SQL_INJECTION, "sql_injection", "SQL injection")                                  \
    X(XSS, "xss", "cross-site scripting")                                               \
    X(SSRF, "ssrf", "server-side request forgery")                                      \
    X(TEMPLATE_JNDI, "template_jndi", "template / expression / JNDI (Log4Shell) injection") \
    X(WEBSHELL, "webshell", "file upload and web shell access")                         \
    X(CREDENTIAL, "credential", "password guessing, credential stuffing, auth bypass")  \
    X(EDGE_EXPLOIT, "edge_exploit", "exploitation of VPN gateways and edge appliances") \
    X(MALWARE_C2, "malware_c2", "malware, command and control, exfiltration")           \
    X(SCANNING, "scanning", "scanning and reconnaissance")                              \
    X(POLICY, "policy", "policy violations and informational")                          \
    X(OTHER, "other", "anything else")

enum cw_attack_class {
#define X(id, name, doc) CW_AC_##id,
    CW_ATTACK_CLASSES(X)
#undef X
    CW_AC__COUNT
};

const char *cw_attack_class_name(enum cw_attack_class c); /* "other" if out of range */
const char *cw_attack_class_doc(enum cw_attack_class c);
/* CW_AC__COUNT if the name is unknown. */
enum cw_attack_class cw_attack_class_from_name(const char *s, size_t n);
/* Class of an IDS alert from its signature name and classification text (either may
 * be NULL). Keyword rules, most specific first; documented in docs/triage.md. */
enum cw_attack_class cw_attack_classify_alert(const char *sig, size_t sn, const char *cat,
                                              size_t cn);

/* The product an IDS signature targets, as the product ids the Sigma rule pack and
 * members' assets use ("ivanti", "fortios", "citrix", "f5", "array", "proself",
 * "panos", "sonicwall"); NULL when the signature names none. Static storage. */
const char *cw_attack_product_of_alert(const char *sig, size_t sn);

#endif
