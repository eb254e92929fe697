// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The endpoint programs (cgroup_skb ingress: to-endpoint, egress:
 * from-endpoint; datapath/endpoint.bpf.h) under BPF_PROG_TEST_RUN, in the
 * spirit of Kmesh's observe_on_data cases: a packet that is not IPv4/IPv6,
 * garbage, each protocol, and each aggregation decision, with every field of
 * the record checked, the counters, the per-type switch and the rate limit.
 *
 * What the kernel gives a cgroup_skb test run (net/bpf/test_run.c,
 * bpf_prog_test_run_skb): the Ethernet frame is pulled (the program sees it
 * from the network header, as on a real socket), skb->dev is the
 * namespace's lo, and skb->sk is always a socket: a dummy one sk_alloc()ed
 * for the run, new on every run, in the caller's cgroup and network
 * namespace. ctx_in cannot clear it. So "no socket" cannot be reached here
 * (nor on real traffic: both cgroup_skb hooks run for a socket only); what
 * is tested is its nearest real case, a socket meshmon knows no process of:
 * pid 0, no comm, with the socket's own cookie, cgroup and netns.
 *
 * The tc fixture (tc_testrun.h) gives the private netns, the shared maps and
 * the ring; a tcp_probe object on a private cgroup holding the test process
 * joins them with its endpoint programs.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <criterion/parameterized.h>

#include "datapath.h"
#include "harness.h"
#include "tc_testrun.h"
#include "tcp_probe.h"

#define ETH_LEN 14

static struct mm_test_cgroup ep_cg;
static struct mm_probe *probe;
static int fd_ep[2]; /* [0] ingress (to-endpoint), [1] egress (from-endpoint) */
static const __u8 ep_point[2] = {MM_POINT_TO_ENDPOINT, MM_POINT_FROM_ENDPOINT};

static void ep_up(void)
{
	char root[256];
	int err;

	dp_up_default();
	cr_assert(eq(int, mm_cgroup2_root(root, sizeof(root)), 0));
	err = mm_test_cgroup_create(&ep_cg, root, "ep-testrun");
	cr_assert(eq(int, err, 0), "cgroup: %s", strerror(-err));
	cr_assert(eq(int, mm_test_cgroup_enter(&ep_cg, getpid()), 0));
	probe = mm_probe__open(dp, ep_cg.path);
	cr_assert(not(eq(ptr, probe, NULL)), "mm_probe__open: %s", strerror(errno));
	cr_assert(eq(int, mm_probe__attach_endpoints(probe), 0));
	fd_ep[0] = mm_probe__endpoint_ingress_fd(probe);
	fd_ep[1] = mm_probe__endpoint_egress_fd(probe);
	cr_assert(gt(int, fd_ep[0], 0));
	cr_assert(gt(int, fd_ep[1], 0));
}

static void ep_down(void)
{
	mm_probe__free(probe);
	probe = NULL;
	dp_down();
	mm_test_cgroup_destroy(&ep_cg);
}

TestSuite(endpoint_testrun, .init = ep_up, .fini = ep_down, .timeout = 60);

static __u64 inode_of(const char *path)
{
	struct stat st;

	cr_assert(eq(int, stat(path, &st), 0), "stat %s: %s", path, strerror(errno));
	return st.st_ino;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

/* Run s through the endpoint program of dir (0 ingress, 1 egress): it must return 1. */
static void ep_run(int dir, const struct mm_test_pkt_spec *s, uint8_t *frame, size_t *len)
{
	int rc = run(fd_ep[dir], s, frame, len);

	cr_assert(eq(int, rc, 1), "cgroup_skb programs never change a verdict");
}

static void endpoint_of(const struct mm_test_record *r, struct mm_endpoint_trace_record *t)
{
	cr_assert(not(eq(ptr, (void *)r, NULL)), "no trace record");
	cr_assert(ge(u32, r->size, sizeof(*t)), "an endpoint trace has its owner");
	memcpy(t, r->data, sizeof(*t));
}

static struct mm_traffic_counter endpoint_traffic(__u8 point)
{
	struct mm_traffic_counter t[MM_TRAFFIC_SLOTS];

	cr_assert(eq(int, mm_datapath__read_traffic(dp, t), 0));
	return t[MM_TRAFFIC_INDEX(point, 0)];
}

/* --- one packet of each kind, at each point ----------------------------------- */

struct ep_case {
	const char *name;
	struct mm_test_pkt_spec spec;
	__u8 family, proto, parse_error, state, icmp_type, has_addrs, patch_off, patch_val;
	__u16 ethertype, sport, dport;
};

/* clang-format off */
static const struct ep_case ep_cases[] = {
	{ "not IP (ARP)", { .family = 0, .ethertype = 0x0806, .payload_len = 28 },
	  .family = MM_FAMILY_NONE, .ethertype = 0x0806, .parse_error = MM_PARSE_NOT_IP,
	  .state = MM_STATE_UNKNOWN },
	{ "garbage (IPv4, IHL below 5)", { V4, TCP(MM_TCP_SYN) },
	  .family = MM_FAMILY_NONE, .ethertype = 0x0800, .parse_error = MM_PARSE_BAD_IPV4_IHL,
	  .state = MM_STATE_UNKNOWN, .patch_off = ETH_LEN, .patch_val = 0x43 },
	{ "TCP SYN (IPv4)", { V4, TCP(MM_TCP_SYN) }, .family = 4, .proto = IPPROTO_TCP,
	  .ethertype = 0x0800, .sport = 40000, .dport = 80, .state = MM_STATE_NEW, .has_addrs = 1 },
	{ "UDP (IPv4)", { V4, .proto = IPPROTO_UDP, .sport = 5353, .dport = 53, .payload_len = 20 },
	  .family = 4, .proto = IPPROTO_UDP, .ethertype = 0x0800, .sport = 5353, .dport = 53,
	  .state = MM_STATE_NEW, .has_addrs = 1 },
	{ "ICMP echo", { V4, .proto = IPPROTO_ICMP, .icmp_type = 8, .icmp_id = 0x1234, .payload_len = 56 },
	  .family = 4, .proto = IPPROTO_ICMP, .ethertype = 0x0800, .sport = 0x1234, .icmp_type = 8,
	  .state = MM_STATE_NEW, .has_addrs = 1 },
	{ "ICMP destination unreachable", { V4, .proto = IPPROTO_ICMP, .icmp_type = 3, .icmp_code = 3,
	  .payload_len = 28 }, .family = 4, .proto = IPPROTO_ICMP, .ethertype = 0x0800,
	  .icmp_type = 3, .state = MM_STATE_RELATED, .has_addrs = 1 },
	{ "ICMPv6 echo", { V6, .proto = IPPROTO_ICMPV6, .icmp_type = 128, .icmp_id = 0x4321,
	  .payload_len = 56 }, .family = 6, .proto = IPPROTO_ICMPV6, .ethertype = 0x86dd,
	  .sport = 0x4321, .icmp_type = 128, .state = MM_STATE_NEW, .has_addrs = 1 },
	{ "TCP SYN (IPv6)", { V6, TCP(MM_TCP_SYN) }, .family = 6, .proto = IPPROTO_TCP,
	  .ethertype = 0x86dd, .sport = 40000, .dport = 80, .state = MM_STATE_NEW, .has_addrs = 1 },
};
/* clang-format on */

#define N_EP_CASES (sizeof(ep_cases) / sizeof(ep_cases[0]))

/* Every case at both points: parameter i is case i / 2 at direction i % 2. */
ParameterizedTestParameters(endpoint_testrun, one_of_each)
{
	static int idx[2 * N_EP_CASES];

	for (size_t i = 0; i < 2 * N_EP_CASES; i++)
		idx[i] = (int)i;
	return cr_make_param_array(int, idx, 2 * N_EP_CASES);
}

ParameterizedTest(int *param, endpoint_testrun, one_of_each)
{
	const struct ep_case *c = &ep_cases[*param / 2];
	int dir = *param % 2, is_tcp = c->proto == IPPROTO_TCP;
	__u8 point = ep_point[dir];
	struct mm_endpoint_trace_record t;
	struct mm_traffic_counter tr;
	__u32 saddr[4] = {0}, daddr[4] = {0};
	uint8_t frame[2048], zero_comm[16] = {0};
	size_t len, l3_len, cap;
	__u64 before, after, perr = stat_of(MM_STAT_PARSE_ERRORS);

	len = build(frame, sizeof(frame), &c->spec);
	if (c->patch_off)
		frame[c->patch_off] = c->patch_val;
	before = mono_ns();
	cr_assert(eq(int, mm_test_tc_run(fd_ep[dir], frame, len, 0, &(int){0}), 0));
	{
		int rc = -1;

		/* The same packet once more would be a second flow packet: check the verdict alone. */
		cr_assert(eq(int, mm_test_tc_run(fd_ep[dir], frame, len, 0, &rc), 0));
		cr_assert(eq(int, rc, 1), "%s: cgroup_skb programs return 1", c->name);
	}
	after = mono_ns();
	cr_assert(eq(sz, collect_exact(2), 2), "%s: one trace per run", c->name);
	endpoint_of(mm_test_ring_nth(ring, MM_EVENT_TRACE, 0), &t);

	l3_len = len - ETH_LEN;
	cap = l3_len < MM_CAPTURE_DEFAULT ? l3_len : MM_CAPTURE_DEFAULT;
	if (c->has_addrs) {
		addr_of(c->family, c->spec.src, saddr);
		addr_of(c->family, c->spec.dst, daddr);
	}
	cr_expect(eq(u8, t.trace.hdr.type, MM_EVENT_TRACE), "%s", c->name);
	cr_expect(eq(u8, t.trace.hdr.subtype, point), "%s", c->name);
	cr_expect(eq(u8, t.trace.hdr.source, MM_SOURCE_CGROUP_SKB), "%s", c->name);
	cr_expect(eq(u8, t.trace.hdr.version, MM_TRACE_VERSION), "%s", c->name);
	if (c->has_addrs)
		cr_expect(not(eq(u32, t.trace.hdr.flow_id, 0)), "%s: a flow", c->name);
	else
		cr_expect(eq(u32, t.trace.hdr.flow_id, 0), "%s: no flow", c->name);
	cr_expect(ge(u64, t.trace.hdr.ktime_ns, before), "%s", c->name);
	cr_expect(le(u64, t.trace.hdr.ktime_ns, after), "%s", c->name);
	cr_expect(eq(u32, t.trace.cap.len_orig, l3_len), "%s: from the network header", c->name);
	cr_expect(eq(u16, t.trace.cap.cap_len, cap), "%s", c->name);
	cr_expect(eq(u8, t.trace.cap.layer, MM_LAYER_NETWORK), "%s", c->name);
	cr_expect(eq(u8, t.trace.cap.pad, 0), "%s", c->name);
	cr_expect(eq(int, memcmp(t.trace.tuple.saddr, saddr, 16), 0), "%s saddr", c->name);
	cr_expect(eq(int, memcmp(t.trace.tuple.daddr, daddr, 16), 0), "%s daddr", c->name);
	cr_expect(eq(u16, t.trace.tuple.sport, c->sport), "%s", c->name);
	cr_expect(eq(u16, t.trace.tuple.dport, c->dport), "%s", c->name);
	cr_expect(eq(u8, t.trace.tuple.family, c->family), "%s", c->name);
	cr_expect(eq(u8, t.trace.tuple.proto, c->proto), "%s", c->name);
	cr_expect(eq(u16, t.trace.tuple.ethertype, c->ethertype), "%s", c->name);
	cr_expect(eq(u32, t.trace.ifindex, LO_IFINDEX), "%s", c->name);
	cr_expect(eq(u8, t.trace.state, c->state), "%s", c->name);
	cr_expect(eq(u8, t.trace.tcp_flags, is_tcp ? c->spec.tcp_flags : 0), "%s", c->name);
	cr_expect(eq(u8, t.trace.icmp_type, c->icmp_type), "%s", c->name);
	cr_expect(eq(u8, t.trace.icmp_code, c->spec.icmp_code), "%s", c->name);
	cr_expect(eq(u8, t.trace.parse_error, c->parse_error), "%s", c->name);
	cr_expect(eq(u8, t.trace.pad[0] | t.trace.pad[1] | t.trace.pad[2], 0), "%s", c->name);
	cr_expect(eq(u32, t.trace.folded, 0), "%s", c->name);
	/* The test run's socket: its cgroup and netns are the caller's; no process is known. */
	cr_expect(eq(u64, t.owner.cgroup_id, inode_of(ep_cg.path)), "%s", c->name);
	cr_expect(eq(u32, t.owner.netns, (__u32)inode_of("/proc/self/ns/net")), "%s", c->name);
	cr_expect(not(eq(u64, t.owner.cookie, 0)), "%s: a socket cookie", c->name);
	cr_expect(eq(u32, t.owner.pid, 0), "%s: no process known", c->name);
	cr_expect(eq(int, memcmp(t.owner.comm, zero_comm, 16), 0), "%s: no comm", c->name);
	assert_capture(mm_test_ring_nth(ring, MM_EVENT_TRACE, 0), sizeof(t), frame + ETH_LEN, cap);
	/* Each run has a socket of its own: the second trace has another cookie. */
	{
		struct mm_endpoint_trace_record t2;

		endpoint_of(mm_test_ring_nth(ring, MM_EVENT_TRACE, 1), &t2);
		cr_expect(not(eq(u64, t2.owner.cookie, t.owner.cookie)), "%s", c->name);
	}
	tr = endpoint_traffic(point);
	cr_expect(eq(u64, tr.packets, 2), "%s: counted at its point", c->name);
	cr_expect(eq(u64, tr.bytes, 2 * l3_len), "%s", c->name);
	tr = endpoint_traffic(ep_point[!dir]);
	cr_expect(eq(u64, tr.packets, 0), "%s: not at the other point", c->name);
	cr_expect(eq(u64, stat_of(MM_STAT_PARSE_ERRORS) - perr,
		     c->parse_error != MM_PARSE_NONE && c->parse_error != MM_PARSE_NOT_IP ? 2 : 0),
		  "%s: parse errors counted, not IP is none", c->name);
}

/* --- flow state and each aggregation decision ------------------------------- */

/* A connection at a server socket: IN from 10.1.0.1:40000 to it, OUT its replies. */
#define IN(f) ((struct mm_test_pkt_spec){V4, TCP(f)})
#define OUT(f)                                                                                     \
	((struct mm_test_pkt_spec){.family = 4, .src = "10.2.0.2", .dst = "10.1.0.1",             \
				   .proto = IPPROTO_TCP, .sport = 80, .dport = 40000,             \
				   .tcp_flags = (f), .payload_len = 100})
#define INGRESS 0
#define EGRESS	1

static void ep_send(int dir, struct mm_test_pkt_spec s)
{
	ep_run(dir, &s, NULL, NULL);
}

static struct mm_endpoint_trace_record nth_trace(size_t i)
{
	struct mm_endpoint_trace_record t;

	endpoint_of(mm_test_ring_nth(ring, MM_EVENT_TRACE, i), &t);
	return t;
}

static void expect_trace(size_t i, __u8 point, __u8 state, __u8 flags, __u32 folded)
{
	struct mm_endpoint_trace_record t = nth_trace(i);

	cr_expect(eq(u8, t.trace.hdr.subtype, point), "trace %zu point", i);
	cr_expect(eq(u8, t.trace.state, state), "trace %zu state", i);
	cr_expect(eq(u8, t.trace.tcp_flags, flags), "trace %zu flags", i);
	cr_expect(eq(u32, t.trace.folded, folded), "trace %zu folded", i);
	cr_expect(eq(u32, t.trace.hdr.flow_id, nth_trace(0).trace.hdr.flow_id),
		  "trace %zu: the flow's id, in both directions", i);
}

/* none: every packet, with its flow state: new, reply (the socket's answer), established. */
Test(endpoint_testrun, states_at_one_socket)
{
	ep_send(INGRESS, IN(MM_TCP_SYN));
	ep_send(EGRESS, OUT(MM_TCP_SYN | MM_TCP_ACK));
	ep_send(INGRESS, IN(MM_TCP_ACK));
	cr_assert(eq(sz, collect_exact(3), 3));
	expect_trace(0, MM_POINT_TO_ENDPOINT, MM_STATE_NEW, MM_TCP_SYN, 0);
	expect_trace(1, MM_POINT_FROM_ENDPOINT, MM_STATE_REPLY, MM_TCP_SYN | MM_TCP_ACK, 0);
	expect_trace(2, MM_POINT_TO_ENDPOINT, MM_STATE_ESTABLISHED, MM_TCP_ACK, 0);
	cr_expect(not(eq(u32, nth_trace(0).trace.hdr.flow_id, 0)));
}

/*
 * Loopback: the sender's egress and the receiver's ingress see the same packet
 * (same tuple, same netns). Each end keeps its own flow state (both new) and
 * both carry the connection's one flow id.
 */
Test(endpoint_testrun, two_ends_of_one_connection)
{
	ep_send(EGRESS, IN(MM_TCP_SYN));
	ep_send(INGRESS, IN(MM_TCP_SYN));
	cr_assert(eq(sz, collect_exact(2), 2));
	expect_trace(0, MM_POINT_FROM_ENDPOINT, MM_STATE_NEW, MM_TCP_SYN, 0);
	expect_trace(1, MM_POINT_TO_ENDPOINT, MM_STATE_NEW, MM_TCP_SYN, 0);
}

static void medium(struct mm_config *c)
{
	c->aggregation = MM_AGG_MEDIUM;
}

/* medium: new flows and first-seen SYN/FIN/RST are reported; the rest folded and counted. */
Test(endpoint_testrun, medium_reports_new_and_flags_folds_the_rest)
{
	set_cfg(medium);
	ep_send(INGRESS, IN(MM_TCP_SYN));            /* new: reported */
	for (int i = 0; i < 3; i++)
		ep_send(INGRESS, IN(MM_TCP_ACK));    /* nothing new: folded */
	ep_send(EGRESS, OUT(MM_TCP_SYN | MM_TCP_ACK)); /* SYN first seen in the reply direction */
	ep_send(INGRESS, IN(MM_TCP_FIN | MM_TCP_ACK)); /* FIN first seen: carries the 3 folded */
	ep_send(EGRESS, OUT(MM_TCP_ACK));            /* folded */
	cr_assert(eq(sz, collect_exact(3), 3));
	expect_trace(0, MM_POINT_TO_ENDPOINT, MM_STATE_NEW, MM_TCP_SYN, 0);
	expect_trace(1, MM_POINT_FROM_ENDPOINT, MM_STATE_REPLY, MM_TCP_SYN | MM_TCP_ACK, 0);
	expect_trace(2, MM_POINT_TO_ENDPOINT, MM_STATE_ESTABLISHED, MM_TCP_FIN | MM_TCP_ACK, 3);
	cr_expect(eq(u64, stat_of(MM_STAT_TRACE_FOLDED), 4));
	cr_expect(eq(u64, endpoint_traffic(MM_POINT_TO_ENDPOINT).packets, 5),
		  "folded packets are counted at their point");
	cr_expect(eq(u64, endpoint_traffic(MM_POINT_FROM_ENDPOINT).packets, 2));
}

/* 1 s: the folded ACK, one test run after the SYN, comes well within it even on a busy host. */
static void medium_1s(struct mm_config *c)
{
	c->aggregation = MM_AGG_MEDIUM;
	c->agg_interval_ns = 1000 * MS;
}

/* medium: a flow direction with nothing new is reported again once the interval passed. */
Test(endpoint_testrun, medium_reports_again_after_the_interval)
{
	set_cfg(medium_1s);
	ep_send(INGRESS, IN(MM_TCP_SYN));
	ep_send(INGRESS, IN(MM_TCP_ACK)); /* folded */
	sleep_ms(1100);
	ep_send(INGRESS, IN(MM_TCP_ACK)); /* interval passed: reported with the one folded */
	cr_assert(eq(sz, collect_exact(2), 2));
	expect_trace(0, MM_POINT_TO_ENDPOINT, MM_STATE_NEW, MM_TCP_SYN, 0);
	expect_trace(1, MM_POINT_TO_ENDPOINT, MM_STATE_ESTABLISHED, MM_TCP_ACK, 1);
	cr_expect(eq(u64, stat_of(MM_STAT_TRACE_FOLDED), 1));
}

static void low(struct mm_config *c)
{
	c->aggregation = MM_AGG_LOW;
}

/* low: to-endpoint is reported, from-endpoint suppressed (not counted as folded). */
Test(endpoint_testrun, low_reports_to_endpoint_only)
{
	set_cfg(low);
	ep_send(INGRESS, IN(MM_TCP_SYN));
	ep_send(EGRESS, OUT(MM_TCP_SYN | MM_TCP_ACK));
	ep_send(INGRESS, IN(MM_TCP_ACK));
	cr_assert(eq(sz, collect_exact(2), 2));
	expect_trace(0, MM_POINT_TO_ENDPOINT, MM_STATE_NEW, MM_TCP_SYN, 0);
	expect_trace(1, MM_POINT_TO_ENDPOINT, MM_STATE_ESTABLISHED, MM_TCP_ACK, 0);
	cr_expect(eq(u64, stat_of(MM_STAT_TRACE_FOLDED), 0));
	cr_expect(eq(u64, endpoint_traffic(MM_POINT_FROM_ENDPOINT).packets, 1));
}

static void no_traces(struct mm_config *c)
{
	c->event_mask &= ~MM_EVENT_BIT(MM_EVENT_TRACE);
}

/* --events without trace: no record at either point, the packets still counted. */
Test(endpoint_testrun, trace_switch_off)
{
	set_cfg(no_traces);
	ep_send(INGRESS, IN(MM_TCP_SYN));
	ep_send(EGRESS, OUT(MM_TCP_SYN | MM_TCP_ACK));
	cr_assert(eq(sz, collect_exact(0), 0));
	cr_expect(eq(u64, endpoint_traffic(MM_POINT_TO_ENDPOINT).packets, 1));
	cr_expect(eq(u64, endpoint_traffic(MM_POINT_FROM_ENDPOINT).packets, 1));
}

static void one_per_second(struct mm_config *c)
{
	c->rate_per_cpu = 1;
	c->burst_per_cpu = 1;
}

/* The host's token bucket: one record, the next refused and counted. */
Test(endpoint_testrun, rate_limited_and_counted)
{
	set_cfg(one_per_second);
	ep_send(INGRESS, IN(MM_TCP_SYN));
	ep_send(EGRESS, OUT(MM_TCP_SYN | MM_TCP_ACK));
	cr_assert(eq(sz, collect_exact(1), 1));
	expect_trace(0, MM_POINT_TO_ENDPOINT, MM_STATE_NEW, MM_TCP_SYN, 0);
	cr_expect(eq(u64, stat_of(MM_STAT_RATE_LIMITED), 1));
}
