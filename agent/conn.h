/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Small helpers shared by the server (handshake) and the hub (subscribed
 * listeners) for one client connection: queue a framed ServerMessage, and
 * the "Error, then close once it is flushed" ending.
 */
#ifndef MESHMON_AGENT_CONN_H
#define MESHMON_AGENT_CONN_H

#include <stdint.h>

#include "meshmon.pb-c.h"

struct bufferevent;

/* Seconds a closing connection may take to flush its last bytes. */
#define MM_CONN_CLOSE_TIMEOUT_S 2

/* Pack msg as one frame and append it to bev's output: 0 or -errno. */
int mm_conn__send(struct bufferevent *bev, const Meshmon__V1__ServerMessage *msg);
/*
 * Send Error{code, text}, stop reading, and free bev once its output is
 * flushed (or after MM_CONN_CLOSE_TIMEOUT_S, or on a write error). Takes bev.
 */
void mm_conn__fail(struct bufferevent *bev, uint32_t code, const char *text);
/* Free bev once its output is flushed (same bounds as mm_conn__fail). Takes bev. */
void mm_conn__close_after_flush(struct bufferevent *bev);

#endif /* MESHMON_AGENT_CONN_H */
