/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Socket-layer translation (socket LB) detection, shared by tcp_probe.bpf.c
 * (TCP, at sockops TCP_CONNECT_CB) and sock_xlate.bpf.c (UDP). Needs
 * vmlinux.h, bpf_core_read.h and bpf_tracing.h before it, and emit.bpf.h.
 *
 * A translator (Kmesh, Cilium's socket LB, any cgroup connect4/6 or
 * sendmsg4/6 program) rewrites the kernel's copy of the sockaddr the
 * application passed; the application's own copy, in user memory, stays as
 * it was. So the destination the application asked for is read from the
 * current syscall's arguments (the task's saved user registers and the
 * sockaddr they point to), and compared with what the socket really uses,
 * read at a point that comes after every cgroup's connect/sendmsg program:
 * TCP_CONNECT_CB for TCP (inside connect(2), after all of them), the packet
 * at cgroup_skb egress for UDP. Neither depends on the order of the cgroup
 * programs, nor on which cgroup the translator is attached to.
 *
 * Nothing runs on syscalls that do not reach these hooks: no syscall
 * tracepoint is used. Limits (docs/records.md): the syscall numbers are
 * x86-64's (other architectures, 32-bit tasks, io_uring and in-kernel
 * connects are never reported: the original address is not known there);
 * sendmmsg(2) is not decoded.
 */
#ifndef MESHMON_SOCK_XLATE_BPF_H
#define MESHMON_SOCK_XLATE_BPF_H

#define MM_XLATE_AF_INET  2
#define MM_XLATE_AF_INET6 10

#if defined(__TARGET_ARCH_x86)
#define MM_XLATE_NR_CONNECT 42
#define MM_XLATE_NR_SENDTO  44
#define MM_XLATE_NR_SENDMSG 46
#define MM_XLATE_SYSCALL_NR(regs) BPF_CORE_READ(regs, orig_ax)
#else
/* No syscall decoding on this architecture: the original is never known. */
#define MM_XLATE_NR_CONNECT (-2)
#define MM_XLATE_NR_SENDTO  (-2)
#define MM_XLATE_NR_SENDMSG (-2)
#define MM_XLATE_SYSCALL_NR(regs) (-1)
#endif

/* A destination: the family's address in network order (IPv4 in addr[0]). */
struct mm_xlate_dst {
	__u32 addr[4];
	__u16 port; /* host order */
	__u8 family; /* MM_FAMILY_* */
	__u8 hook;   /* enum mm_sock_hook */
};

/* The sockaddr at uaddr in user memory into d: 0, or -1 when not IPv4/IPv6. */
static __always_inline int mm_xlate_read_sockaddr(const void *uaddr, struct mm_xlate_dst *d)
{
	struct sockaddr_in6 sa6 = {};

	/* sockaddr_in first: a 16-byte buffer must not be read past its end. */
	if (!uaddr || bpf_probe_read_user(&sa6, sizeof(struct sockaddr_in), uaddr))
		return -1;
	if (sa6.sin6_family == MM_XLATE_AF_INET) {
		struct sockaddr_in *sa4 = (struct sockaddr_in *)&sa6;

		d->family = MM_FAMILY_IPV4;
		d->addr[0] = sa4->sin_addr.s_addr;
		d->port = bpf_ntohs(sa4->sin_port);
		return 0;
	}
	if (sa6.sin6_family != MM_XLATE_AF_INET6 || bpf_probe_read_user(&sa6, sizeof(sa6), uaddr))
		return -1;
	d->family = MM_FAMILY_IPV6;
	__builtin_memcpy(d->addr, sa6.sin6_addr.in6_u.u6_addr32, sizeof(d->addr));
	d->port = bpf_ntohs(sa6.sin6_port);
	return 0;
}

/*
 * The destination the application passed to the syscall the current task is
 * in (connect, sendto or sendmsg with a name): 0, or -1 when it is not one of
 * them or its address is not IPv4/IPv6. Process context only.
 */
static __always_inline int mm_xlate_syscall_dst(struct mm_xlate_dst *d)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	const void *uaddr = NULL;
	long nr;

	if (!regs)
		return -1;
	nr = MM_XLATE_SYSCALL_NR(regs);
	if (nr == MM_XLATE_NR_CONNECT) {
		d->hook = MM_SOCK_HOOK_CONNECT;
		uaddr = (const void *)PT_REGS_PARM2_CORE_SYSCALL(regs);
	} else if (nr == MM_XLATE_NR_SENDTO) {
		d->hook = MM_SOCK_HOOK_SENDMSG;
		uaddr = (const void *)PT_REGS_PARM5_CORE_SYSCALL(regs);
	} else if (nr == MM_XLATE_NR_SENDMSG) {
		const struct user_msghdr *msg = (const void *)PT_REGS_PARM2_CORE_SYSCALL(regs);

		d->hook = MM_SOCK_HOOK_SENDMSG;
		if (!msg || bpf_probe_read_user(&uaddr, sizeof(uaddr), &msg->msg_name))
			return -1;
	} else {
		return -1;
	}
	return mm_xlate_read_sockaddr(uaddr, d);
}

/*
 * Whether orig differs from where the tuple goes (daddr, dport). An IPv4
 * address an IPv6 socket was given v4-mapped compares as IPv4 when the tuple
 * reports the connection as IPv4 (mm_tuple_set); orig is rewritten to the
 * tuple's family then, so that records carry it in that family.
 */
static __always_inline int mm_xlate_differs(struct mm_xlate_dst *orig, const struct mm_tuple *t)
{
	if (orig->family == MM_FAMILY_IPV6 && t->family == MM_FAMILY_IPV4 && !orig->addr[0] &&
	    !orig->addr[1] && orig->addr[2] == bpf_htonl(0x0000ffff)) {
		orig->addr[0] = orig->addr[3];
		orig->addr[1] = orig->addr[2] = orig->addr[3] = 0;
		orig->family = MM_FAMILY_IPV4;
	}
	if (orig->family != t->family)
		return 1;
	if (orig->port != t->dport || orig->addr[0] != t->daddr[0])
		return 1;
	return orig->family == MM_FAMILY_IPV6 &&
	       (orig->addr[1] != t->daddr[1] || orig->addr[2] != t->daddr[2] ||
		orig->addr[3] != t->daddr[3]);
}

/* The current task as a socket's owner: tgid, comm, cgroup v2 id, netns. */
static __always_inline void mm_xlate_owner_current(struct mm_sock_owner *o)
{
	struct task_struct *task = bpf_get_current_task_btf();

	o->pid = task->tgid;
	bpf_probe_read_kernel(o->comm, sizeof(o->comm), task->comm);
	o->cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	o->netns = BPF_CORE_READ(task, nsproxy, net_ns, ns.inum);
}

/* Emit one trace-sock record, when the type is on and the rate limits allow it. */
static __always_inline void mm_xlate_emit(void *ctx, const struct mm_xlate_dst *orig,
					  const struct mm_tuple *t, __u64 cookie, __u8 source)
{
	const struct mm_config *cfg = mm_config_get();
	struct mm_trace_sock_record rec = {};

	if (!cfg || !mm_type_enabled(cfg, MM_EVENT_TRACE_SOCK) ||
	    !mm_rate_allow(cfg, MM_EVENT_TRACE_SOCK))
		return;
	mm_hdr_init(&rec.hdr, MM_EVENT_TRACE_SOCK, orig->hook, source, MM_TRACE_SOCK_VERSION, 0);
	rec.tuple = *t;
	mm_xlate_owner_current(&rec.owner);
	rec.owner.cookie = cookie;
	__builtin_memcpy(rec.orig_daddr, orig->addr, sizeof(rec.orig_daddr));
	rec.orig_dport = orig->port;
	mm_output(ctx, &rec, sizeof(rec), 0);
}

#endif /* MESHMON_SOCK_XLATE_BPF_H */
