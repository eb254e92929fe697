/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Where tcp_probe looks for connections that predate it: the network
 * namespaces the threads of a cgroup v2 directory and of every cgroup below it
 * live in (cgroup.threads -> /proc/TID/ns/net, one per namespace inode). The
 * TCP iterator lists one namespace per pass, so finding a cgroup's old
 * connections takes one pass in each of these (tcp_probe.h).
 *
 * Errors: 0 or a negative errno.
 */
#ifndef MESHMON_TCP_PROBE_NETNS_H
#define MESHMON_TCP_PROBE_NETNS_H

#include <stddef.h>

struct mm_probe;

/* What mm_probe__run_iter_in_cgroup_netns did. */
struct mm_netns_search {
	size_t found;    /* namespaces: the caller's and those of the cgroup's threads */
	size_t searched; /* of which an iter/tcp pass ran in */
	int err;         /* the first pass that failed, -errno (setns() needs CAP_SYS_ADMIN) */
};

/*
 * One iter/tcp pass in the caller's network namespace (no setns() needed)
 * and in each other namespace of the cgroup's threads (setns() in a helper
 * thread): reports (and from then on knows) the cgroup's connections that
 * were open before the probe. A namespace whose pass fails does not stop the
 * others. Returns 0, or -errno when the namespaces could not be listed.
 */
int mm_probe__run_iter_in_cgroup_netns(struct mm_probe *p, const char *cgroup_path,
				       struct mm_netns_search *res);

#endif /* MESHMON_TCP_PROBE_NETNS_H */
