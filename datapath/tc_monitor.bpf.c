// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon's tc datapath.
 *
 * Hooks: tc (clsact) ingress, mm_tc_ingress (point from-network), and egress,
 * mm_tc_egress (point to-network). Both return TC_ACT_UNSPEC so that other tc
 * programs still run; the only packets they drop (TC_ACT_SHOT) are those a
 * deny rule matches.
 *
 * Maps: shared (maps.bpf.h) mm_events, mm_config_map, mm_stats,
 * mm_rate_bucket, mm_verdict_skb (verdict.bpf.h: the skb a deny dropped),
 * mm_traffic (counters.bpf.h: every packet at its point, by outcome);
 * own mm_flows and mm_drop_agg (flow.bpf.h), mm_deny_rules, mm_deny_src and
 * mm_deny_dst (deny.bpf.h), mm_capture_rules (capture.bpf.h),
 * mm_policy_verdicts (policy_verdict.bpf.h).
 *
 * Full maps: mm_flows and mm_drop_agg are LRU and evict (an evicted flow is
 * seen as NEW again, an evicted drop key reports its next drop at once); a
 * failed flow insert is counted (MM_STAT_FLOW_INSERT_FAILED) and the packet
 * is traced without aggregation. mm_policy_verdicts is LRU too: an evicted
 * flow gets its verdict again. A full ring fails the write and counts
 * MM_STAT_RING_FULL. The arrays never fill.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "parse.bpf.h"
#include "emit.bpf.h"
#include "counters.bpf.h"
#include "flow.bpf.h"
#include "deny.bpf.h"
#include "verdict.bpf.h"
#include "capture.bpf.h"
#include "policy_verdict.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Aggregation decisions in MM_DBG_AGGREGATE's first argument. */
#define MM_AGG_DECISION_FOLD   0
#define MM_AGG_DECISION_REPORT 1

/*
 * Every record about one packet carries the time the program first read the
 * clock for it (`now`): one clock read per packet, and the records of a packet
 * keep their emission order when sorted by time.
 */
static __always_inline void mm_debug(struct __sk_buff *skb, const struct mm_config *cfg, __u64 now,
				     __u8 subtype, __u32 flow_id, __u32 a1, __u32 a2, __u32 a3)
{
	struct mm_debug_record rec = {};

	if (!mm_type_enabled(cfg, MM_EVENT_DEBUG) ||
	    !mm_rate_allow_at(cfg, MM_EVENT_DEBUG, now))
		return;
	mm_hdr_init_at(&rec.hdr, MM_EVENT_DEBUG, subtype, MM_SOURCE_TC, MM_DEBUG_VERSION, flow_id,
		       now);
	rec.ifindex = skb->ifindex;
	rec.arg1 = a1;
	rec.arg2 = a2;
	rec.arg3 = a3;
	mm_output(skb, &rec, sizeof(rec), 0);
}

static __always_inline void mm_emit_drop(struct __sk_buff *skb, const struct mm_config *cfg,
					 __u64 now, const struct mm_flow_key *key, __u8 point,
					 const struct mm_deny_rule *rule)
{
	struct mm_drop_record rec = {};
	__u32 folded = 0, cap;

	if (!mm_type_enabled(cfg, MM_EVENT_DROP))
		return;
	if (cfg->aggregate_drops) {
		int report =
		    mm_drop_aggregate(cfg, key, MM_DROP_POLICY_DENIED, MM_SOURCE_TC, now, &folded);

		mm_debug(skb, cfg, now, MM_DBG_AGGREGATE, mm_flow_hash(key),
			 report ? MM_AGG_DECISION_REPORT : MM_AGG_DECISION_FOLD, folded, 0);
		if (!report)
			return;
	}
	if (!mm_rate_allow_at(cfg, MM_EVENT_DROP, now))
		return;
	cap = mm_cap_len(cfg, skb->len);
	mm_hdr_init_at(&rec.hdr, MM_EVENT_DROP, point, MM_SOURCE_TC, MM_DROP_VERSION,
		       mm_flow_hash(key), now);
	rec.cap.len_orig = skb->len;
	rec.cap.cap_len = cap;
	rec.cap.layer = MM_LAYER_ETHERNET;
	__builtin_memcpy(&rec.tuple, &key->tuple, sizeof(rec.tuple));
	rec.ifindex = skb->ifindex;
	rec.reason = MM_DROP_POLICY_DENIED;
	rec.ext_error = rule->id;
	MM_DROP_SITE(&rec);
	rec.folded = folded;
	mm_output(skb, &rec, sizeof(rec), cap);
}

/*
 * The trace record, built in one go where it is emitted (the initializer
 * zeroes the padding): a folded packet never builds one.
 */
static __always_inline void mm_emit_trace(struct __sk_buff *skb, const struct mm_config *cfg,
					  __u64 now, __u8 point, const struct mm_parsed *p,
					  const struct mm_flow_result *flow, __u32 folded)
{
	__u32 cap = mm_cap_len(cfg, skb->len);
	struct mm_trace_record rec = {
	    .cap = {.len_orig = skb->len, .cap_len = cap, .layer = MM_LAYER_ETHERNET},
	    .tuple = p->tuple,
	    .ifindex = skb->ifindex,
	    .state = flow->state,
	    .tcp_flags = p->tcp_flags,
	    .icmp_type = p->icmp_type,
	    .icmp_code = p->icmp_code,
	    .parse_error = p->parse_error,
	    .folded = folded,
	};

	mm_hdr_init_at(&rec.hdr, MM_EVENT_TRACE, point, MM_SOURCE_TC, MM_TRACE_VERSION,
		       flow->flow_id, now);
	mm_output(skb, &rec, sizeof(rec), cap);
}

static __always_inline int mm_tc_handle(struct __sk_buff *skb, __u8 point, __u8 dir)
{
	const struct mm_config *cfg = mm_config_get();
	struct mm_flow_result flow = {};
	const struct mm_deny_rule *rule;
	struct mm_parsed p = {};
	struct mm_flow_key key;
	__u32 folded = 0;
	__u64 now;

	if (!cfg)
		return TC_ACT_UNSPEC;

	now = bpf_ktime_get_ns();
	mm_parse(skb, &p);
	key.tuple = p.tuple;
	key.ifindex = skb->ifindex;
	key.side = MM_FLOW_SIDE_NONE;

	/* Not being IP is no error: ARP and friends are simply traced. */
	if (p.parse_error != MM_PARSE_NONE && p.parse_error != MM_PARSE_NOT_IP) {
		mm_stat_add(MM_STAT_PARSE_ERRORS, 1);
		mm_debug(skb, cfg, now, MM_DBG_PARSE_ERROR, 0, p.parse_error, p.err_offset,
			 skb->len);
	}

	/* Capture on demand sees every packet, those a deny rule drops too. */
	mm_capture_packet(skb, cfg, now, point, &p, &key);

	rule = mm_deny_match(&p.tuple, dir);
	if (rule) {
		mm_traffic_add(point, MM_DROP_POLICY_DENIED, skb->len);
		mm_debug(skb, cfg, now, MM_DBG_RULE_MATCH, mm_flow_hash(&key), rule->id,
			 p.tuple.proto, p.tuple.dport);
		mm_policy_verdict(skb, cfg, now, &key, mm_flow_hash(&key), point, p.tcp_flags, rule,
				  MM_STATE_UNKNOWN);
		mm_emit_drop(skb, cfg, now, &key, point, rule);
		mm_verdict_mark_shot(skb); /* the kernel's free of skb is this drop */
		return TC_ACT_SHOT;
	}
	mm_traffic_add(point, 0, skb->len);

	/* Only fully parsed IP packets have a flow; the rest are always traced. */
	if (p.parse_error == MM_PARSE_NONE) {
		mm_flow_track(&key, p.tcp_flags, now, &flow);
		if (flow.insert_err && !flow.entry)
			mm_debug(skb, cfg, now, MM_DBG_FLOW_CREATE_FAILED, flow.flow_id,
				 (__u32)-flow.insert_err, skb->ifindex, flow.flow_id);
		if (p.icmp_error)
			flow.state = MM_STATE_RELATED;
		mm_debug(skb, cfg, now, MM_DBG_FLOW_LOOKUP, flow.flow_id, flow.state, skb->ifindex,
			 flow.flow_id);
		mm_policy_verdict(skb, cfg, now, &key, flow.flow_id, point, p.tcp_flags, NULL,
				  flow.state);
	}

	if (!mm_type_enabled(cfg, MM_EVENT_TRACE))
		return TC_ACT_UNSPEC;
	if (mm_agg_low_suppresses(cfg, point))
		return TC_ACT_UNSPEC;
	if (cfg->aggregation >= MM_AGG_MEDIUM && flow.entry) {
		int report = mm_flow_aggregate(cfg, &flow, now, &folded);

		mm_debug(skb, cfg, now, MM_DBG_AGGREGATE, flow.flow_id,
			 report ? MM_AGG_DECISION_REPORT : MM_AGG_DECISION_FOLD, folded,
			 flow.new_flags & cfg->agg_tcp_flags);
		if (!report)
			return TC_ACT_UNSPEC;
	}
	if (!mm_rate_allow_at(cfg, MM_EVENT_TRACE, now))
		return TC_ACT_UNSPEC;
	mm_emit_trace(skb, cfg, now, point, &p, &flow, folded);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int mm_tc_ingress(struct __sk_buff *skb)
{
	return mm_tc_handle(skb, MM_POINT_FROM_NETWORK, MM_DIR_INGRESS);
}

SEC("tc")
int mm_tc_egress(struct __sk_buff *skb)
{
	return mm_tc_handle(skb, MM_POINT_TO_NETWORK, MM_DIR_EGRESS);
}
