/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the two streaming commands, `meshmon monitor` (monitor.c) and
 * `meshmon capture` (capture.c), share (stream_cmd.c): the start of the
 * command (flags, -h, stdout and the stop signals), the formatter set up
 * from the flags, and the pcap file opened before connecting.
 */
#ifndef MESHMON_CLI_STREAM_CMD_H
#define MESHMON_CLI_STREAM_CMD_H

#include <stdbool.h>
#include <stdio.h>

#include "commands.h"
#include "format_common.h"
#include "options.h"
#include "pcap.h"

struct mm_stream_cmd {
	const char *name;         /* "monitor": the flag table and the usage errors' command */
	const char *pcap_flag;    /* the flag that names the pcap file: "--pcap", "--write" */
	void (*usage)(FILE *out); /* the -h text */
	/* The run itself, once the flags are read and stdout is set up: an exit code. */
	int (*run)(const struct mm_opts *o, bool json);
};

/*
 * cmd_monitor and cmd_capture: reads the flags (a usage error is reported,
 * MM_EXIT_USAGE; a pcap on stdout excludes --json), prints -h, sets stdout
 * up (output.h) and installs the stop signals, then cmd->run.
 */
int mm_stream_cmd__main(const struct mm_stream_cmd *cmd, const struct mm_cmd_ctx *ctx, int argc,
			char **argv);

/* Whether the pcap file is stdout ("-"). */
bool mm_stream_cmd__pcap_on_stdout(const struct mm_opts *o);

/* The formatter the output flags ask for, on stdout (colour on a terminal, never in JSON). */
struct mm_fmt mm_stream_cmd__fmt(const struct mm_opts *o, bool json);

/*
 * Opens the pcap file of the flags, if any, into *pcap before connecting, so a
 * path that cannot be written is a usage error at once: MM_EXIT_OK, or
 * MM_EXIT_USAGE (reported).
 */
int mm_stream_cmd__create_pcap(const struct mm_stream_cmd *cmd, const struct mm_opts *o, bool json,
			       struct mm_pcap **pcap);

#endif /* MESHMON_CLI_STREAM_CMD_H */
