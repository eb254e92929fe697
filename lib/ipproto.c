// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* IP protocol names (ipproto.h), expanded from MM_IP_PROTOS. */
#include <errno.h>
#include <strings.h>

#include "ipproto.h"
#include "textparse.h"

const char *mm_ip_proto_name(unsigned int proto)
{
	switch (proto) {
#define X(name, num, text) \
	case num:          \
		return text;
		MM_IP_PROTOS(X)
#undef X
	default:
		return NULL;
	}
}

int mm_ip_proto_parse(const char *s, uint8_t *out)
{
	uint64_t v;

	if (!s)
		return -EINVAL;
#define X(name, num, text)                \
	if (strcasecmp(s, text) == 0) {   \
		*out = num;               \
		return 0;                 \
	}
	MM_IP_PROTOS(X)
#undef X
	if (mm_parse_u64(s, 0, 255, &v))
		return -EINVAL;
	*out = (uint8_t)v;
	return 0;
}
