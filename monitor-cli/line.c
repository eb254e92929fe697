// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The line builder (see line.h): the slow path of a put, the flush, and the
 * number formatting printf did before.
 */
#include "line.h"

void mm_line__flush(struct mm_line *l)
{
	if (l->len)
		fwrite(l->buf, 1, l->len, l->out);
	l->len = 0;
}

void mm_line__put_long(struct mm_line *l, const char *s, size_t n)
{
	mm_line__flush(l);
	if (n >= MM_LINE_CAP) {
		fwrite(s, 1, n, l->out);
		return;
	}
	memcpy(l->buf, s, n);
	l->len = n;
}

static const char digit_pairs[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

/* v in decimal, right-aligned to end at end; returns the first digit. */
static char *decimal(char *end, uint64_t v)
{
	char *p = end;
	uint32_t w;

	/* Pairs of digits; in 32 bits once v fits, cheaper to divide. */
	while (v > UINT32_MAX) {
		unsigned int i = (unsigned int)(v % 100) * 2;

		v /= 100;
		p -= 2;
		p[0] = digit_pairs[i];
		p[1] = digit_pairs[i + 1];
	}
	for (w = (uint32_t)v; w >= 100; w /= 100) {
		unsigned int i = (w % 100) * 2;

		p -= 2;
		p[0] = digit_pairs[i];
		p[1] = digit_pairs[i + 1];
	}
	if (w >= 10) {
		p -= 2;
		p[0] = digit_pairs[w * 2];
		p[1] = digit_pairs[w * 2 + 1];
	} else {
		*--p = (char)('0' + w);
	}
	return p;
}

/* Decimal digits of v. */
static unsigned int digits(uint64_t v)
{
	unsigned int n = 0;
	uint32_t w;

	while (v > UINT32_MAX) {
		v /= 10000;
		n += 4;
	}
	w = (uint32_t)v;
	return n + (w < 10 ? 1 : w < 100 ? 2 : w < 1000 ? 3 : w < 10000 ? 4 : w < 100000 ? 5
		    : w < 1000000 ? 6 : w < 10000000 ? 7 : w < 100000000 ? 8
		    : w < 1000000000 ? 9 : 10);
}

void mm_line__u64_digits(struct mm_line *l, uint64_t v)
{
	unsigned int n = digits(v);

	/* Written from the last digit back, straight into the line. */
	if (n > MM_LINE_CAP - l->len)
		mm_line__flush(l);
	decimal(l->buf + l->len + n, v);
	l->len += n;
}

void mm_line__u64_pad(struct mm_line *l, uint64_t v, unsigned int width)
{
	char tmp[20], *p = decimal(tmp + sizeof(tmp), v);

	if (width > sizeof(tmp))
		width = sizeof(tmp);
	while ((size_t)(tmp + sizeof(tmp) - p) < width)
		*--p = '0';
	mm_line__put(l, p, (size_t)(tmp + sizeof(tmp) - p));
}

static const char hex_digits[] = "0123456789abcdef";

static void hex(struct mm_line *l, uint64_t v, unsigned int width)
{
	char tmp[16], *p = tmp + sizeof(tmp);

	do {
		*--p = hex_digits[v & 0xf];
		v >>= 4;
	} while (v);
	if (width > sizeof(tmp))
		width = sizeof(tmp);
	while ((size_t)(tmp + sizeof(tmp) - p) < width)
		*--p = '0';
	mm_line__put(l, p, (size_t)(tmp + sizeof(tmp) - p));
}

void mm_line__hex(struct mm_line *l, uint64_t v)
{
	hex(l, v, 0);
}

void mm_line__hex_pad(struct mm_line *l, uint64_t v, unsigned int width)
{
	hex(l, v, width);
}

void mm_line__clean(struct mm_line *l, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	/* Clean runs are copied at once; each control character becomes one '?'. */
	while (p && *p) {
		for (n = 0; p[n] >= 0x20 && p[n] != 0x7f; n++)
			;
		mm_line__put(l, (const char *)p, n);
		p += n;
		if (*p) {
			mm_line__c(l, '?');
			p++;
		}
	}
}
