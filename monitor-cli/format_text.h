/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Text output of `meshmon monitor` (format_text.c): Cilium-style lines,
 * more fields with -v, a dissection with -vv, a hex dump with --hex.
 */
#ifndef MESHMON_CLI_FORMAT_TEXT_H
#define MESHMON_CLI_FORMAT_TEXT_H

#include "format_common.h"
#include "meshmon.pb-c.h"

void mm_text_hello(const struct mm_fmt *f, const Meshmon__V1__Hello *hello);
void mm_text_event(const struct mm_fmt *f, const Meshmon__V1__Event *ev);
void mm_text_lost(const struct mm_fmt *f, const Meshmon__V1__LostNotice *lost);
void mm_text_reconnected(const struct mm_fmt *f, const struct mm_gap *gap);

#endif /* MESHMON_CLI_FORMAT_TEXT_H */
