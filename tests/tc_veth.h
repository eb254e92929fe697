/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The tc datapath attached to a veth pair, shared by test_tc_traffic and
 * test_tc_attach. Use tc_veth_setup / tc_veth_teardown as the suite's .init
 * and .fini: a private network namespace with a veth pair to a peer
 * namespace (tests/harness), and every datapath and ring opened through this
 * file freed at the end even when an assertion ended the test early.
 * The helpers assert: a failure ends the test where it happened.
 */
#ifndef MESHMON_TEST_TC_VETH_H
#define MESHMON_TEST_TC_VETH_H

#include <stddef.h>

#include "datapath.h"
#include "harness.h"

/* The veth pair of the current test (local 10.199.0.1, peer 10.199.0.2). */
extern struct mm_test_pair pair;

void tc_veth_setup(void);
void tc_veth_teardown(void);

/* The clsact owner records of the current test (a temp dir, removed by teardown). */
extern char owner_dir[64];

/*
 * A datapath with every packet traced (no aggregation), freed by teardown at
 * the latest; tc attach mode AUTO (TCX here), or the one given, with its
 * owner records in owner_dir.
 */
struct mm_datapath *open_datapath(void);
struct mm_datapath *open_datapath_mode(enum mm_tc_mode mode);
void close_datapath(struct mm_datapath *dp);
/* A ring reader on the datapath's events, freed by teardown at the latest. */
struct mm_test_ring *open_ring(struct mm_datapath *dp);
void close_ring(struct mm_test_ring *ring);

/* Lines of `cmd` output that contain `needle`, or -1 if cmd cannot run. */
int count_lines(const char *needle, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* meshmon's tc filters on ifname in dir ("ingress", "egress"), and its clsact qdiscs. */
int meshmon_filters(const char *ifname, const char *dir);
int has_clsact(const char *ifname);

struct matched {
	struct mm_trace_record rec[16];
	size_t n;
	size_t cap_ok; /* records whose captured bytes are the frame's first bytes */
};

/* Traces at `point` of family/proto from src to dst; icmp_type < 0: any. */
void match(const struct mm_test_ring *ring, __u8 point, int family, __u8 proto, const char *src,
	   const char *dst, int icmp_type, struct matched *m);

/*
 * Another tool's clsact filter on ifindex's ingress: counts packets in an
 * array map (*map_fd) and returns TC_ACT_UNSPEC, at a lower priority than
 * meshmon's clsact filter (runs after it). Returns the program fd.
 */
int foreign_filter(int ifindex, int *map_fd);
__u64 foreign_count(int map_fd);

#endif /* MESHMON_TEST_TC_VETH_H */
