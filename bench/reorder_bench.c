// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-reorder-bench: what putting the CPUs' rings in time order costs
 * per event (agent/reorder.h), with no kernel and no root.
 *
 * Simulated rings: each of R rings makes one record every --gap-ns of
 * simulated time (208 bytes, the pipeline bench's record: a trace with a
 * 128-byte capture), and the reader takes one ring at a time, round robin,
 * every --read-us, getting everything that ring made since its last read
 * (at the defaults, 2 rings: 64 records, the agent's --wakeup-events). After each
 * read the stage releases what the watermark (the oldest ring's last read)
 * allows, as the agent does after each ring batch. The release callback
 * only reads the record's type byte and counts, so a row's time is the
 * stage's: a copy in, heap push, heap pop, the callback.
 *
 * Rows: the stage off (--reorder-ms 0: released as pushed, only the order
 * check) and on, for 1, 2, 4 and 8 rings. Per row: ns per record, records
 * released out of order (0 when merged: the simulated rings commit at once;
 * off, every ring switch makes some), the most records held and the
 * stage's peak memory. Times are the thread's CPU time; still, only
 * differences within one run mean much on a shared machine.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_machine.h"
#include "records.h"
#include "reorder.h"

#define RECORD_BYTES 208u
#define MAX_RINGS 8

struct opts {
	uint64_t records;  /* per row */
	uint64_t gap_ns;   /* between two records of one ring */
	uint64_t read_us;  /* between two ring reads */
	uint64_t window_ms;
};

struct sink {
	uint64_t released, late, type_sum;
};

static void on_release(void *ctx, int cpu, const void *data, __u32 size, int out_of_order)
{
	struct sink *s = ctx;

	(void)cpu;
	(void)size;
	s->released++;
	s->late += out_of_order != 0;
	s->type_sum += *(const unsigned char *)data;
}

/* CPU time, not wall time: on a shared machine the wall clock also counts other work. */
static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct row_result {
	double ns_per_record;
	uint64_t late, released;
	size_t peak_held, peak_memory;
};

static int run_row(const struct opts *o, unsigned int rings, int on, struct row_result *res)
{
	struct mm_reorder_opts ro = {.window_ns = on ? o->window_ms * 1000000 : 0};
	unsigned char rec[RECORD_BYTES] = {MM_EVENT_TRACE};
	uint64_t made[MAX_RINGS] = {0}, read_at[MAX_RINGS] = {0};
	uint64_t sim = 0, pushed = 0, start, step = o->read_us * 1000;
	struct mm_reorder_stats st;
	struct sink sink = {0};
	struct mm_reorder *r;
	unsigned int ring = 0;

	ro.release = on_release;
	ro.ctx = &sink;
	r = mm_reorder__new(&ro);
	if (!r)
		return -1;
	memset(res, 0, sizeof(*res));
	start = cpu_ns();
	while (pushed < o->records) {
		uint64_t watermark = UINT64_MAX;

		sim += step;
		read_at[ring] = sim;
		/* this ring's records since its last read, in its own order */
		for (; made[ring] * o->gap_ns < sim && pushed < o->records; made[ring]++, pushed++) {
			uint64_t k = made[ring] * o->gap_ns + ring; /* rings a ns apart: no ties */

			memcpy(rec + offsetof(struct mm_notify_hdr, ktime_ns), &k, sizeof(k));
			mm_reorder__push(r, (int)ring, rec, RECORD_BYTES);
		}
		for (unsigned int i = 0; i < rings; i++)
			if (read_at[i] < watermark)
				watermark = read_at[i];
		mm_reorder__release(r, watermark, sim);
		mm_reorder__stats(r, &st);
		if (st.held > res->peak_held)
			res->peak_held = st.held;
		if (st.memory > res->peak_memory)
			res->peak_memory = st.memory;
		ring = (ring + 1) % rings;
	}
	mm_reorder__flush(r);
	res->ns_per_record = (double)(cpu_ns() - start) / (double)pushed;
	res->late = sink.late;
	res->released = sink.released;
	mm_reorder__free(r);
	/* every record pushed came out, and the callback's work was not optimised away */
	return sink.released == pushed && sink.type_sum == pushed * MM_EVENT_TRACE ? 0 : -1;
}

static void usage(FILE *out, const char *argv0)
{
	fprintf(out,
		"usage: %s [--records N] [--gap-ns N] [--read-us N] [--reorder-ms N]\n"
		"  --records N     records per row (default 20000000)\n"
		"  --gap-ns N      simulated time between two records of one ring (default 1000)\n"
		"  --read-us N     simulated time between two ring reads (default 32)\n"
		"  --reorder-ms N  the window of the rows with the merge on (default 5)\n"
		"Prints figures, never pass/fail; exits 0, or 1 when a row lost records.\n",
		argv0);
}

static int parse(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"records", required_argument, NULL, 'n'}, {"gap-ns", required_argument, NULL, 'g'},
		{"read-us", required_argument, NULL, 'r'}, {"reorder-ms", required_argument, NULL, 'w'},
		{"help", no_argument, NULL, 'h'},	   {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		uint64_t *dst = c == 'n' ? &o->records
			      : c == 'g' ? &o->gap_ns
			      : c == 'r' ? &o->read_us
			      : c == 'w' ? &o->window_ms
					 : NULL;
		char *end;

		if (!dst) {
			usage(c == 'h' ? stdout : stderr, argv[0]);
			return c == 'h' ? 0 : 2;
		}
		*dst = strtoull(optarg, &end, 10);
		if (*end || !*optarg || !*dst) {
			fprintf(stderr, "%s: '%s' is not a positive number\n", argv[0], optarg);
			return 2;
		}
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct opts o = {.records = 20000000, .gap_ns = 1000, .read_us = 32, .window_ms = 5};
	static const unsigned int ring_counts[] = {1, 2, 4, 8};
	struct row_result off, res;
	int rc = parse(&o, argc, argv), failed = 0;

	if (rc >= 0)
		return rc;
	mm_bench_print_machine();
	printf("records: %" PRIu64 " per row of %u bytes; each ring makes one every %" PRIu64
	       " ns; one ring read every %" PRIu64 " us, round robin; window %" PRIu64
	       " ms, slack %llu us\n\n",
	       o.records, RECORD_BYTES, o.gap_ns, o.read_us, o.window_ms,
	       MM_REORDER_SLACK_NS / 1000);
	printf("%-10s %5s %10s %10s %12s %10s %12s\n", "row", "rings", "cpu ns/rec", "+ns/rec",
	       "out of order", "peak held", "peak memory");
	for (size_t i = 0; i < sizeof(ring_counts) / sizeof(ring_counts[0]); i++) {
		unsigned int n = ring_counts[i];

		failed |= run_row(&o, n, 0, &off);
		printf("%-10s %5u %10.1f %10s %12" PRIu64 " %10zu %12zu\n", "off", n,
		       off.ns_per_record, "-", off.late, off.peak_held, off.peak_memory);
		failed |= run_row(&o, n, 1, &res);
		printf("%-10s %5u %10.1f %10.1f %12" PRIu64 " %10zu %12zu\n", "merged", n,
		       res.ns_per_record, res.ns_per_record - off.ns_per_record, res.late,
		       res.peak_held, res.peak_memory);
	}
	if (failed)
		fprintf(stderr, "a row did not release every record it was given\n");
	return failed ? 1 : 0;
}
