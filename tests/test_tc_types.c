// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Per record type, under BPF_PROG_TEST_RUN: a type switched off in
 * event_mask emits and counts nothing; a type's own token bucket refuses
 * exactly beyond its burst while other types pass, and is checked before the
 * host total; the emitted and refused counters per type are exact.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>

#include "harness.h"
#include "tc_testrun.h"

/* UDP to port 53 is denied (rule id 10): the tc program drops it and emits a drop. */
#define DENIED .proto = IPPROTO_UDP, .sport = 1, .dport = 53
#define PASSED .proto = IPPROTO_UDP, .sport = 1, .dport = 2

static struct mm_type_counter type_of(unsigned int type)
{
	struct mm_type_counter c[MM_EVENT_TYPE_SLOTS];

	cr_assert(eq(int, mm_datapath__read_type_counters(dp, c), 0));
	return c[type];
}

static void run_n(int n, const struct mm_test_pkt_spec *s, int verdict)
{
	for (int i = 0; i < n; i++)
		cr_assert(eq(int, run(fd_in, s, NULL, NULL), verdict));
}

static void deny_dns(void)
{
	static const char *const rules[] = {"proto=udp,dport=53"};

	deny(rules, 1);
}

static void drops_only(struct mm_config *c)
{
	c->event_mask = MM_EVENT_BIT(MM_EVENT_DROP);
}

Test(tc_types, switched_off_type_emits_and_counts_nothing)
{
	struct mm_test_pkt_spec pass = {V4, PASSED}, denied = {V4, DENIED};

	dp_up_default();
	deny_dns();
	set_cfg(drops_only);
	run_n(20, &pass, TC_ACT_UNSPEC);
	run_n(3, &denied, TC_ACT_SHOT);
	cr_expect(eq(sz, collect_exact(3), 3));
	cr_expect(eq(sz, mm_test_ring_count(ring, MM_EVENT_TRACE), 0));
	cr_expect(eq(sz, mm_test_ring_count(ring, MM_EVENT_DROP), 3));
	cr_expect(eq(u64, type_of(MM_EVENT_TRACE).emitted, 0));
	cr_expect(eq(u64, type_of(MM_EVENT_TRACE).refused, 0));
	cr_expect(eq(u64, type_of(MM_EVENT_DROP).emitted, 3));
	cr_expect(eq(u64, type_of(MM_EVENT_DROP).refused, 0));
	cr_expect(eq(u64, stat_of(MM_STAT_RATE_LIMITED), 0));
	dp_down();
}

/* Traces limited to a burst of 5 (1/s refills nothing during the test); drops have no limit. */
static void trace_limited(struct mm_config *c)
{
	c->type_rate_mask = MM_EVENT_BIT(MM_EVENT_TRACE);
}

Test(tc_types, own_limit_refuses_beyond_burst_others_pass)
{
	struct mm_test_pkt_spec pass = {V4, PASSED}, denied = {V4, DENIED};
	const struct mm_type_rate r = {.rate_per_cpu = 1, .burst_per_cpu = 5};

	dp_up_default();
	deny_dns();
	cr_assert(eq(int, mm_datapath__set_type_rate(dp, MM_EVENT_TRACE, &r), 0));
	set_cfg(trace_limited);
	run_n(20, &pass, TC_ACT_UNSPEC);
	run_n(8, &denied, TC_ACT_SHOT);
	cr_expect(eq(sz, collect_exact(13), 13));
	cr_expect(eq(sz, mm_test_ring_count(ring, MM_EVENT_TRACE), 5));
	cr_expect(eq(sz, mm_test_ring_count(ring, MM_EVENT_DROP), 8));
	cr_expect(eq(u64, type_of(MM_EVENT_TRACE).emitted, 5));
	cr_expect(eq(u64, type_of(MM_EVENT_TRACE).refused, 15));
	cr_expect(eq(u64, type_of(MM_EVENT_DROP).emitted, 8));
	cr_expect(eq(u64, type_of(MM_EVENT_DROP).refused, 0));
	cr_expect(eq(u64, stat_of(MM_STAT_RATE_LIMITED), 0), "the host total has no limit");
	dp_down();
}

/* The type's limit first (burst 5), then the host total (burst 3): 3 pass, each refusal once. */
static void trace_limited_host_3(struct mm_config *c)
{
	c->type_rate_mask = MM_EVENT_BIT(MM_EVENT_TRACE);
	c->rate_per_cpu = 1;
	c->burst_per_cpu = 3;
}

Test(tc_types, type_limit_then_host_total)
{
	struct mm_test_pkt_spec pass = {V4, PASSED};
	const struct mm_type_rate r = {.rate_per_cpu = 1, .burst_per_cpu = 5};

	dp_up_default();
	cr_assert(eq(int, mm_datapath__set_type_rate(dp, MM_EVENT_TRACE, &r), 0));
	set_cfg(trace_limited_host_3);
	run_n(20, &pass, TC_ACT_UNSPEC);
	cr_expect(eq(sz, collect_exact(3), 3));
	cr_expect(eq(u64, type_of(MM_EVENT_TRACE).emitted, 3));
	cr_expect(eq(u64, type_of(MM_EVENT_TRACE).refused, 15), "the type's own limit");
	cr_expect(eq(u64, stat_of(MM_STAT_RATE_LIMITED), 2), "the host total's");
	dp_down();
}

/* A limit written but its bit off in type_rate_mask: not applied (the one-check fast path). */
Test(tc_types, limit_applies_only_with_its_mask_bit)
{
	struct mm_test_pkt_spec pass = {V4, PASSED};
	const struct mm_type_rate r = {.rate_per_cpu = 1, .burst_per_cpu = 5};

	dp_up_default();
	cr_assert(eq(int, mm_datapath__set_type_rate(dp, MM_EVENT_TRACE, &r), 0));
	run_n(12, &pass, TC_ACT_UNSPEC);
	cr_expect(eq(sz, collect_exact(12), 12));
	cr_expect(eq(u64, type_of(MM_EVENT_TRACE).emitted, 12));
	cr_expect(eq(u64, type_of(MM_EVENT_TRACE).refused, 0));
	dp_down();
}
