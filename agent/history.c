// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Owns the replay ring of the last --history events (history.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"

int mm_history__init(struct mm_history *h, size_t cap)
{
	memset(h, 0, sizeof(*h));
	if (!cap)
		return 0;
	h->ring = calloc(cap, sizeof(*h->ring));
	if (!h->ring)
		return -ENOMEM;
	h->cap = cap;
	return 0;
}

void mm_history__release(struct mm_history *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->cap; i++)
		mm_blob__put(h->ring[i].blob);
	free(h->ring);
	memset(h, 0, sizeof(*h));
}

void mm_history__push(struct mm_history *h, struct mm_blob *blob, const struct mm_event_view *view)
{
	struct mm_history_entry *e;

	if (!h->cap)
		return;
	e = &h->ring[h->next];
	mm_blob__put(e->blob);
	e->blob = mm_blob__get(blob);
	e->view = *view;
	h->next = (h->next + 1) % h->cap;
	if (h->n < h->cap)
		h->n++;
}

const struct mm_history_entry *mm_history__at(const struct mm_history *h, size_t i)
{
	size_t oldest = (h->next + h->cap - h->n) % h->cap;

	return &h->ring[(oldest + i) % h->cap];
}
