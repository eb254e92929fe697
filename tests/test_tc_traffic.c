// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Real traffic through the tc datapath attached to a veth pair between a
 * private network namespace and a peer namespace (tc_veth.h): ping, ping -6
 * and TCP connections, and every trace record they leave in the ring.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "datapath.h"
#include "harness.h"
#include "tc_veth.h"

TestSuite(tc_traffic, .init = tc_veth_setup, .fini = tc_veth_teardown, .timeout = 60);

static void check_common(const struct mm_trace_record *t)
{
	cr_assert(eq(u8, t->hdr.type, MM_EVENT_TRACE));
	cr_assert(eq(u8, t->hdr.source, MM_SOURCE_TC));
	cr_assert(eq(u8, t->hdr.version, MM_TRACE_VERSION));
	cr_assert(eq(u32, t->ifindex, (__u32)pair.local_ifindex));
	cr_assert(eq(u8, t->parse_error, MM_PARSE_NONE));
	cr_assert(ne(u32, t->hdr.flow_id, 0));
	cr_assert(ne(u64, t->hdr.ktime_ns, 0));
}

/* Ping from here to the peer; echo requests go out (to-network), replies come in. */
static void check_ping(int family, const char *local, const char *peer)
{
	struct mm_datapath *dp = open_datapath();
	__u8 echo = family == 4 ? 8 : 128, reply = family == 4 ? 0 : 129;
	__u8 proto = family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	struct mm_test_ring *ring;
	struct matched req, rep;

	cr_assert(eq(int, mm_datapath__attach_tc(dp, pair.local_ifindex), 0));
	ring = open_ring(dp);

	cr_assert(eq(int, mm_test_sh("ping -%d -c 3 -i 0.2 -W 2 %s >/dev/null", family, peer), 0),
		  "ping through the monitored interface");
	mm_test_ring_collect(ring, (size_t)-1, 300);

	match(ring, MM_POINT_TO_NETWORK, family, proto, local, peer, echo, &req);
	match(ring, MM_POINT_FROM_NETWORK, family, proto, peer, local, reply, &rep);
	cr_assert(eq(sz, req.n, 3), "echo requests traced at to-network");
	cr_assert(eq(sz, rep.n, 3), "echo replies traced at from-network");
	for (size_t i = 0; i < 3; i++) {
		check_common(&req.rec[i]);
		check_common(&rep.rec[i]);
		cr_assert(eq(u8, req.rec[i].state, i == 0 ? MM_STATE_NEW : MM_STATE_ESTABLISHED),
			  "request %zu", i);
		cr_assert(eq(u8, rep.rec[i].state, MM_STATE_REPLY), "reply %zu", i);
		/* The echo identifier is the flow's "port", the same both ways. */
		cr_assert(eq(u16, req.rec[i].tuple.sport, req.rec[0].tuple.sport));
		cr_assert(eq(u16, rep.rec[i].tuple.sport, req.rec[0].tuple.sport));
		cr_assert(eq(u32, rep.rec[i].hdr.flow_id, req.rec[0].hdr.flow_id),
			  "one flow id for both directions");
		/* ping's default 56 data bytes: 14 + IP header + 8 + 56 on the wire. */
		cr_assert(eq(u32, req.rec[i].cap.len_orig, (family == 4 ? 98u : 118u)));
		cr_assert(eq(u16, req.rec[i].cap.cap_len, req.rec[i].cap.len_orig),
			  "default capture (128) covers the whole frame");
		cr_assert(eq(u16, req.rec[i].tuple.ethertype, family == 4 ? 0x0800 : 0x86dd));
	}
	cr_assert(eq(sz, req.cap_ok, 3), "captured bytes start with the Ethernet header");
	cr_assert(eq(sz, rep.cap_ok, 3));
	cr_assert(eq(u64, ring->lost, 0));

	close_ring(ring);
	close_datapath(dp);
}

Test(tc_traffic, ping_ipv4_is_traced_both_ways)
{
	check_ping(4, "10.199.0.1", "10.199.0.2");
}

Test(tc_traffic, ping_ipv6_is_traced_both_ways)
{
	check_ping(6, "fd00:199::1", "fd00:199::2");
}

/* A listening socket created inside the peer namespace. */
static int listen_in_peer(int family, const char *addr, __u16 port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (family == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		inet_pton(AF_INET, addr, &sin->sin_addr);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &sin6->sin6_addr);
		len = sizeof(*sin6);
	}
	/* A socket keeps the namespace it was created in. */
	fd = mm_test_pair_socket(&pair, ss.ss_family, SOCK_STREAM);
	cr_assert(ge(int, fd, 0), "socket in the peer namespace: %s", strerror(-fd));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	cr_assert(eq(int, bind(fd, (struct sockaddr *)&ss, len), 0), "bind: %s", strerror(errno));
	cr_assert(eq(int, listen(fd, 4), 0));
	return fd;
}

static void tcp_exchange(int family, const char *peer_addr, __u16 port)
{
	int lfd = listen_in_peer(family, peer_addr, port), cfd, afd;
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[16];

	memset(&ss, 0, sizeof(ss));
	if (family == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		inet_pton(AF_INET, peer_addr, &sin->sin_addr);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		inet_pton(AF_INET6, peer_addr, &sin6->sin6_addr);
		len = sizeof(*sin6);
	}
	cfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(ge(int, cfd, 0));
	cr_assert(eq(int, connect(cfd, (struct sockaddr *)&ss, len), 0), "connect: %s",
		  strerror(errno));
	afd = accept(lfd, NULL, NULL);
	cr_assert(ge(int, afd, 0), "accept: %s", strerror(errno));
	cr_assert(eq(long, (long)write(cfd, "ping", 4), 4L));
	cr_assert(eq(long, (long)read(afd, buf, sizeof(buf)), 4L));
	cr_assert(eq(long, (long)write(afd, "pong", 4), 4L));
	cr_assert(eq(long, (long)read(cfd, buf, sizeof(buf)), 4L));
	close(cfd);
	close(afd);
	close(lfd);
}

static void check_tcp(int family, const char *local, const char *peer)
{
	struct mm_datapath *dp = open_datapath();
	struct mm_test_ring *ring;
	struct matched out, in;
	const __u16 port = 8080;
	int syn = -1, synack = -1;

	cr_assert(eq(int, mm_datapath__attach_tc(dp, pair.local_ifindex), 0));
	ring = open_ring(dp);

	tcp_exchange(family, peer, port);
	mm_test_ring_collect(ring, (size_t)-1, 300);

	match(ring, MM_POINT_TO_NETWORK, family, IPPROTO_TCP, local, peer, -1, &out);
	match(ring, MM_POINT_FROM_NETWORK, family, IPPROTO_TCP, peer, local, -1, &in);
	cr_assert(ge(sz, out.n, 3), "SYN, ACK, data at least");
	cr_assert(ge(sz, in.n, 2), "SYN-ACK and data at least");
	for (size_t i = 0; i < out.n; i++)
		if (out.rec[i].tcp_flags == MM_TCP_SYN && syn < 0)
			syn = (int)i;
	for (size_t i = 0; i < in.n; i++)
		if (in.rec[i].tcp_flags == (MM_TCP_SYN | MM_TCP_ACK) && synack < 0)
			synack = (int)i;
	cr_assert(eq(int, syn, 0), "the first packet out is the SYN");
	cr_assert(eq(int, synack, 0), "the first packet in is the SYN-ACK");

	check_common(&out.rec[0]);
	cr_assert(eq(u8, out.rec[0].state, MM_STATE_NEW));
	cr_assert(eq(u16, out.rec[0].tuple.dport, port));
	cr_assert(ne(u16, out.rec[0].tuple.sport, 0));
	check_common(&in.rec[0]);
	cr_assert(eq(u8, in.rec[0].state, MM_STATE_REPLY));
	cr_assert(eq(u16, in.rec[0].tuple.sport, port));
	cr_assert(eq(u16, in.rec[0].tuple.dport, out.rec[0].tuple.sport));
	cr_assert(eq(u32, in.rec[0].hdr.flow_id, out.rec[0].hdr.flow_id));
	for (size_t i = 1; i < out.n; i++)
		cr_assert(eq(u8, out.rec[i].state, MM_STATE_ESTABLISHED), "out packet %zu", i);
	for (size_t i = 1; i < in.n; i++)
		cr_assert(eq(u8, in.rec[i].state, MM_STATE_REPLY), "in packet %zu", i);
	/* Our close sends a FIN, which is traced. */
	int fin = 0;
	for (size_t i = 0; i < out.n; i++)
		fin |= out.rec[i].tcp_flags & MM_TCP_FIN;
	cr_assert(eq(int, fin, MM_TCP_FIN), "a FIN went out");

	close_ring(ring);
	close_datapath(dp);
}

Test(tc_traffic, tcp_connection_ipv4)
{
	check_tcp(4, "10.199.0.1", "10.199.0.2");
}

Test(tc_traffic, tcp_connection_ipv6)
{
	check_tcp(6, "fd00:199::1", "fd00:199::2");
}
