// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-agent: wires the pieces together in one libevent loop. Order of
 * start: options, the interfaces (each --iface must exist), the loss ledger,
 * datapath (config, deny rules), tc on every --iface, optional tcp_probe and
 * kernel drops, hub, rings, timers, metrics, and last the socket, so that its
 * appearance means everything is attached. SIGINT, SIGTERM, SIGQUIT and
 * SIGHUP stop the loop; everything is released in reverse order (the datapath
 * handle detaches its tc programs, clients get a clean end of stream) and the
 * agent exits 0. SIGPIPE is ignored. A bad flag exits MM_EXIT_USAGE. A step
 * that fails has logged why (out of memory and libevent timer errors aside);
 * what started is released and the agent exits MM_EXIT_FAILURE. The steps are
 * in startup.c, the loss ledger in losses.c, Status and /metrics in report.c.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include <event2/event.h>

#include "agent.h"
#include "log.h"
#include "meshmon_version.h"
#include "notify.h"
#include "options.h"

#define ARRAY_SIZE(x) (sizeof(x) / sizeof((x)[0]))

/* Start in this order, stop in reverse; a NULL stop has nothing of its own to release. */
static const struct {
	int (*start)(struct mm_agent *a);
	void (*stop)(struct mm_agent *a);
} steps[] = {
    {mm_agent__preflight, NULL}, /* everything checked before anything is attached */
    {mm_agent__start_losses, mm_agent__stop_losses},
    {mm_agent__start_datapath, mm_agent__stop_datapath},
    /* The rings' reader before any hook: a record written into a ring nobody has
     * opened yet fails (ENOENT) and would be lost, as "datapath" loss. */
    {mm_agent__start_hub, mm_agent__stop_hub},
    {mm_agent__start_rings, mm_agent__stop_rings},
    {mm_agent__start_tc, NULL}, /* the datapath handle detaches its tc filters */
    {mm_agent__start_probe, mm_agent__stop_probe},
    {mm_agent__start_kdrops, mm_agent__stop_kdrops},
    {mm_agent__start_timers, mm_agent__stop_timers},
    {mm_agent__start_metrics, mm_agent__stop_metrics},
    {mm_agent__start_server, mm_agent__stop_server},
};

/* Each of these ends the agent cleanly: detach, close the clients' streams, exit 0. */
static const int stop_signals[MM_AGENT_STOP_SIGNALS] = {SIGINT, SIGTERM, SIGQUIT, SIGHUP};

/*
 * libbpf's warnings and errors go to the agent's log, its info and debug
 * messages nowhere; probes whose failure is expected silence libbpf
 * themselves (tc_attach.c).
 */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level > LIBBPF_WARN)
		return 0;
	mm_log_va("libbpf: ", fmt, ap);
	return 0;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct mm_agent *a = arg;

	(void)what;
	mm_log("signal %d (%s): detaching and exiting", (int)sig, strsignal((int)sig));
	mm_notify__stopping();
	event_base_loopbreak(a->base);
}

static int add_signals(struct mm_agent *a)
{
	for (size_t i = 0; i < ARRAY_SIZE(stop_signals); i++) {
		a->sigs[i] = evsignal_new(a->base, stop_signals[i], on_signal, a);
		if (!a->sigs[i] || event_add(a->sigs[i], NULL))
			return -1;
	}
	return 0;
}

/* The steps that ran release in reverse, a failed one included (it may hold a part). */
static void stop(struct mm_agent *a, size_t started)
{
	while (started--) {
		if (steps[started].stop)
			steps[started].stop(a);
	}
	for (size_t i = 0; i < ARRAY_SIZE(stop_signals); i++)
		if (a->sigs[i])
			event_free(a->sigs[i]);
	if (a->base)
		event_base_free(a->base);
}

/*
 * libevent's epoll backend rounds timeouts up to whole milliseconds unless
 * asked for precise timers (a timerfd): the drain timer's sub-millisecond
 * interval (--drain-min-us) would otherwise become 1 ms or more.
 */
static struct event_base *new_event_base(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base;

	if (!cfg)
		return NULL;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

int main(int argc, char **argv)
{
	static struct mm_agent agent; /* large (decoded event storage); zeroed */
	struct mm_agent *a = &agent;
	size_t started = 0;
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
	if (a->opts.version) {
		printf("meshmon-agent %s\n", mm_version_string());
		return MM_EXIT_OK;
	}
	libbpf_set_print(libbpf_print);
	signal(SIGPIPE, SIG_IGN);
	a->start_mono_ns = mm_agent__mono_ns();
	mm_agent_options__node_name(&a->opts, a->node_name, sizeof(a->node_name));
	a->base = new_event_base();
	if (!a->base) {
		mm_log("event_base_new failed");
		return MM_EXIT_FAILURE;
	}
	if (add_signals(a)) {
		stop(a, 0);
		return MM_EXIT_FAILURE;
	}
	rc = MM_EXIT_OK;
	while (rc == MM_EXIT_OK && started < ARRAY_SIZE(steps)) {
		if (steps[started++].start(a))
			rc = MM_EXIT_FAILURE;
	}
	if (rc == MM_EXIT_OK && event_base_dispatch(a->base) < 0) {
		mm_log("event loop failed");
		rc = MM_EXIT_FAILURE;
	}
	stop(a, started);
	if (rc == MM_EXIT_OK)
		mm_log("stopped; everything detached");
	return rc;
}
