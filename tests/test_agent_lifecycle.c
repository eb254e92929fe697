// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-agent end to end, start and stop: SIGTERM detaches everything and
 * removes the socket, a missing interface is a one-line error, and a restart
 * after SIGKILL replaces the stale filters and socket (agent_fixture.h).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_client.h"
#include "agent_fixture.h"
#include "harness.h"
#include "harness_agent.h"

TestSuite(agent_lifecycle, .init = agent_setup, .fini = agent_teardown, .timeout = 120);

Test(agent_lifecycle, sigterm_detaches_everything)
{
	char out[4096] = "";
	FILE *f;
	size_t n;
	struct stat st;

	start_agent("1048576", "128");
	snprintf(out, sizeof(out), "tc filter show dev %s ingress | grep -c bpf", pair.local_if);
	cr_assert(eq(int, mm_test_sh("%s >/dev/null", out), 0), "the agent attached a filter");

	cr_assert(eq(int, stop_agent(), 0), "SIGTERM exits 0");
	cr_assert(ne(int, stat(agent.sock_path, &st), 0), "the socket is removed");
	for (int d = 0; d < 2; d++) {
		snprintf(out, sizeof(out), "tc filter show dev %s %s 2>&1", pair.local_if,
			 d ? "egress" : "ingress");
		f = popen(out, "r");
		cr_assert(f != NULL);
		n = fread(out, 1, sizeof(out) - 1, f);
		out[n] = '\0';
		pclose(f);
		cr_assert(strstr(out, "bpf") == NULL && strstr(out, "mm_") == NULL ? 1 : 0,
			  "a meshmon filter is left: %s", out);
	}
	/* The agent created clsact, so it removed it as well. */
	cr_assert(ne(int, mm_test_sh("tc qdisc show dev %s | grep -q clsact", pair.local_if), 0));
}

Test(agent_lifecycle, missing_interface_is_a_one_line_error)
{
	const char *argv[] = {"meshmon-agent", "--iface", "mm-nope0", "--socket",
			      agent.sock_path, NULL};
	int status, fd;
	char buf[1024] = "";
	ssize_t n;

	/* Its whole output, stdout and stderr, goes to the log. */
	cr_assert(eq(int, mm_test_agent_spawn(&agent, argv), 0));
	status = mm_test_agent_wait(&agent);
	cr_assert(eq(int, WIFEXITED(status) != 0, 1));
	cr_assert(eq(int, WEXITSTATUS(status), 1));
	fd = open(agent.log_path, O_RDONLY);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	cr_assert(gt(sz, (size_t)n, 0));
	buf[n] = '\0';
	cr_assert(strstr(buf, "mm-nope0") != NULL, "%s", buf);
	cr_assert(eq(int, (int)(strchr(buf, '\n') - buf), (int)strlen(buf) - 1), "one line: %s",
		  buf);
}

Test(agent_lifecycle, restart_after_sigkill_replaces_filters_and_socket)
{
	struct client c;

	start_agent("1048576", "128");
	mm_test_agent_kill(&agent);
	/* The dead agent left its filters and its socket file behind. */
	cr_assert(
	    eq(int, mm_test_sh("tc filter show dev %s ingress | grep -q bpf", pair.local_if), 0));
	cr_assert(ne(int, client_connect(&c), 0), "nobody listens on the stale socket");

	start_agent("1048576", "128");
	for (int d = 0; d < 2; d++)
		cr_assert(
		    eq(int,
		       mm_test_sh(
			   "test $(tc filter show dev %s %s | grep -c 'bpf.*direct-action') -eq 1",
			   pair.local_if, d ? "egress" : "ingress"),
		       0),
		    "one meshmon filter, not two");
	cr_assert(eq(int, mm_test_sh("ping -c 2 -i 0.1 -q 10.199.0.2 >/dev/null"), 0));
	cr_assert(eq(int, stop_agent(), 0));
	cr_assert(
	    ne(int,
	       mm_test_sh("tc filter show dev %s ingress 2>/dev/null | grep -q bpf", pair.local_if),
	       0),
	    "the restarted agent's SIGTERM leaves no filter");
}
