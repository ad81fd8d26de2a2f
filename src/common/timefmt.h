/* timefmt.h - parsing and formatting of the timestamps found in logs.
 *
 * All results are UTC microseconds since the epoch. Parsers take a length (input is
 * not NUL-terminated), never read past it, and return 0 on success, -1 on a
 * malformed or out-of-range value. No locale, no libc time zone state: safe in any
 * thread. */
#ifndef CW_COMMON_TIMEFMT_H
#define CW_COMMON_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (no validation). */
int64_t cw_days_from_civil(int64_t y, unsigned m, unsigned d);
/* ISO 8601 / RFC 3339: 2024-05-01T12:00:00[.ffffff](Z|+hh:mm|+hhmm), also with a
 * space instead of 'T'; no offset means UTC. */
int cw_time_parse_iso(const char *s, size_t n, int64_t *out_us);
/* Common Log Format: 10/Oct/2000:13:55:36 -0700 (without brackets). */
int cw_time_parse_clf(const char *s, size_t n, int64_t *out_us);
/* RFC 3164: "Oct 11 22:14:15" (exactly 15 bytes); year taken from now_us, moved
 * back a year when that would put the date more than a day in the future. */
int cw_time_parse_bsd(const char *s, size_t n, int64_t now_us, int64_t *out_us);
/* Month abbreviation (Jan..Dec, case-sensitive) to 1..12, 0 if none. */
int cw_month_from_abbr(const char *s);
/* 2024-05-01T12:00:00.123456Z into out (at least 32 bytes); returns length. */
size_t cw_time_format_iso(int64_t us, char *out);
int64_t cw_now_us(void);
int64_t cw_monotonic_ms(void);

#endif
