/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The per-CPU event rings, read inside a libevent loop. Each CPU's ring fd is
 * an event of its own, and the kernel wakes it only every `wakeup_events`
 * records (a perf wakeup costs microseconds). A drain timer reads every ring
 * so that records below that count do not wait: it adapts to the traffic,
 * every `drain_min_us` while records flow (latency stays low when traffic is
 * light) and doubling up to `drain_ms` while the rings stay empty (an idle
 * agent wakes rarely); at high rates the wakeups come first and the timer
 * costs nothing. The work per callback is bounded by the ring's size.
 */
#ifndef MESHMON_AGENT_RINGS_H
#define MESHMON_AGENT_RINGS_H

#include <stdint.h>
#include <linux/types.h>

struct event_base;
struct mm_rings;

/* One raw sample: data is the record, not aligned, size bytes (>= what the datapath wrote). */
typedef void (*mm_rings_sample_fn)(void *ctx, int cpu, const void *data, __u32 size);
/* PERF_RECORD_LOST: the kernel overwrote `count` records of this CPU's ring. */
typedef void (*mm_rings_lost_fn)(void *ctx, int cpu, __u64 count);

struct mm_rings_opts {
	int events_fd;      /* the BPF_MAP_TYPE_PERF_EVENT_ARRAY */
	unsigned int pages; /* per CPU, a power of two */
	unsigned int wakeup_events; /* 1 = wake on every record */
	unsigned int drain_ms;      /* the longest drain interval, when idle; 0 = no drain timer */
	unsigned int drain_min_us;  /* the shortest, while records flow; 0 = always drain_ms */
	mm_rings_sample_fn on_sample;
	mm_rings_lost_fn on_lost;
	void (*on_batch)(void *ctx); /* after each ring's batch and each drain; may be NULL */
	void *ctx;
};

/* NULL with errno set on failure. */
struct mm_rings *mm_rings__new(struct event_base *base, const struct mm_rings_opts *opts);
void mm_rings__free(struct mm_rings *rings);
/* Consume everything now in every ring; returns records seen or -errno. */
int mm_rings__drain(struct mm_rings *rings);
/*
 * The watermark for putting records in time order across rings: the
 * CLOCK_MONOTONIC time just before the least recently read ring was last
 * read (or opened). A record committed before it has
 * been read; one that has not yet been read was committed after it.
 */
uint64_t mm_rings__watermark_ns(const struct mm_rings *rings);
/* Number of rings (CPUs with a ring). */
unsigned int mm_rings__count(const struct mm_rings *rings);

#endif /* MESHMON_AGENT_RINGS_H */
