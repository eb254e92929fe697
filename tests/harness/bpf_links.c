// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The BPF links a process holds, read from /proc/PID/fdinfo (harness.h): the
 * one view that names a process's attachments exactly, whatever other tests
 * attach at the same time. bpftool 7.1 does not decode TCX links; the
 * kernel's fdinfo does (link_type tcx, ifindex, attach_type).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "harness.h"

static int parse_fdinfo(const char *path, struct mm_test_link *l)
{
	char line[256];
	FILE *f = fopen(path, "re");
	int is_link = 0;

	if (!f)
		return 0; /* the fd went away while we looked */
	memset(l, 0, sizeof(*l));
	l->ifindex = -1;
	l->attach_type = -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned int u;
		int i;

		if (sscanf(line, "link_type:\t%23s", l->type) == 1)
			is_link = 1;
		else if (sscanf(line, "link_id:\t%u", &u) == 1)
			l->id = u;
		else if (sscanf(line, "prog_id:\t%u", &u) == 1)
			l->prog_id = u;
		else if (sscanf(line, "ifindex:\t%d", &i) == 1)
			l->ifindex = i;
		else if (sscanf(line, "attach_type:\t%d", &i) == 1)
			l->attach_type = i;
	}
	fclose(f);
	return is_link && l->id;
}

int mm_test_proc_links(pid_t pid, struct mm_test_link *out, size_t cap)
{
	char dir[64], path[64 + 256 + 2];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%ld/fdinfo", (long)pid);
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct mm_test_link l;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (!parse_fdinfo(path, &l))
			continue;
		if (n < cap)
			out[n] = l;
		n++;
	}
	closedir(d);
	return (int)n;
}

int mm_test_link_exists(uint32_t id)
{
	int fd = bpf_link_get_fd_by_id(id);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

int mm_test_prog_exists(uint32_t id)
{
	int fd = bpf_prog_get_fd_by_id(id);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}
