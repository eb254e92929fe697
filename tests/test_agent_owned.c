// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-agent's attachments belong to the process (agent_fixture.h):
 * - with TCX, two agents on one interface each serve their clients every
 *   packet;
 * - on the clsact fallback, a second agent is refused with a one-line error
 *   and the first keeps working;
 * - a start that fails (the same socket, a bad --cgroup, a missing
 *   interface) leaves a running agent exactly as it was: same links, same
 *   interfaces in Status, its clients still served;
 * - SIGKILL with a deny rule active: traffic flows again at once, and every
 *   link and program the agent held is gone.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_client.h"
#include "agent_fixture.h"
#include "harness.h"
#include "harness_agent.h"

TestSuite(agent_owned, .init = agent_setup, .fini = agent_teardown, .timeout = 120);

static struct mm_test_agent other;

/* A second agent, for the tests that start one (criterion runs the suite's .init first). */
static void other_init(void)
{
	cr_assert(eq(int, mm_test_agent_init(&other, MESHMON_AGENT_PATH, "agent-b", "b.sock"), 0));
}

static void other_fini(void)
{
	mm_test_agent_cleanup(&other);
}

/* A second agent with argv (socket and iface included); its exit status, or -1 if it runs. */
static int other_start(const char *const argv[], int expect_ready)
{
	int status = 0, err;

	cr_assert(eq(int, mm_test_agent_spawn(&other, argv), 0));
	if (!expect_ready)
		return mm_test_agent_wait(&other);
	err = mm_test_agent_wait_ready(&other, 15000, &status);
	cr_assert(eq(int, err, 0), "the second agent did not start (status 0x%x); see %s", status,
		  other.log_path);
	return -1;
}

static void read_log(const struct mm_test_agent *a, char *buf, size_t cap)
{
	int fd = open(a->log_path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, cap - 1);

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
}

/* Pings the peer n times and gives the clients time to read the traces. */
static void ping_and_settle(struct client **cs, size_t n_cs, int n)
{
	cr_assert(eq(int, mm_test_sh("ping -c %d -i 0.1 -W 1 -q 10.199.0.2 >/dev/null", n), 0));
	settle(cs, n_cs, 500);
}

/* The agent's links, sorted by nothing: the ids, for comparing before and after. */
static int links_of(pid_t pid, struct mm_test_link *l, size_t cap)
{
	int n = mm_test_proc_links(pid, l, cap);

	cr_assert(ge(int, n, 0), "fdinfo of %ld: %s", (long)pid, strerror(-n));
	return n;
}

Test(agent_owned, two_agents_on_one_interface_each_see_every_packet, .init = other_init,
     .fini = other_fini)
{
	const char *argv[] = {"meshmon-agent", "--iface", pair.local_if, "--socket",
			      other.sock_path, "--cgroup", "none", NULL};
	struct client a, b, *cs[] = {&a, &b};

	start_agent("1048576", "128");
	other_start(argv, 1);
	client_subscribe(&a, IPPROTO_ICMP, 0);
	client_subscribe_at(&b, &other, IPPROTO_ICMP, 0);
	settle(cs, 2, 200);
	ping_and_settle(cs, 2, 4);
	/* 4 requests out and 4 replies in, traced at egress and ingress: 8 each. */
	cr_assert(eq(u64, a.icmp, 8), "the first agent's client saw every packet");
	cr_assert(eq(u64, b.icmp, 8), "the second agent's client saw the same packets");
	client_close(&a);
	client_close(&b);
	cr_assert(eq(int, mm_test_agent_stop(&other, 5000), 0));
	cr_assert(eq(int, stop_agent(), 0));
}

Test(agent_owned, clsact_fallback_refuses_a_second_agent, .init = other_init, .fini = other_fini)
{
	const char *argv[] = {"meshmon-agent", "--iface", pair.local_if, "--socket",
			      other.sock_path, "--cgroup", "none", "--tc-attach", "clsact", NULL};
	const char *extra[] = {"--tc-attach", "clsact", NULL};
	struct client a, *cs[] = {&a};
	char log[4096];
	int status;

	start_agent_argv("1048576", "128", extra);
	client_subscribe(&a, IPPROTO_ICMP, 0);
	settle(cs, 1, 200);
	status = other_start(argv, 0);
	cr_assert(eq(int, WIFEXITED(status) ? WEXITSTATUS(status) : -1, 1), "refused, exit 1");
	read_log(&other, log, sizeof(log));
	cr_assert(strstr(log, "already monitored by a running meshmon-agent") != NULL, "%s", log);
	cr_assert(strstr(log, "libbpf") == NULL, "no libbpf noise: %s", log);
	/* The first agent keeps its filters and its client. */
	cr_assert(eq(int, mm_test_sh("tc filter show dev %s ingress | grep -q mm_tc_ingress",
				     pair.local_if), 0));
	ping_and_settle(cs, 1, 3);
	cr_assert(eq(u64, a.icmp, 6), "the first agent still traces every packet");
	client_close(&a);
	cr_assert(eq(int, stop_agent(), 0));
}

/* A failed start of a second agent, with these arguments after --socket PATH. */
static void failed_start_leaves_the_first_alone(const char *sock, const char *const *args,
						const char *expect)
{
	struct mm_test_link before[16], after[16];
	const char *argv[16] = {"meshmon-agent", "--socket", sock};
	struct client a, *cs[] = {&a};
	int n_before, n_after, status;
	char log[4096];
	size_t n = 3;

	for (size_t i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	start_agent("1048576", "128");
	client_subscribe(&a, IPPROTO_ICMP, 0);
	settle(cs, 1, 200);
	n_before = links_of(agent.pid, before, 16);
	cr_assert(ge(int, n_before, 2));

	status = other_start(argv, 0);
	cr_assert(eq(int, WIFEXITED(status) ? WEXITSTATUS(status) : -1, 1), "exit 1");
	read_log(&other, log, sizeof(log));
	cr_assert(strstr(log, expect) != NULL, "'%s' in: %s", expect, log);
	/* The preflight refused it before anything was loaded or attached. */
	cr_assert(strstr(log, "datapath loaded") == NULL, "it loaded the datapath: %s", log);
	cr_assert(strstr(log, "attached tc") == NULL, "it attached tc: %s", log);

	n_after = links_of(agent.pid, after, 16);
	cr_assert(eq(int, n_after, n_before));
	for (int i = 0; i < n_before; i++)
		cr_assert(eq(int, mm_test_link_exists(before[i].id), 1), "link %u stays",
			  before[i].id);
	ping_and_settle(cs, 1, 2);
	cr_assert(eq(u64, a.icmp, 4), "the running agent still serves its client");
	client_close(&a);
	cr_assert(eq(int, stop_agent(), 0));
}

Test(agent_owned, failed_start_same_socket, .init = other_init, .fini = other_fini)
{
	const char *args[] = {"--iface", pair.local_if, "--cgroup", "none", NULL};

	failed_start_leaves_the_first_alone(agent.sock_path, args, "another agent is listening");
}

Test(agent_owned, failed_start_bad_cgroup, .init = other_init, .fini = other_fini)
{
	const char *args[] = {"--iface", pair.local_if, "--cgroup", "/nonexistent/mm", NULL};

	failed_start_leaves_the_first_alone(other.sock_path, args, "--cgroup /nonexistent/mm");
}

Test(agent_owned, failed_start_bad_interface, .init = other_init, .fini = other_fini)
{
	const char *args[] = {"--iface", pair.local_if, "--iface", "mm-nope0", "--cgroup", "none",
			      NULL};

	failed_start_leaves_the_first_alone(other.sock_path, args, "mm-nope0");
}

Test(agent_owned, sigkill_with_a_deny_rule_fails_open)
{
	const char *extra[] = {"--deny", "proto=icmp,dir=egress", "--kernel-drops", "on", NULL};
	struct mm_test_link links[16];
	int n;

	start_agent_argv("1048576", "128", extra);
	cr_assert(ne(int, mm_test_sh("ping -c 1 -W 1 10.199.0.2 >/dev/null 2>&1"), 0),
		  "the deny rule drops ICMP");
	n = links_of(agent.pid, links, 16);
	cr_assert(ge(int, n, 3), "tc ingress, egress and kfree_skb are links of the agent");
	mm_test_agent_kill(&agent);
	cr_assert(eq(int, mm_test_sh("ping -c 1 -W 1 10.199.0.2 >/dev/null"), 0),
		  "traffic flows again at once");
	for (int i = 0; i < n; i++) {
		cr_assert(eq(int, mm_test_link_exists(links[i].id), 0), "%s link %u is gone",
			  links[i].type, links[i].id);
		cr_assert(ne(int, mm_test_sh("bpftool link show id %u >/dev/null 2>&1", links[i].id),
			     0), "bpftool agrees: link %u is gone", links[i].id);
		cr_assert(eq(int, mm_test_prog_exists(links[i].prog_id), 0), "program %u is gone",
			  links[i].prog_id);
	}
	for (int d = 0; d < 2; d++)
		cr_assert(ne(int, mm_test_sh("tc filter show dev %s %s | grep -q bpf", pair.local_if,
					     d ? "egress" : "ingress"),
			     0), "no tc filter either");
}
