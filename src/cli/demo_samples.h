/* demo_samples.h - sample logs for `crosswatch demo`, generated, not bundled.
 *
 * Deterministic (fixed seed): the same demo always produces the same lines, so its
 * summary is the same on every machine. The traffic imitates what a national
 * center sees at a member's gateway: ordinary browsing, scanner noise, directory
 * traversal and command injection attempts, and exploitation of edge devices
 * (Ivanti Connect Secure, FortiOS SSL-VPN, Array AG, Proself). */
#ifndef CW_CLI_DEMO_SAMPLES_H
#define CW_CLI_DEMO_SAMPLES_H

#include <stdint.h>

struct demo_sample_counts {
    int lines;   /* lines written */
    int garbage; /* lines that are deliberately not valid for the format */
};

/* Write an Apache combined access log of about n lines for site `host` whose
 * clients include `attacker` (an address that also attacks other members).
 * Returns 0 or -1 (errno set). */
int demo_write_access_log(const char *path, const char *host, const char *attacker, int n,
                          uint32_t seed, int64_t start_us, struct demo_sample_counts *out);
/* Suricata EVE JSON lines: alerts, http, dns, tls and flow events. */
int demo_write_eve(const char *path, const char *attacker, int n, uint32_t seed, int64_t start_us,
                   struct demo_sample_counts *out);
/* RFC 5424 and RFC 3164 syslog lines from a VPN appliance. */
int demo_write_syslog(const char *path, const char *attacker, int n, uint32_t seed,
                      int64_t start_us, struct demo_sample_counts *out);

#endif
