/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The listener hub: subscribed clients and the fan-out to them. Each event is
 * packed once into a refcounted blob and appended to every matching
 * listener's output: copied into its packed buffer when small, by reference
 * when large (hub.c says why). Each listener's output is bounded by
 * queue_bytes, charged with what it really costs in memory (bytes, libevent's
 * chains, references): an event that does not fit is not queued and is
 * counted as lost (source QUEUE) for that listener alone. Losses upstream of
 * the hub (datapath, ring, rate limit) concern every listener. Pending losses
 * are kept per (source, cpu) and sent as one coalesced LostNotice each (count,
 * first and last time) as soon as the listener's queue is below half its
 * budget again; notices are never dropped, they wait.
 *
 * A listener whose client shuts its write side (a read of 0 bytes) keeps its
 * stream; it ends on a write error or once the client closes. The hub also
 * owns the agent's closing connections (conn.h), the server's included.
 */
#ifndef MESHMON_AGENT_HUB_H
#define MESHMON_AGENT_HUB_H

#include <stddef.h>
#include <stdint.h>

#include "filter.h"
#include "meshmon.pb-c.h"
#include "protocol.h"

struct event_base;
struct bufferevent;
struct mm_conns;
struct mm_hub;


struct mm_hub_opts {
	size_t queue_bytes;     /* per listener output budget */
	size_t history;         /* events kept for replay, 0 = none */
	unsigned int ncpus;     /* CPUs that per-CPU losses are reported for */
	unsigned int flush_ms;  /* timer that flushes pending notices; 0 = 1000 */
};

/* NULL with errno set. */
struct mm_hub *mm_hub__new(struct event_base *base, const struct mm_hub_opts *opts);
/* Frees every listener and closing connection (ending their streams). Accepts NULL. */
void mm_hub__free(struct mm_hub *hub);

/*
 * Adds a subscribed client. The hub takes bev (and frees it on a write error,
 * once the client has closed, or on any further client message; a half-close
 * keeps the stream) and the compiled filter (*filter is zeroed).
 * Replays first what the filter asks (the newest filter->replay matching
 * stored events, or every one from since_ns), then sends ReplayDone once the
 * replay's lost notices are out; a history-only listener then takes no live
 * event and its connection closes once written. 0 or -errno
 * (on error bev and filter are still the caller's).
 */
int mm_hub__add_listener(struct mm_hub *hub, struct bufferevent *bev, struct mm_filter *filter);

/*
 * Captures on demand (agent/capture.h): a capture's listener takes the
 * capture events of its rule (mm_event_view.rule_id) and nothing else but
 * lost notices; no subscriber ever gets a capture event with a rule id, and
 * those events are not kept in the history. gone(ctx, rule_id) is called
 * when the listener goes before mm_hub__end_capture() (the client left).
 * Takes bev as mm_hub__add_listener() does; 0 or -errno.
 */
typedef void (*mm_hub_capture_gone_fn)(void *ctx, uint32_t rule_id);
int mm_hub__add_capture(struct mm_hub *hub, struct bufferevent *bev, uint32_t rule_id,
			mm_hub_capture_gone_fn gone, void *ctx);
/*
 * Ends rule_id's stream: CaptureEnded (reason: CaptureEndReason) once the
 * pending notices are out, then the connection closes once written.
 */
void mm_hub__end_capture(struct mm_hub *hub, uint32_t rule_id, unsigned int reason,
			 uint64_t packets, uint64_t bytes);
/* count capture records of rule_id the datapath could not write, for its owner alone. */
void mm_hub__add_capture_loss(struct mm_hub *hub, uint32_t rule_id, uint64_t count,
			      uint64_t time_ns);

/*
 * Packs msg (an Event) once and queues it on every listener whose filter
 * matches view; time_ns (wall clock) dates queue losses. Returns the number of
 * listeners it was queued on, or -errno when it could not be packed (then it
 * counts as queue loss of every listener it was for).
 */
int mm_hub__publish(struct mm_hub *hub, const Meshmon__V1__ServerMessage *msg,
		    const struct mm_event_view *view, uint64_t time_ns);

/* count losses of source (LossSource) on cpu (or MM_CPU_NONE) for every listener. */
void mm_hub__add_loss(struct mm_hub *hub, unsigned int source, uint32_t cpu, uint64_t count,
		      uint64_t time_ns);

/*
 * count records of type (enum mm_event_type) refused by that type's own rate
 * limit, for every listener: LostNotice RATE_LIMIT with its type, not per CPU.
 */
void mm_hub__add_type_loss(struct mm_hub *hub, unsigned int type, uint64_t count,
			   uint64_t time_ns);

/* Sends pending notices of every listener that has room (also run on a timer). */
/*
 * Write what each listener has queued into its socket, at most
 * MM_HUB_WRITE_OUT_MAX bytes each, skipping sockets found full in the last
 * millisecond, once the loop has run the callbacks that are ready now (every
 * ring with records in this iteration of the loop: one write per listener for
 * all of them). Called after every ring batch: libevent's own write callbacks
 * run only once the loop gets to them, and a ring batch of thousands of events
 * would otherwise wait in the queue (and overflow it) meanwhile.
 */
#define MM_HUB_WRITE_OUT_MAX (256u << 10)
void mm_hub__write_out_soon(struct mm_hub *hub);
void mm_hub__flush(struct mm_hub *hub);

unsigned int mm_hub__listeners(const struct mm_hub *hub);
/* The closing connections, which the hub owns and frees last. */
struct mm_conns *mm_hub__conns(struct mm_hub *hub);

struct mm_hub_stats {
	uint64_t published;  /* events offered to the hub */
	uint64_t queued;     /* (event, listener) pairs queued */
	uint64_t queue_lost; /* (event, listener) pairs lost to a full queue */
	uint64_t notices;    /* LostNotices sent */
};
void mm_hub__stats(const struct mm_hub *hub, struct mm_hub_stats *out);

/* Current wall clock in ns. */
uint64_t mm_hub__now_ns(void);

#endif /* MESHMON_AGENT_HUB_H */
