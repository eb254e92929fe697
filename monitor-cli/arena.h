/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The memory a streamed message is unpacked into (arena.c): protobuf-c's
 * unpack asks for a block per submessage, string and bytes field, and
 * free_unpacked walks the message to give each back. An arena hands out
 * blocks from one buffer and takes them all back at once when the next
 * message comes, so a message costs no malloc and no free.
 */
#ifndef MESHMON_CLI_ARENA_H
#define MESHMON_CLI_ARENA_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/* The buffer: an event takes about 1 KiB (its captured bytes are copied). */
#define MM_ARENA_SIZE (64 * 1024)

struct mm_arena {
	unsigned char *buf; /* MM_ARENA_SIZE bytes, allocated at the first use */
	size_t used;
	/* Blocks that did not fit (a Status, a long capture): malloc'd, freed at reset. */
	void **big;
	size_t n_big, cap_big;
	ProtobufCAllocator allocator;
};

/* An empty arena and the allocator to pass to unpack (it points at a). */
void mm_arena__init(struct mm_arena *a);
/* The slow path of mm_arena__alloc: the first block, or one that does not fit. */
void *mm_arena__alloc_slow(struct mm_arena *a, size_t size);

/* size bytes aligned as malloc aligns them, until the next reset; NULL when out of memory. */
static inline void *mm_arena__alloc(struct mm_arena *a, size_t size)
{
	const size_t align = _Alignof(max_align_t);
	size_t at = (a->used + align - 1) & ~(align - 1);

	if (!a->buf || size > MM_ARENA_SIZE || at > MM_ARENA_SIZE - size)
		return mm_arena__alloc_slow(a, size);
	a->used = at + size;
	return a->buf + at;
}
/* Takes back every block handed out: what was unpacked into a is gone. */
void mm_arena__reset(struct mm_arena *a);
/* Frees everything; a may be used again after mm_arena__init. Accepts NULL. */
void mm_arena__release(struct mm_arena *a);

#endif /* MESHMON_CLI_ARENA_H */
