// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Owns the agent's stderr log line format (log.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "log.h"

static int log_on = 1;

void mm_log__enable(int on)
{
	log_on = on;
}

/* Whether stderr is the stream systemd connected to the journal ("DEV:INO"). */
static int stderr_is_journal(void)
{
	static int known = -1;
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (known >= 0)
		return known;
	known = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && !fstat(STDERR_FILENO, &st) &&
		(unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
	return known;
}

void mm_log_va(const char *prefix, const char *fmt, va_list ap)
{
	char line[1024], stamp[40] = "";
	struct timespec ts;
	struct tm tm;
	size_t n;

	if (!log_on)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	if (!stderr_is_journal()) {
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n = strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(stamp + n, sizeof(stamp) - n, ".%03ldZ ", ts.tv_nsec / 1000000);
	}
	fprintf(stderr, "%smeshmon-agent: %s%s\n", stamp, prefix ? prefix : "", line);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

unsigned int mm_log_limit__tick(struct mm_log_limit *l)
{
	uint64_t now = mono_ms();

	if (l->window_ms && now - l->window_ms < 1000)
		return l->held ? (unsigned int)(l->window_ms + 1000 - now) : 0;
	if (l->held)
		mm_log("%llu more %s in the last second", (unsigned long long)l->held, l->what);
	l->window_ms = now;
	l->logged = 0;
	l->held = 0;
	return 0;
}

int mm_log_limited(struct mm_log_limit *l, const char *fmt, ...)
{
	va_list ap;

	mm_log_limit__tick(l);
	if (l->logged >= l->max) {
		l->held++;
		return 0;
	}
	l->logged++;
	va_start(ap, fmt);
	mm_log_va(NULL, fmt, ap);
	va_end(ap);
	return 1;
}

void mm_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mm_log_va(NULL, fmt, ap);
	va_end(ap);
}
