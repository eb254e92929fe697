/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Policy-verdict records (meshmon-agent --policy-verdicts, event_mask bit
 * MM_EVENT_POLICY_VERDICT): the deny walk's decision on each new flow.
 *
 * Which packet is a new flow:
 * - allowed: the packet that creates the flow's entry in mm_flows (state
 *   NEW); packets of an established flow and replies get no verdict;
 * - denied: a denied packet creates no mm_flows entry (its flow never
 *   exists for tracing), so the first denied packet of a flow key creates an
 *   entry in mm_policy_verdicts instead; the flow's later packets (SYN
 *   retransmissions, the rest of a UDP stream) find it and get no verdict.
 * An entry lives until the LRU evicts it, as in mm_flows: an evicted flow
 * gets its verdict again.
 *
 * Aggregation (medium, maximum): every verdict, allowed or denied, also goes
 * through mm_policy_verdicts, so a flow key gets at most one verdict per
 * agg_interval_ns (an allowed flow that is NEW again after an eviction
 * counts); the rest are folded (MM_STAT_VERDICT_FOLDED, and the next record's
 * folded). Without aggregation an allowed NEW flow costs no lookup here.
 *
 * The record passes the same type bit and rate limiter as every other record.
 */
#ifndef MESHMON_POLICY_VERDICT_BPF_H
#define MESHMON_POLICY_VERDICT_BPF_H

#include "emit.bpf.h"

struct mm_policy_verdict_entry {
	__u64 last_report_ns;
	__u32 folded;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct mm_flow_key);
	__type(value, struct mm_policy_verdict_entry);
} mm_policy_verdicts SEC(".maps");

/*
 * Whether the flow of key gets a verdict now (1, *folded = verdicts folded
 * since its last one) or not (0). A failed insert only means the next packet
 * of the flow gets a verdict too.
 */
static __always_inline int mm_policy_verdict_due(const struct mm_config *cfg,
						 const struct mm_flow_key *key, __u64 now,
						 __u32 *folded)
{
	struct mm_policy_verdict_entry *e = bpf_map_lookup_elem(&mm_policy_verdicts, key);

	*folded = 0;
	if (!e) {
		struct mm_policy_verdict_entry fresh = {.last_report_ns = now};

		bpf_map_update_elem(&mm_policy_verdicts, key, &fresh, BPF_ANY);
		return 1;
	}
	if (cfg->aggregation < MM_AGG_MEDIUM)
		return 0; /* not a new flow: no verdict, nothing lost */
	if (now - e->last_report_ns >= cfg->agg_interval_ns) {
		*folded = e->folded;
		e->folded = 0;
		e->last_report_ns = now;
		return 1;
	}
	e->folded++;
	mm_stat_add(MM_STAT_VERDICT_FOLDED, 1);
	return 0;
}

/*
 * The packet's verdict: rule is the deny rule that matched (NULL: allowed),
 * state its flow's state (enum mm_trace_state; only NEW matters when allowed).
 */
static __always_inline void mm_policy_verdict(struct __sk_buff *skb, const struct mm_config *cfg,
					      __u64 now, const struct mm_flow_key *key,
					      __u32 flow_id, __u8 point, __u8 tcp_flags,
					      const struct mm_deny_rule *rule, __u8 state)
{
	struct mm_policy_verdict_record rec = {};
	__u32 folded = 0;

	if (!mm_type_enabled(cfg, MM_EVENT_POLICY_VERDICT))
		return;
	if (!rule && state != MM_STATE_NEW)
		return;
	if ((rule || cfg->aggregation >= MM_AGG_MEDIUM) &&
	    !mm_policy_verdict_due(cfg, key, now, &folded))
		return;
	if (!mm_rate_allow_at(cfg, MM_EVENT_POLICY_VERDICT, now))
		return;
	mm_hdr_init_at(&rec.hdr, MM_EVENT_POLICY_VERDICT, point, MM_SOURCE_TC,
		       MM_POLICY_VERDICT_VERSION, flow_id, now);
	__builtin_memcpy(&rec.tuple, &key->tuple, sizeof(rec.tuple));
	rec.ifindex = skb->ifindex;
	rec.rule_id = rule ? rule->id : 0;
	rec.verdict = rule ? MM_VERDICT_DENIED : MM_VERDICT_ALLOWED;
	rec.tcp_flags = tcp_flags;
	rec.folded = folded;
	mm_output(skb, &rec, sizeof(rec), 0);
}

#endif /* MESHMON_POLICY_VERDICT_BPF_H */
