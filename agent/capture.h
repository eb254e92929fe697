/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Captures on demand, agent side: a CaptureRequest checked and compiled into
 * a datapath capture rule (datapath/capture.h), the client's stream handed to
 * the hub (which routes the rule's capture events to it alone), and the
 * rule's end: CaptureEnded when its budget of packets, bytes or seconds is
 * spent or the agent stops, nothing when the client left first. At most
 * MM_CAPTURE_RULES_MAX captures run at once.
 */
#ifndef MESHMON_AGENT_CAPTURE_H
#define MESHMON_AGENT_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "meshmon.pb-c.h"

struct bufferevent;
struct event_base;
struct mm_captures;
struct mm_datapath;
struct mm_hub;

/*
 * NULL with errno set. enabled: capture records are switched on (meshmon-agent
 * --events); when not, every CaptureRequest is refused with a message saying so.
 */
struct mm_captures *mm_captures__new(struct event_base *base, struct mm_datapath *dp,
				     struct mm_hub *hub, int enabled);
/* Ends every capture (CaptureEnded AGENT_STOPPING) and removes its rule. Accepts NULL. */
void mm_captures__free(struct mm_captures *caps);

/*
 * Starts the capture req asks for on bev's client: CaptureStarted is queued
 * and the hub takes bev. -EINVAL for a request the datapath cannot take (the
 * reason, one line, in err), -ENOSPC when MM_CAPTURE_RULES_MAX run already
 * (err says so), -ENOMEM or another -errno; bev stays the caller's then.
 */
int mm_captures__start(struct mm_captures *caps, struct bufferevent *bev,
		       const Meshmon__V1__CaptureRequest *req, char *err, size_t errlen);

/*
 * A capture event of rule_id with cap_len bytes was published, queued on its
 * client or not (then the hub counted it as that client's queue loss): counts
 * it, ends a spent budget.
 */
void mm_captures__on_event(struct mm_captures *caps, uint32_t rule_id, uint32_t cap_len, int queued);

/*
 * Capture records the datapath took that no client was sent, since start
 * (LOSS_SOURCE_CAPTURE): failed writes, and records still on the way when
 * their capture ended.
 */
uint64_t mm_captures__lost(const struct mm_captures *caps);
/* Captures running now (rules in the datapath). */
unsigned int mm_captures__active(const struct mm_captures *caps);

#endif /* MESHMON_AGENT_CAPTURE_H */
