// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Owns the reorder buffer (reorder.h): a binary min-heap of (ktime_ns,
 * arrival sequence) over slots that hold each record's copy. A slot keeps
 * its copy's allocation for the next record, so a steady stream allocates
 * nothing; the copies are given back once they hold more than max_bytes.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "records.h"
#include "reorder.h"

/*
 * Ties (the same ktime_ns) leave in arrival order: a ring's own order stays.
 * 16 bytes: seq is compared modulo 2^32, which is exact while fewer than
 * 2^31 records are held (max_records is capped below that).
 */
struct heap_item {
	uint64_t ktime_ns;
	uint32_t seq;
	uint32_t slot;
};

struct slot {
	unsigned char *bytes;
	__u32 size, cap;
	int cpu;
};

struct mm_reorder {
	struct mm_reorder_opts opts;
	struct heap_item *heap; /* held records, heap[0] the oldest */
	struct slot *slots;
	uint32_t *free_slots;   /* a stack of the slots not in the heap */
	size_t n_free, cap;     /* cap: length of the three arrays */
	size_t copy_bytes;      /* what the slots' copies have allocated */
	uint32_t seq;
	uint64_t last_ktime_ns; /* the latest ktime_ns released so far */
	struct mm_reorder_stats stats;
};

struct mm_reorder *mm_reorder__new(const struct mm_reorder_opts *opts)
{
	struct mm_reorder *r;

	if (!opts->release) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->opts = *opts;
	if (!r->opts.slack_ns)
		r->opts.slack_ns = MM_REORDER_SLACK_NS;
	if (!r->opts.max_records)
		r->opts.max_records = MM_REORDER_MAX_RECORDS;
	if (r->opts.max_records > (1u << 30))
		r->opts.max_records = 1u << 30; /* heap_item.seq's modulo order */
	if (!r->opts.max_bytes)
		r->opts.max_bytes = MM_REORDER_MAX_BYTES;
	return r;
}

void mm_reorder__free(struct mm_reorder *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->cap; i++)
		free(r->slots[i].bytes);
	free(r->heap);
	free(r->slots);
	free(r->free_slots);
	free(r);
}

int mm_reorder__enabled(const struct mm_reorder *r)
{
	return r->opts.window_ns != 0;
}

static void emit(struct mm_reorder *r, int cpu, const void *data, __u32 size, uint64_t ktime_ns)
{
	int late = ktime_ns < r->last_ktime_ns;

	if (late)
		r->stats.out_of_order++;
	else
		r->last_ktime_ns = ktime_ns;
	r->stats.released++;
	r->opts.release(r->opts.ctx, cpu, data, size, late);
}

/* Without a branch: which of two children is older is a coin toss, and a mispredicted branch per heap level was most of the stage's cost. */
static inline int item_before(const struct heap_item *a, const struct heap_item *b)
{
	return (a->ktime_ns < b->ktime_ns) |
	       ((a->ktime_ns == b->ktime_ns) & ((int32_t)(a->seq - b->seq) < 0));
}

/*
 * A 4-ary heap: half the levels of a binary one, and the four children of a
 * node share a cache line, which costs less than the chain of dependent
 * loads of the extra levels (the stage's main cost per record).
 */
#define ARITY 2

static void sift_up(struct heap_item *h, size_t i, struct heap_item x)
{
	while (i) {
		size_t parent = (i - 1) / ARITY;

		if (!item_before(&x, &h[parent]))
			break;
		h[i] = h[parent];
		i = parent;
	}
	h[i] = x;
}

/*
 * Removes h[0] from a heap of n items, Floyd's way: the hole goes down to a
 * leaf along the oldest child, and the last item fills it from there,
 * rising only as far as it must. The last item is usually the newest
 * record, so it hardly rises: no comparisons with it on the way down.
 */
static void heap_remove_top(struct heap_item *h, size_t n)
{
	struct heap_item last = h[n - 1];
	size_t i = 0, first;

	n--;
	while ((first = ARITY * i + 1) < n) {
		size_t best = first, end = first + ARITY < n ? first + ARITY : n;

		for (size_t c = first + 1; c < end; c++)
			best = item_before(&h[c], &h[best]) ? c : best;
		h[i] = h[best];
		i = best;
	}
	sift_up(h, i, last);
}

/* Releases the oldest held record and gives its slot back. */
static void pop_oldest(struct mm_reorder *r)
{
	struct heap_item top = r->heap[0];
	struct slot *s = &r->slots[top.slot];

	heap_remove_top(r->heap, r->stats.held);
	r->stats.held--;
	r->stats.held_bytes -= s->size;
	emit(r, s->cpu, s->bytes, s->size, top.ktime_ns);
	r->free_slots[r->n_free++] = top.slot;
	if (r->copy_bytes > r->opts.max_bytes) {
		r->copy_bytes -= s->cap;
		free(s->bytes);
		s->bytes = NULL;
		s->cap = 0;
	}
}

/* Room for one more slot: the arrays doubled up to max_records. 0 or -ENOMEM. */
static int grow(struct mm_reorder *r)
{
	size_t cap = r->cap ? r->cap * 2 : 64;
	struct heap_item *heap;
	struct slot *slots;
	uint32_t *free_slots;

	if (cap > r->opts.max_records)
		cap = r->opts.max_records;
	heap = realloc(r->heap, cap * sizeof(*heap));
	if (!heap)
		return -ENOMEM;
	r->heap = heap;
	slots = realloc(r->slots, cap * sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	r->slots = slots;
	free_slots = realloc(r->free_slots, cap * sizeof(*free_slots));
	if (!free_slots)
		return -ENOMEM;
	r->free_slots = free_slots;
	for (size_t i = r->cap; i < cap; i++) {
		memset(&r->slots[i], 0, sizeof(r->slots[i]));
		r->free_slots[r->n_free++] = (uint32_t)i;
	}
	r->cap = cap;
	return 0;
}

/* A slot holding a copy of data, or -ENOMEM. */
static int take_slot(struct mm_reorder *r, int cpu, const void *data, __u32 size)
{
	struct slot *s;
	uint32_t i;

	if (!r->n_free && grow(r))
		return -ENOMEM;
	i = r->free_slots[r->n_free - 1];
	s = &r->slots[i];
	if (s->cap < size) {
		unsigned char *bytes = realloc(s->bytes, size);

		if (!bytes)
			return -ENOMEM;
		r->copy_bytes += size - s->cap;
		s->bytes = bytes;
		s->cap = size;
	}
	r->n_free--;
	memcpy(s->bytes, data, size);
	s->size = size;
	s->cpu = cpu;
	return (int)i;
}

static int full_for(const struct mm_reorder *r, __u32 size)
{
	return r->stats.held >= r->opts.max_records ||
	       r->stats.held_bytes + size > r->opts.max_bytes;
}

void mm_reorder__push(struct mm_reorder *r, int cpu, const void *data, __u32 size)
{
	struct heap_item item;
	uint64_t ktime_ns;
	int slot;

	if (size < sizeof(struct mm_notify_hdr)) {
		/* No timestamp to order by: decode counts it as short. */
		r->stats.released++;
		r->opts.release(r->opts.ctx, cpu, data, size, 0);
		return;
	}
	memcpy(&ktime_ns, (const char *)data + offsetof(struct mm_notify_hdr, ktime_ns),
	       sizeof(ktime_ns));
	if (!mm_reorder__enabled(r)) {
		emit(r, cpu, data, size, ktime_ns);
		return;
	}
	/* Full: the oldest of what is held and this record leaves early. */
	while (full_for(r, size)) {
		r->stats.forced++;
		if (!r->stats.held || ktime_ns <= r->heap[0].ktime_ns) {
			emit(r, cpu, data, size, ktime_ns);
			return;
		}
		pop_oldest(r);
	}
	slot = take_slot(r, cpu, data, size);
	if (slot < 0) {
		emit(r, cpu, data, size, ktime_ns); /* out of memory: late rather than lost */
		return;
	}
	item.ktime_ns = ktime_ns;
	item.seq = r->seq++;
	item.slot = (uint32_t)slot;
	sift_up(r->heap, r->stats.held, item);
	r->stats.held++;
	r->stats.held_bytes += size;
}

size_t mm_reorder__release(struct mm_reorder *r, uint64_t watermark_ns, uint64_t now_ns)
{
	uint64_t safe = watermark_ns > r->opts.slack_ns ? watermark_ns - r->opts.slack_ns : 0;
	uint64_t expired = now_ns > r->opts.window_ns ? now_ns - r->opts.window_ns : 0;
	size_t n = 0;

	while (r->stats.held &&
	       (r->heap[0].ktime_ns < safe || r->heap[0].ktime_ns <= expired)) {
		pop_oldest(r);
		n++;
	}
	return n;
}

void mm_reorder__flush(struct mm_reorder *r)
{
	while (r->stats.held)
		pop_oldest(r);
}

uint64_t mm_reorder__next_release_ns(const struct mm_reorder *r)
{
	uint64_t wait;

	if (!r->stats.held)
		return UINT64_MAX;
	wait = r->opts.slack_ns + 1 < r->opts.window_ns ? r->opts.slack_ns + 1 : r->opts.window_ns;
	return r->heap[0].ktime_ns + wait;
}

void mm_reorder__stats(const struct mm_reorder *r, struct mm_reorder_stats *out)
{
	*out = r->stats;
	out->memory = sizeof(*r) + r->copy_bytes +
		      r->cap * (sizeof(*r->heap) + sizeof(*r->slots) + sizeof(*r->free_slots));
}
