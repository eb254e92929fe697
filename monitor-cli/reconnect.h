/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * `meshmon monitor` across an agent restart (reconnect.c): after the agent
 * hung up, dial again with a back-off until a Hello arrives, resubscribe,
 * and report the gap once on stderr and once in the output stream. Whether
 * an end is an outage worth this is the caller's decision (monitor.c).
 */
#ifndef MESHMON_CLI_RECONNECT_H
#define MESHMON_CLI_RECONNECT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "client.h"
#include "format_common.h"

/* The back-off between attempts: the first wait, doubled up to the last. */
#define MM_RECONNECT_FIRST_MS 100
#define MM_RECONNECT_MAX_MS 2000
/* How long one attempt waits for the agent to accept, and then for its Hello. */
#define MM_RECONNECT_ATTEMPT_MS 5000

struct mm_reconnect {
	const char *path;                  /* the agent socket */
	uint32_t timeout_s;                /* give up after this long without an agent; 0: never */
	const volatile sig_atomic_t *stop; /* set by SIGINT/SIGTERM: end quietly */
	bool json;                         /* errors as JSON objects on stdout */
	const struct mm_fmt *notice;       /* where the in-band gap notice goes */
	/* Sends the subscription again on c, whose agent said hello: 0 or -errno. */
	int (*subscribe)(void *arg, struct mm_client *c, const Meshmon__V1__Hello *hello);
	void *arg;
};

/*
 * One outage of c, which hung up: c is closed and dialled again until it is
 * connected and subscribed. last_event_ns is the wall time of the last event
 * received on the lost connection (0: none); the gap starts there.
 *
 * Returns MM_EXIT_OK when c is subscribed again, or when a stop was requested
 * (then c is closed); MM_EXIT_UNREACHABLE after timeout_s without an agent;
 * the exit code of a refusal or protocol error. Failures are reported.
 */
int mm_reconnect__run(const struct mm_reconnect *r, struct mm_client *c, uint64_t last_event_ns);

#endif /* MESHMON_CLI_RECONNECT_H */
