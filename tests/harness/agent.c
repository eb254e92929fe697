// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-agent as a child of a test (see harness_agent.h). The child dies
 * with the test (PR_SET_PDEATHSIG), so a crashed test never leaves an agent
 * holding tc filters or cgroup programs; its output goes to a log in the
 * test's temp directory, which a test names in its failure message.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "harness.h"
#include "harness_agent.h"

#define POLL_MS 50

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int mm_test_agent_init(struct mm_test_agent *a, const char *path, const char *tag,
		       const char *sock_name)
{
	int n;

	memset(a, 0, sizeof(*a));
	a->path = path;
	n = snprintf(a->dir, sizeof(a->dir), "/tmp/mm-%s-XXXXXX", tag);
	if (n < 0 || (size_t)n >= sizeof(a->dir))
		goto too_long;
	if (!mkdtemp(a->dir)) {
		n = -errno;
		a->dir[0] = '\0';
		return n;
	}
	n = snprintf(a->sock_path, sizeof(a->sock_path), "%s/%s", a->dir, sock_name);
	if (n < 0 || (size_t)n >= sizeof(a->sock_path) ||
	    (size_t)n >= sizeof(((struct sockaddr_un *)0)->sun_path))
		goto too_long;
	n = snprintf(a->log_path, sizeof(a->log_path), "%s/agent.log", a->dir);
	if (n < 0 || (size_t)n >= sizeof(a->log_path))
		goto too_long;
	return 0;

too_long:
	mm_test_agent_cleanup(a);
	return -ENAMETOOLONG;
}

int mm_test_agent_spawn(struct mm_test_agent *a, const char *const argv[])
{
	pid_t parent = getpid(), pid;

	if (a->pid > 0)
		return -EBUSY;
	if (!a->path || !a->log_path[0])
		return -EINVAL;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		fd = open(a->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(a->path, (char *const *)argv);
		_exit(127);
	}
	a->pid = pid;
	return 0;
}

int mm_test_agent_connect(const struct mm_test_agent *a)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(a->sock_path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, a->sock_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int mm_test_agent_wait_ready(struct mm_test_agent *a, int timeout_ms, int *status)
{
	long long end = now_ms() + timeout_ms;

	if (a->pid <= 0)
		return -ECHILD;
	for (;;) {
		int st, fd;

		if (waitpid(a->pid, &st, WNOHANG) == a->pid) {
			a->pid = 0;
			if (status)
				*status = st;
			return -ECHILD;
		}
		fd = mm_test_agent_connect(a);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (now_ms() >= end)
			return -ETIMEDOUT;
		sleep_ms(POLL_MS);
	}
}

static int reap(struct mm_test_agent *a)
{
	int status = -1;

	while (waitpid(a->pid, &status, 0) < 0) {
		if (errno != EINTR) {
			status = -1;
			break;
		}
	}
	a->pid = 0;
	return status;
}

int mm_test_agent_wait(struct mm_test_agent *a)
{
	if (a->pid <= 0)
		return -1;
	return reap(a);
}

int mm_test_agent_stop(struct mm_test_agent *a, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	int status;

	if (a->pid <= 0)
		return -1;
	kill(a->pid, SIGTERM);
	do {
		if (waitpid(a->pid, &status, WNOHANG) == a->pid) {
			a->pid = 0;
			return status;
		}
		sleep_ms(POLL_MS);
	} while (now_ms() < end);
	kill(a->pid, SIGKILL);
	reap(a);
	return -1;
}

int mm_test_agent_kill(struct mm_test_agent *a)
{
	if (a->pid <= 0)
		return -1;
	kill(a->pid, SIGKILL);
	return reap(a);
}

static void copy_to_stderr(const char *path)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(2, buf, (size_t)n) != n)
			break;
	close(fd);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void mm_test_agent_cleanup(struct mm_test_agent *a)
{
	if (!a)
		return;
	mm_test_agent_kill(a);
	if (!a->dir[0])
		return;
	if (getenv("MM_KEEP_LOGS") && a->log_path[0])
		copy_to_stderr(a->log_path);
	nftw(a->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	a->dir[0] = '\0';
}

int mm_test_agent_cli(const struct mm_test_agent *a, const char *cli, const char *args,
		      const char *out_path)
{
	return mm_test_sh("timeout 20 %s %s --socket %s >%s 2>%s/cli.err", cli, args, a->sock_path,
			  out_path, a->dir);
}
