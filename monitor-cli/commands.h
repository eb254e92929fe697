/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The subcommands of `meshmon`, each `int cmd_X(int argc, char **argv)` with
 * argv[0] the command name, returning an exit code (options.h).
 */
#ifndef MESHMON_CLI_COMMANDS_H
#define MESHMON_CLI_COMMANDS_H

#include <stdbool.h>
#include <stdio.h>

#include "meshmon.pb-c.h"

int cmd_monitor(int argc, char **argv);
int cmd_status(int argc, char **argv);

/* Status rendering (status.c), exposed for the golden tests. */
void mm_status_text(FILE *out, const Meshmon__V1__Status *st);
void mm_status_json(FILE *out, const Meshmon__V1__Status *st);

/* A one-line error: JSON object on stdout under --json, else text on stderr. */
void mm_report_error(bool json, const char *msg);

#endif /* MESHMON_CLI_COMMANDS_H */
