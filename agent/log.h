/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * meshmon-agent's log: one line per decision on stderr, with a UTC timestamp,
 * or without one when stderr is the systemd journal (JOURNAL_STREAM names
 * stderr's device and inode), which stamps every line itself.
 */
#ifndef MESHMON_AGENT_LOG_H
#define MESHMON_AGENT_LOG_H

#include <stdarg.h>
#include <stdint.h>

void mm_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same with a prefix ("libbpf: ") and a va_list; a trailing newline is dropped. */
void mm_log_va(const char *prefix, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/*
 * A budget of lines per second for one kind of line (one per connection), so
 * that a client in a loop cannot flood the log: at most max lines in each
 * second; the others are counted and told in one line, "N more <what> in the
 * last second", once that second is over. Zero-initialise, then set what
 * and max.
 */
struct mm_log_limit {
	const char *what;    /* "connections" */
	unsigned int max;    /* lines per second */
	uint64_t window_ms;  /* CLOCK_MONOTONIC start of the current second */
	unsigned int logged; /* lines in it */
	uint64_t held;       /* lines held back in it */
};

/* mm_log, unless this second's budget is spent: 1 when logged, 0 when held back. */
int mm_log_limited(struct mm_log_limit *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * When the current second is over: its summary line, if lines were held
 * back, and a fresh second. Returns 0 when no summary is due, else the ms
 * until it is: call it again then (a timer), so the summary comes even if no
 * line follows.
 */
unsigned int mm_log_limit__tick(struct mm_log_limit *l);

/* 0 silences mm_log (unit tests). */
void mm_log__enable(int on);

#endif /* MESHMON_AGENT_LOG_H */
