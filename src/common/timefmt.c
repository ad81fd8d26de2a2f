#include "common/timefmt.h"

#include <string.h>
#include <time.h>

#include "common/banned.h"

/* Howard Hinnant's days_from_civil algorithm (public domain description). */
int64_t cw_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)((int64_t)yoe + era * 400 + (*m <= 2));
}

static int digits(const char *s, size_t n, size_t at, size_t k, int *out)
{
    if (at + k > n)
        return -1;
    int v = 0;
    for (size_t i = 0; i < k; i++) {
        unsigned char c = (unsigned char)s[at + i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *out = v;
    return 0;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

static int make_us(int y, int mo, int d, int h, int mi, int se, int64_t frac_us, int off_min,
                   int64_t *out)
{
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
        h > 23 || mi > 59 || se > 60)
        return -1;
    if (se == 60)
        se = 59; /* leap second: clamp, never reject a real log line for it */
    int64_t days = cw_days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - (int64_t)off_min * 60;
    /* An offset can move 1970-01-01 before the epoch or 9999-12-31 past year 9999;
     * cw_time_format_iso() cannot write those back, so they are out of range too. */
    if (secs < 0 || secs > 253402300799LL)
        return -1;
    *out = secs * 1000000 + frac_us;
    return 0;
}

/* offset at s[i..]: Z, +hh:mm, +hhmm, +hh; returns bytes used or -1 */
static int parse_offset(const char *s, size_t n, size_t i, int *off_min)
{
    if (i >= n)
        return -1;
    if (s[i] == 'Z' || s[i] == 'z') {
        *off_min = 0;
        return 1;
    }
    if (s[i] != '+' && s[i] != '-')
        return -1;
    int sign = s[i] == '-' ? -1 : 1, hh, mm = 0;
    if (digits(s, n, i + 1, 2, &hh))
        return -1;
    size_t used = 3;
    if (i + 3 < n && s[i + 3] == ':') {
        if (digits(s, n, i + 4, 2, &mm))
            return -1;
        used = 6;
    } else if (i + 5 <= n && digits(s, n, i + 3, 2, &mm) == 0) {
        used = 5;
    }
    if (hh > 23 || mm > 59)
        return -1;
    *off_min = sign * (hh * 60 + mm);
    return (int)used;
}

int cw_time_parse_iso(const char *s, size_t n, int64_t *out_us)
{
    int y, mo, d, h, mi, se;
    if (digits(s, n, 0, 4, &y) || n < 19 || s[4] != '-' || digits(s, n, 5, 2, &mo) ||
        s[7] != '-' || digits(s, n, 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        digits(s, n, 11, 2, &h) || s[13] != ':' || digits(s, n, 14, 2, &mi) || s[16] != ':' ||
        digits(s, n, 17, 2, &se))
        return -1;
    size_t i = 19;
    int64_t frac = 0;
    if (i < n && (s[i] == '.' || s[i] == ',')) {
        i++;
        int nd = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (nd < 6) {
                frac = frac * 10 + (s[i] - '0');
                nd++;
            }
            i++;
        }
        if (nd == 0)
            return -1;
        while (nd++ < 6)
            frac *= 10;
    }
    int off = 0;
    if (i < n) {
        int k = parse_offset(s, n, i, &off);
        if (k < 0 || i + (size_t)k != n)
            return -1;
    }
    return make_us(y, mo, d, h, mi, se, frac, off, out_us);
}

int cw_month_from_abbr(const char *s)
{
    static const char *m = "JanFebMarAprMayJunJulAugSepOctNovDec";
    for (int i = 0; i < 12; i++)
        if (s[0] == m[i * 3] && s[1] == m[i * 3 + 1] && s[2] == m[i * 3 + 2])
            return i + 1;
    return 0;
}

int cw_time_parse_clf(const char *s, size_t n, int64_t *out_us)
{
    /* 10/Oct/2000:13:55:36 -0700 */
    int d, y, h, mi, se;
    if (n < 20 || digits(s, n, 0, 2, &d) || s[2] != '/' || s[6] != '/' ||
        digits(s, n, 7, 4, &y) || s[11] != ':' || digits(s, n, 12, 2, &h) || s[14] != ':' ||
        digits(s, n, 15, 2, &mi) || s[17] != ':' || digits(s, n, 18, 2, &se))
        return -1;
    int mo = cw_month_from_abbr(s + 3);
    if (!mo)
        return -1;
    int off = 0;
    if (n > 20) {
        if (s[20] != ' ')
            return -1;
        int k = parse_offset(s, n, 21, &off);
        if (k < 0 || 21 + (size_t)k != n)
            return -1;
    }
    return make_us(y, mo, d, h, mi, se, 0, off, out_us);
}

int cw_time_parse_bsd(const char *s, size_t n, int64_t now_us, int64_t *out_us)
{
    /* "Oct 11 22:14:15" - day may be space padded */
    int d, h, mi, se;
    if (n != 15 || s[3] != ' ' || s[6] != ' ' || s[9] != ':' || s[12] != ':')
        return -1;
    int mo = cw_month_from_abbr(s);
    if (!mo)
        return -1;
    char dd[2] = {s[4] == ' ' ? '0' : s[4], s[5]};
    if (digits(dd, 2, 0, 2, &d) || digits(s, n, 7, 2, &h) || digits(s, n, 10, 2, &mi) ||
        digits(s, n, 13, 2, &se))
        return -1;
    int y;
    unsigned cm, cd;
    civil_from_days(now_us / 1000000 / 86400, &y, &cm, &cd);
    /* Feb 29 in a non-leap current year: the most recent leap year (one step back
     * is not enough: 2023 -> 2022 is not a leap year either) */
    while (mo == 2 && d == 29 && days_in_month(y, 2) == 28 && y > 1970)
        y--;
    if (make_us(y, mo, d, h, mi, se, 0, 0, out_us))
        return -1;
    if (*out_us > now_us + 86400LL * 1000000) {
        y--;
        while (mo == 2 && d == 29 && days_in_month(y, 2) == 28 && y > 1970)
            y--;
        return make_us(y, mo, d, h, mi, se, 0, 0, out_us);
    }
    return 0;
}

size_t cw_time_format_iso(int64_t us, char *out)
{
    int64_t secs = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
    int64_t frac = us - secs * 1000000;
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t rem = secs - days * 86400;
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    int h = (int)(rem / 3600), mi = (int)(rem / 60 % 60), se = (int)(rem % 60);
    if (y < 0 || y > 9999)
        y = y < 0 ? 0 : 9999;
    char *o = out;
    o[0] = (char)('0' + y / 1000);
    o[1] = (char)('0' + y / 100 % 10);
    o[2] = (char)('0' + y / 10 % 10);
    o[3] = (char)('0' + y % 10);
    o[4] = '-';
    o[5] = (char)('0' + m / 10);
    o[6] = (char)('0' + m % 10);
    o[7] = '-';
    o[8] = (char)('0' + d / 10);
    o[9] = (char)('0' + d % 10);
    o[10] = 'T';
    o[11] = (char)('0' + h / 10);
    o[12] = (char)('0' + h % 10);
    o[13] = ':';
    o[14] = (char)('0' + mi / 10);
    o[15] = (char)('0' + mi % 10);
    o[16] = ':';
    o[17] = (char)('0' + se / 10);
    o[18] = (char)('0' + se % 10);
    o[19] = '.';
    for (int i = 25; i >= 20; i--) {
        o[i] = (char)('0' + frac % 10);
        frac /= 10;
    }
    o[26] = 'Z';
    o[27] = '\0';
    return 27;
}

int64_t cw_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t cw_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
