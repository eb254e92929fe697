/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The subcommands of `meshmon`, each `int cmd_X(ctx, argc, argv)` with
 * argv[0] the command name, returning an exit code (options.h). The
 * dispatcher (main.c) fills the context before calling one: what it decided
 * for every command, so no command decides it again.
 */
#ifndef MESHMON_CLI_COMMANDS_H
#define MESHMON_CLI_COMMANDS_H

#include <stdbool.h>
#include <stdio.h>

#include "meshmon.pb-c.h"

struct mm_cmd_ctx {
	/* JSON output and JSON errors: --json before the command or among its flags. */
	bool json;
};

int cmd_monitor(const struct mm_cmd_ctx *ctx, int argc, char **argv);
int cmd_capture(const struct mm_cmd_ctx *ctx, int argc, char **argv);
int cmd_status(const struct mm_cmd_ctx *ctx, int argc, char **argv);
int cmd_export(const struct mm_cmd_ctx *ctx, int argc, char **argv);

/* Status rendering (status.c), exposed for the golden tests. */
void mm_status_text(FILE *out, const Meshmon__V1__Status *st);
void mm_status_json(FILE *out, const Meshmon__V1__Status *st);

/*
 * A one-line error (report.c): under --json the object {"error": msg} on
 * stdout, without msg's "meshmon: " prefix; else msg on stderr.
 */
void mm_report_error(bool json, const char *msg);
/*
 * A command's usage error: {"error": err} under --json, else
 * "meshmon COMMAND: err" on stderr.
 */
void mm_report_usage(bool json, const char *command, const char *err);

#endif /* MESHMON_CLI_COMMANDS_H */
