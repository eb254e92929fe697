// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * lib/utf8: the validator and the U+FFFD sanitizer. Every output is checked
 * by glibc's iconv(3) ("UTF-8", strict: no overlongs, surrogates or values
 * past U+10FFFF), which shares no code with the sanitizer. Exhaustive over
 * every 1- and 2-byte string and every code point (encoded here, by hand);
 * every overlong and out-of-range form of the 2-, 3- and 4-byte shapes; every
 * proper prefix of every multi-byte character, alone and followed by more
 * text; every 4-byte string over the bytes where the rules change. Valid input
 * comes back unchanged and unreported; the exact replacements follow
 * Unicode's example of maximal subparts (Table 3-8); the output never runs
 * past its buffer.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"

#define FFFD MM_UTF8_REPLACEMENT

static iconv_t cd = (iconv_t)-1;

static void setup(void)
{
	cd = iconv_open("UTF-32LE", "UTF-8");
	cr_assert(cd != (iconv_t)-1, "iconv_open UTF-8");
}

static void teardown(void)
{
	if (cd != (iconv_t)-1)
		iconv_close(cd);
}

TestSuite(utf8, .init = setup, .fini = teardown, .timeout = 300);

/* glibc's verdict: the n bytes at s convert completely (EILSEQ, EINVAL otherwise). */
static bool iconv_valid(const void *s, size_t n)
{
	char out[4 * 256], *in = (char *)s, *o = out;
	size_t il = n, ol = sizeof(out);

	cr_assert(lt(sz, n, 256));
	iconv(cd, NULL, NULL, NULL, NULL);
	return iconv(cd, &in, &il, &o, &ol) != (size_t)-1 && il == 0;
}

/* The encoder of RFC 3629 in n bytes (2..4 may be overlong on purpose): length. */
static size_t encode(uint32_t cp, size_t n, uint8_t *b)
{
	static const uint8_t lead[5] = {0, 0, 0xc0, 0xe0, 0xf0};

	if (n == 1) {
		b[0] = (uint8_t)cp;
		return 1;
	}
	for (size_t i = n - 1; i > 0; i--, cp >>= 6)
		b[i] = (uint8_t)(0x80 | (cp & 0x3f));
	b[0] = (uint8_t)(lead[n] | cp);
	return n;
}

static size_t shortest(uint32_t cp)
{
	return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/* Sanitize n bytes into out (always large enough); asserts the output is valid. */
static bool sanitize(const void *in, size_t n, char *out, size_t out_size)
{
	bool changed;

	cr_assert(ge(sz, out_size, MM_UTF8_SANITIZED_SIZE(n)));
	changed = mm_utf8_sanitize(out, out_size, in, n);
	cr_assert(iconv_valid(out, strlen(out)), "output of %zu bytes is not UTF-8", n);
	cr_assert(le(sz, strlen(out), 3 * n));
	return changed;
}

/* The output is k copies of U+FFFD and nothing else. */
static bool only_fffd(const char *s, size_t k)
{
	if (strlen(s) != 3 * k)
		return false;
	for (size_t i = 0; i < k; i++)
		if (memcmp(s + 3 * i, FFFD, 3))
			return false;
	return true;
}

/* Valid input (no NUL inside): identical, unreported, and the validator agrees. */
static void expect_unchanged(const uint8_t *in, size_t n)
{
	char out[MM_UTF8_SANITIZED_SIZE(8)];

	cr_assert(eq(int, sanitize(in, n, out, sizeof(out)), 0), "valid input reported as changed");
	cr_assert(eq(sz, strlen(out), n));
	cr_assert(eq(int, memcmp(out, in, n), 0));
	cr_assert(mm_utf8_valid(in, n));
}

Test(utf8, every_one_byte_string)
{
	char out[MM_UTF8_SANITIZED_SIZE(1)];

	for (unsigned int c = 1; c < 256; c++) {
		uint8_t b = (uint8_t)c;
		bool changed = sanitize(&b, 1, out, sizeof(out));

		cr_assert(eq(int, changed, c >= 0x80), "byte 0x%02x", c);
		cr_assert(eq(int, mm_utf8_valid(&b, 1), c < 0x80), "byte 0x%02x", c);
		cr_assert(eq(sz, mm_utf8_seq_len(&b, 1), c < 0x80 ? 1 : 0), "byte 0x%02x", c);
		if (c < 0x80)
			cr_assert(eq(int, (uint8_t)out[0], c));
		else
			cr_assert(only_fffd(out, 1), "byte 0x%02x", c);
	}
	/* NUL ends the string: nothing to copy, nothing changed. */
	cr_assert(eq(int, mm_utf8_sanitize(out, sizeof(out), "\0x", 2), 0));
	cr_assert(eq(str, out, ""));
}

Test(utf8, every_two_byte_string)
{
	char out[MM_UTF8_SANITIZED_SIZE(2)];
	size_t n_valid = 0;

	for (unsigned int v = 0; v < 0x10000; v++) {
		uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
		size_t n = b[0] ? (b[1] ? 2 : 1) : 0; /* up to the first NUL */
		bool valid = iconv_valid(b, n), changed = sanitize(b, 2, out, sizeof(out));

		cr_assert(eq(int, changed, !valid), "%02x %02x", b[0], b[1]);
		cr_assert(eq(int, mm_utf8_valid(b, n), valid), "%02x %02x", b[0], b[1]);
		if (valid) {
			n_valid++;
			cr_assert(eq(sz, strlen(out), n));
			cr_assert(eq(int, memcmp(out, b, n), 0), "%02x %02x", b[0], b[1]);
		} else {
			cr_assert(strstr(out, FFFD) != NULL, "%02x %02x", b[0], b[1]);
		}
	}
	/* NUL first (empty: 256), one ASCII byte then NUL, two ASCII, C2..DF + 80..BF. */
	cr_assert(eq(sz, n_valid, 256 + 127 + 127 * 127 + 30 * 64));
}

Test(utf8, every_code_point)
{
	char out[MM_UTF8_SANITIZED_SIZE(4)];
	uint8_t b[4];

	for (uint32_t cp = 1; cp <= 0x10ffff; cp++) {
		size_t n = encode(cp, shortest(cp), b);

		if (cp >= 0xd800 && cp <= 0xdfff) {
			/* ED A0..BF xx: ED alone is the maximal subpart, then two strays. */
			cr_assert(sanitize(b, n, out, sizeof(out)), "U+%04X", cp);
			cr_assert(only_fffd(out, 3), "U+%04X", cp);
			cr_assert(eq(sz, mm_utf8_seq_len(b, n), 0));
			cr_assert(eq(int, iconv_valid(b, n), 0));
			continue;
		}
		cr_assert(eq(sz, mm_utf8_seq_len(b, n), n), "U+%04X", cp);
		cr_assert(eq(sz, mm_utf8_seq_len(b, n - 1), 0), "U+%04X cut", cp);
		expect_unchanged(b, n);
	}
}

/* Overlong 2/3/4-byte forms and 4-byte forms past U+10FFFF: every byte one U+FFFD. */
Test(utf8, overlongs_and_values_past_u10ffff)
{
	char out[MM_UTF8_SANITIZED_SIZE(4)];
	uint8_t b[4];
	size_t n_cases = 0;

	for (size_t len = 2; len <= 4; len++) {
		for (uint32_t cp = 0; cp < (len == 4 ? 0x200000u : 1u << (5 * len + 1)); cp++) {
			if (len == 4 && cp >= 0x10000 && cp <= 0x10ffff)
				continue; /* the valid 4-byte range */
			if (len < 4 && shortest(cp) >= len)
				continue; /* not overlong */
			encode(cp, len, b);
			cr_assert(eq(int, iconv_valid(b, len), 0), "%zu-byte 0x%X", len, cp);
			cr_assert(sanitize(b, len, out, sizeof(out)), "%zu-byte 0x%X", len, cp);
			cr_assert(only_fffd(out, len), "%zu-byte form of 0x%X", len, cp);
			cr_assert(eq(sz, mm_utf8_seq_len(b, len), 0));
			n_cases++;
		}
	}
	cr_assert(gt(sz, n_cases, 0x100000));
}

/* A character cut anywhere, at the end or before more text: one U+FFFD for the piece. */
Test(utf8, every_truncated_character)
{
	char out[MM_UTF8_SANITIZED_SIZE(8)], want[16];
	uint8_t b[8];

	for (uint32_t cp = 0x80; cp <= 0x10ffff; cp++) {
		size_t n = shortest(cp);

		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		encode(cp, n, b);
		for (size_t k = 1; k < n; k++) {
			cr_assert(sanitize(b, k, out, sizeof(out)), "U+%04X cut at %zu", cp, k);
			cr_assert(only_fffd(out, 1), "U+%04X cut at %zu", cp, k);
			/* the same piece followed by "x" and the whole character */
			b[k] = 'x';
			encode(cp, n, b + k + 1);
			cr_assert(sanitize(b, k + 1 + n, out, sizeof(out)));
			snprintf(want, sizeof(want), FFFD "x%.*s", (int)n, (const char *)b + k + 1);
			cr_assert(eq(str, out, want), "U+%04X cut at %zu", cp, k);
			encode(cp, n, b);
		}
	}
}

/* Every 4-byte string over the bytes where the rules change, and iconv agrees. */
Test(utf8, structured_four_byte_strings)
{
	static const uint8_t edge[] = {
		0x01, 0x41, 0x7f, 0x80, 0x81, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1,
		0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4,
		0xf5, 0xf7, 0xf8, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
	};
	const size_t ne = sizeof(edge);
	char out[MM_UTF8_SANITIZED_SIZE(4)];
	size_t n_valid = 0, n_bad = 0;

	for (size_t i = 0; i < ne * ne * ne * ne; i++) {
		uint8_t b[4] = {edge[i / (ne * ne * ne)], edge[i / (ne * ne) % ne],
				edge[i / ne % ne], edge[i % ne]};
		bool valid = iconv_valid(b, 4), changed = sanitize(b, 4, out, sizeof(out));

		cr_assert(eq(int, changed, !valid), "%02x %02x %02x %02x", b[0], b[1], b[2], b[3]);
		cr_assert(eq(int, mm_utf8_valid(b, 4), valid));
		if (valid) {
			n_valid++;
			cr_assert(eq(int, memcmp(out, b, 4), 0));
			cr_assert(eq(sz, strlen(out), 4));
		} else {
			n_bad++;
		}
	}
	cr_assert(gt(sz, n_valid, 1000));
	cr_assert(gt(sz, n_bad, 1000));
}

/* Exact replacements: Unicode 15 Table 3-8 and the names a hostile process picks. */
Test(utf8, maximal_subparts_exactly)
{
	static const struct {
		const char *in, *want;
	} t[] = {
		/* The standard's own example. */
		{"\x61\xf1\x80\x80\xe1\x80\xc2\x62\x80\x63\x80\xbf\x64",
		 "a" FFFD FFFD FFFD "b" FFFD "c" FFFD FFFD "d"},
		{"\xff\xfe", FFFD FFFD},
		{"\xff\xfe" "evil", FFFD FFFD "evil"},
		{"abc\xe2\x82", "abc" FFFD},               /* cut inside a 3-byte character */
		{"abcdefghijklm\xf0\x9f", "abcdefghijklm" FFFD}, /* comm cut at 15 bytes */
		{"\xc0\xaf", FFFD FFFD},                    /* overlong '/' */
		{"\xe0\x80\xaf", FFFD FFFD FFFD},
		{"\xed\xa0\x80\xed\xbf\xbf", FFFD FFFD FFFD FFFD FFFD FFFD}, /* surrogates */
		{"\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD}, /* U+110000 */
		{"\xf0\x9f\x98\x80\xf0\x9f\x98", "\xf0\x9f\x98\x80" FFFD},
		{"caf\xc3\xa9", "caf\xc3\xa9"},
		{"\xef\xbf\xbd", "\xef\xbf\xbd"}, /* U+FFFD itself is valid */
	};
	char out[64];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		bool changed = mm_utf8_sanitize(out, sizeof(out), t[i].in, strlen(t[i].in));

		cr_assert(eq(str, out, (char *)t[i].want), "case %zu", i);
		cr_assert(eq(int, changed, strcmp(t[i].in, t[i].want) != 0), "case %zu", i);
	}
}

/* A small buffer: never written past, never cut inside a character, reported. */
Test(utf8, bounded_by_the_output_size)
{
	static const char in[] = "a\xc3\xa9\xff" "b";
	char buf[16 + 8];
	static const char *const want[] = {
		"", "", "a", "a", "a\xc3\xa9", "a\xc3\xa9", "a\xc3\xa9", "a\xc3\xa9" FFFD,
	};

	for (size_t size = 0; size < 8; size++) {
		memset(buf, 0x5a, sizeof(buf));
		cr_assert(mm_utf8_sanitize(buf, size, in, strlen(in)), "size %zu", size);
		for (size_t i = size; i < sizeof(buf); i++)
			cr_assert(eq(int, buf[i], 0x5a), "size %zu: byte %zu written", size, i);
		if (size)
			cr_assert(eq(str, buf, (char *)want[size]), "size %zu", size);
	}
	/* 8 bytes hold it all; it still reports the replacement */
	cr_assert(mm_utf8_sanitize(buf, 8, in, strlen(in)));
	cr_assert(eq(str, buf, "a\xc3\xa9" FFFD "b"));
	/* valid input: unreported only when it fits */
	cr_assert(eq(int, mm_utf8_sanitize(buf, 5, "a\xc3\xa9" "b", 4), 0));
	cr_assert(eq(str, buf, "a\xc3\xa9" "b"));
	cr_assert(mm_utf8_sanitize(buf, 4, "a\xc3\xa9" "b", 4));
	cr_assert(eq(str, buf, "a\xc3\xa9"));
}

/* The worst case, 16 bytes of 0xff (a comm), fills MM_UTF8_SANITIZED_SIZE(16) exactly. */
Test(utf8, worst_case_fits_the_documented_size)
{
	char in[16], out[MM_UTF8_SANITIZED_SIZE(16) + 1];

	memset(in, 0xff, sizeof(in));
	memset(out, 0x5a, sizeof(out));
	cr_assert(mm_utf8_sanitize(out, MM_UTF8_SANITIZED_SIZE(16), in, sizeof(in)));
	cr_assert(only_fffd(out, 16));
	cr_assert(eq(int, out[MM_UTF8_SANITIZED_SIZE(16)], 0x5a));
	/* one byte less and the last U+FFFD does not fit */
	cr_assert(mm_utf8_sanitize(out, MM_UTF8_SANITIZED_SIZE(16) - 1, in, sizeof(in)));
	cr_assert(only_fffd(out, 15));
	cr_assert(eq(sz, mm_utf8_seq_len("", 0), 0));
	cr_assert(mm_utf8_valid("", 0));
}
