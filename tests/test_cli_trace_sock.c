// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * trace-sock end to end: meshmon-agent --events ...,trace-sock on a private
 * cgroup holding the test, the tests' own translator (translator.h) on the
 * same cgroup, attached before the agent's programs, and `meshmon monitor`
 * reading the stream: a TCP connect and a UDP connect (nc -u connects its
 * socket) to the service each give one trace-sock record with both addresses and the process, tcp_probe
 * carries orig_dst, a direct connect to the backend gives none; the text
 * line and the JSON keys are as docs/cli.md shows them.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <netinet/in.h>

#include "cli_agent.h"
#include "harness.h"
#include "harness_agent.h"
#include "tcp_probe.h"
#include "translator.h"

static struct mm_test_cgroup cg;
static struct translator *xlator;
static int listener = -1, port;

static void setup(void)
{
	char root[256];
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	cli_agent_prepare("cli-tsock");
	cr_assert(eq(int, mm_cgroup2_root(root, sizeof(root)), 0));
	cr_assert(eq(int, mm_test_cgroup_create(&cg, root, "cli-tsock"), 0));
	cr_assert(eq(int, mm_test_cgroup_enter(&cg, getpid()), 0));
	listener = mm_test_pair_listen(&pair, AF_INET, 0, 16);
	cr_assert(listener >= 0);
	cr_assert(eq(int, getsockname(listener, (struct sockaddr *)&sa, &len), 0));
	port = ntohs(sa.sin_port);
	/* The translator first: the agent's connect and sendmsg programs run after it. */
	xlator = translator_attach(cg.path, (uint16_t)port);
	cr_assert(xlator != NULL);
	cli_agent_start_with((const char *[]){"--cgroup", cg.path, "--events",
					      "trace,drop,tcp_probe,trace-sock", NULL});
}

static void teardown(void)
{
	cli_agent_teardown();
	translator_free(xlator);
	if (listener >= 0)
		close(listener);
	mm_test_cgroup_destroy(&cg);
}

TestSuite(cli_trace_sock, .init = setup, .fini = teardown, .timeout = 120);

/* In the background, once the monitor has subscribed: direct, then through the service. */
static void traffic(void)
{
	cr_assert(eq(int, mm_test_sh("(sleep 0.7; nc -z -w1 " TRANSLATOR_BACKEND4 " %d; "
				     "nc -z -w1 " TRANSLATOR_SVC4 " %d; "
				     "echo x | nc -u -w0 " TRANSLATOR_SVC4 " %d) >/dev/null 2>&1 &",
				     port, TRANSLATOR_SVC_PORT, TRANSLATOR_SVC_PORT),
		     0));
}

Test(cli_trace_sock, json_records_and_tcp_probe_orig_dst)
{
	char out[128], filter[1024];

	snprintf(out, sizeof(out), "%s/out.json", agent.dir);
	traffic();
	/* trace-sock: the TCP connect and the UDP send to the service; nothing for the direct one. */
	cr_assert(eq(int, mm_test_agent_cli(&agent, MESHMON_CLI_PATH, "monitor --json -t trace-sock -c 2", out), 0), "see %s/cli.err",
		  agent.dir);
	snprintf(filter, sizeof(filter),
		 "map(select(.type != \"lost\")) | length == 2 and all(.type == \"trace-sock\" and .tuple.dst == \"%s\" and "
		 ".tuple.dport == %d and .trace_sock.orig_dst == \"%s\" and "
		 ".trace_sock.orig_dport == %d and .trace_sock.comm == \"nc\" and "
		 ".trace_sock.pid > 0 and .trace_sock.socket_cookie > 0 and "
		 ".trace_sock.cgroup_id > 0) and "
		 "(map(.trace_sock.hook + \"/\" + .tuple.proto) | sort) == [\"connect/tcp\", \"connect/udp\"]",
		 TRANSLATOR_BACKEND4, port, TRANSLATOR_SVC4, TRANSLATOR_SVC_PORT);
	cr_assert(eq(int, mm_test_jq(filter, out), 0), "%s", filter);
	cr_assert(eq(u64, translator_rewrites(xlator), 2));

	/* tcp_probe: orig_dst on the translated connection's open and closed reports only
	 * (outbound: the accepted ends, from 10.199.0.2, are reported too). */
	traffic();
	cr_assert(eq(int, mm_test_agent_cli(&agent, MESHMON_CLI_PATH, "monitor --json -t tcp_probe --from 10.199.0.1 -c 4", out), 0), "see %s/cli.err",
		  agent.dir);
	snprintf(filter, sizeof(filter),
		 "map(select(.type != \"lost\")) | length == 4 and (map(select(has(\"orig_dst\"))) | length == 2 and "
		 "all(.orig_dst == \"%s\" and .orig_dport == %d and .socket_cookie > 0))",
		 TRANSLATOR_SVC4, TRANSLATOR_SVC_PORT);
	cr_assert(eq(int, mm_test_jq(filter, out), 0), "%s", filter);
}

Test(cli_trace_sock, text_line)
{
	char out[128], cmd[512];

	snprintf(out, sizeof(out), "%s/out.txt", agent.dir);
	traffic();
	cr_assert(eq(int, mm_test_agent_cli(&agent, MESHMON_CLI_PATH, "monitor -t trace-sock -c 2", out), 0), "see %s/cli.err",
		  agent.dir);
	snprintf(cmd, sizeof(cmd),
		 "grep -Eq '^trace-sock connect %s:%d -> %s:%d udp pid [0-9]+ \\(nc\\) cookie 0x[0-9a-f]+ cgroup [0-9]+$' %s && "
		 "grep -Eq '^trace-sock connect %s:%d -> %s:%d tcp pid [0-9]+ \\(nc\\) cookie 0x[0-9a-f]+ cgroup [0-9]+$' %s",
		 TRANSLATOR_SVC4, TRANSLATOR_SVC_PORT, TRANSLATOR_BACKEND4, port, out,
		 TRANSLATOR_SVC4, TRANSLATOR_SVC_PORT, TRANSLATOR_BACKEND4, port, out);
	cr_assert(eq(int, system(cmd), 0), "%s", cmd);
}
