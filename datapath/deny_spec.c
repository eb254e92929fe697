// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The deny rule text format:
 *   "proto=tcp,src=10.0.0.0/8,dst=10.1.0.2/32,sport=1,dport=8080,dir=ingress"
 * Every key is optional and may appear once. proto: tcp, udp, icmp, icmpv6 or
 * a number 0-255; src/dst: an IPv4 or IPv6 address, optionally /prefix (none
 * means a host); sport/dport: 1-65535; dir: ingress, egress or any.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datapath.h"
#include "textparse.h"

/* An invalid rule: the reason in err. */
#define fail(err, errlen, ...) mm_errorf(err, errlen, -EINVAL, __VA_ARGS__)

static int parse_cidr(const char *s, __u8 *family, __u8 *addr, __u8 *prefix)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	uint64_t p, max;

	if (alen == 0 || alen >= sizeof(buf))
		return -1;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr) == 1) {
		*family = MM_FAMILY_IPV4;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, addr) == 1) {
		*family = MM_FAMILY_IPV6;
		max = 128;
	} else {
		return -1;
	}
	if (!slash) {
		*prefix = max;
		return 0;
	}
	if (mm_parse_u64(slash + 1, 0, max, &p))
		return -1;
	*prefix = p;
	return 0;
}

int mm_deny_spec__parse(const char *text, __u32 id, struct mm_deny_spec *out, char *err,
			size_t errlen)
{
	enum { K_PROTO, K_SRC, K_DST, K_SPORT, K_DPORT, K_DIR, K_MAX };
	static const char *const keys[K_MAX] = {"proto", "src", "dst", "sport", "dport", "dir"};
	struct mm_deny_spec spec = {.id = id};
	int seen[K_MAX] = {0};
	char *copy, *save = NULL, *tok;
	int ret = 0;

	if (err && errlen)
		err[0] = '\0';
	if (!text || !out)
		return fail(err, errlen, "no deny rule given");
	copy = strdup(text);
	if (!copy)
		return -ENOMEM;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *val = strchr(tok, '=');
		uint64_t v;
		int k;

		if (!val) {
			ret = fail(err, errlen, "deny rule: '%s' is not key=value", tok);
			goto out;
		}
		*val++ = '\0';
		for (k = 0; k < K_MAX; k++)
			if (!strcmp(tok, keys[k]))
				break;
		if (k == K_MAX) {
			ret =
			    fail(err, errlen,
				 "deny rule: unknown key '%s' (proto, src, dst, sport, dport, dir)",
				 tok);
			goto out;
		}
		if (seen[k]++) {
			ret = fail(err, errlen, "deny rule: key '%s' given twice", tok);
			goto out;
		}
		switch (k) {
		case K_PROTO:
			if (!strcmp(val, "tcp"))
				spec.proto = IPPROTO_TCP;
			else if (!strcmp(val, "udp"))
				spec.proto = IPPROTO_UDP;
			else if (!strcmp(val, "icmp"))
				spec.proto = IPPROTO_ICMP;
			else if (!strcmp(val, "icmpv6"))
				spec.proto = IPPROTO_ICMPV6;
			else if (!mm_parse_u64(val, 0, 255, &v))
				spec.proto = v;
			else
				ret = fail(
				    err, errlen,
				    "deny rule: bad proto '%s' (tcp, udp, icmp, icmpv6 or 0-255)",
				    val);
			break;
		case K_SRC:
			if (parse_cidr(val, &spec.src_family, spec.src_addr, &spec.src_prefix))
				ret = fail(err, errlen, "deny rule: bad src address '%s'", val);
			break;
		case K_DST:
			if (parse_cidr(val, &spec.dst_family, spec.dst_addr, &spec.dst_prefix))
				ret = fail(err, errlen, "deny rule: bad dst address '%s'", val);
			break;
		case K_SPORT:
		case K_DPORT:
			if (mm_parse_u64(val, 1, 65535, &v))
				ret = fail(err, errlen, "deny rule: bad %s '%s' (1-65535)", keys[k],
					   val);
			else if (k == K_SPORT)
				spec.sport = v;
			else
				spec.dport = v;
			break;
		case K_DIR:
			if (!strcmp(val, "ingress"))
				spec.direction = MM_DIR_INGRESS;
			else if (!strcmp(val, "egress"))
				spec.direction = MM_DIR_EGRESS;
			else if (!strcmp(val, "any"))
				spec.direction = MM_DIR_ANY;
			else
				ret = fail(err, errlen,
					   "deny rule: bad dir '%s' (ingress, egress or any)", val);
			break;
		}
		if (ret)
			goto out;
	}
	if (spec.src_family && spec.dst_family && spec.src_family != spec.dst_family) {
		ret = fail(err, errlen, "deny rule: src and dst are of different address families");
		goto out;
	}
	*out = spec;
out:
	free(copy);
	return ret;
}
