/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The exporter's own Prometheus /metrics (export_metrics.c), on
 * `meshmon export clickhouse --metrics ADDR:PORT`: what it read from the
 * agent by record type, delivered, buffered and lost by source, its batches,
 * ClickHouse errors and reconnects, and meshmon_export_info with the node
 * and the table. Served by a thread of its own (libevent's evhttp on its own
 * event_base), so a scrape never waits for the reader or the sender, nor
 * they for it: the numbers are a copy of the buffer's stats, taken under the
 * buffer's lock as the status line's are.
 */
#ifndef MESHMON_CLI_EXPORT_METRICS_H
#define MESHMON_CLI_EXPORT_METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "export_buffer.h"

struct mm_export_metrics;

/*
 * Listens on addr_port and starts the thread; table is "database.table"
 * (copied). NULL with errno set (EINVAL: not ADDR:PORT; else the bind's).
 */
struct mm_export_metrics *mm_export_metrics__start(const char *addr_port,
						   struct mm_export_buffer *buf,
						   const char *table);
/* The node name meshmon_export_info shows (the agent's Hello, again after a reconnect). */
void mm_export_metrics__set_node(struct mm_export_metrics *m, const char *node);
/* Stops the thread and closes the listener. Accepts NULL. */
void mm_export_metrics__stop(struct mm_export_metrics *m);

/* The exposition text of st (a buffer of cap rows, the node, the table) on out. */
void mm_export_metrics__render(FILE *out, const struct mm_export_stats *st, uint64_t cap,
			       const char *node, const char *table);

#endif /* MESHMON_CLI_EXPORT_METRICS_H */
