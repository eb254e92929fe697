/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The CLI's connection to the agent: a Unix stream socket carrying framed
 * protobuf messages (proto/framing.h), used exactly as an external consumer
 * would. Blocking I/O; a signal interrupts a read with -EINTR.
 */
#ifndef MESHMON_CLI_CLIENT_H
#define MESHMON_CLI_CLIENT_H

#include <stddef.h>

#include "framing.h"

struct mm_client {
	int fd;
	struct mm_frame_reader reader;
};

/*
 * Connects to path. Returns MM_EXIT_OK, or an exit code (options.h) with a
 * one-line message in err: MM_EXIT_UNREACHABLE for ENOENT/ECONNREFUSED,
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
 * Connects, reads the Hello and checks the protocol version. On success the
 * Hello is returned in *hello (free with mm_frame__free_server on *hello_msg).
 */
int mm_client__handshake(struct mm_client *c, const char *path,
			 Meshmon__V1__ServerMessage **hello_msg, char *err, size_t errlen);
/* Closes the socket and frees the reader. Accepts NULL. */
void mm_client__close(struct mm_client *c);

#endif /* MESHMON_CLI_CLIENT_H */
