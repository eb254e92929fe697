// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The tc state the datapath leaves on a veth pair in a private network
 * namespace (tc_veth.h): filters and clsact after attach, detach and free,
 * another tool's clsact and filters, two handles on one interface, and a
 * restart after a crash replacing the stale filters.
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
	dp = open_datapath();
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
	struct mm_datapath *dp = open_datapath();

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
	struct mm_datapath *dp = open_datapath();

	cr_assert(lt(int, mm_datapath__attach_tc(dp, 999999), 0));
	close_datapath(dp);
}

#define INSN(c, d, s_, o, i) \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s_), .off = (o), .imm = (i) })

/*
 * Another tool's tc filter: counts packets in an array map and returns
 * TC_ACT_UNSPEC. Attached at a lower priority than meshmon's (runs after it).
 */
static int foreign_filter(int ifindex, int *map_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 0xf000);
	int mfd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "mmt_count", 4, 8, 1, NULL);
	const struct bpf_insn prog[] = {
		INSN(BPF_ST | BPF_MEM | BPF_W, 10, 0, -4, 0),
		INSN(BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, mfd),
		INSN(0, 0, 0, 0, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 2, 10, 0, 0),
		INSN(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -4),
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem),
		INSN(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 2, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, 1, 0, 0, 1),
		INSN(BPF_STX | BPF_ATOMIC | BPF_DW, 0, 1, 0, BPF_ADD),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, -1), /* TC_ACT_UNSPEC */
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	int pfd;

	cr_assert(ge(int, mfd, 0), "map: %s", strerror(errno));
	pfd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "mmt_foreign", "GPL", prog,
			    sizeof(prog) / sizeof(prog[0]), NULL);
	cr_assert(ge(int, pfd, 0), "foreign prog: %s", strerror(errno));
	cr_assert(eq(int, bpf_tc_hook_create(&hook), 0));
	opts.prog_fd = pfd;
	cr_assert(eq(int, bpf_tc_attach(&hook, &opts), 0));
	*map_fd = mfd;
	return pfd;
}

static __u64 foreign_count(int map_fd)
{
	__u32 key = 0;
	__u64 v = 0;

	cr_assert(eq(int, bpf_map_lookup_elem(map_fd, &key, &v), 0));
	return v;
}

Test(tc_attach, foreign_clsact_and_filters_survive)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = pair.local_ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = 1, .priority = 0xf000);
	struct mm_datapath *dp;
	int map_fd, prog_fd = foreign_filter(pair.local_ifindex, &map_fd);
	__u64 before, after;

	dp = open_datapath();
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
		if (!dp || mm_datapath__attach_tc(dp, pair.local_ifindex) != 0)
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

	dp = open_datapath();
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

Test(tc_attach, two_handles_on_one_interface_do_not_stack)
{
	struct mm_datapath *a = open_datapath(), *b = open_datapath();

	cr_assert(eq(int, mm_datapath__attach_tc(a, pair.local_ifindex), 0));
	cr_assert(eq(int, mm_datapath__attach_tc(b, pair.local_ifindex), 0));
	cr_assert(eq(int, meshmon_filters(pair.local_if, "ingress"), 1));
	cr_assert(eq(int, meshmon_filters(pair.local_if, "egress"), 1));
	close_datapath(b);
	close_datapath(a);
	cr_assert(eq(int, meshmon_filters(pair.local_if, "ingress"), 0));
	cr_assert(eq(int, meshmon_filters(pair.local_if, "egress"), 0));
	cr_assert(eq(int, mm_test_sh("ping -c 1 -W 2 10.199.0.2 >/dev/null"), 0));
}
