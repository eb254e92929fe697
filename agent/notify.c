// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* systemd notifications through libsystemd (notify.h). */
#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "notify.h"

void mm_notify__ready(const char *status)
{
	sd_notifyf(0, "READY=1\nSTATUS=%s", status ? status : "ready");
}

void mm_notify__stopping(void)
{
	sd_notify(0, "STOPPING=1\nSTATUS=stopping: detaching");
}

uint64_t mm_notify__watchdog_usec(void)
{
	uint64_t usec = 0;

	return sd_watchdog_enabled(0, &usec) > 0 ? usec : 0;
}

void mm_notify__watchdog(void)
{
	sd_notify(0, "WATCHDOG=1");
}
