/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Deny rules for the tc programs. Userspace (datapath.c) compiles the rule set
 * into three maps:
 * - mm_deny_rules: array of MM_DENY_MAX struct mm_deny_rule, slot i = bit i;
 * - mm_deny_src, mm_deny_dst: LPM tries over 128-bit addresses (IPv4 mapped as
 *   ::ffff:a.b.c.d), each prefix mapping to the bitmap of every rule whose
 *   source (destination) prefix contains it; rules without an address
 *   constraint are in every entry and at ::/0.
 * So src_bits & dst_bits are the rules whose addresses match, and the lowest
 * of those whose protocol, ports, direction and family match wins.
 *
 * Full maps: the tries hold at most 1024 prefixes; the loader refuses a rule
 * set that needs more (the array has exactly MM_DENY_MAX slots).
 */
#ifndef MESHMON_DENY_BPF_H
#define MESHMON_DENY_BPF_H

#include "emit.bpf.h"

#define MM_DENY_LPM_MAX 1024

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MM_DENY_MAX);
	__type(key, __u32);
	__type(value, struct mm_deny_rule);
} mm_deny_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, MM_DENY_LPM_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mm_lpm_key);
	__type(value, __u64);
} mm_deny_src SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, MM_DENY_LPM_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mm_lpm_key);
	__type(value, __u64);
} mm_deny_dst SEC(".maps");

static __always_inline void mm_lpm_key_of(struct mm_lpm_key *k, const struct mm_tuple *t,
					  const __u32 *addr)
{
	k->prefixlen = 128;
	if (t->family == MM_FAMILY_IPV4) {
		__u32 *w = (__u32 *)k->addr;

		w[0] = 0;
		w[1] = 0;
		w[2] = bpf_htonl(0x0000ffff);
		w[3] = addr[0];
	} else {
		__builtin_memcpy(k->addr, addr, 16);
	}
}

struct mm_deny_walk {
	const struct mm_tuple *t;
	__u64 bits; /* candidates not looked at yet */
	__u32 dir;
	__s32 slot; /* the matching slot, or -1 */
};

/* The index of the lowest set bit of x (x != 0). BPF has no such instruction. */
static __always_inline __u32 mm_lowest_bit(__u64 x)
{
	__u32 n = 0;

	if (!(x & 0xffffffffull)) {
		n += 32;
		x >>= 32;
	}
	if (!(x & 0xffff)) {
		n += 16;
		x >>= 16;
	}
	if (!(x & 0xff)) {
		n += 8;
		x >>= 8;
	}
	if (!(x & 0xf)) {
		n += 4;
		x >>= 4;
	}
	if (!(x & 0x3)) {
		n += 2;
		x >>= 2;
	}
	if (!(x & 0x1))
		n += 1;
	return n;
}

/*
 * The lowest candidate left, as a bpf_loop() callback: an open-coded loop over
 * 64 bits with a map lookup each made the verifier walk every path through it
 * (over a million instructions); a callback is verified once. Each call takes
 * the lowest remaining bit, so the loop runs once per candidate rule (in
 * increasing order: the lowest matching bit still wins), not 64 times.
 */
static long mm_deny_walk_one(__u64 i, void *ctx)
{
	struct mm_deny_walk *w = ctx;
	const struct mm_tuple *t = w->t;
	const struct mm_deny_rule *r;
	__u32 slot;

	if (!w->bits)
		return 1; /* no candidate left: no match */
	slot = mm_lowest_bit(w->bits);
	w->bits &= w->bits - 1;
	r = bpf_map_lookup_elem(&mm_deny_rules, &slot);
	if (!r || !r->id)
		return 0;
	if (r->proto && r->proto != t->proto)
		return 0;
	if (r->family && r->family != t->family)
		return 0;
	if (r->sport && r->sport != t->sport)
		return 0;
	if (r->dport && r->dport != t->dport)
		return 0;
	if (r->direction != MM_DIR_ANY && r->direction != w->dir)
		return 0;
	w->slot = slot;
	return 1; /* lowest matching bit wins: stop */
}

/*
 * Whether any rule is loaded: userspace (deny.c) fills the slots from 0 up and
 * clears them all before writing a new set, so an empty slot 0 means none.
 * One array lookup (inlined by the verifier) instead of an LPM lookup per
 * packet when there are no rules, the common case.
 */
static __always_inline int mm_deny_loaded(void)
{
	__u32 zero = 0;
	const struct mm_deny_rule *r = bpf_map_lookup_elem(&mm_deny_rules, &zero);

	return r && r->id;
}

/*
 * The deny rule matching t in direction dir (MM_DIR_INGRESS / MM_DIR_EGRESS),
 * or NULL. Only IP packets with known addresses can match.
 */
static __always_inline const struct mm_deny_rule *mm_deny_match(const struct mm_tuple *t, __u8 dir)
{
	struct mm_deny_walk w = {.t = t, .dir = dir, .slot = -1};
	struct mm_lpm_key key;
	__u64 *src, *dst;
	__u32 slot;

	if (t->family != MM_FAMILY_IPV4 && t->family != MM_FAMILY_IPV6)
		return NULL;
	if (!mm_deny_loaded())
		return NULL;
	mm_lpm_key_of(&key, t, t->saddr);
	src = bpf_map_lookup_elem(&mm_deny_src, &key);
	if (!src || !*src)
		return NULL;
	mm_lpm_key_of(&key, t, t->daddr);
	dst = bpf_map_lookup_elem(&mm_deny_dst, &key);
	if (!dst)
		return NULL;
	w.bits = *src & *dst;
	if (!w.bits)
		return NULL;
	bpf_loop(MM_DENY_MAX, mm_deny_walk_one, &w, 0);
	if (w.slot < 0)
		return NULL;
	slot = w.slot;
	return bpf_map_lookup_elem(&mm_deny_rules, &slot);
}

#endif /* MESHMON_DENY_BPF_H */
