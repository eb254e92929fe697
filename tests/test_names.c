// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The userspace name tables (abi/names.c) against the X-macro lists in
 * abi/tables.h: every value has its name, nothing else has one, names
 * parse back to their values, and the source-file table matches the files
 * that hold drop sites.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <netinet/tcp.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "names.h"

#ifndef MM_SOURCE_ROOT
#error "MM_SOURCE_ROOT must name the source tree (tests/meson.build sets it)"
#endif
#define DATAPATH_DIR MM_SOURCE_ROOT "/datapath"

struct entry {
	unsigned int value;
	const char *name; /* the table's name column */
	const char *c3;   /* third column when there is one, else NULL */
	const char *c4;
	const char *ident; /* the X-macro NAME */
};

#define E2(N, v, s, ...) { v, s, NULL, NULL, #N },
#define E3(N, v, s, a, ...) { v, s, a, NULL, #N },
#define E4(N, v, s, a, b, ...) { v, s, a, b, #N },

static const struct entry event_types[] = { MM_EVENT_TYPES(E2) };
static const struct entry sources[] = { MM_SOURCES(E2) };
static const struct entry drop_reasons[] = { MM_DROP_REASONS(E2) };
static const struct entry trace_points[] = { MM_TRACE_POINTS(E4) };
static const struct entry trace_states[] = { MM_TRACE_STATES(E2) };
static const struct entry parse_errors[] = { MM_PARSE_ERRORS(E2) };
static const struct entry debug_types[] = { MM_DEBUG_TYPES(E3) };
static const struct entry probe_states[] = { MM_PROBE_STATES(E2) };
static const struct entry tcp_states[] = { MM_TCP_STATES(E2) };
static const struct entry probe_dirs[] = { MM_PROBE_DIRECTIONS(E2) };
static const struct entry agg_levels[] = { MM_AGGREGATION_LEVELS(E2) };
static const struct entry directions[] = { MM_DIRECTIONS(E2) };
static const struct entry stats[] = { MM_STATS(E2) };
static const struct entry source_files[] = { MM_SOURCE_FILES(E2) };

#define N(a) (sizeof(a) / sizeof((a)[0]))

typedef const char *(*name_fn)(unsigned int);
typedef int (*parse_fn)(const char *);

static int in_table(const struct entry *t, size_t n, unsigned int v)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].value == v)
			return 1;
	return 0;
}

/* Values above every table's range, plus the extremes. */
static const unsigned int far_values[] = { 256, 1000, 65535, 65536, 0x7fffffffu, 0xffffffffu };

/* fn(v) equals column `col` of the table for every value in it, and is NULL
 * for every value in 0..255 that is not in it and for far values. */
static void check_table(const char *what, const struct entry *t, size_t n, name_fn fn, int col)
{
	cr_assert(gt(sz, n, 0), "%s: empty table", what);
	for (size_t i = 0; i < n; i++) {
		const char *want = col == 2 ? t[i].name : col == 3 ? t[i].c3 :
				   col == 4 ? t[i].c4 : t[i].ident;
		const char *got = fn(t[i].value);

		cr_assert(not(eq(ptr, (void *)got, NULL)), "%s: value %u (%s) has no name", what,
			  t[i].value, t[i].ident);
		cr_assert(eq(str, (char *)got, (char *)want), "%s: value %u", what, t[i].value);
		cr_assert(gt(sz, strlen(got), 0), "%s: value %u has an empty name", what,
			  t[i].value);
	}
	for (unsigned int v = 0; v < 256; v++) {
		if (!in_table(t, n, v))
			cr_assert(eq(ptr, (void *)fn(v), NULL), "%s: unknown value %u has a name",
				  what, v);
	}
	for (size_t i = 0; i < N(far_values); i++)
		cr_assert(eq(ptr, (void *)fn(far_values[i]), NULL), "%s: value %u", what,
			  far_values[i]);
}

/* Values and names are each unique within a table. */
static void check_unique(const char *what, const struct entry *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			cr_assert(ne(u32, t[i].value, t[j].value), "%s: value %u twice", what,
				  t[i].value);
			cr_assert(ne(str, (char *)t[i].name, (char *)t[j].name),
				  "%s: name \"%s\" twice", what, t[i].name);
		}
}

Test(names, every_value_has_its_name_and_no_other_value_has_one)
{
	check_table("event type", event_types, N(event_types), mm_event_type_name, 2);
	check_table("source", sources, N(sources), mm_source_name, 2);
	check_table("drop reason text", drop_reasons, N(drop_reasons), mm_drop_reason_text, 2);
	check_table("drop reason name", drop_reasons, N(drop_reasons), mm_drop_reason_name, 0);
	check_table("trace point", trace_points, N(trace_points), mm_trace_point_name, 2);
	check_table("trace point arrow", trace_points, N(trace_points), mm_trace_point_arrow, 3);
	check_table("trace point peer", trace_points, N(trace_points), mm_trace_point_peer, 4);
	check_table("trace state", trace_states, N(trace_states), mm_trace_state_name, 2);
	check_table("parse error", parse_errors, N(parse_errors), mm_parse_error_text, 2);
	check_table("debug type", debug_types, N(debug_types), mm_debug_type_name, 2);
	check_table("debug format", debug_types, N(debug_types), mm_debug_format, 3);
	check_table("probe state", probe_states, N(probe_states), mm_probe_state_name, 2);
	check_table("probe direction", probe_dirs, N(probe_dirs), mm_probe_direction_name, 2);
	check_table("tcp state", tcp_states, N(tcp_states), mm_tcp_state_name, 2);
	check_table("aggregation", agg_levels, N(agg_levels), mm_aggregation_name, 2);
	check_table("direction", directions, N(directions), mm_direction_name, 2);
	check_table("stat", stats, N(stats), mm_stat_name, 2);
	check_table("source file", source_files, N(source_files), mm_source_file_name, 2);
}

Test(names, values_and_names_are_unique)
{
	check_unique("event type", event_types, N(event_types));
	check_unique("source", sources, N(sources));
	check_unique("drop reason", drop_reasons, N(drop_reasons));
	check_unique("trace point", trace_points, N(trace_points));
	check_unique("trace state", trace_states, N(trace_states));
	check_unique("parse error", parse_errors, N(parse_errors));
	check_unique("debug type", debug_types, N(debug_types));
	check_unique("probe state", probe_states, N(probe_states));
	check_unique("probe direction", probe_dirs, N(probe_dirs));
	check_unique("tcp state", tcp_states, N(tcp_states));
	check_unique("aggregation", agg_levels, N(agg_levels));
	check_unique("direction", directions, N(directions));
	check_unique("stat", stats, N(stats));
	check_unique("source file", source_files, N(source_files));
}

static void check_parse(const char *what, const struct entry *t, size_t n, name_fn name,
			parse_fn parse)
{
	static const char *bad[] = { "", "bogus", "-1", "0", " drop", "drop ", "DROP", "Trace",
				     "to_network", "to-network\n", "ingres", "egress2" };

	for (size_t i = 0; i < n; i++) {
		cr_assert(eq(int, parse(name(t[i].value)), (int)t[i].value), "%s: \"%s\"", what,
			  t[i].name);
		cr_assert(eq(int, parse(t[i].name), (int)t[i].value), "%s: \"%s\"", what,
			  t[i].name);
	}
	for (size_t i = 0; i < N(bad); i++)
		cr_assert(eq(int, parse(bad[i]), -1), "%s: \"%s\" accepted", what, bad[i]);
	cr_assert(eq(int, parse(NULL), -1), "%s: NULL accepted", what);
}

Test(names, parse_round_trips_and_rejects_unknown_names)
{
	check_parse("event type", event_types, N(event_types), mm_event_type_name,
		    mm_event_type_parse);
	check_parse("trace point", trace_points, N(trace_points), mm_trace_point_name,
		    mm_trace_point_parse);
	check_parse("aggregation", agg_levels, N(agg_levels), mm_aggregation_name,
		    mm_aggregation_parse);
	check_parse("direction", directions, N(directions), mm_direction_name,
		    mm_direction_parse);
}

Test(names, stats_are_dense_from_zero)
{
	/* mm_stats is an array indexed by the stat: no holes, MM_STAT_MAX slots. */
	cr_assert(eq(sz, N(stats), (size_t)MM_STAT_MAX));
	for (unsigned int v = 0; v < MM_STAT_MAX; v++)
		cr_assert(not(eq(ptr, (void *)mm_stat_name(v), NULL)), "stat %u", v);
	cr_assert(eq(ptr, (void *)mm_stat_name(MM_STAT_MAX), NULL));
}

Test(names, debug_formats_take_at_most_three_u32)
{
	for (size_t i = 0; i < N(debug_types); i++) {
		const char *f = debug_types[i].c3;
		int convs = 0;

		for (const char *p = f; *p; p++) {
			if (*p != '%')
				continue;
			p++;
			if (*p == '%')
				continue;
			cr_assert(eq(int, *p == 'u' || *p == 'x', 1), "%s: conversion %%%c in \"%s\"",
				  debug_types[i].name, *p ? *p : '0', f);
			convs++;
		}
		cr_assert(le(int, convs, 3), "%s: %d arguments", debug_types[i].name, convs);
	}
}

/* --- the source-file table against the datapath directory ----------------- */

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Whether a file expands MM_DROP_SITE(): a use, not the macro's definition or
 * a comment that mentions it. */
static int has_drop_site(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int found = 0;

	cr_assert(not(eq(ptr, f, NULL)), "open %s", path);
	while (!found && fgets(line, sizeof(line), f)) {
		const char *p = line, *hit = strstr(line, "MM_DROP_SITE(");

		while (*p == ' ' || *p == '\t')
			p++;
		if (!hit || strncmp(p, "#define", 7) == 0 || p[0] == '*' ||
		    strncmp(p, "//", 2) == 0 || strncmp(p, "/*", 2) == 0)
			continue;
		found = 1;
	}
	fclose(f);
	return found;
}

static int listed(const char *file)
{
	for (size_t i = 0; i < N(source_files); i++)
		if (strcmp(source_files[i].name, file) == 0)
			return 1;
	return 0;
}

Test(names, every_file_with_a_drop_site_is_listed)
{
	DIR *dir = opendir(DATAPATH_DIR);
	struct dirent *de;
	int bpf_files = 0, with_sites = 0;

	cr_assert(not(eq(ptr, dir, NULL)), "opendir %s", DATAPATH_DIR);
	while ((de = readdir(dir))) {
		char path[4096];

		if (!ends_with(de->d_name, ".bpf.c") && !ends_with(de->d_name, ".bpf.h"))
			continue;
		bpf_files++;
		snprintf(path, sizeof(path), "%s/%s", DATAPATH_DIR, de->d_name);
		if (!has_drop_site(path))
			continue;
		with_sites++;
		cr_expect(listed(de->d_name), "%s has MM_DROP_SITE() but is not in MM_SOURCE_FILES",
			  de->d_name);
	}
	closedir(dir);
	cr_assert(gt(int, bpf_files, 0), "no *.bpf.[ch] in %s", DATAPATH_DIR);
	cr_assert(gt(int, with_sites, 0), "no drop site found at all: is the scan broken?");
}

/* The scan itself: a use is found, the macro's definition and comments are not. */
Test(names, drop_site_scan_finds_uses_only)
{
	char path[] = "/tmp/mmt_names_XXXXXX";
	int fd = mkstemp(path);
	FILE *f;

	cr_assert(ge(int, fd, 0));
	f = fdopen(fd, "w");
	fputs("#define MM_DROP_SITE(rec) do { } while (0)\n"
	      " * MM_DROP_SITE() in a comment\n// MM_DROP_SITE(x)\n", f);
	fclose(f);
	cr_assert(eq(int, has_drop_site(path), 0));
	f = fopen(path, "a");
	fputs("\tMM_DROP_SITE(&rec);\n", f);
	fclose(f);
	cr_assert(eq(int, has_drop_site(path), 1));
	unlink(path);
}

Test(names, every_listed_file_exists)
{
	for (size_t i = 0; i < N(source_files); i++) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", DATAPATH_DIR, source_files[i].name);
		cr_expect(eq(int, stat(path, &st), 0), "MM_SOURCE_FILES lists %s, which is missing",
			  source_files[i].name);
	}
}

Test(names, source_file_ids_start_at_one)
{
	/* Drop records use file 0 for "no file" (kernel drops). */
	for (size_t i = 0; i < N(source_files); i++)
		cr_assert(gt(u32, source_files[i].value, 0), "%s", source_files[i].name);
	cr_assert(eq(ptr, (void *)mm_source_file_name(0), NULL));
}

/* Printable ASCII: the decoder copies these names into protobuf strings as they are. */
static void check_ascii(const char *what, const struct entry *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *cols[] = {t[i].name, t[i].c3, t[i].c4};

		for (size_t c = 0; c < 3; c++)
			for (const char *p = cols[c]; p && *p; p++) {
				int printable = *p >= 0x20 && *p < 0x7f;

				cr_expect(eq(int, printable, 1), "%s %s: byte 0x%02x", what,
					  t[i].ident, (unsigned char)*p);
			}
	}
}

Test(names, every_name_is_printable_ascii)
{
	check_ascii("drop reason", drop_reasons, N(drop_reasons));
	check_ascii("source file", source_files, N(source_files));
	check_ascii("debug type", debug_types, N(debug_types));
	check_ascii("trace point", trace_points, N(trace_points));
	check_ascii("event type", event_types, N(event_types));
}

/*
 * The TCP state names are the kernel's own, at the kernel's numbers: glibc's
 * <netinet/tcp.h> copies the kernel's list up to TCP_CLOSING (11); the BPF
 * side asserts every value against vmlinux.h (datapath/tcp_probe.bpf.c).
 */
Test(names, tcp_states_are_the_kernels)
{
	static const struct {
		int kernel;
		const char *name;
	} want[] = {
	    {TCP_ESTABLISHED, "ESTABLISHED"}, {TCP_SYN_SENT, "SYN_SENT"},
	    {TCP_SYN_RECV, "SYN_RECV"},	      {TCP_FIN_WAIT1, "FIN_WAIT1"},
	    {TCP_FIN_WAIT2, "FIN_WAIT2"},     {TCP_TIME_WAIT, "TIME_WAIT"},
	    {TCP_CLOSE, "CLOSE"},	      {TCP_CLOSE_WAIT, "CLOSE_WAIT"},
	    {TCP_LAST_ACK, "LAST_ACK"},	      {TCP_LISTEN, "LISTEN"},
	    {TCP_CLOSING, "CLOSING"},
	};

	for (size_t i = 0; i < N(want); i++)
		cr_expect(eq(str, (char *)mm_tcp_state_name(want[i].kernel), (char *)want[i].name));
	cr_expect(eq(str, (char *)mm_tcp_state_name(12), "NEW_SYN_RECV"));
	cr_expect(eq(ptr, (void *)mm_tcp_state_name(0), NULL));
	cr_expect(eq(ptr, (void *)mm_tcp_state_name(13), NULL));
	check_ascii("tcp state", tcp_states, N(tcp_states));
}
