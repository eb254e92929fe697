// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-agent end to end, start and stop (agent_fixture.h): SIGTERM,
 * SIGINT, SIGQUIT and SIGHUP each detach everything and remove the socket,
 * clients get their stream's end cleanly, a missing interface is a one-line
 * error, a restart after SIGKILL logs no error, --version, systemd's
 * READY=1 / STOPPING=1 notifications, log lines without a timestamp when
 * stderr is the journal, and no record lost while the agent starts under
 * traffic.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_client.h"
#include "agent_fixture.h"
#include "harness.h"
#include "harness_agent.h"

TestSuite(agent_lifecycle, .init = agent_setup, .fini = agent_teardown, .timeout = 120);

static void read_log(char *buf, size_t cap)
{
	int fd = open(agent.log_path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, cap - 1);

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
}

/* No meshmon filter on the pair's local end, in either direction. */
static void assert_no_filters(void)
{
	for (int d = 0; d < 2; d++)
		cr_assert(ne(int, mm_test_sh("tc filter show dev %s %s 2>/dev/null | grep -q bpf",
					     pair.local_if, d ? "egress" : "ingress"),
			     0), "a tc filter is left");
}

/* Start, note the agent's links, end it with sig: exit 0, nothing attached, no socket. */
static void signal_ends_cleanly(int sig, const char *name)
{
	struct mm_test_link links[16];
	char log[8192], want[64];
	struct stat st;
	int n, status;

	start_agent("1048576", "128");
	n = mm_test_proc_links(agent.pid, links, 16);
	cr_assert(ge(int, n, 2), "the agent holds its tc links");
	cr_assert(eq(int, kill(agent.pid, sig), 0));
	status = mm_test_agent_wait(&agent);
	cr_assert(eq(int, WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0), "%s: exit 0", name);
	cr_assert(ne(int, stat(agent.sock_path, &st), 0), "the socket is removed");
	for (int i = 0; i < n; i++)
		cr_assert(eq(int, mm_test_link_exists(links[i].id), 0), "link %u is gone",
			  links[i].id);
	assert_no_filters();
	cr_assert(ne(int, mm_test_sh("tc qdisc show dev %s | grep -q clsact", pair.local_if), 0),
		  "no clsact qdisc was created (TCX)");
	read_log(log, sizeof(log));
	snprintf(want, sizeof(want), "signal %d (", sig);
	cr_assert(strstr(log, want) != NULL, "the log names the signal: %s", log);
	cr_assert(strstr(log, "stopped; everything detached") != NULL, "%s", log);
}

Test(agent_lifecycle, sigterm_detaches_everything)
{
	signal_ends_cleanly(SIGTERM, "SIGTERM");
}

Test(agent_lifecycle, sigint_detaches_everything)
{
	signal_ends_cleanly(SIGINT, "SIGINT");
}

Test(agent_lifecycle, sighup_detaches_everything)
{
	signal_ends_cleanly(SIGHUP, "SIGHUP");
}

Test(agent_lifecycle, sigquit_detaches_everything)
{
	signal_ends_cleanly(SIGQUIT, "SIGQUIT");
}

/* A subscribed client reads the end of its stream (EOF), not a reset, when the agent stops. */
Test(agent_lifecycle, clients_get_a_clean_end_of_stream)
{
	struct client c;
	char buf[4096];
	ssize_t n;

	start_agent("1048576", "128");
	client_subscribe(&c, 0, 0);
	client_poll(&c, 200);
	cr_assert(eq(int, mm_test_sh("ping -c 3 -i 0.1 -q 10.199.0.2 >/dev/null"), 0));
	cr_assert(eq(int, stop_agent(), 0));
	do
		n = read(c.fd, buf, sizeof(buf));
	while (n > 0);
	cr_assert(eq(long, (long)n, 0L), "EOF, not an error (%s)", n < 0 ? strerror(errno) : "");
	client_close(&c);
}

Test(agent_lifecycle, missing_interface_is_a_one_line_error)
{
	const char *argv[] = {"meshmon-agent", "--iface", "mm-nope0", "--socket",
			      agent.sock_path, NULL};
	int status, fd;
	char buf[1024] = "";
	ssize_t n;

	/* Its whole output, stdout and stderr, goes to the log. */
	cr_assert(eq(int, mm_test_agent_spawn(&agent, argv), 0));
	status = mm_test_agent_wait(&agent);
	cr_assert(eq(int, WIFEXITED(status) != 0, 1));
	cr_assert(eq(int, WEXITSTATUS(status), 1));
	fd = open(agent.log_path, O_RDONLY);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	cr_assert(gt(sz, (size_t)n, 0));
	buf[n] = '\0';
	cr_assert(strstr(buf, "mm-nope0") != NULL, "%s", buf);
	cr_assert(eq(int, (int)(strchr(buf, '\n') - buf), (int)strlen(buf) - 1), "one line: %s",
		  buf);
}

Test(agent_lifecycle, restart_after_sigkill_logs_no_error)
{
	struct mm_test_link links[16];
	char log[8192];
	struct client c;
	int n;

	start_agent("1048576", "128");
	n = mm_test_proc_links(agent.pid, links, 16);
	cr_assert(ge(int, n, 2));
	mm_test_agent_kill(&agent);
	/* The kernel detached the dead agent's links; only its socket file is left. */
	for (int i = 0; i < n; i++)
		cr_assert(eq(int, mm_test_link_exists(links[i].id), 0), "link %u is gone",
			  links[i].id);
	assert_no_filters();
	cr_assert(ne(int, client_connect(&c), 0), "nobody listens on the stale socket");
	client_close(&c);

	cr_assert(eq(int, truncate(agent.log_path, 0), 0));
	start_agent("1048576", "128");
	cr_assert(eq(int, mm_test_proc_links(agent.pid, links, 16), n), "one set of links");
	cr_assert(eq(int, mm_test_sh("ping -c 2 -i 0.1 -q 10.199.0.2 >/dev/null"), 0));
	read_log(log, sizeof(log));
	cr_assert(strstr(log, "libbpf") == NULL, "no libbpf message on restart: %s", log);
	cr_assert(strstr(log, "rror") == NULL, "no error on restart: %s", log);
	cr_assert(strstr(log, "TCX links") != NULL, "the log says how tc is attached: %s", log);
	cr_assert(eq(int, stop_agent(), 0));
	assert_no_filters();
}

Test(agent_lifecycle, version)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "%s --version | grep -Eq '^meshmon-agent [0-9]+\\.[0-9]+\\.[0-9]+'",
		 MESHMON_AGENT_PATH);
	cr_assert(eq(int, mm_test_sh("%s", cmd), 0), "meshmon-agent --version");
}

/* A datagram socket standing in for systemd's NOTIFY_SOCKET. */
static int notify_socket(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert(ge(int, fd, 0));
	cr_assert(lt(sz, strlen(path), sizeof(addr.sun_path)));
	memcpy(addr.sun_path, path, strlen(path) + 1);
	cr_assert(eq(int, bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0));
	return fd;
}

/* The next notification within ms, into buf ("" on timeout). */
static void notify_read(int fd, char *buf, size_t cap, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ssize_t n = 0;

	buf[0] = '\0';
	if (poll(&p, 1, ms) == 1)
		n = recv(fd, buf, cap - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
}

Test(agent_lifecycle, systemd_notify_ready_and_stopping)
{
	char path[160], msg[512];
	int fd;

	snprintf(path, sizeof(path), "%s/notify.sock", agent.dir);
	fd = notify_socket(path);
	cr_assert(eq(int, setenv("NOTIFY_SOCKET", path, 1), 0));
	start_agent("1048576", "128");
	notify_read(fd, msg, sizeof(msg), 5000);
	cr_assert(strstr(msg, "READY=1") != NULL, "READY=1 once the socket is up: '%s'", msg);
	cr_assert(eq(int, stop_agent(), 0));
	notify_read(fd, msg, sizeof(msg), 5000);
	cr_assert(strstr(msg, "STOPPING=1") != NULL, "STOPPING=1 on the way out: '%s'", msg);
	unsetenv("NOTIFY_SOCKET");
	close(fd);
}

/* stderr is the journal (JOURNAL_STREAM = its device:inode): no timestamp of our own. */
Test(agent_lifecycle, no_timestamp_when_stderr_is_the_journal)
{
	char log[8192], js[64];
	struct stat st;
	int fd;

	fd = open(agent.log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert(ge(int, fd, 0));
	cr_assert(eq(int, fstat(fd, &st), 0));
	close(fd);
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	cr_assert(eq(int, setenv("JOURNAL_STREAM", js, 1), 0));
	start_agent("1048576", "128");
	cr_assert(eq(int, stop_agent(), 0));
	unsetenv("JOURNAL_STREAM");
	read_log(log, sizeof(log));
	cr_assert(strncmp(log, "meshmon-agent: ", 15) == 0, "no timestamp: %s", log);
	cr_assert(strstr(log, "\n20") == NULL, "no line starts with a date: %s", log);
}

/*
 * Started while packets flow: the rings' reader exists before any hook is
 * attached, so no record is written into a ring nobody reads (a perf write
 * that fails, counted as datapath loss). Before the order was fixed this saw
 * hundreds of such losses per start.
 */
Test(agent_lifecycle, no_record_lost_while_starting_under_traffic)
{
	struct client c = {.fd = -1};

	cr_assert(eq(int, mm_test_sh("(timeout 8 ping -f -q 10.199.0.2 >/dev/null 2>&1 &)"), 0));
	usleep(500000); /* the flood runs */
	start_agent("1048576", "128");
	usleep(1500000); /* the losses are read once a second */
	client_status(&c);
	cr_expect(gt(u64, c.status_events, 1000), "the agent saw the flood (%lu events)",
		  (unsigned long)c.status_events);
	cr_expect(eq(u64, c.status_datapath_lost, 0), "records lost while starting");
	client_close(&c);
	cr_assert(eq(int, stop_agent(), 0));
	mm_test_sh("pkill -f 'ping -f -q 10.199.0.2' 2>/dev/null");
}
