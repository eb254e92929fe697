/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The closed report of a TCP connection opened before meshmon attached
 * (included at the end of tcp_probe.bpf.c, whose maps and record assembly it
 * uses). sockops reports a connection's close from its state callback, which
 * it enables when it sees the connection open; a connection that was already
 * open has none. tp_btf/inet_sock_set_state runs on every TCP state change of
 * the host, whatever enabled what; it acts on changes to TCP_CLOSE only, of
 * connections that were established (not listeners, not failed connects):
 * - with an mm_probe_sk entry marked MM_PROBE_F_PREEXISTING (an iterator pass
 *   found the connection): the final report, once (MM_PSK_CLOSED);
 * - with no entry, when the socket belongs to the target cgroup: a
 *   connection no pass has seen yet (it closed before the first one, or lives
 *   in a namespace no pass covers); reported as preexisting, from a state on
 *   the stack (no storage is created for a socket that is going away).
 * Every other socket costs one storage lookup on its way to TCP_CLOSE, and
 * every other state change one compare. The tracepoint fires before the
 * kernel stores the new state: the record's tcp_state is newstate.
 */
#ifndef MESHMON_TCP_PROBE_PREEXISTING_BPF_H
#define MESHMON_TCP_PROBE_PREEXISTING_BPF_H

/* The state a connection leaves for TCP_CLOSE says whether it was ever established. */
static __always_inline int mm_was_established(int oldstate)
{
	return oldstate != MM_TCPS_CLOSE && oldstate != MM_TCPS_LISTEN &&
	       oldstate != MM_TCPS_SYN_SENT && oldstate != MM_TCPS_SYN_RECV &&
	       oldstate != MM_TCPS_NEW_SYN_RECV;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(mm_probe_preexisting_close, const struct sock *csk, const int oldstate,
	     const int newstate)
{
	struct mm_probe_sk_state unseen = {}, *st;
	struct sock *sk = (struct sock *)csk;
	const struct mm_config *cfg;
	struct tcp_sock *tp;

	if (newstate != MM_TCPS_CLOSE || !mm_was_established(oldstate))
		return 0;
	if (BPF_CORE_READ(sk, sk_protocol) != MM_IPPROTO_TCP)
		return 0;
	st = bpf_sk_storage_get(&mm_probe_sk, sk, 0, 0);
	if (st) {
		/* Known from sockops: its own state callback reports the close. */
		if (!(st->flags & MM_PROBE_F_PREEXISTING) || (st->state_flags & MM_PSK_CLOSED))
			return 0;
		st->state_flags |= MM_PSK_CLOSED;
	} else {
		if (!mm_sk_in_target(sk))
			return 0;
		unseen.flags = MM_PROBE_F_PREEXISTING | MM_PROBE_F_CONN_SUCCESS;
		st = &unseen;
	}
	cfg = mm_config_get();
	if (!cfg || !mm_type_enabled(cfg, MM_EVENT_TCP_PROBE))
		return 0;
	tp = bpf_skc_to_tcp_sock(sk);
	if (!tp)
		return 0;
	mm_sock_report(ctx, cfg, &sk->__sk_common, tp, st, MM_PROBE_CLOSED, MM_SOURCE_SOCK_STATE,
		       MM_TCPS_CLOSE, bpf_ktime_get_ns());
	return 0;
}

#endif /* MESHMON_TCP_PROBE_PREEXISTING_BPF_H */
