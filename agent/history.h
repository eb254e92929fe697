/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The last N events, kept for Subscribe.replay: references to the packed
 * frames the hub already made plus the filter view of each, in a ring.
 */
#ifndef MESHMON_AGENT_HISTORY_H
#define MESHMON_AGENT_HISTORY_H

#include <stddef.h>

#include "blob.h"
#include "filter.h"

struct mm_history_entry {
	struct mm_blob *blob;
	struct mm_event_view view;
};

struct mm_history {
	struct mm_history_entry *ring;
	size_t cap;  /* 0: history off */
	size_t n;    /* entries held */
	size_t next; /* slot of the next push */
};

/* 0 or -ENOMEM. cap 0 keeps nothing. */
int mm_history__init(struct mm_history *h, size_t cap);
void mm_history__release(struct mm_history *h);
/* Takes a new reference on blob; drops the oldest entry when full. */
void mm_history__push(struct mm_history *h, struct mm_blob *blob, const struct mm_event_view *view);
/* i-th entry from the oldest (0 <= i < h->n). */
const struct mm_history_entry *mm_history__at(const struct mm_history *h, size_t i);

#endif /* MESHMON_AGENT_HISTORY_H */
