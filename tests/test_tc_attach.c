// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The clsact fallback (--tc-attach clsact, or a kernel without TCX): the tc
 * state the datapath leaves on a veth pair in a private network namespace
 * (tc_veth.h): filters and clsact after attach, detach and free, another
 * tool's clsact and filters, a second owner refused while the first lives,
 * and a restart after a crash replacing the dead owner's filters. The TCX
 * path is test_tc_tcx.c.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "datapath.h"
#include "harness.h"
#include "tc_veth.h"

TestSuite(tc_attach, .init = tc_veth_setup, .fini = tc_veth_teardown, .timeout = 60);

/* --- tc state: attach, detach, free, restart -------------------------------- */

Test(tc_attach, free_removes_filters_and_own_clsact)
{
	struct mm_datapath *dp;

	cr_assert(eq(int, has_clsact(pair.local_if), 0), "no clsact before");
	dp = open_datapath_mode(MM_TC_MODE_CLSACT);
	cr_assert(eq(int, mm_datapath__attach_tc(dp, pair.local_ifindex), 0));
	cr_assert(eq(int, meshmon_filters(pair.local_if, "ingress"), 1));
	cr_assert(eq(int, meshmon_filters(pair.local_if, "egress"), 1));
	cr_assert(eq(int, count_lines("mm_tc_ingress", "tc filter show dev %s ingress",
				      pair.local_if), 1));
	cr_assert(eq(int, count_lines("mm_tc_egress", "tc filter show dev %s egress",
				      pair.local_if), 1));
	cr_assert(eq(int, has_clsact(pair.local_if), 1));
	/* Transparent: traffic still flows. */
	cr_assert(eq(int, mm_test_sh("ping -c 1 -W 2 10.199.0.2 >/dev/null"), 0));

	close_datapath(dp);
	cr_assert(eq(int, meshmon_filters(pair.local_if, "ingress"), 0));
	cr_assert(eq(int, meshmon_filters(pair.local_if, "egress"), 0));
	cr_assert(eq(int, has_clsact(pair.local_if), 0), "clsact created by meshmon is gone");
	mm_datapath__free(NULL);
}

Test(tc_attach, detach_then_free)
{
	struct mm_datapath *dp = open_datapath_mode(MM_TC_MODE_CLSACT);

	cr_assert(eq(int, mm_datapath__attach_tc(dp, pair.local_ifindex), 0));
	cr_assert(eq(int, mm_datapath__detach_tc(dp, pair.local_ifindex), 0));
	cr_assert(eq(int, meshmon_filters(pair.local_if, "ingress"), 0));
	cr_assert(eq(int, meshmon_filters(pair.local_if, "egress"), 0));
	cr_assert(eq(int, has_clsact(pair.local_if), 0));
	/* Detaching what is not attached is an error, not a crash. */
	cr_assert(lt(int, mm_datapath__detach_tc(dp, pair.local_ifindex), 0));
	close_datapath(dp);
	cr_assert(eq(int, mm_test_sh("ping -c 1 -W 2 10.199.0.2 >/dev/null"), 0));
}

Test(tc_attach, attach_to_missing_interface_fails)
{
	struct mm_datapath *dp = open_datapath_mode(MM_TC_MODE_CLSACT);

	cr_assert(lt(int, mm_datapath__attach_tc(dp, 999999), 0));
	close_datapath(dp);
}

Test(tc_attach, foreign_clsact_and_filters_survive)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = pair.local_ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = 1, .priority = 0xf000);
	struct mm_datapath *dp;
	int map_fd, prog_fd = foreign_filter(pair.local_ifindex, &map_fd);
	__u64 before, after;

	dp = open_datapath_mode(MM_TC_MODE_CLSACT);
	cr_assert(eq(int, mm_datapath__attach_tc(dp, pair.local_ifindex), 0));
	cr_assert(eq(int, meshmon_filters(pair.local_if, "ingress"), 1));
	before = foreign_count(map_fd);
	cr_assert(eq(int, mm_test_sh("ping -c 2 -i 0.2 -W 2 10.199.0.2 >/dev/null"), 0));
	after = foreign_count(map_fd);
	/* TC_ACT_UNSPEC: filters behind meshmon's still see the packets. */
	cr_assert(ge(u64, after - before, 2), "the filter behind meshmon saw the replies");

	close_datapath(dp);
	cr_assert(eq(int, meshmon_filters(pair.local_if, "ingress"), 0));
	cr_assert(eq(int, meshmon_filters(pair.local_if, "egress"), 0));
	cr_assert(eq(int, has_clsact(pair.local_if), 1), "a clsact meshmon did not create stays");
	cr_assert(eq(int, bpf_tc_query(&hook, &q), 0), "the foreign filter stays");
	cr_assert(eq(int, count_lines("mmt_foreign", "tc filter show dev %s ingress",
				      pair.local_if), 1));
	close(prog_fd);
	close(map_fd);
}

/* A meshmon that died without detaching: its filters stay in the kernel. */
static void attach_and_die(void)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	cr_assert(ge(int, pid, 0));
	if (pid == 0) {
		struct mm_config cfg;
		struct mm_datapath *dp;

		mm_config__defaults(&cfg);
		dp = mm_datapath__open(&cfg);
		if (!dp || mm_datapath__set_tc_mode(dp, MM_TC_MODE_CLSACT, owner_dir) ||
		    mm_datapath__attach_tc(dp, pair.local_ifindex) != 0)
			_exit(1);
		raise(SIGKILL);
		_exit(2);
	}
	cr_assert(eq(int, waitpid(pid, &status, 0), pid));
	cr_assert(eq(int, WIFSIGNALED(status) ? WTERMSIG(status) : -1, SIGKILL),
		  "the crashing loader attached (status %#x)", status);
}

Test(tc_attach, restart_after_crash_replaces_stale_filters)
{
	struct mm_datapath *dp;
	struct mm_test_ring *ring;
	struct matched req;

	attach_and_die();
	cr_assert(eq(int, meshmon_filters(pair.local_if, "ingress"), 1), "stale filter stays");
	cr_assert(eq(int, meshmon_filters(pair.local_if, "egress"), 1));
	attach_and_die();
	/* Two crashed runs: the second replaced the first's filters. */
	cr_assert(eq(int, meshmon_filters(pair.local_if, "ingress"), 1));
	cr_assert(eq(int, meshmon_filters(pair.local_if, "egress"), 1));

	dp = open_datapath_mode(MM_TC_MODE_CLSACT);
	cr_assert(eq(int, mm_datapath__attach_tc(dp, pair.local_ifindex), 0));
	cr_assert(eq(int, meshmon_filters(pair.local_if, "ingress"), 1), "replaced, not stacked");
	cr_assert(eq(int, meshmon_filters(pair.local_if, "egress"), 1));

	/* The live filter is ours: its records reach our ring. */
	ring = open_ring(dp);
	cr_assert(eq(int, mm_test_sh("ping -c 2 -i 0.2 -W 2 10.199.0.2 >/dev/null"), 0));
	mm_test_ring_collect(ring, (size_t)-1, 300);
	match(ring, MM_POINT_TO_NETWORK, 4, IPPROTO_ICMP, "10.199.0.1", "10.199.0.2", 8, &req);
	cr_assert(eq(sz, req.n, 2), "each request traced once, by the new datapath");
	close_ring(ring);

	close_datapath(dp);
	cr_assert(eq(int, meshmon_filters(pair.local_if, "ingress"), 0));
	cr_assert(eq(int, meshmon_filters(pair.local_if, "egress"), 0));
}

/* clsact filters do not stack: a second owner is refused while the first lives. */
Test(tc_attach, second_owner_is_refused_while_the_first_lives)
{
	struct mm_datapath *a = open_datapath_mode(MM_TC_MODE_CLSACT);
	struct mm_datapath *b = open_datapath_mode(MM_TC_MODE_CLSACT);
	struct mm_test_ring *ring;
	struct matched req;

	cr_assert(eq(int, mm_datapath__attach_tc(a, pair.local_ifindex), 0));
	cr_assert(eq(int, mm_datapath__tc_mode(a), MM_TC_MODE_CLSACT));
	cr_assert(eq(int, mm_datapath__attach_tc(b, pair.local_ifindex), -EBUSY));
	cr_assert(eq(int, mm_datapath__tc_owner_pid(b, pair.local_ifindex), getpid()),
		  "the owner record names the live owner");
	cr_assert(eq(int, meshmon_filters(pair.local_if, "ingress"), 1));
	cr_assert(eq(int, meshmon_filters(pair.local_if, "egress"), 1));

	/* The refusal changed nothing: the first owner's filter still traces. */
	ring = open_ring(a);
	cr_assert(eq(int, mm_test_sh("ping -c 2 -i 0.2 -W 2 10.199.0.2 >/dev/null"), 0));
	mm_test_ring_collect(ring, (size_t)-1, 300);
	match(ring, MM_POINT_TO_NETWORK, 4, IPPROTO_ICMP, "10.199.0.1", "10.199.0.2", 8, &req);
	cr_assert(eq(sz, req.n, 2), "the first owner still sees every request");
	close_ring(ring);

	/* Once the first owner is gone, the interface is free; its record with it. */
	close_datapath(a);
	cr_assert(eq(int, mm_test_sh("test -z \"$(ls -A '%s')\"", owner_dir), 0),
		  "the owner record is removed on detach");
	cr_assert(eq(int, mm_datapath__attach_tc(b, pair.local_ifindex), 0));
	cr_assert(eq(int, meshmon_filters(pair.local_if, "ingress"), 1));
	close_datapath(b);
	cr_assert(eq(int, meshmon_filters(pair.local_if, "ingress"), 0));
	cr_assert(eq(int, meshmon_filters(pair.local_if, "egress"), 0));
	cr_assert(eq(int, mm_test_sh("ping -c 1 -W 2 10.199.0.2 >/dev/null"), 0));
}
