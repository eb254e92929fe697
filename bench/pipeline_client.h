/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * meshmon-pipeline-bench: minimal counting clients. Each is a forked child
 * that connects to the agent's socket, takes the Hello, subscribes to every
 * event, then reads frames and unpacks every ServerMessage with protobuf-c.
 * It counts the events of the benchmark's flow (trace, UDP, the bench's
 * ports), any other event, and the counts of LostNotices by
 * source, and puts the latency of each event (CLOCK_MONOTONIC at the read
 * that brought it - Event.ktime_ns) into a histogram.
 *
 * The bench talks to each child over two pipes: it sends the number of
 * records emitted once the producer is done (or "stop"), and the child sends
 * its report back as soon as events + lost reach that number, when nothing
 * arrived for PL_CLIENT_IDLE_MS, or when told to stop. Children die with the
 * bench (PR_SET_PDEATHSIG).
 */
#ifndef MESHMON_BENCH_PIPELINE_CLIENT_H
#define MESHMON_BENCH_PIPELINE_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pipeline_hist.h"
#include "protocol.h"

/* Longer than the agent's 1 s loss poll and 1 s notice flush together. */
#define PL_CLIENT_IDLE_MS 3000

struct pl_client_report {
	uint64_t delivered;             /* events of the benchmark's flow */
	uint64_t other;                 /* any other event */
	uint64_t lost[MM_LOSS_SOURCES]; /* LostNotice counts by LossSource */
	uint64_t notices;
	uint64_t cpu_ns;                /* the child's CPU time after its Subscribe */
	uint64_t t_last_ns;             /* CLOCK_MONOTONIC of the read that brought the last event */
	int32_t err;                    /* 0 or -errno: connect, handshake, read, unpack */
	uint32_t error_code;            /* an Error the agent sent, else 0 */
	uint32_t eof;                   /* the stream ended */
	uint32_t complete;              /* events + lost reached the target */
	uint32_t timed_out;             /* the bench gave up on it (killed) */
	uint32_t died;                  /* it exited without a report */
	struct pl_hist hist;            /* latency, ns */
};

struct pl_client_slot {
	pid_t pid;
	int ctl; /* bench -> child: uint64 target */
	int rep; /* child -> bench: one status byte, then the report */
	int reported;
};

struct pl_clients {
	size_t n;
	struct pl_client_slot *slot;
	struct pl_client_report *rep;
};

/*
 * Fork n clients of the agent at sock_path that count the events of the flow
 * from sport to dport (UDP) as delivered; wait
 * until each has sent its Subscribe (timeout_ms). 0 or -errno; on failure
 * the clients are gone and err says why.
 */
int pl_clients__start(struct pl_clients *c, size_t n, const char *sock_path, uint16_t sport,
		      uint16_t dport, int timeout_ms, char *err, size_t errlen);
/*
 * Tell every client that target records were emitted and collect the
 * reports: c->rep[i]. A client that has not reported after timeout_ms is
 * told to stop, then killed (timed_out). Returns how many reported.
 */
size_t pl_clients__finish(struct pl_clients *c, uint64_t target, int timeout_ms);
/* Kill and reap what is left and free. Accepts a zeroed struct. */
void pl_clients__free(struct pl_clients *c);

#endif /* MESHMON_BENCH_PIPELINE_CLIENT_H */
