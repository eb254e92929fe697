// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * lib/: the shared parsers of user input. CIDRs (both families, forced
 * family, prefix bounds), prefix masking and matching, IP protocol names (one
 * table: every name parses back to its number, any case, numbers 0-255), and
 * the protocol header's loss-source names, and durations and RFC 3339 times.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "cidr.h"
#include "ipproto.h"
#include "textparse.h"
#include "protocol.h"
#include "records.h"

static int cidr(const char *s, int family, struct mm_cidr *c)
{
	return mm_cidr_parse(s, strlen(s), family, c);
}

Test(cidr, parses_both_families_with_and_without_prefix)
{
	static const struct {
		const char *text;
		int family, want_family;
		unsigned int prefix;
		const char *addr;
	} cases[] = {
		{"10.1.2.3", 0, MM_FAMILY_IPV4, 32, "10.1.2.3"},
		{"10.0.0.0/8", 0, MM_FAMILY_IPV4, 8, "10.0.0.0"},
		{"10.1.2.3/0", MM_FAMILY_IPV4, MM_FAMILY_IPV4, 0, "10.1.2.3"},
		{"fd00::1", 0, MM_FAMILY_IPV6, 128, "fd00::1"},
		{"fd00::/64", MM_FAMILY_IPV6, MM_FAMILY_IPV6, 64, "fd00::"},
		{"::/0", 0, MM_FAMILY_IPV6, 0, "::"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mm_cidr c;
		uint8_t want[16] = {0};

		cr_assert(eq(int, cidr(cases[i].text, cases[i].family, &c), 0), "%s",
			  cases[i].text);
		cr_expect(eq(u8, c.family, cases[i].want_family), "%s", cases[i].text);
		cr_expect(eq(u8, c.prefix_len, cases[i].prefix), "%s", cases[i].text);
		inet_pton(cases[i].want_family == MM_FAMILY_IPV4 ? AF_INET : AF_INET6,
			  cases[i].addr, want);
		cr_expect(zero(memcmp(c.addr, want, 16)), "%s", cases[i].text);
	}
}

Test(cidr, rejects_bad_text_and_the_wrong_family)
{
	static const struct {
		const char *text;
		int family;
	} bad[] = {
		{"", 0},           {"/8", 0},          {"10.0.0.0/", 0},   {"10.0.0.0/33", 0},
		{"10.0.0.0/-1", 0}, {"10.0.0.0/ 8", 0}, {"10.0.0/8", 0},    {"fd00::/129", 0},
		{"host", 0},        {"10.0.0.1", MM_FAMILY_IPV6},           {"fd00::1", MM_FAMILY_IPV4},
		{"10.0.0.1/8/8", 0},
	};
	struct mm_cidr c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect(eq(int, cidr(bad[i].text, bad[i].family, &c), -EINVAL), "'%s'",
			  bad[i].text);
	cr_expect(eq(int, mm_cidr_parse(NULL, 0, 0, &c), -EINVAL));
	/* only len bytes are read: "10.0.0.1:80" cut before the colon is an address */
	cr_expect(eq(int, mm_cidr_parse("10.0.0.1:80", 8, 0, &c), 0));
	cr_expect(eq(u8, c.prefix_len, 32));
}

Test(cidr, mask_clears_every_bit_after_the_prefix)
{
	static const struct {
		unsigned int prefix;
		uint8_t want[4];
	} cases[] = {
		{32, {0xff, 0xff, 0xff, 0xff}}, {24, {0xff, 0xff, 0xff, 0x00}},
		{20, {0xff, 0xff, 0xf0, 0x00}}, {9, {0xff, 0x80, 0x00, 0x00}},
		{1, {0x80, 0x00, 0x00, 0x00}},  {0, {0x00, 0x00, 0x00, 0x00}},
		{15, {0xff, 0xfe, 0x00, 0x00}}, {31, {0xff, 0xff, 0xff, 0xfe}},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t a[4] = {0xff, 0xff, 0xff, 0xff};

		mm_prefix_mask(a, sizeof(a), cases[i].prefix);
		cr_expect(zero(memcmp(a, cases[i].want, 4)), "/%u", cases[i].prefix);
	}
}

Test(cidr, match_compares_only_the_prefix)
{
	uint8_t net[16], in[16], out[16];

	inet_pton(AF_INET6, "fd00:1:2:3::", net);
	inet_pton(AF_INET6, "fd00:1:2:3::99", in);
	inet_pton(AF_INET6, "fd00:1:2:4::1", out);
	cr_expect(mm_prefix_match(net, 64, in));
	cr_expect(not(mm_prefix_match(net, 64, out)));
	cr_expect(mm_prefix_match(net, 61, out)); /* 3 and 4 differ in bit 62 */
	cr_expect(not(mm_prefix_match(net, 62, out)));
	cr_expect(mm_prefix_match(net, 0, out));
	cr_expect(not(mm_prefix_match(net, 128, in)));
	cr_expect(mm_prefix_match(in, 128, in));
}

Test(ipproto, every_name_parses_back_to_its_number_in_any_case)
{
	static const struct {
		const char *name;
		unsigned int num;
	} table[] = {
#define X(name, num, text) {text, num},
		MM_IP_PROTOS(X)
#undef X
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		char upper[16];
		uint8_t p = 0;

		cr_expect(eq(str, (char *)mm_ip_proto_name(table[i].num), (char *)table[i].name));
		cr_expect(eq(int, mm_ip_proto_parse(table[i].name, &p), 0), "%s", table[i].name);
		cr_expect(eq(u8, p, table[i].num), "%s", table[i].name);
		for (size_t k = 0; k <= strlen(table[i].name); k++)
			upper[k] = (char)(table[i].name[k] >= 'a' && table[i].name[k] <= 'z'
						  ? table[i].name[k] - 32
						  : table[i].name[k]);
		p = 0;
		cr_expect(eq(int, mm_ip_proto_parse(upper, &p), 0), "%s", upper);
		cr_expect(eq(u8, p, table[i].num), "%s", upper);
	}
}

Test(ipproto, numbers_and_unknown_names)
{
	uint8_t p = 7;

	cr_expect(eq(int, mm_ip_proto_parse("sctp", &p), 0));
	cr_expect(eq(u8, p, IPPROTO_SCTP));
	cr_expect(eq(int, mm_ip_proto_parse("0", &p), 0));
	cr_expect(eq(u8, p, 0));
	cr_expect(eq(int, mm_ip_proto_parse("255", &p), 0));
	cr_expect(eq(u8, p, 255));
	p = 7;
	cr_expect(eq(int, mm_ip_proto_parse("256", &p), -EINVAL));
	cr_expect(eq(int, mm_ip_proto_parse("-1", &p), -EINVAL));
	cr_expect(eq(int, mm_ip_proto_parse("tcpx", &p), -EINVAL));
	cr_expect(eq(int, mm_ip_proto_parse("", &p), -EINVAL));
	cr_expect(eq(int, mm_ip_proto_parse(NULL, &p), -EINVAL));
	cr_expect(eq(u8, p, 7), "a failed parse leaves the output alone");
	cr_expect(eq(ptr, (void *)mm_ip_proto_name(253), NULL));
}

Test(protocol, loss_source_names_and_keys)
{
	cr_expect(eq(str, (char *)mm_loss_source_name(3), "rate limit"));
	cr_expect(eq(str, (char *)mm_loss_source_key(3), "rate_limit"));
	cr_expect(eq(str, (char *)mm_loss_source_name(1), "datapath"));
	cr_expect(eq(str, (char *)mm_loss_source_key(4), "queue"));
	cr_expect(eq(str, (char *)mm_loss_source_name(0), "unknown"));
	cr_expect(eq(str, (char *)mm_loss_source_key(MM_LOSS_SOURCES), "unknown"));
#define X(name, value, display, key) cr_expect(lt(int, value, MM_LOSS_SOURCES), #name);
	MM_LOSS_SOURCE_TABLE(X)
#undef X
}

Test(textparse, durations)
{
	uint64_t v = 7;

	cr_assert(eq(int, mm_parse_duration_ns("30s", &v), 0));
	cr_expect(eq(u64, v, 30000000000ull));
	cr_assert(eq(int, mm_parse_duration_ns("5m", &v), 0));
	cr_expect(eq(u64, v, 300000000000ull));
	cr_assert(eq(int, mm_parse_duration_ns("2h", &v), 0));
	cr_expect(eq(u64, v, 7200000000000ull));
	cr_assert(eq(int, mm_parse_duration_ns("1d", &v), 0));
	cr_expect(eq(u64, v, 86400000000000ull));
	cr_assert(eq(int, mm_parse_duration_ns("1h30m5s", &v), 0));
	cr_expect(eq(u64, v, 5405000000000ull));
	v = 7;
	static const char *const bad[] = { "", "s", "5", "5x", "-5s", " 5s", "5s ", "0s", "5S",
					   "1.5h", "99999999999999999999s", "106752d" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect(eq(int, mm_parse_duration_ns(bad[i], &v), -EINVAL), "'%s'", bad[i]);
	cr_expect(eq(u64, v, 7), "left alone on error");
}

Test(textparse, times)
{
	const uint64_t now = 1796144400ull * 1000000000ull; /* 2026-12-01T17:00:00Z */
	uint64_t v = 7;

	cr_assert(eq(int, mm_parse_time_ns("2026-12-01T17:00:00Z", now, &v), 0));
	cr_expect(eq(u64, v, now));
	cr_assert(eq(int, mm_parse_time_ns("2026-12-01t17:00:00.123456789z", now, &v), 0));
	cr_expect(eq(u64, v, now + 123456789));
	cr_assert(eq(int, mm_parse_time_ns("2026-12-01 18:30:00.5+01:30", now, &v), 0));
	cr_expect(eq(u64, v, now + 500000000));
	cr_assert(eq(int, mm_parse_time_ns("2026-12-01T16:00:00-01:00", now, &v), 0));
	cr_expect(eq(u64, v, now));
	cr_assert(eq(int, mm_parse_time_ns("2026-12-01T17:00:00.1234567891Z", now, &v), 0));
	cr_expect(eq(u64, v, now + 123456789), "digits below 1 ns are dropped");
	cr_assert(eq(int, mm_parse_time_ns("2024-02-29T00:00:00Z", now, &v), 0));
	cr_expect(eq(u64, v, 1709164800ull * 1000000000ull));
	cr_assert(eq(int, mm_parse_time_ns("5m", now, &v), 0));
	cr_expect(eq(u64, v, now - 300000000000ull), "a duration: that long ago");
	v = 7;
	static const char *const bad[] = {
		"2026-12-01T17:00:00", "2026-12-01", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z",
		"2026-12-01T24:00:00Z", "2026-12-01T17:60:00Z", "2026-12-01T17:00:60Z",
		"2026-12-01T17:00:00.Z", "2026-12-01T17:00:00+0100", "2026-12-01T17:00:00Zx",
		"1969-12-31T23:59:59Z", "26-12-01T17:00:00Z", "2026/12/01T17:00:00Z", "yesterday",
		"60000d",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect(eq(int, mm_parse_time_ns(bad[i], now, &v), -EINVAL), "'%s'", bad[i]);
	cr_expect(eq(u64, v, 7), "left alone on error");
}
