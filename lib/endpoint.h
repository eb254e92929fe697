/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Endpoints as users type them in filters: "10.0.0.0/8", "10.0.0.1:80",
 * "[fd00::1]:80", "fd00::/64" or ":80" (any address, one port).
 */
#ifndef MESHMON_ENDPOINT_H
#define MESHMON_ENDPOINT_H

#include <stddef.h>
#include <stdint.h>

struct mm_endpoint {
	uint8_t addr[16];
	size_t addr_len;  /* 0 (any), 4 or 16 */
	uint32_t prefix_len;
	uint32_t port;    /* 0: any */
};

/* Parses one endpoint into *ep (zeroed first): 0 or -EINVAL. */
int mm_endpoint_parse(const char *s, struct mm_endpoint *ep);

#endif /* MESHMON_ENDPOINT_H */
