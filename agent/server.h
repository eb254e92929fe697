/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The Unix socket server: the listening socket (path checks, stale socket
 * removal, 0660 root:meshmon), peer credentials, the handshake (agent's Hello,
 * then one Subscribe or StatusRequest before a deadline), the client cap.
 * Subscribed clients are handed to the hub; a StatusRequest is answered with
 * a Status and the connection is closed once it is flushed (closing
 * connections belong to the hub's set, conn.h). One log line per
 * connection, at most 10 a second (log.h), and a count of connections by how
 * their handshake ended.
 */
#ifndef MESHMON_AGENT_SERVER_H
#define MESHMON_AGENT_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "meshmon.pb-c.h"

struct event_base;
struct bufferevent;
struct mm_hub;
struct mm_server;

#define MM_SERVER_GROUP		       "meshmon"
#define MM_SERVER_HANDSHAKE_MS_DEFAULT 5000u

struct mm_server_opts {
	const char *path;
	unsigned int max_listeners; /* handshaking, subscribed and closing clients */
	unsigned int handshake_ms;  /* 0: MM_SERVER_HANDSHAKE_MS_DEFAULT */
	const Meshmon__V1__Hello
	    *hello; /* sent first on every connection; must outlive the server */
	/* Queue a Status message on bev: 0 or -errno. */
	int (*send_status)(void *ctx, struct bufferevent *bev);
	struct mm_captures *captures; /* CaptureRequests start here (capture.h); NULL: refused */
	void *ctx;
};

/* NULL with errno set and a one-line reason in err. */
struct mm_server *mm_server__new(struct event_base *base, struct mm_hub *hub,
				 const struct mm_server_opts *opts, char *err, size_t errlen);
/*
 * Whether path can be served: 0 when nothing or a dead agent's socket is
 * there; a negative errno with a one-line reason in err when a live agent
 * listens on it (-EADDRINUSE), it is not a socket, or it is too long.
 * Nothing is changed: the agent checks before it attaches anything.
 */
int mm_server__check_path(const char *path, char *err, size_t errlen);
/* Closes every handshaking client and the socket, and unlinks its path. Accepts NULL. */
void mm_server__free(struct mm_server *s);
/* Clients still in the handshake. */
unsigned int mm_server__handshaking(const struct mm_server *s);
/* Connections accepted so far, by how their handshake ended; zeros when s is NULL. */
void mm_server__connections(const struct mm_server *s, uint64_t out[MM_CONN_RESULTS]);

#endif /* MESHMON_AGENT_SERVER_H */
