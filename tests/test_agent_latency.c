// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The adaptive drain timer (agent/rings.h), end to end: records that never
 * reach --wakeup-events reach the client within --drain-min-us once traffic
 * flows, not after a whole --drain-ms; with --drain-min-us 0 they wait for the
 * fixed timer. Real traffic (ping every 50 ms for 3 s) through the real agent;
 * latency is the client's CLOCK_MONOTONIC at receipt minus the record's.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <netinet/in.h>
#include <stdint.h>
#include <unistd.h>

#include "agent_client.h"
#include "agent_fixture.h"
#include "harness.h"

TestSuite(agent_latency, .init = agent_setup, .fini = agent_teardown, .timeout = 120);

#define MS 1000000ull

/*
 * Ping for 3 s with no ring wakeup (wakeup_events far above the traffic) and
 * a 1 s --drain-ms; the largest latency of the events after the first 1.2 s,
 * by when the idle timer has fired at least once.
 */
static uint64_t late_max_latency_with(const char *const extra[])
{
	struct client c = {0};
	uint64_t first, worst = 0;
	size_t late = 0;

	start_agent_argv("1048576", "0", extra);
	client_subscribe(&c, IPPROTO_ICMP, 0);
	c.keep = 1;
	cr_assert(eq(int, mm_test_sh("(ping -c 60 -i 0.05 -q 10.199.0.2 >/dev/null 2>&1 &)"), 0));
	client_poll(&c, 4500);
	cr_assert(ge(u64, c.n_log, 100), "60 requests and their replies: %zu events", c.n_log);
	first = c.log[0].ktime_ns;
	for (size_t i = 0; i < c.n_log; i++) {
		const struct ev_rec *e = &c.log[i];

		if (e->ktime_ns < first + 1200 * MS)
			continue;
		late++;
		if (e->received_ns - e->ktime_ns > worst)
			worst = e->received_ns - e->ktime_ns;
	}
	cr_assert(ge(u64, late, 40), "events after the first 1.2 s: %zu", late);
	client_close(&c);
	cr_assert(eq(int, stop_agent(), 0));
	return worst;
}

static uint64_t late_max_latency_ns(const char *drain_min_us)
{
	const char *extra[] = {"--wakeup-events", "100000", "--drain-ms", "1000",
			       "--drain-min-us", drain_min_us, NULL};

	return late_max_latency_with(extra);
}

Test(agent_latency, records_below_wakeup_events_wait_only_the_short_interval)
{
	uint64_t worst = late_max_latency_ns("5000");

	/* a 5 ms interval, with room for a loaded machine; the fixed timer waits up to 1 s */
	cr_expect(lt(u64, worst, 200 * MS), "worst latency %llu ms", (unsigned long long)(worst / MS));
}

Test(agent_latency, drain_min_us_0_keeps_the_fixed_timer)
{
	uint64_t worst = late_max_latency_ns("0");

	/* records every 50 ms, a drain every 1000 ms: some waited most of a second */
	cr_expect(gt(u64, worst, 500 * MS), "worst latency %llu ms", (unsigned long long)(worst / MS));
}

/*
 * Every record wakes its own ring, the other ring waits for a fixed 1 s
 * drain: the records held to be put in time order go once they are due
 * (the reorder stage's timer reads every ring then), not at that drain.
 */
Test(agent_latency, records_held_for_time_order_do_not_wait_for_the_drain)
{
	const char *extra[] = {"--wakeup-events", "1", "--drain-ms", "1000", "--drain-min-us", "0",
			       NULL};
	uint64_t worst = late_max_latency_with(extra);

	cr_expect(lt(u64, worst, 100 * MS), "worst latency %llu ms",
		  (unsigned long long)(worst / MS));
}
