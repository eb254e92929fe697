// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-datapath-bench's reference for emitting a record: a tc program
 * shaped like Cilium's send_trace_notify() and nothing more. It looks up one
 * configuration value (the capture length), fills a record of meshmon's trace
 * record size on the stack from what the skb already holds (length, ifindex,
 * skb->hash as the flow hash: no parsing, no flow table, no clock read, no
 * counters) and writes it with
 *   bpf_perf_event_output(skb, &events, (cap_len << 32) | BPF_F_CURRENT_CPU, &rec, sizeof rec)
 * so that the kernel appends cap_len packet bytes, as meshmon does.
 *
 * Hooks: tc (test-run only). Maps: mm_bench_events (the bench points it at
 * the datapath's mm_events, so one reader drains both), mm_bench_config (one
 * struct mm_config; only capture_len is read). A full ring fails the write;
 * the bench sees it as PERF_RECORD_LOST and reports it.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "config.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} mm_bench_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mm_config);
} mm_bench_config SEC(".maps");

SEC("tc")
int mm_bench_bare_emit(struct __sk_buff *skb)
{
	const struct mm_config *cfg;
	__u32 zero = 0;
	__u64 cap;

	cfg = bpf_map_lookup_elem(&mm_bench_config, &zero);
	if (!cfg)
		return TC_ACT_UNSPEC;
	cap = cfg->capture_len;
	if (cap > skb->len)
		cap = skb->len;
	if (cap > MM_CAPTURE_MAX)
		cap = MM_CAPTURE_MAX;

	/* A compound literal zeroes what is not named, as Cilium's does. */
	struct mm_trace_record rec = {
	    .hdr = {.type = MM_EVENT_TRACE,
		    .subtype = MM_POINT_FROM_NETWORK,
		    .source = MM_SOURCE_TC,
		    .version = MM_TRACE_VERSION,
		    .flow_id = skb->hash},
	    .cap = {.len_orig = skb->len, .cap_len = (__u16)cap, .layer = MM_LAYER_ETHERNET},
	    .ifindex = skb->ifindex,
	};

	bpf_perf_event_output(skb, &mm_bench_events, (cap << 32) | BPF_F_CURRENT_CPU, &rec,
			      sizeof(rec));
	return TC_ACT_UNSPEC;
}
