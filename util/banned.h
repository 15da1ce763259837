/*
 * banned.h — functions we never call (git's banned.h). Included by every
 * project .c file after the system headers; using one of these is a compile
 * error that names the safer replacement.
 */
#ifndef RV_UTIL_BANNED_H
#define RV_UTIL_BANNED_H

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)      /* use xstrdup, memcpy with a length, or buf */
#undef strcat
#define strcat(x, y) BANNED(strcat)      /* use buf_addstr */
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy) /* use snprintf or memcpy */
#undef sprintf
#define sprintf(...) BANNED(sprintf)     /* use snprintf or xasprintf */
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)      /* use strtok_r or manual scanning */
#undef atoi
#define atoi(x) BANNED(atoi)             /* use str_to_int64 */
#undef atol
#define atol(x) BANNED(atol)
#undef gmtime
#define gmtime(x) BANNED(gmtime)         /* use gmtime_r */
#undef localtime
#define localtime(x) BANNED(localtime)   /* use localtime_r */
#undef gets
#define gets(x) BANNED(gets)

#endif
