/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * tcp_probe on real connections, shared by test_tcp_probe, test_tcp_probe_owner
 * and test_tcp_probe_scope. Use tcp_probe_setup / tcp_probe_teardown as the
 * suite's .init and .fini: a private cgroup (under the cgroup v2 root) holds
 * the test process, a private netns with a veth pair to a peer netns carries
 * the traffic, and the probe is attached to the cgroup with a ring reader on
 * its events (200 ms between periodic reports). The helpers assert.
 */
#ifndef MESHMON_TEST_TCP_PROBE_FIXTURE_H
#define MESHMON_TEST_TCP_PROBE_FIXTURE_H

#include <stddef.h>
#include <linux/tcp.h>
#include <sys/socket.h>

#include "harness.h"
#include "records.h"
#include "tcp_probe.h"

/* The test's cgroup, and one a test may create beside it (teardown removes both). */
extern struct mm_test_cgroup cg, cg_other;
extern struct mm_test_pair pair;
extern struct mm_probe *probe;
extern struct mm_test_ring *ring;
extern int peer_ns_fd; /* the peer netns, for mm_probe__run_iter_in_netns() */

void tcp_probe_setup(void);
void tcp_probe_teardown(void);

struct addr {
	int family;
	struct sockaddr_storage ss;
	socklen_t len;
};

struct addr make_addr(int family, const char *text, int port);
int local_port(int fd);
/* Write n bytes of 'm'; 0 or -errno. */
int write_all(int fd, size_t n);
/* The test's comm (threads of the process inherit it). */
void self_comm(char *comm, size_t len);
/*
 * The first tcp_probe record in the ring of state, direction (0: any), local
 * port lport and remote port rport (0: any), copied to static storage, or
 * NULL; *count, when asked, is the number of such records.
 */
const struct mm_tcp_probe_record *find_rec(__u8 state, __u8 direction, int lport, int rport,
					   size_t *count);
/* Poll TCP_INFO into *ti until the socket is in TCP_CLOSE (5 s at most): 0 or -errno. */
int wait_closed(int fd, struct tcp_info *ti);
/*
 * Orderly close: shut the write side, drain to EOF, wait until the kernel
 * moved the socket to TCP_CLOSE (the close report is emitted then), read
 * TCP_INFO. The counters no longer change after that point.
 */
int finish(int fd, struct tcp_info *ti);
/* The record's counters equal the socket's TCP_INFO. */
void assert_counters(const struct mm_tcp_probe_record *rec, const struct tcp_info *ti);

#endif /* MESHMON_TEST_TCP_PROBE_FIXTURE_H */
