/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One record per drop: the skb that meshmon's own tc deny verdict dropped.
 *
 * A packet a deny rule drops is reported once by the tc program (reason
 * POLICY_DENIED) and would be reported again by kernel_drops.bpf.c, because
 * the kernel frees the skb it was told to drop with reason TC_INGRESS or
 * TC_EGRESS. The tc program records the kernel address of that skb in
 * mm_verdict_skb (per CPU, shared by both objects: maps.bpf.h) just before it
 * returns TC_ACT_SHOT; the kernel frees the skb synchronously, on the same
 * CPU, right after the tc program returns (sch_handle_ingress/egress, tcx),
 * so the kfree_skb program finds exactly that pointer in its CPU's slot,
 * clears it and reports nothing (counted in MM_STAT_KDROP_MERGED). The
 * pointer identifies the very skb: a drop of another skb, by another tc
 * program, never matches and is still reported.
 *
 * The kernel address comes from the kfunc bpf_cast_to_kern_ctx(), which every
 * program type may call (kernel 6.2 and later): for tc the context is the
 * struct sk_buff itself, the same pointer the kfree_skb tracepoint receives.
 */
#ifndef MESHMON_VERDICT_BPF_H
#define MESHMON_VERDICT_BPF_H

#include "maps.bpf.h"

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;

/*
 * tc side: the program is about to return TC_ACT_SHOT for ctx (its struct
 * __sk_buff). The slot holds one skb: a deny always overwrites it, and the
 * free that consumes it comes before the next packet on this CPU.
 */
static __always_inline void mm_verdict_mark_shot(void *ctx)
{
	__u32 zero = 0;
	__u64 *slot = bpf_map_lookup_elem(&mm_verdict_skb, &zero);

	if (slot)
		*slot = (__u64)(long)bpf_cast_to_kern_ctx(ctx);
}

/*
 * kfree_skb side: 1 when skb is the one this CPU's tc program just dropped by
 * its own verdict (the slot is cleared then), else 0 (the slot is kept).
 */
static __always_inline int mm_verdict_take(__u64 skb)
{
	__u32 zero = 0;
	__u64 *slot = bpf_map_lookup_elem(&mm_verdict_skb, &zero);

	if (!slot || !skb || *slot != skb)
		return 0;
	*slot = 0;
	return 1;
}

#endif /* MESHMON_VERDICT_BPF_H */
