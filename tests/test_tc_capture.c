// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Capture rules in the tc programs under BPF_PROG_TEST_RUN: matching packets
 * only get capture records, with the rule id and the packet's bytes; the
 * packet and byte budgets stop the datapath exactly; a removed rule costs
 * nothing and captures nothing.
 */
#include <arpa/inet.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "datapath.h"
#include "harness.h"
#include "tc_testrun.h"

#define RULE_ID 42

/* A rule for TCP to 10.2.0.2/32 port 80 at both points, snaplen bytes each. */
static struct mm_capture_rule rule_to_web(__u32 snaplen)
{
	struct mm_capture_rule r = {.id = RULE_ID, .snaplen = snaplen, .proto = IPPROTO_TCP};

	r.points = MM_POINT_BIT(MM_POINT_FROM_NETWORK) | MM_POINT_BIT(MM_POINT_TO_NETWORK);
	r.dst.family = MM_FAMILY_IPV4;
	r.dst.prefix = 32;
	r.dst.port = 80;
	inet_pton(AF_INET, "10.2.0.2", r.dst.addr);
	return r;
}

static const struct mm_test_pkt_spec web = {V4, TCP(MM_TCP_ACK)};
static const struct mm_test_pkt_spec other = {.family = 4, .src = "10.1.0.1", .dst = "10.2.0.3",
					      TCP(MM_TCP_ACK)};

static struct mm_capture_rule read_rule(__u32 slot)
{
	struct mm_capture_rule r;

	cr_assert(eq(int, mm_datapath__read_capture(dp, slot, &r), 0));
	return r;
}

/* The datapath's count of capture records written (Status.types, meshmon_records_emitted_total). */
static __u64 capture_emitted(void)
{
	struct mm_type_counter c[MM_EVENT_TYPE_SLOTS];

	cr_assert(eq(int, mm_datapath__read_type_counters(dp, c), 0));
	return c[MM_EVENT_CAPTURE].emitted;
}

Test(tc_capture, packet_budget_stops_the_datapath_exactly)
{
	struct mm_capture_rule r = rule_to_web(1500);
	const size_t budget = 5;
	struct mm_capture_record c;
	uint8_t frame[2048];
	size_t len;

	dp_up_default();
	r.max_packets = budget;
	cr_assert(eq(int, mm_datapath__install_capture(dp, 3, &r), 0));
	for (size_t i = 0; i < budget + 5; i++) {
		cr_assert(eq(int, run(i % 2 ? fd_in : fd_eg, &web, frame, &len), TC_ACT_UNSPEC));
		cr_assert(eq(int, run(fd_in, &other, NULL, NULL), TC_ACT_UNSPEC));
	}
	/* every packet is traced; only the first budget matching ones are captured */
	collect_exact(2 * (budget + 5) + budget);
	cr_expect(eq(sz, mm_test_ring_count(ring, MM_EVENT_CAPTURE), budget));
	cr_expect(eq(sz, mm_test_ring_count(ring, MM_EVENT_TRACE), 2 * (budget + 5)));
	r = read_rule(3);
	cr_expect(eq(u64, r.packets, budget));
	cr_expect(eq(u64, r.bytes, budget * len));
	cr_expect(eq(u64, r.failed, 0));
	cr_expect(eq(u64, capture_emitted(), budget), "capture records counted as emitted");
	for (size_t i = 0; i < budget; i++) {
		const struct mm_test_record *rec = mm_test_ring_nth(ring, MM_EVENT_CAPTURE, i);

		cr_assert(ge(u32, rec->size, sizeof(c)));
		memcpy(&c, rec->data, sizeof(c));
		cr_expect(eq(u8, c.hdr.version, MM_CAPTURE_VERSION));
		cr_expect(eq(u32, c.rule_id, RULE_ID));
		cr_expect(eq(u32, c.cap.cap_len, len), "the whole frame under the snap length");
		cr_expect(eq(u32, c.cap.len_orig, len));
		cr_expect(eq(u8, c.cap.layer, MM_LAYER_ETHERNET));
		cr_expect(eq(u8, c.hdr.subtype, i % 2 ? MM_POINT_FROM_NETWORK : MM_POINT_TO_NETWORK));
		assert_capture(rec, sizeof(c), frame, len);
	}
	dp_down();
}

Test(tc_capture, byte_budget_truncates_the_last_record)
{
	struct mm_capture_rule r = rule_to_web(100);
	struct mm_capture_record c;
	const struct mm_test_record *rec;

	dp_up_default();
	r.max_bytes = 250;
	cr_assert(eq(int, mm_datapath__install_capture(dp, 0, &r), 0));
	for (int i = 0; i < 6; i++)
		cr_assert(eq(int, run(fd_in, &web, NULL, NULL), TC_ACT_UNSPEC));
	collect_exact(6 + 3);
	cr_assert(eq(sz, mm_test_ring_count(ring, MM_EVENT_CAPTURE), 3));
	rec = mm_test_ring_nth(ring, MM_EVENT_CAPTURE, 2);
	memcpy(&c, rec->data, sizeof(c));
	cr_expect(eq(u32, c.cap.cap_len, 50), "100 + 100 + 50 bytes make the budget");
	r = read_rule(0);
	cr_expect(eq(u64, r.bytes, 250));
	cr_expect(eq(u64, r.packets, 3));
	dp_down();
}

Test(tc_capture, no_rule_and_a_removed_rule_capture_nothing)
{
	struct mm_capture_rule r = rule_to_web(1500), last = {0};
	struct mm_config cfg;

	dp_up_default();
	cr_assert(eq(int, run(fd_in, &web, NULL, NULL), TC_ACT_UNSPEC));
	cr_assert(eq(int, mm_datapath__install_capture(dp, 15, &r), 0));
	cr_assert(eq(int, mm_datapath__get_config(dp, &cfg), 0));
	cr_expect(eq(u32, cfg.capture_slots, 1u << 15));
	cr_assert(eq(int, run(fd_in, &web, NULL, NULL), TC_ACT_UNSPEC));
	cr_assert(eq(int, mm_datapath__remove_capture(dp, 15, &last), 0));
	cr_expect(eq(u32, last.id, RULE_ID), "the rule as it was before its slot was emptied");
	cr_expect(eq(u64, last.packets, 1), "with its final counters");
	cr_assert(eq(int, mm_datapath__get_config(dp, &cfg), 0));
	cr_expect(eq(u32, cfg.capture_slots, 0));
	r = read_rule(15);
	cr_expect(eq(u32, r.id, 0), "the slot is empty again");
	cr_assert(eq(int, run(fd_in, &web, NULL, NULL), TC_ACT_UNSPEC));
	collect_exact(3 + 1);
	cr_expect(eq(sz, mm_test_ring_count(ring, MM_EVENT_CAPTURE), 1), "only while the rule was in");
	dp_down();
}
