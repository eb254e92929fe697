// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-agent: wires the pieces together in one libevent loop. Order of
 * start: options, datapath (config, deny rules), tc on every --iface,
 * optional tcp_probe and kernel drops, rings, hub, metrics, and last the
 * socket, so that its appearance means everything is attached. SIGINT and
 * SIGTERM stop the loop; everything is released in reverse order (the
 * datapath handle detaches its tc filters) and the agent exits 0.
 */
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <event2/event.h>

#include "conn.h"
#include "datapath.h"
#include "decode.h"
#include "kernel_drop_reasons.h"
#include "framing.h"
#include "hub.h"
#include "kernel_drops.h"
#include "log.h"
#include "metrics.h"
#include "names.h"
#include "options.h"
#include "rings.h"
#include "server.h"
#include "tcp_probe.h"

#define STATS_PERIOD_MS 1000

struct agent {
	struct mm_agent_options opts;
	struct mm_config cfg;
	struct event_base *base;
	struct mm_datapath *dp;
	struct mm_probe *probe;
	struct mm_kdrops *kdrops;
	struct mm_rings *rings;
	struct mm_hub *hub;
	struct mm_server *server;
	struct mm_metrics *metrics;
	struct event *sig_int, *sig_term, *stats_timer, *probe_timer;
	int ncpus;
	int ifindex[MM_OPT_MAX_IFACES];
	char cgroup_path[4096]; /* where tcp_probe is attached; empty when it is not */
	struct mm_decode_ctx dctx;
	struct mm_ifname_cache ifcache;
	struct mm_decoded decoded;
	Meshmon__V1__Hello hello;
	uint64_t start_mono_ns;
	uint64_t events_read, events_unknown, events_short;
	uint64_t events_by_type[256];
	/*
	 * Per CPU. ring_lost: ring loss reported so far, the larger of the
	 * datapath's ring_full counter (ring_full) and the kernel's
	 * PERF_RECORD_LOST total (kernel_lost), which count the same failed
	 * writes. dp_failed, dp_limited: the last read of output_failed and
	 * rate_limited.
	 */
	uint64_t *ring_lost, *ring_full, *kernel_lost, *dp_failed, *dp_limited, *scratch;
};

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level > LIBBPF_WARN)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void on_sample(void *ctx, int cpu, const void *data, __u32 size)
{
	struct agent *a = ctx;
	Meshmon__V1__ServerMessage msg = MESHMON__V1__SERVER_MESSAGE__INIT;
	int rc;

	rc = mm_decode(&a->dctx, data, size, cpu, &a->decoded);
	if (rc == MM_DECODE_SHORT) {
		a->events_short++;
		return;
	}
	if (rc) {
		a->events_unknown++;
		return;
	}
	a->events_read++;
	a->events_by_type[a->decoded.ev.type & 0xff]++;
	msg.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_EVENT;
	msg.event = &a->decoded.ev;
	mm_hub__publish(a->hub, &msg, &a->decoded.view, a->decoded.ev.time_ns);
}

/*
 * A full ring shows twice: the datapath counts the refused write (ring_full,
 * read every second) and the kernel counts it in the ring's lost counter
 * (PERF_RECORD_LOST, delivered with the next successful write). Report each
 * loss once: whatever the larger of the two has grown by.
 */
static void report_ring_loss(struct agent *a, int cpu, uint64_t now)
{
	uint64_t seen = a->ring_full[cpu] > a->kernel_lost[cpu] ? a->ring_full[cpu]
								 : a->kernel_lost[cpu];

	if (seen > a->ring_lost[cpu]) {
		mm_hub__add_loss(a->hub, MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_RING, (uint32_t)cpu,
				 seen - a->ring_lost[cpu], now);
		a->ring_lost[cpu] = seen;
	}
}

static void on_lost(void *ctx, int cpu, __u64 count)
{
	struct agent *a = ctx;

	if (cpu >= 0 && cpu < a->ncpus) {
		a->kernel_lost[cpu] += count;
		report_ring_loss(a, cpu, mm_hub__now_ns());
	} else {
		mm_hub__add_loss(a->hub, MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_RING, MM_CPU_NONE,
				 count, mm_hub__now_ns());
	}
}

/* Datapath counters are per CPU and cumulative: report what grew since the last read. */
static void poll_datapath_losses(struct agent *a)
{
	static const struct {
		__u32 stat;
		unsigned int source;
	} kinds[] = {
	    {MM_STAT_OUTPUT_FAILED, MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_DATAPATH},
	    {MM_STAT_RATE_LIMITED, MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_RATE_LIMIT},
	};
	uint64_t now = mm_hub__now_ns();

	for (size_t k = 0; k < 2; k++) {
		uint64_t *prev = k == 0 ? a->dp_failed : a->dp_limited;

		if (mm_datapath__read_stats_percpu(a->dp, kinds[k].stat, (__u64 *)a->scratch,
						   a->ncpus))
			continue;
		for (int c = 0; c < a->ncpus; c++) {
			if (a->scratch[c] > prev[c])
				mm_hub__add_loss(a->hub, kinds[k].source, (uint32_t)c,
						 a->scratch[c] - prev[c], now);
			prev[c] = a->scratch[c];
		}
	}
	if (!mm_datapath__read_stats_percpu(a->dp, MM_STAT_RING_FULL, (__u64 *)a->ring_full,
					    a->ncpus)) {
		for (int c = 0; c < a->ncpus; c++)
			report_ring_loss(a, c, now);
	}
}

static void on_stats_timer(evutil_socket_t fd, short what, void *arg)
{
	struct agent *a = arg;

	(void)fd;
	(void)what;
	poll_datapath_losses(a);
	/* Follow clock steps (NTP) and interface renames within a second. */
	a->dctx.wall_offset_ns = mm_clock_offset_ns();
	mm_ifname_cache__flush(&a->ifcache);
}

/* tcp_probe's iterator reports every open connection, idle ones included. */
static void on_probe_timer(evutil_socket_t fd, short what, void *arg)
{
	struct agent *a = arg;
	int rc;

	(void)fd;
	(void)what;
	rc = mm_probe__run_iter(a->probe);
	if (rc)
		mm_log("tcp_probe: periodic iterator run failed: %s", strerror(-rc));
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct agent *a = arg;

	(void)what;
	mm_log("signal %d: detaching and exiting", (int)sig);
	event_base_loopbreak(a->base);
}

static uint64_t sum(const uint64_t *v, int n)
{
	uint64_t s = 0;

	for (int i = 0; i < n; i++)
		s += v[i];
	return s;
}

static void loss_totals(struct agent *a, uint64_t *by_source)
{
	struct mm_hub_stats hs;

	mm_hub__stats(a->hub, &hs);
	memset(by_source, 0, MM_LOSS_SOURCES * sizeof(*by_source));
	by_source[MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_DATAPATH] = sum(a->dp_failed, a->ncpus);
	by_source[MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_RING] = sum(a->ring_lost, a->ncpus);
	by_source[MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_RATE_LIMIT] = sum(a->dp_limited, a->ncpus);
	by_source[MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_QUEUE] = hs.queue_lost;
}

static int send_status(void *ctx, struct bufferevent *bev)
{
	struct agent *a = ctx;
	Meshmon__V1__ServerMessage msg = MESHMON__V1__SERVER_MESSAGE__INIT;
	Meshmon__V1__Status st = MESHMON__V1__STATUS__INIT;
	size_t n_loss = 3 * (size_t)a->ncpus + 1, n_types = 0, i = 0;
	Meshmon__V1__LossCounter *lc = calloc(n_loss, sizeof(*lc));
	Meshmon__V1__LossCounter **lcp = calloc(n_loss, sizeof(*lcp));
	Meshmon__V1__EventTypeCount tc[16], *tcp[16];
	struct mm_hub_stats hs;
	int rc = -ENOMEM;

	if (!lc || !lcp)
		goto out;
	poll_datapath_losses(a);
	mm_hub__stats(a->hub, &hs);
	for (int c = 0; c < a->ncpus; c++) {
		const uint64_t *v[3] = {a->dp_failed, a->ring_lost, a->dp_limited};
		const unsigned int src[3] = {MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_DATAPATH,
					     MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_RING,
					     MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_RATE_LIMIT};

		for (int k = 0; k < 3; k++) {
			meshmon__v1__loss_counter__init(&lc[i]);
			lc[i].source = (Meshmon__V1__LossSource)src[k];
			lc[i].cpu = (uint32_t)c;
			lc[i].count = v[k][c];
			lcp[i] = &lc[i];
			i++;
		}
	}
	meshmon__v1__loss_counter__init(&lc[i]);
	lc[i].source = MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_QUEUE;
	lc[i].cpu = MM_CPU_NONE;
	lc[i].count = hs.queue_lost;
	lcp[i] = &lc[i];
#define X(name, value, text)                                                                       \
	meshmon__v1__event_type_count__init(&tc[n_types]);                                         \
	tc[n_types].type = (Meshmon__V1__EventType)value;                                          \
	tc[n_types].count = a->events_by_type[value];                                              \
	tcp[n_types] = &tc[n_types];                                                               \
	n_types++;
	MM_EVENT_TYPES(X)
#undef X
	st.agent_version = (char *)MESHMON_VERSION;
	st.protocol_version = MM_PROTOCOL_VERSION;
	st.num_cpus = (uint32_t)a->ncpus;
	st.pages_per_cpu = a->opts.pages;
	st.page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	st.uptime_ns = mono_ns() - a->start_mono_ns;
	st.listeners = mm_hub__listeners(a->hub);
	st.events_read = a->events_read;
	st.n_losses = n_loss;
	st.losses = lcp;
	st.n_interfaces = a->opts.n_ifaces;
	st.interfaces = (char **)a->opts.ifaces;
	st.cgroup = a->cgroup_path;
	st.rate_limit_per_sec = (uint32_t)a->opts.rate;
	st.rate_limit_burst = (uint32_t)(a->opts.rate ? a->opts.burst : 0);
	st.aggregation = (Meshmon__V1__AggregationLevel)a->opts.aggregation;
	st.aggregation_name = (char *)mm_aggregation_name(a->opts.aggregation);
	st.aggregation_interval_ns = a->cfg.agg_interval_ns;
	st.capture_len = a->cfg.capture_len;
	st.n_event_counts = n_types;
	st.event_counts = tcp;
	st.events_unknown = a->events_unknown;
	st.events_short = a->events_short;
	msg.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_STATUS;
	msg.status = &st;
	rc = mm_conn__send(bev, &msg);
out:
	free(lc);
	free(lcp);
	return rc;
}

static void metrics_snapshot(void *ctx, struct mm_metrics_snapshot *s)
{
	struct agent *a = ctx;

	poll_datapath_losses(a);
	s->have_traffic = !mm_datapath__read_traffic(a->dp, s->traffic);
	memcpy(s->events_by_type, a->events_by_type, sizeof(s->events_by_type));
	s->events_unknown = a->events_unknown;
	s->events_short = a->events_short;
	loss_totals(a, s->lost_by_source);
	s->listeners = mm_hub__listeners(a->hub);
}

static const char *ifname_lookup(void *arg, unsigned int ifindex)
{
	return mm_ifname_cache__lookup(arg, ifindex);
}

static int netns_inode(__u32 *ino)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st))
		return -errno;
	*ino = (__u32)st.st_ino;
	return 0;
}

static int start(struct agent *a)
{
	struct mm_rings_opts ro = {0};
	struct mm_hub_opts ho = {0};
	struct mm_server_opts so = {0};
	struct timeval tv = {STATS_PERIOD_MS / 1000, (STATS_PERIOD_MS % 1000) * 1000};
	char err[256];
	int rc;

	/* Every interface must exist before anything is attached. */
	for (size_t i = 0; i < a->opts.n_ifaces; i++) {
		a->ifindex[i] = (int)if_nametoindex(a->opts.ifaces[i]);
		if (!a->ifindex[i]) {
			mm_log("--iface %s: no such interface (see `ip link`)", a->opts.ifaces[i]);
			return MM_EXIT_FAILURE;
		}
	}
	a->ncpus = libbpf_num_possible_cpus();
	if (a->ncpus < 1) {
		mm_log("cannot count possible CPUs: %s", strerror(-a->ncpus));
		return MM_EXIT_FAILURE;
	}
	a->ring_lost = calloc((size_t)a->ncpus, sizeof(uint64_t));
	a->ring_full = calloc((size_t)a->ncpus, sizeof(uint64_t));
	a->kernel_lost = calloc((size_t)a->ncpus, sizeof(uint64_t));
	a->dp_failed = calloc((size_t)a->ncpus, sizeof(uint64_t));
	a->dp_limited = calloc((size_t)a->ncpus, sizeof(uint64_t));
	a->scratch = calloc((size_t)a->ncpus, sizeof(uint64_t));
	if (!a->ring_lost || !a->ring_full || !a->kernel_lost || !a->dp_failed || !a->dp_limited ||
	    !a->scratch)
		return MM_EXIT_FAILURE;

	mm_config__defaults(&a->cfg);
	mm_agent_options__to_config(&a->opts, a->ncpus, &a->cfg);
	a->dp = mm_datapath__open(&a->cfg);
	if (!a->dp) {
		mm_log("load the tc datapath: %s (root and a kernel with BPF are needed)",
		       strerror(errno));
		return MM_EXIT_FAILURE;
	}
	mm_log("datapath loaded: capture %u bytes, aggregation %s, rate limit %" PRIu64
	       "/s per CPU (burst %" PRIu64 ")",
	       a->cfg.capture_len, mm_aggregation_name(a->cfg.aggregation),
	       (uint64_t)a->cfg.rate_per_cpu, (uint64_t)a->cfg.burst_per_cpu);
	if (a->opts.n_deny) {
		rc = mm_datapath__set_deny_rules(a->dp, a->opts.deny, a->opts.n_deny);
		if (rc) {
			mm_log("install %zu deny rules: %s", a->opts.n_deny, strerror(-rc));
			return MM_EXIT_FAILURE;
		}
		mm_log("%zu deny rules installed", a->opts.n_deny);
	}
	for (size_t i = 0; i < a->opts.n_ifaces; i++) {
		rc = mm_datapath__attach_tc(a->dp, a->ifindex[i]);
		if (rc) {
			mm_log("attach tc ingress/egress on %s: %s", a->opts.ifaces[i],
			       strerror(-rc));
			return MM_EXIT_FAILURE;
		}
		mm_log("attached tc ingress and egress on %s (ifindex %d)", a->opts.ifaces[i],
		       a->ifindex[i]);
	}
	if (a->opts.tcp_probe) {
		int rc = 0;

		if (a->opts.cgroup)
			snprintf(a->cgroup_path, sizeof(a->cgroup_path), "%s", a->opts.cgroup);
		else
			rc = mm_cgroup2_root(a->cgroup_path, sizeof(a->cgroup_path));
		if (rc) {
			mm_log("tcp_probe: no cgroup v2 hierarchy mounted (%s); use --cgroup PATH or "
			       "--cgroup none", strerror(-rc));
			return MM_EXIT_FAILURE;
		}
		a->probe = mm_probe__open(a->dp, a->cgroup_path);
		if (!a->probe) {
			mm_log("tcp_probe on cgroup %s: %s", a->cgroup_path, strerror(errno));
			a->cgroup_path[0] = '\0';
			return MM_EXIT_FAILURE;
		}
		mm_log("tcp_probe attached to cgroup %s, connections reported every %u s",
		       a->cgroup_path, a->opts.probe_interval_s);
	}
	if (a->opts.kernel_drops) {
		__u32 ino = 0;

		a->kdrops = mm_kdrops__open(a->dp, a->opts.kernel_drops == 2);
		if (!a->kdrops) {
			mm_log("kernel drops (tp_btf/kfree_skb): %s", strerror(errno));
			return MM_EXIT_FAILURE;
		}
		if (!netns_inode(&ino))
			mm_kdrops__watch_netns(a->kdrops, ino);
		if (a->opts.kernel_drops == 2)
			mm_log("kernel drops attached%s, every network namespace",
			       mm_kdrops__is_fallback(a->kdrops) ? " (raw_tp fallback)" : "");
		else
			mm_log("kernel drops attached%s, watching netns %u",
			       mm_kdrops__is_fallback(a->kdrops) ? " (raw_tp fallback)" : "", ino);
	}

	ho.queue_bytes = a->opts.queue_bytes;
	ho.history = a->opts.history;
	ho.ncpus = (unsigned int)a->ncpus;
	a->hub = mm_hub__new(a->base, &ho);
	if (!a->hub) {
		mm_log("listener hub: %s", strerror(errno));
		return MM_EXIT_FAILURE;
	}
	a->dctx.wall_offset_ns = mm_clock_offset_ns();
	a->dctx.kernel_drop_reason_name = mm_kernel_drop_reason_name;
	a->dctx.ifname = ifname_lookup;
	a->dctx.ifname_arg = &a->ifcache;
	ro.events_fd = mm_datapath__events_fd(a->dp);
	ro.pages = a->opts.pages;
	ro.wakeup_events = a->opts.wakeup_events;
	ro.drain_ms = a->opts.drain_ms;
	ro.on_sample = on_sample;
	ro.on_lost = on_lost;
	ro.ctx = a;
	a->rings = mm_rings__new(a->base, &ro);
	if (!a->rings) {
		mm_log("perf rings (%u pages per CPU): %s", a->opts.pages, strerror(errno));
		return MM_EXIT_FAILURE;
	}
	a->stats_timer = event_new(a->base, -1, EV_PERSIST, on_stats_timer, a);
	if (!a->stats_timer || event_add(a->stats_timer, &tv))
		return MM_EXIT_FAILURE;
	if (a->probe) {
		struct timeval ptv = {(time_t)a->opts.probe_interval_s, 0};

		a->probe_timer = event_new(a->base, -1, EV_PERSIST, on_probe_timer, a);
		if (!a->probe_timer || event_add(a->probe_timer, &ptv))
			return MM_EXIT_FAILURE;
	}
	if (a->opts.metrics) {
		a->metrics = mm_metrics__new(a->base, a->opts.metrics, metrics_snapshot, a);
		if (!a->metrics) {
			mm_log("--metrics %s: cannot listen: %s", a->opts.metrics, strerror(errno));
			return MM_EXIT_FAILURE;
		}
		mm_log("metrics on http://%s/metrics", a->opts.metrics);
	}

	meshmon__v1__hello__init(&a->hello);
	a->hello.protocol_version = MM_PROTOCOL_VERSION;
	a->hello.agent_version = (char *)MESHMON_VERSION;
	a->hello.num_cpus = (uint32_t)a->ncpus;
	a->hello.pages_per_cpu = a->opts.pages;
	a->hello.page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	a->hello.capture_len = a->cfg.capture_len;
	so.path = a->opts.socket_path;
	so.max_listeners = a->opts.max_listeners;
	so.hello = &a->hello;
	so.send_status = send_status;
	so.ctx = a;
	a->server = mm_server__new(a->base, a->hub, &so, err, sizeof(err));
	if (!a->server) {
		mm_log("%s", err);
		return MM_EXIT_FAILURE;
	}
	mm_log("ready: %u rings of %u pages, listening on %s", mm_rings__count(a->rings),
	       a->opts.pages, a->opts.socket_path);
	return MM_EXIT_OK;
}

static void stop(struct agent *a)
{
	mm_server__free(a->server);
	mm_metrics__free(a->metrics);
	mm_hub__free(a->hub);
	if (a->stats_timer)
		event_free(a->stats_timer);
	if (a->probe_timer)
		event_free(a->probe_timer);
	mm_rings__free(a->rings);
	mm_kdrops__free(a->kdrops);
	mm_probe__free(a->probe);
	mm_datapath__free(a->dp); /* detaches every tc filter it attached */
	mm_decoded__release(&a->decoded);
	if (a->sig_int)
		event_free(a->sig_int);
	if (a->sig_term)
		event_free(a->sig_term);
	free(a->ring_lost);
	free(a->ring_full);
	free(a->kernel_lost);
	free(a->dp_failed);
	free(a->dp_limited);
	free(a->scratch);
	if (a->base)
		event_base_free(a->base);
}

int main(int argc, char **argv)
{
	static struct agent agent; /* large (decoded event storage); zeroed */
	struct agent *a = &agent;
	char err[256];
	int rc;

	rc = mm_agent_options__parse(&a->opts, argc, argv, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "meshmon-agent: %s\n", err);
		return rc;
	}
	if (a->opts.help) {
		char usage[4096];

		mm_agent_options__usage(usage, sizeof(usage), argv[0]);
		fputs(usage, stdout);
		return MM_EXIT_OK;
	}
	libbpf_set_print(libbpf_print);
	signal(SIGPIPE, SIG_IGN);
	a->start_mono_ns = mono_ns();
	a->base = event_base_new();
	if (!a->base) {
		mm_log("event_base_new failed");
		return MM_EXIT_FAILURE;
	}
	a->sig_int = evsignal_new(a->base, SIGINT, on_signal, a);
	a->sig_term = evsignal_new(a->base, SIGTERM, on_signal, a);
	if (!a->sig_int || !a->sig_term || event_add(a->sig_int, NULL) ||
	    event_add(a->sig_term, NULL)) {
		stop(a);
		return MM_EXIT_FAILURE;
	}
	rc = start(a);
	if (rc == MM_EXIT_OK && event_base_dispatch(a->base) < 0) {
		mm_log("event loop failed");
		rc = MM_EXIT_FAILURE;
	}
	stop(a);
	if (rc == MM_EXIT_OK)
		mm_log("stopped; everything detached");
	return rc;
}
