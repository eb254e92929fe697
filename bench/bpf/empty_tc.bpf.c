// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-datapath-bench's floor: a tc program that does nothing and lets the
 * packet go on (TC_ACT_UNSPEC, as meshmon's programs do). What BPF_PROG_TEST_RUN
 * reports for it is the cost of running any program at all, which the bench
 * subtracts from the others'.
 *
 * Hooks: tc (test-run only). Maps: none.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tc")
int mm_bench_empty(struct __sk_buff *skb)
{
	return TC_ACT_UNSPEC;
}
