/* test_webhook_guard.c - which addresses a member's webhook may not reach (SSRF). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "center/notify_webhook.h"
#include "testlib.h"

static int forbidden(const char *text)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    if (strchr(text, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        if (inet_pton(AF_INET6, text, &s6->sin6_addr) != 1)
            return -1;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        if (inet_pton(AF_INET, text, &s4->sin_addr) != 1)
            return -1;
    }
    return cw_webhook_addr_forbidden((const struct sockaddr *)&ss) ? 1 : 0;
}

int main(void)
{
    static const char *const refused[] = {
        "127.0.0.1", "127.1.2.3", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1",
        "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255",
        "198.18.0.1", "192.0.0.8", "::1", "::", "fe80::1", "fd00::1", "fc00::1", "ff02::1",
        "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:10.1.2.3",
    };
    static const char *const allowed[] = {
        "93.184.216.34", "8.8.8.8", "172.15.255.255", "172.32.0.1", "100.128.0.1",
        "192.0.2.1", "198.51.100.7", "2001:db8::1", "2606:4700::1111", "::ffff:93.184.216.34",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        int f = forbidden(refused[i]);
        if (f != 1)
            fprintf(stderr, "should be refused: %s\n", refused[i]);
        CHECK_EQ_INT(f, 1);
    }
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
        int f = forbidden(allowed[i]);
        if (f != 0)
            fprintf(stderr, "should be allowed: %s\n", allowed[i]);
        CHECK_EQ_INT(f, 0);
    }
    struct sockaddr unix_sa;
    memset(&unix_sa, 0, sizeof(unix_sa));
    unix_sa.sa_family = AF_UNIX;
    CHECK(cw_webhook_addr_forbidden(&unix_sa));
    return cw_test_finish("test_webhook_guard");
}
