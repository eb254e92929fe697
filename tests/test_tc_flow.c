// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Connection tracking and aggregation in the tc programs under
 * BPF_PROG_TEST_RUN: flow states and direction-independent flow ids, and how
 * the aggregation levels fold a flow's traces and drops into fewer reports.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "datapath.h"
#include "harness.h"
#include "tc_testrun.h"

/* --- connection tracking ----------------------------------------------------- */

Test(tc_flow, new_established_reply)
{
	struct mm_test_pkt_spec fwd = {V4, TCP(MM_TCP_SYN)};
	struct mm_test_pkt_spec rev = {.family = 4,
				       .src = "10.2.0.2",
				       .dst = "10.1.0.1",
				       .proto = IPPROTO_TCP,
				       .sport = 80,
				       .dport = 40000,
				       .tcp_flags = MM_TCP_SYN | MM_TCP_ACK};
	struct mm_test_pkt_spec other = {V4, .proto = IPPROTO_TCP, .sport = 40001, .dport = 80,
					 .tcp_flags = MM_TCP_SYN};
	struct mm_trace_record t[4];

	dp_up_default();
	cr_assert(eq(int, run(fd_in, &fwd, NULL, NULL), TC_ACT_UNSPEC));
	cr_assert(eq(int, run(fd_in, &fwd, NULL, NULL), TC_ACT_UNSPEC));
	cr_assert(eq(int, run(fd_in, &rev, NULL, NULL), TC_ACT_UNSPEC));
	cr_assert(eq(int, run(fd_in, &other, NULL, NULL), TC_ACT_UNSPEC));
	cr_assert(eq(sz, collect_exact(4), 4));
	for (int i = 0; i < 4; i++)
		trace_of(mm_test_ring_nth(ring, MM_EVENT_TRACE, i), &t[i]);
	cr_expect(eq(u8, t[0].state, MM_STATE_NEW));
	cr_expect(eq(u8, t[1].state, MM_STATE_ESTABLISHED));
	cr_expect(eq(u8, t[2].state, MM_STATE_REPLY));
	cr_expect(eq(u16, t[2].tuple.sport, 80), "the reply is reported as seen");
	cr_expect(eq(u8, t[2].tcp_flags, MM_TCP_SYN | MM_TCP_ACK));
	cr_expect(eq(u8, t[3].state, MM_STATE_NEW));
	cr_expect(not(eq(u32, t[0].hdr.flow_id, 0)));
	cr_expect(eq(u32, t[1].hdr.flow_id, t[0].hdr.flow_id));
	cr_expect(eq(u32, t[2].hdr.flow_id, t[0].hdr.flow_id), "flow id is direction-independent");
	cr_expect(not(eq(u32, t[3].hdr.flow_id, t[0].hdr.flow_id)));
	cr_expect(eq(u64, stat_of(MM_STAT_FLOW_INSERT_FAILED), 0));
	dp_down();
}

Test(tc_flow, icmp_echo_reply_matches_request)
{
	struct mm_test_pkt_spec req = {V6, .proto = IPPROTO_ICMPV6, .icmp_type = 128,
				       .icmp_id = 77};
	struct mm_test_pkt_spec rep = {.family = 6,
				       .src = "fd00:2::2",
				       .dst = "fd00:1::1",
				       .proto = IPPROTO_ICMPV6,
				       .icmp_type = 129,
				       .icmp_id = 77};
	struct mm_trace_record a, b;

	dp_up_default();
	cr_assert(eq(int, run(fd_eg, &req, NULL, NULL), TC_ACT_UNSPEC));
	cr_assert(eq(int, run(fd_eg, &rep, NULL, NULL), TC_ACT_UNSPEC));
	cr_assert(eq(sz, collect_exact(2), 2));
	trace_of(mm_test_ring_nth(ring, MM_EVENT_TRACE, 0), &a);
	trace_of(mm_test_ring_nth(ring, MM_EVENT_TRACE, 1), &b);
	cr_expect(eq(u8, a.state, MM_STATE_NEW));
	cr_expect(eq(u8, b.state, MM_STATE_REPLY));
	cr_expect(eq(u16, b.tuple.sport, 77));
	cr_expect(eq(u8, b.icmp_type, 129));
	cr_expect(eq(u32, a.hdr.flow_id, b.hdr.flow_id));
	dp_down();
}

/* --- aggregation -------------------------------------------------------------- */

static void agg_medium(struct mm_config *c)
{
	c->aggregation = MM_AGG_MEDIUM;
	c->agg_interval_ns = 10000 * MS;
}

static void agg_short_interval(struct mm_config *c)
{
	c->agg_interval_ns = 50 * MS;
}

Test(tc_aggregation, medium_folds_a_flow)
{
	struct mm_test_pkt_spec syn = {V4, TCP(MM_TCP_SYN)};
	struct mm_test_pkt_spec ack = {V4, TCP(MM_TCP_ACK)};
	struct mm_test_pkt_spec psh = {V4, TCP(MM_TCP_PSH | MM_TCP_ACK)};
	struct mm_test_pkt_spec fin = {V4, TCP(MM_TCP_FIN | MM_TCP_ACK)};
	struct mm_test_pkt_spec synack = {.family = 4,
					  .src = "10.2.0.2",
					  .dst = "10.1.0.1",
					  .proto = IPPROTO_TCP,
					  .sport = 80,
					  .dport = 40000,
					  .tcp_flags = MM_TCP_SYN | MM_TCP_ACK};
	struct mm_trace_record t;

	dp_up_default();
	set_cfg(agg_medium);
	cr_assert(eq(int, run(fd_in, &syn, NULL, NULL), TC_ACT_UNSPEC));
	for (int i = 0; i < 999; i++)
		cr_assert(eq(int, run(fd_in, i % 2 ? &psh : &ack, NULL, NULL), TC_ACT_UNSPEC));
	cr_assert(eq(sz, collect_exact(1), 1), "1,000 packets: only the new flow is reported");
	trace_of(mm_test_ring_nth(ring, MM_EVENT_TRACE, 0), &t);
	cr_expect(eq(u8, t.state, MM_STATE_NEW));
	cr_expect(eq(u32, t.folded, 0));
	cr_expect(eq(u64, stat_of(MM_STAT_TRACE_FOLDED), 999));
	cr_expect(eq(u64, traffic_of(MM_DIR_INGRESS, 0).packets, 1000));
	mm_test_ring_clear(ring);

	/* The reply direction is reported on its own (new flags there). */
	cr_assert(eq(int, run(fd_in, &synack, NULL, NULL), TC_ACT_UNSPEC));
	cr_assert(eq(sz, collect_exact(1), 1));
	trace_of(mm_test_ring_nth(ring, MM_EVENT_TRACE, 0), &t);
	cr_expect(eq(u8, t.state, MM_STATE_REPLY));
	cr_expect(eq(u32, t.folded, 0));
	mm_test_ring_clear(ring);

	/* A flag not seen before in this direction: one more, carrying the folds. */
	cr_assert(eq(int, run(fd_in, &fin, NULL, NULL), TC_ACT_UNSPEC));
	cr_assert(eq(int, run(fd_in, &fin, NULL, NULL), TC_ACT_UNSPEC));
	cr_assert(eq(sz, collect_exact(1), 1));
	trace_of(mm_test_ring_nth(ring, MM_EVENT_TRACE, 0), &t);
	cr_expect(eq(u8, t.state, MM_STATE_ESTABLISHED));
	cr_expect(eq(u8, t.tcp_flags, MM_TCP_FIN | MM_TCP_ACK));
	cr_expect(eq(u32, t.folded, 999));
	cr_expect(eq(u64, stat_of(MM_STAT_TRACE_FOLDED), 1000), "the second FIN folds");
	mm_test_ring_clear(ring);

	for (int i = 0; i < 10; i++)
		cr_assert(eq(int, run(fd_in, &ack, NULL, NULL), TC_ACT_UNSPEC));
	cr_assert(eq(sz, collect_exact(0), 0));
	set_cfg(agg_short_interval);
	sleep_ms(100);
	cr_assert(eq(int, run(fd_in, &ack, NULL, NULL), TC_ACT_UNSPEC));
	cr_assert(eq(int, run(fd_in, &ack, NULL, NULL), TC_ACT_UNSPEC));
	cr_assert(eq(sz, collect_exact(1), 1), "after the interval: one report");
	trace_of(mm_test_ring_nth(ring, MM_EVENT_TRACE, 0), &t);
	cr_expect(eq(u32, t.folded, 11), "the second FIN and ten ACKs");
	cr_expect(eq(u64, stat_of(MM_STAT_TRACE_FOLDED), 1011));
	dp_down();
}

static void agg_low(struct mm_config *c)
{
	c->aggregation = MM_AGG_LOW;
}

Test(tc_aggregation, low_reports_only_to_network)
{
	struct mm_test_pkt_spec s = {V6, .proto = IPPROTO_UDP, .sport = 1, .dport = 2};
	struct mm_trace_record t;

	dp_up_default();
	set_cfg(agg_low);
	for (int i = 0; i < 5; i++) {
		cr_assert(eq(int, run(fd_in, &s, NULL, NULL), TC_ACT_UNSPEC));
		cr_assert(eq(int, run(fd_eg, &s, NULL, NULL), TC_ACT_UNSPEC));
	}
	cr_assert(eq(sz, collect_exact(5), 5));
	for (int i = 0; i < 5; i++) {
		trace_of(mm_test_ring_nth(ring, MM_EVENT_TRACE, i), &t);
		cr_expect(eq(u8, t.hdr.subtype, MM_POINT_TO_NETWORK));
	}
	cr_expect(eq(u64, traffic_of(MM_DIR_INGRESS, 0).packets, 5));
	dp_down();
}

static void agg_drops(struct mm_config *c)
{
	c->aggregation = MM_AGG_MAXIMUM;
	c->aggregate_drops = 1;
	c->agg_interval_ns = 10000 * MS;
}

Test(tc_aggregation, drops_fold_per_flow)
{
	const char *rules[] = {"proto=udp,dport=9"};
	struct mm_drop_record d;

	dp_up_default();
	set_cfg(agg_drops);
	deny(rules, 1);
	for (int i = 0; i < 100; i++)
		cr_assert(
		    eq(int, run_to(fd_in, 4, "10.0.0.1", "10.0.0.2", IPPROTO_UDP, 9), TC_ACT_SHOT));
	cr_assert(eq(sz, collect_exact(1), 1));
	drop_of(mm_test_ring_nth(ring, MM_EVENT_DROP, 0), &d);
	cr_expect(eq(u32, d.folded, 0));
	cr_expect(eq(u32, d.ext_error, 10));
	cr_expect(eq(u64, stat_of(MM_STAT_DROP_FOLDED), 99));
	mm_test_ring_clear(ring);

	/* Another flow is reported at once. */
	cr_assert(eq(int, run_to(fd_in, 4, "10.0.0.3", "10.0.0.2", IPPROTO_UDP, 9), TC_ACT_SHOT));
	cr_assert(eq(sz, collect_exact(1), 1));
	mm_test_ring_clear(ring);

	set_cfg(agg_short_interval);
	sleep_ms(100);
	cr_assert(eq(int, run_to(fd_in, 4, "10.0.0.1", "10.0.0.2", IPPROTO_UDP, 9), TC_ACT_SHOT));
	cr_assert(eq(sz, collect_exact(1), 1));
	drop_of(mm_test_ring_nth(ring, MM_EVENT_DROP, 0), &d);
	cr_expect(eq(u32, d.folded, 99));
	cr_expect(eq(u64, stat_of(MM_STAT_DROP_FOLDED), 99));
	cr_expect(eq(u64, traffic_of(MM_DIR_INGRESS, MM_DROP_POLICY_DENIED).packets, 102));
	dp_down();
}
