/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Test harness for tests that use the real kernel (harness_dep). criterion
 * runs every test in its own forked process, so each test can unshare its own
 * network namespace: everything created inside it (veths, tc filters) goes
 * away with the process, even when the test crashes. Helpers hand errors back
 * (0 or -errno, or NULL with errno set) and never print or assert: the test
 * asserts and says what failed.
 *
 * The agent under test has its own header, harness_agent.h; canned packets
 * (no libbpf) are in harness_packet.h, included here.
 */
#ifndef MESHMON_TEST_HARNESS_H
#define MESHMON_TEST_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <net/if.h>

#include "harness_packet.h"

/* --- network namespaces --------------------------------------------------- */

/*
 * Move the calling process into a new, private network namespace with lo up.
 * Returns 0 or -errno. Call first thing in a test (or its .init).
 */
int mm_test_private_netns(void);

/*
 * A veth pair between the caller's namespace and a peer namespace held open
 * by a helper child process. Addresses: local 10.199.0.1/24 and fd00:199::1/64,
 * peer 10.199.0.2/24 and fd00:199::2/64 (IPv6 with nodad so it is usable at once).
 */
struct mm_test_pair {
	pid_t peer_pid;              /* child keeping the peer namespace alive */
	char local_if[IFNAMSIZ];     /* in the caller's namespace */
	char peer_if[IFNAMSIZ];      /* in the peer namespace */
	int local_ifindex;
	char peer_ns_path[64];       /* /proc/<pid>/ns/net, for nsenter --net= */
};
int mm_test_pair_create(struct mm_test_pair *pair);
/* Kill the peer (its namespace and the veth go with it). Safe to call twice. */
void mm_test_pair_destroy(struct mm_test_pair *pair);
/* Run a shell command inside the peer namespace; returns its exit status. */
int mm_test_pair_sh(const struct mm_test_pair *pair, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * Nothing but the test's own packets on the pair: IPv6 off on both ends (no
 * MLD, no router solicitations), fixed MACs (local 02:00:00:00:98:01, peer
 * :02) and static neighbours for 10.199.0.1 and .2 (no ARP). Call it in the
 * namespace that holds the local end. Returns 0, or -EIO when a command failed.
 */
int mm_test_pair_quiet(const struct mm_test_pair *pair);
/* Run a shell command in the caller's namespace; returns its exit status. */
int mm_test_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* `jq -e -s FILTER PATH`: 0 when the filter's result over every JSON value of PATH is true. */
int mm_test_jq(const char *filter, const char *path);

/* --- sockets in the peer namespace ----------------------------------------- */

/*
 * socket(family, type | SOCK_CLOEXEC, 0) created inside the pair's peer
 * namespace by a short-lived thread that setns()es there, so the caller's
 * namespace never changes. A socket keeps the namespace it was created in.
 * Returns the fd or -errno.
 */
int mm_test_pair_socket(const struct mm_test_pair *pair, int family, int type);
/*
 * A TCP socket listening in the peer namespace (created, bound and put to
 * listen by such a thread): on the peer's address of family, AF_INET
 * 10.199.0.2 or AF_INET6 fd00:199::2, and port (0: an ephemeral one), with
 * SO_REUSEADDR. Returns the fd or -errno.
 */
int mm_test_pair_listen(const struct mm_test_pair *pair, int family, uint16_t port, int backlog);

/* --- a private cgroup -------------------------------------------------------- */

/*
 * A cgroup v2 directory of the test's own, <root>/mmtest-<tag>-<pid>. The
 * caller passes the cgroup v2 root (the datapath's mm_cgroup2_root() finds
 * it; the harness does not link the datapath).
 */
struct mm_test_cgroup {
	char root[256];
	char path[512];  /* empty until created, and again once destroyed */
	int self_inside; /* the calling process moved itself in */
};
/* Create the directory (it must not exist yet); 0 or -errno. */
int mm_test_cgroup_create(struct mm_test_cgroup *cg, const char *root, const char *tag);
/* Move process pid into the cgroup (cgroup.procs); 0 or -errno. */
int mm_test_cgroup_enter(struct mm_test_cgroup *cg, pid_t pid);
/*
 * Move the calling process back to the root if it entered, then remove the
 * directory, retrying for a second while it is busy (processes that were
 * inside are still leaving). Safe on a zeroed or destroyed cgroup.
 */
void mm_test_cgroup_destroy(struct mm_test_cgroup *cg);

/* --- reading the event rings ---------------------------------------------- */

struct mm_test_record {
	int cpu;
	uint32_t size;
	uint8_t *data; /* a private, aligned copy of the raw sample */
};

struct mm_test_ring {
	struct perf_buffer *pb;
	struct mm_test_record *recs;
	size_t n, cap;
	uint64_t lost; /* PERF_RECORD_LOST counts */
};

/* Open a perf buffer reader (8 pages per CPU, wakeup per event) on a perf event array fd. */
struct mm_test_ring *mm_test_ring_open(int events_fd);
/* Poll until at least `want` records were collected in total, or timeout_ms passed;
 * then sort everything collected by the notify header's ktime_ns (stable). */
size_t mm_test_ring_collect(struct mm_test_ring *ring, size_t want, int timeout_ms);
/* Drop the records collected so far. */
void mm_test_ring_clear(struct mm_test_ring *ring);
/* Records of one type (hdr.type), in time order: the i-th one or NULL. */
const struct mm_test_record *mm_test_ring_nth(const struct mm_test_ring *ring, uint8_t type,
					      size_t i);
size_t mm_test_ring_count(const struct mm_test_ring *ring, uint8_t type);
void mm_test_ring_free(struct mm_test_ring *ring);

/* --- BPF_PROG_TEST_RUN ---------------------------------------------------- */

/* BPF_PROG_TEST_RUN a tc program on a frame; returns the program's return code
 * in *retval and 0, or -errno when the run itself failed. The kernel looks
 * ifindex up in the caller's namespace (-ENODEV if absent); 0 runs on lo.
 * Frames shorter than an Ethernet header are refused (-EINVAL). */
int mm_test_tc_run(int prog_fd, const uint8_t *frame, size_t len, int ifindex, int *retval);

/* --- BPF links a process holds -------------------------------------------- */

struct mm_test_link {
	uint32_t id;
	uint32_t prog_id;
	char type[24];   /* fdinfo's link_type: "tcx", "cgroup", "raw_tracepoint", "tracing", ... */
	int ifindex;     /* tcx: the interface; -1 when the link has none */
	int attach_type; /* tcx: 46 ingress, 47 egress; -1 when not shown */
};

/*
 * The links process pid holds open, from /proc/PID/fdinfo: how many (at most
 * cap of them stored in out), or -errno.
 */
int mm_test_proc_links(pid_t pid, struct mm_test_link *out, size_t cap);
/* 1 while a link (a program) with this id exists in the kernel, else 0. */
int mm_test_link_exists(uint32_t id);
int mm_test_prog_exists(uint32_t id);

#endif /* MESHMON_TEST_HARNESS_H */
