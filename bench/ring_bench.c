// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-ring-bench: the cost of reading meshmon's per-CPU perf rings.
 *
 * One process, in a private network namespace. A producer thread pinned to
 * CPU 0 runs the tc ingress program with BPF_PROG_TEST_RUN in batches
 * (`repeat`); every run emits one trace record (aggregation none) into CPU 0's
 * ring of mm_events. The reader runs on CPU 1, one reader after the other over
 * the same map:
 *
 *   libbpf/poll      perf_buffer__new (a wakeup per record) + perf_buffer__poll:
 *                    the baseline, what a wake-on-every-event agent does;
 *   meshmon/wN       agent/rings.c in a libevent loop, wakeup_events N, drain 10 ms.
 *
 * It prints figures, never pass/fail. Only ratios within one run mean much.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <event2/event.h>

#include "bench_machine.h"
#include "datapath.h"
#include "harness.h"
#include "rings.h"
#include "textparse.h"

#define PRODUCER_CPU 0
#define READER_CPU 1
#define RING_PAGES 64u    /* per CPU, the agent's default */
#define BATCH 1024u       /* test runs per BPF_PROG_TEST_RUN call */
#define DRAIN_MS 10u
#define STOP_CHECK_MS 20  /* how often the reader looks whether the producer is done */
#define SETTLE_NS (2ull * 1000 * 1000 * 1000) /* give up waiting for stragglers */

struct reader_spec {
	const char *name;
	int meshmon;                /* 0: bare libbpf reader */
	unsigned int wakeup_events; /* meshmon only */
};

static const struct reader_spec readers[] = {
	{"libbpf/poll w1", 0, 1},
	{"meshmon w64", 1, 64},
	{"meshmon w1", 1, 1},
	{"meshmon w16", 1, 16},
	{"meshmon w256", 1, 256},
};
#define N_READERS (sizeof(readers) / sizeof(readers[0]))

struct result {
	uint64_t produced, received, ring_lost, output_failed;
	uint64_t bytes;
	double wall_s, prod_s, reader_cpu_s;
	long wakeups; /* reader's voluntary context switches */
};

/* Shared between the producer and the reader of one run. */
struct run {
	int prog_fd;
	const uint8_t *frame;
	size_t frame_len;
	uint64_t want;
	pthread_barrier_t start;
	_Atomic int done;
	uint64_t produced;
	int err;
	double prod_s;
	/* reader side */
	struct mm_datapath *dp;
	uint64_t failed_base;
	uint64_t received, ring_lost, bytes;
	struct event_base *base;
	struct mm_rings *rings;
	uint64_t done_seen_ns;
};

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* Writes the datapath could not make: ring full, or any other output failure. */
static uint64_t output_failed(const struct mm_datapath *dp)
{
	__u64 stats[MM_STAT_MAX];

	if (mm_datapath__read_stats(dp, stats))
		return 0;
	return stats[MM_STAT_RING_FULL] + stats[MM_STAT_OUTPUT_FAILED];
}

static void *producer(void *arg)
{
	struct run *r = arg;
	struct __sk_buff skb;
	uint64_t t0;

	if (pin(PRODUCER_CPU))
		r->err = -EINVAL;
	pthread_barrier_wait(&r->start);
	t0 = now_ns(CLOCK_MONOTONIC);
	while (!r->err && r->produced < r->want) {
		uint64_t left = r->want - r->produced;
		LIBBPF_OPTS(bpf_test_run_opts, opts);

		memset(&skb, 0, sizeof(skb));
		opts.data_in = r->frame;
		opts.data_size_in = (__u32)r->frame_len;
		opts.ctx_in = &skb;
		opts.ctx_size_in = sizeof(skb);
		opts.repeat = left < BATCH ? (__u32)left : BATCH;
		if (bpf_prog_test_run_opts(r->prog_fd, &opts) < 0) {
			r->err = -errno;
			break;
		}
		r->produced += opts.repeat;
	}
	r->prod_s = (double)(now_ns(CLOCK_MONOTONIC) - t0) / 1e9;
	atomic_store(&r->done, 1);
	return NULL;
}

/* The same per-record work for every reader: count it, and its bytes. */
static void count_sample(struct run *r, const void *data, __u32 size)
{
	(void)data;
	r->received++;
	r->bytes += size;
}

static void libbpf_sample(void *ctx, int cpu, void *data, __u32 size)
{
	(void)cpu;
	count_sample(ctx, data, size);
}

static void libbpf_lost(void *ctx, int cpu, __u64 cnt)
{
	struct run *r = ctx;

	(void)cpu;
	r->ring_lost += cnt;
}

static void rings_sample(void *ctx, int cpu, const void *data, __u32 size)
{
	(void)cpu;
	count_sample(ctx, data, size);
}

static void rings_lost(void *ctx, int cpu, __u64 count)
{
	libbpf_lost(ctx, cpu, count);
}

/*
 * After the producer finished: true once every produced record was either
 * received or counted as a failed output, or when stragglers took too long.
 */
static int run_finished(struct run *r)
{
	uint64_t failed, t;

	if (!atomic_load(&r->done))
		return 0;
	if (r->err)
		return 1;
	t = now_ns(CLOCK_MONOTONIC);
	if (!r->done_seen_ns)
		r->done_seen_ns = t;
	failed = output_failed(r->dp) - r->failed_base;
	return r->received + failed >= r->produced || t - r->done_seen_ns > SETTLE_NS;
}

static int read_libbpf(struct run *r, int events_fd)
{
	struct perf_buffer *pb;
	int err = 0;

	pb = perf_buffer__new(events_fd, RING_PAGES, libbpf_sample, libbpf_lost, r, NULL);
	if (!pb)
		return -errno;
	pthread_barrier_wait(&r->start);
	for (;;) {
		int n = perf_buffer__poll(pb, STOP_CHECK_MS);

		if (n < 0 && n != -EINTR) {
			err = n;
			break;
		}
		if (atomic_load(&r->done)) {
			perf_buffer__consume(pb);
			if (run_finished(r))
				break;
		}
	}
	perf_buffer__free(pb);
	return err;
}

static void on_stop_check(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;

	(void)fd;
	(void)what;
	if (!atomic_load(&r->done))
		return;
	mm_rings__drain(r->rings);
	if (run_finished(r))
		event_base_loopbreak(r->base);
}

static int read_meshmon(struct run *r, int events_fd, unsigned int wakeup_events)
{
	struct mm_rings_opts ro = {
		.events_fd = events_fd,
		.pages = RING_PAGES,
		.wakeup_events = wakeup_events,
		.drain_ms = DRAIN_MS,
		.on_sample = rings_sample,
		.on_lost = rings_lost,
		.ctx = r,
	};
	struct timeval tv = {0, STOP_CHECK_MS * 1000};
	struct event *stop = NULL;
	int err = 0;

	r->base = event_base_new();
	if (!r->base)
		return -ENOMEM;
	r->rings = mm_rings__new(r->base, &ro);
	if (!r->rings) {
		err = -errno;
		goto out;
	}
	stop = event_new(r->base, -1, EV_PERSIST, on_stop_check, r);
	if (!stop || event_add(stop, &tv)) {
		err = -ENOMEM;
		goto out;
	}
	pthread_barrier_wait(&r->start);
	if (event_base_dispatch(r->base) < 0)
		err = -EIO;
out:
	if (stop)
		event_free(stop);
	mm_rings__free(r->rings);
	r->rings = NULL;
	event_base_free(r->base);
	r->base = NULL;
	return err;
}

static int run_one(struct mm_datapath *dp, const uint8_t *frame, size_t len, uint64_t records,
		   const struct reader_spec *spec, struct result *res)
{
	struct run r;
	struct rusage ru0, ru1;
	uint64_t cpu0, wall0;
	pthread_t thr;
	int err, rerr;

	memset(&r, 0, sizeof(r));
	r.prog_fd = mm_datapath__tc_ingress_fd(dp);
	r.frame = frame;
	r.frame_len = len;
	r.want = records;
	r.dp = dp;
	r.failed_base = output_failed(dp);
	pthread_barrier_init(&r.start, NULL, 2);
	err = pthread_create(&thr, NULL, producer, &r);
	if (err) {
		pthread_barrier_destroy(&r.start);
		return -err;
	}
	/* The reader's clocks start just before it meets the producer at the barrier. */
	getrusage(RUSAGE_THREAD, &ru0);
	cpu0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
	wall0 = now_ns(CLOCK_MONOTONIC);
	if (spec->meshmon)
		rerr = read_meshmon(&r, mm_datapath__events_fd(dp), spec->wakeup_events);
	else
		rerr = read_libbpf(&r, mm_datapath__events_fd(dp));
	if (rerr && !atomic_load(&r.done)) {
		/* The reader failed before the barrier: let the producer go, and stop it. */
		r.want = 0;
		pthread_barrier_wait(&r.start);
	}
	res->wall_s = (double)(now_ns(CLOCK_MONOTONIC) - wall0) / 1e9;
	res->reader_cpu_s = (double)(now_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0) / 1e9;
	getrusage(RUSAGE_THREAD, &ru1);
	pthread_join(thr, NULL);
	pthread_barrier_destroy(&r.start);
	if (rerr)
		return rerr;
	if (r.err)
		return r.err;
	res->produced = r.produced;
	res->received = r.received;
	res->ring_lost = r.ring_lost;
	res->output_failed = output_failed(dp) - r.failed_base;
	res->bytes = r.bytes;
	res->prod_s = r.prod_s;
	res->wakeups = ru1.ru_nvcsw - ru0.ru_nvcsw;
	return 0;
}

static void print_header(void)
{
	printf("%-15s %9s %9s %8s %8s %5s %7s %10s %8s %8s %7s %7s\n", "reader", "produced",
	       "received", "lost", "ring", "gap", "wall", "prod", "reader", "reader", "x prod",
	       "x cpu");
	printf("%-15s %9s %9s %8s %8s %5s %7s %10s %8s %8s %7s %7s\n", "", "", "", "(failed)",
	       "lost", "", "s", "rec/s", "ns/rec", "wakeups", "rate", "/rec");
}

static void print_row(const char *name, const struct result *res, const struct result *base)
{
	double rate = res->prod_s > 0 ? (double)res->produced / res->prod_s : 0;
	double cpu = res->received ? res->reader_cpu_s * 1e9 / (double)res->received : 0;
	double brate = base->prod_s > 0 ? (double)base->produced / base->prod_s : 0;
	double bcpu = base->received ? base->reader_cpu_s * 1e9 / (double)base->received : 0;
	/* produced = received + failed outputs, exactly, once every record has been read. */
	int64_t gap = (int64_t)res->produced - (int64_t)res->received - (int64_t)res->output_failed;

	printf("%-15s %9" PRIu64 " %9" PRIu64 " %8" PRIu64 " %8" PRIu64 " %5" PRId64 " %7.2f %10.0f "
	       "%8.0f %8ld %7.2f %7.2f\n",
	       name, res->produced, res->received, res->output_failed, res->ring_lost, gap,
	       res->wall_s, rate, cpu, res->wakeups, brate > 0 ? rate / brate : 0,
	       bcpu > 0 ? cpu / bcpu : 0);
}

static void usage(FILE *out, const char *argv0)
{
	fprintf(out,
		"usage: %s [--records N] [--capture-len L]...\n"
		"  --records N      test runs (= records emitted) per reader (default 1000000)\n"
		"  --capture-len L  packet bytes appended to each record; repeatable\n"
		"                   (default: 0 and 128)\n"
		"Runs as root; needs CPUs %d and %d.\n",
		argv0, PRODUCER_CPU, READER_CPU);
}

struct bench_opts {
	unsigned long long records;
	unsigned int caps[8];
	size_t n_caps;
};

/* 0, or an exit code (usage printed or an error said). */
static int parse_args(struct bench_opts *o, int argc, char **argv, int *done)
{
	static const struct option longopts[] = {
		{"records", required_argument, NULL, 'n'},
		{"capture-len", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	uint64_t v;
	int opt;

	*done = 0;
	o->records = 1000000;
	o->n_caps = 0;
	while ((opt = getopt_long(argc, argv, "n:c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			if (mm_parse_u64(optarg, 1, UINT64_MAX, &v)) {
				fprintf(stderr, "--records: bad number %s\n", optarg);
				return 2;
			}
			o->records = v;
			break;
		case 'c':
			if (mm_parse_u64(optarg, 0, MM_CAPTURE_MAX, &v) || o->n_caps == 8) {
				fprintf(stderr, "--capture-len: bad value %s (0..%d, at most 8)\n",
					optarg, MM_CAPTURE_MAX);
				return 2;
			}
			o->caps[o->n_caps++] = (unsigned int)v;
			break;
		case 'h':
			usage(stdout, argv[0]);
			*done = 1;
			return 0;
		default:
			usage(stderr, argv[0]);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr, argv[0]);
		return 2;
	}
	if (!o->n_caps) { /* default: without and with packet bytes */
		o->caps[0] = 0;
		o->caps[1] = 128;
		o->n_caps = 2;
	}
	return 0;
}

/* A private netns, the reader pinned, the frame built: 0 or 1 (said why). */
static int setup(uint8_t *frame, size_t cap, size_t *len)
{
	struct mm_test_pkt_spec spec = {
		.family = 4, .proto = IPPROTO_UDP, .sport = 40000, .dport = 9000,
		.payload_len = 200,
	};
	int err;

	if (sysconf(_SC_NPROCESSORS_ONLN) <= READER_CPU) {
		fprintf(stderr, "need at least %d CPUs\n", READER_CPU + 1);
		return 1;
	}
	err = mm_test_private_netns();
	if (err) {
		fprintf(stderr, "private network namespace: %s (run as root)\n", strerror(-err));
		return 1;
	}
	if (pin(READER_CPU)) {
		fprintf(stderr, "cannot pin the reader to CPU %d\n", READER_CPU);
		return 1;
	}
	*len = mm_test_pkt_build(frame, cap, &spec);
	if (!*len) {
		fprintf(stderr, "cannot build the test frame\n");
		return 1;
	}
	return 0;
}

/* Every reader, one after the other, on one datapath with capture length cap_len. */
static int run_capture_len(unsigned int cap_len, const uint8_t *frame, size_t len,
			   unsigned long long records)
{
	struct result res[N_READERS];
	struct mm_datapath *dp;
	struct mm_config cfg;
	int err;

	mm_config__defaults(&cfg);
	cfg.aggregation = MM_AGG_NONE;
	cfg.event_mask = MM_EVENT_BIT(MM_EVENT_TRACE);
	cfg.capture_len = cap_len;
	cfg.rate_per_cpu = 0;
	dp = mm_datapath__open(&cfg);
	if (!dp) {
		fprintf(stderr, "mm_datapath__open: %s\n", strerror(errno));
		return 1;
	}
	printf("\ncapture_len %u (record %u bytes + perf headers)\n", cap_len,
	       (unsigned int)(sizeof(struct mm_trace_record) + (cap_len < len ? cap_len : len)));
	print_header();
	for (size_t i = 0; i < N_READERS; i++) {
		memset(&res[i], 0, sizeof(res[i]));
		err = run_one(dp, frame, len, records, &readers[i], &res[i]);
		if (err) {
			fprintf(stderr, "%s: %s\n", readers[i].name, strerror(-err));
			mm_datapath__free(dp);
			return 1;
		}
		print_row(readers[i].name, &res[i], &res[0]);
		fflush(stdout);
	}
	mm_datapath__free(dp);
	return 0;
}

int main(int argc, char **argv)
{
	struct bench_opts o;
	uint8_t frame[512];
	size_t len;
	int rc, done;

	rc = parse_args(&o, argc, argv, &done);
	if (rc || done)
		return rc;
	rc = setup(frame, sizeof(frame), &len);
	if (rc)
		return rc;
	mm_bench_print_machine();
	printf("records per reader: %llu, frame %zu bytes (IPv4/UDP), ring %u pages per CPU, "
	       "BPF_PROG_TEST_RUN repeat %u, drain %u ms\n",
	       o.records, len, RING_PAGES, BATCH, DRAIN_MS);
	printf("producer: CPU %d, reader: CPU %d. Ratios (x) are to the libbpf/poll row of the same "
	       "capture length.\n",
	       PRODUCER_CPU, READER_CPU);
	for (size_t c = 0; c < o.n_caps; c++) {
		rc = run_capture_len(o.caps[c], frame, len, o.records);
		if (rc)
			return rc;
	}
	printf("\nlost (failed) = MM_STAT_RING_FULL + OUTPUT_FAILED delta (writes refused); ring lost =\n"
	       "PERF_RECORD_LOST counts, which the kernel raises for the same refused writes (do not\n"
	       "add the two); gap = produced - received - failed; prod rec/s = producer throughput;\n"
	       "reader ns/rec = reader thread CPU time / records received; wakeups = the reader's\n"
	       "voluntary context switches; x = ratio to the libbpf/poll row above it.\n");
	return 0;
}
