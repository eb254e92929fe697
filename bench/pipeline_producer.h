/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * meshmon-pipeline-bench: the producer. A thread pinned to one CPU runs a tc
 * program with BPF_PROG_TEST_RUN on one canned frame, each run emitting one
 * record into that CPU's ring:
 *
 *   paced      one call with repeat = rate / 1000 every millisecond, on an
 *              absolute schedule (clock_nanosleep TIMER_ABSTIME), so the CPU
 *              sleeps between bursts; a late tick runs at once;
 *   flat out   calls of repeat PL_FLAT_REPEAT back to back (rate 0).
 *
 * Either way it stops after duration_ns or when told to; a paced producer
 * that falls behind its schedule (each run costs more than the schedule
 * allows) gives up at twice duration_ns, having made fewer runs.
 */
#ifndef MESHMON_BENCH_PIPELINE_PRODUCER_H
#define MESHMON_BENCH_PIPELINE_PRODUCER_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define PL_FLAT_REPEAT 1024u
#define PL_TICK_NS 1000000ull /* one paced burst per millisecond */

struct pl_producer {
	/* in */
	int prog_fd;
	const uint8_t *frame;
	size_t frame_len;
	int ifindex;          /* __sk_buff.ifindex of every run */
	uint64_t rate;        /* records/s, a multiple of 1000; 0: flat out */
	uint64_t duration_ns;
	int cpu;
	volatile sig_atomic_t *interrupt; /* stop when it becomes non-zero; may be NULL */
	/* out, valid once done */
	uint64_t produced;    /* test runs made: one record meant per run */
	uint64_t t_start_ns;  /* CLOCK_MONOTONIC of the first run */
	uint64_t t_end_ns;    /* after the last run returned */
	int err;              /* 0 or -errno (pinning, BPF_PROG_TEST_RUN) */
	/* internal */
	pthread_t thread;
	_Atomic int started, done, stop;
};

/* Start the thread: 0 or -errno. */
int pl_producer__start(struct pl_producer *p);
/* Ask it to stop early (e.g. the agent died). */
void pl_producer__stop(struct pl_producer *p);
/* Wait for the thread; returns p->err. */
int pl_producer__join(struct pl_producer *p);
/* Records/s the producer achieved. */
double pl_producer__rate(const struct pl_producer *p);

uint64_t pl_now_ns(void); /* CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns() */
int pl_pin_self(int cpu); /* pin the calling thread: 0 or -errno */

#endif /* MESHMON_BENCH_PIPELINE_PRODUCER_H */
