// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fuzz_deny: the deny rule parser, mm_deny_spec__parse() (datapath/deny.h,
 * linked from the datapath library with libbpf; only the parser runs). The
 * first input byte is the size of the error buffer (0: none; the buffer is
 * exactly that big, so ASan sees a message written past it), the rest the
 * rule text.
 *
 * Invariants: 0, -EINVAL with a message, or -ENOMEM; a parsed rule has known
 * families and a direction of the table, prefixes within its families, one
 * family for both sides, and prints back as rule text that parses to the same
 * rule.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "deny.h"
#include "names.h"
#include "records.h"

static int side_text(char *buf, size_t cap, const char *key, __u8 family, const __u8 *addr,
		     __u8 prefix)
{
	char a[INET6_ADDRSTRLEN];

	if (!family)
		return 0;
	if (!inet_ntop(family == MM_FAMILY_IPV4 ? AF_INET : AF_INET6, addr, a, sizeof(a)))
		abort();
	return snprintf(buf, cap, ",%s=%s/%u", key, a, prefix);
}

/* The rule as text that mm_deny_spec__parse() reads back. */
static void rule_text(const struct mm_deny_spec *r, char *buf, size_t cap)
{
	size_t n = 0;

	n += (size_t)snprintf(buf + n, cap - n, "proto=%u,dir=%s", r->proto,
			      mm_direction_name(r->direction));
	n += (size_t)side_text(buf + n, cap - n, "src", r->src_family, r->src_addr, r->src_prefix);
	n += (size_t)side_text(buf + n, cap - n, "dst", r->dst_family, r->dst_addr, r->dst_prefix);
	if (r->sport)
		n += (size_t)snprintf(buf + n, cap - n, ",sport=%u", r->sport);
	if (r->dport)
		snprintf(buf + n, cap - n, ",dport=%u", r->dport);
}

/* Field by field: the struct has tail padding. */
static bool same_rule(const struct mm_deny_spec *a, const struct mm_deny_spec *b)
{
	return a->id == b->id && a->proto == b->proto && a->direction == b->direction &&
	       a->src_family == b->src_family && a->dst_family == b->dst_family &&
	       !memcmp(a->src_addr, b->src_addr, 16) && !memcmp(a->dst_addr, b->dst_addr, 16) &&
	       a->src_prefix == b->src_prefix && a->dst_prefix == b->dst_prefix &&
	       a->sport == b->sport && a->dport == b->dport;
}

static void check_side(__u8 family, const __u8 *addr, __u8 prefix)
{
	if (!family) {
		for (int i = 0; i < 16; i++)
			FUZZ_CHECK(addr[i] == 0, "an address without a family");
		FUZZ_CHECK(prefix == 0, "a prefix without a family");
		return;
	}
	FUZZ_CHECK(family == MM_FAMILY_IPV4 || family == MM_FAMILY_IPV6, "family %u", family);
	FUZZ_CHECK(prefix <= (family == MM_FAMILY_IPV4 ? 32 : 128), "prefix %u", prefix);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mm_deny_spec spec, again;
	char *text, *err, back[256], err2[160];
	size_t errlen;
	int ret;

	if (size < 1)
		return 0;
	errlen = data[0];
	text = malloc(size);
	err = errlen ? malloc(errlen) : NULL;
	if (!text || (errlen && !err))
		abort();
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	memset(&spec, 0xa5, sizeof(spec));
	ret = mm_deny_spec__parse(text, 7, &spec, err, errlen);
	FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -ENOMEM, "returned %d", ret);
	if (err)
		FUZZ_CHECK(memchr(err, '\0', errlen) != NULL, "err not terminated");
	if (ret == -EINVAL && errlen > 1)
		FUZZ_CHECK(err[0] != '\0', "'%s' refused without a message", text);
	if (ret == 0) {
		FUZZ_CHECK(spec.id == 7, "id %u", spec.id);
		FUZZ_CHECK(mm_direction_name(spec.direction) != NULL, "direction %u",
			   spec.direction);
		check_side(spec.src_family, spec.src_addr, spec.src_prefix);
		check_side(spec.dst_family, spec.dst_addr, spec.dst_prefix);
		FUZZ_CHECK(!spec.src_family || !spec.dst_family ||
				   spec.src_family == spec.dst_family,
			   "src family %u, dst family %u", spec.src_family, spec.dst_family);
		rule_text(&spec, back, sizeof(back));
		ret = mm_deny_spec__parse(back, 7, &again, err2, sizeof(err2));
		FUZZ_CHECK(ret == 0, "'%s' printed as '%s', which fails: %s", text, back, err2);
		FUZZ_CHECK(same_rule(&spec, &again), "'%s' and '%s' differ", text, back);
	}
	free(err);
	free(text);
	return 0;
}
