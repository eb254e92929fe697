// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-pipeline-bench: the CLI as a listener (pipeline_cli.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "pipeline_cli.h"

int pl_cli__start(struct pl_cli *c, const char *path, const char *sock, int json,
		  const char *log_path)
{
	pid_t parent = getpid(), pid;

	c->pid = 0;
	c->exit_status = -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		const char *argv[] = {"meshmon", "monitor", "--socket", sock, "--no-reconnect",
				      json ? "--json" : NULL, NULL};
		int out, log;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		out = open("/dev/null", O_WRONLY | O_CLOEXEC);
		log = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (out < 0 || log < 0 || dup2(out, 1) < 0 || dup2(log, 2) < 0)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		execv(path, (char *const *)argv);
		_exit(127);
	}
	c->pid = pid;
	return 0;
}

int pl_cli__alive(struct pl_cli *c)
{
	int st;

	if (c->pid <= 0)
		return 0;
	if (waitpid(c->pid, &st, WNOHANG) == c->pid) {
		c->exit_status = st;
		c->pid = 0;
		return 0;
	}
	return 1;
}

int pl_cli__stop(struct pl_cli *c)
{
	struct timespec tick = {0, 20 * 1000000};

	if (c->pid <= 0)
		return c->exit_status;
	kill(c->pid, SIGINT);
	for (int i = 0; i < 150; i++) {
		if (!pl_cli__alive(c))
			return c->exit_status;
		nanosleep(&tick, NULL);
	}
	kill(c->pid, SIGKILL);
	while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
		;
	c->pid = 0;
	c->exit_status = -1;
	return -1;
}
