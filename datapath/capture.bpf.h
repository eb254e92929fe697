/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Capture on demand in the tc programs: the capture rules (abi/config.h,
 * struct mm_capture_rule), written by the agent (datapath/capture.c), and the
 * capture records (type CAPTURE) emitted for the packets that match them.
 *
 * Cost: with no rule, one test of mm_config.capture_slots per packet. With
 * rules, one array lookup per rule in use and a few compares; only matching
 * packets pay for a record.
 *
 * Budget: a rule's packets and bytes are taken with atomic adds before the
 * write, and given back when over the budget, so that at most max_packets
 * records and max_bytes captured bytes are ever taken on any number of CPUs
 * (the record that reaches max_bytes is truncated to it). A failed write
 * (a full ring included) counts in the rule's failed: the agent reports it to
 * the rule's owner as capture loss.
 *
 * Full maps: the array has exactly MM_CAPTURE_RULES_MAX slots; the agent
 * refuses a rule beyond them.
 */
#ifndef MESHMON_CAPTURE_BPF_H
#define MESHMON_CAPTURE_BPF_H

#include "emit.bpf.h"
#include "flow.bpf.h"
#include "parse.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MM_CAPTURE_RULES_MAX);
	__type(key, __u32);
	__type(value, struct mm_capture_rule);
} mm_capture_rules SEC(".maps");

/* Whether addr (of a packet of family) lies in the endpoint's prefix. */
static __always_inline int mm_capture_addr_in(const struct mm_capture_endpoint *ep, __u8 family,
					      const __u32 *addr)
{
	const __u8 *a = (const __u8 *)addr;
	__u32 bits = ep->prefix, i;

	if (!ep->family)
		return 1;
	if (ep->family != family)
		return 0;
	if (bits > 128)
		return 0;
	for (i = 0; i < 16; i++) {
		__u8 mask;

		if (bits == 0)
			break;
		mask = bits >= 8 ? 0xff : (__u8)(0xff << (8 - bits));
		if ((a[i] ^ ep->addr[i]) & mask)
			return 0;
		bits = bits >= 8 ? bits - 8 : 0;
	}
	return 1;
}

static __always_inline int mm_capture_side(const struct mm_capture_endpoint *ep, __u8 family,
					   const __u32 *addr, __u16 port)
{
	return mm_capture_addr_in(ep, family, addr) && (!ep->port || ep->port == port);
}

static __always_inline int mm_capture_matches(const struct mm_capture_rule *r,
					      struct __sk_buff *skb, const struct mm_tuple *t,
					      __u8 point)
{
	if (!(r->points & MM_POINT_BIT(point)))
		return 0;
	if (r->ifindex && r->ifindex != skb->ifindex)
		return 0;
	if (r->proto && r->proto != t->proto)
		return 0;
	if (r->port && r->port != t->sport && r->port != t->dport)
		return 0;
	if (!mm_capture_side(&r->src, t->family, t->saddr, t->sport))
		return 0;
	if (!mm_capture_side(&r->dst, t->family, t->daddr, t->dport))
		return 0;
	return mm_capture_side(&r->either, t->family, t->saddr, t->sport) ||
	       mm_capture_side(&r->either, t->family, t->daddr, t->dport);
}

/*
 * Take one record of cap bytes from r's budget: the bytes to capture (cap, or
 * less for the record that reaches max_bytes), or -1 when the budget is spent.
 */
static __always_inline long mm_capture_take(struct mm_capture_rule *r, __u32 cap)
{
	__u64 old;

	old = __sync_fetch_and_add(&r->packets, 1);
	if (r->max_packets && old >= r->max_packets) {
		__sync_fetch_and_add(&r->packets, -1);
		return -1;
	}
	if (!r->max_bytes)
		return cap;
	old = __sync_fetch_and_add(&r->bytes, cap);
	if (old >= r->max_bytes) {
		__sync_fetch_and_add(&r->bytes, -(__s64)cap);
		__sync_fetch_and_add(&r->packets, -1);
		return -1;
	}
	if (old + cap > r->max_bytes) {
		__u32 fit = (__u32)(r->max_bytes - old);

		__sync_fetch_and_add(&r->bytes, -(__s64)(cap - fit));
		return fit;
	}
	return cap;
}

#define MM_CAPTURE_AT(slot, point) ((slot) | ((__u32)(point) << 16))

/* The record of a matching packet, built only once the rule matched. */
static __always_inline void mm_capture_emit(struct __sk_buff *skb, struct mm_capture_rule *r,
					    __u32 point, __u64 now, __u32 flow_id)
{
	struct mm_capture_record rec = {};
	__u32 cap = r->snaplen;
	long taken;

	if (cap > skb->len)
		cap = skb->len;
	if (cap > MM_CAPTURE_SNAP_MAX)
		cap = MM_CAPTURE_SNAP_MAX;
	taken = mm_capture_take(r, cap);
	if (taken < 0)
		return;
	cap = (__u32)taken & 0xffff;
	if (!r->max_bytes)
		__sync_fetch_and_add(&r->bytes, cap);
	mm_hdr_init_at(&rec.hdr, MM_EVENT_CAPTURE, (__u8)point, MM_SOURCE_TC, MM_CAPTURE_VERSION,
		       flow_id, now);
	rec.cap.len_orig = skb->len;
	rec.cap.cap_len = cap;
	rec.cap.layer = MM_LAYER_ETHERNET;
	rec.ifindex = skb->ifindex;
	rec.rule_id = r->id;
	if (bpf_perf_event_output(skb, &mm_events, ((__u64)cap << 32) | BPF_F_CURRENT_CPU, &rec,
				  sizeof(rec)))
		__sync_fetch_and_add(&r->failed, 1);
	else
		mm_type_count(MM_EVENT_CAPTURE, 0);
}

/*
 * One rule (slot) against one packet: a global function, so the verifier
 * checks it once rather than once per slot of the caller's loop (inlined, the
 * sixteen copies were beyond its limit). BPF functions take five arguments:
 * at is the slot in the low 16 bits and the trace point above. Returns 1 when
 * the packet matched.
 */
__attribute__((noinline)) int mm_capture_slot(struct __sk_buff *skb, __u32 at, __u64 now,
					      __u32 flow_id, const struct mm_tuple *t)
{
	__u32 slot = at & 0xffff, point = at >> 16;
	struct mm_capture_rule *r;

	if (!skb || !t)
		return 0;
	r = bpf_map_lookup_elem(&mm_capture_rules, &slot);
	if (!r || !r->id || !mm_capture_matches(r, skb, t, (__u8)point))
		return 0;
	mm_capture_emit(skb, r, point, now, flow_id);
	return 1;
}

/*
 * Capture records for every rule the packet matches (one record per matching
 * rule). Called by the tc programs for every packet, after parsing.
 */
static __always_inline void mm_capture_packet(struct __sk_buff *skb, const struct mm_config *cfg,
					      __u64 now, __u8 point, const struct mm_parsed *p,
					      const struct mm_flow_key *key)
{
	__u32 slots = cfg->capture_slots, flow_id;

	if (!slots)
		return;
	flow_id = mm_flow_hash(key);
	for (__u32 i = 0; i < MM_CAPTURE_RULES_MAX; i++)
		if (slots & (1u << i))
			mm_capture_slot(skb, MM_CAPTURE_AT(i, point), now, flow_id, &p->tuple);
}

#endif /* MESHMON_CAPTURE_BPF_H */
