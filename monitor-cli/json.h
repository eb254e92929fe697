/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one JSON writer of the CLI, shared by every command (monitor events,
 * lost notices, status, errors), in bpftool's manner: the caller opens objects
 * and arrays, the writer places commas and escapes strings. Output is compact,
 * one value per line when the caller ends it with mm_json__end_line().
 *
 * A value is built in memory (line.h) and written to the FILE when it is
 * complete: a top-level object or array when it is closed, a top-level
 * scalar at once.
 */
#ifndef MESHMON_CLI_JSON_H
#define MESHMON_CLI_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "line.h"

#define MM_JSON_MAX_DEPTH 16

struct mm_json {
	FILE *out;
	int depth;
	bool need_comma[MM_JSON_MAX_DEPTH];
	struct mm_line line;
};

void mm_json__init(struct mm_json *j, FILE *out);

/*
 * The writer's own steps, inline for the scalars of a line: before a value,
 * the comma if one is due; after it, a whole top-level value goes out.
 */
static inline void mm_json__value_prefix(struct mm_json *j)
{
	if (j->need_comma[j->depth])
		mm_line__c(&j->line, ',');
	j->need_comma[j->depth] = true;
}

static inline void mm_json__value_done(struct mm_json *j)
{
	if (j->depth == 0)
		mm_line__flush(&j->line);
}
void mm_json__obj_open(struct mm_json *j);
void mm_json__obj_close(struct mm_json *j);
void mm_json__arr_open(struct mm_json *j);
void mm_json__arr_close(struct mm_json *j);
/* Emits "key": and prepares for the value that follows. */
void mm_json__key(struct mm_json *j, const char *key);

/*
 * The same for a key that is a string literal needing no escaping (letters,
 * digits, '_'): "\"key\":" is copied as is, its length known at compile time.
 */
#define MM_JSON_KEY(j, key) mm_json__key_raw((j), "\"" key "\":", sizeof(key) + 2)

static inline void mm_json__key_raw(struct mm_json *j, const char *quoted, size_t n)
{
	if (j->need_comma[j->depth])
		mm_line__c(&j->line, ',');
	mm_line__put(&j->line, quoted, n);
	/* The value that follows must not add another comma; the one after it must. */
	j->need_comma[j->depth] = false;
}
void mm_json__str(struct mm_json *j, const char *s);
void mm_json__strn(struct mm_json *j, const char *s, size_t n);
/*
 * A string of the CLI's own making, n bytes none of which needs escaping: a
 * time, an address, a name from its tables (tests/test_cli_format.c checks
 * every name the tables give). Copied as is.
 */
static inline void mm_json__str_plain(struct mm_json *j, const char *s, size_t n)
{
	mm_json__value_prefix(j);
	mm_line__c(&j->line, '"');
	mm_line__put(&j->line, s, n);
	mm_line__c(&j->line, '"');
	mm_json__value_done(j);
}
/* A string of v in decimal: "42". */
void mm_json__u64_str(struct mm_json *j, uint64_t v);
/* A string of the bytes in lowercase hex: "0a1b". */
void mm_json__hex(struct mm_json *j, const uint8_t *data, size_t len);
static inline void mm_json__u64(struct mm_json *j, uint64_t v)
{
	mm_json__value_prefix(j);
	mm_line__u64(&j->line, v);
	mm_json__value_done(j);
}

void mm_json__i64(struct mm_json *j, int64_t v);

static inline void mm_json__bool(struct mm_json *j, bool v)
{
	mm_json__value_prefix(j);
	if (v)
		mm_line__lit(&j->line, "true");
	else
		mm_line__lit(&j->line, "false");
	mm_json__value_done(j);
}

static inline void mm_json__null(struct mm_json *j)
{
	mm_json__value_prefix(j);
	mm_line__lit(&j->line, "null");
	mm_json__value_done(j);
}
/* Ends a top-level value with a newline. */
void mm_json__end_line(struct mm_json *j);

/* Key + value shorthands. */
void mm_json__kv_str(struct mm_json *j, const char *key, const char *s);
/* Emits null for NULL or "". */
void mm_json__kv_str_or_null(struct mm_json *j, const char *key, const char *s);
void mm_json__kv_u64(struct mm_json *j, const char *key, uint64_t v);
void mm_json__kv_bool(struct mm_json *j, const char *key, bool v);

/* A one-line error object {"error": msg}; code < 0 leaves the code out. */
void mm_json__error(FILE *out, const char *msg, long code);

#endif /* MESHMON_CLI_JSON_H */
