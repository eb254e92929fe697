// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Owns the listening Unix socket and every client until it has subscribed
 * (server.h): accept, peer credentials, Hello, the handshake deadline and the
 * first client frame. Subscribed clients belong to the hub.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "capture.h"
#include "conn.h"
#include "filter.h"
#include "framing.h"
#include "hub.h"
#include "kernel_drop_reasons.h"
#include "log.h"
#include "server.h"

#define ERR_CODE(x)	MESHMON__V1__ERROR_CODE__ERROR_CODE_##x
#define EMFILE_PAUSE_MS 200
/* Connection log lines per second; the rest are summed up once a second. */
#define CONN_LOG_PER_S 10

struct client {
	LIST_ENTRY(client) link;
	struct mm_server *server;
	struct bufferevent *bev;
	struct event *deadline;
	struct mm_frame_reader reader;
	pid_t pid;
	uid_t uid;
};

struct mm_server {
	struct event_base *base;
	struct mm_hub *hub;
	struct mm_server_opts opts;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct evconnlistener *lev;
	struct event *resume;
	LIST_HEAD(, client) clients;
	unsigned int n_clients;
	gid_t group;
	int have_group;
	struct mm_conns *conns; /* the hub's: closing connections */
	struct mm_log_limit log_limit;
	struct event *log_timer; /* the held-back lines' summary */
	uint64_t results[MM_CONN_RESULTS];
};

static int fail(char *err, size_t errlen, int e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -e;
}

/* The summary of held-back lines is due in ms: a timer tells it if no line does. */
static void log_timer_arm(struct mm_server *s, unsigned int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (ms && !evtimer_pending(s->log_timer, NULL))
		evtimer_add(s->log_timer, &tv);
}

/* One line about one connection, within the server's log budget (log.h). */
static void conn_log(struct mm_server *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void conn_log(struct mm_server *s, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (!mm_log_limited(&s->log_limit, "%s", line))
		log_timer_arm(s, mm_log_limit__tick(&s->log_limit));
}

static void on_log_timer(evutil_socket_t fd, short what, void *arg)
{
	struct mm_server *s = arg;

	(void)fd;
	(void)what;
	/* libevent dates timers from its cached loop time: this may run a little
	 * before the second is over, then the summary is due shortly. */
	log_timer_arm(s, mm_log_limit__tick(&s->log_limit));
}

/* Free the client's handshake state; returns its bufferevent (still open). */
static struct bufferevent *client_detach(struct client *c)
{
	struct bufferevent *bev = c->bev;

	LIST_REMOVE(c, link);
	c->server->n_clients--;
	event_free(c->deadline);
	mm_frame_reader__release(&c->reader);
	free(c);
	return bev;
}

static void client_fail(struct client *c, uint32_t code, const char *text)
{
	struct mm_server *s = c->server;

	conn_log(s, "client pid %d uid %u: closing: %s", (int)c->pid, (unsigned int)c->uid, text);
	s->results[MM_CONN_ERROR]++;
	mm_conn__fail(s->conns, client_detach(c), code, text);
}

static void client_subscribe(struct client *c, const Meshmon__V1__Subscribe *sub)
{
	struct mm_filter f;
	char err[160] = "";
	char text[200];
	pid_t pid = c->pid;

	memset(&f, 0, sizeof(f));
	if (mm_filter__compile(&f, sub, err, sizeof(err))) {
		snprintf(text, sizeof(text), "invalid subscription: %s", err);
		client_fail(c, ERR_CODE(INVALID_SUBSCRIPTION), text);
		return;
	}
	struct bufferevent *bev = c->bev;
	struct mm_server *s = c->server;

	bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
	client_detach(c);
	if (mm_hub__add_listener(s->hub, bev, &f)) {
		mm_filter__release(&f);
		s->results[MM_CONN_ERROR]++;
		mm_conn__fail(s->conns, bev, ERR_CODE(INTERNAL), "out of memory");
		return;
	}
	s->results[MM_CONN_SUBSCRIBED]++;
	conn_log(s,
		 "client pid %d subscribed: %zu types, %zu filters, %zu exclude, replay %u%s%s; %u listeners",
		 (int)pid, sub->n_types, sub->n_filters, sub->n_exclude, sub->replay,
		 sub->since_ns || sub->until_ns ? ", time window" : "",
		 sub->history_only ? ", history only" : "", mm_hub__listeners(s->hub));
}

static void client_capture(struct client *c, const Meshmon__V1__CaptureRequest *req)
{
	struct mm_server *s = c->server;
	struct bufferevent *bev = c->bev;
	pid_t pid = c->pid;
	char err[160] = "";
	char text[200];
	int rc;

	if (!s->opts.captures) {
		client_fail(c, ERR_CODE(UNEXPECTED_MESSAGE), "captures are not available here");
		return;
	}
	/* On success the hub has set its own callbacks on bev. */
	rc = mm_captures__start(s->opts.captures, bev, req, err, sizeof(err));
	if (rc) {
		snprintf(text, sizeof(text), "invalid capture: %s", err);
		client_fail(c, rc == -EINVAL || rc == -ENOSPC ? ERR_CODE(INVALID_SUBSCRIPTION)
							      : ERR_CODE(INTERNAL),
			    text);
		return;
	}
	client_detach(c);
	s->results[MM_CONN_SUBSCRIBED]++;
	conn_log(s, "client pid %d: capture started, snaplen %u, %u captures", (int)pid,
		 req->snaplen, mm_captures__active(s->opts.captures));
}

static void client_status(struct client *c)
{
	struct mm_server *s = c->server;
	pid_t pid = c->pid;
	struct bufferevent *bev = client_detach(c);

	if (s->opts.send_status && !s->opts.send_status(s->opts.ctx, bev)) {
		s->results[MM_CONN_STATUS]++;
		conn_log(s, "client pid %d: status sent", (int)pid);
		mm_conn__close_after_flush(s->conns, bev);
	} else {
		s->results[MM_CONN_ERROR]++;
		mm_conn__fail(s->conns, bev, ERR_CODE(INTERNAL), "status unavailable");
	}
}

static void on_client_read(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	Meshmon__V1__ClientMessage *msg;
	const uint8_t *payload;
	uint8_t chunk[16384];
	size_t len;
	int n, rc;

	while ((n = evbuffer_remove(in, chunk, sizeof(chunk))) > 0) {
		if (mm_frame_reader__feed(&c->reader, chunk, (size_t)n)) {
			client_fail(c, ERR_CODE(FRAME_TOO_LARGE), "frame too large");
			return;
		}
		rc = mm_frame_reader__next(&c->reader, &payload, &len);
		if (rc == -EMSGSIZE) {
			client_fail(c, ERR_CODE(FRAME_TOO_LARGE), "frame length above the maximum");
			return;
		}
		if (rc < 0) {
			client_fail(c, ERR_CODE(BAD_FRAME), "unreadable frame");
			return;
		}
		if (rc == 0)
			continue;
		msg = mm_frame__unpack_client(payload, len);
		if (!msg) {
			client_fail(c, ERR_CODE(BAD_FRAME), "not a ClientMessage");
			return;
		}
		if (mm_frame_reader__pending(&c->reader) || evbuffer_get_length(in)) {
			mm_frame__free_client(msg);
			client_fail(c, ERR_CODE(UNEXPECTED_MESSAGE),
				    "only one message is expected before the agent answers");
			return;
		}
		if (msg->msg_case == MESHMON__V1__CLIENT_MESSAGE__MSG_SUBSCRIBE) {
			client_subscribe(c, msg->subscribe);
		} else if (msg->msg_case == MESHMON__V1__CLIENT_MESSAGE__MSG_STATUS_REQUEST) {
			client_status(c);
		} else if (msg->msg_case == MESHMON__V1__CLIENT_MESSAGE__MSG_CAPTURE) {
			client_capture(c, msg->capture);
		} else {
			client_fail(c, ERR_CODE(UNEXPECTED_MESSAGE),
				    "expected Subscribe, CaptureRequest or StatusRequest");
		}
		mm_frame__free_client(msg);
		return;
	}
}

static void on_client_event(struct bufferevent *bev, short what, void *arg)
{
	struct client *c = arg;

	/*
	 * A read of 0 bytes before a whole request, the client still there: it
	 * shut its write side (nc -N with nothing, or half a frame, to send) and
	 * will never complete its request. Tell it. A client that is gone
	 * (closed, reset) has nobody to tell.
	 */
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) && !mm_conn__peer_gone(bev)) {
		client_fail(c, ERR_CODE(BAD_FRAME),
			    "end of stream before a whole Subscribe or StatusRequest");
		return;
	}
	c->server->results[MM_CONN_ERROR]++;
	client_detach(c);
	bufferevent_free(bev);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	client_fail(arg, ERR_CODE(HANDSHAKE_TIMEOUT), "no Subscribe or StatusRequest in time");
}

static int peer_allowed(const struct mm_server *s, int fd, struct ucred *cred)
{
	socklen_t len = sizeof(*cred);
	gid_t groups[256];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len))
		return 0;
	if (cred->uid == 0 || cred->uid == geteuid())
		return 1;
	if (!s->have_group)
		return 0;
	if (cred->gid == s->group)
		return 1;
	len = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len))
		return 0;
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == s->group)
			return 1;
	return 0;
}

/* Refuse the connection if the peer may not watch or the cap is reached: 1 when refused. */
static int refuse(struct mm_server *s, struct bufferevent *bev, int fd, struct ucred *cred)
{
	if (!peer_allowed(s, fd, cred)) {
		conn_log(s, "client pid %d uid %u: refused: not root nor in group %s",
			 (int)cred->pid, (unsigned int)cred->uid, MM_SERVER_GROUP);
		s->results[MM_CONN_REFUSED]++;
		mm_conn__fail(s->conns, bev, ERR_CODE(PERMISSION_DENIED),
			      "permission denied: not root nor in group " MM_SERVER_GROUP);
		return 1;
	}
	/* Closing connections count: one closed for an error may still hold a
	 * full queue for MM_CONN_CLOSE_TIMEOUT_S, and the cap bounds memory. */
	if (s->n_clients + mm_hub__listeners(s->hub) + mm_conns__closing(s->conns) >=
	    s->opts.max_listeners) {
		conn_log(s, "client pid %d: refused: %u clients already (--max-listeners)",
			 (int)cred->pid, s->opts.max_listeners);
		s->results[MM_CONN_REFUSED]++;
		mm_conn__fail(s->conns, bev, ERR_CODE(TOO_MANY_CLIENTS), "too many clients");
		return 1;
	}
	return 0;
}

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct mm_server *s = arg;
	struct bufferevent *bev;
	struct ucred cred = {0};
	Meshmon__V1__ServerMessage hello = MESHMON__V1__SERVER_MESSAGE__INIT;
	unsigned int ms =
	    s->opts.handshake_ms ? s->opts.handshake_ms : MM_SERVER_HANDSHAKE_MS_DEFAULT;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	struct client *c;

	(void)lev;
	(void)sa;
	(void)salen;
	evutil_make_socket_nonblocking(fd);
	bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		close(fd);
		return;
	}
	if (refuse(s, bev, fd, &cred))
		return;
	c = calloc(1, sizeof(*c));
	if (!c) {
		s->results[MM_CONN_ERROR]++;
		bufferevent_free(bev);
		return;
	}
	c->server = s;
	c->bev = bev;
	c->pid = cred.pid;
	c->uid = cred.uid;
	mm_frame_reader__init(&c->reader);
	c->deadline = evtimer_new(s->base, on_deadline, c);
	if (!c->deadline) {
		free(c);
		s->results[MM_CONN_ERROR]++;
		bufferevent_free(bev);
		return;
	}
	LIST_INSERT_HEAD(&s->clients, c, link);
	s->n_clients++;
	evtimer_add(c->deadline, &tv);
	hello.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_HELLO;
	hello.hello = (Meshmon__V1__Hello *)s->opts.hello;
	bufferevent_setcb(bev, on_client_read, NULL, on_client_event, c);
	if (mm_conn__send(bev, &hello) || bufferevent_enable(bev, EV_READ | EV_WRITE)) {
		client_fail(c, ERR_CODE(INTERNAL), "cannot send hello");
		return;
	}
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct mm_server *s = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(s->lev);
}

static void on_accept_error(struct evconnlistener *lev, void *arg)
{
	struct mm_server *s = arg;
	int e = EVUTIL_SOCKET_ERROR();
	struct timeval tv = {0, EMFILE_PAUSE_MS * 1000};

	if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
		mm_log("accept on %s: %s; pausing accepts for %d ms", s->path, strerror(e),
		       EMFILE_PAUSE_MS);
		evconnlistener_disable(lev);
		evtimer_add(s->resume, &tv);
	} else {
		mm_log("accept on %s: %s", s->path, strerror(e));
	}
}

static int mkdir_parents(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) && errno != EEXIST) {
			*p = '/';
			return -errno;
		}
		*p = '/';
	}
	return 0;
}

/*
 * What is at the socket path: 0 nothing, 1 a socket nobody listens on (an
 * agent that died), -EADDRINUSE a live listener, -EEXIST something that is
 * not a socket.
 */
static int socket_probe(const struct sockaddr_un *addr)
{
	struct stat st;
	int fd, rc;

	if (lstat(addr->sun_path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)addr, sizeof(*addr));
	close(fd);
	return rc ? 1 : -EADDRINUSE;
}

/* Remove path if it is a socket nobody listens on; -EADDRINUSE if one does. */
static int remove_stale(const struct sockaddr_un *addr)
{
	int rc = socket_probe(addr);

	if (rc == 1 && unlink(addr->sun_path) && errno != ENOENT)
		return -errno;
	return rc < 0 ? rc : 0;
}

static int socket_address(const char *path, struct sockaddr_un *addr, char *err, size_t errlen)
{
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(addr->sun_path))
		return fail(err, errlen, ENAMETOOLONG, "socket path %s: longer than %zu bytes", path,
			    sizeof(addr->sun_path) - 1);
	strcpy(addr->sun_path, path);
	return 0;
}

int mm_server__check_path(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un addr;
	int rc = socket_address(path, &addr, err, errlen);

	if (rc)
		return rc;
	rc = socket_probe(&addr);
	if (rc == -EADDRINUSE)
		return fail(err, errlen, EADDRINUSE,
			    "socket %s: another agent is listening on it; stop it first", path);
	if (rc < 0)
		return fail(err, errlen, -rc, "socket %s: exists and cannot be replaced: %s", path,
			    strerror(-rc));
	return 0;
}

static int open_socket(struct mm_server *s, char *err, size_t errlen)
{
	struct sockaddr_un addr;
	char dir[sizeof(addr.sun_path)];
	struct group *gr;
	mode_t old;
	int fd, rc;

	rc = socket_address(s->opts.path, &addr, err, errlen);
	if (rc)
		return rc;
	strcpy(s->path, s->opts.path);
	strcpy(dir, s->opts.path);
	rc = mkdir_parents(dir);
	if (rc)
		return fail(err, errlen, -rc, "socket directory for %s: %s", s->path,
			    strerror(-rc));
	rc = remove_stale(&addr);
	if (rc == -EADDRINUSE)
		return fail(err, errlen, EADDRINUSE,
			    "socket %s: another agent is listening on it; stop it first", s->path);
	if (rc)
		return fail(err, errlen, -rc, "socket %s: exists and cannot be replaced: %s",
			    s->path, strerror(-rc));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return fail(err, errlen, errno, "socket(AF_UNIX): %s", strerror(errno));
	old = umask(0117); /* the socket is created 0660 */
	rc = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old);
	if (rc || listen(fd, 128)) {
		rc = errno;
		close(fd);
		return fail(err, errlen, rc, "bind/listen %s: %s", s->path, strerror(rc));
	}
	gr = getgrnam(MM_SERVER_GROUP);
	if (gr) {
		s->group = gr->gr_gid;
		s->have_group = 1;
	}
	if (chown(s->path, 0, s->have_group ? s->group : (gid_t)-1) && geteuid() == 0) {
		rc = errno;
		close(fd);
		unlink(s->path);
		return fail(err, errlen, rc, "chown %s: %s", s->path, strerror(rc));
	}
	return fd;
}

struct mm_server *mm_server__new(struct event_base *base, struct mm_hub *hub,
				 const struct mm_server_opts *opts, char *err, size_t errlen)
{
	struct mm_server *s = calloc(1, sizeof(*s));
	int fd, e;

	if (!s) {
		fail(err, errlen, ENOMEM, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	s->base = base;
	s->hub = hub;
	s->conns = mm_hub__conns(hub);
	/* Subscriptions name kernel drop reasons as printed: the running kernel's BTF names. */
	mm_filter__set_kernel_drop_reasons(mm_kernel_drop_reason_value);
	s->opts = *opts;
	s->log_limit.what = "connections";
	s->log_limit.max = CONN_LOG_PER_S;
	LIST_INIT(&s->clients);
	fd = open_socket(s, err, errlen);
	if (fd < 0) {
		free(s);
		errno = -fd;
		return NULL;
	}
	s->resume = evtimer_new(base, on_resume, s);
	s->log_timer = evtimer_new(base, on_log_timer, s);
	s->lev = evconnlistener_new(base, on_accept, s,
				    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (!s->resume || !s->log_timer || !s->lev) {
		e = ENOMEM;
		if (!s->lev)
			close(fd);
		mm_server__free(s);
		fail(err, errlen, e, "out of memory");
		errno = e;
		return NULL;
	}
	evconnlistener_set_error_cb(s->lev, on_accept_error);
	return s;
}

void mm_server__free(struct mm_server *s)
{
	struct client *c;

	if (!s)
		return;
	while ((c = LIST_FIRST(&s->clients)))
		bufferevent_free(client_detach(c));
	if (s->lev)
		evconnlistener_free(s->lev);
	if (s->resume)
		event_free(s->resume);
	if (s->log_timer) {
		mm_log_limit__tick(&s->log_limit);
		event_free(s->log_timer);
	}
	if (s->path[0])
		unlink(s->path);
	free(s);
}

unsigned int mm_server__handshaking(const struct mm_server *s)
{
	return s->n_clients;
}

void mm_server__connections(const struct mm_server *s, uint64_t out[MM_CONN_RESULTS])
{
	for (int i = 0; i < MM_CONN_RESULTS; i++)
		out[i] = s ? s->results[i] : 0;
}
