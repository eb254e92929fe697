// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The design meshmon-sock-xlate-bench compares against: a tp_btf/sys_enter
 * program that picks out connect, sendto and sendmsg by number and does
 * nothing else. It runs on every syscall of the host, which is what
 * trace-sock avoids by reading the syscall's arguments from the connect,
 * sendmsg and sockops hooks instead (datapath/sock_xlate.bpf.h).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

__u64 picked = 0;

SEC("tp_btf/sys_enter")
int BPF_PROG(mm_bench_sys_enter, void *regs, long id)
{
	if (id == 42 || id == 44 || id == 46)
		__sync_fetch_and_add(&picked, 1);
	return 0;
}
