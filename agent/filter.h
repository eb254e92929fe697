/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Listener filters: a Subscribe compiled once, at subscribe time, into a form
 * that mm_filter__match() checks cheaply per event (bitmasks, sorted sets of
 * ports and of disjoint CIDR blocks), within the limits of proto/protocol.h so
 * that one client's filter costs the agent a bounded amount of time per event
 * and of memory. Semantics are those of docs/protocol.md, "Filters".
 */
#ifndef MESHMON_AGENT_FILTER_H
#define MESHMON_AGENT_FILTER_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "filter_sets.h"
#include "meshmon.pb-c.h"
#include "protocol.h"

/* A comm as the kernel keeps it: TASK_COMM_LEN, at most 15 bytes and a NUL. */
#define MM_OWNER_COMM_LEN (MM_FILTER_MAX_COMM_LEN + 1)

/* What the filter looks at, filled once per event by the decoder. */
struct mm_event_view {
	uint8_t type;	/* enum mm_event_type */
	uint8_t point;	/* enum mm_trace_point for trace/drop/capture, else 0 */
	uint8_t family; /* MM_FAMILY_NONE, _IPV4, _IPV6 */
	uint8_t proto;	/* IPPROTO_* */
	uint16_t sport;
	uint16_t dport;
	uint16_t drop_key; /* drop events: mm_drop_key(); 0 for other events */
	uint8_t tcp_flags; /* trace events of a TCP packet: its flags */
	uint8_t has_tcp_flags;
	uint32_t rule_id;  /* capture events: the capture rule; 0 otherwise. The hub routes
			    * an event with a rule id to that rule's owner only (hub.h) */
	uint64_t time_ns;  /* wall clock, Event.time_ns */
	uint8_t src[16];   /* network order; IPv4 in the first 4 bytes */
	uint8_t dst[16];
	char ifname[IF_NAMESIZE]; /* the kernel's bytes, NUL-padded; empty when unknown */
	/* The owner (mm_event_view__set_owner): 0 and empty for events without one. */
	uint64_t owner_cgroup_id;
	uint32_t owner_pid;
	char owner_comm[MM_OWNER_COMM_LEN]; /* the kernel's bytes, NUL-padded */
};

/*
 * The owner of an event: the process and cgroup v2 directory of the socket it
 * is about. tcp_probe reports (TcpProbe), endpoint traces (Trace at
 * TO_ENDPOINT / FROM_ENDPOINT) and trace-sock records (TraceSock) have one;
 * every other event (tc traces, drops, captures, debug, policy verdicts) has
 * none and matches no owner filter. Read from the decoded Event, so a record
 * type matches as soon as its decoder fills the Event's owner fields.
 */
void mm_event_view__set_owner(struct mm_event_view *v, const Meshmon__V1__Event *ev);

/*
 * A drop reason as one 16-bit key: meshmon's own reasons and the kernel's
 * (enum skb_drop_reason, source KERNEL) are two numbering spaces, told apart
 * by the top bits. 0 (no key) for a reason beyond either space.
 */
#define MM_DROP_KEY_OWN	   0x4000u
#define MM_DROP_KEY_KERNEL 0x8000u
static inline uint16_t mm_drop_key(int kernel, uint32_t reason)
{
	if (reason >= MM_DROP_KEY_OWN)
		return 0;
	return (uint16_t)((kernel ? MM_DROP_KEY_KERNEL : MM_DROP_KEY_OWN) | reason);
}

/*
 * One FlowFilter, every field compiled into a lookup whose cost does not grow
 * with its values (filter_sets.h): protocols a 256-bit bitmap (O(1)), TCP
 * flag masks a 256-bit table of the flag bytes that hold one of the masks
 * (O(1)), ports, drop reasons, interfaces, owner pids, comms and cgroup ids
 * and the three endpoint fields sorted sets (O(log n), n <= 64). A FlowFilter
 * costs O(1) + 2 port searches + a drop-reason, an interface and three owner
 * searches + at most 4 endpoint-side lookups of 3 binary searches each; a
 * filter at most MM_SUBSCRIBE_MAX_FILTERS times that.
 */
struct mm_flow_filter {
	struct mm_ep_set src, dst, either;
	uint64_t protos[4];	  /* bit per IP protocol, when has_protos */
	uint64_t tcp_flags[4];	  /* bit per flag byte that holds a mask, when has_tcp_flags */
	struct mm_port_set ports; /* matched by the source or the destination port */
	struct mm_port_set drops; /* mm_drop_key() values (a sorted set of 16-bit keys) */
	struct mm_name_set ifnames;
	struct mm_id_set pids;	     /* owner pids (never 0) */
	struct mm_name_set comms;    /* owner comms */
	struct mm_id_set cgroup_ids; /* owner cgroup v2 ids (never 0) */
	bool has_protos, has_tcp_flags;
};

struct mm_filter {
	uint64_t types;	 /* bit per enum mm_event_type; all ones when none given */
	uint64_t points; /* bit per enum mm_trace_point (trace events); all ones when none */
	struct mm_flow_filter *flows; /* Subscribe.filters, then Subscribe.exclude */
	size_t n_flows; /* 0: no flow constraint */
	size_t n_exclude; /* flows[n_flows .. n_flows + n_exclude) */
	uint64_t since_ns, until_ns; /* wall clock window; 0: open */
	uint32_t replay;
	bool history_only;
};

/* Whether the subscription asked for a replay (and so gets a ReplayDone). */
static inline bool mm_filter__replays(const struct mm_filter *f)
{
	return f->replay || f->since_ns || f->history_only;
}

/*
 * The most heap a compiled filter holds (mm_filter__bytes), fixed by the
 * limits of proto/protocol.h: the FlowFilters (filters and exclude
 * together), and in each three endpoint sets of at most MM_FILTER_MAX_VALUES
 * blocks, a set of as many ports, of as many interface names and owner comms,
 * of as many owner pids and cgroup ids, and of twice as many drop-reason keys
 * (a name can be both meshmon's and the kernel's). About 525 KiB on x86_64
 * (filter.c asserts at most 528 KiB), against the 41 MB that 524,284 empty
 * FlowFilters in a 1 MiB Subscribe held unbounded.
 */
#define MM_FILTER_MAX_BYTES                                                                        \
	((size_t)MM_SUBSCRIBE_MAX_FILTERS *                                                        \
	 (sizeof(struct mm_flow_filter) +                                                          \
	  3 * (size_t)MM_FILTER_MAX_VALUES * sizeof(struct mm_ep_block) +                          \
	  3 * (size_t)MM_FILTER_MAX_VALUES * sizeof(uint16_t) +                                    \
	  2 * (size_t)MM_FILTER_MAX_VALUES * sizeof(struct mm_name_key) +                          \
	  2 * (size_t)MM_FILTER_MAX_VALUES * sizeof(uint64_t)))

/*
 * Where compiling finds the kernel's drop reasons by name (the value of
 * enum skb_drop_reason, or a negative errno): process-wide, set once before
 * the first compile (the agent: datapath/kernel_drop_reasons.h; tests: a
 * table of their own). Unset, only meshmon's own reason names are known.
 */
void mm_filter__set_kernel_drop_reasons(int (*value_of)(const char *name));

/*
 * Compiles sub into f: 0, -EINVAL with a one-line reason in err (over a limit
 * of proto/protocol.h, naming it; unknown type, point or drop reason, bad
 * address length, prefix too long, port, protocol or TCP flag mask out of
 * range, an interface name or comm empty or too long, a pid or cgroup id 0),
 * or -ENOMEM. The limits are checked
 * first, before anything is allocated. f needs mm_filter__release() only
 * after success.
 */
int mm_filter__compile(struct mm_filter *f, const Meshmon__V1__Subscribe *sub, char *err,
		       size_t errlen);
/* Accepts NULL and a zeroed filter. */
void mm_filter__release(struct mm_filter *f);
/* 1 when the event passes f, 0 when not. */
int mm_filter__match(const struct mm_filter *f, const struct mm_event_view *ev);
/* Bytes the compiled f holds on the heap: at most MM_FILTER_MAX_BYTES. */
size_t mm_filter__bytes(const struct mm_filter *f);

#endif /* MESHMON_AGENT_FILTER_H */
