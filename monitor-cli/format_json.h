/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * JSON output of `meshmon monitor` (format_json.c): one object per event,
 * lost notice or reconnect notice, one per line, through the one JSON writer (json.h).
 */
#ifndef MESHMON_CLI_FORMAT_JSON_H
#define MESHMON_CLI_FORMAT_JSON_H

#include "format_common.h"
#include "meshmon.pb-c.h"

void mm_json_event(const struct mm_fmt *f, const Meshmon__V1__Event *ev);
void mm_json_lost(const struct mm_fmt *f, const Meshmon__V1__LostNotice *lost);
void mm_json_reconnected(const struct mm_fmt *f, const struct mm_gap *gap);

#endif /* MESHMON_CLI_FORMAT_JSON_H */
