/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What every formatter shares: the output settings (struct mm_fmt) and the
 * helpers that render times, durations, addresses and loss sources the same
 * way in text, JSON and `meshmon status`. Nothing here knows text from JSON.
 */
#ifndef MESHMON_CLI_FORMAT_COMMON_H
#define MESHMON_CLI_FORMAT_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "protocol.h" /* MM_CPU_NONE, loss source names */

struct mm_fmt {
	FILE *out;
	int verbose;  /* 0, 1 (-v) or 2 (-vv) */
	bool hex;     /* --hex: dump the captured bytes */
	bool json;    /* JSON lines (the dispatcher's --json decision) */
	bool numeric; /* -n: ifindex only, no interface names */
	bool time;    /* --time: every text line starts with the event's time (-v does too) */
	bool color;   /* only on a terminal */
	bool print_node; /* --print-node-name: every text line leads with "[NODE] " */
	const char *node; /* Hello.node_name of the agent streaming now; NULL or "": none */
};

/*
 * Where a stream keeps the node name of its agent's latest Hello (mm_fmt.node
 * points here): an agent that comes back after a reconnect may have another.
 */
struct mm_fmt_node {
	char name[MM_NODE_NAME_MAX + 1];
};
/* Keep hello_node (truncated to fit) as the name f->node shows from now on. */
void mm_fmt_set_node(struct mm_fmt *f, struct mm_fmt_node *keep, const char *hello_node);

/*
 * The span of events a client did not see while it was reconnecting to a
 * restarted agent: wall times from the last event of the lost connection (or
 * its loss) to the new Hello, and how long the agent was gone.
 */
struct mm_gap {
	uint64_t start_ns;
	uint64_t end_ns;
	uint64_t down_ns;
};

/* RFC 3339 UTC with nanoseconds: 2026-11-22T05:40:20.123456789Z (buf >= 32). Returns its length. */
size_t mm_fmt_time(uint64_t ns, char *buf, size_t cap);
/* 350ns, 12us, 1.2ms, 350ms, 1.2s, 2m05s, 1h02m. */
void mm_fmt_duration(uint64_t ns, char *buf, size_t cap);
/* "10.0.0.1" / "fd00::1" from 4 or 16 bytes; "" for other lengths. Returns its length. */
size_t mm_fmt_addr(const uint8_t *addr, size_t len, char *buf, size_t cap);
/*
 * A string from the agent (names, versions, reasons, messages) as text: every
 * control character (below 0x20, and 0x7f) as '?', so what is on the socket
 * cannot move the cursor, retitle the terminal or forge a line. NULL prints nothing.
 */
void mm_fmt_clean(FILE *out, const char *s);
/* The same into buf (cap > 0), truncated to fit: for text that must go out in one write. */
void mm_fmt_clean_buf(char *buf, size_t cap, const char *s);

#endif /* MESHMON_CLI_FORMAT_COMMON_H */
