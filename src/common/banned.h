/* banned.h - functions crosswatch code must not call.
 *
 * Included last by every crosswatch source file (through cw.h). Each of these has
 * an unbounded or thread-unsafe behaviour that has caused real vulnerabilities;
 * the bounded replacement is named in the error. */
#ifndef CW_COMMON_BANNED_H
#define CW_COMMON_BANNED_H

#define CW_BANNED(func) sorry_##func##_is_banned_use_a_bounded_alternative

#undef strcpy
#define strcpy(x, y) CW_BANNED(strcpy)
#undef strcat
#define strcat(x, y) CW_BANNED(strcat)
#undef sprintf
#define sprintf(...) CW_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) CW_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) CW_BANNED(strtok)
#undef gets
#define gets(x) CW_BANNED(gets)
#undef gmtime
#define gmtime(x) CW_BANNED(gmtime)
#undef localtime
#define localtime(x) CW_BANNED(localtime)

#endif
