// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The listener hub without a kernel: socketpairs in a private event_base.
 * Filters per listener, the byte budget of a listener that never reads, the
 * coalesced QUEUE lost notice once it reads again, delivered + lost ==
 * emitted, replay from the history (by count, or from since_ns), ReplayDone
 * after the replay and its lost notices, and the end of a history-only
 * stream.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "conn.h"
#include "framing.h"
#include "hub.h"
#include "log.h"
#include "records.h"

struct client {
	int fd;
	struct mm_frame_reader reader;
	uint64_t events, by_proto[256];
	uint64_t lost_queue, lost_other, notices;
	uint64_t last_ktime;
	int order_ok;
	int check_gaps;   /* every event published goes to this client: ktimes 1, 2, ... */
	uint64_t gaps;    /* events missing from the sequence so far */
	int gap_before_notice; /* an event arrived after a gap nobody reported yet */
	uint64_t events_after_gap; /* events that arrived after some loss: the order check ran */
	uint64_t bad_payload;      /* events whose captured bytes were not as published */
	uint64_t first_ktime;      /* of the first event */
	uint64_t replay_dones, replay_done_events; /* ReplayDone messages, and their count */
	uint64_t events_at_done;   /* events before the ReplayDone */
	uint64_t notices_at_done;  /* lost notices before it */
	uint64_t after_done;       /* messages after it */
	int eof;                   /* the hub closed the stream */
};

static struct event_base *base;
static struct mm_hub *hub;

/* Every client of the running test, released by the suite's teardown even when
 * an assertion ends the test early. */
static struct client *clients[8];
static size_t n_clients;

static void client_init(struct client *c, int fd)
{
	memset(c, 0, sizeof(*c));
	cr_assert(lt(sz, n_clients, sizeof(clients) / sizeof(clients[0])));
	clients[n_clients++] = c;
	c->fd = fd;
	c->order_ok = 1;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	mm_frame_reader__init(&c->reader);
}

/* Read everything available and count what arrived. */
static void client_read(struct client *c)
{
	uint8_t buf[65536];
	const uint8_t *p;
	size_t len;
	ssize_t n;

	while ((n = read(c->fd, buf, sizeof(buf))) > 0 || (n == 0 && !c->eof)) {
		if (n == 0) {
			c->eof = 1;
			break;
		}
		cr_assert(eq(int, mm_frame_reader__feed(&c->reader, buf, (size_t)n), 0));
		while (mm_frame_reader__next(&c->reader, &p, &len) == 1) {
			Meshmon__V1__ServerMessage *m = mm_frame__unpack_server(p, len);

			cr_assert(m != NULL, "undecodable frame");
			c->after_done += c->replay_dones;
			if (m->msg_case == MESHMON__V1__SERVER_MESSAGE__MSG_REPLAY_DONE) {
				c->replay_dones++;
				c->replay_done_events = m->replay_done->events;
				c->events_at_done = c->events;
				c->notices_at_done = c->notices;
				c->after_done = 0;
			}
			if (m->msg_case == MESHMON__V1__SERVER_MESSAGE__MSG_EVENT) {
				if (!c->events)
					c->first_ktime = m->event->ktime_ns;
				c->events++;
				c->by_proto[m->event->tuple ? m->event->tuple->proto & 0xff : 0]++;
				for (size_t i = 0; i < m->event->captured.len; i++)
					if (m->event->captured.data[i] != 0xab) {
						c->bad_payload++;
						break;
					}
				if (m->event->ktime_ns < c->last_ktime)
					c->order_ok = 0;
				if (c->check_gaps) {
					c->gaps += m->event->ktime_ns - c->last_ktime - 1;
					if (c->gaps > c->lost_queue)
						c->gap_before_notice = 1;
					if (c->gaps)
						c->events_after_gap++;
				}
				c->last_ktime = m->event->ktime_ns;
			} else if (m->msg_case == MESHMON__V1__SERVER_MESSAGE__MSG_LOST) {
				c->notices++;
				if (m->lost->source == MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_QUEUE)
					c->lost_queue += m->lost->count;
				else
					c->lost_other += m->lost->count;
				cr_assert(le(u64, m->lost->first_time_ns, m->lost->last_time_ns));
			}
			mm_frame__free_server(m);
		}
	}
}

static void pump(void)
{
	for (int i = 0; i < 4; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

/* A listener of sub on a socketpair: returns the client end. */
static int add_listener_sub(const Meshmon__V1__Subscribe *sub)
{
	struct mm_filter f;
	struct bufferevent *bev;
	char err[128];
	int sv[2], small = 4096;

	cr_assert(eq(int, socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0));
	/* Keep the kernel's own buffering small so the agent-side budget is what bounds. */
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	memset(&f, 0, sizeof(f));
	cr_assert(eq(int, mm_filter__compile(&f, sub, err, sizeof(err)), 0), "%s", err);
	evutil_make_socket_nonblocking(sv[0]);
	bev = bufferevent_socket_new(base, sv[0], BEV_OPT_CLOSE_ON_FREE);
	cr_assert(bev != NULL);
	cr_assert(eq(int, mm_hub__add_listener(hub, bev, &f), 0));
	return sv[1];
}

/* A listener on a socketpair: returns the client end. */
static int add_listener(const uint32_t *protos, size_t n_protos, uint32_t replay)
{
	Meshmon__V1__Subscribe sub = MESHMON__V1__SUBSCRIBE__INIT;
	Meshmon__V1__FlowFilter ff = MESHMON__V1__FLOW_FILTER__INIT;
	Meshmon__V1__FlowFilter *ffp = &ff;

	if (n_protos) {
		ff.n_protocols = n_protos;
		ff.protocols = (uint32_t *)protos;
		sub.n_filters = 1;
		sub.filters = &ffp;
	}
	sub.replay = replay;
	return add_listener_sub(&sub);
}

/* An event carrying cap bytes of payload: what mm_hub__publish() returns. */
static int publish_payload(uint8_t proto, uint64_t seq, uint8_t *payload, size_t cap)
{
	Meshmon__V1__ServerMessage msg = MESHMON__V1__SERVER_MESSAGE__INIT;
	Meshmon__V1__Event ev = MESHMON__V1__EVENT__INIT;
	Meshmon__V1__Tuple t = MESHMON__V1__TUPLE__INIT;
	Meshmon__V1__Trace tr = MESHMON__V1__TRACE__INIT;
	uint8_t src[4] = {10, 0, 0, 1}, dst[4] = {10, 0, 0, 2};
	struct mm_event_view v = {0};

	t.src.data = src;
	t.src.len = 4;
	t.dst.data = dst;
	t.dst.len = 4;
	t.proto = proto;
	t.sport = 1000;
	t.dport = 8080;
	ev.type = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TRACE;
	ev.ktime_ns = seq;
	ev.time_ns = 1700000000000000000ull + seq;
	ev.tuple = &t;
	ev.captured.data = payload;
	ev.captured.len = cap;
	ev.detail_case = MESHMON__V1__EVENT__DETAIL_TRACE;
	ev.trace = &tr;
	msg.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_EVENT;
	msg.event = &ev;
	v.type = MM_EVENT_TRACE;
	v.point = MM_POINT_TO_NETWORK;
	v.family = MM_FAMILY_IPV4;
	v.proto = proto;
	v.sport = 1000;
	v.dport = 8080;
	memcpy(v.src, src, 4);
	memcpy(v.dst, dst, 4);
	v.time_ns = ev.time_ns;
	return mm_hub__publish(hub, &msg, &v, ev.time_ns);
}

/* An event with cap captured bytes (0xab): a frame of about cap + 60 bytes. */
static void publish_sized(uint8_t proto, uint64_t seq, size_t cap)
{
	static uint8_t payload[8192];

	cr_assert(le(sz, cap, sizeof(payload)));
	memset(payload, 0xab, cap);
	cr_assert(ge(int, publish_payload(proto, seq, payload, cap), 0));
}

static void publish(uint8_t proto, uint64_t seq)
{
	publish_sized(proto, seq, 64);
}

static void setup_hub(size_t queue_bytes, size_t history)
{
	struct mm_hub_opts o = {.queue_bytes = queue_bytes, .history = history, .ncpus = 2};

	mm_log__enable(0);
	/* As in the agent (main.c): the end of stream at mm_hub__free writes to
	 * clients the teardown already closed. */
	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	cr_assert(base != NULL);
	hub = mm_hub__new(base, &o);
	cr_assert(hub != NULL);
}

static void teardown_hub(void)
{
	for (size_t i = 0; i < n_clients; i++) {
		mm_frame_reader__release(&clients[i]->reader);
		close(clients[i]->fd);
	}
	n_clients = 0;
	mm_hub__free(hub);
	event_base_free(base);
}

TestSuite(hub, .fini = teardown_hub);

Test(hub, filters_give_each_listener_exactly_what_it_asked)
{
	uint32_t icmp = IPPROTO_ICMP, tcp = IPPROTO_TCP;
	static struct client a, b, all; /* static: the suite teardown releases them */

	setup_hub(1 << 20, 0);
	client_init(&a, add_listener(&icmp, 1, 0));
	client_init(&b, add_listener(&tcp, 1, 0));
	client_init(&all, add_listener(NULL, 0, 0));
	cr_assert(eq(u32, mm_hub__listeners(hub), 3));
	for (uint64_t i = 0; i < 30; i++) {
		publish(i % 3 == 0 ? IPPROTO_ICMP : i % 3 == 1 ? IPPROTO_TCP : IPPROTO_UDP, i + 1);
		pump();
		client_read(&a);
		client_read(&b);
		client_read(&all);
	}
	for (int i = 0; i < 20; i++) {
		pump();
		client_read(&a);
		client_read(&b);
		client_read(&all);
	}
	cr_assert(eq(u64, a.events, 10));
	cr_assert(eq(u64, a.by_proto[IPPROTO_ICMP], 10));
	cr_assert(eq(u64, b.events, 10));
	cr_assert(eq(u64, b.by_proto[IPPROTO_TCP], 10));
	cr_assert(eq(u64, all.events, 30));
	cr_assert(eq(u64, a.notices + b.notices + all.notices, 0));
	cr_assert(a.order_ok && b.order_ok && all.order_ok ? 1 : 0);
}

Test(hub, slow_listener_is_capped_and_told_exactly_what_it_missed)
{
	const size_t budget = 8192;
	const uint64_t emitted = 3000;
	static struct client fast, slow; /* static: the suite teardown releases them */
	struct mm_hub_stats st;

	setup_hub(budget, 0);
	client_init(&fast, add_listener(NULL, 0, 0));
	client_init(&slow, add_listener(NULL, 0, 0));
	slow.check_gaps = 1;
	for (uint64_t i = 0; i < emitted; i++) {
		publish(IPPROTO_TCP, i + 1);
		if (i % 8 == 0) {
			pump();
			client_read(&fast);
		}
		/*
		 * Halfway, the slow one reads its socket once, without the loop
		 * running: the next offers find room in the socket and write to it
		 * directly, while the notice for the gap is still pending. Those
		 * events must come after the notice that reports the gap.
		 */
		if (i == emitted / 2)
			client_read(&slow);
	}
	for (int i = 0; i < 50 && fast.events < emitted; i++) {
		pump();
		client_read(&fast);
	}
	/* The fast one got everything, and the slow one cost it nothing. */
	cr_assert(eq(u64, fast.events, emitted));
	cr_assert(eq(u64, fast.lost_queue, 0));
	mm_hub__stats(hub, &st);
	cr_assert(gt(u64, st.queue_lost, 0), "the slow listener should have lost events");
	cr_assert(lt(u64, st.queue_lost, emitted));

	/* The slow one now reads: it gets its queue, then one coalesced notice. */
	for (int i = 0; i < 2000 && slow.events + slow.lost_queue < emitted; i++) {
		pump();
		client_read(&slow);
	}
	cr_assert(eq(u64, slow.lost_queue, st.queue_lost));
	/* One notice per stretch of overflow, never one per lost event. */
	cr_assert(ge(u64, slow.notices, 1));
	cr_assert(le(u64, slow.notices * 10, slow.lost_queue), "%lu notices for %lu losses",
		  (unsigned long)slow.notices, (unsigned long)slow.lost_queue);
	cr_assert(eq(u64, slow.events + slow.lost_queue, emitted), "delivered %lu + lost %lu",
		  (unsigned long)slow.events, (unsigned long)slow.lost_queue);
	cr_assert(slow.order_ok);
	/* Each notice arrived before the events that follow its gap, and counts it exactly. */
	cr_assert(gt(u64, slow.events_after_gap, 0), "no event followed a gap: order unchecked");
	cr_assert(eq(int, slow.gap_before_notice, 0));
	cr_assert(eq(u64, slow.gaps + (emitted - slow.last_ktime), slow.lost_queue));
	/* It never got more than two queues' worth (the budget plus what the
	 * kernel buffers), once before and once after reading halfway. */
	cr_assert(lt(u64, slow.events, 2 * (budget / 64 + 4096)));
}

Test(hub, upstream_losses_reach_every_listener_coalesced)
{
	static struct client a, b; /* static: the suite teardown releases them */

	setup_hub(1 << 20, 0);
	client_init(&a, add_listener(NULL, 0, 0));
	client_init(&b, add_listener(NULL, 0, 0));
	for (int i = 0; i < 100; i++)
		mm_hub__add_loss(hub, MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_RING, 1, 3,
				 1000 + (uint64_t)i);
	for (int i = 0; i < 10; i++) {
		pump();
		client_read(&a);
		client_read(&b);
	}
	/* Room was available at once: every add_loss flushed, but nothing is lost or duplicated. */
	cr_assert(eq(u64, a.lost_other, 300));
	cr_assert(eq(u64, b.lost_other, 300));
}

Test(hub, an_event_that_cannot_be_packed_is_lost_for_each_listener_it_was_for)
{
	static struct client tcp, udp; /* static: the suite teardown releases them */
	static const uint32_t only_tcp = 6, only_udp = 17;
	size_t big = MM_FRAME_MAX + 1;
	uint8_t *payload = calloc(1, big);
	struct mm_hub_stats st;

	cr_assert(payload != NULL);
	setup_hub(4 << 20, 0);
	client_init(&tcp, add_listener(&only_tcp, 1, 0));
	client_init(&udp, add_listener(&only_udp, 1, 0));
	cr_expect(lt(int, publish_payload(6, 1, payload, big), 0), "over MM_FRAME_MAX: not packed");
	free(payload);
	publish(6, 2);
	for (int i = 0; i < 10; i++) {
		pump();
		client_read(&tcp);
		client_read(&udp);
	}
	mm_hub__stats(hub, &st);
	cr_expect(eq(u64, st.queue_lost, 1));
	cr_expect(eq(u64, tcp.lost_queue, 1), "told before the next event");
	cr_expect(eq(u64, tcp.events, 1));
	cr_expect(eq(u64, udp.lost_queue, 0), "not an event it asked for");
	cr_expect(eq(u64, udp.notices, 0));
}

Test(hub, replay_sends_the_newest_matching_history_first)
{
	uint32_t tcp = IPPROTO_TCP;
	static struct client c; /* static: the suite teardown releases them */

	setup_hub(1 << 20, 8);
	for (uint64_t i = 0; i < 20; i++)
		publish(i % 2 ? IPPROTO_TCP : IPPROTO_UDP, i + 1);
	client_init(&c, add_listener(&tcp, 1, 3));
	for (int i = 0; i < 10; i++) {
		pump();
		client_read(&c);
	}
	cr_assert(eq(u64, c.events, 3));
	cr_assert(eq(u64, c.by_proto[IPPROTO_TCP], 3));
	cr_assert(eq(u64, c.last_ktime, 20));
}

/*
 * Frames of 2 KiB and more are queued by reference (hub.c, REF_MIN_LEN), each
 * charged its chain (REF_COST, 1072 bytes) on top of its bytes: a stalled
 * listener holds fewer of them than its budget has bytes for, the others get
 * every byte intact, and a listener that goes away with references queued
 * (closing after an error) leaves them to libevent, which frees them later.
 */
Test(hub, large_frames_are_referenced_and_charged_what_they_cost)
{
	const size_t budget = 65536, cap = 3000, frame = cap + 60;
	const uint64_t emitted = 200;
	static struct client fast, slow, rude; /* static: the suite teardown releases them */
	const uint8_t byte = 0;

	setup_hub(budget, 4);
	client_init(&fast, add_listener(NULL, 0, 0));
	client_init(&slow, add_listener(NULL, 0, 0));
	client_init(&rude, add_listener(NULL, 0, 0));
	for (uint64_t i = 0; i < emitted; i++) {
		publish_sized(IPPROTO_TCP, i + 1, cap);
		pump();
		client_read(&fast);
	}
	/* The rude one speaks with its queue full of references: closed, queue and all. */
	cr_assert(eq(sz, (size_t)write(rude.fd, &byte, 1), 1));
	for (int i = 0; i < 50; i++) {
		pump();
		client_read(&fast);
	}
	cr_assert(eq(u64, fast.events, emitted));
	cr_assert(eq(u64, fast.bad_payload, 0));
	cr_assert(eq(u32, mm_hub__listeners(hub), 2), "the rude listener is gone");
	for (int i = 0; i < 200 && slow.events + slow.lost_queue < emitted; i++) {
		pump();
		client_read(&slow);
	}
	cr_assert(eq(u64, slow.events + slow.lost_queue, emitted));
	cr_assert(eq(u64, slow.bad_payload, 0));
	/* Charged by bytes alone it would hold budget / frame = 21, plus what the
	 * socket buffers (4 KiB: one frame) and what it read once it read. */
	cr_assert(le(u64, slow.events, budget / (frame + 1072) + 2), "%lu events held",
		  (unsigned long)slow.events);
}

#define T0 1700000000000000000ull /* publish_sized: time_ns = T0 + seq */

static void drain(struct client *c, int rounds)
{
	for (int i = 0; i < rounds; i++) {
		pump();
		client_read(c);
	}
}

/* ReplayDone right after the replayed events, then live events; none without a replay. */
Test(hub, replay_done_follows_the_replay_then_live_events)
{
	uint32_t tcp = IPPROTO_TCP;
	static struct client c, live; /* static: the suite teardown releases them */

	setup_hub(1 << 20, 8);
	for (uint64_t i = 0; i < 20; i++)
		publish(i % 2 ? IPPROTO_TCP : IPPROTO_UDP, i + 1);
	client_init(&c, add_listener(&tcp, 1, 3));
	client_init(&live, add_listener(NULL, 0, 0));
	drain(&c, 10);
	cr_assert(eq(u64, c.replay_dones, 1));
	cr_assert(eq(u64, c.replay_done_events, 3));
	cr_assert(eq(u64, c.events_at_done, 3), "ReplayDone after the replayed events");
	publish(IPPROTO_TCP, 21);
	publish(IPPROTO_TCP, 22);
	drain(&c, 10);
	drain(&live, 10);
	cr_assert(eq(u64, c.events, 5));
	cr_assert(eq(u64, c.after_done, 2), "the live events after ReplayDone");
	cr_assert(not(c.eof));
	cr_assert(eq(u64, live.replay_dones, 0), "no replay asked: no ReplayDone");
	cr_assert(eq(u64, live.events, 2));
	cr_assert(eq(u32, mm_hub__listeners(hub), 2));
}

/* history_only: the replay, ReplayDone, then the end of the stream; no live event. */
Test(hub, history_only_ends_after_replay_done)
{
	Meshmon__V1__Subscribe sub = MESHMON__V1__SUBSCRIBE__INIT;
	static struct client c; /* static: the suite teardown releases them */

	setup_hub(1 << 20, 8);
	for (uint64_t i = 0; i < 20; i++)
		publish(IPPROTO_TCP, i + 1);
	sub.replay = 5;
	sub.history_only = true;
	client_init(&c, add_listener_sub(&sub));
	publish(IPPROTO_TCP, 21); /* live: not for a history-only listener */
	drain(&c, 10);
	cr_assert(eq(u64, c.events, 5));
	cr_assert(eq(u64, c.first_ktime, 16));
	cr_assert(eq(u64, c.last_ktime, 20), "the live event 21 was not sent");
	cr_assert(eq(u64, c.replay_dones, 1));
	cr_assert(eq(u64, c.replay_done_events, 5));
	cr_assert(eq(u64, c.after_done, 0));
	cr_assert(c.eof, "the stream ends after ReplayDone");
	cr_assert(eq(u32, mm_hub__listeners(hub), 0));
}

/* since_ns replays every stored event from then on (no count); until_ns bounds it. */
Test(hub, since_replays_the_stored_events_from_then)
{
	Meshmon__V1__Subscribe sub = MESHMON__V1__SUBSCRIBE__INIT;
	static struct client from15, window, past; /* static: the suite teardown releases them */

	setup_hub(1 << 20, 8); /* holds 13..20 */
	for (uint64_t i = 0; i < 20; i++)
		publish(IPPROTO_TCP, i + 1);
	sub.since_ns = T0 + 15;
	client_init(&from15, add_listener_sub(&sub));
	sub.until_ns = T0 + 17;
	client_init(&window, add_listener_sub(&sub));
	sub.since_ns = T0 + 1;
	sub.until_ns = T0 + 2;
	client_init(&past, add_listener_sub(&sub));
	publish(IPPROTO_TCP, 21);
	drain(&from15, 10);
	drain(&window, 10);
	drain(&past, 10);
	cr_assert(eq(u64, from15.events_at_done, 6), "15..20 replayed");
	cr_assert(eq(u64, from15.first_ktime, 15));
	cr_assert(eq(u64, from15.replay_done_events, 6));
	cr_assert(eq(u64, from15.events, 7), "and 21 live");
	cr_assert(eq(u64, window.events, 3), "15..17, and no live event after until");
	cr_assert(eq(u64, window.last_ktime, 17));
	cr_assert(eq(u64, window.replay_done_events, 3));
	cr_assert(eq(u64, past.events, 0), "1..2 are no longer stored");
	cr_assert(eq(u64, past.replay_dones, 1), "ReplayDone, of nothing");
	cr_assert(eq(u64, past.replay_done_events, 0));
}

/*
 * A replay larger than the queue: what does not fit is counted lost, and its
 * notice comes before ReplayDone, which a history-only stream ends with.
 */
Test(hub, replay_losses_are_reported_before_replay_done)
{
	Meshmon__V1__Subscribe sub = MESHMON__V1__SUBSCRIBE__INIT;
	static struct client c; /* static: the suite teardown releases them */

	setup_hub(8192, 400);
	for (uint64_t i = 0; i < 400; i++)
		publish(IPPROTO_TCP, i + 1);
	sub.replay = 400;
	sub.history_only = true;
	client_init(&c, add_listener_sub(&sub));
	/* Live while it waits to send its notice: neither sent nor counted lost for it. */
	for (uint64_t i = 400; i < 410; i++)
		publish(IPPROTO_TCP, i + 1);
	cr_assert(eq(u32, mm_hub__listeners(hub), 1), "still sending its replay");
	for (int i = 0; i < 500 && !c.eof; i++) {
		pump();
		client_read(&c);
	}
	cr_assert(gt(u64, c.lost_queue, 0), "the replay did not overflow the queue");
	cr_assert(eq(u64, c.events + c.lost_queue, 400));
	cr_assert(le(u64, c.last_ktime, 400), "no live event");
	cr_assert(eq(u64, c.replay_dones, 1));
	cr_assert(eq(u64, c.notices_at_done, c.notices), "every notice before ReplayDone");
	cr_assert(eq(u64, c.events_at_done, c.events));
	cr_assert(eq(u64, c.replay_done_events, c.events), "ReplayDone counts what was queued");
	cr_assert(c.eof);
}

/*
 * A history-only client that reads slowly still gets its whole history: the
 * stream ends when its output is written, not at the closing set's deadline
 * (MM_CONN_CLOSE_TIMEOUT_S), which would cut a large replay short.
 */
Test(hub, history_only_waits_for_a_slow_reader, .timeout = 30)
{
	Meshmon__V1__Subscribe sub = MESHMON__V1__SUBSCRIBE__INIT;
	static struct client c; /* static: the suite teardown releases them */
	struct timespec pause = {0, 100000000};

	setup_hub(1 << 20, 400);
	for (uint64_t i = 0; i < 400; i++)
		publish(IPPROTO_TCP, i + 1);
	sub.replay = 400;
	sub.history_only = true;
	client_init(&c, add_listener_sub(&sub));
	/* Far more than the socket buffers, unread for longer than the deadline. */
	for (int i = 0; i < (MM_CONN_CLOSE_TIMEOUT_S + 1) * 10; i++) {
		pump();
		nanosleep(&pause, NULL);
	}
	for (int i = 0; i < 2000 && !c.eof; i++) {
		pump();
		client_read(&c);
	}
	cr_assert(eq(u64, c.events, 400));
	cr_assert(eq(u64, c.lost_queue, 0));
	cr_assert(eq(u64, c.replay_dones, 1));
	cr_assert(c.eof);
}
