/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * meshmon-pipeline-bench: `meshmon monitor` as the one listener of a case,
 * its output (text or JSON lines) to /dev/null, its messages to a log beside
 * the agent's. It dies with the bench (PR_SET_PDEATHSIG) and is stopped
 * with SIGINT, as a user stops it.
 */
#ifndef MESHMON_BENCH_PIPELINE_CLI_H
#define MESHMON_BENCH_PIPELINE_CLI_H

#include <sys/types.h>

struct pl_cli {
	pid_t pid;
	int exit_status; /* after pl_cli__stop: the wait status, -1 when killed */
};

/*
 * Start `path monitor --socket sock --no-reconnect [--json]`, stderr to
 * log_path: 0 or -errno.
 */
int pl_cli__start(struct pl_cli *c, const char *path, const char *sock, int json,
		  const char *log_path);
/* 1 while it runs; reaps it when it has died. */
int pl_cli__alive(struct pl_cli *c);
/* SIGINT, wait up to 3 s, then SIGKILL: the wait status or -1. Accepts a stopped one. */
int pl_cli__stop(struct pl_cli *c);

#endif /* MESHMON_BENCH_PIPELINE_CLI_H */
