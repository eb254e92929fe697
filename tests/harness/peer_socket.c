// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Sockets in the peer namespace of a veth pair. A thread that entered the
 * peer namespace creates them and ends: setns() changes only the calling
 * thread, so the test's own thread stays in its namespace whatever happens,
 * and the sockets keep the namespace they were created in. The thread belongs
 * to the test process, so the sockets also have the test's pid, comm and
 * cgroup (tcp_probe's listener owner is the test process).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "harness.h"

struct peer_job {
	const struct mm_test_pair *pair;
	int family, type;
	int listen;       /* also bind to the peer's address and listen */
	uint16_t port;
	int backlog;
	int fd;           /* the result: an fd or -errno */
};

static int peer_addr(int family, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		inet_pton(AF_INET, "10.199.0.2", &sin->sin_addr);
		*len = sizeof(*sin);
		return 0;
	}
	if (family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		inet_pton(AF_INET6, "fd00:199::2", &sin6->sin6_addr);
		*len = sizeof(*sin6);
		return 0;
	}
	return -EAFNOSUPPORT;
}

static int peer_listen_on(int fd, const struct peer_job *job)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, err;

	err = peer_addr(job->family, job->port, &ss, &len);
	if (err)
		return err;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&ss, len) || listen(fd, job->backlog))
		return -errno;
	return 0;
}

static void *peer_thread(void *arg)
{
	struct peer_job *job = arg;
	int ns, fd, err;

	ns = open(job->pair->peer_ns_path, O_RDONLY | O_CLOEXEC);
	if (ns < 0) {
		job->fd = -errno;
		return NULL;
	}
	if (setns(ns, CLONE_NEWNET)) {
		job->fd = -errno;
		close(ns);
		return NULL;
	}
	close(ns);
	fd = socket(job->family, job->type | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		job->fd = -errno;
		return NULL;
	}
	if (job->listen) {
		err = peer_listen_on(fd, job);
		if (err) {
			close(fd);
			job->fd = err;
			return NULL;
		}
	}
	job->fd = fd;
	return NULL;
}

static int run_peer_job(struct peer_job *job)
{
	pthread_t th;
	int err;

	if (!job->pair || job->pair->peer_pid <= 0)
		return -EINVAL;
	job->fd = -EIO;
	err = pthread_create(&th, NULL, peer_thread, job);
	if (err)
		return -err;
	pthread_join(th, NULL);
	return job->fd;
}

int mm_test_pair_socket(const struct mm_test_pair *pair, int family, int type)
{
	struct peer_job job = { .pair = pair, .family = family, .type = type };

	return run_peer_job(&job);
}

int mm_test_pair_listen(const struct mm_test_pair *pair, int family, uint16_t port, int backlog)
{
	struct peer_job job = {
		.pair = pair,
		.family = family,
		.type = SOCK_STREAM,
		.listen = 1,
		.port = port,
		.backlog = backlog,
	};

	return run_peer_job(&job);
}
