// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The exporter's bounded buffer of batches (see export_buffer.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "export_buffer.h"

#define NS_PER_MS 1000000ull

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / NS_PER_MS;
}

int mm_export_buffer__init(struct mm_export_buffer *b, uint64_t cap, uint64_t batch_rows,
			   uint64_t batch_ms)
{
	pthread_condattr_t attr;
	int rc;

	memset(b, 0, sizeof(*b));
	b->cap = cap;
	b->batch_rows = batch_rows;
	b->batch_ms = batch_ms;
	rc = pthread_mutex_init(&b->lock, NULL);
	if (rc)
		return -rc;
	pthread_condattr_init(&attr);
	/* Waits are measured on the monotonic clock: a wall clock step cannot stall a batch. */
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	rc = pthread_cond_init(&b->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (rc) {
		pthread_mutex_destroy(&b->lock);
		return -rc;
	}
	return 0;
}

static void batch_free(struct mm_export_batch *batch)
{
	if (batch)
		free(batch->data);
	free(batch);
}

void mm_export_buffer__destroy(struct mm_export_buffer *b)
{
	struct mm_export_batch *batch, *next;

	if (!b)
		return;
	for (batch = b->head; batch; batch = next) {
		next = batch->next;
		batch_free(batch);
	}
	batch_free(b->in_flight);
	pthread_cond_destroy(&b->wake);
	pthread_mutex_destroy(&b->lock);
}

/* The open batch with room for one more row, a new one at the tail if needed. NULL: no memory. */
static struct mm_export_batch *open_batch(struct mm_export_buffer *b)
{
	struct mm_export_batch *batch;

	if (b->tail && b->tail_open && b->tail->rows < b->batch_rows)
		return b->tail;
	if (b->tail && b->tail_open) {
		b->tail_open = false; /* full: the sender may take it */
		pthread_cond_signal(&b->wake);
	}
	batch = calloc(1, sizeof(*batch));
	if (!batch)
		return NULL;
	batch->opened_ms = mono_ms();
	if (b->tail)
		b->tail->next = batch;
	else
		b->head = batch;
	b->tail = batch;
	b->tail_open = true;
	return batch;
}

static bool append(struct mm_export_buffer *b, const char *row, size_t len)
{
	struct mm_export_batch *batch = open_batch(b);

	if (!batch)
		return false;
	if (batch->len + len > batch->size) {
		size_t size = batch->size ? batch->size : 4096;
		char *data;

		while (size < batch->len + len)
			size *= 2;
		data = realloc(batch->data, size);
		if (!data)
			return false;
		batch->data = data;
		batch->size = size;
	}
	memcpy(batch->data + batch->len, row, len);
	batch->len += len;
	batch->rows++;
	b->stats.buffered_rows++;
	if (batch->rows == b->batch_rows) {
		b->tail_open = false;
		pthread_cond_signal(&b->wake);
	}
	return true;
}

static void count_overflow(struct mm_export_buffer *b, uint64_t time_ns)
{
	if (!b->overflow++)
		b->overflow_first_ns = time_ns;
	b->overflow_last_ns = time_ns;
	b->stats.lost++;
}

bool mm_export_buffer__push(struct mm_export_buffer *b, const char *row, size_t len,
			    uint64_t time_ns)
{
	bool stored = false;

	pthread_mutex_lock(&b->lock);
	if (b->stats.buffered_rows < b->cap)
		stored = append(b, row, len);
	if (!stored)
		count_overflow(b, time_ns);
	pthread_mutex_unlock(&b->lock);
	return stored;
}

bool mm_export_buffer__push_loss(struct mm_export_buffer *b, const char *row, size_t len,
				 uint64_t agent_lost, unsigned int agent_source)
{
	bool stored;

	pthread_mutex_lock(&b->lock);
	b->stats.agent_lost += agent_lost;
	b->stats.agent_lost_by_source[agent_source < MM_LOSS_SOURCES ? agent_source : 0] +=
	    agent_lost;
	stored = append(b, row, len);
	if (stored)
		b->stats.loss_rows++;
	pthread_mutex_unlock(&b->lock);
	return stored;
}

bool mm_export_buffer__take_overflow(struct mm_export_buffer *b, bool force, uint64_t *count,
				     uint64_t *first_ns, uint64_t *last_ns)
{
	bool due;

	pthread_mutex_lock(&b->lock);
	due = b->overflow && (b->stats.buffered_rows < b->cap || force);
	if (due) {
		*count = b->overflow;
		*first_ns = b->overflow_first_ns;
		*last_ns = b->overflow_last_ns;
		b->overflow = 0;
	}
	pthread_mutex_unlock(&b->lock);
	return due;
}

void mm_export_buffer__count_event(struct mm_export_buffer *b, unsigned int type)
{
	pthread_mutex_lock(&b->lock);
	b->stats.events++;
	b->stats.events_by_type[type < MM_EVENT_TYPE_SLOTS ? type : 0]++;
	pthread_mutex_unlock(&b->lock);
}

void mm_export_buffer__count_reconnect(struct mm_export_buffer *b)
{
	pthread_mutex_lock(&b->lock);
	b->stats.reconnects++;
	pthread_mutex_unlock(&b->lock);
}

void mm_export_buffer__count_clickhouse_error(struct mm_export_buffer *b)
{
	pthread_mutex_lock(&b->lock);
	b->stats.clickhouse_errors++;
	pthread_mutex_unlock(&b->lock);
}

/* Whether the head batch may go now; when it may not yet, *wait_ms is how long until it may. */
static bool head_ready(const struct mm_export_buffer *b, uint64_t *wait_ms)
{
	uint64_t now, due;

	if (!b->head || b->in_flight)
		return false;
	if (b->head != b->tail || !b->tail_open || b->closing)
		return true;
	now = mono_ms();
	due = b->head->opened_ms + b->batch_ms;
	if (now >= due)
		return true;
	if (due - now < *wait_ms)
		*wait_ms = due - now;
	return false;
}

static void deadline_in(struct timespec *ts, uint64_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

struct mm_export_batch *mm_export_buffer__take(struct mm_export_buffer *b, uint64_t wait_ms)
{
	struct mm_export_batch *batch = NULL;
	struct timespec until;
	uint64_t left = wait_ms, now, end = mono_ms() + wait_ms;

	pthread_mutex_lock(&b->lock);
	for (;;) {
		uint64_t wait = left;

		if (head_ready(b, &wait))
			break;
		if (!wait || b->closing)
			goto out;
		deadline_in(&until, wait);
		pthread_cond_timedwait(&b->wake, &b->lock, &until);
		now = mono_ms();
		left = now < end ? end - now : 0;
	}
	batch = b->head;
	b->head = batch->next;
	if (!b->head)
		b->tail = NULL;
	if (b->tail_open && batch == b->tail)
		b->tail_open = false;
	batch->next = NULL;
	b->in_flight = batch;
out:
	pthread_mutex_unlock(&b->lock);
	return batch;
}

void mm_export_buffer__done(struct mm_export_buffer *b, struct mm_export_batch *batch, bool ok)
{
	pthread_mutex_lock(&b->lock);
	b->in_flight = NULL;
	if (ok) {
		b->stats.rows_sent += batch->rows;
		b->stats.batches_sent++;
		b->stats.buffered_rows -= batch->rows;
		batch_free(batch);
	} else {
		b->stats.batches_failed++;
		batch->next = b->head;
		b->head = batch;
		if (!b->tail)
			b->tail = batch;
	}
	pthread_mutex_unlock(&b->lock);
}

bool mm_export_buffer__nap(struct mm_export_buffer *b, uint64_t ms)
{
	struct timespec until;
	bool go_on;

	deadline_in(&until, ms);
	pthread_mutex_lock(&b->lock);
	while (!b->closing && pthread_cond_timedwait(&b->wake, &b->lock, &until) != ETIMEDOUT)
		;
	go_on = !b->closing;
	pthread_mutex_unlock(&b->lock);
	return go_on;
}

void mm_export_buffer__close(struct mm_export_buffer *b)
{
	pthread_mutex_lock(&b->lock);
	b->closing = true;
	pthread_cond_broadcast(&b->wake);
	pthread_mutex_unlock(&b->lock);
}

bool mm_export_buffer__closing(struct mm_export_buffer *b)
{
	bool closing;

	pthread_mutex_lock(&b->lock);
	closing = b->closing;
	pthread_mutex_unlock(&b->lock);
	return closing;
}

struct mm_export_stats mm_export_buffer__stats(struct mm_export_buffer *b)
{
	struct mm_export_stats s;

	pthread_mutex_lock(&b->lock);
	s = b->stats;
	pthread_mutex_unlock(&b->lock);
	return s;
}
