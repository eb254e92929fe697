// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * BPF_PROG_TEST_RUN of a tc program on one canned frame, with a zeroed
 * __sk_buff context carrying only the ifindex.
 */
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "harness.h"

int mm_test_tc_run(int prog_fd, const uint8_t *frame, size_t len, int ifindex, int *retval)
{
	struct __sk_buff skb;
	LIBBPF_OPTS(bpf_test_run_opts, opts);

	memset(&skb, 0, sizeof(skb));
	if (ifindex > 0)
		skb.ifindex = (__u32)ifindex;
	opts.data_in = frame;
	opts.data_size_in = (__u32)len;
	opts.ctx_in = &skb;
	opts.ctx_size_in = sizeof(skb);
	opts.repeat = 1;
	if (bpf_prog_test_run_opts(prog_fd, &opts) < 0)
		return -errno;
	if (retval)
		*retval = (int)opts.retval;
	return 0;
}
