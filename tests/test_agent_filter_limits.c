// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-agent end to end, the limits of a Subscribe (proto/protocol.h): a
 * Subscribe over a limit gets Error INVALID_SUBSCRIPTION naming the limit
 * and is closed, while a subscribed client keeps streaming and a Subscribe
 * exactly at the limits is served (agent_client.h, agent_fixture.h).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_client.h"
#include "agent_fixture.h"
#include "framing.h"
#include "harness.h"
#include "protocol.h"

TestSuite(agent_filter_limits, .init = agent_setup, .fini = agent_teardown, .timeout = 120);

/* Reads c's frames for up to ms or until EOF: the code and message of an Error. */
static uint32_t read_error(struct client *c, char *msg, size_t cap, int ms)
{
	client_poll(c, ms);
	snprintf(msg, cap, "%s", c->error_message);
	return c->error_code;
}

/* Connects, takes the Hello and sends sub. */
static void send_subscribe(struct client *c, Meshmon__V1__Subscribe *sub)
{
	Meshmon__V1__ClientMessage m = MESHMON__V1__CLIENT_MESSAGE__INIT;

	cr_assert(eq(int, client_connect(c), 0));
	for (int i = 0; i < 100 && !c->got_hello; i++)
		client_poll(c, 20);
	cr_assert(c->got_hello);
	m.msg_case = MESHMON__V1__CLIENT_MESSAGE__MSG_SUBSCRIBE;
	m.subscribe = sub;
	client_send(c, &m);
}

/* sub is refused with INVALID_SUBSCRIPTION and a message holding want, then closed. */
static void expect_refused(Meshmon__V1__Subscribe *sub, const char *want)
{
	struct client c;
	char msg[256] = "";

	send_subscribe(&c, sub);
	cr_expect(eq(u32, read_error(&c, msg, sizeof(msg), 4000),
		     MESHMON__V1__ERROR_CODE__ERROR_CODE_INVALID_SUBSCRIPTION));
	cr_expect(strstr(msg, want) != NULL, "message '%s' names the limit ('%s')", msg, want);
	cr_expect(eq(int, c.eof, 1), "the agent closed the connection");
	client_close(&c);
}

Test(agent_filter_limits, over_the_limits_refused_others_stream)
{
	static uint32_t protos[1000000], icmp_and_more[MM_FILTER_MAX_VALUES];
	static Meshmon__V1__FlowFilter ff[MM_SUBSCRIBE_MAX_FILTERS + 1];
	static Meshmon__V1__FlowFilter *ffp[MM_SUBSCRIBE_MAX_FILTERS + 1];
	Meshmon__V1__Subscribe sub = MESHMON__V1__SUBSCRIBE__INIT;
	struct client good, full;
	struct client *cs[] = {&good, &full};

	for (size_t i = 0; i < MM_SUBSCRIBE_MAX_FILTERS + 1; i++) {
		meshmon__v1__flow_filter__init(&ff[i]);
		ffp[i] = &ff[i];
	}
	for (size_t i = 0; i < 1000000; i++)
		protos[i] = IPPROTO_TCP;
	start_agent("1048576", "128");
	client_subscribe(&good, IPPROTO_ICMP, 0);
	settle(cs, 1, 200);

	sub.filters = ffp;
	sub.n_filters = MM_SUBSCRIBE_MAX_FILTERS + 1;
	expect_refused(&sub, "65 filters, over the limit of 64 FlowFilters per Subscribe");
	sub.n_filters = 1;
	ff[0].protocols = protos;
	ff[0].n_protocols = 1000000; /* about 1 MB packed: within the frame limit */
	expect_refused(&sub, "filter 0: 1000000 protocols, over the limit of 64 values per field");

	/* Exactly at the limits: 64 FlowFilters of 64 protocols, ICMP the last. */
	for (size_t i = 0; i < MM_FILTER_MAX_VALUES; i++)
		icmp_and_more[i] = i < MM_FILTER_MAX_VALUES - 1 ? 100 + (uint32_t)i : IPPROTO_ICMP;
	for (size_t i = 0; i < MM_SUBSCRIBE_MAX_FILTERS; i++) {
		ff[i].protocols = icmp_and_more;
		ff[i].n_protocols = MM_FILTER_MAX_VALUES;
	}
	sub.n_filters = MM_SUBSCRIBE_MAX_FILTERS;
	send_subscribe(&full, &sub);

	cr_assert(eq(int, mm_test_sh("ping -c 3 -i 0.1 -q 10.199.0.2 >/dev/null"), 0));
	settle(cs, 2, 800);
	cr_expect(ge(u64, good.icmp, 6), "the subscribed client is still served");
	cr_expect(eq(int, good.eof, 0));
	cr_expect(ge(u64, full.icmp, 6), "a Subscribe at the limits is served");
	cr_expect(eq(u64, full.events, full.icmp), "and filtered");
	cr_expect(eq(u32, full.error_code, 0));
	client_close(&good);
	client_close(&full);
	cr_assert(eq(int, stop_agent(), 0));
}
