/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The real meshmon-agent on one end of a veth pair in a private network
 * namespace, for the tests that run the real `meshmon` against it
 * (test_cli_e2e, test_cli_reconnect). cli_agent_setup() makes the pair and
 * starts the agent; cli_agent_teardown() stops it and removes everything.
 * The helpers assert.
 */
#ifndef MESHMON_TEST_CLI_AGENT_H
#define MESHMON_TEST_CLI_AGENT_H

#include "harness.h"
#include "harness_agent.h"

extern struct mm_test_pair pair;
extern struct mm_test_agent agent;

/* Start the agent on the pair's local end (capture 128, no history, no cgroup). */
void cli_agent_start(void);
/* The same with more arguments (NULL-terminated), after those: a later --history wins. */
void cli_agent_start_argv(const char *const *extra);
/* A private netns, the pair and the agent's temp dir, without starting the agent. */
void cli_agent_prepare(const char *tag);
/* A private netns, the pair, the agent's temp dir (tag names it), and the agent started. */
void cli_agent_setup(const char *tag);
void cli_agent_teardown(void);

#endif /* MESHMON_TEST_CLI_AGENT_H */
