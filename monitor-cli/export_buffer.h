/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The exporter's bounded buffer (export_buffer.c), between the thread that
 * reads the agent and the one that sends to ClickHouse, so a slow or absent
 * ClickHouse never stalls the socket reader (whose agent queue would then
 * overflow). Rows are bytes (lines of JSONEachRow) gathered into batches of
 * at most batch_rows; the sender takes a full batch at once, or the open one
 * when its first row is batch_ms old. A batch stays in the buffer until
 * ClickHouse took it: a failed insert puts it back at the front.
 *
 * At most cap rows are held (sent batches not yet acknowledged included). An
 * event that finds the buffer full is not stored but counted, with the time
 * span of such events; once there is room again the reader takes that count
 * (mm_export_buffer__take_overflow) and stores it as one loss row. Loss rows
 * are always stored, even past cap: they are few (one per overflow and per
 * LostNotice) and are what makes a loss visible in the table.
 */
#ifndef MESHMON_CLI_EXPORT_BUFFER_H
#define MESHMON_CLI_EXPORT_BUFFER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"   /* MM_EVENT_TYPE_SLOTS */
#include "protocol.h" /* MM_LOSS_SOURCES */

struct mm_export_batch {
	struct mm_export_batch *next;
	char *data; /* rows, one per line */
	size_t len, size;
	uint64_t rows;
	uint64_t opened_ms; /* CLOCK_MONOTONIC when its first row came */
};

/*
 * What the status line and the metrics (export_metrics.c) show; read with
 * mm_export_buffer__stats. The reader and the sender update them under the
 * buffer's lock, which each holds only for a few stores.
 */
struct mm_export_stats {
	uint64_t events;         /* events received from the agent */
	uint64_t events_by_type[MM_EVENT_TYPE_SLOTS]; /* by Event.type; [0]: a type past them */
	uint64_t rows_sent;      /* rows ClickHouse took (loss rows included) */
	uint64_t loss_rows;      /* loss rows stored */
	uint64_t lost;           /* events the buffer had no room for */
	uint64_t agent_lost;     /* events the agent reported lost (LostNotice counts) */
	uint64_t agent_lost_by_source[MM_LOSS_SOURCES]; /* the same by LostNotice.source */
	uint64_t batches_sent, batches_failed;
	uint64_t buffered_rows;  /* rows held now */
	uint64_t reconnects;     /* connections to the agent made again after it went away */
	uint64_t clickhouse_errors; /* ClickHouse requests that failed (inserts, CREATEs, TTL) */
};

struct mm_export_buffer {
	pthread_mutex_t lock;
	pthread_cond_t wake; /* a batch is ready, or closing */
	struct mm_export_batch *head, *tail; /* oldest first; tail may be open */
	bool tail_open;                      /* tail still takes rows */
	struct mm_export_batch *in_flight;   /* taken by the sender */
	uint64_t cap, batch_rows, batch_ms;
	bool closing;                        /* no more rows: send what is left at once */
	uint64_t overflow, overflow_first_ns, overflow_last_ns; /* not yet a loss row */
	struct mm_export_stats stats;
};

int mm_export_buffer__init(struct mm_export_buffer *b, uint64_t cap, uint64_t batch_rows,
			   uint64_t batch_ms);
/* Frees every batch still held. Accepts NULL. */
void mm_export_buffer__destroy(struct mm_export_buffer *b);

/*
 * One event's row (len bytes, a whole line): true when stored, false when
 * the buffer is full (the event is counted as lost, at time_ns) or memory
 * ran out (counted the same way).
 */
bool mm_export_buffer__push(struct mm_export_buffer *b, const char *row, size_t len,
			    uint64_t time_ns);
/*
 * A loss row: stored even past cap (false only when memory ran out; then
 * counted). agent_lost is the LostNotice's count and agent_source its
 * LossSource (0 for the exporter's own loss rows).
 */
bool mm_export_buffer__push_loss(struct mm_export_buffer *b, const char *row, size_t len,
				 uint64_t agent_lost, unsigned int agent_source);
/*
 * The events the buffer had no room for, once there is room for their loss
 * row (or at once with force, at the end): true with *count and the span set
 * (and the count reset), else false.
 */
bool mm_export_buffer__take_overflow(struct mm_export_buffer *b, bool force, uint64_t *count,
				     uint64_t *first_ns, uint64_t *last_ns);

/* Counts one event of Event.type type received from the agent (stored or not). */
void mm_export_buffer__count_event(struct mm_export_buffer *b, unsigned int type);
/* Counts one reconnection to the agent. */
void mm_export_buffer__count_reconnect(struct mm_export_buffer *b);
/* Counts one failed ClickHouse request (the sender's). */
void mm_export_buffer__count_clickhouse_error(struct mm_export_buffer *b);

/*
 * The next batch to send: a full one, or the open one once it is batch_ms
 * old, or any once closing. Waits for one at most wait_ms (0: does not
 * wait). NULL when there is none (or one is already in flight).
 */
struct mm_export_batch *mm_export_buffer__take(struct mm_export_buffer *b, uint64_t wait_ms);
/* The batch taken is in ClickHouse (ok: freed) or not (put back in front, sent again). */
void mm_export_buffer__done(struct mm_export_buffer *b, struct mm_export_batch *batch, bool ok);
/*
 * Sleeps ms, or until mm_export_buffer__close: false when closing. The
 * sender's back-off between failed inserts.
 */
bool mm_export_buffer__nap(struct mm_export_buffer *b, uint64_t ms);

/* No more rows will come: every batch is ready now. */
void mm_export_buffer__close(struct mm_export_buffer *b);
bool mm_export_buffer__closing(struct mm_export_buffer *b);

struct mm_export_stats mm_export_buffer__stats(struct mm_export_buffer *b);

#endif /* MESHMON_CLI_EXPORT_BUFFER_H */
