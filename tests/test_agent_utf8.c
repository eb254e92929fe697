// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A hostile process name end to end: a child in a private cgroup and network
 * namespace names itself with invalid UTF-8 (prctl(PR_SET_NAME)) and makes
 * one TCP connection; the real agent reports it with tcp_probe; an
 * independent client in Python (tests/utf8_client.py, Debian's
 * python3-protobuf, which refuses a whole message whose string field is not
 * UTF-8, as Go and Java clients do) must parse every message and see the
 * report with comm carrying U+FFFD and comm_raw the raw bytes.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_client.h"
#include "agent_fixture.h"
#include "harness.h"
#include "harness_agent.h"
#include "tcp_probe.h"

#ifndef MM_PROTO_DESC
#error "MM_PROTO_DESC must name the schema's FileDescriptorSet (tests/meson.build)"
#endif
#ifndef MM_UTF8_CLIENT
#error "MM_UTF8_CLIENT must name tests/utf8_client.py"
#endif
/* Debian's interpreter, where python3-protobuf lives, whatever python3 PATH finds first. */
#define PYTHON3 "/usr/bin/python3"
#define FFFD	"\xef\xbf\xbd"

TestSuite(agent_utf8, .init = agent_setup, .fini = agent_teardown, .timeout = 120);

/*
 * Two bytes that are never UTF-8, 11 letters and a euro sign (3 bytes) that
 * the kernel cuts after 2: comm keeps 15 bytes (TASK_COMM_LEN 16).
 */
static const char hostile_name[] = "\xff\xfe" "abcdefghijk" "\xe2\x82\xac";
static const char raw_hex[] = "fffe" "6162636465666768696a6b" "e282";
static const char want_comm[] = "comm='" FFFD FFFD "abcdefghijk" FFFD "'";

/* The Python client, subscribed: its stdout, after it printed READY (out keeps what it said). */
static FILE *start_client(pid_t pid, char *out, size_t cap)
{
	char cmd[1024], line[512];
	FILE *p;

	snprintf(cmd, sizeof(cmd),
		 "PYTHONIOENCODING=utf-8 " PYTHON3 " %s --socket %s --descriptor %s --pid %d "
		 "--raw %s --timeout 20 2>&1",
		 MM_UTF8_CLIENT, agent.sock_path, MM_PROTO_DESC, (int)pid, raw_hex);
	p = popen(cmd, "r");
	cr_assert(p != NULL);
	out[0] = '\0';
	while (fgets(line, sizeof(line), p)) {
		strncat(out, line, cap - strlen(out) - 1);
		if (!strcmp(line, "READY\n"))
			return p;
	}
	cr_fatal("the Python client stopped before subscribing (exit 0x%x):\n%s", pclose(p), out);
	return NULL;
}

/* Rest of the client's output appended to out; its exit status. */
static int finish_client(FILE *p, char *out, size_t cap)
{
	char line[512];
	int st;

	while (fgets(line, sizeof(line), p))
		strncat(out, line, cap - strlen(out) - 1);
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/*
 * The child: waits for go, takes the hostile name, connects to sa, says hi
 * and closes. Exits 0, or the step that failed.
 */
static void named_child(int go, const struct sockaddr_in *sa)
{
	char got[16] = "", c;
	int fd;

	if (read(go, &c, 1) != 1)
		_exit(10);
	if (prctl(PR_SET_NAME, hostile_name) || prctl(PR_GET_NAME, got) ||
	    memcmp(got, hostile_name, 15) || got[15])
		_exit(11);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (const struct sockaddr *)sa, sizeof(*sa)))
		_exit(12);
	if (write(fd, "hi", 2) != 2)
		_exit(13);
	close(fd);
	_exit(0);
}

/* A listener in the peer namespace, 10.199.0.2:<port> in *sa. */
static int peer_listener(struct sockaddr_in *sa)
{
	socklen_t len = sizeof(*sa);
	int lfd = mm_test_pair_socket(&pair, AF_INET, SOCK_STREAM);

	cr_assert(ge(int, lfd, 0), "socket in the peer netns: %s", strerror(-lfd));
	*sa = (struct sockaddr_in){.sin_family = AF_INET};
	cr_assert(eq(int, inet_pton(AF_INET, "10.199.0.2", &sa->sin_addr), 1));
	cr_assert(eq(int, bind(lfd, (struct sockaddr *)sa, sizeof(*sa)), 0));
	cr_assert(eq(int, listen(lfd, 4), 0));
	cr_assert(eq(int, getsockname(lfd, (struct sockaddr *)sa, &len), 0));
	return lfd;
}

Test(agent_utf8, hostile_comm_reaches_a_strict_client_as_utf8_with_its_raw_bytes)
{
	static char out[16384];
	struct sockaddr_in sa;
	int lfd, afd, go[2], st, code;
	char buf[8], want_pid[32];
	pid_t child;
	FILE *client;

	enter_private_cgroup();
	start_agent_argv("1048576", "128", (const char *[]){"--cgroup", cg.path, NULL});
	lfd = peer_listener(&sa);
	/* The child exists first so the client knows its pid; it waits for go. */
	cr_assert(eq(int, pipe(go), 0));
	child = fork();
	cr_assert(ge(int, child, 0));
	if (child == 0) {
		close(go[1]);
		named_child(go[0], &sa);
	}
	close(go[0]);
	client = start_client(child, out, sizeof(out));
	usleep(300 * 1000); /* the agent registers the subscription */
	cr_assert(eq(sz, (size_t)write(go[1], "g", 1), 1));
	close(go[1]);
	afd = accept(lfd, NULL, NULL);
	cr_assert(ge(int, afd, 0), "accept: %s", strerror(errno));
	while (read(afd, buf, sizeof(buf)) > 0)
		;
	close(afd);
	close(lfd);
	cr_assert(eq(int, waitpid(child, &st, 0), child));
	cr_assert(eq(int, st, 0), "the named child failed (wait status 0x%x)", st);

	code = finish_client(client, out, sizeof(out));
	cr_log_info("the Python client said:\n%s", out);
	cr_assert(eq(int, code, 0), "the Python client exited %d:\n%s", code, out);
	snprintf(want_pid, sizeof(want_pid), "REPORT pid=%d ", (int)child);
	cr_assert(strstr(out, want_pid) != NULL, "%s", out);
	cr_assert(strstr(out, want_comm) != NULL, "want %s:\n%s", want_comm, out);
	cr_assert(strstr(out, raw_hex) != NULL, "%s", out);
	cr_assert(strstr(out, "rejects-invalid-utf8=True") != NULL, "%s", out);
	cr_assert(eq(int, stop_agent(), 0), "SIGTERM exits 0");
}

/* An interface whose name is not UTF-8 (Linux allows it): Status still sends valid strings. */
Test(agent_utf8, status_names_an_odd_interface_in_valid_utf8)
{
	Meshmon__V1__ClientMessage m = MESHMON__V1__CLIENT_MESSAGE__INIT;
	Meshmon__V1__StatusRequest sr = MESHMON__V1__STATUS_REQUEST__INIT;
	const char *extra[] = {"--iface", "\xffmm\xfe", NULL};
	struct client c;

	cr_assert(eq(int, mm_test_sh("ip link add name $(printf '\\377mm\\376') type veth peer name mmodd1"), 0));
	start_agent_argv("1048576", "128", extra);
	cr_assert(eq(int, client_connect(&c), 0));
	m.msg_case = MESHMON__V1__CLIENT_MESSAGE__MSG_STATUS_REQUEST;
	m.status_request = &sr;
	client_send(&c, &m);
	client_poll(&c, 3000);
	cr_assert(c.got_status);
	cr_assert(c.status_all_utf8, "Status strings are valid UTF-8");
	cr_assert(eq(str, c.status_iface0, pair.local_if), "the pair's end comes first");
	client_close(&c);
	cr_assert(eq(int, stop_agent(), 0));
}
