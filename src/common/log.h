/* log.h - one logging call for the whole program.
 *
 * Lines go to stderr as "2024-05-01T12:00:00.000000Z crosswatch[pid] LEVEL: message".
 * Secrets are never passed here (keys, passwords, tokens): callers log ids. Safe from
 * any thread (one write(2) per line). */
#ifndef CW_COMMON_LOG_H
#define CW_COMMON_LOG_H

#include <stdbool.h>

enum cw_log_level { CW_LOG_DEBUG = 0, CW_LOG_INFO, CW_LOG_WARN, CW_LOG_ERROR };

void cw_log_set_level(enum cw_log_level lvl);
bool cw_log_enabled(enum cw_log_level lvl);
void cw_log(enum cw_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define cw_debug(...) do { if (cw_log_enabled(CW_LOG_DEBUG)) cw_log(CW_LOG_DEBUG, __VA_ARGS__); } while (0)
#define cw_info(...) cw_log(CW_LOG_INFO, __VA_ARGS__)
#define cw_warn(...) cw_log(CW_LOG_WARN, __VA_ARGS__)
#define cw_error(...) cw_log(CW_LOG_ERROR, __VA_ARGS__)

#endif
