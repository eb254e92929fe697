// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Owns the libbpf perf buffer over mm_events and the libevent events that
 * drive it: one read event per CPU ring plus the drain timer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/perf_event.h>
#include <bpf/libbpf.h>
#include <event2/event.h>

#include "rings.h"
#include "perf_records.h"

struct mm_rings {
	struct perf_buffer *pb;
	struct event **ring_events;
	struct event *drain_timer;
	size_t n_rings;
	struct mm_rings_opts opts;
	uint64_t interval_us; /* the drain timer's current interval */
	uint64_t samples;     /* records read since the last drain */
	uint64_t *read_ns;    /* per ring: CLOCK_MONOTONIC just before its last read */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static enum bpf_perf_event_ret on_event(void *ctx, int cpu, struct perf_event_header *e)
{
	struct mm_rings *rings = ctx;

	if (e->type == PERF_RECORD_SAMPLE) {
		struct mm_perf_sample *s = (struct mm_perf_sample *)e;

		rings->samples++;
		if (e->size >= sizeof(*s) && s->size <= e->size - sizeof(*s))
			rings->opts.on_sample(rings->opts.ctx, cpu, s->data, s->size);
		else
			rings->opts.on_sample(rings->opts.ctx, cpu, s->data, 0);
	} else if (e->type == PERF_RECORD_LOST) {
		struct mm_perf_lost *l = (struct mm_perf_lost *)e;

		if (rings->opts.on_lost)
			rings->opts.on_lost(rings->opts.ctx, cpu, l->lost);
	}
	return LIBBPF_PERF_EVENT_CONT;
}

struct ring_slot {
	struct mm_rings *rings;
	size_t idx;
};

static uint64_t max_interval_us(const struct mm_rings *rings)
{
	return (uint64_t)rings->opts.drain_ms * 1000;
}

static int adaptive(const struct mm_rings *rings)
{
	return rings->opts.drain_min_us && rings->opts.drain_min_us < max_interval_us(rings);
}

static int arm_drain(struct mm_rings *rings, uint64_t us)
{
	struct timeval tv = {(time_t)(us / 1000000), (suseconds_t)(us % 1000000)};

	rings->interval_us = us;
	return event_add(rings->drain_timer, &tv);
}

static void on_ring(evutil_socket_t fd, short what, void *arg)
{
	struct ring_slot *slot = arg;
	struct mm_rings *rings = slot->rings;

	(void)fd;
	(void)what;
	rings->read_ns[slot->idx] = mono_ns();
	perf_buffer__consume_buffer(rings->pb, slot->idx);
	/* Traffic after an idle spell: what is left below wakeup_events must not
	 * wait for the long interval. */
	if (adaptive(rings) && rings->samples && rings->interval_us > rings->opts.drain_min_us)
		arm_drain(rings, rings->opts.drain_min_us);
	if (rings->opts.on_batch)
		rings->opts.on_batch(rings->opts.ctx);
}

static void on_drain(evutil_socket_t fd, short what, void *arg)
{
	struct mm_rings *rings = arg;

	(void)fd;
	(void)what;
	mm_rings__drain(rings);
	if (rings->opts.on_batch)
		rings->opts.on_batch(rings->opts.ctx);
	if (!adaptive(rings))
		return; /* a persistent timer at drain_ms */
	if (rings->samples)
		arm_drain(rings, rings->opts.drain_min_us);
	else if (rings->interval_us < max_interval_us(rings))
		arm_drain(rings, rings->interval_us * 2 < max_interval_us(rings) ? rings->interval_us * 2
										 : max_interval_us(rings));
	else
		arm_drain(rings, max_interval_us(rings));
	rings->samples = 0;
}

struct mm_rings *mm_rings__new(struct event_base *base, const struct mm_rings_opts *opts)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_BPF_OUTPUT,
		.sample_type = PERF_SAMPLE_RAW,
		.sample_period = 1,
		.wakeup_events = opts->wakeup_events ? opts->wakeup_events : 1,
	};
	uint64_t opened_ns = mono_ns(); /* nothing can be in a ring before it exists */
	struct mm_rings *rings;
	int err;

	if (!opts->on_sample || !opts->pages || (opts->pages & (opts->pages - 1))) {
		errno = EINVAL;
		return NULL;
	}
	rings = calloc(1, sizeof(*rings));
	if (!rings)
		return NULL;
	rings->opts = *opts;
	rings->pb = perf_buffer__new_raw(opts->events_fd, opts->pages, &attr, on_event, rings, NULL);
	if (!rings->pb) {
		err = errno;
		goto fail;
	}
	rings->n_rings = perf_buffer__buffer_cnt(rings->pb);
	rings->ring_events = calloc(rings->n_rings, sizeof(*rings->ring_events));
	rings->read_ns = calloc(rings->n_rings, sizeof(*rings->read_ns));
	if (!rings->ring_events || !rings->read_ns) {
		err = ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < rings->n_rings; i++)
		rings->read_ns[i] = opened_ns;
	for (size_t i = 0; i < rings->n_rings; i++) {
		struct ring_slot *slot = malloc(sizeof(*slot));

		if (!slot) {
			err = ENOMEM;
			goto fail;
		}
		slot->rings = rings;
		slot->idx = i;
		rings->ring_events[i] = event_new(base, perf_buffer__buffer_fd(rings->pb, i),
						  EV_READ | EV_PERSIST, on_ring, slot);
		if (!rings->ring_events[i] || event_add(rings->ring_events[i], NULL)) {
			free(slot);
			err = ENOMEM;
			goto fail;
		}
	}
	if (opts->drain_ms) {
		rings->drain_timer = event_new(base, -1, adaptive(rings) ? 0 : EV_PERSIST, on_drain, rings);
		if (!rings->drain_timer || arm_drain(rings, max_interval_us(rings))) {
			err = ENOMEM;
			goto fail;
		}
	}
	return rings;
fail:
	mm_rings__free(rings);
	errno = err;
	return NULL;
}

void mm_rings__free(struct mm_rings *rings)
{
	if (!rings)
		return;
	for (size_t i = 0; rings->ring_events && i < rings->n_rings; i++) {
		if (!rings->ring_events[i])
			continue;
		free(event_get_callback_arg(rings->ring_events[i]));
		event_free(rings->ring_events[i]);
	}
	free(rings->ring_events);
	free(rings->read_ns);
	if (rings->drain_timer)
		event_free(rings->drain_timer);
	perf_buffer__free(rings->pb);
	free(rings);
}

int mm_rings__drain(struct mm_rings *rings)
{
	uint64_t now = mono_ns();

	for (size_t i = 0; i < rings->n_rings; i++)
		rings->read_ns[i] = now;
	return perf_buffer__consume(rings->pb);
}

uint64_t mm_rings__watermark_ns(const struct mm_rings *rings)
{
	uint64_t oldest = UINT64_MAX;

	for (size_t i = 0; i < rings->n_rings; i++)
		if (rings->read_ns[i] < oldest)
			oldest = rings->read_ns[i];
	return rings->n_rings ? oldest : 0;
}

unsigned int mm_rings__count(const struct mm_rings *rings)
{
	return rings->n_rings;
}
