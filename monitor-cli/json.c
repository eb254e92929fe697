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
	j->out = out;
	j->depth = 0;
	memset(j->need_comma, 0, sizeof(j->need_comma));
	mm_line__init(&j->line, out);
}

/* What a byte of a string needs: copied as is, escaped, or checked as UTF-8. */
enum { PLAIN, ESCAPE, HIGH };

static const unsigned char byte_class[256] = {
	[0x00 ... 0x1f] = ESCAPE, ['"'] = ESCAPE, ['\\'] = ESCAPE, [0x7f] = ESCAPE,
	[0x80 ... 0xff] = HIGH,
};

/* The quoted, escaped string, without a comma before it. */
static void put_string(struct mm_json *j, const char *str, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	struct mm_line *l = &j->line;
	size_t i = 0, run, len;
	char *u;

	mm_line__c(l, '"');
	while (i < n) {
		/* A run of bytes that need nothing goes in one copy. */
		for (run = i; run < n && byte_class[s[run]] == PLAIN; run++)
			;
		mm_line__put(l, (const char *)s + i, run - i);
		i = run;
		if (i == n)
			break;
		switch (s[i]) {
		case '"':
			mm_line__lit(l, "\\\"");
			break;
		case '\\':
			mm_line__lit(l, "\\\\");
			break;
		case '\n':
			mm_line__lit(l, "\\n");
			break;
		case '\r':
			mm_line__lit(l, "\\r");
			break;
		case '\t':
			mm_line__lit(l, "\\t");
			break;
		default:
			len = s[i] >= 0x80 ? mm_utf8_seq_len(s + i, n - i) : 0;
			if (len) {
				mm_line__put(l, (const char *)s + i, len);
				i += len;
				continue;
			}
			/* \u00XX of the byte: a control character, or not UTF-8. */
			u = mm_line__reserve(l, 6);
			memcpy(u, "\\u00", 4);
			u[4] = hex[s[i] >> 4];
			u[5] = hex[s[i] & 0xf];
			mm_line__commit(l, 6);
		}
		i++;
	}
	mm_line__c(l, '"');
}

void mm_json__key(struct mm_json *j, const char *key)
{
	mm_json__value_prefix(j);
	put_string(j, key, strlen(key));
	mm_line__c(&j->line, ':');
	/* The value that follows must not add another comma. */
	j->need_comma[j->depth] = false;
}

static void open_(struct mm_json *j, char c)
{
	mm_json__value_prefix(j);
	mm_line__c(&j->line, c);
	if (j->depth < MM_JSON_MAX_DEPTH - 1)
		j->depth++;
	j->need_comma[j->depth] = false;
}

static void close_(struct mm_json *j, char c)
{
	mm_line__c(&j->line, c);
	if (j->depth > 0)
		j->depth--;
	j->need_comma[j->depth] = true;
	mm_json__value_done(j);
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
	/* A string used as a key has its prefix written by mm_json__key(). */
	put_string(j, str, n);
	mm_json__value_done(j);
}

void mm_json__str(struct mm_json *j, const char *s)
{
	mm_json__value_prefix(j);
	put_string(j, s ? s : "", s ? strlen(s) : 0);
	mm_json__value_done(j);
}

void mm_json__u64_str(struct mm_json *j, uint64_t v)
{
	mm_json__value_prefix(j);
	mm_line__c(&j->line, '"');
	mm_line__u64(&j->line, v);
	mm_line__c(&j->line, '"');
	mm_json__value_done(j);
}

void mm_json__hex(struct mm_json *j, const uint8_t *data, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, k, chunk;
	char *p;

	mm_json__value_prefix(j);
	mm_line__c(&j->line, '"');
	for (i = 0; i < len; i += chunk) {
		chunk = len - i < MM_LINE_CAP / 2 ? len - i : MM_LINE_CAP / 2;
		p = mm_line__reserve(&j->line, 2 * chunk);
		for (k = 0; k < chunk; k++) {
			p[2 * k] = hex[data[i + k] >> 4];
			p[2 * k + 1] = hex[data[i + k] & 0xf];
		}
		mm_line__commit(&j->line, 2 * chunk);
	}
	mm_line__c(&j->line, '"');
	mm_json__value_done(j);
}

void mm_json__i64(struct mm_json *j, int64_t v)
{
	mm_json__value_prefix(j);
	if (v < 0) {
		mm_line__c(&j->line, '-');
		mm_line__u64(&j->line, (uint64_t)0 - (uint64_t)v);
	} else {
		mm_line__u64(&j->line, (uint64_t)v);
	}
	mm_json__value_done(j);
}

void mm_json__end_line(struct mm_json *j)
{
	mm_line__flush(&j->line);
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
