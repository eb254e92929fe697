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

#include <stddef.h>
#include <stdint.h>

#include "filter_sets.h"
#include "meshmon.pb-c.h"
#include "protocol.h"

/* What the filter looks at, filled once per event by the decoder. */
struct mm_event_view {
	uint8_t type;	/* enum mm_event_type */
	uint8_t point;	/* enum mm_trace_point for trace/drop/capture, else 0 */
	uint8_t family; /* MM_FAMILY_NONE, _IPV4, _IPV6 */
	uint8_t proto;	/* IPPROTO_* */
	uint16_t sport;
	uint16_t dport;
	uint8_t src[16]; /* network order; IPv4 in the first 4 bytes */
	uint8_t dst[16];
};

/*
 * One FlowFilter, every field compiled into a lookup whose cost does not grow
 * with its values (filter_sets.h): protocols a 256-bit bitmap (O(1)), ports
 * and the three endpoint fields sorted sets (O(log n), n <= 64). A FlowFilter
 * costs O(1) + 2 port searches + at most 4 endpoint-side lookups of 3 binary
 * searches each; a filter at most MM_SUBSCRIBE_MAX_FILTERS times that.
 */
struct mm_flow_filter {
	struct mm_ep_set src, dst, either;
	uint64_t protos[4];	  /* bit per IP protocol, when has_protos */
	struct mm_port_set ports; /* matched by the source or the destination port */
	bool has_protos;
};

struct mm_filter {
	uint64_t types;	 /* bit per enum mm_event_type; all ones when none given */
	uint64_t points; /* bit per enum mm_trace_point (trace events); all ones when none */
	struct mm_flow_filter *flows;
	size_t n_flows; /* 0: no flow constraint */
	uint32_t replay;
};

/*
 * The most heap a compiled filter holds (mm_filter__bytes), fixed by the
 * limits of proto/protocol.h: the FlowFilters, and in each three endpoint
 * sets of at most MM_FILTER_MAX_VALUES blocks and a set of as many ports.
 * About 310 KiB on x86_64 (filter.c asserts at most 320 KiB), against the
 * 41 MB that 524,284 empty FlowFilters in a 1 MiB Subscribe held unbounded.
 */
#define MM_FILTER_MAX_BYTES                                                                        \
	((size_t)MM_SUBSCRIBE_MAX_FILTERS *                                                        \
	 (sizeof(struct mm_flow_filter) +                                                          \
	  3 * (size_t)MM_FILTER_MAX_VALUES * sizeof(struct mm_ep_block) +                          \
	  (size_t)MM_FILTER_MAX_VALUES * sizeof(uint16_t)))

/*
 * Compiles sub into f: 0, -EINVAL with a one-line reason in err (over a limit
 * of proto/protocol.h, naming it; unknown type or point, bad address length,
 * prefix too long, port or protocol out of range), or -ENOMEM. The limits are
 * checked first, before anything is allocated. f needs mm_filter__release()
 * only after success.
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
