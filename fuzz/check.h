/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the fuzz targets assert beyond "no crash": strict UTF-8 (RFC 3629) and
 * JSON syntax (RFC 8259), written here independently of the code under test
 * (monitor-cli/json.c has its own UTF-8 reader; checking it with itself would
 * prove nothing), and the one way a target reports a broken invariant.
 */
#ifndef MESHMON_FUZZ_CHECK_H
#define MESHMON_FUZZ_CHECK_H

#include <stdbool.h>
#include <stddef.h>

/*
 * A broken invariant: prints the message and aborts, so libFuzzer saves the
 * input as a crash artifact. Compiled in every build type (no NDEBUG games).
 */
#define FUZZ_CHECK(cond, ...)                                                    \
	do {                                                                     \
		if (!(cond))                                                     \
			fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);       \
	} while (0)

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 4, 5)));

/* Whether the n bytes at s are well-formed UTF-8: no overlong forms, surrogates or
 * code points past U+10FFFF, no truncated sequence. */
bool fuzz_utf8_valid(const void *s, size_t n);

/*
 * Whether the n bytes at s are exactly one JSON object followed by nothing but
 * the end (no newline inside); strings must be valid UTF-8 without raw control
 * characters. Nesting deeper than 64 counts as invalid.
 */
bool fuzz_json_object_valid(const char *s, size_t n);

/*
 * Whether every line of the n bytes at s (each ended by '\n', the last one
 * too) is a valid JSON object. *bad_line is set to the first bad line's start.
 */
bool fuzz_json_lines_valid(const char *s, size_t n, const char **bad_line);

#endif /* MESHMON_FUZZ_CHECK_H */
