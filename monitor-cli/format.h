/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The formatter dispatch of `meshmon monitor` (format.c): each protocol
 * message to the text formatter (format_text.h) or the JSON one
 * (format_json.h), as f->json says. Only the callers that choose between
 * the two include this header: the formatters themselves never do.
 */
#ifndef MESHMON_CLI_FORMAT_H
#define MESHMON_CLI_FORMAT_H

#include "format_common.h"
#include "meshmon.pb-c.h"

/* Hello prints nothing in JSON mode. */
void mm_format_hello(const struct mm_fmt *f, const Meshmon__V1__Hello *hello);
void mm_format_event(const struct mm_fmt *f, const Meshmon__V1__Event *ev);
void mm_format_lost(const struct mm_fmt *f, const Meshmon__V1__LostNotice *lost);
/* The in-band notice after a reconnect: events of the gap were not seen. */
void mm_format_reconnected(const struct mm_fmt *f, const struct mm_gap *gap);

#endif /* MESHMON_CLI_FORMAT_H */
