// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The `meshmon` binary against a scripted fake agent on a Unix socket: the
 * handshake, the Subscribe built from the flags (as the agent receives it),
 * events and lost notices printed, --count, --pcap (file and stdout), status,
 * agent errors, protocol version mismatch, Ctrl-C, ReplayDone ending a
 * history-only run (an unknown member skipped), and a restart: the second
 * Subscribe, the reconnect notice, giving up. The fake agent sends
 * the fixed messages of cli_cases.c, so the JSON output must equal the golden
 * file byte for byte.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli_cases.h"
#include "framing.h"
#include "harness_packet.h"

#ifndef MESHMON_CLI_PATH
#define MESHMON_CLI_PATH "/tmp/devb/meshmon"
#endif
#define GOLDEN_DIR MM_SOURCE_ROOT "/tests/golden/"

enum script {
	SCRIPT_EVENTS,      /* Hello, then every case, then close */
	SCRIPT_EVENTS_HOLD, /* Hello, every case, then keep the connection open */
	SCRIPT_FLOOD_HOLD,  /* Hello, every case FLOOD_ROUNDS times, then keep it open */
	SCRIPT_BAD_FRAME,   /* Hello, 2 cases, a frame that does not decode, then keep it open */
	SCRIPT_HUGE_FRAME,  /* Hello, 2 cases, a length prefix over MM_FRAME_MAX, then keep it open */
	SCRIPT_STATUS,      /* Hello, then a Status for the StatusRequest */
	SCRIPT_ERROR,       /* Hello, then an Error for the Subscribe */
	SCRIPT_REPLAY_HOLD, /* Hello, 2 cases, an unknown member, ReplayDone, a case; keep it open */
	SCRIPT_BAD_VERSION, /* Hello with protocol version 2 */
	SCRIPT_CAPTURE,     /* Hello, then for the CaptureRequest: CaptureStarted, the capture
			     * packets, a LostNotice, CaptureEnded, close */
	SCRIPT_CAPTURE_HOLD, /* the same without CaptureEnded: the connection stays open */
	SCRIPT_CAPTURE_REFUSED, /* Hello, then an Error for the CaptureRequest */
	SCRIPT_CAPTURE_CLOSE, /* CaptureStarted, one packet, close without CaptureEnded */
	SCRIPT_RESTART,     /* 2 cases, close; again with the third case; then stop listening */
	SCRIPT_RESTART_MUTE, /* 2 cases, close; then accept nothing more (connects hang) */
	SCRIPT_RESTART_FULL, /* 2 cases, close; then a full backlog (connect() blocks) */
	SCRIPT_RESTART_REFUSE, /* 2 cases, close; then an Error instead of the Hello */
};

/* Rounds of every case in SCRIPT_FLOOD_HOLD: far more than a pipe and the CLI's buffer hold. */
#define FLOOD_ROUNDS 50

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct {
	char path[64];
	int lfd;
	enum script script;
	pthread_t thread;
	Meshmon__V1__ClientMessage *received, *received2;
	uint64_t sent_ms; /* CLOCK_MONOTONIC when the last case was sent */
	int fill[64]; /* connections that fill the backlog, never accepted */
	size_t n_fill, filled;
} fake;

static int send_msg(int fd, const Meshmon__V1__ServerMessage *m)
{
	uint8_t *buf;
	size_t len, off = 0;
	ssize_t n;

	if (mm_frame__encode_server(m, &buf, &len))
		return -1;
	while (off < len) {
		n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	free(buf);
	return off == len ? 0 : -1;
}

static Meshmon__V1__ClientMessage *recv_msg(int fd, struct mm_frame_reader *r)
{
	const uint8_t *payload;
	uint8_t buf[4096];
	size_t len;
	ssize_t n;

	for (;;) {
		if (mm_frame_reader__next(r, &payload, &len) == 1)
			return mm_frame__unpack_client(payload, len);
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			return NULL;
		mm_frame_reader__feed(r, buf, (size_t)n);
	}
}

static void send_hello(int fd, uint32_t version)
{
	Meshmon__V1__ServerMessage hm = MESHMON__V1__SERVER_MESSAGE__INIT;
	Meshmon__V1__Hello hello = MESHMON__V1__HELLO__INIT;

	hello.protocol_version = version;
	hello.agent_version = "0.1.0";
	hello.num_cpus = 4;
	hello.pages_per_cpu = 64;
	hello.page_size = 4096;
	hello.capture_len = 128;
	hello.node_name = "node-a"; /* the name in the goldens (test_cli_format) */
	hm.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_HELLO;
	hm.hello = &hello;
	send_msg(fd, &hm);
}

/*
 * One life of a restarting agent: accept, Hello, read the Subscribe into
 * *sub, send cases [from, to), hang up.
 */
static void serve_life(Meshmon__V1__ClientMessage **sub, size_t from, size_t to)
{
	struct mm_frame_reader r;
	struct cli_case *cases;
	size_t i;
	int fd;

	cli_cases_build(&cases);
	fd = accept4(fake.lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	/* A CLI that never subscribes fails the test instead of hanging it. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &(struct timeval){ .tv_sec = 3 }, sizeof(struct timeval));
	mm_frame_reader__init(&r);
	send_hello(fd, 1);
	*sub = recv_msg(fd, &r);
	for (i = from; i < to; i++)
		send_msg(fd, &cases[i].msg);
	mm_frame_reader__release(&r);
	close(fd);
}

/* Connects to ourselves until the listen backlog is full. */
static void fill_backlog(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	strcpy(sa.sun_path, fake.path);
	while (fake.n_fill < sizeof(fake.fill) / sizeof(fake.fill[0])) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			break;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
			close(fd); /* EAGAIN: full */
			break;
		}
		fake.fill[fake.n_fill++] = fd;
	}
	fake.filled = fake.n_fill;
}

/* Accepts one connection and refuses it, as an agent at its client limit does. */
static void refuse_one(void)
{
	Meshmon__V1__ServerMessage em = MESHMON__V1__SERVER_MESSAGE__INIT;
	Meshmon__V1__Error e = MESHMON__V1__ERROR__INIT;
	int fd = accept4(fake.lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	e.code = MESHMON__V1__ERROR_CODE__ERROR_CODE_TOO_MANY_CLIENTS;
	e.message = "too many clients";
	em.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_ERROR;
	em.error = &e;
	send_msg(fd, &em);
	close(fd);
}

static void *fake_restarting_agent(void *arg)
{
	(void)arg;
	serve_life(&fake.received, 0, 2);
	if (fake.script == SCRIPT_RESTART_FULL)
		fill_backlog();
	if (fake.script == SCRIPT_RESTART_REFUSE)
		refuse_one();
	if (fake.script != SCRIPT_RESTART)
		return NULL; /* still listening, never accepting: the CLI's connect waits */
	serve_life(&fake.received2, 2, 3);
	/* Gone for good: the socket file stays, connecting is refused. */
	close(fake.lfd);
	fake.lfd = -1;
	return NULL;
}

/* The capture the fake agent plays: TCP packets of one flow, both ways. */
#define CAPTURE_RULE 7
#define CAPTURE_SNAPLEN 1500
#define CAPTURE_PACKETS 3
#define CAPTURE_LOST 2
static const size_t capture_payload[CAPTURE_PACKETS] = { 1000, 0, 1400 };

static size_t capture_packet(size_t i, uint8_t *buf, size_t cap)
{
	const struct mm_test_pkt_spec spec = {
		.family = 4,
		.proto = IPPROTO_TCP,
		.src = i == 1 ? "10.0.0.2" : "10.0.0.1",
		.dst = i == 1 ? "10.0.0.1" : "10.0.0.2",
		.sport = i == 1 ? 443 : 40000,
		.dport = i == 1 ? 40000 : 443,
		.tcp_flags = i == 1 ? 0x10 : 0x18,
		.payload_len = capture_payload[i],
	};

	return mm_test_pkt_build(buf, cap, &spec);
}

static void send_capture(int fd, bool end)
{
	Meshmon__V1__ServerMessage m = MESHMON__V1__SERVER_MESSAGE__INIT;
	Meshmon__V1__CaptureStarted started = MESHMON__V1__CAPTURE_STARTED__INIT;
	Meshmon__V1__CaptureEnded ended = MESHMON__V1__CAPTURE_ENDED__INIT;
	Meshmon__V1__LostNotice lost = MESHMON__V1__LOST_NOTICE__INIT;
	Meshmon__V1__Event ev = MESHMON__V1__EVENT__INIT;
	Meshmon__V1__Capture c = MESHMON__V1__CAPTURE__INIT;
	uint8_t pkt[2048];
	size_t i;

	started.rule_id = CAPTURE_RULE;
	started.snaplen = CAPTURE_SNAPLEN;
	m.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_CAPTURE_STARTED;
	m.capture_started = &started;
	send_msg(fd, &m);
	for (i = 0; i < CAPTURE_PACKETS; i++) {
		ev.time_ns = CLI_T0 + i * 1000000ull;
		ev.type = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_CAPTURE;
		ev.source = MESHMON__V1__SOURCE__SOURCE_TC;
		ev.ifindex = 2;
		ev.ifname = "veth0";
		ev.captured.data = pkt;
		ev.captured.len = capture_packet(i, pkt, sizeof(pkt));
		ev.cap_len = ev.len = (uint32_t)ev.captured.len;
		ev.layer = MESHMON__V1__CAPTURE_LAYER__CAPTURE_LAYER_ETHERNET;
		c.rule_id = CAPTURE_RULE;
		c.point = i == 1 ? MESHMON__V1__TRACE_POINT__TRACE_POINT_FROM_NETWORK
				 : MESHMON__V1__TRACE_POINT__TRACE_POINT_TO_NETWORK;
		ev.detail_case = MESHMON__V1__EVENT__DETAIL_CAPTURE;
		ev.capture = &c;
		m.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_EVENT;
		m.event = &ev;
		send_msg(fd, &m);
		if (fake.script == SCRIPT_CAPTURE_CLOSE)
			return;
	}
	lost.source = MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_CAPTURE;
	lost.cpu = 0xffffffffu;
	lost.count = CAPTURE_LOST;
	lost.rule_id = CAPTURE_RULE;
	m.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_LOST;
	m.lost = &lost;
	send_msg(fd, &m);
	if (!end)
		return;
	ended.rule_id = CAPTURE_RULE;
	ended.reason = MESHMON__V1__CAPTURE_END_REASON__CAPTURE_END_REASON_PACKETS;
	ended.packets = CAPTURE_PACKETS;
	m.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_CAPTURE_ENDED;
	m.capture_ended = &ended;
	send_msg(fd, &m);
}

static void *fake_agent(void *arg)
{
	struct mm_frame_reader r;
	struct cli_case *cases;
	size_t n = cli_cases_build(&cases), i;
	char drain[256];
	int fd;

	(void)arg;
	fd = accept4(fake.lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return NULL;
	mm_frame_reader__init(&r);
	send_hello(fd, fake.script == SCRIPT_BAD_VERSION ? 2 : 1);
	if (fake.script != SCRIPT_BAD_VERSION)
		fake.received = recv_msg(fd, &r);
	switch (fake.script) {
	case SCRIPT_EVENTS:
	case SCRIPT_EVENTS_HOLD:
	case SCRIPT_FLOOD_HOLD:
		for (i = 0; i < (fake.script == SCRIPT_FLOOD_HOLD ? FLOOD_ROUNDS * n : n); i++)
			if (send_msg(fd, &cases[i % n].msg))
				break;
		fake.sent_ms = mono_ms();
		if (fake.script != SCRIPT_EVENTS)
			while (read(fd, drain, sizeof(drain)) > 0)
				;
		break;
	case SCRIPT_BAD_FRAME:
	case SCRIPT_HUGE_FRAME: {
		static const uint8_t bad[] = { 0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
		static const uint8_t huge[] = { 0x7f, 0xff, 0xff, 0xff, 0x12 };

		send_msg(fd, &cases[0].msg);
		send_msg(fd, &cases[1].msg);
		if (fake.script == SCRIPT_BAD_FRAME)
			send(fd, bad, sizeof(bad), MSG_NOSIGNAL);
		else
			send(fd, huge, sizeof(huge), MSG_NOSIGNAL);
		while (read(fd, drain, sizeof(drain)) > 0)
			;
		break;
	}
	case SCRIPT_REPLAY_HOLD: {
		/* ServerMessage field 15 (not in the schema), 2 bytes: what a newer agent might send. */
		static const uint8_t unknown[] = { 0, 0, 0, 4, 0x7a, 0x02, 0x08, 0x01 };
		Meshmon__V1__ServerMessage dm = MESHMON__V1__SERVER_MESSAGE__INIT;
		Meshmon__V1__ReplayDone done = MESHMON__V1__REPLAY_DONE__INIT;

		done.events = 2;
		dm.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_REPLAY_DONE;
		dm.replay_done = &done;
		send_msg(fd, &cases[0].msg);
		send_msg(fd, &cases[1].msg);
		send(fd, unknown, sizeof(unknown), MSG_NOSIGNAL);
		send_msg(fd, &dm);
		send_msg(fd, &cases[2].msg);
		while (read(fd, drain, sizeof(drain)) > 0)
			;
		break;
	}
	case SCRIPT_STATUS: {
		Meshmon__V1__ServerMessage sm = MESHMON__V1__SERVER_MESSAGE__INIT;
		Meshmon__V1__Status st = MESHMON__V1__STATUS__INIT;

		st.agent_version = "0.1.0";
		st.protocol_version = 1;
		st.num_cpus = 4;
		st.pages_per_cpu = 64;
		st.page_size = 4096;
		st.uptime_ns = 5000000000ull;
		st.listeners = 1;
		st.events_read = 42;
		st.aggregation_name = "none";
		sm.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_STATUS;
		sm.status = &st;
		send_msg(fd, &sm);
		break;
	}
	case SCRIPT_CAPTURE:
	case SCRIPT_CAPTURE_CLOSE:
		send_capture(fd, true);
		break;
	case SCRIPT_CAPTURE_HOLD:
		send_capture(fd, false);
		while (read(fd, drain, sizeof(drain)) > 0)
			;
		break;
	case SCRIPT_CAPTURE_REFUSED:
	case SCRIPT_ERROR: {
		Meshmon__V1__ServerMessage em = MESHMON__V1__SERVER_MESSAGE__INIT;
		Meshmon__V1__Error e = MESHMON__V1__ERROR__INIT;

		e.code = 4;
		e.message = "bad prefix length";
		em.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_ERROR;
		em.error = &e;
		send_msg(fd, &em);
		break;
	}
	default:
		break;
	}
	mm_frame_reader__release(&r);
	close(fd);
	return NULL;
}

static void start(enum script s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	signal(SIGPIPE, SIG_IGN);
	snprintf(fake.path, sizeof(fake.path), "/tmp/mm-cli-fake-%d.sock", getpid());
	unlink(fake.path);
	strcpy(sa.sun_path, fake.path);
	fake.script = s;
	/* Close-on-exec: a CLI holding the listening socket would never see it close. */
	fake.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(eq(int, bind(fake.lfd, (struct sockaddr *)&sa, sizeof(sa)), 0));
	cr_assert(eq(int, listen(fake.lfd, 4), 0));
	cr_assert(eq(int, pthread_create(&fake.thread, NULL,
				       s >= SCRIPT_RESTART ? fake_restarting_agent : fake_agent, NULL),
		     0));
}

static void stop(void)
{
	pthread_join(fake.thread, NULL);
	if (fake.lfd >= 0)
		close(fake.lfd);
	unlink(fake.path);
	if (fake.received)
		mm_frame__free_client(fake.received);
	if (fake.received2)
		mm_frame__free_client(fake.received2);
	fake.received = fake.received2 = NULL;
	while (fake.n_fill)
		close(fake.fill[--fake.n_fill]);
}

/* Runs meshmon with args (socket added); stdout into out, stderr into err. */
static int run(const char *args, char *out, size_t cap, char *err, size_t ecap)
{
	char cmd[1024], errpath[64];
	FILE *p, *e;
	size_t n;
	int st;

	snprintf(errpath, sizeof(errpath), "/tmp/mm-cli-err-%d", getpid());
	/* timeout: a run that never ends fails the test instead of hanging it */
	snprintf(cmd, sizeof(cmd), "timeout 20 %s %s --socket %s 2>%s", MESHMON_CLI_PATH, args, fake.path,
		 errpath);
	p = popen(cmd, "r");
	cr_assert(p != NULL);
	n = fread(out, 1, cap - 1, p);
	out[n] = '\0';
	st = pclose(p);
	e = fopen(errpath, "r");
	n = e ? fread(err, 1, ecap - 1, e) : 0;
	err[n] = '\0';
	if (e)
		fclose(e);
	unlink(errpath);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static char out[1 << 20], err[8192];

/* The header the CLI prints for the fake agent's Hello: on stderr, before anything else there. */
#define HEADER "Listening for events on 4 CPUs with 64 pages of 4096 bytes per CPU\n"

Test(cli_client, json_stream_equals_golden)
{
	FILE *g = fopen(GOLDEN_DIR "monitor.json", "r");
	static char want[1 << 20];
	size_t n;
	int rc;

	cr_assert(g != NULL);
	n = fread(want, 1, sizeof(want) - 1, g);
	want[n] = '\0';
	fclose(g);
	start(SCRIPT_EVENTS);
	rc = run("monitor --json --no-reconnect", out, sizeof(out), err, sizeof(err));
	stop();
	/* The fake agent hangs up after the last case: exit 1 with a JSON error line. */
	cr_assert(eq(int, rc, 1), "%s", err);
	cr_assert(eq(int, strncmp(out, want, n), 0), "output differs from monitor.json");
	cr_assert(eq(str, out + n, "{\"error\":\"the agent closed the connection\"}\n"));
}

/* --json before the command reaches the formatters: the same stream, the same status. */
Test(cli_client, json_before_the_command)
{
	FILE *g = fopen(GOLDEN_DIR "monitor.json", "r");
	static char want[1 << 20];
	size_t n;
	int rc;

	cr_assert(g != NULL);
	n = fread(want, 1, sizeof(want) - 1, g);
	want[n] = '\0';
	fclose(g);
	start(SCRIPT_EVENTS);
	rc = run("-j monitor --no-reconnect", out, sizeof(out), err, sizeof(err));
	stop();
	cr_assert(eq(int, rc, 1), "%s", err);
	cr_assert(eq(int, strncmp(out, want, n), 0), "output differs from monitor.json");
	cr_assert(eq(str, out + n, "{\"error\":\"the agent closed the connection\"}\n"));
	start(SCRIPT_STATUS);
	rc = run("--json status", out, sizeof(out), err, sizeof(err));
	stop();
	cr_assert(eq(int, rc, 0), "%s", err);
	cr_assert(eq(sz, count_lines(out), 1));
	cr_assert(strstr(out, "\"events_read\":42,") != NULL, "%s", out);
}

Test(cli_client, count_stops_and_subscribe_has_filters)
{
	Meshmon__V1__Subscribe *s;
	int rc;

	start(SCRIPT_EVENTS_HOLD);
	rc = run("monitor -c 3 --json --proto icmp --from 10.0.0.0/8 --to [fd00::1]:80 "
		 "--related-to :53 --port 443 -t trace:from-network --last 5 --follow",
		 out, sizeof(out), err, sizeof(err));
	stop();
	cr_assert(eq(int, rc, 0), "%s", err);
	cr_assert(eq(sz, count_lines(out), 3));
	cr_assert(eq(str, err, ""));
	cr_assert(fake.received == NULL); /* freed by stop(); check below on a fresh run */

	start(SCRIPT_EVENTS_HOLD);
	rc = run("monitor -c 1 --proto icmp --from 10.0.0.0/8 --to [fd00::1]:80 --related-to :53 "
		 "--port 443 -t trace:from-network --last 5 --follow",
		 out, sizeof(out), err, sizeof(err));
	pthread_join(fake.thread, NULL);
	cr_assert(eq(int, rc, 0), "%s", err);
	cr_assert(fake.received != NULL);
	cr_assert(eq(int, fake.received->msg_case, MESHMON__V1__CLIENT_MESSAGE__MSG_SUBSCRIBE));
	s = fake.received->subscribe;
	cr_assert(eq(sz, s->n_types, 1));
	cr_assert(eq(int, (int)s->types[0], 4));
	cr_assert(eq(sz, s->n_points, 1));
	cr_assert(eq(int, (int)s->points[0], 1));
	cr_assert(eq(u32, s->replay, 5));
	cr_assert(not(s->history_only), "-f: following after the history");
	cr_assert(eq(sz, s->n_filters, 1));
	cr_assert(eq(sz, s->filters[0]->n_source, 1));
	cr_assert(eq(u32, s->filters[0]->source[0]->prefix_len, 8));
	cr_assert(eq(sz, s->filters[0]->n_destination, 1));
	cr_assert(eq(sz, s->filters[0]->destination[0]->address.len, 16));
	cr_assert(eq(u32, s->filters[0]->destination[0]->port, 80));
	cr_assert(eq(sz, s->filters[0]->n_either, 1));
	cr_assert(eq(u32, s->filters[0]->either[0]->port, 53));
	cr_assert(eq(sz, s->filters[0]->n_protocols, 1));
	cr_assert(eq(u32, s->filters[0]->protocols[0], 1));
	cr_assert(eq(sz, s->filters[0]->n_ports, 1));
	cr_assert(eq(u32, s->filters[0]->ports[0], 443));
	/* Text: one event line on stdout, the Listening header on stderr (as Cilium's). */
	cr_assert(eq(str, out, "<- network flow 0x614e9724 state new ifindex 4 (veth0): 10.60.0.182:41510 -> 104.198.14.52:80 tcp SYN\n"));
	cr_assert(eq(str, err, HEADER));
	close(fake.lfd);
	unlink(fake.path);
	mm_frame__free_client(fake.received);
	fake.received = NULL;
}

Test(cli_client, lost_notices_do_not_count)
{
	int rc;
	struct cli_case *cases;
	size_t n = cli_cases_build(&cases), events = 0, i;

	for (i = 0; i < n; i++)
		events += cases[i].msg.msg_case == MESHMON__V1__SERVER_MESSAGE__MSG_EVENT;
	start(SCRIPT_EVENTS_HOLD);
	/* Ask for exactly all events: the 4 lost notices come after them and are not counted. */
	snprintf(err, sizeof(err), "monitor -c %zu", events);
	rc = run(err, out, sizeof(out), err, sizeof(err));
	stop();
	cr_assert(eq(int, rc, 0), "%s", err);
	cr_assert(strstr(out, "Lost") == NULL);
	cr_assert(strstr(out, "== tcp_probe preexisting") == NULL);
	cr_assert(strstr(out, "== tcp_probe periodic inbound preexisting") != NULL);
}

Test(cli_client, pcap_file)
{
	char path[64], args[128], errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *rd;
	int rc, pkts = 0, snap;

	snprintf(path, sizeof(path), "/tmp/mm-cli-client-%d.pcap", getpid());
	snprintf(args, sizeof(args), "monitor -c 5 --pcap %s", path);
	start(SCRIPT_EVENTS_HOLD);
	rc = run(args, out, sizeof(out), err, sizeof(err));
	stop();
	rd = pcap_open_offline(path, errbuf);
	unlink(path); /* read or not, it goes: an assertion below must not leave it behind */
	cr_assert(rd != NULL, "%s", errbuf);
	snap = pcap_snapshot(rd);
	while (pcap_next_ex(rd, &h, &data) == 1)
		pkts++;
	pcap_close(rd);
	cr_assert(eq(int, rc, 0), "%s", err);
	/* Text output goes on with a file: the events on stdout, the header on stderr. */
	cr_assert(eq(sz, count_lines(out), 5));
	cr_assert(strstr(out, "Listening") == NULL, "%s", out);
	cr_assert(eq(str, err, HEADER));
	cr_assert(eq(int, snap, 128));
	cr_assert(eq(int, pkts, 5));
}

Test(cli_client, pcap_stdout)
{
	int rc;
	uint32_t magic;

	start(SCRIPT_EVENTS_HOLD);
	rc = run("monitor -c 2 --pcap -", out, sizeof(out), err, sizeof(err));
	stop();
	cr_assert(eq(int, rc, 0), "%s", err);
	memcpy(&magic, out, 4);
	cr_assert(eq(u32, magic, 0xa1b2c3d4u));
	/* The Listening note goes to stderr, nothing else is printed. */
	cr_assert(eq(str, err, HEADER));
}

Test(cli_client, status_text_and_json)
{
	int rc;

	start(SCRIPT_STATUS);
	rc = run("status", out, sizeof(out), err, sizeof(err));
	cr_assert(fake.received != NULL);
	cr_assert(eq(int, fake.received->msg_case, MESHMON__V1__CLIENT_MESSAGE__MSG_STATUS_REQUEST));
	stop();
	cr_assert(eq(int, rc, 0), "%s", err);
	cr_assert(strstr(out, "Agent version:     0.1.0\n") != NULL, "%s", out);
	cr_assert(strstr(out, "Events read:       42\n") != NULL, "%s", out);
	cr_assert(strstr(out, "Uptime:            5.0s\n") != NULL, "%s", out);
	start(SCRIPT_STATUS);
	rc = run("status --json", out, sizeof(out), err, sizeof(err));
	stop();
	cr_assert(eq(int, rc, 0), "%s", err);
	cr_assert(eq(sz, count_lines(out), 1));
	cr_assert(strstr(out, "\"events_read\":42,") != NULL, "%s", out);
}

Test(cli_client, agent_error_is_reported)
{
	int rc;

	start(SCRIPT_ERROR);
	rc = run("monitor", out, sizeof(out), err, sizeof(err));
	stop();
	cr_assert(eq(int, rc, 1));
	cr_assert(eq(str, err, HEADER "meshmon: the agent reported an error: bad prefix length (code 4)\n"));
	start(SCRIPT_ERROR);
	rc = run("monitor --json", out, sizeof(out), err, sizeof(err));
	stop();
	cr_assert(eq(int, rc, 1));
	cr_assert(eq(str, out, "{\"error\":\"the agent reported an error: bad prefix length (code 4)\",\"code\":4}\n"));
}

Test(cli_client, protocol_version_mismatch)
{
	int rc;

	start(SCRIPT_BAD_VERSION);
	rc = run("monitor", out, sizeof(out), err, sizeof(err));
	stop();
	cr_assert(eq(int, rc, 1));
	cr_assert(eq(str, err, "meshmon: the agent speaks protocol version 2, this meshmon speaks 1\n"));
}

Test(cli_client, ctrl_c_exits_zero)
{
	int pipefd[2], st;
	char buf[512];
	ssize_t n;
	pid_t pid;

	start(SCRIPT_EVENTS_HOLD);
	cr_assert(eq(int, pipe(pipefd), 0));
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 1);
		execl(MESHMON_CLI_PATH, "meshmon", "monitor", "--socket", fake.path, (char *)NULL);
		_exit(98);
	}
	close(pipefd[1]);
	n = read(pipefd[0], buf, sizeof(buf) - 1); /* the first events: subscribed and streaming */
	cr_assert(gt(sz, (size_t)n, 0));
	cr_assert(eq(int, strncmp(buf, "<- network flow ", 16), 0)); /* not the header (stderr) */
	usleep(100000);
	kill(pid, SIGINT);
	while (read(pipefd[0], buf, sizeof(buf)) > 0)
		;
	waitpid(pid, &st, 0);
	stop();
	{
		int exited = WIFEXITED(st), code = WEXITSTATUS(st);

		cr_assert(exited);
		cr_assert(eq(int, code, 0));
	}
}

/* The first n lines of the golden JSON stream, each with its newline. */
static void golden_lines(char lines[][4096], size_t n)
{
	FILE *g = fopen(GOLDEN_DIR "monitor.json", "r");
	size_t i;

	cr_assert(g != NULL);
	for (i = 0; i < n; i++)
		cr_assert(fgets(lines[i], 4096, g) != NULL);
	fclose(g);
}

Test(cli_client, restart_resubscribes_and_reports_the_gap, .timeout = 30)
{
	static char want[3][4096];
	char head[256], time0[40], tail[512];
	const char *p;
	Meshmon__V1__Subscribe *a, *b;
	int rc;

	golden_lines(want, 3);
	start(SCRIPT_RESTART);
	rc = run("monitor --json --proto icmp -t trace --last 5 --since 1h --follow --reconnect-timeout 1", out,
		 sizeof(out), err, sizeof(err));
	pthread_join(fake.thread, NULL);
	/* Two cases, the notice, the third case, then the give-up: exit 3. */
	cr_assert(eq(int, rc, 3), "%s", err);
	p = out;
	cr_assert(eq(int, strncmp(p, want[0], strlen(want[0])), 0), "%s", out);
	p += strlen(want[0]);
	cr_assert(eq(int, strncmp(p, want[1], strlen(want[1])), 0), "%s", out);
	p += strlen(want[1]);
	/* The gap starts at the last event seen: the second case's time. */
	cr_assert(eq(int, sscanf(want[1], "{\"node\":\"node-a\",\"time\":\"%39[^\"]\"", time0), 1));
	snprintf(head, sizeof(head),
		 "{\"node\":\"node-a\",\"type\":\"reconnected\",\"gap_start\":\"%s\",\"gap_end\":\"20",
		 time0);
	cr_assert(eq(int, strncmp(p, head, strlen(head)), 0), "%s", out);
	cr_assert(strstr(p, "\"down_ns\":") != NULL && strstr(p, "\"down_ns\":") < strchr(p, '\n'));
	p = strchr(p, '\n') + 1;
	cr_assert(eq(int, strncmp(p, want[2], strlen(want[2])), 0), "%s", out);
	p += strlen(want[2]);
	snprintf(tail, sizeof(tail),
		 "{\"error\":\"the agent at %s did not come back within 1s; giving up (see --reconnect-timeout)\"}\n",
		 fake.path);
	cr_assert(eq(str, (char *)p, tail));
	snprintf(tail, sizeof(tail),
		 "meshmon: the agent went away; reconnecting to %s ...\nmeshmon: reconnected to %s after ",
		 fake.path, fake.path);
	cr_assert(eq(int, strncmp(err, tail, strlen(tail)), 0), "%s", err);
	/* After the third case the agent went away again, this time for good. */
	p = strchr(err + strlen(tail), '\n');
	cr_assert(p != NULL, "%s", err);
	snprintf(tail, sizeof(tail), "\nmeshmon: the agent went away; reconnecting to %s ...\n",
		 fake.path);
	cr_assert(eq(str, (char *)p, tail));

	/* The same subscription twice, except --last and --since: replayed for the first connection only. */
	cr_assert(fake.received != NULL && fake.received2 != NULL);
	a = fake.received->subscribe;
	b = fake.received2->subscribe;
	cr_assert(a != NULL && b != NULL);
	cr_assert(eq(u32, a->replay, 5));
	cr_assert(eq(u32, b->replay, 0));
	cr_assert(gt(u64, a->since_ns, 0));
	cr_assert(eq(u64, b->since_ns, 0), "--since: not replayed again either");
	cr_assert(not(a->history_only));
	cr_assert(not(b->history_only));
	cr_assert(eq(sz, b->n_types, a->n_types));
	cr_assert(eq(sz, b->n_types, 1));
	cr_assert(eq(int, (int)b->types[0], (int)a->types[0]));
	cr_assert(eq(sz, b->n_filters, 1));
	cr_assert(eq(sz, b->filters[0]->n_protocols, 1));
	cr_assert(eq(u32, b->filters[0]->protocols[0], 1));
	stop();
}

/* An agent that accepts and never speaks cannot hold the CLI past --reconnect-timeout. */
Test(cli_client, restart_to_a_mute_agent_gives_up, .timeout = 30)
{
	int rc;

	start(SCRIPT_RESTART_MUTE);
	rc = run("monitor --reconnect-timeout 1", out, sizeof(out), err, sizeof(err));
	stop();
	cr_assert(eq(int, rc, 3), "%s", err);
	cr_assert(strstr(err, "did not come back within 1s; giving up") != NULL, "%s", err);
	cr_assert(strstr(out, "-- reconnected") == NULL, "%s", out);
}

/* A full backlog (a wedged agent) makes connect() wait: not past --reconnect-timeout either. */
Test(cli_client, restart_to_a_full_backlog_gives_up, .timeout = 30)
{
	int rc;

	start(SCRIPT_RESTART_FULL);
	rc = run("monitor --reconnect-timeout 2", out, sizeof(out), err, sizeof(err));
	stop();
	cr_assert(gt(sz, fake.filled, 0));
	cr_assert(eq(int, rc, 3), "%s", err);
	cr_assert(strstr(err, "did not come back within 2s; giving up") != NULL, "%s", err);
}

/* A refusal is not an outage: an Error instead of the Hello ends the run, exit 1, at once. */
Test(cli_client, restart_refused_is_not_retried, .timeout = 30)
{
	int rc;

	start(SCRIPT_RESTART_REFUSE);
	rc = run("monitor --reconnect-timeout 20", out, sizeof(out), err, sizeof(err));
	stop();
	cr_assert(eq(int, rc, 1), "%s", err);
	cr_assert(strstr(err, "\nmeshmon: the agent refused the connection: too many clients (code 6)\n") != NULL,
		  "%s", err);
	cr_assert(strstr(out, "-- reconnected") == NULL, "%s", out);
}

/* The exit code of a wait status, -1 when killed by a signal. */
static int exit_code(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/*
 * Starts `meshmon monitor --json --socket S` with stdout on the write end of
 * a new pipe, which holds fill bytes (len of them) before the CLI starts.
 */
static pid_t start_piped(int *rd, const char *fill, size_t len)
{
	int pipefd[2];
	pid_t pid;

	cr_assert(eq(int, pipe2(pipefd, O_CLOEXEC), 0));
	if (len) {
		cr_assert(eq(int, fcntl(pipefd[1], F_GETPIPE_SZ), (int)len));
		cr_assert(eq(sz, (size_t)write(pipefd[1], fill, len), len));
	}
	pid = fork();
	cr_assert(ge(int, pid, 0));
	if (pid == 0) {
		dup2(pipefd[1], 1);
		execl(MESHMON_CLI_PATH, "meshmon", "monitor", "--json", "--socket", fake.path,
		      (char *)NULL);
		_exit(98);
	}
	close(pipefd[1]);
	*rd = pipefd[0];
	return pid;
}

/*
 * Output to a pipe is buffered, but not held: once the agent has nothing more
 * to send, what was printed reaches the reader while the stream stays open.
 */
Test(cli_client, idle_output_reaches_a_pipe, .timeout = 30)
{
	struct cli_case *cases;
	size_t n = cli_cases_build(&cases), got = 0, lines = 0, i;
	struct pollfd p;
	uint64_t done_ms = 0;
	ssize_t r;
	int rd, st;
	pid_t pid;

	start(SCRIPT_EVENTS_HOLD);
	pid = start_piped(&rd, NULL, 0);
	p = (struct pollfd){ .fd = rd, .events = POLLIN };
	while (lines < n && poll(&p, 1, 5000) == 1) {
		r = read(rd, out + got, sizeof(out) - 1 - got);
		if (r <= 0)
			break;
		for (i = got; i < got + (size_t)r; i++)
			lines += out[i] == '\n';
		got += (size_t)r;
		done_ms = mono_ms();
	}
	out[got] = '\0';
	cr_assert(eq(sz, lines, n), "%zu of %zu lines before the reader gave up: %s", lines, n, out);
	/* The agent still holds the connection: only the idle flush can have sent them. */
	cr_assert(eq(int, waitpid(pid, &st, WNOHANG), 0));
	/* Plain comparisons where criterion 2.4.1's gt() would pass equal values. */
	cr_assert(fake.sent_ms > 0);
	cr_assert(lt(u64, done_ms - fake.sent_ms, 1000), "the last line came %llu ms after the event",
		  (unsigned long long)(done_ms - fake.sent_ms));
	kill(pid, SIGINT);
	while (read(rd, out, sizeof(out)) > 0)
		;
	close(rd);
	waitpid(pid, &st, 0);
	stop();
	cr_assert(eq(int, exit_code(st), 0), "status 0x%x", st);
}


/* What /proc says the process waits in ("pipe_write", "anon_pipe_write" since 6.15, ...) into buf. */
static void wchan_of(pid_t pid, char *buf, size_t cap)
{
	char path[64];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/wchan", (int)pid);
	f = fopen(path, "r");
	if (f) {
		n = fread(buf, 1, cap - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
}

/*
 * SIGTERM while the CLI is blocked writing to a reader that does not keep
 * up: what it had buffered still reaches the reader, whole lines only, and
 * it exits 0. The pipe is full before the CLI writes, so the signal comes
 * while its write has written nothing and fails with EINTR: where stdio
 * drops its whole buffer.
 */
Test(cli_client, sigterm_while_blocked_loses_nothing, .timeout = 30)
{
	static char want[64][4096], filler[1 << 16], *got;
	size_t n = 0, len = 0, cap = 1 << 22, lines = 0, pipe_sz = 1 << 16, i;
	char *line, *nl, wchan[64] = "";
	pid_t pid;
	ssize_t r;
	int rd, st;
	FILE *g = fopen(GOLDEN_DIR "monitor.json", "r");

	cr_assert(g != NULL);
	while (n < 64 && fgets(want[n], sizeof(want[n]), g))
		n++;
	fclose(g);
	/* The default pipe (64 KiB) full of 64-byte lines; the CLI's output comes after them. */
	for (i = 0; i < pipe_sz; i++)
		filler[i] = i % 64 == 63 ? '\n' : '#';
	start(SCRIPT_FLOOD_HOLD);
	pid = start_piped(&rd, filler, pipe_sz);
	for (i = 0; i < 500 && !strstr(wchan, "pipe_write"); i++) {
		usleep(10000);
		wchan_of(pid, wchan, sizeof(wchan));
	}
	cr_assert(strstr(wchan, "pipe_write") != NULL, "the CLI waits in %s, not writing to the pipe",
		  wchan);
	kill(pid, SIGTERM);
	usleep(200000);
	got = malloc(cap);
	cr_assert(got != NULL);
	while (len < cap - 1 && (r = read(rd, got + len, cap - 1 - len)) > 0)
		len += (size_t)r;
	got[len] = '\0';
	close(rd);
	waitpid(pid, &st, 0);
	stop();
	cr_assert(eq(int, exit_code(st), 0), "status 0x%x", st);
	cr_assert(eq(int, memcmp(got, filler, pipe_sz), 0));
	/* It had read and printed events before it blocked: they are all there. */
	cr_assert(len > pipe_sz, "nothing of the CLI's output reached the reader");
	cr_assert(eq(int, got[len - 1], '\n'), "the output ends in the middle of a line");
	/* Every line is the next case's, in order: nothing was dropped from the middle either. */
	for (line = got + pipe_sz; *line; line = nl + 1, lines++) {
		nl = strchr(line, '\n');
		cr_assert(eq(int, strncmp(line, want[lines % n], (size_t)(nl - line) + 1), 0),
			  "line %zu differs: %.*s", lines + 1, (int)(nl - line), line);
	}
	free(got);
}

/* A frame that does not decode, or cannot be a frame, ends the stream: exit 1, what came before printed. */
Test(cli_client, broken_frames_end_the_stream)
{
	static const struct {
		enum script script;
		const char *err;
	} t[] = {
		{ SCRIPT_BAD_FRAME, HEADER "meshmon: reading from the agent: Bad message\n" },
		{ SCRIPT_HUGE_FRAME, HEADER "meshmon: reading from the agent: Message too long\n" },
	};
	static char want[2][4096];
	const char *p;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		start(t[i].script);
		rc = run("monitor", out, sizeof(out), err, sizeof(err));
		stop();
		cr_assert(eq(int, rc, 1), "%s", err);
		cr_assert(eq(str, err, (char *)t[i].err));
		cr_assert(eq(sz, count_lines(out), 2), "%s", out); /* the 2 cases, no header */
	}
	start(SCRIPT_BAD_FRAME);
	rc = run("monitor --json", out, sizeof(out), err, sizeof(err));
	stop();
	cr_assert(eq(int, rc, 1), "%s", err);
	golden_lines(want, 2);
	p = out;
	for (i = 0; i < 2; p += strlen(want[i]), i++)
		cr_assert(eq(int, strncmp(p, want[i], strlen(want[i])), 0), "%s", out);
	cr_assert(eq(str, (char *)p, "{\"error\":\"reading from the agent: Bad message\"}\n"));
}

/*
 * --last without --follow ends at ReplayDone, exit 0, though the agent keeps
 * the connection open; a member the CLI does not know is skipped. With
 * --follow the stream goes on past ReplayDone.
 */
Test(cli_client, replay_done_ends_a_history_only_run)
{
	int rc;

	start(SCRIPT_REPLAY_HOLD);
	rc = run("monitor --json --last 5", out, sizeof(out), err, sizeof(err));
	cr_assert(eq(int, rc, 0), "%s", err);
	cr_expect(eq(sz, count_lines(out), 2), "%s", out);
	cr_expect(eq(str, err, ""));
	cr_assert(fake.received != NULL);
	cr_expect(fake.received->subscribe->history_only);
	stop();

	start(SCRIPT_REPLAY_HOLD);
	rc = run("monitor --json --last 5 --follow -c 3", out, sizeof(out), err, sizeof(err));
	stop();
	cr_assert(eq(int, rc, 0), "%s", err);
	cr_expect(eq(sz, count_lines(out), 3), "the case after ReplayDone too: %s", out);
}

/* ------------------------------------------------------------ meshmon capture */

/* What meshmon capture says on stderr once the agent started the capture. */
#define CAPTURE_NOTE "Capturing with rule 7, 1500 bytes per packet\n"

/* stop(), keeping the message the fake agent received for the test to check. */
static void stop_keep_received(void)
{
	Meshmon__V1__ClientMessage *r = fake.received;

	fake.received = NULL;
	stop();
	fake.received = r;
}

static void free_received(void)
{
	if (fake.received)
		mm_frame__free_client(fake.received);
	fake.received = NULL;
}

/* Reads the pcap at path back with libpcap: its packets must be the fake agent's, in order. */
static void expect_capture_pcap(const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	uint8_t want[2048];
	struct pcap_pkthdr *h;
	const u_char *data;
	size_t i = 0, n;
	pcap_t *rd = pcap_open_offline(path, errbuf);

	cr_assert(rd != NULL, "%s", errbuf);
	cr_expect(eq(int, pcap_snapshot(rd), CAPTURE_SNAPLEN));
	cr_expect(eq(int, pcap_datalink(rd), DLT_EN10MB));
	while (pcap_next_ex(rd, &h, &data) == 1) {
		cr_assert(lt(sz, i, (size_t)CAPTURE_PACKETS));
		n = capture_packet(i, want, sizeof(want));
		cr_expect(eq(u32, h->caplen, (uint32_t)n));
		cr_expect(eq(u32, h->len, (uint32_t)n));
		cr_expect(eq(int, memcmp(data, want, n), 0), "packet %zu", i);
		cr_expect(eq(u64, (uint64_t)h->ts.tv_sec * 1000000 + (uint64_t)h->ts.tv_usec,
			     (CLI_T0 + i * 1000000ull) / 1000));
		i++;
	}
	pcap_close(rd);
	cr_expect(eq(sz, i, (size_t)CAPTURE_PACKETS));
}

/* Runs a shell command line; its stdout into out. Returns its exit status. */
static int shell(const char *cmd, char *buf, size_t cap)
{
	FILE *p = popen(cmd, "r");
	size_t n;
	int st;

	cr_assert(p != NULL);
	n = fread(buf, 1, cap - 1, p);
	buf[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(cli_client, capture_request_pcap_and_totals)
{
	char path[64], args[256], cmd[256];
	const Meshmon__V1__CaptureRequest *req;
	const Meshmon__V1__FlowFilter *f;
	int rc;

	snprintf(path, sizeof(path), "/tmp/mm-cli-capture-%d.pcap", getpid());
	snprintf(args, sizeof(args),
		 "capture --interface veth0 --to 10.0.0.2:443 --proto tcp --direction egress "
		 "-s 1500 -c 3 --max-bytes 90000 --duration 5 -w %s",
		 path);
	start(SCRIPT_CAPTURE);
	rc = run(args, out, sizeof(out), err, sizeof(err));
	stop_keep_received();
	cr_assert(eq(int, rc, 0), "%s", err);
	cr_expect(eq(str, out, ""));
	cr_expect(eq(str, err,
		     CAPTURE_NOTE "Lost 2 events (capture)\n"
		     "3 packets captured\n2 packets lost\ncapture ended: packet budget spent\n"));

	/* The request as the agent received it: the filter, the direction, the budget. */
	cr_assert(fake.received != NULL);
	cr_assert(eq(int, fake.received->msg_case, MESHMON__V1__CLIENT_MESSAGE__MSG_CAPTURE));
	req = fake.received->capture;
	cr_expect(eq(u32, req->snaplen, 1500));
	cr_expect(eq(u64, req->max_packets, 3));
	cr_expect(eq(u64, req->max_bytes, 90000));
	cr_expect(eq(u32, req->max_seconds, 5));
	cr_assert(eq(sz, req->n_points, 1));
	cr_expect(eq(int, req->points[0], MESHMON__V1__TRACE_POINT__TRACE_POINT_TO_NETWORK));
	cr_assert(req->filter != NULL);
	f = req->filter;
	cr_assert(eq(sz, f->n_interfaces, 1));
	cr_expect(eq(str, f->interfaces[0], "veth0"));
	cr_assert(eq(sz, f->n_destination, 1));
	cr_expect(eq(u32, f->destination[0]->port, 443));
	cr_expect(eq(sz, f->destination[0]->address.len, 4));
	cr_expect(eq(u32, f->destination[0]->prefix_len, 32));
	cr_assert(eq(sz, f->n_protocols, 1));
	cr_expect(eq(u32, f->protocols[0], IPPROTO_TCP));
	free_received();

	expect_capture_pcap(path);
	/* tshark reads it too: the TCP payload lengths of the three packets, in order. */
	snprintf(cmd, sizeof(cmd), "tshark -r %s -T fields -e tcp.len -e tcp.dstport 2>/dev/null",
		 path);
	rc = shell(cmd, out, sizeof(out));
	unlink(path);
	cr_assert(eq(int, rc, 0));
	cr_expect(eq(str, out, "1000\t443\n0\t40000\n1400\t443\n"));
}

Test(cli_client, capture_defaults_ask_for_everything)
{
	const Meshmon__V1__CaptureRequest *req;
	int rc;

	start(SCRIPT_CAPTURE);
	rc = run("capture", out, sizeof(out), err, sizeof(err));
	stop_keep_received();
	cr_assert(eq(int, rc, 0), "%s", err);
	cr_assert(fake.received != NULL);
	cr_assert(eq(int, fake.received->msg_case, MESHMON__V1__CLIENT_MESSAGE__MSG_CAPTURE));
	req = fake.received->capture;
	/* 0: the agent's maximum snap length, no budget; no filter, both directions. */
	cr_expect(eq(u32, req->snaplen, 0));
	cr_expect(eq(u64, req->max_packets, 0));
	cr_expect(eq(u64, req->max_bytes, 0));
	cr_expect(eq(u32, req->max_seconds, 0));
	cr_expect(eq(sz, req->n_points, 0));
	cr_expect(req->filter == NULL);
	free_received();
}

Test(cli_client, capture_to_stdout_into_tcpdump)
{
	char cmd[512];
	int rc;

	start(SCRIPT_CAPTURE);
	snprintf(cmd, sizeof(cmd),
		 "timeout 20 %s capture -w - --socket %s 2>/dev/null | "
		 "tcpdump -nn -S -r - 2>/dev/null | cut -d' ' -f2-",
		 MESHMON_CLI_PATH, fake.path);
	rc = shell(cmd, out, sizeof(out));
	stop();
	cr_assert(eq(int, rc, 0), "%s", out);
	cr_expect(eq(str, out,
		     "IP 10.0.0.1.40000 > 10.0.0.2.443: Flags [P.], seq 1:1001, ack 1, win 65535, length 1000\n"
		     "IP 10.0.0.2.443 > 10.0.0.1.40000: Flags [.], ack 1, win 65535, length 0\n"
		     "IP 10.0.0.1.40000 > 10.0.0.2.443: Flags [P.], seq 1:1401, ack 1, win 65535, length 1400\n"));
}

Test(cli_client, capture_text_lines)
{
	int rc;

	start(SCRIPT_CAPTURE);
	rc = run("capture", out, sizeof(out), err, sizeof(err));
	stop();
	cr_assert(eq(int, rc, 0), "%s", err);
	cr_expect(eq(str, out,
		     "2026-11-22T05:40:20.123456789Z -- capture flow 0x0 to network ifindex 2 (veth0): 10.0.0.1:40000 -> 10.0.0.2:443 tcp PSH, ACK\n"
		     "2026-11-22T05:40:20.124456789Z -- capture flow 0x0 from network ifindex 2 (veth0): 10.0.0.2:443 -> 10.0.0.1:40000 tcp ACK\n"
		     "2026-11-22T05:40:20.125456789Z -- capture flow 0x0 to network ifindex 2 (veth0): 10.0.0.1:40000 -> 10.0.0.2:443 tcp PSH, ACK\n"));
	cr_expect(strstr(err, "3 packets captured\n") != NULL, "%s", err);
}

/* Under --json the capture's loss is an object on stdout, as monitor's: stderr stays empty. */
Test(cli_client, capture_json_reports_the_loss_on_stdout)
{
	int rc;

	start(SCRIPT_CAPTURE);
	rc = run("--json capture", out, sizeof(out), err, sizeof(err));
	stop();
	cr_assert(eq(int, rc, 0), "%s", err);
	cr_expect(eq(str, err, ""));
	cr_expect(strstr(out, "{\"node\":\"node-a\",\"time\":\"1970-01-01T00:00:00.000000000Z\",\"cpu\":null,"
			      "\"type\":\"lost\",\"source\":\"capture\",\"count\":2,") != NULL,
		  "%s", out);
}

Test(cli_client, capture_refused_exits_one)
{
	int rc;

	start(SCRIPT_CAPTURE_REFUSED);
	rc = run("capture -w /tmp/mm-cli-capture-refused.pcap", out, sizeof(out), err, sizeof(err));
	stop();
	cr_expect(eq(int, rc, 1));
	cr_expect(strstr(err, "meshmon: the agent refused the capture: bad prefix length (code 4)") !=
			  NULL,
		  "%s", err);
	/* Never started: the file this run created is not left behind. */
	cr_expect(eq(int, access("/tmp/mm-cli-capture-refused.pcap", F_OK), -1));
}

Test(cli_client, capture_closed_before_the_end_exits_one)
{
	int rc;

	start(SCRIPT_CAPTURE_CLOSE);
	rc = run("capture", out, sizeof(out), err, sizeof(err));
	stop();
	cr_expect(eq(int, rc, 1));
	cr_expect(strstr(err, "closed the connection before the capture ended") != NULL, "%s", err);
	cr_expect(strstr(err, "1 packet captured\n") != NULL, "%s", err);
}

Test(cli_client, capture_bad_flags_and_path_exit_two_before_connecting)
{
	int rc;

	/* No fake agent: connecting would exit 3, so 2 says nothing was tried. */
	snprintf(fake.path, sizeof(fake.path), "/tmp/mm-cli-fake-none-%d.sock", getpid());
	rc = run("capture --drop-reason NO_SOCKET", out, sizeof(out), err, sizeof(err));
	cr_expect(eq(int, rc, 2));
	cr_expect(strstr(err, "unknown flag '--drop-reason'") != NULL, "%s", err);
	rc = run("capture --direction sideways", out, sizeof(out), err, sizeof(err));
	cr_expect(eq(int, rc, 2));
	cr_expect(strstr(err, "--direction: bad direction 'sideways'") != NULL, "%s", err);
	rc = run("capture -w /etc/passwd/x.pcap", out, sizeof(out), err, sizeof(err));
	cr_expect(eq(int, rc, 2));
	cr_expect(strstr(err, "--write: cannot write /etc/passwd/x.pcap") != NULL, "%s", err);
	rc = run("capture", out, sizeof(out), err, sizeof(err));
	cr_expect(eq(int, rc, 3), "%s", err);
}

Test(cli_client, capture_ctrl_c_leaves_a_complete_pcap, .timeout = 30)
{
	char path[64], buf[4096];
	uint8_t pkt[2048];
	size_t want = 24, i;
	struct stat stt;
	int st, efd[2];
	ssize_t n;
	pid_t pid;

	for (i = 0; i < CAPTURE_PACKETS; i++)
		want += 16 + capture_packet(i, pkt, sizeof(pkt));
	snprintf(path, sizeof(path), "/tmp/mm-cli-capture-int-%d.pcap", getpid());
	start(SCRIPT_CAPTURE_HOLD);
	cr_assert(eq(int, pipe(efd), 0));
	pid = fork();
	if (pid == 0) {
		dup2(efd[1], 2);
		execl(MESHMON_CLI_PATH, "meshmon", "capture", "-w", path, "--socket", fake.path,
		      (char *)NULL);
		_exit(98);
	}
	close(efd[1]);
	/* Flushed when the agent goes quiet: wait until the three packets are in the file. */
	while (stat(path, &stt) || (size_t)stt.st_size < want)
		usleep(10000);
	kill(pid, SIGINT);
	n = 0;
	for (ssize_t r; (r = read(efd[0], buf + n, sizeof(buf) - 1 - (size_t)n)) > 0;)
		n += r;
	buf[n] = '\0';
	close(efd[0]);
	waitpid(pid, &st, 0);
	stop();
	expect_capture_pcap(path);
	unlink(path);
	{
		int exited = WIFEXITED(st), code = WEXITSTATUS(st);

		cr_assert(exited);
		cr_expect(eq(int, code, 0));
	}
	cr_expect(strstr(buf, "3 packets captured\n2 packets lost\ncapture ended: interrupted\n") !=
			  NULL,
		  "%s", buf);
}
