// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `meshmon`: the command table and its dispatcher, bpftool style. Each
 * command parses its own flags; `meshmon help CMD` equals `meshmon CMD --help`.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "options.h"

static int cmd_help(int argc, char **argv);

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "monitor", cmd_monitor, "stream live events (text, JSON or pcap)" },
	{ "status", cmd_status, "print the agent's state" },
	{ "help", cmd_help, "this help, or a command's: meshmon help CMD" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	size_t i;

	fputs("Usage: meshmon COMMAND [FLAGS]\n\nmeshmon is the client of meshmon-agent, a node-level eBPF network monitor.\n\nCommands:\n",
	      out);
	for (i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\nRun 'meshmon COMMAND --help' for a command's flags.\n"
	      "Socket: --socket PATH, or $" MM_SOCKET_ENV ", default " MM_SOCKET_DEFAULT ".\n",
	      out);
}

static int cmd_help(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "monitor") == 0)
		mm_opts_usage_monitor(stdout);
	else if (argc > 1 && strcmp(argv[1], "status") == 0)
		mm_opts_usage_status(stdout);
	else
		usage(stdout);
	return MM_EXIT_OK;
}

static int dispatch(int argc, char **argv)
{
	size_t i;

	if (argc < 1) {
		usage(stderr);
		return MM_EXIT_USAGE;
	}
	if (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)
		return cmd_help(0, argv);
	if (strcmp(argv[0], "--version") == 0 || strcmp(argv[0], "-V") == 0) {
		printf("meshmon %s\n", MESHMON_VERSION);
		return MM_EXIT_OK;
	}
	for (i = 0; i < N_COMMANDS; i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			return commands[i].fn(argc, argv);
	fprintf(stderr, "meshmon: unknown command '%s' (try 'meshmon --help')\n", argv[0]);
	return MM_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	return dispatch(argc - 1, argv + 1);
}
