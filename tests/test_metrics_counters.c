// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The agent's point and drop counters after real traffic, through /metrics
 * and `meshmon status --json`: the real agent (--kernel-drops on, a deny
 * rule, --metrics) on a veth pair in a private netns (cli_agent.h), traced
 * UDP datagrams to a socket of the peer, and from the peer UDP datagrams to a
 * closed port (kernel NO_SOCKET drops, each answered by an ICMP port
 * unreachable) and to a denied port (tc POLICY_DENIED drops). No ping: the
 * kernel also hands an echo reply to ping_rcv, which drops it (NO_SOCKET)
 * when ping uses a raw socket.
 * - the exposition passes `promtool check metrics` (Debian's prometheus
 *   package): no error, no lint warning;
 * - from-network / to-network packets and bytes equal the local veth's own
 *   rx / tx counters (`ip -s link`) over the same span; the kernel drops equal
 *   the datagrams sent to the closed port, the tc drops the denied ones, with
 *   their frame bytes; the merged kernel drop of a denied packet is no kernel
 *   drop; only non-zero drop series appear;
 * - Status.points and Status.drops carry the same numbers.
 * And without a kernel: the list the agent builds from the datapath's sums
 * (counters.h), rendered, names the overflow slot and unnamed reasons, lists
 * no zero count, and passes promtool too.
 * IPv6 is off on the pair and the neighbours are static, so nothing but the
 * test's own packets crosses the veth.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "cli_agent.h"
#include "counters.h"
#include "kernel_drop_reasons.h"
#include "metrics.h"

#ifndef MESHMON_CLI_PATH
#error "MESHMON_CLI_PATH must name the built meshmon"
#endif

#define METRICS	   "127.0.0.1:19103"
#define N_CLOSED   4
#define N_DENIED   3
#define N_OUT	   5
#define PAYLOAD	   "counted"
#define UDP_FRAME  (14 + 20 + 8 + 7) /* Ethernet, IPv4, UDP, PAYLOAD */

static void setup(void)
{
	cli_agent_prepare("metrics-counters");
}

TestSuite(metrics_counters, .init = setup, .fini = cli_agent_teardown, .timeout = 120);

struct sample {
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes; /* the local veth's own counters */
	uint64_t in_packets, in_bytes, out_packets, out_bytes; /* meshmon_observed_* */
};

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	cr_assert(f != NULL, "%s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	cr_assert(buf != NULL);
	cr_assert(eq(sz, fread(buf, 1, (size_t)n, f), (size_t)n));
	fclose(f);
	return buf;
}

/* GET /metrics into <agent dir>/metrics.txt; its text (free it). */
static char *scrape(void)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/metrics.txt", agent.dir);
	cr_assert(eq(int, mm_test_sh("curl -sf http://" METRICS "/metrics > %s", path), 0));
	return read_all(path);
}

/* The value of the sample "series value" in text (the whole line must match), 0 if absent. */
static uint64_t value_of(const char *text, const char *series)
{
	size_t len = strlen(series);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, series, len) && p[len] == ' ')
			return strtoull(p + len + 1, NULL, 10);
	return 0;
}

static void take(struct sample *s)
{
	char cmd[256];
	char *text;
	FILE *p;

	snprintf(cmd, sizeof(cmd),
		 "ip -j -s link show dev %s | jq -r '.[0].stats64 | \"\\(.rx.packets) "
		 "\\(.rx.bytes) \\(.tx.packets) \\(.tx.bytes)\"'",
		 pair.local_if);
	p = popen(cmd, "r");
	cr_assert(p != NULL);
	cr_assert(eq(int,
		     fscanf(p, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64, &s->rx_packets,
			    &s->rx_bytes, &s->tx_packets, &s->tx_bytes),
		     4));
	pclose(p);
	text = scrape();
	s->in_packets = value_of(text, "meshmon_observed_packets_total{point=\"from-network\"}");
	s->in_bytes = value_of(text, "meshmon_observed_bytes_total{point=\"from-network\"}");
	s->out_packets = value_of(text, "meshmon_observed_packets_total{point=\"to-network\"}");
	s->out_bytes = value_of(text, "meshmon_observed_bytes_total{point=\"to-network\"}");
	free(text);
}

/* The interface and meshmon count the same packets since base (they lag each other a little). */
static int agree(const struct sample *base, const struct sample *s)
{
	return s->rx_packets - base->rx_packets == s->in_packets - base->in_packets &&
	       s->rx_bytes - base->rx_bytes == s->in_bytes - base->in_bytes &&
	       s->tx_packets - base->tx_packets == s->out_packets - base->out_packets &&
	       s->tx_bytes - base->tx_bytes == s->out_bytes - base->out_bytes;
}

static void send_from_peer(int port, int n)
{
	struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = mm_test_pair_socket(&pair, AF_INET, SOCK_DGRAM);

	cr_assert(ge(int, fd, 0));
	inet_pton(AF_INET, "10.199.0.1", &dst.sin_addr);
	for (int i = 0; i < n; i++)
		cr_assert(eq(long,
			     sendto(fd, PAYLOAD, strlen(PAYLOAD), 0, (struct sockaddr *)&dst,
				    sizeof(dst)),
			     (long)strlen(PAYLOAD)));
	close(fd);
}

/* UDP datagrams from here to a socket of the peer's: traced, not dropped. */
static void send_to_peer(int n)
{
	struct sockaddr_in any = {.sin_family = AF_INET}, dst;
	socklen_t len = sizeof(dst);
	int rfd = mm_test_pair_socket(&pair, AF_INET, SOCK_DGRAM);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	char buf[64];

	cr_assert(ge(int, rfd, 0));
	cr_assert(ge(int, fd, 0));
	inet_pton(AF_INET, "10.199.0.2", &any.sin_addr);
	cr_assert(eq(int, bind(rfd, (struct sockaddr *)&any, sizeof(any)), 0));
	cr_assert(eq(int, getsockname(rfd, (struct sockaddr *)&dst, &len), 0));
	for (int i = 0; i < n; i++) {
		cr_assert(eq(long,
			     sendto(fd, PAYLOAD, strlen(PAYLOAD), 0, (struct sockaddr *)&dst,
				    sizeof(dst)),
			     (long)strlen(PAYLOAD)));
		cr_assert(eq(long, recv(rfd, buf, sizeof(buf), 0), (long)strlen(PAYLOAD)),
			  "the peer got datagram %d", i);
	}
	close(fd);
	close(rfd);
}

Test(metrics_counters, points_and_drops_equal_the_interface_and_the_traffic)
{
	const char *extra[] = {"--kernel-drops", "on", "--deny", "proto=udp,dport=9999,dir=ingress",
			       "--metrics", METRICS, NULL};
	char path[160], status[160], series[160];
	struct sample base, prev, s;
	int no_socket = mm_kernel_drop_reason_value("NO_SOCKET");
	char *text;
	int i;

	cr_assert(gt(int, no_socket, 1));
	cr_assert(eq(int, mm_test_pair_quiet(&pair), 0), "only the test's packets on the pair");
	cli_agent_start_with(extra);

	/* The baseline: two samples in a row alike (nothing in flight). */
	take(&prev);
	for (i = 0; i < 100; i++) {
		usleep(100000);
		take(&base);
		if (!memcmp(&base, &prev, sizeof(base)))
			break;
		prev = base;
	}
	cr_assert(lt(int, i, 100), "the pair never went quiet");

	send_to_peer(N_OUT);
	send_from_peer(7777, N_CLOSED); /* nothing listens: the kernel drops them */
	send_from_peer(9999, N_DENIED); /* the deny rule drops them at tc ingress */

	/* Both sides have counted every packet (each may lag the other a little). */
	for (i = 0; i < 100; i++) {
		take(&s);
		if (agree(&base, &s) && s.rx_packets - base.rx_packets >= N_CLOSED + N_DENIED &&
		    s.tx_packets - base.tx_packets >= N_OUT + 1)
			break;
		usleep(100000);
	}
	cr_expect(eq(u64, s.in_packets - base.in_packets, s.rx_packets - base.rx_packets),
		  "from-network packets = the veth's rx_packets");
	cr_expect(eq(u64, s.in_bytes - base.in_bytes, s.rx_bytes - base.rx_bytes));
	cr_expect(eq(u64, s.out_packets - base.out_packets, s.tx_packets - base.tx_packets),
		  "to-network packets = the veth's tx_packets");
	cr_expect(eq(u64, s.out_bytes - base.out_bytes, s.tx_bytes - base.tx_bytes));
	cr_expect(eq(u64, s.rx_packets - base.rx_packets, N_CLOSED + N_DENIED),
		  "the datagrams from the peer, nothing else");
	cr_expect(ge(u64, s.tx_packets - base.tx_packets, N_OUT + 1),
		  "the datagrams to the peer and at least one port unreachable");

	text = scrape();
	snprintf(path, sizeof(path), "%s/metrics.txt", agent.dir);
	cr_expect(eq(int, mm_test_sh("promtool check metrics < %s > %s/promtool.out 2>&1", path,
				     agent.dir),
		     0),
		  "promtool: see %s/promtool.out", agent.dir);
	cr_expect(eq(int, mm_test_sh("test ! -s %s/promtool.out", agent.dir), 0),
		  "promtool printed warnings: see %s/promtool.out", agent.dir);

	snprintf(series, sizeof(series), "meshmon_drops_total{source=\"kernel\",reason=\"%s\"}",
		 mm_kernel_drop_reason_name(no_socket));
	cr_expect(eq(u64, value_of(text, series), N_CLOSED), "one kernel drop per datagram");
	snprintf(series, sizeof(series),
		 "meshmon_dropped_bytes_total{source=\"kernel\",reason=\"NO_SOCKET\"}");
	cr_expect(eq(u64, value_of(text, series), N_CLOSED * UDP_FRAME));
	cr_expect(eq(u64, value_of(text, "meshmon_drops_total{source=\"tc\",reason=\"POLICY_DENIED\"}"),
		     N_DENIED));
	cr_expect(eq(u64,
		     value_of(text,
			      "meshmon_dropped_bytes_total{source=\"tc\",reason=\"POLICY_DENIED\"}"),
		     N_DENIED * UDP_FRAME));
	cr_expect(eq(u64,
		     value_of(text, "meshmon_drops_total{source=\"kernel\",reason=\"TC_INGRESS\"}"),
		     0),
		  "the kernel's free of a denied packet is the tc drop, not another");
	cr_expect(eq(u64, value_of(text, "meshmon_kernel_drops_merged_total"), N_DENIED));
	/* The series of before stay: the tc view by direction. */
	cr_expect(eq(u64,
		     value_of(text, "meshmon_traffic_packets_total{direction=\"ingress\",reason="
				    "\"POLICY_DENIED\"}"),
		     N_DENIED));
	/* Only reasons that counted something, at most the kernel's reasons (and the overflow). */
	cr_expect(eq(int, mm_test_sh("grep '^meshmon_drops_total{' %s | awk '$2 == 0 {bad=1} END "
				     "{exit bad}'",
				     path),
		     0),
		  "a drop series with a zero count: see %s", path);

	/* Status: the same numbers. */
	snprintf(status, sizeof(status), "%s/status.json", agent.dir);
	cr_assert(eq(int, mm_test_sh("timeout 10 %s status --json --socket %s > %s",
				     MESHMON_CLI_PATH, agent.sock_path, status),
		     0));
	cr_expect(eq(int, mm_test_sh("jq -e '[.points[] | select(.point == \"from-network\")][0] "
				     "| .packets == %" PRIu64 " and .bytes == %" PRIu64 "' %s >/dev/null",
				     s.in_packets, s.in_bytes, status),
		     0),
		  "Status from-network: see %s", status);
	cr_expect(eq(int, mm_test_sh("jq -e '[.points[] | select(.point == \"to-network\")][0] "
				     "| .packets == %" PRIu64 " and .bytes == %" PRIu64 "' %s >/dev/null",
				     s.out_packets, s.out_bytes, status),
		     0),
		  "Status to-network: see %s", status);
	cr_expect(eq(int, mm_test_sh("jq -e '[.drops[] | select(.source == \"kernel\" and .reason "
				     "== \"NO_SOCKET\")][0] | .packets == %d and .bytes == %d and "
				     ".reason_code == %d' %s >/dev/null",
				     N_CLOSED, N_CLOSED * UDP_FRAME, no_socket, status),
		     0),
		  "Status kernel drops: see %s", status);
	cr_expect(eq(int, mm_test_sh("jq -e '[.drops[] | select(.source == \"tc\")] | length == 1 "
				     "and .[0].reason == \"POLICY_DENIED\" and .[0].packets == %d and "
				     ".[0].bytes == %d' %s >/dev/null",
				     N_DENIED, N_DENIED * UDP_FRAME, status),
		     0),
		  "Status tc drops: see %s", status);
	cr_expect(eq(int, mm_test_sh("jq -e '.drops | all(.packets > 0)' %s >/dev/null", status), 0));
	free(text);
}

static const char *no_names(unsigned int reason)
{
	(void)reason;
	return NULL;
}

Test(metrics_counters, overflow_and_unnamed_reasons_render_within_conventions)
{
	static struct mm_traffic_counter traffic[MM_TRAFFIC_SLOTS], kernel[MM_KDROP_COUNT_SLOTS];
	static struct mm_metrics_snapshot snap;
	char path[] = "/tmp/mm-metrics-render-XXXXXX", *text;
	size_t len;
	FILE *f;
	int fd;

	traffic[MM_TRAFFIC_INDEX(MM_POINT_FROM_NETWORK, 0)] = (struct mm_traffic_counter){10, 1000};
	traffic[MM_TRAFFIC_INDEX(MM_POINT_FROM_NETWORK, MM_DROP_POLICY_DENIED)] =
	    (struct mm_traffic_counter){2, 120};
	traffic[MM_TRAFFIC_INDEX(MM_POINT_TO_NETWORK, MM_DROP_POLICY_DENIED)] =
	    (struct mm_traffic_counter){1, 60};
	traffic[MM_TRAFFIC_INDEX(MM_POINT_FROM_SOCKET, 0)] = (struct mm_traffic_counter){4, 400};
	kernel[200] = (struct mm_traffic_counter){3, 150};
	kernel[MM_KDROP_OVERFLOW_SLOT] = (struct mm_traffic_counter){5, 250};
	mm_counters__collect(&snap.counters, traffic, kernel, no_names);
	cr_assert(eq(sz, snap.counters.n_points, 3), "from-network, to-network, from-socket");
	cr_expect(eq(u64, snap.counters.points[0].packets, 12), "dropped ones included");
	cr_expect(eq(u64, snap.counters.points[1].packets, 1));
	cr_expect(eq(u32, snap.counters.points[2].point, MM_POINT_FROM_SOCKET));
	cr_assert(eq(sz, snap.counters.n_drops, 3), "only non-zero reasons");
	cr_expect(eq(u64, snap.counters.drops[0].packets, 3), "tc drops of both points");
	cr_expect(eq(u64, snap.counters.drops[0].bytes, 180));
	cr_expect(eq(str, snap.counters.drops[1].reason, "200"), "no name: the value");
	cr_expect(eq(u32, snap.counters.drops[2].reason_code, MM_KDROP_OVERFLOW_CODE));
	cr_expect(eq(str, snap.counters.drops[2].reason, "overflow"));

	len = mm_metrics__render(&snap, NULL, 0) + 1;
	text = malloc(len);
	cr_assert(text != NULL);
	mm_metrics__render(&snap, text, len);
	cr_expect(strstr(text, "meshmon_drops_total{source=\"kernel\",reason=\"overflow\"} 5\n") !=
		  NULL);
	cr_expect(strstr(text, "meshmon_dropped_bytes_total{source=\"kernel\",reason=\"200\"} 150\n") !=
		  NULL);
	cr_expect(strstr(text, "meshmon_observed_packets_total{point=\"from-socket\"} 4\n") != NULL);
	fd = mkstemp(path);
	cr_assert(ge(int, fd, 0));
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	cr_expect(eq(int, mm_test_sh("out=$(promtool check metrics < %s 2>&1) && test -z \"$out\"",
				     path),
		     0),
		  "promtool on the rendered text");
	unlink(path);
	free(text);
}
