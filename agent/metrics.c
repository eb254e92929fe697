// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Owns the /metrics HTTP endpoint and the Prometheus text format (metrics.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/http.h>

#include "metrics.h"
#include "metrics_http.h"
#include "names.h"
#include "protocol.h"

struct mm_metrics {
	struct evhttp *http;
	mm_metrics_snapshot_fn fn;
	void *ctx;
};

struct out {
	char *buf;
	size_t len, pos;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->pos < o->len ? o->buf + o->pos : NULL,
		      o->pos < o->len ? o->len - o->pos : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->pos += (size_t)n;
}

/* One counter family by observation point (counters.h): packets, or bytes when bytes is set. */
static void put_points(struct out *o, const struct mm_counters *c, const char *name,
		       const char *help, int bytes)
{
	put(o, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
	for (size_t i = 0; i < c->n_points; i++)
		put(o, "%s{point=\"%s\"} %" PRIu64 "\n", name,
		    mm_trace_point_name(c->points[i].point),
		    bytes ? c->points[i].bytes : c->points[i].packets);
}

/* One counter family by drop source and reason (counters.h): packets, or bytes. */
static void put_drops(struct out *o, const struct mm_counters *c, const char *name,
		      const char *help, int bytes)
{
	put(o, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
	for (size_t i = 0; i < c->n_drops; i++)
		put(o, "%s{source=\"%s\",reason=\"%s\"} %" PRIu64 "\n", name,
		    mm_source_name(c->drops[i].source), c->drops[i].reason,
		    bytes ? c->drops[i].bytes : c->drops[i].packets);
}

static void put_counters(struct out *o, const struct mm_counters *c)
{
	put_points(o, c, "meshmon_observed_packets_total",
		   "Packets seen at each observation point, those dropped there included.", 0);
	put_points(o, c, "meshmon_observed_bytes_total", "Bytes seen at each observation point.",
		   1);
	put_drops(o, c, "meshmon_drops_total",
		  "Packets dropped, by who dropped them and why (every drop, reported or not).", 0);
	put_drops(o, c, "meshmon_dropped_bytes_total",
		  "Bytes of the packets dropped, by who dropped them and why.", 1);
}

/* One counter family by record type: emitted, or refused. */
static void put_types(struct out *o, const struct mm_metrics_snapshot *s, const char *name,
		      const char *help, int refused)
{
	put(o, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
#define X(tname, value, text)                                                                      \
	put(o, "%s{type=\"%s\"} %" PRIu64 "\n", name, text,                                        \
	    (uint64_t)(refused ? s->types[value].refused : s->types[value].emitted));
	MM_EVENT_TYPES(X)
#undef X
}

/* Records the datapath emitted and refused (by the type's own limit), per record type. */
static void put_type_counters(struct out *o, const struct mm_metrics_snapshot *s)
{
	put_types(o, s, "meshmon_records_emitted_total",
		  "Records the datapath wrote to the rings, by type.", 0);
	put_types(
	    o, s, "meshmon_records_refused_total",
	    "Records refused by their type's own rate limit (--rate-limit TYPE=RATE), by type.", 1);
}

/* A label value in the exposition format's escaping (metrics_http.h). */
static void put_label_value(struct out *o, const char *v)
{
	o->pos += mm_prom__escape_label(o->pos < o->len ? o->buf + o->pos : NULL,
					o->pos < o->len ? o->len - o->pos : 0, v);
}

/*
 * Info-style series (value 1, the facts in labels), as Prometheus's own
 * prometheus_build_info. The node's name is a label of meshmon_node_info
 * only, never of every series: a fleet gives each target a node label in
 * its scrape config (docs/fleet.md), and joins on this series to check it.
 * The label is node_name, not node, so that it never clashes with that
 * target label (Prometheus would rename one to exported_node).
 */
static void put_info(struct out *o, const struct mm_metrics_snapshot *s)
{
	put(o, "# HELP meshmon_build_info The agent's version and the protocol version it speaks.\n"
	       "# TYPE meshmon_build_info gauge\n"
	       "meshmon_build_info{version=\"");
	put_label_value(o, MESHMON_VERSION);
	put(o, "\",protocol=\"%u\"} 1\n", (unsigned int)MM_PROTOCOL_VERSION);
	put(o, "# HELP meshmon_node_info The node name the agent reports (--node-name, else the "
	       "host name).\n"
	       "# TYPE meshmon_node_info gauge\n"
	       "meshmon_node_info{node_name=\"");
	put_label_value(o, s->node_name ? s->node_name : "");
	put(o, "\"} 1\n");
}

size_t mm_metrics__render(const struct mm_metrics_snapshot *s, char *buf, size_t len)
{
	struct out o = {buf, len, 0};

	if (len)
		buf[0] = '\0';
	put_info(&o, s);
	if (s->have_traffic) {
		put(&o, "# HELP meshmon_traffic_packets_total Packets seen by the tc datapath.\n"
			"# TYPE meshmon_traffic_packets_total counter\n");
		for (int pass = 0; pass < 2; pass++) {
			if (pass == 1)
				put(&o, "# HELP meshmon_traffic_bytes_total Bytes seen by the tc "
					"datapath.\n"
					"# TYPE meshmon_traffic_bytes_total counter\n");
			for (unsigned int dir = MM_DIR_INGRESS; dir <= MM_DIR_EGRESS; dir++) {
				for (unsigned int r = 0; r < MM_TRAFFIC_REASONS; r++) {
					const struct mm_traffic_counter *c =
					    &s->traffic[MM_TRAFFIC_INDEX(MM_TC_POINT(dir), r)];
					const char *reason =
					    r ? mm_drop_reason_name(r) : "forwarded";

					if (!reason || (r && !c->packets))
						continue;
					put(&o,
					    "meshmon_traffic_%s_total{direction=\"%s\",reason=\"%"
					    "s\"} %" PRIu64 "\n",
					    pass ? "bytes" : "packets", mm_direction_name(dir),
					    reason,
					    pass ? (uint64_t)c->bytes : (uint64_t)c->packets);
				}
			}
		}
	}
	put_counters(&o, &s->counters);
	put(&o, "# HELP meshmon_events_total Records read from the rings, by type.\n"
		"# TYPE meshmon_events_total counter\n");
#define X(name, value, text)                                                                       \
	put(&o, "meshmon_events_total{type=\"%s\"} %" PRIu64 "\n", text, s->events_by_type[value]);
	MM_EVENT_TYPES(X)
#undef X
	put(&o, "meshmon_events_total{type=\"unknown\"} %" PRIu64 "\n", s->events_unknown);
	put(&o, "meshmon_events_total{type=\"short\"} %" PRIu64 "\n", s->events_short);
	put(&o,
	    "# HELP meshmon_events_out_of_order_total Events that reached the reorder window too "
	    "late to be put in time order, delivered marked out_of_order.\n"
	    "# TYPE meshmon_events_out_of_order_total counter\n"
	    "meshmon_events_out_of_order_total %" PRIu64 "\n"
	    "# HELP meshmon_reorder_window_seconds The longest an event is held to be put in time "
	    "order (0: off).\n"
	    "# TYPE meshmon_reorder_window_seconds gauge\n"
	    "meshmon_reorder_window_seconds %u.%06u\n",
	    s->events_out_of_order, s->reorder_window_us / 1000000, s->reorder_window_us % 1000000);
	put(&o,
	    "# HELP meshmon_kernel_drops_merged_total Kernel drops of packets meshmon's own deny "
	    "rules dropped, reported once as the tc drop.\n"
	    "# TYPE meshmon_kernel_drops_merged_total counter\n"
	    "meshmon_kernel_drops_merged_total %" PRIu64 "\n",
	    s->kernel_drops_merged);
	put(&o, "# HELP meshmon_lost_events_total Events lost, by where they were lost.\n"
		"# TYPE meshmon_lost_events_total counter\n");
#define X(name, value, display, key)                                                             \
	put(&o, "meshmon_lost_events_total{source=\"%s\"} %" PRIu64 "\n", key,                  \
	    s->lost_by_source[value]);
	MM_LOSS_SOURCE_TABLE(X)
#undef X
	if (s->have_types)
		put_type_counters(&o, s);
	put(&o,
	    "# HELP meshmon_listeners Subscribed clients.\n"
	    "# TYPE meshmon_listeners gauge\n"
	    "meshmon_listeners %u\n",
	    s->listeners);
	put(&o,
	    "# HELP meshmon_capture_rules Captures on demand running now (at most %d).\n"
	    "# TYPE meshmon_capture_rules gauge\n"
	    "meshmon_capture_rules %u\n",
	    MM_CAPTURE_RULES_MAX, s->capture_rules);
	put(&o, "# HELP meshmon_connections_total Connections accepted, by how their handshake "
		"ended.\n"
		"# TYPE meshmon_connections_total counter\n");
#define X(name, label)                                                                             \
	put(&o, "meshmon_connections_total{result=\"%s\"} %" PRIu64 "\n", label,                  \
	    s->connections[MM_CONN_##name]);
	MM_CONN_RESULT_TABLE(X)
#undef X
	return o.pos;
}

static void on_metrics(struct evhttp_request *req, void *arg)
{
	struct mm_metrics *m = arg;
	struct mm_metrics_snapshot *snap;
	size_t need;
	char *text;

	if (!mm_http__method_allowed(req))
		return;
	snap = calloc(1, sizeof(*snap));
	if (!snap) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	m->fn(m->ctx, snap);
	need = mm_metrics__render(snap, NULL, 0) + 1;
	text = malloc(need);
	if (!text) {
		free(snap);
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	mm_metrics__render(snap, text, need);
	mm_http__reply(req, "text/plain; version=0.0.4", text, strlen(text));
	free(text);
	free(snap);
}

/*
 * Liveness: answered from the agent's one event loop, the one that reads the
 * rings and serves the clients, which starts only once every startup step
 * is done (datapath attached, socket listening). A 200 means that loop is
 * turning; a wedged loop answers nothing (the prober's timeout), never 200.
 */
static void on_healthz(struct evhttp_request *req, void *arg)
{
	static const char ok[] = "ok\n";

	(void)arg;
	if (mm_http__method_allowed(req))
		mm_http__reply(req, "text/plain", ok, sizeof(ok) - 1);
}

static void on_other(struct evhttp_request *req, void *arg)
{
	(void)arg;
	evhttp_send_error(req, 404, "only /metrics and /healthz here");
}

struct mm_metrics *mm_metrics__new(struct event_base *base, const char *addr_port,
				   mm_metrics_snapshot_fn fn, void *ctx)
{
	struct mm_metrics *m = calloc(1, sizeof(*m));
	int e;

	if (!m)
		return NULL;
	m->fn = fn;
	m->ctx = ctx;
	m->http = mm_http__listen(base, addr_port);
	if (!m->http) {
		e = errno;
		free(m);
		errno = e;
		return NULL;
	}
	evhttp_set_cb(m->http, "/metrics", on_metrics, m);
	evhttp_set_cb(m->http, "/healthz", on_healthz, m);
	evhttp_set_gencb(m->http, on_other, m);
	return m;
}

void mm_metrics__free(struct mm_metrics *m)
{
	if (!m)
		return;
	if (m->http)
		evhttp_free(m->http);
	free(m);
}
