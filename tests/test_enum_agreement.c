// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The protocol's enums (proto/meshmon.proto) against the datapath's X-macro
 * tables (abi/tables.h): every table entry has a proto value of the same
 * number and name, and the proto has no value the table lacks except
 * *_UNSPECIFIED = 0.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <string.h>

#include "meshmon.pb-c.h"
#include "protocol.h"
#include "records.h"

struct entry {
	const char *name; /* proto name: PREFIX + table name */
	int value;
};

#define X_ENTRY(name, value, ...) { #name, value },

static void check(const ProtobufCEnumDescriptor *desc, const char *prefix,
		  const struct entry *table, size_t n)
{
	char want[128];

	/* table -> proto */
	for (size_t i = 0; i < n; i++) {
		const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(desc, table[i].value);

		cr_assert(v != NULL, "%s: table value %s = %d missing from the proto", desc->name,
			  table[i].name, table[i].value);
		snprintf(want, sizeof(want), "%s%s", prefix, table[i].name);
		cr_expect(eq(str, (char *)v->name, want), "%s value %d", desc->name, table[i].value);
	}
	/* proto -> table */
	for (unsigned int j = 0; j < desc->n_values; j++) {
		const ProtobufCEnumValue *v = &desc->values[j];
		bool found = false;

		for (size_t i = 0; i < n && !found; i++)
			found = table[i].value == v->value;
		if (found)
			continue;
		snprintf(want, sizeof(want), "%sUNSPECIFIED", prefix);
		cr_expect(v->value == 0 && strcmp(v->name, want) == 0,
			  "%s: proto value %s = %d is not in the table", desc->name, v->name, v->value);
	}
}

#define AGREE(test, LIST, desc, prefix)                                                   \
	Test(enum_agreement, test)                                                        \
	{                                                                                 \
		static const struct entry table[] = { LIST(X_ENTRY) };                    \
		check(&desc, prefix, table, sizeof(table) / sizeof(table[0]));            \
	}

AGREE(event_types, MM_EVENT_TYPES, meshmon__v1__event_type__descriptor, "EVENT_TYPE_")
AGREE(sources, MM_SOURCES, meshmon__v1__source__descriptor, "SOURCE_")
AGREE(drop_reasons, MM_DROP_REASONS, meshmon__v1__drop_reason__descriptor, "DROP_REASON_")
AGREE(trace_points, MM_TRACE_POINTS, meshmon__v1__trace_point__descriptor, "TRACE_POINT_")
AGREE(trace_states, MM_TRACE_STATES, meshmon__v1__trace_state__descriptor, "TRACE_STATE_")
AGREE(parse_errors, MM_PARSE_ERRORS, meshmon__v1__parse_error__descriptor, "PARSE_ERROR_")
AGREE(debug_types, MM_DEBUG_TYPES, meshmon__v1__debug_type__descriptor, "DEBUG_TYPE_")
AGREE(probe_states, MM_PROBE_STATES, meshmon__v1__probe_state__descriptor, "PROBE_STATE_")
AGREE(probe_directions, MM_PROBE_DIRECTIONS, meshmon__v1__probe_direction__descriptor,
      "PROBE_DIRECTION_")
AGREE(sock_hooks, MM_SOCK_HOOKS, meshmon__v1__socket_hook__descriptor, "SOCKET_HOOK_")
AGREE(loss_sources, MM_LOSS_SOURCE_TABLE, meshmon__v1__loss_source__descriptor, "LOSS_SOURCE_")
AGREE(aggregation_levels, MM_AGGREGATION_LEVELS, meshmon__v1__aggregation_level__descriptor,
      "AGGREGATION_LEVEL_")

/* Capture layers are #defines, not a table: check them one by one. */
Test(enum_agreement, capture_layers)
{
	cr_expect(eq(int, MESHMON__V1__CAPTURE_LAYER__CAPTURE_LAYER_ETHERNET, MM_LAYER_ETHERNET));
	cr_expect(eq(int, MESHMON__V1__CAPTURE_LAYER__CAPTURE_LAYER_NETWORK, MM_LAYER_NETWORK));
	cr_expect(eq(int, MESHMON__V1__CAPTURE_LAYER__CAPTURE_LAYER_TRANSPORT, MM_LAYER_TRANSPORT));
}
