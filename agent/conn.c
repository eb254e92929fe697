// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Owns the ending of a client connection and single-message sends (conn.h). */
#include <errno.h>
#include <stdlib.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/bufferevent.h>

#include "conn.h"
#include "framing.h"

int mm_conn__send(struct bufferevent *bev, const Meshmon__V1__ServerMessage *msg)
{
	uint8_t *buf;
	size_t len;
	int err;

	err = mm_frame__encode_server(msg, &buf, &len);
	if (err)
		return err;
	err = evbuffer_add(bufferevent_get_output(bev), buf, len) ? -ENOMEM : 0;
	free(buf);
	return err;
}

static void closing_write(struct bufferevent *bev, void *arg)
{
	(void)arg;
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		bufferevent_free(bev);
}

static void closing_event(struct bufferevent *bev, short what, void *arg)
{
	(void)what;
	(void)arg;
	bufferevent_free(bev);
}

void mm_conn__close_after_flush(struct bufferevent *bev)
{
	struct timeval tv = {MM_CONN_CLOSE_TIMEOUT_S, 0};

	bufferevent_disable(bev, EV_READ);
	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
	bufferevent_setcb(bev, NULL, closing_write, closing_event, NULL);
	bufferevent_set_timeouts(bev, NULL, &tv);
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
		bufferevent_free(bev);
		return;
	}
	bufferevent_enable(bev, EV_WRITE);
}

void mm_conn__fail(struct bufferevent *bev, uint32_t code, const char *text)
{
	Meshmon__V1__ServerMessage msg = MESHMON__V1__SERVER_MESSAGE__INIT;
	Meshmon__V1__Error error = MESHMON__V1__ERROR__INIT;

	error.code = code;
	error.message = (char *)text;
	msg.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_ERROR;
	msg.error = &error;
	mm_conn__send(bev, &msg);
	mm_conn__close_after_flush(bev);
}
