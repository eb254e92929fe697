/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Counting packets at an observation point (mm_traffic, maps.bpf.h): every
 * program that observes packets counts each one it sees, at its enum
 * mm_trace_point, before any record switch, aggregation or rate limit, so
 * the counters are what passed there, not what was reported.
 */
#ifndef MESHMON_COUNTERS_BPF_H
#define MESHMON_COUNTERS_BPF_H

#include "maps.bpf.h"

/* reason: 0 when the packet went on, else the enum mm_drop_reason it was dropped for. */
static __always_inline void mm_traffic_add(__u32 point, __u32 reason, __u32 bytes)
{
	__u32 idx = MM_TRAFFIC_INDEX(point, reason);
	struct mm_traffic_counter *c = bpf_map_lookup_elem(&mm_traffic, &idx);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

#endif /* MESHMON_COUNTERS_BPF_H */
