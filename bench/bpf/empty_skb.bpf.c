// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-endpoint-bench's floor: a cgroup_skb program that does nothing and
 * lets the packet pass (1, as the endpoint programs return). What
 * BPF_PROG_TEST_RUN reports for it is the cost of running any cgroup_skb
 * program at all; the test run does not care for the attach direction, so one
 * program serves as the floor of ingress and egress alike.
 *
 * Hooks: cgroup_skb (test-run only). Maps: none.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("cgroup_skb/ingress")
int mm_bench_empty_skb(struct __sk_buff *skb)
{
	return 1;
}
