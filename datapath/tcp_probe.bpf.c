// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tcp_probe: one report per TCP connection when it opens, periodically while
 * it lives (idle or not), and when it closes, in the spirit of Kmesh's
 * tcp_probe but with u64 byte counters, true srtt (kernel value >> 3) and
 * segment counters.
 *
 * Hooks (all on one cgroup v2 directory, except the iterator):
 * - cgroup/connect4, cgroup/connect6: process context. Store pid (tgid), comm,
 *   cgroup id and start time in the socket's storage, because sockops runs in
 *   softirq context and cannot see the process.
 * - sockops: TCP_LISTEN_CB runs inside listen(2), in the listening process:
 *   it stores that process (tgid, comm, cgroup id) on the listener in
 *   mm_probe_listen, a socket storage map created with BPF_F_CLONE, which the
 *   kernel copies to every child socket it clones from the listener
 *   (sk_clone_lock). TCP_CONNECT_CB sets BPF_SOCK_OPS_STATE_CB_FLAG so that a
 *   failed connect (SYN_SENT -> CLOSE) is reported with conn_success = 0;
 *   ACTIVE/PASSIVE_ESTABLISHED_CB record direction and start, emit the OPEN
 *   report and set the state callback; STATE_CB to TCP_CLOSE emits CLOSED with
 *   the final bpf_tcp_sock counters. PASSIVE_ESTABLISHED_CB runs in softirq
 *   with no process: an accepted connection takes the pid and comm of the
 *   listener's owner from its cloned mm_probe_listen entry (then deleted); a
 *   listener opened before meshmon has no entry, so its children get pid 0.
 * - iter/bpf_sk_storage_map over mm_probe_sk (mm_probe_iter_known): run by
 *   the loader every probe interval. Every socket the hooks above know, in
 *   every network namespace, without entering any: the periodic reports.
 * - iter/tcp (mm_probe_iter): run by the loader in one network namespace at
 *   a time, to find connections opened before meshmon. Reports every open
 *   connection (idle ones included) at most once per probe_interval_ns;
 *   sockets without storage that belong to the target cgroup (or a
 *   descendant) get storage created and are marked MM_PROBE_F_PREEXISTING
 *   (start 0, pid 0): they predate meshmon.
 * - tp_btf/inet_sock_set_state (tcp_probe_preexisting.bpf.h): the closed
 *   report of a connection opened before meshmon, whose state callback
 *   sockops never enabled.
 * Both iterators and the tracepoint assemble their records in one function,
 * mm_sock_report (the kernel socket read with CO-RE).
 *
 * Maps: the shared mm_events / mm_config_map / mm_stats / mm_rate_bucket
 * (maps.bpf.h), mm_probe_sk and mm_probe_listen (socket storage, freed with
 * the socket, so they cannot fill up; a failed creation is counted in
 * MM_STAT_STORAGE_FAILED and the connection is then reported without process
 * data).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#include "emit.bpf.h"
#include "sock_xlate.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define MM_AF_INET		     2
#define MM_AF_INET6		     10
#define MM_SOCK_STREAM		     1
#define MM_IPPROTO_TCP		     6
#define MM_PROBE_INTERVAL_DEFAULT_NS (5ull * 1000 * 1000 * 1000)

/* MM_TCP_STATES (abi/tables.h) are the running kernel's own values. */
#define X(name, value, ...) _Static_assert(MM_TCPS_##name == TCP_##name, "MM_TCPS_" #name);
MM_TCP_STATES(X)
#undef X

/* Set by the loader before load: the cgroup the programs are attached to. */
const volatile __u64 mm_target_cgroup_id = 0;
const volatile __u32 mm_target_cgroup_level = 0;

/* Private state flags of struct mm_probe_sk_state.state_flags. */
#define MM_PSK_KNOWN	   0x01 /* seen by connect or sockops */
#define MM_PSK_ESTABLISHED 0x02
#define MM_PSK_CLOSED	   0x04 /* final report sent */

struct mm_probe_sk_state {
	__u64 start_ns;
	__u64 last_report_ns;
	__u64 cgroup_id;
	__u32 pid;
	__u8 direction;
	__u8 flags;	  /* MM_PROBE_F_* as reported */
	__u8 state_flags; /* MM_PSK_* */
	__u8 pad;
	char comm[16];
	__u64 cookie;
	__u32 orig_daddr[4]; /* set at TCP_CONNECT_CB when a translator rewrote the connect */
	__u16 orig_dport;
	__u8 pad2[6];
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct mm_probe_sk_state);
} mm_probe_sk SEC(".maps");

/*
 * The owner of a listening socket, written at listen(2). BPF_F_CLONE: the
 * kernel copies the entry to each socket cloned from the listener (the
 * accepted connections), so the softirq-side PASSIVE_ESTABLISHED_CB can read
 * it on the child. A separate map rather than mm_probe_sk, which is not
 * cloned: a child never inherits per-connection state (start, flags, report
 * times) of its listener. origin marks who wrote the entry.
 */
#define MM_PLS_ORIGIN_LISTEN 0x4c53 /* "LS": written by TCP_LISTEN_CB */

struct mm_probe_listen_state {
	__u64 cgroup_id;
	__u32 pid;
	__u16 origin; /* MM_PLS_ORIGIN_* */
	__u16 pad;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
	__type(key, int);
	__type(value, struct mm_probe_listen_state);
} mm_probe_listen SEC(".maps");

/* cgroup_skb endpoint traces and cgroup/sock_create: they read the storage above. */
#include "endpoint.bpf.h"

/* --- tuple ---------------------------------------------------------------- */

static __always_inline int mm_is_v4_mapped(const __u32 *a)
{
	return a[0] == 0 && a[1] == 0 && a[2] == bpf_htonl(0x0000ffff);
}

static __always_inline void mm_tuple_set(struct mm_tuple *t, __u32 family, const __u32 *l6,
					 const __u32 *r6, __u32 l4, __u32 r4, __u16 lport,
					 __u16 rport)
{
	t->proto = MM_IPPROTO_TCP;
	t->sport = lport;
	t->dport = rport;
	if (family == MM_AF_INET6 && !(mm_is_v4_mapped(l6) && mm_is_v4_mapped(r6))) {
		t->family = MM_FAMILY_IPV6;
		t->ethertype = 0x86dd;
		for (int i = 0; i < 4; i++) {
			t->saddr[i] = l6[i];
			t->daddr[i] = r6[i];
		}
		return;
	}
	t->family = MM_FAMILY_IPV4;
	t->ethertype = 0x0800;
	if (family == MM_AF_INET6) {
		/* v4-mapped IPv6 socket: report as IPv4 */
		t->saddr[0] = l6[3];
		t->daddr[0] = r6[3];
	} else {
		t->saddr[0] = l4;
		t->daddr[0] = r4;
	}
}

/* --- record assembly ---------------------------------------------------------- */

static __always_inline void mm_rec_from_state(struct mm_tcp_probe_record *rec,
					      const struct mm_probe_sk_state *st, __u64 now)
{
	if (!st)
		return;
	rec->direction = st->direction;
	rec->flags = st->flags;
	rec->pid = st->pid;
	__builtin_memcpy(rec->comm, st->comm, sizeof(rec->comm));
	rec->start_ns = st->start_ns;
	rec->duration_ns = st->start_ns ? now - st->start_ns : 0;
	if (st->cgroup_id)
		rec->cgroup_id = st->cgroup_id;
	rec->socket_cookie = st->cookie;
	__builtin_memcpy(rec->orig_daddr, st->orig_daddr, sizeof(rec->orig_daddr));
	rec->orig_dport = st->orig_dport;
}

/* Kernel-side facts read through the struct sock (netns, cgroup v2 id). */
static __always_inline void mm_rec_from_sock(struct mm_tcp_probe_record *rec, struct sock *sk)
{
	rec->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	rec->cgroup_id = BPF_CORE_READ(sk, sk_cgrp_data.cgroup, kn, id);
}

static __always_inline void mm_probe_emit(void *ctx, const struct mm_config *cfg,
					  struct mm_tcp_probe_record *rec)
{
	if (!mm_rate_allow(cfg, MM_EVENT_TCP_PROBE))
		return;
	mm_output(ctx, rec, sizeof(*rec), 0);
}

/* --- connect4 / connect6 ---------------------------------------------------- */

static __always_inline void mm_on_connect(struct bpf_sock_addr *ctx)
{
	struct mm_probe_sk_state *st;
	struct bpf_sock *sk = ctx->sk;

	if (!sk || ctx->type != MM_SOCK_STREAM || ctx->protocol != MM_IPPROTO_TCP)
		return;
	st = bpf_sk_storage_get(&mm_probe_sk, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!st) {
		mm_stat_add(MM_STAT_STORAGE_FAILED, 1);
		return;
	}
	st->start_ns = bpf_ktime_get_ns();
	st->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(st->comm, sizeof(st->comm));
	st->cgroup_id = bpf_get_current_cgroup_id();
	st->direction = MM_PROBE_DIR_OUTBOUND;
	st->flags = 0;
	st->state_flags = MM_PSK_KNOWN;
}

SEC("cgroup/connect4")
int mm_probe_connect4(struct bpf_sock_addr *ctx)
{
	mm_on_connect(ctx);
	return 1;
}

SEC("cgroup/connect6")
int mm_probe_connect6(struct bpf_sock_addr *ctx)
{
	mm_on_connect(ctx);
	return 1;
}

/* --- sockops ------------------------------------------------------------------- */

/* The connection's addresses as sockops sees them, local as source. */
static __always_inline void mm_sockops_tuple(struct bpf_sock_ops *skops, struct mm_tuple *t)
{
	__u32 l6[4] = {skops->local_ip6[0], skops->local_ip6[1], skops->local_ip6[2],
		       skops->local_ip6[3]};
	__u32 r6[4] = {skops->remote_ip6[0], skops->remote_ip6[1], skops->remote_ip6[2],
		       skops->remote_ip6[3]};

	mm_tuple_set(t, skops->family, l6, r6, skops->local_ip4, skops->remote_ip4,
		     skops->local_port, bpf_ntohl(skops->remote_port));
}

static __always_inline void mm_sockops_report(struct bpf_sock_ops *skops,
					      const struct mm_config *cfg,
					      struct mm_probe_sk_state *st, __u8 state, __u64 now)
{
	struct mm_tcp_probe_record rec = {};
	struct bpf_sock *bsk = skops->sk;
	struct bpf_tcp_sock *tp;

	if (!bsk)
		return;
	tp = bpf_tcp_sock(bsk);
	if (!tp)
		return;
	mm_hdr_init(&rec.hdr, MM_EVENT_TCP_PROBE, state, MM_SOURCE_SOCKOPS, MM_TCP_PROBE_VERSION,
		    0);
	mm_sockops_tuple(skops, &rec.tuple);
	rec.tcp_state = skops->state;
	rec.bytes_sent = tp->bytes_acked;
	rec.bytes_received = tp->bytes_received;
	rec.segs_in = tp->segs_in;
	rec.segs_out = tp->segs_out;
	rec.data_segs_in = tp->data_segs_in;
	rec.data_segs_out = tp->data_segs_out;
	rec.srtt_us = tp->srtt_us >> 3;
	rec.min_rtt_us = tp->rtt_min;
	rec.snd_cwnd = tp->snd_cwnd;
	rec.total_retrans = tp->total_retrans;
	rec.lost_out = tp->lost_out;
	rec.delivered = tp->delivered;
	{
		/* A BTF pointer to the same socket: bpf_sock cannot be read through
		 * (pointer arithmetic on it is refused). Needs CAP_PERFMON. */
		struct tcp_sock *ktp = bpf_skc_to_tcp_sock(bsk);

		if (ktp)
			mm_rec_from_sock(&rec, (struct sock *)ktp);
	}
	rec.socket_cookie = bpf_get_socket_cookie(skops);
	mm_rec_from_state(&rec, st, now);
	if (st) {
		st->last_report_ns = now;
		st->cookie = rec.socket_cookie;
	}
	mm_probe_emit(skops, cfg, &rec);
}

/* listen(2) (__inet_listen_sk), in the listening process: remember who listens. */
static __always_inline void mm_on_listen(struct bpf_sock *sk)
{
	struct mm_probe_listen_state *ls;

	ls = bpf_sk_storage_get(&mm_probe_listen, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!ls) {
		mm_stat_add(MM_STAT_STORAGE_FAILED, 1);
		return;
	}
	ls->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(ls->comm, sizeof(ls->comm));
	ls->cgroup_id = bpf_get_current_cgroup_id();
	ls->origin = MM_PLS_ORIGIN_LISTEN;
}

/*
 * Inside connect(2), after every cgroup's connect4/6 program: the socket's
 * destination is final. When it is not what the application asked for, a
 * translator rewrote it: keep the original for tcp_probe and emit trace-sock.
 */
static __always_inline void mm_probe_xlate(struct bpf_sock_ops *skops,
					   struct mm_probe_sk_state *st)
{
	struct mm_xlate_dst orig = {};
	struct mm_tuple t = {};
	__u64 cookie = bpf_get_socket_cookie(skops);

	if (st) {
		/* a socket may connect again after a failed connect */
		__builtin_memset(st->orig_daddr, 0, sizeof(st->orig_daddr));
		st->orig_dport = 0;
		st->cookie = cookie;
	}
	mm_sockops_tuple(skops, &t);
	if (mm_xlate_syscall_dst(&orig) || !mm_xlate_differs(&orig, &t))
		return;
	if (st) {
		__builtin_memcpy(st->orig_daddr, orig.addr, sizeof(st->orig_daddr));
		st->orig_dport = orig.port;
	}
	mm_xlate_emit(skops, &orig, &t, cookie, MM_SOURCE_SOCKOPS);
}

/* Before the SYN: ask for state changes so a refused connect is seen. */
static __always_inline void mm_on_tcp_connect(struct bpf_sock_ops *skops, struct bpf_sock *sk,
					      __u64 now)
{
	struct mm_probe_sk_state *st;

	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_STATE_CB_FLAG);
	st = bpf_sk_storage_get(&mm_probe_sk, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	mm_probe_xlate(skops, st);
	if (!st) {
		mm_stat_add(MM_STAT_STORAGE_FAILED, 1);
		return;
	}
	if (!(st->state_flags & MM_PSK_KNOWN)) {
		/* connect hook not attached on this path: no process data */
		st->start_ns = now;
		st->state_flags = MM_PSK_KNOWN;
	}
	st->direction = MM_PROBE_DIR_OUTBOUND;
}

/* Accepted: the listener's owner, cloned with the socket, becomes the connection's. */
static __always_inline void mm_adopt_listener(struct bpf_sock *sk, struct mm_probe_sk_state *st)
{
	struct mm_probe_listen_state *ls = bpf_sk_storage_get(&mm_probe_listen, sk, 0, 0);

	if (ls && ls->origin == MM_PLS_ORIGIN_LISTEN) {
		st->pid = ls->pid;
		__builtin_memcpy(st->comm, ls->comm, sizeof(st->comm));
		st->cgroup_id = ls->cgroup_id;
	}
	if (ls) /* copied: free the child's clone */
		bpf_sk_storage_delete(&mm_probe_listen, sk);
}

/* ESTABLISHED, actively (connect) or passively (accept): report the connection open. */
static __always_inline void mm_on_established(struct bpf_sock_ops *skops, struct bpf_sock *sk,
					      __u32 op, __u64 now)
{
	const struct mm_config *cfg;
	struct mm_probe_sk_state *st;

	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_STATE_CB_FLAG);
	st = bpf_sk_storage_get(&mm_probe_sk, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!st) {
		mm_stat_add(MM_STAT_STORAGE_FAILED, 1);
	} else {
		if (!(st->state_flags & MM_PSK_KNOWN) || op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB) {
			/* Softirq context: the process is not known here. */
			st->start_ns = now;
			st->pid = 0;
			st->comm[0] = 0;
			st->cgroup_id = 0;
		}
		if (op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
			mm_adopt_listener(sk, st);
		st->direction = op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB ? MM_PROBE_DIR_OUTBOUND
									 : MM_PROBE_DIR_INBOUND;
		st->state_flags |= MM_PSK_KNOWN | MM_PSK_ESTABLISHED;
		st->flags |= MM_PROBE_F_CONN_SUCCESS;
	}
	cfg = mm_config_get();
	if (!cfg || !mm_type_enabled(cfg, MM_EVENT_TCP_PROBE))
		return;
	mm_sockops_report(skops, cfg, st, MM_PROBE_OPEN, now);
}

/* A state change: report the connection once, when it reaches CLOSE. */
static __always_inline void mm_on_state(struct bpf_sock_ops *skops, struct bpf_sock *sk,
					__u64 now)
{
	const struct mm_config *cfg;
	struct mm_probe_sk_state *st;

	if (skops->args[1] != MM_TCPS_CLOSE)
		return;
	st = bpf_sk_storage_get(&mm_probe_sk, sk, 0, 0);
	if (st) {
		if (st->state_flags & MM_PSK_CLOSED)
			return;
		st->state_flags |= MM_PSK_CLOSED;
	}
	cfg = mm_config_get();
	if (!cfg || !mm_type_enabled(cfg, MM_EVENT_TCP_PROBE))
		return;
	mm_sockops_report(skops, cfg, st, MM_PROBE_CLOSED, now);
}

SEC("sockops")
int mm_probe_sockops(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk;
	__u32 op = skops->op;
	__u64 now;

	if (op != BPF_SOCK_OPS_TCP_CONNECT_CB && op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB &&
	    op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB && op != BPF_SOCK_OPS_STATE_CB &&
	    op != BPF_SOCK_OPS_TCP_LISTEN_CB)
		return 1;
	if (skops->family != MM_AF_INET && skops->family != MM_AF_INET6)
		return 1;
	sk = skops->sk;
	if (!sk)
		return 1;
	now = bpf_ktime_get_ns();

	switch (op) {
	case BPF_SOCK_OPS_TCP_LISTEN_CB:
		mm_on_listen(sk);
		break;
	case BPF_SOCK_OPS_TCP_CONNECT_CB:
		mm_on_tcp_connect(skops, sk, now);
		break;
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		mm_on_established(skops, sk, op, now);
		break;
	case BPF_SOCK_OPS_STATE_CB:
		mm_on_state(skops, sk, now);
		break;
	}
	return 1;
}

/* --- iter/tcp: periodic reports, idle connections included ------------------- */

/* Whether sk belongs to the target cgroup or one of its descendants. */
static __always_inline int mm_sk_in_target(struct sock *sk)
{
	struct cgroup *cg = BPF_CORE_READ(sk, sk_cgrp_data.cgroup), *anc = NULL;
	__u32 level = mm_target_cgroup_level;
	int cg_level;

	if (!cg)
		return 0;
	cg_level = BPF_CORE_READ(cg, level);
	if (cg_level < 0 || (__u32)cg_level < level || level > 255)
		return 0;
	if (bpf_probe_read_kernel(&anc, sizeof(anc), &cg->ancestors[level]) || !anc)
		return 0;
	return BPF_CORE_READ(anc, kn, id) == mm_target_cgroup_id;
}

/*
 * The socket's storage if its connection is due a periodic report now, else
 * NULL. A connection without storage opened before meshmon: it gets storage
 * (and is due) when it belongs to the target cgroup.
 */
static __always_inline struct mm_probe_sk_state *
mm_iter_due(struct sock *sk, const struct mm_config *cfg, __u64 now)
{
	struct mm_probe_sk_state *st = bpf_sk_storage_get(&mm_probe_sk, sk, 0, 0);
	__u64 interval;

	if (!st) {
		if (!mm_sk_in_target(sk))
			return NULL;
		st = bpf_sk_storage_get(&mm_probe_sk, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
		if (!st) {
			mm_stat_add(MM_STAT_STORAGE_FAILED, 1);
			return NULL;
		}
		/* Opened before meshmon: direction, pid and start are unknown. */
		st->state_flags = MM_PSK_KNOWN | MM_PSK_ESTABLISHED;
		st->flags = MM_PROBE_F_PREEXISTING | MM_PROBE_F_CONN_SUCCESS;
		return st;
	}
	if (st->state_flags & MM_PSK_CLOSED)
		return NULL;
	if (!(st->state_flags & MM_PSK_ESTABLISHED))
		return NULL; /* still connecting: reported on open or close */
	interval = cfg->probe_interval_ns ? cfg->probe_interval_ns : MM_PROBE_INTERVAL_DEFAULT_NS;
	/*
	 * The agent runs the iterator once per interval; a tick that comes a
	 * little early must not skip a whole interval, so a connection is due
	 * once 7/8 of the interval has passed.
	 */
	if (now - st->last_report_ns < interval - interval / 8)
		return NULL;
	return st;
}

/* Tuple and counters of a full TCP socket, read with CO-RE (equal to TCP_INFO). */
static __always_inline void mm_rec_from_tcp_sock(struct mm_tcp_probe_record *rec,
						 struct sock_common *skc, struct tcp_sock *tp)
{
	__u32 l6[4] = {}, r6[4] = {};
	__u16 family = BPF_CORE_READ(skc, skc_family);

	if (family == MM_AF_INET6) {
		BPF_CORE_READ_INTO(&l6, skc, skc_v6_rcv_saddr.in6_u.u6_addr32);
		BPF_CORE_READ_INTO(&r6, skc, skc_v6_daddr.in6_u.u6_addr32);
	}
	/*
	 * The local port from inet_sport, not skc_num: on the way to TCP_CLOSE
	 * the kernel releases the port (inet_put_port zeroes skc_num) before
	 * inet_sock_set_state fires; inet_sport keeps it.
	 */
	mm_tuple_set(&rec->tuple, family, l6, r6, BPF_CORE_READ(skc, skc_rcv_saddr),
		     BPF_CORE_READ(skc, skc_daddr),
		     bpf_ntohs(BPF_CORE_READ((struct inet_sock *)tp, inet_sport)),
		     bpf_ntohs(BPF_CORE_READ(skc, skc_dport)));
	rec->bytes_sent = BPF_CORE_READ(tp, bytes_acked);
	rec->bytes_received = BPF_CORE_READ(tp, bytes_received);
	rec->segs_in = BPF_CORE_READ(tp, segs_in);
	rec->segs_out = BPF_CORE_READ(tp, segs_out);
	rec->data_segs_in = BPF_CORE_READ(tp, data_segs_in);
	rec->data_segs_out = BPF_CORE_READ(tp, data_segs_out);
	rec->srtt_us = BPF_CORE_READ(tp, srtt_us) >> 3;
	rec->min_rtt_us = BPF_CORE_READ(tp, rtt_min.s[0].v);
	rec->snd_cwnd = BPF_CORE_READ(tp, snd_cwnd);
	rec->total_retrans = BPF_CORE_READ(tp, total_retrans);
	rec->lost_out = BPF_CORE_READ(tp, lost_out);
	rec->delivered = BPF_CORE_READ(tp, delivered);
}

/*
 * The one place a periodic record is assembled (both iterators), and the
 * closed record of a connection opened before meshmon: the kernel socket read
 * with CO-RE. st is the connection's state (storage, or a copy on the stack).
 */
static __always_inline void mm_sock_report(void *ctx, const struct mm_config *cfg,
					   struct sock_common *skc, struct tcp_sock *tp,
					   struct mm_probe_sk_state *st, __u8 subtype, __u8 source,
					   __u8 tcp_state, __u64 now)
{
	struct mm_tcp_probe_record rec = {};

	st->last_report_ns = now;
	mm_hdr_init(&rec.hdr, MM_EVENT_TCP_PROBE, subtype, source, MM_TCP_PROBE_VERSION, 0);
	mm_rec_from_tcp_sock(&rec, skc, tp);
	rec.tcp_state = tcp_state;
	mm_rec_from_sock(&rec, (struct sock *)tp);
	mm_rec_from_state(&rec, st, now);
	mm_probe_emit(ctx, cfg, &rec);
}

/* A periodic report of the socket if its connection is open and due. */
static __always_inline void mm_periodic_report(void *ctx, struct sock_common *skc)
{
	const struct mm_config *cfg;
	struct mm_probe_sk_state *st;
	struct tcp_sock *tp;
	__u64 now;
	__u8 state;

	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return; /* request or timewait socket */
	state = BPF_CORE_READ(skc, skc_state);
	if (state == MM_TCPS_LISTEN || state == MM_TCPS_CLOSE)
		return;
	cfg = mm_config_get();
	if (!cfg || !mm_type_enabled(cfg, MM_EVENT_TCP_PROBE))
		return;
	now = bpf_ktime_get_ns();
	st = mm_iter_due((struct sock *)tp, cfg, now);
	if (st)
		mm_sock_report(ctx, cfg, skc, tp, st, MM_PROBE_PERIODIC, MM_SOURCE_TCP_ITER, state,
			       now);
}

/* Every TCP socket of the caller's network namespace: finds connections that predate meshmon. */
SEC("iter/tcp")
int mm_probe_iter(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common; /* read once: null-checked */

	if (skc)
		mm_periodic_report(ctx, skc);
	return 0;
}

/*
 * Every socket with an mm_probe_sk entry, whatever its network namespace: the
 * connections the hooks (or an iter/tcp pass) already know. The kernel walks
 * the map's buckets under RCU only, so mm_iter_due may look the entry up again.
 */
SEC("iter/bpf_sk_storage_map")
int mm_probe_iter_known(struct bpf_iter__bpf_sk_storage_map *ctx)
{
	struct sock *sk = ctx->sk;

	if (sk && ctx->value)
		mm_periodic_report(ctx, &sk->__sk_common);
	return 0;
}

#include "tcp_probe_preexisting.bpf.h"
