// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Kernel drops on the real kernel: tp_btf/kfree_skb reports drops in the
 * monitored netns with the kernel's own reason, named from its BTF.
 * Each test runs in a private netns with a veth pair to a peer netns; the
 * senders are sockets the harness creates inside the peer netns.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "datapath.h"
#include "kernel_drop_reasons.h"
#include "harness.h"
#include "kernel_drops.h"
#include "records.h"

static struct mm_test_pair pair;
static struct mm_kdrops *kd;
static struct mm_test_ring *ring;
static struct mm_datapath *dp; /* only the tests with the tc datapath */

static __u32 netns_inum(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : (__u32)st.st_ino;
}

static void set_config(__u32 capture_len, int aggregate)
{
	struct mm_config cfg;

	mm_config__defaults(&cfg);
	cfg.capture_len = capture_len;
	cfg.aggregate_drops = aggregate;
	cfg.kernel_drop_scope = MM_KDROP_SCOPE_MONITORED;
	cr_assert(eq(int, mm_kdrops__set_config(kd, &cfg), 0));
}

static void setup(void)
{
	cr_assert(eq(int, mm_test_private_netns(), 0));
	cr_assert(eq(int, mm_test_pair_create(&pair), 0));
	kd = mm_kdrops__open(NULL, 0);
	cr_assert(kd != NULL, "mm_kdrops__open: %s", strerror(errno));
	cr_assert(eq(int, mm_kdrops__is_fallback(kd), 0), "tp_btf works on this kernel");
	cr_assert(eq(int, mm_kdrops__watch_netns(kd, netns_inum("/proc/self/ns/net")), 0));
	set_config(128, 0);
	ring = mm_test_ring_open(mm_kdrops__events_fd(kd));
	cr_assert(ring != NULL);
}

static void teardown(void)
{
	mm_test_ring_free(ring);
	ring = NULL;
	mm_kdrops__free(kd);
	kd = NULL;
	mm_datapath__free(dp);
	dp = NULL;
	mm_test_pair_destroy(&pair);
}

TestSuite(kernel_drops, .init = setup, .fini = teardown, .timeout = 60);

static struct sockaddr_in sin_of(const char *addr, int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};

	inet_pton(AF_INET, addr, &sin.sin_addr);
	return sin;
}

static int port_of(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	getsockname(fd, (struct sockaddr *)&sin, &len);
	return ntohs(sin.sin_port);
}

/* Drop records with this reason and destination port; the first copied to *out. */
static size_t count_drops(int reason, int dport, struct mm_drop_record *out,
			  const struct mm_test_record **raw)
{
	const struct mm_test_record *r;
	size_t n = 0;

	for (size_t i = 0; (r = mm_test_ring_nth(ring, MM_EVENT_DROP, i)); i++) {
		struct mm_drop_record rec;

		cr_assert(r->size >= sizeof(rec));
		memcpy(&rec, r->data, sizeof(rec));
		if (rec.hdr.source != MM_SOURCE_KERNEL || (int)rec.reason != reason ||
		    rec.tuple.dport != dport)
			continue;
		if (n++ == 0) {
			if (out)
				*out = rec;
			if (raw)
				*raw = r;
		}
	}
	return n;
}

Test(kernel_drops, reason_names_come_from_btf)
{
	int v = mm_kernel_drop_reason_value("NO_SOCKET");

	cr_assert(v > 1, "NO_SOCKET in the kernel's enum skb_drop_reason");
	cr_expect(eq(str, (char *)mm_kernel_drop_reason_name(v), "NO_SOCKET"));
	cr_expect(eq(int, mm_kernel_drop_reason_value("SKB_DROP_REASON_NO_SOCKET"), v));
	cr_expect(mm_kernel_drop_reason_value("SOCKET_RCVBUFF") > 1);
	cr_expect(mm_kernel_drop_reason_name(1000000) == NULL);
	cr_expect(eq(int, mm_kernel_drop_reason_value("NO_SUCH_REASON"), -ENOENT));
}

Test(kernel_drops, udp_to_closed_port_is_no_socket)
{
	int reason = mm_kernel_drop_reason_value("NO_SOCKET");
	struct sockaddr_in dst = sin_of("10.199.0.1", 7777); /* nothing listens here */
	const struct mm_test_record *raw = NULL;
	struct mm_drop_record rec;
	int fd = mm_test_pair_socket(&pair, AF_INET, SOCK_DGRAM), sport;
	__u32 a;

	cr_assert(fd >= 0);
	cr_assert(eq(long, sendto(fd, "hello", 5, 0, (struct sockaddr *)&dst, sizeof(dst)), 5L));
	sport = port_of(fd);
	mm_test_ring_collect(ring, 1, 2000);
	usleep(100000);
	mm_test_ring_collect(ring, 100, 100);
	cr_assert(eq(sz, count_drops(reason, 7777, &rec, &raw), 1), "one NO_SOCKET drop");
	cr_expect(eq(u8, rec.hdr.type, MM_EVENT_DROP));
	cr_expect(eq(u8, rec.hdr.subtype, MM_POINT_KERNEL));
	cr_expect(eq(u8, rec.hdr.version, MM_DROP_VERSION));
	cr_expect(eq(u8, rec.tuple.family, MM_FAMILY_IPV4));
	cr_expect(eq(u8, rec.tuple.proto, IPPROTO_UDP));
	cr_expect(eq(u16, rec.tuple.sport, sport));
	inet_pton(AF_INET, "10.199.0.2", &a);
	cr_expect(eq(u32, rec.tuple.saddr[0], a));
	inet_pton(AF_INET, "10.199.0.1", &a);
	cr_expect(eq(u32, rec.tuple.daddr[0], a));
	cr_expect(eq(u32, rec.ifindex, (__u32)pair.local_ifindex));
	cr_expect(eq(u32, rec.netns, netns_inum("/proc/self/ns/net")));
	cr_expect(rec.location != 0);
	cr_expect(eq(u16, rec.file, 0));
	/* The UDP drop happens with skb->data at the UDP header. */
	cr_expect(eq(u8, rec.cap.layer, MM_LAYER_TRANSPORT));
	cr_expect(eq(u32, rec.cap.len_orig, 8 + 5));
	cr_expect(eq(u16, rec.cap.cap_len, 8 + 5));
	cr_assert(eq(u32, raw->size >= sizeof(rec) + rec.cap.cap_len, 1));
	{
		const uint8_t *udp = raw->data + sizeof(rec);

		cr_expect(eq(u16, (udp[0] << 8) | udp[1], sport));
		cr_expect(eq(u16, (udp[2] << 8) | udp[3], 7777));
		cr_expect(eq(int, memcmp(udp + 8, "hello", 5), 0));
	}
	close(fd);
}

Test(kernel_drops, udp_receive_buffer_overflow_counts_match)
{
	int reason = mm_kernel_drop_reason_value("SOCKET_RCVBUFF");
	struct sockaddr_in any = sin_of("10.199.0.1", 0), dst;
	int rfd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int sfd = mm_test_pair_socket(&pair, AF_INET, SOCK_DGRAM);
	int small = 1, sent = 0, received = 0, port;
	char buf[256];
	size_t n;

	set_config(0, 0); /* no capture: many records must fit the test ring */
	cr_assert(rfd >= 0 && sfd >= 0);
	cr_assert(eq(int, setsockopt(rfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0));
	cr_assert(eq(int, bind(rfd, (struct sockaddr *)&any, sizeof(any)), 0));
	port = port_of(rfd);
	dst = sin_of("10.199.0.1", port);
	memset(buf, 'd', sizeof(buf));
	for (int i = 0; i < 150; i++) {
		if (sendto(sfd, buf, 200, 0, (struct sockaddr *)&dst, sizeof(dst)) == 200)
			sent++;
		if (i % 20 == 19)
			usleep(2000); /* stay below the veth backlog: only the socket drops */
	}
	usleep(200000);
	while (recv(rfd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		received++;
	cr_assert(eq(int, sent, 150));
	cr_assert(received > 0 && received < sent, "received %d of %d", received, sent);

	mm_test_ring_collect(ring, sent - received, 2000);
	n = count_drops(reason, port, NULL, NULL);
	cr_expect(eq(sz, n, (size_t)(sent - received)), "SOCKET_RCVBUFF records = datagrams lost");
	cr_expect(eq(u64, ring->lost, 0));
	close(rfd);
	close(sfd);
}

Test(kernel_drops, unwatched_netns_reports_nothing)
{
	int reason = mm_kernel_drop_reason_value("NO_SOCKET");
	struct sockaddr_in dst = sin_of("10.199.0.2", 7778); /* the peer's own address */
	int fd = mm_test_pair_socket(&pair, AF_INET, SOCK_DGRAM);
	__u32 peer_ns = netns_inum(pair.peer_ns_path);

	cr_assert(fd >= 0 && peer_ns != 0);
	/* In the peer netns (not watched): a drop there is not reported. */
	cr_assert(eq(long, sendto(fd, "x", 1, 0, (struct sockaddr *)&dst, sizeof(dst)), 1L));
	usleep(200000);
	mm_test_ring_collect(ring, 1, 300);
	cr_expect(eq(sz, count_drops(reason, 7778, NULL, NULL), 0), "drop in an unwatched netns");

	/* Control: once watched, the same drop is reported. */
	cr_assert(eq(int, mm_kdrops__watch_netns(kd, peer_ns), 0));
	cr_assert(eq(long, sendto(fd, "x", 1, 0, (struct sockaddr *)&dst, sizeof(dst)), 1L));
	mm_test_ring_collect(ring, 1, 2000);
	usleep(100000);
	mm_test_ring_collect(ring, 100, 100);
	struct mm_drop_record rec;

	cr_expect(eq(sz, count_drops(reason, 7778, &rec, NULL), 1), "drop in a watched netns");
	cr_expect(eq(u32, rec.netns, peer_ns));
	close(fd);
}

Test(kernel_drops, aggregation_folds_per_flow_and_reason)
{
	int reason = mm_kernel_drop_reason_value("NO_SOCKET");
	struct sockaddr_in dst = sin_of("10.199.0.1", 7779);
	struct mm_drop_record rec;
	int fd = mm_test_pair_socket(&pair, AF_INET, SOCK_DGRAM);

	set_config(0, 1); /* agg_interval 5 s by default */
	cr_assert(fd >= 0);
	for (int i = 0; i < 10; i++)
		cr_assert(
		    eq(long, sendto(fd, "x", 1, 0, (struct sockaddr *)&dst, sizeof(dst)), 1L));
	usleep(200000);
	mm_test_ring_collect(ring, 100, 300);
	cr_expect(eq(sz, count_drops(reason, 7779, &rec, NULL), 1), "ten drops, one report");
	cr_expect(eq(u32, rec.folded, 0));
	close(fd);
}

Test(kernel_drops, udp6_to_closed_port_is_no_socket)
{
	int reason = mm_kernel_drop_reason_value("NO_SOCKET");
	struct sockaddr_in6 dst = {.sin6_family = AF_INET6, .sin6_port = htons(7780)};
	struct sockaddr_in6 src;
	socklen_t slen = sizeof(src);
	struct mm_drop_record rec;
	struct in6_addr want;
	int fd = mm_test_pair_socket(&pair, AF_INET6, SOCK_DGRAM);

	cr_assert(fd >= 0);
	inet_pton(AF_INET6, "fd00:199::1", &dst.sin6_addr);
	cr_assert(eq(long, sendto(fd, "v6", 2, 0, (struct sockaddr *)&dst, sizeof(dst)), 2L),
		  "sendto: %s", strerror(errno));
	getsockname(fd, (struct sockaddr *)&src, &slen);
	mm_test_ring_collect(ring, 1, 2000);
	usleep(100000);
	mm_test_ring_collect(ring, 100, 100);
	cr_assert(eq(sz, count_drops(reason, 7780, &rec, NULL), 1));
	cr_expect(eq(u8, rec.tuple.family, MM_FAMILY_IPV6));
	cr_expect(eq(u8, rec.tuple.proto, IPPROTO_UDP));
	cr_expect(eq(u16, rec.tuple.sport, ntohs(src.sin6_port)));
	cr_expect(eq(int, memcmp(rec.tuple.daddr, &dst.sin6_addr, 16), 0));
	inet_pton(AF_INET6, "fd00:199::2", &want);
	cr_expect(eq(int, memcmp(rec.tuple.saddr, &want, 16), 0));
	cr_expect(eq(u32, rec.ifindex, (__u32)pair.local_ifindex));
	cr_expect(eq(u8, rec.cap.layer, MM_LAYER_TRANSPORT));
	close(fd);
}

Test(kernel_drops, raw_tp_fallback_reports_without_capture)
{
	int reason = mm_kernel_drop_reason_value("NO_SOCKET");
	struct sockaddr_in dst = sin_of("10.199.0.1", 7781);
	struct mm_drop_record rec;
	int fd = mm_test_pair_socket(&pair, AF_INET, SOCK_DGRAM), sport;

	/* replace the tp_btf loader of .init by the fallback */
	mm_test_ring_free(ring);
	mm_kdrops__free(kd);
	kd = mm_kdrops__open_raw_tp(NULL, 0);
	cr_assert(kd != NULL, "raw_tp fallback: %s", strerror(errno));
	cr_assert(eq(int, mm_kdrops__is_fallback(kd), 1));
	cr_assert(eq(int, mm_kdrops__watch_netns(kd, netns_inum("/proc/self/ns/net")), 0));
	ring = mm_test_ring_open(mm_kdrops__events_fd(kd));
	cr_assert(ring != NULL);

	cr_assert(fd >= 0);
	cr_assert(eq(long, sendto(fd, "x", 1, 0, (struct sockaddr *)&dst, sizeof(dst)), 1L));
	sport = port_of(fd);
	mm_test_ring_collect(ring, 1, 2000);
	usleep(100000);
	mm_test_ring_collect(ring, 100, 100);
	cr_assert(eq(sz, count_drops(reason, 7781, &rec, NULL), 1));
	cr_expect(eq(u16, rec.tuple.sport, sport));
	cr_expect(eq(u32, rec.ifindex, (__u32)pair.local_ifindex));
	cr_expect(eq(u16, rec.cap.cap_len, 0));
	cr_expect(eq(u32, rec.cap.len_orig, 8 + 1));
	close(fd);
}

/*
 * One record per drop: with the tc datapath denying UDP to port 9998 on the
 * veth's egress, the kernel's TC_EGRESS free of each denied skb is merged
 * (counted in KDROP_MERGED), not reported; tp_btf and the raw_tp fallback alike.
 */
static void own_deny_is_reported_once(int raw_tp)
{
	int tc_egress = mm_kernel_drop_reason_value("TC_EGRESS");
	struct sockaddr_in dst = sin_of("10.199.0.2", 9998);
	struct mm_deny_spec rule;
	const struct mm_test_record *r;
	struct mm_config cfg;
	__u64 stats[MM_STAT_MAX];
	char err[128];
	size_t policy = 0;
	int fd;

	cr_assert(tc_egress > 1, "TC_EGRESS in the kernel's enum skb_drop_reason");
	/* replace the loader of .init by one sharing the tc datapath's maps */
	mm_test_ring_free(ring);
	mm_kdrops__free(kd);
	mm_config__defaults(&cfg);
	cfg.capture_len = 0;
	dp = mm_datapath__open(&cfg);
	cr_assert(dp != NULL, "mm_datapath__open: %s", strerror(errno));
	cr_assert(eq(int, mm_deny_spec__parse("proto=udp,dport=9998,dir=egress", 7, &rule, err,
					      sizeof(err)),
		     0),
		  "%s", err);
	cr_assert(eq(int, mm_datapath__set_deny_rules(dp, &rule, 1), 0));
	cr_assert(eq(int, mm_datapath__attach_tc(dp, pair.local_ifindex), 0));
	kd = raw_tp ? mm_kdrops__open_raw_tp(dp, 0) : mm_kdrops__open(dp, 0);
	cr_assert(kd != NULL, "kernel drops: %s", strerror(errno));
	cr_assert(eq(int, mm_kdrops__is_fallback(kd), raw_tp));
	cr_assert(eq(int, mm_kdrops__watch_netns(kd, netns_inum("/proc/self/ns/net")), 0));
	ring = mm_test_ring_open(mm_datapath__events_fd(dp));
	cr_assert(ring != NULL);

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert(fd >= 0);
	for (int i = 0; i < 4; i++)
		sendto(fd, "deny", 4, 0, (struct sockaddr *)&dst, sizeof(dst)); /* EPERM: dropped */
	close(fd);
	mm_test_ring_collect(ring, 4, 2000);
	usleep(100000);
	mm_test_ring_collect(ring, 100, 100);

	for (size_t i = 0; (r = mm_test_ring_nth(ring, MM_EVENT_DROP, i)); i++) {
		struct mm_drop_record rec;

		memcpy(&rec, r->data, sizeof(rec));
		if (rec.hdr.source == MM_SOURCE_TC && rec.reason == MM_DROP_POLICY_DENIED &&
		    rec.tuple.dport == 9998)
			policy++;
	}
	cr_expect(eq(sz, policy, 4), "meshmon's own drop, once per packet");
	cr_expect(eq(sz, count_drops(tc_egress, 9998, NULL, NULL), 0),
		  "no kernel TC_EGRESS drop of the same packets");
	cr_assert(eq(int, mm_datapath__read_stats(dp, stats), 0));
	cr_expect(eq(u64, stats[MM_STAT_KDROP_MERGED], 4));
}

Test(kernel_drops, own_deny_is_reported_once)
{
	own_deny_is_reported_once(0);
}

Test(kernel_drops, own_deny_is_reported_once_raw_tp)
{
	own_deny_is_reported_once(1);
}

/*
 * SCTP ports in the kernel-drop tuple: this kernel has no SCTP, so an SCTP
 * packet to the peer (a raw socket writes the common header: ports,
 * verification tag, checksum) is freed there with IP_NOPROTO. (Not to the
 * host itself: the sending raw socket would take its own packet.)
 */
Test(kernel_drops, sctp_ports_without_sctp_support)
{
	int reason = mm_kernel_drop_reason_value("IP_NOPROTO");
	struct sockaddr_in dst = sin_of("10.199.0.2", 0);
	const unsigned char sctp[12] = {0x0b, 0x59, 0x0b, 0x5a}; /* 2905 -> 2906 */
	struct mm_drop_record rec;
	int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, 132);

	cr_assert(reason > 1);
	cr_assert(fd >= 0, "raw socket: %s", strerror(errno));
	cr_assert(eq(int, mm_kdrops__watch_netns(kd, netns_inum(pair.peer_ns_path)), 0));
	cr_assert(eq(long, sendto(fd, sctp, sizeof(sctp), 0, (struct sockaddr *)&dst, sizeof(dst)),
		     (long)sizeof(sctp)));
	close(fd);
	mm_test_ring_collect(ring, 1, 2000);
	usleep(100000);
	mm_test_ring_collect(ring, 100, 100);
	cr_assert(eq(sz, count_drops(reason, 2906, &rec, NULL), 1));
	cr_expect(eq(u8, rec.tuple.proto, 132));
	cr_expect(eq(u16, rec.tuple.sport, 2905));
}
