// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The loss ledger (losses.h): per-CPU counters between the datapath, the kernel and the hub. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "datapath.h"
#include "hub.h"
#include "losses.h"

struct mm_losses {
	int ncpus;
	/*
	 * Per CPU. ring_lost: ring loss reported so far, the larger of the
	 * datapath's ring_full counter (ring_full) and the kernel's
	 * PERF_RECORD_LOST total (kernel_lost), which count the same failed
	 * writes. dp_failed, dp_limited: the last read of output_failed and
	 * rate_limited. scratch: the current read.
	 */
	uint64_t *ring_lost, *ring_full, *kernel_lost, *dp_failed, *dp_limited, *scratch;
	/* Per record type, not per CPU: refused by the type's own limit, reported so far. */
	uint64_t type_refused[MM_EVENT_TYPE_SLOTS];
	uint64_t counters[]; /* 6 * ncpus, the arrays above */
};

struct mm_losses *mm_losses__new(int ncpus)
{
	struct mm_losses *l;
	size_t n;

	if (ncpus < 1) {
		errno = EINVAL;
		return NULL;
	}
	n = (size_t)ncpus;
	l = calloc(1, sizeof(*l) + 6 * n * sizeof(l->counters[0]));
	if (!l)
		return NULL;
	l->ncpus = ncpus;
	l->ring_lost = l->counters;
	l->ring_full = l->ring_lost + n;
	l->kernel_lost = l->ring_full + n;
	l->dp_failed = l->kernel_lost + n;
	l->dp_limited = l->dp_failed + n;
	l->scratch = l->dp_limited + n;
	return l;
}

void mm_losses__free(struct mm_losses *l)
{
	free(l);
}

/*
 * A full ring shows twice: the datapath counts the refused write (ring_full,
 * read every second) and the kernel counts it in the ring's lost counter
 * (PERF_RECORD_LOST, delivered with the next successful write). Report each
 * loss once: whatever the larger of the two has grown by.
 */
static void report_ring_loss(struct mm_losses *l, struct mm_hub *hub, int cpu, uint64_t now)
{
	uint64_t seen =
	    l->ring_full[cpu] > l->kernel_lost[cpu] ? l->ring_full[cpu] : l->kernel_lost[cpu];

	if (seen > l->ring_lost[cpu]) {
		mm_hub__add_loss(hub, MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_RING, (uint32_t)cpu,
				 seen - l->ring_lost[cpu], now);
		l->ring_lost[cpu] = seen;
	}
}

void mm_losses__add_perf_lost(struct mm_losses *l, struct mm_hub *hub, int cpu, uint64_t count)
{
	if (cpu >= 0 && cpu < l->ncpus) {
		l->kernel_lost[cpu] += count;
		report_ring_loss(l, hub, cpu, mm_hub__now_ns());
	} else {
		mm_hub__add_loss(hub, MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_RING, MM_CPU_NONE,
				 count, mm_hub__now_ns());
	}
}

/* Refusals by each type's own limit: what grew since the last read, as that type's loss. */
static void poll_type_refused(struct mm_losses *l, const struct mm_datapath *dp,
			      struct mm_hub *hub, uint64_t now)
{
	struct mm_type_counter counters[MM_EVENT_TYPE_SLOTS];

	if (mm_datapath__read_type_counters(dp, counters))
		return;
	for (unsigned int type = 0; type < MM_EVENT_TYPE_SLOTS; type++) {
		if (counters[type].refused > l->type_refused[type])
			mm_hub__add_type_loss(hub, type,
					      counters[type].refused - l->type_refused[type], now);
		l->type_refused[type] = counters[type].refused;
	}
}

/* Datapath counters are per CPU and cumulative: report what grew since the last read. */
void mm_losses__poll(struct mm_losses *l, const struct mm_datapath *dp, struct mm_hub *hub)
{
	static const struct {
		__u32 stat;
		unsigned int source;
	} kinds[] = {
	    {MM_STAT_OUTPUT_FAILED, MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_DATAPATH},
	    {MM_STAT_RATE_LIMITED, MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_RATE_LIMIT},
	};
	uint64_t now = mm_hub__now_ns();

	for (size_t k = 0; k < 2; k++) {
		uint64_t *prev = k == 0 ? l->dp_failed : l->dp_limited;

		if (mm_datapath__read_stats_percpu(dp, kinds[k].stat, (__u64 *)l->scratch,
						   l->ncpus))
			continue;
		for (int c = 0; c < l->ncpus; c++) {
			if (l->scratch[c] > prev[c])
				mm_hub__add_loss(hub, kinds[k].source, (uint32_t)c,
						 l->scratch[c] - prev[c], now);
			prev[c] = l->scratch[c];
		}
	}
	if (!mm_datapath__read_stats_percpu(dp, MM_STAT_RING_FULL, (__u64 *)l->ring_full,
					    l->ncpus)) {
		for (int c = 0; c < l->ncpus; c++)
			report_ring_loss(l, hub, c, now);
	}
	poll_type_refused(l, dp, hub, now);
}

uint64_t mm_losses__type_refused(const struct mm_losses *l, unsigned int type)
{
	return type < MM_EVENT_TYPE_SLOTS ? l->type_refused[type] : 0;
}

const uint64_t *mm_losses__per_cpu(const struct mm_losses *l, unsigned int source)
{
	switch (source) {
	case MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_DATAPATH:
		return l->dp_failed;
	case MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_RING:
		return l->ring_lost;
	case MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_RATE_LIMIT:
		return l->dp_limited;
	default:
		return NULL;
	}
}

static uint64_t sum(const uint64_t *v, int n)
{
	uint64_t s = 0;

	for (int i = 0; i < n; i++)
		s += v[i];
	return s;
}

void mm_losses__totals(const struct mm_losses *l, const struct mm_hub *hub, uint64_t *by_source)
{
	struct mm_hub_stats hs;

	mm_hub__stats(hub, &hs);
	memset(by_source, 0, MM_LOSS_SOURCES * sizeof(*by_source));
	by_source[MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_DATAPATH] = sum(l->dp_failed, l->ncpus);
	by_source[MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_RING] = sum(l->ring_lost, l->ncpus);
	by_source[MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_RATE_LIMIT] = sum(l->dp_limited, l->ncpus);
	for (unsigned int type = 0; type < MM_EVENT_TYPE_SLOTS; type++)
		by_source[MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_RATE_LIMIT] += l->type_refused[type];
	by_source[MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_QUEUE] = hs.queue_lost;
}
