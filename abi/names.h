/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Userspace names for the values of the datapath tables (tables.h), and the
 * layout of each record type (records.h, MM_RECORD_TYPES). Every lookup
 * returns NULL for a value that is not in its table, so callers can tell an
 * unknown value from a known one and print it numerically.
 */
#ifndef MESHMON_NAMES_H
#define MESHMON_NAMES_H

#include <stddef.h>

#include "records.h"

const char *mm_event_type_name(unsigned int type);
const char *mm_source_name(unsigned int source);
const char *mm_drop_reason_text(unsigned int reason);
const char *mm_drop_reason_name(unsigned int reason);
const char *mm_trace_point_name(unsigned int point);
const char *mm_trace_point_arrow(unsigned int point);
const char *mm_trace_point_peer(unsigned int point);
const char *mm_trace_state_name(unsigned int state);
const char *mm_parse_error_text(unsigned int err);
const char *mm_debug_type_name(unsigned int type);
const char *mm_debug_format(unsigned int type);
const char *mm_probe_state_name(unsigned int state);
const char *mm_probe_direction_name(unsigned int dir);
const char *mm_sock_hook_name(unsigned int hook);
const char *mm_tcp_state_name(unsigned int state); /* "ESTABLISHED", ... */
const char *mm_aggregation_name(unsigned int level);
const char *mm_direction_name(unsigned int dir);
const char *mm_stat_name(unsigned int stat);
const char *mm_source_file_name(unsigned int file);

/* One row of MM_RECORD_TYPES. */
struct mm_record_layout {
	unsigned int type;     /* enum mm_event_type */
	const char *name;      /* "trace", "tcp_probe", "policy-verdict": MM_EVENT_TYPES' name */
	size_t size;           /* the fixed record: the minimum length of a valid one */
	unsigned int version;  /* the layout version this build decodes */
	int has_capture;       /* packet bytes follow the fixed record (cap.cap_len of them) */
};

/* The layout of a record type, or NULL for a type userspace cannot decode. */
const struct mm_record_layout *mm_record_layout(unsigned int type);
/*
 * The fixed size of a record of layout l from source: the type's own, or the
 * longer struct MM_RECORD_SOURCE_LAYOUTS gives that source.
 */
size_t mm_record_size(const struct mm_record_layout *l, unsigned int source);

/* Reverse lookups by name: the value, or -1 when the name is unknown. */
int mm_event_type_parse(const char *name);
int mm_trace_point_parse(const char *name);
int mm_aggregation_parse(const char *name);
int mm_direction_parse(const char *name);

#endif /* MESHMON_NAMES_H */
