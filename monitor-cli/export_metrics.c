// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Owns the exporter's /metrics: its text and the thread that serves it (export_metrics.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/event.h>
#include <event2/http.h>

#include "export_metrics.h"
#include "export_rows.h"
#include "metrics_http.h"
#include "tables.h"
#include "protocol.h"
#include "signals.h"

#define NODE_MAX 256

struct mm_export_metrics {
	struct mm_export_buffer *buf;
	char table[260];
	pthread_mutex_t node_lock; /* the reader sets the node at (re)connect; a scrape reads it */
	char node[NODE_MAX];
	struct event_base *base;
	struct evhttp *http;
	struct event *stop_ev;
	int stop_pipe[2]; /* a byte on [1] ends the thread's loop */
	pthread_t thread;
	bool started;
};

/* One label value, escaped; the longest node name is NODE_MAX, a table name shorter. */
static void put_label(FILE *out, const char *v)
{
	char esc[2 * NODE_MAX + 1];

	mm_prom__escape_label(esc, sizeof(esc), v);
	fputs(esc, out);
}

static void put_family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void put_one(FILE *out, const char *name, const char *type, const char *help,
		    uint64_t v)
{
	put_family(out, name, type, help);
	fprintf(out, "%s %" PRIu64 "\n", name, v);
}

/* Events read by record type; a type this build does not know is "unknown". */
static void put_events(FILE *out, const struct mm_export_stats *st)
{
	put_family(out, "meshmon_export_events_total", "counter",
		   "Events read from the agent, by record type (stored or lost).");
#define X(name, value, text)                                                                       \
	fprintf(out, "meshmon_export_events_total{type=\"%s\"} %" PRIu64 "\n", text,              \
		st->events_by_type[value]);
	MM_EVENT_TYPES(X)
#undef X
	fprintf(out, "meshmon_export_events_total{type=\"unknown\"} %" PRIu64 "\n",
		st->events_by_type[0]);
}

/* Events lost by where: the exporter's own buffer, and the agent's LostNotice sources. */
static void put_lost(FILE *out, const struct mm_export_stats *st)
{
	put_family(out, "meshmon_export_lost_events_total", "counter",
		   "Events lost, by source: export_buffer (the exporter's full buffer) or the "
		   "agent's LostNotice sources.");
	fprintf(out, "meshmon_export_lost_events_total{source=\"" MM_EXPORT_LOSS_BUFFER
		     "\"} %" PRIu64 "\n",
		st->lost);
#define X(name, value, display, key)                                                               \
	fprintf(out, "meshmon_export_lost_events_total{source=\"%s\"} %" PRIu64 "\n", key,        \
		st->agent_lost_by_source[value]);
	MM_LOSS_SOURCE_TABLE(X)
#undef X
	fprintf(out, "meshmon_export_lost_events_total{source=\"unknown\"} %" PRIu64 "\n",
		st->agent_lost_by_source[0]);
}

void mm_export_metrics__render(FILE *out, const struct mm_export_stats *st, uint64_t cap,
			       const char *node, const char *table)
{
	/* The node as a label of this series only, as the agent's meshmon_node_info. */
	put_family(out, "meshmon_export_info", "gauge",
		   "The exporter's node (the agent's Hello.node_name) and table.");
	fputs("meshmon_export_info{node_name=\"", out);
	put_label(out, node);
	fputs("\",table=\"", out);
	put_label(out, table);
	fputs("\"} 1\n", out);
	put_events(out, st);
	put_one(out, "meshmon_export_rows_delivered_total", "counter",
		"Rows ClickHouse took, loss rows included.", st->rows_sent);
	put_one(out, "meshmon_export_loss_rows_total", "counter",
		"Loss rows stored (one per buffer overflow, LostNotice and agent outage).",
		st->loss_rows);
	put_lost(out, st);
	put_one(out, "meshmon_export_batches_sent_total", "counter",
		"INSERTs ClickHouse took.", st->batches_sent);
	put_one(out, "meshmon_export_batches_failed_total", "counter",
		"INSERTs that failed (the batch is kept and sent again).", st->batches_failed);
	put_one(out, "meshmon_export_clickhouse_errors_total", "counter",
		"ClickHouse requests that failed: INSERTs, CREATEs, --ttl-days requests.",
		st->clickhouse_errors);
	put_one(out, "meshmon_export_agent_reconnects_total", "counter",
		"Connections to the agent made again after it went away.", st->reconnects);
	put_one(out, "meshmon_export_buffered_rows", "gauge",
		"Rows held now, not yet taken by ClickHouse.", st->buffered_rows);
	put_one(out, "meshmon_export_buffer_capacity_rows", "gauge",
		"Rows the buffer holds at most (--buffer-rows); loss rows may pass it.", cap);
}

static void on_metrics(struct evhttp_request *req, void *arg)
{
	struct mm_export_metrics *m = arg;
	struct mm_export_stats st;
	char node[NODE_MAX], *text = NULL;
	size_t len = 0;
	FILE *out;

	if (!mm_http__method_allowed(req))
		return;
	st = mm_export_buffer__stats(m->buf);
	pthread_mutex_lock(&m->node_lock);
	memcpy(node, m->node, sizeof(node));
	pthread_mutex_unlock(&m->node_lock);
	out = open_memstream(&text, &len);
	if (!out) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	mm_export_metrics__render(out, &st, m->buf->cap, node, m->table);
	if (fclose(out) || !text)
		evhttp_send_error(req, 500, "out of memory");
	else
		mm_http__reply(req, "text/plain; version=0.0.4", text, len);
	free(text);
}

static void on_other(struct evhttp_request *req, void *arg)
{
	(void)arg;
	evhttp_send_error(req, 404, "only /metrics here");
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	struct mm_export_metrics *m = arg;

	(void)fd;
	(void)what;
	event_base_loopbreak(m->base);
}

static void *run(void *arg)
{
	struct mm_export_metrics *m = arg;

	event_base_dispatch(m->base);
	return NULL;
}

/* Frees what start made; the thread, when there was one, has ended. */
static void release(struct mm_export_metrics *m)
{
	if (m->http)
		evhttp_free(m->http);
	if (m->stop_ev)
		event_free(m->stop_ev);
	if (m->base)
		event_base_free(m->base);
	for (int i = 0; i < 2; i++)
		if (m->stop_pipe[i] >= 0)
			close(m->stop_pipe[i]);
	pthread_mutex_destroy(&m->node_lock);
	free(m);
}

struct mm_export_metrics *mm_export_metrics__start(const char *addr_port,
						   struct mm_export_buffer *buf,
						   const char *table)
{
	struct mm_export_metrics *m = calloc(1, sizeof(*m));
	int e = ENOMEM;

	if (!m)
		return NULL;
	m->buf = buf;
	m->stop_pipe[0] = m->stop_pipe[1] = -1;
	snprintf(m->table, sizeof(m->table), "%s", table);
	pthread_mutex_init(&m->node_lock, NULL);
	/*
	 * The base is made here and then used by the thread alone (pthread_create
	 * orders the two), so libevent needs no locking of its own.
	 */
	m->base = event_base_new();
	if (!m->base)
		goto fail;
	m->http = mm_http__listen(m->base, addr_port);
	if (!m->http) {
		e = errno;
		goto fail;
	}
	evhttp_set_cb(m->http, "/metrics", on_metrics, m);
	evhttp_set_gencb(m->http, on_other, m);
	if (pipe2(m->stop_pipe, O_CLOEXEC | O_NONBLOCK)) {
		e = errno;
		goto fail;
	}
	m->stop_ev = event_new(m->base, m->stop_pipe[0], EV_READ, on_stop, m);
	if (!m->stop_ev || event_add(m->stop_ev, NULL))
		goto fail;
	e = mm_signals__thread_create(&m->thread, run, m);
	if (e)
		goto fail;
	m->started = true;
	return m;
fail:
	release(m);
	errno = e;
	return NULL;
}

void mm_export_metrics__set_node(struct mm_export_metrics *m, const char *node)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->node_lock);
	snprintf(m->node, sizeof(m->node), "%s", node);
	pthread_mutex_unlock(&m->node_lock);
}

void mm_export_metrics__stop(struct mm_export_metrics *m)
{
	if (!m)
		return;
	if (m->started) {
		/* Into an empty pipe: only a signal can delay the byte. */
		while (write(m->stop_pipe[1], "", 1) < 0 && errno == EINTR)
			;
		pthread_join(m->thread, NULL);
	}
	release(m);
}
