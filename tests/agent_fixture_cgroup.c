// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The agent fixture's private cgroup (agent_fixture.h), in an object of its
 * own: it needs the datapath's mm_cgroup2_root(), which the fixture's users
 * that never make a cgroup do not link.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>
#include <unistd.h>

#include "agent_fixture.h"
#include "harness.h"
#include "tcp_probe.h"

void enter_private_cgroup(void)
{
	const char *tag = "agent-e2e";
	char root[256];
	int err;

	cr_assert(eq(int, mm_cgroup2_root(root, sizeof(root)), 0));
	err = mm_test_cgroup_create(&cg, root, tag);
	cr_assert(eq(int, err, 0), "mkdir %s/mmtest-%s-%d: %s", root, tag, (int)getpid(),
		  strerror(-err));
	cr_assert(eq(int, mm_test_cgroup_enter(&cg, getpid()), 0), "enter %s", cg.path);
}
