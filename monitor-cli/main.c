// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `meshmon`: the command table and its dispatcher, bpftool style. The
 * dispatcher decides JSON mode once (--json before the command, or among the
 * command's flags) and hands it to the command in struct mm_cmd_ctx; each
 * command parses the rest of its flags. `meshmon help CMD` prints the usage
 * the table names for CMD, the same as `meshmon CMD --help`.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "meshmon_version.h"
#include "options.h"
#include "signals.h"

struct command {
	const char *name;
	int (*fn)(const struct mm_cmd_ctx *ctx, int argc, char **argv);
	void (*usage)(FILE *out);
	const char *summary;
};

static int cmd_help(const struct mm_cmd_ctx *ctx, int argc, char **argv);
static void usage(FILE *out);

static const struct command commands[] = {
	{ "monitor", cmd_monitor, mm_opts_usage_monitor, "stream live events (text, JSON or pcap)" },
	{ "capture", cmd_capture, mm_opts_usage_capture, "capture packets on demand (pcap or text)" },
	{ "status", cmd_status, mm_opts_usage_status, "print the agent's state" },
	{ "export", cmd_export, mm_opts_usage_export, "write events into ClickHouse: export clickhouse" },
	{ "help", cmd_help, usage, "this help, or a command's: meshmon help CMD" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	size_t i;

	fputs("Usage: meshmon [--json] COMMAND [FLAGS]\n\nmeshmon is the client of meshmon-agent, a node-level eBPF network monitor.\n\nCommands:\n",
	      out);
	for (i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\nRun 'meshmon COMMAND --help' for a command's flags.\n"
	      "-j, --json before or after COMMAND: JSON output, and errors as JSON on stdout.\n"
	      "Socket: --socket PATH, or $" MM_SOCKET_ENV ", default " MM_SOCKET_DEFAULT ".\n",
	      out);
}

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < N_COMMANDS; i++)
		if (strcmp(name, commands[i].name) == 0)
			return &commands[i];
	return NULL;
}

static int cmd_help(const struct mm_cmd_ctx *ctx, int argc, char **argv)
{
	const struct command *cmd;
	char err[256], known[128] = "";
	size_t i;

	if (argc < 2) {
		usage(stdout);
		return MM_EXIT_OK;
	}
	cmd = find_command(argv[1]);
	if (!cmd) {
		for (i = 0; i < N_COMMANDS; i++) {
			strncat(known, i ? ", " : "", sizeof(known) - strlen(known) - 1);
			strncat(known, commands[i].name, sizeof(known) - strlen(known) - 1);
		}
		snprintf(err, sizeof(err), "unknown command '%s' (known: %s)", argv[1], known);
		mm_report_usage(ctx->json, "help", err);
		return MM_EXIT_USAGE;
	}
	cmd->usage(stdout);
	return MM_EXIT_OK;
}

static bool is_json_flag(const char *arg)
{
	return strcmp(arg, "--json") == 0 || strcmp(arg, "-j") == 0;
}

static int dispatch(int argc, char **argv)
{
	struct mm_cmd_ctx ctx = { .json = false };
	const struct command *cmd;
	char msg[600];
	int rc;

	/* The one global flag, before the command: `meshmon --json status`. */
	while (argc > 0 && is_json_flag(argv[0])) {
		ctx.json = true;
		argc--;
		argv++;
	}
	if (argc < 1) {
		if (ctx.json)
			mm_report_error(true, "meshmon: missing command (try 'meshmon --help')");
		else
			usage(stderr);
		return MM_EXIT_USAGE;
	}
	if (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)
		return cmd_help(&ctx, 1, argv);
	if (strcmp(argv[0], "--version") == 0 || strcmp(argv[0], "-V") == 0) {
		printf("meshmon %s\n", mm_version_string());
		return MM_EXIT_OK;
	}
	cmd = find_command(argv[0]);
	if (!cmd) {
		snprintf(msg, sizeof(msg),
			 "meshmon: unknown command '%.500s' (try 'meshmon --help')", argv[0]);
		mm_report_error(ctx.json, msg);
		return MM_EXIT_USAGE;
	}
	/* Or among the command's flags, where users have always written it: `status --json`. */
	if (mm_opts_json(cmd->name, argc, argv))
		ctx.json = true;
	rc = cmd->fn(&ctx, argc, argv);
	mm_signals__block(); /* the end is decided: nothing may interrupt the exit */
	return rc;
}

int main(int argc, char **argv)
{
	return dispatch(argc - 1, argv + 1);
}
