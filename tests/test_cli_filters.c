// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The filters of issue 12 end to end, each against a recorded mix with a
 * known answer. The real agent watches two veth pairs to one peer namespace
 * with a history, a deny rule and kernel drops on; the test makes a mix of
 * TCP (a whole connection, and SYN/RST to a closed port), UDP, ICMP echo
 * with id 9999 (the port it filters on), a denied UDP packet, a UDP packet to
 * a closed port of the agent's namespace (a kernel NO_SOCKET drop) and pings
 * over the second pair. It records the whole history once with
 * `meshmon monitor --last N --json --until END`, then runs `meshmon monitor`
 * with each filter (negated ones too, and --since/--until) and compares its
 * lines with the subset jq selects from the recording by the documented
 * semantics (the known answer). Every run must exit by itself, with 0, after
 * the history; with --follow it does not.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <arpa/inet.h>
#include <netinet/in.h>
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

/* The port the filters look for: a UDP port and, on purpose, an ICMP echo id. */
#define PORT 9999

/* The second pair: local end in the test's namespace, peer end in the pair's peer namespace. */
static char if2_local[IFNAMSIZ], if2_peer[IFNAMSIZ];

static void setup(void)
{
	const char *extra[] = {"--history", "4096", "--kernel-drops", "on", "--deny",
			       "proto=udp,dst=10.199.0.2/32,dport=7777,dir=egress", "--iface",
			       if2_local, NULL};

	cli_agent_prepare("cli-filters");
	snprintf(if2_local, sizeof(if2_local), "mmf%da", (int)getpid() % 10000000);
	snprintf(if2_peer, sizeof(if2_peer), "mmf%db", (int)getpid() % 10000000);
	/* Gone with the test's namespace and the pair's peer, even if the test fails. */
	cr_assert(eq(int, mm_test_sh("ip link add %s type veth peer name %s netns %d && "
				     "ip addr add 10.198.0.1/24 dev %s && ip link set %s up",
				     if2_local, if2_peer, (int)pair.peer_pid, if2_local, if2_local),
		     0));
	cr_assert(eq(int, mm_test_pair_sh(&pair, "ip addr add 10.198.0.2/24 dev %s && ip link set %s up",
					  if2_peer, if2_peer),
		     0));
	cr_assert(eq(int, mm_test_sh("for i in $(seq 50); do ip link show %s | grep -q LOWER_UP && exit 0; "
				     "sleep 0.1; done; exit 1", if2_local),
		     0));
	cli_agent_start_with(extra);
}

TestSuite(cli_filters, .init = setup, .fini = cli_agent_teardown, .timeout = 180);

static uint16_t csum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len % 2)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* Echo requests with identifier PORT to the peer, from a raw socket (its replies too). */
static void ping_with_id(int count)
{
	struct sockaddr_in to = {.sin_family = AF_INET};
	struct {
		uint8_t type, code;
		uint16_t sum, id, seq;
	} h;
	int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);

	cr_assert(fd >= 0, "raw ICMP socket");
	inet_pton(AF_INET, "10.199.0.2", &to.sin_addr);
	for (int i = 0; i < count; i++) {
		memset(&h, 0, sizeof(h));
		h.type = 8; /* echo request */
		h.id = htons(PORT);
		h.seq = htons((uint16_t)(i + 1));
		h.sum = csum(&h, sizeof(h));
		cr_assert(eq(long, (long)sendto(fd, &h, sizeof(h), 0, (struct sockaddr *)&to,
						sizeof(to)),
			     (long)sizeof(h)));
		usleep(50000);
	}
	close(fd);
}

static void traffic(void)
{
	/* A whole TCP connection (SYN, SYN-ACK, data, FIN) to a listener in the peer. */
	cr_assert(eq(int, mm_test_pair_sh(&pair, "timeout 20 nc -l 10.199.0.2 8080 >/dev/null 2>&1 &"),
		     0));
	/* Until the listener is up (a refused attempt is one more SYN and RST in the mix). */
	cr_assert(eq(int, mm_test_sh("for i in $(seq 50); do echo hello | nc -N -w2 10.199.0.2 8080 "
				     ">/dev/null 2>&1 && exit 0; sleep 0.1; done; exit 1"),
		     0));
	/* SYN and RST-ACK: a closed port, on each pair. */
	mm_test_sh("nc -z -w1 10.199.0.2 81 >/dev/null 2>&1; nc -z -w1 10.198.0.2 81 >/dev/null 2>&1");
	/* UDP to PORT (closed in the peer, whose drops the agent does not watch). */
	cr_assert(eq(int, mm_test_sh("echo x | nc -u -w0 10.199.0.2 %d", PORT), 0));
	/* Denied by the agent's rule: a POLICY_DENIED drop. */
	mm_test_sh("echo x | nc -u -w0 10.199.0.2 7777 >/dev/null 2>&1");
	/* From the peer to a closed port here: the kernel drops them (NO_SOCKET). */
	cr_assert(eq(int, mm_test_pair_sh(&pair, "for i in 1 2 3; do echo x | nc -u -w0 10.199.0.1 9; "
					  "sleep 0.1; done"),
		     0));
	ping_with_id(3);
	cr_assert(eq(int, mm_test_sh("ping -c 2 -i 0.2 -W 1 10.198.0.2 >/dev/null"), 0));
	usleep(500000); /* the agent drains its rings every 10 ms */
}

/* Runs `meshmon monitor ARGS --json` into path: its exit status (124: it did not end in time). */
static int monitor(const char *args, const char *path, int timeout_s)
{
	char cmd[2048];
	int st;

	snprintf(cmd, sizeof(cmd), "timeout %d %s monitor --json --socket %s %s >%s 2>>%s/cli.err",
		 timeout_s, MESHMON_CLI_PATH, agent.sock_path, args, path, agent.dir);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The output of a shell command, trimmed of its newline, into buf. */
static void capture(char *buf, size_t cap, const char *fmt, const char *arg)
{
	char cmd[1024];
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof(cmd), fmt, arg);
	p = popen(cmd, "r");
	cr_assert(p != NULL);
	n = fread(buf, 1, cap - 1, p);
	buf[n] = '\0';
	pclose(p);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
}

static long count_lines(const char *path)
{
	char out[64];

	capture(out, sizeof(out), "wc -l < %s", path);
	return strtol(out, NULL, 10);
}

static char all_path[256], until[64];
static long total;

struct filter_case {
	const char *flags;  /* meshmon monitor flags, %s: the second interface */
	const char *answer; /* jq condition on one recorded event, $if2 the second interface */
};

/*
 * One filter: its run ends by itself with 0, and prints exactly the recorded
 * events that the answer selects, in the same order; the answer is neither
 * empty nor everything, so the case can tell a filter from none.
 */
static void check(const struct filter_case *c, const char *extra)
{
	char flags[512], args[768], got[256], want[256], cmd[2048];
	long n_want;
	int rc;

	snprintf(flags, sizeof(flags), c->flags, if2_local);
	snprintf(args, sizeof(args), "--last 4096 %s %s", extra, flags);
	snprintf(got, sizeof(got), "%s/got.json", agent.dir);
	snprintf(want, sizeof(want), "%s/want.json", agent.dir);
	rc = monitor(args, got, 20);
	cr_expect(eq(int, rc, 0), "'%s' exit status %d (124: did not end after the history)", args,
		  rc);
	snprintf(cmd, sizeof(cmd), "jq -c --arg if2 %s 'select(%s)' %s > %s", if2_local, c->answer,
		 all_path, want);
	cr_assert(eq(int, system(cmd), 0), "jq: %s", c->answer);
	n_want = count_lines(want);
	cr_expect(gt(long, n_want, 0), "'%s': the known answer is empty", flags);
	cr_expect(lt(long, n_want, total), "'%s': the known answer is every event", flags);
	snprintf(cmd, sizeof(cmd), "jq -c . %s | cmp -s - %s", got, want);
	cr_expect(eq(int, system(cmd), 0), "'%s': %ld lines, want the %ld that '%s' selects", flags,
		  count_lines(got), n_want, c->answer);
}

#define TCP_HAS(f) "(.type == \"trace\" and .tuple.proto == \"tcp\" and (.tcp_flags | index([\"" f "\"])) != null)"
#define PORTED "(.tuple.proto == \"tcp\" or .tuple.proto == \"udp\" or .tuple.proto == \"sctp\")"

static const struct filter_case cases[] = {
	{"--drop-reason NO_SOCKET", ".type == \"drop\" and .reason == \"NO_SOCKET\""},
	{"--drop-reason policy_denied", ".type == \"drop\" and .reason == \"POLICY_DENIED\""},
	{"--drop-reason POLICY_DENIED,NO_SOCKET",
	 ".type == \"drop\" and (.reason == \"POLICY_DENIED\" or .reason == \"NO_SOCKET\")"},
	{"--not --drop-reason NO_SOCKET", "(.type == \"drop\" and .reason == \"NO_SOCKET\") | not"},
	{"--tcp-flags SYN", TCP_HAS("SYN")},
	{"--tcp-flags syn,ack --tcp-flags RST", "(" TCP_HAS("SYN") " and " TCP_HAS("ACK") ") or " TCP_HAS("RST")},
	{"--tcp-flags FIN,ACK", TCP_HAS("FIN") " and " TCP_HAS("ACK")},
	{"--not --tcp-flags ACK", TCP_HAS("ACK") " | not"},
	{"--interface %s", ".ifname == $if2"},
	{"--not --interface %s", ".ifname != $if2"},
	{"--proto icmp --not --interface %s", ".tuple.proto == \"icmp\" and .ifname != $if2"},
	{"--port 9999", PORTED " and (.tuple.sport == 9999 or .tuple.dport == 9999)"},
	{"--not --port 9999", "(" PORTED " and (.tuple.sport == 9999 or .tuple.dport == 9999)) | not"},
	{"--related-to :9999", PORTED " and (.tuple.sport == 9999 or .tuple.dport == 9999)"},
	{"--proto icmp", ".tuple.proto == \"icmp\""},
	{"--not --proto icmp --not --interface %s",
	 "(.tuple.proto == \"icmp\" and .ifname == $if2) | not"},
	{"-t drop --not --drop-reason POLICY_DENIED",
	 ".type == \"drop\" and .reason != \"POLICY_DENIED\""},
};

/* The kinds of event the cases are about, as jq conditions on one event. */
static const struct {
	const char *what, *cond;
} kinds[] = {
	{"the kernel's NO_SOCKET drop of UDP to port 9",
	 ".type == \"drop\" and .reason == \"NO_SOCKET\" and .tuple.dport == 9"},
	{"the denied UDP packet", ".type == \"drop\" and .reason == \"POLICY_DENIED\" and .tuple.dport == 7777"},
	{"an ICMP echo with id 9999", ".tuple.proto == \"icmp\" and .tuple.sport == 9999"},
	{"UDP to port 9999", ".tuple.proto == \"udp\" and .tuple.dport == 9999"},
	{"a SYN", ".tcp_flags == [\"SYN\"]"},
	{"a SYN-ACK", ".tcp_flags == [\"SYN\", \"ACK\"]"},
	{"a FIN", "(.tcp_flags // []) | index([\"FIN\"]) != null"},
	{"a RST", "(.tcp_flags // []) | index([\"RST\"]) != null"},
	{"an event on the second pair", ".ifname == $if2"},
};

/*
 * The wall clock ms ago, as RFC 3339: the end of the recording, far enough
 * back that every event before it has been drained from the rings (every
 * 10 ms) into the history.
 */
static void rfc3339_ago(char *buf, size_t cap, unsigned int ms)
{
	struct timespec now;
	uint64_t ns;
	time_t sec;
	struct tm tm;
	char day[32];

	clock_gettime(CLOCK_REALTIME, &now);
	ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec - ms * 1000000ull;
	sec = (time_t)(ns / 1000000000ull);
	gmtime_r(&sec, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, cap, "%s.%09luZ", day, (unsigned long)(ns % 1000000000ull));
}

/* The first kind the recording lacks, or NULL. */
static const char *mix_missing(void)
{
	char cmd[1024];

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		snprintf(cmd, sizeof(cmd), "jq -e -s --arg if2 %s 'any(.[]; %s)' %s >/dev/null",
			 if2_local, kinds[i].cond, all_path);
		if (system(cmd) != 0)
			return kinds[i].what;
	}
	return NULL;
}

Test(cli_filters, each_filter_against_a_recorded_mix)
{
	const char *missing = NULL;
	char t_mid[64], t_last[64], args[512], path[256], cmd[1400];
	struct filter_case window;
	int rc;

	traffic();
	/*
	 * The recording, once it holds every kind of event the cases are about
	 * (the agent may still be draining them, slowly under ASan). Its end
	 * bounds every run below: events after it (IPv6 noise, ...) change no
	 * answer.
	 */
	snprintf(all_path, sizeof(all_path), "%s/all.json", agent.dir);
	for (int attempt = 0; attempt < 20; attempt++) {
		if (attempt)
			usleep(500000);
		rfc3339_ago(until, sizeof(until), 300);
		snprintf(args, sizeof(args), "--last 4096 --until %s", until);
		rc = monitor(args, all_path, 20);
		cr_assert(eq(int, rc, 0), "the recording exits by itself after the history: %d", rc);
		missing = mix_missing();
		if (!missing)
			break;
	}
	cr_assert(missing == NULL, "the mix lacks %s: see %s", missing, all_path);
	total = count_lines(all_path);
	cr_log_info("recorded %ld events in %s", total, all_path);

	snprintf(args, sizeof(args), "--until %s", until);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(&cases[i], args);

	/* --since and --until from the recorded times: the events between, both ends included. */
	/*
	 * A third and two thirds into the recorded times, sorted: the stream need
	 * not be in time order (the per-CPU rings), and the window selects by
	 * time whatever the order; the answer keeps the recording's order.
	 */
	capture(t_mid, sizeof(t_mid), "jq -r -s 'map(.time) | sort | .[length / 3 | floor]' %s",
		all_path);
	capture(t_last, sizeof(t_last),
		"jq -r -s 'map(.time) | sort | .[length * 2 / 3 | floor]' %s", all_path);
	cr_assert(lt(int, strcmp(t_mid, t_last), 0), "%s %s", t_mid, t_last);
	snprintf(args, sizeof(args), "--since %s --until %s", t_mid, t_last);
	window.flags = "";
	snprintf(cmd, sizeof(cmd), ".time >= \"%s\" and .time <= \"%s\"", t_mid, t_last);
	window.answer = cmd;
	check(&window, args);
	/* --since alone (no --last) also ends after the history. */
	snprintf(path, sizeof(path), "%s/since.json", agent.dir);
	snprintf(args, sizeof(args), "--since %s --until %s", t_mid, until);
	cr_expect(eq(int, monitor(args, path, 20), 0));
	cr_expect(eq(int, mm_test_sh("jq -c 'select(.time >= \"%s\")' %s > %s.want && "
				     "jq -c . %s | cmp -s - %s.want",
				     t_mid, all_path, path, path, path),
		     0),
		  "--since %s: see %s", t_mid, path);
	/* With --follow the run does not end after the history. */
	snprintf(path, sizeof(path), "%s/follow.json", agent.dir);
	cr_expect(eq(int, monitor("--last 1 --follow", path, 3), 124),
		  "--follow keeps following after the history");
	cr_expect(ge(long, count_lines(path), 1), "the one event replayed, then live ones");
}
