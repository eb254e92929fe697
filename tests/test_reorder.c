// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The reorder stage (agent/reorder.h) by itself: records made as the
 * datapath makes them (struct mm_notify_hdr first), pushed as two rings
 * would deliver them, and what leaves in which order, when, and marked how.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "records.h"
#include "reorder.h"

#define US 1000ull
#define MS 1000000ull
#define MAX_OUT 4096

struct released {
	uint64_t ktime_ns;
	int cpu;
	int out_of_order;
	__u32 size;
	uint32_t tag; /* the record's flow_id, to tell equal timestamps apart */
};

static struct released out[MAX_OUT];
static size_t n_out;

static void on_release(void *ctx, int cpu, const void *data, __u32 size, int out_of_order)
{
	struct mm_notify_hdr h = {0};

	(void)ctx;
	cr_assert(lt(sz, n_out, MAX_OUT));
	if (size >= sizeof(h))
		memcpy(&h, data, sizeof(h));
	out[n_out].ktime_ns = h.ktime_ns;
	out[n_out].tag = h.flow_id;
	out[n_out].cpu = cpu;
	out[n_out].out_of_order = out_of_order;
	out[n_out].size = size;
	n_out++;
}

static struct mm_reorder *new_stage(uint64_t window_ns, size_t max_records, size_t max_bytes)
{
	struct mm_reorder_opts o = {
		.window_ns = window_ns,
		.slack_ns = 100 * US,
		.max_records = max_records,
		.max_bytes = max_bytes,
		.release = on_release,
	};
	struct mm_reorder *r;

	n_out = 0;
	r = mm_reorder__new(&o);
	cr_assert(not(eq(ptr, r, NULL)));
	return r;
}

/* A trace record of size bytes (>= the header) stamped ktime_ns. */
static void push(struct mm_reorder *r, int cpu, uint64_t ktime_ns, uint32_t tag, size_t size)
{
	unsigned char buf[256] = {0};
	struct mm_notify_hdr h = {
		.type = MM_EVENT_TRACE, .flow_id = tag, .ktime_ns = ktime_ns,
	};

	cr_assert(le(sz, size, sizeof(buf)));
	cr_assert(ge(sz, size, sizeof(h)));
	memcpy(buf, &h, sizeof(h));
	/* unaligned on purpose: the ring's samples are */
	mm_reorder__push(r, cpu, buf, (__u32)size);
}

static void expect_order(const uint64_t *want, size_t n)
{
	cr_assert(eq(sz, n_out, n));
	for (size_t i = 0; i < n; i++)
		cr_expect(eq(u64, out[i].ktime_ns, want[i]), "record %zu", i);
}

Test(reorder, two_rings_leave_in_time_order_once_the_watermark_passes)
{
	struct mm_reorder *r = new_stage(5 * MS, 0, 0);
	const uint64_t want[] = {10 * US, 15 * US, 20 * US, 25 * US, 30 * US, 35 * US};

	/* ring 0 read first, then ring 1: each in order, together not */
	push(r, 0, 10 * US, 0, 40);
	push(r, 0, 20 * US, 0, 40);
	push(r, 0, 30 * US, 0, 40);
	push(r, 1, 15 * US, 0, 40);
	push(r, 1, 25 * US, 0, 40);
	push(r, 1, 35 * US, 0, 40);
	cr_assert(eq(u64, mm_reorder__next_release_ns(r), 10 * US + 100 * US + 1));
	/* every ring read at 120 us: records before 120 - 100 us are safe */
	cr_assert(eq(sz, mm_reorder__release(r, 120 * US, 120 * US), 2));
	expect_order(want, 2);
	cr_assert(eq(sz, mm_reorder__release(r, 200 * US, 200 * US), 4));
	expect_order(want, 6);
	for (size_t i = 0; i < n_out; i++)
		cr_expect(eq(int, out[i].out_of_order, 0));
	cr_assert(eq(u64, mm_reorder__next_release_ns(r), UINT64_MAX));
	mm_reorder__free(r);
}

Test(reorder, held_while_a_ring_may_still_hold_older_records)
{
	struct mm_reorder *r = new_stage(5 * MS, 0, 0);
	const uint64_t want[] = {50 * US, 60 * US};

	push(r, 0, 60 * US, 0, 40);
	/* the other ring was last read at 100 us: 60 us is inside its slack */
	cr_assert(eq(sz, mm_reorder__release(r, 100 * US, 1 * MS), 0));
	push(r, 1, 50 * US, 0, 40);
	cr_assert(eq(sz, mm_reorder__release(r, 161 * US, 1 * MS), 2));
	expect_order(want, 2);
	mm_reorder__free(r);
}

Test(reorder, equal_timestamps_keep_their_arrival_order)
{
	struct mm_reorder *r = new_stage(5 * MS, 0, 0);

	for (uint32_t i = 0; i < 20; i++)
		push(r, (int)(i % 2), 40 * US, i, 40);
	mm_reorder__flush(r);
	cr_assert(eq(sz, n_out, 20));
	for (uint32_t i = 0; i < 20; i++) {
		cr_expect(eq(u32, out[i].tag, i));
		cr_expect(eq(int, out[i].cpu, (int)(i % 2)));
	}
	mm_reorder__free(r);
}

Test(reorder, window_bounds_the_wait_when_a_ring_is_not_read)
{
	struct mm_reorder *r = new_stage(2 * MS, 0, 0);

	push(r, 0, 1 * MS, 0, 40);
	push(r, 0, 2 * MS, 0, 40);
	/* a ring never read again (watermark 0): only the window lets them go */
	cr_assert(eq(u64, mm_reorder__next_release_ns(r), 1 * MS + 100 * US + 1));
	cr_assert(eq(sz, mm_reorder__release(r, 0, 3 * MS - 1), 0));
	cr_assert(eq(sz, mm_reorder__release(r, 0, 3 * MS), 1));
	cr_assert(eq(u64, out[0].ktime_ns, 1 * MS));
	cr_assert(eq(sz, mm_reorder__release(r, 0, 4 * MS), 1));
	cr_assert(eq(u64, out[1].ktime_ns, 2 * MS));
	mm_reorder__free(r);
}

Test(reorder, a_record_older_than_one_released_is_delivered_marked_and_counted)
{
	struct mm_reorder *r = new_stage(2 * MS, 0, 0);
	struct mm_reorder_stats st;

	push(r, 0, 5 * MS, 0, 40);
	mm_reorder__release(r, 10 * MS, 10 * MS);
	push(r, 1, 4 * MS, 0, 40); /* arrived after its window */
	push(r, 1, 6 * MS, 0, 40);
	mm_reorder__release(r, 10 * MS, 10 * MS);
	cr_assert(eq(sz, n_out, 3));
	cr_expect(eq(u64, out[1].ktime_ns, 4 * MS));
	cr_expect(eq(int, out[0].out_of_order, 0));
	cr_expect(eq(int, out[1].out_of_order, 1));
	cr_expect(eq(int, out[2].out_of_order, 0), "6 ms is after 5 ms: in order again");
	mm_reorder__stats(r, &st);
	cr_expect(eq(u64, st.out_of_order, 1));
	cr_expect(eq(u64, st.released, 3));
	cr_expect(eq(u64, st.forced, 0));
	mm_reorder__free(r);
}

Test(reorder, a_full_buffer_releases_its_oldest_early_and_loses_nothing)
{
	struct mm_reorder *r = new_stage(1000 * MS, 4, 0);
	struct mm_reorder_stats st;

	for (uint64_t k = 10; k < 16; k++)
		push(r, 0, k * MS, 0, 40);
	/* room for 4: 10 and 11 ms left early, in order */
	cr_assert(eq(sz, n_out, 2));
	cr_expect(eq(u64, out[0].ktime_ns, 10 * MS));
	cr_expect(eq(u64, out[1].ktime_ns, 11 * MS));
	/* full, and older than everything held: it is the oldest, out at once, late */
	push(r, 1, 9 * MS, 0, 40);
	cr_assert(eq(sz, n_out, 3));
	cr_expect(eq(u64, out[2].ktime_ns, 9 * MS));
	cr_expect(eq(int, out[2].out_of_order, 1));
	mm_reorder__stats(r, &st);
	cr_expect(eq(sz, st.held, 4));
	cr_expect(eq(u64, st.forced, 3));
	cr_expect(eq(u64, st.out_of_order, 1));
	mm_reorder__flush(r);
	cr_assert(eq(sz, n_out, 7), "every record pushed came out");
	mm_reorder__free(r);
}

Test(reorder, the_byte_bound_counts_record_bytes)
{
	struct mm_reorder *r = new_stage(1000 * MS, 0, 500);
	struct mm_reorder_stats st;

	for (uint64_t k = 1; k <= 4; k++)
		push(r, 0, k * MS, 0, 200);
	/* 500 bytes hold two records of 200 */
	cr_assert(eq(sz, n_out, 2));
	mm_reorder__stats(r, &st);
	cr_expect(eq(sz, st.held, 2));
	cr_expect(eq(sz, st.held_bytes, 400));
	cr_expect(ge(sz, st.memory, 400), "the copies are accounted: %zu", st.memory);
	mm_reorder__flush(r);
	cr_assert(eq(sz, n_out, 4));
	for (size_t i = 0; i < n_out; i++) {
		cr_expect(eq(u64, out[i].ktime_ns, (i + 1) * MS));
		cr_expect(eq(u32, out[i].size, 200));
	}
	mm_reorder__free(r);
}

Test(reorder, memory_stays_bounded_under_a_steady_stream)
{
	struct mm_reorder *r = new_stage(5 * MS, 64, 64 * 100);
	struct mm_reorder_stats st;
	size_t peak = 0;

	for (uint64_t k = 0; k < 20000; k++) {
		push(r, (int)(k % 2), k * US, 0, 40 + (size_t)(k % 60));
		if (n_out > MAX_OUT / 2)
			n_out = 0;
		mm_reorder__release(r, k * US, k * US);
		mm_reorder__stats(r, &st);
		if (st.memory > peak)
			peak = st.memory;
	}
	cr_expect(le(sz, st.held, 64));
	/* the arrays for 64 slots and at most max_bytes of copies plus one record */
	cr_expect(lt(sz, peak, 64 * 100 + 100 + 64 * 64 + 1024), "peak %zu bytes", peak);
	mm_reorder__free(r);
}

Test(reorder, off_releases_as_pushed_and_still_marks_late_records)
{
	struct mm_reorder *r = new_stage(0, 0, 0);
	struct mm_reorder_stats st;

	cr_assert(eq(int, mm_reorder__enabled(r), 0));
	push(r, 0, 30 * US, 0, 40);
	cr_assert(eq(sz, n_out, 1), "nothing held");
	push(r, 1, 20 * US, 0, 40);
	cr_assert(eq(sz, n_out, 2));
	cr_expect(eq(u64, out[1].ktime_ns, 20 * US));
	cr_expect(eq(int, out[1].out_of_order, 1));
	cr_assert(eq(u64, mm_reorder__next_release_ns(r), UINT64_MAX));
	mm_reorder__stats(r, &st);
	cr_expect(eq(u64, st.out_of_order, 1));
	cr_expect(eq(sz, st.held, 0));
	mm_reorder__free(r);
}

Test(reorder, a_record_too_short_for_a_timestamp_passes_through)
{
	struct mm_reorder *r = new_stage(5 * MS, 0, 0);
	unsigned char tiny[4] = {MM_EVENT_TRACE};

	push(r, 0, 50 * US, 0, 40);
	mm_reorder__push(r, 1, tiny, sizeof(tiny));
	cr_assert(eq(sz, n_out, 1));
	cr_expect(eq(u32, out[0].size, 4));
	cr_expect(eq(int, out[0].out_of_order, 0));
	mm_reorder__flush(r);
	cr_assert(eq(sz, n_out, 2));
	mm_reorder__free(r);
}

Test(reorder, a_ring_out_of_order_by_itself_is_sorted_too)
{
	struct mm_reorder *r = new_stage(5 * MS, 0, 0);
	const uint64_t want[] = {5, 10, 20, 25, 30, 40, 50};

	push(r, 0, 10, 0, 40);
	push(r, 0, 30, 0, 40);
	push(r, 0, 20, 0, 40); /* behind the end of its own CPU's records */
	push(r, 1, 50, 0, 40);
	push(r, 1, 25, 0, 40); /* before the oldest of its CPU */
	push(r, 1, 5, 0, 40);  /* ... and before every CPU's oldest */
	push(r, 1, 40, 0, 40);
	mm_reorder__flush(r);
	expect_order(want, 7);
	for (size_t i = 0; i < n_out; i++)
		cr_expect(eq(int, out[i].out_of_order, 0));
	mm_reorder__free(r);
}

/* The order a stable sort by ktime_ns gives (ties in arrival order). */
static int by_time_then_tag(const void *a, const void *b)
{
	const struct released *x = a, *y = b;

	if (x->ktime_ns != y->ktime_ns)
		return x->ktime_ns < y->ktime_ns ? -1 : 1;
	return x->tag < y->tag ? -1 : x->tag > y->tag;
}

Test(reorder, random_rings_come_out_as_a_stable_sort)
{
	static struct released want[MAX_OUT];
	uint64_t rng = 0x72656f7264657231ull, clock[8] = {0};
	size_t total_marked = 0;

	for (int round = 0; round < 20; round++) {
		struct mm_reorder *r = new_stage(1000 * MS, 0, 0);
		size_t n = 0;

		for (uint32_t i = 0; i < 3000; i++) {
			int cpu;
			uint64_t k;

			rng ^= rng >> 12, rng ^= rng << 25, rng ^= rng >> 27;
			cpu = (int)((rng >> 8) % 8);
			/* each CPU mostly in order, sometimes a step back, sometimes a tie */
			clock[cpu] += (rng >> 16) % 4 == 0 ? 0 : (rng >> 20) % 50;
			clock[cpu] += clock[cpu] < 100 ? 100 : 0; /* no step back below 0 */
			k = clock[cpu] - ((rng >> 32) % 16 == 0 ? (rng >> 40) % 100 : 0);
			k *= US; /* steps back of up to 100 us: some beyond the 100 us slack */
			push(r, cpu, k, i, 40);
			want[n].ktime_ns = k;
			want[n].tag = i;
			want[n].cpu = cpu;
			n++;
			if ((rng >> 50) % 64 == 0)
				mm_reorder__release(r, k, 0); /* a watermark now and then */
		}
		mm_reorder__flush(r);
		cr_assert(eq(sz, n_out, n));
		/* the watermark let some go early: whatever came later and older is marked */
		size_t unmarked = 0, marked = 0;
		uint64_t latest = 0;

		for (size_t i = 0; i < n_out; i++) {
			unmarked += out[i].ktime_ns < latest && !out[i].out_of_order;
			marked += out[i].out_of_order;
			latest = out[i].ktime_ns > latest ? out[i].ktime_ns : latest;
		}
		cr_expect(eq(sz, unmarked, 0), "round %d", round);
		total_marked += marked;
		qsort(want, n, sizeof(want[0]), by_time_then_tag);
		qsort(out, n_out, sizeof(out[0]), by_time_then_tag);
		for (size_t i = 0; i < n; i++) {
			cr_expect(eq(u32, out[i].tag, want[i].tag), "record %zu", i);
			cr_expect(eq(int, out[i].cpu, want[i].cpu), "record %zu", i);
		}
		mm_reorder__free(r);
	}
	cr_expect(gt(sz, total_marked, 0), "the watermarks let some records go early");
}

/* Without a watermark, only the flush releases: exactly a stable sort. */
Test(reorder, flush_is_a_stable_sort)
{
	static struct released want[MAX_OUT];
	struct mm_reorder *r = new_stage(1000 * MS, 0, 0);
	uint64_t rng = 0x666c757368303031ull;

	for (uint32_t i = 0; i < 4000; i++) {
		uint64_t k;

		rng ^= rng >> 12, rng ^= rng << 25, rng ^= rng >> 27;
		k = 1000 + i / 4 - (rng >> 58); /* mostly rising, steps back of up to 63 */
		push(r, (int)(rng % 3), k, i, 40);
		want[i].ktime_ns = k;
		want[i].tag = i;
	}
	mm_reorder__flush(r);
	qsort(want, 4000, sizeof(want[0]), by_time_then_tag);
	cr_assert(eq(sz, n_out, 4000));
	for (size_t i = 0; i < n_out; i++) {
		cr_expect(eq(u32, out[i].tag, want[i].tag), "record %zu", i);
		cr_expect(eq(int, out[i].out_of_order, 0), "record %zu", i);
	}
	mm_reorder__free(r);
}
