/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The flags only `meshmon export clickhouse` has (export_opts.c): where the
 * rows go, how they are batched and how much an outage may hold. options.c
 * parses every other flag of the command (the subscription's filters, the
 * socket, reconnecting) as it does for `meshmon monitor`, and hands these on.
 */
#ifndef MESHMON_CLI_EXPORT_OPTS_H
#define MESHMON_CLI_EXPORT_OPTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The defaults, as docs/cli.md and the usage text give them. */
#define MM_EXPORT_DATABASE_DEFAULT "meshmon"
#define MM_EXPORT_TABLE_DEFAULT "events"
#define MM_EXPORT_BATCH_ROWS_DEFAULT 10000
#define MM_EXPORT_BATCH_MS_DEFAULT 1000
#define MM_EXPORT_BUFFER_ROWS_DEFAULT 1000000
#define MM_EXPORT_STATUS_S_DEFAULT 60
#define MM_EXPORT_DRAIN_MS_DEFAULT 10000

/* getopt codes of these flags: above options.c's own, which stay below 512. */
enum {
	MM_EXPORT_OPT_URL = 512,
	MM_EXPORT_OPT_DATABASE,
	MM_EXPORT_OPT_TABLE,
	MM_EXPORT_OPT_BATCH_ROWS,
	MM_EXPORT_OPT_BATCH_INTERVAL,
	MM_EXPORT_OPT_BUFFER_ROWS,
	MM_EXPORT_OPT_STATUS_INTERVAL,
	MM_EXPORT_OPT_DRAIN_TIMEOUT,
	MM_EXPORT_OPT_TTL_DAYS,
	MM_EXPORT_OPT_METRICS,
};

/* The long options of these flags, for the command's flag table in options.c. */
#define MM_EXPORT_LONGOPTS                                                              \
	{ "url", required_argument, NULL, MM_EXPORT_OPT_URL },                            \
	{ "database", required_argument, NULL, MM_EXPORT_OPT_DATABASE },                  \
	{ "table", required_argument, NULL, MM_EXPORT_OPT_TABLE },                        \
	{ "batch-rows", required_argument, NULL, MM_EXPORT_OPT_BATCH_ROWS },              \
	{ "batch-interval", required_argument, NULL, MM_EXPORT_OPT_BATCH_INTERVAL },      \
	{ "buffer-rows", required_argument, NULL, MM_EXPORT_OPT_BUFFER_ROWS },            \
	{ "status-interval", required_argument, NULL, MM_EXPORT_OPT_STATUS_INTERVAL },    \
	{ "drain-timeout", required_argument, NULL, MM_EXPORT_OPT_DRAIN_TIMEOUT },        \
	{ "ttl-days", required_argument, NULL, MM_EXPORT_OPT_TTL_DAYS },                  \
	{ "metrics", required_argument, NULL, MM_EXPORT_OPT_METRICS }

struct mm_export_opts {
	const char *url;      /* ClickHouse's HTTP interface: http://HOST:8123 */
	const char *database; /* an identifier: letters, digits, '_' */
	const char *table;
	uint64_t batch_rows;  /* a batch is sent when it has this many rows ... */
	uint64_t batch_ms;    /* ... or its first row is this old */
	uint64_t buffer_rows; /* rows held while ClickHouse does not take them */
	uint64_t status_s;    /* a progress line on stderr this often; 0: only at exit */
	uint64_t drain_ms;    /* at the end, how long to keep delivering what is held */
	uint64_t ttl_days;    /* drop the table's day partitions older than this; 0: keep all */
	const char *metrics;  /* serve the exporter's own /metrics on ADDR:PORT; NULL: off */
};

/* The defaults into *e. */
void mm_export_opts__init(struct mm_export_opts *e);
/*
 * One flag of the table above with its value: 0, MM_EXIT_USAGE with a
 * one-line message in err, or -1 when c is not one of them.
 */
int mm_export_opts__parse_flag(struct mm_export_opts *e, int c, const char *arg, char *err,
			       size_t errlen);
/* After the flags: MM_EXIT_USAGE (message in err) when --url is missing, else 0. */
int mm_export_opts__check(const struct mm_export_opts *e, char *err, size_t errlen);

#endif /* MESHMON_CLI_EXPORT_OPTS_H */
