// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tests of the kernel test harness itself: the packet builder (lengths,
 * header fields, checksums checked by a separate computation, truncation),
 * BPF_PROG_TEST_RUN and the ring reader (with tiny hand-assembled programs),
 * private namespaces and veth pairs (traffic flows, everything goes away).
 */
#include <errno.h>
#include <ifaddrs.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "harness.h"

/* --- an independent checksum: 32-bit big-endian words, folded at the end --- */

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint64_t acc_words(const uint8_t *p, size_t len)
{
	uint8_t tmp[4];
	uint64_t acc = 0;
	size_t i = 0;

	for (; i + 4 <= len; i += 4)
		acc += (uint64_t)p[i] << 24 | (uint64_t)p[i + 1] << 16 | (uint64_t)p[i + 2] << 8 |
		       p[i + 3];
	memset(tmp, 0, sizeof(tmp));
	memcpy(tmp, p + i, len - i);
	acc += (uint64_t)tmp[0] << 24 | (uint64_t)tmp[1] << 16 | (uint64_t)tmp[2] << 8 | tmp[3];
	return acc;
}

/* The ones' complement sum of everything, including the stored checksum:
 * 0xffff when the checksum is right. */
static uint16_t fold64(uint64_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

static uint16_t verify_l4(int family, const uint8_t *l3, const uint8_t *l4, size_t l4_len,
			  uint8_t proto)
{
	uint64_t acc = acc_words(l4, l4_len);

	/* Pseudo-header: addresses, protocol, L4 length (ICMPv4 has none). */
	if (family == 4)
		acc += acc_words(l3 + 12, 8) + proto + l4_len;
	else
		acc += acc_words(l3 + 8, 32) + proto + l4_len;
	return fold64(acc);
}

static void check_pattern(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		cr_assert(eq(u8, p[i], i & 0xff), "payload byte %zu", i);
}

/* --- packet builder -------------------------------------------------------- */

Test(pkt, ipv4_tcp)
{
	struct mm_test_pkt_spec spec = {
		.family = 4, .proto = IPPROTO_TCP, .src = "10.1.2.3", .dst = "10.4.5.6",
		.sport = 40000, .dport = 8080, .tcp_flags = 0x02 | 0x10, .payload_len = 33,
	};
	uint8_t buf[256];
	size_t len = mm_test_pkt_build(buf, sizeof(buf), &spec);
	const uint8_t *ip = buf + 14, *tcp = ip + 20;
	uint8_t want_src[4] = { 10, 1, 2, 3 }, want_dst[4] = { 10, 4, 5, 6 };

	cr_assert(eq(sz, len, 14 + 20 + 20 + 33));
	cr_assert(eq(u16, rd16(buf + 12), 0x0800));
	cr_assert(eq(u8, ip[0], 0x45));
	cr_assert(eq(u16, rd16(ip + 2), 20 + 20 + 33));
	cr_assert(eq(u8, ip[8], 64));
	cr_assert(eq(u8, ip[9], IPPROTO_TCP));
	cr_assert(eq(int, memcmp(ip + 12, want_src, 4), 0));
	cr_assert(eq(int, memcmp(ip + 16, want_dst, 4), 0));
	cr_assert(eq(u16, fold64(acc_words(ip, 20)), 0xffff), "IPv4 header checksum");
	cr_assert(eq(u16, rd16(tcp), 40000));
	cr_assert(eq(u16, rd16(tcp + 2), 8080));
	cr_assert(eq(u8, tcp[12] >> 4, 5));
	cr_assert(eq(u8, tcp[13], 0x12));
	cr_assert(eq(u16, verify_l4(4, ip, tcp, 20 + 33, IPPROTO_TCP), 0xffff), "TCP checksum");
	check_pattern(tcp + 20, 33);
}

/* The checker above is not vacuous: one flipped bit anywhere is caught. */
Test(pkt, checker_catches_corruption)
{
	struct mm_test_pkt_spec spec = { .family = 6, .proto = IPPROTO_TCP, .sport = 9,
					 .dport = 10, .payload_len = 20 };
	uint8_t buf[128];
	size_t len = mm_test_pkt_build(buf, sizeof(buf), &spec);

	cr_assert(eq(u16, verify_l4(6, buf + 14, buf + 54, len - 54, IPPROTO_TCP), 0xffff));
	for (size_t i = 54; i < len; i++) {
		buf[i] ^= 0x04;
		cr_assert(ne(u16, verify_l4(6, buf + 14, buf + 54, len - 54, IPPROTO_TCP), 0xffff),
			  "flip in byte %zu not caught", i);
		buf[i] ^= 0x04;
	}
	buf[14 + 8] ^= 1; /* source address is covered by the pseudo-header */
	cr_assert(ne(u16, verify_l4(6, buf + 14, buf + 54, len - 54, IPPROTO_TCP), 0xffff));
}

Test(pkt, ipv4_udp)
{
	struct mm_test_pkt_spec spec = {
		.family = 4, .proto = IPPROTO_UDP, .src = "192.168.0.1", .dst = "192.168.0.2",
		.sport = 53, .dport = 5353, .payload_len = 7,
	};
	uint8_t buf[256];
	size_t len = mm_test_pkt_build(buf, sizeof(buf), &spec);
	const uint8_t *ip = buf + 14, *udp = ip + 20;

	cr_assert(eq(sz, len, 14 + 20 + 8 + 7));
	cr_assert(eq(u16, rd16(ip + 2), 20 + 8 + 7));
	cr_assert(eq(u8, ip[9], IPPROTO_UDP));
	cr_assert(eq(u16, fold64(acc_words(ip, 20)), 0xffff));
	cr_assert(eq(u16, rd16(udp), 53));
	cr_assert(eq(u16, rd16(udp + 2), 5353));
	cr_assert(eq(u16, rd16(udp + 4), 8 + 7));
	cr_assert(ne(u16, rd16(udp + 6), 0), "UDP checksum must be set");
	cr_assert(eq(u16, verify_l4(4, ip, udp, 8 + 7, IPPROTO_UDP), 0xffff), "UDP checksum");
	check_pattern(udp + 8, 7);
}

Test(pkt, ipv4_icmp_echo)
{
	struct mm_test_pkt_spec spec = {
		.family = 4, .proto = IPPROTO_ICMP, .src = "10.0.0.1", .dst = "10.0.0.2",
		.icmp_type = 8, .icmp_code = 0, .icmp_id = 0xbeef, .payload_len = 56,
	};
	uint8_t buf[256];
	size_t len = mm_test_pkt_build(buf, sizeof(buf), &spec);
	const uint8_t *ip = buf + 14, *icmp = ip + 20;

	cr_assert(eq(sz, len, 14 + 20 + 8 + 56));
	cr_assert(eq(u8, ip[9], IPPROTO_ICMP));
	cr_assert(eq(u16, fold64(acc_words(ip, 20)), 0xffff));
	cr_assert(eq(u8, icmp[0], 8));
	cr_assert(eq(u8, icmp[1], 0));
	cr_assert(eq(u16, rd16(icmp + 4), 0xbeef));
	cr_assert(eq(u16, fold64(acc_words(icmp, 8 + 56)), 0xffff), "ICMP checksum");
	check_pattern(icmp + 8, 56);
}

Test(pkt, ipv6_tcp_udp_icmpv6)
{
	static const struct {
		uint8_t proto;
		size_t l4_hdr;
	} cases[] = { { IPPROTO_TCP, 20 }, { IPPROTO_UDP, 8 }, { IPPROTO_ICMPV6, 8 } };

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct mm_test_pkt_spec spec = {
			.family = 6, .proto = cases[c].proto, .src = "fd00::1", .dst = "fd00::2:3",
			.sport = 1234, .dport = 443, .tcp_flags = 0x02, .icmp_type = 128,
			.icmp_id = 77, .payload_len = 11,
		};
		uint8_t buf[256], want_dst[16];
		size_t len = mm_test_pkt_build(buf, sizeof(buf), &spec);
		const uint8_t *ip = buf + 14, *l4 = ip + 40;
		size_t l4_len = cases[c].l4_hdr + 11;

		inet_pton(AF_INET6, "fd00::2:3", want_dst);
		cr_assert(eq(sz, len, 14 + 40 + l4_len), "proto %u", cases[c].proto);
		cr_assert(eq(u16, rd16(buf + 12), 0x86dd));
		cr_assert(eq(u8, ip[0] >> 4, 6));
		cr_assert(eq(u16, rd16(ip + 4), l4_len));
		cr_assert(eq(u8, ip[6], cases[c].proto));
		cr_assert(eq(u8, ip[7], 64));
		cr_assert(eq(int, memcmp(ip + 24, want_dst, 16), 0));
		cr_assert(eq(u16, verify_l4(6, ip, l4, l4_len, cases[c].proto), 0xffff),
			  "proto %u checksum", cases[c].proto);
		check_pattern(l4 + cases[c].l4_hdr, 11);
		if (cases[c].proto == IPPROTO_ICMPV6) {
			cr_assert(eq(u8, l4[0], 128));
			cr_assert(eq(u16, rd16(l4 + 4), 77));
		}
	}
}

Test(pkt, other_proto_has_no_l4_header)
{
	struct mm_test_pkt_spec spec = { .family = 4, .proto = 47, .payload_len = 10 };
	uint8_t buf[128];
	size_t len = mm_test_pkt_build(buf, sizeof(buf), &spec);

	cr_assert(eq(sz, len, 14 + 20 + 10));
	cr_assert(eq(u8, buf[14 + 9], 47));
	cr_assert(eq(u16, rd16(buf + 14 + 2), 30));
	check_pattern(buf + 34, 10);
}

Test(pkt, non_ip_frame)
{
	struct mm_test_pkt_spec spec = { .family = 0, .ethertype = 0x0806 };
	uint8_t buf[128];
	size_t len = mm_test_pkt_build(buf, sizeof(buf), &spec);

	cr_assert(eq(sz, len, 14 + 46));
	cr_assert(eq(u16, rd16(buf + 12), 0x0806));
	check_pattern(buf + 14, 46);
}

Test(pkt, truncation_and_capacity)
{
	struct mm_test_pkt_spec spec = {
		.family = 4, .proto = IPPROTO_TCP, .sport = 1, .dport = 2, .payload_len = 100,
	};
	uint8_t full[256], cut[256];
	size_t n_full = mm_test_pkt_build(full, sizeof(full), &spec);

	cr_assert(eq(sz, n_full, 154));
	spec.truncate_to = 40;
	cr_assert(eq(sz, mm_test_pkt_build(cut, sizeof(cut), &spec), 40));
	/* The headers still say the full length: the frame is cut, not rebuilt. */
	cr_assert(eq(int, memcmp(full, cut, 40), 0));
	spec.truncate_to = 1000; /* longer than the frame: no effect */
	cr_assert(eq(sz, mm_test_pkt_build(cut, sizeof(cut), &spec), 154));
	spec.truncate_to = 0;
	cr_assert(eq(sz, mm_test_pkt_build(cut, 153, &spec), 0), "does not fit");
	cr_assert(eq(sz, mm_test_pkt_build(cut, 154, &spec), 154));
	spec.src = "not-an-address";
	cr_assert(eq(sz, mm_test_pkt_build(cut, sizeof(cut), &spec), 0));
}

Test(pkt, default_addresses)
{
	struct mm_test_pkt_spec spec = { .family = 4, .proto = IPPROTO_UDP };
	uint8_t buf[128], want[4] = { 10, 199, 0, 1 };

	cr_assert(eq(sz, mm_test_pkt_build(buf, sizeof(buf), &spec), 42));
	cr_assert(eq(int, memcmp(buf + 14 + 12, want, 4), 0));
}

/* --- BPF_PROG_TEST_RUN and the ring reader --------------------------------- */

#define INSN(c, d, s, o, i) \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

static int load_prog(const struct bpf_insn *insns, size_t n)
{
	char log[4096] = "";
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_buf = log, .log_size = sizeof(log),
		    .log_level = 1);
	int fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "mmt_prog", "GPL", insns, n, &opts);

	cr_assert(ge(int, fd, 0), "prog load: %s\n%s", strerror(errno), log);
	return fd;
}

Test(tc_run, program_sees_ifindex_and_length)
{
	/* r0 = skb->ifindex * 65536 + skb->len; exit */
	const struct bpf_insn prog[] = {
		INSN(BPF_LDX | BPF_MEM | BPF_W, 2, 1, offsetof(struct __sk_buff, ifindex), 0),
		INSN(BPF_LDX | BPF_MEM | BPF_W, 0, 1, offsetof(struct __sk_buff, len), 0),
		INSN(BPF_ALU64 | BPF_LSH | BPF_K, 2, 0, 0, 16),
		INSN(BPF_ALU64 | BPF_ADD | BPF_X, 0, 2, 0, 0),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	struct mm_test_pkt_spec spec = { .family = 4, .proto = IPPROTO_UDP, .sport = 1,
					 .dport = 2, .payload_len = 10 };
	struct mm_test_pair pair;
	uint8_t buf[128];
	size_t len;
	int fd, ret = -1;

	cr_assert(eq(int, mm_test_private_netns(), 0));
	cr_assert(eq(int, mm_test_pair_create(&pair), 0));
	fd = load_prog(prog, sizeof(prog) / sizeof(prog[0]));
	len = mm_test_pkt_build(buf, sizeof(buf), &spec);
	cr_assert(eq(int, mm_test_tc_run(fd, buf, len, pair.local_ifindex, &ret), 0));
	cr_assert(eq(int, ret, pair.local_ifindex * 65536 + (int)len));
	cr_assert(eq(int, mm_test_tc_run(fd, buf, len, 0, &ret), 0));
	cr_assert(eq(int, ret & 0xffff, (int)len));
	/* A run that the kernel refuses reports -errno (frame shorter than Ethernet). */
	cr_assert(lt(int, mm_test_tc_run(fd, buf, 4, 0, &ret), 0));
	close(fd);
	mm_test_pair_destroy(&pair);
}

Test(ring, collects_records_by_type)
{
	int ncpu = libbpf_num_possible_cpus();
	int map_fd = bpf_map_create(BPF_MAP_TYPE_PERF_EVENT_ARRAY, "mmt_events", 4, 4,
				    (__u32)ncpu, NULL);
	uint8_t frame[128];
	struct mm_test_pkt_spec spec = { .family = 4, .proto = IPPROTO_UDP };
	size_t len = mm_test_pkt_build(frame, sizeof(frame), &spec);
	struct mm_test_ring *ring;
	int fd, ret;

	cr_assert(ge(int, map_fd, 0), "map: %s", strerror(errno));
	/*
	 * *(u64 *)(fp - 8) = 0x12345600; *(u8 *)(fp - 8) = skb->mark (the type);
	 * bpf_perf_event_output(ctx, map, BPF_F_CURRENT_CPU, fp - 8, 8); return 0
	 */
	const struct bpf_insn prog[] = {
		INSN(BPF_ST | BPF_MEM | BPF_DW, 10, 0, -8, 0x12345600),
		INSN(BPF_LDX | BPF_MEM | BPF_W, 2, 1, offsetof(struct __sk_buff, mark), 0),
		INSN(BPF_STX | BPF_MEM | BPF_B, 10, 2, -8, 0),
		INSN(BPF_LD | BPF_DW | BPF_IMM, 2, BPF_PSEUDO_MAP_FD, 0, map_fd),
		INSN(0, 0, 0, 0, 0),
		INSN(BPF_ALU | BPF_MOV | BPF_K, 3, 0, 0, -1),
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 4, 10, 0, 0),
		INSN(BPF_ALU64 | BPF_ADD | BPF_K, 4, 0, 0, -8),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, 5, 0, 0, 8),
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_perf_event_output),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	fd = load_prog(prog, sizeof(prog) / sizeof(prog[0]));
	ring = mm_test_ring_open(map_fd);
	cr_assert(not(eq(ptr, ring, NULL)), "ring: %s", strerror(errno));

	/* Nothing emitted yet: collect times out with nothing. */
	cr_assert(eq(sz, mm_test_ring_collect(ring, 1, 50), 0));

	/* Three runs: the mark becomes the record's type byte. */
	for (int i = 0; i < 3; i++) {
		struct __sk_buff skb = { .mark = (i == 1) ? 9 : 4 };
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (__u32)len,
			    .ctx_in = &skb, .ctx_size_in = sizeof(skb), .repeat = 1);

		cr_assert(eq(int, bpf_prog_test_run_opts(fd, &opts), 0), "%s", strerror(errno));
	}
	cr_assert(eq(sz, mm_test_ring_collect(ring, 3, 2000), 3));
	cr_assert(eq(sz, mm_test_ring_count(ring, 4), 2));
	cr_assert(eq(sz, mm_test_ring_count(ring, 9), 1));
	cr_assert(eq(sz, mm_test_ring_count(ring, 5), 0));
	const struct mm_test_record *r = mm_test_ring_nth(ring, 4, 1);
	cr_assert(not(eq(ptr, (void *)r, NULL)));
	cr_assert(ge(u32, r->size, 8), "perf pads samples, never shortens them");
	cr_assert(eq(u8, r->data[0], 4));
	cr_assert(eq(u8, r->data[1], 0x56));
	cr_assert(eq(u8, r->data[3], 0x12));
	cr_assert(eq(ptr, (void *)mm_test_ring_nth(ring, 4, 2), NULL));
	cr_assert(eq(u8, mm_test_ring_nth(ring, 9, 0)->data[0], 9));
	cr_assert(eq(u64, ring->lost, 0));

	/* Through the harness's own runner too. */
	cr_assert(eq(int, mm_test_tc_run(fd, frame, len, 0, &ret), 0));
	cr_assert(eq(int, ret, 0));
	mm_test_ring_clear(ring);
	cr_assert(eq(sz, ring->n, 0));
	cr_assert(eq(sz, mm_test_ring_collect(ring, 1, 2000), 1));
	cr_assert(eq(sz, mm_test_ring_count(ring, 0), 1));

	mm_test_ring_free(ring);
	mm_test_ring_free(NULL);
	close(fd);
	close(map_fd);
}

/* --- namespaces ------------------------------------------------------------ */

static unsigned long netns_inode(const char *path)
{
	struct stat st;

	cr_assert(eq(int, stat(path, &st), 0), "stat %s: %s", path, strerror(errno));
	return (unsigned long)st.st_ino;
}

Test(netns, private_netns_has_only_lo_up)
{
	unsigned long before = netns_inode("/proc/self/ns/net");
	struct if_nameindex *ifs, *it;
	int n = 0;

	cr_assert(eq(int, mm_test_private_netns(), 0));
	cr_assert(ne(u64, netns_inode("/proc/self/ns/net"), before));
	ifs = if_nameindex();
	cr_assert(not(eq(ptr, ifs, NULL)));
	for (it = ifs; it->if_index; it++)
		n++;
	cr_assert(eq(int, n, 1));
	cr_assert(eq(str, ifs[0].if_name, "lo"));
	if_freenameindex(ifs);
	cr_assert(eq(int, mm_test_sh("ping -c 1 -W 2 127.0.0.1 >/dev/null"), 0), "lo is up");
}

Test(netns, sh_exit_status)
{
	cr_assert(eq(int, mm_test_sh("exit 0"), 0));
	cr_assert(eq(int, mm_test_sh("exit %d", 3), 3));
	cr_assert(eq(int, mm_test_sh("kill -9 $$"), -1), "killed by a signal");
}

Test(netns, pair_traffic_and_destroy)
{
	struct mm_test_pair pair;
	unsigned long ours, peer;
	pid_t pid;
	int i;

	cr_assert(eq(int, mm_test_private_netns(), 0));
	cr_assert(eq(int, mm_test_pair_create(&pair), 0));
	cr_assert(gt(int, pair.peer_pid, 0));
	cr_assert(eq(int, pair.local_ifindex, (int)if_nametoindex(pair.local_if)));
	cr_assert(eq(u32, if_nametoindex(pair.peer_if), 0), "peer end is not local");
	ours = netns_inode("/proc/self/ns/net");
	peer = netns_inode(pair.peer_ns_path);
	cr_assert(ne(u64, ours, peer));

	cr_assert(eq(int, mm_test_sh("ping -c 1 -W 2 10.199.0.2 >/dev/null"), 0));
	cr_assert(eq(int, mm_test_sh("ping -6 -c 1 -W 2 fd00:199::2 >/dev/null"), 0));
	cr_assert(eq(int, mm_test_pair_sh(&pair, "ping -c 1 -W 2 10.199.0.1 >/dev/null"), 0));
	cr_assert(eq(int, mm_test_pair_sh(&pair, "ip link show %s >/dev/null", pair.peer_if), 0));
	cr_assert(eq(int, mm_test_pair_sh(&pair, "exit 5"), 5));
	/* The peer namespace is not ours: the local end is not there. */
	cr_assert(ne(int, mm_test_pair_sh(&pair, "ip link show %s 2>/dev/null", pair.local_if),
		      0));

	pid = pair.peer_pid;
	mm_test_pair_destroy(&pair);
	cr_assert(eq(int, pair.peer_pid, 0));
	cr_assert(eq(int, kill(pid, 0), -1));
	cr_assert(eq(int, errno, ESRCH), "peer process is gone");
	/* The namespace is torn down asynchronously; the veth goes with it. */
	for (i = 0; i < 100 && if_nametoindex(pair.local_if) != 0; i++)
		usleep(20000);
	cr_assert(eq(u32, if_nametoindex(pair.local_if), 0), "local veth end is gone");
	cr_assert(ne(int, mm_test_sh("ping -c 1 -W 1 10.199.0.2 >/dev/null 2>&1"), 0));
	mm_test_pair_destroy(&pair); /* twice is fine */
	cr_assert(eq(int, mm_test_pair_sh(&pair, "true"), -1), "no peer any more");
}

Test(netns, two_pairs_in_sequence)
{
	struct mm_test_pair a, b;

	cr_assert(eq(int, mm_test_private_netns(), 0));
	cr_assert(eq(int, mm_test_pair_create(&a), 0));
	mm_test_pair_destroy(&a);
	for (int i = 0; i < 100 && if_nametoindex(a.local_if) != 0; i++)
		usleep(20000);
	/* Same names again: creation works once the first one is gone. */
	cr_assert(eq(int, mm_test_pair_create(&b), 0));
	cr_assert(eq(int, mm_test_sh("ping -c 1 -W 2 10.199.0.2 >/dev/null"), 0));
	mm_test_pair_destroy(&b);
}
