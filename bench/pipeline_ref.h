/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * meshmon-pipeline-bench: the reference, a bare libbpf reader. The bench
 * loads a datapath of its own (mm_datapath__open) and a thread pinned to one
 * CPU reads its mm_events the way the agent's rings do, without anything
 * after the ring: perf_buffer__new_raw with wakeup_events N, each per-CPU
 * ring fd in the reader's epoll set, and a timerfd that drains
 * every ring each drain_ms. Per record it copies the notify header out,
 * counts the record and puts its latency (CLOCK_MONOTONIC before the
 * consume that brought it - ktime_ns) into a histogram.
 */
#ifndef MESHMON_BENCH_PIPELINE_REF_H
#define MESHMON_BENCH_PIPELINE_REF_H

#include <stdint.h>

#include "pipeline_hist.h"
#include "pipeline_producer.h"

struct mm_datapath;

struct pl_ref_opts {
	unsigned int pages, wakeup_events, drain_ms;
	int cpu;
};

struct pl_ref_result {
	uint64_t received;  /* samples read */
	uint64_t perf_lost; /* PERF_RECORD_LOST counts */
	uint64_t failed;    /* datapath RING_FULL + OUTPUT_FAILED over the case */
	uint64_t cpu_ns;    /* the reader thread's CPU time */
	uint64_t wakeups;   /* its voluntary context switches */
	uint64_t t_last_ns; /* CLOCK_MONOTONIC of the consume that brought the last record */
	struct pl_hist hist;
};

/*
 * One case: start the reader, then the producer p (set up by the caller on
 * dp's tc ingress program); return once every produced record was read or
 * counted as failed, or 3 s after the producer ended. 0 or -errno.
 */
int pl_ref__run(struct mm_datapath *dp, const struct pl_ref_opts *o, struct pl_producer *p,
		struct pl_ref_result *res);

#endif /* MESHMON_BENCH_PIPELINE_REF_H */
