// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The exporter's sender thread (see export_sender.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "export_http.h"
#include "export_schema.h"
#include "export_sender.h"
#include "signals.h"

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void mm_export_status_line(FILE *out, const struct mm_export_stats *st, const char *when)
{
	fprintf(out,
		"meshmon export: %s: events %" PRIu64 ", rows sent %" PRIu64 " (loss rows %" PRIu64
		"), lost in the buffer %" PRIu64 ", lost in the agent %" PRIu64
		", batches sent %" PRIu64 ", failed %" PRIu64 ", buffered rows %" PRIu64 "\n",
		when, st->events, st->rows_sent, st->loss_rows, st->lost, st->agent_lost,
		st->batches_sent, st->batches_failed, st->buffered_rows);
	fflush(out);
}

/* A request failed (err): counted each time, said once per streak. */
static void note_failure(struct mm_export_sender *s, const char *what, const char *err)
{
	mm_export_buffer__count_clickhouse_error(s->buf);
	if (s->failing)
		return;
	s->failing = true;
	fprintf(stderr, "meshmon export: %s at %s failed: %s; retrying with back-off\n", what,
		s->o->url, err);
}

static void note_success(struct mm_export_sender *s)
{
	if (!s->failing)
		return;
	s->failing = false;
	fprintf(stderr, "meshmon export: %s answers again\n", s->o->url);
}

/* CREATE DATABASE and CREATE TABLE, both IF NOT EXISTS: 0 or -1 (noted). */
static int create_table(struct mm_export_sender *s)
{
	char sql[8192], err[512];

	mm_export_schema__create_database(sql, sizeof(sql), s->o->database);
	if (mm_ch__request(s->ch, sql, NULL, 0, NULL, 0, err, sizeof(err))) {
		note_failure(s, "CREATE DATABASE", err);
		return -1;
	}
	if (mm_export_schema__create_table(sql, sizeof(sql), s->o->database, s->o->table) >=
	    sizeof(sql)) {
		note_failure(s, "CREATE TABLE", "statement too long");
		return -1;
	}
	if (mm_ch__request(s->ch, sql, NULL, 0, NULL, 0, err, sizeof(err))) {
		note_failure(s, "CREATE TABLE", err);
		return -1;
	}
	s->table_ready = true;
	return 0;
}

static int insert(struct mm_export_sender *s, const struct mm_export_batch *batch)
{
	char query[256], err[512];

	snprintf(query, sizeof(query), "INSERT INTO `%s`.`%s` FORMAT JSONEachRow", s->o->database,
		 s->o->table);
	if (mm_ch__request(s->ch, query, batch->data, batch->len, NULL, 0, err, sizeof(err))) {
		note_failure(s, "INSERT", err);
		return -1;
	}
	return 0;
}

/* A partition name as ClickHouse printed it: the day, digits only (it goes into the SQL as is). */
static bool is_day(const char *p)
{
	size_t n = strspn(p, "0123456789");

	return n == 8 && !p[n];
}

/*
 * --ttl-days: the expired day partitions dropped, at start and then hourly.
 * A failure is said and tried again at the next hour; it never holds a batch.
 */
static void drop_expired(struct mm_export_sender *s)
{
	char sql[512], parts[4096], err[512], *line, *save = NULL;
	uint64_t now = mono_ms();

	if (!s->o->ttl_days || now < s->next_ttl_ms)
		return;
	s->next_ttl_ms = now + 3600 * 1000;
	mm_export_schema__expired_partitions(sql, sizeof(sql), s->o->database, s->o->table,
					     s->o->ttl_days);
	if (mm_ch__request(s->ch, sql, NULL, 0, parts, sizeof(parts), err, sizeof(err))) {
		mm_export_buffer__count_clickhouse_error(s->buf);
		fprintf(stderr, "meshmon export: listing expired partitions failed: %s\n", err);
		return;
	}
	for (line = strtok_r(parts, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!is_day(line))
			continue;
		mm_export_schema__drop_partition(sql, sizeof(sql), s->o->database, s->o->table, line);
		if (mm_ch__request(s->ch, sql, NULL, 0, NULL, 0, err, sizeof(err))) {
			mm_export_buffer__count_clickhouse_error(s->buf);
			fprintf(stderr, "meshmon export: dropping partition %s failed: %s\n", line, err);
		} else {
			fprintf(stderr, "meshmon export: dropped partition %s (--ttl-days %llu)\n",
				line, (unsigned long long)s->o->ttl_days);
		}
	}
}

static void maybe_status(struct mm_export_sender *s)
{
	struct mm_export_stats st;
	uint64_t now = mono_ms();

	if (!s->o->status_s || now < s->next_status_ms)
		return;
	s->next_status_ms = now + s->o->status_s * 1000;
	st = mm_export_buffer__stats(s->buf);
	mm_export_status_line(stderr, &st, "progress");
}

/* Sleeps ms; while draining (no nap to wait on: closing ends naps at once) a plain sleep. */
static void back_off(struct mm_export_sender *s, uint64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };

	if (mm_export_buffer__nap(s->buf, ms))
		return;
	nanosleep(&ts, NULL);
}

static void *run(void *arg)
{
	struct mm_export_sender *s = arg;
	uint64_t backoff = MM_EXPORT_BACKOFF_FIRST_MS, drain_end = 0;
	struct mm_export_batch *batch;

	s->next_status_ms = mono_ms() + s->o->status_s * 1000;
	for (;;) {
		bool closing = mm_export_buffer__closing(s->buf);
		int rc;

		maybe_status(s);
		if (closing && !drain_end)
			drain_end = mono_ms() + s->o->drain_ms;
		if (drain_end && mono_ms() >= drain_end)
			break;
		/* While draining, no request may outlast --drain-timeout. */
		if (drain_end)
			mm_ch__set_timeout(s->ch, (long)(drain_end - mono_ms()));
		if (!s->table_ready) {
			rc = create_table(s);
		} else {
			if (!closing)
				drop_expired(s);
			batch = mm_export_buffer__take(s->buf, 200);
			if (!batch) {
				if (closing)
					break; /* everything delivered */
				continue;
			}
			rc = insert(s, batch);
			mm_export_buffer__done(s->buf, batch, rc == 0);
		}
		if (rc == 0) {
			note_success(s);
			backoff = MM_EXPORT_BACKOFF_FIRST_MS;
			continue;
		}
		back_off(s, backoff);
		backoff = backoff * 2 < MM_EXPORT_BACKOFF_MAX_MS ? backoff * 2 : MM_EXPORT_BACKOFF_MAX_MS;
	}
	return NULL;
}

int mm_export_sender__start(struct mm_export_sender *s, struct mm_export_buffer *buf,
			    const struct mm_export_opts *o)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->buf = buf;
	s->o = o;
	s->ch = mm_ch__open(o->url);
	if (!s->ch)
		return -errno;
	rc = mm_signals__thread_create(&s->thread, run, s);
	if (rc) {
		mm_ch__close(s->ch);
		s->ch = NULL;
		return -rc;
	}
	s->started = true;
	return 0;
}

void mm_export_sender__stop(struct mm_export_sender *s)
{
	if (!s->started)
		return;
	pthread_join(s->thread, NULL);
	s->started = false;
	mm_ch__close(s->ch);
	s->ch = NULL;
}
