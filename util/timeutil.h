/*
 * timeutil.h — clocks and the time formats registries and policies use.
 */
#ifndef RV_UTIL_TIMEUTIL_H
#define RV_UTIL_TIMEUTIL_H

#include <stdint.h>

/* Monotonic milliseconds, for timeouts and backoff. */
int64_t time_mono_ms(void);
/* Wall-clock seconds since the epoch. */
int64_t time_now(void);
/* RFC 3339 ("2024-05-01T12:00:00Z", fractional seconds and offsets
 * accepted) to epoch seconds. RV_EINVALID on anything else. */
int time_parse_rfc3339(const char *s, int64_t *out);
/* Epoch seconds to "YYYY-MM-DDTHH:MM:SSZ"; `out` holds at least 21 bytes. */
char *time_format_rfc3339(int64_t t, char *out, size_t outlen);
/* IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), as in Retry-After. */
int time_parse_http_date(const char *s, int64_t *out);
/* "90s", "15m", "12h", "30d", "2w" to seconds; a bare number is seconds.
 * Zero, negative and overflowing values are RV_EINVALID. */
int time_parse_duration(const char *s, int64_t *out);

#endif
