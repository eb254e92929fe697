/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The real meshmon-agent on one end of a veth pair in a private network
 * namespace, shared by the test_agent_* programs. Use agent_setup /
 * agent_teardown as the suite's .init and .fini; teardown kills an agent
 * still running, removes the pair and the private cgroup when a test made one,
 * and the agent's temp directory (MM_KEEP_LOGS=1 prints the agent's log).
 */
#ifndef MESHMON_TEST_AGENT_FIXTURE_H
#define MESHMON_TEST_AGENT_FIXTURE_H

#include "harness.h"
#include "harness_agent.h"

extern struct mm_test_pair pair;
extern struct mm_test_agent agent; /* socket <dir>/run/monitor.sock, log <dir>/agent.log */
extern struct mm_test_cgroup cg;   /* a private cgroup holding the test, when a test made one */

void agent_setup(void);
void agent_teardown(void);

/*
 * Start the agent on the pair's local end with its queue and capture sizes,
 * 256 pages, no history and no cgroup, and wait for its socket. extra: more
 * arguments, NULL-terminated (they come last, so they override the defaults
 * above them: a later --cgroup replaces --cgroup none).
 */
void start_agent_argv(const char *queue_bytes, const char *capture, const char *const *extra);
void start_agent_with(const char *queue_bytes, const char *capture, const char *extra,
		      const char *extra_value);
void start_agent(const char *queue_bytes, const char *capture);
/*
 * Make cg, a private cgroup v2 directory <root>/mmtest-agent-e2e-<pid>, and
 * move the test process into it (teardown moves it back and removes cg).
 * Needs the datapath linked (agent_dep).
 */
void enter_private_cgroup(void);
/* SIGTERM: the agent's wait status (0: exited 0), or -1 if it had to be killed. */
int stop_agent(void);

#endif /* MESHMON_TEST_AGENT_FIXTURE_H */
