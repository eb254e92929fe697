// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `meshmon monitor`: handshake, one Subscribe built from the flags, then every
 * Event / LostNotice printed (text or JSON) and/or written to the pcap file
 * until --count events or Ctrl-C, or, with --last or --since and no --follow,
 * until the agent's ReplayDone ends the history. When the agent hangs up, the
 * session goes on with a new connection (reconnect.c) unless --no-reconnect,
 * --count or a history-only run says the run should end there.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "commands.h"
#include "format.h"
#include "format_text.h"
#include "json.h"
#include "options.h"
#include "pcap.h"
#include "signals.h"
#include "reconnect.h"
#include "stream_cmd.h"

/* One monitor run: the connection, the output and what has been seen so far. */
struct session {
	const struct mm_opts *o;
	bool json;
	struct mm_client c;
	struct mm_fmt f;
	struct mm_fmt_node node; /* f.node: the name in the latest Hello */
	struct mm_pcap *pcap;
	bool text; /* stdout carries text or JSON; false when it carries the pcap */
	uint64_t seen;
	uint64_t last_event_ns; /* wall time of the last event on this connection; 0: none */
	int hangup;             /* the receive result that ended the stream: the agent hung up */
	bool hung_up;
};

/*
 * Sends the Subscribe built from the flags on c: 0 or -errno. --last and
 * --since are asked of the first connection only: a replay after a reconnect
 * would repeat what was already printed (--until still bounds the stream).
 */
static int send_subscribe(const struct mm_opts *o, struct mm_client *c, bool first)
{
	Meshmon__V1__ClientMessage cm = MESHMON__V1__CLIENT_MESSAGE__INIT;
	struct mm_subscribe_buf *sb;
	int rc;

	sb = calloc(1, sizeof(*sb));
	if (!sb)
		return -ENOMEM;
	mm_opts_subscribe(o, sb);
	if (!first) {
		sb->sub.replay = 0;
		sb->sub.since_ns = 0;
		sb->sub.history_only = false; /* a history-only run does not reconnect */
	}
	cm.msg_case = MESHMON__V1__CLIENT_MESSAGE__MSG_SUBSCRIBE;
	cm.subscribe = &sb->sub;
	rc = mm_client__send(c, &cm);
	free(sb);
	return rc;
}

/* A restarted agent may come back under another --node-name: its lines say so. */
static int resubscribe(void *arg, struct mm_client *c, const Meshmon__V1__Hello *hello)
{
	struct session *s = arg;

	mm_fmt_set_node(&s->f, &s->node, hello->node_name);
	return send_subscribe(s->o, c, false);
}

/*
 * The "Listening for events ..." header is a note, not an event: it goes to
 * stderr, as cilium-dbg monitor's does, so `meshmon monitor > file` holds
 * events only. Not in JSON mode (stdout there is objects, stderr errors).
 */
static void print_header(const struct session *s, const Meshmon__V1__Hello *hello)
{
	struct mm_fmt note = s->f;

	note.out = stderr;
	note.color = false;
	mm_format_hello(&note, hello);
}

/* Writes the pcap header, prints the Hello and sends one Subscribe built from the flags. */
static int start(struct session *s, const Meshmon__V1__Hello *hello)
{
	char msg[600];
	int rc;

	mm_fmt_set_node(&s->f, &s->node, hello->node_name);
	if (s->pcap) {
		rc = mm_pcap__start(s->pcap, hello->capture_len);
		if (rc < 0) {
			snprintf(msg, sizeof(msg), "meshmon: --pcap: writing %s: %s", s->o->pcap,
				 strerror(-rc));
			mm_report_error(s->json, msg);
			return MM_EXIT_FAILURE;
		}
	}
	print_header(s, hello);

	rc = send_subscribe(s->o, &s->c, true);
	if (rc == -ENOMEM) {
		mm_report_error(s->json, "meshmon: out of memory");
		return MM_EXIT_FAILURE;
	}
	if (rc < 0) {
		snprintf(msg, sizeof(msg), "meshmon: sending the subscription to %s: %s",
			 s->o->socket, strerror(-rc));
		mm_report_error(s->json, msg);
		return MM_EXIT_FAILURE;
	}
	return MM_EXIT_OK;
}

/* After a pcap write or flush that returned r: MM_EXIT_OK, or MM_EXIT_FAILURE (reported). */
static int pcap_result(struct session *s, int r)
{
	char msg[600];

	if (r == -EPIPE && !s->text) {
		/* `--pcap - | head -c N`: the reader is done, so are we. */
		mm_stop_requested = 1;
	} else if (r < 0) {
		snprintf(msg, sizeof(msg), "meshmon: --pcap: writing %s: %s", s->o->pcap,
			 strerror(-r));
		mm_report_error(s->json, msg);
		mm_stop_requested = 1;
		return MM_EXIT_FAILURE;
	}
	return MM_EXIT_OK;
}

static int write_pcap(struct session *s, const Meshmon__V1__Event *ev)
{
	return pcap_result(s, mm_pcap__write(s->pcap, ev));
}

/* One message of the stream: MM_EXIT_OK, or MM_EXIT_FAILURE (reported, stop requested). */
static int on_message(struct session *s, const Meshmon__V1__ServerMessage *m)
{
	char msg[600];
	int rc = MM_EXIT_OK;

	switch (m->msg_case) {
	case MESHMON__V1__SERVER_MESSAGE__MSG_EVENT:
		s->seen++;
		s->last_event_ns = m->event->time_ns;
		if (s->pcap)
			rc = write_pcap(s, m->event);
		if (s->text)
			mm_format_event(&s->f, m->event);
		break;
	case MESHMON__V1__SERVER_MESSAGE__MSG_LOST:
		if (s->text)
			mm_format_lost(&s->f, m->lost);
		else
			mm_text_lost(&s->f, m->lost);
		break;
	case MESHMON__V1__SERVER_MESSAGE__MSG_REPLAY_DONE:
		/* The history is over: a run without --follow ends here, successfully. */
		if (mm_opts_history_only(s->o))
			mm_stop_requested = 1;
		break;
	case MESHMON__V1__SERVER_MESSAGE__MSG_ERROR:
		snprintf(msg, sizeof(msg), "meshmon: the agent reported an error: %s (code %u)",
			 m->error->message, m->error->code);
		if (s->json)
			mm_json__error(stdout, msg + 9, m->error->code);
		else
			mm_report_error(false, msg);
		rc = MM_EXIT_FAILURE;
		mm_stop_requested = 1;
		break;
	default:
		/* Hello or Status out of order, or a member this build does not know
		 * (a newer agent): skipped, as the protocol says. */
		break;
	}
	return rc;
}

/* How a stream that the agent hung up ends when there is no reconnecting. */
static int report_hangup(const struct session *s)
{
	char msg[600];

	if (s->hangup == 0) {
		mm_report_error(s->json, "meshmon: the agent closed the connection");
	} else {
		snprintf(msg, sizeof(msg), "meshmon: reading from the agent: %s",
			 strerror(-s->hangup));
		mm_report_error(s->json, msg);
	}
	return MM_EXIT_FAILURE;
}

/* MM_EXIT_OK, or MM_EXIT_FAILURE when the pcap file cannot be written (reported). */
static int flush_output(struct session *s)
{
	fflush(stdout); /* its errors end the stream below (ferror) */
	return s->pcap ? pcap_result(s, mm_pcap__flush(s->pcap)) : MM_EXIT_OK;
}

/*
 * Messages until --count events, Ctrl-C, an error, the reader of stdout
 * leaving, or the agent hanging up (s->hung_up, not reported here).
 */
static int stream(struct session *s)
{
	Meshmon__V1__ServerMessage *m = NULL;
	char msg[600];
	int rc = MM_EXIT_OK, r;

	s->hung_up = false;
	s->last_event_ns = 0;
	while (!mm_stop_requested && (!s->o->count || s->seen < s->o->count)) {
		if (mm_client__has_frame(&s->c)) {
			r = mm_client__next(&s->c, &m); /* m lives in the client's arena */
		} else {
			/* The input goes idle: what was printed goes out before we wait (output.h). */
			if (flush_output(s) != MM_EXIT_OK)
				return MM_EXIT_FAILURE;
			r = mm_client__fill(&s->c, &mm_stop_requested);
			if (r > 0)
				continue;
		}
		if (r == -EINTR)
			continue;
		if (mm_client__hung_up(r)) {
			s->hung_up = true;
			s->hangup = r;
			return MM_EXIT_OK;
		}
		if (r < 0) {
			snprintf(msg, sizeof(msg), "meshmon: reading from the agent: %s",
				 strerror(-r));
			mm_report_error(s->json, msg);
			return MM_EXIT_FAILURE;
		}
		if (on_message(s, m) != MM_EXIT_OK)
			rc = MM_EXIT_FAILURE;
		m = NULL;
		if (s->text && ferror(stdout)) /* reader went away (| head): a normal end */
			break;
	}
	return rc;
}

/*
 * Streams until the run ends. An agent that hung up is an outage to ride
 * out, unless --no-reconnect, or --count (a script that wants N events wants
 * a deterministic end) says otherwise: then it ends as it always did.
 */
static int follow(struct session *s)
{
	const struct mm_reconnect r = {
		.path = s->o->socket,
		.timeout_s = s->o->reconnect_timeout,
		.stop = &mm_stop_requested,
		.json = s->json,
		.notice = &s->f,
		.subscribe = resubscribe,
		.arg = s,
	};
	int rc;

	for (;;) {
		rc = stream(s);
		if (rc != MM_EXIT_OK || !s->hung_up || mm_stop_requested)
			return rc;
		/* A history-only run that loses its agent did not get the whole history. */
		if (s->o->no_reconnect || s->o->count || mm_opts_history_only(s->o))
			return report_hangup(s);
		rc = mm_reconnect__run(&r, &s->c, s->last_event_ns);
		if (rc != MM_EXIT_OK)
			return rc;
	}
}

static int run(const struct mm_opts *o, bool json);

static const struct mm_stream_cmd monitor_cmd = {
	.name = "monitor",
	.pcap_flag = "--pcap",
	.usage = mm_opts_usage_monitor,
	.run = run,
};

static int run(const struct mm_opts *o, bool json)
{
	struct session s = {
		.o = o,
		.json = json,
		.c = { .fd = -1 },
		.f = mm_stream_cmd__fmt(o, json),
		.text = true,
	};
	Meshmon__V1__ServerMessage *hello = NULL;
	char err[512];
	int rc;

	if (mm_stream_cmd__pcap_on_stdout(o)) {
		/* stdout carries the pcap: text output is off, notes go to stderr. */
		s.text = false;
		s.f.out = stderr;
		s.f.color = false;
	}
	rc = mm_stream_cmd__create_pcap(&monitor_cmd, o, json, &s.pcap);
	if (rc == MM_EXIT_OK) {
		rc = mm_client__handshake(&s.c, o->socket, &hello, err, sizeof(err));
		if (rc != MM_EXIT_OK)
			mm_report_error(json, err);
		else if (hello) /* NULL: interrupted */
			rc = start(&s, hello->hello);
	}
	if (rc == MM_EXIT_OK && hello)
		rc = follow(&s);
	fflush(stdout);
	if (s.pcap) {
		int cr = mm_pcap__close(s.pcap);

		/* The last buffered packets did not reach the file: said, as a failed write is. */
		if (cr < 0 && cr != -EPIPE && rc == MM_EXIT_OK)
			rc = pcap_result(&s, cr);
	}
	if (hello)
		mm_frame__free_server(hello);
	mm_client__close(&s.c);
	return rc;
}

int cmd_monitor(const struct mm_cmd_ctx *ctx, int argc, char **argv)
{
	return mm_stream_cmd__main(&monitor_cmd, ctx, argc, argv);
}
