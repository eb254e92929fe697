// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fuzz_parsers: the parsers of user input in lib/ (and the table name
 * parsers of abi/names.h). The first input byte picks one, the rest is its
 * text:
 *   0 mm_endpoint_parse()    1 mm_cidr_parse() (any bytes, a length, a family)
 *   2 mm_ip_proto_parse()    3 mm_parse_u64() (bounds from the input)
 *   4 mm_prefix_mask() / mm_prefix_match()
 *   5 mm_event_type_parse(), mm_trace_point_parse(), mm_aggregation_parse(),
 *     mm_direction_parse()
 *   6 mm_parse_time_ns() (RFC 3339 or a duration ago; mm_parse_duration_ns())
 * Invariants: what parses prints back (addresses with inet_ntop, numbers with
 * %u, names from the tables) and parses again to the same value; prefixes and
 * ports are in range; a masked address matches its own prefix, masking twice
 * changes nothing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "cidr.h"
#include "endpoint.h"
#include "ipproto.h"
#include "names.h"
#include "records.h"
#include "textparse.h"

/* The address and prefix back as text ("10.0.0.0/8", "fd00::1/128"). */
static void cidr_text(const uint8_t *addr, size_t alen, unsigned int plen, char *buf, size_t cap)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(alen == 4 ? AF_INET : AF_INET6, addr, a, sizeof(a)))
		abort();
	snprintf(buf, cap, "%s/%u", a, plen);
}

static void endpoint(const char *s)
{
	struct mm_endpoint ep, again;
	char text[96], addr[80];
	int ret = mm_endpoint_parse(s, &ep);

	FUZZ_CHECK(ret == 0 || ret == -EINVAL, "returned %d", ret);
	if (ret)
		return;
	FUZZ_CHECK(ep.addr_len == 0 || ep.addr_len == 4 || ep.addr_len == 16, "addr_len %zu",
		   ep.addr_len);
	FUZZ_CHECK(ep.port <= 65535, "port %u", ep.port);
	FUZZ_CHECK(ep.addr_len || ep.port, "'%s': neither address nor port", s);
	if (ep.addr_len)
		FUZZ_CHECK(ep.prefix_len <= ep.addr_len * 8, "prefix %u", ep.prefix_len);
	if (!ep.addr_len)
		snprintf(text, sizeof(text), ":%u", ep.port);
	else {
		cidr_text(ep.addr, ep.addr_len, ep.prefix_len, addr, sizeof(addr));
		if (!ep.port)
			snprintf(text, sizeof(text), "%s", addr);
		else if (ep.addr_len == 16)
			snprintf(text, sizeof(text), "[%s]:%u", addr, ep.port);
		else
			snprintf(text, sizeof(text), "%s:%u", addr, ep.port);
	}
	FUZZ_CHECK(mm_endpoint_parse(text, &again) == 0, "'%s' printed as '%s', which fails", s,
		   text);
	FUZZ_CHECK(!memcmp(&ep, &again, sizeof(ep)), "'%s' and '%s' differ", s, text);
}

static void cidr(const uint8_t *data, size_t size)
{
	static const int families[3] = { 0, MM_FAMILY_IPV4, MM_FAMILY_IPV6 };
	struct mm_cidr c, again;
	char text[80];
	size_t alen;
	int family, ret;

	if (size < 1)
		return;
	family = families[data[0] % 3];
	ret = mm_cidr_parse((const char *)data + 1, size - 1, family, &c);
	FUZZ_CHECK(ret == 0 || ret == -EINVAL, "returned %d", ret);
	if (ret)
		return;
	FUZZ_CHECK(c.family == MM_FAMILY_IPV4 || c.family == MM_FAMILY_IPV6, "family %u", c.family);
	FUZZ_CHECK(!family || c.family == family, "family %u when %d was asked", c.family, family);
	alen = c.family == MM_FAMILY_IPV4 ? 4 : 16;
	FUZZ_CHECK(c.prefix_len <= alen * 8, "prefix %u", c.prefix_len);
	for (size_t i = alen; i < 16; i++)
		FUZZ_CHECK(c.addr[i] == 0, "byte %zu of an IPv4 address set", i);
	cidr_text(c.addr, alen, c.prefix_len, text, sizeof(text));
	FUZZ_CHECK(mm_cidr_parse(text, strlen(text), family, &again) == 0,
		   "printed as '%s', which fails", text);
	FUZZ_CHECK(!memcmp(&c, &again, sizeof(c)), "'%s' parses differently", text);
}

static void ip_proto(const char *s)
{
	uint8_t p = 0, again = 0;
	const char *name;
	char num[8];
	int ret = mm_ip_proto_parse(s, &p);

	FUZZ_CHECK(ret == 0 || ret == -EINVAL, "returned %d", ret);
	if (ret)
		return;
	name = mm_ip_proto_name(p);
	snprintf(num, sizeof(num), "%u", p);
	FUZZ_CHECK(mm_ip_proto_parse(num, &again) == 0 && again == p, "%u as a number", p);
	if (name)
		FUZZ_CHECK(mm_ip_proto_parse(name, &again) == 0 && again == p, "'%s'", name);
}

static void parse_u64(const uint8_t *data, size_t size, const char *s)
{
	uint64_t min, max, v = 0xdeadbeef, again;
	char text[24];
	int ret;

	if (size < 16)
		return;
	memcpy(&min, data, 8);
	memcpy(&max, data + 8, 8);
	/* Small bounds now and then, so that both edges are reached. */
	if (min >> 63)
		min &= 0xffff;
	if (max >> 63)
		max &= 0xffff;
	ret = mm_parse_u64(s, min, max, &v);
	FUZZ_CHECK(ret == 0 || ret == -EINVAL, "returned %d", ret);
	if (ret) {
		FUZZ_CHECK(v == 0xdeadbeef, "out written on failure");
		return;
	}
	FUZZ_CHECK(v >= min && v <= max, "%lu outside [%lu, %lu]", (unsigned long)v,
		   (unsigned long)min, (unsigned long)max);
	FUZZ_CHECK(strspn(s, "0123456789") == strlen(s), "'%s' is not all digits", s);
	snprintf(text, sizeof(text), "%lu", (unsigned long)v);
	FUZZ_CHECK(mm_parse_u64(text, min, max, &again) == 0 && again == v, "'%s'", text);
}

static void prefix(const uint8_t *data, size_t size)
{
	uint8_t addr[16] = { 0 }, masked[16], twice[16];
	unsigned int plen;
	size_t alen;

	if (size < 2)
		return;
	alen = data[0] & 1 ? 16 : 4;
	plen = data[1] % (alen * 8 + 1);
	memcpy(addr, data + 2, size - 2 < alen ? size - 2 : alen);
	memcpy(masked, addr, 16);
	mm_prefix_mask(masked, alen, plen);
	memcpy(twice, masked, 16);
	mm_prefix_mask(twice, alen, plen);
	FUZZ_CHECK(!memcmp(masked, twice, 16), "masking twice changed the address");
	FUZZ_CHECK(mm_prefix_match(masked, plen, addr), "/%u does not match its own address", plen);
	FUZZ_CHECK(mm_prefix_match(addr, plen, masked), "/%u: unmasked net", plen);
	FUZZ_CHECK(mm_prefix_match(addr, 0, twice), "/0 must match anything");
	for (size_t i = plen / 8 + (plen % 8 != 0); i < alen; i++)
		FUZZ_CHECK(masked[i] == 0, "byte %zu past /%u set", i, plen);
}

static void names(const char *s)
{
	int (*const parse[4])(const char *) = { mm_event_type_parse, mm_trace_point_parse,
						mm_aggregation_parse, mm_direction_parse };
	const char *(*const name[4])(unsigned int) = { mm_event_type_name, mm_trace_point_name,
						       mm_aggregation_name, mm_direction_name };

	for (int i = 0; i < 4; i++) {
		int v = parse[i](s);
		const char *n;

		if (v < 0) {
			FUZZ_CHECK(v == -1, "returned %d", v);
			continue;
		}
		n = name[i]((unsigned int)v);
		FUZZ_CHECK(n && !strcmp(n, s), "'%s' parsed to %d, named '%s'", s, v, n ? n : "");
	}
}

/* A time that parses prints back as RFC 3339 (UTC, ns) and parses again to itself. */
static void parse_time(const char *s)
{
	const uint64_t now = 1796144400ull * 1000000000ull;
	uint64_t v = 0xdeadbeef, again = 0;
	char text[64], day[32];
	struct tm tm;
	time_t t;
	int ret = mm_parse_time_ns(s, now, &v);

	FUZZ_CHECK(ret == 0 || ret == -EINVAL, "returned %d", ret);
	if (ret) {
		FUZZ_CHECK(v == 0xdeadbeef, "out written on failure");
		return;
	}
	t = (time_t)(v / 1000000000ull);
	FUZZ_CHECK(gmtime_r(&t, &tm) != NULL, "'%s': %lu", s, (unsigned long)v);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(text, sizeof(text), "%s.%09luZ", day, (unsigned long)(v % 1000000000ull));
	FUZZ_CHECK(mm_parse_time_ns(text, now, &again) == 0 && again == v, "'%s' printed as '%s'",
		   s, text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1)
		return 0;
	/* The text as a C string, as flags and config give it (stops at the first NUL). */
	s = malloc(size);
	if (!s)
		abort();
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 7) {
	case 0:
		endpoint(s);
		break;
	case 1:
		cidr(data + 1, size - 1);
		break;
	case 2:
		ip_proto(s);
		break;
	case 3:
		/* 16 bytes of bounds, then the text */
		if (size > 17)
			parse_u64(data + 1, size - 1, s + 16);
		break;
	case 4:
		prefix(data + 1, size - 1);
		break;
	case 5:
		names(s);
		break;
	case 6:
		parse_time(s);
		break;
	}
	free(s);
	return 0;
}
