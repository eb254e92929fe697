/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Kernel addresses as `function+0xoffset`, from /proc/kallsyms: the agent
 * names a kernel drop's location (Drop.symbol) with it.
 *
 * The text symbols (types t, T, w, W) are read once into an array sorted by
 * address; a lookup is a binary search for the last symbol at or below the
 * address. Symbols with address 0 are left out: with kernel.kptr_restrict the
 * kernel shows every address as 0 (or the reader lacks CAP_SYSLOG), and then
 * the table is empty and nothing is symbolized.
 *
 * Refresh: modules (and BPF programs) come and go, so the table is read again
 * - when /proc/modules has changed (its bytes are hashed), or
 * - when an address is not covered: below the first symbol, or further than
 *   MM_KALLSYMS_MAX_OFFSET past the nearest one (an address in a module
 *   loaded since the last read),
 * but at most once per refresh interval (1 s by default), checked at lookup
 * time only, so a flood of unknown addresses costs one re-read per interval.
 *
 * Errors: 0 or a negative errno; constructors return NULL with errno set.
 */
#ifndef MESHMON_AGENT_KALLSYMS_H
#define MESHMON_AGENT_KALLSYMS_H

#include <stddef.h>
#include <stdint.h>

/* Past this distance from the nearest symbol an address counts as not covered. */
#define MM_KALLSYMS_MAX_OFFSET (1u << 20)
#define MM_KALLSYMS_REFRESH_NS 1000000000ull

struct mm_kallsyms;

/*
 * Read the symbols. kallsyms_path NULL: /proc/kallsyms; modules_path NULL:
 * /proc/modules (a missing modules file counts as empty: a kernel without
 * modules). refresh_ns: the least time between two re-reads (0: the default).
 */
struct mm_kallsyms *mm_kallsyms__new(const char *kallsyms_path, const char *modules_path,
				     uint64_t refresh_ns);
void mm_kallsyms__free(struct mm_kallsyms *k);

/* Symbols in the table (0 under kptr_restrict). */
size_t mm_kallsyms__count(const struct mm_kallsyms *k);
/* Re-reads so far (not counting the first read). */
unsigned int mm_kallsyms__reloads(const struct mm_kallsyms *k);

/*
 * addr as "function+0xoff" (" [module]" appended for a module's symbol) into
 * buf: its length, or -ENOENT when no symbol covers addr, -ENOSPC when buf is
 * too small. now_ns: a CLOCK_MONOTONIC reading, for the refresh rate limit.
 */
int mm_kallsyms__lookup_at(struct mm_kallsyms *k, uint64_t addr, uint64_t now_ns, char *buf,
			   size_t len);
/* The same at the current time; the signature of mm_decode_ctx.symbolize. */
int mm_kallsyms__lookup(void *k, uint64_t addr, char *buf, size_t len);

#endif /* MESHMON_AGENT_KALLSYMS_H */
