/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One protocol message as one row of the exporter's table (export_rows.c),
 * in ClickHouse's JSONEachRow format: one JSON object per line whose keys are
 * the columns of export_schema.h. An Event is a row of its type; a loss (a
 * LostNotice of the agent, or events the exporter's own buffer could not
 * hold) is a row of type "loss" that says how many, from where, and when.
 */
#ifndef MESHMON_CLI_EXPORT_ROWS_H
#define MESHMON_CLI_EXPORT_ROWS_H

#include <stdint.h>

#include "json.h"
#include "meshmon.pb-c.h"

/* The loss_source of rows for events the exporter's buffer had no room for. */
#define MM_EXPORT_LOSS_BUFFER "export_buffer"

struct mm_export_loss {
	const char *source; /* MM_EXPORT_LOSS_BUFFER, or a LossSource key ("queue", "ring") */
	uint32_t cpu;       /* MM_CPU_NONE when the loss is not per CPU */
	const char *type;   /* the event type a rate limit refused; NULL: none */
	uint64_t count;
	uint64_t first_ns, last_ns; /* wall clock of the first and last event lost */
};

/* The row of ev, seen on the agent named node, as one line written through j. */
void mm_export_row__event(struct mm_json *j, const char *node, const Meshmon__V1__Event *ev);
/* The loss row of l as one line written through j. */
void mm_export_row__loss(struct mm_json *j, const char *node, const struct mm_export_loss *l);
/* The loss a LostNotice reports, as a row's fields (its strings are static). */
void mm_export_loss__from_notice(struct mm_export_loss *l, const Meshmon__V1__LostNotice *n);

#endif /* MESHMON_CLI_EXPORT_ROWS_H */
