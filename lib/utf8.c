// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* UTF-8 validation and the U+FFFD sanitizer (utf8.h). */
#include <stdint.h>
#include <string.h>

#include "utf8.h"

/*
 * The length of the sequence a lead byte starts (0: it starts none) and the
 * range its second byte must be in (Unicode Table 3-7). The narrowed ranges
 * exclude overlongs (E0, F0), surrogates (ED) and code points past U+10FFFF
 * (F4); C0, C1 and F5..FF never start a sequence.
 */
static size_t seq_need(uint8_t lead, uint8_t *lo, uint8_t *hi)
{
	*lo = 0x80;
	*hi = 0xbf;
	if (lead < 0x80)
		return 1;
	if (lead < 0xc2)
		return 0;
	if (lead < 0xe0)
		return 2;
	if (lead < 0xf0) {
		*lo = lead == 0xe0 ? 0xa0 : 0x80;
		*hi = lead == 0xed ? 0x9f : 0xbf;
		return 3;
	}
	if (lead < 0xf5) {
		*lo = lead == 0xf0 ? 0x90 : 0x80;
		*hi = lead == 0xf4 ? 0x8f : 0xbf;
		return 4;
	}
	return 0;
}

/*
 * Scans the sequence at s (n >= 1 bytes): returns its length when it is
 * whole and valid, and sets *bad to 0; otherwise sets *bad to the length of
 * its maximal ill-formed subpart (>= 1: the bytes one U+FFFD replaces) and
 * returns 0.
 */
static size_t scan(const uint8_t *s, size_t n, size_t *bad)
{
	uint8_t lo, hi;
	size_t need = seq_need(s[0], &lo, &hi), i;

	*bad = 0;
	if (!need) {
		*bad = 1;
		return 0;
	}
	for (i = 1; i < need && i < n; i++) {
		if (s[i] < lo || s[i] > hi)
			break;
		lo = 0x80;
		hi = 0xbf;
	}
	if (i == need)
		return need;
	*bad = i;
	return 0;
}

size_t mm_utf8_seq_len(const void *s, size_t n)
{
	size_t bad;

	return n ? scan(s, n, &bad) : 0;
}

bool mm_utf8_valid(const void *s, size_t n)
{
	const uint8_t *p = s;
	size_t i = 0, l;

	while (i < n) {
		l = mm_utf8_seq_len(p + i, n - i);
		if (!l)
			return false;
		i += l;
	}
	return true;
}

bool mm_utf8_sanitize(char *dst, size_t size, const void *src, size_t n)
{
	const uint8_t *s = src;
	size_t len = strnlen(src, n), i = 0, o = 0, l, bad;
	bool changed = false;

	if (!size)
		return len > 0;
	while (i < len) {
		l = scan(s + i, len - i, &bad);
		if (o + (l ? l : 3) >= size) {
			changed = true; /* does not fit: stop before it */
			break;
		}
		if (l) {
			memcpy(dst + o, s + i, l);
			o += l;
			i += l;
		} else {
			memcpy(dst + o, MM_UTF8_REPLACEMENT, 3);
			o += 3;
			i += bad;
			changed = true;
		}
	}
	dst[o] = '\0';
	return changed;
}
