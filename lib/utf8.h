/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * UTF-8 for strings that leave meshmon: every proto3 `string` the agent sends
 * must be valid UTF-8 (Python, Go and Java clients reject the whole message
 * otherwise), and so must the CLI's JSON. Bytes from outside (a process's
 * comm, an interface name) are not: any process can set its name to
 * "\xff\xfe" and the kernel cuts comm at 15 bytes, inside a character if need
 * be. One validator, used by the agent's decoder and the CLI's JSON writer.
 *
 * Validity is Unicode's (Table 3-7 of the standard, RFC 3629): no overlong
 * forms, no surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no stray
 * continuation bytes, no sequence cut short.
 */
#ifndef MESHMON_UTF8_H
#define MESHMON_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* U+FFFD REPLACEMENT CHARACTER. */
#define MM_UTF8_REPLACEMENT "\xef\xbf\xbd"

/*
 * Output size that always holds n input bytes sanitized, with the NUL: each
 * input byte becomes at most one U+FFFD (3 bytes).
 */
#define MM_UTF8_SANITIZED_SIZE(n) (3 * (n) + 1)

/*
 * The length of the valid UTF-8 sequence (one code point) at s, reading at
 * most n bytes: 1..4, or 0 when the bytes there are not a whole valid
 * sequence (or n is 0).
 */
size_t mm_utf8_seq_len(const void *s, size_t n);

/* True when the n bytes at s are valid UTF-8 (an embedded NUL is valid). */
bool mm_utf8_valid(const void *s, size_t n);

/*
 * Copies the byte string src (at most n bytes, ending early at a NUL, as
 * strnlen) into dst as valid UTF-8, NUL-terminated, when size > 0. Each
 * maximal ill-formed subpart (Unicode's "U+FFFD substitution of maximal
 * subparts", the practice of the WHATWG encoding standard and of Python's
 * errors="replace") becomes one U+FFFD. When dst is too small the copy ends
 * before the first character that does not fit, never inside one.
 *
 * Returns true when dst is not an exact copy of src: something was replaced,
 * or did not fit. A dst of MM_UTF8_SANITIZED_SIZE(n) bytes always fits.
 */
bool mm_utf8_sanitize(char *dst, size_t size, const void *src, size_t n);

#endif /* MESHMON_UTF8_H */
