// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What the text and JSON formatters and `meshmon status` share: time,
 * duration and address rendering, loss source names (format_common.h).
 */
#include <inttypes.h>
#include <string.h>

#include "format_common.h"
#include "meshmon.pb-c.h"

/* v in decimal at p; returns the end. */
static char *put_dec(char *p, uint64_t v)
{
	char tmp[20], *q = tmp + sizeof(tmp);
	size_t n;

	do {
		*--q = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	n = (size_t)(tmp + sizeof(tmp) - q);
	memcpy(p, q, n);
	return p + n;
}

/* v (< 100) as two digits at p; returns the end. */
static char *put_dec2(char *p, uint64_t v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
	return p + 2;
}

/* What snprintf(buf, cap, "%s", s) writes, s of length n; returns the length written. */
static size_t copy_out(char *buf, size_t cap, const char *s, size_t n)
{
	if (cap == 0)
		return 0;
	if (n > cap - 1)
		n = cap - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return n;
}

/*
 * "%Y-%m-%dT%H:%M:%S" of the UTC second sec at p, as gmtime_r and strftime
 * write it (sec < 2^64 / 10^9: four-digit years); returns the length. The
 * date is Howard Hinnant's civil_from_days: no time zone lock, no tables.
 */
static size_t put_utc_second(char *p, uint64_t sec)
{
	uint64_t days = sec / 86400, rem = sec % 86400;
	/* Days since 0000-03-01, in 400-year eras of 146097 days. */
	uint64_t z = days + 719468, era = z / 146097;
	unsigned int doe = (unsigned int)(z - era * 146097);
	unsigned int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned int mp = (5 * doy + 2) / 153;
	unsigned int d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
	uint64_t y = yoe + era * 400 + (m <= 2);
	char *q = p;

	q = put_dec(q, y);
	*q++ = '-';
	q = put_dec2(q, m);
	*q++ = '-';
	q = put_dec2(q, d);
	*q++ = 'T';
	q = put_dec2(q, rem / 3600);
	*q++ = ':';
	q = put_dec2(q, rem / 60 % 60);
	*q++ = ':';
	q = put_dec2(q, rem % 60);
	return (size_t)(q - p);
}

size_t mm_fmt_time(uint64_t ns, char *buf, size_t cap)
{
	/*
	 * A stream's events come many to a second: each second is formatted once
	 * and kept, in a direct-mapped cache so that the start times of
	 * tcp_probe reports, seconds of their own, do not push out the stream's
	 * current second.
	 */
	static __thread struct {
		bool valid;
		uint64_t sec;
		size_t len;
		char text[32];
	} cache[64];
	uint64_t sec = ns / UINT64_C(1000000000), frac = ns % UINT64_C(1000000000);
	__typeof__(cache[0]) *c = &cache[sec % 64];
	char out[64], *p;
	int i;

	if (!c->valid || c->sec != sec) {
		c->len = put_utc_second(c->text, sec);
		c->sec = sec;
		c->valid = true;
	}
	memcpy(out, c->text, c->len);
	p = out + c->len;
	/* ".%09" PRIu64 "Z" */
	*p++ = '.';
	for (i = 8; i >= 0; i--) {
		p[i] = (char)('0' + frac % 10);
		frac /= 10;
	}
	p += 9;
	*p++ = 'Z';
	return copy_out(buf, cap, out, (size_t)(p - out));
}

void mm_fmt_duration(uint64_t ns, char *buf, size_t cap)
{
	char out[48], *p = out;

	if (ns < 1000u) {
		p = put_dec(p, ns);
		*p++ = 'n';
		*p++ = 's';
	} else if (ns < 1000000u) {
		p = put_dec(p, ns / 1000);
		*p++ = 'u';
		*p++ = 's';
	} else if (ns < 10000000u) {
		p = put_dec(p, ns / 1000000);
		*p++ = '.';
		*p++ = (char)('0' + ns / 100000 % 10);
		*p++ = 'm';
		*p++ = 's';
	} else if (ns < UINT64_C(1000000000)) {
		p = put_dec(p, ns / 1000000);
		*p++ = 'm';
		*p++ = 's';
	} else if (ns < UINT64_C(60000000000)) {
		p = put_dec(p, ns / 1000000000);
		*p++ = '.';
		*p++ = (char)('0' + ns / 100000000 % 10);
		*p++ = 's';
	} else if (ns < UINT64_C(3600000000000)) {
		p = put_dec(p, ns / UINT64_C(60000000000));
		*p++ = 'm';
		p = put_dec2(p, ns / 1000000000 % 60);
		*p++ = 's';
	} else {
		p = put_dec(p, ns / UINT64_C(3600000000000));
		*p++ = 'h';
		p = put_dec2(p, ns / UINT64_C(60000000000) % 60);
		*p++ = 'm';
	}
	copy_out(buf, cap, out, (size_t)(p - out));
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

/* An octet's digits and their number: a table, so no branch depends on the address. */
struct octet {
	char len;
	char s[3];
};

#define OCT(n)                                                                           \
	{ (n) < 10 ? 1 : (n) < 100 ? 2 : 3,                                              \
	  { (char)((n) < 10 ? '0' + (n) : (n) < 100 ? '0' + (n) / 10 : '0' + (n) / 100), \
	    (char)((n) < 10 ? 0 : (n) < 100 ? '0' + (n) % 10 : '0' + (n) / 10 % 10),      \
	    (char)((n) < 100 ? 0 : '0' + (n) % 10) } }
#define OCT4(n) OCT(n), OCT((n) + 1), OCT((n) + 2), OCT((n) + 3)
#define OCT16(n) OCT4(n), OCT4((n) + 4), OCT4((n) + 8), OCT4((n) + 12)
#define OCT64(n) OCT16(n), OCT16((n) + 16), OCT16((n) + 32), OCT16((n) + 48)

static const struct octet octets[256] = { OCT64(0), OCT64(64), OCT64(128), OCT64(192) };

/* a.b.c.d at p (which has room for 4 bytes past the text); returns the end. */
static char *put_ipv4(char *p, const uint8_t *a)
{
	unsigned int i;

	for (i = 0; i < 4; i++) {
		const struct octet *o = &octets[a[i]];

		memcpy(p, o->s, 3);
		p += o->len;
		*p = '.';
		p += i < 3;
	}
	return p;
}

/*
 * As glibc's inet_ntop (BIND's inet_ntop6) writes it, byte for byte: the
 * longest run of two or more zero groups (the first of equal ones) as "::",
 * groups in lowercase hex without leading zeros, and the last 32 bits as a
 * dotted quad for IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible
 * (::a.b.c.d) addresses. tests/test_cli_format.c checks it against inet_ntop.
 */
static char *put_ipv6(char *p, const uint8_t *a)
{
	static const char hex[] = "0123456789abcdef";
	int best = -1, best_len = 0, cur = -1, cur_len = 0, i, shift;
	unsigned int w[8];

	for (i = 0; i < 8; i++) {
		w[i] = (unsigned int)a[2 * i] << 8 | a[2 * i + 1];
		if (w[i] == 0) {
			if (cur < 0)
				cur = i, cur_len = 0;
			cur_len++;
			continue;
		}
		if (cur >= 0 && (best < 0 || cur_len > best_len))
			best = cur, best_len = cur_len;
		cur = -1;
	}
	if (cur >= 0 && (best < 0 || cur_len > best_len))
		best = cur, best_len = cur_len;
	if (best >= 0 && best_len < 2)
		best = -1;
	for (i = 0; i < 8; i++) {
		if (best >= 0 && i >= best && i < best + best_len) {
			if (i == best)
				*p++ = ':';
			continue;
		}
		if (i)
			*p++ = ':';
		if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff)))
			return put_ipv4(p, a + 12);
		for (shift = 12; shift > 0 && !(w[i] >> shift); shift -= 4)
			;
		for (; shift >= 0; shift -= 4)
			*p++ = hex[w[i] >> shift & 0xf];
	}
	if (best >= 0 && best + best_len == 8)
		*p++ = ':';
	return p;
}

size_t mm_fmt_addr(const uint8_t *addr, size_t len, char *buf, size_t cap)
{
	char out[48], *p = out;

	if (cap == 0)
		return 0;
	buf[0] = '\0';
	if (len == 4)
		p = put_ipv4(p, addr);
	else if (len == 16)
		p = put_ipv6(p, addr);
	else
		return 0;
	/* inet_ntop writes nothing when the text does not fit. */
	if ((size_t)(p - out) >= cap)
		return 0;
	memcpy(buf, out, (size_t)(p - out));
	buf[p - out] = '\0';
	return (size_t)(p - out);
}

void mm_fmt_set_node(struct mm_fmt *f, struct mm_fmt_node *keep, const char *hello_node)
{
	snprintf(keep->name, sizeof(keep->name), "%s", hello_node ? hello_node : "");
	f->node = keep->name;
}
