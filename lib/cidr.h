/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Addresses with a prefix length as users type them ("10.0.0.0/8",
 * "fd00::1"), and prefix masking: one definition for the deny rules, the
 * CLI's endpoints, the agent's filters and the datapath's LPM keys.
 */
#ifndef MESHMON_CIDR_H
#define MESHMON_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mm_cidr {
	uint8_t family;     /* MM_FAMILY_IPV4 or MM_FAMILY_IPV6 */
	uint8_t prefix_len; /* bits; a host (32 or 128) when none was given */
	uint8_t addr[16];   /* network order, IPv4 in the first 4 bytes, the rest zero;
			     * as typed, not masked */
};

/*
 * "ADDR" or "ADDR/LEN" in the first len bytes of s. family 0 accepts either
 * family; MM_FAMILY_IPV4 or MM_FAMILY_IPV6 accepts that one only. 0 or -EINVAL.
 */
int mm_cidr_parse(const char *s, size_t len, int family, struct mm_cidr *out);

/* Clear every bit of addr (alen bytes) after the first prefix_len bits. */
void mm_prefix_mask(uint8_t *addr, size_t alen, unsigned int prefix_len);

/* Whether the first prefix_len bits of addr equal those of net (net may be unmasked). */
bool mm_prefix_match(const uint8_t *net, unsigned int prefix_len, const uint8_t *addr);

#endif /* MESHMON_CIDR_H */
