/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The loss ledger: what the agent has reported lost upstream of the hub, per
 * CPU and per source (DATAPATH, RING, RATE_LIMIT), per record type for the
 * refusals of a type's own rate limit, and the hub's QUEUE losses in the
 * totals. The datapath's counters are cumulative (per CPU, per type); the
 * ledger keeps the last read and hands the hub only what grew since. A full
 * ring is counted once although both the datapath (ring_full) and the kernel
 * (PERF_RECORD_LOST) see it.
 */
#ifndef MESHMON_AGENT_LOSSES_H
#define MESHMON_AGENT_LOSSES_H

#include <stdint.h>

struct mm_datapath;
struct mm_hub;
struct mm_losses;

/* ncpus: the possible CPUs, as the datapath's per-CPU maps count them. NULL with errno set. */
struct mm_losses *mm_losses__new(int ncpus);
/* Accepts NULL. */
void mm_losses__free(struct mm_losses *l);

/*
 * PERF_RECORD_LOST: the kernel counted count refused writes on cpu's ring.
 * A cpu outside the ledger is passed to the hub as not per CPU and not kept.
 */
void mm_losses__add_perf_lost(struct mm_losses *l, struct mm_hub *hub, int cpu, uint64_t count);
/* Reads the datapath's per-CPU loss counters and reports to hub what grew since the last read. */
void mm_losses__poll(struct mm_losses *l, const struct mm_datapath *dp, struct mm_hub *hub);

/*
 * Reported so far on each CPU for source (a LossSource: DATAPATH, RING or
 * RATE_LIMIT), an array of ncpus; NULL for any other source.
 */
const uint64_t *mm_losses__per_cpu(const struct mm_losses *l, unsigned int source);
/*
 * Reported so far for record type (enum mm_event_type) as refused by its own
 * rate limit (RATE_LIMIT with that type, not per CPU).
 */
uint64_t mm_losses__type_refused(const struct mm_losses *l, unsigned int type);
/*
 * Totals per LossSource (MM_LOSS_SOURCES entries; RATE_LIMIT: the host
 * total's and every type's), QUEUE from the hub.
 */
void mm_losses__totals(const struct mm_losses *l, const struct mm_hub *hub, uint64_t *by_source);

#endif /* MESHMON_AGENT_LOSSES_H */
