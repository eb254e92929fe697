// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Endpoint traces on real traffic: inside the tcp_probe fixture's private
 * cgroup and network namespace (tcp_probe_fixture.h), over loopback, which no
 * tc program on an interface sees. A TCP server and client and a UDP server
 * and client, each a child process with a name of its own: records at both
 * points with the right tuple, pid, comm, cgroup id, netns and socket cookie.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "harness.h"
#include "records.h"
#include "tcp_probe.h"
#include "tcp_probe_fixture.h"

static void setup(void)
{
	tcp_probe_setup();
	cr_assert(eq(int, mm_probe__attach_endpoints(probe), 0), "attach the endpoint programs");
}

TestSuite(endpoint_traffic, .init = setup, .fini = tcp_probe_teardown, .timeout = 60);

static __u64 inode_of(const char *path)
{
	struct stat st;

	cr_assert(eq(int, stat(path, &st), 0), "stat %s: %s", path, strerror(errno));
	return st.st_ino;
}

static struct sockaddr_in loopback(uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sa;
}

/* --- the children: each does its part and exits 0, or exits with the step that failed */

static void name_self(const char *comm)
{
	if (prctl(PR_SET_NAME, comm, 0, 0, 0))
		_exit(90);
}

/* Bind a socket of type to 127.0.0.1, an ephemeral port, and tell the parent the port. */
static int bound_socket(int type, int port_pipe)
{
	struct sockaddr_in sa = loopback(0);
	socklen_t len = sizeof(sa);
	uint16_t port;
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		_exit(91);
	if (type == SOCK_STREAM && listen(fd, 4))
		_exit(92);
	if (getsockname(fd, (struct sockaddr *)&sa, &len))
		_exit(93);
	port = ntohs(sa.sin_port);
	if (write(port_pipe, &port, sizeof(port)) != sizeof(port))
		_exit(94);
	return fd;
}

static void tcp_server(int port_pipe)
{
	char buf[8];
	int lfd, fd;

	name_self("ep-tcp-server");
	lfd = bound_socket(SOCK_STREAM, port_pipe);
	fd = accept(lfd, NULL, NULL);
	if (fd < 0 || read(fd, buf, 5) != 5 || write(fd, "world", 5) != 5)
		_exit(95);
	if (read(fd, buf, sizeof(buf)) != 0) /* the client's close */
		_exit(96);
	_exit(0);
}

static void tcp_client(uint16_t port, int cport_pipe)
{
	struct sockaddr_in sa = loopback(port);
	socklen_t len = sizeof(sa);
	uint16_t cport;
	char buf[8];
	int fd;

	name_self("ep-tcp-client");
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		_exit(97);
	if (getsockname(fd, (struct sockaddr *)&sa, &len))
		_exit(98);
	cport = ntohs(sa.sin_port);
	if (write(cport_pipe, &cport, sizeof(cport)) != sizeof(cport))
		_exit(99);
	if (write(fd, "hello", 5) != 5 || read(fd, buf, 5) != 5)
		_exit(100);
	_exit(0);
}

static void udp_server(int port_pipe)
{
	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);
	char buf[8];
	int fd;

	name_self("ep-udp-server");
	fd = bound_socket(SOCK_DGRAM, port_pipe);
	if (recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &len) != 4)
		_exit(101);
	if (sendto(fd, "pong", 4, 0, (struct sockaddr *)&peer, len) != 4)
		_exit(102);
	_exit(0);
}

/* Unconnected: sendto() picks the address; the socket is known only from socket(2). */
static void udp_client(uint16_t port, int cport_pipe)
{
	struct sockaddr_in sa = loopback(port), me;
	socklen_t len = sizeof(me);
	uint16_t cport;
	char buf[8];
	int fd;

	name_self("ep-udp-client");
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || sendto(fd, "ping", 4, 0, (struct sockaddr *)&sa, sizeof(sa)) != 4)
		_exit(103);
	if (getsockname(fd, (struct sockaddr *)&me, &len))
		_exit(104);
	cport = ntohs(me.sin_port);
	if (write(cport_pipe, &cport, sizeof(cport)) != sizeof(cport))
		_exit(105);
	if (recv(fd, buf, sizeof(buf), 0) != 4)
		_exit(106);
	_exit(0);
}

struct exchange {
	pid_t server, client;
	uint16_t sport, cport; /* server port, client port */
};

static uint16_t read_port(int fd)
{
	uint16_t port = 0;

	cr_assert(eq(sz, (size_t)read(fd, &port, sizeof(port)), sizeof(port)), "a child's port");
	return port;
}

static void wait_ok(pid_t pid, const char *who)
{
	int status = -1;

	cr_assert(eq(int, waitpid(pid, &status, 0), pid));
	cr_assert(eq(int, status, 0), "%s: wait status 0x%x (exit code: the step that failed)",
		  who, status);
}

/* Server first (its port), then the client; both run to the end. */
static struct exchange run_exchange(void (*server)(int), void (*client)(uint16_t, int))
{
	struct exchange x;
	int sp[2], cp[2];

	cr_assert(eq(int, pipe(sp), 0));
	cr_assert(eq(int, pipe(cp), 0));
	x.server = fork();
	cr_assert(ge(int, x.server, 0));
	if (x.server == 0)
		server(sp[1]);
	x.sport = read_port(sp[0]);
	x.client = fork();
	cr_assert(ge(int, x.client, 0));
	if (x.client == 0)
		client(x.sport, cp[1]);
	x.cport = read_port(cp[0]);
	wait_ok(x.client, "client");
	wait_ok(x.server, "server");
	close(sp[0]);
	close(sp[1]);
	close(cp[0]);
	close(cp[1]);
	return x;
}

/* --- the records ------------------------------------------------------------------ */

struct want {
	__u8 point, proto;
	uint16_t sport, dport;
	__u8 flags_all; /* TCP flags the packet has (all of them) */
	__u8 flags_none; /* and has none of */
};

/* The first endpoint trace of w in the ring (waiting for it up to 5 s), copied to *out. */
static int find(const struct want *w, struct mm_endpoint_trace_record *out)
{
	__u32 lo = htonl(INADDR_LOOPBACK);

	for (int tries = 0; tries < 50; tries++) {
		const struct mm_test_record *r;

		for (size_t i = 0; (r = mm_test_ring_nth(ring, MM_EVENT_TRACE, i)); i++) {
			struct mm_endpoint_trace_record t;

			cr_assert(ge(u32, r->size, sizeof(t)), "short trace of %u bytes", r->size);
			memcpy(&t, r->data, sizeof(t));
			if (t.trace.hdr.source != MM_SOURCE_CGROUP_SKB ||
			    t.trace.hdr.subtype != w->point || t.trace.tuple.proto != w->proto ||
			    t.trace.tuple.sport != w->sport || t.trace.tuple.dport != w->dport ||
			    t.trace.tuple.saddr[0] != lo || t.trace.tuple.daddr[0] != lo ||
			    (t.trace.tcp_flags & w->flags_all) != w->flags_all ||
			    (t.trace.tcp_flags & w->flags_none))
				continue;
			*out = t;
			return 1;
		}
		mm_test_ring_collect(ring, ring->n + 1, 100);
	}
	return 0;
}

/* The record of w exists and its owner is pid with comm, in the test's cgroup and netns. */
static struct mm_endpoint_trace_record expect_owned(const struct want *w, pid_t pid,
						    const char *comm, const char *what)
{
	struct mm_endpoint_trace_record t;
	char got[17] = "";

	cr_assert(find(w, &t), "%s: no %s trace %u -> %u (%zu traces)", what,
		  w->point == MM_POINT_TO_ENDPOINT ? "to-endpoint" : "from-endpoint", w->sport,
		  w->dport, mm_test_ring_count(ring, MM_EVENT_TRACE));
	memcpy(got, t.owner.comm, 16);
	cr_expect(eq(u32, t.owner.pid, (__u32)pid), "%s: pid", what);
	cr_expect(eq(str, got, (char *)comm), "%s: comm", what);
	cr_expect(eq(u64, t.owner.cgroup_id, inode_of(cg.path)), "%s: cgroup id", what);
	cr_expect(eq(u32, t.owner.netns, (__u32)inode_of("/proc/self/ns/net")), "%s: netns", what);
	cr_expect(not(eq(u64, t.owner.cookie, 0)), "%s: cookie", what);
	cr_expect(eq(u32, t.trace.ifindex, 1), "%s: on lo", what);
	cr_expect(eq(u8, t.trace.cap.layer, MM_LAYER_NETWORK), "%s", what);
	cr_expect(eq(u8, t.trace.tuple.family, MM_FAMILY_IPV4), "%s", what);
	cr_expect(eq(u8, t.trace.hdr.version, MM_TRACE_VERSION), "%s", what);
	return t;
}

Test(endpoint_traffic, tcp_over_loopback)
{
	struct exchange x = run_exchange(tcp_server, tcp_client);
	struct want syn_out = {MM_POINT_FROM_ENDPOINT, IPPROTO_TCP, x.cport, x.sport, MM_TCP_SYN,
			       MM_TCP_ACK};
	struct want syn_in = syn_out, synack_out, synack_in, data_in, data_out, ack_in;
	struct mm_endpoint_trace_record a, b, c, d, e, f, g;

	syn_in.point = MM_POINT_TO_ENDPOINT;
	synack_out = (struct want){MM_POINT_FROM_ENDPOINT, IPPROTO_TCP, x.sport, x.cport,
				   MM_TCP_SYN | MM_TCP_ACK, 0};
	synack_in = synack_out;
	synack_in.point = MM_POINT_TO_ENDPOINT;
	data_in = (struct want){MM_POINT_TO_ENDPOINT, IPPROTO_TCP, x.cport, x.sport, MM_TCP_PSH, 0};
	data_out = (struct want){MM_POINT_FROM_ENDPOINT, IPPROTO_TCP, x.sport, x.cport, MM_TCP_PSH,
				 0};
	/* The first bare ACK to the server: the handshake's last, delivered to the listener. */
	ack_in = (struct want){MM_POINT_TO_ENDPOINT, IPPROTO_TCP, x.cport, x.sport, MM_TCP_ACK,
			       MM_TCP_SYN | MM_TCP_PSH | MM_TCP_FIN};

	/* The client's socket: known from connect(2). */
	a = expect_owned(&syn_out, x.client, "ep-tcp-client", "client's SYN");
	d = expect_owned(&synack_in, x.client, "ep-tcp-client", "SYN|ACK to the client");
	/* The listener (SYN, SYN|ACK) and the accepted socket: known from listen(2). */
	b = expect_owned(&syn_in, x.server, "ep-tcp-server", "SYN to the listener");
	c = expect_owned(&synack_out, x.server, "ep-tcp-server", "listener's SYN|ACK");
	e = expect_owned(&data_in, x.server, "ep-tcp-server", "data to the accepted socket");
	f = expect_owned(&data_out, x.server, "ep-tcp-server", "accepted socket's reply");
	g = expect_owned(&ack_in, x.server, "ep-tcp-server", "the handshake's last ACK");
	cr_expect(eq(u64, g.owner.cookie, b.owner.cookie), "the last ACK meets the listener");
	cr_expect(eq(u64, a.owner.cookie, d.owner.cookie), "one client socket");
	cr_expect(eq(u64, b.owner.cookie, c.owner.cookie), "one listener");
	cr_expect(eq(u64, e.owner.cookie, f.owner.cookie), "one accepted socket");
	cr_expect(not(eq(u64, e.owner.cookie, b.owner.cookie)), "accepted != listener");
	cr_expect(not(eq(u64, a.owner.cookie, e.owner.cookie)), "the two ends");
	/* One connection: both ends, both directions, one flow id; each end its own state. */
	cr_expect(eq(u32, a.trace.hdr.flow_id, e.trace.hdr.flow_id));
	cr_expect(eq(u8, a.trace.state, MM_STATE_NEW), "client's first packet");
	cr_expect(eq(u8, b.trace.state, MM_STATE_NEW), "server's first packet");
	cr_expect(eq(u8, c.trace.state, MM_STATE_REPLY));
	cr_expect(eq(u8, d.trace.state, MM_STATE_REPLY));
}

Test(endpoint_traffic, udp_over_loopback)
{
	struct exchange x = run_exchange(udp_server, udp_client);
	struct want ping_out = {MM_POINT_FROM_ENDPOINT, IPPROTO_UDP, x.cport, x.sport, 0, 0};
	struct want ping_in = ping_out;
	struct want pong_out = {MM_POINT_FROM_ENDPOINT, IPPROTO_UDP, x.sport, x.cport, 0, 0};
	struct want pong_in = pong_out;
	struct mm_endpoint_trace_record a, b, c, d;

	ping_in.point = pong_in.point = MM_POINT_TO_ENDPOINT;
	/* UDP sockets: known from socket(2) (cgroup/sock_create). */
	a = expect_owned(&ping_out, x.client, "ep-udp-client", "client's datagram");
	b = expect_owned(&ping_in, x.server, "ep-udp-server", "datagram to the server");
	c = expect_owned(&pong_out, x.server, "ep-udp-server", "server's answer");
	d = expect_owned(&pong_in, x.client, "ep-udp-client", "answer to the client");
	cr_expect(eq(u64, a.owner.cookie, d.owner.cookie));
	cr_expect(eq(u64, b.owner.cookie, c.owner.cookie));
	cr_expect(eq(u32, a.trace.cap.len_orig, 20 + 8 + 4), "IPv4 + UDP + 4 bytes");
	cr_expect(eq(u8, a.trace.state, MM_STATE_NEW));
	cr_expect(eq(u8, c.trace.state, MM_STATE_REPLY));
}
