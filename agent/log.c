// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Owns the agent's stderr log line format (log.h). */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "log.h"

static int log_on = 1;

void mm_log__enable(int on)
{
	log_on = on;
}

void mm_log(const char *fmt, ...)
{
	char line[1024], stamp[32];
	struct timespec ts;
	struct tm tm;
	va_list ap;

	if (!log_on)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s.%03ldZ meshmon-agent: %s\n", stamp, ts.tv_nsec / 1000000, line);
}
