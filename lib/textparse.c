// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Strict text parsing shared by the deny rule parser, the agent and the CLI. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "textparse.h"

#define NS_PER_S 1000000000ull

int mm_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	/* strtoull would accept leading space and a sign (and wrap "-1"). */
	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int mm_errorf(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

int mm_parse_duration_ns(const char *s, uint64_t *out)
{
	static const struct {
		char unit;
		uint64_t s;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
	const uint64_t max_s = (1ull << 63) / NS_PER_S;
	uint64_t total = 0;

	if (!s || !*s)
		return -EINVAL;
	while (*s) {
		uint64_t v = 0, mult = 0;

		if (*s < '0' || *s > '9')
			return -EINVAL;
		for (; *s >= '0' && *s <= '9'; s++) {
			v = v * 10 + (uint64_t)(*s - '0');
			if (v > max_s)
				return -EINVAL;
		}
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (*s == units[i].unit)
				mult = units[i].s;
		if (!mult || v > (max_s - total) / mult)
			return -EINVAL;
		total += v * mult;
		s++;
	}
	if (!total)
		return -EINVAL;
	*out = total * NS_PER_S;
	return 0;
}

/* n decimal digits at s into *v: true when they are all digits. */
static bool digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (s[i] - '0');
	}
	return true;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* RFC 3339 section 5.6 date-time (leap seconds refused), as ns since the epoch. */
static int parse_rfc3339(const char *s, uint64_t *out)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	uint64_t frac = 0, scale = 100000000ull;
	struct tm tm;
	int64_t t;

	if (strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !digits(s + 17, 2, &sec))
		return -EINVAL;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] + (mo == 2 && leap(y)) || h > 23 || mi > 59 || sec > 59)
		return -EINVAL;
	s += 19;
	if (*s == '.') {
		if (s[1] < '0' || s[1] > '9')
			return -EINVAL;
		for (s++; *s >= '0' && *s <= '9'; s++) {
			frac += (uint64_t)(*s - '0') * scale; /* digits past 9 are below 1 ns */
			scale /= 10;
		}
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s == '+' ? 1 : -1;
		if (!digits(s + 1, 2, &oh) || s[3] != ':' || !digits(s + 4, 2, &om) || oh > 23 ||
		    om > 59)
			return -EINVAL;
		s += 6;
	} else {
		return -EINVAL;
	}
	if (*s)
		return -EINVAL;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = (int64_t)timegm(&tm) - sign * (int64_t)(oh * 3600 + om * 60);
	if (t < 0)
		return -EINVAL;
	*out = (uint64_t)t * NS_PER_S + frac;
	return 0;
}

int mm_parse_time_ns(const char *s, uint64_t now_ns, uint64_t *out)
{
	uint64_t ago;

	if (!s)
		return -EINVAL;
	if (!mm_parse_duration_ns(s, &ago)) {
		if (ago >= now_ns)
			return -EINVAL;
		*out = now_ns - ago;
		return 0;
	}
	return parse_rfc3339(s, out);
}

int mm_parse_listen_addr(const char *s)
{
	const char *colon = strrchr(s, ':');
	uint64_t port;

	if (!colon || colon == s || mm_parse_u64(colon + 1, 1, 65535, &port))
		return -EINVAL;
	return 0;
}
