// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A fleet of two in a real Prometheus (Debian's prometheus package): two
 * simulated nodes, each a private network namespace with its own agent
 * (--node-name node-a / node-b) on its own veth pair to a peer namespace
 * (tests/harness), scraped by a Prometheus the test starts in a third
 * namespace, the test's own, with a generated config (scrape every second,
 * the target label node set per target in static_configs, as docs/fleet.md
 * shows) and a private TSDB directory.
 *
 * Each agent serves /metrics on its node's management veth (10.198.N.2:9100,
 * a second pair between the node's namespace and the test's, not monitored),
 * so scrapes add nothing to what the agents count. Known traffic on each
 * node's monitored veth, from its peer: SYNs to a port a --deny rule drops at
 * tc ingress (one per connect, the socket closed before any retransmission)
 * and pings (a request in, a reply out); the pairs are quiet otherwise
 * (mm_test_pair_quiet). Through Prometheus's HTTP query API (/api/v1/query):
 * - up{node="node-a"} and up{node="node-b"} are 1;
 * - sum by (reason) (meshmon_drops_total) equals the sum over both agents of
 *   what each reports itself (Status.drops), and the denied SYNs sent;
 * - sum by (node) (meshmon_observed_packets_total), by the target label,
 *   equals each agent's own Status.points, and the packets sent;
 * - meshmon_node_info carries each agent's own name beside the target label,
 *   and the join docs/fleet.md shows (group_left on instance) sums the drops
 *   by the reported name as the target label does;
 * - meshmon_build_info names the version the agents report in Status, and
 *   counting by version finds both agents.
 * Values are compared as the exact strings Prometheus returns.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "harness.h"
#include "harness_agent.h"

#ifndef MESHMON_AGENT_PATH
#error "MESHMON_AGENT_PATH must name the built meshmon-agent"
#endif
#ifndef MESHMON_CLI_PATH
#error "MESHMON_CLI_PATH must name the built meshmon"
#endif

#define PROMETHEUS   "/usr/bin/prometheus"
#define PROM_ADDR    "127.0.0.1:19090" /* the test's own namespace: no other listener */
#define METRICS_PORT "9100"
#define DENIED_PORT  9999
#define N_NODES	     2
#define WAIT_MS	     30000

struct node {
	const char *name;
	int syns, pings; /* the known traffic */
	char mgmt_if[IFNAMSIZ];	     /* the management veth's end in the test's namespace */
	char mgmt_node_if[IFNAMSIZ]; /* its end in the node's namespace */
	char metrics[32];	     /* 10.198.N.2:9100 */
	struct mm_test_pair pair;    /* the monitored veth: local end in the node's namespace */
	struct mm_test_agent agent;
	char status_path[160]; /* the agent's `meshmon status --json` */
};

static struct node nodes[N_NODES] = {
    {.name = "node-a", .syns = 3, .pings = 2},
    {.name = "node-b", .syns = 5, .pings = 4},
};
static struct mm_test_agent prom; /* Prometheus, through the harness's child process helper */
static int test_netns_fd = -1;

static void teardown(void)
{
	for (int i = 0; i < N_NODES; i++) {
		mm_test_agent_stop(&nodes[i].agent, 5000);
		mm_test_pair_destroy(&nodes[i].pair);
		mm_test_agent_cleanup(&nodes[i].agent);
	}
	mm_test_agent_cleanup(&prom); /* SIGKILL, and its TSDB goes with the directory */
	if (test_netns_fd >= 0)
		close(test_netns_fd);
}

TestSuite(metrics_fleet, .fini = teardown, .timeout = 120);

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The whole output of a shell command (free it), or NULL when it failed. */
static char *sh_output(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *sh_output(const char *fmt, ...)
{
	char *cmd = NULL, *buf = NULL;
	size_t len = 0;
	FILE *p, *mem;
	va_list ap;
	int c;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		cmd = NULL;
	va_end(ap);
	cr_assert(cmd != NULL);
	fflush(NULL);
	p = popen(cmd, "r");
	cr_assert(p != NULL, "%s", cmd);
	mem = open_memstream(&buf, &len);
	cr_assert(mem != NULL);
	while ((c = fgetc(p)) != EOF)
		fputc(c, mem);
	fclose(mem);
	free(cmd);
	if (pclose(p) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Without the newline jq -r ends its output with. */
static void chomp(char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n && s[n - 1] == '\n')
		s[n - 1] = '\0';
}

/*
 * A node: its own namespace (entered by this thread only while the node is
 * built, so the agent and the pair's local end are born there), its
 * monitored pair, the management veth to the test's namespace and the agent
 * with a deny rule for DENIED_PORT and its metrics on the management address.
 */
static void start_node(struct node *n, int index)
{
	char deny[64], mgmt_addr[24];
	const char *argv[] = {"meshmon-agent",
			      "--iface",
			      n->pair.local_if,
			      "--socket",
			      n->agent.sock_path,
			      "--cgroup",
			      "none",
			      "--history",
			      "0",
			      "--node-name",
			      n->name,
			      "--deny",
			      deny,
			      "--metrics",
			      n->metrics,
			      NULL};
	pid_t self = getpid();

	snprintf(deny, sizeof(deny), "proto=tcp,dport=%d,dir=ingress", DENIED_PORT);
	snprintf(mgmt_addr, sizeof(mgmt_addr), "10.198.%d.2", index + 1);
	snprintf(n->metrics, sizeof(n->metrics), "%s:" METRICS_PORT, mgmt_addr);
	snprintf(n->mgmt_if, sizeof(n->mgmt_if), "mmf%dm%d", (int)self % 1000000, index);
	snprintf(n->mgmt_node_if, sizeof(n->mgmt_node_if), "mmf%dn%d", (int)self % 1000000, index);
	cr_assert(
	    eq(int, mm_test_agent_init(&n->agent, MESHMON_AGENT_PATH, n->name, "monitor.sock"), 0));
	snprintf(n->status_path, sizeof(n->status_path), "%s/status.json", n->agent.dir);

	cr_assert(eq(int, mm_test_private_netns(), 0), "the namespace of %s", n->name);
	cr_assert(eq(int, mm_test_pair_create(&n->pair), 0), "the monitored pair of %s", n->name);
	cr_assert(eq(int, mm_test_pair_quiet(&n->pair), 0));
	/* The management veth: one end here, the other moved to the test's namespace. */
	cr_assert(eq(int,
		     mm_test_sh("ip link add %s type veth peer name %s netns /proc/%d/fd/%d && "
				"ip addr add %s/24 dev %s && ip link set %s up",
				n->mgmt_node_if, n->mgmt_if, (int)self, test_netns_fd, mgmt_addr,
				n->mgmt_node_if, n->mgmt_node_if),
		     0));
	cr_assert(eq(int, mm_test_agent_spawn(&n->agent, argv), 0));
	cr_assert(eq(int, setns(test_netns_fd, CLONE_NEWNET), 0), "back to the test's namespace");
	cr_assert(eq(int,
		     mm_test_sh("ip addr add 10.198.%d.1/24 dev %s && ip link set %s up", index + 1,
				n->mgmt_if, n->mgmt_if),
		     0));
}

/* Prometheus on PROM_ADDR scraping both nodes every second, the node label per target. */
static void start_prometheus(void)
{
	char config[160], tsdb[160], config_arg[200], tsdb_arg[200];
	const char *argv[] = {"prometheus", config_arg, tsdb_arg, "--web.listen-address=" PROM_ADDR,
			      NULL};
	FILE *f;

	cr_assert(eq(int, mm_test_agent_init(&prom, PROMETHEUS, "prom", "unused"), 0));
	snprintf(config, sizeof(config), "%s/prometheus.yml", prom.dir);
	snprintf(tsdb, sizeof(tsdb), "%s/tsdb", prom.dir);
	snprintf(config_arg, sizeof(config_arg), "--config.file=%s", config);
	snprintf(tsdb_arg, sizeof(tsdb_arg), "--storage.tsdb.path=%s", tsdb);
	f = fopen(config, "w");
	cr_assert(f != NULL);
	fprintf(f, "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
		   "scrape_configs:\n  - job_name: meshmon\n    static_configs:\n");
	for (int i = 0; i < N_NODES; i++)
		fprintf(f, "      - targets: ['%s']\n        labels:\n          node: %s\n",
			nodes[i].metrics, nodes[i].name);
	cr_assert(eq(int, fclose(f), 0));
	cr_assert(eq(int, mm_test_agent_spawn(&prom, argv), 0));
}

/* Waits for the agent's socket and its metrics endpoint, seen from the test's namespace. */
static void wait_node(struct node *n)
{
	int64_t end = now_ms() + WAIT_MS;

	cr_assert(eq(int, mm_test_agent_wait_ready(&n->agent, WAIT_MS, NULL), 0),
		  "%s did not start; see %s", n->name, n->agent.log_path);
	while (mm_test_sh("curl -sf -o /dev/null http://%s/healthz", n->metrics) != 0) {
		cr_assert(lt(i64, now_ms(), end), "%s's /healthz not reachable", n->name);
		usleep(50000);
	}
}

/* syns SYNs from the peer to the denied port: one per socket, closed before any retransmission. */
static void send_denied_syns(const struct node *n)
{
	struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(DENIED_PORT)};

	inet_pton(AF_INET, "10.199.0.1", &dst.sin_addr);
	for (int i = 0; i < n->syns; i++) {
		int fd = mm_test_pair_socket(&n->pair, AF_INET, SOCK_STREAM);

		cr_assert(ge(int, fd, 0));
		cr_assert(eq(int, fcntl(fd, F_SETFL, O_NONBLOCK), 0));
		/* The SYN leaves within connect(); closing in SYN-SENT sends nothing more. */
		cr_assert(eq(int, connect(fd, (struct sockaddr *)&dst, sizeof(dst)), -1));
		cr_assert(eq(int, errno, EINPROGRESS));
		close(fd);
	}
}

/* The agent's own Status, now, into its status_path. */
static void take_status(const struct node *n)
{
	cr_assert(eq(int,
		     mm_test_sh("timeout 10 %s status --json --socket %s > %s", MESHMON_CLI_PATH,
				n->agent.sock_path, n->status_path),
		     0));
}

/* The number jq's filter prints from the agent's Status, taken now. */
static uint64_t status_number(const struct node *n, const char *filter)
{
	char *out;
	uint64_t v;

	take_status(n);
	out = sh_output("jq -e -r '%s' %s", filter, n->status_path);
	cr_assert(out != NULL, "jq '%s' on %s", filter, n->status_path);
	v = strtoull(out, NULL, 10);
	free(out);
	return v;
}

#define TC_DENIED                                                                                  \
	"[.drops[] | select(.source == \"tc\" and .reason == \"POLICY_DENIED\")][0].packets"
#define POINT(p) "[.points[] | select(.point == \"" p "\")][0].packets"

/* The agent counted its node's traffic: every SYN dropped, every ping in and out. */
static void wait_counted(const struct node *n)
{
	int64_t end = now_ms() + WAIT_MS;

	while (status_number(n, TC_DENIED " // 0") != (uint64_t)n->syns ||
	       status_number(n, POINT("from-network") " // 0") != (uint64_t)(n->syns + n->pings) ||
	       status_number(n, POINT("to-network") " // 0") != (uint64_t)n->pings) {
		cr_assert(lt(i64, now_ms(), end),
			  "%s did not count its traffic; its last Status: %s", n->name,
			  n->status_path);
		usleep(100000);
	}
}

/*
 * An instant query's answer as sorted lines, each what jq's labels filter
 * makes of the series' labels and the value as Prometheus wrote it. Polled
 * until it is want (Prometheus scrapes once a second) or the deadline: the
 * last answer is what is checked.
 */
#define SCRAPES_MS 10000 /* enough for a few scrapes once Prometheus is up */
static void expect_query(const char *promql, const char *labels, const char *want, int wait_ms)
{
	int64_t end = now_ms() + wait_ms;
	char *got = NULL;

	for (;;) {
		free(got);
		got = sh_output("curl -sf http://" PROM_ADDR "/api/v1/query "
				"--data-urlencode 'query=%s' | jq -e -r 'select(.status == "
				"\"success\") | .data.result | map(\"\\(.metric | %s) "
				"\\(.value[1])\") | sort | join(\"\\n\")'",
				promql, labels);
		chomp(got);
		if ((got && !strcmp(got, want)) || now_ms() >= end)
			break;
		usleep(200000);
	}
	cr_expect(got != NULL, "%s: no answer from Prometheus (see %s)", promql, prom.log_path);
	if (got)
		cr_expect(eq(str, got, (char *)want), "%s", promql);
	free(got);
}

Test(metrics_fleet, fleet_queries_equal_what_each_agent_reports)
{
	char want[512], *version;
	uint64_t denied = 0, observed[N_NODES];
	int len = 0;

	cr_assert(eq(int, mm_test_private_netns(), 0), "the test's (Prometheus's) namespace");
	test_netns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	cr_assert(ge(int, test_netns_fd, 0));
	for (int i = 0; i < N_NODES; i++)
		start_node(&nodes[i], i);
	start_prometheus(); /* it starts while the agents and the traffic go */
	for (int i = 0; i < N_NODES; i++) {
		wait_node(&nodes[i]);
		send_denied_syns(&nodes[i]);
		cr_assert(eq(int,
			     mm_test_pair_sh(&nodes[i].pair,
					     "ping -q -n -c %d -i 0.05 -W 5 10.199.0.1 "
					     ">/dev/null",
					     nodes[i].pings),
			     0),
			  "every ping of %s answered", nodes[i].name);
	}
	/* What each agent reports itself, once it has counted its traffic. */
	for (int i = 0; i < N_NODES; i++) {
		wait_counted(&nodes[i]);
		denied += status_number(&nodes[i], TC_DENIED);
		observed[i] = status_number(&nodes[i], "[.points[].packets] | add");
		cr_expect(eq(u64, status_number(&nodes[i], "[.drops[].packets] | add"),
			     (uint64_t)nodes[i].syns),
			  "%s dropped the denied SYNs and nothing else", nodes[i].name);
		cr_expect(eq(u64, observed[i], (uint64_t)(nodes[i].syns + 2 * nodes[i].pings)),
			  "%s saw its traffic and nothing else", nodes[i].name);
	}
	cr_expect(eq(u64, denied, (uint64_t)(nodes[0].syns + nodes[1].syns)));

	expect_query("up{node=\"node-a\"}", ".node", "node-a 1", WAIT_MS);
	expect_query("up{node=\"node-b\"}", ".node", "node-b 1", WAIT_MS);
	snprintf(want, sizeof(want), "POLICY_DENIED %" PRIu64, denied);
	expect_query("sum by (reason) (meshmon_drops_total)", ".reason", want, SCRAPES_MS);
	snprintf(want, sizeof(want), "node-a POLICY_DENIED %d\nnode-b POLICY_DENIED %d",
		 nodes[0].syns, nodes[1].syns);
	expect_query("sum by (node, reason) (meshmon_drops_total)", "\"\\(.node) \\(.reason)\"",
		     want, SCRAPES_MS);
	for (int i = 0; i < N_NODES; i++)
		len += snprintf(want + len, sizeof(want) - (size_t)len, "%s%s %" PRIu64,
				i ? "\n" : "", nodes[i].name, observed[i]);
	expect_query("sum by (node) (meshmon_observed_packets_total)", ".node", want, SCRAPES_MS);
	/* The name each agent reports, beside the target label, and the join on it. */
	expect_query("meshmon_node_info", "\"\\(.node) \\(.node_name)\"",
		     "node-a node-a 1\nnode-b node-b 1", SCRAPES_MS);
	snprintf(want, sizeof(want), "node-a %d\nnode-b %d", nodes[0].syns, nodes[1].syns);
	expect_query(
	    "sum by (node_name) (meshmon_drops_total * on (instance) group_left (node_name) "
	    "meshmon_node_info)",
	    ".node_name", want, SCRAPES_MS);
	/* meshmon_build_info: the version each agent reports in Status, the protocol version. */
	take_status(&nodes[0]);
	version = sh_output("jq -e -r '\"\\(.agent_version) \\(.protocol_version)\"' %s",
			    nodes[0].status_path);
	cr_assert(version != NULL);
	chomp(version);
	snprintf(want, sizeof(want), "node-a %s 1\nnode-b %s 1", version, version);
	expect_query("meshmon_build_info", "\"\\(.node) \\(.version) \\(.protocol)\"", want,
		     SCRAPES_MS);
	snprintf(want, sizeof(want), "%s %d", version, N_NODES);
	expect_query("count by (version, protocol) (meshmon_build_info)",
		     "\"\\(.version) \\(.protocol)\"", want, SCRAPES_MS);
	free(version);
}
