/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Deny rules, userspace side: the rule as the user gives it, its text
 * parser, and the compilation of a rule set into the maps of deny.bpf.h
 * (the rule array and the two LPM tries).
 *
 * Errors: 0 or a negative errno.
 */
#ifndef MESHMON_DENY_H
#define MESHMON_DENY_H

#include <stddef.h>

#include "config.h"

/* A deny rule as the user gives it; ids are 1-based and user-visible. */
struct mm_deny_spec {
	__u32 id;
	__u8 proto;          /* 0 = any */
	__u8 direction;      /* enum mm_direction */
	__u8 src_family;     /* 0 = any source, else MM_FAMILY_IPV4 / MM_FAMILY_IPV6 */
	__u8 dst_family;
	__u8 src_addr[16];   /* IPv4 in the first 4 bytes, network byte order */
	__u8 dst_addr[16];
	__u8 src_prefix;     /* bits */
	__u8 dst_prefix;
	__u16 sport;         /* 0 = any */
	__u16 dport;
};

/*
 * Parse "proto=tcp,src=10.0.0.0/8,dst=10.1.0.2/32,sport=1,dport=8080,dir=ingress".
 * Every key is optional; returns 0 or -EINVAL with a message in err.
 */
int mm_deny_spec__parse(const char *text, __u32 id, struct mm_deny_spec *out, char *err,
			size_t errlen);

/*
 * Replace the rule set in the maps mm_deny_rules (rules_fd), mm_deny_src and
 * mm_deny_dst: -EINVAL for an invalid spec, -E2BIG for more than MM_DENY_MAX.
 */
int mm_deny__write_maps(int rules_fd, int src_fd, int dst_fd, const struct mm_deny_spec *rules,
			size_t n);

#endif /* MESHMON_DENY_H */
