// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-pipeline-bench: the latency histogram (pipeline_hist.h).
 */
#include <string.h>

#include "pipeline_hist.h"

static unsigned int bucket_of(uint64_t v)
{
	unsigned int msb, shift;

	if (v < PL_HIST_SUB)
		return (unsigned int)v;
	if (v >> PL_HIST_TOP_BIT)
		return PL_HIST_BUCKETS - 1;
	msb = 63u - (unsigned int)__builtin_clzll(v);
	shift = msb - PL_HIST_SUB_BITS;
	return (shift + 1) * PL_HIST_SUB + (unsigned int)((v >> shift) & (PL_HIST_SUB - 1));
}

/* Lowest value of bucket i, and its width. */
static uint64_t bucket_low(unsigned int i, uint64_t *width)
{
	unsigned int shift;

	if (i < PL_HIST_SUB) {
		*width = 1;
		return i;
	}
	shift = i / PL_HIST_SUB - 1;
	*width = 1ull << shift;
	return (uint64_t)(PL_HIST_SUB | (i % PL_HIST_SUB)) << shift;
}

void pl_hist__reset(struct pl_hist *h)
{
	memset(h, 0, sizeof(*h));
}

void pl_hist__add(struct pl_hist *h, uint64_t v)
{
	h->bucket[bucket_of(v)]++;
	h->count++;
	if (v > h->max)
		h->max = v;
}

void pl_hist__merge(struct pl_hist *dst, const struct pl_hist *src)
{
	for (unsigned int i = 0; i < PL_HIST_BUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
	dst->count += src->count;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t pl_hist__quantile(const struct pl_hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (!h->count)
		return 0;
	/* The smallest value with at least q of the samples at or below it. */
	rank = (uint64_t)(q * (double)h->count + 0.5);
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	for (unsigned int i = 0; i < PL_HIST_BUCKETS; i++) {
		uint64_t width, mid;

		seen += h->bucket[i];
		if (seen < rank)
			continue;
		mid = bucket_low(i, &width) + width / 2;
		return mid < h->max ? mid : h->max;
	}
	return h->max;
}
