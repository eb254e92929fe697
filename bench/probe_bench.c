// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-probe-bench: what tcp_probe's periodic passes and its closed-report
 * tracepoint cost (docs/tcp_probe.md, docs/benchmarks.md). In a private
 * network namespace and cgroup, with the probe attached and a ring reader of
 * its own on its events (large enough for every record of a pass, woken every
 * 64 records as the agent's is, read after each pass):
 * - N idle connections over lo (2N sockets with storage): the wall time of
 *   one pass of the storage iterator (mm_probe__run_known, the agent's
 *   periodic pass) and of one iter/tcp pass in the namespace (the search at
 *   start), each the median of R passes: with every connection due (a
 *   record each, interval 1 ns) and with none due (interval one hour: the
 *   walk and one storage lookup per socket);
 * - C connections opened and closed: the kernel's run-time statistics of
 *   tp_btf/inet_sock_set_state (BPF_STATS_RUN_TIME): invocations and ns per
 *   invocation. The tracepoint fires for every TCP state change of the host,
 *   so other work on the machine adds invocations.
 * Figures, never pass/fail.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>

#include <bpf/libbpf.h>
#include <linux/perf_event.h>

#include "bench_machine.h"
#include "datapath.h"
#include "harness.h"
#include "records.h"
#include "tcp_probe.h"

#define MAX_REPS   64
#define RING_PAGES 2048 /* per CPU: 8 MiB, room for 40,000 records of 168 bytes */

struct reader {
	struct perf_buffer *pb;
	size_t records;
};

static enum bpf_perf_event_ret on_event(void *ctx, int cpu, struct perf_event_header *hdr)
{
	(void)cpu;
	if (hdr->type == PERF_RECORD_SAMPLE)
		((struct reader *)ctx)->records++;
	return LIBBPF_PERF_EVENT_CONT;
}

static int reader_open(struct reader *r, int events_fd)
{
	struct perf_event_attr attr = {
	    .type = PERF_TYPE_SOFTWARE,
	    .config = PERF_COUNT_SW_BPF_OUTPUT,
	    .sample_type = PERF_SAMPLE_RAW,
	    .sample_period = 1,
	    .wakeup_events = 64,
	};

	r->records = 0;
	r->pb = perf_buffer__new_raw(events_fd, RING_PAGES, &attr, on_event, r, NULL);
	return r->pb ? 0 : -errno;
}

/* Every record of the pass that just ended: the ring holds them all. */
static size_t reader_drain(struct reader *r)
{
	size_t before = r->records;

	perf_buffer__consume(r->pb);
	return r->records - before;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One connection over lo: its two fds in fds[0..1]. */
static int connect_pair(int lfd, const struct sockaddr_in *sa, int fds[2])
{
	fds[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fds[0] < 0 || connect(fds[0], (const struct sockaddr *)sa, sizeof(*sa)))
		return -errno;
	fds[1] = accept(lfd, NULL, NULL);
	return fds[1] < 0 ? -errno : 0;
}

/* Median wall time of reps passes of pass(p), draining the ring after each. */
static double median_pass_us(int (*pass)(struct mm_probe *), struct mm_probe *p,
			     struct reader *ring, unsigned int reps, size_t *records)
{
	double us[MAX_REPS];

	for (unsigned int i = 0; i < reps; i++) {
		double t0;

		reader_drain(ring);
		t0 = now_us();
		if (pass(p))
			return -1;
		us[i] = now_us() - t0;
		*records = reader_drain(ring);
	}
	qsort(us, reps, sizeof(us[0]), cmp_double);
	return us[reps / 2];
}

/* The id of the one tracing link this process holds: the probe's tp_btf program. */
static int tracepoint_prog_fd(void)
{
	struct mm_test_link links[32];
	int n = mm_test_proc_links(getpid(), links, 32);

	for (int i = 0; i < n; i++)
		if (!strcmp(links[i].type, "tracing") || !strcmp(links[i].type, "raw_tracepoint"))
			return bpf_prog_get_fd_by_id(links[i].prog_id);
	return -ENOENT;
}

static int prog_stats(int fd, __u64 *cnt, __u64 *ns)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*cnt = info.run_cnt;
	*ns = info.run_time_ns;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int n_conns = 1000, closes = 2000, reps = 15;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sa_len = sizeof(sa);
	struct mm_test_cgroup cg = {};
	struct reader ring = {};
	struct mm_probe *p;
	struct mm_config cfg;
	char root[256];
	int lfd, *fds, stats_fd, prog_fd, err;
	size_t records = 0;
	double us;
	__u64 cnt0, ns0, cnt1, ns1;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--connections"))
			n_conns = (unsigned int)atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--closes"))
			closes = (unsigned int)atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--reps"))
			reps = (unsigned int)atoi(argv[i + 1]);
	}
	if (!n_conns || n_conns > 20000 || !reps || reps > MAX_REPS) {
		fprintf(stderr, "usage: %s [--connections 1..20000] [--closes N] [--reps 1..%d]\n",
			argv[0], MAX_REPS);
		return 2;
	}
	mm_bench_print_machine();
	if (mm_test_private_netns() || mm_cgroup2_root(root, sizeof(root)) ||
	    mm_test_cgroup_create(&cg, root, "probe-bench") || mm_test_cgroup_enter(&cg, getpid())) {
		fprintf(stderr, "private netns and cgroup: %s\n", strerror(errno));
		mm_test_cgroup_destroy(&cg);
		return 1;
	}
	p = mm_probe__open(NULL, cg.path);
	if (!p) {
		fprintf(stderr, "mm_probe__open: %s\n", strerror(errno));
		mm_test_cgroup_destroy(&cg);
		return 1;
	}
	mm_config__defaults(&cfg);
	cfg.rate_per_cpu = 0; /* no token bucket: every record is emitted */
	fds = calloc(2 * (size_t)n_conns, sizeof(*fds));
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	err = reader_open(&ring, mm_probe__events_fd(p)) || !fds || lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	      listen(lfd, 4096) || getsockname(lfd, (struct sockaddr *)&sa, &sa_len);
	for (unsigned int i = 0; !err && i < n_conns; i++)
		err = connect_pair(lfd, &sa, &fds[2 * i]);
	if (err) {
		fprintf(stderr, "setting up %u connections failed: %s\n", n_conns, strerror(errno));
		goto out;
	}

	printf("periodic passes over %u idle connections (%u sockets), median of %u passes:\n",
	       n_conns, 2 * n_conns, reps);
	for (int due = 1; due >= 0; due--) {
		/* 1 ns: every socket is due each pass; one hour: none is */
		cfg.probe_interval_ns = due ? 1 : 3600ull * 1000 * 1000 * 1000;
		mm_probe__set_config(p, &cfg);
		for (int known = 1; known >= 0; known--) {
			us = median_pass_us(known ? mm_probe__run_known : mm_probe__run_iter, p,
					    &ring, reps, &records);
			printf("  %-34s %-9s %10.1f us/pass %8.1f ns/socket  records %zu\n",
			       known ? "iter/bpf_sk_storage_map (known)" : "iter/tcp (one namespace)",
			       due ? "all due" : "none due", us, us * 1e3 / (2 * n_conns),
			       records);
		}
	}

	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	prog_fd = tracepoint_prog_fd();
	if (stats_fd < 0 || prog_fd < 0 || prog_stats(prog_fd, &cnt0, &ns0)) {
		fprintf(stderr, "run-time statistics: %s\n", strerror(errno));
		err = 1;
		goto out;
	}
	for (unsigned int i = 0; i < closes; i++) {
		int two[2];

		if (connect_pair(lfd, &sa, two))
			break;
		close(two[0]);
		close(two[1]);
		if (i % 256 == 255)
			reader_drain(&ring);
	}
	prog_stats(prog_fd, &cnt1, &ns1);
	printf("tp_btf/inet_sock_set_state over %u connections opened and closed in the cgroup:\n",
	       closes);
	printf("  invocations %llu (%.1f per connection), %.1f ns per invocation\n",
	       (unsigned long long)(cnt1 - cnt0), (double)(cnt1 - cnt0) / closes,
	       cnt1 > cnt0 ? (double)(ns1 - ns0) / (double)(cnt1 - cnt0) : 0.0);
	close(prog_fd);
	close(stats_fd);
out:
	for (unsigned int i = 0; fds && i < 2 * n_conns; i++)
		if (fds[i] > 0)
			close(fds[i]);
	free(fds);
	if (lfd >= 0)
		close(lfd);
	perf_buffer__free(ring.pb);
	mm_probe__free(p);
	mm_test_cgroup_destroy(&cg);
	return err ? 1 : 0;
}
