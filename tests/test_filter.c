// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Listener filters (agent/filter.h): every field, CIDR boundaries for IPv4
 * and IPv6, either-side, port-only and proto-only filters, AND within a
 * FlowFilter and OR across them, ports of TCP, UDP and SCTP only, drop
 * reasons (meshmon's and a stand-in kernel's), TCP flag masks, interfaces,
 * exclude filters (negation), the time window, and invalid subscriptions.
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
	uint32_t protos[MAXN], ports[MAXN], masks[MAXN];
	char *reasons[MAXN], *ifnames[MAXN];
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
		ffb[i].ff.tcp_flags = ffb[i].masks;
		ffb[i].ff.drop_reasons = ffb[i].reasons;
		ffb[i].ff.interfaces = ffb[i].ifnames;
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

static void add_reason(int i, const char *name)
{
	ffb[i].reasons[ffb[i].ff.n_drop_reasons++] = (char *)name;
	if ((size_t)i + 1 > sub.n_filters)
		sub.n_filters = i + 1;
}

static void add_mask(int i, uint32_t mask)
{
	ffb[i].masks[ffb[i].ff.n_tcp_flags++] = mask;
	if ((size_t)i + 1 > sub.n_filters)
		sub.n_filters = i + 1;
}

static void add_ifname(int i, const char *name)
{
	ffb[i].ifnames[ffb[i].ff.n_interfaces++] = (char *)name;
	if ((size_t)i + 1 > sub.n_filters)
		sub.n_filters = i + 1;
}

/* Flow filters [from, from + n) of ffb become sub's exclude list (after the n_filters ones). */
static void exclude(int from, size_t n)
{
	sub.exclude = ffp + from;
	sub.n_exclude = n;
}

/* A stand-in for the kernel's BTF names: NO_SOCKET 2, TC_EGRESS 64, POLICY_DENIED 77. */
static int kernel_reason(const char *name)
{
	if (!strcmp(name, "NO_SOCKET"))
		return 2;
	if (!strcmp(name, "TC_EGRESS"))
		return 64;
	if (!strcmp(name, "POLICY_DENIED"))
		return 77;
	return -ENOENT;
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

/* A drop event: meshmon's own reason (source tc) or the kernel's. */
static struct mm_event_view drop(int kernel, unsigned int reason)
{
	struct mm_event_view v = ev("10.0.0.1", 1000, "10.0.0.2", 53, IPPROTO_UDP);

	v.type = MM_EVENT_DROP;
	v.point = kernel ? MM_POINT_KERNEL : MM_POINT_TO_NETWORK;
	v.drop_key = mm_drop_key(kernel, reason);
	return v;
}

static struct mm_event_view tcp_trace(uint8_t flags)
{
	struct mm_event_view v = ev("10.0.0.1", 40000, "10.0.0.2", 80, IPPROTO_TCP);

	v.has_tcp_flags = 1;
	v.tcp_flags = flags;
	return v;
}

Test(filter, drop_reasons_by_name)
{
	mm_filter__set_kernel_drop_reasons(kernel_reason);
	add_reason(0, "NO_SOCKET");
	add_reason(0, "policy_denied"); /* any case; meshmon's 1 and the kernel's 77 */
	compile();
	cr_expect(eq(int, match(drop(1, 2)), 1), "the kernel's NO_SOCKET");
	cr_expect(eq(int, match(drop(0, 1)), 1), "meshmon's POLICY_DENIED");
	cr_expect(eq(int, match(drop(1, 77)), 1), "the kernel's POLICY_DENIED");
	cr_expect(eq(int, match(drop(0, 2)), 0), "meshmon's 2 is not the kernel's 2");
	cr_expect(eq(int, match(drop(1, 1)), 0), "the kernel's 1 is not meshmon's 1");
	cr_expect(eq(int, match(drop(1, 64)), 0));
	cr_expect(eq(int, match(ev("10.0.0.1", 1000, "10.0.0.2", 53, IPPROTO_UDP)), 0),
		  "only drop events have a reason");
}

Test(filter, drop_reason_unknown_is_refused)
{
	mm_filter__set_kernel_drop_reasons(kernel_reason);
	add_reason(0, "NO_SOCKET");
	add_reason(0, "NO_SUCH_REASON");
	cr_assert(eq(int, mm_filter__compile(&filt, &sub, err, sizeof(err)), -EINVAL));
	cr_expect(eq(str, err,
		     "filter 0: unknown drop reason 'NO_SUCH_REASON' (meshmon's, e.g. POLICY_DENIED, or the kernel's, e.g. NO_SOCKET)"));
	/* Without the kernel's names, only meshmon's are known. */
	setup();
	mm_filter__set_kernel_drop_reasons(NULL);
	add_reason(0, "NO_SOCKET");
	cr_expect(eq(int, mm_filter__compile(&filt, &sub, err, sizeof(err)), -EINVAL));
	setup();
	add_reason(0, "POLICY_DENIED");
	compile();
	cr_expect(eq(int, match(drop(0, 1)), 1));
	mm_filter__set_kernel_drop_reasons(kernel_reason);
}

Test(filter, tcp_flag_masks)
{
	add_mask(0, MM_TCP_SYN);
	add_mask(0, MM_TCP_FIN | MM_TCP_ACK);
	compile();
	cr_expect(eq(int, match(tcp_trace(MM_TCP_SYN)), 1));
	cr_expect(eq(int, match(tcp_trace(MM_TCP_SYN | MM_TCP_ACK)), 1), "SYN is set");
	cr_expect(eq(int, match(tcp_trace(MM_TCP_FIN | MM_TCP_ACK | MM_TCP_PSH)), 1));
	cr_expect(eq(int, match(tcp_trace(MM_TCP_FIN)), 0), "FIN without ACK");
	cr_expect(eq(int, match(tcp_trace(MM_TCP_ACK)), 0));
	cr_expect(eq(int, match(tcp_trace(0)), 0));
	cr_expect(eq(int, match(ev("10.0.0.1", 1, "10.0.0.2", 2, IPPROTO_UDP)), 0),
		  "no TCP flags: no match");
	/* A drop of a TCP packet carries no flags in the view: it does not match either. */
	cr_expect(eq(int, match(drop(0, 1)), 0));
}

Test(filter, interfaces)
{
	struct mm_event_view v = ev("10.0.0.1", 1, "10.0.0.2", 2, IPPROTO_UDP);

	add_ifname(0, "veth-a");
	add_ifname(0, "eth0");
	add_ifname(0, "eth0");
	compile();
	strcpy(v.ifname, "eth0");
	cr_expect(eq(int, match(v), 1));
	strcpy(v.ifname, "veth-a");
	cr_expect(eq(int, match(v), 1));
	strcpy(v.ifname, "eth");
	cr_expect(eq(int, match(v), 0), "a prefix is not the name");
	strcpy(v.ifname, "eth00");
	cr_expect(eq(int, match(v), 0));
	v.ifname[0] = '\0';
	cr_expect(eq(int, match(v), 0), "no interface");
	/* An interface needs no tuple: a debug event on eth0 matches. */
	v = (struct mm_event_view){ .type = MM_EVENT_DEBUG, .family = MM_FAMILY_NONE };
	strcpy(v.ifname, "eth0");
	cr_expect(eq(int, match(v), 1));
}

/* --port, Endpoint.port: TCP, UDP and SCTP ports; an ICMP echo id in sport is not one. */
Test(filter, ports_only_for_tcp_udp_sctp)
{
	add_port(0, 7);
	compile();
	cr_expect(eq(int, match(ev("1.1.1.1", 7, "2.2.2.2", 0, IPPROTO_ICMP)), 0), "echo id 7");
	cr_expect(eq(int, match(ev("::1", 7, "::2", 0, IPPROTO_ICMPV6)), 0));
	cr_expect(eq(int, match(ev("1.1.1.1", 7, "2.2.2.2", 9, IPPROTO_TCP)), 1));
	cr_expect(eq(int, match(ev("1.1.1.1", 9, "2.2.2.2", 7, IPPROTO_UDP)), 1));
	cr_expect(eq(int, match(ev("1.1.1.1", 9, "2.2.2.2", 7, IPPROTO_SCTP)), 1));
	cr_expect(eq(int, match(ev("1.1.1.1", 9, "2.2.2.2", 7, 47)), 0), "GRE has no ports");
	mm_filter__release(&filt);
	setup();
	add_ep(0, SRC, "", 0, 7);
	add_ep(1, EITHER, "1.1.1.1", 32, 7);
	compile();
	cr_expect(eq(int, match(ev("1.1.1.1", 7, "2.2.2.2", 0, IPPROTO_ICMP)), 0),
		  "an endpoint's port neither");
	cr_expect(eq(int, match(ev("1.1.1.1", 7, "2.2.2.2", 0, IPPROTO_UDP)), 1));
	mm_filter__release(&filt);
	setup();
	add_ep(0, SRC, "1.1.1.1", 32, 0);
	compile();
	cr_expect(eq(int, match(ev("1.1.1.1", 7, "2.2.2.2", 0, IPPROTO_ICMP)), 1),
		  "an address without a port still matches ICMP");
}

/* exclude: an event that matches any exclude FlowFilter is left out, whatever filters say. */
Test(filter, exclude_negates)
{
	struct mm_event_view on_lo = ev("10.0.0.1", 1, "10.0.0.2", 53, IPPROTO_UDP);

	mm_filter__set_kernel_drop_reasons(kernel_reason);
	/* filters: UDP; exclude: port 53, or NO_SOCKET drops */
	add_proto(0, IPPROTO_UDP);
	add_port(1, 53);
	add_reason(2, "NO_SOCKET");
	sub.n_filters = 1;
	exclude(1, 2);
	compile();
	cr_expect(eq(int, match(ev("10.0.0.1", 1, "10.0.0.2", 54, IPPROTO_UDP)), 1));
	cr_expect(eq(int, match(ev("10.0.0.1", 1, "10.0.0.2", 53, IPPROTO_UDP)), 0), "port 53");
	cr_expect(eq(int, match(ev("10.0.0.1", 1, "10.0.0.2", 54, IPPROTO_TCP)), 0), "not UDP");
	cr_expect(eq(int, match(drop(1, 2)), 0), "UDP but NO_SOCKET (and port 53)");
	mm_filter__release(&filt);

	/* Only exclude: everything else passes, tuple-less events too. */
	setup();
	add_port(0, 53);
	add_ifname(0, "lo");
	sub.n_filters = 0;
	exclude(0, 1);
	compile();
	strcpy(on_lo.ifname, "lo");
	cr_expect(eq(int, match(on_lo), 0), "port 53 on lo: both negated fields hold");
	on_lo.dport = 54;
	cr_expect(eq(int, match(on_lo), 1), "not port 53: the AND of the exclude fails");
	on_lo.dport = 53;
	strcpy(on_lo.ifname, "eth0");
	cr_expect(eq(int, match(on_lo), 1), "not on lo");
	cr_expect(eq(int, match_type(MM_EVENT_DEBUG, 0), 1));
	cr_expect(eq(int, match((struct mm_event_view){ .type = MM_EVENT_DEBUG }), 1),
		  "no tuple: the exclude's port cannot hold");
}

Test(filter, time_window)
{
	struct mm_event_view v = ev("10.0.0.1", 1, "10.0.0.2", 2, IPPROTO_UDP);

	sub.since_ns = 1000;
	sub.until_ns = 2000;
	compile();
	v.time_ns = 999;
	cr_expect(eq(int, match(v), 0));
	v.time_ns = 1000;
	cr_expect(eq(int, match(v), 1), "since is inclusive");
	v.time_ns = 2000;
	cr_expect(eq(int, match(v), 1), "until is inclusive");
	v.time_ns = 2001;
	cr_expect(eq(int, match(v), 0));
	mm_filter__release(&filt);
	sub.since_ns = 0;
	sub.until_ns = 0;
	compile();
	v.time_ns = UINT64_MAX;
	cr_expect(eq(int, match(v), 1), "no window");
	mm_filter__release(&filt);
	sub.since_ns = 3000;
	sub.until_ns = 2000;
	cr_assert(eq(int, mm_filter__compile(&filt, &sub, err, sizeof(err)), -EINVAL));
	cr_expect(eq(str, err, "since_ns 3000 is after until_ns 2000"));
}

Test(filter, replay_and_history_only_carried)
{
	cr_expect(not(mm_filter__replays(&filt)));
	sub.since_ns = 5;
	sub.history_only = true;
	compile();
	cr_expect(mm_filter__replays(&filt));
	cr_expect(filt.history_only);
	cr_expect(eq(u64, filt.since_ns, 5));
}

Test(filter, invalid_new_fields)
{
	add_mask(0, 0);
	compile_fails();
	cr_expect(eq(str, err, "filter 0: tcp flag mask 0 out of range (1-255)"));
	setup();
	add_mask(0, 256);
	compile_fails();
	setup();
	add_proto(0, IPPROTO_TCP);
	add_ifname(1, "a234567890123456");
	compile_fails();
	cr_expect(eq(str, err, "filter 1: interface name 'a234567890123456' is not 1 to 15 bytes"));
	setup();
	add_proto(0, IPPROTO_TCP);
	add_mask(1, 2);
	exclude(1, 1);
	sub.n_filters = 1;
	add_ifname(1, "");
	compile_fails();
	cr_expect(eq(str, err, "filter 1: interface name '' is not 1 to 15 bytes"),
		  "exclude filters are numbered after filters");
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
