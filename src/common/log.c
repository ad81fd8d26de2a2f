#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "common/timefmt.h"
#include "common/banned.h"

static enum cw_log_level min_level = CW_LOG_INFO;

void cw_log_set_level(enum cw_log_level lvl) { min_level = lvl; }
bool cw_log_enabled(enum cw_log_level lvl) { return lvl >= min_level; }

void cw_log(enum cw_log_level lvl, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warning", "error"};
    if (lvl < min_level)
        return;
    char line[2048], ts[32];
    cw_time_format_iso(cw_now_us(), ts);
    int n = snprintf(line, sizeof(line), "%s crosswatch[%d] %s: ", ts, (int)getpid(),
                     names[lvl]);
    if (n < 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    line[len++] = '\n';
    ssize_t w = write(2, line, len);
    (void)w;
}
