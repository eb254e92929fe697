// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-datapath-bench: what meshmon's tc programs cost per packet.
 *
 * One process, in a private network namespace, its test runs pinned to one
 * CPU. Every program runs under BPF_PROG_TEST_RUN on the same canned frame
 * (IPv4 TCP ACK, 254 bytes) and the kernel's own duration per run is taken
 * (the time around the program alone: no syscall, no skb set-up), the median
 * of several repetitions. Each cell of the matrix
 *
 *   aggregation none/low/medium/maximum x capture length 0/128
 *   x deny rules absent/present (four that do not match the packet)
 *   x established flow / new flow per packet
 *
 * and, after it, the cost of capture on demand (established, aggregation
 * none, capture 128, no deny rule): no capture rule, one rule the packet does
 * not match, one it matches (snap length 1500: the whole frame, one capture
 * record more per packet). Capture rules are this build's only.
 *
 * measures, interleaved repetition by repetition:
 *   empty       a tc program that returns TC_ACT_UNSPEC (bench/bpf/empty_tc.bpf.c);
 *   bare emit   a Cilium-shaped emit of one trace-sized record with the same
 *               capture length (bench/bpf/bare_emit.bpf.c);
 *   mm_tc_ingress, mm_tc_egress of this build, and of every --also object.
 *
 * Established: one call with `repeat` runs of the same packet, its flow
 * created before. New: `new_flows` calls of one run each, the source port
 * different every time, the flow table emptied before each repetition (every
 * program, the empty one too, is measured that way in those cells).
 *
 * Every record is read: a reader thread on another CPU drains the ring of the
 * test CPU while the runs go on, without wakeups (wakeup_events never
 * reached; --wakeup-events sets one), so the producer pays for the write and
 * nothing else. Refused writes are counted and shown (`lost`).
 *
 * It prints figures, never pass/fail. Only figures of one run compare.
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
#include <linux/perf_event.h>
#include <linux/pkt_cls.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench_machine.h"
#include "bare_emit.skel.h"
#include "datapath.h"
#include "datapath_bench.h"
#include "empty_tc.skel.h"
#include "harness.h"
#include "textparse.h"

#define RUN_CPU	   0
#define READER_CPU 1
/*
 * The test CPU's ring holds every record of one call (repeat runs, 232 bytes
 * each at most with perf's headers) when it can: the bare emit writes faster
 * than any reader reads. At most 64 MiB; past that the reader must keep up.
 */
#define RING_MIN_PAGES	   256u
#define RING_MAX_PAGES	   16384u
#define RING_BYTES_PER_RUN 232u
#define MAX_REPS	   64
#define MAX_OBJS	   4
#define SPORT_BASE	   1024u
#define MAX_NEW_FLOWS	   (65536u - SPORT_BASE) /* distinct source ports; below mm_flows' size */

/* --- measurement -------------------------------------------------------- */

int bench_test_run(int prog_fd, const void *data, size_t data_len, void *ctx, size_t ctx_len,
		   uint32_t repeat, uint32_t *ns, uint32_t *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);

	opts.data_in = data;
	opts.data_size_in = (__u32)data_len;
	opts.ctx_in = ctx;
	opts.ctx_size_in = (__u32)ctx_len;
	opts.repeat = repeat;
	if (bpf_prog_test_run_opts(prog_fd, &opts) < 0)
		return -errno;
	*ns = opts.duration;
	*retval = opts.retval;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double bench_median(double *v, size_t n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* --- the ring reader -------------------------------------------------------- */

/*
 * Drains the test CPU's ring in a loop (with a short sleep when it was empty).
 * ring_sync() returns once a pass that started after the call found nothing:
 * every record of the runs made before is counted by then.
 */
struct reader {
	struct perf_buffer *pb;
	pthread_t thread;
	_Atomic int stop;
	_Atomic uint64_t samples, lost;
	_Atomic uint64_t sync_req, sync_ack;
	int cpu;
};

static enum bpf_perf_event_ret on_event(void *ctx, int cpu, struct perf_event_header *ev)
{
	struct reader *rd = ctx;

	(void)cpu;
	if (ev->type == PERF_RECORD_SAMPLE) {
		atomic_fetch_add_explicit(&rd->samples, 1, memory_order_relaxed);
	} else if (ev->type == PERF_RECORD_LOST) {
		const struct {
			struct perf_event_header h;
			__u64 id, lost;
		} *l = (const void *)ev;

		atomic_fetch_add_explicit(&rd->lost, l->lost, memory_order_relaxed);
	}
	return LIBBPF_PERF_EVENT_CONT;
}

static int pin_self(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	const struct timespec nap = {0, 50 * 1000};

	pin_self(rd->cpu);
	while (!atomic_load(&rd->stop)) {
		uint64_t req = atomic_load(&rd->sync_req);
		uint64_t before = atomic_load(&rd->samples) + atomic_load(&rd->lost);

		perf_buffer__consume(rd->pb);
		if (atomic_load(&rd->samples) + atomic_load(&rd->lost) == before) {
			atomic_store(&rd->sync_ack, req);
			nanosleep(&nap, NULL);
		}
	}
	return NULL;
}

/* Pages for one call of `repeat` runs: a power of two (perf's rule), clamped. */
static size_t ring_pages(uint32_t repeat)
{
	uint64_t want = (uint64_t)repeat * RING_BYTES_PER_RUN / 4096 + 1;
	size_t pages = RING_MIN_PAGES;

	while (pages < want && pages < RING_MAX_PAGES)
		pages *= 2;
	return pages;
}

/*
 * wakeup_events 0: never reached (the reader polls, the producer never pays
 * for a wakeup); else the producer raises a wakeup every that many records,
 * as the agent's rings do (docs/benchmarks.md: it costs the producer).
 */
static int reader_start(struct reader *rd, int events_fd, int run_cpu, int reader_cpu, size_t pages,
			uint32_t wakeup_events)
{
	struct perf_event_attr attr = {
	    .type = PERF_TYPE_SOFTWARE,
	    .config = PERF_COUNT_SW_BPF_OUTPUT,
	    .sample_type = PERF_SAMPLE_RAW,
	    .sample_period = 1,
	    .wakeup_events = wakeup_events ? wakeup_events : 1u << 30,
	};
	int cpus[1] = {run_cpu};
	LIBBPF_OPTS(perf_buffer_raw_opts, opts, .cpu_cnt = 1, .cpus = cpus, .map_keys = cpus);
	int err;

	memset(rd, 0, sizeof(*rd));
	rd->cpu = reader_cpu;
	rd->pb = perf_buffer__new_raw(events_fd, pages, &attr, on_event, rd, &opts);
	if (!rd->pb)
		return -errno;
	err = pthread_create(&rd->thread, NULL, reader_main, rd);
	if (err) {
		perf_buffer__free(rd->pb);
		return -err;
	}
	return 0;
}

static void ring_sync(struct reader *rd)
{
	uint64_t req = atomic_fetch_add(&rd->sync_req, 1) + 1;
	const struct timespec nap = {0, 20 * 1000};

	while (atomic_load(&rd->sync_ack) < req)
		nanosleep(&nap, NULL);
}

static void reader_stop(struct reader *rd)
{
	atomic_store(&rd->stop, 1);
	pthread_join(rd->thread, NULL);
	perf_buffer__free(rd->pb);
}

/* --- the tc objects under test --------------------------------------------- */

/*
 * A tc_monitor object: this build's (loaded by mm_datapath__open) or one given
 * with --also (an older build, for before/after in one run), its maps found
 * by name among its programs' maps.
 */
struct tc_obj {
	char label[32];
	struct bpf_object *obj; /* --also objects only */
	int in_fd, eg_fd;
	int config_fd, rules_fd, src_fd, dst_fd, flows_fd, stats_fd;
};

static int find_maps(struct tc_obj *o, int prog_fd)
{
	struct bpf_prog_info info;
	__u32 ids[64], len = sizeof(info);
	struct {
		const char *name;
		int *fd;
	} want[] = {
	    {"mm_config_map", &o->config_fd}, {"mm_deny_rules", &o->rules_fd},
	    {"mm_deny_src", &o->src_fd},      {"mm_deny_dst", &o->dst_fd},
	    {"mm_flows", &o->flows_fd},	      {"mm_stats", &o->stats_fd},
	};

	memset(&info, 0, sizeof(info));
	info.nr_map_ids = 64;
	info.map_ids = (__u64)(uintptr_t)ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	for (__u32 i = 0; i < info.nr_map_ids && i < 64; i++) {
		struct bpf_map_info mi;
		__u32 mlen = sizeof(mi);
		int fd = bpf_map_get_fd_by_id(ids[i]), used = 0;

		if (fd < 0)
			return -errno;
		memset(&mi, 0, sizeof(mi));
		if (bpf_obj_get_info_by_fd(fd, &mi, &mlen)) {
			close(fd);
			return -errno;
		}
		for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
			if (*want[k].fd < 0 && !strcmp(mi.name, want[k].name)) {
				*want[k].fd = fd;
				used = 1;
			}
		}
		if (!used)
			close(fd);
	}
	for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++)
		if (*want[k].fd < 0)
			return -ENOENT;
	return 0;
}

static void tc_obj_init(struct tc_obj *o, const char *label)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->label, sizeof(o->label), "%s", label);
	o->config_fd = o->rules_fd = o->src_fd = o->dst_fd = o->flows_fd = o->stats_fd = -1;
}

static int tc_obj_from_datapath(struct tc_obj *o, const struct mm_datapath *dp)
{
	tc_obj_init(o, "this build");
	o->in_fd = mm_datapath__tc_ingress_fd(dp);
	o->eg_fd = mm_datapath__tc_egress_fd(dp);
	return find_maps(o, o->in_fd);
}

/* path[=label]: a tc_monitor.bpf.o, its events map pointed at ours. */
static int tc_obj_open(struct tc_obj *o, const char *spec, int events_fd)
{
	char path[512], label[32] = "also";
	const char *eq = strchr(spec, '=');
	struct bpf_program *in, *eg;
	struct bpf_map *ev;
	int err;

	snprintf(path, sizeof(path), "%.*s", eq ? (int)(eq - spec) : (int)strlen(spec), spec);
	if (eq)
		snprintf(label, sizeof(label), "%s", eq + 1);
	tc_obj_init(o, label);
	o->obj = bpf_object__open_file(path, NULL);
	if (!o->obj)
		return -errno;
	ev = bpf_object__find_map_by_name(o->obj, "mm_events");
	in = bpf_object__find_program_by_name(o->obj, "mm_tc_ingress");
	eg = bpf_object__find_program_by_name(o->obj, "mm_tc_egress");
	if (!ev || !in || !eg)
		return -ENOENT;
	err = bpf_map__reuse_fd(ev, events_fd);
	if (!err)
		err = bpf_object__load(o->obj);
	if (err)
		return err;
	o->in_fd = bpf_program__fd(in);
	o->eg_fd = bpf_program__fd(eg);
	return find_maps(o, o->in_fd);
}

/* Records the object meant to emit and could not (ring full or other failure). */
static uint64_t tc_obj_refused(const struct tc_obj *o)
{
	int n = libbpf_num_possible_cpus();
	__u32 keys[2] = {MM_STAT_RING_FULL, MM_STAT_OUTPUT_FAILED};
	uint64_t sum = 0, vals[1024];

	if (n <= 0 || n > 1024)
		return 0;
	for (int k = 0; k < 2; k++) {
		if (bpf_map_lookup_elem(o->stats_fd, &keys[k], vals))
			continue;
		for (int i = 0; i < n; i++)
			sum += vals[i];
	}
	return sum;
}

/*
 * Empty the flow table: the next packet of every flow is NEW again. The keys
 * are listed first and deleted after: restarting the walk from the first key
 * after each deletion costs a scan of the empty buckets every time.
 */
static int tc_obj_clear_flows(const struct tc_obj *o)
{
	struct mm_flow_key *keys, *prev = NULL;
	size_t n = 0, cap = 1024;
	int err = 0;

	keys = malloc(cap * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	while (!bpf_map_get_next_key(o->flows_fd, prev, &keys[n])) {
		prev = &keys[n++];
		if (n == cap) {
			struct mm_flow_key *more = realloc(keys, 2 * cap * sizeof(*keys));

			if (!more) {
				err = -ENOMEM;
				break;
			}
			keys = more;
			cap *= 2;
			prev = &keys[n - 1];
		}
	}
	for (size_t i = 0; i < n && !err; i++)
		if (bpf_map_delete_elem(o->flows_fd, &keys[i]) && errno != ENOENT)
			err = -errno;
	free(keys);
	return err;
}

/* --- the matrix ------------------------------------------------------------- */

static const char *const deny_texts[] = {
    /* At ::/0: candidates for every packet, refused by protocol or port. */
    "proto=udp,dport=53",
    "proto=tcp,dport=22",
    /* A source prefix the packet is not in. */
    "src=192.168.0.0/16,proto=tcp",
    /* The packet's destination, another port. */
    "dst=10.199.0.2/32,proto=tcp,dport=443,dir=egress",
};
#define N_DENY (sizeof(deny_texts) / sizeof(deny_texts[0]))

struct cell {
	int new_flows; /* 0: established */
	__u8 agg;      /* enum mm_aggregation_level */
	__u32 cap;
	int deny;
	int capture; /* enum capture_case */
};

/* The capture rule of a cell: this build's datapath only. */
enum capture_case { CAPTURE_NONE, CAPTURE_OTHER, CAPTURE_MATCH };
static const char *const capture_names[] = {"no rule", "no match", "match"};

/* One program's figures in one cell. */
struct figure {
	double ns;	/* median of the repetitions */
	double records; /* records per run, over every repetition */
	uint64_t lost;
};

enum { F_EMPTY, F_BARE, F_FIRST_TC }; /* then ingress, egress of each tc object */
#define MAX_FIGS (F_FIRST_TC + 2 * MAX_OBJS)

struct bench {
	uint32_t repeat;
	unsigned int reps;
	uint32_t new_flows;
	struct mm_datapath *dp;
	struct tc_obj objs[MAX_OBJS];
	size_t n_objs;
	struct mm_bench_empty_tc *empty;
	struct mm_bench_bare_emit *bare;
	struct reader rd;
	struct mm_test_pkt_spec spec;
	uint8_t frame[512];
	size_t frame_len;
};

struct target {
	int fd;
	const struct tc_obj *obj; /* NULL: a bench program (no flow table, no counters) */
};

/*
 * The capture rule of the cell in slot 0: TCP to 10.199.0.2 port 80 (the
 * bench's packet) or port 443 (not it). configure() has just written the
 * configuration with no capture slot set.
 */
static int configure_capture(struct bench *b, int which)
{
	struct mm_capture_rule r = {.id = 1, .snaplen = 1500, .proto = IPPROTO_TCP};

	if (which == CAPTURE_NONE)
		return mm_datapath__remove_capture(b->dp, 0, NULL);
	r.points = MM_POINT_BIT(MM_POINT_FROM_NETWORK) | MM_POINT_BIT(MM_POINT_TO_NETWORK);
	r.dst.family = MM_FAMILY_IPV4;
	r.dst.prefix = 32;
	r.dst.port = which == CAPTURE_MATCH ? 80 : 443;
	inet_pton(AF_INET, "10.199.0.2", r.dst.addr);
	return mm_datapath__install_capture(b->dp, 0, &r);
}

static int configure(struct bench *b, const struct cell *c)
{
	struct mm_deny_spec rules[N_DENY];
	struct mm_config cfg;
	__u32 zero = 0;
	char err[128];

	mm_config__defaults(&cfg);
	cfg.aggregation = c->agg;
	cfg.aggregate_drops = c->agg == MM_AGG_MAXIMUM;
	cfg.capture_len = c->cap;
	for (size_t i = 0; i < N_DENY; i++)
		if (mm_deny_spec__parse(deny_texts[i], (__u32)(i + 1), &rules[i], err, sizeof(err)))
			return -EINVAL;
	if (bpf_map_update_elem(bpf_map__fd(b->bare->maps.mm_bench_config), &zero, &cfg, BPF_ANY))
		return -errno;
	for (size_t i = 0; i < b->n_objs; i++) {
		const struct tc_obj *o = &b->objs[i];
		int e;

		if (bpf_map_update_elem(o->config_fd, &zero, &cfg, BPF_ANY))
			return -errno;
		e = mm_deny__write_maps(o->rules_fd, o->src_fd, o->dst_fd, rules,
					c->deny ? N_DENY : 0);
		if (!e)
			e = tc_obj_clear_flows(o);
		if (e)
			return e;
	}
	return configure_capture(b, c->capture);
}

/* The frame of the i-th new flow: the canned one with another source port. */
static void frame_with_sport(struct bench *b, uint32_t i)
{
	struct mm_test_pkt_spec s = b->spec;

	s.sport = (uint16_t)(SPORT_BASE + i);
	b->frame_len = mm_test_pkt_build(b->frame, sizeof(b->frame), &s);
}

/* One repetition of one program in one cell: mean ns per run, runs and records. */
static int measure(struct bench *b, const struct cell *c, const struct target *t, double *ns,
		   uint64_t *runs, uint64_t *records, uint64_t *lost)
{
	struct __sk_buff skb;
	uint64_t s0, l0, r0 = 0, sum = 0;
	uint32_t d = 0, ret;
	int err;

	memset(&skb, 0, sizeof(skb));
	if (c->new_flows && t->obj) {
		err = tc_obj_clear_flows(t->obj);
		if (err)
			return err;
	}
	ring_sync(&b->rd);
	s0 = atomic_load(&b->rd.samples);
	l0 = atomic_load(&b->rd.lost);
	if (t->obj)
		r0 = tc_obj_refused(t->obj);
	if (c->new_flows) {
		for (uint32_t i = 0; i < b->new_flows; i++) {
			frame_with_sport(b, i);
			err = bench_test_run(t->fd, b->frame, b->frame_len, &skb, sizeof(skb), 1,
					     &d, &ret);
			if (err)
				return err;
			sum += d;
		}
		*runs = b->new_flows;
		*ns = (double)sum / b->new_flows;
	} else {
		err = bench_test_run(t->fd, b->frame, b->frame_len, &skb, sizeof(skb), b->repeat,
				     &d, &ret);
		if (err)
			return err;
		*runs = b->repeat;
		*ns = d;
	}
	ring_sync(&b->rd);
	*records = atomic_load(&b->rd.samples) - s0;
	*lost = atomic_load(&b->rd.lost) - l0;
	if (t->obj) {
		uint64_t refused = tc_obj_refused(t->obj) - r0;

		/* The same refusals, counted twice (docs/benchmarks.md): the larger. */
		if (refused > *lost)
			*lost = refused;
	}
	return 0;
}

static int run_cell(struct bench *b, const struct cell *c, struct figure *figs, size_t *n_figs)
{
	struct target t[MAX_FIGS];
	double ns[MAX_FIGS][MAX_REPS];
	uint64_t runs[MAX_FIGS] = {0}, recs[MAX_FIGS] = {0};
	size_t n = 0;
	int err;

	t[n++] = (struct target){bpf_program__fd(b->empty->progs.mm_bench_empty), NULL};
	t[n++] = (struct target){bpf_program__fd(b->bare->progs.mm_bench_bare_emit), NULL};
	for (size_t i = 0; i < b->n_objs; i++) {
		t[n++] = (struct target){b->objs[i].in_fd, &b->objs[i]};
		t[n++] = (struct target){b->objs[i].eg_fd, &b->objs[i]};
	}
	err = configure(b, c);
	if (err)
		return err;
	memset(figs, 0, n * sizeof(*figs));
	if (!c->new_flows) {
		/* Established: each program's flow exists before it is measured. */
		struct __sk_buff skb;
		uint32_t d, ret;

		memset(&skb, 0, sizeof(skb));
		frame_with_sport(b, 0);
		for (size_t k = 0; k < n; k++)
			if (bench_test_run(t[k].fd, b->frame, b->frame_len, &skb, sizeof(skb), 1,
					   &d, &ret))
				return -errno;
	}
	/* Interleaved: drift on the host spreads over every program alike. */
	for (unsigned int r = 0; r < b->reps; r++) {
		for (size_t k = 0; k < n; k++) {
			uint64_t ru, rec, lost;

			err = measure(b, c, &t[k], &ns[k][r], &ru, &rec, &lost);
			if (err)
				return err;
			runs[k] += ru;
			recs[k] += rec;
			figs[k].lost += lost;
		}
	}
	for (size_t k = 0; k < n; k++) {
		figs[k].ns = bench_median(ns[k], b->reps);
		figs[k].records = runs[k] ? (double)recs[k] / (double)runs[k] : 0;
	}
	*n_figs = n;
	return 0;
}

/* --- output ------------------------------------------------------------------- */

static const char *const agg_names[] = {"none", "low", "medium", "maximum"};

static void print_header(void)
{
	printf("%-11s %-7s %3s %-4s %-10s | %6s | %6s %6s | %7s %6s %5s %5s | %7s %6s %5s %5s "
	       "| %5s\n",
	       "flows", "agg", "cap", "deny", "object", "empty", "bare", "", "ingress", "", "", "",
	       "egress", "", "", "", "");
	printf("%-11s %-7s %3s %-4s %-10s | %6s | %6s %6s | %7s %6s %5s %5s | %7s %6s %5s %5s "
	       "| %5s\n",
	       "", "", "", "", "", "ns", "ns", "+empty", "ns", "+empty", "rec", "xbare", "ns",
	       "+empty", "rec", "xbare", "lost");
}

/* The ratio to the bare emit, for rows that emit about one record per packet. */
static void fmt_ratio(char *buf, size_t len, const struct figure *f, const struct figure *bare)
{
	if (f->records >= 0.5 && bare->ns > 0)
		snprintf(buf, len, "%.2f", f->ns / bare->ns);
	else
		snprintf(buf, len, "-");
}

static void print_cell(const struct bench *b, const struct cell *c, const struct figure *figs)
{
	const struct figure *empty = &figs[F_EMPTY], *bare = &figs[F_BARE];

	for (size_t i = 0; i < b->n_objs; i++) {
		const struct figure *in = &figs[F_FIRST_TC + 2 * i], *eg = in + 1;
		char rin[16], reg[16];
		uint64_t lost = bare->lost + in->lost + eg->lost;

		fmt_ratio(rin, sizeof(rin), in, bare);
		fmt_ratio(reg, sizeof(reg), eg, bare);
		printf("%-11s %-7s %3u %-4s %-10s | %6.1f | %6.1f %6.1f | %7.1f %6.1f %5.2f %5s | "
		       "%7.1f %6.1f %5.2f %5s | %5" PRIu64 "\n",
		       c->new_flows ? "new" : "established", agg_names[c->agg], c->cap,
		       c->deny ? "yes" : "no", b->objs[i].label, empty->ns, bare->ns,
		       bare->ns - empty->ns, in->ns, in->ns - empty->ns, in->records, rin, eg->ns,
		       eg->ns - empty->ns, eg->records, reg, lost);
	}
	fflush(stdout);
}

/* --- set-up and main ---------------------------------------------------------- */

struct bench_opts {
	uint32_t repeat, new_flows;
	unsigned int reps;
	const char *also[MAX_OBJS - 1];
	size_t n_also;
	uint32_t wakeup_events;
	int only_established, only_new;
};

static void usage(FILE *out, const char *argv0)
{
	fprintf(
	    out,
	    "usage: %s [--quick] [--repeat N] [--reps N] [--new-flows N] [--established-only |"
	    " --new-only]\n"
	    "          [--wakeup-events N] [--also OBJ[=LABEL]]...\n"
	    "  --quick            repeat 20000, 3 repetitions, 2000 new flows: a few seconds\n"
	    "  --repeat N         runs per BPF_PROG_TEST_RUN call, established flows (default "
	    "100000)\n"
	    "  --reps N           repetitions, the median is shown (default 7, at most %d)\n"
	    "  --new-flows N      one-run calls per repetition, new flows (default 20000, at most "
	    "%u)\n"
	    "  --wakeup-events N  a ring wakeup every N records, as the agent's rings (default:\n"
	    "                     none, the reader polls); shows what wakeups add to each row\n"
	    "  --also OBJ=LABEL   also measure the tc programs of another tc_monitor.bpf.o\n"
	    "                     (e.g. an older build), side by side (at most %d)\n"
	    "Runs as root. Test runs on CPU %d, the ring reader on CPU %d.\n",
	    argv0, MAX_REPS, MAX_NEW_FLOWS, MAX_OBJS - 1, RUN_CPU, READER_CPU);
}

static int parse_args(struct bench_opts *o, int argc, char **argv, int *done)
{
	static const struct option longopts[] = {
	    {"quick", no_argument, NULL, 'q'},	    {"repeat", required_argument, NULL, 'r'},
	    {"reps", required_argument, NULL, 'n'}, {"new-flows", required_argument, NULL, 'f'},
	    {"also", required_argument, NULL, 'a'}, {"established-only", no_argument, NULL, 'E'},
	    {"new-only", no_argument, NULL, 'N'},   {"wakeup-events", required_argument, NULL, 'w'},
	    {"help", no_argument, NULL, 'h'},	    {NULL, 0, NULL, 0},
	};
	uint64_t v;
	int opt;

	*done = 0;
	memset(o, 0, sizeof(*o));
	o->repeat = 100000;
	o->reps = 7;
	o->new_flows = 20000;
	while ((opt = getopt_long(argc, argv, "qr:n:f:a:ENw:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'q':
			o->repeat = 20000;
			o->reps = 3;
			o->new_flows = 2000;
			break;
		case 'r':
			if (mm_parse_u64(optarg, 1, UINT32_MAX, &v))
				goto bad;
			o->repeat = (uint32_t)v;
			break;
		case 'n':
			if (mm_parse_u64(optarg, 1, MAX_REPS, &v))
				goto bad;
			o->reps = (unsigned int)v;
			break;
		case 'f':
			if (mm_parse_u64(optarg, 1, MAX_NEW_FLOWS, &v))
				goto bad;
			o->new_flows = (uint32_t)v;
			break;
		case 'a':
			if (o->n_also == MAX_OBJS - 1)
				goto bad;
			o->also[o->n_also++] = optarg;
			break;
		case 'w':
			if (mm_parse_u64(optarg, 1, 1u << 30, &v))
				goto bad;
			o->wakeup_events = (uint32_t)v;
			break;
		case 'E':
			o->only_established = 1;
			break;
		case 'N':
			o->only_new = 1;
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
	if (optind == argc && !(o->only_established && o->only_new))
		return 0;
bad:
	fprintf(stderr, "%s: bad arguments (see --help)\n", argv[0]);
	return 2;
}

static int bench_setup(struct bench *b, const struct bench_opts *o)
{
	int reader_cpu = sysconf(_SC_NPROCESSORS_ONLN) > READER_CPU ? READER_CPU : RUN_CPU;
	struct bpf_map *ev;
	int err;

	memset(b, 0, sizeof(*b));
	b->repeat = o->repeat;
	b->reps = o->reps;
	b->new_flows = o->new_flows;
	b->spec = (struct mm_test_pkt_spec){.family = 4,
					    .proto = IPPROTO_TCP,
					    .sport = SPORT_BASE,
					    .dport = 80,
					    .tcp_flags = MM_TCP_ACK,
					    .payload_len = 200};
	err = mm_test_private_netns();
	if (err) {
		fprintf(stderr, "private network namespace: %s (run as root)\n", strerror(-err));
		return err;
	}
	if (pin_self(RUN_CPU)) {
		fprintf(stderr, "cannot pin to CPU %d\n", RUN_CPU);
		return -EINVAL;
	}
	b->dp = mm_datapath__open(NULL);
	if (!b->dp) {
		fprintf(stderr, "mm_datapath__open: %s\n", strerror(errno));
		return -errno;
	}
	err = tc_obj_from_datapath(&b->objs[b->n_objs++], b->dp);
	if (err) {
		fprintf(stderr, "tc_monitor maps: %s\n", strerror(-err));
		return err;
	}
	for (size_t i = 0; i < o->n_also; i++) {
		err = tc_obj_open(&b->objs[b->n_objs++], o->also[i], mm_datapath__events_fd(b->dp));
		if (err) {
			fprintf(stderr, "--also %s: %s\n", o->also[i], strerror(-err));
			return err;
		}
	}
	b->empty = mm_bench_empty_tc__open_and_load();
	b->bare = mm_bench_bare_emit__open();
	if (!b->empty || !b->bare) {
		fprintf(stderr, "bench programs: %s\n", strerror(errno));
		return -errno;
	}
	ev = b->bare->maps.mm_bench_events;
	err = bpf_map__reuse_fd(ev, mm_datapath__events_fd(b->dp));
	if (!err)
		err = mm_bench_bare_emit__load(b->bare);
	if (err) {
		fprintf(stderr, "bare emit program: %s\n", strerror(-err));
		return err;
	}
	err = reader_start(&b->rd, mm_datapath__events_fd(b->dp), RUN_CPU, reader_cpu,
			   ring_pages(b->repeat), o->wakeup_events);
	if (err) {
		fprintf(stderr, "ring reader: %s\n", strerror(-err));
		return err;
	}
	frame_with_sport(b, 0);
	if (o->wakeup_events)
		printf("test runs: CPU %d; ring reader: CPU %d (%zu pages, polling, a wakeup every "
		       "%u records)\n",
		       RUN_CPU, reader_cpu, ring_pages(b->repeat), o->wakeup_events);
	else
		printf("test runs: CPU %d; ring reader: CPU %d (%zu pages, polling, no wakeups)\n",
		       RUN_CPU, reader_cpu, ring_pages(b->repeat));
	return 0;
}

static void bench_teardown(struct bench *b)
{
	if (b->rd.pb)
		reader_stop(&b->rd);
	mm_bench_bare_emit__destroy(b->bare);
	mm_bench_empty_tc__destroy(b->empty);
	for (size_t i = 1; i < b->n_objs; i++)
		bpf_object__close(b->objs[i].obj);
	mm_datapath__free(b->dp);
}

/* The figures the optimisation targets are stated against (docs/performance.md). */
struct key_rows {
	struct figure est_medium[MAX_FIGS];
	struct figure est_none[MAX_FIGS];
	int have_medium, have_none;
};

static void print_key_rows(const struct bench *b, const struct key_rows *k)
{
	printf("\nKey rows (established flow, capture 128, no deny rules):\n");
	for (size_t i = 0; i < b->n_objs; i++) {
		if (k->have_medium) {
			const struct figure *f = k->est_medium, *in = &f[F_FIRST_TC + 2 * i];

			printf("  %-10s aggregation medium: ingress %.1f ns above empty (%.1f), "
			       "egress "
			       "%.1f above\n",
			       b->objs[i].label, in->ns - f[F_EMPTY].ns, f[F_EMPTY].ns,
			       in[1].ns - f[F_EMPTY].ns);
		}
		if (k->have_none) {
			const struct figure *f = k->est_none, *in = &f[F_FIRST_TC + 2 * i];

			printf(
			    "  %-10s aggregation none: ingress %.1f ns = %.2f x bare emit (%.1f), "
			    "egress %.1f = %.2f x\n",
			    b->objs[i].label, in->ns, in->ns / f[F_BARE].ns, f[F_BARE].ns, in[1].ns,
			    in[1].ns / f[F_BARE].ns);
		}
	}
}

int main(int argc, char **argv)
{
	struct bench_opts o;
	struct bench b;
	struct key_rows keys;
	int rc, done, err = 0;
	struct timespec t0, t1;

	rc = parse_args(&o, argc, argv, &done);
	if (rc || done)
		return rc;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	mm_bench_print_machine();
	if (bench_setup(&b, &o)) {
		bench_teardown(&b);
		return 1;
	}
	printf("frame: %zu bytes, IPv4 TCP ACK 10.199.0.1:%u -> 10.199.0.2:80; established: repeat "
	       "%u per call; new: %u calls of 1 run, source port varied, flow table emptied per "
	       "repetition; median of %u repetitions\n",
	       b.frame_len, SPORT_BASE, b.repeat, b.new_flows, b.reps);
	printf("ns = the kernel's BPF_PROG_TEST_RUN duration per run; +empty = above the empty "
	       "program in the same cell; rec = records per packet; xbare = ns / bare emit ns "
	       "(rows with a record per packet); lost = refused writes\n\n");
	print_header();
	memset(&keys, 0, sizeof(keys));
	for (int nf = 0; nf < 2 && !err; nf++) {
		if ((nf && o.only_established) || (!nf && o.only_new))
			continue;
		for (__u8 agg = MM_AGG_NONE; agg <= MM_AGG_MAXIMUM && !err; agg++) {
			for (int ci = 0; ci < 2 && !err; ci++) {
				for (int deny = 0; deny < 2 && !err; deny++) {
					struct cell c = {nf, agg, ci ? 128 : 0, deny, CAPTURE_NONE};
					struct figure figs[MAX_FIGS];
					size_t n;

					err = run_cell(&b, &c, figs, &n);
					if (err)
						break;
					print_cell(&b, &c, figs);
					if (!nf && ci && !deny && agg == MM_AGG_MEDIUM) {
						memcpy(keys.est_medium, figs, n * sizeof(*figs));
						keys.have_medium = 1;
					}
					if (!nf && ci && !deny && agg == MM_AGG_NONE) {
						memcpy(keys.est_none, figs, n * sizeof(*figs));
						keys.have_none = 1;
					}
				}
			}
		}
	}
	if (err) {
		fprintf(stderr, "measurement failed: %s\n", strerror(-err));
		bench_teardown(&b);
		return 1;
	}
	if (!o.only_new) {
		printf("\nCapture on demand (this build; established, agg none, cap 128, no deny):\n");
		print_header();
		for (int k = CAPTURE_NONE; k <= CAPTURE_MATCH && !err; k++) {
			struct cell c = {0, MM_AGG_NONE, 128, 0, k};
			struct figure figs[MAX_FIGS];
			size_t n;

			err = run_cell(&b, &c, figs, &n);
			if (err)
				break;
			printf("capture rule: %s\n", capture_names[k]);
			print_cell(&b, &c, figs);
		}
		if (err) {
			fprintf(stderr, "measurement failed: %s\n", strerror(-err));
			bench_teardown(&b);
			return 1;
		}
	}
	print_key_rows(&b, &keys);
	bench_other_programs(b.repeat, b.reps);
	bench_teardown(&b);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("\ntotal %.1f s\n",
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}
