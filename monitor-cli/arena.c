// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The unpack arena (see arena.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

static void *big_alloc(struct mm_arena *a, size_t size)
{
	void *p, **big;

	if (a->n_big == a->cap_big) {
		size_t cap = a->cap_big ? 2 * a->cap_big : 16;

		big = realloc(a->big, cap * sizeof(*big));
		if (!big)
			return NULL;
		a->big = big;
		a->cap_big = cap;
	}
	p = malloc(size);
	if (p)
		a->big[a->n_big++] = p;
	return p;
}

void *mm_arena__alloc_slow(struct mm_arena *a, size_t size)
{
	if (!a->buf) {
		a->buf = malloc(MM_ARENA_SIZE);
		if (!a->buf)
			return NULL;
		if (size <= MM_ARENA_SIZE)
			return mm_arena__alloc(a, size);
	}
	return big_alloc(a, size ? size : 1);
}

static void *arena_alloc(void *data, size_t size)
{
	return mm_arena__alloc(data, size);
}

/* Blocks come back all at once, at reset. */
static void arena_free(void *data, void *ptr)
{
	(void)data;
	(void)ptr;
}

void mm_arena__init(struct mm_arena *a)
{
	memset(a, 0, sizeof(*a));
	a->allocator.alloc = arena_alloc;
	a->allocator.free = arena_free;
	a->allocator.allocator_data = a;
}

void mm_arena__reset(struct mm_arena *a)
{
	size_t i;

	for (i = 0; i < a->n_big; i++)
		free(a->big[i]);
	a->n_big = 0;
	a->used = 0;
}

void mm_arena__release(struct mm_arena *a)
{
	if (!a)
		return;
	mm_arena__reset(a);
	free(a->big);
	free(a->buf);
	mm_arena__init(a);
}
