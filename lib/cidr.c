// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Address/prefix parsing and prefix masking (cidr.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "cidr.h"
#include "records.h"
#include "textparse.h"

int mm_cidr_parse(const char *s, size_t len, int family, struct mm_cidr *out)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash;
	struct mm_cidr c = {0};
	size_t alen;
	uint64_t plen, max;

	if (!s || len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	slash = strchr(buf, '/');
	alen = slash ? (size_t)(slash - buf) : len;
	if (alen == 0)
		return -EINVAL;
	buf[alen] = '\0';
	if (family != MM_FAMILY_IPV6 && inet_pton(AF_INET, buf, c.addr) == 1)
		c.family = MM_FAMILY_IPV4;
	else if (family != MM_FAMILY_IPV4 && inet_pton(AF_INET6, buf, c.addr) == 1)
		c.family = MM_FAMILY_IPV6;
	else
		return -EINVAL;
	max = c.family == MM_FAMILY_IPV4 ? 32 : 128;
	if (!slash)
		plen = max;
	else if (mm_parse_u64(slash + 1, 0, max, &plen))
		return -EINVAL;
	c.prefix_len = (uint8_t)plen;
	*out = c;
	return 0;
}

void mm_prefix_mask(uint8_t *addr, size_t alen, unsigned int prefix_len)
{
	for (size_t i = 0; i < alen; i++) {
		unsigned int bits = prefix_len > i * 8 ? prefix_len - i * 8 : 0;

		if (bits < 8)
			addr[i] &= (uint8_t)(0xff00u >> bits);
	}
}

bool mm_prefix_match(const uint8_t *net, unsigned int prefix_len, const uint8_t *addr)
{
	unsigned int full = prefix_len / 8, rem = prefix_len % 8;
	uint8_t mask = (uint8_t)(0xff00u >> rem);

	if (memcmp(net, addr, full))
		return false;
	return !rem || (addr[full] & mask) == (net[full] & mask);
}
