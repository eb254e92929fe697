// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-sock-xlate-bench: what trace-sock costs a process of the monitored
 * cgroup, side by side against no program. In a private network namespace
 * and cgroup, over loopback, it times N of each:
 *   connect   a TCP connect(2) to a local listener (accepted and closed
 *             outside the timed part);
 *   sendto    a UDP sendto(2) of one byte to a local socket;
 *   getppid   an unrelated syscall (what every process on the host pays);
 * under each setup:
 *   none          no program;
 *   tcp_probe     tcp_probe on the cgroup, trace-sock off (the TCP half of
 *                 trace-sock, the syscall's address read at TCP_CONNECT_CB,
 *                 always runs: tcp_probe carries orig_dst);
 *   trace-sock    tcp_probe with trace-sock on and the UDP programs of
 *                 sock_xlate.bpf.c attached (meshmon-agent --events
 *                 ...,trace-sock);
 *   sys_enter     no meshmon program, only a tp_btf/sys_enter program that
 *                 picks connect/sendto/sendmsg by number (bench/bpf): the
 *                 cost of the design trace-sock does not use.
 * Prints ns per operation (the median of 5 rounds). Run as root, on an idle
 * machine: meshmon-sock-xlate-bench [N] (default 20000).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "bench_machine.h"
#include "datapath.h"
#include "harness.h"
#include "sock_xlate.h"
#include "sys_enter_filter.skel.h"
#include "tcp_probe.h"

#define ROUNDS 5

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct loopback {
	int listener, udp_sink;
	struct sockaddr_in tcp_to, udp_to;
};

static int loopback_open(struct loopback *lb)
{
	socklen_t len = sizeof(lb->tcp_to);
	struct sockaddr_in any = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

	lb->listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	lb->udp_sink = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (lb->listener < 0 || lb->udp_sink < 0 ||
	    bind(lb->listener, (struct sockaddr *)&any, sizeof(any)) || listen(lb->listener, 4096) ||
	    getsockname(lb->listener, (struct sockaddr *)&lb->tcp_to, &len) ||
	    bind(lb->udp_sink, (struct sockaddr *)&any, sizeof(any)))
		return -errno;
	len = sizeof(lb->udp_to);
	return getsockname(lb->udp_sink, (struct sockaddr *)&lb->udp_to, &len) ? -errno : 0;
}

/* ns per connect: only connect(2) is timed; accept and close come after. */
static double time_connect(const struct loopback *lb, int n)
{
	uint64_t total = 0;
	int batch = 256;

	for (int done = 0; done < n; done += batch) {
		int fds[256], k = n - done < batch ? n - done : batch;

		for (int i = 0; i < k; i++) {
			uint64_t t0;

			fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
			t0 = now_ns();
			if (connect(fds[i], (const struct sockaddr *)&lb->tcp_to, sizeof(lb->tcp_to)))
				return -1;
			total += now_ns() - t0;
		}
		for (int i = 0; i < k; i++) {
			int a = accept(lb->listener, NULL, NULL);

			if (a >= 0)
				close(a);
			close(fds[i]);
		}
	}
	return (double)total / n;
}

static double time_sendto(const struct loopback *lb, int n)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	char buf[64];
	uint64_t t0, total = 0;

	for (int i = 0; i < n; i++) {
		t0 = now_ns();
		if (sendto(fd, "x", 1, 0, (const struct sockaddr *)&lb->udp_to, sizeof(lb->udp_to)) != 1)
			return -1;
		total += now_ns() - t0;
		while (recv(lb->udp_sink, buf, sizeof(buf), 0) > 0)
			;
	}
	close(fd);
	return (double)total / n;
}

static double time_getppid(int n)
{
	uint64_t t0 = now_ns();

	for (int i = 0; i < n; i++)
		getppid();
	return (double)(now_ns() - t0) / n;
}

static double median(double (*fn)(const struct loopback *, int), const struct loopback *lb, int n)
{
	uint64_t v[ROUNDS];

	for (int r = 0; r < ROUNDS; r++)
		v[r] = (uint64_t)(fn(lb, n) * 1000);
	qsort(v, ROUNDS, sizeof(v[0]), cmp_u64);
	return v[ROUNDS / 2] / 1000.0;
}

static double getppid_of(const struct loopback *lb, int n)
{
	(void)lb;
	return time_getppid(n * 10);
}

static void row(const char *setup, const struct loopback *lb, int n)
{
	printf("%-12s %10.0f %10.0f %10.1f\n", setup, median(time_connect, lb, n),
	       median(time_sendto, lb, n), median(getppid_of, lb, n));
	fflush(stdout);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 20000;
	struct mm_bench_sys_enter_filter *sys_enter;
	struct mm_test_cgroup cg = {0};
	struct mm_xlate *xlate;
	struct mm_probe *probe;
	struct mm_config cfg;
	struct loopback lb;
	char root[256];
	int rc = 1;

	if (n <= 0) {
		fprintf(stderr, "usage: meshmon-sock-xlate-bench [N]\n");
		return 2;
	}
	if (mm_test_private_netns() || mm_cgroup2_root(root, sizeof(root)) ||
	    mm_test_cgroup_create(&cg, root, "xlate-bench") || mm_test_cgroup_enter(&cg, getpid()) ||
	    loopback_open(&lb)) {
		fprintf(stderr, "meshmon-sock-xlate-bench: setup (netns, cgroup, loopback): %s\n",
			strerror(errno));
		mm_test_cgroup_destroy(&cg);
		return 1;
	}
	mm_bench_print_machine();
	printf("ns per operation, median of %d rounds of %d (getppid: %d)\n", ROUNDS, n, n * 10);
	printf("%-12s %10s %10s %10s\n", "setup", "connect", "sendto", "getppid");
	row("none", &lb, n);

	probe = mm_probe__open(NULL, cg.path);
	if (!probe) {
		fprintf(stderr, "meshmon-sock-xlate-bench: tcp_probe: %s\n", strerror(errno));
		goto out;
	}
	row("tcp_probe", &lb, n);
	mm_config__defaults(&cfg);
	cfg.event_mask |= MM_EVENT_BIT(MM_EVENT_TRACE_SOCK);
	xlate = mm_xlate__open(NULL, cg.path);
	if (mm_probe__set_config(probe, &cfg) || !xlate) {
		fprintf(stderr, "meshmon-sock-xlate-bench: trace-sock: %s\n", strerror(errno));
		mm_probe__free(probe);
		goto out;
	}
	row("trace-sock", &lb, n);
	mm_xlate__free(xlate);
	mm_probe__free(probe);

	sys_enter = mm_bench_sys_enter_filter__open_and_load();
	if (!sys_enter || mm_bench_sys_enter_filter__attach(sys_enter)) {
		fprintf(stderr, "meshmon-sock-xlate-bench: tp_btf/sys_enter: %s\n", strerror(errno));
		mm_bench_sys_enter_filter__destroy(sys_enter);
		goto out;
	}
	row("sys_enter", &lb, n);
	mm_bench_sys_enter_filter__destroy(sys_enter);
	rc = 0;
out:
	close(lb.listener);
	close(lb.udp_sink);
	mm_test_cgroup_destroy(&cg);
	return rc;
}
