// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The formatter dispatch: text or JSON, decided once by the caller in
 * f->json. The one file that knows both formatters, so neither knows the
 * other nor calls back here.
 */
#include "format.h"
#include "format_json.h"
#include "format_text.h"

void mm_format_hello(const struct mm_fmt *f, const Meshmon__V1__Hello *hello)
{
	if (!f->json)
		mm_text_hello(f, hello);
}

void mm_format_event(const struct mm_fmt *f, const Meshmon__V1__Event *ev)
{
	if (f->json)
		mm_json_event(f, ev);
	else
		mm_text_event(f, ev);
}

void mm_format_lost(const struct mm_fmt *f, const Meshmon__V1__LostNotice *lost)
{
	if (f->json)
		mm_json_lost(f, lost);
	else
		mm_text_lost(f, lost);
}

void mm_format_reconnected(const struct mm_fmt *f, const struct mm_gap *gap)
{
	if (f->json)
		mm_json_reconnected(f, gap);
	else
		mm_text_reconnected(f, gap);
}
