// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-datapath-bench, the programs other than tc: can the kernel test-run
 * them? The tcp_probe object (sockops, cgroup connect4/6) and the kernel drop
 * object (tp_btf/kfree_skb, and its raw_tp fallback) are loaded with maps of
 * their own and nothing attached; each program gets one BPF_PROG_TEST_RUN with
 * a zeroed context of its type, and the kernel's answer is printed. Where the
 * answer is yes and a duration comes back, the program is measured like the
 * tc programs (repeat, median of the repetitions).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath_bench.h"
#include "kernel_drops.skel.h"
#include "tcp_probe.skel.h"

#define MAX_REPS 64

struct other_prog {
	const char *name;
	const char *hook;
	struct bpf_program *prog;
	size_t ctx_size;
};

const char *bench_errno_name(int err)
{
	switch (err) {
	case 524:
		return "ENOTSUPP";
	case EINVAL:
		return "EINVAL";
	case EPERM:
		return "EPERM";
	case EACCES:
		return "EACCES";
	case EOPNOTSUPP:
		return "EOPNOTSUPP";
	case ENOENT:
		return "ENOENT";
	case EFAULT:
		return "EFAULT";
	default:
		return "errno";
	}
}

static void try_one(const struct other_prog *p, uint32_t repeat, unsigned int reps)
{
	/* Large enough for struct bpf_sock_ops, struct bpf_sock_addr and 4 tracepoint args. */
	uint64_t ctx[32];
	double ns[MAX_REPS];
	uint32_t d, ret;
	int fd = bpf_program__fd(p->prog), err;

	memset(ctx, 0, sizeof(ctx));
	printf("  %-22s %-20s ", p->name, p->hook);
	err = bench_test_run(fd, NULL, 0, ctx, p->ctx_size, 1, &d, &ret);
	if (err == -EINVAL) {
		/* raw_tp runs only without repeat (and then reports no duration). */
		LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = ctx, .ctx_size_in = p->ctx_size);

		if (!bpf_prog_test_run_opts(fd, &opts)) {
			printf("test-runs only with repeat 0 (no duration reported; with repeat 1: "
			       "EINVAL): ret %u on a zeroed context, not measured\n",
			       opts.retval);
			return;
		}
	}
	if (err) {
		printf("no BPF_PROG_TEST_RUN: %s (%d)%s\n", bench_errno_name(-err), -err,
		       err == -524	? ": the program type has no test_run"
		       : err == -EFAULT ? ": tracing test runs cover fentry/fexit/fmod_ret only"
					: "");
		return;
	}
	if (reps > MAX_REPS)
		reps = MAX_REPS;
	for (unsigned int r = 0; r < reps; r++) {
		if (bench_test_run(fd, NULL, 0, ctx, p->ctx_size, repeat, &d, &ret)) {
			printf("test-runs (ret %u), but repeat %u failed\n", ret, repeat);
			return;
		}
		ns[r] = d;
	}
	printf("test-runs on a zeroed context: %.1f ns/run (ret %u; the early-exit path only)\n",
	       bench_median(ns, reps), ret);
}

void bench_other_programs(uint32_t repeat, unsigned int reps)
{
	struct mm_tcp_probe *probe = mm_tcp_probe__open_and_load();
	struct mm_kernel_drops *kd_btf = NULL, *kd_raw = NULL;

	printf(
	    "\nOther datapath programs under BPF_PROG_TEST_RUN (loaded, not attached; one run on "
	    "a zeroed context):\n");
	if (!probe) {
		printf("  tcp_probe object: load failed: %s\n", strerror(errno));
	} else {
		const struct other_prog ps[] = {
		    {"mm_probe_sockops", "sockops", probe->progs.mm_probe_sockops,
		     sizeof(struct bpf_sock_ops)},
		    {"mm_probe_connect4", "cgroup/connect4", probe->progs.mm_probe_connect4,
		     sizeof(struct bpf_sock_addr)},
		    {"mm_probe_connect6", "cgroup/connect6", probe->progs.mm_probe_connect6,
		     sizeof(struct bpf_sock_addr)},
		};

		for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++)
			try_one(&ps[i], repeat, reps);
	}

	kd_btf = mm_kernel_drops__open();
	if (kd_btf) {
		bpf_program__set_autoload(kd_btf->progs.mm_kdrop_raw, false);
		if (mm_kernel_drops__load(kd_btf)) {
			printf("  mm_kdrop_btf: load failed: %s\n", strerror(errno));
		} else {
			const struct other_prog p = {"mm_kdrop_btf", "tp_btf/kfree_skb",
						     kd_btf->progs.mm_kdrop_btf, 4 * sizeof(__u64)};

			try_one(&p, repeat, reps);
		}
	}
	kd_raw = mm_kernel_drops__open();
	if (kd_raw) {
		bpf_program__set_autoload(kd_raw->progs.mm_kdrop_btf, false);
		if (mm_kernel_drops__load(kd_raw)) {
			printf("  mm_kdrop_raw: load failed: %s\n", strerror(errno));
		} else {
			const struct other_prog p = {"mm_kdrop_raw", "raw_tp/kfree_skb",
						     kd_raw->progs.mm_kdrop_raw, 4 * sizeof(__u64)};

			try_one(&p, repeat, reps);
		}
	}
	printf("  Where there is no test run, the cost is not measured here: sockops and connect "
	       "run\n  on real connections (tests/test_tcp_probe*), kfree_skb on real drops.\n");
	mm_kernel_drops__destroy(kd_raw);
	mm_kernel_drops__destroy(kd_btf);
	mm_tcp_probe__destroy(probe);
}
