// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Owns the subscribed listeners, the fan-out of packed events to them,
 * per-listener budgets of what their queues really cost, pending loss
 * coalescing, replay from the history (ReplayDone after it, and the end of
 * a history-only stream) and the set of closing connections (hub.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "blob.h"
#include "config.h"
#include "conn.h"
#include "framing.h"
#include "history.h"
#include "hub.h"

/*
 * How a frame joins a listener's output, measured with libevent 2.1.12 and
 * glibc 2.36 on this VM (mallinfo2 over 20000 queued frames, and the time
 * per frame queued and drained, warm):
 *
 *   evbuffer_add_reference: the frame plus REF_COST = 1072 bytes, whoever
 *   shares the frame: a chain that libevent rounds up to 1024 bytes
 *   (sizeof(struct evbuffer_chain) 48 + the reference's cleanup record;
 *   MIN_BUFFER_SIZE) with malloc's header, and our blob's header. 290 ns at
 *   any length.
 *   evbuffer_add: the frame plus about 1.6 %: copied into the tail chain,
 *   which libevent packs (4 KiB chains, 48-byte headers). 22 ns at 100
 *   bytes, 490 ns at 1600, 1.4 us at 4000.
 *
 * Referenced, a stalled listener of 200-byte frames (the default capture)
 * held six times its budget. So frames shorter than REF_MIN_LEN, which is
 * every event up to a capture of about 1900 bytes, are copied: smaller for
 * any one listener and faster. Longer frames are referenced: copying them
 * costs more time than a chain, and one frame shared by k listeners costs
 * L + k x REF_COST instead of k x L. Either way the budget is charged what
 * the queue costs: bytes + bytes / COPY_OVERHEAD_DIV + REF_COST per queued
 * reference (until libevent frees its chain).
 */
#define REF_MIN_LEN	  2048
#define REF_COST	  1072
#define COPY_OVERHEAD_DIV 50 /* 2 %: chain headers, malloc's, partly filled chains */

/*
 * REF_COST per reference queued on one listener. Its chains' cleanups hold
 * it too: they run when libevent frees a chain, which may be after the
 * listener is gone (its connection closing, or finalized on the next loop).
 */
struct ref_meter {
	unsigned int holders; /* the listener, plus one per queued reference */
	size_t bytes;
};

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
	/* RATE_LIMIT losses of one record type's own limit, not per CPU (index: type) */
	struct pending_loss type_limited[MM_EVENT_TYPE_SLOTS];
	uint64_t n_pending;           /* slots with count > 0 */
	uint64_t full_mono_ns;        /* when a direct write last found the socket full */
	struct ref_meter *meter;      /* REF_COST of the references queued */
	int half_closed;              /* the client shut its write side; it still reads */
	int replay_done_due;          /* ReplayDone waits for the replay's lost notices */
	uint64_t replayed;            /* replayed events queued: ReplayDone.events */
	int ended;                    /* history only, ReplayDone queued: close once written */
	uint32_t capture_rule;        /* a capture's listener: its rule id; 0 for a subscriber */
	Meshmon__V1__CaptureEnded capture_end; /* sent once notices are out when capture_end_due */
	int capture_end_due;
	mm_hub_capture_gone_fn capture_gone; /* told when the listener goes before its end */
	void *capture_ctx;
};

struct mm_hub {
	struct event_base *base;
	struct mm_hub_opts opts;
	TAILQ_HEAD(, mm_listener) listeners;
	unsigned int n_listeners;
	struct mm_history history;
	struct event *flush_timer;
	struct event *write_out; /* made active by mm_hub__write_out_soon() */
	struct mm_hub_stats stats;
	struct mm_conns *conns;
	struct mm_frame_scratch scratch; /* every event is packed here first */
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

static void meter_put(struct ref_meter *m)
{
	if (m && --m->holders == 0)
		free(m);
}

static void listener_free(struct mm_listener *l)
{
	struct mm_hub *hub = l->hub;

	if (l->capture_gone)
		l->capture_gone(l->capture_ctx, l->capture_rule);
	TAILQ_REMOVE(&hub->listeners, l, link);
	hub->n_listeners--;
	mm_filter__release(&l->filter);
	meter_put(l->meter);
	free(l->pending);
	free(l);
}

/* What queuing blob on one more listener costs (see REF_MIN_LEN). */
static size_t frame_cost(const struct mm_blob *blob)
{
	if (blob->len >= REF_MIN_LEN)
		return blob->len + REF_COST;
	return blob->len + blob->len / COPY_OVERHEAD_DIV;
}

/* What l's output holds in memory, charged against its budget. */
static size_t listener_cost(const struct mm_listener *l)
{
	size_t n = evbuffer_get_length(bufferevent_get_output(l->bev));

	return n + n / COPY_OVERHEAD_DIV + l->meter->bytes;
}

/*
 * ReplayDone, once the notices of what the replay lost are out (so it follows
 * the whole replay and precedes every live event): 0, or 1 to retry later.
 * A history-only stream ends after it.
 */
static int listener_replay_done(struct mm_listener *l)
{
	Meshmon__V1__ServerMessage msg = MESHMON__V1__SERVER_MESSAGE__INIT;
	Meshmon__V1__ReplayDone done = MESHMON__V1__REPLAY_DONE__INIT;

	done.events = l->replayed;
	msg.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_REPLAY_DONE;
	msg.replay_done = &done;
	if (mm_conn__send(l->bev, &msg))
		return 1; /* out of memory: retry on the timer */
	l->replay_done_due = 0;
	l->ended = l->filter.history_only;
	return 0;
}

/* Queue p's notice, if it has one, and clear it: 0, or -1 when out of memory. */
static int listener_send_loss(struct mm_listener *l, struct pending_loss *p, unsigned int source,
			      uint32_t cpu, unsigned int type)
{
	Meshmon__V1__ServerMessage msg = MESHMON__V1__SERVER_MESSAGE__INIT;
	Meshmon__V1__LostNotice n = MESHMON__V1__LOST_NOTICE__INIT;

	if (!p->count)
		return 0;
	n.source = (Meshmon__V1__LossSource)source;
	n.cpu = cpu;
	n.count = p->count;
	n.first_time_ns = p->first_ns;
	n.last_time_ns = p->last_ns;
	n.type = (Meshmon__V1__EventType)type;
	if (source == MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_CAPTURE)
		n.rule_id = l->capture_rule;
	msg.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_LOST;
	msg.lost = &n;
	if (mm_conn__send(l->bev, &msg))
		return -1;
	memset(p, 0, sizeof(*p));
	l->n_pending--;
	l->hub->stats.notices++;
	return 0;
}

/* CaptureEnded, once the notices before it are out; the stream ends after it. 0 or 1 to retry. */
static int listener_capture_end(struct mm_listener *l)
{
	Meshmon__V1__ServerMessage msg = MESHMON__V1__SERVER_MESSAGE__INIT;

	msg.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_CAPTURE_ENDED;
	msg.capture_ended = &l->capture_end;
	if (mm_conn__send(l->bev, &msg))
		return 1; /* out of memory: retry on the timer */
	l->capture_end_due = 0;
	l->ended = 1;
	return 0;
}

/* What is due once no notice is pending: ReplayDone or CaptureEnded. */
static int listener_due(struct mm_listener *l)
{
	if (l->replay_done_due)
		return listener_replay_done(l);
	if (l->capture_end_due)
		return listener_capture_end(l);
	return 0;
}

/* Queue pending notices when the queue has room; returns 0 when none are left. */
static int listener_flush(struct mm_listener *l)
{
	struct mm_hub *hub = l->hub;
	size_t per = slots_per_source(hub);

	if (!l->n_pending)
		return listener_due(l);
	/* Room means below half the budget: a stalled queue that hovers just under
	 * its budget would otherwise take one small notice per lost event. */
	if (!l->n_pending || listener_cost(l) > hub->opts.queue_bytes / 2)
		return (int)l->n_pending;
	for (unsigned int src = 1; src < MM_LOSS_SOURCES; src++) {
		for (size_t c = 0; c < per; c++) {
			uint32_t cpu = c < hub->opts.ncpus ? (uint32_t)c : MM_CPU_NONE;

			if (listener_send_loss(l, &l->pending[src * per + c], src, cpu, 0))
				return (int)l->n_pending; /* out of memory: retry on the timer */
		}
	}
	for (unsigned int type = 0; type < MM_EVENT_TYPE_SLOTS; type++) {
		if (listener_send_loss(l, &l->type_limited[type],
				       MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_RATE_LIMIT, MM_CPU_NONE,
				       type))
			return (int)l->n_pending;
	}
	if (!l->n_pending)
		return listener_due(l);
	return (int)l->n_pending;
}

/*
 * A history-only listener whose ReplayDone is queued leaves the hub once its
 * output is written: the whole history, at the client's pace (the closing
 * set's deadline is for a last few bytes, not for a replay of megabytes).
 * The write callback (output drained) or the flush timer gets here. 1 when l
 * is gone. Not while the caller walks the listeners with TAILQ_FOREACH.
 */
static int listener_end_if_done(struct mm_listener *l)
{
	struct mm_hub *hub = l->hub;
	struct bufferevent *bev = l->bev;

	if (!l->ended || evbuffer_get_length(bufferevent_get_output(bev)))
		return 0;
	listener_free(l);
	mm_conn__close_after_flush(hub->conns, bev);
	return 1;
}

static void pending_add(struct mm_listener *l, struct pending_loss *p, uint64_t count,
			uint64_t time_ns)
{
	if (!count)
		return;
	if (!p->count) {
		p->first_ns = time_ns;
		l->n_pending++;
	}
	p->count += count;
	p->last_ns = time_ns;
}

static void listener_lose(struct mm_listener *l, unsigned int source, uint32_t cpu,
			  uint64_t count, uint64_t time_ns)
{
	pending_add(l, &l->pending[slot_of(l->hub, source, cpu)], count, time_ns);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Move up to max queued bytes into the socket now, unless it was found full
 * less than DIRECT_WRITE_BACKOFF_NS ago (a stalled client costs one failed
 * write per millisecond at most). 1 when the socket took everything.
 */
#define DIRECT_WRITE_BACKOFF_NS 1000000ull
static int listener_write_now(struct mm_listener *l, size_t max)
{
	struct evbuffer *out = bufferevent_get_output(l->bev);
	int fd = bufferevent_getfd(l->bev);
	size_t queued = evbuffer_get_length(out);
	uint64_t now;
	int n;

	if (fd < 0 || !queued)
		return !queued;
	now = mono_ns();
	if (l->full_mono_ns && now - l->full_mono_ns < DIRECT_WRITE_BACKOFF_NS)
		return 0;
	/* bufferevent_socket keeps its output's start frozen and thaws it around its
	 * own writes (libevent 2.1 bufferevent_writecb); do the same. */
	evbuffer_unfreeze(out, 1);
	n = evbuffer_write_atmost(out, fd, (ev_ssize_t)max); /* errors surface through the bufferevent */
	evbuffer_freeze(out, 1);
	if (n >= 0 && (size_t)n == queued) {
		l->full_mono_ns = 0;
		return 1;
	}
	if (n >= 0 && (size_t)n == max)
		return 0; /* the socket may take more: not full */
	l->full_mono_ns = now;
	return 0;
}

/*
 * Over budget: write now rather than after the current ring batch (a batch of
 * wakeup_events records can exceed a small budget while the client keeps up).
 */
static int listener_make_room(struct mm_listener *l, size_t need)
{
	listener_write_now(l, (size_t)-1 >> 1);
	return listener_cost(l) + need <= l->hub->opts.queue_bytes;
}

/* libevent frees a referenced frame's chain. */
static void ref_done(const void *data, size_t len, void *extra)
{
	struct ref_meter *m = extra;

	(void)len;
	m->bytes -= REF_COST;
	meter_put(m);
	mm_blob__put(mm_blob__of(data));
}

/* Append blob to l's output, copied or referenced (see REF_MIN_LEN): 0 or -1. */
static int listener_queue(struct mm_listener *l, struct mm_blob *blob)
{
	struct evbuffer *out = bufferevent_get_output(l->bev);

	if (blob->len < REF_MIN_LEN)
		return evbuffer_add(out, blob->data, blob->len);
	mm_blob__get(blob);
	l->meter->holders++;
	l->meter->bytes += REF_COST;
	if (!evbuffer_add_reference(out, blob->data, blob->len, ref_done, l->meter))
		return 0;
	/* libevent 2.1 does not call the cleanup on failure */
	l->meter->bytes -= REF_COST;
	l->meter->holders--;
	mm_blob__put(blob);
	return -1;
}

/* One event that l wanted and will not get: its queue loss. */
static void listener_lose_event(struct mm_listener *l, uint64_t time_ns)
{
	listener_lose(l, MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_QUEUE, MM_CPU_NONE, 1, time_ns);
	l->hub->stats.queue_lost++;
}

/* Queue one packed event on l, or count it lost. 1 when queued. */
static int listener_offer(struct mm_listener *l, struct mm_blob *blob, uint64_t time_ns)
{
	struct mm_hub *hub = l->hub;

	if (l->n_pending || l->replay_done_due || l->capture_end_due) {
		/* A gap is reported before anything after it: while notices wait
		 * (queue above half its budget), new events join the gap; so
		 * does an event while ReplayDone waits for them. */
		if (listener_cost(l) > hub->opts.queue_bytes / 2)
			listener_make_room(l, hub->opts.queue_bytes - hub->opts.queue_bytes / 2);
		if (listener_flush(l))
			goto lost;
	}
	if ((listener_cost(l) + frame_cost(blob) <= hub->opts.queue_bytes ||
	     listener_make_room(l, frame_cost(blob))) &&
	    !listener_queue(l, blob))
		goto queued;
lost:
	listener_lose_event(l, time_ns);
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
	listener_end_if_done(l);
}

static void on_listener_read(struct bufferevent *bev, void *arg)
{
	struct mm_listener *l = arg;
	struct mm_hub *hub = l->hub;

	/* The protocol has nothing for a client to say after its Subscribe. */
	listener_free(l);
	mm_conn__fail(hub->conns, bev, MESHMON__V1__ERROR_CODE__ERROR_CODE_UNEXPECTED_MESSAGE,
		      "no message is expected after Subscribe or CaptureRequest");
}

static void on_listener_event(struct bufferevent *bev, short what, void *arg)
{
	struct mm_listener *l = arg;
	struct mm_hub *hub = l->hub;

	/*
	 * A read of 0 bytes while the peer is still there: the client shut its
	 * write side (nc -N, socat). It has no more requests and still reads its
	 * stream (libevent stopped reading). It is gone on a write error
	 * (EPIPE, ECONNRESET) or once it closes, which the flush timer notices.
	 */
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) && !mm_conn__peer_gone(bev)) {
		l->half_closed = 1;
		return;
	}
	listener_free(l);
	mm_conn__free(hub->conns, bev);
}

/* Half-closed listeners whose client has closed since. */
static void hub_reap_half_closed(struct mm_hub *hub)
{
	struct mm_listener *l, *next;

	for (l = TAILQ_FIRST(&hub->listeners); l; l = next) {
		struct bufferevent *bev = l->bev;

		next = TAILQ_NEXT(l, link);
		if (!l->half_closed || !mm_conn__peer_gone(bev))
			continue;
		listener_free(l);
		mm_conn__free(hub->conns, bev);
	}
}

static void on_flush_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	hub_reap_half_closed(arg);
	mm_hub__flush(arg);
}

static void on_write_out(evutil_socket_t fd, short what, void *arg);

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
	hub->conns = mm_conns__new(base);
	if (!hub->conns || mm_history__init(&hub->history, opts->history))
		goto fail;
	hub->flush_timer = event_new(base, -1, EV_PERSIST, on_flush_timer, hub);
	if (!hub->flush_timer || event_add(hub->flush_timer, &tv))
		goto fail;
	hub->write_out = event_new(base, -1, 0, on_write_out, hub);
	if (!hub->write_out)
		goto fail;
	return hub;
fail:
	mm_hub__free(hub);
	errno = ENOMEM;
	return NULL;
}

void mm_hub__free(struct mm_hub *hub)
{
	struct mm_listener *l;

	if (!hub)
		return;
	while ((l = TAILQ_FIRST(&hub->listeners))) {
		struct bufferevent *bev = l->bev;

		/* A clean end of stream: what the socket takes now, then EOF. */
		listener_free(l);
		mm_conn__finish(bev);
		bufferevent_free(bev);
	}
	mm_conns__free(hub->conns);
	if (hub->flush_timer)
		event_free(hub->flush_timer);
	if (hub->write_out)
		event_free(hub->write_out);
	mm_history__release(&hub->history);
	mm_frame_scratch__release(&hub->scratch);
	free(hub);
}

/*
 * The replay: the newest filter.replay matching stored events (every match
 * when only since_ns bounds it), oldest first; then ReplayDone, at once or
 * once the replay's lost notices are out.
 */
static void hub_replay(struct mm_hub *hub, struct mm_listener *l)
{
	size_t limit = l->filter.replay ? l->filter.replay : l->filter.since_ns ? SIZE_MAX : 0;
	size_t matched = 0, start = hub->history.n;

	while (start > 0 && matched < limit) {
		start--;
		if (mm_filter__match(&l->filter, &mm_history__at(&hub->history, start)->view))
			matched++;
	}
	for (size_t i = start; matched && i < hub->history.n; i++) {
		const struct mm_history_entry *e = mm_history__at(&hub->history, i);

		if (mm_filter__match(&l->filter, &e->view))
			l->replayed += (uint64_t)listener_offer(l, e->blob, mm_hub__now_ns());
	}
	l->replay_done_due = 1;
	listener_flush(l);
	listener_end_if_done(l);
}

static struct mm_listener *listener_new(struct mm_hub *hub, struct bufferevent *bev,
				       struct mm_filter *filter)
{
	struct mm_listener *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->pending = calloc(MM_LOSS_SOURCES * slots_per_source(hub), sizeof(*l->pending));
	l->meter = calloc(1, sizeof(*l->meter));
	if (!l->pending || !l->meter) {
		free(l->pending);
		free(l->meter);
		free(l);
		return NULL;
	}
	l->meter->holders = 1;
	l->hub = hub;
	l->bev = bev;
	l->filter = *filter;
	memset(filter, 0, sizeof(*filter));
	TAILQ_INSERT_TAIL(&hub->listeners, l, link);
	hub->n_listeners++;
	/* Write callback when the output is empty again: the moment to send notices. */
	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
	/* libevent writes 16 KiB per callback by default: two client wakeups per ring batch */
	bufferevent_set_max_single_write(bev, MM_HUB_WRITE_OUT_MAX);
	bufferevent_setcb(bev, on_listener_read, on_listener_write, on_listener_event, l);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	return l;
}

int mm_hub__add_listener(struct mm_hub *hub, struct bufferevent *bev, struct mm_filter *filter)
{
	struct mm_listener *l = listener_new(hub, bev, filter);

	if (!l)
		return -ENOMEM;
	if (mm_filter__replays(&l->filter))
		hub_replay(hub, l);
	return 0;
}

int mm_hub__add_capture(struct mm_hub *hub, struct bufferevent *bev, uint32_t rule_id,
			mm_hub_capture_gone_fn gone, void *ctx)
{
	struct mm_filter none = {0}; /* unused: a capture listener is routed by its rule id */
	struct mm_listener *l;

	if (!rule_id)
		return -EINVAL;
	l = listener_new(hub, bev, &none);
	if (!l)
		return -ENOMEM;
	l->capture_rule = rule_id;
	l->capture_gone = gone;
	l->capture_ctx = ctx;
	return 0;
}

static struct mm_listener *capture_listener(struct mm_hub *hub, uint32_t rule_id)
{
	struct mm_listener *l;

	TAILQ_FOREACH(l, &hub->listeners, link)
		if (l->capture_rule == rule_id)
			return l;
	return NULL;
}

void mm_hub__end_capture(struct mm_hub *hub, uint32_t rule_id, unsigned int reason,
			 uint64_t packets, uint64_t bytes)
{
	struct mm_listener *l = rule_id ? capture_listener(hub, rule_id) : NULL;

	if (!l || l->capture_end_due || l->ended)
		return;
	meshmon__v1__capture_ended__init(&l->capture_end);
	l->capture_end.rule_id = rule_id;
	l->capture_end.reason = (Meshmon__V1__CaptureEndReason)reason;
	l->capture_end.packets = packets;
	l->capture_end.bytes = bytes;
	l->capture_end_due = 1;
	l->capture_gone = NULL; /* the capture is over: nobody to tell when it goes */
	listener_flush(l);
	listener_end_if_done(l);
}

void mm_hub__add_capture_loss(struct mm_hub *hub, uint32_t rule_id, uint64_t count,
			      uint64_t time_ns)
{
	struct mm_listener *l = rule_id ? capture_listener(hub, rule_id) : NULL;

	if (!l || !count)
		return;
	listener_lose(l, MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_CAPTURE, MM_CPU_NONE, count, time_ns);
	listener_flush(l);
}

int mm_hub__publish(struct mm_hub *hub, const Meshmon__V1__ServerMessage *msg,
		    const struct mm_event_view *view, uint64_t time_ns)
{
	struct mm_listener *l;
	struct mm_blob *blob = NULL;
	const uint8_t *frame;
	long n;
	int queued = 0;

	hub->stats.published++;
	/* Packed once, in one pass, then copied out at its exact size. */
	n = mm_frame_scratch__pack(&hub->scratch, &msg->base, &frame);
	if (n >= 0) {
		blob = malloc(sizeof(*blob) + (size_t)n);
		if (!blob)
			n = -ENOMEM;
	}
	if (blob) {
		blob->refs = 1;
		blob->len = (size_t)n;
		memcpy(blob->data, frame, (size_t)n);
	}
	TAILQ_FOREACH(l, &hub->listeners, link) {
		/* A capture's events go to its owner alone, who takes nothing else. */
		if (view->rule_id || l->capture_rule) {
			if (view->rule_id != l->capture_rule || l->ended || l->capture_end_due)
				continue;
		} else if (l->filter.history_only || !mm_filter__match(&l->filter, view)) {
			continue; /* a history-only listener takes no live event */
		}
		if (blob) {
			queued += listener_offer(l, blob, time_ns);
			continue;
		}
		listener_lose_event(l, time_ns); /* not packed: lost for each one it was for */
	}
	if (!blob)
		return (int)n;
	/* A capture's events are its owner's: they are not kept for replays. */
	if (!view->rule_id)
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
		/* Losses of live events: not a history-only listener's (it takes none). */
		if (l->filter.history_only)
			continue;
		listener_lose(l, source, cpu, count, time_ns);
		listener_flush(l);
	}
}

void mm_hub__add_type_loss(struct mm_hub *hub, unsigned int type, uint64_t count,
			   uint64_t time_ns)
{
	struct mm_listener *l;

	if (!count || type >= MM_EVENT_TYPE_SLOTS)
		return;
	TAILQ_FOREACH(l, &hub->listeners, link) {
		if (l->filter.history_only)
			continue;
		pending_add(l, &l->type_limited[type], count, time_ns);
		listener_flush(l);
	}
}

static void on_write_out(evutil_socket_t fd, short what, void *arg)
{
	struct mm_hub *hub = arg;
	struct mm_listener *l;

	(void)fd;
	(void)what;
	TAILQ_FOREACH(l, &hub->listeners, link)
		listener_write_now(l, MM_HUB_WRITE_OUT_MAX);
}

void mm_hub__write_out_soon(struct mm_hub *hub)
{
	/* an event made active runs after the callbacks already active in this iteration */
	if (!event_pending(hub->write_out, EV_TIMEOUT, NULL))
		event_active(hub->write_out, EV_TIMEOUT, 1);
}

void mm_hub__flush(struct mm_hub *hub)
{
	struct mm_listener *l, *next;

	for (l = TAILQ_FIRST(&hub->listeners); l; l = next) {
		next = TAILQ_NEXT(l, link);
		listener_flush(l);
		listener_end_if_done(l);
	}
}

struct mm_conns *mm_hub__conns(struct mm_hub *hub)
{
	return hub->conns;
}

unsigned int mm_hub__listeners(const struct mm_hub *hub)
{
	return hub->n_listeners;
}

void mm_hub__stats(const struct mm_hub *hub, struct mm_hub_stats *out)
{
	*out = hub->stats;
}
