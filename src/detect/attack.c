#include "detect/attack.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "common/banned.h"

static const char *const names[CW_AC__COUNT] = {
#define X(id, name, doc) name,
    CW_ATTACK_CLASSES(X)
#undef X
};
static const char *const docs[CW_AC__COUNT] = {
#define X(id, name, doc) doc,
    CW_ATTACK_CLASSES(X)
#undef X
};

const char *cw_attack_class_name(enum cw_attack_class c)
{
    return (unsigned)c < CW_AC__COUNT ? names[c] : "other";
}

const char *cw_attack_class_doc(enum cw_attack_class c)
{
    return (unsigned)c < CW_AC__COUNT ? docs[c] : "";
}

enum cw_attack_class cw_attack_class_from_name(const char *s, size_t n)
{
    for (int c = 0; c < CW_AC__COUNT; c++)
        if (strlen(names[c]) == n && memcmp(names[c], s, n) == 0)
            return (enum cw_attack_class)c;
    return CW_AC__COUNT;
}

/* case-insensitive substring search in a (ptr, len) string */
static bool has(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    if (!s || k > n)
        return false;
    for (size_t i = 0; i + k <= n; i++)
        if (strncasecmp(s + i, needle, k) == 0)
            return true;
    return false;
}

struct keyword_rule {
    enum cw_attack_class cls;
    const char *const words[10];
};

/* Most specific first: an ET signature "Ivanti ... Command Injection" is an edge
 * device exploit before it is a command injection, because what matters for triage
 * is which asset it targets. */
static const struct keyword_rule sig_rules[] = {
    {CW_AC_EDGE_EXPLOIT,
     {"Ivanti", "Pulse Secure", "Connect Secure", "FortiOS", "Fortinet", "FortiGate",
      "Citrix", "NetScaler", "GlobalProtect", "Array Networks"}},
    {CW_AC_EDGE_EXPLOIT, {"SonicWall", "Proself", "F5 BIG-IP", "Cisco ASA", "VPN", NULL}},
    {CW_AC_TEMPLATE_JNDI, {"Log4j", "JNDI", "Log4Shell", "Template Injection", "OGNL", "SSTI",
                           "Expression Language", NULL}},
    {CW_AC_WEBSHELL, {"Webshell", "Web Shell", "WebShell", "File Upload", NULL}},
    {CW_AC_SQL_INJECTION, {"SQL Injection", "SQLi", "UNION SELECT", " SQL ", NULL}},
    {CW_AC_XSS, {"Cross Site Scripting", "XSS", "Cross-Site Scripting", NULL}},
    {CW_AC_SSRF, {"SSRF", "Server-Side Request Forgery", "Server Side Request Forgery", NULL}},
    {CW_AC_PATH_TRAVERSAL, {"Directory Traversal", "Path Traversal", "../", "LFI",
                            "Local File Inclusion", "/etc/passwd", NULL}},
    {CW_AC_COMMAND_EXEC, {"Command Injection", "Command Execution", "Remote Code Execution",
                          "RCE", "Code Injection", "cmd.exe", "/bin/sh", NULL}},
    {CW_AC_CREDENTIAL, {"Brute Force", "Brute-Force", "Login", "Credential", "Password",
                        "Authentication Bypass", NULL}},
    {CW_AC_MALWARE_C2, {"Trojan", "Malware", "CnC", "C2", "Botnet", "Ransomware", "Backdoor",
                        "Exfiltration", "Coin Miner", NULL}},
    {CW_AC_SCANNING, {"Scan", "Nmap", "Probe", "Recon", "Nikto", "masscan", "zgrab", NULL}},
    {CW_AC_POLICY, {"POLICY", "INFO", "Inappropriate", NULL}},
};

/* Suricata classification.config texts (the alert category). */
static const struct keyword_rule cat_rules[] = {
    {CW_AC_MALWARE_C2, {"Trojan", "Malware Command and Control", "Domain Observed Used for C2",
                        "Exploit Kit", NULL}},
    {CW_AC_SCANNING, {"Attempted Information Leak", "Detection of a Network Scan", NULL}},
    {CW_AC_CREDENTIAL, {"Attempted User Privilege Gain", "Unsuccessful User Privilege Gain",
                        NULL}},
    {CW_AC_POLICY, {"Potential Corporate Privacy Violation", "Potentially Bad Traffic",
                    "Not Suspicious Traffic", "Misc activity", "Generic Protocol Command Decode",
                    "Device Retrieving External IP Address", NULL}},
};

static enum cw_attack_class match(const struct keyword_rule *rules, size_t nr, const char *s,
                                  size_t n)
{
    for (size_t i = 0; i < nr; i++)
        for (size_t w = 0; w < 10 && rules[i].words[w]; w++)
            if (has(s, n, rules[i].words[w]))
                return rules[i].cls;
    return CW_AC__COUNT;
}

enum cw_attack_class cw_attack_classify_alert(const char *sig, size_t sn, const char *cat,
                                              size_t cn)
{
    enum cw_attack_class c = match(sig_rules, sizeof(sig_rules) / sizeof(sig_rules[0]), sig, sn);
    if (c != CW_AC__COUNT)
        return c;
    c = match(cat_rules, sizeof(cat_rules) / sizeof(cat_rules[0]), cat, cn);
    if (c != CW_AC__COUNT)
        return c;
    return CW_AC_OTHER;
}

const char *cw_attack_product_of_alert(const char *sig, size_t sn)
{
    static const struct {
        const char *product;
        const char *const words[5];
    } products[] = {
        {"ivanti", {"Ivanti", "Pulse Secure", "Connect Secure", NULL}},
        {"fortios", {"FortiOS", "FortiGate", "Fortinet", NULL}},
        {"citrix", {"Citrix", "NetScaler", NULL}},
        {"f5", {"F5 BIG-IP", "BIG-IP", NULL}},
        {"array", {"Array Networks", "ArrayOS", "Array AG", NULL}},
        {"proself", {"Proself", NULL}},
        {"panos", {"GlobalProtect", "PAN-OS", NULL}},
        {"sonicwall", {"SonicWall", NULL}},
    };
    for (size_t i = 0; i < sizeof(products) / sizeof(products[0]); i++)
        for (size_t w = 0; w < 5 && products[i].words[w]; w++)
            if (has(sig, sn, products[i].words[w]))
                return products[i].product;
    return NULL;
}
