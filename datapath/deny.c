// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Deny rules on the userspace side (deny.h): the text format users give,
 *   "proto=tcp,src=10.0.0.0/8,dst=10.1.0.2/32,sport=1,dport=8080,dir=ingress"
 * (every key optional, at most once; proto: a name of lib/ipproto.h or a
 * number 0-255; src/dst: an IPv4 or IPv6 address, optionally /prefix, none
 * meaning a host; sport/dport: 1-65535; dir: ingress, egress or any), and the
 * compilation of a rule set into the maps that deny.bpf.h matches against.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "cidr.h"
#include "deny.h"
#include "ipproto.h"
#include "names.h"
#include "textparse.h"

/* An invalid rule: the reason in err. */
#define fail(err, errlen, ...) mm_errorf(err, errlen, -EINVAL, __VA_ARGS__)

static int parse_cidr(const char *s, __u8 *family, __u8 *addr, __u8 *prefix)
{
	struct mm_cidr c;

	if (mm_cidr_parse(s, strlen(s), 0, &c))
		return -1;
	*family = c.family;
	memcpy(addr, c.addr, 16);
	*prefix = c.prefix_len;
	return 0;
}

enum deny_key { K_PROTO, K_SRC, K_DST, K_SPORT, K_DPORT, K_DIR, K_MAX };
static const char *const deny_keys[K_MAX] = {"proto", "src", "dst", "sport", "dport", "dir"};

/* The value of one key into spec: 0, or -EINVAL with the reason in err. */
static int parse_value(struct mm_deny_spec *spec, enum deny_key k, const char *val, char *err,
		       size_t errlen)
{
	uint64_t v;
	int dir;

	switch (k) {
	case K_PROTO:
		if (mm_ip_proto_parse(val, &spec->proto))
			return fail(err, errlen,
				    "deny rule: bad proto '%s' (tcp, udp, icmp, icmpv6 or 0-255)", val);
		return 0;
	case K_SRC:
		if (parse_cidr(val, &spec->src_family, spec->src_addr, &spec->src_prefix))
			return fail(err, errlen, "deny rule: bad src address '%s'", val);
		return 0;
	case K_DST:
		if (parse_cidr(val, &spec->dst_family, spec->dst_addr, &spec->dst_prefix))
			return fail(err, errlen, "deny rule: bad dst address '%s'", val);
		return 0;
	case K_SPORT:
	case K_DPORT:
		if (mm_parse_u64(val, 1, 65535, &v))
			return fail(err, errlen, "deny rule: bad %s '%s' (1-65535)", deny_keys[k],
				    val);
		if (k == K_SPORT)
			spec->sport = v;
		else
			spec->dport = v;
		return 0;
	case K_DIR:
		dir = mm_direction_parse(val);
		if (dir < 0)
			return fail(err, errlen, "deny rule: bad dir '%s' (ingress, egress or any)",
				    val);
		spec->direction = (__u8)dir;
		return 0;
	default:
		return -EINVAL;
	}
}

/* One "key=value" token (modified in place) into spec; seen counts keys given. */
static int parse_token(struct mm_deny_spec *spec, char *tok, int *seen, char *err, size_t errlen)
{
	char *val = strchr(tok, '=');
	int k;

	if (!val)
		return fail(err, errlen, "deny rule: '%s' is not key=value", tok);
	*val++ = '\0';
	for (k = 0; k < K_MAX; k++)
		if (!strcmp(tok, deny_keys[k]))
			break;
	if (k == K_MAX)
		return fail(err, errlen,
			    "deny rule: unknown key '%s' (proto, src, dst, sport, dport, dir)", tok);
	if (seen[k]++)
		return fail(err, errlen, "deny rule: key '%s' given twice", tok);
	return parse_value(spec, (enum deny_key)k, val, err, errlen);
}

int mm_deny_spec__parse(const char *text, __u32 id, struct mm_deny_spec *out, char *err,
			size_t errlen)
{
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
	for (tok = strtok_r(copy, ",", &save); tok && !ret; tok = strtok_r(NULL, ",", &save))
		ret = parse_token(&spec, tok, seen, err, errlen);
	if (!ret && spec.src_family && spec.dst_family && spec.src_family != spec.dst_family)
		ret = fail(err, errlen, "deny rule: src and dst are of different address families");
	if (!ret)
		*out = spec;
	free(copy);
	return ret;
}

/* --- compiling a rule set into the maps --------------------------------- */

struct lpm_prefix {
	struct mm_lpm_key key;
	__u64 bits;
};

/* The rule's prefix as a 128-bit LPM key; ::/0 when unconstrained. */
static void lpm_of_rule(struct mm_lpm_key *k, __u8 family, const __u8 *addr, __u8 prefix)
{
	memset(k, 0, sizeof(*k));
	if (family == MM_FAMILY_IPV4) {
		k->addr[10] = 0xff;
		k->addr[11] = 0xff;
		memcpy(&k->addr[12], addr, 4);
		k->prefixlen = 96u + prefix;
	} else if (family == MM_FAMILY_IPV6) {
		memcpy(k->addr, addr, 16);
		k->prefixlen = prefix;
	}
	mm_prefix_mask(k->addr, sizeof(k->addr), k->prefixlen);
}

/* Whether prefix outer contains prefix inner. */
static bool lpm_contains(const struct mm_lpm_key *outer, const struct mm_lpm_key *inner)
{
	return outer->prefixlen <= inner->prefixlen &&
	       mm_prefix_match(outer->addr, outer->prefixlen, inner->addr);
}

static int lpm_clear(int fd)
{
	struct mm_lpm_key key, next;

	/* Deleting the first key each time: a trie's key order shifts under deletion. */
	while (!bpf_map_get_next_key(fd, NULL, &next)) {
		key = next;
		if (bpf_map_delete_elem(fd, &key))
			return -errno;
	}
	return 0;
}

/* Write the trie for one side (src or dst) of every rule. */
static int lpm_build(int fd, const struct mm_lpm_key *keys, const bool *constrained, size_t n)
{
	struct lpm_prefix all[MM_DENY_MAX + 1];
	size_t n_all = 0, i, j;
	int err;

	err = lpm_clear(fd);
	if (err)
		return err;
	memset(all, 0, sizeof(all));
	/* ::/0 always, so that unconstrained rules match every address. */
	n_all = 1;
	for (i = 0; i < n; i++) {
		if (!constrained[i])
			continue;
		for (j = 0; j < n_all; j++)
			if (!memcmp(&all[j].key, &keys[i], sizeof(keys[i])))
				break;
		if (j == n_all)
			all[n_all++].key = keys[i];
	}
	for (j = 0; j < n_all; j++) {
		for (i = 0; i < n; i++)
			if (!constrained[i] || lpm_contains(&keys[i], &all[j].key))
				all[j].bits |= 1ull << i;
		if (bpf_map_update_elem(fd, &all[j].key, &all[j].bits, BPF_ANY))
			return -errno;
	}
	return 0;
}

static int deny_spec_check(const struct mm_deny_spec *r)
{
	if (!r->id || r->direction > MM_DIR_EGRESS)
		return -EINVAL;
	if (r->src_family && r->src_family != MM_FAMILY_IPV4 && r->src_family != MM_FAMILY_IPV6)
		return -EINVAL;
	if (r->dst_family && r->dst_family != MM_FAMILY_IPV4 && r->dst_family != MM_FAMILY_IPV6)
		return -EINVAL;
	if (r->src_family && r->dst_family && r->src_family != r->dst_family)
		return -EINVAL;
	if (r->src_family && r->src_prefix > (r->src_family == MM_FAMILY_IPV4 ? 32 : 128))
		return -EINVAL;
	if (r->dst_family && r->dst_prefix > (r->dst_family == MM_FAMILY_IPV4 ? 32 : 128))
		return -EINVAL;
	return 0;
}

int mm_deny__write_maps(int rules_fd, int src_fd, int dst_fd, const struct mm_deny_spec *rules,
			size_t n)
{
	struct mm_lpm_key src[MM_DENY_MAX], dst[MM_DENY_MAX];
	bool src_c[MM_DENY_MAX], dst_c[MM_DENY_MAX];
	int err;
	__u32 i;

	if (n && !rules)
		return -EINVAL;
	if (n > MM_DENY_MAX)
		return -E2BIG;
	for (i = 0; i < n; i++) {
		err = deny_spec_check(&rules[i]);
		if (err)
			return err;
		lpm_of_rule(&src[i], rules[i].src_family, rules[i].src_addr, rules[i].src_prefix);
		lpm_of_rule(&dst[i], rules[i].dst_family, rules[i].dst_addr, rules[i].dst_prefix);
		src_c[i] = rules[i].src_family != 0;
		dst_c[i] = rules[i].dst_family != 0;
	}

	/*
	 * Clear the rule slots first: while the tries are rewritten a packet
	 * may see a stale bitmap, and an empty slot (id 0) never matches.
	 */
	for (i = 0; i < MM_DENY_MAX; i++) {
		struct mm_deny_rule empty = {};

		if (bpf_map_update_elem(rules_fd, &i, &empty, BPF_ANY))
			return -errno;
	}
	err = lpm_build(src_fd, src, src_c, n);
	if (err)
		return err;
	err = lpm_build(dst_fd, dst, dst_c, n);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		struct mm_deny_rule r = {
		    .id = rules[i].id,
		    .proto = rules[i].proto,
		    .direction = rules[i].direction,
		    .sport = rules[i].sport,
		    .dport = rules[i].dport,
		    .family = rules[i].src_family ? rules[i].src_family : rules[i].dst_family,
		};

		if (bpf_map_update_elem(rules_fd, &i, &r, BPF_ANY))
			return -errno;
	}
	return 0;
}
