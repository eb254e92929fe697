// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The version string of both binaries (meshmon_version.h). */
#include <stdio.h>

#include "meshmon_version.h"
#include "version.h" /* generated: MESHMON_GIT_DESCRIBE */

const char *mm_version_string(void)
{
	static char buf[128];

	if (!buf[0]) {
		if (MESHMON_GIT_DESCRIBE[0])
			snprintf(buf, sizeof(buf), "%s (git %s)", MESHMON_VERSION,
				 MESHMON_GIT_DESCRIBE);
		else
			snprintf(buf, sizeof(buf), "%s", MESHMON_VERSION);
	}
	return buf;
}
