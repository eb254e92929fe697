// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The statements that create the exporter's table (export_schema.h). */
#include <stdio.h>

#include "export_schema.h"

size_t mm_export_schema__create_database(char *buf, size_t cap, const char *db)
{
	int n = snprintf(buf, cap, "CREATE DATABASE IF NOT EXISTS `%s`", db);

	return n < 0 ? cap : (size_t)n;
}

size_t mm_export_schema__expired_partitions(char *buf, size_t cap, const char *db,
					    const char *table, unsigned long long days)
{
	/* The partition key is toYYYYMMDD(time): its text is the day as a number. */
	int n = snprintf(buf, cap,
			 "SELECT DISTINCT partition FROM system.parts WHERE database = '%s' AND "
			 "table = '%s' AND active AND toUInt32(partition) < "
			 "toYYYYMMDD(today() - %llu) ORDER BY partition FORMAT TabSeparated",
			 db, table, days);

	return n < 0 ? cap : (size_t)n;
}

size_t mm_export_schema__drop_partition(char *buf, size_t cap, const char *db, const char *table,
					const char *partition)
{
	int n = snprintf(buf, cap, "ALTER TABLE `%s`.`%s` DROP PARTITION %s", db, table, partition);

	return n < 0 ? cap : (size_t)n;
}

size_t mm_export_schema__create_table(char *buf, size_t cap, const char *db, const char *table)
{
	static const char columns[] =
#define X(name, type) "`" #name "` " type ", "
		MM_EXPORT_COLUMNS(X)
#undef X
		;
	/* The list without its last ", ". */
	int n = snprintf(buf, cap,
			 "CREATE TABLE IF NOT EXISTS `%s`.`%s` (%.*s) ENGINE = MergeTree() PARTITION BY "
			 MM_EXPORT_PARTITION_BY " ORDER BY " MM_EXPORT_ORDER_BY,
			 db, table, (int)(sizeof(columns) - 3), columns);

	return n < 0 ? cap : (size_t)n;
}
