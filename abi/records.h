/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * meshmon's record ABI: the fixed-layout notify records that the datapath
 * writes into the mm_events perf event array and the agent decodes.
 *
 * Rules (docs/records.md has every field):
 * - only __u8..__u64, explicit padding, no bool, no enums, no pointers;
 * - every record starts with struct mm_notify_hdr; `version` is the layout
 *   version of that record type and is bumped on any change to it;
 * - records that carry packet bytes (trace, drop, capture) have a struct
 *   mm_capture_hdr right after the notify header, and the kernel appends
 *   cap_len packet bytes right after the fixed record (perf output flags);
 * - addresses are in network byte order, ports in host byte order.
 *
 * Shared by BPF (with UAPI headers or vmlinux.h) and userspace.
 */
#ifndef MESHMON_RECORDS_H
#define MESHMON_RECORDS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#include "tables.h"


enum mm_event_type {
#define X(name, value, ...) MM_EVENT_##name = value,
	MM_EVENT_TYPES(X)
#undef X
};

enum mm_source {
#define X(name, value, ...) MM_SOURCE_##name = value,
	MM_SOURCES(X)
#undef X
};

enum mm_drop_reason {
#define X(name, value, ...) MM_DROP_##name = value,
	MM_DROP_REASONS(X)
#undef X
};

enum mm_trace_point {
#define X(name, value, ...) MM_POINT_##name = value,
	MM_TRACE_POINTS(X)
#undef X
};

enum mm_trace_state {
#define X(name, value, ...) MM_STATE_##name = value,
	MM_TRACE_STATES(X)
#undef X
};

enum mm_parse_error {
#define X(name, value, ...) MM_PARSE_##name = value,
	MM_PARSE_ERRORS(X)
#undef X
};

enum mm_debug_type {
#define X(name, value, ...) MM_DBG_##name = value,
	MM_DEBUG_TYPES(X)
#undef X
};

enum mm_probe_state {
#define X(name, value, ...) MM_PROBE_##name = value,
	MM_PROBE_STATES(X)
#undef X
};

enum mm_probe_direction {
#define X(name, value, ...) MM_PROBE_DIR_##name = value,
	MM_PROBE_DIRECTIONS(X)
#undef X
};

enum mm_sock_hook {
#define X(name, value, ...) MM_SOCK_HOOK_##name = value,
	MM_SOCK_HOOKS(X)
#undef X
};

/* MM_TCPS_*: not MM_TCP_, which names the TCP header flags below. */
enum mm_tcp_state {
#define X(name, value, ...) MM_TCPS_##name = value,
	MM_TCP_STATES(X)
#undef X
};

enum mm_aggregation_level {
#define X(name, value, ...) MM_AGG_##name = value,
	MM_AGGREGATION_LEVELS(X)
#undef X
};

enum mm_direction {
#define X(name, value, ...) MM_DIR_##name = value,
	MM_DIRECTIONS(X)
#undef X
};

enum mm_stat {
#define X(name, value, ...) MM_STAT_##name = value,
	MM_STATS(X)
#undef X
	MM_STAT_MAX
};

enum mm_source_file {
#define X(name, value, ...) MM_FILE_##name = value,
	MM_SOURCE_FILES(X)
#undef X
};

/* Layout versions, one per record type. Bump on any change to that struct. */
#define MM_TRACE_VERSION 2 /* 2: source CGROUP_SKB traces carry struct mm_sock_owner */
#define MM_DROP_VERSION 1
#define MM_CAPTURE_VERSION 2
#define MM_DEBUG_VERSION 1
#define MM_TCP_PROBE_VERSION 2
#define MM_POLICY_VERDICT_VERSION 1
#define MM_TRACE_SOCK_VERSION 1

/*
 * The record types userspace decodes: X(TYPE, short name, struct, layout
 * version, packet bytes appended). A record of type MM_EVENT_<TYPE> is at
 * least sizeof(struct) bytes; records with packet bytes start with the notify
 * and capture headers and carry cap_len bytes after the struct. The decoder,
 * the layout table (names.c) and the tests are all expanded from this list.
 */
#define MM_RECORD_TYPES(X)                                                          \
	X(TRACE, trace, struct mm_trace_record, MM_TRACE_VERSION, 1)                \
	X(DROP, drop, struct mm_drop_record, MM_DROP_VERSION, 1)                    \
	X(CAPTURE, capture, struct mm_capture_record, MM_CAPTURE_VERSION, 1)        \
	X(DEBUG, debug, struct mm_debug_record, MM_DEBUG_VERSION, 0)                \
	X(TCP_PROBE, tcp_probe, struct mm_tcp_probe_record, MM_TCP_PROBE_VERSION, 0)  \
	X(POLICY_VERDICT, policy_verdict, struct mm_policy_verdict_record,          \
	  MM_POLICY_VERDICT_VERSION, 0)                                            \
	X(TRACE_SOCK, trace_sock, struct mm_trace_sock_record, MM_TRACE_SOCK_VERSION, 0)

/*
 * Records of a type whose fixed part is longer when one source emits them:
 * X(TYPE, SOURCE, short name, struct). The struct starts with the type's own
 * struct (MM_RECORD_TYPES) and replaces it as the fixed record of that
 * source: packet bytes follow it. The type's layout version covers it.
 */
#define MM_RECORD_SOURCE_LAYOUTS(X) \
	X(TRACE, CGROUP_SKB, endpoint_trace, struct mm_endpoint_trace_record)

/* Where the captured bytes start (mm_capture_hdr.layer). */
#define MM_LAYER_ETHERNET 1 /* tc: the frame from its Ethernet header */
#define MM_LAYER_NETWORK 2  /* starts at the IPv4/IPv6 header */
#define MM_LAYER_TRANSPORT 3 /* starts at the TCP/UDP/ICMP header */

#define MM_CAPTURE_DEFAULT 128
#define MM_CAPTURE_MAX 1500

/* Address families in struct mm_tuple. */
#define MM_FAMILY_NONE 0 /* not IP: only the frame is known */
#define MM_FAMILY_IPV4 4
#define MM_FAMILY_IPV6 6

/* TCP flags, as in the TCP header's 13th byte. */
#define MM_TCP_FIN 0x01
#define MM_TCP_SYN 0x02
#define MM_TCP_RST 0x04
#define MM_TCP_PSH 0x08
#define MM_TCP_ACK 0x10
#define MM_TCP_URG 0x20
#define MM_TCP_ECE 0x40
#define MM_TCP_CWR 0x80

/* 16 bytes: common to every record. */
struct mm_notify_hdr {
	__u8 type;     /* enum mm_event_type */
	__u8 subtype;  /* trace/drop/capture/policy_verdict: enum mm_trace_point;
			* debug: enum mm_debug_type; tcp_probe: enum mm_probe_state */
	__u8 source;   /* enum mm_source: the hook that produced it */
	__u8 version;  /* layout version of this record type (MM_*_VERSION) */
	__u32 flow_id; /* direction-independent flow id (0 when none) */
	__u64 ktime_ns; /* bpf_ktime_get_ns(): CLOCK_MONOTONIC, same on every CPU */
};

/* 8 bytes: records with packet bytes appended. */
struct mm_capture_hdr {
	__u32 len_orig; /* packet length on the wire (skb->len) */
	__u16 cap_len;  /* bytes appended after the fixed record */
	__u8 layer;     /* MM_LAYER_*: where the appended bytes start */
	__u8 pad;
};

/* 40 bytes: a flow's addresses, ports and protocol as seen in the packet. */
struct mm_tuple {
	__u32 saddr[4]; /* IPv4: saddr[0] only, the rest zero */
	__u32 daddr[4];
	__u16 sport;    /* TCP/UDP ports; ICMP echo: the identifier in sport */
	__u16 dport;
	__u8 family;    /* MM_FAMILY_* */
	__u8 proto;     /* IPPROTO_* (0 when not IP) */
	__u16 ethertype; /* host byte order, e.g. 0x0800; useful when not IP */
};

/* type TRACE, 80 bytes + captured bytes. */
struct mm_trace_record {
	struct mm_notify_hdr hdr;
	struct mm_capture_hdr cap;
	struct mm_tuple tuple;
	__u32 ifindex;
	__u8 state;       /* enum mm_trace_state */
	__u8 tcp_flags;   /* MM_TCP_* of this packet */
	__u8 icmp_type;
	__u8 icmp_code;
	__u8 parse_error; /* enum mm_parse_error; NONE when fully parsed */
	__u8 pad[3];
	__u32 folded;     /* packets of this flow and direction folded by aggregation
			   * since the previous trace of it */
};

/* type DROP, 96 bytes + captured bytes. */
struct mm_drop_record {
	struct mm_notify_hdr hdr;
	struct mm_capture_hdr cap;
	struct mm_tuple tuple;
	__u32 ifindex;
	__u32 reason;    /* source TC: enum mm_drop_reason; KERNEL: enum skb_drop_reason */
	__u32 ext_error; /* POLICY_DENIED: the deny rule's id */
	__u16 file;      /* enum mm_source_file of the drop site (0 for kernel drops) */
	__u16 line;      /* line of the drop site */
	__u32 folded;    /* drops of this flow and reason folded by aggregation */
	__u32 netns;     /* network namespace inode (kernel drops; 0 if unknown) */
	__u64 location;  /* kernel drops: address of the dropping function */
};

/*
 * type CAPTURE, 56 bytes + captured bytes: a packet without flow semantics,
 * emitted for a capture rule (capture on demand). Version 2: rule_id.
 */
struct mm_capture_record {
	struct mm_notify_hdr hdr;
	struct mm_capture_hdr cap;
	__u32 ifindex;
	__u32 rule_id;  /* the mm_capture_rule.id it matched */
	__u64 reserved[3];
};

/* type DEBUG, 40 bytes. Formatted in userspace from MM_DEBUG_TYPES. */
struct mm_debug_record {
	struct mm_notify_hdr hdr;
	__u32 ifindex;
	__u32 arg1;
	__u32 arg2;
	__u32 arg3;
	__u64 reserved;
};

/* Flags of struct mm_tcp_probe_record.flags. */
#define MM_PROBE_F_PREEXISTING 0x01 /* opened before meshmon: start time and pid unknown */
#define MM_PROBE_F_CONN_SUCCESS 0x02 /* the connection was established */

/*
 * type TCP_PROBE, 200 bytes. One report on a TCP connection. Version 2:
 * orig_daddr, orig_dport (a socket-layer translator rewrote the connect) and
 * socket_cookie.
 */
struct mm_tcp_probe_record {
	struct mm_notify_hdr hdr;   /* subtype: enum mm_probe_state */
	struct mm_tuple tuple;      /* local address/port as source */
	__u8 direction;             /* enum mm_probe_direction */
	__u8 flags;                 /* MM_PROBE_F_* */
	__u8 tcp_state;             /* kernel TCP state (TCP_ESTABLISHED = 1, ...) */
	__u8 pad;
	__u32 pid;                  /* tgid that connected, or that listened (accepted) */
	char comm[16];
	__u64 start_ns;             /* ktime of connect/accept; 0 when preexisting */
	__u64 duration_ns;          /* now - start_ns; 0 when preexisting */
	__u64 bytes_sent;           /* tcp bytes_acked */
	__u64 bytes_received;       /* tcp bytes_received */
	__u32 segs_in;
	__u32 segs_out;
	__u32 data_segs_in;
	__u32 data_segs_out;
	__u32 srtt_us;              /* smoothed RTT in microseconds (kernel value >> 3) */
	__u32 min_rtt_us;
	__u32 snd_cwnd;             /* segments */
	__u32 total_retrans;
	__u32 lost_out;
	__u32 delivered;
	__u64 cgroup_id;            /* cgroup v2 id of the socket */
	__u32 netns;                /* network namespace inode */
	__u32 ifindex;              /* 0: not known for sockets */
	__u32 orig_daddr[4];        /* the destination the application asked for, in the
				     * tuple's family, when a translator rewrote it; else 0 */
	__u16 orig_dport;           /* 0 when not translated */
	__u16 pad2;
	__u32 pad3;
	__u64 socket_cookie;        /* bpf_get_socket_cookie(); 0 when not known */
};

/*
 * 40 bytes: the socket a socket-side record is about (endpoint traces,
 * trace-sock): its cgroup, cookie, network namespace, and the process known
 * for it (the one that connected, bound or last sent from it; 0 if unknown).
 */
struct mm_sock_owner {
	__u64 cgroup_id;  /* cgroup v2 id of the socket */
	__u64 cookie;     /* bpf_get_socket_cookie() */
	__u32 pid;        /* tgid */
	__u32 netns;      /* network namespace inode */
	char comm[16];
};

/*
 * type TRACE_SOCK, 120 bytes: a connect or sendmsg whose destination a
 * socket-layer program (socket LB: Kmesh, Cilium, any cgroup connect4/6 or
 * sendmsg4/6 program) rewrote. Emitted once per translated connect or
 * message (datapath/sock_xlate.bpf.h has how it is detected).
 */
struct mm_trace_sock_record {
	struct mm_notify_hdr hdr;   /* subtype: enum mm_sock_hook */
	struct mm_tuple tuple;      /* the addresses the socket uses: daddr/dport where it
				     * really goes; saddr/sport once bound (else 0) */
	struct mm_sock_owner owner; /* the process that connected or sent */
	__u32 orig_daddr[4];        /* what the application asked for, in the tuple's family */
	__u16 orig_dport;
	__u8 pad[6];
};

/*
 * type TRACE from source CGROUP_SKB (points TO_ENDPOINT, FROM_ENDPOINT), 120
 * bytes + captured bytes: the trace record, then the socket the packet met.
 * The captured bytes start at the network header (MM_LAYER_NETWORK); the
 * trace's ifindex is the device the packet came in on or goes out of.
 * tc traces keep their 80 bytes: only this source carries an owner.
 */
struct mm_endpoint_trace_record {
	struct mm_trace_record trace;
	struct mm_sock_owner owner;
};

/* struct mm_policy_verdict_record.verdict: the protocol's Verdict values. */
#define MM_VERDICT_ALLOWED 1 /* no deny rule matched: allowed by default */
#define MM_VERDICT_DENIED 2  /* denied by rule_id */

/*
 * type POLICY_VERDICT, 72 bytes (meshmon-agent --policy-verdicts). The policy
 * decision on a new flow, once per flow (datapath/policy_verdict.bpf.h).
 */
struct mm_policy_verdict_record {
	struct mm_notify_hdr hdr;   /* subtype: enum mm_trace_point (FROM/TO_NETWORK) */
	struct mm_tuple tuple;      /* the flow's first packet, as seen */
	__u32 ifindex;
	__u32 rule_id;              /* DENIED: the deny rule's id; ALLOWED: 0 */
	__u8 verdict;               /* MM_VERDICT_* */
	__u8 tcp_flags;             /* MM_TCP_* of the packet that got the verdict */
	__u8 pad[2];
	__u32 folded;               /* aggregation: verdicts of this flow folded since the
				     * previous record of it */
};

_Static_assert(sizeof(struct mm_notify_hdr) == 16, "mm_notify_hdr is ABI");
_Static_assert(sizeof(struct mm_capture_hdr) == 8, "mm_capture_hdr is ABI");
_Static_assert(sizeof(struct mm_tuple) == 40, "mm_tuple is ABI");
_Static_assert(sizeof(struct mm_trace_record) == 80, "mm_trace_record is ABI");
/* Records with packet bytes share the first 24 bytes (the decoder relies on it). */
_Static_assert(__builtin_offsetof(struct mm_trace_record, cap) == 16, "trace cap offset");
_Static_assert(__builtin_offsetof(struct mm_drop_record, cap) == 16, "drop cap offset");
_Static_assert(__builtin_offsetof(struct mm_capture_record, cap) == 16, "capture cap offset");
_Static_assert(__builtin_offsetof(struct mm_trace_record, tuple) == 24, "trace tuple offset");
_Static_assert(__builtin_offsetof(struct mm_trace_record, ifindex) == 64, "trace ifindex offset");
_Static_assert(sizeof(struct mm_drop_record) == 96, "mm_drop_record is ABI");
_Static_assert(__builtin_offsetof(struct mm_drop_record, reason) == 68, "drop reason offset");
_Static_assert(__builtin_offsetof(struct mm_drop_record, location) == 88, "drop location offset");
_Static_assert(sizeof(struct mm_capture_record) == 56, "mm_capture_record is ABI");
_Static_assert(sizeof(struct mm_debug_record) == 40, "mm_debug_record is ABI");
_Static_assert(sizeof(struct mm_policy_verdict_record) == 72, "mm_policy_verdict_record is ABI");
_Static_assert(__builtin_offsetof(struct mm_policy_verdict_record, rule_id) == 60,
	       "policy_verdict rule_id offset");
_Static_assert(sizeof(struct mm_sock_owner) == 40, "mm_sock_owner is ABI");
_Static_assert(sizeof(struct mm_endpoint_trace_record) == 120, "mm_endpoint_trace_record is ABI");
_Static_assert(__builtin_offsetof(struct mm_endpoint_trace_record, owner) == 80,
	       "endpoint trace owner offset");
_Static_assert(sizeof(struct mm_trace_sock_record) == 120, "mm_trace_sock_record is ABI");
_Static_assert(__builtin_offsetof(struct mm_trace_sock_record, owner) == 56,
	       "trace_sock owner offset");
_Static_assert(__builtin_offsetof(struct mm_trace_sock_record, orig_daddr) == 96,
	       "trace_sock orig_daddr offset");
_Static_assert(sizeof(struct mm_tcp_probe_record) == 200, "mm_tcp_probe_record is ABI");
_Static_assert(__builtin_offsetof(struct mm_tcp_probe_record, bytes_sent) == 96,
	       "tcp_probe bytes_sent offset");
_Static_assert(__builtin_offsetof(struct mm_tcp_probe_record, cgroup_id) == 152,
	       "tcp_probe cgroup_id offset");
_Static_assert(__builtin_offsetof(struct mm_tcp_probe_record, orig_daddr) == 168,
	       "tcp_probe orig_daddr offset");
_Static_assert(__builtin_offsetof(struct mm_tcp_probe_record, socket_cookie) == 192,
	       "tcp_probe socket_cookie offset");

#endif /* MESHMON_RECORDS_H */
