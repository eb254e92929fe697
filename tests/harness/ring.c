// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A perf buffer reader for tests: every sample is copied out of the ring
 * (perf data is not aligned) into its own allocation and kept in arrival
 * time order, so a test can look at records by type after the fact.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>

#include "harness.h"

static void ring_sample(void *ctx, int cpu, void *data, __u32 size)
{
	struct mm_test_ring *ring = ctx;
	struct mm_test_record *rec;
	uint8_t *copy;

	if (ring->n == ring->cap) {
		size_t cap = ring->cap ? ring->cap * 2 : 64;
		struct mm_test_record *recs = realloc(ring->recs, cap * sizeof(*recs));

		if (!recs)
			return;
		ring->recs = recs;
		ring->cap = cap;
	}
	/* malloc is aligned for any record; never zero-sized. */
	copy = malloc(size ? size : 1);
	if (!copy)
		return;
	memcpy(copy, data, size);
	rec = &ring->recs[ring->n++];
	rec->cpu = cpu;
	rec->size = size;
	rec->data = copy;
}

static void ring_lost(void *ctx, int cpu, __u64 cnt)
{
	struct mm_test_ring *ring = ctx;

	(void)cpu;
	ring->lost += cnt;
}

struct mm_test_ring *mm_test_ring_open(int events_fd)
{
	struct mm_test_ring *ring = calloc(1, sizeof(*ring));
	int err;

	if (!ring)
		return NULL;
	ring->pb = perf_buffer__new(events_fd, 8, ring_sample, ring_lost, ring, NULL);
	if (!ring->pb) {
		err = errno;
		free(ring);
		errno = err;
		return NULL;
	}
	return ring;
}

/* The notify header's ktime_ns, or 0 for a record too short to have one. */
static uint64_t record_ktime(const struct mm_test_record *rec)
{
	uint64_t ktime = 0;

	if (rec->size >= 16)
		memcpy(&ktime, rec->data + 8, sizeof(ktime));
	return ktime;
}

/*
 * libbpf drains the rings one CPU after the other, so records of different
 * CPUs arrive out of time order. Sort by ktime_ns (the same clock on every
 * CPU), stably so records with equal times keep their ring order. Insertion
 * sort: the input is sorted per CPU already, and tests collect few records.
 */
static void sort_by_time(struct mm_test_ring *ring)
{
	for (size_t i = 1; i < ring->n; i++) {
		struct mm_test_record rec = ring->recs[i];
		uint64_t t = record_ktime(&rec);
		size_t j = i;

		while (j > 0 && record_ktime(&ring->recs[j - 1]) > t) {
			ring->recs[j] = ring->recs[j - 1];
			j--;
		}
		ring->recs[j] = rec;
	}
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

size_t mm_test_ring_collect(struct mm_test_ring *ring, size_t want, int timeout_ms)
{
	long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);

	if (!ring)
		return 0;
	/* Drain what is already there even when want is already met. */
	perf_buffer__consume(ring->pb);
	while (ring->n < want) {
		long long left = deadline - now_ms();

		if (left <= 0)
			break;
		perf_buffer__poll(ring->pb, left < 20 ? (int)left : 20);
	}
	sort_by_time(ring);
	return ring->n;
}

void mm_test_ring_clear(struct mm_test_ring *ring)
{
	if (!ring)
		return;
	for (size_t i = 0; i < ring->n; i++)
		free(ring->recs[i].data);
	ring->n = 0;
}

const struct mm_test_record *mm_test_ring_nth(const struct mm_test_ring *ring, uint8_t type,
					      size_t i)
{
	if (!ring)
		return NULL;
	for (size_t k = 0; k < ring->n; k++) {
		const struct mm_test_record *rec = &ring->recs[k];

		if (rec->size >= 1 && rec->data[0] == type && i-- == 0)
			return rec;
	}
	return NULL;
}

size_t mm_test_ring_count(const struct mm_test_ring *ring, uint8_t type)
{
	size_t count = 0;

	if (!ring)
		return 0;
	for (size_t k = 0; k < ring->n; k++)
		if (ring->recs[k].size >= 1 && ring->recs[k].data[0] == type)
			count++;
	return count;
}

void mm_test_ring_free(struct mm_test_ring *ring)
{
	if (!ring)
		return;
	mm_test_ring_clear(ring);
	free(ring->recs);
	perf_buffer__free(ring->pb);
	free(ring);
}
