// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A private cgroup v2 directory for a test: sockops and connect programs
 * attached there see only the test's own sockets. The name carries the test
 * process's pid, so tests running in parallel never share one; destroy moves
 * the test back to the root first, since a cgroup with members cannot go.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "harness.h"

static int procs_write(const char *dir, pid_t pid)
{
	char path[600], text[32];
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	snprintf(text, sizeof(text), "%d\n", (int)pid);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		err = -errno;
	close(fd);
	return err;
}

int mm_test_cgroup_create(struct mm_test_cgroup *cg, const char *root, const char *tag)
{
	int n;

	memset(cg, 0, sizeof(*cg));
	if (strlen(root) >= sizeof(cg->root))
		return -ENAMETOOLONG;
	strcpy(cg->root, root);
	n = snprintf(cg->path, sizeof(cg->path), "%s/mmtest-%s-%d", root, tag, (int)getpid());
	if (n < 0 || (size_t)n >= sizeof(cg->path)) {
		cg->path[0] = '\0';
		return -ENAMETOOLONG;
	}
	if (mkdir(cg->path, 0755)) {
		n = -errno;
		cg->path[0] = '\0';
		return n;
	}
	return 0;
}

int mm_test_cgroup_enter(struct mm_test_cgroup *cg, pid_t pid)
{
	int err;

	if (!cg->path[0])
		return -ENOENT;
	err = procs_write(cg->path, pid);
	if (!err && pid == getpid())
		cg->self_inside = 1;
	return err;
}

void mm_test_cgroup_destroy(struct mm_test_cgroup *cg)
{
	const struct timespec pause = { 0, 20 * 1000 * 1000 };

	if (!cg || !cg->path[0])
		return;
	if (cg->self_inside)
		procs_write(cg->root, getpid());
	cg->self_inside = 0;
	for (int i = 0; i < 50 && rmdir(cg->path) && errno == EBUSY; i++)
		nanosleep(&pause, NULL);
	cg->path[0] = '\0';
}
