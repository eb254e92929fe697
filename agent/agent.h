/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * meshmon-agent's state, private to the daemon: main.c owns it, startup.c
 * starts and stops each subsystem, report.c reads it for Status and
 * /metrics. Everything runs on the one event loop, so nothing here is locked.
 */
#ifndef MESHMON_AGENT_AGENT_H
#define MESHMON_AGENT_AGENT_H

#include <stdint.h>
#include <time.h>

#include "datapath.h"
#include "decode.h"
#include "losses.h"
#include "meshmon.pb-c.h"
#include "options.h"
#include "utf8.h"

struct event;
struct event_base;
struct mm_hub;
struct mm_kallsyms;
struct mm_kdrops;
struct mm_metrics;
struct mm_probe;
struct mm_reorder;
struct mm_xlate;
struct mm_rings;
struct mm_server;

/* SIGINT, SIGTERM, SIGQUIT, SIGHUP (main.c). */
#define MM_AGENT_STOP_SIGNALS 4

struct mm_agent {
	struct mm_agent_options opts;
	struct mm_config cfg;
	struct event_base *base;
	struct mm_datapath *dp;
	struct mm_probe *probe;
	struct mm_xlate *xlate; /* UDP trace-sock, only with --events ...,trace-sock */
	struct mm_kdrops *kdrops;
	struct mm_kallsyms *kallsyms; /* kernel drop locations as symbols; NULL: none */
	struct mm_rings *rings;
	struct mm_reorder *reorder; /* between the rings and decode: time order across CPUs */
	struct event *release_timer; /* drains the rings when held records can go */
	uint64_t release_at_ns;      /* when release_timer fires; 0 when it is not armed */
	struct mm_hub *hub;
	struct mm_server *server;
	struct mm_captures *captures; /* captures on demand (capture.h), with the server */
	struct mm_metrics *metrics;
	struct mm_losses *losses;
	struct event *sigs[MM_AGENT_STOP_SIGNALS], *stats_timer, *probe_timer;
	int ncpus;
	int watchdog; /* systemd asked for WATCHDOG=1 keep-alives */
	int ifindex[MM_OPT_MAX_IFACES];
	char cgroup_path[4096]; /* where tcp_probe is attached; empty when it is not */
	/* The same names as Status shows them: valid UTF-8 (lib/utf8.h), set by the preflight. */
	char iface_shown[MM_OPT_MAX_IFACES][MM_UTF8_SANITIZED_SIZE(16)];
	char *iface_shown_list[MM_OPT_MAX_IFACES];
	char cgroup_shown[MM_UTF8_SANITIZED_SIZE(4096)];
	char node_name[MM_OPT_NODE_NAME_MAX + 1]; /* --node-name or the host name */
	struct mm_decode_ctx dctx;
	struct mm_ifname_cache ifcache;
	struct mm_decoded decoded;
	Meshmon__V1__Hello hello;
	uint64_t start_mono_ns;
	uint64_t events_read, events_unknown, events_short;
	uint64_t events_out_of_order; /* delivered with Event.out_of_order set */
	uint64_t events_by_type[256];
};

static inline uint64_t mm_agent__mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * The subsystems in the order main() starts them. Each start function logs
 * its own failure (running out of memory and timer errors are not logged)
 * and returns 0 or a negative errno; each stop function
 * releases what its start acquired, even partly, and is safe to call when
 * its start never ran.
 */
/*
 * Before anything is loaded or attached (preflight.c): every --iface exists,
 * nobody serves the socket path, the tcp_probe cgroup is a cgroup v2
 * directory (resolved into a->cgroup_path). Nothing is changed.
 */
int mm_agent__preflight(struct mm_agent *a);
int mm_agent__start_losses(struct mm_agent *a);
void mm_agent__stop_losses(struct mm_agent *a);
int mm_agent__start_datapath(struct mm_agent *a);
void mm_agent__stop_datapath(struct mm_agent *a);
int mm_agent__start_tc(struct mm_agent *a);
int mm_agent__start_probe(struct mm_agent *a);
void mm_agent__stop_probe(struct mm_agent *a);
int mm_agent__start_kdrops(struct mm_agent *a);
void mm_agent__stop_kdrops(struct mm_agent *a);
int mm_agent__start_hub(struct mm_agent *a);
void mm_agent__stop_hub(struct mm_agent *a);
int mm_agent__start_rings(struct mm_agent *a);
void mm_agent__stop_rings(struct mm_agent *a);
int mm_agent__start_timers(struct mm_agent *a);
void mm_agent__stop_timers(struct mm_agent *a);
int mm_agent__start_metrics(struct mm_agent *a);
void mm_agent__stop_metrics(struct mm_agent *a);
int mm_agent__start_server(struct mm_agent *a);
void mm_agent__stop_server(struct mm_agent *a);

#endif /* MESHMON_AGENT_AGENT_H */
