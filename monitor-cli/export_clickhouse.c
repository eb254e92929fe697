// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `meshmon export clickhouse`: a client of the agent's socket, like any
 * external consumer, that writes every event of its subscription into a
 * ClickHouse table. This thread reads the agent and turns each message into
 * a row (export_rows.c) in the bounded buffer (export_buffer.c); the sender
 * thread (export_sender.c) batches them into ClickHouse, so ClickHouse being
 * slow or down never stops the reading. Every row names the node from the
 * agent's Hello.
 *
 * Nothing is lost silently: the agent's LostNotices become loss rows, events
 * the full buffer could not hold become one loss row per overflow, an agent
 * outage (the exporter reconnects, reconnect.c) becomes a loss row of source
 * "agent_gap" with count 0 (the events of the gap were never seen, so their
 * number is unknown), and rows still undelivered at exit are said on stderr
 * and in the exit status.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "commands.h"
#include "export_buffer.h"
#include "export_http.h"
#include "export_metrics.h"
#include "export_rows.h"
#include "export_sender.h"
#include "json.h"
#include "options.h"
#include "protocol.h"
#include "reconnect.h"
#include "signals.h"
#include "stream_cmd.h"

#define NS_PER_S 1000000000ull

/* The loss_source of the row that marks an agent outage. */
#define LOSS_AGENT_GAP "agent_gap"

struct exporter {
	const struct mm_opts *o;
	bool json;
	struct mm_client c;
	char node[256];
	struct mm_export_buffer buf;
	struct mm_export_sender sender;
	struct mm_export_metrics *metrics; /* --metrics; NULL: off */
	FILE *scratch; /* one row is formatted here, then copied into the buffer */
	char *scratch_data;
	size_t scratch_len;
	struct mm_json j;
	uint64_t last_event_ns;
	int hangup;
	bool hung_up;
};

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* Starts a row in the scratch stream; row_end() gives its bytes. */
static void row_begin(struct exporter *x)
{
	rewind(x->scratch);
}

static void row_end(struct exporter *x, const char **data, size_t *len)
{
	fflush(x->scratch);
	*data = x->scratch_data;
	*len = x->scratch_len;
}

/* A loss row; agent_lost and agent_source are the LostNotice's (0, 0 for the exporter's own). */
static void store_loss(struct exporter *x, const struct mm_export_loss *l, uint64_t agent_lost,
		       unsigned int agent_source)
{
	const char *row;
	size_t len;

	row_begin(x);
	mm_export_row__loss(&x->j, x->node, l);
	row_end(x, &row, &len);
	mm_export_buffer__push_loss(&x->buf, row, len, agent_lost, agent_source);
}

/* The events the full buffer dropped, as a loss row, once there is room (or at the end). */
static void store_overflow(struct exporter *x, bool force)
{
	struct mm_export_loss l = { .source = MM_EXPORT_LOSS_BUFFER, .cpu = MM_CPU_NONE };

	if (mm_export_buffer__take_overflow(&x->buf, force, &l.count, &l.first_ns, &l.last_ns))
		store_loss(x, &l, 0, 0);
}

static void store_event(struct exporter *x, const Meshmon__V1__Event *ev)
{
	const char *row;
	size_t len;

	mm_export_buffer__count_event(&x->buf, ev->type);
	store_overflow(x, false);
	row_begin(x);
	mm_export_row__event(&x->j, x->node, ev);
	row_end(x, &row, &len);
	mm_export_buffer__push(&x->buf, row, len, ev->time_ns);
}

static int send_subscribe(const struct mm_opts *o, struct mm_client *c)
{
	Meshmon__V1__ClientMessage cm = MESHMON__V1__CLIENT_MESSAGE__INIT;
	struct mm_subscribe_buf *sb = calloc(1, sizeof(*sb));
	int rc;

	if (!sb)
		return -ENOMEM;
	mm_opts_subscribe(o, sb);
	cm.msg_case = MESHMON__V1__CLIENT_MESSAGE__MSG_SUBSCRIBE;
	cm.subscribe = &sb->sub;
	rc = mm_client__send(c, &cm);
	free(sb);
	return rc;
}

/* The node every row names: the agent's Hello.node_name, "unknown" when it sent none. */
static void take_node_name(struct exporter *x, const Meshmon__V1__Hello *hello)
{
	snprintf(x->node, sizeof(x->node), "%s",
		 hello && hello->node_name && *hello->node_name ? hello->node_name : "unknown");
	mm_export_metrics__set_node(x->metrics, x->node);
}

/* After a reconnect: the agent that answered may carry another name. */
static int resubscribe(void *arg, struct mm_client *c, const Meshmon__V1__Hello *hello)
{
	struct exporter *x = arg;

	take_node_name(x, hello);
	return send_subscribe(x->o, c);
}

/* One message: MM_EXIT_OK, or MM_EXIT_FAILURE for an Error from the agent (reported). */
static int on_message(struct exporter *x, const Meshmon__V1__ServerMessage *m)
{
	struct mm_export_loss l;
	char msg[600];

	switch (m->msg_case) {
	case MESHMON__V1__SERVER_MESSAGE__MSG_EVENT:
		x->last_event_ns = m->event->time_ns;
		store_event(x, m->event);
		return MM_EXIT_OK;
	case MESHMON__V1__SERVER_MESSAGE__MSG_LOST:
		mm_export_loss__from_notice(&l, m->lost);
		store_loss(x, &l, m->lost->count, m->lost->source);
		return MM_EXIT_OK;
	case MESHMON__V1__SERVER_MESSAGE__MSG_ERROR:
		snprintf(msg, sizeof(msg), "meshmon: the agent reported an error: %s (code %u)",
			 m->error->message, m->error->code);
		mm_report_error(x->json, msg);
		return MM_EXIT_FAILURE;
	default:
		return MM_EXIT_OK; /* out of order, or newer than this build: skipped */
	}
}

/* Messages until a stop, an error or the agent hanging up (x->hung_up). */
static int stream(struct exporter *x)
{
	Meshmon__V1__ServerMessage *m = NULL;
	char msg[600];
	int r;

	x->hung_up = false;
	while (!mm_stop_requested) {
		if (mm_client__has_frame(&x->c)) {
			r = mm_client__next(&x->c, &m);
		} else {
			r = mm_client__fill(&x->c, &mm_stop_requested);
			if (r > 0)
				continue;
		}
		if (r == -EINTR)
			continue;
		if (mm_client__hung_up(r)) {
			x->hung_up = true;
			x->hangup = r;
			return MM_EXIT_OK;
		}
		if (r < 0) {
			snprintf(msg, sizeof(msg), "meshmon: reading from the agent: %s",
				 strerror(-r));
			mm_report_error(x->json, msg);
			return MM_EXIT_FAILURE;
		}
		if (on_message(x, m) != MM_EXIT_OK)
			return MM_EXIT_FAILURE;
	}
	return MM_EXIT_OK;
}

/* Streams, riding out agent restarts unless --no-reconnect. */
static int follow(struct exporter *x)
{
	const struct mm_fmt notice = { .out = stderr };
	const struct mm_reconnect r = {
		.path = x->o->socket,
		.timeout_s = x->o->reconnect_timeout,
		.stop = &mm_stop_requested,
		.json = x->json,
		.notice = &notice,
		.subscribe = resubscribe,
		.arg = x,
	};
	int rc;

	for (;;) {
		uint64_t gap_start;

		rc = stream(x);
		if (rc != MM_EXIT_OK || !x->hung_up || mm_stop_requested)
			return rc;
		if (x->o->no_reconnect) {
			mm_report_error(x->json, x->hangup ? "meshmon: reading from the agent failed"
							   : "meshmon: the agent closed the connection");
			return MM_EXIT_FAILURE;
		}
		gap_start = x->last_event_ns ? x->last_event_ns : wall_ns();
		rc = mm_reconnect__run(&r, &x->c, x->last_event_ns);
		if (rc != MM_EXIT_OK || mm_stop_requested)
			return rc;
		mm_export_buffer__count_reconnect(&x->buf);
		store_loss(x,
			   &(struct mm_export_loss){ .source = LOSS_AGENT_GAP,
						     .cpu = MM_CPU_NONE,
						     .first_ns = gap_start,
						     .last_ns = wall_ns() },
			   0, 0);
	}
}

/* --metrics: the endpoint listens before the agent is reached, so a bad address ends at once. */
static int start_metrics(struct exporter *x)
{
	const struct mm_export_opts *e = &x->o->export;
	char table[260], err[600];

	if (!e->metrics)
		return MM_EXIT_OK;
	snprintf(table, sizeof(table), "%s.%s", e->database, e->table);
	x->metrics = mm_export_metrics__start(e->metrics, &x->buf, table);
	if (!x->metrics) {
		snprintf(err, sizeof(err), "meshmon: --metrics %s: cannot listen: %s", e->metrics,
			 strerror(errno));
		mm_report_error(x->json, err);
		return MM_EXIT_FAILURE;
	}
	return MM_EXIT_OK;
}

/* Connects, reads the Hello (the node name) and subscribes. */
static int start(struct exporter *x)
{
	Meshmon__V1__ServerMessage *hello = NULL;
	char err[512];
	int rc;

	rc = mm_client__handshake(&x->c, x->o->socket, &hello, err, sizeof(err));
	if (rc != MM_EXIT_OK) {
		mm_report_error(x->json, err);
		return rc;
	}
	if (!hello)
		return MM_EXIT_OK; /* interrupted */
	take_node_name(x, hello->hello);
	mm_frame__free_server(hello);
	fprintf(stderr, "meshmon export: node %s, %s into %s.%s at %s\n", x->node, x->o->socket,
		x->o->export.database, x->o->export.table, x->o->export.url);
	rc = send_subscribe(x->o, &x->c);
	if (rc < 0) {
		snprintf(err, sizeof(err), "meshmon: sending the subscription to %s: %s",
			 x->o->socket, strerror(-rc));
		mm_report_error(x->json, err);
		return MM_EXIT_FAILURE;
	}
	return MM_EXIT_OK;
}

/* The end: what is left goes to ClickHouse (for a while), and the totals are said. */
static int finish(struct exporter *x, int rc)
{
	struct mm_export_stats st;

	store_overflow(x, true);
	mm_export_buffer__close(&x->buf);
	mm_export_sender__stop(&x->sender);
	st = mm_export_buffer__stats(&x->buf);
	mm_export_status_line(stderr, &st, "exit");
	if (st.buffered_rows) {
		fprintf(stderr, "meshmon export: %llu rows not delivered to %s\n",
			(unsigned long long)st.buffered_rows, x->o->export.url);
		if (rc == MM_EXIT_OK)
			rc = MM_EXIT_FAILURE;
	}
	return rc;
}

static int run(const struct mm_opts *o, bool json)
{
	struct exporter *x = calloc(1, sizeof(*x));
	int rc = MM_EXIT_FAILURE;

	if (!x)
		return MM_EXIT_FAILURE;
	x->o = o;
	x->json = json;
	x->c.fd = -1;
	if (mm_ch__global_init()) {
		mm_report_error(json, "meshmon: libcurl cannot start");
		goto out;
	}
	x->scratch = open_memstream(&x->scratch_data, &x->scratch_len);
	if (!x->scratch || mm_export_buffer__init(&x->buf, o->export.buffer_rows,
						  o->export.batch_rows, o->export.batch_ms)) {
		mm_report_error(json, "meshmon: out of memory");
		goto out_curl;
	}
	mm_json__init(&x->j, x->scratch);
	rc = start_metrics(x);
	if (rc == MM_EXIT_OK)
		rc = start(x);
	if (rc == MM_EXIT_OK && x->node[0]) {
		if (mm_export_sender__start(&x->sender, &x->buf, &o->export)) {
			mm_report_error(json, "meshmon: cannot start the sender thread");
			rc = MM_EXIT_FAILURE;
		} else {
			rc = finish(x, follow(x));
		}
	}
	mm_client__close(&x->c);
	mm_export_metrics__stop(x->metrics);
	mm_export_buffer__destroy(&x->buf);
out_curl:
	if (x->scratch)
		fclose(x->scratch);
	free(x->scratch_data);
	mm_ch__global_cleanup();
out:
	free(x);
	return rc;
}

static const struct mm_stream_cmd export_cmd = {
	.name = "export clickhouse",
	.pcap_flag = "",
	.usage = mm_opts_usage_export,
	.run = run,
};

int cmd_export(const struct mm_cmd_ctx *ctx, int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		mm_opts_usage_export(stdout);
		return MM_EXIT_OK;
	}
	if (argc < 2 || strcmp(argv[1], "clickhouse")) {
		mm_report_usage(ctx->json, "export",
				argc < 2 ? "missing target (want: meshmon export clickhouse --url URL)"
					 : "unknown target (want clickhouse)");
		return MM_EXIT_USAGE;
	}
	return mm_stream_cmd__main(&export_cmd, ctx, argc - 1, argv + 1);
}
