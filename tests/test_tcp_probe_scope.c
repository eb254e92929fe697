// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tcp_probe on real connections, which sockets and maps it covers: nothing of
 * a cgroup it is not attached to, the datapath's shared maps and event mask
 * when opened with a datapath, and the cgroup v2 root by default
 * (tcp_probe_fixture.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "datapath.h"
#include "harness.h"
#include "records.h"
#include "tcp_probe.h"
#include "tcp_probe_fixture.h"

TestSuite(tcp_probe_scope, .init = tcp_probe_setup, .fini = tcp_probe_teardown, .timeout = 60);

Test(tcp_probe_scope, other_cgroup_produces_nothing)
{
	int go[2], ports[2];
	pid_t child;
	int status;
	size_t n = 0;

	cr_assert(eq(int, mm_test_cgroup_create(&cg_other, cg.root, "probe-other"), 0));
	cr_assert(eq(int, pipe(go), 0));
	cr_assert(eq(int, pipe(ports), 0));
	child = fork();
	cr_assert(child >= 0);
	if (child == 0) {
		/* Outside the probed cgroup: a whole connection over lo, kept open
		 * while the parent runs the iterator, then closed. */
		struct addr a = make_addr(AF_INET, "127.0.0.1", 0);
		int lfd, fd, sfd, pp[2];
		char c;

		if (mm_test_cgroup_enter(&cg_other, getpid()))
			_exit(2);
		lfd = socket(AF_INET, SOCK_STREAM, 0);
		if (bind(lfd, (struct sockaddr *)&a.ss, a.len) || listen(lfd, 1))
			_exit(3);
		a = make_addr(AF_INET, "127.0.0.1", local_port(lfd));
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&a.ss, a.len))
			_exit(4);
		sfd = accept(lfd, NULL, NULL);
		if (write(sfd, "x", 1) != 1 || read(fd, &c, 1) != 1)
			_exit(5);
		pp[0] = local_port(fd);
		pp[1] = local_port(lfd);
		if (write(ports[1], pp, sizeof(pp)) != sizeof(pp))
			_exit(6);
		if (read(go[0], &c, 1) != 1)
			_exit(7);
		shutdown(fd, SHUT_WR);
		while (read(sfd, &c, 1) > 0)
			;
		close(sfd);
		close(fd);
		close(lfd);
		_exit(0);
	}
	int pp[2];

	cr_assert(eq(long, read(ports[0], pp, sizeof(pp)), (long)sizeof(pp)));
	usleep(300000);
	cr_assert(eq(int, mm_probe__run_iter(probe), 0));
	cr_assert(eq(long, write(go[1], "g", 1), 1));
	cr_assert(eq(int, waitpid(child, &status, 0), child));
	cr_assert(eq(int, WIFEXITED(status) && WEXITSTATUS(status) == 0, 1), "child status %d",
		  status);
	usleep(300000);
	cr_assert(eq(int, mm_probe__run_iter(probe), 0));
	mm_test_ring_collect(ring, 1, 500);
	for (size_t i = 0; i < mm_test_ring_count(ring, MM_EVENT_TCP_PROBE); i++) {
		struct mm_tcp_probe_record r;

		memcpy(&r, mm_test_ring_nth(ring, MM_EVENT_TCP_PROBE, i)->data, sizeof(r));
		if (r.tuple.sport == pp[0] || r.tuple.sport == pp[1] || r.tuple.dport == pp[0] ||
		    r.tuple.dport == pp[1])
			n++;
	}
	cr_expect(eq(sz, n, 0), "records of the other cgroup's connection");

	/* Control: the same connection from this cgroup is reported. */
	{
		struct addr a = make_addr(AF_INET, "127.0.0.1", 0);
		int lfd = socket(AF_INET, SOCK_STREAM, 0), fd, sfd;

		cr_assert(eq(int, bind(lfd, (struct sockaddr *)&a.ss, a.len) || listen(lfd, 1), 0));
		a = make_addr(AF_INET, "127.0.0.1", local_port(lfd));
		fd = socket(AF_INET, SOCK_STREAM, 0);
		cr_assert(eq(int, connect(fd, (struct sockaddr *)&a.ss, a.len), 0));
		sfd = accept(lfd, NULL, NULL);
		mm_test_ring_collect(ring, mm_test_ring_count(ring, MM_EVENT_TCP_PROBE) + 2, 2000);
		cr_expect(find_rec(MM_PROBE_OPEN, MM_PROBE_DIR_OUTBOUND, local_port(fd), 0, NULL) !=
			      NULL,
			  "control connection reported");
		close(sfd);
		close(fd);
		close(lfd);
	}
}

Test(tcp_probe_scope, shares_the_datapath_maps)
{
	struct mm_datapath *dp;
	struct mm_probe *p2;
	struct mm_test_ring *r2;
	struct mm_config cfg;
	struct addr a;
	int lfd = mm_test_pair_listen(&pair, AF_INET, 0, 8), fd, sfd;

	cr_assert(lfd >= 0);
	mm_test_ring_free(ring);
	ring = NULL;
	mm_probe__free(probe);
	probe = NULL;
	mm_config__defaults(&cfg);
	dp = mm_datapath__open(&cfg);
	cr_assert(dp != NULL, "mm_datapath__open: %s", strerror(errno));
	p2 = mm_probe__open(dp, cg.path);
	cr_assert(p2 != NULL, "mm_probe__open with a datapath: %s", strerror(errno));
	r2 = mm_test_ring_open(mm_datapath__events_fd(dp));
	cr_assert(r2 != NULL);
	a = make_addr(AF_INET, "10.199.0.2", local_port(lfd));
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(eq(int, connect(fd, (struct sockaddr *)&a.ss, a.len), 0));
	sfd = accept(lfd, NULL, NULL);
	mm_test_ring_collect(r2, 2, 2000);
	cr_expect(mm_test_ring_count(r2, MM_EVENT_TCP_PROBE) >= 2,
		  "open reports in the shared ring");

	/* The shared configuration rules: tcp_probe off, nothing more. */
	cfg.event_mask &= ~MM_EVENT_BIT(MM_EVENT_TCP_PROBE);
	cr_assert(eq(int, mm_datapath__set_config(dp, &cfg), 0));
	mm_test_ring_clear(r2);
	close(sfd);
	close(fd);
	usleep(200000);
	mm_test_ring_collect(r2, 1, 300);
	cr_expect(eq(sz, mm_test_ring_count(r2, MM_EVENT_TCP_PROBE), 0), "disabled by event_mask");
	mm_test_ring_free(r2);
	mm_probe__free(p2);
	mm_datapath__free(dp);
	close(lfd);
}

Test(tcp_probe_scope, default_cgroup_is_the_v2_root)
{
	struct mm_probe *p2;
	struct mm_test_ring *r2;
	struct addr a;
	int lfd = mm_test_pair_listen(&pair, AF_INET, 0, 8), fd, sfd, cport, found = 0;

	cr_assert(lfd >= 0);
	/* NULL: the root of the unified hierarchy, which holds the test's cgroup */
	p2 = mm_probe__open(NULL, NULL);
	cr_assert(p2 != NULL, "mm_probe__open(NULL): %s", strerror(errno));
	r2 = mm_test_ring_open(mm_probe__events_fd(p2));
	cr_assert(r2 != NULL);
	a = make_addr(AF_INET, "10.199.0.2", local_port(lfd));
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(eq(int, connect(fd, (struct sockaddr *)&a.ss, a.len), 0));
	sfd = accept(lfd, NULL, NULL);
	cport = local_port(fd);
	mm_test_ring_collect(r2, 2, 2000);
	for (size_t i = 0; i < mm_test_ring_count(r2, MM_EVENT_TCP_PROBE); i++) {
		struct mm_tcp_probe_record r;

		memcpy(&r, mm_test_ring_nth(r2, MM_EVENT_TCP_PROBE, i)->data, sizeof(r));
		if (r.hdr.subtype == MM_PROBE_OPEN && r.tuple.sport == cport &&
		    r.pid == (__u32)getpid())
			found = 1;
	}
	cr_expect(found, "open report through the root cgroup's programs");
	close(sfd);
	close(fd);
	close(lfd);
	mm_test_ring_free(r2);
	mm_probe__free(p2);
}
