/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Loader of the tcp_probe object (tcp_probe.bpf.c): sockops and connect4/6 on
 * one cgroup v2 directory, tp_btf/inet_sock_set_state for the close of
 * connections opened before it, and two iterators the caller runs: the one
 * over the connections the probe knows, once per probe interval
 * (mm_probe__run_known: every open connection, idle ones included, in every
 * network namespace), and iter/tcp (mm_probe__run_iter*, one namespace per
 * pass), which also finds connections opened before the probe; on request, the
 * endpoint programs (endpoint.bpf.h: cgroup_skb ingress/egress traces,
 * cgroup/sock_create) on the same cgroup. Accepted connections report the process
 * that called listen() on their listening socket, if that happened while the
 * probe was attached.
 *
 * Errors: 0 or a negative errno; constructors return NULL with errno set.
 */
#ifndef MESHMON_TCP_PROBE_H
#define MESHMON_TCP_PROBE_H

#include "cgroup2.h" /* the cgroup v2 paths mm_probe__open() takes (mm_cgroup2_root, ...) */
#include "config.h"

struct mm_datapath;
struct mm_probe;

/*
 * Open, load and attach. dp: share its maps (events, config, stats, rate
 * bucket); NULL: the object keeps maps of its own (standalone use, tests).
 * cgroup_path NULL: the root of the cgroup v2 hierarchy, found in
 * /proc/self/mountinfo.
 */
struct mm_probe *mm_probe__open(struct mm_datapath *dp, const char *cgroup_path);
/* Detach everything and free. Accepts NULL. */
void mm_probe__free(struct mm_probe *p);

/*
 * Attach the endpoint programs (endpoint.bpf.h) to the probe's cgroup too:
 * trace records at to-endpoint and from-endpoint for every packet a socket of
 * the cgroup receives or sends, under the trace type's switch, aggregation
 * and limits. 0, -EALREADY, or -errno (then nothing of them stays attached).
 */
int mm_probe__attach_endpoints(struct mm_probe *p);

/*
 * The periodic pass: report every connection the probe knows (its socket
 * storage: whatever sockops and connect saw, and what iter/tcp passes found),
 * in every network namespace, without entering any.
 */
int mm_probe__run_known(struct mm_probe *p);
/*
 * Run the TCP iterator once in the calling thread's network namespace: also
 * finds the connections of the cgroup that predate the probe.
 */
int mm_probe__run_iter(struct mm_probe *p);
/* The same in the network namespace netns_fd refers to (setns in a helper thread). */
int mm_probe__run_iter_in_netns(struct mm_probe *p, int netns_fd);

/* The object's own maps (the shared ones when opened with a datapath). */
int mm_probe__events_fd(const struct mm_probe *p);
int mm_probe__set_config(struct mm_probe *p, const struct mm_config *cfg);
/* The endpoint programs (cgroup_skb ingress: to-endpoint, egress: from-endpoint), for test runs. */
int mm_probe__endpoint_ingress_fd(const struct mm_probe *p);
int mm_probe__endpoint_egress_fd(const struct mm_probe *p);

#endif /* MESHMON_TCP_PROBE_H */
