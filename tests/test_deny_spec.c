// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * mm_deny_spec__parse(): the deny rule syntax of datapath.h,
 * "proto=tcp,src=10.0.0.0/8,dst=10.1.0.2/32,sport=1,dport=8080,dir=ingress".
 * Every documented key and form is accepted into the right fields; bad input
 * is rejected with -EINVAL and a message.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "datapath.h"

static struct mm_deny_spec parse_ok(const char *text, __u32 id)
{
	struct mm_deny_spec spec;
	char err[256] = "";
	int ret;

	memset(&spec, 0xa5, sizeof(spec));
	ret = mm_deny_spec__parse(text, id, &spec, err, sizeof(err));
	cr_assert(eq(int, ret, 0), "\"%s\" rejected: %s", text, err);
	cr_assert(eq(u32, spec.id, id), "\"%s\"", text);
	return spec;
}

static void addr_is(const __u8 *addr, int family, const char *text)
{
	__u8 want[16] = { 0 };

	cr_assert(eq(int, inet_pton(family == MM_FAMILY_IPV4 ? AF_INET : AF_INET6, text, want),
		     1));
	cr_assert(eq(int, memcmp(addr, want, family == MM_FAMILY_IPV4 ? 4 : 16), 0),
		  "address is not %s", text);
}

Test(deny_spec, full_example_from_the_header)
{
	struct mm_deny_spec s =
		parse_ok("proto=tcp,src=10.0.0.0/8,dst=10.1.0.2/32,sport=1,dport=8080,dir=ingress",
			 7);

	cr_assert(eq(u8, s.proto, IPPROTO_TCP));
	cr_assert(eq(u8, s.src_family, MM_FAMILY_IPV4));
	addr_is(s.src_addr, MM_FAMILY_IPV4, "10.0.0.0");
	cr_assert(eq(u8, s.src_prefix, 8));
	cr_assert(eq(u8, s.dst_family, MM_FAMILY_IPV4));
	addr_is(s.dst_addr, MM_FAMILY_IPV4, "10.1.0.2");
	cr_assert(eq(u8, s.dst_prefix, 32));
	cr_assert(eq(u16, s.sport, 1));
	cr_assert(eq(u16, s.dport, 8080));
	cr_assert(eq(u8, s.direction, MM_DIR_INGRESS));
}

Test(deny_spec, every_key_is_optional)
{
	struct mm_deny_spec s = parse_ok("dport=53", 1);

	cr_assert(eq(u16, s.dport, 53));
	cr_assert(eq(u8, s.proto, 0), "proto any");
	cr_assert(eq(u8, s.src_family, 0), "source any");
	cr_assert(eq(u8, s.dst_family, 0), "destination any");
	cr_assert(eq(u16, s.sport, 0), "sport any");
	cr_assert(eq(u8, s.direction, MM_DIR_ANY));

	s = parse_ok("", 2);
	cr_assert(eq(u8, s.proto, 0));
	cr_assert(eq(u16, s.dport, 0));
	cr_assert(eq(u8, s.src_family, 0));
	cr_assert(eq(u8, s.direction, MM_DIR_ANY));
}

Test(deny_spec, protocols_by_name_and_number)
{
	static const struct {
		const char *text;
		__u8 proto;
	} cases[] = {
		{ "proto=tcp", IPPROTO_TCP },   { "proto=udp", IPPROTO_UDP },
		{ "proto=icmp", IPPROTO_ICMP }, { "proto=icmpv6", IPPROTO_ICMPV6 },
		{ "proto=6", 6 },               { "proto=17", 17 },
		{ "proto=47", 47 },             { "proto=255", 255 },
		{ "proto=sctp", IPPROTO_SCTP }, { "proto=TCP", IPPROTO_TCP },
		{ "proto=gre", IPPROTO_GRE },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mm_deny_spec s = parse_ok(cases[i].text, 1);

		cr_assert(eq(u8, s.proto, cases[i].proto), "%s", cases[i].text);
	}
}

Test(deny_spec, directions)
{
	cr_assert(eq(u8, parse_ok("dir=ingress", 1).direction, MM_DIR_INGRESS));
	cr_assert(eq(u8, parse_ok("dir=egress", 1).direction, MM_DIR_EGRESS));
	cr_assert(eq(u8, parse_ok("dir=any", 1).direction, MM_DIR_ANY));
}

Test(deny_spec, ipv4_and_ipv6_cidrs_and_hosts)
{
	struct mm_deny_spec s;

	s = parse_ok("src=192.168.1.7", 1);
	cr_assert(eq(u8, s.src_family, MM_FAMILY_IPV4));
	cr_assert(eq(u8, s.src_prefix, 32), "a host address is a /32");
	addr_is(s.src_addr, MM_FAMILY_IPV4, "192.168.1.7");

	s = parse_ok("dst=0.0.0.0/0", 1);
	cr_assert(eq(u8, s.dst_family, MM_FAMILY_IPV4));
	cr_assert(eq(u8, s.dst_prefix, 0));

	s = parse_ok("src=fd00:199::/64", 1);
	cr_assert(eq(u8, s.src_family, MM_FAMILY_IPV6));
	cr_assert(eq(u8, s.src_prefix, 64));
	addr_is(s.src_addr, MM_FAMILY_IPV6, "fd00:199::");

	s = parse_ok("dst=fd00:199::2", 1);
	cr_assert(eq(u8, s.dst_family, MM_FAMILY_IPV6));
	cr_assert(eq(u8, s.dst_prefix, 128), "a host address is a /128");
	addr_is(s.dst_addr, MM_FAMILY_IPV6, "fd00:199::2");

	s = parse_ok("dst=::/0,proto=icmpv6", 1);
	cr_assert(eq(u8, s.dst_family, MM_FAMILY_IPV6));
	cr_assert(eq(u8, s.dst_prefix, 0));

	s = parse_ok("src=10.0.0.0/32,dst=10.0.0.0/0", 1);
	cr_assert(eq(u8, s.src_prefix, 32));
	cr_assert(eq(u8, s.dst_prefix, 0));
	s = parse_ok("src=2001:db8::/128,dst=fd00::/8", 1);
	cr_assert(eq(u8, s.src_prefix, 128));
	cr_assert(eq(u8, s.dst_prefix, 8));
}

Test(deny_spec, port_bounds)
{
	cr_assert(eq(u16, parse_ok("sport=1", 1).sport, 1));
	cr_assert(eq(u16, parse_ok("dport=65535", 1).dport, 65535));
	cr_assert(eq(u16, parse_ok("sport=443,dport=8443", 1).sport, 443));
}

static const char *const bad_inputs[] = {
	"foo=1",                       /* unknown key */
	"proto=tcp,bogus=2",           /* unknown key after a good one */
	"proto=tcp,proto=udp",         /* duplicate key */
	"dport=80,dport=80",           /* duplicate, even when equal */
	"src=10.0.0.0/8,src=10.0.0.0/8",
	"src=10.0.0.0/33",             /* prefix too long for IPv4 */
	"dst=fd00::/129",              /* prefix too long for IPv6 */
	"src=10.0.0.0/",               /* empty prefix */
	"src=10.0.0.0/-1",
	"src=10.0.0.0/8x",
	"src=300.1.2.3",               /* not an address */
	"dst=fd00:::1",
	"src=",                        /* empty value */
	"sport=0",                     /* port 0 means any: not writable */
	"dport=70000",                 /* out of range */
	"dport=65536",
	"dport=-1",
	"dport=80x",
	"dport=",
	"proto=bogus",
	"proto=256",
	"proto=-6",
	"dir=sideways",
	"dir=",
	"proto",                       /* no '=' */
	"=tcp",                        /* no key */
	"proto=tcp;dport=80",          /* wrong separator */
	"proto=tcp dport=80",
	"garbage",
	"src=10.0.0.0/8/8",
	"src=10.0.0.0/8,dst=fd00::/8", /* families differ: could never match */
};

Test(deny_spec, rejects_bad_input_with_a_message)
{
	for (size_t i = 0; i < sizeof(bad_inputs) / sizeof(bad_inputs[0]); i++) {
		struct mm_deny_spec s;
		char err[256] = "";
		int ret = mm_deny_spec__parse(bad_inputs[i], 1, &s, err, sizeof(err));

		cr_expect(eq(int, ret, -EINVAL), "\"%s\" accepted", bad_inputs[i]);
		cr_expect(gt(sz, strlen(err), 0), "\"%s\": no message", bad_inputs[i]);
	}
}

Test(deny_spec, message_fits_a_small_buffer)
{
	struct mm_deny_spec s;
	char err[8];

	memset(err, 'x', sizeof(err));
	cr_assert(eq(int, mm_deny_spec__parse("nosuchkey=1", 1, &s, err, sizeof(err)), -EINVAL));
	cr_assert(ne(ptr, memchr(err, '\0', sizeof(err)), NULL), "message is terminated");
}
