// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * trace-sock for UDP: a connect or sendmsg whose destination a socket-layer
 * translator rewrote (TCP is seen by tcp_probe's sockops at TCP_CONNECT_CB;
 * UDP has no such callback). Loaded only when trace-sock is among the agent's
 * --events: the egress program runs for every packet that a socket of the
 * cgroup sends.
 *
 * Hooks, all on the cgroup tcp_probe is attached to:
 * - cgroup/connect4, connect6, sendmsg4, sendmsg6 (UDP sockets only; process
 *   context): what the application asked for, read from the syscall's own
 *   arguments (sock_xlate.bpf.h), is stored on the socket as pending with
 *   the thread that asked. These programs may run before or after a
 *   translator's: only the user's copy of the address is read here.
 * - cgroup_skb/egress: the first packet of a socket with a pending entry,
 *   sent by that same thread (so in the same syscall, after every
 *   connect/sendmsg program of every cgroup), carries the destination really
 *   used; when it differs from the pending one, one trace-sock record. The
 *   entry is deleted either way. Always returns 1 (never drops).
 *
 * Maps: the shared mm_events / mm_config_map / mm_stats / mm_rate_bucket /
 * mm_type_stats (maps.bpf.h); mm_xlate_pending, socket storage freed with
 * the socket (it cannot fill up; a failed creation is counted in
 * MM_STAT_STORAGE_FAILED and that message goes unreported).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#include "emit.bpf.h"
#include "sock_xlate.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define MM_XLATE_IPPROTO_UDP 17

struct mm_xlate_pending {
	__u64 thread; /* (tgid << 32) | pid of the thread that asked */
	struct mm_xlate_dst orig;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct mm_xlate_pending);
} mm_xlate_pending SEC(".maps");

static __always_inline __u64 mm_xlate_thread(void)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return ((__u64)task->tgid << 32) | (__u32)task->pid;
}

/* A UDP connect or sendmsg: remember what the application asked for. */
static __always_inline void mm_xlate_mark(struct bpf_sock_addr *ctx)
{
	struct mm_xlate_pending *p;
	struct mm_xlate_dst orig = {};

	if (ctx->protocol != MM_XLATE_IPPROTO_UDP || !ctx->sk)
		return;
	if (mm_xlate_syscall_dst(&orig))
		return;
	p = bpf_sk_storage_get(&mm_xlate_pending, ctx->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!p) {
		mm_stat_add(MM_STAT_STORAGE_FAILED, 1);
		return;
	}
	p->thread = mm_xlate_thread();
	p->orig = orig;
}

SEC("cgroup/connect4")
int mm_xlate_connect4(struct bpf_sock_addr *ctx)
{
	mm_xlate_mark(ctx);
	return 1;
}

SEC("cgroup/connect6")
int mm_xlate_connect6(struct bpf_sock_addr *ctx)
{
	mm_xlate_mark(ctx);
	return 1;
}

SEC("cgroup/sendmsg4")
int mm_xlate_sendmsg4(struct bpf_sock_addr *ctx)
{
	mm_xlate_mark(ctx);
	return 1;
}

SEC("cgroup/sendmsg6")
int mm_xlate_sendmsg6(struct bpf_sock_addr *ctx)
{
	mm_xlate_mark(ctx);
	return 1;
}

/* The packet's addresses and UDP ports: 0, or -1 when it is not plain UDP. */
static __always_inline int mm_xlate_packet_tuple(struct __sk_buff *skb, struct mm_tuple *t)
{
	struct udphdr uh;
	__u32 l4_off;

	if (skb->protocol == bpf_htons(0x0800)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) || ip.protocol != MM_XLATE_IPPROTO_UDP)
			return -1;
		t->family = MM_FAMILY_IPV4;
		t->ethertype = 0x0800;
		t->saddr[0] = ip.saddr;
		t->daddr[0] = ip.daddr;
		l4_off = ip.ihl * 4;
	} else if (skb->protocol == bpf_htons(0x86dd)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)) ||
		    ip6.nexthdr != MM_XLATE_IPPROTO_UDP)
			return -1;
		t->family = MM_FAMILY_IPV6;
		t->ethertype = 0x86dd;
		__builtin_memcpy(t->saddr, ip6.saddr.in6_u.u6_addr32, sizeof(t->saddr));
		__builtin_memcpy(t->daddr, ip6.daddr.in6_u.u6_addr32, sizeof(t->daddr));
		l4_off = sizeof(ip6);
	} else {
		return -1;
	}
	if (bpf_skb_load_bytes(skb, l4_off, &uh, sizeof(uh)))
		return -1;
	t->proto = MM_XLATE_IPPROTO_UDP;
	t->sport = bpf_ntohs(uh.source);
	t->dport = bpf_ntohs(uh.dest);
	return 0;
}

SEC("cgroup_skb/egress")
int mm_xlate_egress(struct __sk_buff *skb)
{
	struct mm_xlate_pending *p;
	struct mm_xlate_dst orig;
	struct mm_tuple t = {};
	struct bpf_sock *sk = skb->sk;

	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk || sk->protocol != MM_XLATE_IPPROTO_UDP)
		return 1;
	p = bpf_sk_storage_get(&mm_xlate_pending, sk, 0, 0);
	if (!p || p->thread != mm_xlate_thread())
		return 1; /* nothing asked, or not in the asking syscall */
	orig = p->orig;
	bpf_sk_storage_delete(&mm_xlate_pending, sk);
	if (mm_xlate_packet_tuple(skb, &t) || !mm_xlate_differs(&orig, &t))
		return 1;
	mm_xlate_emit(skb, &orig, &t, bpf_get_socket_cookie(skb), MM_SOURCE_CGROUP_SKB);
	return 1;
}
