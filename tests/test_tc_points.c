// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The tc programs' point counters under BPF_PROG_TEST_RUN (tc_testrun.h):
 * every packet counts at its observation point (ingress at from-network,
 * egress at to-network), by outcome, with its frame length, whatever the
 * record switches, aggregation and rate limit let through; no other point
 * counts anything.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>

#include "tc_testrun.h"

TestSuite(tc_points, .timeout = 60);

static struct mm_traffic_counter at(unsigned int point, unsigned int reason)
{
	struct mm_traffic_counter t[MM_TRAFFIC_SLOTS];

	cr_assert(eq(int, mm_datapath__read_traffic(dp, t), 0));
	return t[MM_TRAFFIC_INDEX(point, reason)];
}

/* Packets counted at any point but the tc programs' two. */
static __u64 elsewhere(void)
{
	struct mm_traffic_counter t[MM_TRAFFIC_SLOTS];
	__u64 n = 0;

	cr_assert(eq(int, mm_datapath__read_traffic(dp, t), 0));
	for (unsigned int p = 0; p < MM_TRAFFIC_POINTS; p++)
		for (unsigned int r = 0; r < MM_TRAFFIC_REASONS; r++)
			n += p == MM_POINT_FROM_NETWORK || p == MM_POINT_TO_NETWORK
				 ? 0
				 : t[MM_TRAFFIC_INDEX(p, r)].packets;
	return n;
}

static void quiet(struct mm_config *c)
{
	c->event_mask = 0;   /* no records */
	c->rate_per_cpu = 1; /* and a rate limit that would refuse most */
	c->burst_per_cpu = 1;
}

Test(tc_points, each_packet_at_its_point_by_outcome)
{
	const char *rules[] = {"proto=udp,dport=53"};
	struct mm_test_pkt_spec tcp = {V4, TCP(MM_TCP_SYN)};
	struct mm_test_pkt_spec udp = {V4, .proto = IPPROTO_UDP, .sport = 5000, .dport = 53,
				       .payload_len = 20};
	size_t tcp_len, udp_len;
	uint8_t frame[256];

	dp_up_default();
	set_cfg(quiet);
	deny(rules, 1);
	tcp_len = build(frame, sizeof(frame), &tcp);
	udp_len = build(frame, sizeof(frame), &udp);
	for (int i = 0; i < 4; i++)
		cr_assert(eq(int, run(fd_in, &tcp, NULL, NULL), TC_ACT_UNSPEC));
	for (int i = 0; i < 2; i++)
		cr_assert(eq(int, run(fd_in, &udp, NULL, NULL), TC_ACT_SHOT));
	for (int i = 0; i < 3; i++)
		cr_assert(eq(int, run(fd_eg, &tcp, NULL, NULL), TC_ACT_UNSPEC));
	cr_assert(eq(int, run(fd_eg, &udp, NULL, NULL), TC_ACT_SHOT));

	cr_expect(eq(u64, at(MM_POINT_FROM_NETWORK, 0).packets, 4));
	cr_expect(eq(u64, at(MM_POINT_FROM_NETWORK, 0).bytes, 4 * tcp_len));
	cr_expect(eq(u64, at(MM_POINT_FROM_NETWORK, MM_DROP_POLICY_DENIED).packets, 2));
	cr_expect(eq(u64, at(MM_POINT_FROM_NETWORK, MM_DROP_POLICY_DENIED).bytes, 2 * udp_len));
	cr_expect(eq(u64, at(MM_POINT_TO_NETWORK, 0).packets, 3));
	cr_expect(eq(u64, at(MM_POINT_TO_NETWORK, 0).bytes, 3 * tcp_len));
	cr_expect(eq(u64, at(MM_POINT_TO_NETWORK, MM_DROP_POLICY_DENIED).packets, 1));
	cr_expect(eq(u64, at(MM_POINT_TO_NETWORK, MM_DROP_POLICY_DENIED).bytes, udp_len));
	cr_expect(eq(u64, elsewhere(), 0), "no other point counts");
	cr_expect(eq(u64, stat_of(MM_STAT_RATE_LIMITED), 0), "records off: nothing to refuse");
	dp_down();
}
