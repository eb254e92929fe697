// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Captures on demand (capture.h): request checking, the rule slots, the
 * budget and the end of each capture.
 *
 * A capture's packets and bytes are those its client was sent; the datapath's
 * counters say what it took (capture.bpf.h). The budget of packets or bytes
 * is spent when the events delivered, those the hub could not queue (its
 * client's queue loss) and the records the datapath failed to write reach
 * what it took at its limit: counted per event, and checked on a poll timer
 * that also reports the failed writes as capture loss. At the end, what the
 * datapath took and none of those accounts for (records still in the rings or
 * the reorder stage, which no listener takes now) is capture loss too.
 */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#include "capture.h"
#include "conn.h"
#include "datapath.h"
#include "hub.h"

#define POLL_MS 100
#define END(x) MESHMON__V1__CAPTURE_END_REASON__CAPTURE_END_REASON_##x

struct capture {
	struct mm_captures *caps;
	uint32_t id;           /* 0: slot free */
	uint64_t max_packets, max_bytes;
	uint64_t packets, bytes; /* delivered */
	uint64_t unsent;       /* published but not queued: the client's queue loss */
	uint64_t failed;       /* datapath write failures reported so far */
	struct event *timer;   /* max_seconds */
};

struct mm_captures {
	struct event_base *base;
	struct mm_datapath *dp;
	struct mm_hub *hub;
	int enabled; /* capture records switched on (--events) */
	struct event *poll;
	struct capture slot[MM_CAPTURE_RULES_MAX];
	unsigned int active;
	uint32_t next_id;
	uint64_t lost; /* capture records the datapath failed to write, every rule since start */
};

static int bad(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int compile_endpoint(const char *side, size_t n, Meshmon__V1__Endpoint *const *in,
			    struct mm_capture_endpoint *out, char *err, size_t errlen)
{
	const Meshmon__V1__Endpoint *e;
	unsigned int max;

	if (n > 1)
		return bad(err, errlen, "capture filter: at most one %s endpoint", side);
	if (!n)
		return 0;
	e = in[0];
	if (e->port > 65535)
		return bad(err, errlen, "capture filter: %s port %u out of range (1-65535)", side,
			   e->port);
	out->port = (__u16)e->port;
	if (!e->address.len)
		return 0;
	if (e->address.len != 4 && e->address.len != 16)
		return bad(err, errlen, "capture filter: %s address of %zu bytes (4 or 16)", side,
			   e->address.len);
	max = e->address.len == 4 ? 32 : 128;
	if (e->prefix_len > max)
		return bad(err, errlen, "capture filter: %s prefix /%u longer than %u bits", side,
			   e->prefix_len, max);
	memcpy(out->addr, e->address.data, e->address.len);
	out->family = e->address.len == 4 ? MM_FAMILY_IPV4 : MM_FAMILY_IPV6;
	out->prefix = (__u8)e->prefix_len;
	return 0;
}

static int compile_points(const Meshmon__V1__CaptureRequest *req, struct mm_capture_rule *r,
			  char *err, size_t errlen)
{
	if (!req->n_points) {
		r->points = MM_POINT_BIT(MM_POINT_FROM_NETWORK) | MM_POINT_BIT(MM_POINT_TO_NETWORK);
		return 0;
	}
	for (size_t i = 0; i < req->n_points; i++) {
		unsigned int point = (unsigned int)req->points[i];

		if (point != MM_POINT_FROM_NETWORK && point != MM_POINT_TO_NETWORK)
			return bad(err, errlen,
				   "capture: point %d cannot be captured (from-network or to-network)",
				   (int)req->points[i]);
		r->points |= MM_POINT_BIT(point);
	}
	return 0;
}

static int compile_filter(const Meshmon__V1__FlowFilter *f, struct mm_capture_rule *r, char *err,
			  size_t errlen)
{
	int rc;

	if (!f)
		return 0;
	if (f->n_drop_reasons || f->n_tcp_flags)
		return bad(err, errlen,
			   "capture filter: drop reasons and TCP flags cannot be captured on");
	/* tc sees packets, not sockets: a captured packet has no owner to match. */
	if (f->n_pids || f->n_comms || f->n_cgroup_ids)
		return bad(err, errlen,
			   "capture filter: captured packets have no owner: pid, comm and cgroup cannot be captured on");
	if (f->n_protocols > 1 || f->n_ports > 1 || f->n_interfaces > 1)
		return bad(err, errlen,
			   "capture filter: at most one protocol, one port and one interface");
	if (f->n_protocols) {
		if (f->protocols[0] == 0 || f->protocols[0] > 255)
			return bad(err, errlen, "capture filter: protocol %u out of range (1-255)",
				   f->protocols[0]);
		r->proto = (__u8)f->protocols[0];
	}
	if (f->n_ports) {
		if (f->ports[0] == 0 || f->ports[0] > 65535)
			return bad(err, errlen, "capture filter: port %u out of range (1-65535)",
				   f->ports[0]);
		r->port = (__u16)f->ports[0];
	}
	if (f->n_interfaces) {
		r->ifindex = if_nametoindex(f->interfaces[0]);
		if (!r->ifindex)
			return bad(err, errlen, "capture filter: no interface %.*s", IF_NAMESIZE,
				   f->interfaces[0]);
	}
	rc = compile_endpoint("source", f->n_source, f->source, &r->src, err, errlen);
	if (!rc)
		rc = compile_endpoint("destination", f->n_destination, f->destination, &r->dst, err,
				      errlen);
	if (!rc)
		rc = compile_endpoint("either", f->n_either, f->either, &r->either, err, errlen);
	return rc;
}

/* req into r (id and counters left zero): 0 or -EINVAL with the reason in err. */
static int compile_request(const Meshmon__V1__CaptureRequest *req, struct mm_capture_rule *r,
			   char *err, size_t errlen)
{
	int rc;

	memset(r, 0, sizeof(*r));
	if (req->snaplen > MM_CAPTURE_SNAP_MAX)
		return bad(err, errlen, "capture: snaplen %u above the maximum %u", req->snaplen,
			   MM_CAPTURE_SNAP_MAX);
	r->snaplen = req->snaplen ? req->snaplen : MM_CAPTURE_SNAP_MAX;
	r->max_packets = req->max_packets;
	r->max_bytes = req->max_bytes;
	rc = compile_points(req, r, err, errlen);
	return rc ? rc : compile_filter(req->filter, r, err, errlen);
}

static struct capture *capture_of(struct mm_captures *caps, uint32_t id)
{
	for (int i = 0; i < MM_CAPTURE_RULES_MAX; i++)
		if (id && caps->slot[i].id == id)
			return &caps->slot[i];
	return NULL;
}

/*
 * Remove c's rule from the datapath. Of the records it took, those not yet
 * accounted for (delivered, not queued, failed writes reported) will never
 * reach the client: its last failed writes and what is still on the way (a
 * time end, the agent stopping, the client gone). They are counted, and
 * reported to the client when report (before its CaptureEnded).
 */
static void capture_release(struct capture *c, int report)
{
	struct mm_captures *caps = c->caps;
	uint64_t done = c->packets + c->unsent + c->failed;
	struct mm_capture_rule r;

	if (!mm_datapath__remove_capture(caps->dp, (__u32)(c - caps->slot), &r) &&
	    r.packets > done) {
		caps->lost += r.packets - done;
		if (report)
			mm_hub__add_capture_loss(caps->hub, c->id, r.packets - done,
						 mm_hub__now_ns());
	}
	if (c->timer)
		event_free(c->timer);
	memset(c, 0, sizeof(*c));
	c->caps = caps;
	if (--caps->active == 0)
		event_del(caps->poll); /* an idle agent takes no wakeup for captures */
}

static void capture_end(struct capture *c, unsigned int reason)
{
	struct mm_hub *hub = c->caps->hub;
	uint32_t id = c->id;
	uint64_t packets = c->packets, bytes = c->bytes;

	capture_release(c, 1);
	mm_hub__end_capture(hub, id, reason, packets, bytes);
}

/* The client left: its rule goes, nobody is told. */
static void on_capture_gone(void *ctx, uint32_t rule_id)
{
	struct capture *c = capture_of(ctx, rule_id);

	if (c)
		capture_release(c, 0);
}

static void on_capture_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	capture_end(arg, END(TIME));
}

/* Whether c's packet or byte budget is spent, given the datapath's view r. */
static int capture_spent(const struct capture *c, const struct mm_capture_rule *r,
			 unsigned int *reason)
{
	uint64_t done = c->packets + c->unsent + r->failed;

	if (c->max_packets && done >= c->max_packets) {
		*reason = END(PACKETS);
		return 1;
	}
	if (c->max_bytes && r->bytes >= c->max_bytes && done >= r->packets) {
		*reason = END(BYTES);
		return 1;
	}
	return 0;
}

/* Report new failed writes and end spent budgets (also on the poll timer). */
static void capture_check(struct capture *c)
{
	struct mm_captures *caps = c->caps;
	struct mm_capture_rule r;
	unsigned int reason;

	if (mm_datapath__read_capture(caps->dp, (__u32)(c - caps->slot), &r))
		return;
	if (r.failed > c->failed) {
		caps->lost += r.failed - c->failed;
		mm_hub__add_capture_loss(caps->hub, c->id, r.failed - c->failed, mm_hub__now_ns());
		c->failed = r.failed;
	}
	if (capture_spent(c, &r, &reason))
		capture_end(c, reason);
}

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
	struct mm_captures *caps = arg;

	(void)fd;
	(void)what;
	for (int i = 0; i < MM_CAPTURE_RULES_MAX; i++)
		if (caps->slot[i].id)
			capture_check(&caps->slot[i]);
}

struct mm_captures *mm_captures__new(struct event_base *base, struct mm_datapath *dp,
				     struct mm_hub *hub, int enabled)
{
	struct mm_captures *caps = calloc(1, sizeof(*caps));

	if (!caps)
		return NULL;
	caps->base = base;
	caps->dp = dp;
	caps->hub = hub;
	caps->enabled = enabled;
	for (int i = 0; i < MM_CAPTURE_RULES_MAX; i++)
		caps->slot[i].caps = caps;
	caps->poll = event_new(base, -1, EV_PERSIST, on_poll, caps);
	if (!caps->poll) {
		free(caps);
		errno = ENOMEM;
		return NULL;
	}
	return caps;
}

void mm_captures__free(struct mm_captures *caps)
{
	if (!caps)
		return;
	for (int i = 0; i < MM_CAPTURE_RULES_MAX; i++)
		if (caps->slot[i].id)
			capture_end(&caps->slot[i], END(AGENT_STOPPING));
	event_free(caps->poll);
	free(caps);
}

static struct capture *free_slot(struct mm_captures *caps)
{
	for (int i = 0; i < MM_CAPTURE_RULES_MAX; i++)
		if (!caps->slot[i].id)
			return &caps->slot[i];
	return NULL;
}

static int send_started(struct bufferevent *bev, uint32_t id, uint32_t snaplen)
{
	Meshmon__V1__ServerMessage msg = MESHMON__V1__SERVER_MESSAGE__INIT;
	Meshmon__V1__CaptureStarted started = MESHMON__V1__CAPTURE_STARTED__INIT;

	started.rule_id = id;
	started.snaplen = snaplen;
	msg.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_CAPTURE_STARTED;
	msg.capture_started = &started;
	return mm_conn__send(bev, &msg);
}

int mm_captures__start(struct mm_captures *caps, struct bufferevent *bev,
		       const Meshmon__V1__CaptureRequest *req, char *err, size_t errlen)
{
	struct timeval poll_tv = {0, POLL_MS * 1000};
	struct mm_capture_rule rule;
	struct capture *c;
	__u32 slot;
	int rc;

	if (!caps->enabled) {
		snprintf(err, errlen, "captures are switched off (meshmon-agent --events without "
				      "capture)");
		return -EINVAL; /* a request this agent cannot take: INVALID_SUBSCRIPTION */
	}
	rc = compile_request(req, &rule, err, errlen);
	if (rc)
		return rc;
	c = free_slot(caps);
	if (!c) {
		snprintf(err, errlen, "too many captures: at most %d run at once",
			 MM_CAPTURE_RULES_MAX);
		return -ENOSPC;
	}
	slot = (__u32)(c - caps->slot);
	if (++caps->next_id == 0)
		caps->next_id = 1;
	rule.id = caps->next_id;
	if (req->max_seconds) {
		struct timeval tv = {(time_t)req->max_seconds, 0};

		c->timer = evtimer_new(caps->base, on_capture_timer, c);
		if (!c->timer || evtimer_add(c->timer, &tv))
			goto nomem;
	}
	if (send_started(bev, rule.id, rule.snaplen))
		goto nomem;
	if (!caps->active && event_add(caps->poll, &poll_tv))
		goto nomem;
	rc = mm_hub__add_capture(caps->hub, bev, rule.id, on_capture_gone, caps);
	if (rc) {
		if (!caps->active)
			event_del(caps->poll);
		goto fail;
	}
	c->id = rule.id;
	c->max_packets = rule.max_packets;
	c->max_bytes = rule.max_bytes;
	caps->active++;
	/* The hub owns bev now: a datapath failure ends the stream with CaptureEnded. */
	rc = mm_datapath__install_capture(caps->dp, slot, &rule);
	if (rc) {
		snprintf(err, errlen, "capture rule: %s", strerror(-rc));
		capture_end(c, END(UNSPECIFIED));
		return 0;
	}
	return 0;
nomem:
	rc = -ENOMEM;
fail:
	if (c->timer)
		event_free(c->timer);
	c->timer = NULL;
	snprintf(err, errlen, "out of memory");
	return rc;
}

void mm_captures__on_event(struct mm_captures *caps, uint32_t rule_id, uint32_t cap_len, int queued)
{
	struct capture *c = caps ? capture_of(caps, rule_id) : NULL;

	/* No capture: it ended, and capture_release() counted this record then. */
	if (!c)
		return;
	if (queued) {
		c->packets++;
		c->bytes += cap_len;
	} else {
		c->unsent++;
	}
	/* The common end, no syscall: every packet or byte of the budget accounted for. */
	if (c->max_packets && c->packets + c->unsent >= c->max_packets)
		capture_end(c, END(PACKETS));
	else if (c->max_bytes && c->bytes >= c->max_bytes)
		capture_end(c, END(BYTES));
}

uint64_t mm_captures__lost(const struct mm_captures *caps)
{
	return caps ? caps->lost : 0;
}

unsigned int mm_captures__active(const struct mm_captures *caps)
{
	return caps ? caps->active : 0;
}
