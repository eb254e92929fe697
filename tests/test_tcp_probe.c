// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tcp_probe on real connections: a private cgroup (under the cgroup v2 root)
 * holds the test process, a private netns with a veth pair to a peer netns
 * carries the traffic. The server runs in a thread that entered the peer
 * netns, so both ends are in the test's cgroup.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
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
#include "datapath.h"

#define XFER_BYTES	1000000
#define TCP_STATE_CLOSE 7

static char cg_root[256], cg_dir[512], cg_other[512];
static struct mm_test_pair pair;
static struct mm_probe *probe;
static struct mm_test_ring *ring;
static int peer_ns_fd = -1;

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		err = -errno;
	close(fd);
	return err;
}

static int cgroup_enter(const char *dir, pid_t pid)
{
	char path[600], text[32];

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	snprintf(text, sizeof(text), "%d\n", (int)pid);
	return write_file(path, text);
}

static void setup(void)
{
	struct mm_config cfg;

	cr_assert(eq(int, mm_cgroup2_root(cg_root, sizeof(cg_root)), 0));
	snprintf(cg_dir, sizeof(cg_dir), "%s/mmtest-probe-%d", cg_root, (int)getpid());
	snprintf(cg_other, sizeof(cg_other), "%s/mmtest-probe-other-%d", cg_root, (int)getpid());
	cr_assert(eq(int, mkdir(cg_dir, 0755), 0), "mkdir %s: %s", cg_dir, strerror(errno));
	cr_assert(eq(int, cgroup_enter(cg_dir, getpid()), 0));
	cr_assert(eq(int, mm_test_private_netns(), 0));
	cr_assert(eq(int, mm_test_pair_create(&pair), 0));
	peer_ns_fd = open(pair.peer_ns_path, O_RDONLY | O_CLOEXEC);
	cr_assert(peer_ns_fd >= 0);

	probe = mm_probe__open(NULL, cg_dir);
	cr_assert(probe != NULL, "mm_probe__open: %s", strerror(errno));
	mm_config__defaults(&cfg);
	cfg.probe_interval_ns = 200ull * 1000 * 1000;
	cr_assert(eq(int, mm_probe__set_config(probe, &cfg), 0));
	ring = mm_test_ring_open(mm_probe__events_fd(probe));
	cr_assert(ring != NULL);
}

static void teardown(void)
{
	mm_test_ring_free(ring);
	ring = NULL;
	mm_probe__free(probe);
	probe = NULL;
	if (peer_ns_fd >= 0)
		close(peer_ns_fd);
	peer_ns_fd = -1;
	mm_test_pair_destroy(&pair);
	if (cg_root[0]) {
		cgroup_enter(cg_root, getpid());
		rmdir(cg_dir);
		rmdir(cg_other);
	}
}

TestSuite(tcp_probe, .init = setup, .fini = teardown, .timeout = 60);

/* --- helpers ------------------------------------------------------------------- */

struct addr {
	int family;
	struct sockaddr_storage ss;
	socklen_t len;
};

static struct addr make_addr(int family, const char *text, int port)
{
	struct addr a = {.family = family};

	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&a.ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		inet_pton(AF_INET, text, &in->sin_addr);
		a.len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a.ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		inet_pton(AF_INET6, text, &in6->sin6_addr);
		a.len = sizeof(*in6);
	}
	return a;
}

static int local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	getsockname(fd, (struct sockaddr *)&ss, &len);
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					     : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* A listening socket in the peer netns (created by a thread inside it). */
struct listen_job {
	int family;
	int fd;
};

static void *listen_thread(void *arg)
{
	struct listen_job *job = arg;
	struct addr a =
	    make_addr(job->family, job->family == AF_INET ? "10.199.0.2" : "fd00:199::2", 0);
	int one = 1;

	job->fd = -1;
	if (setns(peer_ns_fd, CLONE_NEWNET))
		return NULL;
	job->fd = socket(job->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(job->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(job->fd, (struct sockaddr *)&a.ss, a.len) || listen(job->fd, 8)) {
		close(job->fd);
		job->fd = -1;
	}
	return NULL;
}

static int peer_listen(int family)
{
	struct listen_job job = {.family = family};
	pthread_t th;

	pthread_create(&th, NULL, listen_thread, &job);
	pthread_join(th, NULL);
	return job.fd;
}

static int wait_closed(int fd, struct tcp_info *ti)
{
	for (int i = 0; i < 500; i++) {
		socklen_t len = sizeof(*ti);

		memset(ti, 0, sizeof(*ti));
		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &len))
			return -errno;
		if (ti->tcpi_state == TCP_STATE_CLOSE)
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

/* Orderly close: shut the write side, drain to EOF, wait until the kernel
 * moved the socket to TCP_CLOSE (the close report is emitted then), read
 * TCP_INFO. The counters no longer change after that point. */
static int finish(int fd, struct tcp_info *ti)
{
	char buf[4096];

	shutdown(fd, SHUT_WR);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	return wait_closed(fd, ti);
}

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

static int write_all(int fd, size_t n)
{
	static char buf[65536];

	memset(buf, 'm', sizeof(buf));
	while (n) {
		ssize_t w = write(fd, buf, n < sizeof(buf) ? n : sizeof(buf));

		if (w <= 0)
			return -errno;
		n -= w;
	}
	return 0;
}

/* The test's comm (threads of the process inherit it). */
static void self_comm(char *comm, size_t len)
{
	FILE *f = fopen("/proc/self/comm", "re");

	comm[0] = 0;
	cr_assert(f != NULL);
	cr_assert(fgets(comm, (int)len, f) != NULL);
	fclose(f);
	comm[strcspn(comm, "\n")] = 0;
}

static const struct mm_tcp_probe_record *find_rec(__u8 state, __u8 direction, int lport, int rport,
						  size_t *count)
{
	const struct mm_tcp_probe_record *found = NULL;
	static struct mm_tcp_probe_record copy;
	const struct mm_test_record *r;

	if (count)
		*count = 0;
	for (size_t i = 0; (r = mm_test_ring_nth(ring, MM_EVENT_TCP_PROBE, i)); i++) {
		struct mm_tcp_probe_record rec;

		cr_assert(eq(u32, r->size >= sizeof(rec), 1), "short record %u", r->size);
		memcpy(&rec, r->data, sizeof(rec));
		if (rec.hdr.subtype != state || rec.tuple.sport != lport ||
		    (rport && rec.tuple.dport != rport) ||
		    (direction && rec.direction != direction))
			continue;
		if (count)
			++*count;
		if (!found) {
			copy = rec;
			found = &copy;
		}
	}
	return found;
}

static void assert_counters(const struct mm_tcp_probe_record *rec, const struct tcp_info *ti)
{
	cr_expect(eq(u64, rec->bytes_sent, ti->tcpi_bytes_acked));
	cr_expect(eq(u64, rec->bytes_received, ti->tcpi_bytes_received));
	cr_expect(eq(u32, rec->segs_in, ti->tcpi_segs_in));
	cr_expect(eq(u32, rec->segs_out, ti->tcpi_segs_out));
	cr_expect(eq(u32, rec->data_segs_in, ti->tcpi_data_segs_in));
	cr_expect(eq(u32, rec->data_segs_out, ti->tcpi_data_segs_out));
	cr_expect(eq(u32, rec->total_retrans, ti->tcpi_total_retrans));
	cr_expect(eq(u32, rec->srtt_us, ti->tcpi_rtt));
	cr_expect(eq(u32, rec->min_rtt_us, ti->tcpi_min_rtt));
	cr_expect(eq(u32, rec->snd_cwnd, ti->tcpi_snd_cwnd));
	cr_expect(eq(u32, rec->delivered, ti->tcpi_delivered));
}

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

	lfd = peer_listen(family);
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
	rec = find_rec(MM_PROBE_CLOSED, MM_PROBE_DIR_OUTBOUND, cport, lport, NULL);
	cr_assert(rec != NULL, "client close report");
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
	cr_assert(eq(int, stat(cg_dir, &nst), 0));
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
	cr_assert(eq(int, stat(cg_dir, &nst), 0));
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

Test(tcp_probe, accepted_ipv4_gets_listener_process)
{
	forked_server_test(AF_INET);
}

Test(tcp_probe, accepted_ipv6_gets_listener_process)
{
	forked_server_test(AF_INET6);
}

Test(tcp_probe, idle_connection_gets_periodic_reports)
{
	struct addr a;
	int lfd, fd, sfd, cport;
	size_t n_client = 0, n_server = 0;

	lfd = peer_listen(AF_INET);
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

Test(tcp_probe, other_cgroup_produces_nothing)
{
	int go[2], ports[2];
	pid_t child;
	int status;
	size_t n = 0;

	cr_assert(eq(int, mkdir(cg_other, 0755), 0));
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

		if (cgroup_enter(cg_other, getpid()))
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

Test(tcp_probe, v4_mapped_ipv6_reported_as_ipv4)
{
	struct addr a;
	const struct mm_tcp_probe_record *rec;
	int lfd, fd, sfd, cport, lport;
	__u32 want;

	lfd = peer_listen(AF_INET); /* IPv4 listener; the client is an IPv6 socket */
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

Test(tcp_probe, preexisting_connection_is_marked)
{
	struct addr a;
	const struct mm_tcp_probe_record *rec;
	int lfd = peer_listen(AF_INET), fd, sfd, cport;

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

	probe = mm_probe__open(NULL, cg_dir);
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

Test(tcp_probe, listener_opened_before_meshmon_gives_pid_0)
{
	const struct mm_tcp_probe_record *rec;
	int lfd, fd, sfd, cport, lport;
	struct addr a;

	/* listen() with no probe loaded: the listener has no owner entry. */
	mm_test_ring_free(ring);
	ring = NULL;
	mm_probe__free(probe);
	probe = NULL;
	lfd = peer_listen(AF_INET);
	cr_assert(lfd >= 0);
	lport = local_port(lfd);
	probe = mm_probe__open(NULL, cg_dir);
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

Test(tcp_probe, shares_the_datapath_maps)
{
	struct mm_datapath *dp;
	struct mm_probe *p2;
	struct mm_test_ring *r2;
	struct mm_config cfg;
	struct addr a;
	int lfd = peer_listen(AF_INET), fd, sfd;

	cr_assert(lfd >= 0);
	mm_test_ring_free(ring);
	ring = NULL;
	mm_probe__free(probe);
	probe = NULL;
	mm_config__defaults(&cfg);
	dp = mm_datapath__open(&cfg);
	cr_assert(dp != NULL, "mm_datapath__open: %s", strerror(errno));
	p2 = mm_probe__open(dp, cg_dir);
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

Test(tcp_probe, default_cgroup_is_the_v2_root)
{
	struct mm_probe *p2;
	struct mm_test_ring *r2;
	struct addr a;
	int lfd = peer_listen(AF_INET), fd, sfd, cport, found = 0;

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
