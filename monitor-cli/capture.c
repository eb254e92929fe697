// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `meshmon capture`: capture on demand. After the Hello, one CaptureRequest
 * built from the flags instead of a Subscribe; the agent answers
 * CaptureStarted (the rule id and the snap length in effect) or an Error,
 * streams the capture events of the rule and its losses, and ends with
 * CaptureEnded (budget spent, agent stopping) before it closes. Ctrl-C
 * disconnects, which removes the rule. The packets go to the pcap writer
 * (-w) in the order received, which is time order (the agent reorders), or
 * are printed by the monitor's formatter; the totals go to stderr at the end,
 * as tcpdump's do. No reconnecting: a new agent would have no rule.
 */
#include <errno.h>
#include <inttypes.h>
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
#include "stream_cmd.h"

/* One capture: the connection, the output and the totals. */
struct capture {
	const struct mm_opts *o;
	bool json;
	struct mm_client c;
	struct mm_fmt f;
	struct mm_pcap *pcap;
	bool pcap_on_stdout;
	bool started;       /* CaptureStarted received */
	bool ended;         /* CaptureEnded received */
	uint32_t rule_id;
	uint64_t packets;   /* capture events received */
	uint64_t lost;      /* counted by the LostNotices */
	Meshmon__V1__CaptureEndReason reason;
};

static int report_io(const struct capture *s, const char *what, int err)
{
	char msg[600];

	snprintf(msg, sizeof(msg), "meshmon: %s: %s", what, strerror(err));
	mm_report_error(s->json, msg);
	return MM_EXIT_FAILURE;
}

static int send_request(struct capture *s)
{
	Meshmon__V1__ClientMessage cm = MESHMON__V1__CLIENT_MESSAGE__INIT;
	struct mm_capture_buf *cb = calloc(1, sizeof(*cb));
	int rc;

	if (!cb)
		return report_io(s, "capture request", ENOMEM);
	mm_opts_capture(s->o, cb);
	cm.msg_case = MESHMON__V1__CLIENT_MESSAGE__MSG_CAPTURE;
	cm.capture = &cb->req;
	rc = mm_client__send(&s->c, &cm);
	free(cb);
	return rc < 0 ? report_io(s, "sending the capture request", -rc) : MM_EXIT_OK;
}

/* The pcap header, with the snap length the agent put in effect. */
static int on_started(struct capture *s, const Meshmon__V1__CaptureStarted *st)
{
	int rc;

	s->started = true;
	s->rule_id = st->rule_id;
	if (s->pcap) {
		rc = mm_pcap__start(s->pcap, st->snaplen);
		if (rc < 0)
			return report_io(s, "-w: writing the pcap header", -rc);
	}
	if (!s->json)
		fprintf(stderr, "Capturing with rule %u, %u bytes per packet\n", st->rule_id,
			st->snaplen);
	return MM_EXIT_OK;
}

static int on_event(struct capture *s, const Meshmon__V1__Event *ev)
{
	int rc;

	if (ev->type != MESHMON__V1__EVENT_TYPE__EVENT_TYPE_CAPTURE)
		return MM_EXIT_OK; /* not ours to show: the request asked for capture events only */
	s->packets++;
	if (!s->pcap) {
		mm_format_event(&s->f, ev);
		return MM_EXIT_OK;
	}
	rc = mm_pcap__write(s->pcap, ev);
	/* A reader on a pipe (tcpdump -r -) sees each packet as it comes. */
	if (rc >= 0 && s->pcap_on_stdout)
		rc = mm_pcap__flush(s->pcap);
	if (rc == -EPIPE && s->pcap_on_stdout) {
		mm_stop_requested = 1; /* `-w - | head -c N`: the reader is done, so are we */
		return MM_EXIT_OK;
	}
	return rc < 0 ? report_io(s, "-w: writing the pcap", -rc) : MM_EXIT_OK;
}

/* One message: MM_EXIT_OK, or MM_EXIT_FAILURE (reported; the capture ends). */
static int on_message(struct capture *s, const Meshmon__V1__ServerMessage *m)
{
	char msg[600];

	switch (m->msg_case) {
	case MESHMON__V1__SERVER_MESSAGE__MSG_CAPTURE_STARTED:
		return on_started(s, m->capture_started);
	case MESHMON__V1__SERVER_MESSAGE__MSG_EVENT:
		return on_event(s, m->event);
	case MESHMON__V1__SERVER_MESSAGE__MSG_LOST:
		s->lost += m->lost->count;
		/* Text: a note on stderr, beside the totals. JSON: an object on stdout, as
		 * monitor's, the only report of the loss there (no totals under --json). */
		if (s->json)
			mm_format_lost(&s->f, m->lost);
		else
			mm_text_lost(&(struct mm_fmt){ .out = stderr, .verbose = s->f.verbose },
				     m->lost);
		return MM_EXIT_OK;
	case MESHMON__V1__SERVER_MESSAGE__MSG_CAPTURE_ENDED:
		s->ended = true;
		s->reason = m->capture_ended->reason;
		return MM_EXIT_OK;
	case MESHMON__V1__SERVER_MESSAGE__MSG_ERROR:
		snprintf(msg, sizeof(msg), "meshmon: the agent refused the capture: %s (code %u)",
			 m->error->message, m->error->code);
		if (s->json)
			mm_json__error(stdout, msg + 9, m->error->code);
		else
			mm_report_error(false, msg);
		return MM_EXIT_FAILURE;
	default:
		/* Out of order, or a member this build does not know: skipped, as the protocol says. */
		return MM_EXIT_OK;
	}
}

/* Until CaptureEnded, Ctrl-C, an error, or the agent hanging up. */
static int stream(struct capture *s)
{
	Meshmon__V1__ServerMessage *m = NULL;
	int r;

	while (!mm_stop_requested && !s->ended) {
		if (mm_client__has_frame(&s->c)) {
			r = mm_client__next(&s->c, &m); /* m lives in the client's arena */
		} else {
			fflush(stdout);
			if (s->pcap && (r = mm_pcap__flush(s->pcap)) < 0 &&
			    !(r == -EPIPE && s->pcap_on_stdout))
				return report_io(s, "-w: writing the pcap", -r);
			r = mm_client__fill(&s->c, &mm_stop_requested);
			if (r > 0)
				continue;
		}
		if (r == -EINTR)
			continue;
		if (mm_client__hung_up(r)) {
			/* An agent ends a capture with CaptureEnded: a bare close is an error. */
			mm_report_error(s->json, "meshmon: the agent closed the connection before the capture ended");
			return MM_EXIT_FAILURE;
		}
		if (r < 0)
			return report_io(s, "reading from the agent", -r);
		if (on_message(s, m) != MM_EXIT_OK)
			return MM_EXIT_FAILURE;
		m = NULL;
		if (!s->pcap && ferror(stdout)) /* reader went away (| head): a normal end */
			break;
	}
	return MM_EXIT_OK;
}

static const char *end_reason_text(Meshmon__V1__CaptureEndReason r)
{
	switch (r) {
	case MESHMON__V1__CAPTURE_END_REASON__CAPTURE_END_REASON_PACKETS:
		return "packet budget spent";
	case MESHMON__V1__CAPTURE_END_REASON__CAPTURE_END_REASON_BYTES:
		return "byte budget spent";
	case MESHMON__V1__CAPTURE_END_REASON__CAPTURE_END_REASON_TIME:
		return "duration elapsed";
	case MESHMON__V1__CAPTURE_END_REASON__CAPTURE_END_REASON_AGENT_STOPPING:
		return "agent stopping";
	default:
		return "ended by the agent";
	}
}

/* tcpdump's closing lines, on stderr: what was captured and what was lost. */
static void print_totals(const struct capture *s)
{
	if (s->json || !s->started)
		return;
	fprintf(stderr, "%" PRIu64 " packet%s captured\n", s->packets, s->packets == 1 ? "" : "s");
	fprintf(stderr, "%" PRIu64 " packet%s lost\n", s->lost, s->lost == 1 ? "" : "s");
	fprintf(stderr, "capture ended: %s\n", s->ended ? end_reason_text(s->reason) : "interrupted");
}

static int run(const struct mm_opts *o, bool json);

static const struct mm_stream_cmd capture_cmd = {
	.name = "capture",
	.pcap_flag = "--write",
	.usage = mm_opts_usage_capture,
	.run = run,
};

static int run(const struct mm_opts *o, bool json)
{
	struct capture s = {
		.o = o,
		.json = json,
		.c = { .fd = -1 },
		.f = mm_stream_cmd__fmt(o, json),
		.pcap_on_stdout = mm_stream_cmd__pcap_on_stdout(o),
	};
	Meshmon__V1__ServerMessage *hello = NULL;
	char err[512];
	int rc, cr;

	s.f.time = true; /* a packet line starts with its time, as tcpdump's */
	rc = mm_stream_cmd__create_pcap(&capture_cmd, o, json, &s.pcap);
	if (rc == MM_EXIT_OK) {
		rc = mm_client__handshake(&s.c, o->socket, &hello, err, sizeof(err));
		if (rc != MM_EXIT_OK)
			mm_report_error(json, err);
	}
	if (rc == MM_EXIT_OK && hello) /* the Hello outlives the stream: no copy */
		s.f.node = hello->hello->node_name;
	if (rc == MM_EXIT_OK && hello) /* NULL: interrupted */
		rc = send_request(&s);
	if (rc == MM_EXIT_OK && hello)
		rc = stream(&s);
	fflush(stdout);
	cr = mm_pcap__close(s.pcap);
	if (cr < 0 && cr != -EPIPE && rc == MM_EXIT_OK)
		rc = report_io(&s, "-w: writing the pcap", -cr);
	print_totals(&s);
	if (hello)
		mm_frame__free_server(hello);
	mm_client__close(&s.c); /* the agent removes the rule */
	return rc;
}

int cmd_capture(const struct mm_cmd_ctx *ctx, int argc, char **argv)
{
	return mm_stream_cmd__main(&capture_cmd, ctx, argc, argv);
}
