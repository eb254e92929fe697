// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Listener filters (agent/filter.h): every field, CIDR boundaries for IPv4
 * and IPv6, either-side, port-only and proto-only filters, AND within a
 * FlowFilter and OR across them, and invalid subscriptions.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "filter.h"
#include "records.h"

/* Builders: a subscription assembled from static pieces, one per test. */
#define MAXN 8
struct ff_build {
	Meshmon__V1__FlowFilter ff;
	Meshmon__V1__Endpoint ep[3][MAXN];
	Meshmon__V1__Endpoint *epp[3][MAXN];
	uint8_t addr[3][MAXN][16];
	uint32_t protos[MAXN], ports[MAXN];
};
static struct ff_build ffb[MAXN];
static Meshmon__V1__FlowFilter *ffp[MAXN];
static Meshmon__V1__Subscribe sub;
static Meshmon__V1__EventType types[MAXN];
static Meshmon__V1__TracePoint points[MAXN];
static struct mm_filter filt;
static char err[256];

enum side { SRC, DST, EITHER };

static void setup(void)
{
	memset(ffb, 0, sizeof(ffb));
	meshmon__v1__subscribe__init(&sub);
	sub.types = types;
	sub.points = points;
	sub.filters = ffp;
	for (int i = 0; i < MAXN; i++) {
		meshmon__v1__flow_filter__init(&ffb[i].ff);
		ffb[i].ff.source = ffb[i].epp[SRC];
		ffb[i].ff.destination = ffb[i].epp[DST];
		ffb[i].ff.either = ffb[i].epp[EITHER];
		ffb[i].ff.protocols = ffb[i].protos;
		ffb[i].ff.ports = ffb[i].ports;
		ffp[i] = &ffb[i].ff;
	}
	memset(&filt, 0, sizeof(filt));
	err[0] = '\0';
}

static void teardown(void)
{
	mm_filter__release(&filt);
}

TestSuite(filter, .init = setup, .fini = teardown);

/* Adds an endpoint "ADDR/LEN" (or "" for none) with port to flow filter i. */
static void add_ep(int i, enum side side, const char *cidr, unsigned int prefix, unsigned int port)
{
	struct ff_build *b = &ffb[i];
	size_t *n = side == SRC ? &b->ff.n_source : side == DST ? &b->ff.n_destination :
				  &b->ff.n_either;
	Meshmon__V1__Endpoint *ep = &b->ep[side][*n];
	uint8_t *a = b->addr[side][*n];

	meshmon__v1__endpoint__init(ep);
	if (*cidr) {
		if (inet_pton(AF_INET, cidr, a) == 1)
			ep->address.len = 4;
		else if (inet_pton(AF_INET6, cidr, a) == 1)
			ep->address.len = 16;
		else
			cr_assert(false, "bad address %s", cidr);
		ep->address.data = a;
	}
	ep->prefix_len = prefix;
	ep->port = port;
	b->epp[side][*n] = ep;
	(*n)++;
	if ((size_t)i + 1 > sub.n_filters)
		sub.n_filters = i + 1;
}

static void add_proto(int i, uint32_t p)
{
	ffb[i].protos[ffb[i].ff.n_protocols++] = p;
	if ((size_t)i + 1 > sub.n_filters)
		sub.n_filters = i + 1;
}

static void add_port(int i, uint32_t p)
{
	ffb[i].ports[ffb[i].ff.n_ports++] = p;
	if ((size_t)i + 1 > sub.n_filters)
		sub.n_filters = i + 1;
}

static void compile(void)
{
	int ret = mm_filter__compile(&filt, &sub, err, sizeof(err));

	cr_assert(eq(int, ret, 0), "compile: %s", err);
}

static int compile_fails(void)
{
	int ret = mm_filter__compile(&filt, &sub, err, sizeof(err));

	cr_expect(eq(int, ret, -EINVAL));
	cr_expect(strlen(err) > 0, "an error message");
	return ret;
}

/* An IP event: "SRC" "DST" with ports and protocol. */
static struct mm_event_view ev(const char *src, unsigned int sport, const char *dst,
			       unsigned int dport, unsigned int proto)
{
	struct mm_event_view v = { .type = MM_EVENT_TRACE, .point = MM_POINT_FROM_NETWORK };

	if (inet_pton(AF_INET, src, v.src) == 1) {
		v.family = MM_FAMILY_IPV4;
		cr_assert(inet_pton(AF_INET, dst, v.dst) == 1);
	} else {
		v.family = MM_FAMILY_IPV6;
		cr_assert(inet_pton(AF_INET6, src, v.src) == 1);
		cr_assert(inet_pton(AF_INET6, dst, v.dst) == 1);
	}
	v.sport = sport;
	v.dport = dport;
	v.proto = proto;
	return v;
}

static int match(struct mm_event_view v)
{
	return mm_filter__match(&filt, &v);
}

static int match_type(unsigned int type, unsigned int point)
{
	struct mm_event_view v = ev("10.0.0.1", 1, "10.0.0.2", 2, IPPROTO_TCP);

	v.type = type;
	v.point = point;
	return match(v);
}

Test(filter, empty_subscription_matches_everything)
{
	struct mm_event_view none = { .type = MM_EVENT_DEBUG };

	compile();
	cr_expect(eq(int, match(ev("10.0.0.1", 1, "10.0.0.2", 2, 6)), 1));
	cr_expect(eq(int, match(ev("::1", 1, "::2", 2, 17)), 1));
	cr_expect(eq(int, match(none), 1));
	cr_expect(eq(int, match_type(MM_EVENT_TCP_PROBE, 0), 1));
	/* An unknown point byte (a record's subtype) passes when no point is asked for;
	 * found by fuzz_decode. */
	cr_expect(eq(int, match_type(MM_EVENT_TRACE, 200), 1));
	cr_expect(eq(int, match_type(MM_EVENT_TRACE, 64), 1));
}

Test(filter, types)
{
	types[0] = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_DROP;
	types[1] = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TCP_PROBE;
	sub.n_types = 2;
	compile();
	cr_expect(eq(int, match_type(MM_EVENT_DROP, MM_POINT_KERNEL), 1));
	cr_expect(eq(int, match_type(MM_EVENT_TCP_PROBE, 0), 1));
	cr_expect(eq(int, match_type(MM_EVENT_TRACE, MM_POINT_FROM_NETWORK), 0));
	cr_expect(eq(int, match_type(MM_EVENT_DEBUG, 0), 0));
	cr_expect(eq(int, match_type(MM_EVENT_CAPTURE, 1), 0));
	cr_expect(eq(int, match_type(200, 0), 0));
}

Test(filter, trace_points_restrict_traces_only)
{
	types[0] = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TRACE;
	types[1] = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_DROP;
	sub.n_types = 2;
	points[0] = MESHMON__V1__TRACE_POINT__TRACE_POINT_FROM_NETWORK;
	points[1] = MESHMON__V1__TRACE_POINT__TRACE_POINT_TO_STACK;
	sub.n_points = 2;
	compile();
	cr_expect(eq(int, match_type(MM_EVENT_TRACE, MM_POINT_FROM_NETWORK), 1));
	cr_expect(eq(int, match_type(MM_EVENT_TRACE, MM_POINT_TO_STACK), 1));
	cr_expect(eq(int, match_type(MM_EVENT_TRACE, MM_POINT_TO_NETWORK), 0));
	cr_expect(eq(int, match_type(MM_EVENT_TRACE, 0), 0));
	cr_expect(eq(int, match_type(MM_EVENT_TRACE, 200), 0), "an unknown point is not asked for");
	/* drops at any point still pass */
	cr_expect(eq(int, match_type(MM_EVENT_DROP, MM_POINT_KERNEL), 1));
	cr_expect(eq(int, match_type(MM_EVENT_DROP, MM_POINT_TO_NETWORK), 1));
}

Test(filter, source_cidr24_boundaries)
{
	add_ep(0, SRC, "10.1.2.0", 24, 0);
	compile();
	cr_expect(eq(int, match(ev("10.1.1.255", 1, "10.9.9.9", 2, 6)), 0));
	cr_expect(eq(int, match(ev("10.1.2.0", 1, "10.9.9.9", 2, 6)), 1));
	cr_expect(eq(int, match(ev("10.1.2.255", 1, "10.9.9.9", 2, 6)), 1));
	cr_expect(eq(int, match(ev("10.1.3.0", 1, "10.9.9.9", 2, 6)), 0));
	/* the destination side does not count for a source endpoint */
	cr_expect(eq(int, match(ev("10.9.9.9", 1, "10.1.2.5", 2, 6)), 0));
}

Test(filter, cidr_address_is_masked)
{
	add_ep(0, SRC, "10.1.2.77", 24, 0); /* host bits set: treated as 10.1.2.0/24 */
	compile();
	cr_expect(eq(int, match(ev("10.1.2.1", 1, "10.9.9.9", 2, 6)), 1));
	cr_expect(eq(int, match(ev("10.1.3.1", 1, "10.9.9.9", 2, 6)), 0));
}

Test(filter, odd_prefix_boundaries)
{
	add_ep(0, DST, "192.168.0.0", 23, 0);
	compile();
	cr_expect(eq(int, match(ev("1.1.1.1", 1, "192.167.255.255", 2, 6)), 0));
	cr_expect(eq(int, match(ev("1.1.1.1", 1, "192.168.0.0", 2, 6)), 1));
	cr_expect(eq(int, match(ev("1.1.1.1", 1, "192.168.1.255", 2, 6)), 1));
	cr_expect(eq(int, match(ev("1.1.1.1", 1, "192.168.2.0", 2, 6)), 0));
}

Test(filter, prefix_0_and_32)
{
	add_ep(0, SRC, "0.0.0.0", 0, 0);
	add_ep(0, DST, "10.0.0.5", 32, 0);
	compile();
	cr_expect(eq(int, match(ev("255.255.255.255", 1, "10.0.0.5", 2, 6)), 1));
	cr_expect(eq(int, match(ev("1.2.3.4", 1, "10.0.0.5", 2, 6)), 1));
	cr_expect(eq(int, match(ev("1.2.3.4", 1, "10.0.0.4", 2, 6)), 0));
	cr_expect(eq(int, match(ev("1.2.3.4", 1, "10.0.0.6", 2, 6)), 0));
	/* an IPv4 /0 is still IPv4 only */
	cr_expect(eq(int, match(ev("::1", 1, "::2", 2, 6)), 0));
}

Test(filter, ipv6_64_boundaries)
{
	add_ep(0, EITHER, "2001:db8:1:2::", 64, 0);
	compile();
	cr_expect(eq(int, match(ev("2001:db8:1:1:ffff:ffff:ffff:ffff", 1, "fe80::1", 2, 6)), 0));
	cr_expect(eq(int, match(ev("2001:db8:1:2::", 1, "fe80::1", 2, 6)), 1));
	cr_expect(eq(int, match(ev("2001:db8:1:2:ffff:ffff:ffff:ffff", 1, "fe80::1", 2, 6)), 1));
	cr_expect(eq(int, match(ev("2001:db8:1:3::", 1, "fe80::1", 2, 6)), 0));
	cr_expect(eq(int, match(ev("fe80::1", 1, "2001:db8:1:2::42", 2, 6)), 1));
	/* IPv6 filter, IPv4 tuple whose first bytes are equal: no match */
	cr_expect(eq(int, match(ev("32.1.13.184", 1, "32.1.13.184", 2, 6)), 0));
}

Test(filter, ipv6_128_and_ipv4_never_matches_v6)
{
	add_ep(0, SRC, "2001:db8::1", 128, 0);
	add_ep(1, SRC, "10.0.0.0", 8, 0);
	compile();
	cr_expect(eq(int, match(ev("2001:db8::1", 1, "::1", 2, 6)), 1));
	cr_expect(eq(int, match(ev("2001:db8::2", 1, "::1", 2, 6)), 0));
	/* ::a00:1 has 10.0.0.1 in its last bytes, 0a00:... in the first: still no match */
	cr_expect(eq(int, match(ev("a00::1", 1, "::1", 2, 6)), 0));
	cr_expect(eq(int, match(ev("10.0.0.1", 1, "1.1.1.1", 2, 6)), 1));
}

Test(filter, endpoint_port)
{
	add_ep(0, DST, "10.0.0.0", 8, 80);
	compile();
	cr_expect(eq(int, match(ev("1.1.1.1", 5000, "10.0.0.1", 80, 6)), 1));
	cr_expect(eq(int, match(ev("1.1.1.1", 5000, "10.0.0.1", 81, 6)), 0));
	/* the port must be on the same side as the address */
	cr_expect(eq(int, match(ev("10.0.0.1", 80, "1.1.1.1", 5000, 6)), 0));
}

Test(filter, port_only_endpoint)
{
	add_ep(0, SRC, "", 0, 53);
	compile();
	cr_expect(eq(int, match(ev("1.1.1.1", 53, "2.2.2.2", 4000, 17)), 1));
	cr_expect(eq(int, match(ev("::1", 53, "::2", 4000, 17)), 1));
	cr_expect(eq(int, match(ev("1.1.1.1", 4000, "2.2.2.2", 53, 17)), 0));
}

Test(filter, either_side)
{
	add_ep(0, EITHER, "10.0.0.1", 32, 443);
	compile();
	cr_expect(eq(int, match(ev("10.0.0.1", 443, "1.1.1.1", 5000, 6)), 1));
	cr_expect(eq(int, match(ev("1.1.1.1", 5000, "10.0.0.1", 443, 6)), 1));
	/* address on one side, port on the other: no */
	cr_expect(eq(int, match(ev("10.0.0.1", 5000, "1.1.1.1", 443, 6)), 0));
	cr_expect(eq(int, match(ev("1.1.1.2", 443, "1.1.1.1", 443, 6)), 0));
}

Test(filter, ports_either_side)
{
	add_port(0, 22);
	add_port(0, 2222);
	compile();
	cr_expect(eq(int, match(ev("1.1.1.1", 22, "2.2.2.2", 4000, 6)), 1));
	cr_expect(eq(int, match(ev("1.1.1.1", 4000, "2.2.2.2", 2222, 6)), 1));
	cr_expect(eq(int, match(ev("1.1.1.1", 4000, "2.2.2.2", 4001, 6)), 0));
}

Test(filter, proto_only)
{
	add_proto(0, IPPROTO_UDP);
	add_proto(0, IPPROTO_ICMPV6);
	compile();
	cr_expect(eq(int, match(ev("1.1.1.1", 1, "2.2.2.2", 2, IPPROTO_UDP)), 1));
	cr_expect(eq(int, match(ev("::1", 0, "::2", 0, IPPROTO_ICMPV6)), 1));
	cr_expect(eq(int, match(ev("1.1.1.1", 1, "2.2.2.2", 2, IPPROTO_TCP)), 0));
}

Test(filter, and_within_or_across)
{
	/* filter 0: from 10.0.0.0/8 AND tcp AND port 80; filter 1: to 192.168.1.1 */
	add_ep(0, SRC, "10.0.0.0", 8, 0);
	add_proto(0, IPPROTO_TCP);
	add_port(0, 80);
	add_ep(1, DST, "192.168.1.1", 32, 0);
	compile();
	cr_expect(eq(int, match(ev("10.1.1.1", 5000, "1.1.1.1", 80, IPPROTO_TCP)), 1));
	cr_expect(eq(int, match(ev("10.1.1.1", 5000, "1.1.1.1", 80, IPPROTO_UDP)), 0));
	cr_expect(eq(int, match(ev("10.1.1.1", 5000, "1.1.1.1", 81, IPPROTO_TCP)), 0));
	cr_expect(eq(int, match(ev("11.1.1.1", 5000, "1.1.1.1", 80, IPPROTO_TCP)), 0));
	/* filter 1 alone */
	cr_expect(eq(int, match(ev("11.1.1.1", 5000, "192.168.1.1", 53, IPPROTO_UDP)), 1));
}

Test(filter, repeated_values_ored)
{
	add_ep(0, SRC, "10.0.0.1", 32, 0);
	add_ep(0, SRC, "2001:db8::", 32, 0);
	add_ep(0, DST, "10.0.0.2", 32, 0);
	add_ep(0, DST, "2001:db8::2", 128, 0);
	compile();
	cr_expect(eq(int, match(ev("10.0.0.1", 1, "10.0.0.2", 2, 6)), 1));
	cr_expect(eq(int, match(ev("2001:db8:ffff::", 1, "2001:db8::2", 2, 6)), 1));
	cr_expect(eq(int, match(ev("10.0.0.1", 1, "10.0.0.3", 2, 6)), 0));
}

Test(filter, types_and_flows_combined)
{
	types[0] = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_DROP;
	sub.n_types = 1;
	add_proto(0, IPPROTO_TCP);
	compile();
	struct mm_event_view v = ev("1.1.1.1", 1, "2.2.2.2", 2, IPPROTO_TCP);

	cr_expect(eq(int, match(v), 0)); /* a trace */
	v.type = MM_EVENT_DROP;
	cr_expect(eq(int, match(v), 1));
	v.proto = IPPROTO_UDP;
	cr_expect(eq(int, match(v), 0));
}

Test(filter, event_without_tuple)
{
	struct mm_event_view none = { .type = MM_EVENT_DEBUG, .family = MM_FAMILY_NONE };

	/* a filter with a constraint excludes tuple-less events ... */
	add_proto(0, 0);
	compile();
	cr_expect(eq(int, match(none), 0));
	mm_filter__release(&filt);
	/* ... an empty FlowFilter among others admits them */
	sub.n_filters = 2;
	compile();
	cr_expect(eq(int, match(none), 1));
	mm_filter__release(&filt);
	setup();
	add_port(0, 80);
	compile();
	cr_expect(eq(int, match(none), 0));
	mm_filter__release(&filt);
	setup();
	add_ep(0, EITHER, "0.0.0.0", 0, 0);
	compile();
	cr_expect(eq(int, match(none), 0));
}

Test(filter, replay_carried)
{
	sub.replay = 42;
	compile();
	cr_expect(eq(u32, filt.replay, 42));
}

Test(filter, invalid_v4_prefix)
{
	add_ep(0, SRC, "10.0.0.0", 33, 0);
	compile_fails();
	cr_expect(strstr(err, "33") != NULL, "%s", err);
}

Test(filter, valid_v6_prefix_128_invalid_129)
{
	add_ep(0, DST, "::1", 128, 0);
	compile();
	mm_filter__release(&filt);
	setup();
	add_ep(0, DST, "::1", 129, 0);
	compile_fails();
}

Test(filter, invalid_address_length)
{
	static uint8_t five[5];

	add_ep(0, EITHER, "10.0.0.0", 8, 0);
	ffb[0].ep[EITHER][0].address.data = five;
	ffb[0].ep[EITHER][0].address.len = 5;
	compile_fails();
}

Test(filter, invalid_ports_protocols_types)
{
	add_ep(0, SRC, "", 0, 70000);
	compile_fails();
	setup();
	add_port(0, 0);
	compile_fails();
	setup();
	add_port(0, 65536);
	compile_fails();
	setup();
	add_proto(0, 256);
	compile_fails();
	setup();
	types[0] = 6; /* not in the table */
	sub.n_types = 1;
	compile_fails();
	setup();
	types[0] = 0;
	sub.n_types = 1;
	compile_fails();
	setup();
	points[0] = 99;
	sub.n_points = 1;
	compile_fails();
	setup();
	add_ep(0, SRC, "", 0, 0); /* neither address nor port */
	compile_fails();
}

Test(filter, invalid_in_second_filter_frees_first)
{
	add_ep(0, SRC, "10.0.0.0", 8, 0);
	add_proto(0, 6);
	add_ep(1, SRC, "10.0.0.0", 40, 0);
	compile_fails();
	cr_expect(strstr(err, "filter 1") != NULL, "%s", err);
}
