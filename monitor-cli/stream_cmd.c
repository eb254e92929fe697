// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The start that `meshmon monitor` and `meshmon capture` share (see
 * stream_cmd.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output.h"
#include "signals.h"
#include "stream_cmd.h"
#include "textparse.h"

bool mm_stream_cmd__pcap_on_stdout(const struct mm_opts *o)
{
	return o->pcap && strcmp(o->pcap, "-") == 0;
}

struct mm_fmt mm_stream_cmd__fmt(const struct mm_opts *o, bool json)
{
	return (struct mm_fmt){
		.out = stdout,
		.verbose = o->verbose,
		.hex = o->hex,
		.json = json,
		.numeric = o->numeric,
		.time = o->time,
		.print_node = o->print_node_name,
		.color = isatty(STDOUT_FILENO) && !json,
	};
}

int mm_stream_cmd__create_pcap(const struct mm_stream_cmd *cmd, const struct mm_opts *o, bool json,
			       struct mm_pcap **pcap)
{
	char msg[600];

	*pcap = NULL;
	if (!o->pcap)
		return MM_EXIT_OK;
	*pcap = mm_pcap__create(o->pcap);
	if (*pcap)
		return MM_EXIT_OK;
	snprintf(msg, sizeof(msg), "%s: cannot write %.500s: %s", cmd->pcap_flag, o->pcap,
		 strerror(errno));
	mm_report_usage(json, cmd->name, msg);
	return MM_EXIT_USAGE;
}

int mm_stream_cmd__main(const struct mm_stream_cmd *cmd, const struct mm_cmd_ctx *ctx, int argc,
			char **argv)
{
	struct mm_opts *o = calloc(1, sizeof(*o));
	char err[512];
	int rc;

	if (!o)
		return MM_EXIT_FAILURE;
	rc = mm_opts_parse(o, cmd->name, argc, argv, err, sizeof(err));
	if (!rc && mm_stream_cmd__pcap_on_stdout(o) && ctx->json)
		rc = mm_errorf(err, sizeof(err), MM_EXIT_USAGE,
			       "%s: '-' writes the pcap to stdout and cannot be combined with --json",
			       cmd->pcap_flag);
	if (rc) {
		mm_report_usage(ctx->json, cmd->name, err);
	} else if (o->help) {
		cmd->usage(stdout);
	} else {
		if (mm_output__setup(mm_stream_cmd__pcap_on_stdout(o), &mm_stop_signals))
			setvbuf(stdout, NULL, _IOLBF, 0); /* out of memory: a write per line */
		mm_signals__install();
		rc = cmd->run(o, ctx->json);
	}
	free(o);
	return rc;
}
