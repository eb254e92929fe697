// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Time order across CPUs, end to end (agent/reorder.h): TCP and UDP flows
 * pinned to CPU 0 and to CPU 1 on both ends, all at once, through a veth
 * pair in a private network namespace, read through the real meshmon-agent
 * by the real `meshmon monitor --json` and `meshmon monitor --pcap`. The
 * rings are read rarely (a wakeup only every million records or half a
 * ring, a 20 ms drain timer), so each holds many records when it is read:
 * read one ring after the other, they are out of time order unless the
 * agent merges them (the second test shows that they are).
 *
 * With the merge (the default --reorder-ms) the wall times of the JSON
 * stream and of the history never decrease and capinfos calls the pcap
 * file strictly time ordered; with --reorder-ms 0 the same mix is out of
 * order, and every event older than one before it is marked out_of_order.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "harness_agent.h"

#ifndef MESHMON_AGENT_PATH
#error "MESHMON_AGENT_PATH must name the built meshmon-agent"
#endif
#ifndef MESHMON_CLI_PATH
#error "MESHMON_CLI_PATH must name the built meshmon"
#endif

#define SENDS 1500        /* per flow */
#define SEND_GAP_US 100
#define EVENTS_READ 4000  /* what each monitor reads: fewer than the mix makes */
#define FLOWS 4

static struct mm_test_pair pair;
static struct mm_test_agent agent;
static pid_t kids[2 * FLOWS], clis[4];
static size_t n_kids, n_clis;

static void setup(void)
{
	cr_assert(eq(int, mm_test_private_netns(), 0));
	cr_assert(eq(int, mm_test_pair_create(&pair), 0));
	cr_assert(eq(int, mm_test_agent_init(&agent, MESHMON_AGENT_PATH, "order", "monitor.sock"),
		     0));
}

static void teardown(void)
{
	for (size_t i = 0; i < n_kids; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	n_kids = 0;
	for (size_t i = 0; i < n_clis; i++) {
		kill(clis[i], SIGTERM); /* timeout(1) passes it on to meshmon */
		waitpid(clis[i], NULL, 0);
	}
	n_clis = 0;
	mm_test_agent_stop(&agent, 5000);
	mm_test_pair_destroy(&pair);
	mm_test_agent_cleanup(&agent);
}

TestSuite(agent_order, .init = setup, .fini = teardown, .timeout = 180);

static void start_agent(const char *reorder_ms)
{
	const char *argv[] = {"meshmon-agent", "--iface", pair.local_if, "--socket",
			      agent.sock_path, "--capture-len", "128", "--cgroup", "none",
			      "--pages", "256", "--history", "16384",
			      /* rings read only by a slow timer: many records each time */
			      "--wakeup-events", "1000000", "--drain-ms", "20", "--drain-min-us",
			      "20000", "--reorder-ms", reorder_ms, NULL};

	cr_assert(eq(int, mm_test_agent_spawn(&agent, argv), 0));
	cr_assert(eq(int, mm_test_agent_wait_ready(&agent, 15000, NULL), 0),
		  "the agent's socket did not appear; see %s", agent.log_path);
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		_exit(3);
}

/* A child pinned to cpu that waits for the start pipe to close, then runs fn(fd). */
static void spawn_pinned(int cpu, const int start[2], int fd, void (*fn)(int fd))
{
	pid_t pid = fork();
	char c;

	cr_assert(ge(int, pid, 0));
	if (pid == 0) {
		pin(cpu);
		close(start[1]);
		if (read(start[0], &c, 1) < 0)
			_exit(4);
		fn(fd);
		_exit(0);
	}
	kids[n_kids++] = pid;
}

static void drain_socket(int fd)
{
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static void accept_and_drain(int lfd)
{
	int fd = accept(lfd, NULL, NULL);

	if (fd < 0)
		_exit(5);
	drain_socket(fd);
}

/* SENDS small writes or datagrams, one segment each, SEND_GAP_US apart. */
static void send_all(int fd)
{
	char msg[32] = "meshmon time order";

	for (int i = 0; i < SENDS; i++) {
		if (send(fd, msg, sizeof(msg), 0) < 0 && errno != ECONNREFUSED)
			_exit(6);
		usleep(SEND_GAP_US);
	}
	shutdown(fd, SHUT_WR);
}

static int connect_to_peer(int type, uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0), one = 1;

	cr_assert(ge(int, fd, 0));
	inet_pton(AF_INET, "10.199.0.2", &sa.sin_addr);
	if (type == SOCK_STREAM)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	cr_assert(eq(int, connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0), "%s",
		  strerror(errno));
	return fd;
}

static int peer_udp(uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = mm_test_pair_socket(&pair, AF_INET, SOCK_DGRAM);

	cr_assert(ge(int, fd, 0));
	inet_pton(AF_INET, "10.199.0.2", &sa.sin_addr);
	cr_assert(eq(int, bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0), "%s", strerror(errno));
	return fd;
}

/*
 * Per CPU, a TCP flow and a UDP flow with both ends on that CPU (the peer
 * namespace's receivers too), every sender released at once. Returns once
 * every sender is done.
 */
static void traffic_on_both_cpus(void)
{
	int start[2], receivers[FLOWS], senders[FLOWS];
	size_t first_sender;

	cr_assert(eq(int, pipe(start), 0));
	for (int cpu = 0; cpu < 2; cpu++) {
		uint16_t tport = (uint16_t)(5100 + cpu), uport = (uint16_t)(5200 + cpu);
		int lfd = mm_test_pair_listen(&pair, AF_INET, tport, 4);

		cr_assert(ge(int, lfd, 0));
		receivers[2 * cpu] = lfd;
		receivers[2 * cpu + 1] = peer_udp(uport);
		spawn_pinned(cpu, start, lfd, accept_and_drain);
		spawn_pinned(cpu, start, receivers[2 * cpu + 1], drain_socket);
		senders[2 * cpu] = connect_to_peer(SOCK_STREAM, tport);
		senders[2 * cpu + 1] = connect_to_peer(SOCK_DGRAM, uport);
	}
	first_sender = n_kids;
	for (int i = 0; i < FLOWS; i++)
		spawn_pinned(i / 2, start, senders[i], send_all);
	for (int i = 0; i < FLOWS; i++) {
		close(senders[i]);
		close(receivers[i]);
	}
	close(start[0]);
	close(start[1]); /* go */
	for (size_t i = first_sender; i < n_kids; i++) {
		int st;

		cr_assert(eq(int, waitpid(kids[i], &st, 0), kids[i]));
		cr_assert(eq(int, st, 0), "sender %zu: wait status %d", i, st);
	}
	/* the receivers end with their sockets (TCP: at the FIN; UDP: killed in teardown) */
}

/* `meshmon ARGS` in the background, stdout to out; its pid. */
static pid_t cli_background(const char *args, const char *out)
{
	char cmd[1024];
	pid_t pid;

	snprintf(cmd, sizeof(cmd), "exec timeout 60 %s %s --socket %s >%s 2>>%s/cli.err",
		 MESHMON_CLI_PATH, args, agent.sock_path, out, agent.dir);
	pid = fork();
	cr_assert(ge(int, pid, 0));
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	clis[n_clis++] = pid;
	return pid;
}

static void cli_wait(pid_t pid)
{
	int st;

	cr_assert(eq(int, waitpid(pid, &st, 0), pid));
	for (size_t i = 0; i < n_clis; i++)
		if (clis[i] == pid)
			clis[i] = clis[--n_clis];
	cr_assert(eq(int, st, 0), "meshmon: wait status %d; see %s/cli.err", st, agent.dir);
}

/* Listeners subscribed, as the agent's Status counts them. */
static void wait_listeners(int want)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd),
		 "for i in $(seq 100); do %s status --json --socket %s | jq -e '.listeners >= %d' "
		 ">/dev/null && exit 0; sleep 0.05; done; exit 1",
		 MESHMON_CLI_PATH, agent.sock_path, want);
	cr_assert(eq(int, system(cmd), 0), "%d monitors did not subscribe", want);
}

struct order_scan {
	size_t events, per_cpu[2];
	size_t inversions;          /* events with a time before one earlier in the stream */
	size_t inversions_unmarked; /* ... without out_of_order: true */
	size_t marked;
};

/* The JSON lines' "time" (RFC 3339, UTC, 9 digits: ordered as strings) in stream order. */
static void scan_json(const char *path, struct order_scan *s)
{
	char line[8192], latest[40] = "";
	FILE *f = fopen(path, "r");

	cr_assert(not(eq(ptr, f, NULL)), "%s", path);
	memset(s, 0, sizeof(*s));
	while (fgets(line, sizeof(line), f)) {
		const char *t = strstr(line, "\"time\":\""), *cpu = strstr(line, "\"cpu\":");
		int late = strstr(line, "\"out_of_order\":true") != NULL;
		char now[40];

		cr_assert(t != NULL, "not an event: %s", line);
		if (strstr(line, "\"type\":\"lost\""))
			continue; /* a loss notice is dated by its losses */
		cr_assert(eq(int, sscanf(t + 8, "%39[^\"]", now), 1), "%s", line);
		s->events++;
		s->marked += late;
		if (cpu && (cpu[6] == '0' || cpu[6] == '1') && cpu[7] == ',')
			s->per_cpu[cpu[6] - '0']++;
		if (strcmp(now, latest) < 0) {
			s->inversions++;
			s->inversions_unmarked += !late;
		} else {
			strcpy(latest, now);
		}
	}
	fclose(f);
}

static void expect_both_cpus(const struct order_scan *s)
{
	cr_assert(ge(sz, s->events, EVENTS_READ), "%zu events", s->events);
	cr_assert(gt(sz, s->per_cpu[0], s->events / 5), "CPU 0: %zu of %zu", s->per_cpu[0],
		  s->events);
	cr_assert(gt(sz, s->per_cpu[1], s->events / 5), "CPU 1: %zu of %zu", s->per_cpu[1],
		  s->events);
}

/*
 * The agent with --reorder-ms reorder_ms, a JSON and a pcap monitor of
 * EVENTS_READ events each, the mix on both CPUs; json and pcap name the files.
 */
static void record_mix(const char *reorder_ms, char *json, char *pcap, size_t len)
{
	char args[256];
	pid_t mon_json, mon_pcap;

	snprintf(json, len, "%s/live.json", agent.dir);
	snprintf(pcap, len, "%s/live.pcap", agent.dir);
	start_agent(reorder_ms);
	snprintf(args, sizeof(args), "monitor --json -c %d", EVENTS_READ);
	mon_json = cli_background(args, json);
	snprintf(args, sizeof(args), "monitor -c %d --pcap %s", EVENTS_READ, pcap);
	mon_pcap = cli_background(args, "/dev/null");
	wait_listeners(2);
	traffic_on_both_cpus();
	cli_wait(mon_json);
	cli_wait(mon_pcap);
}

Test(agent_order, json_pcap_and_history_in_time_order_across_cpus)
{
	char json[128], pcap[128], replay[128], cmd[512], args[256];
	struct order_scan s;

	record_mix("5", json, pcap, sizeof(json));
	snprintf(replay, sizeof(replay), "%s/replay.json", agent.dir);

	scan_json(json, &s);
	expect_both_cpus(&s);
	cr_expect(eq(sz, s.inversions, 0), "%zu of %zu events went back in time", s.inversions,
		  s.events);
	cr_expect(eq(sz, s.marked, 0));

	snprintf(cmd, sizeof(cmd),
		 "capinfos -o %s | grep -Eq '^Strict time order: +True$' && "
		 "test $(capinfos -c -M %s | sed -n 's/^Number of packets: *//p') -gt 1000",
		 pcap, pcap);
	cr_expect(eq(int, system(cmd), 0), "capinfos -o %s: not in strict time order", pcap);

	/* the history was filled in the same order */
	snprintf(args, sizeof(args), "monitor --json --last %d -c %d", EVENTS_READ, EVENTS_READ);
	cli_wait(cli_background(args, replay));
	scan_json(replay, &s);
	expect_both_cpus(&s);
	cr_expect(eq(sz, s.inversions, 0), "replay: %zu of %zu events went back in time",
		  s.inversions, s.events);

	snprintf(cmd, sizeof(cmd),
		 "%s status --json --socket %s | jq -e '.reorder_window_us == 5000 and "
		 ".events_out_of_order == 0' >/dev/null",
		 MESHMON_CLI_PATH, agent.sock_path);
	cr_expect(eq(int, system(cmd), 0), "Status: window 5 ms, nothing out of order");
	cr_assert(eq(int, mm_test_agent_stop(&agent, 5000), 0));
}

/* The same mix without the merge: out of order, and each late event says so. */
Test(agent_order, reorder_off_the_mix_is_out_of_order_and_marked)
{
	char json[128], pcap[128], cmd[512];
	struct order_scan s;

	record_mix("0", json, pcap, sizeof(json));
	scan_json(json, &s);
	expect_both_cpus(&s);
	cr_expect(gt(sz, s.inversions, 10), "the rings read in turn: %zu inversions in %zu events",
		  s.inversions, s.events);
	cr_expect(eq(sz, s.inversions_unmarked, 0), "%zu of %zu late events not marked",
		  s.inversions_unmarked, s.inversions);
	snprintf(cmd, sizeof(cmd), "capinfos -o %s | grep -Eq '^Strict time order: +False$'", pcap);
	cr_expect(eq(int, system(cmd), 0), "capinfos -o %s: in order without the merge?", pcap);
	snprintf(cmd, sizeof(cmd),
		 "%s status --json --socket %s | jq -e '.reorder_window_us == 0 and "
		 ".events_out_of_order >= %zu' >/dev/null",
		 MESHMON_CLI_PATH, agent.sock_path, s.marked);
	cr_expect(eq(int, system(cmd), 0), "Status counts the %zu marked events", s.marked);
	cr_assert(eq(int, mm_test_agent_stop(&agent, 5000), 0));
}
