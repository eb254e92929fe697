// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Name tables expanded from the X-macro lists in tables.h, and the record
 * layout table from MM_RECORD_TYPES: the single definition of every value's
 * name and every record's size on the userspace side.
 */
#include <string.h>

#include "names.h"

/* A switch per table: the compiler rejects a duplicate value in a list. */
#define MM_NAME_LOOKUP(fn, LIST, field_expr)                                           \
	const char *fn(unsigned int value)                                             \
	{                                                                              \
		switch (value) {                                                       \
			LIST(field_expr)                                               \
		default:                                                               \
			return NULL;                                                   \
		}                                                                      \
	}

#define CASE_2(name, value, s, ...) \
	case value:                 \
		return s;
#define CASE_NAME(name, value, ...) \
	case value:                 \
		return #name;
#define CASE_3(name, value, a, b, ...) \
	case value:                    \
		return b;
#define CASE_4(name, value, a, b, c, ...) \
	case value:                       \
		return c;

MM_NAME_LOOKUP(mm_event_type_name, MM_EVENT_TYPES, CASE_2)
MM_NAME_LOOKUP(mm_source_name, MM_SOURCES, CASE_2)
MM_NAME_LOOKUP(mm_drop_reason_text, MM_DROP_REASONS, CASE_2)
MM_NAME_LOOKUP(mm_drop_reason_name, MM_DROP_REASONS, CASE_NAME)
MM_NAME_LOOKUP(mm_trace_point_name, MM_TRACE_POINTS, CASE_2)
MM_NAME_LOOKUP(mm_trace_point_arrow, MM_TRACE_POINTS, CASE_3)
MM_NAME_LOOKUP(mm_trace_point_peer, MM_TRACE_POINTS, CASE_4)
MM_NAME_LOOKUP(mm_trace_state_name, MM_TRACE_STATES, CASE_2)
MM_NAME_LOOKUP(mm_parse_error_text, MM_PARSE_ERRORS, CASE_2)
MM_NAME_LOOKUP(mm_debug_type_name, MM_DEBUG_TYPES, CASE_2)
MM_NAME_LOOKUP(mm_debug_format, MM_DEBUG_TYPES, CASE_3)
MM_NAME_LOOKUP(mm_probe_state_name, MM_PROBE_STATES, CASE_2)
MM_NAME_LOOKUP(mm_probe_direction_name, MM_PROBE_DIRECTIONS, CASE_2)
MM_NAME_LOOKUP(mm_sock_hook_name, MM_SOCK_HOOKS, CASE_2)
MM_NAME_LOOKUP(mm_tcp_state_name, MM_TCP_STATES, CASE_2)
MM_NAME_LOOKUP(mm_aggregation_name, MM_AGGREGATION_LEVELS, CASE_2)
MM_NAME_LOOKUP(mm_direction_name, MM_DIRECTIONS, CASE_2)
MM_NAME_LOOKUP(mm_stat_name, MM_STATS, CASE_2)
MM_NAME_LOOKUP(mm_source_file_name, MM_SOURCE_FILES, CASE_2)

#define MM_NAME_PARSE(fn, LIST)                                                        \
	int fn(const char *name)                                                       \
	{                                                                              \
		LIST(IF_NAME)                                                          \
		return -1;                                                             \
	}
#define IF_NAME(name_, value, s, ...) \
	if (name && strcmp(name, s) == 0) \
		return value;

MM_NAME_PARSE(mm_event_type_parse, MM_EVENT_TYPES)
MM_NAME_PARSE(mm_trace_point_parse, MM_TRACE_POINTS)
MM_NAME_PARSE(mm_aggregation_parse, MM_AGGREGATION_LEVELS)
MM_NAME_PARSE(mm_direction_parse, MM_DIRECTIONS)

/*
 * Each record type's name, from MM_EVENT_TYPES, for the layout table below
 * (unused for the reserved types, which have no record yet).
 */
#define X(name, value, text) \
	static const char record_type_name_##name[] __attribute__((unused)) = text;
MM_EVENT_TYPES(X)
#undef X

const struct mm_record_layout *mm_record_layout(unsigned int type)
{
	static const struct mm_record_layout layouts[] = {
#define X(type_, short_, struct_, version_, capture_) \
	{MM_EVENT_##type_, record_type_name_##type_, sizeof(struct_), version_, capture_},
		MM_RECORD_TYPES(X)
#undef X
	};

	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		if (layouts[i].type == type)
			return &layouts[i];
	return NULL;
}

size_t mm_record_size(const struct mm_record_layout *l, unsigned int source)
{
#define X(type_, source_, short_, struct_)                                   \
	if (l->type == MM_EVENT_##type_ && source == MM_SOURCE_##source_) \
		return sizeof(struct_);
	MM_RECORD_SOURCE_LAYOUTS(X)
#undef X
	return l->size;
}
