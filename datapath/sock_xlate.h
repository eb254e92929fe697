/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Loader of the UDP half of trace-sock (sock_xlate.bpf.c): connect4/6,
 * sendmsg4/6 and cgroup_skb egress on one cgroup v2 directory, through
 * bpf_links (gone with the process). The TCP half lives in tcp_probe's
 * sockops and needs no loader of its own.
 *
 * Errors: constructors return NULL with errno set.
 */
#ifndef MESHMON_SOCK_XLATE_H
#define MESHMON_SOCK_XLATE_H

struct mm_datapath;
struct mm_xlate;

/*
 * Open, load and attach to cgroup_path. dp: share its maps; NULL: the object
 * keeps its own, configured with the defaults plus trace-sock (tests).
 */
struct mm_xlate *mm_xlate__open(struct mm_datapath *dp, const char *cgroup_path);
/* Detach everything and free. Accepts NULL. */
void mm_xlate__free(struct mm_xlate *x);
/* The object's mm_events (the shared one when opened with a datapath). */
int mm_xlate__events_fd(const struct mm_xlate *x);

#endif /* MESHMON_SOCK_XLATE_H */
