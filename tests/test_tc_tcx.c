// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * TCX links (the default on kernels 6.6 and later), on a veth pair in a
 * private network namespace (tc_veth.h): two links owned by the process and
 * no clsact filter; freeing detaches them; a loader that dies by SIGKILL
 * with a deny rule active leaves no link, no program and no drop behind;
 * two datapaths on one interface each see every packet; a foreign clsact
 * filter keeps seeing the packets too.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/wait.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "datapath.h"
#include "harness.h"
#include "tc_veth.h"

TestSuite(tc_tcx, .init = tc_veth_setup, .fini = tc_veth_teardown, .timeout = 60);

#define TCX_INGRESS 46
#define TCX_EGRESS  47

/* The TCX links this process holds on the pair's local end, by attach type. */
static size_t own_tcx_links(struct mm_test_link *out, size_t cap)
{
	struct mm_test_link all[32];
	int n = mm_test_proc_links(getpid(), all, 32);
	size_t k = 0;

	cr_assert(ge(int, n, 0), "fdinfo: %s", strerror(-n));
	for (int i = 0; i < n && i < 32; i++)
		if (!strcmp(all[i].type, "tcx") && all[i].ifindex == pair.local_ifindex && k < cap)
			out[k++] = all[i];
	return k;
}

Test(tc_tcx, attach_makes_two_links_and_no_filters)
{
	struct mm_datapath *dp = open_datapath();
	struct mm_test_link links[4];
	struct mm_test_ring *ring;
	struct matched req, rep;
	size_t n;

	cr_assert(eq(int, mm_datapath__attach_tc(dp, pair.local_ifindex), 0));
	cr_assert(eq(int, mm_datapath__tc_mode(dp), MM_TC_MODE_TCX), "auto picks TCX on 6.6+");
	n = own_tcx_links(links, 4);
	cr_assert(eq(sz, n, 2), "one TCX link per direction");
	cr_assert(eq(int, links[0].attach_type + links[1].attach_type, TCX_INGRESS + TCX_EGRESS));
	cr_assert(eq(int, meshmon_filters(pair.local_if, "ingress"), 0), "no clsact filter");
	cr_assert(eq(int, meshmon_filters(pair.local_if, "egress"), 0));
	cr_assert(eq(int, has_clsact(pair.local_if), 0), "no clsact qdisc either");

	ring = open_ring(dp);
	cr_assert(eq(int, mm_test_sh("ping -c 2 -i 0.2 -W 2 10.199.0.2 >/dev/null"), 0));
	mm_test_ring_collect(ring, (size_t)-1, 300);
	match(ring, MM_POINT_TO_NETWORK, 4, IPPROTO_ICMP, "10.199.0.1", "10.199.0.2", 8, &req);
	match(ring, MM_POINT_FROM_NETWORK, 4, IPPROTO_ICMP, "10.199.0.2", "10.199.0.1", 0, &rep);
	cr_assert(eq(sz, req.n, 2), "egress traced through the TCX link");
	cr_assert(eq(sz, rep.n, 2), "ingress traced through the TCX link");
	close_ring(ring);

	close_datapath(dp);
	cr_assert(eq(sz, own_tcx_links(links, 4), 0));
	cr_assert(eq(int, mm_test_link_exists(links[0].id), 0), "the link is gone");
	cr_assert(eq(int, mm_test_link_exists(links[1].id), 0));
}

Test(tc_tcx, forced_tcx_and_detach)
{
	struct mm_datapath *dp = open_datapath_mode(MM_TC_MODE_TCX);
	struct mm_test_link links[4];

	cr_assert(eq(int, mm_datapath__tc_mode(dp), MM_TC_MODE_TCX));
	cr_assert(eq(int, mm_datapath__attach_tc(dp, pair.local_ifindex), 0));
	cr_assert(eq(int, mm_datapath__attach_tc(dp, pair.local_ifindex), -EALREADY));
	cr_assert(eq(sz, own_tcx_links(links, 4), 2));
	cr_assert(eq(int, mm_datapath__detach_tc(dp, pair.local_ifindex), 0));
	cr_assert(eq(sz, own_tcx_links(links, 4), 0));
	cr_assert(eq(int, mm_datapath__detach_tc(dp, pair.local_ifindex), -ENOENT));
	cr_assert(lt(int, mm_datapath__attach_tc(dp, 999999), 0), "no such interface");
	close_datapath(dp);
}

/*
 * A loader with an egress ICMP deny rule: ping fails while it lives; SIGKILL
 * it and the kernel detaches its links at once: ping works, and neither its
 * links nor its programs exist any more.
 */
Test(tc_tcx, sigkill_fails_open_and_leaves_nothing)
{
	struct mm_test_link links[8];
	int ready[2], go[2], n, status;
	pid_t pid;
	char c;

	cr_assert(eq(int, pipe(ready), 0));
	cr_assert(eq(int, pipe(go), 0));
	fflush(NULL);
	pid = fork();
	cr_assert(ge(int, pid, 0));
	if (pid == 0) {
		struct mm_deny_spec rule;
		struct mm_datapath *dp;
		struct mm_config cfg;
		char err[128];

		mm_config__defaults(&cfg);
		dp = mm_datapath__open(&cfg);
		if (!dp || mm_deny_spec__parse("proto=icmp,dir=egress", 1, &rule, err, sizeof(err)) ||
		    mm_datapath__set_deny_rules(dp, &rule, 1) ||
		    mm_datapath__attach_tc(dp, pair.local_ifindex))
			_exit(1);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(2);
		raise(SIGKILL);
		_exit(3);
	}
	cr_assert(eq(int, (int)read(ready[0], &c, 1), 1), "the loader attached");
	n = mm_test_proc_links(pid, links, 8);
	cr_assert(eq(int, n, 2), "the loader holds its two TCX links");
	cr_assert(ne(int, mm_test_sh("ping -c 1 -W 1 10.199.0.2 >/dev/null 2>&1"), 0),
		  "the deny rule drops ICMP while the loader lives");

	cr_assert(eq(int, (int)write(go[1], "k", 1), 1));
	cr_assert(eq(int, waitpid(pid, &status, 0), pid));
	cr_assert(eq(int, WIFSIGNALED(status) ? WTERMSIG(status) : -1, SIGKILL));
	cr_assert(eq(int, mm_test_sh("ping -c 1 -W 1 10.199.0.2 >/dev/null"), 0),
		  "traffic flows at once: nothing outlived the loader");
	for (int i = 0; i < n; i++) {
		cr_assert(eq(int, mm_test_link_exists(links[i].id), 0), "link %u is gone",
			  links[i].id);
		cr_assert(eq(int, mm_test_sh("bpftool link show id %u >/dev/null 2>&1",
					     links[i].id) != 0, 1),
			  "bpftool agrees: link %u is gone", links[i].id);
		cr_assert(eq(int, mm_test_prog_exists(links[i].prog_id), 0), "program %u is gone",
			  links[i].prog_id);
	}
	cr_assert(eq(int, meshmon_filters(pair.local_if, "ingress"), 0));
	cr_assert(eq(int, meshmon_filters(pair.local_if, "egress"), 0));
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
}

/* TCX links stack: each datapath on the interface sees every packet. */
Test(tc_tcx, two_datapaths_see_the_same_packets)
{
	struct mm_datapath *a = open_datapath(), *b = open_datapath();
	struct mm_test_ring *ra, *rb;
	struct mm_test_link links[8];
	struct matched ma, mb;

	cr_assert(eq(int, mm_datapath__attach_tc(a, pair.local_ifindex), 0));
	cr_assert(eq(int, mm_datapath__attach_tc(b, pair.local_ifindex), 0));
	cr_assert(eq(sz, own_tcx_links(links, 8), 4));
	ra = open_ring(a);
	rb = open_ring(b);
	cr_assert(eq(int, mm_test_sh("ping -c 3 -i 0.2 -W 2 10.199.0.2 >/dev/null"), 0));
	mm_test_ring_collect(ra, (size_t)-1, 300);
	mm_test_ring_collect(rb, (size_t)-1, 300);
	match(ra, MM_POINT_TO_NETWORK, 4, IPPROTO_ICMP, "10.199.0.1", "10.199.0.2", 8, &ma);
	match(rb, MM_POINT_TO_NETWORK, 4, IPPROTO_ICMP, "10.199.0.1", "10.199.0.2", 8, &mb);
	cr_assert(eq(sz, ma.n, 3));
	cr_assert(eq(sz, mb.n, 3), "the second datapath sees the same packets");
	close_ring(ra);
	close_ring(rb);
	close_datapath(a);
	/* b keeps its links when a goes */
	cr_assert(eq(sz, own_tcx_links(links, 8), 2));
	close_datapath(b);
	cr_assert(eq(sz, own_tcx_links(links, 8), 0));
}

/* TCX_NEXT: a clsact filter of another tool still sees the packets. */
Test(tc_tcx, a_foreign_clsact_filter_still_sees_packets)
{
	struct mm_datapath *dp = open_datapath();
	int map_fd, prog_fd = foreign_filter(pair.local_ifindex, &map_fd);
	__u64 before, after;

	cr_assert(eq(int, mm_datapath__attach_tc(dp, pair.local_ifindex), 0));
	cr_assert(eq(int, mm_datapath__tc_mode(dp), MM_TC_MODE_TCX));
	before = foreign_count(map_fd);
	cr_assert(eq(int, mm_test_sh("ping -c 2 -i 0.2 -W 2 10.199.0.2 >/dev/null"), 0));
	after = foreign_count(map_fd);
	cr_assert(ge(u64, after - before, 2), "the clsact filter saw the replies");
	close_datapath(dp);
	cr_assert(eq(int, count_lines("mmt_foreign", "tc filter show dev %s ingress",
				      pair.local_if), 1), "the foreign filter stays");
	close(prog_fd);
	close(map_fd);
}
