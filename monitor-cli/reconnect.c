// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The reconnect loop of `meshmon monitor` (see reconnect.h), the way
 * `cilium-dbg monitor` retries: the agent went away (a restart, a crash), so
 * dial its socket again with a back-off of 100 ms doubling to 2 s until a
 * Hello arrives, Ctrl-C, or --reconnect-timeout passes. Only a vanished agent
 * is retried: no socket, a refused connection, a hang-up before the Hello. An
 * agent that answers with an Error, or with another protocol, ends the run as
 * on the first connection: a refusal is not an outage.
 *
 * It says so once per outage on stderr, and once in the output stream (the
 * in-band gap notice of format.h), since events of the gap were never seen.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "format.h"
#include "options.h"
#include "reconnect.h"

#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/*
 * Sleeps ms unless a stop is requested before or during the sleep: false when
 * it is. SIGINT and SIGTERM stay blocked until ppoll() unblocks them
 * atomically, so a signal between the check and the sleep still ends it.
 */
static bool nap(const struct mm_reconnect *r, uint64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };
	sigset_t block, old;
	bool go_on;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	if (!*r->stop)
		ppoll(NULL, 0, &ts, &old);
	go_on = !*r->stop;
	sigprocmask(SIG_SETMASK, &old, NULL);
	return go_on;
}

static int give_up(const struct mm_reconnect *r)
{
	char msg[600];

	snprintf(msg, sizeof(msg),
		 "meshmon: the agent at %s did not come back within %us; giving up (see --reconnect-timeout)",
		 r->path, r->timeout_s);
	mm_report_error(r->json, msg);
	return MM_EXIT_UNREACHABLE;
}

/*
 * One attempt: MM_EXIT_OK with c subscribed (gap->end_ns and gap->down_ns
 * set when the Hello arrived) or a stop requested (c closed, gap->end_ns 0);
 * -EAGAIN when the agent is still gone; else the reported exit code.
 */
static int attempt(const struct mm_reconnect *r, struct mm_client *c, uint64_t down_ns,
		   int wait_ms, struct mm_gap *gap)
{
	Meshmon__V1__ServerMessage *hello = NULL;
	char err[512], msg[600];
	int rc;

	gap->end_ns = 0;
	c->timeout_ms = wait_ms;
	rc = mm_client__handshake(c, r->path, &hello, err, sizeof(err));
	if (rc == MM_EXIT_OK && !hello) {
		mm_client__close(c); /* interrupted */
		return MM_EXIT_OK;
	}
	if (rc == MM_EXIT_OK) {
		gap->end_ns = clock_ns(CLOCK_REALTIME);
		gap->down_ns = clock_ns(CLOCK_MONOTONIC) - down_ns;
		rc = r->subscribe(r->arg, c, hello->hello);
		mm_frame__free_server(hello);
		if (rc == 0)
			return MM_EXIT_OK;
		mm_client__close(c);
		gap->end_ns = 0;
		if (mm_client__hung_up(rc))
			return -EAGAIN; /* gone again between its Hello and our Subscribe */
		snprintf(msg, sizeof(msg), "meshmon: sending the subscription to %s: %s", r->path,
			 strerror(-rc));
		mm_report_error(r->json, msg);
		return MM_EXIT_FAILURE;
	}
	mm_client__close(c);
	if (*r->stop)
		return MM_EXIT_OK; /* a signal cut the attempt short (EINTR): not a failure */
	if (c->gone)
		return -EAGAIN;
	mm_report_error(r->json, err);
	return rc;
}

/*
 * How long one attempt waits for the agent to accept and for its Hello: a
 * few seconds, and no longer than the deadline is away.
 */
static int attempt_wait(uint64_t deadline)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC), left;

	if (!deadline)
		return MM_RECONNECT_ATTEMPT_MS;
	left = deadline > now ? (deadline - now) / NS_PER_MS + 1 : 1;
	return left < MM_RECONNECT_ATTEMPT_MS ? (int)left : MM_RECONNECT_ATTEMPT_MS;
}

/* Attempts with back-off until one connects, fails for good, a stop, or the deadline. */
static int redial(const struct mm_reconnect *r, struct mm_client *c, uint64_t down_ns,
		  struct mm_gap *gap)
{
	uint64_t deadline = r->timeout_s ? down_ns + (uint64_t)r->timeout_s * NS_PER_S : 0;
	uint64_t backoff = MM_RECONNECT_FIRST_MS, wait, now;
	int rc;

	for (;;) {
		now = clock_ns(CLOCK_MONOTONIC);
		if (deadline && now >= deadline)
			return give_up(r);
		wait = backoff;
		if (deadline && (deadline - now) / NS_PER_MS < wait)
			wait = (deadline - now + NS_PER_MS - 1) / NS_PER_MS;
		if (!nap(r, wait))
			return MM_EXIT_OK;
		backoff = backoff * 2 < MM_RECONNECT_MAX_MS ? backoff * 2 : MM_RECONNECT_MAX_MS;
		rc = attempt(r, c, down_ns, attempt_wait(deadline), gap);
		if (rc != -EAGAIN)
			return rc;
	}
}

int mm_reconnect__run(const struct mm_reconnect *r, struct mm_client *c, uint64_t last_event_ns)
{
	uint64_t down_ns = clock_ns(CLOCK_MONOTONIC), lost_ns = clock_ns(CLOCK_REALTIME);
	struct mm_gap gap = { .start_ns = lost_ns };
	char took[32];
	int rc;

	/* The last event cannot postdate the loss; a later stamp is clock skew. */
	if (last_event_ns && last_event_ns < lost_ns)
		gap.start_ns = last_event_ns;
	mm_client__close(c);
	fflush(stdout);
	fprintf(stderr, "meshmon: the agent went away; reconnecting to %s ...\n", r->path);
	rc = redial(r, c, down_ns, &gap);
	if (rc != MM_EXIT_OK || !gap.end_ns)
		return rc;
	mm_fmt_duration(gap.down_ns, took, sizeof(took));
	fprintf(stderr, "meshmon: reconnected to %s after %s\n", r->path, took);
	mm_format_reconnected(r->notice, &gap);
	return MM_EXIT_OK;
}
