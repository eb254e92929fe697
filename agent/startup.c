// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Start and stop of each subsystem of meshmon-agent (agent.h), and the small
 * callbacks they register on the loop: a ring record is put in time order
 * across CPUs (reorder.h), then decoded and published to the hub,
 * PERF_RECORD_LOST goes to the loss ledger, a 1 s timer reads the
 * datapath's loss counters, a timer runs tcp_probe's periodic pass. main() calls
 * the start functions in order and the stop functions in reverse.
 */
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <event2/event.h>

#include "agent.h"
#include "capture.h"
#include "kernel_drop_reasons.h"
#include "framing.h"
#include "hub.h"
#include "kallsyms.h"
#include "kernel_drops.h"
#include "log.h"
#include "metrics.h"
#include "names.h"
#include "notify.h"
#include "reorder.h"
#include "report.h"
#include "rings.h"
#include "server.h"
#include "tcp_probe.h"
#include "sock_xlate.h"
#include "tcp_probe_netns.h"

#define STATS_PERIOD_MS 1000

/* -err of a call that set errno; never 0, which main() would read as success. */
static int fail(int err)
{
	return err > 0 ? -err : -EIO;
}

int mm_agent__start_losses(struct mm_agent *a)
{
	a->ncpus = libbpf_num_possible_cpus();
	if (a->ncpus < 1) {
		mm_log("cannot count possible CPUs: %s", strerror(-a->ncpus));
		return a->ncpus < 0 ? a->ncpus : -EINVAL;
	}
	a->losses = mm_losses__new(a->ncpus);
	if (!a->losses)
		return fail(errno); /* ENOMEM only; the agent has never logged it */
	return 0;
}

void mm_agent__stop_losses(struct mm_agent *a)
{
	mm_losses__free(a->losses);
	a->losses = NULL;
}

/* Each record type's own limit (--rate-limit TYPE=...), per CPU. */
static int write_type_rates(struct mm_agent *a)
{
	for (unsigned int type = 0; type < MM_EVENT_TYPE_SLOTS; type++) {
		struct mm_type_rate rate;
		int rc;

		mm_agent_options__type_rate(&a->opts, a->ncpus, type, &rate);
		if (!rate.rate_per_cpu)
			continue;
		rc = mm_datapath__set_type_rate(a->dp, type, &rate);
		if (rc) {
			mm_log("rate limit of %s: %s", mm_event_type_name(type), strerror(-rc));
			return rc;
		}
		mm_log("rate limit of %s: %" PRIu64 "/s per CPU (burst %" PRIu64 ")",
		       mm_event_type_name(type), (uint64_t)rate.rate_per_cpu,
		       (uint64_t)rate.burst_per_cpu);
	}
	return 0;
}

/* The tc datapath: its configuration from the options, then the deny rules. */
int mm_agent__start_datapath(struct mm_agent *a)
{
	int rc;

	mm_config__defaults(&a->cfg);
	mm_agent_options__to_config(&a->opts, a->ncpus, &a->cfg);
	a->dp = mm_datapath__open(&a->cfg);
	if (!a->dp) {
		rc = errno;
		mm_log("load the tc datapath: %s (root and a kernel with BPF are needed)",
		       strerror(rc));
		return fail(rc);
	}
	rc = mm_datapath__set_tc_mode(a->dp, (enum mm_tc_mode)a->opts.tc_attach, NULL);
	if (rc) {
		mm_log("tc attach mode %s: %s", mm_tc_mode_name(a->opts.tc_attach), strerror(-rc));
		return rc;
	}
	mm_log("datapath loaded: capture %u bytes, aggregation %s, rate limit %" PRIu64
	       "/s per CPU (burst %" PRIu64 ")",
	       a->cfg.capture_len, mm_aggregation_name(a->cfg.aggregation),
	       (uint64_t)a->cfg.rate_per_cpu, (uint64_t)a->cfg.burst_per_cpu);
	rc = write_type_rates(a);
	if (rc)
		return rc;
	if (a->opts.n_deny) {
		rc = mm_datapath__set_deny_rules(a->dp, a->opts.deny, a->opts.n_deny);
		if (rc) {
			mm_log("install %zu deny rules: %s", a->opts.n_deny, strerror(-rc));
			return rc;
		}
		mm_log("%zu deny rules installed", a->opts.n_deny);
	}
	return 0;
}

void mm_agent__stop_datapath(struct mm_agent *a)
{
	mm_datapath__free(a->dp); /* detaches every tc filter it attached */
	a->dp = NULL;
}

static void log_tc_refused(const struct mm_agent *a, size_t i, int rc)
{
	pid_t owner = mm_datapath__tc_owner_pid(a->dp, a->ifindex[i]);

	if (rc != -EBUSY) {
		mm_log("attach tc ingress/egress on %s: %s", a->opts.ifaces[i], strerror(-rc));
		return;
	}
	if (owner > 0)
		mm_log("--iface %s: already monitored by a running meshmon-agent (pid %ld) through "
		       "clsact filters, which do not stack; stop it first",
		       a->opts.ifaces[i], (long)owner);
	else
		mm_log("--iface %s: already monitored by a running meshmon-agent through clsact "
		       "filters, which do not stack; stop it first",
		       a->opts.ifaces[i]);
}

/* No stop of its own: the datapath handle detaches what it attached. */
int mm_agent__start_tc(struct mm_agent *a)
{
	int rc;

	for (size_t i = 0; i < a->opts.n_ifaces; i++) {
		rc = mm_datapath__attach_tc(a->dp, a->ifindex[i]);
		if (rc) {
			log_tc_refused(a, i, rc);
			return rc;
		}
		mm_log("attached tc ingress and egress on %s (ifindex %d) as %s",
		       a->opts.ifaces[i], a->ifindex[i],
		       mm_datapath__tc_mode(a->dp) == MM_TC_MODE_TCX
			   ? "TCX links (detached by the kernel when the agent exits)"
			   : a->opts.tc_attach == MM_TC_MODE_CLSACT
				 ? "clsact filters (--tc-attach clsact)"
				 : "clsact filters (TCX not available)");
	}
	return 0;
}

/* --endpoint-traces on: cgroup_skb traces; off, nothing is attached and nothing costs. */
static int start_endpoints(struct mm_agent *a)
{
	int rc;

	if (!a->opts.endpoint_traces)
		return 0;
	rc = mm_probe__attach_endpoints(a->probe);
	if (rc) {
		mm_log("endpoint traces (cgroup_skb) on cgroup %s: %s", a->cgroup_path,
		       strerror(-rc));
		errno = -rc;
		return -1;
	}
	mm_log("endpoint traces (to-endpoint, from-endpoint) on cgroup %s", a->cgroup_path);
	return 0;
}

/*
 * TCP translations are seen by tcp_probe's sockops; UDP needs programs of its
 * own, one of them on every packet sent: only when trace-sock was asked for.
 */
static int start_xlate(struct mm_agent *a)
{
	if (!(a->cfg.event_mask & MM_EVENT_BIT(MM_EVENT_TRACE_SOCK)))
		return 0;
	a->xlate = mm_xlate__open(a->dp, a->cgroup_path);
	if (!a->xlate) {
		int rc = errno;

		mm_log("trace-sock (UDP) on cgroup %s: %s", a->cgroup_path, strerror(rc));
		errno = rc;
		return -1;
	}
	mm_log("trace-sock: UDP connect/sendmsg translations watched on cgroup %s",
	       a->cgroup_path);
	return 0;
}

int mm_agent__start_probe(struct mm_agent *a)
{
	int rc;

	if (!a->opts.tcp_probe)
		return 0;
	/* a->cgroup_path was resolved and checked by the preflight */
	a->probe = mm_probe__open(a->dp, a->cgroup_path);
	if (!a->probe) {
		rc = errno;
		mm_log("tcp_probe on cgroup %s: %s", a->cgroup_path, strerror(rc));
		a->cgroup_path[0] = '\0';
		return fail(rc);
	}
	mm_log("tcp_probe attached to cgroup %s, connections reported every %u s", a->cgroup_path,
	       a->opts.probe_interval_s);
	if (start_endpoints(a) || start_xlate(a)) {
		rc = errno;
		mm_agent__stop_probe(a);
		a->cgroup_path[0] = '\0';
		return fail(rc);
	}
	return 0;
}

void mm_agent__stop_probe(struct mm_agent *a)
{
	mm_xlate__free(a->xlate);
	a->xlate = NULL;
	mm_probe__free(a->probe);
	a->probe = NULL;
}

static int netns_inode(__u32 *ino)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st))
		return -errno;
	*ino = (__u32)st.st_ino;
	return 0;
}

/* --kernel-drops: the agent's own network namespace (1) or every one (2). */
int mm_agent__start_kdrops(struct mm_agent *a)
{
	int all = a->opts.kernel_drops == 2, rc;
	__u32 ino = 0;

	if (!a->opts.kernel_drops)
		return 0;
	a->kdrops = mm_kdrops__open(a->dp, all);
	if (!a->kdrops) {
		rc = errno;
		mm_log("kernel drops (tp_btf/kfree_skb): %s", strerror(rc));
		return fail(rc);
	}
	if (!netns_inode(&ino))
		mm_kdrops__watch_netns(a->kdrops, ino);
	/* Drop.symbol: without the table (unreadable) the raw location still goes out. */
	a->kallsyms = mm_kallsyms__new(NULL, NULL, 0);
	if (!a->kallsyms)
		mm_log("kernel drop locations not symbolized: /proc/kallsyms: %s", strerror(errno));
	else if (!mm_kallsyms__count(a->kallsyms))
		mm_log("kernel drop locations not symbolized: /proc/kallsyms shows no addresses "
		       "(kernel.kptr_restrict)");
	a->dctx.symbolize = a->kallsyms ? mm_kallsyms__lookup : NULL;
	a->dctx.symbolize_arg = a->kallsyms;
	if (all)
		mm_log("kernel drops attached%s, every network namespace",
		       mm_kdrops__is_fallback(a->kdrops) ? " (raw_tp fallback)" : "");
	else
		mm_log("kernel drops attached%s, watching netns %u",
		       mm_kdrops__is_fallback(a->kdrops) ? " (raw_tp fallback)" : "", ino);
	return 0;
}

void mm_agent__stop_kdrops(struct mm_agent *a)
{
	mm_kdrops__free(a->kdrops);
	a->kdrops = NULL;
	a->dctx.symbolize = NULL;
	mm_kallsyms__free(a->kallsyms);
	a->kallsyms = NULL;
}

int mm_agent__start_hub(struct mm_agent *a)
{
	struct mm_hub_opts ho = {0};
	int rc;

	ho.queue_bytes = a->opts.queue_bytes;
	ho.history = a->opts.history;
	ho.ncpus = (unsigned int)a->ncpus;
	a->hub = mm_hub__new(a->base, &ho);
	if (!a->hub) {
		rc = errno;
		mm_log("listener hub: %s", strerror(rc));
		return fail(rc);
	}
	return 0;
}

void mm_agent__stop_hub(struct mm_agent *a)
{
	mm_hub__free(a->hub); /* closes every listener's connection */
	a->hub = NULL;
}

/* One record out of the reorder stage, in time order unless out_of_order: decoded and published. */
static void on_release(void *ctx, int cpu, const void *data, __u32 size, int out_of_order)
{
	struct mm_agent *a = ctx;
	Meshmon__V1__ServerMessage msg = MESHMON__V1__SERVER_MESSAGE__INIT;
	int rc, queued;

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
	a->decoded.ev.out_of_order = out_of_order != 0;
	a->events_out_of_order += out_of_order != 0;
	msg.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_EVENT;
	msg.event = &a->decoded.ev;
	queued = mm_hub__publish(a->hub, &msg, &a->decoded.view, a->decoded.ev.time_ns);
	if (a->decoded.view.rule_id)
		mm_captures__on_event(a->captures, a->decoded.view.rule_id, a->decoded.ev.cap_len,
				      queued > 0);
}

static void on_sample(void *ctx, int cpu, const void *data, __u32 size)
{
	struct mm_agent *a = ctx;

	mm_reorder__push(a->reorder, cpu, data, size);
}

/*
 * Held records must not wait for the rings' idle drain interval: a one-shot
 * timer for when the oldest held record is due (release_ready() then reads
 * every ring, which makes the watermark now).
 */
static void arm_release(struct mm_agent *a, uint64_t now)
{
	uint64_t at = mm_reorder__next_release_ns(a->reorder), us;
	struct timeval tv;

	if (at == UINT64_MAX || (a->release_at_ns && a->release_at_ns <= at))
		return;
	us = at > now ? (at - now + 999) / 1000 : 0;
	tv.tv_sec = (time_t)(us / 1000000);
	tv.tv_usec = (suseconds_t)(us % 1000000);
	if (!event_add(a->release_timer, &tv))
		a->release_at_ns = at;
}

/*
 * Release what the rings' watermark allows, then into the sockets. When the
 * oldest held record is due but a ring has not been read since before it
 * (only one ring woke up), every ring is read first: what they hold joins
 * the merge instead of arriving after it, late.
 */
static void release_ready(struct mm_agent *a)
{
	uint64_t now = mm_agent__mono_ns(), due = mm_reorder__next_release_ns(a->reorder);

	if (due <= now && mm_rings__watermark_ns(a->rings) < due) {
		mm_rings__drain(a->rings);
		now = mm_agent__mono_ns();
	}
	mm_reorder__release(a->reorder, mm_rings__watermark_ns(a->rings), now);
	arm_release(a, now);
	mm_hub__write_out_soon(a->hub);
}

static void on_release_timer(evutil_socket_t fd, short what, void *arg)
{
	struct mm_agent *a = arg;

	(void)fd;
	(void)what;
	a->release_at_ns = 0;
	release_ready(a);
}

/* After each ring batch: into the sockets before the next batch lands. */
static void on_batch(void *ctx)
{
	release_ready(ctx);
}

static void on_lost(void *ctx, int cpu, __u64 count)
{
	struct mm_agent *a = ctx;

	mm_losses__add_perf_lost(a->losses, a->hub, cpu, count);
}

static const struct mm_ifname *ifname_lookup(void *arg, unsigned int ifindex)
{
	return mm_ifname_cache__lookup(arg, ifindex);
}

/*
 * The per-CPU rings, their records put in time order (--reorder-ms), each
 * decoded once into a->decoded and published.
 */
int mm_agent__start_rings(struct mm_agent *a)
{
	struct mm_reorder_opts rr = {0};
	struct mm_rings_opts ro = {0};
	int rc;

	a->dctx.wall_offset_ns = mm_clock_offset_ns();
	a->dctx.kernel_drop_reason_name = mm_kernel_drop_reason_name;
	a->dctx.ifname = ifname_lookup;
	a->dctx.ifname_arg = &a->ifcache;
	rr.window_ns = (uint64_t)a->opts.reorder_ms * 1000000;
	rr.release = on_release;
	rr.ctx = a;
	a->reorder = mm_reorder__new(&rr);
	a->release_timer = event_new(a->base, -1, 0, on_release_timer, a);
	if (!a->reorder || !a->release_timer) {
		mm_log("reorder buffer: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	ro.events_fd = mm_datapath__events_fd(a->dp);
	ro.pages = a->opts.pages;
	ro.wakeup_events = a->opts.wakeup_events;
	ro.drain_ms = a->opts.drain_ms;
	ro.drain_min_us = a->opts.drain_min_us;
	ro.on_batch = on_batch;
	ro.on_sample = on_sample;
	ro.on_lost = on_lost;
	ro.ctx = a;
	a->rings = mm_rings__new(a->base, &ro);
	if (!a->rings) {
		rc = errno;
		mm_log("perf rings (%u pages per CPU): %s", a->opts.pages, strerror(rc));
		return fail(rc);
	}
	return 0;
}

void mm_agent__stop_rings(struct mm_agent *a)
{
	if (a->reorder && a->hub)
		mm_reorder__flush(a->reorder); /* what is held still reaches the listeners */
	mm_reorder__free(a->reorder);
	a->reorder = NULL;
	if (a->release_timer)
		event_free(a->release_timer);
	a->release_timer = NULL;
	a->release_at_ns = 0;
	mm_rings__free(a->rings);
	a->rings = NULL;
	mm_decoded__release(&a->decoded);
}

/*
 * A clock step moves CLOCK_REALTIME against CLOCK_MONOTONIC; a slew moves both
 * alike. Only a step changes the wall offset: a new reading that differs by
 * less is the gap between its two clock reads (larger when the agent was
 * preempted between them), and taking it would move events' wall times back
 * by that much, out of the time order the reorder stage made. The largest of
 * three readings has the smallest gap.
 */
#define CLOCK_STEP_MIN_NS 1000000ll

static void follow_clock_step(struct mm_agent *a)
{
	int64_t off = mm_clock_offset_ns(), d;

	for (int i = 0; i < 2; i++) {
		int64_t again = mm_clock_offset_ns();

		if (again > off)
			off = again;
	}
	d = off - a->dctx.wall_offset_ns;
	if (d >= CLOCK_STEP_MIN_NS || d <= -CLOCK_STEP_MIN_NS)
		a->dctx.wall_offset_ns = off;
}

static void on_stats_timer(evutil_socket_t fd, short what, void *arg)
{
	struct mm_agent *a = arg;

	(void)fd;
	(void)what;
	mm_losses__poll(a->losses, a->dp, a->hub);
	if (a->watchdog)
		mm_notify__watchdog();
	/* Follow clock steps (NTP) and interface renames within a second. */
	follow_clock_step(a);
	mm_ifname_cache__flush(&a->ifcache);
}

/*
 * tcp_probe's periodic pass reports every connection it knows, idle ones
 * included, in every network namespace: sockops and connect know each one
 * opened while they are attached, and the first pass (probe_first_pass) those
 * opened before.
 */
static void on_probe_timer(evutil_socket_t fd, short what, void *arg)
{
	struct mm_agent *a = arg;
	int rc;

	(void)fd;
	(void)what;
	rc = mm_probe__run_known(a->probe);
	if (rc)
		mm_log("tcp_probe: periodic iterator run failed: %s", strerror(-rc));
}

/*
 * Once, with the rings read: the connections of the cgroup opened before the
 * agent, found by iter/tcp in each namespace the cgroup's threads live in (and
 * the agent's). A socket's cgroup is set when it is created, so no
 * connection unknown to sockops can join the cgroup later: one search is
 * enough (docs/tcp_probe.md).
 */
static void probe_first_pass(struct mm_agent *a)
{
	struct mm_netns_search res;
	int rc = mm_probe__run_iter_in_cgroup_netns(a->probe, a->cgroup_path, &res);

	if (rc < 0)
		mm_log("tcp_probe: search for connections opened before the agent: %s",
		       strerror(-rc));
	else if (res.err)
		mm_log("tcp_probe: connections opened before the agent searched in %zu of %zu "
		       "network namespaces, the others could not be entered: %s (their old "
		       "connections get closed reports only; docs/tcp_probe.md)",
		       res.searched, res.found, strerror(-res.err));
	else
		mm_log("tcp_probe: connections opened before the agent searched in %zu network "
		       "namespace%s",
		       res.searched, res.searched == 1 ? "" : "s");
}

/* A persistent timer in *ev (left there on failure, for the stop function to free). */
static int add_timer(struct mm_agent *a, struct event **ev, const struct timeval *tv,
		     event_callback_fn fn)
{
	*ev = event_new(a->base, -1, EV_PERSIST, fn, a);
	if (!*ev)
		return -ENOMEM;
	if (event_add(*ev, tv))
		return -EINVAL; /* libevent sets no errno */
	return 0;
}

/* Loss counters every STATS_PERIOD_MS; tcp_probe's iterator every --probe-interval. */
int mm_agent__start_timers(struct mm_agent *a)
{
	struct timeval tv = {STATS_PERIOD_MS / 1000, (STATS_PERIOD_MS % 1000) * 1000};
	struct timeval ptv = {(time_t)a->opts.probe_interval_s, 0};
	int rc;

	/* The stats timer doubles as systemd's watchdog keep-alive (WatchdogSec= of 2 s or more). */
	a->watchdog = mm_notify__watchdog_usec() != 0;
	rc = add_timer(a, &a->stats_timer, &tv, on_stats_timer);
	if (rc || !a->probe)
		return rc;
	probe_first_pass(a);
	return add_timer(a, &a->probe_timer, &ptv, on_probe_timer);
}

void mm_agent__stop_timers(struct mm_agent *a)
{
	if (a->stats_timer)
		event_free(a->stats_timer);
	if (a->probe_timer)
		event_free(a->probe_timer);
	a->stats_timer = a->probe_timer = NULL;
}

int mm_agent__start_metrics(struct mm_agent *a)
{
	int rc;

	if (!a->opts.metrics)
		return 0;
	a->metrics = mm_metrics__new(a->base, a->opts.metrics, mm_report__metrics_snapshot, a);
	if (!a->metrics) {
		rc = errno;
		mm_log("--metrics %s: cannot listen: %s", a->opts.metrics, strerror(rc));
		return fail(rc);
	}
	mm_log("metrics on http://%s/metrics", a->opts.metrics);
	return 0;
}

void mm_agent__stop_metrics(struct mm_agent *a)
{
	mm_metrics__free(a->metrics);
	a->metrics = NULL;
}

/* The socket last: once it exists, everything else is attached. */
int mm_agent__start_server(struct mm_agent *a)
{
	struct mm_server_opts so = {0};
	char err[256];
	int rc;

	meshmon__v1__hello__init(&a->hello);
	a->hello.protocol_version = MM_PROTOCOL_VERSION;
	a->hello.agent_version = (char *)MESHMON_VERSION;
	a->hello.num_cpus = (uint32_t)a->ncpus;
	a->hello.pages_per_cpu = a->opts.pages;
	a->hello.page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	a->hello.capture_len = a->cfg.capture_len;
	a->hello.node_name = a->node_name;
	a->captures = mm_captures__new(a->base, a->dp, a->hub,
				       (a->cfg.event_mask & MM_EVENT_BIT(MM_EVENT_CAPTURE)) != 0);
	if (!a->captures)
		return fail(ENOMEM);
	so.captures = a->captures;
	so.path = a->opts.socket_path;
	so.max_listeners = a->opts.max_listeners;
	so.hello = &a->hello;
	so.send_status = mm_report__send_status;
	so.ctx = a;
	a->server = mm_server__new(a->base, a->hub, &so, err, sizeof(err));
	if (!a->server) {
		rc = errno;
		mm_log("%s", err);
		mm_captures__free(a->captures);
		a->captures = NULL;
		return fail(rc);
	}
	mm_log("ready: %u rings of %u pages, listening on %s", mm_rings__count(a->rings),
	       a->opts.pages, a->opts.socket_path);
	mm_notify__ready("listening");
	return 0;
}

void mm_agent__stop_server(struct mm_agent *a)
{
	mm_captures__free(a->captures); /* CaptureEnded AGENT_STOPPING, before the hub closes */
	a->captures = NULL;
	mm_server__free(a->server);
	a->server = NULL;
}
