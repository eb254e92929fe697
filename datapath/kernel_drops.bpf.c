// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Kernel drops: every skb the kernel frees with a drop reason becomes a drop
 * record (source KERNEL, subtype MM_POINT_KERNEL) carrying the running
 * kernel's enum skb_drop_reason value (named in userspace from its BTF,
 * kernel_drop_reasons.c), the dropping function's address, the interface, the netns,
 * the tuple and captured bytes starting at skb->data.
 *
 * Hooks:
 * - tp_btf/kfree_skb (mm_kdrop_btf): preferred; captures bytes through
 *   bpf_skb_output.
 * - raw_tp/kfree_skb (mm_kdrop_raw): autoload off; the loader enables it when
 *   tp_btf fails to load. Same record, without captured bytes (bpf_skb_output
 *   needs the BTF-typed skb of tp_btf).
 * Frees that are not drops (SKB_NOT_DROPPED_YET, SKB_CONSUMED) are skipped, and
 * so is the free of a packet meshmon's own tc deny rule dropped (reason
 * TC_INGRESS/TC_EGRESS, the very skb the tc program marked: verdict.bpf.h),
 * which the tc drop record reports; MM_STAT_KDROP_MERGED counts those.
 *
 * Counts: every drop in scope that is not one of meshmon's own tc drops is
 * counted in mm_kdrop_counts (per-CPU array, packets and bytes by the
 * kernel's reason value, MM_KDROP_OVERFLOW_SLOT for a value beyond
 * MM_KDROP_REASON_SLOTS: config.h) before the record switch, aggregation and
 * the rate limit, so the counts are every drop, not the drops reported.
 *
 * Maps: the shared maps (maps.bpf.h), mm_verdict_skb among them;
 * mm_kdrop_netns (hash, netns inode -> 1): with kernel_drop_scope MONITORED
 * only drops in these namespaces are reported; mm_kdrop_agg (LRU hash, per
 * flow + reason): with aggregate_drops a flow's drops of one reason are
 * reported at most once per agg_interval_ns and the rest folded (counted in
 * MM_STAT_DROP_FOLDED and in the next report's `folded`); when full the LRU
 * evicts the oldest flow, which is then reported afresh.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#include "emit.bpf.h"
#include "headers.bpf.h"
#include "verdict.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define MM_ETH_P_IP	  0x0800
#define MM_ETH_P_IPV6	  0x86dd
#define MM_IPPROTO_ICMP	  1
#define MM_IPPROTO_ICMPV6 58
#define MM_HDR_UNSET	  0xffff

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} mm_kdrop_netns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct mm_drop_agg_key);
	__type(value, struct mm_drop_agg_entry);
} mm_kdrop_agg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MM_KDROP_COUNT_SLOTS);
	__type(key, __u32);
	__type(value, struct mm_traffic_counter);
} mm_kdrop_counts SEC(".maps");

/* Too big for the 512-byte stack together with the aggregation key. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mm_drop_record);
} mm_kdrop_scratch SEC(".maps");

/*
 * The dropped packet's length from the first header the skb still holds in
 * front of skb->data (link layer, else network), so that a packet dropped at
 * the socket counts the bytes its interface counted for it; skb->len alone
 * when neither is set (a local packet not yet given a header).
 */
static __always_inline __u32 mm_kdrop_bytes(__u32 len, __u64 data_off, __u16 mh, __u16 nh)
{
	if (mh != MM_HDR_UNSET && mh <= data_off)
		return len + (__u32)(data_off - mh);
	if (nh != MM_HDR_UNSET && nh <= data_off)
		return len + (__u32)(data_off - nh);
	return len;
}

static __always_inline void mm_kdrop_count(__u32 reason, __u32 bytes)
{
	__u32 slot = reason < MM_KDROP_REASON_SLOTS ? reason : MM_KDROP_OVERFLOW_SLOT;
	struct mm_traffic_counter *c = bpf_map_lookup_elem(&mm_kdrop_counts, &slot);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

static __always_inline void mm_kdrop_ports(struct mm_tuple *t, const unsigned char *l4)
{
	__u16 ports[2] = {};

	if (mm_proto_has_ports(t->proto)) {
		if (bpf_probe_read_kernel(ports, sizeof(ports), l4))
			return;
		t->sport = bpf_ntohs(ports[0]);
		t->dport = bpf_ntohs(ports[1]);
	} else if (t->proto == MM_IPPROTO_ICMP || t->proto == MM_IPPROTO_ICMPV6) {
		__u16 icmp[3] = {};

		if (bpf_probe_read_kernel(icmp, sizeof(icmp), l4))
			return;
		t->sport = bpf_ntohs(icmp[2]); /* echo identifier */
	}
}

/*
 * The upper-layer protocol and ports behind the IPv6 header, walking the
 * extension headers from l3_end (headers.bpf.h). transport_header is not used
 * for IPv6: on receive the kernel first sets it just past the fixed header
 * and advances it only as it processes each extension header, so at a drop it
 * may point at an extension header. Unreadable or too long a chain: the last
 * next-header value seen, no ports.
 */
static __always_inline void mm_kdrop_ipv6_l4(struct mm_tuple *t, const unsigned char *l3_end,
					     __u8 nexthdr)
{
	__u32 off = 0;

	for (int i = 0; i < MM_IPV6_EXT_MAX && mm_ipv6_is_ext(nexthdr); i++) {
		struct mm_ipv6_ext ext;

		if (bpf_probe_read_kernel(&ext, sizeof(ext), l3_end + off)) {
			t->proto = nexthdr;
			return;
		}
		if (mm_ipv6_frag_later(nexthdr, &ext)) {
			t->proto = ext.nexthdr; /* non-first fragment: no ports */
			return;
		}
		off += mm_ipv6_ext_len(nexthdr, &ext);
		nexthdr = ext.nexthdr;
	}
	t->proto = nexthdr;
	if (!mm_ipv6_is_ext(nexthdr))
		mm_kdrop_ports(t, l3_end + off);
}

/* Tuple from the headers the skb still has (head + network/transport_header). */
static __always_inline void mm_kdrop_tuple(struct mm_tuple *t, struct sk_buff *skb,
					   unsigned char *head, __u16 nh, __u16 th)
{
	__u16 proto = bpf_ntohs(BPF_CORE_READ(skb, protocol));

	t->ethertype = proto;
	if (nh == MM_HDR_UNSET)
		return;
	if (proto == MM_ETH_P_IP) {
		struct iphdr ip;

		if (bpf_probe_read_kernel(&ip, sizeof(ip), head + nh) || ip.version != 4)
			return;
		t->family = MM_FAMILY_IPV4;
		t->proto = ip.protocol;
		t->saddr[0] = ip.saddr;
		t->daddr[0] = ip.daddr;
		if (th == MM_HDR_UNSET || th <= nh)
			th = nh + ip.ihl * 4;
		if (bpf_ntohs(ip.frag_off) & 0x1fff)
			return; /* non-first fragment: no ports */
		mm_kdrop_ports(t, head + th);
	} else if (proto == MM_ETH_P_IPV6) {
		struct ipv6hdr ip6;

		if (bpf_probe_read_kernel(&ip6, sizeof(ip6), head + nh) || ip6.version != 6)
			return;
		t->family = MM_FAMILY_IPV6;
		__builtin_memcpy(t->saddr, &ip6.saddr, 16);
		__builtin_memcpy(t->daddr, &ip6.daddr, 16);
		mm_kdrop_ipv6_l4(t, head + nh + sizeof(ip6), ip6.nexthdr);
	}
}

static __always_inline int mm_kdrop(void *ctx, struct sk_buff *skb, void *location, __u32 reason,
				    struct sock *rx_sk, int can_capture)
{
	struct mm_drop_agg_key key = {};
	struct mm_drop_agg_entry *agg;
	const struct mm_config *cfg;
	struct mm_drop_record *rec;
	struct net_device *dev;
	unsigned char *head, *data;
	__u32 zero = 0, netns = 0, ifindex = 0, len, cap = 0, folded = 0;
	__u16 nh, th, mh;
	__u8 layer = 0;
	int own_verdict = 0;
	__u64 now;

	/* Not drops: the enum's first two values on every kernel with reasons. */
	if (reason == SKB_NOT_DROPPED_YET || reason == SKB_CONSUMED)
		return 0;
	/* Consumed first, whatever is reported: the slot names one skb only until it is freed. */
	if (reason == bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_TC_INGRESS) ||
	    reason == bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_TC_EGRESS))
		own_verdict = mm_verdict_take((__u64)(long)skb);
	cfg = mm_config_get();
	if (!cfg)
		return 0;

	dev = BPF_CORE_READ(skb, dev);
	if (dev) {
		netns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
		ifindex = BPF_CORE_READ(dev, ifindex);
	} else {
		struct sock *sk = rx_sk ? rx_sk : BPF_CORE_READ(skb, sk);

		if (sk)
			netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	}
	if (cfg->kernel_drop_scope != MM_KDROP_SCOPE_ALL &&
	    !bpf_map_lookup_elem(&mm_kdrop_netns, &netns))
		return 0;
	if (own_verdict) {
		/* meshmon's tc program reported this drop already (POLICY_DENIED). */
		mm_stat_add(MM_STAT_KDROP_MERGED, 1);
		return 0;
	}

	head = BPF_CORE_READ(skb, head);
	data = BPF_CORE_READ(skb, data);
	nh = BPF_CORE_READ(skb, network_header);
	th = BPF_CORE_READ(skb, transport_header);
	mh = BPF_CORE_READ(skb, mac_header);
	len = BPF_CORE_READ(skb, len);
	mm_kdrop_count(reason, mm_kdrop_bytes(len, data - head, mh, nh));
	if (!mm_type_enabled(cfg, MM_EVENT_DROP))
		return 0;

	rec = bpf_map_lookup_elem(&mm_kdrop_scratch, &zero);
	if (!rec)
		return 0;
	__builtin_memset(rec, 0, sizeof(*rec));
	mm_kdrop_tuple(&rec->tuple, skb, head, nh, th);

	now = bpf_ktime_get_ns();
	if (cfg->aggregate_drops) {
		__builtin_memcpy(&key.flow.tuple, &rec->tuple, sizeof(key.flow.tuple));
		key.flow.ifindex = ifindex;
		key.reason = reason;
		key.source = MM_SOURCE_KERNEL;
		agg = bpf_map_lookup_elem(&mm_kdrop_agg, &key);
		if (agg) {
			if (now - agg->last_report_ns < cfg->agg_interval_ns) {
				__sync_fetch_and_add(&agg->folded, 1);
				mm_stat_add(MM_STAT_DROP_FOLDED, 1);
				return 0;
			}
			folded = agg->folded;
			agg->folded = 0;
			agg->last_report_ns = now;
		} else {
			struct mm_drop_agg_entry fresh = {.last_report_ns = now};

			bpf_map_update_elem(&mm_kdrop_agg, &key, &fresh, BPF_ANY);
		}
	}
	if (!mm_rate_allow(cfg, MM_EVENT_DROP))
		return 0;

	if (can_capture && cfg->capture_len) {
		__u64 off = data - head;

		if (th != MM_HDR_UNSET && off == th)
			layer = MM_LAYER_TRANSPORT;
		else if (nh != MM_HDR_UNSET && off == nh)
			layer = MM_LAYER_NETWORK;
		else if (mh != MM_HDR_UNSET && off == mh)
			layer = MM_LAYER_ETHERNET;
		if (layer) {
			cap = cfg->capture_len;
			if (cap > MM_CAPTURE_MAX)
				cap = MM_CAPTURE_MAX;
			if (cap > len)
				cap = len; /* more than skb->len fails with -EFAULT */
		}
	}

	mm_hdr_init(&rec->hdr, MM_EVENT_DROP, MM_POINT_KERNEL, MM_SOURCE_KERNEL, MM_DROP_VERSION,
		    0);
	rec->cap.len_orig = len;
	rec->cap.cap_len = cap;
	rec->cap.layer = layer;
	rec->ifindex = ifindex;
	rec->reason = reason;
	rec->netns = netns;
	rec->folded = folded;
	rec->location = (__u64)location;
	/* file and line stay 0: the site is `location`, in the kernel */

	if (can_capture) {
		long err = bpf_skb_output(skb, &mm_events, ((__u64)cap << 32) | BPF_F_CURRENT_CPU,
					  rec, sizeof(*rec));

		mm_output_counted(rec, err);
	} else {
		mm_output(ctx, rec, sizeof(*rec), 0);
	}
	return 0;
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(mm_kdrop_btf, struct sk_buff *skb, void *location, enum skb_drop_reason reason,
	     struct sock *rx_sk)
{
	return mm_kdrop(ctx, skb, location, reason, rx_sk, 1);
}

SEC("raw_tp/kfree_skb")
int BPF_PROG(mm_kdrop_raw, struct sk_buff *skb, void *location, enum skb_drop_reason reason,
	     struct sock *rx_sk)
{
	return mm_kdrop(ctx, skb, location, reason, rx_sk, 0);
}
