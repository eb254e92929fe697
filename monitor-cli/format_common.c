// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What the text and JSON formatters and `meshmon status` share: time,
 * duration and address rendering, loss source names (format_common.h).
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <sys/socket.h>
#include <time.h>

#include "format_common.h"
#include "meshmon.pb-c.h"

void mm_fmt_time(uint64_t ns, char *buf, size_t cap)
{
	time_t sec = (time_t)(ns / UINT64_C(1000000000));
	struct tm tm;
	size_t n;

	gmtime_r(&sec, &tm);
	n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, cap - n, ".%09" PRIu64 "Z", ns % UINT64_C(1000000000));
}

void mm_fmt_duration(uint64_t ns, char *buf, size_t cap)
{
	if (ns < 1000u)
		snprintf(buf, cap, "%" PRIu64 "ns", ns);
	else if (ns < 1000000u)
		snprintf(buf, cap, "%" PRIu64 "us", ns / 1000);
	else if (ns < 10000000u)
		snprintf(buf, cap, "%" PRIu64 ".%" PRIu64 "ms", ns / 1000000, ns / 100000 % 10);
	else if (ns < UINT64_C(1000000000))
		snprintf(buf, cap, "%" PRIu64 "ms", ns / 1000000);
	else if (ns < UINT64_C(60000000000))
		snprintf(buf, cap, "%" PRIu64 ".%" PRIu64 "s", ns / 1000000000, ns / 100000000 % 10);
	else if (ns < UINT64_C(3600000000000))
		snprintf(buf, cap, "%" PRIu64 "m%02" PRIu64 "s", ns / UINT64_C(60000000000),
			 ns / 1000000000 % 60);
	else
		snprintf(buf, cap, "%" PRIu64 "h%02" PRIu64 "m", ns / UINT64_C(3600000000000),
			 ns / UINT64_C(60000000000) % 60);
}

static char clean_char(char c)
{
	return (unsigned char)c < 0x20 || c == 0x7f ? '?' : c;
}

void mm_fmt_clean(FILE *out, const char *s)
{
	/* Clean runs in one fwrite: stderr is unbuffered, a write per byte would be a lot. */
	while (s && *s) {
		size_t n = 0;

		while (s[n] && clean_char(s[n]) == s[n])
			n++;
		fwrite(s, 1, n, out);
		s += n;
		if (*s) {
			fputc('?', out);
			s++;
		}
	}
}

void mm_fmt_clean_buf(char *buf, size_t cap, const char *s)
{
	size_t n = 0;

	for (; s && *s && n + 1 < cap; s++)
		buf[n++] = clean_char(*s);
	buf[n] = '\0';
}

void mm_fmt_addr(const uint8_t *addr, size_t len, char *buf, size_t cap)
{
	if (cap == 0)
		return;
	buf[0] = '\0';
	if (len == 4)
		inet_ntop(AF_INET, addr, buf, (socklen_t)cap);
	else if (len == 16)
		inet_ntop(AF_INET6, addr, buf, (socklen_t)cap);
}

