// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-pipeline-bench: the counting clients (pipeline_client.h): the
 * child's read loop and the bench's side of the pipes.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "pipeline_client.h"
#include "pipeline_producer.h"
#include "pipeline_wire.h"

#define READ_BUF (256u * 1024u)
#define READS_PER_TURN 16 /* then look at the control pipe again */
#define TARGET_STOP UINT64_MAX

struct child {
	int sock, ctl, rep;
	uint16_t sport, dport;
	struct mm_frame_reader r;
	struct pl_client_report rep_data;
	uint64_t target; /* 0 until the bench sent it */
	int have_target;
	uint64_t last_frame_ns, target_ns;
};

static uint64_t cpu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Write all of buf to a pipe; errors are the bench's problem (it times out). */
static void write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

static void __attribute__((noreturn)) child_report(struct child *c, char status)
{
	write_all(c->rep, &status, 1);
	write_all(c->rep, &c->rep_data, sizeof(c->rep_data));
	_exit(0);
}

static int is_bench_event(const struct child *c, const Meshmon__V1__Event *ev)
{
	return ev->type == MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TRACE && ev->tuple &&
	       ev->tuple->proto == IPPROTO_UDP && ev->tuple->sport == c->sport &&
	       ev->tuple->dport == c->dport;
}

/* Count one frame's message; 1 when the stream must end (an Error). */
static int child_count(struct child *c, const uint8_t *payload, size_t len, uint64_t now)
{
	struct pl_client_report *rp = &c->rep_data;
	Meshmon__V1__ServerMessage *m = mm_frame__unpack_server(payload, len);
	int end = 0;

	if (!m) {
		rp->err = -EBADMSG;
		return 1;
	}
	switch (m->msg_case) {
	case MESHMON__V1__SERVER_MESSAGE__MSG_EVENT:
		if (is_bench_event(c, m->event)) {
			rp->delivered++;
			rp->t_last_ns = now;
			pl_hist__add(&rp->hist, now > m->event->ktime_ns ? now - m->event->ktime_ns : 0);
		} else {
			rp->other++;
		}
		break;
	case MESHMON__V1__SERVER_MESSAGE__MSG_LOST:
		if ((unsigned int)m->lost->source < MM_LOSS_SOURCES)
			rp->lost[m->lost->source] += m->lost->count;
		rp->notices++;
		break;
	case MESHMON__V1__SERVER_MESSAGE__MSG_ERROR:
		rp->error_code = m->error->code ? m->error->code : 0xffffffffu;
		end = 1;
		break;
	default: /* a second Hello, a Status, or a newer agent's message: not ours */
		break;
	}
	mm_frame__free_server(m);
	return end;
}

static uint64_t accounted(const struct pl_client_report *rp)
{
	uint64_t n = rp->delivered;

	for (int s = 0; s < MM_LOSS_SOURCES; s++)
		n += rp->lost[s];
	return n;
}

/* Read what the socket has (a bounded number of reads); 1 when the stream ended. */
static int child_read(struct child *c, uint8_t *buf)
{
	for (int i = 0; i < READS_PER_TURN; i++) {
		const uint8_t *payload;
		size_t len;
		ssize_t n = read(c->sock, buf, READ_BUF);
		uint64_t now;
		int rc;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0) {
			c->rep_data.eof = 1;
			if (n < 0)
				c->rep_data.err = -errno;
			return 1;
		}
		now = pl_now_ns(); /* receipt: one clock read for what this read brought */
		c->last_frame_ns = now;
		if (mm_frame_reader__feed(&c->r, buf, (size_t)n)) {
			c->rep_data.err = -ENOBUFS;
			return 1;
		}
		while ((rc = mm_frame_reader__next(&c->r, &payload, &len)) > 0) {
			if (child_count(c, payload, len, now))
				return 1;
		}
		if (rc < 0) {
			c->rep_data.err = -EMSGSIZE;
			return 1;
		}
		if (c->have_target && accounted(&c->rep_data) >= c->target)
			return 0;
	}
	return 0;
}

static void __attribute__((noreturn)) child_main(struct child *c, const char *sock_path)
{
	uint8_t *buf = malloc(READ_BUF);
	uint64_t cpu0;

	mm_frame_reader__init(&c->r);
	c->sock = pl_wire__subscribe(sock_path, &c->r, pl_now_ns() + 5000000000ull);
	if (c->sock < 0 || !buf) {
		c->rep_data.err = c->sock < 0 ? c->sock : -ENOMEM;
		child_report(c, 'E');
	}
	write_all(c->rep, "R", 1);
	cpu0 = cpu_now_ns();
	for (;;) {
		struct pollfd p[2] = {{.fd = c->sock, .events = POLLIN}, {.fd = c->ctl, .events = POLLIN}};
		uint64_t now;

		if (poll(p, 2, 100) < 0 && errno != EINTR)
			break;
		if (p[0].revents && child_read(c, buf))
			break;
		if (p[1].revents) {
			uint64_t t;
			ssize_t n = read(c->ctl, &t, sizeof(t));

			if (n != (ssize_t)sizeof(t) || t == TARGET_STOP)
				break; /* told to stop, or the bench is gone */
			c->target = t;
			c->have_target = 1;
			c->target_ns = pl_now_ns();
		}
		if (!c->have_target)
			continue;
		if (accounted(&c->rep_data) >= c->target) {
			c->rep_data.complete = 1;
			break;
		}
		now = pl_now_ns();
		if (now - c->target_ns > PL_CLIENT_IDLE_MS * 1000000ull &&
		    now - c->last_frame_ns > PL_CLIENT_IDLE_MS * 1000000ull)
			break; /* nothing more is coming */
	}
	c->rep_data.cpu_ns = cpu_now_ns() - cpu0;
	child_report(c, 'D');
}

static void close_slot(struct pl_client_slot *s)
{
	if (s->ctl >= 0)
		close(s->ctl);
	if (s->rep >= 0)
		close(s->rep);
	s->ctl = s->rep = -1;
}

static void kill_slot(struct pl_client_slot *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
			;
		s->pid = 0;
	}
}

static int fork_one(struct pl_clients *c, size_t i, const char *sock_path, uint16_t sport,
		    uint16_t dport)
{
	int ctl[2], rep[2];
	pid_t parent = getpid(), pid;

	if (pipe2(ctl, O_CLOEXEC))
		return -errno;
	if (pipe2(rep, O_CLOEXEC)) {
		close(ctl[0]);
		close(ctl[1]);
		return -errno;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		int err = -errno;

		close(ctl[0]);
		close(ctl[1]);
		close(rep[0]);
		close(rep[1]);
		return err;
	}
	if (pid == 0) {
		struct child ch;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		for (size_t j = 0; j < i; j++)
			close_slot(&c->slot[j]);
		close(ctl[1]);
		close(rep[0]);
		memset(&ch, 0, sizeof(ch));
		ch.ctl = ctl[0];
		ch.rep = rep[1];
		ch.sport = sport;
		ch.dport = dport;
		child_main(&ch, sock_path);
	}
	close(ctl[0]);
	close(rep[1]);
	c->slot[i].pid = pid;
	c->slot[i].ctl = ctl[1];
	c->slot[i].rep = rep[0];
	return 0;
}

/* Read exactly len bytes by deadline_ns: 0, -ETIMEDOUT, or -EPIPE (the child is gone). */
static int read_full(int fd, void *buf, size_t len, uint64_t deadline_ns)
{
	uint8_t *p = buf;

	while (len) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		uint64_t now = pl_now_ns();
		ssize_t n;

		if (now >= deadline_ns)
			return -ETIMEDOUT;
		if (poll(&pf, 1, (int)((deadline_ns - now) / 1000000 + 1)) <= 0)
			continue;
		n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int pl_clients__start(struct pl_clients *c, size_t n, const char *sock_path, uint16_t sport,
		      uint16_t dport, int timeout_ms, char *err, size_t errlen)
{
	uint64_t deadline = pl_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	c->slot = calloc(n, sizeof(*c->slot));
	c->rep = calloc(n, sizeof(*c->rep));
	if (!c->slot || !c->rep) {
		snprintf(err, errlen, "out of memory");
		pl_clients__free(c);
		return -ENOMEM;
	}
	c->n = n;
	for (size_t i = 0; i < n; i++)
		c->slot[i].ctl = c->slot[i].rep = -1;
	for (size_t i = 0; i < n && !rc; i++) {
		rc = fork_one(c, i, sock_path, sport, dport);
		if (rc)
			snprintf(err, errlen, "fork client %zu: %s", i, strerror(-rc));
	}
	for (size_t i = 0; i < n && !rc; i++) {
		char st = 0;

		rc = read_full(c->slot[i].rep, &st, 1, deadline);
		if (rc) {
			snprintf(err, errlen, "client %zu: no subscription within %d ms (%s)", i,
				 timeout_ms, strerror(-rc));
		} else if (st != 'R') {
			rc = read_full(c->slot[i].rep, &c->rep[i], sizeof(c->rep[i]), deadline);
			snprintf(err, errlen, "client %zu: cannot subscribe: %s", i,
				 rc ? strerror(-rc) : strerror(-c->rep[i].err));
			rc = -EPROTO;
		}
	}
	if (rc)
		pl_clients__free(c);
	return rc;
}

size_t pl_clients__finish(struct pl_clients *c, uint64_t target, int timeout_ms)
{
	uint64_t deadline = pl_now_ns() + (uint64_t)timeout_ms * 1000000ull, stop = TARGET_STOP;
	int *gone = calloc(c->n ? c->n : 1, sizeof(*gone));
	size_t got = 0;

	for (size_t i = 0; i < c->n; i++) {
		if (c->slot[i].ctl >= 0 && write(c->slot[i].ctl, &target, sizeof(target)) < 0 && gone)
			gone[i] = 1; /* EPIPE: it is already dead */
	}
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < c->n; i++) {
			struct pl_client_slot *s = &c->slot[i];
			char st = 0;
			int rc;

			if (s->reported || s->rep < 0 || (gone && gone[i]))
				continue;
			rc = read_full(s->rep, &st, 1, deadline);
			if (!rc)
				rc = read_full(s->rep, &c->rep[i], sizeof(c->rep[i]),
					       deadline + 1000000000ull);
			if (rc == -EPIPE && gone)
				gone[i] = 1;
			if (rc)
				continue;
			s->reported = 1;
			got++;
		}
		if (got == c->n || pass)
			break;
		/* Stragglers: tell them to stop and report what they have. */
		for (size_t i = 0; i < c->n; i++) {
			if (!c->slot[i].reported && c->slot[i].ctl >= 0 &&
			    write(c->slot[i].ctl, &stop, sizeof(stop)) < 0 && gone)
				gone[i] = 1;
		}
		deadline = pl_now_ns() + 1000000000ull;
	}
	for (size_t i = 0; i < c->n; i++) {
		if (c->slot[i].reported)
			continue;
		memset(&c->rep[i], 0, sizeof(c->rep[i]));
		if (gone && gone[i]) {
			c->rep[i].died = 1;
			c->rep[i].err = -EPIPE;
		} else {
			c->rep[i].timed_out = 1;
			c->rep[i].err = -ETIMEDOUT;
		}
	}
	free(gone);
	return got;
}

void pl_clients__free(struct pl_clients *c)
{
	if (!c)
		return;
	for (size_t i = 0; c->slot && i < c->n; i++) {
		close_slot(&c->slot[i]);
		kill_slot(&c->slot[i]);
	}
	free(c->slot);
	free(c->rep);
	memset(c, 0, sizeof(*c));
}
