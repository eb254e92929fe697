// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Policy-verdict records of the tc programs under BPF_PROG_TEST_RUN: one per
 * new flow, allowed (rule 0) or denied by the lowest matching rule, none for
 * the later packets of a flow (established, replies, a denied flow's
 * retransmissions), none when the type is off, and at most one per
 * aggregation interval with the rest folded.
 */
#include <string.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "harness.h"
#include "tc_testrun.h"

static void verdicts_on(struct mm_config *c)
{
	c->event_mask |= MM_EVENT_BIT(MM_EVENT_POLICY_VERDICT);
}

/* Rule ids 10, 20, 30: TCP to 8080 matches 20 and 30, UDP to 8080 only 30. */
static const char *const rules[] = {"proto=udp,dport=53", "proto=tcp,dport=8080", "dport=8080"};

static const struct mm_test_pkt_spec syn = {V4, TCP(MM_TCP_SYN)};
static const struct mm_test_pkt_spec ack = {V4, TCP(MM_TCP_ACK)};
static const struct mm_test_pkt_spec synack = {.family = 4,
					       .src = "10.2.0.2",
					       .dst = "10.1.0.1",
					       .proto = IPPROTO_TCP,
					       .sport = 80,
					       .dport = 40000,
					       .tcp_flags = MM_TCP_SYN | MM_TCP_ACK};
static const struct mm_test_pkt_spec denied_tcp = {.family = 4,
						   .src = "10.1.0.1",
						   .dst = "10.2.0.2",
						   .proto = IPPROTO_TCP,
						   .sport = 40001,
						   .dport = 8080,
						   .tcp_flags = MM_TCP_SYN};
static const struct mm_test_pkt_spec denied_udp = {.family = 4,
						   .src = "10.2.0.2",
						   .dst = "10.1.0.1",
						   .proto = IPPROTO_UDP,
						   .sport = 5000,
						   .dport = 8080,
						   .payload_len = 20};

/* The packets of every test: 3 new flows (one allowed, two denied) in 7 packets. */
static void send_mix(void)
{
	cr_assert(eq(int, run(fd_in, &syn, NULL, NULL), TC_ACT_UNSPEC));
	cr_assert(eq(int, run(fd_eg, &synack, NULL, NULL), TC_ACT_UNSPEC));
	cr_assert(eq(int, run(fd_in, &ack, NULL, NULL), TC_ACT_UNSPEC));
	cr_assert(eq(int, run(fd_in, &denied_tcp, NULL, NULL), TC_ACT_SHOT));
	cr_assert(eq(int, run(fd_in, &denied_tcp, NULL, NULL), TC_ACT_SHOT), "a retransmission");
	cr_assert(eq(int, run(fd_eg, &denied_udp, NULL, NULL), TC_ACT_SHOT));
	cr_assert(eq(int, run(fd_eg, &denied_udp, NULL, NULL), TC_ACT_SHOT));
}

static void expect_tuple(const struct mm_policy_verdict_record *v,
			 const struct mm_test_pkt_spec *s)
{
	__u32 saddr[4], daddr[4];

	addr_of(4, s->src, saddr);
	addr_of(4, s->dst, daddr);
	cr_expect(eq(int, memcmp(v->tuple.saddr, saddr, 16), 0));
	cr_expect(eq(int, memcmp(v->tuple.daddr, daddr, 16), 0));
	cr_expect(eq(u16, v->tuple.sport, s->sport));
	cr_expect(eq(u16, v->tuple.dport, s->dport));
	cr_expect(eq(u8, v->tuple.family, MM_FAMILY_IPV4));
	cr_expect(eq(u8, v->tuple.proto, s->proto));
}

Test(tc_verdict, one_per_new_flow_with_the_rule)
{
	struct mm_policy_verdict_record v;
	struct mm_trace_record t;
	struct mm_drop_record d;

	dp_up_default();
	set_cfg(verdicts_on);
	deny(rules, 3);
	send_mix();
	/* 3 traces, 4 drops, 3 verdicts. */
	cr_assert(eq(sz, collect_exact(10), 10));
	cr_assert(eq(sz, mm_test_ring_count(ring, MM_EVENT_POLICY_VERDICT), 3));

	verdict_of(mm_test_ring_nth(ring, MM_EVENT_POLICY_VERDICT, 0), &v);
	trace_of(mm_test_ring_nth(ring, MM_EVENT_TRACE, 0), &t);
	cr_expect(eq(u8, v.hdr.type, MM_EVENT_POLICY_VERDICT));
	cr_expect(eq(u8, v.hdr.subtype, MM_POINT_FROM_NETWORK));
	cr_expect(eq(u8, v.hdr.source, MM_SOURCE_TC));
	cr_expect(eq(u8, v.hdr.version, MM_POLICY_VERDICT_VERSION));
	cr_expect(eq(u32, v.hdr.flow_id, t.hdr.flow_id), "the flow's id, as its traces carry");
	cr_expect(eq(u64, v.hdr.ktime_ns, t.hdr.ktime_ns), "the packet's time");
	cr_expect(eq(u8, v.verdict, MM_VERDICT_ALLOWED));
	cr_expect(eq(u32, v.rule_id, 0));
	cr_expect(eq(u8, v.tcp_flags, MM_TCP_SYN));
	cr_expect(eq(u32, v.folded, 0));
	cr_expect(eq(u32, v.ifindex, LO_IFINDEX));
	expect_tuple(&v, &syn);

	verdict_of(mm_test_ring_nth(ring, MM_EVENT_POLICY_VERDICT, 1), &v);
	drop_of(mm_test_ring_nth(ring, MM_EVENT_DROP, 0), &d);
	cr_expect(eq(u8, v.hdr.subtype, MM_POINT_FROM_NETWORK));
	cr_expect(eq(u8, v.verdict, MM_VERDICT_DENIED));
	cr_expect(eq(u32, v.rule_id, 20), "the lowest of the matching rules 20 and 30");
	cr_expect(eq(u32, v.rule_id, d.ext_error), "the rule of the drop record");
	cr_expect(eq(u32, v.hdr.flow_id, d.hdr.flow_id));
	expect_tuple(&v, &denied_tcp);

	verdict_of(mm_test_ring_nth(ring, MM_EVENT_POLICY_VERDICT, 2), &v);
	cr_expect(eq(u8, v.hdr.subtype, MM_POINT_TO_NETWORK));
	cr_expect(eq(u8, v.verdict, MM_VERDICT_DENIED));
	cr_expect(eq(u32, v.rule_id, 30));
	cr_expect(eq(u8, v.tcp_flags, 0));
	expect_tuple(&v, &denied_udp);
	cr_expect(eq(u64, stat_of(MM_STAT_VERDICT_FOLDED), 0),
		  "without aggregation the later packets are no new flows: nothing folded");
	mm_test_ring_clear(ring);

	/* The same flows again: none is new. */
	send_mix();
	cr_assert(eq(sz, collect_exact(7), 7));
	cr_expect(eq(sz, mm_test_ring_count(ring, MM_EVENT_POLICY_VERDICT), 0));
	dp_down();
}

Test(tc_verdict, none_when_off)
{
	dp_up_default();
	deny(rules, 3);
	send_mix();
	cr_assert(eq(sz, collect_exact(7), 7), "the traces and drops, nothing else");
	cr_expect(eq(sz, mm_test_ring_count(ring, MM_EVENT_TRACE), 3));
	cr_expect(eq(sz, mm_test_ring_count(ring, MM_EVENT_DROP), 4));
	cr_expect(eq(sz, mm_test_ring_count(ring, MM_EVENT_POLICY_VERDICT), 0));
	dp_down();
}

static void verdicts_medium(struct mm_config *c)
{
	c->event_mask |= MM_EVENT_BIT(MM_EVENT_POLICY_VERDICT);
	c->aggregation = MM_AGG_MEDIUM;
	c->agg_interval_ns = 10000 * MS;
}

static void short_interval(struct mm_config *c)
{
	c->agg_interval_ns = 50 * MS;
}

Test(tc_verdict, aggregation_folds_per_interval)
{
	struct mm_policy_verdict_record v;

	dp_up_default();
	set_cfg(verdicts_medium);
	deny(rules, 3);
	for (int i = 0; i < 10; i++)
		cr_assert(eq(int, run(fd_in, &denied_tcp, NULL, NULL), TC_ACT_SHOT));
	cr_assert(eq(int, run(fd_in, &syn, NULL, NULL), TC_ACT_UNSPEC));
	for (int i = 0; i < 5; i++)
		cr_assert(eq(int, run(fd_in, &ack, NULL, NULL), TC_ACT_UNSPEC));
	/* 10 drops (not aggregated at medium), 1 trace (the acks fold), 2 verdicts. */
	cr_assert(eq(sz, collect_exact(13), 13));
	cr_assert(eq(sz, mm_test_ring_count(ring, MM_EVENT_POLICY_VERDICT), 2));
	verdict_of(mm_test_ring_nth(ring, MM_EVENT_POLICY_VERDICT, 0), &v);
	cr_expect(eq(u32, v.rule_id, 20));
	cr_expect(eq(u32, v.folded, 0));
	verdict_of(mm_test_ring_nth(ring, MM_EVENT_POLICY_VERDICT, 1), &v);
	cr_expect(eq(u8, v.verdict, MM_VERDICT_ALLOWED));
	cr_expect(eq(u64, stat_of(MM_STAT_VERDICT_FOLDED), 9),
		  "the denied flow's other 9 packets; the allowed flow's acks are no new flow");
	mm_test_ring_clear(ring);

	/* After the interval: one more verdict, carrying the 9 folded. */
	set_cfg(short_interval);
	sleep_ms(100);
	cr_assert(eq(int, run(fd_in, &denied_tcp, NULL, NULL), TC_ACT_SHOT));
	cr_assert(eq(sz, collect_exact(2), 2));
	cr_assert(eq(sz, mm_test_ring_count(ring, MM_EVENT_POLICY_VERDICT), 1));
	verdict_of(mm_test_ring_nth(ring, MM_EVENT_POLICY_VERDICT, 0), &v);
	cr_expect(eq(u8, v.verdict, MM_VERDICT_DENIED));
	cr_expect(eq(u32, v.rule_id, 20));
	cr_expect(eq(u32, v.folded, 9));
	cr_expect(eq(u64, stat_of(MM_STAT_VERDICT_FOLDED), 9));
	dp_down();
}
