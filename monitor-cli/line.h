/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A line of output built in memory (line.c), then written to its FILE with
 * one fwrite: what the text formatter and the JSON writer put their bytes
 * into. printf would parse a format string per field and stdio take a call
 * per piece; a line is built with memcpy and hand-written number formatting
 * instead, byte for byte what the printf formats it replaces wrote
 * ("%u", "%02u", "%x", "%04x", "%" PRIu64, ...). A line longer than the
 * buffer is written in parts: nothing is truncated.
 */
#ifndef MESHMON_CLI_LINE_H
#define MESHMON_CLI_LINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MM_LINE_CAP 4096

struct mm_line {
	FILE *out;
	size_t len;
	char buf[MM_LINE_CAP];
};

static inline void mm_line__init(struct mm_line *l, FILE *out)
{
	l->out = out;
	l->len = 0;
}

/* Writes what the line holds to its FILE (the line may go on). */
void mm_line__flush(struct mm_line *l);
/* The slow path of mm_line__put: s does not fit in what is left. */
void mm_line__put_long(struct mm_line *l, const char *s, size_t n);

static inline void mm_line__put(struct mm_line *l, const char *s, size_t n)
{
	char *d = l->buf + l->len;
	uint64_t a, b;
	uint32_t c, e;

	if (n > MM_LINE_CAP - l->len) {
		mm_line__put_long(l, s, n);
		return;
	}
	/*
	 * Most pieces are short (a key, a name, an address, a time): two loads
	 * and two stores that overlap in the middle beat a call to memcpy.
	 */
	if (n > 16 && n <= 32) {
		char x[16], y[16];

		memcpy(x, s, 16);
		memcpy(y, s + n - 16, 16);
		memcpy(d, x, 16);
		memcpy(d + n - 16, y, 16);
	} else if (n >= 8 && n <= 16) {
		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
		memcpy(d, &a, 8);
		memcpy(d + n - 8, &b, 8);
	} else if (n >= 4 && n < 8) {
		memcpy(&c, s, 4);
		memcpy(&e, s + n - 4, 4);
		memcpy(d, &c, 4);
		memcpy(d + n - 4, &e, 4);
	} else if (n && n < 4) {
		d[0] = s[0];
		d[n / 2] = s[n / 2];
		d[n - 1] = s[n - 1];
	} else {
		memcpy(d, s, n);
	}
	l->len += n;
}

/* A string literal, its length known at compile time. */
#define mm_line__lit(l, s) mm_line__put((l), "" s, sizeof(s) - 1)

static inline void mm_line__str(struct mm_line *l, const char *s)
{
	mm_line__put(l, s, strlen(s));
}

static inline void mm_line__c(struct mm_line *l, char c)
{
	if (l->len == MM_LINE_CAP)
		mm_line__flush(l);
	l->buf[l->len++] = c;
}

/* The digits of v (v >= 10) written in place: the slow path of mm_line__u64. */
void mm_line__u64_digits(struct mm_line *l, uint64_t v);

/* "%" PRIu64 */
static inline void mm_line__u64(struct mm_line *l, uint64_t v)
{
	if (v < 10 && l->len < MM_LINE_CAP) {
		l->buf[l->len++] = (char)('0' + v);
		return;
	}
	mm_line__u64_digits(l, v);
}
/* "%0Nu": at least width digits (width <= 20). */
void mm_line__u64_pad(struct mm_line *l, uint64_t v, unsigned int width);
/* "%" PRIx64: lowercase, no prefix. */
void mm_line__hex(struct mm_line *l, uint64_t v);
/* "%0Nx" (width <= 16). */
void mm_line__hex_pad(struct mm_line *l, uint64_t v, unsigned int width);
/* s with every control character (below 0x20, and 0x7f) as '?'; NULL puts nothing. */
void mm_line__clean(struct mm_line *l, const char *s);

/*
 * Room for n bytes written in place (n <= MM_LINE_CAP), then
 * mm_line__commit(l, n_written).
 */
static inline char *mm_line__reserve(struct mm_line *l, size_t n)
{
	if (n > MM_LINE_CAP - l->len)
		mm_line__flush(l);
	return l->buf + l->len;
}

static inline void mm_line__commit(struct mm_line *l, size_t n)
{
	l->len += n;
}

#endif /* MESHMON_CLI_LINE_H */
