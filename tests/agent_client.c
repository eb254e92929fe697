// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A minimal client of meshmon-agent written from proto/framing alone (see
 * agent_client.h): it counts what arrives by kind, and keeps the events a
 * test asks for.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent_client.h"
#include "utf8.h"
#include "agent_fixture.h"
#include "framing.h"
#include "harness_agent.h"

uint32_t next_replay;
Meshmon__V1__EventType *next_types;
size_t next_n_types;

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int client_connect_at(struct client *c, const struct mm_test_agent *a)
{
	int fd;

	memset(c, 0, sizeof(*c));
	mm_frame_reader__init(&c->r);
	fd = mm_test_agent_connect(a);
	c->fd = fd < 0 ? -1 : fd;
	return fd < 0 ? fd : 0;
}

int client_connect(struct client *c)
{
	return client_connect_at(c, &agent);
}

void client_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	mm_frame_reader__release(&c->r);
	free(c->log);
	c->log = NULL;
	c->n_log = c->cap_log = 0;
	for (size_t i = 0; i < c->n_frames; i++)
		free(c->frames[i].data);
	free(c->frames);
	c->frames = NULL;
	c->n_frames = c->cap_frames = 0;
}

static uint64_t mono_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void keep_event(struct client *c, const Meshmon__V1__Event *e)
{
	struct ev_rec *r;

	if (c->n_log == c->cap_log) {
		size_t cap = c->cap_log ? 2 * c->cap_log : 256;
		struct ev_rec *n = realloc(c->log, cap * sizeof(*n));

		cr_assert(n != NULL);
		c->log = n;
		c->cap_log = cap;
	}
	r = &c->log[c->n_log++];
	memset(r, 0, sizeof(*r));
	r->type = (uint32_t)e->type;
	r->source = (uint32_t)e->source;
	r->ktime_ns = e->ktime_ns;
	r->received_ns = mono_now_ns();
	if (e->tuple) {
		r->proto = e->tuple->proto;
		r->sport = e->tuple->sport;
		r->dport = e->tuple->dport;
		r->src_len = e->tuple->src.len <= 16 ? e->tuple->src.len : 0;
		r->dst_len = e->tuple->dst.len <= 16 ? e->tuple->dst.len : 0;
		memcpy(r->src, e->tuple->src.data, r->src_len);
		memcpy(r->dst, e->tuple->dst.data, r->dst_len);
	}
	if (e->detail_case == MESHMON__V1__EVENT__DETAIL_TCP_PROBE) {
		r->probe_state = (uint32_t)e->tcp_probe->state;
		r->probe_dir = (uint32_t)e->tcp_probe->direction;
		r->pid = e->tcp_probe->pid;
		r->netns = e->tcp_probe->netns;
		r->tcp_state = e->tcp_probe->tcp_state;
		r->preexisting = e->tcp_probe->preexisting;
	} else if (e->detail_case == MESHMON__V1__EVENT__DETAIL_TRACE) {
		r->point = (uint32_t)e->trace->point;
		r->pid = e->trace->pid;
		r->cgroup_id = e->trace->cgroup_id;
		r->socket_cookie = e->trace->socket_cookie;
		snprintf(r->comm, sizeof(r->comm), "%s", e->trace->comm ? e->trace->comm : "");
	} else if (e->detail_case == MESHMON__V1__EVENT__DETAIL_DROP && e->drop->reason) {
		snprintf(r->reason, sizeof(r->reason), "%s", e->drop->reason);
	}
}

static void keep_frame(struct client *c, const Meshmon__V1__Event *e)
{
	struct cap_frame *f;

	if (c->n_frames == c->cap_frames) {
		size_t cap = c->cap_frames ? 2 * c->cap_frames : 64;
		struct cap_frame *n = realloc(c->frames, cap * sizeof(*n));

		cr_assert(n != NULL);
		c->frames = n;
		c->cap_frames = cap;
	}
	f = &c->frames[c->n_frames++];
	f->rule_id = e->capture->rule_id;
	f->point = (uint32_t)e->capture->point;
	f->len_orig = e->len;
	f->len = e->captured.len;
	f->data = malloc(f->len ? f->len : 1);
	cr_assert(f->data != NULL);
	memcpy(f->data, e->captured.data, f->len);
}

static void count_message(struct client *c, const Meshmon__V1__ServerMessage *m)
{
	switch (m->msg_case) {
	case MESHMON__V1__SERVER_MESSAGE__MSG_HELLO:
		c->got_hello = 1;
		break;
	case MESHMON__V1__SERVER_MESSAGE__MSG_EVENT: {
		const Meshmon__V1__Tuple *t = m->event->tuple;

		c->events++;
		if (m->event->detail_case == MESHMON__V1__EVENT__DETAIL_CAPTURE)
			keep_frame(c, m->event);
		if (c->keep)
			keep_event(c, m->event);
		if (t && t->proto == IPPROTO_ICMP)
			c->icmp++;
		else if (t && t->proto == IPPROTO_TCP) {
			c->tcp++;
			if (t->sport == 8080 || t->dport == 8080)
				c->tcp8080++;
		} else {
			c->other++;
		}
		break;
	}
	case MESHMON__V1__SERVER_MESSAGE__MSG_LOST:
		c->notices++;
		if (m->lost->source == MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_QUEUE) {
			c->lost_queue += m->lost->count;
		} else if (m->lost->source == MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_CAPTURE) {
			c->lost_capture += m->lost->count;
			c->lost_capture_rule = m->lost->rule_id;
		} else
			c->lost_other += m->lost->count;
		break;
	case MESHMON__V1__SERVER_MESSAGE__MSG_STATUS:
		c->got_status = 1;
		c->status_listeners = m->status->listeners;
		c->status_cpus = m->status->num_cpus;
		c->status_events = m->status->events_read;
		c->status_capture_rules = m->status->capture_rules;
		c->status_capture_rules_max = m->status->capture_rules_max;
		c->status_endpoint_traces = m->status->endpoint_traces;
		c->status_all_utf8 = 1;
		for (size_t i = 0; i < m->status->n_interfaces; i++)
			c->status_all_utf8 &= mm_utf8_valid(m->status->interfaces[i],
							    strlen(m->status->interfaces[i]));
		c->status_all_utf8 &= mm_utf8_valid(m->status->cgroup, strlen(m->status->cgroup));
		if (m->status->n_interfaces)
			snprintf(c->status_iface0, sizeof(c->status_iface0), "%s",
				 m->status->interfaces[0]);
		for (size_t i = 0; i < m->status->n_losses; i++)
			if (m->status->losses[i]->source ==
			    MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_QUEUE)
				c->status_queue_lost += m->status->losses[i]->count;
			else if (m->status->losses[i]->source ==
				 MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_DATAPATH)
				c->status_datapath_lost += m->status->losses[i]->count;
		for (size_t i = 0; i < m->status->n_points; i++)
			if ((unsigned int)m->status->points[i]->point < 16)
				c->status_point_packets[m->status->points[i]->point] =
				    m->status->points[i]->packets;
		break;
	case MESHMON__V1__SERVER_MESSAGE__MSG_CAPTURE_STARTED:
		c->capture_started = 1;
		c->capture_rule = m->capture_started->rule_id;
		c->capture_snaplen = m->capture_started->snaplen;
		break;
	case MESHMON__V1__SERVER_MESSAGE__MSG_CAPTURE_ENDED:
		c->capture_ended = 1;
		c->end_reason = (uint32_t)m->capture_ended->reason;
		c->end_packets = m->capture_ended->packets;
		c->end_bytes = m->capture_ended->bytes;
		break;
	case MESHMON__V1__SERVER_MESSAGE__MSG_ERROR:
		c->error_code = m->error->code;
		snprintf(c->error_message, sizeof(c->error_message), "%s",
			 m->error->message ? m->error->message : "");
		break;
	default:
		break;
	}
}

void client_poll(struct client *c, int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;
	uint8_t buf[65536];

	while (!c->eof) {
		int left = (int)(end - now_ms());
		struct pollfd pfd = {c->fd, POLLIN, 0};
		const uint8_t *p;
		size_t len;
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, left) <= 0)
			break;
		n = read(c->fd, buf, sizeof(buf));
		if (n <= 0) {
			c->eof = 1;
			break;
		}
		cr_assert(eq(int, mm_frame_reader__feed(&c->r, buf, (size_t)n), 0));
		while (mm_frame_reader__next(&c->r, &p, &len) == 1) {
			Meshmon__V1__ServerMessage *m = mm_frame__unpack_server(p, len);

			cr_assert(m != NULL, "the agent sent an undecodable frame");
			count_message(c, m);
			mm_frame__free_server(m);
		}
		if (ms == 0)
			break;
	}
}

void client_send(struct client *c, const Meshmon__V1__ClientMessage *m)
{
	uint8_t *buf;
	size_t len;

	cr_assert(eq(int, mm_frame__encode_client(m, &buf, &len), 0));
	cr_assert(eq(sz, (size_t)write(c->fd, buf, len), len));
	free(buf);
}

void client_subscribe(struct client *c, uint32_t proto, uint32_t port)
{
	client_subscribe_at(c, &agent, proto, port);
}

void client_subscribe_at(struct client *c, const struct mm_test_agent *a, uint32_t proto,
			 uint32_t port)
{
	Meshmon__V1__ClientMessage m = MESHMON__V1__CLIENT_MESSAGE__INIT;
	Meshmon__V1__Subscribe sub = MESHMON__V1__SUBSCRIBE__INIT;
	Meshmon__V1__FlowFilter ff = MESHMON__V1__FLOW_FILTER__INIT, *ffp = &ff;

	cr_assert(eq(int, client_connect_at(c, a), 0));
	for (int i = 0; i < 100 && !c->got_hello; i++)
		client_poll(c, 20);
	cr_assert(c->got_hello, "the agent speaks first");
	if (proto) {
		ff.n_protocols = 1;
		ff.protocols = &proto;
		if (port) {
			ff.n_ports = 1;
			ff.ports = &port;
		}
		sub.n_filters = 1;
		sub.filters = &ffp;
	}
	sub.replay = next_replay;
	sub.n_types = next_n_types;
	sub.types = next_types;
	m.msg_case = MESHMON__V1__CLIENT_MESSAGE__MSG_SUBSCRIBE;
	m.subscribe = &sub;
	client_send(c, &m);
}

void client_capture(struct client *c, const Meshmon__V1__CaptureRequest *req)
{
	Meshmon__V1__ClientMessage m = MESHMON__V1__CLIENT_MESSAGE__INIT;

	cr_assert(eq(int, client_connect(c), 0));
	for (int i = 0; i < 100 && !c->got_hello; i++)
		client_poll(c, 20);
	cr_assert(c->got_hello, "the agent speaks first");
	m.msg_case = MESHMON__V1__CLIENT_MESSAGE__MSG_CAPTURE;
	m.capture = (Meshmon__V1__CaptureRequest *)req;
	client_send(c, &m);
}

void client_status(struct client *c)
{
	Meshmon__V1__ClientMessage m = MESHMON__V1__CLIENT_MESSAGE__INIT;
	Meshmon__V1__StatusRequest sr = MESHMON__V1__STATUS_REQUEST__INIT;

	cr_assert(eq(int, client_connect(c), 0));
	m.msg_case = MESHMON__V1__CLIENT_MESSAGE__MSG_STATUS_REQUEST;
	m.status_request = &sr;
	client_send(c, &m);
	client_poll(c, 3000);
	cr_assert(c->got_status, "a Status answers a StatusRequest");
}

void settle(struct client **cs, size_t n, int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;

	while (now_ms() < end)
		for (size_t i = 0; i < n; i++)
			client_poll(cs[i], 20);
}
