/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* meshmon-agent's log: one line per decision on stderr, with a UTC timestamp. */
#ifndef MESHMON_AGENT_LOG_H
#define MESHMON_AGENT_LOG_H

void mm_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* 0 silences mm_log (unit tests). */
void mm_log__enable(int on);

#endif /* MESHMON_AGENT_LOG_H */
