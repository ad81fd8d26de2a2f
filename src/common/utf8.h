/* utf8.h - UTF-8 validation (RFC 3629: no overlongs, no surrogates, <= U+10FFFF). */
#ifndef CW_COMMON_UTF8_H
#define CW_COMMON_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length (1-4) of the valid UTF-8 sequence starting at p, or 0 if p does not start
 * one (including a truncated sequence at the end). */
size_t cw_utf8_valid_prefix(const unsigned char *p, size_t n);
bool cw_utf8_valid(const char *s, size_t n);
/* Encode code point cp (must be valid) into out[4]; returns bytes written. */
size_t cw_utf8_encode(uint32_t cp, char *out);

#endif
