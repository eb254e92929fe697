/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * systemd's service notifications (sd_notify, libsystemd), for Type=notify:
 * READY=1 once the socket is up, STOPPING=1 when the agent begins to stop,
 * and WATCHDOG=1 keep-alives when the unit sets WatchdogSec=. Without
 * NOTIFY_SOCKET (not under systemd) every call does nothing.
 */
#ifndef MESHMON_AGENT_NOTIFY_H
#define MESHMON_AGENT_NOTIFY_H

#include <stdint.h>

void mm_notify__ready(const char *status);
void mm_notify__stopping(void);
/* The watchdog period systemd asked for in microseconds, 0 when none. */
uint64_t mm_notify__watchdog_usec(void);
void mm_notify__watchdog(void);

#endif /* MESHMON_AGENT_NOTIFY_H */
