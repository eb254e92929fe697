// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The kernel drop counters (mm_kdrop_counts, kernel_drops.bpf.c):
 * - BPF_PROG_TEST_RUN of the raw_tp program with made-up tracepoint arguments
 *   (a NULL skb: every read of it fails and reads 0): a reason below
 *   MM_KDROP_REASON_SLOTS counts in its own slot, a larger one (an
 *   openvswitch-encoded reason) in the overflow slot, frees that are not drops
 *   nowhere; aggregation and the rate limit fold or refuse the records but
 *   never the counts. The reasons used (200, 0x20005) are values this kernel
 *   never passes, so the host's own drops cannot add to them.
 * - real drops (tp_btf): UDP to a closed port counts one NO_SOCKET drop per
 *   datagram, with the bytes of the frame the interface received.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "datapath.h"
#include "harness.h"
#include "kernel_drop_reasons.h"
#include "kernel_drops.h"

#define UNUSED_REASON  200     /* below MM_KDROP_REASON_SLOTS, above this kernel's enum */
#define ENCODED_REASON 0x20005 /* SKB_DROP_REASON_SUBSYS_OPENVSWITCH << 16 | 5 */

static struct mm_kdrops *kd;
static struct mm_test_pair pair; /* only the test with real traffic */

static void teardown(void)
{
	mm_kdrops__free(kd);
	kd = NULL;
	mm_test_pair_destroy(&pair);
}

static __u32 netns_inum(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : (__u32)st.st_ino;
}

static void open_raw_tp(int aggregate, __u64 rate)
{
	struct mm_config cfg;

	cr_assert(eq(int, mm_test_private_netns(), 0));
	kd = mm_kdrops__open_raw_tp(NULL, 0);
	cr_assert(kd != NULL, "mm_kdrops__open_raw_tp: %s", strerror(errno));
	/* A NULL skb has no device and no socket: netns 0, watched here. */
	cr_assert(eq(int, mm_kdrops__watch_netns(kd, 0), 0));
	mm_config__defaults(&cfg);
	cfg.capture_len = 0;
	cfg.aggregate_drops = aggregate;
	cfg.rate_per_cpu = rate;
	cfg.burst_per_cpu = rate ? 1 : 0;
	cr_assert(eq(int, mm_kdrops__set_config(kd, &cfg), 0));
}

/* One kfree_skb(skb = NULL, location, reason, rx_sk = NULL) through the raw_tp program. */
static void free_skb(__u64 reason)
{
	__u64 args[4] = {0, 0xffffffff81000000ull, reason, 0};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof(args));

	cr_assert(eq(int, bpf_prog_test_run_opts(mm_kdrops__raw_tp_fd(kd), &opts), 0), "%s",
		  strerror(errno));
}

static struct mm_traffic_counter count_of(unsigned int slot)
{
	struct mm_traffic_counter c[MM_KDROP_COUNT_SLOTS];

	cr_assert(eq(int, mm_kdrops__read_counts(kd, c), 0));
	return c[slot];
}

TestSuite(kdrop_counters, .fini = teardown, .timeout = 60);

Test(kdrop_counters, reason_slot_and_overflow_slot)
{
	open_raw_tp(0, 0);
	for (int i = 0; i < 3; i++)
		free_skb(UNUSED_REASON);
	for (int i = 0; i < 2; i++)
		free_skb(ENCODED_REASON);
	free_skb(MM_KDROP_REASON_SLOTS); /* the first value past the slots */
	cr_expect(eq(u64, count_of(UNUSED_REASON).packets, 3));
	cr_expect(eq(u64, count_of(MM_KDROP_OVERFLOW_SLOT).packets, 3),
		  "every reason >= MM_KDROP_REASON_SLOTS in the overflow slot");
	cr_expect(eq(u64, count_of(ENCODED_REASON & 0xff).packets, 0), "no wrap-around");
	cr_expect(eq(u64, count_of(UNUSED_REASON).bytes, 0), "a NULL skb has no length");
}

Test(kdrop_counters, frees_that_are_not_drops_count_nowhere)
{
	open_raw_tp(0, 0);
	for (int i = 0; i < 4; i++) {
		free_skb(0); /* SKB_NOT_DROPPED_YET */
		free_skb(1); /* SKB_CONSUMED */
	}
	/* The host's own frees of these reasons are not drops either: both stay 0. */
	cr_expect(eq(u64, count_of(0).packets, 0));
	cr_expect(eq(u64, count_of(1).packets, 0));
}

Test(kdrop_counters, counted_before_aggregation_and_rate_limit)
{
	open_raw_tp(1, 1); /* fold per flow and reason; 1 record/s per CPU, burst 1 */
	for (int i = 0; i < 10; i++)
		free_skb(UNUSED_REASON);
	for (int i = 0; i < 10; i++)
		free_skb(ENCODED_REASON);
	cr_expect(eq(u64, count_of(UNUSED_REASON).packets, 10), "every drop, folded or not");
	cr_expect(eq(u64, count_of(MM_KDROP_OVERFLOW_SLOT).packets, 10),
		  "every drop, refused by the rate limit or not");
}

Test(kdrop_counters, udp_to_closed_port_counts_packets_and_frame_bytes)
{
	int reason = mm_kernel_drop_reason_value("NO_SOCKET");
	struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(7777)};
	struct mm_config cfg;
	int fd;

	cr_assert(gt(int, reason, 1));
	cr_assert(eq(int, mm_test_private_netns(), 0));
	cr_assert(eq(int, mm_test_pair_create(&pair), 0));
	kd = mm_kdrops__open(NULL, 0);
	cr_assert(kd != NULL, "mm_kdrops__open: %s", strerror(errno));
	cr_assert(eq(int, mm_kdrops__is_fallback(kd), 0));
	cr_assert(eq(int, mm_kdrops__watch_netns(kd, netns_inum("/proc/self/ns/net")), 0));
	mm_config__defaults(&cfg);
	cfg.event_mask = 0; /* no records at all: the counts do not depend on them */
	cr_assert(eq(int, mm_kdrops__set_config(kd, &cfg), 0));
	fd = mm_test_pair_socket(&pair, AF_INET, SOCK_DGRAM);
	cr_assert(ge(int, fd, 0));
	inet_pton(AF_INET, "10.199.0.1", &dst.sin_addr); /* nothing listens there */
	for (int i = 0; i < 6; i++)
		cr_assert(eq(long, sendto(fd, "hello", 5, 0, (struct sockaddr *)&dst, sizeof(dst)),
			     5L));
	close(fd);
	/* The drops happen in softirq context after sendto(): wait for the sixth. */
	for (int i = 0; i < 200 && count_of(reason).packets < 6; i++)
		usleep(10000);
	usleep(50000);
	cr_expect(eq(u64, count_of(reason).packets, 6), "one NO_SOCKET drop per datagram");
	/* Ethernet 14 + IPv4 20 + UDP 8 + 5: what the veth counted in rx_bytes for each. */
	cr_expect(eq(u64, count_of(reason).bytes, 6 * 47));
}
