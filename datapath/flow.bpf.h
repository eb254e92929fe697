/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Conntrack-style flow table and monitor aggregation for the tc programs.
 *
 * mm_flows (LRU hash) is keyed by the tuple of a flow's first packet plus the
 * interface. A packet is looked up as seen (hit: ESTABLISHED, direction 0),
 * then reversed (hit: REPLY, direction 1); a miss inserts it (NEW). When the
 * table is full the LRU evicts the least recently used flow, so a long-idle
 * flow comes back as NEW; an insert that fails anyway is counted in
 * MM_STAT_FLOW_INSERT_FAILED and the packet is traced as NEW without state.
 *
 * mm_drop_agg (LRU hash) holds the last report time of each (flow, reason,
 * source) when drops are aggregated; eviction only means a drop is reported
 * again sooner.
 */
#ifndef MESHMON_FLOW_BPF_H
#define MESHMON_FLOW_BPF_H

#include "emit.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct mm_flow_key);
	__type(value, struct mm_flow_entry);
} mm_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct mm_drop_agg_key);
	__type(value, struct mm_drop_agg_entry);
} mm_drop_agg SEC(".maps");

/* murmur3's 32-bit mixing steps. */
static __always_inline __u32 mm_mix(__u32 h, __u32 k)
{
	k *= 0xcc9e2d51;
	k = (k << 15) | (k >> 17);
	k *= 0x1b873593;
	h ^= k;
	h = (h << 13) | (h >> 19);
	return h * 5 + 0xe6546b64;
}

static __always_inline __u32 mm_fmix(__u32 h)
{
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

static __always_inline __u32 mm_endpoint_hash(const __u32 *addr, __u32 port)
{
	__u32 h = 0x6d6d; /* "mm" */

	h = mm_mix(h, addr[0]);
	h = mm_mix(h, addr[1]);
	h = mm_mix(h, addr[2]);
	h = mm_mix(h, addr[3]);
	return mm_fmix(mm_mix(h, port));
}

static __always_inline int mm_tuple_is_icmp(const struct mm_tuple *t)
{
	return t->proto == IPPROTO_ICMP || t->proto == IPPROTO_ICMPV6;
}

/*
 * Direction-independent flow id: the two endpoints' hashes are combined with
 * symmetric operations (xor and sum), so a packet and its reply, and a drop
 * of either, share the id without a table lookup. ICMP echo keeps its
 * identifier in sport in both directions, so it is hashed outside the
 * endpoints. Never 0 (0 means "no flow").
 */
static __always_inline __u32 mm_flow_hash(const struct mm_flow_key *k)
{
	const struct mm_tuple *t = &k->tuple;
	int icmp = mm_tuple_is_icmp(t);
	__u32 a = mm_endpoint_hash(t->saddr, icmp ? 0 : t->sport);
	__u32 b = mm_endpoint_hash(t->daddr, icmp ? 0 : t->dport);
	__u32 h = mm_mix(0x4d4d, a ^ b);

	h = mm_mix(h, a + b);
	h = mm_mix(h, ((__u32)t->family << 24) | ((__u32)t->proto << 16) | (icmp ? t->sport : 0));
	h = mm_fmix(mm_mix(h, k->ifindex));
	return h ? h : 1;
}

static __always_inline void mm_flow_key_reverse(struct mm_flow_key *rev,
						const struct mm_flow_key *k)
{
	__builtin_memcpy(rev->tuple.saddr, k->tuple.daddr, 16);
	__builtin_memcpy(rev->tuple.daddr, k->tuple.saddr, 16);
	if (mm_tuple_is_icmp(&k->tuple)) {
		/* The echo identifier stays in sport in both directions. */
		rev->tuple.sport = k->tuple.sport;
		rev->tuple.dport = k->tuple.dport;
	} else {
		rev->tuple.sport = k->tuple.dport;
		rev->tuple.dport = k->tuple.sport;
	}
	rev->tuple.family = k->tuple.family;
	rev->tuple.proto = k->tuple.proto;
	rev->tuple.ethertype = k->tuple.ethertype;
	rev->ifindex = k->ifindex;
	rev->side = k->side ? MM_FLOW_SIDE_SRC + MM_FLOW_SIDE_DST - k->side : MM_FLOW_SIDE_NONE;
}

struct mm_flow_result {
	struct mm_flow_entry *entry; /* NULL when the insert failed */
	__u32 flow_id;
	__u8 state;	/* enum mm_trace_state */
	__u8 dir;	/* 0 original, 1 reply */
	__u8 new_flags; /* TCP flags first seen in this direction */
	__u8 pad;
	long insert_err;
};

/*
 * Look up (or create) the flow of key and record this packet in it. The flow
 * id is hashed only for a new flow: an entry keeps the id it was created with,
 * which is the id of either direction (mm_flow_hash is symmetric), so a hit
 * costs no hashing.
 */
static __always_inline void mm_flow_track(const struct mm_flow_key *key, __u8 tcp_flags, __u64 now,
					  struct mm_flow_result *res)
{
	struct mm_flow_entry *e;
	struct mm_flow_key rev;

	res->dir = 0;
	res->insert_err = 0;
	e = bpf_map_lookup_elem(&mm_flows, key);
	if (e) {
		res->state = MM_STATE_ESTABLISHED;
	} else {
		mm_flow_key_reverse(&rev, key);
		e = bpf_map_lookup_elem(&mm_flows, &rev);
		if (e) {
			res->state = MM_STATE_REPLY;
			res->dir = 1;
		}
	}
	if (e) {
		res->flow_id = e->flow_id;
	} else {
		struct mm_flow_entry fresh = {
		    .created_ns = now,
		    .last_seen_ns = now,
		    .flow_id = mm_flow_hash(key),
		};

		res->flow_id = fresh.flow_id;
		res->state = MM_STATE_NEW;
		res->insert_err = bpf_map_update_elem(&mm_flows, key, &fresh, BPF_NOEXIST);
		/* -EEXIST: another CPU inserted it first; use theirs (the same id). */
		e = bpf_map_lookup_elem(&mm_flows, key);
		if (!e) {
			mm_stat_add(MM_STAT_FLOW_INSERT_FAILED, 1);
			res->entry = NULL;
			res->new_flags = tcp_flags;
			return;
		}
	}
	res->entry = e;
	res->new_flags = tcp_flags & ~e->seen_flags[res->dir & 1];
	e->seen_flags[res->dir & 1] |= tcp_flags;
	e->last_seen_ns = now;
}

/*
 * Aggregation at LOW, as Cilium's: only traces towards where the packet goes
 * (to-network, to-endpoint) are reported; the receive side's (from-network,
 * from-endpoint) are suppressed and not counted as folded.
 */
static __always_inline int mm_agg_low_suppresses(const struct mm_config *cfg, __u8 point)
{
	return cfg->aggregation == MM_AGG_LOW && point != MM_POINT_TO_NETWORK &&
	       point != MM_POINT_TO_ENDPOINT;
}

/*
 * Aggregation at MEDIUM/MAXIMUM: report a flow+direction when it is new, on a
 * TCP flag in agg_flags not seen before in that direction, or when the
 * interval has passed since its last report. Returns 1 to report (and *folded
 * = packets folded since the previous report, reset), 0 to fold (counted).
 */
static __always_inline int mm_flow_aggregate(const struct mm_config *cfg,
					     struct mm_flow_result *res, __u64 now, __u32 *folded)
{
	struct mm_flow_entry *e = res->entry;
	__u32 d = res->dir & 1;

	*folded = 0;
	if (!e)
		return 1;
	if (res->state == MM_STATE_NEW || (res->new_flags & cfg->agg_tcp_flags) ||
	    now - e->last_report_ns[d] >= cfg->agg_interval_ns) {
		*folded = e->folded[d];
		e->folded[d] = 0;
		e->last_report_ns[d] = now;
		return 1;
	}
	e->folded[d]++;
	mm_stat_add(MM_STAT_TRACE_FOLDED, 1);
	return 0;
}

/*
 * Drop aggregation: the first drop of a (flow, reason, source) is reported,
 * then at most one per interval carrying the count folded since the last.
 */
static __always_inline int mm_drop_aggregate(const struct mm_config *cfg,
					     const struct mm_flow_key *flow, __u32 reason,
					     __u32 source, __u64 now, __u32 *folded)
{
	struct mm_drop_agg_key key = {};
	struct mm_drop_agg_entry *e;

	*folded = 0;
	__builtin_memcpy(&key.flow, flow, sizeof(key.flow));
	key.reason = reason;
	key.source = source;
	e = bpf_map_lookup_elem(&mm_drop_agg, &key);
	if (!e) {
		struct mm_drop_agg_entry fresh = {.last_report_ns = now};

		/* If this fails the drop is simply reported, unaggregated. */
		bpf_map_update_elem(&mm_drop_agg, &key, &fresh, BPF_ANY);
		return 1;
	}
	if (now - e->last_report_ns >= cfg->agg_interval_ns) {
		*folded = e->folded;
		e->folded = 0;
		e->last_report_ns = now;
		return 1;
	}
	e->folded++;
	mm_stat_add(MM_STAT_DROP_FOLDED, 1);
	return 0;
}

#endif /* MESHMON_FLOW_BPF_H */
