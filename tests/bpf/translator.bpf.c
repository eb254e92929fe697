// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A socket-layer translator owned by the tests (and the demo): it plays the
 * part of Kmesh or Cilium's socket LB, which meshmon must report as
 * trace-sock. connect4, connect6 and sendmsg4 rewrite one service address
 * and port to one backend, set by the loader before load; every rewrite is
 * counted in `rewrites` so a test knows the translator really ran. Always
 * returns 1 (the connect or send goes on).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Network order addresses, host order ports. */
const volatile __u32 svc4 = 0, backend4 = 0;
const volatile __u32 svc6[4] = {}, backend6[4] = {};
const volatile __u16 svc_port = 0, backend_port = 0;

__u64 rewrites = 0;

static __always_inline int rewrite4(struct bpf_sock_addr *ctx)
{
	if (ctx->user_ip4 != svc4 || ctx->user_port != bpf_htons(svc_port))
		return 1;
	ctx->user_ip4 = backend4;
	ctx->user_port = bpf_htons(backend_port);
	__sync_fetch_and_add(&rewrites, 1);
	return 1;
}

SEC("cgroup/connect4")
int mm_test_xlate_connect4(struct bpf_sock_addr *ctx)
{
	return rewrite4(ctx);
}

SEC("cgroup/sendmsg4")
int mm_test_xlate_sendmsg4(struct bpf_sock_addr *ctx)
{
	return rewrite4(ctx);
}

SEC("cgroup/connect6")
int mm_test_xlate_connect6(struct bpf_sock_addr *ctx)
{
	if (ctx->user_ip6[0] != svc6[0] || ctx->user_ip6[1] != svc6[1] ||
	    ctx->user_ip6[2] != svc6[2] || ctx->user_ip6[3] != svc6[3] ||
	    ctx->user_port != bpf_htons(svc_port))
		return 1;
	ctx->user_ip6[0] = backend6[0];
	ctx->user_ip6[1] = backend6[1];
	ctx->user_ip6[2] = backend6[2];
	ctx->user_ip6[3] = backend6[3];
	ctx->user_port = bpf_htons(backend_port);
	__sync_fetch_and_add(&rewrites, 1);
	return 1;
}
