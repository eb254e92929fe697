// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `meshmon monitor` across a restart of the real meshmon-agent on a private
 * network namespace pair: the CLI runs in the background, the agent is
 * killed (SIGKILL) or stopped (SIGTERM) and started again on the same
 * socket, and the output must hold events of both agents with exactly one
 * reconnect notice between them (JSON object or text line), the same filters
 * after the reconnect, and exit 0 on SIGINT; an agent back under another
 * --node-name names the lines after the reconnect. And where it must not
 * reconnect: --no-reconnect and --count end as before (exit 1),
 * --reconnect-timeout gives up with exit 3, Ctrl-C in the back-off exits 0.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "cli_agent.h"
#include "harness_agent.h"

#ifndef MESHMON_AGENT_PATH
#error "MESHMON_AGENT_PATH must name the built meshmon-agent"
#endif
#ifndef MESHMON_CLI_PATH
#error "MESHMON_CLI_PATH must name the built meshmon"
#endif

/* The CLI in the background: its pid, stdout and stderr files. */
static struct {
	pid_t pid;
	char out[160], err[160];
} cli;

static void setup(void)
{
	cli_agent_setup("cli-reconn");
}

static void teardown(void)
{
	if (cli.pid > 0) {
		kill(cli.pid, SIGKILL);
		waitpid(cli.pid, NULL, 0);
		cli.pid = 0;
	}
	cli_agent_teardown();
}

TestSuite(cli_reconnect, .init = setup, .fini = teardown, .timeout = 120);

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* The wall clock as the CLI prints it: 2026-12-01T10:00:01.123456789Z. */
static void now_rfc3339(char *buf, size_t cap)
{
	struct timespec ts;
	struct tm tm;
	char s[24];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, cap, "%.20s.%09ldZ", s, ts.tv_nsec % 1000000000L);
}

/* Starts `meshmon ARGS --socket S` with stdout and stderr in files of the test's directory. */
static void cli_start(const char *args)
{
	char cmd[1024];

	snprintf(cli.out, sizeof(cli.out), "%s/cli.out", agent.dir);
	snprintf(cli.err, sizeof(cli.err), "%s/cli.err", agent.dir);
	snprintf(cmd, sizeof(cmd), "exec %s %s --socket %s >%s 2>%s", MESHMON_CLI_PATH, args,
		 agent.sock_path, cli.out, cli.err);
	fflush(NULL);
	cli.pid = fork();
	cr_assert(ge(int, cli.pid, 0));
	if (cli.pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
}

/* The CLI's exit code within timeout_ms, or -1 (then it is killed). */
static int cli_wait(int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	int st;

	for (;;) {
		if (waitpid(cli.pid, &st, WNOHANG) == cli.pid) {
			cli.pid = 0;
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		}
		if (now_ms() >= end)
			break;
		sleep_ms(20);
	}
	kill(cli.pid, SIGKILL);
	waitpid(cli.pid, NULL, 0);
	cli.pid = 0;
	return -1;
}

/* Whether a shell test on path holds; %s in test is replaced by path. */
static bool holds(const char *test, const char *path)
{
	char t[512], cmd[1024];

	snprintf(t, sizeof(t), test, path);
	snprintf(cmd, sizeof(cmd), "%s >/dev/null 2>&1", t);
	return system(cmd) == 0;
}

/* Pings the peer until test holds on path: false after tries rounds. */
static bool ping_until(const char *test, const char *path, int tries)
{
	while (tries-- > 0) {
		mm_test_sh("ping -c 1 -W 1 10.199.0.2 >/dev/null 2>&1");
		if (holds(test, path))
			return true;
		sleep_ms(100);
	}
	return false;
}

/* Waits up to timeout_ms for test to hold on path, without traffic. */
static bool wait_until(const char *test, const char *path, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;

	while (!holds(test, path)) {
		if (now_ms() >= end)
			return false;
		sleep_ms(50);
	}
	return true;
}

/* TCP and UDP to the peer: what a --proto icmp subscription must keep out. */
static void other_traffic(void)
{
	mm_test_sh("nc -z -w1 10.199.0.2 80; echo x | nc -u -w0 10.199.0.2 9; true");
}

/* The stderr notes of one outage, exactly once each. */
static void check_outage_notes(void)
{
	char t[512];

	snprintf(t, sizeof(t),
		 "test $(grep -cxF 'meshmon: the agent went away; reconnecting to %s ...' %%s) = 1",
		 agent.sock_path);
	cr_assert(holds(t, cli.err), "no single 'went away' note in %s", cli.err);
	snprintf(t, sizeof(t),
		 "test $(grep -cx 'meshmon: reconnected to %s after [0-9.]*[mun]*s' %%s) = 1",
		 agent.sock_path);
	cr_assert(holds(t, cli.err), "no single 'reconnected' note in %s", cli.err);
}

Test(cli_reconnect, json_across_agent_kill)
{
	char t_kill[48], t_int[48], f[1024];

	cli_start("monitor --json --proto icmp");
	cr_assert(ping_until("grep -q '\"type\":\"trace\"' %s", cli.out, 50),
		  "no event before the restart; see %s", cli.err);
	now_rfc3339(t_kill, sizeof(t_kill));
	cr_assert(ge(int, mm_test_agent_kill(&agent), 0));
	cr_assert(wait_until("grep -q 'went away' %s", cli.err, 5000), "see %s", cli.err);
	sleep_ms(300);
	cli_agent_start();
	cr_assert(wait_until("grep -q 'reconnected to' %s", cli.err, 10000), "see %s", cli.err);
	other_traffic();
	cr_assert(ping_until("jq -e -s '(map(.type == \"reconnected\") | index(true)) as $i | $i != null and (.[$i+1:] | any(.type == \"trace\"))' %s",
			     cli.out, 50),
		  "no event after the restart; see %s", cli.out);
	now_rfc3339(t_int, sizeof(t_int));
	kill(cli.pid, SIGINT);
	cr_assert(eq(int, cli_wait(5000), 0), "see %s", cli.err);

	/* Exactly one notice, with events of the old agent before it and of the new one after. */
	cr_assert(eq(int, mm_test_jq("map(select(.type == \"reconnected\")) | length == 1", cli.out), 0));
	cr_assert(eq(int, mm_test_jq("(map(.type == \"reconnected\") | index(true)) as $i | $i > 0 and (.[:$i] | all(.type == \"trace\")) and (.[$i+1:] | any(.type == \"trace\"))", cli.out), 0));
	/* Its keys: the gap from the last event before it to the new Hello. */
	cr_assert(eq(int, mm_test_jq("map(select(.type == \"reconnected\"))[0] | keys == [\"down_ns\", \"gap_end\", \"gap_start\", \"node\", \"type\"] and (.down_ns | type == \"number\") and .down_ns > 300000000", cli.out), 0));
	snprintf(f, sizeof(f),
		 "(map(.type == \"reconnected\") | index(true)) as $i | .[$i] as $r | "
		 "$r.gap_start <= $r.gap_end and $r.gap_start == .[$i-1].time and "
		 "$r.gap_end >= \"%s\" and $r.gap_end <= \"%s\" and .[$i+1].time > $r.gap_start",
		 t_kill, t_int);
	cr_assert(eq(int, mm_test_jq(f, cli.out), 0), "gap times wrong in %s", cli.out);
	/* The same filters after the reconnect: ICMP only, though TCP and UDP flowed. */
	cr_assert(eq(int, mm_test_jq("all(.type == \"reconnected\" or .tuple.proto == \"icmp\")", cli.out), 0));
	check_outage_notes();
}

/*
 * The text notice: its line, its two times; the Listening header never on
 * stdout, once on stderr (the first line there), not again after the reconnect.
 */
static void check_text_notice(const char *path)
{
	char line[512], a[64], b[64];
	int before = 0, after = 0, notices = 0, listening = 0;
	FILE *fp = fopen(path, "r");

	cr_assert(fp != NULL);
	while (fgets(line, sizeof(line), fp)) {
		if (strncmp(line, "Listening for events", 20) == 0) {
			listening++;
		} else if (strncmp(line, "-- reconnected:", 15) == 0) {
			notices++;
			cr_assert(eq(int, sscanf(line, "-- reconnected: events between %63s and %63s were not seen", a, b), 2), "%s", line);
			cr_assert(strstr(line, " were not seen (agent restarted)\n") != NULL, "%s", line);
			cr_assert(le(int, strcmp(a, b), 0), "gap_start %s after gap_end %s", a, b);
		} else if (strstr(line, ": 10.199.0.1 -> 10.199.0.2 EchoRequest\n")) {
			if (notices)
				after++;
			else
				before++;
		} else {
			/* Replies and port unreachables are ICMP too; TCP and UDP must not come. */
			cr_assert(strstr(line, " tcp") == NULL && strstr(line, " udp\n") == NULL &&
					  strstr(line, ": 10.199.0.") != NULL,
				  "unexpected line in %s: %s", path, line);
		}
	}
	fclose(fp);
	cr_assert(eq(int, listening, 0));
	cr_assert(holds("head -1 %s | grep -qx 'Listening for events on [0-9]* CPUs with 64 pages of [0-9]* bytes per CPU'",
			cli.err), "see %s", cli.err);
	cr_assert(holds("test $(grep -c '^Listening for events' %s) = 1", cli.err), "see %s", cli.err);
	cr_assert(eq(int, notices, 1));
	cr_assert(gt(int, before, 0));
	cr_assert(gt(int, after, 0));
}

Test(cli_reconnect, text_across_agent_stop)
{
	cli_start("monitor --proto icmp");
	cr_assert(ping_until("grep -q 'EchoRequest$' %s", cli.out, 50), "see %s", cli.err);
	cr_assert(eq(int, mm_test_agent_stop(&agent, 5000), 0), "see %s", agent.log_path);
	cr_assert(wait_until("grep -q 'went away' %s", cli.err, 5000), "see %s", cli.err);
	cli_agent_start();
	cr_assert(wait_until("grep -q 'reconnected to' %s", cli.err, 10000), "see %s", cli.err);
	other_traffic();
	cr_assert(ping_until("sed -n '/^-- reconnected:/,$p' %s | grep -q 'EchoRequest$'", cli.out, 50),
		  "no event after the restart; see %s", cli.out);
	kill(cli.pid, SIGINT);
	cr_assert(eq(int, cli_wait(5000), 0), "see %s", cli.err);
	check_text_notice(cli.out);
	check_outage_notes();
}

/* Starts the CLI with args and waits until it streams (an event arrived). */
static void cli_streaming(const char *args)
{
	cli_start(args);
	cr_assert(ping_until("grep -q 'EchoRequest' %s", cli.out, 50), "see %s", cli.err);
}

/* stderr of a run that ended with the agent: the header, then the one error line. */
static void check_closed_err(void)
{
	cr_assert(holds("head -1 %s | grep -qx 'Listening for events on [0-9]* CPUs with 64 pages of [0-9]* bytes per CPU'",
			cli.err), "see %s", cli.err);
	cr_assert(holds("test \"$(sed 1d %s)\" = 'meshmon: the agent closed the connection'", cli.err),
		  "see %s", cli.err);
}

Test(cli_reconnect, no_reconnect_exits_1)
{
	cli_streaming("monitor --no-reconnect --proto icmp");
	cr_assert(eq(int, mm_test_agent_stop(&agent, 5000), 0));
	cr_assert(eq(int, cli_wait(5000), 1), "see %s", cli.err);
	check_closed_err();
}

Test(cli_reconnect, count_does_not_reconnect)
{
	cli_streaming("monitor -c 1000 --proto icmp");
	cr_assert(ge(int, mm_test_agent_kill(&agent), 0));
	cr_assert(eq(int, cli_wait(5000), 1), "see %s", cli.err);
	check_closed_err();
}

Test(cli_reconnect, timeout_gives_up_with_3)
{
	char want[512];
	long long t0;
	int rc;

	cli_streaming("monitor --json --reconnect-timeout 1 --proto icmp");
	t0 = now_ms();
	cr_assert(ge(int, mm_test_agent_kill(&agent), 0));
	rc = cli_wait(6000);
	cr_assert(eq(int, rc, 3), "see %s", cli.err);
	cr_assert(ge(int, (int)(now_ms() - t0), 1000));
	/* The give-up is the JSON error object, the last line of stdout. */
	snprintf(want, sizeof(want),
		 "test \"$(tail -1 %%s)\" = '{\"error\":\"the agent at %s did not come back within 1s; giving up (see --reconnect-timeout)\"}'",
		 agent.sock_path);
	cr_assert(holds(want, cli.out), "see %s", cli.out);
	cr_assert(eq(int, mm_test_jq("map(select(.type == \"reconnected\")) | length == 0", cli.out), 0));
	cr_assert(holds("grep -q 'went away; reconnecting' %s", cli.err), "see %s", cli.err);
}

Test(cli_reconnect, ctrl_c_in_backoff_exits_0)
{
	long long t0;

	cli_streaming("monitor --reconnect-timeout 0 --proto icmp");
	cr_assert(ge(int, mm_test_agent_kill(&agent), 0));
	cr_assert(wait_until("grep -q 'went away' %s", cli.err, 5000), "see %s", cli.err);
	sleep_ms(1500); /* into the longer waits of the back-off */
	t0 = now_ms();
	kill(cli.pid, SIGINT);
	cr_assert(eq(int, cli_wait(5000), 0), "see %s", cli.err);
	cr_assert(lt(int, (int)(now_ms() - t0), 500), "Ctrl-C took %lld ms", now_ms() - t0);
	cr_assert(not(holds("grep -q 'reconnected' %s", cli.out)));
}

/* An agent that comes back under another --node-name: the lines after the reconnect say so. */
Test(cli_reconnect, node_name_of_the_agent_that_answered)
{
	const char *renamed[] = {"--node-name", "renamed-node", NULL};

	cr_assert(eq(int, mm_test_agent_stop(&agent, 5000), 0));
	cli_agent_start_with((const char *[]){"--node-name", "first-node", NULL});
	cli_start("monitor --json --proto icmp");
	cr_assert(ping_until("grep -q '\"type\":\"trace\"' %s", cli.out, 50),
		  "no event before the restart; see %s", cli.err);
	cr_assert(ge(int, mm_test_agent_kill(&agent), 0));
	cr_assert(wait_until("grep -q 'went away' %s", cli.err, 5000), "see %s", cli.err);
	cli_agent_start_with(renamed);
	cr_assert(wait_until("grep -q 'reconnected to' %s", cli.err, 10000), "see %s", cli.err);
	cr_assert(ping_until("jq -e -s '(map(.type == \"reconnected\") | index(true)) as $i | $i != "
			     "null and (.[$i+1:] | any(.type == \"trace\"))' %s",
			     cli.out, 50),
		  "no event after the restart; see %s", cli.out);
	kill(cli.pid, SIGINT);
	cr_assert(eq(int, cli_wait(5000), 0), "see %s", cli.err);
	cr_assert(holds("jq -e -s '(map(.type == \"reconnected\") | index(true)) as $i | "
			"(.[:$i] | all(.node == \"first-node\")) and (.[$i:] | all(.node == "
			"\"renamed-node\"))' %s",
			cli.out),
		  "the node before and after the reconnect: see %s", cli.out);
}
