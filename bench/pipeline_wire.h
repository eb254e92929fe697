/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * meshmon-pipeline-bench: the protocol as a client speaks it (docs/protocol.md),
 * from proto/framing.h alone: connect to the agent's socket, take the Hello,
 * send one request, read frames with a deadline. Used by the counting clients
 * for their handshake and by the bench for Status requests.
 */
#ifndef MESHMON_BENCH_PIPELINE_WIRE_H
#define MESHMON_BENCH_PIPELINE_WIRE_H

#include <stdint.h>

#include "framing.h"
#include "protocol.h"

/* A stream connection to a Unix socket path: the fd or -errno. */
int pl_wire__connect(const char *path);
/* Write one ClientMessage frame (the socket may be non-blocking): 0 or -errno. */
int pl_wire__send(int fd, const Meshmon__V1__ClientMessage *msg, uint64_t deadline_ns);
/*
 * The next ServerMessage from fd, read through r, by deadline_ns
 * (CLOCK_MONOTONIC): NULL with errno ETIMEDOUT, EPIPE (end of stream),
 * EBADMSG (not a ServerMessage) or the read's error. Free with
 * mm_frame__free_server().
 */
Meshmon__V1__ServerMessage *pl_wire__recv(int fd, struct mm_frame_reader *r, uint64_t deadline_ns);
/*
 * Connect, check the Hello, send a Subscribe for every event (no replay):
 * the fd (non-blocking) or -errno (-EPROTO: no Hello or a wrong version).
 */
int pl_wire__subscribe(const char *path, struct mm_frame_reader *r, uint64_t deadline_ns);

/* What the bench reads from a Status. */
struct pl_status {
	uint32_t listeners;
	uint64_t events_read;
	uint64_t lost[MM_LOSS_SOURCES]; /* by LossSource, summed over CPUs */
};
/* One StatusRequest on a connection of its own: 0 or -errno. */
int pl_wire__status(const char *path, struct pl_status *st, int timeout_ms);

#endif /* MESHMON_BENCH_PIPELINE_WIRE_H */
