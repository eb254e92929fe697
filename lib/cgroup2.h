/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The cgroup v2 hierarchy as user input names it: where it is mounted,
 * whether a path is one of its directories, and a directory's 64-bit id as
 * the kernel reports cgroup ids (bpf_get_current_cgroup_id(), the kernfs
 * node id). Shared by the datapath's tcp_probe loader, the agent's --cgroup
 * and the CLI's --cgroup filter.
 */
#ifndef MESHMON_CGROUP2_H
#define MESHMON_CGROUP2_H

#include <stddef.h>
#include <stdint.h>

/* Find the cgroup v2 mount point; returns 0 or -errno. */
int mm_cgroup2_root(char *buf, size_t len);
/* Whether path is a cgroup v2 directory: 0, -ENOENT, -ENOTDIR, or -EMEDIUMTYPE (not cgroup2). */
int mm_cgroup2_check(const char *path);
/*
 * The id of the cgroup v2 directory path: its file handle (name_to_handle_at,
 * 8 bytes on cgroup2), which is also its inode number on 64-bit kernels.
 * 0, or -errno (-EMEDIUMTYPE: not on cgroup2).
 */
int mm_cgroup2_id(const char *path, uint64_t *id);
/*
 * A cgroup v2 directory as a user names it: an absolute path, or one relative
 * to the cgroup v2 mount point ("system.slice/ssh.service"); an absolute path
 * that is no cgroup v2 directory is also tried below the mount point, since
 * /proc/PID/cgroup prints paths so ("0::/system.slice/ssh.service"). The
 * directory found goes to path (len bytes) and its id to *id. 0, or -errno:
 * -ENOENT / -ENOTDIR / -EMEDIUMTYPE for the path as given (or, for a
 * relative one, below the mount point), -ENOMEDIUM when no cgroup v2
 * hierarchy is mounted (and the path needs it), -ENAMETOOLONG.
 */
int mm_cgroup2_resolve(const char *name, char *path, size_t len, uint64_t *id);

#endif /* MESHMON_CGROUP2_H */
