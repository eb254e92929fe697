// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The real meshmon-agent on a veth pair (see agent_fixture.h): the harness
 * starts and stops it (harness_agent.h); this file holds the command line
 * the agent tests share and the per-test setup and teardown.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <stddef.h>

#include "agent_fixture.h"
#include "harness.h"
#include "harness_agent.h"

#ifndef MESHMON_AGENT_PATH
#error "MESHMON_AGENT_PATH must name the built meshmon-agent"
#endif

struct mm_test_pair pair;
struct mm_test_agent agent;
struct mm_test_cgroup cg;

void start_agent_argv(const char *queue_bytes, const char *capture, const char *const *extra)
{
	const char *argv[32] = {"meshmon-agent", "--iface", pair.local_if, "--socket",
				agent.sock_path, "--queue-bytes", queue_bytes, "--capture-len",
				capture, "--pages", "256", "--history", "0", "--cgroup",
				"none"};
	size_t n = 15;
	int status = 0, err;

	for (size_t i = 0; extra && extra[i] && n < 31; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	cr_assert(eq(int, mm_test_agent_spawn(&agent, argv), 0));
	err = mm_test_agent_wait_ready(&agent, 15000, &status);
	if (err == -ECHILD)
		cr_fatal("meshmon-agent exited early (status 0x%x); see %s", status,
			 agent.log_path);
	if (err)
		cr_fatal("the agent's socket did not appear; see %s", agent.log_path);
}

void start_agent_with(const char *queue_bytes, const char *capture, const char *extra,
		      const char *extra_value)
{
	const char *args[] = {extra, extra_value, NULL};

	start_agent_argv(queue_bytes, capture, args);
}

void start_agent(const char *queue_bytes, const char *capture)
{
	start_agent_with(queue_bytes, capture, NULL, NULL);
}

int stop_agent(void)
{
	return mm_test_agent_stop(&agent, 5000);
}

void agent_setup(void)
{
	cr_assert(eq(int, mm_test_private_netns(), 0));
	cr_assert(eq(int, mm_test_pair_create(&pair), 0));
	cr_assert(eq(int,
		     mm_test_agent_init(&agent, MESHMON_AGENT_PATH, "agent-e2e",
					"run/monitor.sock"),
		     0));
}

void agent_teardown(void)
{
	mm_test_agent_kill(&agent);
	mm_test_pair_destroy(&pair);
	/* Back to the root, then the private cgroup is empty and goes. */
	mm_test_cgroup_destroy(&cg);
	mm_test_agent_cleanup(&agent);
}
