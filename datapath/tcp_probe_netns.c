// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The network namespaces of a cgroup's threads (tcp_probe_netns.h), and one
 * tcp_probe iterator pass in each. A thread that exits while it is looked at
 * is skipped: its namespace is found through another thread, or has no thread
 * of the cgroup left.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tcp_probe.h"
#include "tcp_probe_netns.h"

/* Deeper cgroup trees than this are not walked further (cgroup v2 allows any depth). */
#define MAX_CGROUP_DEPTH 64

/* Open network namespace file descriptors, one per namespace (inode). */
struct mm_netns_set {
	int *fds;
	unsigned long *inodes;
	size_t n, cap;
};

/* Add the namespace of ns_path (/proc/TID/ns/net) unless one with its inode is in. */
static int mm_netns_set__add(struct mm_netns_set *set, const char *ns_path)
{
	struct stat st;
	int fd = open(ns_path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		int err = -errno;

		close(fd);
		return err;
	}
	for (size_t i = 0; i < set->n; i++)
		if (set->inodes[i] == st.st_ino) {
			close(fd);
			return 0;
		}
	if (set->n == set->cap) {
		size_t cap = set->cap ? 2 * set->cap : 8;
		int *fds = realloc(set->fds, cap * sizeof(*fds));
		unsigned long *inodes;

		if (fds)
			set->fds = fds;
		inodes = fds ? realloc(set->inodes, cap * sizeof(*inodes)) : NULL;
		if (!inodes) {
			close(fd);
			return -ENOMEM;
		}
		set->inodes = inodes;
		set->cap = cap;
	}
	set->fds[set->n] = fd;
	set->inodes[set->n++] = st.st_ino;
	return 0;
}

/* The namespaces of the threads listed in dir_fd's cgroup.threads. */
static int add_threads(struct mm_netns_set *set, int dir_fd)
{
	char path[64];
	FILE *f;
	int fd, tid, err = 0;

	fd = openat(dir_fd, "cgroup.threads", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "r");
	if (!f) {
		err = -errno;
		close(fd);
		return err;
	}
	while (!err && fscanf(f, "%d", &tid) == 1) {
		snprintf(path, sizeof(path), "/proc/%d/ns/net", tid);
		err = mm_netns_set__add(set, path);
		if (err == -ENOENT || err == -ESRCH)
			err = 0; /* the thread has exited */
	}
	fclose(f);
	return err;
}

static int add_cgroup_dir(struct mm_netns_set *set, int dir_fd, int depth)
{
	struct dirent *de;
	DIR *d;
	int err, dup_fd;

	err = add_threads(set, dir_fd);
	if (err || depth >= MAX_CGROUP_DEPTH)
		return err == -ENOENT ? 0 : err; /* a cgroup removed meanwhile */
	dup_fd = dup(dir_fd);
	if (dup_fd < 0)
		return -errno;
	d = fdopendir(dup_fd);
	if (!d) {
		err = -errno;
		close(dup_fd);
		return err;
	}
	while (!err && (de = readdir(d))) {
		int child;

		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		child = openat(dir_fd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (child < 0)
			continue; /* removed meanwhile */
		err = add_cgroup_dir(set, child, depth + 1);
		close(child);
	}
	closedir(d);
	return err;
}

/* Add the namespaces of every thread of the cgroup at cgroup_path and its descendants. */
static int mm_netns_set__add_cgroup(struct mm_netns_set *set, const char *cgroup_path)
{
	int fd = open(cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err;

	if (fd < 0)
		return -errno;
	err = add_cgroup_dir(set, fd, 0);
	close(fd);
	return err;
}

/* Close every descriptor and free. Accepts a zeroed set. */
static void mm_netns_set__clear(struct mm_netns_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		close(set->fds[i]);
	free(set->fds);
	free(set->inodes);
	memset(set, 0, sizeof(*set));
}

int mm_probe__run_iter_in_cgroup_netns(struct mm_probe *p, const char *cgroup_path,
				       struct mm_netns_search *res)
{
	struct mm_netns_set set = {};
	int err;

	memset(res, 0, sizeof(*res));
	/* The caller's own first: set.fds[0], passed through without setns(). */
	err = mm_netns_set__add(&set, "/proc/thread-self/ns/net");
	if (!err)
		err = mm_netns_set__add_cgroup(&set, cgroup_path);
	if (err) {
		mm_netns_set__clear(&set);
		return err;
	}
	res->found = set.n;
	for (size_t i = 0; i < set.n; i++) {
		err = i ? mm_probe__run_iter_in_netns(p, set.fds[i]) : mm_probe__run_iter(p);
		if (!err)
			res->searched++;
		else if (!res->err)
			res->err = err;
	}
	mm_netns_set__clear(&set);
	return 0;
}
