// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Owns the reorder buffer (reorder.h). Held records are copies in slots; the
 * slots of each CPU wait in a FIFO in time order (a ring's own order, so a
 * record almost always goes at its end), and a binary min-heap of the CPUs
 * by their oldest record picks what leaves next: the merge costs a
 * comparison or two per record, where one heap of every record cost a
 * dozen dependent ones (meshmon-reorder-bench: 70-150 ns a record). A slot
 * keeps its copy's allocation for the next record, so a steady stream
 * allocates nothing; the copies are given back once they hold more than
 * max_bytes.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "records.h"
#include "reorder.h"

/*
 * One copy held. Ties (the same ktime_ns) leave in arrival order (seq,
 * compared modulo 2^32: exact while fewer than 2^31 records are held, and
 * max_records is capped below that).
 */
struct slot {
	unsigned char *bytes;
	uint64_t ktime_ns;
	__u32 size, cap;
	uint32_t seq;
};

/*
 * One CPU's held records, oldest first: a circular FIFO of slot numbers
 * (cap a power of two). A ring is in time order by itself, so a record
 * almost always goes at the end; one that does not is moved back to its
 * place.
 */
struct run {
	uint32_t *idx;
	uint32_t head, n, cap;
	uint32_t pos; /* its place in heads while n > 0 */
};

struct mm_reorder {
	struct mm_reorder_opts opts;
	struct slot *slots;
	uint32_t *free_slots;   /* a stack of the slots not held */
	size_t n_free, cap;     /* cap: length of slots and free_slots */
	struct run *runs;       /* by CPU */
	uint32_t *heads;        /* the CPUs with held records, a min-heap by their oldest */
	size_t n_runs, n_heads; /* n_runs: length of runs and heads */
	size_t copy_bytes;      /* what the slots' copies have allocated */
	size_t run_bytes;       /* what the runs' FIFOs have allocated */
	uint32_t seq;
	uint64_t last_ktime_ns; /* the latest ktime_ns released so far */
	struct mm_reorder_stats stats;
};

/* CPU numbers past this are not merged (released at once): no ring has them. */
#define MAX_CPU 65535

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
		r->opts.max_records = 1u << 30; /* slot.seq's modulo order */
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
	for (size_t i = 0; i < r->n_runs; i++)
		free(r->runs[i].idx);
	free(r->runs);
	free(r->heads);
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

/*
 * Without a branch: which of two CPUs holds the older record is a coin
 * toss, and a mispredicted branch per comparison costs more than the rest.
 */
static inline int slot_before(const struct slot *a, const struct slot *b)
{
	return (a->ktime_ns < b->ktime_ns) |
	       ((a->ktime_ns == b->ktime_ns) & ((int32_t)(a->seq - b->seq) < 0));
}

static inline struct slot *run_at(const struct mm_reorder *r, const struct run *q, uint32_t i)
{
	return &r->slots[q->idx[(q->head + i) & (q->cap - 1)]];
}

static inline int head_before(const struct mm_reorder *r, uint32_t cpu_a, uint32_t cpu_b)
{
	return slot_before(run_at(r, &r->runs[cpu_a], 0), run_at(r, &r->runs[cpu_b], 0));
}

static inline void heads_set(struct mm_reorder *r, size_t i, uint32_t cpu)
{
	r->heads[i] = cpu;
	r->runs[cpu].pos = (uint32_t)i;
}

static void heads_up(struct mm_reorder *r, size_t i)
{
	uint32_t cpu = r->heads[i];

	while (i) {
		size_t parent = (i - 1) / 2;

		if (!head_before(r, cpu, r->heads[parent]))
			break;
		heads_set(r, i, r->heads[parent]);
		i = parent;
	}
	heads_set(r, i, cpu);
}

static void heads_down(struct mm_reorder *r, size_t i)
{
	uint32_t cpu = r->heads[i];

	for (;;) {
		size_t child = 2 * i + 1;

		if (child >= r->n_heads)
			break;
		child += child + 1 < r->n_heads && head_before(r, r->heads[child + 1], r->heads[child]);
		if (!head_before(r, r->heads[child], cpu))
			break;
		heads_set(r, i, r->heads[child]);
		i = child;
	}
	heads_set(r, i, cpu);
}

static const struct slot *oldest(const struct mm_reorder *r)
{
	return run_at(r, &r->runs[r->heads[0]], 0);
}

/* Releases the oldest held record and gives its slot back. */
static void pop_oldest(struct mm_reorder *r)
{
	uint32_t cpu = r->heads[0];
	struct run *q = &r->runs[cpu];
	uint32_t i = q->idx[q->head];
	struct slot *s = &r->slots[i];

	q->head = (q->head + 1) & (q->cap - 1);
	if (--q->n)
		heads_down(r, 0);
	else if (--r->n_heads) {
		heads_set(r, 0, r->heads[r->n_heads]);
		heads_down(r, 0);
	}
	r->stats.held--;
	r->stats.held_bytes -= s->size;
	emit(r, (int)cpu, s->bytes, s->size, s->ktime_ns);
	r->free_slots[r->n_free++] = i;
	if (r->copy_bytes > r->opts.max_bytes) {
		r->copy_bytes -= s->cap;
		free(s->bytes);
		s->bytes = NULL;
		s->cap = 0;
	}
}

/* runs and heads long enough for cpu; 0 or -ENOMEM. */
static int grow_runs(struct mm_reorder *r, uint32_t cpu)
{
	size_t n = cpu + 1 > 2 * r->n_runs ? cpu + 1 : 2 * r->n_runs;
	struct run *runs;
	uint32_t *heads;

	runs = realloc(r->runs, n * sizeof(*runs));
	if (!runs)
		return -ENOMEM;
	r->runs = runs;
	heads = realloc(r->heads, n * sizeof(*heads));
	if (!heads)
		return -ENOMEM;
	r->heads = heads;
	memset(&r->runs[r->n_runs], 0, (n - r->n_runs) * sizeof(*runs));
	r->n_runs = n;
	return 0;
}

/* Room for one more slot number in q, its order kept; 0 or -ENOMEM. */
static int grow_run(struct mm_reorder *r, struct run *q)
{
	uint32_t cap = q->cap ? 2 * q->cap : 64, *idx = malloc(cap * sizeof(*idx));

	if (!idx)
		return -ENOMEM;
	for (uint32_t i = 0; i < q->n; i++)
		idx[i] = q->idx[(q->head + i) & (q->cap - 1)];
	free(q->idx);
	r->run_bytes += (size_t)(cap - q->cap) * sizeof(*idx);
	q->idx = idx;
	q->head = 0;
	q->cap = cap;
	return 0;
}

/* Slot i, already filled, into its CPU's run; 0 or -ENOMEM (nothing changed). */
static int hold(struct mm_reorder *r, uint32_t cpu, uint32_t i)
{
	const struct slot *s = &r->slots[i];
	struct run *q;
	uint32_t at;

	if (cpu >= r->n_runs && grow_runs(r, cpu))
		return -ENOMEM;
	q = &r->runs[cpu];
	if (q->n == q->cap && grow_run(r, q))
		return -ENOMEM;
	/* from the end back to its place: no step at all for a ring in order */
	for (at = q->n; at && slot_before(s, run_at(r, q, at - 1)); at--)
		q->idx[(q->head + at) & (q->cap - 1)] = q->idx[(q->head + at - 1) & (q->cap - 1)];
	q->idx[(q->head + at) & (q->cap - 1)] = i;
	if (q->n++ == 0) {
		heads_set(r, r->n_heads, cpu);
		heads_up(r, r->n_heads++);
	} else if (at == 0) {
		heads_up(r, q->pos); /* its oldest is older now */
	}
	return 0;
}

/* Room for one more slot: the arrays doubled up to max_records. 0 or -ENOMEM. */
static int grow(struct mm_reorder *r)
{
	size_t cap = r->cap ? r->cap * 2 : 64;
	struct slot *slots;
	uint32_t *free_slots;

	if (cap > r->opts.max_records)
		cap = r->opts.max_records;
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
static int take_slot(struct mm_reorder *r, const void *data, __u32 size, uint64_t ktime_ns)
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
	memcpy(s->bytes, data, size);
	s->size = size;
	s->ktime_ns = ktime_ns;
	s->seq = r->seq;
	return (int)i;
}

static int full_for(const struct mm_reorder *r, __u32 size)
{
	return r->stats.held >= r->opts.max_records ||
	       r->stats.held_bytes + size > r->opts.max_bytes;
}

void mm_reorder__push(struct mm_reorder *r, int cpu, const void *data, __u32 size)
{
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
	if (!mm_reorder__enabled(r) || cpu < 0 || cpu > MAX_CPU) {
		emit(r, cpu, data, size, ktime_ns);
		return;
	}
	/* Full: the oldest of what is held and this record leaves early. */
	while (full_for(r, size)) {
		r->stats.forced++;
		if (!r->stats.held || ktime_ns <= oldest(r)->ktime_ns) {
			emit(r, cpu, data, size, ktime_ns);
			return;
		}
		pop_oldest(r);
	}
	slot = take_slot(r, data, size, ktime_ns);
	if (slot < 0 || hold(r, (uint32_t)cpu, (uint32_t)slot)) {
		emit(r, cpu, data, size, ktime_ns); /* out of memory: late rather than lost */
		return;
	}
	r->n_free--;
	r->seq++;
	r->stats.held++;
	r->stats.held_bytes += size;
}

size_t mm_reorder__release(struct mm_reorder *r, uint64_t watermark_ns, uint64_t now_ns)
{
	uint64_t safe = watermark_ns > r->opts.slack_ns ? watermark_ns - r->opts.slack_ns : 0;
	uint64_t expired = now_ns > r->opts.window_ns ? now_ns - r->opts.window_ns : 0;
	size_t n = 0;

	while (r->stats.held && (oldest(r)->ktime_ns < safe || oldest(r)->ktime_ns <= expired)) {
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
	return oldest(r)->ktime_ns + wait;
}

void mm_reorder__stats(const struct mm_reorder *r, struct mm_reorder_stats *out)
{
	*out = r->stats;
	out->memory = sizeof(*r) + r->copy_bytes + r->run_bytes +
		      r->cap * (sizeof(*r->slots) + sizeof(*r->free_slots)) +
		      r->n_runs * (sizeof(*r->runs) + sizeof(*r->heads));
}
