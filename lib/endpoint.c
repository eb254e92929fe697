// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Endpoint parsing (endpoint.h). */
#include <errno.h>
#include <string.h>

#include "cidr.h"
#include "endpoint.h"
#include "records.h"
#include "textparse.h"

/* "ADDR" or "ADDR/LEN" of one family into ep. */
static int parse_addr(const char *s, size_t len, int family, struct mm_endpoint *ep)
{
	struct mm_cidr c;

	if (mm_cidr_parse(s, len, family, &c))
		return -EINVAL;
	ep->addr_len = c.family == MM_FAMILY_IPV4 ? 4 : 16;
	memcpy(ep->addr, c.addr, ep->addr_len);
	ep->prefix_len = c.prefix_len;
	return 0;
}

static int parse_port(const char *s, struct mm_endpoint *ep)
{
	uint64_t port;

	if (mm_parse_u64(s, 1, 65535, &port))
		return -EINVAL;
	ep->port = (uint32_t)port;
	return 0;
}

int mm_endpoint_parse(const char *s, struct mm_endpoint *ep)
{
	const char *colon, *close;
	size_t ncolons = 0;

	memset(ep, 0, sizeof(*ep));
	if (!s || !*s)
		return -EINVAL;
	/* ":PORT"; but "::1", "::/0" and "::ffff:10.0.0.1" are bare IPv6 addresses. */
	if (s[0] == ':' && s[1] != ':')
		return parse_port(s + 1, ep);
	if (s[0] == '[') {
		close = strchr(s, ']');
		if (!close || parse_addr(s + 1, (size_t)(close - s - 1), MM_FAMILY_IPV6, ep))
			return -EINVAL;
		if (close[1] == '\0')
			return 0;
		if (close[1] != ':')
			return -EINVAL;
		return parse_port(close + 2, ep);
	}
	for (const char *c = s; *c; c++)
		ncolons += *c == ':';
	/* Two colons or more: a bare IPv6 address (a port needs the brackets). */
	if (ncolons >= 2)
		return parse_addr(s, strlen(s), MM_FAMILY_IPV6, ep);
	if (ncolons == 1) {
		colon = strchr(s, ':');
		if (parse_addr(s, (size_t)(colon - s), MM_FAMILY_IPV4, ep))
			return -EINVAL;
		return parse_port(colon + 1, ep);
	}
	return parse_addr(s, strlen(s), MM_FAMILY_IPV4, ep);
}
