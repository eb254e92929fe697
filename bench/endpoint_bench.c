// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-endpoint-bench: what the endpoint programs (datapath/endpoint.bpf.h,
 * meshmon-agent --endpoint-traces on) cost per packet.
 *
 * One process in a private network namespace and a private cgroup, pinned to
 * one CPU, with a datapath (its shared maps) and a tcp_probe object on the
 * cgroup.
 *
 * Part 1, BPF_PROG_TEST_RUN: mm_endpoint_ingress (to-endpoint) and
 * mm_endpoint_egress (from-endpoint) on a canned IPv4 TCP ACK and a UDP
 * datagram (200 payload bytes each), `repeat` runs per call, the kernel's own
 * mean duration per run, the median of `reps` calls; against an empty
 * cgroup_skb program (bench/bpf/empty_skb.bpf.c) measured in the same
 * interleaved loop. Three configurations:
 *   traces on      the defaults (trace type on, aggregation none): a record per
 *                  packet, 128 captured bytes;
 *   trace off      --events without trace: the programs run, count the point
 *                  and emit nothing;
 *   agg medium     --aggregation medium: the same flow over and over, so after
 *                  its first packet every packet is looked up and folded.
 * The ring (a large one, no wakeups) is drained after each call, so writes do
 * not fail for want of room; refused writes are shown as `lost`.
 *
 * Part 2, real loopback traffic: a UDP socket of this process sends
 * datagrams to itself on 127.0.0.1 and reads each back, for --flood-ms, first
 * with the endpoint programs not attached (tcp_probe's other programs are),
 * then attached, --rounds times; datagrams per second (median of the rounds),
 * the ring drained between bursts outside the timed part.
 *
 * It prints figures, never pass/fail. Only figures of one run compare.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench_machine.h"
#include "datapath.h"
#include "empty_skb.skel.h"
#include "harness.h"
#include "tcp_probe.h"
#include "textparse.h"

#define RUN_CPU	    0
#define RING_PAGES  2048u /* 8 MiB: one call's records fit */
#define MAX_REPS    64
#define FLOOD_BURST 512u
#define PAYLOAD	    200u

struct ring {
	struct perf_buffer *pb;
	unsigned long long samples, lost;
};

static enum bpf_perf_event_ret on_event(void *ctx, int cpu, struct perf_event_header *ev)
{
	struct ring *r = ctx;

	(void)cpu;
	if (ev->type == PERF_RECORD_SAMPLE)
		r->samples++;
	else if (ev->type == PERF_RECORD_LOST)
		r->lost += ((const struct {
				   struct perf_event_header h;
				   __u64 id, lost;
			   } *)ev)->lost;
	return LIBBPF_PERF_EVENT_CONT;
}

/* No wakeups (never reached): the producer pays for the write alone. */
static int ring_open(struct ring *r, int events_fd)
{
	struct perf_event_attr attr = {
	    .type = PERF_TYPE_SOFTWARE,
	    .config = PERF_COUNT_SW_BPF_OUTPUT,
	    .sample_type = PERF_SAMPLE_RAW,
	    .sample_period = 1,
	    .wakeup_events = 1u << 30,
	};

	memset(r, 0, sizeof(*r));
	r->pb = perf_buffer__new_raw(events_fd, RING_PAGES, &attr, on_event, r, NULL);
	return r->pb ? 0 : -errno;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The kernel's mean ns per run of one call of repeat runs, or -1. */
static double test_run(int fd, const void *frame, size_t len, unsigned int repeat)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (__u32)len,
		    .repeat = repeat);

	if (bpf_prog_test_run_opts(fd, &o) < 0)
		return -1;
	return o.duration;
}

struct bench {
	struct mm_datapath *dp;
	struct mm_probe *probe;
	struct mm_bench_empty_skb *empty;
	struct ring ring;
	unsigned int repeat, reps, flood_ms, rounds;
};

enum { PKT_TCP, PKT_UDP, N_PKT };
static const char *const pkt_name[N_PKT] = {"TCP ACK", "UDP"};

struct frame {
	uint8_t bytes[512];
	size_t len;
};

static void config_edit(struct bench *b, int trace_on, unsigned int aggregation)
{
	struct mm_config cfg;

	mm_datapath__get_config(b->dp, &cfg);
	if (trace_on)
		cfg.event_mask |= MM_EVENT_BIT(MM_EVENT_TRACE);
	else
		cfg.event_mask &= ~MM_EVENT_BIT(MM_EVENT_TRACE);
	cfg.aggregation = (__u8)aggregation;
	mm_datapath__set_config(b->dp, &cfg);
}

/* One configuration: a row per packet and direction. */
static void run_config(struct bench *b, const char *name, const struct frame *f)
{
	int fds[3] = {bpf_program__fd(b->empty->progs.mm_bench_empty_skb),
		      mm_probe__endpoint_ingress_fd(b->probe), mm_probe__endpoint_egress_fd(b->probe)};

	for (int p = 0; p < N_PKT; p++) {
		double ns[3][MAX_REPS];
		unsigned long long rec0 = b->ring.samples, lost0 = b->ring.lost;

		for (unsigned int r = 0; r < b->reps; r++)
			for (int k = 0; k < 3; k++) {
				ns[k][r] = test_run(fds[k], f[p].bytes, f[p].len, b->repeat);
				perf_buffer__consume(b->ring.pb);
			}
		double empty = median(ns[0], b->reps), in = median(ns[1], b->reps),
		       eg = median(ns[2], b->reps);
		printf("  %-11s %-8s %8.1f %12.1f %6.2fx %12.1f %6.2fx %10.2f %6llu\n", name,
		       pkt_name[p], empty, in, in / empty, eg, eg / empty,
		       (double)(b->ring.samples - rec0) / (2.0 * b->reps * b->repeat),
		       b->ring.lost - lost0);
	}
}

static void part_test_run(struct bench *b)
{
	static const struct mm_test_pkt_spec spec[N_PKT] = {
	    {.family = 4, .proto = IPPROTO_TCP, .sport = 40000, .dport = 8080,
	     .tcp_flags = MM_TCP_ACK, .payload_len = PAYLOAD},
	    {.family = 4, .proto = IPPROTO_UDP, .sport = 40000, .dport = 5353,
	     .payload_len = PAYLOAD},
	};
	struct frame f[N_PKT];

	for (int p = 0; p < N_PKT; p++)
		f[p].len = mm_test_pkt_build(f[p].bytes, sizeof(f[p].bytes), &spec[p]);
	printf("\nBPF_PROG_TEST_RUN, ns/packet (median of %u calls of %u runs; %u payload "
	       "bytes):\n",
	       b->reps, b->repeat, PAYLOAD);
	printf("  %-11s %-8s %8s %12s %7s %12s %7s %10s %6s\n", "config", "packet", "empty",
	       "to-endpoint", "ratio", "from-endp.", "ratio", "rec/pkt", "lost");
	config_edit(b, 1, MM_AGG_NONE);
	run_config(b, "traces on", f);
	config_edit(b, 0, MM_AGG_NONE);
	run_config(b, "trace off", f);
	config_edit(b, 1, MM_AGG_MEDIUM);
	run_config(b, "agg medium", f);
	config_edit(b, 1, MM_AGG_NONE);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Datagrams per second to itself on loopback for flood_ms (*sent of them, *records
 * read from the ring meanwhile); -1 on a socket error. */
static double flood(struct bench *b, unsigned long long *sent, unsigned long long *records)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	char buf[PAYLOAD] = {0};
	unsigned long long n = 0, rec0 = b->ring.samples;
	double timed = 0;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (timed * 1000 < b->flood_ms) {
		double t0 = now_s();

		for (unsigned int i = 0; i < FLOOD_BURST; i++) {
			if (sendto(fd, buf, sizeof(buf), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
			    recv(fd, buf, sizeof(buf), 0) < 0) {
				close(fd);
				return -1;
			}
		}
		timed += now_s() - t0;
		n += FLOOD_BURST;
		perf_buffer__consume(b->ring.pb);
	}
	close(fd);
	*sent = n;
	*records = b->ring.samples - rec0;
	return (double)n / timed;
}

/*
 * Rounds of the flood, each with a fresh tcp_probe object: first without the
 * endpoint programs, then with them, so a change of the machine's load hits
 * both sides alike. The socket is made after the attach (sock_create gives it
 * its owner, as for a process started under the agent).
 */
static void part_flood(struct bench *b, const char *cgroup)
{
	double rate[2][MAX_REPS];
	unsigned long long sent[2] = {0}, records[2] = {0}, lost0 = b->ring.lost;
	static const char *const side[2] = {"endpoint programs not attached",
					    "attached (traces on, agg none)"};

	printf("\nLoopback UDP flood, %u payload bytes, send and read back (median of %u "
	       "rounds of %u ms each side):\n",
	       PAYLOAD, b->rounds, b->flood_ms);
	for (unsigned int r = 0; r < b->rounds; r++) {
		mm_probe__free(b->probe);
		b->probe = mm_probe__open(b->dp, cgroup);
		for (int k = 0; k < 2; k++) {
			unsigned long long n = 0, rec = 0;

			if (!b->probe || (k == 1 && mm_probe__attach_endpoints(b->probe))) {
				printf("  tcp_probe and its endpoint programs: %s\n", strerror(errno));
				return;
			}
			rate[k][r] = flood(b, &n, &rec);
			if (rate[k][r] < 0) {
				printf("  socket error: %s\n", strerror(errno));
				return;
			}
			sent[k] += n;
			records[k] += rec;
		}
	}
	double med[2] = {median(rate[0], b->rounds), median(rate[1], b->rounds)};
	for (int k = 0; k < 2; k++)
		printf("  %-34s %12.0f datagrams/s  %.2f records per datagram\n", side[k], med[k],
		       (double)records[k] / (double)sent[k]);
	printf("  attached / not attached: %.2f (lost %llu)\n", med[1] / med[0],
	       b->ring.lost - lost0);
}

static int parse_args(struct bench *b, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"repeat", required_argument, NULL, 'r'}, {"reps", required_argument, NULL, 'n'},
	    {"flood-ms", required_argument, NULL, 'f'}, {"rounds", required_argument, NULL, 'o'},
	    {"quick", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},	      {NULL, 0, NULL, 0},
	};
	uint64_t v;
	int c;

	b->repeat = 10000;
	b->reps = 15;
	b->flood_ms = 300;
	b->rounds = 5;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (mm_parse_u64(optarg, 1, 20000, &v))
				goto usage;
			b->repeat = (unsigned int)v;
			break;
		case 'n':
			if (mm_parse_u64(optarg, 1, MAX_REPS, &v))
				goto usage;
			b->reps = (unsigned int)v;
			break;
		case 'f':
			if (mm_parse_u64(optarg, 10, 60000, &v))
				goto usage;
			b->flood_ms = (unsigned int)v;
			break;
		case 'o':
			if (mm_parse_u64(optarg, 1, MAX_REPS, &v))
				goto usage;
			b->rounds = (unsigned int)v;
			break;
		case 'q':
			b->repeat = 2000;
			b->reps = 5;
			b->flood_ms = 100;
			b->rounds = 1;
			break;
		default:
			goto usage;
		}
	}
	return 0;
usage:
	fprintf(stderr, "usage: %s [--repeat N (1..20000)] [--reps N (1..%d)] [--flood-ms MS] "
			"[--rounds N] [--quick]\n",
		argv[0], MAX_REPS);
	return 2;
}

int main(int argc, char **argv)
{
	struct bench b = {0};
	struct mm_test_cgroup cg = {0};
	struct mm_config cfg;
	char root[256];
	cpu_set_t set;
	int err, rc = 1;

	if (parse_args(&b, argc, argv))
		return 2;
	mm_bench_print_machine();
	CPU_ZERO(&set);
	CPU_SET(RUN_CPU, &set);
	if (sched_setaffinity(0, sizeof(set), &set) || mm_test_private_netns()) {
		fprintf(stderr, "pin to CPU %d and a private netns: %s\n", RUN_CPU, strerror(errno));
		return 1;
	}
	err = mm_cgroup2_root(root, sizeof(root));
	if (!err)
		err = mm_test_cgroup_create(&cg, root, "ep-bench");
	if (!err)
		err = mm_test_cgroup_enter(&cg, getpid());
	if (err) {
		fprintf(stderr, "a private cgroup: %s\n", strerror(-err));
		goto out;
	}
	mm_config__defaults(&cfg);
	b.dp = mm_datapath__open(&cfg);
	b.probe = b.dp ? mm_probe__open(b.dp, cg.path) : NULL;
	b.empty = mm_bench_empty_skb__open_and_load();
	if (!b.probe || !b.empty || ring_open(&b.ring, mm_datapath__events_fd(b.dp))) {
		fprintf(stderr, "datapath, tcp_probe, empty program or ring: %s\n", strerror(errno));
		goto out;
	}
	printf("endpoint programs (cgroup_skb) per packet; cgroup %s, CPU %d\n", cg.path, RUN_CPU);
	part_test_run(&b);
	part_flood(&b, cg.path);
	rc = 0;
out:
	perf_buffer__free(b.ring.pb);
	mm_bench_empty_skb__destroy(b.empty);
	mm_probe__free(b.probe);
	mm_datapath__free(b.dp);
	mm_test_cgroup_destroy(&cg);
	return rc;
}
