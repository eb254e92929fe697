// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * trace-sock on real connections: the tests' own translator
 * (tests/bpf/translator.bpf.c) rewrites the service 10.96.0.10:80 /
 * [fd00:96::10]:80 to the backend in the peer netns, attached to the test's
 * cgroup before meshmon's programs, after them, or to a child cgroup (whose
 * programs run first). Whatever the order: one trace-sock record per
 * translated connect or UDP message, with both addresses, the process and the
 * socket's cookie right; tcp_probe carries the original destination; nothing
 * for connects and sends that were not translated.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "datapath.h"
#include "sock_xlate.h"
#include "tcp_probe_fixture.h"
#include "translator.h"

TestSuite(trace_sock, .init = tcp_probe_setup, .fini = tcp_probe_teardown, .timeout = 60);

enum order { BEFORE, AFTER, CHILD };

static struct translator *xlator;
static struct mm_xlate *udp_xlate;
static struct mm_test_ring *udp_ring;

static void cleanup(void)
{
	mm_test_ring_free(udp_ring);
	udp_ring = NULL;
	mm_xlate__free(udp_xlate);
	udp_xlate = NULL;
	translator_free(xlator);
	xlator = NULL;
}

static uint64_t inode_of(const char *path)
{
	struct stat st;

	cr_assert(eq(int, stat(path, &st), 0), "%s: %s", path, strerror(errno));
	return st.st_ino;
}

static uint64_t cookie_of(int fd)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);

	cr_assert(eq(int, getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len), 0));
	return cookie;
}

/* tcp_probe (and trace-sock in the sockops) with trace-sock on. */
static void probe_with_trace_sock(void)
{
	struct mm_config cfg;

	mm_config__defaults(&cfg);
	cfg.event_mask |= MM_EVENT_BIT(MM_EVENT_TRACE_SOCK);
	cfg.probe_interval_ns = 200ull * 1000 * 1000;
	cr_assert(eq(int, mm_probe__set_config(probe, &cfg), 0));
}

/* The translator in place for order; returns the cgroup the test process is in. */
static const char *place_translator(enum order order, uint16_t backend_port)
{
	const char *where = cg.path;

	if (order == CHILD) {
		cr_assert(eq(int, mm_test_cgroup_create(&cg_other, cg.path, "child"), 0));
		cr_assert(eq(int, mm_test_cgroup_enter(&cg_other, getpid()), 0));
		where = cg_other.path;
	} else if (order == BEFORE) {
		/* meshmon's programs again, after the translator's */
		mm_test_ring_free(ring);
		ring = NULL;
		mm_probe__free(probe);
		probe = NULL;
	}
	xlator = translator_attach(where, backend_port);
	cr_assert(xlator != NULL, "translator on %s: %s", where, strerror(errno));
	if (order == BEFORE) {
		probe = mm_probe__open(NULL, cg.path);
		cr_assert(probe != NULL, "mm_probe__open: %s", strerror(errno));
		ring = mm_test_ring_open(mm_probe__events_fd(probe));
		cr_assert(ring != NULL);
	}
	probe_with_trace_sock();
	return where;
}

static struct mm_trace_sock_record sock_rec(const struct mm_test_ring *r, size_t i)
{
	const struct mm_test_record *t = mm_test_ring_nth(r, MM_EVENT_TRACE_SOCK, i);
	struct mm_trace_sock_record rec;

	cr_assert(t != NULL, "trace-sock record %zu missing", i);
	cr_assert(eq(u32, t->size >= sizeof(rec), 1), "short trace-sock record %u", t->size);
	memcpy(&rec, t->data, sizeof(rec));
	return rec;
}

/* Poll r until done(r) or 15 s. */
static void wait_for(struct mm_test_ring *r, int (*done)(void))
{
	for (int i = 0; i < 75 && !done(); i++)
		mm_test_ring_collect(r, r->n + 1, 200);
	cr_assert(done(), "the records did not come");
}

static int tcp_lport; /* the translated connection's local port */

static int tcp_done(void)
{
	return find_rec(MM_PROBE_CLOSED, MM_PROBE_DIR_OUTBOUND, tcp_lport, 0, NULL) != NULL;
}

static void expect_addr(int family, const __u32 *got, const char *want, const char *what)
{
	uint8_t w[16] = { 0 };

	inet_pton(family, want, w);
	cr_expect(eq(int, memcmp(got, w, family == AF_INET ? 4 : 16), 0), "%s is not %s", what,
		  want);
}

static void tcp_case(int family, enum order order)
{
	const char *backend = family == AF_INET ? TRANSLATOR_BACKEND4 : TRANSLATOR_BACKEND6;
	const char *svc = family == AF_INET ? TRANSLATOR_SVC4 : TRANSLATOR_SVC6;
	const struct mm_tcp_probe_record *open_plain, *open_xlated;
	struct mm_trace_sock_record rec;
	int listener, port, plain, xlated;
	struct addr to_backend, to_svc;
	const char *inside;
	char comm[16];
	__u32 zero[4] = { 0 };

	listener = mm_test_pair_listen(&pair, family, 0, 8);
	cr_assert(listener >= 0, "listen in the peer: %s", strerror(-listener));
	port = local_port(listener);
	inside = place_translator(order, (uint16_t)port);
	to_backend = make_addr(family, backend, port);
	to_svc = make_addr(family, svc, TRANSLATOR_SVC_PORT);

	plain = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(eq(int, connect(plain, (struct sockaddr *)&to_backend.ss, to_backend.len), 0),
		  "connect to the backend: %s", strerror(errno));
	xlated = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(eq(int, connect(xlated, (struct sockaddr *)&to_svc.ss, to_svc.len), 0),
		  "connect to the service: %s", strerror(errno));
	cr_assert(eq(u64, translator_rewrites(xlator), 1));
	tcp_lport = local_port(xlated);
	/* Closed after the connects: its report comes after anything they caused. */
	close(xlated);
	wait_for(ring, tcp_done);

	cr_assert(eq(sz, mm_test_ring_count(ring, MM_EVENT_TRACE_SOCK), 1));
	rec = sock_rec(ring, 0);
	self_comm(comm, sizeof(comm));
	cr_expect(eq(u8, rec.hdr.subtype, MM_SOCK_HOOK_CONNECT));
	cr_expect(eq(u8, rec.hdr.source, MM_SOURCE_SOCKOPS));
	cr_expect(eq(u8, rec.hdr.version, MM_TRACE_SOCK_VERSION));
	cr_expect(eq(u8, rec.tuple.family, family == AF_INET ? MM_FAMILY_IPV4 : MM_FAMILY_IPV6));
	cr_expect(eq(u8, rec.tuple.proto, IPPROTO_TCP));
	expect_addr(family, rec.tuple.daddr, backend, "the address used");
	cr_expect(eq(u16, rec.tuple.dport, port));
	cr_expect(eq(u16, rec.tuple.sport, tcp_lport));
	expect_addr(family, rec.orig_daddr, svc, "the address asked for");
	cr_expect(eq(u16, rec.orig_dport, TRANSLATOR_SVC_PORT));
	cr_expect(eq(u32, rec.owner.pid, (uint32_t)getpid()));
	cr_expect(eq(str, rec.owner.comm, comm));
	cr_expect(eq(u64, rec.owner.cgroup_id, inode_of(inside)));
	cr_expect(eq(u32, rec.owner.netns, (uint32_t)inode_of("/proc/self/ns/net")));
	cr_expect(not(eq(u64, rec.owner.cookie, 0)));

	/* tcp_probe: the original destination on the translated connection only. */
	open_xlated = find_rec(MM_PROBE_CLOSED, MM_PROBE_DIR_OUTBOUND, tcp_lport, port, NULL);
	cr_assert(open_xlated != NULL);
	expect_addr(family, open_xlated->orig_daddr, svc, "tcp_probe orig_dst");
	cr_expect(eq(u16, open_xlated->orig_dport, TRANSLATOR_SVC_PORT));
	cr_expect(eq(u64, open_xlated->socket_cookie, rec.owner.cookie));
	open_plain = find_rec(MM_PROBE_OPEN, MM_PROBE_DIR_OUTBOUND, local_port(plain), port, NULL);
	cr_assert(open_plain != NULL);
	cr_expect(eq(int, memcmp(open_plain->orig_daddr, zero, sizeof(zero)), 0));
	cr_expect(eq(u16, open_plain->orig_dport, 0));
	cr_expect(eq(u64, open_plain->socket_cookie, cookie_of(plain)));
	close(plain);
	close(listener);
	cleanup();
}

Test(trace_sock, tcp4_translator_before_meshmon) { tcp_case(AF_INET, BEFORE); }
Test(trace_sock, tcp4_translator_after_meshmon) { tcp_case(AF_INET, AFTER); }
Test(trace_sock, tcp4_translator_in_child_cgroup) { tcp_case(AF_INET, CHILD); }
Test(trace_sock, tcp6_translator_before_meshmon) { tcp_case(AF_INET6, BEFORE); }
Test(trace_sock, tcp6_translator_after_meshmon) { tcp_case(AF_INET6, AFTER); }

/* --- UDP: sendmsg4 and UDP connect (sock_xlate.bpf.c) --------------------- */

static int udp_done(void)
{
	const struct mm_test_record *t;

	for (size_t i = 0; (t = mm_test_ring_nth(udp_ring, MM_EVENT_TRACE_SOCK, i)); i++)
		if (t->data[1] == MM_SOCK_HOOK_CONNECT)
			return 1;
	return 0;
}

static void send_to(int fd, const struct addr *a)
{
	cr_assert(eq(long, (long)sendto(fd, "x", 1, 0, (struct sockaddr *)&a->ss, a->len), 1),
		  "sendto: %s", strerror(errno));
}

/* n datagrams arrive at the peer's socket. */
static void receive(int fd, int n)
{
	char buf[16];

	for (int i = 0; i < n; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		cr_assert(eq(int, poll(&p, 1, 10000), 1), "datagram %d of %d did not arrive", i + 1,
			  n);
		cr_assert(eq(long, (long)recv(fd, buf, sizeof(buf), 0), 1));
	}
}

static void udp_case(enum order order)
{
	struct addr bind_peer = make_addr(AF_INET, TRANSLATOR_BACKEND4, 0), to_backend, to_svc;
	int peer, sender, connected, port, n_sendmsg = 0;
	const char *inside;

	peer = mm_test_pair_socket(&pair, AF_INET, SOCK_DGRAM);
	cr_assert(peer >= 0);
	cr_assert(eq(int, bind(peer, (struct sockaddr *)&bind_peer.ss, bind_peer.len), 0));
	port = local_port(peer);
	if (order != BEFORE) {
		udp_xlate = mm_xlate__open(NULL, cg.path);
		cr_assert(udp_xlate != NULL, "mm_xlate__open: %s", strerror(errno));
	}
	inside = place_translator(order == BEFORE ? AFTER : order, (uint16_t)port);
	if (order == BEFORE) {
		/* the translator first, meshmon's UDP programs after it */
		udp_xlate = mm_xlate__open(NULL, cg.path);
		cr_assert(udp_xlate != NULL, "mm_xlate__open: %s", strerror(errno));
	}
	udp_ring = mm_test_ring_open(mm_xlate__events_fd(udp_xlate));
	cr_assert(udp_ring != NULL);
	to_backend = make_addr(AF_INET, TRANSLATOR_BACKEND4, port);
	to_svc = make_addr(AF_INET, TRANSLATOR_SVC4, TRANSLATOR_SVC_PORT);

	sender = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	send_to(sender, &to_backend);
	send_to(sender, &to_svc);
	send_to(sender, &to_svc);
	send_to(sender, &to_backend);
	n_sendmsg = 2;
	connected = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert(eq(int, connect(connected, (struct sockaddr *)&to_svc.ss, to_svc.len), 0));
	cr_assert(eq(long, (long)send(connected, "x", 1, 0), 1));
	cr_assert(eq(long, (long)send(connected, "x", 1, 0), 1));
	receive(peer, 6);
	cr_assert(eq(u64, translator_rewrites(xlator), 3));
	wait_for(udp_ring, udp_done);

	cr_assert(eq(sz, mm_test_ring_count(udp_ring, MM_EVENT_TRACE_SOCK), n_sendmsg + 1));
	for (int i = 0; i < n_sendmsg + 1; i++) {
		struct mm_trace_sock_record rec = sock_rec(udp_ring, i);
		int last = i == n_sendmsg;

		cr_expect(eq(u8, rec.hdr.subtype, last ? MM_SOCK_HOOK_CONNECT : MM_SOCK_HOOK_SENDMSG));
		cr_expect(eq(u8, rec.hdr.source, MM_SOURCE_CGROUP_SKB));
		cr_expect(eq(u8, rec.tuple.proto, IPPROTO_UDP));
		expect_addr(AF_INET, rec.tuple.daddr, TRANSLATOR_BACKEND4, "the address used");
		cr_expect(eq(u16, rec.tuple.dport, port));
		cr_expect(eq(u16, rec.tuple.sport, local_port(last ? connected : sender)));
		expect_addr(AF_INET, rec.orig_daddr, TRANSLATOR_SVC4, "the address asked for");
		cr_expect(eq(u16, rec.orig_dport, TRANSLATOR_SVC_PORT));
		cr_expect(eq(u32, rec.owner.pid, (uint32_t)getpid()));
		cr_expect(eq(u64, rec.owner.cgroup_id, inode_of(inside)));
		cr_expect(eq(u64, rec.owner.cookie, cookie_of(last ? connected : sender)));
	}
	close(connected);
	close(sender);
	close(peer);
	cleanup();
}

Test(trace_sock, udp4_translator_before_meshmon) { udp_case(BEFORE); }
Test(trace_sock, udp4_translator_after_meshmon) { udp_case(AFTER); }
Test(trace_sock, udp4_translator_in_child_cgroup) { udp_case(CHILD); }
