/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The formatters of `meshmon monitor`: protocol messages (Hello, Event,
 * LostNotice, Error) rendered as text lines (format_text.c) or JSON lines
 * (format_json.c). They read only protocol messages and never filter: what the
 * agent sent is printed.
 */
#ifndef MESHMON_CLI_FORMAT_H
#define MESHMON_CLI_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "meshmon.pb-c.h"
#include "protocol.h"

struct mm_fmt {
	FILE *out;
	int verbose;  /* 0, 1 (-v) or 2 (-vv) */
	bool hex;     /* --hex: dump the captured bytes */
	bool json;    /* -j/--json */
	bool numeric; /* -n: ifindex only, no interface names */
	bool color;   /* only on a terminal */
};

/* Dispatch on f->json. Hello prints nothing in JSON mode. */
void mm_format_hello(const struct mm_fmt *f, const Meshmon__V1__Hello *hello);
void mm_format_event(const struct mm_fmt *f, const Meshmon__V1__Event *ev);
void mm_format_lost(const struct mm_fmt *f, const Meshmon__V1__LostNotice *lost);

void mm_text_hello(const struct mm_fmt *f, const Meshmon__V1__Hello *hello);
void mm_text_event(const struct mm_fmt *f, const Meshmon__V1__Event *ev);
void mm_text_lost(const struct mm_fmt *f, const Meshmon__V1__LostNotice *lost);

void mm_json_event(const struct mm_fmt *f, const Meshmon__V1__Event *ev);
void mm_json_lost(const struct mm_fmt *f, const Meshmon__V1__LostNotice *lost);

/* Helpers shared by the formatters and status. */
/* RFC 3339 UTC with nanoseconds: 2026-11-22T05:40:20.123456789Z (buf >= 32). */
void mm_fmt_time(uint64_t ns, char *buf, size_t cap);
/* 350ns, 12us, 1.2ms, 350ms, 1.2s, 2m05s, 1h02m. */
void mm_fmt_duration(uint64_t ns, char *buf, size_t cap);
/* "10.0.0.1" / "fd00::1" from 4 or 16 bytes; "" for other lengths. */
void mm_fmt_addr(const uint8_t *addr, size_t len, char *buf, size_t cap);

#endif /* MESHMON_CLI_FORMAT_H */
