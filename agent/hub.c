// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Owns the subscribed listeners, the fan-out of packed events to them by
 * reference, per-listener byte budgets, pending loss coalescing and replay
 * from the history (hub.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/queue.h>
#include <time.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "blob.h"
#include "conn.h"
#include "framing.h"
#include "history.h"
#include "hub.h"

struct pending_loss {
	uint64_t count;
	uint64_t first_ns;
	uint64_t last_ns;
};

struct mm_listener {
	TAILQ_ENTRY(mm_listener) link;
	struct mm_hub *hub;
	struct bufferevent *bev;
	struct mm_filter filter;
	struct pending_loss *pending; /* [source][cpu slot], ncpus + 1 slots per source */
	uint64_t n_pending;           /* slots with count > 0 */
	uint64_t full_mono_ns;        /* when a direct write last found the socket full */
};

struct mm_hub {
	struct event_base *base;
	struct mm_hub_opts opts;
	TAILQ_HEAD(, mm_listener) listeners;
	unsigned int n_listeners;
	struct mm_history history;
	struct event *flush_timer;
	struct mm_hub_stats stats;
};

uint64_t mm_hub__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static size_t slots_per_source(const struct mm_hub *hub)
{
	return hub->opts.ncpus + 1;
}

static size_t slot_of(const struct mm_hub *hub, unsigned int source, uint32_t cpu)
{
	size_t c = cpu < hub->opts.ncpus ? cpu : hub->opts.ncpus;

	return source * slots_per_source(hub) + c;
}

static void listener_free(struct mm_listener *l)
{
	struct mm_hub *hub = l->hub;

	TAILQ_REMOVE(&hub->listeners, l, link);
	hub->n_listeners--;
	mm_filter__release(&l->filter);
	free(l->pending);
	free(l);
}

static size_t out_len(const struct mm_listener *l)
{
	return evbuffer_get_length(bufferevent_get_output(l->bev));
}

/* Queue pending notices when the queue has room; returns 0 when none are left. */
static int listener_flush(struct mm_listener *l)
{
	struct mm_hub *hub = l->hub;
	size_t per = slots_per_source(hub);

	/* Room means below half the budget: a stalled queue that hovers just under
	 * its budget would otherwise take one small notice per lost event. */
	if (!l->n_pending || out_len(l) > hub->opts.queue_bytes / 2)
		return (int)l->n_pending;
	for (unsigned int src = 1; src < MM_LOSS_SOURCES; src++) {
		for (size_t c = 0; c < per; c++) {
			struct pending_loss *p = &l->pending[src * per + c];
			Meshmon__V1__ServerMessage msg = MESHMON__V1__SERVER_MESSAGE__INIT;
			Meshmon__V1__LostNotice n = MESHMON__V1__LOST_NOTICE__INIT;

			if (!p->count)
				continue;
			n.source = (Meshmon__V1__LossSource)src;
			n.cpu = c < hub->opts.ncpus ? (uint32_t)c : MM_CPU_NONE;
			n.count = p->count;
			n.first_time_ns = p->first_ns;
			n.last_time_ns = p->last_ns;
			msg.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_LOST;
			msg.lost = &n;
			if (mm_conn__send(l->bev, &msg))
				return (int)l->n_pending; /* out of memory: retry on the timer */
			memset(p, 0, sizeof(*p));
			l->n_pending--;
			hub->stats.notices++;
		}
	}
	return (int)l->n_pending;
}

static void listener_lose(struct mm_listener *l, unsigned int source, uint32_t cpu,
			  uint64_t count, uint64_t time_ns)
{
	struct pending_loss *p = &l->pending[slot_of(l->hub, source, cpu)];

	if (!count)
		return;
	if (!p->count) {
		p->first_ns = time_ns;
		l->n_pending++;
	}
	p->count += count;
	p->last_ns = time_ns;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Over budget: move queued bytes into the socket now rather than after the
 * current ring batch (a batch of wakeup_events records can exceed a small
 * budget while the client is keeping up). A socket found full is not tried
 * again for DIRECT_WRITE_BACKOFF_NS, so a stalled client costs one failed
 * write per millisecond at most.
 */
#define DIRECT_WRITE_BACKOFF_NS 1000000ull
static int listener_make_room(struct mm_listener *l, size_t need)
{
	struct evbuffer *out = bufferevent_get_output(l->bev);
	int fd = bufferevent_getfd(l->bev);
	uint64_t now;

	if (fd < 0)
		return 0;
	now = mono_ns();
	if (l->full_mono_ns && now - l->full_mono_ns < DIRECT_WRITE_BACKOFF_NS)
		return 0;
	/* bufferevent_socket keeps its output's start frozen and thaws it around its
	 * own writes (libevent 2.1 bufferevent_writecb); do the same. */
	evbuffer_unfreeze(out, 1);
	evbuffer_write(out, fd); /* errors surface through the bufferevent's own write */
	evbuffer_freeze(out, 1);
	if (evbuffer_get_length(out) + need <= l->hub->opts.queue_bytes) {
		l->full_mono_ns = 0;
		return 1;
	}
	l->full_mono_ns = now;
	return 0;
}

static void blob_unref(const void *data, size_t len, void *extra)
{
	(void)data;
	(void)len;
	mm_blob__put(extra);
}

/* Queue one packed event on l, or count it lost. 1 when queued. */
static int listener_offer(struct mm_listener *l, struct mm_blob *blob, uint64_t time_ns)
{
	struct mm_hub *hub = l->hub;

	if (l->n_pending) {
		/* A gap is reported before anything after it: while notices wait
		 * (queue above half its budget), new events join the gap. */
		if (out_len(l) > hub->opts.queue_bytes / 2)
			listener_make_room(l, hub->opts.queue_bytes - hub->opts.queue_bytes / 2);
		if (listener_flush(l))
			goto lost;
	}
	if (out_len(l) + blob->len <= hub->opts.queue_bytes ||
	    listener_make_room(l, blob->len)) {
		mm_blob__get(blob);
		if (!evbuffer_add_reference(bufferevent_get_output(l->bev), blob->data, blob->len,
					    blob_unref, blob))
			goto queued;
		mm_blob__put(blob); /* libevent 2.1 does not call the cleanup on failure */
	}
lost:
	listener_lose(l, MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_QUEUE, MM_CPU_NONE, 1, time_ns);
	hub->stats.queue_lost++;
	return 0;
queued:
	hub->stats.queued++;
	return 1;
}

static void on_listener_write(struct bufferevent *bev, void *arg)
{
	struct mm_listener *l = arg;

	(void)bev;
	listener_flush(l);
}

static void on_listener_read(struct bufferevent *bev, void *arg)
{
	struct mm_listener *l = arg;

	/* The protocol has nothing for a client to say after its Subscribe. */
	listener_free(l);
	mm_conn__fail(bev, MESHMON__V1__ERROR_CODE__ERROR_CODE_UNEXPECTED_MESSAGE,
		      "no message is expected after Subscribe");
}

static void on_listener_event(struct bufferevent *bev, short what, void *arg)
{
	struct mm_listener *l = arg;

	(void)what;
	listener_free(l);
	bufferevent_free(bev);
}

static void on_flush_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	mm_hub__flush(arg);
}

struct mm_hub *mm_hub__new(struct event_base *base, const struct mm_hub_opts *opts)
{
	struct mm_hub *hub = calloc(1, sizeof(*hub));
	unsigned int ms = opts->flush_ms ? opts->flush_ms : 1000;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (!hub)
		return NULL;
	hub->base = base;
	hub->opts = *opts;
	if (!hub->opts.ncpus)
		hub->opts.ncpus = 1;
	TAILQ_INIT(&hub->listeners);
	if (mm_history__init(&hub->history, opts->history))
		goto fail;
	hub->flush_timer = event_new(base, -1, EV_PERSIST, on_flush_timer, hub);
	if (!hub->flush_timer || event_add(hub->flush_timer, &tv))
		goto fail;
	return hub;
fail:
	mm_hub__free(hub);
	errno = ENOMEM;
	return NULL;
}

/*
 * A clean end of stream when the agent stops: what is queued goes out as far
 * as the socket takes it without waiting (at most the queue budget), then a
 * FIN, so that a client reads its last events and then EOF.
 */
static void listener_finish(struct bufferevent *bev)
{
	evutil_socket_t fd = bufferevent_getfd(bev);
	struct evbuffer *out = bufferevent_get_output(bev);

	if (fd < 0)
		return;
	while (evbuffer_get_length(out) && evbuffer_write(out, fd) > 0)
		;
	shutdown(fd, SHUT_WR);
}

void mm_hub__free(struct mm_hub *hub)
{
	struct mm_listener *l;

	if (!hub)
		return;
	while ((l = TAILQ_FIRST(&hub->listeners))) {
		struct bufferevent *bev = l->bev;

		listener_free(l);
		listener_finish(bev);
		bufferevent_free(bev);
	}
	if (hub->flush_timer)
		event_free(hub->flush_timer);
	mm_history__release(&hub->history);
	free(hub);
}

int mm_hub__add_listener(struct mm_hub *hub, struct bufferevent *bev, struct mm_filter *filter)
{
	struct mm_listener *l = calloc(1, sizeof(*l));
	size_t matched = 0, start;

	if (!l)
		return -ENOMEM;
	l->pending = calloc(MM_LOSS_SOURCES * slots_per_source(hub), sizeof(*l->pending));
	if (!l->pending) {
		free(l);
		return -ENOMEM;
	}
	l->hub = hub;
	l->bev = bev;
	l->filter = *filter;
	memset(filter, 0, sizeof(*filter));
	TAILQ_INSERT_TAIL(&hub->listeners, l, link);
	hub->n_listeners++;
	/* Write callback when the output is empty again: the moment to send notices. */
	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
	bufferevent_setcb(bev, on_listener_read, on_listener_write, on_listener_event, l);
	bufferevent_enable(bev, EV_READ | EV_WRITE);

	/* Replay: the newest l->filter.replay matching events, oldest first. */
	if (!l->filter.replay || !hub->history.n)
		return 0;
	start = hub->history.n;
	while (start > 0 && matched < l->filter.replay) {
		start--;
		if (mm_filter__match(&l->filter, &mm_history__at(&hub->history, start)->view))
			matched++;
	}
	for (size_t i = start; i < hub->history.n; i++) {
		const struct mm_history_entry *e = mm_history__at(&hub->history, i);

		if (mm_filter__match(&l->filter, &e->view))
			listener_offer(l, e->blob, mm_hub__now_ns());
	}
	return 0;
}

int mm_hub__publish(struct mm_hub *hub, const Meshmon__V1__ServerMessage *msg,
		    const struct mm_event_view *view, uint64_t time_ns)
{
	struct mm_listener *l;
	struct mm_blob *blob;
	size_t size = mm_frame__size(&msg->base);
	long n;
	int queued = 0;

	hub->stats.published++;
	blob = malloc(sizeof(*blob) + size);
	if (!blob)
		return -ENOMEM;
	blob->refs = 1;
	n = mm_frame__pack(&msg->base, blob->data, size);
	if (n < 0) {
		free(blob);
		return (int)n;
	}
	blob->len = (size_t)n;
	TAILQ_FOREACH(l, &hub->listeners, link) {
		if (mm_filter__match(&l->filter, view))
			queued += listener_offer(l, blob, time_ns);
	}
	mm_history__push(&hub->history, blob, view);
	mm_blob__put(blob);
	return queued;
}

void mm_hub__add_loss(struct mm_hub *hub, unsigned int source, uint32_t cpu, uint64_t count,
		      uint64_t time_ns)
{
	struct mm_listener *l;

	if (!count || source == 0 || source >= MM_LOSS_SOURCES)
		return;
	TAILQ_FOREACH(l, &hub->listeners, link) {
		listener_lose(l, source, cpu, count, time_ns);
		listener_flush(l);
	}
}

void mm_hub__flush(struct mm_hub *hub)
{
	struct mm_listener *l;

	TAILQ_FOREACH(l, &hub->listeners, link)
		listener_flush(l);
}

unsigned int mm_hub__listeners(const struct mm_hub *hub)
{
	return hub->n_listeners;
}

void mm_hub__stats(const struct mm_hub *hub, struct mm_hub_stats *out)
{
	*out = hub->stats;
}
