/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The CLI's connection to the agent: a Unix stream socket carrying framed
 * protobuf messages (proto/framing.h), used exactly as an external consumer
 * would. Blocking I/O; a signal interrupts a read with -EINTR.
 */
#ifndef MESHMON_CLI_CLIENT_H
#define MESHMON_CLI_CLIENT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "framing.h"
#include "unpack.h"

struct mm_client {
	int fd;
	struct mm_frame_reader reader;
	struct mm_unpack unpack; /* what mm_client__next unpacks with, and into */
	/*
	 * After a failed mm_client__handshake: true when the connection itself
	 * failed (no agent listening, or it hung up before its Hello), false
	 * when the agent answered and refused or broke the protocol.
	 */
	bool gone;
	/*
	 * How long mm_client__handshake waits for the agent to accept (a full
	 * backlog) and then for its Hello, in ms each; 0: as long as it takes.
	 * A reconnect sets it, so an agent that is wedged, or listens and never
	 * speaks, cannot hold the CLI past --reconnect-timeout.
	 */
	int timeout_ms;
};

/*
 * Connects to path. Returns MM_EXIT_OK, or an exit code (options.h) with a
 * one-line message in err: MM_EXIT_UNREACHABLE for ENOENT/ECONNREFUSED (and
 * EAGAIN: a full backlog for longer than c->timeout_ms),
 * MM_EXIT_PERMISSION for EACCES/EPERM, MM_EXIT_FAILURE otherwise.
 */
int mm_client__connect(struct mm_client *c, const char *path, char *err, size_t errlen);
/* Sends one message: 0 or -errno. */
int mm_client__send(struct mm_client *c, const Meshmon__V1__ClientMessage *msg);
/*
 * Receives the next message: 1 with *out set (free with mm_frame__free_server),
 * 0 at EOF, -EINTR when a signal arrived, -EBADMSG for a frame that does not
 * decode, -EMSGSIZE for an oversized frame, other -errno.
 */
int mm_client__recv(struct mm_client *c, Meshmon__V1__ServerMessage **out);
/*
 * The next message of the stream, when mm_client__has_frame says there is
 * one: 1 with *out set, -EBADMSG for a frame that does not decode,
 * -EMSGSIZE for an oversized one, 0 when there is none. *out lives in the
 * client's arena (c->unpack) until the next call or mm_client__close: never
 * free it.
 */
int mm_client__next(struct mm_client *c, Meshmon__V1__ServerMessage **out);
/*
 * Whether mm_client__recv has a whole frame (or a bad length prefix) to
 * return without reading: false when its next call would wait for the agent.
 */
bool mm_client__has_frame(const struct mm_client *c);
/*
 * Waits for the agent and reads what it sent, once: the bytes read (> 0), 0
 * at EOF, -EINTR when *stop is set, other -errno. The stop signals (SIGINT,
 * SIGTERM, whose handler sets *stop) are blocked but while waiting, so one
 * that comes just before the wait ends it too instead of being missed.
 */
int mm_client__fill(struct mm_client *c, const volatile sig_atomic_t *stop);
/*
 * Whether a result of mm_client__recv or mm_client__send says the agent hung
 * up (EOF, ECONNRESET, EPIPE) rather than that it broke the protocol.
 */
bool mm_client__hung_up(int rc);
/*
 * Connects, reads the Hello and checks the protocol version. On success the
 * Hello is returned in *hello (free with mm_frame__free_server on *hello_msg).
 * On failure c->gone tells a vanished agent (or one that did not accept or
 * send its Hello within c->timeout_ms) from a refusal.
 */
int mm_client__handshake(struct mm_client *c, const char *path,
			 Meshmon__V1__ServerMessage **hello_msg, char *err, size_t errlen);
/* Closes the socket and frees the reader and the arena. Accepts NULL. */
void mm_client__close(struct mm_client *c);

#endif /* MESHMON_CLI_CLIENT_H */
