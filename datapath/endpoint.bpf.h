/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Endpoint observation points: where packets meet the sockets of the
 * monitored cgroup. Included once, by tcp_probe.bpf.c, so that the programs
 * share its socket storage (mm_probe_sk, mm_probe_listen) and are attached to
 * the same cgroup (tcp_probe.c).
 *
 * Hooks:
 * - cgroup_skb/ingress (mm_endpoint_ingress): a packet delivered to a socket
 *   of the cgroup, point to-endpoint (softirq: no process to ask);
 * - cgroup_skb/egress (mm_endpoint_egress): a packet a socket of the cgroup
 *   sends, point from-endpoint;
 * - cgroup/sock_create (mm_endpoint_sock_create): socket(2), in the creating
 *   process: remembers that process for the sockets tcp_probe's own state
 *   never covers (UDP, ICMP, raw: TCP sockets get theirs at connect or
 *   listen).
 * All three return 1: they never change a verdict.
 *
 * Each packet is counted in mm_traffic at its point, then (trace records on)
 * parsed from its network header, tracked in this object's own mm_flows (keyed
 * by the tuple, the socket's network namespace and which end is the socket's:
 * abi/config.h, so both ends of a loopback connection keep their own state
 * and share a flow id) and aggregated, rate limited and
 * emitted as the tc traces are (flow.bpf.h, emit.bpf.h), as a struct
 * mm_endpoint_trace_record with the socket's owner.
 *
 * Maps: the shared ones (maps.bpf.h), mm_flows (LRU: evicts; flow.bpf.h;
 * flow.bpf.h's mm_drop_agg is left uncreated by the loader: no drops here),
 * mm_endpoint_owner (socket storage, freed with the socket; a failed
 * creation is counted in MM_STAT_STORAGE_FAILED and the socket's packets are
 * then traced with pid 0).
 */
#ifndef MESHMON_ENDPOINT_BPF_H
#define MESHMON_ENDPOINT_BPF_H

#include "parse.bpf.h"
#include "counters.bpf.h"
#include "flow.bpf.h"

#define MM_ENDPOINT_PASS 1 /* cgroup_skb and cgroup/sock: let it through */

/* socket(2)'s process, for sockets tcp_probe has no owner of. */
struct mm_endpoint_owner_state {
	__u32 pid;
	__u32 pad;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct mm_endpoint_owner_state);
} mm_endpoint_owner SEC(".maps");

/* The kernel's sk_buff of a cgroup_skb context (kernel 6.2+), for the socket's netns. */
extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;

SEC("cgroup/sock_create")
int mm_endpoint_sock_create(struct bpf_sock *sk)
{
	struct mm_endpoint_owner_state *o;

	if (sk->type == MM_SOCK_STREAM && sk->protocol == MM_IPPROTO_TCP)
		return MM_ENDPOINT_PASS;
	o = bpf_sk_storage_get(&mm_endpoint_owner, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!o) {
		mm_stat_add(MM_STAT_STORAGE_FAILED, 1);
		return MM_ENDPOINT_PASS;
	}
	o->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(o->comm, sizeof(o->comm));
	return MM_ENDPOINT_PASS;
}

/*
 * The process known for sk: the one that connected it or whose listener
 * accepted it (mm_probe_sk), that listens on it (mm_probe_listen), or that
 * created it (mm_endpoint_owner), in that order; else pid 0 and no comm.
 */
static __always_inline void mm_endpoint_process(struct bpf_sock *sk, struct mm_sock_owner *o)
{
	struct mm_probe_sk_state *st = bpf_sk_storage_get(&mm_probe_sk, sk, 0, 0);
	struct mm_probe_listen_state *ls;
	struct mm_endpoint_owner_state *eo;

	if (st && st->pid) {
		o->pid = st->pid;
		__builtin_memcpy(o->comm, st->comm, sizeof(o->comm));
		return;
	}
	ls = bpf_sk_storage_get(&mm_probe_listen, sk, 0, 0);
	if (ls && ls->origin == MM_PLS_ORIGIN_LISTEN) {
		o->pid = ls->pid;
		__builtin_memcpy(o->comm, ls->comm, sizeof(o->comm));
		return;
	}
	eo = bpf_sk_storage_get(&mm_endpoint_owner, sk, 0, 0);
	if (eo) {
		o->pid = eo->pid;
		__builtin_memcpy(o->comm, eo->comm, sizeof(o->comm));
	}
}

/* The network namespace inode of the socket the program runs for (skb->sk). */
static __always_inline __u32 mm_endpoint_netns(struct __sk_buff *skb)
{
	struct sk_buff *kskb = bpf_cast_to_kern_ctx(skb);
	struct sock *ksk = kskb->sk;

	return ksk ? BPF_CORE_READ(ksk, __sk_common.skc_net.net, ns.inum) : 0;
}

static __always_inline void mm_endpoint_emit(struct __sk_buff *skb, const struct mm_config *cfg,
					     __u64 now, __u8 point, const struct mm_parsed *p,
					     const struct mm_flow_result *flow, __u32 folded,
					     __u32 netns)
{
	struct bpf_sock *sk = skb->sk;
	__u32 cap = mm_cap_len(cfg, skb->len);
	struct mm_endpoint_trace_record rec = {
	    .trace =
		{
		    .cap = {.len_orig = skb->len, .cap_len = cap, .layer = MM_LAYER_NETWORK},
		    .tuple = p->tuple,
		    .ifindex = skb->ifindex,
		    .state = flow->state,
		    .tcp_flags = p->tcp_flags,
		    .icmp_type = p->icmp_type,
		    .icmp_code = p->icmp_code,
		    .parse_error = p->parse_error,
		    .folded = folded,
		},
	};

	mm_hdr_init_at(&rec.trace.hdr, MM_EVENT_TRACE, point, MM_SOURCE_CGROUP_SKB,
		       MM_TRACE_VERSION, flow->flow_id, now);
	rec.owner.cookie = bpf_get_socket_cookie(skb);
	rec.owner.cgroup_id = bpf_skb_cgroup_id(skb);
	rec.owner.netns = netns;
	if (sk)
		mm_endpoint_process(sk, &rec.owner);
	mm_output(skb, &rec, sizeof(rec), cap);
}

static __always_inline int mm_endpoint_handle(struct __sk_buff *skb, __u8 point)
{
	const struct mm_config *cfg = mm_config_get();
	struct mm_flow_result flow = {};
	struct mm_parsed p = {};
	struct mm_flow_key key;
	__u32 folded = 0, netns;
	__u64 now;

	mm_traffic_add(point, 0, skb->len);
	if (!cfg || !mm_type_enabled(cfg, MM_EVENT_TRACE) || mm_agg_low_suppresses(cfg, point))
		return MM_ENDPOINT_PASS;

	now = bpf_ktime_get_ns();
	mm_parse_network(skb, &p);
	if (p.parse_error != MM_PARSE_NONE && p.parse_error != MM_PARSE_NOT_IP)
		mm_stat_add(MM_STAT_PARSE_ERRORS, 1);
	netns = mm_endpoint_netns(skb);
	key.tuple = p.tuple;
	key.ifindex = netns;
	key.side = point == MM_POINT_FROM_ENDPOINT ? MM_FLOW_SIDE_SRC : MM_FLOW_SIDE_DST;
	/* Only fully parsed IP packets have a flow; the rest are always traced. */
	if (p.parse_error == MM_PARSE_NONE) {
		mm_flow_track(&key, p.tcp_flags, now, &flow);
		if (p.icmp_error)
			flow.state = MM_STATE_RELATED;
	}
	if (cfg->aggregation >= MM_AGG_MEDIUM && flow.entry &&
	    !mm_flow_aggregate(cfg, &flow, now, &folded))
		return MM_ENDPOINT_PASS;
	if (!mm_rate_allow_at(cfg, MM_EVENT_TRACE, now))
		return MM_ENDPOINT_PASS;
	mm_endpoint_emit(skb, cfg, now, point, &p, &flow, folded, netns);
	return MM_ENDPOINT_PASS;
}

SEC("cgroup_skb/ingress")
int mm_endpoint_ingress(struct __sk_buff *skb)
{
	return mm_endpoint_handle(skb, MM_POINT_TO_ENDPOINT);
}

SEC("cgroup_skb/egress")
int mm_endpoint_egress(struct __sk_buff *skb)
{
	return mm_endpoint_handle(skb, MM_POINT_FROM_ENDPOINT);
}

#endif /* MESHMON_ENDPOINT_BPF_H */
