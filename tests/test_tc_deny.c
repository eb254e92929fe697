// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Deny rules in the tc programs under BPF_PROG_TEST_RUN: CIDR boundaries,
 * ports, protocols, direction and family, the lowest rule id winning, the
 * drop record of a denied packet, the lowest slot winning in every slot of a
 * full rule set, and the rule set's limits.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "datapath.h"
#include "harness.h"
#include "tc_testrun.h"

Test(tc_deny, ipv4_cidr_boundaries_and_drop_record)
{
	const char *rules[] = {"dst=10.1.2.0/24"};
	struct mm_test_pkt_spec s = {.family = 4,
				     .src = "10.9.9.9",
				     .dst = "10.1.2.255",
				     .proto = IPPROTO_TCP,
				     .sport = 1234,
				     .dport = 443,
				     .tcp_flags = MM_TCP_SYN,
				     .payload_len = 200};
	struct mm_drop_record d;
	uint8_t frame[2048];
	__u32 saddr[4], daddr[4];
	size_t len;

	dp_up_default();
	deny(rules, 1);
	cr_expect(eq(int, run_to(fd_in, 4, "10.9.9.9", "10.1.2.0", IPPROTO_TCP, 80), TC_ACT_SHOT));
	cr_expect(
	    eq(int, run_to(fd_in, 4, "10.9.9.9", "10.1.3.0", IPPROTO_TCP, 80), TC_ACT_UNSPEC));
	cr_expect(
	    eq(int, run_to(fd_in, 4, "10.9.9.9", "10.1.1.255", IPPROTO_UDP, 80), TC_ACT_UNSPEC));
	cr_expect(eq(int, run_to(fd_in, 4, "10.1.2.7", "10.9.9.9", IPPROTO_TCP, 80), TC_ACT_UNSPEC),
		  "a dst rule does not match the source");
	cr_assert(eq(sz, collect_exact(4), 4));
	cr_expect(eq(sz, mm_test_ring_count(ring, MM_EVENT_DROP), 1));
	cr_expect(eq(sz, mm_test_ring_count(ring, MM_EVENT_TRACE), 3), "denied: no trace");
	mm_test_ring_clear(ring);

	cr_assert(eq(int, run(fd_eg, &s, frame, &len), TC_ACT_SHOT));
	cr_assert(eq(sz, collect_exact(1), 1));
	drop_of(mm_test_ring_nth(ring, MM_EVENT_DROP, 0), &d);
	addr_of(4, "10.9.9.9", saddr);
	addr_of(4, "10.1.2.255", daddr);
	cr_expect(eq(u8, d.hdr.type, MM_EVENT_DROP));
	cr_expect(eq(u8, d.hdr.subtype, MM_POINT_TO_NETWORK));
	cr_expect(eq(u8, d.hdr.source, MM_SOURCE_TC));
	cr_expect(eq(u8, d.hdr.version, MM_DROP_VERSION));
	cr_expect(not(eq(u32, d.hdr.flow_id, 0)));
	cr_expect(eq(u32, d.cap.len_orig, len));
	cr_expect(eq(u16, d.cap.cap_len, MM_CAPTURE_DEFAULT));
	cr_expect(eq(u8, d.cap.layer, MM_LAYER_ETHERNET));
	cr_expect(eq(int, memcmp(d.tuple.saddr, saddr, 16), 0));
	cr_expect(eq(int, memcmp(d.tuple.daddr, daddr, 16), 0));
	cr_expect(eq(u16, d.tuple.sport, 1234));
	cr_expect(eq(u16, d.tuple.dport, 443));
	cr_expect(eq(u8, d.tuple.family, 4));
	cr_expect(eq(u8, d.tuple.proto, IPPROTO_TCP));
	cr_expect(eq(u32, d.ifindex, LO_IFINDEX));
	cr_expect(eq(u32, d.reason, MM_DROP_POLICY_DENIED));
	cr_expect(eq(u32, d.ext_error, 10), "the rule id");
	cr_expect(eq(u16, d.file, MM_FILE_TC_MONITOR));
	cr_expect(gt(u16, d.line, 0));
	cr_expect(eq(u32, d.folded, 0));
	assert_capture(mm_test_ring_nth(ring, MM_EVENT_DROP, 0), sizeof(d), frame,
		       MM_CAPTURE_DEFAULT);

	cr_expect(eq(u64, traffic_of(MM_DIR_INGRESS, MM_DROP_POLICY_DENIED).packets, 1));
	cr_expect(eq(u64, traffic_of(MM_DIR_INGRESS, 0).packets, 3));
	cr_expect(eq(u64, traffic_of(MM_DIR_EGRESS, MM_DROP_POLICY_DENIED).packets, 1));
	cr_expect(eq(u64, traffic_of(MM_DIR_EGRESS, MM_DROP_POLICY_DENIED).bytes, len));
	cr_expect(eq(u64, traffic_of(MM_DIR_EGRESS, 0).packets, 0));
	dp_down();
}

Test(tc_deny, ports_protocols_lowest_rule_wins)
{
	const char *rules[] = {"proto=udp,dport=53", "src=10.5.0.0/16,proto=tcp", "proto=icmp",
			       "dport=8080"};
	struct mm_drop_record d;

	dp_up_default();
	deny(rules, 4);
	cr_expect(eq(int, run_to(fd_in, 4, "10.9.0.1", "10.9.0.2", IPPROTO_UDP, 53), TC_ACT_SHOT));
	cr_expect(
	    eq(int, run_to(fd_in, 4, "10.9.0.1", "10.9.0.2", IPPROTO_TCP, 53), TC_ACT_UNSPEC));
	cr_expect(
	    eq(int, run_to(fd_in, 4, "10.9.0.1", "10.9.0.2", IPPROTO_UDP, 54), TC_ACT_UNSPEC));
	cr_expect(eq(int, run_to(fd_in, 4, "10.5.1.1", "10.9.0.2", IPPROTO_TCP, 22), TC_ACT_SHOT));
	cr_expect(
	    eq(int, run_to(fd_in, 4, "10.6.1.1", "10.9.0.2", IPPROTO_TCP, 22), TC_ACT_UNSPEC));
	cr_expect(eq(int, run_to(fd_in, 4, "10.6.1.1", "10.9.0.2", IPPROTO_ICMP, 0), TC_ACT_SHOT));
	cr_expect(eq(int, run_to(fd_in, 6, "fd00::1", "fd00::2", IPPROTO_ICMPV6, 0), TC_ACT_UNSPEC),
		  "icmp is not icmpv6");
	/* Both rule 2 (10) and rule 4 (40) match: the lowest wins. */
	cr_expect(
	    eq(int, run_to(fd_in, 4, "10.5.1.1", "10.9.0.2", IPPROTO_TCP, 8080), TC_ACT_SHOT));
	cr_expect(eq(int, run_to(fd_in, 6, "fd00::1", "fd00::2", IPPROTO_TCP, 8080), TC_ACT_SHOT));

	cr_assert(eq(sz, collect_exact(9), 9));
	cr_assert(eq(sz, mm_test_ring_count(ring, MM_EVENT_DROP), 5));
	drop_of(mm_test_ring_nth(ring, MM_EVENT_DROP, 0), &d);
	cr_expect(eq(u32, d.ext_error, 10));
	drop_of(mm_test_ring_nth(ring, MM_EVENT_DROP, 1), &d);
	cr_expect(eq(u32, d.ext_error, 20));
	drop_of(mm_test_ring_nth(ring, MM_EVENT_DROP, 2), &d);
	cr_expect(eq(u32, d.ext_error, 30));
	drop_of(mm_test_ring_nth(ring, MM_EVENT_DROP, 3), &d);
	cr_expect(eq(u32, d.ext_error, 20));
	drop_of(mm_test_ring_nth(ring, MM_EVENT_DROP, 4), &d);
	cr_expect(eq(u32, d.ext_error, 40));
	cr_expect(eq(u8, d.tuple.family, 6));
	cr_expect(eq(u64, traffic_of(MM_DIR_INGRESS, MM_DROP_POLICY_DENIED).packets, 5));
	cr_expect(eq(u64, traffic_of(MM_DIR_INGRESS, 0).packets, 4));

	/* Replacing the rule set removes the old rules. */
	deny(NULL, 0);
	cr_expect(
	    eq(int, run_to(fd_in, 4, "10.9.0.1", "10.9.0.2", IPPROTO_UDP, 53), TC_ACT_UNSPEC));
	dp_down();
}

/*
 * All 64 slots in use: each packet is matched by its own rule and by the
 * catch-all in the last slot, and the lowest slot wins wherever it lies (the
 * datapath walks the candidate bits lowest first: every branch of that search
 * is taken by one of these slots).
 */
Test(tc_deny, lowest_rule_wins_in_every_slot)
{
	static const unsigned int slots[] = {0, 1, 2, 3, 7, 8, 15, 16, 31, 32, 33, 47, 48, 62};
	char texts[MM_DENY_MAX][32];
	const char *rules[MM_DENY_MAX];
	size_t n = sizeof(slots) / sizeof(slots[0]);
	struct mm_drop_record d;

	for (int i = 0; i < MM_DENY_MAX - 1; i++)
		snprintf(texts[i], sizeof(texts[i]), "proto=udp,dport=%d", 2000 + i);
	snprintf(texts[MM_DENY_MAX - 1], sizeof(texts[0]), "proto=udp");
	for (int i = 0; i < MM_DENY_MAX; i++)
		rules[i] = texts[i];
	dp_up_default();
	deny(rules, MM_DENY_MAX);
	for (size_t i = 0; i < n; i++)
		cr_expect(eq(int, run_to(fd_in, 4, "10.9.0.1", "10.9.0.2", IPPROTO_UDP,
					(__u16)(2000 + slots[i])),
			     TC_ACT_SHOT));
	cr_expect(eq(int, run_to(fd_in, 4, "10.9.0.1", "10.9.0.2", IPPROTO_UDP, 3000), TC_ACT_SHOT));
	cr_expect(eq(int, run_to(fd_in, 4, "10.9.0.1", "10.9.0.2", IPPROTO_TCP, 2000), TC_ACT_UNSPEC));

	cr_assert(ge(sz, mm_test_ring_collect(ring, n + 1 + 1, 1000), n + 1));
	for (size_t i = 0; i < n; i++) {
		drop_of(mm_test_ring_nth(ring, MM_EVENT_DROP, i), &d);
		cr_expect(eq(u32, d.ext_error, (slots[i] + 1) * 10), "slot %u", slots[i]);
	}
	drop_of(mm_test_ring_nth(ring, MM_EVENT_DROP, n), &d);
	cr_expect(eq(u32, d.ext_error, MM_DENY_MAX * 10), "only the catch-all in the last slot");
	cr_expect(eq(sz, mm_test_ring_count(ring, MM_EVENT_DROP), n + 1));
	dp_down();
}

Test(tc_deny, direction)
{
	const char *rules[] = {"dst=10.7.0.1,dir=ingress", "src=10.8.0.1/32,dir=egress"};

	dp_up_default();
	deny(rules, 2);
	cr_expect(eq(int, run_to(fd_in, 4, "10.0.0.1", "10.7.0.1", IPPROTO_TCP, 1), TC_ACT_SHOT));
	cr_expect(eq(int, run_to(fd_eg, 4, "10.0.0.1", "10.7.0.1", IPPROTO_TCP, 1), TC_ACT_UNSPEC),
		  "an ingress rule does not drop on egress");
	cr_expect(eq(int, run_to(fd_eg, 4, "10.8.0.1", "10.0.0.1", IPPROTO_TCP, 1), TC_ACT_SHOT));
	cr_expect(eq(int, run_to(fd_in, 4, "10.8.0.1", "10.0.0.1", IPPROTO_TCP, 1), TC_ACT_UNSPEC));
	cr_expect(eq(int, run_to(fd_in, 4, "10.7.0.2", "10.7.0.1", IPPROTO_UDP, 1), TC_ACT_SHOT),
		  "host rule");
	cr_expect(eq(int, run_to(fd_in, 4, "10.7.0.2", "10.7.0.2", IPPROTO_UDP, 1), TC_ACT_UNSPEC));
	cr_expect(eq(u64, traffic_of(MM_DIR_INGRESS, MM_DROP_POLICY_DENIED).packets, 2));
	cr_expect(eq(u64, traffic_of(MM_DIR_EGRESS, MM_DROP_POLICY_DENIED).packets, 1));
	cr_expect(eq(u64, traffic_of(MM_DIR_EGRESS, 0).packets, 1));
	dp_down();
}

Test(tc_deny, ipv6_cidr_and_family)
{
	const char *rules[] = {"src=fd00:10::/64,dport=443", "dst=10.0.0.0/8"};
	struct mm_test_pkt_spec arp = {.family = 0, .ethertype = 0x0806};

	dp_up_default();
	deny(rules, 2);
	cr_expect(eq(int, run_to(fd_in, 6, "fd00:10::", "fd00::9", IPPROTO_TCP, 443), TC_ACT_SHOT));
	cr_expect(eq(int,
		     run_to(fd_in, 6, "fd00:10::ffff:ffff:ffff:ffff", "fd00::9", IPPROTO_TCP, 443),
		     TC_ACT_SHOT));
	cr_expect(
	    eq(int, run_to(fd_in, 6, "fd00:10:0:1::", "fd00::9", IPPROTO_TCP, 443), TC_ACT_UNSPEC));
	cr_expect(
	    eq(int, run_to(fd_in, 6, "fd00:10::5", "fd00::9", IPPROTO_TCP, 444), TC_ACT_UNSPEC));
	/* An IPv4 /8 must not match IPv6 addresses that share bits with ::ffff:10.x. */
	cr_expect(
	    eq(int, run_to(fd_in, 6, "fd00::1", "::ffff:10.0.0.1", IPPROTO_UDP, 1), TC_ACT_UNSPEC));
	cr_expect(eq(int, run_to(fd_in, 4, "192.168.0.1", "10.255.255.255", IPPROTO_UDP, 1),
		     TC_ACT_SHOT));
	cr_expect(
	    eq(int, run_to(fd_in, 4, "192.168.0.1", "11.0.0.0", IPPROTO_UDP, 1), TC_ACT_UNSPEC));
	cr_expect(eq(int, run(fd_in, &arp, NULL, NULL), TC_ACT_UNSPEC), "non-IP never matches");
	cr_expect(eq(u64, traffic_of(MM_DIR_INGRESS, MM_DROP_POLICY_DENIED).packets, 3));
	dp_down();
}

Test(tc_deny, rule_set_limits)
{
	struct mm_deny_spec rules[MM_DENY_MAX + 1];
	char err[128];

	dp_up_default();
	for (int i = 0; i <= MM_DENY_MAX; i++)
		cr_assert(eq(
		    int, mm_deny_spec__parse("proto=tcp", i + 1, &rules[i], err, sizeof(err)), 0));
	cr_expect(eq(int, mm_datapath__set_deny_rules(dp, rules, MM_DENY_MAX + 1), -E2BIG));
	cr_expect(eq(int, mm_datapath__set_deny_rules(dp, rules, MM_DENY_MAX), 0));
	rules[0].id = 0;
	cr_expect(eq(int, mm_datapath__set_deny_rules(dp, rules, 1), -EINVAL));
	dp_down();
}
