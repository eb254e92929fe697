/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Run-time configuration and map value layouts shared by every datapath
 * object and by the userspace loaders. The configuration lives in the
 * one-entry array map mm_config_map, so the agent (and the tests) change it
 * without reloading anything.
 */
#ifndef MESHMON_CONFIG_H
#define MESHMON_CONFIG_H

#include "records.h"

/* mm_config.event_mask bits: one per enum mm_event_type value. */
#define MM_EVENT_BIT(type) (1u << (type))
#define MM_EVENT_MASK_DEFAULT                                                          \
	(MM_EVENT_BIT(MM_EVENT_DROP) | MM_EVENT_BIT(MM_EVENT_TRACE) |                  \
	 MM_EVENT_BIT(MM_EVENT_CAPTURE) | MM_EVENT_BIT(MM_EVENT_TCP_PROBE))

#define MM_AGG_FLAGS_DEFAULT (MM_TCP_SYN | MM_TCP_FIN | MM_TCP_RST)
#define MM_AGG_INTERVAL_DEFAULT_NS (5ull * 1000 * 1000 * 1000)

/* mm_config.kernel_drop_scope */
#define MM_KDROP_SCOPE_MONITORED 0 /* only monitored netns / interfaces (mm_kdrop_scope map) */
#define MM_KDROP_SCOPE_ALL 1       /* every drop on the host */

struct mm_config {
	__u32 capture_len;      /* bytes of each packet appended to trace/drop/capture
				 * records: 0 = none, capped at the packet length and
				 * MM_CAPTURE_MAX */
	__u32 event_mask;       /* MM_EVENT_BIT() of the record types to emit; debug
				 * records need MM_EVENT_BIT(MM_EVENT_DEBUG) */
	__u8 aggregation;       /* enum mm_aggregation_level */
	__u8 agg_tcp_flags;     /* MM_TCP_* whose first sighting per direction is reported */
	__u8 aggregate_drops;   /* 1: fold drops per flow and reason (default at maximum) */
	__u8 kernel_drop_scope; /* MM_KDROP_SCOPE_* */
	__u32 type_rate_mask;   /* MM_EVENT_BIT() of the types with a limit of their own
				 * in mm_type_rate: one test per record when none has */
	__u64 agg_interval_ns;  /* medium/maximum: report a flow at most once per interval */
	__u64 rate_per_cpu;     /* token bucket refill, records per second per CPU; 0 = off */
	__u64 burst_per_cpu;    /* bucket size per CPU */
	__u64 probe_interval_ns; /* tcp_probe periodic reports */
	__u32 capture_slots;    /* bit per mm_capture_rules slot in use; 0: the tc
				 * programs skip capture at the cost of this test */
	__u32 pad;
};
_Static_assert(sizeof(struct mm_config) == 56, "mm_config layout");

/* Per-CPU token bucket (mm_rate_bucket map). Tokens are in units of 1e-9 record. */
struct mm_rate_bucket {
	__u64 tokens_nano;
	__u64 last_ns;
};

/* Every record type is below this: the index of the per-type maps. */
#define MM_EVENT_TYPE_SLOTS 16

/*
 * One record type's own limit (mm_type_rate array, index = type), checked
 * before the host total when mm_config.type_rate_mask has the type's bit; its
 * buckets are in the per-CPU array mm_type_bucket.
 */
struct mm_type_rate {
	__u64 rate_per_cpu; /* records per second per CPU */
	__u64 burst_per_cpu;
};

/* Per record type (mm_type_stats per-CPU array, index = type). */
struct mm_type_counter {
	__u64 emitted; /* written to the ring */
	__u64 refused; /* refused by the type's own limit (the host total's: MM_STAT_RATE_LIMITED) */
};

/*
 * Packets and bytes at each observation point (mm_traffic, a per-CPU array
 * shared by every datapath object: maps.bpf.h), by what happened to them
 * there: index = MM_TRAFFIC_INDEX(point, reason), point an enum
 * mm_trace_point value (the tc programs count at FROM_NETWORK and
 * TO_NETWORK; a socket-side program counts at its own point in the same map),
 * reason 0 = passed, else the enum mm_drop_reason it was dropped for.
 */
#define MM_TRAFFIC_POINTS  16 /* room for every MM_TRACE_POINTS value */
#define MM_TRAFFIC_REASONS 16 /* room for every MM_DROP_REASONS value, and 0 */
#define MM_TRAFFIC_INDEX(point, reason) ((point) * MM_TRAFFIC_REASONS + (reason))
#define MM_TRAFFIC_SLOTS (MM_TRAFFIC_POINTS * MM_TRAFFIC_REASONS)
#define MM__POINT_FITS(name, value, ...) _Static_assert((value) < MM_TRAFFIC_POINTS, \
						      "raise MM_TRAFFIC_POINTS");
MM_TRACE_POINTS(MM__POINT_FITS)
#undef MM__POINT_FITS
#define MM__REASON_FITS(name, value, ...) _Static_assert((value) < MM_TRAFFIC_REASONS, \
						       "raise MM_TRAFFIC_REASONS");
MM_DROP_REASONS(MM__REASON_FITS)
#undef MM__REASON_FITS
/* The tc programs' point by enum mm_direction: ingress at FROM_NETWORK, egress at TO_NETWORK. */
#define MM_TC_POINT(dir) ((dir) == MM_DIR_EGRESS ? MM_POINT_TO_NETWORK : MM_POINT_FROM_NETWORK)
struct mm_traffic_counter {
	__u64 packets;
	__u64 bytes;
};

/*
 * Kernel drops by the kernel's own reason (mm_kdrop_counts, a per-CPU array
 * of struct mm_traffic_counter in kernel_drops.bpf.c): slot = the enum
 * skb_drop_reason value when below MM_KDROP_REASON_SLOTS, else
 * MM_KDROP_OVERFLOW_SLOT, which sums every larger value (subsystem-encoded
 * reasons such as mac80211's or openvswitch's, or a future kernel's).
 */
#define MM_KDROP_REASON_SLOTS  256
#define MM_KDROP_OVERFLOW_SLOT MM_KDROP_REASON_SLOTS
#define MM_KDROP_COUNT_SLOTS   (MM_KDROP_REASON_SLOTS + 1)

/*
 * Flow table (LRU hash mm_flows), keyed by the tuple as seen in a flow's first
 * packet plus the interface: each observation point tracks its own flows.
 * The endpoint programs (their own table) key by the socket's network
 * namespace inode in ifindex's place and say which end of the tuple is the
 * socket's in side, so that the two ends of a connection on one host (over
 * loopback) keep apart; reversing a key swaps SRC and DST.
 */
#define MM_FLOW_SIDE_NONE 0 /* tc: an interface sees both ends alike */
#define MM_FLOW_SIDE_SRC  1 /* endpoint: the socket sent the packet (from-endpoint) */
#define MM_FLOW_SIDE_DST  2 /* endpoint: the socket receives it (to-endpoint) */

struct mm_flow_key {
	struct mm_tuple tuple;
	__u32 ifindex;
	__u32 side;   /* MM_FLOW_SIDE_* */
};
_Static_assert(sizeof(struct mm_flow_key) == 48, "mm_flow_key layout");

/* Per direction: 0 = original (the first packet's), 1 = reply. */
struct mm_flow_entry {
	__u64 created_ns;
	__u64 last_seen_ns;
	__u64 last_report_ns[2];
	__u32 folded[2];      /* packets not reported since the last trace */
	__u32 flow_id;
	__u8 seen_flags[2];   /* TCP flags seen so far, per direction */
	__u8 pad[2];
};

/* Drop aggregation (LRU hash mm_drop_agg): per flow and reason. */
struct mm_drop_agg_key {
	struct mm_flow_key flow;
	__u32 reason;
	__u32 source;
};
struct mm_drop_agg_entry {
	__u64 last_report_ns;
	__u32 folded;
	__u32 pad;
};

/*
 * Deny rules. Userspace compiles up to MM_DENY_MAX rules into:
 * - mm_deny_rules: array of struct mm_deny_rule, index = bit number;
 * - mm_deny_src / mm_deny_dst: LPM tries over IPv6 and v4-mapped IPv4
 *   addresses, each prefix mapping to the bitmap of every rule whose source
 *   (destination) prefix contains it, rules without one included at ::/0.
 * A packet matches the rules in src_bits & dst_bits whose proto, ports and
 * direction also match; the lowest bit wins.
 */
#define MM_DENY_MAX 64

struct mm_deny_rule {
	__u32 id;       /* user-facing rule id, reported as ext_error; 0 = unused slot */
	__u8 proto;     /* 0 = any */
	__u8 direction; /* enum mm_direction */
	__u16 sport;    /* 0 = any */
	__u16 dport;    /* 0 = any */
	__u8 family;    /* 0 = any, else MM_FAMILY_IPV4 / MM_FAMILY_IPV6 */
	__u8 pad[3];
};

struct mm_lpm_key {
	__u32 prefixlen; /* over the 128-bit address; IPv4 is mapped as ::ffff:a.b.c.d */
	__u8 addr[16];
};

/*
 * Capture rules (capture on demand, datapath/capture.bpf.h): an array of
 * MM_CAPTURE_RULES_MAX slots, mm_capture_rules, the slots in use flagged in
 * mm_config.capture_slots. A packet matching a rule (every constraint given,
 * one value each; 0 or an empty prefix = any) gets a capture record of up to
 * snaplen bytes from its Ethernet header, while the rule's budget lasts. The
 * datapath counts into packets, bytes and failed with atomic adds: it takes
 * at most max_packets records and max_bytes captured bytes (the last record
 * truncated to fit), exactly, whatever the CPUs.
 */
#define MM_CAPTURE_RULES_MAX 16
#define MM_CAPTURE_SNAP_MAX 16384 /* a jumbo frame (9,000-byte MTU) and then some */

/* mm_capture_rule.points: bit per enum mm_trace_point */
#define MM_POINT_BIT(point) (1u << (point))

struct mm_capture_endpoint {
	__u8 addr[16];  /* IPv4 in the first 4 bytes, network byte order */
	__u8 family;    /* 0: any address, else MM_FAMILY_IPV4 / MM_FAMILY_IPV6 */
	__u8 prefix;    /* bits */
	__u16 port;     /* 0: any */
};

struct mm_capture_rule {
	__u32 id;       /* the rule id (CaptureStarted.rule_id); 0 = free slot */
	__u32 ifindex;  /* 0: any interface */
	__u8 points;    /* MM_POINT_BIT()s where to capture */
	__u8 proto;     /* 0: any */
	__u16 port;     /* source or destination port; 0: any */
	__u32 snaplen;  /* bytes per packet, at most MM_CAPTURE_SNAP_MAX */
	struct mm_capture_endpoint src, dst, either;
	__u32 pad;
	__u64 max_packets; /* 0: no limit */
	__u64 max_bytes;   /* captured bytes; 0: no limit */
	/* Written by the datapath only (atomic adds). */
	__u64 packets;  /* records taken from the budget */
	__u64 bytes;    /* captured bytes taken */
	__u64 failed;   /* of those records, writes that failed (full ring included) */
};
_Static_assert(sizeof(struct mm_capture_endpoint) == 20, "mm_capture_endpoint layout");
_Static_assert(sizeof(struct mm_capture_rule) == 120, "mm_capture_rule layout");

#endif /* MESHMON_CONFIG_H */
