// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tcp_probe through meshmon-agent for connections outside the agent's own
 * network namespace: an idle TCP connection whose two ends both live in the
 * pair's peer namespace, held by a child process in the monitored private
 * cgroup (agent_fixture.h, agent_client.h). Opened while the agent runs, it
 * gets periodic reports with its tuple and namespace; opened before the agent
 * started, it gets periodic reports and one closed report per end. The real
 * `meshmon` prints its tcp_state by name, and the JSON the number beside it.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_client.h"
#include "agent_fixture.h"
#include "harness.h"
#include "harness_agent.h"
#include "records.h"

static pid_t holder_pid = -1;

static void teardown(void)
{
	if (holder_pid > 0) {
		kill(holder_pid, SIGKILL);
		waitpid(holder_pid, NULL, 0);
	}
	holder_pid = -1;
	agent_teardown();
}

TestSuite(agent_probe_netns, .init = agent_setup, .fini = teardown, .timeout = 120);

/* The connection the holder keeps: both ends on 127.0.0.1 in the peer namespace. */
struct held {
	uint16_t client_port, server_port;
	int cmd, done; /* pipe ends: 'c' closes the connection; the holder answers 'd' */
};

/* The holder child: enters the peer namespace, connects, then waits for 'c'. */
static void holder_main(int cmd_fd, int out_fd)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	uint16_t ports[2];
	int ns, lfd, cfd, afd;
	char c, hello[5];

	ns = open(pair.peer_ns_path, O_RDONLY | O_CLOEXEC);
	if (ns < 0 || setns(ns, CLONE_NEWNET))
		_exit(2);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&sa, &len))
		_exit(3);
	cfd = socket(AF_INET, SOCK_STREAM, 0);
	if (cfd < 0 || connect(cfd, (struct sockaddr *)&sa, sizeof(sa)))
		_exit(4);
	afd = accept(lfd, NULL, NULL);
	if (afd < 0 || write(cfd, "hello", 5) != 5 || read(afd, hello, 5) != 5)
		_exit(5);
	ports[1] = ntohs(sa.sin_port);
	len = sizeof(sa);
	if (getsockname(cfd, (struct sockaddr *)&sa, &len))
		_exit(6);
	ports[0] = ntohs(sa.sin_port);
	if (write(out_fd, ports, sizeof(ports)) != sizeof(ports))
		_exit(7);
	/* Idle from here on: nothing is sent until the parent asks for the close. */
	if (read(cmd_fd, &c, 1) != 1)
		_exit(8);
	close(cfd);
	while (read(afd, &c, 1) > 0)
		;
	close(afd);
	close(lfd);
	_exit(write(out_fd, "d", 1) == 1 ? 0 : 9);
}

/* Fork the holder (it inherits the test's cgroup) and wait for its connection. */
static struct held start_holder(void)
{
	int cmd[2], out[2];
	uint16_t ports[2];
	struct held h;

	cr_assert(eq(int, pipe2(cmd, O_CLOEXEC), 0));
	cr_assert(eq(int, pipe2(out, O_CLOEXEC), 0));
	holder_pid = fork();
	cr_assert(ge(int, holder_pid, 0));
	if (holder_pid == 0)
		holder_main(cmd[0], out[1]);
	close(cmd[0]);
	close(out[1]);
	cr_assert(eq(long, read(out[0], ports, sizeof(ports)), (long)sizeof(ports)),
		  "the holder did not connect");
	h.client_port = ports[0];
	h.server_port = ports[1];
	h.cmd = cmd[1];
	h.done = out[0];
	return h;
}

/* Close the held connection (orderly, both ends) and reap the holder. */
static void close_holder(struct held *h)
{
	int status;
	char c;

	cr_assert(eq(long, write(h->cmd, "c", 1), 1));
	cr_assert(eq(long, read(h->done, &c, 1), 1));
	cr_assert(eq(int, waitpid(holder_pid, &status, 0), holder_pid));
	holder_pid = -1;
	cr_assert(eq(int, WIFEXITED(status) && WEXITSTATUS(status) == 0, 1), "holder status 0x%x",
		  status);
	close(h->cmd);
	close(h->done);
}

static uint32_t peer_netns_inode(void)
{
	struct stat st;

	cr_assert(eq(int, stat(pair.peer_ns_path, &st), 0));
	return (uint32_t)st.st_ino;
}

static int is_loopback(const uint8_t *a, size_t len)
{
	static const uint8_t lo[4] = {127, 0, 0, 1};

	return len == 4 && !memcmp(a, lo, 4);
}

/* tcp_probe events of one state from local port sport to dport, 127.0.0.1 both sides. */
static size_t count_probes(const struct client *c, uint32_t state, uint16_t sport,
			   uint16_t dport, const struct ev_rec **first)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n_log; i++) {
		const struct ev_rec *r = &c->log[i];

		if (r->type != MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TCP_PROBE ||
		    r->probe_state != state || r->sport != sport || r->dport != dport ||
		    r->proto != IPPROTO_TCP || !is_loopback(r->src, r->src_len) ||
		    !is_loopback(r->dst, r->dst_len))
			continue;
		if (!n++ && first)
			*first = r;
	}
	return n;
}

/* Poll c until each end has at least n reports of state (20 s at most). */
static void wait_both_ends(struct client *c, const struct held *h, uint32_t state, size_t n)
{
	uint64_t end = now_ms() + 20000;

	while (now_ms() < end && (count_probes(c, state, h->client_port, h->server_port, NULL) < n ||
				  count_probes(c, state, h->server_port, h->client_port, NULL) < n))
		client_poll(c, 100);
}

static void subscribe_tcp_probe(struct client *c)
{
	static Meshmon__V1__EventType types[] = {MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TCP_PROBE};

	next_types = types;
	next_n_types = 1;
	client_subscribe(c, 0, 0);
	next_types = NULL;
	next_n_types = 0;
	c->keep = 1;
}

static void start_probe_agent(void)
{
	start_agent_argv("1048576", "128",
			 (const char *[]){"--cgroup", cg.path, "--probe-interval", "1", NULL});
}

/* The real `meshmon monitor` on the agent's socket; its exit status. */
static int run_cli(const char *args, const char *out_path)
{
	char full[4096];

	snprintf(full, sizeof(full), "monitor %s", args);
	return mm_test_agent_cli(&agent, MESHMON_CLI_PATH, full, out_path);
}

Test(agent_probe_netns, idle_connection_in_another_namespace_is_reported_periodically)
{
	const struct ev_rec *r;
	struct client c;
	struct held h;
	char args[256], out[600];
	uint32_t netns = peer_netns_inode();

	enter_private_cgroup();
	start_probe_agent();
	subscribe_tcp_probe(&c);
	settle((struct client *[]){&c}, 1, 300);
	h = start_holder();
	wait_both_ends(&c, &h, MESHMON__V1__PROBE_STATE__PROBE_STATE_PERIODIC, 2);

	cr_assert(ge(sz, count_probes(&c, MESHMON__V1__PROBE_STATE__PROBE_STATE_PERIODIC,
				      h.client_port, h.server_port, &r),
		     2),
		  "periodic reports of the client end 127.0.0.1:%u -> :%u (%zu events)",
		  h.client_port, h.server_port, c.n_log);
	cr_expect(eq(u32, r->netns, netns), "the peer namespace, not the agent's");
	cr_expect(eq(u32, r->probe_dir, MESHMON__V1__PROBE_DIRECTION__PROBE_DIRECTION_OUTBOUND));
	cr_expect(eq(u32, r->pid, (uint32_t)holder_pid));
	cr_expect(eq(u32, r->tcp_state, MM_TCPS_ESTABLISHED));
	cr_expect(eq(u32, r->source, MESHMON__V1__SOURCE__SOURCE_TCP_ITER));
	cr_assert(ge(sz, count_probes(&c, MESHMON__V1__PROBE_STATE__PROBE_STATE_PERIODIC,
				      h.server_port, h.client_port, &r),
		     2),
		  "periodic reports of the server end (%zu events)", c.n_log);
	cr_expect(eq(u32, r->netns, netns));
	cr_expect(eq(u32, r->probe_dir, MESHMON__V1__PROBE_DIRECTION__PROBE_DIRECTION_INBOUND));
	cr_expect(eq(int, r->preexisting, 0));

	/* The CLI names the state; its JSON keeps the number beside the name. */
	snprintf(out, sizeof(out), "%s/probe.json", agent.dir);
	snprintf(args, sizeof(args), "--json -t tcp_probe --port %u --count 2", h.client_port);
	cr_assert(eq(int, run_cli(args, out), 0), "meshmon monitor %s", args);
	cr_assert(eq(int,
		     mm_test_sh("jq -e -s 'length == 2 and all(.state == \"periodic\" and "
				".tcp_state == \"ESTABLISHED\" and .tcp_state_code == 1 and "
				".netns == %u)' %s >/dev/null",
				netns, out),
		     0),
		  "JSON tcp_state and tcp_state_code in %s", out);
	snprintf(out, sizeof(out), "%s/probe.txt", agent.dir);
	snprintf(args, sizeof(args), "-v -t tcp_probe --port %u --count 2", h.client_port);
	cr_assert(eq(int, run_cli(args, out), 0), "meshmon monitor %s", args);
	cr_assert(eq(int, mm_test_sh("test $(grep -c 'tcp_probe periodic .*, tcp_state ESTABLISHED, "
				     "' %s) -eq 2",
				     out),
		     0),
		  "text tcp_state in %s", out);

	close_holder(&h);
	client_close(&c);
	cr_assert(eq(int, stop_agent(), 0), "SIGTERM exits 0");
}

Test(agent_probe_netns, connection_opened_before_the_agent_gets_periodic_and_closed_reports)
{
	const struct ev_rec *r;
	struct client c;
	struct held h;
	uint32_t netns = peer_netns_inode();
	size_t n;

	enter_private_cgroup();
	h = start_holder(); /* before the agent: nothing of meshmon knows it */
	start_probe_agent();
	subscribe_tcp_probe(&c);
	wait_both_ends(&c, &h, MESHMON__V1__PROBE_STATE__PROBE_STATE_PERIODIC, 1);

	cr_assert(ge(sz, count_probes(&c, MESHMON__V1__PROBE_STATE__PROBE_STATE_PERIODIC,
				      h.client_port, h.server_port, &r),
		     1),
		  "periodic report of the preexisting client end (%zu events)", c.n_log);
	cr_expect(eq(int, r->preexisting, 1));
	cr_expect(eq(u32, r->netns, netns));
	cr_expect(eq(u32, r->pid, 0), "opened before the agent: no process known");
	cr_assert(ge(sz, count_probes(&c, MESHMON__V1__PROBE_STATE__PROBE_STATE_PERIODIC,
				      h.server_port, h.client_port, &r),
		     1),
		  "periodic report of the preexisting server end (%zu events)", c.n_log);
	cr_expect(eq(int, r->preexisting, 1));
	cr_expect(eq(u32, r->netns, netns));

	close_holder(&h);
	wait_both_ends(&c, &h, MESHMON__V1__PROBE_STATE__PROBE_STATE_CLOSED, 1);
	client_poll(&c, 300); /* a second closed report would arrive by now */
	n = count_probes(&c, MESHMON__V1__PROBE_STATE__PROBE_STATE_CLOSED, h.client_port,
			 h.server_port, &r);
	cr_assert(eq(sz, n, 1), "one closed report of the client end (%zu events)", c.n_log);
	cr_expect(eq(int, r->preexisting, 1));
	cr_expect(eq(u32, r->netns, netns));
	cr_expect(eq(u32, r->tcp_state, MM_TCPS_CLOSE));
	cr_expect(eq(u32, r->source, MESHMON__V1__SOURCE__SOURCE_SOCK_STATE));
	n = count_probes(&c, MESHMON__V1__PROBE_STATE__PROBE_STATE_CLOSED, h.server_port,
			 h.client_port, &r);
	cr_assert(eq(sz, n, 1), "one closed report of the server end (%zu events)", c.n_log);
	cr_expect(eq(int, r->preexisting, 1));
	cr_expect(eq(u32, r->source, MESHMON__V1__SOURCE__SOURCE_SOCK_STATE));
	cr_expect(eq(u64, c.lost_queue, 0));
	client_close(&c);
	cr_assert(eq(int, stop_agent(), 0), "SIGTERM exits 0");
}

/*
 * The documented limit, where it applies: without CAP_SYS_ADMIN (the shipped
 * systemd unit) the agent cannot setns() into the holder's namespace, so the
 * connection opened before it gets no periodic report; it still gets its
 * closed reports, which need no namespace.
 */
Test(agent_probe_netns, without_cap_sys_admin_an_old_connection_elsewhere_gets_closed_reports_only)
{
	const char *argv[] = {"setpriv", "--bounding-set=-sys_admin", "--", MESHMON_AGENT_PATH,
			      "--iface", pair.local_if, "--socket", agent.sock_path, "--history",
			      "0", "--cgroup", cg.path, "--probe-interval", "1", NULL};
	const struct ev_rec *r;
	struct client c;
	struct held h;
	int status = 0;
	uint64_t end;

	enter_private_cgroup();
	h = start_holder();
	agent.path = "/usr/bin/setpriv";
	cr_assert(eq(int, mm_test_agent_spawn(&agent, argv), 0));
	cr_assert(eq(int, mm_test_agent_wait_ready(&agent, 15000, &status), 0),
		  "the agent did not start (status 0x%x); see %s", status, agent.log_path);
	subscribe_tcp_probe(&c);
	/* Three periodic passes: none may report the holder's connection. */
	end = now_ms() + 3500;
	while (now_ms() < end)
		client_poll(&c, 100);
	cr_expect(eq(sz, count_probes(&c, MESHMON__V1__PROBE_STATE__PROBE_STATE_PERIODIC,
				      h.client_port, h.server_port, NULL),
		     0));
	cr_expect(eq(sz, count_probes(&c, MESHMON__V1__PROBE_STATE__PROBE_STATE_PERIODIC,
				      h.server_port, h.client_port, NULL),
		     0));
	cr_expect(eq(int, mm_test_sh("grep -q 'could not be entered: Operation not permitted' %s",
				     agent.log_path),
		     0),
		  "the agent says which namespaces it could not search; see %s", agent.log_path);

	close_holder(&h);
	wait_both_ends(&c, &h, MESHMON__V1__PROBE_STATE__PROBE_STATE_CLOSED, 1);
	cr_assert(eq(sz, count_probes(&c, MESHMON__V1__PROBE_STATE__PROBE_STATE_CLOSED,
				      h.client_port, h.server_port, &r),
		     1),
		  "closed report of the client end (%zu events)", c.n_log);
	cr_expect(eq(int, r->preexisting, 1));
	cr_expect(eq(u32, r->netns, peer_netns_inode()));
	cr_assert(eq(sz, count_probes(&c, MESHMON__V1__PROBE_STATE__PROBE_STATE_CLOSED,
				      h.server_port, h.client_port, &r),
		     1),
		  "closed report of the server end (%zu events)", c.n_log);
	cr_expect(eq(int, r->preexisting, 1));
	client_close(&c);
	cr_assert(eq(int, stop_agent(), 0), "SIGTERM exits 0");
}
