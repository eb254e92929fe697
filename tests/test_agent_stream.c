// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-agent end to end, what its clients receive: the real daemon on one
 * end of a veth pair in a private network namespace, real traffic, and
 * minimal clients (agent_client.h). Subscriptions get exactly what they asked
 * for, a stalled client costs the others nothing and learns its loss, and
 * replay sends the stored events first.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <netinet/in.h>
#include <stdint.h>
#include <unistd.h>

#include "agent_client.h"
#include "agent_fixture.h"
#include "harness.h"
#include "harness_agent.h"

TestSuite(agent_stream, .init = agent_setup, .fini = agent_teardown, .timeout = 120);

Test(agent_stream, subscriptions_get_exactly_what_they_asked)
{
	struct client icmp, tcp8080, all;
	struct client *cs[] = {&icmp, &tcp8080, &all};

	start_agent("1048576", "128");
	client_subscribe(&icmp, IPPROTO_ICMP, 0);
	client_subscribe(&tcp8080, IPPROTO_TCP, 8080);
	client_subscribe(&all, 0, 0);
	settle(cs, 3, 300);

	cr_assert(eq(int,
		     mm_test_pair_sh(&pair, "(timeout 10 nc -l 8080 >/dev/null &) ; "
					    "(timeout 10 nc -l 9090 >/dev/null &)"),
		     0));
	usleep(200 * 1000);
	cr_assert(eq(int, mm_test_sh("ping -c 5 -i 0.1 -q 10.199.0.2 >/dev/null"), 0));
	cr_assert(eq(int, mm_test_sh("echo hello | nc -N -w 2 10.199.0.2 8080"), 0));
	cr_assert(eq(int, mm_test_sh("echo other | nc -N -w 2 10.199.0.2 9090"), 0));
	settle(cs, 3, 1500);

	/* 5 echo requests out and 5 replies in, on the local veth. */
	cr_assert(ge(u64, icmp.icmp, 10));
	cr_assert(eq(u64, icmp.events, icmp.icmp), "the ICMP client got only ICMP");
	cr_assert(gt(u64, tcp8080.tcp8080, 5), "a TCP exchange has several segments");
	cr_assert(eq(u64, tcp8080.events, tcp8080.tcp8080), "the 8080 client got only port 8080");
	/* Exactly: the unfiltered client saw the same number of each. */
	cr_assert(eq(u64, all.icmp, icmp.icmp));
	cr_assert(eq(u64, all.tcp8080, tcp8080.tcp8080));
	cr_assert(gt(u64, all.tcp, all.tcp8080), "port 9090 traffic was seen, and filtered out");
	cr_assert(eq(u64, icmp.lost_queue + tcp8080.lost_queue + all.lost_queue, 0));
	for (size_t i = 0; i < 3; i++)
		client_close(cs[i]);
	cr_assert(eq(int, stop_agent(), 0), "SIGTERM exits 0");
}

Test(agent_stream, a_stalled_client_costs_the_other_nothing_and_learns_its_loss)
{
	struct client fast, slow;
	struct client *cs[] = {&fast};
	const int pings = 1500;
	uint64_t end;

	start_agent("4096", "1500");
	client_subscribe(&fast, IPPROTO_ICMP, 0);
	client_subscribe(&slow, IPPROTO_ICMP, 0);
	settle(cs, 1, 300);

	/* ~1.5 KB events, about 3000 of them in 3 s: far beyond the stalled client's
	 * 4 KiB queue plus its socket buffer. The fast client keeps reading meanwhile,
	 * with the same 4 KiB budget. */
	cr_assert(eq(
	    int, mm_test_sh("ping -i 0.002 -c %d -s 1400 -q 10.199.0.2 >/dev/null &", pings), 0));
	end = now_ms() + 30000;
	while (now_ms() < end && fast.icmp + fast.lost_other + fast.lost_queue < 2ull * pings)
		client_poll(&fast, 50);
	settle(cs, 1, 500);
	cr_assert(ge(u64, fast.icmp + fast.lost_other, 2ull * pings),
		  "the fast client got %lu events and %lu + %lu reported losses",
		  (unsigned long)fast.icmp, (unsigned long)fast.lost_other,
		  (unsigned long)fast.lost_queue);
	cr_assert(eq(u64, fast.lost_queue, 0), "the fast client's queue never overflowed");

	/* The stalled client reads at last: its queue, then the coalesced notice. */
	end = now_ms() + 10000;
	while (now_ms() < end && slow.events + slow.lost_queue < fast.events)
		client_poll(&slow, 50);
	client_poll(&slow, 300);
	cr_assert(gt(u64, slow.lost_queue, 0), "a QUEUE lost notice arrived");
	cr_assert(lt(u64, slow.events, fast.events / 2), "the stalled client's queue was bounded");
	cr_assert(eq(u64, slow.events + slow.lost_queue, fast.events),
		  "delivered %lu + lost %lu == emitted %lu", (unsigned long)slow.events,
		  (unsigned long)slow.lost_queue, (unsigned long)fast.events);
	cr_assert(eq(u64, slow.lost_other, fast.lost_other), "upstream losses reach both");
	cr_assert(le(u64, slow.notices, 1 + fast.notices), "losses are coalesced");
	client_close(&fast);
	client_close(&slow);
	cr_assert(eq(int, stop_agent(), 0));
}

Test(agent_stream, replay_sends_stored_events_first)
{
	struct client late;

	start_agent_with("1048576", "128", "--history", "100");
	cr_assert(eq(int, mm_test_sh("ping -c 4 -i 0.1 -q 10.199.0.2 >/dev/null"), 0));
	usleep(300 * 1000); /* past the 10 ms drain timer */
	next_replay = 5;
	client_subscribe(&late, IPPROTO_ICMP, 0);
	next_replay = 0;
	client_poll(&late, 500);
	cr_assert(eq(u64, late.events, 5), "the newest 5 of 8 stored ICMP events");
	cr_assert(eq(u64, late.icmp, 5));
	client_close(&late);
	cr_assert(eq(int, stop_agent(), 0));
}
