// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Errors as users see them: one line of text on stderr, or under --json one
 * error object on stdout through the one JSON writer, so a script reading
 * stdout always gets JSON. Used by the dispatcher and every command.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "format_common.h"
#include "json.h"

void mm_report_error(bool json, const char *msg)
{
	if (json) {
		/* The JSON error object carries the message without the "meshmon: " prefix. */
		if (strncmp(msg, "meshmon: ", 9) == 0)
			msg += 9;
		mm_json__error(stdout, msg, -1);
	} else {
		/* One line in one write, whatever the agent put in an Error message. */
		char line[1024];

		mm_fmt_clean_buf(line, sizeof(line), msg);
		fprintf(stderr, "%s\n", line);
	}
}

void mm_report_usage(bool json, const char *command, const char *err)
{
	if (json)
		mm_json__error(stdout, err, -1);
	else
		fprintf(stderr, "meshmon %s: %s\n", command, err);
}
