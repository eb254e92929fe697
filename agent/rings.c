// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Owns the libbpf perf buffer over mm_events and the libevent events that
 * drive it: one read event per CPU ring plus the drain timer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/perf_event.h>
#include <bpf/libbpf.h>
#include <event2/event.h>

#include "rings.h"

struct mm_rings {
	struct perf_buffer *pb;
	struct event **ring_events;
	struct event *drain_timer;
	size_t n_rings;
	struct mm_rings_opts opts;
};

/* The layout of a PERF_SAMPLE_RAW sample and of PERF_RECORD_LOST. */
struct raw_sample {
	struct perf_event_header header;
	__u32 size;
	char data[];
};

struct lost_record {
	struct perf_event_header header;
	__u64 id;
	__u64 lost;
};

static enum bpf_perf_event_ret on_event(void *ctx, int cpu, struct perf_event_header *e)
{
	struct mm_rings *rings = ctx;

	if (e->type == PERF_RECORD_SAMPLE) {
		struct raw_sample *s = (struct raw_sample *)e;

		if (e->size >= sizeof(*s) && s->size <= e->size - sizeof(*s))
			rings->opts.on_sample(rings->opts.ctx, cpu, s->data, s->size);
		else
			rings->opts.on_sample(rings->opts.ctx, cpu, s->data, 0);
	} else if (e->type == PERF_RECORD_LOST) {
		struct lost_record *l = (struct lost_record *)e;

		if (rings->opts.on_lost)
			rings->opts.on_lost(rings->opts.ctx, cpu, l->lost);
	}
	return LIBBPF_PERF_EVENT_CONT;
}

struct ring_slot {
	struct mm_rings *rings;
	size_t idx;
};

static void on_ring(evutil_socket_t fd, short what, void *arg)
{
	struct ring_slot *slot = arg;

	(void)fd;
	(void)what;
	perf_buffer__consume_buffer(slot->rings->pb, slot->idx);
}

static void on_drain(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	mm_rings__drain(arg);
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
	if (!rings->ring_events) {
		err = ENOMEM;
		goto fail;
	}
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
		struct timeval tv = {opts->drain_ms / 1000, (opts->drain_ms % 1000) * 1000};

		rings->drain_timer = event_new(base, -1, EV_PERSIST, on_drain, rings);
		if (!rings->drain_timer || event_add(rings->drain_timer, &tv)) {
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
	if (rings->drain_timer)
		event_free(rings->drain_timer);
	perf_buffer__free(rings->pb);
	free(rings);
}

int mm_rings__drain(struct mm_rings *rings)
{
	return perf_buffer__consume(rings->pb);
}

unsigned int mm_rings__count(const struct mm_rings *rings)
{
	return rings->n_rings;
}
