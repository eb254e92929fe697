/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Prometheus text on GET (and HEAD) /metrics, and liveness on /healthz, served
 * by libevent's evhttp on --metrics ADDR:PORT. Labels are bounded: direction,
 * point, reason, type, source, result; never an address; the node's name only
 * on meshmon_node_info. The numbers come from a snapshot callback at each scrape.
 */
#ifndef MESHMON_AGENT_METRICS_H
#define MESHMON_AGENT_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "conn.h"
#include "counters.h"
#include "hub.h"

struct event_base;
struct mm_metrics;

struct mm_metrics_snapshot {
	const char *node_name; /* meshmon_node_info's label (Hello.node_name) */
	struct mm_traffic_counter traffic[MM_TRAFFIC_SLOTS];
	int have_traffic;
	struct mm_counters counters; /* points and drops, as Status.points / Status.drops */
	uint64_t events_by_type[256];
	uint64_t events_unknown;
	uint64_t events_short;
	uint64_t events_out_of_order; /* delivered with Event.out_of_order set */
	unsigned int reorder_window_us; /* 0: not put in time order */
	uint64_t kernel_drops_merged; /* Status.kernel_drops_merged */
	uint64_t lost_by_source[MM_LOSS_SOURCES]; /* LossSource */
	struct mm_type_counter types[MM_EVENT_TYPE_SLOTS]; /* the datapath's, by record type */
	int have_types;
	unsigned int listeners;
	unsigned int capture_rules; /* captures on demand running now */
	uint64_t connections[MM_CONN_RESULTS]; /* by enum mm_conn_result */
};

typedef void (*mm_metrics_snapshot_fn)(void *ctx, struct mm_metrics_snapshot *out);

/* addr_port "ADDR:PORT" ("[::1]:9000" for IPv6). NULL with errno set. */
struct mm_metrics *mm_metrics__new(struct event_base *base, const char *addr_port,
				   mm_metrics_snapshot_fn fn, void *ctx);
void mm_metrics__free(struct mm_metrics *m);
/* Render the exposition text of snap into buf: its length (may exceed len, like snprintf). */
size_t mm_metrics__render(const struct mm_metrics_snapshot *snap, char *buf, size_t len);

#endif /* MESHMON_AGENT_METRICS_H */
