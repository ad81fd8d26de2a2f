/* testlib.h - a tiny assertion library for crosswatch unit tests.
 *
 * CHECK(cond) records a failure with file:line and continues; CHECK_EQ_INT and
 * CHECK_EQ_STR print both sides. cw_test_finish() prints a summary and returns the
 * process exit status (0 only when nothing failed and at least one check ran). */
#ifndef CW_TESTS_TESTLIB_H
#define CW_TESTS_TESTLIB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

extern int cw_test_checks, cw_test_failures;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        cw_test_checks++;                                                            \
        if (!(cond)) {                                                               \
            cw_test_failures++;                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                \
    do {                                                                                  \
        long long _a = (long long)(a), _b = (long long)(b);                               \
        cw_test_checks++;                                                                 \
        if (_a != _b) {                                                                   \
            cw_test_failures++;                                                           \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, \
                    #a, #b, _a, _b);                                                      \
        }                                                                                 \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                                    \
    do {                                                                                      \
        const char *_a = (a), *_b = (b);                                                      \
        cw_test_checks++;                                                                     \
        if (!_a || !_b || strcmp(_a, _b) != 0) {                                              \
            cw_test_failures++;                                                               \
            fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, \
                    #a, #b, _a ? _a : "(null)", _b ? _b : "(null)");                         \
        }                                                                                     \
    } while (0)

/* Compare a (ptr,len) string with a C string. */
#define CHECK_EQ_MEM(p, n, s)                                                                  \
    do {                                                                                       \
        const char *_p = (p);                                                                  \
        size_t _n = (n);                                                                       \
        const char *_s = (s);                                                                  \
        cw_test_checks++;                                                                      \
        if (!_p || _n != strlen(_s) || memcmp(_p, _s, _n) != 0) {                              \
            cw_test_failures++;                                                                \
            fprintf(stderr, "%s:%d: %s == \"%s\" failed: got \"%.*s\"\n", __FILE__, __LINE__, \
                    #p, _s, _p ? (int)_n : 6, _p ? _p : "(null)");                            \
        }                                                                                      \
    } while (0)

int cw_test_finish(const char *name);
/* Path under the shared data folder (env CW_SHARED_DIR, default ../shared); static buffer. */
const char *cw_test_shared(const char *rel);
/* Read a whole file (heap, NUL-terminated); NULL on error. */
char *cw_test_read_file(const char *path, size_t *len);
/* Every UDP port-53 payload of a pcap file, in order, to fn; returns how many (0 when
 * the file is unreadable or not a little-endian Ethernet pcap). */
typedef void (*cw_test_payload_fn)(const uint8_t *p, size_t n, void *ctx);
size_t cw_test_pcap_udp53(const char *path, cw_test_payload_fn fn, void *ctx);
/* Read a .gz file fully (heap); NULL on error. */
char *cw_test_read_gz(const char *path, size_t *len);

#endif
