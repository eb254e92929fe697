// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `meshmon export clickhouse` end to end: Debian's clickhouse-server started
 * by the test on loopback of the test's private network namespace
 * (harness_clickhouse.h), real agents each in a network namespace of its own
 * (a simulated node: a veth pair to a peer namespace, --node-name), known
 * traffic on each, and the real exporter between them.
 *
 * What ClickHouse holds is checked against what each agent emitted, as seen
 * by a `meshmon monitor --json` with the same subscription beside the
 * exporter: per node and type, the events of a time window [t0, t1] that
 * starts after both clients subscribed and ends after the traffic. Each run
 * waits until a marker event after t1 reached both clients, then stops the
 * exporter with SIGTERM (it delivers what it holds and exits 0).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "export_schema.h"
#include "format_common.h"
#include "harness.h"
#include "harness_clickhouse.h"
#include "tcp_probe.h"

#ifndef MESHMON_AGENT_PATH
#error "MESHMON_AGENT_PATH must name the built meshmon-agent"
#endif
#ifndef MESHMON_CLI_PATH
#error "MESHMON_CLI_PATH must name the built meshmon"
#endif

#define CH_PORT 8123 /* on the loopback of the test's own namespace: never taken */
#define DB "mmtest"
#define WAIT_MS 30000

/* One simulated node: its namespace, veth pair, agent, exporter and monitor. */
struct node {
	const char *name;
	char metrics[32]; /* the exporter's --metrics ADDR:PORT */
	int ns_fd;
	struct mm_test_pair pair;
	struct mm_test_agent agent, exporter, monitor;
};

static struct mm_test_ch ch;
static struct node nodes[2];
static struct mm_test_cgroup cg;

static void teardown(void)
{
	for (size_t i = 0; i < 2; i++) {
		struct node *n = &nodes[i];

		mm_test_agent_cleanup(&n->exporter);
		mm_test_agent_cleanup(&n->monitor);
		mm_test_agent_stop(&n->agent, 5000);
		mm_test_agent_cleanup(&n->agent);
		mm_test_pair_destroy(&n->pair);
		if (n->ns_fd > 0)
			close(n->ns_fd);
	}
	mm_test_cgroup_destroy(&cg);
	mm_test_ch_cleanup(&ch);
}

static void setup(void)
{
	int rc;

	cr_assert(eq(int, mm_test_private_netns(), 0));
	rc = mm_test_ch_start(&ch, "ch", CH_PORT);
	cr_assert(eq(int, rc, 0), "clickhouse-server did not start (%s); its log: %s",
		  strerror(-rc), ch.proc.log_path);
}

TestSuite(export_clickhouse, .init = setup, .fini = teardown, .timeout = 120);

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The first line of a shell command's output (trailing newline cut), asserting it ran. */
static void sh_out(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void sh_out(char *out, size_t cap, const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	size_t n;
	FILE *p;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	cr_assert(p != NULL, "popen %s", cmd);
	n = fread(out, 1, cap - 1, p);
	out[n] = '\0';
	cr_assert(eq(int, pclose(p), 0), "%s failed: %s", cmd, out);
	while (n && out[n - 1] == '\n')
		out[--n] = '\0';
}

static void query(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void query(char *out, size_t cap, const char *fmt, ...)
{
	char sql[2048];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	cr_assert(eq(int, mm_test_ch_query(&ch, sql, out, cap), 0), "%s: %s", sql, out);
	n = strlen(out);
	while (n && out[n - 1] == '\n')
		out[--n] = '\0';
}

static uint64_t query_u64(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static uint64_t query_u64(const char *fmt, ...)
{
	char sql[2048], out[256];
	uint64_t v;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	cr_assert(eq(int, mm_test_ch_u64(&ch, sql, &v), 0), "%s", sql);
	(void)out;
	return v;
}

/*
 * A node: a new namespace with lo up and a veth pair, its agent started in
 * it (extra arguments NULL-terminated), and the test back in its own
 * namespace, where ClickHouse, the exporter and the monitor run.
 */
static void node_start(struct node *n, const char *name, const char *const *extra)
{
	int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	const char *argv[32] = {"meshmon-agent", "--iface", NULL, "--socket", NULL,
				"--capture-len", "128", "--history", "0", "--node-name", name};
	size_t k = 11;

	cr_assert(ge(int, home, 0));
	n->name = name;
	cr_assert(eq(int, mm_test_private_netns(), 0));
	n->ns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	cr_assert(ge(int, n->ns_fd, 0));
	cr_assert(eq(int, mm_test_pair_create(&n->pair), 0));
	cr_assert(eq(int, mm_test_agent_init(&n->agent, MESHMON_AGENT_PATH, name, "monitor.sock"),
		     0));
	argv[2] = n->pair.local_if;
	argv[4] = n->agent.sock_path;
	for (; extra && *extra; extra++)
		argv[k++] = *extra;
	argv[k] = NULL;
	cr_assert(eq(int, mm_test_agent_spawn(&n->agent, argv), 0));
	cr_assert(eq(int, mm_test_agent_wait_ready(&n->agent, 15000, NULL), 0),
		  "agent %s did not start; see %s", name, n->agent.log_path);
	cr_assert(eq(int, setns(home, CLONE_NEWNET), 0));
	close(home);
}

/* The agent's listener count (meshmon status --json). */
static unsigned int listeners(const struct node *n)
{
	char out[64];

	sh_out(out, sizeof(out), MESHMON_CLI_PATH " status --json --socket %s | jq .listeners",
	       n->agent.sock_path);
	return (unsigned int)strtoul(out, NULL, 10);
}

/*
 * The exporter (extra flags NULL-terminated) and a monitor --json beside it,
 * both on the node's agent; returns once both are subscribed.
 */
static void clients_start(struct node *n, const char *const *extra)
{
	char tag[64];
	const char *argv[40] = {"meshmon", "export", "clickhouse", "--socket", n->agent.sock_path,
				"--url", ch.url, "--database", DB, "--batch-interval", "200ms",
				"--status-interval", "1s", "--no-reconnect", "--metrics", n->metrics};
	const char *mon[] = {"meshmon", "monitor", "--json", "--no-reconnect", "--socket",
			     n->agent.sock_path, NULL};
	size_t k = 16;
	uint64_t end;

	/* A port per node, on the loopback of the test's own namespace. */
	snprintf(n->metrics, sizeof(n->metrics), "127.0.0.1:%d", 9401 + (int)(n - nodes));

	for (; extra && *extra; extra++)
		argv[k++] = *extra;
	argv[k] = NULL;
	snprintf(tag, sizeof(tag), "exp-%s", n->name);
	cr_assert(eq(int, mm_test_agent_init(&n->exporter, MESHMON_CLI_PATH, tag, "unused"), 0));
	cr_assert(eq(int, mm_test_agent_spawn(&n->exporter, argv), 0));
	snprintf(tag, sizeof(tag), "mon-%s", n->name);
	cr_assert(eq(int, mm_test_agent_init(&n->monitor, MESHMON_CLI_PATH, tag, "unused"), 0));
	cr_assert(eq(int, mm_test_agent_spawn(&n->monitor, mon), 0));
	end = now_ms() + WAIT_MS;
	while (listeners(n) < 2 && now_ms() < end)
		usleep(50 * 1000);
	cr_assert(eq(u32, listeners(n), 2), "exporter and monitor subscribed on %s (logs %s, %s)",
		  n->name, n->exporter.log_path, n->monitor.log_path);
}

static void fmt_time(uint64_t ns, char *buf, size_t cap)
{
	mm_fmt_time(ns, buf, cap);
}

/* Events of the monitor's JSON lines as jq sees them: select(FILTER) | EXPR, one per line. */
static void monitor_jq(const struct node *n, char *out, size_t cap, const char *program)
{
	sh_out(out, cap, "grep '^{' %s | jq -rs '%s'", n->monitor.log_path, program);
}

/* Per type "type\tcount" lines, sorted, of the monitor's events in [t0, t1]. */
static void monitor_counts(const struct node *n, uint64_t t0, uint64_t t1, char *out, size_t cap)
{
	char a[40], b[40], prog[512];

	fmt_time(t0, a, sizeof(a));
	fmt_time(t1, b, sizeof(b));
	snprintf(prog, sizeof(prog),
		 "map(select(.type != \"lost\" and .time >= \"%s\" and .time <= \"%s\")) | "
		 "group_by(.type) | map(\"\\(.[0].type)\\t\\(length)\") | .[]",
		 a, b);
	monitor_jq(n, out, cap, prog);
}

static void table_counts(const struct node *n, uint64_t t0, uint64_t t1, char *out, size_t cap)
{
	query(out, cap,
	      "SELECT type, count() FROM " DB ".events WHERE node = '%s' AND type != 'loss' AND "
	      "time_ns BETWEEN %" PRIu64 " AND %" PRIu64 " GROUP BY type ORDER BY type",
	      n->name, t0, t1);
}

/* The exporter's /metrics into <its dir>/metrics.txt. */
static void scrape_exporter(const struct node *n)
{
	cr_assert(eq(int, mm_test_sh("curl -sf http://%s/metrics > %s/metrics.txt", n->metrics,
				     n->exporter.dir),
		     0), "GET /metrics of the exporter of %s", n->name);
}

/* The value of one series (name with its labels) in the last scrape; asserts it is there. */
static uint64_t scraped(const struct node *n, const char *series)
{
	char out[64];

	sh_out(out, sizeof(out), "awk -v s='%s' '$1 == s { print $2; n++ } END { exit n != 1 }' "
	       "%s/metrics.txt", series, n->exporter.dir);
	return strtoull(out, NULL, 10);
}

/* The sum of a family's series in the last scrape. */
static uint64_t scraped_sum(const struct node *n, const char *family)
{
	char out[64];

	sh_out(out, sizeof(out), "awk -v f='%s' 'index($1, f \"{\") == 1 { t += $2 } "
	       "END { printf \"%%d\", t }' %s/metrics.txt", family, n->exporter.dir);
	return strtoull(out, NULL, 10);
}

static uint64_t node_rows(const struct node *n, const char *where)
{
	return query_u64("SELECT count() FROM " DB ".events WHERE node = '%s' AND %s", n->name,
			 where);
}

static uint64_t node_loss(const struct node *n, const char *where)
{
	return query_u64("SELECT sum(loss_count) FROM " DB ".events WHERE node = '%s' AND "
			 "type = 'loss' AND %s", n->name, where);
}

/*
 * The exporter's /metrics against the table, once nothing is held and the
 * numbers stand still (two scrapes alike around the queries: rows may still
 * be coming, tcp_probe reports every second on node-a): what it delivered
 * is what the table holds for its node, its losses are the loss rows'
 * counts, what it read is what it stored plus what did not fit. And the
 * text passes promtool.
 */
static void exporter_metrics_agree(const struct node *n, uint64_t buffer_rows)
{
	char before[8192], after[8192], info[256];
	uint64_t end = now_ms() + WAIT_MS, delivered = 0, rows = 0;

	while (now_ms() < end) {
		scrape_exporter(n);
		sh_out(before, sizeof(before), "grep -v '^meshmon_export_info' %s/metrics.txt",
		       n->exporter.dir);
		delivered = scraped(n, "meshmon_export_rows_delivered_total");
		rows = node_rows(n, "1");
		scrape_exporter(n);
		sh_out(after, sizeof(after), "grep -v '^meshmon_export_info' %s/metrics.txt",
		       n->exporter.dir);
		if (!strcmp(before, after) && !scraped(n, "meshmon_export_buffered_rows") &&
		    delivered == rows)
			break;
		usleep(200 * 1000);
	}
	cr_assert(eq(u64, delivered, rows), "%s: rows delivered (/metrics) and in the table",
		  n->name);
	cr_assert(eq(str, after, before), "%s: /metrics stood still around the queries", n->name);
	cr_assert(eq(u64, scraped(n, "meshmon_export_buffered_rows"), 0), "%s: nothing held",
		  n->name);
	cr_assert(eq(u64, scraped(n, "meshmon_export_loss_rows_total"),
		     node_rows(n, "type = 'loss'")), "%s: loss rows", n->name);
	cr_assert(eq(u64, scraped(n, "meshmon_export_lost_events_total{source=\"export_buffer\"}"),
		     node_loss(n, "loss_source = 'export_buffer'")), "%s: lost in the buffer",
		  n->name);
	cr_assert(eq(u64,
		     scraped_sum(n, "meshmon_export_lost_events_total") -
			 scraped(n, "meshmon_export_lost_events_total{source=\"export_buffer\"}"),
		     node_loss(n, "loss_source NOT IN ('export_buffer', 'agent_gap')")),
		  "%s: the agent's LostNotices", n->name);
	cr_assert(eq(u64, scraped_sum(n, "meshmon_export_events_total"),
		     node_rows(n, "type != 'loss'") +
			 scraped(n, "meshmon_export_lost_events_total{source=\"export_buffer\"}")),
		  "%s: events read = rows stored + what did not fit", n->name);
	/* With the sum above, equal per type when nothing was lost (the two-node test). */
#define X(type_name, value, text)                                                                  \
	cr_assert(ge(u64, scraped(n, "meshmon_export_events_total{type=\"" text "\"}"),         \
		     node_rows(n, "type = '" text "'")), "%s: %s events read and stored",          \
		  n->name, text);
	MM_EVENT_TYPES(X)
#undef X
	cr_assert(gt(u64, scraped(n, "meshmon_export_batches_sent_total"), 0));
	cr_assert(eq(u64, scraped(n, "meshmon_export_buffer_capacity_rows"), buffer_rows));
	cr_assert(eq(u64, scraped(n, "meshmon_export_agent_reconnects_total"), 0),
		  "--no-reconnect");
	snprintf(info, sizeof(info), "meshmon_export_info{node_name=\"%s\",table=\"" DB
		 ".events\"}", n->name);
	cr_assert(eq(u64, scraped(n, info), 1), "%s: %s", n->name, info);
	cr_expect(eq(int, mm_test_sh("out=$(promtool check metrics < %s/metrics.txt 2>&1) && "
				     "test -z \"$out\"", n->exporter.dir),
		     0), "promtool check metrics on %s/metrics.txt", n->exporter.dir);
}

/*
 * After the traffic of [t0, t1]: a marker ping, then wait until it reached
 * the monitor's output and ClickHouse, so both clients have read everything
 * up to t1; then the exporter is stopped and must exit 0 (all delivered).
 */
static void settle_and_stop(struct node *n, uint64_t t1, uint64_t buffer_rows)
{
	char t[40], prog[256], out[64];
	uint64_t end = now_ms() + WAIT_MS, rows = 0;
	int status;

	fmt_time(t1, t, sizeof(t));
	snprintf(prog, sizeof(prog), "map(select(.type != \"lost\" and .time > \"%s\")) | length", t);
	out[0] = '\0';
	while (now_ms() < end) {
		cr_assert(eq(int, mm_test_pair_sh(&n->pair, "ping -c 1 -W 1 -q 10.199.0.1 >/dev/null"),
			     0));
		monitor_jq(n, out, sizeof(out), prog);
		rows = query_u64("SELECT count() FROM " DB ".events WHERE node = '%s' AND time_ns > %" PRIu64,
				 n->name, t1);
		if (strtoul(out, NULL, 10) > 0 && rows > 0)
			break;
		usleep(200 * 1000);
	}
	cr_assert(gt(u64, rows, 0), "no row after t1 from %s in ClickHouse (log %s)", n->name,
		  n->exporter.log_path);
	exporter_metrics_agree(n, buffer_rows);
	status = mm_test_agent_stop(&n->exporter, 20000);
	cr_assert(eq(int, status, 0), "the exporter of %s exits 0 after SIGTERM (log %s)", n->name,
		  n->exporter.log_path);
}

/* A TCP connection of the node (its socket made in its namespace and in cg): n bytes, closed. */
static void tcp_connection(struct node *n, size_t bytes, int *sport, int *dport)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), lfd, cfd, afd;
	char buf[16384], procs[600];
	size_t sent = 0, got = 0;
	FILE *f;

	lfd = mm_test_pair_listen(&n->pair, AF_INET, 0, 4);
	cr_assert(ge(int, lfd, 0), "listen in the peer netns: %s", strerror(-lfd));
	cr_assert(eq(int, getsockname(lfd, (struct sockaddr *)&sa, &len), 0));
	*dport = ntohs(sa.sin_port);
	/* The socket's cgroup and namespace are fixed when it is made. */
	cr_assert(eq(int, mm_test_cgroup_enter(&cg, getpid()), 0));
	cr_assert(eq(int, setns(n->ns_fd, CLONE_NEWNET), 0));
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(eq(int, setns(home, CLONE_NEWNET), 0));
	close(home);
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg.root);
	f = fopen(procs, "w");
	cr_assert(f != NULL);
	fprintf(f, "%d\n", getpid());
	cr_assert(eq(int, fclose(f), 0), "back to %s", procs);
	cg.self_inside = 0;
	cr_assert(ge(int, cfd, 0));
	inet_pton(AF_INET, "10.199.0.2", &sa.sin_addr);
	cr_assert(eq(int, connect(cfd, (struct sockaddr *)&sa, sizeof(sa)), 0), "connect: %s",
		  strerror(errno));
	len = sizeof(sa);
	cr_assert(eq(int, getsockname(cfd, (struct sockaddr *)&sa, &len), 0));
	*sport = ntohs(sa.sin_port);
	afd = accept(lfd, NULL, NULL);
	cr_assert(ge(int, afd, 0));
	memset(buf, 'm', sizeof(buf));
	while (got < bytes) {
		ssize_t w = 0, r;

		if (sent < bytes) {
			w = write(cfd, buf, bytes - sent < sizeof(buf) ? bytes - sent : sizeof(buf));
			cr_assert(gt(sz, (size_t)(w > 0 ? w : 0), 0), "write: %s", strerror(errno));
			sent += (size_t)w;
		}
		r = read(afd, buf, sizeof(buf));
		cr_assert(gt(sz, (size_t)(r > 0 ? r : 0), 0), "read: %s", strerror(errno));
		got += (size_t)r;
	}
	close(cfd);
	close(afd);
	close(lfd);
}

/* The exporter's endpoint: HEAD as GET without the body, 405 with Allow, 404 elsewhere. */
static void exporter_http_methods(const struct node *n)
{
	char out[256];

	sh_out(out, sizeof(out), "curl -s -o /dev/null -w '%%{http_code}' -I http://%s/metrics",
	       n->metrics);
	cr_assert(eq(str, out, "200"), "HEAD /metrics");
	sh_out(out, sizeof(out), "curl -sI http://%s/metrics | tr -d '\\r' | "
	       "awk 'tolower($1) == \"content-length:\" { print $2 }'", n->metrics);
	cr_assert(gt(u64, strtoull(out, NULL, 10), 1000), "HEAD gives the length of the text (over 1000 bytes)");
	sh_out(out, sizeof(out), "curl -s -o /dev/null -w '%%{http_code}' -X POST http://%s/metrics",
	       n->metrics);
	cr_assert(eq(str, out, "405"), "POST /metrics");
	sh_out(out, sizeof(out), "curl -s -D - -o /dev/null -X DELETE http://%s/metrics | "
	       "tr -d '\\r' | grep -i '^allow:'", n->metrics);
	cr_assert(eq(str, out, "Allow: GET, HEAD"));
	sh_out(out, sizeof(out), "curl -s -o /dev/null -w '%%{http_code}' http://%s/other",
	       n->metrics);
	cr_assert(eq(str, out, "404"), "GET /other");
}

Test(export_clickhouse, two_nodes_into_one_table_agree_with_what_each_agent_emitted)
{
	char root[256], want[4096], got[4096], sums_want[128], sums_got[128], prog[512];
	const int pings[2] = {20, 35};
	const size_t bytes = 60000;
	int sport = 0, dport = 0;
	uint64_t t0, t1, end;

	cr_assert(eq(int, mm_cgroup2_root(root, sizeof(root)), 0));
	cr_assert(eq(int, mm_test_cgroup_create(&cg, root, "export"), 0));
	node_start(&nodes[0], "node-a",
		   (const char *const[]){"--cgroup", cg.path, "--probe-interval", "1", NULL});
	node_start(&nodes[1], "node-b", (const char *const[]){"--cgroup", "none", NULL});
	for (size_t i = 0; i < 2; i++)
		clients_start(&nodes[i], NULL);

	t0 = wall_ns();
	for (size_t i = 0; i < 2; i++)
		cr_assert(eq(int,
			     mm_test_pair_sh(&nodes[i].pair,
					     "ping -c %d -i 0.02 -q 10.199.0.1 >/dev/null", pings[i]),
			     0));
	tcp_connection(&nodes[0], bytes, &sport, &dport);
	/* The connection's closed report comes from the socket's close, at once or nearly. */
	end = now_ms() + WAIT_MS;
	while (now_ms() < end &&
	       !query_u64("SELECT count() FROM " DB ".events WHERE type = 'tcp_probe' AND "
			  "probe_state = 'closed' AND sport = %d AND dport = %d", sport, dport))
		usleep(100 * 1000);
	t1 = wall_ns();
	exporter_http_methods(&nodes[0]);
	for (size_t i = 0; i < 2; i++)
		settle_and_stop(&nodes[i], t1, 1000000);

	for (size_t i = 0; i < 2; i++) {
		monitor_counts(&nodes[i], t0, t1, want, sizeof(want));
		table_counts(&nodes[i], t0, t1, got, sizeof(got));
		cr_assert(eq(str, got, want), "%s: ClickHouse (left) and the agent's stream (right)",
			  nodes[i].name);
		/* Each ping is traced at least twice (request in, reply out). */
		cr_assert(ge(u64,
			     query_u64("SELECT count() FROM " DB ".events WHERE node = '%s' AND "
				       "type = 'trace' AND proto = 1 AND time_ns BETWEEN %" PRIu64
				       " AND %" PRIu64, nodes[i].name, t0, t1),
			     2 * (uint64_t)pings[i]));
		cr_assert(eq(u64,
			     query_u64("SELECT count() FROM " DB ".events WHERE node = '%s' AND "
				       "type = 'loss'", nodes[i].name),
			     0), "no loss on %s", nodes[i].name);
	}
	/* One connection's tcp_probe history: sum and last of bytes_sent, both sides. */
	snprintf(prog, sizeof(prog),
		 "map(select(.type == \"tcp_probe\" and .tuple.sport == %d and .tuple.dport == %d) "
		 "| .bytes_sent) | \"\\(add)\\t\\(max)\"", sport, dport);
	monitor_jq(&nodes[0], sums_want, sizeof(sums_want), prog);
	query(sums_got, sizeof(sums_got),
	      "SELECT sum(bytes_sent), max(bytes_sent) FROM " DB ".events WHERE node = 'node-a' "
	      "AND type = 'tcp_probe' AND sport = %d AND dport = %d", sport, dport);
	cr_assert(eq(str, sums_got, sums_want), "tcp_probe bytes of %d -> %d", sport, dport);
	cr_assert(ge(u64,
		     query_u64("SELECT max(bytes_sent) FROM " DB ".events WHERE node = 'node-a' AND "
			       "sport = %d AND dport = %d", sport, dport),
		     bytes), "the connection's bytes are all counted");
	cr_assert(eq(u64,
		     query_u64("SELECT count() FROM " DB ".events WHERE node = 'node-b' AND "
			       "type = 'tcp_probe'"),
		     0), "node-b watches no cgroup");
}

/* Waits until ClickHouse holds a row of n's node later than after_ns. */
static void wait_row_after(const struct node *n, uint64_t after_ns, const char *what)
{
	uint64_t end = now_ms() + WAIT_MS, rows = 0;

	while (now_ms() < end) {
		/* The table may not exist yet, or the server may be starting: not an error here. */
		char sql[256];

		snprintf(sql, sizeof(sql),
			 "SELECT count() FROM " DB ".events WHERE node = '%s' AND time_ns > %" PRIu64,
			 n->name, after_ns);
		if (!mm_test_ch_u64(&ch, sql, &rows) && rows)
			return;
		cr_assert(eq(int, mm_test_pair_sh(&n->pair, "ping -c 1 -W 1 -q 10.199.0.1 >/dev/null"),
			     0));
		usleep(100 * 1000);
	}
	cr_assert(gt(u64, rows, 0), "%s: no row in ClickHouse (exporter log %s)", what,
		  n->exporter.log_path);
}

static bool log_has(const char *path, const char *needle)
{
	char line[1024];
	bool found = false;
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, needle) != NULL;
	fclose(f);
	return found;
}

Test(export_clickhouse, a_clickhouse_outage_is_ridden_out_and_what_did_not_fit_is_counted)
{
	struct node *n = &nodes[0];
	char a[40], b[40], prog[256], out[64];
	uint64_t t0, t1, t_up, events, rows, lost, end;

	node_start(n, "node-a", (const char *const[]){"--cgroup", "none", NULL});
	clients_start(n, (const char *const[]){"--buffer-rows", "200", "--batch-rows", "20", NULL});
	t0 = wall_ns();
	cr_assert(eq(int, mm_test_pair_sh(&n->pair, "ping -c 10 -i 0.02 -q 10.199.0.1 >/dev/null"), 0));
	wait_row_after(n, t0, "before the outage");

	mm_test_ch_stop(&ch);
	/* Far more events than the buffer holds while ClickHouse is down. */
	cr_assert(eq(int, mm_test_pair_sh(&n->pair, "ping -c 300 -i 0.005 -q 10.199.0.1 >/dev/null"),
		     0));
	end = now_ms() + WAIT_MS;
	while (now_ms() < end && !log_has(n->exporter.log_path, "INSERT at"))
		usleep(100 * 1000);
	cr_assert(log_has(n->exporter.log_path, "INSERT at"), "the exporter saw the outage (%s)",
		  n->exporter.log_path);
	/* Scraped while the sender fails: the endpoint does not wait for it. */
	scrape_exporter(n);
	cr_assert(gt(u64, scraped(n, "meshmon_export_batches_failed_total"), 0));
	cr_assert(ge(u64, scraped(n, "meshmon_export_clickhouse_errors_total"),
		     scraped(n, "meshmon_export_batches_failed_total")));
	cr_assert(gt(u64, scraped(n, "meshmon_export_buffered_rows"), 0), "held in the outage");
	cr_assert(eq(int, mm_test_ch_restart(&ch), 0), "clickhouse-server restarts");
	t_up = wall_ns();
	wait_row_after(n, t_up, "after the outage");
	cr_assert(eq(int, mm_test_pair_sh(&n->pair, "ping -c 10 -i 0.02 -q 10.199.0.1 >/dev/null"), 0));
	t1 = wall_ns();
	settle_and_stop(n, t1, 200);

	/* Every event of the window is a row or counted in a loss row, exactly. */
	monitor_jq(n, out, sizeof(out), "map(select(.type == \"lost\")) | length");
	cr_assert(eq(str, out, "0"), "the monitor lost nothing, so it saw every event");
	fmt_time(t0, a, sizeof(a));
	fmt_time(t1, b, sizeof(b));
	snprintf(prog, sizeof(prog), "map(select(.time >= \"%s\" and .time <= \"%s\")) | length",
		 a, b);
	monitor_jq(n, out, sizeof(out), prog);
	events = strtoull(out, NULL, 10);
	rows = query_u64("SELECT count() FROM " DB ".events WHERE node = 'node-a' AND type != 'loss' "
			 "AND time_ns BETWEEN %" PRIu64 " AND %" PRIu64, t0, t1);
	lost = query_u64("SELECT sum(loss_count) FROM " DB ".events WHERE node = 'node-a' AND "
			 "type = 'loss' AND loss_source = 'export_buffer'");
	cr_assert(gt(u64, lost, 0), "the outage overflowed the buffer of 200 rows");
	cr_assert(ge(u64, rows, 200), "what the buffer held arrived after the outage");
	cr_assert(eq(u64, rows + lost, events), "rows %" PRIu64 " + lost %" PRIu64
		  " == events the agent sent %" PRIu64, rows, lost, events);
	cr_assert(eq(u64,
		     query_u64("SELECT count() FROM " DB ".events WHERE type = 'loss' AND "
			       "loss_source = 'export_buffer' AND (loss_first_ns < %" PRIu64
			       " OR loss_last_ns > %" PRIu64 ")", t0, t1),
		     0), "the lost events are those of the window");
	cr_assert(log_has(n->exporter.log_path, "answers again"), "the recovery is said (%s)",
		  n->exporter.log_path);
}

/* The statements of the ```sql block after the heading in docs/fleet.md, ';'-separated, into buf. */
static void fleet_md_sql(const char *heading, char *buf, size_t cap)
{
	char path[512], *text, *p, *end;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/docs/fleet.md", MM_SOURCE_ROOT);
	f = fopen(path, "r");
	cr_assert(f != NULL, "%s", path);
	text = calloc(1, 1 << 17);
	cr_assert(text != NULL);
	n = fread(text, 1, (1 << 17) - 1, f);
	fclose(f);
	text[n] = '\0';
	p = strstr(text, heading);
	cr_assert(p != NULL, "%s has '%s'", path, heading);
	p = strstr(p, "```sql\n");
	cr_assert(p != NULL);
	p += 7;
	end = strstr(p, "```");
	cr_assert(end != NULL);
	cr_assert(lt(sz, (size_t)(end - p), cap));
	memcpy(buf, p, (size_t)(end - p));
	buf[end - p] = '\0';
	free(text);
}

Test(export_clickhouse, the_cluster_ddl_of_fleet_md_makes_the_exporters_table_behind_a_distributed_one)
{
	char sql[16384], ref[8192], a[8192], b[8192], *stmt, *save = NULL, *at;
	uint64_t end, rows = 0;

	fleet_md_sql("### A sharded cluster", sql, sizeof(sql));
	for (stmt = strtok_r(sql, ";", &save); stmt; stmt = strtok_r(NULL, ";", &save)) {
		while (*stmt == '\n' || *stmt == ' ')
			stmt++;
		if (*stmt)
			query(a, sizeof(a), "%s", stmt);
	}
	/* The exporter's own statement, under a third name, to compare with. */
	cr_assert(lt(sz, mm_export_schema__create_table(ref, sizeof(ref), "meshmon", "events_ref"),
		     sizeof(ref)));
	query(a, sizeof(a), "%s", ref);
	query(a, sizeof(a), "SHOW CREATE TABLE meshmon.events_ref");
	query(b, sizeof(b), "SHOW CREATE TABLE meshmon.events_local");
	at = strstr(a, "events_ref");
	cr_assert(at != NULL);
	memcpy(at, "events_loc", 10); /* same length: "events_local" minus "al" */
	memmove(at + 12, at + 10, strlen(at + 10) + 1);
	memcpy(at + 10, "al", 2);
	cr_assert(eq(str, b, a), "docs/fleet.md's local table is the exporter's table");

	/* A row through the Distributed table lands in the local one. */
	query(a, sizeof(a),
	      "INSERT INTO meshmon.events FORMAT JSONEachRow {\"time\":1,\"time_ns\":1000000000,"
	      "\"node\":\"node-x\",\"type\":\"trace\"}");
	end = now_ms() + WAIT_MS;
	while (now_ms() < end &&
	       !(rows = query_u64("SELECT count() FROM meshmon.events_local WHERE node = 'node-x'")))
		usleep(100 * 1000);
	cr_assert(eq(u64, rows, 1));
	cr_assert(eq(u64, query_u64("SELECT count() FROM meshmon.events WHERE node = 'node-x'"), 1));
}

/* The numbers of the exporter's "exit:" line in its log: events and buffered rows. */
static bool exit_line(const char *path, uint64_t *events, uint64_t *buffered)
{
	char line[1024];
	bool found = false;
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		const char *b = strstr(line, "buffered rows ");

		if (strncmp(line, "meshmon export: exit: events ", 29) || !b)
			continue;
		*events = strtoull(line + 29, NULL, 10);
		*buffered = strtoull(b + 14, NULL, 10);
		found = true;
	}
	fclose(f);
	return found;
}

Test(export_clickhouse, rows_clickhouse_never_took_are_counted_at_exit_and_fail_it)
{
	struct node *n = &nodes[0];
	uint64_t events = 0, buffered = 0;
	char want[64];
	int status;

	node_start(n, "node-a", (const char *const[]){"--cgroup", "none", NULL});
	/* A later --url wins: port 9 of the loopback, where nothing listens. */
	clients_start(n, (const char *const[]){"--url", "http://127.0.0.1:9", "--drain-timeout",
					       "1s", NULL});
	cr_assert(eq(int, mm_test_pair_sh(&n->pair, "ping -c 10 -i 0.02 -q 10.199.0.1 >/dev/null"), 0));
	/* The monitor beside it has them: so has the exporter's reader, or nearly. */
	for (uint64_t end = now_ms() + WAIT_MS; now_ms() < end; usleep(100 * 1000)) {
		char out[32];

		monitor_jq(n, out, sizeof(out), "map(select(.type == \"trace\")) | length");
		if (strtoull(out, NULL, 10) >= 20)
			break;
	}
	usleep(300 * 1000);
	status = mm_test_agent_stop(&n->exporter, 20000);
	cr_assert(eq(int, status, 1 << 8), "rows left undelivered: exit 1 (log %s)",
		  n->exporter.log_path);
	cr_assert(exit_line(n->exporter.log_path, &events, &buffered), "an exit line in %s",
		  n->exporter.log_path);
	cr_assert(ge(u64, events, 20), "the pings' traces were read");
	cr_assert(eq(u64, buffered, events), "every event still held at the end");
	snprintf(want, sizeof(want), "%" PRIu64 " rows not delivered", buffered);
	cr_assert(log_has(n->exporter.log_path, want), "'%s' in %s", want, n->exporter.log_path);
	cr_assert(log_has(n->exporter.log_path, "failed: "), "the failure is said");
}

Test(export_clickhouse, ttl_days_drops_the_expired_days_and_keeps_the_rest)
{
	struct node *n = &nodes[0];
	char sql[8192], out[256];
	uint64_t end, old = 1, recent = 0;

	/* The exporter's table with a row of 1971 and one of yesterday, before it starts. */
	cr_assert(lt(sz, mm_export_schema__create_database(sql, sizeof(sql), DB), sizeof(sql)));
	query(out, sizeof(out), "%s", sql);
	cr_assert(lt(sz, mm_export_schema__create_table(sql, sizeof(sql), DB, "events"), sizeof(sql)));
	query(out, sizeof(out), "%s", sql);
	query(out, sizeof(out),
	      "INSERT INTO " DB ".events (time, node, type) VALUES (31536000, 'old', 'trace'), "
	      "(now() - 86400, 'recent', 'trace')");
	cr_assert(eq(u64, query_u64("SELECT count() FROM " DB ".events"), 2));

	node_start(n, "node-a", (const char *const[]){"--cgroup", "none", NULL});
	clients_start(n, (const char *const[]){"--ttl-days", "30", NULL});
	end = now_ms() + WAIT_MS;
	while (now_ms() < end &&
	       (old = query_u64("SELECT count() FROM " DB ".events WHERE node = 'old'")))
		usleep(100 * 1000);
	cr_assert(eq(u64, old, 0), "the day of 1971 is dropped (log %s)", n->exporter.log_path);
	recent = query_u64("SELECT count() FROM " DB ".events WHERE node = 'recent'");
	cr_assert(eq(u64, recent, 1), "yesterday is kept");
	cr_assert(log_has(n->exporter.log_path, "dropped partition 19710101 (--ttl-days 30)"),
		  "said in %s", n->exporter.log_path);
	/* And the export goes on. */
	wait_row_after(n, 0, "after the drop");
}
