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

#define MM_MAX_ENDPOINTS 64
#define MM_MAX_VALUES 64

struct mm_opts {
	const char *command;  /* "monitor" or "status" */
	const char *socket;
	bool help;
	int verbose;
	bool hex, json, numeric;
	uint64_t count;       /* 0: unlimited */
	uint32_t last;        /* --last N */
	const char *pcap;     /* --pcap FILE or "-" */
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
 */
int mm_opts_parse(struct mm_opts *o, const char *command, int argc, char **argv, char *err,
		  size_t errlen);

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
