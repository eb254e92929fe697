/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * meshmon-agent's log: one line per decision on stderr, with a UTC timestamp,
 * or without one when stderr is the systemd journal (JOURNAL_STREAM names
 * stderr's device and inode), which stamps every line itself.
 */
#ifndef MESHMON_AGENT_LOG_H
#define MESHMON_AGENT_LOG_H

#include <stdarg.h>

void mm_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same with a prefix ("libbpf: ") and a va_list; a trailing newline is dropped. */
void mm_log_va(const char *prefix, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* 0 silences mm_log (unit tests). */
void mm_log__enable(int on);

#endif /* MESHMON_AGENT_LOG_H */
