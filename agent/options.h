/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * meshmon-agent's command line: every flag, its default and its validation.
 * Parsing never prints; a bad flag yields a one-line message and a named exit
 * code (proto/protocol.h) that main() reports.
 */
#ifndef MESHMON_AGENT_OPTIONS_H
#define MESHMON_AGENT_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "datapath.h"
#include "protocol.h"

#define MM_OPT_PAGES_DEFAULT 64u
#define MM_OPT_WAKEUP_DEFAULT 64u
#define MM_OPT_DRAIN_MS_DEFAULT 10u
#define MM_OPT_DRAIN_MIN_US_DEFAULT 500u
/* The longest an event is held to be put in time order (agent/reorder.h). */
#define MM_OPT_REORDER_MS_DEFAULT 5u
#define MM_OPT_REORDER_MS_MAX 1000u
#define MM_OPT_MAX_LISTENERS_DEFAULT 64u
#define MM_OPT_QUEUE_BYTES_DEFAULT (4u << 20)
#define MM_OPT_HISTORY_DEFAULT 4096u
#define MM_OPT_NODE_NAME_MAX MM_NODE_NAME_MAX /* protocol.h */
#define MM_OPT_PROBE_INTERVAL_DEFAULT 5u
#define MM_OPT_MAX_IFACES 32
#define MM_OPT_QUEUE_BYTES_MIN 4096u
/* The record types --events and --rate-limit TYPE= name, for their messages. */
#define MM_OPT_EVENT_NAMES "trace, drop, capture, policy-verdict, debug, tcp_probe, trace-sock"

/* --rate-limit TYPE=RATE[:BURST]: one record type's own limit, records/s for the host. */
struct mm_type_limit {
	uint64_t rate; /* 0: the type has no limit of its own */
	uint64_t burst;
};

struct mm_agent_options {
	const char *socket_path;
	const char *ifaces[MM_OPT_MAX_IFACES];
	size_t n_ifaces;
	const char *cgroup;          /* tcp_probe's cgroup; NULL: the cgroup v2 root */
	int tcp_probe;               /* 0 after --cgroup none */
	unsigned int pages;
	unsigned int wakeup_events;
	unsigned int drain_ms;
	unsigned int drain_min_us; /* 0: a fixed drain_ms */
	unsigned int reorder_ms;   /* 0: events published as read, not put in time order */
	unsigned int capture_len;
	unsigned int aggregation;    /* enum mm_aggregation_level */
	unsigned int aggregation_interval_s;
	uint64_t rate;               /* records/s for the whole host, 0 = off */
	uint64_t burst;
	int rate_set;                /* the host total was given */
	struct mm_type_limit type_limits[MM_EVENT_TYPE_SLOTS]; /* index: enum mm_event_type */
	uint32_t event_mask;         /* --events, MM_EVENT_BIT() per type; --debug adds debug */
	int events_set;
	struct mm_deny_spec deny[MM_DENY_MAX];
	size_t n_deny;
	int debug;
	int policy_verdicts;         /* --policy-verdicts: event_mask gets MM_EVENT_POLICY_VERDICT */
	int kernel_drops;            /* 0 off, 1 the agent's netns, 2 every netns (all) */
	int endpoint_traces;         /* --endpoint-traces on: attach the cgroup_skb programs */
	unsigned int probe_interval_s;
	unsigned int max_listeners;
	size_t queue_bytes;
	unsigned int history;
	const char *metrics;         /* "ADDR:PORT" or NULL */
	const char *node_name;       /* --node-name; NULL: the host name */
	unsigned int tc_attach;      /* enum mm_tc_mode */
	int version;
	int help;
};

void mm_agent_options__defaults(struct mm_agent_options *o);
/*
 * Parses argv into o (defaults first): MM_EXIT_OK, or MM_EXIT_USAGE with a
 * one-line message in err. Resets getopt state, so it can be called again.
 */
int mm_agent_options__parse(struct mm_agent_options *o, int argc, char **argv, char *err,
			    size_t errlen);
/* Write --help text (every flag with its default) to buf; returns its length. */
/*
 * The node name the agent reports (Hello, Status, metrics): --node-name, else
 * the host name (uname), written to buf (at least MM_OPT_NODE_NAME_MAX + 1).
 */
void mm_agent_options__node_name(const struct mm_agent_options *o, char *buf, size_t len);
int mm_agent_options__usage(char *buf, size_t len, const char *argv0);
/*
 * Fill cfg from o: capture length, aggregation (maximum also folds drops),
 * interval, event mask (--events, plus debug with --debug and policy verdicts
 * with --policy-verdicts), the types with a limit of their own
 * (type_rate_mask), and the host rate limit split per CPU:
 * rate_per_cpu = ceil(rate / ncpus), burst_per_cpu = ceil(burst / ncpus).
 */
void mm_agent_options__to_config(const struct mm_agent_options *o, int ncpus,
				 struct mm_config *cfg);
/* The limit of type alone, split per CPU like the host's: rate_per_cpu 0 when it has none. */
void mm_agent_options__type_rate(const struct mm_agent_options *o, int ncpus, unsigned int type,
				 struct mm_type_rate *rate);

#endif /* MESHMON_AGENT_OPTIONS_H */
