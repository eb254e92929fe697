/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Maps shared by every datapath object. Each object declares them; the
 * userspace loader creates them once (in the first object loaded) and makes
 * the other objects reuse the same fds (bpf_map__reuse_fd), so there is one
 * event ring set, one configuration, one set of token buckets and one set of
 * counters.
 * mm_verdict_skb links the tc deny verdict to the kernel's free of the
 * dropped skb (verdict.bpf.h). mm_traffic counts packets at every
 * observation point, whichever object observes there (counters.bpf.h).
 *
 * Full maps: mm_events is a per-CPU ring; when a CPU's ring is full the write
 * fails and MM_STAT_RING_FULL counts it (the kernel counts the same write in
 * the ring's PERF_RECORD_LOST, which arrives only with the next successful
 * write); any other failed write counts in MM_STAT_OUTPUT_FAILED.
 */
#ifndef MESHMON_MAPS_BPF_H
#define MESHMON_MAPS_BPF_H

#include "config.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} mm_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mm_config);
} mm_config_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MM_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} mm_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mm_rate_bucket);
} mm_rate_bucket SEC(".maps");

/* Per-type limits, their per-CPU buckets and per-type counters (config.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MM_EVENT_TYPE_SLOTS);
	__type(key, __u32);
	__type(value, struct mm_type_rate);
} mm_type_rate SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MM_EVENT_TYPE_SLOTS);
	__type(key, __u32);
	__type(value, struct mm_rate_bucket);
} mm_type_bucket SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MM_EVENT_TYPE_SLOTS);
	__type(key, __u32);
	__type(value, struct mm_type_counter);
} mm_type_stats SEC(".maps");

/* Per CPU: the skb the tc program last dropped by a deny rule (verdict.bpf.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} mm_verdict_skb SEC(".maps");

/* Packets and bytes by observation point and outcome: MM_TRAFFIC_INDEX() in config.h. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MM_TRAFFIC_SLOTS);
	__type(key, __u32);
	__type(value, struct mm_traffic_counter);
} mm_traffic SEC(".maps");

#endif /* MESHMON_MAPS_BPF_H */
