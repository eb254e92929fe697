// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The fuzz targets' independent checkers (check.h). */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/*
 * Sanitizer defaults of every fuzz target (UBSAN_OPTIONS and ASAN_OPTIONS add
 * to them): an UndefinedBehaviorSanitizer report is a crash, with its stack, so
 * libFuzzer keeps the input, even when run by hand without options.
 */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: invariant broken: %s: ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* Length of the well-formed sequence at s (n bytes left), or 0 (RFC 3629, table 3-7 of Unicode). */
static size_t utf8_seq(const uint8_t *s, size_t n)
{
	uint8_t lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0; /* a continuation byte, C0/C1 (overlong) or F5..FF */
	if (s[0] == 0xe0)
		lo = 0xa0; /* overlong below U+0800 */
	else if (s[0] == 0xed)
		hi = 0x9f; /* surrogates U+D800..U+DFFF */
	else if (s[0] == 0xf0)
		lo = 0x90; /* overlong below U+10000 */
	else if (s[0] == 0xf4)
		hi = 0x8f; /* past U+10FFFF */
	if (len > n || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

bool fuzz_utf8_valid(const void *p, size_t n)
{
	const uint8_t *s = p;
	size_t i = 0, l;

	while (i < n) {
		l = utf8_seq(s + i, n - i);
		if (!l)
			return false;
		i += l;
	}
	return true;
}

/* A recursive-descent JSON reader over [p, end): each returns false on a syntax error. */
struct json_in {
	const char *p, *end;
	int depth;
};

static void ws(struct json_in *in)
{
	while (in->p < in->end && (*in->p == ' ' || *in->p == '\t' || *in->p == '\r'))
		in->p++;
}

static bool lit(struct json_in *in, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(in->end - in->p) < n || memcmp(in->p, word, n))
		return false;
	in->p += n;
	return true;
}

static bool hex4(struct json_in *in)
{
	for (int i = 0; i < 4; i++, in->p++) {
		char c;

		if (in->p >= in->end)
			return false;
		c = *in->p;
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

static bool string(struct json_in *in)
{
	const char *start;

	if (in->p >= in->end || *in->p != '"')
		return false;
	start = ++in->p;
	while (in->p < in->end && *in->p != '"') {
		unsigned char c = (unsigned char)*in->p;

		if (c < 0x20)
			return false;
		if (c != '\\') {
			in->p++;
			continue;
		}
		if (++in->p >= in->end)
			return false;
		switch (*in->p++) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
			break;
		case 'u':
			if (!hex4(in))
				return false;
			break;
		default:
			return false;
		}
	}
	if (in->p >= in->end || !fuzz_utf8_valid(start, (size_t)(in->p - start)))
		return false;
	in->p++;
	return true;
}

static bool digits(struct json_in *in)
{
	const char *s = in->p;

	while (in->p < in->end && *in->p >= '0' && *in->p <= '9')
		in->p++;
	return in->p > s;
}

static bool number(struct json_in *in)
{
	if (in->p < in->end && *in->p == '-')
		in->p++;
	if (in->p < in->end && *in->p == '0')
		in->p++;
	else if (!digits(in))
		return false;
	if (in->p < in->end && *in->p == '.') {
		in->p++;
		if (!digits(in))
			return false;
	}
	if (in->p < in->end && (*in->p == 'e' || *in->p == 'E')) {
		in->p++;
		if (in->p < in->end && (*in->p == '+' || *in->p == '-'))
			in->p++;
		if (!digits(in))
			return false;
	}
	return true;
}

static bool value(struct json_in *in);

/* An object or array: open char, members, close char. */
static bool compound(struct json_in *in, char close, bool object)
{
	if (++in->depth > 64)
		return false;
	in->p++;
	ws(in);
	if (in->p < in->end && *in->p == close) {
		in->p++;
		in->depth--;
		return true;
	}
	for (;;) {
		ws(in);
		if (object) {
			if (!string(in))
				return false;
			ws(in);
			if (in->p >= in->end || *in->p++ != ':')
				return false;
		}
		if (!value(in))
			return false;
		ws(in);
		if (in->p >= in->end)
			return false;
		if (*in->p == ',') {
			in->p++;
			continue;
		}
		if (*in->p++ != close)
			return false;
		in->depth--;
		return true;
	}
}

static bool value(struct json_in *in)
{
	ws(in);
	if (in->p >= in->end)
		return false;
	switch (*in->p) {
	case '{':
		return compound(in, '}', true);
	case '[':
		return compound(in, ']', false);
	case '"':
		return string(in);
	case 't':
		return lit(in, "true");
	case 'f':
		return lit(in, "false");
	case 'n':
		return lit(in, "null");
	default:
		return number(in);
	}
}

bool fuzz_json_object_valid(const char *s, size_t n)
{
	struct json_in in = { .p = s, .end = s + n };

	ws(&in);
	if (in.p >= in.end || *in.p != '{' || !value(&in))
		return false;
	ws(&in);
	return in.p == in.end;
}

bool fuzz_json_lines_valid(const char *s, size_t n, const char **bad_line)
{
	const char *end = s + n, *nl;

	while (s < end) {
		nl = memchr(s, '\n', (size_t)(end - s));
		if (!nl || !fuzz_json_object_valid(s, (size_t)(nl - s))) {
			*bad_line = s;
			return false;
		}
		s = nl + 1;
	}
	return true;
}
