// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Policy verdicts through the real agent (--policy-verdicts) and the real
 * `meshmon monitor -t policy-verdict`, on real traffic over the veth pair:
 * an allowed TCP connection and a denied one each get one verdict (the denied
 * one despite its SYN retransmission), with the right rule: the lowest of the
 * two that match. `meshmon status` says the flag is on.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli_agent.h"
#include "harness.h"
#include "harness_agent.h"

#ifndef MESHMON_CLI_PATH
#error "MESHMON_CLI_PATH must name the built meshmon"
#endif

#define PEER_ADDR "10.199.0.2"
#define ALLOWED_PORT 8080
#define DENIED_PORT 8081 /* rules 2 and 3 match: 2 wins */
#define LAST_PORT 9999	 /* rule 1: the last verdict the monitors wait for */

static void setup(void)
{
	cli_agent_prepare("cli-verdict");
}

TestSuite(cli_verdict, .init = setup, .fini = cli_agent_teardown, .timeout = 120);

/* `meshmon ARGS` in the background, stdout to out, stderr to err; ARGS has a --count. */
static pid_t monitor_bg(const char *args, const char *out, const char *err)
{
	char cmd[1024];
	pid_t pid;

	snprintf(cmd, sizeof(cmd), "exec timeout -k 3 -s INT 30 %s %s --socket %s >%s 2>%s",
		 MESHMON_CLI_PATH, args, agent.sock_path, out, err);
	pid = fork();
	cr_assert(ge(int, pid, 0));
	if (!pid) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static void monitor_wait(pid_t pid, const char *err)
{
	int st, code;

	cr_assert(eq(int, waitpid(pid, &st, 0), pid));
	code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	cr_assert(eq(int, code, 0), "the monitor did not see its count: see %s", err);
}

static int file_has(const char *path, const char *needle)
{
	char line[4096];
	FILE *f = fopen(path, "r");
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, needle) != NULL;
	fclose(f);
	return found;
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* `meshmon status --json` into path. */
static void status_json(const char *path)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "timeout 10 %s status --json --socket %s >%s", MESHMON_CLI_PATH,
		 agent.sock_path, path);
	cr_assert(eq(int, system(cmd), 0));
}

/* Both monitors have their stream: the agent counts n subscribed listeners. */
static void wait_listeners(int n, const char *path)
{
	char filter[64];
	struct timespec t0;

	snprintf(filter, sizeof(filter), ".[0].listeners == %d", n);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		status_json(path);
		if (mm_test_jq(filter, path) == 0)
			return;
		cr_assert(lt(long, elapsed_ms(&t0), 10000), "not %d listeners: see %s", n, path);
		usleep(50 * 1000);
	}
}

static struct sockaddr_in peer(int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};

	inet_pton(AF_INET, PEER_ADDR, &sin.sin_addr);
	return sin;
}

/* A whole allowed connection: handshake, a few bytes each way, close. */
static void allowed_connection(void)
{
	struct sockaddr_in sin = peer(ALLOWED_PORT);
	int one = 1, lfd, cfd, afd;
	char buf[8];

	lfd = mm_test_pair_socket(&pair, AF_INET, SOCK_STREAM);
	cr_assert(ge(int, lfd, 0));
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	cr_assert(eq(int, bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0), "%s",
		  strerror(errno));
	cr_assert(eq(int, listen(lfd, 1), 0));
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(ge(int, cfd, 0));
	cr_assert(eq(int, connect(cfd, (struct sockaddr *)&sin, sizeof(sin)), 0), "%s",
		  strerror(errno));
	afd = accept(lfd, NULL, NULL);
	cr_assert(ge(int, afd, 0));
	cr_assert(eq(long, write(cfd, "ping", 4), 4));
	cr_assert(eq(long, read(afd, buf, 4), 4));
	cr_assert(eq(long, write(afd, "pong", 4), 4));
	cr_assert(eq(long, read(cfd, buf, 4), 4));
	close(cfd);
	close(afd);
	close(lfd);
}

/* A connection whose SYNs the deny rule drops: returned once the SYN was sent again. */
static void denied_connection(void)
{
	struct sockaddr_in sin = peer(DENIED_PORT);
	struct tcp_info info;
	socklen_t len = sizeof(info);
	struct timespec t0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	cr_assert(ge(int, fd, 0));
	cr_assert(eq(int, connect(fd, (struct sockaddr *)&sin, sizeof(sin)), -1));
	cr_assert(eq(int, errno, EINPROGRESS), "%s", strerror(errno));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		cr_assert(eq(int, getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len), 0));
		if (info.tcpi_total_retrans >= 1)
			break;
		cr_assert(lt(long, elapsed_ms(&t0), 10000), "the SYN was never retransmitted");
		usleep(50 * 1000);
	}
	close(fd);
}

static void send_udp(int port)
{
	struct sockaddr_in sin = peer(port);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert(ge(int, fd, 0));
	cr_assert(eq(long, sendto(fd, "last", 4, 0, (struct sockaddr *)&sin, sizeof(sin)), 4),
		  "%s", strerror(errno));
	close(fd);
}

Test(cli_verdict, one_verdict_per_flow_with_the_rule)
{
	const char *extra[] = {"--policy-verdicts", "--deny", "proto=udp,dport=9999",
			       "--deny", "proto=tcp,dport=8081,dir=egress", "--deny", "dport=8081",
			       NULL};
	char json[128], text[128], ejson[128], etext[128], status[128];
	pid_t mj, mt;
	cpu_set_t set;

	cli_agent_start_with(extra);
	snprintf(json, sizeof(json), "%s/verdicts.json", agent.dir);
	snprintf(text, sizeof(text), "%s/verdicts.txt", agent.dir);
	snprintf(ejson, sizeof(ejson), "%s/json.err", agent.dir);
	snprintf(etext, sizeof(etext), "%s/text.err", agent.dir);
	snprintf(status, sizeof(status), "%s/status.json", agent.dir);
	/* Only the flows to the peer's address: the veth's own IPv6 chatter is new flows too. */
	mj = monitor_bg("monitor -t policy-verdict --to " PEER_ADDR " -c 3 --json", json, ejson);
	mt = monitor_bg("monitor -t policy-verdict --to " PEER_ADDR " -c 3", text, etext);
	wait_listeners(2, status);
	/* One CPU sends: the verdicts are on one ring, in sending order. */
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	cr_assert(eq(int, sched_setaffinity(0, sizeof(set), &set), 0));
	allowed_connection();
	denied_connection();
	send_udp(LAST_PORT);
	monitor_wait(mj, ejson);
	monitor_wait(mt, etext);

	/* JSON: one verdict per flow; a second for the retransmitted SYN would hide the last. */
	cr_expect(eq(int, mm_test_jq("length == 3", json), 0), "see %s", json);
	cr_expect(eq(int, mm_test_jq("[.[] | select(.tuple.dport == 8080)] | length == 1 and "
			     "all(.type == \"policy-verdict\" and .verdict == \"allow\" and "
			     ".rule == null and .point == \"to-network\" and .tuple.proto == \"tcp\" "
			     "and .tcp_flags == [\"SYN\"] and .folded == 0)",
			     json),
		     0),
		  "the allowed flow: see %s", json);
	cr_expect(eq(int, mm_test_jq("[.[] | select(.tuple.dport == 8081)] | length == 1 and "
			     "all(.verdict == \"deny\" and .rule == 2 and .point == \"to-network\")",
			     json),
		     0),
		  "the denied flow, by the lowest of rules 2 and 3: see %s", json);
	cr_expect(eq(int, mm_test_jq("[.[] | select(.tuple.dport == 9999)] | length == 1 and "
			     "all(.verdict == \"deny\" and .rule == 1 and .tuple.proto == \"udp\")",
			     json),
		     0),
		  "see %s", json);

	/* Text: the same three lines. */
	cr_expect(file_has(text, "egress, action allow, match none: 10.199.0.1:"), "see %s", text);
	cr_expect(file_has(text, " -> 10.199.0.2:8080 tcp SYN"), "see %s", text);
	cr_expect(file_has(text, "egress, action deny, match rule 2: 10.199.0.1:"), "see %s", text);
	cr_expect(file_has(text, " -> 10.199.0.2:8081 tcp SYN"), "see %s", text);
	cr_expect(file_has(text, "egress, action deny, match rule 1: 10.199.0.1:"), "see %s", text);

	/* Status says verdicts are on. */
	status_json(status);
	cr_expect(eq(int, mm_test_jq(".[0].policy_verdicts == true", status), 0), "see %s", status);
}
