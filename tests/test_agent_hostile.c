// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-agent end to end, clients that misbehave or merely stop talking
 * (agent_client.h, agent_fixture.h): a subscriber that shuts its write side
 * (nc -N) keeps its stream, a half-close before any request gets an Error,
 * SIGTERM with connections in every state releases everything (the ASan
 * build's agent would exit non-zero on a leak), and a client looping on
 * connections costs a bounded number of log lines and is counted in
 * meshmon_connections_total.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent_client.h"
#include "agent_fixture.h"
#include "harness.h"
#include "harness_agent.h"

TestSuite(agent_hostile, .init = agent_setup, .fini = agent_teardown, .timeout = 180);

static char logbuf[1 << 20];

static const char *read_log(void)
{
	int fd = open(agent.log_path, O_RDONLY);
	size_t n = 0;
	ssize_t r;

	cr_assert(ge(int, fd, 0));
	while (n < sizeof(logbuf) - 1 && (r = read(fd, logbuf + n, sizeof(logbuf) - 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	logbuf[n] = '\0';
	return logbuf;
}

/* Subscribed clients, from a Status. */
static uint32_t listeners(void)
{
	struct client st;
	uint32_t n;

	client_status(&st);
	n = st.status_listeners;
	client_close(&st);
	return n;
}

Test(agent_hostile, a_half_closed_subscriber_keeps_its_stream)
{
	struct client c;
	uint64_t seen = 0, end;

	start_agent("1048576", "128");
	client_subscribe(&c, IPPROTO_ICMP, 0);
	client_poll(&c, 200);
	/* What nc -N and socat do once their input is sent. */
	cr_assert(eq(int, shutdown(c.fd, SHUT_WR), 0));
	cr_assert(eq(int, mm_test_sh("ping -c 40 -i 0.1 -q 10.199.0.2 >/dev/null &"), 0));
	/* Events keep coming, second after second. */
	for (int s = 0; s < 3; s++) {
		end = now_ms() + 1000;
		while (now_ms() < end && !c.eof)
			client_poll(&c, 100);
		cr_assert(eq(int, c.eof, 0), "the stream ended after %d s", s);
		cr_assert(gt(u64, c.icmp, seen), "no event in second %d", s + 1);
		seen = c.icmp;
	}
	cr_assert(eq(u32, c.error_code, 0));
	cr_assert(eq(u32, listeners(), 1));
	client_poll(&c, 1500); /* the pings end */
	/* A full close ends it, traffic or not (the hub looks every second). */
	client_close(&c);
	usleep(1500 * 1000);
	cr_assert(eq(u32, listeners(), 0), "the closed client is gone");
	cr_assert(eq(int, stop_agent(), 0));
}

Test(agent_hostile, a_half_close_before_the_request_gets_an_error)
{
	const uint8_t half_frame[] = {0, 0};
	struct client quiet, half;

	start_agent("1048576", "128");
	cr_assert(eq(int, client_connect(&quiet), 0));
	client_poll(&quiet, 200);
	cr_assert(quiet.got_hello);
	cr_assert(eq(int, shutdown(quiet.fd, SHUT_WR), 0));
	client_poll(&quiet, 3000);
	cr_assert(eq(u32, quiet.error_code, MESHMON__V1__ERROR_CODE__ERROR_CODE_BAD_FRAME));
	cr_assert(quiet.eof, "closed after its Error");

	cr_assert(eq(int, client_connect(&half), 0));
	cr_assert(eq(sz, (size_t)write(half.fd, half_frame, 2), sizeof(half_frame)));
	cr_assert(eq(int, shutdown(half.fd, SHUT_WR), 0));
	client_poll(&half, 3000);
	cr_assert(eq(u32, half.error_code, MESHMON__V1__ERROR_CODE__ERROR_CODE_BAD_FRAME));
	cr_assert(half.eof);
	client_close(&quiet);
	client_close(&half);
	cr_assert(eq(int, stop_agent(), 0));
}

/* Subscribed, never reading, with a small receive buffer: its queue fills. */
static void stall(struct client *c)
{
	int small = 4096;

	client_subscribe(c, 0, 0);
	cr_assert(eq(int, setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0));
}

Test(agent_hostile, sigterm_releases_connections_in_every_state)
{
	Meshmon__V1__ClientMessage m = MESHMON__V1__CLIENT_MESSAGE__INIT;
	Meshmon__V1__StatusRequest sr = MESHMON__V1__STATUS_REQUEST__INIT;
	struct client shaking, partial, full, failing, half, status;
	const uint8_t prefix[] = {0, 0, 0}, byte = 0;
	const char *log;

	start_agent("262144", "128");
	cr_assert(eq(int, client_connect(&shaking), 0)); /* handshaking: nothing sent */
	cr_assert(eq(int, client_connect(&partial), 0)); /* handshaking: half a frame */
	cr_assert(eq(sz, (size_t)write(partial.fd, prefix, sizeof(prefix)), sizeof(prefix)));
	stall(&full);
	stall(&failing);
	stall(&half);
	cr_assert(eq(int, shutdown(half.fd, SHUT_WR), 0)); /* half-closed, full queue */
	cr_assert(eq(int, mm_test_sh("ping -f -c 5000 -q 10.199.0.2 >/dev/null"), 0));
	/* One byte after Subscribe: an Error behind a full queue, closing for 2 s. */
	cr_assert(eq(sz, (size_t)write(failing.fd, &byte, 1), 1));
	/* A status request in flight, never read. */
	cr_assert(eq(int, client_connect(&status), 0));
	m.msg_case = MESHMON__V1__CLIENT_MESSAGE__MSG_STATUS_REQUEST;
	m.status_request = &sr;
	client_send(&status, &m);
	usleep(200 * 1000);

	cr_assert(eq(int, stop_agent(), 0), "exit 0 (a leak report exits non-zero); see %s",
		  agent.log_path);
	log = read_log();
	cr_assert(strstr(log, "LeakSanitizer") == NULL, "%s", log);
	cr_assert(strstr(log, "AddressSanitizer") == NULL, "%s", log);
	cr_assert(strstr(log, "runtime error") == NULL, "%s", log);
	cr_assert(strstr(log, "stopped; everything detached") != NULL, "%s", log);
	client_close(&shaking);
	client_close(&partial);
	client_close(&full);
	client_close(&failing);
	client_close(&half);
	client_close(&status);
}

/* Lines of the log that contain what; with sum, adds the number each line starts with. */
static unsigned int count_lines(const char *log, const char *what, uint64_t *sum)
{
	unsigned int n = 0;

	for (const char *p = strstr(log, what); p; p = strstr(p + 1, what)) {
		const char *bol = p;

		while (bol > log && bol[-1] != '\n')
			bol--;
		n++;
		if (sum) {
			const char *num = strstr(bol, "meshmon-agent: ");

			cr_assert(num != NULL && num < p);
			*sum += strtoull(num + strlen("meshmon-agent: "), NULL, 10);
		}
	}
	return n;
}

Test(agent_hostile, a_connection_loop_is_rate_limited_in_the_log_and_counted)
{
	const int loops = 500;
	uint64_t t0, secs, held = 0;
	unsigned int logged, summaries;
	char path[160];
	const char *log;

	start_agent_with("1048576", "128", "--metrics", "127.0.0.1:19102");
	t0 = now_ms();
	for (int i = 0; i < loops; i++) {
		struct client c;

		client_status(&c);
		cr_assert(c.eof);
		client_close(&c);
	}
	secs = (now_ms() - t0) / 1000 + 1;
	usleep(1500 * 1000); /* the last second's summary */
	log = read_log();
	logged = count_lines(log, ": status sent", NULL);
	summaries = count_lines(log, " more connections in the last second", &held);
	fprintf(stderr, "%d connections in %lu s: %u lines, %u summaries of %lu more\n", loops,
		(unsigned long)secs, logged, summaries, (unsigned long)held);
	cr_assert(le(u64, logged, 10 * (secs + 1)), "at most 10 lines a second");
	cr_assert(le(u64, summaries, secs + 1), "one summary a second");
	cr_assert(gt(u32, summaries, 0));
	cr_assert(eq(u64, logged + held, (uint64_t)loops), "every connection is told of");

	snprintf(path, sizeof(path), "%s/metrics.txt", agent.dir);
	cr_assert(eq(int, mm_test_sh("curl -sf http://127.0.0.1:19102/metrics > %s", path), 0));
	cr_assert(eq(int,
		     mm_test_sh("grep -q '^meshmon_connections_total{result=\"status\"} %d$' %s",
				loops, path),
		     0),
		  "the counter counts every status connection");
	/* The text format's shape: HELP, TYPE, then one sample per bounded label. */
	cr_assert(eq(int,
		     mm_test_sh("grep -q '^# TYPE meshmon_connections_total counter$' %s && "
				"grep -q '^# HELP meshmon_connections_total ' %s",
				path, path),
		     0));
	cr_assert(eq(int,
		     mm_test_sh("test $(grep -c '^meshmon_connections_total' %s) -eq 4 && "
				"test $(grep -Ec '^meshmon_connections_total\\{result=\"(subscribed"
				"|status|refused|error)\"\\} [0-9]+$' %s) -eq 4",
				path, path),
		     0),
		  "four samples, bounded labels");
	cr_assert(eq(int, stop_agent(), 0));
}
