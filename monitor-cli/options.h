/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Flags of `meshmon monitor` and `meshmon status`, and the Subscribe message
 * built from them: every filter flag becomes part of the subscription so the
 * agent does the filtering (nothing is filtered after the fact).
 */
#ifndef MESHMON_CLI_OPTIONS_H
#define MESHMON_CLI_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "endpoint.h"
#include "export_opts.h"
#include "meshmon.pb-c.h"
#include "protocol.h"

/*
 * The flags make one FlowFilter (and the --not flags one exclude
 * FlowFilter), so each repeated flag (--from, --to, --related-to, --proto,
 * --port, --drop-reason, --tcp-flags, --interface, --pid, --comm, --cgroup)
 * takes at most what the agent accepts in one field of a FlowFilter
 * (proto/protocol.h): never a Subscribe it refuses.
 */
#define MM_MAX_ENDPOINTS MM_FILTER_MAX_VALUES
#define MM_MAX_VALUES MM_FILTER_MAX_VALUES
/* --reconnect-timeout when not given, in seconds. */
#define MM_RECONNECT_TIMEOUT_DEFAULT 60

/* The filter flags of one FlowFilter: the plain ones, or those after --not. */
struct mm_flow_opts {
	struct mm_endpoint from[MM_MAX_ENDPOINTS], to[MM_MAX_ENDPOINTS], related[MM_MAX_ENDPOINTS];
	size_t n_from, n_to, n_related;
	uint32_t protos[MM_MAX_VALUES];
	size_t n_protos;
	uint32_t ports[MM_MAX_VALUES];
	size_t n_ports;
	char drop_reasons[MM_MAX_VALUES][MM_FILTER_MAX_NAME_LEN + 1];
	size_t n_drop_reasons;
	uint32_t tcp_flags[MM_MAX_VALUES]; /* masks of TCP_FLAG bits (FIN 0x01 ... CWR 0x80) */
	size_t n_tcp_flags;
	const char *interfaces[MM_MAX_VALUES];
	size_t n_interfaces;
	/* The owner (tcp_probe, endpoint traces, trace-sock): --pid, --comm, --cgroup. */
	uint32_t pids[MM_MAX_VALUES];
	size_t n_pids;
	const char *comms[MM_MAX_VALUES];
	size_t n_comms;
	uint64_t cgroup_ids[MM_MAX_VALUES]; /* --cgroup PATH resolved (mm_cgroup2_resolve) */
	size_t n_cgroup_ids;
};

struct mm_opts {
	const char *command;  /* "monitor", "capture", "status" or "export clickhouse" */
	const char *socket;
	bool help;
	int verbose;
	bool hex, numeric;    /* JSON is not here: see mm_opts_json */
	bool time;            /* --time: a timestamp on every text line */
	bool print_node_name; /* --print-node-name: text lines lead with the node name */
	uint64_t count;       /* 0: unlimited */
	uint32_t last;        /* --last N */
	bool follow;          /* -f/--follow: keep following after --last or --since */
	uint64_t since_ns, until_ns; /* --since, --until: wall clock; 0: not given */
	const char *pcap;     /* --pcap FILE or "-" */
	bool no_reconnect;    /* --no-reconnect: end when the agent goes away */
	uint32_t reconnect_timeout; /* seconds without an agent before giving up; 0: never */
	bool types_given;
	uint32_t types[16];
	size_t n_types;
	uint32_t points[16];
	size_t n_points;
	struct mm_flow_opts flow; /* the whitelist FlowFilter */
	struct mm_flow_opts not;  /* the flags after --not: the exclude FlowFilter */
	/* meshmon capture: -c is count (max_packets), -w is pcap, --direction fills points. */
	uint32_t snaplen;     /* -s/--snaplen; 0: the agent's maximum */
	uint64_t max_bytes;   /* --max-bytes; 0: no limit */
	uint32_t duration_s;  /* --duration; 0: no limit */
	struct mm_export_opts export; /* meshmon export clickhouse: its own flags */
};

/* Whether the run ends after the history (ReplayDone): --last or --since without --follow. */
static inline bool mm_opts_history_only(const struct mm_opts *o)
{
	return (o->last || o->since_ns) && !o->follow;
}

/*
 * Parses argv (argv[0] is the command name, e.g. "monitor") into *o. Returns
 * 0, or MM_EXIT_USAGE with a one-line message (naming the flag) in err.
 * -j/--json is accepted and ignored: whether output is JSON is decided once,
 * by the dispatcher, from mm_opts_json() and the flags before the command.
 */
int mm_opts_parse(struct mm_opts *o, const char *command, int argc, char **argv, char *err,
		  size_t errlen);
/*
 * Whether the flags of command (argv as for mm_opts_parse) include -j/--json,
 * read with that command's own flag table, exactly as mm_opts_parse reads
 * them: a flag's value is not a flag (`--socket -j` is a socket named "-j"),
 * nothing after "--" is a flag. Leaves argv unchanged. false for a command
 * without flags.
 */
bool mm_opts_json(const char *command, int argc, char **argv);

/*
 * The Subscribe of o. The message and everything it points to live in *sb,
 * which must outlive the message's use.
 */
struct mm_flow_buf {
	Meshmon__V1__FlowFilter filter;
	Meshmon__V1__Endpoint eps[3 * MM_MAX_ENDPOINTS];
	Meshmon__V1__Endpoint *src[MM_MAX_ENDPOINTS], *dst[MM_MAX_ENDPOINTS],
		*either[MM_MAX_ENDPOINTS];
	char *drop_reasons[MM_MAX_VALUES];
	char *interfaces[MM_MAX_VALUES];
	char *comms[MM_MAX_VALUES];
};

struct mm_subscribe_buf {
	Meshmon__V1__Subscribe sub;
	struct mm_flow_buf flow, not;
	Meshmon__V1__FlowFilter *filters[1], *exclude[1];
	Meshmon__V1__EventType types[16];
	Meshmon__V1__TracePoint points[16];
};
void mm_opts_subscribe(const struct mm_opts *o, struct mm_subscribe_buf *sb);

/* The CaptureRequest of o (meshmon capture); it lives in *cb. */
struct mm_capture_buf {
	Meshmon__V1__CaptureRequest req;
	struct mm_flow_buf flow;
	Meshmon__V1__TracePoint points[16];
};
void mm_opts_capture(const struct mm_opts *o, struct mm_capture_buf *cb);

void mm_opts_usage_monitor(FILE *out);
void mm_opts_usage_capture(FILE *out);
void mm_opts_usage_status(FILE *out);
void mm_opts_usage_export(FILE *out);

#endif /* MESHMON_CLI_OPTIONS_H */
