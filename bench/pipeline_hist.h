/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * meshmon-pipeline-bench: a latency histogram of fixed size, so that a
 * counting client can send its whole histogram to the bench over a pipe and
 * the bench can merge the histograms of every listener of a case.
 *
 * Buckets are log-linear: values below 32 ns have a bucket each, above that
 * every power of two is split into 32 buckets (3 % resolution). Values of
 * 2^40 ns (18 minutes) and more land in the last bucket; the maximum is kept
 * exactly.
 */
#ifndef MESHMON_BENCH_PIPELINE_HIST_H
#define MESHMON_BENCH_PIPELINE_HIST_H

#include <stdint.h>

#define PL_HIST_SUB_BITS 5
#define PL_HIST_SUB (1u << PL_HIST_SUB_BITS)
#define PL_HIST_TOP_BIT 40 /* values >= 2^40 share the last bucket */
#define PL_HIST_BUCKETS ((PL_HIST_TOP_BIT - PL_HIST_SUB_BITS + 1) * PL_HIST_SUB)

struct pl_hist {
	uint64_t count;
	uint64_t max;
	uint64_t bucket[PL_HIST_BUCKETS];
};

void pl_hist__reset(struct pl_hist *h);
void pl_hist__add(struct pl_hist *h, uint64_t v);
void pl_hist__merge(struct pl_hist *dst, const struct pl_hist *src);
/* The value at quantile q (0..1): the middle of its bucket, never above max; 0 when empty. */
uint64_t pl_hist__quantile(const struct pl_hist *h, double q);

#endif /* MESHMON_BENCH_PIPELINE_HIST_H */
