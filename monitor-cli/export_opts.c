// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The flags of `meshmon export clickhouse` that only it has (export_opts.h),
 * and its usage text.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "export_opts.h"
#include "options.h"
#include "protocol.h"
#include "textparse.h"

#define NS_PER_MS 1000000ull

void mm_export_opts__init(struct mm_export_opts *e)
{
	*e = (struct mm_export_opts){
		.database = MM_EXPORT_DATABASE_DEFAULT,
		.table = MM_EXPORT_TABLE_DEFAULT,
		.batch_rows = MM_EXPORT_BATCH_ROWS_DEFAULT,
		.batch_ms = MM_EXPORT_BATCH_MS_DEFAULT,
		.buffer_rows = MM_EXPORT_BUFFER_ROWS_DEFAULT,
		.status_s = MM_EXPORT_STATUS_S_DEFAULT,
		.drain_ms = MM_EXPORT_DRAIN_MS_DEFAULT,
	};
}

/*
 * A database or table name goes into the SQL as `name`: only letters, digits
 * and '_', not starting with a digit, so it never needs quoting rules.
 */
static bool is_identifier(const char *s)
{
	if (!*s || isdigit((unsigned char)*s) || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/* A duration: "500ms", or what mm_parse_duration_ns takes ("1s", "2m"), as ms >= 1. */
static int parse_ms(const char *arg, uint64_t *ms)
{
	size_t n = strlen(arg);
	uint64_t v;

	if (n > 2 && !strcmp(arg + n - 2, "ms")) {
		char num[24];

		if (n - 2 >= sizeof(num))
			return -1;
		memcpy(num, arg, n - 2);
		num[n - 2] = '\0';
		if (mm_parse_u64(num, 1, UINT32_MAX, &v))
			return -1;
		*ms = v;
		return 0;
	}
	if (mm_parse_duration_ns(arg, &v) || v < NS_PER_MS)
		return -1;
	*ms = v / NS_PER_MS;
	return 0;
}

int mm_export_opts__parse_flag(struct mm_export_opts *e, int c, const char *arg, char *err,
			       size_t errlen)
{
	uint64_t v;

	switch (c) {
	case MM_EXPORT_OPT_URL:
		if (strncasecmp(arg, "http://", 7) && strncasecmp(arg, "https://", 8))
			return mm_errorf(err, errlen, MM_EXIT_USAGE,
					 "--url: bad URL '%s' (want http://HOST:8123 or https://...)",
					 arg);
		e->url = arg;
		return 0;
	case MM_EXPORT_OPT_DATABASE:
	case MM_EXPORT_OPT_TABLE:
		if (!is_identifier(arg))
			return mm_errorf(err, errlen, MM_EXIT_USAGE,
					 "%s: bad name '%s' (want letters, digits and '_', not starting with a digit)",
					 c == MM_EXPORT_OPT_TABLE ? "--table" : "--database", arg);
		if (c == MM_EXPORT_OPT_TABLE)
			e->table = arg;
		else
			e->database = arg;
		return 0;
	case MM_EXPORT_OPT_BATCH_ROWS:
		if (mm_parse_u64(arg, 1, 1000000, &v))
			return mm_errorf(err, errlen, MM_EXIT_USAGE,
					 "--batch-rows: bad number '%s' (want 1 to 1000000)", arg);
		e->batch_rows = v;
		return 0;
	case MM_EXPORT_OPT_BATCH_INTERVAL:
		if (parse_ms(arg, &e->batch_ms))
			return mm_errorf(err, errlen, MM_EXIT_USAGE,
					 "--batch-interval: bad duration '%s' (want 200ms, 1s, 5s, ...)",
					 arg);
		return 0;
	case MM_EXPORT_OPT_BUFFER_ROWS:
		if (mm_parse_u64(arg, 1, UINT32_MAX, &v))
			return mm_errorf(err, errlen, MM_EXIT_USAGE,
					 "--buffer-rows: bad number '%s' (want 1 or more)", arg);
		e->buffer_rows = v;
		return 0;
	case MM_EXPORT_OPT_STATUS_INTERVAL:
		if (!strcmp(arg, "0")) {
			e->status_s = 0;
			return 0;
		}
		if (mm_parse_duration_ns(arg, &v) || v < 1000000000ull)
			return mm_errorf(err, errlen, MM_EXIT_USAGE,
					 "--status-interval: bad duration '%s' (want 10s, 1m, ...; 0: only at exit)",
					 arg);
		e->status_s = v / 1000000000ull;
		return 0;
	case MM_EXPORT_OPT_TTL_DAYS:
		if (mm_parse_u64(arg, 1, 36500, &v))
			return mm_errorf(err, errlen, MM_EXIT_USAGE,
					 "--ttl-days: bad number '%s' (want days, 1 to 36500)", arg);
		e->ttl_days = v;
		return 0;
	case MM_EXPORT_OPT_METRICS:
		if (mm_parse_listen_addr(arg))
			return mm_errorf(err, errlen, MM_EXIT_USAGE,
					 "--metrics: '%s' is not ADDR:PORT (e.g. 127.0.0.1:9101)", arg);
		e->metrics = arg;
		return 0;
	case MM_EXPORT_OPT_DRAIN_TIMEOUT:
		if (parse_ms(arg, &e->drain_ms))
			return mm_errorf(err, errlen, MM_EXIT_USAGE,
					 "--drain-timeout: bad duration '%s' (want 500ms, 10s, 5m, ...)",
					 arg);
		return 0;
	default:
		return -1;
	}
}

int mm_export_opts__check(const struct mm_export_opts *e, char *err, size_t errlen)
{
	if (!e->url)
		return mm_errorf(err, errlen, MM_EXIT_USAGE,
				 "--url: missing (the ClickHouse HTTP interface, e.g. --url http://127.0.0.1:8123)");
	return 0;
}
