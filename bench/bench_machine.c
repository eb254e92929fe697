// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The machine line of every benchmark (bench_machine.h). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>

#include "bench_machine.h"

void mm_bench_print_machine(void)
{
	char model[256] = "?", line[512];
	struct utsname u;
	FILE *f = fopen("/proc/cpuinfo", "re");

	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && colon) {
			snprintf(model, sizeof(model), "%s", colon + 2);
			model[strcspn(model, "\n")] = 0;
			break;
		}
	}
	if (f)
		fclose(f);
	uname(&u);
	printf("machine: %ld CPUs online (%s), kernel %s %s %s\n", sysconf(_SC_NPROCESSORS_ONLN),
	       model, u.sysname, u.release, u.machine);
}
