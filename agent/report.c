// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Status and /metrics assembly (report.h) from the agent's state. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "capture.h"
#include "conn.h"
#include "counters.h"
#include "framing.h"
#include "hub.h"
#include "kernel_drop_reasons.h"
#include "kernel_drops.h"
#include "names.h"
#include "report.h"
#include "server.h"

/* Room for every MM_EVENT_TYPES entry; Status lists each, with a zero count too. */
#define MAX_EVENT_TYPES	     16
#define X(name, value, text) +1
_Static_assert(0 MM_EVENT_TYPES(X) <= MAX_EVENT_TYPES,
	       "Status event counts: raise MAX_EVENT_TYPES");
#undef X

/*
 * One LossCounter per (CPU, upstream source), one for the hub's queue
 * losses and one for capture losses, which are not per CPU, and one per record
 * type with a rate limit of its own (RATE_LIMIT with that type, not per CPU):
 * lc has room for 3 * ncpus + 2 + MM_EVENT_TYPE_SLOTS.
 */
static size_t fill_losses(const struct mm_agent *a, uint64_t queue_lost,
			  Meshmon__V1__LossCounter *lc, Meshmon__V1__LossCounter **lcp)
{
	static const unsigned int src[3] = {MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_DATAPATH,
					    MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_RING,
					    MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_RATE_LIMIT};
	size_t i = 0;

	for (int c = 0; c < a->ncpus; c++) {
		for (int k = 0; k < 3; k++) {
			meshmon__v1__loss_counter__init(&lc[i]);
			lc[i].source = (Meshmon__V1__LossSource)src[k];
			lc[i].cpu = (uint32_t)c;
			lc[i].count = mm_losses__per_cpu(a->losses, src[k])[c];
			lcp[i] = &lc[i];
			i++;
		}
	}
	meshmon__v1__loss_counter__init(&lc[i]);
	lc[i].source = MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_QUEUE;
	lc[i].cpu = MM_CPU_NONE;
	lc[i].count = queue_lost;
	lcp[i] = &lc[i];
	i++;
	meshmon__v1__loss_counter__init(&lc[i]);
	lc[i].source = MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_CAPTURE;
	lc[i].cpu = MM_CPU_NONE;
	lc[i].count = mm_captures__lost(a->captures);
	lcp[i] = &lc[i];
	i++;
	for (unsigned int type = 0; type < MM_EVENT_TYPE_SLOTS; type++) {
		if (!a->opts.type_limits[type].rate)
			continue;
		meshmon__v1__loss_counter__init(&lc[i]);
		lc[i].source = MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_RATE_LIMIT;
		lc[i].cpu = MM_CPU_NONE;
		lc[i].type = (Meshmon__V1__EventType)type;
		lc[i].count = mm_losses__type_refused(a->losses, type);
		lcp[i] = &lc[i];
		i++;
	}
	return i;
}

/* Status.types: each record type's switch, own rate limit and datapath counters. */
static size_t fill_types(const struct mm_agent *a, Meshmon__V1__TypeCounters *tc,
			 Meshmon__V1__TypeCounters **tcp)
{
	struct mm_type_counter counters[MM_EVENT_TYPE_SLOTS];
	size_t n = 0;

	if (mm_datapath__read_type_counters(a->dp, counters))
		memset(counters, 0, sizeof(counters));
#define X(name, value, text)                                                                       \
	meshmon__v1__type_counters__init(&tc[n]);                                                  \
	tc[n].type = (Meshmon__V1__EventType)value;                                                \
	tc[n].enabled = (a->cfg.event_mask & MM_EVENT_BIT(value)) != 0;                            \
	tc[n].emitted = counters[value].emitted;                                                   \
	tc[n].refused = counters[value].refused;                                                   \
	tc[n].rate_per_sec = (uint32_t)a->opts.type_limits[value].rate;                            \
	tc[n].burst = (uint32_t)a->opts.type_limits[value].burst;                                  \
	tcp[n] = &tc[n];                                                                           \
	n++;
	MM_EVENT_TYPES(X)
#undef X
	return n;
}

static size_t fill_event_counts(const struct mm_agent *a, Meshmon__V1__EventTypeCount *tc,
				Meshmon__V1__EventTypeCount **tcp)
{
	size_t n = 0;

#define X(name, value, text)                                                                       \
	meshmon__v1__event_type_count__init(&tc[n]);                                               \
	tc[n].type = (Meshmon__V1__EventType)value;                                                \
	tc[n].count = a->events_by_type[value];                                                    \
	tcp[n] = &tc[n];                                                                           \
	n++;
	MM_EVENT_TYPES(X)
#undef X
	return n;
}

/* What the agent runs with: versions, rings, interfaces, cgroup, datapath config. */
static void fill_setup(const struct mm_agent *a, Meshmon__V1__Status *st)
{
	st->agent_version = (char *)MESHMON_VERSION;
	st->protocol_version = MM_PROTOCOL_VERSION;
	st->num_cpus = (uint32_t)a->ncpus;
	st->pages_per_cpu = a->opts.pages;
	st->page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	st->n_interfaces = a->opts.n_ifaces;
	st->interfaces = (char **)a->iface_shown_list;
	st->cgroup = (char *)a->cgroup_shown;
	st->node_name = (char *)a->node_name;
	st->tc_attach = (char *)(a->opts.n_ifaces
				     ? mm_tc_mode_name(mm_datapath__tc_mode(a->dp))
				     : "");
	st->rate_limit_per_sec = (uint32_t)a->opts.rate;
	st->rate_limit_burst = (uint32_t)(a->opts.rate ? a->opts.burst : 0);
	st->aggregation = (Meshmon__V1__AggregationLevel)a->opts.aggregation;
	st->aggregation_name = (char *)mm_aggregation_name(a->opts.aggregation);
	st->aggregation_interval_ns = a->cfg.agg_interval_ns;
	st->capture_len = a->cfg.capture_len;
	st->policy_verdicts = !!(a->cfg.event_mask & MM_EVENT_BIT(MM_EVENT_POLICY_VERDICT));
	st->endpoint_traces = a->opts.endpoint_traces && a->probe;
}

/* Kernel drops folded into meshmon's own tc drops (datapath stat KDROP_MERGED). */
static uint64_t kernel_drops_merged(const struct mm_agent *a)
{
	__u64 stats[MM_STAT_MAX];

	return mm_datapath__read_stats(a->dp, stats) ? 0 : stats[MM_STAT_KDROP_MERGED];
}

/* The point and drop counters, as both Status and /metrics show them (counters.h). */
/* traffic: the datapath's sums already read, or NULL (nothing counted). */
static void collect_counters(const struct mm_agent *a, const struct mm_traffic_counter *traffic,
			     struct mm_counters *c)
{
	struct mm_traffic_counter kernel[MM_KDROP_COUNT_SLOTS];
	int have_kernel = a->kdrops && !mm_kdrops__read_counts(a->kdrops, kernel);

	mm_counters__collect(c, traffic, have_kernel ? kernel : NULL, mm_kernel_drop_reason_name);
}

/* Status.points and Status.drops: the messages point into c and into store. */
struct status_counters {
	struct mm_traffic_counter traffic[MM_TRAFFIC_SLOTS];
	struct mm_counters c;
	Meshmon__V1__PointCounter pc[MM_TRAFFIC_POINTS], *pcp[MM_TRAFFIC_POINTS];
	Meshmon__V1__DropCounter dc[MM_TRAFFIC_REASONS + MM_KDROP_COUNT_SLOTS];
	Meshmon__V1__DropCounter *dcp[MM_TRAFFIC_REASONS + MM_KDROP_COUNT_SLOTS];
};

static void fill_counters(const struct mm_agent *a, struct status_counters *sc,
			  Meshmon__V1__Status *st)
{
	int have_traffic = !mm_datapath__read_traffic(a->dp, sc->traffic);

	collect_counters(a, have_traffic ? sc->traffic : NULL, &sc->c);
	for (size_t i = 0; i < sc->c.n_points; i++) {
		meshmon__v1__point_counter__init(&sc->pc[i]);
		sc->pc[i].point = (Meshmon__V1__TracePoint)sc->c.points[i].point;
		sc->pc[i].packets = sc->c.points[i].packets;
		sc->pc[i].bytes = sc->c.points[i].bytes;
		sc->pcp[i] = &sc->pc[i];
	}
	for (size_t i = 0; i < sc->c.n_drops; i++) {
		meshmon__v1__drop_counter__init(&sc->dc[i]);
		sc->dc[i].source = (Meshmon__V1__Source)sc->c.drops[i].source;
		sc->dc[i].reason_code = sc->c.drops[i].reason_code;
		sc->dc[i].reason = sc->c.drops[i].reason;
		sc->dc[i].packets = sc->c.drops[i].packets;
		sc->dc[i].bytes = sc->c.drops[i].bytes;
		sc->dcp[i] = &sc->dc[i];
	}
	st->n_points = sc->c.n_points;
	st->points = sc->pcp;
	st->n_drops = sc->c.n_drops;
	st->drops = sc->dcp;
}

int mm_report__send_status(void *ctx, struct bufferevent *bev)
{
	struct mm_agent *a = ctx;
	Meshmon__V1__ServerMessage msg = MESHMON__V1__SERVER_MESSAGE__INIT;
	Meshmon__V1__Status st = MESHMON__V1__STATUS__INIT;
	size_t n_loss = 3 * (size_t)a->ncpus + 2 + MM_EVENT_TYPE_SLOTS;
	Meshmon__V1__LossCounter *lc = calloc(n_loss, sizeof(*lc));
	Meshmon__V1__LossCounter **lcp = calloc(n_loss, sizeof(*lcp));
	Meshmon__V1__EventTypeCount tc[MAX_EVENT_TYPES], *tcp[MAX_EVENT_TYPES];
	struct status_counters *sc = calloc(1, sizeof(*sc));
	Meshmon__V1__TypeCounters types[MAX_EVENT_TYPES], *typesp[MAX_EVENT_TYPES];
	struct mm_hub_stats hs;
	int rc = -ENOMEM;

	if (!lc || !lcp || !sc)
		goto out;
	mm_losses__poll(a->losses, a->dp, a->hub);
	mm_hub__stats(a->hub, &hs);
	fill_setup(a, &st);
	st.uptime_ns = mm_agent__mono_ns() - a->start_mono_ns;
	st.listeners = mm_hub__listeners(a->hub);
	st.events_read = a->events_read;
	st.n_losses = fill_losses(a, hs.queue_lost, lc, lcp);
	st.losses = lcp;
	st.n_event_counts = fill_event_counts(a, tc, tcp);
	st.event_counts = tcp;
	st.n_types = fill_types(a, types, typesp);
	st.types = typesp;
	st.events_unknown = a->events_unknown;
	st.events_short = a->events_short;
	st.events_out_of_order = a->events_out_of_order;
	st.reorder_window_us = a->opts.reorder_ms * 1000;
	st.kernel_drops_merged = kernel_drops_merged(a);
	fill_counters(a, sc, &st);
	st.capture_rules = mm_captures__active(a->captures);
	st.capture_rules_max = MM_CAPTURE_RULES_MAX;
	msg.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_STATUS;
	msg.status = &st;
	rc = mm_conn__send(bev, &msg);
out:
	free(sc);
	free(lc);
	free(lcp);
	return rc;
}

void mm_report__metrics_snapshot(void *ctx, struct mm_metrics_snapshot *s)
{
	struct mm_agent *a = ctx;

	mm_losses__poll(a->losses, a->dp, a->hub);
	s->node_name = a->node_name;
	s->have_traffic = !mm_datapath__read_traffic(a->dp, s->traffic);
	memcpy(s->events_by_type, a->events_by_type, sizeof(s->events_by_type));
	s->events_unknown = a->events_unknown;
	s->events_short = a->events_short;
	s->events_out_of_order = a->events_out_of_order;
	s->reorder_window_us = a->opts.reorder_ms * 1000;
	s->kernel_drops_merged = kernel_drops_merged(a);
	collect_counters(a, s->have_traffic ? s->traffic : NULL, &s->counters);
	mm_losses__totals(a->losses, a->hub, s->lost_by_source);
	s->have_types = !mm_datapath__read_type_counters(a->dp, s->types);
	s->lost_by_source[MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_CAPTURE] +=
	    mm_captures__lost(a->captures);
	s->listeners = mm_hub__listeners(a->hub);
	s->capture_rules = mm_captures__active(a->captures);
	mm_server__connections(a->server, s->connections);
}
