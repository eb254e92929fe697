/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Listener filters: a Subscribe compiled once, at subscribe time, into a form
 * that mm_filter__match() checks cheaply per event (bitmasks, CIDRs with their
 * addresses pre-masked). Semantics are those of docs/protocol.md, "Filters".
 */
#ifndef MESHMON_AGENT_FILTER_H
#define MESHMON_AGENT_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "meshmon.pb-c.h"

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

struct mm_filter_endpoint {
	uint8_t family; /* MM_FAMILY_NONE: any address */
	uint8_t prefix_len;
	uint16_t port;	  /* 0: any */
	uint8_t addr[16]; /* masked to prefix_len */
};

struct mm_flow_filter {
	struct mm_filter_endpoint *src, *dst, *either;
	size_t n_src, n_dst, n_either;
	uint8_t *protos;
	size_t n_protos;
	uint16_t *ports;
	size_t n_ports;
};

struct mm_filter {
	uint64_t types;	 /* bit per enum mm_event_type; all ones when none given */
	uint64_t points; /* bit per enum mm_trace_point (trace events); all ones when none */
	struct mm_flow_filter *flows;
	size_t n_flows; /* 0: no flow constraint */
	uint32_t replay;
};

/*
 * Compiles sub into f: 0, -EINVAL with a one-line reason in err (unknown type
 * or point, bad address length, prefix too long, port or protocol out of
 * range), or -ENOMEM. f needs mm_filter__release() only after success.
 */
int mm_filter__compile(struct mm_filter *f, const Meshmon__V1__Subscribe *sub, char *err,
		       size_t errlen);
/* Accepts NULL and a zeroed filter. */
void mm_filter__release(struct mm_filter *f);
/* 1 when the event passes f, 0 when not. */
int mm_filter__match(const struct mm_filter *f, const struct mm_event_view *ev);

#endif /* MESHMON_AGENT_FILTER_H */
