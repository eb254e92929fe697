/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The ClickHouse table of `meshmon export clickhouse` (export_schema.c): its
 * columns, once, and the statements that create it. One row per event or
 * loss; a column a row does not name takes its type's default (0, ''), so
 * each type fills only its own columns (docs/fleet.md lists them).
 *
 * The types are those ClickHouse 18.16 (Debian 12) already has: no
 * LowCardinality, no DateTime64 (time_ns keeps the nanoseconds beside a
 * DateTime), no TTL clause. Names are Strings, not Enums, so that a name a
 * newer agent sends (a kernel drop reason, a new point) never fails a batch.
 */
#ifndef MESHMON_CLI_EXPORT_SCHEMA_H
#define MESHMON_CLI_EXPORT_SCHEMA_H

#include <stddef.h>

/* X(column, "ClickHouse type"), in table order. */
#define MM_EXPORT_COLUMNS(X)                                                           \
	X(time, "DateTime")                                                            \
	X(time_ns, "UInt64")                                                           \
	X(node, "String")                                                              \
	X(type, "String")                                                              \
	X(source, "String")                                                            \
	X(cpu, "UInt32")                                                               \
	X(ifindex, "UInt32")                                                           \
	X(ifname, "String")                                                            \
	X(flow_id, "UInt32")                                                           \
	X(src, "String")                                                               \
	X(dst, "String")                                                               \
	X(sport, "UInt16")                                                             \
	X(dport, "UInt16")                                                             \
	X(proto, "UInt8")                                                              \
	X(ethertype, "UInt16")                                                         \
	X(len, "UInt32")                                                               \
	X(cap_len, "UInt32")                                                           \
	X(captured, "String")                                                          \
	X(out_of_order, "UInt8")                                                       \
	X(point, "String")                                                             \
	X(state, "String")                                                             \
	X(tcp_flags, "UInt8")                                                          \
	X(icmp_type, "UInt8")                                                          \
	X(icmp_code, "UInt8")                                                          \
	X(folded, "UInt32")                                                            \
	X(drop_reason, "String")                                                       \
	X(drop_reason_code, "UInt32")                                                  \
	X(drop_file, "String")                                                         \
	X(drop_line, "UInt32")                                                         \
	X(drop_location, "UInt64")                                                     \
	X(drop_symbol, "String")                                                       \
	X(ext_error, "UInt32")                                                         \
	X(netns, "UInt32")                                                             \
	X(verdict, "String")                                                           \
	X(rule_id, "UInt32")                                                           \
	X(debug_message, "String")                                                     \
	X(sock_hook, "String")                                                         \
	X(pid, "UInt32")                                                               \
	X(comm, "String")                                                              \
	X(cgroup_id, "UInt64")                                                         \
	X(socket_cookie, "UInt64")                                                     \
	X(probe_state, "String")                                                       \
	X(probe_direction, "String")                                                   \
	X(start_time_ns, "UInt64")                                                     \
	X(duration_ns, "UInt64")                                                       \
	X(bytes_sent, "UInt64")                                                        \
	X(bytes_received, "UInt64")                                                    \
	X(segs_in, "UInt32")                                                           \
	X(segs_out, "UInt32")                                                          \
	X(data_segs_in, "UInt32")                                                      \
	X(data_segs_out, "UInt32")                                                     \
	X(srtt_us, "UInt32")                                                           \
	X(min_rtt_us, "UInt32")                                                        \
	X(snd_cwnd, "UInt32")                                                          \
	X(total_retrans, "UInt32")                                                     \
	X(lost_out, "UInt32")                                                          \
	X(delivered, "UInt32")                                                         \
	X(tcp_state, "UInt8")                                                          \
	X(orig_dst, "String")                                                          \
	X(orig_dport, "UInt16")                                                        \
	X(loss_source, "String")                                                       \
	X(loss_type, "String")                                                         \
	X(loss_count, "UInt64")                                                        \
	X(loss_first_ns, "UInt64")                                                     \
	X(loss_last_ns, "UInt64")

/*
 * Day partitions keep a time range cheap to read and to drop; within a day
 * rows are sorted by node, then type, then time: the queries people run name
 * a node or a type (drops per node, one node's connections) over a time span.
 */
#define MM_EXPORT_PARTITION_BY "toYYYYMMDD(time)"
#define MM_EXPORT_ORDER_BY "(node, type, time)"

/*
 * The day partitions of `db`.`table` older than days before today, one per
 * line in ClickHouse's answer: the retention of --ttl-days, since 18.16 has
 * no TTL clause. Its length, or >= cap when cut.
 */
size_t mm_export_schema__expired_partitions(char *buf, size_t cap, const char *db,
					    const char *table, unsigned long long days);
/* "ALTER TABLE `db`.`table` DROP PARTITION p" into buf: its length, or >= cap when cut. */
size_t mm_export_schema__drop_partition(char *buf, size_t cap, const char *db, const char *table,
					const char *partition);

/* "CREATE DATABASE IF NOT EXISTS `db`" into buf: its length, or >= cap when cut. */
size_t mm_export_schema__create_database(char *buf, size_t cap, const char *db);
/*
 * "CREATE TABLE IF NOT EXISTS `db`.`table` (...) ENGINE = MergeTree() ..."
 * into buf: its length, or >= cap when cut.
 */
size_t mm_export_schema__create_table(char *buf, size_t cap, const char *db, const char *table);

#endif /* MESHMON_CLI_EXPORT_SCHEMA_H */
