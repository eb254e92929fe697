// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Owns connections that are closing, the ending of a client connection,
 * single-message sends and the heap trim after large frees (conn.h).
 */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "conn.h"
#include "framing.h"

/*
 * glibc keeps freed memory in its free lists and returns to the system only
 * the top of the heap; the 4 KiB chains of a stalled queue lie among live
 * allocations, so most of them stayed resident after their client left
 * (4 stalled clients of 2 MiB: about 9 MiB still resident a second later
 * without a trim, under 1 MiB with one; docs/agent.md, "Memory").
 * malloc_trim(0) also releases the free pages inside the heap, but it walks
 * the whole heap, so it runs once, TRIM_DELAY_MS after a burst of frees that
 * queued at least TRIM_MIN_BYTES (libevent releases a bufferevent's buffers
 * on its next loop iteration, not in bufferevent_free).
 */
#define TRIM_MIN_BYTES (256u << 10)
#define TRIM_DELAY_MS  100

struct closing {
	LIST_ENTRY(closing) link;
	struct mm_conns *cs;
	struct bufferevent *bev;
};

struct mm_conns {
	struct event_base *base;
	LIST_HEAD(, closing) closing;
	unsigned int n_closing;
	struct event *trim;
	size_t freed; /* bytes queued in connections freed since the last trim */
};

static void on_trim(evutil_socket_t fd, short what, void *arg)
{
	struct mm_conns *cs = arg;

	(void)fd;
	(void)what;
	cs->freed = 0;
	malloc_trim(0);
}

struct mm_conns *mm_conns__new(struct event_base *base)
{
	struct mm_conns *cs = calloc(1, sizeof(*cs));

	if (!cs)
		return NULL;
	cs->base = base;
	LIST_INIT(&cs->closing);
	cs->trim = evtimer_new(base, on_trim, cs);
	if (!cs->trim) {
		free(cs);
		errno = ENOMEM;
		return NULL;
	}
	return cs;
}

static void closing_free(struct closing *c)
{
	struct mm_conns *cs = c->cs;

	LIST_REMOVE(c, link);
	cs->n_closing--;
	mm_conn__free(cs, c->bev);
	free(c);
}

void mm_conns__free(struct mm_conns *cs)
{
	struct closing *c;

	if (!cs)
		return;
	while ((c = LIST_FIRST(&cs->closing))) {
		mm_conn__finish(c->bev);
		closing_free(c);
	}
	event_free(cs->trim);
	free(cs);
}

unsigned int mm_conns__closing(const struct mm_conns *cs)
{
	return cs->n_closing;
}

void mm_conn__free(struct mm_conns *cs, struct bufferevent *bev)
{
	struct timeval tv = {0, TRIM_DELAY_MS * 1000};

	cs->freed += evbuffer_get_length(bufferevent_get_output(bev));
	bufferevent_free(bev);
	if (cs->freed >= TRIM_MIN_BYTES && !evtimer_pending(cs->trim, NULL))
		evtimer_add(cs->trim, &tv);
}

int mm_conn__send(struct bufferevent *bev, const Meshmon__V1__ServerMessage *msg)
{
	uint8_t *buf;
	size_t len;
	int err;

	err = mm_frame__encode_server(msg, &buf, &len);
	if (err)
		return err;
	err = evbuffer_add(bufferevent_get_output(bev), buf, len) ? -ENOMEM : 0;
	free(buf);
	return err;
}

static void closing_write(struct bufferevent *bev, void *arg)
{
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		closing_free(arg);
}

static void closing_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	closing_free(arg);
}

void mm_conn__close_after_flush(struct mm_conns *cs, struct bufferevent *bev)
{
	struct timeval tv = {MM_CONN_CLOSE_TIMEOUT_S, 0};
	struct closing *c;

	bufferevent_disable(bev, EV_READ);
	bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
	c = evbuffer_get_length(bufferevent_get_output(bev)) ? calloc(1, sizeof(*c)) : NULL;
	if (!c) { /* nothing left to say, or no memory to wait with */
		mm_conn__free(cs, bev);
		return;
	}
	c->cs = cs;
	c->bev = bev;
	LIST_INSERT_HEAD(&cs->closing, c, link);
	cs->n_closing++;
	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
	bufferevent_setcb(bev, NULL, closing_write, closing_event, c);
	bufferevent_set_timeouts(bev, NULL, &tv);
	bufferevent_enable(bev, EV_WRITE);
}

void mm_conn__fail(struct mm_conns *cs, struct bufferevent *bev, uint32_t code, const char *text)
{
	Meshmon__V1__ServerMessage msg = MESHMON__V1__SERVER_MESSAGE__INIT;
	Meshmon__V1__Error error = MESHMON__V1__ERROR__INIT;

	error.code = code;
	error.message = (char *)text;
	msg.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_ERROR;
	msg.error = &error;
	mm_conn__send(bev, &msg);
	mm_conn__close_after_flush(cs, bev);
}

void mm_conn__finish(struct bufferevent *bev)
{
	evutil_socket_t fd = bufferevent_getfd(bev);
	struct evbuffer *out = bufferevent_get_output(bev);

	if (fd < 0)
		return;
	/* bufferevent_socket keeps its output's start frozen and thaws it around
	 * its own writes (libevent 2.1 bufferevent_writecb); do the same. */
	evbuffer_unfreeze(out, 1);
	while (evbuffer_get_length(out) && evbuffer_write(out, fd) > 0)
		;
	evbuffer_freeze(out, 1);
	shutdown(fd, SHUT_WR);
}

int mm_conn__peer_gone(struct bufferevent *bev)
{
	struct pollfd p = {.fd = bufferevent_getfd(bev), .events = 0};

	if (p.fd < 0)
		return 1;
	/* AF_UNIX: a peer's close() (or shutdown(SHUT_RDWR)) shuts both our
	 * directions, which poll reports as POLLHUP; its shutdown(SHUT_WR) only
	 * our reading (POLLRDHUP). */
	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR));
}
