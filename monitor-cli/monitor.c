// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `meshmon monitor`: handshake, one Subscribe built from the flags, then every
 * Event / LostNotice printed (text or JSON) and/or written to the pcap file
 * until --count events, Ctrl-C, or the agent closes the connection.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "commands.h"
#include "format.h"
#include "json.h"
#include "options.h"
#include "pcap.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	/* No SA_RESTART: a blocked read() returns EINTR and the loop ends. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void mm_report_error(bool json, const char *msg)
{
	if (json) {
		/* The JSON error object carries the message without the "meshmon: " prefix. */
		if (strncmp(msg, "meshmon: ", 9) == 0)
			msg += 9;
		mm_json__error(stdout, msg, -1);
	} else {
		fprintf(stderr, "%s\n", msg);
	}
}

static int run(const struct mm_opts *o)
{
	struct mm_client c = { .fd = -1 };
	Meshmon__V1__ServerMessage *hello = NULL, *m = NULL;
	Meshmon__V1__ClientMessage cm = MESHMON__V1__CLIENT_MESSAGE__INIT;
	struct mm_subscribe_buf *sb = NULL;
	struct mm_pcap *pcap = NULL;
	struct mm_fmt f = {
		.out = stdout,
		.verbose = o->verbose,
		.hex = o->hex,
		.json = o->json,
		.numeric = o->numeric,
		.color = isatty(STDOUT_FILENO) && !o->json,
	};
	bool text = true;
	uint64_t seen = 0;
	char err[512], msg[600];
	int rc;

	if (o->pcap && strcmp(o->pcap, "-") == 0) {
		/* stdout carries the pcap: text output is off, notes go to stderr. */
		text = false;
		f.out = stderr;
		f.color = false;
	}
	rc = mm_client__handshake(&c, o->socket, &hello, err, sizeof(err));
	if (rc != MM_EXIT_OK) {
		mm_report_error(o->json, err);
		goto out;
	}
	if (!hello) /* interrupted */
		goto out;
	if (o->pcap) {
		pcap = mm_pcap__open(o->pcap, hello->hello->capture_len);
		if (!pcap) {
			snprintf(msg, sizeof(msg), "meshmon: --pcap: cannot write %s: %s", o->pcap,
				 strerror(errno));
			mm_report_error(o->json, msg);
			rc = MM_EXIT_FAILURE;
			goto out;
		}
	}
	if (text)
		mm_format_hello(&f, hello->hello);
	else
		mm_text_hello(&f, hello->hello);

	sb = calloc(1, sizeof(*sb));
	if (!sb) {
		mm_report_error(o->json, "meshmon: out of memory");
		rc = MM_EXIT_FAILURE;
		goto out;
	}
	mm_opts_subscribe(o, sb);
	cm.msg_case = MESHMON__V1__CLIENT_MESSAGE__MSG_SUBSCRIBE;
	cm.subscribe = &sb->sub;
	rc = mm_client__send(&c, &cm);
	if (rc < 0) {
		snprintf(msg, sizeof(msg), "meshmon: sending the subscription to %s: %s", o->socket,
			 strerror(-rc));
		mm_report_error(o->json, msg);
		rc = MM_EXIT_FAILURE;
		goto out;
	}
	rc = MM_EXIT_OK;
	while (!stop_requested && (!o->count || seen < o->count)) {
		int r = mm_client__recv(&c, &m);

		if (r == -EINTR)
			continue;
		if (r == 0) {
			mm_report_error(o->json, "meshmon: the agent closed the connection");
			rc = MM_EXIT_FAILURE;
			break;
		}
		if (r < 0) {
			snprintf(msg, sizeof(msg), "meshmon: reading from the agent: %s",
				 strerror(-r));
			mm_report_error(o->json, msg);
			rc = MM_EXIT_FAILURE;
			break;
		}
		switch (m->msg_case) {
		case MESHMON__V1__SERVER_MESSAGE__MSG_EVENT:
			seen++;
			if (pcap) {
				r = mm_pcap__write(pcap, m->event);
				if (r == -EPIPE && !text) {
					/* `--pcap - | head -c N`: the reader is done, so are we. */
					stop_requested = 1;
				} else if (r < 0) {
					snprintf(msg, sizeof(msg), "meshmon: --pcap: writing %s: %s",
						 o->pcap, strerror(-r));
					mm_report_error(o->json, msg);
					rc = MM_EXIT_FAILURE;
					stop_requested = 1;
				}
			}
			if (text)
				mm_format_event(&f, m->event);
			break;
		case MESHMON__V1__SERVER_MESSAGE__MSG_LOST:
			if (text)
				mm_format_lost(&f, m->lost);
			else
				mm_text_lost(&f, m->lost);
			break;
		case MESHMON__V1__SERVER_MESSAGE__MSG_ERROR:
			snprintf(msg, sizeof(msg), "meshmon: the agent reported an error: %s (code %u)",
				 m->error->message, m->error->code);
			if (o->json)
				mm_json__error(stdout, msg + 9, m->error->code);
			else
				mm_report_error(false, msg);
			rc = MM_EXIT_FAILURE;
			stop_requested = 1;
			break;
		default:
			/* Hello or Status out of order: ignored, as the protocol allows new messages. */
			break;
		}
		mm_frame__free_server(m);
		m = NULL;
		if (text && ferror(stdout)) /* reader went away (| head): a normal end */
			break;
	}
out:
	fflush(stdout);
	if (pcap) {
		int cr = mm_pcap__close(pcap);

		if (cr < 0 && cr != -EPIPE && rc == MM_EXIT_OK)
			rc = MM_EXIT_FAILURE;
	}
	free(sb);
	if (hello)
		mm_frame__free_server(hello);
	mm_client__close(&c);
	return rc;
}

int cmd_monitor(int argc, char **argv)
{
	struct mm_opts *o = calloc(1, sizeof(*o));
	char err[512], msg[600];
	bool json = false;
	int i, rc;

	if (!o)
		return MM_EXIT_FAILURE;
	/* Known before parsing, so a bad flag's error is JSON too under --json. */
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-j") == 0)
			json = true;
	rc = mm_opts_parse(o, "monitor", argc, argv, err, sizeof(err));
	if (rc) {
		snprintf(msg, sizeof(msg), "meshmon monitor: %s", err);
		if (json)
			mm_json__error(stdout, err, -1);
		else
			fprintf(stderr, "%s\n", msg);
		free(o);
		return rc;
	}
	if (o->help) {
		mm_opts_usage_monitor(stdout);
		free(o);
		return MM_EXIT_OK;
	}
	setvbuf(stdout, NULL, o->pcap && strcmp(o->pcap, "-") == 0 ? _IOFBF : _IOLBF, 0);
	install_signals();
	rc = run(o);
	free(o);
	return rc;
}
