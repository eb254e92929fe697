// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fuzz_client_format: what an agent's bytes reach in `meshmon`. The input is
 * the stream the agent sends, after one byte of pcap settings (bit 0 set: a
 * snap length of 4 * (byte >> 1) + 1; else the Hello's capture_len). The
 * stream is read by the CLI's own mm_client__recv() (monitor-cli/client.c,
 * the frame reader behind it) from a memfd, until EOF or the first error, as
 * `meshmon monitor` and `meshmon status` stop. Every message goes to every
 * formatter: Hello as text (plain and -v); Event as text with -v 0, 1 and 2,
 * --hex, -n and colour, as JSON with and without --hex, and to the pcap
 * writer; LostNotice as text and JSON; Status through mm_status_text() and
 * mm_status_json(); Error as `meshmon monitor --json` reports it. All output
 * goes to memory streams.
 *
 * Invariants: every JSON line is one valid JSON object in valid UTF-8; the
 * text output has no control characters but newlines and its own colours; the
 * pcap records are well formed (incl_len <= snaplen <= orig_len or incl_len ==
 * orig_len, lengths adding up) and as many as mm_pcap__write() said it wrote.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "client.h"
#include "commands.h"
#include "format.h"
#include "format_text.h"
#include "framing.h"
#include "json.h"
#include "pcap.h"

static int memfd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	memfd = memfd_create("fuzz_client_format", MFD_CLOEXEC);
	if (memfd < 0) {
		perror("memfd_create");
		abort();
	}
	return 0;
}

/* The output settings each event is printed with (text, then JSON). */
static const struct mm_fmt text_fmts[] = {
	{ .verbose = 0 },
	{ .verbose = 1 },
	{ .verbose = 2 },
	{ .verbose = 0, .hex = true },
	{ .verbose = 2, .hex = true, .numeric = true, .color = true },
};
static const struct mm_fmt json_fmts[] = {
	{ .json = true },
	{ .json = true, .hex = true, .verbose = 2 },
};
#define N(a) (sizeof(a) / sizeof((a)[0]))

struct outputs {
	FILE *text, *json, *pcap;
	char *text_buf, *json_buf, *pcap_buf;
	size_t text_len, json_len, pcap_len;
	struct mm_pcap *p;
	uint32_t small_snaplen; /* 0: the Hello's */
	uint64_t events;
};

static void each_fmt(struct outputs *o, const Meshmon__V1__ServerMessage *m)
{
	struct mm_fmt f;
	char msg[600];

	for (size_t i = 0; i < N(text_fmts) + N(json_fmts); i++) {
		f = i < N(text_fmts) ? text_fmts[i] : json_fmts[i - N(text_fmts)];
		f.out = f.json ? o->json : o->text;
		switch (m->msg_case) {
		case MESHMON__V1__SERVER_MESSAGE__MSG_HELLO:
			mm_format_hello(&f, m->hello);
			break;
		case MESHMON__V1__SERVER_MESSAGE__MSG_EVENT:
			mm_format_event(&f, m->event);
			break;
		case MESHMON__V1__SERVER_MESSAGE__MSG_LOST:
			mm_format_lost(&f, m->lost);
			break;
		case MESHMON__V1__SERVER_MESSAGE__MSG_STATUS:
			if (f.json)
				mm_status_json(f.out, m->status);
			else
				mm_status_text(f.out, m->status);
			break;
		case MESHMON__V1__SERVER_MESSAGE__MSG_ERROR:
			/*
			 * As monitor.c reports it under --json; the text goes to stderr
			 * through mm_report_error() (tests/test_cli_format.c checks that).
			 */
			snprintf(msg, sizeof(msg),
				 "meshmon: the agent reported an error: %s (code %u)",
				 m->error->message, m->error->code);
			if (f.json)
				mm_json__error(f.out, msg + 9, m->error->code);
			break;
		default:
			break; /* a newer agent's message: skipped */
		}
	}
}

static void to_pcap(struct outputs *o, const Meshmon__V1__ServerMessage *m)
{
	int r;

	if (!o->p && (m->msg_case == MESHMON__V1__SERVER_MESSAGE__MSG_HELLO ||
		      m->msg_case == MESHMON__V1__SERVER_MESSAGE__MSG_EVENT)) {
		/* mm_pcap__open() needs a path: the same struct, on the memory stream. */
		o->p = calloc(1, sizeof(*o->p));
		if (!o->p)
			abort();
		o->p->f = o->pcap;
		o->p->snaplen = o->small_snaplen;
		if (!o->p->snaplen && m->msg_case == MESHMON__V1__SERVER_MESSAGE__MSG_HELLO)
			o->p->snaplen = m->hello->capture_len;
		if (!o->p->snaplen)
			o->p->snaplen = MM_PCAP_DEFAULT_SNAPLEN;
	}
	if (m->msg_case != MESHMON__V1__SERVER_MESSAGE__MSG_EVENT)
		return;
	o->events++;
	r = mm_pcap__write(o->p, m->event);
	FUZZ_CHECK(r == 0 || r == 1, "mm_pcap__write returned %d", r);
}

struct pcap_rec {
	uint32_t ts_sec, ts_usec, incl_len, orig_len;
};

static void check_pcap(const struct outputs *o, uint32_t snaplen, uint64_t written,
		       uint64_t skipped)
{
	size_t off = 0;
	uint64_t n = 0;
	struct pcap_rec r;

	FUZZ_CHECK(written + skipped <= o->events, "%lu written + %lu skipped of %lu events",
		   (unsigned long)written, (unsigned long)skipped, (unsigned long)o->events);
	while (off < o->pcap_len) {
		FUZZ_CHECK(o->pcap_len - off >= sizeof(r), "a truncated record header");
		memcpy(&r, o->pcap_buf + off, sizeof(r));
		off += sizeof(r);
		FUZZ_CHECK(r.incl_len > 0 && r.incl_len <= snaplen, "incl_len %u, snaplen %u",
			   r.incl_len, snaplen);
		FUZZ_CHECK(r.orig_len >= r.incl_len, "orig_len %u < incl_len %u", r.orig_len,
			   r.incl_len);
		FUZZ_CHECK(r.ts_usec < 1000000, "ts_usec %u", r.ts_usec);
		FUZZ_CHECK(o->pcap_len - off >= r.incl_len, "record of %u bytes past the end",
			   r.incl_len);
		off += r.incl_len;
		n++;
	}
	FUZZ_CHECK(n == written, "%lu records, %lu written", (unsigned long)n,
		   (unsigned long)written);
}

/*
 * Text output carries no control character of the agent's: only the newlines
 * and the colour sequences of the formatter itself, so a hostile agent (or
 * anything on the socket path) cannot move the cursor or retitle a terminal.
 */
static void check_text(const char *s, size_t n)
{
	static const char *const colours[] = { "\033[31m", "\033[33m", "\033[0m" };

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool ok = c == '\n' || (c >= 0x20 && c != 0x7f);

		for (size_t k = 0; !ok && c == 0x1b && k < 3; k++) {
			size_t l = strlen(colours[k]);

			if (n - i >= l && !memcmp(s + i, colours[k], l)) {
				ok = true;
				i += l - 1;
			}
		}
		FUZZ_CHECK(ok, "control character 0x%02x in the text output at %zu: %.*s", c, i,
			   (int)strcspn(s + i, "\n"), s + i);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outputs o = { 0 };
	struct mm_client c = { .fd = memfd };
	Meshmon__V1__ServerMessage *m;
	uint32_t snaplen = 0;
	uint64_t written = 0, skipped = 0;
	const char *bad;

	if (size < 1)
		return 0;
	if (data[0] & 1)
		o.small_snaplen = 4u * (data[0] >> 1) + 1;
	data++;
	size--;
	if (ftruncate(memfd, 0) || pwrite(memfd, data, size, 0) != (ssize_t)size ||
	    lseek(memfd, 0, SEEK_SET) != 0)
		abort();
	o.text = open_memstream(&o.text_buf, &o.text_len);
	o.json = open_memstream(&o.json_buf, &o.json_len);
	o.pcap = open_memstream(&o.pcap_buf, &o.pcap_len);
	if (!o.text || !o.json || !o.pcap)
		abort();
	mm_frame_reader__init(&c.reader);
	while (mm_client__recv(&c, &m) == 1) {
		to_pcap(&o, m);
		each_fmt(&o, m);
		mm_frame__free_server(m);
	}
	mm_frame_reader__release(&c.reader); /* not mm_client__close(): the memfd stays */
	if (o.p) {
		snaplen = o.p->snaplen;
		written = o.p->written;
		skipped = o.p->skipped;
		FUZZ_CHECK(mm_pcap__close(o.p) == 0, "mm_pcap__close");
	}
	fclose(o.text);
	fclose(o.json);
	fclose(o.pcap);
	FUZZ_CHECK(fuzz_json_lines_valid(o.json_buf, o.json_len, &bad), "a bad JSON line: %.*s",
		   (int)strcspn(bad, "\n"), bad);
	check_text(o.text_buf, o.text_len);
	check_pcap(&o, snaplen, written, skipped);
	free(o.text_buf);
	free(o.json_buf);
	free(o.pcap_buf);
	return 0;
}
