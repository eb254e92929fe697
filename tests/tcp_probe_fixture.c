// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tcp_probe on real connections (see tcp_probe_fixture.h): a private cgroup
 * holding the test process, a private netns with a veth pair to a peer netns,
 * the probe attached to the cgroup and a ring reader on its events.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "datapath.h"
#include "harness.h"
#include "records.h"
#include "tcp_probe.h"
#include "tcp_probe_fixture.h"

struct mm_test_cgroup cg, cg_other;
struct mm_test_pair pair;
struct mm_probe *probe;
struct mm_test_ring *ring;
int peer_ns_fd = -1;

void tcp_probe_setup(void)
{
	struct mm_config cfg;
	char root[256];
	int err;

	cr_assert(eq(int, mm_cgroup2_root(root, sizeof(root)), 0));
	err = mm_test_cgroup_create(&cg, root, "probe");
	cr_assert(eq(int, err, 0), "cgroup mmtest-probe-%d under %s: %s", (int)getpid(), root,
		  strerror(-err));
	cr_assert(eq(int, mm_test_cgroup_enter(&cg, getpid()), 0));
	cr_assert(eq(int, mm_test_private_netns(), 0));
	cr_assert(eq(int, mm_test_pair_create(&pair), 0));
	peer_ns_fd = open(pair.peer_ns_path, O_RDONLY | O_CLOEXEC);
	cr_assert(peer_ns_fd >= 0);

	probe = mm_probe__open(NULL, cg.path);
	cr_assert(probe != NULL, "mm_probe__open: %s", strerror(errno));
	mm_config__defaults(&cfg);
	cfg.probe_interval_ns = 200ull * 1000 * 1000;
	cr_assert(eq(int, mm_probe__set_config(probe, &cfg), 0));
	ring = mm_test_ring_open(mm_probe__events_fd(probe));
	cr_assert(ring != NULL);
}

void tcp_probe_teardown(void)
{
	mm_test_ring_free(ring);
	ring = NULL;
	mm_probe__free(probe);
	probe = NULL;
	if (peer_ns_fd >= 0)
		close(peer_ns_fd);
	peer_ns_fd = -1;
	mm_test_pair_destroy(&pair);
	mm_test_cgroup_destroy(&cg_other);
	mm_test_cgroup_destroy(&cg);
}

struct addr make_addr(int family, const char *text, int port)
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

int local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	getsockname(fd, (struct sockaddr *)&ss, &len);
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					     : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

int write_all(int fd, size_t n)
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

void self_comm(char *comm, size_t len)
{
	FILE *f = fopen("/proc/self/comm", "re");

	comm[0] = 0;
	cr_assert(f != NULL);
	cr_assert(fgets(comm, (int)len, f) != NULL);
	fclose(f);
	comm[strcspn(comm, "\n")] = 0;
}

const struct mm_tcp_probe_record *find_rec(__u8 state, __u8 direction, int lport, int rport,
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

int wait_closed(int fd, struct tcp_info *ti)
{
	for (int i = 0; i < 500; i++) {
		socklen_t len = sizeof(*ti);

		memset(ti, 0, sizeof(*ti));
		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &len))
			return -errno;
		if (ti->tcpi_state == MM_TCPS_CLOSE)
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

int finish(int fd, struct tcp_info *ti)
{
	char buf[4096];

	shutdown(fd, SHUT_WR);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	return wait_closed(fd, ti);
}

void assert_counters(const struct mm_tcp_probe_record *rec, const struct tcp_info *ti)
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
