// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tcp_probe on real connections, which process a report names: an accepted
 * connection gets the pid and comm of the listener's owner, a listener opened
 * before the probe was loaded gives pid 0, and a connection older than the
 * probe is marked preexisting (tcp_probe_fixture.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "harness.h"
#include "records.h"
#include "tcp_probe.h"
#include "tcp_probe_fixture.h"

TestSuite(tcp_probe_owner, .init = tcp_probe_setup, .fini = tcp_probe_teardown, .timeout = 60);

/*
 * A forked server with a comm of its own listens and accepts; the test
 * process connects. The inbound reports carry the server's pid and comm (the
 * owner of the listening socket), the outbound ones the test's.
 */
static void forked_server_test(int family)
{
	const char *addr = family == AF_INET ? "127.0.0.1" : "::1";
	const struct mm_tcp_probe_record *rec;
	int ready[2], go[2], lport = 0, fd, cport, status;
	struct addr a;
	pid_t child;
	char c, comm[32];

	cr_assert(eq(int, pipe(ready), 0));
	cr_assert(eq(int, pipe(go), 0));
	child = fork();
	cr_assert(child >= 0);
	if (child == 0) {
		/* Same cgroup and netns as the test (inherited). */
		struct addr la = make_addr(family, addr, 0);
		int lfd, sfd, port;

		close(ready[0]);
		close(go[1]);
		if (prctl(PR_SET_NAME, "mmtest-srv", 0, 0, 0))
			_exit(2);
		lfd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (lfd < 0 || bind(lfd, (struct sockaddr *)&la.ss, la.len) || listen(lfd, 4))
			_exit(3);
		port = local_port(lfd);
		if (write(ready[1], &port, sizeof(port)) != sizeof(port))
			_exit(4);
		sfd = accept(lfd, NULL, NULL);
		if (sfd < 0)
			_exit(5);
		if (read(sfd, &c, 1) != 1 || write(sfd, &c, 1) != 1)
			_exit(6);
		/* wait for the parent to half-close, then close ours */
		while (read(sfd, &c, 1) > 0)
			;
		close(sfd);
		if (read(go[0], &c, 1) != 1)
			_exit(7);
		close(lfd);
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	cr_assert(eq(long, read(ready[0], &lport, sizeof(lport)), (long)sizeof(lport)));
	close(ready[0]);
	a = make_addr(family, addr, lport);
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(fd >= 0);
	cr_assert(eq(int, connect(fd, (struct sockaddr *)&a.ss, a.len), 0), "connect: %s",
		  strerror(errno));
	cport = local_port(fd);
	cr_assert(eq(long, write(fd, "x", 1), 1));
	cr_assert(eq(long, read(fd, &c, 1), 1));
	shutdown(fd, SHUT_WR);
	while (read(fd, &c, 1) > 0)
		;
	close(fd);
	cr_assert(eq(long, write(go[1], "g", 1), 1));
	close(go[1]);
	cr_assert(eq(int, waitpid(child, &status, 0), child));
	cr_assert(eq(int, WIFEXITED(status) && WEXITSTATUS(status) == 0, 1), "child status %d",
		  status);
	mm_test_ring_collect(ring, 4, 2000);

	rec = find_rec(MM_PROBE_OPEN, MM_PROBE_DIR_INBOUND, lport, cport, NULL);
	cr_assert(rec != NULL, "server open report");
	cr_expect(eq(u32, rec->pid, (__u32)child), "inbound pid = the listener's process");
	cr_expect(eq(str, (char *)rec->comm, "mmtest-srv"));
	rec = find_rec(MM_PROBE_CLOSED, MM_PROBE_DIR_INBOUND, lport, cport, NULL);
	cr_assert(rec != NULL, "server close report");
	cr_expect(eq(u32, rec->pid, (__u32)child));
	cr_expect(eq(str, (char *)rec->comm, "mmtest-srv"));

	self_comm(comm, sizeof(comm));
	rec = find_rec(MM_PROBE_OPEN, MM_PROBE_DIR_OUTBOUND, cport, lport, NULL);
	cr_assert(rec != NULL, "client open report");
	cr_expect(eq(u32, rec->pid, (__u32)getpid()), "outbound pid = the connecting process");
	cr_expect(eq(str, (char *)rec->comm, comm));
	rec = find_rec(MM_PROBE_CLOSED, MM_PROBE_DIR_OUTBOUND, cport, lport, NULL);
	cr_assert(rec != NULL, "client close report");
	cr_expect(eq(u32, rec->pid, (__u32)getpid()));
}

Test(tcp_probe_owner, accepted_ipv4_gets_listener_process)
{
	forked_server_test(AF_INET);
}

Test(tcp_probe_owner, accepted_ipv6_gets_listener_process)
{
	forked_server_test(AF_INET6);
}

Test(tcp_probe_owner, preexisting_connection_is_marked)
{
	struct addr a;
	const struct mm_tcp_probe_record *rec;
	int lfd = mm_test_pair_listen(&pair, AF_INET, 0, 8), fd, sfd, cport;

	cr_assert(lfd >= 0);
	a = make_addr(AF_INET, "10.199.0.2", local_port(lfd));
	/* Opened with no probe loaded: the new probe knows nothing of it. */
	mm_test_ring_free(ring);
	ring = NULL;
	mm_probe__free(probe);
	probe = NULL;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(eq(int, connect(fd, (struct sockaddr *)&a.ss, a.len), 0));
	sfd = accept(lfd, NULL, NULL);
	cport = local_port(fd);
	cr_assert(eq(int, write_all(fd, 1000), 0));
	usleep(50000); /* let the ACK arrive */

	probe = mm_probe__open(NULL, cg.path);
	cr_assert(probe != NULL);
	ring = mm_test_ring_open(mm_probe__events_fd(probe));
	cr_assert(ring != NULL);
	cr_assert(eq(int, mm_probe__run_iter(probe), 0));
	mm_test_ring_collect(ring, 1, 1000);
	rec = find_rec(MM_PROBE_PERIODIC, 0, cport, 0, NULL);
	cr_assert(rec != NULL, "periodic report of the preexisting connection");
	cr_expect(eq(u8, rec->flags & MM_PROBE_F_PREEXISTING, MM_PROBE_F_PREEXISTING));
	cr_expect(eq(u64, rec->start_ns, 0));
	cr_expect(eq(u64, rec->duration_ns, 0));
	cr_expect(eq(u32, rec->pid, 0));
	{
		struct tcp_info ti;
		socklen_t len = sizeof(ti);

		cr_assert(eq(int, getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0));
		/* idle since the write: the kernel's counters stand still */
		assert_counters(rec, &ti);
		cr_expect(rec->bytes_sent >= 1000 && rec->bytes_sent <= 1001,
			  "SYN counts in bytes_acked");
	}
	close(sfd);
	close(fd);
	close(lfd);
}

Test(tcp_probe_owner, listener_opened_before_meshmon_gives_pid_0)
{
	const struct mm_tcp_probe_record *rec;
	int lfd, fd, sfd, cport, lport;
	struct addr a;

	/* listen() with no probe loaded: the listener has no owner entry. */
	mm_test_ring_free(ring);
	ring = NULL;
	mm_probe__free(probe);
	probe = NULL;
	lfd = mm_test_pair_listen(&pair, AF_INET, 0, 8);
	cr_assert(lfd >= 0);
	lport = local_port(lfd);
	probe = mm_probe__open(NULL, cg.path);
	cr_assert(probe != NULL);
	ring = mm_test_ring_open(mm_probe__events_fd(probe));
	cr_assert(ring != NULL);

	a = make_addr(AF_INET, "10.199.0.2", lport);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(eq(int, connect(fd, (struct sockaddr *)&a.ss, a.len), 0));
	sfd = accept(lfd, NULL, NULL);
	cr_assert(sfd >= 0);
	cport = local_port(fd);
	mm_test_ring_collect(ring, 2, 2000);
	rec = find_rec(MM_PROBE_OPEN, MM_PROBE_DIR_INBOUND, lport, cport, NULL);
	cr_assert(rec != NULL, "server open report");
	cr_expect(eq(u32, rec->pid, 0), "owner of the listener unknown");
	cr_expect(eq(u8, (__u8)rec->comm[0], 0));
	rec = find_rec(MM_PROBE_OPEN, MM_PROBE_DIR_OUTBOUND, cport, lport, NULL);
	cr_assert(rec != NULL, "client open report");
	cr_expect(eq(u32, rec->pid, (__u32)getpid()));
	close(sfd);
	close(fd);
	close(lfd);
}

/*
 * Opened before the probe, closed while it is attached: one closed report per
 * end, from tp_btf/inet_sock_set_state (sockops never enabled their state
 * callback). The client end was found by an iterator pass (it has storage);
 * the server end lives in the peer namespace, where no pass ran: it is
 * reported all the same, from the cgroup its socket belongs to.
 */
Test(tcp_probe_owner, preexisting_connection_gets_one_closed_report)
{
	const struct mm_tcp_probe_record *rec;
	struct tcp_info cti, sti;
	struct stat cg_st;
	size_t n_client = 0, n_server = 0;
	int lfd = mm_test_pair_listen(&pair, AF_INET, 0, 8), fd, sfd, cport, lport;
	struct addr a;

	cr_assert(lfd >= 0);
	lport = local_port(lfd);
	a = make_addr(AF_INET, "10.199.0.2", lport);
	mm_test_ring_free(ring);
	ring = NULL;
	mm_probe__free(probe);
	probe = NULL;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(eq(int, connect(fd, (struct sockaddr *)&a.ss, a.len), 0));
	sfd = accept(lfd, NULL, NULL);
	cr_assert(sfd >= 0);
	cport = local_port(fd);
	cr_assert(eq(int, write_all(fd, 1000), 0));

	probe = mm_probe__open(NULL, cg.path);
	cr_assert(probe != NULL);
	ring = mm_test_ring_open(mm_probe__events_fd(probe));
	cr_assert(ring != NULL);
	cr_assert(eq(int, mm_probe__run_iter(probe), 0)); /* this namespace only: the client end */
	cr_assert(eq(int, shutdown(sfd, SHUT_WR), 0));
	cr_assert(eq(int, finish(fd, &cti), 0));
	cr_assert(eq(int, finish(sfd, &sti), 0));
	mm_test_ring_collect(ring, 3, 2000);

	rec = find_rec(MM_PROBE_CLOSED, 0, cport, lport, &n_client);
	cr_assert(rec != NULL, "closed report of the preexisting client end");
	cr_expect(eq(sz, n_client, 1));
	cr_expect(eq(u8, rec->hdr.source, MM_SOURCE_SOCK_STATE));
	cr_expect(eq(u8, rec->flags, MM_PROBE_F_PREEXISTING | MM_PROBE_F_CONN_SUCCESS));
	cr_expect(eq(u8, rec->tcp_state, MM_TCPS_CLOSE));
	assert_counters(rec, &cti);

	rec = find_rec(MM_PROBE_CLOSED, 0, lport, cport, &n_server);
	cr_assert(rec != NULL, "closed report of the server end no pass had seen");
	cr_expect(eq(sz, n_server, 1));
	cr_expect(eq(u8, rec->hdr.source, MM_SOURCE_SOCK_STATE));
	cr_expect(eq(u8, rec->flags, MM_PROBE_F_PREEXISTING | MM_PROBE_F_CONN_SUCCESS));
	cr_expect(eq(int, stat(cg.path, &cg_st), 0));
	cr_expect(eq(u64, rec->cgroup_id, (uint64_t)cg_st.st_ino), "the socket's cgroup");
	assert_counters(rec, &sti);
	close(sfd);
	close(fd);
	close(lfd);
}
