/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The reorder stage between the per-CPU rings and decode: it puts raw
 * records back in kernel time order (struct mm_notify_hdr's ktime_ns, the
 * same CLOCK_MONOTONIC on every CPU). Each ring is in order by itself; the
 * rings are read one after another, so the stream they make together is not.
 *
 * A record is held (copied; each CPU's records in time order, merged by a
 * min-heap of the CPUs keyed by their oldest ktime_ns) until it is safe:
 * once every ring has been read after time T (the rings' watermark), no
 * record with ktime_ns < T - slack can still arrive (the slack covers a BPF
 * program that read the clock and has not yet written its record). A record
 * is never held longer than the window after its ktime_ns: past that it goes
 * even if a ring has not been read since. A record that arrives older than
 * one already released is still released, at once, marked out of order and
 * counted; so is what a full buffer forces out early. Nothing is dropped.
 *
 * The buffer is bounded by count and by bytes (MM_REORDER_MAX_*); memory()
 * in the stats is what it holds allocated, its arrays included. A window of
 * 0 turns it off: every record is released as it is pushed (still marked
 * when it is older than one before it). Not thread-safe: the agent's loop.
 */
#ifndef MESHMON_AGENT_REORDER_H
#define MESHMON_AGENT_REORDER_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

/* From a BPF program's bpf_ktime_get_ns() to its record in the ring: microseconds at most. */
#define MM_REORDER_SLACK_NS 200000ull
/* 16384 records or 4 MiB of record bytes, whichever comes first. */
#define MM_REORDER_MAX_RECORDS 16384u
#define MM_REORDER_MAX_BYTES (4u << 20)

/* One record leaving the stage, data valid only during the call. */
typedef void (*mm_reorder_release_fn)(void *ctx, int cpu, const void *data, __u32 size,
				      int out_of_order);

struct mm_reorder_opts {
	uint64_t window_ns;  /* the longest a record is held after its ktime_ns; 0 = off */
	uint64_t slack_ns;   /* 0: MM_REORDER_SLACK_NS */
	size_t max_records;  /* 0: MM_REORDER_MAX_RECORDS */
	size_t max_bytes;    /* 0: MM_REORDER_MAX_BYTES */
	mm_reorder_release_fn release;
	void *ctx;
};

struct mm_reorder_stats {
	size_t held;          /* records in the buffer now */
	size_t held_bytes;    /* their bytes */
	size_t memory;        /* bytes allocated, arrays and copies */
	uint64_t released;    /* records released */
	uint64_t out_of_order; /* released after a record with a later ktime_ns */
	uint64_t forced;      /* released before it was safe: the buffer was full */
};

/* NULL with errno set. */
struct mm_reorder *mm_reorder__new(const struct mm_reorder_opts *opts);
/* Frees what is held without releasing it (mm_reorder__flush first). Accepts NULL. */
void mm_reorder__free(struct mm_reorder *r);

/*
 * Takes a copy of one ring record. Released at once when the stage is off,
 * when the record is too short to carry a ktime_ns, or when it cannot be
 * copied (out of memory); a full buffer releases its oldest record first.
 */
void mm_reorder__push(struct mm_reorder *r, int cpu, const void *data, __u32 size);

/*
 * Releases, in ktime_ns order, every held record that is safe by watermark_ns
 * (every ring read at or after it) or older than now_ns - window. Returns the
 * number released.
 */
size_t mm_reorder__release(struct mm_reorder *r, uint64_t watermark_ns, uint64_t now_ns);
/* Releases everything held, in order (at shutdown). */
void mm_reorder__flush(struct mm_reorder *r);

/*
 * The CLOCK_MONOTONIC time after which reading every ring makes the oldest
 * held record safe (or its window ends); UINT64_MAX when nothing is held.
 */
uint64_t mm_reorder__next_release_ns(const struct mm_reorder *r);

int mm_reorder__enabled(const struct mm_reorder *r);
void mm_reorder__stats(const struct mm_reorder *r, struct mm_reorder_stats *out);

#endif /* MESHMON_AGENT_REORDER_H */
