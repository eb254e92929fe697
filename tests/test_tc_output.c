// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What limits and adds to the tc programs' output under BPF_PROG_TEST_RUN:
 * the per-CPU rate limit, a full ring counted once per lost record, and debug
 * records when they are enabled.
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

static void rate_1_burst_10(struct mm_config *c)
{
	c->rate_per_cpu = 1;
	c->burst_per_cpu = 10;
}

Test(tc_rate, burst_then_refused)
{
	struct mm_test_pkt_spec s = {V4, .proto = IPPROTO_UDP, .sport = 1, .dport = 2};

	dp_up_default();
	set_cfg(rate_1_burst_10);
	for (int i = 0; i < 50; i++)
		cr_assert(eq(int, run(fd_in, &s, NULL, NULL), TC_ACT_UNSPEC));
	cr_expect(eq(sz, collect_exact(10), 10));
	cr_expect(eq(u64, stat_of(MM_STAT_RATE_LIMITED), 40));
	cr_expect(eq(u64, traffic_of(MM_DIR_INGRESS, 0).packets, 50));
	dp_down();
}

/*
 * A full ring: every refused write is counted in ring_full (not in
 * output_failed), and the kernel's PERF_RECORD_LOST, which arrives with the
 * next successful write, counts exactly the same writes. The agent relies on
 * this to report each ring loss once.
 */
Test(tc_ring, full_ring_counted_once_per_record)
{
	struct mm_test_pkt_spec s = {V4, .proto = IPPROTO_UDP, .sport = 1, .dport = 2};
	const int sent = 600; /* far more than 8 pages of 200-byte records */
	__u64 full;
	size_t received;

	dp_up_default();
	for (int i = 0; i < sent; i++)
		cr_assert(eq(int, run(fd_in, &s, NULL, NULL), TC_ACT_UNSPEC));
	full = stat_of(MM_STAT_RING_FULL);
	cr_assert(gt(u64, full, 0), "600 records should overflow an unread 8-page ring");
	cr_expect(eq(u64, stat_of(MM_STAT_OUTPUT_FAILED), 0));

	/* Drain, then one more write: it carries the kernel's lost count. */
	mm_test_ring_collect(ring, (size_t)sent, RING_WAIT_MS);
	cr_assert(eq(int, run(fd_in, &s, NULL, NULL), TC_ACT_UNSPEC));
	received = mm_test_ring_collect(ring, (size_t)(sent - full) + 1, RING_WAIT_MS);
	cr_expect(eq(u64, ring->lost, full), "PERF_RECORD_LOST %lu, ring_full %lu",
		  (unsigned long)ring->lost, (unsigned long)full);
	cr_expect(eq(u64, (__u64)received + full, (__u64)sent + 1));
	cr_expect(eq(u64, stat_of(MM_STAT_RING_FULL), full));
	dp_down();
}

static void debug_on(struct mm_config *c)
{
	c->event_mask |= MM_EVENT_BIT(MM_EVENT_DEBUG);
}

Test(tc_debug, records_when_enabled)
{
	struct mm_test_pkt_spec trunc = {V4, TCP(MM_TCP_SYN), .truncate_to = 14 + 20 + 12};
	struct mm_test_pkt_spec syn = {V4, TCP(MM_TCP_SYN)};
	const char *rules[] = {"proto=udp,dport=53"};
	struct mm_debug_record dbg;
	struct mm_trace_record t;
	size_t len;

	dp_up_default();
	/* Off by default. */
	cr_assert(eq(int, run(fd_in, &trunc, NULL, NULL), TC_ACT_UNSPEC));
	cr_assert(eq(sz, collect_exact(1), 1));
	cr_expect(eq(sz, mm_test_ring_count(ring, MM_EVENT_DEBUG), 0));
	mm_test_ring_clear(ring);

	set_cfg(debug_on);
	deny(rules, 1);
	cr_assert(eq(int, run(fd_in, &trunc, NULL, &len), TC_ACT_UNSPEC));
	cr_assert(eq(sz, collect_exact(2), 2));
	debug_of(mm_test_ring_nth(ring, MM_EVENT_DEBUG, 0), &dbg);
	cr_expect(eq(u8, dbg.hdr.subtype, MM_DBG_PARSE_ERROR));
	cr_expect(eq(u8, dbg.hdr.source, MM_SOURCE_TC));
	cr_expect(eq(u8, dbg.hdr.version, MM_DEBUG_VERSION));
	cr_expect(eq(u32, dbg.ifindex, LO_IFINDEX));
	cr_expect(eq(u32, dbg.arg1, MM_PARSE_TRUNCATED_L4));
	cr_expect(eq(u32, dbg.arg2, 14 + 20));
	cr_expect(eq(u32, dbg.arg3, len));
	mm_test_ring_clear(ring);

	cr_assert(eq(int, run(fd_in, &syn, NULL, NULL), TC_ACT_UNSPEC));
	cr_assert(eq(sz, collect_exact(2), 2));
	debug_of(mm_test_ring_nth(ring, MM_EVENT_DEBUG, 0), &dbg);
	trace_of(mm_test_ring_nth(ring, MM_EVENT_TRACE, 0), &t);
	cr_expect(eq(u8, dbg.hdr.subtype, MM_DBG_FLOW_LOOKUP));
	cr_expect(eq(u32, dbg.arg1, MM_STATE_NEW));
	cr_expect(eq(u32, dbg.arg2, LO_IFINDEX));
	cr_expect(eq(u32, dbg.arg3, t.hdr.flow_id));
	cr_expect(eq(u32, dbg.hdr.flow_id, t.hdr.flow_id));
	mm_test_ring_clear(ring);

	cr_assert(eq(int, run_to(fd_in, 4, "10.0.0.1", "10.0.0.2", IPPROTO_UDP, 53), TC_ACT_SHOT));
	cr_assert(eq(sz, collect_exact(2), 2));
	debug_of(mm_test_ring_nth(ring, MM_EVENT_DEBUG, 0), &dbg);
	cr_expect(eq(u8, dbg.hdr.subtype, MM_DBG_RULE_MATCH));
	cr_expect(eq(u32, dbg.arg1, 10));
	cr_expect(eq(u32, dbg.arg2, IPPROTO_UDP));
	cr_expect(eq(u32, dbg.arg3, 53));
	cr_expect(eq(sz, mm_test_ring_count(ring, MM_EVENT_DROP), 1));
	dp_down();
}
