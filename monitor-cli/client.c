// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The socket client (see client.h): connect, handshake, framed send and
 * receive. Errors are turned into one line that says what to do, here where
 * the cause is known.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client.h"
#include "options.h"

/*
 * SO_RCVTIMEO and SO_SNDTIMEO of c's socket in ms, 0: none. On a Unix
 * stream socket SO_SNDTIMEO bounds connect() too (a full backlog makes it
 * wait), which then fails with EAGAIN. 0 or -errno.
 */
static int set_timeouts(struct mm_client *c, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		return -errno;
	return 0;
}

int mm_client__connect(struct mm_client *c, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int e;

	c->fd = -1;
	mm_frame_reader__init(&c->reader);
	mm_unpack__init(&c->unpack);
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "meshmon: socket path too long (%zu bytes, at most %zu): %s",
			 strlen(path), sizeof(sa.sun_path) - 1, path);
		return MM_EXIT_USAGE;
	}
	strcpy(sa.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		snprintf(err, errlen, "meshmon: socket: %s", strerror(errno));
		return MM_EXIT_FAILURE;
	}
	if (c->timeout_ms > 0 && set_timeouts(c, c->timeout_ms) < 0) {
		snprintf(err, errlen, "meshmon: socket timeouts: %s", strerror(errno));
		close(c->fd);
		c->fd = -1;
		return MM_EXIT_FAILURE;
	}
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return MM_EXIT_OK;
	e = errno;
	close(c->fd);
	c->fd = -1;
	switch (e) {
	case ENOENT:
	case ECONNREFUSED:
		snprintf(err, errlen,
			 "meshmon: cannot reach the agent at %s: %s (is meshmon-agent running?)",
			 path, strerror(e));
		return MM_EXIT_UNREACHABLE;
	case EAGAIN:
		snprintf(err, errlen,
			 "meshmon: the agent at %s does not accept connections (within %d ms)",
			 path, c->timeout_ms);
		return MM_EXIT_UNREACHABLE;
	case EACCES:
	case EPERM:
		snprintf(err, errlen,
			 "meshmon: not permitted to use the agent socket %s: %s (run as root or as a member of the meshmon group)",
			 path, strerror(e));
		return MM_EXIT_PERMISSION;
	default:
		snprintf(err, errlen, "meshmon: cannot connect to the agent at %s: %s", path,
			 strerror(e));
		return MM_EXIT_FAILURE;
	}
}

int mm_client__send(struct mm_client *c, const Meshmon__V1__ClientMessage *msg)
{
	uint8_t *buf;
	size_t len, off = 0;
	ssize_t n;
	int rc;

	rc = mm_frame__encode_client(msg, &buf, &len);
	if (rc < 0)
		return rc;
	while (off < len) {
		n = send(c->fd, buf + off, len - off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			free(buf);
			return rc;
		}
		off += (size_t)n;
	}
	free(buf);
	return 0;
}

int mm_client__recv(struct mm_client *c, Meshmon__V1__ServerMessage **out)
{
	uint8_t buf[65536];
	const uint8_t *payload;
	size_t len;
	ssize_t n;
	int rc;

	for (;;) {
		rc = mm_frame_reader__next(&c->reader, &payload, &len);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			*out = mm_frame__unpack_server(payload, len);
			return *out ? 1 : -EBADMSG;
		}
		n = read(c->fd, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		rc = mm_frame_reader__feed(&c->reader, buf, (size_t)n);
		if (rc < 0)
			return rc;
	}
}

int mm_client__next(struct mm_client *c, Meshmon__V1__ServerMessage **out)
{
	const uint8_t *payload;
	size_t len;
	int rc;

	mm_arena__reset(&c->unpack.arena);
	rc = mm_frame_reader__next(&c->reader, &payload, &len);
	if (rc <= 0)
		return rc;
	/* As mm_frame__unpack_server, in one pass into the arena (unpack.h; the reader bounds len). */
	*out = (Meshmon__V1__ServerMessage *)mm_unpack(&c->unpack,
						       &meshmon__v1__server_message__descriptor,
						       len, payload);
	return *out ? 1 : -EBADMSG;
}

bool mm_client__has_frame(const struct mm_client *c)
{
	const struct mm_frame_reader *r = &c->reader;
	size_t pending = mm_frame_reader__pending(r);
	const uint8_t *p;
	uint32_t n;

	if (pending < MM_FRAME_HDR)
		return false;
	p = r->buf + r->head;
	n = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return n > MM_FRAME_MAX || pending - MM_FRAME_HDR >= n;
}

int mm_client__fill(struct mm_client *c, const volatile sig_atomic_t *stop)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	uint8_t buf[65536];
	sigset_t block, old;
	ssize_t n;
	int rc = 0;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	if (*stop)
		rc = -EINTR;
	else if (ppoll(&p, 1, NULL, &old) < 0)
		rc = -errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return rc;
	n = read(c->fd, buf, sizeof(buf));
	if (n <= 0)
		return n < 0 ? -errno : 0;
	rc = mm_frame_reader__feed(&c->reader, buf, (size_t)n);
	return rc < 0 ? rc : (int)n;
}

bool mm_client__hung_up(int rc)
{
	return rc == 0 || rc == -ECONNRESET || rc == -EPIPE;
}

/*
 * The first message, within c->timeout_ms when that is set (the socket's
 * timeouts, from mm_client__connect): as mm_client__recv, or -ETIMEDOUT
 * when nothing came in time.
 */
static int recv_first(struct mm_client *c, Meshmon__V1__ServerMessage **m)
{
	int rc, r;

	if (c->timeout_ms <= 0)
		return mm_client__recv(c, m);
	rc = mm_client__recv(c, m);
	if (rc == -EAGAIN)
		rc = -ETIMEDOUT;
	/* The stream after the Hello waits as long as it takes. */
	r = set_timeouts(c, 0);
	if (r < 0 && rc > 0) {
		mm_frame__free_server(*m);
		*m = NULL;
		rc = r;
	}
	return rc;
}

int mm_client__handshake(struct mm_client *c, const char *path,
			 Meshmon__V1__ServerMessage **hello_msg, char *err, size_t errlen)
{
	Meshmon__V1__ServerMessage *m = NULL;
	int rc;

	*hello_msg = NULL;
	c->gone = false;
	rc = mm_client__connect(c, path, err, errlen);
	if (rc != MM_EXIT_OK) {
		c->gone = rc == MM_EXIT_UNREACHABLE;
		return rc;
	}
	rc = recv_first(c, &m);
	if (rc == -EINTR) {
		err[0] = '\0';
		return MM_EXIT_OK; /* interrupted before anything happened: caller sees no Hello */
	}
	if (rc <= 0) {
		c->gone = mm_client__hung_up(rc) || rc == -ETIMEDOUT;
		snprintf(err, errlen, "meshmon: no Hello from the agent at %s: %s", path,
			 rc == 0 ? "connection closed" : strerror(-rc));
		return MM_EXIT_FAILURE;
	}
	if (m->msg_case == MESHMON__V1__SERVER_MESSAGE__MSG_ERROR) {
		snprintf(err, errlen, "meshmon: the agent refused the connection: %s (code %u)",
			 m->error->message, m->error->code);
		mm_frame__free_server(m);
		return MM_EXIT_FAILURE;
	}
	if (m->msg_case != MESHMON__V1__SERVER_MESSAGE__MSG_HELLO) {
		snprintf(err, errlen, "meshmon: the agent at %s did not start with a Hello", path);
		mm_frame__free_server(m);
		return MM_EXIT_FAILURE;
	}
	if (m->hello->protocol_version != MM_PROTOCOL_VERSION) {
		snprintf(err, errlen,
			 "meshmon: the agent speaks protocol version %u, this meshmon speaks %u",
			 m->hello->protocol_version, MM_PROTOCOL_VERSION);
		mm_frame__free_server(m);
		return MM_EXIT_FAILURE;
	}
	*hello_msg = m;
	return MM_EXIT_OK;
}

void mm_client__close(struct mm_client *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	mm_frame_reader__release(&c->reader);
	mm_arena__release(&c->unpack.arena);
}
