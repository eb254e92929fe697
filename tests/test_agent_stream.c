// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-agent end to end: the real daemon on one end of a veth pair in a
 * private network namespace, real traffic, and minimal clients written here
 * from proto/framing alone. Checks subscriptions, a client that stops
 * reading, garbage on the socket, Status, and a clean SIGTERM detach; and,
 * with a private cgroup holding the test process, tcp_probe and kernel drops
 * through the agent, and that SIGTERM detaches their programs too.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "framing.h"
#include "harness.h"
#include "tcp_probe.h"

#ifndef MESHMON_AGENT_PATH
#error "MESHMON_AGENT_PATH must name the built meshmon-agent"
#endif

static struct mm_test_pair pair;
static uint32_t next_replay; /* Subscribe.replay of the next client_subscribe() */
/* Subscribe.types of the next client_subscribe() (none: every type) */
static Meshmon__V1__EventType *next_types;
static size_t next_n_types;
static char cg_root[256], cg_dir[512]; /* a private cgroup holding the test, when used */
static char tmpdir[64], sock_path[128], log_path[128];
static pid_t agent = -1;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* --- a minimal client ------------------------------------------------------ */

/* The fields of one event that the tcp_probe and kernel drop tests look at. */
struct ev_rec {
	uint32_t type, source, proto, sport, dport;
	uint8_t src[16], dst[16];
	size_t src_len, dst_len;
	uint32_t probe_state, probe_dir, pid;
	char reason[48];
};

struct client {
	int fd;
	struct mm_frame_reader r;
	int eof;
	uint64_t events, icmp, tcp, tcp8080, other;
	uint64_t lost_queue, lost_other, notices;
	uint32_t error_code;
	int got_hello, got_status;
	uint32_t status_listeners, status_cpus;
	uint64_t status_events;
	int keep; /* set: record every event in log[] */
	struct ev_rec *log;
	size_t n_log, cap_log;
};

static int client_connect(struct client *c)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};

	memset(c, 0, sizeof(*c));
	mm_frame_reader__init(&c->r);
	strcpy(addr.sun_path, sock_path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr))) {
		close(c->fd);
		c->fd = -1;
		return -errno;
	}
	return 0;
}

static void client_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	mm_frame_reader__release(&c->r);
	free(c->log);
	c->log = NULL;
	c->n_log = c->cap_log = 0;
}

static void keep_event(struct client *c, const Meshmon__V1__Event *e)
{
	struct ev_rec *r;

	if (c->n_log == c->cap_log) {
		size_t cap = c->cap_log ? 2 * c->cap_log : 256;
		struct ev_rec *n = realloc(c->log, cap * sizeof(*n));

		cr_assert(n != NULL);
		c->log = n;
		c->cap_log = cap;
	}
	r = &c->log[c->n_log++];
	memset(r, 0, sizeof(*r));
	r->type = (uint32_t)e->type;
	r->source = (uint32_t)e->source;
	if (e->tuple) {
		r->proto = e->tuple->proto;
		r->sport = e->tuple->sport;
		r->dport = e->tuple->dport;
		r->src_len = e->tuple->src.len <= 16 ? e->tuple->src.len : 0;
		r->dst_len = e->tuple->dst.len <= 16 ? e->tuple->dst.len : 0;
		memcpy(r->src, e->tuple->src.data, r->src_len);
		memcpy(r->dst, e->tuple->dst.data, r->dst_len);
	}
	if (e->detail_case == MESHMON__V1__EVENT__DETAIL_TCP_PROBE) {
		r->probe_state = (uint32_t)e->tcp_probe->state;
		r->probe_dir = (uint32_t)e->tcp_probe->direction;
		r->pid = e->tcp_probe->pid;
	} else if (e->detail_case == MESHMON__V1__EVENT__DETAIL_DROP && e->drop->reason) {
		snprintf(r->reason, sizeof(r->reason), "%s", e->drop->reason);
	}
}

static void count_message(struct client *c, const Meshmon__V1__ServerMessage *m)
{
	switch (m->msg_case) {
	case MESHMON__V1__SERVER_MESSAGE__MSG_HELLO:
		c->got_hello = 1;
		break;
	case MESHMON__V1__SERVER_MESSAGE__MSG_EVENT: {
		const Meshmon__V1__Tuple *t = m->event->tuple;

		c->events++;
		if (c->keep)
			keep_event(c, m->event);
		if (t && t->proto == IPPROTO_ICMP)
			c->icmp++;
		else if (t && t->proto == IPPROTO_TCP) {
			c->tcp++;
			if (t->sport == 8080 || t->dport == 8080)
				c->tcp8080++;
		} else {
			c->other++;
		}
		break;
	}
	case MESHMON__V1__SERVER_MESSAGE__MSG_LOST:
		c->notices++;
		if (m->lost->source == MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_QUEUE)
			c->lost_queue += m->lost->count;
		else
			c->lost_other += m->lost->count;
		break;
	case MESHMON__V1__SERVER_MESSAGE__MSG_STATUS:
		c->got_status = 1;
		c->status_listeners = m->status->listeners;
		c->status_cpus = m->status->num_cpus;
		c->status_events = m->status->events_read;
		break;
	case MESHMON__V1__SERVER_MESSAGE__MSG_ERROR:
		c->error_code = m->error->code;
		break;
	default:
		break;
	}
}

/* Read and count whatever arrives within ms (returns early on EOF). */
static void client_poll(struct client *c, int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;
	uint8_t buf[65536];

	while (!c->eof) {
		int left = (int)(end - now_ms());
		struct pollfd pfd = {c->fd, POLLIN, 0};
		const uint8_t *p;
		size_t len;
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, left) <= 0)
			break;
		n = read(c->fd, buf, sizeof(buf));
		if (n <= 0) {
			c->eof = 1;
			break;
		}
		cr_assert(eq(int, mm_frame_reader__feed(&c->r, buf, (size_t)n), 0));
		while (mm_frame_reader__next(&c->r, &p, &len) == 1) {
			Meshmon__V1__ServerMessage *m = mm_frame__unpack_server(p, len);

			cr_assert(m != NULL, "the agent sent an undecodable frame");
			count_message(c, m);
			mm_frame__free_server(m);
		}
		if (ms == 0)
			break;
	}
}

static void client_send(struct client *c, const Meshmon__V1__ClientMessage *m)
{
	uint8_t *buf;
	size_t len;

	cr_assert(eq(int, mm_frame__encode_client(m, &buf, &len), 0));
	cr_assert(eq(sz, (size_t)write(c->fd, buf, len), len));
	free(buf);
}

/* Connect, take the Hello, subscribe to protocols (and ports) of one flow filter. */
static void client_subscribe(struct client *c, uint32_t proto, uint32_t port)
{
	Meshmon__V1__ClientMessage m = MESHMON__V1__CLIENT_MESSAGE__INIT;
	Meshmon__V1__Subscribe sub = MESHMON__V1__SUBSCRIBE__INIT;
	Meshmon__V1__FlowFilter ff = MESHMON__V1__FLOW_FILTER__INIT, *ffp = &ff;

	cr_assert(eq(int, client_connect(c), 0));
	for (int i = 0; i < 100 && !c->got_hello; i++)
		client_poll(c, 20);
	cr_assert(c->got_hello, "the agent speaks first");
	if (proto) {
		ff.n_protocols = 1;
		ff.protocols = &proto;
		if (port) {
			ff.n_ports = 1;
			ff.ports = &port;
		}
		sub.n_filters = 1;
		sub.filters = &ffp;
	}
	sub.replay = next_replay;
	sub.n_types = next_n_types;
	sub.types = next_types;
	m.msg_case = MESHMON__V1__CLIENT_MESSAGE__MSG_SUBSCRIBE;
	m.subscribe = &sub;
	client_send(c, &m);
}

/* --- the agent ------------------------------------------------------------ */

/* extra: more arguments, NULL-terminated (they come last, so they override the
 * defaults above them: a later --cgroup replaces --cgroup none). */
static void start_agent_argv(const char *queue_bytes, const char *capture, const char *const *extra)
{
	uint64_t end;

	agent = fork();
	cr_assert(ge(int, agent, 0));
	if (agent == 0) {
		int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd >= 0) {
			dup2(fd, 2);
			dup2(fd, 1);
		}
		const char *argv[32] = {"meshmon-agent", "--iface", pair.local_if, "--socket",
					sock_path, "--queue-bytes", queue_bytes, "--capture-len",
					capture, "--pages", "256", "--history", "0", "--cgroup",
					"none"};
		size_t n = 15;

		for (size_t i = 0; extra && extra[i] && n < 31; i++)
			argv[n++] = extra[i];
		argv[n] = NULL;
		execv(MESHMON_AGENT_PATH, (char *const *)argv);
		_exit(127);
	}
	end = now_ms() + 15000;
	while (now_ms() < end) {
		struct client probe;
		int status;

		if (waitpid(agent, &status, WNOHANG) == agent) {
			agent = -1;
			cr_fatal("meshmon-agent exited early (status 0x%x); see %s", status,
				 log_path);
		}
		if (client_connect(&probe) == 0) {
			client_close(&probe);
			return;
		}
		usleep(50 * 1000);
	}
	cr_fatal("the agent's socket did not appear; see %s", log_path);
}

static void start_agent_with(const char *queue_bytes, const char *capture, const char *extra,
			     const char *extra_value)
{
	const char *args[] = {extra, extra_value, NULL};

	start_agent_argv(queue_bytes, capture, args);
}

static void start_agent(const char *queue_bytes, const char *capture)
{
	start_agent_with(queue_bytes, capture, NULL, NULL);
}

static int stop_agent(void)
{
	int status = -1;

	if (agent <= 0)
		return -1;
	kill(agent, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(agent, &status, WNOHANG) == agent) {
			agent = -1;
			return status;
		}
		usleep(50 * 1000);
	}
	kill(agent, SIGKILL);
	waitpid(agent, &status, 0);
	agent = -1;
	return -1;
}

static int cgroup_enter(const char *dir, pid_t pid)
{
	char path[600], text[32];
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	snprintf(text, sizeof(text), "%d\n", (int)pid);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* A private cgroup v2 directory holding the test process; teardown removes it. */
static void enter_private_cgroup(void)
{
	cr_assert(eq(int, mm_cgroup2_root(cg_root, sizeof(cg_root)), 0));
	snprintf(cg_dir, sizeof(cg_dir), "%s/mmtest-agent-e2e-%d", cg_root, (int)getpid());
	cr_assert(eq(int, mkdir(cg_dir, 0755), 0), "mkdir %s: %s", cg_dir, strerror(errno));
	cr_assert(eq(int, cgroup_enter(cg_dir, getpid()), 0), "enter %s", cg_dir);
}

static void setup(void)
{
	cr_assert(eq(int, mm_test_private_netns(), 0));
	cr_assert(eq(int, mm_test_pair_create(&pair), 0));
	strcpy(tmpdir, "/tmp/mm-agent-e2e-XXXXXX");
	cr_assert(mkdtemp(tmpdir) != NULL);
	snprintf(sock_path, sizeof(sock_path), "%s/run/monitor.sock", tmpdir);
	snprintf(log_path, sizeof(log_path), "%s/agent.log", tmpdir);
}

static void teardown(void)
{
	char cmd[256];

	if (agent > 0) {
		kill(agent, SIGKILL);
		waitpid(agent, NULL, 0);
		agent = -1;
	}
	mm_test_pair_destroy(&pair);
	if (cg_dir[0]) {
		/* Back to the root, then the private cgroup is empty and goes. */
		cgroup_enter(cg_root, getpid());
		for (int i = 0; i < 50 && rmdir(cg_dir) && errno == EBUSY; i++)
			usleep(20 * 1000);
		cg_dir[0] = '\0';
	}
	if (tmpdir[0]) {
		if (getenv("MM_KEEP_LOGS")) {
			snprintf(cmd, sizeof(cmd), "cat %s >&2", log_path);
			(void)!system(cmd);
		}
		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
		(void)!system(cmd);
	}
}

TestSuite(agent_e2e, .init = setup, .fini = teardown, .timeout = 120);

static void settle(struct client **cs, size_t n, int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;

	while (now_ms() < end)
		for (size_t i = 0; i < n; i++)
			client_poll(cs[i], 20);
}

Test(agent_e2e, subscriptions_get_exactly_what_they_asked)
{
	struct client icmp, tcp8080, all;
	struct client *cs[] = {&icmp, &tcp8080, &all};

	start_agent("1048576", "128");
	client_subscribe(&icmp, IPPROTO_ICMP, 0);
	client_subscribe(&tcp8080, IPPROTO_TCP, 8080);
	client_subscribe(&all, 0, 0);
	settle(cs, 3, 300);

	cr_assert(eq(int,
		     mm_test_pair_sh(&pair, "(timeout 10 nc -l 8080 >/dev/null &) ; "
					    "(timeout 10 nc -l 9090 >/dev/null &)"),
		     0));
	usleep(200 * 1000);
	cr_assert(eq(int, mm_test_sh("ping -c 5 -i 0.1 -q 10.199.0.2 >/dev/null"), 0));
	cr_assert(eq(int, mm_test_sh("echo hello | nc -N -w 2 10.199.0.2 8080"), 0));
	cr_assert(eq(int, mm_test_sh("echo other | nc -N -w 2 10.199.0.2 9090"), 0));
	settle(cs, 3, 1500);

	/* 5 echo requests out and 5 replies in, on the local veth. */
	cr_assert(ge(u64, icmp.icmp, 10));
	cr_assert(eq(u64, icmp.events, icmp.icmp), "the ICMP client got only ICMP");
	cr_assert(gt(u64, tcp8080.tcp8080, 5), "a TCP exchange has several segments");
	cr_assert(eq(u64, tcp8080.events, tcp8080.tcp8080), "the 8080 client got only port 8080");
	/* Exactly: the unfiltered client saw the same number of each. */
	cr_assert(eq(u64, all.icmp, icmp.icmp));
	cr_assert(eq(u64, all.tcp8080, tcp8080.tcp8080));
	cr_assert(gt(u64, all.tcp, all.tcp8080), "port 9090 traffic was seen, and filtered out");
	cr_assert(eq(u64, icmp.lost_queue + tcp8080.lost_queue + all.lost_queue, 0));
	for (size_t i = 0; i < 3; i++)
		client_close(cs[i]);
	cr_assert(eq(int, stop_agent(), 0), "SIGTERM exits 0");
}

Test(agent_e2e, a_stalled_client_costs_the_other_nothing_and_learns_its_loss)
{
	struct client fast, slow;
	struct client *cs[] = {&fast};
	const int pings = 1500;
	uint64_t end;

	start_agent("4096", "1500");
	client_subscribe(&fast, IPPROTO_ICMP, 0);
	client_subscribe(&slow, IPPROTO_ICMP, 0);
	settle(cs, 1, 300);

	/* ~1.5 KB events, about 3000 of them in 3 s: far beyond the stalled client's
	 * 4 KiB queue plus its socket buffer. The fast client keeps reading meanwhile,
	 * with the same 4 KiB budget. */
	cr_assert(eq(
	    int, mm_test_sh("ping -i 0.002 -c %d -s 1400 -q 10.199.0.2 >/dev/null &", pings), 0));
	end = now_ms() + 30000;
	while (now_ms() < end && fast.icmp + fast.lost_other + fast.lost_queue < 2ull * pings)
		client_poll(&fast, 50);
	settle(cs, 1, 500);
	cr_assert(ge(u64, fast.icmp + fast.lost_other, 2ull * pings),
		  "the fast client got %lu events and %lu + %lu reported losses",
		  (unsigned long)fast.icmp, (unsigned long)fast.lost_other,
		  (unsigned long)fast.lost_queue);
	cr_assert(eq(u64, fast.lost_queue, 0), "the fast client's queue never overflowed");

	/* The stalled client reads at last: its queue, then the coalesced notice. */
	end = now_ms() + 10000;
	while (now_ms() < end && slow.events + slow.lost_queue < fast.events)
		client_poll(&slow, 50);
	client_poll(&slow, 300);
	cr_assert(gt(u64, slow.lost_queue, 0), "a QUEUE lost notice arrived");
	cr_assert(lt(u64, slow.events, fast.events / 2), "the stalled client's queue was bounded");
	cr_assert(eq(u64, slow.events + slow.lost_queue, fast.events),
		  "delivered %lu + lost %lu == emitted %lu", (unsigned long)slow.events,
		  (unsigned long)slow.lost_queue, (unsigned long)fast.events);
	cr_assert(eq(u64, slow.lost_other, fast.lost_other), "upstream losses reach both");
	cr_assert(le(u64, slow.notices, 1 + fast.notices), "losses are coalesced");
	client_close(&fast);
	client_close(&slow);
	cr_assert(eq(int, stop_agent(), 0));
}

Test(agent_e2e, garbage_gets_an_error_and_others_stay_served)
{
	struct client good, bad, big, status;
	struct client *cs[] = {&good};
	const uint8_t garbage[] = {0, 0, 0, 6, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	const uint8_t oversized[] = {0xff, 0xff, 0xff, 0xff};
	Meshmon__V1__ClientMessage m = MESHMON__V1__CLIENT_MESSAGE__INIT;
	Meshmon__V1__StatusRequest sr = MESHMON__V1__STATUS_REQUEST__INIT;

	start_agent("1048576", "128");
	client_subscribe(&good, IPPROTO_ICMP, 0);
	settle(cs, 1, 200);

	cr_assert(eq(int, client_connect(&bad), 0));
	cr_assert(eq(sz, (size_t)write(bad.fd, garbage, sizeof(garbage)), sizeof(garbage)));
	client_poll(&bad, 3000);
	cr_assert(bad.got_hello);
	cr_assert(eq(u32, bad.error_code, MESHMON__V1__ERROR_CODE__ERROR_CODE_BAD_FRAME));
	cr_assert(bad.eof, "the agent closed the garbage client");

	cr_assert(eq(int, client_connect(&big), 0));
	cr_assert(eq(sz, (size_t)write(big.fd, oversized, sizeof(oversized)), sizeof(oversized)));
	client_poll(&big, 3000);
	cr_assert(eq(u32, big.error_code, MESHMON__V1__ERROR_CODE__ERROR_CODE_FRAME_TOO_LARGE));
	cr_assert(big.eof);

	cr_assert(eq(int, mm_test_sh("ping -c 3 -i 0.1 -q 10.199.0.2 >/dev/null"), 0));
	settle(cs, 1, 800);
	cr_assert(ge(u64, good.icmp, 6), "the subscribed client is still served");
	cr_assert(eq(int, good.eof, 0));

	cr_assert(eq(int, client_connect(&status), 0));
	m.msg_case = MESHMON__V1__CLIENT_MESSAGE__MSG_STATUS_REQUEST;
	m.status_request = &sr;
	client_send(&status, &m);
	client_poll(&status, 3000);
	cr_assert(status.got_status);
	cr_assert(gt(u32, status.status_cpus, 0));
	cr_assert(eq(u32, status.status_listeners, 1));
	cr_assert(ge(u64, status.status_events, good.icmp));
	cr_assert(status.eof, "status is answered, then the connection closes");

	client_close(&good);
	client_close(&bad);
	client_close(&big);
	client_close(&status);
	cr_assert(eq(int, stop_agent(), 0));
}

Test(agent_e2e, sigterm_detaches_everything)
{
	char out[4096] = "";
	FILE *f;
	size_t n;
	struct stat st;

	start_agent("1048576", "128");
	snprintf(out, sizeof(out), "tc filter show dev %s ingress | grep -c bpf", pair.local_if);
	cr_assert(eq(int, mm_test_sh("%s >/dev/null", out), 0), "the agent attached a filter");

	cr_assert(eq(int, stop_agent(), 0), "SIGTERM exits 0");
	cr_assert(ne(int, stat(sock_path, &st), 0), "the socket is removed");
	for (int d = 0; d < 2; d++) {
		snprintf(out, sizeof(out), "tc filter show dev %s %s 2>&1", pair.local_if,
			 d ? "egress" : "ingress");
		f = popen(out, "r");
		cr_assert(f != NULL);
		n = fread(out, 1, sizeof(out) - 1, f);
		out[n] = '\0';
		pclose(f);
		cr_assert(strstr(out, "bpf") == NULL && strstr(out, "mm_") == NULL ? 1 : 0,
			  "a meshmon filter is left: %s", out);
	}
	/* The agent created clsact, so it removed it as well. */
	cr_assert(ne(int, mm_test_sh("tc qdisc show dev %s | grep -q clsact", pair.local_if), 0));
}

Test(agent_e2e, missing_interface_is_a_one_line_error)
{
	int status, fd;
	char buf[1024] = "";
	ssize_t n;

	agent = fork();
	cr_assert(ge(int, agent, 0));
	if (agent == 0) {
		int lfd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(lfd, 2);
		execl(MESHMON_AGENT_PATH, "meshmon-agent", "--iface", "mm-nope0", "--socket",
		      sock_path, (char *)NULL);
		_exit(127);
	}
	waitpid(agent, &status, 0);
	agent = -1;
	cr_assert(eq(int, WIFEXITED(status) != 0, 1));
	cr_assert(eq(int, WEXITSTATUS(status), 1));
	fd = open(log_path, O_RDONLY);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	cr_assert(gt(sz, (size_t)n, 0));
	buf[n] = '\0';
	cr_assert(strstr(buf, "mm-nope0") != NULL, "%s", buf);
	cr_assert(eq(int, (int)(strchr(buf, '\n') - buf), (int)strlen(buf) - 1), "one line: %s",
		  buf);
}

Test(agent_e2e, metrics_serve_prometheus_text)
{
	char path[160];

	start_agent_with("1048576", "128", "--metrics", "127.0.0.1:19101");
	cr_assert(eq(int, mm_test_sh("ping -c 3 -i 0.1 -q 10.199.0.2 >/dev/null"), 0));
	usleep(300 * 1000);
	snprintf(path, sizeof(path), "%s/metrics.txt", tmpdir);
	cr_assert(eq(int, mm_test_sh("curl -sf http://127.0.0.1:19101/metrics > %s", path), 0));
	cr_assert(eq(int,
		     mm_test_sh("grep -Eq "
				"'^meshmon_traffic_packets_total\\{direction=\"egress\",reason="
				"\"forwarded\"\\} [1-9]' %s",
				path),
		     0));
	cr_assert(eq(int,
		     mm_test_sh("grep -Eq "
				"'^meshmon_traffic_bytes_total\\{direction=\"ingress\",reason="
				"\"forwarded\"\\} [1-9]' %s",
				path),
		     0));
	cr_assert(eq(
	    int, mm_test_sh("grep -Eq '^meshmon_events_total\\{type=\"trace\"\\} [1-9]' %s", path),
	    0));
	cr_assert(
	    eq(int, mm_test_sh("grep -q '^meshmon_lost_events_total{source=\"queue\"} 0' %s", path),
	       0));
	cr_assert(eq(int, mm_test_sh("grep -q '^meshmon_listeners 0' %s", path), 0));
	cr_assert(ne(int, mm_test_sh("grep -q '10\\.199' %s", path), 0), "no addresses in labels");
	cr_assert(eq(int, stop_agent(), 0));
}

Test(agent_e2e, socket_is_0660_and_refuses_other_users)
{
	struct stat st;
	int status;
	pid_t child;

	start_agent("1048576", "128");
	cr_assert(eq(int, stat(sock_path, &st), 0));
	cr_assert(eq(u32, (uint32_t)(st.st_mode & 07777), 0660));
	cr_assert(eq(u32, (uint32_t)st.st_uid, 0));
	child = fork();
	cr_assert(ge(int, child, 0));
	if (child == 0) {
		struct client c;
		int rc;

		if (setgid(65534) || setuid(65534))
			_exit(10);
		rc = client_connect(&c);
		if (rc == -EACCES)
			_exit(0); /* the file mode refused it */
		if (rc)
			_exit(11);
		client_poll(&c, 2000); /* else the agent must refuse it with an Error */
		_exit(c.error_code || c.eof ? (c.got_hello ? 12 : 0) : 13);
	}
	waitpid(child, &status, 0);
	cr_assert(eq(int, WIFEXITED(status) != 0, 1));
	cr_assert(eq(int, WEXITSTATUS(status), 0), "an unprivileged user was served");
	cr_assert(eq(int, stop_agent(), 0));
}

Test(agent_e2e, client_cap_and_handshake_deadline)
{
	struct client a, idle, extra;
	uint64_t t0;

	start_agent_with("1048576", "128", "--max-listeners", "2");
	client_subscribe(&a, 0, 0);
	cr_assert(eq(int, client_connect(&idle), 0));
	client_poll(&idle, 300);
	cr_assert(eq(int, idle.got_hello, 1));

	/* Two clients already (one subscribed, one handshaking): a third is refused. */
	cr_assert(eq(int, client_connect(&extra), 0));
	client_poll(&extra, 3000);
	cr_assert(eq(u32, extra.error_code, MESHMON__V1__ERROR_CODE__ERROR_CODE_TOO_MANY_CLIENTS));
	cr_assert(eq(int, extra.eof, 1));

	/* The idle one is closed at the handshake deadline (5 s). */
	t0 = now_ms();
	client_poll(&idle, 8000);
	cr_assert(eq(u32, idle.error_code, MESHMON__V1__ERROR_CODE__ERROR_CODE_HANDSHAKE_TIMEOUT));
	cr_assert(eq(int, idle.eof, 1));
	cr_assert(lt(u64, now_ms() - t0, 7000));
	client_poll(&a, 100);
	cr_assert(eq(int, a.eof, 0), "the subscribed client is unaffected");
	client_close(&a);
	client_close(&idle);
	client_close(&extra);
	cr_assert(eq(int, stop_agent(), 0));
}

Test(agent_e2e, replay_sends_stored_events_first)
{
	struct client late;

	start_agent_with("1048576", "128", "--history", "100");
	cr_assert(eq(int, mm_test_sh("ping -c 4 -i 0.1 -q 10.199.0.2 >/dev/null"), 0));
	usleep(300 * 1000); /* past the 10 ms drain timer */
	next_replay = 5;
	client_subscribe(&late, IPPROTO_ICMP, 0);
	next_replay = 0;
	client_poll(&late, 500);
	cr_assert(eq(u64, late.events, 5), "the newest 5 of 8 stored ICMP events");
	cr_assert(eq(u64, late.icmp, 5));
	client_close(&late);
	cr_assert(eq(int, stop_agent(), 0));
}

Test(agent_e2e, restart_after_sigkill_replaces_filters_and_socket)
{
	struct client c;
	int status;

	start_agent("1048576", "128");
	kill(agent, SIGKILL);
	waitpid(agent, &status, 0);
	agent = -1;
	/* The dead agent left its filters and its socket file behind. */
	cr_assert(
	    eq(int, mm_test_sh("tc filter show dev %s ingress | grep -q bpf", pair.local_if), 0));
	cr_assert(ne(int, client_connect(&c), 0), "nobody listens on the stale socket");

	start_agent("1048576", "128");
	for (int d = 0; d < 2; d++)
		cr_assert(
		    eq(int,
		       mm_test_sh(
			   "test $(tc filter show dev %s %s | grep -c 'bpf.*direct-action') -eq 1",
			   pair.local_if, d ? "egress" : "ingress"),
		       0),
		    "one meshmon filter, not two");
	cr_assert(eq(int, mm_test_sh("ping -c 2 -i 0.1 -q 10.199.0.2 >/dev/null"), 0));
	cr_assert(eq(int, stop_agent(), 0));
	cr_assert(
	    ne(int,
	       mm_test_sh("tc filter show dev %s ingress 2>/dev/null | grep -q bpf", pair.local_if),
	       0),
	    "the restarted agent's SIGTERM leaves no filter");
}

/* --- tcp_probe and kernel drops (a private cgroup) -------------------------- */

/* A socket created in the peer's network namespace (it stays there). */
static int peer_socket(int type)
{
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int peer = open(pair.peer_ns_path, O_RDONLY | O_CLOEXEC);
	int fd = -1;

	cr_assert(self >= 0 && peer >= 0);
	cr_assert(eq(int, setns(peer, CLONE_NEWNET), 0), "setns peer: %s", strerror(errno));
	fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	cr_assert(eq(int, setns(self, CLONE_NEWNET), 0), "setns back: %s", strerror(errno));
	close(self);
	close(peer);
	cr_assert(fd >= 0);
	return fd;
}

static struct sockaddr_in sin4(const char *addr, uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};

	cr_assert(eq(int, inet_pton(AF_INET, addr, &sa.sin_addr), 1));
	return sa;
}

static uint16_t bound_port(int fd)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	cr_assert(eq(int, getsockname(fd, (struct sockaddr *)&sa, &len), 0));
	return ntohs(sa.sin_port);
}

static int ip4_is(const uint8_t *bytes, size_t len, const char *addr)
{
	struct in_addr a;

	return len == 4 && inet_pton(AF_INET, addr, &a) == 1 && !memcmp(bytes, &a, 4);
}

/* An outbound tcp_probe report of one state and ports, 10.199.0.1 -> 10.199.0.2. */
struct probe_want {
	uint32_t state;
	uint16_t sport, dport;
};

/* The index of the first such event in c's log, or -1. */
static int find_probe(const struct client *c, const struct probe_want *w)
{
	for (size_t i = 0; i < c->n_log; i++) {
		const struct ev_rec *r = &c->log[i];

		if (r->type == MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TCP_PROBE &&
		    r->probe_state == w->state &&
		    r->probe_dir == MESHMON__V1__PROBE_DIRECTION__PROBE_DIRECTION_OUTBOUND &&
		    r->proto == IPPROTO_TCP && r->sport == w->sport && r->dport == w->dport &&
		    ip4_is(r->src, r->src_len, "10.199.0.1") &&
		    ip4_is(r->dst, r->dst_len, "10.199.0.2"))
			return (int)i;
	}
	return -1;
}

static int find_udp_drop(const struct client *c, uint16_t dport)
{
	for (size_t i = 0; i < c->n_log; i++) {
		const struct ev_rec *r = &c->log[i];

		if (r->type == MESHMON__V1__EVENT_TYPE__EVENT_TYPE_DROP &&
		    r->source == MESHMON__V1__SOURCE__SOURCE_KERNEL && r->proto == IPPROTO_UDP &&
		    r->dport == dport && ip4_is(r->src, r->src_len, "10.199.0.2") &&
		    ip4_is(r->dst, r->dst_len, "10.199.0.1"))
			return (int)i;
	}
	return -1;
}

Test(agent_e2e, tcp_probe_and_kernel_drops_through_the_agent)
{
	static Meshmon__V1__EventType types[] = {MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TCP_PROBE,
						 MESHMON__V1__EVENT_TYPE__EVENT_TYPE_DROP};
	const uint16_t closed_port = 39999; /* nothing listens in the private netns */
	struct client c;
	struct client *cs[] = {&c};
	struct sockaddr_in sa;
	struct probe_want open_w, closed_w;
	int lfd, cfd, afd, ufd, i_open = -1, i_closed = -1, i_drop = -1;
	uint64_t end;

	enter_private_cgroup();
	start_agent_argv("1048576", "128",
			 (const char *[]){"--cgroup", cg_dir, "--kernel-drops", "on",
					  "--probe-interval", "1", NULL});
	next_types = types;
	next_n_types = 2;
	client_subscribe(&c, 0, 0);
	next_types = NULL;
	next_n_types = 0;
	c.keep = 1;
	settle(cs, 1, 300);

	/* A TCP connection from this process to a listener in the peer netns, closed. */
	lfd = peer_socket(SOCK_STREAM);
	sa = sin4("10.199.0.2", 0);
	cr_assert(eq(int, bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0));
	cr_assert(eq(int, listen(lfd, 4), 0));
	sa = sin4("10.199.0.2", bound_port(lfd));
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(cfd >= 0);
	cr_assert(eq(int, connect(cfd, (struct sockaddr *)&sa, sizeof(sa)), 0), "connect: %s",
		  strerror(errno));
	afd = accept(lfd, NULL, NULL);
	cr_assert(afd >= 0);
	cr_assert(eq(sz, (size_t)write(cfd, "hello", 5), 5));
	open_w = (struct probe_want){MESHMON__V1__PROBE_STATE__PROBE_STATE_OPEN, bound_port(cfd),
				     bound_port(lfd)};
	closed_w = open_w;
	closed_w.state = MESHMON__V1__PROBE_STATE__PROBE_STATE_CLOSED;
	close(cfd);
	close(afd);
	close(lfd);

	/* A UDP datagram from the peer to a closed local port: NO_SOCKET, here. */
	ufd = peer_socket(SOCK_DGRAM);
	sa = sin4("10.199.0.1", closed_port);
	for (int k = 0; k < 3; k++) {
		cr_assert(
		    eq(sz, (size_t)sendto(ufd, "x", 1, 0, (struct sockaddr *)&sa, sizeof(sa)), 1));
		usleep(50 * 1000);
	}
	close(ufd);

	end = now_ms() + 10000;
	while (now_ms() < end && (i_open < 0 || i_closed < 0 || i_drop < 0)) {
		client_poll(&c, 100);
		i_open = find_probe(&c, &open_w);
		i_closed = find_probe(&c, &closed_w);
		i_drop = find_udp_drop(&c, closed_port);
	}
	cr_assert(ge(int, i_open, 0), "TCP_PROBE OPEN 10.199.0.1:%u -> 10.199.0.2:%u (%zu events)",
		  open_w.sport, open_w.dport, c.n_log);
	cr_assert(ge(int, i_closed, 0), "TCP_PROBE CLOSED for the same tuple (%zu events)",
		  c.n_log);
	cr_assert(eq(u32, c.log[i_open].pid, (uint32_t)getpid()));
	cr_assert(eq(u32, c.log[i_closed].pid, (uint32_t)getpid()));
	cr_assert(eq(u32, c.log[i_open].source, MESHMON__V1__SOURCE__SOURCE_SOCKOPS));
	cr_assert(ge(int, i_drop, 0), "a kernel DROP of the UDP datagram to port %u (%zu events)",
		  closed_port, c.n_log);
	cr_assert(eq(str, c.log[i_drop].reason, "NO_SOCKET"));
	cr_assert(eq(u64, c.lost_queue, 0));
	for (size_t i = 0; i < c.n_log; i++)
		cr_assert(c.log[i].type == MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TCP_PROBE ||
			      c.log[i].type == MESHMON__V1__EVENT_TYPE__EVENT_TYPE_DROP,
			  "only the subscribed types: got type %u", c.log[i].type);
	client_close(&c);
	cr_assert(eq(int, stop_agent(), 0), "SIGTERM exits 0");
}

/* --- BPF programs as bpftool lists them ------------------------------------- */

#define BPFTOOL	      "/usr/sbin/bpftool"
#define MAX_PROGS     8192
#define MAX_PROG_MAPS 16

struct prog {
	uint32_t id;
	char name[64];
	uint32_t maps[MAX_PROG_MAPS];
	size_t n_maps;
};

/* Every loaded program whose name starts with mm_ (meshmon's objects). */
static size_t list_mm_progs(struct prog *out, size_t cap)
{
	FILE *f = popen(BPFTOOL " prog show 2>/dev/null", "r");
	char line[1024];
	size_t n = 0;
	int cur = 0; /* the current program is kept */

	cr_assert(f != NULL);
	while (fgets(line, sizeof(line), f)) {
		unsigned int id;
		char *p;

		if (sscanf(line, "%u:", &id) == 1 && line[0] != '\t' && line[0] != ' ') {
			p = strstr(line, " name ");
			cur = 0;
			if (p && !strncmp(p + 6, "mm_", 3) && n < cap) {
				struct prog *pr = &out[n++];

				memset(pr, 0, sizeof(*pr));
				pr->id = id;
				sscanf(p + 6, "%63s", pr->name);
				cur = 1;
			}
			continue;
		}
		p = strstr(line, "map_ids ");
		if (cur && p) {
			struct prog *pr = &out[n - 1];

			p += 8;
			while (pr->n_maps < MAX_PROG_MAPS) {
				char *e;
				unsigned long v = strtoul(p, &e, 10);

				if (e == p)
					break;
				pr->maps[pr->n_maps++] = (uint32_t)v;
				if (*e != ',')
					break;
				p = e + 1;
			}
		}
	}
	pclose(f);
	return n;
}

static const struct prog *find_prog(const struct prog *v, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].id == id)
			return &v[i];
	return NULL;
}

/* The ids of the programs attached to a cgroup (directly), and bpftool's text. */
static size_t cgroup_prog_ids(const char *dir, uint32_t *ids, size_t cap, char *text,
			      size_t text_len)
{
	char cmd[700], line[512];
	FILE *f;
	size_t n = 0, used = 0;

	snprintf(cmd, sizeof(cmd), BPFTOOL " cgroup show %s 2>&1", dir);
	f = popen(cmd, "r");
	cr_assert(f != NULL);
	text[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		unsigned int id;

		if (used + strlen(line) < text_len) {
			memcpy(text + used, line, strlen(line) + 1);
			used += strlen(line);
		}
		if (sscanf(line, "%u", &id) == 1 && n < cap)
			ids[n++] = id;
	}
	pclose(f);
	return n;
}

static int has_map(const struct prog *p, const uint32_t *maps, size_t n)
{
	for (size_t i = 0; i < p->n_maps; i++)
		for (size_t j = 0; j < n; j++)
			if (p->maps[i] == maps[j])
				return 1;
	return 0;
}

Test(agent_e2e, sigterm_leaves_no_cgroup_program_or_kernel_program_behind)
{
	struct prog *before = calloc(MAX_PROGS, sizeof(*before));
	struct prog *during = calloc(MAX_PROGS, sizeof(*during));
	struct prog *after = calloc(MAX_PROGS, sizeof(*after));
	uint32_t cg_ids[64], agent_maps[256], mine[256];
	size_t n_before, n_during, n_after, n_cg, n_maps = 0, n_mine = 0, n_kdrop = 0;
	char text[4096], cmd[256];
	uint64_t end;

	cr_assert(before && during && after);
	enter_private_cgroup();
	n_before = list_mm_progs(before, MAX_PROGS);
	start_agent_argv("1048576", "128",
			 (const char *[]){"--cgroup", cg_dir, "--kernel-drops", "on", NULL});

	/* While it runs: sockops, connect4 and connect6 on the cgroup, all meshmon's. */
	n_cg = cgroup_prog_ids(cg_dir, cg_ids, 64, text, sizeof(text));
	cr_assert(ge(sz, n_cg, 3), "bpftool cgroup show %s:\n%s", cg_dir, text);
	n_during = list_mm_progs(during, MAX_PROGS);
	for (size_t i = 0; i < n_cg; i++) {
		const struct prog *p = find_prog(during, n_during, cg_ids[i]);

		cr_assert(p != NULL, "cgroup program %u is not an mm_ program:\n%s", cg_ids[i],
			  text);
		cr_assert(eq(int, find_prog(before, n_before, p->id) == NULL, 1));
		for (size_t m = 0; m < p->n_maps && n_maps < 256; m++)
			agent_maps[n_maps++] = p->maps[m];
	}
	cr_assert(gt(sz, n_maps, 0), "the cgroup programs use the agent's maps");
	/* The agent's programs: new since before it started, and sharing its maps (the
	 * datapath, tcp_probe and kernel drops share one events map). Agents of tests
	 * running in parallel have maps of their own. */
	for (size_t i = 0; i < n_during; i++) {
		const struct prog *p = &during[i];

		if (find_prog(before, n_before, p->id) || !has_map(p, agent_maps, n_maps))
			continue;
		cr_assert(lt(sz, n_mine, 256));
		mine[n_mine++] = p->id;
		if (!strncmp(p->name, "mm_kdrop", 8))
			n_kdrop++;
	}
	cr_assert(eq(sz, n_kdrop, 1), "one kernel drop program (mm_kdrop_btf or mm_kdrop_raw)");
	cr_assert(ge(sz, n_mine, n_cg + 2), "tc, cgroup and kernel drop programs: %zu", n_mine);

	cr_assert(eq(int, stop_agent(), 0), "SIGTERM exits 0");

	n_cg = cgroup_prog_ids(cg_dir, cg_ids, 64, text, sizeof(text));
	cr_assert(eq(sz, n_cg, 0), "left on the cgroup:\n%s", text);
	cr_assert(strstr(text, "mm_") == NULL, "left on the cgroup:\n%s", text);
	for (int d = 0; d < 2; d++) {
		FILE *f;
		size_t n;

		snprintf(cmd, sizeof(cmd), "tc filter show dev %s %s 2>&1", pair.local_if,
			 d ? "egress" : "ingress");
		f = popen(cmd, "r");
		cr_assert(f != NULL);
		n = fread(text, 1, sizeof(text) - 1, f);
		text[n] = '\0';
		pclose(f);
		cr_assert(strstr(text, "bpf") == NULL && strstr(text, "mm_") == NULL ? 1 : 0,
			  "a meshmon filter is left: %s", text);
	}
	/* Program ids are not reused soon; freeing may trail the exit by a moment. */
	end = now_ms() + 3000;
	for (;;) {
		size_t left = 0;
		uint32_t first = 0;

		n_after = list_mm_progs(after, MAX_PROGS);
		for (size_t i = 0; i < n_mine; i++)
			if (find_prog(after, n_after, mine[i]) && !left++)
				first = mine[i];
		if (!left)
			break;
		cr_assert(lt(u64, now_ms(), end), "%zu of the agent's %zu programs remain (id %u)",
			  left, n_mine, first);
		usleep(100 * 1000);
	}
	free(before);
	free(during);
	free(after);
}
