// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Loss source names (protocol.h), expanded from MM_LOSS_SOURCE_TABLE. */
#include "protocol.h"

const char *mm_loss_source_name(unsigned int source)
{
	switch (source) {
#define X(name, value, display, key) \
	case value:                  \
		return display;
		MM_LOSS_SOURCE_TABLE(X)
#undef X
	default:
		return "unknown";
	}
}

const char *mm_loss_source_key(unsigned int source)
{
	switch (source) {
#define X(name, value, display, key) \
	case value:                  \
		return key;
		MM_LOSS_SOURCE_TABLE(X)
#undef X
	default:
		return "unknown";
	}
}
