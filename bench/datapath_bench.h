/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * meshmon-datapath-bench's parts: the measurement primitive shared by the tc
 * matrix (datapath_bench.c) and the check of the other datapath programs
 * (datapath_other.c).
 */
#ifndef MESHMON_DATAPATH_BENCH_H
#define MESHMON_DATAPATH_BENCH_H

#include <stddef.h>
#include <stdint.h>

/*
 * One BPF_PROG_TEST_RUN call: the kernel's own mean duration per run (ns, its
 * u32 `duration`, the time around the program alone: no syscall, no skb set
 * up) in *ns and the program's return code in *retval. 0 or -errno.
 */
int bench_test_run(int prog_fd, const void *data, size_t data_len, void *ctx, size_t ctx_len,
		   uint32_t repeat, uint32_t *ns, uint32_t *retval);

/* Median of n values (sorts them). */
double bench_median(double *v, size_t n);

/* "ENOTSUPP" for 524 and the usual names for the errnos a test run returns. */
const char *bench_errno_name(int err);

/*
 * Load the tcp_probe and kernel drop objects (nothing attached) and try
 * BPF_PROG_TEST_RUN on each of their programs, printing what the kernel says;
 * where a test run works, measure it (repeat, reps as for tc).
 */
void bench_other_programs(uint32_t repeat, unsigned int reps);

#endif /* MESHMON_DATAPATH_BENCH_H */
