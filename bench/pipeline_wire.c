// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-pipeline-bench: a client's side of the protocol (pipeline_wire.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "pipeline_producer.h"
#include "pipeline_wire.h"

int pl_wire__connect(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd, err;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* A Unix stream connect completes at once or fails (EAGAIN: backlog full). */
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* Wait for fd to become ready for events by deadline_ns: 0 or -errno. */
static int wait_fd(int fd, short events, uint64_t deadline_ns)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		uint64_t now = pl_now_ns();
		int n;

		if (now >= deadline_ns)
			return -ETIMEDOUT;
		n = poll(&p, 1, (int)((deadline_ns - now) / 1000000 + 1));
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

int pl_wire__send(int fd, const Meshmon__V1__ClientMessage *msg, uint64_t deadline_ns)
{
	uint8_t *buf;
	size_t len, off = 0;
	int err;

	err = mm_frame__encode_client(msg, &buf, &len);
	if (err)
		return err;
	while (off < len) {
		ssize_t n = write(fd, buf + off, len - off);

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			err = wait_fd(fd, POLLOUT, deadline_ns);
			if (!err)
				continue;
		} else {
			err = -errno;
		}
		break;
	}
	free(buf);
	return err;
}

Meshmon__V1__ServerMessage *pl_wire__recv(int fd, struct mm_frame_reader *r, uint64_t deadline_ns)
{
	for (;;) {
		const uint8_t *payload;
		uint8_t buf[16384];
		size_t len;
		ssize_t n;
		int rc = mm_frame_reader__next(r, &payload, &len);

		if (rc < 0) {
			errno = EBADMSG;
			return NULL;
		}
		if (rc > 0) {
			Meshmon__V1__ServerMessage *m = mm_frame__unpack_server(payload, len);

			if (!m)
				errno = EBADMSG;
			return m;
		}
		n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			if (mm_frame_reader__feed(r, buf, (size_t)n)) {
				errno = ENOMEM;
				return NULL;
			}
			continue;
		}
		if (n == 0) {
			errno = EPIPE;
			return NULL;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return NULL;
		rc = wait_fd(fd, POLLIN, deadline_ns);
		if (rc) {
			errno = -rc;
			return NULL;
		}
	}
}

/* Connect and take the Hello: the fd or -errno. */
static int hello(const char *path, struct mm_frame_reader *r, uint64_t deadline_ns)
{
	Meshmon__V1__ServerMessage *m;
	int fd = pl_wire__connect(path), ok;

	if (fd < 0)
		return fd;
	m = pl_wire__recv(fd, r, deadline_ns);
	if (!m) {
		int err = -errno;

		close(fd);
		return err == -EBADMSG || err == -EPIPE ? -EPROTO : err;
	}
	ok = m->msg_case == MESHMON__V1__SERVER_MESSAGE__MSG_HELLO &&
	     m->hello->protocol_version == MM_PROTOCOL_VERSION;
	mm_frame__free_server(m);
	if (!ok) {
		close(fd);
		return -EPROTO;
	}
	return fd;
}

int pl_wire__subscribe(const char *path, struct mm_frame_reader *r, uint64_t deadline_ns)
{
	Meshmon__V1__ClientMessage msg = MESHMON__V1__CLIENT_MESSAGE__INIT;
	Meshmon__V1__Subscribe sub = MESHMON__V1__SUBSCRIBE__INIT;
	int fd = hello(path, r, deadline_ns), err;

	if (fd < 0)
		return fd;
	msg.msg_case = MESHMON__V1__CLIENT_MESSAGE__MSG_SUBSCRIBE;
	msg.subscribe = &sub;
	err = pl_wire__send(fd, &msg, deadline_ns);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

int pl_wire__status(const char *path, struct pl_status *st, int timeout_ms)
{
	Meshmon__V1__ClientMessage msg = MESHMON__V1__CLIENT_MESSAGE__INIT;
	Meshmon__V1__StatusRequest req = MESHMON__V1__STATUS_REQUEST__INIT;
	uint64_t deadline = pl_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	Meshmon__V1__ServerMessage *m = NULL;
	struct mm_frame_reader r;
	int fd, err;

	memset(st, 0, sizeof(*st));
	mm_frame_reader__init(&r);
	fd = hello(path, &r, deadline);
	if (fd < 0) {
		err = fd;
		goto out;
	}
	msg.msg_case = MESHMON__V1__CLIENT_MESSAGE__MSG_STATUS_REQUEST;
	msg.status_request = &req;
	err = pl_wire__send(fd, &msg, deadline);
	if (err)
		goto out;
	m = pl_wire__recv(fd, &r, deadline);
	if (!m) {
		err = -errno;
		goto out;
	}
	if (m->msg_case != MESHMON__V1__SERVER_MESSAGE__MSG_STATUS) {
		err = -EPROTO;
		goto out;
	}
	st->listeners = m->status->listeners;
	st->events_read = m->status->events_read;
	for (size_t i = 0; i < m->status->n_losses; i++) {
		const Meshmon__V1__LossCounter *c = m->status->losses[i];

		if ((unsigned int)c->source < MM_LOSS_SOURCES)
			st->lost[c->source] += c->count;
	}
out:
	mm_frame__free_server(m);
	if (fd >= 0)
		close(fd);
	mm_frame_reader__release(&r);
	return err;
}
