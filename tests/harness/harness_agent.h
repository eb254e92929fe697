/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The real meshmon-agent as a child of the test: a private temp directory for
 * its socket and log, start, wait for the socket, stop with SIGTERM and the
 * exit status. The test passes the binary's path (tests/meson.build gives
 * them MESHMON_AGENT_PATH) and the whole command line, so the harness knows
 * nothing of the agent's code or options.
 */
#ifndef MESHMON_TEST_HARNESS_AGENT_H
#define MESHMON_TEST_HARNESS_AGENT_H

#include <sys/types.h>

struct mm_test_agent {
	const char *path;     /* the meshmon-agent binary */
	pid_t pid;            /* 0 when no agent runs */
	char dir[64];         /* /tmp/mm-<tag>-XXXXXX, private to the test */
	char sock_path[128];  /* <dir>/<sock_name>: pass it as --socket */
	char log_path[128];   /* <dir>/agent.log: the agent's stdout and stderr */
};

/*
 * Create the temp directory and the paths; no process yet. sock_name is
 * relative to the directory and may name a subdirectory the agent creates.
 * Returns 0 or -errno.
 */
int mm_test_agent_init(struct mm_test_agent *a, const char *path, const char *tag,
		       const char *sock_name);
/*
 * Fork and exec the agent with argv (argv[0] first, NULL-terminated). Its
 * stdout and stderr are appended to log_path; it is SIGKILLed if the test
 * process dies. Returns 0 or -errno.
 */
int mm_test_agent_spawn(struct mm_test_agent *a, const char *const argv[]);
/*
 * Wait until the agent's socket accepts a connection. Returns 0; -ECHILD when
 * the agent exited first (its wait status in *status when status is not NULL;
 * the agent is reaped); -ETIMEDOUT after timeout_ms.
 */
int mm_test_agent_wait_ready(struct mm_test_agent *a, int timeout_ms, int *status);
/* Wait for the agent to exit on its own: its wait status, or -1 when none runs. */
int mm_test_agent_wait(struct mm_test_agent *a);
/*
 * SIGTERM, then wait up to timeout_ms: the wait status when it exited (0 for a
 * clean exit). Otherwise SIGKILL, reap and return -1; also -1 when none runs.
 */
int mm_test_agent_stop(struct mm_test_agent *a, int timeout_ms);
/* SIGKILL and reap, as after a crash: the wait status, or -1 when none runs. */
int mm_test_agent_kill(struct mm_test_agent *a);
/* A stream connection to the agent's socket: the fd, or -errno. */
int mm_test_agent_connect(const struct mm_test_agent *a);
/*
 * Kill an agent still running, copy its log to stderr when MM_KEEP_LOGS is
 * set in the environment, and remove the temp directory. Safe on a zeroed
 * struct and to call twice.
 */
void mm_test_agent_cleanup(struct mm_test_agent *a);
/*
 * Run `CLI ARGS --socket <a's socket>` for at most 20 s, stdout to out_path,
 * stderr to <a's dir>/cli.err. Returns its exit status (-1: killed by a signal).
 */
int mm_test_agent_cli(const struct mm_test_agent *a, const char *cli, const char *args,
		      const char *out_path);

#endif /* MESHMON_TEST_HARNESS_AGENT_H */
