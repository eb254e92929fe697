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

/* A datapath with every packet traced (no aggregation), freed by teardown at the latest. */
struct mm_datapath *open_datapath(void);
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

#endif /* MESHMON_TEST_TC_VETH_H */
