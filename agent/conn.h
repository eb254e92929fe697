/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One client connection's helpers, shared by the server (handshake) and the
 * hub (subscribed listeners): queue a framed ServerMessage, tell a half-close
 * from a full one, and the ending "Error, then close once it is flushed".
 *
 * A connection that is closing belongs to a struct mm_conns (the hub owns
 * the agent's one): it flushes its last bytes for at most
 * MM_CONN_CLOSE_TIMEOUT_S, and mm_conns__free releases whatever is still
 * closing when the agent stops, so a connection in any state has an owner.
 * The set also gives the memory of large freed queues back to the system.
 */
#ifndef MESHMON_AGENT_CONN_H
#define MESHMON_AGENT_CONN_H

#include <stdint.h>

#include "meshmon.pb-c.h"

struct bufferevent;
struct event_base;
struct mm_conns;

/* Seconds a closing connection may take to flush its last bytes. */
#define MM_CONN_CLOSE_TIMEOUT_S 2

/* How a connection's handshake ended: the labels of meshmon_connections_total. */
#define MM_CONN_RESULT_TABLE(X)                                                                    \
	X(SUBSCRIBED, "subscribed")                                                                \
	X(STATUS, "status")                                                                        \
	X(REFUSED, "refused")                                                                      \
	X(ERROR, "error")

enum mm_conn_result {
#define X(name, label) MM_CONN_##name,
	MM_CONN_RESULT_TABLE(X)
#undef X
	MM_CONN_RESULTS
};

/* NULL with errno set. */
struct mm_conns *mm_conns__new(struct event_base *base);
/*
 * Ends every connection still closing: what its socket takes at once is
 * written, then it is freed. Accepts NULL.
 */
void mm_conns__free(struct mm_conns *cs);
/* Connections closing now. */
unsigned int mm_conns__closing(const struct mm_conns *cs);

/* Pack msg as one frame and append it to bev's output: 0 or -errno. */
int mm_conn__send(struct bufferevent *bev, const Meshmon__V1__ServerMessage *msg);
/*
 * Send Error{code, text}, stop reading, and free bev once its output is
 * flushed (or after MM_CONN_CLOSE_TIMEOUT_S, or on a write error). cs takes bev.
 */
void mm_conn__fail(struct mm_conns *cs, struct bufferevent *bev, uint32_t code, const char *text);
/* Free bev once its output is flushed (same bounds as mm_conn__fail). cs takes bev. */
void mm_conn__close_after_flush(struct mm_conns *cs, struct bufferevent *bev);
/* Free bev now; if its output held a lot, the heap is trimmed soon after. */
void mm_conn__free(struct mm_conns *cs, struct bufferevent *bev);
/*
 * End of stream without waiting: write what the socket takes now, then shut
 * down our side, so the client reads its last bytes and then EOF.
 */
void mm_conn__finish(struct bufferevent *bev);
/*
 * Whether the peer is gone: it closed both directions or the socket has an
 * error (POLLHUP/POLLERR). A read of 0 bytes with the peer still there is a
 * half-close: the client shut its write side only (shutdown(SHUT_WR), nc -N).
 */
int mm_conn__peer_gone(struct bufferevent *bev);

#endif /* MESHMON_AGENT_CONN_H */
