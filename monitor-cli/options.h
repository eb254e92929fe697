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
#include "meshmon.pb-c.h"
#include "protocol.h"

/*
 * The flags make one FlowFilter, so each repeated flag (--from, --to,
 * --related-to, --proto, --port) takes at most what the agent accepts in one
 * field of a FlowFilter (proto/protocol.h): never a Subscribe it refuses.
 */
#define MM_MAX_ENDPOINTS MM_FILTER_MAX_VALUES
#define MM_MAX_VALUES MM_FILTER_MAX_VALUES
/* --reconnect-timeout when not given, in seconds. */
#define MM_RECONNECT_TIMEOUT_DEFAULT 60

struct mm_opts {
	const char *command;  /* "monitor" or "status" */
	const char *socket;
	bool help;
	int verbose;
	bool hex, numeric;    /* JSON is not here: see mm_opts_json */
	bool time;            /* --time: a timestamp on every text line */
	uint64_t count;       /* 0: unlimited */
	uint32_t last;        /* --last N */
	const char *pcap;     /* --pcap FILE or "-" */
	bool no_reconnect;    /* --no-reconnect: end when the agent goes away */
	uint32_t reconnect_timeout; /* seconds without an agent before giving up; 0: never */
	bool types_given;
	uint32_t types[16];
	size_t n_types;
	uint32_t points[16];
	size_t n_points;
	struct mm_endpoint from[MM_MAX_ENDPOINTS], to[MM_MAX_ENDPOINTS], related[MM_MAX_ENDPOINTS];
	size_t n_from, n_to, n_related;
	uint32_t protos[MM_MAX_VALUES];
	size_t n_protos;
	uint32_t ports[MM_MAX_VALUES];
	size_t n_ports;
};

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
struct mm_subscribe_buf {
	Meshmon__V1__Subscribe sub;
	Meshmon__V1__FlowFilter filter;
	Meshmon__V1__FlowFilter *filters[1];
	Meshmon__V1__Endpoint eps[3 * MM_MAX_ENDPOINTS];
	Meshmon__V1__Endpoint *src[MM_MAX_ENDPOINTS], *dst[MM_MAX_ENDPOINTS],
		*either[MM_MAX_ENDPOINTS];
	Meshmon__V1__EventType types[16];
	Meshmon__V1__TracePoint points[16];
};
void mm_opts_subscribe(const struct mm_opts *o, struct mm_subscribe_buf *sb);

void mm_opts_usage_monitor(FILE *out);
void mm_opts_usage_status(FILE *out);

#endif /* MESHMON_CLI_OPTIONS_H */
