/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * How the tc programs meet the interfaces. Two mechanisms, chosen at run time:
 *
 * - TCX links (kernel 6.6 and later): bpf_link_create() with BPF_TCX_INGRESS /
 *   BPF_TCX_EGRESS. A link belongs to the file descriptor that holds it, so
 *   when the process dies, however it dies, the kernel detaches it: no filter
 *   and no deny rule outlives the agent. Any number of agents (and other TCX
 *   or clsact programs) coexist on one interface, each seeing every packet,
 *   because meshmon's programs return TCX_NEXT (-1, the same value as
 *   TC_ACT_UNSPEC) unless a deny rule drops.
 * - clsact filters (older kernels): one fixed handle and priority per
 *   interface, which outlive their loader. An owner record per interface and
 *   network namespace (a file in owner_dir holding the owner's pid, locked
 *   with flock() for as long as the owner lives) lets a new agent replace the
 *   filters of a dead owner and refuse an interface a live agent holds.
 *
 * Errors: 0 or a negative errno; -EBUSY when a live agent owns the interface
 * (clsact only). Nothing here prints, but libbpf's expected-failure messages
 * of a clsact hook creation are silenced.
 */
#ifndef MESHMON_TC_ATTACH_H
#define MESHMON_TC_ATTACH_H

#include <sys/types.h>

/* Attach modes: X(NAME, value, "name"). */
#define MM_TC_MODES(X)          \
	X(AUTO, 0, "auto")      \
	X(TCX, 1, "tcx")        \
	X(CLSACT, 2, "clsact")

enum mm_tc_mode {
#define X(name, value, text) MM_TC_MODE_##name = value,
	MM_TC_MODES(X)
#undef X
};

/* Where clsact owner records live unless told otherwise. */
#define MM_TC_OWNER_DIR_DEFAULT "/run/meshmon/tc"

struct mm_tc_attach;

/*
 * mode AUTO: TCX when the kernel has it, else clsact (decided at the first
 * attach). owner_dir NULL: MM_TC_OWNER_DIR_DEFAULT. NULL with errno set.
 */
struct mm_tc_attach *mm_tc_attach__new(enum mm_tc_mode mode, const char *owner_dir);
/* Detach everything attached through t, then free it. Accepts NULL. */
void mm_tc_attach__free(struct mm_tc_attach *t);

/* Attach the two programs on ifindex (ingress, egress). */
int mm_tc_attach__add(struct mm_tc_attach *t, int ifindex, int ingress_fd, int egress_fd);
/* Detach what t attached on ifindex; -ENOENT when it attached nothing there. */
int mm_tc_attach__remove(struct mm_tc_attach *t, int ifindex);

/* The mode in use: AUTO until the first attach decided it. */
enum mm_tc_mode mm_tc_attach__mode(const struct mm_tc_attach *t);
/* "auto", "tcx", "clsact"; NULL for another value. */
const char *mm_tc_mode_name(unsigned int mode);
/* The mode of a name, or -1. */
int mm_tc_mode_parse(const char *name);

/* clsact: the pid in the owner record of ifindex (this netns), or 0 when none can be read. */
pid_t mm_tc_attach__owner_pid(const struct mm_tc_attach *t, int ifindex);

#endif /* MESHMON_TC_ATTACH_H */
