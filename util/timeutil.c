/*
 * timeutil.c — clocks, RFC 3339, IMF-fixdate and policy durations.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/error.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/banned.h"

int64_t time_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t time_now(void)
{
	return (int64_t)time(NULL);
}

/* Reads exactly n ASCII digits at *p, advancing it; -1 when any is missing. */
static int digits(const char **p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return v;
}

static int expect(const char **p, char c)
{
	if (**p != c)
		return 0;
	(*p)++;
	return 1;
}

static int days_in_month(int year, int mon)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return mon == 2 && leap ? 29 : days[mon - 1];
}

/* Checks ranges and converts; sec 60 is a leap second (RFC 3339 §5.7),
 * which timegm rolls into the next minute. */
static int to_epoch(struct tm *tm, int64_t *out)
{
	int year = tm->tm_year + 1900, mon = tm->tm_mon + 1;

	if (mon < 1 || mon > 12 || tm->tm_mday < 1 || tm->tm_mday > days_in_month(year, mon) ||
	    tm->tm_hour > 23 || tm->tm_min > 59 || tm->tm_sec > 60)
		return -1;
	*out = (int64_t)timegm(tm);
	return 0;
}

/* RFC 3339 §5.6 time-offset: "Z" or "+hh:mm"/"-hh:mm"; seconds east. */
static int parse_offset(const char **p, int *out)
{
	int sign, hh, mm;

	if (**p == 'Z' || **p == 'z') {
		(*p)++;
		*out = 0;
		return 0;
	}
	if (**p != '+' && **p != '-')
		return -1;
	sign = **p == '-' ? -1 : 1;
	(*p)++;
	hh = digits(p, 2);
	if (hh < 0 || hh > 23 || !expect(p, ':'))
		return -1;
	mm = digits(p, 2);
	if (mm < 0 || mm > 59)
		return -1;
	*out = sign * (hh * 3600 + mm * 60);
	return 0;
}

int time_parse_rfc3339(const char *s, int64_t *out)
{
	const char *p = s;
	struct tm tm = { 0 };
	int offset;
	int64_t t;

	/* date-time = full-date "T" full-time (RFC 3339 §5.6; 't' allowed). */
	tm.tm_year = digits(&p, 4) - 1900;
	if (tm.tm_year < -1900 || !expect(&p, '-'))
		goto bad;
	tm.tm_mon = digits(&p, 2) - 1;
	if (tm.tm_mon < 0 || !expect(&p, '-') || (tm.tm_mday = digits(&p, 2)) < 0)
		goto bad;
	if (!expect(&p, 'T') && !expect(&p, 't'))
		goto bad;
	if ((tm.tm_hour = digits(&p, 2)) < 0 || !expect(&p, ':') ||
	    (tm.tm_min = digits(&p, 2)) < 0 || !expect(&p, ':') ||
	    (tm.tm_sec = digits(&p, 2)) < 0)
		goto bad;
	/* time-secfrac: at least one digit; sub-second precision is dropped. */
	if (expect(&p, '.')) {
		if (*p < '0' || *p > '9')
			goto bad;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (parse_offset(&p, &offset) < 0 || *p != '\0' || to_epoch(&tm, &t) < 0)
		goto bad;
	*out = t - offset;
	return 0;
bad:
	return error_set(RV_EINVALID, "invalid RFC 3339 time \"%s\"", s);
}

char *time_format_rfc3339(int64_t t, char *out, size_t outlen)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!outlen)
		return out;
	if (!gmtime_r(&tt, &tm) || !strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm))
		out[0] = '\0';
	return out;
}

static int name_index(const char *p, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (memcmp(p, names[i], 3) == 0)
			return i;
	return -1;
}

/* IMF-fixdate (RFC 9110 §5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT", fixed
 * width. The obsolete RFC 850 and asctime forms are not accepted. */
int time_parse_http_date(const char *s, int64_t *out)
{
	static const char *const wdays[7] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm = { 0 };
	const char *p = s;
	int64_t t;

	if (strlen(s) != 29 || name_index(p, wdays, 7) < 0)
		goto bad;
	p += 3;
	if (!expect(&p, ',') || !expect(&p, ' ') || (tm.tm_mday = digits(&p, 2)) < 0 ||
	    !expect(&p, ' '))
		goto bad;
	if ((tm.tm_mon = name_index(p, months, 12)) < 0)
		goto bad;
	p += 3;
	if (!expect(&p, ' ') || (tm.tm_year = digits(&p, 4)) < 0 || !expect(&p, ' '))
		goto bad;
	tm.tm_year -= 1900;
	if ((tm.tm_hour = digits(&p, 2)) < 0 || !expect(&p, ':') ||
	    (tm.tm_min = digits(&p, 2)) < 0 || !expect(&p, ':') ||
	    (tm.tm_sec = digits(&p, 2)) < 0 || strcmp(p, " GMT") != 0)
		goto bad;
	if (to_epoch(&tm, &t) < 0)
		goto bad;
	*out = t;
	return 0;
bad:
	return error_set(RV_EINVALID, "invalid HTTP date \"%s\"", s);
}

int time_parse_duration(const char *s, int64_t *out)
{
	static const struct { char unit; int64_t secs; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 604800 },
	};
	size_t len = strlen(s);
	int64_t mult = 1, n;
	char num[32];

	if (len == 0 || len >= sizeof(num))
		goto bad;
	memcpy(num, s, len + 1);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (num[len - 1] == units[i].unit) {
			mult = units[i].secs;
			num[len - 1] = '\0';
			break;
		}
	}
	if (str_to_int64(num, &n) < 0 || n <= 0 || n > INT64_MAX / mult)
		goto bad;
	*out = n * mult;
	return 0;
bad:
	return error_set(RV_EINVALID, "invalid duration \"%s\" (want a positive number "
	                 "with s, m, h, d or w)", s);
}
