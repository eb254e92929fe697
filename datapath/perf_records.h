/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel's layout of the two perf records a raw perf buffer
 * (perf_buffer__new_raw) hands to its callback for mm_events: a
 * PERF_SAMPLE_RAW sample (one notify record) and PERF_RECORD_LOST (records
 * the kernel overwrote). Shared by the agent's reader and the benchmark's
 * bare reference reader.
 */
#ifndef MESHMON_PERF_RECORDS_H
#define MESHMON_PERF_RECORDS_H

#include <linux/perf_event.h>
#include <linux/types.h>

struct mm_perf_sample {
	struct perf_event_header header;
	__u32 size; /* bytes of data */
	char data[];
};

struct mm_perf_lost {
	struct perf_event_header header;
	__u64 id;
	__u64 lost;
};

#endif /* MESHMON_PERF_RECORDS_H */
