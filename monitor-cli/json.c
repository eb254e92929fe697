// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The shared JSON writer (see json.h). Strings are escaped per RFC 8259:
 * quote, backslash and control characters; bytes >= 0x80 that are not valid
 * UTF-8 (lib/utf8.h decides) are written as \u00XX of the byte so every line
 * stays valid JSON and valid UTF-8 whatever an agent sends. The agent sends
 * only valid UTF-8 strings (docs/protocol.md), so this is a second fence.
 */
#include <inttypes.h>
#include <string.h>

#include "json.h"
#include "utf8.h"

void mm_json__init(struct mm_json *j, FILE *out)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
}

/* Before a value (or key) at the current depth: a comma if one is due. */
static void value_prefix(struct mm_json *j)
{
	if (j->need_comma[j->depth])
		fputc(',', j->out);
	j->need_comma[j->depth] = true;
}

void mm_json__key(struct mm_json *j, const char *key)
{
	value_prefix(j);
	mm_json__strn(j, key, strlen(key));
	fputc(':', j->out);
	/* The value that follows must not add another comma. */
	j->need_comma[j->depth] = false;
}

static void open_(struct mm_json *j, char c)
{
	value_prefix(j);
	fputc(c, j->out);
	if (j->depth < MM_JSON_MAX_DEPTH - 1)
		j->depth++;
	j->need_comma[j->depth] = false;
}

static void close_(struct mm_json *j, char c)
{
	fputc(c, j->out);
	if (j->depth > 0)
		j->depth--;
	j->need_comma[j->depth] = true;
}

void mm_json__obj_open(struct mm_json *j)
{
	open_(j, '{');
}

void mm_json__obj_close(struct mm_json *j)
{
	close_(j, '}');
}

void mm_json__arr_open(struct mm_json *j)
{
	open_(j, '[');
}

void mm_json__arr_close(struct mm_json *j)
{
	close_(j, ']');
}

void mm_json__strn(struct mm_json *j, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, l;

	/* A string used as a key has its prefix written by mm_json__key(). */
	fputc('"', j->out);
	while (i < n) {
		unsigned char c = s[i];

		switch (c) {
		case '"':
			fputs("\\\"", j->out);
			break;
		case '\\':
			fputs("\\\\", j->out);
			break;
		case '\n':
			fputs("\\n", j->out);
			break;
		case '\r':
			fputs("\\r", j->out);
			break;
		case '\t':
			fputs("\\t", j->out);
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				fprintf(j->out, "\\u%04x", c);
			} else if (c >= 0x80) {
				l = mm_utf8_seq_len(s + i, n - i);
				if (l == 0) {
					fprintf(j->out, "\\u%04x", c);
				} else {
					fwrite(s + i, 1, l, j->out);
					i += l;
					continue;
				}
			} else {
				fputc(c, j->out);
			}
		}
		i++;
	}
	fputc('"', j->out);
}

void mm_json__str(struct mm_json *j, const char *s)
{
	value_prefix(j);
	mm_json__strn(j, s ? s : "", s ? strlen(s) : 0);
}

void mm_json__u64(struct mm_json *j, uint64_t v)
{
	value_prefix(j);
	fprintf(j->out, "%" PRIu64, v);
}

void mm_json__i64(struct mm_json *j, int64_t v)
{
	value_prefix(j);
	fprintf(j->out, "%" PRId64, v);
}

void mm_json__bool(struct mm_json *j, bool v)
{
	value_prefix(j);
	fputs(v ? "true" : "false", j->out);
}

void mm_json__null(struct mm_json *j)
{
	value_prefix(j);
	fputs("null", j->out);
}

void mm_json__end_line(struct mm_json *j)
{
	fputc('\n', j->out);
	j->depth = 0;
	j->need_comma[0] = false;
}

void mm_json__kv_str(struct mm_json *j, const char *key, const char *s)
{
	mm_json__key(j, key);
	mm_json__str(j, s);
}

void mm_json__kv_str_or_null(struct mm_json *j, const char *key, const char *s)
{
	mm_json__key(j, key);
	if (s && *s)
		mm_json__str(j, s);
	else
		mm_json__null(j);
}

void mm_json__kv_u64(struct mm_json *j, const char *key, uint64_t v)
{
	mm_json__key(j, key);
	mm_json__u64(j, v);
}

void mm_json__kv_bool(struct mm_json *j, const char *key, bool v)
{
	mm_json__key(j, key);
	mm_json__bool(j, v);
}

void mm_json__error(FILE *out, const char *msg, long code)
{
	struct mm_json j;

	mm_json__init(&j, out);
	mm_json__obj_open(&j);
	mm_json__kv_str(&j, "error", msg);
	if (code >= 0)
		mm_json__kv_u64(&j, "code", (uint64_t)code);
	mm_json__obj_close(&j);
	mm_json__end_line(&j);
	fflush(out);
}
