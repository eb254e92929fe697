/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * IP protocol names, one table for every parser of user input (deny rules,
 * --proto) and every printer (text, JSON): X(NAME, number, "name").
 */
#ifndef MESHMON_IPPROTO_H
#define MESHMON_IPPROTO_H

#include <stdint.h>

#define MM_IP_PROTOS(X)          \
	X(ICMP, 1, "icmp")       \
	X(IGMP, 2, "igmp")       \
	X(TCP, 6, "tcp")         \
	X(UDP, 17, "udp")        \
	X(GRE, 47, "gre")        \
	X(ESP, 50, "esp")        \
	X(ICMPV6, 58, "icmpv6")  \
	X(SCTP, 132, "sctp")

/* The name of an IP protocol number, or NULL when the table has none. */
const char *mm_ip_proto_name(unsigned int proto);

/* A name from the table (any case) or a number 0-255: 0, or -EINVAL. */
int mm_ip_proto_parse(const char *s, uint8_t *out);

#endif /* MESHMON_IPPROTO_H */
