/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The point and drop counters as Status and /metrics show them, from the
 * datapath's sums (config.h): which entries exist, in which order, and their
 * names. One list for both, so `meshmon status` and a scrape agree.
 * - points: FROM_NETWORK and TO_NETWORK always (the tc programs count there),
 *   any other point once it has counted a packet;
 * - drops: only reasons with a non-zero count: tc reasons (mm_traffic summed
 *   over the points), then kernel reasons by value, then the kernel's overflow
 *   slot (reason_code MM_KDROP_OVERFLOW_CODE, reason "overflow"). So the list
 *   is bounded by the reasons that exist.
 */
#ifndef MESHMON_AGENT_COUNTERS_H
#define MESHMON_AGENT_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* DropCounter.reason_code of the kernel's overflow slot: every value >= MM_KDROP_REASON_SLOTS. */
#define MM_KDROP_OVERFLOW_CODE 0xffffffffu
#define MM_KDROP_OVERFLOW_NAME "overflow"

struct mm_point_count {
	unsigned int point; /* enum mm_trace_point */
	uint64_t packets, bytes;
};

struct mm_drop_count {
	unsigned int source; /* MM_SOURCE_TC or MM_SOURCE_KERNEL */
	uint32_t reason_code;
	char reason[48];     /* the reason's name; its decimal code when it has none */
	uint64_t packets, bytes;
};

struct mm_counters {
	struct mm_point_count points[MM_TRAFFIC_POINTS];
	size_t n_points;
	struct mm_drop_count drops[MM_TRAFFIC_REASONS + MM_KDROP_COUNT_SLOTS];
	size_t n_drops;
};

/*
 * traffic: mm_datapath__read_traffic()'s MM_TRAFFIC_SLOTS sums, or NULL
 * (nothing counted); kernel: mm_kdrops__read_counts()'s MM_KDROP_COUNT_SLOTS,
 * or NULL (kernel drops off); kernel_name names a kernel reason value (NULL:
 * unknown).
 */
void mm_counters__collect(struct mm_counters *c, const struct mm_traffic_counter *traffic,
			  const struct mm_traffic_counter *kernel,
			  const char *(*kernel_name)(unsigned int reason));

#endif /* MESHMON_AGENT_COUNTERS_H */
