/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The exporter's sender thread (export_sender.c): creates the database and
 * the table when missing, then sends the buffer's batches to ClickHouse, one
 * INSERT each, in order. A failed request (ClickHouse down, refusing, slow)
 * keeps the batch and tries again after a back-off of 100 ms doubling to 5 s;
 * the first failure of a streak and the recovery are said once on stderr.
 * It prints the progress line every --status-interval. With --ttl-days it
 * drops the table's day partitions older than that, at start and hourly.
 *
 * A batch ClickHouse took but whose answer never came (a timeout after the
 * insert, the connection cut at that moment) is sent again: delivery is at
 * least once, and such a batch can be in the table twice.
 */
#ifndef MESHMON_CLI_EXPORT_SENDER_H
#define MESHMON_CLI_EXPORT_SENDER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "export_buffer.h"
#include "export_opts.h"

/* The back-off between failed requests. */
#define MM_EXPORT_BACKOFF_FIRST_MS 100
#define MM_EXPORT_BACKOFF_MAX_MS 5000
struct mm_ch;

struct mm_export_sender {
	struct mm_export_buffer *buf;
	const struct mm_export_opts *o;
	struct mm_ch *ch;
	pthread_t thread;
	bool started;
	bool table_ready;
	bool failing;            /* in a streak of failed requests */
	uint64_t next_status_ms; /* CLOCK_MONOTONIC of the next progress line */
	uint64_t next_ttl_ms;    /* ... and of the next look for expired partitions */
};

/*
 * Starts the thread (with SIGINT and SIGTERM blocked in it: they are the
 * reader's). 0 or -errno.
 */
int mm_export_sender__start(struct mm_export_sender *s, struct mm_export_buffer *buf,
			    const struct mm_export_opts *o);
/*
 * After mm_export_buffer__close: waits until everything is delivered or
 * --drain-timeout passed, and ends the thread. Accepts a sender never
 * started.
 */
void mm_export_sender__stop(struct mm_export_sender *s);

/* The progress line: "meshmon export: events N, rows sent N, ...", on out. */
void mm_export_status_line(FILE *out, const struct mm_export_stats *st, const char *when);

#endif /* MESHMON_CLI_EXPORT_SENDER_H */
