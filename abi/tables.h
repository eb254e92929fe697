/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The tables of meshmon's record ABI, each defined once as an X-macro list and
 * expanded into the BPF enums (here), the userspace name tables (names.c) and
 * the protobuf enums (proto/meshmon.proto, checked by tests/test_enum_agreement.c).
 *
 * Values are append-only: never renumber, never reuse. A retired value stays in
 * its list with a name starting "RETIRED_" so that nothing takes its number.
 *
 * Included by BPF programs and by userspace alike: no types, only lists.
 */
#ifndef MESHMON_TABLES_H
#define MESHMON_TABLES_H

/* Record types: X(NAME, value, "name"). Cilium's numbers where they overlap. */
#define MM_EVENT_TYPES(X)                  \
	X(DROP, 1, "drop")                 \
	X(DEBUG, 2, "debug")               \
	X(CAPTURE, 3, "capture")           \
	X(TRACE, 4, "trace")               \
	X(POLICY_VERDICT, 5, "policy-verdict") \
	X(TRACE_SOCK, 7, "trace-sock")     \
	X(TCP_PROBE, 8, "tcp_probe")

/* What produced a record (notify header `source`): X(NAME, value, "name"). */
#define MM_SOURCES(X)                      \
	X(TC, 1, "tc")                     \
	X(KERNEL, 2, "kernel")             \
	X(SOCKOPS, 3, "sockops")           \
	X(CGROUP_SKB, 4, "cgroup_skb")     \
	X(TCP_ITER, 5, "tcp_iter")         \
	X(CONNECT, 6, "connect")           \
	X(SOCK_STATE, 7, "sock_state")     /* tp_btf/inet_sock_set_state */

/*
 * Drop reasons of meshmon's own datapath: X(NAME, value, "human text").
 * Kernel drops (source KERNEL) carry the running kernel's enum skb_drop_reason
 * instead, named from its BTF at run time, because its values differ between
 * kernels.
 */
#define MM_DROP_REASONS(X)                 \
	X(POLICY_DENIED, 1, "Policy denied")

/* Trace observation points (subtype of trace, drop and capture records). */
#define MM_TRACE_POINTS(X)                           \
	X(FROM_NETWORK, 1, "from-network", "<-", "network") \
	X(TO_NETWORK, 2, "to-network", "->", "network")     \
	X(FROM_STACK, 3, "from-stack", "->", "stack")       \
	X(TO_STACK, 4, "to-stack", "<-", "stack")           \
	X(KERNEL, 5, "kernel", "xx", "kernel")              \
	X(FROM_SOCKET, 6, "from-socket", "->", "socket")    \
	X(TO_SOCKET, 7, "to-socket", "<-", "socket")        \
	X(TO_ENDPOINT, 8, "to-endpoint", "->", "endpoint")  \
	X(FROM_ENDPOINT, 9, "from-endpoint", "<-", "endpoint")

/* Connection-tracking state of a traced packet's flow. */
#define MM_TRACE_STATES(X)                 \
	X(UNKNOWN, 0, "unknown")           \
	X(NEW, 1, "new")                   \
	X(ESTABLISHED, 2, "established")   \
	X(REPLY, 3, "reply")               \
	X(RELATED, 4, "related")

/*
 * Why a packet could not be fully parsed. meshmon never drops such a packet;
 * its trace record says what was wrong.
 */
#define MM_PARSE_ERRORS(X)                         \
	X(NONE, 0, "none")                         \
	X(TRUNCATED_ETHERNET, 1, "truncated ethernet header") \
	X(TRUNCATED_IPV4, 2, "truncated IPv4 header") \
	X(BAD_IPV4_IHL, 3, "bad IPv4 header length") \
	X(TRUNCATED_IPV6, 4, "truncated IPv6 header") \
	X(TRUNCATED_L4, 5, "truncated transport header") \
	X(IPV6_EXT_CHAIN, 6, "IPv6 extension header chain too long") \
	X(FRAGMENT, 7, "non-first fragment, no transport header") \
	X(NOT_IP, 8, "not IP")

/*
 * Debug record subtypes: X(NAME, value, "name", "format"). The format takes up
 * to three u32 arguments (arg1..arg3) in order, printf-style with %u or %x
 * only; it is applied in userspace, never in the datapath.
 */
#define MM_DEBUG_TYPES(X)                                                              \
	X(FLOW_LOOKUP, 1, "flow-lookup", "Flow lookup: state=%u ifindex=%u flow=0x%x")   \
	X(FLOW_CREATE_FAILED, 2, "flow-create-failed", "Flow table insert failed: err=%u ifindex=%u flow=0x%x") \
	X(RULE_MATCH, 3, "rule-match", "Deny rule %u matched: proto=%u dport=%u")        \
	X(AGGREGATE, 4, "aggregate", "Aggregation: decision=%u folded=%u new_flags=0x%x") \
	X(PARSE_ERROR, 5, "parse-error", "Parse error %u at offset %u, packet length %u") \
	X(CAPTURE_CLAMPED, 6, "capture-clamped", "Capture length clamped from %u to %u (packet %u)")

/* tcp_probe states (subtype of tcp_probe records). */
#define MM_PROBE_STATES(X)                 \
	X(OPEN, 1, "open")                 \
	X(PERIODIC, 2, "periodic")         \
	X(CLOSED, 3, "closed")

/* tcp_probe direction. */
#define MM_PROBE_DIRECTIONS(X)             \
	X(OUTBOUND, 1, "outbound")         \
	X(INBOUND, 2, "inbound")

/*
 * Where a socket-layer translation was seen (subtype of trace-sock records);
 * the values are the protocol's SocketHook.
 */
#define MM_SOCK_HOOKS(X)                   \
	X(CONNECT, 1, "connect")           \
	X(SENDMSG, 2, "sendmsg")

/*
 * The kernel's TCP states (include/net/tcp_states.h, the values of
 * sk->sk_state and TCP_INFO's tcpi_state): tcp_probe's tcp_state, printed by
 * name. The kernel's numbers and names; they are the kernel's ABI, not ours.
 */
#define MM_TCP_STATES(X)                   \
	X(ESTABLISHED, 1, "ESTABLISHED")   \
	X(SYN_SENT, 2, "SYN_SENT")         \
	X(SYN_RECV, 3, "SYN_RECV")         \
	X(FIN_WAIT1, 4, "FIN_WAIT1")       \
	X(FIN_WAIT2, 5, "FIN_WAIT2")       \
	X(TIME_WAIT, 6, "TIME_WAIT")       \
	X(CLOSE, 7, "CLOSE")               \
	X(CLOSE_WAIT, 8, "CLOSE_WAIT")     \
	X(LAST_ACK, 9, "LAST_ACK")         \
	X(LISTEN, 10, "LISTEN")            \
	X(CLOSING, 11, "CLOSING")          \
	X(NEW_SYN_RECV, 12, "NEW_SYN_RECV")

/* Monitor aggregation levels, as Cilium's. */
#define MM_AGGREGATION_LEVELS(X)           \
	X(NONE, 0, "none")                 \
	X(LOW, 1, "low")                   \
	X(MEDIUM, 2, "medium")             \
	X(MAXIMUM, 3, "maximum")

/* Deny rule directions. */
#define MM_DIRECTIONS(X)                   \
	X(ANY, 0, "any")                   \
	X(INGRESS, 1, "ingress")           \
	X(EGRESS, 2, "egress")

/*
 * Datapath counters (per-CPU array mm_stats, one u64 slot each). Every record
 * the datapath meant to emit and did not is counted in exactly one of the
 * *_FAILED / RATE_LIMITED / *_FOLDED slots. KDROP_MERGED counts no loss: the
 * kernel's free of a packet meshmon's own deny rule dropped, which the tc drop
 * record already reports (datapath/verdict.bpf.h).
 */
#define MM_STATS(X)                                                    \
	X(OUTPUT_FAILED, 0, "output_failed")  /* perf output failed, ring not full */ \
	X(RATE_LIMITED, 1, "rate_limited")    /* refused by the token bucket */ \
	X(TRACE_FOLDED, 2, "trace_folded")    /* traces folded by aggregation */ \
	X(DROP_FOLDED, 3, "drop_folded")      /* drops folded by aggregation */ \
	X(FLOW_INSERT_FAILED, 4, "flow_insert_failed") \
	X(PARSE_ERRORS, 5, "parse_errors")    \
	X(PROBE_FOLDED, 6, "probe_folded")    \
	X(STORAGE_FAILED, 7, "storage_failed") \
	X(RING_FULL, 8, "ring_full")          /* the CPU's ring had no room (-ENOSPC) */ \
	X(KDROP_MERGED, 9, "kdrop_merged")    /* kernel drops of a tc deny, not reported */ \
	X(VERDICT_FOLDED, 10, "verdict_folded") /* policy verdicts folded by aggregation */

/*
 * Source files of the datapath: X(NAME, id, "file name"). Drop records carry
 * the id of the file holding the drop site; MM_DROP_SITE() fails to compile in
 * a file missing from this list, so the table cannot drift from the code.
 */
#define MM_SOURCE_FILES(X)                         \
	X(TC_MONITOR, 1, "tc_monitor.bpf.c")       \
	X(DENY_BPF_H, 2, "deny.bpf.h")             \
	X(KERNEL_DROPS, 3, "kernel_drops.bpf.c")   \
	X(TCP_PROBE, 4, "tcp_probe.bpf.c")

#endif /* MESHMON_TABLES_H */
