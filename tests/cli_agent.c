// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The agent the CLI end-to-end tests run against (cli_agent.h). */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "cli_agent.h"

#ifndef MESHMON_AGENT_PATH
#error "MESHMON_AGENT_PATH must name the built meshmon-agent"
#endif

struct mm_test_pair pair;
struct mm_test_agent agent;

void cli_agent_start_with(const char *const *extra)
{
	const char *argv[48] = {"meshmon-agent", "--iface", pair.local_if, "--socket",
				agent.sock_path, "--capture-len", "128", "--history", "0",
				"--cgroup", "none"};
	size_t n = 11;

	for (; extra && *extra; extra++) {
		cr_assert(lt(sz, n, sizeof(argv) / sizeof(argv[0]) - 1), "too many agent arguments");
		argv[n++] = *extra;
	}
	argv[n] = NULL;
	cr_assert(eq(int, mm_test_agent_spawn(&agent, argv), 0));
	cr_assert(eq(int, mm_test_agent_wait_ready(&agent, 15000, NULL), 0),
		  "the agent's socket did not appear; see %s", agent.log_path);
}

void cli_agent_start(void)
{
	cli_agent_start_with(NULL);
}

void cli_agent_prepare(const char *tag)
{
	cr_assert(eq(int, mm_test_private_netns(), 0));
	cr_assert(eq(int, mm_test_pair_create(&pair), 0));
	cr_assert(eq(int, mm_test_agent_init(&agent, MESHMON_AGENT_PATH, tag, "monitor.sock"), 0));
}

void cli_agent_setup(const char *tag)
{
	cli_agent_prepare(tag);
	cli_agent_start();
}

void cli_agent_teardown(void)
{
	mm_test_agent_stop(&agent, 5000);
	mm_test_pair_destroy(&pair);
	mm_test_agent_cleanup(&agent);
}
