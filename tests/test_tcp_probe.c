// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tcp_probe on real connections, what one connection's reports carry: open,
 * close and periodic reports whose counters equal TCP_INFO (IPv4 and IPv6),
 * a refused connect, and a v4-mapped IPv6 socket reported as IPv4. The test
 * process sits in a private cgroup; the server runs in a thread that entered
 * the peer netns, so both ends are in the test's cgroup (tcp_probe_fixture.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "harness.h"
#include "records.h"
#include "tcp_probe.h"
#include "tcp_probe_fixture.h"

#define XFER_BYTES	1000000

TestSuite(tcp_probe, .init = tcp_probe_setup, .fini = tcp_probe_teardown, .timeout = 60);

struct server_job {
	int lfd;
	int port;
	long received;
	struct tcp_info ti;
	int err;
};

static void *server_thread(void *arg)
{
	struct server_job *job = arg;
	char buf[65536];
	ssize_t n;
	int fd = accept(job->lfd, NULL, NULL);

	if (fd < 0) {
		job->err = -errno;
		return NULL;
	}
	job->port = local_port(fd);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		job->received += n;
	/* the peer half-closed: now close ours */
	job->err = finish(fd, &job->ti);
	close(fd);
	return NULL;
}

/*
 * Long on purpose: one connection's story step by step (connect, transfer,
 * close, then every report checked against TCP_INFO of the same socket), so
 * the assertions read in the order the kernel produced the records.
 */
static void transfer_test(int family)
{
	const char *local = family == AF_INET ? "10.199.0.1" : "fd00:199::1";
	const char *peer = family == AF_INET ? "10.199.0.2" : "fd00:199::2";
	const struct mm_tcp_probe_record *rec;
	struct server_job job = {};
	struct tcp_info cti;
	struct stat nst;
	struct addr a;
	pthread_t th;
	int lfd, fd, cport, lport;
	size_t n_closed = 0;

	lfd = mm_test_pair_listen(&pair, family, 0, 8);
	cr_assert(lfd >= 0, "listen in the peer netns");
	lport = local_port(lfd);
	a = make_addr(family, peer, lport);
	job.lfd = lfd;
	pthread_create(&th, NULL, server_thread, &job);

	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(fd >= 0);
	cr_assert(eq(int, connect(fd, (struct sockaddr *)&a.ss, a.len), 0), "connect: %s",
		  strerror(errno));
	cport = local_port(fd);
	cr_assert(eq(int, write_all(fd, XFER_BYTES), 0));
	cr_assert(eq(int, finish(fd, &cti), 0));
	pthread_join(th, NULL);
	close(fd);
	close(lfd);
	cr_assert(eq(int, job.err, 0));
	cr_assert(eq(long, job.received, XFER_BYTES));
	/* bytes_acked counts sequence space: the SYN and the FIN add one each */
	cr_assert(cti.tcpi_bytes_acked >= XFER_BYTES && cti.tcpi_bytes_acked <= XFER_BYTES + 2,
		  "bytes_acked %llu", (unsigned long long)cti.tcpi_bytes_acked);

	mm_test_ring_collect(ring, 4, 2000);

	/* Client: outbound, our pid, counters equal TCP_INFO. */
	rec = find_rec(MM_PROBE_OPEN, MM_PROBE_DIR_OUTBOUND, cport, lport, NULL);
	cr_assert(rec != NULL, "client open report");
	cr_expect(eq(u32, rec->pid, (__u32)getpid()));
	rec = find_rec(MM_PROBE_CLOSED, 0, cport, lport, &n_closed);
	cr_assert(rec != NULL, "client close report");
	cr_expect(eq(sz, n_closed, 1), "one close report (sockops', not the preexisting closer's too)");
	cr_expect(eq(u8, rec->direction, MM_PROBE_DIR_OUTBOUND));
	cr_expect(eq(u8, rec->hdr.source, MM_SOURCE_SOCKOPS));
	cr_expect(eq(u8, rec->hdr.version, MM_TCP_PROBE_VERSION));
	cr_expect(eq(u32, rec->pid, (__u32)getpid()));
	{
		char comm[32];

		self_comm(comm, sizeof(comm));
		cr_expect(eq(str, (char *)rec->comm, comm));
	}
	cr_expect(eq(u8, rec->flags & MM_PROBE_F_CONN_SUCCESS, MM_PROBE_F_CONN_SUCCESS));
	cr_expect(eq(u8, rec->flags & MM_PROBE_F_PREEXISTING, 0));
	cr_expect(eq(u8, rec->tuple.proto, IPPROTO_TCP));
	cr_expect(eq(u8, rec->tuple.family, family == AF_INET ? MM_FAMILY_IPV4 : MM_FAMILY_IPV6));
	{
		struct addr la = make_addr(family, local, 0), pa = make_addr(family, peer, 0);
		const void *l = family == AF_INET
				    ? (void *)&((struct sockaddr_in *)&la.ss)->sin_addr
				    : (void *)&((struct sockaddr_in6 *)&la.ss)->sin6_addr;
		const void *p = family == AF_INET
				    ? (void *)&((struct sockaddr_in *)&pa.ss)->sin_addr
				    : (void *)&((struct sockaddr_in6 *)&pa.ss)->sin6_addr;
		size_t n = family == AF_INET ? 4 : 16;

		cr_expect(eq(int, memcmp(rec->tuple.saddr, l, n), 0), "local address");
		cr_expect(eq(int, memcmp(rec->tuple.daddr, p, n), 0), "remote address");
	}
	cr_expect(rec->start_ns > 0 && rec->duration_ns > 0);
	cr_assert(eq(int, stat(cg.path, &nst), 0));
	cr_expect(eq(u64, rec->cgroup_id, (__u64)nst.st_ino), "cgroup id of the test's cgroup");
	cr_assert(eq(int, stat("/proc/self/ns/net", &nst), 0));
	cr_expect(eq(u32, rec->netns, (__u32)nst.st_ino));
	assert_counters(rec, &cti);
	cr_expect(rec->bytes_sent >= XFER_BYTES && rec->bytes_sent <= XFER_BYTES + 2);

	/* Server: inbound; pid and comm of the listener's owner (the test process:
	 * its thread called listen()), cloned from the listening socket. */
	rec = find_rec(MM_PROBE_OPEN, MM_PROBE_DIR_INBOUND, lport, cport, NULL);
	if (!rec && getenv("MM_TEST_DEBUG"))
		for (size_t i = 0; i < mm_test_ring_count(ring, MM_EVENT_TCP_PROBE); i++) {
			struct mm_tcp_probe_record r;

			memcpy(&r, mm_test_ring_nth(ring, MM_EVENT_TCP_PROBE, i)->data, sizeof(r));
			fprintf(stderr, "rec st=%u dir=%u %u->%u pid=%u\n", r.hdr.subtype,
				r.direction, r.tuple.sport, r.tuple.dport, r.pid);
		}
	cr_assert(rec != NULL, "server open report");
	{
		char comm[32];

		self_comm(comm, sizeof(comm));
		cr_expect(eq(u32, rec->pid, (__u32)getpid()), "server open report pid");
		cr_expect(eq(str, (char *)rec->comm, comm), "server open report comm");
		rec = find_rec(MM_PROBE_CLOSED, MM_PROBE_DIR_INBOUND, lport, cport, NULL);
		cr_assert(rec != NULL, "server close report");
		cr_expect(eq(u32, rec->pid, (__u32)getpid()), "server close report pid");
		cr_expect(eq(str, (char *)rec->comm, comm), "server close report comm");
	}
	cr_expect(rec->start_ns > 0 && rec->duration_ns > 0);
	cr_assert(eq(int, stat(cg.path, &nst), 0));
	cr_expect(eq(u64, rec->cgroup_id, (__u64)nst.st_ino), "server cgroup id");
	cr_expect(eq(u8, rec->flags & MM_PROBE_F_CONN_SUCCESS, MM_PROBE_F_CONN_SUCCESS));
	assert_counters(rec, &job.ti);
	cr_expect(rec->bytes_received >= XFER_BYTES && rec->bytes_received <= XFER_BYTES + 2);
}

Test(tcp_probe, transfer_ipv4_counters_match_tcp_info)
{
	transfer_test(AF_INET);
}

Test(tcp_probe, transfer_ipv6_counters_match_tcp_info)
{
	transfer_test(AF_INET6);
}

Test(tcp_probe, idle_connection_gets_periodic_reports)
{
	struct addr a;
	int lfd, fd, sfd, cport;
	size_t n_client = 0, n_server = 0;

	lfd = mm_test_pair_listen(&pair, AF_INET, 0, 8);
	cr_assert(lfd >= 0);
	a = make_addr(AF_INET, "10.199.0.2", local_port(lfd));
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(eq(int, connect(fd, (struct sockaddr *)&a.ss, a.len), 0));
	sfd = accept(lfd, NULL, NULL);
	cr_assert(sfd >= 0);
	cport = local_port(fd);

	/* Idle for 1 s (5 intervals of 200 ms); the loader's timer runs the
	 * iterator every 100 ms in both namespaces. */
	for (int i = 0; i < 10; i++) {
		usleep(100000);
		cr_assert(eq(int, mm_probe__run_iter(probe), 0));
		cr_assert(eq(int, mm_probe__run_iter_in_netns(probe, peer_ns_fd), 0));
	}
	mm_test_ring_collect(ring, 6, 1000);
	const struct mm_tcp_probe_record *rec =
	    find_rec(MM_PROBE_PERIODIC, MM_PROBE_DIR_OUTBOUND, cport, 0, &n_client);
	cr_assert(rec != NULL, "periodic report of the idle client");
	cr_expect(n_client >= 2, "client periodic reports: %zu", n_client);
	cr_expect(n_client <= 6, "client periodic reports: %zu (interval not respected)", n_client);
	cr_expect(eq(u8, rec->hdr.source, MM_SOURCE_TCP_ITER));
	cr_expect(eq(u32, rec->pid, (__u32)getpid()));
	cr_expect(eq(u8, rec->tcp_state, 1));
	rec = find_rec(MM_PROBE_PERIODIC, MM_PROBE_DIR_INBOUND, local_port(lfd), cport, &n_server);
	cr_expect(n_server >= 2, "server periodic reports: %zu", n_server);
	if (rec)
		cr_expect(eq(u32, rec->pid, (__u32)getpid()), "server periodic pid (listener's)");
	close(sfd);
	close(fd);
	close(lfd);
}

Test(tcp_probe, refused_connect_reports_failure)
{
	struct addr a = make_addr(AF_INET, "10.199.0.2", 9); /* nothing listens */
	const struct mm_tcp_probe_record *rec;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), cport;

	cr_assert(fd >= 0);
	cr_assert(eq(int, connect(fd, (struct sockaddr *)&a.ss, a.len), -1));
	cr_assert(eq(int, errno, ECONNREFUSED));
	cport = local_port(fd);
	close(fd);
	mm_test_ring_collect(ring, 1, 2000);
	rec = find_rec(MM_PROBE_CLOSED, 0, cport, 9, NULL);
	if (!rec) /* the port may read back as 0 after the failure: match on dport */
		for (size_t i = 0; !rec && i < mm_test_ring_count(ring, MM_EVENT_TCP_PROBE); i++) {
			static struct mm_tcp_probe_record r;

			memcpy(&r, mm_test_ring_nth(ring, MM_EVENT_TCP_PROBE, i)->data, sizeof(r));
			if (r.hdr.subtype == MM_PROBE_CLOSED && r.tuple.dport == 9)
				rec = &r;
		}
	cr_assert(rec != NULL, "close report of the refused connect");
	cr_expect(eq(u8, rec->flags & MM_PROBE_F_CONN_SUCCESS, 0));
	cr_expect(eq(u8, rec->direction, MM_PROBE_DIR_OUTBOUND));
	cr_expect(eq(u32, rec->pid, (__u32)getpid()));
	cr_expect(eq(u64, rec->bytes_sent, 0));
	cr_expect(find_rec(MM_PROBE_OPEN, 0, cport, 9, NULL) == NULL, "no open report");
}

Test(tcp_probe, v4_mapped_ipv6_reported_as_ipv4)
{
	struct addr a;
	const struct mm_tcp_probe_record *rec;
	int lfd, fd, sfd, cport, lport;
	__u32 want;

	/* IPv4 listener; the client is an IPv6 socket */
	lfd = mm_test_pair_listen(&pair, AF_INET, 0, 8);
	cr_assert(lfd >= 0);
	lport = local_port(lfd);
	a = make_addr(AF_INET6, "::ffff:10.199.0.2", lport);
	fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(eq(int, connect(fd, (struct sockaddr *)&a.ss, a.len), 0), "connect: %s",
		  strerror(errno));
	sfd = accept(lfd, NULL, NULL);
	cport = local_port(fd);
	mm_test_ring_collect(ring, 2, 2000);
	rec = find_rec(MM_PROBE_OPEN, MM_PROBE_DIR_OUTBOUND, cport, lport, NULL);
	cr_assert(rec != NULL);
	cr_expect(eq(u8, rec->tuple.family, MM_FAMILY_IPV4));
	inet_pton(AF_INET, "10.199.0.2", &want);
	cr_expect(eq(u32, rec->tuple.daddr[0], want));
	cr_expect(eq(u32, rec->tuple.daddr[3], 0));
	inet_pton(AF_INET, "10.199.0.1", &want);
	cr_expect(eq(u32, rec->tuple.saddr[0], want));
	close(sfd);
	close(fd);
	close(lfd);
}
