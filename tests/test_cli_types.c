// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Per-type switches and limits through the real agent and the real `meshmon`:
 * with `--events drop` no trace is emitted (Status.types, event counts); with
 * `--rate-limit drop=2:10` (1/s and a burst of 5 per CPU) a burst of policy
 * drops on one CPU is cut at the burst, and the refusals show per type, the
 * same number, in Status, in /metrics and in the LOST notices of a monitor.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_agent.h"
#include "harness.h"
#include "harness_agent.h"

#ifndef MESHMON_CLI_PATH
#error "MESHMON_CLI_PATH must name the built meshmon"
#endif

#define SENT 20

static void setup(void)
{
	cli_agent_prepare("cli-types");
}

TestSuite(cli_types, .init = setup, .fini = cli_agent_teardown, .timeout = 120);

/* jq -s FILTER on path: its output (one line) in out; 0 when jq succeeded. */
static int jq_line(const char *filter, const char *path, char *out, size_t len)
{
	char cmd[1024];
	FILE *p;
	int rc;

	snprintf(cmd, sizeof(cmd), "jq -c -s '%s' %s 2>/dev/null", filter, path);
	p = popen(cmd, "r");
	cr_assert(p != NULL);
	out[0] = '\0';
	if (!fgets(out, (int)len, p))
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	rc = pclose(p);
	return rc;
}

/* `meshmon status --json` into path. */
static void status_json(const char *path)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "timeout 10 %s status --json --socket %s >%s", MESHMON_CLI_PATH,
		 agent.sock_path, path);
	cr_assert(eq(int, system(cmd), 0));
}

/* Status until filter (over the status object) prints want, 10 s at most; the last value. */
static void status_until(const char *path, const char *filter, const char *want, char *got,
			 size_t len)
{
	for (int i = 0; i < 100; i++) {
		status_json(path);
		if (!jq_line(filter, path, got, len) && !strcmp(got, want))
			return;
		usleep(100 * 1000);
	}
}

/* SENT UDP datagrams to 10.199.0.2:port from CPU 0, so that one CPU's buckets see them all. */
static void send_burst_on_cpu0(int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	cr_assert(eq(int, sched_setaffinity(0, sizeof(set), &set), 0));
	cr_assert(ge(int, fd, 0));
	cr_assert(eq(int, inet_pton(AF_INET, "10.199.0.2", &sin.sin_addr), 1));
	for (int i = 0; i < SENT; i++)
		cr_assert(eq(long, (long)sendto(fd, "x", 1, 0, (struct sockaddr *)&sin, sizeof(sin)),
			     1L));
	close(fd);
}

Test(cli_types, events_drop_emits_no_trace)
{
	const char *extra[] = {"--events", "drop", "--deny", "proto=udp,dport=9999,dir=egress",
			       NULL};
	char status[160], got[256];

	cli_agent_start_with(extra);
	send_burst_on_cpu0(9998); /* would be traced */
	send_burst_on_cpu0(9999); /* denied: dropped and reported */
	snprintf(status, sizeof(status), "%s/status.json", agent.dir);
	status_until(status, ".[0].types[] | select(.type == \"drop\") | .emitted", "20", got,
		     sizeof(got));
	cr_expect(eq(str, got, "20"), "see %s", status);
	cr_expect(eq(int, jq_line(".[0].types[] | select(.type == \"trace\") | [.enabled, .emitted]",
				  status, got, sizeof(got)),
		     0));
	cr_expect(eq(str, got, "[false,0]"), "see %s", status);
	cr_expect(eq(int, jq_line(".[0].event_counts.trace", status, got, sizeof(got)), 0));
	cr_expect(eq(str, got, "0"), "no trace read: see %s", status);
	cr_expect(eq(int, jq_line(".[0].types[] | select(.type == \"drop\") | .enabled", status, got,
				  sizeof(got)),
		     0));
	cr_expect(eq(str, got, "true"));
}

Test(cli_types, per_type_limit_refusals_in_status_metrics_and_lost_notices)
{
	const char *extra[] = {"--deny", "proto=udp,dport=9999,dir=egress", "--rate-limit",
			       "drop=2:10", "--metrics", "127.0.0.1:19104", NULL};
	char status[160], out[160], metrics[160], cmd[1024], got[256], want[64];
	unsigned long emitted, refused;
	pid_t mon;

	cli_agent_start_with(extra);
	snprintf(out, sizeof(out), "%s/monitor.json", agent.dir);
	snprintf(cmd, sizeof(cmd), "exec timeout -k 3 -s INT 60 %s monitor --json --socket %s >%s",
		 MESHMON_CLI_PATH, agent.sock_path, out);
	mon = fork();
	cr_assert(ge(int, mon, 0));
	if (!mon) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	snprintf(status, sizeof(status), "%s/status.json", agent.dir);
	status_until(status, ".[0].listeners", "1", got, sizeof(got));
	cr_assert(eq(str, got, "1"), "the monitor subscribed");

	send_burst_on_cpu0(9999);
	status_until(status,
		     ".[0].types[] | select(.type == \"drop\") | .emitted + .refused", "20", got,
		     sizeof(got));
	cr_assert(eq(str, got, "20"), "every drop emitted or refused: see %s", status);
	cr_assert(eq(int, jq_line(".[0].types[] | select(.type == \"drop\") | "
				  "\"\\(.emitted) \\(.refused) \\(.rate_per_sec) \\(.burst)\"",
				  status, got, sizeof(got)),
		     0));
	cr_assert(eq(int, sscanf(got, "\"%lu %lu 2 10\"", &emitted, &refused), 2), "%s", got);
	/* 5 tokens per CPU, 1/s refill: the burst, and one more per second the sending took. */
	cr_expect(ge(u64, emitted, 5));
	cr_expect(le(u64, emitted, 6), "the burst cut the drops: see %s", status);
	cr_expect(eq(int, jq_line("[.[0].lost[] | select(.source == \"rate_limit\" and .record_type "
				  "== \"drop\") | .count] | add",
				  status, got, sizeof(got)),
		     0));
	snprintf(want, sizeof(want), "%lu", refused);
	cr_expect(eq(str, got, want), "Status.losses per type: see %s", status);
	cr_expect(eq(int, jq_line("[.[0].lost[] | select(.source == \"rate_limit\" and "
				  ".record_type == null) | .count] | add",
				  status, got, sizeof(got)),
		     0));
	cr_expect(eq(str, got, "0"), "nothing refused by the host total");

	snprintf(metrics, sizeof(metrics), "%s/metrics.txt", agent.dir);
	cr_assert(eq(int, mm_test_sh("curl -sf http://127.0.0.1:19104/metrics > %s", metrics), 0));
	cr_expect(eq(int,
		     mm_test_sh("grep -qx 'meshmon_records_refused_total{type=\"drop\"} %lu' %s",
				refused, metrics),
		     0),
		  "see %s", metrics);
	cr_expect(eq(int,
		     mm_test_sh("grep -qx 'meshmon_records_emitted_total{type=\"drop\"} %lu' %s",
				emitted, metrics),
		     0),
		  "see %s", metrics);

	/* The monitor: LOST notices of the drop limit adding up to the refusals (polled each second). */
	for (int i = 0; i < 100; i++) {
		if (!jq_line("[.[] | select(.type == \"lost\" and .source == \"rate_limit\" and "
			     ".record_type == \"drop\") | .count] | add",
			     out, got, sizeof(got)) &&
		    !strcmp(got, want))
			break;
		usleep(100 * 1000);
	}
	cr_expect(eq(str, got, want), "the monitor's lost notices: see %s", out);
	cr_expect(eq(int, jq_line("[.[] | select(.type == \"drop\")] | length", out, got,
				  sizeof(got)),
		     0));
	snprintf(want, sizeof(want), "%lu", emitted);
	cr_expect(eq(str, got, want), "the drops delivered: see %s", out);
	kill(mon, SIGINT);
	waitpid(mon, NULL, 0);
}
