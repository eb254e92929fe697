/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A packed frame (length prefix + payload) shared by reference: the hub packs
 * each event once into a blob; the history, and the output buffers of the
 * listeners a large frame is queued on (hub.c, REF_MIN_LEN), hold a reference
 * to the same bytes. Single-threaded (one event loop).
 */
#ifndef MESHMON_AGENT_BLOB_H
#define MESHMON_AGENT_BLOB_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

struct mm_blob {
	unsigned int refs;
	size_t len;
	uint8_t data[];
};

static inline struct mm_blob *mm_blob__get(struct mm_blob *b)
{
	b->refs++;
	return b;
}

/* The blob whose data starts at data (a reference's cleanup gets data only). */
static inline struct mm_blob *mm_blob__of(const void *data)
{
	return (struct mm_blob *)((uintptr_t)data - offsetof(struct mm_blob, data));
}

static inline void mm_blob__put(struct mm_blob *b)
{
	if (b && --b->refs == 0)
		free(b);
}

#endif /* MESHMON_AGENT_BLOB_H */
