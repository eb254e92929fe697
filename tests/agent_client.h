/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A minimal client of meshmon-agent, written from proto/framing alone so the
 * agent's tests do not trust the agent's own code: connect to the socket of
 * the fixture's agent (agent_fixture.h), subscribe, and count what arrives by
 * kind (events by protocol, lost notices by source, Status, Error). Shared
 * by the test_agent_* programs. The helpers assert.
 */
#ifndef MESHMON_TEST_AGENT_CLIENT_H
#define MESHMON_TEST_AGENT_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "framing.h"

/* The fields of one event that the tcp_probe, endpoint and kernel drop tests look at. */
struct ev_rec {
	uint32_t type, source, proto, sport, dport;
	uint8_t src[16], dst[16];
	size_t src_len, dst_len;
	uint32_t probe_state, probe_dir, pid; /* pid: tcp_probe's, or an endpoint trace's owner */
	uint32_t netns, tcp_state; /* tcp_probe */
	int preexisting;
	uint32_t point;                       /* traces */
	uint64_t cgroup_id, socket_cookie;    /* endpoint traces' owner */
	char comm[64];
	char reason[48];
	uint64_t ktime_ns;    /* the record's CLOCK_MONOTONIC */
	uint64_t received_ns; /* CLOCK_MONOTONIC when the client read it */
};

struct client {
	int fd;
	struct mm_frame_reader r;
	int eof;
	uint64_t events, icmp, tcp, tcp8080, other;
	uint64_t lost_queue, lost_other, notices;
	uint32_t error_code;
	char error_message[256];
	int got_hello, got_status;
	uint32_t status_listeners, status_cpus;
	uint64_t status_events;
	int status_all_utf8;      /* every interface name and the cgroup are valid UTF-8 */
	char status_iface0[64];   /* the first interface as Status names it */
	uint64_t status_queue_lost; /* Status.losses of source QUEUE, summed */
	uint64_t status_datapath_lost; /* Status.losses of source DATAPATH, summed */
	uint64_t status_point_packets[16]; /* Status.points: packets by TracePoint */
	int status_endpoint_traces;         /* Status.endpoint_traces */
	int keep; /* set: record every event in log[] */
	struct ev_rec *log;
	size_t n_log, cap_log;
	/* Captures on demand: CaptureStarted, CaptureEnded, the capture events' frames. */
	int capture_started, capture_ended;
	uint32_t capture_rule, capture_snaplen, end_reason, lost_capture_rule;
	uint64_t end_packets, end_bytes, lost_capture;
	uint32_t status_capture_rules, status_capture_rules_max;
	struct cap_frame *frames;
	size_t n_frames, cap_frames;
};

/* One capture event's frame, as received. */
struct cap_frame {
	uint32_t rule_id, point, len_orig;
	size_t len;
	uint8_t *data;
};

/* Subscribe.replay and Subscribe.types of the next client_subscribe() (none: every type). */
extern uint32_t next_replay;
extern Meshmon__V1__EventType *next_types;
extern size_t next_n_types;

uint64_t now_ms(void);

struct mm_test_agent;

/* Connect to the agent's socket (the fixture's, or a's): 0 or -errno. */
int client_connect(struct client *c);
int client_connect_at(struct client *c, const struct mm_test_agent *a);
void client_close(struct client *c);
/* Read and count whatever arrives within ms (returns early on EOF). */
void client_poll(struct client *c, int ms);
void client_send(struct client *c, const Meshmon__V1__ClientMessage *m);
/* Connect, take the Hello, subscribe to protocols (and ports) of one flow filter. */
void client_subscribe(struct client *c, uint32_t proto, uint32_t port);
void client_subscribe_at(struct client *c, const struct mm_test_agent *a, uint32_t proto,
			 uint32_t port);
/* Connect, send a StatusRequest and read until the Status and the end of stream (3 s at most). */
void client_status(struct client *c);
/* Connect, take the Hello and send req (a CaptureRequest). */
void client_capture(struct client *c, const Meshmon__V1__CaptureRequest *req);
/* Poll n clients in turn for ms. */
void settle(struct client **cs, size_t n, int ms);

#endif /* MESHMON_TEST_AGENT_CLIENT_H */
